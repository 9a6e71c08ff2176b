/* test_cli.c: the option table pinned, certbot spellings included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

#define PARSE(cfg, ...) parse(cfg, (char *[]){ "extauth", __VA_ARGS__, NULL })

static enum err
parse(struct config *cfg, char **argv)
{
	int	argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return cli_parse(argc, argv, cfg);
}

static void
seed_command_line(void **state)
{
	struct config	cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--staging", "--text", "--agree-tos",
	    "--email", "you@example.com", "--expand", "--renew-by-default",
	    "--configurator", "certbot-external-auth:out",
	    "--certbot-external-auth:out-public-ip-logging-ok",
	    "-d", "bristol3.pki.enigmabridge.com",
	    "-d", "bs3.pki.enigmabridge.com", "--preferred-challenges", "dns",
	    "--certbot-external-auth:out-handler", "./dehydrated-example.sh",
	    "--certbot-external-auth:out-dehydrated-dns", "run"), ERR_OK);
	assert_int_equal(cfg.verb, VERB_RUN);
	assert_true(cfg.agree_tos && cfg.expand && cfg.force_renewal);
	assert_true(cfg.installer);
	assert_string_equal(cfg.email, "you@example.com");
	assert_int_equal(cfg.n_domains, 2);
	assert_string_equal(cfg.domains[1], "bs3.pki.enigmabridge.com");
	assert_int_equal(cfg.n_prefs, 1);
	assert_int_equal(cfg.prefs[0], CHAL_DNS01);
	assert_int_equal(cfg.mode, SOLVER_DEHYDRATED);
	assert_string_equal(cfg.handler, "./dehydrated-example.sh");
	assert_non_null(strstr(cfg.server, "staging"));
	cli_config_clear(&cfg);
}

static void
forms(void **state)
{
	struct config	cfg;

	(void)state;
	/* = forms, verb first, comma lists, clustered short flags. */
	assert_int_equal(PARSE(&cfg, "certonly", "--email=a@b.c",
	    "-d", "a.example.com,b.example.com", "-vvn", "-dc.example.com",
	    "--preferred-challenges=http-01,dns", "--key-type=rsa",
	    "--rsa-key-size", "3072"), ERR_OK);
	assert_int_equal(cfg.verb, VERB_CERTONLY);
	assert_string_equal(cfg.email, "a@b.c");
	assert_int_equal(cfg.n_domains, 3);
	assert_string_equal(cfg.domains[2], "c.example.com");
	assert_int_equal(cfg.verbosity, 2);
	assert_true(cfg.non_interactive);
	assert_int_equal(cfg.n_prefs, 2);
	assert_int_equal(cfg.prefs[0], CHAL_HTTP01);
	assert_int_equal(cfg.key.type, CRYPTO_KEY_RSA);
	assert_int_equal(cfg.key.rsa_bits, 3072);
	assert_int_equal(cfg.mode, SOLVER_JSON);
	cli_config_clear(&cfg);
	/* Defaults: dns-01 then http-01, like the plugin. */
	assert_int_equal(PARSE(&cfg, "-d", "x.example.com"), ERR_OK);
	assert_int_equal(cfg.verb, VERB_RUN);
	assert_int_equal(cfg.n_prefs, 2);
	assert_int_equal(cfg.prefs[0], CHAL_DNS01);
	assert_int_equal(cfg.key.type, CRYPTO_KEY_ECDSA);
	cli_config_clear(&cfg);
}

static void
errors(void **state)
{
	struct config	cfg;
	size_t		i;
	char		**bad[] = {
		(char *[]){ "extauth", "--bogus", NULL },
		(char *[]){ "extauth", "-Z", NULL },
		(char *[]){ "extauth", "--email", NULL },
		(char *[]){ "extauth", "--agree-tos=yes", NULL },
		(char *[]){ "extauth", "-d", "a.com", "-d", "A.com", NULL },
		(char *[]){ "extauth", "-d", "", NULL },
		(char *[]){ "extauth", "--preferred-challenges", "smtp", NULL },
		(char *[]){ "extauth", "--rsa-key-size", "1024", NULL },
		(char *[]){ "extauth", "--key-type", "dsa", NULL },
		(char *[]){ "extauth", "--must-staple", NULL },
		(char *[]){ "extauth", "certonly", "renew", NULL },
		(char *[]){ "extauth", "frobnicate", NULL },
		(char *[]){ "extauth", "--dehydrated", NULL },
		(char *[]){ "extauth", "--mode", "handler", NULL },
		(char *[]){ "extauth", "--authenticator", "webroot", NULL },
		(char *[]){ "extauth", "--ca-bundle", "/nonexistent/ca.pem", NULL },
		(char *[]){ "extauth", "--eab-kid", "k", NULL },
		(char *[]){ "extauth", "--handler-timeout", "0", NULL },
	};

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(&cfg, bad[i]), ERR_USAGE);
		cli_config_clear(&cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_command_line),
		cmocka_unit_test(forms),
		cmocka_unit_test(errors),
	};

	/* Error lines go to stderr; keep the test output readable. */
	if (freopen("/dev/null", "w", stderr) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
