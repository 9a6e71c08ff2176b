/*
 * cmd_csr.c: certonly --csr: orders for the user's own CSR.  No key of
 * ours, no lineage: three plain files, named as certbot names them
 * (certbot's _csr_get_and_save_cert), claimed before the order so a name
 * clash costs no issuance.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "crypto.h"
#include "domain.h"
#include "log.h"
#include "order.h"
#include "session.h"
#include "store.h"

enum { CSR_CERT, CSR_CHAIN, CSR_FULLCHAIN, CSR__FILES };

struct csr {
	unsigned char	*der;
	size_t		 len;
	char		**names;	/* normalized, CSR order */
	size_t		 n;
	char		*path[CSR__FILES];	/* empty until written */
	bool		 written;
};

static void
csr_clear(struct csr *c)
{
	size_t	i;

	for (i = 0; i < CSR__FILES; i++) {
		/* A failed run leaves none of the empty files it claimed. */
		if (c->path[i] != NULL && !c->written)
			(void)unlink(c->path[i]);
		free(c->path[i]);
	}
	free(c->der);
	crypto_names_free(c->names, c->n);
	memset(c, 0, sizeof *c);
}

static bool
has_name(char *const *v, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

/* Appends to *s (", "-separated) the names of a that are not in b;
 * -1 when out of memory. */
static int
add_missing(char **s, char *const *a, size_t na, char *const *b, size_t nb)
{
	char	*grown;
	size_t	 i;

	for (i = 0; i < na; i++) {
		if (has_name(b, nb, a[i]))
			continue;
		if (asprintf(&grown, "%s%s%s", *s ? *s : "", *s ? ", " : "",
		    a[i]) == -1)
			return -1;
		free(*s);
		*s = grown;
	}
	return 0;
}

/*
 * Reads --csr: its DER and its names (normalized like -d), which must be
 * the set given with -d, if any (certbot: "Inconsistent domain
 * requests").  ERR_USAGE (logged, naming the file) otherwise.  Fills
 * *c, also on failure: the caller releases it with csr_clear.
 */
static enum err
csr_load(const struct config *cfg, struct csr *c)
{
	char		*buf = NULL, *name, *only_csr = NULL;
	char		*only_d = NULL;
	char		 why[160];
	size_t		 len, i;
	enum err	 e;

	memset(c, 0, sizeof *c);
	if ((e = store_read_file(cfg->csr, &buf, &len, false)) != ERR_OK) {
		log_error("--csr %s: cannot read the CSR", cfg->csr);
		e = e == ERR_INTERNAL ? e : ERR_USAGE;
		goto out;
	}
	e = ERR_USAGE;
	if (crypto_csr_names((unsigned char *)buf, len, &c->names, &c->n,
	    &c->der, &c->len) == -1) {
		log_error("--csr %s: not a usable certificate signing request",
		    cfg->csr);
		goto out;
	}
	for (i = 0; i < c->n; i++) {
		if ((name = domain_normalize(c->names[i], why, sizeof why)) ==
		    NULL) {
			log_error("--csr %s: name \"%s\": %s", cfg->csr,
			    c->names[i], why);
			goto out;
		}
		free(c->names[i]);
		c->names[i] = name;
	}
	for (i = 0; i < c->n; i++)
		if (has_name(c->names, i, c->names[i])) {
			log_error("--csr %s: %s is named twice", cfg->csr,
			    c->names[i]);
			goto out;
		}
	if (c->n > CLI_DOMAINS_MAX) {
		log_error("--csr %s: more than %d names", cfg->csr,
		    CLI_DOMAINS_MAX);
		goto out;
	}
	if (cfg->n_domains > 0) {
		if (add_missing(&only_csr, c->names, c->n, cfg->domains,
		    cfg->n_domains) == -1 || add_missing(&only_d, cfg->domains,
		    cfg->n_domains, c->names, c->n) == -1) {
			e = ERR_INTERNAL;
			goto out;
		}
		if (only_csr != NULL || only_d != NULL) {
			log_error("--csr %s and -d name different sets: "
			    "only in the CSR: %s; only in -d: %s (give the "
			    "CSR's names or no -d)", cfg->csr,
			    only_csr ? only_csr : "none",
			    only_d ? only_d : "none");
			goto out;
		}
	}
	e = ERR_OK;
out:
	free(buf);
	free(only_csr);
	free(only_d);
	return e;
}

/*
 * Takes a free name for one output file by creating it empty (O_EXCL), so
 * nothing the user has is ever overwritten and two runs never pick the
 * same name.  Given with its flag, the path is used as it is and must not
 * exist (certbot: safe_open); by default it is certbot's unique_file: the
 * first free NNNN_<base> in that directory, counting from 0000.  *got is
 * the absolute path, new memory the caller frees.
 */
static enum err
claim(const char *flag, const char *given, const char *def, char **got)
{
	const char	*want = given ? given : def, *slash;
	char		 cwd[PATH_MAX], *abs = NULL, *dir = NULL;
	char		*path = NULL;
	enum err	 e = ERR_INTERNAL;
	int		 fd = -1, n;

	*got = NULL;
	while (strncmp(want, "./", 2) == 0)
		want += 2;
	if (want[0] == '/')
		abs = strdup(want);
	else if (getcwd(cwd, sizeof cwd) == NULL) {
		log_error("--%s %s: no current directory: %s", flag, want,
		    strerror(errno));
		e = ERR_STORAGE;
		goto out;
	} else if (asprintf(&abs, "%s/%s", cwd, want) == -1)
		abs = NULL;
	if (abs == NULL)
		goto out;
	slash = strrchr(abs, '/');
	if (slash[1] == '\0' || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0) {
		log_error("--%s %s: not a file name", flag, want);
		e = ERR_USAGE;
		goto out;
	}
	if ((dir = strndup(abs, (size_t)(slash - abs) + (slash == abs))) ==
	    NULL)
		goto out;
	if ((e = store_mkdirs(dir, 0755)) != ERR_OK)
		goto out;
	e = ERR_STORAGE;
	for (n = given ? -1 : 0; n < 10000; n++) {
		free(path);
		path = NULL;
		if (n == -1)
			path = strdup(abs);
		else if (asprintf(&path, "%s/%04d_%s", dir, n, slash + 1) ==
		    -1)
			path = NULL;
		if (path == NULL) {
			e = ERR_INTERNAL;
			goto out;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		if (fd != -1 || errno != EEXIST)
			break;
		if (n == -1) {
			log_error("--%s %s: the file exists; extauth does not "
			    "overwrite it (leave the flag out to get the next "
			    "free NNNN_ name, as certbot does)", flag, path);
			e = ERR_USAGE;
			goto out;
		}
	}
	if (fd == -1) {
		log_error("cannot create %s: %s", path, n == 10000 ?
		    "no free NNNN_ name" : strerror(errno));
		goto out;
	}
	(void)close(fd);
	*got = path;
	path = NULL;
	e = ERR_OK;
out:
	free(abs);
	free(dir);
	free(path);
	return e;
}


/*
 * Orders a certificate for the CSR and saves it: claims the three paths
 * first (so a clash costs no issuance), then fills each atomically.  The
 * report names the files.
 */
static enum err
csr_obtain(const struct config *cfg, struct session *ss, struct solver *s,
    struct csr *c, json_t *messages)
{
	struct order_req	 req = { 0 };
	struct crypto_cert_info	 info = { 0 };
	const char		*data[CSR__FILES];
	char			*pem = NULL, *leaf = NULL, *issuers = NULL;
	char			 date[32];
	struct tm		 tm;
	enum err		 e;
	size_t			 i;

	if (!cfg->dry_run && ((e = claim("cert-path", cfg->cert_path,
	    "cert.pem", &c->path[CSR_CERT])) != ERR_OK ||
	    (e = claim("chain-path", cfg->chain_path, "chain.pem",
	    &c->path[CSR_CHAIN])) != ERR_OK ||
	    (e = claim("fullchain-path", cfg->fullchain_path, "chain.pem",
	    &c->path[CSR_FULLCHAIN])) != ERR_OK))
		goto out;
	req.names = c->names;
	req.n_names = c->n;
	req.prefs = cfg->prefs;
	req.n_prefs = cfg->n_prefs;
	req.csr_der = c->der;
	req.dns_wait_s = cfg->dns_wait_s;
	req.dns_resolver = cfg->dns_resolver;
	req.work_dir = ss->store.work_dir;
	req.deactivate_authz = cfg->deactivate_authz;
	req.preferred_chain = cfg->preferred_chain;
	req.csr_len = c->len;
	if ((e = order_obtain(ss->acme, s, &req, &pem)) != ERR_OK)
		goto out;
	e = ERR_ACME;
	if (crypto_chain_split(pem, strlen(pem), &leaf, &issuers) == -1 ||
	    crypto_cert_info(leaf, strlen(leaf), &info) == -1) {
		log_error("the CA's certificate chain for --csr %s does not "
		    "parse", cfg->csr);
		goto out;
	}
	if (cfg->dry_run) {
		log_info("dry run: certificate for --csr %s obtained, not "
		    "saved", cfg->csr);
		cmd_report_add(messages, 1, "The dry run was successful.");
		e = ERR_OK;
		goto out;
	}
	data[CSR_CERT] = leaf;
	data[CSR_CHAIN] = issuers;
	data[CSR_FULLCHAIN] = pem;
	for (i = 0; i < CSR__FILES; i++)
		if ((e = store_write_atomic(c->path[i], data[i],
		    strlen(data[i]), 0644)) != ERR_OK)
			goto out;
	c->written = true;
	gmtime_r(&info.not_after, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	if ((e = cmd_report(messages, 1, "Successfully received certificate. "
	    "Certificate is saved at: %s Intermediate CA chain is saved at: %s "
	    "Full certificate chain is saved at: %s This certificate expires "
	    "on %s.", c->path[CSR_CERT], c->path[CSR_CHAIN],
	    c->path[CSR_FULLCHAIN], date)) != ERR_OK)
		goto out;
	e = ERR_OK;
out:
	crypto_cert_info_free(&info);
	free(pem);
	free(leaf);
	free(issuers);
	return e;
}

/* certonly --csr: certbot's flow, with our solver and report. */
enum err
cmd_certonly_csr(const struct config *cfg)
{
	struct session	 ss;
	struct solver	*s = NULL;
	struct csr	 c;
	json_t		*messages = json_array();
	enum err	 e;

	memset(&ss, 0, sizeof ss);
	if ((e = csr_load(cfg, &c)) != ERR_OK)
		goto out;
	if (!cmd_wildcard_ok(cfg, c.names, c.n) || !cmd_ip_ok(cfg, c.names, c.n)) {
		e = ERR_USAGE;
		goto out;
	}
	if (cfg->deploy_hook != NULL)
		log_warn("--deploy-hook does not run with --csr: there is no "
		    "lineage (as in certbot)");
	if ((e = cmd_start(cfg, &s, &ss)) != ERR_OK)
		goto out;
	if (cfg->pre_hook != NULL && (e = cmd_run_hook("pre hook",
	    cfg->pre_hook, NULL, cfg->handler_timeout_s)) != ERR_OK)
		goto out;
	e = csr_obtain(cfg, &ss, s, &c, messages);
	if (cfg->post_hook != NULL && cmd_run_hook("post hook", cfg->post_hook,
	    NULL, cfg->handler_timeout_s) != ERR_OK && e == ERR_OK)
		e = ERR_INVOKER;
out:
	/* Without a solver (usage errors) this only frees messages. */
	cmd_finish(s, e, messages);
	session_close(&ss);
	csr_clear(&c);
	return e;
}

