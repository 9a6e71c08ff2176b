/*
 * store_account.c: accounts/<server>/<id>/ (store.h "accounts"): finding,
 * saving and removing an account's key, registration and meta files, and
 * repairing an account a killed run left half made.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "store.h"
#include "store_priv.h"

#define STORE_ID_MAX		255

/* Account ids become directory names: certbot's are md5 hex. */
static bool
store_id_ok(const char *id)
{
	size_t	i;

	if (id == NULL || id[0] == '\0')
		return false;
	for (i = 0; id[i] != '\0'; i++) {
		if (i >= STORE_ID_MAX)
			return false;
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') ||
		    id[i] == '_' || id[i] == '-'))
			return false;
	}
	return true;
}


/* ---- accounts ---- */

/* New string (see store.h), caller frees. */
char *
store_account_server_dir(const struct store *st, const char *dir_url)
{
	const char	*p, *rest, *seg;
	char		 shown[120];
	size_t		 n;

	if (dir_url == NULL)
		goto out;
	/* RFC 3986 scheme, then "://": certbot joins urlparse's netloc and
	 * path, and we refuse everything (query, userinfo, ...) that would
	 * make those differ from the text after "://". */
	p = dir_url;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		goto out;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (strncmp(p, "://", 3) != 0)
		goto out;
	rest = p + 3;
	if (rest[0] == '\0' || rest[0] == '/')
		goto out;
	for (p = rest; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == ':' || *p == '/' || *p == '-'))
			goto out;
	/* It becomes a path: no segment may climb out of accounts/. */
	for (seg = rest;; seg++) {
		n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			goto out;
		seg += n;
		if (*seg == '\0')
			break;
	}
	return store_pathf("%s/accounts/%s", st->config_dir, rest);
out:
	log_error("refusing ACME directory URL \"%s\": it must be "
	    "scheme://host[:port]/path using only A-Z a-z 0-9 . _ : / - "
	    "and no \".\" or \"..\" segments",
	    dir_url == NULL ? "" : store_shown(dir_url, shown, sizeof shown));
	return NULL;
}

/*
 * How far an account directory got.  session.c writes the key before
 * newAccount and regr.json after it, so a run killed in between leaves
 * STORE_ACCT_HALF: a key the CA may or may not know, which the caller
 * completes by registering that same key again (RFC 8555 §7.3.1: the CA
 * answers 200 with the existing account, or creates it if the request
 * never arrived).  A run killed before the key was renamed into place
 * leaves STORE_ACCT_NONE: nothing was sent to the CA under that key, so
 * the directory is not an account; the reader skips it and, under the
 * config-dir lock, removes it.  Repairing rather than rejecting is what keeps the
 * account the CA already created, and a plain rerun working.
 */
enum store_acct_state {
	STORE_ACCT_NONE,
	STORE_ACCT_HALF,
	STORE_ACCT_FULL,
};

/* The state of server_dir/id (dfd is server_dir).  The id directory may
 * be a link (certbot links accounts between staging and production server
 * dirs); the files in it may not. */
