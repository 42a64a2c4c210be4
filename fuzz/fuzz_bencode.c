/* libFuzzer target for lib/bencode and the torrent reader built on it. */
#include "bencode.h"
#include "torrent.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
			mf_tinfo_describe(&ti, &err);
			mf_tinfo_free(&ti);
		}
	}
	return 0;
}
