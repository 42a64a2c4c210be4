/* naming: MAM release names (see naming.h and docs/records.md). */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "file.h"
#include "naming.h"

#define NAMING_FILE_MAX	(1u << 20)

struct strlist {
	char	**v;
	size_t	  n;
};

struct mf_naming {
	struct strlist	 preserve, phrases, map_from, map_to;
	regex_t		*suffix;
	size_t		 nsuffix;
};

/* ---- small string helpers ---- */

static int
word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

size_t
mf_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Byte length of the first k code points of s. */
static size_t
utf8_prefix(const char *s, size_t k)
{
	size_t i = 0;

	while (s[i] != '\0') {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (k == 0)
				break;
			k--;
		}
		i++;
	}
	return i;
}

/* Remove s[at, at+len) in place. */
static void
cut(char *s, size_t at, size_t len)
{
	memmove(s + at, s + at + len, strlen(s + at + len) + 1);
}

/* Case-insensitive (ASCII) search for needle where it stands as whole words. */
static char *
find_word(char *hay, const char *needle)
{
	size_t nl = strlen(needle);
	char *p;

	if (nl == 0)
		return NULL;
	for (p = hay; *p != '\0'; p++) {
		if (strncasecmp(p, needle, nl) != 0)
			continue;
		/* A boundary is needed only where the phrase itself starts/ends in a word. */
		if (word_byte((unsigned char)needle[0]) && p > hay &&
		    word_byte((unsigned char)p[-1]))
			continue;
		if (word_byte((unsigned char)needle[nl - 1]) &&
		    word_byte((unsigned char)p[nl]))
			continue;
		return p;
	}
	return NULL;
}

static int
strip_char(int c)
{
	return c == ' ' || c == ',' || c == ':' || c == ';' || c == '-';
}

/*
 * Cleanup after removals: whitespace collapsed, empty () and [] removed, no space before
 * , : ;, no leading or trailing separators, "- -" made one dash.
 */
static void
cleanup(char *s)
{
	char *r, *w;
	int changed = 1;

	for (r = w = s; *r != '\0'; r++) {
		int c = (unsigned char)*r;

		if (isspace(c) || c < 0x20 || c == 0x7f) {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
			continue;
		}
		*w++ = (char)c;
	}
	*w = '\0';
	while (changed) {
		char *p;

		changed = 0;
		for (p = s; *p != '\0'; p++) {
			size_t k = 1;

			if (*p == '(' || *p == '[') {
				char close = *p == '(' ? ')' : ']';

				while (p[k] == ' ')
					k++;
				if (p[k] == close) {
					cut(s, (size_t)(p - s), k + 1);
					changed = 1;
					break;
				}
			}
			if (*p == ' ' && (p[1] == ',' || p[1] == ':' || p[1] == ';' ||
			    p[1] == ' ')) {
				cut(s, (size_t)(p - s), 1);
				changed = 1;
				break;
			}
			if (strncmp(p, "- -", 3) == 0) {
				cut(s, (size_t)(p - s), 2);
				changed = 1;
				break;
			}
		}
	}
	for (r = s; strip_char((unsigned char)*r); r++)
		;
	if (r != s)
		memmove(s, r, strlen(r) + 1);
	for (w = s + strlen(s); w > s && strip_char((unsigned char)w[-1]); w--)
		;
	*w = '\0';
}

char *
mf_naming_sanitize(const char *in)
{
	size_t len = strlen(in);
	char *out = malloc(2 * len + 1), *w = out, *r;

	if (out == NULL)
		return NULL;
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		switch (c) {
		case '/': case '\\': case '|':
			*w++ = '-';
			break;
		case ':':
			*w++ = ' ';
			*w++ = '-';
			break;
		case '"':
			*w++ = '\'';
			break;
		case '<': case '>': case '?': case '*':
			break;
		default:
			if (c < 0x20 || c == 0x7f || isspace(c)) {
				if (w > out && w[-1] != ' ')
					*w++ = ' ';
			} else
				*w++ = (char)c;
		}
	}
	*w = '\0';
	/* Collapse the spaces ':' -> " -" may have doubled, then strip dots and spaces. */
	for (r = w = out; *r != '\0'; r++)
		if (!(*r == ' ' && (w == out || w[-1] == ' ')))
			*w++ = *r;
	*w = '\0';
	for (r = out; *r == ' ' || *r == '.'; r++)
		;
	memmove(out, r, strlen(r) + 1);
	for (w = out + strlen(out); w > out && (w[-1] == ' ' || w[-1] == '.'); w--)
		;
	*w = '\0';
	return out;
}

