#!/usr/bin/env bats
# mf-infohash: against transmission-show, mktorrent and Python's hashlib as oracles.

load lib/common
load lib/mktree
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# SHA-1 (or $2) of the exact bytes of the top-level info value, found by a tiny
# independent bencode walker in Python.
py_info_hash() {
	python3 - "$1" "${2:-sha1}" <<'PY'
import hashlib, sys
b = open(sys.argv[1], "rb").read()
def skip(i):
    c = b[i:i+1]
    if c == b"i": return b.index(b"e", i) + 1
    if c in (b"l", b"d"):
        i += 1
        while b[i:i+1] != b"e": i = skip(i)
        return i + 1
    j = b.index(b":", i); return j + 1 + int(b[i:j])
i = 1
while b[i:i+1] != b"e":
    j = b.index(b":", i); k = b[j+1:j+1+int(b[i:j])]; v = j + 1 + int(b[i:j]); e = skip(v)
    if k == b"info": print(hashlib.new(sys.argv[2], b[v:e]).hexdigest()); break
    i = e
PY
}

@test "mf-infohash: --help, --version and a bad flag" {
	run mf-infohash --help
	assert_success
	assert_output --partial "usage: mf-infohash"
	run mf-infohash -V
	assert_success
	assert_output --partial "mamfast"
	run mf-infohash --bogus
	assert_equal "$status" 64
	run mf-infohash
	assert_equal "$status" 64
}

@test "mf-infohash: agrees with transmission-show and the known hash of the cross-check tree" {
	mf_need mktorrent transmission-show
	mf_tree_s9 Book
	mktorrent -p -s MAM -l 15 -d -o book.torrent Book >/dev/null
	run mf-infohash book.torrent
	assert_success
	assert_output "4a753a11451fbf61bff1809e599339c28574d352  book.torrent"
	assert_equal "$(mf_show_hash book.torrent)" "4a753a11451fbf61bff1809e599339c28574d352"
}

@test "mf-infohash: several files, stdin, and a bad file in the middle (exit 65, others done)" {
	mf_need mktorrent transmission-show
	mf_pattern_file one/a.bin 5000 1
	mf_pattern_file two.bin 70000 2
	mktorrent -l 15 -o one.torrent one >/dev/null
	mktorrent -l 15 -p -o two.torrent two.bin >/dev/null
	printf 'd4:infod4:name1:x1:ni01eee' >bad.torrent
	run --separate-stderr mf-infohash one.torrent bad.torrent two.torrent
	assert_equal "$status" 65
	assert_line --index 0 "$(mf_show_hash one.torrent)  one.torrent"
	assert_line --index 1 "$(mf_show_hash two.torrent)  two.torrent"
	[[ "$stderr" == *"bad.torrent: byte 20: leading zero in integer"* ]]
	run mf-infohash - <two.torrent
	assert_success
	assert_output "$(mf_show_hash two.torrent)  -"
	run mf-infohash missing.torrent
	assert_equal "$status" 65
}

@test "mf-infohash: hashes the raw info bytes, even with keys out of order" {
	# info with keys out of order and an extra key: re-encoding would change the hash.
	printf 'd8:announce5:x/y/z4:infod4:name3:abc6:lengthi3e12:piece lengthi16384e6:pieces20:012345678901234567892:zzi1eee' >raw.torrent
	printf 'd4:infod6:lengthi3e4:name3:abc12:piece lengthi16384e6:pieces20:01234567890123456789ee' >sorted.torrent
	run mf-infohash raw.torrent sorted.torrent
	assert_success
	assert_line --index 0 "$(py_info_hash raw.torrent)  raw.torrent"
	assert_line --index 1 "$(py_info_hash sorted.torrent)  sorted.torrent"
	# --strict refuses the unsorted one and names the byte.
	run --separate-stderr mf-infohash --strict raw.torrent
	assert_equal "$status" 65
	[[ "$stderr" == *"raw.torrent: byte 36: dict keys out of sorted order"* ]]
	run mf-infohash --strict sorted.torrent
	assert_success
}

@test "mf-infohash: each bencode rejection rule gives exit 65 with the byte offset" {
	local body='4:infod6:lengthi3e4:name1:x12:piece lengthi16384e6:pieces20:01234567890123456789e'
	printf 'd%se' "$body" >good.torrent
	run mf-infohash good.torrent
	assert_success
	check() {	# bytes, expected message
		printf '%s' "$1" >t.torrent
		run --separate-stderr mf-infohash t.torrent
		assert_equal "$status" 65
		[[ "$stderr" == *"$2"* ]] || { echo "input $1: stderr $stderr, want $2"; return 1; }
	}
	check "d${body}ex" "byte 83: trailing garbage"
	check "d${body}" "byte 82: truncated input in dict"
	check "d4:infod6:lengthi03e4:name1:xee" "byte 16: leading zero in integer"
	check "d4:infod6:lengthi-0e4:name1:xee" "byte 16: negative zero"
	check "d4:infod6:lengthi99999999999999999999e4:name1:xee" "byte 16: integer overflows"
	check "d4:infod6:lengthi3e04:name1:xee" "byte 19: leading zero in string length"
	check "d4:infod6:lengthi3e4:name99999999999999999999999:xee" "byte 25: string length overflows"
	check "d4:infod6:lengthi3e4:name9:xee" "byte 25: string length runs past the end"
	check "d4:infod4:name1:x4:name1:yee" "byte 17: duplicate dict key"
	check "d4:infodi1ei2eee" "byte 8: dict key is not a string"
	check "$(printf 'd1:x%0.sl' $(seq 70))" "nesting deeper than the limit"
	check "d4:infoi3ee" "byte 0: no info dictionary"
	check "" "byte 0: empty input"
}

