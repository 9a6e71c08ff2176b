/* test_conf.c: certbot's configobj subset, written and read back value for
 * value, and certbot's own files read as certbot reads them. */
#include <sys/stat.h>
#include <sys/types.h>

#include <ftw.h>
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
#include "store.h"

#define FIXTURE_DIR	"/tmp/test_conf.XXXXXX"
#include "store_fixture.h"

static void
write_text(const char *path, const char *text)
{
	assert_int_equal(store_write_atomic(path, text, strlen(text), 0644),
	    ERR_OK);
}

static void
test_conf_round_trip(void **state)
{
	struct fixture		*f = *state;
	struct conf	 a, b;
	char			*path = pathf("%s/renewal/rt.conf", f->cfg);
	char			*text;
	size_t			 i;

	memset(&a, 0, sizeof a);
	assert_int_equal(conf_set(&a, NULL, "version", "2.1.0"), ERR_OK);
	assert_int_equal(conf_set(&a, NULL, "archive_dir",
	    "/etc/le/archive/rt"), ERR_OK);
	assert_int_equal(conf_set(&a, "renewalparams", "authenticator",
	    "webroot"), ERR_OK);
	assert_int_equal(conf_set(&a, "renewalparams.webroot_map",
	    "example.com", "/var/www/html"), ERR_OK);
	/* set after the subsection: must still be written above it */
	assert_int_equal(conf_set(&a, "renewalparams", "manual_auth_hook",
	    "/bin/hook.sh \"a b\" 'c', d # e"), ERR_OK);
	assert_int_equal(conf_set(&a, "renewalparams", "comma",
	    "x, y"), ERR_OK);
	assert_int_equal(conf_set(&a, "renewalparams", "empty", ""),
	    ERR_OK);
	assert_int_equal(conf_set(&a, "renewalparams", "lead",
	    " spaced "), ERR_OK);
	assert_int_equal(conf_set(&a, "renewalparams", "multi",
	    "line1\nline2"), ERR_OK);
	assert_int_equal(conf_set_list(&a, "renewalparams",
	    "pref_challs", "dns-01, http-01"), ERR_OK);
	assert_int_equal(conf_set_list(&a, "renewalparams", "one",
	    "dns-01,"), ERR_OK);
	assert_int_equal(conf_set(&a, NULL, "cert", "/c/cert.pem"),
	    ERR_OK);
	assert_int_equal(conf_set(&a, NULL, "version", "2.1.1"), ERR_OK);
	assert_int_equal(a.n, 12);
	assert_int_equal(conf_write(path, &a), ERR_OK);
	assert_int_equal(mode_of(path), 0644);

	assert_int_equal(store_read_file(path, &text, NULL, false), ERR_OK);
	assert_non_null(strstr(text, "version = 2.1.1\narchive_dir = "
	    "/etc/le/archive/rt\ncert = /c/cert.pem\n\n[renewalparams]\n"
	    "authenticator = webroot\n"));
	assert_non_null(strstr(text, "comma = \"x, y\"\n"));
	assert_non_null(strstr(text, "pref_challs = dns-01, http-01\n"));
	assert_non_null(strstr(text, "one = dns-01,\n[[webroot_map]]\n"
	    "example.com = /var/www/html\n"));
	free(text);

	assert_int_equal(conf_read(path, &b), ERR_OK);
	assert_int_equal(b.n, a.n);
	for (i = 0; i < a.n; i++) {
		const char *v = conf_get(&b, a.kv[i].section,
		    a.kv[i].key);

		assert_non_null(v);
		assert_string_equal(v, a.kv[i].value);
	}
	for (i = 0; i < b.n; i++)
		assert_int_equal(b.kv[i].list,
		    strcmp(b.kv[i].key, "pref_challs") == 0 ||
		    strcmp(b.kv[i].key, "one") == 0);
	assert_null(conf_get(&b, "renewalparams", "example.com"));
	assert_null(conf_get(&b, NULL, "authenticator"));
	conf_clear(&a);
	conf_clear(&b);

	/* bad names and the key cap */
	assert_int_equal(conf_set(&a, "a b", "k", "v"), ERR_USAGE);
	assert_int_equal(conf_set(&a, NULL, "k=v", "v"), ERR_USAGE);
	assert_int_equal(conf_set(&a, "x..y", "k", "v"), ERR_USAGE);
	assert_int_equal(conf_set_list(&a, NULL, "k", "not a list"),
	    ERR_USAGE);
	for (i = 0; i < CONF_MAX_KEYS; i++) {
		char key[16];

		snprintf(key, sizeof key, "k%zu", i);
		assert_int_equal(conf_set(&a, NULL, key, "v"), ERR_OK);
	}
	assert_int_equal(conf_set(&a, NULL, "onemore", "v"),
	    ERR_STORAGE);
	conf_clear(&a);
	free(path);
}

