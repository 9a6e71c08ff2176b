/*
 * renewal.c: the renewal conf's key table and the writer and reader it
 * drives (see renewal.h).  Each row names a key, its section, how its value
 * is spelled (the kind) and the lineage_params field it holds.  A kind is
 * a pair: format (field -> text, or nothing to write) and parse (text ->
 * field, with the checks the command line applies).  The writer runs the
 * parse of every value it formats before writing anything, so the file it
 * leaves is one its own reader accepts.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "num.h"
#include "profile.h"
#include "renewal.h"
#include "selfcheck.h"
#include "strv.h"

#define RENEWAL_VALUE_MAX	4096	/* a path or a hook command line */

enum renewal_kind {
	RK_CONST,	/* fixed text, ignored on read (certbot's own value) */
	RK_FILE,	/* a live/ or archive/ path store.c gives; ignored on read */
	RK_STR,		/* char * */
	RK_URL,		/* char *, https:// */
	RK_RESOLVER,	/* char *, IPv4[:PORT] as --dns-resolver takes */
	RK_PROFILE,	/* char *, profile_name_ok; certbot's None: unset */
	RK_BOOL,	/* bool: True/False */
	RK_LONG,	/* long in [min, max]; 0 is not written */
	RK_KEY_TYPE,	/* key.type: rsa/ecdsa */
	RK_RSA_BITS,	/* key.rsa_bits, written for RSA keys */
	RK_CURVE,	/* key.curve, written for ECDSA keys */
	RK_PREFS,	/* prefs/n_prefs as a configobj list */
	RK_DOMAINS,	/* domains/n_domains, comma-separated */
	RK_MODE,	/* enum solver_mode */
	RK_AUTHENTICATOR, /* manual when the bridge can do it, else extauth */
	RK_HOOK,	/* the bridge as certbot's manual hook; text: the word */
	RK__COUNT
};

/* Which file an RK_FILE row names. */
enum renewal_file {
	RF_ARCHIVE, RF_CERT, RF_PRIVKEY, RF_CHAIN, RF_FULLCHAIN
};

struct renewal_key {
	const char		*section;	/* NULL: top level */
	const char		*key;
	enum renewal_kind	 kind;
	size_t			 off;		/* offsetof(lineage_params, .) */
	const char		*text;		/* RK_CONST */
	long			 min, max;	/* RK_LONG */
	int			 file;		/* RK_FILE: enum renewal_file */
};

#define RP	"renewalparams"
#define F(f)	offsetof(struct lineage_params, f)

