/* libFuzzer target: the ID3v2 reader (all versions, unsynchronisation, encodings). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "id3.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every value handed out must be NUL-terminated, of the stated length, and UTF-8;
 * frames that are not text come without a value. */
static int
check(const struct mf_id3_frame *f, void *ctx)
{
	(void)ctx;
	if (f->value == NULL)
		return f->len != 0 ? (__builtin_trap(), 0) : 0;
	if (strlen(f->value) != f->len || f->len > MF_ID3_VALUE_MAX ||
	    !mf_utf8_valid(f->value, f->len))
		__builtin_trap();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_mp4 m;
	char buf[32];

	mf_mp4_open_mem(&m, data, size);
	(void)mf_id3_tags(&m, check, NULL);
	(void)mf_id3_tag(&m, "TXXX:AUDIBLE_ASIN", buf, sizeof(buf));
	return 0;
}
