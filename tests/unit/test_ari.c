/* test_ari.c: RFC 9773's CertID (the RFC's own example), the window
 * parser, the random moment and the Retry-After clamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ari.h"

/* A PEM certificate with this AKI key id and serial (hex), or without an
 * AKI when aki is NULL; the caller frees. */
static char *
make_cert(const char *aki, const char *serial_hex)
{
	EVP_PKEY	*k = EVP_EC_gen("P-256");
	X509		*x = X509_new();
	BIGNUM		*bn = NULL;
	BIO		*b = BIO_new(BIO_s_mem());
	char		*data, *pem;
	long		 n;

	assert_non_null(k);
	assert_int_equal(BN_hex2bn(&bn, serial_hex), (int)strlen(serial_hex));
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	/* The extension built by hand, so its key id is the given octets. */
	if (aki != NULL) {
		AUTHORITY_KEYID	*ak = AUTHORITY_KEYID_new();
		unsigned char	*raw = OPENSSL_hexstr2buf(aki, &n);

		assert_non_null(ak);
		assert_non_null(raw);
		assert_non_null(ak->keyid = ASN1_OCTET_STRING_new());
		assert_int_equal(ASN1_OCTET_STRING_set(ak->keyid, raw, (int)n), 1);
		assert_int_equal(X509_add1_ext_i2d(x, NID_authority_key_identifier,
		    ak, 0, X509V3_ADD_DEFAULT), 1);
		AUTHORITY_KEYID_free(ak);
		OPENSSL_free(raw);
	}
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &data);
	pem = strndup(data, (size_t)n);
	BIO_free(b);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(k);
	return pem;
}

static void
cert_id(void **state)
{
	char	*pem, *id;

	(void)state;
	/* RFC 9773 §4.1's example: a serial whose DER needs a leading
	 * zero octet keeps it. */
	pem = make_cert("69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:"
	    "C8:D4", "87654321");
	assert_non_null(id = ari_cert_id(pem, strlen(pem)));
	assert_string_equal(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	free(id);
	free(pem);
	/* No AKI: no CertID, no ARI. */
	pem = make_cert(NULL, "01");
	assert_null(ari_cert_id(pem, strlen(pem)));
	free(pem);
	assert_null(ari_cert_id("junk", 4));
}

static void
window(void **state)
{
	json_t		*o;
	time_t		 s, e;
	const char	*ex;

	(void)state;
	o = json_loads("{\"suggestedWindow\": {\"start\": "
	    "\"2025-01-02T04:00:00Z\", \"end\": \"2025-01-03T04:00:00.123Z\"},"
	    " \"explanationURL\": \"https://acme.example.com/docs/ari\"}", 0,
	    NULL);
	assert_non_null(o);
	assert_true(ari_parse(o, &s, &e, &ex));
	assert_int_equal(s, 1735790400);
	assert_int_equal(e, 1735790400 + 86400);
	assert_string_equal(ex, "https://acme.example.com/docs/ari");
	json_decref(o);
	/* An offset is honoured. */
	o = json_loads("{\"suggestedWindow\": {\"start\": "
	    "\"2025-01-02T06:00:00+02:00\", \"end\": \"2025-01-02T05:00:00Z\"}}",
	    0, NULL);
	assert_true(ari_parse(o, &s, &e, &ex));
	assert_int_equal(s, 1735790400);
	assert_null(ex);
	json_decref(o);
	/* End before start, missing or bad times: no window. */
	o = json_loads("{\"suggestedWindow\": {\"start\": "
	    "\"2025-01-03T04:00:00Z\", \"end\": \"2025-01-02T04:00:00Z\"}}",
	    0, NULL);
	assert_false(ari_parse(o, &s, &e, &ex));
	json_decref(o);
	o = json_loads("{\"suggestedWindow\": {\"start\": \"soon\", "
	    "\"end\": \"2025-01-02T04:00:00Z\"}}", 0, NULL);
	assert_false(ari_parse(o, &s, &e, &ex));
	json_decref(o);
	o = json_loads("{}", 0, NULL);
	assert_false(ari_parse(o, &s, &e, &ex));
	json_decref(o);
	/* An explanation with a newline is not kept. */
	o = json_loads("{\"suggestedWindow\": {\"start\": "
	    "\"2025-01-02T04:00:00Z\", \"end\": \"2025-01-03T04:00:00Z\"},"
	    " \"explanationURL\": \"https://x/\\nextauth: error: fake\"}", 0,
	    NULL);
	assert_true(ari_parse(o, &s, &e, &ex));
	assert_null(ex);
	json_decref(o);
}

static void
choose_and_clamp(void **state)
{
	int	i;
	time_t	t;
	bool	low = false, high = false;

	(void)state;
	for (i = 0; i < 2000; i++) {
		t = ari_choose(1000, 1009);
		assert_true(t >= 1000 && t <= 1009);
		low |= t == 1000;
		high |= t == 1009;
	}
	assert_true(low && high);
	assert_int_equal(ari_choose(5, 5), 5);
	assert_int_equal(ari_retry_after(-1), 21600);
	assert_int_equal(ari_retry_after(0), 60);
	assert_int_equal(ari_retry_after(3600), 3600);
	assert_int_equal(ari_retry_after(999999), 86400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cert_id),
		cmocka_unit_test(window),
		cmocka_unit_test(choose_and_clamp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
