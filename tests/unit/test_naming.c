/* Unit tests for lib/naming: the worked examples of the research note, volumes,
 * sanitising, cleaning rules, and a property test over random titles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <regex.h>
#include <unistd.h>

#include "harness.h"
#include "json.h"
#include "naming.h"

static struct mf_naming *rules;	/* data/naming.json */
static struct mf_naming *none;	/* no lists: sanitising only */

/* Build with tag and .m4b single file, as the worked examples do. */
static const char *
name(const struct mf_naming *n, const char *series, const char *title, const char *pos,
    const char *year, const char *author, const char *asin, const char *tag,
    struct mf_name_out *out)
{
	struct mf_name_in in = { title, series, pos, year, author, asin, tag, 4, 4, 225 };
	char err[200];

	if (mf_naming_build(n, &in, out, err, sizeof(err)) == -1) {
		printf("# build failed: %s\n", err);
		return "(failed)";
	}
	return out->folder;
}

static size_t
pathlen(const struct mf_name_out *o, size_t suffix)
{
	return mf_utf8_chars(o->folder) + 1 + mf_utf8_chars(o->base) + suffix;
}

/* What a cleaning function (mf_naming_title, _series, _author) makes of in. */
static void
cleans_to(char *(*fn)(const struct mf_naming *, const char *), const struct mf_naming *n,
    const char *in, const char *want)
{
	char *s = fn(n, in);

	CHECK_STR(s, want);
	free(s);
}

TEST(example_1_overlord)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, "Overlord", "Overlord", "3", "2021", "Kugane Maruyama",
	    "B09TEST123", "H2OKing", &o),
	    "Overlord vol_03 (2021) (Kugane Maruyama) {ASIN.B09TEST123} [H2OKing]");
	CHECK_STR(o.base, "Overlord vol_03 (2021) (Kugane Maruyama) {ASIN.B09TEST123}");
	CHECK_INT(o.truncated, 0);
}

TEST(example_2_dating_sim)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, "Trapped in a Dating Sim", "Trapped in a Dating Sim: The World of "
	    "Otome Games is Tough for Mobs, Vol. 1", "1", "2024", "Yomu Mishima",
	    "B0DK27WWT8", "H2OKing", &o),
	    "Trapped in a Dating Sim vol_01 (2024) (Yomu Mishima) {ASIN.B0DK27WWT8} [H2OKing]");
}

TEST(example_3_haunted_bookstore_217)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, "The Haunted Bookstore - Gateway to a Parallel Universe",
	    "The Haunted Bookstore", "1", "2022", "Shinobumaru", "B09EXAMPLE1", "H2OKing", &o),
	    "The Haunted Bookstore - Gateway to a Parallel Universe vol_01 (2022) "
	    "(Shinobumaru) {ASIN.B09EXAMPLE1} [H2OKing]");
	CHECK_INT(pathlen(&o, 4), 217);
	CHECK_INT(o.ndropped, 0);
}

TEST(example_4_long_series_cut_to_225)
{
	struct mf_name_out o;

	CHECK_STR(name(none, "The Most Ridiculously Extraordinarily Impossibly Long Light Novel "
	    "Series Name That Goes On And On Forever And Ever", "Whatever", "1", "2020",
	    "Someone With An Extremely Long Pen Name", "B0ABCDEFGH", "H2OKing", &o),
	    "The Most Ridiculously Extraordinarily Impossibly Long Light Novel Series Name... "
	    "vol_01 {ASIN.B0ABCDEFGH} [H2OKing]");
	CHECK_INT(pathlen(&o, 4), 225);
	CHECK_INT(o.truncated, 1);
	CHECK_INT(o.ndropped, 3);
	CHECK_STR(o.dropped[0], "author");
	CHECK_STR(o.dropped[1], "year");
	CHECK_STR(o.dropped[2], "series");
}

TEST(example_5_standalone)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, NULL, "Project Hail Mary", NULL, "2021", "Andy Weir", "B08G9PRS1K",
	    "H2OKing", &o), "Project Hail Mary (2021) (Andy Weir) {ASIN.B08G9PRS1K} [H2OKing]");
	CHECK_INT(pathlen(&o, 4), 123);
	CHECK_INT(o.series_mode, 0);
}

TEST(example_6_inherits_the)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, "Great Cleric", "The Great Cleric: Volume 1", "1", "2024",
	    "Broccoli Lion", "B0DW5D1JLQ", NULL, &o),
	    "The Great Cleric vol_01 (2024) (Broccoli Lion) {ASIN.B0DW5D1JLQ}");
	CHECK_STR(o.base, o.folder);
}

TEST(example_7_series_suffix)
{
	struct mf_name_out o;

	name(rules, "A Most Unlikely Hero Series", "Whatever", "2", NULL, NULL, "B0TESTTEST",
	    NULL, &o);
	CHECK(strncmp(o.base, "A Most Unlikely Hero vol_02", 27) == 0);
	CHECK(strstr(o.base, "Series") == NULL);
}

