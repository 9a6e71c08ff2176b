#!/usr/bin/env bash
# dehydrated-nsupdate-hook.sh - dns-01 via RFC 2136 dynamic updates (nsupdate).
#
# Written to dehydrated's hook protocol (dehydrated 0.7, docs/examples/hook.sh and
# docs/hook_chain.md), so it works unchanged with dehydrated itself and with
# extauth's dehydrated mode:
#
#   HOOK COMMAND ARGS...        (argv, never through a shell)
#
# The argument lists, quoted from docs/examples/hook.sh:
#   deploy_challenge  DOMAIN TOKEN_FILENAME TOKEN_VALUE   [repeated per challenge when HOOK_CHAIN=yes]
#   clean_challenge   DOMAIN TOKEN_FILENAME TOKEN_VALUE   [repeated per challenge when HOOK_CHAIN=yes]
#   sync_cert         KEYFILE CERTFILE FULLCHAINFILE CHAINFILE REQUESTFILE
#   deploy_cert       DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE TIMESTAMP
#   deploy_ocsp       DOMAIN OCSPFILE TIMESTAMP
#   unchanged_cert    DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE
#   invalid_challenge DOMAIN RESPONSE
#   request_failure   STATUSCODE REASON REQTYPE HEADERS
#   generate_csr      DOMAIN CERTDIR ALTNAMES   (stdout = PEM CSR; empty = caller makes its own)
#   startup_hook      (no arguments)
#   exit_hook         [ERROR]
# Any other command must exit 0 without doing anything: dehydrated probes this with
# `this_hookscript_is_broken__dehydrated_is_working_fine__please_ignore_unknown_hooks_in_your_script`
# and refuses to run if the hook fails it.
#
# Every hook failure except exit_hook's aborts dehydrated, so this script exits
# non-zero only when a record could not be added/removed or did not become visible.
#
# Configuration (environment, with the defaults below):
#   NSUPDATE_SERVER  DNS primary to send updates to and to check     [127.0.0.1]
#   NSUPDATE_PORT    its port                                         [53]
#   NSUPDATE_KEY     TSIG key file for `nsupdate -k` (required for deploy/clean)
#   NSUPDATE_TTL     TTL of the TXT records                           [60]
#   NSUPDATE_ZONE    zone to update; empty = let nsupdate find it via SOA
#   NSUPDATE_WAIT    seconds to wait until the server serves the record; 0 = no check [30]
#   HOOK_LOG         if set, append one line "COMMAND ARG1 ARG2 ..." per call (for tests)

set -euo pipefail

: "${NSUPDATE_SERVER:=127.0.0.1}"
: "${NSUPDATE_PORT:=53}"
: "${NSUPDATE_KEY:=}"
: "${NSUPDATE_TTL:=60}"
: "${NSUPDATE_ZONE:=}"
: "${NSUPDATE_WAIT:=30}"

# stdout belongs to generate_csr (the caller reads it as a CSR), so all chatter
# goes to stderr.
log() { printf 'nsupdate-hook: %s\n' "$*" >&2; }

# _acme-challenge.DOMAIN. as an absolute name. For a wildcard the ACME identifier
# is already the base name, but strip a stray "*." so a hand call also works:
# example.test and *.example.test share one record name, with two TXT values.
txt_name() {
	local d="${1#\*.}"
	printf '_acme-challenge.%s.' "${d%.}"
}

