/*
 * state: the crash-safe checkpoint store of what happened to each release.
 *
 * A folder (MF_STATE_DIR) holding:
 *   state.lock      flock(2) target: exclusive around every write, shared for readers;
 *   snapshot.ndjson a compacted copy of every release, written atomically;
 *   journal.ndjson  operations appended since that snapshot.
 * Both data files are lines `{"crc":"xxxxxxxx","op":{...}}`: the CRC-32 of the op's
 * bytes exactly as written.  A line whose CRC does not match (a torn tail left by a
 * crash, or damage) is never applied.  The first line of each is a header op carrying
 * the generation; a journal older than the snapshot is already folded into it.
 * `jq .op FILE` reads either file.
 *
 * Releases are cJSON objects:
 *   { id, asin, title, author, source_dir, status, created_at, updated_at, processed_at,
 *     checkpoints{staged_at,metadata_at,torrent_at,uploaded_at}, staging{dir,name},
 *     meta{mam_json}, torrent{path,infohash}, qbt{hash}, failure{stage,message,retryable,
 *     at,attempts}|null, attempts, history[{at,event,...}] }
 */
#ifndef MF_STATE_H
#define MF_STATE_H

#include <stddef.h>
#include <time.h>
#include <cjson/cJSON.h>

struct mf_state;

/* The checkpoint stages, in pipeline order. */
enum mf_stage { MF_STAGED, MF_METADATA, MF_TORRENT, MF_UPLOADED, MF_NSTAGES };
/* "staged" -> MF_STAGED ...; -1 when unknown. */
int mf_state_stage(const char *name);
extern const char *const mf_stage_names[MF_NSTAGES];
/* "staged_at" ...: the names of the times in `checkpoints`. */
extern const char *const mf_stage_at[MF_NSTAGES];
/* The record fields each stage produces and the store keeps ({NULL} ends the list). */
struct mf_stage_field {
	enum mf_stage	stage;
	const char	*group, *field;	/* rec[group][field], e.g. staging.dir */
};
extern const struct mf_stage_field mf_stage_fields[];

/* Health of the files as last loaded. */
struct mf_state_health {
	long	corrupt_lines;	/* complete lines whose CRC or JSON is bad (skipped) */
	long	torn_bytes;	/* bytes after the journal's last newline (ignored) */
	int	bad_header;	/* a data file without a valid header line */
	int	stale_journal;	/* journal older than the snapshot (already folded in) */
	int	snapshot_behind; /* journal newer than the snapshot: the snapshot was lost */
	long	journal_ops, snapshot_entries;
	long long journal_bytes, snapshot_bytes;
	long	generation;
};

/*
 * Open the store in dir.  writable: create the folder, lock file and journal when
 * missing.  A reader of a store that does not exist yet sees an empty store.
 * NULL on failure, with a message in err.
 */
struct mf_state *mf_state_open(const char *dir, int writable, char *err, size_t errsz);
void mf_state_close(struct mf_state *st);
/* The last error message. */
const char *mf_state_error(const struct mf_state *st);

/* Take (exclusive for writers, shared for readers) and release the store lock. */
int mf_state_lock(struct mf_state *st, int exclusive);
void mf_state_unlock(struct mf_state *st);

/*
 * Bring the in-memory index up to date with the files (under the lock): the whole store
 * on first use or after a compaction by anyone, else only the journal's new tail.
 */
int mf_state_load(struct mf_state *st);
/* The release with this id, or NULL (after mf_state_load). */
const cJSON *mf_state_get(const struct mf_state *st, const char *id);
/* All ids, sorted bytewise (malloc'd array of borrowed strings); count in *n. */
const char **mf_state_ids(const struct mf_state *st, size_t *n);
size_t mf_state_count(const struct mf_state *st);
void mf_state_health(const struct mf_state *st, struct mf_state_health *h);

/*
 * Queue an operation (taken over) for the journal; it is applied to the index when the
 * index is loaded.  Needs the exclusive lock.  Nothing is durable before mf_state_commit,
 * which writes the queued ops, fdatasyncs, and may compact; on failure the journal is cut
 * back to where it was, the index is reloaded next time, and -1 is returned.
 */
int mf_state_append(struct mf_state *st, cJSON *op);
int mf_state_commit(struct mf_state *st);
/* Rewrite the snapshot from the index and start an empty journal (under the lock). */
int mf_state_compact(struct mf_state *st);

/* Operations.  rec is a pipeline record; its id, asin, title, authors[0], source_dir
 * are kept, plus the fields the stage produced. */
cJSON *mf_state_op_checkpoint(const cJSON *rec, enum mf_stage stage, time_t now);
cJSON *mf_state_op_fail(const cJSON *rec, time_t now);
/* "retry" (clear the failure) or "forget" (remove the release). */
cJSON *mf_state_op_simple(const char *op, const char *id, time_t now);
/* Replace the whole release (import, repair). entry is taken over. */
cJSON *mf_state_op_put(const char *id, cJSON *entry);

/* Apply one op to *entry (NULL for a new release); a pure function, also for tests. */
void mf_state_apply(cJSON **entry, const cJSON *op);

/*
 * Parse the bytes of a data file into the index (the loader, exposed for the fuzzer and
 * tests): returns the number of bytes consumed (up to the last complete line).
 */
size_t mf_state_parse(struct mf_state *st, const char *buf, size_t len, int is_journal);
/* An empty in-memory store with no files (fuzzing, tests). */
struct mf_state *mf_state_new_mem(void);

/* CRC-32 (IEEE 802.3) of buf. */
unsigned long mf_crc32(const void *buf, size_t len);

/* The MAMFast processed.json (version 1) document for the whole index. */
cJSON *mf_state_export(const struct mf_state *st);
/*
 * Merge a processed.json document into the store (exclusive lock, loaded index):
 * queues put ops; never replaces newer data.  Returns the number of entries (of
 * "processed" or "failed") that changed a release, or -1 with a message when the
 * document is not a version 1 processed.json.
 */
long mf_state_import(struct mf_state *st, const cJSON *doc, time_t now);

#endif
