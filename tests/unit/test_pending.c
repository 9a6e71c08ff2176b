/* test_pending.c: the pending order files of --defer (pending.c): ids,
 * a save/open round trip, the lock another process meets, and the files
 * that are refused (planted link, readable by others, not ours to parse,
 * unknown id), and what phase 1 records of where it ran (renew, the config
 * dir), readable in files written before it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pending.h"

static char	dir[] = "/tmp/test_pending.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_pending.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
ids(void **state)
{
	static const struct { const char *id; bool ok; } t[] = {
		{ "a", true }, { "Ab_9-z", true }, { "-x", true },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		    true },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		    false },
		{ "", false }, { "a/b", false }, { "..", false }, { "a.json", false },
		{ "a b", false }, { "\xc3\xa9", false },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (pending_id_ok(t[i].id) != t[i].ok)
			fail_msg("pending_id_ok(\"%s\") != %d", t[i].id, t[i].ok);
	assert_false(pending_id_ok(NULL));
}

/* A pending order with every kind of field filled, saved. */
static void
make(struct pending *p)
{
	static char	*doms[] = { "a.example", "*.a.example" };

	assert_int_equal(pending_new(p, dir), ERR_OK);
	assert_non_null(p->cert_name = strdup("a.example"));
	assert_non_null(p->domains = calloc(2, sizeof *p->domains));
	p->domains[0] = strdup(doms[0]);
	p->domains[1] = strdup(doms[1]);
	p->n_domains = 2;
	p->order_url = strdup("https://ca.example/order/1");
	p->expires = strdup("2030-01-02T03:04:05Z");
	p->server = strdup("https://ca.example/dir");
	p->account = strdup("0123abcd");
	p->key_pem = strdup("-----BEGIN PRIVATE KEY-----\nx\n-----END "
	    "PRIVATE KEY-----\n");
	p->csr = strdup("MIIB");
	p->deactivate_authz = true;
	assert_int_equal(conf_set(&p->lineage, NULL, "extauth_version", "0"),
	    ERR_OK);
	assert_int_equal(conf_set_list(&p->lineage, "renewalparams",
	    "pref_challs", "dns-01, http-01"), ERR_OK);
	assert_non_null(p->chs = calloc(2, sizeof *p->chs));
	p->n_chs = 2;
	p->chs[0].type = CHAL_DNS01;
	p->chs[0].domain = strdup("a.example");
	p->chs[0].wildcard = true;
	p->chs[0].token = strdup("tok0");
	p->chs[0].url = strdup("https://ca.example/chal/0");
	p->chs[0].authz_url = strdup("https://ca.example/authz/0");
	p->chs[0].key_auth = strdup("tok0.th");
	p->chs[0].validation = strdup("v0");
	p->chs[0].txt_domain = strdup("_acme-challenge.a.example");
	p->chs[1].type = CHAL_HTTP01;
	p->chs[1].domain = strdup("a.example");
	p->chs[1].token = strdup("tok1");
	p->chs[1].url = strdup("https://ca.example/chal/1");
	p->chs[1].authz_url = strdup("https://ca.example/authz/1");
	p->chs[1].key_auth = strdup("tok1.th");
	p->chs[1].validation = strdup("tok1.th");
	p->chs[1].uri = strdup("http://a.example/.well-known/acme-challenge/"
	    "tok1");
	assert_int_equal(pending_save(p), ERR_OK);
}

