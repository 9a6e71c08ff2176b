#!/usr/bin/env python3
"""json-socket-driver.py: example invoker for extauth's JSON mode through
certbot.  Copy and adapt it.

    CHALLTESTSRV_URL=http://127.0.0.1:8055 json-socket-driver.py SOCKET [LOG]

certbot keeps its hooks' stdout, so "extauth certbot-hook auth --socket
SOCKET" connects to this program instead: one connection per hook call,
carrying exactly the lines extauth prints on stdout in JSON mode.  For
every perform_challenge line the challenge is published (here: through
pebble-challtestsrv's management API; put your DNS API / web root code in
publish()) and one empty line is written back on the same connection =
"deployed, go on".  cleanup lines undo the publishing; deploy_cert lines
are only logged.  Every line received is appended to LOG (if given) and
echoed on stderr.

The socket appears only once it accepts connections (bound under a
temporary name, then renamed), so a caller may wait for the path to
exist.  Runs until SIGTERM or SIGINT, then removes the socket.

Test knobs:
    DRIVER_NO_PUBLISH=1      ack without publishing (the CA will find nothing)
    DRIVER_ACK='{"result":"fail","error":"x"}'  send this instead of ""
"""
import json
import os
import signal
import socket
import sys
import urllib.request

LINE_MAX = 64 * 1024


def post(endpoint, body):
    url = os.environ["CHALLTESTSRV_URL"].rstrip("/") + "/" + endpoint
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def txt_host(ev):
    # cleanup lines carry no txt_domain; a wildcard's record lives at the
    # base name.  challtestsrv wants a trailing dot.
    name = ev.get("txt_domain") or \
        "_acme-challenge." + ev.get("domain", "").removeprefix("*.")
    return name.rstrip(".") + "."


def publish(ev):
    if ev.get("type") == "dns-01":
        post("set-txt", {"host": txt_host(ev), "value": ev["validation"]})
    elif ev.get("type") == "http-01":
        # validation is the key authorization for http-01
        post("add-http01", {"token": ev["token"],
                            "content": ev["validation"]})
    else:
        raise ValueError("cannot publish %s" % ev.get("type"))


def unpublish(ev):
    if ev.get("type") == "dns-01":
        post("clear-txt", {"host": txt_host(ev)})
    elif ev.get("type") == "http-01":
        post("del-http01", {"token": ev["token"]})


def serve(conn, log):
    """One hook call: lines until extauth closes its end."""
    f = conn.makefile("rwb", buffering=0)
    while True:
        line = f.readline(LINE_MAX + 1)
        if not line:
            return
        text = line.decode("utf-8", "replace").rstrip("\n")
        print("driver: " + text, file=sys.stderr, flush=True)
        if log is not None:
            log.write(text + "\n")
            log.flush()
        try:
            ev = json.loads(text)
        except ValueError:
            continue
        cmd = ev.get("cmd")
        if cmd == "perform_challenge":
            ack = os.environ.get("DRIVER_ACK", "")
            if not os.environ.get("DRIVER_NO_PUBLISH"):
                try:
                    publish(ev)
                except Exception as exc:  # report it to extauth
                    ack = json.dumps({"result": "fail",
                                      "error": "driver: %s" % exc})
            f.write((ack + "\n").encode())
        elif cmd == "cleanup" and not os.environ.get("DRIVER_NO_PUBLISH"):
            try:
                unpublish(ev)
            except Exception as exc:
                print("driver: cleanup failed: %s" % exc, file=sys.stderr)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: json-socket-driver.py SOCKET [LOG]")
    if "CHALLTESTSRV_URL" not in os.environ:
        sys.exit("set CHALLTESTSRV_URL (pebble-challtestsrv management URL)")
    path = sys.argv[1]
    log = open(sys.argv[2], "a") if len(sys.argv) == 3 else None
    tmp = path + ".tmp"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(tmp):
        os.unlink(tmp)
    srv.bind(tmp)
    os.chmod(tmp, 0o600)
    srv.listen(4)
    os.rename(tmp, path)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while True:
            conn, _ = srv.accept()
            with conn:
                serve(conn, log)
    finally:
        srv.close()
        if os.path.exists(path):
            os.unlink(path)


if __name__ == "__main__":
    main()
