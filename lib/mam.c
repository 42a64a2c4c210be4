/* mam: the MAM "fast fill-out" upload JSON, its BBCode description, and categories. */
#include "mam.h"
#include "file.h"
#include "html.h"
#include "json.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "audio.h"
#include "log.h"

struct rule {
	int	id, main_cat;
	char	*name;
	char	**genres, **keywords;
	size_t	ngenres, nkeywords;
};

struct mf_categories {
	struct rule	*rules;
	size_t		nrules;
	int		dflt_id[2];
	char		*dflt_name[2];
};

static void
free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
mf_categories_free(struct mf_categories *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrules; i++) {
		free(c->rules[i].name);
		free_strs(c->rules[i].genres, c->rules[i].ngenres);
		free_strs(c->rules[i].keywords, c->rules[i].nkeywords);
	}
	free(c->rules);
	free(c->dflt_name[0]);
	free(c->dflt_name[1]);
	free(c);
}

/* Lower-cased copies of the strings of a JSON array; -1 when it holds a non-string. */
static int
strs(const cJSON *arr, char ***out, size_t *n)
{
	const cJSON *e;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return -1;
	if (!(*out = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof **out)))
		return -1;
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsString(e) || !e->valuestring[0])
			return -1;
		if (!((*out)[k] = strdup(e->valuestring)))
			return -1;
		for (char *p = (*out)[k]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		*n = ++k;
	}
	return 0;
}

struct mf_categories *
mf_categories_parse(const char *text, size_t len, char *err, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(text, len), *rules, *r;
	struct mf_categories *c = calloc(1, sizeof *c);
	static const char *const kind[2] = { "defaults.fiction", "defaults.nonfiction" };
	size_t k = 0;

	if (!c || !cJSON_IsObject(j)) {
		snprintf(err, n, "not a JSON object");
		goto bad;
	}
	for (int i = 0; i < 2; i++) {
		char p[64];
		double id;
		const char *name;

		snprintf(p, sizeof p, "%s.id", kind[i]);
		if (mf_json_num(j, p, &id) != 0 || id < 1 || id > 100000) {
			snprintf(err, n, "%s: expected a category id", p);
			goto bad;
		}
		snprintf(p, sizeof p, "%s.name", kind[i]);
		if (!(name = mf_json_str(j, p)) || !(c->dflt_name[i] = strdup(name))) {
			snprintf(err, n, "%s: expected a name", p);
			goto bad;
		}
		c->dflt_id[i] = (int)id;
	}
	rules = cJSON_GetObjectItemCaseSensitive(j, "rules");
	if (!cJSON_IsArray(rules) ||
	    !(c->rules = calloc((size_t)cJSON_GetArraySize(rules) + 1, sizeof *c->rules))) {
		snprintf(err, n, "rules: expected an array");
		goto bad;
	}
	cJSON_ArrayForEach(r, rules) {
		struct rule *ru = &c->rules[k];
		double id, mc;
		const char *name = mf_json_str(r, "name");

		c->nrules = k + 1;
		if (mf_json_num(r, "id", &id) != 0 || id < 1 || id > 100000 || !name ||
		    mf_json_num(r, "main_cat", &mc) != 0 || (mc != 1 && mc != 2) ||
		    !(ru->name = strdup(name)) ||
		    strs(cJSON_GetObjectItemCaseSensitive(r, "genres"), &ru->genres, &ru->ngenres) ||
		    strs(cJSON_GetObjectItemCaseSensitive(r, "keywords"), &ru->keywords,
		    &ru->nkeywords)) {
			snprintf(err, n, "rules[%zu]: expected id, name, main_cat 1|2, and string "
			    "arrays genres/keywords", k);
			goto bad;
		}
		ru->id = (int)id;
		ru->main_cat = (int)mc;
		k++;
	}
	cJSON_Delete(j);
	return c;
bad:
	cJSON_Delete(j);
	mf_categories_free(c);
	return NULL;
}

struct mf_categories *
mf_categories_load(const char *path, char *err, size_t n)
{
	size_t len;
	char *text = mf_read_file(path, 1 << 20, &len);
	struct mf_categories *c;
	char why[200];

	if (!text) {
		snprintf(err, n, "%s: %s", path, strerror(errno));
		return NULL;
	}
	c = mf_categories_parse(text, len, why, sizeof why);
	free(text);
	if (!c)
		snprintf(err, n, "%s: %s", path, why);
	return c;
}

/* 1 when kw occurs in s (both lower case) with no letter or digit right around it. */
static int
has_word(const char *s, const char *kw)
{
	size_t l = strlen(kw);

	for (const char *p = s; (p = strstr(p, kw)); p++) {
		int before = p > s && isalnum((unsigned char)p[-1]);
		int after = isalnum((unsigned char)p[l]);

		if (!before && !after)
			return 1;
	}
	return 0;
}

