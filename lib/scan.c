/* scan: find releases in a Libation library and describe each as a record (see scan.h). */
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "audnex.h"	/* mf_asin_valid */
#include "file.h"
#include "id3.h"
#include "json.h"
#include "log.h"
#include "mp4.h"
#include "naming.h"
#include "record.h"
#include "scan.h"

#define SIDECAR_MAX	(8u << 20)
#define SIDECAR_SUFFIX	".metadata.json"

static const char *
ext_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL && dot != name ? dot : "";
}

int
mf_is_audio(const char *name)
{
	static const char *audio[] = { ".m4b", ".m4a", ".mp3", ".flac", ".ogg", ".opus" };
	const char *e = ext_of(name);
	size_t i;

	for (i = 0; i < sizeof(audio) / sizeof(audio[0]); i++)
		if (strcasecmp(e, audio[i]) == 0)
			return 1;
	return 0;
}

const char *
mf_file_kind(const char *name)
{
	static const struct {
		const char *ext, *kind;
	} kinds[] = {
		{ ".jpg", "cover" }, { ".jpeg", "cover" }, { ".png", "cover" },
		{ ".webp", "cover" }, { ".pdf", "document" }, { ".epub", "document" },
		{ ".cue", "cue" },
	};
	const char *e = ext_of(name);
	size_t i;

	if (mf_is_audio(name))
		return "audio";
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcasecmp(e, kinds[i].ext) == 0)
			return kinds[i].kind;
	return "other";
}

/* ---- names ---- */

/* Upper-case a candidate of length n and keep it when it is a valid ASIN. */
static int
asin_candidate(const char *p, size_t n, char *out)
{
	size_t i;

	if (n != 10)
		return 0;
	for (i = 0; i < 10; i++)
		out[i] = (char)toupper((unsigned char)p[i]);
	out[10] = '\0';
	return mf_asin_valid(out);
}

int
mf_asin_in_name(const char *name, char *out)
{
	const char *p, *q;

	for (p = name; *p != '\0'; p++) {
		if ((*p == '{' || *p == '[') && strncasecmp(p + 1, "ASIN.", 5) == 0) {
			q = strpbrk(p + 6, "}]");
			if (q != NULL && asin_candidate(p + 6, (size_t)(q - p - 6), out))
				return 1;
		} else if (*p == '[') {
			/* Libation's default "[B08G9PRS1K]": ten upper-case letters or digits. */
			q = strchr(p + 1, ']');
			if (q != NULL && q - p - 1 == 10) {
				size_t i;

				for (i = 1; i <= 10; i++)
					if (!isdigit((unsigned char)p[i]) &&
					    !isupper((unsigned char)p[i]))
						break;
				if (i > 10 && asin_candidate(p + 1, 10, out))
					return 1;
			}
		}
	}
	out[0] = '\0';
	return 0;
}

static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '-'))
		s[--n] = '\0';
}

/*
 * If s ends with "<sep><open>...<close>", cut it off and return the inside (malloc'd).
 * sep is a space (the part is not at the start of the name).
 */
static char *
cut_group(char *s, char open, char close)
{
	size_t n = strlen(s);
	char *p, *in;

	if (n < 3 || s[n - 1] != close)
		return NULL;
	for (p = s + n - 2; p > s && *p != open; p--)
		if (*p == close)
			return NULL;
	if (p == s || *p != open || p[-1] != ' ')
		return NULL;
	if ((in = strndup(p + 1, (size_t)(s + n - 1 - (p + 1)))) == NULL)
		return NULL;
	p[-1] = '\0';
	return in;
}

static int
is_year(const char *s)
{
	return s != NULL && strlen(s) == 4 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	    isdigit((unsigned char)s[3]);
}

void
mf_folder_info_free(struct mf_folder_info *fi)
{
	free(fi->title);
	free(fi->volume);
	free(fi->year);
	free(fi->author);
	free(fi->asin);
	free(fi->source);
	free(fi->series);
	memset(fi, 0, sizeof(*fi));
}

/* Length of the number of a vol_ token at p: "11", "10.5", "01-03", "01p2" (0 if none). */
static size_t
vol_token(const char *p)
{
	size_t i = 0;

	while (isdigit((unsigned char)p[i]) || (i > 0 && p[i] == '.' &&
	    isdigit((unsigned char)p[i + 1])))
		i++;
	if (i > 0 && (p[i] == '-' || p[i] == 'p') && isdigit((unsigned char)p[i + 1]))
		for (i++; isdigit((unsigned char)p[i]); i++)
			;
	return i;
}

