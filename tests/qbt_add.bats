#!/usr/bin/env bats
# mf-qbt-add against a real qbittorrent-nox on 127.0.0.1 (scripts/qbt-sandbox).
# Torrents are made with the real mktorrent; infohashes come from transmission-show.

bats_require_minimum_version 1.5.0
load lib/common
load lib/qbt

setup_file() {
	mf_need mktorrent transmission-show
	qbt_start
}
teardown_file() { qbt_stop; }

setup() {
	mf_need mktorrent transmission-show jq
	SEED="$BATS_TEST_TMPDIR/seed"
	mkdir -p "$SEED"
	export MF_QBT_CATEGORY="cat$BATS_TEST_NUMBER"
	export MF_QBT_RETRY_TIME=5
}

# Servers a test starts itself are stopped even when an assertion fails.
teardown() {
	local d
	for d in "$BATS_TEST_TMPDIR"/own*; do
		[[ -d $d ]] && QBT_DIR="$d" qbt-sandbox stop
	done
	if [[ -s $BATS_TEST_TMPDIR/relay.pids ]]; then
		kill $(cat "$BATS_TEST_TMPDIR/relay.pids") 2>/dev/null
	fi
	return 0
}

# mkrec NAME [nohash]: data + torrent under $SEED, one record on stdout (lib/qbt.bash).
mkrec() { qbt_record "$@"; }
hash_of() { qbt_hash_of "$1"; }

# "N status" counts of the records with a torrent (failed ones count as "failed").
statuses() { jq -r 'select(.torrent) | .qbt.status // "failed"' | sort | uniq -c | xargs; }

# Wait (at most 5 s) until the category holds n torrents.
wait_count() {
	local i
	for i in $(seq 100); do
		[[ $(qbt_torrents "category=$MF_QBT_CATEGORY" | jq length) == "$1" ]] && return 0
		sleep 0.05
	done
	return 1
}

# wait_state HASH STATE...: wait (at most 10 s) until the torrent is in one of the states.
wait_state() {
	local h=$1 st i; shift
	for i in $(seq 200); do
		st=$(qbt_torrent "$h" state)
		[[ " $* " == *" $st "* ]] && return 0
		sleep 0.05
	done
	echo "state of $h: $st, not one of: $*" >&2
	return 1
}

# relay_start MODE: a relay (tests/lib/relay) in front of this file's server, MODE "port"
# (a port mapping: qBittorrent refuses the Host header) or "proxy" (a reverse proxy that
# rewrites Host: qBittorrent refuses the Origin); prints its URL.
relay_start() {
	local pf="$BATS_TEST_TMPDIR/relay-$1.port" i
	local rewrite=
	[[ $1 == proxy ]] && rewrite=--rewrite-host
	"$MF_ROOT/tests/lib/relay" --to "${QBT_URL##*:}" --port-file "$pf" $rewrite \
	    </dev/null >/dev/null 2>&1 3>&- &
	echo $! >>"$BATS_TEST_TMPDIR/relay.pids"
	for i in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	[[ -s $pf ]] || { echo "relay did not start" >&2; return 1; }
	echo "http://127.0.0.1:$(cat "$pf")"
}

# A server of the test's own (own1, own2...): QBT_* knobs from the environment.
own_start() {
	local d="$BATS_TEST_TMPDIR/own$1"
	QBT_DIR="$d" QBT_PORT="${2:-0}" qbt-sandbox start >/dev/null || return 1
	echo "$(cat "$d/url")"
}

# The secret never shows in records or messages.
no_secret() {
	local s
	for s in "$@"; do
		[[ -n $s ]] || continue
		! grep -rqF -- "$s" "$BATS_TEST_TMPDIR"/out* 2>/dev/null || { echo "secret leaked" >&2; return 1; }
		[[ $output != *"$s"* && ${stderr:-} != *"$s"* ]] || { echo "secret leaked" >&2; return 1; }
	done
}

@test "mf-qbt-add: -h, -V, bad flag, man page" {
	run mf-qbt-add -h
	assert_success
	assert_output --partial "usage: mf-qbt-add"
	run mf-qbt-add -V
	assert_success
	assert_output --partial "mf-qbt-add"
	run mf-qbt-add --no-such-flag
	assert_equal "$status" 64
	run mf-qbt-add extra-arg
	assert_equal "$status" 64
	run bash -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$MF_ROOT/man/mf-qbt-add.1' 2>&1 >/dev/null"
	assert_success
	assert_output ""
}

