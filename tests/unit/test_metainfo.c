/* Unit tests for lib/metainfo: the top-level dict, key edits in place, entropy, rewrite. */
#include "harness.h"
#include "bencode.h"
#include "metainfo.h"
#include "torrent.h"

#include <stdio.h>
#include <string.h>

#define PIECES "01234567890123456789"
#define INFO "d6:lengthi3e4:name1:x12:piece lengthi16384e6:pieces20:" PIECES "7:privatei1ee"

/* out as a C string (it holds no NUL in these tests); freed by the caller. */
static char *
str(struct mf_bbuf *b)
{
	mf_bput_ch(b, 0);
	return (char *)b->p;
}

static struct mf_topts
keep_all(void)
{
	struct mf_topts o;

	memset(&o, 0, sizeof o);
	o.private = -1;
	o.no_date = 1;
	return o;
}

static char *
rewrite(const char *in, const struct mf_topts *o, char *err, size_t errsz)
{
	struct mf_bbuf b = { 0 };
	unsigned char a[20], z[20];

	if (mf_meta_rewrite(in, strlen(in), o, &b, a, z, NULL, err, errsz) < 0) {
		mf_bbuf_free(&b);
		return NULL;
	}
	return str(&b);
}

TEST(new_outer_has_every_key_in_order)
{
	struct mf_topts o;
	struct mf_bbuf b = { 0 };
	char *s;

	memset(&o, 0, sizeof o);
	o.announce = " https://a.example/1\n https://b.example/2 ";
	o.comment = "c";
	o.webseeds = "https://w.example/";
	o.no_date = 1;
	mf_meta_outer(&b, NULL, INFO, strlen(INFO), &o, MF_META_NEW, NULL);
	s = str(&b);
	CHECK_STR(s, "d8:announce19:https://a.example/1"
	    "13:announce-listll19:https://a.example/1el19:https://b.example/2ee"
	    "7:comment1:c10:created by13:mamfast/" MF_VERSION "4:info" INFO
	    "8:url-listl18:https://w.example/ee");
	free(s);
	/* one tracker: no announce-list; nothing else set: only created by and info */
	memset(&o, 0, sizeof o);
	o.announce = "u";
	o.comment = "";
	o.no_creator = 1;
	o.no_date = 1;
	b = (struct mf_bbuf){ 0 };
	mf_meta_outer(&b, NULL, INFO, strlen(INFO), &o, MF_META_NEW, NULL);
	s = str(&b);
	CHECK_STR(s, "d8:announce1:u4:info" INFO "e");
	free(s);
}

TEST(reuse_keeps_creator_date_and_unknown_keys)
{
	const char *old = "d8:announce3:old7:comment1:c10:created by3:who13:creation datei5e"
	    "8:encoding5:UTF-84:info" INFO "5:zzzzzi1ee";
	struct mf_bval root;
	struct mf_berr berr;
	struct mf_topts o;
	struct mf_bbuf b = { 0 };
	char *s;

	CHECK_INT(mf_bdecode(old, strlen(old), MF_BENC_STRICT, &root, &berr), 0);
	memset(&o, 0, sizeof o);
	o.webseeds = "w";
	mf_meta_outer(&b, &root, INFO, strlen(INFO), &o, MF_META_REUSE, NULL);
	s = str(&b);
	/* no announce configured now: none; no comment: none; web seed added in order */
	CHECK_STR(s, "d10:created by3:who13:creation datei5e8:encoding5:UTF-84:info" INFO
	    "8:url-listl1:we5:zzzzzi1ee");
	free(s);
	o.no_creator = o.no_date = 1;
	o.webseeds = NULL;
	b = (struct mf_bbuf){ 0 };
	mf_meta_outer(&b, &root, INFO, strlen(INFO), &o, MF_META_REUSE, NULL);
	s = str(&b);
	CHECK_STR(s, "d8:encoding5:UTF-84:info" INFO "5:zzzzzi1ee");
	free(s);
}

TEST(modify_with_nothing_set_keeps_info_and_announce)
{
	const char *in = "d8:announce3:old7:comment3:old10:created by3:who4:info" INFO "e";
	struct mf_topts o = keep_all();
	char err[256], *s;

	s = rewrite(in, &o, err, sizeof err);
	CHECK_STR(s, "d8:announce3:old7:comment3:old10:created by13:mamfast/" MF_VERSION
	    "4:info" INFO "e");
	free(s);
	o.no_creator = 1;
	o.comment = "";
	o.announce = "new";
	s = rewrite(in, &o, err, sizeof err);
	CHECK_STR(s, "d8:announce3:new4:info" INFO "e");
	free(s);
}

