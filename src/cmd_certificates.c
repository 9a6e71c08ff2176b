/*
 * cmd_certificates.c: the certificates verb.  Lists the lineages of the
 * renewal confs with what their live certificate says, in certbot's text
 * format or (--json) as one JSON document on stdout.  Read-only: it takes
 * no lock and creates nothing, as certbot does; a missing config dir is an
 * empty list, and a lineage that cannot be read is shown as invalid with
 * the reason, without failing the command.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ari.h"
#include "clock.h"
#include "cmd.h"
#include "crypto.h"
#include "lineage.h"
#include "log.h"
#include "renewal.h"
#include "conf.h"
#include "store.h"

enum cert_status {
	CERT_VALID,
	CERT_EXPIRED,
	CERT_INVALID,		/* conf or certificate unreadable */
	CERT__COUNT
};

static const char *const cert_status_names[] = {
	[CERT_VALID] = "valid",
	[CERT_EXPIRED] = "expired",
	[CERT_INVALID] = "invalid",
};
_Static_assert(sizeof(cert_status_names) / sizeof(cert_status_names[0]) ==
    CERT__COUNT, "cert_status_names must name every status");

/* What is known about one lineage. */
struct cert_row {
	const char		*name;
	char			*conf_path;
	bool			 conf_ok;
	struct conf	 conf;
	struct store_paths	 live;
	bool			 info_ok;
	struct crypto_cert_info	 info;
	const char		*key_type;	/* "ECDSA", "RSA" or NULL */
	enum cert_status	 status;
	char			*why;		/* reason when invalid */
	/* From the renewal conf (renewal.c): renew's view of it. */
	bool			 due;		/* renew would renew it now */
	bool			 overdue;	/* half its renewal window gone */
	long			 failures;	/* failed renewals in a row */
	time_t			 retry_after;	/* backoff until, 0: none */
};

static void
row_clear(struct cert_row *r)
{
	free(r->conf_path);
	conf_clear(&r->conf);
	store_lineage_paths_clear(&r->live);
	crypto_cert_info_free(&r->info);
	free(r->why);
	memset(r, 0, sizeof *r);
}

/* certbot's name for the key type, read from the private key. */
static const char *
key_type_of(const char *path)
{
	EVP_PKEY	*k = NULL;
	const char	*t = NULL;
	char		*pem = NULL;
	size_t		 len;

	if (store_read_owned(path, &pem, &len, true) != ERR_OK || pem == NULL)
		goto out;
	if ((k = crypto_key_from_pem(pem, len)) == NULL)
		goto out;
	if (strcmp(crypto_key_type_name(k), "rsa") == 0)
		t = "RSA";
	else if (strcmp(crypto_key_type_name(k), "ecdsa") == 0)
		t = "ECDSA";
out:
	EVP_PKEY_free(k);
	if (pem != NULL)
		explicit_bzero(pem, len);
	free(pem);
	return t;
}

/*
 * renew's view of r: due by the lifetime rule or the CA's ARI moment,
 * overdue when half of the lifetime rule's window has passed too (a timer
 * that should have renewed it did not), failing when a backoff is
 * recorded.  A conf the reader refuses leaves them unset: renew would
 * refuse it too, and says why.
 */
static void
row_renewal(struct cert_row *r, time_t now)
{
	struct lineage_params	 p;
	char			 why[160];
	long			 before;
	time_t			 at;

	lineage_params_defaults(&p);
	if (renewal_read(&r->conf, &p, why, sizeof why)) {
		before = lineage_parse_interval(p.renew_before);
		at = lineage_due_at(r->info.not_before, r->info.not_after,
		    before);
		r->due = now >= at || ari_due(&p, now);
		r->overdue = now >= at + (r->info.not_after - at) / 2;
		r->failures = p.retry_count;
		r->retry_after = (time_t)p.retry_after;
	}
	lineage_params_clear(&p);
}

/* Fills r for lineage name; failures only make the row invalid. */
static enum err
row_load(const struct store *st, const char *name, time_t now,
    struct cert_row *r)
{
	struct store_lineage	*ln;
	const char		*why;
	char			*pem = NULL;
	size_t			 len;