# Send one update message. OP is "add" or "delete"; records are (name, value)
# pairs. One nsupdate run per call keeps a HOOK_CHAIN batch cheap, and one
# `send` per record keeps records in different zones in separate messages
# (an UPDATE message may only touch one zone).
nsupdate_send() {
	local op="$1" name value
	shift
	if [[ -z "$NSUPDATE_KEY" || ! -r "$NSUPDATE_KEY" ]]; then
		log "NSUPDATE_KEY must name a readable TSIG key file (got '${NSUPDATE_KEY}')"
		return 1
	fi
	{
		printf 'server %s %s\n' "$NSUPDATE_SERVER" "$NSUPDATE_PORT"
		[[ -n "$NSUPDATE_ZONE" ]] && printf 'zone %s\n' "$NSUPDATE_ZONE"
		while (($# >= 2)); do
			name="$1" value="$2"
			shift 2
			if [[ "$op" == add ]]; then
				# "add", never "delete then add": two challenges may share the name.
				printf 'update add %s %s IN TXT "%s"\n' "$name" "$NSUPDATE_TTL" "$value"
			else
				# Naming the value removes exactly this record and leaves any
				# other pending challenge at the same name alone.
				printf 'update delete %s IN TXT "%s"\n' "$name" "$value"
			fi
			printf 'send\n'
		done
	} | nsupdate -k "$NSUPDATE_KEY"
}

# Wait until the server answers NAME with VALUE. dehydrated adds no delay of its
# own: deploy_challenge must not return before the record is live.
wait_visible() {
	local name="$1" value="$2" deadline
	((NSUPDATE_WAIT > 0)) || return 0
	deadline=$((SECONDS + NSUPDATE_WAIT))
	while :; do
		if dig +norecurse +time=1 +tries=1 +short -p "$NSUPDATE_PORT" "@$NSUPDATE_SERVER" TXT "$name" |
			grep -qxF "\"$value\""; then
			return 0
		fi
		if ((SECONDS >= deadline)); then
			log "TXT $name \"$value\" not visible at $NSUPDATE_SERVER:$NSUPDATE_PORT after ${NSUPDATE_WAIT}s"
			return 1
		fi
		sleep 0.2
	done
}

# deploy_challenge / clean_challenge: one triple normally, N triples with HOOK_CHAIN=yes.
challenges() {
	local op="$1" pairs=() domain token value i
	shift
	if (($# == 0 || $# % 3 != 0)); then
		log "expected DOMAIN TOKEN_FILENAME TOKEN_VALUE triples, got $# arguments"
		return 1
	fi
	while (($# >= 3)); do
		domain="$1" token="$2" value="$3"
		shift 3
		: "$token" # http-01 file name; unused for dns-01
		pairs+=("$(txt_name "$domain")" "$value")
		log "$op TXT $(txt_name "$domain") \"$value\""
	done
	nsupdate_send "$op" "${pairs[@]}"
	if [[ "$op" == add ]]; then
		for ((i = 0; i < ${#pairs[@]}; i += 2)); do
			wait_visible "${pairs[i]}" "${pairs[i + 1]}"
		done
	fi
}

cmd="${1:-}"
(($# > 0)) && shift

if [[ -n "${HOOK_LOG:-}" ]]; then
	# One line per call; newlines inside arguments (request_failure HEADERS,
	# invalid_challenge RESPONSE) are flattened so the file stays line-based.
	line="$cmd${*:+ $*}"
	printf '%s\n' "${line//$'\n'/ }" >>"$HOOK_LOG"
fi

case "$cmd" in
deploy_challenge) challenges add "$@" ;;
clean_challenge) challenges delete "$@" ;;
startup_hook)
	# Fail before any order is placed if updates cannot work at all.
	command -v nsupdate >/dev/null || { log "nsupdate not found"; exit 1; }
	command -v dig >/dev/null || { log "dig not found"; exit 1; }
	;;
exit_hook)
	# ERROR is set when dehydrated exits through its error path.
	if [[ -n "${1:-}" ]]; then log "dehydrated failed: $1"; fi
	;;
sync_cert)
	# Flush the new files before dehydrated points the symlinks at them.
	sync -- "$@"
	;;
deploy_cert) log "new certificate for $1: $4 (deploy it elsewhere)" ;;
unchanged_cert) log "certificate for $1 unchanged" ;;
deploy_ocsp) log "new OCSP response for $1: $2" ;;
invalid_challenge) log "validation of $1 failed: $2" ;;
request_failure) log "ACME request failed: $1 $2 ($3)" ;;
generate_csr)
	# Print nothing: dehydrated then generates its own CSR.
	;;
*)
	# Unknown and future commands: do nothing, successfully (see header).
	;;
esac
exit 0
