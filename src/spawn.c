/*
 * spawn.c: runs a program and collects what it says.  Owns the fork, the
 * child's fd table, signal state and process group, the capture of stdout
 * and stderr (capped), the timeout and the group kill.  Modelled on tmux's
 * job.c: signals blocked across fork, an explicit environment, every fd
 * wired on purpose, _exit on exec failure.  It reports nothing itself
 * (debug lines aside): the result says what happened, the caller tells.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sig.h"
#include "spawn.h"

#define SPAWN_GRACE_MS		2000	/* SIGTERM to SIGKILL */
#define SPAWN_LINGER_MS		1000	/* reading after the child exited */
#define SPAWN_SLICE_MS		100	/* how often to look for the exit */
#define SPAWN_STATUS_FD		3	/* exec errno back to the parent */
#define SPAWN_DEFAULT_PATH	"/usr/bin:/bin"

static const char *const spawn_stream_names[] = {
	[SPAWN_OUT] = "stdout",
	[SPAWN_ERR] = "stderr",
	[SPAWN_STATUS] = "exec status",
};
_Static_assert(sizeof(spawn_stream_names) / sizeof(spawn_stream_names[0]) ==
    SPAWN_STREAM__COUNT, "spawn_stream_names must name every stream");

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

/*
 * The child side of the vfork; never returns.  It shares our memory
 * until execve, so it only makes system calls and writes its own frame
 * (never inlined into the parent's); it changes its own signal
 * dispositions, not ours (vfork does not share the handler table).
 */
static void __attribute__((noreturn, noinline))
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

/*
 * vfork and the child's side, in a frame of their own so that nothing of
 * the caller's is live across vfork (-Wclobbered).  The child's pid, or
 * -1 with errno.
 */
static pid_t __attribute__((noinline))
spawn_vfork(char *const argv[], char *const envp[], int in, int out, int err,
    int status)
{
	pid_t	pid;

	if ((pid = vfork()) == 0)
		spawn_child(argv, envp, in, out, err, status);
	return pid;
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

/* Records the first failure of the job as a sentence. */
static void __attribute__((format(printf, 2, 3)))
spawn_fail(struct spawn_job *job, const char *fmt, ...)
{
	va_list	ap;

	if (job->failed)
		return;
	job->failed = true;
	va_start(ap, fmt);
	vsnprintf(job->res.why, sizeof job->res.why, fmt, ap);
	va_end(ap);
}

/* Why a program that ran did not come to an exit of its own. */
static void
spawn_explain(struct spawn_job *job)
{
	struct spawn_result	*res = &job->res;
	const char		*path = job->path;

	if (res->exec_failed) {
		if (res->exec_errno == EACCES)
			spawn_fail(job, "not executable (chmod +x %s)", path);
		else if (res->exec_errno == ENOENT && strchr(path, '/') == NULL)
			spawn_fail(job, "not found in PATH");
		else if (res->exec_errno == ENOENT)
			spawn_fail(job, "it (or its #! interpreter) does not "
			    "exist");
		else if (res->exec_errno == ENOEXEC)
			spawn_fail(job, "not a program (a script needs a #! "
			    "line)");
		else
			spawn_fail(job, "%s", strerror(res->exec_errno));
	} else if (res->interrupted != 0)
		spawn_fail(job, "stopped because extauth received %s (its "
		    "process group was killed)", sig_name(res->interrupted));
	else if (res->timed_out)
		spawn_fail(job, "timed out after %g s (killed)",
		    (double)job->timeout_ms / 1000);
	else if (res->signal != 0)
		spawn_fail(job, "killed by signal %d (%s)", res->signal,
		    strsignal(res->signal));
}

int
spawn_start(struct spawn_job *job, char *const argv[], char *const envp[],
    int stdin_fd, long timeout_ms)
{
	static char *const	 no_env[] = { NULL };
	int			 child_fds[SPAWN_STREAM__COUNT];
	int			 pipefd[2], i, saved, rv = -1;
	sigset_t		 all, old;

	memset(job, 0, sizeof *job);
	job->pid = -1;
	job->res.exit_code = -1;
	job->path = "(no program)";
	job->timeout_ms = timeout_ms;
	for (i = 0; i < SPAWN_STREAM__COUNT; i++)
		job->fds[i] = child_fds[i] = -1;
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		spawn_fail(job, "no program given");
		goto out;
	}
	job->path = argv[0];
	if (envp == NULL)
		envp = no_env;
	/*
	 * A program started after the signal is part of the cleanup it
	 * asked for (cleanup hooks): only a program the signal interrupted
	 * is killed for it.
	 */
	job->watch_signal = sig_pending() == 0;

	for (i = 0; i < SPAWN_STREAM__COUNT; i++) {
		if (pipe2(pipefd, O_CLOEXEC) == -1) {
			spawn_fail(job, "pipe: %s", strerror(errno));
			goto out;
		}
		job->fds[i] = pipefd[0];
		child_fds[i] = pipefd[1];
	}

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	/* vfork, not fork: a renew with many workers starts six handler
	 * calls per lineage, and fork copied the page tables of a 15 MB
	 * multi-threaded process each time, a third of extauth's own CPU
	 * (bench/many.sh renew). */
	job->pid = spawn_vfork(argv, envp, stdin_fd, child_fds[SPAWN_OUT],
	    child_fds[SPAWN_ERR], child_fds[SPAWN_STATUS]);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (job->pid == -1) {
		spawn_fail(job, "vfork: %s", strerror(saved));
		goto out;
	}
	/* Also here, so kill(-pid) works even before the child ran. */
	setpgid(job->pid, job->pid);
	log_debug("%s started as process group %ld", job->path,
	    (long)job->pid);
	if (timeout_ms > 0)
		job->deadline = spawn_now_ms() + timeout_ms;
	rv = 0;
out:
	for (i = 0; i < SPAWN_STREAM__COUNT; i++)
		if (child_fds[i] != -1)
			close(child_fds[i]);
	return rv;
}

