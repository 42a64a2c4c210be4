#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# mf-meta's audio facts against ffprobe on ffmpeg-made files (codecs, rates, channels,
# chapters, cover), and truncated or corrupt files (a warning, never a crash).

load lib/common

# chapters N LEN_MS: an ffmetadata file with N chapters of LEN_MS each.
chapters() {
	local i
	echo ';FFMETADATA1'
	echo 'title=Facts Test Book'
	echo 'artist=Ann Author'
	echo 'composer=Ned Narrator'
	for ((i = 0; i < $1; i++)); do
		printf '[CHAPTER]\nTIMEBASE=1/1000\nSTART=%d\nEND=%d\ntitle=Part %d – ünïcode %d\n' \
		    $((i * $2)) $(((i + 1) * $2)) "$i" "$i"
	done
}

setup_file() {
	command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || return 0
	local d="$BATS_FILE_TMPDIR" ff=(ffmpeg -hide_banner -loglevel error -y)
	chapters 3 4000 >"$d/ch3.txt"
	chapters 70 400 >"$d/ch70.txt"
	chapters 2 3000 >"$d/ch2.txt"
	"${ff[@]}" -f lavfi -i "color=c=navy:s=64x64:d=1" -frames:v 1 "$d/cover.jpg"
	# AAC LC 44.1 kHz stereo, a cover, 3 chapters (chpl + QuickTime text track), tags.
	"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=12" -i "$d/cover.jpg" \
	    -f ffmetadata -i "$d/ch3.txt" -map 0:a -map 1:v -map_metadata 2 -map_chapters 2 \
	    -c:a aac -b:a 64k -ac 2 -c:v copy -disposition:v:0 attached_pic "$d/aac-44k-stereo-cover.m4b"
	# AAC LC 22.05 kHz mono, no chapters, no cover, index first.
	"${ff[@]}" -f lavfi -i "sine=frequency=300:sample_rate=22050:duration=5.5" -c:a aac -b:a 32k \
	    -ac 1 -movflags +faststart "$d/aac-22k-mono.m4b"
	# AAC LC 16 kHz mono with 70 chapters.
	"${ff[@]}" -f lavfi -i "sine=frequency=500:sample_rate=16000:duration=28" \
	    -f ffmetadata -i "$d/ch70.txt" -map 0:a -map_chapters 1 -c:a aac -b:a 24k -ac 1 \
	    "$d/aac-16k-70ch.m4b"
	# E-AC-3 48 kHz stereo and AC-3 48 kHz 5.1 in MP4 (the ipod muxer takes neither).
	"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=6" \
	    -f ffmetadata -i "$d/ch2.txt" -map 0:a -map_chapters 1 -c:a eac3 -b:a 96k -ac 2 \
	    -f mp4 "$d/eac3-48k.m4b"
	"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=4" -c:a ac3 -b:a 384k \
	    -ac 6 -f mp4 "$d/ac3-51.m4b"
	# MP3: VBR with a Xing header (MPEG-2, 22.05 kHz mono), CBR without one (frame count,
	# MPEG-1 44.1 kHz stereo, ID3v2 tags), and MPEG-1 48 kHz stereo with Xing.
	"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=22050:duration=7.3" -c:a libmp3lame \
	    -q:a 5 -ac 1 "$d/vbr-22k-mono.mp3"
	"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=9" -c:a libmp3lame \
	    -b:a 128k -ac 2 -write_xing 0 -metadata title="CBR Title" -metadata artist="CBR Artist" \
	    -id3v2_version 3 "$d/cbr-44k-stereo.mp3"
	"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=6.2" -i "$d/cover.jpg" \
	    -map 0:a -map 1:v -c:a libmp3lame -b:a 160k -ac 2 -c:v copy -disposition:v:0 attached_pic \
	    -id3v2_version 3 "$d/xing-48k-stereo.mp3"
}

setup() {
	mf_need ffmpeg ffprobe jq
	export MF_SEED_ROOT="$BATS_TEST_TMPDIR/seed"
}

# meta_audio FILE: meta.audio as mf-meta reports it for a staged folder holding FILE.
meta_audio() {
	local d="$BATS_TEST_TMPDIR/seed/$(basename "$1")"
	mkdir -p "$d"
	cp "$1" "$d/"
	jq -cn --arg d "$d" '{id:"facts", staging:{dir:$d, name:"facts"}}' |
	    mf-meta --no-audnex --dry-run | jq -c .meta.audio
}

# matches_ffprobe FILE: our facts agree with ffprobe's (duration within 10 ms, channels,
# sample rate, codec, chapter starts within 1 ms and titles, cover).
matches_ffprobe() {
	local ours probe
	ours=$(meta_audio "$1")
	probe=$(ffprobe -v quiet -print_format json -show_format -show_streams -show_chapters "$1")
	echo "ours: $ours"
	jq -n --argjson o "$ours" --argjson p "$probe" '
	    def abs: if . < 0 then -. else . end;
	    ($p.streams | map(select(.codec_type == "audio"))[0]) as $a |
	    ({"aac/LC": "AAC LC", "aac/HE-AAC": "HE-AAC", "aac/HE-AACv2": "HE-AACv2",
	      "eac3/": "E-AC-3", "ac3/": "AC-3", "mp3/": "MP3"}["\($a.codec_name)/\($a.profile // "")"]) as $codec |
	    {duration: (((($o.duration_ms / 1000) - ($p.format.duration | tonumber)) | abs) <= 0.010),
	     channels: ($o.channels == $a.channels),
	     rate: ($o.sample_rate == ($a.sample_rate | tonumber)),
	     codec: ($o.codec == $codec),
	     nchapters: (($o.chapters | length) == ($p.chapters | length)),
	     titles: ([$o.chapters[].title] == [$p.chapters[].tags.title]),
	     starts: ([range(0; $p.chapters | length)] | all(. as $i |
	         (($o.chapters[$i].start_ms / 1000) - ($p.chapters[$i].start_time | tonumber)) | abs <= 0.001)),
	     cover: ($o.cover == ([$p.streams[] | select(.disposition.attached_pic == 1)] | length > 0))}
	    | debug | all' | tee /dev/stderr | grep -qx true
}

