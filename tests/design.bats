#!/usr/bin/env bats
# The structure a newcomer reads (issue #16): docs/DESIGN.md names every module, and every
# main stays a page.
bats_require_minimum_version 1.5.0
load lib/common

@test "docs/DESIGN.md names every lib/*.h and the README links it" {
	for h in "$MF_ROOT"/lib/*.h; do
		grep -qF "\`lib/$(basename "$h")\`" "$MF_ROOT/docs/DESIGN.md" ||
		    fail "docs/DESIGN.md does not name lib/$(basename "$h")"
	done
	grep -qF '(docs/DESIGN.md)' "$MF_ROOT/README.md" || fail "README.md does not link docs/DESIGN.md"
}

@test "every cmd/*.c is at most 250 lines" {
	for f in "$MF_ROOT"/cmd/*.c; do
		n=$(wc -l <"$f")
		[ "$n" -le 250 ] || fail "$(basename "$f") is $n lines (at most 250: move its work into lib/)"
	done
}
