/*
 * pending.c: the pending order files of the two-phase mode (pending.h):
 * WORK_DIR/pending/ID.json, their JSON format (version 1), their random
 * ids, and the fcntl lock a resume holds on one while it runs.  The file
 * holds the certificate key, so it is written 0600 in a 0700 directory,
 * and read only when it is a regular file of ours that nobody else can
 * read: a link planted there is refused, not followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ari.h"
#include "log.h"
#include "pending.h"
#include "store.h"

#define PENDING_VERSION		1
#define PENDING_FILE_MAX	(256 * 1024)	/* cap on one pending file */
#define PENDING_LIST_MAX	10000		/* cap on files listed */

bool
pending_id_ok(const char *id)
{
	size_t	n;

	if (id == NULL || (n = strlen(id)) == 0 || n > PENDING_ID_MAX)
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == n;
}

/* WORK_DIR/pending, or with id, WORK_DIR/pending/ID.json; new string. */
static char *
pending_path(const char *work_dir, const char *id)
{
	char	*s;

	if (asprintf(&s, "%s/pending%s%s%s", work_dir, id ? "/" : "",
	    id ? id : "", id ? ".json" : "") == -1)
		return NULL;
	return s;
}

enum err
pending_new(struct pending *p, const char *work_dir)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 rnd[16];
	size_t			 i;

	memset(p, 0, sizeof *p);
	p->lock_fd = -1;
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		log_error("getrandom: %s", strerror(errno));
		return ERR_INTERNAL;
	}
	/* 128 random bits as 32 hex digits: never a leading '-', which a
	 * command line would take for an option (base64url would). */
	for (i = 0; i < sizeof rnd; i++) {
		p->id[2 * i] = hex[rnd[i] >> 4];
		p->id[2 * i + 1] = hex[rnd[i] & 0x0f];
	}
	p->id[2 * sizeof rnd] = '\0';
	if ((p->path = pending_path(work_dir, p->id)) == NULL) {
		log_error("out of memory");
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

static void
chal_clear(struct pending_chal *c)
{
	free(c->domain);
	free(c->token);
	free(c->url);
	free(c->authz_url);
	free(c->key_auth);
	free(c->validation);
	free(c->txt_domain);
	free(c->uri);
	memset(c, 0, sizeof *c);
}

void
pending_clear(struct pending *p)
{
	size_t	i;

	if (p->lock_fd >= 0)
		close(p->lock_fd);	/* drops the lock */
	for (i = 0; i < p->n_domains; i++)
		free(p->domains[i]);
	free(p->domains);
	for (i = 0; i < p->n_chs; i++)
		chal_clear(&p->chs[i]);
	free(p->chs);
	if (p->key_pem != NULL)
		explicit_bzero(p->key_pem, strlen(p->key_pem));
	free(p->key_pem);
	free(p->path);
	free(p->cert_name);
	free(p->order_url);
	free(p->expires);
	free(p->server);
	free(p->account);
	free(p->csr);
	free(p->config_dir);
	conf_clear(&p->lineage);
	memset(p, 0, sizeof *p);
	p->lock_fd = -1;
}

/* JSON null for NULL. */
static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* The file's JSON; new reference or NULL when out of memory. */
static json_t *
to_json(const struct pending *p)
{
	json_t		*o, *doms, *lin, *chs, *c;
	const char	*sec;
	size_t		 i;

	o = json_object();
	doms = json_array();
	lin = json_array();
	chs = json_array();
	if (o == NULL || doms == NULL || lin == NULL || chs == NULL)
		goto fail;
	for (i = 0; i < p->n_domains; i++)
		json_array_append_new(doms, json_string(p->domains[i]));
	/* [section or null, key, value, list]: conf.h's rows as they are. */
	for (i = 0; i < p->lineage.n; i++) {
		sec = p->lineage.kv[i].section;
		json_array_append_new(lin, json_pack("[o,s,s,b]",
		    str_or_null(sec), p->lineage.kv[i].key,
		    p->lineage.kv[i].value, p->lineage.kv[i].list));
	}
	for (i = 0; i < p->n_chs; i++) {
		/* token and key_auth are null for dns-persist-01. */
		c = json_pack("{s:s,s:s,s:b,s:o,s:s,s:s,s:o,s:s,s:o,s:o}",
		    "type", chal_type_name(p->chs[i].type),
		    "domain", p->chs[i].domain,
		    "wildcard", p->chs[i].wildcard,
		    "token", str_or_null(p->chs[i].token),
		    "url", p->chs[i].url,
		    "authz_url", p->chs[i].authz_url,
		    "key_auth", str_or_null(p->chs[i].key_auth),
		    "validation", p->chs[i].validation,
		    "txt_domain", str_or_null(p->chs[i].txt_domain),
		    "uri", str_or_null(p->chs[i].uri));
		if (c == NULL)
			goto fail;
		json_array_append_new(chs, c);
	}
	if (json_object_set_new(o, "version", json_integer(PENDING_VERSION))
	    || json_object_set_new(o, "id", json_string(p->id))
	    || json_object_set_new(o, "cert_name", json_string(p->cert_name))
	    || json_object_set_new(o, "domains", doms)
	    || json_object_set_new(o, "order_url", json_string(p->order_url))
	    || json_object_set_new(o, "expires", str_or_null(p->expires))
	    || json_object_set_new(o, "server", json_string(p->server))
	    || json_object_set_new(o, "account", json_string(p->account))
	    || json_object_set_new(o, "key", json_string(p->key_pem))
	    || json_object_set_new(o, "csr", json_string(p->csr))
	    || json_object_set_new(o, "deactivate_authz",
	    json_boolean(p->deactivate_authz))
	    || json_object_set_new(o, "foreign", json_boolean(p->foreign))
	    || json_object_set_new(o, "renew", json_boolean(p->renew))
	    || json_object_set_new(o, "config_dir", str_or_null(p->config_dir))
	    || json_object_set_new(o, "lineage", lin)
	    || json_object_set_new(o, "challenges", chs)) {
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	json_decref(o);
	json_decref(doms);
	json_decref(lin);
	json_decref(chs);
	return NULL;
}

enum err
pending_save(const struct pending *p)
{
	json_t		*o = NULL;
	char		*dir = NULL, *text = NULL;
	enum err	 e = ERR_INTERNAL;

	if ((o = to_json(p)) == NULL ||
	    (text = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		log_error("out of memory");
		goto out;
	}
	if ((dir = strdup(p->path)) == NULL)
		goto out;
	*strrchr(dir, '/') = '\0';
	if ((e = store_mkdirs_owned(dir, 0700)) != ERR_OK)
		goto out;
	e = store_write_atomic(p->path, text, strlen(text), 0600);
out:
	if (text != NULL)
		explicit_bzero(text, strlen(text));
	free(text);
	free(dir);
	json_decref(o);
	return e;
}

/* A copy of the string member key of o; false when absent and not
 * optional, or not a string, or out of memory. */
static bool
get_str(json_t *o, const char *key, bool optional, char **out)
{
	json_t	*v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return optional;
	if (!json_is_string(v))
		return false;
	return (*out = strdup(json_string_value(v))) != NULL;
}

static bool
chal_from_json(json_t *c, struct pending_chal *pc)
{
	const char	*t = json_string_value(json_object_get(c, "type"));
	int		 type;
	bool		 persist;

	if (t == NULL || (type = chal_type_parse(t)) < 0 ||
	    strcmp(chal_type_name((enum chal_type)type), t) != 0)
		return false;
	pc->type = (enum chal_type)type;
	persist = pc->type == CHAL_DNSPERSIST01;	/* no token, no key_auth */
	pc->wildcard = json_is_true(json_object_get(c, "wildcard"));
	return get_str(c, "domain", false, &pc->domain) &&
	    get_str(c, "token", persist, &pc->token) &&
	    get_str(c, "url", false, &pc->url) &&
	    get_str(c, "authz_url", false, &pc->authz_url) &&
	    get_str(c, "key_auth", persist, &pc->key_auth) &&
	    get_str(c, "validation", false, &pc->validation) &&
	    get_str(c, "txt_domain", true, &pc->txt_domain) &&
	    get_str(c, "uri", true, &pc->uri);
}

/* The lineage rows back into p->lineage through conf.h's setters, which
 * check every section and key name. */
static bool
lineage_from_json(json_t *lin, struct pending *p)
{
	json_t		*row;
	const char	*sec, *key, *val;
	size_t		 i;
	bool		 list;

	if (!json_is_array(lin) || json_array_size(lin) > CONF_MAX_KEYS)
		return false;
	json_array_foreach(lin, i, row) {
		/* The section is null at the top level. */
		sec = json_string_value(json_array_get(row, 0));
		key = json_string_value(json_array_get(row, 1));
		val = json_string_value(json_array_get(row, 2));
		list = json_is_true(json_array_get(row, 3));
		if (json_array_size(row) != 4 || key == NULL || val == NULL ||
		    (sec == NULL && !json_is_null(json_array_get(row, 0))))
			return false;
		if ((list ? conf_set_list : conf_set)(&p->lineage, sec, key,
		    val) != ERR_OK)
			return false;
	}
	return true;
}

/* p from the file's text; false (nothing logged) when it does not parse
 * as a pending order of this version. */
static bool
from_text(const char *text, size_t len, struct pending *p)
{
	json_t		*o, *v;
	json_error_t	 jerr;
	time_t		 t;
	size_t		 i;
	bool		 ok = false;

	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)
		return false;
	if (json_integer_value(json_object_get(o, "version")) !=
	    PENDING_VERSION || strcmp(json_string_value(json_object_get(o,
	    "id")) ? json_string_value(json_object_get(o, "id")) : "",
	    p->id) != 0)
		goto out;
	if (!get_str(o, "cert_name", false, &p->cert_name) ||
	    !get_str(o, "order_url", false, &p->order_url) ||
	    !get_str(o, "expires", true, &p->expires) ||
	    !get_str(o, "server", false, &p->server) ||
	    !get_str(o, "account", false, &p->account) ||
	    !get_str(o, "key", false, &p->key_pem) ||
	    !get_str(o, "csr", false, &p->csr) ||
	    /* Absent from older files of this version: optional. */
	    !get_str(o, "config_dir", true, &p->config_dir) ||
	    !lineage_from_json(json_object_get(o, "lineage"), p))
		goto out;
	p->deactivate_authz = json_is_true(json_object_get(o,
	    "deactivate_authz"));
	p->foreign = json_is_true(json_object_get(o, "foreign"));
	p->renew = json_is_true(json_object_get(o, "renew"));
	if (p->config_dir != NULL && p->config_dir[0] != '/')
		goto out;
	if (p->expires != NULL && ari_parse_time(p->expires, &t))
		p->expires_at = (long)t;
	v = json_object_get(o, "domains");
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > PENDING_CHALS_MAX ||
	    (p->domains = calloc(json_array_size(v), sizeof *p->domains)) ==
	    NULL)
		goto out;
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i)) ||
		    (p->domains[i] = strdup(json_string_value(
		    json_array_get(v, i)))) == NULL)
			goto out;
		p->n_domains++;
	}
	v = json_object_get(o, "challenges");
	if (!json_is_array(v) || json_array_size(v) > PENDING_CHALS_MAX ||
	    (p->chs = calloc(json_array_size(v) + 1, sizeof *p->chs)) == NULL)
		goto out;
	for (i = 0; i < json_array_size(v); i++) {
		p->n_chs++;
		if (!chal_from_json(json_array_get(v, i), &p->chs[i]))
			goto out;
	}
	ok = true;
