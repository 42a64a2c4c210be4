/* Unit tests for lib/state (the checkpoint store) and lib/lock. */
#include "harness.h"
#include "file.h"
#include "json.h"
#include "lock.h"
#include "record.h"
#include "state.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/mf-unit-state.XXXXXX";
static int ndirs;

/* A fresh store folder for one test. */
static const char *
newdir(void)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/s%d", tmpdir, ndirs++);
	return path;
}

static cJSON *
rec(const char *json)
{
	return cJSON_Parse(json);
}

/* Checkpoint one record in its own batch. */
static int
cp(struct mf_state *st, const char *json, enum mf_stage stage, time_t now)
{
	cJSON *r = rec(json);
	int rc = mf_state_lock(st, 1);

	if (rc == 0)
		rc = mf_state_append(st, mf_rec_has_error(r) ? mf_state_op_fail(r, now) :
		    mf_state_op_checkpoint(r, stage, now));
	if (rc == 0)
		rc = mf_state_commit(st);
	mf_state_unlock(st);
	cJSON_Delete(r);
	return rc;
}

static struct mf_state *
reopen(const char *dir, int writable)
{
	char err[512];
	struct mf_state *st = mf_state_open(dir, writable, err, sizeof err);

	if (st && (mf_state_lock(st, writable) < 0 || mf_state_load(st) < 0)) {
		mf_state_close(st);
		return NULL;
	}
	if (st)
		mf_state_unlock(st);
	return st;
}

static char *
journal(const char *dir)
{
	static char p[300];

	snprintf(p, sizeof p, "%s/journal.ndjson", dir);
	return p;
}

TEST(crc32_check_value)
{
	CHECK_INT(mf_crc32("123456789", 9), 0xcbf43926UL);
	CHECK_INT(mf_crc32("", 0), 0);
}

TEST(stage_names)
{
	CHECK_INT(mf_state_stage("staged"), MF_STAGED);
	CHECK_INT(mf_state_stage("uploaded"), MF_UPLOADED);
	CHECK_INT(mf_state_stage("upload"), -1);
	CHECK_INT(mf_state_stage(NULL), -1);
}

TEST(checkpoints_survive_reopen_and_upload_keeps_them)
{
	const char *d = newdir();
	char err[256];
	struct mf_state *st = mf_state_open(d, 1, err, sizeof err), *r;
	const cJSON *e;

	CHECK(st != NULL);
	CHECK_INT(cp(st, "{\"id\":\"B1\",\"title\":\"T\",\"authors\":[\"A\",\"B\"],"
	    "\"staging\":{\"dir\":\"/s/x\",\"name\":\"x\"}}", MF_STAGED, 1000), 0);
	CHECK_INT(cp(st, "{\"id\":\"B1\",\"torrent\":{\"path\":\"/o/x.torrent\","
	    "\"infohash\":\"0123456789abcdef0123456789abcdef01234567\"}}", MF_TORRENT, 2000), 0);
	CHECK_INT(cp(st, "{\"id\":\"B1\",\"error\":{\"stage\":\"upload\",\"message\":\"m\","
	    "\"retryable\":true}}", MF_UPLOADED, 2500), 0);
	CHECK_INT(cp(st, "{\"id\":\"B1\",\"qbt\":{\"hash\":\"h\"}}", MF_UPLOADED, 3000), 0);
	mf_state_close(st);

	r = reopen(d, 0);
	CHECK(r != NULL);
	e = mf_state_get(r, "B1");
	CHECK(e != NULL);
	CHECK_STR(mf_json_str(e, "status"), "COMPLETE");
	CHECK_STR(mf_json_str(e, "author"), "A");
	CHECK_STR(mf_json_str(e, "staging.dir"), "/s/x");
	CHECK_STR(mf_json_str(e, "torrent.path"), "/o/x.torrent");
	CHECK_STR(mf_json_str(e, "qbt.hash"), "h");
	/* The original wiped these on success (defect 3). */
	CHECK_STR(mf_json_str(e, "checkpoints.staged_at"), "1970-01-01T00:16:40Z");
	CHECK_STR(mf_json_str(e, "checkpoints.torrent_at"), "1970-01-01T00:33:20Z");
	CHECK_STR(mf_json_str(e, "processed_at"), "1970-01-01T00:50:00Z");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(e, "failure")));
	CHECK_INT(cJSON_GetObjectItem(e, "attempts")->valuedouble, 1);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(e, "history")), 4);
	mf_state_close(r);
}

