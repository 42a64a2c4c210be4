/* Unit tests for lib/mp4 (box walker, ilst tags) and lib/id3, on hand-built bytes. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "id3.h"
#include "mp4.h"

/* A byte builder. */
struct bb {
	uint8_t	b[8192];
	size_t	n;
};

static void
put(struct bb *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
put32(struct bb *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(b, x, 4);
}

/* Open a box: returns the offset of its size field, patched by end(). */
static size_t
open_box(struct bb *b, const char *type)
{
	size_t at = b->n;

	put32(b, 0);
	put(b, type, 4);
	return at;
}

static void
end_box(struct bb *b, size_t at)
{
	uint32_t v = (uint32_t)(b->n - at);

	b->b[at] = (uint8_t)(v >> 24);
	b->b[at + 1] = (uint8_t)(v >> 16);
	b->b[at + 2] = (uint8_t)(v >> 8);
	b->b[at + 3] = (uint8_t)v;
}

static void
text_item(struct bb *b, const char *key, const char *val, uint32_t type)
{
	size_t it = open_box(b, key), d = open_box(b, "data");

	put32(b, type);
	put32(b, 0);
	put(b, val, strlen(val));
	end_box(b, d);
	end_box(b, it);
}

static void
freeform(struct bb *b, const char *mean, const char *name, const char *val)
{
	size_t it = open_box(b, "----"), x;

	x = open_box(b, "mean");
	put32(b, 0);
	put(b, mean, strlen(mean));
	end_box(b, x);
	x = open_box(b, "name");
	put32(b, 0);
	put(b, name, strlen(name));
	end_box(b, x);
	x = open_box(b, "data");
	put32(b, 1);
	put32(b, 0);
	put(b, val, strlen(val));
	end_box(b, x);
	end_box(b, it);
}

/* ftyp, then moov/udta/meta(ilst), meta a full box or QuickTime-style. */
static void
make_m4b(struct bb *b, int iso_meta)
{
	size_t moov, udta, meta, hdlr, ilst, it, d;
	uint8_t bin[3] = { 0, 7, 0xff };

	memset(b, 0, sizeof(*b));
	d = open_box(b, "ftyp");
	put(b, "M4A \0\0\0\0", 8);
	end_box(b, d);
	moov = open_box(b, "moov");
	udta = open_box(b, "udta");
	meta = open_box(b, "meta");
	if (iso_meta)
		put32(b, 0);
	hdlr = open_box(b, "hdlr");
	put(b, "\0\0\0\0\0\0\0\0mdirappl\0\0\0\0\0\0\0\0\0", 21);
	end_box(b, hdlr);
	ilst = open_box(b, "ilst");
	text_item(b, "\251nam", "Project Hail Mary", 1);
	text_item(b, "CDEK", "B08G9PRS1K", 1);
	freeform(b, "com.pilabor.tone", "AUDIBLE_ASIN", "B08G9PRS1K");
	freeform(b, "com.pilabor.tone", "SERIES", "Some Series");
	it = open_box(b, "covr");
	d = open_box(b, "data");
	put32(b, 13);
	put32(b, 0);
	put(b, bin, 3);
	end_box(b, d);
	end_box(b, it);
	it = open_box(b, "tmpo");
	d = open_box(b, "data");
	put32(b, 21);
	put32(b, 0);
	put(b, "\xff\xfe", 2);
	end_box(b, d);
	end_box(b, it);
	end_box(b, ilst);
	end_box(b, meta);
	end_box(b, udta);
	end_box(b, moov);
}

struct seen {
	char	keys[512];
	int	binary;
};

static int
collect(const struct mf_mp4_tag *t, void *ctx)
{
	struct seen *s = ctx;
	size_t l = strlen(s->keys);

	snprintf(s->keys + l, sizeof(s->keys) - l, "%s=%s;", t->key, t->value ? t->value : "-");
	if (t->value == NULL)
		s->binary += (int)t->binary_len;
	return 0;
}

TEST(ilst_tags_iso_and_quicktime_meta)
{
	struct bb b;
	struct mf_mp4 m;
	struct seen s;
	char v[64];
	int iso;

	for (iso = 0; iso <= 1; iso++) {
		make_m4b(&b, iso);
		mf_mp4_open_mem(&m, b.b, b.n);
		memset(&s, 0, sizeof(s));
		CHECK_INT(mf_mp4_tags(&m, collect, &s), 0);
		CHECK_STR(s.keys, "\251nam=Project Hail Mary;CDEK=B08G9PRS1K;"
		    "----:com.pilabor.tone:AUDIBLE_ASIN=B08G9PRS1K;"
		    "----:com.pilabor.tone:SERIES=Some Series;covr=-;tmpo=-2;");
		CHECK_INT(s.binary, 3);
		CHECK_INT(mf_mp4_tag(&m, "----:com.pilabor.tone:SERIES", v, sizeof(v)), 1);
		CHECK_STR(v, "Some Series");
		CHECK_INT(mf_mp4_tag(&m, "CDEK", v, 5), 1);
		CHECK_STR(v, "B08G");	/* cut to the buffer */
		CHECK_INT(mf_mp4_tag(&m, "asin", v, sizeof(v)), 0);
	}
}

TEST(box_sizes_largesize_and_to_end)
{
	struct bb b;
	struct mf_mp4 m;
	struct mf_box_iter it;
	struct mf_box x;
	uint8_t buf[8];

	memset(&b, 0, sizeof(b));
	/* 64-bit largesize box of 16 + 4 bytes. */
	put32(&b, 1);
	put(&b, "free", 4);
	put32(&b, 0);
	put32(&b, 20);
	put(&b, "abcd", 4);
	/* A size-0 box runs to the end. */
	put32(&b, 0);
	put(&b, "mdat", 4);
	put(&b, "0123456789", 10);
	mf_mp4_open_mem(&m, b.b, b.n);
	mf_mp4_iter(&it, &m, 0, m.size);
	CHECK_INT(mf_mp4_next(&it, &x), 1);
	CHECK_STR(x.type, "free");
	CHECK_INT(x.payload - x.off, 16);
	CHECK_INT(MF_BOX_PAYLOAD(&x), 4);
	CHECK_INT(mf_mp4_read(&m, &x, 0, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "abcd", 4) == 0);
	CHECK_INT(mf_mp4_next(&it, &x), 1);
	CHECK_STR(x.type, "mdat");
	CHECK_INT(x.end, b.n);
	/* Bounded read: cap and skip respected, never past the box. */
	CHECK_INT(mf_mp4_read(&m, &x, 8, buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "89", 2) == 0);
	CHECK_INT(mf_mp4_read(&m, &x, 10, buf, sizeof(buf)), 0);
	CHECK_INT(mf_mp4_next(&it, &x), 0);
}

TEST(malformed_boxes_stop_the_walk)
{
	struct bb b;
	struct mf_mp4 m;
	struct mf_box_iter it;
	struct mf_box x;
	size_t moov;

	memset(&b, 0, sizeof(b));
	put32(&b, 4);	/* smaller than its header */
	put(&b, "junk", 4);
	mf_mp4_open_mem(&m, b.b, b.n);
	mf_mp4_iter(&it, &m, 0, m.size);
	CHECK_INT(mf_mp4_next(&it, &x), -1);
	CHECK_INT(mf_mp4_next(&it, &x), -1);	/* stays stopped */

	memset(&b, 0, sizeof(b));
	moov = open_box(&b, "moov");
	put32(&b, 4000);	/* a child larger than its parent */
	put(&b, "udta", 4);
	end_box(&b, moov);
	mf_mp4_open_mem(&m, b.b, b.n);
	CHECK_INT(mf_mp4_find(&m, NULL, "moov/udta", &x), -1);
	CHECK_INT(mf_mp4_find(&m, NULL, "moov/trak", &x), -1);
	CHECK_INT(mf_mp4_find(&m, NULL, "ftyp", &x), 0);
	/* Largesize pointing past the end of the source. */
	memset(&b, 0, sizeof(b));
	put32(&b, 1);
	put(&b, "mdat", 4);
	put32(&b, 0xffffffff);
	put32(&b, 0xffffffff);
	mf_mp4_open_mem(&m, b.b, b.n);
	mf_mp4_iter(&it, &m, 0, m.size);
	CHECK_INT(mf_mp4_next(&it, &x), -1);
	/* A 3-byte tail is padding, not an error. */
	memset(&b, 0, sizeof(b));
	put(&b, "\0\0\0", 3);
	mf_mp4_open_mem(&m, b.b, b.n);
	mf_mp4_iter(&it, &m, 0, m.size);
	CHECK_INT(mf_mp4_next(&it, &x), 0);
	CHECK_INT(mf_mp4_find(&m, NULL, "moov/udt", &x), -1);	/* not a four-byte type */
}

TEST(file_source_reads_with_pread)
{
	struct bb b;
	struct mf_mp4 m;
	char path[] = "/tmp/test_mp4.XXXXXX", v[32];
	int fd = mkstemp(path);

	make_m4b(&b, 1);
	CHECK(fd >= 0);
	CHECK(write(fd, b.b, b.n) == (ssize_t)b.n);
	CHECK_INT(mf_mp4_open(&m, fd, 0), 0);
	CHECK_INT(m.size, b.n);
	CHECK_INT(mf_mp4_tag(&m, "----:com.pilabor.tone:AUDIBLE_ASIN", v, sizeof(v)), 1);
	CHECK_STR(v, "B08G9PRS1K");
	/* A file cut short: the walk fails cleanly, nothing is read past the end. */
	CHECK(ftruncate(fd, (off_t)(b.n - 5)) == 0);
	CHECK_INT(mf_mp4_open(&m, fd, 0), 0);
	CHECK_INT(mf_mp4_tag(&m, "CDEK", v, sizeof(v)), -1);
	close(fd);
	unlink(path);
}

/* ---- ID3 ---- */

static void
syncsafe(struct bb *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 21 & 0x7f), (uint8_t)(v >> 14 & 0x7f),
	    (uint8_t)(v >> 7 & 0x7f), (uint8_t)(v & 0x7f) };

	put(b, x, 4);
}

