#!/bin/bash
# rejected-lines.sh PROVIDER [YYYY-MM]
#
# Which invoice lines of provider PROVIDER were rejected last month, and why?
# Lists every rejected line of the invoices that provider submitted in the
# previous calendar month (by invoice date, the registry's day in Belgium),
# or in the month YYYY-MM when given, as CSV on standard output:
#
#   invoice,invoice_date,line,agreement,code,reason
#   I2026-00000007,2026-10-23,2,A2026-00000042,101076,quantity_exceeded
#   I2026-00000019,2026-10-30,1,A2026-00000077,101032,agreement_void
#
# one row per rejected line, in invoice-number order, then line order; reason
# is the rejection code (docs/protocol.md, "POST /v1/invoices", says what each
# means). A header alone means no line was rejected.
#
# Uses the medaid client: medaid invoice list --provider --month --format
# ndjson (the whole list, streamed), and jq.
#
# Environment: MEDAID_URL, MEDAID_CERT, MEDAID_KEY, MEDAID_CA (an auditor's or
# the fund's certificate), MEDAID (the client, default: medaid on PATH).
# Exit status: 0 listed; 1 usage or local error; otherwise that of medaid
# (2 refused, 3 unreachable, 4 server error or list cut off).
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $2" >&2; exit "$1"; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then die 1 "usage: $prog PROVIDER [YYYY-MM]"; fi
provider=$1
[[ $provider =~ ^([0-9]{10}|[0-9]{11})$ ]] ||
    die 1 "not an NIHII (11 digits) or KBO (10 digits) number: $provider"
medaid=${MEDAID:-medaid}
command -v "$medaid" >/dev/null || die 1 "medaid client not found: $medaid (set MEDAID)"
command -v jq >/dev/null || die 1 "jq is not installed"

# The month: the one before the current month in Belgium, or the one given.
if [ $# -eq 2 ]; then
    [[ $2 =~ ^[0-9]{4}-(0[1-9]|1[0-2])$ ]] || die 1 "not a month (YYYY-MM): $2"
    month=$2
else
    this_month=$(TZ=Europe/Brussels date +%Y-%m-01)
    month=$(date -u -d "$this_month -1 month" +%Y-%m)
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# The client streams the list and exits non-zero if it was refused or cut
# off; only a complete list is printed.
rc=0
"$medaid" invoice list --provider "$provider" --month "$month" --format ndjson >"$tmp" || rc=$?
[ "$rc" -eq 0 ] || die "$rc" "medaid invoice list failed (exit $rc)"

# Every invoice of the month, each with its rejected lines; no field of a
# rejection can hold a comma (numbers, codes), so joining with commas is safe.
echo "invoice,invoice_date,line,agreement,code,reason"
jq -r '.invoice as $i | .invoice_date as $d | .rejections | sort_by(.line)[]
       | [$i, $d, .line, .agreement, .code, .reason] | map(tostring) | join(",")' "$tmp" ||
    die 4 "unexpected output from medaid"
