/* audio: facts about an audiobook file (MP4/M4B or MP3) read from its own bytes. */
#include "audio.h"
#include "clock.h"
#include "html.h"
#include "id3.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_TRAKS	16
#define MAX_TAGS	64

/* ---- small helpers ---- */

/* A count (ms, bit/s) from a double, rounded and clamped: damaged files ask for anything. */
static int64_t
clamp64(double d)
{
	if (!(d >= 0))
		return 0;
	if (d > 1e15)
		return (int64_t)1e15;
	return (int64_t)(d + 0.5);
}

static void
fail(char *err, size_t n, const char *what)
{
	if (n)
		snprintf(err, n, "%s", what);
}

/* A valid UTF-8 copy of bytes (invalid ones shown as \xNN). */
static char *
utf8_copy(const char *s, size_t len)
{
	char *r;

	if (mf_utf8_valid(s, len)) {
		if ((r = malloc(len + 1))) {
			memcpy(r, s, len);
			r[len] = '\0';
		}
		return r;
	}
	return mf_utf8_display(s, len);
}

static int
add_chapter(struct mf_audio *a, int64_t start_ms, const char *title, size_t len)
{
	struct mf_audio_chapter *c;

	if (a->nchapters >= MF_AUDIO_MAX_CHAPTERS)
		return 0;
	if (!(c = realloc(a->chapters, (a->nchapters + 1) * sizeof *c)))
		return -1;
	a->chapters = c;
	c[a->nchapters].start_ms = start_ms;
	if (!(c[a->nchapters].title = utf8_copy(title, len)))
		return -1;
	a->nchapters++;
	return 0;
}

static void
drop_chapters(struct mf_audio *a)
{
	for (size_t i = 0; i < a->nchapters; i++)
		free(a->chapters[i].title);
	free(a->chapters);
	a->chapters = NULL;
	a->nchapters = 0;
}

void
mf_audio_free(struct mf_audio *a)
{
	drop_chapters(a);
	cJSON_Delete(a->tags);
	a->tags = NULL;
}

static void
put_tag(struct mf_audio *a, const char *name, const char *value, size_t len)
{
	char *v;

	if (!a->tags || !value || !len || cJSON_GetArraySize(a->tags) >= MAX_TAGS ||
	    cJSON_GetObjectItemCaseSensitive(a->tags, name))
		return;
	if ((v = utf8_copy(value, len))) {
		cJSON_AddStringToObject(a->tags, name, v);
		free(v);
	}
}

/* A tag's key in the file (ilst atom, ID3 frame id) and the friendly name in meta.audio.tags. */
struct tag_name {
	const char *key, *name;
};

/*
 * Store a tag: key looked up in table (n entries) for its friendly name, or, without a
 * table, key is the name itself (freeform ----:MEAN:NAME and TXXX:NAME tags).
 */
static void
put_named(struct mf_audio *a, const struct tag_name *table, size_t n, const char *key,
    const char *value, size_t len)
{
	if (!table) {
		if (*key)
			put_tag(a, key, value, len);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, table[i].key))
			put_tag(a, table[i].name, value, len);
}

/* A big-endian bit reader over a bounded buffer; reads past the end give zeros + err. */
struct bits {
	const uint8_t	*p;
	size_t		len, pos;	/* pos in bits */
	int		err;
};

static uint32_t
getbits(struct bits *b, int n)
{
	uint32_t v = 0;

	while (n-- > 0) {
		if (b->pos >= b->len * 8) {
			b->err = 1;
			v <<= 1;
			continue;
		}
		v = v << 1 | ((b->p[b->pos / 8] >> (7 - b->pos % 8)) & 1);
		b->pos++;
	}
	return v;
}

/* ---- MP4 ---- */

struct trak {
	uint32_t	id;
	char		handler[5];
	uint32_t	timescale;
	uint64_t	media_dur;
	double		edit_dur;	/* seconds of presentation per the edit list; -1 none */
	int		has_stbl;
	struct mf_box	stbl;
	uint32_t	chap[8];	/* tref/chap track ids */
	int		nchap;
};

/* Read the whole payload of b (at most cap bytes) into a malloc'd buffer. */
static uint8_t *
payload(const struct mf_mp4 *m, const struct mf_box *b, size_t cap, size_t *len)
{
	uint64_t want = MF_BOX_PAYLOAD(b);
	uint8_t *buf;
	ssize_t got;

	if (want > cap)
		want = cap;
	if (!(buf = malloc(want ? want : 1)))
		return NULL;
	if ((got = mf_mp4_read(m, b, 0, buf, want)) < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)got;
	return buf;
}

/* mvhd/mdhd: timescale and duration. 0, or -1 when short. */
static int
read_hd(const struct mf_mp4 *m, const struct mf_box *b, uint32_t *ts, uint64_t *dur)
{
	uint8_t p[32];
	ssize_t n = mf_mp4_read(m, b, 0, p, sizeof p);

	if (n < 24)
		return -1;
	if (p[0] == 1) {
		if (n < 32)
			return -1;
		*ts = mf_be32(p + 20);
		*dur = mf_be64(p + 24);
	} else {
		*ts = mf_be32(p + 12);
		*dur = mf_be32(p + 16);
	}
	return 0;
}

