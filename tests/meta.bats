#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# mf-meta: command line, the MAM JSON (validated with jq), the BBCode description, outputs,
# dry run, resume, and failures.

load lib/common
load lib/audnex

setup_file() {
	meta_setup_file
}

teardown_file() {
	audnex_stop
}

setup() {
	meta_setup
}

@test "-h prints usage and exits 0; -V the version; a bad flag or an argument exits 64" {
	run mf-meta -h
	assert_success
	assert_output --partial "usage: mf-meta"
	run mf-meta --version
	assert_success
	assert_output --regexp "^mf-meta \(mamfast\) [0-9]"
	run --separate-stderr mf-meta --no-such-flag
	[ "$status" -eq 64 ]
	[[ $stderr == *"usage: mf-meta"* ]]
	run --separate-stderr mf-meta extra-argument
	[ "$status" -eq 64 ]
}

@test "the man page renders without warnings" {
	mf_need man
	run bash -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$MF_ROOT/man/mf-meta.1' 2>&1 >/dev/null"
	assert_success
	assert_output ""
}

@test "MF_OUT_DIR unset exits 78 naming the key; a bad number exits 78" {
	unset MF_OUT_DIR
	run --separate-stderr mf-meta </dev/null
	[ "$status" -eq 78 ]
	[[ $stderr == *MF_OUT_DIR* ]]
	run --separate-stderr mf-meta -o "$OUT" --attempts lots </dev/null
	[ "$status" -eq 78 ]
	[[ $stderr == *MF_AUDNEX_ATTEMPTS* ]]
}

@test "the MAM JSON has exactly the documented keys with the right types and values" {
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1 Lamp)"
	assert_success
	f="$OUT/Lamp/Lamp.json"
	jq -e --arg f "$f" '.meta.mam_json == $f' <<<"$output"
	book="$FIX/books/B0TESTSER1.json"
	jq -e --slurpfile b "$book" '
	    ($b[0]) as $b |
	    (keys - ["title","subtitle","authors","narrators","series","description","thumbnail",
	             "language","category","categories","main_cat","mediaType","mediaInfo","tags",
	             "isbn","flags"]) == [] and
	    .title == $b.title and
	    .authors == [$b.authors[].name] and .narrators == [$b.narrators[].name] and
	    .series == [{name: $b.seriesPrimary.name, number: $b.seriesPrimary.position},
	                {name: $b.seriesSecondary.name, number: $b.seriesSecondary.position}] and
	    (has("subtitle") | not) and
	    .thumbnail == $b.image and .language == "English" and
	    (.description | type == "string" and startswith("[center]")) and
	    (.categories | type == "array" and length == 1 and (.[0] | type == "number")) and
	    (.category | type == "string") and (.main_cat == 1) and .mediaType == 1 and
	    (.mediaInfo | test("^General\n") and test("\nAudio\n")) and
	    (.tags | test("^Length: [0-9]+h [0-9]{2}m \\| Release date: 2019-09-17 \\| Format: M4B, AAC LC")
	           and test("Chapterized") and test("Unabridged")) and
	    .isbn == "ASIN:B0TESTSER1" and .flags == []' "$f"
	# The category is the table's rule for "Fantasy" (the book's most specific genre).
	jq -e --slurpfile c "$MF_ROOT/data/categories.json" \
	    '($c[0].rules[] | select(.genres | index("Fantasy"))) as $r |
	     .category == $r.name and .categories == [$r.id]' "$f"
	# audnex.json holds the raw answers.
	jq -e --slurpfile b "$book" '.region == "us" and .book == $b[0] and (.chapters.chapters | length) == 64' \
	    "$OUT/Lamp/audnex.json"
	# Nothing was written beside the audio.
	[ "$(ls "$SEED/Lamp")" = "Lamp.m4b" ]
	[ -z "$(find "$OUT" -name '.*tmp*')" ]
}

@test "meta on the record: audnex in snake_case, audio facts, warnings; other fields kept" {
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1 Lamp)"
	assert_success
	jq -e --slurpfile b "$FIX/books/B0TESTSER1.json" '($b[0]) as $b | .meta.audnex |
	    .asin == $b.asin and .subtitle == $b.subtitle and .summary_html == $b.summary and
	    .publisher == $b.publisherName and .release_date == "2019-09-17" and
	    .runtime_min == $b.runtimeLengthMin and .is_adult == false and
	    .format_type == "unabridged" and .literature_type == "fiction" and
	    .series[0] == {name: $b.seriesPrimary.name, position: $b.seriesPrimary.position} and
	    .genres == [$b.genres[].name] and (.chapters[0] | keys == ["length_ms","start_ms","title"])' <<<"$output"
	jq -e '.meta.audio.codec == "AAC LC" and .meta.audio.channels == 1 and
	    (.meta.audio.duration_ms | . > 1900 and . < 2100) and (.meta.warnings | type == "array")
	    and .extra == {kept: true} and .series == "Record Series"' <<<"$output"
}

