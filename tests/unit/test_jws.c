/*
 * test_jws.c: JWKs, thumbprints, JWS and EAB (src/jws.c).  Every signature
 * jws_sign makes is verified here with OpenSSL directly (raw R||S turned
 * back into DER), and must stop verifying once the payload changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "b64.h"
#include "crypto.h"
#include "jws.h"
#include "log.h"

/* RFC 7638 §3.1. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7"
    "aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBX"
    "Arwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c"
    "7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4"
    "lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_tp[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* A fixed P-256 key; JWK and thumbprint computed with Python's
 * cryptography and hashlib. */
static const char ec_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIAXuBaTFqwp9UNlcIQXc/Ld7ugKx5vBKbRNc+1RhAVoToAoGCCqGSM49\n"
    "AwEHoUQDQgAES4xq1r2bd5Nme4jXeiYFVB/WbHf7922XZTEqJOAaQv7Muajxbcvh\n"
    "Hou9CMR1RNbR+P4oEXzrqNtgk5RrQHwKlQ==\n"
    "-----END EC PRIVATE KEY-----\n";
static const char ec_jwk[] =
    "{\"crv\":\"P-256\",\"kty\":\"EC\","
    "\"x\":\"S4xq1r2bd5Nme4jXeiYFVB_WbHf7922XZTEqJOAaQv4\","
    "\"y\":\"zLmo8W3L4R6LvQjEdUTW0fj-KBF866jbYJOUa0B8CpU\"}";
static const char ec_d[] = "Be4FpMWrCn1Q2VwhBdz8t3u6ArHm8EptE1z7VGEBWhM";
static const char ec_tp[] = "SzxG2EVix4dsxJEbDi5QhOY9qv1ryQWNaidMFw7YA6c";

static EVP_PKEY	*rsa_key, *p256_key, *p384_key;

static int
setup(void **state)
{
	struct crypto_key_spec	rsa = { CRYPTO_KEY_RSA, 2048, NULL };
	struct crypto_key_spec	p256 = { CRYPTO_KEY_ECDSA, 0, "P-256" };
	struct crypto_key_spec	p384 = { CRYPTO_KEY_ECDSA, 0, "secp384r1" };

	(void)state;
	log_init(0, true);
	rsa_key = crypto_key_generate(&rsa);
	p256_key = crypto_key_generate(&p256);
	p384_key = crypto_key_generate(&p384);
	return rsa_key && p256_key && p384_key ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(p256_key);
	EVP_PKEY_free(p384_key);
	return 0;
}

static BIGNUM *
b64_bn(const char *s)
{
	size_t		 len;
	unsigned char	*buf = b64u_decode(s, &len);
	BIGNUM		*bn;

	assert_non_null(buf);
	bn = BN_bin2bn(buf, (int)len, NULL);
	free(buf);
	return bn;
}

static char *
b64_str(const char *s)
{
	size_t	len;

	return (char *)b64u_decode(s, &len);
}

static void
test_rfc7638(void **state)
{
	(void)state;
	OSSL_PARAM_BLD	*bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM	*params;
	EVP_PKEY_CTX	*ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY	*key = NULL;
	BIGNUM		*n = b64_bn(rfc7638_n), *e = b64_bn("AQAB");
	json_t		*jwk;
	char		*tp, *s, want[512];

	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY,
	    params), 1);

	tp = jws_thumbprint(key);
	assert_non_null(tp);
	assert_string_equal(tp, rfc7638_tp);
	free(tp);

	/* Member order without sorting: RFC 7638 order already. */
	jwk = jws_jwk(key);
	s = json_dumps(jwk, JSON_COMPACT);
	snprintf(want, sizeof want, "{\"e\":\"AQAB\",\"kty\":\"RSA\","
	    "\"n\":\"%s\"}", rfc7638_n);
	assert_string_equal(s, want);
	assert_string_equal(jws_alg(key), "RS256");
	free(s);
	json_decref(jwk);

	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
}

