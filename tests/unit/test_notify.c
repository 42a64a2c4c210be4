/* test_notify: the run report of lib/notify and its bodies (no network here: tests/notify.bats
 * posts them to a local receiver). */
#include "harness.h"
#include "json.h"
#include "notify.h"

#include <cjson/cJSON.h>

static void
feed(struct mf_notify *r, const char *line)
{
	CHECK_INT(mf_notify_line(r, line, strlen(line)), 0);
}

TEST(formats)
{
	enum mf_notify_fmt f = MF_NOTIFY_JSON;

	CHECK_INT(mf_notify_fmt_parse("discord", &f), 0);
	CHECK_INT(f, MF_NOTIFY_DISCORD);
	CHECK_INT(mf_notify_fmt_parse("ntfy", &f), 0);
	CHECK_INT(f, MF_NOTIFY_NTFY);
	CHECK_INT(mf_notify_fmt_parse("Slack", &f), -1);
	CHECK_INT(mf_notify_fmt_guess("https://discord.com/api/webhooks/1/tok"), MF_NOTIFY_DISCORD);
	CHECK_INT(mf_notify_fmt_guess("https://hooks.slack.com/services/T/B/x"), MF_NOTIFY_SLACK);
	CHECK_INT(mf_notify_fmt_guess("https://ntfy.sh/topic"), MF_NOTIFY_NTFY);
	CHECK_INT(mf_notify_fmt_guess("https://user:pw@ntfy.sh:443/topic"), MF_NOTIFY_NTFY);
	CHECK_INT(mf_notify_fmt_guess("https://discord.com.evil.example/x"), MF_NOTIFY_JSON);
	CHECK_INT(mf_notify_fmt_guess("http://127.0.0.1:9/x"), MF_NOTIFY_JSON);
}

/* What counts: made or added this run, or failed; the rest is said nothing of. */
TEST(classify)
{
	struct mf_notify r;

	mf_notify_init(&r, NULL, 0);
	CHECK_INT(mf_notify_due(&r), 0);
	feed(&r, "{\"id\":\"A\",\"torrent\":{\"reused\":true},\"qbt\":{\"status\":\"exists\"}}");
	feed(&r, "   \n");
	feed(&r, "{\"id\":\"W\",\"qbt\":{\"status\":\"would-add\"}}");
	CHECK_INT(mf_notify_due(&r), 0);
	feed(&r, "{\"id\":\"B\",\"title\":\"T\",\"torrent\":{\"reused\":false,\"path\":\"/o/B.torrent\"}}");
	feed(&r, "{\"id\":\"C\",\"staging\":{\"name\":\"Staged C\"},\"qbt\":{\"status\":\"added\"},"
	    "\"meta\":{\"mam_json\":\"/o/C.json\"}}");
	feed(&r, "{\"id\":\"D\",\"error\":{\"stage\":\"stage\",\"message\":\"m\",\"retryable\":true}}");
	feed(&r, "{\"id\":\"E\",\"error\":null,\"qbt\":{\"status\":\"exists\"}}");
	feed(&r, "[1,2]");
	feed(&r, "{\"id\":\"\xff\"}");
	CHECK_INT(mf_notify_due(&r), 1);
	CHECK_INT(r.records, 8);
	CHECK_INT(r.nnew, 2);
	CHECK_INT(r.nfailed, 3);
	CHECK_INT(r.added, 1);
	CHECK_INT(r.created, 1);
	CHECK_STR(r.e[1].title, "Staged C");
	CHECK_STR(r.e[1].mam_json, "/o/C.json");
	CHECK(r.e[1].torrent == NULL);
	CHECK_INT(r.e[2].retryable, 1);
	CHECK_STR(r.e[3].stage, "input");
	CHECK_STR(r.e[3].message, "line 8: not a JSON record");
	CHECK_STR(r.e[4].message, "line 9: not a JSON record");
	mf_notify_free(&r);
}

TEST(secrets_hidden)
{
	static const char *const sec[] = { "passkey0123456789", "pw" };
	struct mf_notify r;
	const char *type;
	char *b;

	mf_notify_init(&r, sec, 2);
	feed(&r, "{\"id\":\"X\",\"title\":\"t passkey0123456789\",\"error\":{\"stage\":\"torrent\","
	    "\"message\":\"https://t/passkey0123456789/announce pw\"}}");
	/* too short to be taken for a secret: "pw" stays */
	CHECK_STR(r.e[0].message, "https://t/(hidden)/announce pw");
	CHECK_STR(r.e[0].title, "t (hidden)");
	b = mf_notify_body(&r, MF_NOTIFY_JSON, &type);
	CHECK(b && !strstr(b, "passkey0123456789"));
	CHECK_STR(type, "application/json");
	free(b);
	mf_notify_free(&r);
}

/* Many releases: every chat body within its service's limit, with a closing count. */
TEST(limits)
{
	struct mf_notify r;
	char line[600];
	const char *type;

	mf_notify_init(&r, NULL, 0);
	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof line, "{\"id\":\"B%09d\",\"title\":\"Ein längerer Titel "
		    "Nummer %d\",\"torrent\":{\"reused\":false,\"path\":\"/out/Name %d/Name %d.torrent\"},"
		    "\"meta\":{\"mam_json\":\"/out/Name %d/Name %d.json\"}}", i, i, i, i, i, i);
		feed(&r, line);
	}
	for (int f = MF_NOTIFY_DISCORD; f <= MF_NOTIFY_SLACK; f++) {
		char *b = mf_notify_body(&r, (enum mf_notify_fmt)f, &type);
		const char *t = b;
		cJSON *o = NULL;

		CHECK(b != NULL);
		if (f != MF_NOTIFY_NTFY) {
			o = cJSON_Parse(b);
			t = mf_json_str(o, f == MF_NOTIFY_DISCORD ? "content" : "text");
		}
		CHECK(t && mf_utf8_valid(t, strlen(t)));
		CHECK(t && strlen(t) <= (f == MF_NOTIFY_DISCORD ? 2000u : 4000u));
		CHECK(t && strstr(t, "more (mamfast status lists them)"));
		CHECK(t && strstr(t, "Ein längerer Titel Nummer 0"));
		cJSON_Delete(o);
		free(b);
	}
	/* the JSON body has them all */
	char *b = mf_notify_body(&r, MF_NOTIFY_JSON, &type);
	cJSON *o = cJSON_Parse(b);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(o, "releases")), 200);
	cJSON_Delete(o);
	free(b);
	mf_notify_free(&r);
}

TEST(title_test)
{
	struct mf_notify r;
	char t[400];

	mf_notify_init(&r, NULL, 0);
	r.test = 1;
	CHECK_INT(mf_notify_due(&r), 1);
	mf_notify_title(&r, t, sizeof t);
	CHECK(strstr(t, ": test notification") != NULL);
	for (const char *p = t; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	mf_notify_free(&r);
}

int
main(void)
{
	RUN(formats);
	RUN(classify);
	RUN(secrets_hidden);
	RUN(limits);
	RUN(title_test);
	return DONE();
}
