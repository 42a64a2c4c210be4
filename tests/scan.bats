#!/usr/bin/env bats
# mf-scan over a generated Libation-style library (scripts/mklibrary: real ffmpeg audio,
# Libation tags and sidecars) and over hand-made corner cases.

load lib/common
bats_require_minimum_version 1.5.0

setup_file() {
	export LIB="$BATS_FILE_TMPDIR/lib"
	mklibrary --tiny "$LIB" >"$BATS_FILE_TMPDIR/listing"
	mf-scan "$LIB" >"$BATS_FILE_TMPDIR/scan.out" 2>"$BATS_FILE_TMPDIR/scan.err" || true
}

setup() {
	mf_need ffmpeg python3 jq
	cd "$BATS_TEST_TMPDIR"
	OUT="$BATS_FILE_TMPDIR/scan.out"
}

# The record of the release in folder $1 (relative to LIB).
rec() {
	jq -c --arg d "$LIB/$1" 'select(.source_dir == $d)' "$OUT"
}

@test "mf-scan: --help, --version, bad flags, no library" {
	run mf-scan --help
	assert_success
	assert_output --partial "usage: mf-scan"
	run mf-scan -V
	assert_success
	assert_output --partial "mamfast"
	run mf-scan --bogus
	assert_equal "$status" 64
	run mf-scan --depth 0 "$LIB"
	assert_equal "$status" 64
	run --separate-stderr mf-scan
	assert_equal "$status" 78
	assert_output ""
	[[ "$stderr" == *MF_LIBRARY* ]]
	run --separate-stderr mf-scan "$BATS_TEST_TMPDIR/nowhere"
	assert_equal "$status" 66
	[[ "$stderr" == *nowhere* ]]
}

@test "mf-scan: finds exactly the releases the generator made, sorted, none it must skip" {
	# The generator's own listing is the oracle: release folders and their ASINs.
	grep -v '^#skip' "$BATS_FILE_TMPDIR/listing" | LC_ALL=C sort -t "$(printf '\t')" -k2 |
	    awk -F'\t' -v lib="$LIB" '{ print ($1 == "-" ? "null" : $1) "\t" lib "/" $2 }' >want
	jq -r '[(.asin // "null"), .source_dir] | @tsv' "$OUT" >got
	diff want got
	# Sorted bytewise, one record per line.
	jq -r .source_dir "$OUT" >order
	LC_ALL=C sort -c order
	run grep -c -E 'InProgress|\.hidden|@eaDir' got
	assert_output 0
	[ "$(wc -l <got)" -eq 11 ]
}

@test "mf-scan: MF_LIBRARY is the default, exit 1 for the release without an ASIN" {
	run --separate-stderr env MF_LIBRARY="$LIB" mf-scan
	assert_equal "$status" 1
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 11 ]
	[[ "$stderr" == *"Book Without Asin"*"no ASIN"* ]]
	local r
	r=$(rec "Nobody/Book Without Asin")
	assert_equal "$(jq -r .error.stage <<<"$r")" scan
	assert_equal "$(jq -r .error.retryable <<<"$r")" false
	assert_equal "$(jq -r .id <<<"$r")" "$LIB/Nobody/Book Without Asin"
	assert_equal "$(jq -r .asin <<<"$r")" null
	# Every other record is clean and keyed by its ASIN.
	assert_equal "$(jq -s '[.[] | select(.error == null and .id == .asin)] | length' "$OUT")" 10
}

