/* statecmd: the work of each mf-state command (see statecmd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "record.h"
#include "statecmd.h"

static struct mf_state *
open_store(const char *dir, int writable)
{
	char err[1024];
	struct mf_state *st = mf_state_open(dir, writable, err, sizeof err);

	if (!st)
		mf_errx(writable ? EX_IOERR : EX_NOINPUT, "%s", err);
	return st;
}

/* Open, lock and load for a command that reads (or changes) the whole store. */
static struct mf_state *
load_store(const char *dir, int writable)
{
	struct mf_state *st = open_store(dir, writable);

	if (mf_state_lock(st, writable) < 0 || mf_state_load(st) < 0)
		mf_errx(EX_IOERR, "%s", mf_state_error(st));
	return st;
}

/* The whole store as it is now, for a command that only reads it. */
static struct mf_state *
read_store(const char *dir)
{
	struct mf_state *st = load_store(dir, 0);

	mf_state_unlock(st);
	return st;
}

/* The sorted ids of the store, or exit. */
static const char **
all_ids(const struct mf_state *st, size_t *n)
{
	const char **ids = mf_state_ids(st, n);

	if (!ids)
		mf_errx(EX_SOFTWARE, "out of memory");
	return ids;
}

/* Close a store that was only read; the exit status of what was printed. */
static int
done_reading(struct mf_state *st)
{
	mf_state_close(st);
	/* ferror too: a write that failed earlier (a big export) leaves nothing to flush. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		mf_warnx("cannot write to standard output");
		return EX_IOERR;
	}
	return 0;
}

/* Print obj as indented JSON. */
static void
print_json(const cJSON *obj)
{
	char *s = cJSON_Print(obj);

	if (!s)
		mf_errx(EX_SOFTWARE, "out of memory");
	puts(s);
	free(s);
}

/* Commit, unlock and close; exits 74 when the update could not be made durable. */
static void
finish_store(struct mf_state *st)
{
	if (mf_state_commit(st) < 0)
		mf_errx(EX_IOERR, "%s: nothing was changed", mf_state_error(st));
	mf_state_unlock(st);
	mf_state_close(st);
}

/* The record's id, or NULL when it has none (an empty one is none). */
static const char *
rec_id(const cJSON *rec)
{
	const char *id = mf_json_str(rec, "id");

	return id && *id ? id : NULL;
}

/* ---- pending ---- */

struct pending {
	struct mf_state *st;
	int skip_failed;
	const char *only;
};

static enum mf_rec_result
pending_rec(cJSON *rec, void *ctx)
{
	struct pending *p = ctx;
	const char *id = rec_id(rec);
	const cJSON *e;
	cJSON *cps;

	if (!id) {
		mf_rec_error(rec, "state", 0, "the record has no id");
		return MF_REC_FAIL;
	}
	if (p->only && strcmp(p->only, id) != 0)
		return MF_REC_DROP;
	/* Every record sees the store as it is now (another run may have moved on). */
	if (mf_state_lock(p->st, 0) < 0 || mf_state_load(p->st) < 0) {
		mf_state_unlock(p->st);
		mf_rec_error(rec, "state", 1, "cannot read the store: %s", mf_state_error(p->st));
		return MF_REC_FAIL;
	}
	mf_state_unlock(p->st);
	e = mf_state_get(p->st, id);
	if (e && mf_json_str(e, "status") && strcmp(mf_json_str(e, "status"), "COMPLETE") == 0)
		return MF_REC_DROP;
	if (e && p->skip_failed && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "failure")))
		return MF_REC_DROP;
	cps = cJSON_CreateObject();
	for (int i = 0; i < MF_NSTAGES; i++) {
		char path[64];

		snprintf(path, sizeof path, "checkpoints.%s", mf_stage_at[i]);
		mf_json_put_str(cps, mf_stage_at[i], e ? mf_json_str(e, path) : NULL);
	}
	mf_json_put(rec, "checkpoints", cps);
	if (!e)
		return MF_REC_OK;
	/* Restore what finished stages produced, so later tools can skip them. */
	for (const struct mf_stage_field *f = mf_stage_fields; f->group; f++) {
		char path[64];
		const char *v;

		snprintf(path, sizeof path, "%s.%s", f->group, f->field);
		if (f->stage != MF_UPLOADED && (v = mf_json_str(e, path)))
			mf_json_put_str(mf_json_obj(rec, f->group), f->field, v);
	}
	return MF_REC_OK;
}

