/* Unit tests for lib/html and lib/mam: HTML to text, the category table, the MAM JSON. */
#include "harness.h"
#include "html.h"
#include "json.h"
#include "mam.h"
#include "naming.h"

#include <stdlib.h>

static struct mf_naming *rules;	/* data/naming.json */

static void
html_is(const char *in, const char *want)
{
	char *got = mf_html_to_text(in, strlen(in));

	CHECK_STR(got, want);
	free(got);
}

TEST(html_text)
{
	html_is("<p>One.</p><p>Two.</p>", "One.\n\nTwo.");
	html_is("<p>a<br>b<br/>c</p>", "a\nb\nc");
	html_is("  <b>bold</b>   and\n\t<i>it</i>  ", "bold and it");
	html_is("x &amp; y &lt;z&gt; &quot;q&quot; &#39;s&#x27; &eacute;&#233;&#xE9;", "x & y <z> \"q\" 's' ééé");
	html_is("&ndash;&mdash;&hellip;&rsquo;", "\xe2\x80\x93\xe2\x80\x94\xe2\x80\xa6\xe2\x80\x99");
	html_is("&unknown; &amp &#; &#xZZ;", "&unknown; &amp &#; &#xZZ;");
	html_is("&#0;&#xD800;&#x110000;", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	html_is("a&nbsp;b", "a b");
	html_is("<ul><li>one</li><li>two</li></ul>after", "\xe2\x80\xa2 one\n\xe2\x80\xa2 two\n\nafter");
	html_is("a<!-- hidden <p> -->b<script>x<1</script>c<style>p{}</style>d", "abcd");
	html_is("1 < 2 and 3<4", "1 < 2 and 3<4");
	html_is("<p>cut <b", "cut");
	html_is("<p></p><p></p><p>only</p><p></p>", "only");
	html_is("<h2>Head</h2>text<div>div</div>", "Head\n\ntext\n\ndiv");
	html_is("", "");
	/* bytes that are not UTF-8 are shown, not passed on */
	html_is("caf\xe9", "caf\\xE9");
	{
		char *t = mf_html_to_text("a\0b", 3);

		CHECK_STR(t, "ab");
		free(t);
	}
}

static const char cats_json[] =
    "{\"defaults\":{\"fiction\":{\"id\":42,\"name\":\"GF\"},\"nonfiction\":{\"id\":52,\"name\":\"GN\"}},"
    "\"rules\":["
    "{\"id\":41,\"name\":\"Fan\",\"main_cat\":1,\"genres\":[\"Fantasy\"],\"keywords\":[\"fantasy\"]},"
    "{\"id\":47,\"name\":\"SF\",\"main_cat\":1,\"genres\":[\"Science Fiction\"],\"keywords\":[\"science fiction\"]},"
    "{\"id\":49,\"name\":\"Art\",\"main_cat\":2,\"keywords\":[\"art\"]}]}";

static cJSON *
strs(const char *json)
{
	return cJSON_Parse(json);
}

TEST(categories)
{
	char err[200];
	struct mf_categories *c = mf_categories_parse(cats_json, strlen(cats_json), err, sizeof err);
	struct mf_category m;
	cJSON *g;

	CHECK(c != NULL);
	if (!c)
		return;
	/* exact names beat keywords, in table order */
	g = strs("[\"Science Fiction & Fantasy\",\"Science Fiction\",\"Space Opera\"]");
	mf_categories_match(c, g, NULL, &m);
	CHECK_INT(m.id, 47);
	CHECK(m.matched);
	cJSON_Delete(g);
	/* keyword on word boundaries: "party" is not "art", "Art History" is */
	g = strs("[\"Party Planning\"]");
	mf_categories_match(c, g, "nonfiction", &m);
	CHECK_INT(m.id, 52);
	CHECK_STR(m.name, "GN");
	CHECK_INT(m.main_cat, 2);
	CHECK(!m.matched);
	cJSON_Delete(g);
	g = strs("[\"Modern Art History\"]");
	mf_categories_match(c, g, "fiction", &m);
	CHECK_INT(m.id, 49);
	CHECK_INT(m.main_cat, 2);
	cJSON_Delete(g);
	mf_categories_match(c, NULL, NULL, &m);
	CHECK_INT(m.id, 42);
	CHECK_INT(m.main_cat, 1);
	mf_categories_free(c);
	/* malformed tables are refused with a reason */
	CHECK(mf_categories_parse("[]", 2, err, sizeof err) == NULL);
	CHECK(mf_categories_parse("{\"defaults\":{}}", 15, err, sizeof err) == NULL);
	CHECK(strstr(err, "defaults.fiction") != NULL);
	{
		const char *bad = "{\"defaults\":{\"fiction\":{\"id\":1,\"name\":\"a\"},\"nonfiction\":{\"id\":2,"
		    "\"name\":\"b\"}},\"rules\":[{\"id\":3,\"name\":\"c\",\"main_cat\":3}]}";

		CHECK(mf_categories_parse(bad, strlen(bad), err, sizeof err) == NULL);
		CHECK(strstr(err, "rules[0]") != NULL);
	}
}

TEST(clock)
{
	char b[32];

	CHECK_STR(mf_mam_clock(0, 0, b, sizeof b), "00:00");
	CHECK_STR(mf_mam_clock(61999, 0, b, sizeof b), "01:01");
	CHECK_STR(mf_mam_clock(3723000, 1, b, sizeof b), "1:02:03");
	CHECK_STR(mf_mam_clock(-5, 1, b, sizeof b), "0:00:00");
}

TEST(json_from_the_record_alone)
{
	cJSON *rec = cJSON_Parse("{\"asin\":\"B0AAAAAAAA\",\"title\":\"Rec Title\",\"subtitle\":\"A Sub\","
	    "\"authors\":[\"A1\",\"\",\"A2\"],\"narrators\":\"N1\",\"series\":\"S\",\"series_position\":\"1.5\"}");
	struct mf_mam_in in = { .rec = rec };
	cJSON *j = mf_mam_json(&in), *e;
	const char *d;

	CHECK(j != NULL);
	if (!j)
		goto out;
	CHECK_STR(mf_json_str(j, "title"), "Rec Title");
	CHECK_STR(mf_json_str(j, "subtitle"), "A Sub");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "authors")), 2);
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "narrators"), 0)->valuestring, "N1");
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "series"), 0);
	CHECK_STR(mf_json_str(e, "number"), "1.5");
	CHECK_STR(mf_json_str(j, "isbn"), "ASIN:B0AAAAAAAA");
	CHECK_STR(mf_json_str(j, "language"), "English");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "categories")), 0);
	CHECK_STR(mf_json_str(j, "mediaInfo"), "");
	CHECK_STR(mf_json_str(j, "tags"), "");
	d = mf_json_str(j, "description");
	CHECK(d && strstr(d, "Rec Title: A Sub[/color]"));
	CHECK(d && strstr(d, "[b]Authors:[/b] A1, A2\n"));
	CHECK(d && strstr(d, "[b]Narrator:[/b] N1\n"));
	CHECK(d && strstr(d, "[b]Series:[/b] S #1.5\n"));
	CHECK(d && !strstr(d, "Synopsis"));