/* Sum of the edit list's presentation, in movie timescale units; -1 when unusable. */
static double
read_elst(const struct mf_mp4 *m, const struct mf_box *b, uint32_t movie_ts)
{
	uint8_t hdr[8], e[20];
	uint32_t count;
	int v1;
	double sum = 0;

	if (!movie_ts || mf_mp4_read(m, b, 0, hdr, 8) != 8)
		return -1;
	v1 = hdr[0] == 1;
	count = mf_be32(hdr + 4);
	if (count == 0 || count > 1024)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		size_t es = v1 ? 20 : 12;
		uint64_t seg;
		int64_t media;

		if (mf_mp4_read(m, b, 8 + (uint64_t)i * es, e, es) != (ssize_t)es)
			return -1;
		seg = v1 ? mf_be64(e) : mf_be32(e);
		media = v1 ? (int64_t)mf_be64(e + 8) : (int32_t)mf_be32(e + 4);
		if (media != -1)	/* an empty edit only delays the start */
			sum += (double)seg;
	}
	return sum / movie_ts;
}

static int
read_trak(const struct mf_mp4 *m, const struct mf_box *trak, uint32_t movie_ts, struct trak *t)
{
	struct mf_box b, c;
	struct mf_box_iter it;
	uint8_t p[24];
	int r;

	memset(t, 0, sizeof *t);
	t->edit_dur = -1;
	if ((r = mf_mp4_find(m, trak, "tkhd", &b)) == 1) {
		uint8_t v;
		uint32_t fl;

		if (mf_mp4_fullbox(m, &b, &v, &fl) == 0 &&
		    mf_mp4_read(m, &b, 0, p, 24) == 24)
			t->id = v == 1 ? mf_be32(p + 20) : mf_be32(p + 12);
	} else if (r < 0) {
		return -1;
	}
	if (mf_mp4_find(m, trak, "mdia/hdlr", &b) == 1 && mf_mp4_read(m, &b, 0, p, 12) == 12) {
		memcpy(t->handler, p + 8, 4);
		t->handler[4] = '\0';
	}
	if (mf_mp4_find(m, trak, "mdia/mdhd", &b) == 1)
		read_hd(m, &b, &t->timescale, &t->media_dur);
	if (mf_mp4_find(m, trak, "edts/elst", &b) == 1)
		t->edit_dur = read_elst(m, &b, movie_ts);
	if ((r = mf_mp4_find(m, trak, "mdia/minf/stbl", &t->stbl)) == 1)
		t->has_stbl = 1;
	else if (r < 0)
		return -1;
	if (mf_mp4_find(m, trak, "tref", &b) == 1) {
		mf_mp4_iter_box(&it, m, &b);
		while (mf_mp4_next(&it, &c) == 1) {
			if (strcmp(c.type, "chap") != 0)
				continue;
			for (uint64_t o = 0; o + 4 <= MF_BOX_PAYLOAD(&c) && t->nchap < 8; o += 4)
				if (mf_mp4_read(m, &c, o, p, 4) == 4)
					t->chap[t->nchap++] = mf_be32(p);
		}
	}
	return 0;
}

/* Length of an MPEG-4 descriptor (up to four 7-bit bytes). */
static int
desc_len(const uint8_t *p, size_t n, size_t *i, uint32_t *len)
{
	*len = 0;
	for (int k = 0; k < 4; k++) {
		if (*i >= n)
			return -1;
		*len = *len << 7 | (p[*i] & 0x7f);
		if (!(p[(*i)++] & 0x80))
			return 0;
	}
	return 0;
}

static const long aac_rates[16] = {
	96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050,
	16000, 12000, 11025, 8000, 7350, 0, 0, 0
};

static uint32_t
aot(struct bits *b)
{
	uint32_t t = getbits(b, 5);

	return t == 31 ? 32 + getbits(b, 6) : t;
}

static long
asc_rate(struct bits *b)
{
	uint32_t i = getbits(b, 4);

	return i == 15 ? (long)getbits(b, 24) : aac_rates[i];
}

/* AudioSpecificConfig: codec name, sample rate, channels. */
static void
parse_asc(const uint8_t *p, size_t n, struct mf_audio *a)
{
	static const int chans[8] = { 0, 1, 2, 3, 4, 5, 6, 8 };
	struct bits b = { p, n, 0, 0 };
	uint32_t t = aot(&b), cc;
	long rate = asc_rate(&b), ext = 0;

	cc = getbits(&b, 4);
	if (t == 5 || t == 29) {	/* explicit SBR (HE-AAC) / PS (HE-AACv2) */
		ext = asc_rate(&b);
		aot(&b);
	}
	if (b.err)
		return;
	switch (t) {
	case 1: snprintf(a->codec, sizeof a->codec, "AAC Main"); break;
	case 2: snprintf(a->codec, sizeof a->codec, "AAC LC"); break;
	case 4: snprintf(a->codec, sizeof a->codec, "AAC LTP"); break;
	case 5: snprintf(a->codec, sizeof a->codec, "HE-AAC"); break;
	case 29: snprintf(a->codec, sizeof a->codec, "HE-AACv2"); break;
	case 23: snprintf(a->codec, sizeof a->codec, "AAC LD"); break;
	case 39: snprintf(a->codec, sizeof a->codec, "AAC ELD"); break;
	case 42: snprintf(a->codec, sizeof a->codec, "xHE-AAC"); break;
	default: snprintf(a->codec, sizeof a->codec, "AAC (object type %u)", (unsigned)t); break;
	}
	if (ext)
		rate = ext;
	if (rate)
		a->sample_rate = rate;
	if (cc < 8 && chans[cc])
		a->channels = t == 29 && chans[cc] == 1 ? 2 : chans[cc];
}