void
mf_folder_parse(const char *name, struct mf_folder_info *fi)
{
	char *s = strdup(name), *g, *v, a[11];

	memset(fi, 0, sizeof(*fi));
	if (s == NULL)
		return;
	/* Right to left: [source], {ASIN.x} or [ASIN], (author), (year), vol_N. */
	if ((g = cut_group(s, '[', ']')) != NULL) {
		if (strncasecmp(g, "ASIN.", 5) == 0 || asin_candidate(g, strlen(g), a)) {
			fi->asin = g;
		} else
			fi->source = g;
	}
	if (fi->asin == NULL) {
		if ((g = cut_group(s, '{', '}')) == NULL)
			g = cut_group(s, '[', ']');
		if (g != NULL && strncasecmp(g, "ASIN.", 5) != 0) {
			/* Not an ASIN group after all: put it back as part of the title. */
			size_t l = strlen(s);

			s[l] = ' ';
			free(g);
			g = NULL;
		}
		fi->asin = g;
	}
	if (fi->asin != NULL && strncasecmp(fi->asin, "ASIN.", 5) == 0)
		memmove(fi->asin, fi->asin + 5, strlen(fi->asin + 5) + 1);
	if ((g = cut_group(s, '(', ')')) != NULL || (g = cut_group(s, '[', ']')) != NULL) {
		if (is_year(g))
			fi->year = g;
		else {
			fi->author = g;
			if ((g = cut_group(s, '(', ')')) != NULL ||
			    (g = cut_group(s, '[', ']')) != NULL) {
				if (is_year(g))
					fi->year = g;
				else {
					s[strlen(s)] = ' ';
					free(g);
				}
			}
		}
	}
	if ((v = strstr(s, " vol_")) != NULL) {
		char *last = v, *after;
		size_t i;

		while ((v = strstr(last + 1, " vol_")) != NULL)
			last = v;
		i = vol_token(last + 5);
		after = last + 5 + i;
		if (i > 0 && (*after == '\0' || *after == ' ')) {
			fi->volume = strndup(last + 5, i);
			*last = '\0';
			/*
			 * "Series vol_11 Providence": words after the volume are the book's title,
			 * the words before it its series.
			 */
			while (*after == ' ' || *after == '-')
				after++;
			if (*after != '\0') {
				rtrim(s);
				if (*s != '\0')
					fi->series = strdup(s);
				memmove(s, after, strlen(after) + 1);
			}
		}
	}
	rtrim(s);
	if (*s != '\0')
		fi->title = s;
	else
		free(s);
}

/* ---- what a release knows about itself ---- */

struct meta {
	char	 asin[11];
	char	*title, *subtitle, *series, *position, *year;
	cJSON	*authors, *narrators;	/* arrays of strings, or NULL */
};

static void
meta_free(struct meta *m)
{
	free(m->title);
	free(m->subtitle);
	free(m->series);
	free(m->position);
	free(m->year);
	cJSON_Delete(m->authors);
	cJSON_Delete(m->narrators);
}

/* Set *dst to a copy of s when *dst is unset and s is a non-empty UTF-8 string. */
static void
fill(char **dst, const char *s)
{
	if (*dst != NULL || s == NULL)
		return;
	while (*s == ' ')
		s++;
	if (*s == '\0' || !mf_utf8_valid(s, strlen(s)))
		return;
	*dst = strdup(s);
}

static void
fill_year(char **dst, const char *s)
{
	char y[5];

	if (*dst != NULL || s == NULL || strlen(s) < 4)
		return;
	memcpy(y, s, 4);
	y[4] = '\0';
	if (is_year(y))
		*dst = strdup(y);
}

/* A series position given as a JSON number: 3 -> "3", 1.5 -> "1.5" (sane ones only). */
static void
fill_number(char **dst, const cJSON *v)
{
	char p[32];

	if (*dst != NULL || !cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 1e6)
		return;
	snprintf(p, sizeof(p), "%.10g", v->valuedouble);
	*dst = strdup(p);
}

/* Names from a string ("A; B"), or a list of strings or {name} objects. */
static void
fill_names(cJSON **dst, const cJSON *v)
{
	const cJSON *e;
	cJSON *a;

	if (*dst != NULL || v == NULL)
		return;
	a = cJSON_CreateArray();
	if (cJSON_IsString(v)) {
		char *s = strdup(v->valuestring), *tok, *save = NULL;

		for (tok = s ? strtok_r(s, ";", &save) : NULL; tok != NULL;
		    tok = strtok_r(NULL, ";", &save)) {
			while (*tok == ' ')
				tok++;
			rtrim(tok);
			if (*tok != '\0' && mf_utf8_valid(tok, strlen(tok)))
				cJSON_AddItemToArray(a, cJSON_CreateString(tok));
		}
		free(s);
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(e, v) {
			const char *n = cJSON_IsString(e) ? e->valuestring :
			    mf_json_str(e, "name");

			if (n != NULL && *n != '\0')
				cJSON_AddItemToArray(a, cJSON_CreateString(n));
		}
	}
	if (cJSON_GetArraySize(a) == 0) {
		cJSON_Delete(a);
		return;
	}
	*dst = a;
}

static const char *
first_str(const cJSON *o, const char *const *keys)
{
	const char *s;

	for (; *keys != NULL; keys++)
		if ((s = mf_json_str(o, *keys)) != NULL && *s != '\0')
			return s;
	return NULL;
}

/*
 * A small file of known size relative to dfd, in one read (the walk has just stat'ed it;
 * opening it by its full path again would cost a path lookup per release).
 */
