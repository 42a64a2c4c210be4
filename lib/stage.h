/* stage: hardlink (or copy) a release's files under its MAM name in the seed root. */
#ifndef MF_STAGE_H
#define MF_STAGE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "naming.h"
#include "record.h"

struct mf_stage_opts {
	const char		*library;	/* MF_LIBRARY: sources must lie inside it */
	const char		*seed_root;	/* MF_SEED_ROOT: staged folders go here */
	const char		*tag;		/* MF_RIPPER_TAG, or NULL */
	const char		*extensions;	/* MF_EXTENSIONS: ".m4b .jpg ..." */
	size_t			 max_path;	/* MF_MAX_PATH */
	const struct mf_naming	*naming;
	int			 dry_run;	/* compute and report, touch nothing */
	int			 force;		/* replace other content; ignore checkpoints */
	int			 copy;		/* copy instead of link(2) */
};

/*
 * Stage one record (a mf-scan record): sets `staging` {dir, name, files[{src, dst, how}],
 * truncated, dropped} and returns MF_REC_OK; MF_REC_SKIP for a record already staged
 * (checkpoints.staged_at set and staging.dir present, unless force); MF_REC_FAIL with
 * `error` (stage "stage") when it cannot be staged, leaving nothing half made.
 */
enum mf_rec_result mf_stage_record(cJSON *rec, const struct mf_stage_opts *o);

/* 1 when name's extension is in the list (".m4b .jpg", spaces or commas, any case). */
int mf_ext_listed(const char *list, const char *name);

#endif
