/*
 * crypto.c: private keys, CSRs and certificates, through OpenSSL 3's EVP
 * API only.  Owns every conversion between OpenSSL objects and the PEM/DER
 * bytes the store and the CA exchange; nothing outside this file and jws.c
 * includes an OpenSSL header beyond <openssl/evp.h>.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "crypto.h"
#include "log.h"

/*
 * Caps on what we accept from files and from the CA.  A PEM chain or a CSR
 * is a few kilobytes; a megabyte means something is wrong, and OpenSSL's
 * BIO lengths are int anyway.  Let's Encrypt allows 100 names per order;
 * the name cap leaves room for other CAs.
 */
#define CRYPTO_INPUT_MAX	(1024 * 1024)
#define CRYPTO_NAMES_MAX	1000
#define CRYPTO_CHAIN_MAX	32
#define CRYPTO_CN_MAX		64	/* ub-common-name, RFC 5280 */
/* tls-alpn-01: id-pe-acmeIdentifier (RFC 8737 §3), and a validity from
 * an hour ago (the CA's clock may lag) for a week (it looks in minutes). */
#define CRYPTO_ALPN_OID		"1.3.6.1.5.5.7.1.31"
#define CRYPTO_ALPN_BEFORE	3600
#define CRYPTO_ALPN_DAYS	7

static const char *const crypto_key_names[] = {
	[CRYPTO_KEY_ECDSA] = "ecdsa",
	[CRYPTO_KEY_RSA] = "rsa",
};
_Static_assert(sizeof(crypto_key_names) / sizeof(crypto_key_names[0]) ==
    CRYPTO_KEY__COUNT, "crypto_key_names must name every key type");

/* Spellings users (and certbot's renewal confs) give for the two curves. */
static const struct {
	const char	*spelling;
	const char	*group;		/* what OpenSSL's keygen wants */
	const char	*name;		/* what we print and store */
} crypto_curves[] = {
	{ "secp256r1", "P-256", "secp256r1" },
	{ "prime256v1", "P-256", "secp256r1" },
	{ "P-256", "P-256", "secp256r1" },
	{ "secp384r1", "P-384", "secp384r1" },
	{ "P-384", "P-384", "secp384r1" },
};

const char *
crypto_ossl_error(void)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*reason = NULL;

	if (e != 0)
		reason = ERR_reason_error_string(e);
	ERR_clear_error();
	return reason != NULL ? reason : "unknown OpenSSL error";
}

/*
 * Never prompt: OpenSSL's default callback reads a passphrase from the
 * terminal, which would hang an unattended renewal on an encrypted key.
 */
