/*
 * test_store.c: unit tests of store.c, each in a fresh mkdtemp directory:
 * atomic writes and modes, the run lock across processes, lineage
 * versions and live links, renewal confs (ours and certbot-written),
 * accounts, name checks and lineage listing.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "log.h"
#include "conf.h"
#include "store.h"

#define FIXTURE_DIR	"/tmp/test_store.XXXXXX"
#include "store_fixture.h"

/* Number of entries of dir whose name starts with prefix. */
static int
count_prefixed(const char *dir, const char *prefix)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void
write_text(const char *path, const char *text)
{
	assert_int_equal(store_write_atomic(path, text, strlen(text), 0644),
	    ERR_OK);
}

static void
assert_file_is(const char *path, const char *text)
{
	char	*buf;
	size_t	 len;

	assert_int_equal(store_read_file(path, &buf, &len, false), ERR_OK);
	assert_int_equal(len, strlen(text));
	assert_string_equal(buf, text);
	free(buf);
}

static void
test_atomic_write(void **state)
{
	struct fixture	*f = *state;
	char		*path = pathf("%s/a.txt", f->dir);
	char		*sub = pathf("%s/sub", f->dir);
	char		*buf;
	mode_t		 old;

	old = umask(0);
	assert_int_equal(store_write_atomic(path, "one", 3, 0640), ERR_OK);
	assert_int_equal(mode_of(path), 0640);
	umask(077);
	assert_int_equal(store_write_atomic(path, "second", 6, 0644), ERR_OK);
	assert_int_equal(mode_of(path), 0644);
	umask(old);
	assert_file_is(path, "second");
	/* a 0400 file is replaced too: rename needs only the directory */
	assert_int_equal(store_write_atomic(path, "k", 1, 0400), ERR_OK);
	assert_int_equal(store_write_atomic(path, "k2", 2, 0400), ERR_OK);
	assert_int_equal(mode_of(path), 0400);
	assert_file_is(path, "k2");
	assert_int_equal(count_prefixed(f->dir, ".a.txt."), 0);

	/* the rename fails (target is a directory): temp file gone */
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(store_write_atomic(sub, "x", 1, 0644), ERR_STORAGE);
	assert_int_equal(count_prefixed(f->dir, ".sub."), 0);

	/* reading: missing_ok, and the cap */
	free(path);
	path = pathf("%s/missing", f->dir);
	assert_int_equal(store_read_file(path, &buf, NULL, true), ERR_OK);
	assert_null(buf);
	assert_int_equal(store_read_file(path, &buf, NULL, false),
	    ERR_STORAGE);
	free(path);
	path = pathf("%s/big", f->dir);
	assert_non_null(buf = calloc(1, STORE_FILE_MAX + 1));
	assert_int_equal(store_write_atomic(path, buf, STORE_FILE_MAX + 1,
	    0600), ERR_OK);
	free(buf);
	assert_int_equal(store_read_file(path, &buf, NULL, false),
	    ERR_STORAGE);
	assert_null(buf);
	free(path);
	free(sub);
}

static void
test_mkdirs_and_open_modes(void **state)
{
	struct fixture	*f = *state;
	char		*p;
	mode_t		 old;

	p = pathf("%s/accounts", f->cfg);
	assert_int_equal(mode_of(p), 0700);
	free(p);
	p = pathf("%s/archive", f->cfg);
	assert_int_equal(mode_of(p), 0700);
	free(p);
	p = pathf("%s/live", f->cfg);
	assert_int_equal(mode_of(p), 0755);
	free(p);
	p = pathf("%s/renewal", f->cfg);
	assert_int_equal(mode_of(p), 0755);
	free(p);

	old = umask(077);
	p = pathf("%s/x/y/z", f->dir);
	assert_int_equal(store_mkdirs(p, 0755), ERR_OK);
	assert_int_equal(mode_of(p), 0755);
	umask(old);
	free(p);
}

