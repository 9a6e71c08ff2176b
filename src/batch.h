/*
 * batch.h: certonly --batch FILE, many certificates in one run (issue
 * 10): every line of FILE is checked before the CA hears of any, then
 * the certificates are obtained over one account and one connection.
 */
#ifndef EXTAUTH_BATCH_H
#define EXTAUTH_BATCH_H

#include "cli.h"
#include "err.h"

/* ERR_USAGE when a line is bad (each reported with FILE:LINE, nothing
 * sent); ERR_PARTIAL when some certificates failed, ERR_RATELIMIT when
 * the only failures were rate limits. */
enum err	 batch_certonly(const struct config *);

#endif