void
mf_categories_match(const struct mf_categories *c, const cJSON *genres,
    const char *literature_type, struct mf_category *out)
{
	size_t ng = 0, k = 0;
	char **g;
	const cJSON *e;

	memset(out, 0, sizeof *out);
	out->main_cat = literature_type && !strcasecmp(literature_type, "nonfiction") ? 2 : 1;
	if (c) {
		out->id = c->dflt_id[out->main_cat - 1];
		out->name = c->dflt_name[out->main_cat - 1];
	}
	if (!c || !cJSON_IsArray(genres))
		return;
	if (!(g = calloc((size_t)cJSON_GetArraySize(genres) + 1, sizeof *g)))
		return;
	cJSON_ArrayForEach(e, genres) {
		if (cJSON_IsString(e) && (g[ng] = strdup(e->valuestring))) {
			for (char *p = g[ng]; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			ng++;
		}
	}
	/* Whole genre names first (the most specific), then keywords, each in table order. */
	for (int pass = 0; pass < 2 && !out->matched; pass++) {
		for (k = 0; k < c->nrules && !out->matched; k++) {
			const struct rule *r = &c->rules[k];
			size_t nw = pass ? r->nkeywords : r->ngenres;
			char **w = pass ? r->keywords : r->genres;

			for (size_t i = 0; i < ng && !out->matched; i++)
				for (size_t j = 0; j < nw && !out->matched; j++)
					if (pass ? has_word(g[i], w[j]) : !strcmp(g[i], w[j]))
						out->matched = 1;
		}
	}
	if (out->matched) {
		const struct rule *r = &c->rules[k - 1];

		out->id = r->id;
		out->name = r->name;
		out->main_cat = r->main_cat;
	}
	free_strs(g, ng);
}

/* ---- rendering ---- */

/* Milliseconds from a JSON number, clamped (records may carry anything). */
static long long
ms_of(double d)
{
	if (!(d >= 0))
		return 0;
	return d > 1e15 ? (long long)1e15 : (long long)d;
}

char *
mf_mam_clock(long long ms, int hours, char *buf, size_t n)
{
	long long s = ms < 0 ? 0 : ms / 1000;

	if (hours)
		snprintf(buf, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, n, "%02lld:%02lld", s / 60, s % 60);
	return buf;
}

/* Non-empty string at path of a, else of b. */
static const char *
pick(const cJSON *a, const char *pa, const cJSON *b, const char *pb)
{
	const char *s = a ? mf_json_str(a, pa) : NULL;

	if (s && *s)
		return s;
	s = b ? mf_json_str(b, pb) : NULL;
	return s && *s ? s : NULL;
}

/* The non-empty strings at key of obj (an array, or one string) appended to out. */
static void
strings_of(const cJSON *obj, const char *key, cJSON *out)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL, *e;

	if (cJSON_IsString(v) && v->valuestring[0]) {
		cJSON_AddItemToArray(out, cJSON_CreateString(v->valuestring));
		return;
	}
	cJSON_ArrayForEach(e, v)
		if (cJSON_IsString(e) && e->valuestring[0])
			cJSON_AddItemToArray(out, cJSON_CreateString(e->valuestring));
}

/* 1 when name is the bare name of a credit in list ("X" and "X - translator"). */
static int
credited(const struct mf_naming *n, const cJSON *list, const char *name)
{
	const cJSON *e;
	char *bare;
	int hit = 0;

	cJSON_ArrayForEach(e, list) {
		if (!hit && cJSON_IsString(e) && mf_naming_is_role(n, e->valuestring, &bare)) {
			hit = bare && !strcasecmp(bare, name);
			free(bare);
		}
	}
	return hit;
}

/*
 * The names at key: Audnex first, else the record.  Authors lose the credits that are not
 * authors (naming.json author_roles), including a name Audnex lists plainly that the
 * record's own list (the file's tags, the sidecar) marks as a translator or the like; when
 * nothing else is left the list stays as it was (MAM needs an author).  Every name then
 * goes through author_map and romaji.
 */
static cJSON *
people(const struct mf_mam_in *in, const char *key)
{
	const cJSON *v = in->audnex ? cJSON_GetObjectItemCaseSensitive(in->audnex, key) : NULL;
	const cJSON *mine = in->rec ? cJSON_GetObjectItemCaseSensitive(in->rec, key) : NULL, *e;
	cJSON *raw = cJSON_CreateArray(), *out = cJSON_CreateArray(), *w;
	int authors = !strcmp(key, "authors");
	char *s;

	strings_of(cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0 ? in->audnex : in->rec, key, raw);
	if (in->naming && authors) {
		cJSON_ArrayForEach(e, raw)
			if (!mf_naming_is_role(in->naming, e->valuestring, NULL) &&
			    !credited(in->naming, mine, e->valuestring))
				cJSON_AddItemToArray(out, cJSON_CreateString(e->valuestring));
		if (cJSON_GetArraySize(out) == 0) {
			cJSON_Delete(out);
			out = raw;
			raw = cJSON_CreateArray();
		}
	} else {
		cJSON_Delete(out);
		out = raw;
		raw = NULL;
	}
	cJSON_Delete(raw);
	if (in->naming)
		cJSON_ArrayForEach(w, out)
			if ((s = mf_naming_author(in->naming, w->valuestring))) {
				cJSON_SetValuestring(w, s);
				free(s);
			}
	return out;
}

/* [{name, number}] from Audnex series, else the record's series/series_position. */
static cJSON *
series_of(const struct mf_mam_in *in)
{
	const cJSON *s = in->audnex ? cJSON_GetObjectItemCaseSensitive(in->audnex, "series") : NULL;
	cJSON *out = cJSON_CreateArray(), *e, *o;

	cJSON_ArrayForEach(e, s) {
		const char *name = mf_json_str(e, "name"), *pos = mf_json_str(e, "position");

		if (!name || !*name || !(o = cJSON_CreateObject()))
			continue;
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "number", pos ? pos : "");
		cJSON_AddItemToArray(out, o);
	}
	if (cJSON_GetArraySize(out) == 0 && in->rec) {
		const char *name = mf_json_str(in->rec, "series"), *pos;

		pos = mf_json_str(in->rec, "series_position");
		if (name && *name && (o = cJSON_CreateObject())) {
			cJSON_AddStringToObject(o, "name", name);
			cJSON_AddStringToObject(o, "number", pos ? pos : "");
			cJSON_AddItemToArray(out, o);
		}
	}
	return out;
}

static const char *title_of(const struct mf_mam_in *in);

