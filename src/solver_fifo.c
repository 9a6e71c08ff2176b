/*
 * solver_fifo.c: the two named pipes of --fifo DIR.  It owns their names,
 * their checks and the opening; what flows through them is JSON mode's
 * (solver.c writes the lines, solver_json.c reads the replies), exactly
 * as on stdin/stdout.
 *
 * Opening a FIFO blocks until the other end is opened too, and a driver
 * that never comes must not hang the run: replies is opened for reading
 * with O_NONBLOCK, which returns at once (an invoker's write-open then
 * never blocks either, whichever pipe it opens first); events is opened
 * for writing with O_NONBLOCK, which fails with ENXIO until some process
 * has it open for reading.  The kernel offers no event for "a reader has
 * arrived" (the reader's blocking open sleeps inside open(2), before
 * inotify hears of it), so the write-open is retried, from 5 ms backing
 * off to 200 ms, until the --handler-timeout deadline; a signal ends the
 * wait at once.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sig.h"
#include "solver_fifo.h"

#define FIFO_EVENTS	"events"	/* extauth writes, the invoker reads */
#define FIFO_REPLIES	"replies"	/* the invoker writes, extauth reads */
#define FIFO_WAIT_MIN_MS	5
#define FIFO_WAIT_MAX_MS	200

static long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Whether st (lstat of DIR/name) may be used: a FIFO, not a link, of this
 * user, that no other user may open.  Logs what is wrong and what to do.
 */
static bool
fifo_usable(const char *dir, const char *name, const struct stat *st)
{
	const char	*todo = "remove it, or give another --fifo DIR: "
			    "extauth creates the FIFOs itself (mode 0600)";

	if (S_ISLNK(st->st_mode))
		log_error("--fifo: %s/%s is a symbolic link, which extauth "
		    "does not follow", dir, name);
	else if (!S_ISFIFO(st->st_mode))
		log_error("--fifo: %s/%s exists and is not a FIFO", dir, name);
	else if (st->st_uid != geteuid())
		log_error("--fifo: %s/%s belongs to uid %lu, not to this user "
		    "(uid %lu)", dir, name, (unsigned long)st->st_uid,
		    (unsigned long)geteuid());
	else if ((st->st_mode & 077) != 0) {
		log_error("--fifo: others may open %s/%s (mode %03o): they "
		    "could read the challenges or answer for the invoker", dir,
		    name, (unsigned)(st->st_mode & 0777));
		todo = "chmod 600 it, or remove it and extauth creates it";
	} else
		return true;
	log_error("%s", todo);
	return false;
}

/*
 * DIR/name, created as a FIFO (0600) if missing, checked, and opened with
 * flags plus O_NONBLOCK; *fd is -1 with errno ENXIO (not logged) when it
 * is a write-open and nobody reads yet.  The open's own fstat must find
 * the file that was checked (not one swapped in between).
 */
