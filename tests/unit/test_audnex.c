/* Unit tests for lib/audnex: ASINs, both error formats, meta.audnex from every fixture shape,
 * and cache entries. */
#include "harness.h"
#include "audnex.h"
#include "file.h"
#include "json.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

/* A fixture file: from the source tree (cwd), else beside the binary (build/tests/..). */
static char *
fixture(const char *rel)
{
	char path[PATH_MAX * 2], exe[PATH_MAX];
	ssize_t n;
	char *s;

	snprintf(path, sizeof path, "tests/fixtures/audnex/%s", rel);
	if ((s = mf_read_file(path, 1 << 20, NULL)))
		return s;
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return NULL;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(path, sizeof path, "%s/../../tests/fixtures/audnex/%s", exe, rel);
	return mf_read_file(path, 1 << 20, NULL);
}

static cJSON *
fixture_json(const char *rel)
{
	char *s = fixture(rel);
	cJSON *j = s ? cJSON_Parse(s) : NULL;

	free(s);
	return j;
}

TEST(asin)
{
	CHECK(mf_asin_valid("B08G9PRS1K"));
	CHECK(mf_asin_valid("1774247291"));
	CHECK(mf_asin_valid("177424684X"));
	CHECK(!mf_asin_valid("b08g9prs1k"));
	CHECK(!mf_asin_valid("B08G9PRS1"));
	CHECK(!mf_asin_valid("B08G9PRS1KK"));
	CHECK(!mf_asin_valid("X08G9PRS1K"));
	CHECK(!mf_asin_valid("17742X7291"));
	CHECK(!mf_asin_valid(""));
	CHECK(!mf_asin_valid(NULL));
}

TEST(error_formats)
{
	char m[256];
	const char *newf = "{\"error\":{\"code\":\"REGION_UNAVAILABLE\",\"message\":\"Item not available "
	    "in region 'us' for ASIN: B0DRFZR5RL\",\"details\":{\"asin\":\"B0DRFZR5RL\"}}}";
	const char *old = "{\"statusCode\":500,\"error\":\"Internal Server Error\",\"message\":"
	    "\"Required key 'authors' does not exist in Audible API response for ASIN B004V3F0RK\"}";
	const char *route = "{\"message\":\"Route GET:/ not found\",\"error\":\"Not Found\",\"statusCode\":404}";
	const char *str = "{\"error\":\"Bad Request\"}";

	CHECK(mf_audnex_errmsg(newf, strlen(newf), m, sizeof m));
	CHECK_STR(m, "Item not available in region 'us' for ASIN: B0DRFZR5RL");
	CHECK(mf_audnex_notfound_msg(m));
	CHECK(mf_audnex_errmsg(old, strlen(old), m, sizeof m));
	CHECK(strncmp(m, "Required key 'authors'", 22) == 0);
	CHECK(mf_audnex_notfound_msg(m));
	CHECK(mf_audnex_errmsg(route, strlen(route), m, sizeof m));
	CHECK_STR(m, "Route GET:/ not found");
	CHECK(mf_audnex_errmsg(str, strlen(str), m, sizeof m));
	CHECK_STR(m, "Bad Request");
	/* Not JSON: a printable excerpt, and no claim that a message was found. */
	CHECK(!mf_audnex_errmsg("<html>\x01oops\n</html>", 19, m, sizeof m));
	CHECK_STR(m, "<html>?oops </html>");
	CHECK(!mf_audnex_errmsg("", 0, m, sizeof m));
	CHECK_STR(m, "");
	CHECK(!mf_audnex_notfound_msg("An error occurred while updating book B08PC8N4NC in the DB"));
	CHECK(!mf_audnex_notfound_msg("Rate limit reached. Please try again later."));
	CHECK(mf_audnex_notfound_msg("B0XXXXXXXX has no chapters"));
	CHECK(!mf_audnex_notfound_msg(NULL));
	/* A message longer than the buffer is cut, never overrun. */
	{
		char small[8];

		CHECK(mf_audnex_errmsg(old, strlen(old), small, sizeof small));
		CHECK_INT(strlen(small), 7);
	}
}

