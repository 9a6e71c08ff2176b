/*
 * fuzz_http_headers.c: libFuzzer harness for the parsers of the CA's
 * response headers (http.c): Retry-After (delta-seconds or an HTTP-date)
 * and Link (alternate chains, the "up" of a challenge).  Properties: a
 * Retry-After is -1 or not negative; Link never returns more targets than
 * asked and each one is a string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define TARGETS	4

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *targets[TARGETS] = { 0 }, *up = NULL;
	size_t	 n = 0, i;
	long	 ra;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ra = http_parse_retry_after(s, (time_t)1700000000);
	if (ra < -1)
		abort();
	(void)http_parse_link(s, targets, TARGETS, &n, &up);
	if (n > TARGETS)
		abort();
	for (i = 0; i < n; i++) {
		if (targets[i] == NULL)
			abort();
		free(targets[i]);
	}
	free(up);
	free(s);
	return 0;
}
