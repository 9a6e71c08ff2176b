/*
 * cli_table.h: the verb and option tables of cli.c, shared with clidoc.c
 * only, which renders them as --help, completions and extauth(1).  Not a
 * public interface: everybody else reads struct config (cli.h).
 */
#ifndef EXTAUTH_CLI_TABLE_H
#define EXTAUTH_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct verb_def {
	const char	*name;
	const char	*args;		/* words after the verb, or NULL */
	const char	*purpose;
};

/* Which verbs an option applies to (help VERB, completion, man). */
#define V(x)		(1u << (x))
#define V_ALL		((1u << VERB__COUNT) - 1)
#define V_GET		(V(VERB_RUN) | V(VERB_CERTONLY))
#define V_OBTAIN	(V_GET | V(VERB_RENEW))
#define V_ACCOUNT	(V(VERB_REGISTER) | V(VERB_UNREGISTER) | \
			    V(VERB_SHOW_ACCOUNT) | V(VERB_UPDATE_ACCOUNT))
#define V_NEWACCT	(V_OBTAIN | V(VERB_REGISTER))
#define V_CONTACT	(V_NEWACCT | V(VERB_UPDATE_ACCOUNT))
#define V_CA		(V_OBTAIN | V_ACCOUNT | V(VERB_REVOKE))
#define V_SOLVE		(V_CA | V(VERB_CERTBOT_HOOK))
#define V_HIDDEN	0u	/* accepted, never listed */

/* Options whose value needs more than a store: apply()'s switch. */
enum opt {
	OPT_PLAIN,	/* handled by its kind alone */
	OPT_SERVER, OPT_STAGING, OPT_CA_BUNDLE, OPT_EMAIL, OPT_DOMAINS,
	OPT_PREF_CHALLS, OPT_KEY_TYPE, OPT_RSA_SIZE, OPT_CURVE,
	OPT_CONFIGURATOR, OPT_AUTHENTICATOR, OPT_INSTALLER, OPT_MODE,
	OPT_TEXT_MODE, OPT_DEHYDRATED, OPT_DNS_RESOLVER, OPT_EAB_HMAC_FILE,
	OPT_MUST_STAPLE, OPT_COMPLETION,
	OPT_EFF_EMAIL, OPT_TEXT, OPT_IP_LOGGING,	/* no effect; ids pair aliases */
	OPT__COUNT
};

/* What a plain option does to the config. */
enum opt_kind {
	KIND_LOGIC,	/* apply()'s switch (id) */
	KIND_STR,	/* const char * at off = the value */
	KIND_TRUE,	/* bool at off = true */
	KIND_FALSE,	/* bool at off = false */
	KIND_LONG,	/* long at off = the value, lo..hi */
	KIND_COUNT,	/* int at off += 1 (-vvv) */
	KIND_NOP,	/* accepted, no effect (certbot's) */
	KIND__COUNT
};

struct opt_def {
	const char	*name;	/* long name without "--" */
	char		 shortopt;
	enum opt_kind	 kind;
	size_t		 off;	/* offsetof(struct config, field) */
	enum opt	 id;
	long		 lo, hi;	/* KIND_LONG's range */
	unsigned	 verbs;	/* V(...) mask; 0 = hidden */
	const char	*arg;	/* metavar (a|b: the choices), NULL: no value */
	const char	*help;	/* NULL: an alias, listed with its main name */
};

extern const struct verb_def	cli_verbs[VERB__COUNT];
extern const struct opt_def	cli_opts[];
extern const size_t		cli_n_opts;

#endif