TEST(meta_full)
{
	cJSON *b = fixture_json("books/B0TESTSER1.json"), *c = fixture_json("chapters/B0TESTSER1.json");
	cJSON *m = mf_audnex_meta(b, c);

	CHECK(b && c && m);
	if (!m)
		goto out;
	CHECK_STR(mf_json_str(m, "title"), "The Drowned Lamp");
	CHECK_STR(mf_json_str(m, "subtitle"), "The Lamps of Vell, Book 2");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "authors")), 3);
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "authors"), 2)->valuestring, "Lin Okafor");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "series")), 2);
	CHECK_STR(mf_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "series"), 1), "position"), "5.5");
	CHECK_STR(mf_json_str(m, "release_date"), "2019-09-17");
	CHECK_STR(mf_json_str(m, "publisher"), "Tidewater Audio");
	CHECK_STR(mf_json_str(m, "literature_type"), "fiction");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "chapters")), 64);
	{
		cJSON *last = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "chapters"), 63);
		cJSON *src = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "chapters"), 63);
		double a = 0, s = 0;

		mf_json_num(last, "start_ms", &a);
		mf_json_num(src, "startOffsetMs", &s);
		CHECK(a == s && a > 0);
		CHECK_STR(mf_json_str(last, "title"), "End Credits");
	}
out:
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(m);
}

TEST(meta_minimal_and_odd_shapes)
{
	cJSON *b = fixture_json("books/B0MINIMAL1.json"), *m = mf_audnex_meta(b, NULL), *j;

	CHECK(m != NULL);
	if (m) {
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(m, "subtitle")));
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(m, "image")));
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(m, "literature_type")));
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "series")), 0);
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "genres")), 0);
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "narrators")), 0);
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "chapters")), 0);
		CHECK(mf_json_bool(m, "is_adult", 0) == 1);
	}
	cJSON_Delete(m);
	cJSON_Delete(b);
	/* Wrong types everywhere: still an object, bad parts dropped; no title: NULL. */
	j = cJSON_Parse("{\"asin\":\"B0X\",\"title\":\"T\",\"authors\":[1,{\"name\":5},{\"name\":\"A\"},\"S\"],"
	    "\"seriesPrimary\":{\"name\":\"S\",\"position\":2},\"seriesSecondary\":\"x\","
	    "\"releaseDate\":\"2020\",\"runtimeLengthMin\":-5,\"genres\":{\"a\":1},"
	    "\"isAdult\":\"yes\"}");
	j = j ? j : cJSON_CreateObject();
	m = mf_audnex_meta(j, cJSON_GetObjectItem(j, "authors"));
	CHECK(m != NULL);
	if (m) {
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "authors")), 2);
		CHECK_STR(mf_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "series"), 0), "position"), "2");
		CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "series")), 1);
		CHECK_STR(mf_json_str(m, "release_date"), "2020");
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(m, "runtime_min")));
	}
	cJSON_Delete(m);
	cJSON_DeleteItemFromObject(j, "title");
	CHECK(mf_audnex_meta(j, NULL) == NULL);
	cJSON_Delete(j);
	CHECK(mf_audnex_meta(NULL, NULL) == NULL);
}

