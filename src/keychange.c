/*
 * keychange.c: account key rollover (keychange.h).  The order is what
 * makes it safe: the new key is on disk before the CA hears of it, and
 * the local switch is one rename once the CA's side is known.  Whatever
 * moment a run is killed at, the disk holds the key the CA has: as
 * private_key.json, or as rollover_key.json, which the next run settles.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "jws.h"
#include "keychange.h"
#include "log.h"
#include "sig.h"
#include "store.h"

/* Whether the CA holds new_key for the session's account. */
static enum err
held(struct session *ss, EVP_PKEY *new_key, bool *new_held)
{
	char		*kid = NULL;
	bool		 known;
	enum err	 e;

	*new_held = false;
	if ((e = acme_account_lookup(ss->acme, new_key, &kid, &known)) !=
	    ERR_OK)
		return e;
	*new_held = known && strcmp(kid, acme_kid(ss->acme)) == 0;
	if (known && !*new_held)
		log_warn("the new key of account %s belongs to another account "
		    "(%s) at the CA; it is not used", ss->account_id, kid);
	free(kid);
	return ERR_OK;
}

/*
 * The disk first, then the session: adopt renames the new key over
 * private_key.json and makes *new_key the session's (it takes *new_key);
 * otherwise the new key's file goes and the session keeps the old key.
 */
static enum err
settle_on(struct session *ss, EVP_PKEY **new_key, bool adopt)
{
	char		*kid = NULL;
	enum err	 e;

	if ((e = store_account_end_rollover(&ss->store, ss->server,
	    ss->account_id, adopt)) != ERR_OK || !adopt)
		return e;
	/* acme_set_account replaces the kid it is given: a copy. */
	if ((kid = strdup(acme_kid(ss->acme))) == NULL ||
	    acme_set_account(ss->acme, *new_key, kid) != ERR_OK) {
		free(kid);
		log_error("out of memory");
		return ERR_INTERNAL;
	}
	free(kid);
	EVP_PKEY_free(ss->account_key);
	ss->account_key = *new_key;
	*new_key = NULL;
	return ERR_OK;
}

/* The CA could not say which key it holds: nothing is changed. */
static void
unknown_outcome(const struct session *ss)
{
	log_error("account %s: whether the CA holds its new key is unknown; "
	    "both keys are kept", ss->account_id);
	log_error("run extauth again (any verb that uses the account): it "
	    "asks the CA and keeps the key it holds");
}

enum err
keychange_roll(struct session *ss)
{
	struct crypto_key_spec	 spec = { CRYPTO_KEY_ECDSA, 0, "secp256r1" };
	EVP_PKEY		*new_key = NULL;
	json_t			*jwk = NULL;
	char			*jwk_s = NULL;
	enum err		 e = ERR_INTERNAL, eh;
	bool			 adopt = true;

	if ((new_key = crypto_key_generate(&spec)) == NULL ||
	    (jwk = jws_jwk_private(new_key)) == NULL ||
	    (jwk_s = json_dumps(jwk, JSON_COMPACT)) == NULL)
		goto out;
	/* Saved before the CA is asked: a run killed after the CA's
	 * switch still has the key the CA now wants. */
	if ((e = store_account_save_rollover(&ss->store, ss->server,
	    ss->account_id, jwk_s)) != ERR_OK)
		goto out;
	if ((e = acme_key_change(ss->acme, new_key)) != ERR_OK) {
		if (sig_pending() != 0) {
			unknown_outcome(ss);
			goto out;
		}
		/* Refused, or the answer was lost after the CA acted (a
		 * retried keyChange is refused once the old key is gone):
		 * the CA itself says which key it holds. */
		if ((eh = held(ss, new_key, &adopt)) != ERR_OK) {
			unknown_outcome(ss);
			goto out;
		}
		if (adopt) {
			log_info("account %s: the CA holds the new key after "
			    "all", ss->account_id);
			e = ERR_OK;
		} else
			log_error("account %s keeps its old key, which the CA "
			    "still holds: run update_account --key-rollover "
			    "again later", ss->account_id);
	}
	eh = settle_on(ss, &new_key, adopt);
	if (e == ERR_OK)
		e = eh;
out:
	EVP_PKEY_free(new_key);
	json_decref(jwk);
	if (jwk_s != NULL) {
		explicit_bzero(jwk_s, strlen(jwk_s));
		free(jwk_s);
	}
	return e;
}

enum err
keychange_settle(struct session *ss, const char *rollover_jwk)
{
	EVP_PKEY	*new_key = NULL;
	json_t		*jwk;
	json_error_t	 jerr;
	enum err	 e;
	bool		 adopt = false;

	if ((jwk = json_loads(rollover_jwk, 0, &jerr)) == NULL ||
	    (new_key = jws_key_from_jwk(jwk)) == NULL) {
		/* Written atomically, so never half a key: the CA cannot
		 * hold a key we cannot read. */
		log_warn("account %s: rollover_key.json is not a usable key; "
		    "removing it", ss->account_id);
		e = settle_on(ss, &new_key, false);
		goto out;
	}
	if ((e = held(ss, new_key, &adopt)) != ERR_OK) {
		unknown_outcome(ss);
		goto out;
	}
	log_warn("account %s: an earlier key rollover was interrupted; the CA "
	    "holds the %s key, which is kept", ss->account_id, adopt ? "new" :
	    "old");
	e = settle_on(ss, &new_key, adopt);
out:
	EVP_PKEY_free(new_key);
	json_decref(jwk);
	return e;
}
