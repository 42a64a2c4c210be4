#!/usr/bin/env bats
# Faults across the pipeline: qBittorrent down, Audnex rate limiting and errors, a full
# output filesystem.  Each time the run says precisely what failed, and a rerun after the
# fault completes everything.

bats_require_minimum_version 1.5.0
load lib/common
load lib/e2e

# The Audnex stand-in answers for mklibrary's B0MF ASINs with generated books titled
# "Fixture ASIN".
teardown_file() {
	if [[ -n "${FAULT_MNT:-}" ]] && mountpoint -q "$FAULT_MNT"; then umount -l "$FAULT_MNT"; fi
	e2e_teardown_file
}
teardown() {
	if [[ -n "${FAULT_MNT:-}" ]] && mountpoint -q "$FAULT_MNT"; then umount -l "$FAULT_MNT"; fi
	# A test that stopped this file's qBittorrent (qbt_down) must not leave it stopped for
	# the next one; nothing is started for a test that did not stop it.
	if [[ -n "${QBT_DIR:-}" && -n "${E2E_QBT_PORT:-}" ]] && ! qbt-sandbox status >/dev/null 2>&1; then
		QBT_PORT=$E2E_QBT_PORT qbt-sandbox start >/dev/null
	fi
}

# Stop qBittorrent, keeping its profile and port for a restart.
qbt_down() {
	E2E_QBT_PORT=$(cat "$QBT_DIR/port")
	export E2E_QBT_PORT
	QBT_KEEP=true qbt-sandbox stop >/dev/null
}
qbt_up() {
	QBT_PORT=$E2E_QBT_PORT qbt-sandbox start >/dev/null
	rm -f "$QBT_DIR/test-cookies"	# a new server: the old session is gone
}

@test "qBittorrent down: each release fails at upload saying so; a rerun completes all" {
	e2e_library three --books 3 --tiny
	e2e_config MF_QBT_RETRY_TIME=2	# give up on the server soon
	qbt_down
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"stage upload stopped with exit status 69"* ]]
	assert_line --regexp "^  failed +3$"
	[ "$(grep -c '^    B0MF00000[123] .*: upload: .*127.0.0.1' <<<"$output")" -eq 3 ]
	# Everything before the upload is done and kept.
	[ "$(mf-state list --json | jq -s 'map(select(.checkpoints.torrent_at)) | length')" -eq 3 ]
	qbt_up
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	assert_success
	assert_line --regexp "^  added to qBittorrent +3$"
	assert_line --regexp "^  torrents reused +3$"
	[ "$(qbt_count)" -eq 3 ]
}

@test "qBittorrent down for the first seconds of a run: the run waits it out" {
	e2e_library three --books 3 --tiny
	qbt_down
	( sleep 2; QBT_PORT=$E2E_QBT_PORT qbt-sandbox start >/dev/null ) 3>&- &
	starter=$!
	run --separate-stderr mamfast run
	wait "$starter"
	rm -f "$QBT_DIR/test-cookies"
	echo "$output"; echo "$stderr"
	if [ "$status" -ne 0 ]; then
		# The retry budget of mf-qbt-add was shorter than the outage: then it must say
		# so per release, and the rerun finishes.
		assert_line --regexp "^    B0MF00000[123] .*: upload: "
		run mamfast run
	fi
	assert_success
	[ "$(qbt_count)" -eq 3 ]
}

@test "Audnex 429, then 500, then OK: metadata arrives in the same run" {
	e2e_library three --books 3 --tiny
	audnex '/_control/rule?path=/books/B0MF000002&action=429&arg=1&times=1' >/dev/null
	audnex '/_control/rule?path=/books/B0MF000002&action=500&times=1' >/dev/null
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	assert_success
	[ "$(audnex '/_control/count?path=/books/B0MF000002')" -ge 3 ]
	jq -s -e '.[] | select(.id == "B0MF000002") | .meta.audnex.title == "Fixture B0MF000002"' \
	    "$STATE/last-run.ndjson"
	[ "$(qbt_count)" -eq 3 ]
}

@test "output filesystem full: the failures say so; after freeing space a rerun completes" {
	e2e_library three --books 3 --tiny
	e2e_tmpfs outfs 256k
	OUT="$FAULT_MNT/out"
	e2e_config
	mkdir -p "$OUT"
	e2e_fill
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	assert_line --regexp "^  failed +3$"
	[ "$(grep -Ec '^    B0MF00000[123] .*: (metadata|torrent): .*[Nn]o space left' <<<"$output")" -eq 3 ]
	[ "$(qbt_count)" -eq 0 ]
	e2e_no_temp_files
	rm -f "$FAULT_MNT/filler"
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	assert_success
	[ "$(qbt_count)" -eq 3 ]
	[ "$(find "$OUT" -name '*.torrent' | wc -l)" -eq 3 ]
	e2e_no_temp_files
}

@test "qBittorrent rejects the password: said per release; after the fix a plain run completes" {
	e2e_library three --books 3 --tiny
	MF_QBT_PASS=not-the-password run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]
	[ "$(grep -c '^    B0MF00000[123] .*: upload: .*rejected the user name or password' <<<"$output")" -eq 3 ]
	[[ $stderr == *"stage upload stopped with exit status 77"* ]]
	[[ $output$stderr != *not-the-password* ]]
	run --separate-stderr mamfast run
	assert_success
	assert_line --regexp "^  held back \(failed\) +0$"
	assert_line --regexp "^  added to qBittorrent +3$"
	[ "$(qbt_count)" -eq 3 ]
}
