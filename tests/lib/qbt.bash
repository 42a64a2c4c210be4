# qbt.bash: a real qbittorrent-nox on 127.0.0.1 for bats files (wraps scripts/qbt-sandbox).
#
#   load lib/common
#   load lib/qbt                        # after lib/common (which clears MF_QBT_*)
#   setup_file()    { qbt_start; }      # QBT_* knobs of scripts/qbt-sandbox may be set before
#   teardown_file() { qbt_stop; }
#   @test ... { run mf-qbt-add ...; qbt_torrents | jq length; qbt_torrent "$hash" category; }
#
# After qbt_start, every test sees MF_QBT_URL, MF_QBT_USER, MF_QBT_PASS (the server's
# credentials) and QBT_DIR (profile dir), QBT_URL, and what the server says it is:
# QBT_APP ("v5.3.0") and QBT_WEBAPI ("2.16.2"); qbt_webapi_ge 2.14.0 and qbt_app_ge 5.3.0
# ask whether it is at least that version.  One server per bats file.  Which qbittorrent-nox runs is the
# first on PATH (tests/run --qbt VERSION puts another release there).

# bats runs the file top level again for every test, and lib/common unsets MF_QBT_*:
# restore them from the QBT_* values qbt_start exported.
if [[ -n "${QBT_URL:-}" ]]; then
	export MF_QBT_URL="$QBT_URL" MF_QBT_USER="$QBT_USER" MF_QBT_PASS="$QBT_PASS"
fi

# Start a server (in setup_file).  QBT_PORT=N to use a given port (default: a free one).
qbt_start() {
	mf_need qbittorrent-nox curl jq python3
	export QBT_USER="${QBT_USER:-admin}"
	export QBT_PASS="${QBT_PASS:-qbt pass@word:&=}"	# special characters on purpose
	QBT_DIR="$BATS_FILE_TMPDIR/qbt"
	export QBT_DIR
	QBT_DIR=$(QBT_DIR="$QBT_DIR" qbt-sandbox start) || return 1
	export QBT_URL; QBT_URL=$(cat "$QBT_DIR/url")
	export MF_QBT_URL="$QBT_URL" MF_QBT_USER="$QBT_USER" MF_QBT_PASS="$QBT_PASS"
	export QBT_APP QBT_WEBAPI
	QBT_APP=$(qbt_api app/version) && QBT_WEBAPI=$(qbt_api app/webapiVersion) ||
	    { echo "qbt_start: the server does not say its version" >&2; return 1; }
}

# qbt_webapi_ge X.Y.Z: 0 when the server's WebAPI version ($QBT_WEBAPI) is X.Y.Z or later
# (2.14.0 is qBittorrent 5.2: login answers 204/401, add answers JSON/409, API keys).
# qbt_app_ge X.Y.Z: the same for its release ($QBT_APP, e.g. "v5.3.0").
qbt_webapi_ge() { qbt_version_ge "$1" "$QBT_WEBAPI"; }
qbt_app_ge() { qbt_version_ge "$1" "${QBT_APP#v}"; }
qbt_version_ge() {
	[[ -n $2 ]] || { echo "qbt_version_ge: the server's version is not known" >&2; return 2; }
	[[ $(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1) == "$1" ]]
}

# Stop it (in teardown_file); never leaves a process.  QBT_KEEP=true keeps the profile.
qbt_stop() {
	[[ -n "${QBT_DIR:-}" ]] || return 0
	qbt-sandbox stop
}

