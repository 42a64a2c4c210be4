#!/usr/bin/env bats
# The README's commands, run as written (in CI and by `make check`), and the demo that
# `make demo` runs.  Every `$ ` line of the README's console blocks is either run here
# (and must succeed) or named below with the reason it cannot run here.

bats_require_minimum_version 1.5.0
load lib/common
load lib/e2e
setup() { :; }	# each test sets up what it needs

README="$MF_ROOT/README.md"

# The `$ ` lines of ```console blocks, in order.
readme_commands() {
	awk '/^```console/ { c = 1; next } /^```/ { c = 0 } c && /^\$ / { print substr($0, 3) }' "$README"
}

# The ```sh block: the configuration file example.
readme_config() {
	awk '/^```sh/ { c = 1; next } /^```/ { c = 0 } c' "$README"
}

@test "README: the two set-up commands are make demo and make check" {
	grep -Eq '^    make demo +#' "$README"
	grep -Eq '^    make check +#' "$README"
	grep -q '^demo:' "$MF_ROOT/Makefile"
	grep -q '^check:' "$MF_ROOT/Makefile"
}

@test "README: the Set up section names every package scripts/deps installs, in its set" {
	# The section as one line, cut where the test set begins.
	setup=$(awk '/^## / { s = ($0 == "## Set up") } s' "$README" | tr '\n' ' ')
	demo=${setup%%adds the test set*}
	[ "$demo" != "$setup" ]
	check=${setup#"$demo"}
	build=$("$MF_ROOT/scripts/deps" --list)
	for p in $build; do
		[[ $demo == *"\`$p\`"* ]] || { echo "the README does not say make demo installs $p"; false; }
	done
	for p in $("$MF_ROOT/scripts/deps" --test --list); do
		grep -qx "$p" <<<"$build" && continue
		[[ $check == *"\`$p\`"* ]] || { echo "the README does not say make check adds $p"; false; }
	done
	# The prerequisites, as the fresh check assumes them.
	[[ $setup == *"Debian 12 or Ubuntu"* && $setup == *"root or sudo"* && $setup == *"git"*"make"* ]]
}

@test "README: every documented command runs as written on a real set-up" {
	e2e_setup
	e2e_library three --books 3 --tiny
	# The configuration exactly as the README writes it, where the README puts it; the
	# environment then points it at this test's folders and servers (the environment wins
	# over the file, as documented).
	unset MF_CONFIG
	mkdir -p "$XDG_CONFIG_HOME/mamfast"
	readme_config >"$XDG_CONFIG_HOME/mamfast/mamfast.conf"
	grep -q '^MF_LIBRARY=' "$XDG_CONFIG_HOME/mamfast/mamfast.conf"
	printf '%s\n' "$MF_QBT_PASS" >"$BATS_TEST_TMPDIR/qbt.pass"
	export MF_LIBRARY="$LIB" MF_SEED_ROOT="$SEED" MF_OUT_DIR="$OUT" MF_STATE_DIR="$STATE"
	export MF_CACHE_DIR="$BATS_TEST_TMPDIR/cache" MF_QBT_URL MF_QBT_USER
	export MF_QBT_PASS_FILE="$BATS_TEST_TMPDIR/qbt.pass" MF_AUDNEX_URL
	export MF_ANNOUNCE_URL="https://tracker.test/tracker.php/$E2E_PASSKEY/announce"
	unset MF_QBT_PASS
	# The migration section works on a MAMFast project folder with data/processed.json.
	work="$BATS_TEST_TMPDIR/work"
	mkdir -p "$work/data"
	cp "$MF_ROOT/tests/fixtures/processed-v1.json" "$work/data/processed.json"
	ran=0
	while IFS= read -r cmd; do
		case $cmd in
		"sudo make install")
			# Not on a shared machine: the same install into a scratch DESTDIR.
			run make -s -C "$MF_ROOT" install B="$(dirname "$MF_BIN")" DESTDIR="$BATS_TEST_TMPDIR/root"
			assert_success
			[ -x "$BATS_TEST_TMPDIR/root/usr/local/bin/mamfast" ]
			[ -f "$BATS_TEST_TMPDIR/root/usr/local/share/man/man7/mamfast.7" ]
			continue ;;
		esac
		echo "\$ $cmd"
		run bash -o pipefail -c "cd '$work' && $cmd" </dev/null
		echo "$output"
		[ "$status" -eq 0 ] || { echo "README command failed ($status): $cmd"; false; }
		# What the README says the command shows, where it can be counted.
		case $cmd in
		*mf-infohash*) [ "$(grep -cE '(^|[^0-9a-f])[0-9a-f]{40}([^0-9a-f]|$)' <<<"$output")" -eq 3 ] ;;
		"mf-scan | jq"*|*"staging.name"*) [ "$(grep -c . <<<"$output")" -eq 3 ] ;;
		"mamfast run") assert_line --regexp "^  added to qBittorrent +3$" ;;
		"mamfast check") assert_line "all checks passed" ;;
		esac
		ran=$((ran + 1))
	done < <(readme_commands)
	[ "$ran" -ge 10 ]
	# They did what the README says they do.
	[ "$(qbt_count)" -eq 3 ]
	[ -e "$work/data/processed.json.bak" ]
	run mf-state list --json
	jq -s -e 'map(.id) | index("B0CFAIL001")' <<<"$output"
}

