/*
 * cli.c: the option and verb tables and the parser.  Every spelling from
 * the certbot-external-auth README is here and means what it meant there;
 * anything unknown is an error that names it, never silently ignored.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clini.h"
#include "domain.h"
#include "log.h"
#include "selfcheck.h"

#ifndef EXTAUTH_VERSION
#define EXTAUTH_VERSION "0.1.0"
#endif

#define LE_PRODUCTION	"https://acme-v02.api.letsencrypt.org/directory"
#define LE_STAGING	"https://acme-staging-v02.api.letsencrypt.org/directory"
#define PLUGIN		"certbot-external-auth:out"

static const char *const verb_names[] = {
	[VERB_RUN] = "run",
	[VERB_CERTONLY] = "certonly",
	[VERB_RENEW] = "renew",
	[VERB_CERTIFICATES] = "certificates",
	[VERB_REVOKE] = "revoke",
	[VERB_DELETE] = "delete",
	[VERB_REGISTER] = "register",
	[VERB_UNREGISTER] = "unregister",
	[VERB_SHOW_ACCOUNT] = "show_account",
	[VERB_CERTBOT_HOOK] = "certbot-hook",
};
_Static_assert(sizeof(verb_names) / sizeof(verb_names[0]) == VERB__COUNT,
    "verb_names must name every verb");

enum opt {
	OPT_SERVER, OPT_STAGING, OPT_CA_BUNDLE, OPT_CONFIG_DIR, OPT_WORK_DIR,
	OPT_LOGS_DIR, OPT_EMAIL, OPT_AGREE_TOS, OPT_UNSAFE_NO_EMAIL,
	OPT_EFF_EMAIL, OPT_DOMAINS, OPT_CERT_NAME, OPT_PREF_CHALLS,
	OPT_KEY_TYPE, OPT_RSA_SIZE, OPT_CURVE, OPT_FORCE, OPT_EXPAND, OPT_KEEP,
	OPT_DRY_RUN, OPT_NONINTERACTIVE, OPT_VERBOSE, OPT_QUIET, OPT_TEXT,
	OPT_IP_LOGGING, OPT_CONFIGURATOR, OPT_AUTHENTICATOR, OPT_INSTALLER,
	OPT_TEXT_MODE, OPT_HANDLER, OPT_DEHYDRATED, OPT_MODE,
	OPT_HANDLER_TIMEOUT, OPT_HOOK_CHAIN, OPT_DNS_WAIT, OPT_DNS_RESOLVER,
	OPT_INVOKER_TIMEOUT,
	OPT_DEACTIVATE_AUTHZ,
	OPT_SELF_CHECK, OPT_NO_SELF_CHECK,
	OPT_DEPLOY_HOOK, OPT_PRE_HOOK, OPT_POST_HOOK, OPT_EAB_KID, OPT_EAB_HMAC,
	OPT_CSR, OPT_MUST_STAPLE, OPT_CERT_PATH, OPT_CHAIN_PATH,
	OPT_FULLCHAIN_PATH, OPT_REASON, OPT_JSON,
	OPT_CONFIG, OPT_HELP, OPT_VERSION, OPT_SOCKET,
	OPT__COUNT
};

struct opt_def {
	const char	*name;	/* long name without "--" */
	char		 shortopt;
	bool		 arg;
	enum opt	 id;
	const char	*help;	/* NULL: an alias, listed with its main name */
};

