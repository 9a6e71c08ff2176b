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
#include <unistd.h>

#include "ari.h"
#include "clock.h"
#include "conf.h"
#include "lineage.h"
#include "log.h"
#include "num.h"
#include "order.h"
#include "profile.h"
#include "renewal.h"
#include "strv.h"

#define DAY	86400L

bool
lineage_due(time_t nb, time_t na, time_t now, long before_s)
{
	return now >= lineage_due_at(nb, na, before_s);
}

time_t
lineage_due_at(time_t nb, time_t na, long before_s)
{
	long	lifetime = (long)(na - nb), window;

	/* certbot 4.0: a third of the lifetime left, half of it under 10
	 * days, so a twice-daily timer renews a 6-day certificate with 3
	 * days to spare; renew_before_expiry, when set, wins. */
	if (before_s > 0)
		window = before_s;
	else if (lifetime < 10 * DAY)
		window = lifetime / 2;
	else
		window = lifetime / 3;
	return na - (time_t)window;
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
lineage_params_defaults(struct lineage_params *p)
{
	memset(p, 0, sizeof *p);
	p->prefs[0] = CHAL_DNS01;
	p->prefs[1] = CHAL_HTTP01;
	p->n_prefs = 2;
	p->key.type = CRYPTO_KEY_ECDSA;
	p->key.curve = "secp256r1";
	p->key.rsa_bits = 2048;
	p->mode = SOLVER_JSON;
}

void
lineage_params_clear(struct lineage_params *p)
{
	size_t	i;

	for (i = 0; i < p->n_domains; i++)
		free(p->domains[i]);
	free(p->domains);
	free(p->name);
	free(p->server);
	free(p->account);
	free(p->ca_bundle);
	free(p->handler);
	free(p->socket);
	free(p->deploy_hook);
	free(p->renew_before);
	free(p->dns_resolver);
	free(p->preferred_profile);
	free(p->required_profile);
	free(p->preferred_chain);
	free(p->ari_explanation);
	memset(p, 0, sizeof *p);
}

bool
lineage_params_set_domains(struct lineage_params *p, char *const *v,
    size_t n)
{
	char	**d;
	size_t	  i;

	if (n > LINEAGE_DOMAINS_MAX || (d = calloc(n + 1, sizeof *d)) == NULL)
		return false;
	for (i = 0; i < n; i++)
		if ((d[i] = strdup(v[i])) == NULL) {
			while (i > 0)
				free(d[--i]);
			free(d);
			return false;
		}
	for (i = 0; i < p->n_domains; i++)
		free(p->domains[i]);
	free(p->domains);
	p->domains = d;
	p->n_domains = n;
	return true;
}

void
lineage_result_clear(struct lineage_result *r)
{
	store_lineage_paths_clear(&r->live);
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

/*
 * Looks at the existing lineage: sets *keep when its certificate has the
 * same names and is not due.  ERR_USAGE when the names differ in a way
 * the flags do not allow.
 */
static enum err
existing(const struct store_lineage *ln, const struct lineage_params *p,
    bool *keep, time_t *not_after)
{
	struct store_paths	 live = { 0 };
	struct conf		 conf;
	struct lineage_params	 old = { 0 };
	struct crypto_cert_info	 info = { 0 };
	char			*pem = NULL, *path = NULL, *have = NULL;
	char			 why[160];
	size_t			 len;
	long			 before;
	enum err		 e;
	bool			 same;

	*keep = false;
	memset(&conf, 0, sizeof conf);
	if (store_lineage_version(ln) <= 0)
		return ERR_OK;
	store_lineage_paths(ln, &live);
	if ((e = store_read_owned(live.cert, &pem, &len, false)) != ERR_OK)
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
		have = strv_join(info.names, info.n_names, ", ");
		log_error("lineage %s holds %s; to add names give --expand, to"
		    " replace them give --cert-name %s", p->name,
		    have ? have : "other names", p->name);
		e = ERR_USAGE;
		goto out;
	}
	path = store_lineage_conf_path(ln);
	before = 0;
	/* Links but no conf: a run was killed between store_lineage_save
	 * and write_conf.  Kept, the lineage would stay invisible to renew
	 * and certificates; obtained again, it gets its conf. */
	if (path != NULL && access(path, F_OK) == -1 && errno == ENOENT &&
	    !p->foreign) {
		log_warn("lineage %s has no renewal configuration (an earlier "
		    "run was interrupted); obtaining it again", p->name);
		e = ERR_OK;
		goto out;
	}
	lineage_params_defaults(&old);
	if (path != NULL && conf_read(path, &conf) == ERR_OK &&
	    renewal_read(&conf, &old, why, sizeof why))
		before = lineage_parse_interval(old.renew_before);
	*not_after = info.not_after;
	*keep = same && !p->force && !lineage_due(info.not_before,
	    info.not_after, clock_now(), before);
	e = ERR_OK;
out:
	store_lineage_paths_clear(&live);
	conf_clear(&conf);
	lineage_params_clear(&old);
	crypto_cert_info_free(&info);
	free(pem);
	free(path);
	free(have);
	return e;
}

struct sync_arg {
	struct solver		*s;
	const struct store_lineage	*ln;
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
	char		*path = NULL, *pem = NULL;
	int		 rc = -1;

	/* Only dehydrated hooks are shown the request file. */
	if (!a->with_request)
		return solver_emit(a->s, event_sync(key, cert, fullchain, chain,
		    NULL)) == ERR_OK ? 0 : -1;
	if ((pem = crypto_csr_pem(a->csr_der, a->csr_len)) == NULL ||
	    store_lineage_csr_save(a->ln, pem, &path) != ERR_OK)
		goto out;
	rc = solver_emit(a->s, event_sync(key, cert, fullchain, chain,
	    path)) == ERR_OK ? 0 : -1;
out:
	free(path);
	free(pem);
	return rc;
}

/*
 * The renewal conf, through renewal.c's table: p as given, plus what only
 * this run knows: the server and account in use, the CA bundle, and the
 * cache of the version just saved.
 */
static enum err
write_conf(struct session *ss, const struct store_lineage *ln,
    const struct lineage_params *p, const struct store_paths *live,
    int version, const struct crypto_cert_info *info)
{
	struct lineage_params	 w = *p;	/* shallow: nothing freed */
	struct renewal_files	 f;
	char			*path = NULL, *archive = NULL, why[160];
	char			 self[PATH_MAX];
	ssize_t			 n;
	enum err		 e = ERR_INTERNAL;

	w.server = (char *)ss->server;
	w.account = ss->account_id;
	w.ca_bundle = (char *)session_ca_bundle(ss);
	w.cache_version = version;
	w.cache_not_before = (long)info->not_before;
	w.cache_not_after = (long)info->not_after;
	/* A new certificate has no renewal window yet. */
	w.ari_start = w.ari_end = w.ari_at = w.ari_next = 0;
	w.ari_explanation = NULL;
	/* Success ends any backoff. */
	w.retry_count = w.retry_after = 0;
	if ((path = store_lineage_conf_path(ln)) == NULL ||
	    (archive = store_lineage_dir(ln, STORE_ARCHIVE)) == NULL)
		goto out;
	/* certbot's hooks name this very binary, absolute as certbot
	 * wants; without /proc the conf keeps authenticator = extauth. */
	f.archive_dir = archive;
	f.live = live;
	f.self = NULL;
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		f.self = self;
	}
	if ((e = renewal_write(path, &w, &f, why, sizeof why)) != ERR_OK)
		log_error("lineage %s: %s", p->name, why);
out:
	free(path);
	free(archive);
	return e;
}

