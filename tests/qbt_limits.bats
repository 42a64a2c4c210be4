#!/usr/bin/env bats
# mf-qbt-add's add options (share limits, upload limit, automatic torrent management)
# against a real qbittorrent-nox on 127.0.0.1: what it sends is read back from torrents/info,
# by the test's own session, not by mf-qbt-add.  Named qbt_* so the version matrix runs it
# against every tested qBittorrent.

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
	export MF_SEED_ROOT="$SEED"
	export MF_QBT_CATEGORY="lim$BATS_TEST_NUMBER"
	export MF_QBT_RETRY_TIME=5
	unset MF_QBT_RATIO_LIMIT MF_QBT_SEEDING_TIME_LIMIT MF_QBT_INACTIVE_SEEDING_TIME_LIMIT \
	    MF_QBT_AUTO_TMM MF_QBT_UP_LIMIT
}

# mkrec NAME: data + torrent under $SEED, one record on stdout (lib/qbt.bash).
mkrec() { qbt_record "$1"; }
hash_of() { qbt_hash_of "$1"; }

# The limit fields of one torrent as the server reports them (the test's own session),
# polled until it is listed (at most 3 s).
limits() {
	local i out
	for i in $(seq 60); do
		out=$(qbt_torrents "hashes=$1" | jq -c '.[0] // empty | {ratio_limit, seeding_time_limit,
		    inactive_seeding_time_limit, auto_tmm, up_limit}')
		[[ -n $out ]] && { echo "$out"; return 0; }
		sleep 0.05
	done
	return 1
}

# The server's major version (4 or 5).
qbt_major() {
	qbt_api app/version | sed -n 's/^v\{0,1\}\([0-9]*\)\..*/\1/p'
}

@test "limits and upload limit set at add are what torrents/info reads back; the record says the same" {
	mkrec a >"$BATS_TEST_TMPDIR/in"
	export MF_QBT_RATIO_LIMIT=1.5 MF_QBT_SEEDING_TIME_LIMIT=120 MF_QBT_INACTIVE_SEEDING_TIME_LIMIT=60
	export MF_QBT_UP_LIMIT=102400 MF_QBT_AUTO_TMM=0
	run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "$(jq -r .qbt.status <<<"$output")" added
	got=$(limits "$(hash_of a)")
	major=$(qbt_major)
	if [[ $major -ge 5 ]]; then
		assert_equal "$got" '{"ratio_limit":1.5,"seeding_time_limit":120,"inactive_seeding_time_limit":60,"auto_tmm":false,"up_limit":102400}'
		[[ $stderr != *MF_QBT_INACTIVE_SEEDING_TIME_LIMIT* ]]
	else
		# 4.x has no inactive limit: the field is absent, and mf-qbt-add says it was ignored
		assert_equal "$got" '{"ratio_limit":1.5,"seeding_time_limit":120,"inactive_seeding_time_limit":null,"auto_tmm":false,"up_limit":102400}'
		[[ $stderr == *"ignores MF_QBT_INACTIVE_SEEDING_TIME_LIMIT"* ]] || { echo "$stderr"; false; }
	fi
	# the record carries the server's view, the same values
	assert_equal "$(jq -c '.qbt | {ratio_limit, seeding_time_limit, inactive_seeding_time_limit, auto_tmm, up_limit}' <<<"$output")" "$got"
}

@test "flags win over the configuration; -1 (no limit) and -2 (global) read back as such" {
	{ mkrec f1; } >"$BATS_TEST_TMPDIR/in1"
	{ mkrec f2; } >"$BATS_TEST_TMPDIR/in2"
	export MF_QBT_RATIO_LIMIT=3 MF_QBT_SEEDING_TIME_LIMIT=30 MF_QBT_UP_LIMIT=5000
	run --separate-stderr mf-qbt-add --ratio-limit -1 --seeding-time-limit -1 \
	    --inactive-seeding-time-limit -1 --up-limit 0 <"$BATS_TEST_TMPDIR/in1"
	assert_success
	got=$(limits "$(hash_of f1)")
	assert_equal "$(jq -c '{ratio_limit, seeding_time_limit, up_limit}' <<<"$got")" \
	    '{"ratio_limit":-1,"seeding_time_limit":-1,"up_limit":0}'
	if [[ $(qbt_major) -ge 5 ]]; then
		assert_equal "$(jq .inactive_seeding_time_limit <<<"$got")" -1
	fi
	run --separate-stderr mf-qbt-add --ratio-limit -2 --seeding-time-limit -2 <"$BATS_TEST_TMPDIR/in2"
	assert_success
	got=$(limits "$(hash_of f2)")
	assert_equal "$(jq -c '{ratio_limit, seeding_time_limit, up_limit}' <<<"$got")" \
	    '{"ratio_limit":-2,"seeding_time_limit":-2,"up_limit":5000}'
}