@test "BBCode: series, several authors, HTML summary as text with paragraphs, 64 chapters" {
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1 Lamp)"
	assert_success
	d=$(jq -r .description "$OUT/Lamp/Lamp.json")
	echo "$d"
	[[ $d == *"[b]Series:[/b] The Lamps of Vell #2, Vell Universe #5.5"* ]]
	[[ $d == *"[b]Authors:[/b] Mara Quill, Tobias Fenwick, Lin Okafor"* ]]
	[[ $d == *"[b]Narrators:[/b] Harriet Vane, Oskar Lund"* ]]
	# HTML is gone, entities are decoded, paragraphs are blank-line separated, <br> a newline.
	! grep -qE '<(p|b|i|br)>|&(amp|quot|ndash|eacute|lt|gt|#x?[0-9A-Fa-f]+);' <<<"$d"
	grep -qx 'An instant classic & a "tour de force" – The Harbour Review' <<<"$d"
	grep -A2 -x 'An instant classic.*Review' <<<"$d" | sed -n 2p | grep -qx ''
	grep -qx 'The keepers of Vell have kept the lamps burning for four hundred years.' <<<"$d"
	grep -qx 'Tonight the lamps go out … and something in the water remembers.' <<<"$d"
	grep -qx 'Café owner Yséult Brand <never> wanted to be a hero.' <<<"$d"
	# Every Audnex chapter, in order, as "H:MM:SS - title".
	jq -r '.chapters[] | "\(.startOffsetMs / 1000 | floor | "\(. / 3600 | floor):\(. / 60 % 60 | tostring | if length < 2 then "0" + . else . end):\(. % 60 | tostring | if length < 2 then "0" + . else . end)") - \(.title)"' \
	    "$FIX/chapters/B0TESTSER1.json" >"$BATS_TEST_TMPDIR/want"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -ge 60 ]
	sed -n '/\[font=Courier New\]/,/\[\/font\]/p' <<<"$d" | sed 's/\[font=Courier New\]//; s/\[\/font\]//' |
	    grep -v '^$' >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	[[ $d == *"[b]Chapters:[/b] 64"* ]]
}

@test "a minimal book: flags abridged and eSex, German, no series, record data fills the gaps" {
	run --separate-stderr mf-meta <<<"$(rec B0MINIMAL1 Mini)"
	assert_success
	jq -e '.flags == ["eSex","abridged"] and .language == "German" and
	    .series == [{name: "Record Series", number: "3"}] and .narrators == ["Record Reader"] and
	    (has("thumbnail") | not) and .main_cat == 1' "$OUT/Mini/Mini.json"
}

@test "a non-fiction book with a numeric ASIN: main_cat 2 and a non-fiction category" {
	run --separate-stderr mf-meta <<<"$(rec 1774247291 Money)"
	assert_success
	jq -e --slurpfile c "$MF_ROOT/data/categories.json" '
	    .main_cat == 2 and .isbn == "ASIN:1774247291" and
	    (.category as $n | $c[0].rules | any(.name == $n and .main_cat == 2))' "$OUT/Money/Money.json"
	jq -r .description "$OUT/Money/Money.json" | grep -qx '• Saving'
}

@test "no Audnex data: the JSON comes from the record; no audnex.json" {
	run --separate-stderr mf-meta --no-audnex <<<"$(rec B0TESTSER1 Plain)"
	assert_success
	[ "$(audnex /_control/counts | jq .total)" -eq 0 ]
	jq -e '.title == "Record B0TESTSER1" and .authors == ["Record Author"] and
	    .series == [{name: "Record Series", number: "3"}] and .isbn == "ASIN:B0TESTSER1" and
	    (.description | test("Chapters:\\[/b\\] 0"))' "$OUT/Plain/Plain.json"
	[ ! -e "$OUT/Plain/audnex.json" ]
}

@test "--dry-run: meta is filled, nothing is written, mam_json is null" {
	run --separate-stderr mf-meta -n <<<"$(rec B0TESTSER1 Lamp)"
	assert_success
	jq -e '.meta.audnex.title == "The Drowned Lamp" and .meta.mam_json == null' <<<"$output"
	[ ! -e "$OUT" ]
	[ ! -e "$CACHE" ]
}