TEST(failures_count_attempts_and_retry_clears)
{
	const char *d = newdir();
	char err[256];
	struct mf_state *st = mf_state_open(d, 1, err, sizeof err), *r;
	const char *f = "{\"id\":\"B2\",\"error\":{\"stage\":\"torrent\",\"message\":\"disk\","
	    "\"retryable\":false}}";

	CHECK_INT(cp(st, f, MF_TORRENT, 10), 0);
	CHECK_INT(cp(st, f, MF_TORRENT, 20), 0);
	r = reopen(d, 1);
	double a = 0;
	mf_json_num(mf_state_get(r, "B2"), "failure.attempts", &a);
	CHECK_INT(a, 2);
	CHECK(!mf_json_bool(mf_state_get(r, "B2"), "failure.retryable", 1));
	CHECK_INT(mf_state_lock(r, 1), 0);
	CHECK_INT(mf_state_append(r, mf_state_op_simple("retry", "B2", 30)), 0);
	/* The index follows its own appends. */
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(mf_state_get(r, "B2"), "failure")));
	CHECK_INT(mf_state_commit(r), 0);
	mf_state_unlock(r);
	mf_state_close(r);
	r = reopen(d, 0);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(mf_state_get(r, "B2"), "failure")));
	mf_json_num(mf_state_get(r, "B2"), "attempts", &a);
	CHECK_INT(a, 2);
	mf_state_close(r);
	mf_state_close(st);
}

TEST(torn_tail_is_ignored_then_cut)
{
	const char *d = newdir();
	char err[256];
	struct mf_state *st = mf_state_open(d, 1, err, sizeof err), *r;
	struct mf_state_health h;
	struct stat sb;
	int fd;

	CHECK_INT(cp(st, "{\"id\":\"B3\"}", MF_STAGED, 10), 0);
	stat(journal(d), &sb);
	off_t clean = sb.st_size;
	/* Half a line, as a writer killed mid-write leaves it. */
	fd = open(journal(d), O_WRONLY | O_APPEND);
	CHECK(write(fd, "{\"crc\":\"00000000\",\"op\":{\"op\":\"cp\",\"id\":\"B4\"", 44) == 44);
	close(fd);
	r = reopen(d, 0);
	CHECK(mf_state_get(r, "B3") != NULL);
	CHECK(mf_state_get(r, "B4") == NULL);
	mf_state_health(r, &h);
	CHECK_INT(h.torn_bytes, 44);
	CHECK_INT(h.corrupt_lines, 0);
	mf_state_close(r);
	/* The next writer cuts it off before appending. */
	CHECK_INT(cp(st, "{\"id\":\"B5\"}", MF_STAGED, 20), 0);
	r = reopen(d, 0);
	mf_state_health(r, &h);
	CHECK_INT(h.torn_bytes, 0);
	CHECK_INT(h.corrupt_lines, 0);
	CHECK_INT(mf_state_count(r), 2);
	stat(journal(d), &sb);
	CHECK(sb.st_size > clean);
	mf_state_close(r);
	mf_state_close(st);
}

TEST(damaged_line_is_skipped_not_applied)
{
	const char *d = newdir();
	char err[256];
	struct mf_state *st = mf_state_open(d, 1, err, sizeof err), *r;
	struct mf_state_health h;
	size_t len;
	char *buf, *p;

	CHECK_INT(cp(st, "{\"id\":\"B6\",\"title\":\"six\"}", MF_STAGED, 10), 0);
	CHECK_INT(cp(st, "{\"id\":\"B7\",\"title\":\"seven\"}", MF_STAGED, 10), 0);
	mf_state_close(st);
	buf = mf_read_file(journal(d), 1 << 20, &len);
	CHECK((p = strstr(buf, "six")) != NULL);
	p[0] = 'S';		/* a flipped bit: the CRC no longer matches */
	mf_write_atomic(journal(d), buf, len, 0644);
	free(buf);
	r = reopen(d, 0);
	mf_state_health(r, &h);
	CHECK_INT(h.corrupt_lines, 1);
	CHECK(mf_state_get(r, "B6") == NULL);
	CHECK_STR(mf_json_str(mf_state_get(r, "B7"), "title"), "seven");
	mf_state_close(r);
}