static const struct opt_def opts[] = {
	{ "server", 0, true, OPT_SERVER, "ACME directory URL (default: "
	    "Let's Encrypt production)" },
	{ "staging", 0, false, OPT_STAGING, "use Let's Encrypt staging" },
	{ "test-cert", 0, false, OPT_STAGING, NULL },
	{ "ca-bundle", 0, true, OPT_CA_BUNDLE, "PEM file or hashed directory of CAs "
	    "to trust for the ACME server (also CURL_CA_BUNDLE)" },
	{ "config-dir", 0, true, OPT_CONFIG_DIR, "where keys, certificates "
	    "and renewal confs live" },
	{ "work-dir", 0, true, OPT_WORK_DIR, "working directory" },
	{ "logs-dir", 0, true, OPT_LOGS_DIR, "log directory" },
	{ "email", 'm', true, OPT_EMAIL, "contact address for the account" },
	{ "agree-tos", 0, false, OPT_AGREE_TOS, "agree to the CA's terms of "
	    "service" },
	{ "register-unsafely-without-email", 0, false, OPT_UNSAFE_NO_EMAIL,
	    "register an account without a contact address" },
	{ "no-eff-email", 0, false, OPT_EFF_EMAIL, "accepted, no effect" },
	{ "eff-email", 0, false, OPT_EFF_EMAIL, NULL },
	{ "domains", 'd', true, OPT_DOMAINS, "a name for the certificate "
	    "(repeat, or comma-separated)" },
	{ "domain", 0, true, OPT_DOMAINS, NULL },
	{ "cert-name", 0, true, OPT_CERT_NAME, "lineage name (default: first "
	    "domain)" },
	{ "preferred-challenges", 0, true, OPT_PREF_CHALLS, "challenge types "
	    "in order (dns-01, http-01, tls-alpn-01), e.g. dns or "
	    "dns-01,http-01 (default dns-01,http-01)" },
	{ "key-type", 0, true, OPT_KEY_TYPE, "ecdsa (default) or rsa" },
	{ "rsa-key-size", 0, true, OPT_RSA_SIZE, "2048 (default), 3072 or "
	    "4096" },
	{ "elliptic-curve", 0, true, OPT_CURVE, "secp256r1 (default) or "
	    "secp384r1" },
	{ "force-renewal", 0, false, OPT_FORCE, "renew even if not due" },
	{ "renew-by-default", 0, false, OPT_FORCE, NULL },
	{ "expand", 0, false, OPT_EXPAND, "add names to an existing lineage" },
	{ "keep-until-expiring", 0, false, OPT_KEEP, "keep a certificate "
	    "that is not due (default)" },
	{ "keep", 0, false, OPT_KEEP, NULL },
	{ "reinstall", 0, false, OPT_KEEP, NULL },
	{ "dry-run", 0, false, OPT_DRY_RUN, "talk to the CA but save nothing"
	    " (use a test server)" },
	{ "non-interactive", 'n', false, OPT_NONINTERACTIVE, "never prompt" },
	{ "noninteractive", 0, false, OPT_NONINTERACTIVE, NULL },
	{ "verbose", 'v', false, OPT_VERBOSE, "more output on stderr "
	    "(repeatable)" },
	{ "quiet", 'q', false, OPT_QUIET, "errors only on stderr" },
	{ "text", 't', false, OPT_TEXT, "accepted, no effect (certbot)" },
	{ "public-ip-logging-ok", 0, false, OPT_IP_LOGGING, "accepted, no "
	    "effect (the seed required it in JSON mode)" },
	{ PLUGIN "-public-ip-logging-ok", 0, false, OPT_IP_LOGGING, NULL },
	{ "configurator", 0, true, OPT_CONFIGURATOR, PLUGIN ": authenticator "
	    "and installer (run emits deploy_cert/save/restart)" },
	{ "authenticator", 'a', true, OPT_AUTHENTICATOR, PLUGIN ": "
	    "authenticator only" },
	{ "installer", 'i', true, OPT_INSTALLER, PLUGIN ": installer events "
	    "on run" },
	{ "mode", 0, true, OPT_MODE, "json (default), handler, dehydrated or "
	    "text" },
	{ PLUGIN "-text-mode", 0, false, OPT_TEXT_MODE, NULL },
	{ "text-mode", 0, false, OPT_TEXT_MODE, "manual mode: instructions "
	    "for a human" },
	{ "handler", 0, true, OPT_HANDLER, "handler program (handler mode)" },
	{ PLUGIN "-handler", 0, true, OPT_HANDLER, NULL },
	{ "dehydrated", 0, false, OPT_DEHYDRATED, "call --handler with "
	    "dehydrated's hook convention" },
	{ PLUGIN "-dehydrated-dns", 0, false, OPT_DEHYDRATED, NULL },
	{ "handler-timeout", 0, true, OPT_HANDLER_TIMEOUT, "seconds a handler "
	    "call may take (default 300)" },
	{ "invoker-timeout", 0, true, OPT_INVOKER_TIMEOUT, "seconds to wait "
	    "for the invoker's acknowledgement of each challenge (JSON mode; "
	    "default 300, 0: no limit)" },
	{ "hook-chain", 0, false, OPT_HOOK_CHAIN, "dehydrated HOOK_CHAIN=yes:"
	    " one call for all challenges" },
	{ "dns-wait", 0, true, OPT_DNS_WAIT, "after the challenges are "
	    "deployed, wait up to X seconds until every TXT record is visible "
	    "before asking the CA (default 0: off)" },
	{ "dns-resolver", 0, true, OPT_DNS_RESOLVER, "IPv4[:PORT] of the "
	    "nameserver --dns-wait and the text-mode check ask (e.g. your "
	    "primary)" },
	{ "deactivate-authz", 0, false, OPT_DEACTIVATE_AUTHZ, "once issued, "
	    "give up the order's authorizations: the next order validates "
	    "afresh" },
	{ "self-check", 0, false, OPT_SELF_CHECK, "text mode: check the "
	    "record/URL before prompting (default)" },
	{ "no-self-check", 0, false, OPT_NO_SELF_CHECK, "text mode: do not" },
	{ "deploy-hook", 0, true, OPT_DEPLOY_HOOK, "program run once per "
	    "issued/renewed lineage (RENEWED_LINEAGE, RENEWED_DOMAINS)" },
	{ "renew-hook", 0, true, OPT_DEPLOY_HOOK, NULL },
	{ "pre-hook", 0, true, OPT_PRE_HOOK, "program run before obtaining" },
	{ "post-hook", 0, true, OPT_POST_HOOK, "program run after obtaining" },
	{ "eab-kid", 0, true, OPT_EAB_KID, "external account binding key id" },
	{ "eab-hmac-key", 0, true, OPT_EAB_HMAC, "external account binding "
	    "HMAC key (base64url)" },
	{ "csr", 0, true, OPT_CSR, "certonly: order for this CSR (PEM or DER);"
	    " no lineage, files at the paths below" },
	{ "must-staple", 0, false, OPT_MUST_STAPLE, NULL },
	{ "cert-path", 0, true, OPT_CERT_PATH, "revoke: certificate file; "
	    "certonly --csr: where to save it (default ./NNNN_cert.pem)" },
	{ "chain-path", 0, true, OPT_CHAIN_PATH, "certonly --csr: where to "
	    "save the chain (default ./NNNN_chain.pem)" },
	{ "fullchain-path", 0, true, OPT_FULLCHAIN_PATH, "certonly --csr: "
	    "where to save cert + chain (default ./NNNN_chain.pem)" },
	{ "reason", 0, true, OPT_REASON, "revoke: unspecified, keycompromise, "
	    "affiliationchanged, superseded, cessationofoperation" },
	{ "json", 0, false, OPT_JSON, "certificates: JSON output" },
	{ "config", 'c', true, OPT_CONFIG, "certbot-style cli.ini file" },
	{ "socket", 0, true, OPT_SOCKET, "JSON mode over the Unix stream "
	    "socket the invoker listens on, not stdio" },
	{ "help", 'h', false, OPT_HELP, "this help" },
	{ "version", 0, false, OPT_VERSION, "print the version" },
};

