/*
 * jws.c: JSON Web Keys, thumbprints and flattened JWS signatures
 * (RFC 7515, 7517, 7518, 7638) for ACME.  Owns the mapping between an
 * EVP_PKEY and its JOSE form: algorithm names, JWK members, and the
 * DER-to-raw conversion of ECDSA signatures.  All JSON goes through
 * jansson; nothing here formats JSON by hand.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "b64.h"
#include "crypto.h"
#include "jws.h"
#include "log.h"

/* Largest RSA modulus (or other JWK integer) we accept: 16384 bits. */
#define JWS_INT_MAX_BYTES	2048

enum jws_kind {
	JWS_ES256,
	JWS_ES384,
	JWS_RS256,
	JWS__COUNT
};

static const struct jws_alg_info {
	const char	*alg;
	const char	*crv;		/* JWK "crv"; NULL for RSA */
	const char	*group;		/* OpenSSL's name for the curve */
	const char	*digest;
	size_t		 coord;		/* bytes per EC coordinate / scalar */
} jws_algs[] = {
	[JWS_ES256] = { "ES256", "P-256", "prime256v1", "SHA256", 32 },
	[JWS_ES384] = { "ES384", "P-384", "secp384r1", "SHA384", 48 },
	[JWS_RS256] = { "RS256", NULL, NULL, "SHA256", 0 },
};
_Static_assert(sizeof(jws_algs) / sizeof(jws_algs[0]) == JWS__COUNT,
    "jws_algs must describe every enum jws_kind");

/* The JOSE algorithm of key, or NULL (logged) if ACME cannot use it. */
static const struct jws_alg_info *
jws_info(EVP_PKEY *key)
{
	char	group[64];
	size_t	i;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		return &jws_algs[JWS_RS256];
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(key,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL))
			break;
		for (i = 0; i < JWS__COUNT; i++)
			if (jws_algs[i].group != NULL &&
			    (strcmp(group, jws_algs[i].group) == 0 ||
			    strcmp(group, jws_algs[i].crv) == 0))
				return &jws_algs[i];
		log_error("key on curve %s: ACME needs P-256 or P-384", group);
		return NULL;
	default:
		break;
	}
	log_error("key of type %s: ACME needs an RSA or EC key",
	    crypto_key_type_name(key));
	return NULL;
}

const char *
jws_alg(EVP_PKEY *key)
{
	const struct jws_alg_info	*info = jws_info(key);

	return info != NULL ? info->alg : NULL;
}

/*
 * Sets obj[name] to the base64url of the key parameter, big-endian and
 * left-padded to pad bytes (pad 0: minimal length, RFC 7518 Base64urlUInt).
 * 0 or -1 (logged).
 */
static int
jws_set_param(json_t *obj, const char *name, EVP_PKEY *key,
    const char *param, size_t pad)
{
	BIGNUM		*bn = NULL;
	unsigned char	*buf = NULL;
	char		*enc = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	if (!EVP_PKEY_get_bn_param(key, param, &bn)) {
		log_error("JWK member %s: key has no %s: %s", name, param,
		    crypto_ossl_error());
		goto out;
	}
	len = pad != 0 ? pad : (size_t)BN_num_bytes(bn);
	if ((size_t)BN_num_bytes(bn) > len || len > JWS_INT_MAX_BYTES) {
		log_error("JWK member %s: %d bytes do not fit", name,
		    BN_num_bytes(bn));
		goto out;
	}
	/* One byte at least: a zero value is "AA", never "". */
	if (len == 0)
		len = 1;
	if ((buf = malloc(len)) == NULL ||
	    BN_bn2binpad(bn, buf, (int)len) < 0 ||
	    (enc = b64u_encode(buf, len)) == NULL ||
	    json_object_set_new(obj, name, json_string(enc)) == -1) {
		log_error("JWK member %s: out of memory", name);
		goto out;
	}
	rc = 0;
out:
	if (buf != NULL)
		OPENSSL_cleanse(buf, len);
	free(buf);
	free(enc);
	BN_clear_free(bn);
	return rc;
}

/*
 * The one table of RSA JWK members (RFC 7518 §6.3) and their OpenSSL
 * parameters, for writing a JWK and for reading one (in the order of
 * bns[] there): the public members first, then d, then the CRT set.
 */
