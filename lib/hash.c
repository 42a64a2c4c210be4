/* hash: SHA-1 of every piece of a run of files, on all cores, in bounded memory. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "clock.h"
#include "progress.h"
#include "sha1x.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22	/* Linux 5.14; older kernels answer EINVAL */
#endif

#define MAX_JOBS	32
/*
 * Two ways to read, and which is faster depends on the CPU: a window mapped straight from
 * the page cache costs no copy but a page-table entry per page, and SHA-1 reads it from
 * memory; pread copies each byte once into a buffer that SHA-1 then finds in the cache.
 * (Measured: mapping 10% faster on an Intel Xeon, pread 5% faster on an AMD EPYC.)  So
 * each worker times both on its first PROBES windows and keeps the faster.  All mapped
 * windows together stay within MAP_BUDGET, which bounds the resident set.
 */
#define MAP_BUDGET	(16u << 20)
#define MIN_WINDOW	(1u << 20)
/* The runs of pieces a worker claims: long, so that a disk reads long sequential runs
 * (a worker reads its run in order, and the kernel reads ahead of it). */
#define MAX_RUN		(64u << 20)
/* Windows each way is timed on before one is chosen (the fastest of each counts). */
#define PROBES		6
/* pread size: the buffer and SHA-1's pass over it stay in the core's L2 cache. */
#define CHUNK		(256 * 1024)
/* Bytes each lane reads at a time (a lane's buffer). */
#define LANE_STEP	(64 * 1024)
/* SHA-1 is fed STEP bytes at a time while the next STEP is prefetched: the hardware
 * prefetcher stops at each 4 KiB page, the software one does not. */
#define STEP		(16 * 1024)

enum { PROBE, MAP, READ, LANES };

struct shared {
	struct mf_hjob	*job;
	size_t		npieces;
	size_t		next;		/* first piece no worker has claimed (atomic) */
	size_t		minrun, maxrun;	/* pieces per claim */
	size_t		window;		/* bytes per mapping, a multiple of the page size */
	int		how;		/* how the workers start: PROBE, MAP, READ or LANES */
	const struct mf_sha1x *x;	/* LANES: the engine */
	size_t		lanes;		/* its lanes, 1 without */
	int		jobs;
	EVP_MD		*md;
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	int		running, stop, err_set, err_no;
	uint64_t	done;		/* bytes hashed, for the progress bar */
	char		*err;
	size_t		errsz;
};

/* A file open for reading, and (lanes only) the buffer it is read into. */
struct lane {
	int		fd;		/* -1: none */
	size_t		fi;		/* its index */
	unsigned char	*buf;		/* LANE_STEP bytes */
};

struct worker {
	struct shared	*sh;
	EVP_MD_CTX	*ctx;
	unsigned char	*buf;		/* CHUNK bytes for pread */
	int		how;		/* how it reads: still measuring, or chosen */
	int		probes;		/* windows measured so far */
	double		best[2];	/* fastest seconds per byte seen, mapped and read */
	struct lane	one;		/* the file open for a piece at a time */
	struct lane	lane[MF_SHA1X_MAX];	/* for sh->lanes pieces at once */
	pthread_t	tid;
};

/* Where the piece being hashed stands, in piece space. */
struct cursor {
	uint64_t	pos, pend, stop;	/* next byte, end of its piece, end of the run */
	size_t		piece;
};

size_t
mf_hash_npieces(uint64_t total, uint64_t plen)
{
	return plen ? (size_t)((total + plen - 1) / plen) : 0;
}

/* Keep the first error (message msg, errno e) and stop the workers. */
static void
set_msg(struct shared *sh, int e, const char *msg)
{
	pthread_mutex_lock(&sh->mu);
	if (!sh->err_set) {
		sh->err_set = 1;
		sh->err_no = e;
		snprintf(sh->err, sh->errsz, "%s", msg);
	}
	/* The workers poll stop without the lock: an atomic store, as their load is. */
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&sh->mu);
}

/* set_msg of "<what><path>", with ": strerror(e)" unless e is EAGAIN. */
static int
set_err(struct shared *sh, int e, const char *what, const char *path)
{
	char msg[1024];

	snprintf(msg, sizeof msg, "%s%s%s%s", what, path, e == EAGAIN ? "" : ": ",
	    e == EAGAIN ? "" : strerror(e));
	set_msg(sh, e, msg);
	return -1;
}