@test "resume: a record with metadata_at and an existing mam_json passes unchanged; --force redoes it" {
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1 Lamp)"
	assert_success
	line=$(jq -c '.checkpoints = {metadata_at: "2026-11-26T15:00:00Z"}' <<<"$output")
	run --separate-stderr mf-meta --refresh <<<"$line"
	assert_success
	[ "$output" = "$line" ]
	[ "$(audnex_count /books/B0TESTSER1)" -eq 1 ]
	run --separate-stderr mf-meta --refresh --force <<<"$line"
	assert_success
	[ "$(audnex_count /books/B0TESTSER1)" -eq 2 ]
	# The checkpoint without its file is redone too.
	rm "$OUT/Lamp/Lamp.json"
	run --separate-stderr mf-meta <<<"$line"
	assert_success
	[ -s "$OUT/Lamp/Lamp.json" ]
}

@test "failures: no staging, an output dir inside the seed root; the run goes on; error records pass" {
	{
		echo '{"id":"nostage","asin":"B0TESTSER1"}'
		echo '{"id":"had-error","error":{"stage":"stage","message":"x","retryable":false}}'
		rec B0TESTSER1 Lamp
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-meta <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	jq -se '.[0].error.stage == "metadata" and (.[0].error.message | test("mf-stage"))' <<<"$output"
	jq -se '.[1] == {"id":"had-error","error":{"stage":"stage","message":"x","retryable":false}}' <<<"$output"
	jq -se '.[2].error == null and .[2].meta.mam_json != null' <<<"$output"
	run --separate-stderr mf-meta -o "$SEED/out" <<<"$(rec B0TESTSER1 Lamp)"
	[ "$status" -eq 1 ]
	jq -e '.error.stage == "metadata" and (.error.message | test("inside the staging area"))' <<<"$output"
	[ ! -e "$SEED/out" ]
}

@test "an output folder that cannot be made fails the record, retryable, naming the path" {
	# A file where the output root should be: mkdir fails even for root.
	: >"$OUT"
	run --separate-stderr mf-meta <<<"$(rec B0TESTSER1 Lamp)"
	[ "$status" -eq 1 ]
	jq -e '.error.stage == "metadata" and .error.retryable == true and
	    (.error.message | test("cannot create .*/out/Lamp: Not a directory"))' <<<"$output"
}

@test "--mediainfo puts mediainfo's report (no host path) in mediaInfo; without mediainfo, a warning" {
	mf_need mediainfo
	run --separate-stderr mf-meta --no-audnex --mediainfo <<<"$(rec B0TESTSER1 Lamp)"
	assert_success
	jq -e '.mediaInfo | test("^General") and test("Format +: MPEG-4") and (test("Complete name") | not) and
	    (test("FileExtension") | not)' \
	    "$OUT/Lamp/Lamp.json"
	! grep -q "$SEED" "$OUT/Lamp/Lamp.json"
	# A PATH without mediainfo: the report is built from our facts.
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	ln -s "$(command -v mf-meta)" "$BATS_TEST_TMPDIR/bin/mf-meta"
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin" mf-meta --no-audnex --mediainfo <<<"$(rec B0TESTSER1 Lamp)"
	assert_success
	jq -e '.meta.warnings | any(test("mediainfo: not installed"))' <<<"$output"
	jq -e '.mediaInfo | test("^General\nFormat +: MPEG-4") and test("Sampling rate +: 8 kHz")' "$OUT/Lamp/Lamp.json"
}

@test "a warning cut to its bounded length inside a character is still UTF-8 in the record" {
	mf_need iconv
	local d pad e
	# Two lengths: one of them puts the 700-byte cut inside a two-byte character.  The
	# folder (inside MF_SEED_ROOT, four names of 200 bytes) does not exist.
	mkdir -p "$SEED"
	e=$(printf 'é%.0s' $(seq 100))
	for pad in "" x; do
		d="$SEED/$pad$e/$e/$e/$e"
		jq -nc --arg d "$d" '{id:"B0TESTSER1",asin:"B0TESTSER1",staging:{dir:$d,name:"N"}}' \
		    >"$BATS_TEST_TMPDIR/in.ndjson"
		run --separate-stderr mf-meta --no-audnex <"$BATS_TEST_TMPDIR/in.ndjson"
		assert_success
		printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out.ndjson"
		jq -e '.meta.warnings | any(startswith("no audio file in"))' "$BATS_TEST_TMPDIR/out.ndjson"
		iconv -f UTF-8 -t UTF-8 "$BATS_TEST_TMPDIR/out.ndjson" >/dev/null
	done
}