/*
 * The subtitle after the naming rules (malloc'd), or NULL: dropped when it only repeats a
 * series ("The Lamps of Vell, Book 2") or says nothing ("A LitRPG Adventure").  The series
 * are given as named and as cleaned ("Overlord (Light Novel)" and "Overlord").
 */
static char *
subtitle_of(const struct mf_mam_in *in, const cJSON *series)
{
	const char *sub = pick(in->audnex, "subtitle", in->rec, "subtitle"), *names[16];
	char *owned[16], *r;
	size_t n = 0, k = 0, i;
	const cJSON *e;

	if (!sub)
		return NULL;
	cJSON_ArrayForEach(e, series) {
		const char *name = mf_json_str(e, "name");

		if (!name || !*name || n + 2 > sizeof names / sizeof names[0])
			continue;
		names[n++] = name;
		if (in->naming && (owned[k] = mf_naming_series(in->naming, name))) {
			if (strcmp(owned[k], name) != 0)
				names[n++] = owned[k];
			k++;
		}
	}
	if (in->naming) {
		r = mf_naming_subtitle(in->naming, sub, title_of(in), names, n);
	} else {
		for (i = 0; i < n && strcasecmp(sub, names[i]) != 0; i++)
			;
		r = i < n ? NULL : strdup(sub);
	}
	for (i = 0; i < k; i++)
		free(owned[i]);
	return r;
}

static const char *
title_of(const struct mf_mam_in *in)
{
	const char *t = pick(in->audnex, "title", in->rec, "title");

	if (!t && in->rec)
		t = mf_json_str(in->rec, "staging.name");
	return t ? t : "Unknown title";
}

static const char *
asin_of(const struct mf_mam_in *in)
{
	return pick(in->audnex, "asin", in->rec, "asin");
}

/* "english" -> "English" into buf. */
static const char *
language_of(const struct mf_mam_in *in, char *buf, size_t n)
{
	const char *l = pick(in->audnex, "language", NULL, NULL);

	if (!l && in->audio)
		l = pick(in->audio, "tags.language", NULL, NULL);
	snprintf(buf, n, "%s", l ? l : "English");
	buf[0] = (char)toupper((unsigned char)buf[0]);
	return buf;
}

static long long
duration_ms(const struct mf_mam_in *in)
{
	double d;

	if (in->audio && mf_json_num(in->audio, "duration_ms", &d) == 0 && d > 0)
		return ms_of(d);
	if (in->audnex && mf_json_num(in->audnex, "runtime_min", &d) == 0 && d > 0)
		return ms_of(d * 60000);
	return -1;
}

/* "20h 34m" */
static void
length_text(long long ms, char *buf, size_t n)
{
	long long m = (ms + 30000) / 60000;

	snprintf(buf, n, "%lldh %02lldm", m / 60, m % 60);
}

/* "AAC LC, 64 kb/s, 44.1 kHz, 2 channels" from meta.audio. */
static void
audio_line(const cJSON *audio, char *buf, size_t n)
{
	const char *codec = audio ? mf_json_str(audio, "codec") : NULL;
	double br = 0, sr = 0, ch = 0;
	size_t l;

	snprintf(buf, n, "%s", codec ? codec : "unknown codec");
	if (!audio)
		return;
	l = strlen(buf);
	if (mf_json_num(audio, "bitrate", &br) == 0 && br > 0 && l < n)
		l += (size_t)snprintf(buf + l, n - l, ", %.0f kb/s", br / 1000);
	if (mf_json_num(audio, "sample_rate", &sr) == 0 && sr > 0 && l < n)
		l += (size_t)snprintf(buf + l, n - l, ", %g kHz", sr / 1000);
	if (mf_json_num(audio, "channels", &ch) == 0 && ch > 0 && l < n)
		snprintf(buf + l, n - l, ", %s", ch == 1 ? "mono" : ch == 2 ? "stereo" :
		    "multichannel");
}

/* Chapters to list: Audnex's (Audible's titles), else the file's. */
static const cJSON *
chapters_of(const struct mf_mam_in *in)
{
	const cJSON *c = in->audnex ? cJSON_GetObjectItemCaseSensitive(in->audnex, "chapters") : NULL;

	if (cJSON_GetArraySize(c) > 0)
		return c;
	c = in->audio ? cJSON_GetObjectItemCaseSensitive(in->audio, "chapters") : NULL;
	return cJSON_GetArraySize(c) > 0 ? c : NULL;
}

static void
join(struct mf_buf *b, const cJSON *arr, const char *sep, const char *none)
{
	const cJSON *e;
	int k = 0;

	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsString(e))
			continue;
		if (k++)
			mf_buf_str(b, sep);
		mf_buf_str(b, e->valuestring);
	}
	if (!k)
		mf_buf_str(b, none);
}

