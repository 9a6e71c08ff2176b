/*
 * log.c: stderr and log-file diagnostics.  The file gets every level with a
 * timestamp; stderr gets what the verbosity asks for, one line each.  Owns
 * the escaping of control characters in everything logged (log_quote).
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Each level's word and its sd-daemon(3) priority (syslog's numbers). */
static const struct {
	const char	*name;
	int		 prio;
} log_levels[] = {
	[LOG_LEVEL_ERROR] = { "error", 3 },
	[LOG_LEVEL_WARN] = { "warning", 4 },
	[LOG_LEVEL_INFO] = { "info", 6 },
	[LOG_LEVEL_DEBUG] = { "debug", 7 },
};
_Static_assert(sizeof(log_levels) / sizeof(log_levels[0]) == LOG_LEVEL__COUNT,
    "log_levels must name every level");

#define LOG_FILE_NAME	"extauth.log"

static int	 log_verbosity;
static long	 log_backups = LOG_BACKUPS_DEFAULT;
static bool	 log_quiet;
static bool	 log_journal;	/* stderr is systemd's journal stream */
static bool	 log_tty;	/* stderr is a terminal */

/* The wait on show (log_progress_begin); what == NULL: none. */
static struct {
	const char	*what;
	long		 limit_s;
	int64_t		 start_ms;
	bool		 drawn;		/* the line is on the screen */
} log_wait;
static FILE	*log_fp;
static pthread_mutex_t	 log_mu = PTHREAD_MUTEX_INITIALIZER;
/* Per thread: renew's workers (renew_pool.c) each report their own. */
static _Thread_local char	 log_last[1024];
/*
 * How many error lines log_last holds.  An error is said in two lines,
 * what is wrong and then what to do; the report line and exit_hook carry
 * both, joined by "; ".  An info or warning line in between ends it.
 */
static _Thread_local int	 log_last_lines;

/*
 * systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected to
 * our stderr; if stderr is still that stream (not redirected by a script
 * in between), lines get priority prefixes.
 */
