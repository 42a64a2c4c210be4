/* bencode: a strict, bounds-checked, non-allocating bencode reader, and a small writer. */
#ifndef MF_BENCODE_H
#define MF_BENCODE_H

#include <stddef.h>
#include <stdint.h>

#define MF_BENC_MAXDEPTH 64	/* deeper nesting is refused (no torrent needs more) */
#define MF_BENC_STRICT	0x1	/* also refuse dict keys out of bytewise order */

/* One whole encoded value inside a caller's buffer: [p, end). */
struct mf_bval {
	const unsigned char *p, *end;
};

/* Why decoding failed, and at which byte offset from the start of the buffer. */
struct mf_berr {
	size_t	off;
	char	msg[96];
};

/*
 * Check that buf[0..len) is exactly one bencoded value and set *root to it.  Refused:
 * leading zeros in integers and string lengths, "-0", empty integers, integers outside
 * int64, lengths past the end, truncated input, bytes after the value, nesting deeper
 * than MF_BENC_MAXDEPTH, non-string dict keys, a dict key equal to the one before it,
 * and (MF_BENC_STRICT) keys out of order.  Returns 0, or -1 with *err filled in.
 * Nothing is allocated; the accessors below work on the checked buffer.
 */
int mf_bdecode(const void *buf, size_t len, unsigned flags, struct mf_bval *root,
    struct mf_berr *err);

/*
 * The same, and in the same single pass the value under key in the top-level dict (the
 * first one), so that finding a torrent's info needs no second walk.  val->p is NULL when
 * the root is not a dict or has no such key.
 */
int mf_bdecode_find(const void *buf, size_t len, unsigned flags, const char *key,
    struct mf_bval *root, struct mf_bval *val, struct mf_berr *err);

/* 'd', 'l', 'i' or 's'. */
char mf_btype(const struct mf_bval *v);
/* Integer value; -1 when v is not an integer. */
int mf_bint(const struct mf_bval *v, int64_t *out);
/* String bytes (not NUL-terminated); -1 when v is not a string. */
int mf_bstr(const struct mf_bval *v, const char **s, size_t *len);
/* 1 when v is a string equal to the C string s. */
int mf_bstreq(const struct mf_bval *v, const char *s);
/* The first value under key in dict d; -1 when absent or d is not a dict. */
int mf_bget(const struct mf_bval *d, const char *key, struct mf_bval *out);

/* Items of a list, or key/value pairs of a dict, in file order. */
struct mf_biter {
	const unsigned char *p, *end;
};
void mf_biter_init(struct mf_biter *it, const struct mf_bval *container);
/* 1 with *out set to the next list item, 0 at the end. */
int mf_bnext(struct mf_biter *it, struct mf_bval *out);
/* 1 with the next dict key and value, 0 at the end. */
int mf_bnext_kv(struct mf_biter *it, struct mf_bval *key, struct mf_bval *val);

/* A growing output buffer; after a failed allocation every call is a no-op and oom is 1. */
struct mf_bbuf {
	unsigned char	*p;
	size_t		n, cap;
	int		oom;
};
void mf_bput_raw(struct mf_bbuf *b, const void *s, size_t len);
void mf_bput_str(struct mf_bbuf *b, const void *s, size_t len);
void mf_bput_cstr(struct mf_bbuf *b, const char *s);
void mf_bput_int(struct mf_bbuf *b, int64_t v);
/* 'd' or 'l' opens a container, 'e' closes one. */
void mf_bput_ch(struct mf_bbuf *b, char c);
/* Write a decoded value again, item by item (a round trip gives the same bytes). */
void mf_bput_value(struct mf_bbuf *b, const struct mf_bval *v);
void mf_bbuf_free(struct mf_bbuf *b);

#endif