@test "AAC LC 44.1 kHz stereo with a cover and 3 chapters matches ffprobe; tags are read" {
	matches_ffprobe "$BATS_FILE_TMPDIR/aac-44k-stereo-cover.m4b"
	meta_audio "$BATS_FILE_TMPDIR/aac-44k-stereo-cover.m4b" |
	    jq -e '.cover == true and .tags.title == "Facts Test Book" and .tags.artist == "Ann Author"
	        and .tags.composer == "Ned Narrator" and .chapter_source == "qt" and .bitrate > 50000'
}

@test "AAC LC 22.05 kHz mono, index first, no chapters, no cover matches ffprobe" {
	matches_ffprobe "$BATS_FILE_TMPDIR/aac-22k-mono.m4b"
}

@test "AAC LC 16 kHz with 70 chapters (non-ASCII titles) matches ffprobe" {
	matches_ffprobe "$BATS_FILE_TMPDIR/aac-16k-70ch.m4b"
	meta_audio "$BATS_FILE_TMPDIR/aac-16k-70ch.m4b" | jq -e '.chapters | length == 70'
}

@test "E-AC-3 48 kHz stereo and AC-3 5.1 in MP4 match ffprobe" {
	matches_ffprobe "$BATS_FILE_TMPDIR/eac3-48k.m4b"
	matches_ffprobe "$BATS_FILE_TMPDIR/ac3-51.m4b"
}

@test "MP3 VBR (Xing, MPEG-2 22.05 kHz mono) matches ffprobe" {
	matches_ffprobe "$BATS_FILE_TMPDIR/vbr-22k-mono.mp3"
}

@test "MP3 CBR without a VBR header (frame count) matches ffprobe; ID3v2 tags are read" {
	matches_ffprobe "$BATS_FILE_TMPDIR/cbr-44k-stereo.mp3"
	meta_audio "$BATS_FILE_TMPDIR/cbr-44k-stereo.mp3" |
	    jq -e '.tags.title == "CBR Title" and .tags.artist == "CBR Artist" and .container == "MP3"'
}

@test "MP3 MPEG-1 48 kHz stereo with Xing and a cover (APIC) matches ffprobe" {
	matches_ffprobe "$BATS_FILE_TMPDIR/xing-48k-stereo.mp3"
	meta_audio "$BATS_FILE_TMPDIR/xing-48k-stereo.mp3" | jq -e '.cover == true'
}

@test "HE-AAC matches ffprobe (needs an HE-AAC encoder in ffmpeg)" {
	ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libfdk_aac ||
		skip "this ffmpeg has no HE-AAC encoder (libfdk_aac); HE-AAC is parsed but not tested here"
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=5" \
	    -c:a libfdk_aac -profile:a aac_he -b:a 32k "$BATS_TEST_TMPDIR/he.m4b"
	matches_ffprobe "$BATS_TEST_TMPDIR/he.m4b"
}

# broken FILE: mf-meta warns about FILE's audio, keeps going, and writes its JSON.
broken() {
	local d="$BATS_TEST_TMPDIR/seed/broken" out="$BATS_TEST_TMPDIR/out"
	rm -rf "$d"
	mkdir -p "$d" "$out"
	cp "$1" "$d/broken.m4b"
	jq -cn --arg d "$d" '{id:"broken", title:"Broken", staging:{dir:$d, name:"broken"}}' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-meta --no-audnex -o "$out" <"$BATS_TEST_TMPDIR/in"
	assert_success
	jq -e '.meta.audio == null and .meta.mam_json != null' <<<"$output"
	jq -r '.meta.warnings[]' <<<"$output"
}

@test "a truncated M4B (index at the end cut off) gives a clear warning, not a crash" {
	f="$BATS_TEST_TMPDIR/cut.m4b"
	head -c "$(( $(stat -c %s "$BATS_FILE_TMPDIR/aac-44k-stereo-cover.m4b") / 2 ))" \
	    "$BATS_FILE_TMPDIR/aac-44k-stereo-cover.m4b" >"$f"
	run broken "$f"
	assert_output --regexp "audio facts: broken.m4b: truncated"
}

@test "a corrupt M4B (a box larger than the file), random bytes, an empty file: warnings" {
	f="$BATS_TEST_TMPDIR/bad.m4b"
	cp "$BATS_FILE_TMPDIR/aac-22k-mono.m4b" "$f"
	# The faststart file's second box is moov (after ftyp): make its size huge.
	off=$(od -An -tu4 --endian=big -N4 "$f" | tr -d ' ')
	printf '\x7f\xff\xff\xff' | dd of="$f" bs=1 seek="$off" conv=notrunc 2>/dev/null
	run broken "$f"
	assert_output --regexp "audio facts: broken.m4b: (truncated or )?corrupt"
	head -c 4096 /dev/urandom >"$f"
	run broken "$f"
	assert_output --regexp "audio facts: broken.m4b: .+"
	: >"$f"
	run broken "$f"
	assert_output --partial "audio facts: broken.m4b: empty file"
}
