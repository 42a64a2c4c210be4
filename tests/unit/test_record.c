/* Unit tests for lib/record, lib/json, lib/config, lib/file, lib/clock and lib/http's retry. */
#include "harness.h"
#include "clock.h"
#include "config.h"
#include "file.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/mf-unit.XXXXXX";

/* Feed text through mf_stream_run; returns the status, output in a malloc'd string. */
static int
stream(const char *input, const struct mf_stream_ops *ops, char **out)
{
	char inpath[256], outpath[256];
	FILE *o;
	int in, rc;

	snprintf(inpath, sizeof inpath, "%s/in", tmpdir);
	snprintf(outpath, sizeof outpath, "%s/out", tmpdir);
	mf_write_atomic(inpath, input, strlen(input), 0644);
	in = open(inpath, O_RDONLY);
	o = fopen(outpath, "w");
	rc = mf_stream_run(in, o, ops);
	fclose(o);
	close(in);
	*out = mf_read_file(outpath, 16 << 20, NULL);
	return rc;
}

static enum mf_rec_result
mark(cJSON *rec, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	if (mf_json_str(rec, "fail")) {
		mf_rec_error(rec, "torrent", 1, "asked to fail: %s", mf_json_str(rec, "fail"));
		return MF_REC_FAIL;
	}
	if (mf_json_str(rec, "drop"))
		return MF_REC_DROP;
	mf_json_put_str(rec, "seen", "yes");
	return MF_REC_OK;
}

TEST(stream_passes_unknown_fields_and_keeps_order)
{
	int calls = 0;
	struct mf_stream_ops ops = { .record = mark, .ctx = &calls };
	char *out;
	int rc = stream("{\"id\":\"a\",\"x\":{\"y\":[1,2]}}\n{\"id\":\"b\",\"seen\":\"no\",\"z\":1}\n",
	    &ops, &out);

	CHECK_INT(rc, 0);
	CHECK_INT(calls, 2);
	CHECK_STR(out, "{\"id\":\"a\",\"x\":{\"y\":[1,2]},\"seen\":\"yes\"}\n"
	    "{\"id\":\"b\",\"seen\":\"yes\",\"z\":1}\n");
	free(out);
}

TEST(stream_bad_lines_become_input_errors)
{
	int calls = 0;
	struct mf_stream_ops ops = { .record = mark, .ctx = &calls };
	char *out;
	int rc = stream("{\"id\":\"a\"}\nnot json\n[1]\n\n{\"id\":\"b\"} x\n{\"id\":\"c\"}", &ops, &out);

	CHECK_INT(rc, 1);
	CHECK_INT(calls, 2);
	CHECK(strstr(out, "{\"error\":{\"stage\":\"input\",\"message\":\"line 2: not valid JSON\",\"retryable\":false}}") != NULL);
	CHECK(strstr(out, "line 3: not a JSON object") != NULL);
	CHECK(strstr(out, "line 5: text after the JSON object") != NULL);
	CHECK(strstr(out, "{\"id\":\"c\",\"seen\":\"yes\"}\n") != NULL);	/* no final newline in input */
	free(out);
}

TEST(stream_error_records_pass_untouched_and_uncounted)
{
	int calls = 0;
	struct mf_stream_ops ops = { .record = mark, .ctx = &calls };
	char *out;
	const char *in = "{\"id\":\"a\",\"error\":{\"stage\":\"scan\",\"message\":\"m\",\"retryable\":false}}\n";
	int rc = stream(in, &ops, &out);

	CHECK_INT(rc, 0);
	CHECK_INT(calls, 0);
	CHECK_STR(out, in);
	free(out);
}

TEST(stream_failures_and_drops)
{
	int calls = 0;
	struct mf_stream_ops ops = { .record = mark, .ctx = &calls };
	char *out;
	int rc = stream("{\"id\":\"a\",\"fail\":\"x\"}\n{\"id\":\"b\",\"drop\":\"1\"}\n{\"id\":\"c\"}\n",
	    &ops, &out);

	CHECK_INT(rc, 1);
	CHECK(strstr(out, "\"error\":{\"stage\":\"torrent\",\"message\":\"asked to fail: x\",\"retryable\":true}") != NULL);
	CHECK(strstr(out, "\"b\"") == NULL);
	CHECK(strstr(out, "{\"id\":\"c\",\"seen\":\"yes\"}") != NULL);
	free(out);
}