@test "add, then rerun: exists, nothing added; category, tags, save path and paused as configured" {
	{ mkrec a; mkrec b; mkrec c nohash; echo '{"id":"notorrent"}'; } >"$BATS_TEST_TMPDIR/in"
	export MF_QBT_TAGS=" x , y z,,"
	export MF_QBT_PAUSED=1
	run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/out1"
	assert_equal "$(statuses <<<"$output")" "3 added"
	# the record without a torrent passes untouched
	assert_equal "$(jq -c 'select(.id == "notorrent")' <<<"$output")" '{"id":"notorrent"}'
	# the hash mf-qbt-add computed for c matches transmission-show's
	assert_equal "$(jq -r 'select(.id == "c") | .qbt.hash' <<<"$output")" "$(hash_of c)"
	wait_count 3
	for n in a b c; do
		h=$(hash_of "$n")
		assert_equal "$(qbt_torrent "$h" category)" "$MF_QBT_CATEGORY"
		assert_equal "$(qbt_torrent "$h" tags)" "x, y z"
		assert_equal "$(qbt_torrent "$h" save_path | sed 's:/*$::')" "$SEED"
	done
	h=$(hash_of a)
	if qbt_app_ge 5.3.0; then
		# 5.3 hash-checks what it adds whatever skip_checking says: added stopped, it lists
		# stoppedDL at 0 % until started, then checks the data and seeds.
		wait_state "$h" stoppedDL
		assert_equal "$(qbt_torrent "$h" progress)" 0
		qbt_api torrents/start --data "hashes=$h" >/dev/null
		wait_state "$h" stalledUP uploading
	else
		# paused, and complete without a recheck (skip_checking): pausedUP (4.x) / stoppedUP (5.1)
		wait_state "$h" pausedUP stoppedUP
	fi
	assert_equal "$(qbt_torrent "$h" progress)" 1
	added_on=$(qbt_torrent "$h" added_on)

	run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/out2"
	assert_equal "$(statuses <<<"$output")" "3 exists"
	assert_equal "$(jq -c 'select(.id == "a") | .qbt.tags' <<<"$output")" '["x","y z"]'
	assert_equal "$(jq -r 'select(.id == "a") | .qbt.category' <<<"$output")" "$MF_QBT_CATEGORY"
	wait_count 3
	assert_equal "$(qbt_torrent "$h" added_on)" "$added_on"
	# one more in the same, now existing, category (createCategory answers 409)
	mkrec d >"$BATS_TEST_TMPDIR/in3"
	run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in3"
	assert_success
	assert_equal "$(statuses <<<"$output")" "1 added"
	wait_count 4
	assert_equal "$(qbt_torrent "$(hash_of d)" category)" "$MF_QBT_CATEGORY"
	no_secret "$MF_QBT_PASS"
}

@test "duplicate prevention: add, delete the state entry, rerun: detected as existing" {
	mf_need mf-state
	export MF_STATE_DIR="$BATS_TEST_TMPDIR/state"
	# infohash absent, as after mf-torrent reused a file: mf-qbt-add computes it
	mkrec d1 nohash >"$BATS_TEST_TMPDIR/in"
	mf-state pending <"$BATS_TEST_TMPDIR/in" | mf-qbt-add | mf-state checkpoint uploaded \
	    >"$BATS_TEST_TMPDIR/out1"
	assert_equal "$(jq -r .qbt.status "$BATS_TEST_TMPDIR/out1")" added
	# complete: the next run does not even reach mf-qbt-add
	run mf-state pending <"$BATS_TEST_TMPDIR/in"
	assert_output ""
	mf-state forget d1
	run mf-state pending <"$BATS_TEST_TMPDIR/in"
	assert_equal "$(jq -r .id <<<"$output")" d1
	mf-state pending <"$BATS_TEST_TMPDIR/in" | mf-qbt-add >"$BATS_TEST_TMPDIR/out2"
	assert_equal "$(jq -r .qbt.status "$BATS_TEST_TMPDIR/out2")" exists
	assert_equal "$(jq -r .qbt.hash "$BATS_TEST_TMPDIR/out2")" "$(hash_of d1)"
	wait_count 1
}

