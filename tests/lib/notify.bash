# notify.bash: the webhook stand-in (scripts/notify-receiver) for bats files.
# Load after lib/common.  setup_file: notify_start; teardown_file: notify_stop.
# Then NOTIFY_BASE is http://127.0.0.1:PORT; post to $NOTIFY_BASE/MODE/FORMAT/TOKEN (see the
# script's header); notify_log prints the requests it received (one JSON line each).

notify_start() {
	local pf="$BATS_FILE_TMPDIR/notify.port" i
	rm -f "$pf"
	: >"$BATS_FILE_TMPDIR/notify.log"
	notify-receiver --port-file "$pf" --log "$BATS_FILE_TMPDIR/notify.log" \
	    >/dev/null 2>"$BATS_FILE_TMPDIR/notify.err" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/notify.pid"
	for i in $(seq 200); do
		[[ -s $pf ]] && break
		sleep 0.05
	done
	[[ -s $pf ]] || { echo "notify-receiver did not start" >&2; cat "$BATS_FILE_TMPDIR/notify.err" >&2; return 1; }
	export NOTIFY_BASE="http://127.0.0.1:$(cat "$pf")"
}

notify_stop() {
	local pidf="$BATS_FILE_TMPDIR/notify.pid"
	[[ -s $pidf ]] || return 0
	kill "$(cat "$pidf")" 2>/dev/null || true
	wait "$(cat "$pidf")" 2>/dev/null || true
	rm -f "$pidf"
}

# Forget the requests received so far (per test).
notify_reset() {
	: >"$BATS_FILE_TMPDIR/notify.log"
}

# The requests received, one JSON object per line.
notify_log() {
	cat "$BATS_FILE_TMPDIR/notify.log"
}

# notify_count: how many requests arrived.
notify_count() {
	wc -l <"$BATS_FILE_TMPDIR/notify.log" | tr -d ' '
}