static int
changed_size(struct shared *sh, const struct mf_tfile *f)
{
	return set_err(sh, EAGAIN, "file changed size while it was hashed: ", f->path);
}

static int
ssl_failed(struct shared *sh)
{
	return set_err(sh, EIO, "SHA-1 failed in ", "OpenSSL");
}

int
mf_hash_open(const struct mf_hjob *job, const struct mf_tfile *f, char *err, size_t errsz)
{
	struct stat st;
	int fd = mf_open_at(job->dirfd, f->src, &f->id, &st), e = errno;

	if (fd < 0 && mf_replaced_errno(e)) {
		snprintf(err, errsz, "file replaced while it was hashed (a symbolic link now, or "
		    "not the file the walk found): %s", f->path);
		errno = ESTALE;
	} else if (fd < 0) {
		snprintf(err, errsz, "cannot open %s: %s", f->path, strerror(e));
		errno = e;
	} else if ((uint64_t)st.st_size != f->len) {
		snprintf(err, errsz, "file changed size while it was hashed: %s", f->path);
		close(fd);
		fd = -1;
		errno = EAGAIN;
	}
	return fd;
}

/* Index of the first file whose bytes reach past offset pos. */
static size_t
first_file(const struct mf_hjob *job, uint64_t pos)
{
	size_t lo = 0, hi = job->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (job->files[mid].off + job->files[mid].len <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * A file truncated while it is mapped raises SIGBUS on the bytes that are gone.  The
 * worker that touches them jumps back out of its window and fails the record; a SIGBUS
 * anywhere else is left to the action that was there before.
 */
static __thread const unsigned char *volatile bus_lo, *volatile bus_hi;
static __thread sigjmp_buf *volatile bus_jb;
static struct sigaction old_bus;

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	const unsigned char *a = si->si_addr;

	(void)uc;
	if (bus_jb && a >= bus_lo && a < bus_hi)
		siglongjmp(*bus_jb, 1);
	/* Not ours: the faulting access repeats under the old action. */
	sigaction(sig, &old_bus, NULL);
}

/* Start the piece at c->pos (its end, and a fresh digest). */
static int
begin_piece(struct worker *w, struct cursor *c)
{
	uint64_t total = w->sh->job->total, plen = w->sh->job->plen;

	c->pend = c->pos + plen < total ? c->pos + plen : total;
	return EVP_DigestInit_ex2(w->ctx, w->sh->md, NULL) ? 0 : -1;
}

/* SHA-1 of n bytes at p, with the bytes that follow them prefetched (if pf). */
static int
update(EVP_MD_CTX *ctx, const unsigned char *p, uint64_t n, int pf)
{
	if (!pf)
		return EVP_DigestUpdate(ctx, p, (size_t)n) ? 0 : -1;
	while (n > 0) {
		size_t take = n < STEP ? (size_t)n : STEP, i;

		/* Prefetches never fault, so reading past the window's end is harmless. */
		for (i = 0; i < STEP; i += 64)
			__builtin_prefetch(p + take + i);
		if (!EVP_DigestUpdate(ctx, p, take))
			return -1;
		p += take;
		n -= take;
	}
	return 0;
}

/* Hash n bytes at p into the cursor's pieces, finishing each piece that they end; pf:
 * p is a mapping, prefetch it. */
static int
feed(struct worker *w, struct cursor *c, const unsigned char *p, uint64_t n, int pf)
{
	const struct mf_hjob *job = w->sh->job;

	__atomic_add_fetch(&w->sh->done, n, __ATOMIC_RELAXED);
	while (n > 0) {
		uint64_t take = c->pend - c->pos < n ? c->pend - c->pos : n;

		if (update(w->ctx, p, take, pf) < 0)
			return -1;
		p += take;
		n -= take;
		c->pos += take;
		if (c->pos == c->pend) {
			if (!EVP_DigestFinal_ex(w->ctx, job->digests + 20 * c->piece, NULL))
				return -1;
			c->piece++;
			if (c->pos < c->stop && begin_piece(w, c) < 0)
				return -1;
		}
	}
	return 0;
}

/* feed, with a SIGBUS inside [p, p + n) turned into -1 with *bus set. */
static int
feed_mapped(struct worker *w, struct cursor *c, const unsigned char *p, uint64_t n, int *bus)
{
	sigjmp_buf jb;
	int rc;

	if (sigsetjmp(jb, 0)) {
		/* SA_NODEFER: SIGBUS is not left blocked by the jump. */
		bus_jb = NULL;
		*bus = 1;
		return -1;
	}
	bus_lo = p;
	bus_hi = p + n;
	bus_jb = &jb;
	rc = feed(w, c, p, n, 1);
	bus_jb = NULL;
	return rc;
}

/*
 * Hash up to n bytes of file f from its offset off through a mapped window.  Returns the
 * bytes hashed, 0 when the file cannot be mapped (read it otherwise), -1 on failure.
 */
static int64_t
hash_window(struct worker *w, struct cursor *c, const struct mf_tfile *f, uint64_t off,
    uint64_t n)
{
	struct shared *sh = w->sh;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), moff = off & ~(pg - 1), mlen, use;
	unsigned char *p;
	int bus = 0, rc;

	mlen = f->len - moff < sh->window ? f->len - moff : sh->window;
	use = moff + mlen - off < n ? moff + mlen - off : n;
	p = mmap(NULL, (size_t)mlen, PROT_READ, MAP_SHARED, w->one.fd, (off_t)moff);
	if (p == MAP_FAILED)
		return 0;
	/* Fault the window in at once, out of the hashing loop; EFAULT: the file shrank. */
	if (madvise(p, (size_t)mlen, MADV_POPULATE_READ) < 0 && errno != EINVAL) {
		rc = errno == EFAULT ? changed_size(sh, f) : set_err(sh, errno, "cannot read ",
		    f->path);
		munmap(p, (size_t)mlen);
		return rc;
	}
	rc = feed_mapped(w, c, p + (off - moff), use, &bus);
	munmap(p, (size_t)mlen);
	if (bus)
		return changed_size(sh, f);
	if (rc < 0)
		return ssl_failed(sh);
	return (int64_t)use;
}