TEST(compaction_keeps_everything_and_stale_journal_is_ignored)
{
	const char *d = newdir();
	char err[256], jcopy[320];
	struct mf_state *st = mf_state_open(d, 1, err, sizeof err), *r;
	struct mf_state_health h;
	size_t len;
	char *old;

	for (int i = 0; i < 50; i++) {
		char j[128];

		snprintf(j, sizeof j, "{\"id\":\"C%03d\",\"error\":{\"stage\":\"stage\","
		    "\"message\":\"x\"}}", i);
		CHECK_INT(cp(st, j, MF_STAGED, 100 + i), 0);
	}
	old = mf_read_file(journal(d), 1 << 20, &len);
	CHECK_INT(mf_state_lock(st, 1), 0);
	CHECK_INT(mf_state_load(st), 0);
	CHECK_INT(mf_state_compact(st), 0);
	mf_state_unlock(st);
	r = reopen(d, 0);
	mf_state_health(r, &h);
	CHECK_INT(mf_state_count(r), 50);
	CHECK_INT(h.snapshot_entries, 50);
	CHECK_INT(h.journal_ops, 0);
	CHECK_INT(h.generation, 1);
	mf_state_close(r);
	/* A compaction killed before it replaced the journal: the old one comes back. */
	snprintf(jcopy, sizeof jcopy, "%s", journal(d));
	mf_write_atomic(jcopy, old, len, 0644);
	free(old);
	r = reopen(d, 0);
	mf_state_health(r, &h);
	CHECK(h.stale_journal);
	double a = 0;
	mf_json_num(mf_state_get(r, "C007"), "attempts", &a);
	CHECK_INT(a, 1);	/* not applied twice */
	mf_state_close(r);
	/* A writer replaces the stale journal before appending. */
	CHECK_INT(cp(st, "{\"id\":\"C999\"}", MF_STAGED, 500), 0);
	r = reopen(d, 0);
	mf_state_health(r, &h);
	CHECK(!h.stale_journal);
	CHECK_INT(mf_state_count(r), 51);
	mf_json_num(mf_state_get(r, "C007"), "attempts", &a);
	CHECK_INT(a, 1);
	mf_state_close(r);
	mf_state_close(st);
}

TEST(reader_catches_up_from_the_tail)
{
	const char *d = newdir();
	char err[256];
	struct mf_state *w = mf_state_open(d, 1, err, sizeof err), *r;

	CHECK_INT(cp(w, "{\"id\":\"D1\"}", MF_STAGED, 10), 0);
	r = reopen(d, 0);
	CHECK_INT(mf_state_count(r), 1);
	CHECK_INT(cp(w, "{\"id\":\"D2\"}", MF_STAGED, 20), 0);
	CHECK_INT(cp(w, "{\"id\":\"D1\"}", MF_METADATA, 30), 0);
	CHECK_INT(mf_state_lock(r, 0), 0);
	CHECK_INT(mf_state_load(r), 0);
	mf_state_unlock(r);
	CHECK_INT(mf_state_count(r), 2);
	CHECK_STR(mf_json_str(mf_state_get(r, "D1"), "status"), "METADATA_FETCHED");
	mf_state_close(r);
	mf_state_close(w);
}

TEST(forget_removes)
{
	const char *d = newdir();
	char err[256];
	struct mf_state *w = mf_state_open(d, 1, err, sizeof err), *r;

	CHECK_INT(cp(w, "{\"id\":\"E1\"}", MF_STAGED, 10), 0);
	CHECK_INT(cp(w, "{\"id\":\"E2\"}", MF_STAGED, 10), 0);
	CHECK_INT(mf_state_lock(w, 1), 0);
	CHECK_INT(mf_state_append(w, mf_state_op_simple("forget", "E1", 20)), 0);
	CHECK_INT(mf_state_commit(w), 0);
	mf_state_unlock(w);
	r = reopen(d, 0);
	CHECK(mf_state_get(r, "E1") == NULL);
	CHECK_INT(mf_state_count(r), 1);
	mf_state_close(r);
	mf_state_close(w);
}

