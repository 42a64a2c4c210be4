#!/bin/sh
# bench-qbt.sh: mf-qbt-add against a local qbittorrent-nox (scripts/qbt-sandbox, 127.0.0.1),
# once per qBittorrent release of the matrix (scripts/qbt-versions: 4.5 is the host's, 5.1
# and 5.3 run from cached Debian roots, which needs root), each on a fresh server:
#   1. 500 new torrents added (info check + multipart add + confirming lookup per record);
#      target >= 300 records/s.
#   2. the same 500 again, all already present (one lookup each); target >= 1,000 records/s.
# Baseline, measured against the same server just before: the naive client, one curl
# process per request (info check + add) over 100 other torrents, with a login cookie jar.
# Torrents: 500 + 100 tiny private ones made with mktorrent (no tracker), added paused.
# Usage: sh bench/bench-qbt.sh (MF_BIN = folder of mf-qbt-add; BENCH_N to change 500;
# BENCH_QBT="4.5 5.3" to measure only those releases).
# Exit 1 when a target is missed, or a release could not be measured (said why).
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup bench-qbt mf-qbt-add qbittorrent-nox mktorrent transmission-show curl jq python3
N=${BENCH_N:-500}
NB=100
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-qbt.XXXXXX")
qdir=
cleanup() {
	[ -z "$qdir" ] || QBT_DIR=$qdir qbt-sandbox stop || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
versions=${BENCH_QBT:-$(qbt-versions list | awk '{ print $1 }')}

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

export QBT_PASS=bench-pass QBT_USER=admin

echo "bench-qbt: making $N + $NB torrents with mktorrent ..."
mkdir -p "$work/seed"
i=0
: >"$work/add.ndjson"
: >"$work/base.list"
while [ "$i" -lt $((N + NB)) ]; do
	i=$((i + 1))
	d="$work/seed/book$i"
	mkdir -p "$d"
	printf 'bench %s %s\n' "$i" "$(date +%N)" >"$d/part.bin"
	mktorrent -p -l 15 -o "$work/seed/book$i.torrent" "$d" >/dev/null
	h=$(transmission-show "$work/seed/book$i.torrent" | sed -n 's/^ *Hash: *//p')
	if [ "$i" -le "$N" ]; then
		printf '{"id":"book%s","staging":{"dir":"%s","name":"book%s"},"torrent":{"path":"%s","infohash":"%s"}}\n' \
		    "$i" "$d" "$i" "$work/seed/book$i.torrent" "$h" >>"$work/add.ndjson"
	else
		echo "$work/seed/book$i.torrent $h" >>"$work/base.list"
	fi
done

export MF_CONFIG=/dev/null MF_QBT_USER=admin MF_QBT_PASS=bench-pass
export MF_QBT_PAUSED=1 MF_QBT_CATEGORY=bench MF_QBT_TAGS=bench
unset MF_QBT_SAVEPATH MF_SEED_ROOT MF_QBT_API_KEY MF_QBT_PASS_FILE || true

rc=0
verdict() { if [ "$1" -ge "$2" ]; then echo "target met"; else echo "target MISSED"; rc=1; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

# timed OUT STATUS: one mf-qbt-add run over the N records; sets rate_, secs_, count_
# (records that came out with qbt.status STATUS).
timed() {
	t0=$(now)
	mf-qbt-add <"$work/add.ndjson" >"$work/$1"
	t1=$(now)
	rate_=$(rate "$N" "$t0" "$t1")
	secs_=$(secs "$t0" "$t1")
	count_=$(jq -r .qbt.status "$work/$1" | grep -c "^$2\$" || true)
}

# bench_one: baseline, then the two runs, against the qbittorrent-nox first on PATH.
bench_one() {
	qdir=$(QBT_DIR="$work/qbt" qbt-sandbox start)
	url=$(cat "$qdir/url")
	export MF_QBT_URL="$url"

	# Baseline: one curl process per request.
	jar="$work/jar"
	rm -f "$jar"
	printf %s "$QBT_PASS" | curl -sS -c "$jar" --data-urlencode username=admin \
	    --data-urlencode password@- "$url/api/v2/auth/login" >/dev/null
	t0=$(now)
	while read -r tf h; do
		curl -sS -b "$jar" "$url/api/v2/torrents/info?hashes=$h" >/dev/null
		curl -sS -b "$jar" -F "torrents=@$tf" -F "savepath=$work/seed" -F category=bench \
		    -F tags=bench -F paused=true -F stopped=true -F skip_checking=true \
		    "$url/api/v2/torrents/add" >/dev/null
	done <"$work/base.list"
	t1=$(now)
	base=$(rate "$NB" "$t0" "$t1")

	timed out1 added
	add=$rate_ add_s=$secs_ n_added=$count_
	timed out2 exists
	skip=$rate_ skip_s=$secs_ n_exists=$count_
	QBT_DIR=$qdir qbt-sandbox stop
	qdir=

	echo "$(qbittorrent-nox --version 2>/dev/null | tr -d '\n'), $(nproc) cores, load $(bench_load)"
	echo "  baseline (curl process per request, info + add): $NB records, $base records/s"
	v1=$(verdict "$add" 300)
	echo "  add:  $N new records in $add_s s = $add records/s ($n_added added; ${v1}: >= 300/s); $(ratio "$add" "$base")x the baseline"
	v2=$(verdict "$skip" 1000)
	echo "  skip: $N present records in $skip_s s = $skip records/s ($n_exists exists; ${v2}: >= 1000/s); $(ratio "$skip" "$base")x the baseline"
	[ "$n_added" -eq "$N" ] || { echo "bench-qbt: only $n_added of $N added" >&2; rc=1; }
	[ "$n_exists" -eq "$N" ] || { echo "bench-qbt: only $n_exists of $N found present" >&2; rc=1; }
	case "$v1 $v2" in *MISSED*) rc=1 ;; esac
}

path0=$PATH
for v in $versions; do
	mkdir -p "$work/bin-$v"
	if ! qbt-versions wrapper "$v" "$work/bin-$v" >/dev/null; then
		echo "bench-qbt: qBittorrent $v: not measured (see above)" >&2
		rc=1
		continue
	fi
	PATH="$work/bin-$v:$path0"
	bench_one
done
exit $rc
