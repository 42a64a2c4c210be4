#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Paths swapped under a running tool: a file renamed over by a symbolic link to a file
# outside, a release folder exchanged with a link to an outside folder of the same names.
# Each tool must read (or link) only what it found inside, or fail the record; never an
# outside file.  Each race is run many times, bounded in time: first with the window held
# open deterministically where the tool lets us see it (a large file hashed first), then
# as a stress of many swaps during many runs.

load lib/common

# In memory when it can be (/dev/shm): tens of thousands of files are made and removed
# quickly there, and a copy's fsync costs nothing, so the tests stay short under load.
setup() {
	mf_need python3 jq
	WORK=$(mktemp -d /dev/shm/mf-races.XXXXXX 2>/dev/null) || WORK=$BATS_TEST_TMPDIR
	cd "$WORK"
}

teardown() {
	cd /
	[ "$WORK" = "$BATS_TEST_TMPDIR" ] || rm -rf "$WORK"
}

# open_in PID PATTERN: 0 when process PID has a file matching PATTERN open.
open_in() {
	local f
	for f in /proc/"$1"/fd/*; do
		[[ $(readlink "$f" 2>/dev/null) == $2 ]] && return 0
	done
	return 1
}

# swapper SECONDS CMD...: python3 swaps as told for SECONDS (or until killed), in the
# background; its pid in $swap_pid.  With SWAP_AFTER=DIR set it first waits (within the
# SECONDS) until DIR exists and holds something: the tool has passed its checks.  Modes:
#   file PATH LINKTARGET   PATH alternates between itself (a hard link kept in the folder
#                          above PATH's) and a symbolic link to LINKTARGET, each time by
#                          rename(2) over it; PATH is itself again at the end
#   exchange A B           renameat2(A, B, RENAME_EXCHANGE) again and again
#   once PATH LINKTARGET   PATH renamed over by a symbolic link to LINKTARGET, once
swapper() {
	python3 - "$@" <<'PY' &
import ctypes, os, sys, time
secs, mode = float(sys.argv[1]), sys.argv[2]
end = time.time() + secs
after = os.environ.get("SWAP_AFTER")
while after and time.time() < end:
    try:
        if os.listdir(after):
            break
    except OSError:
        time.sleep(0.0002)
if mode == "file":
    path, target = sys.argv[3], sys.argv[4]
    up = os.path.dirname(os.path.dirname(path))
    keep, tmp = up + "/swap.keep", up + "/swap.tmp"
    os.link(path, keep)
    while time.time() < end:
        try:
            os.symlink(target, tmp); os.rename(tmp, path)
            os.link(keep, tmp); os.rename(tmp, path)
        except OSError:
            pass
    os.link(keep, tmp); os.rename(tmp, path); os.unlink(keep)
    if os.path.exists(tmp):	# rename of a link to the same file does nothing
        os.unlink(tmp)
elif mode == "once":
    os.symlink(sys.argv[4], sys.argv[3] + ".swap"); os.rename(sys.argv[3] + ".swap", sys.argv[3])
else:
    libc = ctypes.CDLL(None, use_errno=True)
    a, b = sys.argv[3].encode(), sys.argv[4].encode()
    n = 0
    while time.time() < end:
        libc.renameat2(-100, a, -100, b, 2)
        n += 1
    if n % 2:
        libc.renameat2(-100, a, -100, b, 2)
PY
	swap_pid=$!
}

@test "mf-torrent: a file renamed over by a same-size link to an outside file while hashing is never read" {
	# R holds a large sparse file hashed first (-j 1: one worker, in order) and a 64 KiB
	# file; O holds a file of that name and size with other bytes.  Once R/a-big is open
	# the walk is over: b is swapped for a link to O/b while a-big is still being read.
	local try counted=0 escaped=0 refused=0 pid
	mkdir O
	head -c 65536 /dev/urandom >O/b
	for try in $(seq 1 12); do
		rm -rf R t.torrent
		mkdir R
		truncate -s 768M R/a-big
		head -c 65536 /dev/urandom >R/b
		cp R/b b.orig
		mf-torrent --no-date -j 1 -o t.torrent R >out 2>err &
		pid=$!
		while kill -0 "$pid" 2>/dev/null && ! open_in "$pid" "*/R/a-big"; do :; done
		ln -s "$PWD/O/b" R/b.link
		mv -T R/b.link R/b
		# The swap counts only when it was done while a-big was still being read.
		if open_in "$pid" "*/R/a-big"; then
			counted=$((counted + 1))
			if wait "$pid"; then
				# a torrent was made: it must be of R's own b, not of O's
				rm R/b && cp b.orig R/b
				mf-torrent --check t.torrent R >/dev/null 2>&1 || escaped=$((escaped + 1))
			else
				grep -q "replaced while it was hashed" err && refused=$((refused + 1))
			fi
		else
			wait "$pid" || true
		fi
	done
	echo "# $counted swaps in the window: $escaped read the outside file, $refused refused" >&3
	[ "$counted" -ge 6 ]
	assert_equal "$escaped" 0
	assert_equal "$refused" "$counted"
}