/* Lines in the run list of .extauth.lock. */
static int
run_lines(const struct fixture *f)
{
	char	*p = pathf("%s/.extauth.lock", f->cfg), buf[256];
	ssize_t	 n;
	int	 fd, lines = 0;

	assert_true((fd = open(p, O_RDONLY)) != -1);
	assert_true((n = read(fd, buf, sizeof buf)) >= 0);
	close(fd);
	free(p);
	for (; n > 0; n--)
		if (buf[n - 1] == '\n')
			lines++;
	return lines;
}

/*
 * Issue 10: runs share the config dir.  A second process locks the store
 * and one lineage, then dies without letting go (as a crash or SIGKILL
 * would).  Meanwhile this one locks the store too, gets ERR_LOCKED for
 * that lineage and not for another; once the other is dead its lineage
 * is free (fcntl locks die with their process), and a run that starts
 * alone finds the dead run's line and tidies up after it.
 */
static void
test_lock(void **state)
{
	struct fixture		*f = *state;
	struct store		 other, again;
	struct store_lineage	*held, *free_one;
	const char		*why;
	pid_t			 pid;
	int			 up[2], down[2], status, dl = -1;
	char			 c;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		struct store_lineage	*ln;

		close(up[0]);
		close(down[1]);
		if (store_open(&other, f->cfg, NULL, NULL) != ERR_OK ||
		    store_lock(&other) != ERR_OK ||
		    (ln = store_lineage_open(&other, "held.example",
		    &why)) == NULL || store_lineage_lock(ln) != ERR_OK)
			_exit(1);
		if (write(up[1], "L", 1) != 1)
			_exit(2);
		if (read(down[0], &c, 1) < 0)
			_exit(3);
		/* A crash: no store_close, no unlock, no exit handlers (and
		 * no leak report from valgrind, which a plain exit gives). */
		raise(SIGKILL);
		_exit(4);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);
	assert_int_equal(store_lock(&f->st), ERR_OK);
	assert_true(f->st.lock_fd != -1);
	assert_int_equal(run_lines(f), 2);
	assert_non_null(held = store_lineage_open(&f->st, "held.example",
	    &why));
	assert_non_null(free_one = store_lineage_open(&f->st, "free.example",
	    &why));
	assert_int_equal(store_lineage_lock(held), ERR_LOCKED);
	assert_int_equal(store_lineage_lock(free_one), ERR_OK);
	/* the config-dir lock is free between whole-dir operations */
	assert_int_equal(store_dir_lock(&f->st, false, &dl), ERR_OK);
	store_dir_unlock(&dl);
	assert_int_equal(dl, -1);
	close(down[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(up[0]);
	assert_int_equal(store_lineage_lock(held), ERR_OK);
	store_lineage_close(held);
	store_lineage_close(free_one);
	/* our line goes, the dead run's stays */
	store_close(&f->st);
	assert_int_equal(run_lines(f), 1);
	/* alone now: tidies up and starts the list afresh */
	assert_int_equal(store_open(&again, f->cfg, NULL, NULL), ERR_OK);
	assert_int_equal(store_lock(&again), ERR_OK);
	assert_int_equal(run_lines(f), 1);
	store_close(&again);
	assert_int_equal(run_lines(f), 0);
	assert_int_equal(store_open(&f->st, f->cfg, NULL, NULL), ERR_OK);
}

/* A lineage of the fixture's store by a name the test knows is good. */
static struct store_lineage *
open_lineage(struct fixture *f, const char *name)
{
	struct store_lineage	*ln;
	const char		*why = NULL;

	ln = store_lineage_open(&f->st, name, &why);
	assert_non_null(ln);
	assert_null(why);
	return ln;
}

static const struct store_new_cert cert1 = {
	"KEY1\n", "CERT1\n", "CHAIN1\n", "FULL1\n"
};
static const struct store_new_cert cert2 = {
	"KEY2\n", "CERT2\n", "CHAIN2\n", "FULL2\n"
};

static void
test_lineage_save(void **state)
{
	static const char *const kinds[] = {
		"cert", "chain", "fullchain", "privkey"
	};
	struct fixture		*f = *state;
	struct store_paths	 lp;
	struct store_lineage	*ln = open_lineage(f, "example.com");
	char			 target[256];
	char			*p, *want;
	ssize_t			 len;
	size_t			 i;
	int			 v;

	assert_int_equal(store_lineage_version(ln), 0);
	assert_int_equal(store_lineage_save(ln, &cert1,
	    NULL, NULL, &v), ERR_OK);
	assert_int_equal(v, 1);
	assert_int_equal(store_lineage_version(ln), 1);
	assert_int_equal(store_lineage_save(ln, &cert2,
	    NULL, NULL, &v), ERR_OK);
	assert_int_equal(v, 2);
	assert_int_equal(store_lineage_version(ln), 2);

	for (i = 0; i < 4; i++) {
		p = pathf("%s/live/example.com/%s.pem", f->cfg, kinds[i]);
		assert_true((len = readlink(p, target, sizeof target - 1)) > 0);
		target[len] = '\0';
		want = pathf("../../archive/example.com/%s2.pem", kinds[i]);
		assert_string_equal(target, want);
		free(want);
		free(p);
	}
	store_lineage_paths(ln, &lp);
	assert_file_is(lp.cert, "CERT2\n");
	assert_file_is(lp.privkey, "KEY2\n");
	assert_file_is(lp.chain, "CHAIN2\n");
	assert_file_is(lp.fullchain, "FULL2\n");
	store_lineage_paths_clear(&lp);
	assert_null(lp.cert);
	store_lineage_close(ln);

	p = pathf("%s/archive/example.com/privkey2.pem", f->cfg);
	assert_int_equal(mode_of(p), 0600);
	free(p);
	p = pathf("%s/archive/example.com/cert2.pem", f->cfg);
	assert_int_equal(mode_of(p), 0644);
	free(p);
	p = pathf("%s/archive/example.com", f->cfg);
	assert_int_equal(mode_of(p), 0700);
	free(p);
	p = pathf("%s/live/example.com", f->cfg);
	assert_int_equal(mode_of(p), 0755);
	assert_int_equal(count_prefixed(p, "."), 2);	/* only . and .. */
	free(p);
	p = pathf("%s/live/example.com/README", f->cfg);
	assert_int_equal(access(p, F_OK), 0);
	free(p);
	p = pathf("%s/live/README", f->cfg);
	assert_int_equal(access(p, F_OK), 0);
	free(p);
}

struct sync_seen {
	int	 calls;
	mode_t	 key_mode;
	char	 cert[512];
};

static int
sync_fail(void *arg, const char *key, const char *cert,
    const char *fullchain, const char *chain)
{
	struct sync_seen	*seen = arg;
	struct stat		 sb;

	seen->calls++;
	if (stat(key, &sb) == 0)
		seen->key_mode = sb.st_mode & 07777;
	snprintf(seen->cert, sizeof seen->cert, "%s", cert);
	return access(fullchain, R_OK) == 0 && access(chain, R_OK) == 0 ?
	    1 : 2;
}

static void
test_sync_abort(void **state)
{
	struct fixture		*f = *state;
	struct store_lineage	*ln = open_lineage(f, "a.example");
	struct sync_seen	 seen = { 0, 0, "" };
	char			 target[256];
	char			*p;
	ssize_t			 len;
	int			 v;

	assert_int_equal(store_lineage_save(ln, &cert1, NULL,
	    NULL, &v), ERR_OK);
	assert_int_equal(store_lineage_save(ln, &cert2,
	    sync_fail, &seen, &v), ERR_INVOKER);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.key_mode, 0600);
	p = pathf("%s/archive/a.example/cert2.pem", f->cfg);
	assert_string_equal(seen.cert, p);
	/* the aborted set is gone, live still at 1 */
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	assert_int_equal(store_lineage_version(ln), 1);
	p = pathf("%s/live/a.example/fullchain.pem", f->cfg);
	assert_true((len = readlink(p, target, sizeof target - 1)) > 0);
	target[len] = '\0';
	assert_string_equal(target, "../../archive/a.example/fullchain1.pem");
	assert_file_is(p, "FULL1\n");
	free(p);
	store_lineage_close(ln);
}

