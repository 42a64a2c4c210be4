# e2e.bash: end-to-end helpers for tests/e2e*.bats: the whole mamfast pipeline against a
# real qbittorrent-nox (lib/qbt.bash) and the Audnex stand-in, over libraries made by
# scripts/mklibrary.
#
#   load lib/common
#   load lib/e2e          # loads lib/qbt and lib/audnex, and defines these defaults
#                         # (a bats file may define its own after the load):
#   setup_file()    -> e2e_setup_file: qBittorrent + Audnex stand-in, one per file
#   teardown_file() -> e2e_teardown_file
#   setup()         -> e2e_setup: fails when a tool is missing; fresh config, empty qBittorrent
#   @test ... { e2e_library small --books 3 --tiny; run mamfast run; ...; }
#
# After e2e_setup every test has: MF_CONFIG (its own file, written by e2e_config), the
# folders LIB SEED OUT STATE under $BATS_TEST_TMPDIR, E2E_PASSKEY (inside MF_ANNOUNCE_URL),
# MF_QBT_* and MF_AUDNEX_URL, and an empty qBittorrent.

load lib/qbt

E2E_TOOLS="mf-scan mf-state mf-stage mf-meta mf-torrent mf-qbt-add mf-lock mklibrary"
E2E_PASSKEY=e2epasskey0123456789abcdef

# lib/common clears MF_AUDNEX_URL for every test: restore it from the file's server.
if [[ -n "${E2E_AUDNEX_URL:-}" ]]; then
	export MF_AUDNEX_URL="$E2E_AUDNEX_URL" AUDNEX_URL="$E2E_AUDNEX_URL"
fi

# Fail, naming it, when a pipeline tool is not built (make check builds them all first).
e2e_need_tools() {
	local t
	for t in $E2E_TOOLS; do
		command -v "$t" >/dev/null 2>&1 || fail "$t is not built (make builds it)"
	done
	mf_need jq curl ffmpeg qbittorrent-nox python3
}

# The Audnex stand-in comes from lib/audnex.bash (audnex_start, audnex_stop, audnex).
load lib/audnex

# e2e_audnex_start [ARGS...]: the stand-in, its URL kept for every test of the file.
e2e_audnex_start() {
	audnex_start "$@" || return 1
	export E2E_AUDNEX_URL="$AUDNEX_URL" MF_AUDNEX_URL="$AUDNEX_URL"
}

e2e_setup_file() {
	for t in $E2E_TOOLS; do
		command -v "$t" >/dev/null 2>&1 || return 0	# each test fails with the reason
	done
	qbt_start
	e2e_audnex_start
}

e2e_teardown_file() {
	audnex_stop
	qbt_stop
}

# Per test: the tools, a fresh configuration, an empty qBittorrent.
e2e_setup() {
	e2e_need_tools
	[[ -n "${QBT_URL:-}" ]] || fail "the qBittorrent sandbox did not start (setup_file)"
	LIB="$BATS_TEST_TMPDIR/library" SEED="$BATS_TEST_TMPDIR/seed"
	OUT="$BATS_TEST_TMPDIR/out" STATE="$BATS_TEST_TMPDIR/state"
	e2e_config
	e2e_qbt_clear
	audnex /_control/reset >/dev/null || true
}

# e2e_config [KEY=VALUE...]: write this test's configuration file (extra lines appended).
e2e_config() {
	export MF_CONFIG="$BATS_TEST_TMPDIR/mamfast.conf"
	{
		echo "MF_LIBRARY=$LIB"
		echo "MF_SEED_ROOT=$SEED"
		echo "MF_OUT_DIR=$OUT"
		echo "MF_STATE_DIR=$STATE"
		echo "MF_CACHE_DIR=$BATS_TEST_TMPDIR/cache"
		echo "MF_ANNOUNCE_URL=https://tracker.test/tracker.php/$E2E_PASSKEY/announce"
		echo "MF_QBT_CATEGORY=e2e-books"
		echo "MF_QBT_TAGS=mamfast,e2e"
		echo "MF_TIMEOUT=5"
		echo "MF_AUDNEX_RATE=1000"	# the local stand-in needs no politeness pacing
		local kv
		for kv in "$@"; do echo "$kv"; done
	} >"$MF_CONFIG"
}

