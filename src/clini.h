/*
 * clini.h: certbot's cli.ini (-c/--config FILE) read the way certbot's
 * configargparse reads it, turned into command-line words that cli.c then
 * parses before the real command line (so the command line wins).
 *
 * Syntax, line by line (surrounding whitespace ignored):
 *   # comment, ; comment, [section], --- and blank lines are skipped
 *   key = value      also "key: value" and "key value"
 *   key              a flag (same as key = true)
 *   key = true       flags take true/yes/1 (set) or false/no/0 (left out)
 *   key = "value"    one pair of matching quotes around the value is removed
 *   key = v # note   an inline comment needs whitespace before the # or ;
 *   key = [a, b]     a list: the option is given once per element
 * Keys are long option names without "--".  A key given twice keeps its
 * first position and its last value (configargparse's OrderedDict).
 */
#ifndef EXTAUTH_CLINI_H
#define EXTAUTH_CLINI_H

#include "err.h"

#define CLINI_FILE_MAX		(64 * 1024)	/* cap on the file's size */
#define CLINI_ENTRIES_MAX	256		/* cap on distinct keys */
#define CLINI_LIST_MAX		100		/* cap on elements of a list */

/* What the caller's option table says about a key. */
enum clini_key {
	CLINI_KEY_UNKNOWN,	/* not an option: the file is rejected */
	CLINI_KEY_FLAG,		/* takes no value */
	CLINI_KEY_VALUE,	/* takes one value */
	CLINI_KEY__COUNT
};
typedef enum clini_key	(*clini_lookup_fn)(const char *key);

/*
 * Reads path and sets *argv to its words ("--key" or "--key" "value"),
 * *argc to their number (argv[*argc] is NULL).  lookup classifies each
 * key; NULL accepts every key, a bare one as a flag and any other as
 * taking a value.  ERR_USAGE (logged, naming the file, the line and the
 * key) for an unreadable or oversized file, a line that does not parse, an
 * unknown key, or a flag with a value other than true/false.
 *
 * *argv is one allocation holding the pointers and the strings: the
 * caller frees it with clini_free, which is free().  When lines is not
 * NULL, *lines is set to a new array (caller frees) of *argc numbers: the
 * file line each word came from, so that the caller's error about a
 * value can name the line without echoing the file's contents.
 * Messages name the file, the line and the key, never a value.
 */
enum err	 clini_load(const char *path, clini_lookup_fn lookup, int *argc,
		    char ***argv, int **lines);
void		 clini_free(char **argv);

#endif