char *
mf_mam_bbcode(const struct mf_mam_in *in)
{
	struct mf_buf b = { 0 };
	cJSON *series = series_of(in), *authors = people(in, "authors");
	cJSON *narrators = people(in, "narrators"), *e;
	char *sub = subtitle_of(in, series);
	const char *s, *asin = asin_of(in), *title = title_of(in);
	const cJSON *chapters = chapters_of(in), *genres;
	char lang[64], line[160], when[24];
	long long ms = duration_ms(in);

	/* A subtitle the title already holds is not said twice. */
	if (sub && strcasestr(title, sub)) {
		free(sub);
		sub = NULL;
	}
	mf_buf_printf(&b, "[center][size=6][b][color=#3aa6ff]%s%s%s[/color][/b][/size][/center]\n",
	    title, sub ? ": " : "", sub ? sub : "");

	s = pick(in->audnex, "summary_html", NULL, NULL);
	if (!s)
		s = pick(in->audnex, "description", in->rec, "description");
	if (s) {
		char *text = mf_html_to_text(s, strlen(s));

		if (text && *text)
			mf_buf_printf(&b, "\n[size=4][b]Synopsis[/b][/size]\n%s\n", text);
		free(text);
	}

	mf_buf_str(&b, "\n[size=4][b]Book Info[/b][/size]\n");
	if (cJSON_GetArraySize(series) > 0) {
		int k = 0;

		mf_buf_str(&b, "[b]Series:[/b] ");
		cJSON_ArrayForEach(e, series) {
			const char *num = mf_json_str(e, "number");

			mf_buf_printf(&b, "%s%s", k++ ? ", " : "", mf_json_str(e, "name"));
			if (num && *num)
				mf_buf_printf(&b, " #%s", num);
		}
		mf_buf_str(&b, "\n");
	}
	mf_buf_printf(&b, "[b]Author%s:[/b] ", cJSON_GetArraySize(authors) > 1 ? "s" : "");
	join(&b, authors, ", ", "Unknown");
	mf_buf_printf(&b, "\n[b]Narrator%s:[/b] ", cJSON_GetArraySize(narrators) > 1 ? "s" : "");
	join(&b, narrators, ", ", "Unknown");
	mf_buf_str(&b, "\n");
	if ((s = pick(in->audnex, "publisher", NULL, NULL)))
		mf_buf_printf(&b, "[b]Publisher:[/b] %s\n", s);
	if ((s = pick(in->audnex, "release_date", in->rec, "year")))
		mf_buf_printf(&b, "[b]Release date:[/b] %s\n", s);
	genres = in->audnex ? cJSON_GetObjectItemCaseSensitive(in->audnex, "genres") : NULL;
	if (cJSON_GetArraySize(genres) > 0) {
		mf_buf_str(&b, "[b]Genres:[/b] ");
		join(&b, genres, " \xe2\x80\xa2 ", "");
		mf_buf_str(&b, "\n");
	}
	mf_buf_printf(&b, "[b]Language:[/b] %s\n", language_of(in, lang, sizeof lang));
	if ((s = pick(in->audnex, "format_type", NULL, NULL)))
		mf_buf_printf(&b, "[b]Edition:[/b] %c%s\n", toupper((unsigned char)*s), s + 1);
	if (asin)
		mf_buf_printf(&b, "[b]ASIN:[/b] %s ([url=https://www.audible.com/pd/%s]Audible[/url])\n",
		    asin, asin);

	mf_buf_str(&b, "\n[size=4][b]Audio[/b][/size]\n");
	mf_buf_printf(&b, "[b]Format:[/b] %s\n", in->container ? in->container : "M4B");
	if (in->audio) {
		audio_line(in->audio, line, sizeof line);
		mf_buf_printf(&b, "[b]Audio:[/b] %s\n", line);
	}
	if (ms > 0) {
		length_text(ms, line, sizeof line);
		mf_buf_printf(&b, "[b]Duration:[/b] %s\n", line);
	}
	mf_buf_printf(&b, "[b]Chapters:[/b] %d\n", chapters ? cJSON_GetArraySize(chapters) : 0);

	if (chapters) {
		double last = 0;
		int hours;

		cJSON_ArrayForEach(e, chapters)
			mf_json_num(e, "start_ms", &last);
		hours = last >= 3600000 || ms >= 3600000;
		mf_buf_str(&b, "\n[size=4][b]Chapters[/b][/size]\n[font=Courier New]");
		cJSON_ArrayForEach(e, chapters) {
			double st = 0;
			const char *t = mf_json_str(e, "title");

			mf_json_num(e, "start_ms", &st);
			mf_buf_printf(&b, "%s - %s\n", mf_mam_clock(ms_of(st), hours, when,
			    sizeof when), t && *t ? t : "(untitled)");
		}
		mf_buf_str(&b, "[/font]\n");
	}
	cJSON_Delete(series);
	cJSON_Delete(authors);
	cJSON_Delete(narrators);
	free(sub);
	return mf_buf_take(&b);
}

/* mediainfo's style of duration: "20 h 34 min", "5 min 3 s", "30 s 0 ms". */
static void
mi_duration(long long ms, char *buf, size_t n)
{
	long long s = ms / 1000;

	if (s >= 3600)
		snprintf(buf, n, "%lld h %lld min", s / 3600, s / 60 % 60);
	else if (s >= 60)
		snprintf(buf, n, "%lld min %lld s", s / 60, s % 60);
	else
		snprintf(buf, n, "%lld s %lld ms", s, ms % 1000);
}

char *
mf_mam_mediainfo_text(const cJSON *audio, const char *container, const char *name)
{
	struct mf_buf b = { 0 };
	const cJSON *chapters = cJSON_GetObjectItemCaseSensitive(audio, "chapters"), *e;
	const char *codec = mf_json_str(audio, "codec");
	double d = 0;
	char t[64];

#define MI(label, ...) do { \
	mf_buf_printf(&b, "%-41s: ", label); \
	mf_buf_printf(&b, __VA_ARGS__); \
	mf_buf_str(&b, "\n"); \
} while (0)
	mf_buf_str(&b, "General\n");
	if (name)
		MI("Complete name", "%s", name);
	MI("Format", "%s", container && !strcmp(container, "MP3") ? "MPEG Audio" : "MPEG-4");
	if (mf_json_num(audio, "duration_ms", &d) == 0) {
		mi_duration(ms_of(d), t, sizeof t);
		MI("Duration", "%s", t);
	}
	MI("Cover", "%s", mf_json_bool(audio, "cover", 0) ? "Yes" : "No");
	mf_buf_str(&b, "\nAudio\n");
	MI("Format", "%s", codec ? codec : "unknown");
	if (mf_json_num(audio, "bitrate", &d) == 0 && d > 0)
		MI("Bit rate", "%.1f kb/s", d / 1000);
	if (mf_json_num(audio, "channels", &d) == 0 && d > 0)
		MI("Channel(s)", "%.0f channel%s", d, d == 1 ? "" : "s");
	if (mf_json_num(audio, "sample_rate", &d) == 0 && d > 0)
		MI("Sampling rate", "%g kHz", d / 1000);
	if (cJSON_GetArraySize(chapters) > 0) {
		mf_buf_str(&b, "\nMenu\n");
		cJSON_ArrayForEach(e, chapters) {
			double st = 0;
			long long ms;
			const char *title = mf_json_str(e, "title");

			mf_json_num(e, "start_ms", &st);
			ms = ms_of(st);
			snprintf(t, sizeof t, "%02lld:%02lld:%02lld.%03lld", ms / 3600000,
			    ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
			MI(t, "%s", title ? title : "");
		}
	}
#undef MI
	return mf_buf_take(&b);
}