@test "mf-scan: Libation default layout with sidecar: every field from the sidecar" {
	local r
	r=$(rec "Project Hail Mary [B08G9PRS1K]")
	assert_equal "$(jq -r .asin <<<"$r")" B08G9PRS1K
	assert_equal "$(jq -r .title <<<"$r")" "Project Hail Mary"
	assert_equal "$(jq -r .subtitle <<<"$r")" "A Novel"
	assert_equal "$(jq -c .authors <<<"$r")" '["Andy Weir"]'
	assert_equal "$(jq -c .narrators <<<"$r")" '["Ray Porter"]'
	assert_equal "$(jq -r .year <<<"$r")" 2021
	assert_equal "$(jq -r .sidecar <<<"$r")" \
	    "$LIB/Project Hail Mary [B08G9PRS1K]/Project Hail Mary: A Novel [B08G9PRS1K].metadata.json"
	# files[]: sorted, sizes as on disk, kinds by extension.
	assert_equal "$(jq -r '[.files[].path] | join("|")' <<<"$r")" \
	    "Project Hail Mary: A Novel [B08G9PRS1K].jpg|Project Hail Mary: A Novel [B08G9PRS1K].m4b|Project Hail Mary: A Novel [B08G9PRS1K].metadata.json"
	assert_equal "$(jq -r '[.files[].kind] | join(" ")' <<<"$r")" "cover audio other"
	local f size
	f="$LIB/Project Hail Mary [B08G9PRS1K]/Project Hail Mary: A Novel [B08G9PRS1K].m4b"
	size=$(stat -c %s "$f")
	assert_equal "$(jq -r '.files[1].size' <<<"$r")" "$size"
}

@test "mf-scan: author/series/book layout: series and position from the sidecar, extras listed" {
	local r d
	d="Shirtaloon/He Who Fights with Monsters/He Who Fights with Monsters vol_01 (2021) (Shirtaloon) {ASIN.B08WJ59784} [H2OKing]"
	r=$(rec "$d")
	assert_equal "$(jq -r .asin <<<"$r")" B08WJ59784
	assert_equal "$(jq -r .series <<<"$r")" "He Who Fights with Monsters"
	assert_equal "$(jq -r .series_position <<<"$r")" 1
	assert_equal "$(jq -r '[.files[].kind] | sort | join(" ")' <<<"$r")" \
	    "audio cover cue document other"
}

@test "mf-scan: no sidecar: title, authors, narrators, year, series from the MP4 tags" {
	local r
	r=$(rec "Dungeon Crawler Carl [B08BX5ZF5X]")
	assert_equal "$(jq -r .sidecar <<<"$r")" null
	assert_equal "$(jq -r .title <<<"$r")" "Dungeon Crawler Carl: A LitRPG Adventure"
	assert_equal "$(jq -c .authors <<<"$r")" '["Matt Dinniman"]'
	assert_equal "$(jq -c .narrators <<<"$r")" '["Jeff Hays"]'
	assert_equal "$(jq -r .year <<<"$r")" 2020
	assert_equal "$(jq -r .series <<<"$r")" "Dungeon Crawler Carl"
	assert_equal "$(jq -r .series_position <<<"$r")" 1
}

@test "mf-scan: ASIN only in tags: MP4 freeform/CDEK and MP3 TXXX:AUDIBLE_ASIN" {
	assert_equal "$(rec "Ann Author/The Tag Only Book" | jq -r .asin)" B0TAGONLY1
	assert_equal "$(rec "Mp3 Author/An Mp3 Book" | jq -r .asin)" B0MP3ONLY1
	assert_equal "$(rec "Mp3 Author/An Mp3 Book" | jq -r .title)" "An Mp3 Book"
	assert_equal "$(rec "Mp3 Author/An Mp3 Book" | jq -c .narrators)" '["Ned Narrator"]'
	# CDEK alone: Dungeon Crawler Carl's file carries CDEK but no AUDIBLE_ASIN.
	mkdir -p lib2/Author/Plain
	cp "$LIB/Dungeon Crawler Carl [B08BX5ZF5X]/"*.m4b lib2/Author/Plain/book.m4b
	run mf-scan lib2
	assert_success
	assert_equal "$(jq -r .asin <<<"$output")" B08BX5ZF5X
}

