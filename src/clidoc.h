/*
 * clidoc.h: the CLI's tables rendered as help, completions and man text.
 */
#ifndef EXTAUTH_CLIDOC_H
#define EXTAUTH_CLIDOC_H

#include "cli.h"
#include "err.h"

/* --help on stdout: every option, or with a verb given only its options. */
void		 clidoc_usage(const struct config *);
/* The completion script for "bash", "zsh" or "fish" on stdout; ERR_USAGE
 * (after one error line) for another shell. */
enum err	 clidoc_completion(const char *shell);
/* The OPTIONS, VERBS and EXIT STATUS sections of extauth(1), in scdoc. */
void		 clidoc_man(void);
#endif
