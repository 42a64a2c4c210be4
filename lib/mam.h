/* mam: the MAM "fast fill-out" upload JSON, its BBCode description, and categories. */
#ifndef MF_MAM_H
#define MF_MAM_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "audnex.h"
#include "naming.h"
#include "record.h"

/* The genre -> MAM category table (data/categories.json; format in that file). */
struct mf_categories;

/* NULL with a reason in err when the file is unreadable or malformed. */
struct mf_categories *mf_categories_load(const char *path, char *err, size_t n);
struct mf_categories *mf_categories_parse(const char *text, size_t len, char *err, size_t n);
void mf_categories_free(struct mf_categories *c);

struct mf_category {
	int		id;
	const char	*name;		/* owned by the table */
	int		main_cat;	/* 1 fiction, 2 non-fiction */
	int		matched;	/* 0 when it is the default for main_cat */
};
/*
 * The category of a book with genres (array of strings, may be NULL) and Audnex
 * literature_type ("fiction"/"nonfiction", may be NULL).
 */
void mf_categories_match(const struct mf_categories *c, const cJSON *genres,
    const char *literature_type, struct mf_category *out);

/* What the upload is made from: any of audnex/audio may be NULL. */
struct mf_mam_in {
	const cJSON	*rec;		/* the record: fallback title, authors, series, asin */
	const cJSON	*audnex;	/* meta.audnex */
	const cJSON	*audio;		/* meta.audio */
	const char	*container;	/* "M4B", "MP3"... (from the file name) */
	const char	*mediainfo;	/* mediainfo's text report, or NULL to build one */
	const struct mf_categories *cats;	/* may be NULL: defaults */
	/*
	 * Authors without credits (author_roles), authors and narrators through author_map
	 * and romaji, the subtitle through the subtitle rules.  NULL: names as they are, a
	 * subtitle dropped only when it equals a series.
	 */
	const struct mf_naming *naming;
};

/* The BBCode description (malloc'd). */
char *mf_mam_bbcode(const struct mf_mam_in *in);
/* The fast fill-out JSON object (description included). */
cJSON *mf_mam_json(const struct mf_mam_in *in);
/* A mediainfo-like plain-text report built from meta.audio (malloc'd). */
char *mf_mam_mediainfo_text(const cJSON *audio, const char *container, const char *name);

/* "1:02:03" (>= 1 h) or "02:03"; buf of at least 16 bytes. */
char *mf_mam_clock(long long ms, int hours, char *buf, size_t n);

/* ---- the mf-meta record step ---- */

struct mf_meta_opts {
	struct mf_audnex	*audnex;	/* NULL: Audnex is not asked */
	const struct mf_categories *cats;
	const struct mf_naming	*naming;	/* data/naming.json (MF_NAMING) */
	const char		*out_dir;	/* MF_OUT_DIR; may be NULL with dry_run */
	const char		*seed_root;	/* MF_SEED_ROOT: staged folders are read there only */
	int			dry_run;	/* compute everything, write nothing */
	int			force;		/* redo records whose metadata checkpoint is set */
	int			mediainfo;	/* add mediainfo's own report when installed */
	double			mediainfo_timeout;
};

/*
 * The mf-meta handler (ctx is a struct mf_meta_opts): audio facts of the main audio file,
 * Audnex book and chapters, then <out_dir>/<name>/<name>.json and audnex.json; sets
 * rec.meta {audnex, audio, mam_json, warnings}.  Missing Audnex or audio data only adds
 * warnings; a record fails when it has no staging or its files cannot be written.
 */
enum mf_rec_result mf_meta_record(cJSON *rec, void *ctx);
/* Its group commit (mf_stream_ops.flush): make the batch's files durable and rename them
 * into place; 0, or 74 after a message. */
int mf_meta_flush(void *ctx);

#endif