static void
frame(struct bb *b, int ver, const char *id, uint8_t flags2, const void *body, size_t n)
{
	put(b, id, 4);
	if (ver == 4)
		syncsafe(b, (uint32_t)n);
	else
		put32(b, (uint32_t)n);
	put(b, "\0", 1);
	put(b, &flags2, 1);
	put(b, body, n);
}

static void
id3_header(struct bb *b, int ver, uint8_t flags)
{
	memset(b, 0, sizeof(*b));
	put(b, "ID3", 3);
	b->b[b->n++] = (uint8_t)ver;
	b->b[b->n++] = 0;
	b->b[b->n++] = flags;
	syncsafe(b, 0);
}

static void
id3_size(struct bb *b)
{
	uint32_t v = (uint32_t)(b->n - 10);

	b->b[6] = (uint8_t)(v >> 21 & 0x7f);
	b->b[7] = (uint8_t)(v >> 14 & 0x7f);
	b->b[8] = (uint8_t)(v >> 7 & 0x7f);
	b->b[9] = (uint8_t)(v & 0x7f);
}

static int
collect3(const struct mf_id3_frame *f, void *ctx)
{
	char *s = ctx;
	size_t l = strlen(s);

	if (f->value == NULL)
		snprintf(s + l, 512 - l, "%s#%zu;", f->id, f->binary_len);
	else
		snprintf(s + l, 512 - l, "%s=%s;", f->id, f->value);
	return 0;
}

