#!/usr/bin/env bats
# mf-torrent: mktorrent 1.1 and transmission-show as oracles, reuse, check, failures.

load lib/common
load lib/mktree
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# Make DIR's torrent with mf-torrent -l EXP and compare with mktorrent and transmission-show.
same_as_mktorrent() {
	local dir=$1 exp=$2 want ours
	want=$(mf_mktorrent_hash "$dir" "$exp")
	[ -n "$want" ]
	rm -f ours.torrent
	run mf-torrent --no-date -l "$exp" -o ours.torrent "$dir"
	assert_success
	ours=$(mf-infohash ours.torrent | cut -d' ' -f1)
	assert_equal "$ours" "$want"
	assert_equal "$(mf_show_hash ours.torrent)" "$want"
	assert_output "$want  ours.torrent"
}

@test "mf-torrent: --help, --version, bad flags and bad values" {
	run mf-torrent --help
	assert_success
	assert_output --partial "usage: mf-torrent"
	run mf-torrent --version
	assert_success
	assert_output --partial "mamfast"
	run mf-torrent --bogus
	assert_equal "$status" 64
	run mf-torrent -l 15 x
	assert_equal "$status" 64
	run mf-torrent -l 28 x
	assert_equal "$status" 64
	run mf-torrent -j 0 x
	assert_equal "$status" 64
	run mf-torrent a b
	assert_equal "$status" 64
	run mf-torrent --check only-one
	assert_equal "$status" 64
}

@test "mf-torrent: the cross-check tree gives mktorrent's hash (automatic 32 KiB pieces)" {
	mf_need mktorrent transmission-show
	mf_tree_s9 Book
	run mf-torrent --no-date Book
	assert_success
	assert_output "4a753a11451fbf61bff1809e599339c28574d352  Book.torrent"
	assert_equal "$(mf_mktorrent_hash Book 15)" "4a753a11451fbf61bff1809e599339c28574d352"
	assert_equal "$(mf_show_hash Book.torrent)" "4a753a11451fbf61bff1809e599339c28574d352"
}

@test "mf-torrent: same infohash as mktorrent on varied trees" {
	mf_need mktorrent transmission-show
	# dotfiles, empty files, UTF-8 names, a.txt beside a/b, at 64 KiB pieces
	mf_tree_s9 s9
	same_as_mktorrent s9 16
	# one file in a folder (still multi-file), smaller than one piece
	mf_pattern_file one/only.m4b 1000 5
	same_as_mktorrent one 16
	# many pieces, with piece boundaries straddling several files of odd sizes
	for i in 1 2 3 4 5 6 7; do mf_pattern_file "many/part $i.mp3" $((65536 * i + 4097 * i)) "$i"; done
	mf_pattern_file many/z/tail.bin 3 9
	: >many/z/empty
	same_as_mktorrent many 16
	# nested folders, names that sort differently by case and punctuation
	mf_pattern_file deep/A/b/c.txt 70001 1
	mf_pattern_file deep/a/B/c.txt 1 2
	mf_pattern_file deep/a-b 65536 3
	mf_pattern_file deep/a_b 65535 4
	mf_pattern_file "deep/é/ß.txt" 131073 5
	same_as_mktorrent deep 17
}

@test "mf-torrent: a single file gives mktorrent's single-file torrent" {
	mf_need mktorrent transmission-show
	mf_pattern_file "Book – Part.m4b" 300001 7
	same_as_mktorrent "Book – Part.m4b" 16
	assert_equal "$(mf-infohash --json ours.torrent | jq -c '[.name,.files,.size]')" \
	    '["Book – Part.m4b",1,300001]'
	# --check takes the file itself, or a folder holding it
	run mf-torrent --check ours.torrent "Book – Part.m4b"
	assert_success
	assert_line "Completion: 100.00% (5/5 pieces)"
	run mf-torrent --check ours.torrent .
	assert_success
	run mf-torrent --check ours.torrent /nonexistent
	assert_equal "$status" 1
}