@test "mf-torrent: a file swapped back and forth with a link to an outside file: no torrent of outside bytes (stress)" {
	local runs=0 made=0 escaped=0 end
	mkdir R O
	for i in $(seq 1 40); do head -c 4096 /dev/urandom >"R/f$i"; done
	head -c 4096 /dev/urandom >O/f20
	cp R/f20 f20.orig
	swapper 8 file "$PWD/R/f20" "$PWD/O/f20"
	end=$((SECONDS + 6))
	while [ $SECONDS -lt $end ]; do
		runs=$((runs + 1))
		rm -f "t$runs.torrent"
		mf-torrent --no-date -j 2 -o "t$runs.torrent" R >/dev/null 2>&1 && made=$((made + 1))
	done
	wait "$swap_pid"
	cmp R/f20 f20.orig
	for t in t*.torrent; do
		[ -e "$t" ] || continue
		mf-torrent --check "$t" R >/dev/null 2>&1 || escaped=$((escaped + 1))
	done
	echo "# $runs runs, $made torrents made, $escaped of them of the outside file" >&3
	[ "$runs" -ge 5 ]
	assert_equal "$escaped" 0
}

# release N DIR OUTDIR: DIR holds N files "fNNNNN.mp3" reading "in", OUTDIR the same names
# reading "out" (other inodes); release.json is the mf-scan-like record of DIR.
release() {
	python3 - "$@" <<'PY'
import json, os, sys
n, d, o = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(d); os.makedirs(o)
files = []
for i in range(n):
    name = "f%05d.mp3" % i
    for folder, text in ((d, b"in"), (o, b"out")):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(text)
    files.append({"path": name, "size": 2, "kind": "audio"})
rec = {"id": "B0RACE0001", "asin": "B0RACE0001", "source_dir": d, "title": "Race",
       "authors": ["Ann Author"], "files": files}
with open("release.json", "w") as f:
    f.write(json.dumps(rec) + "\n")
PY
}

# escaped SEED OUTDIR: how many files under SEED are hard links of files in OUTDIR, links
# of any kind, or hold OUTDIR's bytes (a copy).
escaped() {
	python3 - "$@" <<'PY'
import os, sys
seed, out = sys.argv[1], sys.argv[2]
outside = {os.lstat(os.path.join(out, n)).st_ino for n in os.listdir(out)}
bad = 0
for root, dirs, files in os.walk(seed):
    for n in files:
        p = os.path.join(root, n)
        st = os.lstat(p)
        if st.st_ino in outside or os.path.islink(p) or open(p, "rb").read() == b"out":
            bad += 1
print(bad)
PY
}

# stage_exchanged N [mf-stage flags]: stage an N-file release while its folder is
# exchanged, again and again, with a link to an outside folder of the same names, from
# the moment the first file is staged (the checks are passed) to the end.
stage_exchanged() {
	local rc bad n files=$1
	shift
	export MF_LIBRARY="$PWD/lib" MF_SEED_ROOT="$PWD/seed"
	release "$files" "$PWD/lib/Ann Author/Race" "$PWD/outside"
	ln -s "$PWD/outside" "$PWD/lib/Ann Author/swap"
	SWAP_AFTER="$PWD/seed/$(mf-stage --dry-run <release.json | jq -r .staging.name)" \
	    swapper 120 exchange "$PWD/lib/Ann Author/Race" "$PWD/lib/Ann Author/swap"
	run --separate-stderr mf-stage "$@" <release.json
	rc=$status
	kill "$swap_pid" 2>/dev/null || true
	wait "$swap_pid" || true
	bad=$(escaped seed outside)
	n=$(find seed -type f | wc -l)
	echo "# mf-stage $* exit $rc; $n of $files files staged, $bad of them from outside" >&3
	assert_equal "$bad" 0
	if [ "$rc" -eq 0 ]; then
		assert_equal "$n" "$files"
	else
		# refused as a whole: nothing half made
		assert_equal "$n" 0
		[[ "$stderr" == *"changed while it was staged"* ]]
	fi
}

