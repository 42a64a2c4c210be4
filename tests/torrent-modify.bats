#!/usr/bin/env bats
# mf-torrent --modify: rewrite a torrent without its data; fresh creation, mktorrent,
# transmission-create and an independent Python encoder as oracles.

load lib/common
load lib/mktree
load lib/metainfo
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
	version=$(sed -n 's/^VERSION *= *//p' "$MF_ROOT/Makefile")
}

@test "mf-torrent --modify: byte for byte what a fresh creation with the same settings gives" {
	mf_need mktorrent transmission-show
	mf_tree_s9 Book
	mktorrent -p -s MAM -l 15 -a "https://t.example/OLDKEY/announce" -c "old comment" \
	    -o mk.torrent Book >/dev/null
	mk=$(mf_show_hash mk.torrent)
	export MF_ANNOUNCE_URL="https://t.example/NEWKEY/announce"
	# the data is not needed, nor read
	mv Book Book.away
	# only the outer keys change: the infohash stays mktorrent's
	run --separate-stderr mf-torrent --modify mk.torrent -o same.torrent --no-date
	assert_success
	assert_output "$mk  same.torrent"
	[[ "$output$stderr" != *KEY* ]]
	run transmission-show same.torrent
	assert_line "  https://t.example/NEWKEY/announce"
	refute_output --partial OLDKEY
	assert_line "  Comment: old comment"
	assert_line "  Created by: mamfast/$version"
	# info keys changed: pieces reused, the torrent a fresh creation gives
	run mf-torrent --modify mk.torrent -o mod.torrent --no-date -s XYZ --public \
	    --comment "New – comment" --web-seed https://w.example/ --name "New Name"
	assert_success
	mv Book.away Book
	mf-torrent --no-date --comment "old comment" -o fresh0.torrent Book >/dev/null
	cmp same.torrent fresh0.torrent
	run mf-torrent --no-date -s XYZ --public --comment "New – comment" --web-seed https://w.example/ \
	    --name "New Name" -o fresh.torrent Book
	assert_success
	cmp mod.torrent fresh.torrent
	[ "$(mf_show_hash mod.torrent)" != "$mk" ]
	run mf-torrent --check mod.torrent Book
	assert_success
	assert_line "Completion: 100.00% (9/9 pieces)"
}

@test "mf-torrent --modify -s and --name give mktorrent's infohash for its -s and -n" {
	mf_need mktorrent transmission-show
	mf_tree_s9 Book
	mf_pattern_file one.m4b 200000 3
	# no -p: mktorrent writes no private key, and --modify keeps it absent
	mktorrent -l 15 -o plain.torrent Book >/dev/null
	mktorrent -l 15 -s XYZ -n Renamed -o want.torrent Book >/dev/null
	run mf-torrent --modify plain.torrent -o got.torrent -s XYZ --name Renamed
	assert_success
	assert_output "$(mf_show_hash want.torrent)  got.torrent"
	# a single-file torrent
	mktorrent -p -l 16 -o one.torrent one.m4b >/dev/null
	mktorrent -p -l 16 -s MAM -n two.m4b -o two.torrent one.m4b >/dev/null
	run mf-torrent --modify one.torrent -o got2.torrent -s MAM --name two.m4b
	assert_success
	assert_output "$(mf_show_hash two.torrent)  got2.torrent"
	# -p on a public torrent, and -s "" takes the source out again
	mktorrent -p -l 15 -o priv.torrent Book >/dev/null
	run mf-torrent --modify want.torrent -o p.torrent -p -s "" --name Book
	assert_success
	assert_output "$(mf_show_hash priv.torrent)  p.torrent"
}

