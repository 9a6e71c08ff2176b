/*
 * test_renewal.c: the renewal conf's key table.  Every key written is read
 * back equal; values the reader refuses are refused by the writer first
 * (a property test over random hostile strings); bad values in a conf are
 * reported by key, never echoed.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "lineage.h"
#include "renewal.h"
#include "store.h"

struct fixture {
	char	dir[64];
	char	path[128];
};

static int
setup(void **state)
{
	struct fixture	*f;

	if ((f = calloc(1, sizeof *f)) == NULL)
		return -1;
	strcpy(f->dir, "/tmp/test_renewal.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/x.conf", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static char	cert[] = "/c/live/x/cert.pem", key[] = "/c/live/x/privkey.pem";
static char	chain[] = "/c/live/x/chain.pem";
static char	full[] = "/c/live/x/fullchain.pem";
static const struct store_paths live = { cert, chain, full, key };
static const struct renewal_files files = { "/c/archive/x", &live,
    "/usr/bin/extauth" };

/* p with every recorded field set to something other than its default. */
static void
fill(struct lineage_params *p)
{
	char	*d[] = { "a.example", "*.b.example", "192.0.2.1", "2001:db8::1" };

	lineage_params_defaults(p);
	assert_non_null(p->name = strdup("x"));
	assert_non_null(p->server = strdup("https://ca.example/dir"));
	assert_non_null(p->account = strdup("0123456789abcdef"));
	assert_non_null(p->ca_bundle = strdup("/etc/ssl/ca bundle.pem"));
	assert_true(lineage_params_set_domains(p, d, 4));
	p->prefs[0] = CHAL_HTTP01;
	p->n_prefs = 1;
	p->key.type = CRYPTO_KEY_ECDSA;
	p->key.curve = "secp384r1";
	p->mode = SOLVER_DEHYDRATED;
	assert_non_null(p->handler = strdup("/usr/local/bin/hook.sh"));
	p->hook_chain = true;
	assert_non_null(p->deploy_hook = strdup("systemctl reload nginx"));
	assert_non_null(p->renew_before = strdup("10 days"));
	p->dns_wait_s = 120;
	assert_non_null(p->dns_resolver = strdup("127.0.0.1:5353"));
	assert_non_null(p->required_profile = strdup("shortlived"));
	/* A comma: configobj would read a list unless it is quoted. */
	assert_non_null(p->preferred_chain = strdup("Root X1, Inc."));
	p->reuse_key = true;
	p->cache_version = 7;
	p->cache_not_before = 1700000000;
	p->cache_not_after = 1707776000;
}

static void
assert_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Every recorded field of a equals b's. */
static void
assert_same(const struct lineage_params *a, const struct lineage_params *b)
{
	size_t	i;

	assert_str_eq(a->server, b->server);
	assert_str_eq(a->account, b->account);
	assert_str_eq(a->ca_bundle, b->ca_bundle);
	assert_int_equal(a->n_domains, b->n_domains);
	for (i = 0; i < a->n_domains; i++)
		assert_string_equal(a->domains[i], b->domains[i]);
	assert_int_equal(a->n_prefs, b->n_prefs);
	for (i = 0; i < a->n_prefs; i++)
		assert_int_equal(a->prefs[i], b->prefs[i]);
	assert_int_equal(a->key.type, b->key.type);
	if (a->key.type == CRYPTO_KEY_RSA)
		assert_int_equal(a->key.rsa_bits, b->key.rsa_bits);
	else
		assert_string_equal(a->key.curve, b->key.curve);
	assert_int_equal(a->mode, b->mode);
	assert_str_eq(a->handler, b->handler);
	assert_str_eq(a->socket, b->socket);
	assert_int_equal(a->hook_chain, b->hook_chain);
	assert_str_eq(a->deploy_hook, b->deploy_hook);
	assert_str_eq(a->renew_before, b->renew_before);
	assert_int_equal(a->dns_wait_s, b->dns_wait_s);
	assert_str_eq(a->dns_resolver, b->dns_resolver);
	assert_str_eq(a->preferred_profile, b->preferred_profile);
	assert_str_eq(a->required_profile, b->required_profile);
	assert_str_eq(a->preferred_chain, b->preferred_chain);
	assert_int_equal(a->reuse_key, b->reuse_key);
	assert_int_equal(a->cache_version, b->cache_version);
	assert_int_equal(a->cache_not_before, b->cache_not_before);
	assert_int_equal(a->cache_not_after, b->cache_not_after);
}

