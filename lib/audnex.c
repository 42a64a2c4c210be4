/* audnex: the Audnex API client (regions, retries, circuit breaker, pace, on-disk cache). */
#include "audnex.h"
#include "clock.h"
#include "file.h"
#include "http.h"
#include "json.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CACHE_MAX	(16u << 20)

struct mf_audnex {
	struct mf_audnex_opts o;
	char		*base, *regions, *cache_dir;
	struct mf_http	*http;
	double		last;		/* start of the previous request (monotonic) */
	int		fails;		/* consecutive failed attempts */
	int		open;
	long		requests;
};

/* What one logical GET (with its retries) came to. */
enum got { G_OK, G_NOTFOUND, G_BAD, G_DOWN, G_OPEN };

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct mf_audnex *
mf_audnex_new(const struct mf_audnex_opts *o)
{
	struct mf_audnex *a = calloc(1, sizeof *a);

	if (!a)
		return NULL;
	a->o = *o;
	a->base = xstrdup(o->base_url ? o->base_url : "https://api.audnex.us");
	a->regions = xstrdup(o->regions && *o->regions ? o->regions : "us");
	a->cache_dir = xstrdup(o->cache_dir);
	if (!a->base || !a->regions || (o->cache_dir && !a->cache_dir)) {
		mf_audnex_free(a);
		return NULL;
	}
	/* A trailing slash would make "//books" in every URL. */
	for (size_t n = strlen(a->base); n > 0 && a->base[n - 1] == '/'; n--)
		a->base[n - 1] = '\0';
	if (a->o.attempts < 1)
		a->o.attempts = 1;
	a->last = -1e9;
	return a;
}

void
mf_audnex_free(struct mf_audnex *a)
{
	if (!a)
		return;
	mf_http_free(a->http);
	free(a->base);
	free(a->regions);
	free(a->cache_dir);
	free(a);
}

int
mf_audnex_breaker_open(const struct mf_audnex *a)
{
	return a->open;
}

long
mf_audnex_requests(const struct mf_audnex *a)
{
	return a->requests;
}

void
mf_audnex_result_free(struct mf_audnex_result *res)
{
	cJSON_Delete(res->book);
	cJSON_Delete(res->chapters);
	res->book = res->chapters = NULL;
}

/* ---- pure helpers ---- */

int
mf_asin_valid(const char *s)
{
	if (!s || strlen(s) != 10)
		return 0;
	if (s[0] == 'B') {
		for (int i = 1; i < 10; i++)
			if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'A' && s[i] <= 'Z'))
				return 0;
		return 1;
	}
	for (int i = 0; i < 9; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return isdigit((unsigned char)s[9]) || s[9] == 'X';
}

/* Copy a server message, keeping it printable and short. */
static void
copy_msg(const char *m, char *buf, size_t n)
{
	mf_http_excerpt(m, strlen(m), buf, n > 200 ? 200 : n);
}

int
mf_audnex_errmsg(const char *body, size_t len, char *buf, size_t n)
{
	cJSON *j = body ? cJSON_ParseWithLength(body, len) : NULL;
	const char *m = NULL;

	if (n)
		buf[0] = '\0';
	if (cJSON_IsObject(j)) {
		if (!(m = mf_json_str(j, "error.message")))
			if (!(m = mf_json_str(j, "message")))
				m = mf_json_str(j, "error");
	}
	if (m)
		copy_msg(m, buf, n);
	else if (body)
		mf_http_excerpt(body, len, buf, n);
	cJSON_Delete(j);
	return m != NULL;
}

int
mf_audnex_notfound_msg(const char *msg)
{
	static const char *const pats[] = {
		"not available", "not found", "required key", "has no chapters", "delisted",
	};

	if (!msg)
		return 0;
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
		if (strcasestr(msg, pats[i]))
			return 1;
	return 0;
}

/* The string at key, only when it is a non-empty string. */
static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* ["name", ...] from [{name, asin?}, ...]; bad entries are skipped. */
static cJSON *
names(const cJSON *arr)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *e;

	if (!out)
		return NULL;
	cJSON_ArrayForEach(e, arr) {
		const char *n = cJSON_IsObject(e) ? str_of(e, "name") :
		    (cJSON_IsString(e) ? e->valuestring : NULL);
		if (n && *n)
			cJSON_AddItemToArray(out, cJSON_CreateString(n));
	}
	return out;
}

