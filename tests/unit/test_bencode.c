/* Unit tests for lib/bencode: every rejection rule, offsets, accessors, round trips. */
#include "harness.h"
#include "bencode.h"

#include <stdint.h>
#include <stdlib.h>

static int
dec(const char *s, unsigned flags, struct mf_berr *err)
{
	struct mf_bval v;

	return mf_bdecode(s, strlen(s), flags, &v, err);
}

/* Decoding s fails with msg (a substring) at offset off, in both modes unless strict_only. */
static void
rejects(const char *s, const char *msg, size_t off, int strict_only)
{
	struct mf_berr err = { 0, "" };

	if (!strict_only)
		CHECK_INT(dec(s, 0, &err), -1);
	CHECK_INT(dec(s, MF_BENC_STRICT, &err), -1);
	if (!strstr(err.msg, msg))
		printf("# input %s: message \"%s\", want \"%s\"\n", s, err.msg, msg);
	CHECK(strstr(err.msg, msg) != NULL);
	CHECK_INT(err.off, off);
}

TEST(accepts_well_formed)
{
	struct mf_berr err;

	CHECK_INT(dec("i0e", MF_BENC_STRICT, &err), 0);
	CHECK_INT(dec("i-42e", MF_BENC_STRICT, &err), 0);
	CHECK_INT(dec("0:", MF_BENC_STRICT, &err), 0);
	CHECK_INT(dec("le", MF_BENC_STRICT, &err), 0);
	CHECK_INT(dec("de", MF_BENC_STRICT, &err), 0);
	CHECK_INT(dec("d1:ai1e1:bl3:xyzi-1eee", MF_BENC_STRICT, &err), 0);
	CHECK_INT(dec("i9223372036854775807e", 0, &err), 0);
	CHECK_INT(dec("i-9223372036854775808e", 0, &err), 0);
	CHECK_INT(dec("d2:aai1e1:bi2ee", MF_BENC_STRICT, &err), 0);	/* "aa" < "b" */
	CHECK_INT(dec("d1:ai1e2:aai2ee", MF_BENC_STRICT, &err), 0);	/* "a" < "aa" */
}

TEST(rejects_bad_integers)
{
	rejects("i01e", "leading zero", 0, 0);
	rejects("i-0e", "negative zero", 0, 0);
	rejects("ie", "empty integer", 0, 0);
	rejects("i-e", "empty integer", 0, 0);
	rejects("i9223372036854775808e", "overflows", 0, 0);
	rejects("i-9223372036854775809e", "overflows", 0, 0);
	rejects("i12x3e", "unexpected byte", 3, 0);
	rejects("i+1e", "unexpected byte", 1, 0);
	rejects("li1ei00ee", "leading zero", 4, 0);
}

TEST(rejects_bad_strings)
{
	rejects("01:a", "leading zero in string length", 0, 0);
	rejects("5:abc", "past the end", 0, 0);
	rejects("99999999999999999999999:a", "overflows", 0, 0);
	rejects("18446744073709551615:a", "overflows", 0, 0);
	rejects("184467440737:a", "past the end", 0, 0);
	rejects("3abc", "expected ':'", 1, 0);
	rejects("12", "truncated", 2, 0);
}

TEST(rejects_structure)
{
	rejects("", "empty input", 0, 0);
	rejects("l", "truncated input in list", 1, 0);
	rejects("d1:a", "truncated", 4, 0);
	rejects("d1:ai1e", "truncated input in dict", 7, 0);
	rejects("i1ei2e", "trailing garbage", 3, 0);
	rejects("dei", "trailing garbage", 2, 0);
	rejects("di1ei2ee", "not a string", 1, 0);
	rejects("x", "unexpected byte 0x78", 0, 0);
	rejects("d1:ai1e1:ai2ee", "duplicate dict key", 7, 0);
	rejects("d1:bi1e1:ai2ee", "sorted order", 7, 1);
	rejects("d2:aai1e1:ai2ee", "sorted order", 8, 1);
}

TEST(unsorted_keys_accepted_by_default)
{
	struct mf_berr err;

	CHECK_INT(dec("d1:bi1e1:ai2ee", 0, &err), 0);
}