@test "mf-stage: a release folder exchanged with a link to an outside folder while it is linked: nothing outside is linked" {
	stage_exchanged 20000
}

@test "mf-stage --copy: a release folder exchanged with a link to an outside folder while it is copied: nothing outside is copied" {
	stage_exchanged 5000 --copy
}

@test "mf-stage: the last file renamed over by a link to an outside file after the checks: never staged as the link" {
	# The swap is made as soon as the first file is staged, long before the last one is
	# reached: 20,000 files linked, 5,000 copied (--copy); three tries each.
	local try v files copy rc bad hit=0 last
	for v in 20000: 5000:--copy; do
		files=${v%:*} copy=${v#*:}
		mkdir "r$files" && cd "r$files"
		export MF_LIBRARY="$PWD/lib"
		release "$files" "$PWD/lib/Ann Author/Race" "$PWD/outside"
		last="$PWD/lib/Ann Author/Race/f$(printf %05d $((files - 1))).mp3"
		ln "$last" last.orig
		for try in 1 2 3; do
			export MF_SEED_ROOT="$PWD/seed$try"
			SWAP_AFTER="$MF_SEED_ROOT/$(mf-stage --dry-run <release.json | jq -r .staging.name)" \
			    swapper 30 once "$last" "$PWD/outside/${last##*/}"
			run --separate-stderr mf-stage $copy <release.json
			rc=$status
			wait "$swap_pid"
			bad=$(escaped "$MF_SEED_ROOT" outside)
			echo "# try $try ${copy:-link} ($files files): exit $rc, $bad files from outside" >&3
			assert_equal "$bad" 0
			if [ "$rc" -ne 0 ]; then
				[[ "$stderr" == *"${last##*/} changed while it was staged"* ]] ||
				    [[ "$stderr" == *"${last##*/} to "*"Too many levels of symbolic links"* ]]
				assert_equal "$(find "$MF_SEED_ROOT" -type f | wc -l)" 0
				hit=$((hit + 1))
			fi
			ln -f last.orig "$last"
		done
		cd ..
	done
	# the swap came in time at least once in six
	[ "$hit" -ge 1 ]
}

@test "mf-meta: the main audio file swapped back and forth with a link to an outside file: its facts and mediainfo's report are never the outside file's (stress)" {
	local ff=(ffmpeg -hide_banner -loglevel error -y) d n facts reports
	mf_need ffmpeg mediainfo
	export MF_SEED_ROOT="$PWD/seed" MF_OUT_DIR="$PWD/out"
	d="$MF_SEED_ROOT/Book"
	mkdir -p "$d" O
	"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=8000:duration=2" -c:a aac -b:a 16k \
	    -ac 1 "$d/Book.m4b"
	"${ff[@]}" -f lavfi -i "sine=frequency=440:sample_rate=8000:duration=7" -c:a aac -b:a 16k \
	    -ac 1 O/Book.m4b
	swapper 120 file "$d/Book.m4b" "$PWD/O/Book.m4b"
	# 2,000 records read the facts; 30 more (named apart) also run mediainfo on the file.
	jq -nc --arg d "$d" 'range(2000) | {id:"B0RACE0001", staging:{dir:$d, name:"Book"}}' |
	    mf-meta --no-audnex --dry-run >facts.ndjson 2>/dev/null || true
	jq -nc --arg d "$d" 'range(30) | {id:"B0RACE0001", staging:{dir:$d, name:"M\(.)"}}' |
	    mf-meta --no-audnex --mediainfo >reports.ndjson 2>/dev/null || true
	kill "$swap_pid" 2>/dev/null || true
	wait "$swap_pid" || true
	facts=$(jq -s '[.[] | select(.meta.audio.duration_ms > 5000)] | length' facts.ndjson)
	reports=$(cat out/M*/M*.json | jq -s '[.[] | select(.mediaInfo | test("Duration +: 7 s"))] | length')
	echo "# $(wc -l <facts.ndjson) records: $facts with the outside file's facts;" \
	    "$(ls out | wc -l) reports: $reports of the outside file" >&3
	assert_equal "$(wc -l <facts.ndjson)" 2000
	assert_equal "$(ls out | wc -l)" 30
	assert_equal "$facts" 0
	assert_equal "$reports" 0
}
