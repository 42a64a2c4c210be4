#!/usr/bin/env bats
# End to end: the add options of the configuration file reach qBittorrent through
# `mamfast run`, read back from torrents/info by the test's own session; a bad one stops the
# run before anything is made.  Run against every qBittorrent of the version matrix.

bats_require_minimum_version 1.5.0
load lib/common
load lib/e2e

@test "mamfast run: ratio, seeding time, inactive seeding time and upload limits from the file read back from qBittorrent" {
	e2e_library small --books 2 --tiny
	e2e_config MF_QBT_RATIO_LIMIT=2.5 MF_QBT_SEEDING_TIME_LIMIT=1440 \
	    MF_QBT_INACTIVE_SEEDING_TIME_LIMIT=720 MF_QBT_UP_LIMIT=524288 MF_QBT_AUTO_TMM=0
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	assert_success
	[ "$(qbt_count)" -eq 2 ]
	major=$(qbt_api app/version | sed -n 's/^v\{0,1\}\([0-9]*\)\..*/\1/p')
	for h in $(jq -r .qbt.hash "$STATE/last-run.ndjson"); do
		got=$(qbt_torrents "hashes=$h" | jq -c '.[0] | {ratio_limit, seeding_time_limit, up_limit, auto_tmm}')
		assert_equal "$got" '{"ratio_limit":2.5,"seeding_time_limit":1440,"up_limit":524288,"auto_tmm":false}'
		inactive=$(qbt_torrent "$h" inactive_seeding_time_limit)
		if [[ $major -ge 5 ]]; then
			assert_equal "$inactive" 720
		else
			assert_equal "$inactive" ""	# 4.x has no such limit
		fi
	done
	if [[ $major -lt 5 ]]; then
		[[ $stderr == *"ignores MF_QBT_INACTIVE_SEEDING_TIME_LIMIT"* ]] || { echo "$stderr"; false; }
	fi
}

@test "mamfast run: a bad add option is exit 78 naming the key, before anything is made" {
	e2e_library small --books 1 --tiny
	for kv in MF_QBT_RATIO_LIMIT=lots MF_QBT_SEEDING_TIME_LIMIT=-5 MF_QBT_UP_LIMIT=1.5 MF_QBT_AUTO_TMM=2; do
		e2e_config "$kv"
		run --separate-stderr mamfast run
		[[ $status == 78 ]] || { echo "$kv: exit $status: $stderr"; false; }
		[[ $stderr == "mamfast: ${kv}: "* ]] || { echo "$kv: $stderr"; false; }
	done
	[[ ! -e $SEED && ! -e $OUT && ! -e $STATE ]]
	[ "$(qbt_count)" -eq 0 ]
}