const char *
cli_verb_name(enum cli_verb v)
{
	if ((unsigned)v >= VERB__COUNT)
		return "unknown";
	return verb_names[v];
}

void
cli_usage(void)
{
	size_t	i;
	char	name[96];

	printf("usage: extauth [VERB] [options]\n\n"
	    "verbs: run (default), certonly, renew, certificates, revoke, "
	    "delete,\n       register, unregister, show_account, "
	    "certbot-hook auth|cleanup|deploy\n\n"
	    "options:\n");
	for (i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		if (opts[i].help == NULL)
			continue;
		if (opts[i].shortopt)
			snprintf(name, sizeof name, "-%c, --%s%s",
			    opts[i].shortopt, opts[i].name,
			    opts[i].arg ? " X" : "");
		else
			snprintf(name, sizeof name, "    --%s%s", opts[i].name,
			    opts[i].arg ? " X" : "");
		printf("  %-34s %s\n", name, opts[i].help);
	}
	printf("\naliases: --test-cert, --renew-by-default, --keep, "
	    "--domain, --renew-hook,\n  --" PLUGIN "-public-ip-logging-ok, "
	    "--" PLUGIN "-text-mode,\n  --" PLUGIN "-handler, --" PLUGIN
	    "-dehydrated-dns\n\nexit codes: 0 ok, 1 internal, 2 usage, "
	    "3 CA/network, 4 challenge rejected,\n  5 invoker/handler "
	    "failure, 6 storage, 7 locked, 8 some lineages failed\n");
}

