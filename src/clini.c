/*
 * clini.c: reads a certbot cli.ini (-c FILE) into command-line words.  It
 * owns the line syntax (a re-implementation of the regular expression in
 * configargparse's DefaultConfigFileParser, which certbot uses) and the
 * translation of keys and values into "--key" ["value"] words; what the
 * words mean is cli.c's business.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "clini.h"
#include "log.h"

/* One distinct key: where it was last set and its raw value. */
struct clini_entry {
	const char	*key;
	const char	*value;		/* unquoted, comment removed */
	size_t		 vlen;
	int		 line;
};

/* The words being collected, before they are packed into one block. */
struct clini_words {
	char	**v;		/* each a new string */
	int	 *line;		/* the file line of each */
	size_t	  n, cap;
	int	  cur;		/* the line of the entry being pushed */
};

static bool
clini_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static const char *
clini_skip_space(const char *s)
{
	while (clini_space(*s))
		s++;
	return s;
}

/* Whether configargparse's tail "\s*(?:\s[;#]...)?$" matches at p: only
 * whitespace to the end, or whitespace then a ';' or '#' comment. */
static bool
clini_tail(const char *p)
{
	const char	*r = clini_skip_space(p);

	return *r == '\0' || (r > p && (*r == ';' || *r == '#'));
}

/*
 * Splits one trimmed, non-comment line into key and value.  The value is
 * the shortest text after the separator that leaves only a comment or
 * nothing behind, without one pair of matching quotes.  A bare key (or a
 * key followed by whitespace and nothing) gets "true", "key =" gets "".
 * Returns false when the line does not parse.
 */
static bool
clini_split(char *line, const char **key, const char **value, size_t *vlen)
{
	char	*a, *b, *c, *p, eq;
	size_t	 n;

	n = strcspn(line, ":=;# \t\r\v\f");
	if (n == 0)
		return false;
	a = line + n;
	b = (char *)clini_skip_space(a);
	if (*b == ':' || *b == '=')
		eq = *b;
	else if (b > a) {
		eq = ' ';
		b--;
	} else if (*a == '\0') {
		*key = line;
		*value = "true";
		*vlen = 4;
		return true;
	} else
		return false;
	c = (char *)clini_skip_space(b + 1);
	*a = '\0';	/* after the separator was found: a may be b */
	*key = line;
	*value = NULL;
	if (*c == '"' || *c == '\'') {
		for (p = c + 1; *p != '\0'; p++)
			if (*p == *c && clini_tail(p + 1)) {
				*value = c + 1;
				*vlen = (size_t)(p - c - 1);
				break;
			}
	}
	if (*value == NULL) {
		for (p = c; !clini_tail(p); p++)
			;
		*value = c;
		*vlen = (size_t)(p - c);
	}
	if (*vlen == 0 && eq == ' ') {
		*value = "true";
		*vlen = 4;
	}
	return true;
}

static bool
clini_push(struct clini_words *w, const char *s, size_t len)
{
	char	**nv;
	int	 *nl;
	size_t	  ncap;

	if (w->n == w->cap) {
		ncap = w->cap ? w->cap * 2 : 16;
		if ((nv = realloc(w->v, ncap * sizeof *nv)) == NULL)
			return false;
		w->v = nv;
		if ((nl = realloc(w->line, ncap * sizeof *nl)) == NULL)
			return false;
		w->line = nl;
		w->cap = ncap;
	}
	w->line[w->n] = w->cur;
	if ((w->v[w->n] = strndup(s, len)) == NULL)
		return false;
	w->n++;
	return true;
}

static void
clini_words_clear(struct clini_words *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	free(w->line);
	memset(w, 0, sizeof *w);
}

/*
 * A value "[...]" is a list: JSON if it parses as a JSON array, else the
 * text between the brackets split at commas, each element trimmed (what
 * configargparse does).  Pushes "--key" "element" for each element.
 */