static void
test_lineage_broken_and_delete(void **state)
{
	struct fixture		*f = *state;
	struct store_lineage	*ln = open_lineage(f, "b.example");
	struct conf	 conf;
	char			*p, *conf_path;
	int			 v;

	assert_int_equal(store_lineage_save(ln, &cert1, NULL,
	    NULL, &v), ERR_OK);
	memset(&conf, 0, sizeof conf);
	assert_int_equal(conf_set(&conf, NULL, "version", "2.1.0"),
	    ERR_OK);
	assert_non_null(conf_path = store_lineage_conf_path(ln));
	assert_int_equal(conf_write(conf_path, &conf), ERR_OK);
	conf_clear(&conf);

	/* dangling link and plain file are broken lineages */
	p = pathf("%s/archive/b.example/cert1.pem", f->cfg);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(store_lineage_version(ln), -1);
	free(p);
	p = pathf("%s/live/b.example/cert.pem", f->cfg);
	assert_int_equal(unlink(p), 0);
	write_text(p, "not a link");
	assert_int_equal(store_lineage_version(ln), -1);
	free(p);

	assert_int_equal(store_lineage_delete(ln), ERR_OK);
	assert_int_equal(access(conf_path, F_OK), -1);
	p = pathf("%s/live/b.example", f->cfg);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	p = pathf("%s/archive/b.example", f->cfg);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	assert_int_equal(store_lineage_version(ln), 0);
	assert_int_equal(store_lineage_delete(ln), ERR_OK);
	free(conf_path);
	store_lineage_close(ln);
}

