/* record: the NDJSON record stream every mf-* filter runs (see docs/records.md). */
#ifndef MF_RECORD_H
#define MF_RECORD_H

#include <stdio.h>
#include <cjson/cJSON.h>

/* What a record handler tells the stream to do with the record it was given. */
enum mf_rec_result {
	MF_REC_OK,	/* emit; the record succeeded in this tool */
	MF_REC_FAIL,	/* emit; the handler set `error` on it (exit status 1) */
	MF_REC_DROP,	/* do not emit (a filter that holds records back) */
	MF_REC_SKIP	/* emit untouched; not counted (nothing for this tool to do) */
};

struct mf_stream;

/*
 * Called for each good record (a JSON object without `error`).  The handler edits rec in
 * place: it adds or replaces only its own fields.  Records that arrive with `error` are
 * passed through without calling it, unless MF_STREAM_SEE_ERRORS is set.
 */
typedef enum mf_rec_result (*mf_rec_fn)(cJSON *rec, void *ctx);

/*
 * Optional group commit: when set, handled records are held and flush() is called before
 * any of them is written, at the latest when no further input is ready, after
 * MF_STREAM_BATCH records, or at end of input.  flush() returns 0 when everything the held
 * records depend on is durable; on failure it returns an exit status (e.g. 74) and the
 * held records are emitted with a `state` error instead.
 */
typedef int (*mf_flush_fn)(void *ctx);

#define MF_STREAM_BATCH 256
#define MF_STREAM_SEE_ERRORS 0x1	/* hand records with `error` to the handler too */

struct mf_stream_ops {
	mf_rec_fn	record;
	mf_flush_fn	flush;		/* may be NULL */
	void		*ctx;
	unsigned	flags;
	const char	*stage;		/* error stage for flush failures, e.g. "state" */
};

/*
 * Read records from fd `in` until end of input, run ops on each, write results to `out`
 * (flushed per record or per batch).  Lines may be any length.  A line that is not a JSON
 * object becomes an `input` error record naming its line number.  Blank lines are
 * ignored.  Returns the exit status of the contract: 0 when every handled record
 * succeeded, 1 when any failed (including bad input lines), 74 when writing `out` failed,
 * or the status flush() returned.
 */
int mf_stream_run(int in, FILE *out, const struct mf_stream_ops *ops);

/* Set rec.error = {stage, message, retryable}; message is printf-style. */
void mf_rec_error(cJSON *rec, const char *stage, int retryable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 1 when rec carries a non-null `error`. */
int mf_rec_has_error(const cJSON *rec);
/* The record's id for messages ("B0123456789", or the source folder), or "?". */
const char *mf_rec_id(const cJSON *rec);

/*
 * Say on stderr that rec failed: "prog: ID: message".  A run of failures with the same
 * message (a server that is down fails every record alike) is said once, then counted in
 * one closing line by mf_rec_report_end(), which mf_stream_run calls at its end.
 */
void mf_rec_report(const cJSON *rec);
void mf_rec_report_end(void);

/*
 * The folders a record names, each against the root a tool may touch it in: source_dir in
 * MF_LIBRARY, staging.dir in MF_SEED_ROOT, torrent.path and meta.mam_json in MF_OUT_DIR.
 * A tool checks the fields it is about to use (MF_RF_*); a field that is absent, or whose
 * root is NULL, is not checked.  0 when all lie inside (symbolic links resolved, on a path
 * boundary); -1 after setting rec.error (stage, not retryable) naming the field, its path
 * and the root's key.
 */
enum { MF_RF_SOURCE = 1, MF_RF_STAGING = 2, MF_RF_TORRENT = 4, MF_RF_MAM_JSON = 8 };
struct mf_roots {
	const char	*library, *seed_root, *out_dir;
};
int mf_rec_paths_ok(cJSON *rec, unsigned fields, const struct mf_roots *roots,
    const char *stage);

/* Write one record as a line and flush; 0 on success, -1 on a write error. */
int mf_rec_write(FILE *out, const cJSON *rec);

#endif