static enum err
clini_push_list(struct clini_words *w, const char *path,
    const struct clini_entry *en, const char *opt)
{
	json_t		*arr;
	json_error_t	 jerr;
	const char	*s, *end, *comma;
	char		*text;
	size_t		 i, n = 0;
	bool		 ok = true;

	if ((arr = json_loadb(en->value, en->vlen, JSON_DECODE_ANY, &jerr)) !=
	    NULL && json_is_array(arr)) {
		for (i = 0; ok && i < json_array_size(arr); i++) {
			json_t	*el = json_array_get(arr, i);

			if (++n > CLINI_LIST_MAX)
				break;
			text = json_is_string(el) ? strdup(json_string_value(el))
			    : json_dumps(el, JSON_ENCODE_ANY);
			ok = text != NULL && clini_push(w, opt, strlen(opt)) &&
			    clini_push(w, text, strlen(text));
			free(text);
		}
	} else {
		s = en->value + 1;
		end = en->value + en->vlen - 1;
		while (ok && s <= end) {
			if ((comma = memchr(s, ',', (size_t)(end - s))) == NULL)
				comma = end;
			if (++n > CLINI_LIST_MAX)
				break;
			while (s < comma && isspace((unsigned char)*s))
				s++;
			for (i = (size_t)(comma - s); i > 0 &&
			    isspace((unsigned char)s[i - 1]); i--)
				;
			ok = clini_push(w, opt, strlen(opt)) &&
			    clini_push(w, s, i);
			s = comma + 1;
		}
	}
	json_decref(arr);
	if (!ok) {
		log_error("%s: out of memory", path);
		return ERR_INTERNAL;
	}
	if (n > CLINI_LIST_MAX) {
		log_error("%s:%d: %s: more than %d list elements", path,
		    en->line, en->key, CLINI_LIST_MAX);
		return ERR_USAGE;
	}
	return ERR_OK;
}

/* The words of one entry: configargparse's convert_item_to_command_line_arg. */
static enum err
clini_entry_words(struct clini_words *w, const char *path,
    const struct clini_entry *en, clini_lookup_fn lookup)
{
	enum clini_key	 kind;
	char		 opt[300];
	bool		 list;

	kind = lookup != NULL ? lookup(en->key) : (strcmp(en->value, "true")
	    == 0 && en->vlen == 4 ? CLINI_KEY_FLAG : CLINI_KEY_VALUE);
	if (kind == CLINI_KEY_UNKNOWN) {
		log_error("%s:%d: unknown option \"%s\"", path, en->line,
		    en->key);
		return ERR_USAGE;
	}
	w->cur = en->line;
	if (strlen(en->key) > sizeof opt - 3) {
		log_error("%s:%d: option name too long", path, en->line);
		return ERR_USAGE;
	}
	snprintf(opt, sizeof opt, "--%s", en->key);
	list = en->vlen >= 2 && en->value[0] == '[' &&
	    en->value[en->vlen - 1] == ']';
	if (kind == CLINI_KEY_FLAG) {
		if (!list && ((en->vlen == 4 && strncasecmp(en->value, "true",
		    4) == 0) || (en->vlen == 3 && strncasecmp(en->value, "yes",
		    3) == 0) || (en->vlen == 1 && en->value[0] == '1')))
			return clini_push(w, opt, strlen(opt)) ? ERR_OK :
			    ERR_INTERNAL;
		if (!list && ((en->vlen == 5 && strncasecmp(en->value, "false",
		    5) == 0) || (en->vlen == 2 && strncasecmp(en->value, "no",
		    2) == 0) || (en->vlen == 1 && en->value[0] == '0')))
			return ERR_OK;
		log_error("%s:%d: %s takes no value: write \"%s\" alone, or "
		    "\"= true\" or \"= false\"", path, en->line, en->key,
		    en->key);
		return ERR_USAGE;
	}
	if (list)
		return clini_push_list(w, path, en, opt);
	if (!clini_push(w, opt, strlen(opt)) ||
	    !clini_push(w, en->value, en->vlen))
		return ERR_INTERNAL;
	return ERR_OK;
}

