#!/usr/bin/env bats
# Notifications: mf-notify posting a run's new and failed releases to a local webhook
# stand-in (scripts/notify-receiver, which checks each format's body as the service would),
# or giving the JSON to MF_NOTIFY_CMD; and `mamfast run` sending one per run that did
# something, against the real qbittorrent-nox and the Audnex stand-in.

bats_require_minimum_version 1.5.0
load lib/common
load lib/e2e
load lib/notify

PASSKEY=notifypasskey0123456789abcdef99
TOKEN=w3bh00kT0k3nS3cret

setup_file() {
	e2e_setup_file
	notify_start
}
teardown_file() {
	notify_stop
	e2e_teardown_file
}

setup() {
	mf_need jq python3 curl
	command -v mf-notify >/dev/null || skip "mf-notify not built"
	notify_reset
	export MF_ANNOUNCE_URL="https://tracker.test/tracker.php/$PASSKEY/announce"
	export MF_QBT_PASS="qbt-secret-pass"
	export MF_NOTIFY_TIMEOUT=5
	unset MF_NOTIFY_URL MF_NOTIFY_FORMAT MF_NOTIFY_CMD MF_NOTIFY_ATTEMPTS
}

# A run's final records: two new releases (one torrent made, one added with a reused
# torrent), one unchanged, two failures (one whose message carries the secrets), a bad line.
records() {
	jq -nc --arg pk "$PASSKEY" '
	  {id:"B0NEW00001", title:"New Book *One* @everyone", staging:{dir:"/seed/N1", name:"N1"},
	   meta:{mam_json:"/out/N1/N1.json"},
	   torrent:{path:"/out/N1/N1.torrent", infohash:"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", reused:false},
	   qbt:{status:"exists"}},
	  {id:"B0NEW00002", title:"Zweites Buch – Ü", staging:{dir:"/seed/N2", name:"N2"},
	   meta:{mam_json:"/out/N2/N2.json"},
	   torrent:{path:"/out/N2/N2.torrent", infohash:"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", reused:true},
	   qbt:{status:"added"}},
	  {id:"B0OLD00001", title:"Old", torrent:{path:"/out/O/O.torrent", reused:true}, qbt:{status:"exists"}},
	  {id:"B0FAIL0001", title:"Broken <Book> & $(touch pwned)",
	   error:{stage:"upload", message:"qBittorrent at http://127.0.0.1:1 unreachable", retryable:true}},
	  {id:"B0FAIL0002", title:"Leaky",
	   error:{stage:"torrent", message:("announce https://tracker.test/tracker.php/" + $pk + "/announce and qbt-secret-pass"), retryable:false}}'
	echo 'this line is not JSON'
}

# The body of the n-th request (from 0).
body() { notify_log | jq -rs ".[$1].body"; }

@test "json: one request with the run summary and one entry per new or failed release" {
	records >"$BATS_TEST_TMPDIR/in"
	MF_NOTIFY_URL="$NOTIFY_BASE/ok/json/$TOKEN" run --separate-stderr mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(notify_count)" 1
	assert_equal "$(notify_log | jq -r .problem)" null
	b=$(body 0)
	assert_equal "$(jq -c .summary <<<"$b")" \
	    '{"records":6,"new":2,"failed":3,"added":1,"torrents_created":1}'
	assert_equal "$(jq -c '[.releases[] | select(.status == "new") | {id, title, mam_json, torrent}]' <<<"$b")" \
	    '[{"id":"B0NEW00001","title":"New Book *One* @everyone","mam_json":"/out/N1/N1.json","torrent":"/out/N1/N1.torrent"},{"id":"B0NEW00002","title":"Zweites Buch – Ü","mam_json":"/out/N2/N2.json","torrent":"/out/N2/N2.torrent"}]'
	assert_equal "$(jq -c '[.releases[] | select(.status == "failed") | {id, stage}]' <<<"$b")" \
	    '[{"id":"B0FAIL0001","stage":"upload"},{"id":"B0FAIL0002","stage":"torrent"},{"id":null,"stage":"input"}]'
	assert_equal "$(jq -r '.releases[] | select(.id == "B0FAIL0001") | .message' <<<"$b")" \
	    "qBittorrent at http://127.0.0.1:1 unreachable"
	# the secrets in a message never go out
	[[ $b != *"$PASSKEY"* && $b != *qbt-secret-pass* ]]
	jq -r '.releases[] | select(.id == "B0FAIL0002") | .message' <<<"$b" | grep -q '(hidden)'
	[[ $output$stderr != *"$TOKEN"* ]]
}

