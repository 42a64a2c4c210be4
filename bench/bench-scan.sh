#!/bin/sh
# bench-scan.sh: mf-scan over a synthetic Libation library of 10,000 releases and 30,000
# files (Libation's default layout: "<Title> [ASIN]/<Title> [ASIN].{m4b,metadata.json,jpg}",
# the audio and cover hardlinked to one small file each, a real sidecar per release, a
# third of them in an "Author/Series/" layout), measured against `find LIBRARY -type f` on
# the same tree in the same run, cache warm (one untimed run of each first).
# Target: mf-scan takes at most 2x the time of find.  Whole-process wall time: the median
# of 7 runs, interleaving the two (CPU time, user + system, is printed too: on a machine
# shared with other jobs wall time also measures the scheduler).  Prints the figures and "target met" or "target MISSED";
# exits 1 when missed.  Set BENCH_RELEASES to change the size.
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup bench-scan mf-scan find python3
n=${BENCH_RELEASES:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/mf-bench-scan.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
lib="$work/lib"

python3 - "$lib" "$n" <<'PY'
import json, os, sys
lib, n = sys.argv[1], int(sys.argv[2])
os.makedirs(lib)
audio, cover = os.path.join(lib, ".audio"), os.path.join(lib, ".cover")
open(audio, "wb").write(b"\0" * 4096)
open(cover, "wb").write(b"\xff\xd8" + b"\0" * 1024)
for i in range(n):
    asin = "B0BN%06d" % i
    title = "Bench Book %06d" % i
    if i % 3 == 0:
        d = os.path.join(lib, "Author %03d" % (i % 500), "Series %04d" % (i % 2000),
                         "%s vol_%02d (2020) (Author %03d) {ASIN.%s}" % (title, i % 20, i % 500, asin))
    else:
        d = os.path.join(lib, "%s [%s]" % (title, asin))
    os.makedirs(d)
    base = os.path.join(d, "%s [%s]" % (title, asin))
    os.link(audio, base + ".m4b")
    os.link(cover, base + ".jpg")
    meta = {"asin": asin, "title": title, "subtitle": "A Bench Story",
            "authors": [{"asin": "B000AUTH01", "name": "Author %03d" % (i % 500)}],
            "narrators": [{"name": "Narrator %03d" % (i % 300)}],
            "series": [{"asin": "B0SERIES01", "title": "Series %04d" % (i % 2000), "sequence": str(i % 20)}],
            "publisher_name": "Bench Audio", "release_date": "2020-01-01",
            "runtime_length_min": 600, "language": "english", "format_type": "unabridged",
            "merchandising_summary": "A generated book for the scan benchmark. " * 5,
            "publisher_summary": "<p>" + "A generated book for the scan benchmark. " * 10 + "</p>"}
    with open(base + ".metadata.json", "w") as f:
        json.dump(meta, f, indent=2)
os.unlink(audio)
os.unlink(cover)
PY

files=$(find "$lib" -type f | wc -l)
dirs=$(find "$lib" -type d | wc -l)

now() { date +%s%N; }
# CPU milliseconds (user + system) used so far by this shell's finished children.
cpu() {
	awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, "m");
	    n += a[1] * 60000 + substr(a[2], 1, length(a[2]) - 1) * 1000 } printf "%d\n", n }' "$1"
}
# Milliseconds of one run of "$@" (output discarded); its CPU time is added to file $CPUF.
once() {
	times >"$work/t0"	# not in $(...) or a pipe: a subshell has no children
	s=$(now)
	"$@" >/dev/null 2>&1
	e=$(now)
	times >"$work/t1"
	c0=$(cpu "$work/t0")
	c1=$(cpu "$work/t1")
	echo $((c1 - c0)) >>"$CPUF"
	echo $(((e - s) / 1000000))
}
median() {
	sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# Cache warm, and a check that the scan sees every release.
find "$lib" -type f >/dev/null
got=$(mf-scan "$lib" | wc -l)
if [ "$got" -ne "$n" ]; then
	echo "bench-scan: mf-scan found $got releases, expected $n"
	exit 1
fi
: >"$work/f"
: >"$work/s"
for _ in 1 2 3 4 5 6 7; do
	CPUF="$work/fc" once find "$lib" -type f >>"$work/f"
	CPUF="$work/sc" once mf-scan "$lib" >>"$work/s"
done
tf=$(median <"$work/f")
ts=$(median <"$work/s")
cf=$(median <"$work/fc")
cs=$(median <"$work/sc")
[ "$tf" -gt 0 ] || tf=1
ratio=$(awk -v a="$ts" -v b="$tf" 'BEGIN { printf "%.2f", a / b }')
echo "tree: $n releases, $files files, $dirs folders (2-core machine shared with other jobs, page cache warm; load average: $(cut -d" " -f1-3 /proc/loadavg))"
echo "find -type f: ${tf} ms wall, ${cf} ms CPU (medians of 7)"
echo "mf-scan:      ${ts} ms wall, ${cs} ms CPU (medians of 7; 2 worker threads), $got records"
if awk -v r="$ratio" 'BEGIN { exit !(r <= 2.0) }'; then
	echo "mf-scan / find = ${ratio}x (target <= 2x): target met"
else
	echo "mf-scan / find = ${ratio}x (target <= 2x): target MISSED"
	exit 1
fi