/* esds: object type and AudioSpecificConfig. */
static void
parse_esds(const uint8_t *p, size_t n, struct mf_audio *a)
{
	size_t i = 4;	/* version and flags */
	uint32_t len;

	if (i >= n || p[i++] != 0x03 || desc_len(p, n, &i, &len) || i + 3 > n)
		return;
	{
		uint8_t fl = p[i + 2];

		i += 3;
		if (fl & 0x80)
			i += 2;
		if (fl & 0x40) {
			if (i >= n)
				return;
			i += 1 + p[i];
		}
		if (fl & 0x20)
			i += 2;
	}
	if (i >= n || p[i++] != 0x04 || desc_len(p, n, &i, &len) || i + 13 > n)
		return;
	{
		uint8_t oti = p[i];
		uint32_t avg = mf_be32(p + i + 9);

		i += 13;
		if (avg)
			a->bitrate = avg;
		if (oti == 0x69 || oti == 0x6B) {
			snprintf(a->codec, sizeof a->codec, "MP3");
			return;
		}
		if (oti != 0x40 && oti != 0x66 && oti != 0x67 && oti != 0x68)
			return;
	}
	if (i >= n || p[i++] != 0x05 || desc_len(p, n, &i, &len) || i >= n)
		return;
	parse_asc(p + i, len < n - i ? len : n - i, a);
}

static const int ac3_chans[8] = { 2, 1, 2, 3, 3, 4, 4, 5 };
static const long ac3_rates[4] = { 48000, 44100, 32000, 0 };

static void
parse_dac3(const uint8_t *p, size_t n, struct mf_audio *a, int eac3)
{
	struct bits b = { p, n, 0, 0 };
	uint32_t fscod, acmod, lfe, rate;

	if (eac3) {
		rate = getbits(&b, 13);
		getbits(&b, 3);		/* num_ind_sub - 1 */
		fscod = getbits(&b, 2);
		getbits(&b, 5 + 1 + 1 + 3);	/* bsid, reserved, asvc, bsmod */
		acmod = getbits(&b, 3);
		lfe = getbits(&b, 1);
	} else {
		static const int kbps[19] = { 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192,
		    224, 256, 320, 384, 448, 512, 576, 640 };
		uint32_t brc;

		fscod = getbits(&b, 2);
		getbits(&b, 5 + 3);	/* bsid, bsmod */
		acmod = getbits(&b, 3);
		lfe = getbits(&b, 1);
		brc = getbits(&b, 5);
		rate = brc < 19 ? (uint32_t)kbps[brc] : 0;
	}
	if (b.err)
		return;
	if (ac3_rates[fscod])
		a->sample_rate = ac3_rates[fscod];
	a->channels = ac3_chans[acmod] + (int)lfe;
	if (rate)
		a->bitrate = (long)rate * 1000;
}

/* The first sample entry of an audio track: codec, rate, channels, bitrate. */
static int
read_entry(const struct mf_mp4 *m, const struct trak *t, struct mf_audio *a)
{
	struct mf_box stsd, e, c;
	struct mf_box_iter it;
	uint8_t p[36];
	uint64_t kids;
	int r;

	if ((r = mf_mp4_find(m, &t->stbl, "stsd", &stsd)) != 1)
		return r;
	mf_mp4_iter_box(&it, m, &stsd);
	if ((r = mf_mp4_next(&it, &e)) != 1)
		return r;
	snprintf(a->codec, sizeof a->codec, "%s", e.type);
	if (mf_mp4_read(m, &e, 0, p, 28) != 28)
		return -1;
	a->channels = mf_be16(p + 16);
	a->sample_rate = mf_be32(p + 24) >> 16;
	if (!a->sample_rate)
		a->sample_rate = t->timescale;
	/* QuickTime sound description versions 1 and 2 carry more fields. */
	kids = e.payload + 28 + (mf_be16(p + 8) == 1 ? 16 : mf_be16(p + 8) == 2 ? 36 : 0);
	if (!strcmp(e.type, "ac-3"))
		snprintf(a->codec, sizeof a->codec, "AC-3");
	else if (!strcmp(e.type, "ec-3"))
		snprintf(a->codec, sizeof a->codec, "E-AC-3");
	else if (!strcmp(e.type, "alac"))
		snprintf(a->codec, sizeof a->codec, "ALAC");
	else if (!strcmp(e.type, "fLaC"))
		snprintf(a->codec, sizeof a->codec, "FLAC");
	else if (!strcmp(e.type, "Opus"))
		snprintf(a->codec, sizeof a->codec, "Opus");
	else if (!strcmp(e.type, ".mp3"))
		snprintf(a->codec, sizeof a->codec, "MP3");
	if (kids > e.end)
		return 0;
	mf_mp4_iter(&it, m, kids, e.end);
	while (mf_mp4_next(&it, &c) == 1) {
		uint8_t *buf;
		size_t len;

		if (strcmp(c.type, "esds") && strcmp(c.type, "dac3") && strcmp(c.type, "dec3"))
			continue;
		if (!(buf = payload(m, &c, 4096, &len)))
			return -1;
		if (!strcmp(c.type, "esds"))
			parse_esds(buf, len, a);
		else
			parse_dac3(buf, len, a, !strcmp(c.type, "dec3"));
		free(buf);
	}
	return 0;
}