static const struct opt_def *
find_long(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt_def *
find_short(char c)
{
	size_t	i;

	for (i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (opts[i].shortopt == c)
			return &opts[i];
	return NULL;
}

static enum err usage_error(const char *, ...)
    __attribute__((format(printf, 1, 2)));

/* One line naming what is wrong; the caller returns ERR_USAGE. */
static enum err
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "extauth: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see extauth --help)\n");
	return ERR_USAGE;
}

/* Keeps a string we allocated for the life of cfg. */
static const char *
own(struct config *cfg, char *s)
{
	if (s == NULL || cfg->n_owned == sizeof cfg->owned /
	    sizeof cfg->owned[0]) {
		free(s);
		return NULL;
	}
	cfg->owned[cfg->n_owned++] = s;
	return s;
}

static enum err
add_domains(struct config *cfg, const char *arg)
{
	char	*copy, *tok, *save = NULL, *name, why[160];
	size_t	 i;
	enum err e = ERR_OK;

	if ((copy = strdup(arg)) == NULL)
		return ERR_INTERNAL;
	if (*arg == '\0') {
		e = usage_error("-d: %s%s", "empty domain name", "");
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		for (i = strlen(tok); i > 0 && tok[i - 1] == ' '; i--)
			tok[i - 1] = '\0';
		if ((name = domain_normalize(tok, why, sizeof why)) == NULL) {
			e = usage_error("invalid domain \"%s\": %s", tok, why);
			goto out;
		}
		for (i = 0; i < cfg->n_domains; i++)
			if (strcmp(cfg->domains[i], name) == 0)
				break;
		if (i < cfg->n_domains) {
			e = usage_error("domain %s given twice%s", name, "");
			free(name);
			goto out;
		}
		if (cfg->n_domains == CLI_DOMAINS_MAX) {
			free(name);
			e = usage_error("more than %s domains%s", "100", "");
			goto out;
		}
		if (strcmp(name, tok) != 0 && strncmp(name, "xn--", 4) == 0)
			log_info("using the A-label %s for %s", name, tok);
		cfg->domains[cfg->n_domains++] = name;
	}
out:
	free(copy);
	return e;
}

static enum err
set_prefs(struct config *cfg, const char *arg)
{
	char	*copy, *tok, *save = NULL;
	int	 t;
	size_t	 i;
	enum err e = ERR_OK;

	if ((copy = strdup(arg)) == NULL)
		return ERR_INTERNAL;
	cfg->n_prefs = 0;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if ((t = chal_type_parse(tok)) == -1) {
			e = usage_error("unknown challenge type \"%s\"%s", tok,
			    " (dns-01, http-01, tls-alpn-01)");
			goto out;
		}
		for (i = 0; i < cfg->n_prefs; i++)
			if (cfg->prefs[i] == (enum chal_type)t)
				break;
		if (i == cfg->n_prefs)
			cfg->prefs[cfg->n_prefs++] = (enum chal_type)t;
	}
	if (cfg->n_prefs == 0)
		e = usage_error("--preferred-challenges needs a type%s%s", "",
		    "");
	cfg->prefs_given = true;
out:
	free(copy);
	return e;
}

static enum err
parse_long_num(const char *flag, const char *v, long lo, long hi, long *out)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *v == '\0' || *end != '\0' || n < lo || n > hi)
		return usage_error("--%s: bad number \"%s\"", flag, v);
	*out = n;
	return ERR_OK;
}

