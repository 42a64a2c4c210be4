#!/usr/bin/env bats
# mf-torrent --comment, --name, --web-seed, --no-creator, --entropy, --private/--public and
# their configuration keys: mktorrent 1.1 and transmission-show as oracles, and reuse.

load lib/common
load lib/mktree
load lib/metainfo
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# transmission-show without the lines that name the tool, the date or the .torrent file.
show_fields() {
	transmission-show "$1" | grep -v -e '^File:' -e 'Created by:' -e 'Created on:'
}

@test "mf-torrent --comment --web-seed --name: mktorrent's infohash, transmission-show's fields" {
	mf_need mktorrent transmission-show
	mf_tree_s9 Book
	mktorrent -p -s MAM -l 15 -d -a "https://t.example/KEY1/announce" -c "Read by – someone" \
	    -w "https://seed.example/files/" -n "Other Name" -o mk.torrent Book >/dev/null
	MF_ANNOUNCE_URL="https://t.example/KEY1/announce" run --separate-stderr mf-torrent --no-date \
	    --comment "Read by – someone" --web-seed "https://seed.example/files/" --name "Other Name" Book
	assert_success
	assert_output "$(mf_show_hash mk.torrent)  Other Name.torrent"
	assert_equal "$(show_fields "Other Name.torrent")" "$(show_fields mk.torrent)"
	run transmission-show "Other Name.torrent"
	assert_line "  Comment: Read by – someone"
	assert_line "  https://seed.example/files/"
	# url-list is always a list, as mkbrr writes it (mktorrent writes one seed as a string)
	grep -q '8:url-listl27:https://seed.example/files/ee$' "Other Name.torrent"
	c="Read by – someone"
	grep -q -F "7:comment$(printf %s "$c" | wc -c):$c" "Other Name.torrent"
	# several web seeds, short options -c and -w
	mktorrent -p -s MAM -l 15 -d -w https://a.example/ -w https://b.example/ -c x -o mk2.torrent Book >/dev/null
	run mf-torrent --no-date -c x -w https://a.example/ -w https://b.example/ -o two.torrent Book
	assert_success
	assert_equal "$(show_fields two.torrent)" "$(show_fields mk2.torrent)"
	grep -q '8:url-listl18:https://a.example/18:https://b.example/ee$' two.torrent
}

@test "mf-torrent --name on a single file names the file, as mktorrent -n does" {
	mf_need mktorrent transmission-show
	mf_pattern_file "Book – Part.m4b" 300001 7
	mktorrent -p -s MAM -l 16 -d -n "Renamed.m4b" -o mk.torrent "Book – Part.m4b" >/dev/null
	run mf-torrent --no-date -l 16 --name Renamed.m4b "Book – Part.m4b"
	assert_success
	assert_output "$(mf_show_hash mk.torrent)  Renamed.m4b.torrent"
	assert_equal "$(mf-infohash --json Renamed.m4b.torrent | jq -c '[.name,.files,.size]')" \
	    '["Renamed.m4b",1,300001]'
	# the data still checks against it, by the file's own path
	run mf-torrent --check Renamed.m4b.torrent "Book – Part.m4b"
	assert_success
}

@test "mf-torrent --no-creator and --no-date leave both keys out; the bytes are reproducible" {
	mf_pattern_file b/a.bin 40000 1
	run mf-torrent --no-date --no-creator -o t1.torrent b
	assert_success
	assert_equal "$(grep -c -a -e 'created by' -e 'creation date' t1.torrent)" 0
	run mf-torrent --no-date --no-creator --force -o t2.torrent b
	cmp t1.torrent t2.torrent
	# the infohash does not depend on either key
	run mf-torrent --force -o t3.torrent b
	grep -q -a '10:created by13:mamfast/' t3.torrent
	assert_equal "$(mf-infohash t3.torrent | cut -d' ' -f1)" "$(mf-infohash t1.torrent | cut -d' ' -f1)"
}

