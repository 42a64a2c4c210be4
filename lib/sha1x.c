/* sha1x: SHA-1 of several messages at once, with the x86 SHA extensions, AVX-512 or AVX2. */
#include "sha1x.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "clock.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#define NI	4	/* lanes of the sha-ni engine */
#define AVX2	8	/* of the avx2 engine */

/* Bit bit of register reg (0 eax, 1 ebx, 2 ecx) of cpuid leaf leaf. */
static int
cpu_has(unsigned leaf, int reg, int bit)
{
	unsigned r[4];

	if (!__get_cpuid_count(leaf, 0, &r[0], &r[1], &r[2], &r[3]))
		return 0;
	return (r[reg] >> bit) & 1;
}

/* The OS saves the registers of mask in XCR0 (2 SSE, 4 AVX, 0xe0 opmask and ZMM). */
static int
os_saves(unsigned mask)
{
	unsigned lo, hi;

	if (!cpu_has(1, 2, 27))	/* OSXSAVE */
		return 0;
	__asm__ volatile ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & mask) == mask;
}

static int
has_shani(void)
{
	return cpu_has(1, 2, 9) && cpu_has(1, 2, 19) && cpu_has(7, 1, 29);	/* SSSE3 SSE4.1 SHA */
}

static int
has_avx512(void)
{
	return cpu_has(7, 1, 16) && cpu_has(7, 1, 30) && os_saves(0xe6);	/* F, BW */
}

static int
has_avx2(void)
{
	return cpu_has(7, 1, 5) && os_saves(0x6);
}

/*
 * Four rounds (group i of 20) for every lane.  The message words of group i >= 4 come
 * from the four before it (sha1msg1, xor, sha1msg2); E for the group is the A of four
 * rounds ago, rotated (sha1nexte), or the saved E for group 0.
 */
#define GROUP(i) do {								\
	for (l = 0; l < NI; l++) {						\
		__m128i mi, et;							\
		if ((i) >= 4) {							\
			mi = _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32( \
			    m[l][(i) & 3], m[l][((i) + 1) & 3]), m[l][((i) + 2) & 3]), \
			    m[l][((i) + 3) & 3]);				\
			m[l][(i) & 3] = mi;					\
		} else								\
			mi = m[l][(i) & 3];					\
		et = (i) == 0 ? _mm_add_epi32(e[l], mi) : _mm_sha1nexte_epu32(prev[l], mi); \
		prev[l] = abcd[l];						\
		abcd[l] = _mm_sha1rnds4_epu32(abcd[l], et, (i) / 5);		\
	}									\
} while (0)

__attribute__((target("sha,sse4.1,ssse3"))) static void
shani_blocks(uint32_t st[][5], const unsigned char *const data[], size_t nblocks)
{
	/* Message words are big-endian: reverse each block's 16 bytes, W0 on top. */
	const __m128i swap = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
	__m128i abcd[NI], e[NI], prev[NI], abcd0[NI], e0[NI], m[NI][4];
	size_t b;
	int l, k;

	for (l = 0; l < NI; l++) {
		abcd[l] = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st[l]), 0x1B);
		e[l] = _mm_set_epi32((int)st[l][4], 0, 0, 0);
	}
	for (b = 0; b < nblocks; b++) {
		for (l = 0; l < NI; l++) {
			abcd0[l] = abcd[l];
			e0[l] = e[l];
			for (k = 0; k < 4; k++)
				m[l][k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)
				    (data[l] + 64 * b + 16 * k)), swap);
		}
		GROUP(0); GROUP(1); GROUP(2); GROUP(3); GROUP(4);
		GROUP(5); GROUP(6); GROUP(7); GROUP(8); GROUP(9);
		GROUP(10); GROUP(11); GROUP(12); GROUP(13); GROUP(14);
		GROUP(15); GROUP(16); GROUP(17); GROUP(18); GROUP(19);
		for (l = 0; l < NI; l++) {
			e[l] = _mm_sha1nexte_epu32(prev[l], e0[l]);
			abcd[l] = _mm_add_epi32(abcd[l], abcd0[l]);
		}
	}
	for (l = 0; l < NI; l++) {
		_mm_storeu_si128((__m128i *)st[l], _mm_shuffle_epi32(abcd[l], 0x1B));
		st[l][4] = (uint32_t)_mm_extract_epi32(e[l], 3);
	}
}

