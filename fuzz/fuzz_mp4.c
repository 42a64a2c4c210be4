/* libFuzzer target: the MP4 box walker, path lookup, bounded reads and ilst tags. */
#include <stddef.h>
#include <stdint.h>

#include "mp4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_tag(const struct mf_mp4_tag *tag, void *ctx)
{
	size_t *n = ctx;

	*n += tag->len + (tag->key[0] != '\0');
	return 0;
}

/* Walk every box to a bounded depth, as a reader of any path would. */
static void
walk(const struct mf_mp4 *m, const struct mf_box *parent, int depth)
{
	struct mf_box_iter it;
	struct mf_box b;
	uint8_t buf[64];
	uint8_t v;
	uint32_t fl;

	if (depth > 8)
		return;
	if (parent == NULL)
		mf_mp4_iter(&it, m, 0, m->size);
	else
		mf_mp4_iter_box(&it, m, parent);
	while (mf_mp4_next(&it, &b) == 1) {
		(void)mf_mp4_read(m, &b, 3, buf, sizeof(buf));
		(void)mf_mp4_fullbox(m, &b, &v, &fl);
		walk(m, &b, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_mp4 m;
	struct mf_box b;
	char val[64];
	size_t n = 0;

	mf_mp4_open_mem(&m, data, size);
	walk(&m, NULL, 0);
	(void)mf_mp4_find(&m, NULL, "moov/trak/mdia/minf/stbl/stsd", &b);
	(void)mf_mp4_tags(&m, count_tag, &n);
	(void)mf_mp4_tag(&m, "----:com.pilabor.tone:AUDIBLE_ASIN", val, sizeof(val));
	return 0;
}
