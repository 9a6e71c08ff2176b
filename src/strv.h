/*
 * strv.h: joining lists of strings.  Report lines, hook environments
 * (RENEWED_DOMAINS) and renewal confs all print a list of names; they all
 * join it here instead of each sizing its own buffer for strcat.
 */
#ifndef EXTAUTH_STRV_H
#define EXTAUTH_STRV_H

#include <stddef.h>

#include <jansson.h>

/* v[0] sep v[1] sep ... v[n-1]; "" for n == 0.  Caller frees; NULL when
 * out of memory. */
char	*strv_join(char *const *v, size_t n, const char *sep);
/* The same over a JSON array of strings; a member that is not a string
 * is skipped.  Caller frees; NULL when out of memory. */
char	*strv_join_json(const json_t *arr, const char *sep);

#endif