/* In the order written; certbot's keys first. */
static const struct renewal_key keys[] = {
	{ NULL, "version", RK_CONST, 0, "2.1.0", 0, 0, 0 },
	{ NULL, "archive_dir", RK_FILE, 0, NULL, 0, 0, RF_ARCHIVE },
	{ NULL, "cert", RK_FILE, 0, NULL, 0, 0, RF_CERT },
	{ NULL, "privkey", RK_FILE, 0, NULL, 0, 0, RF_PRIVKEY },
	{ NULL, "chain", RK_FILE, 0, NULL, 0, 0, RF_CHAIN },
	{ NULL, "fullchain", RK_FILE, 0, NULL, 0, 0, RF_FULLCHAIN },
	{ NULL, "extauth_version", RK_LONG, F(cache_version), NULL, 0,
	    INT_MAX, 0 },
	{ NULL, "extauth_not_before", RK_LONG, F(cache_not_before), NULL,
	    LONG_MIN, LONG_MAX, 0 },
	{ NULL, "extauth_not_after", RK_LONG, F(cache_not_after), NULL,
	    LONG_MIN, LONG_MAX, 0 },
	{ NULL, "extauth_ari_window_start", RK_LONG, F(ari_start), NULL, 0,
	    LONG_MAX, 0 },
	{ NULL, "extauth_ari_window_end", RK_LONG, F(ari_end), NULL, 0,
	    LONG_MAX, 0 },
	{ NULL, "extauth_ari_renew_at", RK_LONG, F(ari_at), NULL, 0,
	    LONG_MAX, 0 },
	{ NULL, "extauth_ari_next_query", RK_LONG, F(ari_next), NULL, 0,
	    LONG_MAX, 0 },
	{ NULL, "extauth_ari_explanation_url", RK_STR, F(ari_explanation),
	    NULL, 0, 0, 0 },
	{ NULL, "extauth_retry_count", RK_LONG, F(retry_count), NULL, 0,
	    LONG_MAX, 0 },
	{ NULL, "extauth_retry_after", RK_LONG, F(retry_after), NULL, 0,
	    LONG_MAX, 0 },
	{ NULL, "renew_before_expiry", RK_STR, F(renew_before), NULL, 0, 0,
	    0 },
	{ RP, "account", RK_STR, F(account), NULL, 0, 0, 0 },
	{ RP, "server", RK_URL, F(server), NULL, 0, 0, 0 },
	{ RP, "authenticator", RK_AUTHENTICATOR, 0, NULL, 0, 0, 0 },
	{ RP, "manual_auth_hook", RK_HOOK, 0, "auth", 0, 0, 0 },
	{ RP, "manual_cleanup_hook", RK_HOOK, 0, "cleanup", 0, 0, 0 },
	{ RP, "key_type", RK_KEY_TYPE, 0, NULL, 0, 0, 0 },
	{ RP, "rsa_key_size", RK_RSA_BITS, 0, NULL, 0, 0, 0 },
	{ RP, "elliptic_curve", RK_CURVE, 0, NULL, 0, 0, 0 },
	{ RP, "pref_challs", RK_PREFS, 0, NULL, 0, 0, 0 },
	{ RP, "extauth_domains", RK_DOMAINS, 0, NULL, 0, 0, 0 },
	{ RP, "extauth_mode", RK_MODE, F(mode), NULL, 0, 0, 0 },
	{ RP, "extauth_ca_bundle", RK_STR, F(ca_bundle), NULL, 0, 0, 0 },
	{ RP, "extauth_handler", RK_STR, F(handler), NULL, 0, 0, 0 },
	{ RP, "extauth_socket", RK_STR, F(socket), NULL, 0, 0, 0 },
	{ RP, "extauth_hook_chain", RK_BOOL, F(hook_chain), NULL, 0, 0, 0 },
	{ RP, "renew_hook", RK_STR, F(deploy_hook), NULL, 0, 0, 0 },
	{ RP, "extauth_dns_wait", RK_LONG, F(dns_wait_s), NULL, 0, 86400, 0 },
	{ RP, "extauth_dns_resolver", RK_RESOLVER, F(dns_resolver), NULL, 0, 0,
	    0 },
	/* certbot 4.0's keys, so its renew keeps the choice too. */
	{ RP, "preferred_profile", RK_PROFILE, F(preferred_profile), NULL, 0,
	    0, 0 },
	{ RP, "required_profile", RK_PROFILE, F(required_profile), NULL, 0, 0,
	    0 },
	/* certbot's keys for --preferred-chain and --reuse-key. */
	{ RP, "preferred_chain", RK_STR, F(preferred_chain), NULL, 0, 0, 0 },
	{ RP, "reuse_key", RK_BOOL, F(reuse_key), NULL, 0, 0, 0 },
};

#undef F

/* The curves the command line accepts; the key spec points into this. */
static const char *const curves[] = { "secp256r1", "secp384r1" };


/* The text to write for k, in *out (new string), or *out = NULL to write
 * nothing.  False when out of memory. */
typedef bool (*format_fn)(const struct renewal_key *k,
    const struct lineage_params *p, const struct renewal_files *x, char **out);
/* Sets p's field of k from v; false with a reason (never v) in why. */
typedef bool (*parse_fn)(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen);

static char *const *
str_field(const struct lineage_params *p, const struct renewal_key *k)
{
	return (char *const *)(const void *)((const char *)p + k->off);
}

static char **
str_field_mut(struct lineage_params *p, const struct renewal_key *k)
{
	return (char **)(void *)((char *)p + k->off);
}

static bool
dup_out(const char *s, char **out)
{
	*out = NULL;
	return s == NULL || (*out = strdup(s)) != NULL;
}

static bool
fmt_const(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)p;
	(void)x;
	return dup_out(k->text, out);
}