cJSON *
mf_mam_json(const struct mf_mam_in *in)
{
	cJSON *j = cJSON_CreateObject(), *series = series_of(in), *flags;
	char *sub = subtitle_of(in, series);
	const char *s, *asin = asin_of(in);
	const cJSON *genres = in->audnex ? cJSON_GetObjectItemCaseSensitive(in->audnex, "genres") :
	    NULL;
	struct mf_category cat;
	struct mf_buf tags = { 0 };
	char lang[64], line[160];
	long long ms = duration_ms(in);
	char *desc, *mi = NULL;

	if (!j) {
		cJSON_Delete(series);
		free(sub);
		return NULL;
	}
	cJSON_AddStringToObject(j, "title", title_of(in));
	if (sub)
		cJSON_AddStringToObject(j, "subtitle", sub);
	free(sub);
	cJSON_AddItemToObject(j, "authors", people(in, "authors"));
	cJSON_AddItemToObject(j, "narrators", people(in, "narrators"));
	cJSON_AddItemToObject(j, "series", series);
	desc = mf_mam_bbcode(in);
	cJSON_AddStringToObject(j, "description", desc ? desc : "");
	free(desc);
	if ((s = pick(in->audnex, "image", NULL, NULL)))
		cJSON_AddStringToObject(j, "thumbnail", s);
	cJSON_AddStringToObject(j, "language", language_of(in, lang, sizeof lang));
	mf_categories_match(in->cats, genres, pick(in->audnex, "literature_type", NULL, NULL), &cat);
	if (cat.name)
		cJSON_AddStringToObject(j, "category", cat.name);
	cJSON_AddItemToObject(j, "categories", cJSON_CreateIntArray(&cat.id, cat.id ? 1 : 0));
	cJSON_AddNumberToObject(j, "main_cat", cat.main_cat);
	cJSON_AddNumberToObject(j, "mediaType", 1);
	if (!in->mediainfo && in->audio)
		mi = mf_mam_mediainfo_text(in->audio, in->container, NULL);
	cJSON_AddStringToObject(j, "mediaInfo", in->mediainfo ? in->mediainfo : mi ? mi : "");
	free(mi);

	if (ms > 0) {
		length_text(ms, line, sizeof line);
		mf_buf_printf(&tags, "Length: %s", line);
	}
	if ((s = pick(in->audnex, "release_date", NULL, NULL)))
		mf_buf_printf(&tags, "%sRelease date: %s", tags.len ? " | " : "", s);
	if (in->audio) {
		audio_line(in->audio, line, sizeof line);
		mf_buf_printf(&tags, "%sFormat: %s, %s", tags.len ? " | " : "",
		    in->container ? in->container : "M4B", line);
	}
	if (chapters_of(in))
		mf_buf_printf(&tags, "%sChapterized", tags.len ? " | " : "");
	if ((s = pick(in->audnex, "format_type", NULL, NULL)))
		mf_buf_printf(&tags, "%s%c%s", tags.len ? " | " : "", toupper((unsigned char)*s), s + 1);
	s = mf_buf_take(&tags);
	cJSON_AddStringToObject(j, "tags", s ? s : "");
	free((char *)s);
	if (asin) {
		snprintf(line, sizeof line, "ASIN:%s", asin);
		cJSON_AddStringToObject(j, "isbn", line);
	}
	flags = cJSON_AddArrayToObject(j, "flags");
	if (in->audnex && mf_json_bool(in->audnex, "is_adult", 0))
		cJSON_AddItemToArray(flags, cJSON_CreateString("eSex"));
	if ((s = pick(in->audnex, "format_type", NULL, NULL)) && !strcasecmp(s, "abridged"))
		cJSON_AddItemToArray(flags, cJSON_CreateString("abridged"));
	return j;
}

/* ---- the mf-meta record step ---- */

static int
is_audio_name(const char *p)
{
	static const char *const ext[] = { ".m4b", ".m4a", ".mp4", ".mp3", ".aac" };
	size_t l = strlen(p);

	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (l > 4 && !strcasecmp(p + l - strlen(ext[i]), ext[i]))
			return 1;
	return 0;
}

/*
 * The main audio file, as a path below the staging folder dir (open at dfd): the first
 * audio file in staging order (else in name order).  NULL when there is none; "" when
 * staging.files names one that is not below dir.
 */