/* Total bytes of a track's samples (stsz/stz2 fixed or summed); 0 when unknown. */
static uint64_t
sample_bytes(const struct mf_mp4 *m, const struct trak *t)
{
	struct mf_box b;
	uint8_t hdr[12], buf[65536];
	uint64_t total = 0, count, done = 0;

	if (mf_mp4_find(m, &t->stbl, "stsz", &b) != 1 || mf_mp4_read(m, &b, 0, hdr, 12) != 12)
		return 0;
	count = mf_be32(hdr + 8);
	if (mf_be32(hdr + 4))
		return (uint64_t)mf_be32(hdr + 4) * count;
	while (done < count) {
		size_t want = (count - done) * 4 > sizeof buf ? sizeof buf : (size_t)(count - done) * 4;
		ssize_t got = mf_mp4_read(m, &b, 12 + done * 4, buf, want);

		if (got < 4)
			return 0;	/* a short table: no bitrate rather than a wrong one */
		for (ssize_t i = 0; i + 4 <= got; i += 4)
			total += mf_be32(buf + i);
		done += (uint64_t)got / 4;
	}
	return total;
}

/* Read a whole table box (after version/flags and entry count): entries of esz bytes. */
static uint8_t *
table(const struct mf_mp4 *m, const struct mf_box *stbl, const char *type, size_t esz,
    size_t hdr, uint32_t max, uint32_t *count)
{
	struct mf_box b;
	uint8_t h[12];
	uint8_t *buf;

	*count = 0;
	if (mf_mp4_find(m, stbl, type, &b) != 1 || mf_mp4_read(m, &b, 0, h, hdr) != (ssize_t)hdr)
		return NULL;
	*count = mf_be32(h + hdr - 4);
	if (*count > max)
		*count = max;
	if (!(buf = malloc((size_t)*count * esz + 1)))
		return NULL;
	if (mf_mp4_read(m, &b, hdr, buf, (size_t)*count * esz) != (ssize_t)((size_t)*count * esz)) {
		free(buf);
		*count = 0;
		return NULL;
	}
	return buf;
}

/* A chapter title sample: 16-bit length, then UTF-8 or UTF-16 (with a BOM) text. */
static int
text_sample(const struct mf_mp4 *m, uint64_t off, uint32_t size, struct mf_audio *a,
    int64_t start_ms)
{
	uint8_t buf[1026];
	char out[2048];
	size_t n, len, o = 0;

	if (size < 2)
		return add_chapter(a, start_ms, "", 0);
	n = size > sizeof buf ? sizeof buf : size;
	if (mf_mp4_pread(m, off, buf, n) != 0)
		return -1;
	len = mf_be16(buf);
	if (len > n - 2)
		len = n - 2;
	if (len >= 2 && ((buf[2] == 0xFE && buf[3] == 0xFF) || (buf[2] == 0xFF && buf[3] == 0xFE))) {
		int be = buf[2] == 0xFE;

		for (size_t i = 4; i + 1 < 2 + len && o + 4 < sizeof out; i += 2) {
			uint32_t cp = be ? (uint32_t)(buf[i] << 8 | buf[i + 1]) :
			    (uint32_t)(buf[i + 1] << 8 | buf[i]);

			if (cp >= 0xD800 && cp <= 0xDFFF)
				cp = 0xFFFD;	/* pairs are rare in titles: shown as U+FFFD */
			if (cp < 0x80) {
				out[o++] = (char)cp;
			} else if (cp < 0x800) {
				out[o++] = (char)(0xC0 | cp >> 6);
				out[o++] = (char)(0x80 | (cp & 0x3F));
			} else {
				out[o++] = (char)(0xE0 | cp >> 12);
				out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				out[o++] = (char)(0x80 | (cp & 0x3F));
			}
		}
		return add_chapter(a, start_ms, out, o);
	}
	return add_chapter(a, start_ms, (const char *)buf + 2, len);
}