@test "discord, slack, ntfy: each body is what the service takes, naming titles, paths, stages and messages" {
	records >"$BATS_TEST_TMPDIR/in"
	for fmt in discord slack ntfy; do
		MF_NOTIFY_URL="$NOTIFY_BASE/ok/$fmt/$TOKEN" MF_NOTIFY_FORMAT=$fmt \
		    run --separate-stderr mf-notify <"$BATS_TEST_TMPDIR/in"
		assert_success
	done
	assert_equal "$(notify_count)" 3
	assert_equal "$(notify_log | jq -r .problem | sort -u)" null
	d=$(body 0 | jq -r .content) s=$(body 1 | jq -r .text) n=$(body 2)
	[[ $d == *"2 new, 3 failed"* && $s == *"2 new, 3 failed"* ]] || { echo "$d"; echo "$s"; false; }
	for t in "$d" "$s" "$n"; do
		for want in /out/N1/N1.json /out/N1/N1.torrent /out/N2/N2.json /out/N2/N2.torrent \
		    B0FAIL0001 "upload: qBittorrent at http://127.0.0.1:1 unreachable" "input: line 6"; do
			[[ $t == *"$want"* ]] || { echo "missing $want in: $t"; false; }
		done
		[[ $t != *"$PASSKEY"* && $t != *qbt-secret-pass* && $t != *B0OLD00001* ]]
	done
	# Discord: markdown in titles escaped, mentions off (the receiver checks allowed_mentions)
	[[ $d == *'New Book \*One\* @everyone'* ]] || { echo "$d"; false; }
	# Slack: &, <, > escaped as Slack wants, formatting off
	[[ $s == *'Broken &lt;Book&gt; &amp; $(touch pwned)'* ]] || { echo "$s"; false; }
	assert_equal "$(body 1 | jq .mrkdwn)" false
	# ntfy: the counts in the Title header, plain text body
	assert_equal "$(notify_log | jq -rs '.[2].headers.title')" "mamfast on $(hostname): 2 new, 3 failed"
	[[ $n == *"Zweites Buch – Ü"* ]]
	[[ ! -e pwned && ! -e $BATS_TEST_TMPDIR/pwned ]]
}

