/* hash: SHA-1 of every piece of a run of files, on all cores, in bounded memory. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "progress.h"

#define MAX_JOBS	32
/*
 * Per-worker read size.  Small enough to stay in the core's L2 cache between the copy out
 * of the page cache and the SHA-1 pass over it; MAX_JOBS of them stay far below 64 MiB.
 */
#define CHUNK		(256 * 1024)

struct shared {
	struct mf_hjob	*job;
	size_t		npieces, per;
	EVP_MD		*md;
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	int		running, stop, err_set, err_no;
	uint64_t	done;		/* bytes hashed, for the progress bar */
	char		*err;
	size_t		errsz;
};

struct worker {
	struct shared	*sh;
	size_t		first, last;	/* pieces [first, last) */
	unsigned char	*buf;
	pthread_t	tid;
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
static void
set_err(struct shared *sh, int e, const char *what, const char *path)
{
	char msg[1024];

	snprintf(msg, sizeof msg, "%s%s%s%s", what, path, e == EAGAIN ? "" : ": ",
	    e == EAGAIN ? "" : strerror(e));
	set_msg(sh, e, msg);
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

/* mf_hash_open, its failure kept as the job's error. */
static int
open_file(struct shared *sh, const struct mf_tfile *f)
{
	char msg[1024];
	int fd = mf_hash_open(sh->job, f, msg, sizeof msg);

	if (fd < 0)
		set_msg(sh, errno, msg);
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

static int
run_range(struct worker *w, EVP_MD_CTX *ctx)
{
	struct shared *sh = w->sh;
	const struct mf_hjob *job = sh->job;
	uint64_t plen = job->plen, pos, stop, pend;
	size_t piece = w->first, fi;
	int fd = -1;
	size_t open_fi = (size_t)-1;

	pos = (uint64_t)w->first * plen;
	stop = (uint64_t)w->last * plen;
	if (stop > job->total)
		stop = job->total;
	pend = pos + plen < job->total ? pos + plen : job->total;
	fi = first_file(job, pos);
	if (!EVP_DigestInit_ex2(ctx, sh->md, NULL))
		goto ssl;
	while (pos < stop) {
		const struct mf_tfile *f;
		uint64_t fend, n;
		ssize_t r;

		if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
			goto out;
		if (job->skip && job->skip[piece]) {
			/* Not hashed: move on to the next piece. */
			__atomic_add_fetch(&sh->done, pend - pos, __ATOMIC_RELAXED);
			pos = pend;
			piece++;
			pend = pos + plen < job->total ? pos + plen : job->total;
			while (fi < job->nfiles && job->files[fi].off + job->files[fi].len <= pos)
				fi++;
			continue;
		}
		if (fi >= job->nfiles)
			break;
		f = &job->files[fi];
		fend = f->off + f->len;
		if (fend <= pos) {
			fi++;
			continue;
		}
		if (open_fi != fi) {
			if (fd >= 0)
				close(fd);
			open_fi = fi;
			if ((fd = open_file(sh, f)) < 0)
				return -1;
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		}
		n = fend - pos;
		if (n > stop - pos)
			n = stop - pos;
		if (n > CHUNK)
			n = CHUNK;
		if (job->skip && n > pend - pos)
			n = pend - pos;
		do
			r = pread(fd, w->buf, (size_t)n, (off_t)(pos - f->off));
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			set_err(sh, errno, "cannot read ", f->path);
			goto fail;
		}
		if (r == 0) {
			set_err(sh, EAGAIN, "file changed size while it was hashed: ", f->path);
			goto fail;
		}
		{
			const unsigned char *b = w->buf;
			uint64_t left = (uint64_t)r;

			while (left > 0) {
				uint64_t take = pend - pos < left ? pend - pos : left;

				if (!EVP_DigestUpdate(ctx, b, (size_t)take))
					goto ssl;
				b += take;
				left -= take;
				pos += take;
				if (pos == pend) {
					if (!EVP_DigestFinal_ex(ctx, job->digests + 20 * piece, NULL) ||
					    !EVP_DigestInit_ex2(ctx, sh->md, NULL))
						goto ssl;
					piece++;
					pend = pos + plen < job->total ? pos + plen : job->total;
				}
			}
			__atomic_add_fetch(&sh->done, (uint64_t)r, __ATOMIC_RELAXED);
		}
		if (pos == fend) {
			struct stat st;

			/* A file that grew while we read it would give a torrent nobody can seed. */
			if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != f->len) {
				set_err(sh, EAGAIN, "file changed size while it was hashed: ", f->path);
				goto fail;
			}
			close(fd);
			fd = -1;
			open_fi = (size_t)-1;
			fi++;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return 0;
ssl:
	set_err(sh, EIO, "SHA-1 failed in ", "OpenSSL");
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx)
		set_err(sh, ENOMEM, "cannot hash ", "pieces");
	else
		run_range(w, ctx);
	EVP_MD_CTX_free(ctx);
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

int
mf_hash_pieces(struct mf_hjob *job, char *err, size_t errsz)
{
	struct shared sh;
	struct worker *w;
	int jobs = job->jobs > 0 ? job->jobs : ncores(), i, started = 0, rc = 0;
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
	sh.per = (np + (size_t)jobs - 1) / (size_t)jobs;
	sh.err = err;
	sh.errsz = errsz;
	if (!(sh.md = EVP_MD_fetch(NULL, "SHA1", NULL))) {
		snprintf(err, errsz, "SHA-1 is not available in OpenSSL");
		errno = ENOSYS;
		return -1;
	}
	pthread_mutex_init(&sh.mu, NULL);
	pthread_cond_init(&sh.cv, NULL);
	if (!(w = calloc((size_t)jobs, sizeof *w))) {
		rc = -1;
		snprintf(err, errsz, "out of memory");
		goto done;
	}
	for (i = 0; i < jobs; i++) {
		w[i].sh = &sh;
		w[i].first = (size_t)i * sh.per;
		w[i].last = w[i].first + sh.per < np ? w[i].first + sh.per : np;
		if (w[i].first >= np)
			break;
		if (!(w[i].buf = malloc(CHUNK))) {
			set_err(&sh, ENOMEM, "cannot hash ", "pieces");
			break;
		}
		pthread_mutex_lock(&sh.mu);
		sh.running++;
		pthread_mutex_unlock(&sh.mu);
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
			pthread_mutex_lock(&sh.mu);
			sh.running--;
			pthread_mutex_unlock(&sh.mu);
			set_err(&sh, EAGAIN, "cannot start a hashing thread for ", "pieces");
			break;
		}
		started++;
	}
	/* The main thread only draws the bar; the workers do all the reading. */
	pthread_mutex_lock(&sh.mu);
	while (sh.running > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sh.cv, &sh.mu, &ts);
		mf_progress_update(job->progress, __atomic_load_n(&sh.done, __ATOMIC_RELAXED));
	}
	pthread_mutex_unlock(&sh.mu);
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	mf_progress_update(job->progress, sh.done);
	for (i = 0; i < jobs; i++)
		free(w[i].buf);
	free(w);
	if (sh.err_set) {
		rc = -1;
		errno = sh.err_no;
	}
done:
	EVP_MD_free(sh.md);
	pthread_mutex_destroy(&sh.mu);
	pthread_cond_destroy(&sh.cv);
	return rc;
}
