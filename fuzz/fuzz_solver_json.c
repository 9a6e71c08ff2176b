/*
 * fuzz_solver_json.c: libFuzzer harness for what the invoker sends back in
 * JSON mode (solver.c's line reader, solver_json.c's acknowledgement
 * parser): the input is the invoker's whole stdin, answering three perform
 * lines through the public solver_perform.  The perform lines go to
 * /dev/null.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "fuzz_file.h"
#include "log.h"
#include "solver.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NCH	3

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 dom[NCH][32], tok[] = "dG9rZW4", ka[] =
				    "dG9rZW4.dGh1bWI", val[] = "dmFs";
	struct challenge	 ch[NCH], *chs[NCH];
	struct solver_opts	 o;
	struct solver		*s;
	enum err		 why;
	int			 in, out, i;

	log_init(0, true);
	if ((in = open(fuzz_write("stdin", data, size), O_RDONLY |
	    O_CLOEXEC)) == -1 || (out = open("/dev/null", O_WRONLY |
	    O_CLOEXEC)) == -1)
		abort();
	memset(&o, 0, sizeof o);
	o.mode = SOLVER_JSON;
	o.in_fd = in;
	o.out_fd = out;
	memset(ch, 0, sizeof ch);
	for (i = 0; i < NCH; i++) {
		snprintf(dom[i], sizeof dom[i], "n%d.example.com", i);
		ch[i].type = CHAL_DNS01;
		ch[i].domain = dom[i];
		ch[i].token = tok;
		ch[i].key_auth = ka;
		ch[i].validation = val;
		ch[i].txt_domain = dom[i];
		chs[i] = &ch[i];
	}
	if ((s = solver_new(&o, &why)) == NULL)
		abort();
	(void)solver_perform(s, chs, NCH);
	solver_free(s);
	close(in);
	close(out);
	return 0;
}