TEST(stream_long_lines)
{
	size_t n = 3 << 20;
	char *in = malloc(n + 64), *out;
	int calls = 0;
	struct mf_stream_ops ops = { .record = mark, .ctx = &calls };

	strcpy(in, "{\"id\":\"long\",\"pad\":\"");
	size_t l = strlen(in);
	memset(in + l, 'x', n);
	strcpy(in + l + n, "\"}\n");
	CHECK_INT(stream(in, &ops, &out), 0);
	CHECK_INT(calls, 1);
	CHECK(out && strlen(out) > n);
	free(in);
	free(out);
}

TEST(stream_says_a_repeated_failure_once)
{
	int calls = 0, saved = dup(2), fd;
	struct mf_stream_ops ops = { .record = mark, .ctx = &calls };
	char errpath[256], *out, *err;

	snprintf(errpath, sizeof errpath, "%s/stderr", tmpdir);
	fflush(stderr);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	CHECK_INT(stream("{\"id\":\"a\",\"fail\":\"down\"}\n{\"id\":\"b\",\"fail\":\"down\"}\n"
	    "{\"id\":\"c\",\"fail\":\"down\"}\n{\"id\":\"d\",\"fail\":\"other\"}\n", &ops, &out), 1);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	err = mf_read_file(errpath, 1 << 16, NULL);
	CHECK_STR(err, "test_record: a: asked to fail: down\n"
	    "test_record: the same for 2 more records (each carries its error)\n"
	    "test_record: d: asked to fail: other\n");
	/* Every record still carries its own error. */
	CHECK(strstr(out, "{\"id\":\"c\",\"fail\":\"down\",\"error\"") != NULL);
	free(out);
	free(err);
}

static int flushes, flush_fail;

static int
flush_cb(void *ctx)
{
	flushes++;
	return flush_fail ? EX_IOERR : 0;
}

TEST(stream_group_commit)
{
	int calls = 0;
	struct mf_stream_ops ops = { .record = mark, .flush = flush_cb, .ctx = &calls, .stage = "state" };
	char *out;

	flushes = 0;
	flush_fail = 0;
	/* From a regular file all input is ready at once: one flush for the batch. */
	CHECK_INT(stream("{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n", &ops, &out), 0);
	CHECK_INT(flushes, 1);
	CHECK(strstr(out, "\"c\",\"seen\"") != NULL);
	free(out);

	flush_fail = 1;
	CHECK_INT(stream("{\"id\":\"a\"}\n{\"id\":\"b\"}\n", &ops, &out), EX_IOERR);
	CHECK(strstr(out, "{\"id\":\"a\",\"seen\":\"yes\",\"error\":{\"stage\":\"state\"") != NULL);
	CHECK(strstr(out, "{\"id\":\"b\",\"seen\":\"yes\",\"error\":{\"stage\":\"state\"") != NULL);
	free(out);
}

TEST(json_paths_and_put)
{
	cJSON *o = cJSON_Parse("{\"a\":{\"b\":{\"c\":\"s\",\"n\":42,\"t\":true}},\"k\":1}");
	double d;
	int64_t i;

	CHECK_STR(mf_json_str(o, "a.b.c"), "s");
	CHECK(mf_json_str(o, "a.b.n") == NULL);
	CHECK(mf_json_str(o, "a.x.c") == NULL);
	CHECK(mf_json_num(o, "a.b.n", &d) == 0 && d == 42);
	CHECK(mf_json_i64(o, "a.b.n", &i) == 0 && i == 42);
	CHECK(mf_json_i64(o, "a.b.c", &i) < 0);
	CHECK_INT(mf_json_bool(o, "a.b.t", 0), 1);
	CHECK_INT(mf_json_bool(o, "a.b.zz", 7), 7);
	mf_json_put_str(o, "a", "replaced");	/* keeps its place before k */
	mf_json_put_num(mf_json_obj(o, "new"), "x", 1.5);
	char *s = mf_json_line(o);
	CHECK_STR(s, "{\"a\":\"replaced\",\"k\":1,\"new\":{\"x\":1.5}}");
	free(s);
	cJSON_Delete(o);
}

