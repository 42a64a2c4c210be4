#!/usr/bin/env bats
# mf-torrent while a file it hashes is truncated or grows: the record fails with "changed
# size", the process is never killed by a signal (a truncated mapping raises SIGBUS), and
# no torrent is written.  Both read paths (mapped windows, pread) are forced in turn with
# MF_HASH_READ, as the automatic choice takes one of them on a given machine.

load lib/common
load lib/mktree
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir rel
	# sparse: no disk used, and hashed at full speed (one worker, about half a second)
	truncate -s 768M rel/big.m4b
	printf 'cover' >rel/cover.jpg
}

# wait_open PID FILE: until process PID has FILE open (at most 10 s); 1 if it never does.
wait_open() {
	local i f
	for ((i = 0; i < 10000; i++)); do
		for f in /proc/"$1"/fd/*; do
			[[ $(readlink "$f" 2>/dev/null) == "$2" ]] && return 0
		done
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.001
	done
	return 1
}

# change TRIES HOW CMD...: TRIES runs of mf-torrent -j 1 with MF_HASH_READ=HOW, each time
# running CMD once the big file is open.  Sets $failed (runs that failed as they must),
# and fails the test on a signal, a wrong message or a torrent left by a failed run.
change() {
	local tries=$1 how=$2 i pid rc
	shift 2
	failed=0
	for ((i = 0; i < tries; i++)); do
		truncate -s 0 rel/big.m4b
		truncate -s 768M rel/big.m4b
		# cached, so that a mapped window is faulted in quickly and most of the time goes
		# to hashing it: the truncation then lands mostly there, as SIGBUS
		cat rel/big.m4b >/dev/null
		rm -f out.torrent err
		MF_HASH_READ=$how mf-torrent -j 1 --no-date -o out.torrent rel >/dev/null 2>err &
		pid=$!
		wait_open "$pid" "$PWD/rel/big.m4b" && "$@"
		rc=0
		wait "$pid" || rc=$?
		echo "# $how, try $((i + 1)): exit $rc: $(head -c 160 err)" >&3
		[ "$rc" -lt 128 ] || { echo "killed by signal $((rc - 128))"; return 1; }
		[ "$rc" -eq 0 ] && continue	# the change came after the last byte was read
		grep -q 'changed size while it was hashed: big.m4b' err || { cat err; return 1; }
		[ ! -e out.torrent ] || { echo "a torrent was left"; return 1; }
		failed=$((failed + 1))
	done
}

shrink() { sleep 0.0$((RANDOM % 10)); truncate -s 100M rel/big.m4b; }
grow() { sleep 0.0$((RANDOM % 10)); truncate -s 800M rel/big.m4b; }

@test "mf-torrent: a file truncated while it is mapped fails its record (SIGBUS caught)" {
	change 6 map shrink
	echo "# $failed of 6 runs saw the truncation" >&3
	[ "$failed" -ge 4 ]
}

@test "mf-torrent: a file truncated while it is read fails its record" {
	change 6 read shrink
	echo "# $failed of 6 runs saw the truncation" >&3
	[ "$failed" -ge 4 ]
}

@test "mf-torrent: a file truncated while several pieces are hashed at once fails its record" {
	local how n=0
	for how in sha-ni avx512 avx2; do
		# without the CPU feature MF_HASH_READ=engine falls back to the automatic choice
		grep -qw "$(case $how in sha-ni) echo sha_ni ;; avx512) echo avx512bw ;; *) echo avx2 ;; esac)" /proc/cpuinfo ||
			echo "# $how: this CPU lacks it, so this run takes the automatic path" >&3
		change 4 "$how" shrink
		echo "# $how: $failed of 4 runs saw the truncation" >&3
		n=$((n + failed))
	done
	[ "$n" -ge 8 ]
}

@test "mf-torrent: a file that grows while it is hashed fails its record, either way" {
	change 3 map grow
	local m=$failed
	change 3 read grow
	echo "# $m of 3 mapped runs and $failed of 3 read runs saw the growth" >&3
	[ "$m" -ge 2 ] && [ "$failed" -ge 2 ]
}

@test "mf-torrent: mapped, read and chosen reads give mktorrent's infohash" {
	mf_need mktorrent
	local want how
	rm rel/big.m4b
	# odd sizes: pieces straddle files, windows end inside pieces
	head -c 9437185 /dev/urandom >rel/a.m4b
	head -c 1 /dev/urandom >rel/b.mp3
	head -c 3000001 /dev/urandom >rel/c.m4b
	: >rel/empty.txt
	want=$(mf_mktorrent_hash rel 16)
	[ -n "$want" ]
	for how in map read auto sha-ni avx512 avx2; do
		for j in 1 3; do
			rm -f o.torrent
			MF_HASH_READ=$how run mf-torrent -j "$j" --no-date -l 16 -o o.torrent rel
			assert_success
			assert_output "$want  o.torrent"
		done
	done
}