/* Chapters from a QuickTime chapter text track: sample times and sample texts. */
static int
qt_chapters(const struct mf_mp4 *m, const struct trak *t, struct mf_audio *a)
{
	uint8_t *stts = NULL, *stsz = NULL, *stsc = NULL, *stco = NULL;
	uint32_t nstts, nstsz, nstsc, nstco, fixed = 0;
	int co64 = 0, rc = -1;
	uint64_t time = 0;
	uint32_t sample = 0, tsi = 0, tsleft;
	struct mf_box b;
	uint8_t h[12];

	if (!t->timescale || !t->has_stbl)
		return -1;
	stts = table(m, &t->stbl, "stts", 8, 8, MF_AUDIO_MAX_CHAPTERS, &nstts);
	stsc = table(m, &t->stbl, "stsc", 12, 8, MF_AUDIO_MAX_CHAPTERS, &nstsc);
	if (!(stco = table(m, &t->stbl, "stco", 4, 8, MF_AUDIO_MAX_CHAPTERS, &nstco))) {
		stco = table(m, &t->stbl, "co64", 8, 8, MF_AUDIO_MAX_CHAPTERS, &nstco);
		co64 = 1;
	}
	if (mf_mp4_find(m, &t->stbl, "stsz", &b) == 1 && mf_mp4_read(m, &b, 0, h, 12) == 12)
		fixed = mf_be32(h + 4);
	stsz = table(m, &t->stbl, "stsz", 4, 12, MF_AUDIO_MAX_CHAPTERS, &nstsz);
	if (!stts || !stsc || !stco || !nstts || !nstsc || (!fixed && !stsz))
		goto out;
	tsleft = mf_be32(stts);
	for (uint32_t ch = 0; ch < nstco; ch++) {
		uint64_t off = co64 ? mf_be64(stco + 8 * ch) : mf_be32(stco + 4 * ch);
		uint32_t spc = 0;

		/* samples per chunk: the last stsc entry whose first_chunk <= ch + 1 */
		for (uint32_t k = 0; k < nstsc; k++)
			if (mf_be32(stsc + 12 * k) <= ch + 1)
				spc = mf_be32(stsc + 12 * k + 4);
		for (uint32_t s = 0; s < spc && sample < MF_AUDIO_MAX_CHAPTERS; s++, sample++) {
			uint32_t size = fixed ? fixed : (sample < nstsz ? mf_be32(stsz + 4 * sample) : 0);

			if (!fixed && sample >= nstsz)
				goto done;
			if (text_sample(m, off, size, a,
			    clamp64((double)time * 1000 / t->timescale)) != 0)
				goto out;
			off += size;
			/* advance the clock by this sample's duration */
			while (tsleft == 0 && ++tsi < nstts)
				tsleft = mf_be32(stts + 8 * tsi);
			if (tsi >= nstts)
				goto done;
			time += mf_be32(stts + 8 * tsi + 4);
			tsleft--;
		}
	}
done:
	rc = a->nchapters ? 0 : -1;
out:
	free(stts);
	free(stsz);
	free(stsc);
	free(stco);
	return rc;
}

/* Chapters from a Nero chpl box: 100 ns start times and 8-bit-length titles. */
static int
chpl_chapters(const struct mf_mp4 *m, const struct mf_box *b, struct mf_audio *a)
{
	size_t len, i;
	uint8_t *p = payload(m, b, 1 << 20, &len);
	uint32_t count;
	int rc = -1;

	if (!p)
		return -1;
	i = 4 + (len > 0 && p[0] == 1 ? 4 : 0);
	if (i >= len)
		goto out;
	count = p[i++];
	for (uint32_t k = 0; k < count; k++) {
		uint64_t start;
		size_t tl;

		if (i + 9 > len)
			goto out;
		start = mf_be64(p + i);
		tl = p[i + 8];
		i += 9;
		if (i + tl > len)
			goto out;
		if (add_chapter(a, (int64_t)(start / 10000), (const char *)p + i, tl) != 0)
			goto out;
		i += tl;
	}
	rc = 0;
out:
	free(p);
	if (rc)
		drop_chapters(a);
	return rc;
}

static const struct tag_name mp4_names[] = {
	{ "\251nam", "title" }, { "\251ART", "artist" }, { "aART", "album_artist" },
	{ "\251alb", "album" }, { "\251wrt", "composer" }, { "\251nrt", "narrator" },
	{ "\251gen", "genre" }, { "\251day", "date" }, { "\251cmt", "comment" },
	{ "cprt", "copyright" }, { "desc", "description" }, { "ldes", "long_description" },
	{ "\251pub", "publisher" }, { "CDEK", "asin" }, { "asin", "asin" },
	{ "\251too", "encoder" },
};

static int
on_mp4_tag(const struct mf_mp4_tag *t, void *ctx)
{
	struct mf_audio *a = ctx;

	if (!strcmp(t->key, "covr")) {
		if (t->binary_len > 0)
			a->cover = 1;
		return 0;
	}
	if (!t->value)
		return 0;
	if (!strncmp(t->key, "----:", 5)) {
		const char *name = strrchr(t->key + 5, ':');

		put_named(a, NULL, 0, name ? name + 1 : "", t->value, t->len);
		return 0;
	}
	put_named(a, mp4_names, sizeof mp4_names / sizeof mp4_names[0], t->key, t->value, t->len);
	return 0;
}