@test "mf-torrent: mkbrr's default exclusions and --exclude globs" {
	mf_need mktorrent transmission-show
	mf_tree_s9 full
	mkdir -p full/@eaDir full/sub/@EADIR full/extras
	for f in Thumbs.db .DS_Store desktop.ini old.torrent "x.mp3:Zone.Identifier" mythumbs.db \
	    @eaDir/meta sub/@EADIR/meta notes.nfo sub/NOTES.NFO extras/a.bin; do
		mf_pattern_file "full/$f" 100 1
	done
	mf_tree_s9 clean/full	# the same tree, same name, without the excluded names
	rm -f ours.torrent
	run mf-torrent --no-date -l 16 --exclude '*.nfo' --exclude 'extras/**,nothing' -o ours.torrent full
	assert_success
	assert_equal "$(mf-infohash ours.torrent | cut -d' ' -f1)" "$(mf_mktorrent_hash clean/full 16)"
	assert_equal "$(mf-infohash --json ours.torrent | jq -c '[.files,.size]')" "[7,290010]"
}

@test "mf-torrent: private, source and announce from the configuration; the passkey stays secret" {
	mf_need transmission-show
	mf_pattern_file b/a.bin 40000 1
	export MF_ANNOUNCE_URL="https://t.example/PASSKEY123/announce"
	run --separate-stderr mf-torrent --no-date -o t.torrent b
	assert_success
	refute_output --partial PASSKEY123
	[[ "$stderr" != *PASSKEY123* ]]
	run transmission-show t.torrent
	assert_output --partial "https://t.example/PASSKEY123/announce"
	assert_output --partial "Private torrent"
	grep -q '7:privatei1e6:source3:MAMe' t.torrent
	run mf-infohash --json t.torrent
	refute_output --partial PASSKEY123
	# several trackers give announce-list; MF_PRIVATE=0 still writes private i0e (as mkbrr)
	MF_ANNOUNCE_URL="https://a.example/1/announce https://b.example/2/announce" \
	    MF_PRIVATE=0 MF_SOURCE=XYZ run mf-torrent --no-date -o t2.torrent b
	assert_success
	run transmission-show t2.torrent
	assert_output --partial "Tier #2"
	assert_output --partial "https://b.example/2/announce"
	grep -q '7:privatei0e6:source3:XYZe' t2.torrent
	# --no-date makes the output reproducible; without it there is a creation date
	mf-torrent --no-date --force -o t3.torrent b >/dev/null
	mf-torrent --no-date --force -o t4.torrent b >/dev/null
	cmp t3.torrent t4.torrent
	assert_equal "$(grep -c -a 'creation date' t3.torrent)" 0
	mf-torrent -o t5.torrent b >/dev/null
	grep -q '13:creation datei' t5.torrent
	grep -q '10:created by13:mamfast/' t5.torrent
}

@test "mf-torrent --check: 100% on our torrent, a flipped byte and a missing file are found" {
	mf_need mktorrent
	mf_tree_s9 Book
	mf-torrent --no-date Book >/dev/null
	run mf-torrent --check Book.torrent Book
	assert_success
	assert_line "Completion: 100.00% (9/9 pieces)"
	# mktorrent's torrent verifies the same way
	mktorrent -p -s MAM -l 16 -o mk.torrent Book >/dev/null
	run mf-torrent --check mk.torrent Book
	assert_success
	assert_line "Good pieces: 5"
	# flip one byte of a.txt (content byte 70010 + 30000: piece 3 at 32 KiB pieces)
	printf '\xff' | dd of=Book/a.txt bs=1 seek=30000 conv=notrunc status=none
	run --separate-stderr mf-torrent --check Book.torrent Book
	assert_equal "$status" 1
	assert_line "Bad pieces: 1"
	assert_line "bad piece 3"
	[[ "$stderr" == *"verification failed"* ]]
	# a missing file: its pieces are missing, not bad; the others still verify
	rm "Book/B-upper.mp3"
	run mf-torrent --check Book.torrent Book
	assert_equal "$status" 1
	assert_line "missing file B-upper.mp3"
	assert_line "Missing files: 1"
	assert_line "Missing pieces: 2"
	# a torrent that is not bencode
	printf 'nope' >bad.torrent
	run mf-torrent --check bad.torrent Book
	assert_equal "$status" 65
}

