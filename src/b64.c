/*
 * b64.c: base64url without padding.  Owns the alphabet and the decoder's
 * strictness: what a CA sends us (tokens, nonces, keys) is checked here
 * before it can reach a path, a header or a signature.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

static const char b64u_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
_Static_assert(sizeof(b64u_alphabet) == 64 + 1,
    "base64url alphabet must hold 64 symbols");

/* Value of c in the url alphabet, or -1. */
static int
b64u_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Returns a new NUL-terminated string; caller frees. */
char *
b64u_encode(const void *data, size_t len)
{
	const unsigned char	*p = data;
	char			*out, *o;
	size_t			 i;
	uint32_t		 v;

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return NULL;
	if ((out = malloc(len / 3 * 4 + 4)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64u_alphabet[v >> 18 & 0x3f];
		*o++ = b64u_alphabet[v >> 12 & 0x3f];
		*o++ = b64u_alphabet[v >> 6 & 0x3f];
		*o++ = b64u_alphabet[v & 0x3f];
	}
	/* No padding: RFC 7515 §2 drops it, and ACME servers reject it. */
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		*o++ = b64u_alphabet[v >> 18 & 0x3f];
		*o++ = b64u_alphabet[v >> 12 & 0x3f];
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = b64u_alphabet[v >> 18 & 0x3f];
		*o++ = b64u_alphabet[v >> 12 & 0x3f];
		*o++ = b64u_alphabet[v >> 6 & 0x3f];
	}
	*o = '\0';
	return out;
}

/*
 * Returns a new buffer of *outlen bytes plus a NUL; caller frees.
 * Trailing '=' is tolerated only where it completes the last group, and
 * the unused low bits of a short last group must be zero: each value then
 * has exactly one accepted spelling, so a token cannot alias another.
 */
unsigned char *
b64u_decode(const char *in, size_t *outlen)
{
	unsigned char	*buf = NULL, *o, *ret = NULL;
	size_t		 len, npad = 0, i, rem;
	uint32_t	 v = 0;
	int		 c;

	if (in == NULL)
		goto out;
	len = strlen(in);
	while (len > 0 && in[len - 1] == '=' && npad < 2) {
		len--;
		npad++;
	}
	rem = len % 4;
	if (rem == 1)
		goto out;			/* 6 bits cannot make a byte */
	if (npad > 0 && (rem == 0 || rem + npad != 4))
		goto out;
	if ((buf = malloc(len / 4 * 3 + 3)) == NULL)
		goto out;
	o = buf;
	for (i = 0; i < len; i++) {
		if ((c = b64u_value((unsigned char)in[i])) < 0)
			goto out;
		v = v << 6 | (uint32_t)c;
		if (i % 4 == 3) {
			*o++ = (unsigned char)(v >> 16);
			*o++ = (unsigned char)(v >> 8);
			*o++ = (unsigned char)v;
			v = 0;
		}
	}
	if (rem == 2) {
		if (v & 0x0f)
			goto out;
		*o++ = (unsigned char)(v >> 4);
	} else if (rem == 3) {
		if (v & 0x03)
			goto out;
		*o++ = (unsigned char)(v >> 10);
		*o++ = (unsigned char)(v >> 2);
	}
	*o = '\0';
	if (outlen != NULL)
		*outlen = (size_t)(o - buf);
	ret = buf;
	buf = NULL;
out:
	free(buf);
	return ret;
}

bool
b64u_valid(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (b64u_value((unsigned char)*s) < 0)
			return false;
	return true;
}
