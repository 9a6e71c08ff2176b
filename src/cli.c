/*
 * cli.c: the option and verb tables and the parser.  Every spelling from
 * the certbot-external-auth README is here and means what it meant there;
 * anything unknown is an error that names it, never silently ignored.
 * The option table is the one source of --help, help VERB, the shell
 * completions and the option list of extauth(1): a new option is one row.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "cli.h"
#include "cli_table.h"
#include "clini.h"
#include "domain.h"
#include "log.h"
#include "num.h"
#include "profile.h"
#include "pending.h"
#include "selfcheck.h"
#include "sig.h"

#ifndef EXTAUTH_VERSION
#define EXTAUTH_VERSION "0.1.0"
#endif

#define LE_PRODUCTION	"https://acme-v02.api.letsencrypt.org/directory"
#define LE_STAGING	"https://acme-staging-v02.api.letsencrypt.org/directory"
#define PLUGIN		"certbot-external-auth:out"
#define EAB_KEY_MAX	1024	/* cap on --eab-hmac-key-file's size */
#define RANDOM_SLEEP_MAX	480	/* certbot: up to 8 minutes */

const struct verb_def cli_verbs[] = {
	[VERB_RUN] = { "run", NULL, "obtain a certificate, then emit the "
	    "installer events (the default verb, as in certbot)" },
	[VERB_CERTONLY] = { "certonly", NULL, "obtain or keep one lineage; "
	    "with --csr, a certificate for your own CSR" },
	[VERB_RENEW] = { "renew", NULL, "renew every lineage that is due, "
	    "the way each was obtained" },
	[VERB_CERTIFICATES] = { "certificates", NULL, "list the lineages "
	    "and their certificates" },
	[VERB_REVOKE] = { "revoke", NULL, "revoke a certificate at the CA "
	    "(--cert-name or --cert-path)" },
	[VERB_DELETE] = { "delete", NULL, "remove a lineage (--cert-name) "
	    "from the config dir" },
	[VERB_REGISTER] = { "register", NULL, "create an account at the CA" },
	[VERB_UNREGISTER] = { "unregister", NULL, "deactivate the account at "
	    "the CA, then remove it locally" },
	[VERB_SHOW_ACCOUNT] = { "show_account", NULL, "show the account, "
	    "with the CAA record (RFC 8657) that binds a name to it" },
	[VERB_UPDATE_ACCOUNT] = { "update_account", NULL, "change the "
	    "account's contact (--email) or replace its key at the CA "
	    "(--key-rollover)" },
	[VERB_CERTBOT_HOOK] = { "certbot-hook", "auth|cleanup|deploy", "the "
	    "certbot bridge: run as certbot's manual hook" },
	[VERB_RESUME] = { "resume", "ID", "finish an order deferred by "
	    "--defer: answer its challenges, finalize, save the lineage" },
	[VERB_PENDING] = { "pending", NULL, "list the deferred orders "
	    "(--json), or remove one (--cancel ID)" },
};
_Static_assert(sizeof(cli_verbs) / sizeof(cli_verbs[0]) == VERB__COUNT,
    "cli_verbs must name every verb");

#define F(field)	offsetof(struct config, field)
#define LOGIC(id)	KIND_LOGIC, 0, (id), 0, 0
#define STR(field)	KIND_STR, F(field), OPT_PLAIN, 0, 0
#define SET(field)	KIND_TRUE, F(field), OPT_PLAIN, 0, 0
#define CLEAR(field)	KIND_FALSE, F(field), OPT_PLAIN, 0, 0
#define NUM(field, lo, hi) KIND_LONG, F(field), OPT_PLAIN, (lo), (hi)
#define COUNT(field)	KIND_COUNT, F(field), OPT_PLAIN, 0, 0
#define NOP(id)		KIND_NOP, 0, (id), 0, 0

