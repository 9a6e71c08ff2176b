/*
 * store_lineage.c: certificate lineages (store.h "lineages"): the
 * numbered files of archive/<name>/, the live/<name>/ links that point
 * into them and their crash repair, csr/<name>.pem, the paths of
 * renewal/<name>.conf and the listing of renewal/.  Owns the rule of what
 * a lineage name may be.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_priv.h"

/* NAME_MAX less ".conf", so renewal/<name>.conf is a legal file name. */
#define STORE_NAME_MAX		250
#define STORE_VERSION_MAX	999999999

/* The four members of a lineage, in the order the live links flip:
 * cert.pem last, so that store_lineage_version() (which reads cert.pem)
 * never reports a version whose other links are not in place yet. */
enum store_kind {
	STORE_PRIVKEY,
	STORE_CHAIN,
	STORE_FULLCHAIN,
	STORE_CERT,
	STORE__KINDS
};

static const char *const store_kinds[] = {
	[STORE_PRIVKEY] = "privkey",
	[STORE_CHAIN] = "chain",
	[STORE_FULLCHAIN] = "fullchain",
	[STORE_CERT] = "cert",
};
_Static_assert(sizeof(store_kinds) / sizeof(store_kinds[0]) == STORE__KINDS,
    "store_kinds must name every kind");

/* certbot's text (storage.py _write_live_readme_to), so users who know
 * certbot read the same warning. */
static const char store_readme_fmt[] =
    "This directory contains your keys and certificates.\n\n"
    "`%sprivkey.pem`  : the private key for your certificate.\n"
    "`%sfullchain.pem`: the certificate file used in most server software.\n"
    "`%schain.pem`    : used for OCSP stapling in Nginx >=1.3.7.\n"
    "`%scert.pem`     : will break many server configurations, and "
    "should not be used\n"
    "                 without reading further documentation (see link below).\n\n"
    "WARNING: DO NOT MOVE OR RENAME THESE FILES!\n"
    "         Certbot expects these files to remain in this location in order\n"
    "         to function properly!\n\n"
    "We recommend not moving these files. For more information, see the Certbot\n"
    "User Guide at https://certbot.eff.org/docs/using.html#where-are-my-"
    "certificates.\n";

/* See store.h. */
const char *
store_lineage_name_problem(const char *name)
{
	size_t	i;

	if (name == NULL || name[0] == '\0')
		return "empty";
	if (name[0] == '.')
		return "starts with '.'";
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= STORE_NAME_MAX)
			return "longer than 250 characters";
		if (name[i] == '/')
			return "contains '/'";
		if (name[i] < 0x20 || name[i] >= 0x7f)
			return "not printable ASCII";
	}
	return NULL;
}

static void	 store_lineage_repair(const struct store *, int,
		    const char *);

/* The handle store.h promises: only store_lineage_open() fills one. */
struct store_lineage {
	const struct store	*st;
	char			*name;	/* passed store_lineage_name_problem */
	int			 lock_fd;	/* renewal/<name>.lock, or -1 */
};

/* New handle, see store.h; store_lineage_close() frees it. */
struct store_lineage *
store_lineage_open(const struct store *st, const char *name,
    const char **why)
{
	struct store_lineage	*ln;

	if ((*why = store_lineage_name_problem(name)) != NULL)
		return NULL;
	if ((ln = calloc(1, sizeof *ln)) == NULL ||
	    (ln->name = strdup(name)) == NULL) {
		free(ln);
		*why = "out of memory";
		return NULL;
	}
	ln->st = st;
	ln->lock_fd = -1;
	return ln;
}

void
store_lineage_close(struct store_lineage *ln)
{
	char	*path;

	if (ln == NULL)
		return;
	if (ln->lock_fd != -1) {
		/* A name that never became a lineage (a first certonly
		 * that failed) leaves no lock file behind.  Removed while
		 * still held: see store_lineage_lock. */
		if (!store_lineage_exists(ln) && (path = store_pathf(
		    "%s/renewal/%s.lock", ln->st->config_dir,
		    ln->name)) != NULL) {
			(void)unlink(path);
			free(path);
		}
		close(ln->lock_fd);
	}
	free(ln->name);
	free(ln);
}

