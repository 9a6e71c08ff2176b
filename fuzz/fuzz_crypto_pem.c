/*
 * fuzz_crypto_pem.c: libFuzzer harness for PEM and certificate loading
 * (crypto.c): the CA's certificate chain, cert.pem files of an existing
 * lineage and --csr files are outside input.  The first byte picks the
 * entry point, the rest is the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crypto_cert_info	 info;
	unsigned char		*der;
	char			*leaf = NULL, *issuers = NULL, *pem, **names;
	size_t			 n, nn, derlen;

	if (size < 1)
		return 0;
	log_init(0, true);
	n = size - 1;
	if ((pem = malloc(n + 1)) == NULL)
		return 0;
	memcpy(pem, data + 1, n);
	pem[n] = '\0';
	switch (data[0] % 4) {
	case 0:
		memset(&info, 0, sizeof info);
		if (crypto_cert_info(pem, n, &info) == 0)
			crypto_cert_info_free(&info);
		break;
	case 1:
		if (crypto_chain_split(pem, n, &leaf, &issuers) == 0) {
			if (leaf == NULL || issuers == NULL)
				abort();
			free(leaf);
			free(issuers);
		}
		break;
	case 2:
		if ((der = crypto_cert_der(pem, n, &derlen)) != NULL)
			free(der);
		break;
	default:
		/* a --csr file, PEM or DER */
		if (crypto_csr_names(data + 1, n, &names, &nn, &der,
		    &derlen) == 0) {
			crypto_names_free(names, nn);
			free(der);
		}
		break;
	}
	free(pem);
	return 0;
}
