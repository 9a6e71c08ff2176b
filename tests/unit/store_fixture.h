/*
 * store_fixture.h: the fixture test_store.c and test_conf.c share: a fresh
 * store in a temporary directory per test (FIXTURE_DIR names it), removed
 * afterwards, and two helpers.  Included by test files only.
 */
#ifndef EXTAUTH_TEST_STORE_FIXTURE_H
#define EXTAUTH_TEST_STORE_FIXTURE_H

#ifndef FIXTURE_DIR
#error "define FIXTURE_DIR (a mkdtemp template) before including store_fixture.h"
#endif

struct fixture {
	char		 dir[64];	/* the mkdtemp directory */
	char		 cfg[128];	/* dir/config */
	struct store	 st;
};

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture	*f;

	if ((f = calloc(1, sizeof *f)) == NULL)
		return -1;
	strcpy(f->dir, FIXTURE_DIR);
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->cfg, sizeof f->cfg, "%s/config", f->dir);
	if (store_open(&f->st, f->cfg, NULL, NULL) != ERR_OK) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	store_close(&f->st);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static inline char *
pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* New string the caller frees; aborts the test on failure. */
static inline char *
pathf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	assert_true(vasprintf(&p, fmt, ap) >= 0);
	va_end(ap);
	return p;
}

static inline mode_t
mode_of(const char *path)
{
	struct stat	sb;

	assert_int_equal(lstat(path, &sb), 0);
	return sb.st_mode & 07777;
}

#endif
