/* mp4: a bounds-checked ISO BMFF box reader (see mp4.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mp4.h"

#define MP4_MAX_DEPTH	16

uint16_t
mf_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t
mf_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t
mf_be64(const uint8_t *p)
{
	return (uint64_t)mf_be32(p) << 32 | mf_be32(p + 4);
}

int
mf_mp4_open(struct mf_mp4 *m, int fd, uint64_t size)
{
	struct stat st;

	m->fd = fd;
	m->mem = NULL;
	m->size = size;
	if (size == 0) {
		if (fstat(fd, &st) == -1)
			return -1;
		if (!S_ISREG(st.st_mode)) {
			errno = EINVAL;
			return -1;
		}
		m->size = (uint64_t)st.st_size;
	}
	return 0;
}

void
mf_mp4_open_mem(struct mf_mp4 *m, const void *buf, size_t len)
{
	m->fd = -1;
	m->mem = buf;
	m->size = len;
}

int
mf_mp4_pread(const struct mf_mp4 *m, uint64_t off, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	if (off > m->size || len > m->size - off)
		return -1;
	if (m->mem != NULL) {
		if (len > 0)
			memcpy(buf, m->mem + off, len);
		return 0;
	}
	while (got < len) {
		n = pread(m->fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

void
mf_mp4_iter(struct mf_box_iter *it, const struct mf_mp4 *m, uint64_t start, uint64_t end)
{
	it->m = m;
	if (end > m->size)
		end = m->size;
	if (start > end)
		start = end;
	it->pos = start;
	it->end = end;
	it->err = 0;
}

void
mf_mp4_iter_box(struct mf_box_iter *it, const struct mf_mp4 *m, const struct mf_box *b)
{
	mf_mp4_iter(it, m, mf_mp4_children(m, b), b->end);
}

int
mf_mp4_next(struct mf_box_iter *it, struct mf_box *out)
{
	uint8_t h[16];
	uint64_t size, hdr = 8;

	if (it->err)
		return -1;
	/* Trailing padding shorter than a header is tolerated, as players do. */
	if (it->end - it->pos < 8)
		return 0;
	if (mf_mp4_pread(it->m, it->pos, h, 8) == -1)
		goto bad;
	size = mf_be32(h);
	if (size == 1) {
		if (it->end - it->pos < 16 || mf_mp4_pread(it->m, it->pos + 8, h + 8, 8) == -1)
			goto bad;
		size = mf_be64(h + 8);
		hdr = 16;
	} else if (size == 0)
		size = it->end - it->pos;
	if (size < hdr || size > it->end - it->pos)
		goto bad;
	memcpy(out->type, h + 4, 4);
	out->type[4] = '\0';
	out->off = it->pos;
	out->payload = it->pos + hdr;
	out->end = it->pos + size;
	it->pos = out->end;
	return 1;
bad:
	it->err = 1;
	return -1;
}

int
mf_mp4_fullbox(const struct mf_mp4 *m, const struct mf_box *b, uint8_t *version,
    uint32_t *flags)
{
	uint8_t v[4];

	if (MF_BOX_PAYLOAD(b) < 4 || mf_mp4_pread(m, b->payload, v, 4) == -1)
		return -1;
	if (version != NULL)
		*version = v[0];
	if (flags != NULL)
		*flags = (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
	return 0;
}

uint64_t
mf_mp4_children(const struct mf_mp4 *m, const struct mf_box *b)
{
	uint8_t h[8];
	uint64_t skip = 0;

	if (memcmp(b->type, "meta", 4) == 0) {
		/*
		 * ISO meta is a full box; QuickTime meta is not.  Telling them apart by content:
		 * a QuickTime meta starts with a child box (hdlr, keys...), whose type sits at
		 * bytes 4..8, while ISO's version/flags word is zero there.
		 */
		skip = 4;
		if (MF_BOX_PAYLOAD(b) >= 8 && mf_mp4_pread(m, b->payload, h, 8) == 0 &&
		    mf_be32(h) != 0 && (memcmp(h + 4, "hdlr", 4) == 0 ||
		    memcmp(h + 4, "keys", 4) == 0 || memcmp(h + 4, "ilst", 4) == 0))
			skip = 0;
	} else if (memcmp(b->type, "stsd", 4) == 0 || memcmp(b->type, "dref", 4) == 0)
		skip = 8;
	if (skip > MF_BOX_PAYLOAD(b))
		skip = MF_BOX_PAYLOAD(b);
	return b->payload + skip;
}

int
mf_mp4_find(const struct mf_mp4 *m, const struct mf_box *within, const char *path,
    struct mf_box *out)
{
	struct mf_box_iter it;
	struct mf_box cur, b;
	const char *p = path;
	int depth = 0, r, have = within != NULL;

	/* The path's shape first, so a bad path fails the same way on any file. */
	for (p = path; *p != '\0'; p += *p == '/') {
		size_t n = strcspn(p, "/");

		if (n != 4 || ++depth > MP4_MAX_DEPTH)
			return -1;
		p += n;
	}
	p = path;
	if (have)
		cur = *within;
	while (*p != '\0') {
		size_t n = 4;

		if (have)
			mf_mp4_iter_box(&it, m, &cur);
		else
			mf_mp4_iter(&it, m, 0, m->size);
		while ((r = mf_mp4_next(&it, &b)) == 1)
			if (memcmp(b.type, p, 4) == 0)
				break;
		if (r != 1)
			return r;
		cur = b;
		have = 1;
		p += n;
		if (*p == '/')
			p++;
	}
	if (!have)
		return 0;
	*out = cur;
	return 1;
}

ssize_t
mf_mp4_read(const struct mf_mp4 *m, const struct mf_box *b, uint64_t skip, void *buf,
    size_t cap)
{
	uint64_t avail = MF_BOX_PAYLOAD(b);

	if (skip >= avail)
		return 0;
	avail -= skip;
	if (cap > avail)
		cap = (size_t)avail;
	if (mf_mp4_pread(m, b->payload + skip, buf, cap) == -1)
		return -1;
	return (ssize_t)cap;
}

/* ---- ilst ---- */

/* The string of a `mean`/`name` full box into buf (at most cap - 1 bytes). */
static int
read_fullbox_str(const struct mf_mp4 *m, const struct mf_box *b, char *buf, size_t cap)
{
	ssize_t n = mf_mp4_read(m, b, 4, buf, cap - 1);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n)
		return -1;	/* an embedded NUL: not a name we can match */
	return 0;
}

