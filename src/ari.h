/*
 * ari.h: ACME Renewal Information (RFC 9773): a certificate's CertID, the
 * CA's suggested renewal window, the moment chosen inside it, and whether
 * that moment has come.  The state lives in the lineage's renewal conf
 * (lineage_params' ari_ fields, renewal.c's rows); this file decides and
 * fetches, it writes nothing.
 */
#ifndef EXTAUTH_ARI_H
#define EXTAUTH_ARI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "acme.h"
#include "err.h"
#include "lineage.h"

#define ARI_RETRY_DEFAULT	21600L	/* 6 h without a Retry-After */
#define ARI_RETRY_MIN		60L
#define ARI_RETRY_MAX		86400L

/* The CertID of the PEM certificate: base64url(AKI keyIdentifier) "."
 * base64url(serial's DER content octets); new string the caller frees,
 * NULL (logged at debug level) when it has no AKI key id or is no
 * certificate. */
char		*ari_cert_id(const char *pem, size_t len);
/* The Retry-After to honour: the CA's seconds (-1: none given) clamped
 * to ARI_RETRY_MIN..ARI_RETRY_MAX, ARI_RETRY_DEFAULT when none. */
long		 ari_retry_after(long seconds);
/*
 * The suggestedWindow of a renewalInfo answer: *start < *end, both from
 * RFC 3339 times; *explanation borrowed from obj or NULL.  False when the
 * answer has no usable window.
 */
bool		 ari_parse(const json_t *obj, time_t *start, time_t *end,
		    const char **explanation);
/* An RFC 3339 time ("2026-11-28T18:00:00Z", fractions and offsets too)
 * as epoch seconds; false when s is NULL or not one.  Also the pending
 * order's expiry (pending.c). */
bool		 ari_parse_time(const char *s, time_t *out);
/* A uniformly random moment in [start, end]. */
time_t		 ari_choose(time_t start, time_t end);
/*
 * Asks the CA (its renewalInfo URL) about the certificate pem of p when
 * p's recorded answer is stale (now >= p->ari_next, or none yet), and sets
 * p's ari_ fields from the answer: window, chosen moment, explanationURL,
 * next query.  *asked tells whether p changed (then the caller records
 * it).  ERR_OK without asking when the CA offers no renewalInfo; a failed
 * query is ERR_ACME, logged, and leaves p as it was.
 */
enum err	 ari_refresh(struct acme *, struct lineage_params *p,
		    const char *pem, size_t len, time_t now, bool *asked);
/* Whether p's recorded ARI moment has come (false when none). */
bool		 ari_due(const struct lineage_params *p, time_t now);

#endif