# Remove every torrent from qBittorrent (the server is shared by the file's tests).
e2e_qbt_clear() {
	local hashes
	hashes=$(qbt_torrents | jq -r '.[].hash') || return 1
	[[ -z $hashes ]] || qbt_delete $hashes
	local i
	for i in $(seq 50); do
		[[ $(qbt_count) == 0 ]] && return 0
		sleep 0.1
	done
	return 1
}

# e2e_library NAME [mklibrary args...]: a library made once per bats file (ffmpeg is the
# slow part), copied into $LIB for each test (tests stage hardlinks into it).
# E2E_LIBLIST is mklibrary's list of what it made ("ASIN<TAB>DIR" lines).
e2e_library() {
	local name=$1; shift
	local cache
	cache="$BATS_FILE_TMPDIR/lib-$name-$(printf '%s ' "$@" | md5sum | cut -c1-8)"
	if [[ ! -e $cache.done ]]; then
		rm -rf "$cache"
		mklibrary "$cache" "$@" >"$cache.txt" || { cat "$cache.txt" >&2; return 1; }
		touch "$cache.done"
	fi
	E2E_LIBLIST="$cache.txt"
	rm -rf "$LIB"
	cp -a "$cache" "$LIB"
}

# e2e_state_json: the store as the tools see it (one record per line: mf-state list --json).
e2e_state_json() {
	mf-state list --json
}

# e2e_books_with_asin: how many releases of $LIB have an ASIN (from mf-scan itself).
e2e_scan_count() {
	mf-scan "$LIB" | jq -s "$1"
}

# No temporary or partial file left where the tools write (seed root, output, state).
e2e_no_temp_files() {
	local left
	left=$(find "$SEED" "$OUT" "$STATE" \( -name '*.tmp' -o -name '.*.tmp.*' -o -name '*.part' \
	    -o -name '*.partial' -o -name '.mf-*' -o -name '*~' \) 2>/dev/null)
	[[ -z $left ]] || { echo "left behind:"; echo "$left"; return 1; }
}

# e2e_tmpfs NAME SIZE: a tmpfs of SIZE mounted on $BATS_TEST_TMPDIR/NAME, its path in
# FAULT_MNT (the bats file's teardown unmounts it), or skip with the reason.
# e2e_fill: fill it, leaving less than one page free.
e2e_tmpfs() {
	FAULT_MNT="$BATS_TEST_TMPDIR/$1"
	mkdir -p "$FAULT_MNT"
	mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$FAULT_MNT" 2>"$BATS_TEST_TMPDIR/mount.err" ||
		skip "cannot mount a tmpfs here ($(head -n 1 "$BATS_TEST_TMPDIR/mount.err")): needs root"
}
e2e_fill() {
	dd if=/dev/zero of="$FAULT_MNT/filler" bs=4k 2>/dev/null || true
}

# e2e_stalled_run CONDITION: start `mamfast run` in its own process group ($pid) with
# Audnex answering nothing for 30 s (the run stalls at metadata), and wait until the shell
# CONDITION holds (at most 10 s).
e2e_stalled_run() {
	audnex '/_control/rule?path=/books&action=delay&arg=30&times=0' >/dev/null
	setsid mamfast run >"$BATS_TEST_TMPDIR/stalled.out" 2>&1 3>&- &
	pid=$!
	local i
	for i in $(seq 100); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

setup_file() { e2e_setup_file; }
teardown_file() { e2e_teardown_file; }
setup() { e2e_setup; }