static int
crypto_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* Read-only memory BIO over caller bytes; caller frees with BIO_free. */
static BIO *
crypto_mem_bio(const void *data, size_t len, const char *what)
{
	BIO	*bio = NULL;

	if (len > CRYPTO_INPUT_MAX) {
		log_error("%s: %zu bytes is over the %d-byte limit", what, len,
		    CRYPTO_INPUT_MAX);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		log_error("%s: %s", what, crypto_ossl_error());
out:
	return bio;
}

/* NUL-terminated copy of a memory BIO's contents; caller frees. */
static char *
crypto_bio_string(BIO *bio)
{
	char	*data, *s = NULL;
	long	 len;

	len = BIO_get_mem_data(bio, &data);
	if (len < 0 || (s = malloc((size_t)len + 1)) == NULL)
		goto out;
	if (len > 0)
		memcpy(s, data, (size_t)len);
	s[len] = '\0';
out:
	return s;
}

/* Lower-case hex of buf; caller frees. */
static char *
crypto_hex(const unsigned char *buf, size_t len)
{
	static const char	 digits[] = "0123456789abcdef";
	char			*s;
	size_t			 i;

	if ((s = malloc(len * 2 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[buf[i] >> 4];
		s[2 * i + 1] = digits[buf[i] & 0x0f];
	}
	s[2 * len] = '\0';
	return s;
}

/*
 * Copy of an OpenSSL-allocated DER buffer into malloc memory, so callers
 * free it with free() like everything else; frees the original.
 */
static unsigned char *
crypto_der_copy(unsigned char *der, int len, size_t *outlen)
{
	unsigned char	*copy = NULL;

	if (der == NULL || len <= 0)
		goto out;
	if ((copy = malloc((size_t)len)) == NULL)
		goto out;
	memcpy(copy, der, (size_t)len);
	*outlen = (size_t)len;
out:
	OPENSSL_free(der);
	return copy;
}

/* New private key; caller frees with EVP_PKEY_free. */
EVP_PKEY *
crypto_key_generate(const struct crypto_key_spec *spec)
{
	EVP_PKEY	*key = NULL;
	const char	*curve, *group = NULL;
	size_t		 i;

	switch (spec->type) {
	case CRYPTO_KEY_ECDSA:
		curve = spec->curve != NULL ? spec->curve : "secp256r1";
		for (i = 0; i < sizeof crypto_curves / sizeof crypto_curves[0];
		    i++)
			if (strcasecmp(curve, crypto_curves[i].spelling) == 0)
				group = crypto_curves[i].group;
		if (group == NULL) {
			log_error("elliptic curve \"%s\": not supported (use "
			    "secp256r1 or secp384r1)", curve);
			goto out;
		}
		if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group)) == NULL)
			log_error("generating %s key: %s", curve,
			    crypto_ossl_error());
		break;
	case CRYPTO_KEY_RSA:
		if (spec->rsa_bits < 2048 || spec->rsa_bits > 8192 ||
		    spec->rsa_bits % 8 != 0) {
			log_error("RSA key size %d: not supported (use 2048, "
			    "3072 or 4096)", spec->rsa_bits);
			goto out;
		}
		if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)spec->rsa_bits)) == NULL)
			log_error("generating RSA-%d key: %s", spec->rsa_bits,
			    crypto_ossl_error());
		break;
	case CRYPTO_KEY__COUNT:
	default:
		log_error("key type %d: not supported", (int)spec->type);
		break;
	}
out:
	return key;
}

/* PKCS#8 PEM of the private key; caller frees. */
char *
crypto_key_to_pem(EVP_PKEY *key)
{
	BIO	*bio = NULL;
	char	*pem = NULL;

	/* Secure heap where available: this buffer holds the private key. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
		log_error("encoding private key as PEM: %s",
		    crypto_ossl_error());
		goto out;
	}
	if ((pem = crypto_bio_string(bio)) == NULL)
		log_error("encoding private key as PEM: out of memory");
out:
	BIO_free(bio);
	return pem;
}

/* Private key from PEM; caller frees with EVP_PKEY_free. */
EVP_PKEY *
crypto_key_from_pem(const char *pem, size_t len)
{
	BIO		*bio;
	EVP_PKEY	*key = NULL;

	if ((bio = crypto_mem_bio(pem, len, "private key")) == NULL)
		goto out;
	key = PEM_read_bio_PrivateKey(bio, NULL, crypto_no_passphrase, NULL);
	if (key == NULL)
		log_error("private key: not a readable unencrypted PEM key: %s",
		    crypto_ossl_error());
out:
	BIO_free(bio);
	return key;
}

const char *
crypto_key_type_name(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		return crypto_key_names[CRYPTO_KEY_ECDSA];
	case EVP_PKEY_RSA:
		return crypto_key_names[CRYPTO_KEY_RSA];
	default:
		return "unknown";
	}
}

int
crypto_key_bits(EVP_PKEY *key)
{
	int	bits = EVP_PKEY_get_bits(key);

	return bits > 0 ? bits : 0;
}

const char *
crypto_key_curve(EVP_PKEY *key)
{
	char	group[64];
	size_t	i;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof group, NULL))
		return NULL;
	for (i = 0; i < sizeof crypto_curves / sizeof crypto_curves[0]; i++)
		if (strcasecmp(group, crypto_curves[i].spelling) == 0)
			return crypto_curves[i].name;
	return NULL;
}

/* Length of the address name parses as (4 or 16, into addr), or 0. */
static int
crypto_ip(const char *name, unsigned char addr[16])
{
	if (inet_pton(AF_INET, name, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, name, addr) == 1)
		return 16;
	return 0;
}

