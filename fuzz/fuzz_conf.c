/*
 * fuzz_conf.c: libFuzzer harness for the renewal-conf reader (conf_read),
 * which reads files anyone with write access to renewal/ (or a certbot
 * install) may have shaped.  Beyond "no crash, no leak": whatever the
 * reader accepts, the writer writes back as a file the reader accepts
 * again, with the same values (the round trip of issue 11 item 8).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz_file.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every value of a must be in b, same section, key and text. */
static void
same_values(const struct conf *a, const struct conf *b)
{
	const char	*v;
	size_t		 i;

	for (i = 0; i < a->n; i++) {
		v = conf_get(b, a->kv[i].section, a->kv[i].key);
		if (v == NULL || strcmp(v, a->kv[i].value) != 0) {
			fprintf(stderr, "round trip changed [%s] %s\n",
			    a->kv[i].section ? a->kv[i].section : "",
			    a->kv[i].key);
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	 c, again;
	char		 out[4096];

	log_init(0, true);
	if (conf_read(fuzz_write("in.conf", data, size), &c) != ERR_OK)
		return 0;
	snprintf(out, sizeof out, "%s/out.conf", fuzz_dir());
	if (conf_write(out, &c) == ERR_OK) {
		if (conf_read(out, &again) != ERR_OK) {
			fprintf(stderr, "conf_write wrote what conf_read "
			    "rejects\n");
			abort();
		}
		same_values(&c, &again);
		conf_clear(&again);
	}
	conf_clear(&c);
	return 0;
}
