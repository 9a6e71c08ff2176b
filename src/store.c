/*
 * store.c: owns everything extauth keeps on disk under the config
 * directory, in certbot's layout (see store.h): directory creation, the run
 * lock, atomic file writes, accounts, certificate lineages (archive/ files
 * and the live/ links that point into them) and the configobj subset of
 * the renewal/ confs.  Nothing else opens files in the config directory.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "store.h"

#define STORE_PATH_MAX		4096
/* NAME_MAX less ".conf", so renewal/<name>.conf is a legal file name. */
#define STORE_NAME_MAX		250
#define STORE_ID_MAX		255
#define STORE_VERSION_MAX	999999999
#define STORE_LINK_TRIES	16
#define STORE_SWEEP_DEPTH	16	/* levels below the config dir */
#define STORE_TEMP_TAG		".extauth."	/* in our temp file names */

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

/*
 * The second line of an error about a directory or file extauth cannot
 * create or write: what to do.  The default directories are root's, as
 * certbot's are.  err is the errno the first line reported.
 */
static void
store_denied_hint(int err)
{
	if (err == EACCES || err == EPERM)
		log_error("run as root (the default directories are root's, as "
		    "certbot's), or give --config-dir, --work-dir and "
		    "--logs-dir directories you can write");
	else if (err == EROFS)
		log_error("that file system is read-only: give --config-dir, "
		    "--work-dir and --logs-dir on a writable one (under "
		    "systemd: ReadWritePaths=)");
}
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

static void	 store_repair_links(const struct store *);
static enum err	 store_lock_certbot(struct store *);
static enum err	 store_dir_trusted(const char *, bool);
static char	*store_pathf(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* Formats a path; new string the caller frees, NULL (logged) if it would
 * be longer than STORE_PATH_MAX or memory ran out. */
static char *
store_pathf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p = NULL;
	int	 len;

	va_start(ap, fmt);
	len = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (len < 0) {
		log_error("out of memory");
		return NULL;
	}
	if (len >= STORE_PATH_MAX) {
		log_error("path too long: %.80s...", p);
		free(p);
		return NULL;
	}
	return p;
}

/* Copies s into buf for a log line, with '?' for anything unprintable, so
 * a hostile name cannot write escape sequences to a terminal. */
static const char *
store_shown(const char *s, char *buf, size_t size)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

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

static bool
store_name_ok(const char *name)
{
	const char	*why;
	char		 shown[80];

	if ((why = store_lineage_name_problem(name)) == NULL)
		return true;
	log_error("invalid certificate name \"%s\": %s",
	    name == NULL ? "" : store_shown(name, shown, sizeof shown), why);
	return false;
}

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

/* Directory part of path; new string the caller frees, NULL (logged) on
 * allocation failure. */
