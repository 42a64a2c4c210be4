/* torrent: lay a file or folder out as mkbrr 1.24 does, pick the piece size, write the
 * .torrent, and read, reuse and verify existing ones. */
#include "torrent.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "file.h"
#include "log.h"
#include "metainfo.h"
#include "progress.h"

#define MIB (1024ULL * 1024)

static void errf(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int
mf_piece_exp(uint64_t total, int max_exp)
{
	uint64_t bound = 64 * MIB;
	int exp = 15, ceiling = 24;

	/* mkbrr: a ceiling below 16 gives 16 outright; otherwise it may go up to 27. */
	if (max_exp > 0) {
		if (max_exp < 16)
			return 16;
		ceiling = max_exp < 27 ? max_exp : 27;
	}
	while (total > bound && exp < 27) {
		exp++;
		bound *= 2;
	}
	return exp < ceiling ? exp : ceiling;
}

void
mf_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = 0;
}

/* ---- globs ---- */

/* One path segment [s, se) against a pattern segment [p, pe), ignoring case. */
static int
seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
	char pb[NAME_MAX * 2 + 2], sb[NAME_MAX * 2 + 2];

	if (pn >= sizeof pb || sn >= sizeof sb)
		return 0;
	memcpy(pb, p, pn);
	pb[pn] = 0;
	memcpy(sb, s, sn);
	sb[sn] = 0;
	return fnmatch(pb, sb, FNM_CASEFOLD) == 0;
}

static int
gmatch(const char *p, const char *s)
{
	const char *pe = strchr(p, '/'), *se;
	size_t pn = pe ? (size_t)(pe - p) : strlen(p);

	if (*p == 0)
		return *s == 0;
	if (pn == 2 && p[0] == '*' && p[1] == '*') {
		/* "**" takes zero or more whole segments. */
		const char *rest = pe ? pe + 1 : "";

		if (*rest == 0)
			return 1;
		for (;;) {
			if (gmatch(rest, s))
				return 1;
			if (!(s = strchr(s, '/')))
				return 0;
			s++;
		}
	}
	if (*s == 0)
		return 0;
	se = strchr(s, '/');
	if (!seg_match(p, pn, s, se ? (size_t)(se - s) : strlen(s)))
		return 0;
	if (!pe)
		return se == NULL;
	return gmatch(pe + 1, se ? se + 1 : "");
}

/* Expand the first {a,b} group of pat and match each alternative. */
static int
brace_match(const char *pat, const char *path, int depth)
{
	const char *open = strchr(pat, '{'), *close, *q, *alt;
	int level = 0;

	if (!open || depth > 8)
		return gmatch(pat, path);
	for (close = open; *close; close++) {
		if (*close == '{')
			level++;
		else if (*close == '}' && --level == 0)
			break;
	}
	if (!*close)
		return gmatch(pat, path);
	for (alt = q = open + 1;; q++) {
		if (*q == '{')
			level++;
		else if (*q == '}')
			level--;
		if ((*q == ',' && level == 0) || q == close) {
			size_t a = (size_t)(open - pat), b = (size_t)(q - alt);
			size_t c = strlen(close + 1);
			char *x = malloc(a + b + c + 1);
			int m;

			if (!x)
				return 0;
			memcpy(x, pat, a);
			memcpy(x + a, alt, b);
			memcpy(x + a + b, close + 1, c + 1);
			m = brace_match(x, path, depth + 1);
			free(x);
			if (m)
				return 1;
			if (q == close)
				return 0;
			alt = q + 1;
		}
	}
}

int
mf_glob_match(const char *pat, const char *path)
{
	char *x;
	int m;

	if (strchr(pat, '/') || strncmp(pat, "**", 2) == 0)
		return brace_match(pat, path, 0);
	/* mkbrr puts "**\/" in front of a bare pattern so that it matches at any depth. */
	if (!(x = malloc(strlen(pat) + 4)))
		return 0;
	strcpy(x, "**/");
	strcat(x, pat);
	m = brace_match(x, path, 0);
	free(x);
	return m;
}

/* ---- walk ---- */

/*
 * The walk reads every folder through a descriptor opened below the root's, never
 * following a symbolic link, and keeps each file's identity: the hash opens the files the
 * same way (mf_hash_open), so a path swapped for a link, or a file for another, between
 * the walk and the read fails the torrent instead of reading something else.
 */
struct walk {
	struct mf_tlayout	*lay;
	size_t			cap;
	char *const		*exclude;
	size_t			nexclude;
	const char		*root;		/* as given, for messages */
	char			*realroot;	/* where the root's descriptor really is */
	char			*err;
	size_t			errsz;
};

/* mkbrr's fixed ignore list: a suffix test on the lowercased relative path. */
static int
default_excluded(const char *rel)
{
	static const char *suffix[] = {
		".torrent", ".ds_store", "thumbs.db", "desktop.ini", "zone.identifier"
	};
	size_t n = strlen(rel), i;

	for (i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		size_t k = strlen(suffix[i]);

		if (n >= k && strcasecmp(rel + n - k, suffix[i]) == 0)
			return 1;
	}
	return 0;
}