@test "mf-torrent --check: a torrent path that climbs out of the folder is refused" {
	printf 'd4:infod5:filesld6:lengthi3e4:pathl2:..6:passwdeee4:name3:etc12:piece lengthi16384e6:pieces20:01234567890123456789ee' >evil.torrent
	mkdir -p etc
	run --separate-stderr mf-torrent --check evil.torrent etc
	assert_equal "$status" 1
	[[ "$stderr" == *"unsafe path"* ]]
}

@test "mf-torrent: filter mode writes OUT/<name>/<name>.torrent, reuses it, --force and --verify" {
	mf_need transmission-show
	mf_tree_s9 seed/Book
	export MF_OUT_DIR="$PWD/out" MF_SEED_ROOT="$PWD/seed"
	rec="{\"id\":\"B1\",\"staging\":{\"dir\":\"$PWD/seed/Book\",\"name\":\"Book\"},\"x\":1}"
	run --separate-stderr mf-torrent <<<"$rec"
	assert_success
	t=$(jq -c .torrent <<<"$output")
	assert_equal "$(jq -r .path <<<"$t")" "$PWD/out/Book/Book.torrent"
	assert_equal "$(jq -r .infohash <<<"$t")" "$(mf_show_hash out/Book/Book.torrent)"
	assert_equal "$(jq -c '[.piece_length,.pieces,.size,.file_count,.reused]' <<<"$t")" \
	    "[32768,9,290010,7,false]"
	assert_equal "$(jq -r .x <<<"$output")" 1
	ino=$(stat -c %i out/Book/Book.torrent)
	# a temporary file of a killed writer (its pid is gone) is swept, even on reuse
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	: >"out/Book/.Book.torrent.tmp.$dead.1"
	# and one of a killed writer not yet reaped (a zombie: the pid exists)
	mf_zombie
	: >"out/Book/.Book.torrent.tmp.$zpid.2"
	# second run: the same torrent, not rewritten, not rehashed
	run mf-torrent <<<"$rec"
	mf_zombie_end
	assert_success
	[ ! -e "out/Book/.Book.torrent.tmp.$dead.1" ]
	[ ! -e "out/Book/.Book.torrent.tmp.$zpid.2" ]
	assert_equal "$(jq -r .torrent.reused <<<"$output")" true
	assert_equal "$(jq -r .torrent.infohash <<<"$output")" "$(jq -r .infohash <<<"$t")"
	assert_equal "$(stat -c %i out/Book/Book.torrent)" "$ino"
	# --force hashes again
	run mf-torrent --force <<<"$rec"
	assert_equal "$(jq -r .torrent.reused <<<"$output")" false
	# same size, different bytes: reused without --verify, rebuilt with it
	printf '\x00' | dd of=seed/Book/a.txt bs=1 seek=5 conv=notrunc status=none
	run mf-torrent <<<"$rec"
	assert_equal "$(jq -r .torrent.reused <<<"$output")" true
	run --separate-stderr mf-torrent --verify <<<"$rec"
	assert_success
	assert_equal "$(jq -r .torrent.reused <<<"$output")" false
	[[ "$stderr" == *"do not match"* ]]
	run mf-torrent --check out/Book/Book.torrent seed/Book
	assert_success
	# a passkey set after the first run: the reused torrent gets the announce, same infohash
	ih=$(mf-infohash out/Book/Book.torrent | cut -d' ' -f1)
	MF_ANNOUNCE_URL="https://t.example/NEWKEY/announce" run --separate-stderr mf-torrent <<<"$rec"
	assert_success
	refute_output --partial NEWKEY
	assert_equal "$(jq -r .torrent.reused <<<"$output")" true
	assert_equal "$(jq -r .torrent.infohash <<<"$output")" "$ih"
	run transmission-show out/Book/Book.torrent
	assert_output --partial "https://t.example/NEWKEY/announce"
	assert_output --partial "$ih"
	# a new file changes the layout: rebuilt, new hash
	old=$(mf-infohash out/Book/Book.torrent | cut -d' ' -f1)
	mf_pattern_file seed/Book/new.jpg 10 1
	run mf-torrent <<<"$rec"
	assert_equal "$(jq -r .torrent.reused <<<"$output")" false
	assert_equal "$(jq -r .torrent.file_count <<<"$output")" 8
	[ "$(jq -r .torrent.infohash <<<"$output")" != "$old" ]
}

