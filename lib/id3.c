/* id3: a bounds-checked ID3v2 text-frame reader (see id3.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id3.h"

#define ID3_WHOLE_MAX	(16u << 20)	/* a whole-tag unsynchronised v2.3 tag */
#define ID3_FRAME_MAX	(64u << 10)	/* text frame bodies we read; longer ones are cut */

/* Output buffer for one converted value. */
struct out {
	char	buf[MF_ID3_VALUE_MAX + 1];
	size_t	len;
};

static uint32_t
syncsafe(const uint8_t *p)
{
	return (uint32_t)(p[0] & 0x7f) << 21 | (uint32_t)(p[1] & 0x7f) << 14 |
	    (uint32_t)(p[2] & 0x7f) << 7 | (p[3] & 0x7f);
}

/* Undo unsynchronisation in place (FF 00 -> FF); returns the new length. */
static size_t
unsync(uint8_t *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		p[o++] = p[i];
		if (p[i] == 0xff && i + 1 < n && p[i + 1] == 0x00)
			i++;
	}
	return o;
}

static void
put_cp(struct out *o, uint32_t c)
{
	char u[4];
	size_t n;

	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	/* Cut on a character boundary. */
	if (o->len + n > MF_ID3_VALUE_MAX)
		return;
	memcpy(o->buf + o->len, u, n);
	o->len += n;
}

static void
put_sep(struct out *o)
{
	if (o->len > 0 && o->len + 2 <= MF_ID3_VALUE_MAX) {
		memcpy(o->buf + o->len, "; ", 2);
		o->len += 2;
	}
}

/*
 * The next code point of text p[0..n) in encoding enc at *i (advanced): 0 for a
 * terminator, U+FFFD for a bad sequence, -1 at the end.  *be is the UTF-16 byte order,
 * switched by a BOM.
 */
static long
next_cp(int enc, const uint8_t *p, size_t n, size_t *i, int *be)
{
	uint32_t u, l, cp;
	size_t k, need;
	uint8_t c;

	if (enc == 0 || enc == 3) {
		if (*i >= n)
			return -1;
		c = p[(*i)++];
		if (enc == 0 || c < 0x80)
			return c;
		/* UTF-8: a valid sequence, else U+FFFD for the lead byte. */
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
		if (need == 0 || c > 0xf4 || *i - 1 + need > n)
			return 0xfffd;
		cp = c & (0x7f >> need);
		for (k = 1; k < need; k++) {
			if ((p[*i - 1 + k] & 0xc0) != 0x80)
				return 0xfffd;
			cp = cp << 6 | (p[*i - 1 + k] & 0x3f);
		}
		if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000))
			return 0xfffd;
		*i += need - 1;
		return cp;
	}
	/* UTF-16, with a BOM (1) or big-endian (2). */
	for (;;) {
		if (*i + 1 >= n) {
			*i = n;
			return -1;
		}
		u = *be ? (uint32_t)p[*i] << 8 | p[*i + 1] : (uint32_t)p[*i + 1] << 8 | p[*i];
		*i += 2;
		if (u == 0xfeff)
			continue;
		if (u == 0xfffe) {	/* a BOM read the wrong way round: swap */
			*be = !*be;
			continue;
		}
		break;
	}
	if (u >= 0xd800 && u <= 0xdbff && *i + 1 < n) {
		l = *be ? (uint32_t)p[*i] << 8 | p[*i + 1] : (uint32_t)p[*i + 1] << 8 | p[*i];
		if (l >= 0xdc00 && l <= 0xdfff) {
			*i += 2;
			u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
		}
	}
	return u;
}

/*
 * Convert text p[0..n) of encoding enc to UTF-8 into o.  stop_at_nul: end at the first
 * terminator (a TXXX description), returning the bytes consumed including it; otherwise
 * terminators separate values.  Returns bytes consumed.
 */
static size_t
convert(struct out *o, int enc, const uint8_t *p, size_t n, int stop_at_nul)
{
	size_t i = 0;
	int be = enc == 2, first = 1;
	long cp;

	while ((cp = next_cp(enc, p, n, &i, &be)) != -1) {
		if (cp == 0) {
			if (stop_at_nul)
				return i;
			first = 1;
			continue;
		}
		if (first && o->len > 0)
			put_sep(o);
		first = 0;
		put_cp(o, (uint32_t)cp);
	}
	return n;
}

