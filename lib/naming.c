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
#include "romaji.h"

#define NAMING_FILE_MAX	(1u << 20)
#define SUBTITLE_MAX	1024	/* longer subtitles are cut before the rules see them */

struct strlist {
	char	**v;
	size_t	  n;
};

struct regexes {
	regex_t	*v;
	size_t	 n;
};

/* One of subtitle_redundancy_rules.rules. */
struct redundancy {
	char	*pattern;	/* pattern_template, with {{series}} and {{title}} */
	int	 strip;		/* action strip_match; else drop_subtitle */
};

struct mf_naming {
	struct strlist	 preserve, phrases, map_from, map_to, roles, credits;
	struct regexes	 suffix, sub_keep, sub_remove;
	struct redundancy *rules;
	size_t		 nrules;
	int		 sub_if_series;	/* subtitle_patterns.remove_if_matches_series */
	int		 rules_on;	/* subtitle_redundancy_rules.enabled */
	int		 romaji;
};

/* The original's defaults when a naming file has no author_roles. */
static const char *const default_roles[] = { "translator", "illustrator", "editor", "adapter",
    "contributor", "compiler" };
static const char *const default_credits[] = { "afterword", "foreword", "introduction",
    "cover design", "cover art" };

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
mf_naming_set_romaji(struct mf_naming *n, int on)
{
	n->romaji = on;
}

static void
regexes_free(struct regexes *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		regfree(&r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
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
	list_free(&n->roles);
	list_free(&n->credits);
	regexes_free(&n->suffix);
	regexes_free(&n->sub_keep);
	regexes_free(&n->sub_remove);
	for (i = 0; i < n->nrules; i++)
		free(n->rules[i].pattern);
	free(n->rules);
	free(n);
}

/* Patterns (POSIX ERE, case-insensitive) of root[key] (or root[key][inner]). */
static int
load_regexes(const cJSON *root, const char *key, const char *inner, int flags,
    struct regexes *r, char *err, size_t errsz)
{
	struct strlist l = { NULL, 0 };
	size_t i;
	int rc = -1;

	if (load_list(root, key, inner, &l, err, errsz) == -1)
		goto out;
	if (l.n > 0 && (r->v = calloc(l.n, sizeof(regex_t))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		if (regcomp(&r->v[i], l.v[i], REG_EXTENDED | REG_ICASE | flags) != 0) {
			snprintf(err, errsz, "%s: bad pattern \"%s\"", key, l.v[i]);
			goto out;
		}
		r->n++;
	}
	rc = 0;
out:
	list_free(&l);
	return rc;
}

static int
load_defaults(struct strlist *l, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list_add(l, v[i]) == -1)
			return -1;
	return 0;
}

/* A boolean of obj (true/false), dflt when absent; -1 (with err) when not a boolean. */
static int
load_bool(const cJSON *obj, const char *key, int dflt, char *err, size_t errsz)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (b == NULL)
		return dflt;
	if (!cJSON_IsBool(b)) {
		snprintf(err, errsz, "\"%s\" is not true or false", key);
		return -1;
	}
	return cJSON_IsTrue(b);
}

static char *subst(const char *tmpl, const char *series, const char *title);