/* SAN entry for name: iPAddress if it parses as an address, else dNSName. */
static GENERAL_NAME *
crypto_general_name(const char *name)
{
	GENERAL_NAME		*gn = NULL, *ret = NULL;
	ASN1_OCTET_STRING	*ip = NULL;
	ASN1_IA5STRING		*dns = NULL;
	unsigned char		 addr[16];
	int			 addrlen;

	addrlen = crypto_ip(name, addr);
	if ((gn = GENERAL_NAME_new()) == NULL)
		goto out;
	if (addrlen != 0) {
		if ((ip = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(ip, addr, addrlen))
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		ip = NULL;
	} else {
		if ((dns = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(dns, name, -1))
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
		dns = NULL;
	}
	ret = gn;
	gn = NULL;
out:
	ASN1_OCTET_STRING_free(ip);
	ASN1_IA5STRING_free(dns);
	GENERAL_NAME_free(gn);
	return ret;
}

/*
 * id-pe-acmeIdentifier, critical, whose extnValue holds the DER of
 * Authorization ::= OCTET STRING (SIZE (32)) (RFC 8737 §3): an OCTET
 * STRING inside the extension's own OCTET STRING.  New extension the
 * caller frees with X509_EXTENSION_free, or NULL.
 */
static X509_EXTENSION *
crypto_alpn_ext(const unsigned char digest[32])
{
	ASN1_OBJECT		*oid = NULL;
	ASN1_OCTET_STRING	*inner = NULL, *value = NULL;
	X509_EXTENSION		*ext = NULL;
	unsigned char		*der = NULL;
	int			 derlen;

	if ((oid = OBJ_txt2obj(CRYPTO_ALPN_OID, 1)) == NULL ||
	    (inner = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(inner, digest, 32) ||
	    (derlen = i2d_ASN1_OCTET_STRING(inner, &der)) <= 0 ||
	    (value = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(value, der, derlen))
		goto out;
	ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value);
out:
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(value);
	ASN1_OCTET_STRING_free(inner);
	ASN1_OBJECT_free(oid);
	return ext;
}

/* Adds a subjectAltName extension holding name alone; 0 or -1. */
static int
crypto_add_san(X509 *x, const char *name)
{
	GENERAL_NAMES	*gens = NULL;
	GENERAL_NAME	*gn = NULL;
	X509_EXTENSION	*ext = NULL;
	int		 rc = -1;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL ||
	    (gn = crypto_general_name(name)) == NULL)
		goto out;
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto out;
	gn = NULL;	/* owned by gens */
	if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) == NULL ||
	    !X509_add_ext(x, ext, -1))
		goto out;
	rc = 0;
out:
	X509_EXTENSION_free(ext);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return rc;
}

int
crypto_alpn_cert(const char *name, const unsigned char digest[32],
    char **cert_pem, char **key_pem)
{
	const struct crypto_key_spec	 spec = { CRYPTO_KEY_ECDSA, 0,
					    "secp256r1" };
	EVP_PKEY			*key = NULL;
	X509				*x = NULL;
	X509_NAME			*subj = NULL;
	X509_EXTENSION			*ext = NULL;
	BIGNUM				*bn = NULL;
	BIO				*bio = NULL;
	unsigned char			 addr[16];
	int				 rc = -1;

	*cert_pem = *key_pem = NULL;
	if ((key = crypto_key_generate(&spec)) == NULL)
		goto out;
	/* A random positive serial, odd so never 0, up to 64 bits. */
	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    (bn = BN_new()) == NULL ||
	    !BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ODD) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    (subj = X509_NAME_new()) == NULL)
		goto out;
	/* Subject = issuer; a CN only where one fits, as in the CSR. */
	if (strlen(name) <= CRYPTO_CN_MAX && crypto_ip(name, addr) == 0 &&
	    !X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)name, -1, -1, 0))
		goto out;
	if (!X509_set_subject_name(x, subj) || !X509_set_issuer_name(x, subj) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -CRYPTO_ALPN_BEFORE) ==
	    NULL || X509_time_adj_ex(X509_getm_notAfter(x), CRYPTO_ALPN_DAYS,
	    0, NULL) == NULL || !X509_set_pubkey(x, key) ||
	    crypto_add_san(x, name) == -1 ||
	    (ext = crypto_alpn_ext(digest)) == NULL ||
	    !X509_add_ext(x, ext, -1) || X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, x) ||
	    (*cert_pem = crypto_bio_string(bio)) == NULL ||
	    (*key_pem = crypto_key_to_pem(key)) == NULL)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		log_error("tls-alpn-01 certificate for %s: %s", name,
		    crypto_ossl_error());
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
	}
	BIO_free(bio);
	BN_free(bn);
	X509_EXTENSION_free(ext);
	X509_NAME_free(subj);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* DER CSR; caller frees. */