TEST(cache_entries)
{
	const char *found = "{\"version\":1,\"asin\":\"B0TESTSER1\",\"region\":\"us\",\"fetched_at\":1000,"
	    "\"found\":true,\"book\":{\"asin\":\"B0TESTSER1\",\"title\":\"T\"},\"chapters\":{\"chapters\":[]}}";
	const char *notfound = "{\"version\":1,\"asin\":\"B0TESTSER1\",\"region\":\"uk\",\"fetched_at\":1000,"
	    "\"found\":false,\"book\":null,\"chapters\":null}";
	cJSON *b, *c;

	CHECK_INT(mf_audnex_cache_parse(found, strlen(found), "B0TESTSER1", "us", 1500, 1000, 100, &b, &c), 1);
	CHECK(b && c);
	CHECK_STR(mf_json_str(b, "title"), "T");
	cJSON_Delete(b);
	cJSON_Delete(c);
	/* stale; from the future; another key; another region */
	CHECK_INT(mf_audnex_cache_parse(found, strlen(found), "B0TESTSER1", "us", 2000, 1000, 100, &b, &c), 0);
	CHECK_INT(mf_audnex_cache_parse(found, strlen(found), "B0TESTSER1", "us", 100, 1000, 100, &b, &c), 0);
	CHECK_INT(mf_audnex_cache_parse(found, strlen(found), "B0OTHER001", "us", 1500, 1000, 100, &b, &c), -1);
	CHECK_INT(mf_audnex_cache_parse(found, strlen(found), "B0TESTSER1", "uk", 1500, 1000, 100, &b, &c), -1);
	/* "not here" uses its own, shorter lifetime */
	CHECK_INT(mf_audnex_cache_parse(notfound, strlen(notfound), "B0TESTSER1", "uk", 1050, 1000, 100, &b, &c), 2);
	CHECK(!b && !c);
	CHECK_INT(mf_audnex_cache_parse(notfound, strlen(notfound), "B0TESTSER1", "uk", 1200, 1000, 100, &b, &c), 0);
	/* corrupt: cut short, wrong version, found without a book */
	CHECK_INT(mf_audnex_cache_parse(found, 40, "B0TESTSER1", "us", 1500, 1000, 100, &b, &c), -1);
	CHECK_INT(mf_audnex_cache_parse("{\"version\":2}", 13, "B0TESTSER1", "us", 1500, 1000, 100, &b, &c), -1);
	{
		const char *nob = "{\"version\":1,\"asin\":\"B0TESTSER1\",\"region\":\"us\",\"fetched_at\":1000,"
		    "\"found\":true,\"book\":null,\"chapters\":null}";

		CHECK_INT(mf_audnex_cache_parse(nob, strlen(nob), "B0TESTSER1", "us", 1500, 1000, 100, &b, &c), -1);
	}
}

TEST(bad_asin_and_region_make_no_request)
{
	struct mf_audnex_opts o = { .base_url = "http://127.0.0.1:9", .regions = "us", .attempts = 1,
	    .retry_time = 1, .backoff = 0.01, .timeout = 1 };
	struct mf_audnex *a = mf_audnex_new(&o);
	struct mf_audnex_result r;

	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_INT(mf_audnex_fetch(a, "not-an-asin", &r), MF_AUDNEX_BAD);
	CHECK(strstr(r.why, "not a valid ASIN") != NULL);
	mf_audnex_free(a);
	o.regions = "us,USA";
	a = mf_audnex_new(&o);
	/* Port 9 refuses: the first region fails to connect (DOWN), never reaching "USA". */
	CHECK_INT(mf_audnex_fetch(a, "B0TESTSER1", &r), MF_AUDNEX_DOWN);
	CHECK_INT(r.requests, 1);
	mf_audnex_result_free(&r);
	mf_audnex_free(a);
	o.regions = "USA";
	a = mf_audnex_new(&o);
	CHECK_INT(mf_audnex_fetch(a, "B0TESTSER1", &r), MF_AUDNEX_BAD);
	CHECK(strstr(r.why, "bad region") != NULL);
	CHECK_INT(mf_audnex_requests(a), 0);
	mf_audnex_free(a);
}

int
main(void)
{
	RUN(asin);
	RUN(error_formats);
	RUN(meta_full);
	RUN(meta_minimal_and_odd_shapes);
	RUN(cache_entries);
	RUN(bad_asin_and_region_make_no_request);
	return DONE();
}