/* subtitle_patterns and subtitle_redundancy_rules. */
static int
load_subtitle_rules(struct mf_naming *n, const cJSON *root, char *err, size_t errsz)
{
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(root, "subtitle_patterns");
	const cJSON *rr = cJSON_GetObjectItemCaseSensitive(root, "subtitle_redundancy_rules");
	const cJSON *rules, *e;
	regex_t re;
	char *t;

	if (sp != NULL && !cJSON_IsObject(sp)) {
		snprintf(err, errsz, "\"subtitle_patterns\" is not an object");
		return -1;
	}
	if (load_regexes(sp, "keep_patterns", "patterns", REG_NOSUB, &n->sub_keep, err,
	    errsz) == -1 || load_regexes(sp, "remove_patterns", "patterns", REG_NOSUB,
	    &n->sub_remove, err, errsz) == -1 ||
	    (n->sub_if_series = load_bool(sp, "remove_if_matches_series", 1, err, errsz)) == -1)
		return -1;
	if (rr == NULL)
		return 0;
	if (!cJSON_IsObject(rr)) {
		snprintf(err, errsz, "\"subtitle_redundancy_rules\" is not an object");
		return -1;
	}
	if ((n->rules_on = load_bool(rr, "enabled", 1, err, errsz)) == -1)
		return -1;
	rules = cJSON_GetObjectItemCaseSensitive(rr, "rules");
	if (rules != NULL && !cJSON_IsArray(rules)) {
		snprintf(err, errsz, "subtitle_redundancy_rules: \"rules\" is not a list");
		return -1;
	}
	if (cJSON_GetArraySize(rules) > 0 && (n->rules = calloc(
	    (size_t)cJSON_GetArraySize(rules), sizeof(*n->rules))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	cJSON_ArrayForEach(e, rules) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
		const cJSON *pt = cJSON_GetObjectItemCaseSensitive(e, "pattern_template");
		const cJSON *ac = cJSON_GetObjectItemCaseSensitive(e, "action");
		struct redundancy *r = &n->rules[n->nrules];

		if (!cJSON_IsString(pt) || pt->valuestring[0] == '\0' ||
		    (id != NULL && !cJSON_IsString(id)) || (ac != NULL && (!cJSON_IsString(ac) ||
		    (strcmp(ac->valuestring, "drop_subtitle") != 0 &&
		    strcmp(ac->valuestring, "strip_match") != 0)))) {
			snprintf(err, errsz, "subtitle_redundancy_rules: rule %zu needs a "
			    "pattern_template and an action drop_subtitle or strip_match",
			    n->nrules + 1);
			return -1;
		}
		/* Checked now with stand-ins for the names, so a bad rule fails at load. */
		if ((t = subst(pt->valuestring, "x", "x")) == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		if (regcomp(&re, t, REG_EXTENDED | REG_ICASE) != 0) {
			snprintf(err, errsz, "subtitle_redundancy_rules: bad pattern_template "
			    "\"%s\"", pt->valuestring);
			free(t);
			return -1;
		}
		regfree(&re);
		free(t);
		r->pattern = strdup(pt->valuestring);
		r->strip = ac != NULL && strcmp(ac->valuestring, "strip_match") == 0;
		n->nrules++;
		if (r->pattern == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int
load_rules(struct mf_naming *n, const cJSON *root, char *err, size_t errsz)
{
	static const char *phrase_keys[] = { "format_indicators", "genre_tags",
	    "publisher_tags", "remove_phrases" };
	const cJSON *map, *roles, *e;
	size_t i;

	if (!cJSON_IsObject(root)) {
		snprintf(err, errsz, "not a JSON object");
		return -1;
	}
	if (load_list(root, "preserve_exact", "titles", &n->preserve, err, errsz) == -1)
		return -1;
	for (i = 0; i < sizeof(phrase_keys) / sizeof(phrase_keys[0]); i++)
		if (load_list(root, phrase_keys[i], "phrases", &n->phrases, err, errsz) == -1)
			return -1;
	if (load_regexes(root, "series_suffixes", "patterns", 0, &n->suffix, err, errsz) == -1 ||
	    load_subtitle_rules(n, root, err, errsz) == -1)
		return -1;
	roles = cJSON_GetObjectItemCaseSensitive(root, "author_roles");
	if (roles != NULL && !cJSON_IsObject(roles)) {
		snprintf(err, errsz, "\"author_roles\" is not an object");
		return -1;
	}
	if (roles == NULL) {
		if (load_defaults(&n->roles, default_roles, sizeof(default_roles) /
		    sizeof(default_roles[0])) == -1 || load_defaults(&n->credits,
		    default_credits, sizeof(default_credits) / sizeof(default_credits[0])) == -1) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
	} else if (load_list(roles, "roles", "roles", &n->roles, err, errsz) == -1 ||
	    load_list(roles, "credit_roles", "roles", &n->credits, err, errsz) == -1)
		return -1;
	map = cJSON_GetObjectItemCaseSensitive(root, "author_map");
	if (map != NULL && !cJSON_IsObject(map)) {
		snprintf(err, errsz, "\"author_map\" is not an object");
		return -1;
	}
	cJSON_ArrayForEach(e, map) {
		if (e->string != NULL && e->string[0] == '_')
			continue;	/* "_comment" */
		if (!cJSON_IsString(e) || e->string == NULL || e->string[0] == '\0') {
			snprintf(err, errsz, "author_map: a value that is not a string");
			return -1;
		}
		if (list_add(&n->map_from, e->string) == -1 ||
		    list_add(&n->map_to, e->valuestring) == -1) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
	}
	n->romaji = 1;
	return 0;
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

/* 1 when s[0..len) is only an article or blank ("The " of "The Chronicles"). */
static int
only_article(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '-' || s[len - 1] == ','))
		len--;
	return len == 0 || (len == 3 && strncasecmp(s, "the", 3) == 0) ||
	    (len == 1 && (*s == 'a' || *s == 'A')) || (len == 2 && strncasecmp(s, "an", 2) == 0);
}

static size_t
digits(const char *s)
{
	size_t i = 0;

	while (isdigit((unsigned char)s[i]))
		i++;
	return i;
}

/* Length of a volume number at p: "12", "1.5", "1-3", "2.5-4" (0 when none). */
static size_t
volnum(const char *p)
{
	size_t i = digits(p);

	if (i == 0)
		return 0;
	if (p[i] == '.' && isdigit((unsigned char)p[i + 1]))
		i += 1 + digits(p + i + 1);
	if (p[i] == '-' && isdigit((unsigned char)p[i + 1])) {
		i += 1 + digits(p + i + 1);
		if (p[i] == '.' && isdigit((unsigned char)p[i + 1]))
			i += 1 + digits(p + i + 1);
	}
	return i;
}

static int
letter_value(char c)
{
	static const char l[] = "IVXLCDM";
	static const int v[] = { 1, 5, 10, 50, 100, 500, 1000 };
	const char *p = strchr(l, c);

	return p != NULL && c != '\0' ? v[p - l] : 0;
}

/* Length of an upper-case Roman numeral (I to MMMCMXCIX, canonical form) at p, or 0. */
static size_t
roman(const char *p)
{
	static const struct {
		const char	*s;
		int		 v;
	} sym[] = { { "M", 1000 }, { "CM", 900 }, { "D", 500 }, { "CD", 400 }, { "C", 100 },
	    { "XC", 90 }, { "L", 50 }, { "XL", 40 }, { "X", 10 }, { "IX", 9 }, { "V", 5 },
	    { "IV", 4 }, { "I", 1 } };
	char canon[32];
	size_t n = 0, i, o = 0;
	int v = 0, k;

	while (n < 16 && p[n] != '\0' && strchr("IVXLCDM", p[n]) != NULL)
		n++;
	if (n == 0 || n == 16)
		return 0;
	for (i = 0; i < n; i++) {
		int a = letter_value(p[i]), b = i + 1 < n ? letter_value(p[i + 1]) : 0;

		v += b > a ? -a : a;
	}
	if (v <= 0 || v >= 4000)
		return 0;
	/* Only the canonical spelling counts ("IIII" or "VX" is not a numeral). */
	for (k = 0; k < 13; k++)
		while (v >= sym[k].v && o + 3 < sizeof(canon)) {
			o += (size_t)snprintf(canon + o, sizeof(canon) - o, "%s", sym[k].s);
			v -= sym[k].v;
		}
	return o == n && strncmp(canon, p, n) == 0 ? n : 0;
}

/* Length of a case-insensitive word w at p (followed by a non-letter), or 0. */
static size_t
word_at(const char *p, const char *w)
{
	size_t l = strlen(w);

	return strncasecmp(p, w, l) == 0 && !isalpha((unsigned char)p[l]) ? l : 0;
}

/*
 * Remove the volume markers the name's vol_N replaces: "Vol. 3", "Vol 3", "Volume 12",
 * "Book 4", "Book: 4", "Book XII", "Books 1-3", each with a ", Part N" that follows.  When
 * the marker ends the text or a clause (", Vol. 3: Subtitle") the separator before it
 * goes too.  Only whole words: "Audiobook 3", "Book Mill" and "Volume Control" stay.
 */
static void
strip_volumes(char *s)
{
	static const char *const words[] = { "volumes", "volume", "vols", "vol", "books", "book" };
	char *p, *q, *r;
	size_t i, l, num;

	for (p = s; *p != '\0'; p++) {
		if (p > s && word_byte((unsigned char)p[-1]))
			continue;
		for (i = 0, l = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if ((l = word_at(p, words[i])) > 0)
				break;
		if (l == 0)
			continue;
		q = p + l;
		if (words[i][0] == 'v' && *q == '.')
			q++;
		while (*q == ' ' || (words[i][0] == 'b' && *q == ':'))
			q++;
		num = volnum(q);
		if (num == 0 && words[i][0] == 'b')
			num = roman(q);
		if (num == 0 || word_byte((unsigned char)q[num]) || q[num] == '.')
			continue;
		q += num;
		/* ", Part 2" belongs to the volume. */
		for (r = q; *r == ' '; r++)
			;
		if (*r == ',' || *r == ':')
			r++;
		while (*r == ' ')
			r++;
		if ((l = word_at(r, "part")) > 0) {
			r += l;
			while (*r == ' ')
				r++;
			if ((num = digits(r)) > 0 && !word_byte((unsigned char)r[num]))
				q = r + num;
		}
		for (r = q; *r == ' '; r++)
			;
		if (*r == '\0' || strchr(",:;-([", *r) != NULL) {
			/* Nothing of its clause left: the separator before it goes too. */
			while (p > s && p[-1] == ' ')
				p--;
			if (p > s && (p[-1] == ',' || p[-1] == ':'))
				p--;
		}
		cut(s, (size_t)(p - s), (size_t)(q - p));
		p = p > s ? p - 1 : s;
		if (*p == '\0')
			break;
	}
}

/* 1 when the digits a[0..al) and b[0..bl) are the same number ("3" and "03"). */
static int
same_number(const char *a, size_t al, const char *b, size_t bl)
{
	while (al > 1 && *a == '0') {
		a++;
		al--;
	}
	while (bl > 1 && *b == '0') {
		b++;
		bl--;
	}
	return al == bl && strncmp(a, b, al) == 0;
}

/* "Title 12 vol_12" -> "Title vol_12": a number that only repeats the volume after it. */
static void
drop_repeated_number(char *s)
{
	char *v, *num;
	size_t b;

	for (v = strstr(s, " vol_"); v != NULL; v = strstr(v + 1, " vol_")) {
		for (num = v; num > s && isdigit((unsigned char)num[-1]); num--)
			;
		b = digits(v + 5);
		if (num == v || (num > s && num[-1] != ' ') || b == 0 ||
		    word_byte((unsigned char)v[5 + b]) || v[5 + b] == '.' ||
		    !same_number(num, (size_t)(v - num), v + 5, b))
			continue;
		cut(s, (size_t)(num - s), (size_t)(v + 1 - num));
		v = num;
	}
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
	strip_volumes(s);
	for (i = 0; i < n->phrases.n; i++)
		while ((p = find_word(s, n->phrases.v[i])) != NULL)
			cut(s, (size_t)(p - s), strlen(n->phrases.v[i]));
	cleanup(s);
	drop_repeated_number(s);
	for (pass = 0; series && pass < 4; pass++) {
		int hit = 0;

		for (i = 0; i < n->suffix.n; i++)
			if (regexec(&n->suffix.v[i], s, 1, &m, 0) == 0 && m.rm_eo > m.rm_so &&
			    (m.rm_so > 0 ? !only_article(s, (size_t)m.rm_so) :
			    (size_t)m.rm_eo < strlen(s))) {
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
	/* What the map does not know, kakasi reads (the original's pykakasi step). */
	if (n->romaji && mf_romaji_has_japanese(s)) {
		t = mf_romaji(s);
		free(s);
		s = t;
	}
	return s;
}

/* ---- authors' roles ---- */

/* s (of len bytes) ends with word w, or w + "s", case-insensitively: the start, or NULL. */
static const char *
ends_with_word(const char *s, size_t len, const char *w)
{
	size_t l = strlen(w);

	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len > 0 && (s[len - 1] == 's' || s[len - 1] == 'S') && len > l &&
	    strncasecmp(s + len - 1 - l, w, l) == 0)
		return s + len - 1 - l;
	if (len >= l && strncasecmp(s + len - l, w, l) == 0)
		return s + len - l;
	return NULL;
}

/* "( illustrator )" or "(illustrators)" in s: the "(", or NULL. */
static const char *
paren_word(const char *s, const char *w)
{
	const char *p, *q, *close;

	for (p = strchr(s, '('); p != NULL; p = strchr(p + 1, '(')) {
		if ((close = strchr(p, ')')) == NULL)
			return NULL;
		for (q = p + 1; *q == ' '; q++)
			;
		if (ends_with_word(q, (size_t)(close - q), w) == q)
			return p;
	}
	return NULL;
}

static char *
trimmed(const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == ',')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == ','))
		len--;
	return strndup(s, len);
}

/*
 * The original's patterns: "- role" or ", role" at the end, "(role)" anywhere, for the
 * role words; "credit by " at the start, "(credit)" anywhere, "- credit" at the end, for
 * the credit words; and "with " at the start.
 */
int
mf_naming_is_role(const struct mf_naming *n, const char *name, char **bare)
{
	const char *p, *q, *end = NULL, *start = name, *cut_from = NULL, *cut_to = NULL;
	size_t len, i, l;
	int credit;

	if (bare != NULL)
		*bare = NULL;
	while (*start == ' ')
		start++;
	len = strlen(start);
	if (n->roles.n + n->credits.n == 0)
		return 0;
	if (strncasecmp(start, "with ", 5) == 0) {
		start += 5;
		goto role;
	}
	for (credit = 0; credit < 2; credit++) {
		const struct strlist *words = credit ? &n->credits : &n->roles;

		for (i = 0; i < words->n; i++) {
			const char *w = words->v[i];

			l = strlen(w);
			if (credit && strncasecmp(start, w, l) == 0 && start[l] == ' ') {
				for (q = start + l; *q == ' '; q++)
					;
				if (strncasecmp(q, "by ", 3) == 0) {
					start = q + 3;
					goto role;
				}
			}
			if ((p = ends_with_word(start, len, w)) != NULL) {
				for (q = p; q > start && q[-1] == ' '; q--)
					;
				if (q > start && (q[-1] == '-' || (!credit && q[-1] == ','))) {
					end = q - 1;
					goto role;
				}
			}
			if ((p = paren_word(start, w)) != NULL) {
				cut_from = p;
				cut_to = strchr(p, ')') + 1;
				goto role;
			}
		}
	}
	return 0;
role:
	if (bare == NULL)
		return 1;
	if (cut_from != NULL) {
		/* The name around the "(role)". */
		char *a = strndup(start, (size_t)(cut_from - start)), *b;

		if (a != NULL && asprintf(&b, "%s%s", a, cut_to) >= 0) {
			*bare = trimmed(b, strlen(b));
			free(b);
		}
		free(a);
		return 1;
	}
	*bare = trimmed(start, end != NULL ? (size_t)(end - start) : strlen(start));
	return 1;
}

const char *
mf_naming_first_author(const struct mf_naming *n, const cJSON *authors)
{
	const cJSON *e;
	const char *first = NULL;

	cJSON_ArrayForEach(e, authors) {
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0')
			continue;
		if (first == NULL)
			first = e->valuestring;
		if (!mf_naming_is_role(n, e->valuestring, NULL))
			return e->valuestring;
	}
	return first;
}

/* ---- subtitles ---- */

/* s with the characters special to POSIX ERE escaped (malloc'd). */
static char *
ere_escape(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *w = out;

	if (out == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		if (strchr("\\.[]()*+?{}|^$", *s) != NULL)
			*w++ = '\\';
		*w++ = *s;
	}
	*w = '\0';
	return out;
}

/*
 * tmpl with {{series}} and {{title}} replaced by the (escaped) names (malloc'd); NULL when
 * out of memory, or when it names one that is NULL (the rule is then skipped).
 */
static char *
subst(const char *tmpl, const char *series, const char *title)
{
	struct {
		const char	*key, *val;
	} ph[2] = { { "{{series}}", series }, { "{{title}}", title } };
	size_t cap = strlen(tmpl) + 1, o = 0, i, k;
	char *out;
	const char *p;

	for (i = 0; i < 2; i++)
		if (ph[i].val != NULL)
			for (p = strstr(tmpl, ph[i].key); p != NULL; p = strstr(p + 1, ph[i].key))
				cap += strlen(ph[i].val);
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (p = tmpl; *p != '\0';) {
		for (i = 0; i < 2; i++)
			if (strncmp(p, ph[i].key, strlen(ph[i].key)) == 0)
				break;
		if (i == 2) {
			out[o++] = *p++;
			continue;
		}
		if (ph[i].val == NULL) {
			free(out);
			return NULL;
		}
		k = strlen(ph[i].val);
		memcpy(out + o, ph[i].val, k);
		o += k;
		p += strlen(ph[i].key);
	}
	out[o] = '\0';
	return out;
}

/* Cut every match of the (compiled) pattern from s; 1 when something was cut. */
static int
strip_matches(regex_t *re, char *s)
{
	regmatch_t m;
	size_t at = 0, guard = 0;
	int hit = 0;

	while (s[at] != '\0' && guard++ < 64 &&
	    regexec(re, s + at, 1, &m, at > 0 ? REG_NOTBOL : 0) == 0) {
		if (m.rm_eo == m.rm_so) {
			at += (size_t)m.rm_so + 1;	/* an empty match: step past it */
			continue;
		}
		cut(s, at + (size_t)m.rm_so, (size_t)(m.rm_eo - m.rm_so));
		at += (size_t)m.rm_so;
		hit = 1;
	}
	return hit;
}

/* a and b equal, case and surrounding spaces aside. */
static int
equal_trimmed(const char *a, const char *b)
{
	size_t al, bl;

	while (*a == ' ')
		a++;
	while (*b == ' ')
		b++;
	for (al = strlen(a); al > 0 && a[al - 1] == ' '; al--)
		;
	for (bl = strlen(b); bl > 0 && b[bl - 1] == ' '; bl--)
		;
	return al == bl && strncasecmp(a, b, al) == 0;
}

static int
matches_any(const struct regexes *r, const char *s)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (regexec(&r->v[i], s, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

/* Apply one redundancy rule for one series (or none); -1 dropped, 0 kept, -2 no memory. */
static int
redundancy(const struct redundancy *r, char *s, const char *series, const char *title)
{
	char *se = series != NULL ? ere_escape(series) : NULL;
	char *te = title != NULL ? ere_escape(title) : NULL, *pat;
	regex_t re;
	int rc = 0;

	if ((series != NULL && se == NULL) || (title != NULL && te == NULL)) {
		rc = -2;
		goto out;
	}
	if ((pat = subst(r->pattern, se, te)) == NULL)
		goto out;	/* a name the rule needs is missing (or no memory: kept) */
	if (regcomp(&re, pat, REG_EXTENDED | REG_ICASE) == 0) {
		if (!r->strip) {
			if (regexec(&re, s, 0, NULL, 0) == 0)
				rc = -1;
		} else if (strip_matches(&re, s)) {
			cleanup(s);
			if (*s == '\0')
				rc = -1;
		}
		regfree(&re);
	}
	free(pat);
out:
	free(se);
	free(te);
	return rc;
}

char *
mf_naming_subtitle(const struct mf_naming *n, const char *subtitle, const char *title,
    const char *const *series, size_t nseries)
{
	size_t i, j, len;
	char *s;
	int rc;

	if (subtitle == NULL)
		return NULL;
	for (i = 0; i < n->preserve.n; i++)
		if (strstr(subtitle, n->preserve.v[i]) != NULL)
			return strdup(subtitle);
	while (*subtitle == ' ')
		subtitle++;
	if ((len = strlen(subtitle)) > SUBTITLE_MAX) {
		/* Cut at a character boundary: what is left stays valid UTF-8. */
		len = SUBTITLE_MAX;
		while (len > 0 && ((unsigned char)subtitle[len] & 0xc0) == 0x80)
			len--;
	}
	if ((s = strndup(subtitle, len)) == NULL)
		return NULL;
	cleanup(s);
	if (*s == '\0' || matches_any(&n->sub_keep, s))
		goto out;
	if (matches_any(&n->sub_remove, s))
		goto drop;
	for (i = 0; n->sub_if_series && i < nseries; i++)
		if (series[i] != NULL && equal_trimmed(s, series[i]))
			goto drop;
	for (i = 0; n->rules_on && i < n->nrules; i++) {
		/* A rule naming {{series}} is tried with each series; the others once. */
		int per_series = strstr(n->rules[i].pattern, "{{series}}") != NULL;

		for (j = 0; j < (per_series ? nseries : 1); j++) {
			rc = redundancy(&n->rules[i], s, per_series ? series[j] : NULL, title);
			if (rc == -1)
				goto drop;
			if (rc == -2) {
				free(s);
				return NULL;
			}
		}
	}
	cleanup(s);
out:
	if (*s != '\0')
		return s;
drop:
	free(s);
	return NULL;
}

/* ---- Windows reserved names ---- */

size_t
mf_naming_reserved(const char *c)
{
	static const char *const dev[] = { "CON", "PRN", "AUX", "NUL" };
	size_t len = strcspn(c, "."), root = len, i;

	/* Windows ignores trailing spaces before the extension ("AUX .txt"). */
	while (root > 0 && c[root - 1] == ' ')
		root--;
	if (root == 3) {
		for (i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
			if (strncasecmp(c, dev[i], 3) == 0)
				return 3;
	} else if (root == 4 && (strncasecmp(c, "COM", 3) == 0 || strncasecmp(c, "LPT", 3) == 0) &&
	    c[3] >= '1' && c[3] <= '9')
		return 4;
	return 0;
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
	/* A token already written ("vol_7", "vol_01-03") is read again, never copied. */
	if (strncasecmp(pos, "vol_", 4) == 0 && digits(pos + 4) > 0)
		pos += 4;
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
		/* "1-3.5": the range's end is named by its whole number. */
		if (*p == '.' && (m = digits(p + 1)) > 0 && m <= 4)
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

/*
 * "1, Part 3" (or "1: Part 3"): part 3 of book 1 split in parts, each with its own ASIN;
 * named by its part, vol_03, as the original does, so the parts' names differ.
 */
static size_t
split_part(const char *pos, char *out, size_t outsz)
{
	const char *p = pos;
	size_t n = digits(p), m;

	if (n == 0)
		return 0;
	p += n;
	if (*p == '.' && digits(p + 1) > 0)
		p += 1 + digits(p + 1);
	while (*p == ' ')
		p++;
	if (*p != ',' && *p != ':')
		return 0;
	for (p++; *p == ' '; p++)
		;
	if ((m = word_at(p, "part")) == 0)
		return 0;
	for (p += m; *p == ' '; p++)
		;
	if ((m = digits(p)) == 0 || m > 6)
		return 0;
	{
		char num[8];

		snprintf(num, sizeof(num), "%.*s", (int)m, p);
		for (p += m; *p == ' '; p++)
			;
		if (*p != '\0')
			return 0;
		return mf_naming_volfmt(num, out, outsz);
	}
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
		if (split_part(position, out, outsz) > 0)
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
	char *s, *c;
	size_t i;

	*series = NULL;
	rx_init();
	if (regexec(&rx[RX_SERIES], title, 8, m, 0) != 0)
		return 0;
	while (m[1].rm_so < m[1].rm_eo && isspace((unsigned char)title[m[1].rm_so]))
		m[1].rm_so++;
	if ((s = strndup(title + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so))) == NULL)
		return 0;
	/*
	 * Only the spaces go here: the series rules (preserve_exact first) clean it later, and
	 * a kept name keeps its own punctuation ("Re:ZERO -Starting Life in Another World-").
	 */
	if ((c = strdup(s)) == NULL) {
		free(s);
		return 0;
	}
	cleanup(c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcasecmp(c, bad[i]) == 0)
			c[0] = '\0';
	if (mf_utf8_chars(c) < 2) {
		free(c);
		free(s);
		return 0;
	}
	free(c);
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
	size_t bc, tc, bb, tb, k, o = 0, sz = sizeof(out->base) - 1;

	if (app(out->base, sz, &o, identity, "", "") == -1 ||
	    (*p->vol && app(out->base, sz, &o, " ", p->vol, "") == -1) ||
	    (with_year && *p->year && app(out->base, sz, &o, " (", p->year, ")") == -1) ||
	    (with_author && *p->author &&
	    app(out->base, sz, &o, " (", p->author, ")") == -1) ||
	    app(out->base, sz, &o, " {ASIN.", p->asin, "}") == -1)
		return 0;
	/* "Con.Air (1997) ..." is the device CON to Windows: "Con_.Air", as pathvalidate. */
	if ((k = mf_naming_reserved(out->base)) > 0) {
		if (o + 1 >= sz)
			return 0;
		memmove(out->base + k + 1, out->base + k, o - k + 1);
		out->base[k] = '_';
	}
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

/* "Title 12" with vol_12 -> "Title": the series' last word only repeats the volume. */
static void
drop_trailing_volume(char *series, const char *vol)
{
	size_t len = strlen(series), t, vi = digits(vol + 4), si, vd, sd;
	const char *v = vol + 4, *d;

	for (t = len; t > 0 && (isdigit((unsigned char)series[t - 1]) || series[t - 1] == '.');
	    t--)
		;
	if (t == 0 || t == len || series[t - 1] != ' ' || vi == 0 ||
	    !isdigit((unsigned char)series[t]))
		return;
	/* Whole and decimal parts alike: "1.5" and vol_01.5, "12" and vol_12. */
	si = digits(series + t);
	d = series + t + si;
	sd = *d == '.' ? digits(d + 1) : 0;
	if (d + (sd ? sd + 1 : 0) != series + len || !same_number(series + t, si, v, vi))
		return;
	vd = v[vi] == '.' ? digits(v + vi + 1) : 0;
	if (sd != vd || (sd > 0 && strncmp(d + 1, v + vi + 1, sd) != 0))
		return;
	while (t > 0 && series[t - 1] == ' ')
		t--;
	if (mf_utf8_chars(series) < 2 || only_article(series, t))
		return;
	series[t] = '\0';
}

/*
 * The cleaned series of in, given or guessed from a title like "Overlord, Vol. 5", in
 * *series (NULL when there is none) and its volume in vol; *guess gets the guessed series
 * (the caller frees it).  -1 when out of memory.
 */
static int
series_part(const struct mf_naming *n, const struct mf_name_in *in, char **series,
    char **guess, char *vol, size_t volsz)
{
	char pos[40], *t;

	*series = NULL;
	if (in->series != NULL && *in->series != '\0') {
		if ((t = mf_naming_series(n, in->series)) == NULL)
			return -1;
		*series = mf_naming_sanitize(t);
		free(t);
		mf_naming_volume(in->position, in->title, vol, volsz);
	} else if (in->title != NULL &&
	    mf_naming_series_from_title(in->title, guess, pos, sizeof(pos))) {
		/* No series known: "Overlord, Vol. 5" names one. */
		if ((t = mf_naming_series(n, *guess)) == NULL)
			return -1;
		*series = mf_naming_sanitize(t);
		free(t);
		mf_naming_volume(in->position, pos, vol, volsz);
		if (vol[0] == '\0')
			mf_naming_volfmt(pos, vol, volsz);
	}
	return 0;
}

/*
 * What leads the name, malloc'd: the series when it has a volume (out->series_mode), else
 * the cleaned title (vol emptied).  NULL with a message in err.
 */
static char *
lead_name(const struct mf_naming *n, const struct mf_name_in *in, char *vol, size_t volsz,
    struct mf_name_out *out, char *err, size_t errsz)
{
	char *series = NULL, *guess = NULL, *ident = NULL, *t;

	if (series_part(n, in, &series, &guess, vol, volsz) != 0)
		goto oom;
	if (series != NULL && *series != '\0' && vol[0] != '\0') {
		out->series_mode = 1;
		if (!preserved(n, in->series != NULL && *in->series != '\0' ? in->series : guess))
			drop_trailing_volume(series, vol);
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
		free(ident);
		ident = NULL;
	}
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
out:
	free(series);
	free(guess);
	return ident;
}

/* The lead cut, longest first, at a character boundary, until the name fits; 1 then. */
static int
cut_to_fit(const struct parts *p, const char *ident, struct mf_name_out *out)
{
	size_t k;

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
		if (assemble(p, cutname, 0, 0, out)) {
			out->dropped[out->ndropped++] = out->series_mode ? "series" : "title";
			out->truncated = 1;
			return 1;
		}
	}
	return 0;
}

/* Fit the parts into the path budget: the full name, then without the author, then
 * without the year, then with the lead cut.  0, or -1 with a message in err. */
static int
fit_name(const struct parts *p, struct mf_name_out *out, char *err, size_t errsz)
{
	int level;

	for (level = 0; level < 3; level++) {
		if (assemble(p, p->identity, level < 2, level < 1, out)) {
			if (level >= 1 && *p->author)
				out->dropped[out->ndropped++] = "author";
			if (level >= 2 && *p->year)
				out->dropped[out->ndropped++] = "year";
			out->truncated = out->ndropped > 0;
			return 0;
		}
	}
	if (*p->author)
		out->dropped[out->ndropped++] = "author";
	if (*p->year)
		out->dropped[out->ndropped++] = "year";
	if (cut_to_fit(p, p->identity, out))
		return 0;
	memset(out, 0, sizeof(*out));
	snprintf(err, errsz, "no name fits MF_MAX_PATH=%zu with the volume, ASIN and tag kept",
	    p->max_path);
	return -1;
}

int
mf_naming_build(const struct mf_naming *n, const struct mf_name_in *in,
    struct mf_name_out *out, char *err, size_t errsz)
{
	char vol[48], year[8];
	char *ident, *author = NULL, *asin = NULL, *tag = NULL, *t;
	struct parts p;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	vol[0] = year[0] = '\0';
	if (in->asin == NULL || *in->asin == '\0') {
		snprintf(err, errsz, "no ASIN");
		return -1;
	}
	if ((ident = lead_name(n, in, vol, sizeof(vol), out, err, errsz)) == NULL)
		return -1;
	if (in->author != NULL && *in->author != '\0') {
		if ((t = mf_naming_author(n, in->author)) == NULL)
			goto oom;
		author = mf_naming_sanitize(t);
		free(t);
	} else
		author = strdup("");
	if (in->year != NULL && digits(in->year) == 4)
		snprintf(year, sizeof(year), "%.4s", in->year);
	asin = mf_naming_sanitize(in->asin);
	tag = mf_naming_sanitize(in->tag != NULL ? in->tag : "");
	if (author == NULL || asin == NULL || tag == NULL)
		goto oom;
	p = (struct parts){ ident, vol, year, author, asin, tag, in->suffix_chars,
	    in->suffix_bytes, in->max_path };
	rc = fit_name(&p, out, err, errsz);
	goto out;
oom:
	snprintf(err, errsz, "out of memory");
out:
	free(ident);
	free(author);
	free(asin);
	free(tag);
	return rc;
}