unsigned char *
crypto_csr_der(EVP_PKEY *key, char *const *names, size_t n, size_t *len)
{
	X509_REQ			*req = NULL;
	X509_NAME			*subj = NULL;
	GENERAL_NAMES			*gens = NULL;
	GENERAL_NAME			*gn;
	X509_EXTENSION			*ext = NULL;
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	unsigned char			*der = NULL, *ret = NULL;
	unsigned char			 addr[16];
	int				 derlen;
	size_t				 i;

	if (n == 0 || n > CRYPTO_NAMES_MAX) {
		log_error("CSR: %zu names (need 1 to %d)", n, CRYPTO_NAMES_MAX);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (names[i] == NULL || names[i][0] == '\0') {
			log_error("CSR: name %zu is empty", i + 1);
			return NULL;
		}
	if ((req = X509_REQ_new()) == NULL || !X509_REQ_set_version(req, 0) ||
	    (subj = X509_NAME_new()) == NULL ||
	    (gens = sk_GENERAL_NAME_new_null()) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL)
		goto out;
	/* The CN is legacy; SAN is what the CA validates.  A long first
	 * name simply leaves the subject empty rather than failing, and so
	 * does an IP address first: a CN names a host, and uacme leaves
	 * it out of IP certificates too. */
	if (strlen(names[0]) <= CRYPTO_CN_MAX &&
	    crypto_ip(names[0], addr) == 0 &&
	    !X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)names[0], -1, -1, 0))
		goto out;
	if (!X509_REQ_set_subject_name(req, subj))
		goto out;
	for (i = 0; i < n; i++) {
		if ((gn = crypto_general_name(names[i])) == NULL)
			goto out;
		if (!sk_GENERAL_NAME_push(gens, gn)) {
			GENERAL_NAME_free(gn);
			goto out;
		}
	}
	if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) == NULL)
		goto out;
	if (!sk_X509_EXTENSION_push(exts, ext)) {
		X509_EXTENSION_free(ext);
		goto out;
	}
	if (!X509_REQ_add_extensions(req, exts) ||
	    !X509_REQ_set_pubkey(req, key) ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;
	derlen = i2d_X509_REQ(req, &der);
	ret = crypto_der_copy(der, derlen, len);
out:
	if (ret == NULL)
		log_error("CSR for %s: %s", names[0], crypto_ossl_error());
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return ret;
}