static const struct {
	const char	*member;
	const char	*param;
} jws_rsa_members[] = {
	{ "n", OSSL_PKEY_PARAM_RSA_N },
	{ "e", OSSL_PKEY_PARAM_RSA_E },
	{ "d", OSSL_PKEY_PARAM_RSA_D },
	{ "p", OSSL_PKEY_PARAM_RSA_FACTOR1 },
	{ "q", OSSL_PKEY_PARAM_RSA_FACTOR2 },
	{ "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
	{ "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
	{ "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
};
#define JWS_RSA_MEMBERS	(sizeof jws_rsa_members / sizeof jws_rsa_members[0])
#define JWS_RSA_PUBLIC	2	/* n, e */
#define JWS_RSA_NEEDED	3	/* n, e, d; the CRT members come as a set */

/* JWK of key, public or with private members; new reference or NULL. */
static json_t *
jws_jwk_build(EVP_PKEY *key, bool private)
{
	const struct jws_alg_info	*info;
	json_t				*jwk = NULL, *ret = NULL;
	size_t				 i;

	if ((info = jws_info(key)) == NULL)
		goto out;
	if ((jwk = json_object()) == NULL)
		goto out;
	/* Insertion order is RFC 7638's lexicographic order, so the
	 * thumbprint input and what we send the CA look the same. */
	if (info->crv != NULL) {
		if (json_object_set_new(jwk, "crv", json_string(info->crv)) ||
		    json_object_set_new(jwk, "kty", json_string("EC")) ||
		    jws_set_param(jwk, "x", key, OSSL_PKEY_PARAM_EC_PUB_X,
		    info->coord) == -1 ||
		    jws_set_param(jwk, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y,
		    info->coord) == -1)
			goto out;
		if (private && jws_set_param(jwk, "d", key,
		    OSSL_PKEY_PARAM_PRIV_KEY, info->coord) == -1)
			goto out;
	} else {
		/* e, kty, n: RFC 7638's order again. */
		if (jws_set_param(jwk, jws_rsa_members[1].member, key,
		    jws_rsa_members[1].param, 0) ||
		    json_object_set_new(jwk, "kty", json_string("RSA")) ||
		    jws_set_param(jwk, jws_rsa_members[0].member, key,
		    jws_rsa_members[0].param, 0))
			goto out;
		for (i = JWS_RSA_PUBLIC; private && i < JWS_RSA_MEMBERS; i++)
			if (jws_set_param(jwk, jws_rsa_members[i].member, key,
			    jws_rsa_members[i].param, 0) == -1)
				goto out;
	}
	ret = jwk;
	jwk = NULL;
out:
	if (ret == NULL && info != NULL)
		log_error("building %s JWK of %s key failed",
		    private ? "private" : "public", info->alg);
	json_decref(jwk);
	return ret;
}

/* Public JWK; new reference, caller json_decref()s. */
json_t *
jws_jwk(EVP_PKEY *key)
{
	return jws_jwk_build(key, false);
}

/* Private JWK; new reference, caller json_decref()s (it holds secrets). */
json_t *
jws_jwk_private(EVP_PKEY *key)
{
	return jws_jwk_build(key, true);
}

/*
 * Decodes the base64url member name of jwk into a BIGNUM of at most max
 * bytes.  Returns 0 and sets *bn (caller BN_clear_free()s), 1 if the
 * member is absent, -1 (logged) if it is malformed.
 */
static int
jws_member_bn(json_t *jwk, const char *name, size_t max, BIGNUM **bn)
{
	json_t		*v;
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	*bn = NULL;
	if ((v = json_object_get(jwk, name)) == NULL) {
		rc = 1;
		goto out;
	}
	if (!json_is_string(v) ||
	    (buf = b64u_decode(json_string_value(v), &len)) == NULL ||
	    len == 0) {
		log_error("JWK member \"%s\": not a base64url string", name);
		goto out;
	}
	if (len > max) {
		log_error("JWK member \"%s\": %zu bytes, at most %zu allowed",
		    name, len, max);
		goto out;
	}
	if ((*bn = BN_bin2bn(buf, (int)len, NULL)) == NULL) {
		log_error("JWK member \"%s\": %s", name, crypto_ossl_error());
		goto out;
	}
	rc = 0;
out:
	if (buf != NULL)
		OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

/* Pushes the EC members of jwk onto bld.  0 or -1 (logged). */
static int
jws_ec_params(json_t *jwk, OSSL_PARAM_BLD *bld, BIGNUM **x, BIGNUM **y,
    BIGNUM **d, unsigned char *pub, size_t publen)
{
	const struct jws_alg_info	*info = NULL;
	const char			*crv;
	size_t				 i;
	int				 rc = -1;

	crv = json_string_value(json_object_get(jwk, "crv"));
	for (i = 0; crv != NULL && i < JWS__COUNT; i++)
		if (jws_algs[i].crv != NULL &&
		    strcmp(crv, jws_algs[i].crv) == 0)
			info = &jws_algs[i];
	if (info == NULL) {
		log_error("EC JWK: curve \"%s\" not supported (P-256, P-384)",
		    crv != NULL ? crv : "");
		goto out;
	}
	if (jws_member_bn(jwk, "x", info->coord, x) != 0 ||
	    jws_member_bn(jwk, "y", info->coord, y) != 0 ||
	    jws_member_bn(jwk, "d", info->coord, d) != 0) {
		log_error("EC JWK: needs x, y and d of at most %zu bytes",
		    info->coord);
		goto out;
	}
	/* Uncompressed point: 0x04 || X || Y, each left-padded. */
	if (publen < 1 + 2 * info->coord)
		goto out;
	pub[0] = 0x04;
	if (BN_bn2binpad(*x, pub + 1, (int)info->coord) < 0 ||
	    BN_bn2binpad(*y, pub + 1 + info->coord, (int)info->coord) < 0 ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    info->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, 1 + 2 * info->coord) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, *d)) {
		log_error("EC JWK: %s", crypto_ossl_error());
		goto out;
	}
	rc = 0;
out:
	return rc;
}


/*
 * Pushes the RSA members of jwk onto bld; bns[] receives the BIGNUMs,
 * which must outlive the build.  Sets *crt if the CRT members were there.
 * 0 or -1 (logged).
 */
static int
jws_rsa_params(json_t *jwk, OSSL_PARAM_BLD *bld, BIGNUM **bns, bool *crt)
{
	size_t	i, present = 0;
	int	r, rc = -1;

	for (i = 0; i < JWS_RSA_MEMBERS; i++) {
		r = jws_member_bn(jwk, jws_rsa_members[i].member,
		    JWS_INT_MAX_BYTES, &bns[i]);
		if (r == -1)
			goto out;
		if (r == 1 && i < JWS_RSA_NEEDED) {
			log_error("RSA JWK: member \"%s\" missing",
			    jws_rsa_members[i].member);
			goto out;
		}
		if (r == 0) {
			present++;
			if (!OSSL_PARAM_BLD_push_BN(bld,
			    jws_rsa_members[i].param, bns[i])) {
				log_error("RSA JWK: %s", crypto_ossl_error());
				goto out;
			}
		}
	}
	if (present != JWS_RSA_NEEDED && present != JWS_RSA_MEMBERS) {
		log_error("RSA JWK: p, q, dp, dq and qi must all be present "
		    "or all be absent");
		goto out;
	}
	*crt = present == JWS_RSA_MEMBERS;
	rc = 0;
out:
	return rc;
}

/* Key from a private JWK; caller EVP_PKEY_free()s. */
EVP_PKEY *
jws_key_from_jwk(json_t *jwk)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL, *check = NULL;
	EVP_PKEY	*key = NULL, *ret = NULL;
	BIGNUM		*bns[JWS_RSA_MEMBERS] = { NULL };
	unsigned char	 pub[1 + 2 * 48];
	const char	*kty;
	bool		 ec, crt = false;
	size_t		 i;
	int		 rc;

	kty = json_string_value(json_object_get(jwk, "kty"));
	if (kty == NULL || (strcmp(kty, "EC") != 0 && strcmp(kty, "RSA"))) {
		log_error("JWK: kty \"%s\" not supported (EC, RSA)",
		    kty != NULL ? kty : "");
		goto out;
	}
	ec = strcmp(kty, "EC") == 0;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL) {
		log_error("JWK: %s", crypto_ossl_error());
		goto out;
	}
	if (ec)
		rc = jws_ec_params(jwk, bld, &bns[0], &bns[1], &bns[2], pub,
		    sizeof pub);
	else
		rc = jws_rsa_params(jwk, bld, bns, &crt);
	if (rc == -1)
		goto out;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, kty, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) <= 0) {
		log_error("%s JWK: not a valid key: %s", kty,
		    crypto_ossl_error());
		goto out;
	}
	/*
	 * A hand-edited or truncated key file must fail here, not later as
	 * a CA's "bad signature".  OpenSSL's RSA pairwise test needs the
	 * primes, so an n/e/d-only key goes unchecked.
	 */
	if (ec || crt) {
		if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, key,
		    NULL)) == NULL || EVP_PKEY_pairwise_check(check) != 1) {
			log_error("%s JWK: public and private members do not "
			    "match: %s", kty, crypto_ossl_error());
			goto out;
		}
	}
	ret = key;
	key = NULL;
