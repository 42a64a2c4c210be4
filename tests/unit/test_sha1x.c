/* Unit tests for lib/sha1x: each lane's digest is OpenSSL's SHA-1 of that lane's bytes. */
#include <openssl/evp.h>
#include <stdlib.h>

#include "harness.h"
#include "sha1x.h"

/* Lanes of nblocks blocks each, of different bytes, against one-shot SHA-1 of each. */
static int
lanes_match(size_t nblocks, unsigned seed)
{
	unsigned char *buf[MF_SHA1X_LANES], out[MF_SHA1X_LANES][20], want[20];
	const unsigned char *p[MF_SHA1X_LANES];
	uint32_t st[MF_SHA1X_LANES][5];
	size_t n = 64 * nblocks, i;
	int l, ok = 1;

	srand(seed);
	for (l = 0; l < MF_SHA1X_LANES; l++) {
		buf[l] = malloc(n + 1);
		for (i = 0; i < n; i++)
			buf[l][i] = (unsigned char)rand();
		/* one byte off the alignment malloc gives, for lanes 1 and 3 */
		if (l % 2) {
			memmove(buf[l] + 1, buf[l], n);
			p[l] = buf[l] + 1;
		} else
			p[l] = buf[l];
		mf_sha1x_init(st[l]);
	}
	/* in two calls, as the hasher feeds a piece step by step */
	mf_sha1x_blocks(st, p, nblocks / 2);
	for (l = 0; l < MF_SHA1X_LANES; l++)
		p[l] += 64 * (nblocks / 2);
	mf_sha1x_blocks(st, p, nblocks - nblocks / 2);
	mf_sha1x_final(st, n, out);
	for (l = 0; l < MF_SHA1X_LANES; l++) {
		EVP_Digest(buf[l] + l % 2, n, want, NULL, EVP_sha1(), NULL);
		ok &= memcmp(want, out[l], 20) == 0;
		free(buf[l]);
	}
	return ok;
}

TEST(sha1x_lanes_are_sha1)
{
	if (!mf_sha1x_available()) {
		printf("# this CPU has no SHA extensions: lib/sha1x is not used, nothing to test\n");
		return;
	}
	CHECK(lanes_match(0, 1));
	CHECK(lanes_match(1, 2));
	CHECK(lanes_match(2, 3));
	CHECK(lanes_match(256, 4));	/* a 16 KiB piece */
	CHECK(lanes_match(8193, 5));
}

int
main(void)
{
	RUN(sha1x_lanes_are_sha1);
	return DONE();
}
