#!/usr/bin/env bats
# scripts/deps: the two sets it installs, and that every tool a test needs is in them
# (tests never skip for a tool that is not installed; tests/fresh-check proves the sets on
# a pristine Debian 12).

bats_require_minimum_version 1.5.0
load lib/common

deps() { "$MF_ROOT/scripts/deps" "$@"; }

@test "scripts/deps: the test set holds the build set; no package twice; usage" {
	build=$(deps --list)
	[ "$(grep -c . <<<"$build")" -ge 10 ]
	grep -qx qbittorrent-nox <<<"$build"
	grep -qx ffmpeg <<<"$build"
	# make demo never installs the fuzzing toolchain or the test tools
	run grep -xE 'clang|libclang-rt-.*|bats' <<<"$build"
	assert_failure
	tset=$(deps --test --list)
	assert_equal "$(head -n "$(grep -c . <<<"$build")" <<<"$tset")" "$build"
	for p in bats bats-support bats-assert mktorrent transmission-cli strace iproute2 procps systemd clang; do
		grep -qx "$p" <<<"$tset" || { echo "the test set lacks $p"; false; }
	done
	assert_equal "$(sort <<<"$tset" | uniq -d)" ""
	run deps --bogus
	assert_failure 64
	assert_output --partial "usage: scripts/deps"
}

@test "scripts/deps --check: silent success when all is there; names what is missing" {
	# make check has just run scripts/deps --test
	run deps --test --check
	assert_success
	assert_output "deps: the test set is all present"
	# with no command reachable, every package proved by a command is missing
	run env PATH=/nonexistent /bin/sh "$MF_ROOT/scripts/deps" --test --check
	assert_failure 1
	assert_output --regexp "^deps: missing from the test set:.* jq .*qbittorrent-nox.* strace "
	[[ $output != *libcjson-dev* ]]	# proved by a header, which is there
}

@test "every tool a test or a bench calls for comes from the test set or from every Debian" {
	set_pkgs=$(deps --test --list)
	# What the set pulls in directly counts too (python3 brings /usr/bin/python3 in
	# python3-minimal).
	deps_of=$(for p in $set_pkgs; do dpkg-query -W -f='${Depends},${Pre-Depends}\n' "$p" 2>/dev/null; done |
	    tr ',|' '\n\n' | sed 's/^ *//; s/[ :].*//' | sort -u)
	# mf_need TOOL... in the tests; bench_setup NAME TOOL... (continued lines) in bench/.
	tools=$({
		grep -hE '^[[:space:]]*mf_need ' "$MF_ROOT"/tests/*.bats "$MF_ROOT"/tests/lib/*.bash |
		    sed 's/^[[:space:]]*mf_need //; s/[;|&#].*//'
		sed -n '/^bench_setup /{:a;/\\$/{N;ba};s/\\\n//g;s/^bench_setup [^ ]*//;p}' "$MF_ROOT"/bench/bench-*.sh
	} | tr ' ' '\n' | grep . | sort -u)
	[ "$(wc -w <<<"$tools")" -ge 20 ]
	for t in $tools; do
		[ -x "$MF_BIN/$t" ] || [ -x "$MF_ROOT/scripts/$t" ] && continue	# ours
		pkg=
		for d in /usr/bin /bin /usr/sbin /sbin; do
			case $t in /*) f=$t ;; *) f=$d/$t ;; esac
			[ -e "$f" ] || continue
			# an alternatives link (awk) belongs to no package: its target does
			pkg=$( (dpkg -S "$f" || dpkg -S "$(readlink -f "$f")") 2>/dev/null | head -n 1 | cut -d: -f1)
			[ -z "$pkg" ] || break
		done
		[ -n "$pkg" ] || { echo "$t: no Debian package holds it"; false; }
		grep -qx "$pkg" <<<"$set_pkgs$(printf '\n%s' "$deps_of")" && continue
		ess=$(dpkg-query -W -f='${Essential} ${Priority}' "$pkg")
		[[ $ess == yes* || $ess == *" required" ]] ||
		    { echo "$t comes from $pkg, which scripts/deps --test does not install"; false; }
	done
}

@test "mf_need fails the test, naming the tool, when the tool is missing (never a skip)" {
	run mf_need jq no-such-tool-mf
	assert_failure
	assert_output --partial "no-such-tool-mf is not installed (scripts/deps --test installs it)"
	run mf_need jq sh
	assert_success
}
