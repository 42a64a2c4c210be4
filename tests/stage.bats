#!/usr/bin/env bats
# mf-stage: names, hardlink identity, idempotence, conflicts, --dry-run, --copy, EXDEV on
# a tmpfs, containment and failure clean-up, over a generated Libation-style library.

load lib/common
bats_require_minimum_version 1.5.0

setup_file() {
	export LIB="$BATS_FILE_TMPDIR/lib"
	mklibrary --tiny "$LIB" >/dev/null
	MF_LIBRARY="$LIB" mf-scan >"$BATS_FILE_TMPDIR/scan.out" 2>/dev/null || true
}

setup() {
	mf_need ffmpeg python3 jq
	cd "$BATS_TEST_TMPDIR"
	export MF_LIBRARY="$LIB" MF_SEED_ROOT="$BATS_TEST_TMPDIR/seed" MF_RIPPER_TAG=H2OKing
	SCAN="$BATS_FILE_TMPDIR/scan.out"
	MOUNTED=
}

teardown() {
	if [ -n "$MOUNTED" ]; then umount "$MOUNTED" 2>/dev/null || true; fi
}

# The scan record with ASIN $1.
one() {
	jq -c --arg a "$1" 'select(.asin == $a)' "$SCAN"
}

# Mount a tmpfs of size $2 on $1, or skip with the reason.
tmpfs_or_skip() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2" tmpfs "$1" 2>/dev/null ||
	    skip "cannot mount a tmpfs here (needs root and mount rights)"
	MOUNTED=$1
}

@test "mf-stage: --help, --version, bad flags, missing configuration" {
	run --separate-stderr mf-stage --help
	assert_success
	assert_output --partial "usage: mf-stage"
	run --separate-stderr mf-stage --version
	assert_success
	assert_output --partial "mamfast"
	run --separate-stderr mf-stage --bogus
	assert_equal "$status" 64
	run --separate-stderr mf-stage extra-arg
	assert_equal "$status" 64
	run env -u MF_SEED_ROOT mf-stage </dev/null
	assert_equal "$status" 78
	run env MF_SEED_ROOT=relative mf-stage </dev/null
	assert_equal "$status" 78
	run env MF_NAMING=/nonexistent.json mf-stage </dev/null
	assert_equal "$status" 78
}