@test "mf-scan: split-by-chapter, multi-part, non-ASCII and long names are one release each" {
	assert_equal "$(rec "The Split Book [B0SPLIT001]" | jq '[.files[] | select(.kind == "audio")] | length')" 3
	assert_equal "$(rec "The Split Book [B0SPLIT001]" | jq -r .title)" "The Split Book"
	assert_equal "$(rec "Multi Author/The Long Book {ASIN.B0MULTI001}" | jq -r .asin)" B0MULTI001
	# The parts' tags say "The Long Book, Part 1": the release is the book.
	assert_equal "$(rec "Multi Author/The Long Book {ASIN.B0MULTI001}" | jq -r .title)" "The Long Book"
	assert_equal "$(rec "Mp3 Author/Mp3 Multipart [B0MP3MULT1]" | jq '.files | length')" 3
	local r
	r=$(jq -c 'select(.asin == "B0NONASC17")' "$OUT")
	assert_equal "$(jq -c .authors <<<"$r")" '["理不尽な孫の手"]'
	[[ "$(jq -r .source_dir <<<"$r")" == "$LIB/理不尽な孫の手/Mushoku Tensei/"* ]]
	assert_equal "$(jq -r .series_position <<<"$r")" 17
	assert_equal "$(jq -c 'select(.asin == "B0LONGTTL1") | .title | length' "$OUT")" 200
}

@test "mf-scan: ASIN precedence: sidecar, then names, then tags; case and validity" {
	mkdir -p "lib2/A/Sidecar Wins [B0NAME0001]" "lib2/A/Name Wins [B0NAME0002]" \
	    "lib2/A/Lower {asin.b0name0003}" "lib2/A/Bad [ASIN.B0SHORT]"
	printf '{"asin":"B0SIDE0001","title":"From Sidecar"}' \
	    >"lib2/A/Sidecar Wins [B0NAME0001]/x.metadata.json"
	: >"lib2/A/Sidecar Wins [B0NAME0001]/x.m4b"
	# A file whose tags say B0TAGONLY1, in a folder whose name says otherwise.
	cp "$LIB/Ann Author/The Tag Only Book/The Tag Only Book.m4b" "lib2/A/Name Wins [B0NAME0002]/"
	: >"lib2/A/Lower {asin.b0name0003}/a.mp3"
	cp "$LIB/Ann Author/The Tag Only Book/The Tag Only Book.m4b" "lib2/A/Bad [ASIN.B0SHORT]/"
	run mf-scan lib2
	assert_success
	assert_equal "$(jq -r '[.asin, .title] | join(":")' <<<"$output" | tr '\n' ' ')" \
	    "B0TAGONLY1:The Tag Only Book B0NAME0003:Lower B0NAME0002:The Tag Only Book B0SIDE0001:From Sidecar "
}

@test "mf-scan: folder-name pattern is the last resort; a vol_ folder's parent is its series" {
	mkdir -p "lib2/Folder Author/Some Saga/Some Saga vol_02 (2019) (Folder Author) {ASIN.B0FOLDER01} [Rip]"
	printf 'not really audio' >"lib2/Folder Author/Some Saga/Some Saga vol_02 (2019) (Folder Author) {ASIN.B0FOLDER01} [Rip]/a.mp3"
	run mf-scan lib2
	assert_success
	assert_equal "$(jq -c '[.asin, .title, .authors, .year, .series, .series_position]' <<<"$output")" \
	    '["B0FOLDER01","Some Saga",["Folder Author"],"2019","Some Saga","02"]'
}

@test "mf-scan: series from folders: up to four levels up, past years, ASINs and vol_ folders" {
	local d b
	for d in "Jane Writer/Cradle/Collected (2019)/Cradle vol_03 (2019) (Jane Writer) {ASIN.B0UPWARD01}" \
	    "Jane Writer/Cradle/Box Set {ASIN.B0BOXSET01}/Cradle vol_04 (2019) (Jane Writer) {ASIN.B0UPWARD02}" \
	    "Jane Writer/Cradle/Cradle vol_01-03/Cradle vol_02 (2019) (Jane Writer) {ASIN.B0UPWARD03}" \
	    "Jane Writer/Cradle/Omnibus [ASIN.B0OMNIBUS1]/Cradle vol_05 (2019) (Jane Writer) {ASIN.B0UPWARD04}" \
	    "Deep Series/a (2001)/b (2002)/c (2003)/Book vol_01 (2020) (X) {ASIN.B0UPWARD05}" \
	    "Too Deep/a (2001)/b (2002)/c (2003)/d (2004)/Book vol_01 (2020) (X) {ASIN.B0UPWARD06}" \
	    "Ann Writer/Book vol_02 (2020) (Ann Writer) {ASIN.B0UPWARD07}" \
	    "Book vol_02 (2020) {ASIN.B0UPWARD08}"; do
		mkdir -p "lib2/$d"
		printf x >"lib2/$d/a.mp3"
	done
	run mf-scan --depth 6 lib2
	assert_success
	assert_equal "$(jq -r '[.asin, .series // "null", .series_position] | join(":")' <<<"$output" |
	    LC_ALL=C sort | tr '\n' ' ')" \
	    "B0UPWARD01:Cradle:03 B0UPWARD02:Cradle:04 B0UPWARD03:Cradle:02 B0UPWARD04:Cradle:05 B0UPWARD05:Deep Series:01 B0UPWARD06:null:01 B0UPWARD07:null:02 B0UPWARD08:null:02 "
}