TEST(id3_v24_encodings_and_frame_unsync)
{
	struct bb b;
	struct mf_mp4 m;
	char seen[512] = "", v[32];
	/* UTF-16 with BOM: "Zoë" */
	static const uint8_t u16[] = { 1, 0xff, 0xfe, 'Z', 0, 'o', 0, 0xeb, 0 };
	/* TXXX, UTF-8: description AUDIBLE_ASIN, value */
	static const char txxx[] = "\3AUDIBLE_ASIN\0B0MP3ONLY1";
	/* Two values (v2.4 NUL separator), Latin-1 with é. */
	static const uint8_t two[] = { 0, 'A', 0, 'B', 0xe9 };
	/* Unsynchronised frame body with a data length indicator: FF 00 -> FF (Latin-1 ÿ). */
	static const uint8_t us[] = { 0, 0, 0, 3, 0, 'x', 0xff, 0 };

	id3_header(&b, 4, 0);
	frame(&b, 4, "TIT2", 0, u16, sizeof(u16));
	frame(&b, 4, "TXXX", 0, txxx, sizeof(txxx) - 1);
	frame(&b, 4, "TPE1", 0, two, sizeof(two));
	frame(&b, 4, "APIC", 0, "\0image/jpeg\0\3\0\xff\xd8", 16);
	frame(&b, 4, "TCOM", 0x03, us, sizeof(us));
	put(&b, "\0\0\0\0\0\0\0\0\0\0", 10);	/* padding */
	id3_size(&b);
	put(&b, "\xff\xfb audio", 8);
	mf_mp4_open_mem(&m, b.b, b.n);
	CHECK_INT(mf_id3_tags(&m, collect3, seen), 0);
	CHECK_STR(seen, "TIT2=Zoë;TXXX:AUDIBLE_ASIN=B0MP3ONLY1;TPE1=A; Bé;APIC#16;TCOM=xÿ;");
	CHECK_INT(mf_id3_tag(&m, "TXXX:AUDIBLE_ASIN", v, sizeof(v)), 1);
	CHECK_STR(v, "B0MP3ONLY1");
	CHECK_INT(mf_id3_tag(&m, "TALB", v, sizeof(v)), 0);
}

