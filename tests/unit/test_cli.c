/*
 * test_cli.c: the option table pinned, certbot spellings included: a
 * table of command lines and the config field each must set (curl's
 * tests/tunit/tool1394.c style), the errors, prefixes, cli.ini values
 * checked like the command line, and the default-file and dry-run rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "cli_table.h"

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
		/* issue 11 item 8 and issue 7 section 5 */
		(char *[]){ "extauth", "--handler-timeout", "99999999999999999999",
		    NULL },
		(char *[]){ "extauth", "--handler-timeout", "5s", NULL },
		(char *[]){ "extauth", "--handler-timeout", " 5", NULL },
		(char *[]){ "extauth", "--dns-wait", "-1", NULL },
		(char *[]){ "extauth", "--pre", "x", NULL },
		(char *[]){ "extauth", "--re", NULL },
		(char *[]){ "extauth", "--email", "nobody", NULL },
		(char *[]){ "extauth", "--email", "a@b", NULL },
		(char *[]){ "extauth", "--email", "a b@example.com", NULL },
		(char *[]){ "extauth", "--email", "a@example.com,", NULL },
		(char *[]){ "extauth", "-m", "@example.com", NULL },
		(char *[]){ "extauth", "--server", "http://ca.example/dir", NULL },
		(char *[]){ "extauth", "--server", "ca.example", NULL },
		(char *[]){ "extauth", "--text-mode", "--handler", "./h", NULL },
		(char *[]){ "extauth", "--text-mode", "--socket", "/s", NULL },
		(char *[]){ "extauth", "--socket", "/s", "--handler", "./h", NULL },
		(char *[]){ "extauth", "--mode", "json", "--handler", "./h", NULL },
		(char *[]){ "extauth", "--eab-kid", "k", "--eab-hmac-key", "a+b",
		    NULL },
		(char *[]){ "extauth", "--eab-hmac-key", "abc", NULL },
		(char *[]){ "extauth", "--eab-kid", "k", "--eab-hmac-key-file",
		    "/nonexistent", NULL },
	};

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(&cfg, bad[i]), ERR_USAGE);
		cli_config_clear(&cfg);
	}
}

/*
 * The table: a command line and the field it sets.  Plain options are
 * done from their row (kind, offsetof), so each row pins one column.
 */
enum want { W_STR, W_TRUE, W_FALSE, W_LONG, W_INT };