/*
 * The vector engines: word i of the state of every lane in one register, the textbook
 * round.  Each engine defines the register's operations before its function: ADD, ROL,
 * XOR4 and F(b, c, d, f), f one of CH, PARITY, MAJ (the round function; pasted, so they
 * are names, not macros).
 */
#define ROUND(a, b, c, d, e, f, k, w) do {					\
	e = ADD(ADD(e, ADD(k, w)), ADD(ROL(a, 5), F(b, c, d, f)));		\
	b = ROL(b, 30);								\
} while (0)
/* Message word t >= 16, in place in the ring of the last sixteen. */
#define W(t)	(w[(t) & 15] = ROL(XOR4(w[((t) - 3) & 15], w[((t) - 8) & 15],	\
		    w[((t) - 14) & 15], w[((t) - 16) & 15]), 1))
#define W0(t)	w[t]
#define ROUND5(f, k, t, wf) do {						\
	ROUND(a, b, c, d, e, f, k, wf(t));					\
	ROUND(e, a, b, c, d, f, k, wf((t) + 1));				\
	ROUND(d, e, a, b, c, f, k, wf((t) + 2));				\
	ROUND(c, d, e, a, b, f, k, wf((t) + 3));				\
	ROUND(b, c, d, e, a, f, k, wf((t) + 4));				\
} while (0)
/*
 * One block: 80 rounds on a..e from its words w[16] (transposed, big-endian), then the
 * state at its start (a0..e0) added back.
 */
#define ROUNDS80(k0, k1, k2, k3) do {						\
	ROUND5(CH, k0, 0, W0); ROUND5(CH, k0, 5, W0); ROUND5(CH, k0, 10, W0);	\
	ROUND(a, b, c, d, e, CH, k0, w[15]);					\
	ROUND(e, a, b, c, d, CH, k0, W(16));					\
	ROUND(d, e, a, b, c, CH, k0, W(17));					\
	ROUND(c, d, e, a, b, CH, k0, W(18));					\
	ROUND(b, c, d, e, a, CH, k0, W(19));					\
	ROUND5(PARITY, k1, 20, W); ROUND5(PARITY, k1, 25, W);			\
	ROUND5(PARITY, k1, 30, W); ROUND5(PARITY, k1, 35, W);			\
	ROUND5(MAJ, k2, 40, W); ROUND5(MAJ, k2, 45, W);				\
	ROUND5(MAJ, k2, 50, W); ROUND5(MAJ, k2, 55, W);				\
	ROUND5(PARITY, k3, 60, W); ROUND5(PARITY, k3, 65, W);			\
	ROUND5(PARITY, k3, 70, W); ROUND5(PARITY, k3, 75, W);			\
	a = ADD(a, a0); b = ADD(b, b0); c = ADD(c, c0);				\
	d = ADD(d, d0); e = ADD(e, e0);						\
} while (0)

/*
 * The first half of a transpose of n registers r, within each 128-bit lane: 32-bit then
 * 64-bit interleaves through t into u, so that u[4g + j], in 128-bit lane k, holds word
 * 4k + j of r[4g..4g+3].  v is the width's prefix (_mm256, _mm512); i is the caller's.
 */
#define INTERLEAVE(v, r, t, u, n) do {						\
	for (i = 0; i < (n) / 2; i++) {						\
		t[2 * i] = v##_unpacklo_epi32(r[2 * i], r[2 * i + 1]);		\
		t[2 * i + 1] = v##_unpackhi_epi32(r[2 * i], r[2 * i + 1]);	\
	}									\
	for (i = 0; i < (n) / 4; i++) {						\
		u[4 * i] = v##_unpacklo_epi64(t[4 * i], t[4 * i + 2]);		\
		u[4 * i + 1] = v##_unpackhi_epi64(t[4 * i], t[4 * i + 2]);	\
		u[4 * i + 2] = v##_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);	\
		u[4 * i + 3] = v##_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);	\
	}									\
} while (0)