/* Reads the whole file (cap CLINI_FILE_MAX); new buffer, caller frees. */
static char *
clini_read(const char *path)
{
	char	*buf = NULL;
	size_t	 len = 0;
	ssize_t	 r;
	int	 fd;
	bool	 ok = false;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("cannot read config file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if ((buf = malloc(CLINI_FILE_MAX + 2)) == NULL) {
		log_error("%s: out of memory", path);
		goto out;
	}
	while (len <= CLINI_FILE_MAX && (r = read(fd, buf + len,
	    CLINI_FILE_MAX + 1 - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_error("cannot read config file %s: %s", path,
			    strerror(errno));
			goto out;
		}
		len += (size_t)r;
	}
	if (len > CLINI_FILE_MAX) {
		log_error("config file %s is larger than %d bytes", path,
		    CLINI_FILE_MAX);
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		log_error("config file %s is not text (it holds a NUL byte)",
		    path);
		goto out;
	}
	buf[len] = '\0';
	ok = true;
out:
	close(fd);
	if (!ok) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* Packs the words into one block: the pointers, then the strings.  New
 * memory, caller frees (clini_free). */
static char **
clini_pack(const struct clini_words *w)
{
	char	**argv, *p;
	size_t	  i, size = (w->n + 1) * sizeof(char *);

	for (i = 0; i < w->n; i++)
		size += strlen(w->v[i]) + 1;
	if ((argv = malloc(size)) == NULL)
		return NULL;
	p = (char *)(argv + w->n + 1);
	for (i = 0; i < w->n; i++) {
		argv[i] = p;
		p = stpcpy(p, w->v[i]) + 1;
	}
	argv[w->n] = NULL;
	return argv;
}

enum err
clini_load(const char *path, clini_lookup_fn lookup, int *argc, char ***argv,
    int **lines)
{
	struct clini_entry	*ents = NULL;
	struct clini_words	 w = { 0 };
	char			*buf = NULL, *line, *next, *end;
	const char		*key, *value;
	size_t			 n = 0, i, vlen;
	int			 lineno = 0;
	enum err		 e = ERR_USAGE;

	*argc = 0;
	*argv = NULL;
	if (lines != NULL)
		*lines = NULL;
	if ((buf = clini_read(path)) == NULL)
		goto out;
	e = ERR_INTERNAL;
	if ((ents = calloc(CLINI_ENTRIES_MAX, sizeof *ents)) == NULL) {
		log_error("%s: out of memory", path);
		goto out;
	}
	e = ERR_USAGE;
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = (char *)clini_skip_space(line);
		for (end = line + strlen(line); end > line &&
		    clini_space(end[-1]); end--)
			;
		*end = '\0';
		if (*line == '\0' || *line == '#' || *line == ';' ||
		    *line == '[' || strncmp(line, "---", 3) == 0)
			continue;
		if (!clini_split(line, &key, &value, &vlen)) {
			log_error("%s:%d: cannot parse the line: write key = "
			    "value, or a flag's name alone", path, lineno);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (strcmp(ents[i].key, key) == 0)
				break;
		if (i == n && n == CLINI_ENTRIES_MAX) {
			log_error("%s:%d: more than %d options", path, lineno,
			    CLINI_ENTRIES_MAX);
			goto out;
		}
		if (i == n)
			n++;
		ents[i].key = key;
		ents[i].value = value;
		ents[i].vlen = vlen;
		ents[i].line = lineno;
	}
	for (i = 0; i < n; i++)
		if ((e = clini_entry_words(&w, path, &ents[i], lookup)) !=
		    ERR_OK)
			goto out;
	e = ERR_INTERNAL;
	if ((*argv = clini_pack(&w)) == NULL) {
		log_error("%s: out of memory", path);
		goto out;
	}
	if (lines != NULL) {
		if ((*lines = calloc(w.n + 1, sizeof **lines)) == NULL) {
			log_error("%s: out of memory", path);
			clini_free(*argv);
			*argv = NULL;
			goto out;
		}
		/* w.line is NULL when the file holds no words (fuzz_clini) */
		if (w.n > 0)
			memcpy(*lines, w.line, w.n * sizeof **lines);
	}
	*argc = (int)w.n;
	e = ERR_OK;
out:
	clini_words_clear(&w);
	free(ents);
	free(buf);
	return e;
}

void
clini_free(char **argv)
{
	free(argv);
}
