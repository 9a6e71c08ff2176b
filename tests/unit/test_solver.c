/*
 * test_solver.c: the real solvers (solver.c and its backends) driving real
 * programs.  A shell-script handler, written into a fresh mkdtemp
 * directory, records its argv and a few variables; the tests check the
 * order and the arguments of the calls, the verdicts (NotImplemented,
 * failure, hang, unknown-hook probe, exit_hook), that hostile values
 * arrive verbatim without any shell seeing them, JSON mode's
 * acknowledgements over pipes, and text mode's instructions with the
 * self-check against throwaway loopback DNS and HTTP servers.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "event.h"
#include "log.h"
#include "selfcheck.h"
#include "solver.h"

#define ENV_MAX		16
#define PROBE_WORD	"this_hookscript_is_broken__dehydrated_is_working_" \
			"fine__please_ignore_unknown_hooks_in_your_script"

/*
 * The handler under test.  One line per call in $RECLOG: argv[1..] joined
 * by '|'; in $ENVLOG the domain and cbot_domain variables.  Behaviour by
 * variable: NOTIMPL_ON=word declines, FAIL_ON=word fails, FAIL_DOMAIN=d
 * fails the perform of d, HANG_ON=word sleeps.
 */
static const char handler_script[] =
    "#!/bin/sh\n"
    "word=$1\n"
    "line=$1; shift\n"
    "for a in \"$@\"; do line=\"$line|$a\"; done\n"
    "printf '%s\\n' \"$line\" >> \"$RECLOG\"\n"
    "if [ -n \"${ENVLOG-}\" ]; then\n"
    "  printf '%s\\n%s\\n' \"${domain-}\" \"${cbot_domain-}\" >> \"$ENVLOG\"\n"
    "fi\n"
    "case \"$word\" in\n"
    "\"${NOTIMPL_ON-}\") echo ' NotImplemented'; exit 1;;\n"
    "\"${FAIL_ON-}\") echo \"failing $word\" >&2; exit 3;;\n"
    "\"${HANG_ON-}\") sleep 30;;\n"
    "esac\n"
    "echo \"stdout of $word\"\n"
    "if [ \"$word\" = perform ] && [ \"${domain-}\" = \"${FAIL_DOMAIN-}\" ]; "
    "then exit 4; fi\n"
    "exit 0\n";

struct fixture {
	char	 dir[64];
	char	 script[128];
	char	 reclog[128];
	char	 envlog[128];
	char	 out[128];
	char	*env[ENV_MAX + 1];
	int	 nenv;
	int	 in_fd, out_fd;
};