@test "mf-infohash: --json carries the fields and never the announce URL" {
	mf_need mktorrent
	mf_tree_s9 Book
	mktorrent -p -s MAM -l 15 -d -a "https://t.example/SECRETPASSKEY/announce" -o book.torrent Book >/dev/null
	run mf-infohash --json book.torrent
	assert_success
	refute_output --partial SECRETPASSKEY
	assert_equal "$(jq -r .infohash <<<"$output")" "4a753a11451fbf61bff1809e599339c28574d352"
	assert_equal "$(jq -c '[.name,.piece_length,.pieces,.size,.files,.private,.source]' <<<"$output")" \
	    '["Book",32768,9,290010,7,true,"MAM"]'
}

@test "mf-infohash: --v2 prints the SHA-256 of info for a meta version 2 torrent" {
	printf 'd4:infod9:file treed1:ad0:d6:lengthi5e11:pieces root32:01234567890123456789012345678901eee12:meta versioni2e4:name1:x12:piece lengthi16384eee' >v2.torrent
	run mf-infohash --v2 v2.torrent
	assert_success
	assert_line --index 0 "$(py_info_hash v2.torrent)  v2.torrent"
	assert_line --index 1 "$(py_info_hash v2.torrent sha256)  v2.torrent"
	run mf-infohash --json v2.torrent
	assert_equal "$(jq -r .infohash_v2 <<<"$output")" "$(py_info_hash v2.torrent sha256)"
	assert_equal "$(jq -c '[.files,.size]' <<<"$output")" "[1,5]"
}

@test "mf-infohash --records: sets torrent.infohash, passes others, fails bad files" {
	mf_need mktorrent transmission-show
	mf_pattern_file one/a.bin 5000 1
	mktorrent -l 15 -o one.torrent one >/dev/null
	printf 'garbage' >bad.torrent
	run --separate-stderr mf-infohash --records <<EOF
{"id":"A","torrent":{"path":"$PWD/one.torrent","keep":1}}
{"id":"B","other":true}
{"id":"C","torrent":{"path":"$PWD/bad.torrent"}}
{"id":"D","error":{"stage":"scan","message":"x","retryable":false}}
EOF
	assert_equal "$status" 1
	assert_equal "$(sed -n 1p <<<"$output" | jq -c .torrent)" \
	    "{\"path\":\"$PWD/one.torrent\",\"keep\":1,\"infohash\":\"$(mf_show_hash one.torrent)\"}"
	assert_equal "$(sed -n 2p <<<"$output")" '{"id":"B","other":true}'
	assert_equal "$(sed -n 3p <<<"$output" | jq -r .error.stage)" torrent
	[[ "$(sed -n 3p <<<"$output" | jq -r .error.message)" == *"bad.torrent: byte 0"* ]]
	assert_equal "$(sed -n 4p <<<"$output" | jq -r .error.stage)" scan
	[[ "$stderr" == *"C: "*"bad.torrent"* ]]
}

@test "mf-infohash: the man page renders without warnings" {
	run env LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MF_ROOT/man/mf-infohash.1"
	assert_success
	assert_output --partial "mf-infohash"
	run sh -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$MF_ROOT/man/mf-infohash.1' 2>&1 >/dev/null"
	assert_output ""
}

# What --files should print for the torrent of DIR made with 2^EXP pieces, from the tree on
# disk: files sorted bytewise, their sizes, and the pieces each one spans.
files_from_disk() {
	local dir=$1 plen=$((1 << $2))
	(cd "$dir" && find . -type f -printf '%s\t%P\n' | LC_ALL=C sort -t "$(printf '\t')" -k2) |
	    awk -F'\t' -v p="$plen" '{
		if ($1 == 0) first = last = "-"; else { first = int(off / p); last = int((off + $1 - 1) / p) }
		printf "file\t%s\t%s\t%s\t%s\n", $1, first, last, $2; off += $1 }'
}