	memset(r, 0, sizeof *r);
	r->name = name;
	r->status = CERT_INVALID;
	if ((ln = store_lineage_open(st, name, &why)) == NULL)
		return ERR_INTERNAL;
	r->conf_path = store_lineage_conf_path(ln);
	store_lineage_paths(ln, &r->live);
	store_lineage_close(ln);
	if (r->conf_path == NULL || r->live.cert == NULL)
		return ERR_INTERNAL;
	if (conf_read(r->conf_path, &r->conf) != ERR_OK) {
		r->why = strdup(log_last_error());
		return ERR_OK;
	}
	r->conf_ok = true;
	if (store_read_owned(r->live.cert, &pem, &len, false) != ERR_OK) {
		r->why = strdup(log_last_error());
		goto out;
	}
	if (crypto_cert_info(pem, len, &r->info) == -1) {
		if (asprintf(&r->why, "%s is not a certificate", r->live.cert)
		    == -1)
			r->why = NULL;
		goto out;
	}
	r->info_ok = true;
	r->status = now >= r->info.not_after ? CERT_EXPIRED : CERT_VALID;
	r->key_type = key_type_of(r->live.privkey);
	row_renewal(r, now);
out:
	free(pem);
	return ERR_OK;
}

/* Whether every -d name is on the certificate (certbot's filter). */
static bool
row_matches(const struct config *cfg, const struct cert_row *r)
{
	size_t	i, j;

	for (i = 0; i < cfg->n_domains; i++) {
		for (j = 0; r->info_ok && j < r->info.n_names; j++)
			if (strcmp(cfg->domains[i], r->info.names[j]) == 0)
				break;
		if (!r->info_ok || j == r->info.n_names)
			return false;
	}
	return true;
}

/* "json", "handler", ... as renew would run it; NULL if unknown. */
static const char *
row_mode(const struct cert_row *r)
{
	const char	*auth, *v;

	auth = conf_get(&r->conf, "renewalparams", "authenticator");
	if (renewal_is_own(&r->conf)) {
		v = conf_get(&r->conf, "renewalparams", "extauth_mode");
		return v != NULL ? v : "json";
	}
	if (auth != NULL && (strcmp(auth, "certbot-external-auth:out") == 0 ||
	    strcmp(auth, "out") == 0))
		return "json";	/* the plugin's handler options: see renew */
	return NULL;
}

static void
rfc3339(time_t t, char *buf, size_t size)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Whole days left, 0 once expired. */
static long
row_days(const struct cert_row *r, time_t now)
{
	return r->status == CERT_VALID ? (long)((r->info.not_after - now) /
	    86400) : 0;
}

/* One lineage's JSON object; new reference, NULL on ENOMEM. */
static json_t *
row_json(const struct cert_row *r, time_t now)
{
	json_t	*o, *domains;
	char	 nb[32], na[32];
	size_t	 i;

	if ((o = json_object()) == NULL || (domains = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; r->info_ok && i < r->info.n_names; i++)
		json_array_append_new(domains, json_string(r->info.names[i]));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "domains", domains);
	if (r->info_ok) {
		rfc3339(r->info.not_before, nb, sizeof nb);
		rfc3339(r->info.not_after, na, sizeof na);
		json_object_set_new(o, "not_before", json_string(nb));
		json_object_set_new(o, "not_after", json_string(na));
		json_object_set_new(o, "valid_days",
		    json_integer(row_days(r, now)));
		json_object_set_new(o, "serial", json_string(r->info.serial_hex));
	} else {
		json_object_set_new(o, "not_before", json_null());
		json_object_set_new(o, "not_after", json_null());
		json_object_set_new(o, "valid_days", json_null());
		json_object_set_new(o, "serial", json_null());
	}
	json_object_set_new(o, "status",
	    json_string(cert_status_names[r->status]));
	json_object_set_new(o, "due", json_boolean(r->info_ok && r->due));
	json_object_set_new(o, "failed_renewals", json_integer(r->failures));
	json_object_set_new(o, "error", r->why ? json_string(r->why) :
	    json_null());
	json_object_set_new(o, "key_type", r->key_type ?
	    json_string(r->key_type) : json_null());
	json_object_set_new(o, "cert_path", json_string(r->live.cert));
	json_object_set_new(o, "key_path", json_string(r->live.privkey));
	json_object_set_new(o, "fullchain_path",
	    json_string(r->live.fullchain));
	json_object_set_new(o, "chain_path", json_string(r->live.chain));
	json_object_set_new(o, "server", r->conf_ok && conf_get(&r->conf,
	    "renewalparams", "server") ? json_string(conf_get(&r->conf,
	    "renewalparams", "server")) : json_null());
	json_object_set_new(o, "mode", r->conf_ok && row_mode(r) ?
	    json_string(row_mode(r)) : json_null());
	return o;
}