@test "mf-stage: the whole sample library: names, parts, extensions, budget, same inodes" {
	run --separate-stderr mf-stage <"$SCAN"
	assert_equal "$status" 0	# the no-ASIN record arrives with an error: passed on, not counted
	printf '%s\n' "$output" >out
	[ "$(wc -l <out)" -eq 11 ]
	assert_equal "$(jq -s '[.[] | select(.staging != null)] | length' out)" 10
	assert_equal "$(jq -r 'select(.asin == "B08G9PRS1K") | .staging.name' out)" \
	    "Project Hail Mary (2021) (Andy Weir) {ASIN.B08G9PRS1K} [H2OKing]"
	assert_equal "$(jq -r 'select(.asin == "B08WJ59784") | .staging.name' out)" \
	    "He Who Fights with Monsters vol_01 (2021) (Shirtaloon) {ASIN.B08WJ59784} [H2OKing]"
	# The author map romanises the kanji author; "(Light Novel)" leaves the series.
	assert_equal "$(jq -r 'select(.asin == "B0NONASC17") | .staging.name' out)" \
	    "Mushoku Tensei - Jobless Reincarnation vol_17 (2024) (Rifujin na Magonote) {ASIN.B0NONASC17} [H2OKing]"
	# Every part kept, numbered in order; the sidecar is not staged; extras are.
	local d base
	d="$MF_SEED_ROOT/The Long Book (2015) (Multi Author) {ASIN.B0MULTI001} [H2OKing]"
	base="The Long Book (2015) (Multi Author) {ASIN.B0MULTI001}"
	[ -f "$d/$base - Part 01.m4b" ] && [ -f "$d/$base - Part 02.m4b" ] && [ -f "$d/$base.jpg" ]
	cmp "$d/$base - Part 01.m4b" "$LIB/Multi Author/The Long Book {ASIN.B0MULTI001}/The Long Book Part 1.m4b"
	cmp "$d/$base - Part 02.m4b" "$LIB/Multi Author/The Long Book {ASIN.B0MULTI001}/The Long Book Part 2.m4b"
	assert_equal "$(ls "$MF_SEED_ROOT/The Split Book (2022) (Sam Splitter) {ASIN.B0SPLIT001} [H2OKing]" | grep -c 'Part 0[123].m4b$')" 3
	assert_equal "$(ls "$MF_SEED_ROOT/He Who Fights with Monsters vol_01 (2021) (Shirtaloon) {ASIN.B08WJ59784} [H2OKing]" | sed 's/.*}//' | sort | tr '\n' ' ')" \
	    ".cue .jpg .m4b .pdf "
	run find "$MF_SEED_ROOT" -name '*.json'
	assert_output ""
	# Hardlinks: every staged file is its source's inode; every path fits 225 characters.
	jq -r '.staging.files[]? | [.src, .dst, .how] | @tsv' out | while IFS="$(printf '\t')" read -r s t h; do
		[ "$h" = link ] || { echo "not linked: $t"; return 1; }
		[ "$(stat -c %d:%i "$s")" = "$(stat -c %d:%i "$t")" ] || { echo "other inode: $t"; return 1; }
		rel=${t#"$MF_SEED_ROOT"/}
		[ "$(printf '%s' "$rel" | python3 -c 'import sys; print(len(sys.stdin.read()))')" -le 225 ] ||
		    { echo "too long: $rel"; return 1; }
		case $rel in *B0*|*{ASIN.[0-9]*) ;; *) echo "no ASIN: $rel"; return 1 ;; esac
	done
	# The 200-character title was cut, keeping the ASIN and the tag.
	assert_equal "$(jq -c 'select(.asin == "B0LONGTTL1") | [.staging.truncated, .staging.dropped]' out)" \
	    '[true,["author","year","title"]]'
	[[ "$(jq -r 'select(.asin == "B0LONGTTL1") | .staging.name' out)" == *"... {ASIN.B0LONGTTL1} [H2OKing]" ]]
}

@test "mf-stage: idempotent rerun: every file 'exists', nothing new, same output names" {
	mf-stage <"$SCAN" >first
	find "$MF_SEED_ROOT" | sort >tree1
	run --separate-stderr mf-stage <"$SCAN"
	assert_success
	printf '%s\n' "$output" >second
	find "$MF_SEED_ROOT" | sort >tree2
	diff tree1 tree2
	assert_equal "$(jq -r '.staging.files[]?.how' second | sort -u)" exists
	diff <(jq -r '.staging.name // empty' first) <(jq -r '.staging.name // empty' second)
}

@test "mf-stage: a target with other content is refused (nothing changed) unless --force" {
	one B08G9PRS1K >rec
	mf-stage <rec >/dev/null
	local dst src
	dst=$(mf-stage <rec | jq -r '.staging.files[] | select(.dst | endswith(".m4b")) | .dst')
	src=$(jq -r '.source_dir' rec)/"Project Hail Mary: A Novel [B08G9PRS1K].m4b"
	# Replace the staged link by a different file (never write through the link).
	rm "$dst"
	printf 'other content' >"$dst"
	run --separate-stderr mf-stage <rec
	assert_equal "$status" 1
	assert_equal "$(jq -r .error.stage <<<"$output")" stage
	assert_equal "$(jq -r .error.retryable <<<"$output")" false
	[[ "$stderr" == *"already exists with other content"* ]]
	assert_equal "$(cat "$dst")" "other content"
	# The next record is still processed.
	{ cat rec; one B0TAGONLY1; } >two
	run --separate-stderr mf-stage <two
	assert_equal "$status" 1
	assert_equal "$(sed -n 2p <<<"$output" | jq -r '.staging.files[0].how')" link
	# --force replaces it with the source's inode.
	run --separate-stderr mf-stage --force <rec
	assert_success
	assert_equal "$(stat -c %i "$dst")" "$(stat -c %i "$src")"
}

