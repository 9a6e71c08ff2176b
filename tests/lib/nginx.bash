# shellcheck shell=bash
# tests/lib/nginx.bash - a throw-away nginx TLS server to check certificate deployment.
#
#   nginx_start CERT KEY   start nginx on a free 127.0.0.1 port serving CERT/KEY. Exports:
#                            NGINX_PORT      TLS port on 127.0.0.1
#                            NGINX_TMP       temp dir (config, logs, pid, certs/)
#                            NGINX_CONF      the nginx.conf (for `nginx -c`)
#                            NGINX_CERT_DIR  $NGINX_TMP/certs, holding fullchain.pem and
#                                            privkey.pem (symlinks to CERT and KEY), which
#                                            is what the config names; a deploy handler
#                                            replaces these two and reloads
#   nginx_reload           reload and wait until only new workers serve
#   nginx_stop             stop nginx and remove NGINX_TMP; safe to call twice
#   nginx_served_fingerprint NAME       SHA-256 fingerprint (AA:BB:..) served for SNI NAME
#   nginx_file_fingerprint FILE         the same for the first certificate in a PEM file
#   nginx_wait_fingerprint NAME FP [S]  poll until NAME is served with FP (default 10 s);
#                                       for reloads done by someone else (a handler)
#
# Sourced by bats, so no shell options are set here; the functions work under
# `set -euo pipefail` and return non-zero on failure without it.

