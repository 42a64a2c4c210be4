/* libFuzzer target for lib/bencode, the torrent reader built on it, and the rewrite of a
 * torrent's keys (mf-torrent --modify). */
#include "bencode.h"
#include "metainfo.h"
#include "torrent.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Anything the reader takes can be rewritten: with nothing set in info the infohash stays,
 * strict (sorted) input gives strict output, and a second rewrite with the same settings
 * changes nothing.
 */
static void
rewrite(const uint8_t *data, size_t size, int strict_ok)
{
	static FILE *null;
	struct mf_topts keep = { .private = -1, .no_date = 1 };
	struct mf_topts set = { .private = 1, .source = "MAM", .name = "n", .comment = "c",
	    .webseeds = "https://w/ x", .announce = "a b", .no_creator = 1, .no_date = 1 };
	struct mf_bbuf a = { 0 }, b = { 0 };
	struct mf_bval root;
	struct mf_berr err;
	unsigned char ih1[20], ih2[20], ih3[20];
	char msg[256];

	if (!null)
		null = fopen("/dev/null", "w");
	if (mf_meta_rewrite(data, size, &keep, &a, ih1, ih2, null, msg, sizeof msg) < 0)
		abort();
	if (memcmp(ih1, ih2, 20) != 0)
		abort();
	if (strict_ok && mf_bdecode(a.p, a.n, MF_BENC_STRICT, &root, &err) < 0)
		abort();
	mf_bbuf_free(&a);
	a = (struct mf_bbuf){ 0 };
	if (mf_meta_rewrite(data, size, &set, &a, ih1, ih2, null, msg, sizeof msg) < 0)
		abort();
	if (strict_ok && mf_bdecode(a.p, a.n, MF_BENC_STRICT, &root, &err) < 0)
		abort();
	if (mf_meta_rewrite(a.p, a.n, &set, &b, ih2, ih3, NULL, msg, sizeof msg) < 0)
		abort();
	if (b.n != a.n || memcmp(a.p, b.p, a.n) != 0 || memcmp(ih2, ih3, 20) != 0)
		abort();
	mf_bbuf_free(&a);
	mf_bbuf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_bval root;
	struct mf_berr err;
	int strict_ok, lax_ok;

	strict_ok = mf_bdecode(data, size, MF_BENC_STRICT, &root, &err) == 0;
	lax_ok = mf_bdecode(data, size, 0, &root, &err) == 0;
	/* Strict input is a subset of what the default mode accepts. */
	if (strict_ok && !lax_ok)
		abort();
	if (strict_ok) {
		/* Strict bencode is canonical: writing it again gives the same bytes. */
		struct mf_bbuf b = { 0 };

		mf_bput_value(&b, &root);
		if (!b.oom && (b.n != size || memcmp(b.p, data, size) != 0))
			abort();
		mf_bbuf_free(&b);
	}
	if (lax_ok) {
		struct mf_tinfo ti;

		if (mf_tinfo_parse(data, size, 0, &ti, &err) == 0) {
			if (mf_tinfo_describe(&ti, &err) == 0)
				rewrite(data, size, strict_ok);
			mf_tinfo_free(&ti);
		}
	}
	return 0;
}
