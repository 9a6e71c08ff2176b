/*
 * log.h: diagnostics.  Everything a human reads goes to stderr and, once
 * log_open_file() succeeded, to the log file.  Nothing here ever writes to
 * stdout: stdout belongs to the protocol (solver_json.c).
 */
#ifndef EXTAUTH_LOG_H
#define EXTAUTH_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL__COUNT
};

/* verbosity: 0 = errors+warnings+info, >=1 debug; quiet: errors only. */
void	log_init(int verbosity, bool quiet);
/* Opens (appends) DIR/extauth.log, mode 0600; failure is only a warning. */
void	log_open_file(const char *dir);
void	log_close(void);
void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* The text of the last error logged (for the report line); "" if none. */
const char *log_last_error(void);

#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