/*
 * A lineage handle exists only for a good name: store_lineage_open() is the
 * one constructor (the type is opaque, meson.build checks that it stays
 * so), and it refuses every name that could leave its directory or break
 * a file name, saying why.  So no store function can be handed an
 * unchecked name.
 */
static void
test_bad_names(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", "a/b", "../x", ".hidden", "tab\there",
		"nl\n", "caf\xc3\xa9", "x/../../y",
	};
	struct fixture		*f = *state;
	struct store_lineage	*ln;
	const char		*why;
	char			 longname[252], name[16] = "ok.example";
	size_t			 i;
	int			 v;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_null(store_lineage_open(&f->st, bad[i], &why));
		assert_non_null(why);
		assert_string_equal(why, store_lineage_name_problem(bad[i]));
	}
	why = NULL;
	assert_null(store_lineage_open(&f->st, NULL, &why));
	assert_string_equal(why, "empty");
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_null(store_lineage_open(&f->st, longname, &why));
	assert_string_equal(why, "longer than 250 characters");
	longname[250] = '\0';
	assert_null(store_lineage_name_problem(longname));
	ln = open_lineage(f, longname);
	assert_int_equal(store_lineage_save(ln, &cert1, NULL, NULL, &v),
	    ERR_OK);
	store_lineage_close(ln);
	/* nothing escaped the config directory */
	assert_int_equal(count_prefixed(f->dir, "x"), 0);
	assert_int_equal(count_prefixed(f->dir, "."), 2);
	/* The handle keeps its own copy of the checked name: a caller
	 * rewriting its buffer afterwards cannot change where it writes. */
	ln = open_lineage(f, name);
	memcpy(name, "../../etc", sizeof "../../etc");
	assert_string_equal(store_lineage_name(ln), "ok.example");
	store_lineage_close(ln);
	store_lineage_close(NULL);
}

/* The paths only store.c builds: lineage directories, existence, the
 * lineage of a file, the CSR file. */
