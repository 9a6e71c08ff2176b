/*
 * lineage.c: the life of one lineage: due or not, obtain, store, and the
 * renewal conf that lets `renew` do it again without the command line.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "lineage.h"
#include "log.h"
#include "num.h"
#include "order.h"

#define DAY	86400L

bool
lineage_due(time_t nb, time_t na, time_t now, long before_s)
{
	long	lifetime = (long)(na - nb), window;

	if (before_s > 0)
		window = before_s;
	else {
		window = 30 * DAY;
		if (lifetime / 3 < window)
			window = lifetime / 3;
	}
	return (long)(na - now) <= window;
}

long
lineage_parse_interval(const char *s)
{
	static const struct { const char *unit; long mult; } units[] = {
		{ "", 1 }, { "second", 1 }, { "minute", 60 }, { "hour", 3600 },
		{ "day", DAY }, { "week", 7 * DAY },
	};
	char		 digits[24];
	const char	*end;
	size_t		 len, i;
	long		 n;

	if (s == NULL)
		return 0;
	for (end = s; *end >= '0' && *end <= '9'; end++)
		;
	if ((len = (size_t)(end - s)) == 0 || len >= sizeof digits)
		return 0;
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (!num_parse_long(digits, 0, LONG_MAX, &n, NULL, 0))
		return 0;
	while (*end == ' ')
		end++;
	/* "1 day", "2 days": the unit, optionally plural, then nothing. */
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		len = strlen(units[i].unit);
		if (strncmp(end, units[i].unit, len) != 0 ||
		    !(end[len] == '\0' || (len > 0 && strcmp(end + len, "s")
		    == 0)))
			continue;
		return n <= LONG_MAX / units[i].mult ? n * units[i].mult : 0;
	}
	return 0;
}

void
lineage_result_clear(struct lineage_result *r)
{
	store_paths_clear(&r->live);
	memset(r, 0, sizeof *r);
}

/* 1 if every name of a is in b. */
static bool
subset(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t	i, j;

	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				break;
		if (j == nb)
			return false;
	}
	return true;
}

/* The names as one comma-separated string; caller frees. */
static char *
join(char *const *v, size_t n, const char *sep)
{
	size_t	 len = 1, i;
	char	*s;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + strlen(sep);
	if ((s = calloc(1, len)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, sep);
		strcat(s, v[i]);
	}
	return s;
}

/*
 * Looks at the existing lineage: sets *keep when its certificate has the
 * same names and is not due.  ERR_USAGE when the names differ in a way
 * the flags do not allow.
 */
static enum err
existing(struct session *ss, const struct lineage_params *p, bool *keep,
    time_t *not_after)
{
	struct store_paths	 live = { 0 };
	struct conf	 conf;
	struct crypto_cert_info	 info = { 0 };
	char			*pem = NULL, *path = NULL, *have = NULL;
	size_t			 len;
	long			 before;
	enum err		 e;
	bool			 same;

	*keep = false;
	memset(&conf, 0, sizeof conf);
	if (store_lineage_version(&ss->store, p->name) <= 0)
		return ERR_OK;
	store_live_paths(&ss->store, p->name, &live);
	if ((e = store_read_file(live.cert, &pem, &len, false)) != ERR_OK)
		goto out;
	e = ERR_STORAGE;
	if (crypto_cert_info(pem, len, &info) == -1) {
		log_error("lineage %s: %s is not a certificate", p->name,
		    live.cert);
		goto out;
	}
	same = info.n_names == p->n_domains && subset(p->domains,
	    p->n_domains, info.names, info.n_names);
	if (!same && !p->replace && !(p->expand && subset(info.names,
	    info.n_names, p->domains, p->n_domains))) {
		have = join(info.names, info.n_names, ", ");
		log_error("lineage %s holds %s; to add names give --expand, to"
		    " replace them give --cert-name %s", p->name,
		    have ? have : "other names", p->name);
		e = ERR_USAGE;
		goto out;
	}
	path = store_conf_path(&ss->store, p->name);
	before = 0;
	if (path != NULL && conf_read(path, &conf) == ERR_OK)
		before = lineage_parse_interval(conf_get(&conf, NULL,
		    "renew_before_expiry"));
	*not_after = info.not_after;
	*keep = same && !p->force && !lineage_due(info.not_before,
	    info.not_after, time(NULL), before);
	e = ERR_OK;
out:
	store_paths_clear(&live);
	conf_clear(&conf);
	crypto_cert_info_free(&info);
	free(pem);
	free(path);
	free(have);
	return e;
}

struct sync_arg {
	struct solver		*s;
	const struct store	*store;
	const char		*name;
	const unsigned char	*csr_der;
	size_t			 csr_len;
	bool			 with_request;	/* write csr/NAME.pem */
};


/*
 * dehydrated's sync_cert takes REQUESTFILE too, and hooks hand it to
 * sync(1) or archive it: it must name a real file, so the CSR the order
 * was finalized with is written to config_dir/csr/NAME.pem first.
 */
