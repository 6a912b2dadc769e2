#!/bin/bash
# ocmw-changes.sh KBO [SINCE]
#
# Which decisions of OCMW KBO changed this week? Lists, one line per decision,
# tab-separated, in decision-number order:
#
#   decision        versions  changes (oldest first)     last status
#   D2026-00000012  3         create,update,suspend      suspended
#   D2026-00000031  1         stop                       stopped
#
# (no header line), counting the versions recorded since Monday 00:00 UTC of
# the current ISO week, or since SINCE (an RFC 3339 timestamp or a date) when
# given. Nothing printed means nothing changed.
#
# Uses curl and jq only: GET /v1/audit/decisions?ocmw=KBO&changed_since=...
# with Accept: application/x-ndjson (the whole list, streamed).
#
# Environment: MEDAID_URL (default https://localhost:8443), MEDAID_CERT,
# MEDAID_KEY, MEDAID_CA (an auditor's certificate, as for medaid).
# Exit status, as medaid's: 0 listed; 1 usage or local error; 2 refused by the
# server (4xx); 3 unreachable (connection, TLS, timeout); 4 server error, or a
# list that was cut off or ended with an error line.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $2" >&2; exit "$1"; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then die 1 "usage: $prog KBO [SINCE]"; fi
kbo=$1
[[ $kbo =~ ^[0-9]{10}$ ]] || die 1 "not a KBO number (10 digits): $kbo"
if [ $# -eq 2 ]; then
    since=$2
    [[ $since =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}([T\ ][0-9:.]+(Z|[+-][0-9:]+))?$ ]] ||
        die 1 "not a timestamp (RFC 3339) or date: $since"
else
    # Monday of the current ISO week (%u: 1 = Monday), at 00:00 UTC
    since=$(date -u -d "$(date -u +%F) -$(($(date -u +%u) - 1)) days" +%Y-%m-%dT00:00:00Z)
fi
command -v jq >/dev/null || die 1 "jq is not installed"
command -v curl >/dev/null || die 1 "curl is not installed"

url=${MEDAID_URL:-https://localhost:8443}
url=${url%/}
tls=()
[ -n "${MEDAID_CERT:-}" ] && tls+=(--cert "$MEDAID_CERT")
[ -n "${MEDAID_KEY:-}" ] && tls+=(--key "$MEDAID_KEY")
[ -n "${MEDAID_CA:-}" ] && tls+=(--cacert "$MEDAID_CA")

body=$(mktemp)
trap 'rm -f "$body"' EXIT

# the stream may be long: no overall time limit, but give up when nothing
# arrives for 60 seconds
rc=0
status=$(curl -sS --proto =https "${tls[@]}" --connect-timeout 30 \
    --speed-limit 1 --speed-time 60 \
    -H 'Accept: application/x-ndjson' -o "$body" -w '%{http_code}' -G \
    --data-urlencode "ocmw=$kbo" --data-urlencode "changed_since=$since" \
    "$url/v1/audit/decisions") || rc=$?
if [ "$rc" -ne 0 ]; then
    # curl: 18 partial transfer, 56 receive failure -> cut off; else unreachable
    case $rc in
    18 | 56) die 4 "the list was cut off (curl exit $rc)" ;;
    *) die 3 "cannot reach $url (curl exit $rc)" ;;
    esac
fi
case $status in
200) ;;
4??) echo "$prog: refused: HTTP $status" >&2; cat "$body" >&2; echo >&2; exit 2 ;;
*) echo "$prog: server error: HTTP $status" >&2; cat "$body" >&2; echo >&2; exit 4 ;;
esac

# A stream that failed after it began ends with {"error":{...}}: the list is
# incomplete, so print nothing.
errors=$(jq -c -s '.[] | select(has("error")) | .error' "$body") ||
    die 4 "the answer is not NDJSON"
[ -z "$errors" ] || die 4 "the list is incomplete: $errors"

# one line per decision: its versions of the period, oldest first
jq -r -s 'group_by(.decision)[] | sort_by(.version)
          | [.[0].decision, length, (map(.change) | join(",")), .[-1].status] | @tsv' \
    "$body"