/*
 * The certificate's key (certbot's --reuse-key and --new-key): the
 * lineage's current private key when reuse_key is recorded or given and
 * --new-key is not, else a new one of p->key.  *key is new, caller frees.
 * A current key other than p->key asks for (type, RSA size or curve) is
 * refused rather than silently kept, since the conf would then describe
 * another key: --new-key once changes it.
 */
static enum err
choose_key(const struct store_lineage *ln, const struct lineage_params *p,
    const struct store_paths *live, EVP_PKEY **key)
{
	char		*pem = NULL, have[32], want[32];
	const char	*curve;
	size_t		 len = 0;
	enum err	 e;

	*key = NULL;
	if (!p->reuse_key || p->new_key ||
	    store_lineage_version(ln) <= 0) {
		if ((*key = crypto_key_generate(&p->key)) == NULL)
			return ERR_INTERNAL;
		return ERR_OK;
	}
	if ((e = store_read_owned(live->privkey, &pem, &len, false)) !=
	    ERR_OK)
		goto out;
	e = ERR_STORAGE;
	if ((*key = crypto_key_from_pem(pem, len)) == NULL) {
		log_error("lineage %s: %s is not a private key (--new-key "
		    "makes a new one)", p->name, live->privkey);
		goto out;
	}
	/* "rsa 2048", "ecdsa secp256r1": both sides spelled alike. */
	curve = crypto_key_curve(*key);
	if (curve != NULL)
		snprintf(have, sizeof have, "ecdsa %s", curve);
	else
		snprintf(have, sizeof have, "%s %d",
		    crypto_key_type_name(*key), crypto_key_bits(*key));
	if (p->key.type == CRYPTO_KEY_RSA)
		snprintf(want, sizeof want, "rsa %d", p->key.rsa_bits);
	else
		snprintf(want, sizeof want, "ecdsa %s", p->key.curve);
	e = ERR_USAGE;
	if (strcmp(have, want) != 0) {
		log_error("lineage %s: --reuse-key keeps its %s key, but the "
		    "key asked for is %s; give --new-key once to change it",
		    p->name, have, want);
		EVP_PKEY_free(*key);
		*key = NULL;
		goto out;
	}
	log_info("lineage %s: reusing its current private key (--reuse-key)",
	    p->name);
	e = ERR_OK;
out:
	if (pem != NULL) {
		explicit_bzero(pem, len);
		free(pem);
	}
	return e;
}

