/* test_qbt: the pure parts of lib/qbt (answers of qBittorrent 4.5.2, 5.1.0 and 5.3.0 as
 * real servers gave them, mapping). */
#include "harness.h"
#include "qbt.h"

#include <stdlib.h>

static enum mf_qbt_addres
add(long status, const char *body)
{
	return mf_qbt_parse_add(status, body, strlen(body));
}

TEST(add_answers)
{
	CHECK_INT(add(200, "Ok."), MF_QBT_ADDED);
	CHECK_INT(add(200, "Ok.\n"), MF_QBT_ADDED);
	CHECK_INT(add(200, "Fails."), MF_QBT_REFUSED);
	CHECK_INT(add(409, "Torrent already exists"), MF_QBT_REFUSED);
	CHECK_INT(add(415, "Error: 'x.torrent' is not a valid torrent file."), MF_QBT_INVALID);
	CHECK_INT(add(200, "{\"added_torrent_ids\":[\"ab\"],\"failure_count\":0,"
	    "\"pending_count\":0,\"success_count\":1}"), MF_QBT_ADDED);
	/* 5.3.0 for a torrent it must fetch first (a URL): added later */
	CHECK_INT(add(202, "{\"added_torrent_ids\":[],\"failure_count\":0,"
	    "\"pending_count\":1,\"success_count\":0}"), MF_QBT_PENDING);
	CHECK_INT(add(202, ""), MF_QBT_PENDING);
	/* 5.3.0 for a torrent it has, and for an add with no torrent in it */
	CHECK_INT(add(409, "Conflict"), MF_QBT_REFUSED);
	CHECK_INT(add(200, "{\"added_torrent_ids\":[\"ab\"],\"failure_count\":1,"
	    "\"pending_count\":0,\"success_count\":1}"), MF_QBT_ADDED);
	CHECK_INT(add(200, "{\"failure_count\":-3}"), MF_QBT_UNEXPECTED);
	CHECK_INT(add(200, "{\"unrelated\":1}"), MF_QBT_UNEXPECTED);
	CHECK_INT(add(200, " Fails. \r\n"), MF_QBT_REFUSED);
	CHECK_INT(add(200, "{\"added_torrent_ids\":[],\"failure_count\":1,"
	    "\"pending_count\":0,\"success_count\":0}"), MF_QBT_REFUSED);
	CHECK_INT(add(204, ""), MF_QBT_ADDED);
	CHECK_INT(add(200, "Okay"), MF_QBT_UNEXPECTED);
	CHECK_INT(add(200, "[1]"), MF_QBT_UNEXPECTED);
	CHECK_INT(add(400, ""), MF_QBT_UNEXPECTED);
}

static enum mf_qbt_loginres
login(long status, const char *body)
{
	return mf_qbt_parse_login(status, body, strlen(body));
}

TEST(login_answers)
{
	/* 4.5.2 and 5.1.0 */
	CHECK_INT(login(200, "Ok."), MF_QBT_LOGIN_OK);
	CHECK_INT(login(200, "Fails."), MF_QBT_LOGIN_REJECTED);
	/* 5.3.0: 204 with no body; a wrong password is 401 "Unauthorized" */
	CHECK_INT(login(204, ""), MF_QBT_LOGIN_OK);
	CHECK_INT(login(401, "Unauthorized"), MF_QBT_LOGIN_UNAUTHORIZED);
	/* every release, banned */
	CHECK_INT(login(403, "Your IP address has been banned after too many failed "
	    "authentication attempts."), MF_QBT_LOGIN_BANNED);
	/* neither: an empty 200, a web page from something else on the port, a 5xx */
	CHECK_INT(login(200, ""), MF_QBT_LOGIN_UNEXPECTED);
	CHECK_INT(login(200, "<html>Ok.</html>"), MF_QBT_LOGIN_UNEXPECTED);
	CHECK_INT(login(200, "Ok.."), MF_QBT_LOGIN_UNEXPECTED);
	CHECK_INT(login(404, "Not Found"), MF_QBT_LOGIN_UNEXPECTED);
	CHECK_INT(login(500, ""), MF_QBT_LOGIN_UNEXPECTED);
}