static bool
fmt_file(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	const char	*v[] = { x->archive_dir, x->live->cert,
			    x->live->privkey, x->live->chain,
			    x->live->fullchain };

	(void)p;
	return dup_out(v[k->file], out);
}

static bool
fmt_str(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)x;
	return dup_out(*str_field(p, k), out);
}

static bool
fmt_bool(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)x;
	/* Only True is written: an absent key reads as False. */
	return dup_out(*(const bool *)(const void *)((const char *)p + k->off)
	    ? "True" : NULL, out);
}

static bool
fmt_long(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	long	n = *(const long *)(const void *)((const char *)p + k->off);

	(void)x;
	*out = NULL;
	return n == 0 || asprintf(out, "%ld", n) != -1;
}

static bool
fmt_key_type(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)k;
	(void)x;
	return dup_out(p->key.type == CRYPTO_KEY_RSA ? "rsa" : "ecdsa", out);
}

static bool
fmt_rsa_bits(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)k;
	(void)x;
	*out = NULL;
	return p->key.type != CRYPTO_KEY_RSA ||
	    asprintf(out, "%d", p->key.rsa_bits) != -1;
}

static bool
fmt_curve(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)k;
	(void)x;
	return dup_out(p->key.type == CRYPTO_KEY_RSA ? NULL : p->key.curve,
	    out);
}

/* A configobj list, as certbot writes pref_challs: one element needs the
 * trailing comma to stay a list. */
static bool
fmt_prefs(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	const char	*pn[CHAL__COUNT];
	char		*s;
	size_t		 i;

	(void)k;
	(void)x;
	*out = NULL;
	if (p->n_prefs == 0)
		return true;
	for (i = 0; i < p->n_prefs && i < CHAL__COUNT; i++)
		pn[i] = chal_type_name(p->prefs[i]);
	if ((s = strv_join((char *const *)pn, i, ", ")) == NULL)
		return false;
	if (i == 1) {
		*out = NULL;
		if (asprintf(out, "%s,", s) == -1)
			*out = NULL;
		free(s);
		return *out != NULL;
	}
	*out = s;
	return true;
}

static bool
fmt_domains(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)k;
	(void)x;
	*out = NULL;
	return p->n_domains == 0 ||
	    (*out = strv_join(p->domains, p->n_domains, ",")) != NULL;
}

static bool
fmt_mode(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)k;
	(void)x;
	return dup_out(solver_mode_name(p->mode), out);
}

/*
 * Whether certbot can run this lineage's delivery through the bridge:
 * certbot gives hooks to a shell, so every word must need no quoting.  A
 * JSON-mode lineage on stdin/stdout gets the bridge without flags: certbot
 * lists it, and when it is due the bridge says that JSON mode needs
 * --socket.
 */
static bool
hookable(const struct lineage_params *p, const struct renewal_files *x)
{
	static const char	 shell[] = " \t\n'\"\\`$;&|<>(){}*?[]~!#%=";
	bool			 uses = p->mode == SOLVER_HANDLER ||
				    p->mode == SOLVER_DEHYDRATED;
	const char		*w[] = { x->self, uses ? p->handler : NULL,
				    p->mode == SOLVER_JSON ? p->socket : NULL };
	size_t			 i;

	if (x->self == NULL || x->self[0] != '/' || (uses && p->handler ==
	    NULL))
		return false;
	for (i = 0; i < sizeof w / sizeof w[0]; i++)
		if (w[i] != NULL && (w[i][0] == '\0' ||
		    strpbrk(w[i], shell) != NULL))
			return false;
	return true;
}

static bool
fmt_authenticator(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	(void)k;
	return dup_out(hookable(p, x) ? "manual" : "extauth", out);
}

/* "SELF certbot-hook WORD" and the flags of p's mode, as
 * doc/certbot-bridge.md documents them. */
