/*
 * fuzz_file.h: for the harnesses whose parser reads a file (conf.c,
 * clini.c): one scratch file per fuzzing process, rewritten with each
 * input.  A header of static functions because each harness is its own
 * program; nothing here is linked into extauth.
 */
#ifndef EXTAUTH_FUZZ_FILE_H
#define EXTAUTH_FUZZ_FILE_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The scratch directory, made once (tmpfs when there is one: no disk). */
static const char *
fuzz_dir(void)
{
	static char	 dir[PATH_MAX];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "%s/extauth-fuzz.XXXXXX",
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	return dir;
}

/* Writes data to the scratch file NAME; returns its path (static). */
static const char *
fuzz_write(const char *name, const unsigned char *data, size_t size)
{
	static char	 path[PATH_MAX];
	size_t		 off = 0;
	ssize_t		 w;
	int		 fd;

	snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		abort();
	while (off < size) {
		if ((w = write(fd, data + off, size - off)) <= 0)
			abort();
		off += (size_t)w;
	}
	close(fd);
	return path;
}

#endif
