/*
 * jws.h: JSON Web Keys and flattened JWS (RFC 7515, 7517, 7518, 7638) as
 * ACME needs them: ES256/ES384 for EC keys, RS256 for RSA keys.
 */
#ifndef EXTAUTH_JWS_H
#define EXTAUTH_JWS_H

#include <jansson.h>
#include <openssl/evp.h>

/* Public JWK of key, members in RFC 7638 lexicographic order; new ref. */
json_t	*jws_jwk(EVP_PKEY *);
/* Private JWK (adds d, and p q dp dq qi for RSA): certbot's private_key.json. */
json_t	*jws_jwk_private(EVP_PKEY *);
/* Key from a private JWK (RSA or EC P-256/P-384); caller frees.  NULL logged. */
EVP_PKEY *jws_key_from_jwk(json_t *);
/* RFC 7638 thumbprint, base64url of SHA-256; caller frees. */
char	*jws_thumbprint(EVP_PKEY *);
/* "ES256", "ES384" or "RS256". */
const char *jws_alg(EVP_PKEY *);
/*
 * Flattened JWS JSON serialization as a new string (caller frees):
 * protected = {alg, (kid | jwk), nonce, url}; kid NULL means embed jwk.
 * payload NULL means POST-as-GET (empty payload "").  nonce may be NULL
 * (only for the inner JWS of keyChange / EAB).
 */
char	*jws_sign(EVP_PKEY *, const char *kid, const char *nonce,
	    const char *url, const char *payload);
/* External account binding object (RFC 8555 §7.3.4): HS256 over the
 * account's public JWK, kid = eab_kid, key = b64url-decoded hmac key.
 * New ref; NULL (logged) on a bad key. */
json_t	*jws_eab(EVP_PKEY *account, const char *eab_kid,
	    const char *eab_hmac_b64u, const char *url);

#endif