@test "mf-stage: --dry-run computes the same names and touches nothing" {
	run --separate-stderr mf-stage --dry-run <"$SCAN"
	assert_success
	printf '%s\n' "$output" >dry
	[ ! -e "$MF_SEED_ROOT" ]
	assert_equal "$(jq -r '.staging.dry_run // empty' dry | sort -u)" true
	assert_equal "$(jq -r '.staging.files[]?.how' dry | sort -u)" link
	mf-stage <"$SCAN" >real
	diff <(jq -r '.staging | [.name, (.files // [] | map(.dst) | join("|"))] | @tsv' dry) \
	    <(jq -r '.staging | [.name, (.files // [] | map(.dst) | join("|"))] | @tsv' real)
}

@test "mf-stage: --copy copies with mode and times; a rerun finds the copies" {
	one B0MP3ONLY1 >rec
	run --separate-stderr mf-stage --copy <rec
	assert_success
	local s t
	s=$(jq -r '.staging.files[0].src' <<<"$output")
	t=$(jq -r '.staging.files[0].dst' <<<"$output")
	assert_equal "$(jq -r '.staging.files[0].how' <<<"$output")" copy
	[ "$(stat -c %i "$s")" != "$(stat -c %i "$t")" ]
	cmp "$s" "$t"
	assert_equal "$(stat -c '%a %Y' "$t")" "$(stat -c '%a %Y' "$s")"
	run --separate-stderr mf-stage --copy <rec
	assert_success
	assert_equal "$(jq -r '.staging.files[0].how' <<<"$output")" exists
}

@test "mf-stage: EXDEV: a seed root on a tmpfs gets copies, reported as 'copy'" {
	tmpfs_or_skip "$BATS_TEST_TMPDIR/other" 64m
	export MF_SEED_ROOT="$BATS_TEST_TMPDIR/other/seed"
	one B08WJ59784 >rec
	run --separate-stderr mf-stage <rec
	assert_success
	assert_equal "$(jq -r '.staging.files[].how' <<<"$output" | sort -u)" copy
	jq -r '.staging.files[] | [.src, .dst] | @tsv' <<<"$output" | while IFS="$(printf '\t')" read -r s t; do
		cmp "$s" "$t"
		[ "$(stat -c %Y "$s")" = "$(stat -c %Y "$t")" ]
		[ "$(stat -c %d "$s")" != "$(stat -c %d "$t")" ]
	done
	run --separate-stderr mf-stage <rec
	assert_equal "$(jq -r '.staging.files[].how' <<<"$output" | sort -u)" exists
}

@test "mf-stage: a full seed root: a retryable error and no half-staged folder" {
	tmpfs_or_skip "$BATS_TEST_TMPDIR/small" 16k
	export MF_SEED_ROOT="$BATS_TEST_TMPDIR/small"
	# A release whose audio does not fit in 16 KiB.
	mkdir -p lib2/A/Big
	head -c 200000 /dev/zero >"lib2/A/Big/big [B0BIGFILE1].m4b"
	printf 'cover' >"lib2/A/Big/a.jpg"
	mkdir -p lib2/A/Small
	printf 'small' >"lib2/A/Small/s [B0SMALL001].m4b"
	export MF_LIBRARY="$BATS_TEST_TMPDIR/lib2"
	mf-scan lib2 >recs
	run --separate-stderr mf-stage <recs
	assert_equal "$status" 1
	assert_equal "$(sed -n 1p <<<"$output" | jq -r .error.retryable)" true
	[[ "$stderr" == *"No space left"* ]]
	# The next record is staged; nothing of the failed one is left.
	assert_equal "$(sed -n 2p <<<"$output" | jq -r '.staging.files[0].how')" copy
	local small
	small=$(sed -n 2p <<<"$output" | jq -r .staging.name)
	assert_equal "$small" "Small {ASIN.B0SMALL001} [H2OKing]"
	run ls -A "$MF_SEED_ROOT"
	assert_output "$small"
}