TEST(tested_range)
{
	CHECK_INT(mf_qbt_tested("v4.5.2"), 0);
	CHECK_INT(mf_qbt_tested("v4.5.0"), 0);
	CHECK_INT(mf_qbt_tested("v5.1.0"), 0);
	CHECK_INT(mf_qbt_tested("v5.2.3"), 0);
	CHECK_INT(mf_qbt_tested("v5.3.0"), 0);
	CHECK_INT(mf_qbt_tested("v5.3.9"), 0);
	CHECK_INT(mf_qbt_tested("v4.4.5"), -1);
	CHECK_INT(mf_qbt_tested("v4.1.9"), -1);
	CHECK_INT(mf_qbt_tested("v5.4.0"), 1);
	CHECK_INT(mf_qbt_tested("v6.0.0"), 1);
	CHECK_INT(mf_qbt_tested("v5.1.0beta1"), 2);
	CHECK_INT(mf_qbt_tested(""), 2);
}

TEST(info)
{
	const char *h = "0123456789abcdef0123456789abcdef01234567";
	const char *body = "[{\"hash\":\"0123456789ABCDEF0123456789ABCDEF01234567\","
	    "\"category\":\"books\",\"tags\":\"a, b c\",\"save_path\":\"/seed\",\"state\":\"pausedUP\"}]";
	struct mf_qbt_torrent t;

	CHECK_INT(mf_qbt_parse_info(body, strlen(body), &h, 1, &t), 1);
	CHECK_STR(t.category, "books");
	CHECK_STR(t.tags, "a, b c");
	CHECK_STR(t.save_path, "/seed");
	CHECK_STR(t.hash, h);
	mf_qbt_torrent_clear(&t);
	CHECK_INT(mf_qbt_parse_info("[]", 2, &h, 1, &t), 0);
	CHECK_INT(mf_qbt_parse_info("{}", 2, &h, 1, &t), -1);
	CHECK_INT(mf_qbt_parse_info("[{\"infohash_v1\":\"0123456789abcdef0123456789abcdef01234567\"}]",
	    62, &h, 1, &t), 1);
	CHECK(t.category == NULL);
	mf_qbt_torrent_clear(&t);
}

/* The limit fields as 4.5.2 and 5.x answer them (4.x has no inactive limit). */
TEST(info_limits)
{
	const char *h = "0123456789abcdef0123456789abcdef01234567";
	struct mf_qbt_torrent t;
	const char *v5 = "[{\"hash\":\"0123456789abcdef0123456789abcdef01234567\",\"ratio_limit\":1.5,"
	    "\"seeding_time_limit\":120,\"inactive_seeding_time_limit\":60,\"auto_tmm\":true,"
	    "\"up_limit\":102400}]";
	const char *v4 = "[{\"hash\":\"0123456789abcdef0123456789abcdef01234567\",\"ratio_limit\":-2,"
	    "\"seeding_time_limit\":-1,\"auto_tmm\":false,\"up_limit\":0}]";
	const char *odd = "[{\"hash\":\"0123456789abcdef0123456789abcdef01234567\",\"ratio_limit\":\"1\","
	    "\"seeding_time_limit\":-1,\"auto_tmm\":false,\"up_limit\":0}]";

	CHECK_INT(mf_qbt_parse_info(v5, strlen(v5), &h, 1, &t), 1);
	CHECK_INT(t.has_limits, 1);
	CHECK(t.ratio_limit == 1.5);
	CHECK_INT(t.seeding_time_limit, 120);
	CHECK_INT(t.has_inactive, 1);
	CHECK_INT(t.inactive_seeding_time_limit, 60);
	CHECK_INT(t.auto_tmm, 1);
	CHECK_INT(t.up_limit, 102400);
	mf_qbt_torrent_clear(&t);
	CHECK_INT(mf_qbt_parse_info(v4, strlen(v4), &h, 1, &t), 1);
	CHECK_INT(t.has_limits, 1);
	CHECK_INT(t.has_inactive, 0);
	CHECK(t.ratio_limit == -2);
	CHECK_INT(t.seeding_time_limit, -1);
	CHECK_INT(t.auto_tmm, 0);
	mf_qbt_torrent_clear(&t);
	/* a field of the wrong type: no limits at all rather than half of them */
	CHECK_INT(mf_qbt_parse_info(odd, strlen(odd), &h, 1, &t), 1);
	CHECK_INT(t.has_limits, 0);
	mf_qbt_torrent_clear(&t);
}

