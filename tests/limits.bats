#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Every tool under a low descriptor limit (ulimit -n 32): it may go slower (smaller
# batches, fewer files open at once), never fail a record.  Forty releases go through
# each tool, with the real qBittorrent and the Audnex stand-in; the steps before the tool
# under test run at the normal limit.

load lib/common
load lib/e2e

N=40

setup() {
	e2e_setup
	e2e_library limits --books "$N" --tiny
	export MF_LIBRARY="$LIB"
	cd "$BATS_TEST_TMPDIR"
}

# lim CMD...: CMD under `ulimit -n ${LIMIT:-32}`, with no descriptor but 0, 1 and 2
# inherited.
lim() {
	bash -c 'ulimit -n "$0" && exec "$@" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-' "${LIMIT:-32}" "$@"
}

# upto TOOL: the records as they reach TOOL (the pipeline before it at the normal limit).
upto() {
	case $1 in
	mf-scan) : ;;
	mf-state) mf-scan ;;
	mf-stage) mf-scan | mf-state pending ;;
	mf-meta) mf-scan | mf-state pending | mf-stage ;;
	mf-torrent) mf-scan | mf-state pending | mf-stage ;;
	mf-infohash|mf-qbt-add) mf-scan | mf-state pending | mf-stage | mf-torrent ;;
	esac
}

# all_ok: $output holds N records, none with an error, and the tool exited 0.
all_ok() {
	assert_success
	assert_equal "$(jq -s length <<<"$output")" "$N"
	assert_equal "$(jq -s 'map(select(.error)) | length' <<<"$output")" 0
}

@test "mf-scan at ulimit -n 32: every release found" {
	run --separate-stderr lim mf-scan
	all_ok
}

@test "mf-state at ulimit -n 32: pending and checkpoint take every record" {
	upto mf-state >in
	run --separate-stderr lim mf-state pending <in
	all_ok
	printf '%s\n' "$output" | mf-stage >staged
	run --separate-stderr lim mf-state checkpoint staged <staged
	all_ok
	assert_equal "$(mf-state list --json | jq -s 'map(select(.checkpoints.staged_at)) | length')" "$N"
}

@test "mf-stage at ulimit -n 32: every release staged" {
	upto mf-stage >in
	run --separate-stderr lim mf-stage <in
	all_ok
	assert_equal "$(find "$SEED" -name '*.m4b' | wc -l)" "$N"
}

@test "mf-meta at ulimit -n 32: every record's MAM JSON and audnex.json written" {
	upto mf-meta >in
	run --separate-stderr lim mf-meta <in
	all_ok
	assert_equal "$(jq -s 'map(select(.meta.audnex and .meta.audio)) | length' <<<"$output")" "$N"
	assert_equal "$(find "$OUT" -name audnex.json | wc -l)" "$N"
	assert_equal "$(find "$OUT" -name '*.json' ! -name audnex.json | wc -l)" "$N"
}

@test "mf-torrent at ulimit -n 32: every torrent made" {
	upto mf-torrent >in
	run --separate-stderr lim mf-torrent <in
	all_ok
	assert_equal "$(find "$OUT" -name '*.torrent' | wc -l)" "$N"
}

@test "mf-infohash at ulimit -n 32: every record's infohash" {
	upto mf-infohash | jq -c 'del(.torrent.infohash)' >in
	run --separate-stderr lim mf-infohash --records <in
	all_ok
	assert_equal "$(jq -s 'map(select(.torrent.infohash | test("^[0-9a-f]{40}$"))) | length' <<<"$output")" "$N"
}

@test "mf-qbt-add at ulimit -n 32: every torrent added" {
	upto mf-qbt-add >in
	run --separate-stderr lim mf-qbt-add <in
	all_ok
	assert_equal "$(qbt_count)" "$N"
}

@test "mf-lock at ulimit -n 32: the command runs under the lock" {
	mkdir -p "$STATE"
	run --separate-stderr lim mf-lock -f "$STATE/run.lock" -- sh -c 'mf-lock --status -f "$1"; echo rc=$?' sh "$STATE/run.lock"
	assert_success
	assert_output --partial "rc=75"
}

@test "mamfast run at ulimit -n 32: every release complete" {
	run --separate-stderr lim mamfast run
	assert_success
	assert_equal "$(mf-state list --complete --json | jq -s length)" "$N"
}

@test "mamfast run at ulimit -n 10: says the descriptor limit is too low, and the minimum; at that minimum a run completes" {
	local min
	LIMIT=10 run --separate-stderr lim mamfast run
	assert_equal "$status" 71
	assert_equal "$stderr" "mamfast: the descriptor limit (ulimit -n) is 10, too low: it must be at least 16"
	[ ! -e "$SEED" ]
	min=${stderr##* }
	LIMIT=$((min - 1)) run --separate-stderr lim mamfast run
	assert_equal "$status" 71
	LIMIT=$min run --separate-stderr lim mamfast run
	assert_success
	assert_equal "$(mf-state list --complete --json | jq -s length)" "$N"
}