const char *
store_lineage_name(const struct store_lineage *ln)
{
	return ln->name;
}

/*
 * See store.h.  An open file description lock (store.c says why): the
 * handle's own open of the file, so two handles of one lineage exclude
 * each other even in one process, and renew's workers can each hold
 * several lineages at once.  The lock file stays when let go (deleting it
 * would race with a run about to lock it); store_lineage_delete removes
 * it under the lock, and store_lock_path re-opens a file deleted under it.
 */
enum err
store_lineage_lock(struct store_lineage *ln)
{
	enum err	 rc;
	pid_t		 holder;
	char		*path;
	int		 cfd;

	if (ln->lock_fd != -1)
		return ERR_OK;
	if ((path = store_pathf("%s/renewal/%s.lock", ln->st->config_dir,
	    ln->name)) == NULL)
		return ERR_INTERNAL;
	rc = store_lock_path(path, F_WRLCK, &ln->lock_fd, &holder);
	free(path);
	if (rc != ERR_OK)
		return rc;
	/* Ours now: nobody else is flipping its links.  A run that started
	 * alone repaired every lineage then; one that started beside others
	 * may meet the links of a run that died meanwhile. */
	if (!ln->st->alone && (cfd = open(ln->st->config_dir, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) != -1) {
		store_lineage_repair(ln->st, cfd, ln->name);
		close(cfd);
	}
	return ERR_OK;
}

/* Members are new strings; store_lineage_paths_clear() frees them. */
void
store_lineage_paths(const struct store_lineage *ln, struct store_paths *paths)
{
	const char	*dir = ln->st->config_dir, *name = ln->name;

	memset(paths, 0, sizeof *paths);
	paths->cert = store_pathf("%s/live/%s/cert.pem", dir, name);
	paths->chain = store_pathf("%s/live/%s/chain.pem", dir, name);
	paths->fullchain = store_pathf("%s/live/%s/fullchain.pem", dir, name);
	paths->privkey = store_pathf("%s/live/%s/privkey.pem", dir, name);
}

void
store_lineage_paths_clear(struct store_paths *paths)
{
	free(paths->cert);
	free(paths->chain);
	free(paths->fullchain);
	free(paths->privkey);
	memset(paths, 0, sizeof *paths);
}

/* N if fname is "<kind>N.pem" (N decimal, no sign), else -1. */
static int
store_parse_version(const char *fname, const char *kind)
{
	size_t	klen = strlen(kind);
	long	n = 0;

	if (strncmp(fname, kind, klen) != 0)
		return -1;
	fname += klen;
	if (*fname < '0' || *fname > '9')
		return -1;
	for (; *fname >= '0' && *fname <= '9'; fname++) {
		n = n * 10 + (*fname - '0');
		if (n > STORE_VERSION_MAX)
			return -1;
	}
	return strcmp(fname, ".pem") == 0 ? (int)n : -1;
}

/* One more than any version of any kind in archive_dir (certbot's
 * next_free_version), so a half-written earlier attempt is never reused. */
static enum err
store_next_version(const char *archive_dir, int *next)
{
	struct dirent	*de;
	enum err	 rc = ERR_STORAGE;
	size_t		 k;
	DIR		*d;
	int		 v, max = 0;

	if ((d = opendir(archive_dir)) == NULL) {
		log_error("cannot open %s: %s", archive_dir, strerror(errno));
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL)
		for (k = 0; k < STORE__KINDS; k++)
			if ((v = store_parse_version(de->d_name,
			    store_kinds[k])) > max)
				max = v;
	if (errno != 0) {
		log_error("cannot read %s: %s", archive_dir, strerror(errno));
		goto out;
	}
	if (max >= STORE_VERSION_MAX) {
		log_error("%s: no version number left", archive_dir);
		goto out;
	}
	*next = max + 1;
	rc = ERR_OK;
out:
	if (d != NULL)
		closedir(d);
	return rc;
}

int
store_lineage_version(const struct store_lineage *ln)
{
	const char	*name = ln->name;
	struct stat	 sb;
	const char	*base;
	ssize_t		 len;
	char		*link = NULL, *real = NULL;
	char		 target[STORE_PATH_MAX];
	int		 v = -1, n;

	if ((link = store_pathf("%s/live/%s/cert.pem", ln->st->config_dir,
	    name)) == NULL)
		goto out;
	if ((len = readlink(link, target, sizeof target - 1)) == -1) {
		if (errno == ENOENT) {
			v = 0;
			goto out;
		}
		log_error("broken lineage %s: %s: %s", name, link,
		    errno == EINVAL ? "not a symbolic link" : strerror(errno));
		goto out;
	}
	target[len] = '\0';
	base = strrchr(target, '/');
	base = base == NULL ? target : base + 1;
	if ((n = store_parse_version(base, "cert")) < 1) {
		log_error("broken lineage %s: %s points at %s, not certN.pem",
		    name, link, target);
		goto out;
	}
	/* Only a link of the live/ shape, into a real archive/<name>/, to
	 * a regular file that is not itself a link. */
	if ((real = store_live_target(link, target)) == NULL)
		goto out;
	if (lstat(real, &sb) == -1) {
		log_error("broken lineage %s: %s -> %s: %s", name, link,
		    target, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_error("broken lineage %s: %s -> %s: not a regular file",
		    name, link, target);
		goto out;
	}
	v = n;
out:
	free(link);
	free(real);
	return v;
}

/* live/README and live/<name>/README, as certbot leaves them; an
 * existing README is left alone. */
static enum err
store_write_readmes(const struct store *st, const char *live_dir)
{
	struct stat	 sb;
	enum err	 rc = ERR_INTERNAL;
	char		*readme[2] = { NULL, NULL }, *content = NULL;
	const char	*prefix[2] = { "[cert name]/", "" };
	size_t		 i;
	int		 len;

	if ((readme[0] = store_pathf("%s/live/README", st->config_dir)) ==
	    NULL || (readme[1] = store_pathf("%s/README", live_dir)) == NULL)
		goto out;
	for (i = 0; i < 2; i++) {
		if (lstat(readme[i], &sb) == 0)
			continue;
		free(content);
		if ((len = asprintf(&content, store_readme_fmt, prefix[i],
		    prefix[i], prefix[i], prefix[i])) < 0) {
			content = NULL;
			log_error("out of memory");
			rc = ERR_INTERNAL;
			goto out;
		}
		if ((rc = store_write_atomic(readme[i], content, (size_t)len,
		    0644)) != ERR_OK)
			goto out;
	}
	rc = ERR_OK;
out:
	free(readme[0]);
	free(readme[1]);
	free(content);
	return rc;
}

/*
 * Points live_dir/<kind>.pem at ../../archive/<name>/<kind>N.pem: a new
 * link under a temporary name, renamed over the old one, so a reader sees
 * either the old link or the new one, never none.
 */
static enum err
store_flip_link(const char *live_dir, const char *name, const char *kind,
    int n)
{
	static const char	 alnum[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	enum err		 rc = ERR_INTERNAL;
	unsigned char		 rnd[6];
	char			 suffix[sizeof rnd + 1];
	char			*target = NULL, *link = NULL, *tmp = NULL;
	bool			 have_tmp = false;
	size_t			 i;
	int			 tries;

	if ((target = store_pathf("../../archive/%s/%s%d.pem", name, kind,
	    n)) == NULL ||
	    (link = store_pathf("%s/%s.pem", live_dir, kind)) == NULL)
		goto out;
	rc = ERR_STORAGE;
	for (tries = 0; tries < STORE_LINK_TRIES && !have_tmp; tries++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
			log_error("getrandom: %s", strerror(errno));
			goto out;
		}
		for (i = 0; i < sizeof rnd; i++)
			suffix[i] = alnum[rnd[i] % (sizeof alnum - 1)];
		suffix[sizeof rnd] = '\0';
		free(tmp);
		/* The pattern store_write_atomic uses, so the sweep after
		 * a crash (store_lock) knows it. */
		if ((tmp = store_pathf("%s/.%s.pem" STORE_TEMP_TAG "%s",
		    live_dir, kind, suffix)) == NULL) {
			rc = ERR_INTERNAL;
			goto out;
		}
		if (symlink(target, tmp) == 0)
			have_tmp = true;
		else if (errno != EEXIST) {
			log_error("cannot create link %s: %s", tmp,
			    strerror(errno));
			goto out;
		}
	}
	if (!have_tmp) {
		log_error("cannot create a temporary link in %s", live_dir);
		goto out;
	}
	if (rename(tmp, link) == -1) {
		log_error("cannot rename %s to %s: %s", tmp, link,
		    strerror(errno));
		goto out;
	}
	have_tmp = false;
	rc = ERR_OK;
out:
	if (have_tmp && unlink(tmp) == -1)
		log_warn("cannot remove %s: %s", tmp, strerror(errno));
	free(target);
	free(link);
	free(tmp);
	return rc;
}

/*
 * Completes the live/ links of lineage name that a killed
 * store_lineage_save left half flipped (privkey.pem at the new version,
 * cert.pem at the old one: a key that does not match the certificate).
 * All archive files of the new version were synced before the first link
 * moved, so rolling forward to the highest version any link names is
 * always possible; a lineage where that is not so is left alone with a
 * warning.  cfd is the config dir.  Only under the lineage's lock, or
 * when the run is alone.
 */
static void
store_lineage_repair(const struct store *st, int cfd, const char *name)
{
	struct stat	 sb;
	const char	*base;
	ssize_t		 len;
	size_t		 k;
	char		 rel[STORE_PATH_MAX], target[STORE_PATH_MAX];
	char		*dir = NULL;
	int		 v[STORE__KINDS], max = 0;
	bool		 mixed = false, complete = true;

	snprintf(rel, sizeof rel, "live/%s", name);
	if (fstatat(cfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(sb.st_mode))
		return;
	for (k = 0; k < STORE__KINDS; k++) {
		snprintf(rel, sizeof rel, "live/%s/%s.pem", name,
		    store_kinds[k]);
		if ((len = readlinkat(cfd, rel, target,
		    sizeof target - 1)) == -1) {
			v[k] = errno == ENOENT ? 0 : -1;
		} else {
			target[len] = '\0';
			base = strrchr(target, '/');
			v[k] = store_parse_version(base == NULL ? target :
			    base + 1, store_kinds[k]);
		}
		if (v[k] == -1)
			return;
		if (v[k] > max)
			max = v[k];
		if (v[k] != v[0])
			mixed = true;
	}
	if (!mixed)
		return;
	for (k = 0; k < STORE__KINDS; k++) {
		snprintf(rel, sizeof rel, "archive/%s/%s%d.pem", name,
		    store_kinds[k], max);
		if (fstatat(cfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(sb.st_mode))
			complete = false;
	}
	if (!complete) {
		log_warn("lineage %s: its links name different versions and "
		    "version %d is incomplete; left as it is", name, max);
		return;
	}
	if ((dir = store_pathf("%s/live/%s", st->config_dir, name)) == NULL)
		return;
	for (k = 0; k < STORE__KINDS; k++)
		if (v[k] != max && store_flip_link(dir, name, store_kinds[k],
		    max) != ERR_OK)
			break;
	if (k == STORE__KINDS && store_fsync_dir(dir) == ERR_OK)
		log_warn("lineage %s: an interrupted run left its links half "
		    "updated; completed them to version %d", name, max);
	free(dir);
}

/* Every lineage of live/: see store_priv.h. */
void
store_lineage_repair_links(const struct store *st)
{
	struct dirent	*de;
	char		*live = NULL;
	int		 cfd = -1;
	DIR		*d = NULL;

	if ((cfd = open(st->config_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 ||
	    (live = store_pathf("%s/live", st->config_dir)) == NULL ||
	    (d = opendir(live)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL)
		if (store_lineage_name_problem(de->d_name) == NULL)
			store_lineage_repair(st, cfd, de->d_name);
out:
	if (d != NULL)
		closedir(d);
	if (cfd != -1)
		close(cfd);
	free(live);
}

enum err
store_lineage_save(const struct store_lineage *ln,
    const struct store_new_cert *nc, store_sync_cb sync_cb, void *arg,
    int *version_out)
{
	const struct store	*st = ln->st;
	const char		*name = ln->name;
	enum err	 rc = ERR_INTERNAL;
	const char	*pem[STORE__KINDS];
	char		*archive = NULL, *live = NULL, *tmp = NULL, *tdir = NULL;
	char		*apath[STORE__KINDS] = { NULL };
	size_t		 k, written = 0;
	bool		 flipping = false;
	int		 n = 0;

	if (version_out != NULL)
		*version_out = 0;
	if (nc == NULL || nc->privkey_pem == NULL || nc->cert_pem == NULL ||
	    nc->chain_pem == NULL || nc->fullchain_pem == NULL) {
		log_error("%s: incomplete certificate set to save", name);
		goto out;
	}
	pem[STORE_PRIVKEY] = nc->privkey_pem;
	pem[STORE_CHAIN] = nc->chain_pem;
	pem[STORE_FULLCHAIN] = nc->fullchain_pem;
	pem[STORE_CERT] = nc->cert_pem;
	if ((archive = store_pathf("%s/archive/%s", st->config_dir,
	    name)) == NULL ||
	    (live = store_pathf("%s/live/%s", st->config_dir, name)) == NULL)
		goto out;
	if ((rc = store_mkdirs_owned(archive, 0700)) != ERR_OK ||
	    (rc = store_mkdirs_owned(live, 0755)) != ERR_OK ||
	    (rc = store_next_version(archive, &n)) != ERR_OK)
		goto out;
	for (k = 0; k < STORE__KINDS; k++) {
		if ((apath[k] = store_pathf("%s/%s%d.pem", archive,
		    store_kinds[k], n)) == NULL) {
			rc = ERR_INTERNAL;
			goto out;
		}
		/* store_write_atomic's two halves, with the directory
		 * synced once for the four files below, not once each: the
		 * links only name them after that sync. */
		if ((rc = store_write_temp(apath[k], pem[k], strlen(pem[k]),
		    k == STORE_PRIVKEY ? 0600 : 0644, true, &tmp, &tdir)) !=
		    ERR_OK)
			goto out;
		free(tdir);
		tdir = NULL;
		if (rename(tmp, apath[k]) == -1) {
			log_error("cannot rename %s to %s: %s", tmp, apath[k],
			    strerror(errno));
			if (unlink(tmp) == -1)
				log_warn("cannot remove %s: %s", tmp,
				    strerror(errno));
			rc = ERR_STORAGE;
			goto out;
		}
		free(tmp);
		tmp = NULL;
		written = k + 1;
	}
	if ((rc = store_fsync_dir(archive)) != ERR_OK)
		goto out;
	if (sync_cb != NULL && sync_cb(arg, apath[STORE_PRIVKEY],
	    apath[STORE_CERT], apath[STORE_FULLCHAIN],
	    apath[STORE_CHAIN]) != 0) {
		log_error("%s: sync of version %d failed; live links left as "
		    "they were", name, n);
		rc = ERR_INVOKER;
		goto out;
	}
	if ((rc = store_write_readmes(st, live)) != ERR_OK)
		goto out;
	/* From here a failure can leave some links flipped; the archive
	 * files they point at must stay. */
	flipping = true;
	for (k = 0; k < STORE__KINDS; k++)
		if ((rc = store_flip_link(live, name, store_kinds[k],
		    n)) != ERR_OK)
			goto out;
	if ((rc = store_fsync_dir(live)) != ERR_OK)
		goto out;
	if (version_out != NULL)
		*version_out = n;
	log_debug("%s: live links now at version %d", name, n);
out:
	if (rc != ERR_OK && !flipping)
		for (k = 0; k < written; k++)
			if (unlink(apath[k]) == -1)
				log_warn("cannot remove %s: %s", apath[k],
				    strerror(errno));
	for (k = 0; k < STORE__KINDS; k++)
		free(apath[k]);
	free(tmp);
	free(tdir);
	free(archive);
	free(live);
	return rc;
}

enum err
store_lineage_delete(struct store_lineage *ln)
{
	struct stat	 sb;
	enum err	 rc, r;
	bool		 failed = false;
	char		*path = NULL, *live = NULL;
	size_t		 k;

	if ((rc = store_lineage_lock(ln)) != ERR_OK)
		return rc;
	rc = ERR_INTERNAL;
	/* The conf first, like certbot: a half-deleted lineage must not be
	 * picked up by the next renew. */
	if ((path = store_lineage_conf_path(ln)) == NULL)
		goto out;
	if (unlink(path) == -1 && errno != ENOENT) {
		log_error("cannot remove %s: %s", path, strerror(errno));
		failed = true;
	}
	if ((live = store_lineage_dir(ln, STORE_LIVE)) == NULL)
		goto out;
	/* Through a planted link the unlinks below would delete files
	 * elsewhere: only the link goes. */
	if (lstat(live, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		if (unlink(live) == -1) {
			log_error("cannot remove %s: %s", live,
			    strerror(errno));
			failed = true;
		} else
			log_warn("%s was a symbolic link: removed the link, "
			    "not what it points at", live);
		k = STORE__KINDS + 1;
	} else
		k = 0;
	for (; k <= STORE__KINDS; k++) {
		free(path);
		if ((path = store_pathf("%s/%s%s", live, k < STORE__KINDS ?
		    store_kinds[k] : "README", k < STORE__KINDS ? ".pem" :
		    "")) == NULL)
			goto out;
		if (unlink(path) == -1 && errno != ENOENT && errno != ENOTDIR) {
			log_error("cannot remove %s: %s", path,
			    strerror(errno));
			failed = true;
		}
	}
	if (rmdir(live) == -1 && errno != ENOENT) {
		if (errno == ENOTEMPTY || errno == EEXIST)
			log_warn("%s is not empty; leaving it", live);
		else {
			log_error("cannot remove %s: %s", live,
			    strerror(errno));
			failed = true;
		}
	}
	free(path);
	if ((path = store_lineage_dir(ln, STORE_ARCHIVE)) == NULL)
		goto out;
	if ((r = store_remove_files(path)) != ERR_OK)
		failed = true;
	/* Last, still held: a run that opened it meanwhile finds it gone
	 * once it has the lock (store_lock_path) and opens a new one. */
	free(path);
	if ((path = store_pathf("%s/renewal/%s.lock", ln->st->config_dir,
	    ln->name)) == NULL)
		goto out;
	if (unlink(path) == -1 && errno != ENOENT) {
		log_error("cannot remove %s: %s", path, strerror(errno));
		failed = true;
	}
	rc = failed ? ERR_STORAGE : ERR_OK;
out:
	free(path);
	free(live);
	return rc;
}

/* The directory names of enum store_area. */
static const char *const store_areas[] = { "live", "archive" };
_Static_assert(sizeof store_areas / sizeof store_areas[0] ==
    STORE_AREA__COUNT, "one directory per store area");

/* New string (see store.h), caller frees. */
char *
store_lineage_dir(const struct store_lineage *ln, enum store_area area)
{
	return store_pathf("%s/%s/%s", ln->st->config_dir, store_areas[area],
	    ln->name);
}

/* See store.h. */
bool
store_lineage_exists(const struct store_lineage *ln)
{
	struct stat	 sb;
	char		*path[3] = { NULL, NULL, NULL };
	bool		 found = false;
	size_t		 i;

	path[0] = store_lineage_conf_path(ln);
	path[1] = store_lineage_dir(ln, STORE_LIVE);
	path[2] = store_lineage_dir(ln, STORE_ARCHIVE);
	for (i = 0; i < 3 && !found; i++)
		if (path[i] != NULL && lstat(path[i], &sb) == 0)
			found = true;
	for (i = 0; i < 3; i++)
		free(path[i]);
	return found;
}

/*
 * The lineage of config_dir/archive/NAME/ that path is in once symlinks
 * are resolved (live/NAME/cert.pem points there), opened; NULL if the
 * file is not in a lineage.
 */
struct store_lineage *
store_lineage_of_path(const struct store *st, const char *path)
{
	struct store_lineage	*ln = NULL;
	const char		*why;
	char			*dir = NULL, *file = NULL, *name = NULL, *p;
	size_t			 len;

	if ((dir = realpath(st->config_dir, NULL)) == NULL ||
	    (file = realpath(path, NULL)) == NULL)
		goto out;
	len = strlen(dir);
	if (strncmp(file, dir, len) != 0 || strncmp(file + len, "/archive/",
	    9) != 0)
		goto out;
	p = file + len + 9;
	if ((len = strcspn(p, "/")) == 0 || p[len] != '/')
		goto out;
	if ((name = strndup(p, len)) != NULL)
		ln = store_lineage_open(st, name, &why);
out:
	free(dir);
	free(file);
	free(name);
	return ln;
}

/* See store.h. */
enum err
store_lineage_csr_save(const struct store_lineage *ln, const char *pem,
    char **path_out)
{
	char		*dir = NULL, *path = NULL;
	enum err	 rc = ERR_INTERNAL;

	*path_out = NULL;
	if ((dir = store_pathf("%s/csr", ln->st->config_dir)) == NULL ||
	    (path = store_pathf("%s/%s.pem", dir, ln->name)) == NULL)
		goto out;
	if ((rc = store_mkdirs_owned(dir, 0700)) != ERR_OK ||
	    (rc = store_write_atomic(path, pem, strlen(pem), 0644)) != ERR_OK)
		goto out;
	*path_out = path;
	path = NULL;
out:
	free(dir);
	free(path);
	return rc;
}

/* ---- renewal confs ---- */

/* New string (see store.h), caller frees. */
char *
store_lineage_conf_path(const struct store_lineage *ln)
{
	return store_pathf("%s/renewal/%s.conf", ln->st->config_dir,
	    ln->name);
}

static int
store_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* *names and each name are new; the caller frees them (see store.h). */
enum err
store_lineage_list(const struct store *st, char ***names, size_t *n)
{
	struct stat	  sb;
	struct dirent	 *de;
	enum err	  rc = ERR_STORAGE;
	const char	 *why;
	size_t		  len, cap = 0, count = 0, i;
	char		**list = NULL, **nlist, *dir = NULL, *name = NULL;
	char		  shown[80];
	DIR		 *d = NULL;

	*names = NULL;
	*n = 0;
	if ((dir = store_pathf("%s/renewal", st->config_dir)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT) {
			rc = ERR_OK;
			goto out;
		}
		log_error("cannot open %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0 ||
		    de->d_type == DT_DIR)
			continue;
		/* A FIFO would hang the reader while we hold the lock, a
		 * link could feed it any file: only regular files count. */
		if (de->d_type != DT_REG && (de->d_type != DT_UNKNOWN ||
		    fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))) {
			log_warn("skipping %s/%s: not a regular file", dir,
			    store_shown(de->d_name, shown, sizeof shown));
			errno = 0;
			continue;
		}
		if ((name = strndup(de->d_name, len - 5)) == NULL) {
			log_error("out of memory");
			rc = ERR_INTERNAL;
			goto out;
		}
		if ((why = store_lineage_name_problem(name)) != NULL) {
			log_warn("skipping %s/%s: certificate name %s", dir,
			    store_shown(de->d_name, shown, sizeof shown), why);
			free(name);
			name = NULL;
			continue;
		}
		if (count == cap) {
			if (cap >= STORE_LINEAGES_MAX) {
				log_error("%s: more than %d renewal "
				    "configurations", dir, STORE_LINEAGES_MAX);
				goto out;
			}
			cap = cap == 0 ? 64 : cap * 2;
			if (cap > STORE_LINEAGES_MAX)
				cap = STORE_LINEAGES_MAX;
			if ((nlist = reallocarray(list, cap,
			    sizeof *list)) == NULL) {
				log_error("out of memory");
				rc = ERR_INTERNAL;
				goto out;
			}
			list = nlist;
		}
		list[count++] = name;
		name = NULL;
	}
	if (errno != 0) {
		log_error("cannot read %s: %s", dir, strerror(errno));
		goto out;
	}
	if (count > 0)
		qsort(list, count, sizeof *list, store_strcmp_p);
	*names = list;
	*n = count;
	list = NULL;
	rc = ERR_OK;
out:
	if (list != NULL) {
		for (i = 0; i < count; i++)
			free(list[i]);
		free(list);
	}
	if (d != NULL)
		closedir(d);
	free(name);
	free(dir);
	return rc;
}