/* certbot's human_readable_cert_info. */
static void
row_text(const struct cert_row *r, time_t now)
{
	struct tm	tm;
	char		date[40];
	long		left;
	size_t		i;

	printf("  Certificate Name: %s\n", r->name);
	if (r->info_ok)
		printf("    Serial Number: %s\n", r->info.serial_hex);
	if (r->key_type != NULL)
		printf("    Key Type: %s\n", r->key_type);
	printf("    Domains:");
	for (i = 0; r->info_ok && i < r->info.n_names; i++)
		printf(" %s", r->info.names[i]);
	printf("\n");
	if (r->info_ok) {
		gmtime_r(&r->info.not_after, &tm);
		strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S+00:00", &tm);
	} else
		snprintf(date, sizeof date, "unknown");
	left = (long)(r->info_ok ? r->info.not_after - now : 0);
	if (r->status == CERT_INVALID)
		printf("    Expiry Date: %s (INVALID: %s)\n", date,
		    r->why ? r->why : "unreadable");
	else if (r->status == CERT_EXPIRED)
		printf("    Expiry Date: %s (INVALID: EXPIRED)\n", date);
	else if (left / 86400 == 1)
		printf("    Expiry Date: %s (VALID: 1 day)\n", date);
	else if (left / 86400 < 1)
		printf("    Expiry Date: %s (VALID: %ld hour(s))\n", date,
		    left / 3600);
	else
		printf("    Expiry Date: %s (VALID: %ld days)\n", date,
		    left / 86400);
	if (r->info_ok && r->status == CERT_VALID && r->due)
		printf("    Renewal: DUE%s\n", r->overdue ? " (overdue: the "
		    "renewal timer has not renewed it)" : "");
	if (r->failures > 0)
		printf("    Renewal: FAILING (%ld failed renewal%s in a row)\n",
		    r->failures, r->failures == 1 ? "" : "s");
	printf("    Certificate Path: %s\n", r->live.fullchain);
	printf("    Private Key Path: %s\n", r->live.privkey);
}

/*
 * Prints the listing; rows[i] with shown[i] false are filtered out.  With
 * --json nothing is printed: *doc gets {"certificates": [...]} (new, the
 * caller's) for cmd_result's line.
 */
static enum err
print_rows(const struct config *cfg, struct cert_row *rows, const bool *shown,
    size_t n, time_t now, json_t **doc)
{
	json_t	*arr;
	size_t	 i, n_shown = 0, n_bad = 0;
	bool	 first = true;
	enum err e = ERR_INTERNAL;

	if (cfg->json_output) {
		if ((arr = json_array()) == NULL ||
		    (*doc = json_pack("{s:o}", "certificates", arr)) == NULL)
			goto out;
		for (i = 0; i < n; i++)
			if (shown[i] && json_array_append_new(arr,
			    row_json(&rows[i], now)) == -1)
				goto out;
		e = ERR_OK;
		goto out;
	}
	for (i = 0; i < n; i++) {
		n_shown += shown[i] && rows[i].conf_ok;
		n_bad += shown[i] && !rows[i].conf_ok;
	}
	if (n_shown == 0 && n_bad == 0)
		printf("No certificates found.\n");
	if (n_shown > 0)
		printf("Found the following %scerts:\n", cfg->cert_name ||
		    cfg->n_domains ? "matching " : "");
	for (i = 0; i < n; i++) {
		if (!shown[i] || !rows[i].conf_ok)
			continue;
		if (!first)
			printf("\n");
		first = false;
		row_text(&rows[i], now);
	}
	if (n_bad > 0) {
		printf("%sThe following renewal configurations were invalid:\n",
		    n_shown > 0 ? "\n" : "");
		for (i = 0; i < n; i++)
			if (shown[i] && !rows[i].conf_ok)
				printf("  %s\n", rows[i].conf_path);
	}
	e = ERR_OK;
out:
	if (e == ERR_INTERNAL)
		log_error("certificates: out of memory");
	return e;
}

/*
 * --check: one line, "EXTAUTH CERTIFICATES STATUS - what", the worst
 * lineage first; the Nagios status in *check.
 */
