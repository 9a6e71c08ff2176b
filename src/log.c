/*
 * log.c: stderr and log-file diagnostics.  The file gets every level with a
 * timestamp; stderr gets what the verbosity asks for, one line each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *const log_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};
_Static_assert(sizeof(log_names) / sizeof(log_names[0]) == LOG_LEVEL__COUNT,
    "log_names must name every level");

static int	 log_verbosity;
static bool	 log_quiet;
static FILE	*log_fp;
static char	 log_last[1024];

void
log_init(int verbosity, bool quiet)
{
	log_verbosity = verbosity;
	log_quiet = quiet;
}


void
log_open_file(const char *dir)
{
	char	path[4096];
	int	fd;

	if (log_fp != NULL || dir == NULL)
		return;
	if ((size_t)snprintf(path, sizeof path, "%s/extauth.log", dir) >=
	    sizeof path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("cannot open log file %s: %s", path, strerror(errno));
		return;
	}
	if ((log_fp = fdopen(fd, "a")) == NULL)
		close(fd);
}

void
log_close(void)
{
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
}

static void
log_to_file(const char *level, const char *fmt, va_list ap)
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
	fprintf(log_fp, "%s.%03ldZ [%ld] %s: ", stamp, now.tv_nsec / 1000000,
	    (long)getpid(), level);
	vfprintf(log_fp, fmt, ap);
	fputc('\n', log_fp);
	fflush(log_fp);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	ap;
	bool	show;

	if ((unsigned)level >= LOG_LEVEL__COUNT)
		level = LOG_LEVEL_ERROR;
	va_start(ap, fmt);
	log_to_file(log_names[level], fmt, ap);
	va_end(ap);
	if (level == LOG_LEVEL_ERROR) {
		va_start(ap, fmt);
		vsnprintf(log_last, sizeof log_last, fmt, ap);
		va_end(ap);
	}

	if (log_quiet)
		show = level == LOG_LEVEL_ERROR;
	else
		show = level != LOG_LEVEL_DEBUG || log_verbosity > 0;
	if (!show)
		return;
	va_start(ap, fmt);
	if (level == LOG_LEVEL_ERROR || level == LOG_LEVEL_WARN)
		fprintf(stderr, "extauth: %s: ", log_names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}


const char *
log_last_error(void)
{
	return log_last;
}