@test "mf-torrent --modify keeps the keys it does not write (transmission-create's torrent)" {
	mf_need transmission-create transmission-show
	mf_tree_s9 Book
	transmission-create -c "tc comment" -o tc.torrent Book >/dev/null
	tc=$(mf_show_hash tc.torrent)
	run mf-torrent --modify tc.torrent -o m1.torrent --no-date
	assert_success
	assert_output "$tc  m1.torrent"
	assert_equal "$(mf_py_info m1.torrent keys | tr '\n' ' ')" "comment created by encoding info "
	grep -q -a '8:encoding5:UTF-8' m1.torrent
	# an info key set: the rest of info as it was, the new key in sorted place
	run mf-torrent --modify tc.torrent -o m2.torrent -s XYZ
	assert_success
	assert_output "$(mf_py_info tc.torrent set source XYZ)  m2.torrent"
	run mf-torrent --modify tc.torrent -o m3.torrent --private --name Other
	assert_success
	assert_output "$(mf_py_info tc.torrent set private i1 name Other)  m3.torrent"
	run transmission-show m3.torrent
	assert_line "  Name: Other"
	assert_line "  Privacy: Private torrent"
}

@test "mf-torrent --modify in place: atomic, mode kept, untouched when nothing changes" {
	mf_pattern_file b/a.bin 40000 1
	mf-torrent --no-date -o t.torrent b >/dev/null
	ih=$(mf-infohash t.torrent | cut -d' ' -f1)
	chmod 600 t.torrent
	ino=$(stat -c %i t.torrent)
	run mf-torrent --modify t.torrent --no-date --comment hi
	assert_success
	assert_output "$ih  t.torrent"
	[ "$(stat -c %i t.torrent)" != "$ino" ]		# a new file renamed over the old
	assert_equal "$(stat -c %a t.torrent)" 600
	grep -q -a '7:comment2:hi' t.torrent
	ino=$(stat -c %i t.torrent)
	run mf-torrent --modify t.torrent --no-date
	assert_success
	assert_equal "$(stat -c %i t.torrent)" "$ino"
	assert_equal "$(ls -A | grep -c '\.tmp\.')" 0
	# -o adds .torrent when missing, as in creation
	run mf-torrent --modify t.torrent --no-date -o renamed
	assert_success
	assert_output "$ih  renamed.torrent"
	cmp t.torrent renamed.torrent
	# a symlink is not replaced by a file: -o is needed
	ln -s t.torrent link.torrent
	run --separate-stderr mf-torrent --modify link.torrent --comment x
	assert_equal "$status" 1
	[[ "$stderr" == *"link.torrent"*"symlink"* ]]
	[ -L link.torrent ]
	# stdin needs -o
	run mf-torrent --modify - --comment x <t.torrent
	assert_equal "$status" 64
	run mf-torrent --modify - -o fromstdin.torrent --no-date <t.torrent
	assert_success
	cmp fromstdin.torrent t.torrent
}

@test "mf-torrent --modify --dry-run says what would change, old and new infohash, writes nothing" {
	mf_need mktorrent
	mf_tree_s9 Book
	mktorrent -p -s MAM -l 15 -a "https://t.example/OLDKEY/announce" -c "old" -o mk.torrent Book >/dev/null
	cp mk.torrent before.torrent
	MF_ANNOUNCE_URL="https://t.example/NEWKEY/announce" \
	    mf-torrent --modify mk.torrent -o real.torrent -s XYZ --comment new --no-date >/dev/null
	old=$(mf-infohash mk.torrent | cut -d' ' -f1)
	new=$(mf-infohash real.torrent | cut -d' ' -f1)
	[ "$old" != "$new" ]
	rm real.torrent
	MF_ANNOUNCE_URL="https://t.example/NEWKEY/announce" run --separate-stderr \
	    mf-torrent --modify mk.torrent -o real.torrent --dry-run -s XYZ --comment new --no-date
	assert_success
	[[ "$output$stderr" != *KEY* ]]
	assert_line 'source: "MAM" -> "XYZ"'
	assert_line 'comment: "old" -> "new"'
	assert_line --regexp '^announce: changed'
	assert_line "created by: \"mktorrent 1.1\" -> \"mamfast/$version\""
	assert_line --regexp '^creation date: [0-9]+ -> none$'
	assert_line "infohash: $old -> $new"
	assert_equal "${#lines[@]}" 6
	cmp mk.torrent before.torrent
	[ ! -e real.torrent ]
	# nothing to change
	mf-torrent --no-date -o ours.torrent Book >/dev/null
	run mf-torrent --modify ours.torrent --dry-run --no-date
	assert_success
	ih=$(mf-infohash ours.torrent | cut -d' ' -f1)
	assert_output "no change
infohash: $ih -> $ih"
	# with no announce configured, the old one is kept
	run mf-torrent --modify mk.torrent --dry-run --no-date -s MAM --comment old --no-creator
	assert_output "created by: \"mktorrent 1.1\" -> none
creation date: $(mf_py_info mk.torrent get "creation date") -> none
infohash: $old -> $old"
}