/*
 * The lineage handle of p, locked: the verb's (p->lineage), else one
 * opened here in *own, which the caller closes.  The lock makes the
 * lineage this run's while it reads, obtains and saves it; another run
 * holding it is ERR_LOCKED (exit 7), reported here.
 */
static enum err
handle(struct session *ss, const struct lineage_params *p,
    struct store_lineage **own, struct store_lineage **ln)
{
	const char	*why;
	enum err	 e;

	*own = NULL;
	if ((*ln = p->lineage) == NULL) {
		if ((*own = store_lineage_open(&ss->store, p->name,
		    &why)) == NULL) {
			log_error("certificate name %s: %s", p->name ?
			    p->name : "(none)", why);
			return ERR_USAGE;
		}
		*ln = *own;
	}
	if ((e = store_lineage_lock(*ln)) == ERR_LOCKED) {
		log_error("certificate %s is being obtained or renewed by "
		    "another extauth run", store_lineage_name(*ln));
		log_error("wait for it to finish, then run again");
	}
	return e;
}

void
lineage_draft_clear(struct lineage_draft *d)
{
	EVP_PKEY_free(d->key);
	free(d->csr);
	free(d->replaces);
	memset(d, 0, sizeof *d);
}

enum err
lineage_draft(struct session *ss, const struct lineage_params *p,
    struct lineage_result *r, struct lineage_draft *d)
{
	struct store_lineage	*own = NULL, *ln;
	char			*oldpem = NULL;
	size_t			 oldlen = 0;
	enum err		 e;

	memset(r, 0, sizeof *r);
	memset(d, 0, sizeof *d);
	if ((e = handle(ss, p, &own, &ln)) != ERR_OK)
		goto out;
	store_lineage_paths(ln, &r->live);
	if ((e = existing(ln, p, &d->keep, &r->not_after)) != ERR_OK)
		goto out;
	if (d->keep) {
		log_info("certificate %s is not yet due for renewal; keeping "
		    "it (--force-renewal to renew anyway)", p->name);
		r->version = store_lineage_version(ln);
		goto out;
	}
	/* RFC 9773 §5: a renewal names the certificate it replaces, when
	 * the CA speaks ARI (never on a dry run: staging never issued it). */
	if (!p->dry_run && acme_url(ss->acme, ACME_URL_RENEWAL_INFO) != NULL &&
	    store_lineage_version(ln) > 0 &&
	    store_read_file(r->live.cert, &oldpem, &oldlen, false) == ERR_OK)
		d->replaces = ari_cert_id(oldpem, oldlen);
	/* Before the key and the order: a required profile the CA does
	 * not offer stops here. */
	if ((e = profile_choose(acme_meta(ss->acme, "profiles"), p->preferred_profile,
	    p->required_profile, &d->profile)) != ERR_OK)
		goto out;
	if ((e = choose_key(ln, p, &r->live, &d->key)) != ERR_OK)
		goto out;
	/* Made here, not by the order, so sync_cert can show it. */
	e = ERR_INTERNAL;
	if ((d->csr = crypto_csr_der(d->key, p->domains, p->n_domains,
	    &d->csr_len)) == NULL)
		goto out;
	e = ERR_OK;
out:
	free(oldpem);
	store_lineage_close(own);
	return e;
}