@test "README: the man pages it names exist" {
	for m in $(grep -o 'man 7 mamfast\|man mf-[a-z-]*[a-z]' "$README" | sort -u | awk '{print $NF}'); do
		[[ $m == mamfast ]] || command -v "$m" >/dev/null || fail "$m is not built (make builds it)"
		ls "$MF_ROOT"/man/"$m".[17] >/dev/null
	done
}

@test "make demo's script: runs, shows what it says, leaves nothing running" {
	e2e_need_tools
	export MF_DEMO_DIR="$BATS_TEST_TMPDIR/demo"
	unset MF_CONFIG
	n0=$(qbt_count)
	run --separate-stderr "$MF_ROOT/scripts/demo"
	echo "$output"; echo "$stderr"
	assert_success
	assert_line --regexp "^  added to qBittorrent +[1-9]"
	assert_line --regexp "^  already complete +[1-9]"
	assert_line --partial "torrents"
	for d in library seed out state qbt; do [ -d "$MF_DEMO_DIR/$d" ]; done
	# This file's own qBittorrent (in MF_QBT_URL) was not touched: the demo uses its own.
	[ "$(qbt_count)" -eq "$n0" ]
	# Nothing of the demo's is still running.
	run pgrep -f "$MF_DEMO_DIR"
	assert_failure
	[ ! -e "$MF_DEMO_DIR/qbt/qbt.pid" ] || ! kill -0 "$(cat "$MF_DEMO_DIR/qbt/qbt.pid")" 2>/dev/null
	# A second demo remakes its own folder; it never empties one it did not make.
	mkdir -p "$BATS_TEST_TMPDIR/other" && touch "$BATS_TEST_TMPDIR/other/keep"
	MF_DEMO_DIR="$BATS_TEST_TMPDIR/other" run "$MF_ROOT/scripts/demo"
	assert_failure 1
	[ -e "$BATS_TEST_TMPDIR/other/keep" ]
}

@test "make demo's script: Ctrl-C leaves nothing running" {
	e2e_need_tools
	export MF_DEMO_DIR="$BATS_TEST_TMPDIR/demo-int"
	unset MF_CONFIG
	setsid "$MF_ROOT/scripts/demo" >"$BATS_TEST_TMPDIR/demo.out" 2>&1 3>&- &
	pid=$!
	# Interrupt once qBittorrent is up (the demo is then mid-way).
	for i in $(seq 150); do
		[ -s "$MF_DEMO_DIR/qbt/url" ] && break
		sleep 0.1
	done
	[ -s "$MF_DEMO_DIR/qbt/url" ]
	kill -INT -- -"$pid"
	wait "$pid" || true
	sleep 0.5
	run pgrep -f "$MF_DEMO_DIR"
	assert_failure
}
