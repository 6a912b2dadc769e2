#!/usr/bin/env bash
# tests/check-docs.sh BUILD_DIR: the documentation describes what the code has.
#
#   - every option of `medaidd --list-options` is in docs/medaidd.conf.5.md and
#     docs/medaidd.conf.sample;
#   - every route of daemon/api/routes.c (the route table) is a path of proto/openapi.yaml with that method,
#     and is named ("METHOD /path") in docs/protocol.md;
#   - every problem code (proto/problem.c), refusal code (proto/coverage.c) and
#     per-field validation code (verrs_add in the proto/ modules of the routed
#     endpoints, tariff.c included, in daemon/http/router.c (the query parameter rule) and
#     in daemon/api/) is in docs/protocol.md, and every problem and validation code is
#     in an enum of proto/openapi.yaml;
#   - every command of the client (`medaid --help`) is in docs/medaid.1.md: in its
#     SYNOPSIS ("medaid [OPTIONS] group name") and under a "### " heading;
#   - README.md mentions scripts/demo and scripts/test;
#   - no doc or README points outside the repository (/work/..., ../ out of the tree,
#     DESIGN.md, DOMAIN.md);
#   - docs/medaidd.conf.sample parses (medaidd --check-config may only complain about
#     the TLS files, the database or the time zone, which name real host resources).
#
# Prints TAP (`ok N - ...`, `not ok N - ...`, `1..N`); exits 1 when anything failed.
set -uo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
build="$(cd "$1" 2>/dev/null && pwd)" || {
	echo "$0: no such build directory: $1" >&2
	exit 2
}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
medaidd="$build/daemon/medaidd"

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
}
# check CONDITION-EXIT-STATUS DESCRIPTION
check() {
	if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; fi
}
# has FILE FIXED-STRING: the string occurs in the file
has() { grep -qF -- "$2" "$1"; }

conf5="$root/docs/medaidd.conf.5.md"
sample="$root/docs/medaidd.conf.sample"
protocol="$root/docs/protocol.md"
openapi="$root/proto/openapi.yaml"
readme="$root/README.md"

for f in "$conf5" "$sample" "$protocol" "$openapi" "$readme"; do
	[ -f "$f" ]
	check $? "${f#"$root"/} exists"
done

# ---- options ---------------------------------------------------------------------------
if [ -x "$medaidd" ] && options="$("$medaidd" --list-options)" && [ -n "$options" ]; then
	ok "medaidd --list-options"
	while IFS=$'\t' read -r opt _; do
		[ -n "$opt" ] || continue
		has "$conf5" "\`$opt\`"
		check $? "option $opt is documented in docs/medaidd.conf.5.md"
		grep -qE "^[[:space:]]*#?[[:space:]]*$opt[[:space:]]*=" "$sample"
		check $? "option $opt is in docs/medaidd.conf.sample"
	done <<<"$options"
else
	not_ok "medaidd --list-options ($medaidd)"
fi

# ---- routes ----------------------------------------------------------------------------
routes="$(grep -oE '\{HM_[A-Z]+, *"/v1/[^"]*"' "$root/daemon/api/routes.c" |
	sed -E 's/^\{HM_([A-Z]+), *"([^"]*)"$/\1 \2/')"
if [ -n "$routes" ]; then
	ok "routes found in daemon/api/routes.c"
else
	not_ok "routes found in daemon/api/routes.c"
