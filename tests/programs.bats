#!/usr/bin/env bats
# Every program keeps the same conventions: --help, --version, usage errors, a man page.
bats_require_minimum_version 1.5.0
load lib/common

programs() {
	for f in "$MF_ROOT"/cmd/mf-*.c; do basename "$f" .c; done
}

@test "every program has --help on stdout with exit 0" {
	for p in $(programs); do
		run --separate-stderr "$p" --help
		[ "$status" -eq 0 ] || fail "$p --help exited $status"
		[[ "$output" == *"usage: $p"* ]] || fail "$p --help printed no usage line: $output"
	done
}

@test "every program has --version naming it and the Makefile's version" {
	version=$(sed -n 's/^VERSION *= *//p' "$MF_ROOT/Makefile")
	for p in $(programs); do
		run --separate-stderr "$p" --version
		[ "$status" -eq 0 ] || fail "$p --version exited $status"
		[ "$output" = "$p (mamfast) $version" ] || fail "$p --version printed: $output"
	done
}

@test "every program rejects an unknown option with exit 64 and usage on stderr" {
	for p in $(programs); do
		run --separate-stderr "$p" --no-such-option
		[ "$status" -eq 64 ] || fail "$p exited $status on a bad option"
		[ -z "$output" ] || fail "$p wrote to stdout on a bad option: $output"
		[[ "$stderr" == *"usage:"* ]] || fail "$p printed no usage on stderr: $stderr"
	done
}

@test "every program has a man page that renders without warnings" {
	mf_need man
	for p in $(programs) mamfast; do
		page="$MF_ROOT/man/$p.1"
		[ -f "$page" ] || fail "no man page for $p"
		warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		[ -z "$warn" ] || fail "$page: $warn"
	done
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MF_ROOT/man/mamfast.7" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "mamfast.7: $warn"
}

@test "every long option in a program's --help is in its man page" {
	for p in $(programs); do
		page="$MF_ROOT/man/$p.1"
		for o in $("$p" --help | grep -o -e '--[a-z0-9][a-z0-9-]*' | sort -u); do
			grep -q -E "Fl Fl ${o#--}( |$)" "$page" || fail "$p: $o is not in $page"
		done
	done
}

@test "a configuration line that is not KEY=VALUE is exit 78 naming the file and line" {
	printf 'MF_SOURCE=MAM\nthis is wrong\n' >"$BATS_TEST_TMPDIR/bad.conf"
	MF_CONFIG="$BATS_TEST_TMPDIR/bad.conf" run --separate-stderr mf-scan "$BATS_TEST_TMPDIR"
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"bad.conf:2: expected KEY=VALUE"* ]]
}
