/*
 * main.c: process set-up (fds 0-2 open, SIGPIPE ignored, stdout line
 * discipline), the verb dispatch, and the only place an exit code is
 * chosen.
 */
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "clidoc.h"
#include "cmd.h"
#include "log.h"
#include "sig.h"

/* A daemon or cron may start us with 0-2 closed: a later open() would
 * then land on fd 1 and a key could end up on "stdout". */
static void
fds_sanity(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/* Where a run's CPU went, ours and the handlers' and hooks' (children
 * waited for), for -v and bench/many.sh. */
static void
report_cpu(void)
{
	struct rusage	self, kids;

	if (getrusage(RUSAGE_SELF, &self) == -1 ||
	    getrusage(RUSAGE_CHILDREN, &kids) == -1)
		return;
	log_debug("CPU: extauth %.3f s user, %.3f s system; handlers and "
	    "hooks %.3f s user, %.3f s system",
	    (double)self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6,
	    (double)self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6,
	    (double)kids.ru_utime.tv_sec + kids.ru_utime.tv_usec / 1e6,
	    (double)kids.ru_stime.tv_sec + kids.ru_stime.tv_usec / 1e6);
}

int
main(int argc, char **argv)
{
	struct config	cfg;
	enum err	e;
	int		check = 3;	/* certificates --check: Nagios status */
	bool		check_mode = false;

	fds_sanity();
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "extauth: cannot initialise libcurl\n");
		return err_exit_code(ERR_INTERNAL);
	}
	if ((e = cli_parse(argc, argv, &cfg)) != ERR_OK)
		goto out;
	if (cfg.print_completion != NULL) {
		e = clidoc_completion(cfg.print_completion);
		goto out;
	}
	if (cfg.print_man) {
		clidoc_man();
		goto out;
	}
	if (cfg.show_help) {
		clidoc_usage(&cfg);
		goto out;
	}
	if (cfg.show_version) {
		printf("extauth %s\n", cli_version());
		goto out;
	}
	log_init(cfg.verbosity, cfg.quiet);
	log_set_backups(cfg.max_log_backups);
	/* From here on SIGTERM, SIGINT and SIGHUP stop the run in order:
	 * cleanup, report, exit 128 + signal (sig.c). */
	if (sig_install() == -1) {
		log_error("cannot install signal handlers: %s", strerror(errno));
		e = ERR_INTERNAL;
		goto out;
	}
	switch (cfg.verb) {
	case VERB_RUN:
	case VERB_CERTONLY:
		e = cmd_certonly(&cfg);
		break;
	case VERB_RENEW:
		e = cmd_renew(&cfg);
		break;
	case VERB_CERTIFICATES:
		e = cmd_certificates(&cfg, &check);
		check_mode = cfg.check;
		break;
	case VERB_REVOKE:
		e = cmd_revoke(&cfg);
		break;
	case VERB_DELETE:
		e = cmd_delete(&cfg);
		break;
	case VERB_REGISTER:
		e = cmd_register(&cfg);
		break;
	case VERB_UNREGISTER:
		e = cmd_unregister(&cfg);
		break;
	case VERB_SHOW_ACCOUNT:
		e = cmd_show_account(&cfg);
		break;
	case VERB_UPDATE_ACCOUNT:
		e = cmd_update_account(&cfg);
		break;
	case VERB_CERTBOT_HOOK:
		e = cmd_certbot_hook(&cfg);
		break;
	case VERB_RESUME:
		e = cmd_resume(&cfg);
		break;
	case VERB_PENDING:
		e = cmd_pending(&cfg);
		break;
	case VERB__COUNT:
		e = ERR_INTERNAL;
		break;
	}
out:
	cli_config_clear(&cfg);
	report_cpu();
	log_close();
	curl_global_cleanup();
	/* --check speaks the monitoring plugins' exit codes: the status,
	 * or 3 (UNKNOWN) when it could not be found. */
	if (check_mode)
		return e == ERR_OK ? check : 3;
	/* Stopped by a signal after cleanup: 128 + its number, as a shell. */
	if (e == ERR_SIGNAL && sig_pending() != 0)
		return 128 + sig_pending();
	return err_exit_code(e);
}