static char *
main_audio(const cJSON *rec, const char *dir, int dfd)
{
	const cJSON *files = mf_json_path(rec, "staging.files"), *e;
	size_t dl = strlen(dir);
	struct dirent *de;
	char *best = NULL;
	DIR *d;
	int fd;

	cJSON_ArrayForEach(e, files) {
		const char *dst = mf_json_str(e, "dst");

		if (!dst || !is_audio_name(dst))
			continue;
		if (dst[0] == '/')
			dst = strncmp(dst, dir, dl) == 0 && dst[dl] == '/' ? dst + dl + 1 : "";
		return strdup(mf_relpath_safe(dst) ? dst : "");
	}
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return NULL;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !is_audio_name(de->d_name))
			continue;
		if (!best || strcmp(de->d_name, best) < 0) {
			free(best);
			best = strdup(de->d_name);
		}
	}
	closedir(d);
	return best;
}

static void
warn_rec(cJSON *warnings, const cJSON *rec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
warn_rec(cJSON *warnings, const cJSON *rec, const char *fmt, ...)
{
	va_list ap;
	char msg[700], *shown = NULL;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Records are UTF-8: a character cut by the bounded buffer is shown as \xNN. */
	if (!mf_utf8_valid(msg, strlen(msg)))
		shown = mf_utf8_display(msg, strlen(msg));
	cJSON_AddItemToArray(warnings, cJSON_CreateString(shown ? shown : msg));
	mf_info("%s: %s", mf_rec_id(rec), shown ? shown : msg);
	free(shown);
}

/* 1 when name can be a single folder or file name. */
static int
plain_name(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Facts that disagree between Audnex and the file: warnings only. */
static void
cross_check(const cJSON *audnex, const cJSON *audio, cJSON *warnings, const cJSON *rec)
{
	double rt = 0, dur = 0;
	int na, nf;

	if (mf_json_num(audnex, "runtime_min", &rt) == 0 && rt > 0 &&
	    mf_json_num(audio, "duration_ms", &dur) == 0 && dur > 0) {
		double diff = rt * 60000 - dur;

		if (diff < 0)
			diff = -diff;
		if (diff > 120000 && diff > rt * 60000 * 0.05)
			warn_rec(warnings, rec, "the file runs %.1f min but Audnex says %.0f min: "
			    "check that it is the same edition", dur / 60000, rt);
	}
	na = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(audnex, "chapters"));
	nf = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(audio, "chapters"));
	if (na > 0 && nf > 0 && na != nf)
		warn_rec(warnings, rec, "the file has %d chapters, Audnex %d: the description lists "
		    "Audnex's", nf, na);
}

/*
 * Group commit: a record's files are written to temporary files beside their paths, and
 * mf_meta_flush makes the whole batch durable and renames it into place before any of its
 * records is emitted: two syncfs per batch instead of two fsyncs per file.  A temporary
 * file is closed as soon as it is written, so a batch holds no descriptor per file: only
 * one folder per filesystem, opened before its first file is written, so that its syncfs
 * reports every write-back error of the batch.
 */
struct pending {
	char	tmp[PATH_MAX];
	char	*path;
	int	held;		/* its filesystem is in fsys[] (else it syncs itself) */
};
static struct pending *pend;
static size_t npend, cappend;
static struct {
	int	fd;
	dev_t	dev;
} fsys[8];
static size_t nfsys;

/* Hold a descriptor on the filesystem of path's folder; 1 when held, 0 when the table is
 * full (the caller syncs that file itself), -1 with errno. */