# curl with the test's own session (cookie jar in the profile dir); logs in on first use.
# qbt_api PATH [curl args...]: prints the body; fails on an HTTP error.
qbt_api() {
	local path=$1; shift
	local jar="$QBT_DIR/test-cookies"
	if [[ ! -s "$jar" ]] || ! grep -q "127.0.0.1" "$jar"; then
		qbt_login >/dev/null || return 1
	fi
	local out code
	out=$(curl -sS --noproxy '*' --max-time 10 -b "$jar" -w '\n%{http_code}' "$@" \
	    "$QBT_URL/api/v2/$path") || return 1
	code=${out##*$'\n'}
	if [[ $code == 403 ]]; then	# session expired (short SessionTimeout tests)
		qbt_login >/dev/null || return 1
		out=$(curl -sS --noproxy '*' --max-time 10 -b "$jar" -w '\n%{http_code}' "$@" \
		    "$QBT_URL/api/v2/$path") || return 1
		code=${out##*$'\n'}
	fi
	printf '%s\n' "${out%$'\n'*}"
	[[ $code == 2* ]]
}

# Log the test's own session in; 0 when the server said yes: 200 "Ok." up to 5.1, 204 with
# no body from 5.2 on (a wrong password is 200 "Fails." there, 401 here).
qbt_login() {
	local out
	# The password goes through stdin, not argv.
	out=$(printf %s "$QBT_PASS" | curl -sS --noproxy '*' --max-time 10 -c "$QBT_DIR/test-cookies" \
	    -w '%{http_code}' --data-urlencode "username=$QBT_USER" --data-urlencode "password@-" \
	    "$QBT_URL/api/v2/auth/login") || return 1
	[[ $out == "Ok.200" || $out == 204 ]]
}

# qbt_torrents [QUERY]: the torrents/info JSON array (QUERY e.g. "hashes=abc|def").
qbt_torrents() {
	qbt_api "torrents/info${1:+?$1}"
}

# qbt_torrent HASH FIELD: one field of one torrent (empty when absent), e.g. category.
qbt_torrent() {
	qbt_torrents "hashes=$1" | jq -r --arg f "$2" '.[0][$f] // empty'
}

# qbt_count: how many torrents the server has.
qbt_count() {
	qbt_torrents | jq length
}

# qbt_delete HASH...: remove torrents (keeps their files).
qbt_delete() {
	local IFS='|'
	qbt_api torrents/delete --data-urlencode "hashes=$*" --data deleteFiles=false >/dev/null
}

# qbt_mktorrent DIR NAME [BYTES]: write DIR/NAME/NAME.bin (random) and DIR/NAME.torrent with
# the real mktorrent (private, no tracker: no traffic); prints "PATH INFOHASH", the infohash
# read back by transmission-show as an independent oracle.
qbt_mktorrent() {
	local dir=$1 name=$2 bytes=${3:-20000}
	mkdir -p "$dir/$name"
	head -c "$bytes" /dev/urandom >"$dir/$name/$name.bin"
	mktorrent -p -l 15 -n "$name" -o "$dir/$name.torrent" "$dir/$name" >/dev/null || return 1
	local h
	h=$(transmission-show "$dir/$name.torrent" | sed -n 's/^ *Hash v1: *//p; s/^ *Hash: *//p' | head -n1)
	[[ ${#h} == 40 ]] || { echo "qbt_mktorrent: no infohash from transmission-show" >&2; return 1; }
	echo "$dir/$name.torrent $h"
}

# qbt_record NAME [nohash]: data + torrent under $SEED (qbt_mktorrent), one staged record
# on stdout (without torrent.infohash when nohash); qbt_hash_of NAME prints its infohash.
qbt_record() {
	local t h
	read -r t h < <(qbt_mktorrent "$SEED" "$1") || return 1
	echo "$h" >"$SEED/$1.hash"
	if [[ ${2:-} == nohash ]]; then
		jq -nc --arg id "$1" --arg d "$SEED/$1" --arg t "$t" \
		    '{id:$id, staging:{dir:$d, name:$id}, torrent:{path:$t}}'
	else
		jq -nc --arg id "$1" --arg d "$SEED/$1" --arg t "$t" --arg h "$h" \
		    '{id:$id, staging:{dir:$d, name:$id}, torrent:{path:$t, infohash:$h}}'
	fi
}

qbt_hash_of() { cat "$SEED/$1.hash"; }