static enum err
check_plugin(const char *flag, const char *v)
{
	if (strcmp(v, PLUGIN) == 0 || strcmp(v, "out") == 0 ||
	    strcmp(v, "extauth") == 0 || strcmp(v, "certbot-ext-auth:out") == 0)
		return ERR_OK;
	return usage_error("--%s %s: extauth is its own authenticator; use "
	    PLUGIN " or leave the flag out", flag, v);
}

static enum err
apply(struct config *cfg, const struct opt_def *o, const char *v)
{
	long	n = 0;
	int	m;

	switch (o->id) {
	case OPT_SERVER:
		cfg->server = v;
		break;
	case OPT_STAGING:
		cfg->server = LE_STAGING;
		break;
	case OPT_CA_BUNDLE:
		if (access(v, R_OK) == -1)
			return usage_error("cannot read CA bundle %s: %s", v,
			    strerror(errno));
		cfg->ca_bundle = v;
		break;
	case OPT_CONFIG_DIR:
		cfg->config_dir = v;
		break;
	case OPT_WORK_DIR:
		cfg->work_dir = v;
		break;
	case OPT_LOGS_DIR:
		cfg->logs_dir = v;
		break;
	case OPT_EMAIL:
		cfg->email = v;
		break;
	case OPT_AGREE_TOS:
		cfg->agree_tos = true;
		break;
	case OPT_UNSAFE_NO_EMAIL:
		cfg->register_unsafely = true;
		break;
	case OPT_EFF_EMAIL:
	case OPT_TEXT:
	case OPT_IP_LOGGING:
		break;
	case OPT_DOMAINS:
		return add_domains(cfg, v);
	case OPT_CERT_NAME:
		cfg->cert_name = v;
		break;
	case OPT_PREF_CHALLS:
		return set_prefs(cfg, v);
	case OPT_KEY_TYPE:
		if (strcmp(v, "ecdsa") == 0)
			cfg->key.type = CRYPTO_KEY_ECDSA;
		else if (strcmp(v, "rsa") == 0)
			cfg->key.type = CRYPTO_KEY_RSA;
		else
			return usage_error("--key-type %s: use ecdsa or rsa%s",
			    v, "");
		cfg->key_type_given = true;
		break;
	case OPT_RSA_SIZE:
		if (parse_long_num(o->name, v, 2048, 4096, &n) != ERR_OK ||
		    (n != 2048 && n != 3072 && n != 4096))
			return usage_error("--rsa-key-size %s: use 2048, 3072 "
			    "or 4096%s", v, "");
		cfg->key.rsa_bits = (int)n;
		break;
	case OPT_CURVE:
		if (strcmp(v, "secp256r1") != 0 && strcmp(v, "secp384r1") != 0)
			return usage_error("--elliptic-curve %s: use secp256r1 "
			    "or secp384r1%s", v, "");
		cfg->key.curve = v;
		break;
	case OPT_FORCE:
		cfg->force_renewal = true;
		break;
	case OPT_EXPAND:
		cfg->expand = true;
		break;
	case OPT_KEEP:
		cfg->keep_until_expiring = true;
		break;
	case OPT_DRY_RUN:
		cfg->dry_run = true;
		break;
	case OPT_NONINTERACTIVE:
		cfg->non_interactive = true;
		break;
	case OPT_VERBOSE:
		cfg->verbosity++;
		break;
	case OPT_QUIET:
		cfg->quiet = true;
		break;
	case OPT_CONFIGURATOR:
	case OPT_INSTALLER:
		cfg->installer = true;
		return check_plugin(o->name, v);
	case OPT_AUTHENTICATOR:
		return check_plugin(o->name, v);
	case OPT_TEXT_MODE:
		cfg->mode = SOLVER_TEXT;
		cfg->mode_given = true;
		break;
	case OPT_HANDLER:
		cfg->handler = v;
		break;
	case OPT_DEHYDRATED:
		cfg->mode = SOLVER_DEHYDRATED;
		cfg->mode_given = true;
		break;
	case OPT_MODE:
		if ((m = solver_mode_parse(v)) == -1)
			return usage_error("--mode %s: use json, handler, "
			    "dehydrated or text%s", v, "");
		cfg->mode = (enum solver_mode)m;
		cfg->mode_given = true;
		break;
	case OPT_HANDLER_TIMEOUT:
		return parse_long_num(o->name, v, 1, 86400,
		    &cfg->handler_timeout_s);
	case OPT_INVOKER_TIMEOUT:
		return parse_long_num(o->name, v, 0, 86400,
		    &cfg->invoker_timeout_s);
	case OPT_DNS_WAIT:
		return parse_long_num(o->name, v, 0, 86400, &cfg->dns_wait_s);
	case OPT_DNS_RESOLVER:
		if (!selfcheck_resolver_valid(v))
			return usage_error("--dns-resolver %s: give an IPv4 "
			    "address, optionally with :PORT", v);
		cfg->dns_resolver = v;
		break;
	case OPT_DEACTIVATE_AUTHZ:
		cfg->deactivate_authz = true;
		break;
	case OPT_HOOK_CHAIN:
		cfg->hook_chain = true;
		break;
	case OPT_SELF_CHECK:
		cfg->self_check = true;
		break;
	case OPT_NO_SELF_CHECK:
		cfg->self_check = false;
		break;
	case OPT_DEPLOY_HOOK:
		cfg->deploy_hook = v;
		break;
	case OPT_PRE_HOOK:
		cfg->pre_hook = v;
		break;
	case OPT_POST_HOOK:
		cfg->post_hook = v;
		break;
	case OPT_EAB_KID:
		cfg->eab_kid = v;
		break;
	case OPT_EAB_HMAC:
		cfg->eab_hmac_key = v;
		break;
	case OPT_CSR:
		cfg->csr = v;
		break;
	case OPT_MUST_STAPLE:
		return usage_error("--must-staple is not supported: Let's "
		    "Encrypt rejects it since 2025-05-07 and OCSP is gone%s%s",
		    "", "");
	case OPT_CERT_PATH:
		cfg->cert_path = v;
		break;
	case OPT_CHAIN_PATH:
		cfg->chain_path = v;
		break;
	case OPT_FULLCHAIN_PATH:
		cfg->fullchain_path = v;
		break;
	case OPT_REASON:
		cfg->reason = v;
		break;
	case OPT_JSON:
		cfg->json_output = true;
		break;
	case OPT_CONFIG:
		cfg->config_file = v;
		break;
	case OPT_SOCKET:
		cfg->socket_path = v;
		break;
	case OPT_HELP:
		cfg->show_help = true;
		break;
	case OPT_VERSION:
		cfg->show_version = true;
		break;
	case OPT__COUNT:
		break;
	}
	return ERR_OK;
}

