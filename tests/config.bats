#!/usr/bin/env bats
# `mamfast config` (every key, its effective value and where it came from, secrets hidden)
# and `mamfast check --only config|paths|services`.

bats_require_minimum_version 1.5.0
load lib/common
load lib/driver

setup() {
	driver_conf
	cat >>"$conf" <<-EOF
	MF_QBT_CATEGORY=first
	MF_QBT_CATEGORY=books
	MF_NOTIFY_URL=https://discord.com/api/webhooks/1/W3bhookTok3n
	EOF
	unset MF_QBT_CATEGORY MF_TIMEOUT MF_NOTIFY_URL MF_QBT_RATIO_LIMIT
}

# value KEY: what `mamfast config` says KEY is ("VALUE  # ORIGIN"), from $output.
line_of() {
	grep -E "^$1=" <<<"$output"
}

@test "config: every key, the value, and where it came from (environment, file:line, default, unset)" {
	MF_TIMEOUT=7 run --separate-stderr mamfast config
	assert_success
	[[ -z $stderr ]] || { echo "$stderr"; false; }
	assert_line --index 0 "# configuration file: $conf"
	assert_equal "$(line_of MF_TIMEOUT)" "MF_TIMEOUT=7  # environment"
	assert_equal "$(line_of MF_LIBRARY)" "MF_LIBRARY=$lib  # $conf:2"
	# quotes taken off, `export` understood, the last line of a key wins
	assert_equal "$(line_of MF_OUT_DIR)" "MF_OUT_DIR=$BATS_TEST_TMPDIR/out  # $conf:4"
	assert_equal "$(line_of MF_STATE_DIR)" "MF_STATE_DIR=$BATS_TEST_TMPDIR/state  # $conf:5"
	assert_equal "$(line_of MF_QBT_CATEGORY)" "MF_QBT_CATEGORY=books  # $conf:10"
	# defaults as the tools apply them
	assert_equal "$(line_of MF_QBT_URL)" "MF_QBT_URL=http://127.0.0.1:8080  # default"
	assert_equal "$(line_of MF_MAX_PATH)" "MF_MAX_PATH=225  # default"
	assert_equal "$(line_of MF_NOTIFY_ATTEMPTS)" "MF_NOTIFY_ATTEMPTS=3  # default"
	assert_equal "$(line_of MF_CACHE_DIR)" "MF_CACHE_DIR=$XDG_CACHE_HOME/mamfast  # default"
	assert_equal "$(line_of MF_QBT_SAVEPATH)" "MF_QBT_SAVEPATH=$BATS_TEST_TMPDIR/seed  # default: MF_SEED_ROOT"
	assert_equal "$(line_of MF_QBT_RATIO_LIMIT)" "MF_QBT_RATIO_LIMIT=  # unset"
	# an empty value in the environment does not count, as for the tools
	MF_QBT_CATEGORY= run --separate-stderr mamfast config
	assert_equal "$(line_of MF_QBT_CATEGORY)" "MF_QBT_CATEGORY=books  # $conf:10"
	# without a file
	MF_CONFIG= XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/none" run --separate-stderr mamfast config
	assert_success
	assert_line --index 0 "# configuration file: $BATS_TEST_TMPDIR/none/mamfast/mamfast.conf (none: defaults and the environment only)"
	assert_equal "$(line_of MF_QBT_CATEGORY)" "MF_QBT_CATEGORY=mamfast  # default"
}

@test "config: secrets are shown as (set, hidden), wherever they come from, and never printed" {
	MF_QBT_API_KEY=qbt_ApiKeyValue99 run --separate-stderr mamfast config
	assert_success
	assert_equal "$(line_of MF_QBT_PASS)" "MF_QBT_PASS=(set, hidden)  # $conf:8"
	assert_equal "$(line_of MF_ANNOUNCE_URL)" "MF_ANNOUNCE_URL=(set, hidden)  # $conf:6"
	assert_equal "$(line_of MF_NOTIFY_URL)" "MF_NOTIFY_URL=(set, hidden)  # $conf:11"
	assert_equal "$(line_of MF_QBT_API_KEY)" "MF_QBT_API_KEY=(set, hidden)  # environment"
	for s in hunter2-secret SECRETPASSKEY123 W3bhookTok3n qbt_ApiKeyValue99; do
		[[ $output$stderr != *"$s"* ]] || { echo "$s shown"; false; }
	done
	# --json: the same, one object a line; a secret's value is null
	MF_QBT_API_KEY=qbt_ApiKeyValue99 run --separate-stderr mamfast config --json
	assert_success
	assert_equal "$(jq -c 'select(.key == "MF_QBT_PASS")' <<<"$output")" \
	    "{\"key\":\"MF_QBT_PASS\",\"value\":null,\"set\":true,\"secret\":true,\"origin\":\"$conf:8\"}"
	assert_equal "$(jq -c 'select(.key == "MF_MAX_PATH")' <<<"$output")" \
	    '{"key":"MF_MAX_PATH","value":"225","set":true,"secret":false,"origin":"default"}'
	[[ $output != *hunter2-secret* && $output != *qbt_ApiKeyValue99* ]]
}

