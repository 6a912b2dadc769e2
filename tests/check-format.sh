#!/usr/bin/env bash
# tests/check-format.sh [SOURCE_ROOT]: every C source and header under daemon/, client/,
# proto/ and tests/ is formatted as the committed .clang-format says
# (`clang-format --dry-run --Werror`; the style is that of Debian's clang-format 14).
# What `ninja -C BUILD format-check` runs. Names each file that is not formatted (and
# the first lines of what clang-format would change); exits 1 if there is one.
# To fix a file: clang-format -i FILE
set -uo pipefail
root="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
cd "$root" || exit 2

cf=""
for c in clang-format-14 clang-format; do
	if command -v "$c" >/dev/null 2>&1; then
		cf="$c"
		break
	fi
done
if [ -z "$cf" ]; then
	echo "format-check: no clang-format (Debian package clang-format, version 14)" >&2
	exit 2
fi
version="$("$cf" --version)"
case "$version" in
*" version 14."*) ;;
*) echo "format-check: warning: the style is checked with clang-format 14; this is: $version" >&2 ;;
esac
[ -f .clang-format ] || {
	echo "format-check: no .clang-format in $root" >&2
	exit 2
}

mapfile -t files < <(find daemon client proto tests -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
if [ "${#files[@]}" -eq 0 ]; then
	echo "format-check: no C files found under daemon/ client/ proto/ tests/" >&2
	exit 2
fi
bad=0
for f in "${files[@]}"; do
	if ! out="$("$cf" --style=file --dry-run --Werror "$f" 2>&1)"; then
		bad=$((bad + 1))
		echo "not formatted: $f"
		printf '%s\n' "$out" | head -n 6 | sed 's/^/    /'
	fi
done
echo "format-check: ${#files[@]} files, $bad not formatted ($version)"
[ "$bad" -eq 0 ]