TEST(id3_v23_whole_tag_unsync_and_v22)
{
	struct bb b, raw;
	struct mf_mp4 m;
	char seen[512] = "";
	size_t i;
	/* UTF-16BE-with-BOM "ÿ" (00 FF) makes an FF that unsynchronisation must protect. */
	static const uint8_t t[] = { 1, 0xfe, 0xff, 0x00, 0xff };

	memset(&raw, 0, sizeof(raw));
	frame(&raw, 3, "TIT2", 0, t, sizeof(t));
	frame(&raw, 3, "TPE1", 0, "\0Ann", 4);
	id3_header(&b, 3, 0x80);
	for (i = 0; i < raw.n; i++) {
		b.b[b.n++] = raw.b[i];
		if (raw.b[i] == 0xff)
			b.b[b.n++] = 0;
	}
	id3_size(&b);
	mf_mp4_open_mem(&m, b.b, b.n);
	CHECK_INT(mf_id3_tags(&m, collect3, seen), 0);
	CHECK_STR(seen, "TIT2=ÿ;TPE1=Ann;");

	/* v2.2: three-character ids, mapped to v2.3 names. */
	seen[0] = '\0';
	memset(&b, 0, sizeof(b));
	put(&b, "ID3\2\0\0\0\0\0\0", 10);
	put(&b, "TT2\0\0\4\0abc", 10);
	put(&b, "TXX\0\0\5\0k\0vv", 11);
	put(&b, "PIC\0\0\2xy", 8);
	id3_size(&b);
	mf_mp4_open_mem(&m, b.b, b.n);
	CHECK_INT(mf_id3_tags(&m, collect3, seen), 0);
	CHECK_STR(seen, "TIT2=abc;TXXX:k=vv;APIC#2;");
}

TEST(id3_malformed)
{
	struct bb b;
	struct mf_mp4 m;
	char seen[512] = "";

	/* Not a tag at all. */
	mf_mp4_open_mem(&m, "\xff\xfb\x90\x00", 4);
	CHECK_INT(mf_id3_tags(&m, collect3, seen), 0);
	/* A size byte with the high bit set is not syncsafe. */
	mf_mp4_open_mem(&m, "ID3\4\0\0\x80\0\0\0", 10);
	CHECK_INT(mf_id3_tags(&m, collect3, seen), -1);
	/* A frame claiming more bytes than the tag: frames before it count, then stop. */
	id3_header(&b, 4, 0);
	frame(&b, 4, "TIT2", 0, "\0ok", 3);
	put(&b, "TPE1", 4);
	syncsafe(&b, 5000);
	put(&b, "\0\0\0bad", 6);
	id3_size(&b);
	mf_mp4_open_mem(&m, b.b, b.n);
	CHECK_INT(mf_id3_tags(&m, collect3, seen), 0);
	CHECK_STR(seen, "TIT2=ok;");
	/* A tag header claiming more than the file holds: read what is there. */
	seen[0] = '\0';
	b.b[6] = 0x7f;
	mf_mp4_open_mem(&m, b.b, b.n);
	CHECK_INT(mf_id3_tags(&m, collect3, seen), 0);
	CHECK_STR(seen, "TIT2=ok;");
	/* Invalid UTF-8 in a UTF-8 frame becomes U+FFFD. */
	seen[0] = '\0';
	id3_header(&b, 4, 0);
	frame(&b, 4, "TIT2", 0, "\3a\xc3(", 4);
	id3_size(&b);
	mf_mp4_open_mem(&m, b.b, b.n);
	CHECK_INT(mf_id3_tags(&m, collect3, seen), 0);
	CHECK_STR(seen, "TIT2=a\xef\xbf\xbd(;");
}

int
main(void)
{
	RUN(ilst_tags_iso_and_quicktime_meta);
	RUN(box_sizes_largesize_and_to_end);
	RUN(malformed_boxes_stop_the_walk);
	RUN(file_source_reads_with_pread);
	RUN(id3_v24_encodings_and_frame_unsync);
	RUN(id3_v23_whole_tag_unsync_and_v22);
	RUN(id3_malformed);
	return DONE();
}