TEST(example_8_publication_order)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, "Ascend Online [publication order]", "Ascend Online", "1", "2017",
	    "Luke Chmilenko", "B073PG4DX8", "H2OKing", &o),
	    "Ascend Online vol_01 (2017) (Luke Chmilenko) {ASIN.B073PG4DX8} [H2OKing]");
}

TEST(example_9_rezero_sanitised)
{
	struct mf_name_out o;

	CHECK_STR(name(none, "Re:ZERO -Starting Life in Another World-", "Re:ZERO", "1", NULL,
	    NULL, "TEST", NULL, &o), "Re -ZERO -Starting Life in Another World vol_01 {ASIN.TEST}");
}

TEST(example_10_genre_tag_removed)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, NULL, "Dungeon Crawler Carl: A LitRPG Adventure", NULL, "2020",
	    "Matt Dinniman", "B08BX5ZF5X", "H2OKing", &o),
	    "Dungeon Crawler Carl (2020) (Matt Dinniman) {ASIN.B08BX5ZF5X} [H2OKing]");
}

TEST(example_11_drops_author_then_year)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, NULL, "What If? 2: Additional Serious Scientific Answers to "
	    "Absurd Hypothetical Questions", NULL, "2022", "Randall Munroe", "0593638220",
	    "H2OKing", &o),
	    "What If 2 - Additional Serious Scientific Answers to Absurd Hypothetical Questions "
	    "{ASIN.0593638220} [H2OKing]");
	CHECK_INT(pathlen(&o, 4), 215);
	CHECK_INT(o.ndropped, 2);
	CHECK_STR(o.dropped[0], "author");
	CHECK_STR(o.dropped[1], "year");
}

TEST(example_12_author_romanised)
{
	struct mf_name_out o;

	/* The original kept the kanji (its defect 7); the author map romanises it. */
	CHECK_STR(name(rules, "Mushoku Tensei: Jobless Reincarnation (Light Novel)",
	    "Mushoku Tensei: Jobless Reincarnation, Vol. 17", "17", "2024", "理不尽な孫の手",
	    "B0XXXXXXXX", "H2OKing", &o),
	    "Mushoku Tensei - Jobless Reincarnation vol_17 (2024) (Rifujin na Magonote) "
	    "{ASIN.B0XXXXXXXX} [H2OKing]");
	/* Without a map entry the name is kept as it is (valid UTF-8, counted in chars). */
	CHECK_STR(name(none, NULL, "Ünïcödé Tïtle", NULL, NULL, "理不尽な孫の手", "B0XXXXXXXX",
	    NULL, &o), "Ünïcödé Tïtle (理不尽な孫の手) {ASIN.B0XXXXXXXX}");
}

TEST(example_13_no_tag_no_year)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, NULL, "Test Book", NULL, NULL, "Test Author", "B0TEST123", NULL,
	    &o), "Test Book (Test Author) {ASIN.B0TEST123}");
}

TEST(example_14_tiny_budget)
{
	struct mf_name_in in = { "Test", NULL, NULL, NULL, "Author", "B0TEST123", NULL, 4, 4, 50 };
	struct mf_name_out o;
	char err[200];

	CHECK_INT(mf_naming_build(rules, &in, &o, err, sizeof(err)), 0);
	CHECK(pathlen(&o, 4) <= 50);
	CHECK_STR(o.base, "Test {ASIN.B0TEST123}");
	in.max_path = 20;	/* even the ASIN alone cannot fit: refused, never dropped */
	CHECK_INT(mf_naming_build(rules, &in, &o, err, sizeof(err)), -1);
}

TEST(multipart_suffix_reserved)
{
	/* " - Part 01.m4b" is 14 characters: with a tag the base may have 100. */
	struct mf_name_in in = { NULL, NULL, NULL, "2020", "An Author", "B0ABCDEFGH", "H2OKing",
	    14, 14, 225 };
	struct mf_name_out o;
	char err[200], title[300];

	memset(title, 'x', 200);
	title[200] = '\0';
	in.title = title;
	CHECK_INT(mf_naming_build(rules, &in, &o, err, sizeof(err)), 0);
	CHECK_INT(mf_utf8_chars(o.base), 100);
	CHECK_INT(pathlen(&o, 14), 225);
}