/* hash_window's other way: up to a window's bytes, with preads into the buffer. */
static int64_t
hash_read(struct worker *w, struct cursor *c, const struct mf_tfile *f, uint64_t off,
    uint64_t n)
{
	uint64_t done = 0;
	ssize_t r;

	if (!w->buf && !(w->buf = malloc(CHUNK)))
		return set_err(w->sh, ENOMEM, "cannot hash ", "pieces");
	if (n > w->sh->window)
		n = w->sh->window;
	while (done < n) {
		do
			r = pread(w->one.fd, w->buf, n - done < CHUNK ? (size_t)(n - done) : CHUNK,
			    (off_t)(off + done));
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return set_err(w->sh, errno, "cannot read ", f->path);
		if (r == 0)
			return changed_size(w->sh, f);
		if (feed(w, c, w->buf, (uint64_t)r, 0) < 0)
			return ssl_failed(w->sh);
		done += (uint64_t)r;
	}
	return (int64_t)done;
}

/* One measured window (mapped or not) of n bytes in dt seconds; choose after PROBES. */
static void
probe(struct worker *w, int map, double dt, int64_t n)
{
	double per = dt / (double)n;

	if (per < w->best[map])
		w->best[map] = per;
	if (++w->probes >= PROBES)
		w->how = w->best[1] < w->best[0] ? MAP : READ;
}

