#!/usr/bin/env bats
# End to end: `mamfast run` over libraries made by scripts/mklibrary, against a real
# qbittorrent-nox and the Audnex stand-in.  Oracles are independent of our tools where
# one exists: mklibrary's own list of what it made, qBittorrent's API, transmission-show.

bats_require_minimum_version 1.5.0
load lib/common
load lib/e2e

# The ASINs mklibrary says it made (its stdout: "ASIN<TAB>DIR", "-" = none, "#skip").
made_asins() {
	awk -F'\t' '$1 != "-" && $1 !~ /^#/ { print $1 }' "$E2E_LIBLIST"
}

# The first line of transmission-show's infohash for a torrent file.
tshow_hash() {
	transmission-show "$1" | sed -n 's/^ *Hash v1: *//p; s/^ *Hash: *//p' | head -n 1
}

@test "full run: every book with an ASIN is complete and seeding; the one without is failed" {
	mf_need transmission-show
	e2e_library samples --tiny
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]		# the book without ASIN
	n=$(made_asins | wc -l)
	[ "$n" -ge 5 ]
	[ "$(qbt_count)" -eq "$n" ]
	for asin in $(made_asins); do
		st=$(mf-state show "$asin")
		[ "$(jq -r .status <<<"$st")" = COMPLETE ] || { echo "$asin: $st"; false; }
		h=$(jq -r .torrent.infohash <<<"$st")
		tor=$(jq -r .torrent.path <<<"$st")
		dir=$(jq -r .staging.dir <<<"$st")
		# transmission-show reads the torrent file independently of mf-torrent.
		[ "$(tshow_hash "$tor")" = "$h" ] || { echo "$asin: hash of $tor is not $h"; false; }
		[ "$(qbt_torrent "$h" category)" = e2e-books ]
		tags=$(qbt_torrent "$h" tags)
		[[ $tags == *mamfast* && $tags == *e2e* ]] || { echo "$asin tags: $tags"; false; }
		sp=$(qbt_torrent "$h" save_path)
		[ "${sp%/}" = "$SEED" ] || { echo "$asin save path $sp"; false; }
		[[ $dir == "$SEED"/* ]]
		# The torrent's files are the staged files, byte for byte.
		run mf-torrent --check "$tor" "$dir"
		assert_success
		mj=$(jq -r .meta.mam_json <<<"$st")
		[[ $mj == "$OUT"/* ]] && jq -e . "$mj" >/dev/null || { echo "$asin: MAM JSON $mj"; false; }
	done
	# The book without ASIN: in the store as failed.
	run mf-state list --failed --json
	assert_success
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	jq -e 'select(.source_dir // .id | endswith("Nobody/Book Without Asin"))' <<<"$output"
	e2e_no_temp_files
}

@test "summary counts what happened, names the failure; a second run redoes nothing" {
	e2e_library samples --tiny
	run --separate-stderr mamfast run
	[ "$status" -eq 1 ]
	n=$(made_asins | wc -l)
	assert_line --regexp "^  discovered +$((n + 1))$"
	assert_line --regexp "^  staged +$n$"
	assert_line --regexp "^  torrents created +$n$"
	assert_line --regexp "^  added to qBittorrent +$n$"
	assert_line --regexp "^  failed +1$"
	assert_line --regexp "^    .*Book Without Asin.*: (scan|stage|metadata): .+"
	# One progress line per release.
	[ "$(grep -c '^  ok  \|^  FAIL' <<<"$output")" -eq $((n + 1)) ]
	torrents=$(find "$OUT" -name '*.torrent' -printf '%p %i %T@\n' | sort)
	audnex /_control/reset >/dev/null
	run --separate-stderr mamfast run
	echo "$output"
	assert_success	# the failed book is held back: it would fail the same way
	assert_line --regexp "^  already complete +$n$"
	assert_line --regexp "^  held back \(failed\) +1$"
	assert_line --regexp "^  added to qBittorrent +0$"
	assert_line --regexp "^  torrents created +0$"
	[ "$(qbt_count)" -eq "$n" ]
	# Nothing rewritten, nothing asked of Audnex.
	[ "$(find "$OUT" -name '*.torrent' -printf '%p %i %T@\n' | sort)" = "$torrents" ]
	[ "$(audnex /_control/counts | jq .total)" -eq 0 ]
}

@test "status lists completions and failures; retry releases a held-back failure" {
	e2e_library samples --tiny
	run mamfast run
	[ "$status" -eq 1 ]
	run --separate-stderr mamfast status
	assert_success
	n=$(made_asins | wc -l)
	assert_line --regexp "^releases $((n + 1)): $n complete, 1 failed, 0 unfinished$"
	assert_line --partial "$(made_asins | head -n 1)"
	assert_line --regexp "Book Without Asin.*mamfast retry "
	id=$(mf-state list --failed --json | jq -r .id)
	run mamfast retry "$id"
	assert_success
	run --separate-stderr mamfast run
	[ "$status" -eq 1 ]	# tried again, and fails again
	assert_line --regexp "^  held back \(failed\) +0$"
	assert_line --regexp "^  failed +1$"
	run mamfast run --retry-failed
	[ "$status" -eq 1 ]
	assert_line --regexp "^  failed +1$"
}

@test "--only ASIN takes just that release; --skip-metadata writes no MAM JSON" {
	e2e_library samples --tiny
	one=$(made_asins | head -n 1)
	run --separate-stderr mamfast run --only "$one" --skip-metadata
	assert_success
	assert_line --regexp "^  discovered +1$"
	[ "$(qbt_count)" -eq 1 ]
	[ "$(mf-state show "$one" | jq -r .status)" = COMPLETE ]
	[ -z "$(find "$OUT" -name '*.json')" ]
	[ "$(audnex /_control/counts | jq .total)" -eq 0 ]
}

@test "--dry-run touches nothing and names each staged folder and the truncation" {
	e2e_library samples --tiny
	mkdir -p "$SEED" "$OUT"
	before=$(find "$LIB" "$SEED" "$OUT" -printf '%p %s %T@\n' | sort)
	run --separate-stderr mamfast run --dry-run
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]	# the book without ASIN would fail: a rehearsal says so
	assert_line --regexp "^  FAIL .*Book Without Asin  Book Without Asin: scan: "
	assert_line --partial "nothing will be written"
	n=$(made_asins | wc -l)
	[ "$(grep -c '^  would stage [^ ]' <<<"$output")" -eq "$n" ]
	assert_line --regexp "^  would stage B0LONGTTL1 as $SEED/.*B0LONGTTL1"
	assert_line --partial "truncated to fit MF_MAX_PATH"
	after=$(find "$LIB" "$SEED" "$OUT" -printf '%p %s %T@\n' | sort)
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); false; }
	[ "$(qbt_count)" -eq 0 ]
	[ ! -e "$STATE" ] && [ ! -e "$BATS_TEST_TMPDIR/cache" ]
}

@test "partial failure: killed after staging, the next run skips staging and finishes" {
	e2e_library few --books 4 --tiny
	# The run stops at metadata, after staging; killed once something is staged.
	e2e_stalled_run '[ "$(mf-state list --json | jq -s "map(select(.checkpoints.staged_at)) | length")" -ge 1 ]'
	kill -9 -- -"$pid"
	wait "$pid" || true
	staged=$(mf-state list --json | jq -r 'select(.checkpoints.staged_at and (.checkpoints.metadata_at | not)) | .id')
	[ -n "$staged" ]
	[ "$(qbt_count)" -eq 0 ]
	audnex /_control/reset >/dev/null
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	assert_success
	[ "$(qbt_count)" -eq 4 ]
	for id in $staged; do
		# Passed on by mf-stage untouched (staging as mf-state restored it: no files[]).
		jq -s -e --arg id "$id" '.[] | select(.id == $id) | .staging.files == null and .meta.mam_json != null' \
		    "$STATE/last-run.ndjson"
		[ "$(mf-state show "$id" | jq -r .status)" = COMPLETE ]
	done
	assert_line --regexp "^  staged +$((4 - $(wc -w <<<"$staged")))$"
	e2e_no_temp_files
}

@test "a second run while one runs exits 75 naming the holder's pid; --no-run-lock warns" {
	e2e_library few --books 2 --tiny
	e2e_stalled_run '! mf-lock -f "$STATE/run.lock" --status >/dev/null 2>&1'
	run --separate-stderr mamfast run
	echo "$stderr"
	holder=$(grep -o 'pid [0-9]*' <<<"$stderr" | head -n 1 | cut -d' ' -f2)
	# The pid named is a process of the first run (in its process group).
	holder_group=$(ps -o pgid= -p "${holder:-0}" 2>/dev/null | tr -d ' ')
	kill -9 -- -"$pid"; wait "$pid" || true
	[ "$status" -eq 75 ]
	[ -n "$holder" ]
	[ "$holder_group" = "$pid" ]
	audnex /_control/reset >/dev/null
	rm -rf "$STATE"
	run --separate-stderr mamfast run --no-run-lock
	assert_success
	[[ $stderr == *"--no-run-lock"*"without the run lock"* ]]
	[ ! -e "$STATE/run.lock" ]
	[ "$(qbt_count)" -eq 2 ]
}

@test "secrets: no passkey or password in anything the run wrote, printed, or put in argv" {
	e2e_library few --books 3 --tiny
	e2e_config "MF_QBT_PASS_FILE=$BATS_TEST_TMPDIR/qbt.pass"
	printf '%s\n' "$MF_QBT_PASS" >"$BATS_TEST_TMPDIR/qbt.pass"
	pass=$MF_QBT_PASS
	unset MF_QBT_PASS
	# Sample every process's argv while the run goes.
	( while :; do ps -eo args; sleep 0.05; done ) >"$BATS_TEST_TMPDIR/ps.txt" 2>/dev/null 3>&- &
	sampler=$!
	mamfast run >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr"
	rc=$?
	kill "$sampler"; wait "$sampler" 2>/dev/null || true
	[ "$rc" -eq 0 ]
	[ "$(qbt_count)" -eq 3 ]
	# The passkey must be in the torrents (MAM needs it): proof that grep would find it.
	n=$(grep -rlF "$E2E_PASSKEY" --include='*.torrent' "$OUT" | wc -l)
	[ "$n" -eq 3 ]
	for s in "$E2E_PASSKEY" "$pass"; do
		run grep -rlF --exclude='*.torrent' -- "$s" "$SEED" "$OUT" "$STATE" \
		    "$BATS_TEST_TMPDIR/cache" "$BATS_TEST_TMPDIR/stdout" "$BATS_TEST_TMPDIR/stderr" \
		    "$BATS_TEST_TMPDIR/ps.txt"
		assert_output ""
	done
	grep -q 'mf-' "$BATS_TEST_TMPDIR/ps.txt"	# the sampler saw the pipeline
}

@test "check: all green on a working set-up; a wrong qBittorrent password is named" {
	e2e_library few --books 2 --tiny
	run --separate-stderr mamfast check
	echo "$output"
	assert_success
	assert_line "  ok   qBittorrent $QBT_APP (WebAPI $QBT_WEBAPI) at $MF_QBT_URL: credentials accepted"
	refute_line --partial "  warn "		# every release of the matrix is in the tested range
	assert_line --regexp "Audnex $MF_AUDNEX_URL reachable"
	assert_line "all checks passed"
	MF_QBT_PASS=wrong-password run --separate-stderr mamfast check
	assert_failure 1
	assert_line --regexp "FAIL qBittorrent: .*rejected the user name or password"
	refute_output --partial wrong-password
	[ "$(qbt_count)" -eq 0 ]	# the probe added nothing
}

@test "progress: marks on a terminal, plain words in a pipe" {
	mf_need script
	e2e_library few --books 2 --tiny
	# script(1) gives the run a pseudo-terminal.
	run script -qec "mamfast run" /dev/null
	assert_success
	[ "$(grep -c '✓ B0MF00000[12] ' <<<"$output")" -eq 2 ]
	e2e_qbt_clear
	rm -rf "$STATE" "$OUT" "$SEED"
	run mamfast run
	assert_success
	[ "$(grep -c '^  ok   B0MF00000[12] ' <<<"$output")" -eq 2 ]
	refute_output --partial '✓'
}