static void
test_lineage_paths(void **state)
{
	struct fixture		*f = *state;
	struct store_paths	 lp;
	struct store_lineage	*ln = open_lineage(f, "ex.com"), *of;
	char			*p, *want, *csr, *other;
	int			 v;

	assert_false(store_lineage_exists(ln));
	p = store_lineage_dir(ln, STORE_LIVE);
	want = pathf("%s/live/ex.com", f->cfg);
	assert_string_equal(p, want);
	free(p);
	free(want);
	p = store_lineage_dir(ln, STORE_ARCHIVE);
	want = pathf("%s/archive/ex.com", f->cfg);
	assert_string_equal(p, want);
	free(p);
	free(want);
	assert_int_equal(store_lineage_save(ln, &cert1, NULL,
	    NULL, &v), ERR_OK);
	assert_true(store_lineage_exists(ln));
	/* live/ex.com/cert.pem resolves into archive/ex.com/ */
	store_lineage_paths(ln, &lp);
	assert_non_null(of = store_lineage_of_path(&f->st, lp.cert));
	assert_string_equal(store_lineage_name(of), "ex.com");
	store_lineage_close(of);
	store_lineage_paths_clear(&lp);
	other = pathf("%s/outside.pem", f->dir);
	write_text(other, "x");
	assert_null(store_lineage_of_path(&f->st, other));
	assert_null(store_lineage_of_path(&f->st, "/nonexistent/x"));
	free(other);
	/* csr/NAME.pem */
	assert_int_equal(store_lineage_csr_save(ln, "PEM\n", &csr), ERR_OK);
	want = pathf("%s/csr/ex.com.pem", f->cfg);
	assert_string_equal(csr, want);
	assert_file_is(csr, "PEM\n");
	assert_int_equal(mode_of(csr), 0644);
	free(csr);
	free(want);
	store_lineage_close(ln);
}

/*
 * One process, several lineage locks (renew's workers): two handles of
 * one lineage exclude each other as two processes would (open file
 * description locks), a handle that holds it may ask again, and closing
 * one handle lets go of its lineage only.  The config-dir lock excludes
 * a second taker in the same process too.
 */
static void
test_lineage_lock_in_process(void **state)
{
	struct fixture		*f = *state;
	struct store_lineage	*a1, *a2, *b;
	char			*p;
	int			 dl1 = -1, dl2 = -1, v;

	assert_int_equal(store_lock(&f->st), ERR_OK);
	a1 = open_lineage(f, "a.example");
	a2 = open_lineage(f, "a.example");
	b = open_lineage(f, "b.example");
	assert_int_equal(store_lineage_lock(a1), ERR_OK);
	assert_int_equal(store_lineage_lock(a1), ERR_OK);
	assert_int_equal(store_lineage_lock(a2), ERR_LOCKED);
	assert_int_equal(store_lineage_lock(b), ERR_OK);
	/* delete needs the lock: refused while a1 holds it */
	assert_int_equal(store_lineage_delete(a2), ERR_LOCKED);
	assert_int_equal(store_lineage_save(a1, &cert1, NULL, NULL, &v),
	    ERR_OK);
	store_lineage_close(a1);
	assert_int_equal(store_lineage_lock(a2), ERR_OK);
	assert_int_equal(store_lineage_version(a2), 1);
	/* b is still held: a fresh handle of it is refused */
	a1 = open_lineage(f, "b.example");
	assert_int_equal(store_lineage_lock(a1), ERR_LOCKED);
	store_lineage_close(a1);
	/* delete removes the lock file last */
	assert_int_equal(store_lineage_delete(a2), ERR_OK);
	p = pathf("%s/renewal/a.example.lock", f->cfg);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	p = pathf("%s/renewal/b.example.lock", f->cfg);
	assert_int_equal(mode_of(p), 0600);
	store_lineage_close(a2);
	/* b never became a lineage: its lock file goes with the handle */
	store_lineage_close(b);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	assert_int_equal(store_dir_lock(&f->st, false, &dl1), ERR_OK);
	assert_int_equal(store_dir_lock(&f->st, false, &dl2), ERR_LOCKED);
	assert_int_equal(dl2, -1);
	store_dir_unlock(&dl1);
	assert_int_equal(store_dir_lock(&f->st, false, &dl2), ERR_OK);
	store_dir_unlock(&dl2);
}

/*
 * A run that started beside others did not tidy up after dead runs, so
 * taking a lineage's lock completes the links a dead run left half
 * flipped (privkey at the new version, cert at the old); a run that
 * started alone did that for every lineage already and skips it.
 */
