/*
 * fuzz_domain.c: libFuzzer harness for the name checks (domain.c) every
 * identifier from the user or the CA goes through.  Properties: a
 * normalized name normalizes to itself, is at most DOMAIN_MAX characters,
 * and is either a valid name, a wildcard of one, or a canonical address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 why[256], *s, *n, *again;
	bool	 ok;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)domain_valid(s);
	(void)domain_is_ip(s);
	if ((n = domain_normalize(s, why, sizeof why)) != NULL) {
		if (strlen(n) > DOMAIN_MAX)
			abort();
		ok = domain_is_ip(n) || domain_valid(n) ||
		    (strncmp(n, "*.", 2) == 0 && domain_valid(n + 2));
		if (!ok)
			abort();
		if ((again = domain_normalize(n, why, sizeof why)) == NULL ||
		    strcmp(again, n) != 0)
			abort();
		free(again);
		free(n);
	} else if (strlen(why) == 0 || memchr(why, '\n', strlen(why)))
		abort();	/* a refusal always says why, on one line */
	free(s);
	return 0;
}