/* One ilst item: its key and first data box, then fn.  Malformed items are skipped. */
static int
tag_item(const struct mf_mp4 *m, const struct mf_box *item, mf_mp4_tag_fn fn, void *ctx)
{
	char value[MF_MP4_TAG_MAX + 1];
	char key[5 + 2 * 128 + 2], mean[128], name[128];
	struct mf_box_iter it;
	struct mf_box b, data = { "", 0, 0, 0 };
	struct mf_mp4_tag tag;
	uint8_t dh[8];
	uint32_t type;
	uint64_t dlen;
	int freeform = memcmp(item->type, "----", 4) == 0, have_data = 0;
	ssize_t n;

	mean[0] = name[0] = '\0';
	mf_mp4_iter(&it, m, item->payload, item->end);
	while (mf_mp4_next(&it, &b) == 1) {
		if (memcmp(b.type, "data", 4) == 0 && !have_data) {
			data = b;
			have_data = 1;
		} else if (freeform && memcmp(b.type, "mean", 4) == 0) {
			if (read_fullbox_str(m, &b, mean, sizeof(mean)) == -1)
				return 0;
		} else if (freeform && memcmp(b.type, "name", 4) == 0) {
			if (read_fullbox_str(m, &b, name, sizeof(name)) == -1)
				return 0;
		}
	}
	if (!have_data || MF_BOX_PAYLOAD(&data) < 8 || mf_mp4_read(m, &data, 0, dh, 8) != 8)
		return 0;
	if (freeform) {
		if (name[0] == '\0')
			return 0;
		snprintf(key, sizeof(key), "----:%s:%s", mean, name);
	} else
		memcpy(key, item->type, 5);
	/* Type indicator: one version byte (0), then a 24-bit well-known type. */
	type = mf_be32(dh) & 0xffffff;
	dlen = MF_BOX_PAYLOAD(&data) - 8;
	memset(&tag, 0, sizeof(tag));
	tag.key = key;
	if (type == 1 || type == 4 || (type == 0 && freeform)) {
		/* UTF-8 (4 is UTF-16 in old files: rare; passed on raw, checked by callers). */
		n = mf_mp4_read(m, &data, 8, value, MF_MP4_TAG_MAX);
		if (n < 0)
			return 0;
		value[n] = '\0';
		tag.value = value;
		tag.len = strlen(value);
	} else if ((type == 21 || type == 22) && dlen >= 1 && dlen <= 8) {
		uint8_t v[8];
		uint64_t x = 0;
		size_t i;

		if (mf_mp4_read(m, &data, 8, v, (size_t)dlen) != (ssize_t)dlen)
			return 0;
		for (i = 0; i < dlen; i++)
			x = x << 8 | v[i];
		if (type == 21 && v[0] & 0x80 && dlen < 8)
			x |= ~(uint64_t)0 << (8 * dlen);	/* sign-extend */
		if (type == 21 && v[0] & 0x80)
			snprintf(value, sizeof(value), "%lld", (long long)x);
		else
			snprintf(value, sizeof(value), "%llu", (unsigned long long)x);
		tag.value = value;
		tag.len = strlen(value);
	} else
		tag.binary_len = dlen;
	return fn(&tag, ctx);
}

int
mf_mp4_tags(const struct mf_mp4 *m, mf_mp4_tag_fn fn, void *ctx)
{
	struct mf_box_iter it;
	struct mf_box ilst, item;
	int r;

	if ((r = mf_mp4_find(m, NULL, "moov/udta/meta/ilst", &ilst)) != 1)
		return r;
	mf_mp4_iter_box(&it, m, &ilst);
	while ((r = mf_mp4_next(&it, &item)) == 1)
		if ((r = tag_item(m, &item, fn, ctx)) != 0)
			return r;
	return r;
}

struct tag_find {
	const char	*key;
	char		*buf;
	size_t		 cap;
};

static int
tag_find_cb(const struct mf_mp4_tag *tag, void *ctx)
{
	struct tag_find *tf = ctx;
	size_t n;

	if (tag->value == NULL || strcmp(tag->key, tf->key) != 0)
		return 0;
	n = tag->len < tf->cap - 1 ? tag->len : tf->cap - 1;
	memcpy(tf->buf, tag->value, n);
	tf->buf[n] = '\0';
	return 1;
}

int
mf_mp4_tag(const struct mf_mp4 *m, const char *key, char *buf, size_t cap)
{
	struct tag_find tf = { key, buf, cap };

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	return mf_mp4_tags(m, tag_find_cb, &tf);
}