void
crypto_names_free(char **names, size_t n)
{
	size_t	i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * Appends a copy of name (len bytes, from a certificate or CSR) unless it
 * is already there, case-insensitively: DNS names are.  0 or -1 (logged).
 */
static int
crypto_names_add(char ***names, size_t *n, const char *name, size_t len,
    const char *what)
{
	char	**grown, *copy;
	size_t	  i;

	if (len == 0 || memchr(name, '\0', len) != NULL) {
		log_error("%s: empty name or name with a NUL byte", what);
		return -1;
	}
	for (i = 0; i < *n; i++)
		if (strlen((*names)[i]) == len &&
		    strncasecmp((*names)[i], name, len) == 0)
			return 0;
	if (*n >= CRYPTO_NAMES_MAX) {
		log_error("%s: more than %d names", what, CRYPTO_NAMES_MAX);
		return -1;
	}
	if ((copy = strndup(name, len)) == NULL) {
		log_error("%s: out of memory", what);
		return -1;
	}
	if ((grown = realloc(*names, (*n + 1) * sizeof *grown)) == NULL) {
		free(copy);
		log_error("%s: out of memory", what);
		return -1;
	}
	grown[(*n)++] = copy;
	*names = grown;
	return 0;
}

/*
 * Adds the names of a GENERAL_NAMES in order: dNSName, and iPAddress as
 * inet_ntop's text (canonical, as domain_normalize writes it), so a name
 * list of ours and a certificate's compare equal.  0 or -1 (logged).
 */
static int
crypto_names_add_gens(char ***names, size_t *n, const GENERAL_NAMES *gens,
    const char *what)
{
	const GENERAL_NAME	*gn;
	const unsigned char	*data;
	char			 text[INET6_ADDRSTRLEN];
	int			 i, len, af;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		gn = sk_GENERAL_NAME_value(gens, i);
		if (gn->type == GEN_DNS) {
			data = ASN1_STRING_get0_data(gn->d.dNSName);
			len = ASN1_STRING_length(gn->d.dNSName);
			if (crypto_names_add(names, n, (const char *)data,
			    (size_t)len, what) == -1)
				return -1;
		} else if (gn->type == GEN_IPADD) {
			data = ASN1_STRING_get0_data(gn->d.iPAddress);
			len = ASN1_STRING_length(gn->d.iPAddress);
			af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;
			if (af == -1 || inet_ntop(af, data, text,
			    sizeof text) == NULL) {
				log_error("%s: malformed iPAddress SAN", what);
				return -1;
			}
			if (crypto_names_add(names, n, text, strlen(text),
			    what) == -1)
				return -1;
		}
	}
	return 0;
}

/* UTF-8 of the first CN of name, or NULL if none; caller frees. */
static char *
crypto_name_cn(const X509_NAME *name)
{
	const X509_NAME_ENTRY	*entry;
	unsigned char		*utf8 = NULL;
	char			*cn = NULL;
	int			 idx, len;

	if ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		goto out;
	entry = X509_NAME_get_entry(name, idx);
	if ((len = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(entry))) < 0)
		goto out;
	if (memchr(utf8, '\0', (size_t)len) == NULL)
		cn = strndup((const char *)utf8, (size_t)len);
out:
	OPENSSL_free(utf8);
	return cn;
}

/* Names and DER of a CSR; see crypto.h.  *names freed by crypto_names_free,
 * *der by free. */
int
crypto_csr_names(const unsigned char *buf, size_t len, char ***names,
    size_t *n, unsigned char **der, size_t *derlen)
{
	BIO				*bio = NULL;
	X509_REQ			*req = NULL;
	EVP_PKEY			*pub;
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	GENERAL_NAMES			*gens = NULL;
	const unsigned char		*p = buf;
	unsigned char			*enc = NULL;
	char				*cn = NULL;
	int				 rc = -1, enclen;

	*names = NULL;
	*n = 0;
	if (len > CRYPTO_INPUT_MAX) {
		log_error("CSR: %zu bytes is over the %d-byte limit", len,
		    CRYPTO_INPUT_MAX);
		goto out;
	}
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		if ((bio = crypto_mem_bio(buf, len, "CSR")) == NULL)
			goto out;
		req = PEM_read_bio_X509_REQ(bio, NULL, crypto_no_passphrase,
		    NULL);
	} else
		req = d2i_X509_REQ(NULL, &p, (long)len);
	if (req == NULL) {
		log_error("CSR: not a PEM or DER certificate request: %s",
		    crypto_ossl_error());
		goto out;
	}
	if ((pub = X509_REQ_get0_pubkey(req)) == NULL ||
	    X509_REQ_verify(req, pub) != 1) {
		log_error("CSR: signature does not verify: %s",
		    crypto_ossl_error());
		goto out;
	}
	if ((cn = crypto_name_cn(X509_REQ_get_subject_name(req))) != NULL &&
	    crypto_names_add(names, n, cn, strlen(cn), "CSR") == -1)
		goto out;
	if ((exts = X509_REQ_get_extensions(req)) != NULL &&
	    (gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL,
	    NULL)) != NULL &&
	    crypto_names_add_gens(names, n, gens, "CSR") == -1)
		goto out;
	if (*n == 0) {
		log_error("CSR: names no domain (no CN, no SAN)");
		goto out;
	}
	if (der != NULL) {
		enclen = i2d_X509_REQ(req, &enc);
		if ((*der = crypto_der_copy(enc, enclen, derlen)) == NULL) {
			log_error("CSR: DER encoding failed");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc == -1) {
		crypto_names_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	free(cn);
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	BIO_free(bio);
	return rc;
}

/* First certificate of a PEM blob; caller frees with X509_free. */
static X509 *
crypto_first_cert(const char *pem, size_t len)
{
	BIO	*bio;
	X509	*x = NULL;

	if ((bio = crypto_mem_bio(pem, len, "certificate")) == NULL)
		goto out;
	if ((x = PEM_read_bio_X509(bio, NULL, crypto_no_passphrase,
	    NULL)) == NULL)
		log_error("certificate: no PEM certificate found: %s",
		    crypto_ossl_error());
out:
	BIO_free(bio);
	return x;
}

static int
crypto_time(const ASN1_TIME *at, time_t *t)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	if (at == NULL || !ASN1_TIME_to_tm(at, &tm))
		return -1;
	*t = timegm(&tm);
	return 0;
}