static enum err
fifo_open_one(int dfd, const char *dir, const char *name, int flags, int *fd)
{
	struct stat	before, after;

	*fd = -1;
	if (mkfifoat(dfd, name, 0600) == -1 && errno != EEXIST) {
		log_error("--fifo: cannot create %s/%s: %s", dir, name,
		    strerror(errno));
		log_error("give a directory of yours that you can write");
		return ERR_USAGE;
	}
	if (fstatat(dfd, name, &before, AT_SYMLINK_NOFOLLOW) == -1) {
		log_error("--fifo: %s/%s: %s", dir, name, strerror(errno));
		log_error("give a directory of yours that you can write");
		return ERR_USAGE;
	}
	if (!fifo_usable(dir, name, &before))
		return ERR_USAGE;
	if ((*fd = openat(dfd, name, flags | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENXIO)
			return ERR_OK;
		log_error("--fifo: cannot open %s/%s: %s", dir, name,
		    strerror(errno));
		log_error("give a directory of yours that you can write");
		return ERR_USAGE;
	}
	if (fstat(*fd, &after) == -1) {
		log_error("--fifo: %s/%s: %s", dir, name, strerror(errno));
		log_error("run again");
	} else if (after.st_dev != before.st_dev ||
	    after.st_ino != before.st_ino) {
		log_error("--fifo: %s/%s was replaced while it was opened",
		    dir, name);
		log_error("run again, and let nobody else write to %s", dir);
	} else if (fifo_usable(dir, name, &after))
		return ERR_OK;
	close(*fd);
	*fd = -1;
	return ERR_USAGE;
}

/*
 * Waits for a reader of DIR/events: the write-open, retried until one
 * comes, the deadline (0: none) passes or a signal arrives.
 */
static enum err
fifo_open_events(int dfd, const char *dir, long timeout_ms, int *fd)
{
	long		 deadline = 0, left, wait = FIFO_WAIT_MIN_MS;
	enum err	 e;
	bool		 shown = false;

	if (timeout_ms > 0)
		deadline = now_ms() + timeout_ms;
	for (;;) {
		if ((e = fifo_open_one(dfd, dir, FIFO_EVENTS, O_WRONLY, fd)) !=
		    ERR_OK || *fd != -1)
			break;
		if (sig_pending() != 0) {
			e = ERR_SIGNAL;
			break;
		}
		left = deadline != 0 ? deadline - now_ms() : FIFO_WAIT_MAX_MS;
		if (left <= 0) {
			log_error("nobody opened %s/%s for reading within %g s "
			    "(--handler-timeout): the invoker is not there",
			    dir, FIFO_EVENTS, (double)timeout_ms / 1000);
			log_error("start the invoker first: it reads %s/%s "
			    "and writes its replies to %s/%s", dir, FIFO_EVENTS,
			    dir, FIFO_REPLIES);
			e = ERR_INVOKER;
			break;
		}
		if (!shown) {
			log_info("waiting for the invoker to open %s/%s", dir,
			    FIFO_EVENTS);
			log_progress_begin("the invoker to open the --fifo "
			    "pipes", timeout_ms / 1000);
			shown = true;
		}
		sig_sleep_ms(wait < left ? wait : left);
		if ((wait *= 2) > FIFO_WAIT_MAX_MS)
			wait = FIFO_WAIT_MAX_MS;
	}
	if (shown)
		log_progress_end();
	return e;
}

enum err
solver_fifo_open(const char *dir, long timeout_ms, int *in_fd, int *out_fd)
{
	struct stat	 st;
	int		 dfd, flags;
	enum err	 e = ERR_USAGE;

	*in_fd = *out_fd = -1;
	/* DIR itself is not followed either when it is a link (Linux says
	 * ENOTDIR for O_DIRECTORY | O_NOFOLLOW on one: lstat tells). */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_error("--fifo %s: %s", dir, lstat(dir, &st) == 0 &&
		    S_ISLNK(st.st_mode) ? "a symbolic link, which extauth "
		    "does not follow" : strerror(errno));
		log_error("give the directory itself, one of yours that you "
		    "can write");
		return ERR_USAGE;
	}
	/* replies first: from then on the invoker's write-open returns at
	 * once, so it may open the pipes in either order. */
	if ((e = fifo_open_one(dfd, dir, FIFO_REPLIES, O_RDONLY, in_fd)) !=
	    ERR_OK ||
	    (e = fifo_open_events(dfd, dir, timeout_ms, out_fd)) != ERR_OK)
		goto out;
	/* Lines are written as to stdout: a reader that stops reading
	 * stops us, as a full pipe on stdout would. */
	if ((flags = fcntl(*out_fd, F_GETFL)) == -1 ||
	    fcntl(*out_fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		log_error("--fifo: %s/%s: %s", dir, FIFO_EVENTS,
		    strerror(errno));
		e = ERR_INTERNAL;
		goto out;
	}
	log_info("the invoker is on %s/%s and %s/%s", dir, FIFO_EVENTS, dir,
	    FIFO_REPLIES);
	e = ERR_OK;
out:
	if (e != ERR_OK) {
		if (*in_fd != -1)
			close(*in_fd);
		if (*out_fd != -1)
			close(*out_fd);
		*in_fd = *out_fd = -1;
	}
	close(dfd);
	return e;
}
