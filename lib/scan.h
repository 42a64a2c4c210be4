/* scan: find releases in a Libation library and describe each as a record. */
#ifndef MF_SCAN_H
#define MF_SCAN_H

#include <stdio.h>
#include <cjson/cJSON.h>

/* ASINs are checked with mf_asin_valid() of audnex.h. */

/* File kinds of the records' files[]: by extension, case-insensitive. */
const char *mf_file_kind(const char *name);
/* 1 for .m4b .m4a .mp3 .flac .ogg .opus (case-insensitive). */
int mf_is_audio(const char *name);

/*
 * What a folder name says, after the original's pattern
 * "Title[ - ]vol_N (Year) (Author) {ASIN.X} [source]" or Libation's "Title [ASIN]";
 * with words after the volume ("Series vol_11 Title (Year) ..."), the words before it are
 * the series.  Each part NULL when absent.  Free with mf_folder_info_free.
 */
struct mf_folder_info {
	char	*title, *volume, *year, *author, *asin, *source, *series;
};
void mf_folder_parse(const char *name, struct mf_folder_info *fi);
void mf_folder_info_free(struct mf_folder_info *fi);
/* The first valid ASIN in a name ("[B0...]", "{ASIN.x}", "[ASIN.x]") into out[11]. */
int mf_asin_in_name(const char *name, char *out);

struct mf_scan_opts {
	int	 depth;		/* release folders at most this deep below the root */
	FILE	*out;		/* records are written here, one line each */
};

struct mf_scan_stats {
	long	releases;	/* records written */
	long	failed;		/* of which with error */
	long	skipped;	/* folders skipped (hidden, InProgress, @eaDir, symlinks) */
};

/*
 * Walk root (an absolute folder path) and write one record per release, sorted bytewise
 * by path.  Returns 0, 74 when writing fails, or 66 when root cannot be opened (after a
 * message).  Per-release problems become records with `error`.
 */
int mf_scan_library(const char *root, const struct mf_scan_opts *o, struct mf_scan_stats *st);

#endif