TEST(volumes)
{
	char v[64];

	mf_naming_volfmt("3", v, sizeof(v));
	CHECK_STR(v, "vol_03");
	mf_naming_volfmt("1.5", v, sizeof(v));
	CHECK_STR(v, "vol_01.5");
	mf_naming_volfmt("10.5", v, sizeof(v));
	CHECK_STR(v, "vol_10.5");
	mf_naming_volfmt("1p2", v, sizeof(v));
	CHECK_STR(v, "vol_01p2");
	mf_naming_volfmt("1-3", v, sizeof(v));
	CHECK_STR(v, "vol_01-03");
	mf_naming_volfmt("01", v, sizeof(v));
	CHECK_STR(v, "vol_01");
	mf_naming_volfmt("3 part 1", v, sizeof(v));
	CHECK_STR(v, "vol_03p1");
	mf_naming_volfmt("123", v, sizeof(v));
	CHECK_STR(v, "vol_123");
	mf_naming_volfmt("vol_7", v, sizeof(v));	/* a written token is read, not copied */
	CHECK_STR(v, "vol_07");
	CHECK_INT(mf_naming_volfmt("vol_7 and more", v, sizeof(v)), 0);
	CHECK_INT(mf_naming_volfmt("abc", v, sizeof(v)), 0);
	CHECK_INT(mf_naming_volfmt("3x", v, sizeof(v)), 0);

	mf_naming_volume("3", "Overlord, Vol. 5", v, sizeof(v));
	CHECK_STR(v, "vol_03");
	mf_naming_volume(NULL, "Overlord Vol 12", v, sizeof(v));
	CHECK_STR(v, "vol_12");
	mf_naming_volume(NULL, "The Wandering Inn, Book 1", v, sizeof(v));
	CHECK_STR(v, "vol_01");
	mf_naming_volume(NULL, "He Who Fights with Monsters 11", v, sizeof(v));
	CHECK_STR(v, "vol_11");
	mf_naming_volume(NULL, "Project Hail Mary", v, sizeof(v));
	CHECK_STR(v, "");
	mf_naming_volume(NULL, "Overlord, Vol. 3, Part 2", v, sizeof(v));
	CHECK_STR(v, "vol_03p2");
	mf_naming_volume(NULL, "The Complete Saga: Books 1-3", v, sizeof(v));
	CHECK_STR(v, "vol_01-03");
	mf_naming_volume("Book 4", NULL, v, sizeof(v));
	CHECK_STR(v, "vol_04");
}

TEST(series_from_title)
{
	char *s, pos[32];
	struct mf_name_out o;

	CHECK_INT(mf_naming_series_from_title("Overlord, Vol. 5", &s, pos, sizeof(pos)), 1);
	CHECK_STR(s, "Overlord");
	CHECK_STR(pos, "5");
	free(s);
	CHECK_INT(mf_naming_series_from_title("The Wandering Inn: Book 2 - The Rest", &s, pos,
	    sizeof(pos)), 1);
	CHECK_STR(s, "The Wandering Inn");
	CHECK_STR(pos, "2");
	free(s);
	CHECK_INT(mf_naming_series_from_title("Fahrenheit 451", &s, pos, sizeof(pos)), 0);
	CHECK_INT(mf_naming_series_from_title("The Book 3", &s, pos, sizeof(pos)), 0);
	/* A title that names its series gets series mode even without a series field. */
	CHECK_STR(name(rules, NULL, "Overlord, Vol. 5", NULL, "2019", "Kugane Maruyama",
	    "B0ABCDEFGH", NULL, &o), "Overlord vol_05 (2019) (Kugane Maruyama) {ASIN.B0ABCDEFGH}");
}

TEST(sanitize)
{
	char *s;

#define SAN(in, want) do { s = mf_naming_sanitize(in); CHECK_STR(s, want); free(s); } while (0)
	SAN("Book: A Story", "Book - A Story");
	SAN("What?", "What");
	SAN("This/That", "This-That");
	SAN("...Book...", "Book");
	SAN("a\\b|c", "a-b-c");
	SAN("say \"hi\"", "say 'hi'");
	SAN("<x>*y", "xy");
	SAN("  tabs\tand\nnewlines  ", "tabs and newlines");
	SAN(" .hidden", "hidden");
#undef SAN
}