const struct opt_def cli_opts[] = {
	{ "server", 0, LOGIC(OPT_SERVER), V_CA, "URL", "ACME directory URL, "
	    "https only (default: Let's Encrypt production; with --dry-run its "
	    "staging directory)" },
	{ "staging", 0, LOGIC(OPT_STAGING), V_CA, NULL, "use Let's Encrypt "
	    "staging" },
	{ "test-cert", 0, LOGIC(OPT_STAGING), V_CA, NULL, NULL },
	{ "ca-bundle", 0, LOGIC(OPT_CA_BUNDLE), V_CA, "PATH", "PEM file or "
	    "hashed directory of CAs to trust for the ACME server (also "
	    "CURL_CA_BUNDLE)" },
	{ "allow-cross-origin", 0, SET(allow_cross_origin), V_CA, NULL,
	    "accept order, authorization, challenge, finalize and certificate "
	    "URLs on another origin than the directory's (refused by default)"
	    },
	{ "config-dir", 0, STR(config_dir), V_ALL, "DIR", "where keys, "
	    "certificates and renewal confs live" },
	{ "work-dir", 0, STR(work_dir), V_ALL, "DIR", "working directory" },
	{ "logs-dir", 0, STR(logs_dir), V_ALL, "DIR", "log directory" },
	{ "email", 'm', LOGIC(OPT_EMAIL), V_CONTACT, "ADDRESS", "contact "
	    "address for the account (comma-separated for several)" },
	{ "agree-tos", 0, SET(agree_tos), V_NEWACCT, NULL, "agree to the "
	    "CA's terms of service" },
	{ "register-unsafely-without-email", 0, SET(register_unsafely),
	    V_CONTACT, NULL, "register an account without a contact address; "
	    "update_account: remove its contact addresses" },
	{ "key-rollover", 0, SET(key_rollover), V(VERB_UPDATE_ACCOUNT), NULL,
	    "replace the account key by a new one at the CA (RFC 8555 "
	    "§7.3.5); the old key stops working" },
	{ "no-eff-email", 0, NOP(OPT_EFF_EMAIL), V_NEWACCT, NULL, "accepted, no effect" },
	{ "eff-email", 0, NOP(OPT_EFF_EMAIL), V_NEWACCT, NULL, NULL },
	{ "domains", 'd', LOGIC(OPT_DOMAINS), V_GET | V(VERB_CERTIFICATES),
	    "NAME", "a name for the certificate (repeat, or comma-separated)" },
	{ "domain", 0, LOGIC(OPT_DOMAINS), V_GET | V(VERB_CERTIFICATES),
	    "NAME", NULL },
	{ "cert-name", 0, STR(cert_name), V_OBTAIN | V(VERB_CERTIFICATES) |
	    V(VERB_REVOKE) | V(VERB_DELETE), "NAME", "lineage name (default: "
	    "first domain)" },
	{ "preferred-challenges", 0, LOGIC(OPT_PREF_CHALLS), V_GET, "TYPES",
	    "challenge types in order (dns-01, http-01, tls-alpn-01, "
	    "dns-account-01, dns-persist-01), e.g. dns or dns-01,http-01 "
	    "(default dns-01,http-01)" },
	{ "key-type", 0, LOGIC(OPT_KEY_TYPE), V_GET, "ecdsa|rsa", "key of "
	    "the certificate (default ecdsa)" },
	{ "rsa-key-size", 0, LOGIC(OPT_RSA_SIZE), V_GET, "2048|3072|4096",
	    "RSA key size (default 2048)" },
	{ "elliptic-curve", 0, LOGIC(OPT_CURVE), V_GET, "secp256r1|secp384r1",
	    "ECDSA curve (default secp256r1)" },
	{ "force-renewal", 0, SET(force_renewal), V_OBTAIN, NULL, "renew even "
	    "if not due" },
	{ "renew-by-default", 0, SET(force_renewal), V_OBTAIN, NULL, NULL },
	{ "expand", 0, SET(expand), V_GET, NULL, "add names to an existing "
	    "lineage" },
	{ "keep-until-expiring", 0, SET(keep_until_expiring), V_GET, NULL,
	    "keep a certificate that is not due (default)" },
	{ "keep", 0, SET(keep_until_expiring), V_GET, NULL, NULL },
	{ "reinstall", 0, SET(keep_until_expiring), V_GET, NULL, NULL },
	{ "dry-run", 0, SET(dry_run), V_OBTAIN, NULL, "validate and finalize "
	    "but save nothing; without --server at Let's Encrypt staging" },
	{ "no-random-sleep-on-renew", 0, SET(no_random_sleep), V(VERB_RENEW),
	    NULL, "renew without a terminal: skip the random 1-480 s wait "
	    "before the first renewal" },
	{ "non-interactive", 'n', SET(non_interactive), V_ALL, NULL, "never "
	    "prompt" },
	{ "noninteractive", 0, SET(non_interactive), V_ALL, NULL, NULL },
	{ "verbose", 'v', COUNT(verbosity), V_ALL, NULL,
	    "more output on stderr (repeatable)" },
	{ "quiet", 'q', SET(quiet), V_ALL, NULL, "errors only on stderr" },
	{ "text", 't', NOP(OPT_TEXT), V_ALL, NULL, "accepted, no effect (certbot)" },
	{ "public-ip-logging-ok", 0, NOP(OPT_IP_LOGGING), V_OBTAIN, NULL, "accepted, no "
	    "effect (the seed required it in JSON mode)" },
	{ PLUGIN "-public-ip-logging-ok", 0, NOP(OPT_IP_LOGGING), V_OBTAIN, NULL, NULL },
	{ "configurator", 0, LOGIC(OPT_CONFIGURATOR), V_GET, "PLUGIN", PLUGIN
	    ": authenticator and installer (run emits deploy_cert/save/"
	    "restart)" },
	{ "authenticator", 'a', LOGIC(OPT_AUTHENTICATOR), V_OBTAIN, "PLUGIN",
	    PLUGIN ": authenticator only" },
	{ "installer", 'i', LOGIC(OPT_INSTALLER), V_GET, "PLUGIN", PLUGIN
	    ": installer events on run" },
	{ "mode", 0, LOGIC(OPT_MODE), V_SOLVE, "json|handler|dehydrated|text",
	    "how challenges are handed out (default json)" },
	{ PLUGIN "-text-mode", 0, LOGIC(OPT_TEXT_MODE), V_SOLVE, NULL, NULL },
	{ "text-mode", 0, LOGIC(OPT_TEXT_MODE), V_SOLVE, NULL, "manual mode: "
	    "instructions for a human" },
	{ "handler", 0, STR(handler), V_SOLVE, "PROG", "handler program "
	    "(handler mode)" },
	{ PLUGIN "-handler", 0, STR(handler), V_SOLVE, "PROG", NULL },
	{ "dehydrated", 0, LOGIC(OPT_DEHYDRATED), V_SOLVE, NULL, "call "
	    "--handler with dehydrated's hook convention" },
	{ PLUGIN "-dehydrated-dns", 0, LOGIC(OPT_DEHYDRATED), V_SOLVE, NULL,
	    NULL },
	{ "handler-timeout", 0, NUM(handler_timeout_s, 1, 86400),
	    V_SOLVE | V(VERB_RESUME) | V(VERB_PENDING), "SECONDS",
	    "seconds a handler call may take (default 300)" },
	{ "max-log-backups", 0, NUM(max_log_backups, 0, 1000000), V_ALL, "N",
	    "old log files to keep, one per run (default 1000; 0: one file, "
	    "appended to)" },
	{ "invoker-timeout", 0, NUM(invoker_timeout_s, 0, 86400), V_SOLVE,
	    "SECONDS", "seconds to wait for the invoker's acknowledgement of "
	    "each challenge (JSON mode; default 300, 0: no limit)" },
	{ "hook-chain", 0, SET(hook_chain), V_SOLVE, NULL, "dehydrated "
	    "HOOK_CHAIN=yes: one call for all challenges" },
	{ "parallel-hooks", 0, SET(parallel_hooks), V_SOLVE, NULL, "handler, "
	    "dehydrated: the perform (and cleanup) calls of one order's "
	    "challenges at once, each with its own timeout (default: one at a "
	    "time)" },
	{ "dns-wait", 0, NUM(dns_wait_s, 0, 86400), V_OBTAIN | V(VERB_RESUME),
	    "SECONDS", "after the "
	    "challenges are deployed, wait up to this long until every "
	    "authoritative nameserver of each zone serves its TXT record before "
	    "asking the CA (default 0: off)" },
	{ "dns-resolver", 0, LOGIC(OPT_DNS_RESOLVER), V_OBTAIN | V(VERB_RESUME),
	    "IPV4[:PORT]",
	    "the resolver --dns-wait finds each zone's nameservers through, "
	    "and the text-mode check asks" },
	{ "preferred-profile", 0, STR(preferred_profile), V_OBTAIN, "NAME",
	    "order the CA's profile NAME, or its default when it does not "
	    "offer NAME (recorded for renew)" },
	{ "required-profile", 0, STR(required_profile), V_OBTAIN, "NAME",
	    "order the CA's profile NAME; fail before ordering when it does "
	    "not offer NAME (recorded for renew)" },
	{ "preferred-chain", 0, STR(preferred_chain), V_OBTAIN, "ISSUER_CN",
	    "of the chains the CA offers, take the one whose topmost issuer "
	    "has this common name (e.g. \"ISRG Root X1\"), else the default "
	    "(recorded for renew)" },
	{ "reuse-key", 0, SET(reuse_key), V_OBTAIN, NULL, "renewals keep "
	    "the lineage's current private key (recorded for renew)" },
	{ "no-reuse-key", 0, SET(no_reuse_key), V_OBTAIN, NULL, "renewals "
	    "get a new private key (the default; recorded for renew)" },
	{ "new-key", 0, SET(new_key), V_OBTAIN, NULL, "a new private key "
	    "this time, even with --reuse-key (which then keeps the new one)"
	    },
	{ "deactivate-authz", 0, SET(deactivate_authz), V_OBTAIN, NULL, "once "
	    "issued, give up the order's authorizations: the next order "
	    "validates afresh" },
	{ "self-check", 0, SET(self_check), V_OBTAIN, NULL, "text mode: check "
	    "the record/URL before prompting (default)" },
	{ "no-self-check", 0, CLEAR(self_check), V_OBTAIN, NULL, "text mode: "
	    "do not" },
	{ "deploy-hook", 0, STR(deploy_hook), V_OBTAIN, "CMD", "program run "
	    "once per issued/renewed lineage (RENEWED_LINEAGE, "
	    "RENEWED_DOMAINS)" },
	{ "renew-hook", 0, STR(deploy_hook), V_OBTAIN, "CMD", NULL },
	{ "pre-hook", 0, STR(pre_hook), V_OBTAIN, "CMD", "program run before "
	    "obtaining" },
	{ "post-hook", 0, STR(post_hook), V_OBTAIN, "CMD", "program run after "
	    "obtaining" },
	{ "eab-kid", 0, STR(eab_kid), V_NEWACCT, "KID", "external account "
	    "binding key id" },
	{ "eab-hmac-key", 0, STR(eab_hmac_key), V_NEWACCT, "KEY", "external "
	    "account binding HMAC key (base64url); argv is visible in /proc: "
	    "prefer --eab-hmac-key-file or EXTAUTH_EAB_HMAC_KEY" },
	{ "eab-hmac-key-file", 0, LOGIC(OPT_EAB_HMAC_FILE), V_NEWACCT, "FILE",
	    "read the EAB HMAC key from FILE" },
	{ "batch", 0, STR(batch), V(VERB_CERTONLY), "FILE", "certonly: one "
	    "certificate per line of FILE (names and its own options, see "
	    "extauth(1)), one account and connection for all" },
	{ "max-concurrent", 0, NUM(max_concurrent, 1, 64), V(VERB_RENEW) |
	    V(VERB_CERTONLY), "N", "renew, certonly --batch: orders in flight "
	    "at once in handler, dehydrated and JSON modes (default 8; 1: one "
	    "after the other)" },
	{ "csr", 0, STR(csr), V(VERB_CERTONLY), "FILE", "certonly: order for "
	    "this CSR (PEM or DER); no lineage, files at the paths below" },
	{ "must-staple", 0, LOGIC(OPT_MUST_STAPLE), V_HIDDEN, NULL, NULL },
	{ "cert-path", 0, STR(cert_path), V(VERB_CERTONLY) | V(VERB_REVOKE),
	    "FILE", "revoke: certificate file; certonly --csr: where to save it"
	    " (default ./NNNN_cert.pem)" },
	{ "chain-path", 0, STR(chain_path), V(VERB_CERTONLY), "FILE", "certonly"
	    " --csr: where to save the chain (default ./NNNN_chain.pem)" },
	{ "fullchain-path", 0, STR(fullchain_path), V(VERB_CERTONLY), "FILE",
	    "certonly --csr: where to save cert + chain (default "
	    "./NNNN_chain.pem)" },
	{ "reason", 0, STR(reason), V(VERB_REVOKE), "unspecified|keycompromise|"
	    "affiliationchanged|superseded|cessationofoperation", "revoke: the "
	    "reason given to the CA" },
	{ "check", 0, SET(check), V(VERB_CERTIFICATES), NULL, "one summary "
	    "line and the Nagios/Icinga exit status: 0 ok, 1 warning (a "
	    "lineage failing to renew, or under --warn-days, or overdue), 2 "
	    "critical (expired or unreadable), 3 unknown" },
	{ "warn-days", 0, NUM(warn_days, 1, 3650), V(VERB_CERTIFICATES), "N",
	    "with --check: warn when a certificate has fewer than N days left "
	    "(default: when half of its renewal window has passed)" },
	{ "json", 0, SET(json_output), V(VERB_CERTIFICATES) |
	    V(VERB_PENDING) | V(VERB_SHOW_ACCOUNT) | V(VERB_REVOKE) |
	    V(VERB_DELETE) | V(VERB_RESUME), NULL, "the result as JSON on stdout "
	    "(extauth-protocol(7))" },
	{ "defer", 0, SET(defer), V_OBTAIN, NULL, "two-phase mode: create the "
	    "order, hand out the challenges, save it as a pending order and "
	    "exit; extauth resume ID finishes it" },
	{ "resume", 0, STR(resume_id), V(VERB_CERTONLY), "ID", "certonly: "
	    "finish the pending order ID (as extauth resume ID)" },
	{ "cancel", 0, STR(cancel_id), V(VERB_PENDING) | V(VERB_RESUME), "ID",
	    "remove the pending order ID" },
	{ "config", 'c', STR(config_file), V_ALL, "FILE", "certbot-style "
	    "cli.ini file (default: see FILES in extauth(1))" },
	{ "socket", 0, STR(socket_path), V_SOLVE | V(VERB_RESUME) |
	    V(VERB_PENDING), "PATH", "JSON mode over the "
	    "Unix stream socket the invoker listens on, not stdio" },
	{ "fifo", 0, STR(fifo_dir), (V_SOLVE | V(VERB_RESUME) |
	    V(VERB_PENDING)) & ~V(VERB_RENEW), "DIR", "JSON mode over the "
	    "named pipes DIR/events and DIR/replies, not stdio" },
	{ "help", 'h', SET(show_help), V_ALL, NULL, "this help; with a verb, "
	    "that verb's options" },
	{ "version", 0, SET(show_version), V_ALL, NULL, "print the version" },
	{ "print-completion", 0, LOGIC(OPT_COMPLETION), V_HIDDEN,
	    "bash|zsh|fish", NULL },
	{ "print-man", 0, SET(print_man), V_HIDDEN, NULL, NULL },
};
const size_t cli_n_opts = sizeof cli_opts / sizeof cli_opts[0];