@test "mf-stage: a read-only seed root: an error on each record, nothing made" {
	tmpfs_or_skip "$BATS_TEST_TMPDIR/ro" 1m
	mount -o remount,ro "$BATS_TEST_TMPDIR/ro" || skip "cannot remount the tmpfs read-only"
	export MF_SEED_ROOT="$BATS_TEST_TMPDIR/ro/seed"
	{ one B0TAGONLY1; one B0MP3ONLY1; } >recs
	run --separate-stderr mf-stage <recs
	assert_equal "$status" 1
	assert_equal "$(jq -r .error.stage <<<"$output" | sort -u)" stage
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	[[ "$stderr" == *"Read-only file system"* ]]
	[ ! -e "$MF_SEED_ROOT" ]
}

@test "mf-stage: resume: a checkpointed record whose folder exists is passed on untouched" {
	one B0TAGONLY1 >rec
	mf-stage <rec >staged
	jq -c '.checkpoints = {"staged_at":"2026-11-26T10:00:00Z"}' staged >resumed
	run --separate-stderr mf-stage <resumed
	assert_success
	assert_equal "$output" "$(cat resumed)"
	# Its folder gone: staged again.
	rm -r "$(jq -r .staging.dir staged)"
	run --separate-stderr mf-stage <resumed
	assert_success
	[ -d "$(jq -r .staging.dir <<<"$output")" ]
	# Records with an error pass through as they came.
	printf '%s\n' '{"id":"x","error":{"stage":"scan","message":"m","retryable":false}}' >err
	run --separate-stderr mf-stage <err
	assert_success
	assert_output "$(cat err)"
}

@test "mf-stage: paths that leave the library or the seed root are refused" {
	mkdir -p outside/Escape
	printf x >"outside/Escape/e.m4b"
	one B0TAGONLY1 >rec
	# A source folder outside MF_LIBRARY, directly and through a symlink inside it.
	jq -c --arg d "$PWD/outside/Escape" '.source_dir = $d | .files = [{"path":"e.m4b","size":1,"kind":"audio"}]' rec >r1
	run --separate-stderr mf-stage <r1
	assert_equal "$status" 1
	[[ "$(jq -r .error.message <<<"$output")" == *"outside MF_LIBRARY"* ]]
	jq -c --arg d "$LIB/../$(basename "$BATS_TEST_TMPDIR")/outside/Escape" '.source_dir = $d' r1 >r2
	run --separate-stderr mf-stage <r2
	assert_equal "$status" 1
	# A files[] path that climbs out of the release.
	jq -c '.files = [{"path":"../../Project Hail Mary [B08G9PRS1K]/Project Hail Mary: A Novel [B08G9PRS1K].m4b","size":1,"kind":"audio"}]' rec >r3
	run --separate-stderr mf-stage <r3
	assert_equal "$status" 1
	[[ "$(jq -r .error.message <<<"$output")" == *"leaves the release folder"* ]]
	# The staged folder already a symlink to elsewhere.
	local name
	name=$(mf-stage --dry-run <rec | jq -r .staging.name)
	mkdir -p "$MF_SEED_ROOT" elsewhere
	ln -s "$PWD/elsewhere" "$MF_SEED_ROOT/$name"
	run --separate-stderr mf-stage <rec
	assert_equal "$status" 1
	[[ "$(jq -r .error.message <<<"$output")" == *"outside MF_SEED_ROOT"* ]]
	run ls -A elsewhere
	assert_output ""
	[ -z "$(ls -A outside/Escape | grep -v e.m4b)" ]
}