/* Have file fi open in ln; -1 on failure. */
static int
open_file(struct worker *w, struct lane *ln, size_t fi)
{
	char msg[1024];

	if (ln->fd >= 0 && ln->fi == fi)
		return 0;
	if (ln->fd >= 0)
		close(ln->fd);
	ln->fi = fi;
	if ((ln->fd = mf_hash_open(w->sh->job, &w->sh->job->files[fi], msg, sizeof msg)) < 0) {
		set_msg(w->sh, errno, msg);
		return -1;
	}
	/* From a disk: the kernel's read-ahead, doubled, runs ahead of every path. */
	posix_fadvise(ln->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}


/* After the last byte of f, read through ln: it must still have the size the walk found. */
static int
end_file(struct worker *w, struct lane *ln, const struct mf_tfile *f)
{
	struct stat st;
	int bad = fstat(ln->fd, &st) < 0 || (uint64_t)st.st_size != f->len;

	close(ln->fd);
	ln->fd = -1;
	/* A file that grew while we read it would give a torrent nobody can seed. */
	return bad ? changed_size(w->sh, f) : 0;
}

/* Hash the bytes of the run at c->pos that lie in file fi (up to its end or the piece's). */
static int
hash_part(struct worker *w, struct cursor *c, size_t fi)
{
	const struct mf_hjob *job = w->sh->job;
	const struct mf_tfile *f = &job->files[fi];
	uint64_t end = f->off + f->len < c->stop ? f->off + f->len : c->stop;
	int64_t r;
	double t;
	int map;

	if (job->skip && end > c->pend)
		end = c->pend;	/* the next piece may be one to skip */
	if (open_file(w, &w->one, fi) < 0)
		return -1;
	while (c->pos < end) {
		if (__atomic_load_n(&w->sh->stop, __ATOMIC_RELAXED))
			return -1;
		map = w->how == MAP || (w->how == PROBE && w->probes % 2 == 0);
		t = w->how == PROBE ? mf_now() : 0;
		r = map ? hash_window(w, c, f, c->pos - f->off, end - c->pos) : 0;
		if (r == 0 && map)
			w->how = READ;	/* this file cannot be mapped: read from now on */
		if (r == 0)
			r = hash_read(w, c, f, c->pos - f->off, end - c->pos);
		if (r < 0)
			return -1;
		if (w->how == PROBE)
			probe(w, map, mf_now() - t, r);
	}
	return c->pos == f->off + f->len ? end_file(w, &w->one, f) : 0;
}

/* Read n bytes at pos (piece space) into the lane's buffer, across files as needed. */
static int
lane_read(struct worker *w, struct lane *ln, uint64_t pos, size_t n)
{
	const struct mf_hjob *job = w->sh->job;
	size_t fi = first_file(job, pos), got = 0;
	ssize_t r;

	while (got < n) {
		const struct mf_tfile *f;

		while (fi < job->nfiles && job->files[fi].off + job->files[fi].len <= pos)
			fi++;
		f = &job->files[fi];
		if (open_file(w, ln, fi) < 0)
			return -1;
		do
			r = pread(ln->fd, ln->buf + got, (size_t)(f->off + f->len - pos) < n - got ?
			    (size_t)(f->off + f->len - pos) : n - got, (off_t)(pos - f->off));
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return set_err(w->sh, errno, "cannot read ", f->path);
		if (r == 0)
			return changed_size(w->sh, f);
		got += (size_t)r;
		pos += (uint64_t)r;
		if (pos == f->off + f->len && end_file(w, ln, f) < 0)
			return -1;
	}
	return 0;
}

/* Hash the sh->lanes whole pieces from piece at once, a lane each. */
static int
hash_lanes(struct worker *w, size_t piece)
{
	const struct mf_hjob *job = w->sh->job;
	const struct mf_sha1x *x = w->sh->x;
	uint64_t plen = job->plen, o;
	size_t step = plen < LANE_STEP ? (size_t)plen : LANE_STEP;
	uint32_t st[MF_SHA1X_MAX][5];
	unsigned char out[MF_SHA1X_MAX][20];
	const unsigned char *p[MF_SHA1X_MAX];
	int l;

	for (l = 0; l < x->lanes; l++) {
		if (!w->lane[l].buf && !(w->lane[l].buf = malloc(LANE_STEP)))
			return set_err(w->sh, ENOMEM, "cannot hash ", "pieces");
		mf_sha1x_init(st[l]);
		p[l] = w->lane[l].buf;
	}
	for (o = 0; o < plen; o += step) {
		if (__atomic_load_n(&w->sh->stop, __ATOMIC_RELAXED))
			return -1;
		for (l = 0; l < x->lanes; l++)
			if (lane_read(w, &w->lane[l], (piece + (size_t)l) * plen + o, step) < 0)
				return -1;
		/* step is a multiple of 64: pieces are powers of two of 16 KiB or more */
		x->blocks(st, p, step / 64);
		__atomic_add_fetch(&w->sh->done, (uint64_t)step * (uint64_t)x->lanes,
		    __ATOMIC_RELAXED);
	}
	mf_sha1x_final(x, st, plen, out);
	memcpy(job->digests + 20 * piece, out, 20 * (size_t)x->lanes);
	return 0;
}

/* 1 when the lanes can take the next pieces: all whole, in the run, none to skip. */
static int
lanes_fit(const struct worker *w, const struct cursor *c)
{
	const struct mf_hjob *job = w->sh->job;
	size_t l;

	if (w->how != LANES || c->pos + w->sh->lanes * job->plen > c->stop)
		return 0;
	for (l = 0; job->skip && l < w->sh->lanes; l++)
		if (job->skip[c->piece + l])
			return 0;
	return 1;
}

/* Hash pieces [first, last). */
static int
hash_run(struct worker *w, size_t first, size_t last)
{
	const struct mf_hjob *job = w->sh->job;
	struct cursor c;
	size_t fi;

	c.pos = (uint64_t)first * job->plen;
	c.stop = (uint64_t)last * job->plen < job->total ? (uint64_t)last * job->plen : job->total;
	c.piece = first;
	if (begin_piece(w, &c) < 0)
		return ssl_failed(w->sh);
	fi = first_file(job, c.pos);
	while (c.pos < c.stop) {
		if (lanes_fit(w, &c)) {
			if (hash_lanes(w, c.piece) < 0)
				return -1;
			c.pos += w->sh->lanes * job->plen;
			c.piece += w->sh->lanes;
			if (begin_piece(w, &c) < 0)
				return ssl_failed(w->sh);
			fi = first_file(job, c.pos);
			continue;
		}
		if (job->skip && job->skip[c.piece]) {
			/* Not hashed (it touches a missing file): on to the next piece. */
			__atomic_add_fetch(&w->sh->done, c.pend - c.pos, __ATOMIC_RELAXED);
			c.pos = c.pend;
			c.piece++;
			if (begin_piece(w, &c) < 0)
				return ssl_failed(w->sh);
			fi = first_file(job, c.pos);
			continue;
		}
		while (fi < job->nfiles && job->files[fi].off + job->files[fi].len <= c.pos)
			fi++;
		if (fi >= job->nfiles)
			break;
		if (hash_part(w, &c, fi) < 0)
			return -1;
	}
	return 0;
}

/*
 * Claim the next run of pieces: long at first, shorter towards the end (a share of what
 * is left), so that the workers finish together.  Returns 0 when none are left.
 */
static int
claim(struct shared *sh, size_t *first, size_t *last)
{
	size_t at = __atomic_load_n(&sh->next, __ATOMIC_RELAXED), n;

	do {
		if (at >= sh->npieces)
			return 0;
		n = (sh->npieces - at) / (2 * (size_t)sh->jobs);
		n = n < sh->minrun ? sh->minrun : n > sh->maxrun ? sh->maxrun : n;
		if (n >= sh->lanes)
			n -= n % sh->lanes;	/* whole groups for the lanes */
		if (n > sh->npieces - at)
			n = sh->npieces - at;
	} while (!__atomic_compare_exchange_n(&sh->next, &at, at + n, 0, __ATOMIC_RELAXED,
	    __ATOMIC_RELAXED));
	*first = at;
	*last = at + n;
	return 1;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	size_t first, last;
	int l;

	w->one.fd = -1;
	for (l = 0; l < MF_SHA1X_MAX; l++)
		w->lane[l].fd = -1;
	w->best[0] = w->best[1] = 1e9;
	w->how = sh->how;
	if (!(w->ctx = EVP_MD_CTX_new()))
		set_err(sh, ENOMEM, "cannot hash ", "pieces");
	while (w->ctx && !__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
	    claim(sh, &first, &last))
		if (hash_run(w, first, last) < 0)
			break;
	if (w->one.fd >= 0)
		close(w->one.fd);
	for (l = 0; l < MF_SHA1X_MAX; l++) {
		if (w->lane[l].fd >= 0)
			close(w->lane[l].fd);
		free(w->lane[l].buf);
	}
	EVP_MD_CTX_free(w->ctx);
	free(w->buf);
	pthread_mutex_lock(&sh->mu);
	sh->running--;
	pthread_cond_signal(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

static int
ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* 1 when n more descriptors fit well under the limit (some are left for the caller). */
static int
fds_for(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1;
	return rl.rlim_cur >= 64 && n <= (rl.rlim_cur - 32) / 2;
}

/* Split the work among jobs workers: run lengths, window size, how to read. */
static void
plan(struct shared *sh, int jobs)
{
	uint64_t plen = sh->job->plen, pg = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t win = MAP_BUDGET / (unsigned)jobs;
	const char *how = getenv("MF_HASH_READ");

	/* Each way can be forced, for the tests and benchmarks of each. */
	sh->how = how && !strcmp(how, "map") ? MAP : how && !strcmp(how, "read") ? READ : PROBE;
	if (sh->how == PROBE)
		sh->x = how && strcmp(how, "auto") ? mf_sha1x_get(how) : mf_sha1x_best();
	/* A lane keeps a file open: with too few descriptors, a piece at a time. */
	if (sh->x && !fds_for((size_t)jobs * ((size_t)sh->x->lanes + 1)))
		sh->x = NULL;
	/* An engine that beats one stream of SHA-1 takes the pieces (the odd ones left go
	 * the other ways). */
	if (sh->x)
		sh->how = LANES;
	sh->lanes = sh->x ? (size_t)sh->x->lanes : 1;

	sh->jobs = jobs;
	sh->window = win < MIN_WINDOW ? MIN_WINDOW : (size_t)(win & ~(pg - 1));
	/* Claims of at least MIN_WINDOW: the last ones take a millisecond, so workers end together. */
	sh->minrun = MIN_WINDOW / plen ? MIN_WINDOW / plen : 1;
	sh->maxrun = MAX_RUN / plen ? MAX_RUN / plen : 1;
	if (sh->maxrun < sh->minrun)
		sh->maxrun = sh->minrun;
}

/* Start the workers; returns how many run. */
static int
start_workers(struct shared *sh, struct worker *w, int jobs)
{
	int i;

	for (i = 0; i < jobs; i++) {
		w[i].sh = sh;
		pthread_mutex_lock(&sh->mu);
		sh->running++;
		pthread_mutex_unlock(&sh->mu);
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
			pthread_mutex_lock(&sh->mu);
			sh->running--;
			pthread_mutex_unlock(&sh->mu);
			set_err(sh, EAGAIN, "cannot start a hashing thread for ", "pieces");
			break;
		}
	}
	return i;
}

/* The main thread only draws the bar while the workers run. */
static void
wait_workers(struct shared *sh)
{
	pthread_mutex_lock(&sh->mu);
	while (sh->running > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sh->cv, &sh->mu, &ts);
		mf_progress_update(sh->job->progress, __atomic_load_n(&sh->done, __ATOMIC_RELAXED));
	}
	pthread_mutex_unlock(&sh->mu);
}

int
mf_hash_pieces(struct mf_hjob *job, char *err, size_t errsz)
{
	struct shared sh;
	struct worker *w;
	struct sigaction sa;
	int jobs = job->jobs > 0 ? job->jobs : ncores(), i, started, rc = 0;
	size_t np = mf_hash_npieces(job->total, job->plen);

	if (np == 0)
		return 0;
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	if ((size_t)jobs > np)
		jobs = (int)np;
	memset(&sh, 0, sizeof sh);
	sh.job = job;
	sh.npieces = np;
	sh.err = err;
	sh.errsz = errsz;
	plan(&sh, jobs);
	if (!(sh.md = EVP_MD_fetch(NULL, "SHA1", NULL))) {
		snprintf(err, errsz, "SHA-1 is not available in OpenSSL");
		errno = ENOSYS;
		return -1;
	}
	if (!(w = calloc((size_t)jobs, sizeof *w))) {
		EVP_MD_free(sh.md);
		snprintf(err, errsz, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_init(&sh.mu, NULL);
	pthread_cond_init(&sh.cv, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	started = start_workers(&sh, w, jobs);
	wait_workers(&sh);
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	mf_progress_update(job->progress, sh.done);
	free(w);
	if (sh.err_set) {
		rc = -1;
		errno = sh.err_no;
	}
	EVP_MD_free(sh.md);
	pthread_mutex_destroy(&sh.mu);
	pthread_cond_destroy(&sh.cv);
	return rc;
}
