/*
 * store.c: the primitives every part of the config directory is written
 * with (store.h): directory creation, the run lock and certbot's locks,
 * atomic file writes, reads that never follow a planted link, and the
 * sweep after an interrupted run.  What lives in it is store_account.c's
 * (accounts/) and store_lineage.c's (live/, archive/, renewal/, csr/);
 * nothing else opens files in the config directory.
 */
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
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_priv.h"

#define STORE_SWEEP_DEPTH	16	/* levels below the config dir */

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

static enum err	 store_dir_trusted(const char *, bool);

/* Formats a path; new string the caller frees, NULL (logged) if it would
 * be longer than STORE_PATH_MAX or memory ran out. */
char *
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
const char *
store_shown(const char *s, char *buf, size_t size)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
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
enum err
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

/*
 * The first half of an atomic write: data in a new temp file beside path
 * (.NAME.extauth.XXXXXX, which the sweep after a killed run removes), with
 * exactly mode, fsynced when sync.  *tmp and *dir are new strings the
 * caller frees; on failure (logged) no temp file is left and both are
 * NULL.
 */
enum err
store_write_temp(const char *path, const void *data, size_t len, mode_t mode,
    bool sync, char **tmp, char **dir)
{
	const char	*base, *p = data;
	enum err	 rc = ERR_STORAGE;
	ssize_t		 w;
	bool		 have_tmp = false;
	int		 fd = -1, saved;

	*tmp = *dir = NULL;
	base = strrchr(path, '/');
	base = base == NULL ? path : base + 1;
	if (base[0] == '\0') {
		log_error("cannot write %s: not a file name", path);
		goto out;
	}
	if ((*dir = store_dirname(path)) == NULL ||
	    (*tmp = store_pathf("%s/.%s" STORE_TEMP_TAG "XXXXXX", *dir,
	    base)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	if ((fd = mkostemp(*tmp, O_CLOEXEC)) == -1) {
		saved = errno;
		log_error("cannot create %s: %s", *tmp, strerror(saved));
		store_denied_hint(saved);
		goto out;
	}
	have_tmp = true;
	/* Before any byte is written: a key must never sit in a file that
	 * others can read, not even for a moment, whatever the umask. */
	if (fchmod(fd, mode & 07777) == -1) {
		log_error("cannot chmod %s: %s", *tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_error("cannot write %s: %s", *tmp, strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (sync && fsync(fd) == -1) {
		log_error("cannot fsync %s: %s", *tmp, strerror(errno));
		goto out;
	}
	w = close(fd);
	fd = -1;
	if (w == -1) {
		log_error("cannot close %s: %s", *tmp, strerror(errno));
		goto out;
	}
	rc = ERR_OK;
out:
	if (fd != -1)
		close(fd);
	if (rc != ERR_OK) {
		if (have_tmp && unlink(*tmp) == -1)
			log_warn("cannot remove %s: %s", *tmp,
			    strerror(errno));
		free(*tmp);
		free(*dir);
		*tmp = *dir = NULL;
	}
	return rc;
}

enum err
store_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char		*dir = NULL, *tmp = NULL;
	enum err	 rc;

	if ((rc = store_write_temp(path, data, len, mode, true, &tmp, &dir)) !=
	    ERR_OK)
		goto out;
	rc = ERR_STORAGE;
	if (rename(tmp, path) == -1) {
		log_error("cannot rename %s to %s: %s", tmp, path,
		    strerror(errno));
		if (unlink(tmp) == -1)
			log_warn("cannot remove %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = store_fsync_dir(dir);
out:
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
char *
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
size_t
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
 * The locks.  All are fcntl open file description locks (F_OFD_SETLK,
 * Linux 3.15): they belong to one open of the file, not to the process,
 * so two threads (renew's workers) or two stores of one process exclude
 * each other as two processes do, and closing another descriptor of the
 * same file drops nothing.  To the kernel they are POSIX record locks, so
 * they and certbot's lockf() exclude each other, locally and over NFS.
 * Like every fcntl lock they go with the process: a crash or a SIGKILL
 * leaves no stale lock behind, only the debris store_recover() tidies.
 *
 *   .extauth.lock byte 0, the run lock: each run holds it shared for its
 *     whole life; a run that gets it exclusive at the start is alone and
 *     tidies up after runs that died (store_lock).
 *   .extauth.lock byte 1, the config-dir lock: exclusive and short, for
 *     what touches the whole directory (store_dir_lock).
 *   renewal/NAME.lock, one per lineage (store_lineage_lock).
 *   .certbot.lock in the config, work and logs dirs: certbot's.  Held
 *     shared, so extauth runs coexist while certbot's exclusive lockf
 *     fails as long as one runs, and ours fails while certbot runs.
 */
#define STORE_RUN_BYTE		0
#define STORE_DIR_BYTE		1
#define STORE_MARKS_MAX		(64 * 1024)	/* cap on the pid list */

/* See store_priv.h. */
int
store_ofd_lock(int fd, short type, off_t start, off_t len, bool wait)
{
	struct flock	fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	/* Waits are short (a run tidying up, an account being made): a
	 * signal meanwhile is seen once the lock is ours. */
	while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == -1) {
		if (errno == EINTR && wait)
			continue;
		if (errno == EACCES)
			errno = EAGAIN;
		return -1;
	}
	return 0;
}

/* See store_priv.h. */
enum err
store_lock_path(const char *path, short type, int *fdp, pid_t *holder)
{
	struct flock	 fl;
	struct stat	 sb_path, sb_fd;
	enum err	 rc = ERR_STORAGE;
	int		 fd = -1, tries, saved;

	*fdp = -1;
	*holder = 0;
	for (tries = 0; tries < STORE_LINK_TRIES; tries++) {
		/* Never through a planted link: the run list written into
		 * .extauth.lock would truncate whatever it points at. */
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY |
		    O_NOFOLLOW | O_NONBLOCK, 0600)) == -1) {
			saved = errno;
			log_error("cannot open lock file %s: %s", path,
			    saved == ELOOP ? "it is a symbolic link" :
			    strerror(saved));
			store_denied_hint(saved);
			goto out;
		}
		if (fstat(fd, &sb_fd) == -1 || !S_ISREG(sb_fd.st_mode)) {
			log_error("cannot use lock file %s: not a regular "
			    "file", path);
			goto out;
		}
		if (store_ofd_lock(fd, type, 0, 0, false) == -1) {
			if (errno != EAGAIN) {
				log_error("cannot lock %s: %s", path,
				    strerror(errno));
				goto out;
			}
			/* A POSIX lock (certbot's) names its process; an
			 * open file description lock (ours) does not. */
			memset(&fl, 0, sizeof fl);
			fl.l_type = type;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_OFD_GETLK, &fl) == 0 &&
			    fl.l_type != F_UNLCK && fl.l_pid > 0)
				*holder = fl.l_pid;
			rc = ERR_LOCKED;
			goto out;
		}
		/* A holder that deletes the file as it lets go (certbot,
		 * store_lineage_delete) leaves a lock on a deleted file,
		 * which protects nothing: open again. */
		if (stat(path, &sb_path) == 0 &&
		    sb_path.st_dev == sb_fd.st_dev &&
		    sb_path.st_ino == sb_fd.st_ino) {
			*fdp = fd;
			fd = -1;
			rc = ERR_OK;
			goto out;
		}
		close(fd);
		fd = -1;
	}
	log_error("cannot lock %s: it keeps being replaced", path);
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* See store.h.  A descriptor of its own each time, so that two threads
 * exclude each other too. */
enum err
store_dir_lock(const struct store *st, bool wait, int *fdp)
{
	enum err	 rc = ERR_STORAGE;
	char		*path = NULL;
	int		 fd = -1;

	*fdp = -1;
	if ((path = store_pathf("%s/.extauth.lock", st->config_dir)) ==
	    NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		log_error("cannot open lock file %s: %s", path,
		    errno == ELOOP ? "it is a symbolic link" :
		    strerror(errno));
		goto out;
	}
	if (store_ofd_lock(fd, F_WRLCK, STORE_DIR_BYTE, 1, wait) == -1) {
		if (errno == EAGAIN)
			rc = ERR_LOCKED;
		else
			log_error("cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	*fdp = fd;
	fd = -1;
	rc = ERR_OK;
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

void
store_dir_unlock(int *fdp)
{
	if (*fdp != -1)
		close(*fdp);
	*fdp = -1;
}

/*
 * After runs that did not end cleanly (killed, crashed, power cut):
 * removes the temporary files they left in the config and work
 * directories and completes live/ links they left half flipped.  Only a
 * run that is alone calls it, so nobody else is writing.
 */
static void
store_recover(struct store *st)
{
	size_t	n = 0;
	int	fd;

	log_info("a previous run on %s did not finish; tidying up after it",
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
	store_lineage_repair_links(st);
}

/*
 * The run marks: .extauth.lock lists the pid of every run going on, one a
 * line, edited under the config-dir lock and synced before the run writes
 * anything else; a run that ends cleanly removes its line.  So a run that
 * is alone (alone: it holds the run lock exclusively) and finds lines
 * there knows those runs died: it tidies up after them and starts the
 * list afresh.  add false removes our line.
 */
static enum err
store_mark(struct store *st, const char *path, bool add, bool alone)
{
	enum err	 rc;
	ssize_t		 n;
	size_t		 len, llen, at;
	char		*buf = NULL, line[32];
	int		 dfd = -1;

	if ((rc = store_dir_lock(st, true, &dfd)) != ERR_OK)
		return rc;
	rc = ERR_INTERNAL;
	if ((buf = malloc(STORE_MARKS_MAX + sizeof line)) == NULL) {
		log_error("out of memory");
		goto out;
	}
	rc = ERR_STORAGE;
	if ((n = pread(st->lock_fd, buf, STORE_MARKS_MAX, 0)) == -1) {
		log_error("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	len = (size_t)n;
	if (add && alone && len > 0) {
		store_recover(st);
		len = 0;
	}
	llen = (size_t)snprintf(line, sizeof line, "%ld\n", (long)getpid());
	if (add) {
		/* A list at its cap is debris (runs that died while others
		 * went on): the next run alone clears it. */
		if (len + llen <= STORE_MARKS_MAX) {
			memcpy(buf + len, line, llen);
			len += llen;
		}
	} else {
		for (at = 0; at + llen <= len; at++) {
			if ((at == 0 || buf[at - 1] == '\n') &&
			    memcmp(buf + at, line, llen) == 0) {
				memmove(buf + at, buf + at + llen,
				    len - at - llen);
				len -= llen;
				break;
			}
		}
	}
	/* Shorter first, then the rest: a crash in between leaves a list
	 * that is at worst too long, which only costs a sweep. */
	if (ftruncate(st->lock_fd, (off_t)len) == -1 ||
	    (len > 0 && pwrite(st->lock_fd, buf, len, 0) != (ssize_t)len) ||
	    fdatasync(st->lock_fd) == -1) {
		log_error("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	st->marked = add;
	rc = ERR_OK;
out:
	free(buf);
	store_dir_unlock(&dfd);
	return rc;
}

/*
 * One of certbot's locks, as certbot's lock.py takes it (a POSIX record
 * lock on the whole of DIR/.certbot.lock, created 0600, checked not to
 * have been replaced), but shared: see the lock list above.  On success
 * the fd is kept in st; ERR_LOCKED (logged, with the holder) if certbot
 * holds it.
 */
static enum err
store_lock_certbot_dir(struct store *st, const char *dir)
{
	enum err	 rc = ERR_INTERNAL;
	char		*path = NULL, comm[64] = "", proc[64];
	pid_t		 holder;
	FILE		*f;
	int		 fd = -1;

	if ((path = store_pathf("%s/.certbot.lock", dir)) == NULL)
		goto out;
	rc = store_lock_path(path, F_RDLCK, &fd, &holder);
	if (rc == ERR_LOCKED) {
		/* Who holds it: certbot, normally. */
		if (holder > 0) {
			snprintf(proc, sizeof proc, "/proc/%ld/comm",
			    (long)holder);
			if ((f = fopen(proc, "re")) != NULL) {
				if (fgets(comm, sizeof comm, f) == NULL)
					comm[0] = '\0';
				comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			log_error("%s is in use by %s (pid %ld), which holds "
			    "%s", dir, comm[0] != '\0' ? comm :
			    "another program", (long)holder, path);
		} else
			log_error("%s is in use by another certbot or extauth, "
			    "which holds %s", dir, path);
		log_error("wait for it to finish, then run again");
	}
	if (rc != ERR_OK)
		goto out;
	st->certbot_fd[st->n_certbot] = fd;
	st->certbot_path[st->n_certbot] = path;
	st->n_certbot++;
	path = NULL;
out:
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
		/* One directory given twice is locked once. */
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
	struct stat	 sb;
	enum err	 rc = ERR_STORAGE;
	char		*path = NULL;
	bool		 alone = false;
	int		 fd = -1, saved;

	if (st->lock_fd != -1)
		return ERR_OK;
	if ((path = store_pathf("%s/.extauth.lock", st->config_dir)) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
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
	/* Alone, or else shared with the runs going on; the wait is only
	 * for a run that is alone and tidying up. */
	if (store_ofd_lock(fd, F_WRLCK, STORE_RUN_BYTE, 1, false) == 0)
		alone = true;
	else if (errno != EAGAIN || store_ofd_lock(fd, F_RDLCK,
	    STORE_RUN_BYTE, 1, true) == -1) {
		log_error("cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	st->lock_fd = fd;
	fd = -1;
	if ((rc = store_lock_certbot(st)) != ERR_OK ||
	    (rc = store_mark(st, path, true, alone)) != ERR_OK)
		goto out;
	if (alone && store_ofd_lock(st->lock_fd, F_RDLCK, STORE_RUN_BYTE, 1,
	    false) == -1) {
		log_error("cannot lock %s: %s", path, strerror(errno));
		rc = ERR_STORAGE;
		goto out;
	}
	st->alone = alone;
	log_debug("%s: run lock taken (%s)", st->config_dir, alone ? "alone" :
	    "beside other runs");
	rc = ERR_OK;
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

void
store_close(struct store *st)
{
	char	*path;
	size_t	 i;

	/* As certbot lets go: remove the file, then close (see lock.py on
	 * why in this order) - but only when no other extauth holds it
	 * too, or certbot could take it while that one runs. */
	for (i = st->n_certbot; i > 0; i--) {
		if (store_ofd_lock(st->certbot_fd[i - 1], F_WRLCK, 0, 0,
		    false) == 0)
			(void)unlink(st->certbot_path[i - 1]);
		close(st->certbot_fd[i - 1]);
		free(st->certbot_path[i - 1]);
	}
	if (st->lock_fd != -1) {
		/* A clean end: our line goes from the run list.  If this is
		 * lost, a later run merely sweeps once for nothing. */
		if (st->marked && (path = store_pathf("%s/.extauth.lock",
		    st->config_dir)) != NULL) {
			(void)store_mark(st, path, false, false);
			free(path);
		}
		close(st->lock_fd);
	}
	free(st->config_dir);
	free(st->work_dir);
	free(st->logs_dir);
	memset(st, 0, sizeof *st);
	st->lock_fd = -1;
}

/* Removes the files of dir (not subdirectories) and dir itself if that
 * left it empty; a missing dir is fine. */
enum err
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