TEST(modify_edits_info_keys_in_place_and_in_order)
{
	const char *in = "d4:info" INFO "e";
	struct mf_topts o = keep_all();
	char err[256], *s;

	o.no_creator = 1;
	o.source = "MAM";
	o.private = 0;
	o.name = "New";
	s = rewrite(in, &o, err, sizeof err);
	CHECK_STR(s, "d4:infod6:lengthi3e4:name3:New12:piece lengthi16384e6:pieces20:" PIECES
	    "7:privatei0e6:source3:MAMee");
	free(s);
	/* source "" takes it out; private -1 keeps a missing key missing */
	in = "d4:infod6:lengthi3e4:name1:x12:piece lengthi16384e6:pieces20:" PIECES
	    "6:source1:Se5:zzzzzi1ee";
	o = keep_all();
	o.no_creator = 1;
	o.source = "";
	s = rewrite(in, &o, err, sizeof err);
	CHECK_STR(s, "d4:infod6:lengthi3e4:name1:x12:piece lengthi16384e6:pieces20:" PIECES
	    "e5:zzzzzi1ee");
	free(s);
}

TEST(modify_of_unsorted_dicts_never_duplicates_a_key)
{
	/* name before length, info before announce: edits stay where the keys are, and source
	 * goes before the first key that sorts after it */
	const char *in = "d4:infod4:name1:x6:lengthi3e12:piece lengthi16384e6:pieces20:" PIECES
	    "e8:announce1:ae";
	struct mf_topts o = keep_all();
	struct mf_bval root;
	struct mf_berr berr;
	char err[256], *s;

	o.no_creator = 1;
	o.name = "y";
	o.source = "S";
	o.announce = "b";
	s = rewrite(in, &o, err, sizeof err);
	CHECK_STR(s, "d4:infod4:name1:y6:lengthi3e12:piece lengthi16384e6:pieces20:" PIECES
	    "6:source1:Se8:announce1:be");
	CHECK(s && mf_bdecode(s, strlen(s), 0, &root, &berr) == 0);
	free(s);
}

TEST(modify_entropy_is_added_once)
{
	const char *in = "d4:info" INFO "e";
	struct mf_topts o = keep_all();
	char err[256], *s, *t;
	const char *p;

	o.no_creator = 1;
	o.entropy = 1;
	s = rewrite(in, &o, err, sizeof err);
	CHECK(s && strncmp(s, "d4:infod7:entropy64:", 20) == 0);
	for (p = s ? s + 20 : ""; s && p < s + 84; p++)
		CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
	t = s ? rewrite(s, &o, err, sizeof err) : NULL;
	CHECK_STR(t, s);
	free(s);
	free(t);
}

TEST(entropy_is_random_hex)
{
	char a[65], b[65];
	size_t i;

	CHECK_INT(mf_meta_entropy(a), 0);
	CHECK_INT(mf_meta_entropy(b), 0);
	CHECK_INT(strlen(a), 64);
	CHECK(strcmp(a, b) != 0);
	for (i = 0; i < 64; i++)
		CHECK((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
}

TEST(rewrite_refuses_what_is_not_a_torrent)
{
	struct mf_topts o = keep_all();
	char err[256];

	CHECK(rewrite("garbage", &o, err, sizeof err) == NULL);
	CHECK(strstr(err, "byte 0") != NULL);
	CHECK(rewrite("d4:infod4:name1:xee", &o, err, sizeof err) == NULL);
	CHECK(strstr(err, "piece length") != NULL);
	CHECK(rewrite("le", &o, err, sizeof err) == NULL);
}

TEST(report_names_each_change_never_the_announce)
{
	const char *in = "d8:announce10:SECRET/old7:comment3:old10:created by3:who4:info" INFO "e";
	struct mf_topts o = keep_all();
	struct mf_bbuf b = { 0 };
	unsigned char x[20], y[20];
	char err[256], *text = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&text, &n);

	o.announce = "SECRET/new";
	o.comment = "new";
	o.source = "S";
	CHECK_INT(mf_meta_rewrite(in, strlen(in), &o, &b, x, y, fp, err, sizeof err), 0);
	fclose(fp);
	CHECK_STR(text, "announce: changed (not shown: the URLs hold the passkey)\n"
	    "comment: \"old\" -> \"new\"\n"
	    "created by: \"who\" -> \"mamfast/" MF_VERSION "\"\n"
	    "source: none -> \"S\"\n");
	CHECK(memcmp(x, y, 20) != 0);
	free(text);
	mf_bbuf_free(&b);
}

int
main(void)
{
	RUN(new_outer_has_every_key_in_order);
	RUN(reuse_keeps_creator_date_and_unknown_keys);
	RUN(modify_with_nothing_set_keeps_info_and_announce);
	RUN(modify_edits_info_keys_in_place_and_in_order);
	RUN(modify_of_unsorted_dicts_never_duplicates_a_key);
	RUN(modify_entropy_is_added_once);
	RUN(entropy_is_random_hex);
	RUN(rewrite_refuses_what_is_not_a_torrent);
	RUN(report_names_each_change_never_the_announce);
	return DONE();
}