@test "mf-torrent --entropy: 64 random hex digits first in info, a new infohash, nothing else changed" {
	mf_need transmission-show
	mf_tree_s9 Book
	mf-torrent --no-date -o plain.torrent Book >/dev/null
	run mf-torrent --no-date -e -o e1.torrent Book
	assert_success
	run mf-torrent --no-date --entropy -o e2.torrent Book
	assert_success
	e1=$(mf_py_info e1.torrent entropy)
	e2=$(mf_py_info e2.torrent entropy)
	[[ "$e1" =~ ^[0-9a-f]{64}$ ]]
	[[ "$e2" =~ ^[0-9a-f]{64}$ ]]
	[ "$e1" != "$e2" ]
	grep -q -a "4:infod7:entropy64:$e1" e1.torrent	# first: keys are in sorted order
	h1=$(mf_show_hash e1.torrent)
	assert_equal "$h1" "$(mf_py_info e1.torrent hash)"
	[ "$h1" != "$(mf_show_hash plain.torrent)" ]
	[ "$h1" != "$(mf_show_hash e2.torrent)" ]
	# without the entropy key the info dict is the plain one, byte for byte
	assert_equal "$(mf_py_info e1.torrent plain)" "$(mf_show_hash plain.torrent)"
	assert_equal "$(mf_py_info plain.torrent entropy)" "-"
	run mf-torrent --check e1.torrent Book
	assert_success
}

@test "mf-torrent --private / -p and --public win over MF_PRIVATE" {
	mf_pattern_file b/a.bin 40000 1
	MF_PRIVATE=1 run mf-torrent --no-date --public -o pub.torrent b
	assert_success
	grep -q '7:privatei0e' pub.torrent
	MF_PRIVATE=0 run mf-torrent --no-date -p -o priv.torrent b
	assert_success
	grep -q '7:privatei1e' priv.torrent
	MF_PRIVATE=0 run mf-torrent --no-date --private -o priv2.torrent b
	cmp priv.torrent priv2.torrent
}

@test "mf-torrent: MF_COMMENT and MF_WEB_SEEDS come from the configuration; flags win" {
	mf_need transmission-show
	mf_pattern_file b/a.bin 40000 1
	printf 'MF_COMMENT="From the file"\nMF_WEB_SEEDS=https://a.example/ https://b.example/\n' >mf.conf
	MF_CONFIG=$PWD/mf.conf run mf-torrent --no-date -o c1.torrent b
	assert_success
	run transmission-show c1.torrent
	assert_line "  Comment: From the file"
	assert_line "  https://a.example/"
	assert_line "  https://b.example/"
	# the environment wins over the file, a flag over both; an empty flag removes the key
	MF_CONFIG=$PWD/mf.conf MF_COMMENT="From env" run mf-torrent --no-date -o c2.torrent b
	run transmission-show c2.torrent
	assert_line "  Comment: From env"
	MF_CONFIG=$PWD/mf.conf run mf-torrent --no-date --comment "" --web-seed https://c.example/ -o c3.torrent b
	assert_success
	assert_equal "$(grep -c -a '7:comment' c3.torrent)" 0
	grep -q '8:url-listl18:https://c.example/ee$' c3.torrent
	MF_CONFIG=$PWD/mf.conf run mf-torrent --no-date --web-seed "" -o c4.torrent b
	assert_equal "$(grep -c -a 'url-list' c4.torrent)" 0
	# none of it touches the infohash
	assert_equal "$(mf-infohash c1.torrent c3.torrent c4.torrent | cut -d' ' -f1 | sort -u | wc -l)" 1
}

