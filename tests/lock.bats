#!/usr/bin/env bats
# mf-lock: one run at a time; the lock dies with its holder, kill -9 included.

load lib/common
bats_require_minimum_version 1.5.0

setup() {
	# Scratch files go in the test's own folder, never the checkout.
	cd "$BATS_TEST_TMPDIR"
	export MF_STATE_DIR="$BATS_TEST_TMPDIR/state"
	lock="$MF_STATE_DIR/run.lock"
}

teardown() {
	[ -z "${holder:-}" ] || { kill -9 "$holder"; wait "$holder"; } 2>/dev/null || true
}

# Start `mf-lock ARGS -- sleep 30` in the background ($holder is its pid, which exec keeps)
# and wait until it holds the lock.
hold() {
	mf-lock "$@" -- sleep 30 > /dev/null 2>&1 3>&- &
	holder=$!
	for _ in $(seq 1 100); do
		grep -q "^pid $holder\$" "${LOCKFILE:-$lock}" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

@test "mf-lock: -h, -V, bad usage" {
	run mf-lock -h
	assert_success
	assert_output --partial "usage: mf-lock"
	run mf-lock -V
	assert_output --partial "mf-lock (mamfast)"
	run mf-lock
	assert_equal "$status" 64
	run mf-lock -x -- true
	assert_equal "$status" 64
	run mf-lock -w soon -- true
	assert_equal "$status" 64
}

@test "mf-lock runs PROG with the lock held and exits with its status" {
	run mf-lock -- sh -c 'echo "in $1"; exit 3' sh arg
	assert_equal "$status" 3
	assert_output "in arg"
	[ -f "$lock" ]
	# The program's own flags are its own.
	run mf-lock -- ls -d /
	assert_success
	run -127 mf-lock -- /nonexistent/prog
}

@test "a second run exits 75 naming the holder's pid; kill -9 frees the lock" {
	hold
	run --separate-stderr mf-lock -- true
	assert_equal "$status" 75
	assert_equal "$stderr" "mf-lock: another run holds $lock (pid $holder on $(hostname) since $(sed -n 's/^since //p' "$lock"))"
	run mf-lock --status
	assert_equal "$status" 75
	assert_output --partial "pid $holder"
	kill -9 "$holder"
	wait "$holder" 2>/dev/null || true
	run mf-lock -- echo free
	assert_success
	assert_output "free"
	run mf-lock --status
	assert_success
	assert_output --partial "free"
}

@test "children of PROG keep the lock after PROG exits" {
	# bats' fd 3 is closed for mf-lock, so the lock takes it and the child inherits that.
	mf-lock -- sh -c 'sleep 30 > /dev/null 2>&1 & echo $! > child' > /dev/null 3>&-
	holder=$(cat child)
	run mf-lock -- true
	assert_equal "$status" 75
	kill -9 "$holder"
	sleep 0.1
	run mf-lock -- true
	assert_success
}

@test "-w waits for the holder, and gives up after the time" {
	LOCKFILE="$BATS_TEST_TMPDIR/custom.lock"
	mf-lock -f "$LOCKFILE" -- sleep 1 > /dev/null 2>&1 3>&- &
	first=$!
	for _ in $(seq 1 100); do grep -q "^pid $first\$" "$LOCKFILE" 2>/dev/null && break; sleep 0.05; done
	run mf-lock -f "$LOCKFILE" -w 0.2 -- true
	assert_equal "$status" 75
	run mf-lock -f "$LOCKFILE" -w 10 -- echo got it
	assert_success
	assert_output "got it"
	wait "$first"
	# The default lock was never involved.
	[ ! -e "$lock" ]
}

@test "--no-run-lock runs without the lock and warns" {
	hold
	run --separate-stderr mf-lock --no-run-lock -- sh -c 'exit 5'
	assert_equal "$status" 5
	[[ "$stderr" == *"without the run lock"* ]]
	[[ "$stderr" == *"concurrent runs can corrupt work"* ]]
}

@test "an MF_STATE_DIR too long for run.lock is refused, never cut to another file's name" {
	# 4090 bytes: "$dir/run.lock" does not fit in PATH_MAX, "$dir/run." does.
	local dir="$BATS_TEST_TMPDIR" part
	part=$(printf '%0200d' 0)
	while [ $(( ${#dir} + 201 )) -le 4090 ]; do
		dir="$dir/$part"
	done
	dir="$dir/$(printf '%0*d' $(( 4090 - ${#dir} - 1 )) 0)"
	[ "${#dir}" -eq 4090 ]
	mkdir -p "$dir"
	run --separate-stderr env MF_STATE_DIR="$dir" mf-lock -- true
	assert_equal "$status" 78
	[[ "$stderr" == *MF_STATE_DIR* ]]
	run find "$BATS_TEST_TMPDIR" -name 'run.*'
	assert_output ""
}