/*
 * Writes a, reads it back into b (from defaults); returns the key count.
 * auth_hook: the manual_auth_hook expected (NULL: none, authenticator
 * extauth).
 */
static size_t
round_trip(const char *path, const struct lineage_params *a,
    struct lineage_params *b, const char *auth_hook)
{
	struct conf	c;
	char		why[160];
	size_t		n;

	memset(&c, 0, sizeof c);
	assert_int_equal(renewal_write(path, a, &files, why, sizeof why),
	    ERR_OK);
	assert_int_equal(conf_read(path, &c), ERR_OK);
	lineage_params_defaults(b);
	assert_true(renewal_read(&c, b, why, sizeof why));
	/* certbot's keys are there for certbot. */
	assert_string_equal(conf_get(&c, NULL, "fullchain"), full);
	assert_string_equal(conf_get(&c, NULL, "archive_dir"), "/c/archive/x");
	assert_str_eq(conf_get(&c, "renewalparams", "manual_auth_hook"),
	    auth_hook);
	assert_string_equal(conf_get(&c, "renewalparams", "authenticator"),
	    auth_hook != NULL ? "manual" : "extauth");
	assert_true(renewal_is_own(&c));
	n = c.n;
	conf_clear(&c);
	return n;
}

static void
every_key(void **state)
{
	struct fixture		*f = *state;
	struct lineage_params	 a, b;

	fill(&a);
	/* 30 rows; an ECDSA key writes elliptic_curve, not rsa_key_size.  A
	 * new key changes this count: add it to fill() and assert_same(). */
	assert_int_equal(round_trip(f->path, &a, &b, "/usr/bin/extauth "
	    "certbot-hook auth --dehydrated --handler /usr/local/bin/hook.sh"),
	    29);
	assert_same(&a, &b);
	lineage_params_clear(&b);

	a.key.type = CRYPTO_KEY_RSA;
	a.key.rsa_bits = 3072;
	a.prefs[0] = CHAL_TLSALPN01;
	a.prefs[1] = CHAL_DNS01;
	a.n_prefs = 2;
	a.hook_chain = false;
	a.mode = SOLVER_HANDLER;
	assert_int_equal(round_trip(f->path, &a, &b, "/usr/bin/extauth "
	    "certbot-hook auth --handler /usr/local/bin/hook.sh"), 28);
	assert_same(&a, &b);
	lineage_params_clear(&b);
	/* A handler certbot's shell would split: no certbot hooks. */
	free(a.handler);
	assert_non_null(a.handler = strdup("/opt/my hooks/h.sh"));
	assert_int_equal(round_trip(f->path, &a, &b, NULL), 26);
	assert_same(&a, &b);
	lineage_params_clear(&b);
	a.mode = SOLVER_TEXT;
	round_trip(f->path, &a, &b, "/usr/bin/extauth certbot-hook auth "
	    "--text-mode");
	assert_same(&a, &b);
	lineage_params_clear(&b);
	lineage_params_clear(&a);

	/* The defaults and nothing optional: the reader restores them. */
	lineage_params_defaults(&a);
	assert_non_null(a.server = strdup("https://ca.example/dir"));
	assert_non_null(a.account = strdup("abc"));
	/* JSON mode: the bridge without flags (it asks for --socket). */
	round_trip(f->path, &a, &b, "/usr/bin/extauth certbot-hook auth");
	assert_same(&a, &b);
	lineage_params_clear(&b);
	/* JSON mode over a socket: recorded, and certbot can use it. */
	assert_non_null(a.socket = strdup("/run/invoker.sock"));
	assert_int_equal(round_trip(f->path, &a, &b, "/usr/bin/extauth "
	    "certbot-hook auth --socket /run/invoker.sock"), 16);
	assert_same(&a, &b);
	lineage_params_clear(&b);
	lineage_params_clear(&a);
}

