/*
 * log.h: diagnostics.  Everything a human reads goes to stderr and, once
 * log_open_file() succeeded, to the log file.  Nothing here ever writes to
 * stdout: stdout belongs to the protocol (solver_json.c).
 */
#ifndef EXTAUTH_LOG_H
#define EXTAUTH_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL__COUNT
};

/* verbosity: 0 = errors+warnings+info, >=1 debug; quiet: errors only. */
void	log_init(int verbosity, bool quiet);
/*
 * How many old log files log_open_file keeps (--max-log-backups, as
 * certbot's): each run rotates DIR/extauth.log to extauth.log.1, .1 to .2
 * ... up to .N and starts a new file; 0 means no rotation, one file
 * appended to.  Default LOG_BACKUPS_DEFAULT.
 */
#define LOG_BACKUPS_DEFAULT	1000
void	log_set_backups(long n);
/*
 * Opens this run's DIR/extauth.log, mode 0600, after the rotation.  Never
 * follows a symlink planted at any of the names and never opens anything
 * but a regular file; failure is only a warning.
 */
void	log_open_file(const char *dir);
void	log_close(void);
void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * The text of the last error logged, for the report line and exit_hook;
 * "" if none.  A two-line error (what is wrong, what to do: two error
 * lines with nothing else between) is both lines joined by "; ".
 */
const char *log_last_error(void);

/*
 * Every message is escaped on its way out: control characters other than
 * newline and tab, DEL and the C1 controls become \xNN, so text from
 * outside (a handler's output, an invoker's error, a CA's problem detail)
 * cannot move the cursor, recolour the terminal or rewrite a line.
 *
 * log_quote also escapes newline (and tab): for outside text placed inside
 * one line of ours, where a newline would start a line that looks like
 * ours ("extauth: error: ...").  Writes at most len bytes to buf (cut with
 * "..." when longer) and returns buf.
 */
#define LOG_QUOTE_MAX	1024	/* a good len for log_quote's buffer */

/*
 * A wait someone may be watching (DNS propagation, polling the CA, the
 * random delay of renew): on a terminal, once it has lasted
 * LOG_PROGRESS_AFTER_MS, one line on stderr updated in place ("waiting
 * 12 s of at most 300 s for WHAT").  Nothing when stderr is not a
 * terminal, under -q or to the journal.  log_progress_begin starts the
 * clock (called again with the same what, it keeps it); sig_sleep_ms calls
 * log_progress_tick; any other log line first clears the progress line;
 * log_progress_end clears it for good.  what must outlive the wait.
 */
#define LOG_PROGRESS_AFTER_MS	2000
void	log_progress_begin(const char *what, long limit_s);
void	log_progress_tick(void);
void	log_progress_end(void);
const char	*log_quote(const char *s, char *buf, size_t len);

#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