@test "70 records at once: one lookup per 64 hashes finds them all on the rerun, no add tried" {
	for i in $(seq 70); do mkrec "m$i"; done >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(statuses <<<"$output")" "70 added"
	wait_count 70
	run --separate-stderr mf-qbt-add -v <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(statuses <<<"$output")" "70 exists"
	# found by the batched lookup itself (the add path would log no such line)
	assert_equal "$(grep -c 'already in qBittorrent' <<<"$stderr")" 70
}

@test "dry run looks up and adds nothing" {
	{ mkrec n1; mkrec n2; } >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-qbt-add --dry-run <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .qbt.status <<<"$output" | sort -u)" would-add
	sleep 0.3
	assert_equal "$(qbt_torrents "category=$MF_QBT_CATEGORY" | jq length)" 0
	assert_equal "$(qbt_torrents "hashes=$(hash_of n1)" | jq length)" 0
}

@test "garbage torrent file: 415 on that record only" {
	mkrec g1 >"$BATS_TEST_TMPDIR/in"
	head -c 500 /dev/urandom >"$SEED/junk.torrent"
	jq -nc --arg d "$SEED/g1" --arg t "$SEED/junk.torrent" \
	    '{id:"junk", staging:{dir:$d}, torrent:{path:$t, infohash:"0123456789abcdef0123456789abcdef01234567"}}' \
	    >>"$BATS_TEST_TMPDIR/in"
	mkrec g2 >>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 1
	assert_equal "$(jq -r 'select(.id=="g1") | .qbt.status' <<<"$output")" added
	assert_equal "$(jq -r 'select(.id=="g2") | .qbt.status' <<<"$output")" added
	assert_equal "$(jq -r 'select(.id=="junk") | .error.retryable' <<<"$output")" false
	jq -r 'select(.id=="junk") | .error.message' <<<"$output" | grep -q "415"
	[[ $stderr == *junk*415* ]]
	wait_count 2
}

@test "fail locally, adding nothing: junk torrent without infohash, malformed or stale infohash, staging dir outside the seed root" {
	echo "not bencode" >"$SEED/x.torrent"
	mkdir -p "$BATS_TEST_TMPDIR/seed2/b"
	{
		jq -nc --arg d "$SEED/x" --arg t "$SEED/x.torrent" '{id:"x", staging:{dir:$d}, torrent:{path:$t}}'
		jq -nc --arg d "$SEED/x" --arg t "$SEED/x.torrent" '{id:"h", staging:{dir:$d}, torrent:{path:$t, infohash:"xyz"}}'
		mkrec s1 | jq -c --arg d "$BATS_TEST_TMPDIR/seed2/b" '.id="outside" | .staging.dir=$d'
		# a stale infohash: the file is another torrent
		mkrec s2 | jq -c '.id="stale" | .torrent.infohash="0123456789abcdef0123456789abcdef01234567"'
	} >"$BATS_TEST_TMPDIR/in"
	MF_SEED_ROOT="$SEED" MF_QBT_SAVEPATH=/srv/seed run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 1
	assert_equal "$(jq -r .error.retryable <<<"$output" | sort -u)" false
	jq -r 'select(.id=="x") | .error.message' <<<"$output" | grep -q "not a torrent"
	jq -r 'select(.id=="outside") | .error.message' <<<"$output" | grep -q "MF_SEED_ROOT"
	jq -r 'select(.id=="stale") | .error.message' <<<"$output" | grep -q "$(hash_of s2)"
	assert_equal "$(qbt_torrents "hashes=$(hash_of s2)" | jq length)" 0
	assert_equal "$(qbt_torrents "category=$MF_QBT_CATEGORY" | jq length)" 0
}

@test "MF_QBT_SAVEPATH maps MF_SEED_ROOT on a path boundary" {
	ln -s "$SEED" "$BATS_TEST_TMPDIR/mapped"
	mkrec m1 >"$BATS_TEST_TMPDIR/in"
	MF_SEED_ROOT="$SEED/" MF_QBT_SAVEPATH="$BATS_TEST_TMPDIR/mapped" \
	    run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	wait_count 1
	assert_equal "$(qbt_torrent "$(hash_of m1)" save_path | sed 's:/*$::')" "$BATS_TEST_TMPDIR/mapped"
	assert_equal "$(jq -r .qbt.save_path <<<"$output" | sed 's:/*$::')" "$BATS_TEST_TMPDIR/mapped"
}

