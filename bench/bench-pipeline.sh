#!/bin/sh
# bench-pipeline.sh: the whole pipeline end to end, `mamfast run` over 200 small releases
# (scripts/mklibrary --books 200 --tiny: one m4b, a sidecar and a cover each) against a
# local qbittorrent-nox (scripts/qbt-sandbox) and the Audnex stand-in, both on 127.0.0.1.
# Everything is done: scan, state, hardlink staging, Audnex + audio metadata + MAM JSON,
# hashing, qBittorrent add, checkpoints.  Target: >= 50 releases/s.  Audnex pacing is off
# (MF_AUDNEX_RATE=1000: the pacing is politeness towards the public API, not work).
# Baseline, measured in the same run: the naive per-release shell loop the original did
# (mkdir + ln, mktorrent, one curl for the info check and one for the add) over 50 other
# releases of the same kind; the ratio says how many times faster the pipeline is.
# Usage: sh bench/bench-pipeline.sh (MF_BIN = folder of the programs; BENCH_N for 200).
# Exit 1 when the target is missed or the run did not complete every release.
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup bench-pipeline mamfast mf-scan mf-stage mf-meta mf-torrent mf-qbt-add mf-state \
    mf-lock mklibrary qbt-sandbox audnex-fixture-server qbittorrent-nox mktorrent \
    transmission-show curl jq
N=${BENCH_N:-200}
NB=50
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pipeline.XXXXXX")
qdir='' apid=''
# shellcheck disable=SC2317 # called from the traps
cleanup() {
	[ -z "$apid" ] || { kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null; } || true
	[ -z "$qdir" ] || QBT_DIR=$qdir qbt-sandbox stop || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "bench-pipeline: $N + $NB releases with mklibrary ..."
mklibrary "$work/lib" --books "$N" --tiny --quiet
mklibrary "$work/base" --books "$NB" --tiny --quiet

export QBT_PASS=bench-pass QBT_USER=admin
qdir=$(QBT_DIR="$work/qbt" qbt-sandbox start)
url=$(cat "$qdir/url")
audnex-fixture-server --port 0 --port-file "$work/audnex.port" --quiet >/dev/null 2>&1 &
apid=$!
i=0
while [ ! -s "$work/audnex.port" ]; do
	i=$((i + 1)); [ $i -le 100 ] || { echo "bench-pipeline: Audnex stand-in did not start" >&2; exit 1; }
	sleep 0.1
done

cat >"$work/mamfast.conf" <<EOF
MF_LIBRARY=$work/lib
MF_SEED_ROOT=$work/seed
MF_OUT_DIR=$work/out
MF_STATE_DIR=$work/state
MF_CACHE_DIR=$work/cache
MF_ANNOUNCE_URL=https://tracker.invalid/announce/benchpasskey
MF_AUDNEX_URL=http://127.0.0.1:$(cat "$work/audnex.port")
MF_AUDNEX_RATE=1000
MF_QBT_URL=$url
MF_QBT_USER=admin
MF_QBT_PAUSED=1
MF_QBT_CATEGORY=bench
EOF
export MF_CONFIG="$work/mamfast.conf" MF_QBT_PASS=bench-pass

# Baseline: the naive loop, one process per step per release.
jar="$work/jar"
printf %s "$QBT_PASS" | curl -sS -c "$jar" --data-urlencode username=admin \
    --data-urlencode password@- "$url/api/v2/auth/login" >/dev/null
mkdir -p "$work/base-seed" "$work/base-out"
t0=$(now)
for src in "$work/base"/*/; do
	name=$(basename "$src")
	mkdir -p "$work/base-seed/$name"
	for f in "$src"*; do ln "$f" "$work/base-seed/$name/"; done
	mktorrent -p -s MAM -a https://tracker.invalid/announce/benchpasskey \
	    -o "$work/base-out/$name.torrent" "$work/base-seed/$name" >/dev/null
	h=$(transmission-show "$work/base-out/$name.torrent" | sed -n 's/^ *Hash v1: *//p; s/^ *Hash: *//p' | head -n 1)
	curl -sS -b "$jar" "$url/api/v2/torrents/info?hashes=$h" >/dev/null
	curl -sS -b "$jar" -F "torrents=@$work/base-out/$name.torrent" -F "savepath=$work/base-seed" \
	    -F category=baseline -F paused=true -F skip_checking=true "$url/api/v2/torrents/add" >/dev/null
done
t1=$(now)
base=$(rate "$NB" "$t0" "$t1")

t0=$(now)
rc1=0
mamfast run >"$work/run1.out" 2>"$work/run1.err" || rc1=$?
t1=$(now)
full=$(rate "$N" "$t0" "$t1")
full_s=$(secs "$t0" "$t1")

t0=$(now)
rc2=0
mamfast run >"$work/run2.out" 2>"$work/run2.err" || rc2=$?
t1=$(now)
again_s=$(secs "$t0" "$t1")

complete=$(MF_STATE_DIR="$work/state" mf-state list --complete --json | jq -s length)
printf %s "$QBT_PASS" | curl -sS -c "$jar" --data-urlencode username=admin \
    --data-urlencode password@- "$url/api/v2/auth/login" >/dev/null
in_qbt=$(curl -sS -b "$jar" "$url/api/v2/torrents/info?category=bench" | jq length)

rc=0
echo "$(nproc) cores; qbittorrent-nox $(qbittorrent-nox --version 2>/dev/null | tr -d '\n'); load average $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other work competes)"
echo "baseline (naive loop: ln, mktorrent, curl info + add per release): $NB releases, $base releases/s"
ok=$(awk -v r="$full" 'BEGIN { print (r >= 50) ? "target met" : "target MISSED" }')
echo "mamfast run: $N releases end to end in $full_s s = $full releases/s (${ok}: >= 50/s); $(awk -v a="$full" -v b="$base" 'BEGIN { printf "%.1f", a / b }')x the baseline"
echo "mamfast run again (nothing to do): $again_s s"
[ "$ok" = "target met" ] || rc=1
if [ "$rc1" -ne 0 ] || [ "$complete" -ne "$N" ] || [ "$in_qbt" -ne "$N" ]; then
	echo "bench-pipeline: the run did not complete every release (exit $rc1, $complete complete, $in_qbt in qBittorrent):" >&2
	tail -n 20 "$work/run1.out" "$work/run1.err" >&2
	rc=1
fi
[ "$rc2" -eq 0 ] || { echo "bench-pipeline: the second run exited $rc2" >&2; rc=1; }
exit $rc
