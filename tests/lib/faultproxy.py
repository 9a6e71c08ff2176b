#!/usr/bin/env python3
"""faultproxy.py: a fault-injecting HTTPS proxy between an ACME client and a
real Pebble, for the integration tests (tests/lib/faultproxy.bash starts it).

The client speaks TLS (HTTP/1.1 only) to the proxy; every request is
forwarded over TLS to Pebble with its Host header unchanged.  Pebble builds
the URLs of its answers from the Host header and checks the JWS "url"
against it, so the client sees the proxy's origin everywhere and no URL
rewriting is needed (tests/integration/fault_selftest.bats checks it).

Rules (file given by --rules, one rule per line or several per line
separated by blanks, '#' starts a comment; the file is re-read whenever it
changes, which also restarts every rule's counters):

    CLASS[:key=value]...

  classes  500 503 503ra 429 429ra ratelimited badnonce redirect stall drop
           truncate oversize crossorigin foreignid badtoken leadingblank stuck
           ghostprofile
           ("ra" = with Retry-After; ratelimited = 429 with the
           urn:ietf:params:acme:error:rateLimited problem and Retry-After)
  kind=K[|K...]  request kinds the rule applies to: directory nonce
           newAccount account newOrder order authz challenge finalize cert
           revoke keyChange other (default: every kind the class fits)
  rate=P   probability of injecting per matching request (default 1)
  at=N[,N...]  inject at exactly the Nth matching requests (1-based,
           counted per rule since the rules were loaded); overrides rate
  times=N  inject at most N times
  secs=S   Retry-After value (default 1) or stall duration (default 2)
  delay=S  hold the answer S seconds before sending it (any class): with
           several clients' requests in flight, they all reach the proxy
           before the first of them is answered
  variant=chars|dots|long   badtoken only (default: each in turn)

The first rule that fires on a request wins.  Every request is logged
(--log) as one JSON line:
  {"n":N,"method":"POST","path":"/order-plz","kind":"newOrder",
   "host":"127.0.0.1:P","fault":"503","status":503,
   "t_in":1795000000.123456,"t_out":1795000000.234567}
"fault" is "" when nothing was injected; "status" is what the client was
sent (0 for a dropped connection); "t_in" is when the request had arrived
(body read), "t_out" when its answer had been written (epoch seconds).

What each class does:
  500 503 503ra 429 429ra ratelimited  answer a problem document without
           forwarding (no Replay-Nonce, as a load balancer would; ratelimited
           comes "from the CA" and carries a fresh nonce)
  badnonce  answer 400 badNonce with a fresh Replay-Nonce (POSTs only)
  redirect  answer 307 to the very same URL: a redirect loop
  stall     wait secs seconds, then forward
  drop      forward, then send the headers and half the body and close
           (half the headers when there is no body)
  truncate  forward, then send the first half of the body with a matching
           Content-Length (a complete HTTP answer, broken JSON)
  oversize  forward, then pad the body with blanks to 3 MiB (still valid
           JSON, bigger than the client's 2 MiB cap)
  crossorigin  forward, then rewrite https://127.0.0.1:PORT in the body and
           in Location/Link to https://localhost:PORT: another origin that
           works (same proxy, the certificate names both), so a client that
           follows it visibly issues through it
  foreignid  forward, then rename the identifier of an authorization answer
           to foreign-N.example.net
  badtoken  forward, then replace the token of every challenge of an
           authorization or challenge answer by one with characters outside
           base64url, a ../ path or 10,000 characters
  leadingblank  forward, then prepend two blank lines to the body (the
           certificate: harmless, must be accepted)
  stuck     forward, then show an authorization that is no longer pending
           as pending, its challenges processing: a CA that never finishes
           validating
  ghostprofile  forward, then list a profile "ghost" in the directory's
           meta.profiles that the CA does not know: its newOrder gets
           invalidProfile
  truncate and oversize never fire on HEAD (no body).

Python standard library only.
"""

import argparse
import http.client
import http.server
import json
import os
import random
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