/* Random text from an alphabet of configobj's syntax and worse. */
static char *
hostile(unsigned *seed)
{
	static const char alpha[] = "ab /.:=#,'\"\\[]\xc3\xa9";
	static const char ctl[] = "\t\n\r\x01\x7f";
	static const char *const pieces[] = { "\"\"\"", "'''", " # x", ", ",
	    "  ", "=", "[s]", "\\" };
	size_t	 len, i = 0, cap;
	char	*s;
	int	 r = rand_r(seed) % 100;

	cap = r < 5 ? 4200 + (size_t)(rand_r(seed) % 200) :
	    (size_t)(rand_r(seed) % 40);
	assert_non_null(s = malloc(cap + 8));
	while (i < cap) {
		if (rand_r(seed) % 6 == 0) {
			const char *p = pieces[rand_r(seed) % 8];

			len = strlen(p);
			if (i + len > cap)
				break;
			memcpy(s + i, p, len);
			i += len;
		} else if (rand_r(seed) % 100 == 0)
			s[i++] = ctl[rand_r(seed) % (sizeof ctl - 1)];
		else
			s[i++] = alpha[rand_r(seed) % (sizeof alpha - 1)];
	}
	s[i] = '\0';
	return s;
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/*
 * The writer never leaves a file its reader rejects: for random hostile
 * strings in every text field, either the file is written and reads back
 * equal, or nothing is written and the value is one the reader would
 * refuse (empty, a control character, over the length cap).
 */
static void
writer_never_outruns_reader(void **state)
{
	struct fixture		*f = *state;
	struct lineage_params	 a, b;
	struct conf		 c;
	char			 why[160], **fields[6];
	unsigned		 seed = 20261128;
	size_t			 i, k, written = 0, refused = 0;
	enum err		 e;
	bool			 bad;

	for (i = 0; i < 3000; i++) {
		fill(&a);
		fields[0] = &a.handler;
		fields[1] = &a.deploy_hook;
		fields[2] = &a.ca_bundle;
		fields[3] = &a.account;
		fields[4] = &a.renew_before;
		fields[5] = &a.socket;
		k = (size_t)rand_r(&seed) % 6;
		free(*fields[k]);
		*fields[k] = hostile(&seed);
		bad = **fields[k] == '\0' || has_control(*fields[k]) ||
		    strlen(*fields[k]) > 4096;
		unlink(f->path);
		e = renewal_write(f->path, &a, &files, why, sizeof why);
		if (e != ERR_OK) {
			/* Refused: nothing on disk, and for a reason. */
			assert_int_equal(access(f->path, F_OK), -1);
			assert_true(bad || (strstr(*fields[k], "\"\"\"") &&
			    strstr(*fields[k], "'''")));
			refused++;
		} else {
			assert_false(bad);
			memset(&c, 0, sizeof c);
			assert_int_equal(conf_read(f->path, &c), ERR_OK);
			lineage_params_defaults(&b);
			assert_true(renewal_read(&c, &b, why, sizeof why));
			assert_same(&a, &b);
			conf_clear(&c);
			lineage_params_clear(&b);
			written++;
		}
		lineage_params_clear(&a);
	}
	/* Both branches were exercised. */
	print_message("%zu written, %zu refused\n", written, refused);
	assert_true(written > 500);
	assert_true(refused > 200);
}

/* Hand-edited confs: each bad value is refused by key, without its text. */
static void
reader_checks(void **state)
{
	static const struct { const char *sec, *key, *val; } bad[] = {
		{ "renewalparams", "server", "http://ca.example/dir" },
		{ "renewalparams", "server", "file:///etc/passwd" },
		{ "renewalparams", "extauth_domains", "a.example,../../etc" },
		{ "renewalparams", "extauth_domains", "A.EXAMPLE" },
		{ "renewalparams", "extauth_domains", "a.example;id" },
		{ "renewalparams", "extauth_dns_wait", "10x" },
		{ "renewalparams", "extauth_dns_wait", "86401" },
		{ "renewalparams", "rsa_key_size", "1024" },
		{ "renewalparams", "rsa_key_size", "99999999999999999999" },
		{ "renewalparams", "elliptic_curve", "secp999r1" },
		{ "renewalparams", "key_type", "dss" },
		{ "renewalparams", "pref_challs", "dns-01, smtp-01" },
		{ "renewalparams", "extauth_mode", "shell" },
		{ "renewalparams", "extauth_hook_chain", "maybe" },
		{ "renewalparams", "extauth_handler", "a\033[2Jb" },
		{ "renewalparams", "extauth_dns_resolver", "ns1.example.com" },
		{ "renewalparams", "required_profile", "two words" },
		{ "renewalparams", "preferred_profile", "../x" },
		{ NULL, "extauth_version", "-1" },
		{ NULL, "extauth_not_after", "soon" },
	};
	struct lineage_params	 p;
	struct conf		 c;
	char			 why[160];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&c, 0, sizeof c);
		assert_int_equal(conf_set(&c, bad[i].sec, bad[i].key,
		    bad[i].val), ERR_OK);
		lineage_params_defaults(&p);
		why[0] = '\0';
		assert_false(renewal_read(&c, &p, why, sizeof why));
		assert_non_null(strstr(why, bad[i].key));
		assert_null(strstr(why, bad[i].val));
		lineage_params_clear(&p);
		conf_clear(&c);
	}
	/* certbot's own spellings are read. */
	memset(&c, 0, sizeof c);
	assert_int_equal(conf_set_list(&c, "renewalparams", "pref_challs",
	    "http-01,"), ERR_OK);
	assert_int_equal(conf_set(&c, "renewalparams", "rsa_key_size",
	    "4096"), ERR_OK);
	assert_int_equal(conf_set(&c, "renewalparams", "key_type", "rsa"),
	    ERR_OK);
	lineage_params_defaults(&p);
	assert_true(renewal_read(&c, &p, why, sizeof why));
	assert_int_equal(p.n_prefs, 1);
	assert_int_equal(p.prefs[0], CHAL_HTTP01);
	assert_int_equal(p.key.type, CRYPTO_KEY_RSA);
	assert_int_equal(p.key.rsa_bits, 4096);
	lineage_params_clear(&p);
	/* certbot writes None for a profile it was not given. */
	assert_int_equal(conf_set(&c, "renewalparams", "preferred_profile",
	    "None"), ERR_OK);
	lineage_params_defaults(&p);
	assert_true(renewal_read(&c, &p, why, sizeof why));
	assert_null(p.preferred_profile);
	lineage_params_clear(&p);
	assert_false(renewal_is_own(&c));	/* certbot's, not ours */
	conf_clear(&c);
	/* extauth's confs before the certbot-compatible form still count
	 * as its own (migration: they renew and are rewritten). */
	memset(&c, 0, sizeof c);
	assert_int_equal(conf_set(&c, "renewalparams", "authenticator",
	    "extauth"), ERR_OK);
	assert_true(renewal_is_own(&c));
	conf_clear(&c);
	memset(&c, 0, sizeof c);
	assert_int_equal(conf_set(&c, "renewalparams", "authenticator",
	    "manual"), ERR_OK);
	assert_false(renewal_is_own(&c));	/* certbot's bridge lineage */
	assert_int_equal(conf_set(&c, "renewalparams", "extauth_mode",
	    "handler"), ERR_OK);
	assert_true(renewal_is_own(&c));
	conf_clear(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(writer_never_outruns_reader,
		    setup, teardown),
		cmocka_unit_test(reader_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