static void
test_ec_jwk_vector(void **state)
{
	EVP_PKEY	*key = crypto_key_from_pem(ec_pem, strlen(ec_pem));
	json_t		*jwk, *priv;
	char		*s, *tp;

	(void)state;
	assert_non_null(key);
	jwk = jws_jwk(key);
	s = json_dumps(jwk, JSON_COMPACT);
	assert_string_equal(s, ec_jwk);
	free(s);
	tp = jws_thumbprint(key);
	assert_string_equal(tp, ec_tp);
	free(tp);
	priv = jws_jwk_private(key);
	assert_string_equal(json_string_value(json_object_get(priv, "d")),
	    ec_d);
	assert_string_equal(jws_alg(key), "ES256");
	json_decref(priv);
	json_decref(jwk);
	EVP_PKEY_free(key);
}

/* Raw R||S to DER ECDSA-Sig; caller frees. */
static unsigned char *
raw_to_der(const unsigned char *raw, size_t rawlen, size_t *derlen)
{
	ECDSA_SIG	*sig = ECDSA_SIG_new();
	BIGNUM		*r = BN_bin2bn(raw, (int)rawlen / 2, NULL);
	BIGNUM		*s = BN_bin2bn(raw + rawlen / 2, (int)rawlen / 2, NULL);
	unsigned char	*der = NULL;
	int		 len;

	assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
	len = i2d_ECDSA_SIG(sig, &der);
	assert_true(len > 0);
	*derlen = (size_t)len;
	ECDSA_SIG_free(sig);
	return der;
}

/* 1 if sig_b64 is key's signature over "prot.pay", else 0. */
static int
verify(EVP_PKEY *key, const char *digest, size_t coord, const char *prot,
    const char *pay, const char *sig_b64)
{
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	unsigned char	*sig, *der = NULL;
	size_t		 siglen, derlen;
	char		*input;
	int		 ok;

	sig = b64u_decode(sig_b64, &siglen);
	assert_non_null(sig);
	if (coord != 0) {
		assert_int_equal(siglen, 2 * coord);
		der = raw_to_der(sig, siglen, &derlen);
	} else {
		assert_int_equal(siglen, (size_t)EVP_PKEY_get_size(key));
		derlen = siglen;
	}
	assert_true(asprintf(&input, "%s.%s", prot, pay) > 0);
	assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, digest, NULL, NULL,
	    key, NULL), 1);
	ok = EVP_DigestVerify(md, der != NULL ? der : sig, derlen,
	    (unsigned char *)input, strlen(input)) == 1;
	free(input);
	OPENSSL_free(der);
	free(sig);
	EVP_MD_CTX_free(md);
	return ok;
}

/* Signs with key, checks the header, verifies with verify_key. */
static void
check_sign(EVP_PKEY *key, EVP_PKEY *verify_key, const char *alg,
    const char *digest, size_t coord)
{
	const char	*payload = "{\"identifiers\":[{\"type\":\"dns\","
	    "\"value\":\"example.com\"}]}";
	char		 want[256];
	char		*out, *hdr, *pay, *tampered;
	json_t		*jws, *h, *jwk;
	const char	*prot, *payb, *sig;

	/* kid form, with nonce. */
	out = jws_sign(key, "https://ca.test/acct/1", "n0nce-A_b",
	    "https://ca.test/new-order", payload);
	assert_non_null(out);
	jws = json_loads(out, 0, NULL);
	assert_non_null(jws);
	assert_int_equal(json_object_size(jws), 3);
	prot = json_string_value(json_object_get(jws, "protected"));
	payb = json_string_value(json_object_get(jws, "payload"));
	sig = json_string_value(json_object_get(jws, "signature"));
	assert_non_null(prot);
	assert_non_null(payb);
	assert_non_null(sig);
	hdr = b64_str(prot);
	snprintf(want, sizeof want, "{\"alg\":\"%s\","
	    "\"kid\":\"https://ca.test/acct/1\",\"nonce\":\"n0nce-A_b\","
	    "\"url\":\"https://ca.test/new-order\"}", alg);
	assert_string_equal(hdr, want);
	pay = b64_str(payb);
	assert_string_equal(pay, payload);
	assert_true(verify(verify_key, digest, coord, prot, payb, sig));

	tampered = b64u_encode("{\"identifiers\":[]}", 18);
	assert_false(verify(verify_key, digest, coord, prot, tampered, sig));
	free(tampered);
	free(pay);
	free(hdr);
	json_decref(jws);
	free(out);

	/* jwk form, POST-as-GET, no nonce. */
	out = jws_sign(key, NULL, NULL, "https://ca.test/new-acct", NULL);
	assert_non_null(out);
	jws = json_loads(out, 0, NULL);
	prot = json_string_value(json_object_get(jws, "protected"));
	payb = json_string_value(json_object_get(jws, "payload"));
	sig = json_string_value(json_object_get(jws, "signature"));
	assert_string_equal(payb, "");
	hdr = b64_str(prot);
	h = json_loads(hdr, 0, NULL);
	assert_non_null(h);
	assert_int_equal(json_object_size(h), 3);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), alg);
	assert_null(json_object_get(h, "kid"));
	assert_null(json_object_get(h, "nonce"));
	jwk = jws_jwk(verify_key);
	assert_true(json_equal(json_object_get(h, "jwk"), jwk));
	assert_true(strncmp(hdr, "{\"alg\":", 7) == 0);
	assert_non_null(strstr(hdr, "},\"url\":\"https://ca.test/new-acct\"}"));
	assert_true(verify(verify_key, digest, coord, prot, payb, sig));
	assert_false(verify(verify_key, digest, coord, prot, "e30", sig));
	json_decref(jwk);
	json_decref(h);
	free(hdr);
	json_decref(jws);
	free(out);
}