@test "MF_NOTIFY_CMD: the JSON on stdin, words split on blanks, nothing evaluated by a shell" {
	records >"$BATS_TEST_TMPDIR/in"
	cat >"$BATS_TEST_TMPDIR/hook" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$@" >"$BATS_TEST_TMPDIR/args"
	cat >"$BATS_TEST_TMPDIR/stdin"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/hook"
	MF_NOTIFY_CMD="$BATS_TEST_TMPDIR/hook one \$(touch $BATS_TEST_TMPDIR/pwned) 'two" \
	    run --separate-stderr mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/args")" "$(printf '%s\n' one '$(touch' "$BATS_TEST_TMPDIR/pwned)" "'two")"
	[[ ! -e $BATS_TEST_TMPDIR/pwned ]]
	assert_equal "$(jq -c .summary "$BATS_TEST_TMPDIR/stdin")" \
	    '{"records":6,"new":2,"failed":3,"added":1,"torrents_created":1}'
	# the same JSON the json format posts
	MF_NOTIFY_URL="$NOTIFY_BASE/ok/json/$TOKEN" mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$(body 0 | jq -S 'del(.time)')" "$(jq -S 'del(.time)' "$BATS_TEST_TMPDIR/stdin")"
	# a command that fails or hangs is reported, and bounded by MF_NOTIFY_TIMEOUT
	MF_NOTIFY_CMD=false run --separate-stderr mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 69
	[[ $stderr == *"MF_NOTIFY_CMD"*"status 1"* ]] || { echo "$stderr"; false; }
	MF_NOTIFY_TIMEOUT=1 MF_NOTIFY_CMD="sleep 60" run --separate-stderr timeout 30 mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 69
	[[ $stderr == *"MF_NOTIFY_CMD"*"1 s"* ]] || { echo "$stderr"; false; }
	MF_NOTIFY_CMD="$BATS_TEST_TMPDIR/no-such-program" run --separate-stderr mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 69
	[[ $stderr == *no-such-program* ]]
}

@test "nothing new and nothing failed: nothing is sent, exit 0; --dry-run prints the body and sends nothing" {
	records | grep B0OLD00001 >"$BATS_TEST_TMPDIR/old"
	MF_NOTIFY_URL="$NOTIFY_BASE/ok/json/$TOKEN" run --separate-stderr mf-notify <"$BATS_TEST_TMPDIR/old"
	assert_success
	MF_NOTIFY_URL="$NOTIFY_BASE/ok/json/$TOKEN" run --separate-stderr mf-notify </dev/null
	assert_success
	assert_equal "$(notify_count)" 0
	records >"$BATS_TEST_TMPDIR/in"
	MF_NOTIFY_URL="$NOTIFY_BASE/ok/slack/$TOKEN" run --separate-stderr mf-notify -n --format slack <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .mrkdwn <<<"$output")" false
	[[ $(jq -r .text <<<"$output") == *N1.torrent* ]]
	assert_equal "$(notify_count)" 0
	# --test sends one even with no records
	MF_NOTIFY_URL="$NOTIFY_BASE/ok/ntfy/$TOKEN" run --separate-stderr mf-notify --test --format ntfy </dev/null
	assert_success
	assert_equal "$(notify_count)" 1
	[[ $(notify_log | jq -r .headers.title) == *"test"* ]]
}

@test "dead webhooks: refused, 500, hanging, 404: bounded retries, exit 69 (76 when refused for good), the URL never shown" {
	records >"$BATS_TEST_TMPDIR/in"
	port=$(mf_free_port)
	MF_NOTIFY_URL="http://127.0.0.1:$port/$TOKEN" run --separate-stderr timeout 60 mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 69
	[[ $stderr == *"127.0.0.1"* && $stderr != *"$TOKEN"* ]] || { echo "$stderr"; false; }
	MF_NOTIFY_URL="$NOTIFY_BASE/500/json/$TOKEN" run --separate-stderr timeout 60 mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 69
	[[ $stderr == *"HTTP 500"* && $stderr != *"$TOKEN"* ]] || { echo "$stderr"; false; }
	assert_equal "$(notify_count)" 3		# MF_NOTIFY_ATTEMPTS [3]
	notify_reset
	MF_NOTIFY_TIMEOUT=1 MF_NOTIFY_ATTEMPTS=2 MF_NOTIFY_URL="$NOTIFY_BASE/hang/json/$TOKEN" \
	    run --separate-stderr timeout 60 mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 69
	[[ $stderr != *"$TOKEN"* ]]
	assert_equal "$(notify_count)" 2
	notify_reset
	MF_NOTIFY_URL="$NOTIFY_BASE/close/json/$TOKEN" run --separate-stderr timeout 60 mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 69
	notify_reset
	MF_NOTIFY_URL="$NOTIFY_BASE/404/json/$TOKEN" run --separate-stderr timeout 60 mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 76
	[[ $stderr == *"HTTP 404"* && $stderr != *"$TOKEN"* ]] || { echo "$stderr"; false; }
	assert_equal "$(notify_count)" 1		# refused for good: not retried
}