static bool
fmt_hook(const struct renewal_key *k, const struct lineage_params *p,
    const struct renewal_files *x, char **out)
{
	static const char *const flags[] = {
		[SOLVER_JSON] = " --socket ",	/* bare without a socket */
		[SOLVER_HANDLER] = " --handler ",
		[SOLVER_DEHYDRATED] = " --dehydrated --handler ",
		[SOLVER_TEXT] = " --text-mode",
	};
	const char	*h = "";
	int		 n;

	_Static_assert(sizeof flags / sizeof flags[0] == SOLVER__COUNT,
	    "bridge flags for every mode");
	*out = NULL;
	if (!hookable(p, x))
		return true;
	if (p->mode == SOLVER_HANDLER || p->mode == SOLVER_DEHYDRATED)
		h = p->handler;
	else if (p->mode == SOLVER_JSON && p->socket != NULL)
		h = p->socket;
	n = asprintf(out, "%s certbot-hook %s%s%s", x->self, k->text,
	    p->mode == SOLVER_JSON && p->socket == NULL ? "" : flags[p->mode],
	    h);
	if (n == -1)
		*out = NULL;
	return n != -1;
}

static bool
parse_ignore(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	(void)k;
	(void)v;
	(void)p;
	(void)why;
	(void)whylen;
	return true;
}

/* Printable text of sane length: a conf value never carries a newline or
 * a terminal escape into a log line, a path or a hook's argv. */
static bool
text_ok(const char *v, char *why, size_t whylen)
{
	size_t	i, len = strlen(v);

	if (len == 0 || len > RENEWAL_VALUE_MAX) {
		snprintf(why, whylen, "is empty or longer than %d bytes",
		    RENEWAL_VALUE_MAX);
		return false;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			snprintf(why, whylen, "contains a control character");
			return false;
		}
	return true;
}

static bool
parse_str(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	char	**f = str_field_mut(p, k), *s;

	if (!text_ok(v, why, whylen))
		return false;
	if ((s = strdup(v)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	free(*f);
	*f = s;
	return true;
}

static bool
parse_url(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	if (strncmp(v, "https://", 8) != 0 || v[8] == '\0') {
		snprintf(why, whylen, "is not an https:// URL");
		return false;
	}
	return parse_str(k, v, p, why, whylen);
}

static bool
parse_resolver(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	if (!selfcheck_resolver_valid(v)) {
		snprintf(why, whylen, "is not IPv4[:PORT]");
		return false;
	}
	return parse_str(k, v, p, why, whylen);
}

static bool
parse_profile(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	char	**f = str_field_mut(p, k);

	if (strcmp(v, "None") == 0) {
		free(*f);
		*f = NULL;
		return true;
	}
	if (!profile_name_ok(v)) {
		snprintf(why, whylen, "is not a profile name (1 to %d letters, "
		    "digits, '.', '_' or '-')", PROFILE_NAME_MAX);
		return false;
	}
	return parse_str(k, v, p, why, whylen);
}

static bool
parse_bool(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	static const char *const yes[] = { "True", "true", "yes", "1" };
	static const char *const no[] = { "False", "false", "no", "0" };
	bool	*f = (bool *)(void *)((char *)p + k->off);
	size_t	 i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
			*f = strcmp(v, yes[i]) == 0;
			return true;
		}
	}
	snprintf(why, whylen, "is not True or False");
	return false;
}

static bool
parse_long(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	return num_parse_long(v, k->min, k->max,
	    (long *)(void *)((char *)p + k->off), why, whylen);
}

static bool
parse_key_type(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	(void)k;
	if (strcmp(v, "rsa") == 0)
		p->key.type = CRYPTO_KEY_RSA;
	else if (strcmp(v, "ecdsa") == 0)
		p->key.type = CRYPTO_KEY_ECDSA;
	else {
		snprintf(why, whylen, "is not rsa or ecdsa");
		return false;
	}
	return true;
}

static bool
parse_rsa_bits(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	long	n;

	(void)k;
	if (!num_parse_long(v, 2048, 4096, &n, why, whylen))
		return false;
	if (n != 2048 && n != 3072 && n != 4096) {
		snprintf(why, whylen, "is not 2048, 3072 or 4096");
		return false;
	}
	p->key.rsa_bits = (int)n;
	return true;
}

static bool
parse_curve(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	size_t	i;

	(void)k;
	for (i = 0; i < sizeof curves / sizeof curves[0]; i++)
		if (strcmp(v, curves[i]) == 0) {
			p->key.curve = curves[i];
			return true;
		}
	snprintf(why, whylen, "is not secp256r1 or secp384r1");
	return false;
}