static void
test_sign(void **state)
{
	(void)state;
	check_sign(p256_key, p256_key, "ES256", "SHA256", 32);
	check_sign(p384_key, p384_key, "ES384", "SHA384", 48);
	check_sign(rsa_key, rsa_key, "RS256", "SHA256", 0);
	assert_null(jws_sign(p256_key, NULL, NULL, NULL, NULL));
}

static void
check_private_round_trip(EVP_PKEY *key, const char *digest, size_t coord,
    size_t members)
{
	json_t		*priv;
	EVP_PKEY	*back;
	char		*tp1, *tp2;

	priv = jws_jwk_private(key);
	assert_non_null(priv);
	assert_int_equal(json_object_size(priv), members);
	back = jws_key_from_jwk(priv);
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(key, back), 1);
	tp1 = jws_thumbprint(key);
	tp2 = jws_thumbprint(back);
	assert_string_equal(tp1, tp2);
	free(tp1);
	free(tp2);
	/* Sign with the restored key, verify with the original. */
	check_sign(back, key, jws_alg(key), digest, coord);
	EVP_PKEY_free(back);
	json_decref(priv);
}

static void
test_private_round_trip(void **state)
{
	json_t		*priv;
	EVP_PKEY	*back;

	(void)state;
	check_private_round_trip(p256_key, "SHA256", 32, 5);
	check_private_round_trip(p384_key, "SHA384", 48, 5);
	check_private_round_trip(rsa_key, "SHA256", 0, 9);

	/* n, e, d only (no CRT members) still makes a working key. */
	priv = jws_jwk_private(rsa_key);
	json_object_del(priv, "p");
	json_object_del(priv, "q");
	json_object_del(priv, "dp");
	json_object_del(priv, "dq");
	json_object_del(priv, "qi");
	back = jws_key_from_jwk(priv);
	assert_non_null(back);
	check_sign(back, rsa_key, "RS256", "SHA256", 0);
	EVP_PKEY_free(back);
	json_decref(priv);
}

