#!/usr/bin/env bats
# MF_OWNER and MF_UMASK: the owner and modes of what mamfast makes (staged folders, copies,
# the .torrent, the MAM JSON, the state, the cache), tested as root with a throw-away uid
# that has no passwd entry.  Hardlinked files keep their source's owner.

bats_require_minimum_version 1.5.0
load lib/common
load lib/e2e

# A uid and gid with no passwd or group entry (numeric MF_OWNER must not need one).
throwaway_ids() {
	local u=54321
	while getent passwd "$u" >/dev/null || getent group "$u" >/dev/null; do u=$((u + 1)); done
	echo "$u"
}

setup() {
	[[ $(id -u) == 0 ]] || skip "needs root (MF_OWNER gives files to another user)"
	e2e_setup
	ID=$(throwaway_ids)
	GID=$((ID + 7))
}

# "uid:gid mode" of a path.
own() { stat -c '%u:%g %a' "$1"; }

@test "run with MF_OWNER=UID:GID and MF_UMASK=002: everything made belongs to UID:GID, 0775/0664; hardlinks keep the source's owner" {
	e2e_library small --books 2 --tiny
	e2e_config "MF_OWNER=$ID:$GID" "MF_UMASK=002"
	run --separate-stderr mamfast run
	echo "$output"; echo "$stderr"
	assert_success
	[ "$(qbt_count)" -eq 2 ]
	# the roots the run created, and every folder and file under them
	for d in "$SEED" "$OUT" "$STATE" "$BATS_TEST_TMPDIR/cache"; do
		assert_equal "$(own "$d")" "$ID:$GID 775"
	done
	n=0
	while IFS= read -r -d '' f; do
		n=$((n + 1))
		if [[ -d $f ]]; then
			assert_equal "$(own "$f") $f" "$ID:$GID 775 $f"
		elif [[ $f == "$SEED"/* ]]; then
			# staged by hardlink: the library's inode, owner and mode
			[[ $(stat -c %h "$f") -ge 2 ]] || { echo "$f is not a hardlink"; false; }
			src=$(find "$LIB" -samefile "$f" | head -n 1)
			[[ -n $src ]] || { echo "$f: no library file shares its inode"; false; }
			assert_equal "$(own "$f")" "$(own "$src")"
			assert_equal "$(stat -c %u "$f")" 0
		else
			assert_equal "$(own "$f") $f" "$ID:$GID 664 $f"
		fi
	done < <(find "$SEED" "$OUT" "$STATE" "$BATS_TEST_TMPDIR/cache" -mindepth 1 -print0)
	# what there must be: per release a folder, the .torrent, the MAM JSON, audnex.json;
	# the store, its lock, the run lock and last-run.ndjson
	while IFS= read -r r; do
		for f in "$OUT/$r/$r.torrent" "$OUT/$r/$r.json" "$OUT/$r/audnex.json"; do
			assert_equal "$(own "$f")" "$ID:$GID 664"
		done
		assert_equal "$(own "$SEED/$r")" "$ID:$GID 775"
	done < <(jq -r .staging.name "$STATE/last-run.ndjson")
	for f in run.lock state.lock journal.ndjson last-run.ndjson; do
		assert_equal "$(own "$STATE/$f") $f" "$ID:$GID 664 $f"
	done
	[[ $n -gt 20 ]]
	# qBittorrent seeds what was staged
	for h in $(jq -r .qbt.hash "$STATE/last-run.ndjson"); do
		assert_equal "$(qbt_torrent "$h" save_path | sed 's:/*$::')" "$SEED"
	done
}

@test "without MF_OWNER and MF_UMASK nothing changes: the user's own files, modes from the umask (022: 0755/0644)" {
	e2e_library small --books 1 --tiny
	umask 022
	run --separate-stderr mamfast run
	assert_success
	r=$(jq -r .staging.name "$STATE/last-run.ndjson")
	assert_equal "$(own "$SEED/$r")" "0:0 755"
	assert_equal "$(own "$OUT/$r/$r.torrent")" "0:0 644"
	assert_equal "$(own "$OUT/$r/$r.json")" "0:0 644"
	assert_equal "$(own "$STATE/journal.ndjson")" "0:0 644"
	# MF_UMASK=077 alone: private files, still the user's
	rm -rf "$SEED" "$OUT" "$STATE"
	e2e_config "MF_UMASK=077"
	e2e_qbt_clear
	run --separate-stderr mamfast run
	assert_success
	assert_equal "$(own "$SEED/$r")" "0:0 700"
	assert_equal "$(own "$OUT/$r/$r.torrent")" "0:0 600"
	assert_equal "$(own "$STATE/journal.ndjson")" "0:0 600"
	assert_equal "$(own "$STATE")" "0:0 700"
}

@test "names work too (MF_OWNER=nobody:nogroup); copies (mf-stage --copy) get the owner, not the source's" {
	mf_need getent
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null || skip "no nobody/nogroup entries"
	uid=$(id -u nobody) gid=$(getent group nogroup | cut -d: -f3)
	e2e_library small --books 1 --tiny
	export MF_LIBRARY="$LIB" MF_SEED_ROOT="$SEED" MF_OUT_DIR="$OUT" MF_OWNER=nobody:nogroup
	mf-scan "$LIB" | mf-stage --copy >"$BATS_TEST_TMPDIR/staged"
	assert_equal "$(jq -r '.staging.files[].how' "$BATS_TEST_TMPDIR/staged" | sort -u)" copy
	while IFS= read -r f; do
		assert_equal "$(stat -c %u:%g "$f")" "$uid:$gid"
	done < <(jq -r '.staging.files[].dst' "$BATS_TEST_TMPDIR/staged")
	assert_equal "$(stat -c %u:%g "$(jq -r .staging.dir "$BATS_TEST_TMPDIR/staged")")" "$uid:$gid"
	mf-torrent <"$BATS_TEST_TMPDIR/staged" >"$BATS_TEST_TMPDIR/t"
	assert_equal "$(stat -c %u:%g "$(jq -r .torrent.path "$BATS_TEST_TMPDIR/t")")" "$uid:$gid"
}

@test "bad MF_OWNER or MF_UMASK: exit 78 naming the key, from the driver and from every tool" {
	e2e_library small --books 1 --tiny
	while read -r kv; do
		e2e_config "$kv"
		run --separate-stderr mamfast run
		[[ $status == 78 ]] || { echo "$kv: mamfast run exit $status: $stderr"; false; }
		[[ $stderr == *"${kv%%=*}="* ]] || { echo "$kv: $stderr"; false; }
		run --separate-stderr mf-torrent </dev/null
		[[ $status == 78 ]] || { echo "$kv: mf-torrent exit $status"; false; }
		[[ $stderr == *"${kv%%=*}="* ]] || { echo "$kv: $stderr"; false; }
	done <<-'EOF'
	MF_OWNER=no-such-user-xyz:root
	MF_OWNER=root:no-such-group-xyz
	MF_OWNER=12345
	MF_OWNER=1:2:3
	MF_OWNER=:
	MF_OWNER=4294967295:0
	MF_UMASK=999
	MF_UMASK=0x22
	MF_UMASK=u=rwx
	MF_UMASK=77777
	EOF
	# nothing was made by the refused runs
	[[ ! -e $SEED && ! -e $OUT ]]
	[ "$(qbt_count)" -eq 0 ]
}

@test "MF_OWNER for another user without root: exit 78 saying it needs root" {
	mf_need setpriv
	# A copy the throw-away uid can run wherever the checkout is (under /root it cannot
	# reach build/bin); the tool reads no records and writes nothing.
	d=$(mktemp -d /tmp/mf-owner.XXXXXX)
	chmod 755 "$d"
	mf=$(mf_nobody_copy "$MF_BIN/mf-torrent" "$d/bin")
	as_id() {	# as_id OWNER: mf-torrent as the throw-away uid with MF_OWNER=OWNER
		run --separate-stderr setpriv --reuid="$ID" --regid="$ID" --clear-groups \
		    env MF_OWNER="$1" MF_CONFIG=/dev/null MF_OUT_DIR=/nonexistent/out \
		    MF_SEED_ROOT=/nonexistent/seed "$mf" </dev/null
	}
	as_id "$((ID + 1)):$ID"
	assert_equal "$status" 78
	[[ $stderr == *MF_OWNER=*root* ]] || { echo "$stderr"; false; }
	as_id "$ID:$((ID + 1))"
	assert_equal "$status" 78
	[[ $stderr == *MF_OWNER=*group* ]] || { echo "$stderr"; false; }
	# its own uid and its own group: fine
	as_id "$ID:$ID"
	rm -rf "$d"
	assert_success
}