CLASSES = {
    # class: (default kinds or None for all, needs POST)
    "500": (None, False),
    "503": (None, False),
    "503ra": (None, False),
    "429": (None, False),
    "429ra": (None, False),
    "ratelimited": (None, False),
    "badnonce": (None, True),
    "redirect": (None, False),
    "stall": (None, False),
    "drop": (None, False),
    "truncate": (None, False),
    "oversize": (None, False),
    "crossorigin": ({"directory", "newAccount", "newOrder", "order", "authz",
                     "challenge", "finalize"}, False),
    "foreignid": ({"authz"}, False),
    "badtoken": ({"authz", "challenge"}, False),
    "leadingblank": ({"cert"}, False),
    "stuck": ({"authz"}, False),
    "ghostprofile": ({"directory"}, False),
}
KINDS = {"directory", "nonce", "newAccount", "account", "newOrder", "order",
         "authz", "challenge", "finalize", "cert", "revoke", "keyChange",
         "other"}
# Pebble's paths (wfe.go); prefixes end in '/'.
PATHS = [
    ("/dir", "directory"), ("/nonce-plz", "nonce"),
    ("/sign-me-up", "newAccount"), ("/my-account/", "account"),
    ("/order-plz", "newOrder"), ("/my-order/", "order"),
    ("/authZ/", "authz"), ("/chalZ/", "challenge"),
    ("/finalize-order/", "finalize"), ("/certZ/", "cert"),
    ("/revoke-cert", "revoke"), ("/rollover-account-key", "keyChange"),
]
BADTOKENS = {
    "chars": "abc$def+ghi/jkl=mno;rm -rf x",
    "dots": "../../../../tmp/faultproxy-escape",
    "long": "A" * 10000,
}
OVERSIZE = 3 * 1024 * 1024
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection",
       "te", "trailer", "upgrade", "content-length"}


def kind_of(method, path):
    path = urllib.parse.urlsplit(path).path
    for prefix, kind in PATHS:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return kind
    return "other"


class Rule:
    def __init__(self, text):
        parts = text.split(":")
        self.text = text
        self.cls = parts[0]
        if self.cls not in CLASSES:
            raise ValueError("unknown fault class '%s'" % self.cls)
        self.kinds = CLASSES[self.cls][0]
        self.post_only = CLASSES[self.cls][1]
        self.rate, self.at, self.times = 1.0, None, None
        self.secs, self.variant, self.delay = None, None, 0.0
        self.seen = self.fired = 0
        for p in parts[1:]:
            key, sep, val = p.partition("=")
            if not sep:
                raise ValueError("rule '%s': expected key=value, got '%s'" % (text, p))
            if key == "kind":
                kinds = set(val.split("|"))
                bad = kinds - KINDS
                if bad:
                    raise ValueError("rule '%s': unknown kind %s" % (text, ",".join(sorted(bad))))
                self.kinds = kinds if self.kinds is None else kinds & self.kinds
            elif key == "rate":
                self.rate = float(val)
            elif key == "at":
                self.at = {int(x) for x in val.split(",")}
            elif key == "times":
                self.times = int(val)
            elif key == "secs":
                self.secs = float(val)
            elif key == "delay":
                self.delay = float(val)
            elif key == "variant":
                if val not in BADTOKENS:
                    raise ValueError("rule '%s': unknown variant '%s'" % (text, val))
                self.variant = val
            else:
                raise ValueError("rule '%s': unknown key '%s'" % (text, key))

    def fires(self, method, kind, rng):
        if self.kinds is not None and kind not in self.kinds:
            return False
        if self.post_only and method != "POST":
            return False
        if self.cls in ("truncate", "oversize") and method == "HEAD":
            return False  # no body to cut or pad
        self.seen += 1
        if self.times is not None and self.fired >= self.times:
            return False
        if self.at is not None:
            hit = self.seen in self.at
        else:
            hit = rng.random() < self.rate
        if hit:
            self.fired += 1
        return hit


