#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Review R1: defects found by using the tools as a demanding user, one test each.

load lib/common

setup() {
	cd "$BATS_TEST_TMPDIR"
	export MF_LIBRARY=$BATS_TEST_TMPDIR/lib MF_SEED_ROOT=$BATS_TEST_TMPDIR/seed
	export MF_OUT_DIR=$BATS_TEST_TMPDIR/out MF_STATE_DIR=$BATS_TEST_TMPDIR/state
	export MF_ANNOUNCE_URL=http://127.0.0.1:1/announce
	mkdir -p "$MF_LIBRARY" "$MF_SEED_ROOT"
}

@test "a staged name near 255 bytes (CJK title) still gets its MAM JSON and torrent" {
	mf_need python3 jq
	d="$MF_LIBRARY/C [B0CJKTTL01]"
	mkdir -p "$d"
	head -c 40000 /dev/urandom >"$d/a.m4b"
	python3 -c 'import json; print(json.dumps({"asin": "B0CJKTTL01", "title": "\u6f22" * 150,
	    "authors": [{"name": "\u4f5c\u8005" * 30}]}))' >"$d/c.metadata.json"
	mf-scan | mf-stage >staged
	# the case needs a name the temp-file suffix pushes past NAME_MAX (255 bytes)
	run jq -r '.staging.name | utf8bytelength' staged
	assert_success
	[ "$output" -gt 235 ] && [ "$output" -le 255 ]
	run --separate-stderr sh -c 'mf-meta --no-audnex <staged | mf-torrent'
	assert_success
	run jq -r '.error.message // "none"' <<<"$output"
	assert_output none
	name=$(jq -r .staging.name staged)
	[ -s "$MF_OUT_DIR/$name/$name.json" ]
	[ -s "$MF_OUT_DIR/$name/$name.torrent" ]
	# no temporary file is left beside them
	run find "$MF_OUT_DIR" -name '.*'
	assert_output ""
}
