#!/usr/bin/env bats
# The driver's own files in the state folder: the sweep of what gone runs left (never
# what a concurrent --no-run-lock run still uses), and last-run.ndjson on a full state
# filesystem (the previous one is kept, never replaced by an empty or cut file).

bats_require_minimum_version 1.5.0
load lib/common
load lib/e2e

teardown() {
	if [[ -n "${FAULT_MNT:-}" ]] && mountpoint -q "$FAULT_MNT"; then umount -l "$FAULT_MNT"; fi
	if [[ -n "${apid:-}" ]]; then kill -9 -- -"$apid" 2>/dev/null || true; fi
}

# A pid no process has (one that just ended).
dead_pid() {
	sh -c 'exit 0' &
	local p=$!
	wait "$p"
	kill -0 "$p" 2>/dev/null && return 1
	echo "$p"
}

@test "a locked run beside a --no-run-lock run sweeps only what gone processes left" {
	local dead i adir
	e2e_library few --books 2 --tiny
	dead=$(dead_pid)
	mkdir -p "$STATE/.run.$dead.AbCdEf" "$STATE/.run.OldOne" "$OUT/Stale" "$OUT/Live"
	: >"$STATE/.last-run.ndjson.tmp.$dead"
	: >"$OUT/Stale/.Stale.json.tmp.$dead.0"
	# and what a killed process not yet reaped (a zombie) left
	mf_zombie
	mkdir "$STATE/.run.$zpid.GhIjKl"
	: >"$OUT/Stale/.Stale.json.tmp.$zpid.1"
	# Run A, without the lock, stalls at metadata (Audnex answers nothing for 30 s).
	audnex '/_control/rule?path=/books&action=delay&arg=30&times=0' >/dev/null
	setsid mamfast run --no-run-lock >"$BATS_TEST_TMPDIR/a.out" 2>&1 3>&- &
	apid=$!
	for i in $(seq 100); do
		adir=$(ls -d "$STATE"/.run.* | grep -v "AbCdEf\|OldOne\|GhIjKl" | head -n 1)
		[ -e "$adir/pending" ] && break
		sleep 0.1
	done
	[ -d "$adir" ]
	# A temporary file of a process of run A that is still going (its driver's).
	: >"$OUT/Live/.Live.json.tmp.$apid.0"
	# Run B takes the lock and sweeps, while A goes on.
	run --separate-stderr mamfast run --skip-metadata
	echo "$output"; echo "$stderr"
	assert_success
	[ -d "$adir" ]
	[ -e "$OUT/Live/.Live.json.tmp.$apid.0" ]
	[ ! -e "$STATE/.run.$dead.AbCdEf" ] && [ ! -e "$STATE/.run.OldOne" ]
	[ ! -e "$STATE/.last-run.ndjson.tmp.$dead" ] && [ ! -e "$OUT/Stale/.Stale.json.tmp.$dead.0" ]
	[ ! -e "$STATE/.run.$zpid.GhIjKl" ] && [ ! -e "$OUT/Stale/.Stale.json.tmp.$zpid.1" ]
	mf_zombie_end
	[[ "$stderr" == *"removed 3 temporary file(s)"* ]]
	# A finishes once Audnex answers again, its run folder intact.
	audnex /_control/reset >/dev/null
	wait "$apid"
	rc=$?
	cat "$BATS_TEST_TMPDIR/a.out"
	apid=
	assert_equal "$rc" 0
	! grep -qi "nonexistent\|cannot create" "$BATS_TEST_TMPDIR/a.out"
	[ ! -d "$adir" ]
	rm -f "$OUT/Live/.Live.json.tmp."*
	e2e_no_temp_files
}

@test "a full state filesystem: last-run.ndjson keeps the previous run's records, and the run says so" {
	e2e_library few --books 2 --tiny
	cd "$BATS_TEST_TMPDIR"
	e2e_tmpfs statefs 2m
	STATE="$FAULT_MNT/state"
	e2e_config
	# The first run takes one of the two releases; the second has the other to do.
	run --separate-stderr mamfast run --only "$(cut -f1 "$E2E_LIBLIST" | head -n 1)"
	assert_success
	[ "$(wc -l <"$STATE/last-run.ndjson")" -eq 1 ]
	cp "$STATE/last-run.ndjson" previous
	e2e_fill
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	cmp previous "$STATE/last-run.ndjson"
	[[ "$stderr" == *"last-run.ndjson"*"keeps the previous run's"* ]]
	[ -z "$(find "$STATE" -name '.last-run.ndjson.tmp.*')" ]
}