static void
add_series(cJSON *arr, const cJSON *s)
{
	const char *name = cJSON_IsObject(s) ? str_of(s, "name") : NULL;
	const cJSON *pos;
	cJSON *o;

	if (!name || !(o = cJSON_CreateObject()))
		return;
	cJSON_AddStringToObject(o, "name", name);
	pos = cJSON_GetObjectItemCaseSensitive(s, "position");
	if (cJSON_IsString(pos) && pos->valuestring[0]) {
		cJSON_AddStringToObject(o, "position", pos->valuestring);
	} else if (cJSON_IsNumber(pos)) {
		char b[32];

		snprintf(b, sizeof b, "%g", pos->valuedouble);
		cJSON_AddStringToObject(o, "position", b);
	} else {
		cJSON_AddNullToObject(o, "position");
	}
	cJSON_AddItemToArray(arr, o);
}

static void
put_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

/* A finite number in [lo, hi] at key, else NULL. */
static const cJSON *
num_of(const cJSON *o, const char *key, double lo, double hi)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
		return NULL;
	return v;
}

cJSON *
mf_audnex_meta(const cJSON *book, const cJSON *chapters)
{
	const char *asin, *title, *rd;
	const cJSON *v, *c;
	cJSON *m, *arr;

	if (!cJSON_IsObject(book) || !(asin = str_of(book, "asin")) || !(title = str_of(book, "title")))
		return NULL;
	if (!(m = cJSON_CreateObject()))
		return NULL;
	cJSON_AddStringToObject(m, "asin", asin);
	cJSON_AddStringToObject(m, "title", title);
	put_str(m, "subtitle", str_of(book, "subtitle"));
	cJSON_AddItemToObject(m, "authors", names(cJSON_GetObjectItemCaseSensitive(book, "authors")));
	cJSON_AddItemToObject(m, "narrators",
	    names(cJSON_GetObjectItemCaseSensitive(book, "narrators")));
	arr = cJSON_AddArrayToObject(m, "series");
	add_series(arr, cJSON_GetObjectItemCaseSensitive(book, "seriesPrimary"));
	add_series(arr, cJSON_GetObjectItemCaseSensitive(book, "seriesSecondary"));
	cJSON_AddItemToObject(m, "genres", names(cJSON_GetObjectItemCaseSensitive(book, "genres")));
	put_str(m, "summary_html", str_of(book, "summary"));
	put_str(m, "description", str_of(book, "description"));
	/* The date part only: the server sends UTC midnight. */
	if ((rd = str_of(book, "releaseDate")) && strlen(rd) >= 10) {
		char d[11];

		memcpy(d, rd, 10);
		d[10] = '\0';
		cJSON_AddStringToObject(m, "release_date", d);
	} else {
		put_str(m, "release_date", rd);
	}
	put_str(m, "publisher", str_of(book, "publisherName"));
	put_str(m, "language", str_of(book, "language"));
	if ((v = num_of(book, "runtimeLengthMin", 0, 1e7)))
		cJSON_AddNumberToObject(m, "runtime_min", (double)(long)v->valuedouble);
	else
		cJSON_AddNullToObject(m, "runtime_min");
	put_str(m, "image", str_of(book, "image"));
	cJSON_AddBoolToObject(m, "is_adult", mf_json_bool(book, "isAdult", 0));
	put_str(m, "format_type", str_of(book, "formatType"));
	put_str(m, "literature_type", str_of(book, "literatureType"));
	put_str(m, "isbn", str_of(book, "isbn"));
	put_str(m, "region", str_of(book, "region"));

	arr = cJSON_AddArrayToObject(m, "chapters");
	c = cJSON_IsObject(chapters) ? cJSON_GetObjectItemCaseSensitive(chapters, "chapters") : NULL;
	cJSON_ArrayForEach(v, c) {
		const cJSON *st = num_of(v, "startOffsetMs", 0, 1e12), *ln = num_of(v, "lengthMs", 0, 1e12);
		const char *t = str_of(v, "title");
		cJSON *o;

		if (!st || !(o = cJSON_CreateObject()))
			continue;
		cJSON_AddNumberToObject(o, "start_ms", (double)(long long)st->valuedouble);
		if (ln)
			cJSON_AddNumberToObject(o, "length_ms", (double)(long long)ln->valuedouble);
		else
			cJSON_AddNullToObject(o, "length_ms");
		cJSON_AddStringToObject(o, "title", t ? t : "");
		cJSON_AddItemToArray(arr, o);
	}
	return m;
}

