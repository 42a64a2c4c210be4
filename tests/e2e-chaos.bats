#!/usr/bin/env bats
# Chaos: runs over 50 releases killed with SIGKILL (the whole process group, as a power
# cut or the OOM killer would) at random moments, 30 times, then one clean run.  The
# promises: every release ends complete, qBittorrent holds each exactly once, no temporary
# or partial file is left, and the store checks clean.

bats_require_minimum_version 1.5.0
load lib/common
load lib/e2e

@test "30 SIGKILLs at random moments over 50 releases, then a clean run: all complete, once" {
	e2e_library fifty --books 50 --tiny
	# Kill delays are random in [0, window): the window starts at 1.2 s and shrinks whenever
	# a run finished before its kill, so the kills keep landing inside runs.
	seed=${CHAOS_SEED:-$RANDOM}
	echo "# chaos seed $seed (CHAOS_SEED=$seed to replay)" >&3
	RANDOM=$seed
	kills=0 finished=0 window=1200 progress=
	# Each Audnex answer takes 80 ms, so the work is spread over many of the 30 runs.
	audnex '/_control/rule?path=/books&action=delay&arg=0.08&times=0' >/dev/null
	for i in $(seq 30); do
		delay_ms=$(( (RANDOM * 32768 + RANDOM) % window ))
		setsid mamfast run >>"$BATS_TEST_TMPDIR/chaos.out" 2>&1 3>&- &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
		if kill -9 -- -"$pid" 2>/dev/null; then
			kills=$((kills + 1))
		else
			finished=$((finished + 1))
			window=$(( window * 2 / 3 > 50 ? window * 2 / 3 : 50 ))
		fi
		wait "$pid" 2>/dev/null || true
		progress="$progress $(mf-state list --complete --json | jq -s length)"
	done
	echo "# complete after each run:$progress" >&3
	audnex /_control/reset >/dev/null
	done_before=$(mf-state list --complete --json | jq -s length)
	echo "# $kills runs killed, $finished finished first; $done_before of 50 complete before the clean run" >&3
	[ "$kills" -ge 20 ]
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	assert_success
	assert_line --regexp "^  failed +0$"
	# Every release complete, in the store and in qBittorrent, exactly once each.
	[ "$(mf-state list --complete --json | jq -s length)" -eq 50 ]
	[ "$(mf-state list --json | jq -s 'map(select(.status != "COMPLETE")) | length')" -eq 0 ]
	torrents=$(qbt_torrents)
	[ "$(jq length <<<"$torrents")" -eq 50 ]
	[ "$(jq '[.[].name] | unique | length' <<<"$torrents")" -eq 50 ]
	# The hashes qBittorrent has are the ones the store recorded.
	diff <(jq -r '.[].hash' <<<"$torrents" | sort) \
	    <(mf-state list --json | jq -r .torrent.infohash | sort)
	# One torrent file and one staged folder per release, nothing half-written.
	[ "$(find "$OUT" -name '*.torrent' | wc -l)" -eq 50 ]
	[ "$(find "$SEED" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 50 ]
	e2e_no_temp_files
	run mf-state check
	assert_success
	# And the store agrees with a run that follows: nothing left to do.
	run mamfast run
	assert_success
	assert_line --regexp "^  already complete +50$"
}