TEST(cleaning_rules_file)
{
	char path[] = "/tmp/test_naming.XXXXXX", err[200];
	const char *json = "{\"preserve_exact\":{\"titles\":[\"86--EIGHTY-SIX\"]},"
	    "\"remove_phrases\":[\"A Novel\",\"(Unabridged)\"],"
	    "\"series_suffixes\":[\"[[:space:]]+Cycle$\"],"
	    "\"author_map\":{\"X Y\":\"Xavier Young\"}}";
	struct mf_naming *n;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
	close(fd);
	n = mf_naming_load(path, err, sizeof(err));
	CHECK(n != NULL);
	if (n == NULL) {
		printf("# %s\n", err);
		return;
	}
	/* Whole words only: "A Novel" is not cut out of "A Novella" (defect 12). */
	cleans_to(mf_naming_title, n, "The Thing: A Novel", "The Thing");
	cleans_to(mf_naming_title, n, "Tales: A Novella (Unabridged)", "Tales: A Novella");
	cleans_to(mf_naming_title, n, "86--EIGHTY-SIX, Vol. 1", "86--EIGHTY-SIX, Vol. 1");
	cleans_to(mf_naming_title, n, "A Novel", "A Novel");	/* never emptied */
	cleans_to(mf_naming_series, n, "The Inheritance Cycle", "The Inheritance");
	cleans_to(mf_naming_author, n, "X Y", "Xavier Young");
	cleans_to(mf_naming_author, n, "X Y and Z", "Xavier Young and Z");
	mf_naming_free(n);
	/* A bad file is refused with a message naming it. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "{\"series_suffixes\":[\"(\"]}", 25) == 25);
	close(fd);
	CHECK(mf_naming_load(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, path) != NULL);
	unlink(path);
}


/* ---- issue 14: the original's remaining rules ---- */

TEST(volume_markers_leave_titles_and_series)
{
	struct mf_name_out o;

	CHECK_STR(name(rules, "Overlord, Vol. 3", "Overlord", "3", "2021", "Kugane Maruyama",
	    "B09TEST123", NULL, &o), "Overlord vol_03 (2021) (Kugane Maruyama) {ASIN.B09TEST123}");
	CHECK_STR(name(rules, "Spice and Wolf, Volume 12", "x", "12", NULL, NULL, "B0ABCDEFGH",
	    NULL, &o), "Spice and Wolf vol_12 {ASIN.B0ABCDEFGH}");
	CHECK_STR(name(rules, "The Wandering Inn: Book 1", "x", "1", NULL, NULL, "B0ABCDEFGH",
	    NULL, &o), "The Wandering Inn vol_01 {ASIN.B0ABCDEFGH}");
	CHECK_STR(name(rules, "The Wheel of Time, Book XII", "x", "12", NULL, NULL, "B0ABCDEFGH",
	    NULL, &o), "The Wheel of Time vol_12 {ASIN.B0ABCDEFGH}");
	/* A number that repeats the volume goes with it. */
	CHECK_STR(name(rules, "Title 12", "x", "12", NULL, NULL, "B0ABCDEFGH", NULL, &o),
	    "Title vol_12 {ASIN.B0ABCDEFGH}");
	CHECK_STR(name(rules, "Title 3", "x", "3", NULL, NULL, "B0ABCDEFGH", NULL, &o),
	    "Title vol_03 {ASIN.B0ABCDEFGH}");
	CHECK_STR(name(rules, "Title 3", "x", "4", NULL, NULL, "B0ABCDEFGH", NULL, &o),
	    "Title 3 vol_04 {ASIN.B0ABCDEFGH}");
	/* A kept title keeps its number. */
	CHECK_STR(name(rules, "Fahrenheit 451", "x", "451", NULL, NULL, "B0ABCDEFGH", NULL, &o),
	    "Fahrenheit 451 vol_451 {ASIN.B0ABCDEFGH}");
	cleans_to(mf_naming_title, rules, "Title 12 vol_12", "Title vol_12");
	cleans_to(mf_naming_title, rules, "Overlord, Vol. 3: The Bloody Valkyrie",
	    "Overlord: The Bloody Valkyrie");
	cleans_to(mf_naming_title, rules, "Overlord (Light Novel), Vol. 3, Part 2",
	    "Overlord");
	cleans_to(mf_naming_series, rules, "The Expanse: Books 1-3", "The Expanse");
	/* Words, not pieces of words: no "Book Mill" or "Audiobook 3" eaten (defect 12). */
	cleans_to(mf_naming_title, rules, "The Book Mill", "The Book Mill");
	cleans_to(mf_naming_title, rules, "Book Civil War", "Book Civil War");
	cleans_to(mf_naming_title, rules, "Audiobook 3 Sampler", "Audiobook 3 Sampler");
	cleans_to(mf_naming_title, rules, "Volume Control", "Volume Control");
	cleans_to(mf_naming_title, rules, "Book 1", "Book 1");	/* never emptied */
}

TEST(positions_parts_and_ranges)
{
	char v[64];
	struct mf_name_out a, b;

	mf_naming_volume("1, Part 3", NULL, v, sizeof(v));
	CHECK_STR(v, "vol_03");
	mf_naming_volume("2: Part 1", NULL, v, sizeof(v));
	CHECK_STR(v, "vol_01");
	mf_naming_volume("1-3.5", NULL, v, sizeof(v));
	CHECK_STR(v, "vol_01-03");
	mf_naming_volume("2.5-4", NULL, v, sizeof(v));
	CHECK_STR(v, "vol_02.5-04");
	mf_naming_volfmt("1-3.5", v, sizeof(v));
	CHECK_STR(v, "vol_01-03");
	/* The parts of a split book no longer share one name. */
	name(rules, "Split", "x", "1, Part 1", NULL, NULL, "B0AAAAAAAA", NULL, &a);
	name(rules, "Split", "x", "1, Part 2", NULL, NULL, "B0AAAAAAAA", NULL, &b);
	CHECK_STR(a.base, "Split vol_01 {ASIN.B0AAAAAAAA}");
	CHECK_STR(b.base, "Split vol_02 {ASIN.B0AAAAAAAA}");
}

TEST(preserve_exact_keeps_its_punctuation)
{
	struct mf_name_out o;

	/* The series guessed from the title is checked before anything is stripped. */
	CHECK_STR(name(rules, NULL, "Re:ZERO -Starting Life in Another World-, Vol. 1", "1",
	    "2016", "Tappei Nagatsuki", "B0ABCDEFGH", NULL, &o),
	    "Re -ZERO -Starting Life in Another World- vol_01 (2016) (Tappei Nagatsuki) "
	    "{ASIN.B0ABCDEFGH}");
	CHECK_STR(name(rules, "Re:ZERO -Starting Life in Another World-", "x", "1", NULL, NULL,
	    "B0ABCDEFGH", NULL, &o), "Re -ZERO -Starting Life in Another World- vol_01 "
	    "{ASIN.B0ABCDEFGH}");
	cleans_to(mf_naming_title, rules,
	    "Re:ZERO -Starting Life in Another World-, Vol. 1",
	    "Re:ZERO -Starting Life in Another World-, Vol. 1");
	/* Without the rule the dash is stray punctuation, as before (example 9). */
	cleans_to(mf_naming_series, none, "Re:ZERO -Starting Life in Another World-",
	    "Re:ZERO -Starting Life in Another World");
}

TEST(series_suffixes_of_the_original)
{
	static const char *cases[][2] = {
		{ "The Kingkiller Chronicles", "The Kingkiller" },
		{ "The Wandering Inn Book", "The Wandering Inn" },
		{ "The Expanse\xe2\x80\x94Series", "The Expanse" },
		{ "The Expanse \xe2\x80\x94 Series", "The Expanse" },
		{ "Stormlight \xe2\x80\x93 Saga", "Stormlight" },
		{ "Red Rising - Trilogy", "Red Rising" },
		{ "Red Rising-Trilogy", "Red Rising" },
		{ "The Chronicles of Narnia", "The Chronicles of Narnia" },
		{ "Chronicles", "Chronicles" },
		{ "Book", "Book" },
		{ "Notebook", "Notebook" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = mf_naming_series(rules, cases[i][0]);
		CHECK_STR(s, cases[i][1]);
		free(s);
	}
}

TEST(author_roles)
{
	static const char *roles[][2] = {
		{ "Jasmine Bernhardt - translator", "Jasmine Bernhardt" },
		{ "Andrew Cunningham -translators", "Andrew Cunningham" },
		{ "Ruria Miyuki (illustrator)", "Ruria Miyuki" },
		{ "Ruria Miyuki ( Illustrator )", "Ruria Miyuki" },
		{ "Jane Doe, editor", "Jane Doe" },
		{ "Jane Doe, Editors", "Jane Doe" },
		{ "Foreword by Neil Gaiman", "Neil Gaiman" },
		{ "Cover Design by Sam Lee", "Sam Lee" },
		{ "with Jane Roe", "Jane Roe" },
		{ "Pat Kim - foreword", "Pat Kim" },
		{ "Pat Kim (afterword)", "Pat Kim" },
	};
	static const char *authors[] = { "John Translator Smith", "Editor Smith", "Withers",
	    "Margaret With", "Jane Doe-Editorial", "Ann Illustrator", "Foreword Jones",
	    "Bob (the Editor) Lee" };
	cJSON *list;
	char *bare;
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		CHECK_INT(mf_naming_is_role(rules, roles[i][0], &bare), 1);
		CHECK_STR(bare, roles[i][1]);
		free(bare);
	}
	for (i = 0; i < sizeof(authors) / sizeof(authors[0]); i++) {
		if (mf_naming_is_role(rules, authors[i], NULL) != 0)
			printf("# \"%s\" taken for a role\n", authors[i]);
		CHECK_INT(mf_naming_is_role(rules, authors[i], NULL), 0);
	}
	CHECK_INT(mf_naming_is_role(none, "Jasmine Bernhardt - translator", NULL), 0);
	list = cJSON_Parse("[\"Andrew Cunningham - translator\",\"Bokuto Uno\"]");
	CHECK_STR(mf_naming_first_author(rules, list), "Bokuto Uno");
	cJSON_Delete(list);
	list = cJSON_Parse("[\"Foreword by X\"]");	/* nothing else: the first, as before */
	CHECK_STR(mf_naming_first_author(rules, list), "Foreword by X");
	cJSON_Delete(list);
	CHECK(mf_naming_first_author(rules, NULL) == NULL);
}

/* mf_naming_subtitle with the shipped rules, s the expected result (NULL: dropped). */
static void
sub_is(const struct mf_naming *n, const char *sub, const char *title, const char *series,
    const char *want)
{
	const char *list[1] = { series };
	char *s = mf_naming_subtitle(n, sub, title, list, series != NULL);

	if (want == NULL) {
		if (s != NULL)
			printf("# \"%s\" kept as \"%s\", want it dropped\n", sub, s);
		CHECK(s == NULL);
	} else
		CHECK_STR(s, want);
	free(s);
}

TEST(subtitles)
{
	/* remove_patterns */
	sub_is(rules, "A LitRPG Adventure", "Dungeon Crawler Carl", NULL, NULL);
	sub_is(rules, "Light Novel", "T", NULL, NULL);
	sub_is(rules, "A Novel", "Project Hail Mary", NULL, NULL);
	sub_is(rules, "Unabridged", "T", NULL, NULL);
	sub_is(rules, "Vol. 3", "T", NULL, NULL);
	sub_is(rules, "A Progression Fantasy", "T", NULL, NULL);
	/* keep_patterns win over everything after them */
	sub_is(rules, "Aria of a Starless Night", "T", "Aria of a Starless Night",
	    "Aria of a Starless Night");
	sub_is(rules, "  Mother's Rosary ", "Sword Art Online 7", "Sword Art Online",
	    "Mother's Rosary");
	/* equal to the series */
	sub_is(rules, "Cradle", "Unsouled", "Cradle", NULL);
	sub_is(rules, " cradle ", "Unsouled", "Cradle", NULL);
	/* redundancy rules: {{series}} and {{title}} filled in, drop or strip */
	sub_is(rules, "The Lamps of Vell, Book 2", "The Drowned Lamp", "The Lamps of Vell", NULL);
	sub_is(rules, "The Lamps of Vell Vol. 2", "The Drowned Lamp", "The Lamps of Vell", NULL);
	sub_is(rules, "The Drowned Lamp, Book 2", "The Drowned Lamp", NULL, NULL);
	sub_is(rules, "A Tale of Woe (The Lamps of Vell, Book 2)", "T", "The Lamps of Vell",
	    "A Tale of Woe");
	sub_is(rules, "(The Lamps of Vell, Book 2)", "T", "The Lamps of Vell", NULL);
	/* the names are text, not patterns */
	sub_is(rules, "What If? (Part 1), Book 2", "T", "What If? (Part 1)", NULL);
	sub_is(rules, "What If Part 1, Book 2", "T", "What If? (Part 1)",
	    "What If Part 1, Book 2");
	/* a rule with {{series}} needs a series */
	sub_is(rules, "Some Saga, Book 2", "T", NULL, "Some Saga, Book 2");
	/* preserve_exact keeps it even when it equals the series */
	sub_is(rules, "Sword Art Online: Progressive", "T", "Sword Art Online: Progressive",
	    "Sword Art Online: Progressive");
	/* no rules: kept, trimmed */
	sub_is(none, "A Novel ", "T", NULL, "A Novel");
	sub_is(rules, "   ", "T", NULL, NULL);
	/* A subtitle too long for the rules is cut, never inside a character. */
	{
		char big[2000], *r;
		size_t o;

		for (o = 0; o + 3 < sizeof(big); o += 3)
			memcpy(big + o, "理", 3);
		big[o] = '\0';
		r = mf_naming_subtitle(rules, big, "T", NULL, 0);
		CHECK(r != NULL && strlen(r) <= 1024 && mf_utf8_valid(r, strlen(r)));
		free(r);
	}
}

TEST(japanese_names_in_romaji)
{
	struct mf_name_out o;

	/* author_map wins... */
	cleans_to(mf_naming_author, rules, "理不尽な孫の手", "Rifujin na Magonote");
	/* ...else kakasi reads it. */
	cleans_to(mf_naming_author, rules, "橘 由華", "Tachibana Yu Hana");
	cleans_to(mf_naming_author, rules, "ジョン・スミス", "Jon Sumisu");
	cleans_to(mf_naming_author, rules, "Ünïcödé Äuthor",
	    "Ünïcödé Äuthor");	/* not Japanese: kept */
	CHECK_STR(name(rules, NULL, "Some Title", NULL, "2020", "佐々木", "B0XXXXXXXX", NULL, &o),
	    "Some Title (2020) (Sasaki) {ASIN.B0XXXXXXXX}");
	mf_naming_set_romaji(rules, 0);
	cleans_to(mf_naming_author, rules, "橘 由華", "橘 由華");
	cleans_to(mf_naming_author, rules, "理不尽な孫の手",
	    "Rifujin na Magonote");	/* the map still applies */
	mf_naming_set_romaji(rules, 1);
}

TEST(windows_reserved_names)
{
	static const struct {
		const char	*s;
		size_t		 len;
	} cases[] = {
		{ "CON", 3 }, { "con", 3 }, { "Con.txt", 3 }, { "NUL.tar.gz", 3 }, { "prn.", 3 },
		{ "AUX .m4b", 3 }, { "COM1", 4 }, { "com9.x", 4 }, { "LPT3", 4 }, { "lpt1.jpg", 4 },
		{ "COM0", 0 }, { "COM10", 0 }, { "LPT", 0 }, { "CONSOLE", 0 }, { "CONTENT.txt", 0 },
		{ "xCON", 0 }, { "", 0 }, { "Con Air", 0 }, { ".con", 0 },
	};
	struct mf_name_out o;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mf_naming_reserved(cases[i].s) != cases[i].len)
			printf("# \"%s\"\n", cases[i].s);
		CHECK_INT(mf_naming_reserved(cases[i].s), cases[i].len);
	}
	/* "Con.Air (1997) ... .m4b" is the device CON to Windows: a "_" makes it a name. */
	CHECK_STR(name(none, NULL, "Con.Air", NULL, "1997", "Scott Rosenberg", "B0ABCDEFGH",
	    "H2OKing", &o), "Con_.Air (1997) (Scott Rosenberg) {ASIN.B0ABCDEFGH} [H2OKing]");
	CHECK_STR(o.base, "Con_.Air (1997) (Scott Rosenberg) {ASIN.B0ABCDEFGH}");
	CHECK_STR(name(none, NULL, "lpt1.Story", NULL, NULL, NULL, "B0ABCDEFGH", NULL, &o),
	    "lpt1_.Story {ASIN.B0ABCDEFGH}");
	CHECK_STR(name(none, NULL, "Con Air", NULL, NULL, NULL, "B0ABCDEFGH", NULL, &o),
	    "Con Air {ASIN.B0ABCDEFGH}");
}