out:
	cJSON_Delete(j);
	cJSON_Delete(rec);
}

TEST(json_with_audio_and_audnex)
{
	cJSON *rec = cJSON_Parse("{\"title\":\"ignored\"}");
	cJSON *ax = cJSON_Parse("{\"asin\":\"B0BBBBBBBB\",\"title\":\"T\",\"subtitle\":\"Saga, Book 1\","
	    "\"authors\":[\"X\"],\"narrators\":[],\"series\":[{\"name\":\"Saga\",\"position\":null}],"
	    "\"genres\":[],\"summary_html\":\"<p>S1</p><p>S2</p>\",\"release_date\":\"2020-01-02\","
	    "\"language\":\"french\",\"runtime_min\":90,\"is_adult\":false,\"format_type\":\"abridged\","
	    "\"chapters\":[]}");
	cJSON *au = cJSON_Parse("{\"duration_ms\":5430000,\"codec\":\"HE-AAC\",\"bitrate\":32000,"
	    "\"sample_rate\":44100,\"channels\":1,\"cover\":true,\"tags\":{},"
	    "\"chapters\":[{\"start_ms\":0,\"title\":\"A\"},{\"start_ms\":3723000,\"title\":\"B\"}]}");
	struct mf_mam_in in = { .rec = rec, .audnex = ax, .audio = au, .container = "M4B",
	    .naming = rules };
	cJSON *j = mf_mam_json(&in);
	const char *d = mf_json_str(j, "description"), *t = mf_json_str(j, "tags");
	const char *mi = mf_json_str(j, "mediaInfo");

	CHECK(!cJSON_GetObjectItem(j, "subtitle"));	/* "Saga, Book 1" only repeats the series */
	CHECK_STR(mf_json_str(j, "language"), "French");
	CHECK_STR(t, "Length: 1h 31m | Release date: 2020-01-02 | Format: M4B, HE-AAC, 32 kb/s, 44.1 kHz, mono | Chapterized | Abridged");
	CHECK(d && strstr(d, "S1\n\nS2\n"));
	CHECK(d && strstr(d, "[b]Narrator:[/b] Unknown\n"));
	CHECK(d && strstr(d, "[b]Series:[/b] Saga\n"));
	CHECK(d && strstr(d, "0:00:00 - A\n1:02:03 - B\n"));	/* the file's chapters: Audnex has none */
	CHECK(mi && strstr(mi, "Duration                                 : 1 h 30 min\n"));
	CHECK(mi && strstr(mi, "01:02:03.000                             : B\n"));
	CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "flags"), 0)->valuestring, "abridged");
	cJSON_Delete(j);
	cJSON_Delete(rec);
	cJSON_Delete(ax);
	cJSON_Delete(au);
}

