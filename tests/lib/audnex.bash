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
