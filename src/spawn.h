/*
 * spawn.h: running another program the way tmux's job.c does it: execve
 * of an explicit argv and envp (never a shell), stdin from /dev/null (or a
 * given fd), stdout and stderr captured through pipes (never our stdout),
 * every other fd closed, its own process group, a timeout after which the
 * whole group is killed, and the same kill when extauth is told to stop
 * (sig.c) while the program runs.
 *
 * spawn.c logs nothing but debug lines: it fills spawn_result, including
 * a sentence saying what went wrong, and the caller reports it once.
 */
#ifndef EXTAUTH_SPAWN_H
#define EXTAUTH_SPAWN_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPAWN_OUTPUT_MAX	(256 * 1024)	/* cap per captured stream */
#define SPAWN_WHY_MAX		256		/* cap on spawn_result.why */

enum spawn_stream {
	SPAWN_OUT,
	SPAWN_ERR,
	SPAWN_STATUS,		/* exec errno from the child */
	SPAWN_STREAM__COUNT
};

/* One captured stream: a buffer capped at SPAWN_OUTPUT_MAX. */
struct spawn_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	bool	 truncated;
};

struct spawn_result {
	int	 exit_code;	/* exit status, or -1 if signalled/not run */
	int	 signal;	/* terminating signal or 0 */
	bool	 timed_out;	/* killed by us after the timeout */
	int	 interrupted;	/* killed by us because of this signal (sig.c) */
	bool	 exec_failed;	/* execve failed; exec_errno says why */
	int	 exec_errno;
	char	*out;		/* captured stdout, NUL-terminated, capped */
	size_t	 out_len;
	char	*err;		/* captured stderr, NUL-terminated, capped */
	size_t	 err_len;
	/* When the program did not run to an exit: why, as a sentence
	 * fragment without the program's name ("timed out after 1 s"). */
	char	 why[SPAWN_WHY_MAX];
};

/*
 * A running program: what spawn_start set up and spawn_wait watches.
 * Everything in it is spawn.c's; the caller only holds it (on its stack)
 * between spawn_start and spawn_collect.
 */
struct spawn_job {
	pid_t			 pid;
	const char		*path;		/* argv[0], borrowed */
	long			 timeout_ms;
	int			 fds[SPAWN_STREAM__COUNT];
	struct spawn_buf	 bufs[SPAWN_STREAM__COUNT];
	int64_t			 deadline;	/* 0: none */
	int64_t			 kill_at;	/* SIGKILL after the grace */
	int64_t			 linger;	/* stop reading pipes at */
	int			 status;	/* waitpid status */
	bool			 reaped;
	bool			 killed;	/* group is gone or had SIGKILL */
	bool			 stopping;	/* SIGTERM sent to the group */
	bool			 watch_signal;	/* no signal pending at start */
	bool			 failed;	/* setup or wait failed: why set */
	struct spawn_result	 res;
};

/*
 * Starts argv[0] (a path; looked up in PATH only if it has no '/') with
 * argv and envp; stdin_fd < 0 means /dev/null; timeout_ms 0 means no
 * limit.  Returns 0, or -1 with job->res.why set (the job must still be
 * passed to spawn_collect).  A program started while a signal is pending
 * (a cleanup after SIGTERM) is not killed for that signal.
 */
int	spawn_start(struct spawn_job *, char *const argv[],
	    char *const envp[], int stdin_fd, long timeout_ms);
/*
 * Reads the program's output until it exited (and its pipes closed or
 * lingered out), killing its process group on timeout or on a signal
 * received meanwhile.  Returns 0, or -1 with why set.
 */
int	spawn_wait(struct spawn_job *);
/*
 * Reaps the program, closes what is left and moves the result to *res
 * (caller clears it with spawn_result_clear).  Returns 0 when the program
 * ran to an exit, whatever its status; -1 when it could not be started,
 * failed to exec, timed out, was interrupted or died of a signal (res->why
 * says which).
 */
int	spawn_collect(struct spawn_job *, struct spawn_result *res);

/* spawn_start, spawn_wait and spawn_collect in one call. */
int	spawn_run(char *const argv[], char *const envp[], int stdin_fd,
	    long timeout_ms, struct spawn_result *res);
void	spawn_result_clear(struct spawn_result *);

#endif
