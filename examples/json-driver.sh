#!/usr/bin/env bash
# json-driver.sh: example invoker for extauth's JSON mode.  Copy and adapt it.
#
#   CHALLTESTSRV_URL=http://127.0.0.1:8055 json-driver.sh EXTAUTH_COMMAND [ARGS...]
#
# Runs extauth as a coprocess and echoes each stdout line.  For every
# perform_challenge line it publishes the challenge (here: through
# pebble-challtestsrv's management API; put your DNS API / web root code
# in publish()), then writes one empty line to extauth's stdin = "deployed,
# go on".  cleanup lines undo the publishing.  extauth's stderr passes
# through untouched.  Exits with extauth's exit status.
#
# Test knobs:
#   DRIVER_NO_PUBLISH=1      ack without publishing (the CA will find nothing)
#   DRIVER_ACK='{"result":"fail","error":"x"}'  send this instead of ""
#   DRIVER_EOF_AT_PERFORM=1  close extauth's stdin instead of acking
#   DRIVER_COPY_FILES=DIR    copy a perform line's cert_path/key_path (tls-alpn-01)
#                            into DIR, with their modes; a missing file fails the ack
set -euo pipefail

(($# > 0)) || { echo "usage: $0 EXTAUTH_COMMAND [ARGS...]" >&2; exit 2; }
: "${CHALLTESTSRV_URL:?set CHALLTESTSRV_URL (pebble-challtestsrv management URL)}"

# post ENDPOINT JSON
post() { curl -fsS -o /dev/null -X POST -d "$2" "$CHALLTESTSRV_URL/$1"; }

# publish TYPE NAME VALUE TOKEN
publish() {
	case $1 in
	# challtestsrv wants a fully qualified name (trailing dot).
	# dns-account-01 and dns-persist-01 are TXT records too; only their
	# names (txt_domain) differ.
	dns-01 | dns-account-01 | dns-persist-01)
		post set-txt "$(jq -nc --arg h "${2%.}." --arg v "$3" '{host:$h,value:$v}')" ;;
	# For http-01, "validation" is the key authorization: serve it at the token.
	http-01) post add-http01 "$(jq -nc --arg t "$4" --arg c "$3" '{token:$t,content:$c}')" ;;
	# challtestsrv builds the acme-tls/1 certificate itself from the key
	# authorization; a real server would serve cert_path/key_path instead.
	tls-alpn-01) post add-tlsalpn01 "$(jq -nc --arg h "$2" --arg c "$3" '{host:$h,content:$c}')" ;;
	*) echo "json-driver: cannot publish $1" >&2; return 1 ;;
	esac
}

# unpublish TYPE NAME TOKEN
unpublish() {
	case $1 in
	dns-01 | dns-account-01) post clear-txt "$(jq -nc --arg h "${2%.}." '{host:$h}')" ;;
	# dns-persist-01's record is meant to stay (its cleanup line says
	# "persist": true): nothing to undo.
	http-01) post del-http01 "$(jq -nc --arg t "$3" '{token:$t}')" ;;
	tls-alpn-01) post del-tlsalpn01 "$(jq -nc --arg h "$2" '{host:$h}')" ;;
	esac
}

coproc EXTAUTH { "$@"; }
# Keep private copies of the pipe ends: bash closes EXTAUTH[0/1] as soon as
# the coprocess exits, which would lose output not yet read.
pid=$EXTAUTH_PID
exec {from}<&"${EXTAUTH[0]}" {to}>&"${EXTAUTH[1]}"
fd=${EXTAUTH[0]}; exec {fd}<&-
fd=${EXTAUTH[1]}; exec {fd}>&-
# If extauth exits before reading our ack, the write must fail, not kill us.
trap '' PIPE

# ack: answer one perform_challenge.
ack() {
	if [[ -n ${DRIVER_EOF_AT_PERFORM:-} ]]; then
		[[ -z $to ]] || exec {to}>&-
		to=
	else
		[[ -z $to ]] || printf '%s\n' "${1-${DRIVER_ACK:-}}" 1>&"$to" 2>/dev/null || true
	fi
}

while IFS= read -r line <&"$from"; do
	printf '%s\n' "$line"
	# One jq call per line; \u001f (not tab) as separator keeps empty fields.
	# dns-01 cleanup lines carry no txt_domain, so derive it from the domain
	# (a wildcard's TXT record lives at its base name).  For http-01 the
	# content to serve is the key authorization; tls-alpn-01 is published
	# under the domain itself, also from the key authorization.
	fields=$(jq -r '[.cmd, .type,
		(if .type == "tls-alpn-01" then .domain // ""
		 else .txt_domain // ("_acme-challenge." + (.domain // "" | ltrimstr("*."))) end),
		(if .type == "http-01" or .type == "tls-alpn-01" then .key_auth // .validation
		 else .validation end),
		.token, .cert_path, .key_path] | map(. // "" | tostring) | join("\u001f")' <<<"$line" 2>/dev/null) || continue
	IFS=$'\x1f' read -r cmd type name value token cert_path key_path <<<"$fields"
	case $cmd in
	perform_challenge)
		if [[ -n ${DRIVER_COPY_FILES:-} && -n $cert_path ]] &&
			! cp -p -- "$cert_path" "$key_path" "$DRIVER_COPY_FILES/"; then
			ack '{"result":"fail","error":"json-driver: no certificate files"}'
		elif [[ -n ${DRIVER_NO_PUBLISH:-} ]] || publish "$type" "$name" "$value" "$token"; then
			ack
		else
			ack '{"result":"fail","error":"json-driver: publishing failed"}'
		fi
		;;
	cleanup) [[ -n ${DRIVER_NO_PUBLISH:-} ]] || unpublish "$type" "$name" "$token" || true ;;
	esac
done

status=0
wait "$pid" || status=$?
exit "$status"
