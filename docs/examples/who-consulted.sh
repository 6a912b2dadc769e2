#!/bin/bash
# who-consulted.sh SSIN [YYYY-MM]
#
# Who consulted this person last month? Lists every coverage question asked
# about SSIN whose service date lies in the previous calendar month (Belgian
# time), or in the month YYYY-MM when given, as CSV on standard output:
#
#   provider,agreement,issued_at,service_date,outcome
#   71012345678,A2026-00000042,2026-10-20T09:14:03.418207Z,2026-10-20,covered
#   10012345678,A2026-00000057,2026-10-28T15:40:11.090512Z,2026-10-27,care_type_absent
#
# one row per consultation, in the order the agreements were issued (their
# number); outcome is "covered" or the reason code of the refusal. A header
# alone means nobody asked.
#
# Environment: MEDAID_URL, MEDAID_CERT, MEDAID_KEY, MEDAID_CA (an auditor's
# certificate), MEDAID (the client, default: medaid on PATH).
# Exit status: 0 listed; 1 usage or local error; otherwise that of medaid
# (2 refused, 3 unreachable, 4 server error or list cut off).
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $2" >&2; exit "$1"; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then die 1 "usage: $prog SSIN [YYYY-MM]"; fi
ssin=$1
[[ $ssin =~ ^[0-9]{11}$ ]] || die 1 "not an SSIN (11 digits): $ssin"
medaid=${MEDAID:-medaid}
command -v "$medaid" >/dev/null || die 1 "medaid client not found: $medaid (set MEDAID)"

# The month: the one before the current month in Belgium, or the one given.
if [ $# -eq 2 ]; then
    [[ $2 =~ ^[0-9]{4}-(0[1-9]|1[0-2])$ ]] || die 1 "not a month (YYYY-MM): $2"
    first="$2-01"
else
    this_month=$(TZ=Europe/Brussels date +%Y-%m-01)
    first=$(date -u -d "$this_month -1 month" +%Y-%m-%d)
fi
last=$(date -u -d "$first +1 month -1 day" +%Y-%m-%d)

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# The client streams the list (CSV, no --limit) and exits non-zero if it was
# refused or cut off; only a complete list is printed.
rc=0
"$medaid" audit consultations --ssin "$ssin" --service-from "$first" --service-to "$last" \
    --format csv >"$tmp" || rc=$?
[ "$rc" -eq 0 ] || die "$rc" "medaid audit consultations failed (exit $rc)"

expected='agreement,issued_at,known_at,provider,ssin,service_date,care_type,covered,reason,decision,decision_version,ocmw,voided_at'
header=$(head -n 1 "$tmp")
[ "$header" = "$expected" ] || die 4 "unexpected CSV header: $header"

# No field of a consultation can hold a comma, so splitting on commas is safe.
echo "provider,agreement,issued_at,service_date,outcome"
tail -n +2 "$tmp" | awk -F, -v OFS=, '
    NF != 13 { print "unexpected CSV line: " $0 > "/dev/stderr"; bad = 1; exit }
    { print $4, $1, $2, $6, ($8 == "true" ? "covered" : $9) }
    END { exit bad }' || die 4 "unexpected output from medaid"