/*
 * The state of one argv walk.  Words [1, ini_end) came from a cli.ini
 * (ini_lines[i - 1] is the line of word i): errors about them name the
 * file, the line and the key, never the value.
 */
struct parse {
	struct config	*cfg;
	int		 argc;
	char		**argv;
	int		 i;		/* next word */
	int		 at;		/* word of the current option */
	const char	*cluster;	/* rest of -vvn, or NULL */
	bool		 rest;		/* after "--" */
	bool		 quiet;		/* the first walk: no messages */
	const char	*ini;		/* the cli.ini read, or NULL */
	const int	*ini_lines;
	int		 ini_end;
};

static bool
from_file(const struct parse *p)
{
	return p->ini != NULL && p->at >= 1 && p->at < p->ini_end;
}

/*
 * Two lines: what is wrong (after "--NAME VALUE: ", or "FILE:LINE: NAME: "
 * for a cli.ini word, which never shows the value), and what to do (todo,
 * or a pointer to the help).  Returns ERR_USAGE.
 */
static enum err perr(const struct parse *, const struct opt_def *,
    const char *v, const char *todo, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum err
perr(const struct parse *p, const struct opt_def *o, const char *v,
    const char *todo, const char *fmt, ...)
{
	va_list	ap;

	if (p->quiet)
		return ERR_USAGE;
	fprintf(stderr, "extauth: ");
	if (from_file(p))
		fprintf(stderr, "%s:%d: %s%s", p->ini, p->ini_lines[p->at - 1],
		    o != NULL ? o->name : "", o != NULL ? ": " : "");
	else if (o != NULL && v != NULL)
		fprintf(stderr, "--%s %s: ", o->name, v);
	else if (o != NULL)
		fprintf(stderr, "--%s: ", o->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (todo != NULL)
		fprintf(stderr, "\nextauth: %s\n", todo);
	else if (p->cfg->verb_given)
		fprintf(stderr, "\nextauth: see extauth help %s\n",
		    cli_verbs[p->cfg->verb].name);
	else
		fprintf(stderr, "\nextauth: see extauth --help\n");
	return ERR_USAGE;
}

const char *
cli_verb_name(enum cli_verb v)
{
	if ((unsigned)v >= VERB__COUNT)
		return "unknown";
	return cli_verbs[v].name;
}

/* The option named exactly name[0..len), or NULL. */
static const struct opt_def *
find_exact(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < cli_n_opts; i++)
		if (strlen(cli_opts[i].name) == len &&
		    strncmp(cli_opts[i].name, name, len) == 0)
			return &cli_opts[i];
	return NULL;
}

/*
 * The option named name[0..len), or the one option it is a prefix of
 * (argparse's allow_abbrev; spellings of one option count once).  NULL
 * if none; *ambiguous is set when several options share the prefix.
 */
static const struct opt_def *
find_long(const char *name, size_t len, bool *ambiguous)
{
	const struct opt_def	*o, *hit = NULL;
	size_t			 i;

	*ambiguous = false;
	if ((o = find_exact(name, len)) != NULL)
		return o;
	if (len == 0)
		return NULL;
	for (i = 0; i < cli_n_opts; i++) {
		o = &cli_opts[i];
		if (o->verbs == V_HIDDEN || strncmp(o->name, name, len) != 0)
			continue;
		if (hit != NULL && !(hit->kind == o->kind && hit->off == o->off
		    && hit->id == o->id)) {
			*ambiguous = true;
			return NULL;
		}
		if (hit == NULL)
			hit = o;
	}
	return hit;
}

static const struct opt_def *
find_short(char c)
{
	size_t	i;

	for (i = 0; i < cli_n_opts; i++)
		if (cli_opts[i].shortopt == c)
			return &cli_opts[i];
	return NULL;
}

/* Levenshtein distance of a[0..la) and b, capped at 32 characters. */
static size_t
edit_distance(const char *a, size_t la, const char *b)
{
	size_t	row[33], i, j, lb = strlen(b), diag, up, best;

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The listed option nearest to name[0..len), or NULL if none is close. */
static const struct opt_def *
nearest(const char *name, size_t len)
{
	const struct opt_def	*best = NULL;
	size_t			 i, d, bestd = SIZE_MAX;

	for (i = 0; i < cli_n_opts; i++) {
		if (cli_opts[i].verbs == V_HIDDEN)
			continue;
		if ((d = edit_distance(name, len, cli_opts[i].name)) < bestd) {
			bestd = d;
			best = &cli_opts[i];
		}
	}
	return bestd <= 2 || (bestd != SIZE_MAX && bestd * 3 <= len) ? best :
	    NULL;
}

/* Every option sharing the prefix, for the ambiguity message. */
static void
list_prefixed(const char *name, size_t len, char *buf, size_t size)
{
	size_t	i, n = 0;
	int	r;

	buf[0] = '\0';
	for (i = 0; i < cli_n_opts && n < size; i++) {
		if (cli_opts[i].verbs == V_HIDDEN || cli_opts[i].help == NULL ||
		    strncmp(cli_opts[i].name, name, len) != 0)
			continue;
		r = snprintf(buf + n, size - n, "%s--%s", n ? ", " : "",
		    cli_opts[i].name);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

enum walk {
	WALK_END,	/* no words left */
	WALK_OPTION,	/* *o (and *v if it takes one) */
	WALK_WORD,	/* *v is a verb or a verb's argument */
	WALK_ERROR,	/* reported (unless quiet) */
	WALK__COUNT
};

/*
 * The next option or word of the command line: "--name", "--name=value",
 * "--name value", "--prefix" of one name, "-x", "-xvalue", "-x value",
 * clusters "-vvn", and "--" (everything after it is a word).  Both walks
 * (the -c/--config-dir scan and the parse) use it, so they agree.
 */
static enum walk
next_option(struct parse *p, const struct opt_def **o, const char **v)
{
	const char	*arg, *eq;
	char		 alts[256], msg[96];
	size_t		 len;
	bool		 amb;

	*o = NULL;
	*v = NULL;
	if (p->cluster != NULL && *p->cluster != '\0') {
		arg = p->cluster;
		goto shortopt;
	}
	p->cluster = NULL;
	for (;;) {
		if (p->i >= p->argc)
			return WALK_END;
		p->at = p->i;
		arg = p->argv[p->i++];
		if (p->rest || arg[0] != '-' || arg[1] == '\0') {
			*v = arg;
			return WALK_WORD;
		}
		if (strcmp(arg, "--") != 0)
			break;
		p->rest = true;
	}
	if (arg[1] == '-') {
		eq = strchr(arg + 2, '=');
		len = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if ((*o = find_long(arg + 2, len, &amb)) == NULL) {
			if (amb) {
				list_prefixed(arg + 2, len, alts, sizeof alts);
				perr(p, NULL, NULL, "give more of the name",
				    "ambiguous option --%.*s could be %s",
				    (int)len, arg + 2, alts);
			} else if ((*o = nearest(arg + 2, len)) != NULL) {
				snprintf(msg, sizeof msg, "did you mean --%s? "
				    "(see extauth --help)", (*o)->name);
				perr(p, NULL, NULL, msg, "unknown option "
				    "--%.*s", (int)len, arg + 2);
			} else
				perr(p, NULL, NULL, NULL, "unknown option "
				    "--%.*s", (int)len, arg + 2);
			return WALK_ERROR;
		}
		if ((*o)->arg == NULL && eq != NULL) {
			perr(p, *o, NULL, "give the flag alone", "takes no "
			    "value");
			return WALK_ERROR;
		}
		if ((*o)->arg == NULL)
			return WALK_OPTION;
		if (eq != NULL)
			*v = eq + 1;
		else if (p->i < p->argc)
			*v = p->argv[p->i++];
		else {
			perr(p, *o, NULL, NULL, "needs a value (%s)",
			    (*o)->arg);
			return WALK_ERROR;
		}
		return WALK_OPTION;
	}
	arg++;
shortopt:
	/* Short options, clustered as in -vvn or -dexample.com. */
	if ((*o = find_short(*arg)) == NULL) {
		perr(p, NULL, NULL, NULL, "unknown option -%c", *arg);
		return WALK_ERROR;
	}
	p->cluster = arg + 1;
	if ((*o)->arg == NULL)
		return WALK_OPTION;
	if (*p->cluster != '\0')
		*v = p->cluster;
	else if (p->i < p->argc)
		*v = p->argv[p->i++];
	else {
		perr(p, *o, NULL, NULL, "needs a value (%s)", (*o)->arg);
		return WALK_ERROR;
	}
	p->cluster = NULL;
	return WALK_OPTION;
}

/* Keeps a string we allocated for the life of cfg; NULL (s freed) if
 * s is NULL or cfg is full. */
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
add_domains(struct parse *p, const struct opt_def *o, const char *arg)
{
	struct config	*cfg = p->cfg;
	char		*copy, *tok, *save = NULL, *name, why[160];
	size_t		 i;
	enum err	 e = ERR_OK;

	if (*arg == '\0')
		return perr(p, o, NULL, "give a name such as example.com",
		    "empty domain name");
	if ((copy = strdup(arg)) == NULL)
		return ERR_INTERNAL;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		for (i = strlen(tok); i > 0 && tok[i - 1] == ' '; i--)
			tok[i - 1] = '\0';
		if ((name = domain_normalize(tok, why, sizeof why)) == NULL) {
			e = from_file(p) ? perr(p, o, NULL, NULL, "not a valid "
			    "domain name") : perr(p, o, arg, NULL, "invalid "
			    "domain \"%s\": %s", tok, why);
			goto out;
		}
		for (i = 0; i < cfg->n_domains; i++)
			if (strcmp(cfg->domains[i], name) == 0)
				break;
		if (i < cfg->n_domains) {
			e = perr(p, o, arg, "give each name once", "a domain is "
			    "given twice");
			free(name);
			goto out;
		}
		if (cfg->n_domains == CLI_DOMAINS_MAX) {
			free(name);
			e = perr(p, o, NULL, "split the names over several "
			    "certificates", "more than %d domains",
			    CLI_DOMAINS_MAX);
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
set_prefs(struct parse *p, const struct opt_def *o, const char *arg)
{
	struct config	*cfg = p->cfg;
	char		*copy, *tok, *save = NULL;
	int		 t;
	size_t		 i;
	enum err	 e = ERR_OK;

	if ((copy = strdup(arg)) == NULL)
		return ERR_INTERNAL;
	cfg->n_prefs = 0;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if ((t = chal_type_parse(tok)) == -1) {
			e = perr(p, o, arg, "use dns-01, http-01, "
			    "tls-alpn-01, dns-account-01 or dns-persist-01",
			    "unknown challenge type");
			goto out;
		}
		for (i = 0; i < cfg->n_prefs; i++)
			if (cfg->prefs[i] == (enum chal_type)t)
				break;
		if (i == cfg->n_prefs)
			cfg->prefs[cfg->n_prefs++] = (enum chal_type)t;
	}
	if (cfg->n_prefs == 0)
		e = perr(p, o, NULL, "use dns-01, http-01, tls-alpn-01, "
		    "dns-account-01 or dns-persist-01", "needs a type");
	cfg->prefs_given = true;
out:
	free(copy);
	return e;
}

static enum err
check_plugin(struct parse *p, const struct opt_def *o, const char *v)
{
	if (strcmp(v, PLUGIN) == 0 || strcmp(v, "out") == 0 ||
	    strcmp(v, "extauth") == 0 || strcmp(v, "certbot-ext-auth:out") == 0)
		return ERR_OK;
	return perr(p, o, v, "use " PLUGIN " or leave the flag out", "extauth "
	    "is its own authenticator");
}

/* An address as certbot accepts one: local@domain, the domain a valid
 * name, no blanks or control characters; several comma-separated. */
static bool
email_ok(const char *v)
{
	const char	*s = v, *comma, *at;
	char		 dom[256], why[160], *n;
	size_t		 len;

	if (*v == '\0')
		return false;
	for (;;) {
		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		at = memchr(s, '@', len);
		if (at == NULL || at == s || memchr(at + 1, '@', len -
		    (size_t)(at + 1 - s)) != NULL)
			return false;
		for (const char *c = s; c < s + len; c++)
			if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '<'
			    || *c == '>' || *c == '"' || *c == '\\')
				return false;
		if ((size_t)(s + len - at - 1) >= sizeof dom)
			return false;
		memcpy(dom, at + 1, (size_t)(s + len - at - 1));
		dom[s + len - at - 1] = '\0';
		if ((n = domain_normalize(dom, why, sizeof why)) == NULL)
			return false;
		free(n);
		if (comma == NULL)
			return true;
		s = comma + 1;
	}
}

/* The EAB key from FILE: at most EAB_KEY_MAX bytes, trailing blanks cut.
 * New string owned by cfg. */
static enum err
read_key_file(struct parse *p, const struct opt_def *o, const char *path)
{
	char	 buf[EAB_KEY_MAX + 1];
	size_t	 len = 0;
	ssize_t	 r;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		saved = errno;
		return perr(p, o, path, "give a readable file holding only the "
		    "key", "cannot open: %s", strerror(saved));
	}
	while (len < sizeof buf && (r = read(fd, buf + len, sizeof buf -
	    len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			break;
		len += (size_t)r;
	}
	close(fd);
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	if (len == 0 || len >= sizeof buf || memchr(buf, '\0', len) != NULL) {
		explicit_bzero(buf, sizeof buf);
		return perr(p, o, path, "the file must hold the base64url key "
		    "alone", "not a key file");
	}
	buf[len] = '\0';
	p->cfg->eab_hmac_key = own(p->cfg, strdup(buf));
	explicit_bzero(buf, sizeof buf);
	return p->cfg->eab_hmac_key == NULL ? ERR_INTERNAL : ERR_OK;
}

static enum err
set_mode(struct config *cfg, enum solver_mode m)
{
	cfg->mode = m;
	cfg->mode_given = true;
	return ERR_OK;
}

static const char *
staging_url(void)
{
	const char	*env = getenv("EXTAUTH_STAGING_SERVER");

	return env != NULL && *env != '\0' ? env : LE_STAGING;
}

/* Options with logic; plain ones are done from their row in apply(). */
static enum err
apply_logic(struct parse *p, const struct opt_def *o, const char *v)
{
	struct config	*cfg = p->cfg;
	long		 n = 0;
	int		 m;

	switch (o->id) {
	case OPT_SERVER:
		if (strncasecmp(v, "https://", 8) != 0 || v[8] == '\0')
			return perr(p, o, v, "give the https:// URL of the "
			    "CA's directory", "not an https URL");
		cfg->server = v;
		cfg->server_given = true;
		return ERR_OK;
	case OPT_STAGING:
		cfg->server = staging_url();
		cfg->server_given = true;
		return ERR_OK;
	case OPT_CA_BUNDLE:
		if (access(v, R_OK) == -1)
			return perr(p, o, v, "give a readable PEM file or "
			    "hashed directory", "cannot read: %s",
			    strerror(errno));
		cfg->ca_bundle = v;
		return ERR_OK;
	case OPT_EMAIL:
		if (!email_ok(v))
			return perr(p, o, v, "give an address such as "
			    "you@example.com", "not an email address");
		cfg->email = v;
		return ERR_OK;
	case OPT_DOMAINS:
		return add_domains(p, o, v);
	case OPT_PREF_CHALLS:
		return set_prefs(p, o, v);
	case OPT_KEY_TYPE:
		if (strcmp(v, "ecdsa") == 0)
			cfg->key.type = CRYPTO_KEY_ECDSA;
		else if (strcmp(v, "rsa") == 0)
			cfg->key.type = CRYPTO_KEY_RSA;
		else
			return perr(p, o, v, "use ecdsa or rsa", "unknown key "
			    "type");
		cfg->key_type_given = true;
		return ERR_OK;
	case OPT_RSA_SIZE:
		if (!num_parse_long(v, 2048, 4096, &n, NULL, 0) ||
		    (n != 2048 && n != 3072 && n != 4096))
			return perr(p, o, v, "use 2048, 3072 or 4096",
			    "unsupported RSA key size");
		cfg->key.rsa_bits = (int)n;
		return ERR_OK;
	case OPT_CURVE:
		if (strcmp(v, "secp256r1") != 0 && strcmp(v, "secp384r1") != 0)
			return perr(p, o, v, "use secp256r1 or secp384r1",
			    "unsupported curve");
		cfg->key.curve = v;
		return ERR_OK;
	case OPT_CONFIGURATOR:
	case OPT_INSTALLER:
		cfg->installer = true;
		return check_plugin(p, o, v);
	case OPT_AUTHENTICATOR:
		return check_plugin(p, o, v);
	case OPT_MODE:
		if ((m = solver_mode_parse(v)) == -1)
			return perr(p, o, v, "use json, handler, dehydrated or "
			    "text", "unknown mode");
		return set_mode(cfg, (enum solver_mode)m);
	case OPT_TEXT_MODE:
		return set_mode(cfg, SOLVER_TEXT);
	case OPT_DEHYDRATED:
		return set_mode(cfg, SOLVER_DEHYDRATED);
	case OPT_DNS_RESOLVER:
		if (!selfcheck_resolver_valid(v))
			return perr(p, o, v, "give an IPv4 address, optionally "
			    "with :PORT", "not a resolver address");
		cfg->dns_resolver = v;
		return ERR_OK;
	case OPT_EAB_HMAC_FILE:
		return read_key_file(p, o, v);
	case OPT_MUST_STAPLE:
		return perr(p, o, NULL, "leave the flag out", "not supported: "
		    "Let's Encrypt rejects it since 2025-05-07 and OCSP is "
		    "gone");
	case OPT_COMPLETION:
		cfg->print_completion = v;
		return ERR_OK;
	case OPT_PLAIN:
	case OPT_EFF_EMAIL:
	case OPT_TEXT:
	case OPT_IP_LOGGING:
	case OPT__COUNT:
		break;
	}
	return ERR_INTERNAL;
}

/* One option: plain kinds from the table, the rest in apply_logic. */
static enum err
apply(struct parse *p, const struct opt_def *o, const char *v)
{
	char	*field = (char *)p->cfg + o->off;

	switch (o->kind) {
	case KIND_LOGIC:
		return apply_logic(p, o, v);
	case KIND_STR:
		*(const char **)(void *)field = v;
		return ERR_OK;
	case KIND_TRUE:
		*(bool *)(void *)field = true;
		return ERR_OK;
	case KIND_FALSE:
		*(bool *)(void *)field = false;
		return ERR_OK;
	case KIND_LONG:
		if (!num_parse_long(v, o->lo, o->hi,
		    (long *)(void *)field, NULL, 0))
			return perr(p, o, v, NULL, "not a whole number from "
			    "%ld to %ld", o->lo, o->hi);
		return ERR_OK;
	case KIND_COUNT:
		(*(int *)(void *)field)++;
		return ERR_OK;
	case KIND_NOP:
	case KIND__COUNT:
		break;
	}
	return ERR_OK;
}

/* A word: the verb, "help [VERB]", or certbot-hook's argument. */
static enum err
set_verb(struct parse *p, const char *word)
{
	struct config	*cfg = p->cfg;
	size_t		 i;

	if (cfg->verb_given && cfg->verb == VERB_CERTBOT_HOOK &&
	    cfg->hook_args[0] == NULL && !cfg->show_help) {
		cfg->hook_args[0] = (char *)word;
		return ERR_OK;
	}
	if (cfg->verb_given && cfg->verb == VERB_RESUME &&
	    cfg->resume_id == NULL && !cfg->show_help) {
		cfg->resume_id = word;
		return ERR_OK;
	}
	if (strcmp(word, "help") == 0 && !cfg->show_help) {
		cfg->show_help = true;
		return ERR_OK;
	}
	for (i = 0; i < VERB__COUNT; i++) {
		if (strcmp(word, cli_verbs[i].name) != 0)
			continue;
		if (cfg->verb_given)
			return perr(p, NULL, NULL, "give one verb", "two verbs "
			    "given: %s and %s", cli_verbs[cfg->verb].name, word);
		cfg->verb = (enum cli_verb)i;
		cfg->verb_given = true;
		return ERR_OK;
	}
	return perr(p, NULL, NULL, "the verbs are listed by extauth --help",
	    "unknown verb or argument \"%s\"", word);
}

/* XDG base directory or HOME/fallback, plus suffix: a new string. */
static char *
xdg_path(const char *var, const char *fallback, const char *suffix)
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
	return r == -1 ? NULL : s;
}

/* Default directories: certbot's for root, XDG ones for everybody else. */
static enum err
set_defaults_dirs(struct config *cfg)
{
	/* resume checks it against the pending order's (cmd_resume.c). */
	cfg->config_dir_given = cfg->config_dir != NULL;
	if (geteuid() == 0) {
		if (cfg->config_dir == NULL)
			cfg->config_dir = "/etc/extauth";
		if (cfg->work_dir == NULL)
			cfg->work_dir = "/var/lib/extauth";
		if (cfg->logs_dir == NULL)
			cfg->logs_dir = "/var/log/extauth";
		return ERR_OK;
	}
	if (cfg->config_dir == NULL && (cfg->config_dir = own(cfg,
	    xdg_path("XDG_CONFIG_HOME", ".config", "extauth"))) == NULL)
		return ERR_INTERNAL;
	if (cfg->work_dir == NULL && (cfg->work_dir = own(cfg,
	    xdg_path("XDG_DATA_HOME", ".local/share", "extauth"))) == NULL)
		return ERR_INTERNAL;
	if (cfg->logs_dir == NULL && (cfg->logs_dir = own(cfg,
	    xdg_path("XDG_STATE_HOME", ".local/state", "extauth/log"))) == NULL)
		return ERR_INTERNAL;
	return ERR_OK;
}

const char *
cli_dry_run_server(const struct config *cfg, const char *recorded)
{
	if (cfg->dry_run && !cfg->server_given && recorded != NULL &&
	    strcmp(recorded, LE_PRODUCTION) == 0)
		return staging_url();
	return recorded;
}

const char *
cli_dry_run_agreed_server(const struct config *cfg)
{
	return cfg->dry_run && !cfg->server_given ? LE_PRODUCTION : NULL;
}

/*
 * A --preferred-chain value: an X.509 common name as the CA spells it
 * (RFC 5280's upper bound is 64 characters; UTF-8 may take 4 bytes each).
 * Blanks at either end, or both kinds of quote, would not survive the
 * renewal conf's syntax (configobj), refused here rather than after the
 * certificate is issued.
 */
#define CHAIN_NAME_MAX	256
static bool
chain_name_ok(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > CHAIN_NAME_MAX || s[0] == ' ' ||
	    s[len - 1] == ' ' || (strchr(s, '"') != NULL &&
	    strchr(s, '\'') != NULL))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* One profile, preferred or required, with a name the CA could list. */
static enum err
profile_check(struct parse *p)
{
	const struct config	*cfg = p->cfg;

	if (cfg->preferred_profile != NULL && cfg->required_profile != NULL)
		return perr(p, NULL, NULL, "give one of them", "--preferred-"
		    "profile and --required-profile cannot be used together");
	if ((cfg->preferred_profile != NULL &&
	    !profile_name_ok(cfg->preferred_profile)) ||
	    (cfg->required_profile != NULL &&
	    !profile_name_ok(cfg->required_profile)))
		return perr(p, NULL, NULL, "give a name the CA lists (extauth "
		    "show_account shows them)", "a profile name is 1 to %d "
		    "letters, digits, '.', '_' or '-'", PROFILE_NAME_MAX);
	return ERR_OK;
}

/* The two-phase mode's flags (pending.h): what goes with what. */
static enum err
defer_checks(struct parse *p)
{
	struct config	*cfg = p->cfg;
	const char	*id = cfg->resume_id ? cfg->resume_id : cfg->cancel_id;

	if (cfg->verb == VERB_RESUME && cfg->resume_id == NULL &&
	    cfg->cancel_id == NULL)
		return perr(p, NULL, NULL, "give the id the deferred line "
		    "printed (extauth pending lists them)", "resume needs the "
		    "pending order's id: extauth resume ID");
	if (cfg->resume_id != NULL && cfg->cancel_id != NULL &&
	    strcmp(cfg->resume_id, cfg->cancel_id) != 0)
		return perr(p, NULL, NULL, "give one id", "resume %s and "
		    "--cancel %s name two pending orders", cfg->resume_id,
		    cfg->cancel_id);
	if (cfg->resume_id != NULL && cfg->verb != VERB_CERTONLY &&
	    cfg->verb != VERB_RESUME)
		return perr(p, NULL, NULL, "use extauth resume ID", "--resume "
		    "works with certonly only, not %s", cli_verbs[cfg->verb].name);
	/* certonly --resume ID is resume ID in everything (help, --json's
	 * result line). */
	if (cfg->resume_id != NULL && cfg->verb == VERB_CERTONLY)
		cfg->verb = VERB_RESUME;
	if (cfg->cancel_id != NULL && cfg->verb != VERB_PENDING &&
	    cfg->verb != VERB_RESUME)
		return perr(p, NULL, NULL, "use extauth pending --cancel ID",
		    "--cancel works with pending and resume only");
	if (id != NULL && !pending_id_ok(id))
		return perr(p, NULL, NULL, "give the id the deferred line "
		    "printed (extauth pending lists them)", "a pending order "
		    "id is 1 to %d of A-Z a-z 0-9 _ -", PENDING_ID_MAX);
	if (!cfg->defer)
		return ERR_OK;
	if (cfg->verb != VERB_CERTONLY && cfg->verb != VERB_RENEW)
		return perr(p, NULL, NULL, "use certonly --defer or renew "
		    "--defer", "--defer works with certonly and renew only, not "
		    "%s", cli_verbs[cfg->verb].name);
	if (cfg->resume_id != NULL)
		return perr(p, NULL, NULL, "give --defer to start an order, "
		    "--resume ID to finish one", "--defer conflicts with "
		    "--resume");
	if (cfg->csr != NULL || cfg->dry_run || cfg->batch != NULL)
		return perr(p, NULL, NULL, "leave out --defer", "--defer does "
		    "not go with %s", cfg->csr ? "--csr" : cfg->dry_run ?
		    "--dry-run" : "--batch");
	if (cfg->mode == SOLVER_TEXT)
		return perr(p, NULL, NULL, "leave out --defer: a person at the "
		    "terminal finishes in one run", "--defer does not go with "
		    "--text-mode");
	return ERR_OK;
}

/* Checks across options, and the defaults that depend on them. */
static enum err
finish(struct parse *p)
{
	struct config		*cfg = p->cfg;
	const struct opt_def	*json;
	const char		*env;
	size_t			 i;
	enum err		 e;

	p->at = 0;	/* errors here are about the whole command */
	if (cfg->show_help || cfg->show_version || cfg->print_completion ||
	    cfg->print_man)
		return ERR_OK;
	if (cfg->mode == SOLVER_TEXT && (cfg->handler != NULL ||
	    cfg->socket_path != NULL))
		return perr(p, NULL, NULL, "text mode asks a person: leave out "
		    "--handler and --socket, or --text-mode", "--text-mode "
		    "conflicts with %s", cfg->handler ? "--handler" :
		    "--socket");
	if (cfg->fifo_dir != NULL && cfg->socket_path != NULL)
		return perr(p, NULL, NULL, "give one of them", "--fifo and "
		    "--socket are two channels for one invoker");
	if (cfg->fifo_dir != NULL && (cfg->handler != NULL ||
	    cfg->mode != SOLVER_JSON))
		return perr(p, NULL, NULL, "--fifo is JSON mode; give either "
		    "--fifo or --handler/--text-mode", "--fifo conflicts with "
		    "%s mode", cfg->handler ? "handler" :
		    solver_mode_name(cfg->mode));
	/* renew keeps each lineage's channel in its conf; the pipes are
	 * not one of them yet. */
	if (cfg->fifo_dir != NULL && cfg->verb == VERB_RENEW)
		return perr(p, NULL, NULL, "renew with --socket PATH or "
		    "--handler PROG", "renew does not take --fifo");
	if (cfg->socket_path != NULL && (cfg->handler != NULL ||
	    cfg->mode == SOLVER_HANDLER || cfg->mode == SOLVER_DEHYDRATED))
		return perr(p, NULL, NULL, "--socket is JSON mode; give either "
		    "--socket or --handler", "--socket conflicts with %s mode",
		    cfg->handler ? "handler" : solver_mode_name(cfg->mode));
	if (cfg->mode == SOLVER_JSON && cfg->mode_given && cfg->handler != NULL)
		return perr(p, NULL, NULL, "leave out --mode json to run the "
		    "handler, or --handler for JSON mode", "--mode json "
		    "conflicts with --handler");
	if (cfg->mode == SOLVER_DEHYDRATED && cfg->handler == NULL)
		return perr(p, NULL, NULL, "give the hook script as --handler "
		    "PROG", "dehydrated mode needs --handler");
	/* A dehydrated hook publishes _acme-challenge.DOMAIN itself, from
	 * DOMAIN: a dns-account-01 record lies elsewhere, so an unchanged
	 * hook would publish the wrong name. */
	for (i = 0; cfg->mode == SOLVER_DEHYDRATED && i < cfg->n_prefs; i++)
		if (cfg->prefs[i] == CHAL_DNSACCOUNT01)
			return perr(p, NULL, NULL, "use --handler without "
			    "--dehydrated (txt_domain is in its environment), "
			    "or dns-01", "a dehydrated hook cannot publish a "
			    "dns-account-01 record (it names the record "
			    "_acme-challenge.DOMAIN itself)");
	if (cfg->handler != NULL && !cfg->mode_given)
		set_mode(cfg, SOLVER_HANDLER);
	/* renew takes each lineage's mode from its conf: there the flag
	 * simply does nothing for the JSON and text ones. */
	if (cfg->parallel_hooks && cfg->verb != VERB_RENEW &&
	    (cfg->mode == SOLVER_JSON || cfg->mode == SOLVER_TEXT))
		return perr(p, NULL, NULL, "leave out --parallel-hooks, or "
		    "give --handler PROG", "--parallel-hooks is for handler and "
		    "dehydrated modes, not %s mode", solver_mode_name(cfg->mode));
	if ((cfg->mode == SOLVER_HANDLER) && cfg->handler == NULL)
		return perr(p, NULL, NULL, "give the program as --handler PROG",
		    "handler mode needs --handler");
	if ((e = profile_check(p)) != ERR_OK)
		return e;
	if (cfg->verb == VERB_UPDATE_ACCOUNT && cfg->email == NULL &&
	    !cfg->register_unsafely && !cfg->key_rollover)
		return perr(p, NULL, NULL, "give --email ADDRESS, "
		    "--register-unsafely-without-email or --key-rollover",
		    "update_account has nothing to change");
	if (cfg->verb == VERB_UPDATE_ACCOUNT && cfg->email != NULL &&
	    cfg->register_unsafely)
		return perr(p, NULL, NULL, "give one of them", "--email and "
		    "--register-unsafely-without-email cannot be used together "
		    "with update_account");
	if (cfg->reuse_key && cfg->no_reuse_key)
		return perr(p, NULL, NULL, "give one of them", "--reuse-key "
		    "and --no-reuse-key cannot be used together");
	if (cfg->preferred_chain != NULL &&
	    !chain_name_ok(cfg->preferred_chain))
		return perr(p, NULL, NULL, "give the common name of the root, "
		    "e.g. --preferred-chain \"ISRG Root X1\"", "--preferred-"
		    "chain is 1 to %d bytes of text, without control "
		    "characters, blanks at either end or both ' and \"",
		    CHAIN_NAME_MAX);
	if ((e = defer_checks(p)) != ERR_OK)
		return e;
	/* --json replaces the report with the verb's result line; a verb
	 * without one would ignore it, and an orchestrator would wait for
	 * a line that never comes.  The verbs are those of its table row. */
	if (cfg->json_output && (json = find_exact("json", 4)) != NULL &&
	    (json->verbs & V(cfg->verb)) == 0)
		return perr(p, NULL, NULL, "leave --json out: JSON mode's lines "
		    "are this verb's machine output (extauth help VERB lists "
		    "the verbs' options)", "%s has no --json result line",
		    cli_verbs[cfg->verb].name);
	if (cfg->csr != NULL && cfg->verb != VERB_CERTONLY)
		return perr(p, NULL, NULL, "use extauth certonly --csr FILE",
		    "--csr works only with certonly, not %s (as in certbot)",
		    cli_verbs[cfg->verb].name);
	/* The EAB key: argv, --eab-hmac-key-file, else the environment,
	 * which /proc does not show to other users. */
	if (cfg->eab_kid != NULL && cfg->eab_hmac_key == NULL &&
	    (env = getenv("EXTAUTH_EAB_HMAC_KEY")) != NULL && *env != '\0')
		cfg->eab_hmac_key = env;
	if (cfg->eab_kid != NULL && cfg->eab_hmac_key == NULL)
		return perr(p, NULL, NULL, "give --eab-hmac-key-file FILE or "
		    "EXTAUTH_EAB_HMAC_KEY", "--eab-kid needs the HMAC key");
	if (cfg->eab_hmac_key != NULL && cfg->eab_kid == NULL)
		return perr(p, NULL, NULL, "give --eab-kid KID as well",
		    "an EAB HMAC key needs --eab-kid");
	if (cfg->eab_hmac_key != NULL && !b64u_valid(cfg->eab_hmac_key))
		return perr(p, NULL, NULL, "give the key as the CA printed it "
		    "(base64url)", "the EAB HMAC key is not base64url");
	if (cfg->dry_run && !cfg->server_given)
		cfg->server = staging_url();
	if (cfg->n_prefs == 0) {
		cfg->prefs[0] = CHAL_DNS01;
		cfg->prefs[1] = CHAL_HTTP01;
		cfg->n_prefs = 2;
	}
	return set_defaults_dirs(cfg);
}

/* What a cli.ini may set: any long option but --config itself, spelled
 * in full or by an unambiguous prefix, as on the command line. */
static enum clini_key
ini_key(const char *key)
{
	const struct opt_def	*o;
	bool			 amb;

	o = find_long(key, strlen(key), &amb);
	if (o == NULL || o->off == F(config_file))
		return CLINI_KEY_UNKNOWN;
	return o->arg != NULL ? CLINI_KEY_VALUE : CLINI_KEY_FLAG;
}

char *
cli_default_ini(unsigned uid, const char *config_dir)
{
	const char	*env = getenv("EXTAUTH_CLI_INI");
	size_t		 n;

	if (env != NULL)
		return *env == '\0' ? NULL : strdup(env);
	if (config_dir != NULL) {
		n = strlen(config_dir);
		while (n > 1 && config_dir[n - 1] == '/')
			n--;
		if (n == strlen("/etc/letsencrypt") &&
		    strncmp(config_dir, "/etc/letsencrypt", n) == 0)
			return strdup("/etc/letsencrypt/cli.ini");
	}
	if (uid == 0)
		return strdup("/etc/extauth/cli.ini");
	return xdg_path("XDG_CONFIG_HOME", ".config", "extauth/cli.ini");
}

/*
 * The first walk, quiet: the cli.ini to read (the last -c FILE, else the
 * default one if it exists) into *path, a new string or NULL.
 */
static enum err
find_ini(int argc, char **argv, char **path)
{
	struct config		 scratch = { 0 };
	struct parse		 p = { .cfg = &scratch, .argc = argc,
				    .argv = argv, .i = 1, .quiet = true };
	const struct opt_def	*o;
	const char		*v, *file = NULL, *dir = NULL;
	struct stat		 st;
	enum walk		 w;

	*path = NULL;
	while ((w = next_option(&p, &o, &v)) != WALK_END &&
	    w != WALK_ERROR) {
		if (w != WALK_OPTION)
			continue;
		if (o->off == F(config_file) && o->kind == KIND_STR)
			file = v;
		else if (o->off == F(config_dir) && o->kind == KIND_STR)
			dir = v;
	}
	if (file != NULL)
		return (*path = strdup(file)) == NULL ? ERR_INTERNAL : ERR_OK;
	errno = 0;
	*path = cli_default_ini((unsigned)geteuid(), dir);
	if (*path == NULL)
		return errno == ENOMEM ? ERR_INTERNAL : ERR_OK;
	if (stat(*path, &st) == -1 && errno == ENOENT) {
		free(*path);
		*path = NULL;
	}
	return ERR_OK;
}

/* Puts the cli.ini's words in front of the command line's (so the
 * command line wins); the new argv and the lines are kept in cfg. */
static enum err
load_ini(struct parse *p, char *path)
{
	struct config	*cfg = p->cfg;
	char		**fargv = NULL, **nargv;
	int		 fargc = 0, *lines = NULL;
	enum err	 e;

	if (own(cfg, path) == NULL)
		return ERR_INTERNAL;
	cfg->config_file = path;
	if ((e = clini_load(path, ini_key, &fargc, &fargv, &lines)) != ERR_OK)
		return e;
	if (own(cfg, (char *)fargv) == NULL) {
		free(lines);
		return ERR_INTERNAL;
	}
	if (own(cfg, (char *)lines) == NULL)
		return ERR_INTERNAL;
	if ((nargv = calloc((size_t)fargc + (size_t)p->argc + 1,
	    sizeof *nargv)) == NULL || own(cfg, (char *)nargv) == NULL)
		return ERR_INTERNAL;
	nargv[0] = p->argv[0];
	memcpy(nargv + 1, fargv, (size_t)fargc * sizeof *nargv);
	memcpy(nargv + 1 + fargc, p->argv + 1, (size_t)(p->argc - 1) *
	    sizeof *nargv);
	p->argv = nargv;
	p->argc += fargc;
	p->ini = path;
	p->ini_lines = lines;
	p->ini_end = 1 + fargc;
	return ERR_OK;
}

enum err
cli_parse(int argc, char **argv, struct config *cfg)
{
	struct parse		 p = { .cfg = cfg, .argc = argc, .argv = argv,
				    .i = 1 };
	const struct opt_def	*o;
	const char		*v;
	char			*ini;
	enum err		 e;
	enum walk		 w;

	memset(cfg, 0, sizeof *cfg);
	cfg->verb = VERB_RUN;
	cfg->server = LE_PRODUCTION;
	cfg->key.type = CRYPTO_KEY_ECDSA;
	cfg->key.rsa_bits = 2048;
	cfg->key.curve = "secp256r1";
	cfg->mode = SOLVER_JSON;
	cfg->handler_timeout_s = 300;
	cfg->max_concurrent = 8;
	cfg->invoker_timeout_s = 300;
	cfg->max_log_backups = LOG_BACKUPS_DEFAULT;
	cfg->self_check = true;

	if ((e = find_ini(argc, argv, &ini)) != ERR_OK)
		return e;
	if (ini != NULL && (e = load_ini(&p, ini)) != ERR_OK)
		return e;
	while ((w = next_option(&p, &o, &v)) != WALK_END) {
		if (w == WALK_ERROR)
			return ERR_USAGE;
		e = w == WALK_WORD ? set_verb(&p, v) : apply(&p, o, v);
		if (e != ERR_OK)
			return e;
	}
	return finish(&p);
}

/* The options one line of a batch file may give: those of a certificate. */
static bool
batch_option(const struct opt_def *o)
{
	return o->id == OPT_DOMAINS || o->id == OPT_KEY_TYPE ||
	    o->id == OPT_RSA_SIZE || o->id == OPT_CURVE ||
	    (o->kind == KIND_STR && (o->off == F(cert_name) ||
	    o->off == F(preferred_profile) || o->off == F(required_profile)));
}

enum err
cli_parse_batch_line(const char *file, int line, int argc, char **argv,
    struct config *cfg)
{
	struct parse		 p = { .cfg = cfg, .argc = argc, .argv = argv,
				    .i = 1, .ini = file, .ini_end = argc };
	const struct opt_def	*o;
	const char		*v, *pref = cfg->preferred_profile;
	const char		*req = cfg->required_profile;
	int			*lines = NULL, k;
	enum err		 e = ERR_INTERNAL;
	enum walk		 w;

	if ((lines = calloc((size_t)argc, sizeof *lines)) == NULL)
		goto out;
	for (k = 0; k < argc; k++)
		lines[k] = line;
	p.ini_lines = lines;
	e = ERR_USAGE;
	while ((w = next_option(&p, &o, &v)) != WALK_END) {
		if (w == WALK_ERROR)
			goto out;
		if (w == WALK_WORD)
			o = find_exact("domains", strlen("domains"));
		else if (!batch_option(o)) {
			perr(&p, o, NULL, "give it on "
			    "the command line, where it applies to every line",
			    "not an option of one certificate");
			goto out;
		}
		if ((e = apply(&p, o, v)) != ERR_OK)
			goto out;
		e = ERR_USAGE;
	}
	/* A profile on the line replaces the command line's, preferred or
	 * required, as on renew. */
	if (cfg->preferred_profile != pref && cfg->required_profile == req)
		cfg->required_profile = NULL;
	else if (cfg->required_profile != req && cfg->preferred_profile ==
	    pref)
		cfg->preferred_profile = NULL;
	p.at = argc - 1;
	if ((e = profile_check(&p)) != ERR_OK)
		goto out;
	if (cfg->n_domains == 0) {
		p.at = 1;
		e = perr(&p, NULL, NULL, "give the names first, as in "
		    "\"example.com www.example.com --cert-name site\"",
		    "no names");
		goto out;
	}
	e = ERR_OK;
out:
	free(lines);
	return e;
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

enum err
cli_random_sleep(const struct config *cfg)
{
	const char	*env = getenv("EXTAUTH_RANDOM_SLEEP_MAX");
	long		 max = RANDOM_SLEEP_MAX, ms, lo;
	uint32_t	 r = 0;

	if (cfg->no_random_sleep || isatty(STDIN_FILENO))
		return ERR_OK;
	if (env != NULL && !num_parse_long(env, 0, RANDOM_SLEEP_MAX, &max,
	    NULL, 0))
		log_warn("EXTAUTH_RANDOM_SLEEP_MAX is not a number from 0 to "
		    "%d: using %d", RANDOM_SLEEP_MAX, RANDOM_SLEEP_MAX);
	if (max == 0)
		return ERR_OK;
	if (getentropy(&r, sizeof r) == -1)
		r = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	lo = 1000;
	ms = lo + (long)(r % (uint32_t)(max * 1000 - lo + 1));
	log_info("non-interactive renewal: random delay of %ld.%03ld seconds "
	    "(--no-random-sleep-on-renew skips it)", ms / 1000, ms % 1000);
	/* A signal ends the wait; on a terminal it shows (log.h). */
	log_progress_begin("the random delay before renewing", (ms + 999) /
	    1000);
	sig_sleep_ms(ms);
	log_progress_end();
	return sig_pending() != 0 ? ERR_SIGNAL : ERR_OK;
}
