#!/usr/bin/env bats
# scripts/qbt-versions and tests/run --qbt: the qBittorrent release matrix.  The releases
# themselves are exercised by the CI legs (make check-qbt QBT_VERSION=5.1, 5.3); here, what
# a developer and CI rely on: the list, the host's wrapper, the TAP prefix, and that a
# release which cannot be had is a failure with its reason, never a skip.

bats_require_minimum_version 1.5.0
load lib/common

@test "qbt-versions: the matrix is 4.5 (the host's), 5.1 (trixie), 5.3 (trixie-backports)" {
	run qbt-versions list
	assert_success
	assert_output "4.5 - host
5.1 qbt-trixie trixie
5.3 qbt-trixie-backports trixie trixie-backports"
	run qbt-versions wrapper 9.9 "$BATS_TEST_TMPDIR/w"
	assert_failure 1
	assert_output --partial "unknown version 9.9"
	run qbt-versions
	assert_failure 64
}

@test "qbt-versions wrapper 4.5: runs the host's qbittorrent-nox, says its version" {
	mf_need qbittorrent-nox
	run qbt-versions wrapper 4.5 "$BATS_TEST_TMPDIR/w"
	assert_success
	want=$(qbittorrent-nox --version | sed -n 's/^qBittorrent v//p')
	[[ $want == 4.5.* ]]
	assert_output "$want"
	run "$BATS_TEST_TMPDIR/w/qbittorrent-nox" --version
	assert_output "qBittorrent v$want"
}

@test "tests/run --qbt: every TAP line of a qBittorrent file names the server's version" {
	mf_need qbittorrent-nox
	run tests_run --qbt 4.5 "$MF_ROOT/tests/qbt_sandbox.bats"
	assert_success
	v=$(qbittorrent-nox --version | sed -n 's/^qBittorrent v//p')
	n=$(grep -cE '^(ok|not ok) [0-9]+ ' <<<"$output")
	[ "$n" -ge 3 ]
	assert_equal "$(grep -cE "^ok [0-9]+ \[qbt $v\] sandbox: " <<<"$output")" "$n"
	assert_line "$n passed, 0 failed"
}

@test "tests/run --qbt: a release that cannot be had is one failure with the reason, never a skip" {
	run tests_run --qbt 9.9 "$MF_ROOT/tests/qbt_sandbox.bats"
	assert_failure 1
	assert_line "not ok - qBittorrent 9.9: no server to test against: qbt-versions: unknown version 9.9 (known: 4.5 5.1 5.3 )"
	assert_line "0 passed, 1 failed"
	refute_output --partial "# skip"
	# a root that cannot be built: here its cache would be inside a git work tree
	git init -q "$BATS_TEST_TMPDIR/repo"
	MF_ENV_CACHE="$BATS_TEST_TMPDIR/repo/cache" run tests_run --qbt 5.1 "$MF_ROOT/tests/qbt_sandbox.bats"
	assert_failure 1
	assert_line --regexp "^not ok - qBittorrent 5.1: no server to test against: qbt-versions: 5.1: (cannot build the trixie root|building a Debian root needs root)"
	assert_line "0 passed, 1 failed"
}

# tests/run itself, as make check-qbt calls it (the tests' own MF_BIN), in a clean
# environment: a bats inside bats would take this run's variables for its own, and would
# find bats' internal command first on PATH.
tests_run() {
	local path
	path=$(printf %s "$PATH" | tr : '\n' | grep -v 'bats-core' | paste -sd:)
	env -i PATH="$path" HOME="$HOME" LANG=C.UTF-8 ${MF_ENV_CACHE:+MF_ENV_CACHE="$MF_ENV_CACHE"} \
	    MF_BIN="$MF_BIN" "$MF_ROOT/tests/run" "$@"
}
