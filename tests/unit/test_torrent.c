/* Unit tests for lib/torrent and lib/hash: piece sizes, globs, walk order, hashing. */
#include "harness.h"
#include "bencode.h"
#include "file.h"
#include "hash.h"
#include "torrent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)

static char tmp[] = "/tmp/mf-torrent-unit.XXXXXX";

/* A file whose byte i is (seed + 31 i) mod 251 (the research note's cross-check pattern). */
static void
pattern(const char *rel, size_t n, int seed)
{
	char path[512], *slash;
	unsigned char *b = malloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)((seed + 31 * i) % 251);
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	slash = strrchr(path, '/');
	*slash = 0;
	mf_mkdir_p(path, 0755);
	*slash = '/';
	mf_write_atomic(path, b, n, 0644);
	free(b);
}

TEST(piece_exp_follows_mkbrr_table)
{
	CHECK_INT(mf_piece_exp(1024, 0), 15);
	CHECK_INT(mf_piece_exp(63 * MIB, 0), 15);
	CHECK_INT(mf_piece_exp(64 * MIB, 0), 15);		/* bounds are inclusive */
	CHECK_INT(mf_piece_exp(64 * MIB + 1, 0), 16);
	CHECK_INT(mf_piece_exp(100 * MIB, 0), 16);
	CHECK_INT(mf_piece_exp(300 * MIB, 0), 18);
	CHECK_INT(mf_piece_exp(600 * MIB, 0), 19);
	CHECK_INT(mf_piece_exp(GIB + GIB / 5, 0), 20);
	CHECK_INT(mf_piece_exp(3 * GIB, 0), 21);
	CHECK_INT(mf_piece_exp(10 * GIB, 0), 23);
	CHECK_INT(mf_piece_exp(40 * GIB, 0), 24);		/* capped at 16 MiB */
	CHECK_INT(mf_piece_exp(400 * GIB, 0), 24);
	CHECK_INT(mf_piece_exp(400 * GIB, 27), 27);		/* -m raises the cap */
	CHECK_INT(mf_piece_exp(100 * GIB, 26), 26);
	CHECK_INT(mf_piece_exp(10 * GIB, 20), 20);		/* and lowers it */
	CHECK_INT(mf_piece_exp(1024, 14), 16);			/* -m below 16 gives 16 */
	CHECK_INT(mf_piece_exp(1024, 20), 15);			/* no clamp from below */
}

TEST(globs)
{
	CHECK(mf_glob_match("*.nfo", "a.nfo"));
	CHECK(mf_glob_match("*.nfo", "x/y/A.NFO"));		/* any depth, any case */
	CHECK(!mf_glob_match("*.nfo", "a.nfo.bak"));
	CHECK(mf_glob_match("extras/**", "extras/a/b.bin"));
	CHECK(mf_glob_match("extras/**", "extras"));
	CHECK(!mf_glob_match("extras/**", "x/extras/a"));
	CHECK(mf_glob_match("**/extras/**", "x/extras/a"));
	CHECK(mf_glob_match("a/*/c", "a/b/c"));
	CHECK(!mf_glob_match("a/*/c", "a/b/x/c"));
	CHECK(mf_glob_match("a/**/c", "a/b/x/c"));
	CHECK(mf_glob_match("a/**/c", "a/c"));
	CHECK(mf_glob_match("*.{jpg,png}", "cover.PNG"));
	CHECK(!mf_glob_match("*.{jpg,png}", "cover.gif"));
	CHECK(mf_glob_match("sample?.mp3", "dir/sample1.mp3"));
}

TEST(walk_sorts_bytewise_and_excludes)
{
	struct mf_tlayout lay;
	char root[600], err[256];
	char nfo[] = "*.nfo", *ex[] = { nfo };
	static const char *want[] = {
		".hidden", "B-upper.mp3", "a-dash.mp3", "a.txt", "a/b.mp3", "empty.txt",
		("\xc3\x9cn\xc3\xaf" "code.mp3")
	};
	size_t i;

	pattern("w/a.txt", 100, 1);
	pattern("w/a/b.mp3", 70, 2);
	pattern("w/.hidden", 10, 3);
	pattern("w/\xc3\x9cn\xc3\xaf" "code.mp3", 50, 4);
	pattern("w/B-upper.mp3", 40, 6);
	pattern("w/a-dash.mp3", 30, 7);
	pattern("w/empty.txt", 0, 0);
	pattern("w/Thumbs.db", 5, 0);
	pattern("w/x.torrent", 5, 0);
	pattern("w/@eaDir/meta", 5, 0);
	pattern("w/info.NFO", 5, 0);
	snprintf(root, sizeof root, "%s/w", tmp);
	CHECK_INT(mf_torrent_walk(root, NULL, ex, 1, &lay, err, sizeof err), 0);
	CHECK_STR(lay.name, "w");
	CHECK_INT(lay.single, 0);
	CHECK_INT(lay.nfiles, 7);
	CHECK_INT(lay.total, 300);
	for (i = 0; i < lay.nfiles && i < 7; i++)
		CHECK_STR(lay.files[i].path, want[i]);
	/* offsets follow the sorted order */
	CHECK_INT(lay.files[3].off, 10 + 40 + 30);
	CHECK_INT(lay.files[6].off, 250);
	mf_tlayout_free(&lay);
}

