#!/usr/bin/env bash
# dehydrated-example.sh - a dehydrated-style hook that only shows what it would do.
#
# Called as `HOOK COMMAND ARGS...` (dehydrated 0.7 docs/examples/hook.sh):
#   deploy_challenge DOMAIN TOKEN_FILENAME TOKEN_VALUE [DOMAIN TOKEN_FILENAME TOKEN_VALUE ...]
#   clean_challenge  DOMAIN TOKEN_FILENAME TOKEN_VALUE [...]   (several triples with HOOK_CHAIN=yes)
#   deploy_cert      DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE TIMESTAMP
#   unchanged_cert   DOMAIN KEYFILE CERTFILE FULLCHAINFILE CHAINFILE
# Every other command (startup_hook, exit_hook, generate_csr, new ones, ...)
# must exit 0 without output: dehydrated aborts on a non-zero exit, and it reads
# generate_csr's stdout as a CSR. For the same reason all output goes to stderr.
# The printed lines are nsupdate(1) input; see dehydrated-nsupdate-hook.sh for
# a hook that sends them.

set -euo pipefail

cmd="${1:-}"
(($# > 0)) && shift

# One nsupdate line per DOMAIN TOKEN VALUE triple. "add"/"delete" name the
# value, so records of other challenges at the same name are left alone.
records() {
	local op="$1"
	shift
	while (($# >= 3)); do
		printf 'update %s _acme-challenge.%s. 300 IN TXT "%s"\n' "$op" "${1%.}" "$3" >&2
		shift 3
	done
}

case "$cmd" in
deploy_challenge)
	echo "-----BEGIN DEPLOY_CHALLENGE-----" >&2
	records add "$@"
	echo "-----END DEPLOY_CHALLENGE-----" >&2
	;;
clean_challenge)
	echo "-----BEGIN CLEAN_CHALLENGE-----" >&2
	records delete "$@"
	echo "-----END CLEAN_CHALLENGE-----" >&2
	;;
deploy_cert | unchanged_cert)
	echo "-----BEGIN ${cmd^^}-----" >&2
	printf 'domain: %s\nkey_file: %s\ncert_file: %s\nfullchain_file: %s\nchain_file: %s\n' \
		"$1" "$2" "$3" "$4" "$5" >&2
	[[ "$cmd" == deploy_cert ]] && printf 'timestamp: %s\n' "$6" >&2
	echo "-----END ${cmd^^}-----" >&2
	;;
*) ;; # unknown or uninteresting command: succeed silently (see header)
esac
exit 0