class State:
    """Rules, counters and the log, shared by the handler threads."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.rules = []
        self.rules_id = None
        self.n = 0
        self.log = open(args.log, "a", buffering=1)
        self.upstream = urllib.parse.urlsplit(args.upstream)
        self.upctx = ssl.create_default_context(cafile=args.upstream_ca)
        self.tokens = 0

    def reload(self):
        """Re-read the rules file if it changed; an unreadable or bad file
        keeps the previous rules and says why on stderr."""
        try:
            st = os.stat(self.args.rules)
            ident = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            ident = None
        if ident == self.rules_id:
            return
        rules = []
        if ident is not None:
            try:
                with open(self.args.rules) as f:
                    for line in f:
                        for word in line.split("#", 1)[0].split():
                            rules.append(Rule(word))
            except (OSError, ValueError) as e:
                print("faultproxy: rules not changed: %s" % e, file=sys.stderr)
                return
        self.rules, self.rules_id = rules, ident
        print("faultproxy: rules: %s" % " ".join(r.text for r in rules), file=sys.stderr)

    def decide(self, method, kind):
        """Number the request and pick the rule that fires (or None)."""
        with self.lock:
            self.reload()
            self.n += 1
            for r in self.rules:
                if r.fires(method, kind, self.rng):
                    return self.n, r
            return self.n, None

    def record(self, entry):
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")

    def fresh_nonce(self):
        c = self.connect()
        try:
            # Pebble 2.10 refuses a request without User-Agent (400, no
            # nonce); http.client sends Host (the upstream's host:port)
            # itself, and a second one is a 400 from Go's server too.
            c.request("HEAD", "/nonce-plz", headers={"User-Agent": "extauth-faultproxy"})
            r = c.getresponse()
            r.read()
            return r.getheader("Replay-Nonce")
        finally:
            c.close()

    def connect(self):
        return http.client.HTTPSConnection(self.upstream.hostname, self.upstream.port,
                                           context=self.upctx, timeout=60)


def problem(status, ptype, detail):
    return status, [("Content-Type", "application/problem+json")], json.dumps(
        {"type": "urn:ietf:params:acme:error:" + ptype, "detail": detail,
         "status": status}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"

    def log_message(self, fmt, *args):  # the JSON log says it all
        pass

    def do_GET(self):
        self.handle_any()

    do_POST = do_HEAD = do_PUT = do_DELETE = do_GET

    def handle_any(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        t_in = time.time()
        kind = kind_of(self.command, self.path)
        n, rule = st.decide(self.command, kind)
        cls = rule.cls if rule else ""
        entry = {"n": n, "method": self.command, "path": self.path, "kind": kind,
                 "host": self.headers.get("Host", ""), "fault": cls, "status": 0,
                 "t_in": t_in}
        try:
            status, headers, out, changed = self.produce(st, rule, body)
            entry["status"] = status
            if changed is not None:
                entry["changed"] = changed
            if rule and rule.delay > 0:
                time.sleep(rule.delay)
            self.send(status, headers, out, cls == "drop")
        except (OSError, http.client.HTTPException) as e:
            entry["error"] = str(e)
            self.close_connection = True
        entry["t_out"] = time.time()
        st.record(entry)

    def produce(self, st, rule, body):
        cls = rule.cls if rule else ""
        secs = rule.secs if rule and rule.secs is not None else None
        ra = [("Retry-After", str(int(secs if secs is not None else 1)))]
        detail = "faultproxy: injected %s" % cls
        if cls in ("500", "503", "503ra", "429", "429ra"):
            s, h, b = problem(int(cls[:3]), "serverInternal", detail)
            return s, h + (ra if cls.endswith("ra") else []), b, None
        if cls == "ratelimited":
            s, h, b = problem(429, "rateLimited", detail)
            return s, h + ra + [("Replay-Nonce", st.fresh_nonce())], b, None
        if cls == "badnonce":
            s, h, b = problem(400, "badNonce", detail)
            return s, h + [("Replay-Nonce", st.fresh_nonce())], b, None
        if cls == "redirect":
            return 307, [("Location", self.path)], b"", None
        if cls == "stall":
            time.sleep(secs if secs is not None else 2)
        status, headers, out = self.forward(st, body)
        before = (headers, out)
        if cls == "truncate":
            out = out[:len(out) // 2]
        elif cls == "oversize":
            out = out + b" " * max(0, OVERSIZE - len(out))
        elif cls == "crossorigin":
            here = ("https://%s" % self.headers.get("Host", "")).encode()
            there = here.replace(b"127.0.0.1", b"localhost")
            out = out.replace(here, there)
            headers = [(k, v.replace(here.decode(), there.decode())) for k, v in headers]
        elif cls == "leadingblank":
            out = b"\n\n" + out
        elif cls in ("foreignid", "badtoken", "stuck", "ghostprofile"):
            out = self.rewrite_json(st, rule, out)
        # "changed" tells the tests a rewriting fault really changed the
        # answer (a crossorigin on an answer without URLs changes nothing).
        changed = (headers, out) != before if cls not in ("", "stall", "drop") else None
        return status, headers, out, changed

    def rewrite_json(self, st, rule, out):
        """The answer with the identifier or the tokens replaced; unchanged
        if it is not JSON or has none."""
        try:
            doc = json.loads(out)
        except ValueError:
            return out
        if not isinstance(doc, dict):
            return out
        done = False
        if rule.cls == "foreignid" and isinstance(doc.get("identifier"), dict):
            with st.lock:
                st.tokens += 1
                doc["identifier"]["value"] = "foreign-%d.example.net" % st.tokens
            done = True
        elif rule.cls == "ghostprofile":
            meta = doc.setdefault("meta", {})
            if isinstance(meta, dict):
                profiles = meta.get("profiles")
                meta["profiles"] = dict(profiles) if isinstance(profiles, dict) else {}
                meta["profiles"]["ghost"] = "listed by the proxy, unknown to the CA"
                done = True
        elif rule.cls == "stuck" and doc.get("status") not in (None, "pending"):
            doc["status"] = "pending"
            for c in doc.get("challenges") or []:
                if isinstance(c, dict):
                    c["status"] = "processing"
            done = True
        elif rule.cls == "badtoken":
            with st.lock:
                variant = rule.variant or sorted(BADTOKENS)[st.tokens % len(BADTOKENS)]
                st.tokens += 1
            chals = doc.get("challenges") if "challenges" in doc else [doc]
            for c in chals if isinstance(chals, list) else []:
                if isinstance(c, dict) and "token" in c:
                    c["token"] = BADTOKENS[variant]
                    done = True
        return json.dumps(doc).encode() if done else out

    def forward(self, st, body):
        c = getattr(self, "upconn", None)
        if c is None:
            c = self.upconn = st.connect()
        c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in HOP:
                c.putheader(k, v)
        if body or self.command in ("POST", "PUT"):
            c.putheader("Content-Length", str(len(body)))
        try:
            c.endheaders(body)
            r = c.getresponse()
            out = r.read()
        except (OSError, http.client.HTTPException):
            c.close()
            self.upconn = None
            raise
        headers = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
        return r.status, headers, out

    def send(self, status, headers, out, drop):
        reason = http.client.responses.get(status, "Unknown")
        # Content-Length first: a drop inside the headers still tells the
        # client how much body it lost.
        head = ["HTTP/1.1 %d %s" % (status, reason), "Content-Length: %d" % len(out)]
        head += ["%s: %s" % (k, v) for k, v in headers]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode()
        body = out if self.command != "HEAD" else b""
        if drop:
            # Mid-body when there is a body, else mid-headers.
            cut = len(raw) + len(body) // 2 if body else len(raw) // 2
            self.wfile.write((raw + body)[:cut])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(raw + body)
        self.wfile.flush()

    def finish(self):
        c = getattr(self, "upconn", None)
        if c is not None:
            c.close()
        try:
            super().finish()
        except OSError:
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, state, ctx):
        super().__init__(addr, Handler)
        self.state = state
        self.ctx = ctx

    def get_request(self):
        sock, addr = self.socket.accept()
        # The handshake happens in the handler thread (first read), so a
        # client that never completes it blocks no one else.
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-handshake is not our problem


def main():
    ap = argparse.ArgumentParser(description="fault-injecting ACME proxy")
    ap.add_argument("--upstream", required=True, help="https://HOST:PORT of Pebble")
    ap.add_argument("--upstream-ca", required=True, help="CA bundle trusting Pebble")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--rules", required=True, help="rules file (re-read on change)")
    ap.add_argument("--log", required=True, help="JSON-lines log of every request")
    ap.add_argument("--port-file", required=True, help="written once listening")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big")
    print("faultproxy: seed %d" % args.seed, file=sys.stderr)

    state = State(args)
    state.reload()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])
    srv = Server(("127.0.0.1", 0), state, ctx)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