@test "mf-torrent: bad inputs fail their own record and the next record is still made" {
	export MF_OUT_DIR="$PWD/out" MF_SEED_ROOT="$PWD/seed"
	mf_pattern_file seed/Good/a.bin 1000 1
	mkdir -p seed/Empty seed/OnlyEmpty
	: >seed/OnlyEmpty/zero.txt
	mf_pattern_file seed/Leak/a.bin 10 1
	ln -s /etc/hostname seed/Leak/outside
	mf_pattern_file seed/Inner/a.bin 40000 1
	ln -s a.bin seed/Inner/link.bin
	: >notadir
	run --separate-stderr mf-torrent <<EOF
{"id":"missing","staging":{"dir":"$PWD/seed/Nope","name":"Nope"}}
{"id":"empty","staging":{"dir":"$PWD/seed/Empty","name":"Empty"}}
{"id":"onlyempty","staging":{"dir":"$PWD/seed/OnlyEmpty","name":"OnlyEmpty"}}
{"id":"leak","staging":{"dir":"$PWD/seed/Leak","name":"Leak"}}
{"id":"badname","staging":{"dir":"$PWD/seed/Good","name":"../x"}}
{"id":"nostaging"}
{"id":"good","staging":{"dir":"$PWD/seed/Good","name":"Good"}}
{"id":"inner","staging":{"dir":"$PWD/seed/Inner","name":"Inner"}}
EOF
	assert_equal "$status" 1
	assert_equal "$(jq -r '.error.stage // "-"' <<<"$output" | tr '\n' ' ')" \
	    "torrent torrent torrent torrent torrent - - - "
	[[ "$(sed -n 1p <<<"$output" | jq -r .error.message)" == *"No such file"* ]]
	[[ "$(sed -n 2p <<<"$output" | jq -r .error.message)" == *"no files or only empty files"* ]]
	[[ "$(sed -n 3p <<<"$output" | jq -r .error.message)" == *"no files or only empty files"* ]]
	[[ "$(sed -n 4p <<<"$output" | jq -r .error.message)" == *"symlink outside points outside"* ]]
	[[ "$stderr" == *"leak: symlink outside points outside"* ]]
	assert_equal "$(sed -n 6p <<<"$output")" '{"id":"nostaging"}'
	assert_equal "$(sed -n 7p <<<"$output" | jq -r .torrent.file_count)" 1
	# a symlink inside the folder is followed (its target's bytes, its own name)
	assert_equal "$(sed -n 8p <<<"$output" | jq -c '[.torrent.file_count,.torrent.size]')" "[2,80000]"
	[ ! -e out/Nope ]
	[ ! -e out/Leak/Leak.torrent ]
	[ ! -e out/Empty/Empty.torrent ]
	# an output folder that cannot be made: an error on the record, nothing half-written
	MF_OUT_DIR="$PWD/notadir" run --separate-stderr mf-torrent <<<"{\"id\":\"g\",\"staging\":{\"dir\":\"$PWD/seed/Good\",\"name\":\"Good\"}}"
	assert_equal "$status" 1
	[[ "$(jq -r .error.message <<<"$output")" == *"cannot create folder"* ]]
	# a staged folder outside MF_SEED_ROOT is not hashed, named directly or through a link
	mkdir -p elsewhere
	cp -r seed/Good elsewhere/
	ln -s "$PWD/elsewhere/Good" seed/Linked
	run --separate-stderr mf-torrent <<EOF
{"id":"out","staging":{"dir":"$PWD/elsewhere/Good","name":"Good2"}}
{"id":"linked","staging":{"dir":"$PWD/seed/Linked","name":"Linked"}}
EOF
	assert_equal "$status" 1
	assert_equal "$(jq -r '.error.message' <<<"$output" | grep -c 'lies outside MF_SEED_ROOT')" 2
	[ ! -e out/Good2 ] && [ ! -e out/Linked ]
	# without MF_OUT_DIR or MF_SEED_ROOT filter mode cannot work at all
	MF_SEED_ROOT= run --separate-stderr mf-torrent </dev/null
	assert_equal "$status" 78
	[[ "$stderr" == *MF_SEED_ROOT* ]]
	unset MF_OUT_DIR
	run mf-torrent </dev/null
	assert_equal "$status" 78
}