static const struct row {
	const char	*argv[6];
	size_t		 off;
	enum want	 kind;
	const char	*s;
	long		 n;
} rows[] = {
#define R(off, kind, s, n, ...) { { __VA_ARGS__ }, offsetof(struct config, \
    off), kind, s, n }
	R(config_dir, W_STR, "/c", 0, "--config-dir", "/c"),
	R(config_dir, W_STR, "/c", 0, "--config-dir=/c"),
	R(config_dir, W_STR, "/c", 0, "--config-d", "/c"),	/* prefix */
	R(work_dir, W_STR, "/w", 0, "--work-dir", "/w"),
	R(logs_dir, W_STR, "/l", 0, "--logs-dir", "/l"),
	R(cert_name, W_STR, "n", 0, "--cert-name", "n"),
	R(handler, W_STR, "./h", 0, "--handler", "./h"),
	R(handler, W_STR, "./h", 0, "--certbot-external-auth:out-handler",
	    "./h"),
	R(deploy_hook, W_STR, "d", 0, "--renew-hook", "d"),
	R(deploy_hook, W_STR, "d", 0, "--deploy-hook", "d"),
	R(pre_hook, W_STR, "p", 0, "--pre-h", "p"),
	R(post_hook, W_STR, "p", 0, "--post-hook", "p"),
	R(csr, W_STR, "x.csr", 0, "certonly", "--csr", "x.csr"),
	R(cert_path, W_STR, "c", 0, "--cert-path", "c"),
	R(chain_path, W_STR, "c", 0, "--chain-path", "c"),
	R(fullchain_path, W_STR, "c", 0, "--fullchain-path", "c"),
	R(reason, W_STR, "superseded", 0, "--reason", "superseded"),
	R(socket_path, W_STR, "/s", 0, "--socket", "/s"),
	R(email, W_STR, "a@example.com,b@example.org", 0, "-m",
	    "a@example.com,b@example.org"),
	R(server, W_STR, "https://ca.example/dir", 0, "--server",
	    "https://ca.example/dir"),
	R(server_given, W_TRUE, NULL, 0, "--server", "https://ca.example/d"),
	R(server_given, W_TRUE, NULL, 0, "--test-cert"),
	R(agree_tos, W_TRUE, NULL, 0, "--agree-tos"),
	R(agree_tos, W_TRUE, NULL, 0, "--agree"),	/* prefix */
	R(register_unsafely, W_TRUE, NULL, 0, "--register-unsafely-without-email"),
	R(force_renewal, W_TRUE, NULL, 0, "--renew-by-default"),
	R(expand, W_TRUE, NULL, 0, "--expand"),
	R(keep_until_expiring, W_TRUE, NULL, 0, "--reinstall"),
	R(dry_run, W_TRUE, NULL, 0, "--dry-run"),
	R(no_random_sleep, W_TRUE, NULL, 0, "--no-random-sleep-on-renew"),
	R(non_interactive, W_TRUE, NULL, 0, "--noninteractive"),
	R(quiet, W_TRUE, NULL, 0, "-q"),
	R(hook_chain, W_TRUE, NULL, 0, "--hook-chain"),
	R(parallel_hooks, W_TRUE, NULL, 0, "renew", "--parallel-hooks"),
	R(deactivate_authz, W_TRUE, NULL, 0, "--deactivate-authz"),
	R(self_check, W_FALSE, NULL, 0, "--no-self-check"),
	R(self_check, W_TRUE, NULL, 0, "--no-self-check", "--self-check"),
	R(json_output, W_TRUE, NULL, 0, "certificates", "--json"),
	R(json_output, W_TRUE, NULL, 0, "--json", "delete"),
	R(show_help, W_TRUE, NULL, 0, "help", "renew"),
	R(show_help, W_TRUE, NULL, 0, "renew", "--help"),
	R(show_version, W_TRUE, NULL, 0, "--version"),
	R(handler_timeout_s, W_LONG, NULL, 86400, "--handler-timeout", "86400"),
	R(dns_wait_s, W_LONG, NULL, 0, "--dns-wait=0"),
	R(dns_wait_s, W_LONG, NULL, 30, "--dns-w", "30"),
	R(verbosity, W_INT, NULL, 3, "-vv", "--verbose"),
	/* certbot's spellings that do nothing still parse */
	R(verbosity, W_INT, NULL, 0, "--no-eff-email", "--eff-email", "-t",
	    "--public-ip-logging-ok"),
#undef R
};

static void
table(void **state)
{
	struct config	 cfg;
	const struct row *r;
	char		*argv[8];
	size_t		 i;
	int		 argc;
	const char	*s;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		r = &rows[i];
		argv[0] = "extauth";
		for (argc = 1; argc < 7 && r->argv[argc - 1] != NULL; argc++)
			argv[argc] = (char *)r->argv[argc - 1];
		argv[argc] = NULL;
		if (cli_parse(argc, argv, &cfg) != ERR_OK)
			fail_msg("row %zu (%s) does not parse", i, r->argv[0]);
		switch (r->kind) {
		case W_STR:
			s = *(const char **)(void *)((char *)&cfg + r->off);
			if (s == NULL || strcmp(s, r->s) != 0)
				fail_msg("row %zu (%s): got %s", i, r->argv[0],
				    s ? s : "NULL");
			break;
		case W_TRUE:
		case W_FALSE:
			if (*(bool *)((char *)&cfg + r->off) != (r->kind ==
			    W_TRUE))
				fail_msg("row %zu (%s): wrong bool", i,
				    r->argv[0]);
			break;
		case W_LONG:
			assert_int_equal(*(long *)(void *)((char *)&cfg +
			    r->off), r->n);
			break;
		case W_INT:
			assert_int_equal(*(int *)(void *)((char *)&cfg +
			    r->off), r->n);
			break;
		}
		cli_config_clear(&cfg);
	}
}