static void
test_lineage_lock_repairs(void **state)
{
	struct fixture		*f = *state;
	struct store		 beside;
	struct store_lineage	*ln;
	const char		*why;
	char			*p, target[256];
	ssize_t			 len;
	int			 v;

	assert_int_equal(store_lock(&f->st), ERR_OK);
	assert_true(f->st.alone);
	ln = open_lineage(f, "h.example");
	assert_int_equal(store_lineage_save(ln, &cert1, NULL, NULL, &v),
	    ERR_OK);
	assert_int_equal(store_lineage_save(ln, &cert2, NULL, NULL, &v),
	    ERR_OK);
	store_lineage_close(ln);
	/* a run killed between the privkey and the cert link */
	p = pathf("%s/live/h.example/cert.pem", f->cfg);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("../../archive/h.example/cert1.pem", p), 0);
	/* alone: left as it is (its start repaired what was there) */
	ln = open_lineage(f, "h.example");
	assert_int_equal(store_lineage_lock(ln), ERR_OK);
	assert_int_equal(store_lineage_version(ln), 1);
	store_lineage_close(ln);
	/* beside another run: completed to version 2 */
	assert_int_equal(store_open(&beside, f->cfg, NULL, NULL), ERR_OK);
	assert_int_equal(store_lock(&beside), ERR_OK);
	assert_false(beside.alone);
	assert_non_null(ln = store_lineage_open(&beside, "h.example", &why));
	assert_int_equal(store_lineage_lock(ln), ERR_OK);
	assert_int_equal(store_lineage_version(ln), 2);
	assert_true((len = readlink(p, target, sizeof target - 1)) > 0);
	target[len] = '\0';
	assert_string_equal(target, "../../archive/h.example/cert2.pem");
	store_lineage_close(ln);
	store_close(&beside);
	free(p);
}

static void
test_account(void **state)
{
	static const char *const hostile[] = {
		"https://evil.example/../../etc",
		"https://../x",
		"https://a.example/dir/./x",
		"https://a.example/dir?x=1",
		"https://user@a.example/dir",
		"https://a.example/d%2e%2e",
		"https://[::1]:14000/dir",
		"file:///etc/passwd",
		"a.example/dir",
		"https://",
		"https://a.example/x y",
	};
	struct fixture		*f = *state;
	struct store_account	 acct;
	json_t			*meta;
	const char		*dt;
	char			*p, *want;
	size_t			 i;
	const char		*le = "https://acme-v02.api.letsencrypt.org/"
				    "directory";
	const char		*pebble = "https://127.0.0.1:14000/dir";

	assert_non_null(p = store_account_server_dir(&f->st, le));
	want = pathf("%s/accounts/acme-v02.api.letsencrypt.org/directory",
	    f->cfg);
	assert_string_equal(p, want);
	free(p);
	free(want);
	assert_non_null(p = store_account_server_dir(&f->st, pebble));
	want = pathf("%s/accounts/127.0.0.1:14000/dir", f->cfg);
	assert_string_equal(p, want);
	free(p);
	free(want);
	for (i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		assert_null(store_account_server_dir(&f->st, hostile[i]));
		assert_int_equal(store_account_save(&f->st, hostile[i], "abc",
		    "{}", "{\"uri\": \"u\"}"), ERR_USAGE);
	}

	assert_int_equal(store_account_load(&f->st, le, NULL, &acct), ERR_OK);
	assert_null(acct.id);
	assert_int_equal(store_account_save(&f->st, le, "bbb", "{\"k\":2}",
	    "{\"body\": {}, \"uri\": \"https://ca/acct/2\"}"), ERR_OK);
	assert_int_equal(store_account_save(&f->st, le, "aaa", "{\"k\":1}",
	    "{\"body\": {}, \"uri\": \"https://ca/acct/1\"}"), ERR_OK);
	assert_int_equal(store_account_save(&f->st, le, "../x", "{}",
	    "{\"uri\": \"u\"}"), ERR_USAGE);
	assert_int_equal(store_account_save(&f->st, le, "ccc", "{}",
	    "{\"body\": {}}"), ERR_INTERNAL);

	assert_int_equal(store_account_load(&f->st, le, NULL, &acct), ERR_OK);
	assert_non_null(acct.id);
	assert_string_equal(acct.id, "aaa");
	assert_string_equal(acct.key_jwk, "{\"k\":1}");
	assert_string_equal(acct.uri, "https://ca/acct/1");
	assert_string_equal(acct.regr,
	    "{\"body\": {}, \"uri\": \"https://ca/acct/1\"}");
	want = pathf("%s/accounts/acme-v02.api.letsencrypt.org/directory/aaa",
	    f->cfg);
	assert_string_equal(acct.dir, want);
	assert_int_equal(mode_of(want), 0700);
	free(want);
	store_account_clear(&acct);

	assert_int_equal(store_account_load(&f->st, le, "bbb", &acct), ERR_OK);
	assert_string_equal(acct.uri, "https://ca/acct/2");
	p = pathf("%s/private_key.json", acct.dir);
	assert_int_equal(mode_of(p), 0400);
	free(p);
	p = pathf("%s/meta.json", acct.dir);
	assert_int_equal(mode_of(p), 0644);
	assert_non_null(meta = json_load_file(p, 0, NULL));
	assert_non_null(dt = json_string_value(json_object_get(meta,
	    "creation_dt")));
	assert_int_equal(strlen(dt), strlen("2025-01-01T00:00:00Z"));
	assert_int_equal(dt[strlen(dt) - 1], 'Z');
	assert_non_null(json_string_value(json_object_get(meta,
	    "creation_host")));
	json_decref(meta);
	free(p);
	/* a re-save keeps working over the 0400 key */
	assert_int_equal(store_account_save(&f->st, le, "bbb", "{\"k\":3}",
	    "{\"uri\": \"https://ca/acct/2\"}"), ERR_OK);
	store_account_clear(&acct);
	assert_int_equal(store_account_load(&f->st, le, "bbb", &acct), ERR_OK);
	assert_string_equal(acct.key_jwk, "{\"k\":3}");
	store_account_clear(&acct);

	assert_int_equal(store_account_load(&f->st, le, "zzz", &acct), ERR_OK);
	assert_null(acct.id);
	assert_int_equal(store_account_load(&f->st, le, "a/b", &acct),
	    ERR_USAGE);
	assert_int_equal(store_account_load(&f->st, pebble, NULL, &acct),
	    ERR_OK);
	assert_null(acct.id);
	assert_int_equal(count_prefixed(f->dir, "."), 2);
}

