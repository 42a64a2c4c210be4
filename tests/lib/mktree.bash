# mktree.bash: test trees for the torrent tools (load it after lib/common).
#
#   mf_pattern_file PATH SIZE SEED   a file whose byte i is (SEED + 31*i) mod 251
#   mf_random_file PATH SIZE         SIZE random bytes (from /dev/urandom)
#   mf_tree_s9 DIR                   the cross-check tree of torrent-format.md section 9
#                                    (dotfile, empty file, UTF-8 name, a.txt beside a/b);
#                                    mktorrent -p -s MAM -l 15 gives
#                                    4a753a11451fbf61bff1809e599339c28574d352 for it
#   mf_tree_many DIR N SIZE          N files of SIZE bytes in nested folders
#   mf_mktorrent_hash DIR EXP        the infohash mktorrent 1.1 gives (-p -s MAM -l EXP -d)
#   mf_show_hash FILE                the infohash transmission-show prints

mf_pattern_file() {
	mkdir -p "$(dirname "$1")"
	python3 -c 'import sys
n, s = int(sys.argv[2]), int(sys.argv[3])
sys.stdout.buffer.write(bytes((s + 31 * i) % 251 for i in range(n)))' "$1" "$2" "$3" >"$1"
}

mf_random_file() {
	mkdir -p "$(dirname "$1")"
	head -c "$2" /dev/urandom >"$1"
}

mf_tree_s9() {
	mkdir -p "$1/a"
	mf_pattern_file "$1/.hidden" 10 3
	mf_pattern_file "$1/B-upper.mp3" 40000 6
	mf_pattern_file "$1/a-dash.mp3" 30000 7
	mf_pattern_file "$1/a.txt" 100000 1
	mf_pattern_file "$1/a/b.mp3" 70000 2
	: >"$1/empty.txt"
	mf_pattern_file "$1/Ünïcode – chapter.mp3" 50000 4
}

mf_tree_many() {
	python3 - "$1" "$2" "$3" <<'PY'
import os, sys
root, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 37), "e%d" % (i % 3))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d.bin" % i), "wb") as f:
        f.write(bytes(((i + 31 * j) % 251) for j in range(size)) if size < 4096 else os.urandom(size))
PY
}

mf_mktorrent_hash() {
	local out="$BATS_TEST_TMPDIR/mktorrent.$$.$RANDOM.torrent"
	mktorrent -p -s MAM -l "$2" -d -o "$out" "$1" >/dev/null 2>&1 || return 1
	transmission-show "$out" | sed -n 's/^ *Hash: *//p'
	rm -f "$out"
}

mf_show_hash() {
	transmission-show "$1" | sed -n 's/^ *Hash: *//p'
}