/*
 * Lower-case hex of a serial without leading zeros, as certbot prints it
 * (format(serial, 'x')); caller frees.
 */
static char *
crypto_serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM	*bn = NULL;
	char	*hex = NULL, *s = NULL, *digits, *p;

	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	digits = hex[0] == '-' ? hex + 1 : hex;
	for (p = digits; p[0] == '0' && p[1] != '\0'; p++)
		;
	memmove(digits, p, strlen(p) + 1);
	for (p = hex; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	s = strdup(hex);
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return s;
}

/*
 * RFC 9773 §4.1 CertID: b64u(AKI keyIdentifier) "." b64u(serial), where the
 * serial is the DER INTEGER's content octets (sign byte included, tag and
 * length not).  NULL if the certificate has no AKI keyid; caller frees.
 */
static char *
crypto_ari_id(X509 *x)
{
	const ASN1_OCTET_STRING	*aki;
	unsigned char		*der = NULL;
	const unsigned char	*content;
	char			*a = NULL, *b = NULL, *id = NULL;
	size_t			 hdr, idlen;
	int			 len;

	if ((aki = X509_get0_authority_key_id(x)) == NULL)
		goto out;
	if ((len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der)) < 3)
		goto out;
	/* Short or long form length; serials are at most 20 octets, but
	 * read the long form anyway rather than trust that. */
	hdr = der[1] < 0x80 ? 2 : 2 + (size_t)(der[1] & 0x7f);
	if (hdr >= (size_t)len)
		goto out;
	content = der + hdr;
	if ((a = b64u_encode(ASN1_STRING_get0_data(aki),
	    (size_t)ASN1_STRING_length(aki))) == NULL ||
	    (b = b64u_encode(content, (size_t)len - hdr)) == NULL)
		goto out;
	idlen = strlen(a) + 1 + strlen(b) + 1;
	if ((id = malloc(idlen)) != NULL)
		snprintf(id, idlen, "%s.%s", a, b);
out:
	free(a);
	free(b);
	OPENSSL_free(der);
	return id;
}

/* Fills ci; its members are freed by crypto_cert_info_free. */
int
crypto_cert_info(const char *pem, size_t len, struct crypto_cert_info *ci)
{
	X509		*x;
	GENERAL_NAMES	*gens = NULL;
	int		 rc = -1;

	memset(ci, 0, sizeof *ci);
	if ((x = crypto_first_cert(pem, len)) == NULL)
		goto out;
	if (crypto_time(X509_get0_notBefore(x), &ci->not_before) == -1 ||
	    crypto_time(X509_get0_notAfter(x), &ci->not_after) == -1) {
		log_error("certificate: unreadable validity dates");
		goto out;
	}
	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) != NULL && crypto_names_add_gens(&ci->names, &ci->n_names,
	    gens, "certificate") == -1)
		goto out;
	if ((ci->serial_hex = crypto_serial_hex(
	    X509_get0_serialNumber(x))) == NULL) {
		log_error("certificate: unreadable serial number");
		goto out;
	}
	ci->issuer_cn = crypto_name_cn(X509_get_issuer_name(x));
	ci->ari_id = crypto_ari_id(x);
	rc = 0;