/*
 * Every row of the option table parses with a typical value and reaches
 * the config without falling through to ERR_INTERNAL (a LOGIC row whose
 * case is missing), alone or with the options it needs.
 */
static void
every_row(void **state)
{
	struct config		 cfg;
	const struct opt_def	*o;
	char			 opt[160], *argv[12], keyfile[] =
				    "/tmp/test_cli.key.XXXXXX";
	const char		*v;
	size_t			 i;
	int			 argc, fd;
	enum err		 e;

	(void)state;
	assert_true((fd = mkstemp(keyfile)) != -1);
	assert_int_equal(write(fd, "a2V5\n", 5), 5);
	close(fd);
	for (i = 0; i < cli_n_opts; i++) {
		o = &cli_opts[i];
		snprintf(opt, sizeof opt, "--%s", o->name);
		argc = 0;
		argv[argc++] = "extauth";
		argv[argc++] = opt;
		if (o->arg != NULL) {
			if (o->kind == KIND_LONG) {
				char	*n = NULL;	/* the low end */

				assert_true(asprintf(&n, "%ld", o->lo) != -1);
				v = n;
			} else if (strcmp(o->name, "mode") == 0)
				v = strdup("dehydrated");	/* with --handler */
			else if (strchr(o->arg, '|') != NULL)
				v = strndup(o->arg, strcspn(o->arg, "|"));
			else if (strcmp(o->arg, "SECONDS") == 0)
				v = strdup("5");
			else if (strcmp(o->arg, "URL") == 0)
				v = strdup("https://ca.example/dir");
			else if (strcmp(o->arg, "ADDRESS") == 0)
				v = strdup("a@example.com");
			else if (strcmp(o->arg, "NAME") == 0)
				v = strdup("a.example.com");
			else if (strcmp(o->arg, "TYPES") == 0)
				v = strdup("dns");
			else if (strcmp(o->arg, "PLUGIN") == 0)
				v = strdup("certbot-external-auth:out");
			else if (strcmp(o->arg, "IPV4[:PORT]") == 0)
				v = strdup("127.0.0.1:53");
			else if (strcmp(o->arg, "KEY") == 0)
				v = strdup("a2V5");
			else if (strcmp(o->arg, "ID") == 0)
				v = strdup("Ab_9-z");	/* a pending order */
			else if (strcmp(o->name, "eab-hmac-key-file") == 0)
				v = strdup(keyfile);
			else
				v = strdup("/dev/null");
			assert_non_null(v);
			argv[argc++] = (char *)v;
		} else
			v = NULL;
		/* what some options need beside them */
		if (strstr(o->name, "dehydrated") != NULL ||
		    strcmp(o->name, "parallel-hooks") == 0 ||
		    strcmp(o->arg ? o->arg : "", "json|handler|dehydrated|text")
		    == 0) {
			argv[argc++] = "--handler";
			argv[argc++] = "./h";
		}
		if (strcmp(o->name, "csr") == 0 ||
		    strcmp(o->name, "resume") == 0 ||
		    strcmp(o->name, "defer") == 0)
			argv[argc++] = "certonly";
		if (strcmp(o->name, "cancel") == 0)
			argv[argc++] = "pending";
		if (strcmp(o->name, "json") == 0)
			argv[argc++] = "show_account";
		if (strncmp(o->name, "eab-", 4) == 0) {
			argv[argc++] = strcmp(o->name, "eab-kid") == 0 ?
			    "--eab-hmac-key" : "--eab-kid";
			argv[argc++] = strcmp(o->name, "eab-kid") == 0 ?
			    "a2V5" : "k";
		}
		argv[argc] = NULL;
		e = cli_parse(argc, argv, &cfg);
		cli_config_clear(&cfg);
		free((char *)v);
		if (strcmp(o->name, "must-staple") == 0) {
			assert_int_equal(e, ERR_USAGE);	/* refused by design */
			continue;
		}
		if (e != ERR_OK)
			fail_msg("--%s does not parse (%d)", o->name, e);
		/* every listed option says what it does, or is an alias */
		if (o->verbs != 0 && o->help == NULL) {
			size_t	j;

			for (j = 0; j < cli_n_opts; j++)
				if (cli_opts[j].help != NULL && cli_opts[j].kind
				    == o->kind && cli_opts[j].off == o->off &&
				    cli_opts[j].id == o->id)
					break;
			if (j == cli_n_opts)
				fail_msg("--%s: no help and no main name",
				    o->name);
		}
	}
	unlink(keyfile);
}

