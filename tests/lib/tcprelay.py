#!/usr/bin/python3
"""tcprelay.py: a plain TCP relay that counts connections (issue 10).

    tcprelay.py TARGET_HOST TARGET_PORT PORTFILE LOGFILE [FREEZEFILE]

Listens on a free loopback port (written to PORTFILE once listening) and
copies bytes both ways between each client and TARGET, untouched: TLS and
its ALPN (h2 or http/1.1) stay end to end between extauth and Pebble.
Appends one line per accepted connection to LOGFILE ("open N" at accept,
"close N SECONDS" at the end), so a test counts the TCP connections a run
opened to the CA: what multiplexing (one connection for every order in
flight) is about.  When FREEZEFILE holds a number N, connections 1..N
stop moving (bytes are held both ways, the sockets stay open): a
connection that hangs without closing, for the tests of what a client does
when its one connection stops.  Runs until killed.
"""
import os
import socket
import sys
import threading
import time

BUF = 65536


FREEZE = None


def frozen(n):
    """True while FREEZEFILE says connection n is frozen."""
    if FREEZE is None:
        return False
    try:
        with open(FREEZE) as f:
            return n <= int(f.read().strip() or "0")
    except (OSError, ValueError):
        return False


def pump(src, dst, n):
    try:
        while True:
            data = src.recv(BUF)
            if not data:
                break
            while frozen(n):
                time.sleep(0.05)
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(client, n, target, log, lock):
    start = time.monotonic()
    try:
        upstream = socket.create_connection(target)
    except OSError:
        client.close()
        return
    a = threading.Thread(target=pump, args=(client, upstream, n), daemon=True)
    a.start()
    pump(upstream, client, n)
    a.join()
    client.close()
    upstream.close()
    with lock:
        log.write("close %d %.3f\n" % (n, time.monotonic() - start))
        log.flush()


def main():
    global FREEZE
    host, port, portfile, logfile = sys.argv[1:5]
    if len(sys.argv) > 5:
        FREEZE = sys.argv[5]
    target = (host, int(port))
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    log = open(logfile, "a", buffering=1)
    lock = threading.Lock()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.replace(portfile + ".tmp", portfile)
    n = 0
    while True:
        client, _ = lsock.accept()
        n += 1
        with lock:
            log.write("open %d\n" % n)
            log.flush()
        threading.Thread(target=serve, args=(client, n, target, log, lock),
                         daemon=True).start()


if __name__ == "__main__":
    main()