int
mf_audnex_cache_parse(const char *text, size_t len, const char *asin, const char *region,
    time_t now, double ttl, double neg_ttl, cJSON **book, cJSON **chapters)
{
	cJSON *j = cJSON_ParseWithLength(text, len), *b, *c;
	double at, age;
	int found, rc;

	*book = *chapters = NULL;
	if (!cJSON_IsObject(j) || mf_json_num(j, "version", &at) != 0 || at != 1 ||
	    !mf_json_str(j, "asin") || strcmp(mf_json_str(j, "asin"), asin) != 0 ||
	    !mf_json_str(j, "region") || strcmp(mf_json_str(j, "region"), region) != 0 ||
	    mf_json_num(j, "fetched_at", &at) != 0 ||
	    !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "found"))) {
		cJSON_Delete(j);
		return -1;
	}
	found = mf_json_bool(j, "found", 0);
	b = cJSON_GetObjectItemCaseSensitive(j, "book");
	c = cJSON_GetObjectItemCaseSensitive(j, "chapters");
	if (found && (!cJSON_IsObject(b) || !str_of(b, "title") || !str_of(b, "asin") ||
	    strcmp(str_of(b, "asin"), asin) != 0 || !(cJSON_IsObject(c) || cJSON_IsNull(c)))) {
		cJSON_Delete(j);
		return -1;
	}
	/* An entry from the future (clock moved back) is not trusted. */
	age = (double)now - at;
	if (age < -300 || age >= (found ? ttl : neg_ttl)) {
		cJSON_Delete(j);
		return 0;
	}
	rc = 2;
	if (found) {
		*book = cJSON_DetachItemViaPointer(j, b);
		if (cJSON_IsObject(c))
			*chapters = cJSON_DetachItemViaPointer(j, c);
		rc = 1;
	}
	cJSON_Delete(j);
	return rc;
}

/* ---- the network side ---- */

static void
cache_path(const struct mf_audnex *a, const char *asin, const char *region, char *p, size_t n)
{
	snprintf(p, n, "%s/audnex/%s.%s.json", a->cache_dir, asin, region);
}

/* 1 found, 2 "not here", 0 nothing usable. */
static int
cache_read(struct mf_audnex *a, const char *asin, const char *region, cJSON **book,
    cJSON **chapters)
{
	char p[PATH_MAX];
	size_t len;
	char *text;
	int rc;

	*book = *chapters = NULL;
	if (!a->cache_dir || a->o.refresh)
		return 0;
	cache_path(a, asin, region, p, sizeof p);
	if (!(text = mf_read_file(p, CACHE_MAX, &len))) {
		if (errno != ENOENT)
			mf_debug("audnex cache %s: unreadable, ignored", p);
		return 0;
	}
	rc = mf_audnex_cache_parse(text, len, asin, region, time(NULL), a->o.ttl, a->o.neg_ttl,
	    book, chapters);
	free(text);
	if (rc < 0)
		mf_debug("audnex cache %s: corrupt, ignored (it will be replaced)", p);
	return rc > 0 ? rc : 0;
}