TEST(depth_limit)
{
	char buf[2 * (MF_BENC_MAXDEPTH + 2) + 1];
	struct mf_berr err;
	int n;

	/* MF_BENC_MAXDEPTH nested lists are fine, one more is not. */
	for (n = 0; n < MF_BENC_MAXDEPTH; n++)
		buf[n] = 'l';
	memset(buf + n, 'e', (size_t)n);
	buf[2 * n] = 0;
	CHECK_INT(dec(buf, MF_BENC_STRICT, &err), 0);
	for (n = 0; n < MF_BENC_MAXDEPTH + 1; n++)
		buf[n] = 'l';
	memset(buf + n, 'e', (size_t)n);
	buf[2 * n] = 0;
	rejects(buf, "nesting deeper", MF_BENC_MAXDEPTH, 0);
}

TEST(accessors)
{
	const char *s = "d4:infod4:name3:abc6:lengthi-7ee4:listl1:x1:yee";
	struct mf_bval root, info, v, k;
	struct mf_biter it;
	struct mf_berr err;
	const char *str;
	size_t len;
	int64_t i = 0;
	int n = 0;

	CHECK_INT(mf_bdecode(s, strlen(s), 0, &root, &err), 0);
	CHECK(mf_btype(&root) == 'd');
	CHECK_INT(mf_bget(&root, "info", &info), 0);
	CHECK_INT(info.p - (const unsigned char *)s, 7);
	CHECK_INT(info.end - info.p, 25);
	CHECK_INT(mf_bget(&info, "name", &v), 0);
	CHECK_INT(mf_bstr(&v, &str, &len), 0);
	CHECK_INT(len, 3);
	CHECK(memcmp(str, "abc", 3) == 0);
	CHECK_INT(mf_bget(&info, "length", &v), 0);
	CHECK_INT(mf_bint(&v, &i), 0);
	CHECK_INT(i, -7);
	CHECK_INT(mf_bstr(&v, &str, &len), -1);
	CHECK_INT(mf_bget(&info, "missing", &v), -1);
	CHECK_INT(mf_bget(&root, "list", &v), 0);
	CHECK_INT(mf_bget(&v, "x", &k), -1);	/* not a dict */
	mf_biter_init(&it, &v);
	while (mf_bnext(&it, &k))
		n++;
	CHECK_INT(n, 2);
}

TEST(round_trips)
{
	static const char *cases[] = {
		"i0e", "i-9223372036854775808e", "0:", "le", "de",
		"d8:announce3:url4:infod5:filesld6:lengthi3e4:pathl1:aeee4:name1:x"
		    "12:piece lengthi32768e6:pieces20:01234567890123456789"
		    "7:privatei1eee",
		"l4:spam4:eggsld1:ai1eelleeee",
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mf_bbuf b = { 0 };
		struct mf_bval v;
		struct mf_berr err;

		CHECK_INT(mf_bdecode(cases[i], strlen(cases[i]), MF_BENC_STRICT, &v, &err), 0);
		mf_bput_value(&b, &v);
		CHECK(!b.oom);
		CHECK_INT(b.n, strlen(cases[i]));
		CHECK(b.n == strlen(cases[i]) && memcmp(b.p, cases[i], b.n) == 0);
		mf_bbuf_free(&b);
	}
}

TEST(writer)
{
	struct mf_bbuf b = { 0 };
	struct mf_bval v;
	struct mf_berr err;

	mf_bput_ch(&b, 'd');
	mf_bput_cstr(&b, "a");
	mf_bput_int(&b, INT64_MIN);
	mf_bput_cstr(&b, "b");
	mf_bput_str(&b, "\0x", 2);
	mf_bput_ch(&b, 'e');
	CHECK_INT(b.n, strlen("d1:ai-9223372036854775808e1:b2:") + 3);
	CHECK_INT(mf_bdecode(b.p, b.n, MF_BENC_STRICT, &v, &err), 0);
	mf_bbuf_free(&b);
}

int
main(void)
{
	RUN(accepts_well_formed);
	RUN(rejects_bad_integers);
	RUN(rejects_bad_strings);
	RUN(rejects_structure);
	RUN(unsorted_keys_accepted_by_default);
	RUN(depth_limit);
	RUN(accessors);
	RUN(round_trips);
	RUN(writer);
	return DONE();
}
