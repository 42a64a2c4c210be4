/* bencode: a strict, bounds-checked, non-allocating bencode reader, and a small writer. */
#include "bencode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dec {
	const unsigned char	*base, *end;
	unsigned		flags;
	struct mf_berr		*err;
	const char		*key;		/* top-level key to find, or NULL */
	size_t			keylen;
	struct mf_bval		*val;
};

static const unsigned char *
fail(struct dec *d, const unsigned char *at, const char *msg)
{
	if (d->err) {
		d->err->off = (size_t)(at - d->base);
		snprintf(d->err->msg, sizeof d->err->msg, "%s", msg);
	}
	return NULL;
}

#define ISDIGIT(c) ((c) >= '0' && (c) <= '9')

/* A string at p ("N:bytes"); returns the byte after it, with *s and *len set. */
static const unsigned char *
dec_str(struct dec *d, const unsigned char *p, const unsigned char **s, size_t *len)
{
	const unsigned char *q = p;
	uint64_t n = 0;

	if (*q == '0' && q + 1 < d->end && ISDIGIT(q[1]))
		return fail(d, p, "leading zero in string length");
	while (q < d->end && ISDIGIT(*q)) {
		if (n > (UINT64_MAX - 9) / 10)
			return fail(d, p, "string length overflows");
		n = n * 10 + (uint64_t)(*q - '0');
		q++;
	}
	if (q == d->end)
		return fail(d, q, "truncated input in string length");
	if (*q != ':')
		return fail(d, q, "expected ':' after string length");
	q++;
	if (n > (uint64_t)(d->end - q))
		return fail(d, p, "string length runs past the end of input");
	*s = q;
	*len = (size_t)n;
	return q + n;
}

