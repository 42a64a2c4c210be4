# audnex.bash: the Audnex stand-in (scripts/audnex-fixture-server) for bats files.
# Load after lib/common.  setup_file: audnex_start [server args]; teardown_file: audnex_stop.
# Then every test has AUDNEX_URL; `audnex /_control/...` sends control requests.

audnex_start() {
	local pf="$BATS_FILE_TMPDIR/audnex.port" i
	rm -f "$pf"
	audnex-fixture-server --port 0 --port-file "$pf" --quiet "$@" \
	    >/dev/null 2>"$BATS_FILE_TMPDIR/audnex.log" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/audnex.pid"
	for i in $(seq 200); do
		[[ -s $pf ]] && break
		sleep 0.05
	done
	[[ -s $pf ]] || { echo "audnex-fixture-server did not start" >&2; cat "$BATS_FILE_TMPDIR/audnex.log" >&2; return 1; }
	export AUDNEX_URL="http://127.0.0.1:$(cat "$pf")"
}

audnex_stop() {
	local pidf="$BATS_FILE_TMPDIR/audnex.pid"
	[[ -s $pidf ]] || return 0
	kill "$(cat "$pidf")" 2>/dev/null || true
	wait "$(cat "$pidf")" 2>/dev/null || true
	rm -f "$pidf"
}

# audnex GET-PATH: a control request (rules, counts, reset).
audnex() {
	curl -sS --noproxy '*' --max-time 5 "$AUDNEX_URL$1"
}

# audnex_count PATH [REGION]: requests the stand-in saw for exactly PATH.
audnex_count() {
	audnex "/_control/count?path=$1${2:+&region=$2}"
}

# For the mf-meta bats files: meta_setup_file in setup_file, meta_setup in setup.
# A tiny real m4b ($BATS_FILE_TMPDIR/tiny.m4b, 2 s mono AAC) and the stand-in.
meta_setup_file() {
	command -v ffmpeg >/dev/null || return 0	# each test fails with the reason
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:sample_rate=8000:duration=2" \
	    -c:a aac -b:a 16k -ac 1 "$BATS_FILE_TMPDIR/tiny.m4b"
	audnex_start
}

# Per test: a clean stand-in, this test's folders, and fast settings (no pacing, short
# backoff and timeouts; a test overrides what it checks).
meta_setup() {
	mf_need ffmpeg jq curl python3
	audnex /_control/reset >/dev/null
	export MF_AUDNEX_URL="$AUDNEX_URL"
	SEED="$BATS_TEST_TMPDIR/seed" OUT="$BATS_TEST_TMPDIR/out" CACHE="$BATS_TEST_TMPDIR/cache"
	FIX="$MF_ROOT/tests/fixtures/audnex"
	export MF_OUT_DIR="$OUT" MF_SEED_ROOT="$SEED" MF_CACHE_DIR="$CACHE"
	export MF_AUDNEX_RATE=1000 MF_AUDNEX_BACKOFF=0.05 MF_TIMEOUT=5 MF_AUDNEX_RETRY_TIME=10
}

# rec ASIN [NAME]: a staged record (the tiny m4b in $SEED/NAME) with the fields mf-scan and
# mf-stage set, one unknown field, and record-side title/authors/series to fall back on.
rec() {
	local asin=$1 name=${2:-$1}
	mkdir -p "$SEED/$name"
	cp "$BATS_FILE_TMPDIR/tiny.m4b" "$SEED/$name/$name.m4b"
	jq -cn --arg a "$asin" --arg d "$SEED/$name" --arg n "$name" \
	    '{id:$a, asin:$a, title:"Record \($a)", authors:["Record Author"], narrators:["Record Reader"],
	      series:"Record Series", series_position:"3", extra:{kept:true},
	      staging:{dir:$d, name:$n, files:[{src:"x", dst:($d + "/" + $n + ".m4b"), how:"link"}]}}'
}