TEST(import_never_overwrites_newer_data)
{
	const char *d = newdir();
	char err[256];
	struct mf_state *w = mf_state_open(d, 1, err, sizeof err);
	const cJSON *e;
	cJSON *doc = cJSON_Parse("{\"version\":1,\"processed\":{"
	    "\"F1\":{\"asin\":\"F1\",\"title\":\"old\",\"author\":null,\"processed_at\":null,"
	    "\"staging_dir\":\"/old\",\"torrent_path\":null,\"infohash\":null,\"status\":\"STAGED\","
	    "\"checkpoints\":{\"staged_at\":\"1970-01-01T00:00:05\",\"metadata_at\":null,"
	    "\"torrent_at\":null,\"uploaded_at\":null}},"
	    "\"F2\":{\"title\":null,\"status\":\"COMPLETE\",\"processed_at\":null,"
	    "\"checkpoints\":{\"uploaded_at\":\"2024-01-01T10:00:00.5\"}}},"
	    "\"failed\":{\"F3\":{\"asin\":null,\"title\":\"t\",\"author\":null,"
	    "\"failed_at\":\"2024-02-02T00:00:00\",\"error\":\"line1\\nline2\",\"source_dir\":null}}}");

	CHECK_INT(cp(w, "{\"id\":\"F1\",\"title\":\"new\",\"staging\":{\"dir\":\"/new\"}}",
	    MF_STAGED, 100), 0);
	CHECK_INT(mf_state_lock(w, 1), 0);
	CHECK_INT(mf_state_load(w), 0);
	CHECK_INT(mf_state_import(w, doc, 200), 3);
	CHECK_INT(mf_state_commit(w), 0);
	mf_state_unlock(w);
	e = mf_state_get(w, "F1");
	CHECK_STR(mf_json_str(e, "title"), "new");
	CHECK_STR(mf_json_str(e, "staging.dir"), "/new");
	CHECK_STR(mf_json_str(e, "checkpoints.staged_at"), "1970-01-01T00:01:40Z");
	CHECK_STR(mf_json_str(e, "asin"), "F1");	/* filled in: it had none */
	CHECK_STR(mf_json_str(mf_state_get(w, "F2"), "status"), "COMPLETE");
	CHECK_STR(mf_json_str(mf_state_get(w, "F3"), "failure.message"), "line1\nline2");
	/* Importing the same file again changes nothing. */
	CHECK_INT(mf_state_lock(w, 1), 0);
	CHECK_INT(mf_state_load(w), 0);
	CHECK_INT(mf_state_import(w, doc, 300), 0);
	mf_state_unlock(w);
	cJSON *bad = cJSON_Parse("{\"version\":2,\"processed\":{}}");
	CHECK_INT(mf_state_lock(w, 1), 0);
	CHECK_INT(mf_state_import(w, bad, 300), -1);
	mf_state_unlock(w);
	cJSON_Delete(bad);
	cJSON_Delete(doc);
	mf_state_close(w);
}

TEST(garbage_loads_cleanly)
{
	struct mf_state *m = mf_state_new_mem();
	static const char *const inputs[] = {
		"", "\n\n", "garbage\n", "{\"crc\":\"zzzzzzzz\",\"op\":{}}\n",
		"{\"crc\":\"00000000\",\"op\":\n", "\0\0\0\0\n",
	};

	for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
		mf_state_parse(m, inputs[i], strlen(inputs[i]) + (i == 5 ? 5 : 0), (int)(i & 1));
	CHECK_INT(mf_state_count(m), 0);
	mf_state_close(m);
}

TEST(lock_busy_then_free_after_holder_dies)
{
	char path[300], who[256];
	int fd, fd2;
	pid_t pid;

	snprintf(path, sizeof path, "%s/run.lock", tmpdir);
	fd = mf_lock_open(path, 1);
	CHECK(fd >= 0);
	if ((pid = fork()) == 0) {
		int c = mf_lock_open(path, 1);

		mf_lock_take(c, 1, 0);
		mf_lock_write_holder(c);
		pause();
		_exit(0);
	}
	for (int i = 0; i < 200 && mf_lock_holder(fd, who, sizeof who) != pid; i++)
		usleep(10000);
	CHECK_INT(mf_lock_holder(fd, who, sizeof who), pid);
	fd2 = mf_lock_open(path, 0);
	CHECK_INT(mf_lock_take(fd2, 1, 0), -1);
	CHECK_INT(mf_lock_take(fd2, 1, 0.2), -1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK_INT(mf_lock_take(fd2, 1, 2), 0);
	close(fd2);
	close(fd);
}

int
main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(crc32_check_value);
	RUN(stage_names);
	RUN(checkpoints_survive_reopen_and_upload_keeps_them);
	RUN(failures_count_attempts_and_retry_clears);
	RUN(torn_tail_is_ignored_then_cut);
	RUN(damaged_line_is_skipped_not_applied);
	RUN(compaction_keeps_everything_and_stale_journal_is_ignored);
	RUN(reader_catches_up_from_the_tail);
	RUN(forget_removes);
	RUN(import_never_overwrites_newer_data);
	RUN(garbage_loads_cleanly);
	RUN(lock_busy_then_free_after_holder_dies);
	if (h_rmtree(tmpdir) < 0)
		return 1;
	return DONE();
}