/* The two-phase mode's flags: what goes with what (cli.c's
 * defer_checks), all refused before anything else happens. */
static void
defer_flags(void **state)
{
	struct config	cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "resume", "Ab_9-z"), ERR_OK);
	assert_int_equal(cfg.verb, VERB_RESUME);
	assert_string_equal(cfg.resume_id, "Ab_9-z");
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "certonly", "--resume", "Ab_9-z"),
	    ERR_OK);
	assert_string_equal(cfg.resume_id, "Ab_9-z");
	assert_int_equal(cfg.verb, VERB_RESUME);	/* --json too */
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "certonly", "--resume", "x", "--json"),
	    ERR_OK);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "-d", "a.example", "--defer", "renew"),
	    ERR_OK);
	assert_true(cfg.defer);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "pending", "--cancel", "x", "--json"),
	    ERR_OK);
	cli_config_clear(&cfg);
	/* No id; a bad id; flags of another verb; --defer with what it
	 * cannot do. */
	assert_int_equal(PARSE(&cfg, "resume"), ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "resume", "../etc"), ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "resume", "a", "--cancel", "b"),
	    ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "renew", "--resume", "a"), ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "certonly", "--cancel", "a"), ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "revoke", "--defer"), ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "certonly", "--defer", "--dry-run"),
	    ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "certonly", "--defer", "--text-mode"),
	    ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "certonly", "--defer", "--resume", "a"),
	    ERR_USAGE);
	cli_config_clear(&cfg);
}

/* Verbs, "help VERB", mode resolution and the hidden options. */
static void
verbs_and_modes(void **state)
{
	struct config	cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "help", "renew"), ERR_OK);
	assert_true(cfg.show_help && cfg.verb_given);
	assert_int_equal(cfg.verb, VERB_RENEW);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "certbot-hook", "auth", "--handler",
	    "./h"), ERR_OK);
	assert_int_equal(cfg.verb, VERB_CERTBOT_HOOK);
	assert_string_equal(cfg.hook_args[0], "auth");
	assert_int_equal(cfg.mode, SOLVER_HANDLER);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "--handler", "./h", "--dehydrated"),
	    ERR_OK);
	assert_int_equal(cfg.mode, SOLVER_DEHYDRATED);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "--certbot-external-auth:out-text-mode"),
	    ERR_OK);
	assert_int_equal(cfg.mode, SOLVER_TEXT);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "--socket", "/s", "--mode", "json"),
	    ERR_OK);
	cli_config_clear(&cfg);
	/* --fifo: JSON mode's third channel, not beside the others */
	assert_int_equal(PARSE(&cfg, "--fifo", "/d"), ERR_OK);
	assert_string_equal(cfg.fifo_dir, "/d");
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "--fifo", "/d", "--socket", "/s"),
	    ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "--fifo", "/d", "--handler", "./h"),
	    ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "--fifo", "/d", "--text-mode"),
	    ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "renew", "--fifo", "/d"), ERR_USAGE);
	cli_config_clear(&cfg);
	/* --json only where the verb has a result line */
	assert_int_equal(PARSE(&cfg, "renew", "--json"), ERR_USAGE);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "--json", "revoke", "--cert-name", "a"),
	    ERR_OK);
	cli_config_clear(&cfg);
	assert_int_equal(PARSE(&cfg, "--print-completion", "zsh"), ERR_OK);
	assert_string_equal(cfg.print_completion, "zsh");
	cli_config_clear(&cfg);
	/* --preferred-chal names one option; -- ends the options */
	assert_int_equal(PARSE(&cfg, "--preferred-chal", "http", "--",
	    "renew"), ERR_OK);
	assert_int_equal(cfg.n_prefs, 1);
	assert_int_equal(cfg.verb, VERB_RENEW);
	cli_config_clear(&cfg);
	/* ... while --preferred-c is ambiguous since --preferred-chain, as
	 * in certbot, which has both. */
	assert_int_equal(PARSE(&cfg, "--preferred-c", "http", "renew"),
	    ERR_USAGE);
	cli_config_clear(&cfg);
}

