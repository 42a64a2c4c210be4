/* Unit tests for lib/sha1x: each lane's digest is OpenSSL's SHA-1 of that lane's bytes. */
#include <openssl/evp.h>
#include <stdlib.h>

#include "harness.h"
#include "sha1x.h"

/* x's lanes of nblocks blocks each, of different bytes, against one-shot SHA-1 of each. */
static int
lanes_match(const struct mf_sha1x *x, size_t nblocks, unsigned seed)
{
	unsigned char *buf[MF_SHA1X_MAX], out[MF_SHA1X_MAX][20], want[20];
	const unsigned char *p[MF_SHA1X_MAX];
	uint32_t st[MF_SHA1X_MAX][5];
	size_t n = 64 * nblocks, i;
	int l, ok = 1;

	srand(seed);
	for (l = 0; l < x->lanes; l++) {
		buf[l] = malloc(n + 1);
		for (i = 0; i < n; i++)
			buf[l][i] = (unsigned char)rand();
		/* one byte off the alignment malloc gives, for the odd lanes */
		if (l % 2) {
			memmove(buf[l] + 1, buf[l], n);
			p[l] = buf[l] + 1;
		} else
			p[l] = buf[l];
		mf_sha1x_init(st[l]);
	}
	/* in two calls, as the hasher feeds a piece step by step */
	x->blocks(st, p, nblocks / 2);
	for (l = 0; l < x->lanes; l++)
		p[l] += 64 * (nblocks / 2);
	x->blocks(st, p, nblocks - nblocks / 2);
	mf_sha1x_final(x, st, n, out);
	for (l = 0; l < x->lanes; l++) {
		EVP_Digest(buf[l] + l % 2, n, want, NULL, EVP_sha1(), NULL);
		ok &= memcmp(want, out[l], 20) == 0;
		free(buf[l]);
	}
	return ok;
}

static void
engine(const char *name)
{
	const struct mf_sha1x *x = mf_sha1x_get(name);

	if (!x) {
		printf("# this CPU cannot run the %s engine: not tested here\n", name);
		return;
	}
	CHECK(lanes_match(x, 0, 1));
	CHECK(lanes_match(x, 1, 2));
	CHECK(lanes_match(x, 2, 3));
	CHECK(lanes_match(x, 256, 4));	/* a 16 KiB piece */
	CHECK(lanes_match(x, 8193, 5));
}

TEST(sha1x_shani_lanes_are_sha1)
{
	engine("sha-ni");
}

TEST(sha1x_avx512_lanes_are_sha1)
{
	engine("avx512");
}

TEST(sha1x_avx2_lanes_are_sha1)
{
	engine("avx2");
}

TEST(sha1x_best_is_one_that_runs)
{
	const struct mf_sha1x *x = mf_sha1x_best();

	CHECK(mf_sha1x_get("none") == NULL);
	if (x)
		CHECK(mf_sha1x_get(x->name) == x);
	CHECK(mf_sha1x_best() == x);	/* measured once */
	printf("# fastest here: %s\n", x ? x->name : "one OpenSSL stream");
}

int
main(void)
{
	RUN(sha1x_shani_lanes_are_sha1);
	RUN(sha1x_avx512_lanes_are_sha1);
	RUN(sha1x_avx2_lanes_are_sha1);
	RUN(sha1x_best_is_one_that_runs);
	return DONE();
}