out:
	for (i = 0; i < JWS_RSA_MEMBERS; i++)
		BN_clear_free(bns[i]);
	OPENSSL_cleanse(pub, sizeof pub);
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

/* RFC 7638 thumbprint; caller frees. */
char *
jws_thumbprint(EVP_PKEY *key)
{
	json_t		*jwk;
	char		*json = NULL, *tp = NULL;
	unsigned char	 md[32];

	if ((jwk = jws_jwk(key)) == NULL)
		goto out;
	/* Sorting again costs nothing and keeps RFC 7638 true even if
	 * jws_jwk_build's insertion order were ever changed. */
	if ((json = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    crypto_sha256(json, strlen(json), md) == -1 ||
	    (tp = b64u_encode(md, sizeof md)) == NULL)
		log_error("JWK thumbprint: failed");
out:
	free(json);
	json_decref(jwk);
	return tp;
}

/*
 * Raw JWS signature of input: RSASSA-PKCS1-v1_5 as is, ECDSA converted
 * from DER to R || S (RFC 7518 §3.4).  Returns a new buffer of *siglen
 * bytes; caller frees.
 */
static unsigned char *
jws_signature(EVP_PKEY *key, const struct jws_alg_info *info,
    const char *input, size_t *siglen)
{
	EVP_MD_CTX		*md = NULL;
	ECDSA_SIG		*ecsig = NULL;
	const BIGNUM		*r, *s;
	const unsigned char	*p;
	unsigned char		*der = NULL, *raw = NULL, *ret = NULL;
	size_t			 derlen = 0, rawlen;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestSignInit_ex(md, NULL, info->digest, NULL, NULL, key,
	    NULL) ||
	    !EVP_DigestSign(md, NULL, &derlen, (const unsigned char *)input,
	    strlen(input)) ||
	    (der = malloc(derlen)) == NULL ||
	    !EVP_DigestSign(md, der, &derlen, (const unsigned char *)input,
	    strlen(input))) {
		log_error("%s signature: %s", info->alg, crypto_ossl_error());
		goto out;
	}
	if (info->coord == 0) {
		*siglen = derlen;
		ret = der;
		der = NULL;
		goto out;
	}
	p = der;
	rawlen = 2 * info->coord;
	if ((ecsig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL ||
	    (raw = malloc(rawlen)) == NULL) {
		log_error("%s signature: cannot decode DER: %s", info->alg,
		    crypto_ossl_error());
		goto out;
	}
	ECDSA_SIG_get0(ecsig, &r, &s);
	if (BN_bn2binpad(r, raw, (int)info->coord) < 0 ||
	    BN_bn2binpad(s, raw + info->coord, (int)info->coord) < 0) {
		log_error("%s signature: R or S too long", info->alg);
		goto out;
	}
	*siglen = rawlen;
	ret = raw;
	raw = NULL;
out:
	free(raw);
	free(der);
	ECDSA_SIG_free(ecsig);
	EVP_MD_CTX_free(md);
	return ret;
}

/*
 * Returns the JWS signing input "b64u(hdr).b64u(payload)" and sets *prot
 * and *pay to its two halves; payload NULL (POST-as-GET) encodes as "".
 * All three new strings, caller frees; NULL and nothing to free on failure.
 */
static char *
jws_input(json_t *hdr, const char *payload, char **prot, char **pay)
{
	char	*hjson = NULL, *input = NULL;
	size_t	 len;

	*prot = *pay = NULL;
	if ((hjson = json_dumps(hdr, JSON_COMPACT)) == NULL ||
	    (*prot = b64u_encode(hjson, strlen(hjson))) == NULL ||
	    (*pay = b64u_encode(payload != NULL ? payload : "",
	    payload != NULL ? strlen(payload) : 0)) == NULL)
		goto out;
	len = strlen(*prot) + 1 + strlen(*pay) + 1;
	if ((input = malloc(len)) != NULL)
		snprintf(input, len, "%s.%s", *prot, *pay);
out:
	if (input == NULL) {
		free(*prot);
		free(*pay);
		*prot = *pay = NULL;
	}
	free(hjson);
	return input;
}

/* {"protected", "payload", "signature"}; new reference or NULL. */
static json_t *
jws_object(const char *prot, const char *pay, const unsigned char *sig,
    size_t siglen)
{
	json_t	*obj = NULL, *ret = NULL;
	char	*enc = NULL;

	if ((enc = b64u_encode(sig, siglen)) == NULL ||
	    (obj = json_object()) == NULL ||
	    json_object_set_new(obj, "protected", json_string(prot)) == -1 ||
	    json_object_set_new(obj, "payload", json_string(pay)) == -1 ||
	    json_object_set_new(obj, "signature", json_string(enc)) == -1)
		goto out;
	ret = obj;
	obj = NULL;
out:
	free(enc);
	json_decref(obj);
	return ret;
}

/* Flattened JWS as a new string; caller frees. */
char *
jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
    const char *payload)
{
	const struct jws_alg_info	*info;
	json_t				*hdr = NULL, *jwk, *obj = NULL;
	char				*prot = NULL, *pay = NULL, *input = NULL;
	char				*out = NULL;
	const char			*why = NULL;
	unsigned char			*sig = NULL;
	size_t				 siglen = 0;

	if (url == NULL) {
		log_error("JWS: no url to sign for");
		goto out;
	}
	/* jws_info, jws_jwk and jws_signature log their own failures. */
	if ((info = jws_info(key)) == NULL)
		goto out;
	why = "out of memory or bad UTF-8 in a header member";
	if ((hdr = json_object()) == NULL ||
	    json_object_set_new(hdr, "alg", json_string(info->alg)) == -1)
		goto out;
	if (kid != NULL) {
		if (json_object_set_new(hdr, "kid", json_string(kid)) == -1)
			goto out;
	} else {
		if ((jwk = jws_jwk(key)) == NULL) {
			why = NULL;
			goto out;
		}
		if (json_object_set_new(hdr, "jwk", jwk) == -1)
			goto out;
	}
	if (nonce != NULL &&
	    json_object_set_new(hdr, "nonce", json_string(nonce)) == -1)
		goto out;
	if (json_object_set_new(hdr, "url", json_string(url)) == -1 ||
	    (input = jws_input(hdr, payload, &prot, &pay)) == NULL)
		goto out;
	if ((sig = jws_signature(key, info, input, &siglen)) == NULL) {
		why = NULL;
		goto out;
	}
	why = "out of memory";
	if ((obj = jws_object(prot, pay, sig, siglen)) == NULL)
		goto out;
	out = json_dumps(obj, JSON_COMPACT);
out:
	if (out == NULL && why != NULL)
		log_error("JWS for %s: %s", url, why);
	free(sig);
	free(input);
	free(prot);
	free(pay);
	json_decref(obj);
	json_decref(hdr);
	return out;
}