/* ---- checkpoint ---- */

struct checkpoint {
	struct mf_state *st;
	enum mf_stage stage;
	int in_batch;
};

/* The exclusive lock, held from the first record of a batch until its flush. */
static int
batch_begin(struct checkpoint *c)
{
	if (c->in_batch)
		return 0;
	if (mf_state_lock(c->st, 1) < 0)
		return -1;
	c->in_batch = 1;
	return 0;
}

/* 1 for a record of a dry run (mf-stage --dry-run, mf-qbt-add --dry-run). */
static int
is_dry_run(const cJSON *rec)
{
	const char *qs = mf_json_str(rec, "qbt.status");

	return mf_json_bool(rec, "staging.dry_run", 0) || (qs && strcmp(qs, "would-add") == 0);
}

static enum mf_rec_result
checkpoint_rec(cJSON *rec, void *ctx)
{
	struct checkpoint *c = ctx;
	const char *id = rec_id(rec);
	time_t now = time(NULL);
	char at[32];
	int failed = mf_rec_has_error(rec);

	mf_iso8601(now, at, sizeof at);
	if (failed) {
		/* Record a failure once, at the first checkpoint it passes. */
		if (!id || mf_json_str(rec, "checkpoints.failed_at"))
			return MF_REC_SKIP;
	} else if (!id) {
		mf_rec_error(rec, "state", 0, "the record has no id: it cannot be checkpointed");
		return MF_REC_FAIL;
	}
	/* A dry run made nothing: recording it would make the next real run skip work. */
	if (!failed && is_dry_run(rec))
		return MF_REC_SKIP;
	if (batch_begin(c) < 0 || mf_state_append(c->st, failed ? mf_state_op_fail(rec, now) :
	    mf_state_op_checkpoint(rec, c->stage, now)) < 0) {
		if (failed)
			return MF_REC_SKIP;
		mf_rec_error(rec, "state", 1, "not recorded: %s", mf_state_error(c->st));
		return MF_REC_FAIL;
	}
	if (failed) {
		mf_json_put_str(mf_json_obj(rec, "checkpoints"), "failed_at", at);
		return MF_REC_SKIP;
	}
	mf_json_put_str(mf_json_obj(rec, "checkpoints"), mf_stage_at[c->stage], at);
	return MF_REC_OK;
}

/* Group commit: one fdatasync for every record waiting, before any is emitted. */
static int
checkpoint_flush(void *ctx)
{
	struct checkpoint *c = ctx;
	int rc = 0;

	if (!c->in_batch)
		return 0;
	if (mf_state_commit(c->st) < 0) {
		mf_warnx("%s", mf_state_error(c->st));
		rc = EX_IOERR;
	}
	mf_state_unlock(c->st);
	c->in_batch = 0;
	return rc;
}

/* ---- reading commands ---- */

static int
is_failed(const cJSON *e)
{
	return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "failure"));
}

static int
is_complete(const cJSON *e)
{
	const char *s = mf_json_str(e, "status");

	return s && strcmp(s, "COMPLETE") == 0;
}

/* A string for a table cell: never NULL, never invalid UTF-8. */
static void
cell(const char *s, const char *dflt)
{
	char *d;

	if (!s)
		s = dflt;
	d = mf_utf8_display(s, strlen(s));
	fputs(d ? d : "?", stdout);
	free(d);
}

/* 1 when a recorded path is gone. */
static int
missing(const char *id, const char *what, const char *path)
{
	struct stat sb;

	if (!path || lstat(path, &sb) == 0)
		return 0;
	mf_warnx("%s: %s %s is missing", id, what, path);
	return 1;
}

int
mf_statecmd_pending(const char *dir, int skip_failed, const char *only)
{
	struct pending p = { .skip_failed = skip_failed, .only = only };
	struct mf_stream_ops ops = { .record = pending_rec, .ctx = &p, .stage = "state" };
	int rc;

	p.st = open_store(dir, 0);
	rc = mf_stream_run(STDIN_FILENO, stdout, &ops);
	mf_state_close(p.st);
	return rc;
}