static int
user_excluded(const struct walk *w, const char *rel)
{
	size_t i;

	for (i = 0; i < w->nexclude; i++)
		if (mf_glob_match(w->exclude[i], rel))
			return 1;
	return 0;
}

static char *
join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + nb + 2);

	if (s) {
		memcpy(s, a, na);
		s[na] = '/';
		memcpy(s + na + 1, b, nb + 1);
	}
	return s;
}

/* The part of target (resolved, inside realroot and not realroot itself) below realroot. */
static const char *
below(const char *realroot, const char *target)
{
	return target + (strcmp(realroot, "/") == 0 ? 1 : strlen(realroot) + 1);
}

/* Take rel, src and key (malloc'd; key may be rel) as a file of the layout. */
static int
add_file(struct walk *w, char *rel, char *src, char *key, const struct stat *st)
{
	struct mf_tlayout *lay = w->lay;
	struct mf_tfile *f;

	if (lay->nfiles == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct mf_tfile *nf = realloc(lay->files, cap * sizeof *nf);

		if (!nf)
			goto oom;
		lay->files = nf;
		w->cap = cap;
	}
	if (!rel || !src || !key)
		goto oom;
	f = &lay->files[lay->nfiles++];
	memset(f, 0, sizeof *f);
	f->path = rel;
	f->src = src;
	f->key = key;
	f->len = (uint64_t)st->st_size;
	mf_fid_of(st, &f->id);
	return 0;
oom:
	free(rel);
	free(src);
	if (key != rel)
		free(key);
	errf(w->err, w->errsz, "out of memory");
	return -1;
}

/* A symbolic link rel (named nm in folder fd): mkbrr reads its target when that is a
 * file inside the root, and sorts it by the target's path. */
static int
walk_link(struct walk *w, int fd, const char *nm, char **relp)
{
	char *target = mf_realpath_at(fd, nm), *rel = *relp;
	struct stat ts;
	int rc = 0;

	if (!target || stat(target, &ts) < 0) {
		mf_warnx("%s: skipping broken symlink %s", w->root, rel);
	} else if (mf_path_inside(target, w->realroot) != 1) {
		errf(w->err, w->errsz, "symlink %s points outside %s (to %s); refused: copy the "
		    "file in or remove the link", rel, w->root, target);
		rc = -1;
	} else if (S_ISDIR(ts.st_mode)) {
		mf_warnx("%s: not following symlinked folder %s", w->root, rel);
	} else if (S_ISREG(ts.st_mode) && !default_excluded(rel) && !user_excluded(w, rel)) {
		char *src = strdup(below(w->realroot, target));

		rc = add_file(w, rel, src, strdup(src ? src : ""), &ts);
		*relp = NULL;
	}
	free(target);
	return rc;
}

/* Walk the folder fd (taken: closed here) whose path below the root is prefix. */
static int
walk_dir(struct walk *w, int fd, const char *prefix, int depth)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (depth > 256) {
		close(fd);
		errf(w->err, w->errsz, "%s/%s: folders nested too deeply", w->root, prefix);
		return -1;
	}
	if (!(d = fdopendir(fd))) {
		errf(w->err, w->errsz, "cannot read folder %s%s%s: %s", w->root, *prefix ? "/" : "",
		    prefix, strerror(errno));
		close(fd);
		return -1;
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		const char *nm = de->d_name;
		struct stat st;
		char *rel;

		if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
			continue;
		if (!(rel = *prefix ? join(prefix, nm) : strdup(nm))) {
			errf(w->err, w->errsz, "out of memory");
			rc = -1;
			break;
		}
		if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			errf(w->err, w->errsz, "cannot stat %s/%s: %s", w->root, rel, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			/* Synology's @eaDir folders, and folders the user excluded, are pruned. */
			if (strcasecmp(nm, "@eadir") != 0 && !user_excluded(w, rel)) {
				int sub = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				    O_CLOEXEC);

				if (sub < 0) {
					errf(w->err, w->errsz, "cannot read folder %s/%s: %s", w->root,
					    rel, strerror(errno));
					rc = -1;
				} else {
					rc = walk_dir(w, sub, rel, depth + 1);
				}
			}
		} else if (S_ISLNK(st.st_mode)) {
			rc = walk_link(w, dirfd(d), nm, &rel);
		} else if (S_ISREG(st.st_mode) && !default_excluded(rel) && !user_excluded(w, rel)) {
			rc = add_file(w, rel, strdup(rel), rel, &st);
			rel = NULL;
		}
		free(rel);
	}
	if (rc == 0 && errno) {
		errf(w->err, w->errsz, "cannot read folder %s%s%s: %s", w->root, *prefix ? "/" : "",
		    prefix, strerror(errno));
		rc = -1;
	}
	closedir(d);
	return rc;
}