static void
test_list_lineages(void **state)
{
	static const char *const junk[] = {
		".hidden.conf", "notes.txt", "a.conf.bak", ".conf", "x.conf~",
		"bad\tname.conf",
	};
	struct fixture	 *f = *state;
	struct timespec	  t0, t1;
	char		**names;
	char		 *p;
	size_t		  n, i;
	int		  fd;

	assert_int_equal(store_lineage_list(&f->st, &names, &n), ERR_OK);
	assert_int_equal(n, 0);
	free(names);
	for (i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		p = pathf("%s/renewal/%s", f->cfg, junk[i]);
		write_text(p, "");
		free(p);
	}
	p = pathf("%s/renewal/dir.conf", f->cfg);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	/* 50,000 lineages, created in an order that is not sorted */
	for (i = 0; i < 50000; i++) {
		p = pathf("%s/renewal/n%05zu.example.conf", f->cfg,
		    (i * 7919) % 50000);
		assert_true((fd = open(p, O_CREAT | O_WRONLY, 0644)) != -1);
		close(fd);
		free(p);
	}
	p = pathf("%s/renewal/B.conf", f->cfg);
	write_text(p, "");
	free(p);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_lineage_list(&f->st, &names, &n), ERR_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	assert_int_equal(n, 50001);
	assert_string_equal(names[0], "B");
	assert_string_equal(names[1], "n00000.example");
	assert_string_equal(names[50000], "n49999.example");
	for (i = 1; i < n; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atomic_write, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mkdirs_and_open_modes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_save, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sync_abort, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lineage_broken_and_delete,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lineage_paths, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lineage_lock_in_process,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lineage_lock_repairs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_lineages, setup,
		    teardown),
	};

	log_init(0, true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
