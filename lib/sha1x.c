/* sha1x: SHA-1 of MF_SHA1X_LANES messages at once, with the x86 SHA extensions. */
#include "sha1x.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

int
mf_sha1x_available(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
		return 0;	/* SSSE3, SSE4.1 */
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b >> 29) & 1;	/* SHA */
}

/*
 * Four rounds (group i of 20) for every lane.  The message words of group i >= 4 come
 * from the four before it (sha1msg1, xor, sha1msg2); E for the group is the A of four
 * rounds ago, rotated (sha1nexte), or the saved E for group 0.
 */
#define GROUP(i) do {								\
	for (l = 0; l < MF_SHA1X_LANES; l++) {					\
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

__attribute__((target("sha,sse4.1,ssse3"))) void
mf_sha1x_blocks(uint32_t st[MF_SHA1X_LANES][5], const unsigned char *const data[MF_SHA1X_LANES],
    size_t nblocks)
{
	/* Message words are big-endian: reverse each block's 16 bytes, W0 on top. */
	const __m128i swap = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
	__m128i abcd[MF_SHA1X_LANES], e[MF_SHA1X_LANES], prev[MF_SHA1X_LANES];
	__m128i abcd0[MF_SHA1X_LANES], e0[MF_SHA1X_LANES], m[MF_SHA1X_LANES][4];
	size_t b;
	int l, k;

	for (l = 0; l < MF_SHA1X_LANES; l++) {
		abcd[l] = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st[l]), 0x1B);
		e[l] = _mm_set_epi32((int)st[l][4], 0, 0, 0);
	}
	for (b = 0; b < nblocks; b++) {
		for (l = 0; l < MF_SHA1X_LANES; l++) {
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
		for (l = 0; l < MF_SHA1X_LANES; l++) {
			e[l] = _mm_sha1nexte_epu32(prev[l], e0[l]);
			abcd[l] = _mm_add_epi32(abcd[l], abcd0[l]);
		}
	}
	for (l = 0; l < MF_SHA1X_LANES; l++) {
		_mm_storeu_si128((__m128i *)st[l], _mm_shuffle_epi32(abcd[l], 0x1B));
		st[l][4] = (uint32_t)_mm_extract_epi32(e[l], 3);
	}
}
#else
int
mf_sha1x_available(void)
{
	return 0;
}

void
mf_sha1x_blocks(uint32_t st[MF_SHA1X_LANES][5], const unsigned char *const data[MF_SHA1X_LANES],
    size_t nblocks)
{
	(void)st, (void)data, (void)nblocks;	/* never called: not available */
}
#endif

void
mf_sha1x_init(uint32_t st[5])
{
	static const uint32_t h0[5] = {
		0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
	};

	memcpy(st, h0, sizeof h0);
}

void
mf_sha1x_final(uint32_t st[MF_SHA1X_LANES][5], uint64_t len, unsigned char out[MF_SHA1X_LANES][20])
{
	unsigned char pad[64] = { 0x80 };
	const unsigned char *p[MF_SHA1X_LANES];
	uint64_t bits = len * 8;
	int l, i;

	/* len is whole blocks: the padding is one block, the same for every lane */
	for (i = 0; i < 8; i++)
		pad[63 - i] = (unsigned char)(bits >> (8 * i));
	for (l = 0; l < MF_SHA1X_LANES; l++)
		p[l] = pad;
	mf_sha1x_blocks(st, p, 1);
	for (l = 0; l < MF_SHA1X_LANES; l++)
		for (i = 0; i < 20; i++)
			out[l][i] = (unsigned char)(st[l][i / 4] >> (24 - 8 * (i % 4)));
}