@test "bad notification settings: exit 78 naming the key; the URL's value never shown" {
	for kv in MF_NOTIFY_FORMAT=xml MF_NOTIFY_TIMEOUT=abc MF_NOTIFY_ATTEMPTS=0 "MF_NOTIFY_URL=ftp://x/$TOKEN" \
	    "MF_NOTIFY_URL=$TOKEN"; do
		run --separate-stderr env MF_NOTIFY_URL="$NOTIFY_BASE/ok/json/x" "$kv" mf-notify </dev/null
		assert_equal "$status" 78
		[[ $stderr == *"${kv%%=*}"* && $stderr != *"$TOKEN"* ]] || { echo "$kv: $stderr"; false; }
	done
	run --separate-stderr mf-notify --format
	assert_equal "$status" 64
}

# ---- mamfast run, end to end ----

# e2e_setup, with the server's own credentials and passkey (setup set test ones).
notify_e2e_setup() {
	e2e_setup
	export MF_QBT_PASS="$QBT_PASS"
	unset MF_ANNOUNCE_URL
}

# The notify settings for this test's configuration, after notify_e2e_setup.
notify_config() {
	e2e_config "MF_NOTIFY_URL=$NOTIFY_BASE/ok/$1/$TOKEN" "MF_NOTIFY_FORMAT=$1" "MF_NOTIFY_TIMEOUT=5" "${@:2}"
}

@test "mamfast run: one notification per run that did something, none for a run that did nothing or a dry run" {
	notify_e2e_setup
	e2e_library samples --tiny
	notify_config json
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	[ "$status" -eq 1 ]		# the book without ASIN
	assert_equal "$(notify_count)" 1
	b=$(body 0)
	assert_equal "$(notify_log | jq -r .problem)" null
	n=$(jq -s 'map(select(.qbt.status == "added")) | length' "$STATE/last-run.ndjson")
	[ "$n" -ge 5 ]
	assert_equal "$(jq '.summary.new' <<<"$b")" "$n"
	assert_equal "$(jq '.summary.failed' <<<"$b")" 1
	# each new release: its title, and its MAM JSON and torrent, which exist
	while IFS=$'\t' read -r id title mj tor; do
		[[ -n $title && $title != null ]] || { echo "$id: no title"; false; }
		[[ -s $mj && -s $tor ]] || { echo "$id: $mj $tor"; false; }
		assert_equal "$(jq -r --arg i "$id" 'select(.id == $i) | .torrent.path' "$STATE/last-run.ndjson")" "$tor"
	done < <(jq -r '.releases[] | select(.status == "new") | [.id, .title, .mam_json, .torrent] | @tsv' <<<"$b")
	assert_equal "$(jq -r '.releases[] | select(.status == "failed") | .stage' <<<"$b")" scan
	[[ $b != *"$E2E_PASSKEY"* && $b != *"$QBT_PASS"* ]]
	# a second run has nothing to do (the failure is held back): no notification
	run --separate-stderr mamfast run
	assert_success
	assert_equal "$(notify_count)" 1
	# a dry run never notifies, even with a release to take
	mf-state retry --all-failed >/dev/null
	run --separate-stderr mamfast run --dry-run
	assert_equal "$(notify_count)" 1
	[[ $output$stderr != *"$TOKEN"* ]]
}