TEST(walk_errors)
{
	struct mf_tlayout lay;
	char root[600], link[700], err[256];

	snprintf(root, sizeof root, "%s/nope", tmp);
	CHECK_INT(mf_torrent_walk(root, NULL, NULL, 0, &lay, err, sizeof err), -1);
	CHECK(strstr(err, "No such file") != NULL);
	snprintf(root, sizeof root, "%s/e", tmp);
	mkdir(root, 0755);
	CHECK_INT(mf_torrent_walk(root, NULL, NULL, 0, &lay, err, sizeof err), -1);
	CHECK(strstr(err, "no files or only empty files") != NULL);
	pattern("s/a.bin", 10, 1);
	snprintf(root, sizeof root, "%s/s", tmp);
	snprintf(link, sizeof link, "%s/s/up", tmp);
	CHECK_INT(symlink("../w/a.txt", link), 0);
	CHECK_INT(mf_torrent_walk(root, NULL, NULL, 0, &lay, err, sizeof err), -1);
	CHECK(strstr(err, "points outside") != NULL);
}

/* The whole cross-check tree of the research note, through walk, hash and encode. */
TEST(cross_check_tree_infohash)
{
	struct mf_tlayout lay;
	struct mf_topts o = { 0 };
	struct mf_bbuf b = { 0 };
	struct mf_tinfo ti;
	struct mf_berr berr;
	unsigned char ih[20];
	char root[600], err[256], hex[41];

	pattern("Book/.hidden", 10, 3);
	pattern("Book/B-upper.mp3", 40000, 6);
	pattern("Book/a-dash.mp3", 30000, 7);
	pattern("Book/a.txt", 100000, 1);
	pattern("Book/a/b.mp3", 70000, 2);
	pattern("Book/empty.txt", 0, 0);
	pattern("Book/\xc3\x9cn\xc3\xaf" "code \xe2\x80\x93" " chapter.mp3", 50000, 4);
	snprintf(root, sizeof root, "%s/Book", tmp);
	CHECK_INT(mf_torrent_walk(root, NULL, NULL, 0, &lay, err, sizeof err), 0);
	o.private = 1;
	o.source = "MAM";
	o.no_date = 1;
	o.jobs = 3;
	CHECK_INT(mf_piece_exp(lay.total, 0), 15);
	CHECK_INT(mf_torrent_build(&lay, 15, &o, &b, ih, err, sizeof err), 0);
	mf_hex(ih, 20, hex);
	CHECK_STR(hex, "4a753a11451fbf61bff1809e599339c28574d352");
	/* reading it back gives the same hash and fields */
	CHECK_INT(mf_tinfo_parse(b.p, b.n, MF_BENC_STRICT, &ti, &berr), 0);
	CHECK(memcmp(ti.sha1, ih, 20) == 0);
	CHECK_INT(mf_tinfo_describe(&ti, &berr), 0);
	CHECK_INT(ti.npieces, 9);
	CHECK_INT(ti.size, 290010);
	CHECK_INT(ti.nfiles, 7);
	CHECK_INT(ti.private, 1);
	mf_bbuf_free(&b);
	mf_tlayout_free(&lay);
}

/* The digests do not depend on the number of workers, and match a one-shot SHA-1. */
/* The identity of tmp/rel into id; the folder of the hash jobs below is tmp/<dir>. */
static void
fid(const char *rel, struct mf_fid *id)
{
	char p[600];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", tmp, rel);
	memset(id, 0, sizeof *id);
	if (stat(p, &st) == 0)
		mf_fid_of(&st, id);
}