static enum err
set_verb(struct config *cfg, const char *word)
{
	size_t	i;

	for (i = 0; i < VERB__COUNT; i++) {
		if (strcmp(word, verb_names[i]) != 0)
			continue;
		if (cfg->verb_given)
			return usage_error("two verbs given: %s and %s",
			    verb_names[cfg->verb], word);
		cfg->verb = (enum cli_verb)i;
		cfg->verb_given = true;
		return ERR_OK;
	}
	return usage_error("unknown verb or argument \"%s\"%s", word, "");
}

/* XDG base directory or HOME/fallback, plus suffix; kept in cfg. */
static const char *
xdg_dir(struct config *cfg, const char *var, const char *fallback,
    const char *suffix)
{
	const char	*x = getenv(var), *home = getenv("HOME");
	char		*s = NULL;
	int		 r;

	if (home == NULL || *home == '\0')
		home = "/tmp";
	if (x != NULL && *x == '/')
		r = asprintf(&s, "%s/%s", x, suffix);
	else
		r = asprintf(&s, "%s/%s/%s", home, fallback, suffix);
	return r == -1 ? NULL : own(cfg, s);
}

/* Default directories: certbot's for root, XDG ones for everybody else. */
static enum err
set_defaults_dirs(struct config *cfg)
{
	if (geteuid() == 0) {
		if (cfg->config_dir == NULL)
			cfg->config_dir = "/etc/extauth";
		if (cfg->work_dir == NULL)
			cfg->work_dir = "/var/lib/extauth";
		if (cfg->logs_dir == NULL)
			cfg->logs_dir = "/var/log/extauth";
		return ERR_OK;
	}
	if (cfg->config_dir == NULL && (cfg->config_dir = xdg_dir(cfg,
	    "XDG_CONFIG_HOME", ".config", "extauth")) == NULL)
		return ERR_INTERNAL;
	if (cfg->work_dir == NULL && (cfg->work_dir = xdg_dir(cfg,
	    "XDG_DATA_HOME", ".local/share", "extauth")) == NULL)
		return ERR_INTERNAL;
	if (cfg->logs_dir == NULL && (cfg->logs_dir = xdg_dir(cfg,
	    "XDG_STATE_HOME", ".local/state", "extauth/log")) == NULL)
		return ERR_INTERNAL;
	return ERR_OK;
}