fi
# the paths of the OpenAPI document: keys indented by two spaces under `paths:`
api_paths="$(awk '/^paths:/ { p = 1; next } /^[^ #]/ { p = 0 } p && /^  \/[^ ]*:[[:space:]]*$/ { sub(/^  /, ""); sub(/:[[:space:]]*$/, ""); print }' "$openapi")"
while read -r method pattern; do
	[ -n "$pattern" ] || continue
	# "*" is one path segment: any "{name}" in the OpenAPI path
	re="^$(printf '%s' "$pattern" | sed -e 's/[.[\^$+?(){}|]/\\&/g' -e 's/\*/\\{[A-Za-z0-9_]+\\}/g')\$"
	api_path="$(printf '%s\n' "$api_paths" | grep -E "$re" | head -n 1)"
	[ -n "$api_path" ]
	check $? "route $method $pattern is a path of proto/openapi.yaml"
	# the operation: "    get:" inside that path's block
	lower="$(printf '%s' "$method" | tr 'A-Z' 'a-z')"
	awk -v p="  $api_path:" -v m="    $lower:" '$0 == p { in_p = 1; next }
		in_p && /^  [^ ]/ { in_p = 0 } in_p && $0 == m { found = 1 } END { exit !found }' "$openapi"
	check $? "route $method $pattern has its method in proto/openapi.yaml"
	# the prose: "METHOD /v1/..." with any {name} for "*"
	re_doc="$method $(printf '%s' "$pattern" | sed -e 's/[.[\^$+?(){}|]/\\&/g' -e 's/\*/\\{[A-Za-z0-9_]+\\}/g')([^A-Za-z0-9_/{-]|\$)"
	grep -qE -- "$re_doc" "$protocol"
	check $? "route $method $pattern is named in docs/protocol.md"
done <<<"$routes"

# ---- problem codes ---------------------------------------------------------------------
problems="$(grep -oE '^[[:space:]]*\[PROBLEM_[A-Z_]+\] = \{"[a-z_]+"' "$root/proto/problem.c" |
	sed -E 's/.*\{"([a-z_]+)"$/\1/')"
[ -n "$problems" ]
check $? "problem codes found in proto/problem.c"
for code in $problems; do
	has "$protocol" "\`$code\`"
	check $? "problem code $code is in docs/protocol.md"
	grep -qE "^[[:space:]]+- $code[[:space:]]*\$" "$openapi"
	check $? "problem code $code is in proto/openapi.yaml"
done

# ---- refusal codes ---------------------------------------------------------------------
refusals="$(perl -0ne 'while (/\[RF_([A-Z_]+)\]\s*=\s*\{\s*"([a-z_]+)"/g) { print "$2\n" if $1 ne "NONE" }' \
	"$root/proto/coverage.c")"
[ -n "$refusals" ]
check $? "refusal codes found in proto/coverage.c"
for code in $refusals; do
	has "$protocol" "\`$code\`"
	check $? "refusal code $code is in docs/protocol.md"
done

# ---- per-field validation codes ------------------------------------------------------------
# The modules behind the routed endpoints (add a module here when an endpoint that
# uses it is routed).
# proto/split.c has no validation codes (it only computes).
fieldcodes="$(cat "$root"/proto/jsonx.c "$root"/proto/decision.c "$root"/proto/coverage.c "$root"/proto/lifecycle.c \
	"$root"/proto/tariff.c "$root"/proto/audit_query.c "$root"/proto/coverage_batch.c "$root"/proto/fhir.c \
	"$root"/daemon/http/router.c "$root"/daemon/api/*.c |
	perl -0ne 'while (/verrs_add\(\s*[^,()]+,\s*[^,()]+,\s*"([a-z_]+)"/g) { print "$1\n" }' |
	sort -u)"
[ -n "$fieldcodes" ]
check $? "validation codes found in proto/{jsonx,decision,coverage,lifecycle,tariff,audit_query,coverage_batch}.c, daemon/http/router.c, daemon/api/*.c"
for code in $fieldcodes; do
	has "$protocol" "\`$code\`"
	check $? "validation code $code is in docs/protocol.md"
	grep -qE "^[[:space:]]+- $code[[:space:]]*\$" "$openapi"
	check $? "validation code $code is in proto/openapi.yaml"
done