@test "mf-scan: a parent whose name holds audiobook, library, import, download, staging or incoming is no series" {
	local p
	for p in "My Audiobooks" "Audiobook Library" "Kindle Imports" "Downloads-2024" \
	    "staging area" "Incoming Stuff" "Library" "Light Novels" "Single Books"; do
		mkdir -p "lib2/$p/Book vol_03 (2020) (Z) {ASIN.B0ROOTISH$((${#p} % 10))}"
		printf x >"lib2/$p/Book vol_03 (2020) (Z) {ASIN.B0ROOTISH$((${#p} % 10))}/a.mp3"
	done
	run mf-scan lib2
	assert_success
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 9 ]
	assert_equal "$(jq -s '[.[] | select(.series != null)] | length' <<<"$output")" 0
	assert_equal "$(jq -s '[.[] | select(.series_position == "03")] | length' <<<"$output")" 9
}

@test "mf-scan: words after vol_N: series, volume, title, year, author and ASIN from the name" {
	local d="Zogarth/The Primal Hunter vol_11 Providence (2025) (Zogarth) {ASIN.B0PRIMAL11}"
	mkdir -p "lib2/$d"
	printf x >"lib2/$d/a.mp3"
	run mf-scan lib2
	assert_success
	assert_equal "$(jq -c '[.asin, .title, .authors, .year, .series, .series_position]' <<<"$output")" \
	    '["B0PRIMAL11","Providence",["Zogarth"],"2025","The Primal Hunter","11"]'
}

@test "mf-scan: a sidecar series position given as a JSON number" {
	mkdir -p "lib2/A/Num [B0NUMPOS01]" "lib2/A/Dec [B0NUMPOS02]" "lib2/A/Str [B0NUMPOS03]"
	printf '{"asin":"B0NUMPOS01","title":"T","series":{"name":"X","position":3}}' \
	    >"lib2/A/Num [B0NUMPOS01]/x.metadata.json"
	printf '{"asin":"B0NUMPOS02","title":"T","series":[{"title":"Y","sequence":1.5}]}' \
	    >"lib2/A/Dec [B0NUMPOS02]/x.metadata.json"
	printf '{"asin":"B0NUMPOS03","title":"T","series":[{"name":"Z","position":"2"}]}' \
	    >"lib2/A/Str [B0NUMPOS03]/x.metadata.json"
	for d in "Num [B0NUMPOS01]" "Dec [B0NUMPOS02]" "Str [B0NUMPOS03]"; do
		printf x >"lib2/A/$d/x.m4b"
	done
	run mf-scan lib2
	assert_success
	assert_equal "$(jq -r '[.asin, .series, .series_position] | join(":")' <<<"$output" | tr '\n' ' ')" \
	    "B0NUMPOS02:Y:1.5 B0NUMPOS01:X:3 B0NUMPOS03:Z:2 "
}

@test "mf-scan: symlinks are not followed, hidden files and junk are left out, --depth" {
	mkdir -p outside/Escape lib2/Real
	printf x >"outside/Escape/b [B0OUTSIDE1].m4b"
	ln -s "$PWD/outside/Escape" lib2/Linked
	printf x >"lib2/Real/c [B0REAL0001].m4b"
	printf x >lib2/Real/.hidden.m4b
	ln -s "$PWD/outside/Escape/b [B0OUTSIDE1].m4b" "lib2/Real/link.m4b"
	run --separate-stderr mf-scan lib2
	assert_success
	assert_equal "$(jq -r .asin <<<"$output")" B0REAL0001
	assert_equal "$(jq -r '[.files[].path] | join(",")' <<<"$output")" "c [B0REAL0001].m4b"
	[[ "$stderr" == *"link.m4b"*"symbolic link"* ]]
	# Depth: a release three levels down is out of reach with --depth 2.
	mkdir -p lib3/a/b/c
	printf x >"lib3/a/b/c/d [B0DEEP0001].mp3"
	run mf-scan --depth 2 lib3
	assert_success
	assert_output ""
	run mf-scan --depth 3 lib3
	assert_equal "$(jq -r .asin <<<"$output")" B0DEEP0001
}

