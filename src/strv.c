/*
 * strv.c: string-list joining (see strv.h).  The length is summed first
 * with overflow checks, then the pieces are copied with memcpy, so no
 * caller hand-sizes a buffer for strcat.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

/* Joins the n strings that get(ctx, i) returns (NULL ones skipped). */
static char *
join_with(const char *(*get)(const void *, size_t), const void *ctx,
    size_t n, const char *sep)
{
	size_t		 len = 1, seplen = strlen(sep), i, off = 0, l;
	const char	*p;
	char		*s;
	int		 first = 1;

	for (i = 0; i < n; i++) {
		if ((p = get(ctx, i)) == NULL)
			continue;
		l = strlen(p);
		if (SIZE_MAX - len < l + seplen)
			return NULL;
		len += l + seplen;
	}
	if ((s = malloc(len)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((p = get(ctx, i)) == NULL)
			continue;
		if (!first) {
			memcpy(s + off, sep, seplen);
			off += seplen;
		}
		first = 0;
		l = strlen(p);
		memcpy(s + off, p, l);
		off += l;
	}
	s[off] = '\0';
	return s;
}

static const char *
get_vec(const void *ctx, size_t i)
{
	return ((char *const *)ctx)[i];
}

static const char *
get_json(const void *ctx, size_t i)
{
	return json_string_value(json_array_get((const json_t *)ctx, i));
}

char *
strv_join(char *const *v, size_t n, const char *sep)
{
	return join_with(get_vec, v, n, sep);
}

char *
strv_join_json(const json_t *arr, const char *sep)
{
	return join_with(get_json, arr, json_array_size(arr), sep);
}