out:
	if (rc == -1)
		crypto_cert_info_free(ci);
	GENERAL_NAMES_free(gens);
	X509_free(x);
	return rc;
}

void
crypto_cert_info_free(struct crypto_cert_info *ci)
{
	if (ci == NULL)
		return;
	crypto_names_free(ci->names, ci->n_names);
	free(ci->serial_hex);
	free(ci->issuer_cn);
	free(ci->ari_id);
	memset(ci, 0, sizeof *ci);
}

/*
 * Leaf and issuers as new PEM strings; caller frees both.  Each
 * certificate is re-encoded, so CRLF input or text between blocks
 * (as some CAs send) comes out as plain PEM.  On -1, *why is the reason
 * (a static string) and nothing is logged: the callers name the source.
 */
static int
chain_split(const char *pem, size_t len, char **leaf, char **issuers,
    char **top_cn, const char **why)
{
	BIO		*in = NULL, *bleaf = NULL, *biss = NULL;
	X509		*x = NULL;
	unsigned long	 e;
	int		 rc = -1, count = 0;

	*leaf = *issuers = NULL;
	if (top_cn != NULL)
		*top_cn = NULL;
	*why = "over the input limit";
	if (len > CRYPTO_INPUT_MAX)
		goto out;
	*why = "out of memory";
	if ((in = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (bleaf = BIO_new(BIO_s_mem())) == NULL ||
	    (biss = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	ERR_clear_error();	/* the loop's end is read off the queue */
	while ((x = PEM_read_bio_X509(in, NULL, crypto_no_passphrase,
	    NULL)) != NULL) {
		if (++count > CRYPTO_CHAIN_MAX) {
			*why = "more certificates than a chain has";
			goto out;
		}
		if (!PEM_write_bio_X509(count == 1 ? bleaf : biss, x)) {
			*why = crypto_ossl_error();
			goto out;
		}
		/* The last one read is the topmost: its issuer is the
		 * root the chain leads to. */
		if (top_cn != NULL) {
			free(*top_cn);
			*top_cn = crypto_name_cn(X509_get_issuer_name(x));
		}
		X509_free(x);
		x = NULL;
	}
	/* The loop ends on "no start line" at the end of the text; any
	 * other reason is a damaged certificate. */
	e = ERR_peek_last_error();
	if (count == 0 || (e != 0 && (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE))) {
		*why = count == 0 ? "no certificate found" :
		    crypto_ossl_error();
		goto out;
	}
	ERR_clear_error();
	if ((*leaf = crypto_bio_string(bleaf)) == NULL ||
	    (*issuers = crypto_bio_string(biss)) == NULL) {
		*why = "out of memory";
		goto out;
	}
	*why = NULL;
	rc = 0;
out:
	if (rc == -1) {
		free(*leaf);
		free(*issuers);
		*leaf = *issuers = NULL;
		if (top_cn != NULL) {
			free(*top_cn);
			*top_cn = NULL;
		}
		ERR_clear_error();
	}
	X509_free(x);
	BIO_free(biss);
	BIO_free(bleaf);
	BIO_free(in);
	return rc;
}

int
crypto_chain_split(const char *pem, size_t len, char **leaf, char **issuers)
{
	const char	*why;

	if (chain_split(pem, len, leaf, issuers, NULL, &why) == -1) {
		log_error("certificate chain: %s", why);
		return -1;
	}
	return 0;
}

const char *
crypto_chain_check(const char *pem, size_t len)
{
	char		*leaf, *issuers;
	const char	*why;

	if (chain_split(pem, len, &leaf, &issuers, NULL, &why) == -1)
		return why;
	free(leaf);
	free(issuers);
	return NULL;
}

const char *
crypto_chain_top_issuer(const char *pem, size_t len, char **cn)
{
	char		*leaf, *issuers;
	const char	*why;

	if (chain_split(pem, len, &leaf, &issuers, cn, &why) == -1)
		return why;
	free(leaf);
	free(issuers);
	return NULL;
}

/* DER of the first certificate; caller frees. */
unsigned char *
crypto_cert_der(const char *pem, size_t len, size_t *derlen)
{
	X509		*x;
	unsigned char	*der = NULL, *ret = NULL;
	int		 n;

	if ((x = crypto_first_cert(pem, len)) == NULL)
		goto out;
	n = i2d_X509(x, &der);
	if ((ret = crypto_der_copy(der, n, derlen)) == NULL)
		log_error("certificate: DER encoding failed");
out:
	X509_free(x);
	return ret;
}

bool
crypto_cert_matches_key(const char *pem, size_t len, EVP_PKEY *key)
{
	X509		*x;
	EVP_PKEY	*pub;
	bool		 match = false;

	if ((x = crypto_first_cert(pem, len)) == NULL)
		goto out;
	if ((pub = X509_get0_pubkey(x)) == NULL) {
		log_error("certificate: unreadable public key: %s",
		    crypto_ossl_error());
		goto out;
	}
	match = EVP_PKEY_eq(pub, key) == 1;
	ERR_clear_error();	/* a type mismatch leaves an error behind */
out:
	X509_free(x);
	return match;
}

int
crypto_sha256(const void *data, size_t len, unsigned char out[32])
{
	if (!EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL)) {
		log_error("SHA-256: %s", crypto_ossl_error());
		return -1;
	}
	return 0;
}

int
crypto_hmac(const char *alg, const unsigned char *key, size_t keylen,
    const void *data, size_t len, unsigned char *out, size_t *outlen)
{
	static const struct {
		const char	*alg;
		const char	*digest;
	} algs[] = {
		{ "HS256", "SHA256" },
		{ "HS384", "SHA384" },
		{ "HS512", "SHA512" },
	};
	const char	*digest = NULL;
	size_t		 i;
	int		 rc = -1;

	for (i = 0; i < sizeof algs / sizeof algs[0]; i++)
		if (alg != NULL && strcmp(alg, algs[i].alg) == 0)
			digest = algs[i].digest;
	if (digest == NULL) {
		log_error("HMAC algorithm \"%s\": not supported (HS256, HS384, "
		    "HS512)", alg != NULL ? alg : "");
		goto out;
	}
	if (keylen == 0) {
		log_error("HMAC %s: empty key", alg);
		goto out;
	}
	if (EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, key, keylen, data,
	    len, out, 64, outlen) == NULL) {
		log_error("HMAC %s: %s", alg, crypto_ossl_error());
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* certbot's account directory name; caller frees. */
char *
crypto_certbot_account_id(EVP_PKEY *key)
{
	BIO		*bio = NULL;
	char		*pem, *id = NULL;
	long		 len;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_PUBKEY(bio, key)) {
		log_error("account key: cannot encode public key: %s",
		    crypto_ossl_error());
		goto out;
	}
	len = BIO_get_mem_data(bio, &pem);
	if (len < 0 || !EVP_Digest(pem, (size_t)len, md, &mdlen, EVP_md5(),
	    NULL)) {
		log_error("account key: MD5: %s", crypto_ossl_error());
		goto out;
	}
	if ((id = crypto_hex(md, mdlen)) == NULL)
		log_error("account key: out of memory");
out:
	BIO_free(bio);
	return id;
}

char *
crypto_csr_pem(const unsigned char *der, size_t len)
{
	const unsigned char	*p = der;
	X509_REQ		*req;
	BIO			*b = NULL;
	BUF_MEM			*m;
	char			*out = NULL;

	if ((req = d2i_X509_REQ(NULL, &p, (long)len)) != NULL &&
	    (b = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_X509_REQ(b, req) == 1) {
		BIO_get_mem_ptr(b, &m);
		out = strndup(m->data, m->length);
	}
	if (out == NULL)
		log_error("cannot encode the CSR as PEM: %s",
		    crypto_ossl_error());
	BIO_free(b);
	X509_REQ_free(req);
	return out;
}