@test "password from MF_QBT_PASS_FILE; no secret in argv, records or messages" {
	mkrec p1 >"$BATS_TEST_TMPDIR/in"
	printf '%s\n' "$MF_QBT_PASS" >"$BATS_TEST_TMPDIR/pass"
	pass=$MF_QBT_PASS
	unset MF_QBT_PASS
	# slow start (a closed port first would not help argv: look while it runs)
	MF_QBT_PASS_FILE="$BATS_TEST_TMPDIR/pass" mf-qbt-add -v <"$BATS_TEST_TMPDIR/in" \
	    >"$BATS_TEST_TMPDIR/out1" 2>"$BATS_TEST_TMPDIR/out1.err" &
	pid=$!
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
	wait "$pid"
	[[ $cmdline != *"$pass"* ]]
	assert_equal "$(jq -r .qbt.status "$BATS_TEST_TMPDIR/out1")" added
	# a wrong API key: refused (4.5.2 has no API keys), the key never printed
	MF_QBT_API_KEY=qbt_SeCrEtKeY123 run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	[[ $status == 77 || $status == 78 ]]
	no_secret "$pass" qbt_SeCrEtKeY123
	# and a wrong password is not echoed either
	MF_QBT_PASS='Wr0ng-Pa55' run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 77
	no_secret "$pass" Wr0ng-Pa55
}

@test "MF_QBT_URL: localhost with a trailing slash works (CSRF headers match); credentials in it or another scheme: 78" {
	mkrec u1 >"$BATS_TEST_TMPDIR/in"
	port=${MF_QBT_URL##*:}
	MF_QBT_URL="http://localhost:$port/" run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .qbt.status <<<"$output")" added
	MF_QBT_URL="http://admin:Url5ecret@127.0.0.1:$port" run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 78
	[[ $stderr == *"MF_QBT_URL carries credentials"* ]]
	no_secret Url5ecret
	MF_QBT_URL="ftp://127.0.0.1:$port" run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 78
	MF_QBT_URL="admin:Url5ecret@127.0.0.1:$port" run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 78
	no_secret Url5ecret
	# no credentials at all, and the server wants a login
	MF_QBT_USER= MF_QBT_PASS= run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 78
	[[ $stderr == *"wants a login"* ]]
}

@test "--check: version, WebAPI version and credentials accepted; 77 on a wrong password; 69 when nobody listens" {
	run --separate-stderr mf-qbt-add --check </dev/null
	assert_success
	want=$(qbt_api app/version)
	api=$(qbt_api app/webapiVersion)
	assert_output "qBittorrent $want (WebAPI $api) at $MF_QBT_URL: credentials accepted"
	# every release of the matrix is in the tested range: no warning
	assert_equal "$stderr" ""
	MF_QBT_PASS=nope run --separate-stderr mf-qbt-add --check </dev/null
	assert_equal "$status" 77
	[[ $stderr == *"rejected the user name or password"* ]]
	MF_QBT_URL="http://127.0.0.1:$(mf_free_port)" MF_QBT_RETRY_TIME=0.5 \
	    run --separate-stderr mf-qbt-add --check </dev/null
	assert_equal "$status" 69
	[[ $stderr == *unreachable* ]]
	no_secret "$MF_QBT_PASS" nope
}

@test "localhost bypass: no credentials needed; a wrong API key is never let in (78 before 5.2, 77 from 5.2)" {
	url=$(QBT_LOCAL_NOAUTH=true own_start 1)
	mkrec l1 >"$BATS_TEST_TMPDIR/in"
	MF_QBT_URL=$url MF_QBT_USER= MF_QBT_PASS= run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .qbt.status <<<"$output")" added
	MF_QBT_URL=$url MF_QBT_USER= MF_QBT_PASS= MF_QBT_API_KEY=qbt_K3yThatIsWrong \
	    run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	if qbt_webapi_ge 2.14.1; then
		# a server with API keys checks the key even with the bypass on
		assert_equal "$status" 77
		[[ $stderr == *"rejected the API key (MF_QBT_API_KEY)"* ]]
	else
		# the old server ignores the Bearer header, so the bypass would let any key in
		assert_equal "$status" 78
		[[ $stderr == *"API keys need 2.14.1"* ]]
	fi
	no_secret qbt_K3yThatIsWrong
}