static char *
store_dirname(const char *path)
{
	const char	*slash;
	char		*dir;

	if ((slash = strrchr(path, '/')) == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		log_error("out of memory");
	return dir;
}

/* A rename or a new link is only durable once its directory is synced. */
static enum err
store_fsync_dir(const char *dir)
{
	enum err	rc = ERR_STORAGE;
	int		fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_error("cannot open directory %s: %s", dir, strerror(errno));
		goto out;
	}
	/* Some file systems cannot sync a directory; nothing to do then. */
	if (fsync(fd) == -1 && errno != EINVAL && errno != EROFS) {
		log_error("cannot fsync directory %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = ERR_OK;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

enum err
store_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	const char	*base, *p = data;
	char		*dir = NULL, *tmp = NULL;
	enum err	 rc = ERR_STORAGE;
	ssize_t		 w;
	bool		 have_tmp = false;
	int		 fd = -1, saved;

	base = strrchr(path, '/');
	base = base == NULL ? path : base + 1;
	if (base[0] == '\0') {
		log_error("cannot write %s: not a file name", path);
		goto out;
	}
	if ((dir = store_dirname(path)) == NULL ||
	    (tmp = store_pathf("%s/.%s" STORE_TEMP_TAG "XXXXXX", dir,
	    base)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		saved = errno;
		log_error("cannot create %s: %s", tmp, strerror(saved));
		store_denied_hint(saved);
		goto out;
	}
	have_tmp = true;
	/* Before any byte is written: a key must never sit in a file that
	 * others can read, not even for a moment, whatever the umask. */
	if (fchmod(fd, mode & 07777) == -1) {
		log_error("cannot chmod %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1) {
		log_error("cannot fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	w = close(fd);
	fd = -1;
	if (w == -1) {
		log_error("cannot close %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) == -1) {
		log_error("cannot rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto out;
	}
	have_tmp = false;
	rc = store_fsync_dir(dir);
out:
	if (fd != -1)
		close(fd);
	if (have_tmp && unlink(tmp) == -1)
		log_warn("cannot remove %s: %s", tmp, strerror(errno));
	free(tmp);
	free(dir);
	return rc;
}

/*
 * Where a live/ link may point: certbot's shape, ../../archive/NAME/FILE
 * from live/NAME/ (or that same file as an absolute path), with
 * archive/NAME a real directory only we can write to.  Anything else was
 * not made by extauth or certbot and is not followed.  known: the link's
 * target if the caller read it already.  Returns the archive path (new
 * string the caller frees), or NULL (logged).
 */
static char *
store_live_target(const char *link, const char *known)
{
	const char	*base, *file, *name;
	ssize_t		 len;
	size_t		 nlen;
	char		 target[STORE_PATH_MAX], shown[120];
	char		*dir = NULL, *live = NULL, *config = NULL;
	char		*archive = NULL, *abs = NULL, *out = NULL;

	if (known != NULL)
		snprintf(target, sizeof target, "%s", known);
	else if ((len = readlink(link, target, sizeof target - 1)) == -1) {
		log_error("cannot read link %s: %s", link, strerror(errno));
		goto out;
	} else
		target[len] = '\0';
	/* link = CONFIG/live/NAME/FILE.pem */
	if ((dir = store_dirname(link)) == NULL ||
	    (live = store_dirname(dir)) == NULL ||
	    (config = store_dirname(live)) == NULL)
		goto out;
	base = strrchr(live, '/');
	name = strrchr(dir, '/');
	if (base == NULL || strcmp(base, "/live") != 0 || name == NULL)
		goto bad;
	name++;
	nlen = strlen(name);
	if (strncmp(target, "../../archive/", 14) == 0)
		file = target + 14;
	else if ((abs = store_pathf("%s/archive/", config)) != NULL &&
	    strncmp(target, abs, strlen(abs)) == 0)
		file = target + strlen(abs);
	else
		goto bad;
	if (strncmp(file, name, nlen) != 0 || file[nlen] != '/')
		goto bad;
	file += nlen + 1;
	if (file[0] == '\0' || file[0] == '.' || strchr(file, '/') != NULL)
		goto bad;
	if ((archive = store_pathf("%s/archive/%s", config, name)) == NULL ||
	    store_dir_trusted(archive, false) != ERR_OK)
		goto out;
	out = store_pathf("%s/%s", archive, file);
	goto out;
bad:
	log_error("%s points at %s, not into archive/%s/: a link extauth did "
	    "not make is not followed", link, store_shown(target, shown,
	    sizeof shown), name == NULL ? "" : name);
out:
	free(dir);
	free(live);
	free(config);
	free(archive);
	free(abs);
	return out;
}

/*
 * Opens path for reading without blocking on a FIFO or a device and
 * without following links, except (live_links) a live/ link of certbot's
 * shape (store_live_target).  -1 (logged, errno kept) on failure; errno
 * ENOENT is not logged when missing_ok.
 */
static int
store_open_read(const char *path, bool follow, bool live_links,
    bool missing_ok)
{
	struct stat	 sb;
	char		*real = NULL;
	int		 fd, flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int		 saved;

	if ((fd = open(path, flags | (follow ? 0 : O_NOFOLLOW))) == -1 &&
	    errno == ELOOP && live_links &&
	    lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		if ((real = store_live_target(path, NULL)) == NULL) {
			errno = ELOOP;
			return -1;
		}
		fd = open(real, flags | O_NOFOLLOW);
	}
	saved = errno;
	if (fd == -1 && !(saved == ENOENT && missing_ok))
		log_error("cannot open %s: %s", path, saved == ELOOP ?
		    "it is a symbolic link, which extauth does not follow "
		    "there" : strerror(saved));
	free(real);
	errno = saved;
	return fd;
}

/* The reader of store_read_file and store_read_owned. */
static enum err
store_read(const char *path, char **out, size_t *lenp, bool missing_ok,
    bool follow)
{
	struct stat	 sb;
	enum err	 rc = ERR_STORAGE;
	size_t		 len = 0, cap, ncap;
	ssize_t		 r;
	char		*buf = NULL, *nbuf;
	int		 fd;

	*out = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((fd = store_open_read(path, follow, !follow, missing_ok)) == -1) {
		if (errno == ENOENT && missing_ok)
			rc = ERR_OK;
		goto out;
	}
	if (fstat(fd, &sb) == -1) {
		log_error("cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	/* A FIFO or a device planted where a file belongs must not hang
	 * or feed the run (the open did not block: O_NONBLOCK). */
	if (!S_ISREG(sb.st_mode)) {
		log_error("cannot read %s: not a regular file", path);
		goto out;
	}
	if (fcntl(fd, F_SETFL, O_RDONLY) == -1) {
		log_error("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (sb.st_size > STORE_FILE_MAX) {
		log_error("cannot read %s: larger than %d bytes", path,
		    STORE_FILE_MAX);
		goto out;
	}
	/* st_size is only a hint: the file may grow while we read it. */
	cap = (size_t)sb.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		log_error("out of memory reading %s", path);
		rc = ERR_INTERNAL;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > STORE_FILE_MAX) {
				log_error("cannot read %s: larger than %d "
				    "bytes", path, STORE_FILE_MAX);
				goto out;
			}
			ncap = cap * 2 > STORE_FILE_MAX + 1 ?
			    STORE_FILE_MAX + 1 : cap * 2;
			if ((nbuf = realloc(buf, ncap + 1)) == NULL) {
				log_error("out of memory reading %s", path);
				rc = ERR_INTERNAL;
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		if ((r = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (lenp != NULL)
		*lenp = len;
	rc = ERR_OK;
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return rc;
}

/* *out is a new buffer the caller frees (see store.h). */
enum err
store_read_file(const char *path, char **out, size_t *lenp, bool missing_ok)
{
	return store_read(path, out, lenp, missing_ok, true);
}

/* *out is a new buffer the caller frees (see store.h). */
enum err
store_read_owned(const char *path, char **out, size_t *lenp, bool missing_ok)
{
	return store_read(path, out, lenp, missing_ok, false);
}

/*
 * Whether an existing directory extauth keeps things in can be trusted:
 * a link there (when !follow) or write access for group or others would
 * let someone else redirect or plant what extauth writes and reads next,
 * private keys included.  Refused with what to do (logged).
 */
static enum err
store_dir_trusted(const char *path, bool follow)
{
	struct stat	sb;

	if ((follow ? stat(path, &sb) : lstat(path, &sb)) == -1) {
		log_error("cannot stat %s: %s", path, strerror(errno));
		return ERR_STORAGE;
	}
	if (S_ISLNK(sb.st_mode)) {
		log_error("%s is a symbolic link; extauth does not follow links "
		    "inside its directories", path);
		log_error("remove the link (and move what it points at there, "
		    "if that is wanted)");
		return ERR_STORAGE;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_error("%s exists and is not a directory", path);
		return ERR_STORAGE;
	}
	if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_error("%s is writable by %s (mode %04o): others could plant "
		    "files there", path, (sb.st_mode & S_IWOTH) ? "everyone" :
		    "its group", (unsigned)(sb.st_mode & 07777));
		log_error("fix it with: chmod go-w %s", path);
		return ERR_STORAGE;
	}
	return ERR_OK;
}

/* mkdir -p; then the last level is checked with store_dir_trusted when
 * owned (following a link there when follow). */
static enum err
store_mkdirs_mode(const char *path, mode_t mode, bool owned, bool follow)
{
	struct stat	 sb;
	enum err	 rc = ERR_STORAGE;
	char		*p = NULL, *s, c;
	int		 saved;

	if (path == NULL || path[0] == '\0') {
		log_error("cannot create a directory with an empty name");
		goto out;
	}
	if ((p = strdup(path)) == NULL) {
		log_error("out of memory");
		rc = ERR_INTERNAL;
		goto out;
	}
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, mode & 07777) == 0) {
			/* mkdir's mode went through the umask. */
			if (chmod(p, mode & 07777) == -1) {
				log_error("cannot chmod %s: %s", p,
				    strerror(errno));
				goto out;
			}
		} else if (errno != EEXIST) {
			saved = errno;
			log_error("cannot create directory %s: %s", p,
			    strerror(saved));
			store_denied_hint(saved);
			goto out;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (owned) {
		rc = store_dir_trusted(path, follow);
		goto out;
	}
	if (stat(path, &sb) == -1) {
		log_error("cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		log_error("%s exists and is not a directory", path);
		goto out;
	}
	rc = ERR_OK;
out:
	free(p);
	return rc;
}

enum err
store_mkdirs(const char *path, mode_t mode)
{
	return store_mkdirs_mode(path, mode, false, true);
}

enum err
store_mkdirs_owned(const char *path, mode_t mode)
{
	return store_mkdirs_mode(path, mode, true, false);
}

/* ".NAME.extauth.XXXXXX": the temporary names of store_write_atomic
 * (mkostemp's six letters and digits) and store_flip_link.  The tag keeps
 * the sweep off anyone else's dot files (".x.backup"). */
static bool
store_is_temp(const char *name)
{
	size_t	len = strlen(name), tag = strlen(STORE_TEMP_TAG), i;

	if (len < 2 + tag + 6 || name[0] != '.' || name[1] == '.' ||
	    strncmp(name + len - 6 - tag, STORE_TEMP_TAG, tag) != 0)
		return false;
	for (i = len - 6; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

/*
 * Removes from the directory dfd and, depth levels down, from the
 * directories below it, the temporary files a killed run left behind.
 * Links are not followed, so nothing outside the tree is touched.
 * Best effort: what cannot be read is left alone.  Returns how many went.
 */
static size_t
store_sweep(int dfd, int depth)
{
	struct dirent	*de;
	struct stat	 sb;
	size_t		 n = 0;
	DIR		*d = NULL;
	int		 fd, sub;

	/* fdopendir owns its fd: give it a copy opened afresh (a dup would
	 * share the caller's read offset). */
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			if (depth <= 0 || (sub = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC)) == -1)
				continue;
			n += store_sweep(sub, depth - 1);
			close(sub);
		} else if ((S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) &&
		    store_is_temp(de->d_name) &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0) {
			log_debug("removed stale temporary file %s",
			    de->d_name);
			n++;
		}
	}
out:
	if (d != NULL)
		closedir(d);
	return n;
}

/* ---- the directory and its lock ---- */

enum err
store_open(struct store *st, const char *config_dir, const char *work_dir,
    const char *logs_dir)
{
	static const struct {
		const char	*sub;
		mode_t		 mode;
	} subs[] = {
		{ "accounts", 0700 },
		{ "archive", 0700 },
		{ "live", 0755 },
		{ "renewal", 0755 },
	};
	enum err	 rc = ERR_INTERNAL;
	char		*path = NULL;
	size_t		 i;

	memset(st, 0, sizeof *st);
	st->lock_fd = -1;
	if (config_dir == NULL || config_dir[0] == '\0') {
		log_error("no config directory given");
		rc = ERR_USAGE;
		goto out;
	}
	if ((st->config_dir = strdup(config_dir)) == NULL ||
	    (work_dir != NULL && (st->work_dir = strdup(work_dir)) == NULL) ||
	    (logs_dir != NULL && (st->logs_dir = strdup(logs_dir)) == NULL)) {
		log_error("out of memory");
		goto out;
	}
	/* The three top directories are the user's to place (a link to
	 * another disk is fine); what is below is ours and never a link. */
	if ((rc = store_mkdirs_mode(config_dir, 0755, true, true)) != ERR_OK)
		goto out;
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if ((path = store_pathf("%s/%s", config_dir,
		    subs[i].sub)) == NULL) {
			rc = ERR_INTERNAL;
			goto out;
		}
		if ((rc = store_mkdirs_owned(path, subs[i].mode)) != ERR_OK)
			goto out;
		free(path);
		path = NULL;
	}
	if (work_dir != NULL && (rc = store_mkdirs_mode(work_dir, 0755, true,
	    true)) != ERR_OK)
		goto out;
	if (logs_dir != NULL && (rc = store_mkdirs_mode(logs_dir, 0700, true,
	    true)) != ERR_OK)
		goto out;
	rc = ERR_OK;
out:
	free(path);
	if (rc != ERR_OK)
		store_close(st);
	return rc;
}

/*
 * After a run that did not end cleanly (killed, crashed, power cut):
 * removes the temporary files it left in the config and work directories
 * and completes live/ links it left half flipped.  Everything it touches
 * is ours and nobody else writes while we hold the lock.
 */
static void
store_recover(struct store *st)
{
	size_t	n = 0;
	int	fd;

	log_info("the previous run on %s did not finish; tidying up after it",
	    st->config_dir);
	if ((fd = open(st->config_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		/* deep enough for accounts/<host>/<path...>/<id>/ */
		n += store_sweep(fd, STORE_SWEEP_DEPTH);
		close(fd);
	}
	if (st->work_dir != NULL && (fd = open(st->work_dir, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) != -1) {
		n += store_sweep(fd, 2);
		close(fd);
	}
	if (n > 0)
		log_info("removed %zu temporary file%s left by that run", n,
		    n == 1 ? "" : "s");
	store_repair_links(st);
}

/*
 * The lock file is empty after a run that ended cleanly (store_close) and
 * holds the pid of the run while one is going.  So finding it non-empty
 * once we hold the lock means the last run was interrupted: recover from
 * it, then mark this one as running.  The mark is synced before anything
 * else is written, so a crash can never leave debris behind an empty mark.
 */
static enum err
store_mark_running(struct store *st, const char *path)
{
	struct stat	sb;
	char		pid[32];
	int		len;

	if (fstat(st->lock_fd, &sb) == -1) {
		log_error("cannot stat %s: %s", path, strerror(errno));
		return ERR_STORAGE;
	}
	if (sb.st_size > 0)
		store_recover(st);
	len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	st->marked = true;
	if (ftruncate(st->lock_fd, 0) == -1 ||
	    pwrite(st->lock_fd, pid, (size_t)len, 0) != len ||
	    fdatasync(st->lock_fd) == -1) {
		log_error("cannot write %s: %s", path, strerror(errno));
		return ERR_STORAGE;
	}
	return ERR_OK;
}

/*
 * One of certbot's locks, exactly as certbot's lock.py takes it: open
 * (creating, 0600), lockf(LOCK_EX | LOCK_NB) - a POSIX record lock on the
 * whole file - then check that the path still names the file locked
 * (certbot deletes the file when it lets go: a lock on a file deleted
 * meanwhile protects nothing, so open again).  On success the fd is kept
 * in st; ERR_LOCKED (logged, with the holder) if held.
 */
static enum err
store_lock_certbot_dir(struct store *st, const char *dir)
{
	struct flock	 fl;
	struct stat	 sb_path, sb_fd;
	enum err	 rc = ERR_STORAGE;
	char		*path = NULL, comm[64] = "", proc[64];
	FILE		*f;
	int		 fd = -1, tries, saved;

	if ((path = store_pathf("%s/.certbot.lock", dir)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	for (tries = 0; tries < STORE_LINK_TRIES; tries++) {
		if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
		    O_NOFOLLOW | O_NONBLOCK, 0600)) == -1) {
			saved = errno;
			log_error("cannot open lock file %s: %s", path,
			    saved == ELOOP ? "it is a symbolic link" :
			    strerror(saved));
			store_denied_hint(saved);
			goto out;
		}
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == -1) {
			if (errno != EACCES && errno != EAGAIN) {
				log_error("cannot lock %s: %s", path,
				    strerror(errno));
				goto out;
			}
			/* Who holds it: certbot, normally, or an extauth of
			 * another config dir sharing this work or logs dir. */
			memset(&fl, 0, sizeof fl);
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK &&
			    fl.l_pid > 0) {
				snprintf(proc, sizeof proc, "/proc/%ld/comm",
				    (long)fl.l_pid);
				if ((f = fopen(proc, "re")) != NULL) {
					if (fgets(comm, sizeof comm, f) == NULL)
						comm[0] = '\0';
					comm[strcspn(comm, "\n")] = '\0';
					fclose(f);
				}
				log_error("%s is in use by %s (pid %ld), which "
				    "holds %s", dir, comm[0] != '\0' ? comm :
				    "another program", (long)fl.l_pid, path);
			} else
				log_error("%s is in use by another certbot or "
				    "extauth, which holds %s", dir, path);
			log_error("wait for it to finish, then run again");
			rc = ERR_LOCKED;
			goto out;
		}
		if (stat(path, &sb_path) == 0 && fstat(fd, &sb_fd) == 0 &&
		    sb_path.st_dev == sb_fd.st_dev &&
		    sb_path.st_ino == sb_fd.st_ino)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1) {
		log_error("cannot lock %s: it keeps being replaced", path);
		goto out;
	}
	st->certbot_fd[st->n_certbot] = fd;
	st->certbot_path[st->n_certbot] = path;
	st->n_certbot++;
	fd = -1;
	path = NULL;
	rc = ERR_OK;
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

/* certbot's three locks, in certbot's order (logs, then config, then
 * work); each held until store_close. */
static enum err
store_lock_certbot(struct store *st)
{
	const char	*dirs[STORE_CERTBOT_LOCKS];
	enum err	 rc;
	size_t		 i, j;

	dirs[0] = st->logs_dir;
	dirs[1] = st->config_dir;
	dirs[2] = st->work_dir;
	for (i = 0; i < STORE_CERTBOT_LOCKS; i++) {
		if (dirs[i] == NULL)
			continue;
		/* One directory given twice is locked once: a second fd
		 * on the same file would drop the lock when closed. */
		for (j = 0; j < i; j++)
			if (dirs[j] != NULL && strcmp(dirs[i], dirs[j]) == 0)
				break;
		if (j == i &&
		    (rc = store_lock_certbot_dir(st, dirs[i])) != ERR_OK)
			return rc;
	}
	return ERR_OK;
}

enum err
store_lock(struct store *st)
{
	enum err	 rc = ERR_STORAGE;
	struct stat	 sb;
	char		*path = NULL;
	int		 fd = -1, saved;

	if (st->lock_fd != -1)
		return ERR_OK;
	if ((path = store_pathf("%s/.extauth.lock", st->config_dir)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	/* Never through a planted link: the mark written below would
	 * truncate whatever it points at. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW | O_NONBLOCK, 0600)) == -1) {
		saved = errno;
		log_error("cannot open lock file %s: %s", path,
		    saved == ELOOP ? "it is a symbolic link" : strerror(saved));
		store_denied_hint(saved);
		goto out;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		log_error("cannot use lock file %s: not a regular file", path);
		goto out;
	}
	/* flock, not fcntl locks: these belong to the open file, so a
	 * forked handler cannot drop them by closing an unrelated fd. */
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			log_error("another extauth is running on %s (lock %s "
			    "held)", st->config_dir, path);
			rc = ERR_LOCKED;
		} else
			log_error("cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	st->lock_fd = fd;
	fd = -1;
	if ((rc = store_lock_certbot(st)) != ERR_OK)
		goto out;
	rc = store_mark_running(st, path);
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

void
store_close(struct store *st)
{
	size_t	i;

	/* As certbot lets go: remove the file, then close (see lock.py on
	 * why in this order). */
	for (i = st->n_certbot; i > 0; i--) {
		(void)unlink(st->certbot_path[i - 1]);
		close(st->certbot_fd[i - 1]);
		free(st->certbot_path[i - 1]);
	}
	if (st->lock_fd != -1) {
		/* A clean end: the next run need not look for debris.  If
		 * this is lost, that run merely sweeps once for nothing.  A
		 * run that did not mark leaves an earlier run's mark. */
		if (st->marked && ftruncate(st->lock_fd, 0) == -1)
			log_debug("cannot clear the lock file: %s",
			    strerror(errno));
		close(st->lock_fd);
	}
	free(st->config_dir);
	free(st->work_dir);
	free(st->logs_dir);
	memset(st, 0, sizeof *st);
	st->lock_fd = -1;
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
 * lock, removes it.  Repairing rather than rejecting is what keeps the
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
 * the lock, so no running extauth is writing there. */
static void
store_account_drop_empty(const struct store *st, int dfd, const char *server,
    const char *id)
{
	int	fd;

	if (st->lock_fd == -1)
		return;
	if ((fd = openat(dfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	store_sweep(fd, 0);
	close(fd);
	if (unlinkat(dfd, id, AT_REMOVEDIR) == 0)
		log_warn("removed %s/%s: an account directory without a key, "
		    "left by an interrupted run", server, id);
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
	chosen = dir = key = regr = uri = NULL;
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
	memset(acct, 0, sizeof *acct);
}

/* ---- lineages ---- */

/* Members are new strings; store_paths_clear() frees them. */
void
store_live_paths(const struct store *st, const char *name,
    struct store_paths *paths)
{
	memset(paths, 0, sizeof *paths);
	if (!store_name_ok(name))
		return;
	paths->cert = store_pathf("%s/live/%s/cert.pem", st->config_dir, name);
	paths->chain = store_pathf("%s/live/%s/chain.pem", st->config_dir,
	    name);
	paths->fullchain = store_pathf("%s/live/%s/fullchain.pem",
	    st->config_dir, name);
	paths->privkey = store_pathf("%s/live/%s/privkey.pem", st->config_dir,
	    name);
}

void
store_paths_clear(struct store_paths *paths)
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
store_lineage_version(const struct store *st, const char *name)
{
	struct stat	 sb;
	const char	*base;
	ssize_t		 len;
	char		*link = NULL, *real = NULL;
	char		 target[STORE_PATH_MAX];
	int		 v = -1, n;

	if (!store_name_ok(name))
		goto out;
	if ((link = store_pathf("%s/live/%s/cert.pem", st->config_dir,
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
 * Completes the live/ links of lineages a killed store_lineage_save left
 * half flipped (privkey.pem at the new version, cert.pem at the old one:
 * a key that does not match the certificate).  All archive files of the
 * new version were synced before the first link moved, so rolling forward
 * to the highest version any link names is always possible; a lineage
 * where that is not so is left alone with a warning.
 */
static void
store_repair_links(const struct store *st)
{
	struct dirent	*de;
	struct stat	 sb;
	const char	*base;
	ssize_t		 len;
	size_t		 k;
	char		 rel[STORE_PATH_MAX], target[STORE_PATH_MAX];
	char		*live = NULL, *dir = NULL;
	int		 v[STORE__KINDS], max, cfd = -1;
	bool		 mixed, complete;
	DIR		*d = NULL;

	if ((cfd = open(st->config_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 ||
	    (live = store_pathf("%s/live", st->config_dir)) == NULL ||
	    (d = opendir(live)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (store_lineage_name_problem(de->d_name) != NULL ||
		    fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISDIR(sb.st_mode))
			continue;
		max = 0;
		mixed = false;
		for (k = 0; k < STORE__KINDS; k++) {
			snprintf(rel, sizeof rel, "%s/%s.pem", de->d_name,
			    store_kinds[k]);
			if ((len = readlinkat(dirfd(d), rel, target,
			    sizeof target - 1)) == -1) {
				v[k] = errno == ENOENT ? 0 : -1;
			} else {
				target[len] = '\0';
				base = strrchr(target, '/');
				v[k] = store_parse_version(base == NULL ?
				    target : base + 1, store_kinds[k]);
			}
			if (v[k] == -1)
				break;
			if (v[k] > max)
				max = v[k];
			if (v[k] != v[0])
				mixed = true;
		}
		if (k < STORE__KINDS || !mixed)
			continue;
		complete = true;
		for (k = 0; k < STORE__KINDS; k++) {
			snprintf(rel, sizeof rel, "archive/%s/%s%d.pem",
			    de->d_name, store_kinds[k], max);
			if (fstatat(cfd, rel, &sb, AT_SYMLINK_NOFOLLOW) ==
			    -1 || !S_ISREG(sb.st_mode))
				complete = false;
		}
		if (!complete) {
			log_warn("lineage %s: its links name different "
			    "versions and version %d is incomplete; left as "
			    "it is", de->d_name, max);
			continue;
		}
		free(dir);
		if ((dir = store_pathf("%s/%s", live, de->d_name)) == NULL)
			goto out;
		for (k = 0; k < STORE__KINDS; k++)
			if (v[k] != max && store_flip_link(dir, de->d_name,
			    store_kinds[k], max) != ERR_OK)
				break;
		if (k == STORE__KINDS && store_fsync_dir(dir) == ERR_OK)
			log_warn("lineage %s: an interrupted run left its "
			    "links half updated; completed them to version "
			    "%d", de->d_name, max);
	}
out:
	if (d != NULL)
		closedir(d);
	if (cfd != -1)
		close(cfd);
	free(live);
	free(dir);
}

enum err
store_lineage_save(const struct store *st, const char *name,
    const struct store_new_cert *nc, store_sync_cb sync_cb, void *arg,
    int *version_out)
{
	enum err	 rc = ERR_INTERNAL;
	const char	*pem[STORE__KINDS];
	char		*archive = NULL, *live = NULL;
	char		*apath[STORE__KINDS] = { NULL };
	size_t		 k, written = 0;
	bool		 flipping = false;
	int		 n = 0;

	if (version_out != NULL)
		*version_out = 0;
	if (!store_name_ok(name)) {
		rc = ERR_USAGE;
		goto out;
	}
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
		if ((rc = store_write_atomic(apath[k], pem[k], strlen(pem[k]),
		    k == STORE_PRIVKEY ? 0600 : 0644)) != ERR_OK)
			goto out;
		written = k + 1;
	}
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
	free(archive);
	free(live);
	return rc;
}

/* Removes the files of dir (not subdirectories) and dir itself if that
 * left it empty; a missing dir is fine. */
static enum err
store_remove_files(const char *dir)
{
	struct stat	 sb;
	struct dirent	*de;
	enum err	 rc = ERR_STORAGE;
	bool		 failed = false;
	DIR		*d = NULL;
	int		 fd;

	/* A link here was planted (or is certbot's link to a shared
	 * account): the link goes, never what it points at. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 && (errno == ELOOP || errno == ENOTDIR) &&
	    lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode) &&
	    unlink(dir) == 0) {
		log_warn("%s was a symbolic link: removed the link, not what "
		    "it points at", dir);
		rc = ERR_OK;
		goto out;
	}
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (errno == ENOENT) {
			rc = ERR_OK;
			goto out;
		}
		log_error("cannot open %s: %s", dir, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1) {
			if (errno == EISDIR || errno == EPERM)
				log_warn("leaving %s/%s in place", dir,
				    de->d_name);
			else {
				log_error("cannot remove %s/%s: %s", dir,
				    de->d_name, strerror(errno));
				failed = true;
			}
		}
	}
	if (errno != 0) {
		log_error("cannot read %s: %s", dir, strerror(errno));
		goto out;
	}
	if (rmdir(dir) == -1) {
		if (errno == ENOTEMPTY || errno == EEXIST)
			log_warn("%s is not empty; leaving it", dir);
		else {
			log_error("cannot remove %s: %s", dir, strerror(errno));
			goto out;
		}
	}
	rc = failed ? ERR_STORAGE : ERR_OK;
out:
	if (d != NULL)
		closedir(d);
	return rc;
}

enum err
store_lineage_delete(const struct store *st, const char *name)
{
	struct stat	 sb;
	enum err	 rc = ERR_INTERNAL, r;
	bool		 failed = false;
	char		*path = NULL, *live = NULL;
	size_t		 k;

	if (!store_name_ok(name)) {
		rc = ERR_USAGE;
		goto out;
	}
	/* The conf first, like certbot: a half-deleted lineage must not be
	 * picked up by the next renew. */
	if ((path = store_conf_path(st, name)) == NULL)
		goto out;
	if (unlink(path) == -1 && errno != ENOENT) {
		log_error("cannot remove %s: %s", path, strerror(errno));
		failed = true;
	}
	if ((live = store_pathf("%s/live/%s", st->config_dir, name)) == NULL)
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
	if ((path = store_pathf("%s/archive/%s", st->config_dir,
	    name)) == NULL)
		goto out;
	if ((r = store_remove_files(path)) != ERR_OK)
		failed = true;
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
store_lineage_dir(const struct store *st, const char *name,
    enum store_area area)
{
	if (!store_name_ok(name))
		return NULL;
	return store_pathf("%s/%s/%s", st->config_dir, store_areas[area],
	    name);
}

/* See store.h. */
bool
store_lineage_exists(const struct store *st, const char *name)
{
	struct stat	 sb;
	char		*path[3] = { NULL, NULL, NULL };
	bool		 found = false;
	size_t		 i;

	path[0] = store_conf_path(st, name);
	path[1] = store_lineage_dir(st, name, STORE_LIVE);
	path[2] = store_lineage_dir(st, name, STORE_ARCHIVE);
	for (i = 0; i < 3; i++)
		if (path[i] != NULL && lstat(path[i], &sb) == 0)
			found = true;
	for (i = 0; i < 3; i++)
		free(path[i]);
	return found;
}

/*
 * The NAME of config_dir/archive/NAME/ that path is in once symlinks are
 * resolved (live/NAME/cert.pem points there).  New string, caller frees;
 * NULL if the file is not in a lineage.
 */
char *
store_lineage_of_path(const struct store *st, const char *path)
{
	char	*dir = NULL, *file = NULL, *name = NULL, *p;
	size_t	 len;

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
	name = strndup(p, len);
	if (name != NULL && store_lineage_name_problem(name) != NULL) {
		free(name);
		name = NULL;
	}
out:
	free(dir);
	free(file);
	return name;
}

/* See store.h. */
enum err
store_csr_save(const struct store *st, const char *name, const char *pem,
    char **path_out)
{
	char		*dir = NULL, *path = NULL;
	enum err	 rc = ERR_USAGE;

	*path_out = NULL;
	if (!store_name_ok(name))
		goto out;
	rc = ERR_INTERNAL;
	if ((dir = store_pathf("%s/csr", st->config_dir)) == NULL ||
	    (path = store_pathf("%s/%s.pem", dir, name)) == NULL)
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

/* ---- certbot's hook directories ---- */

static const char *const store_hook_dirs[] = { "pre", "deploy", "post" };
_Static_assert(sizeof store_hook_dirs / sizeof store_hook_dirs[0] ==
    STORE_HOOKS__COUNT, "one directory per hook kind");

/* New string (see store.h), caller frees. */
char *
store_hooks_dir(const struct store *st, enum store_hooks which)
{
	return store_pathf("%s/renewal-hooks/%s", st->config_dir,
	    store_hook_dirs[which]);
}

/* ---- renewal confs ---- */

/* New string (see store.h), caller frees. */
char *
store_conf_path(const struct store *st, const char *name)
{
	if (!store_name_ok(name))
		return NULL;
	return store_pathf("%s/renewal/%s.conf", st->config_dir, name);
}

static int
store_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* *names and each name are new; the caller frees them (see store.h). */
enum err
store_list_lineages(const struct store *st, char ***names, size_t *n)
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