static enum store_acct_state
store_account_state(int dfd, const char *id)
{
	struct stat	sb;
	char		rel[STORE_ID_MAX + 32];

	snprintf(rel, sizeof rel, "%s/private_key.json", id);
	if (fstatat(dfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(sb.st_mode))
		return STORE_ACCT_NONE;
	snprintf(rel, sizeof rel, "%s/regr.json", id);
	if (fstatat(dfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(sb.st_mode))
		return STORE_ACCT_HALF;
	return STORE_ACCT_FULL;
}

/* A directory without a key, left by a run killed while creating it:
 * our temp files go, then the directory if that emptied it.  Only under
 * the config-dir lock, so no running extauth is writing there. */
static void
store_account_drop_empty(const struct store *st, int dfd, const char *server,
    const char *id)
{
	int	fd, dirlock = -1;

	/* Accounts are made under the config-dir lock: holding it, no run
	 * is between mkdir and writing the key.  Busy (another run making
	 * one, or this one): left for a later run. */
	if (st->lock_fd == -1 || store_dir_lock(st, false, &dirlock) != ERR_OK)
		return;
	if (store_account_state(dfd, id) == STORE_ACCT_NONE &&
	    (fd = openat(dfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		store_sweep(fd, 0);
		close(fd);
		if (unlinkat(dfd, id, AT_REMOVEDIR) == 0)
			log_warn("removed %s/%s: an account directory without "
			    "a key, left by an interrupted run", server, id);
	}
	store_dir_unlock(&dirlock);
}

/*
 * The account to use in server_dir: the first (by strcmp) complete one,
 * else the first half-made one; *id is a new string the caller frees,
 * NULL if there is none.
 */
static enum err
store_first_account(const struct store *st, const char *server_dir,
    char **id)
{
	struct dirent		*de;
	struct stat		 sb;
	enum store_acct_state	 state, best_state = STORE_ACCT_NONE;
	enum err		 rc = ERR_STORAGE;
	DIR			*d;

	*id = NULL;
	if ((d = opendir(server_dir)) == NULL) {
		if (errno == ENOENT) {
			rc = ERR_OK;
			goto out;
		}
		log_error("cannot open %s: %s", server_dir, strerror(errno));
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!store_id_ok(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, 0) == -1 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		if ((state = store_account_state(dirfd(d), de->d_name)) ==
		    STORE_ACCT_NONE) {
			store_account_drop_empty(st, dirfd(d), server_dir,
			    de->d_name);
			continue;
		}
		if (state < best_state || (state == best_state &&
		    strcmp(de->d_name, *id) >= 0))
			continue;
		free(*id);
		if ((*id = strdup(de->d_name)) == NULL) {
			log_error("out of memory");
			rc = ERR_INTERNAL;
			goto out;
		}
		best_state = state;
	}
	if (errno != 0) {
		log_error("cannot read %s: %s", server_dir, strerror(errno));
		goto out;
	}
	rc = ERR_OK;
out:
	if (d != NULL)
		closedir(d);
	if (rc != ERR_OK) {
		free(*id);
		*id = NULL;
	}
	return rc;
}

/* The account URL in a regr.json; new string the caller frees, NULL
 * (logged) if the text is not JSON with a string "uri". */
static char *
store_regr_uri(const char *path, const char *regr, size_t len)
{
	json_error_t	 jerr;
	json_t		*root;
	const char	*uri;
	char		*copy = NULL;

	if ((root = json_loadb(regr, len, 0, &jerr)) == NULL) {
		log_error("%s: line %d: %s", path, jerr.line, jerr.text);
		goto out;
	}
	if ((uri = json_string_value(json_object_get(root, "uri"))) == NULL) {
		log_error("%s: no \"uri\" string", path);
		goto out;
	}
	if ((copy = strdup(uri)) == NULL)
		log_error("out of memory");
out:
	json_decref(root);
	return copy;
}

/* Members of *acct are new strings; store_account_clear() frees them. */
enum err
store_account_load(const struct store *st, const char *dir_url,
    const char *id, struct store_account *acct)
{
	enum err	 rc = ERR_STORAGE;
	size_t		 regr_len;
	char		*server = NULL, *chosen = NULL, *dir = NULL;
	char		*path = NULL, *key = NULL, *regr = NULL, *uri = NULL;
	char		*rollover = NULL;
	int		 sfd = -1;

	memset(acct, 0, sizeof *acct);
	if ((server = store_account_server_dir(st, dir_url)) == NULL) {
		rc = ERR_USAGE;
		goto out;
	}
	if (id != NULL) {
		if (!store_id_ok(id)) {
			log_error("invalid account id (want [A-Za-z0-9_-]+)");
			rc = ERR_USAGE;
			goto out;
		}
		if ((sfd = open(server, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			if (errno == ENOENT) {
				rc = ERR_OK;
				goto out;
			}
			log_error("cannot open %s: %s", server,
			    strerror(errno));
			goto out;
		}
		if (store_account_state(sfd, id) == STORE_ACCT_NONE) {
			rc = ERR_OK;
			goto out;
		}
		if ((chosen = strdup(id)) == NULL) {
			log_error("out of memory");
			rc = ERR_INTERNAL;
			goto out;
		}
	} else if ((rc = store_first_account(st, server, &chosen)) != ERR_OK)
		goto out;
	if (chosen == NULL) {
		rc = ERR_OK;
		goto out;
	}
	if ((dir = store_pathf("%s/%s", server, chosen)) == NULL ||
	    (path = store_pathf("%s/private_key.json", dir)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	if ((rc = store_read_owned(path, &key, NULL, false)) != ERR_OK)
		goto out;
	free(path);
	if ((path = store_pathf("%s/regr.json", dir)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	/* Missing: a half-made account (uri NULL), see store_acct_state. */
	if ((rc = store_read_owned(path, &regr, &regr_len, true)) != ERR_OK)
		goto out;
	free(path);
	if ((path = store_pathf("%s/rollover_key.json", dir)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	if ((rc = store_read_owned(path, &rollover, NULL, true)) != ERR_OK)
		goto out;
	if (regr != NULL &&
	    (uri = store_regr_uri(path, regr, regr_len)) == NULL) {
		rc = ERR_STORAGE;
		goto out;
	}
	acct->id = chosen;
	acct->dir = dir;
	acct->key_jwk = key;
	acct->regr = regr;
	acct->uri = uri;
	acct->rollover_jwk = rollover;
	chosen = dir = key = regr = uri = rollover = NULL;
	rc = ERR_OK;
out:
	if (sfd != -1)
		close(sfd);
	free(server);
	free(chosen);
	free(dir);
	free(path);
	free(key);
	free(regr);
	free(uri);
	if (rollover != NULL) {
		explicit_bzero(rollover, strlen(rollover));
		free(rollover);
	}
	return rc;
}

/* meta.json as certbot's Account.Meta writes it; new string the caller
 * frees (free()), NULL (logged) on failure. */
static char *
store_account_meta(void)
{
	struct tm	 tm;
	time_t		 now = time(NULL);
	json_t		*obj = NULL;
	char		 stamp[32], host[256];
	char		*text = NULL;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		log_error("cannot format the current time");
		goto out;
	}
	if (gethostname(host, sizeof host) == -1)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	if ((obj = json_pack("{s:s, s:s}", "creation_dt", stamp,
	    "creation_host", host)) == NULL ||
	    (text = json_dumps(obj, JSON_PRESERVE_ORDER)) == NULL)
		log_error("cannot build meta.json");
out:
	json_decref(obj);
	return text;
}

/* accounts/<server>/<id>, created 0700 if missing; new string the caller
 * frees, NULL (logged) on failure with *rc set. */
static char *
store_account_dir(const struct store *st, const char *dir_url,
    const char *id, enum err *rc)
{
	char	*server = NULL, *dir = NULL;

	*rc = ERR_USAGE;
	if (!store_id_ok(id)) {
		log_error("invalid account id (want [A-Za-z0-9_-]+)");
		goto out;
	}
	if ((server = store_account_server_dir(st, dir_url)) == NULL)
		goto out;
	*rc = ERR_INTERNAL;
	if ((dir = store_pathf("%s/%s", server, id)) == NULL)
		goto out;
	if ((*rc = store_mkdirs_owned(dir, 0700)) != ERR_OK) {
		free(dir);
		dir = NULL;
	}
out:
	free(server);
	return dir;
}

enum err
store_account_save_key(const struct store *st, const char *dir_url,
    const char *id, const char *key_jwk)
{
	enum err	 rc;
	char		*dir = NULL, *path = NULL;

	if ((dir = store_account_dir(st, dir_url, id, &rc)) == NULL)
		goto out;
	rc = ERR_INTERNAL;
	if ((path = store_pathf("%s/private_key.json", dir)) == NULL)
		goto out;
	rc = store_write_atomic(path, key_jwk, strlen(key_jwk), 0400);
out:
	free(dir);
	free(path);
	return rc;
}

enum err
store_account_save(const struct store *st, const char *dir_url,
    const char *id, const char *key_jwk, const char *regr_json)
{
	struct stat	 sb;
	enum err	 rc = ERR_INTERNAL;
	char		*dir = NULL, *path = NULL, *meta = NULL, *uri = NULL;

	if (regr_json == NULL) {
		log_error("account %s: no registration to save", id);
		goto out;
	}
	/* store_account_load() needs the uri: refuse to write what it
	 * could not read back. */
	if ((uri = store_regr_uri("regr.json", regr_json,
	    strlen(regr_json))) == NULL)
		goto out;
	if (key_jwk != NULL && (rc = store_account_save_key(st, dir_url, id,
	    key_jwk)) != ERR_OK)
		goto out;
	if ((dir = store_account_dir(st, dir_url, id, &rc)) == NULL)
		goto out;
	rc = ERR_INTERNAL;
	if ((path = store_pathf("%s/regr.json", dir)) == NULL)
		goto out;
	if ((rc = store_write_atomic(path, regr_json, strlen(regr_json),
	    0644)) != ERR_OK)
		goto out;
	free(path);
	rc = ERR_INTERNAL;
	if ((path = store_pathf("%s/meta.json", dir)) == NULL)
		goto out;
	/* creation_dt records the first save, not the latest update. */
	if (lstat(path, &sb) == 0) {
		rc = ERR_OK;
		goto out;
	}
	if ((meta = store_account_meta()) == NULL)
		goto out;
	rc = store_write_atomic(path, meta, strlen(meta), 0644);
out:
	free(dir);
	free(path);
	free(meta);
	free(uri);
	return rc;
}

void
store_account_clear(struct store_account *acct)
{
	free(acct->id);
	free(acct->dir);
	free(acct->key_jwk);
	free(acct->uri);
	free(acct->regr);
	if (acct->rollover_jwk != NULL) {
		explicit_bzero(acct->rollover_jwk, strlen(acct->rollover_jwk));
		free(acct->rollover_jwk);
	}
	memset(acct, 0, sizeof *acct);
}

enum err
store_account_drop(const struct store *st, const char *dir_url, const char *id)
{
	enum err	 rc = ERR_USAGE;
	char		*server = NULL, *dir = NULL;

	if (!store_id_ok(id) ||
	    (server = store_account_server_dir(st, dir_url)) == NULL)
		goto out;
	rc = ERR_INTERNAL;
	if ((dir = store_pathf("%s/%s", server, id)) == NULL)
		goto out;
	rc = store_remove_files(dir);
out:
	free(server);
	free(dir);
	return rc;
}

enum err
store_account_delete(const struct store *st, const struct store_account *acct)
{
	if (acct->dir == NULL || acct->id == NULL || !store_id_ok(acct->id))
		return ERR_INTERNAL;
	(void)st;
	return store_remove_files(acct->dir);
}

/* accounts/<server>/<id>/rollover_key.json and its directory; new strings
 * the caller frees, both NULL (logged) on failure with *rc set. */
static bool
store_rollover_path(const struct store *st, const char *dir_url,
    const char *id, char **dir, char **path, enum err *rc)
{
	*dir = *path = NULL;
	if ((*dir = store_account_dir(st, dir_url, id, rc)) == NULL)
		return false;
	if ((*path = store_pathf("%s/rollover_key.json", *dir)) == NULL) {
		*rc = ERR_INTERNAL;
		free(*dir);
		*dir = NULL;
		return false;
	}
	return true;
}

enum err
store_account_save_rollover(const struct store *st, const char *dir_url,
    const char *id, const char *key_jwk)
{
	enum err	 rc;
	char		*dir, *path;

	if (!store_rollover_path(st, dir_url, id, &dir, &path, &rc))
		return rc;
	rc = store_write_atomic(path, key_jwk, strlen(key_jwk), 0400);
	free(dir);
	free(path);
	return rc;
}

enum err
store_account_end_rollover(const struct store *st, const char *dir_url,
    const char *id, bool adopt)
{
	enum err	 rc;
	char		*dir, *path, *key = NULL;

	if (!store_rollover_path(st, dir_url, id, &dir, &path, &rc))
		return rc;
	rc = ERR_INTERNAL;
	if (adopt && (key = store_pathf("%s/private_key.json", dir)) == NULL)
		goto out;
	rc = ERR_STORAGE;
	/* rename(2) is the switch: private_key.json is the old key or the
	 * new one, never neither. */
	if (adopt ? rename(path, key) == -1 : (unlink(path) == -1 &&
	    errno != ENOENT)) {
		log_error("cannot %s %s: %s", adopt ? "rename" : "remove",
		    path, strerror(errno));
		goto out;
	}
	rc = store_fsync_dir(dir);
out:
	free(dir);
	free(path);
	free(key);
	return rc;
}
