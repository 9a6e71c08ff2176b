#!/usr/bin/env bash
# handler-example.sh - a handler that only shows what it is given.
#
# Handler convention (certbot-external-auth compatible, used by extauth's
# handler mode): argv[1] is the command word, the data is in environment
# variables, each both plain (`domain`) and `cbot_`-prefixed (`cbot_domain`);
# `cbot_json` holds the whole event as JSON. Command words, in call order:
#   pre-perform, perform (once per challenge), post-perform,
#   pre-cleanup, cleanup (once per challenge), post-cleanup,
#   deploy_cert or unchanged_cert (once per domain, installer runs only).
# Exit 0 = done. For a word it does not know, a handler prints exactly
# "NotImplemented" on stdout and exits 1. stdout is reserved for that answer,
# so everything else goes to stderr.
#
# Put your DNS/HTTP provisioning where the comments say; a perform must not
# return before the record or file is reachable by the CA.

set -euo pipefail

cmd="${1:-}" # the env var `cmd` holds the event name (perform_challenge, ...); argv wins

# Read a field, preferring the cbot_ copy: the plain names (type, domain,
# status, error, ...) may clash with variables the caller already had.
field() {
	local v="cbot_$1"
	printf '%s' "${!v-${!1-}}"
}

begin() { printf -- '-----BEGIN %s-----\n' "${cmd^^}" >&2; }
end() { printf -- '-----END %s-----\n' "${cmd^^}" >&2; }
show() {
	local name
	for name in "$@"; do
		printf '%s: %s\n' "$name" "$(field "$name")" >&2
	done
}

case "$cmd" in
pre-perform | post-perform | pre-cleanup | post-cleanup)
	begin
	end
	;;
perform)
	begin
	printf 'cmd: %s\n' "$cmd" >&2
	# dns-01: publish TXT $txt_domain = $validation.  http-01: serve $validation at $uri.
	show type domain token txt_domain uri validation key_auth
	printf 'json: %s\n' "$(field json)" >&2
	end
	;;
cleanup)
	begin
	printf 'cmd: %s\n' "$cmd" >&2
	# Remove exactly what perform published (match on $validation: two challenges
	# can share one TXT name, e.g. example.com and *.example.com).
	show type domain status token validation error
	printf 'json: %s\n' "$(field json)" >&2
	end
	;;
deploy_cert | unchanged_cert)
	begin
	printf 'cmd: %s\n' "$cmd" >&2
	# deploy_cert: install $fullchain_path and $key_path, reload the service.
	show domain cert_path key_path chain_path fullchain_path timestamp cert_timestamp
	end
	;;
*)
	echo "NotImplemented"
	exit 1
	;;
esac