/* ---- rules ---- */

static int
list_add(struct strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	l->v = v;
	if ((v[l->n] = strdup(s)) == NULL)
		return -1;
	l->n++;
	return 0;
}

static void
list_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* An array of strings, or an object holding one under `inner` ({"phrases": [...]}). */
static int
load_list(const cJSON *root, const char *key, const char *inner, struct strlist *l,
    char *err, size_t errsz)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key), *e;

	if (a == NULL)
		return 0;
	if (cJSON_IsObject(a))
		a = cJSON_GetObjectItemCaseSensitive(a, inner);
	if (!cJSON_IsArray(a)) {
		snprintf(err, errsz, "\"%s\" is not a list of strings", key);
		return -1;
	}
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e)) {
			snprintf(err, errsz, "\"%s\" holds a value that is not a string", key);
			return -1;
		}
		if (e->valuestring[0] != '\0' && list_add(l, e->valuestring) == -1) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
	}
	return 0;
}

struct mf_naming *
mf_naming_empty(void)
{
	return calloc(1, sizeof(struct mf_naming));
}

void
mf_naming_free(struct mf_naming *n)
{
	size_t i;

	if (n == NULL)
		return;
	list_free(&n->preserve);
	list_free(&n->phrases);
	list_free(&n->map_from);
	list_free(&n->map_to);
	for (i = 0; i < n->nsuffix; i++)
		regfree(&n->suffix[i]);
	free(n->suffix);
	free(n);
}

static int
load_rules(struct mf_naming *n, const cJSON *root, char *err, size_t errsz)
{
	static const char *phrase_keys[] = { "format_indicators", "genre_tags",
	    "publisher_tags", "remove_phrases" };
	struct strlist suf = { NULL, 0 };
	const cJSON *map, *e;
	size_t i;
	int rc = -1;

	if (!cJSON_IsObject(root)) {
		snprintf(err, errsz, "not a JSON object");
		return -1;
	}
	if (load_list(root, "preserve_exact", "titles", &n->preserve, err, errsz) == -1)
		return -1;
	for (i = 0; i < sizeof(phrase_keys) / sizeof(phrase_keys[0]); i++)
		if (load_list(root, phrase_keys[i], "phrases", &n->phrases, err, errsz) == -1)
			return -1;
	if (load_list(root, "series_suffixes", "patterns", &suf, err, errsz) == -1)
		goto out;
	if (suf.n > 0 && (n->suffix = calloc(suf.n, sizeof(regex_t))) == NULL)
		goto out;
	for (i = 0; i < suf.n; i++) {
		if (regcomp(&n->suffix[i], suf.v[i], REG_EXTENDED | REG_ICASE) != 0) {
			snprintf(err, errsz, "series_suffixes: bad pattern \"%s\"", suf.v[i]);
			goto out;
		}
		n->nsuffix++;
	}
	map = cJSON_GetObjectItemCaseSensitive(root, "author_map");
	if (map != NULL && !cJSON_IsObject(map)) {
		snprintf(err, errsz, "\"author_map\" is not an object");
		goto out;
	}
	cJSON_ArrayForEach(e, map) {
		if (!cJSON_IsString(e) || e->string == NULL || e->string[0] == '\0') {
			snprintf(err, errsz, "author_map: a value that is not a string");
			goto out;
		}
		if (list_add(&n->map_from, e->string) == -1 ||
		    list_add(&n->map_to, e->valuestring) == -1)
			goto out;
	}
	rc = 0;
out:
	list_free(&suf);
	return rc;
}

struct mf_naming *
mf_naming_load(const char *path, char *err, size_t errsz)
{
	struct mf_naming *n;
	char *owned = NULL, *buf;
	cJSON *root;
	size_t len;

	if (path == NULL)
		path = mf_config_get("MF_NAMING");
	if (path == NULL && (path = owned = mf_data_file("naming.json")) == NULL) {
		snprintf(err, errsz, "naming.json not found (set MF_NAMING or MF_DATA_DIR)");
		return NULL;
	}
	if ((buf = mf_read_file(path, NAMING_FILE_MAX, &len)) == NULL) {
		snprintf(err, errsz, "%s: cannot read it", path);
		free(owned);
		return NULL;
	}
	root = cJSON_ParseWithLength(buf, len);
	free(buf);
	if ((n = mf_naming_empty()) == NULL || root == NULL ||
	    load_rules(n, root, err, errsz) == -1) {
		char why[200];

		snprintf(why, sizeof(why), "%s", root == NULL ? "not valid JSON" : err);
		snprintf(err, errsz, "%s: %s", path, why);
		mf_naming_free(n);
		n = NULL;
	}
	cJSON_Delete(root);
	free(owned);
	return n;
}

