#!/bin/bash
# rejected-lines-curl.sh PROVIDER [YYYY-MM]
#
# The same question as rejected-lines.sh, and the same output, with curl and
# jq only: GET /v1/invoices?provider=PROVIDER&month=YYYY-MM with
# Accept: application/x-ndjson (every invoice of the month, streamed), then
# one CSV row per rejected line:
#
#   invoice,invoice_date,line,agreement,code,reason
#   I2026-00000007,2026-10-23,2,A2026-00000042,101076,quantity_exceeded
#
# Environment: MEDAID_URL (default https://localhost:8443), MEDAID_CERT,
# MEDAID_KEY, MEDAID_CA (an auditor's or the fund's certificate).
# Exit status, as medaid's: 0 listed; 1 usage or local error; 2 refused by the
# server (4xx); 3 unreachable (connection, TLS, timeout); 4 server error, or a
# list that was cut off.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $2" >&2; exit "$1"; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then die 1 "usage: $prog PROVIDER [YYYY-MM]"; fi
provider=$1
[[ $provider =~ ^([0-9]{10}|[0-9]{11})$ ]] ||
    die 1 "not an NIHII (11 digits) or KBO (10 digits) number: $provider"
if [ $# -eq 2 ]; then
    [[ $2 =~ ^[0-9]{4}-(0[1-9]|1[0-2])$ ]] || die 1 "not a month (YYYY-MM): $2"
    month=$2
else
    # the month before the current one in Belgium (invoice dates are Belgian days)
    this_month=$(TZ=Europe/Brussels date +%Y-%m-01)
    month=$(date -u -d "$this_month -1 month" +%Y-%m)
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

# no overall time limit, but give up when nothing arrives for 60 seconds
rc=0
status=$(curl -sS --proto =https "${tls[@]}" --connect-timeout 30 \
    --speed-limit 1 --speed-time 60 \
    -H 'Accept: application/x-ndjson' -o "$body" -w '%{http_code}' -G \
    --data-urlencode "provider=$provider" --data-urlencode "month=$month" \
    "$url/v1/invoices") || rc=$?
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

# each line one invoice with its rejected lines (line, agreement, code, reason)
rows=$(jq -r '.invoice as $i | .invoice_date as $d | .rejections | sort_by(.line)[]
              | [$i, $d, .line, .agreement, .code, .reason] | map(tostring) | join(",")' \
    "$body") || die 4 "the answer is not NDJSON"
echo "invoice,invoice_date,line,agreement,code,reason"
[ -z "$rows" ] || printf '%s\n' "$rows"
