/*
 * statecmd: the work of each mf-state command (see mf-state(1)), from its parsed
 * arguments to its exit status, so that cmd/mf-state.c is flags and dispatch.
 *
 * Each function opens the store in dir (MF_STATE_DIR), takes the lock it needs, does the
 * command and closes the store.  It returns the command's exit status; a store that
 * cannot be opened, loaded or committed ends the program with the status of mf-state(1)
 * (66 for a reader, 74 for a writer) and a message naming the store.
 */
#ifndef MF_STATECMD_H
#define MF_STATECMD_H

#include "state.h"

/* The filters, stdin to stdout (see docs/records.md). */
/* pending: hold back finished releases (and failed ones when skip_failed), restore the
 * fields that finished stages produced; only: pass just the release with this id. */
int mf_statecmd_pending(const char *dir, int skip_failed, const char *only);
/* checkpoint: record that stage finished for each record (group commit), and a failure
 * once at the first checkpoint a failed record passes. */
int mf_statecmd_checkpoint(const char *dir, enum mf_stage stage);

/* Which releases `list` shows. */
enum mf_statecmd_which { MF_LIST_ALL, MF_LIST_FAILED, MF_LIST_COMPLETE, MF_LIST_PENDING };
/* list: a table (id, status, failure, title) or, with json, one entry a line. */
int mf_statecmd_list(const char *dir, enum mf_statecmd_which which, int json);
/* show: the entry of id as indented JSON; 1 when there is none. */
int mf_statecmd_show(const char *dir, const char *id);
/* stats: counts of releases and of the files, as lines or one JSON object. */
int mf_statecmd_stats(const char *dir, int json);
/* retry (clear the failure) or forget (remove) the release id; id NULL: retry every
 * failed release.  1 when id is not in the store. */
int mf_statecmd_retry_forget(const char *dir, const char *op, const char *id);
/* export: the processed.json document; import: merge one from file. */
int mf_statecmd_export(const char *dir);
int mf_statecmd_import(const char *dir, const char *file);
/* check: report damage to the store and missing files of complete releases; fix: compact
 * the store to drop the damage.  1 when anything is wrong (after a fix: left). */
int mf_statecmd_check(const char *dir, int fix);

#endif