@test "mf-torrent: an unreadable file is an error on the record" {
	# As root permissions stop nothing, so the run itself is made as nobody (setpriv),
	# with a copy of the program nobody can reach wherever the checkout is.
	local mf d rc
	mf=$(command -v mf-torrent)
	d=$(mktemp -d /tmp/mf-unreadable.XXXXXX)
	chmod 755 "$d"
	if [ "$(id -u)" -eq 0 ]; then
		mf=$(mf_nobody_copy "$mf" "$d/bin")
	fi
	mkdir -p "$d/seed/X" "$d/out"
	chmod 777 "$d/out"
	printf 'readable' >"$d/seed/X/b.bin"
	printf 'secret' >"$d/seed/X/a.bin"
	chmod 000 "$d/seed/X/a.bin"
	rec="{\"id\":\"x\",\"staging\":{\"dir\":\"$d/seed/X\",\"name\":\"X\"}}"
	if [ "$(id -u)" -eq 0 ]; then
		run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		    env MF_OUT_DIR="$d/out" MF_SEED_ROOT="$d/seed" MF_CONFIG=/dev/null "$mf" <<<"$rec"
	else
		MF_OUT_DIR="$d/out" MF_SEED_ROOT="$d/seed" run --separate-stderr "$mf" <<<"$rec"
	fi
	rc=$status
	[ ! -e "$d/out/X/X.torrent" ] || { rm -rf "$d"; false; }
	rm -rf "$d"
	assert_equal "$rc" 1
	[[ "$(jq -r .error.message <<<"$output")" == *"cannot open a.bin: Permission denied"* ]]
	[[ "$stderr" == *"x: cannot open a.bin"* ]]
}

@test "mf-torrent: thousands of files under a 24-descriptor limit" {
	mf_tree_many many 3000 7
	run sh -c 'ulimit -n 24 && mf-torrent --no-date -j 2 -o many.torrent many'
	assert_success
	run mf-torrent --check many.torrent many
	assert_success
	assert_line --partial "Completion: 100.00%"
	assert_equal "$(mf-infohash --json many.torrent | jq .files)" 3000
}

@test "mf-torrent: kill -9 while hashing leaves nothing at the target; a rerun makes it" {
	mkdir big
	truncate -s 3G big/sparse.bin	# zeros that read at memory speed, no disk needed
	mf-torrent -j 1 -o big.torrent big >/dev/null 2>&1 &
	pid=$!
	sleep 0.4
	kill -9 "$pid"	# fails (and so the test) when it had already finished
	wait "$pid" || true
	[ ! -e big.torrent ]
	run mf-torrent -o big.torrent big
	assert_success
	[ -s big.torrent ]
	assert_equal "$(ls -A | grep -c '\.tmp\.')" 0
	assert_equal "$(mf-infohash --json big.torrent | jq -c '[.piece_length,.pieces]')" "[2097152,1536]"
}

@test "mf-torrent: --progress draws a bar with rate on stderr; nothing without it" {
	mf_pattern_file p/a.bin 100000 1
	run --separate-stderr mf-torrent --progress -o p.torrent p
	assert_success
	[[ "$stderr" == *"hashing ["*"100%"*"/s"* ]]
	run --separate-stderr mf-torrent --force -o p.torrent p
	assert_equal "$stderr" ""
}

