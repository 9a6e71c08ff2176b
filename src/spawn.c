/*
 * spawn.c: runs a program and collects what it says.  Owns the fork, the
 * child's fd table, signal state and process group, the capture of stdout
 * and stderr (capped), the timeout and the group kill.  Modelled on tmux's
 * job.c: signals blocked across fork, an explicit environment, every fd
 * wired on purpose, _exit on exec failure.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"

#define SPAWN_GRACE_MS		2000	/* SIGTERM to SIGKILL */
#define SPAWN_LINGER_MS		1000	/* reading after the child exited */
#define SPAWN_SLICE_MS		100	/* how often to look for the exit */
#define SPAWN_STATUS_FD		3	/* exec errno back to the parent */
#define SPAWN_DEFAULT_PATH	"/usr/bin:/bin"

enum spawn_stream {
	SPAWN_OUT,
	SPAWN_ERR,
	SPAWN_STATUS,
	SPAWN_STREAM__COUNT
};

static const char *const spawn_stream_names[] = {
	[SPAWN_OUT] = "stdout",
	[SPAWN_ERR] = "stderr",
	[SPAWN_STATUS] = "exec status",
};
_Static_assert(sizeof(spawn_stream_names) / sizeof(spawn_stream_names[0]) ==
    SPAWN_STREAM__COUNT, "spawn_stream_names must name every stream");

/* One captured stream: a buffer capped at SPAWN_OUTPUT_MAX. */
struct spawn_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	bool	 truncated;
};

static int64_t
spawn_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
spawn_result_clear(struct spawn_result *res)
{
	if (res == NULL)
		return;
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof *res);
	res->exit_code = -1;
}

/*
 * Keeps what fits under the cap and drops the rest: the child must never
 * block on a full pipe just because it is chatty.  Returns -1 on out of
 * memory.
 */