static void
cache_write(struct mf_audnex *a, const char *asin, const char *region, const cJSON *book,
    const cJSON *chapters)
{
	char dir[PATH_MAX], p[PATH_MAX], tmp[PATH_MAX + 64];
	cJSON *j;
	char *text;
	int fd;

	if (!a->cache_dir || a->o.dry_run || !(j = cJSON_CreateObject()))
		return;
	cJSON_AddNumberToObject(j, "version", 1);
	cJSON_AddStringToObject(j, "asin", asin);
	cJSON_AddStringToObject(j, "region", region);
	cJSON_AddNumberToObject(j, "fetched_at", (double)time(NULL));
	cJSON_AddBoolToObject(j, "found", book != NULL);
	cJSON_AddItemToObject(j, "book", book ? cJSON_Duplicate(book, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(j, "chapters",
	    chapters ? cJSON_Duplicate(chapters, 1) : cJSON_CreateNull());
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	snprintf(dir, sizeof dir, "%s/audnex", a->cache_dir);
	cache_path(a, asin, region, p, sizeof p);
	/* A cache that cannot be written costs requests next time, nothing more. */
	mf_atomic_sweep(p);
	/*
	 * Atomic but not synced: a cache entry lost or torn by a crash is caught as corrupt
	 * on reading and fetched again, and an fsync per book would cost more than the request.
	 */
	if (!text || mf_mkdir_p(dir, MF_DIR_MODE) != 0 || (fd = mf_atomic_open(p, MF_FILE_MODE, tmp, sizeof tmp)) < 0) {
		mf_warn("audnex cache %s: not written", p);
	} else if (mf_write_all(fd, text, strlen(text)) != 0) {
		mf_warn("audnex cache %s: not written", p);
		mf_atomic_abort(fd, tmp);
	} else if (close(fd) != 0 || rename(tmp, p) != 0) {
		mf_warn("audnex cache %s: not written", p);
		unlink(tmp);
	}
	free(text);
}

/* Keep to the configured request rate. */
static void
pace(struct mf_audnex *a)
{
	double now = mf_now();

	if (a->o.rate > 0) {
		double wait = a->last + 1.0 / a->o.rate - now;

		if (wait > 0) {
			mf_sleep(wait);
			now = mf_now();
		}
	}
	a->last = now;
}

/* One failed attempt toward the breaker; 1 when it is (now) open. */
static int
breaker_fail(struct mf_audnex *a, const char *last)
{
	a->fails++;
	if (!a->open && a->o.breaker > 0 && a->fails >= a->o.breaker) {
		a->open = 1;
		mf_warnx("Audnex failed %d times in a row (last: %s); not asking it again in this "
		    "run: records go on without Audnex data", a->fails, last);
	}
	return a->open;
}

/* Each byte of s that starts no valid UTF-8 sequence becomes '?': records are UTF-8. */
static void
utf8_scrub(char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		for (n = 1; n <= 4 && i + n <= len && !mf_utf8_valid(s + i, n); n++)
			;
		if (n > 4 || i + n > len) {
			s[i++] = '?';
		} else {
			i += n;
		}
	}
}

/*
 * GET url with the retry policy.  G_OK: *out is the parsed JSON object.  Otherwise why
 * says what happened, quoting the server.
 */
static enum got
get(struct mf_audnex *a, const char *url, int *requests, cJSON **out, char *why, size_t wn)
{
	struct mf_retry rt;
	struct mf_http_resp r;
	char msg[256];

	*out = NULL;
	why[0] = '\0';
	if (a->open) {
		snprintf(why, wn, "Audnex not asked: it failed %d times in a row earlier in this run",
		    a->fails);
		return G_OPEN;
	}
	if (!a->http && !(a->http = mf_http_new(a->o.timeout > 0 ? a->o.timeout : 30))) {
		snprintf(why, wn, "cannot set up the HTTP client");
		return G_DOWN;
	}
	mf_retry_init(&rt, a->o.attempts, a->o.retry_time, a->o.backoff);
	for (;;) {
		double hint = -1;
		int rc;

		pace(a);
		rc = mf_http_get(a->http, url, &r);
		a->requests++;
		(*requests)++;
		if (rc < 0 && r.too_large) {
			/* The same answer would come again: not worth another attempt. */
			snprintf(why, wn, "%s", r.error);
			mf_http_resp_free(&r);
			return G_BAD;
		} else if (rc < 0) {
			snprintf(why, wn, "%s", r.error);
		} else if (r.status == 200) {
			cJSON *j;

			utf8_scrub(r.body, r.len);
			j = cJSON_ParseWithLength(r.body, r.len);

			if (cJSON_IsObject(j)) {
				mf_http_resp_free(&r);
				a->fails = 0;
				*out = j;
				return G_OK;
			}
			cJSON_Delete(j);
			mf_http_excerpt(r.body, r.len, msg, 60);
			snprintf(why, wn, "HTTP 200 with a body that is not a JSON object (\"%s\")", msg);
		} else {
			int found = mf_audnex_errmsg(r.body, r.len, msg, sizeof msg);
			const char *q = found ? "server says" : "body";

			if (r.status == 404 || (r.status >= 500 && found &&
			    mf_audnex_notfound_msg(msg))) {
				snprintf(why, wn, "HTTP %ld, %s \"%s\"", r.status, q, msg);
				mf_http_resp_free(&r);
				a->fails = 0;	/* the server is alive and answered */
				return G_NOTFOUND;
			}
			if (r.status == 429) {
				hint = r.retry_after;
				snprintf(why, wn, "HTTP 429, %s \"%s\"%s", q, msg,
				    hint >= 0 ? "" : " (no Retry-After)");
			} else if (r.status >= 400 && r.status < 500) {
				snprintf(why, wn, "HTTP %ld, %s \"%s\"", r.status, q, msg);
				mf_http_resp_free(&r);
				a->fails = 0;
				return G_BAD;
			} else {
				snprintf(why, wn, "HTTP %ld, %s \"%s\"", r.status, q, msg);
			}
		}
		mf_http_resp_free(&r);
		/* 429 means the service is up and busy: not a failure for the breaker. */
		if (!(rc == 0 && r.status == 429) && breaker_fail(a, why))
			return G_OPEN;
		if (mf_retry_wait(&rt, hint) < 0) {
			size_t l = strlen(why);

			snprintf(why + l, wn - l, " (gave up after %d attempt%s in %.1fs)",
			    rt.attempt, rt.attempt == 1 ? "" : "s", mf_now() - rt.start);
			return G_DOWN;
		}
		mf_debug("retrying %s: %s", url, why);
	}
}

static enum mf_audnex_rc
rc_of(enum got g)
{
	switch (g) {
	case G_OK:
		return MF_AUDNEX_OK;
	case G_NOTFOUND:
		return MF_AUDNEX_NOTFOUND;
	case G_BAD:
		return MF_AUDNEX_BAD;
	case G_OPEN:
		return MF_AUDNEX_OPEN;
	case G_DOWN:
		break;
	}
	return MF_AUDNEX_DOWN;
}

enum mf_audnex_rc
mf_audnex_fetch(struct mf_audnex *a, const char *asin_in, struct mf_audnex_result *res)
{
	char asin[16], url[1024], why[400], tried[128] = "", lastwhy[400] = "";
	char *regions, *save = NULL, *reg;
	enum mf_audnex_rc out = MF_AUDNEX_NOTFOUND;

	memset(res, 0, sizeof *res);
	snprintf(asin, sizeof asin, "%s", asin_in ? asin_in : "");
	for (char *p = asin; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!mf_asin_valid(asin)) {
		snprintf(res->why, sizeof res->why, "not a valid ASIN: \"%.20s\"", asin_in ? asin_in : "");
		return MF_AUDNEX_BAD;
	}
	if (!(regions = strdup(a->regions))) {
		snprintf(res->why, sizeof res->why, "out of memory");
		return MF_AUDNEX_DOWN;
	}
	for (reg = strtok_r(regions, " ,", &save); reg; reg = strtok_r(NULL, " ,", &save)) {
		cJSON *book = NULL, *chapters = NULL;
		enum got g, gc;
		int c;

		if (strlen(reg) != 2 || !islower((unsigned char)reg[0]) ||
		    !islower((unsigned char)reg[1])) {
			snprintf(res->why, sizeof res->why, "bad region \"%.10s\" in MF_AUDNEX_REGIONS",
			    reg);
			out = MF_AUDNEX_BAD;
			break;
		}
		snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "%s%s",
		    *tried ? ", " : "", reg);
		if ((c = cache_read(a, asin, reg, &book, &chapters)) == 1) {
			res->book = book;
			res->chapters = chapters;
			res->cached = 1;
			snprintf(res->region, sizeof res->region, "%s", reg);
			if (!chapters)
				snprintf(res->why, sizeof res->why, "no chapters in Audnex (cached)");
			out = MF_AUDNEX_OK;
			break;
		}
		if (c == 2) {
			snprintf(lastwhy, sizeof lastwhy, "cached: not in region %s", reg);
			continue;
		}
		snprintf(url, sizeof url, "%s/books/%s?region=%s", a->base, asin, reg);
		g = get(a, url, &res->requests, &book, why, sizeof why);
		if (g == G_NOTFOUND) {
			snprintf(lastwhy, sizeof lastwhy, "%s", why);
			cache_write(a, asin, reg, NULL, NULL);
			continue;
		}
		if (g != G_OK) {
			snprintf(res->why, sizeof res->why, "book %s region %s: %s", asin, reg, why);
			out = rc_of(g);
			break;
		}
		if (!str_of(book, "title") || !str_of(book, "asin")) {
			snprintf(res->why, sizeof res->why,
			    "book %s region %s: the answer has no asin or title", asin, reg);
			cJSON_Delete(book);
			out = MF_AUDNEX_BAD;
			break;
		}
		snprintf(url, sizeof url, "%s/books/%s/chapters?region=%s", a->base, asin, reg);
		gc = get(a, url, &res->requests, &chapters, why, sizeof why);
		if (gc != G_OK)
			snprintf(res->why, sizeof res->why, "no chapters from Audnex: %s", why);
		/* Only definite answers are cached: a transient chapters failure is asked again. */
		if (gc == G_OK || gc == G_NOTFOUND)
			cache_write(a, asin, reg, book, chapters);
		res->book = book;
		res->chapters = chapters;
		snprintf(res->region, sizeof res->region, "%s", reg);
		out = MF_AUDNEX_OK;
		break;
	}
	if (out == MF_AUDNEX_NOTFOUND)
		snprintf(res->why, sizeof res->why, "%s is not in Audnex for region%s %s (last: %s)",
		    asin, strchr(tried, ',') ? "s" : "", tried, lastwhy);
	free(regions);
	return out;
}