int
mf_statecmd_checkpoint(const char *dir, enum mf_stage stage)
{
	struct checkpoint c = { .stage = stage };
	struct mf_stream_ops ops = {
		.record = checkpoint_rec, .flush = checkpoint_flush, .ctx = &c,
		.flags = MF_STREAM_SEE_ERRORS, .stage = "state"
	};
	int rc;

	c.st = open_store(dir, 1);
	rc = mf_stream_run(STDIN_FILENO, stdout, &ops);
	if (c.in_batch)
		checkpoint_flush(&c);
	mf_state_close(c.st);
	return rc;
}

/* One line of the table of `list`. */
static void
list_row(const char *id, const cJSON *e)
{
	cell(id, "?");
	putchar('\t');
	cell(mf_json_str(e, "status"), "?");
	putchar('\t');
	if (is_failed(e)) {
		fputs("failed at ", stdout);
		cell(mf_json_str(e, "failure.stage"), "?");
	} else {
		fputs("-", stdout);
	}
	putchar('\t');
	cell(mf_json_str(e, "title"), "(no title)");
	putchar('\n');
}

int
mf_statecmd_list(const char *dir, enum mf_statecmd_which which, int json)
{
	struct mf_state *st = read_store(dir);
	const char **ids;
	size_t n;

	ids = all_ids(st, &n);
	for (size_t i = 0; i < n; i++) {
		const cJSON *e = mf_state_get(st, ids[i]);

		if ((which == MF_LIST_FAILED && !is_failed(e)) ||
		    (which == MF_LIST_COMPLETE && !is_complete(e)) ||
		    (which == MF_LIST_PENDING && is_complete(e)))
			continue;
		if (!json)
			list_row(ids[i], e);
		else if (mf_rec_write(stdout, e) < 0)
			mf_err(EX_IOERR, "standard output");
	}
	free(ids);
	return done_reading(st);
}

int
mf_statecmd_show(const char *dir, const char *id)
{
	struct mf_state *st = read_store(dir);
	const cJSON *e;

	if (!(e = mf_state_get(st, id))) {
		mf_warnx("%s: no such release in the store", id);
		mf_state_close(st);
		return 1;
	}
	print_json(e);
	return done_reading(st);
}

int
mf_statecmd_stats(const char *dir, int json)
{
	struct mf_state_health h;
	struct mf_state *st = read_store(dir);
	const char **ids;
	size_t n;
	long complete = 0, failed = 0;

	ids = all_ids(st, &n);
	for (size_t i = 0; i < n; i++) {
		complete += is_complete(mf_state_get(st, ids[i]));
		failed += is_failed(mf_state_get(st, ids[i]));
	}
	mf_state_health(st, &h);
	printf(json ? "{\"releases\":%zu,\"complete\":%ld,\"in_progress\":%ld,\"failed\":%ld,"
	    "\"journal_ops\":%ld,\"journal_bytes\":%lld,\"snapshot_entries\":%ld,"
	    "\"snapshot_bytes\":%lld,\"generation\":%ld}\n" :
	    "releases: %zu\ncomplete: %ld\nin progress: %ld\nfailed: %ld\n"
	    "journal ops: %ld\njournal bytes: %lld\nsnapshot entries: %ld\n"
	    "snapshot bytes: %lld\ngeneration: %ld\n",
	    n, complete, (long)n - complete, failed, h.journal_ops, h.journal_bytes,
	    h.snapshot_entries, h.snapshot_bytes, h.generation);
	free(ids);
	return done_reading(st);
}

/* Queue op for id, or exit. */
static void
append_simple(struct mf_state *st, const char *op, const char *id)
{
	if (mf_state_append(st, mf_state_op_simple(op, id, time(NULL))) < 0)
		mf_errx(EX_IOERR, "%s", mf_state_error(st));
}

