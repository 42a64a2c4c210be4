/* html: HTML fragments (Audnex summaries) turned into plain text with paragraphs kept. */
#include "html.h"
#include "json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
mf_buf_put(struct mf_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		char *nb;

		while (nc < b->len + n + 1)
			nc *= 2;
		if (!(nb = realloc(b->buf, nc))) {
			b->oom = 1;
			return;
		}
		b->buf = nb;
		b->cap = nc;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
mf_buf_str(struct mf_buf *b, const char *s)
{
	mf_buf_put(b, s, strlen(s));
}

void
mf_buf_printf(struct mf_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	mf_buf_put(b, s, (size_t)n);
	free(s);
}

char *
mf_buf_take(struct mf_buf *b)
{
	char *r = b->oom ? NULL : b->buf;

	if (b->oom)
		free(b->buf);
	else if (!r)
		r = strdup("");
	b->buf = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
	return r;
}

struct out {
	struct mf_buf	b;
	int		brk;	/* pending break: 0 none, 1 line, 2 paragraph */
	int		space;	/* pending space */
};

static void
put(struct out *o, const char *s, size_t n)
{
	mf_buf_put(&o->b, s, n);
}

/* Visible text: the pending break or space goes first (never at the very start). */
static void
text(struct out *o, const char *s, size_t n)
{
	if (o->b.len > 0) {
		if (o->brk)
			put(o, o->brk > 1 ? "\n\n" : "\n", o->brk > 1 ? 2 : 1);
		else if (o->space)
			put(o, " ", 1);
	}
	o->brk = o->space = 0;
	put(o, s, n);
}

static void
brk(struct out *o, int level)
{
	if (level > o->brk)
		o->brk = level;
	o->space = 0;
}

static size_t
utf8(uint32_t cp, char *b)
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (char)(0xF0 | cp >> 18);
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	b[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static const struct {
	const char	*name;
	uint32_t	cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", ' ' }, { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "hellip", 0x2026 },
	{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "ldquo", 0x201C }, { "rdquo", 0x201D },
	{ "bull", 0x2022 }, { "middot", 0xB7 }, { "copy", 0xA9 }, { "reg", 0xAE },
	{ "trade", 0x2122 }, { "deg", 0xB0 }, { "times", 0xD7 }, { "euro", 0x20AC },
	{ "pound", 0xA3 }, { "laquo", 0xAB }, { "raquo", 0xBB }, { "iexcl", 0xA1 },
	{ "iquest", 0xBF }, { "szlig", 0xDF }, { "aacute", 0xE1 }, { "agrave", 0xE0 },
	{ "acirc", 0xE2 }, { "auml", 0xE4 }, { "aring", 0xE5 }, { "ccedil", 0xE7 },
	{ "eacute", 0xE9 }, { "egrave", 0xE8 }, { "ecirc", 0xEA }, { "euml", 0xEB },
	{ "iacute", 0xED }, { "igrave", 0xEC }, { "iuml", 0xEF }, { "ntilde", 0xF1 },
	{ "oacute", 0xF3 }, { "ograve", 0xF2 }, { "ocirc", 0xF4 }, { "ouml", 0xF6 },
	{ "oslash", 0xF8 }, { "uacute", 0xFA }, { "ugrave", 0xF9 }, { "uuml", 0xFC },
	{ "Auml", 0xC4 }, { "Ouml", 0xD6 }, { "Uuml", 0xDC }, { "Eacute", 0xC9 },
};

/* Decode the entity at s[0] == '&'; the bytes used, or 0 when it is not one. */
static size_t
entity(const char *s, size_t n, char *b, size_t *bl)
{
	size_t i = 1;
	uint32_t cp = 0;

	if (i < n && s[i] == '#') {
		int hex = 0, digits = 0;

		i++;
		if (i < n && (s[i] == 'x' || s[i] == 'X')) {
			hex = 1;
			i++;
		}
		for (; i < n && digits < 8; i++, digits++) {
			int c = (unsigned char)s[i];

			if (isdigit(c))
				cp = cp * (hex ? 16 : 10) + (uint32_t)(c - '0');
			else if (hex && isxdigit(c))
				cp = cp * 16 + (uint32_t)(tolower(c) - 'a' + 10);
			else
				break;
		}
		if (!digits || i >= n || s[i] != ';')
			return 0;
		*bl = utf8(cp, b);
		return i + 1;
	}
	for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
		size_t l = strlen(entities[k].name);

		if (l + 2 <= n && memcmp(s + 1, entities[k].name, l) == 0 && s[l + 1] == ';') {
			*bl = utf8(entities[k].cp, b);
			return l + 2;
		}
	}
	return 0;
}

/* The tag name at s (after '<' and an optional '/'), lower-cased into name. */
static void
tag_name(const char *s, size_t n, char *name, size_t cap)
{
	size_t i = 0;

	/* A tag name starts with a letter: "3<4" is text. */
	if (n == 0 || !isalpha((unsigned char)s[0])) {
		name[0] = '\0';
		return;
	}
	while (i < n && i + 1 < cap && isalnum((unsigned char)s[i])) {
		name[i] = (char)tolower((unsigned char)s[i]);
		i++;
	}
	name[i] = '\0';
}

/* Where the raw-text element ending in </name> closes, or n. */
static size_t
skip_raw(const char *s, size_t n, size_t i, const char *name)
{
	size_t l = strlen(name);

	for (; i + l + 2 < n; i++)
		if (s[i] == '<' && s[i + 1] == '/' && strncasecmp(s + i + 2, name, l) == 0)
			return i;
	return n;
}

char *
mf_html_to_text(const char *s, size_t n)
{
	struct out o = { 0 };
	size_t i = 0;
	char *r;

	put(&o, "", 0);
	while (i < n && !o.b.oom) {
		unsigned char c = (unsigned char)s[i];

		if (c == '<') {
			const char *end;
			char name[16];
			int closing;

			if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
				end = memmem(s + i + 4, n - i - 4, "-->", 3);
				i = end ? (size_t)(end - s) + 3 : n;
				continue;
			}
			closing = i + 1 < n && s[i + 1] == '/';
			tag_name(s + i + 1 + closing, n - i - 1 - closing, name, sizeof name);
			if (!*name) {	/* a bare '<' is text */
				text(&o, "<", 1);
				i++;
				continue;
			}
			end = memchr(s + i, '>', n - i);
			i = end ? (size_t)(end - s) + 1 : n;
			if (!strcmp(name, "br")) {
				brk(&o, 1);
			} else if (!strcmp(name, "li")) {
				if (!closing) {
					brk(&o, 1);
					text(&o, "\xe2\x80\xa2 ", 4);
					o.space = 0;
				}
			} else if (!strcmp(name, "p") || !strcmp(name, "div") || !strcmp(name, "ul") ||
			    !strcmp(name, "ol") || !strcmp(name, "blockquote") ||
			    (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2])) {
				brk(&o, 2);
			} else if (!closing && (!strcmp(name, "script") || !strcmp(name, "style"))) {
				i = skip_raw(s, n, i, name);
			}
			/* Inline tags (b, i, span...) separate nothing: only a space that was there. */
			continue;
		}
		if (c == '&') {
			char b[4];
			size_t bl = 0, used = entity(s + i, n - i, b, &bl);

			if (used) {
				if (bl == 1 && b[0] == ' ')
					o.space = 1;
				else
					text(&o, b, bl);
				i += used;
				continue;
			}
			text(&o, "&", 1);
			i++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			o.space = 1;
			i++;
			continue;
		}
		if (c == 0) {	/* a NUL cannot be carried in a C string */
			i++;
			continue;
		}
		text(&o, s + i, 1);
		i++;
	}
	if (o.b.oom) {
		free(o.b.buf);
		return NULL;
	}
	if (!mf_utf8_valid(o.b.buf, o.b.len)) {
		r = mf_utf8_display(o.b.buf, o.b.len);
		free(o.b.buf);
		return r;
	}
	return o.b.buf;
}
