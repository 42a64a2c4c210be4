#!/usr/bin/env bats
# mf-state import/export: the original MAMFast processed.json (version 1) round trip.

load lib/common
bats_require_minimum_version 1.5.0

setup() {
	# Scratch files go in the test's own folder, never the checkout.
	cd "$BATS_TEST_TMPDIR"
	export MF_STATE_DIR="$BATS_TEST_TMPDIR/state"
	fixture="$BATS_TEST_DIRNAME/fixtures/processed-v1.json"
}

@test "import keeps every entry and export gives back every field of the seed schema" {
	run --separate-stderr mf-state import "$fixture"
	assert_success
	mf-state export > out.json
	jq -e . out.json > /dev/null
	assert_equal "$(jq .version out.json)" 1
	# Every processed field, nulls included, compared with the fixture itself.
	for id in $(jq -r '.processed | keys[]' "$fixture"); do
		for f in asin title author processed_at staging_dir torrent_path infohash status checkpoints; do
			want=$(jq -cS --arg id "$id" --arg f "$f" '.processed[$id][$f]' "$fixture")
			got=$(jq -cS --arg id "$id" --arg f "$f" '.processed[$id][$f]' out.json)
			assert_equal "$id.$f=$got" "$id.$f=$want"
		done
	done
	for id in $(jq -r '.failed | keys[]' "$fixture"); do
		for f in asin title author failed_at error source_dir; do
			want=$(jq -c --arg id "$id" --arg f "$f" '.failed[$id][$f]' "$fixture")
			got=$(jq -c --arg id "$id" --arg f "$f" '.failed[$id][$f]' out.json)
			assert_equal "$id.$f=$got" "$id.$f=$want"
		done
	done
	assert_equal "$(jq -c '[.processed, .failed] | map(keys | length)' out.json)" \
	    "$(jq -c '[.processed, .failed] | map(keys | length)' "$fixture")"
}

@test "export, import into a fresh store, export again: identical; a second import changes nothing" {
	mf-state import "$fixture" 2>/dev/null
	mf-state export > one.json
	MF_STATE_DIR="$BATS_TEST_TMPDIR/other" mf-state import one.json 2>/dev/null
	MF_STATE_DIR="$BATS_TEST_TMPDIR/other" mf-state export > two.json
	cmp one.json two.json
	run --separate-stderr mf-state import "$fixture"
	assert_success
	[[ "$stderr" == *"0 entries added or merged"* ]]
	cmp one.json <(mf-state export)
}

@test "imported state drives pending: COMPLETE held back, the rest resume with their checkpoints" {
	mf-state import "$fixture" 2>/dev/null
	printf '{"id":"B0DONE0001"}\n{"id":"B0MIDWAY01"}\n{"id":"B0CFAIL001"}\n{"id":"B0NULLS001"}\n' > in
	run --separate-stderr sh -c 'mf-state pending < in'
	assert_success
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "B0MIDWAY01 B0CFAIL001 B0NULLS001 "
	mid=$(echo "$output" | jq -c 'select(.id=="B0MIDWAY01")')
	assert_equal "$(echo "$mid" | jq -r .torrent.infohash)" aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd
	assert_equal "$(echo "$mid" | jq -r .checkpoints.torrent_at)" 2024-05-01T07:04:59.999999
	# Null fields in the old file are nulls, not crashes (the original's `status` sliced None).
	run mf-state list
	assert_success
	assert_output --partial "B0NULLS001"
	run mf-state show B0NULLS001
	assert_equal "$(echo "$output" | jq -r .processed_at)" null
	assert_equal "$(mf-state show B0CFAIL001 | jq -r .failure.message)" "mkbrr exited with status 1: content path not found"
}

@test "import never overwrites newer data" {
	printf '{"id":"B0MIDWAY01","title":"Newer Title","staging":{"dir":"/seed/new"}}\n' |
	    mf-state checkpoint staged > /dev/null
	printf '{"id":"B0DONE0001","error":{"stage":"upload","message":"later failure","retryable":true}}\n' |
	    mf-state checkpoint uploaded > /dev/null
	mf-state import "$fixture" 2>/dev/null
	run mf-state show B0MIDWAY01
	assert_equal "$(echo "$output" | jq -r .title)" "Newer Title"
	assert_equal "$(echo "$output" | jq -r .staging.dir)" /seed/new
	# What the store lacked is filled in from the file.
	assert_equal "$(echo "$output" | jq -r .torrent.infohash)" aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd
	assert_equal "$(echo "$output" | jq -r .checkpoints.metadata_at)" 2024-05-01T07:00:03.5
	assert_equal "$(mf-state show B0DONE0001 | jq -r .failure.message)" "later failure"
}