# ---- the client's commands -----------------------------------------------------------
man1="$root/docs/medaid.1.md"
medaid="$build/client/medaid"
if [ -x "$medaid" ]; then
	# the command lines of the help: two spaces, then the command words (lower case)
	# up to the first argument or option
	cmds="$("$medaid" --help | sed -n 's/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\{0,1\}\)\( .*\)\{0,1\}$/\1/p' | sort -u)"
	[ -n "$cmds" ]
	check $? "medaid --help lists commands"
	while IFS= read -r c; do
		[ -n "$c" ] || continue
		grep -qE -- "^medaid \[OPTIONS\] $c( |\$)" "$man1"
		check $? "medaid $c is in the SYNOPSIS of docs/medaid.1.md"
		grep -E '^### ' "$man1" | grep -qE -- "(### |, )$c( |,|\$)"
		check $? "medaid $c has a section (### $c) in docs/medaid.1.md"
	done <<<"$cmds"
else
	not_ok "the client's commands are documented (no $medaid)"
fi

# ---- README ------------------------------------------------------------------------------
has "$readme" "scripts/demo"
check $? "README.md mentions scripts/demo"
has "$readme" "scripts/test"
check $? "README.md mentions scripts/test"

# ---- the docs stand alone ----------------------------------------------------------------
# No doc or README points outside the repository: no /work/... path, no relative path
# that climbs out of the tree (../shared/...), no design or domain file that is not in
# it (DESIGN.md, DOMAIN.md). What they say must be said here.
mapfile -t mds < <(cd "$root" && find . \( -path ./.git -o -path './build*' \) -prune -o \
	-type f -name '*.md' -print | sed 's|^\./||' | LC_ALL=C sort)
[ "${#mds[@]}" -gt 0 ]
check $? "Markdown files found (README.md, docs/)"
for rel in "${mds[@]}"; do
	f="$root/$rel"
	bad="$(grep -nE '/work/|(^|[^A-Za-z0-9_])(DESIGN|DOMAIN)\.md' "$f" || true)"
	# relative paths: ../ not preceded by a dot, a word character or a slash (".../v1" is
	# an elided URL); each must resolve inside the repository
	while IFS=: read -r line path; do
		[ -n "$path" ] || continue
		target="$(realpath -m "$(dirname "$f")/$path")"
		case "$target/" in
		"$root"/*) ;;
		*) bad="$bad${bad:+$'\n'}$line: $path (outside the repository)" ;;
		esac
	done < <(grep -noP '(?<![.\w/])(\.\./)+[^\s)`"'"'"'>\]]*' "$f" || true)
	if [ -z "$bad" ]; then
		ok "$rel points to nothing outside the repository (no /work/, ../ out of the tree, DESIGN.md, DOMAIN.md)"
	else
		not_ok "$rel points to nothing outside the repository (no /work/, ../ out of the tree, DESIGN.md, DOMAIN.md)"
		printf '%s\n' "$bad" | head -n 20 | sed "s|^|#   $rel:|"
	fi
done

# ---- the sample parses -------------------------------------------------------------------
if [ -x "$medaidd" ]; then
	out="$(cd "$root" && "$medaidd" --check-config -c "$sample" 2>&1)"
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "docs/medaidd.conf.sample passes --check-config"
	elif printf '%s\n' "$out" | grep -qiE 'unknown option|expected key = value|not an integer|is outside|unterminated|line too long|medaidd.conf.sample:[0-9]+:'; then
		not_ok "docs/medaidd.conf.sample does not parse"
		printf '%s\n' "$out" | sed 's/^/#   /'
	elif printf '%s\n' "$out" | grep -qE '^medaidd: (tls_cert|tls_key|tls_ca|tls_crl|database|timezone)\b'; then
		ok "docs/medaidd.conf.sample parses (--check-config stops at host resources: $(printf '%s' "$out" | head -n 1))"
	else
		not_ok "docs/medaidd.conf.sample: unexpected --check-config failure"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
else
	not_ok "docs/medaidd.conf.sample parses (no $medaidd)"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