/* ---- cleaning ---- */

static int
preserved(const struct mf_naming *n, const char *t)
{
	static const char *seps[] = { ", ", " Vol", " Book", " (", " Series" };
	size_t i, j, l;

	for (i = 0; i < n->preserve.n; i++) {
		l = strlen(n->preserve.v[i]);
		if (strncasecmp(t, n->preserve.v[i], l) != 0)
			continue;
		if (t[l] == '\0')
			return 1;
		for (j = 0; j < sizeof(seps) / sizeof(seps[0]); j++)
			if (strncmp(t + l, seps[j], strlen(seps[j])) == 0)
				return 1;
	}
	return 0;
}

static char *
clean(const struct mf_naming *n, const char *in, int series)
{
	char *s, *p;
	size_t i, pass;
	regmatch_t m;

	if ((s = strdup(in)) == NULL)
		return NULL;
	if (preserved(n, s))
		return s;
	for (i = 0; i < n->phrases.n; i++)
		while ((p = find_word(s, n->phrases.v[i])) != NULL)
			cut(s, (size_t)(p - s), strlen(n->phrases.v[i]));
	cleanup(s);
	for (pass = 0; series && pass < 4; pass++) {
		int hit = 0;

		for (i = 0; i < n->nsuffix; i++)
			if (regexec(&n->suffix[i], s, 1, &m, 0) == 0 && m.rm_eo > m.rm_so &&
			    (m.rm_so > 0 || (size_t)m.rm_eo < strlen(s))) {
				cut(s, (size_t)m.rm_so, (size_t)(m.rm_eo - m.rm_so));
				cleanup(s);
				hit = 1;
			}
		if (!hit)
			break;
	}
	if (s[0] == '\0') {
		/* Cleaning must never empty a name: fall back to the text as it was. */
		free(s);
		s = strdup(in);
	}
	return s;
}

char *
mf_naming_title(const struct mf_naming *n, const char *title)
{
	return clean(n, title, 0);
}

char *
mf_naming_series(const struct mf_naming *n, const char *series)
{
	return clean(n, series, 1);
}

char *
mf_naming_author(const struct mf_naming *n, const char *author)
{
	char *s, *p, *t;
	size_t i, fl, tl;

	for (i = 0; i < n->map_from.n; i++)
		if (strcmp(author, n->map_from.v[i]) == 0)
			return strdup(n->map_to.v[i]);
	if ((s = strdup(author)) == NULL)
		return NULL;
	for (i = 0; i < n->map_from.n; i++) {
		fl = strlen(n->map_from.v[i]);
		tl = strlen(n->map_to.v[i]);
		while ((p = strstr(s, n->map_from.v[i])) != NULL) {
			if ((t = malloc(strlen(s) - fl + tl + 1)) == NULL) {
				free(s);
				return NULL;
			}
			memcpy(t, s, (size_t)(p - s));
			memcpy(t + (p - s), n->map_to.v[i], tl);
			strcpy(t + (p - s) + tl, p + fl);
			free(s);
			s = t;
			if (tl > 0 && strstr(n->map_to.v[i], n->map_from.v[i]) != NULL)
				break;	/* a mapping that contains its key would loop */
		}
	}
	return s;
}

/* ---- volumes ---- */

/* Digits of s[0..n) without leading zeros, padded to two. */
static void
pad2(char *out, size_t outsz, const char *s, size_t n)
{
	while (n > 1 && *s == '0') {
		s++;
		n--;
	}
	snprintf(out, outsz, "%s%.*s", n < 2 ? "0" : "", (int)n, s);
}

static size_t
digits(const char *s)
{
	size_t i = 0;

	while (isdigit((unsigned char)s[i]))
		i++;
	return i;
}

