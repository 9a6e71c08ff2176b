/*
 * spawn.h: running another program the way tmux's job.c does it: execve
 * of an explicit argv and envp (never a shell), stdin from /dev/null (or a
 * given fd), stdout and stderr captured through pipes (never our stdout),
 * every other fd closed, its own process group, a timeout after which the
 * whole group is killed.
 */
#ifndef EXTAUTH_SPAWN_H
#define EXTAUTH_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

#define SPAWN_OUTPUT_MAX	(256 * 1024)	/* cap per captured stream */

struct spawn_result {
	int	 exit_code;	/* exit status, or -1 if signalled/not run */
	int	 signal;	/* terminating signal or 0 */
	bool	 timed_out;	/* killed by us after the timeout */
	bool	 exec_failed;	/* execve failed; exec_errno says why */
	int	 exec_errno;
	char	*out;		/* captured stdout, NUL-terminated, capped */
	size_t	 out_len;
	char	*err;		/* captured stderr, NUL-terminated, capped */
	size_t	 err_len;
};

/*
 * Runs argv[0] (a path; looked up in PATH only if it has no '/') with argv
 * and envp, waits at most timeout_ms (0: no limit) and fills *res (caller
 * clears with spawn_result_clear).  stdin_fd < 0 means /dev/null.
 * Returns 0 when the program ran (whatever its exit), -1 (logged with the
 * path and the reason) when it could not be started or was killed.
 */
int	spawn_run(char *const argv[], char *const envp[], int stdin_fd,
	    long timeout_ms, struct spawn_result *res);
void	spawn_result_clear(struct spawn_result *);

#endif