@test "wrong password: exit 77 within a second, one login attempt, records not retryable" {
	d="$BATS_TEST_TMPDIR/own1"
	url=$(own_start 1)
	{ mkrec w1; mkrec w2; } >"$BATS_TEST_TMPDIR/in"
	t0=$(date +%s%N)
	MF_QBT_URL=$url MF_QBT_PASS=wrong-one run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	t1=$(date +%s%N)
	assert_equal "$status" 77
	(( (t1 - t0) < 1000000000 )) || { echo "took $(( (t1 - t0) / 1000000 )) ms"; false; }
	[[ $stderr == *"rejected the user name or password"* ]]
	assert_equal "$(jq -r .error.retryable <<<"$output" | sort | uniq -c | xargs)" "2 false"
	assert_equal "$(grep -c 'WebAPI login failure' "$d/qBittorrent/data/logs/qbittorrent.log")" 1
	no_secret wrong-one
}

@test "IP ban after 1 failure: the ban is reported, exit 77" {
	url=$(QBT_MAX_AUTH_FAIL=1 QBT_BAN_SECONDS=60 own_start 1)
	mkrec b1 >"$BATS_TEST_TMPDIR/in"
	MF_QBT_URL=$url MF_QBT_PASS=bad run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 77
	[[ $stderr == *"rejected the user name or password"* ]]
	# now banned: even the right password is refused, and the message says why
	MF_QBT_URL=$url run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 77
	[[ $stderr == *"banned this IP address"* ]]
	assert_equal "$(jq -r .error.retryable <<<"$output")" false
	no_secret "$MF_QBT_PASS"
}

@test "session timeout 2 s with a pause between records: transparent re-login" {
	url=$(QBT_SESSION_TIMEOUT=2 own_start 1)
	mkrec s1 >"$BATS_TEST_TMPDIR/in1"
	mkrec s2 >"$BATS_TEST_TMPDIR/in2"
	out="$BATS_TEST_TMPDIR/out"
	{
		cat "$BATS_TEST_TMPDIR/in1"
		for _ in $(seq 400); do [[ -s $out ]] && break; sleep 0.05; done
		sleep 4
		cat "$BATS_TEST_TMPDIR/in2"
	} | MF_QBT_URL=$url mf-qbt-add -v >"$out" 2>"$out.err"
	cat "$out.err"
	assert_equal "$(jq -r .qbt.status "$out" | xargs)" "added added"
	grep -q "logging in again" "$out.err"
	no_secret "$MF_QBT_PASS"
}

@test "server down at start, started while mf-qbt-add retries: records succeed" {
	port=$(mf_free_port)
	{ mkrec r1; mkrec r2; } >"$BATS_TEST_TMPDIR/in"
	MF_QBT_URL=http://127.0.0.1:$port MF_QBT_RETRY_TIME=20 mf-qbt-add -v \
	    <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/out.err" &
	pid=$!
	sleep 0.6
	own_start 1 "$port"
	rc=0
	wait "$pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/out.err"
	assert_equal "$rc" 0
	grep -q "attempt 1:" "$BATS_TEST_TMPDIR/out.err"	# it did retry
	assert_equal "$(jq -r .qbt.status "$BATS_TEST_TMPDIR/out" | xargs)" "added added"
}

@test "server stopped mid-run: remaining records fail retryable, exit 69, nothing lost" {
	url=$(own_start 1)
	d="$BATS_TEST_TMPDIR/own1"
	for i in 1 2 3 4 5 6; do mkrec "k$i"; done >"$BATS_TEST_TMPDIR/in"
	out="$BATS_TEST_TMPDIR/out"
	: >"$out"
	rc=0
	{
		head -n 2 "$BATS_TEST_TMPDIR/in"
		for _ in $(seq 400); do [[ $(wc -l <"$out") -ge 2 ]] && break; sleep 0.05; done
		QBT_DIR="$d" QBT_KEEP=true qbt-sandbox stop
		tail -n +3 "$BATS_TEST_TMPDIR/in"
	} | MF_QBT_URL=$url MF_QBT_RETRY_TIME=1 mf-qbt-add >"$out" 2>"$out.err" || rc=$?
	assert_equal "$rc" 69
	assert_equal "$(wc -l <"$out")" 6
	assert_equal "$(jq -r '.qbt.status // "failed"' "$out" | xargs)" "added added failed failed failed failed"
	assert_equal "$(jq -r 'select(.error) | .error.retryable' "$out" | sort -u)" true
	grep -q unreachable "$out.err"
	# the retry run after the server is back adds the rest and finds the first two
	port=${url##*:}
	own_start 1 "$port" >/dev/null
	MF_QBT_URL=$url run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .qbt.status <<<"$output" | xargs)" "exists exists added added added added"
}

