#!/usr/bin/env bats
# scripts/qbt-sandbox and tests/lib/qbt.bash: the test server everyone's qBittorrent tests use.

load lib/common
load lib/qbt

setup_file() { qbt_start; }
teardown_file() { qbt_stop; }
# A failed assertion must not leave the extra servers of the last test running.
teardown() {
	local d
	for d in "$BATS_TEST_TMPDIR"/s[12]; do
		[[ -d $d ]] && QBT_DIR="$d" qbt-sandbox stop
	done
	return 0
}

@test "sandbox: 127.0.0.1 only, login with special-character password, torrent helpers" {
	[[ $MF_QBT_URL == http://127.0.0.1:* ]]
	port=${MF_QBT_URL##*:}
	# the WebUI listens on loopback only
	run ss -Htln "sport = :$port"
	assert_success
	assert_output --partial "127.0.0.1:$port"
	refute_output --partial "0.0.0.0:$port"
	qbt_login
	run qbt_count
	assert_output 0
	read -r t h < <(qbt_mktorrent "$BATS_TEST_TMPDIR" book1)
	qbt_api torrents/add -F "torrents=@$t" -F paused=true -F "savepath=$BATS_TEST_TMPDIR" \
	    -F category=cat1 >/dev/null
	for _ in $(seq 50); do [[ $(qbt_count) == 1 ]] && break; sleep 0.05; done
	run qbt_torrent "$h" category
	assert_output cat1
	qbt_delete "$h"
	for _ in $(seq 50); do [[ $(qbt_count) == 0 ]] && break; sleep 0.05; done
	run qbt_count
	assert_output 0
}

@test "sandbox: a wrong password is refused (200 Fails. up to 5.1, 401 from 5.2); the right one logs in (200 Ok. / 204)" {
	run curl -sS -w ' %{http_code}' --data-urlencode "username=$MF_QBT_USER" --data-urlencode "password=nope" \
	    "$MF_QBT_URL/api/v2/auth/login"
	if qbt_webapi_ge 2.14.0; then assert_output "Unauthorized 401"; else assert_output "Fails. 200"; fi
	run curl -sS -w ' %{http_code}' --data-urlencode "username=$MF_QBT_USER" --data-urlencode "password=$MF_QBT_PASS" \
	    "$MF_QBT_URL/api/v2/auth/login"
	if qbt_webapi_ge 2.14.0; then assert_output " 204"; else assert_output "Ok. 200"; fi
}

@test "sandbox: the server's version is known (QBT_APP, QBT_WEBAPI) and is the qbittorrent-nox on PATH" {
	[[ $QBT_APP =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]
	[[ $QBT_WEBAPI =~ ^2\.[0-9]+\.[0-9]+$ ]]
	run qbittorrent-nox --version
	assert_output --partial "qBittorrent $QBT_APP"
}

@test "sandbox: QBT_API_KEY is the server's API key from 5.2 on (older ones ignore it)" {
	key=qbt_$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 28)
	d="$BATS_TEST_TMPDIR/s1"
	QBT_DIR="$d" QBT_API_KEY="$key" qbt-sandbox start >/dev/null
	run curl -sS -w ' %{http_code}' -H "Authorization: Bearer $key" "$(cat "$d/url")/api/v2/app/webapiVersion"
	if qbt_webapi_ge 2.14.1; then assert_output "$QBT_WEBAPI 200"; else assert_output "Forbidden 403"; fi
	run curl -sS -w ' %{http_code}' -H "Authorization: Bearer ${key%?}x" "$(cat "$d/url")/api/v2/app/webapiVersion"
	assert_output "Forbidden 403"
	# never on a command line
	run ps -eo args
	refute_output --partial "$key"
}

@test "sandbox: stop leaves no process; a taken fixed port fails cleanly; dynamic port works" {
	d="$BATS_TEST_TMPDIR/s1"
	run env QBT_DIR="$d" QBT_PORT=0 qbt-sandbox start
	assert_success
	assert_output "$d"
	pid=$(cat "$d/qbt.pid")
	kill -0 "$pid"
	# a second server on the first one's port: refused, nothing left behind
	run env QBT_DIR="$BATS_TEST_TMPDIR/s2" QBT_PORT="$(cat "$d/port")" qbt-sandbox start
	assert_failure
	assert_output --partial "already in use"
	[[ ! -e $BATS_TEST_TMPDIR/s2/qbt.pid ]]
	run ps -eo args
	refute_output --partial "--profile=$BATS_TEST_TMPDIR/s2"
	QBT_DIR="$d" qbt-sandbox stop
	run ps -eo stat=,args=
	refute_line --regexp "^[^Z].*--profile=$d\$"
	run env QBT_DIR="$d" qbt-sandbox status
	assert_failure
}