/* Random titles: every name fits, holds the ASIN and tag, is valid UTF-8 and stable. */
TEST(property_random_titles)
{
	static const char *pieces[] = { "a", "Z", " ", "  ", ":", "/", "\\", "?", "*", "\"",
	    ".", "-", ",", "(", ")", "[", "]", "é", "理", "💿", "Vol. 3", "Book 2", "The ",
	    "Light Novel", "(Light Novel)", "\t", "|", "<", ">", "vol_", "9", "Series",
	    "CON", "con.", "Nul.", "lpt1", "Book XII", "Volume 7", "Books 1-3", ", Part 2", "7",
	    " vol_07", "Chronicles", "\xe2\x80\x94", "\xe2\x80\x93", "ー", "孫の手", "Saga" };
	unsigned seed = 12345;
	int i, failures = 0;

	for (i = 0; i < 3000 && failures < 5; i++) {
		char title[800], series[400], asin[11], err[200];
		struct mf_name_in in;
		struct mf_name_out a, b;
		size_t tl = 0, sl = 0, k, n, suffix;
		int j;

		n = (size_t)(rand_r(&seed) % 120);
		for (k = 0; k < n && tl < 700; k++) {
			const char *p = pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];

			tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "%s", p);
		}
		title[tl] = '\0';
		n = (size_t)(rand_r(&seed) % 30);
		for (k = 0; k < n && sl < 300; k++)
			sl += (size_t)snprintf(series + sl, sizeof(series) - sl, "%s",
			    pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))]);
		series[sl] = '\0';
		asin[0] = 'B';
		for (j = 1; j < 10; j++)
			asin[j] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rand_r(&seed) % 36];
		asin[10] = '\0';
		suffix = rand_r(&seed) % 2 ? 4 : 14;
		in = (struct mf_name_in){ tl ? title : "Untitled", rand_r(&seed) % 2 ? series : NULL,
		    rand_r(&seed) % 2 ? "7" : NULL, "1999", rand_r(&seed) % 2 ? title : "Au Thor",
		    asin, rand_r(&seed) % 2 ? "H2OKing" : NULL, suffix, suffix, 225 };
		if (mf_naming_build(rules, &in, &a, err, sizeof(err)) == -1) {
			/* Only a title that sanitises to nothing may be refused. */
			char *s = mf_naming_sanitize(in.title);

			if (s[0] != '\0') {
				printf("# refused \"%s\": %s\n", in.title, err);
				failures++;
			}
			free(s);
			continue;
		}
		if (mf_naming_build(rules, &in, &b, err, sizeof(err)) == -1 ||
		    strcmp(a.folder, b.folder) != 0 || strcmp(a.base, b.base) != 0 ||
		    pathlen(&a, suffix) > 225 || strlen(a.folder) > 255 ||
		    strlen(a.base) + suffix > 255 || strstr(a.base, asin) == NULL ||
		    strchr(a.folder, '/') != NULL || a.base[0] == ' ' || a.base[0] == '.' ||
		    !mf_utf8_valid(a.folder, strlen(a.folder)) ||
		    (in.tag != NULL && strstr(a.folder, " [H2OKing]") == NULL) ||
		    strncmp(a.folder, a.base, strlen(a.base)) != 0 ||
		    mf_naming_reserved(a.base) != 0 || mf_naming_reserved(a.folder) != 0 ||
		    strstr(a.base, "  ") != NULL) {
			printf("# bad name for \"%s\": \"%s\"\n", in.title, a.folder);
			failures++;
		}
		/* Cleaning never empties a text nor leaves double or outer spaces. */
		{
			char *t = mf_naming_title(rules, title), *sr = mf_naming_series(rules, series);
			const char *list[1] = { series };
			char *sub = mf_naming_subtitle(rules, title, series, list, 1);

			if (t == NULL || sr == NULL || (tl > 0 && t[0] == '\0') ||
			    (sl > 0 && sr[0] == '\0') || (sub != NULL && (sub[0] == '\0' ||
			    sub[0] == ' ' || sub[strlen(sub) - 1] == ' ' || strlen(sub) > tl))) {
				printf("# cleaning \"%s\" / \"%s\": \"%s\" / \"%s\" / \"%s\"\n",
				    title, series, t ? t : "(null)", sr ? sr : "(null)",
				    sub ? sub : "(dropped)");
				failures++;
			}
			free(t);
			free(sr);
			free(sub);
		}
		/* A role marker makes any name a role; these pieces alone never are one. */
		{
			char with[900];

			snprintf(with, sizeof(with), "%s - translator", title);
			if (!mf_naming_is_role(rules, with, NULL) ||
			    (mf_naming_is_role(rules, title, NULL) && strncmp(title, "with ", 5) != 0)) {
				printf("# role test wrong for \"%s\"\n", title);
				failures++;
			}
		}
	}
	CHECK_INT(failures, 0);
}

