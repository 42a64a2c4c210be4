/*
 * sha1x: SHA-1 of several messages at once (multi-buffer), for the torrent hasher.
 *
 * One SHA-1 stream is bound by the latency of its rounds; streams that do not depend on
 * each other fill the gaps.  Three engines, each a number of lanes (one message a lane):
 * "sha-ni", four streams interleaved with the x86 SHA extensions; "avx512", sixteen
 * streams side by side in the 32-bit lanes of AVX-512 registers; "avx2", eight in AVX2
 * registers, for CPUs with neither.  Which wins depends on the CPU (measured, per core:
 * AMD EPYC, OpenSSL 1.9 GB/s, sha-ni 4.9 GB/s; Intel Xeon at 2 GHz, OpenSSL 0.94 GB/s
 * (0.49 without its SHA-NI), sha-ni 0.65, avx512 3.5-4.0, avx2 1.4 GB/s), so
 * mf_sha1x_best measures them once against one OpenSSL stream.
 */
#ifndef MF_SHA1X_H
#define MF_SHA1X_H

#include <stddef.h>
#include <stdint.h>

#define MF_SHA1X_MAX	16	/* the most lanes an engine has */

struct mf_sha1x {
	const char	*name;
	int		lanes;
	/* Hash nblocks 64-byte blocks of each lane: lane l (of lanes) reads data[l]. */
	void		(*blocks)(uint32_t st[][5], const unsigned char *const data[],
			    size_t nblocks);
};

/* The engine of that name ("sha-ni", "avx512", "avx2") if this CPU and build can run it, else NULL. */
const struct mf_sha1x *mf_sha1x_get(const char *name);

/*
 * The engine that hashes the most bytes per second on this CPU, or NULL when one OpenSSL
 * stream is faster than every engine that runs here.  Measured on the first call (a few
 * milliseconds of hashing in the cache), then remembered; thread-safe.
 */
const struct mf_sha1x *mf_sha1x_best(void);

/* The initial state of one lane. */
void mf_sha1x_init(uint32_t st[5]);

/* The digests of x's lanes that each hashed len bytes (a multiple of 64) in whole blocks. */
void mf_sha1x_final(const struct mf_sha1x *x, uint32_t st[][5], uint64_t len,
    unsigned char out[][20]);

#endif