size_t
mf_naming_volfmt(const char *pos, char *out, size_t outsz)
{
	char a[32], b[32];
	const char *p;
	size_t n, m;

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (pos == NULL)
		return 0;
	while (isspace((unsigned char)*pos))
		pos++;
	if (strncmp(pos, "vol_", 4) == 0 && digits(pos + 4) > 0 && strlen(pos) < 40) {
		snprintf(out, outsz, "%s", pos);
		return strlen(out);
	}
	if ((n = digits(pos)) == 0 || n > 6)
		return 0;
	pad2(a, sizeof(a), pos, n);
	p = pos + n;
	if (*p == '.' && (m = digits(p + 1)) > 0 && m <= 4) {
		size_t l = strlen(a);

		snprintf(a + l, sizeof(a) - l, ".%.*s", (int)m, p + 1);
		p += 1 + m;
	}
	b[0] = '\0';
	if (*p == '-' && (m = digits(p + 1)) > 0 && m <= 6) {
		char t[16];

		pad2(t, sizeof(t), p + 1, m);
		snprintf(b, sizeof(b), "-%s", t);
		p += 1 + m;
	} else if ((*p == 'p' || *p == ' ' || *p == 'P')) {
		const char *q = p;

		if (*q == ' ') {
			while (*q == ' ')
				q++;
			if (strncasecmp(q, "part", 4) != 0)
				goto tail;
			q += 4;
			while (*q == ' ')
				q++;
		} else
			q++;
		if ((m = digits(q)) > 0 && m <= 6) {
			snprintf(b, sizeof(b), "p%.*s", (int)m, q);
			p = q + m;
		}
	}
tail:
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0')
		return 0;
	snprintf(out, outsz, "vol_%s%s", a, b);
	return strlen(out);
}

/* Compiled title patterns for volumes and series (compiled once, kept). */
enum { RX_VOLPART, RX_RANGE, RX_VOL, RX_BOOK, RX_TRAIL, RX_SERIES, RX_N };
static regex_t rx[RX_N];
static int rx_ready;

static void
rx_init(void)
{
	static const char *pat[RX_N] = {
		"(^|[^[:alnum:]])vol(ume)?\\.?[[:space:]]*([0-9]+(\\.[0-9]+)?)[[:space:]]*[,:]?[[:space:]]*part[[:space:]]*([0-9]+)",
		"(^|[^[:alnum:]])(books|volumes|vols?\\.?)[[:space:]]*([0-9]+)[[:space:]]*-[[:space:]]*([0-9]+)",
		"(^|[^[:alnum:]])vol(ume)?\\.?[[:space:]]*([0-9]+(\\.[0-9]+)?)([^[:alnum:]]|$)",
		"(^|[^[:alnum:]])book[[:space:]]*([0-9]+(\\.[0-9]+)?)([^[:alnum:]]|$)",
		"[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+([0-9]{1,3}(\\.[0-9]+)?)$",
		"^(.*[^[:space:],:])[[:space:]]*[,:]?[[:space:]]+(vol(ume)?\\.?|book)[[:space:]]*([0-9]+(\\.[0-9]+)?)([[:space:]]*([-:(]|\xe2\x80\x93|\xe2\x80\x94).*)?$",
	};
	int i;

	if (rx_ready)
		return;
	for (i = 0; i < RX_N; i++)
		if (regcomp(&rx[i], pat[i], REG_EXTENDED | REG_ICASE) != 0)
			abort();	/* a bug in the patterns above */
	rx_ready = 1;
}

static void
grp(const char *s, const regmatch_t *m, char *out, size_t outsz)
{
	snprintf(out, outsz, "%.*s", (int)(m->rm_eo - m->rm_so), s + m->rm_so);
}

size_t
mf_naming_volume(const char *position, const char *title, char *out, size_t outsz)
{
	regmatch_t m[8];
	char a[40], b[40], form[100];

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (position != NULL && *position != '\0') {
		if (mf_naming_volfmt(position, out, outsz) > 0)
			return strlen(out);
		/* "Book 3", "3 (of 5)": the leading number form. */
		while (*position != '\0' && !isdigit((unsigned char)*position))
			position++;
		if (*position != '\0') {
			size_t n = digits(position);

			if (position[n] == '.' && digits(position + n + 1) > 0)
				n += 1 + digits(position + n + 1);
			snprintf(form, sizeof(form), "%.*s", (int)(n < 20 ? n : 20), position);
			if (mf_naming_volfmt(form, out, outsz) > 0)
				return strlen(out);
		}
	}
	if (title == NULL)
		return 0;
	rx_init();
	form[0] = '\0';
	if (regexec(&rx[RX_VOLPART], title, 8, m, 0) == 0) {
		grp(title, &m[3], a, sizeof(a));
		grp(title, &m[5], b, sizeof(b));
		snprintf(form, sizeof(form), "%sp%s", a, b);
	} else if (regexec(&rx[RX_RANGE], title, 8, m, 0) == 0) {
		grp(title, &m[3], a, sizeof(a));
		grp(title, &m[4], b, sizeof(b));
		snprintf(form, sizeof(form), "%s-%s", a, b);
	} else if (regexec(&rx[RX_VOL], title, 8, m, 0) == 0)
		grp(title, &m[3], form, sizeof(form));
	else if (regexec(&rx[RX_BOOK], title, 8, m, 0) == 0)
		grp(title, &m[2], form, sizeof(form));
	else if (regexec(&rx[RX_TRAIL], title, 8, m, 0) == 0)
		grp(title, &m[1], form, sizeof(form));
	if (form[0] == '\0')
		return 0;
	return mf_naming_volfmt(form, out, outsz);
}

