/* Unit tests for lib/audio: MP4 boxes and MP3 frames built in memory (codecs ffmpeg here
 * cannot make: HE-AAC, HE-AACv2, xHE-AAC), edit lists, chpl chapters, and every truncation. */
#include "harness.h"
#include "audio.h"
#include "json.h"

#include <stdint.h>
#include <stdlib.h>

struct bb {
	uint8_t	buf[65536];
	size_t	len;
	size_t	stack[16];
	int	depth;
};

static void
u8(struct bb *b, unsigned v)
{
	b->buf[b->len++] = (uint8_t)v;
}

static void
be16(struct bb *b, unsigned v)
{
	u8(b, v >> 8);
	u8(b, v);
}

static void
be32(struct bb *b, uint32_t v)
{
	be16(b, v >> 16);
	be16(b, v & 0xffff);
}

static void
bytes(struct bb *b, const void *p, size_t n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void
zeros(struct bb *b, size_t n)
{
	memset(b->buf + b->len, 0, n);
	b->len += n;
}

static void
open_box(struct bb *b, const char *type)
{
	b->stack[b->depth++] = b->len;
	be32(b, 0);
	bytes(b, type, 4);
}

static void
close_box(struct bb *b)
{
	size_t s = b->stack[--b->depth], n = b->len - s;

	b->buf[s] = (uint8_t)(n >> 24);
	b->buf[s + 1] = (uint8_t)(n >> 16);
	b->buf[s + 2] = (uint8_t)(n >> 8);
	b->buf[s + 3] = (uint8_t)n;
}

/* An M4B with one audio track: sample entry `entry` with child box `cfg` (asc/dec3 bytes),
 * mdhd 44100/1324024, an edit list of 30000 ms (priming 1024), 1293 samples of 100 bytes,
 * and a chpl with two chapters. */
static void
make_mp4(struct bb *b, const char *entry, const char *cfg, const uint8_t *cfgdata, size_t cfglen,
    int with_elst)
{
	memset(b, 0, sizeof *b);
	open_box(b, "ftyp");
	bytes(b, "M4A ", 4);
	be32(b, 0);
	bytes(b, "M4A mp42isom", 12);
	close_box(b);
	open_box(b, "moov");
	open_box(b, "mvhd");
	be32(b, 0);
	be32(b, 0);
	be32(b, 0);
	be32(b, 1000);
	be32(b, 30000);
	zeros(b, 80);
	close_box(b);
	open_box(b, "trak");
	open_box(b, "tkhd");
	be32(b, 3);
	be32(b, 0);
	be32(b, 0);
	be32(b, 1);
	zeros(b, 68);
	close_box(b);
	if (with_elst) {
		open_box(b, "edts");
		open_box(b, "elst");
		be32(b, 0);
		be32(b, 1);
		be32(b, 30000);
		be32(b, 1024);
		be32(b, 0x10000);
		close_box(b);
		close_box(b);
	}
	open_box(b, "mdia");
	open_box(b, "mdhd");
	be32(b, 0);
	be32(b, 0);
	be32(b, 0);
	be32(b, 44100);
	be32(b, 1324024);
	be32(b, 0);
	close_box(b);
	open_box(b, "hdlr");
	be32(b, 0);
	be32(b, 0);
	bytes(b, "soun", 4);
	zeros(b, 13);
	close_box(b);
	open_box(b, "minf");
	open_box(b, "stbl");
	open_box(b, "stsd");
	be32(b, 0);
	be32(b, 1);
	open_box(b, entry);
	zeros(b, 6);
	be16(b, 1);
	zeros(b, 8);
	be16(b, 2);	/* channel count in the entry (the config may say otherwise) */
	be16(b, 16);
	be32(b, 0);
	be32(b, 44100u << 16);
	open_box(b, cfg);
	if (!strcmp(cfg, "esds")) {
		be32(b, 0);
		u8(b, 0x03);
		u8(b, (unsigned)(3 + 2 + 13 + 2 + cfglen));
		be16(b, 1);
		u8(b, 0);
		u8(b, 0x04);
		u8(b, (unsigned)(13 + 2 + cfglen));
		u8(b, 0x40);
		u8(b, 0x15);
		zeros(b, 3);
		be32(b, 70000);
		be32(b, 0);	/* avg bitrate 0: computed from the sample sizes */
		u8(b, 0x05);
		u8(b, (unsigned)cfglen);
	}
	bytes(b, cfgdata, cfglen);
	close_box(b);	/* cfg */
	close_box(b);	/* entry */
	close_box(b);	/* stsd */
	open_box(b, "stsz");
	be32(b, 0);
	be32(b, 100);
	be32(b, 1293);
	close_box(b);
	close_box(b);	/* stbl */
	close_box(b);	/* minf */
	close_box(b);	/* mdia */
	close_box(b);	/* trak */
	open_box(b, "udta");
	open_box(b, "chpl");
	be32(b, 0x01000000);
	be32(b, 0);
	u8(b, 2);
	be32(b, 0);
	be32(b, 0);
	u8(b, 5);
	bytes(b, "Intro", 5);
	be32(b, 0);
	be32(b, 120000000);	/* 12 s in 100 ns units */
	u8(b, 11);
	bytes(b, "Chapter One", 11);
	close_box(b);
	close_box(b);	/* udta */
	close_box(b);	/* moov */
}

static int
read_mem(const struct bb *b, size_t len, struct mf_audio *a, char *err, size_t n)
{
	struct mf_mp4 m;

	mf_mp4_open_mem(&m, b->buf, len);
	return mf_audio_read_src(&m, a, err, n);
}

static void
check_aac(const uint8_t *asc, size_t n, const char *codec, long rate, int channels)
{
	static struct bb b;
	struct mf_audio a;
	char err[200];

	make_mp4(&b, "mp4a", "esds", asc, n, 1);
	CHECK_INT(read_mem(&b, b.len, &a, err, sizeof err), 0);
	CHECK_STR(a.codec, codec);
	CHECK_INT(a.sample_rate, rate);
	CHECK_INT(a.channels, channels);
	CHECK_INT(a.duration_ms, 30000);	/* from the edit list, not the media's 30.023 s */
	CHECK_INT(a.bitrate, (long)(100.0 * 1293 * 8 * 44100 / 1324024 + 0.5));
	CHECK_INT(a.nchapters, 2);
	if (a.nchapters == 2) {
		CHECK_STR(a.chapters[1].title, "Chapter One");
		CHECK_INT(a.chapters[1].start_ms, 12000);
		CHECK_STR(a.chapter_source, "chpl");
	}
	mf_audio_free(&a);
}

TEST(aac_profiles)
{
	static const uint8_t lc[] = { 0x12, 0x10 };		/* AOT 2, 44.1 kHz, stereo */
	static const uint8_t he[] = { 0x2B, 0x92, 0x08 };	/* AOT 5, 22.05 -> 44.1 kHz, stereo */
	static const uint8_t hev2[] = { 0xEB, 0x8A, 0x08 };	/* AOT 29, mono core -> stereo */
	static const uint8_t xhe[] = { 0xF9, 0x46, 0x40 };	/* AOT 42, 48 kHz, stereo */

	check_aac(lc, sizeof lc, "AAC LC", 44100, 2);
	check_aac(he, sizeof he, "HE-AAC", 44100, 2);
	check_aac(hev2, sizeof hev2, "HE-AACv2", 44100, 2);
	check_aac(xhe, sizeof xhe, "xHE-AAC", 48000, 2);
}

TEST(eac3_and_no_edit_list)
{
	static struct bb b;
	/* data_rate 192, 1 substream, fscod 0 (48 kHz), bsid 16, acmod 7 (3/2), lfe 1 */
	static const uint8_t dec3[] = { 0x06, 0x00, 0x20, 0x0F, 0x00 };
	struct mf_audio a;
	char err[200];

	make_mp4(&b, "ec-3", "dec3", dec3, sizeof dec3, 0);
	CHECK_INT(read_mem(&b, b.len, &a, err, sizeof err), 0);
	CHECK_STR(a.codec, "E-AC-3");
	CHECK_INT(a.sample_rate, 48000);
	CHECK_INT(a.channels, 6);
	/* no edit list: the media duration */
	CHECK_INT(a.duration_ms, (long)(1324024 * 1000.0 / 44100 + 0.5));
	mf_audio_free(&a);
}

TEST(every_truncation_fails_cleanly)
{
	static struct bb b;
	static const uint8_t lc[] = { 0x12, 0x10 };
	struct mf_audio a;
	char err[200];
	int ok = 0, bad = 0;

	make_mp4(&b, "mp4a", "esds", lc, sizeof lc, 1);
	for (size_t len = 0; len < b.len; len++) {
		err[0] = '\0';
		if (read_mem(&b, len, &a, err, sizeof err) == 0) {
			ok++;
			mf_audio_free(&a);
		} else {
			bad++;
			CHECK(err[0] != '\0');
		}
	}
	/* The index is at the end, so every cut short of the whole file loses it. */
	CHECK_INT(ok, 0);
	CHECK_INT(bad, (long)b.len);
	CHECK_INT(read_mem(&b, 0, &a, err, sizeof err), -1);
	CHECK_STR(err, "empty file");
}

/* MPEG-1 Layer III, 128 kb/s, 44.1 kHz, stereo: 417-byte frames. */
static void
mp3_frame(struct bb *b, int xing_frames)
{
	size_t start = b->len;

	u8(b, 0xFF);
	u8(b, 0xFB);
	u8(b, 0x90);
	u8(b, 0x00);
	zeros(b, 413);
	if (xing_frames) {
		memcpy(b->buf + start + 36, "Xing", 4);
		b->buf[start + 43] = 1;	/* flags: frames */
		b->buf[start + 44] = (uint8_t)(xing_frames >> 24);
		b->buf[start + 45] = (uint8_t)(xing_frames >> 16);
		b->buf[start + 46] = (uint8_t)(xing_frames >> 8);
		b->buf[start + 47] = (uint8_t)xing_frames;
	}
}

TEST(mp3_xing_and_frame_count)
{
	static struct bb b;
	struct mf_audio a;
	char err[200];

	/* ID3v2.3 tag of 20 bytes (syncsafe size), then a Xing frame saying 100 frames. */
	memset(&b, 0, sizeof b);
	bytes(&b, "ID3\x03\x00\x00\x00\x00\x00\x14", 10);
	zeros(&b, 20);
	mp3_frame(&b, 100);
	for (int i = 0; i < 5; i++)
		mp3_frame(&b, 0);
	CHECK_INT(read_mem(&b, b.len, &a, err, sizeof err), 0);
	CHECK_STR(a.codec, "MP3");
	CHECK_STR(a.container, "MP3");
	CHECK_INT(a.sample_rate, 44100);
	CHECK_INT(a.channels, 2);
	CHECK_INT(a.duration_ms, (long)(100 * 1152 * 1000.0 / 44100 + 0.5));
	mf_audio_free(&a);

	/* No VBR header: 50 frames counted; a cut-off 51st is not. */
	memset(&b, 0, sizeof b);
	for (int i = 0; i < 50; i++)
		mp3_frame(&b, 0);
	u8(&b, 0xFF);
	u8(&b, 0xFB);
	u8(&b, 0x90);
	u8(&b, 0x00);
	zeros(&b, 100);
	CHECK_INT(read_mem(&b, b.len, &a, err, sizeof err), 0);
	CHECK_INT(a.duration_ms, (long)(50 * 1152 * 1000.0 / 44100 + 0.5));
	/* the bytes actually there (these frames carry no padding bytes): 127.7 kb/s */
	CHECK(a.bitrate > 127500 && a.bitrate < 128000);
	mf_audio_free(&a);

	/* Not audio at all. */
	memset(&b, 0, sizeof b);
	bytes(&b, "\x89PNG\r\n\x1a\n0123456789abcdef", 24);
	CHECK_INT(read_mem(&b, b.len, &a, err, sizeof err), -1);
	CHECK(strstr(err, "not an MP4 or MP3") != NULL);
}

TEST(json_shape)
{
	static struct bb b;
	static const uint8_t lc[] = { 0x12, 0x10 };
	struct mf_audio a;
	char err[200];
	cJSON *j;

	make_mp4(&b, "mp4a", "esds", lc, sizeof lc, 1);
	CHECK_INT(read_mem(&b, b.len, &a, err, sizeof err), 0);
	j = mf_audio_json(&a);
	CHECK(j != NULL);
	CHECK_STR(mf_json_str(j, "codec"), "AAC LC");
	CHECK(cJSON_IsArray(cJSON_GetObjectItem(j, "chapters")));
	CHECK(cJSON_IsObject(cJSON_GetObjectItem(j, "tags")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "cover")));
	cJSON_Delete(j);
	mf_audio_free(&a);
}

int
main(void)
{
	RUN(aac_profiles);
	RUN(eac3_and_no_edit_list);
	RUN(every_truncation_fails_cleanly);
	RUN(mp3_xing_and_frame_count);
	RUN(json_shape);
	return DONE();
}