static int
sync_cb(void *arg, const char *key, const char *cert, const char *fullchain,
    const char *chain)
{
	struct sync_arg	*a = arg;
	char		*dir = NULL, *path = NULL, *pem = NULL;
	int		 rc = -1;

	/* Only dehydrated hooks are shown the request file. */
	if (!a->with_request)
		return solver_emit(a->s, event_sync(key, cert, fullchain, chain,
		    NULL)) == ERR_OK ? 0 : -1;
	if (asprintf(&dir, "%s/csr", a->store->config_dir) == -1) {
		dir = NULL;
		goto out;
	}
	if (asprintf(&path, "%s/%s.pem", dir, a->name) == -1) {
		path = NULL;
		goto out;
	}
	if ((pem = crypto_csr_pem(a->csr_der, a->csr_len)) == NULL ||
	    store_mkdirs(dir, 0700) != ERR_OK ||
	    store_write_atomic(path, pem, strlen(pem), 0644) != ERR_OK)
		goto out;
	rc = solver_emit(a->s, event_sync(key, cert, fullchain, chain,
	    path)) == ERR_OK ? 0 : -1;
out:
	free(dir);
	free(path);
	free(pem);
	return rc;
}

/*
 * The renewal conf: certbot's keys first (so certbot can list the
 * lineage), then what extauth needs to renew it unattended.  The
 * extauth_version/not_before/not_after keys are a cache that lets renew
 * decide "not due" from the conf alone, trusted only while live/ still
 * points at that version.
 */
static enum err
write_conf(struct session *ss, const struct lineage_params *p,
    const struct store_paths *live, int version,
    const struct crypto_cert_info *info)
{
	struct conf	 conf;
	char			*path = NULL, *archive = NULL, *prefs = NULL;
	char			*names = NULL, *bits = NULL, cache[3][32];
	char			 wait[32];
	const char		*pn[CHAL__COUNT], *bundle;
	enum err		 e = ERR_INTERNAL;
	size_t			 i;

	memset(&conf, 0, sizeof conf);
	for (i = 0; i < p->n_prefs && i < CHAL__COUNT; i++)
		pn[i] = chal_type_name(p->prefs[i]);
	if ((path = store_conf_path(&ss->store, p->name)) == NULL ||
	    asprintf(&archive, "%s/archive/%s", ss->store.config_dir,
	    p->name) == -1 || (prefs = join((char *const *)pn, i, ", ")) ==
	    NULL || (names = join(p->domains, p->n_domains, ",")) == NULL ||
	    asprintf(&bits, "%d", p->key.rsa_bits) == -1)
		goto out;
	/* pref_challs is a configobj list, as certbot writes it: one
	 * element needs the trailing comma to stay a list. */
	if (i == 1) {
		free(prefs);
		if (asprintf(&prefs, "%s,", pn[0]) == -1) {
			prefs = NULL;
			goto out;
		}
	}
	snprintf(cache[0], sizeof cache[0], "%d", version);
	snprintf(cache[1], sizeof cache[1], "%lld", (long long)info->not_before);
	snprintf(cache[2], sizeof cache[2], "%lld", (long long)info->not_after);
	if (conf_set(&conf, NULL, "version", "2.1.0") != ERR_OK ||
	    conf_set(&conf, NULL, "archive_dir", archive) != ERR_OK ||
	    conf_set(&conf, NULL, "cert", live->cert) != ERR_OK ||
	    conf_set(&conf, NULL, "privkey", live->privkey) != ERR_OK ||
	    conf_set(&conf, NULL, "chain", live->chain) != ERR_OK ||
	    conf_set(&conf, NULL, "fullchain", live->fullchain) !=
	    ERR_OK ||
	    conf_set(&conf, NULL, "extauth_version", cache[0]) != ERR_OK ||
	    conf_set(&conf, NULL, "extauth_not_before", cache[1]) !=
	    ERR_OK ||
	    conf_set(&conf, NULL, "extauth_not_after", cache[2]) != ERR_OK)
		goto out;
	if (conf_set(&conf, "renewalparams", "account",
	    ss->account_id) != ERR_OK ||
	    conf_set(&conf, "renewalparams", "server", ss->server) !=
	    ERR_OK ||
	    conf_set(&conf, "renewalparams", "authenticator",
	    "extauth") != ERR_OK ||
	    conf_set(&conf, "renewalparams", "key_type",
	    p->key.type == CRYPTO_KEY_RSA ? "rsa" : "ecdsa") != ERR_OK ||
	    conf_set(&conf, "renewalparams", p->key.type ==
	    CRYPTO_KEY_RSA ? "rsa_key_size" : "elliptic_curve",
	    p->key.type == CRYPTO_KEY_RSA ? bits : p->key.curve) != ERR_OK ||
	    conf_set_list(&conf, "renewalparams", "pref_challs", prefs) !=
	    ERR_OK ||
	    conf_set(&conf, "renewalparams", "extauth_domains", names) !=
	    ERR_OK ||
	    conf_set(&conf, "renewalparams", "extauth_mode",
	    solver_mode_name(p->mode)) != ERR_OK)
		goto out;
	bundle = session_ca_bundle(ss);
	if (bundle != NULL && conf_set(&conf, "renewalparams",
	    "extauth_ca_bundle", bundle) != ERR_OK)
		goto out;
	if (p->handler != NULL && conf_set(&conf, "renewalparams",
	    "extauth_handler", p->handler) != ERR_OK)
		goto out;
	if (p->hook_chain && conf_set(&conf, "renewalparams",
	    "extauth_hook_chain", "True") != ERR_OK)
		goto out;
	if (p->deploy_hook != NULL && conf_set(&conf, "renewalparams",
	    "renew_hook", p->deploy_hook) != ERR_OK)
		goto out;
	if (p->dns_wait_s > 0) {
		snprintf(wait, sizeof wait, "%ld", p->dns_wait_s);
		if (conf_set(&conf, "renewalparams", "extauth_dns_wait", wait) !=
		    ERR_OK)
			goto out;
	}
	if (p->dns_resolver != NULL && conf_set(&conf, "renewalparams",
	    "extauth_dns_resolver", p->dns_resolver) != ERR_OK)
		goto out;
	if (p->renew_before != NULL && conf_set(&conf, NULL,
	    "renew_before_expiry", p->renew_before) != ERR_OK)
		goto out;
	e = conf_write(path, &conf);
out:
	conf_clear(&conf);
	free(path);
	free(archive);
	free(prefs);
	free(names);
	free(bits);
	return e;
}

