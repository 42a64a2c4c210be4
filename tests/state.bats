#!/usr/bin/env bats
# mf-state: pending, checkpoint, resume, the operator commands, and bad input.

load lib/common
bats_require_minimum_version 1.5.0

setup() {
	# Scratch files go in the test's own folder, never the checkout.
	cd "$BATS_TEST_TMPDIR"
	export MF_STATE_DIR="$BATS_TEST_TMPDIR/state"
}

teardown() {
	for m in ro full; do
		! mountpoint -q "$BATS_TEST_TMPDIR/$m" || umount "$BATS_TEST_TMPDIR/$m"
	done
}

# N records {"id":"<prefix>NNNN","title":...} on stdout.
recs() {
	awk -v n="$2" -v p="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":\"%s%04d\",\"title\":\"Book %d\",\"authors\":[\"Au Thor\"],\"staging\":{\"dir\":\"/seed/%s%d\",\"name\":\"n%d\"},\"torrent\":{\"path\":\"/out/%d.torrent\",\"infohash\":\"%040d\"},\"qbt\":{\"hash\":\"%040d\"}}\n", p, i, i, p, i, i, i, i, i }'
}

@test "mf-state: -h, -V, bad usage" {
	run mf-state -h
	assert_success
	assert_output --partial "usage: mf-state"
	run mf-state -V
	assert_success
	assert_output --partial "mf-state (mamfast)"
	run mf-state
	assert_equal "$status" 64
	run mf-state frobnicate
	assert_equal "$status" 64
	run mf-state list --bogus
	assert_equal "$status" 64
}

@test "mf-state checkpoint: emits each record with its checkpoint and stores the stage fields" {
	recs B0 3 > in
	run --separate-stderr sh -c 'mf-state checkpoint staged < in'
	assert_success
	assert_equal "$(echo "$output" | jq -r 'select(.checkpoints.staged_at != null) | .id' | wc -l)" 3
	run mf-state show B00002
	assert_success
	assert_equal "$(echo "$output" | jq -r .staging.dir)" /seed/B02
	assert_equal "$(echo "$output" | jq -r .status)" STAGED
	assert_equal "$(echo "$output" | jq -r .author)" "Au Thor"
	# Unknown fields and order pass through.
	printf '{"id":"X1","zz":[1,{"q":null}],"aa":"b"}\n' | mf-state checkpoint torrent > out
	assert_equal "$(jq -c 'del(.checkpoints)' out)" '{"id":"X1","zz":[1,{"q":null}],"aa":"b"}'
	# The store is readable with jq.
	assert_equal "$(jq -r 'select(.op.op=="cp") | .op.id' "$MF_STATE_DIR/journal.ndjson" | sort -u | wc -l)" 4
}

@test "mf-state pending: drops COMPLETE, restores checkpoints and stage outputs" {
	recs B0 3 | mf-state checkpoint staged | mf-state checkpoint metadata |
	    mf-state checkpoint torrent > /dev/null
	recs B0 1 | mf-state checkpoint uploaded > /dev/null
	printf '{"id":"B00001"}\n{"id":"B00002","keep":1}\n{"id":"NEW1"}\n' > in
	run --separate-stderr sh -c 'mf-state pending < in'
	assert_success
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "B00002 NEW1 "
	b2=$(echo "$output" | jq -c 'select(.id=="B00002")')
	assert_equal "$(echo "$b2" | jq -r .staging.dir)" /seed/B02
	assert_equal "$(echo "$b2" | jq -r .torrent.infohash)" "$(printf '%040d' 2)"
	assert_equal "$(echo "$b2" | jq -r .torrent.path)" /out/2.torrent
	assert_equal "$(echo "$b2" | jq -r .keep)" 1
	assert_equal "$(echo "$b2" | jq '.checkpoints | [.staged_at,.metadata_at,.torrent_at] | map(select(. != null)) | length')" 3
	assert_equal "$(echo "$b2" | jq -r .checkpoints.uploaded_at)" null
	new=$(echo "$output" | jq -c 'select(.id=="NEW1")')
	assert_equal "$(echo "$new" | jq -c .checkpoints)" '{"staged_at":null,"metadata_at":null,"torrent_at":null,"uploaded_at":null}'
	run sh -c 'mf-state pending --only NEW1 < in'
	assert_equal "$(echo "$output" | jq -r .id)" NEW1
}