static char *
read_small(int dfd, const char *name, off_t size, size_t *len)
{
	char *buf;
	ssize_t n;
	int fd;

	if (size < 0 || size > (off_t)SIDECAR_MAX)
		return NULL;
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return NULL;
	if ((buf = malloc((size_t)size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, (size_t)size);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The Libation sidecar: Audible catalog JSON, snake_case, every key optional. */
static int
read_sidecar(int dfd, const char *name, off_t size, struct meta *m)
{
	static const char *asin_k[] = { "asin", "Asin", "id", NULL };
	static const char *title_k[] = { "title", "Title", NULL };
	static const char *date_k[] = { "release_date", "issue_date", "year", NULL };
	const cJSON *o, *ser, *v;
	cJSON *root;
	char *buf, a[11];
	const char *s;
	size_t len;

	if ((buf = read_small(dfd, name, size, &len)) == NULL)
		return -1;
	root = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -1;
	}
	o = root;
	/* The whole API response wraps the item in "product". */
	if (cJSON_IsObject(v = cJSON_GetObjectItemCaseSensitive(root, "product")))
		o = v;
	if (m->asin[0] == '\0' && (s = first_str(o, asin_k)) != NULL &&
	    asin_candidate(s, strlen(s), a))
		memcpy(m->asin, a, 11);
	fill(&m->title, first_str(o, title_k));
	fill(&m->subtitle, mf_json_str(o, "subtitle"));
	fill_names(&m->authors, cJSON_GetObjectItemCaseSensitive(o, "authors"));
	fill_names(&m->authors, cJSON_GetObjectItemCaseSensitive(o, "Authors"));
	fill_names(&m->authors, cJSON_GetObjectItemCaseSensitive(o, "author"));
	fill_names(&m->narrators, cJSON_GetObjectItemCaseSensitive(o, "narrators"));
	fill_names(&m->narrators, cJSON_GetObjectItemCaseSensitive(o, "Narrators"));
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "year")) != NULL && cJSON_IsNumber(v) &&
	    m->year == NULL && v->valueint >= 1000 && v->valueint <= 9999) {
		char y[8];

		snprintf(y, sizeof(y), "%d", v->valueint);
		m->year = strdup(y);
	}
	fill_year(&m->year, first_str(o, date_k));
	ser = cJSON_GetObjectItemCaseSensitive(o, "series");
	if (ser == NULL)
		ser = cJSON_GetObjectItemCaseSensitive(o, "Series");
	if (cJSON_IsArray(ser))
		ser = cJSON_GetArrayItem(ser, 0);
	if (cJSON_IsString(ser))
		fill(&m->series, ser->valuestring);
	else if (cJSON_IsObject(ser)) {
		static const char *name_k[] = { "title", "name", NULL };
		static const char *pos_k[] = { "sequence", "position", NULL };

		fill(&m->series, first_str(ser, name_k));
		fill_number(&m->position, cJSON_GetObjectItemCaseSensitive(ser, "sequence"));
		fill_number(&m->position, cJSON_GetObjectItemCaseSensitive(ser, "position"));
		fill(&m->position, first_str(ser, pos_k));
	}
	cJSON_Delete(root);
	return 0;
}

/* "The Long Book, Part 1" -> "The Long Book": a part's tag names the part, not the book. */
static void
strip_part(char *t)
{
	char *p = t + strlen(t);

	while (p > t && isdigit((unsigned char)p[-1]))
		p--;
	if (p == t + strlen(t) || p - t < 6 || strncasecmp(p - 5, "Part ", 5) != 0)
		return;
	p -= 5;
	while (p > t && (p[-1] == ' ' || p[-1] == ',' || p[-1] == '-' || p[-1] == ':'))
		p--;
	if (p > t)
		*p = '\0';
}

/* Tags of the main audio file, collected in one pass. */
struct tags {
	char	*title, *album, *subtitle, *artist, *nrt, *composer, *year, *series, *part;
	char	 asin[11];
};

static void
tags_free(struct tags *t)
{
	free(t->title);
	free(t->album);
	free(t->subtitle);
	free(t->artist);
	free(t->nrt);
	free(t->composer);
	free(t->year);
	free(t->series);
	free(t->part);
}

static void
tag_set(struct tags *t, const char *key, const char *v)
{
	static const struct {
		const char	*key;
		size_t		 off;
	} map[] = {
		{ "\251nam", offsetof(struct tags, title) },
		{ "TIT2", offsetof(struct tags, title) },
		{ "\251alb", offsetof(struct tags, album) },
		{ "TALB", offsetof(struct tags, album) },
		{ "----:com.pilabor.tone:SUBTITLE", offsetof(struct tags, subtitle) },
		{ "TXXX:SUBTITLE", offsetof(struct tags, subtitle) },
		{ "\251ART", offsetof(struct tags, artist) },
		{ "aART", offsetof(struct tags, artist) },
		{ "TPE1", offsetof(struct tags, artist) },
		{ "\251nrt", offsetof(struct tags, nrt) },
		{ "\251wrt", offsetof(struct tags, composer) },
		{ "TCOM", offsetof(struct tags, composer) },
		{ "\251day", offsetof(struct tags, year) },
		{ "TYER", offsetof(struct tags, year) },
		{ "TDRC", offsetof(struct tags, year) },
		{ "----:com.pilabor.tone:SERIES", offsetof(struct tags, series) },
		{ "TXXX:SERIES", offsetof(struct tags, series) },
		{ "----:com.pilabor.tone:PART", offsetof(struct tags, part) },
		{ "TXXX:PART", offsetof(struct tags, part) },
	};
	size_t i;
	char a[11];

	if (strcmp(key, "----:com.pilabor.tone:AUDIBLE_ASIN") == 0 ||
	    strcmp(key, "CDEK") == 0 || strcmp(key, "asin") == 0 ||
	    strcmp(key, "TXXX:AUDIBLE_ASIN") == 0) {
		while (*v == ' ')
			v++;
		if (t->asin[0] == '\0' && asin_candidate(v, strcspn(v, " "), a))
			memcpy(t->asin, a, 11);
		return;
	}
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(key, map[i].key) == 0) {
			fill((char **)((char *)t + map[i].off), v);
			return;
		}
}

