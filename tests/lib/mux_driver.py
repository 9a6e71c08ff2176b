#!/usr/bin/python3
"""mux_driver.py: a JSON-mode invoker for several orders in flight
(batch.bats, issue 10).

    CHALLTESTSRV_URL=... MUX_WANT=N MUX_ORDER=fifo|token mux_driver.py EXTAUTH ARGS...

Runs extauth with its stdin and stdout on pipes, echoes each stdout line,
and holds back every perform_challenge line until N of them wait for a
reply at once (or none came for MUX_GATHER seconds, default 10: so a run
that writes one at a time is slow, not hung).  Then it answers them:
"fifo" in the order written with empty lines, "token" in the reverse
order with {"result": "ok", "token": ...}.  Each challenge's TXT record
is published only just before its own reply, so a reply handed to the
wrong order leaves the CA without its record and that certificate fails.
Writes "max_pending N" (the most performs waiting at once) to MUX_LOG.
Exits with extauth's status.
"""
import json
import os
import select
import subprocess
import sys
import time
import urllib.request

URL = os.environ["CHALLTESTSRV_URL"]
WANT = int(os.environ.get("MUX_WANT", "1"))
ORDER = os.environ.get("MUX_ORDER", "fifo")
GATHER = float(os.environ.get("MUX_GATHER", "10"))


def post(path, body):
    req = urllib.request.Request(URL + "/" + path,
                                 data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req, timeout=10).read()


def answer(proc, pending, why):
    # On stderr, so a failed test shows how the lines came.
    sys.stderr.write("mux_driver: answering %d waiting (%s)\n"
                     % (len(pending), why))
    todo = list(pending) if ORDER == "fifo" else list(reversed(pending))
    for rec in todo:
        post("set-txt", {"host": rec["txt_domain"] + ".",
                         "value": rec["validation"]})
        if ORDER == "fifo":
            reply = "\n"
        else:
            reply = json.dumps({"result": "ok", "token": rec["token"]}) + "\n"
        proc.stdin.write(reply.encode())
        proc.stdin.flush()
    pending.clear()


def main():
    proc = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    fd = proc.stdout.fileno()
    buf = b""
    pending = []
    most = 0
    last = time.monotonic()
    eof = False
    while not eof:
        wait = None
        if pending:
            wait = max(0.0, last + GATHER - time.monotonic())
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            answer(proc, pending, "none came for %g s" % GATHER)
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            eof = True
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            sys.stdout.write(line.decode() + "\n")
            sys.stdout.flush()
            rec = json.loads(line)
            if rec.get("cmd") == "perform_challenge":
                pending.append(rec)
                most = max(most, len(pending))
                last = time.monotonic()
                if len(pending) >= WANT:
                    answer(proc, pending, "%d waited at once" % WANT)
            elif rec.get("cmd") == "cleanup" and rec.get("txt_domain"):
                post("clear-txt", {"host": rec["txt_domain"] + "."})
    rc = proc.wait()
    with open(os.environ["MUX_LOG"], "w") as f:
        f.write("max_pending %d\n" % most)
    return rc


if __name__ == "__main__":
    sys.exit(main())