TEST(info_many)
{
	const char *hs[3] = { "1111111111111111111111111111111111111111",
	    "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333" };
	const char *body = "[{\"hash\":\"3333333333333333333333333333333333333333\",\"category\":\"c3\"},"
	    "{\"hash\":\"1111111111111111111111111111111111111111\",\"category\":\"c1\"},"
	    "{\"hash\":\"1111111111111111111111111111111111111111\",\"category\":\"dup\"},"
	    "7, {\"hash\":5}]";
	struct mf_qbt_torrent t[3];

	CHECK_INT(mf_qbt_parse_info(body, strlen(body), hs, 3, t), 2);
	CHECK_INT(t[0].found, 1);
	CHECK_STR(t[0].category, "c1");
	CHECK_INT(t[1].found, 0);
	CHECK_INT(t[2].found, 1);
	CHECK_STR(t[2].category, "c3");
	for (int i = 0; i < 3; i++)
		mf_qbt_torrent_clear(&t[i]);
}

TEST(categories_version)
{
	CHECK_INT(mf_qbt_parse_categories("{\"mamfast\":{}}", 14, "mamfast"), 1);
	CHECK_INT(mf_qbt_parse_categories("{}", 2, "mamfast"), 0);
	CHECK_INT(mf_qbt_parse_categories("[]", 2, "mamfast"), -1);
	CHECK_INT(mf_qbt_parse_version("2.8.19", 6), 20819);
	CHECK_INT(mf_qbt_parse_version("2.14.1\n", 7), 21401);
	CHECK_INT(mf_qbt_parse_version("v4.5.2", 6), 40502);
	CHECK_INT(mf_qbt_parse_version("Forbidden", 9), -1);
}

TEST(tags_hash)
{
	char *t = mf_qbt_tags_norm(" x , y z,, ,w");
	char h[41];

	CHECK_STR(t, "x,y z,w");
	free(t);
	t = mf_qbt_tags_norm("");
	CHECK_STR(t, "");
	free(t);
	CHECK_INT(mf_qbt_hash_norm("0123456789ABCDEF0123456789abcdef01234567", h), 0);
	CHECK_STR(h, "0123456789abcdef0123456789abcdef01234567");
	CHECK_INT(mf_qbt_hash_norm("0123456789abcdef0123456789abcdef0123456", h), -1);
	CHECK_INT(mf_qbt_hash_norm("0123456789abcdef0123456789abcdef012345678", h), -1);
	CHECK_INT(mf_qbt_hash_norm("g123456789abcdef0123456789abcdef01234567", h), -1);
}

TEST(save_path)
{
	char out[256];

	CHECK_INT(mf_qbt_save_path("/seed/Book [x]", NULL, NULL, out, sizeof out), 0);
	CHECK_STR(out, "/seed");
	CHECK_INT(mf_qbt_save_path("/seed/a/Book/", NULL, NULL, out, sizeof out), 0);
	CHECK_STR(out, "/seed/a");
	CHECK_INT(mf_qbt_save_path("/seed/Book", "/seed", "/data", out, sizeof out), 0);
	CHECK_STR(out, "/data");
	CHECK_INT(mf_qbt_save_path("/seed/sub/Book", "/seed/", "/data/", out, sizeof out), 0);
	CHECK_STR(out, "/data/sub");
	/* a path boundary: /seed2 is not under /seed */
	CHECK_INT(mf_qbt_save_path("/seed2/Book", "/seed", "/data", out, sizeof out), -1);
	CHECK_INT(mf_qbt_save_path("/other/Book", "/seed", "/data", out, sizeof out), -1);
	CHECK_INT(mf_qbt_save_path("/seed/Book", NULL, "/data", out, sizeof out), -1);
	CHECK_INT(mf_qbt_save_path("/seed/x/Book", "/seed", "/", out, sizeof out), 0);
	CHECK_STR(out, "/x");
	CHECK_INT(mf_qbt_save_path("/x/Book", "/", "/mnt", out, sizeof out), 0);
	CHECK_STR(out, "/mnt/x");
	CHECK_INT(mf_qbt_save_path("/seed/Book", NULL, NULL, out, 4), -1);
	CHECK_INT(mf_qbt_save_path("Book", NULL, NULL, out, sizeof out), -1);
}

int
main(void)
{
	RUN(add_answers);
	RUN(login_answers);
	RUN(tested_range);
	RUN(info);
	RUN(info_limits);
	RUN(info_many);
	RUN(categories_version);
	RUN(tags_hash);
	RUN(save_path);
	return DONE();
}
