/* mp4: a bounds-checked ISO BMFF (MP4/M4B) box reader that reads only the boxes it needs. */
#ifndef MF_MP4_H
#define MF_MP4_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A source of bytes: an open file (fd + size, read with pread; the fd stays the caller's)
 * or a memory buffer (for fuzzing, tests, or a box read whole with mf_mp4_read).
 * Every offset below is an absolute offset in that source.
 */
struct mf_mp4 {
	int		 fd;	/* -1 for a memory source */
	const uint8_t	*mem;	/* NULL for a file source */
	uint64_t	 size;	/* bytes in the source */
};

/* One box.  Its payload is [payload, end); its header (8 or 16 bytes) starts at off. */
struct mf_box {
	char		type[5];	/* four type bytes as they are ('\251nam'), NUL-terminated */
	uint64_t	off;		/* offset of the header */
	uint64_t	payload;	/* offset of the payload (after size/type/largesize) */
	uint64_t	end;		/* offset just past the box (size-0 boxes: end of parent) */
};
#define MF_BOX_SIZE(b)		((b)->end - (b)->off)
#define MF_BOX_PAYLOAD(b)	((b)->end - (b)->payload)

/* Walks the boxes laid end to end in [pos, end) of a source. */
struct mf_box_iter {
	const struct mf_mp4	*m;
	uint64_t		 pos, end;
	int			 err;	/* set when a malformed box stopped the walk */
};

/* Open a file source; size 0 means fstat(fd).  0 on success, -1 with errno set. */
int mf_mp4_open(struct mf_mp4 *m, int fd, uint64_t size);
/* A memory source over buf[0..len) (not copied). */
void mf_mp4_open_mem(struct mf_mp4 *m, const void *buf, size_t len);

/*
 * Read exactly len bytes at absolute offset off (bounded by the source size).
 * 0 on success; -1 when the range is out of bounds or the read fails.
 */
int mf_mp4_pread(const struct mf_mp4 *m, uint64_t off, void *buf, size_t len);

/* Iterate the top-level boxes (parent NULL), or the children starting at [start, parent end). */
void mf_mp4_iter(struct mf_box_iter *it, const struct mf_mp4 *m, uint64_t start, uint64_t end);
/* Iterate the children of box b, skipping the header fields of known containers
 * (full-box `meta` detected by content, `stsd`/`dref` entry counts; see mf_mp4_children). */
void mf_mp4_iter_box(struct mf_box_iter *it, const struct mf_mp4 *m, const struct mf_box *b);
/*
 * Next box: 1 with *out filled, 0 at the end of the range, -1 when the next header is
 * malformed (too small, larger than its parent, past the source); it->err is then set and
 * the walk stops.  Handles 32-bit sizes, size 1 + 64-bit largesize, and size 0 (to the end
 * of the range).  A gap of fewer than 8 bytes at the end of a range counts as the end.
 */
int mf_mp4_next(struct mf_box_iter *it, struct mf_box *out);

/* The version byte and 24-bit flags of a full box; 0, or -1 when the payload is short. */
int mf_mp4_fullbox(const struct mf_mp4 *m, const struct mf_box *b, uint8_t *version,
    uint32_t *flags);

/*
 * Offset where box b's child boxes start: payload + 4 for an ISO full-box `meta`, payload
 * for a QuickTime-style `meta` (whose first child is `hdlr`), payload + 8 for `stsd`,
 * `dref`, payload for plain containers.  Sample entries (mp4a...) are not containers
 * here: use mf_mp4_iter() with the offset of their child boxes.
 */
uint64_t mf_mp4_children(const struct mf_mp4 *m, const struct mf_box *b);

/*
 * Find the first box along a '/'-separated path of four-byte types, e.g.
 * "moov/udta/meta/ilst" or "moov/trak/mdia/mdhd", starting at the top level (within NULL)
 * or inside box within.  1 when found (*out set), 0 when absent, -1 on a malformed box.
 * At most 16 levels.
 */
int mf_mp4_find(const struct mf_mp4 *m, const struct mf_box *within, const char *path,
    struct mf_box *out);

/*
 * Bounded read of box b's payload: up to cap bytes from payload offset skip into buf.
 * Returns the number of bytes read (less than cap when the payload is shorter; 0 when
 * skip is past it), or -1 on a read error.  Never reads outside the box.
 */
ssize_t mf_mp4_read(const struct mf_mp4 *m, const struct mf_box *b, uint64_t skip, void *buf,
    size_t cap);

/* Big-endian helpers for the caller's payload buffers. */
uint16_t mf_be16(const uint8_t *p);
uint32_t mf_be32(const uint8_t *p);
uint64_t mf_be64(const uint8_t *p);

/* ---- iTunes-style metadata (moov/udta/meta/ilst) ---- */

/*
 * One text item of an ilst.  key is the atom type ("\251nam", "CDEK", "asin") or, for a
 * freeform atom, "----:MEAN:NAME" (e.g. "----:com.pilabor.tone:AUDIBLE_ASIN").  value
 * is the UTF-8 (type 1, or implicit type 0 in a freeform) data, NUL-terminated, cut at
 * MF_MP4_TAG_MAX bytes (not checked for UTF-8 validity: callers check); integer items
 * (type 21/22, 1-8 bytes) are given as decimal text.  Other items (covr, trkn) are
 * reported with value NULL and binary_len set to their data size.
 */
#define MF_MP4_TAG_MAX	4096
struct mf_mp4_tag {
	const char	*key;
	const char	*value;
	size_t		 len;
	uint64_t	 binary_len;
};
typedef int (*mf_mp4_tag_fn)(const struct mf_mp4_tag *tag, void *ctx);

/*
 * Call fn for each item of the file's moov/udta/meta/ilst (the first data box of each
 * item).  fn returns 0 to go on, non-zero to stop (that value is returned).  Returns 0
 * when all items were seen (or there is no ilst), -1 on a malformed box.
 */
int mf_mp4_tags(const struct mf_mp4 *m, mf_mp4_tag_fn fn, void *ctx);

/* The text of one item (same keys as above) into buf (NUL-terminated, cut to cap - 1).
 * 1 when found, 0 when absent, -1 on a malformed file. */
int mf_mp4_tag(const struct mf_mp4 *m, const char *key, char *buf, size_t cap);

#endif