int
mf_statecmd_retry_forget(const char *dir, const char *op, const char *id)
{
	struct mf_state *st = load_store(dir, 1);
	long n = 0;

	if (!id) {
		const char **ids;
		size_t k;

		ids = all_ids(st, &k);
		for (size_t i = 0; i < k; i++)
			if (is_failed(mf_state_get(st, ids[i]))) {
				n++;
				append_simple(st, op, ids[i]);
			}
		free(ids);
	} else {
		if (!mf_state_get(st, id)) {
			mf_warnx("%s: no such release in the store", id);
			mf_state_close(st);
			return 1;
		}
		append_simple(st, op, id);
	}
	finish_store(st);
	if (!id)
		mf_info("%ld failed release%s will be retried", n, n == 1 ? "" : "s");
	return 0;
}

int
mf_statecmd_export(const char *dir)
{
	struct mf_state *st = read_store(dir);
	cJSON *doc = mf_state_export(st);

	print_json(doc);
	cJSON_Delete(doc);
	return done_reading(st);
}

int
mf_statecmd_import(const char *dir, const char *file)
{
	struct mf_state *st;
	size_t len;
	char *buf;
	cJSON *doc;
	long n;

	if (!(buf = mf_read_file(file, (size_t)1 << 30, &len)))
		mf_err(EX_NOINPUT, "%s", file);
	if (!(doc = cJSON_ParseWithLength(buf, len)))
		mf_errx(EX_DATAERR, "%s: not valid JSON: nothing imported", file);
	free(buf);
	st = load_store(dir, 1);
	if ((n = mf_state_import(st, doc, time(NULL))) < 0)
		mf_errx(EX_DATAERR, "%s: %s: nothing imported", file, mf_state_error(st));
	finish_store(st);
	mf_info("%s: %ld entr%s added or merged", file, n, n == 1 ? "y" : "ies");
	cJSON_Delete(doc);
	return 0;
}

/* Say what is wrong with the files of the store; the number of problems. */
static long
report_health(const struct mf_state *st)
{
	struct mf_state_health h;

	mf_state_health(st, &h);
	if (h.corrupt_lines)
		mf_warnx("store: %ld damaged line%s skipped (CRC or JSON mismatch)", h.corrupt_lines,
		    h.corrupt_lines == 1 ? "" : "s");
	if (h.torn_bytes)
		mf_warnx("store: a torn tail of %ld bytes at the end of the journal "
		    "(a write cut short by a crash, never acknowledged)", h.torn_bytes);
	if (h.bad_header)
		mf_warnx("store: a data file has no valid header line");
	if (h.stale_journal)
		mf_warnx("store: the journal predates the snapshot (an interrupted compaction)");
	if (h.snapshot_behind)
		mf_warnx("store: the journal is newer than the snapshot: snapshot.ndjson was lost or "
		    "replaced, and the releases compacted into it are missing (restore it from a "
		    "backup; check --fix goes on without them)");
	return h.corrupt_lines + (h.torn_bytes > 0) + h.bad_header + h.stale_journal +
	    h.snapshot_behind;
}

/* Say which files of complete releases are gone; their number.  The count of releases
 * goes to *n. */
static long
report_missing(const struct mf_state *st, size_t *n)
{
	const char **ids = all_ids(st, n);
	long problems = 0;

	for (size_t i = 0; i < *n; i++) {
		const cJSON *e = mf_state_get(st, ids[i]);

		if (!is_complete(e))
			continue;
		problems += missing(ids[i], "staging folder", mf_json_str(e, "staging.dir"));
		problems += missing(ids[i], "torrent", mf_json_str(e, "torrent.path"));
	}
	free(ids);
	return problems;
}

int
mf_statecmd_check(const char *dir, int fix)
{
	struct mf_state *st = load_store(dir, fix);
	long problems, store_problems;
	size_t n;

	store_problems = report_health(st);
	problems = report_missing(st, &n);
	if (store_problems && fix) {
		/* Everything that loads goes into a fresh snapshot; damaged lines are dropped. */
		if (mf_state_compact(st) < 0)
			mf_errx(EX_IOERR, "store: repair failed: %s", mf_state_error(st));
		mf_info("store: repaired (%zu releases kept)", n);
		store_problems = 0;
	}
	mf_state_unlock(st);
	mf_state_close(st);
	if (store_problems)
		mf_warnx("store: run mf-state check --fix to repair it");
	if (!problems && !store_problems)
		mf_info("%zu releases, store healthy", n);
	return problems || store_problems ? 1 : 0;
}