/* EAB object; new reference, caller json_decref()s. */
json_t *
jws_eab(EVP_PKEY *account, const char *eab_kid, const char *eab_hmac_b64u,
    const char *url)
{
	json_t		*hdr = NULL, *jwk = NULL, *obj = NULL;
	char		*jwkjson = NULL, *prot = NULL, *pay = NULL;
	char		*input = NULL;
	unsigned char	*hkey = NULL, mac[64];
	size_t		 hkeylen = 0, maclen = 0;

	if (eab_kid == NULL || *eab_kid == '\0' || url == NULL) {
		log_error("external account binding: needs a key id and a url");
		goto out;
	}
	if (eab_hmac_b64u == NULL ||
	    (hkey = b64u_decode(eab_hmac_b64u, &hkeylen)) == NULL ||
	    hkeylen == 0) {
		log_error("external account binding %s: HMAC key is not "
		    "base64url", eab_kid);
		goto out;
	}
	if ((jwk = jws_jwk(account)) == NULL)
		goto out;
	if ((hdr = json_object()) == NULL ||
	    json_object_set_new(hdr, "alg", json_string("HS256")) == -1 ||
	    json_object_set_new(hdr, "kid", json_string(eab_kid)) == -1 ||
	    json_object_set_new(hdr, "url", json_string(url)) == -1 ||
	    (jwkjson = json_dumps(jwk, JSON_COMPACT)) == NULL ||
	    (input = jws_input(hdr, jwkjson, &prot, &pay)) == NULL) {
		log_error("external account binding %s: out of memory or bad "
		    "UTF-8", eab_kid);
		goto out;
	}
	if (crypto_hmac("HS256", hkey, hkeylen, input, strlen(input), mac,
	    &maclen) == -1)
		goto out;
	if ((obj = jws_object(prot, pay, mac, maclen)) == NULL)
		log_error("external account binding %s: out of memory",
		    eab_kid);
out:
	if (hkey != NULL)
		OPENSSL_cleanse(hkey, hkeylen);
	free(hkey);
	OPENSSL_cleanse(mac, sizeof mac);
	free(input);
	free(prot);
	free(pay);
	free(jwkjson);
	json_decref(hdr);
	json_decref(jwk);
	return obj;
}