int
mf_naming_series_from_title(const char *title, char **series, char *pos, size_t possz)
{
	static const char *bad[] = { "the", "a", "an", "book", "volume", "vol" };
	regmatch_t m[8];
	char *s;
	size_t i;

	*series = NULL;
	rx_init();
	if (regexec(&rx[RX_SERIES], title, 8, m, 0) != 0)
		return 0;
	if ((s = strndup(title + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so))) == NULL)
		return 0;
	cleanup(s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcasecmp(s, bad[i]) == 0)
			s[0] = '\0';
	if (mf_utf8_chars(s) < 2) {
		free(s);
		return 0;
	}
	grp(title, &m[4], pos, possz);
	*series = s;
	return 1;
}

/* ---- building ---- */

struct parts {
	const char	*identity, *vol, *year, *author, *asin, *tag;
	size_t		 suffix_chars, suffix_bytes, max_path;
};

/* Append to buf at *o; -1 when it does not fit. */
static int
app(char *buf, size_t sz, size_t *o, const char *a, const char *b, const char *c)
{
	int n = snprintf(buf + *o, sz - *o, "%s%s%s", a, b, c);

	if (n < 0 || (size_t)n >= sz - *o)
		return -1;
	*o += (size_t)n;
	return 0;
}

/* Assemble base (and folder) from the parts; 1 when the longest path fits. */
static int
assemble(const struct parts *p, const char *identity, int with_year, int with_author,
    struct mf_name_out *out)
{
	size_t bc, tc, bb, tb, o = 0, sz = sizeof(out->base) - 1;

	if (app(out->base, sz, &o, identity, "", "") == -1 ||
	    (*p->vol && app(out->base, sz, &o, " ", p->vol, "") == -1) ||
	    (with_year && *p->year && app(out->base, sz, &o, " (", p->year, ")") == -1) ||
	    (with_author && *p->author &&
	    app(out->base, sz, &o, " (", p->author, ")") == -1) ||
	    app(out->base, sz, &o, " {ASIN.", p->asin, "}") == -1)
		return 0;
	o = 0;
	if (app(out->folder, sizeof(out->folder), &o, out->base, "", "") == -1 ||
	    (*p->tag && app(out->folder, sizeof(out->folder), &o, " [", p->tag, "]") == -1))
		return 0;
	bc = mf_utf8_chars(out->base);
	bb = strlen(out->base);
	tb = strlen(out->folder) - bb;
	tc = mf_utf8_chars(out->folder) - bc;
	/* The folder name also names MF_OUT_DIR/<name>/<name>.torrent: room for ".torrent". */
	return bc + tc + 1 + bc + p->suffix_chars <= p->max_path &&
	    bb + tb + strlen(".torrent") <= 255 && bb + p->suffix_bytes <= 255;
}

int
mf_naming_build(const struct mf_naming *n, const struct mf_name_in *in,
    struct mf_name_out *out, char *err, size_t errsz)
{
	char vol[48], year[8], pos[40];
	char *series = NULL, *ident = NULL, *author = NULL, *asin = NULL, *tag = NULL, *t;
	char *guess = NULL;
	struct parts p;
	size_t k, yl;
	int rc = -1, level;