@test "mf-torrent: the man page renders without warnings" {
	run env LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MF_ROOT/man/mf-torrent.1"
	assert_success
	assert_output --partial "mf-torrent"
	run sh -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$MF_ROOT/man/mf-torrent.1' 2>&1 >/dev/null"
	assert_output ""
}

@test "mf-torrent: MF_ANNOUNCE_URL_FILE with one URL a line gives announce-list, as white space does" {
	mf_need transmission-show
	mf_pattern_file b/a.bin 40000 1
	printf 'https://a.example/PASS1/announce\nhttps://b.example/PASS2/announce\n' >ann
	run --separate-stderr env MF_ANNOUNCE_URL_FILE="$PWD/ann" mf-torrent --no-date -o t.torrent b
	assert_success
	refute_output --partial PASS
	run transmission-show t.torrent
	assert_output --partial "Tier #2"
	assert_output --partial "https://b.example/PASS2/announce"
	# An empty file is a configuration error, as before.
	: >empty
	run --separate-stderr env MF_ANNOUNCE_URL_FILE="$PWD/empty" mf-torrent --no-date -o t2.torrent b
	assert_equal "$status" 78
}

@test "mf-torrent: a malformed announce URL in MF_ANNOUNCE_URL or any line of MF_ANNOUNCE_URL_FILE is exit 78 naming the key and line, never the passkey" {
	local u ctl
	mf_pattern_file b/a.bin 40000 1
	ctl=$(printf 'https://t.test/SECRET\001KEY')
	for u in "$ctl" "https:///SECRETKEY" "https://[t.test/SECRETKEY" "https://t.test:99999/SECRETKEY" \
	    "foo://t.test/SECRETKEY" "https://user:SECRETKEY@t.test/x" "udp://t.test/SECRETKEY"; do
		run --separate-stderr env MF_ANNOUNCE_URL="$u" mf-torrent --no-date -o t.torrent b
		assert_equal "$status" 78
		[[ "$stderr" == "mf-torrent: MF_ANNOUNCE_URL: "*"(the value is not shown: it holds the passkey)" ]]
		[[ "$stderr$output" != *SECRET* ]]
		[ ! -e t.torrent ]
		# the same URL as the third line of a file, after a good one and a blank line
		printf 'https://good.test/SECRETA/announce\n\n%s\n' "$u" >ann
		run --separate-stderr env MF_ANNOUNCE_URL_FILE="$PWD/ann" mf-torrent --no-date -o t.torrent b
		assert_equal "$status" 78
		[[ "$stderr" == "mf-torrent: MF_ANNOUNCE_URL_FILE $PWD/ann line 3: "* ]]
		[[ "$stderr$output" != *SECRET* ]]
		[ ! -e t.torrent ]
	done
	# two URLs on one line of the file (they would be two trackers of one tier)
	printf 'https://a.test/SECRETA/announce https://b.test/SECRETB/announce\n' >ann
	run --separate-stderr env MF_ANNOUNCE_URL_FILE="$PWD/ann" mf-torrent --no-date -o t.torrent b
	assert_equal "$status" 78
	[[ "$stderr" == *"line 1: two words on one line"* && "$stderr" != *SECRET* ]]
	# good ones pass, CRLF lines too; --check-announce says how many without showing them
	printf 'https://a.test/SECRETA/announce\r\n  udp://[2001:db8::1]:6969/SECRETB \r\n' >ann
	run --separate-stderr env MF_ANNOUNCE_URL_FILE="$PWD/ann" mf-torrent --check-announce
	assert_success
	assert_output "2 announce URLs well formed"
	run --separate-stderr env MF_ANNOUNCE_URL_FILE="$PWD/ann" mf-torrent --no-date -o t.torrent b
	assert_success
	run --separate-stderr env MF_ANNOUNCE_URL="https://t.test:99999/SECRETKEY" mf-torrent --check-announce
	assert_equal "$status" 78
	[[ "$stderr" != *SECRET* ]]
}