static void
round_trip(void **state)
{
	struct pending	 p, q;
	struct stat	 st;
	char		 path[256];
	size_t		 i;

	(void)state;
	make(&p);
	/* 128 random bits as hex: never a leading '-' an option parser
	 * would take. */
	assert_int_equal(strlen(p.id), 32);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", p.id[i]));
	snprintf(path, sizeof path, "%s/pending/%s.json", dir, p.id);
	assert_string_equal(p.path, path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(path, sizeof path, "%s/pending", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	assert_int_equal(pending_open(&q, dir, p.id), ERR_OK);
	assert_true(q.lock_fd >= 0);
	assert_string_equal(q.cert_name, "a.example");
	assert_int_equal(q.n_domains, 2);
	assert_string_equal(q.domains[1], "*.a.example");
	assert_string_equal(q.order_url, p.order_url);
	assert_string_equal(q.expires, p.expires);
	assert_int_equal(q.expires_at, 1893553445L);
	assert_string_equal(q.server, p.server);
	assert_string_equal(q.account, p.account);
	assert_string_equal(q.key_pem, p.key_pem);
	assert_string_equal(q.csr, "MIIB");
	assert_true(q.deactivate_authz);
	assert_false(q.foreign);
	assert_string_equal(conf_get(&q.lineage, NULL, "extauth_version"), "0");
	assert_string_equal(conf_get(&q.lineage, "renewalparams",
	    "pref_challs"), "dns-01, http-01");
	assert_true(q.lineage.kv[1].list);
	assert_int_equal(q.n_chs, 2);
	assert_int_equal(q.chs[0].type, CHAL_DNS01);
	assert_true(q.chs[0].wildcard);
	assert_string_equal(q.chs[0].txt_domain, "_acme-challenge.a.example");
	assert_null(q.chs[0].uri);
	assert_int_equal(q.chs[1].type, CHAL_HTTP01);
	assert_false(q.chs[1].wildcard);
	assert_null(q.chs[1].txt_domain);
	assert_string_equal(q.chs[1].uri, p.chs[1].uri);
	assert_string_equal(q.chs[1].key_auth, "tok1.th");

	assert_int_equal(pending_remove(&q), ERR_OK);
	pending_clear(&q);
	assert_int_equal(pending_read(&q, dir, p.id), ERR_PENDING);
	pending_clear(&q);
	pending_clear(&p);
}

/* What another process meets while this one holds the order: ERR_PENDING;
 * once it is let go, the order opens again. */
static void
lock(void **state)
{
	struct pending	 p, q;
	pid_t		 pid;
	int		 st;

	(void)state;
	make(&p);
	assert_int_equal(pending_open(&q, dir, p.id), ERR_OK);
	if ((pid = fork()) == 0) {
		struct pending	c;

		_exit(pending_open(&c, dir, p.id) == ERR_PENDING ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pending_clear(&q);
	if ((pid = fork()) == 0) {
		struct pending	c;

		_exit(pending_open(&c, dir, p.id) == ERR_OK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pending_clear(&p);
}

static void
refused(void **state)
{
	struct pending	 p, q;
	char		 path[256], other[256];
	FILE		*f;

	(void)state;
	/* Unknown. */
	assert_int_equal(pending_open(&q, dir, "0123"), ERR_PENDING);
	pending_clear(&q);
	make(&p);
	snprintf(path, sizeof path, "%s/pending/%s.json", dir, p.id);
	snprintf(other, sizeof other, "%s/elsewhere.json", dir);
	/* Readable by others. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(pending_open(&q, dir, p.id), ERR_STORAGE);
	pending_clear(&q);
	/* A planted link, even to a good file: not followed. */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(rename(path, other), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(pending_open(&q, dir, p.id), ERR_STORAGE);
	pending_clear(&q);
	assert_int_equal(unlink(path), 0);
	/* Not JSON; JSON of another id. */
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"version\": 1, \"id\": ", f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(pending_open(&q, dir, p.id), ERR_STORAGE);
	pending_clear(&q);
	assert_int_equal(rename(other, path), 0);
	p.id[0] = p.id[0] == 'a' ? 'b' : 'a';
	snprintf(other, sizeof other, "%s/pending/%s.json", dir, p.id);
	assert_int_equal(rename(path, other), 0);
	assert_int_equal(pending_open(&q, dir, p.id), ERR_STORAGE);
	pending_clear(&q);
	pending_clear(&p);
}

/* Drops every line of path holding needle (JSON_INDENT(1): a key a
 * line), as a file written before that key existed. */
static void
drop_lines(const char *path, const char *needle)
{
	char	 cmd[512];

	snprintf(cmd, sizeof cmd, "sed -i '/%s/d' '%s'", needle, path);
	assert_int_equal(system(cmd), 0);
}

static void
origin(void **state)
{
	struct pending	 p, q;

	(void)state;
	make(&p);
	p.renew = true;
	assert_non_null(p.config_dir = strdup("/etc/extauth-x"));
	assert_int_equal(pending_save(&p), ERR_OK);
	assert_int_equal(pending_read(&q, dir, p.id), ERR_OK);
	assert_true(q.renew);
	assert_string_equal(q.config_dir, "/etc/extauth-x");
	pending_clear(&q);
	/* An older file: neither key.  It reads, as certonly's with no
	 * config dir recorded. */
	drop_lines(p.path, "\"renew\"");
	drop_lines(p.path, "\"config_dir\"");
	assert_int_equal(pending_read(&q, dir, p.id), ERR_OK);
	assert_false(q.renew);
	assert_null(q.config_dir);
	assert_string_equal(q.cert_name, "a.example");
	pending_clear(&q);
	/* A relative one would mean another place from another cwd. */
	free(p.config_dir);
	assert_non_null(p.config_dir = strdup("etc/extauth-x"));
	assert_int_equal(pending_save(&p), ERR_OK);
	assert_int_equal(pending_read(&q, dir, p.id), ERR_STORAGE);
	pending_clear(&q);
	pending_clear(&p);
}

static void
list(void **state)
{
	struct pending	  a, b;
	char		**v, path[256], *want[2];
	size_t		  n, i;
	FILE		 *f;

	(void)state;
	assert_int_equal(pending_list(dir, &v, &n), ERR_OK);
	assert_int_equal(n, 0);
	assert_null(v);
	make(&a);
	make(&b);
	/* Not ids: a temp file, another name. */
	snprintf(path, sizeof path, "%s/pending/.%s.json.extauth.XyZ12a", dir,
	    a.id);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof path, "%s/pending/not an id.json", dir);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(pending_list(dir, &v, &n), ERR_OK);
	assert_int_equal(n, 2);
	want[0] = strcmp(a.id, b.id) < 0 ? a.id : b.id;
	want[1] = strcmp(a.id, b.id) < 0 ? b.id : a.id;
	for (i = 0; i < n; i++) {
		assert_string_equal(v[i], want[i]);
		free(v[i]);
	}
	free(v);
	pending_clear(&a);
	pending_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids),
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(lock, setup, teardown),
		cmocka_unit_test_setup_teardown(refused, setup, teardown),
		cmocka_unit_test_setup_teardown(list, setup, teardown),
		cmocka_unit_test_setup_teardown(origin, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