/* As certbot 2.1 writes it, plus hand edits certbot still accepts. */
static const char certbot_conf[] =
    "# renew_before_expiry = 30 days\n"
    "version = 2.1.0\n"
    "archive_dir = /etc/letsencrypt/archive/example.com\n"
    "cert = /etc/letsencrypt/live/example.com/cert.pem\n"
    "privkey = /etc/letsencrypt/live/example.com/privkey.pem\n"
    "chain = /etc/letsencrypt/live/example.com/chain.pem\n"
    "fullchain = /etc/letsencrypt/live/example.com/fullchain.pem\n"
    "\n"
    "# Options used in the renewal process\n"
    "[renewalparams]\n"
    "account = 0123456789abcdef0123456789abcdef\n"
    "pref_challs = dns-01,\n"
    "authenticator = webroot\n"
    "server = https://acme-v02.api.letsencrypt.org/directory  # prod\n"
    "manual_auth_hook = '/usr/local/bin/auth \"x\"'\n"
    "  key_type = \"ecdsa\"\r\n"
    "hook = '''echo \"hi\" 'x''''\n"
    "text = \"\"\"first\n"
    "second\"\"\"\n"
    "[[webroot_map]]\n"
    "example.com = /var/www/html\n"
    "    www.example.com = /var/www/html\n"
    "[acme_renewal_info]\n"
    "ari_retry_after = 2025-01-01T00:00:00\n";

static void
test_conf_certbot_sample(void **state)
{
	static const char *const bad[] = {
		"a = \"unterminated\n",
		"a = 1\na = 2\n",
		"[s]\n[s]\n",
		"[[deep]]\n",
		"[s]]\n",
		"just words\n",
		"a = \"x\" y\n",
		"k = v\n[k]\n",
	};
	struct fixture		*f = *state;
	struct conf	 c;
	char			*path = pathf("%s/renewal/example.com.conf",
				    f->cfg);
	size_t			 i;

	write_text(path, certbot_conf);
	assert_int_equal(conf_read(path, &c), ERR_OK);
	assert_int_equal(c.n, 17);
	assert_string_equal(conf_get(&c, NULL, "version"), "2.1.0");
	assert_string_equal(conf_get(&c, NULL, "fullchain"),
	    "/etc/letsencrypt/live/example.com/fullchain.pem");
	assert_string_equal(conf_get(&c, "renewalparams", "server"),
	    "https://acme-v02.api.letsencrypt.org/directory");
	assert_string_equal(conf_get(&c, "renewalparams",
	    "manual_auth_hook"), "/usr/local/bin/auth \"x\"");
	assert_string_equal(conf_get(&c, "renewalparams", "key_type"),
	    "ecdsa");
	assert_string_equal(conf_get(&c, "renewalparams", "pref_challs"),
	    "dns-01,");
	assert_string_equal(conf_get(&c, "renewalparams", "hook"),
	    "echo \"hi\" 'x'");
	assert_string_equal(conf_get(&c, "renewalparams", "text"),
	    "first\nsecond");
	assert_string_equal(conf_get(&c, "renewalparams.webroot_map",
	    "www.example.com"), "/var/www/html");
	assert_string_equal(conf_get(&c, "acme_renewal_info",
	    "ari_retry_after"), "2025-01-01T00:00:00");
	assert_null(conf_get(&c, NULL, "renew_before_expiry"));
	conf_clear(&c);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_text(path, bad[i]);
		assert_int_equal(conf_read(path, &c), ERR_STORAGE);
		assert_int_equal(c.n, 0);
	}
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conf_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conf_certbot_sample,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
