/*
 * test_store_batch.c: deferred atomic writes (store.h "batches"): nothing
 * is in place before the flush, everything is after it, whole, with its
 * mode and no temp file left; a full batch flushes itself; a batch freed
 * unflushed leaves the old contents and no temp file; held lineage handles
 * are taken on every path (ASan's leak check in build-asan).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

#define FIXTURE_DIR	"/tmp/extauth-test-batch.XXXXXX"
#include "store_fixture.h"

/* The whole content of path; "" when missing.  Caller frees. */
static char *
slurp(const char *path)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = fopen(path, "r")) == NULL)
		return strdup("");
	if (getdelim(&buf, &len, '\0', fp) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(fp);
	return buf;
}

/* Entries of dir whose name holds ".extauth." (our temp files). */
static int
temps(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".extauth.") != NULL)
			n++;
	closedir(d);
	return n;
}

static void
check(const char *path, const char *want)
{
	char	*got = slurp(path);

	assert_string_equal(got, want);
	free(got);
}

static void
flush_puts_all_in_place(void **state)
{
	struct fixture		*f = *state;
	struct store_batch	*b;
	struct store_lineage	*ln;
	char			*p1 = pathf("%s/a.conf", f->cfg);
	char			*p2 = pathf("%s/b.conf", f->cfg);
	const char		*why;

	assert_int_equal(store_write_atomic(p1, "old a\n", 6, 0644), ERR_OK);
	assert_non_null(b = store_batch_new(8));
	assert_non_null(ln = store_lineage_open(&f->st, "a.example", &why));
	assert_int_equal(store_batch_write(b, p1, "new a\n", 6, 0644, ln),
	    ERR_OK);
	assert_int_equal(store_batch_write(b, p2, "new b\n", 6, 0600, NULL),
	    ERR_OK);
	/* Before the flush: the old files, the new ones in temp files. */
	check(p1, "old a\n");
	assert_int_equal(access(p2, F_OK), -1);
	assert_int_equal(temps(f->cfg), 2);
	assert_int_equal(store_batch_flush(b), ERR_OK);
	check(p1, "new a\n");
	check(p2, "new b\n");
	assert_int_equal(mode_of(p1), 0644);
	assert_int_equal(mode_of(p2), 0600);
	assert_int_equal(temps(f->cfg), 0);
	/* An empty flush is nothing. */
	assert_int_equal(store_batch_flush(b), ERR_OK);
	store_batch_free(b);
	free(p1);
	free(p2);
}

static void
full_batch_flushes_itself(void **state)
{
	struct fixture		*f = *state;
	struct store_batch	*b;
	char			*p[5], text[16];
	int			 i;

	assert_non_null(b = store_batch_new(2));
	for (i = 0; i < 5; i++) {
		p[i] = pathf("%s/f%d", f->cfg, i);
		snprintf(text, sizeof text, "v%d", i);
		assert_int_equal(store_batch_write(b, p[i], text, strlen(text),
		    0644, NULL), ERR_OK);
	}
	/* Two flushes came with the third and fifth writes. */
	check(p[0], "v0");
	check(p[3], "v3");
	assert_int_equal(access(p[4], F_OK), -1);
	assert_int_equal(temps(f->cfg), 1);
	store_batch_free(b);
	/* Dropped, not written: the last one never appears. */
	assert_int_equal(access(p[4], F_OK), -1);
	assert_int_equal(temps(f->cfg), 0);
	for (i = 0; i < 5; i++)
		free(p[i]);
}

static void
free_unflushed_keeps_old(void **state)
{
	struct fixture		*f = *state;
	struct store_batch	*b;
	struct store_lineage	*ln;
	char			*p1 = pathf("%s/c.conf", f->cfg);
	const char		*why;

	assert_int_equal(store_write_atomic(p1, "old", 3, 0644), ERR_OK);
	assert_non_null(b = store_batch_new(4));
	assert_non_null(ln = store_lineage_open(&f->st, "c.example", &why));
	assert_int_equal(store_batch_write(b, p1, "new", 3, 0644, ln), ERR_OK);
	store_batch_free(b);
	check(p1, "old");
	assert_int_equal(temps(f->cfg), 0);
	free(p1);
}

static void
bad_path_takes_the_handle(void **state)
{
	struct fixture		*f = *state;
	struct store_batch	*b;
	struct store_lineage	*ln;
	char			*p1 = pathf("%s/missing/dir/x.conf", f->cfg);
	const char		*why;

	assert_non_null(b = store_batch_new(4));
	assert_non_null(ln = store_lineage_open(&f->st, "d.example", &why));
	assert_int_not_equal(store_batch_write(b, p1, "x", 1, 0644, ln),
	    ERR_OK);
	assert_int_equal(store_batch_flush(b), ERR_OK);
	store_batch_free(b);
	assert_null(store_batch_new(0));
	assert_null(store_batch_new(STORE_BATCH_MAX + 1));
	free(p1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(flush_puts_all_in_place, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(full_batch_flushes_itself,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(free_unflushed_keeps_old,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(bad_path_takes_the_handle,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