static char	 tmp[64];

static void
write_tmp(const char *text)
{
	FILE	*f;
	int	 fd;

	snprintf(tmp, sizeof tmp, "/tmp/test_cli.XXXXXX");
	assert_true((fd = mkstemp(tmp)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
}

/* stderr of fn into buf. */
static enum err
capture(char **argv, char *buf, size_t size)
{
	struct config	 cfg;
	enum err	 e;
	FILE		*f;
	size_t		 n;
	int		 argc = 0;

	while (argv[argc] != NULL)
		argc++;
	assert_non_null(freopen("/tmp/test_cli.stderr", "w", stderr));
	e = cli_parse(argc, argv, &cfg);
	cli_config_clear(&cfg);
	fflush(stderr);
	assert_non_null(freopen(getenv("TEST_CLI_STDERR") ? "/dev/tty" :
	    "/dev/null", "w", stderr));
	assert_non_null(f = fopen("/tmp/test_cli.stderr", "r"));
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink("/tmp/test_cli.stderr");
	return e;
}

/* Two lines, what and what to do; a suggestion for a near miss. */
static void
messages(void **state)
{
	char	buf[2048];

	(void)state;
	assert_int_equal(capture((char *[]){ "extauth", "--agre-tos", NULL },
	    buf, sizeof buf), ERR_USAGE);
	assert_string_equal(buf, "extauth: unknown option --agre-tos\n"
	    "extauth: did you mean --agree-tos? (see extauth --help)\n");
	assert_int_equal(capture((char *[]){ "extauth", "--pre", "x", NULL },
	    buf, sizeof buf), ERR_USAGE);
	assert_non_null(strstr(buf, "--preferred-challenges"));
	assert_non_null(strstr(buf, "--pre-hook"));
	assert_int_equal(capture((char *[]){ "extauth", "renew", "--server",
	    "http://x/", NULL }, buf, sizeof buf), ERR_USAGE);
	assert_string_equal(buf, "extauth: --server http://x/: not an https "
	    "URL\nextauth: give the https:// URL of the CA's directory\n");
}

/* A cli.ini value gets the command line's checks, and the message names
 * file, line and key but never the value. */
static void
ini_values(void **state)
{
	static const char *const bad[] = {
		"email = secret-not-an-address\n",
		"server = http://secret.example/dir\n",
		"handler-timeout = 99999999999999999999\n",
		"domains = secret..example.com\n",
		"key-type = secret\n",
		"agree-tos = secret\n",
		"eab-kid = k\neab-hmac-key = secret+key\n",
		"no-such-secret = 1\n",
		"= secret\n",
	};
	char	buf[2048], want[128];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_tmp(bad[i]);
		assert_int_equal(capture((char *[]){ "extauth", "-c", tmp,
		    "-d", "a.example.com", NULL }, buf, sizeof buf), ERR_USAGE);
		unlink(tmp);
		if (strstr(buf, "secret") != NULL &&
		    strstr(buf, "no-such-secret") == NULL)
			fail_msg("case %zu echoes the value: %s", i, buf);
		if (strstr(bad[i], "eab") != NULL)
			continue;	/* about the pair, not one line */
		snprintf(want, sizeof want, "%s:1", tmp);
		if (strstr(buf, want) == NULL)
			fail_msg("case %zu does not name %s: %s", i, want, buf);
	}
	/* the same value on line 3 is named by line 3 */
	write_tmp("# note\nagree-tos\nrsa-key-size = 1024\n");
	assert_int_equal(capture((char *[]){ "extauth", "--config", tmp, NULL },
	    buf, sizeof buf), ERR_USAGE);
	snprintf(want, sizeof want, "%s:3: rsa-key-size:", tmp);
	assert_non_null(strstr(buf, want));
	unlink(tmp);
}

/* The EAB key from a file or the environment, never only argv. */
static void
eab_key(void **state)
{
	struct config	cfg;

	(void)state;
	write_tmp("c2VjcmV0LWtleQ\n");
	assert_int_equal(PARSE(&cfg, "--eab-kid", "k", "--eab-hmac-key-file",
	    tmp), ERR_OK);
	assert_string_equal(cfg.eab_hmac_key, "c2VjcmV0LWtleQ");
	cli_config_clear(&cfg);
	unlink(tmp);
	setenv("EXTAUTH_EAB_HMAC_KEY", "ZW52LWtleQ", 1);
	assert_int_equal(PARSE(&cfg, "--eab-kid", "k"), ERR_OK);
	assert_string_equal(cfg.eab_hmac_key, "ZW52LWtleQ");
	cli_config_clear(&cfg);
	/* the command line wins over the environment */
	assert_int_equal(PARSE(&cfg, "--eab-kid", "k", "--eab-hmac-key",
	    "YXJndg"), ERR_OK);
	assert_string_equal(cfg.eab_hmac_key, "YXJndg");
	cli_config_clear(&cfg);
	/* no kid: the environment alone is ignored */
	assert_int_equal(PARSE(&cfg, "certificates"), ERR_OK);
	assert_null(cfg.eab_hmac_key);
	cli_config_clear(&cfg);
	unsetenv("EXTAUTH_EAB_HMAC_KEY");
}

/* Which cli.ini is read when no -c is given. */
static void
default_ini(void **state)
{
	struct config	 cfg;
	char		*p, dir[64], file[96];

	(void)state;
	unsetenv("EXTAUTH_CLI_INI");
	assert_non_null(p = cli_default_ini(0, NULL));
	assert_string_equal(p, "/etc/extauth/cli.ini");
	free(p);
	assert_non_null(p = cli_default_ini(0, "/etc/letsencrypt/"));
	assert_string_equal(p, "/etc/letsencrypt/cli.ini");
	free(p);
	assert_non_null(p = cli_default_ini(1000, "/etc/letsencrypt"));
	assert_string_equal(p, "/etc/letsencrypt/cli.ini");
	free(p);
	setenv("XDG_CONFIG_HOME", "/x", 1);
	assert_non_null(p = cli_default_ini(1000, "/srv/acme"));
	assert_string_equal(p, "/x/extauth/cli.ini");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/u", 1);
	assert_non_null(p = cli_default_ini(1000, NULL));
	assert_string_equal(p, "/home/u/.config/extauth/cli.ini");
	free(p);
	setenv("EXTAUTH_CLI_INI", "", 1);
	assert_null(cli_default_ini(0, NULL));

	/* Read when present, and the command line still wins. */
	snprintf(dir, sizeof dir, "/tmp/test_cli.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/cli.ini", dir);
	setenv("EXTAUTH_CLI_INI", file, 1);
	assert_int_equal(PARSE(&cfg, "certificates"), ERR_OK);	/* absent */
	assert_null(cfg.config_file);
	cli_config_clear(&cfg);
	write_tmp("cert-name = from-default\nemail = d@example.com\n");
	assert_int_equal(rename(tmp, file), 0);
	assert_int_equal(PARSE(&cfg, "certificates", "--cert-name", "cli"),
	    ERR_OK);
	assert_string_equal(cfg.config_file, file);
	assert_string_equal(cfg.cert_name, "cli");
	assert_string_equal(cfg.email, "d@example.com");
	cli_config_clear(&cfg);
	/* -c replaces it */
	write_tmp("email = c@example.com\n");
	assert_int_equal(PARSE(&cfg, "-c", tmp, "certificates"), ERR_OK);
	assert_string_equal(cfg.email, "c@example.com");
	assert_null(cfg.cert_name);
	cli_config_clear(&cfg);
	unlink(tmp);
	unlink(file);
	rmdir(dir);
	setenv("EXTAUTH_CLI_INI", "", 1);
}

/* --dry-run without --server goes to staging, never production. */
static void
dry_run_server(void **state)
{
	struct config	cfg;

	(void)state;
	unsetenv("EXTAUTH_STAGING_SERVER");
	assert_int_equal(PARSE(&cfg, "--dry-run", "certonly"), ERR_OK);
	assert_non_null(strstr(cfg.server, "acme-staging-v02"));
	assert_string_equal(cli_dry_run_server(&cfg,
	    "https://acme-v02.api.letsencrypt.org/directory"), cfg.server);
	assert_string_equal(cli_dry_run_server(&cfg, "https://ca.example/d"),
	    "https://ca.example/d");
	cli_config_clear(&cfg);
	setenv("EXTAUTH_STAGING_SERVER", "https://127.0.0.1:14000/dir", 1);
	assert_int_equal(PARSE(&cfg, "--dry-run", "renew"), ERR_OK);
	assert_string_equal(cfg.server, "https://127.0.0.1:14000/dir");
	assert_string_equal(cli_dry_run_server(&cfg,
	    "https://acme-v02.api.letsencrypt.org/directory"),
	    "https://127.0.0.1:14000/dir");
	cli_config_clear(&cfg);
	unsetenv("EXTAUTH_STAGING_SERVER");
	/* an explicit server is kept */
	assert_int_equal(PARSE(&cfg, "--dry-run", "--server",
	    "https://ca.example/d"), ERR_OK);
	assert_string_equal(cfg.server, "https://ca.example/d");
	cli_config_clear(&cfg);
	/* without --dry-run: production, and renew keeps what it recorded */
	assert_int_equal(PARSE(&cfg, "renew"), ERR_OK);
	assert_non_null(strstr(cfg.server, "acme-v02"));
	assert_string_equal(cli_dry_run_server(&cfg,
	    "https://acme-v02.api.letsencrypt.org/directory"),
	    "https://acme-v02.api.letsencrypt.org/directory");
	cli_config_clear(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_command_line),
		cmocka_unit_test(forms),
		cmocka_unit_test(errors),
		cmocka_unit_test(table),
		cmocka_unit_test(every_row),
		cmocka_unit_test(verbs_and_modes),
		cmocka_unit_test(defer_flags),
		cmocka_unit_test(messages),
		cmocka_unit_test(ini_values),
		cmocka_unit_test(eab_key),
		cmocka_unit_test(default_ini),
		cmocka_unit_test(dry_run_server),
	};

	/* No cli.ini of this machine may leak into the tests. */
	setenv("EXTAUTH_CLI_INI", "", 1);

	/* The parser's error lines go to stderr: keep the test output
	 * readable (TEST_CLI_STDERR=1 shows them, and cmocka's reasons). */
	if (getenv("TEST_CLI_STDERR") == NULL &&
	    freopen("/dev/null", "w", stderr) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