@test "mf-torrent --modify: announce from MF_ANNOUNCE_URL_FILE; --entropy drawn once" {
	mf_need transmission-show
	mf_pattern_file b/a.bin 40000 1
	mf-torrent --no-date -o t.torrent b >/dev/null
	ih=$(mf-infohash t.torrent | cut -d' ' -f1)
	printf 'https://a.example/PASS1/announce\nhttps://b.example/PASS2/announce\n' >ann
	MF_ANNOUNCE_URL_FILE=$PWD/ann run --separate-stderr mf-torrent --modify t.torrent --no-date
	assert_success
	[[ "$output$stderr" != *PASS* ]]
	run transmission-show t.torrent
	assert_output --partial "Tier #2"
	assert_output --partial "https://b.example/PASS2/announce"
	# no option takes a URL for the announce: it holds the passkey
	run mf-torrent --modify t.torrent -a https://x.example/
	assert_equal "$status" 64
	run mf-torrent --modify t.torrent --announce https://x.example/
	assert_equal "$status" 64
	run mf-torrent --modify t.torrent --no-date --entropy
	assert_success
	ie=$(mf-infohash t.torrent | cut -d' ' -f1)
	[ "$ie" != "$ih" ]
	[[ "$(mf_py_info t.torrent entropy)" =~ ^[0-9a-f]{64}$ ]]
	assert_equal "$(mf_py_info t.torrent plain)" "$ih"
	run mf-torrent --modify t.torrent --no-date --entropy
	assert_output "$ie  t.torrent"
}

@test "mf-torrent --modify: bad torrents are exit 65, bad option mixes 64, an unwritable output 1" {
	mf_pattern_file b/a.bin 40000 1
	mf-torrent --no-date -o t.torrent b >/dev/null
	run --separate-stderr mf-torrent --modify missing.torrent
	assert_equal "$status" 65
	[[ "$stderr" == *"missing.torrent"* ]]
	printf 'd4:infod6:lengthi03eee' >bad.torrent
	run --separate-stderr mf-torrent --modify bad.torrent
	assert_equal "$status" 65
	[[ "$stderr" == *"bad.torrent: byte 16: leading zero in integer"* ]]
	printf 'd4:infod4:name1:xee' >noinfo.torrent
	run --separate-stderr mf-torrent --modify noinfo.torrent
	assert_equal "$status" 65
	cmp noinfo.torrent <(printf 'd4:infod4:name1:xee')
	for o in "b" "-l 16" "-m 20" "-j 2" "--exclude x" "--force" "--verify" "--check t.torrent"; do
		# shellcheck disable=SC2086
		run mf-torrent --modify t.torrent $o
		assert_equal "$status" 64
	done
	run mf-torrent --modify t.torrent --name a/b
	assert_equal "$status" 64
	run --separate-stderr mf-torrent --modify t.torrent -o /nonexistent/dir/x.torrent --comment x
	assert_equal "$status" 1
	[[ "$stderr" == *"/nonexistent/dir/x.torrent"* ]]
}
