/*
 * store_batch.c: deferred atomic writes (store.h "batches"), for state
 * that one run changes in thousands of files and that is worth one disk
 * flush, not two per file: renew's record of the CA's renewal windows.
 * Each file goes to its temp file at once, unsynced; the flush makes
 * every temp file durable with one syncfs(2), renames them into place
 * and fsyncs each directory once.  The guarantee is store_write_atomic's
 * (a file holds its old or its new content, whole, after any crash); only
 * durability waits for the flush.  A run killed before it leaves the old
 * files and temp files the next run sweeps.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_priv.h"

struct store_batch_entry {
	char			*tmp;	/* written, not yet renamed */
	char			*path;
	char			*dir;
	struct store_lineage	*hold;	/* closed after the rename */
};

struct store_batch {
	struct store_batch_entry	*v;
	size_t				 n, cap;
};

/* Owned by the caller: free with store_batch_free. */
struct store_batch *
store_batch_new(size_t cap)
{
	struct store_batch	*b;

	if (cap == 0 || cap > STORE_BATCH_MAX ||
	    (b = calloc(1, sizeof *b)) == NULL)
		return NULL;
	if ((b->v = calloc(cap, sizeof *b->v)) == NULL) {
		free(b);
		return NULL;
	}
	b->cap = cap;
	return b;
}

/* Forgets entry i: its temp file (unless renamed: tmp NULL), its held
 * lineage. */
static void
entry_clear(struct store_batch_entry *x)
{
	if (x->tmp != NULL && unlink(x->tmp) == -1 && errno != ENOENT)
		log_warn("cannot remove %s: %s", x->tmp, strerror(errno));
	free(x->tmp);
	free(x->path);
	free(x->dir);
	store_lineage_close(x->hold);
	memset(x, 0, sizeof *x);
}

/* Whether dir is the directory of an entry before i (each directory is
 * synced once). */
static bool
seen_dir(const struct store_batch *b, size_t i)
{
	size_t	k;

	for (k = 0; k < i; k++)
		if (strcmp(b->v[k].dir, b->v[i].dir) == 0)
			return true;
	return false;
}

/*
 * Makes the temp files durable: one syncfs(2) per directory (one file
 * system each, in practice one call), or an fsync of each file where
 * syncfs cannot be used.
 */
static enum err
sync_temps(const struct store_batch *b)
{
	size_t	i;
	int	fd, rc;

	for (i = 0; i < b->n; i++) {
		if (seen_dir(b, i))
			continue;
		if ((fd = open(b->v[i].dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			break;
		rc = syncfs(fd);
		close(fd);
		if (rc == -1)
			break;
	}
	if (i == b->n)
		return ERR_OK;
	for (i = 0; i < b->n; i++) {
		if ((fd = open(b->v[i].tmp, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1 || fsync(fd) == -1) {
			log_error("cannot fsync %s: %s", b->v[i].tmp,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return ERR_STORAGE;
		}
		close(fd);
	}
	return ERR_OK;
}

enum err
store_batch_flush(struct store_batch *b)
{
	enum err	 rc;
	size_t		 i;

	if (b == NULL || b->n == 0)
		return ERR_OK;
	/* Durable first, renamed after: never a name on unsynced data. */
	if ((rc = sync_temps(b)) != ERR_OK)
		goto out;
	for (i = 0; i < b->n; i++) {
		if (rename(b->v[i].tmp, b->v[i].path) == -1) {
			log_error("cannot rename %s to %s: %s", b->v[i].tmp,
			    b->v[i].path, strerror(errno));
			rc = ERR_STORAGE;
			continue;
		}
		free(b->v[i].tmp);
		b->v[i].tmp = NULL;
	}
	for (i = 0; i < b->n; i++)
		if (!seen_dir(b, i) && store_fsync_dir(b->v[i].dir) != ERR_OK)
			rc = ERR_STORAGE;
out:
	for (i = 0; i < b->n; i++)
		entry_clear(&b->v[i]);
	b->n = 0;
	return rc;
}

enum err
store_batch_write(struct store_batch *b, const char *path, const void *data,
    size_t len, mode_t mode, struct store_lineage *hold)
{
	struct store_batch_entry	*x;
	enum err			 rc;

	if (b->n == b->cap && (rc = store_batch_flush(b)) != ERR_OK) {
		store_lineage_close(hold);
		return rc;
	}
	x = &b->v[b->n];
	if ((rc = store_write_temp(path, data, len, mode, false, &x->tmp,
	    &x->dir)) != ERR_OK) {
		store_lineage_close(hold);
		return rc;
	}
	if ((x->path = strdup(path)) == NULL) {
		log_error("out of memory");
		x->hold = hold;
		entry_clear(x);
		return ERR_INTERNAL;
	}
	x->hold = hold;
	b->n++;
	return ERR_OK;
}

void
store_batch_free(struct store_batch *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		entry_clear(&b->v[i]);
	free(b->v);
	free(b);
}