/* SIGTERM to the whole group now, SIGKILL after the grace period. */
static void
spawn_stop(struct spawn_job *job, int64_t now)
{
	job->stopping = true;
	kill(-job->pid, SIGTERM);
	job->kill_at = now + SPAWN_GRACE_MS;
}

/* The next poll's timeout: the nearest of the job's deadlines. */
static int
spawn_wait_ms(const struct spawn_job *job, int64_t now, bool open_fds)
{
	int	wait_ms;

	wait_ms = !open_fds && !job->reaped ? 10 : SPAWN_SLICE_MS;
	if (job->reaped && open_fds && job->linger - now < wait_ms)
		wait_ms = (int)(job->linger - now);
	if (job->deadline != 0 && !job->reaped && !job->stopping &&
	    job->deadline - now < wait_ms)
		wait_ms = (int)(job->deadline - now);
	if (job->stopping && !job->killed && job->kill_at - now < wait_ms)
		wait_ms = (int)(job->kill_at - now);
	return wait_ms < 0 ? 0 : wait_ms;
}

int
spawn_wait(struct spawn_job *job)
{
	struct pollfd	 pfd[SPAWN_STREAM__COUNT + 1];
	int		 idx[SPAWN_STREAM__COUNT + 1];
	int		 i, n;
	bool		 open_fds;
	int64_t		 now;

	if (job->failed || job->pid <= 0)
		return -1;
	for (;;) {
		now = spawn_now_ms();
		if (!job->reaped &&
		    waitpid(job->pid, &job->status, WNOHANG) == job->pid) {
			job->reaped = true;
			job->linger = now + SPAWN_LINGER_MS;
		}
		open_fds = false;
		for (i = 0; i < SPAWN_STREAM__COUNT; i++)
			if (job->fds[i] != -1)
				open_fds = true;

		/* Told to stop: the program's group goes first. */
		if (job->watch_signal && sig_pending() != 0 &&
		    job->res.interrupted == 0) {
			job->res.interrupted = sig_pending();
			if (!job->stopping)
				spawn_stop(job, now);
		}
		/* The timeout is for the program, not for a daemon it left. */
		if (job->deadline != 0 && !job->reaped && !job->stopping &&
		    now >= job->deadline) {
			job->res.timed_out = true;
			spawn_stop(job, now);
		}
		if (job->stopping && !job->killed) {
			/* Nothing left in the group: no SIGKILL needed. */
			if (kill(-job->pid, 0) == -1 && errno == ESRCH)
				job->killed = true;
			else if (now >= job->kill_at) {
				kill(-job->pid, SIGKILL);
				job->killed = true;
			}
		}

		/*
		 * Done when the child is gone and its output read; a grandchild
		 * that keeps our pipes open (a daemon started by a deploy hook)
		 * gets SPAWN_LINGER_MS, then we stop listening.  After a
		 * kill, not before the whole group had its SIGKILL.
		 */
		if (job->reaped && (!open_fds || now >= job->linger) &&
		    (!job->stopping || job->killed))
			return 0;

		n = 0;
		for (i = 0; i < SPAWN_STREAM__COUNT; i++) {
			if (job->fds[i] == -1)
				continue;
			pfd[n].fd = job->fds[i];
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			idx[n++] = i;
		}
		/* The self-pipe stays readable once a signal came: only
		 * until this job has reacted to it. */
		if (job->watch_signal && job->res.interrupted == 0 &&
		    sig_fd() != -1) {
			pfd[n].fd = sig_fd();
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			idx[n++] = -1;
		}
		if (poll(pfd, (nfds_t)n, spawn_wait_ms(job, now,
		    open_fds)) == -1) {
			if (errno == EINTR)
				continue;
			spawn_fail(job, "poll: %s", strerror(errno));
			goto fail;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0 || idx[i] == -1)
				continue;
			if (spawn_read(&job->fds[idx[i]],
			    &job->bufs[idx[i]]) == -1) {
				spawn_fail(job, "out of memory reading its %s",
				    spawn_stream_names[idx[i]]);
				goto fail;
			}
		}
	}