static bool
log_stderr_is_journal(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 st;
	int			 n = 0;

	if (v == NULL || sscanf(v, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    v[n] != '\0' || fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int verbosity, bool quiet)
{
	log_verbosity = verbosity;
	log_quiet = quiet;
	log_journal = log_stderr_is_journal();
	log_tty = isatty(STDERR_FILENO) == 1;
}

static int64_t
log_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes the progress line off the screen (the cursor back at column 0). */
static void
log_progress_clear(void)
{
	if (!log_wait.drawn)
		return;
	fputs("\r\x1b[K", stderr);
	fflush(stderr);
	log_wait.drawn = false;
}

/* The progress line is one for the process: under log_mu, like the
 * lines it shares stderr with (several of renew's workers may wait). */
void
log_progress_begin(const char *what, long limit_s)
{
	pthread_mutex_lock(&log_mu);
	if (what != log_wait.what) {
		log_progress_clear();
		log_wait.what = what;
		log_wait.limit_s = limit_s;
		log_wait.start_ms = log_now_ms();
	}
	pthread_mutex_unlock(&log_mu);
}

void
log_progress_tick(void)
{
	int64_t	elapsed;

	pthread_mutex_lock(&log_mu);
	if (log_wait.what == NULL || !log_tty || log_quiet || log_journal)
		goto out;
	if ((elapsed = log_now_ms() - log_wait.start_ms) <
	    LOG_PROGRESS_AFTER_MS)
		goto out;
	/* \r and erase-line: the same line, rewritten. */
	fprintf(stderr, "\r\x1b[Kextauth: waiting %lld s of at most %ld s for "
	    "%s", (long long)(elapsed / 1000), log_wait.limit_s,
	    log_wait.what);
	fflush(stderr);
	log_wait.drawn = true;
out:
	pthread_mutex_unlock(&log_mu);
}

void
log_progress_end(void)
{
	pthread_mutex_lock(&log_mu);
	log_progress_clear();
	log_wait.what = NULL;
	pthread_mutex_unlock(&log_mu);
}


void
log_set_backups(long n)
{
	log_backups = n < 0 ? 0 : n;
}

/*
 * Shifts extauth.log.K to .K+1 for the K that exist (they are contiguous
 * from 1 when we made them; the first gap ends the scan), the oldest
 * beyond log_backups dropped, then extauth.log to .1.  renameat moves a
 * symlink itself, never what it points to.
 */
static void
log_rotate(int dfd)
{
	char		from[64], to[64];
	struct stat	st;
	long		k, top = 0;

	while (top < log_backups) {
		snprintf(from, sizeof from, LOG_FILE_NAME ".%ld", top + 1);
		if (fstatat(dfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1)
			break;
		top++;
	}
	if (top == log_backups && top > 0) {
		snprintf(from, sizeof from, LOG_FILE_NAME ".%ld", top);
		(void)unlinkat(dfd, from, 0);
		top--;
	}
	for (k = top; k >= 1; k--) {
		snprintf(from, sizeof from, LOG_FILE_NAME ".%ld", k);
		snprintf(to, sizeof to, LOG_FILE_NAME ".%ld", k + 1);
		(void)renameat(dfd, from, dfd, to);
	}
	(void)renameat(dfd, LOG_FILE_NAME, dfd, LOG_FILE_NAME ".1");
}

void
log_open_file(const char *dir)
{
	struct stat	st;
	int		dfd = -1, fd = -1, flags;

	if (log_fp != NULL || dir == NULL)
		return;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("cannot open the logs directory %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	/*
	 * O_NOFOLLOW: a symlink planted at the name is refused, not followed
	 * to a file of someone else's choosing.  O_NONBLOCK: a FIFO planted
	 * there must not hang the run; it is refused below.  With rotation
	 * the file is new (O_EXCL): nothing planted is ever appended to.
	 */
	flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	if (log_backups > 0) {
		log_rotate(dfd);
		flags |= O_EXCL;
	} else
		flags |= O_APPEND;
	if ((fd = openat(dfd, LOG_FILE_NAME, flags, 0600)) == -1) {
		/* ENXIO: a FIFO nobody reads (O_NONBLOCK). */
		log_warn("cannot open log file %s/%s: %s", dir, LOG_FILE_NAME,
		    errno == ELOOP ? "it is a symlink" : errno == ENXIO ?
		    "not a regular file" : strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warn("cannot use log file %s/%s: not a regular file", dir,
		    LOG_FILE_NAME);
		goto out;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((log_fp = fdopen(fd, "a")) != NULL)
		fd = -1;
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
}

void
log_close(void)
{
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
}

/*
 * Whether the byte at p starts a character that must not reach a terminal:
 * C0 controls except those in keep, DEL, and U+0080-U+009F (C1, which
 * some terminals obey: U+009B is CSI).  Returns its length in bytes (1 or
 * 2), or 0 for a harmless character.
 */
static size_t
log_control(const unsigned char *p, const char *keep)
{
	if (*p == '\0')
		return 0;
	if (*p < 0x20 && strchr(keep, *p) == NULL)
		return 1;
	if (*p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

/*
 * Copies s into buf (len bytes, NUL included) with each control byte as
 * \xNN; keeps the C0 controls listed in keep.  A text that does not fit
 * ends in "...".
 */
static void
log_escape(const char *s, const char *keep, char *buf, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = 0, c, i;

	if (len == 0)
		return;
	for (; *p != '\0'; p += c ? c : 1) {
		c = log_control(p, keep);
		if (n + (c ? 4 * c : 1) + 4 > len) {
			/* Room for "..." and the NUL is kept free. */
			if (n + 4 <= len) {
				memcpy(buf + n, "...", 3);
				n += 3;
			}
			break;
		}
		if (c == 0) {
			buf[n++] = (char)*p;
			continue;
		}
		for (i = 0; i < c; i++) {
			snprintf(buf + n, 5, "\\x%02x", p[i]);
			n += 4;
		}
	}
	buf[n] = '\0';
}

const char *
log_quote(const char *s, char *buf, size_t len)
{
	log_escape(s != NULL ? s : "(null)", "", buf, len);
	return buf;
}

static void
log_to_file(const char *level, const char *text)
{
	char		stamp[32];
	struct tm	tm;
	struct timespec	now;

	if (log_fp == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	/* Milliseconds: where a run spends its time is part of the story. */
	fprintf(log_fp, "%s.%03ldZ [%ld] %s: %s\n", stamp,
	    now.tv_nsec / 1000000, (long)getpid(), level, text);
	fflush(log_fp);
}

/*
 * One message on stderr.  To the journal, every line starts with its
 * priority ("<3>"), which journald strips and records (sd-daemon(3)): a
 * multi-line message keeps its level on each line.
 */
static void
log_to_stderr(enum log_level level, const char *text)
{
	const char	*nl;
	bool		 first = true;

	/* A message never lands after a half-drawn progress line. */
	log_progress_clear();
	do {
		if (log_journal)
			fprintf(stderr, "<%d>", log_levels[level].prio);
		if (first && (level == LOG_LEVEL_ERROR ||
		    level == LOG_LEVEL_WARN))
			fprintf(stderr, "extauth: %s: ", log_levels[level].name);
		first = false;
		nl = strchr(text, '\n');
		fwrite(text, 1, nl ? (size_t)(nl - text) : strlen(text),
		    stderr);
		fputc('\n', stderr);
		text = nl ? nl + 1 : NULL;
	} while (text != NULL && (*text != '\0' || !log_journal));
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	 ap;
	char	*raw = NULL, *text = NULL;
	size_t	 cap;
	bool	 show;
	int	 r;

	if ((unsigned)level >= LOG_LEVEL__COUNT)
		level = LOG_LEVEL_ERROR;
	if (log_quiet)
		show = level == LOG_LEVEL_ERROR;
	else
		show = level != LOG_LEVEL_DEBUG || log_verbosity > 0;
	/* Nobody reads it: no formatting (debug lines in loops). */
	if (!show && log_fp == NULL)
		return;
	va_start(ap, fmt);
	r = vasprintf(&raw, fmt, ap);
	va_end(ap);
	/* Escaping at most quadruples a byte; newline and tab are ours. */
	if (r != -1 && (size_t)r < SIZE_MAX / 4 - 4 &&
	    (text = malloc(cap = (size_t)r * 4 + 4)) != NULL)
		log_escape(raw, "\n\t", text, cap);
	if (r != -1)
		free(raw);
	/* One line at a time in the file and on stderr, whichever thread
	 * says it. */
	pthread_mutex_lock(&log_mu);
	log_to_file(log_levels[level].name, text ? text : "(out of memory)");
	if (level == LOG_LEVEL_ERROR && log_last_lines == 1) {
		size_t	 n = strlen(log_last);

		snprintf(log_last + n, sizeof log_last - n, "; %s",
		    text ? text : "out of memory");
		log_last_lines = 2;
	} else if (level == LOG_LEVEL_ERROR) {
		snprintf(log_last, sizeof log_last, "%s",
		    text ? text : "out of memory");
		log_last_lines = 1;
	} else if (level != LOG_LEVEL_DEBUG)
		log_last_lines = 0;

	if (show)
		log_to_stderr(level, text ? text : "(out of memory)");
	pthread_mutex_unlock(&log_mu);
	free(text);
}


const char *
log_last_error(void)
{
	return log_last;
}
