/*
 * clidoc.c: the option table (cli_table.h) rendered for people and
 * shells: --help and help VERB, the bash, zsh and fish completions, and
 * the VERBS, OPTIONS and EXIT STATUS sections of extauth(1) in scdoc.
 * Nothing here is written by hand twice: a new option is one row in cli.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli_table.h"
#include "clidoc.h"
#include "err.h"

/* What the exit codes mean, for --help and extauth(1); err.c owns the
 * codes and names.  A class added there without a line here is listed by
 * name alone. */
static const char *const err_help[ERR__COUNT] = {
	[ERR_OK] = "success (including \"not due, kept\")",
	[ERR_USAGE] = "usage: bad flag, name, file or handler",
	[ERR_ACME] = "CA, network or protocol failure after retries",
	[ERR_CHALLENGE] = "the CA rejected a challenge",
	[ERR_INVOKER] = "the invoker or handler aborted, failed or hung",
	[ERR_STORAGE] = "local storage problem",
	[ERR_LOCKED] = "certbot, or another run on the same certificate, holds its lock",
	[ERR_PARTIAL] = "renew: some lineages failed",
	[ERR_INTERNAL] = "internal error (out of memory, a bug)",
	[ERR_SIGNAL] = "stopped by signal N (130 SIGINT, 143 SIGTERM, 129 "
	    "SIGHUP) after cleaning up what was deployed",
	[ERR_PENDING] = "a pending order that cannot be resumed: expired, "
	    "invalid, unknown, or being resumed by another run",
};

/* An exit code as text: 128 is err.c's base for "128 + signal". */
static const char *
code_text(int code, char *buf, size_t size)
{
	if (code == 128)
		return "128+N";
	snprintf(buf, size, "%d", code);
	return buf;
}
/* Whether o is an alias: another row with the same effect has help. */
static const struct opt_def *
main_of(const struct opt_def *o)
{
	size_t	i;

	if (o->help != NULL)
		return o;
	for (i = 0; i < cli_n_opts; i++)
		if (cli_opts[i].help != NULL && cli_opts[i].kind == o->kind &&
		    cli_opts[i].off == o->off && cli_opts[i].id == o->id)
			return &cli_opts[i];
	return NULL;
}

static bool
listed(const struct opt_def *o, unsigned mask)
{
	return o->verbs != V_HIDDEN && (o->verbs & mask) != 0;
}

#define HELP_WIDTH	79	/* columns of --help */
#define HELP_INDENT	37	/* where the descriptions start */

/*
 * Prints text from column col on, wrapped at blanks to HELP_WIDTH with
 * continuation lines indented by indent; returns the column it ended at.
 */
static size_t
print_wrapped(const char *text, size_t col, size_t indent)
{
	const char	*w = text, *end;
	size_t		 len;

	while (*w != '\0') {
		while (*w == ' ')
			w++;
		if (*w == '\0')
			break;
		end = strchr(w, ' ');
		len = end != NULL ? (size_t)(end - w) : strlen(w);
		if (col > indent && col + 1 + len > HELP_WIDTH)
			col = (size_t)printf("\n%*s", (int)indent, "") - 1;
		else if (col > indent)
			col += (size_t)printf(" ");
		col += (size_t)printf("%.*s", (int)len, w);
		w += len;
	}
	return col;
}