	memset(out, 0, sizeof(*out));
	vol[0] = year[0] = '\0';
	if (in->asin == NULL || *in->asin == '\0') {
		snprintf(err, errsz, "no ASIN");
		return -1;
	}
	if (in->series != NULL && *in->series != '\0') {
		if ((t = mf_naming_series(n, in->series)) == NULL)
			goto oom;
		series = mf_naming_sanitize(t);
		free(t);
		mf_naming_volume(in->position, in->title, vol, sizeof(vol));
	} else if (in->title != NULL &&
	    mf_naming_series_from_title(in->title, &guess, pos, sizeof(pos))) {
		/* No series known: "Overlord, Vol. 5" names one. */
		if ((t = mf_naming_series(n, guess)) == NULL)
			goto oom;
		series = mf_naming_sanitize(t);
		free(t);
		mf_naming_volume(in->position, pos, vol, sizeof(vol));
		if (vol[0] == '\0')
			mf_naming_volfmt(pos, vol, sizeof(vol));
	}
	if (series != NULL && *series != '\0' && vol[0] != '\0') {
		out->series_mode = 1;
		/* "The Great Cleric: Volume 1" in series "Great Cleric" keeps its "The". */
		if (in->title != NULL && strncasecmp(in->title, "the ", 4) == 0 &&
		    strncasecmp(series, "the ", 4) != 0 &&
		    strncasecmp(in->title + 4, series, strlen(series)) == 0) {
			if ((t = malloc(strlen(series) + 5)) == NULL)
				goto oom;
			snprintf(t, strlen(series) + 5, "The %s", series);
			free(series);
			series = t;
		}
		ident = series;
		series = NULL;
	} else {
		vol[0] = '\0';
		if (in->title == NULL || *in->title == '\0') {
			snprintf(err, errsz, "no title");
			goto out;
		}
		if ((t = mf_naming_title(n, in->title)) == NULL)
			goto oom;
		ident = mf_naming_sanitize(t);
		free(t);
		if (ident != NULL && *ident == '\0') {
			/* Cleaning left only what sanitising removes: use the raw title. */
			free(ident);
			ident = mf_naming_sanitize(in->title);
		}
	}
	if (ident == NULL)
		goto oom;
	if (*ident == '\0') {
		snprintf(err, errsz, "the title is empty once cleaned");
		goto out;
	}
	if (in->author != NULL && *in->author != '\0') {
		if ((t = mf_naming_author(n, in->author)) == NULL)
			goto oom;
		author = mf_naming_sanitize(t);
		free(t);
	} else
		author = strdup("");
	if (in->year != NULL && (yl = digits(in->year)) == 4)
		snprintf(year, sizeof(year), "%.4s", in->year);
	asin = mf_naming_sanitize(in->asin);
	tag = mf_naming_sanitize(in->tag != NULL ? in->tag : "");
	if (author == NULL || asin == NULL || tag == NULL)
		goto oom;
	p = (struct parts){ ident, vol, year, author, asin, tag, in->suffix_chars,
	    in->suffix_bytes, in->max_path };
	/* Full name, then without the author, then without the year. */
	for (level = 0; level < 3; level++) {
		if (assemble(&p, ident, level < 2, level < 1, out)) {
			if (level >= 1 && *author)
				out->dropped[out->ndropped++] = "author";
			if (level >= 2 && *year)
				out->dropped[out->ndropped++] = "year";
			out->truncated = out->ndropped > 0;
			rc = 0;
			goto out;
		}
	}
	if (*author)
		out->dropped[out->ndropped++] = "author";
	if (*year)
		out->dropped[out->ndropped++] = "year";
	/* Cut the title or series, longest first, at a character boundary. */
	for (k = mf_utf8_chars(ident); k-- > 1;) {
		size_t b = utf8_prefix(ident, k);
		char cutname[MF_NAME_MAX];

		/* Prefer a word boundary when one is near (up to 20 bytes back). */
		if (ident[b] != ' ' && ident[b] != '\0') {
			size_t w = b;

			while (w > 0 && b - w < 20 && ident[w - 1] != ' ')
				w--;
			if (w > 0 && ident[w - 1] == ' ')
				b = w - 1;
		}
		while (b > 0 && strip_char((unsigned char)ident[b - 1]))
			b--;
		if (b == 0 || b + 4 > sizeof(cutname))
			continue;
		snprintf(cutname, sizeof(cutname), "%.*s...", (int)b, ident);
		if (assemble(&p, cutname, 0, 0, out)) {
			out->dropped[out->ndropped++] = out->series_mode ? "series" : "title";
			out->truncated = 1;
			rc = 0;
			goto out;
		}
	}
	memset(out, 0, sizeof(*out));
	snprintf(err, errsz, "no name fits MF_MAX_PATH=%zu with the volume, ASIN and tag kept",
	    in->max_path);
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
out:
	free(series);
	free(ident);
	free(author);
	free(asin);
	free(tag);
	free(guess);
	return rc;
}