TEST(utf8)
{
	CHECK(mf_utf8_valid("plain", 5));
	CHECK(mf_utf8_valid("\xc3\x9cn\xc3\xaf" "code \xe2\x80\x93", 13));
	CHECK(!mf_utf8_valid("\xff", 1));
	CHECK(!mf_utf8_valid("\xc0\xaf", 2));		/* overlong '/' */
	CHECK(!mf_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	CHECK(!mf_utf8_valid("\xe2\x80", 2));		/* truncated */
	char *d = mf_utf8_display("a\xff" "b\xc3\xa9", 5);
	CHECK_STR(d, "a\\xFFb\xc3\xa9");
	free(d);
}

TEST(rec_error_is_utf8)
{
	cJSON *rec = cJSON_CreateObject();
	char big[3000];
	const char *m;

	mf_rec_error(rec, "torrent", 0, "symlink %s points outside", "\xff.m4b");
	CHECK_STR(mf_json_str(rec, "error.message"), "symlink \\xFF.m4b points outside");
	/* A message cut inside a character by the bounded buffer stays UTF-8. */
	memset(big, 0, sizeof big);
	for (size_t i = 0; i + 2 < sizeof big - 1; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	mf_rec_error(rec, "stage", 0, "%s", big);
	m = mf_json_str(rec, "error.message");
	CHECK(m && mf_utf8_valid(m, strlen(m)));
	cJSON_Delete(rec);
}

TEST(config_layers)
{
	char path[256];
	const char *conf = "# comment\nMF_LIBRARY = /lib/x\nMF_SOURCE=\"FROMFILE\"\nexport MF_TIMEOUT='5'\nMF_QBT_TAGS=\n";

	snprintf(path, sizeof path, "%s/mamfast.conf", tmpdir);
	mf_write_atomic(path, conf, strlen(conf), 0600);
	setenv("MF_CONFIG", path, 1);
	unsetenv("MF_SOURCE");
	unsetenv("MF_LIBRARY");
	CHECK_INT(mf_config_load(), 0);
	CHECK_STR(mf_config_get("MF_LIBRARY"), "/lib/x");
	CHECK_STR(mf_config_get("MF_SOURCE"), "FROMFILE");
	CHECK_INT(mf_config_long("MF_TIMEOUT", 30, 1, 600), 5);
	CHECK_STR(mf_config_get("MF_QBT_TAGS"), "mamfast");	/* empty falls back to default */
	CHECK_STR(mf_config_get("MF_MAX_PATH"), "225");
	setenv("MF_SOURCE", "FROMENV", 1);
	CHECK_STR(mf_config_get("MF_SOURCE"), "FROMENV");
	mf_config_set("MF_SOURCE", "FROMFLAG");
	CHECK_STR(mf_config_get("MF_SOURCE"), "FROMFLAG");
	CHECK(mf_config_get("MF_NOT_A_KEY") == NULL);
	unsetenv("MF_SOURCE");

	const char *bad = "MF_OK=1\nthis is not a setting\n";
	mf_write_atomic(path, bad, strlen(bad), 0600);
	CHECK_INT(mf_config_load(), EX_CONFIG);
	setenv("MF_CONFIG", "/nonexistent/mamfast.conf", 1);
	CHECK_INT(mf_config_load(), EX_CONFIG);
	unsetenv("MF_CONFIG");
}

TEST(config_secret_from_file)
{
	char path[256];

	snprintf(path, sizeof path, "%s/pass", tmpdir);
	mf_write_atomic(path, "s3cret\n", 7, 0600);
	unsetenv("MF_QBT_PASS");
	setenv("MF_QBT_PASS_FILE", path, 1);
	char *s = mf_config_secret("MF_QBT_PASS", "MF_QBT_PASS_FILE");
	CHECK_STR(s, "s3cret");
	mf_secret_free(s);
	unsetenv("MF_QBT_PASS_FILE");
	CHECK(mf_config_secret("MF_QBT_PASS", "MF_QBT_PASS_FILE") == NULL);
}

TEST(file_atomic_and_paths)
{
	char path[256], sub[256], link[512];
	size_t len;

	snprintf(path, sizeof path, "%s/a/b/c/file", tmpdir);
	snprintf(sub, sizeof sub, "%s/a/b/c", tmpdir);
	CHECK_INT(mf_mkdir_p(sub, 0755), 0);
	CHECK_INT(mf_write_atomic(path, "hello", 5, 0644), 0);
	char *s = mf_read_file(path, 100, &len);
	CHECK_STR(s, "hello");
	CHECK_INT(len, 5);
	free(s);
	CHECK(mf_read_file(path, 4, &len) == NULL);	/* larger than max */
	CHECK_INT(mf_write_atomic("/nonexistent-dir/x", "x", 1, 0644), -1);

	snprintf(link, sizeof link, "%s/a/escape", tmpdir);
	symlink("/etc", link);
	snprintf(sub, sizeof sub, "%s/a", tmpdir);
	CHECK_INT(mf_path_inside(path, sub), 1);
	CHECK_INT(mf_path_inside(link, sub), 0);
	snprintf(link, sizeof link, "%s/a/escape/passwd", tmpdir);
	CHECK_INT(mf_path_inside(link, sub), 0);
	snprintf(link, sizeof link, "%s/a/not-yet/deeper", tmpdir);
	CHECK_INT(mf_path_inside(link, sub), 1);
	snprintf(link, sizeof link, "%s/a/not-yet/../../..", tmpdir);
	CHECK(mf_path_inside(link, sub) != 1);
	snprintf(link, sizeof link, "%s/ab", tmpdir);	/* /x/ab is not inside /x/a */
	mkdir(link, 0755);
	CHECK_INT(mf_path_inside(link, sub), 0);

	CHECK(mf_relpath_safe("a/b.m4b"));
	CHECK(!mf_relpath_safe("../x"));
	CHECK(!mf_relpath_safe("a/../../x"));
	CHECK(!mf_relpath_safe("/abs"));
	CHECK(!mf_relpath_safe("a//b"));
	CHECK(!mf_relpath_safe(""));
	CHECK(mf_is_atomic_tmp(".x.torrent.tmp.123.0"));
	CHECK(!mf_is_atomic_tmp("x.torrent"));
}

TEST(clock_iso8601)
{
	char buf[32];

	CHECK_STR(mf_iso8601(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
	CHECK_INT(mf_iso8601_parse("2026-11-26T15:02:53Z"), 1795705373);
	CHECK_INT(mf_iso8601_parse("2026-11-26T15:02:53.123456+00:00"), 1795705373);
	CHECK_INT(mf_iso8601_parse("yesterday"), -1);
}

TEST(retry_is_bounded)
{
	struct mf_retry rt;
	double t0 = mf_now();
	int tries = 1;

	mf_retry_init(&rt, 4, 10, 0.01);
	while (mf_retry_wait(&rt, -1) == 0)
		tries++;
	CHECK_INT(tries, 4);
	CHECK(mf_now() - t0 < 1.0);

	mf_retry_init(&rt, 100, 0.2, 0.01);
	tries = 1;
	while (mf_retry_wait(&rt, -1) == 0)
		tries++;
	CHECK(mf_now() - rt.start <= 0.25);
	/* A Retry-After beyond the time budget is not waited for. */
	mf_retry_init(&rt, 5, 1, 0.01);
	CHECK_INT(mf_retry_wait(&rt, 5), -1);
}

TEST(http_excerpt)
{
	char out[64];

	/* Line ends become spaces and trailing ones go; other controls show as '?'. */
	mf_http_excerpt("Fails.\r\n", 8, out, sizeof out);
	CHECK_STR(out, "Fails.");
	mf_http_excerpt("a\x01" "b", 3, out, sizeof out);
	CHECK_STR(out, "a?b");
	/* UTF-8 stays, bytes that are not UTF-8 show as \xNN. */
	mf_http_excerpt("a\tb\xff \xc3\xa9", 7, out, sizeof out);
	CHECK_STR(out, "a b\\xFF \xc3\xa9");
	/* Never cut inside a character: "\xc3\xa9" needs 2 bytes, only 1 is left. */
	mf_http_excerpt("ab\xc3\xa9", 4, out, 4);
	CHECK_STR(out, "ab");
	mf_http_excerpt(NULL, 0, out, sizeof out);
	CHECK_STR(out, "");
	/* At most 120 bytes of the body. */
	char big[300];
	memset(big, 'x', sizeof big);
	char wide[400];
	mf_http_excerpt(big, sizeof big, wide, sizeof wide);
	CHECK_INT(strlen(wide), 120);
}

TEST(http_escape)
{
	char *e = mf_http_escape("a b&c=d/é");
	CHECK_STR(e, "a%20b%26c%3Dd%2F%C3%A9");
	free(e);
}

/* mf_open_at and mf_opendir_at never go through a link; want pins the inode. */
TEST(file_open_at_follows_no_link)
{
	char d[300], p[400], q[400];
	struct stat st;
	struct mf_fid id;
	int dfd, fd;

	snprintf(d, sizeof d, "%s/oa", tmpdir);
	snprintf(p, sizeof p, "%s/sub/f", d);
	CHECK_INT(mf_mkdir_p(p, 0755), 0);
	rmdir(p);
	CHECK_INT(mf_write_atomic(p, "in", 2, 0644), 0);
	snprintf(p, sizeof p, "%s/out", d);
	CHECK_INT(mf_write_atomic(p, "out", 3, 0644), 0);
	snprintf(q, sizeof q, "%s/sub/link", d);
	CHECK_INT(symlink(p, q), 0);
	snprintf(q, sizeof q, "%s/sublink", d);
	snprintf(p, sizeof p, "%s/sub", d);
	CHECK_INT(symlink(p, q), 0);
	snprintf(p, sizeof p, "%s/fifo", d);
	CHECK_INT(mkfifo(p, 0644), 0);
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	CHECK((fd = mf_open_at(dfd, "sub/f", NULL, &st)) >= 0);
	CHECK_INT(st.st_size, 2);
	close(fd);
	mf_fid_of(&st, &id);
	CHECK((fd = mf_open_at(dfd, "sub/f", &id, NULL)) >= 0);
	close(fd);
	/* a link as the file, as a folder on the path, a FIFO (never waited on), "..". */
	errno = 0;
	CHECK_INT(mf_open_at(dfd, "sub/link", NULL, NULL), -1);
	CHECK_INT(errno, ELOOP);
	CHECK_INT(mf_open_at(dfd, "sublink/f", NULL, NULL), -1);
	CHECK(mf_replaced_errno(errno));
	CHECK_INT(mf_opendir_at(dfd, "sublink"), -1);
	CHECK_INT(mf_open_at(dfd, "fifo", NULL, NULL), -1);
	CHECK_INT(errno, EINVAL);
	CHECK_INT(mf_open_at(dfd, "sub/../out", NULL, NULL), -1);
	CHECK_INT(errno, EINVAL);
	CHECK_INT(mf_open_at(dfd, "/etc/hostname", NULL, NULL), -1);
	/* another file at the name: ESTALE */
	snprintf(p, sizeof p, "%s/sub/g", d);
	CHECK_INT(mf_write_atomic(p, "in", 2, 0644), 0);
	CHECK_INT(mf_open_at(dfd, "sub/g", &id, NULL), -1);
	CHECK_INT(errno, ESTALE);
	CHECK(mf_replaced_errno(errno));
	CHECK((fd = mf_opendir_at(dfd, "sub")) >= 0);
	CHECK_INT(mf_fd_inside(fd, d), 1);
	CHECK_INT(mf_fd_inside(fd, "/usr"), 0);
	close(fd);
	close(dfd);
}

/* The one containment check of the folders a record names. */
TEST(rec_paths_ok)
{
	char lib[300], seed[300], out[300], rec_s[2000];
	struct mf_roots roots;
	cJSON *rec;

	snprintf(lib, sizeof lib, "%s/pr/lib", tmpdir);
	snprintf(seed, sizeof seed, "%s/pr/seed", tmpdir);
	snprintf(out, sizeof out, "%s/pr/out", tmpdir);
	mf_mkdir_p(lib, 0755);
	mf_mkdir_p(seed, 0755);
	mf_mkdir_p(out, 0755);
	roots = (struct mf_roots){ lib, seed, out };
	snprintf(rec_s, sizeof rec_s, "{\"source_dir\":\"%s/A\",\"staging\":{\"dir\":\"%s/B\"},"
	    "\"torrent\":{\"path\":\"%s/B/B.torrent\"},\"meta\":{\"mam_json\":\"%s/B/B.json\"}}",
	    lib, seed, out, out);
	rec = cJSON_Parse(rec_s);
	CHECK_INT(mf_rec_paths_ok(rec, MF_RF_SOURCE | MF_RF_STAGING | MF_RF_TORRENT |
	    MF_RF_MAM_JSON, &roots, "x"), 0);
	CHECK(!mf_rec_has_error(rec));
	/* staging.dir in the output root: refused when checked, ignored when not asked */
	mf_json_put_str(mf_json_obj(rec, "staging"), "dir", out);
	CHECK_INT(mf_rec_paths_ok(rec, MF_RF_SOURCE, &roots, "x"), 0);
	CHECK_INT(mf_rec_paths_ok(rec, MF_RF_STAGING, &roots, "torrent"), -1);
	CHECK_STR(mf_json_str(rec, "error.stage"), "torrent");
	CHECK(strstr(mf_json_str(rec, "error.message"), "staging.dir") != NULL);
	CHECK(strstr(mf_json_str(rec, "error.message"), "outside MF_SEED_ROOT") != NULL);
	CHECK_INT(mf_json_bool(rec, "error.retryable", 1), 0);
	/* a root not given is not checked; a relative path or "/.." climbing out is refused */
	roots.seed_root = NULL;
	CHECK_INT(mf_rec_paths_ok(rec, MF_RF_STAGING, &roots, "x"), 0);
	mf_json_put_str(mf_json_obj(rec, "meta"), "mam_json", "rel/B.json");
	CHECK_INT(mf_rec_paths_ok(rec, MF_RF_MAM_JSON, &roots, "x"), -1);
	snprintf(rec_s, sizeof rec_s, "%s/../../etc/passwd", out);
	mf_json_put_str(mf_json_obj(rec, "torrent"), "path", rec_s);
	CHECK_INT(mf_rec_paths_ok(rec, MF_RF_TORRENT, &roots, "x"), -1);
	CHECK(strstr(mf_json_str(rec, "error.message"), "torrent.path") != NULL);
	cJSON_Delete(rec);
}

int
main(void)
{
	mf_setprog("test_record");
	if (!mkdtemp(tmpdir))
		return 2;
	RUN(stream_passes_unknown_fields_and_keeps_order);
	RUN(stream_bad_lines_become_input_errors);
	RUN(stream_error_records_pass_untouched_and_uncounted);
	RUN(stream_failures_and_drops);
	RUN(stream_long_lines);
	RUN(stream_says_a_repeated_failure_once);
	RUN(stream_group_commit);
	RUN(json_paths_and_put);
	RUN(utf8);
	RUN(rec_error_is_utf8);
	RUN(config_layers);
	RUN(config_secret_from_file);
	RUN(file_atomic_and_paths);
	RUN(file_open_at_follows_no_link);
	RUN(rec_paths_ok);
	RUN(clock_iso8601);
	RUN(retry_is_bounded);
	RUN(http_escape);
	RUN(http_excerpt);
	if (h_rmtree(tmpdir) < 0)
		return 2;
	return DONE();
}