_nginx_free_port() {
	# Ask the kernel for a free TCP port. nginx binds it a moment later; if
	# something takes it in between, nginx fails to start and says so.
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True if PID runs and is not a zombie: the daemonized master is reaped by
# PID 1, which in containers may be slow, and kill -0 succeeds on a zombie.
_nginx_alive() {
	local state
	state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
	[[ -n "$state" && "$state" != Z* ]]
}

_nginx_master_pid() {
	[[ -n "${NGINX_TMP:-}" && -s "$NGINX_TMP/nginx.pid" ]] && cat "$NGINX_TMP/nginx.pid"
}

# Worker pids of the master, sorted, one line.
_nginx_workers() {
	local pid
	pid="$(_nginx_master_pid)" || return 0
	pgrep -P "$pid" | sort | tr '\n' ' '
}

nginx_start() {
	local cert="${1:?usage: nginx_start CERT KEY}" key="${2:?usage: nginx_start CERT KEY}" i pid
	if pid="$(_nginx_master_pid 2>/dev/null)" && _nginx_alive "$pid"; then
		echo "nginx_start: already running (NGINX_TMP=$NGINX_TMP)" >&2
		return 1
	fi
	NGINX_TMP="$(mktemp -d "${TMPDIR:-/tmp}/extauth-nginx.XXXXXX")" || return 1
	NGINX_CONF="$NGINX_TMP/nginx.conf"
	NGINX_CERT_DIR="$NGINX_TMP/certs"
	NGINX_PORT="$(_nginx_free_port)" || return 1
	export NGINX_TMP NGINX_CONF NGINX_CERT_DIR NGINX_PORT

	# Symlinks, not copies: nginx opens them at every (re)load, so a handler can
	# point them elsewhere (or overwrite them with files) and reload.
	mkdir "$NGINX_CERT_DIR" &&
		ln -s "$(realpath "$cert")" "$NGINX_CERT_DIR/fullchain.pem" &&
		ln -s "$(realpath "$key")" "$NGINX_CERT_DIR/privkey.pem" || return 1

	# Every path nginx would otherwise take from its compiled-in defaults
	# (/run/nginx.pid, /var/log/nginx, /var/lib/nginx/*) is pinned into
	# NGINX_TMP so that parallel instances and a system nginx never collide.
	# No `user` line: as root the workers drop to nobody, which is fine because
	# the master opens certificates and logs.
	cat >"$NGINX_CONF" <<EOF
worker_processes 1;
pid $NGINX_TMP/nginx.pid;
error_log $NGINX_TMP/error.log info;
events { worker_connections 64; }
http {
	access_log $NGINX_TMP/access.log;
	client_body_temp_path $NGINX_TMP/client_body;
	proxy_temp_path $NGINX_TMP/proxy;
	fastcgi_temp_path $NGINX_TMP/fastcgi;
	uwsgi_temp_path $NGINX_TMP/uwsgi;
	scgi_temp_path $NGINX_TMP/scgi;
	server {
		listen 127.0.0.1:$NGINX_PORT ssl default_server;
		server_name _;
		ssl_certificate $NGINX_CERT_DIR/fullchain.pem;
		ssl_certificate_key $NGINX_CERT_DIR/privkey.pem;
		location / { return 200 "ok\n"; }
	}
}
EOF

	# nginx daemonizes by itself: the command returns once the master has
	# bound its socket, and its exit status tells whether the config was
	# accepted. -e sends early messages to our log instead of the compiled-in
	# stderr. 3>&-: the daemon must not keep bats' fd 3 open (bats would hang).
	if ! nginx -p "$NGINX_TMP" -c "$NGINX_CONF" -e "$NGINX_TMP/error.log" \
		</dev/null >"$NGINX_TMP/start.log" 2>&1 3>&-; then
		echo "nginx_start: nginx failed to start; logs follow" >&2
		cat "$NGINX_TMP/start.log" "$NGINX_TMP/error.log" >&2 2>/dev/null || true
		rm -rf -- "$NGINX_TMP"
		NGINX_TMP=
		return 1
	fi
	# The pid file is written just after the fork; wait for it (normally at once).
	for ((i = 0; i < 50; i++)); do
		_nginx_master_pid >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "nginx_start: no pid file after 5 s" >&2
	return 1
}

nginx_reload() {
	local old pid i w alive
	old="$(_nginx_workers)"
	nginx -p "$NGINX_TMP" -c "$NGINX_CONF" -e "$NGINX_TMP/error.log" -s reload || return 1
	# The reload is asynchronous: the master starts new workers and tells the
	# old ones to stop accepting. Wait until all old workers are gone, so the
	# next connection is guaranteed to see the new certificate. If the new
	# config is broken the old workers stay, and we report that.
	pid="$(_nginx_master_pid)"
	for ((i = 0; i < 100; i++)); do
		alive=0
		for w in $old; do
			if [[ "$(ps -o ppid= -p "$w" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
				alive=1
			fi
		done
		((alive)) || return 0
		sleep 0.1
	done
	echo "nginx_reload: old workers still running after 10 s; error log follows" >&2
	tail -n 20 "$NGINX_TMP/error.log" >&2
	return 1
}

nginx_stop() {
	local pid i workers
	pid="$(_nginx_master_pid 2>/dev/null)" || pid=
	if [[ -n "$pid" ]] && _nginx_alive "$pid"; then
		workers="$(pgrep -P "$pid" || true)"
		# TERM = fast shutdown; the master stops its workers and exits.
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			_nginx_alive "$pid" || break
			sleep 0.1
		done
		if _nginx_alive "$pid"; then
			# Last resort; kill the workers too, a KILLed master cannot.
			# shellcheck disable=SC2086
			kill -KILL "$pid" $workers 2>/dev/null || true
		fi
	fi
	if [[ -n "${NGINX_TMP:-}" && -d "$NGINX_TMP" ]]; then
		rm -rf -- "$NGINX_TMP"
	fi
	NGINX_TMP=
	return 0
}

# Print the uppercase colon-separated SHA-256 fingerprint of the first
# certificate read on stdin, without openssl's "sha256 Fingerprint=" prefix.
_nginx_fp_stdin() {
	openssl x509 -noout -fingerprint -sha256 | sed 's/^.*=//'
}

nginx_served_fingerprint() {
	local name="${1:?usage: nginx_served_fingerprint NAME}"
	openssl s_client -connect "127.0.0.1:${NGINX_PORT:?nginx_start first}" -servername "$name" \
		</dev/null 2>/dev/null | _nginx_fp_stdin
}

nginx_file_fingerprint() {
	_nginx_fp_stdin <"${1:?usage: nginx_file_fingerprint FILE}"
}

nginx_wait_fingerprint() {
	local name="${1:?usage: nginx_wait_fingerprint NAME FP [SECONDS]}" want="${2:?}" secs="${3:-10}" got="" i
	for ((i = 0; i < secs * 10; i++)); do
		got="$(nginx_served_fingerprint "$name" 2>/dev/null)" || got=""
		[[ "$got" == "$want" ]] && return 0
		sleep 0.1
	done
	echo "nginx_wait_fingerprint: $name served '$got', want '$want'" >&2
	return 1
}