@test "mf-torrent: a rerun with another comment, web seed or creator setting keeps the infohash" {
	mf_need transmission-show
	mf_tree_s9 seed/Book
	export MF_OUT_DIR="$PWD/out" MF_SEED_ROOT="$PWD/seed"
	rec="{\"id\":\"B1\",\"staging\":{\"dir\":\"$PWD/seed/Book\",\"name\":\"Book\"}}"
	t=out/Book/Book.torrent
	run mf-torrent <<<"$rec"
	assert_success
	ih=$(jq -r .torrent.infohash <<<"$output")
	# a comment set after the first run: not hashed again, same infohash, comment written
	MF_COMMENT="Narrated well" run mf-torrent <<<"$rec"
	assert_success
	assert_equal "$(jq -c '[.torrent.reused,.torrent.infohash]' <<<"$output")" "[true,\"$ih\"]"
	run transmission-show "$t"
	assert_line "  Comment: Narrated well"
	assert_line "  Hash: $ih"
	# the same settings again: the file is left as it is
	ino=$(stat -c %i "$t")
	MF_COMMENT="Narrated well" run mf-torrent <<<"$rec"
	assert_equal "$(stat -c %i "$t")" "$ino"
	# the comment unset again, a web seed, --no-creator: still the same torrent
	MF_WEB_SEEDS=https://w.example/ run mf-torrent --no-creator <<<"$rec"
	assert_equal "$(jq -c '[.torrent.reused,.torrent.infohash]' <<<"$output")" "[true,\"$ih\"]"
	assert_equal "$(grep -c -a -e '7:comment' -e 'created by' "$t")" 0
	grep -q '8:url-listl18:https://w.example/ee$' "$t"
	# the creation date of the first run stays; --no-date takes it out
	grep -q -a '13:creation datei' "$t"
	run mf-torrent --no-date <<<"$rec"
	assert_equal "$(grep -c -a 'creation date' "$t")" 0
	assert_equal "$(jq -r .torrent.infohash <<<"$output")" "$ih"
}

@test "mf-torrent: a rerun with --entropy or another name makes a new torrent; entropy is kept after" {
	mf_need transmission-show
	mf_tree_s9 seed/Book
	export MF_OUT_DIR="$PWD/out" MF_SEED_ROOT="$PWD/seed"
	rec="{\"id\":\"B1\",\"staging\":{\"dir\":\"$PWD/seed/Book\",\"name\":\"Book\"}}"
	run mf-torrent <<<"$rec"
	ih=$(jq -r .torrent.infohash <<<"$output")
	run mf-torrent --entropy <<<"$rec"
	assert_success
	assert_equal "$(jq -r .torrent.reused <<<"$output")" false
	ie=$(jq -r .torrent.infohash <<<"$output")
	[ "$ie" != "$ih" ]
	# a second --entropy run keeps the entropy drawn first: the infohash stays
	run mf-torrent --entropy <<<"$rec"
	assert_equal "$(jq -c '[.torrent.reused,.torrent.infohash]' <<<"$output")" "[true,\"$ie\"]"
	# without --entropy the torrent is made again without it: the first infohash
	run mf-torrent <<<"$rec"
	assert_equal "$(jq -c '[.torrent.reused,.torrent.infohash]' <<<"$output")" "[false,\"$ih\"]"
	# with a path, --name changes info.name: never the old torrent kept
	mf-torrent --no-date -o p.torrent seed/Book >/dev/null
	run mf-torrent --no-date --name Other -o p.torrent seed/Book
	assert_success
	run transmission-show p.torrent
	assert_line "  Name: Other"
	[ "$(mf_show_hash p.torrent)" != "$ih" ]
}

@test "mf-torrent: bad --name, --web-seed and option mixes are usage errors" {
	mf_pattern_file b/a.bin 100 1
	# the same options with good values work
	run mf-torrent --name Good --web-seed https://a.example/ --public -o good.torrent b
	assert_success
	for n in "" "a/b" "." ".."; do
		run --separate-stderr mf-torrent --name "$n" -o x.torrent b
		assert_equal "$status" 64
		[[ "$stderr" == *"--name must be a plain file or folder name"* ]]
	done
	run --separate-stderr mf-torrent --web-seed "https://a.example/ https://b.example/" b
	assert_equal "$status" 64
	[[ "$stderr" == *"--web-seed"*"white space"* ]]
	run --separate-stderr mf-torrent --private --public b
	assert_equal "$status" 64
	# one name for every record makes no sense in filter mode
	MF_OUT_DIR=$PWD/out run --separate-stderr mf-torrent --name X </dev/null
	assert_equal "$status" 64
	[ ! -e x.torrent ]
	# --dry-run belongs to --modify
	run --separate-stderr mf-torrent --dry-run b
	assert_equal "$status" 64
}