@test "mf-scan: a name that is not UTF-8 is reported with \\xNN, as an error, never dropped" {
	mkdir -p "lib2/$(printf 'Bad\377Name [B0BADUTF81]')"
	printf x >"lib2/$(printf 'Bad\377Name [B0BADUTF81]')/a.m4b"
	run --separate-stderr mf-scan lib2
	assert_equal "$status" 1
	assert_equal "$(jq -r .error.stage <<<"$output")" scan
	[[ "$(jq -r .source_dir <<<"$output")" == *'Bad\xFFName [B0BADUTF81]' ]]
	jq -e . <<<"$output" >/dev/null
}

@test "mf-scan: reads tags from a file with a huge sparse mdat without reading it" {
	# ftyp + a 4 GiB sparse mdat (64-bit size) + the moov of a real tagged file: the walker
	# must hop over mdat by its header.  A reader of the whole file would need 4 GiB.
	local src="$LIB/Ann Author/The Tag Only Book/The Tag Only Book.m4b"
	mkdir -p "lib2/A/Big"
	python3 - "$src" "lib2/A/Big/big.m4b" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
boxes, pos = {}, 0
while pos + 8 <= len(d):
    size, typ = struct.unpack('>I4s', d[pos:pos + 8])
    boxes[typ] = d[pos:pos + size]
    pos += size
big = 4 << 30
with open(sys.argv[2], 'wb') as f:
    f.write(boxes[b'ftyp'])
    f.write(struct.pack('>I4sQ', 1, b'mdat', big))
    f.seek(big - 16, 1)
    f.write(boxes[b'moov'])
EOF
	[ "$(stat -c %s lib2/A/Big/big.m4b)" -gt 4000000000 ]
	[ "$(du -k lib2/A/Big/big.m4b | cut -f1)" -lt 1000 ]
	run mf-scan lib2
	assert_success
	assert_equal "$(jq -r .asin <<<"$output")" B0TAGONLY1
}

@test "mf-scan: records are sorted bytewise by source_dir across folders (\"A B/x\" before \"A/x\")" {
	# ' ' (0x20) and '-' (0x2d) sort before '/' (0x2f): a walk that takes "A" before "A B"
	# and descends at once would give "A/Book" first.
	local src="$LIB/Ann Author/The Tag Only Book/The Tag Only Book.m4b" d
	for d in "A/Book [B0SORT0001]" "A B/Book [B0SORT0002]" "A-C/Book [B0SORT0003]" \
	    "AB/Book [B0SORT0004]"; do
		mkdir -p "lib3/$d"
		cp "$src" "lib3/$d/book.m4b"
	done
	run mf-scan lib3
	assert_success
	jq -r .source_dir <<<"$output" >order
	[ "$(wc -l <order)" -eq 4 ]
	LC_ALL=C sort -c order
}

@test "mf-scan: a low descriptor limit slows the walk down, it never skips releases" {
	# Each queued release holds its folder open: 150 of them must not need 150 descriptors.
	local src="$LIB/Ann Author/The Tag Only Book/The Tag Only Book.m4b" i
	for i in $(seq -w 1 150); do
		mkdir -p "lib4/Author/Book $i [B0LOWFD$i]"
		ln "$src" "lib4/Author/Book $i [B0LOWFD$i]/book.m4b" 2>/dev/null ||
		    cp "$src" "lib4/Author/Book $i [B0LOWFD$i]/book.m4b"
	done
	run --separate-stderr bash -c 'ulimit -n 40 && exec mf-scan lib4 3>&-'
	assert_success
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 150 ]
	[[ $stderr != *"Too many open files"* ]]
}
