# common.bash: loaded by every bats file (`load lib/common`).
# Puts the freshly built programs first on PATH, gives each test a scratch folder, and
# isolates configuration so a developer's own mamfast.conf never leaks into a test.

bats_load_library bats-support 2>/dev/null || load /usr/lib/bats/bats-support/load.bash
bats_load_library bats-assert 2>/dev/null || load /usr/lib/bats/bats-assert/load.bash

MF_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
: "${MF_BIN:=$MF_ROOT/build/bin}"
export PATH="$MF_BIN:$MF_ROOT/scripts:$PATH"
export MF_DATA_DIR="$MF_ROOT/data"
export MF_CONFIG=/dev/null
export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg-config"
export XDG_STATE_HOME="$BATS_TEST_TMPDIR/xdg-state"
export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/xdg-cache"
unset MF_LIBRARY MF_SEED_ROOT MF_OUT_DIR MF_STATE_DIR MF_CACHE_DIR MF_ANNOUNCE_URL \
      MF_QBT_URL MF_QBT_USER MF_QBT_PASS MF_QBT_PASS_FILE MF_QBT_API_KEY MF_AUDNEX_URL

# A free TCP port on 127.0.0.1 (asks the kernel, then releases it).
mf_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Fail, naming it, when a tool is missing: scripts/deps --test installs every one the
# tests use (make check runs it), so a missing tool is a broken set-up, never a skip.
mf_need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || fail "$t is not installed (scripts/deps --test installs it)"
	done
}

# mf_nobody_copy PROG DIR: copy PROG into DIR (made if need be) so that nobody can run
# it wherever the checkout is (under /root, nobody cannot reach build/bin); prints the
# copy's path.  DIR's parent must be searchable by nobody (a mktemp -d under /tmp, 755).
mf_nobody_copy() {
	mkdir -p "$2" && chmod 755 "$2" && install -m 0755 "$1" "$2/" || return 1
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$2/${1##*/}" ||
		fail "nobody cannot run $2/${1##*/} (is a folder above it not searchable?)"
	echo "$2/${1##*/}"
}

# For stderr apart from stdout use bats' own `run --separate-stderr` ($stderr).

# mf_zombie: a process that has ended and that its parent has not reaped (as a killed
# tool's under an init that reaps late): its pid in $zpid.  Its parent sleeps for a
# minute; mf_zombie_end ends it (and so the zombie).
mf_zombie() {
	local f=$BATS_TEST_TMPDIR/zombie.pid i
	python3 -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(60)' >"$f" 3>&- &
	zparent=$!
	for ((i = 0; i < 500; i++)); do
		zpid=$(cat "$f" 2>/dev/null)
		[ -n "$zpid" ] && [ "$(sed 's/.*) //' "/proc/$zpid/stat" 2>/dev/null | cut -c1)" = Z ] &&
		    return 0
		sleep 0.01
	done
	return 1
}
mf_zombie_end() { kill "$zparent" 2>/dev/null; wait "$zparent" 2>/dev/null || true; }