static enum err
finish(struct config *cfg)
{
	if (cfg->show_help || cfg->show_version)
		return ERR_OK;
	if (cfg->mode == SOLVER_DEHYDRATED && cfg->handler == NULL)
		return usage_error("dehydrated mode needs --handler PROG "
		    "(the hook script)%s%s", "", "");
	if (cfg->handler != NULL && !cfg->mode_given) {
		cfg->mode = SOLVER_HANDLER;
		cfg->mode_given = true;
	}
	if ((cfg->mode == SOLVER_HANDLER) && cfg->handler == NULL)
		return usage_error("handler mode needs --handler PROG%s%s", "",
		    "");
	if (cfg->csr != NULL && cfg->verb != VERB_CERTONLY)
		return usage_error("--csr works only with certonly, not %s (as "
		    "in certbot)", verb_names[cfg->verb]);
	if (cfg->eab_kid != NULL && cfg->eab_hmac_key == NULL)
		return usage_error("--eab-kid needs --eab-hmac-key%s%s", "", "");
	if (cfg->eab_hmac_key != NULL && cfg->eab_kid == NULL)
		return usage_error("--eab-hmac-key needs --eab-kid%s%s", "", "");
	if (cfg->n_prefs == 0) {
		cfg->prefs[0] = CHAL_DNS01;
		cfg->prefs[1] = CHAL_HTTP01;
		cfg->n_prefs = 2;
	}
	return set_defaults_dirs(cfg);
}

/* What -c FILE may set: any long option but --config itself. */
static enum clini_key
ini_key(const char *key)
{
	const struct opt_def	*o = find_long(key, strlen(key));

	if (o == NULL || o->id == OPT_CONFIG)
		return CLINI_KEY_UNKNOWN;
	return o->arg ? CLINI_KEY_VALUE : CLINI_KEY_FLAG;
}

/* The FILE of the last -c/--config FILE, skipping other options' values
 * the way the parser below does; NULL if none. */
static const char *
config_file_arg(int argc, char **argv)
{
	const struct opt_def	*o;
	const char		*arg, *eq, *v, *file = NULL;
	int			 i;
	size_t			 j;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0)
			break;
		if (arg[0] != '-' || arg[1] == '\0')
			continue;
		if (arg[1] == '-') {
			eq = strchr(arg + 2, '=');
			o = find_long(arg + 2, eq ? (size_t)(eq - arg - 2) :
			    strlen(arg + 2));
			if (o == NULL || !o->arg || eq != NULL) {
				if (o != NULL && o->id == OPT_CONFIG)
					file = eq + 1;
				continue;
			}
			if (i + 1 < argc && o->id == OPT_CONFIG)
				file = argv[i + 1];
			i++;
			continue;
		}
		for (j = 1; arg[j] != '\0'; j++) {
			if ((o = find_short(arg[j])) == NULL || !o->arg)
				continue;
			if (arg[j + 1] != '\0')
				v = arg + j + 1;
			else if (i + 1 < argc)
				v = argv[++i];
			else
				break;
			if (o->id == OPT_CONFIG)
				file = v;
			break;
		}
	}
	return file;
}