static void
add_env(struct fixture *f, const char *fmt, ...)
{
	va_list	ap;
	char	*s;
	int	 r;

	assert_true(f->nenv < ENV_MAX);
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(r >= 0);
	f->env[f->nenv++] = s;
	f->env[f->nenv] = NULL;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE	*fp;

	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The whole file as a string ("" if it does not exist); caller frees. */
static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*buf;
	size_t	 n;

	buf = calloc(1, 65536);
	assert_non_null(buf);
	if ((fp = fopen(path, "r")) == NULL)
		return buf;
	n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Everything readable on fd now (a pipe whose writer wrote); caller frees. */
static char *
drain(int fd)
{
	char	*buf;
	ssize_t	 r;
	size_t	 n = 0;

	buf = calloc(1, 65536);
	assert_non_null(buf);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (n < 65535 && (r = read(fd, buf + n, 65535 - n)) > 0)
		n += (size_t)r;
	return buf;
}

static int
setup(void **state)
{
	struct fixture	*f;

	if ((f = calloc(1, sizeof *f)) == NULL)
		return -1;
	strcpy(f->dir, "/tmp/extauth-test-solver-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->script, sizeof f->script, "%s/hook.sh", f->dir);
	snprintf(f->reclog, sizeof f->reclog, "%s/calls", f->dir);
	snprintf(f->envlog, sizeof f->envlog, "%s/env", f->dir);
	snprintf(f->out, sizeof f->out, "%s/out", f->dir);
	write_file(f->script, handler_script, 0755);
	add_env(f, "PATH=/usr/bin:/bin");
	add_env(f, "RECLOG=%s", f->reclog);
	f->in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	f->out_fd = open(f->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (f->in_fd == -1 || f->out_fd == -1)
		return -1;
	log_init(0, true);
	*state = f;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	close(f->in_fd);
	close(f->out_fd);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (i = 0; i < f->nenv; i++)
		free(f->env[i]);
	free(f);
	return 0;
}

static struct solver *
make_solver(struct fixture *f, enum solver_mode mode, const char *handler,
    bool chain, enum err *why)
{
	struct solver_opts	o;

	memset(&o, 0, sizeof o);
	o.mode = mode;
	o.handler = handler;
	o.handler_timeout_ms = 10000;
	o.hook_chain = chain;
	o.in_fd = f->in_fd;
	o.out_fd = f->out_fd;
	o.base_env = f->env;
	return solver_new(&o, why);
}

static struct solver *
must_solver(struct fixture *f, enum solver_mode mode, bool chain)
{
	struct solver	*s;
	enum err	 why;

	s = make_solver(f, mode, f->script, chain, &why);
	assert_non_null(s);
	assert_int_equal(why, ERR_OK);
	return s;
}

static char *
xstrdup(const char *s)
{
	char	*d = strdup(s);

	assert_non_null(d);
	return d;
}

static struct challenge *
make_challenge(enum chal_type type, const char *domain, const char *token,
    const char *validation)
{
	struct challenge	*ch;
	char			 buf[512];

	ch = calloc(1, sizeof *ch);
	assert_non_null(ch);
	ch->type = type;
	ch->domain = xstrdup(domain);
	ch->token = xstrdup(token);
	snprintf(buf, sizeof buf, "%s.thumb", token);
	ch->key_auth = xstrdup(buf);
	ch->validation = xstrdup(type == CHAL_DNS01 ? validation : buf);
	snprintf(buf, sizeof buf, "_acme-challenge.%s", domain);
	ch->txt_domain = xstrdup(buf);
	snprintf(buf, sizeof buf, "http://%s/.well-known/acme-challenge/%s",
	    domain, token);
	ch->uri = xstrdup(buf);
	return ch;
}

static void
free_challenges(struct challenge **chs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		challenge_free(chs[i]);
}

static struct event *
deploy(enum event_kind k, const char *domain, const char *live)
{
	char	c[256], key[256], ch[256], fc[256];

	snprintf(c, sizeof c, "%s/cert.pem", live);
	snprintf(key, sizeof key, "%s/privkey.pem", live);
	snprintf(ch, sizeof ch, "%s/chain.pem", live);
	snprintf(fc, sizeof fc, "%s/fullchain.pem", live);
	return event_deploy(k, domain, c, key, ch, fc, 1700000000,
	    1700000000.5, NULL);
}

static void
assert_calls(struct fixture *f, const char *want)
{
	char	*got = slurp(f->reclog);

	assert_string_equal(got, want);
	free(got);
	unlink(f->reclog);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t		 n = 0;
	const char	*p;

	for (p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* --- handler mode ----------------------------------------------------- */

static void
test_handler_order(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*chs[2];
	struct solver		*s;
	char			*out;

	chs[0] = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	chs[1] = make_challenge(CHAL_DNS01, "b.example", "tb", "vb");
	add_env(f, "ENVLOG=%s", f->envlog);
	s = must_solver(f, SOLVER_HANDLER, false);
	assert_int_equal(solver_emit(s, event_phase(EVENT_STARTUP)), ERR_OK);
	assert_int_equal(solver_perform(s, chs, 2), ERR_OK);
	assert_true(chs[0]->performed && chs[1]->performed);
	assert_int_equal(solver_cleanup(s, chs, 2), ERR_OK);
	assert_int_equal(solver_emit(s, deploy(EVENT_DEPLOY_CERT, "a.example",
	    "/live/a")), ERR_OK);
	assert_int_equal(solver_emit(s, event_save(NULL, false)), ERR_OK);
	assert_int_equal(solver_emit(s, deploy(EVENT_UNCHANGED_CERT,
	    "a.example", "/live/a")), ERR_OK);
	assert_int_equal(solver_emit(s, event_phase(EVENT_RESTART)), ERR_OK);
	assert_int_equal(solver_emit(s, event_report(NULL)), ERR_OK);
	assert_int_equal(solver_emit(s, event_phase(EVENT_EXIT)), ERR_OK);
	assert_calls(f, "pre-perform\nperform\nperform\npost-perform\n"
	    "pre-cleanup\ncleanup\ncleanup\npost-cleanup\ndeploy_cert\n"
	    "unchanged_cert\n");
	out = slurp(f->envlog);
	assert_string_equal(out, "\n\na.example\na.example\nb.example\n"
	    "b.example\n\n\n\n\na.example\na.example\nb.example\nb.example\n"
	    "\n\na.example\na.example\na.example\na.example\n");
	free(out);
	/* The seed's JSON lines still reach stdout in handler mode. */
	out = slurp(f->out);
	assert_int_equal(count(out, "{\"cmd\": \"perform_challenge\""), 2);
	assert_int_equal(count(out, "{\"cmd\": \"cleanup\""), 2);
	assert_int_equal(count(out, "{\"cmd\": \"deploy_cert\""), 2);
	assert_int_equal(count(out, "{\"cmd\": \"save\""), 1);
	assert_int_equal(count(out, "\n"), 9);
	free(out);
	solver_free(s);
	free_challenges(chs, 2);
}

/* The handler's output is framed on stderr as the seed's README shows. */
static void
test_handler_output_frame(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*ch;
	struct solver		*s;
	char			 errpath[160], *text;
	int			 saved, fd;

	ch = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	snprintf(errpath, sizeof errpath, "%s/stderr", f->dir);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd != -1);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_init(0, false);
	s = must_solver(f, SOLVER_HANDLER, false);
	assert_int_equal(solver_perform(s, &ch, 1), ERR_OK);
	solver_free(s);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_init(0, true);
	text = slurp(errpath);
	assert_non_null(strstr(text, "Handler output (pre-perform):\n\n"
	    "-----BEGIN PRE-PERFORM-----\nstdout of pre-perform\n"
	    "-----END PRE-PERFORM-----\n\n"));
	assert_non_null(strstr(text, "Handler output (perform):\n\n"
	    "-----BEGIN PERFORM-----\nstdout of perform\n"
	    "-----END PERFORM-----\n\n"));
	free(text);
	challenge_free(ch);
}

static void
test_handler_notimplemented(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*ch;
	struct solver		*s;

	ch = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	add_env(f, "NOTIMPL_ON=pre-perform");
	s = must_solver(f, SOLVER_HANDLER, false);
	assert_int_equal(solver_perform(s, &ch, 1), ERR_OK);
	assert_calls(f, "pre-perform\nperform\npost-perform\n");
	solver_free(s);
	challenge_free(ch);
}

/* Challenge b fails; a and b were told so both are cleaned, c is not. */
static void
test_handler_failure(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*chs[3];
	struct solver		*s;

	chs[0] = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	chs[1] = make_challenge(CHAL_DNS01, "b.example", "tb", "vb");
	chs[2] = make_challenge(CHAL_DNS01, "c.example", "tc", "vc");
	add_env(f, "ENVLOG=%s", f->envlog);
	add_env(f, "FAIL_DOMAIN=b.example");
	s = must_solver(f, SOLVER_HANDLER, false);
	assert_int_equal(solver_perform(s, chs, 3), ERR_INVOKER);
	assert_true(chs[0]->performed);
	assert_true(chs[1]->performed);
	assert_false(chs[2]->performed);
	assert_int_equal(solver_cleanup(s, chs, 3), ERR_OK);
	assert_calls(f, "pre-perform\nperform\nperform\npre-cleanup\n"
	    "cleanup\ncleanup\npost-cleanup\n");
	solver_free(s);
	free_challenges(chs, 3);
}

static void
test_handler_failure_code(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*ch;
	struct solver		*s;

	ch = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	add_env(f, "FAIL_ON=post-perform");
	s = must_solver(f, SOLVER_HANDLER, false);
	assert_int_equal(solver_perform(s, &ch, 1), ERR_INVOKER);
	assert_calls(f, "pre-perform\nperform\npost-perform\n");
	solver_free(s);
	challenge_free(ch);
}

static void
test_handler_bad_path(void **state)
{
	struct fixture	*f = *state;
	struct solver	*s;
	char		 path[160];
	enum err	 why;

	snprintf(path, sizeof path, "%s/missing.sh", f->dir);
	s = make_solver(f, SOLVER_HANDLER, path, false, &why);
	assert_null(s);
	assert_int_equal(why, ERR_USAGE);
	s = make_solver(f, SOLVER_DEHYDRATED, path, false, &why);
	assert_null(s);
	assert_int_equal(why, ERR_USAGE);

	snprintf(path, sizeof path, "%s/noexec.sh", f->dir);
	write_file(path, handler_script, 0644);
	s = make_solver(f, SOLVER_HANDLER, path, false, &why);
	assert_null(s);
	assert_int_equal(why, ERR_USAGE);
	s = make_solver(f, SOLVER_DEHYDRATED, path, false, &why);
	assert_null(s);
	assert_int_equal(why, ERR_USAGE);

	s = make_solver(f, SOLVER_HANDLER, f->dir, false, &why);
	assert_null(s);
	assert_int_equal(why, ERR_USAGE);
	s = make_solver(f, SOLVER_HANDLER, NULL, false, &why);
	assert_null(s);
	assert_int_equal(why, ERR_USAGE);
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_handler_timeout(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*ch;
	struct solver_opts	 o;
	struct solver		*s;
	enum err		 why;
	double			 t0;

	ch = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	add_env(f, "HANG_ON=perform");
	memset(&o, 0, sizeof o);
	o.mode = SOLVER_HANDLER;
	o.handler = f->script;
	o.handler_timeout_ms = 1000;
	o.in_fd = f->in_fd;
	o.out_fd = f->out_fd;
	o.base_env = f->env;
	s = solver_new(&o, &why);
	assert_non_null(s);
	t0 = now_s();
	assert_int_equal(solver_perform(s, &ch, 1), ERR_INVOKER);
	assert_true(now_s() - t0 < 4.0);
	assert_true(ch->performed);
	solver_free(s);
	challenge_free(ch);
}

/* Values a shell would expand; none may run, all arrive as they are. */
static const struct {
	const char	*pre, *post;	/* around the test directory */
} hostile[] = {
	{ "$(touch ", "/pwned1)" },
	{ "; touch ", "/pwned2 #" },
	{ "`touch ", "/pwned3`" },
	{ "it's \"quoted\" ", "|\\" },
};
#define NHOSTILE	(sizeof hostile / sizeof hostile[0])

static void
test_hostile_values(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*chs[NHOSTILE];
	struct solver		*s;
	struct stat		 st;
	char			 names[NHOSTILE][256], want[4096];
	char			 path[160];
	char			*got;
	size_t			 i, n;

	for (i = 0; i < NHOSTILE; i++) {
		snprintf(names[i], sizeof names[i], "%s%s%s", hostile[i].pre,
		    f->dir, hostile[i].post);
		chs[i] = make_challenge(CHAL_DNS01, names[i], "t", names[i]);
	}
	add_env(f, "ENVLOG=%s", f->envlog);

	/* Handler mode: the values travel in the environment. */
	s = must_solver(f, SOLVER_HANDLER, false);
	assert_int_equal(solver_perform(s, chs, NHOSTILE), ERR_OK);
	solver_free(s);
	got = slurp(f->envlog);
	want[0] = '\0';
	for (i = 0, n = 0; i < NHOSTILE; i++)
		n += (size_t)snprintf(want + n, sizeof want - n, "%s\n%s\n",
		    names[i], names[i]);
	assert_non_null(strstr(got, want));
	free(got);

	/* Dehydrated mode: in argv. */
	unlink(f->reclog);
	s = must_solver(f, SOLVER_DEHYDRATED, false);
	assert_int_equal(solver_perform(s, chs, NHOSTILE), ERR_OK);
	solver_free(s);
	for (i = 0, n = 0; i < NHOSTILE; i++)
		n += (size_t)snprintf(want + n, sizeof want - n,
		    "deploy_challenge|%s|t|%s\n", names[i], names[i]);
	assert_calls(f, want);

	for (i = 1; i <= 3; i++) {
		snprintf(path, sizeof path, "%s/pwned%zu", f->dir, i);
		assert_int_equal(stat(path, &st), -1);
	}
	assert_int_equal(stat("/tmp/pwned", &st), -1);
	free_challenges(chs, NHOSTILE);
}

/* --- dehydrated mode -------------------------------------------------- */

static void
test_dehydrated_calls(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*chs[2];
	struct solver		*s;
	struct event		*ev;
	char			 want[2048];

	chs[0] = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	chs[1] = make_challenge(CHAL_HTTP01, "b.example", "tb", NULL);
	chs[1]->status = ACME_STATUS_INVALID;
	chs[1]->error_json = xstrdup("{\"status\": 403}");
	s = must_solver(f, SOLVER_DEHYDRATED, false);
	assert_int_equal(solver_emit(s, event_phase(EVENT_STARTUP)), ERR_OK);
	assert_int_equal(solver_perform(s, chs, 2), ERR_OK);
	assert_int_equal(solver_invalid(s, chs[1]), ERR_OK);
	assert_int_equal(solver_cleanup(s, chs, 2), ERR_OK);
	assert_int_equal(solver_emit(s, event_sync("/l/k-1.pem", "/l/c-1.pem",
	    "/l/f-1.pem", "/l/ch-1.pem", "/l/r-1.csr")), ERR_OK);
	/* One deploy_cert per certificate, with its first name. */
	assert_int_equal(solver_emit(s, deploy(EVENT_DEPLOY_CERT, "a.example",
	    "/l")), ERR_OK);
	assert_int_equal(solver_emit(s, event_save(NULL, false)), ERR_OK);
	assert_int_equal(solver_emit(s, deploy(EVENT_DEPLOY_CERT, "b.example",
	    "/l")), ERR_OK);
	assert_int_equal(solver_emit(s, deploy(EVENT_UNCHANGED_CERT,
	    "c.example", "/m")), ERR_OK);
	assert_int_equal(solver_emit(s, event_request_failure(503, "busy",
	    "POST", "h: v")), ERR_OK);
	ev = event_phase(EVENT_EXIT);
	json_object_set_new(ev->rec, "error", json_string("it broke"));
	assert_int_equal(solver_emit(s, ev), ERR_OK);
	snprintf(want, sizeof want, "%s\nstartup_hook\n"
	    "deploy_challenge|a.example|ta|va\n"
	    "deploy_challenge|b.example|tb|tb.thumb\n"
	    "invalid_challenge|b.example|{\"status\": 403}\n"
	    "clean_challenge|a.example|ta|va\n"
	    "clean_challenge|b.example|tb|tb.thumb\n"
	    "sync_cert|/l/k-1.pem|/l/c-1.pem|/l/f-1.pem|/l/ch-1.pem"
	    "|/l/r-1.csr\n"
	    "deploy_cert|a.example|/l/privkey.pem|/l/cert.pem|/l/fullchain.pem"
	    "|/l/chain.pem|1700000000\n"
	    "unchanged_cert|c.example|/m/privkey.pem|/m/cert.pem"
	    "|/m/fullchain.pem|/m/chain.pem\n"
	    "request_failure|503|busy|POST|h: v\n"
	    "exit_hook|it broke\n", PROBE_WORD);
	assert_calls(f, want);
	solver_free(s);
	free_challenges(chs, 2);
}

static void
test_dehydrated_chain(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*chs[3];
	struct solver		*s;
	char			*out;

	chs[0] = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	chs[1] = make_challenge(CHAL_DNS01, "*.a.example", "tw", "vw");
	chs[2] = make_challenge(CHAL_DNS01, "b.example", "tb", "vb");
	s = must_solver(f, SOLVER_DEHYDRATED, true);
	assert_int_equal(solver_perform(s, chs, 3), ERR_OK);
	chs[2]->performed = false;	/* as if never told */
	assert_int_equal(solver_cleanup(s, chs, 3), ERR_OK);
	assert_calls(f, "deploy_challenge|a.example|ta|va|*.a.example|tw|vw"
	    "|b.example|tb|vb\n"
	    "clean_challenge|a.example|ta|va|*.a.example|tw|vw\n");
	out = slurp(f->out);
	assert_int_equal(count(out, "{\"cmd\": \"perform_challenge\""), 3);
	assert_int_equal(count(out, "{\"cmd\": \"cleanup\""), 2);
	free(out);
	solver_free(s);
	free_challenges(chs, 3);
}

static void
test_dehydrated_verdicts(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*ch;
	struct solver		*s;

	ch = make_challenge(CHAL_DNS01, "a.example", "ta", "va");

	/* A hook that fails on unknown commands is refused at startup. */
	add_env(f, "FAIL_ON=" PROBE_WORD);
	s = must_solver(f, SOLVER_DEHYDRATED, false);
	assert_int_equal(solver_emit(s, event_phase(EVENT_STARTUP)),
	    ERR_INVOKER);
	assert_calls(f, PROBE_WORD "\n");
	solver_free(s);
	free(f->env[--f->nenv]);
	f->env[f->nenv] = NULL;

	/* No NotImplemented convention in dehydrated mode. */
	add_env(f, "NOTIMPL_ON=deploy_challenge");
	s = must_solver(f, SOLVER_DEHYDRATED, false);
	assert_int_equal(solver_perform(s, &ch, 1), ERR_INVOKER);
	solver_free(s);
	free(f->env[--f->nenv]);
	f->env[f->nenv] = NULL;

	/* exit_hook may fail: a warning only. */
	add_env(f, "FAIL_ON=exit_hook");
	s = must_solver(f, SOLVER_DEHYDRATED, false);
	assert_int_equal(solver_emit(s, event_phase(EVENT_EXIT)), ERR_OK);
	solver_free(s);
	free(f->env[--f->nenv]);
	f->env[f->nenv] = NULL;

	/* Any other failure is fatal, deploy_cert included. */
	add_env(f, "FAIL_ON=deploy_cert");
	s = must_solver(f, SOLVER_DEHYDRATED, false);
	assert_int_equal(solver_emit(s, deploy(EVENT_DEPLOY_CERT, "a.example",
	    "/l")), ERR_INVOKER);
	solver_free(s);
	challenge_free(ch);
}

/* --- JSON mode -------------------------------------------------------- */

/* Runs one perform in JSON mode with reply (NULL: EOF) on stdin. */
static enum err
json_perform(struct fixture *f, const char *reply, char **out)
{
	struct challenge	*chs[2];
	struct solver_opts	 o;
	struct solver		*s;
	enum err		 why, e;
	int			 in[2], outp[2];

	(void)f;
	chs[0] = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	chs[1] = make_challenge(CHAL_DNS01, "b.example", "tb", "vb");
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(outp), 0);
	if (reply != NULL)
		assert_int_equal(write(in[1], reply, strlen(reply)),
		    (ssize_t)strlen(reply));
	close(in[1]);
	memset(&o, 0, sizeof o);
	o.mode = SOLVER_JSON;
	o.in_fd = in[0];
	o.out_fd = outp[1];
	s = solver_new(&o, &why);
	assert_non_null(s);
	e = solver_perform(s, chs, 2);
	solver_free(s);
	close(in[0]);
	close(outp[1]);
	*out = drain(outp[0]);
	close(outp[0]);
	free_challenges(chs, 2);
	return e;
}

static void
test_json_mode(void **state)
{
	struct fixture	*f = *state;
	char		*out;

	assert_int_equal(json_perform(f, "\n\n", &out), ERR_OK);
	assert_int_equal(count(out, "{\"cmd\": \"perform_challenge\""), 2);
	assert_non_null(strstr(out, "\"domain\": \"a.example\""));
	assert_int_equal(count(out, "\n"), 2);
	free(out);

	assert_int_equal(json_perform(f, "{\"result\": \"ok\"}\n\n", &out),
	    ERR_OK);
	free(out);

	/* EOF after the first line: the second perform is not acked. */
	assert_int_equal(json_perform(f, "\n", &out), ERR_INVOKER);
	assert_int_equal(count(out, "perform_challenge"), 2);
	free(out);
	assert_int_equal(json_perform(f, NULL, &out), ERR_INVOKER);
	assert_int_equal(count(out, "perform_challenge"), 1);
	free(out);

	assert_int_equal(json_perform(f, "{\"result\": \"fail\", \"error\": "
	    "\"no API key\"}\n", &out), ERR_INVOKER);
	assert_int_equal(count(out, "perform_challenge"), 1);
	free(out);
	assert_int_equal(json_perform(f, "yes\n", &out), ERR_INVOKER);
	free(out);
}

/* --- text mode and the self-check ------------------------------------- */

/*
 * A throwaway server on 127.0.0.1 in a child process: answers up to
 * nreq requests (UDP DNS or HTTP), then exits; killed by alarm if nobody
 * comes.  Returns the pid; *port gets the port.
 */
static pid_t
serve(int type, int nreq, const char *payload, int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	unsigned char		 q[512], r[1024];
	ssize_t			 n;
	size_t			 plen, rl;
	pid_t			 pid;
	int			 fd, c, i;

	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) != 0) {
		assert_true(pid != -1);
		close(fd);
		return pid;
	}
	alarm(10);
	plen = strlen(payload);
	for (i = 0; i < nreq; i++) {
		if (type == SOCK_STREAM) {
			if ((c = accept(fd, NULL, NULL)) == -1)
				_exit(1);
			(void)read(c, q, sizeof q);
			rl = (size_t)snprintf((char *)r, sizeof r,
			    "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
			    plen, payload);
			(void)write(c, r, rl);
			close(c);
			continue;
		}
		/* DNS: echo the question, answer one TXT of two strings
		 * (payload split in the middle). */
		len = sizeof sin;
		n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&sin,
		    &len);
		if (n < 12)
			_exit(1);
		/* The question ends after QNAME, QTYPE and QCLASS; an OPT
		 * record after it (EDNS) is not echoed. */
		for (rl = 12; rl < (size_t)n && q[rl] != 0; rl += q[rl] + 1)
			continue;
		rl += 5;
		if (rl > (size_t)n)
			_exit(1);
		memcpy(r, q, rl);
		r[2] = 0x84;	/* QR, AA */
		r[3] = 0x00;
		r[6] = 0;
		r[7] = 1;	/* ANCOUNT */
		r[8] = r[9] = r[10] = r[11] = 0;
		r[rl++] = 0xc0;
		r[rl++] = 12;
		r[rl++] = 0;
		r[rl++] = 16;	/* TXT */
		r[rl++] = 0;
		r[rl++] = 1;	/* IN */
		r[rl++] = 0;
		r[rl++] = 0;
		r[rl++] = 0;
		r[rl++] = 60;
		r[rl++] = 0;
		r[rl++] = (unsigned char)(plen + 2);
		r[rl++] = (unsigned char)(plen / 2);
		memcpy(r + rl, payload, plen / 2);
		rl += plen / 2;
		r[rl++] = (unsigned char)(plen - plen / 2);
		memcpy(r + rl, payload + plen / 2, plen - plen / 2);
		rl += plen - plen / 2;
		(void)sendto(fd, r, rl, 0, (struct sockaddr *)&sin, len);
	}
	_exit(0);
}

static void
reap(pid_t pid)
{
	int	st;

	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void
test_selfcheck(void **state)
{
	char	why[256], env[64];
	pid_t	pid;
	int	port;

	(void)state;
	pid = serve(SOCK_DGRAM, 2,
	    "667drNmQL3vX6bu8YZlgy0wKNBlCny8yrjF1lSaUndc", &port);
	snprintf(env, sizeof env, "127.0.0.1:%d", port);
	setenv("EXTAUTH_DNS_SERVER", env, 1);
	assert_true(selfcheck_dns_txt(NULL, "_acme-challenge.a.example",
	    "667drNmQL3vX6bu8YZlgy0wKNBlCny8yrjF1lSaUndc", why, sizeof why));
	assert_false(selfcheck_dns_txt(NULL, "_acme-challenge.a.example",
	    "other", why, sizeof why));
	assert_string_equal(why, "1 TXT record, none with the expected value");
	reap(pid);
	setenv("EXTAUTH_DNS_SERVER", "not-an-ip:53", 1);
	assert_false(selfcheck_dns_txt(NULL, "x.example", "v", why,
	    sizeof why));
	assert_non_null(strstr(why, "not IPv4:PORT"));
	/* The resolver the caller passes (--dns-resolver, a lineage's conf)
	 * wins over the environment: no global to set. */
	pid = serve(SOCK_DGRAM, 1,
	    "667drNmQL3vX6bu8YZlgy0wKNBlCny8yrjF1lSaUndc", &port);
	snprintf(env, sizeof env, "127.0.0.1:%d", port);
	assert_true(selfcheck_dns_txt(env, "_acme-challenge.a.example",
	    "667drNmQL3vX6bu8YZlgy0wKNBlCny8yrjF1lSaUndc", why, sizeof why));
	reap(pid);
	unsetenv("EXTAUTH_DNS_SERVER");

	pid = serve(SOCK_STREAM, 2, "ta.thumb\n", &port);
	snprintf(env, sizeof env, "%d", port);
	setenv("EXTAUTH_HTTP_PORT", env, 1);
	assert_true(selfcheck_http("http://127.0.0.1/.well-known/"
	    "acme-challenge/ta", "ta.thumb", why, sizeof why));
	assert_false(selfcheck_http("http://127.0.0.1/.well-known/"
	    "acme-challenge/ta", "tb.thumb", why, sizeof why));
	assert_string_equal(why, "the file has other content");
	reap(pid);
	unsetenv("EXTAUTH_HTTP_PORT");
}

/* Runs perform and cleanup of ch in text mode; returns what was shown. */
static enum err
text_run(struct fixture *f, struct challenge *ch, const char *input,
    bool check, char **out)
{
	struct solver_opts	 o;
	struct solver		*s;
	enum err		 why, e;
	int			 in[2], outp[2];

	(void)f;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(outp), 0);
	assert_int_equal(write(in[1], input, strlen(input)),
	    (ssize_t)strlen(input));
	close(in[1]);
	memset(&o, 0, sizeof o);
	o.mode = SOLVER_TEXT;
	o.self_check = check;
	o.in_fd = in[0];
	o.out_fd = outp[1];
	s = solver_new(&o, &why);
	assert_non_null(s);
	if ((e = solver_perform(s, &ch, 1)) == ERR_OK)
		e = solver_cleanup(s, &ch, 1);
	solver_free(s);
	close(in[0]);
	close(outp[1]);
	*out = drain(outp[0]);
	close(outp[0]);
	return e;
}

static void
test_text_mode(void **state)
{
	struct fixture		*f = *state;
	struct challenge	*ch;
	char			*out, env[64];
	pid_t			 pid;
	int			 port;

	ch = make_challenge(CHAL_DNS01, "a.example", "ta", "va");
	assert_int_equal(text_run(f, ch, "\n", false, &out), ERR_OK);
	assert_non_null(strstr(out, "Please deploy a DNS TXT record under the "
	    "name\n_acme-challenge.a.example.\nwith the following value:\n\n"
	    "va\n"));
	assert_non_null(strstr(out, "Press ENTER to continue\n"));
	assert_non_null(strstr(out, "You can now remove the TXT record "
	    "_acme-challenge.a.example. with value va\n"));
	assert_null(strstr(out, "{\"cmd\""));
	assert_null(strstr(out, "visible"));
	free(out);

	/* EOF instead of ENTER aborts. */
	ch->performed = false;
	assert_int_equal(text_run(f, ch, "", false, &out), ERR_INVOKER);
	free(out);

	/* The self-check says what it saw. */
	ch->performed = false;
	pid = serve(SOCK_DGRAM, 1, "va", &port);
	snprintf(env, sizeof env, "127.0.0.1:%d", port);
	setenv("EXTAUTH_DNS_SERVER", env, 1);
	assert_int_equal(text_run(f, ch, "\n", true, &out), ERR_OK);
	assert_non_null(strstr(out, "The record is already visible.\n"));
	free(out);
	reap(pid);
	ch->performed = false;
	pid = serve(SOCK_DGRAM, 1, "vx", &port);
	snprintf(env, sizeof env, "127.0.0.1:%d", port);
	setenv("EXTAUTH_DNS_SERVER", env, 1);
	assert_int_equal(text_run(f, ch, "\n", true, &out), ERR_OK);
	assert_non_null(strstr(out, "Self-verify of challenge failed: NOT "
	    "visible yet (1 TXT record, none with the expected value). You "
	    "may want to wait before continuing.\n"));
	free(out);
	reap(pid);
	unsetenv("EXTAUTH_DNS_SERVER");
	challenge_free(ch);

	ch = make_challenge(CHAL_HTTP01, "b.example", "tb", NULL);
	assert_int_equal(text_run(f, ch, "\n", false, &out), ERR_OK);
	assert_non_null(strstr(out, "http://b.example/.well-known/"
	    "acme-challenge/tb\n"));
	assert_non_null(strstr(out, "\ntb.thumb\n"));
	assert_non_null(strstr(out, "Press ENTER to continue\n"));
	free(out);
	challenge_free(ch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handler_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_handler_output_frame,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_notimplemented,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_handler_failure_code,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_bad_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_handler_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_values, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dehydrated_calls, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dehydrated_chain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dehydrated_verdicts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_selfcheck, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_text_mode, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