/* AVX-512: sixteen lanes; f is one ternary-logic instruction (imm: its truth table). */
#define ROL(x, n)	_mm512_rol_epi32((x), (n))
#define ADD(x, y)	_mm512_add_epi32((x), (y))
#define XOR4(p, q, r, s)	_mm512_ternarylogic_epi32((p), (q), _mm512_xor_si512((r), (s)), 0x96)
#define F(b, c, d, f)	_mm512_ternarylogic_epi32((b), (c), (d), TT_##f)
#define TT_CH		0xCA
#define TT_PARITY	0x96
#define TT_MAJ		0xE8

/* Words of sixteen 64-byte blocks, lane l's in r[l], transposed: w[t] holds word t of each. */
__attribute__((target("avx512f,avx512bw"))) static void
transpose16(__m512i r[16], __m512i w[16])
{
	__m512i t[16], u[16];
	int i;

	INTERLEAVE(_mm512, r, t, u, 16);
	/* gather the 128-bit lanes k of the four groups g */
	for (i = 0; i < 4; i++) {
		__m512i c0 = _mm512_shuffle_i32x4(u[i], u[4 + i], 0x44);
		__m512i c1 = _mm512_shuffle_i32x4(u[i], u[4 + i], 0xEE);
		__m512i c2 = _mm512_shuffle_i32x4(u[8 + i], u[12 + i], 0x44);
		__m512i c3 = _mm512_shuffle_i32x4(u[8 + i], u[12 + i], 0xEE);

		w[i] = _mm512_shuffle_i32x4(c0, c2, 0x88);
		w[4 + i] = _mm512_shuffle_i32x4(c0, c2, 0xDD);
		w[8 + i] = _mm512_shuffle_i32x4(c1, c3, 0x88);
		w[12 + i] = _mm512_shuffle_i32x4(c1, c3, 0xDD);
	}
}

__attribute__((target("avx512f,avx512bw"))) static void
avx512_blocks(uint32_t st[][5], const unsigned char *const data[], size_t nblocks)
{
	/* st[l][i] is 32-bit word 5l + i of st */
	const __m512i at = _mm512_set_epi32(75, 70, 65, 60, 55, 50, 45, 40, 35, 30, 25, 20, 15,
	    10, 5, 0);
	const __m512i swap = _mm512_broadcast_i32x4(_mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11,
	    4, 5, 6, 7, 0, 1, 2, 3));
	const __m512i k0 = _mm512_set1_epi32(0x5A827999), k1 = _mm512_set1_epi32(0x6ED9EBA1);
	const __m512i k2 = _mm512_set1_epi32((int)0x8F1BBCDC), k3 = _mm512_set1_epi32((int)0xCA62C1D6);
	uint32_t *s = &st[0][0];
	__m512i a = _mm512_i32gather_epi32(at, s, 4), b = _mm512_i32gather_epi32(at, s + 1, 4);
	__m512i c = _mm512_i32gather_epi32(at, s + 2, 4), d = _mm512_i32gather_epi32(at, s + 3, 4);
	__m512i e = _mm512_i32gather_epi32(at, s + 4, 4);
	size_t n;
	int l;

	for (n = 0; n < nblocks; n++) {
		__m512i r[16], w[16], a0 = a, b0 = b, c0 = c, d0 = d, e0 = e;

		for (l = 0; l < 16; l++)
			r[l] = _mm512_shuffle_epi8(_mm512_loadu_si512(data[l] + 64 * n), swap);
		transpose16(r, w);
		ROUNDS80(k0, k1, k2, k3);
	}
	_mm512_i32scatter_epi32(s, at, a, 4);
	_mm512_i32scatter_epi32(s + 1, at, b, 4);
	_mm512_i32scatter_epi32(s + 2, at, c, 4);
	_mm512_i32scatter_epi32(s + 3, at, d, 4);
	_mm512_i32scatter_epi32(s + 4, at, e, 4);
}
#undef ROL
#undef ADD
#undef XOR4
#undef F