@test "resume: staged, then failed at torrent, comes back and completes on the next run" {
	recs R 2 > in
	# Run 1: R0001 fails at the torrent stage; R0002 completes.
	mf-state pending < in | mf-state checkpoint staged | mf-state checkpoint metadata |
	    jq -c 'if .id == "R0001" then .error = {"stage":"torrent","message":"mktorrent: no space","retryable":true} else . end' |
	    mf-state checkpoint torrent | mf-state checkpoint uploaded > out1
	assert_equal "$(jq -r 'select(.error) | .id' out1)" R0001
	run mf-state list --failed
	assert_output --partial "R0001"
	assert_output --partial "failed at torrent"
	# The failure was counted once although it passed two checkpoints.
	assert_equal "$(mf-state show R0001 | jq .attempts)" 1
	assert_equal "$(mf-state show R0001 | jq -r .failure.message)" "mktorrent: no space"
	# Run 2: only R0001 comes back, with what the first run achieved.
	mf-state pending < in > p2
	assert_equal "$(jq -r .id p2)" R0001
	assert_equal "$(jq -r '.checkpoints.staged_at != null and .checkpoints.metadata_at != null and .checkpoints.torrent_at == null' p2)" true
	assert_equal "$(jq -r .staging.dir p2)" /seed/R1
	mf-state checkpoint torrent < p2 | mf-state checkpoint uploaded > out2
	assert_equal "$(jq -r '.checkpoints.uploaded_at != null' out2)" true
	assert_equal "$(mf-state show R0001 | jq -r '.status, .failure')" "COMPLETE
null"
	# The earlier checkpoints survive completion (the original wiped them).
	assert_equal "$(mf-state show R0001 | jq -r '.checkpoints.staged_at != null')" true
	run mf-state pending < in
	assert_success
	assert_output ""
	run mf-state pending --skip-failed < in
	assert_output ""
}

@test "pending --skip-failed holds failed releases back; retry and forget" {
	printf '{"id":"F1","error":{"stage":"metadata","message":"audnex 500","retryable":true}}\n' |
	    mf-state checkpoint staged > /dev/null
	printf '{"id":"F1"}\n{"id":"F2"}\n' > in
	assert_equal "$(mf-state pending --skip-failed < in | jq -r .id)" F2
	assert_equal "$(mf-state pending --retry-failed < in | jq -r .id | wc -l)" 2
	run mf-state list --failed --json
	assert_equal "$(echo "$output" | jq -r .id)" F1
	run mf-state retry F1
	assert_success
	assert_equal "$(mf-state pending --skip-failed < in | jq -r .id | wc -l)" 2
	assert_equal "$(mf-state show F1 | jq -r '.history[-1].event')" retry
	run mf-state retry NOPE
	assert_failure 1
	assert_output --partial "NOPE: no such release"
	printf '{"id":"F3","error":{"stage":"stage","message":"x"}}\n{"id":"F4","error":{"stage":"stage","message":"y"}}\n' |
	    mf-state checkpoint staged > /dev/null
	run mf-state retry --all-failed
	assert_success
	run mf-state list --failed
	assert_output ""
	run mf-state forget F3
	assert_success
	run mf-state show F3
	assert_failure 1
	assert_equal "$(mf-state list | wc -l)" 2
}

@test "checkpoint: records of a dry run are passed on without being recorded" {
	printf '{"id":"D1","staging":{"dir":"/seed/x","dry_run":true}}\n' | mf-state checkpoint staged > out
	assert_equal "$(jq -r .id out)" D1
	printf '{"id":"D2","qbt":{"hash":"h","status":"would-add"}}\n' | mf-state checkpoint uploaded > out
	assert_equal "$(jq -r .id out)" D2
	run mf-state list
	assert_output ""
}