static int
cmp_key(const void *a, const void *b)
{
	const struct mf_tfile *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->path, y->path);
}

void
mf_tlayout_free(struct mf_tlayout *lay)
{
	size_t i;

	for (i = 0; i < lay->nfiles; i++) {
		if (lay->files[i].key != lay->files[i].path)
			free(lay->files[i].key);
		free(lay->files[i].path);
		free(lay->files[i].src);
	}
	free(lay->files);
	free(lay->name);
	if (lay->dirfd >= 0)
		close(lay->dirfd);
	memset(lay, 0, sizeof *lay);
	lay->dirfd = -1;
}

/* The last component of path, without trailing slashes. */
static char *
base_name(const char *path)
{
	size_t n = strlen(path), s;

	while (n > 1 && path[n - 1] == '/')
		n--;
	s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	return strndup(path + s, n - s);
}

char *
mf_torrent_name(const char *path)
{
	char *name = base_name(path);

	if (name && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)) {
		/* "." names nothing: take the folder's own name, as a user would expect. */
		char *real = realpath(path, NULL);

		free(name);
		name = real ? base_name(real) : NULL;
		free(real);
	}
	return name;
}

/*
 * Open what path names for the walk: a folder (its descriptor) or a file (the descriptor
 * of the folder it really is in, and its name there in *base).  -1 with errno.
 */
static int
open_data(const char *path, char **base)
{
	char *real, *slash;
	int fd;

	*base = NULL;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 || errno != ENOTDIR)
		return fd;
	if (!(real = realpath(path, NULL)))
		return -1;
	slash = strrchr(real, '/');
	*slash = '\0';
	fd = open(slash == real ? "/" : real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && !(*base = strdup(slash + 1))) {
		close(fd);
		fd = -1;
		errno = ENOMEM;
	}
	free(real);
	return fd;
}

int
mf_torrent_walk(const char *path, const char *within, char *const *exclude, size_t nexclude,
    struct mf_tlayout *lay, char *err, size_t errsz)
{
	struct walk w = { lay, 0, exclude, nexclude, path, NULL, err, errsz };
	struct stat st;
	char *base = NULL;
	size_t i;
	uint64_t off = 0;
	int fd;