enum err
cli_parse(int argc, char **argv, struct config *cfg)
{
	const struct opt_def	*o;
	const char		*arg, *eq, *v, *ini;
	char			**fargv = NULL, **nargv;
	enum err		 e;
	int			 i, fargc = 0;
	size_t			 j;
	bool			 rest = false;

	memset(cfg, 0, sizeof *cfg);
	cfg->verb = VERB_RUN;
	cfg->server = LE_PRODUCTION;
	cfg->key.type = CRYPTO_KEY_ECDSA;
	cfg->key.rsa_bits = 2048;
	cfg->key.curve = "secp256r1";
	cfg->mode = SOLVER_JSON;
	cfg->handler_timeout_s = 300;
	cfg->invoker_timeout_s = 300;
	cfg->self_check = true;

	/* -c FILE: its words go first, so the command line wins. */
	if ((ini = config_file_arg(argc, argv)) != NULL) {
		if ((e = clini_load(ini, ini_key, &fargc, &fargv)) != ERR_OK)
			return e;
		if (own(cfg, (char *)fargv) == NULL ||
		    (nargv = calloc((size_t)fargc + (size_t)argc + 1,
		    sizeof *nargv)) == NULL)
			return ERR_INTERNAL;
		if (own(cfg, (char *)nargv) == NULL)
			return ERR_INTERNAL;
		nargv[0] = argv[0];
		memcpy(nargv + 1, fargv, (size_t)fargc * sizeof *nargv);
		memcpy(nargv + 1 + fargc, argv + 1, (size_t)(argc - 1) *
		    sizeof *nargv);
		argv = nargv;
		argc += fargc;
	}

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (rest || arg[0] != '-' || arg[1] == '\0') {
			if (cfg->verb_given && cfg->verb == VERB_CERTBOT_HOOK &&
			    cfg->hook_args[0] == NULL) {
				cfg->hook_args[0] = argv[i];
				continue;
			}
			if ((e = set_verb(cfg, arg)) != ERR_OK)
				return e;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			rest = true;
			continue;
		}
		if (arg[1] == '-') {
			eq = strchr(arg + 2, '=');
			o = find_long(arg + 2, eq ? (size_t)(eq - arg - 2) :
			    strlen(arg + 2));
			if (o == NULL) {
				fprintf(stderr, "extauth: unknown option %.*s "
				    "(see extauth --help)\n", eq ? (int)(eq -
				    arg) : (int)strlen(arg), arg);
				return ERR_USAGE;
			}
			if (!o->arg && eq != NULL)
				return usage_error("option --%s takes no "
				    "value%s", o->name, "");
			v = NULL;
			if (o->arg) {
				if (eq != NULL)
					v = eq + 1;
				else if (i + 1 < argc)
					v = argv[++i];
				else
					return usage_error("option --%s needs a "
					    "value%s", o->name, "");
			}
			if ((e = apply(cfg, o, v)) != ERR_OK)
				return e;
			continue;
		}
		/* Short options, clustered as in -vvv or -dexample.com. */
		for (j = 1; arg[j] != '\0'; j++) {
			if ((o = find_short(arg[j])) == NULL) {
				char	 bad[3] = { '-', arg[j], '\0' };

				return usage_error("unknown option %s%s", bad,
				    "");
			}
			v = NULL;
			if (o->arg) {
				if (arg[j + 1] != '\0')
					v = arg + j + 1;
				else if (i + 1 < argc)
					v = argv[++i];
				else
					return usage_error("option -%s needs a "
					    "value%s", (char[]){ arg[j], '\0' },
					    "");
			}
			if ((e = apply(cfg, o, v)) != ERR_OK)
				return e;
			if (v != NULL)
				break;
		}
	}
	return finish(cfg);
}

void
cli_config_clear(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->n_domains; i++)
		free(cfg->domains[i]);
	for (i = 0; i < cfg->n_owned; i++)
		free(cfg->owned[i]);
	memset(cfg, 0, sizeof *cfg);
}

const char *
cli_version(void)
{
	return EXTAUTH_VERSION;
}