/* AVX2: eight lanes; rotations are two shifts, f two to four logic instructions. */
#define ROL(x, n)	_mm256_or_si256(_mm256_slli_epi32((x), (n)), _mm256_srli_epi32((x), 32 - (n)))
#define ADD(x, y)	_mm256_add_epi32((x), (y))
#define XOR(x, y)	_mm256_xor_si256((x), (y))
#define XOR4(p, q, r, s)	XOR(XOR((p), (q)), XOR((r), (s)))
#define F(b, c, d, f)	F_##f((b), (c), (d))
#define F_CH(b, c, d)	XOR((d), _mm256_and_si256((b), XOR((c), (d))))
#define F_PARITY(b, c, d)	XOR(XOR((b), (c)), (d))
#define F_MAJ(b, c, d)	_mm256_or_si256(_mm256_and_si256((b), (c)),		\
			    _mm256_and_si256((d), _mm256_or_si256((b), (c))))

/* Words of eight 32-byte halves of blocks, lane l's in r[l], transposed into w[8]. */
__attribute__((target("avx2"))) static void
transpose8(const __m256i r[8], __m256i w[8])
{
	__m256i t[8], u[8];
	int i;

	INTERLEAVE(_mm256, r, t, u, 8);
	/* u[j] (and u[4 + j] for lanes 4..7): word j in the low half, word 4 + j in the high */
	for (i = 0; i < 4; i++) {
		w[i] = _mm256_permute2x128_si256(u[i], u[4 + i], 0x20);
		w[4 + i] = _mm256_permute2x128_si256(u[i], u[4 + i], 0x31);
	}
}

__attribute__((target("avx2"))) static void
avx2_blocks(uint32_t st[][5], const unsigned char *const data[], size_t nblocks)
{
	const __m256i swap = _mm256_broadcastsi128_si256(_mm_set_epi8(12, 13, 14, 15, 8, 9,
	    10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
	const __m256i k0 = _mm256_set1_epi32(0x5A827999), k1 = _mm256_set1_epi32(0x6ED9EBA1);
	const __m256i k2 = _mm256_set1_epi32((int)0x8F1BBCDC), k3 = _mm256_set1_epi32((int)0xCA62C1D6);
	uint32_t v[5][AVX2] __attribute__((aligned(32)));
	__m256i a, b, c, d, e;
	size_t n;
	int l, i;

	for (i = 0; i < 5; i++)
		for (l = 0; l < AVX2; l++)
			v[i][l] = st[l][i];
	a = _mm256_load_si256((const __m256i *)v[0]);
	b = _mm256_load_si256((const __m256i *)v[1]);
	c = _mm256_load_si256((const __m256i *)v[2]);
	d = _mm256_load_si256((const __m256i *)v[3]);
	e = _mm256_load_si256((const __m256i *)v[4]);
	for (n = 0; n < nblocks; n++) {
		__m256i r[8], w[16], a0 = a, b0 = b, c0 = c, d0 = d, e0 = e;

		for (i = 0; i < 2; i++) {
			for (l = 0; l < AVX2; l++)
				r[l] = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)
				    (data[l] + 64 * n + 32 * i)), swap);
			transpose8(r, w + 8 * i);
		}
		ROUNDS80(k0, k1, k2, k3);
	}
	_mm256_store_si256((__m256i *)v[0], a);
	_mm256_store_si256((__m256i *)v[1], b);
	_mm256_store_si256((__m256i *)v[2], c);
	_mm256_store_si256((__m256i *)v[3], d);
	_mm256_store_si256((__m256i *)v[4], e);
	for (i = 0; i < 5; i++)
		for (l = 0; l < AVX2; l++)
			st[l][i] = v[i][l];
}

static const struct mf_sha1x engines[] = {
	{ "sha-ni", NI, shani_blocks },
	{ "avx512", 16, avx512_blocks },
	{ "avx2", AVX2, avx2_blocks },
};