/* Random positions: a volume token is empty or has the documented shape. */
TEST(property_random_positions)
{
	static const char *pieces[] = { "0", "1", "7", "12", "123456", "1234567", ".", "-", "p",
	    "P", " ", ",", ":", "part", "Part ", "Book ", "vol_", "x", "\xe2\x80\x93", "3.5" };
	unsigned seed = 777;
	int i, failures = 0;
	regex_t shape;

	CHECK(regcomp(&shape, "^vol_[0-9]{2,}(\\.[0-9]+)?(-[0-9]{2,}|p[0-9]+)?$",
	    REG_EXTENDED | REG_NOSUB) == 0);
	for (i = 0; i < 20000 && failures < 5; i++) {
		char pos[200], v[64];
		size_t pl = 0, k, n = (size_t)(rand_r(&seed) % 8);

		for (k = 0; k < n; k++)
			pl += (size_t)snprintf(pos + pl, sizeof(pos) - pl, "%s",
			    pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))]);
		pos[pl] = '\0';
		mf_naming_volume(pos, rand_r(&seed) % 2 ? pos : NULL, v, sizeof(v));
		if (v[0] != '\0' && regexec(&shape, v, 0, NULL, 0) != 0) {
			printf("# position \"%s\" gave \"%s\"\n", pos, v);
			failures++;
		}
	}
	regfree(&shape);
	CHECK_INT(failures, 0);
}