fail:
	kill(-job->pid, SIGKILL);
	job->killed = true;
	return -1;
}

int
spawn_collect(struct spawn_job *job, struct spawn_result *res)
{
	struct spawn_buf	*b;
	int			 i;

	for (i = 0; i < SPAWN_STREAM__COUNT; i++) {
		if (job->fds[i] != -1)
			close(job->fds[i]);
		job->fds[i] = -1;
	}
	if (job->pid > 0 && !job->reaped) {
		while (waitpid(job->pid, &job->status, 0) == -1 &&
		    errno == EINTR)
			continue;
		job->reaped = true;
	}
	if (job->reaped) {
		if (WIFEXITED(job->status))
			job->res.exit_code = WEXITSTATUS(job->status);
		else if (WIFSIGNALED(job->status))
			job->res.signal = WTERMSIG(job->status);
	}
	b = &job->bufs[SPAWN_STATUS];
	if (b->len >= sizeof(int)) {
		job->res.exec_failed = true;
		memcpy(&job->res.exec_errno, b->data, sizeof(int));
		job->res.exit_code = -1;
	}
	free(b->data);
	for (i = SPAWN_OUT; i <= SPAWN_ERR; i++) {
		b = &job->bufs[i];
		if (b->truncated)
			log_debug("%s: %s truncated at %d bytes", job->path,
			    spawn_stream_names[i], SPAWN_OUTPUT_MAX);
		if (b->data == NULL && (b->data = strdup("")) == NULL)
			spawn_fail(job, "out of memory");
	}
	job->res.out = job->bufs[SPAWN_OUT].data;
	job->res.out_len = job->bufs[SPAWN_OUT].len;
	job->res.err = job->bufs[SPAWN_ERR].data;
	job->res.err_len = job->bufs[SPAWN_ERR].len;
	spawn_explain(job);
	if (job->res.why[0] != '\0')
		log_debug("%s: %s", job->path, job->res.why);
	/* The buffers now belong to *res; the job holds nothing. */
	*res = job->res;
	memset(job, 0, sizeof *job);
	job->pid = -1;
	for (i = 0; i < SPAWN_STREAM__COUNT; i++)
		job->fds[i] = -1;
	return res->why[0] != '\0' ? -1 : 0;
}

int
spawn_run(char *const argv[], char *const envp[], int stdin_fd,
    long timeout_ms, struct spawn_result *res)
{
	struct spawn_job	job;

	if (spawn_start(&job, argv, envp, stdin_fd, timeout_ms) == 0)
		(void)spawn_wait(&job);
	return spawn_collect(&job, res);
}