out:
	json_decref(o);
	return ok;
}

/*
 * Reads the open file fd (path) into p.  It must be a regular file of our
 * uid that group and others cannot read: a file anybody else could have
 * written is not trusted with our key or our order.
 */
static enum err
read_fd(int fd, struct pending *p)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	enum err	 e = ERR_STORAGE;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    st.st_size > PENDING_FILE_MAX) {
		log_error("%s is not a pending order file of this user (a "
		    "regular file, mode 0600, at most %d bytes)", p->path,
		    PENDING_FILE_MAX);
		log_error("remove it, then run extauth certonly --defer again");
		return ERR_STORAGE;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return ERR_INTERNAL;
	while (len < (size_t)st.st_size) {
		if ((r = read(fd, buf + len, (size_t)st.st_size - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (len != (size_t)st.st_size)
		log_error("%s: cannot read it: %s", p->path, len ? "short read"
		    : strerror(errno));
	else if (!from_text(buf, len, p)) {
		log_error("%s is not a pending order extauth can read", p->path);
		log_error("cancel it with extauth pending --cancel %s, then run "
		    "extauth certonly --defer again", p->id);
	} else
		e = ERR_OK;
	explicit_bzero(buf, len);
	free(buf);
	return e;
}

/* The two lines for an id that names no pending order. */
static void
say_unknown(const char *id)
{
	log_error("there is no pending order %s: it was finished, cancelled "
	    "or never made here", id);
	log_error("extauth pending lists the pending orders; start a new one "
	    "with extauth certonly --defer");
}

static enum err
open_at(struct pending *p, const char *work_dir, const char *id, bool lock)
{
	struct flock	 fl;
	struct stat	 a, b;
	int		 fd;

	memset(p, 0, sizeof *p);
	p->lock_fd = -1;
	if (!pending_id_ok(id)) {
		say_unknown("(bad id)");
		return ERR_PENDING;
	}
	snprintf(p->id, sizeof p->id, "%s", id);
	if ((p->path = pending_path(work_dir, id)) == NULL)
		return ERR_INTERNAL;
	/* O_NOFOLLOW: a link planted in our place is refused; O_NONBLOCK:
	 * a FIFO there does not hang us (read_fd refuses it). */
	if ((fd = open(p->path, (lock ? O_RDWR : O_RDONLY) | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			say_unknown(id);
			return ERR_PENDING;
		}
		log_error("%s: %s", p->path, errno == ELOOP ? "a symbolic "
		    "link, not followed" : strerror(errno));
		log_error("a pending order is a regular file of this user; "
		    "remove what is there, then run extauth certonly --defer "
		    "again");
		return ERR_STORAGE;
	}
	if (lock) {
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == -1) {
			memset(&fl, 0, sizeof fl);
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_GETLK, &fl) == -1 ||
			    fl.l_type == F_UNLCK)
				fl.l_pid = 0;
			close(fd);
			log_error("pending order %s is being resumed or "
			    "cancelled by another extauth (pid %ld)", id,
			    (long)fl.l_pid);
			log_error("wait for that run to end; its report says "
			    "how the order ended");
			return ERR_PENDING;
		}
		/* The winner of a race removes the file when it is done; a
		 * loser that opened it before then must not take over an
		 * unlinked file. */
		if (fstat(fd, &a) == -1 || lstat(p->path, &b) == -1 ||
		    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
			close(fd);
			say_unknown(id);
			return ERR_PENDING;
		}
		p->lock_fd = fd;
	}
	if (read_fd(fd, p) != ERR_OK) {
		if (!lock)
			close(fd);
		return ERR_STORAGE;
	}
	if (!lock)
		close(fd);
	return ERR_OK;
}

enum err
pending_open(struct pending *p, const char *work_dir, const char *id)
{
	return open_at(p, work_dir, id, true);
}

enum err
pending_read(struct pending *p, const char *work_dir, const char *id)
{
	return open_at(p, work_dir, id, false);
}

enum err
pending_remove(const struct pending *p)
{
	char	*dir;
	int	 fd;

	if (unlink(p->path) == -1 && errno != ENOENT) {
		log_error("cannot remove %s: %s", p->path, strerror(errno));
		return ERR_STORAGE;
	}
	/* The removal must survive a power cut too, or a finished order
	 * would come back as pending. */
	if ((dir = strdup(p->path)) != NULL) {
		*strrchr(dir, '/') = '\0';
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
			(void)fsync(fd);
			close(fd);
		}
		free(dir);
	}
	return ERR_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum err
pending_list(const char *work_dir, char ***ids, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	char		*dir, **v = NULL, **nv, *dot;
	size_t		 len, cap = 0;
	enum err	 e = ERR_INTERNAL;

	*ids = NULL;
	*n = 0;
	if ((dir = pending_path(work_dir, NULL)) == NULL)
		return ERR_INTERNAL;
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		if (errno == ENOENT)
			return ERR_OK;
		log_error("%s/pending: %s", work_dir, strerror(errno));
		return ERR_STORAGE;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		/* ID.json; temp files (.ID.json.extauth.XXXXXX) are not. */
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (*n == PENDING_LIST_MAX) {
			log_warn("%s: more than %d pending orders; listing the "
			    "first", dir, PENDING_LIST_MAX);
			break;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto out;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			goto out;
		dot = v[*n] + len - 5;
		*dot = '\0';
		if (!pending_id_ok(v[*n])) {
			free(v[*n]);
			continue;
		}
		(*n)++;
	}
	if (*n > 0)
		qsort(v, *n, sizeof *v, cmp_str);
	*ids = v;
	v = NULL;
	e = ERR_OK;
out:
	if (v != NULL) {
		while (*n > 0)
			free(v[--*n]);
		free(v);
	}
	closedir(d);
	free(dir);
	return e;
}
