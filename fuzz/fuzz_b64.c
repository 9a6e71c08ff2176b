/*
 * fuzz_b64.c: libFuzzer harness for base64url (b64.c): CA tokens, JWS
 * parts and EAB keys are decoded from outside input.  Properties: what
 * decode accepts is canonical (encode(decode(s)) gives s back without its
 * padding: dangling bits are refused), and encode then decode is the
 * identity on any bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*d;
	char		*s, *e;
	size_t		 n, len;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	if ((d = b64u_decode(s, &n)) != NULL) {
		if ((e = b64u_encode(d, n)) == NULL)
			abort();
		while (len > 0 && s[len - 1] == '=')
			len--;
		if (strlen(e) != len || strncmp(e, s, len) != 0)
			abort();
		free(e);
		free(d);
	}
	if ((e = b64u_encode(data, size)) == NULL)
		abort();
	if (!b64u_valid(e) && size > 0)
		abort();
	if ((d = b64u_decode(e, &n)) == NULL || n != size ||
	    memcmp(d, data, size) != 0)
		abort();
	free(d);
	free(e);
	free(s);
	return 0;
}
