# metainfo.bash: an independent look into .torrent files, in Python (load after lib/common).
#
#   mf_py_info FILE hash       SHA-1 of the exact bytes of info
#   mf_py_info FILE entropy    the value of info's `entropy` key, or "-"
#   mf_py_info FILE plain      SHA-1 of info encoded again without `entropy`
#   mf_py_info FILE set K V... SHA-1 of info encoded again with string key K set to V, for
#                              each pair ("" deletes it; "i0"/"i1" set the integer 0 or 1)
#   mf_py_info FILE keys       the top-level keys, one a line, in file order
#   mf_py_info FILE get K      the value of top-level key K (a string or an integer)

mf_py_info() {
	python3 - "$@" <<'PY'
import hashlib, sys
b = open(sys.argv[1], "rb").read()
def dec(i):
    c = b[i:i+1]
    if c == b"i":
        j = b.index(b"e", i); return int(b[i+1:j]), j + 1
    if c in (b"l", b"d"):
        i += 1; items = []
        while b[i:i+1] != b"e":
            v, i = dec(i); items.append(v)
        if c == b"l": return items, i + 1
        return dict(zip(items[0::2], items[1::2])), i + 1
    j = b.index(b":", i); n = int(b[i:j]); return b[j+1:j+1+n], j + 1 + n
def enc(v):
    if isinstance(v, int): return b"i%de" % v
    if isinstance(v, bytes): return b"%d:%s" % (len(v), v)
    if isinstance(v, list): return b"l" + b"".join(enc(x) for x in v) + b"e"
    return b"d" + b"".join(enc(k) + enc(v[k]) for k in sorted(v)) + b"e"
i = 1; start = end = None; keys = []; top = {}
while b[i:i+1] != b"e":
    k, j = dec(i); v, e = dec(j); keys.append(k.decode()); top[k] = v
    if k == b"info": start, end = j, e
    i = e
info = b[start:end]
d, _ = dec(start)
op = sys.argv[2]
if op == "hash": print(hashlib.sha1(info).hexdigest())
elif op == "entropy": print(d[b"entropy"].decode() if b"entropy" in d else "-")
elif op == "plain":
    d.pop(b"entropy", None); print(hashlib.sha1(enc(d)).hexdigest())
elif op == "set":
    for k, v in zip(sys.argv[3::2], sys.argv[4::2]):
        k = k.encode()
        if v == "": d.pop(k, None)
        elif v in ("i0", "i1"): d[k] = int(v[1])
        else: d[k] = v.encode()
    print(hashlib.sha1(enc(d)).hexdigest())
elif op == "keys": print("\n".join(keys))
elif op == "get":
    v = top[sys.argv[3].encode()]; print(v.decode() if isinstance(v, bytes) else v)
PY
}