static enum err
print_check(const struct config *cfg, const struct cert_row *rows,
    const bool *shown, size_t n, time_t now, int *check)
{
	static const char *const words[] = { "OK", "WARNING", "CRITICAL" };
	const struct cert_row	*worst = NULL, *nearest = NULL;
	size_t			 i, n_shown = 0, n_bad = 0;
	int			 st, w = 0;
	long			 days;

	for (i = 0; i < n; i++) {
		if (!shown[i])
			continue;
		n_shown++;
		days = rows[i].info_ok ? (long)((rows[i].info.not_after - now) /
		    86400) : 0;
		if (rows[i].status != CERT_VALID)
			st = 2;
		else if (rows[i].failures > 0 || (cfg->warn_days > 0 ? days <
		    cfg->warn_days : rows[i].overdue))
			st = 1;
		else
			st = 0;
		n_bad += st > 0;
		if (worst == NULL || st > w) {
			worst = &rows[i];
			w = st;
		}
		if (rows[i].info_ok && (nearest == NULL ||
		    rows[i].info.not_after < nearest->info.not_after))
			nearest = &rows[i];
	}
	*check = w;
	if (n_shown == 0)
		printf("EXTAUTH CERTIFICATES OK - no certificates\n");
	else if (w == 0)
		printf("EXTAUTH CERTIFICATES OK - %zu certificate%s, the nearest "
		    "expiry in %ld days (%s)\n", n_shown, n_shown == 1 ? "" :
		    "s", (long)((nearest->info.not_after - now) / 86400),
		    nearest->name);
	else if (worst->status != CERT_VALID)
		printf("EXTAUTH CERTIFICATES %s - %zu of %zu need attention; %s: "
		    "%s\n", words[w], n_bad, n_shown, worst->name,
		    worst->status == CERT_EXPIRED ? "expired" : "unreadable");
	else
		printf("EXTAUTH CERTIFICATES %s - %zu of %zu need attention; %s: "
		    "%ld days left%s\n", words[w], n_bad, n_shown, worst->name,
		    (long)((worst->info.not_after - now) / 86400),
		    worst->failures > 0 ? ", failing to renew" : "");
	return ERR_OK;
}

enum err
cmd_certificates(const struct config *cfg, int *check)
{
	struct store	  st;
	struct cert_row	 *rows = NULL;
	bool		 *shown = NULL;
	char		**names = NULL;
	json_t		 *doc = NULL;
	size_t		  n = 0, i;
	time_t		  now = clock_now();
	enum err	  e = ERR_INTERNAL;

	*check = 3;

	/* No store_open: it would create the directories. */
	memset(&st, 0, sizeof st);
	st.lock_fd = -1;
	if ((st.config_dir = strdup(cfg->config_dir)) == NULL)
		goto out;
	if (cfg->cert_name != NULL && !cmd_cert_name_ok(cfg->cert_name,
	    NULL)) {
		e = ERR_USAGE;
		goto out;
	}
	if (cfg->cert_name != NULL) {
		if ((names = calloc(1, sizeof *names)) == NULL ||
		    (names[0] = strdup(cfg->cert_name)) == NULL)
			goto out;
		n = 1;
	} else if ((e = store_lineage_list(&st, &names, &n)) != ERR_OK)
		goto out;
	e = ERR_INTERNAL;
	if (n > 0 && ((rows = calloc(n, sizeof *rows)) == NULL ||
	    (shown = calloc(n, sizeof *shown)) == NULL))
		goto out;
	for (i = 0; i < n; i++) {
		if ((e = row_load(&st, names[i], now, &rows[i])) != ERR_OK) {
			if (cfg->cert_name != NULL) {
				log_error("\"%s\" is not a valid certificate "
				    "name", cfg->cert_name);
				e = ERR_USAGE;
			}
			goto out;
		}
		/* certbot shows nothing for a --cert-name without a conf. */
		shown[i] = row_matches(cfg, &rows[i]) && (rows[i].conf_ok ||
		    access(rows[i].conf_path, F_OK) == 0);
	}
	if ((e = cfg->check ? print_check(cfg, rows, shown, n, now, check) :
	    print_rows(cfg, rows, shown, n, now, &doc)) != ERR_OK)
		goto out;
	if (!cfg->json_output && (fflush(stdout) == EOF || ferror(stdout))) {
		log_error("certificates: cannot write to stdout");
		e = ERR_INTERNAL;
	}
out:
	/* --json (not with --check, whose line is the plugin's): one line,
	 * the listing or what failed. */
	if (!cfg->check)
		e = cmd_result(cfg, e, doc);
	else
		json_decref(doc);
	for (i = 0; i < n; i++) {
		if (rows != NULL)
			row_clear(&rows[i]);
		free(names[i]);
	}
	free(names);
	free(rows);
	free(shown);
	free(st.config_dir);
	return e;
}