@test "durability: no record is written out before its journal write is fdatasynced" {
	mf_need strace
	recs S 600 > in
	# LeakSanitizer cannot run under ptrace (make asan); the rest of ASan still does.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -o trace -e trace=pwrite64,fdatasync,write mf-state checkpoint staged < in > out
	assert_equal "$(wc -l < out)" 600
	# Walk the system calls in order: a write to stdout while journal data is unsynced fails.
	run awk '/pwrite64\(/ { dirty = 1 }
	    /fdatasync\(/ && / = 0$/ { dirty = 0; syncs++ }
	    /[^p]write\(1,/ { writes++; if (dirty) early++ }
	    END { printf "writes=%d early=%d syncs=%d\n", writes, early, syncs }' trace
	[[ "$output" == "writes=600 early=0 syncs="* ]]
	# Group commit: far fewer syncs than records.
	syncs=${output##*syncs=}
	[ "$syncs" -ge 3 ] && [ "$syncs" -le 60 ]
}

@test "list, stats and show on a populated store" {
	recs L 5 | mf-state checkpoint staged > /dev/null
	recs L 2 | mf-state checkpoint uploaded > /dev/null
	run mf-state list --complete
	assert_equal "$(echo "$output" | wc -l)" 2
	run mf-state list --pending
	assert_equal "$(echo "$output" | wc -l)" 3
	run mf-state stats --json
	assert_success
	assert_equal "$(echo "$output" | jq -c '[.releases,.complete,.in_progress,.failed]')" '[5,2,3,0]'
	run mf-state show L0001
	assert_equal "$(echo "$output" | jq -r '[.history[].event] | join(",")')" "staged,uploaded"
	# A store that does not exist yet is an empty one for readers.
	MF_STATE_DIR="$BATS_TEST_TMPDIR/none" run mf-state list
	assert_success
	assert_output ""
}

@test "bad input: malformed lines, records without id, unknown stage" {
	printf '{"id":"G1"}\nnot json\n[1,2]\n{"title":"no id"}\n{"id":"G2"}\n' > in
	run --separate-stderr sh -c 'mf-state checkpoint staged < in'
	assert_failure 1
	assert_equal "$(echo "$output" | wc -l)" 5
	assert_equal "$(echo "$output" | jq -r 'select(.error) | .error.stage' | tr '\n' ' ')" "input input state "
	[[ "$stderr" == *"line 2: not valid JSON"* ]]
	[[ "$stderr" == *"has no id"* ]]
	assert_equal "$(mf-state list | cut -f1 | tr '\n' ' ')" "G1 G2 "
	run --separate-stderr sh -c 'mf-state checkpoint shipped < in'
	assert_equal "$status" 64
	[[ "$stderr" == *'unknown stage "shipped"'* ]]
	assert_equal "$output" ""
	assert_equal "$(mf-state list | wc -l)" 2
	run mf-state checkpoint
	assert_equal "$status" 64
	printf 'garbage\n' > bad.json
	run mf-state import bad.json
	assert_equal "$status" 65
	printf '{"version":7,"processed":{}}' > v7.json
	run mf-state import v7.json
	assert_equal "$status" 65
	assert_output --partial "not a MAMFast processed.json"
	run mf-state import missing.json
	assert_equal "$status" 66
	assert_equal "$(mf-state list | wc -l)" 2
}

@test "check: a torn tail and a damaged line are reported and repaired without losing acknowledged updates" {
	recs H 20 | mf-state checkpoint staged > /dev/null
	j="$MF_STATE_DIR/journal.ndjson"
	# Damage one line in the middle (its CRC no longer matches) and leave a torn tail.
	sed -i '5s/Book/BOOK/' "$j"
	printf '{"crc":"12345678","op":{"op":"cp","id":"TORN"' >> "$j"
	run --separate-stderr mf-state check
	assert_failure 1
	[[ "$stderr" == *"1 damaged line"* ]]
	[[ "$stderr" == *"torn tail"* ]]
	[[ "$stderr" == *"check --fix"* ]]
	before=$(mf-state list | cut -f1)
	assert_equal "$(echo "$before" | wc -l)" 19
	run --separate-stderr mf-state check --fix
	assert_success
	run --separate-stderr mf-state check
	assert_success
	assert_equal "$(mf-state list | cut -f1)" "$before"
	assert_equal "$(mf-state stats --json | jq .generation)" 1
	# The repaired store takes new updates.
	recs Z 1 | mf-state checkpoint staged > /dev/null
	assert_equal "$(mf-state list | wc -l)" 20
}

@test "check: a lost snapshot is reported, writers refuse, check --fix goes on with what is left" {
	recs A 30 | MF_STATE_COMPACT_MIN=1 mf-state checkpoint staged > /dev/null
	recs B 2 | mf-state checkpoint staged > /dev/null
	assert_equal "$(mf-state stats --json | jq .generation)" 1
	mv "$MF_STATE_DIR/snapshot.ndjson" snap.bak
	run --separate-stderr mf-state check
	assert_failure 1
	[[ "$stderr" == *"newer than the snapshot"* ]]
	# A writer refuses rather than build on a store that lost its snapshot.
	run --separate-stderr sh -c 'recs() { printf "{\"id\":\"C1\"}\n"; }; recs | mf-state checkpoint staged'
	assert_failure 1
	assert_equal "$(echo "$output" | jq -r .error.stage)" state
	[[ "$stderr" == *"check --fix"* ]]
	# Put back, everything is there again.
	mv snap.bak "$MF_STATE_DIR/snapshot.ndjson"
	run --separate-stderr mf-state check
	assert_success
	assert_equal "$(mf-state list | wc -l)" 32
	# Lost for good: --fix keeps what the journal has and the store takes updates again.
	rm "$MF_STATE_DIR/snapshot.ndjson"
	run --separate-stderr mf-state check --fix
	assert_success
	assert_equal "$(mf-state list | cut -f1 | tr '\n' ' ')" "B0001 B0002 "
	printf '{"id":"C1"}\n' | mf-state checkpoint staged > /dev/null
	assert_equal "$(mf-state list | wc -l)" 3
}

@test "check: COMPLETE releases whose staging folder or torrent is gone are reported" {
	mkdir -p seed/ok
	touch ok.torrent
	printf '{"id":"K1","staging":{"dir":"%s/seed/ok"},"torrent":{"path":"%s/ok.torrent"}}\n{"id":"K2","staging":{"dir":"%s/seed/gone"},"torrent":{"path":"%s/gone.torrent"}}\n' \
	    "$PWD" "$PWD" "$PWD" "$PWD" > in
	mf-state checkpoint staged < in | mf-state checkpoint torrent | mf-state checkpoint uploaded > /dev/null
	run --separate-stderr mf-state check
	assert_failure 1
	[[ "$stderr" == *"K2: staging folder $PWD/seed/gone is missing"* ]]
	[[ "$stderr" == *"K2: torrent $PWD/gone.torrent is missing"* ]]
	[[ "$stderr" != *"K1"* ]]
}

# A small tmpfs of SIZE at $1, or skip with the reason.
tmpfs_or_skip() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2" tmpfs "$1" 2>/dev/null ||
	    skip "cannot mount a tmpfs here (needs root and mount permission)"
}

@test "a read-only store: clear error, nothing acknowledged, nothing lost" {
	tmpfs_or_skip ro 1m
	MF_STATE_DIR="$PWD/ro/state"
	recs A 5 | mf-state checkpoint staged > /dev/null
	mount -o remount,ro "$PWD/ro" || { umount "$PWD/ro"; skip "cannot remount read-only"; }
	recs B 3 > in
	run --separate-stderr sh -c 'mf-state checkpoint staged < in'
	status_=$status; out_=$output; err_=$stderr
	# Readers still work on the read-only store.
	list=$(mf-state list | wc -l)
	pend=$(recs A 5 | mf-state pending | jq -r '.checkpoints.staged_at != null' | sort -u)
	umount "$PWD/ro"
	assert_equal "$status_" 74
	[[ "$err_" == *"ro/state"* ]]
	assert_equal "$(printf '%s' "$out_" | jq -r 'select(.error == null) | .id' | wc -l)" 0
	assert_equal "$list" 5
	assert_equal "$pend" true
}

@test "a full filesystem: records not made durable are not acknowledged, stored ones are kept" {
	tmpfs_or_skip full 160k
	MF_STATE_DIR="$PWD/full/state"
	recs A 10 | mf-state checkpoint staged > /dev/null
	# Long titles fill the filesystem quickly.
	long=$(head -c 3000 /dev/zero | tr '\0' x)
	awk -v t="$long" 'BEGIN { for (i = 1; i <= 400; i++) printf "{\"id\":\"W%04d\",\"title\":\"%s\"}\n", i, t }' > in
	run --separate-stderr sh -c 'mf-state checkpoint staged < in'
	status_=$status
	printf '%s\n' "$output" > out
	acked=$(jq -r 'select(.error == null) | .id' out | sort)
	refused=$(jq -r 'select(.error.stage == "state") | .id' out | sort)
	stored=$(mf-state list | cut -f1 | sort)
	checked=$(mf-state check 2>&1; echo "rc=$?")
	umount "$PWD/full"
	assert_equal "$status_" 74
	[[ "$stderr" == *"No space left on device"* ]]
	[ -n "$refused" ]
	# Every acknowledged record is stored; no refused one is; the first ten are still there.
	assert_equal "$(comm -23 <(echo "$acked") <(echo "$stored") | grep -c .)" 0
	assert_equal "$(comm -12 <(echo "$refused") <(echo "$stored") | grep -c .)" 0
	assert_equal "$(echo "$stored" | grep -c '^A')" 10
	[[ "$checked" == *"rc=0"* ]]
}