static void
test_key_from_jwk_rejects(void **state)
{
	json_t	*priv, *other, *bad;

	(void)state;
	priv = jws_jwk_private(p256_key);
	other = jws_jwk_private(p384_key);

	bad = json_deep_copy(priv);		/* no d */
	json_object_del(bad, "d");
	assert_null(jws_key_from_jwk(bad));
	json_decref(bad);

	bad = json_deep_copy(priv);		/* unknown curve */
	json_object_set_new(bad, "crv", json_string("P-521"));
	assert_null(jws_key_from_jwk(bad));
	json_decref(bad);

	bad = json_deep_copy(priv);		/* d of another key */
	json_object_set_new(bad, "d", json_string("Be4FpMWrCn1Q2VwhBdz8t3u6"
	    "ArHm8EptE1z7VGEBWhM"));
	assert_null(jws_key_from_jwk(bad));
	json_decref(bad);

	bad = json_deep_copy(priv);		/* x of a P-384 key */
	json_object_set(bad, "x", json_object_get(other, "x"));
	assert_null(jws_key_from_jwk(bad));
	json_decref(bad);

	bad = json_deep_copy(priv);		/* not base64url */
	json_object_set_new(bad, "y", json_string("ab+/"));
	assert_null(jws_key_from_jwk(bad));
	json_decref(bad);

	bad = json_deep_copy(priv);
	json_object_set_new(bad, "kty", json_string("oct"));
	assert_null(jws_key_from_jwk(bad));
	json_decref(bad);

	json_decref(priv);
	priv = jws_jwk_private(rsa_key);
	bad = json_deep_copy(priv);		/* half the CRT members */
	json_object_del(bad, "dq");
	json_object_del(bad, "qi");
	assert_null(jws_key_from_jwk(bad));
	json_decref(bad);

	bad = json_deep_copy(priv);		/* no n */
	json_object_del(bad, "n");
	assert_null(jws_key_from_jwk(bad));
	json_decref(bad);

	json_decref(priv);
	json_decref(other);
}

static void
test_eab(void **state)
{
	(void)state;
	/* "secret-hmac-key-0123456789" in base64url. */
	const char	*hkey_b64 = "c2VjcmV0LWhtYWMta2V5LTAxMjM0NTY3ODk";
	const char	*hkey = "secret-hmac-key-0123456789";
	json_t		*eab, *jwk, *pj;
	const char	*prot, *payb, *sig;
	char		*hdr, *pay, *input, *want;
	unsigned char	 mac[64];
	size_t		 maclen;

	eab = jws_eab(p256_key, "kid-1", hkey_b64, "https://ca.test/new-acct");
	assert_non_null(eab);
	prot = json_string_value(json_object_get(eab, "protected"));
	payb = json_string_value(json_object_get(eab, "payload"));
	sig = json_string_value(json_object_get(eab, "signature"));
	hdr = b64_str(prot);
	assert_string_equal(hdr, "{\"alg\":\"HS256\",\"kid\":\"kid-1\","
	    "\"url\":\"https://ca.test/new-acct\"}");
	pay = b64_str(payb);
	pj = json_loads(pay, 0, NULL);
	jwk = jws_jwk(p256_key);
	assert_true(json_equal(pj, jwk));

	/* Independent HMAC over the signing input. */
	assert_true(asprintf(&input, "%s.%s", prot, payb) > 0);
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, hkey,
	    strlen(hkey), (unsigned char *)input, strlen(input), mac,
	    sizeof mac, &maclen));
	assert_int_equal(maclen, 32);
	want = b64u_encode(mac, maclen);
	assert_string_equal(sig, want);

	free(want);
	free(input);
	json_decref(jwk);
	json_decref(pj);
	free(pay);
	free(hdr);
	json_decref(eab);

	assert_null(jws_eab(p256_key, "kid-1", "not+base64", "https://x/"));
	assert_null(jws_eab(p256_key, "kid-1", "", "https://x/"));
	assert_null(jws_eab(p256_key, "", hkey_b64, "https://x/"));
}

static void
test_unsupported_key(void **state)
{
	EVP_PKEY	*ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	assert_non_null(ed);
	assert_null(jws_alg(ed));
	assert_null(jws_jwk(ed));
	assert_null(jws_thumbprint(ed));
	assert_null(jws_sign(ed, "kid", "nonce", "https://x/", "{}"));
	EVP_PKEY_free(ed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7638),
		cmocka_unit_test(test_ec_jwk_vector),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_private_round_trip),
		cmocka_unit_test(test_key_from_jwk_rejects),
		cmocka_unit_test(test_eab),
		cmocka_unit_test(test_unsupported_key),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
