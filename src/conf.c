/*
 * conf.c: the subset of configobj (the format of certbot's renewal confs)
 * that certbot writes and reads: "key = value" lines, [section] and
 * [[nested]] sections, comments, quoted and list values.  Reading and
 * writing were checked value for value against configobj itself, so
 * certbot keeps reading what extauth writes and the other way round.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "store.h"

#define CONF_DEPTH_MAX	8

/* Keys and section components we can write unquoted and read back the
 * same in configobj: printable, no space, none of its syntax characters;
 * is_section also refuses '.', which we use to join nested names. */
static bool
conf_word_ok(const char *s, size_t len, bool is_section)
{
	size_t	i;

	if (len == 0 || len > 255)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f || strchr("=[]'\"#,",
		    s[i]) != NULL || (is_section && s[i] == '.'))
			return false;
	}
	return true;
}

static bool
conf_section_ok(const char *section)
{
	size_t	n;
	int	depth = 0;

	if (section == NULL)
		return true;
	for (;; section++) {
		n = strcspn(section, ".");
		if (!conf_word_ok(section, n, true) ||
		    ++depth > CONF_DEPTH_MAX)
			return false;
		section += n;
		if (*section == '\0')
			return true;
	}
}

static bool
conf_same_section(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static ssize_t
conf_find(const struct conf *conf, const char *section,
    const char *key)
{
	size_t	i;

	for (i = 0; i < conf->n; i++)
		if (conf_same_section(conf->kv[i].section, section) &&
		    strcmp(conf->kv[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * configobj's spelling of a scalar (ConfigObj._quote with list_values on):
 * bare if that reads back the same, else "..." or '...', else triple
 * quotes.  New string the caller frees; NULL (logged) if configobj has no
 * way to write it.
 */
static char *
conf_quote(const char *v)
{
	static const char	 wspace_plus[] = " \r\n\v\t'\"";
	const char		*q;
	size_t			 len = strlen(v);
	bool			 sq, dq;
	char			*out;

	sq = strchr(v, '\'') != NULL;
	dq = strchr(v, '"') != NULL;
	if (len == 0)
		q = "\"";
	else if ((sq && dq) || strchr(v, '\n') != NULL) {
		if (strstr(v, "\"\"\"") != NULL && strstr(v, "'''") != NULL) {
			log_error("renewal configuration value cannot be "
			    "quoted (has both \"\"\" and ''')");
			return NULL;
		}
		q = strstr(v, "\"\"\"") == NULL ? "\"\"\"" : "'''";
	} else if (strchr(wspace_plus, v[0]) == NULL &&
	    strchr(wspace_plus, v[len - 1]) == NULL &&
	    strchr(v, ',') == NULL && strchr(v, '#') == NULL)
		q = "";
	else
		q = dq ? "'" : "\"";
	if (asprintf(&out, "%s%s%s", q, v, q) < 0) {
		log_error("out of memory");
		return NULL;
	}
	return out;
}

/*
 * Parses a one-line configobj value (after "= "), as _handle_value does:
 * a scalar, bare or quoted, or a comma-separated list; an inline comment
 * ends it.  On success *val is a new string the caller frees: the unquoted
 * scalar, or for a list its raw text (*is_list set).  NULL *val with a
 * static reason in *why on a syntax error.
 */
static void
conf_parse_value(const char *s, char **val, bool *is_list,
    const char **why)
{
	const char	*p = s, *start, *end, *r, *item = NULL, *raw_end = s;
	size_t		 item_len = 0;
	bool		 quoted = false;

	*val = NULL;
	*is_list = false;
	*why = NULL;
	if (*p == ',') {
		/* a lone comma is configobj's empty list */
		for (r = p + 1; *r == ' ' || *r == '\t'; r++)
			;
		if (*r != '\0' && *r != '#') {
			*why = "bad list";
			return;
		}
		*is_list = true;
		*val = strdup(",");
		goto done;
	}
	for (;;) {
		start = p;
		if (*p == '"' || *p == '\'') {
			/* the first closing quote after which the line
			 * goes on validly, as the regex backtracks to */
			for (end = strchr(p + 1, *p); end != NULL;
			    end = strchr(end + 1, *p)) {
				for (r = end + 1; *r == ' ' || *r == '\t'; r++)
					;
				if (*r == ',' || *r == '#' || *r == '\0')
					break;
			}
			if (end == NULL) {
				*why = "unterminated or badly quoted value";
				return;
			}
			item = start + 1;
			item_len = (size_t)(end - item);
			quoted = true;
			p = end + 1;
		} else {
			end = p + strcspn(p, ",#");
			while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			item = p;
			item_len = (size_t)(end - p);
			quoted = false;
			p = end;
		}
		raw_end = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ',')
			break;
		if (item_len == 0 && !quoted) {
			*why = "empty list item";
			return;
		}
		*is_list = true;
		p++;
		raw_end = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			break;
	}
	if (*p != '\0' && *p != '#') {
		*why = "text after a quoted value";
		return;
	}
	if (*is_list)
		*val = strndup(s, (size_t)(raw_end - s));
	else
		*val = strndup(item, item_len);
done:
	if (*val == NULL)
		*why = "out of memory";
}

static enum err
conf_put(struct conf *conf, const char *section,
    const char *key, const char *value, bool is_list, bool parsed)
{
	struct conf_kv	*kv;
	enum err		 rc = ERR_USAGE;
	const char		*why;
	ssize_t			 i;
	char			*v = NULL, *s = NULL, *k = NULL, *check = NULL;
	bool			 check_list;

	if (!conf_section_ok(section) || key == NULL ||
	    !conf_word_ok(key, strlen(key), false)) {
		log_error("renewal configuration: bad section or key name "
		    "(section %s, key %s)", section == NULL ? "(top)" :
		    section, key == NULL ? "(none)" : key);
		goto out;
	}
	if (value == NULL || strchr(value, '\r') != NULL) {
		log_error("renewal configuration: bad value for %s", key);
		goto out;
	}
	/* Only what conf_write can spell and conf_read gives
	 * back unchanged gets in.  A value the reader itself just parsed
	 * is that already, and a renew over thousands of confs need not
	 * check it twice. */
	if (parsed)
		;
	else if (is_list) {
		why = "has a line break";
		if (strchr(value, '\n') == NULL)
			conf_parse_value(value, &check, &check_list,
			    &why);
		if (check == NULL || !check_list ||
		    strcmp(check, value) != 0) {
			log_error("renewal configuration: %s is not a list "
			    "value: %s", key, why != NULL ? why : "not "
			    "a list as written");
			goto out;
		}
	} else if ((check = conf_quote(value)) == NULL)
		goto out;
	rc = ERR_INTERNAL;
	if ((v = strdup(value)) == NULL) {
		log_error("out of memory");
		goto out;
	}
	if ((i = conf_find(conf, section, key)) != -1) {
		kv = &conf->kv[i];
		free(kv->value);
		kv->value = v;
		kv->list = is_list;
		v = NULL;
		rc = ERR_OK;
		goto out;
	}
	if (conf->n >= CONF_MAX_KEYS) {
		log_error("renewal configuration: more than %d keys",
		    CONF_MAX_KEYS);
		rc = ERR_STORAGE;
		goto out;
	}
	if ((section != NULL && (s = strdup(section)) == NULL) ||
	    (k = strdup(key)) == NULL) {
		log_error("out of memory");
		goto out;
	}
	kv = &conf->kv[conf->n++];
	kv->section = s;
	kv->key = k;
	kv->value = v;
	kv->list = is_list;
	s = k = v = NULL;
	rc = ERR_OK;
out:
	free(check);
	free(v);
	free(s);
	free(k);
	return rc;
}

enum err
conf_set(struct conf *conf, const char *section,
    const char *key, const char *value)
{
	return conf_put(conf, section, key, value, false, false);
}

enum err
conf_set_list(struct conf *conf, const char *section,
    const char *key, const char *raw_list)
{
	return conf_put(conf, section, key, raw_list, true, false);
}

/* Borrowed pointer into conf (see store.h). */
const char *
conf_get(const struct conf *conf, const char *section,
    const char *key)
{
	ssize_t	i;

	if (key == NULL || (i = conf_find(conf, section, key)) == -1)
		return NULL;
	return conf->kv[i].value;
}

void
conf_clear(struct conf *conf)
{
	size_t	i;

	for (i = 0; i < conf->n && i < CONF_MAX_KEYS; i++) {
		free(conf->kv[i].section);
		free(conf->kv[i].key);
		free(conf->kv[i].value);
	}
	memset(conf, 0, sizeof *conf);
}

/* Where a triple-quoted value closes on line s: the first quote q after
 * which only blanks and a comment follow (configobj's regex), or NULL. */
static const char *
conf_triple_end(const char *s, const char *q)
{
	const char	*e, *r;

	for (e = strstr(s, q); e != NULL; e = strstr(e + 1, q)) {
		for (r = e + 3; *r == ' ' || *r == '\t'; r++)
			;
		if (*r == '\0' || *r == '#')
			return e;
	}
	return NULL;
}

/* True if s is "section" or lies below it (section "a" covers "a.b"). */
static bool
conf_under(const char *s, const char *section, size_t len)
{
	return s != NULL && strncmp(s, section, len) == 0 &&
	    (s[len] == '\0' || s[len] == '.');
}

/* The reader's state: which section we are in and which we have seen
 * (configobj refuses a section opened twice). */
struct conf_parse {
	const char	*path;
	size_t		 line;
	char		*stack[CONF_DEPTH_MAX];
	size_t		 depth;
	char		*seen[CONF_MAX_KEYS];
	size_t		 nseen;
};

/* Joined name of the current section; new string the caller frees, NULL
 * at top level or (logged, *rc set) on allocation failure. */
static char *
conf_cur(struct conf_parse *ps, enum err *rc)
{
	size_t	 i, len = 0;
	char	*s;

	if (ps->depth == 0)
		return NULL;
	for (i = 0; i < ps->depth; i++)
		len += strlen(ps->stack[i]) + 1;
	if ((s = malloc(len)) == NULL) {
		log_error("out of memory");
		*rc = ERR_INTERNAL;
		return NULL;
	}
	s[0] = '\0';
	for (i = 0; i < ps->depth; i++) {
		if (i > 0)
			strcat(s, ".");
		strcat(s, ps->stack[i]);
	}
	return s;
}

/* A "[name]" / "[[name]]" line (leading blanks gone). */
static enum err
conf_section_line(struct conf_parse *ps,
    const struct conf *conf, const char *p)
{
	enum err	 rc = ERR_STORAGE;
	const char	*name, *end, *why = NULL;
	size_t		 nopen = 0, nclose = 0, nlen, i;
	char		*nm = NULL, *cur = NULL;

	for (; *p == '[' || *p == ' ' || *p == '\t'; p++)
		if (*p == '[')
			nopen++;
	if (*p == '"' || *p == '\'') {
		name = p + 1;
		if ((end = strchr(name, *p)) == NULL) {
			why = "bad section line";
			goto out;
		}
		p = end + 1;
	} else {
		name = p;
		end = p + strcspn(p, "]");
		p = end;
		while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	nlen = (size_t)(end - name);
	for (; *p == ']' || *p == ' ' || *p == '\t'; p++)
		if (*p == ']')
			nclose++;
	if (nopen != nclose || (*p != '\0' && *p != '#')) {
		why = "bad section line";
		goto out;
	}
	if (!conf_word_ok(name, nlen, true)) {
		log_error("%s:%zu: unsupported section name", ps->path,
		    ps->line);
		goto out;
	}
	if (nopen > ps->depth + 1 || nopen > CONF_DEPTH_MAX) {
		log_error("%s:%zu: section nested too deep", ps->path,
		    ps->line);
		goto out;
	}
	if ((nm = strndup(name, nlen)) == NULL) {
		log_error("out of memory");
		rc = ERR_INTERNAL;
		goto out;
	}
	while (ps->depth >= nopen) {
		ps->depth--;
		free(ps->stack[ps->depth]);
		ps->stack[ps->depth] = NULL;
	}
	cur = conf_cur(ps, &rc);
	if (ps->depth > 0 && cur == NULL)
		goto out;
	/* configobj refuses a section named like a key of its parent. */
	if (conf_find(conf, cur, nm) != -1) {
		log_error("%s:%zu: section %s has the name of a key",
		    ps->path, ps->line, nm);
		rc = ERR_STORAGE;
		goto out;
	}
	ps->stack[ps->depth++] = nm;
	nm = NULL;
	free(cur);
	if ((cur = conf_cur(ps, &rc)) == NULL)
		goto out;
	for (i = 0; i < ps->nseen; i++)
		if (strcmp(ps->seen[i], cur) == 0) {
			log_error("%s:%zu: duplicate section %s", ps->path,
			    ps->line, cur);
			rc = ERR_STORAGE;
			goto out;
		}
	if (ps->nseen >= CONF_MAX_KEYS) {
		log_error("%s:%zu: too many sections", ps->path, ps->line);
		rc = ERR_STORAGE;
		goto out;
	}
	ps->seen[ps->nseen++] = cur;
	cur = NULL;
	rc = ERR_OK;
out:
	if (why != NULL)
		log_error("%s:%zu: %s", ps->path, ps->line, why);
	free(nm);
	free(cur);
	return rc;
}

/*
 * A "key = value" line (leading blanks gone); a triple-quoted value may
 * run on over the next lines, consumed from *next.  line is writable and
 * NUL-terminated, as are the lines *next walks over.
 */
/* Whether path is "cur.key" ("key" at the top level); built for every
 * key of every conf renew reads, so compared in place. */
static bool
conf_is_path(const char *path, const char *cur, const char *key)
{
	size_t	n;

	if (cur != NULL) {
		n = strlen(cur);
		if (strncmp(path, cur, n) != 0 || path[n] != '.')
			return false;
		path += n + 1;
	}
	return strcmp(path, key) == 0;
}

static enum err
conf_key_line(struct conf_parse *ps, struct conf *conf,
    char *line, char **next, char *buf_end)
{
	enum err	 rc = ERR_STORAGE;
	const char	*why = NULL, *q, *e;
	char		*key, *kend, *v, *value = NULL, *cur = NULL, *nl;
	char		*joined = NULL;
	bool		 is_list = false;
	size_t		 i, klen;

	if (*line == '"' || *line == '\'') {
		key = line + 1;
		for (kend = strchr(key, *line); kend != NULL;
		    kend = strchr(kend + 1, *line)) {
			for (v = kend + 1; *v == ' ' || *v == '\t'; v++)
				;
			if (*v == '=')
				break;
		}
		if (kend == NULL) {
			why = "bad key";
			goto out;
		}
	} else {
		key = line;
		if ((v = strchr(line, '=')) == NULL) {
			why = "neither section nor key = value";
			goto out;
		}
		for (kend = v; kend > key && (kend[-1] == ' ' ||
		    kend[-1] == '\t'); kend--)
			;
	}
	klen = (size_t)(kend - key);
	for (v = strchr(kend, '=') + 1; *v == ' ' || *v == '\t'; v++)
		;
	key[klen] = '\0';
	if (!conf_word_ok(key, klen, false)) {
		log_error("%s:%zu: unsupported key name", ps->path, ps->line);
		goto out;
	}
	if (strncmp(v, "\"\"\"", 3) == 0 || strncmp(v, "'''", 3) == 0) {
		q = v[0] == '"' ? "\"\"\"" : "'''";
		if ((e = conf_triple_end(v + 3, q)) != NULL)
			value = strndup(v + 3, (size_t)(e - v - 3));
		else if (strstr(v + 3, q) != NULL) {
			why = "bad triple-quoted value";
			goto out;
		} else {
			/* runs on: join lines with '\n' until the close */
			if ((joined = strdup(v + 3)) == NULL) {
				log_error("out of memory");
				rc = ERR_INTERNAL;
				goto out;
			}
			for (;;) {
				if (*next >= buf_end) {
					why = "unterminated triple-quoted "
					    "value";
					goto out;
				}
				line = *next;
				ps->line++;
				*next = line + strlen(line) + 1;
				if ((nl = strstr(line, q)) != NULL) {
					if ((e = conf_triple_end(line,
					    q)) == NULL) {
						why = "bad triple-quoted value";
						goto out;
					}
					line[e - line] = '\0';
				}
				v = joined;
				if (asprintf(&joined, "%s\n%s", v, line) < 0) {
					joined = v;
					log_error("out of memory");
					rc = ERR_INTERNAL;
					goto out;
				}
				free(v);
				if (nl != NULL)
					break;
			}
			value = joined;
			joined = NULL;
		}
		if (value == NULL) {
			log_error("out of memory");
			rc = ERR_INTERNAL;
			goto out;
		}
	} else {
		conf_parse_value(v, &value, &is_list, &why);
		if (value == NULL)
			goto out;
	}
	cur = conf_cur(ps, &rc);
	if (ps->depth > 0 && cur == NULL)
		goto out;
	rc = ERR_STORAGE;
	if (conf_find(conf, cur, key) != -1) {
		log_error("%s:%zu: duplicate key %s", ps->path, ps->line, key);
		goto out;
	}
	/* ... and a key named like a section already seen there. */
	for (i = 0; i < ps->nseen; i++)
		if (conf_is_path(ps->seen[i], cur, key)) {
			log_error("%s:%zu: key %s has the name of a section",
			    ps->path, ps->line, key);
			goto out;
		}
	if ((rc = conf_put(conf, cur, key, value, is_list, true)) != ERR_OK) {
		log_error("%s:%zu: cannot keep key %s", ps->path, ps->line,
		    key);
		rc = ERR_STORAGE;
	}
out:
	if (why != NULL)
		log_error("%s:%zu: %s", ps->path, ps->line, why);
	free(value);
	free(cur);
	free(joined);
	return rc;
}

enum err
conf_read(const char *path, struct conf *conf)
{
	struct conf_parse	 ps;
	enum err		 rc;
	size_t			 len, i, n;
	char			*buf = NULL, *line, *next, *end, *p;

	memset(conf, 0, sizeof *conf);
	memset(&ps, 0, sizeof ps);
	ps.path = path;
	if ((rc = store_read_owned(path, &buf, &len, false)) != ERR_OK)
		goto out;
	rc = ERR_STORAGE;
	if (memchr(buf, '\0', len) != NULL) {
		log_error("%s: contains a NUL byte", path);
		goto out;
	}
	/* Split into NUL-terminated lines in place (configobj splitlines:
	 * "\r\n" ends a line like "\n"). */
	end = buf + len;
	for (p = buf; p < end; p++)
		if (*p == '\n')
			*p = '\0';
	line = buf;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	for (; line < end; line = next) {
		next = line + strlen(line) + 1;
		ps.line++;
		if ((n = strlen(line)) > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		if (*line == '[')
			rc = conf_section_line(&ps, conf, line);
		else
			rc = conf_key_line(&ps, conf, line, &next, end);
		if (rc != ERR_OK)
			goto out;
	}
	rc = ERR_OK;
out:
	for (i = 0; i < ps.depth; i++)
		free(ps.stack[i]);
	for (i = 0; i < ps.nseen; i++)
		free(ps.seen[i]);
	free(buf);
	if (rc != ERR_OK)
		conf_clear(conf);
	return rc;
}

/* Output buffer for conf_write, capped at STORE_FILE_MAX. */
struct conf_sbuf {
	char	*p;
	size_t	 len, cap;
};

static enum err
conf_sbuf_add(struct conf_sbuf *b, const char *s, size_t n)
{
	size_t	 ncap;
	char	*np;

	if (b->len + n > STORE_FILE_MAX) {
		log_error("renewal configuration larger than %d bytes",
		    STORE_FILE_MAX);
		return ERR_STORAGE;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap == 0 ? 1024 : b->cap;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			log_error("out of memory");
			return ERR_INTERNAL;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return ERR_OK;
}

static enum err
conf_sbuf_str(struct conf_sbuf *b, const char *s)
{
	return conf_sbuf_add(b, s, strlen(s));
}

/*
 * Writes section (NULL: top level) at depth: its header, its keys, then
 * its subsections, each in order of first use.  configobj can only read
 * it this way: after a [[sub]] header every key belongs to sub.
 */
static enum err
conf_emit(struct conf_sbuf *b, const struct conf *conf,
    const char *section, size_t depth)
{
	const struct conf_kv	*kv;
	enum err			 rc = ERR_OK;
	const char			*s, *base;
	size_t				 i, j, plen, clen;
	char				*q = NULL, *child = NULL;

	if (section != NULL) {
		base = strrchr(section, '.');
		base = base == NULL ? section : base + 1;
		if (depth == 1 && (rc = conf_sbuf_str(b, "\n")) != ERR_OK)
			goto out;
		for (i = 0; i < depth && rc == ERR_OK; i++)
			rc = conf_sbuf_str(b, "[");
		if (rc != ERR_OK || (rc = conf_sbuf_str(b, base)) != ERR_OK)
			goto out;
		for (i = 0; i < depth && rc == ERR_OK; i++)
			rc = conf_sbuf_str(b, "]");
		if (rc != ERR_OK || (rc = conf_sbuf_str(b, "\n")) != ERR_OK)
			goto out;
	}
	for (i = 0; i < conf->n; i++) {
		kv = &conf->kv[i];
		if (!conf_same_section(kv->section, section))
			continue;
		free(q);
		if (kv->list)
			q = strdup(kv->value);
		else
			q = conf_quote(kv->value);
		if (q == NULL) {
			log_error("cannot write renewal key %s", kv->key);
			rc = ERR_INTERNAL;
			goto out;
		}
		if ((rc = conf_sbuf_str(b, kv->key)) != ERR_OK ||
		    (rc = conf_sbuf_str(b, " = ")) != ERR_OK ||
		    (rc = conf_sbuf_str(b, q)) != ERR_OK ||
		    (rc = conf_sbuf_str(b, "\n")) != ERR_OK)
			goto out;
	}
	plen = section == NULL ? 0 : strlen(section) + 1;
	for (i = 0; i < conf->n; i++) {
		s = conf->kv[i].section;
		if (s == NULL || (section != NULL &&
		    !(strncmp(s, section, plen - 1) == 0 && s[plen - 1] == '.')))
			continue;
		clen = plen + strcspn(s + plen, ".");
		for (j = 0; j < i; j++)
			if (conf_under(conf->kv[j].section, s, clen))
				break;
		if (j < i)
			continue;
		free(child);
		if ((child = strndup(s, clen)) == NULL) {
			log_error("out of memory");
			rc = ERR_INTERNAL;
			goto out;
		}
		if ((rc = conf_emit(b, conf, child, depth + 1)) != ERR_OK)
			goto out;
	}
out:
	free(q);
	free(child);
	return rc;
}

/* Writes conf to path at once, or through batch when not NULL. */
static enum err
conf_store(struct store_batch *batch, const char *path, const struct conf *conf,
    struct store_lineage *hold)
{
	struct conf_sbuf	b = { NULL, 0, 0 };
	enum err		rc;

	if (conf->n > CONF_MAX_KEYS) {
		log_error("%s: more than %d keys", path, CONF_MAX_KEYS);
		rc = ERR_STORAGE;
		store_lineage_close(hold);
		goto out;
	}
	if ((rc = conf_emit(&b, conf, NULL, 0)) != ERR_OK) {
		store_lineage_close(hold);
		goto out;
	}
	rc = batch != NULL ? store_batch_write(batch, path, b.p == NULL ? "" :
	    b.p, b.len, 0644, hold) : store_write_atomic(path, b.p == NULL ?
	    "" : b.p, b.len, 0644);
out:
	free(b.p);
	return rc;
}

enum err
conf_write(const char *path, const struct conf *conf)
{
	return conf_store(NULL, path, conf, NULL);
}

enum err
conf_write_batch(struct store_batch *batch, const char *path,
    const struct conf *conf, struct store_lineage *hold)
{
	return conf_store(batch, path, conf, hold);
}