static int
read_mp4(const struct mf_mp4 *m, struct mf_audio *a, char *err, size_t n)
{
	struct mf_box moov, b;
	struct mf_box_iter it;
	struct trak t[MAX_TRAKS];
	uint32_t movie_ts = 0;
	uint64_t movie_dur = 0;
	int nt = 0, au = -1, r;

	snprintf(a->container, sizeof a->container, "MP4");
	if ((r = mf_mp4_find(m, NULL, "moov", &moov)) != 1) {
		fail(err, n, r < 0 ? "truncated or corrupt MP4: a box runs past the end of the file" :
		    "truncated MP4: no moov box (the index is missing)");
		return -1;
	}
	if (mf_mp4_find(m, &moov, "mvhd", &b) != 1 || read_hd(m, &b, &movie_ts, &movie_dur) != 0) {
		fail(err, n, "corrupt MP4: no readable mvhd box");
		return -1;
	}
	mf_mp4_iter_box(&it, m, &moov);
	while ((r = mf_mp4_next(&it, &b)) == 1 && nt < MAX_TRAKS) {
		if (strcmp(b.type, "trak") != 0)
			continue;
		if (read_trak(m, &b, movie_ts, &t[nt]) != 0)
			break;
		if (au < 0 && !strcmp(t[nt].handler, "soun") && t[nt].has_stbl)
			au = nt;
		nt++;
	}
	if (r < 0 || it.err) {
		fail(err, n, "truncated or corrupt MP4: a box inside moov is malformed");
		return -1;
	}
	if (au < 0) {
		fail(err, n, "MP4 without an audio track");
		return -1;
	}
	if (read_entry(m, &t[au], a) < 0) {
		fail(err, n, "corrupt MP4: unreadable audio sample description");
		return -1;
	}
	/* The presentation (edit list) is what players and ffprobe show, not the media. */
	if (t[au].edit_dur > 0)
		a->duration_ms = clamp64(t[au].edit_dur * 1000);
	else if (t[au].timescale)
		a->duration_ms = clamp64((double)t[au].media_dur * 1000 / t[au].timescale);
	else if (movie_ts)
		a->duration_ms = clamp64((double)movie_dur * 1000 / movie_ts);
	if (t[au].timescale && t[au].media_dur) {
		uint64_t bytes = sample_bytes(m, &t[au]);

		if (bytes)
			a->bitrate = (long)clamp64((double)bytes * 8 * t[au].timescale / t[au].media_dur);
	}
	/* Chapters: the QuickTime chapter track (what ffprobe shows when both exist), else chpl. */
	for (int k = 0; k < t[au].nchap && !a->nchapters; k++)
		for (int j = 0; j < nt; j++)
			if (j != au && t[j].id == t[au].chap[k] && qt_chapters(m, &t[j], a) == 0) {
				snprintf(a->chapter_source, sizeof a->chapter_source, "qt");
				break;
			}
	if (!a->nchapters) {
		drop_chapters(a);
		if (mf_mp4_find(m, &moov, "udta/chpl", &b) == 1 && chpl_chapters(m, &b, a) == 0 &&
		    a->nchapters)
			snprintf(a->chapter_source, sizeof a->chapter_source, "chpl");
	}
	/* Malformed tags leave the tags read so far: facts matter more than tags. */
	(void)mf_mp4_tags(m, on_mp4_tag, a);
	/* A cover can also be an attached-picture video track. */
	for (int j = 0; j < nt; j++)
		if (!strcmp(t[j].handler, "vide"))
			a->cover = 1;
	return 0;
}

/* ---- MP3 ---- */

struct mpa {
	int	version;	/* 1, 2, or 25 (MPEG 2.5) */
	int	layer;		/* 1..3 */
	long	bitrate, rate;
	int	channels, spf;
	size_t	size;		/* frame bytes; 0 for free format */
};

/* Decode a 4-byte MPEG audio frame header; 0 when valid. */
static int
mpa_header(const uint8_t *h, struct mpa *f)
{
	static const int br[2][3][16] = {
		{ { 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0 },
		  { 0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0 },
		  { 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0 } },
		{ { 0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0 },
		  { 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0 },
		  { 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0 } },
	};
	static const long rates[3] = { 44100, 48000, 32000 };
	int v, l, bi, si, pad, lsf;

	if (h[0] != 0xFF || (h[1] & 0xE0) != 0xE0)
		return -1;
	v = (h[1] >> 3) & 3;
	l = (h[1] >> 1) & 3;
	bi = h[2] >> 4;
	si = (h[2] >> 2) & 3;
	pad = (h[2] >> 1) & 1;
	if (v == 1 || l == 0 || bi == 15 || bi == 0 || si == 3)
		return -1;	/* reserved values; free format is not supported */
	f->version = v == 3 ? 1 : v == 2 ? 2 : 25;
	f->layer = 4 - l;
	lsf = f->version != 1;
	f->bitrate = (long)br[lsf][f->layer - 1][bi] * 1000;
	f->rate = rates[si] >> (f->version == 1 ? 0 : f->version == 2 ? 1 : 2);
	f->channels = (h[3] >> 6) == 3 ? 1 : 2;
	if (f->layer == 1) {
		f->spf = 384;
		f->size = (size_t)((12 * f->bitrate / f->rate + pad) * 4);
	} else {
		f->spf = f->layer == 3 && lsf ? 576 : 1152;
		f->size = (size_t)(f->spf / 8 * f->bitrate / f->rate + pad);
	}
	return f->size >= 4 ? 0 : -1;
}

/* Where the audio starts: past any ID3v2 tags at the front. */
static uint64_t
skip_id3(const struct mf_mp4 *m)
{
	uint64_t pos = 0;
	uint8_t h[10];

	for (int k = 0; k < 4 && mf_mp4_pread(m, pos, h, 10) == 0 && !memcmp(h, "ID3", 3); k++) {
		uint64_t size = (uint64_t)(h[6] & 0x7f) << 21 | (h[7] & 0x7f) << 14 |
		    (h[8] & 0x7f) << 7 | (h[9] & 0x7f);

		pos += 10 + size + ((h[5] & 0x10) ? 10 : 0);
	}
	return pos;
}

/* The first frame: a valid header followed by another valid one (or the end). */
static int
find_frame(const struct mf_mp4 *m, uint64_t from, uint64_t *at, struct mpa *f)
{
	uint8_t buf[8192];
	uint64_t limit = from + (1 << 16);

	for (uint64_t pos = from; pos < limit && pos + 4 <= m->size; ) {
		size_t want = m->size - pos < sizeof buf ? (size_t)(m->size - pos) : sizeof buf;

		if (mf_mp4_pread(m, pos, buf, want) != 0)
			return -1;
		for (size_t i = 0; i + 4 <= want; i++) {
			uint8_t nx[4];
			struct mpa g;

			if (buf[i] != 0xFF || mpa_header(buf + i, f) != 0)
				continue;
			if (pos + i + f->size + 4 > m->size ||
			    (mf_mp4_pread(m, pos + i + f->size, nx, 4) == 0 && mpa_header(nx, &g) == 0 &&
			    g.rate == f->rate && g.layer == f->layer)) {
				*at = pos + i;
				return 0;
			}
		}
		pos += want > 3 ? want - 3 : want;
	}
	return -1;
}