static int
spawn_buf_add(struct spawn_buf *b, const char *p, size_t len)
{
	size_t	 ncap;
	char	*nd;

	if (len > SPAWN_OUTPUT_MAX - b->len) {
		len = SPAWN_OUTPUT_MAX - b->len;
		b->truncated = true;
	}
	if (b->len + len + 1 > b->cap) {
		ncap = b->cap != 0 ? b->cap : 4096;
		while (ncap < b->len + len + 1)
			ncap *= 2;
		if (ncap > SPAWN_OUTPUT_MAX + 1)
			ncap = SPAWN_OUTPUT_MAX + 1;
		if ((nd = realloc(b->data, ncap)) == NULL)
			return -1;
		b->data = nd;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

/*
 * Gives fd a number above SPAWN_STATUS_FD so that the dup2 calls onto 0-3
 * cannot clobber one another.  Child only: async-signal-safe calls.
 */
static int
spawn_lift_fd(int fd)
{
	if (fd > SPAWN_STATUS_FD)
		return fd;
	return fcntl(fd, F_DUPFD_CLOEXEC, SPAWN_STATUS_FD + 1);
}

/*
 * Like execvpe, but looking at the PATH of envp rather than ours, and
 * without malloc (we are between fork and exec).  Returns only on failure,
 * with errno EACCES if some candidate was found but not executable.
 */
static void
spawn_exec(char *const argv[], char *const envp[])
{
	const char	*path = NULL, *p, *end;
	char		 buf[PATH_MAX];
	size_t		 dlen, nlen;
	bool		 eacces = false;
	int		 i;

	if (strchr(argv[0], '/') != NULL) {
		execve(argv[0], argv, envp);
		return;
	}
	for (i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			path = envp[i] + 5;
	if (path == NULL)
		path = SPAWN_DEFAULT_PATH;
	nlen = strlen(argv[0]);
	for (p = path; ; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		/* An empty element means the current directory; not here. */
		if (dlen != 0 && dlen + 1 + nlen + 1 <= sizeof buf) {
			memcpy(buf, p, dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, argv[0], nlen + 1);
			execve(buf, argv, envp);
			if (errno == EACCES)
				eacces = true;
		}
		if (*end == '\0')
			break;
	}
	errno = eacces ? EACCES : ENOENT;
}

/* The child side of the fork; never returns. */
static void __attribute__((noreturn))
spawn_child(char *const argv[], char *const envp[], int in, int out, int err,
    int status)
{
	struct sigaction	sa;
	sigset_t		set;
	int			sig, e;

	setpgid(0, 0);

	/*
	 * exec resets caught signals but keeps ignored ones ignored: without
	 * this a hook would inherit our SIG_IGN for SIGPIPE.
	 */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);

	if (in < 0 && (in = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		goto out;
	if ((in = spawn_lift_fd(in)) == -1 ||
	    (out = spawn_lift_fd(out)) == -1 ||
	    (err = spawn_lift_fd(err)) == -1 ||
	    (status = spawn_lift_fd(status)) == -1)
		goto out;
	if (dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(err, STDERR_FILENO) == -1 ||
	    dup3(status, SPAWN_STATUS_FD, O_CLOEXEC) == -1)
		goto out;
	status = SPAWN_STATUS_FD;
	closefrom(SPAWN_STATUS_FD + 1);

	/* The parent blocked everything across fork; the program gets none. */
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	spawn_exec(argv, envp);
out:
	e = errno;
	while (write(status, &e, sizeof e) == -1 && errno == EINTR)
		continue;
	_exit(127);
}

/* Reads what fd has; closes it (sets *fd to -1) at EOF or on error. */
static int
spawn_read(int *fd, struct spawn_buf *b)
{
	char	buf[16384];
	ssize_t	n;

	n = read(*fd, buf, sizeof buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	return spawn_buf_add(b, buf, (size_t)n);
}

/* Logs why a child that did not run or was killed failed. */
static void
spawn_report(const char *path, const struct spawn_result *res)
{
	if (res->exec_failed) {
		if (res->exec_errno == EACCES)
			log_error("%s is not executable (chmod +x %s)", path,
			    path);
		else if (res->exec_errno == ENOENT && strchr(path, '/') == NULL)
			log_error("cannot run %s: not found in PATH", path);
		else
			log_error("cannot run %s: %s", path,
			    strerror(res->exec_errno));
	} else if (res->timed_out)
		log_error("%s timed out and was killed", path);
	else if (res->signal != 0)
		log_error("%s was killed by signal %d (%s)", path, res->signal,
		    strsignal(res->signal));
}

int
spawn_run(char *const argv[], char *const envp[], int stdin_fd,
    long timeout_ms, struct spawn_result *res)
{
	static char *const	 no_env[] = { NULL };
	struct spawn_buf	 bufs[SPAWN_STREAM__COUNT];
	struct pollfd		 pfd[SPAWN_STREAM__COUNT];
	int			 fds[SPAWN_STREAM__COUNT];
	int			 child_fds[SPAWN_STREAM__COUNT];
	int			 pipefd[2], i, n, st = 0, rv = -1, wait_ms;
	int			 saved;
	int			 idx[SPAWN_STREAM__COUNT];
	sigset_t		 all, old;
	pid_t			 pid = -1;
	bool			 reaped = false, killed = false, open_fds;
	int64_t			 now, deadline = 0, kill_at = 0, linger = 0;
	const char		*path = "(no program)";

	memset(res, 0, sizeof *res);
	res->exit_code = -1;
	memset(bufs, 0, sizeof bufs);
	for (i = 0; i < SPAWN_STREAM__COUNT; i++)
		fds[i] = child_fds[i] = -1;
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		log_error("spawn: no program given");
		goto out;
	}
	path = argv[0];
	if (envp == NULL)
		envp = no_env;

	for (i = 0; i < SPAWN_STREAM__COUNT; i++) {
		if (pipe2(pipefd, O_CLOEXEC) == -1) {
			log_error("cannot run %s: pipe: %s", path,
			    strerror(errno));
			goto out;
		}
		fds[i] = pipefd[0];
		child_fds[i] = pipefd[1];
	}

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0)
		spawn_child(argv, envp, stdin_fd, child_fds[SPAWN_OUT],
		    child_fds[SPAWN_ERR], child_fds[SPAWN_STATUS]);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		log_error("cannot run %s: fork: %s", path, strerror(saved));
		goto out;
	}
	/* Also here, so kill(-pid) works even before the child ran. */
	setpgid(pid, pid);
	for (i = 0; i < SPAWN_STREAM__COUNT; i++) {
		close(child_fds[i]);
		child_fds[i] = -1;
	}

	if (timeout_ms > 0)
		deadline = spawn_now_ms() + timeout_ms;
	for (;;) {
		now = spawn_now_ms();
		if (!reaped && waitpid(pid, &st, WNOHANG) == pid) {
			reaped = true;
			linger = now + SPAWN_LINGER_MS;
		}
		open_fds = false;
		for (i = 0; i < SPAWN_STREAM__COUNT; i++)
			if (fds[i] != -1)
				open_fds = true;

		/* The timeout is for the program, not for a daemon it left. */
		if (deadline != 0 && !reaped && !res->timed_out &&
		    now >= deadline) {
			res->timed_out = true;
			kill(-pid, SIGTERM);
			kill_at = now + SPAWN_GRACE_MS;
		}
		if (res->timed_out && !killed) {
			/* Nothing left in the group: no SIGKILL needed. */
			if (kill(-pid, 0) == -1 && errno == ESRCH)
				killed = true;
			else if (now >= kill_at) {
				kill(-pid, SIGKILL);
				killed = true;
			}
		}

		/*
		 * Done when the child is gone and its output read; a grandchild
		 * that keeps our pipes open (a daemon started by a deploy hook)
		 * gets SPAWN_LINGER_MS, then we stop listening.  After a
		 * timeout, not before the whole group had its SIGKILL.
		 */
		if (reaped && (!open_fds || now >= linger) &&
		    (!res->timed_out || killed))
			break;

		wait_ms = !open_fds && !reaped ? 10 : SPAWN_SLICE_MS;
		if (reaped && open_fds && linger - now < wait_ms)
			wait_ms = (int)(linger - now);
		if (deadline != 0 && !reaped && !res->timed_out &&
		    deadline - now < wait_ms)
			wait_ms = (int)(deadline - now);
		if (res->timed_out && !killed && kill_at - now < wait_ms)
			wait_ms = (int)(kill_at - now);
		if (wait_ms < 0)
			wait_ms = 0;

		n = 0;
		for (i = 0; i < SPAWN_STREAM__COUNT; i++) {
			if (fds[i] == -1)
				continue;
			pfd[n].fd = fds[i];
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			idx[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, wait_ms) == -1) {
			if (errno == EINTR)
				continue;
			log_error("%s: poll: %s", path, strerror(errno));
			kill(-pid, SIGKILL);
			killed = true;
			break;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (spawn_read(&fds[idx[i]], &bufs[idx[i]]) == -1) {
				log_error("%s: out of memory reading %s", path,
				    spawn_stream_names[idx[i]]);
				kill(-pid, SIGKILL);
				killed = true;
				goto out;
			}
		}
	}
	rv = 0;
out:
	for (i = 0; i < SPAWN_STREAM__COUNT; i++) {
		if (fds[i] != -1)
			close(fds[i]);
		if (child_fds[i] != -1)
			close(child_fds[i]);
	}
	if (pid > 0 && !reaped) {
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			continue;
		reaped = true;
	}
	if (reaped) {
		if (WIFEXITED(st))
			res->exit_code = WEXITSTATUS(st);
		else if (WIFSIGNALED(st))
			res->signal = WTERMSIG(st);
	}
	if (bufs[SPAWN_STATUS].len >= sizeof(int)) {
		res->exec_failed = true;
		memcpy(&res->exec_errno, bufs[SPAWN_STATUS].data, sizeof(int));
		res->exit_code = -1;
	}
	free(bufs[SPAWN_STATUS].data);
	for (i = SPAWN_OUT; i <= SPAWN_ERR; i++) {
		if (bufs[i].truncated)
			log_warn("%s: %s truncated at %d bytes", path,
			    spawn_stream_names[i], SPAWN_OUTPUT_MAX);
		if (rv == 0 && bufs[i].data == NULL &&
		    (bufs[i].data = strdup("")) == NULL) {
			log_error("%s: out of memory", path);
			rv = -1;
		}
	}
	res->out = bufs[SPAWN_OUT].data;
	res->out_len = bufs[SPAWN_OUT].len;
	res->err = bufs[SPAWN_ERR].data;
	res->err_len = bufs[SPAWN_ERR].len;
	if (rv == 0 && (res->exec_failed || res->timed_out ||
	    res->signal != 0)) {
		spawn_report(path, res);
		rv = -1;
	}
	return rv;
}