int
main(void)
{
	char err[200];

	setenv("MF_DATA_DIR", "data", 0);
	rules = mf_naming_load(NULL, err, sizeof(err));
	if (rules == NULL) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	none = mf_naming_empty();
	RUN(example_1_overlord);
	RUN(example_2_dating_sim);
	RUN(example_3_haunted_bookstore_217);
	RUN(example_4_long_series_cut_to_225);
	RUN(example_5_standalone);
	RUN(example_6_inherits_the);
	RUN(example_7_series_suffix);
	RUN(example_8_publication_order);
	RUN(example_9_rezero_sanitised);
	RUN(example_10_genre_tag_removed);
	RUN(example_11_drops_author_then_year);
	RUN(example_12_author_romanised);
	RUN(example_13_no_tag_no_year);
	RUN(example_14_tiny_budget);
	RUN(multipart_suffix_reserved);
	RUN(volumes);
	RUN(series_from_title);
	RUN(sanitize);
	RUN(cleaning_rules_file);
	RUN(volume_markers_leave_titles_and_series);
	RUN(positions_parts_and_ranges);
	RUN(preserve_exact_keeps_its_punctuation);
	RUN(series_suffixes_of_the_original);
	RUN(author_roles);
	RUN(subtitles);
	RUN(japanese_names_in_romaji);
	RUN(windows_reserved_names);
	RUN(property_random_titles);
	RUN(property_random_positions);
	mf_naming_free(rules);
	mf_naming_free(none);
	return DONE();
}