/* The authors, narrators and subtitle of the MAM JSON for a record and an Audnex answer. */
static cJSON *
people_json(const char *rec_json, const char *audnex_json)
{
	cJSON *rec = cJSON_Parse(rec_json), *ax = cJSON_Parse(audnex_json), *j;
	struct mf_mam_in in = { .rec = rec, .audnex = ax, .naming = rules };

	j = mf_mam_json(&in);
	cJSON_Delete(rec);
	cJSON_Delete(ax);
	return j;
}

static char *
joined(const cJSON *j, const char *key)
{
	static char buf[512];
	const cJSON *e;
	size_t o = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, key))
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "|" : "",
		    e->valuestring);
	return buf;
}

TEST(json_authors_roles_romaji_subtitles)
{
	cJSON *j;
	const char *d;

	/* Credits leave the authors, also one the tags mark and Audnex does not. */
	j = people_json("{\"asin\":\"B0CCCCCCCC\",\"title\":\"T\",\"authors\":[\"Bokuto Uno\","
	    "\"Andrew Cunningham - translator\"]}",
	    "{\"asin\":\"B0CCCCCCCC\",\"title\":\"T\",\"subtitle\":\"A LitRPG Adventure\","
	    "\"authors\":[\"Bokuto Uno\",\"Andrew Cunningham\",\"Ruria Miyuki (illustrator)\","
	    "\"Foreword by Neil Gaiman\",\"with Jane Roe\",\"橘 由華\",\"John Translator Smith\"],"
	    "\"narrators\":[\"理不尽な孫の手\",\"Ray Porter\"],\"series\":[{\"name\":\"Cradle\"}]}");
	CHECK_STR(joined(j, "authors"), "Bokuto Uno|Tachibana Yu Hana|John Translator Smith");
	CHECK_STR(joined(j, "narrators"), "Rifujin na Magonote|Ray Porter");
	CHECK(!cJSON_GetObjectItem(j, "subtitle"));	/* remove_patterns */
	d = mf_json_str(j, "description");
	CHECK(d && strstr(d, "[b]Authors:[/b] Bokuto Uno, Tachibana Yu Hana, John Translator Smith\n"));
	CHECK(d && strstr(d, "[color=#3aa6ff]T[/color]"));
	cJSON_Delete(j);
	/* Only credits: the list is kept as it was (MAM needs an author). */
	j = people_json("{\"title\":\"T\"}", "{\"asin\":\"B0CCCCCCCC\",\"title\":\"T\","
	    "\"authors\":[\"Foreword by X\"],\"narrators\":[]}");
	CHECK_STR(joined(j, "authors"), "Foreword by X");
	cJSON_Delete(j);
	/* The record's own list when Audnex has none. */
	j = people_json("{\"title\":\"T\",\"authors\":[\"Jane Doe, editor\",\"丸山くがね\"]}", "null");
	CHECK_STR(joined(j, "authors"), "Kugane Maruyama");
	cJSON_Delete(j);
	/* Subtitles: redundancy rules drop or strip; others are kept. */
	j = people_json("{\"title\":\"T\"}", "{\"asin\":\"B0CCCCCCCC\",\"title\":\"The Drowned Lamp\","
	    "\"subtitle\":\"A Tale (The Lamps of Vell, Book 2)\",\"authors\":[],\"narrators\":[],"
	    "\"series\":[{\"name\":\"The Lamps of Vell\",\"position\":\"2\"}]}");
	CHECK_STR(mf_json_str(j, "subtitle"), "A Tale");
	d = mf_json_str(j, "description");
	CHECK(d && strstr(d, "[color=#3aa6ff]The Drowned Lamp: A Tale[/color]"));
	cJSON_Delete(j);
	j = people_json("{\"title\":\"T\"}", "{\"asin\":\"B0CCCCCCCC\",\"title\":\"SAO 7\","
	    "\"subtitle\":\"Mother's Rosary\",\"authors\":[],\"narrators\":[],"
	    "\"series\":[{\"name\":\"Sword Art Online\",\"position\":\"7\"}]}");
	CHECK_STR(mf_json_str(j, "subtitle"), "Mother's Rosary");
	cJSON_Delete(j);
	/* Transliteration off: the kanji stay; author_map still applies. */
	mf_naming_set_romaji(rules, 0);
	j = people_json("{\"title\":\"T\"}", "{\"asin\":\"B0CCCCCCCC\",\"title\":\"T\","
	    "\"authors\":[\"橘 由華\",\"理不尽な孫の手\"],\"narrators\":[]}");
	CHECK_STR(joined(j, "authors"), "橘 由華|Rifujin na Magonote");
	cJSON_Delete(j);
	mf_naming_set_romaji(rules, 1);
}

TEST(buf)
{
	struct mf_buf b = { 0 };
	char *s;

	s = mf_buf_take(&b);
	CHECK_STR(s, "");
	free(s);
	for (int i = 0; i < 1000; i++)
		mf_buf_printf(&b, "%d,", i);
	s = mf_buf_take(&b);
	CHECK(s && strncmp(s, "0,1,2,", 6) == 0 && strstr(s, ",999,"));
	free(s);
}

int
main(void)
{
	char err[200];

	setenv("MF_DATA_DIR", "data", 0);
	if ((rules = mf_naming_load(NULL, err, sizeof(err))) == NULL) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	RUN(html_text);
	RUN(categories);
	RUN(clock);
	RUN(json_from_the_record_alone);
	RUN(json_with_audio_and_audnex);
	RUN(json_authors_roles_romaji_subtitles);
	RUN(buf);
	mf_naming_free(rules);
	return DONE();
}