@test "the same torrent twice in one batch: added once, the second found after the server refuses it (Fails. / 409)" {
	mkrec t1 >"$BATS_TEST_TMPDIR/in"
	jq -c '.id = "t1-again"' "$BATS_TEST_TMPDIR/in" >>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-qbt-add -v <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r '"\(.id) \(.qbt.status)"' <<<"$output" | xargs)" "t1 added t1-again exists"
	# both missed the batched lookup; the second add was refused, then found
	if qbt_webapi_ge 2.14.0; then
		[[ $stderr == *"t1-again: qBittorrent refused the add (HTTP 409"* ]]
	else
		[[ $stderr == *"t1-again: qBittorrent refused the add (HTTP 200 Fails.)"* ]]
	fi
	wait_count 1
}

@test "a real cross-site refusal (port mapping, reverse proxy) gets its own message and 78, with any password; never the password's" {
	mkrec x1 >"$BATS_TEST_TMPDIR/in"
	log="$QBT_DIR/qBittorrent/data/logs/qbittorrent.log"
	fails0=$(grep -c 'WebAPI login failure' "$log" || true)
	for mode in port proxy; do
		url=$(relay_start "$mode")
		for pass in "$MF_QBT_PASS" wrong-one; do
			MF_QBT_URL=$url MF_QBT_PASS=$pass run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
			assert_equal "$status" 78
			[[ $stderr == *"refused the request as cross-site"* ]] || { echo "$mode: $stderr"; false; }
			[[ $stderr != *"rejected the user name or password"* ]]
			assert_equal "$(jq -r .error.retryable <<<"$output")" false
		done
		# no credentials (the localhost probe) and an API key are refused the same way
		MF_QBT_URL=$url MF_QBT_USER= MF_QBT_PASS= run --separate-stderr mf-qbt-add --check
		assert_equal "$status" 78
		[[ $stderr == *"refused the request as cross-site"* ]]
	done
	# what the server itself says it refused: the Host header, then the Origin
	grep -q 'Invalid Host header, port mismatch' "$log"
	grep -q 'Origin header & Target origin mismatch' "$log"
	# and it never got as far as checking a password
	assert_equal "$(grep -c 'WebAPI login failure' "$log" || true)" "$fails0"
	run mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	no_secret "$MF_QBT_PASS" wrong-one
}

@test "API key: made by the server (app/rotateAPIKey), it adds with no user or password; a rotated-out key is refused, 77" {
	mkrec k1 >"$BATS_TEST_TMPDIR/in"
	mkrec k2 >"$BATS_TEST_TMPDIR/in2"
	if ! qbt_webapi_ge 2.14.1; then
		# no API keys before 5.2: no such endpoint, and a key is refused, not ignored
		run qbt_api app/rotateAPIKey -X POST
		assert_failure
		MF_QBT_USER= MF_QBT_PASS= MF_QBT_API_KEY=qbt_0123456789abcdefghijklmnopqr \
		    run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
		assert_equal "$status" 77
		[[ $stderr == *"API keys need qBittorrent 5.2"* ]]
		return 0
	fi
	key=$(qbt_api app/rotateAPIKey -X POST | jq -r .apiKey)
	[[ $key =~ ^qbt_[A-Za-z0-9]{28}$ ]]
	MF_QBT_USER= MF_QBT_PASS= MF_QBT_API_KEY=$key run --separate-stderr mf-qbt-add -v <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .qbt.status <<<"$output")" added
	[[ $stderr != *"auth/login"* ]]		# no login with a key
	MF_QBT_USER= MF_QBT_PASS= MF_QBT_API_KEY=$key run --separate-stderr mf-qbt-add --check
	assert_success
	assert_output --partial "(WebAPI $QBT_WEBAPI)"
	# the key skips the CSRF check (no cookie to forge) but not the Host header check
	url=$(relay_start proxy)
	MF_QBT_URL=$url MF_QBT_USER= MF_QBT_PASS= MF_QBT_API_KEY=$key run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in2"
	assert_success
	assert_equal "$(jq -r .qbt.status <<<"$output")" added
	qbt_api app/rotateAPIKey -X POST >/dev/null
	MF_QBT_USER= MF_QBT_PASS= MF_QBT_API_KEY=$key run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 77
	[[ $stderr == *"rejected the API key (MF_QBT_API_KEY)"* ]]
	assert_equal "$(jq -r .error.retryable <<<"$output")" false
	no_secret "$key"
}
