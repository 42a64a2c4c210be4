#!/usr/bin/env bats
# mf-state under load: concurrent writers lose nothing, and kill -9 at any moment loses no
# acknowledged update and leaves a store that loads.

load lib/common
bats_require_minimum_version 1.5.0

setup() {
	# Scratch files go in the test's own folder, never the checkout.
	cd "$BATS_TEST_TMPDIR"
	export MF_STATE_DIR="$BATS_TEST_TMPDIR/state"
}

# N records with ids <prefix>NNNNN.
recs() {
	awk -v n="$2" -v p="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":\"%s%05d\",\"title\":\"T%d\",\"staging\":{\"dir\":\"/s/%d\"},\"torrent\":{\"path\":\"/o/%d\",\"infohash\":\"h%d\"},\"qbt\":{\"hash\":\"q%d\"}}\n", p, i, i, i, i, i, i }'
}

@test "concurrency: 8 processes x 500 releases, every stage, repeated 3 times" {
	for round in 1 2 3; do
		export MF_STATE_DIR="$BATS_TEST_TMPDIR/state$round"
		# The last round compacts often, while the others write.
		[ "$round" != 3 ] || export MF_STATE_COMPACT_MIN=65536
		pids=()
		for w in 1 2 3 4 5 6 7 8; do
			# Each pipeline has four writers updating the same releases at once.
			( recs "W$w-" 500 | mf-state checkpoint staged | mf-state checkpoint metadata |
			    mf-state checkpoint torrent | mf-state checkpoint uploaded > "out$round.$w" ) &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p"; done
		assert_equal "$(cat out$round.* | wc -l)" 4000
		assert_equal "$(cat out$round.* | jq -r 'select(.error) | .id' | wc -l)" 0
		run mf-state list --json
		assert_success
		assert_equal "$(echo "$output" | wc -l)" 4000
		# Every release has all four stages and the fields each stage produced.
		assert_equal "$(echo "$output" | jq -r 'select(.status == "COMPLETE" and
		    ([.checkpoints[] | select(. != null)] | length) == 4 and
		    .staging.dir != null and .torrent.infohash != null and .qbt.hash != null) | .id' |
		    sort -u | wc -l)" 4000
		# The store loads without damage (the paths in these records do not exist).
		run --separate-stderr mf-state check
		[[ "$stderr" != *"store:"* ]]
	done
	[ "$(mf-state stats --json | jq .generation)" -ge 2 ]
}

# Feed file $2 to `mf-state checkpoint $1` writing out.$3 and kill -9 it after a random
# delay of up to $4 hundredths of a second.
checkpoint_and_kill() {
	mf-state checkpoint "$1" < "$2" > "out.$3" 2>/dev/null &
	local pid=$!
	sleep "$(awk -v r="$RANDOM" -v m="$4" 'BEGIN { printf "%.2f", 0.02 + (r % m) / 100 }')"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# The ids emitted in out.$2 with checkpoints.$1_at set, sorted; complete lines only (the
# last one may have been cut by the kill).
emitted() {
	jq -R -r --arg k "$1_at" 'fromjson? | select(.checkpoints[$k] != null) | .id' "out.$2" | sort
}

@test "crash: kill -9 at random moments; the store loads and holds every emitted record" {
	recs C 20000 > in
	for it in $(seq 1 12); do
		sed "s/\"C/\"K$it-/" in > in.$it
		checkpoint_and_kill staged in.$it "$it" 40
		emitted=$(emitted staged "$it")
		run --separate-stderr mf-state list
		assert_success
		stored=$(echo "$output" | cut -f1 | grep "^K$it-" | sort)
		assert_equal "$(comm -23 <(echo "$emitted") <(echo "$stored") | grep -c .)" 0
		# At most the batch in flight (not acknowledged) can be stored beyond the emitted.
		[ "$(echo "$stored" | grep -c .)" -le $(( $(echo "$emitted" | grep -c .) + 256 )) ]
	done
	# All those kills left nothing that does not load; check --fix leaves a clean store.
	run --separate-stderr mf-state check --fix
	assert_success
	run --separate-stderr mf-state check
	assert_success
	n=$(mf-state list | wc -l)
	[ "$n" -gt 0 ]
	mf-state list | cut -f1 | sort > all
	for it in $(seq 1 12); do
		emitted staged "$it"
	done | sort > emitted
	assert_equal "$(comm -23 emitted all | grep -c .)" 0
}

@test "crash during compaction: a killed compactor leaves a store that loads with everything" {
	# Compact as soon as the journal outgrows the snapshot, so kills land in compactions.
	export MF_STATE_COMPACT_MIN=1
	recs P 3000 | mf-state checkpoint staged > /dev/null
	for it in 1 2 3 4 5 6; do
		recs "Q$it-" 4000 > in
		checkpoint_and_kill metadata in "$it" 60
		emitted=$(emitted metadata "$it")
		run --separate-stderr mf-state list
		assert_success
		stored=$(echo "$output" | cut -f1 | sort)
		assert_equal "$(comm -23 <(echo "$emitted") <(echo "$stored") | grep -c .)" 0
		assert_equal "$(echo "$stored" | grep -c '^P')" 3000
	done
	# The journal outgrew the snapshot along the way: compactions happened.
	[ "$(mf-state stats --json | jq .generation)" -ge 1 ]
}