/* v2.2 three-character ids we care about, as their v2.3 names. */
static const char *
v22_id(const uint8_t *id)
{
	static const char *map[][2] = {
		{ "TT2", "TIT2" }, { "TT3", "TIT3" }, { "TP1", "TPE1" }, { "TP2", "TPE2" },
		{ "TAL", "TALB" }, { "TYE", "TYER" }, { "TCM", "TCOM" }, { "TXX", "TXXX" },
		{ "TCO", "TCON" }, { "TPB", "TPUB" }, { "TRK", "TRCK" }, { "PIC", "APIC" },
		{ "COM", "COMM" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (memcmp(id, map[i][0], 3) == 0)
			return map[i][1];
	return NULL;
}

/* Decode one text frame body and call fn. */
static int
text_frame(const char *id, const uint8_t *body, size_t n, mf_id3_fn fn, void *ctx)
{
	struct out val, desc;
	struct mf_id3_frame f;
	char key[5 + 1 + 256];
	size_t used = 0;
	int enc;

	if (n < 1)
		return 0;
	enc = body[0];
	if (enc > 3)
		return 0;
	body++;
	n--;
	val.len = desc.len = 0;
	if (strcmp(id, "TXXX") == 0) {
		used = convert(&desc, enc, body, n, 1);
		desc.buf[desc.len] = '\0';
		if (strlen(desc.buf) > 255)
			desc.buf[255] = '\0';
		snprintf(key, sizeof(key), "TXXX:%s", desc.buf);
	} else
		snprintf(key, sizeof(key), "%s", id);
	convert(&val, enc, body + used, n - used, 0);
	val.buf[val.len] = '\0';
	f.id = key;
	f.value = val.buf;
	f.len = strlen(val.buf);
	return fn(&f, ctx);
}

/* Report a frame that is not text: its id and size, no body. */
static int
other_frame(const char *id, size_t n, mf_id3_fn fn, void *ctx)
{
	struct mf_id3_frame f = { id, NULL, 0, n };

	return fn(&f, ctx);
}

/* Walk the frames in buf (a tag read whole). */
static int
walk_mem(const uint8_t *p, size_t n, int ver, mf_id3_fn fn, void *ctx)
{
	size_t pos = 0, hl = ver == 2 ? 6 : 10;
	int r;

	while (pos + hl <= n && p[pos] != 0) {
		char id[5];
		size_t sz;

		if (ver == 2) {
			const char *m = v22_id(p + pos);

			sz = (size_t)p[pos + 3] << 16 | (size_t)p[pos + 4] << 8 | p[pos + 5];
			snprintf(id, sizeof(id), "%s", m != NULL ? m : "????");
		} else {
			memcpy(id, p + pos, 4);
			id[4] = '\0';
			sz = ver == 4 ? syncsafe(p + pos + 4) : mf_be32(p + pos + 4);
		}
		if (sz > n - pos - hl)
			return 0;
		/* v2.3 frame flags: compression 0x80, encryption 0x40: unreadable here. */
		if (id[0] == 'T' && !(ver == 3 && (p[pos + 9] & 0xc0))) {
			size_t g = ver == 3 && (p[pos + 9] & 0x20) ? 1 : 0;	/* group id */

			if (g < sz && (r = text_frame(id, p + pos + hl + g, sz - g, fn,
			    ctx)) != 0)
				return r;
		} else if (id[0] != 'T' && (r = other_frame(id, sz, fn, ctx)) != 0)
			return r;
		pos += hl + sz;
	}
	return 0;
}

int
mf_id3_tags(const struct mf_mp4 *src, mf_id3_fn fn, void *ctx)
{
	uint8_t h[10], *body = NULL;
	uint64_t pos, end;
	int ver, flags, r = 0;

	if (mf_mp4_pread(src, 0, h, 10) == -1 || memcmp(h, "ID3", 3) != 0)
		return 0;
	ver = h[3];
	flags = h[5];
	if (ver < 2 || ver > 4 || h[4] == 0xff || (h[6] | h[7] | h[8] | h[9]) & 0x80)
		return -1;
	end = 10 + (uint64_t)syncsafe(h + 6);
	if (end > src->size)
		end = src->size;	/* a truncated file: read what is there */
	pos = 10;
	if (ver == 2 && (flags & 0x40))
		return 0;		/* v2.2 "compression": no defined scheme */
	if ((flags & 0x80) && ver <= 3) {
		/* Whole-tag unsynchronisation (v2.2/2.3): undo it over the whole tag. */
		size_t n = (size_t)(end - pos);

		if (n > ID3_WHOLE_MAX || (body = malloc(n ? n : 1)) == NULL)
			return -1;
		if (mf_mp4_pread(src, pos, body, n) == -1) {
			free(body);
			return -1;
		}
		n = unsync(body, n);
		pos = 0;
		if (ver == 3 && (flags & 0x40)) {	/* extended header */
			if (n < 4 || (uint64_t)mf_be32(body) + 4 > n) {
				free(body);
				return -1;
			}
			pos = mf_be32(body) + 4;
		}
		r = walk_mem(body + pos, n - (size_t)pos, ver, fn, ctx);
		free(body);
		return r;
	}
	if (flags & 0x40) {	/* extended header */
		uint8_t e[4];

		if (mf_mp4_pread(src, pos, e, 4) == -1)
			return -1;
		pos += ver == 4 ? syncsafe(e) : (uint64_t)mf_be32(e) + 4;
		if (pos > end)
			return -1;
	}
	/* Frame by frame: headers with pread, bodies only of text frames. */
	while (ver != 2 ? pos + 10 <= end : pos + 6 <= end) {
		uint8_t fh[10];
		const char *m;
		char id[5];
		uint64_t sz;
		size_t hl = ver == 2 ? 6 : 10, n, skip = 0;
		int ff = 0;

		if (mf_mp4_pread(src, pos, fh, hl) == -1 || fh[0] == 0)
			break;	/* padding */
		if (ver == 2) {
			if ((m = v22_id(fh)) == NULL)
				m = "????";
			snprintf(id, sizeof(id), "%s", m);
			sz = (uint64_t)fh[3] << 16 | (uint64_t)fh[4] << 8 | fh[5];
		} else {
			memcpy(id, fh, 4);
			id[4] = '\0';
			sz = ver == 4 ? syncsafe(fh + 4) : mf_be32(fh + 4);
			ff = fh[9];
		}
		if (sz > end - pos - hl)
			break;
		if (id[0] != 'T') {
			if ((r = other_frame(id, (size_t)sz, fn, ctx)) != 0)
				return r;
		} else if (sz > 0) {
			/* v2.3: 0x80 compressed, 0x40 encrypted; v2.4: 0x08, 0x04. */
			int skipit = ver == 3 ? (ff & 0xc0) : ver == 4 ? (ff & 0x0c) : 0;

			if (ver == 3 && (ff & 0x20))
				skip = 1;	/* group id */
			if (ver == 4)
				skip = (ff & 0x40 ? 1 : 0) + (ff & 0x01 ? 4 : 0);
			n = sz > ID3_FRAME_MAX ? ID3_FRAME_MAX : (size_t)sz;
			if (!skipit && skip < n) {
				if ((body = malloc(n)) == NULL)
					return -1;
				if (mf_mp4_pread(src, pos + hl, body, n) == -1) {
					free(body);
					return -1;
				}
				if (ver == 4 && (ff & 0x02 || flags & 0x80))
					n = skip + unsync(body + skip, n - skip);
				r = text_frame(id, body + skip, n - skip, fn, ctx);
				free(body);
				body = NULL;
				if (r != 0)
					return r;
			}
		}
		pos += hl + sz;
	}
	return 0;
}

struct id3_find {
	const char	*id;
	char		*buf;
	size_t		 cap;
};

static int
id3_find_cb(const struct mf_id3_frame *f, void *ctx)
{
	struct id3_find *q = ctx;
	size_t n;

	if (f->value == NULL || strcmp(f->id, q->id) != 0)
		return 0;
	n = f->len < q->cap - 1 ? f->len : q->cap - 1;
	memcpy(q->buf, f->value, n);
	q->buf[n] = '\0';
	return 1;
}

int
mf_id3_tag(const struct mf_mp4 *src, const char *id, char *buf, size_t cap)
{
	struct id3_find q = { id, buf, cap };

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	return mf_id3_tags(src, id3_find_cb, &q);
}
