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

@test "a config line 'export<TAB>KEY=VALUE' means the same to the tools as to mamfast" {
	mkdir -p "$MF_LIBRARY/Book [B0TABEXPO1]"
	head -c 4000 /dev/urandom >"$MF_LIBRARY/Book [B0TABEXPO1]/a.m4b"
	printf 'export\tMF_LIBRARY=%s\n' "$MF_LIBRARY" >tab.conf
	unset MF_LIBRARY
	export MF_CONFIG=$BATS_TEST_TMPDIR/tab.conf
	run --separate-stderr mf-scan
	assert_success
	run jq -r .id <<<"$output"
	assert_output B0TABEXPO1
}

@test "mf-state export, stats and show to a full disk exit 74 and say so" {
	[ -w /dev/full ] || skip "no /dev/full on this system"
	for i in $(seq 1 200); do
		printf '{"id":"B0EXPRT%03d","title":"Book %d","source_dir":"/lib/b%d","staging":{"dir":"/seed/b%d","name":"b%d"}}\n' \
		    "$i" "$i" "$i" "$i" "$i"
	done | mf-state checkpoint staged >/dev/null
	run mf-state export
	assert_success
	[ "${#output}" -gt 8192 ]	# more than one stdio buffer
	for c in export stats "show B0EXPRT001"; do
		run --separate-stderr sh -c "mf-state $c >/dev/full"
		[ "$status" -eq 74 ] || { echo "mf-state $c: status $status"; false; }
		[[ $stderr == *"standard output"* ]] || { echo "mf-state $c: stderr '$stderr'"; false; }
	done
}

@test "a relative MF_OUT_DIR still gives an absolute torrent.path" {
	mkdir -p "$MF_LIBRARY/Book [B0RELOUT01]"
	head -c 4000 /dev/urandom >"$MF_LIBRARY/Book [B0RELOUT01]/a.m4b"
	mf-scan | mf-stage >staged
	MF_OUT_DIR=relout run --separate-stderr mf-torrent <staged
	assert_success
	run jq -r .torrent.path <<<"$output"
	assert_output "$BATS_TEST_TMPDIR/relout/Book {ASIN.B0RELOUT01}/Book {ASIN.B0RELOUT01}.torrent"
	[ -s "$output" ]
}

@test "mf-scan to a full disk exits 74 and says so" {
	[ -w /dev/full ] || skip "no /dev/full on this system"
	mkdir -p "$MF_LIBRARY/Book [B0SCANFUL1]"
	head -c 4000 /dev/urandom >"$MF_LIBRARY/Book [B0SCANFUL1]/a.m4b"
	run --separate-stderr sh -c 'mf-scan >/dev/full'
	[ "$status" -eq 74 ]
	[[ $stderr == *"standard output"* ]]
}

@test "mamfast check flags a seed root inside the library" {
	export MF_SEED_ROOT=$MF_LIBRARY/seed MF_QBT_USER=admin MF_QBT_PASS=x
	export MF_QBT_URL=http://127.0.0.1:$(mf_free_port) MF_AUDNEX_URL=http://127.0.0.1:$(mf_free_port)
	export MF_QBT_RETRY_TIME=0 MF_QBT_RETRIES=1 MF_TIMEOUT=2
	run mamfast check
	assert_failure
	assert_output --partial "is inside the library"
	export MF_SEED_ROOT=$BATS_TEST_TMPDIR/seed
	run mamfast check
	refute_output --partial "is inside the library"
}

@test "an input line that is not UTF-8 is an input error on that record; the next goes on" {
	printf '{"id":"B0UTFBAD01","title":"\303("}\n{"id":"B0UTFGOOD1"}\n' >in.ndjson
	run --separate-stderr mf-state pending <in.ndjson
	[ "$status" -eq 1 ]
	[[ $stderr == *"line 1: not valid UTF-8"* ]]
	run jq -r '[.id // "-", .error.stage // "-"] | @tsv' <<<"$output"
	assert_output "$(printf -- '-\tinput\nB0UTFGOOD1\t-')"
}