static int
open_dir(const char *rel)
{
	char p[600];

	snprintf(p, sizeof p, "%s/%s", tmp, rel);
	return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* A job of the one file f (its src below tmp/dir, len bytes, one piece into d). */
static void
one_file_job(struct mf_hjob *job, struct mf_tfile *f, const char *dir, unsigned char *d)
{
	char rel[600];

	snprintf(rel, sizeof rel, "%s/%s", dir, f->src);
	fid(rel, &f->id);
	memset(job, 0, sizeof *job);
	job->dirfd = open_dir(dir);
	job->files = f;
	job->nfiles = 1;
	job->total = f->len;
	job->plen = 16384;
	job->digests = d;
}

/* The digests do not depend on the number of workers, and match a one-shot SHA-1. */
TEST(hash_same_for_any_worker_count)
{
	char nx[] = "x", ny[] = "y", nz[] = "z";
	struct mf_tfile f[3] = {
		{ .path = nx, .len = 70001 }, { .path = ny, .len = 0 }, { .path = nz, .len = 130000 },
	};
	struct mf_hjob job = { 0 };
	unsigned char d1[20 * 13], dn[20 * 13], one[20], *all;
	char err[256];
	size_t i, total = 200001;
	int jobs;

	pattern("h/x", 70001, 1);
	pattern("h/y", 0, 0);
	pattern("h/z", 130000, 2);
	f[0].src = nx;
	f[1].src = nx;
	f[2].src = nz;
	fid("h/x", &f[0].id);
	fid("h/x", &f[1].id);
	fid("h/z", &f[2].id);
	f[1].off = f[2].off = 70001;
	job.dirfd = open_dir("h");
	job.files = f;
	job.nfiles = 3;
	job.total = total;
	job.plen = 16384;
	CHECK_INT(mf_hash_npieces(total, 16384), 13);
	for (jobs = 1; jobs <= 5; jobs++) {
		job.jobs = jobs;
		job.digests = jobs == 1 ? d1 : dn;
		CHECK_INT(mf_hash_pieces(&job, err, sizeof err), 0);
		if (jobs > 1)
			CHECK(memcmp(d1, dn, sizeof d1) == 0);
	}
	close(job.dirfd);
	/* piece 4 straddles x and z: compare it with SHA-1 over the concatenation */
	all = malloc(total);
	for (i = 0; i < total; i++)
		all[i] = (unsigned char)(i < 70001 ? (1 + 31 * i) % 251 : (2 + 31 * (i - 70001)) % 251);
	EVP_Digest(all + 4 * 16384, 16384, one, NULL, EVP_sha1(), NULL);
	CHECK(memcmp(one, d1 + 4 * 20, 20) == 0);
	EVP_Digest(all + 12 * 16384, total - 12 * 16384, one, NULL, EVP_sha1(), NULL);
	CHECK(memcmp(one, d1 + 12 * 20, 20) == 0);
	free(all);
}

TEST(hash_detects_changed_size)
{
	char ng[] = "g", none[] = "nonexistent";
	struct mf_tfile f = { .path = ng, .src = ng, .len = 5000 };
	struct mf_hjob job;
	unsigned char d[20];
	char err[256];

	pattern("g/g", 6000, 1);	/* grew since the walk saw 5000 bytes */
	one_file_job(&job, &f, "g", d);
	errno = 0;
	CHECK_INT(mf_hash_pieces(&job, err, sizeof err), -1);
	CHECK_INT(errno, EAGAIN);
	CHECK(strstr(err, "changed size") != NULL);
	f.src = none;
	CHECK_INT(mf_hash_pieces(&job, err, sizeof err), -1);
	CHECK(strstr(err, "cannot open g") != NULL);
	close(job.dirfd);
}

/* A file swapped after the walk (for a link, for another file, or a folder on its path
 * for a link) is never read: the job fails with ESTALE naming it. */
TEST(hash_refuses_a_swapped_file)
{
	char nr[] = "sub/r", out[600], p[600], q[600], keep[600];
	struct mf_tfile f = { .path = nr, .src = nr, .len = 4000 };
	struct mf_hjob job;
	unsigned char d[20];
	char err[256];

	pattern("swap/sub/r", 4000, 1);
	pattern("outside/sub/r", 4000, 2);	/* same name and size, elsewhere */
	one_file_job(&job, &f, "swap", d);
	CHECK_INT(mf_hash_pieces(&job, err, sizeof err), 0);
	/* the file renamed over by a link to the outside one (its inode kept alive, so that
	 * the copy below cannot be given the same number) */
	snprintf(out, sizeof out, "%s/outside/sub/r", tmp);
	snprintf(p, sizeof p, "%s/swap/sub/r.new", tmp);
	snprintf(q, sizeof q, "%s/swap/sub/r", tmp);
	snprintf(keep, sizeof keep, "%s/swap/keep", tmp);
	CHECK_INT(link(q, keep), 0);
	CHECK_INT(symlink(out, p), 0);
	CHECK_INT(rename(p, q), 0);
	errno = 0;
	CHECK_INT(mf_hash_pieces(&job, err, sizeof err), -1);
	CHECK_INT(errno, ESTALE);
	CHECK(strstr(err, "replaced") != NULL && strstr(err, "sub/r") != NULL);
	/* ... by a copy of it: another inode */
	pattern("swap/sub/r", 4000, 1);
	CHECK_INT(mf_hash_pieces(&job, err, sizeof err), -1);
	CHECK_INT(errno, ESTALE);
	/* the folder on its path swapped for a link to the outside folder */
	fid("swap/sub/r", &f.id);
	CHECK_INT(mf_hash_pieces(&job, err, sizeof err), 0);
	snprintf(out, sizeof out, "%s/outside/sub", tmp);
	snprintf(p, sizeof p, "%s/swap/sub", tmp);
	snprintf(q, sizeof q, "%s/swap/sub.old", tmp);
	CHECK_INT(rename(p, q), 0);
	CHECK_INT(symlink(out, p), 0);
	CHECK_INT(mf_hash_pieces(&job, err, sizeof err), -1);
	CHECK_INT(errno, ESTALE);
	close(job.dirfd);
}

/* within: the folder must really lie there (a link into it from outside is refused). */
TEST(walk_within)
{
	struct mf_tlayout lay;
	char root[600], seed[600], link[600], err[256];

	pattern("within/seed/In/a.bin", 10, 1);
	pattern("within/other/Out/a.bin", 10, 1);
	snprintf(seed, sizeof seed, "%s/within/seed", tmp);
	snprintf(root, sizeof root, "%s/within/seed/In", tmp);
	CHECK_INT(mf_torrent_walk(root, seed, NULL, 0, &lay, err, sizeof err), 0);
	CHECK(lay.dirfd >= 0);
	mf_tlayout_free(&lay);
	CHECK_INT(lay.dirfd, -1);
	snprintf(root, sizeof root, "%s/within/other/Out", tmp);
	CHECK_INT(mf_torrent_walk(root, seed, NULL, 0, &lay, err, sizeof err), -1);
	CHECK(strstr(err, "outside") != NULL);
	snprintf(link, sizeof link, "%s/within/seed/Link", tmp);
	CHECK_INT(symlink(root, link), 0);
	CHECK_INT(mf_torrent_walk(link, seed, NULL, 0, &lay, err, sizeof err), -1);
	CHECK(strstr(err, "outside") != NULL);
}

TEST(tinfo_layout_refuses_unsafe_paths)
{
	static const char *bad[] = {
		"d4:infod5:filesld6:lengthi3e4:pathl2:..1:xeee4:name1:n12:piece lengthi16384e6:pieces20:01234567890123456789ee",
		"d4:infod5:filesld6:lengthi3e4:pathl3:a/beee4:name1:n12:piece lengthi16384e6:pieces20:01234567890123456789ee",
		"d4:infod5:filesld6:lengthi3e4:pathl0:eee4:name1:n12:piece lengthi16384e6:pieces20:01234567890123456789ee",
		"d4:infod5:filesld6:lengthi3e4:pathleee4:name1:n12:piece lengthi16384e6:pieces20:01234567890123456789ee",
		"d4:infod6:lengthi3e4:name2:..12:piece lengthi16384e6:pieces20:01234567890123456789ee",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct mf_tinfo ti;
		struct mf_tlayout lay;
		struct mf_berr berr;
		char err[256];

		CHECK_INT(mf_tinfo_parse(bad[i], strlen(bad[i]), 0, &ti, &berr), 0);
		CHECK_INT(mf_tinfo_describe(&ti, &berr), 0);
		CHECK_INT(mf_tinfo_layout(&ti, &lay, err, sizeof err), -1);
	}
}

TEST(tinfo_describe_rejects_inconsistent)
{
	/* 3 bytes in 16 KiB pieces is one piece, not two */
	const char *s = "d4:infod6:lengthi3e4:name1:n12:piece lengthi16384e6:pieces40:"
	    "0123456789012345678901234567890123456789ee";
	struct mf_tinfo ti;
	struct mf_berr berr;

	CHECK_INT(mf_tinfo_parse(s, strlen(s), 0, &ti, &berr), 0);
	CHECK_INT(mf_tinfo_describe(&ti, &berr), -1);
	CHECK(strstr(berr.msg, "number of pieces") != NULL);
}

int
main(void)
{
	int rc;

	if (!mkdtemp(tmp))
		return 1;
	RUN(piece_exp_follows_mkbrr_table);
	RUN(globs);
	RUN(walk_sorts_bytewise_and_excludes);
	RUN(walk_errors);
	RUN(cross_check_tree_infohash);
	RUN(hash_same_for_any_worker_count);
	RUN(hash_detects_changed_size);
	RUN(hash_refuses_a_swapped_file);
	RUN(walk_within);
	RUN(tinfo_layout_refuses_unsafe_paths);
	RUN(tinfo_describe_rejects_inconsistent);
	rc = DONE();
	if (h_rmtree(tmp) < 0)
		return 1;
	return rc;
}
