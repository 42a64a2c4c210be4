#!/bin/sh
# bench-state.sh: checkpoint throughput of mf-state, and whether it depends on store size.
# Measures 10,000 records (pipeline-sized: title, authors, staging, torrent, qbt fields) read
# from a file through one `mf-state checkpoint staged` (group commit: one fdatasync per
# batch of waiting records), writing the records to /dev/null:
#   A. into an empty store;
#   B. into a store pre-filled with 100,000 releases (made with `mf-state import` of a
#      generated processed.json, which ends in a compaction, so B starts from a snapshot
#      of 100,000 releases and an empty journal).
# Each is run 3 times on fresh copies; the median counts.  Targets: A >= 5,000 records/s,
# and B at most 1.3x slower than A (the baseline, measured in the same run).
# Also printed, for information: the import of 100,000 releases (including its compaction).
# Usage: sh bench/bench-state.sh (MF_BIN = folder of the programs; BENCH_N for 10000,
# BENCH_FILL for 100000).  Exit 1 when a target is missed.
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup bench-state mf-state awk
export MF_CONFIG=/dev/null
N=${BENCH_N:-10000}
FILL=${BENCH_FILL:-100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-state.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":\"B%09d\",\"asin\":\"B%09d\",\"source_dir\":\"/library/Author %d/Title %d [B%09d]\",\"title\":\"Title %d\",\"authors\":[\"Author %d\"],\"staging\":{\"dir\":\"/seed/Title %d (2020) (Author %d) {ASIN.B%09d}\",\"name\":\"Title %d (2020) (Author %d) {ASIN.B%09d}\"},\"torrent\":{\"path\":\"/out/t%d.torrent\",\"infohash\":\"%040d\"}}\n", i, i, i, i, i, i, i, i, i, i, i, i, i, i, i }' > "$work/in"
# The pre-filled releases use other ids than the measured ones.
awk -v n="$FILL" 'BEGIN { printf "{\"version\":1,\"failed\":{},\"processed\":{"
	for (i = 1; i <= n; i++)
		printf "%s\"F%09d\":{\"asin\":\"F%09d\",\"title\":\"Filled %d\",\"author\":\"Someone %d\",\"processed_at\":\"2024-01-01T00:00:00\",\"staging_dir\":\"/seed/Filled %d\",\"torrent_path\":\"/out/f%d.torrent\",\"infohash\":\"%040d\",\"status\":\"COMPLETE\",\"checkpoints\":{\"staged_at\":\"2024-01-01T00:00:00\",\"metadata_at\":\"2024-01-01T00:00:00\",\"torrent_at\":\"2024-01-01T00:00:00\",\"uploaded_at\":\"2024-01-01T00:00:00\"}}", i == 1 ? "" : ",", i, i, i, i, i, i, i
	printf "}}\n" }' > "$work/fill.json"

echo "bench-state: filling a store with $FILL releases ..."
t0=$(now)
MF_STATE_DIR="$work/full" mf-state -q import "$work/fill.json"
t1=$(now)
echo "  import of $FILL releases (with compaction): $(secs "$t0" "$t1") s"
[ "$(MF_STATE_DIR="$work/full" mf-state stats --json | awk -F'"releases":' '{ split($2, a, ","); print a[1] }')" = "$FILL" ] ||
    { echo "bench-state: the filled store does not hold $FILL releases" >&2; exit 1; }

# One timed run of N records into a copy of store $1 (empty when $1 is "-"); prints seconds.
timed() {
	rm -rf "$work/run"
	if [ "$1" = - ]; then mkdir "$work/run"; else cp -a "$1" "$work/run"; fi
	sync
	a=$(now)
	MF_STATE_DIR="$work/run" mf-state checkpoint staged < "$work/in" > "$work/out"
	b=$(now)
	[ "$(wc -l < "$work/out")" -eq "$N" ] || { echo "bench-state: records lost" >&2; exit 1; }
	secs "$a" "$b"
}
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

ea=$(timed -); eb=$(timed -); ec=$(timed -)
fa=$(timed "$work/full"); fb=$(timed "$work/full"); fc=$(timed "$work/full")
e=$(median "$ea" "$eb" "$ec")
f=$(median "$fa" "$fb" "$fc")
awk -v n="$N" -v fill="$FILL" -v e="$e" -v f="$f" -v es="$ea $eb $ec" -v fs="$fa $fb $fc" 'BEGIN {
	rate = n / e; ratio = f / e
	printf "  A. %d records, empty store:          %.3f s (runs: %s) = %.0f records/s (target >= 5000): %s\n",
	    n, e, es, rate, (rate >= 5000 ? "target met" : "target MISSED")
	printf "  B. %d records, %d-release store:  %.3f s (runs: %s) = %.0f records/s\n",
	    n, fill, f, fs, n / f
	printf "  ratio B/A = %.2fx (target <= 1.3x): %s\n", ratio, (ratio <= 1.3 ? "target met" : "target MISSED")
	exit !(rate >= 5000 && ratio <= 1.3)
}'