enum err
lineage_obtain(struct session *ss, struct solver *s,
    const struct lineage_params *p, struct lineage_result *r)
{
	struct order_req	 req = { 0 };
	struct store_new_cert	 nc = { 0 };
	struct crypto_cert_info	 info = { 0 };
	EVP_PKEY		*key = NULL;
	char			*pem = NULL, *leaf = NULL, *issuers = NULL;
	char			*keypem = NULL;
	unsigned char		*csr = NULL;
	size_t			 csrlen = 0;
	struct sync_arg		 sa;
	enum err		 e;
	bool			 keep;

	memset(r, 0, sizeof *r);
	store_live_paths(&ss->store, p->name, &r->live);
	if ((e = existing(ss, p, &keep, &r->not_after)) != ERR_OK)
		goto out;
	if (keep) {
		log_info("certificate %s is not yet due for renewal; keeping "
		    "it (--force-renewal to renew anyway)", p->name);
		r->version = store_lineage_version(&ss->store, p->name);
		goto out;
	}
	e = ERR_INTERNAL;
	if ((key = crypto_key_generate(&p->key)) == NULL)
		goto out;
	req.names = p->domains;
	req.n_names = p->n_domains;
	req.prefs = p->prefs;
	req.n_prefs = p->n_prefs;
	req.cert_key = key;
	req.dns_wait_s = p->dns_wait_s;
	req.work_dir = ss->store.work_dir;
	req.deactivate_authz = p->deactivate_authz;
	/* Made here, not by the order, so sync_cert can show it. */
	if ((csr = crypto_csr_der(key, p->domains, p->n_domains, &csrlen)) ==
	    NULL)
		goto out;
	req.csr_der = csr;
	req.csr_len = csrlen;
	if ((e = order_obtain(ss->acme, s, &req, &pem)) != ERR_OK)
		goto out;
	e = ERR_ACME;
	if (crypto_chain_split(pem, strlen(pem), &leaf, &issuers) == -1 ||
	    crypto_cert_info(leaf, strlen(leaf), &info) == -1) {
		log_error("the CA's certificate chain for %s does not parse",
		    p->name);
		goto out;
	}
	if (!crypto_cert_matches_key(leaf, strlen(leaf), key)) {
		log_error("the CA's certificate for %s is not for our key",
		    p->name);
		goto out;
	}
	r->not_after = info.not_after;
	r->renewed = true;
	if (p->dry_run) {
		log_info("dry run: certificate for %s obtained, not saved",
		    p->name);
		e = ERR_OK;
		goto out;
	}
	e = ERR_INTERNAL;
	if ((keypem = crypto_key_to_pem(key)) == NULL)
		goto out;
	nc.privkey_pem = keypem;
	nc.cert_pem = leaf;
	nc.chain_pem = issuers;
	nc.fullchain_pem = pem;
	sa.s = s;
	sa.store = &ss->store;
	sa.name = p->name;
	sa.csr_der = csr;
	sa.csr_len = csrlen;
	sa.with_request = p->mode == SOLVER_DEHYDRATED;
	if ((e = store_lineage_save(&ss->store, p->name, &nc, sync_cb, &sa,
	    &r->version)) != ERR_OK)
		goto out;
	if (p->foreign) {
		/* certbot's own conf stays as certbot wrote it. */
		e = ERR_OK;
		goto out;
	}
	e = write_conf(ss, p, &r->live, r->version, &info);
out:
	crypto_cert_info_free(&info);
	EVP_PKEY_free(key);
	free(pem);
	free(leaf);
	free(issuers);
	free(csr);
	if (keypem != NULL) {
		explicit_bzero(keypem, strlen(keypem));
		free(keypem);
	}
	return e;
}
