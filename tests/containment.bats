#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# A record naming a folder outside the roots a tool may touch (staging.dir outside
# MF_SEED_ROOT, torrent.path or meta.mam_json outside MF_OUT_DIR) is refused by every tool
# that would use it, with nothing read or written there: a record is input, not trusted.

load lib/common
load lib/qbt

setup_file() {
	qbt_start
}

teardown_file() {
	qbt_stop
}

setup() {
	mf_need jq ffmpeg
	cd "$BATS_TEST_TMPDIR"
	export MF_LIBRARY="$PWD/lib" MF_SEED_ROOT="$PWD/seed" MF_OUT_DIR="$PWD/out"
	mkdir -p lib seed out elsewhere/Book
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:sample_rate=8000:duration=1" \
	    -c:a aac -b:a 16k -ac 1 elsewhere/Book/Book.m4b
	mf-torrent --no-date -o elsewhere/Book.torrent elsewhere/Book >/dev/null
	# What an edited store or a crafted input could carry: every folder outside the roots.
	jq -nc --arg e "$PWD/elsewhere" '{id:"B0OUTSIDE1", asin:"B0OUTSIDE1", title:"Outside",
	    source_dir:"\($e)/Book", files:[{path:"Book.m4b", size:1, kind:"audio"}],
	    checkpoints:{staged_at:"2024-01-01T00:00:00Z", metadata_at:"2024-01-01T00:00:00Z"},
	    staging:{dir:"\($e)/Book", name:"Book",
	        files:[{src:"x", dst:"\($e)/Book/Book.m4b", how:"link"}]},
	    meta:{mam_json:"\($e)/Book.json"}, torrent:{path:"\($e)/Book.torrent"}}' >rec
}

# refused TOOL STAGE FIELD: the last run failed the record at STAGE naming FIELD.
refused() {
	assert_equal "$status" 1
	assert_equal "$(jq -r .error.stage <<<"$output")" "$1"
	[[ "$(jq -r .error.message <<<"$output")" == "$2 "*" lies outside "* ]]
	assert_equal "$(jq -r .error.retryable <<<"$output")" false
}

@test "mf-stage: a resumed record whose staging.dir lies outside MF_SEED_ROOT is refused, not passed on" {
	run --separate-stderr mf-stage <rec
	refused stage staging.dir
	# --force stages it again from scratch (the source is checked against MF_LIBRARY then)
	run --separate-stderr mf-stage --force <rec
	refused stage source_dir
}

@test "mf-meta: staging.dir outside MF_SEED_ROOT, or a resumed meta.mam_json outside MF_OUT_DIR, is refused" {
	run --separate-stderr mf-meta --no-audnex <rec
	refused metadata meta.mam_json
	jq -c 'del(.checkpoints)' rec >rec2
	run --separate-stderr mf-meta --no-audnex <rec2
	refused metadata staging.dir
	[ -z "$(ls -A out)" ]
}

@test "mf-torrent: staging.dir outside MF_SEED_ROOT is not hashed" {
	run --separate-stderr mf-torrent <rec
	refused torrent staging.dir
	[ -z "$(ls -A out)" ]
}

@test "mf-infohash --records: torrent.path outside MF_OUT_DIR is not read" {
	jq -c 'del(.torrent.infohash)' rec >rec2
	run --separate-stderr mf-infohash --records <rec2
	refused torrent torrent.path
}

@test "mf-qbt-add: torrent.path outside MF_OUT_DIR, or staging.dir outside MF_SEED_ROOT, is not added" {
	run --separate-stderr mf-qbt-add <rec
	refused upload staging.dir
	jq -c --arg d "$MF_SEED_ROOT/Book" '.staging.dir = $d' rec >rec2
	run --separate-stderr mf-qbt-add <rec2
	refused upload torrent.path
	assert_equal "$(qbt_count)" 0
}
