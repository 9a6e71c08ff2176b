/*
 * ari.c: ACME Renewal Information, RFC 9773 (see ari.h): the CertID, the
 * renewalInfo request, the random moment in the CA's window.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ari.h"
#include "b64.h"
#include "log.h"

#define ARI_EXPLANATION_MAX	2048	/* a URL, capped before it is kept */

/* Caller frees: "AKI.SERIAL" as RFC 9773 §4.1 spells it. */
char *
ari_cert_id(const char *pem, size_t len)
{
	BIO			*bio = NULL;
	X509			*x = NULL;
	const ASN1_OCTET_STRING	*kid;
	unsigned char		*der = NULL;
	char			*a = NULL, *s = NULL, *id = NULL;
	int			 n;

	if (len > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) ==
	    NULL || (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((kid = X509_get0_authority_key_id(x)) == NULL ||
	    ASN1_STRING_length(kid) <= 0) {
		log_debug("the certificate has no authority key identifier: "
		    "no ARI");
		goto out;
	}
	/* The serial's DER is 02 LEN CONTENT; a serial is at most 20
	 * octets (RFC 5280 §4.1.2.2), so LEN is one octet. */
	if ((n = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der)) < 3 ||
	    der[1] != n - 2)
		goto out;
	if ((a = b64u_encode(ASN1_STRING_get0_data(kid),
	    (size_t)ASN1_STRING_length(kid))) == NULL ||
	    (s = b64u_encode(der + 2, (size_t)n - 2)) == NULL ||
	    asprintf(&id, "%s.%s", a, s) == -1)
		id = NULL;
out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	free(a);
	free(s);
	return id;
}

long
ari_retry_after(long seconds)
{
	if (seconds < 0)
		return ARI_RETRY_DEFAULT;
	if (seconds < ARI_RETRY_MIN)
		return ARI_RETRY_MIN;
	return seconds > ARI_RETRY_MAX ? ARI_RETRY_MAX : seconds;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
bool
ari_parse_time(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*p;
	int		 oh, om;
	long		 off = 0;

	if (s == NULL)
		return false;
	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return false;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		off = 0;
	else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh,
	    &om) == 2 && strlen(p) == 6 && oh < 24 && om < 60)
		off = (*p == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
	else
		return false;
	*out = timegm(&tm) - off;
	return *out != (time_t)-1;
}

bool
ari_parse(const json_t *obj, time_t *start, time_t *end,
    const char **explanation)
{
	const json_t	*w = json_object_get(obj, "suggestedWindow");
	const char	*ex;

	if (!ari_parse_time(json_string_value(json_object_get(w, "start")),
	    start) || !ari_parse_time(json_string_value(json_object_get(w,
	    "end")), end) || *end <= *start)
		return false;
	ex = json_string_value(json_object_get(obj, "explanationURL"));
	/* Only a URL of sane size and characters reaches the conf and the
	 * log. */
	*explanation = ex != NULL && strlen(ex) < ARI_EXPLANATION_MAX &&
	    strncmp(ex, "http", 4) == 0 && strcspn(ex, " \t\r\n\"'\\") ==
	    strlen(ex) ? ex : NULL;
	return true;
}

time_t
ari_choose(time_t start, time_t end)
{
	uint64_t	r = 0;
	uint64_t	span = (uint64_t)(end - start) + 1;

	if (end <= start)
		return start;
	if (getentropy(&r, sizeof r) == -1)
		r = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	return start + (time_t)(r % span);
}

bool
ari_due(const struct lineage_params *p, time_t now)
{
	return p->ari_at > 0 && now >= (time_t)p->ari_at;
}

enum err
ari_refresh(struct acme *a, struct lineage_params *p, const char *pem,
    size_t len, time_t now, bool *asked)
{
	const char	*base = acme_url(a, ACME_URL_RENEWAL_INFO), *ex;
	json_t		*obj = NULL;
	char		*id = NULL, *url = NULL, *exdup = NULL;
	time_t		 start, end;
	long		 ra = -1;
	enum err	 e = ERR_OK;

	*asked = false;
	if (base == NULL || (p->ari_next > 0 && now < (time_t)p->ari_next))
		goto out;
	if ((id = ari_cert_id(pem, len)) == NULL)
		goto out;
	e = ERR_INTERNAL;
	if (asprintf(&url, "%s%s%s", base, base[strlen(base) - 1] == '/' ?
	    "" : "/", id) == -1) {
		url = NULL;
		goto out;
	}
	if ((e = acme_get_plain_json(a, "renewalInfo", url, &obj, &ra)) !=
	    ERR_OK)
		goto out;
	e = ERR_ACME;
	if (!ari_parse(obj, &start, &end, &ex)) {
		log_error("renewalInfo %s: no usable suggestedWindow", url);
		goto out;
	}
	e = ERR_INTERNAL;
	if (ex != NULL && (exdup = strdup(ex)) == NULL)
		goto out;
	/* A new window gets a new moment; the same one keeps its moment,
	 * so repeated queries do not re-roll the dice. */
	if ((long)start != p->ari_start || (long)end != p->ari_end ||
	    p->ari_at == 0)
		p->ari_at = (long)ari_choose(start, end);
	p->ari_start = (long)start;
	p->ari_end = (long)end;
	free(p->ari_explanation);
	p->ari_explanation = exdup;
	exdup = NULL;
	p->ari_next = (long)now + ari_retry_after(ra);
	*asked = true;
	e = ERR_OK;
out:
	json_decref(obj);
	free(id);
	free(url);
	free(exdup);
	return e;
}