@test "nothing configured: nothing sent, the server's defaults (global limits, no TMM, no upload limit)" {
	mkrec n >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in"
	assert_success
	got=$(limits "$(hash_of n)")
	assert_equal "$(jq -c '{ratio_limit, seeding_time_limit, auto_tmm, up_limit}' <<<"$got")" \
	    '{"ratio_limit":-2,"seeding_time_limit":-2,"auto_tmm":false,"up_limit":0}'
	[[ -z $stderr ]] || { echo "$stderr"; false; }
}

@test "MF_QBT_AUTO_TMM=1: the category decides the save path; a category mamfast creates points at the seed root" {
	# a category mamfast creates: its save path is where the data is, so the torrent finds it
	mkrec t1 >"$BATS_TEST_TMPDIR/in1"
	MF_QBT_AUTO_TMM=1 run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in1"
	assert_success
	assert_equal "$(jq .auto_tmm <<<"$(limits "$(hash_of t1)")")" true
	assert_equal "$(qbt_torrent "$(hash_of t1)" save_path | sed 's:/*$::')" "$SEED"
	assert_equal "$(qbt_api torrents/categories | jq -r --arg c "$MF_QBT_CATEGORY" '.[$c].savePath' | sed 's:/*$::')" "$SEED"
	[[ -z $stderr ]] || { echo "$stderr"; false; }
	# a category that exists with another save path wins, and mf-qbt-add says the data is elsewhere
	other="$BATS_TEST_TMPDIR/elsewhere"
	qbt_api torrents/createCategory --data-urlencode "category=tmm-other" \
	    --data-urlencode "savePath=$other" >/dev/null
	mkrec t2 >"$BATS_TEST_TMPDIR/in2"
	MF_QBT_CATEGORY=tmm-other MF_QBT_AUTO_TMM=yes run --separate-stderr mf-qbt-add <"$BATS_TEST_TMPDIR/in2"
	assert_success
	assert_equal "$(jq .auto_tmm <<<"$(limits "$(hash_of t2)")")" true
	assert_equal "$(qbt_torrent "$(hash_of t2)" save_path | sed 's:/*$::')" "$other"
	assert_equal "$(jq -r .qbt.save_path <<<"$output" | sed 's:/*$::')" "$other"
	[[ $stderr == *"tmm-other"*"$other"*"$SEED"* ]] || { echo "$stderr"; false; }
}

@test "bad values: exit 78 naming the key, before anything is read or sent" {
	mkrec b >"$BATS_TEST_TMPDIR/in"
	while read -r key val; do
		rc=0
		env "$key=$val" mf-qbt-add <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" \
		    2>"$BATS_TEST_TMPDIR/err" || rc=$?
		[[ $rc == 78 ]] || { echo "$key=$val: exit $rc"; cat "$BATS_TEST_TMPDIR/err"; false; }
		grep -q "$key=" "$BATS_TEST_TMPDIR/err" || { echo "$key=$val:"; cat "$BATS_TEST_TMPDIR/err"; false; }
		[[ ! -s $BATS_TEST_TMPDIR/out ]]
	done <<-'EOF'
	MF_QBT_RATIO_LIMIT abc
	MF_QBT_RATIO_LIMIT -3
	MF_QBT_RATIO_LIMIT 1.5x
	MF_QBT_RATIO_LIMIT nan
	MF_QBT_RATIO_LIMIT inf
	MF_QBT_RATIO_LIMIT 10000
	MF_QBT_RATIO_LIMIT -0.5
	MF_QBT_SEEDING_TIME_LIMIT 1.5
	MF_QBT_SEEDING_TIME_LIMIT -3
	MF_QBT_SEEDING_TIME_LIMIT 525601
	MF_QBT_SEEDING_TIME_LIMIT 2h
	MF_QBT_INACTIVE_SEEDING_TIME_LIMIT x
	MF_QBT_INACTIVE_SEEDING_TIME_LIMIT -7
	MF_QBT_UP_LIMIT -1
	MF_QBT_UP_LIMIT 1.5
	MF_QBT_UP_LIMIT 100k
	MF_QBT_UP_LIMIT 99999999999
	MF_QBT_AUTO_TMM 2
	MF_QBT_AUTO_TMM maybe
	EOF
	# a flag with a bad value is named by its key too
	run --separate-stderr mf-qbt-add --ratio-limit abc <"$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 78
	[[ $stderr == *MF_QBT_RATIO_LIMIT=abc* ]]
	# nothing reached the server
	assert_equal "$(qbt_torrents "hashes=$(hash_of b)" | jq length)" 0
}
