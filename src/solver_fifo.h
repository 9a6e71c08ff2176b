/*
 * solver_fifo.h: JSON mode over two named pipes (--fifo DIR), the seed
 * plugin's "communicate challenges via named pipes".  DIR/events carries
 * extauth's lines, DIR/replies the invoker's; the protocol is stdio's.
 */
#ifndef EXTAUTH_SOLVER_FIFO_H
#define EXTAUTH_SOLVER_FIFO_H

#include "err.h"

/*
 * Creates DIR/events and DIR/replies (FIFOs, mode 0600) where they are
 * missing, or takes existing ones only when they are FIFOs of this user
 * that nobody else may open; never through a symbolic link.  Opens
 * replies for reading at once, then waits at most timeout_ms (0: no
 * limit) for the invoker to open events for reading, and returns the two
 * descriptors, the caller's to close.  ERR_USAGE for a DIR or a file that
 * cannot be used, ERR_INVOKER when nobody opened events in time,
 * ERR_SIGNAL on SIGTERM/SIGINT/SIGHUP; each logged once, with what to do.
 */
enum err	solver_fifo_open(const char *dir, long timeout_ms, int *in_fd,
		    int *out_fd);

#endif
