/*
 * keychange.h: account key rollover (RFC 8555 §7.3.5) without a moment
 * at which a killed run loses the account.  The new key is saved beside
 * the old one first (store.h: rollover_key.json), then the CA is asked to
 * switch, then the local copy switches.  A run that finds a saved new key
 * asks the CA which of the two it holds and settles on that one.
 */
#ifndef EXTAUTH_KEYCHANGE_H
#define EXTAUTH_KEYCHANGE_H

#include "err.h"
#include "session.h"

/*
 * Replaces the session's account key (loaded: session_account) by a new
 * ECDSA P-256 key at the CA and on disk.  On ERR_OK the session signs
 * with the new key and the old one is refused by the CA.  On failure
 * (logged) the session keeps whichever key the CA holds; when that could
 * not be found out, the new key stays saved for the next run to settle.
 */
enum err	 keychange_roll(struct session *);
/*
 * For session_account: the account loaded with its old key has a saved
 * new key (rollover_jwk, private JWK text) from an interrupted rollover.
 * Asks the CA which key it holds for the account, keeps that one on disk
 * and in the session, drops the other.  ERR_ACME (logged, with what to
 * do) when the CA could not be asked: nothing changes then.
 */
enum err	 keychange_settle(struct session *, const char *rollover_jwk);

#endif