@test "config: lists every key the tools, the driver and docs/records.md know" {
	run --separate-stderr mamfast config --json
	assert_success
	listed=$(jq -r .key <<<"$output" | sort)
	# keys of the configuration table and the text of docs/records.md
	want=$(grep -o 'MF_[A-Z0-9_]*[A-Z0-9]' "$MF_ROOT/docs/records.md" | sort -u)
	# keys the C tools read through lib/config, and the driver's own
	want+=$'\n'$(grep -ho '"MF_[A-Z0-9_]*"' "$MF_ROOT"/lib/*.c "$MF_ROOT"/cmd/*.c | tr -d '"' | sort -u)
	want+=$'\n'$(grep -o 'conf MF_[A-Z0-9_]*' "$MF_ROOT/scripts/mamfast" | cut -c6- | sort -u)
	# not configuration keys: the file itself, and test and build knobs read from the environment
	for k in $(sort -u <<<"$want"); do
		case $k in MF_CONFIG|MF_DATA_DIR|MF_BIN|MF_STATE_COMPACT_MIN|MF_HASH_READ|MF_DATADIR|MF_VERSION) continue ;; esac
		grep -qx "$k" <<<"$listed" || { echo "mamfast config does not list $k"; false; }
	done
	# and every key it lists is documented in mamfast(7)
	for k in $listed; do
		grep -q "$k" "$MF_ROOT/man/mamfast.7" || { echo "$k is not in mamfast.7"; false; }
	done
}

@test "config: an unknown key in the file is named with its line; check --only config fails on it" {
	echo "MF_QBT_RATIO=2" >>"$conf"
	run --separate-stderr mamfast config
	assert_success
	assert_line "# unknown key MF_QBT_RATIO at $conf:12 (mistyped?)"
	run --separate-stderr mamfast check --only config
	assert_failure 1
	assert_line --partial "unknown key MF_QBT_RATIO at $conf:12"
}

@test "config: a malformed file is exit 78 naming file and line; bad usage is 64" {
	echo "not a setting" >>"$conf"
	run --separate-stderr mamfast config
	assert_equal "$status" 78
	[[ $stderr == *"$conf:12: expected KEY=VALUE"* ]]
	run --separate-stderr mamfast config --bogus
	assert_equal "$status" 64
}

@test "check --only: one section at a time, its exit status its own" {
	command -v mf-qbt-add >/dev/null || skip "mf-qbt-add not built yet"
	export MF_QBT_URL=http://127.0.0.1:$(mf_free_port) MF_AUDNEX_URL=http://127.0.0.1:$(mf_free_port)
	export MF_TIMEOUT=2 MF_QBT_RETRY_TIME=1
	run --separate-stderr mamfast check --only config
	assert_success
	assert_line --index 0 "configuration ($conf):"
	refute_line "folders:"
	refute_line "services:"
	assert_line "all checks passed"
	run --separate-stderr mamfast check --only paths
	assert_success
	assert_line --index 0 "folders:"
	assert_line --partial "library $lib is readable"
	refute_line --partial "configuration ("
	refute_line "services:"
	run --separate-stderr mamfast check --only services
	assert_failure 1
	assert_line --index 0 "services:"
	assert_line --regexp "FAIL qBittorrent: .*unreachable"
	refute_line "folders:"
	# a bad value the tools would refuse is a configuration problem, named by its key
	MF_QBT_RATIO_LIMIT=lots run --separate-stderr mamfast check --only config
	assert_failure 1
	assert_line --partial "MF_QBT_RATIO_LIMIT=lots"
	run --separate-stderr mamfast check --only network
	assert_equal "$status" 64
	[[ $stderr == *"config, paths or services"* ]]
	run --separate-stderr mamfast check --only
	assert_equal "$status" 64
	refute_output --partial hunter2-secret
}