enum err
lineage_store(struct session *ss, struct solver *s,
    const struct lineage_params *p, EVP_PKEY *key, const unsigned char *csr,
    size_t csrlen, const char *pem, struct lineage_result *r)
{
	struct store_new_cert	 nc = { 0 };
	struct crypto_cert_info	 info = { 0 };
	struct store_lineage	*own = NULL, *ln;
	char			*leaf = NULL, *issuers = NULL, *keypem = NULL;
	struct sync_arg		 sa;
	enum err		 e;

	if ((e = handle(ss, p, &own, &ln)) != ERR_OK)
		goto out;
	if (r->live.cert == NULL)
		store_lineage_paths(ln, &r->live);
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
	sa.ln = ln;
	sa.csr_der = csr;
	sa.csr_len = csrlen;
	sa.with_request = p->mode == SOLVER_DEHYDRATED;
	if ((e = store_lineage_save(ln, &nc, sync_cb, &sa,
	    &r->version)) != ERR_OK)
		goto out;
	if (p->foreign) {
		/* certbot's own conf stays as certbot wrote it. */
		e = ERR_OK;
		goto out;
	}
	e = write_conf(ss, ln, p, &r->live, r->version, &info);
out:
	crypto_cert_info_free(&info);
	free(leaf);
	free(issuers);
	if (keypem != NULL) {
		explicit_bzero(keypem, strlen(keypem));
		free(keypem);
	}
	store_lineage_close(own);
	return e;
}

/* See lineage.h. */
void
lineage_order_req(const struct lineage_params *p,
    const struct lineage_draft *d, const char *work_dir, struct order_req *req)
{
	req->names = p->domains;
	req->n_names = p->n_domains;
	req->prefs = p->prefs;
	req->n_prefs = p->n_prefs;
	req->cert_key = d->key;
	req->csr_der = d->csr;
	req->csr_len = d->csr_len;
	req->profile = d->profile;
	req->replaces = d->replaces;
	req->work_dir = work_dir;
}

enum err
lineage_obtain(struct session *ss, struct solver *s,
    const struct lineage_params *p, struct lineage_result *r)
{
	struct order_req	 req = { 0 };
	struct lineage_draft	 d;
	struct lineage_params	 q = *p;	/* shallow: only lineage set */
	struct store_lineage	*own = NULL, *ln;
	char			*pem = NULL;
	enum err		 e;

	memset(&d, 0, sizeof d);
	memset(r, 0, sizeof *r);
	/* One handle, so one lock, from the draft to the save. */
	if ((e = handle(ss, p, &own, &ln)) != ERR_OK)
		goto out;
	q.lineage = ln;
	p = &q;
	if ((e = lineage_draft(ss, p, r, &d)) != ERR_OK || d.keep)
		goto out;
	lineage_order_req(p, &d, ss->store.work_dir, &req);
	req.dns_wait_s = p->dns_wait_s;
	req.dns_resolver = p->dns_resolver;
	req.deactivate_authz = p->deactivate_authz;
	req.preferred_chain = p->preferred_chain;
	if ((e = order_obtain(ss->acme, s, &req, &pem)) != ERR_OK)
		goto out;
	e = lineage_store(ss, s, p, d.key, d.csr, d.csr_len, pem, r);
out:
	lineage_draft_clear(&d);
	free(pem);
	store_lineage_close(own);
	return e;
}
