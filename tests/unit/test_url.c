/* Unit tests for lib/url: announce URLs as MF_ANNOUNCE_URL and MF_ANNOUNCE_URL_FILE give them. */
#include "harness.h"
#include "url.h"

static int
ok(const char *s)
{
	char why[200];

	return mf_announce_url_check(s, strlen(s), why, sizeof why) == 0;
}

/* The reason s is refused ("" when it is not). */
static const char *
why_not(const char *s)
{
	static char why[200];

	if (mf_announce_url_check(s, strlen(s), why, sizeof why) == 0)
		return "";
	return why;
}

TEST(good_urls)
{
	CHECK(ok("https://t.myanonamouse.net/tracker.php/0123456789abcdef/announce"));
	CHECK(ok("http://tracker.test/announce"));
	CHECK(ok("HTTPS://Tracker.Test:443/a?passkey=x&y=1#f"));
	CHECK(ok("udp://tracker.test:6969/announce"));
	CHECK(ok("udp://tracker.test:1"));
	CHECK(ok("http://127.0.0.1:65535/a"));
	CHECK(ok("http://[::1]:8080/a"));
	CHECK(ok("http://[2001:db8::7]/a"));
	CHECK(ok("http://my_tracker-1.test"));
	CHECK(ok("http://tracker.test./announce"));	/* a fully qualified name */
}

TEST(bad_urls)
{
	CHECK_STR(why_not("https:///x"), "no host");
	CHECK_STR(why_not("https://:80/x"), "no host");
	CHECK_STR(why_not("https://[t.test/x"), "an IPv6 host with a character other than hex digits, ':' and '.'");
	CHECK_STR(why_not("https://[::1/x"), "an IPv6 host without its closing ]");
	CHECK_STR(why_not("https://[12]/x"), "an IPv6 host without ':'");
	CHECK_STR(why_not("https://[::1]x/a"), "text after the host that is not :PORT");
	CHECK_STR(why_not("https://t.test:99999/x"), "a port outside 1-65535");
	CHECK_STR(why_not("https://t.test:65536/x"), "a port outside 1-65535");
	CHECK_STR(why_not("https://t.test:0/x"), "a port outside 1-65535");
	CHECK_STR(why_not("https://t.test:/x"), "a port outside 1-65535");
	CHECK_STR(why_not("https://t.test:99999999999999999999999/x"), "a port outside 1-65535");
	CHECK_STR(why_not("https://t.test:8a/x"), "a port that is not a number");
	CHECK_STR(why_not("foo://t.test/x"), "not an http://, https:// or udp:// URL");
	CHECK_STR(why_not("foo://"), "not an http://, https:// or udp:// URL");
	CHECK_STR(why_not("https://"), "not an http://, https:// or udp:// URL");
	CHECK_STR(why_not("t.test/announce"), "not an http://, https:// or udp:// URL");
	CHECK_STR(why_not("https:/t.test/x"), "not an http://, https:// or udp:// URL");
	CHECK_STR(why_not("https://user:pass@t.test/x"), "user info (name@ before the host) in the URL");
	CHECK_STR(why_not("https://@t.test/x"), "user info (name@ before the host) in the URL");
	CHECK_STR(why_not("udp://t.test/announce"), "a udp:// URL without a port");
	CHECK_STR(why_not("https://t..test/x"), "a host name with an empty label ('.' first or '..')");
	CHECK_STR(why_not("https://.t.test/x"), "a host name with an empty label ('.' first or '..')");
	CHECK_STR(why_not("https://t%2etest/x"), "a host name with a character other than letters, digits, '-', '_' and '.'");
	CHECK(*why_not("https://t.test/a b"));
	CHECK(*why_not("https://t.test/a\x01"));
	CHECK(*why_not("https://t.test/\x7f"));
	CHECK(*why_not("https://t.test/\xc3\xa9"));
	CHECK(*why_not("https://t.test/a\tb"));
	/* a reason never quotes the URL (its path is the passkey) */
	CHECK(strstr(why_not("https://t.test:99999/SECRETKEY"), "SECRET") == NULL);
	CHECK(strstr(why_not("https://[t.test/SECRETKEY"), "SECRET") == NULL);
	/* a NUL inside the length is a control character too */
	{
		char why[200];

		CHECK_INT(mf_announce_url_check("http://t.test/\0x", 16, why, sizeof why), -1);
	}
}

TEST(lists_and_files)
{
	size_t line;
	char why[200];
	const char *t;

	t = "https://a.test/1 udp://b.test:80\n\thttp://c.test/3\n";
	CHECK_INT(mf_announce_check(t, strlen(t), 0, &line, why, sizeof why), 3);
	t = "\n  https://a.test/1  \r\nudp://b.test:80\r\n\n";
	CHECK_INT(mf_announce_check(t, strlen(t), 1, &line, why, sizeof why), 2);
	t = "https://a.test/1\nhttps://b.test/2 https://c.test/3\n";
	CHECK_INT(mf_announce_check(t, strlen(t), 1, &line, why, sizeof why), -1);
	CHECK_INT(line, 2);
	CHECK_STR(why, "two words on one line (one URL a line)");
	t = "https://a.test/1\n\nhttps://b.test:99999/KEY\n";
	CHECK_INT(mf_announce_check(t, strlen(t), 1, &line, why, sizeof why), -1);
	CHECK_INT(line, 3);
	CHECK_STR(why, "a port outside 1-65535");
	t = "https://a.test/1 https:///KEY";
	CHECK_INT(mf_announce_check(t, strlen(t), 0, &line, why, sizeof why), -1);
	CHECK_STR(why, "no host");
	t = "https://a.test/\x02KEY";
	CHECK_INT(mf_announce_check(t, strlen(t), 0, &line, why, sizeof why), -1);
	t = " \n\t\n";
	CHECK_INT(mf_announce_check(t, strlen(t), 1, &line, why, sizeof why), -1);
	CHECK_STR(why, "no URL");
	CHECK_INT(mf_announce_check("", 0, 0, &line, why, sizeof why), -1);
	CHECK_INT(mf_announce_check("https://a.test/\0b", 17, 1, &line, why, sizeof why), -1);
	CHECK_STR(why, "a NUL byte in the text");
}

int
main(void)
{
	RUN(good_urls);
	RUN(bad_urls);
	RUN(lists_and_files);
	return DONE();
}