/* "dns-01, http-01" or "dns-01," (configobj lists); an empty list keeps
 * p's preference. */
static bool
parse_prefs(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	enum chal_type	 t[CHAL__COUNT];
	char		*copy, *tok, *save = NULL;
	size_t		 n = 0, i;
	int		 c;
	bool		 ok = true;

	(void)k;
	if ((copy = strdup(v)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	for (tok = strtok_r(copy, ", ", &save); tok != NULL && ok;
	    tok = strtok_r(NULL, ", ", &save)) {
		if ((c = chal_type_parse(tok)) == -1) {
			snprintf(why, whylen, "names an unknown challenge "
			    "type");
			ok = false;
			break;
		}
		for (i = 0; i < n && t[i] != (enum chal_type)c; i++)
			;
		if (i == n && n < CHAL__COUNT)
			t[n++] = (enum chal_type)c;
	}
	free(copy);
	if (ok && n > 0) {
		memcpy(p->prefs, t, n * sizeof t[0]);
		p->n_prefs = n;
	}
	return ok;
}

/* Comma-separated names, each already in domain_normalize's form, as the
 * command line leaves them. */
static bool
parse_domains(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	char	*copy, *tok, *save = NULL, *d, *names[LINEAGE_DOMAINS_MAX];
	char	 dwhy[128];
	size_t	 n = 0, i;
	bool	 ok = true;

	(void)k;
	if ((copy = strdup(v)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	for (tok = strtok_r(copy, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		if (n == LINEAGE_DOMAINS_MAX) {
			snprintf(why, whylen, "has more than %d names",
			    LINEAGE_DOMAINS_MAX);
			ok = false;
			break;
		}
		d = domain_normalize(tok, dwhy, sizeof dwhy);
		if (d == NULL || strcmp(d, tok) != 0) {
			snprintf(why, whylen, "name %zu is not a valid "
			    "normalized domain name", n + 1);
			free(d);
			ok = false;
			break;
		}
		free(d);
		names[n++] = tok;
	}
	if (ok && n == 0) {
		snprintf(why, whylen, "is empty");
		ok = false;
	}
	if (ok && !lineage_params_set_domains(p, names, n)) {
		snprintf(why, whylen, "out of memory");
		ok = false;
	}
	for (i = 0; i < n; i++)
		names[i] = NULL;
	free(copy);
	return ok;
}

static bool
parse_mode(const struct renewal_key *k, const char *v,
    struct lineage_params *p, char *why, size_t whylen)
{
	int	m;

	(void)k;
	if ((m = solver_mode_parse(v)) == -1) {
		snprintf(why, whylen, "is not a known mode");
		return false;
	}
	p->mode = (enum solver_mode)m;
	return true;
}

static const struct {
	format_fn	format;
	parse_fn	parse;
	bool		list;	/* conf_set_list: written verbatim */
} kinds[] = {
	[RK_CONST] = { fmt_const, parse_ignore, false },
	[RK_FILE] = { fmt_file, parse_ignore, false },
	[RK_STR] = { fmt_str, parse_str, false },
	[RK_URL] = { fmt_str, parse_url, false },
	[RK_RESOLVER] = { fmt_str, parse_resolver, false },
	[RK_PROFILE] = { fmt_str, parse_profile, false },
	[RK_BOOL] = { fmt_bool, parse_bool, false },
	[RK_LONG] = { fmt_long, parse_long, false },
	[RK_KEY_TYPE] = { fmt_key_type, parse_key_type, false },
	[RK_RSA_BITS] = { fmt_rsa_bits, parse_rsa_bits, false },
	[RK_CURVE] = { fmt_curve, parse_curve, false },
	[RK_PREFS] = { fmt_prefs, parse_prefs, true },
	[RK_DOMAINS] = { fmt_domains, parse_domains, false },
	[RK_MODE] = { fmt_mode, parse_mode, false },
	[RK_AUTHENTICATOR] = { fmt_authenticator, parse_ignore, false },
	[RK_HOOK] = { fmt_hook, parse_ignore, false },
};
_Static_assert(sizeof kinds / sizeof kinds[0] == RK__COUNT,
    "one format/parse pair per renewal key kind");

enum err
renewal_update(struct conf *c, const struct lineage_params *p,
    const char *prefix, char *why, size_t whylen)
{
	struct lineage_params	 scratch;
	const struct renewal_key *k;
	char			*v = NULL, kwhy[96];
	size_t			 i, plen = strlen(prefix);
	enum err		 e = ERR_OK;
	bool			 ok;

	for (i = 0; i < sizeof keys / sizeof keys[0] && e == ERR_OK; i++) {
		k = &keys[i];
		if (strncmp(k->key, prefix, plen) != 0)
			continue;
		/* What depends on the files, not on p, is renewal_write's
		 * (prefix "" takes all of p: the pending order's copy). */
		if (k->kind == RK_CONST || k->kind == RK_FILE ||
		    k->kind == RK_AUTHENTICATOR || k->kind == RK_HOOK)
			continue;
		free(v);
		if (!kinds[k->kind].format(k, p, NULL, &v)) {
			snprintf(why, whylen, "out of memory");
			e = ERR_INTERNAL;
			break;
		}
		/* An unset number replaces the old value; an unset text
		 * leaves it (a conf value is never empty). */
		if (v == NULL && k->kind == RK_LONG && (v = strdup("0")) ==
		    NULL) {
			e = ERR_INTERNAL;
			break;
		}
		if (v == NULL)
			continue;
		lineage_params_defaults(&scratch);
		ok = kinds[k->kind].parse(k, v, &scratch, kwhy, sizeof kwhy);
		lineage_params_clear(&scratch);
		if (!ok) {
			snprintf(why, whylen, "%s %s", k->key, kwhy);
			e = ERR_USAGE;
		} else if ((e = conf_set(c, k->section, k->key, v)) != ERR_OK)
			snprintf(why, whylen, "%s cannot be recorded", k->key);
	}
	free(v);
	return e;
}

bool
renewal_is_own(const struct conf *c)
{
	const char	*auth = conf_get(c, RP, "authenticator");

	return (auth != NULL && strcmp(auth, "extauth") == 0) ||
	    conf_get(c, RP, "extauth_mode") != NULL;
}

enum err
renewal_write(const char *path, const struct lineage_params *p,
    const struct renewal_files *x, char *why, size_t whylen)
{
	struct lineage_params	 scratch;
	struct conf		 conf;
	const struct renewal_key *k;
	char			*v = NULL, kwhy[96];
	size_t			 i;
	enum err		 e = ERR_INTERNAL;
	bool			 ok;

	memset(&conf, 0, sizeof conf);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		k = &keys[i];
		free(v);
		if (!kinds[k->kind].format(k, p, x, &v)) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		if (v == NULL)
			continue;
		/* What the reader would refuse is not written. */
		lineage_params_defaults(&scratch);
		ok = kinds[k->kind].parse(k, v, &scratch, kwhy, sizeof kwhy);
		lineage_params_clear(&scratch);
		if (!ok) {
			snprintf(why, whylen, "%s %s", k->key, kwhy);
			e = ERR_USAGE;
			goto out;
		}
		if ((e = (kinds[k->kind].list ? conf_set_list : conf_set)(&conf,
		    k->section, k->key, v)) != ERR_OK) {
			snprintf(why, whylen, "%s cannot be recorded", k->key);
			goto out;
		}
	}
	if ((e = conf_write(path, &conf)) != ERR_OK)
		snprintf(why, whylen, "the renewal conf cannot be written");
out:
	free(v);
	conf_clear(&conf);
	return e;
}

bool
renewal_read(const struct conf *c, struct lineage_params *p, char *why,
    size_t whylen)
{
	const struct renewal_key *k;
	const char		*v;
	char			 kwhy[96];
	size_t			 i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		k = &keys[i];
		/* Keys for certbot only are not even looked up: renew reads
		 * thousands of confs (bench/renew.sh). */
		if (kinds[k->kind].parse == parse_ignore ||
		    (v = conf_get(c, k->section, k->key)) == NULL)
			continue;
		if (!kinds[k->kind].parse(k, v, p, kwhy, sizeof kwhy)) {
			snprintf(why, whylen, "%s in the renewal conf %s",
			    k->key, kwhy);
			return false;
		}
	}
	return true;
}
