/*
 * store_priv.h: what store.c (the primitives) shares with store_account.c
 * and store_lineage.c, and nobody else.
 */
#ifndef EXTAUTH_STORE_PRIV_H
#define EXTAUTH_STORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "store.h"

#define STORE_PATH_MAX		4096
#define STORE_LINK_TRIES	16
#define STORE_TEMP_TAG		".extauth."	/* in our temp file names */

/* Formats a path; new string the caller frees, NULL (logged) if it would
 * be longer than STORE_PATH_MAX or memory ran out. */
char		*store_pathf(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
/* s with '?' for anything unprintable, in buf, for a log line. */
const char	*store_shown(const char *s, char *buf, size_t size);
/* fsync of a directory, after a rename or a new link in it. */
enum err	 store_fsync_dir(const char *dir);
/* The first half of store_write_atomic: data in a new temp file beside
 * path, fsynced when sync; *tmp, *dir new strings (store.c). */
enum err	 store_write_temp(const char *path, const void *data,
		    size_t len, mode_t mode, bool sync, char **tmp, char **dir);
/* The archive file a live/ link of certbot's shape points at; NULL
 * (logged) for any other link.  New string, caller frees. */
char		*store_live_target(const char *link, const char *known);
/* Removes the files of dir and dir if then empty; links are removed, not
 * followed. */
enum err	 store_remove_files(const char *dir);
/* Removes the temporary files a killed run left in the directory dfd and
 * depth levels below it, never through a link; returns how many. */
size_t		 store_sweep(int dfd, int depth);
/* An open file description lock (see store.c) of type F_RDLCK, F_WRLCK
 * or F_UNLCK on len bytes from start (len 0: to the end, and beyond),
 * waiting for it or not.  0, or -1 with errno (EAGAIN: held by another
 * open of the file, in this process or another). */
int		 store_ofd_lock(int fd, short type, off_t start, off_t len,
		    bool wait);
/* Opens path (created 0600, never through a link, a regular file) and
 * locks all of it with type, without waiting, checking that path still
 * names the file locked.  ERR_OK with *fdp; ERR_LOCKED (not logged) with
 * *holder the holder's pid when it is a POSIX lock (certbot's), else 0;
 * ERR_STORAGE (logged). */
enum err	 store_lock_path(const char *path, short type, int *fdp,
		    pid_t *holder);
/* Completes live/ links a killed store_lineage_save left half flipped
 * (store_lineage.c); called by the recovery under the run lock. */
void		 store_lineage_repair_links(const struct store *);

#endif