static int
hold_fs(const char *path)
{
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	struct stat st;
	int fd;

	if (!dir)
		return -1;
	if (slash)
		*slash = '\0';
	fd = open(slash ? (*dir ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t i = 0; i < nfsys; i++)
		if (fsys[i].dev == st.st_dev) {
			close(fd);
			return 1;
		}
	if (nfsys == sizeof fsys / sizeof fsys[0]) {
		close(fd);
		return 0;
	}
	fsys[nfsys].fd = fd;
	fsys[nfsys++].dev = st.st_dev;
	return 1;
}

/* Stage text for path (after sweeping what a killed run left); 0, or -1 with errno. */
static int
write_text(const char *path, const char *text)
{
	struct pending *p;
	int fd, held, e;

	if (npend == cappend) {
		size_t nc = cappend ? cappend * 2 : 64;

		if (!(p = realloc(pend, nc * sizeof *p)))
			return -1;
		pend = p;
		cappend = nc;
	}
	p = &pend[npend];
	mf_atomic_sweep(path);
	if ((held = hold_fs(path)) < 0)
		return -1;
	if ((fd = mf_atomic_open(path, MF_FILE_MODE, p->tmp, sizeof p->tmp)) < 0)
		return -1;
	if (mf_write_all(fd, text, strlen(text)) != 0 || (!held && fsync(fd) != 0) ||
	    !(p->path = strdup(path))) {
		e = errno;
		mf_atomic_abort(fd, p->tmp);
		errno = e;
		return -1;
	}
	if (close(fd) != 0) {
		e = errno;
		mf_atomic_abort(-1, p->tmp);
		free(p->path);
		errno = e;
		return -1;
	}
	p->held = held;
	npend++;
	return 0;
}

/* Forget the files staged since mark (a record that failed half way). */
static void
drop_pending(size_t mark)
{
	while (npend > mark) {
		npend--;
		mf_atomic_abort(-1, pend[npend].tmp);
		free(pend[npend].path);
	}
}

/* syncfs each filesystem the batch wrote to; 0 or -1. */
static int
sync_all(void)
{
	int rc = 0;

	for (size_t i = 0; i < nfsys; i++)
		if (syncfs(fsys[i].fd) != 0)
			rc = -1;
	return rc;
}

int
mf_meta_flush(void *ctx)
{
	int rc = 0;

	(void)ctx;
	if (npend && sync_all() != 0) {
		mf_warn("making the MAM JSON files durable");
		rc = EX_IOERR;
	}
	for (size_t i = 0; i < npend; i++) {
		if (rc || rename(pend[i].tmp, pend[i].path) != 0 ||
		    (!pend[i].held && mf_fsync_dir(pend[i].path) != 0)) {
			if (!rc)
				mf_warn("cannot rename into %s", pend[i].path);
			rc = EX_IOERR;
			unlink(pend[i].tmp);
		}
	}
	if (npend && !rc && sync_all() != 0) {
		mf_warn("making the MAM JSON folders durable");
		rc = EX_IOERR;
	}
	for (size_t i = 0; i < npend; i++)
		free(pend[i].path);
	npend = 0;
	while (nfsys > 0)
		close(fsys[--nfsys].fd);
	return rc;
}

static char *
pretty(const cJSON *j)
{
	char *s = cJSON_Print(j), *r = NULL;

	if (s && asprintf(&r, "%s\n", s) < 0)
		r = NULL;
	free(s);
	return r;
}

/* The metadata of one record, step by step. */
struct meta_job {
	cJSON				*rec;
	const struct mf_meta_opts	*o;
	const char			*dir, *name;	/* staging.dir, staging.name */
	cJSON				*warnings, *audnex, *audio, *raw, *mam;
	struct mf_audnex_result		 ar;
	char				*file, *mi;	/* the main audio file, MediaInfo's report */
	char				*outdir, *out, *abs;	/* MF_OUT_DIR/NAME, its JSON, resolved */
	char				 container[8];
};

/* The staged folder, checked and open (its files are read below it, never through a
 * link); -1 when it is missing; -2 after failing the record. */
static int
open_staged(struct meta_job *j)
{
	const struct mf_roots roots = { NULL, j->o->seed_root, j->o->out_dir };
	const char *seed_root = j->o->seed_root;
	int dfd;

	if (!j->dir || !plain_name(j->name)) {
		mf_rec_error(j->rec, "metadata", 0, "no staging.dir and staging.name (a plain "
		    "folder name): run mf-stage first");
		return -2;
	}
	if (mf_rec_paths_ok(j->rec, MF_RF_STAGING, &roots, "metadata") != 0)
		return -2;
	dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if ((dfd < 0 && errno != ENOENT) ||
	    (dfd >= 0 && seed_root && mf_fd_inside(dfd, seed_root) != 1)) {
		mf_rec_error(j->rec, "metadata", 0, "staging.dir %s is not a folder inside "
		    "MF_SEED_ROOT (%s): refused", j->dir, dfd < 0 ? strerror(errno) :
		    "a symbolic link on its path?");
		if (dfd >= 0)
			close(dfd);
		return -2;
	}
	return dfd;
}

/* The facts of the main audio file below dfd (-1: none): j->audio, container, mi. */
static void
read_audio(struct meta_job *j, int dfd)
{
	struct mf_audio a;
	const char *base, *dot;
	char err[300];
	int afd;

	if (dfd < 0 || !(j->file = main_audio(j->rec, j->dir, dfd))) {
		warn_rec(j->warnings, j->rec, "no audio file in %s: no audio facts", j->dir);
		return;
	}
	if (!*j->file) {
		warn_rec(j->warnings, j->rec, "the main audio file is outside the staging "
		    "folder: ignored");
		return;
	}
	if ((afd = mf_open_at(dfd, j->file, NULL, NULL)) < 0) {
		warn_rec(j->warnings, j->rec, "audio facts: %s: %s", j->file, errno == ELOOP ?
		    "a symbolic link, not the staged file: not read" : strerror(errno));
		return;
	}
	base = strrchr(j->file, '/');
	base = base ? base + 1 : j->file;
	if ((dot = strrchr(base, '.')) && strlen(dot + 1) < sizeof j->container) {
		for (size_t i = 0; dot[1 + i]; i++)
			j->container[i] = (char)toupper((unsigned char)dot[1 + i]);
	}
	if (mf_audio_read(afd, &a, err, sizeof err) != 0) {
		warn_rec(j->warnings, j->rec, "audio facts: %s: %s", base, err);
	} else {
		j->audio = mf_audio_json(&a);
		if (!*j->container)
			snprintf(j->container, sizeof j->container, "%s", a.container);
		mf_audio_free(&a);
	}
	if (j->o->mediainfo && mf_audio_mediainfo(afd, j->o->mediainfo_timeout, &j->mi, err,
	    sizeof err) != 0)
		warn_rec(j->warnings, j->rec, "%s: the report is built from our own facts", err);
	close(afd);
}

/* Ask Audnex (when it is on) about the ASIN: j->audnex, and j->raw to keep beside. */
static void
ask_audnex(struct meta_job *j)
{
	const char *asin = mf_json_str(j->rec, "asin");
	struct mf_audnex_result *ar = &j->ar;
	enum mf_audnex_rc r;

	if (!j->o->audnex)
		return;		/* Audnex switched off: nothing to say. */
	if (!asin) {
		warn_rec(j->warnings, j->rec, "no ASIN: Audnex not asked");
		return;
	}
	r = mf_audnex_fetch(j->o->audnex, asin, ar);
	if (r != MF_AUDNEX_OK) {
		warn_rec(j->warnings, j->rec, "Audnex: %s", ar->why);
		return;
	}
	if (!(j->audnex = mf_audnex_meta(ar->book, ar->chapters))) {
		warn_rec(j->warnings, j->rec, "Audnex: the answer for %s lacks asin or title",
		    asin);
		return;
	}
	if (ar->why[0])
		warn_rec(j->warnings, j->rec, "Audnex: %s", ar->why);
	if ((j->raw = cJSON_CreateObject())) {
		cJSON_AddStringToObject(j->raw, "region", ar->region);
		cJSON_AddItemReferenceToObject(j->raw, "book", ar->book);
		if (ar->chapters)
			cJSON_AddItemReferenceToObject(j->raw, "chapters", ar->chapters);
		else
			cJSON_AddNullToObject(j->raw, "chapters");
	}
}

/* Write MF_OUT_DIR/NAME/NAME.json (and audnex.json beside it); -1 after failing the
 * record.  mark: the pending writes before this record's. */
static int
write_mam(struct meta_job *j, size_t mark)
{
	const char *name = j->name, *seed_root = j->o->seed_root;
	char *text, *p = NULL, *t;

	if (asprintf(&j->outdir, "%s/%s", j->o->out_dir, name) < 0 ||
	    asprintf(&j->out, "%s/%s.json", j->outdir, name) < 0) {
		mf_rec_error(j->rec, "metadata", 1, "out of memory");
		return -1;
	}
	/* Anything written under the staged folder would change the torrent. */
	if (mf_path_inside(j->outdir, j->dir) == 1 ||
	    (seed_root && mf_path_inside(j->outdir, seed_root) == 1)) {
		mf_rec_error(j->rec, "metadata", 0, "%s is inside the staging area: set "
		    "MF_OUT_DIR outside MF_SEED_ROOT (it would change the torrent)", j->outdir);
		return -1;
	}
	/* No fsync here: the batch's syncfs makes the new folder durable too. */
	if (mf_mkdir(j->outdir, MF_DIR_MODE) != 0 && errno != EEXIST &&
	    (errno != ENOENT || mf_mkdir_p(j->outdir, MF_DIR_MODE) != 0)) {
		mf_rec_error(j->rec, "metadata", 1, "cannot create %s: %s", j->outdir,
		    strerror(errno));
		return -1;
	}
	if (!(text = pretty(j->mam)) || write_text(j->out, text) != 0) {
		mf_rec_error(j->rec, "metadata", 1, "cannot write %s: %s", j->out,
		    strerror(errno));
		free(text);
		return -1;
	}
	free(text);
	if (j->raw) {
		t = pretty(j->raw);
		if (!t || asprintf(&p, "%s/audnex.json", j->outdir) < 0 || write_text(p, t) != 0) {
			mf_rec_error(j->rec, "metadata", 1, "cannot write %s/audnex.json: %s",
			    j->outdir, strerror(errno));
			free(t);
			free(p);
			drop_pending(mark);
			return -1;
		}
		free(t);
		free(p);
	}
	/* The file itself appears at the flush: resolve its folder. */
	if ((j->abs = realpath(j->outdir, NULL))) {
		char *full = NULL;

		if (asprintf(&full, "%s/%s.json", j->abs, name) < 0)
			full = NULL;
		free(j->abs);
		j->abs = full;
	}
	return 0;
}

/* The record's `meta`; what it takes over is no longer the job's. */
static void
put_meta(struct meta_job *j)
{
	cJSON *meta = cJSON_CreateObject();

	cJSON_AddItemToObject(meta, "audnex", j->audnex ? j->audnex : cJSON_CreateNull());
	cJSON_AddItemToObject(meta, "audio", j->audio ? j->audio : cJSON_CreateNull());
	j->audnex = j->audio = NULL;
	if (j->abs || j->out)
		cJSON_AddStringToObject(meta, "mam_json", j->abs ? j->abs : j->out);
	else
		cJSON_AddNullToObject(meta, "mam_json");
	cJSON_AddItemToObject(meta, "warnings", j->warnings);
	j->warnings = NULL;
	mf_json_put(j->rec, "meta", meta);
}

enum mf_rec_result
mf_meta_record(cJSON *rec, void *ctx)
{
	const struct mf_meta_opts *o = ctx;
	const char *done = mf_json_str(rec, "checkpoints.metadata_at");
	const char *old = mf_json_str(rec, "meta.mam_json");
	const struct mf_roots roots = { NULL, o->seed_root, o->out_dir };
	struct meta_job j = { .rec = rec, .o = o };
	enum mf_rec_result rc = MF_REC_FAIL;
	size_t mark = npend;
	struct mf_mam_in in;
	struct stat st;
	int dfd;

	if (done && old && !o->force) {
		if (mf_rec_paths_ok(rec, MF_RF_MAM_JSON, &roots, "metadata") != 0)
			return MF_REC_FAIL;
		if (stat(old, &st) == 0)
			return MF_REC_SKIP;	/* resume: this record's metadata is written */
	}
	j.dir = mf_json_str(rec, "staging.dir");
	j.name = mf_json_str(rec, "staging.name");
	if ((dfd = open_staged(&j)) == -2)
		return MF_REC_FAIL;
	j.warnings = cJSON_CreateArray();
	read_audio(&j, dfd);
	if (dfd >= 0)
		close(dfd);
	ask_audnex(&j);
	if (j.audnex && j.audio)
		cross_check(j.audnex, j.audio, j.warnings, rec);
	memset(&in, 0, sizeof in);
	in.rec = rec;
	in.audnex = j.audnex;
	in.audio = j.audio;
	in.container = *j.container ? j.container : NULL;
	in.mediainfo = j.mi;
	in.cats = o->cats;
	in.naming = o->naming;
	if (!(j.mam = mf_mam_json(&in)))
		mf_rec_error(rec, "metadata", 1, "out of memory");
	else if (o->dry_run || write_mam(&j, mark) == 0) {
		put_meta(&j);
		rc = MF_REC_OK;
	}
	cJSON_Delete(j.mam);
	cJSON_Delete(j.raw);
	cJSON_Delete(j.audnex);
	cJSON_Delete(j.audio);
	cJSON_Delete(j.warnings);
	mf_audnex_result_free(&j.ar);
	free(j.file);
	free(j.mi);
	free(j.outdir);
	free(j.out);
	free(j.abs);
	return rc;
}