static int
mp4_tag_cb(const struct mf_mp4_tag *tag, void *ctx)
{
	if (tag->value != NULL)
		tag_set(ctx, tag->key, tag->value);
	return 0;
}

static int
id3_tag_cb(const struct mf_id3_frame *f, void *ctx)
{
	if (f->value != NULL)
		tag_set(ctx, f->id, f->value);
	return 0;
}

static void
read_tags(int dfd, const char *name, struct tags *t)
{
	const char *e = ext_of(name);
	struct mf_mp4 m;
	int fd;

	if (strcasecmp(e, ".m4b") != 0 && strcasecmp(e, ".m4a") != 0 &&
	    strcasecmp(e, ".mp3") != 0)
		return;
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (mf_mp4_open(&m, fd, 0) == 0) {
		if (strcasecmp(e, ".mp3") == 0)
			(void)mf_id3_tags(&m, id3_tag_cb, t);
		else
			(void)mf_mp4_tags(&m, mp4_tag_cb, t);
	}
	close(fd);
}

/* ---- the walk ---- */

struct ent {
	const char	*name;		/* in the folder's name arena */
	unsigned char	 type;	/* DT_REG, DT_DIR, DT_LNK or DT_UNKNOWN (other) */
	off_t		 size;
};

struct walk {
	const struct mf_scan_opts	*o;
	struct mf_scan_stats		*st;
	const char			*root;
	size_t				 rootlen;
	int				 werr;
};

static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->name, *q = (const unsigned char *)y->name;
	int c, d;

	/*
	 * A folder sorts as "name/": the walk descends in this order and its records must come
	 * bytewise by path ("A B/x" < "A/x", as ' ' < '/').
	 */
	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	c = *p != '\0' ? *p : x->type == DT_DIR ? '/' : 0;
	d = *q != '\0' ? *q : y->type == DT_DIR ? '/' : 0;
	return c - d;
}

/* The entries and, right after them in the same block, their names. */
static void
ents_free(struct ent *e, size_t n)
{
	(void)n;
	free(e);
}

/* The kernel's directory record, as getdents64(2) returns it. */
struct kdirent {
	uint64_t	d_ino;
	int64_t		d_off;
	unsigned short	d_reclen;
	unsigned char	d_type;
	char		d_name[];
};

/*
 * All entries of dfd but . and .., types resolved without following links, sorted.
 * getdents64(2) on the fd itself: no dup/fdopendir/fstat per folder (this loop is most
 * of a scan's system calls, and the benchmark holds it to twice find(1)'s time).
 */
