/*
 * crypto.h: keys, CSRs and certificates.  crypto.c and jws.c are the only
 * files that see OpenSSL, and they use the EVP API only (OpenSSL 3, nothing
 * deprecated).
 */
#ifndef EXTAUTH_CRYPTO_H
#define EXTAUTH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

enum crypto_key_type {
	CRYPTO_KEY_ECDSA,
	CRYPTO_KEY_RSA,
	CRYPTO_KEY__COUNT
};

struct crypto_key_spec {
	enum crypto_key_type	 type;
	int			 rsa_bits;	/* 2048, 3072, 4096 */
	const char		*curve;		/* "secp256r1" (P-256) or "secp384r1" */
};

/* New private key; caller frees with EVP_PKEY_free.  NULL on failure (logged). */
EVP_PKEY	*crypto_key_generate(const struct crypto_key_spec *);
/* PEM (PKCS#8, unencrypted) of the private key; caller frees. */
char		*crypto_key_to_pem(EVP_PKEY *);
/* Parses a PEM private key (PKCS#8, traditional RSA or EC); caller frees. */
EVP_PKEY	*crypto_key_from_pem(const char *pem, size_t len);
/* "rsa" or "ecdsa", and bits / curve name ("secp256r1") of a key. */
const char	*crypto_key_type_name(EVP_PKEY *);
/* Bits of the key (2048.. for RSA, 256/384 for EC); 0 if unknown. */
int		 crypto_key_bits(EVP_PKEY *);
/* "secp256r1" or "secp384r1" for EC keys; NULL otherwise.  Static string. */
const char	*crypto_key_curve(EVP_PKEY *);

/* DER CSR for names[0..n) (all in SAN, as iPAddress for those that parse
 * as addresses; names[0] also CN when <= 64 chars and not an address),
 * signed with key (SHA-256).  Returns new buffer, *len set; caller frees. */
unsigned char	*crypto_csr_der(EVP_PKEY *key, char *const *names, size_t n,
		    size_t *len);
/* Reads the names (CN and dNSName SANs, deduplicated, in SAN order) out of
 * a PEM or DER CSR; for --csr.  CN comes first (certbot's order); iPAddress
 * SANs are returned as text too, so crypto_csr_der's output round-trips.
 * der/derlen may be NULL; else *der is the CSR as DER (caller frees).  Returns 0 and fills *names (array and strings
 * caller-freed with crypto_names_free), or -1 (logged). */
int		 crypto_csr_names(const unsigned char *, size_t, char ***names,
		    size_t *n, unsigned char **der, size_t *derlen);
void		 crypto_names_free(char **, size_t);
/* PEM of a DER CSR; new string the caller frees, NULL (logged). */
char		*crypto_csr_pem(const unsigned char *der, size_t len);

struct crypto_cert_info {
	time_t	 not_before;
	time_t	 not_after;
	char	**names;	/* dNSName and iPAddress (as text) SANs, in
				 * certificate order */
	size_t	 n_names;
	char	*serial_hex;	/* lower-case hex */
	char	*issuer_cn;	/* may be NULL */
	char	*ari_id;	/* RFC 9773 CertID: b64u(AKI keyid).b64u(serial DER); NULL if no AKI */
};
/* Parses the first certificate of a PEM blob.  0 or -1 (logged). */
int		 crypto_cert_info(const char *pem, size_t len,
		    struct crypto_cert_info *);
void		 crypto_cert_info_free(struct crypto_cert_info *);
/* Splits a PEM chain into the leaf and the rest (the issuers, in order).
 * Both new strings, caller frees.  -1 if no certificate found. */
int		 crypto_chain_split(const char *pem, size_t len, char **leaf,
		    char **issuers);
/* NULL if pem is a whole chain crypto_chain_split takes, else the reason
 * (a static string); logs nothing. */
const char	*crypto_chain_check(const char *pem, size_t len);
/* crypto_chain_check that also sets *cn to the issuer CN of the chain's
 * topmost certificate (the root it leads to: certbot's --preferred-chain
 * match), a new string the caller frees, NULL when it has no CN.  On
 * failure *cn is NULL. */
const char	*crypto_chain_top_issuer(const char *pem, size_t len,
		    char **cn);
/* DER of the first certificate in a PEM blob (for revokeCert); caller frees. */
unsigned char	*crypto_cert_der(const char *pem, size_t len, size_t *derlen);
/* True if the leaf's public key matches key. */
bool		 crypto_cert_matches_key(const char *pem, size_t len, EVP_PKEY *);

/*
 * The tls-alpn-01 validation certificate (RFC 8737 §3) for name: a fresh
 * P-256 key, self-signed, valid from an hour ago for a week, SAN name
 * (iPAddress if it is an address, else dNSName) and the critical
 * id-pe-acmeIdentifier extension holding digest (SHA-256 of the key
 * authorization).  *cert_pem and *key_pem are new strings the caller
 * frees.  0, or -1 (logged, naming name) with both NULL.
 */
int		 crypto_alpn_cert(const char *name,
		    const unsigned char digest[32], char **cert_pem,
		    char **key_pem);

/* SHA-256 of data into out[32]. 0 or -1. */
int		 crypto_sha256(const void *, size_t, unsigned char out[32]);
/* HMAC with SHA-256/384/512 ("HS256".."HS512"); out must hold 64 bytes. */
int		 crypto_hmac(const char *alg, const unsigned char *key,
		    size_t keylen, const void *, size_t, unsigned char *out,
		    size_t *outlen);
/* Hex MD5 of the SubjectPublicKeyInfo PEM: certbot's account id. Caller frees. */
char		*crypto_certbot_account_id(EVP_PKEY *);

/* Reason of the newest OpenSSL error (static string, never NULL); empties
 * OpenSSL's error queue so the next failure reports its own reason. */
const char	*crypto_ossl_error(void);

#endif