/* Frames from a Xing/Info or VBRI header in the first frame; 1 found, 0 none. */
static int
vbr_header(const struct mf_mp4 *m, uint64_t at, const struct mpa *f, uint32_t *frames,
    uint32_t *bytes)
{
	uint8_t b[64];
	size_t side = f->version == 1 ? (f->channels == 1 ? 17 : 32) : (f->channels == 1 ? 9 : 17);

	*frames = *bytes = 0;
	if (mf_mp4_pread(m, at + 4 + side, b, 16) == 0 &&
	    (!memcmp(b, "Xing", 4) || !memcmp(b, "Info", 4))) {
		uint32_t fl = mf_be32(b + 4);
		size_t o = 8;

		if (fl & 1) {
			*frames = mf_be32(b + o);
			o += 4;
		}
		if (fl & 2)
			*bytes = mf_be32(b + o);
		return *frames > 0;
	}
	if (mf_mp4_pread(m, at + 36, b, 18) == 0 && !memcmp(b, "VBRI", 4)) {
		*bytes = mf_be32(b + 10);
		*frames = mf_be32(b + 14);
		return *frames > 0;
	}
	return 0;
}

/* Count frames from at to the end (a CBR file without a VBR header). */
static uint64_t
count_frames(const struct mf_mp4 *m, uint64_t at, uint64_t end, uint64_t *bytes)
{
	uint8_t buf[65536];
	uint64_t frames = 0, base = 0;
	size_t have = 0;

	*bytes = 0;
	while (at + 4 <= end) {
		struct mpa f;

		if (at < base || at + 4 > base + have) {
			size_t want = end - at < sizeof buf ? (size_t)(end - at) : sizeof buf;

			if (mf_mp4_pread(m, at, buf, want) != 0)
				break;
			base = at;
			have = want;
		}
		if (mpa_header(buf + (at - base), &f) != 0)
			break;	/* junk or a trailing tag ends the audio */
		if (at + f.size > end)
			break;	/* a cut-off last frame is not played */
		frames++;
		*bytes += f.size;
		at += f.size;
	}
	return frames;
}

static const struct tag_name id3_names[] = {
	{ "TIT2", "title" }, { "TPE1", "artist" }, { "TPE2", "album_artist" },
	{ "TALB", "album" }, { "TCOM", "composer" }, { "TCON", "genre" }, { "TYER", "date" },
	{ "TDRC", "date" }, { "TPUB", "publisher" }, { "TCOP", "copyright" },
	{ "TSSE", "encoder" }, { "TIT3", "subtitle" }, { "TLAN", "language" },
};

static int
on_id3(const struct mf_id3_frame *f, void *ctx)
{
	struct mf_audio *a = ctx;

	if (!f->value) {
		if (!strcmp(f->id, "APIC") && f->binary_len > 0)
			a->cover = 1;
		return 0;
	}
	if (!strncmp(f->id, "TXXX:", 5))
		put_named(a, NULL, 0, f->id + 5, f->value, f->len);
	else
		put_named(a, id3_names, sizeof id3_names / sizeof id3_names[0], f->id, f->value,
		    f->len);
	return 0;
}

static int
read_mp3(const struct mf_mp4 *m, struct mf_audio *a, char *err, size_t n)
{
	uint64_t start = skip_id3(m), at, end = m->size, bytes = 0, frames;
	uint32_t vf, vb;
	uint8_t tail[3];
	struct mpa f;

	snprintf(a->container, sizeof a->container, "MP3");
	if (start >= m->size) {
		fail(err, n, "truncated MP3: the ID3 tag runs past the end of the file");
		return -1;
	}
	if (find_frame(m, start, &at, &f) != 0) {
		fail(err, n, "not an MP4 or MP3 file (no MPEG audio frame near the start)");
		return -1;
	}
	snprintf(a->codec, sizeof a->codec, "%s", f.layer == 3 ? "MP3" : f.layer == 2 ? "MP2" :
	    "MP1");
	a->sample_rate = f.rate;
	a->channels = f.channels;
	if (end >= 128 && mf_mp4_pread(m, end - 128, tail, 3) == 0 && !memcmp(tail, "TAG", 3))
		end -= 128;	/* ID3v1 */
	if (vbr_header(m, at, &f, &vf, &vb)) {
		a->duration_ms = clamp64((double)vf * f.spf * 1000 / f.rate);
		bytes = vb ? vb : end - at;
	} else {
		frames = count_frames(m, at, end, &bytes);
		if (!frames) {
			fail(err, n, "corrupt MP3: no complete frame");
			return -1;
		}
		a->duration_ms = clamp64((double)frames * f.spf * 1000 / f.rate);
	}
	if (a->duration_ms > 0)
		a->bitrate = (long)clamp64((double)bytes * 8 * 1000 / (double)a->duration_ms);
	(void)mf_id3_tags(m, on_id3, a);
	return 0;
}

/* ---- entry points ---- */

