/*
 * fuzz_clini.c: libFuzzer harness for the cli.ini reader (clini_load):
 * certbot's config file, which an operator edits by hand.  The lookup
 * classifies keys like the real option table does (flags, keys taking a
 * value, unknown keys), from the key's first letter, so every branch is
 * reachable.  Whatever is accepted must be a well-formed argv whose words
 * come from the file ("--" + key, or a value; a bare key given a value
 * becomes "true", hence the slack of 8).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clini.h"
#include "fuzz_file.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static enum clini_key
lookup(const char *key)
{
	switch (key[0] % 3) {
	case 0:
		return CLINI_KEY_FLAG;
	case 1:
		return CLINI_KEY_VALUE;
	default:
		return CLINI_KEY_UNKNOWN;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*path;
	char		**argv = NULL;
	int		 argc = 0, i, pass, *lines = NULL;

	log_init(0, true);
	path = fuzz_write("cli.ini", data, size);
	for (pass = 0; pass < 2; pass++) {
		if (clini_load(path, pass == 0 ? NULL : lookup, &argc,
		    &argv, pass == 0 ? NULL : &lines) != ERR_OK)
			continue;
		for (i = 0; i < argc; i++) {
			if (argv[i] == NULL || strlen(argv[i]) > size + 8)
				abort();
			/* a line number within the file */
			if (lines != NULL && (lines[i] < 1 ||
			    (size_t)lines[i] > size + 1))
				abort();
		}
		if (argv[argc] != NULL)
			abort();
		clini_free(argv);
		free(lines);
		argv = NULL;
		lines = NULL;
	}
	return 0;
}
