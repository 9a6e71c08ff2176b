/*
 * cli.h: the command line, certbot-style: a verb anywhere among the flags,
 * "--flag value" and "--flag=value", repeatable and comma-separated -d,
 * and every spelling the certbot-external-auth README used.
 */
#ifndef EXTAUTH_CLI_H
#define EXTAUTH_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"
#include "err.h"
#include "event.h"
#include "solver.h"

#define CLI_DOMAINS_MAX	100	/* Let's Encrypt's limit per order */

enum cli_verb {
	VERB_RUN,		/* certbot's default: obtain, then install events */
	VERB_CERTONLY,
	VERB_RENEW,
	VERB_CERTIFICATES,
	VERB_REVOKE,
	VERB_DELETE,
	VERB_REGISTER,
	VERB_UNREGISTER,
	VERB_SHOW_ACCOUNT,
	VERB_UPDATE_ACCOUNT,
	VERB_CERTBOT_HOOK,
	VERB_RESUME,		/* finish a deferred order (pending.h) */
	VERB_PENDING,		/* list or cancel deferred orders */
	VERB__COUNT
};
const char	*cli_verb_name(enum cli_verb);

struct config {
	enum cli_verb		 verb;
	bool			 verb_given;
	char			*hook_args[2];	/* certbot-hook auth|cleanup */

	const char		*server;
	const char		*ca_bundle;
	const char		*config_dir;
	bool			 config_dir_given;	/* not the default */
	const char		*work_dir;
	const char		*logs_dir;
	const char		*email;
	bool			 agree_tos;
	bool			 register_unsafely;
	bool			 eff_email_dummy;

	char			*domains[CLI_DOMAINS_MAX];	/* normalized A-labels */
	size_t			 n_domains;
	const char		*cert_name;
	enum chal_type		 prefs[CHAL__COUNT];
	size_t			 n_prefs;
	bool			 prefs_given;

	struct crypto_key_spec	 key;
	bool			 key_type_given;

	bool			 force_renewal;
	bool			 expand;
	bool			 keep_until_expiring;
	bool			 dry_run;
	bool			 non_interactive;
	bool			 installer;	/* --configurator/-i: run emits installer events */
	int			 verbosity;
	bool			 quiet;

	enum solver_mode	 mode;
	bool			 mode_given;
	const char		*handler;
	long			 handler_timeout_s;
	long			 invoker_timeout_s;	/* 0: no limit */
	long			 max_log_backups;	/* 0: no rotation */
	bool			 hook_chain;
	bool			 parallel_hooks;	/* one order's calls at once */
	bool			 self_check;
	long			 dns_wait_s;	/* --dns-wait: 0 = off */
	bool			 deactivate_authz;
	bool			 allow_cross_origin;	/* order URLs on other hosts */
	const char		*dns_resolver;	/* --dns-resolver IPv4[:PORT] */
	const char		*preferred_profile;	/* profile.h */
	const char		*required_profile;
	const char		*preferred_chain;	/* topmost issuer CN */
	bool			 reuse_key;	/* --reuse-key */
	bool			 no_reuse_key;	/* --no-reuse-key */
	bool			 new_key;	/* --new-key */
	bool			 key_rollover;	/* update_account --key-rollover */
	const char		*socket_path;	/* certbot-hook: invoker's socket */
	const char		*fifo_dir;	/* --fifo: DIR/events, DIR/replies */

	const char		*deploy_hook;
	const char		*pre_hook;
	const char		*post_hook;
	const char		*eab_kid;
	const char		*eab_hmac_key;
	const char		*batch;		/* certonly --batch FILE */
	long			 max_concurrent;	/* orders in flight */
	const char		*csr;
	const char		*cert_path;	/* revoke; certonly --csr */
	const char		*chain_path;	/* certonly --csr */
	const char		*fullchain_path;	/* certonly --csr */
	const char		*reason;	/* revoke */
	bool			 json_output;	/* --json: cmd_result's line */
	bool			 defer;		/* --defer: two-phase mode */
	const char		*resume_id;	/* resume ID, certonly --resume */
	const char		*cancel_id;	/* pending/resume --cancel ID */
	bool			 check;		/* certificates --check */
	long			 warn_days;	/* --check's threshold, 0: overdue */
	const char		*config_file;	/* -c or the default cli.ini read */
	bool			 server_given;	/* --server/--staging, not the default */
	bool			 no_random_sleep;	/* --no-random-sleep-on-renew */
	bool			 show_help;	/* --help, -h, help [VERB] */
	bool			 show_version;
	const char		*print_completion;	/* hidden: bash, zsh or fish */
	bool			 print_man;	/* hidden: scdoc option list */
	char			*owned[16];	/* strings we allocated */
	size_t			 n_owned;
};

/*
 * Parses argv into cfg (defaults first).  On a bad flag or value returns
 * ERR_USAGE after printing one line naming it.  Strings in cfg point into
 * argv or are owned by cfg (domains): free with cli_config_clear.
 */
enum err	 cli_parse(int argc, char **argv, struct config *cfg);
void		 cli_config_clear(struct config *);
/*
 * One line of a certonly --batch file (batch.c), its words in argv[1..argc)
 * (argv[0] unused), parsed with the command line's grammar into cfg, which
 * holds the run's values already: bare words are names (as -d), and only
 * a certificate's own options may follow (-d, --cert-name, --key-type,
 * --rsa-key-size, --elliptic-curve, --preferred-profile,
 * --required-profile).  Strings in cfg point into argv.  On ERR_USAGE two
 * lines were printed, the first naming FILE:LINE.
 */
enum err	 cli_parse_batch_line(const char *file, int line, int argc,
		    char **argv, struct config *cfg);
const char	*cli_version(void);

/*
 * The default cli.ini, read when no -c is given: config_dir's cli.ini when
 * that is certbot's /etc/letsencrypt, else /etc/extauth/cli.ini for root
 * and $XDG_CONFIG_HOME/extauth/cli.ini (~/.config/...) for anybody else.
 * EXTAUTH_CLI_INI, when set, replaces the rule ("" = none).  Returns a new
 * string (caller frees), or NULL for none or out of memory.
 */
char		*cli_default_ini(unsigned uid, const char *config_dir);

/*
 * The server a dry run talks to instead of recorded, certbot's rule: Let's
 * Encrypt production becomes its staging directory (EXTAUTH_STAGING_SERVER
 * overrides that URL, for tests) unless --server was given.  Otherwise
 * recorded itself.
 */
const char	*cli_dry_run_server(const struct config *, const char *recorded);

/*
 * certbot's rule for a dry run the CLI sent to staging: when the user
 * has an account at this server (Let's Encrypt production), they agreed
 * to its terms, so the staging account is registered without asking.
 * NULL when the run is not such a dry run.
 */
const char	*cli_dry_run_agreed_server(const struct config *);

/*
 * renew without a terminal on stdin: sleeps a random 1-480 s (certbot's
 * spread of the load on the CA; EXTAUTH_RANDOM_SLEEP_MAX caps it, for
 * tests), logging the delay.  A signal ends the sleep early: ERR_SIGNAL
 * when one is pending (sig_pending()), so the caller starts nothing.
 * Does nothing with --no-random-sleep-on-renew or a terminal.
 */
enum err	 cli_random_sleep(const struct config *);

#endif