int
mf_audio_read_src(const struct mf_mp4 *m, struct mf_audio *a, char *err, size_t n)
{
	uint8_t h[12];
	int rc;

	memset(a, 0, sizeof *a);
	a->duration_ms = -1;
	if (!(a->tags = cJSON_CreateObject())) {
		fail(err, n, "out of memory");
		return -1;
	}
	if (m->size < 12 || mf_mp4_pread(m, 0, h, 12) != 0) {
		fail(err, n, m->size == 0 ? "empty file" : "truncated: too short for an audio file");
		mf_audio_free(a);
		return -1;
	}
	/* MP4 begins with ftyp (or, rarely, another top-level box type we know). */
	if (!memcmp(h + 4, "ftyp", 4) || !memcmp(h + 4, "moov", 4) || !memcmp(h + 4, "mdat", 4) ||
	    !memcmp(h + 4, "free", 4) || !memcmp(h + 4, "wide", 4))
		rc = read_mp4(m, a, err, n);
	else
		rc = read_mp3(m, a, err, n);
	if (rc != 0)
		mf_audio_free(a);
	return rc;
}

int
mf_audio_read(int fd, struct mf_audio *a, char *err, size_t n)
{
	struct mf_mp4 m;

	if (mf_mp4_open(&m, fd, 0) != 0) {
		if (n)
			snprintf(err, n, "cannot read: %s", strerror(errno));
		memset(a, 0, sizeof *a);
		return -1;
	}
	return mf_audio_read_src(&m, a, err, n);
}

cJSON *
mf_audio_json(const struct mf_audio *a)
{
	cJSON *j = cJSON_CreateObject(), *ch;

	if (!j)
		return NULL;
	if (a->duration_ms >= 0)
		cJSON_AddNumberToObject(j, "duration_ms", (double)a->duration_ms);
	else
		cJSON_AddNullToObject(j, "duration_ms");
	cJSON_AddStringToObject(j, "codec", a->codec);
	cJSON_AddNumberToObject(j, "bitrate", (double)a->bitrate);
	cJSON_AddNumberToObject(j, "sample_rate", (double)a->sample_rate);
	cJSON_AddNumberToObject(j, "channels", a->channels);
	ch = cJSON_AddArrayToObject(j, "chapters");
	for (size_t i = 0; i < a->nchapters; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddNumberToObject(c, "start_ms", (double)a->chapters[i].start_ms);
		cJSON_AddStringToObject(c, "title", a->chapters[i].title);
		cJSON_AddItemToArray(ch, c);
	}
	cJSON_AddBoolToObject(j, "cover", a->cover);
	cJSON_AddItemToObject(j, "tags", a->tags ? cJSON_Duplicate(a->tags, 1) :
	    cJSON_CreateObject());
	cJSON_AddStringToObject(j, "container", a->container);
	if (a->chapter_source[0])
		cJSON_AddStringToObject(j, "chapter_source", a->chapter_source);
	return j;
}

/* ---- mediainfo ---- */

int
mf_audio_mediainfo(int fd, double timeout, char **text, char *err, size_t n)
{
	char *argv[] = { (char *)"mediainfo", (char *)"/dev/fd/3", NULL };
	posix_spawn_file_actions_t fa;
	struct mf_buf b = { 0 };
	int pipefd[2], status = 0, in;
	double deadline = mf_now() + timeout;
	pid_t pid;

	*text = NULL;
	/* A copy numbered above 3, so that the dup2 to 3 always clears close-on-exec. */
	if ((in = fcntl(fd, F_DUPFD_CLOEXEC, 4)) < 0) {
		fail(err, n, strerror(errno));
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		fail(err, n, strerror(errno));
		close(in);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, in, 3);
	errno = posix_spawnp(&pid, "mediainfo", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	close(in);
	if (errno) {
		snprintf(err, n, "mediainfo: %s", errno == ENOENT ? "not installed" : strerror(errno));
		close(pipefd[0]);
		return -1;
	}
	for (;;) {
		struct pollfd p = { pipefd[0], POLLIN, 0 };
		double left = deadline - mf_now();
		char buf[8192];
		ssize_t got;

		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) == 0) {
			kill(pid, SIGKILL);
			snprintf(err, n, "mediainfo: no answer within %.0fs", timeout);
			b.oom = 1;
			break;
		}
		if ((got = read(pipefd[0], buf, sizeof buf)) < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (b.len + (size_t)got > (4u << 20)) {	/* a sane report is small */
			kill(pid, SIGKILL);
			snprintf(err, n, "mediainfo: report too large");
			b.oom = 1;
			break;
		}
		mf_buf_put(&b, buf, (size_t)got);
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (b.oom || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !b.len) {
		if (!b.oom)
			snprintf(err, n, "mediainfo: failed on the file");
		free(mf_buf_take(&b));
		return -1;
	}
	/* Drop "Complete name : /dev/fd/3" and the warning that this name has no extension. */
	{
		char *t = mf_buf_take(&b), *line = t, *o = t;

		while (line && *line) {
			char *nl = strchr(line, '\n');
			size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);

			if (strncmp(line, "Complete name", 13) != 0 &&
			    strncmp(line, "FileExtension_Invalid", 21) != 0) {
				memmove(o, line, len);
				o += len;
			}
			line += len;
		}
		if (t)
			*o = '\0';
		if (t && !mf_utf8_valid(t, strlen(t))) {
			char *u = mf_utf8_display(t, strlen(t));

			free(t);
			t = u;
		}
		*text = t;
	}
	return *text ? 0 : -1;
}
