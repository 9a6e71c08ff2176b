/*
 * test_b64.c: base64url encoder and strict decoder (src/b64.c): RFC 4648
 * vectors in the url alphabet, round trips of every length 0..64, and the
 * inputs the decoder must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"

static const struct {
	const char	*raw;
	size_t		 len;
	const char	*enc;
} vectors[] = {
	/* RFC 4648 §10, padding dropped. */
	{ "", 0, "" },
	{ "f", 1, "Zg" },
	{ "fo", 2, "Zm8" },
	{ "foo", 3, "Zm9v" },
	{ "foob", 4, "Zm9vYg" },
	{ "fooba", 5, "Zm9vYmE" },
	{ "foobar", 6, "Zm9vYmFy" },
	/* The two symbols that differ from standard base64 ("+/8", "+g"). */
	{ "\xfb\xff", 2, "-_8" },
	{ "\xfa", 1, "-g" },
	{ "\xfb\xef\xbe", 3, "----" },
	{ "\xff\xff\xff", 3, "____" },
	{ "\x00\x00", 2, "AAA" },
};

static void
test_vectors(void **state)
{
	unsigned char	*dec;
	char		*enc;
	size_t		 i, len;

	(void)state;
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		enc = b64u_encode(vectors[i].raw, vectors[i].len);
		assert_non_null(enc);
		assert_string_equal(enc, vectors[i].enc);
		free(enc);
		len = 9999;
		dec = b64u_decode(vectors[i].enc, &len);
		assert_non_null(dec);
		assert_int_equal(len, vectors[i].len);
		assert_memory_equal(dec, vectors[i].raw, len);
		assert_int_equal(dec[len], '\0');
		free(dec);
	}
}

/* xorshift32: fixed seed, so a failure reproduces. */
static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_round_trip(void **state)
{
	unsigned char	 buf[64], *dec;
	char		*enc;
	uint32_t	 seed = 0x2545f491;
	size_t		 len, i, declen;

	(void)state;
	for (len = 0; len <= sizeof buf; len++) {
		for (i = 0; i < len; i++)
			buf[i] = (unsigned char)next_rand(&seed);
		enc = b64u_encode(buf, len);
		assert_non_null(enc);
		/* 4 symbols per 3 bytes, short group without '='. */
		assert_int_equal(strlen(enc), (len * 4 + 2) / 3);
		assert_null(strpbrk(enc, "+/="));
		assert_true(len == 0 || b64u_valid(enc));
		dec = b64u_decode(enc, &declen);
		assert_non_null(dec);
		assert_int_equal(declen, len);
		assert_memory_equal(dec, buf, len);
		free(dec);
		free(enc);
	}
}

static void
test_padding_tolerated(void **state)
{
	(void)state;
	static const struct {
		const char	*in;
		const char	*out;
	} ok[] = {
		{ "Zg==", "f" },
		{ "Zm8=", "fo" },
		{ "Zm9vYg==", "foob" },
	};
	unsigned char	*dec;
	size_t		 i, len;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		dec = b64u_decode(ok[i].in, &len);
		assert_non_null(dec);
		assert_int_equal(len, strlen(ok[i].out));
		assert_memory_equal(dec, ok[i].out, len);
		free(dec);
	}
}

static void
test_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"Zm+v",		/* standard alphabet */
		"Zm/v",
		"Zm=v",		/* padding in the middle */
		"=Zm9",
		"Zm9v=",	/* padding after a full group */
		"Zg=",		/* padding that does not complete the group */
		"Zg===",
		"=",
		"==",
		"Zm9v Yg",	/* whitespace */
		"Zm9v\n",
		"\tZm9v",
		"Z",		/* dangling 6 bits */
		"Zm9vY",
		"Zh",		/* non-zero bits after the last byte */
		"Zm9",
		"Zm9vYmF",
		"Zm9v.Yg",
		"\xc3\xa9",
	};
	size_t	i, len;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned char *dec = b64u_decode(bad[i], &len);

		if (dec != NULL)
			fail_msg("accepted bad input #%zu \"%s\"", i, bad[i]);
	}
	assert_null(b64u_decode(NULL, &len));
}

static void
test_valid(void **state)
{
	(void)state;
	static const struct {
		const char	*s;
		bool		 ok;
	} table[] = {
		{ "", false },
		{ "a", true },
		{ "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", true },
		{ "AZaz09-_", true },
		{ "a=", false },
		{ "a b", false },
		{ "a/b", false },
		{ "a+b", false },
		{ "a.b", false },
		{ "../etc/passwd", false },
		{ "a\n", false },
		{ "tok\xc3\xa9", false },
	};
	size_t	i;

	for (i = 0; i < sizeof table / sizeof table[0]; i++)
		if (b64u_valid(table[i].s) != table[i].ok)
			fail_msg("b64u_valid(\"%s\") != %d", table[i].s,
			    table[i].ok);
	assert_false(b64u_valid(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_padding_tolerated),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