@test "mf-infohash --files: one tab-separated line a file, as on disk and in transmission-show" {
	mf_need mktorrent transmission-show
	mf_tree_s9 Book
	mf_pattern_file "Book/z/last.bin" 70000 9
	mktorrent -p -s MAM -l 15 -o book.torrent Book >/dev/null
	ih=$(mf_show_hash book.torrent)
	run mf-infohash --files book.torrent
	assert_success
	tab=$(printf '\t')
	assert_line --index 0 "torrent${tab}${ih}${tab}32768${tab}11${tab}360010${tab}8${tab}Book"
	assert_equal "$(sed 1d <<<"$output")" "$(files_from_disk Book 15)"
	# the same paths as transmission-show lists under FILES
	assert_equal "$(sed 1d <<<"$output" | cut -f5 | LC_ALL=C sort)" \
	    "$(transmission-show book.torrent | sed -n 's/^  Book\/\(.*\) ([0-9.]* [kMG]*B)$/\1/p' | LC_ALL=C sort)"
	# a single-file torrent: one file, named as the torrent
	mf_pattern_file "One – file.m4b" 100000 2
	mktorrent -l 16 -o one.torrent "One – file.m4b" >/dev/null
	run mf-infohash --files one.torrent
	assert_success
	assert_output "torrent${tab}$(mf_show_hash one.torrent)${tab}65536${tab}2${tab}100000${tab}1${tab}One – file.m4b
file${tab}100000${tab}0${tab}1${tab}One – file.m4b"
	# several torrents one after the other; a bad one in the middle is exit 65
	printf 'garbage' >bad.torrent
	run --separate-stderr mf-infohash --files one.torrent bad.torrent book.torrent
	assert_equal "$status" 65
	assert_equal "$(grep -c '^torrent' <<<"$output")" 2
	assert_equal "${#lines[@]}" 11
}

@test "mf-infohash --files escapes tabs, newlines and backslashes so that a line stays a file" {
	mkdir d
	printf 'x' >"d/a$(printf '\t')b"
	printf 'yy' >"d/c
d"
	printf 'zzz' >'d/e\f'
	printf 'w' >"d/$(printf 'bad\377byte')"
	mf-torrent --no-date -o d.torrent d >/dev/null
	run mf-infohash --files d.torrent
	assert_success
	assert_equal "${#lines[@]}" 5
	assert_line --index 1 "$(printf 'file\t1\t0\t0\ta\\tb')"
	assert_line --index 2 "$(printf 'file\t1\t0\t0\tbad\\xFFbyte')"
	assert_line --index 3 "$(printf 'file\t2\t0\t0\tc\\nd')"
	assert_line --index 4 "$(printf 'file\t3\t0\t0\te\\\\f')"
}

@test "mf-infohash --magnet: xt, dn percent-encoded, xl; never a tracker or the passkey" {
	mf_need mktorrent transmission-show
	mf_tree_s9 "Ünïcode – Book & Co + 100%"
	mktorrent -p -l 15 -a "https://t.example/SECRETPASSKEY/announce" -o a.torrent \
	    "Ünïcode – Book & Co + 100%" >/dev/null
	ih=$(mf_show_hash a.torrent)
	run --separate-stderr mf-infohash --magnet a.torrent
	assert_success
	refute_output --partial SECRETPASSKEY
	refute_output --partial "tr="
	dn=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' \
	    "Ünïcode – Book & Co + 100%")
	assert_output "magnet:?xt=urn:btih:$ih&dn=$dn&xl=290010"
	# transmission-show -m gives the same xt and dn (it has no xl) for a torrent with no tracker
	mktorrent -p -l 15 -o b.torrent "Ünïcode – Book & Co + 100%" >/dev/null
	run mf-infohash --magnet b.torrent
	assert_output "$(transmission-show -m b.torrent)&xl=290010"
	# the unreserved characters stay, the rest is %XX
	mf_pattern_file "a-b_c.d~e,f" 10 1
	mktorrent -l 15 -o c.torrent "a-b_c.d~e,f" >/dev/null
	run mf-infohash --magnet c.torrent
	assert_output "magnet:?xt=urn:btih:$(mf_show_hash c.torrent)&dn=a-b_c.d~e%2Cf&xl=10"
}

@test "mf-infohash: --files, --magnet, --json and --records do not mix" {
	printf 'd4:infod6:lengthi3e4:name1:x12:piece lengthi16384e6:pieces20:01234567890123456789ee' >t.torrent
	for o in "--files --json" "--magnet --files" "--magnet --json" "--records --files" \
	    "--records --magnet" "--v2 --files" "--v2 --magnet"; do
		# shellcheck disable=SC2086
		run --separate-stderr mf-infohash $o t.torrent
		assert_equal "$status" 64
	done
	run mf-infohash --files
	assert_equal "$status" 64
	# a v2-only torrent has no v1 file list
	printf 'd4:infod9:file treed1:ad0:d6:lengthi5e11:pieces root32:01234567890123456789012345678901eee12:meta versioni2e4:name1:x12:piece lengthi16384eee' >v2.torrent
	run --separate-stderr mf-infohash --files v2.torrent
	assert_equal "$status" 65
	[[ "$stderr" == *"v2.torrent"*"v1"* ]]
}