static void
usage_options(unsigned mask)
{
	const struct opt_def	*o, *m;
	char			 name[128];
	size_t			 i, col = 0;
	int			 r;

	printf("options:\n");
	for (i = 0; i < cli_n_opts; i++) {
		o = &cli_opts[i];
		if (!listed(o, mask) || o->help == NULL)
			continue;
		if (o->shortopt)
			r = snprintf(name, sizeof name, "-%c, --%s%s%s",
			    o->shortopt, o->name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		else
			r = snprintf(name, sizeof name, "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		if (r > HELP_INDENT - 3)
			printf("  %s\n%*s", name, HELP_INDENT, "");
		else
			printf("  %-*s ", HELP_INDENT - 3, name);
		print_wrapped(o->help, HELP_INDENT, HELP_INDENT);
		printf("\n");
	}
	/* Aliases: "--alias (--name)" items, never split. */
	for (i = 0; i < cli_n_opts; i++) {
		o = &cli_opts[i];
		if (!listed(o, mask) || o->help != NULL ||
		    (m = main_of(o)) == NULL)
			continue;
		r = snprintf(name, sizeof name, "--%s (--%s)", o->name,
		    m->name);
		if (col == 0)
			col = (size_t)printf("\naliases:") - 1;
		else
			col += (size_t)printf(",");
		if (col + 1 + (size_t)r > HELP_WIDTH)
			col = (size_t)printf("\n ") - 1;
		col += (size_t)printf(" %s", name);
	}
	if (col != 0)
		printf("\n");
}

void
clidoc_usage(const struct config *cfg)
{
	const struct verb_def	*vd;
	size_t			 i, col;
	int			 code;
	char			 buf[16], item[64];
	bool			 first;

	if (cfg != NULL && cfg->verb_given) {
		vd = &cli_verbs[cfg->verb];
		printf("usage: extauth %s%s%s [options]\n\n%s.\n\n", vd->name,
		    vd->args ? " " : "", vd->args ? vd->args : "", vd->purpose);
		usage_options(V(cfg->verb));
		return;
	}
	printf("usage: extauth [VERB] [options]\n       extauth help VERB\n\n"
	    "verbs:\n");
	for (i = 0; i < VERB__COUNT; i++) {
		printf("  %-14s ", cli_verbs[i].name);
		print_wrapped(cli_verbs[i].purpose, 17, 17);
		printf("\n");
	}
	printf("\n");
	usage_options(V_ALL);
	printf("\nexit codes:");
	for (code = 0, col = 11, first = true; code < 256; code++)
		for (i = 0; i < ERR__COUNT; i++) {
			if (err_exit_code((enum err)i) != code)
				continue;
			snprintf(item, sizeof item, "%s %s", code_text(code,
			    buf, sizeof buf), err_name((enum err)i));
			if (!first)
				col += (size_t)printf(",");
			if (col + 1 + strlen(item) > HELP_WIDTH)
				col = (size_t)printf("\n ") - 1;
			col += (size_t)printf(" %s", item);
			first = false;
		}
	printf("\n");
}

/* The kind of value an option takes, for completion. */
enum value {
	VALUE_NONE,	/* a flag */
	VALUE_FREE,	/* text: nothing to offer */
	VALUE_FILE,
	VALUE_DIR,
	VALUE_CHOICE,	/* one of the words of arg, split at '|' */
	VALUE__COUNT
};

static enum value
value_of(const struct opt_def *o)
{
	if (o->arg == NULL)
		return VALUE_NONE;
	if (strchr(o->arg, '|') != NULL)
		return VALUE_CHOICE;
	if (strcmp(o->arg, "DIR") == 0)
		return VALUE_DIR;
	if (strcmp(o->arg, "FILE") == 0 || strcmp(o->arg, "PATH") == 0 ||
	    strcmp(o->arg, "PROG") == 0 || strcmp(o->arg, "CMD") == 0)
		return VALUE_FILE;
	return VALUE_FREE;
}

/* The choices of arg with '|' turned into sep. */
static void
print_choices(const char *arg, char sep)
{
	for (; *arg != '\0'; arg++)
		putchar(*arg == '|' ? sep : *arg);
}

/* s in single quotes for a shell: ' becomes '\''. */
static void
print_quoted(const char *s, const char *quote_quote)
{
	putchar('\'');
	for (; *s != '\0'; s++)
		if (*s == '\'')
			fputs(quote_quote, stdout);
		else
			putchar(*s);
	putchar('\'');
}

static void
print_bash(void)
{
	const struct opt_def	*o;
	size_t			 i, v;
	enum value		 k;

	printf("# bash completion for extauth(1).  Generated by extauth "
	    "--print-completion bash\n# from the option table in src/cli.c: "
	    "do not edit.\n\n_extauth()\n{\n"
	    "\tlocal cur prev words cword split verb='' i\n"
	    "\t_init_completion -s || return\n"
	    "\tfor ((i = 1; i < cword; i++)); do\n\t\tcase ${words[i]} in\n\t\t");
	for (v = 0; v < VERB__COUNT; v++)
		printf("%s%s", v ? "|" : "", cli_verbs[v].name);
	printf(")\n\t\t\tverb=${words[i]}\n\t\t\tbreak\n\t\t\t;;\n\t\tesac\n"
	    "\tdone\n\tcase $prev in\n");
	for (k = VALUE_FREE; k < VALUE__COUNT; k++) {
		bool	any = false;

		for (i = 0; i < cli_n_opts; i++) {
			o = &cli_opts[i];
			if (o->verbs == V_HIDDEN || value_of(o) != k)
				continue;
			if (k == VALUE_CHOICE) {
				printf("\t--%s", o->name);
				if (o->shortopt)
					printf("|-%c", o->shortopt);
				printf(")\n\t\tCOMPREPLY=($(compgen -W '");
				print_choices(o->arg, ' ');
				printf("' -- \"$cur\"))\n\t\treturn\n\t\t;;\n");
				continue;
			}
			printf("%s--%s", any ? "|" : "\t", o->name);
			if (o->shortopt)
				printf("|-%c", o->shortopt);
			any = true;
		}
		if (!any || k == VALUE_CHOICE)
			continue;
		printf(")\n\t\t%s\n\t\treturn\n\t\t;;\n", k == VALUE_DIR ?
		    "_filedir -d" : k == VALUE_FILE ? "_filedir" :
		    "COMPREPLY=()");
	}
	printf("\tesac\n\t$split && return\n\tlocal opts\n\tcase $verb in\n");
	for (v = 0; v < VERB__COUNT; v++) {
		printf("\t%s)\n\t\topts='", cli_verbs[v].name);
		for (i = 0; i < cli_n_opts; i++)
			if (listed(&cli_opts[i], V(v)))
				printf("--%s ", cli_opts[i].name);
		printf("'\n\t\t;;\n");
	}
	printf("\t*)\n\t\topts='");
	for (i = 0; i < cli_n_opts; i++)
		if (listed(&cli_opts[i], V_ALL))
			printf("--%s ", cli_opts[i].name);
	printf("'\n\t\t;;\n\tesac\n"
	    "\tif [[ $cur == -* ]]; then\n"
	    "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	    "\telif [[ $verb == certbot-hook ]]; then\n"
	    "\t\tCOMPREPLY=($(compgen -W 'auth cleanup deploy' -- \"$cur\"))\n"
	    "\telif [[ -z $verb ]]; then\n"
	    "\t\tCOMPREPLY=($(compgen -W 'help");
	for (v = 0; v < VERB__COUNT; v++)
		printf(" %s", cli_verbs[v].name);
	printf("' -- \"$cur\"))\n\tfi\n} &&\n\tcomplete -F _extauth extauth\n");
}

/* An _arguments description: [ ] and \ escaped, then shell-quoted. */
static void
print_zsh_spec(const struct opt_def *o, const char *form, const char *help)
{
	char	 buf[1024];
	size_t	 n = 0;
	const char *s;

	n += (size_t)snprintf(buf, sizeof buf, "%s%s[", o->kind ==
	    KIND_COUNT || o->id == OPT_DOMAINS ? "*" : "", form);
	for (s = help; *s != '\0' && n + 4 < sizeof buf; s++) {
		if (*s == '[' || *s == ']' || *s == '\\' || *s == ':')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = '\0';
	if (o->arg != NULL)
		snprintf(buf + n, sizeof buf - n, "]:%s:", o->arg);
	else
		snprintf(buf + n, sizeof buf - n, "]");
	printf("\t\t\t");
	print_quoted(buf, "'\\''");
	switch (value_of(o)) {
	case VALUE_DIR:
		printf("'_files -/'");
		break;
	case VALUE_FILE:
		printf("'_files'");
		break;
	case VALUE_CHOICE:
		printf("'(");
		print_choices(o->arg, ' ');
		printf(")'");
		break;
	case VALUE_NONE:
	case VALUE_FREE:
	case VALUE__COUNT:
		break;
	}
	printf("\n");
}

static void
print_zsh(void)
{
	const struct opt_def	*o, *m;
	char			 form[128];
	size_t			 i, v;

	printf("#compdef extauth\n# zsh completion for extauth(1).  Generated "
	    "by extauth --print-completion zsh\n# from the option table in "
	    "src/cli.c: do not edit.\n\n_extauth() {\n"
	    "\tlocal -a verbs args\n\tlocal verb='' i\n\tverbs=(\n");
	for (v = 0; v < VERB__COUNT; v++) {
		snprintf(form, sizeof form, "%s:", cli_verbs[v].name);
		printf("\t\t");
		print_quoted(form, "'\\''");
		printf("'");
		for (const char *s = cli_verbs[v].purpose; *s; s++)
			printf(*s == '\'' ? "'\\''" : "%c", *s);
		printf("'\n");
	}
	printf("\t)\n\tfor ((i = 2; i < CURRENT; i++)); do\n"
	    "\t\tif (( ${+cli_verbs[(r)${words[i]}:*]} )) && "
	    "[[ -n ${cli_verbs[(r)${words[i]}:*]} ]]; then\n"
	    "\t\t\tverb=${words[i]}\n\t\t\tbreak\n\t\tfi\n\tdone\n"
	    "\tcase $verb in\n");
	for (v = 0; v <= VERB__COUNT; v++) {
		unsigned mask = v < VERB__COUNT ? V(v) : V_ALL;

		printf("\t%s)\n\t\targs=(\n", v < VERB__COUNT ?
		    cli_verbs[v].name : "*");
		for (i = 0; i < cli_n_opts; i++) {
			o = &cli_opts[i];
			if (!listed(o, mask) || (m = main_of(o)) == NULL)
				continue;
			snprintf(form, sizeof form, "--%s%s", o->name,
			    o->arg ? "=" : "");
			print_zsh_spec(o, form, m->help);
			if (o->shortopt) {
				snprintf(form, sizeof form, "-%c%s",
				    o->shortopt, o->arg ? "+" : "");
				print_zsh_spec(o, form, m->help);
			}
		}
		printf("\t\t)\n\t\t;;\n");
	}
	printf("\tesac\n\t_arguments -S : $args '*:: :->word' && return\n"
	    "\tif [[ -z $verb ]]; then\n\t\t_describe -t verbs 'extauth verb' "
	    "verbs\n\telif [[ $verb == certbot-hook ]]; then\n\t\t_values "
	    "'hook' auth cleanup deploy\n\tfi\n}\n\n_extauth \"$@\"\n");
}

static void
print_fish(void)
{
	const struct opt_def	*o, *m;
	size_t			 i, v;

	printf("# fish completion for extauth(1).  Generated by extauth "
	    "--print-completion fish\n# from the option table in src/cli.c: "
	    "do not edit.\n\nset -l extauth_verbs");
	for (v = 0; v < VERB__COUNT; v++)
		printf(" %s", cli_verbs[v].name);
	printf("\ncomplete -c extauth -f\n");
	for (v = 0; v < VERB__COUNT; v++) {
		printf("complete -c extauth -n \"not __fish_seen_subcommand_from "
		    "$extauth_verbs\" -a %s -d ", cli_verbs[v].name);
		print_quoted(cli_verbs[v].purpose, "\\'");
		printf("\n");
	}
	for (i = 0; i < cli_n_opts; i++) {
		o = &cli_opts[i];
		if (o->verbs == V_HIDDEN || (m = main_of(o)) == NULL)
			continue;
		printf("complete -c extauth");
		if (o->verbs != V_ALL) {
			printf(" -n \"not __fish_seen_subcommand_from "
			    "$extauth_verbs; or __fish_seen_subcommand_from");
			for (v = 0; v < VERB__COUNT; v++)
				if (o->verbs & V(v))
					printf(" %s", cli_verbs[v].name);
			printf("\"");
		}
		printf(" -l %s", o->name);
		if (o->shortopt)
			printf(" -s %c", o->shortopt);
		switch (value_of(o)) {
		case VALUE_DIR:
			printf(" -r -a '(__fish_complete_directories)'");
			break;
		case VALUE_FILE:
			printf(" -r -F");
			break;
		case VALUE_CHOICE:
			printf(" -x -a '");
			print_choices(o->arg, ' ');
			printf("'");
			break;
		case VALUE_FREE:
			printf(" -x");
			break;
		case VALUE_NONE:
		case VALUE__COUNT:
			break;
		}
		printf(" -d ");
		print_quoted(m->help, "\\'");
		printf("\n");
	}
	printf("complete -c extauth -n \"__fish_seen_subcommand_from "
	    "certbot-hook\" -a 'auth cleanup deploy'\n");
}

enum err
clidoc_completion(const char *shell)
{
	if (strcmp(shell, "bash") == 0)
		print_bash();
	else if (strcmp(shell, "zsh") == 0)
		print_zsh();
	else if (strcmp(shell, "fish") == 0)
		print_fish();
	else {
		fprintf(stderr, "extauth: --print-completion %s: unknown shell\n"
		    "extauth: use bash, zsh or fish\n", shell);
		return ERR_USAGE;
	}
	return fflush(stdout) == 0 ? ERR_OK : ERR_INTERNAL;
}

/* Text for scdoc: its markup characters escaped. */
static void
print_scd(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '*' || *s == '_' || *s == '\\' || *s == '`')
			putchar('\\');
		putchar(*s);
	}
}

static void
print_verb_list(unsigned mask)
{
	size_t	v;
	bool	first = true;

	if (mask == V_ALL) {
		printf("all verbs");
		return;
	}
	for (v = 0; v < VERB__COUNT; v++) {
		if (!(mask & V(v)))
			continue;
		printf("%s", first ? "" : ", ");
		print_scd(cli_verbs[v].name);
		first = false;
	}
}

void
clidoc_man(void)
{
	const struct opt_def	*o;
	size_t			 i, j, e;
	int			 code;
	char			 buf[16];
	bool			 first;

	printf("# VERBS\n\n");
	for (i = 0; i < VERB__COUNT; i++) {
		printf("*");
		print_scd(cli_verbs[i].name);
		printf("*");
		if (cli_verbs[i].args != NULL) {
			printf(" ");
			print_scd(cli_verbs[i].args);
		}
		printf("\n\t");
		print_scd(cli_verbs[i].purpose);
		printf(".\n\n");
	}
	printf("# OPTIONS\n\nEach option may be abbreviated to a prefix that "
	    "names it alone (*--preferred-chal*), as in certbot; a value follows "
	    "as the next word or after *=*.\n\n");
	for (i = 0; i < cli_n_opts; i++) {
		o = &cli_opts[i];
		if (o->verbs == V_HIDDEN || o->help == NULL)
			continue;
		if (o->shortopt)
			printf("*-%c*, ", o->shortopt);
		printf("*--");
		print_scd(o->name);
		printf("*");
		if (o->arg != NULL) {
			printf(" _");
			print_scd(o->arg);
			printf("_");
		}
		printf("\n\t");
		print_scd(o->help);
		printf(". Verbs: ");
		print_verb_list(o->verbs);
		printf(".");
		for (j = 0, first = true; j < cli_n_opts; j++) {
			if (cli_opts[j].help != NULL || cli_opts[j].verbs == V_HIDDEN ||
			    main_of(&cli_opts[j]) != o)
				continue;
			printf("%s*--", first ? " Also spelled " : ", ");
			print_scd(cli_opts[j].name);
			printf("*");
			first = false;
		}
		printf("%s\n\n", first ? "" : ".");
	}
	printf("# EXIT STATUS\n\n");
	for (code = 0; code < 256; code++)
		for (e = 0; e < ERR__COUNT; e++) {
			if (err_exit_code((enum err)e) != code)
				continue;
			printf("*%s*\n\t", code_text(code, buf, sizeof buf));
			print_scd(err_help[e] != NULL ? err_help[e] :
			    err_name((enum err)e));
			printf(".\n\n");
		}
	fflush(stdout);
}