@test "mamfast run: every format and MF_NOTIFY_CMD arrive, once each" {
	notify_e2e_setup
	e2e_library small --books 2 --tiny
	cat >"$BATS_TEST_TMPDIR/hook" <<-EOF
	#!/bin/sh
	cat >>"$BATS_TEST_TMPDIR/cmd.ndjson"; echo >>"$BATS_TEST_TMPDIR/cmd.ndjson"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/hook"
	sent=0
	for fmt in discord ntfy slack json; do
		rm -rf "$SEED" "$OUT" "$STATE"
		e2e_qbt_clear
		notify_config "$fmt" "MF_NOTIFY_CMD=$BATS_TEST_TMPDIR/hook"
		run --separate-stderr mamfast run
		assert_success
		sent=$((sent + 1))
		assert_equal "$(notify_count)" "$sent" || { notify_log; echo "$stderr"; false; }
		assert_equal "$(notify_log | jq -rs ".[$((sent - 1))] | [.path, .problem] | @tsv")" "/ok/$fmt/$TOKEN"$'\t'
		[[ $(body $((sent - 1))) == *"$(jq -r -s '.[0].torrent.path' "$STATE/last-run.ndjson")"* ]]
		assert_equal "$(jq -s length "$BATS_TEST_TMPDIR/cmd.ndjson")" "$sent"
	done
	assert_equal "$(jq -cs 'map(.summary.new) | unique' "$BATS_TEST_TMPDIR/cmd.ndjson")" "[2]"
}

@test "mamfast run: a dead webhook (refused, 500, hanging) or command fails nothing, with a warning" {
	notify_e2e_setup
	e2e_library small --books 1 --tiny
	port=$(mf_free_port)
	for url in "http://127.0.0.1:$port/$TOKEN" "$NOTIFY_BASE/500/json/$TOKEN" "$NOTIFY_BASE/hang/json/$TOKEN"; do
		rm -rf "$SEED" "$OUT" "$STATE"
		e2e_qbt_clear
		e2e_config "MF_NOTIFY_URL=$url" "MF_NOTIFY_TIMEOUT=1" "MF_NOTIFY_ATTEMPTS=2" "MF_NOTIFY_CMD=false"
		run --separate-stderr timeout 120 mamfast run
		assert_success
		[[ $stderr == *"notification"*"not sent"* ]] || { echo "$stderr"; false; }
		[[ $output$stderr != *"$TOKEN"* ]]
		assert_equal "$(qbt_count)" 1
		assert_equal "$(mf-state stats --json | jq .complete)" 1
	done
}

@test "contrib: the sample settings are keys mamfast knows; the mail hook turns the JSON into one mail" {
	known=$(MF_CONFIG=/dev/null mamfast config --json | jq -r .key)
	n=0
	while IFS= read -r k; do
		n=$((n + 1))
		grep -qx "$k" <<<"$known" || { echo "contrib/notify.conf: unknown key $k"; false; }
	done < <(sed -n 's/^#\(MF_[A-Z_]*\)=.*/\1/p' "$MF_ROOT/contrib/notify.conf")
	[[ $n -ge 8 ]]
	cat >"$BATS_TEST_TMPDIR/mail" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$@" >"$BATS_TEST_TMPDIR/mail.args"
	cat >"$BATS_TEST_TMPDIR/mail.body"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/mail"
	records >"$BATS_TEST_TMPDIR/in"
	MAIL_CMD="$BATS_TEST_TMPDIR/mail" MF_NOTIFY_CMD="$MF_ROOT/contrib/mamfast-notify-mail a@example.org" \
	    run --separate-stderr mf-notify <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/mail.args")" \
	    "$(printf '%s\n' -s "mamfast on $(hostname): 2 new, 3 failed" a@example.org)"
	grep -qxF "New: New Book *One* @everyone" "$BATS_TEST_TMPDIR/mail.body"
	grep -qxF "  MAM JSON: /out/N1/N1.json" "$BATS_TEST_TMPDIR/mail.body"
	grep -qxF "  upload: qBittorrent at http://127.0.0.1:1 unreachable" "$BATS_TEST_TMPDIR/mail.body"
	! grep -q "$PASSKEY" "$BATS_TEST_TMPDIR/mail.body"
}