static const unsigned char *
dec_int(struct dec *d, const unsigned char *p)
{
	const unsigned char *q = p + 1;
	uint64_t n = 0, lim;
	int neg = 0;

	if (q < d->end && *q == '-') {
		neg = 1;
		q++;
	}
	if (q == d->end)
		return fail(d, q, "truncated input in integer");
	if (*q == 'e')
		return fail(d, p, "empty integer");
	if (!ISDIGIT(*q))
		return fail(d, q, "unexpected byte in integer");
	if (*q == '0') {
		if (neg)
			return fail(d, p, "negative zero");
		if (q + 1 < d->end && ISDIGIT(q[1]))
			return fail(d, p, "leading zero in integer");
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	while (q < d->end && ISDIGIT(*q)) {
		unsigned dg = (unsigned)(*q - '0');

		if (n > (lim - dg) / 10)
			return fail(d, p, "integer overflows 64 bits");
		n = n * 10 + dg;
		q++;
	}
	if (q == d->end)
		return fail(d, q, "truncated input in integer");
	if (*q != 'e')
		return fail(d, q, "unexpected byte in integer");
	return q + 1;
}

static const unsigned char *
dec_value(struct dec *d, const unsigned char *p, int depth)
{
	const unsigned char *s, *pk = NULL, *k;
	size_t len, pklen = 0, klen;

	if (p >= d->end)
		return fail(d, p, "truncated input");
	switch (*p) {
	case 'i':
		return dec_int(d, p);
	case 'l':
		if (depth >= MF_BENC_MAXDEPTH)
			return fail(d, p, "nesting deeper than the limit");
		for (p++;;) {
			if (p >= d->end)
				return fail(d, p, "truncated input in list");
			if (*p == 'e')
				return p + 1;
			if (!(p = dec_value(d, p, depth + 1)))
				return NULL;
		}
	case 'd':
		if (depth >= MF_BENC_MAXDEPTH)
			return fail(d, p, "nesting deeper than the limit");
		for (p++;;) {
			if (p >= d->end)
				return fail(d, p, "truncated input in dict");
			if (*p == 'e')
				return p + 1;
			if (!ISDIGIT(*p))
				return fail(d, p, "dict key is not a string");
			const unsigned char *kp = p;
			if (!(p = dec_str(d, p, &k, &klen)))
				return NULL;
			if (pk) {
				/* Keys are short: a plain loop beats a call to memcmp here. */
				size_t m = pklen < klen ? pklen : klen, i = 0;
				int c;

				while (i < m && pk[i] == k[i])
					i++;
				if (i < m)
					c = pk[i] < k[i] ? -1 : 1;
				else
					c = pklen < klen ? -1 : pklen > klen;
				if (c == 0)
					return fail(d, kp, "duplicate dict key");
				if (c > 0 && (d->flags & MF_BENC_STRICT))
					return fail(d, kp, "dict keys out of sorted order");
			}
			pk = k;
			pklen = klen;
			s = p;
			if (!(p = dec_value(d, p, depth + 1)))
				return NULL;
			if (depth == 0 && d->key && !d->val->p && klen == d->keylen &&
			    memcmp(k, d->key, klen) == 0) {
				d->val->p = s;
				d->val->end = p;
			}
		}
	default:
		if (ISDIGIT(*p))
			return dec_str(d, p, &s, &len);
		{
			char msg[48];

			snprintf(msg, sizeof msg, "unexpected byte 0x%02x", *p);
			return fail(d, p, msg);
		}
	}
}

int
mf_bdecode(const void *buf, size_t len, unsigned flags, struct mf_bval *root,
    struct mf_berr *err)
{
	return mf_bdecode_find(buf, len, flags, NULL, root, NULL, err);
}

int
mf_bdecode_find(const void *buf, size_t len, unsigned flags, const char *key,
    struct mf_bval *root, struct mf_bval *val, struct mf_berr *err)
{
	struct dec d = { buf, (const unsigned char *)buf + len, flags, err, key,
	    key ? strlen(key) : 0, val };
	const unsigned char *e;

	if (val)
		val->p = val->end = NULL;

	if (len == 0) {
		fail(&d, d.base, "empty input");
		return -1;
	}
	if (!(e = dec_value(&d, d.base, 0)))
		return -1;
	if (e != d.end) {
		fail(&d, e, "trailing garbage after the value");
		return -1;
	}
	root->p = d.base;
	root->end = d.end;
	return 0;
}

/*
 * End of the value at p, on input mf_bdecode accepted.  Still clamped to end so that a
 * misuse can never read out of bounds.
 */
static const unsigned char *
skip(const unsigned char *p, const unsigned char *end)
{
	long depth = 0;

	do {
		if (p >= end)
			return end;
		switch (*p) {
		case 'i':
			p = memchr(p, 'e', (size_t)(end - p));
			if (!p)
				return end;
			p++;
			break;
		case 'l':
		case 'd':
			depth++;
			p++;
			break;
		case 'e':
			depth--;
			p++;
			break;
		default: {
			size_t n = 0;

			while (p < end && ISDIGIT(*p) && n < SIZE_MAX / 10)
				n = n * 10 + (size_t)(*p++ - '0');
			if (p >= end || *p != ':')
				return end;
			p++;
			if (n > (size_t)(end - p))
				return end;
			p += n;
		}
		}
	} while (depth > 0);
	return p;
}

char
mf_btype(const struct mf_bval *v)
{
	if (v->p >= v->end)
		return 0;
	if (*v->p == 'i' || *v->p == 'l' || *v->p == 'd')
		return (char)*v->p;
	return ISDIGIT(*v->p) ? 's' : 0;
}

int
mf_bint(const struct mf_bval *v, int64_t *out)
{
	const unsigned char *q;
	uint64_t n = 0;
	int neg = 0;

	if (mf_btype(v) != 'i')
		return -1;
	q = v->p + 1;
	if (q < v->end && *q == '-') {
		neg = 1;
		q++;
	}
	while (q < v->end && ISDIGIT(*q))
		n = n * 10 + (uint64_t)(*q++ - '0');
	/* Checked by mf_bdecode: n fits, including -2^63. */
	*out = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

int
mf_bstr(const struct mf_bval *v, const char **s, size_t *len)
{
	const unsigned char *q;
	size_t n = 0;

	if (mf_btype(v) != 's')
		return -1;
	for (q = v->p; q < v->end && ISDIGIT(*q); q++)
		n = n * 10 + (size_t)(*q - '0');
	if (q >= v->end || n > (size_t)(v->end - q - 1))
		return -1;
	*s = (const char *)q + 1;
	*len = n;
	return 0;
}

int
mf_bstreq(const struct mf_bval *v, const char *s)
{
	const char *b;
	size_t n;

	return mf_bstr(v, &b, &n) == 0 && n == strlen(s) && memcmp(b, s, n) == 0;
}

void
mf_biter_init(struct mf_biter *it, const struct mf_bval *c)
{
	char t = mf_btype(c);

	if (t == 'l' || t == 'd') {
		it->p = c->p + 1;
		it->end = c->end - 1;	/* the closing 'e' */
	} else {
		it->p = it->end = c->p;
	}
}

int
mf_bnext(struct mf_biter *it, struct mf_bval *out)
{
	if (it->p >= it->end || *it->p == 'e')
		return 0;
	out->p = it->p;
	out->end = it->p = skip(it->p, it->end);
	return 1;
}

int
mf_bnext_kv(struct mf_biter *it, struct mf_bval *key, struct mf_bval *val)
{
	return mf_bnext(it, key) && mf_bnext(it, val);
}

int
mf_bget(const struct mf_bval *d, const char *key, struct mf_bval *out)
{
	struct mf_biter it;
	struct mf_bval k, v;

	if (mf_btype(d) != 'd')
		return -1;
	mf_biter_init(&it, d);
	while (mf_bnext_kv(&it, &k, &v))
		if (mf_bstreq(&k, key)) {
			*out = v;
			return 0;
		}
	return -1;
}

void
mf_bput_raw(struct mf_bbuf *b, const void *s, size_t len)
{
	if (b->oom)
		return;
	if (len > b->cap - b->n) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *np;

		while (cap - b->n < len) {
			if (cap > SIZE_MAX / 2) {
				b->oom = 1;
				return;
			}
			cap *= 2;
		}
		if (!(np = realloc(b->p, cap))) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->n, s, len);
	b->n += len;
}

void
mf_bput_str(struct mf_bbuf *b, const void *s, size_t len)
{
	char hdr[24];
	int n = snprintf(hdr, sizeof hdr, "%zu:", len);

	mf_bput_raw(b, hdr, (size_t)n);
	mf_bput_raw(b, s, len);
}

void
mf_bput_cstr(struct mf_bbuf *b, const char *s)
{
	mf_bput_str(b, s, strlen(s));
}

void
mf_bput_int(struct mf_bbuf *b, int64_t v)
{
	char s[32];
	int n = snprintf(s, sizeof s, "i%" PRId64 "e", v);

	mf_bput_raw(b, s, (size_t)n);
}

void
mf_bput_ch(struct mf_bbuf *b, char c)
{
	mf_bput_raw(b, &c, 1);
}

void
mf_bput_value(struct mf_bbuf *b, const struct mf_bval *v)
{
	struct mf_biter it;
	struct mf_bval x;
	const char *s;
	size_t n;
	int64_t i;

	switch (mf_btype(v)) {
	case 'i':
		if (mf_bint(v, &i) == 0)
			mf_bput_int(b, i);
		break;
	case 's':
		if (mf_bstr(v, &s, &n) == 0)
			mf_bput_str(b, s, n);
		break;
	case 'l':
	case 'd':
		mf_bput_ch(b, (char)*v->p);
		mf_biter_init(&it, v);
		while (mf_bnext(&it, &x))
			mf_bput_value(b, &x);
		mf_bput_ch(b, 'e');
		break;
	default:
		break;
	}
}

void
mf_bbuf_free(struct mf_bbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}