static int
read_dir(int dfd, struct ent **out, size_t *np)
{
	struct ent *e;
	struct stat sb;
	/* Most folders are small: their names, offsets and types stay on the stack. */
	char sbuf_names[4096];
	size_t sbuf_offs[64];
	unsigned char sbuf_types[64];
	size_t n = 0, cap = 64, nlen = 0, ncap = sizeof(sbuf_names), i;
	char buf[32768], *names = sbuf_names, *nn;
	unsigned char *types = sbuf_types, *nt;
	size_t *offs = sbuf_offs, *no;
	ssize_t got, off;
	int rc = -1;

	/* Gather names in one buffer, then lay out entries + names in one block. */
	while ((got = getdents64(dfd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < got; off += ((struct kdirent *)(buf + off))->d_reclen) {
			struct kdirent *d = (struct kdirent *)(buf + off);
			unsigned char t = d->d_type;
			size_t l = strlen(d->d_name) + 1;

			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			if (t == DT_UNKNOWN) {
				if (fstatat(dfd, d->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
					continue;
				t = S_ISREG(sb.st_mode) ? DT_REG : S_ISDIR(sb.st_mode) ? DT_DIR :
				    S_ISLNK(sb.st_mode) ? DT_LNK : DT_UNKNOWN;
			} else if (t != DT_REG && t != DT_DIR && t != DT_LNK)
				t = DT_UNKNOWN;
			if (n == cap) {
				cap *= 2;
				if ((no = malloc(cap * sizeof(*offs))) == NULL)
					goto fail;
				memcpy(no, offs, n * sizeof(*offs));
				if (offs != sbuf_offs)
					free(offs);
				offs = no;
				if ((nt = malloc(cap)) == NULL)
					goto fail;
				memcpy(nt, types, n);
				if (types != sbuf_types)
					free(types);
				types = nt;
			}
			if (nlen + l > ncap) {
				ncap = 2 * ncap + l;
				if ((nn = malloc(ncap)) == NULL)
					goto fail;
				memcpy(nn, names, nlen);
				if (names != sbuf_names)
					free(names);
				names = nn;
			}
			memcpy(names + nlen, d->d_name, l);
			offs[n] = nlen;
			types[n] = t;
			nlen += l;
			n++;
		}
	}
	if (got == -1 || (e = malloc(n * sizeof(*e) + nlen + 1)) == NULL)
		goto fail;
	nn = (char *)(e + n);
	if (nlen > 0)
		memcpy(nn, names, nlen);
	for (i = 0; i < n; i++) {
		e[i].name = nn + offs[i];
		e[i].type = types[i];
		e[i].size = -1;
	}
	if (n > 1)
		qsort(e, n, sizeof(*e), ent_cmp);
	*out = e;
	*np = n;
	rc = 0;
fail:
	if (names != sbuf_names)
		free(names);
	if (types != sbuf_types)
		free(types);
	if (offs != sbuf_offs)
		free(offs);
	return rc;
}

static int
skip_dir(const char *name)
{
	return name[0] == '.' || strcmp(name, "@eaDir") == 0 ||
	    strcmp(name, "InProgress") == 0 || strcmp(name, "#recycle") == 0 ||
	    strcmp(name, "lost+found") == 0;
}

/* A string for JSON: the bytes when valid UTF-8, else the \xNN display form. */
static cJSON *
json_name(const char *s, int *bad)
{
	cJSON *j;
	char *d;

	if (mf_utf8_valid(s, strlen(s)))
		return cJSON_CreateString(s);
	*bad = 1;
	d = mf_utf8_display(s, strlen(s));
	j = cJSON_CreateString(d != NULL ? d : "?");
	free(d);
	return j;
}

/*
 * A folder above a release that can name its series ("Author/Series/Book vol_N ..."): not
 * a library-like name (the original's list, and any name holding audiobook, library,
 * import, download, staging or incoming), not a book's own folder (a year, an ASIN, a
 * vol_ token), not the author's (the author, or "(name)" in the release folder's name).
 */
static int
series_folder(const char *name, size_t len, const char *folder, const char *author)
{
	static const char *rootish[] = { "audiobooks", "audiobook", "library", "books", "media",
	    "audio", "data", "libation", "import", "incoming", "downloads", "completed",
	    "staging", "upload", "light novels", "light novel", "fiction", "non-fiction",
	    "nonfiction", "single books", "standalone", "series", "collections", "complete" };
	static const char *within[] = { "audiobook", "library", "import", "download", "staging",
	    "incoming" };
	char buf[512], paren[520], a[11];
	const char *p;
	size_t i;

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (mf_utf8_chars(buf) < 2 || !mf_utf8_valid(buf, len) || strstr(buf, "{ASIN.") != NULL ||
	    strstr(buf, "[ASIN.") != NULL || strstr(buf, "vol_") != NULL ||
	    mf_asin_in_name(buf, a))
		return 0;
	for (p = strchr(buf, '('); p != NULL; p = strchr(p + 1, '('))
		if (isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		    isdigit((unsigned char)p[3]) && isdigit((unsigned char)p[4]) && p[5] == ')')
			return 0;	/* "(2019)": a book's folder */
	for (i = 0; i < sizeof(rootish) / sizeof(rootish[0]); i++)
		if (strcasecmp(buf, rootish[i]) == 0)
			return 0;
	for (i = 0; i < sizeof(within) / sizeof(within[0]); i++)
		if (strcasestr(buf, within[i]) != NULL)
			return 0;
	if (author != NULL && strcasecmp(buf, author) == 0)
		return 0;
	snprintf(paren, sizeof(paren), "(%s)", buf);
	return strstr(folder, paren) == NULL;
}

/*
 * The series from the folders above the release (rel: its path below the library root),
 * nearest first, at most SERIES_UP of them and never the root or above: the first that
 * can name a series, else NULL (malloc'd).
 */
#define SERIES_UP	4
static char *
series_from_folders(const char *rel, const char *folder, const char *author)
{
	const char *end = folder, *start;
	int up;

	for (up = 0; up < SERIES_UP && end > rel; up++) {
		end--;	/* the '/' before the folder below */
		for (start = end; start > rel && start[-1] != '/'; start--)
			;
		if (series_folder(start, (size_t)(end - start), folder, author))
			return strndup(start, (size_t)(end - start));
		end = start;
	}
	return NULL;
}

static void
put_opt(cJSON *rec, const char *key, const char *s)
{
	/* A fresh record: add, no lookup for a key to replace. */
	cJSON_AddItemToObjectCS(rec, key, s != NULL ? cJSON_CreateString(s) :
	    cJSON_CreateNull());
}

/* What the files of a release folder say before any is read for tags. */
struct found {
	cJSON		*files;		/* files[] of the record */
	char		*sidecar;	/* the path of the sidecar read, or NULL */
	const char	*first_audio;	/* its name in the folder */
	size_t		 naudio;
	int		 bad;		/* a name is not valid UTF-8 */
};

/* files[] of the regular files of the folder (links said and left out), and the first
 * sidecar that reads into m. */
static void
list_files(int dfd, const char *path, struct ent *e, size_t n, struct found *fd,
    struct meta *m)
{
	struct stat sb;
	char num[32];
	cJSON *f;
	size_t i;

	fd->files = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		if (e[i].type == DT_LNK) {
			if (mf_is_audio(e[i].name))
				mf_warnx("%s/%s: a symbolic link: not followed, not staged", path,
				    e[i].name);
			continue;
		}
		if (e[i].type != DT_REG || e[i].name[0] == '.' || mf_is_atomic_tmp(e[i].name))
			continue;
		if (fstatat(dfd, e[i].name, &sb, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))
			continue;
		f = cJSON_CreateObject();
		cJSON_AddItemToObjectCS(f, "path", json_name(e[i].name, &fd->bad));
		/* Sizes as integers written once (a double would be printed and re-read). */
		snprintf(num, sizeof(num), "%lld", (long long)sb.st_size);
		cJSON_AddItemToObjectCS(f, "size", cJSON_CreateRaw(num));
		cJSON_AddItemToObjectCS(f, "kind", cJSON_CreateStringReference(
		    mf_file_kind(e[i].name)));
		cJSON_AddItemToArray(fd->files, f);
		if (mf_is_audio(e[i].name) && fd->naudio++ == 0)
			fd->first_audio = e[i].name;
		if (fd->sidecar == NULL && strlen(e[i].name) > strlen(SIDECAR_SUFFIX) &&
		    strcmp(e[i].name + strlen(e[i].name) - strlen(SIDECAR_SUFFIX),
		    SIDECAR_SUFFIX) == 0 && (fd->sidecar = malloc(strlen(path) +
		    strlen(e[i].name) + 2)) != NULL) {
			sprintf(fd->sidecar, "%s/%s", path, e[i].name);
			if (read_sidecar(dfd, e[i].name, sb.st_size, m) == -1) {
				mf_warnx("%s: not a readable JSON object: ignored", fd->sidecar);
				free(fd->sidecar);
				fd->sidecar = NULL;
			}
		}
	}
}

/* One name as the list fill_names takes. */
static void
fill_name(cJSON **list, const char *name)
{
	cJSON *s = cJSON_CreateString(name);

	fill_names(list, s);
	cJSON_Delete(s);
}

/* What the first audio file's tags add to m (read only when something is missing). */
static void
from_tags(int dfd, const struct found *fd, struct meta *m, struct tags *t)
{
	if (fd->first_audio == NULL || (fd->sidecar != NULL && m->asin[0] != '\0' &&
	    m->title != NULL && m->authors != NULL))
		return;
	read_tags(dfd, fd->first_audio, t);
	if (m->asin[0] == '\0' && t->asin[0] != '\0')
		memcpy(m->asin, t->asin, 11);
	if (m->title == NULL) {
		fill(&m->title, t->album != NULL ? t->album : t->title);
		if (m->title != NULL && fd->naudio > 1)
			strip_part(m->title);
	}
	fill(&m->subtitle, t->subtitle);
	if (t->artist != NULL)
		fill_name(&m->authors, t->artist);
	if (t->nrt != NULL || t->composer != NULL)
		fill_name(&m->narrators, t->nrt != NULL ? t->nrt : t->composer);
	fill_year(&m->year, t->year);
	fill(&m->series, t->series);
	if (m->series != NULL)
		fill(&m->position, t->part);
}

/* Last, what the folder name's pattern (and the folders above) add to m. */
static void
from_folder(const char *rel, const char *folder, struct meta *m, struct mf_folder_info *fi)
{
	const char *author0;

	mf_folder_parse(folder, fi);
	fill(&m->title, fi->title);
	fill_year(&m->year, fi->year);
	if (fi->author != NULL && m->authors == NULL)
		fill_name(&m->authors, fi->author);
	fill(&m->position, fi->volume);
	author0 = m->authors != NULL ? cJSON_GetArrayItem(m->authors, 0)->valuestring : NULL;
	fill(&m->series, fi->series);
	if (m->series == NULL && m->position != NULL)
		m->series = series_from_folders(rel, folder, author0);
	fill(&m->title, folder);
}

/* The record of the release, from m and fd (their lists taken over); `error` when it
 * cannot go on. */
static cJSON *
put_release(const char *path, struct meta *m, struct found *fd)
{
	cJSON *rec = cJSON_CreateObject();

	if (m->asin[0] != '\0') {
		put_opt(rec, "id", m->asin);
		put_opt(rec, "asin", m->asin);
	} else {
		cJSON_AddItemToObjectCS(rec, "id", json_name(path, &fd->bad));
		put_opt(rec, "asin", NULL);
	}
	cJSON_AddItemToObjectCS(rec, "source_dir", json_name(path, &fd->bad));
	put_opt(rec, "title", m->title);
	put_opt(rec, "subtitle", m->subtitle);
	cJSON_AddItemToObjectCS(rec, "authors", m->authors ? m->authors : cJSON_CreateArray());
	cJSON_AddItemToObjectCS(rec, "narrators", m->narrators ? m->narrators :
	    cJSON_CreateArray());
	m->authors = m->narrators = NULL;
	put_opt(rec, "series", m->series);
	put_opt(rec, "series_position", m->position);
	put_opt(rec, "year", m->year);
	cJSON_AddItemToObjectCS(rec, "files", fd->files);
	fd->files = NULL;
	if (fd->sidecar != NULL)
		cJSON_AddItemToObjectCS(rec, "sidecar", json_name(fd->sidecar, &fd->bad));
	else
		put_opt(rec, "sidecar", NULL);
	if (fd->bad)
		mf_rec_error(rec, "scan", 0, "%s: a file or folder name is not valid UTF-8 "
		    "(shown with \\xNN): rename it", mf_json_str(rec, "source_dir"));
	else if (m->asin[0] == '\0')
		mf_rec_error(rec, "scan", 0, "%s: no ASIN in a sidecar, the names or the tags: "
		    "add one to the folder name as [B0XXXXXXXX]", path);
	if (mf_rec_has_error(rec))
		mf_warnx("%s", mf_json_str(rec, "error.message"));
	return rec;
}

static cJSON *
release(int dfd, const char *path, const char *rel, struct ent *e, size_t n)
{
	struct meta m;
	struct tags t;
	struct mf_folder_info fi;
	struct found fd = { 0 };
	const char *folder = strrchr(path, '/') + 1;
	char a[11];
	cJSON *rec;
	size_t i;

	memset(&m, 0, sizeof(m));
	memset(&t, 0, sizeof(t));
	memset(&fi, 0, sizeof(fi));
	while (*rel == '/')
		rel++;
	list_files(dfd, path, e, n, &fd, &m);
	/* ASIN: sidecar, then the folder and file names, then the tags. */
	if (m.asin[0] == '\0' && mf_asin_in_name(folder, a))
		memcpy(m.asin, a, 11);
	for (i = 0; i < n && m.asin[0] == '\0'; i++)
		if (e[i].type == DT_REG && mf_is_audio(e[i].name) && mf_asin_in_name(e[i].name, a))
			memcpy(m.asin, a, 11);
	from_tags(dfd, &fd, &m, &t);
	from_folder(rel, folder, &m, &fi);
	rec = put_release(path, &m, &fd);
	free(fd.sidecar);
	meta_free(&m);
	tags_free(&t);
	mf_folder_info_free(&fi);
	return rec;
}

/*
 * Releases are described by worker threads while the walk goes on (on two cores a scan
 * is then bounded by the walk itself, which find(1) also does), and written in walk order
 * by whichever worker completes the next one due.
 */
#define SCAN_WORKERS	2
#define SCAN_AHEAD	256	/* releases the walk may run ahead of the output */

struct job {
	int		 dfd;		/* the release folder, owned by the job */
	char		*path;
	struct ent	*e;
	size_t		 n;
	char		*line;		/* the record, once described */
	int		 failed, done;
};

struct pool {
	pthread_mutex_t	  mu;
	pthread_cond_t	  more, room;
	struct job	**jobs;
	size_t		  njobs, cap, next_take, next_write;
	int		  walk_done;
	int		  idle, full;	/* workers waiting for jobs; the walk waiting for room */
	size_t		  ahead;	/* SCAN_AHEAD, or fewer under a low descriptor limit */
	struct walk	 *w;
};

/* Write the finished jobs at the head of the queue, in order (pool locked). */
static void
drain(struct pool *p)
{
	struct job *j;

	int wrote = 0;

	while (p->next_write < p->njobs && (j = p->jobs[p->next_write])->done) {
		if (j->line == NULL || fputs(j->line, p->w->o->out) == EOF ||
		    putc('\n', p->w->o->out) == EOF)
			__atomic_store_n(&p->w->werr, 1, __ATOMIC_RELAXED);
		wrote = 1;
		p->w->st->releases++;
		p->w->st->failed += j->failed;
		free(j->line);
		free(j);
		p->jobs[p->next_write++] = NULL;
	}
	/* Wake the walk only when it waits (each wake-up is a system call). */
	if (wrote && p->full)
		pthread_cond_signal(&p->room);
	/* Flushed whenever no further record is ready yet (as the record stream does). */
	if (wrote && fflush(p->w->o->out) == EOF)
		__atomic_store_n(&p->w->werr, 1, __ATOMIC_RELAXED);
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	struct job *j;
	cJSON *rec;
	char pbuf[16384];

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->next_take == p->njobs && !p->walk_done) {
			p->idle++;
			pthread_cond_wait(&p->more, &p->mu);
			p->idle--;
		}
		if (p->next_take == p->njobs)
			break;
		j = p->jobs[p->next_take++];
		pthread_mutex_unlock(&p->mu);
		rec = release(j->dfd, j->path, j->path + p->w->rootlen, j->e, j->n);
		/* Printed into a stack buffer first: one allocation instead of a growing one. */
		if (rec != NULL && cJSON_PrintPreallocated(rec, pbuf, sizeof(pbuf), 0))
			j->line = strdup(pbuf);
		else
			j->line = rec != NULL ? mf_json_line(rec) : NULL;
		j->failed = rec != NULL && mf_rec_has_error(rec);
		cJSON_Delete(rec);
		close(j->dfd);
		ents_free(j->e, j->n);
		free(j->path);
		pthread_mutex_lock(&p->mu);
		j->done = 1;
		drain(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Queue a release; the job owns dfd and e from here on. */
static void
push(struct pool *p, int dfd, const char *path, struct ent *e, size_t n)
{
	struct job *j = calloc(1, sizeof(*j)), **nj;

	pthread_mutex_lock(&p->mu);
	while (p->njobs - p->next_write >= p->ahead) {
		p->full = 1;
		pthread_cond_wait(&p->room, &p->mu);
		p->full = 0;
	}
	if (p->njobs == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 1024;
		if ((nj = realloc(p->jobs, p->cap * sizeof(*nj))) == NULL) {
			free(j);
			j = NULL;
		} else
			p->jobs = nj;
	}
	if (j == NULL || (j->path = strdup(path)) == NULL) {
		/* Out of memory: counted as a write failure, the walk stops. */
		__atomic_store_n(&p->w->werr, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&p->mu);
		if (j != NULL)
			free(j->path);
		free(j);
		close(dfd);
		ents_free(e, n);
		return;
	}
	j->dfd = dfd;
	j->e = e;
	j->n = n;
	p->jobs[p->njobs++] = j;
	if (p->idle > 0)
		pthread_cond_signal(&p->more);
	pthread_mutex_unlock(&p->mu);
}

/* Walk dfd; returns 1 when dfd was handed to a release job (the caller must not close it). */
static int
walk(struct pool *p, int dfd, const char *path, int depth)
{
	struct walk *w = p->w;
	struct ent *e;
	size_t n, i;
	char *sub;
	int fd;

	if (read_dir(dfd, &e, &n) == -1) {
		mf_warn("%s: cannot read the folder", path);
		return 0;
	}
	if (depth > 0)
		for (i = 0; i < n; i++)
			if (e[i].type == DT_REG && mf_is_audio(e[i].name) && e[i].name[0] != '.') {
				push(p, dfd, path, e, n);
				return 1;
			}
	for (i = 0; i < n && depth < w->o->depth && !__atomic_load_n(&w->werr, __ATOMIC_RELAXED);
	    i++) {
		if (e[i].type == DT_LNK) {
			w->st->skipped++;
			continue;
		}
		if (e[i].type != DT_DIR)
			continue;
		if (skip_dir(e[i].name)) {
			w->st->skipped++;
			continue;
		}
		fd = openat(dfd, e[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			mf_warn("%s/%s: cannot open the folder", path, e[i].name);
			continue;
		}
		if ((sub = malloc(strlen(path) + strlen(e[i].name) + 2)) != NULL) {
			sprintf(sub, "%s/%s", path, e[i].name);
			if (walk(p, fd, sub, depth + 1))
				fd = -1;
			free(sub);
		}
		if (fd != -1)
			close(fd);
	}
	ents_free(e, n);
	return 0;
}

/*
 * Releases the walk may queue: each holds its folder open, so under a low descriptor limit
 * fewer, leaving room for the walk's own folders, the workers' files and stdio (else
 * openat fails with EMFILE and releases are skipped).
 */
static size_t
scan_ahead(int depth)
{
	struct rlimit rl;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > 4096)
		return SCAN_AHEAD;
	room = (long)rl.rlim_cur - depth - 24;
	return room < 1 ? 1 : room > SCAN_AHEAD ? SCAN_AHEAD : (size_t)room;
}

int
mf_scan_library(const char *root, const struct mf_scan_opts *o, struct mf_scan_stats *st)
{
	struct walk w = { o, st, root, strlen(root), 0 };
	struct pool p;
	pthread_t tid[SCAN_WORKERS];
	int fd, i, nt = 0;

	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		mf_warn("%s: cannot open the library", root);
		return EX_NOINPUT;
	}
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.more, NULL);
	pthread_cond_init(&p.room, NULL);
	p.w = &w;
	p.ahead = scan_ahead(o->depth);
	for (i = 0; i < SCAN_WORKERS; i++)
		if (pthread_create(&tid[nt], NULL, worker, &p) == 0)
			nt++;
	if (nt == 0) {
		mf_warnx("cannot start a thread");
		close(fd);
		return EX_OSERR;
	}
	if (walk(&p, fd, root, 0) == 0)
		close(fd);
	pthread_mutex_lock(&p.mu);
	p.walk_done = 1;
	pthread_cond_broadcast(&p.more);
	pthread_mutex_unlock(&p.mu);
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	free(p.jobs);
	pthread_cond_destroy(&p.more);
	pthread_cond_destroy(&p.room);
	pthread_mutex_destroy(&p.mu);
	return w.werr ? EX_IOERR : 0;
}
