#!/usr/bin/env bash
# tests/check-openapi.sh: proto/openapi.yaml passes `redocly lint` (the pinned
# @redocly/cli of scripts/lib.sh, with redocly.yaml: the recommended rules plus tags,
# operationIds and 4XX answers on every operation) with no error and no warning.
# Prints TAP; exits 1 when the document has a problem.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../scripts/lib.sh
. "$root/scripts/lib.sh"
doc="${1:-$root/proto/openapi.yaml}"

echo "1..1"
if ! bin="$(redocly_bin)"; then
	echo "not ok 1 - redocly lint: @redocly/cli is not available"
	exit 1
fi
out="$(cd "$root" && "$bin" lint --config "$root/redocly.yaml" --format=stylish "$doc" 2>&1)"
rc=$?
# zero warnings too: redocly exits 0 on warnings, so they are counted here
if [ $rc -eq 0 ] && ! grep -qE '^[[:space:]]+[0-9]+:[0-9]+[[:space:]]+(error|warning)' <<<"$out"; then
	echo "ok 1 - redocly lint $(basename "$doc"): no error, no warning"
	exit 0
fi
echo "not ok 1 - redocly lint $(basename "$doc") (exit $rc)"
sed 's/^/#   /' <<<"$out" | head -80
exit 1
