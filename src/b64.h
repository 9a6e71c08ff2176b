/*
 * b64.h: base64url without padding (RFC 4648 §5, RFC 7515 §2), the only
 * encoding ACME uses on the wire.
 */
#ifndef EXTAUTH_B64_H
#define EXTAUTH_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Returns a new NUL-terminated string; caller frees.  NULL on ENOMEM. */
char		*b64u_encode(const void *, size_t);
/* Decodes base64url (padding tolerated); returns a new buffer of *outlen
 * bytes (plus a NUL the length does not count); caller frees.  NULL if the
 * input holds a character outside the alphabet or a dangling bit group. */
unsigned char	*b64u_decode(const char *, size_t *outlen);
/* True if s is non-empty and only [A-Za-z0-9_-]: what a CA token must be
 * before it reaches a path, a handler or a URL. */
bool		 b64u_valid(const char *s);

#endif