@test "mf-stage: missing sources, bad names, no audio: clear errors, nothing half made" {
	one B08WJ59784 >rec
	# A file that vanished since the scan (the last one, so others would come first).
	jq -c '.files += [{"path":"zz gone.m4b","size":1,"kind":"audio"}]' rec >r1
	run --separate-stderr mf-stage <r1
	assert_equal "$status" 1
	[[ "$stderr" == *"zz gone.m4b: missing"* ]]
	[ ! -e "$MF_SEED_ROOT/$(mf-stage --dry-run <rec | jq -r .staging.name)" ]
	# A name mf-scan showed with \xNN (not valid UTF-8), and one over 255 bytes.
	jq -c '.files = [{"path":"Bad\\xFFName.m4b","size":1,"kind":"audio"}]' rec >r2
	run --separate-stderr mf-stage <r2
	assert_equal "$status" 1
	[[ "$(jq -r .error.message <<<"$output")" == *"not valid UTF-8"* ]]
	jq -c --arg p "$(printf 'x%.0s' $(seq 300)).m4b" '.files = [{"path":$p,"size":1,"kind":"audio"}]' rec >r3
	run --separate-stderr mf-stage <r3
	assert_equal "$status" 1
	# Only files MF_EXTENSIONS allows: with .pdf alone there is no audio to stage.
	run --separate-stderr env MF_EXTENSIONS=".pdf" mf-stage <rec
	assert_equal "$status" 1
	[[ "$(jq -r .error.message <<<"$output")" == *"no audio file"* ]]
	run --separate-stderr env MF_EXTENSIONS=".m4b,.CUE" mf-stage <rec
	assert_success
	assert_equal "$(jq -r '[.staging.files[].dst | sub(".*}"; "")] | join(" ")' <<<"$output")" ".cue .m4b"
	# No ASIN: refused.
	jq -c '.asin = null' rec >r4
	run --separate-stderr mf-stage <r4
	assert_equal "$status" 1
	run ls -A "$MF_SEED_ROOT"
	assert_output "$(mf-stage --dry-run <rec | jq -r .staging.name)"
}

@test "mf-stage: MF_MAX_PATH is honoured for every file of a random-title library" {
	# Property over generated titles: every staged path fits, contains the ASIN, and the
	# same input gives the same name.
	export MF_MAX_PATH=120
	python3 - >recs <<'EOF'
import json, random, os
random.seed(7)
lib = os.environ["MF_LIBRARY"]
src = "Ann Author/The Tag Only Book"
alphabet = "abcdefghij KLMNOP:/?*\"<>|.-,()[]éü理💿"
for i in range(60):
    t = "".join(random.choice(alphabet) for _ in range(random.randint(1, 300)))
    a = "".join(random.choice(alphabet) for _ in range(random.randint(0, 60)))
    print(json.dumps({"id": "B0PROP%04d" % i, "asin": "B0PROP%04d" % i, "source_dir": lib + "/" + src,
        "title": t, "authors": [a] if a else [], "year": "2001",
        "series": t[:20] if i % 3 == 0 else None, "series_position": str(i) if i % 3 == 0 else None,
        "files": [{"path": "The Tag Only Book.m4b", "size": 1, "kind": "audio"}]}, ensure_ascii=False))
EOF
	run --separate-stderr mf-stage --dry-run <recs
	assert_success
	printf '%s\n' "$output" >a
	mf-stage --dry-run <recs >b
	diff a b
	jq -r '[.asin, (.staging.files[].dst | ltrimstr(env.MF_SEED_ROOT + "/"))] | @tsv' a |
	while IFS="$(printf '\t')" read -r asin rel; do
		n=$(printf '%s' "$rel" | python3 -c 'import sys; print(len(sys.stdin.read()))')
		[ "$n" -le 120 ] || { echo "$n > 120: $rel"; return 1; }
		case $rel in *"{ASIN.$asin}"*"/"*"{ASIN.$asin}.m4b") ;; *) echo "ASIN lost: $rel"; return 1 ;; esac
	done
}