	memset(lay, 0, sizeof *lay);
	if ((lay->dirfd = open_data(path, &base)) < 0) {
		errf(err, errsz, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (within && mf_fd_inside(lay->dirfd, within) != 1) {
		errf(err, errsz, "%s lies outside %s: refused", path, within);
		goto fail;
	}
	lay->name = mf_torrent_name(path);
	if (!lay->name || !*lay->name || strcmp(lay->name, "/") == 0 ||
	    strcmp(lay->name, ".") == 0 || strcmp(lay->name, "..") == 0) {
		errf(err, errsz, "%s: cannot name a torrent after this path; give the folder's "
		    "own path", path);
		goto fail;
	}
	if (base) {
		if (fstatat(lay->dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			errf(err, errsz, "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (!S_ISREG(st.st_mode)) {
			errf(err, errsz, "%s is neither a file nor a folder", path);
			goto fail;
		}
		lay->single = 1;
		if (add_file(&w, strdup(lay->name), base, strdup(lay->name), &st) < 0) {
			base = NULL;
			goto fail;
		}
		base = NULL;
	} else {
		if (!(w.realroot = mf_realpath_at(lay->dirfd, NULL))) {
			errf(err, errsz, "cannot resolve %s: %s", path, strerror(errno));
			goto fail;
		}
		if ((fd = openat(lay->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			errf(err, errsz, "cannot read folder %s: %s", path, strerror(errno));
			goto fail;
		}
		if (walk_dir(&w, fd, "", 0) < 0)
			goto fail;
		if (lay->nfiles > 1)
			qsort(lay->files, lay->nfiles, sizeof lay->files[0], cmp_key);
	}
	/* Offsets only from the final order (mkbrr bug #64). */
	for (i = 0; i < lay->nfiles; i++) {
		lay->files[i].off = off;
		off += lay->files[i].len;
	}
	lay->total = off;
	if (off == 0) {
		errf(err, errsz, "%s contains no files or only empty files", path);
		goto fail;
	}
	free(w.realroot);
	return 0;
fail:
	free(base);
	free(w.realroot);
	mf_tlayout_free(lay);
	return -1;
}

/* ---- encode ---- */

static void
put_key(struct mf_bbuf *b, const char *k)
{
	mf_bput_cstr(b, k);
}

/* The info dict mkbrr writes; entropy (ent[0..entlen), NULL for none) first, as it sorts. */
static void
encode_info(struct mf_bbuf *b, const struct mf_tlayout *lay, int exp,
    const unsigned char *pieces, size_t np, const struct mf_topts *o, const char *ent,
    size_t entlen)
{
	size_t i;

	mf_bput_ch(b, 'd');
	if (ent) {
		put_key(b, "entropy");
		mf_bput_str(b, ent, entlen);
	}
	if (lay->single) {
		put_key(b, "length");
		mf_bput_int(b, (int64_t)lay->total);
	} else {
		put_key(b, "files");
		mf_bput_ch(b, 'l');
		for (i = 0; i < lay->nfiles; i++) {
			const char *p = lay->files[i].path, *s;

			mf_bput_ch(b, 'd');
			put_key(b, "length");
			mf_bput_int(b, (int64_t)lay->files[i].len);
			put_key(b, "path");
			mf_bput_ch(b, 'l');
			while ((s = strchr(p, '/'))) {
				mf_bput_str(b, p, (size_t)(s - p));
				p = s + 1;
			}
			mf_bput_cstr(b, p);
			mf_bput_ch(b, 'e');
			mf_bput_ch(b, 'e');
		}
		mf_bput_ch(b, 'e');
	}
	put_key(b, "name");
	mf_bput_cstr(b, lay->name);
	put_key(b, "piece length");
	mf_bput_int(b, (int64_t)1 << exp);
	put_key(b, "pieces");
	mf_bput_str(b, pieces, np * 20);
	/* mkbrr always writes private, i0e included. */
	put_key(b, "private");
	mf_bput_int(b, o->private ? 1 : 0);
	if (o->source && *o->source) {
		put_key(b, "source");
		mf_bput_cstr(b, o->source);
	}
	mf_bput_ch(b, 'e');
}

static void
sha1(const void *p, size_t n, unsigned char out[20])
{
	EVP_Digest(p, n, out, NULL, EVP_sha1(), NULL);
}

/* The whole .torrent around the digests: info (with a new entropy for o->entropy), then the
 * top-level dict. */
static int
encode_torrent(struct mf_bbuf *out, const struct mf_tlayout *lay, int exp,
    const unsigned char *digests, size_t np, const struct mf_topts *o,
    unsigned char infohash[20], char *err, size_t errsz)
{
	struct mf_bbuf info = { 0 };
	char ent[65];
	int oom;

	if (o->entropy && mf_meta_entropy(ent) < 0) {
		errf(err, errsz, "cannot draw random bytes for the entropy key: %s", strerror(errno));
		return -1;
	}
	encode_info(&info, lay, exp, digests, np, o, o->entropy ? ent : NULL, 64);
	if (!info.oom) {
		sha1(info.p, info.n, infohash);
		mf_meta_outer(out, NULL, info.p, info.n, o, MF_META_NEW, NULL);
	}
	oom = info.oom || out->oom;
	mf_bbuf_free(&info);
	if (oom) {
		errf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

int
mf_torrent_build(const struct mf_tlayout *lay, int exp, const struct mf_topts *o,
    struct mf_bbuf *out, unsigned char infohash[20], char *err, size_t errsz)
{
	struct mf_hjob job;
	size_t np = mf_hash_npieces(lay->total, (uint64_t)1 << exp);
	int rc;

	memset(&job, 0, sizeof job);
	job.dirfd = lay->dirfd;
	job.files = lay->files;
	job.nfiles = lay->nfiles;
	job.total = lay->total;
	job.plen = (uint64_t)1 << exp;
	job.jobs = o->jobs;
	if (!(job.digests = malloc(np * 20 + 1))) {
		errf(err, errsz, "out of memory");
		return -1;
	}
	job.progress = mf_progress_start("hashing", lay->total, o->progress);
	rc = mf_hash_pieces(&job, err, errsz);
	mf_progress_end(job.progress);
	if (rc < 0) {
		free(job.digests);
		return -1;
	}
	rc = encode_torrent(out, lay, exp, job.digests, np, o, infohash, err, errsz);
	free(job.digests);
	return rc;
}

/* ---- read ---- */

int
mf_tbuf_read(const char *path, size_t max, struct mf_tbuf *b)
{
	struct stat st;
	int fd;

	memset(b, 0, sizeof b[0]);
	if (strcmp(path, "-") == 0) {
		b->p = mf_read_file("/dev/stdin", max, &b->len);
		return b->p ? 0 : -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		/* Pipes, devices and empty files: read them the plain way. */
		close(fd);
		b->p = mf_read_file(path, max, &b->len);
		return b->p ? 0 : -1;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	b->len = (size_t)st.st_size;
	b->p = mmap(NULL, b->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (b->p == MAP_FAILED) {
		b->p = NULL;
		return -1;
	}
	b->mapped = 1;
	return 0;
}

void
mf_tbuf_free(struct mf_tbuf *b)
{
	if (b->mapped)
		munmap(b->p, b->len);
	else
		free(b->p);
	memset(b, 0, sizeof b[0]);
}

int
mf_tinfo_parse(const void *buf, size_t len, unsigned flags, struct mf_tinfo *ti,
    struct mf_berr *err)
{
	memset(ti, 0, sizeof *ti);
	ti->private = -1;
	if (mf_bdecode_find(buf, len, flags, "info", &ti->root, &ti->info, err) < 0)
		return -1;
	if (!ti->info.p || mf_btype(&ti->info) != 'd') {
		err->off = 0;
		snprintf(err->msg, sizeof err->msg, "no info dictionary: not a torrent");
		return -1;
	}
	sha1(ti->info.p, (size_t)(ti->info.end - ti->info.p), ti->sha1);
	return 0;
}

void
mf_tinfo_v2(struct mf_tinfo *ti)
{
	struct mf_bval mv;
	int64_t ver;

	if (ti->v2 || mf_bget(&ti->info, "meta version", &mv) < 0 || mf_bint(&mv, &ver) < 0 ||
	    ver != 2)
		return;
	ti->v2 = 1;
	EVP_Digest(ti->info.p, (size_t)(ti->info.end - ti->info.p), ti->sha256, NULL,
	    EVP_sha256(), NULL);
}

static int
bad(struct mf_berr *err, const struct mf_tinfo *ti, const struct mf_bval *at,
    const char *msg)
{
	err->off = at ? (size_t)(at->p - ti->root.p) : 0;
	snprintf(err->msg, sizeof err->msg, "%s", msg);
	return -1;
}

/* Sum the files of a v2 `file tree` (a dict of names, leaves under the key ""). */
static int
tree_walk(struct mf_tinfo *ti, const struct mf_bval *node, int depth, struct mf_berr *err)
{
	struct mf_biter it;
	struct mf_bval k, v, len;
	int64_t n;

	if (mf_btype(node) != 'd' || depth > MF_BENC_MAXDEPTH)
		return bad(err, ti, node, "malformed file tree");
	mf_biter_init(&it, node);
	while (mf_bnext_kv(&it, &k, &v)) {
		if (mf_bstreq(&k, "")) {
			if (mf_bget(&v, "length", &len) < 0 || mf_bint(&len, &n) < 0 || n < 0 ||
			    n > INT64_MAX - ti->size)
				return bad(err, ti, &v, "file tree entry without a valid length");
			ti->size += n;
			ti->nfiles++;
		} else if (tree_walk(ti, &v, depth + 1, err) < 0) {
			return -1;
		}
	}
	return 0;
}

int
mf_tinfo_describe(struct mf_tinfo *ti, struct mf_berr *err)
{
	struct mf_bval v, files, f, len;
	struct mf_biter it;
	const char *s;
	size_t n;
	int64_t i;

	ti->size = 0;
	ti->nfiles = 0;
	mf_tinfo_v2(ti);
	if (mf_bget(&ti->info, "name", &v) < 0 || mf_bstr(&v, &ti->name, &ti->name_len) < 0)
		return bad(err, ti, &ti->info, "info has no name");
	if (mf_bget(&ti->info, "piece length", &v) < 0 || mf_bint(&v, &ti->piece_length) < 0 ||
	    ti->piece_length < 1)
		return bad(err, ti, &ti->info, "info has no valid piece length");
	if (mf_bget(&ti->info, "pieces", &v) == 0) {
		if (mf_bstr(&v, &s, &n) < 0 || n % 20 != 0)
			return bad(err, ti, &v, "pieces is not a multiple of 20 bytes");
		ti->pieces = (const unsigned char *)s;
		ti->npieces = n / 20;
	} else if (!ti->v2) {
		return bad(err, ti, &ti->info, "info has no pieces");
	}
	if (mf_bget(&ti->info, "private", &v) == 0 && mf_bint(&v, &i) == 0)
		ti->private = i == 1;
	if (mf_bget(&ti->info, "source", &v) == 0 && mf_bstr(&v, &s, &n) == 0) {
		ti->source = s;
		ti->source_len = n;
	}
	if (mf_bget(&ti->info, "length", &v) == 0) {
		if (mf_bint(&v, &i) < 0 || i < 0)
			return bad(err, ti, &v, "length is not a size");
		ti->single = 1;
		ti->size = i;
		ti->nfiles = 1;
	} else if (mf_bget(&ti->info, "files", &files) == 0) {
		if (mf_btype(&files) != 'l')
			return bad(err, ti, &files, "files is not a list");
		mf_biter_init(&it, &files);
		while (mf_bnext(&it, &f)) {
			if (mf_bget(&f, "length", &len) < 0 || mf_bint(&len, &i) < 0 || i < 0 ||
			    i > INT64_MAX - ti->size)
				return bad(err, ti, &f, "file entry without a valid length");
			ti->size += i;
			ti->nfiles++;
		}
	} else if (ti->v2 && mf_bget(&ti->info, "file tree", &v) == 0) {
		if (tree_walk(ti, &v, 0, err) < 0)
			return -1;
	} else {
		return bad(err, ti, &ti->info, "info has neither length nor files");
	}
	if (ti->pieces && ti->npieces != mf_hash_npieces((uint64_t)ti->size,
	    (uint64_t)ti->piece_length))
		return bad(err, ti, &ti->info, "number of pieces does not match the size");
	return 0;
}

/* 1 when a path component is safe to open below a folder. */
static int
safe_component(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	return memchr(s, '/', n) == NULL && memchr(s, 0, n) == NULL;
}

int
mf_tinfo_layout(const struct mf_tinfo *ti, struct mf_tlayout *lay, char *err, size_t errsz)
{
	struct mf_bval files, f, v, c;
	struct mf_biter it, pit;
	const char *s;
	size_t n, i = 0;
	uint64_t off = 0;

	memset(lay, 0, sizeof *lay);
	lay->dirfd = -1;
	if (!ti->name || !safe_component(ti->name, ti->name_len)) {
		errf(err, errsz, "torrent name is not a safe file name");
		return -1;
	}
	lay->name = strndup(ti->name, ti->name_len);
	lay->single = ti->single;
	lay->total = (uint64_t)ti->size;
	if (!(lay->files = calloc(ti->nfiles ? ti->nfiles : 1, sizeof *lay->files)) || !lay->name)
		goto oom;
	if (ti->single) {
		lay->nfiles = 1;
		lay->files[0].len = (uint64_t)ti->size;
		if (!(lay->files[0].path = strdup(lay->name)))
			goto oom;
		lay->files[0].key = lay->files[0].path;
		return 0;
	}
	if (mf_bget(&ti->info, "files", &files) < 0) {
		errf(err, errsz, "only v1 torrents (with a files list) can be checked");
		goto fail;
	}
	mf_biter_init(&it, &files);
	while (i < ti->nfiles && mf_bnext(&it, &f)) {
		struct mf_tfile *tf = &lay->files[i];
		struct mf_bbuf pb = { 0 };
		int64_t len;

		mf_bget(&f, "length", &v);
		mf_bint(&v, &len);
		tf->len = (uint64_t)len;
		tf->off = off;
		off += tf->len;
		lay->nfiles = ++i;
		if (mf_bget(&f, "path", &v) < 0 || mf_btype(&v) != 'l') {
			errf(err, errsz, "file %zu has no path list", i);
			goto fail;
		}
		mf_biter_init(&pit, &v);
		while (mf_bnext(&pit, &c)) {
			if (mf_bstr(&c, &s, &n) < 0 || !safe_component(s, n)) {
				errf(err, errsz, "file %zu has an unsafe path (empty, \".\", \"..\", "
				    "\"/\" or NUL in a component)", i);
				mf_bbuf_free(&pb);
				goto fail;
			}
			if (pb.n)
				mf_bput_ch(&pb, '/');
			mf_bput_raw(&pb, s, n);
		}
		mf_bput_ch(&pb, 0);
		if (pb.oom || pb.n < 2) {
			mf_bbuf_free(&pb);
			errf(err, errsz, "file %zu has an empty path", i);
			goto fail;
		}
		tf->path = tf->key = (char *)pb.p;
	}
	return 0;
oom:
	errf(err, errsz, "out of memory");
fail:
	mf_tlayout_free(lay);
	return -1;
}

void
mf_tinfo_free(struct mf_tinfo *ti)
{
	memset(ti, 0, sizeof *ti);
}

/* ---- check ---- */

void
mf_check_free(struct mf_check *res)
{
	size_t i;

	for (i = 0; i < res->nmissing_files; i++)
		free(res->missing_files[i]);
	free(res->missing_files);
	free(res->bad_idx);
	memset(res, 0, sizeof *res);
}

static int
note_missing(struct mf_check *res, const char *path, const char *why)
{
	char **nm = realloc(res->missing_files, (res->nmissing_files + 1) * sizeof *nm);
	size_t n = strlen(path) + strlen(why) + 1;

	if (!nm)
		return -1;
	res->missing_files = nm;
	if (!(nm[res->nmissing_files] = malloc(n)))
		return -1;
	snprintf(nm[res->nmissing_files++], n, "%s%s", path, why);
	return 0;
}

/*
 * Find f's data below dirfd for a check: its identity into f->id and its path into f->src
 * (a symbolic link inside the folder read as the walk reads it: its target).  Returns 0,
 * or a reason for the missing list.
 */
static const char *
check_find(int dirfd, const char *realroot, struct mf_tfile *f)
{
	struct stat st;
	char *target;
	int fd;

	if ((fd = mf_open_at(dirfd, f->src, NULL, &st)) < 0 && errno == ELOOP && realroot &&
	    (target = mf_realpath_at(dirfd, f->src))) {
		if (mf_path_inside(target, realroot) == 1) {
			free(f->src);
			f->src = strdup(below(realroot, target));
			fd = f->src ? mf_open_at(dirfd, f->src, NULL, &st) : -1;
		}
		free(target);
	}
	if (fd < 0)
		return "";
	close(fd);
	if ((uint64_t)st.st_size != f->len)
		return " (size mismatch)";
	mf_fid_of(&st, &f->id);
	return NULL;
}

int
mf_torrent_check(struct mf_tinfo *ti, const char *path, int jobs, int progress,
    struct mf_check *res, char *err, size_t errsz)
{
	struct mf_tlayout lay;
	struct mf_hjob job;
	struct mf_berr berr;
	unsigned char *skip = NULL;
	char *base = NULL, *realroot = NULL;
	size_t i, np;
	int rc = -1;

	memset(res, 0, sizeof *res);
	memset(&job, 0, sizeof job);
	if (mf_tinfo_describe(ti, &berr) < 0) {
		errf(err, errsz, "not a usable torrent (byte %zu): %s", berr.off, berr.msg);
		return -1;
	}
	if (!ti->pieces) {
		errf(err, errsz, "only v1 torrents (with pieces) can be checked");
		return -1;
	}
	if (mf_tinfo_layout(ti, &lay, err, errsz) < 0)
		return -1;
	/* A single-file torrent takes the file itself, or a folder holding it. */
	if ((lay.dirfd = open_data(path, &base)) < 0) {
		errf(err, errsz, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (!base)
		realroot = mf_realpath_at(lay.dirfd, NULL);
	np = ti->npieces;
	if (!(skip = calloc(np + 1, 1)) || !(job.digests = malloc(np * 20 + 1)))
		goto oom;
	for (i = 0; i < lay.nfiles; i++) {
		struct mf_tfile *f = &lay.files[i];
		const char *why = "";

		if (!(f->src = strdup(base ? base : f->path)))
			goto oom;
		/* A file given for a multi-file torrent holds none of its files. */
		if ((!base || lay.single) && !(why = check_find(lay.dirfd, realroot, f)))
			continue;
		f->missing = 1;
		if (note_missing(res, f->path, why) < 0)
			goto oom;
		if (f->len > 0) {
			uint64_t a = f->off / (uint64_t)ti->piece_length;
			uint64_t b = (f->off + f->len - 1) / (uint64_t)ti->piece_length;

			for (; a <= b && a < np; a++)
				skip[a] = 1;
		}
	}
	job.dirfd = lay.dirfd;
	job.files = lay.files;
	job.nfiles = lay.nfiles;
	job.total = lay.total;
	job.plen = (uint64_t)ti->piece_length;
	job.jobs = jobs;
	job.skip = skip;
	job.progress = mf_progress_start("checking", lay.total, progress);
	rc = mf_hash_pieces(&job, err, errsz);
	mf_progress_end(job.progress);
	if (rc < 0)
		goto out;
	res->npieces = np;
	if (!(res->bad_idx = malloc((np + 1) * sizeof *res->bad_idx)))
		goto oom;
	for (i = 0; i < np; i++) {
		if (skip[i])
			res->missing++;
		else if (memcmp(job.digests + 20 * i, ti->pieces + 20 * i, 20) == 0)
			res->good++;
		else
			res->bad_idx[res->bad++] = i;
	}
	rc = 0;
	goto out;
oom:
	errf(err, errsz, "out of memory");
	rc = -1;
out:
	if (rc < 0)
		mf_check_free(res);
	free(job.digests);
	free(skip);
	free(base);
	free(realroot);
	mf_tlayout_free(&lay);
	return rc;
}

/* ---- make / reuse ---- */

/*
 * 1 when the info of the existing torrent ti is byte for byte the one we would write for
 * lay with its pieces: same files, sizes and order, piece length, name, private and
 * source, no key we do not write, and (with o->entropy) the entropy it already has.
 */
static int
same_torrent(struct mf_tinfo *ti, const struct mf_tlayout *lay, int exp,
    const struct mf_topts *o)
{
	struct mf_berr berr;
	struct mf_bbuf b = { 0 };
	struct mf_bval ev;
	const char *ent = NULL;
	size_t entlen = 0;
	int same;

	if (mf_tinfo_describe(ti, &berr) < 0 || !ti->pieces ||
	    ti->npieces != mf_hash_npieces(lay->total, (uint64_t)1 << exp))
		return 0;
	/* An entropy drawn by an earlier --entropy run stays, so that a rerun keeps the hash. */
	if (o->entropy && (mf_bget(&ti->info, "entropy", &ev) < 0 ||
	    mf_bstr(&ev, &ent, &entlen) < 0))
		return 0;
	encode_info(&b, lay, exp, ti->pieces, ti->npieces, o, ent, entlen);
	same = !b.oom && b.n == (size_t)(ti->info.end - ti->info.p) &&
	    memcmp(b.p, ti->info.p, b.n) == 0;
	mf_bbuf_free(&b);
	return same;
}

/*
 * A reused torrent must still carry what the configuration says now outside info (say
 * the passkey or a comment was set after a first run).  The info bytes, and so the
 * infohash, stay as they are: only the top-level dict is written again, when it differs.
 */
static int
refresh_outer(const struct mf_tinfo *ti, const char *out, const struct mf_topts *o,
    char *err, size_t errsz)
{
	struct mf_bbuf b = { 0 };
	int rc = 0;

	mf_meta_outer(&b, &ti->root, ti->info.p, (size_t)(ti->info.end - ti->info.p), o,
	    MF_META_REUSE, NULL);
	if (b.oom) {
		errf(err, errsz, "out of memory");
		errno = ENOMEM;
		rc = -1;
	} else if (b.n == (size_t)(ti->root.end - ti->root.p) &&
	    memcmp(b.p, ti->root.p, b.n) == 0) {
		rc = 0;
	} else if (mf_write_atomic(out, b.p, b.n, MF_FILE_MODE) < 0) {
		errf(err, errsz, "cannot write %s: %s", out, strerror(errno));
		rc = -1;
	}
	mf_bbuf_free(&b);
	return rc;
}

/* --name: info.name other than the path's (a single file keeps its own path for reading). */
static int
set_name(struct mf_tlayout *lay, const char *name)
{
	char *s = strdup(name);

	if (!s)
		return -1;
	free(lay->name);
	lay->name = s;
	return 0;
}

static void
fill_result(struct mf_tresult *res, const unsigned char ih[20], int64_t plen, size_t np,
    uint64_t size, size_t nfiles, int reused)
{
	mf_hex(ih, 20, res->infohash);
	res->piece_length = plen;
	res->pieces = np;
	res->size = size;
	res->file_count = nfiles;
	res->reused = reused;
}

int
mf_torrent_make(const char *src, const char *out, const struct mf_topts *o,
    struct mf_tresult *res, char *err, size_t errsz)
{
	struct mf_tlayout lay;
	struct mf_bbuf b = { 0 };
	unsigned char ih[20];
	struct mf_tbuf old = { 0 };
	char *dir;
	int exp, rc = -1;

	memset(res, 0, sizeof *res);
	/* A writer killed before its rename left a temporary file; reuse or not, it goes. */
	mf_atomic_sweep(out);
	if (mf_torrent_walk(src, o->within, o->exclude, o->nexclude, &lay, err, errsz) < 0)
		return -1;
	if (o->name && set_name(&lay, o->name) < 0)
		goto oom;
	exp = o->exp ? o->exp : mf_piece_exp(lay.total, o->max_exp);
	if (!o->force && mf_tbuf_read(out, 1024 * MIB, &old) == 0) {
		struct mf_tinfo ti;
		struct mf_berr berr;

		if (mf_tinfo_parse(old.p, old.len, 0, &ti, &berr) == 0 &&
		    same_torrent(&ti, &lay, exp, o)) {
			int keep = 1;

			if (o->verify) {
				struct mf_check chk;

				if (mf_torrent_check(&ti, src, o->jobs, o->progress, &chk, err,
				    errsz) < 0) {
					res->retryable = 1;
					goto out;
				}
				keep = chk.bad == 0 && chk.missing == 0;
				if (!keep)
					mf_warnx("%s: %zu of %zu pieces do not match %s; hashing again",
					    src, chk.bad + chk.missing, chk.npieces, out);
				mf_check_free(&chk);
			}
			if (keep) {
				if (refresh_outer(&ti, out, o, err, errsz) < 0) {
					res->retryable = errno == ENOSPC || errno == EIO ||
					    errno == EDQUOT;
					goto out;
				}
				fill_result(res, ti.sha1, ti.piece_length, ti.npieces,
				    (uint64_t)ti.size, ti.nfiles, 1);
				rc = 0;
				goto out;
			}
		}
	}
	/* Find an unwritable output folder before spending time on hashing. */
	if (!(dir = strdup(out)))
		goto oom;
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = 0;
	else
		strcpy(dir, ".");
	if (*dir && mf_mkdir_p(dir, MF_DIR_MODE) < 0) {
		errf(err, errsz, "cannot create folder %s: %s", dir, strerror(errno));
		res->retryable = errno == ENOSPC || errno == EIO;
		free(dir);
		goto out;
	}
	if (access(*dir ? dir : "/", W_OK) < 0) {
		errf(err, errsz, "cannot write to folder %s: %s", *dir ? dir : "/", strerror(errno));
		free(dir);
		goto out;
	}
	free(dir);
	if (mf_torrent_build(&lay, exp, o, &b, ih, err, errsz) < 0) {
		res->retryable = errno == EAGAIN || errno == EIO;
		goto out;
	}
	if (mf_write_atomic(out, b.p, b.n, MF_FILE_MODE) < 0) {
		errf(err, errsz, "cannot write %s: %s", out, strerror(errno));
		res->retryable = errno == ENOSPC || errno == EIO || errno == EDQUOT;
		goto out;
	}
	fill_result(res, ih, (int64_t)1 << exp, mf_hash_npieces(lay.total, (uint64_t)1 << exp),
	    lay.total, lay.nfiles, 0);
	rc = 0;
	goto out;
oom:
	errf(err, errsz, "out of memory");
out:
	mf_bbuf_free(&b);
	mf_tbuf_free(&old);
	mf_tlayout_free(&lay);
	return rc;
}
