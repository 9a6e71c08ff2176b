#!/usr/bin/env bash
# nginx-deploy-handler.sh - an extauth handler that installs a new certificate
# into nginx and reloads it.
#
# Handler convention (certbot-external-auth compatible): argv[1] is the command
# word, the data comes in environment variables, each both plain and with a
# `cbot_` prefix (we read the prefixed one: the plain names such as `domain`
# or `type` may clash with variables the caller already had):
#   deploy_cert     cbot_domain cbot_fullchain_path cbot_key_path (+ cert_path, chain_path)
#   unchanged_cert  same variables; nothing to do
# This handler only deploys. For the challenge words (perform, cleanup, ...) it
# does nothing and reports success; for any word it does not know it prints
# "NotImplemented" on stdout and exits 1, which tells the caller "not handled".
# stdout carries nothing else (that convention reads it); messages go to stderr.
#
# Configuration (environment):
#   NGINX_CONF      nginx.conf to test and reload       [/etc/nginx/nginx.conf]
#   NGINX_CERT_DIR  where the config's ssl_certificate / ssl_certificate_key
#                   point: $NGINX_CERT_DIR/fullchain.pem and privkey.pem   [/etc/nginx/ssl]
#   NGINX_BIN       the nginx binary                    [nginx]

set -euo pipefail

: "${NGINX_CONF:=/etc/nginx/nginx.conf}"
: "${NGINX_CERT_DIR:=/etc/nginx/ssl}"
: "${NGINX_BIN:=nginx}"

log() { printf 'nginx-deploy: %s\n' "$*" >&2; }

# Copy SRC over DST atomically (temp file in the same directory, then rename),
# so nginx never reads a half-written file. Copies, not symlinks, because the
# client may later prune the files it handed us.
install_file() {
	local src="$1" dst="$2" mode="$3" tmp
	tmp="$(mktemp "$dst.XXXXXX")"
	cat -- "$src" >"$tmp"
	chmod "$mode" "$tmp"
	mv -f -- "$tmp" "$dst"
}

deploy_cert() {
	local domain="${cbot_domain:-${domain:-}}"
	local fullchain="${cbot_fullchain_path:-${fullchain_path:-}}"
	local key="${cbot_key_path:-${key_path:-}}"
	local f
	if [[ -z "$fullchain" || -z "$key" ]]; then
		log "deploy_cert needs fullchain_path and key_path"
		return 1
	fi
	mkdir -p -- "$NGINX_CERT_DIR"

	# Keep the current pair so a config nginx rejects can be rolled back and
	# the running server keeps serving the old certificate.
	for f in fullchain.pem:644 privkey.pem:600; do
		if [[ -e "$NGINX_CERT_DIR/${f%:*}" ]]; then
			install_file "$NGINX_CERT_DIR/${f%:*}" "$NGINX_CERT_DIR/${f%:*}.previous" "${f#*:}"
		fi
	done
	install_file "$fullchain" "$NGINX_CERT_DIR/fullchain.pem" 644
	install_file "$key" "$NGINX_CERT_DIR/privkey.pem" 600

	if ! "$NGINX_BIN" -t -q -c "$NGINX_CONF"; then
		log "nginx rejects the new certificate for $domain; restoring the previous one"
		for f in fullchain.pem privkey.pem; do
			if [[ -e "$NGINX_CERT_DIR/$f.previous" ]]; then
				mv -f -- "$NGINX_CERT_DIR/$f.previous" "$NGINX_CERT_DIR/$f"
			fi
		done
		return 1
	fi
	# reload = SIGHUP to the master named in the config's pid file; new
	# connections get the new certificate once the new workers are up.
	"$NGINX_BIN" -c "$NGINX_CONF" -s reload
	log "deployed $fullchain for $domain and reloaded nginx"
}

case "${1:-}" in
deploy_cert) deploy_cert ;;
unchanged_cert | pre-perform | post-perform | pre-cleanup | cleanup | post-cleanup) ;;
*)
	echo "NotImplemented"
	exit 1
	;;
esac