static int
runs_here(const struct mf_sha1x *x)
{
	return x->blocks == shani_blocks ? has_shani() : x->blocks == avx2_blocks ? has_avx2() :
	    has_avx512();
}
#else
static const struct mf_sha1x engines[1];

static int
runs_here(const struct mf_sha1x *x)
{
	(void)x;
	return 0;
}
#endif

#define NENGINES	(sizeof engines / sizeof engines[0])

const struct mf_sha1x *
mf_sha1x_get(const char *name)
{
	size_t i;

	for (i = 0; i < NENGINES; i++)
		if (engines[i].name && !strcmp(engines[i].name, name) && runs_here(&engines[i]))
			return &engines[i];
	return NULL;
}

void
mf_sha1x_init(uint32_t st[5])
{
	static const uint32_t h0[5] = {
		0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
	};

	memcpy(st, h0, sizeof h0);
}

void
mf_sha1x_final(const struct mf_sha1x *x, uint32_t st[][5], uint64_t len, unsigned char out[][20])
{
	unsigned char pad[64] = { 0x80 };
	const unsigned char *p[MF_SHA1X_MAX];
	uint64_t bits = len * 8;
	int l, i;

	/* len is whole blocks: the padding is one block, the same for every lane */
	for (i = 0; i < 8; i++)
		pad[63 - i] = (unsigned char)(bits >> (8 * i));
	for (l = 0; l < x->lanes; l++)
		p[l] = pad;
	x->blocks(st, p, 1);
	for (l = 0; l < x->lanes; l++)
		for (i = 0; i < 20; i++)
			out[l][i] = (unsigned char)(st[l][i / 4] >> (24 - 8 * (i % 4)));
}

/* What a calibration hashes per lane: a piece step of the hasher's, in the cache. */
#define TRIAL		(64 * 1024)
#define TRIALS		5

/* Seconds per byte of x over buf (one OpenSSL stream when x is NULL); -1 on failure. */
static double
trial(const struct mf_sha1x *x, const unsigned char *buf)
{
	uint32_t st[MF_SHA1X_MAX][5];
	unsigned char out[MF_SHA1X_MAX][20];
	const unsigned char *p[MF_SHA1X_MAX];
	int l, n = x ? x->lanes : 4;
	double t = mf_now();

	for (l = 0; l < n; l++) {
		mf_sha1x_init(st[l]);
		p[l] = buf + (size_t)l * TRIAL;
		if (!x && !EVP_Digest(p[l], TRIAL, out[l], NULL, EVP_sha1(), NULL))
			return -1;
	}
	if (x) {
		x->blocks(st, p, TRIAL / 64);
		mf_sha1x_final(x, st, TRIAL, out);
	}
	return (mf_now() - t) / ((double)n * TRIAL);
}

static const struct mf_sha1x *best;

static void
measure(void)
{
	double fastest[NENGINES + 1];
	unsigned char *buf = malloc((size_t)MF_SHA1X_MAX * TRIAL);
	size_t i, k;

	if (!buf)
		return;
	for (i = 0; i < (size_t)MF_SHA1X_MAX * TRIAL; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 24);
	for (i = 0; i <= NENGINES; i++)
		fastest[i] = 1e9;
	/* In turns, so that a burst of load elsewhere slows all of them alike. */
	for (k = 0; k < TRIALS; k++)
		for (i = 0; i <= NENGINES; i++) {
			const struct mf_sha1x *x = i < NENGINES ? &engines[i] : NULL;
			double per;

			if (x && (!x->name || !runs_here(x)))
				continue;
			per = trial(x, buf);
			if (per > 0 && per < fastest[i])
				fastest[i] = per;
		}
	for (i = 0; i < NENGINES; i++)
		if (fastest[i] < fastest[NENGINES] && (!best || fastest[i] < fastest[best - engines]))
			best = &engines[i];
	free(buf);
}

const struct mf_sha1x *
mf_sha1x_best(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, measure);
	return best;
}
