#!/usr/bin/python3
"""tcprelay.py: a plain TCP relay that counts connections (issue 10).

    tcprelay.py TARGET_HOST TARGET_PORT PORTFILE LOGFILE

Listens on a free loopback port (written to PORTFILE once listening) and
copies bytes both ways between each client and TARGET, untouched: TLS and
its ALPN (h2 or http/1.1) stay end to end between extauth and Pebble.
Appends one line per accepted connection to LOGFILE ("open N" at accept,
"close N SECONDS" at the end), so a test counts the TCP connections a run
opened to the CA: what multiplexing (one connection for every order in
flight) is about.  Runs until killed.
"""
import os
import socket
import sys
import threading
import time

BUF = 65536


def pump(src, dst):
    try:
        while True:
            data = src.recv(BUF)
            if not data:
                break
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
    a = threading.Thread(target=pump, args=(client, upstream), daemon=True)
    a.start()
    pump(upstream, client)
    a.join()
    client.close()
    upstream.close()
    with lock:
        log.write("close %d %.3f\n" % (n, time.monotonic() - start))
        log.flush()


def main():
    host, port, portfile, logfile = sys.argv[1:5]
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
