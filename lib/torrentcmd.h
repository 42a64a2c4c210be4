/*
 * torrentcmd: the work of each mode of mf-torrent (see mf-torrent(1)), from its parsed
 * options to its exit status, so that cmd/mf-torrent.c is flags and dispatch.  The
 * torrents themselves are made, checked and rewritten by lib/torrent and lib/metainfo.
 */
#ifndef MF_TORRENTCMD_H
#define MF_TORRENTCMD_H

#include "torrent.h"

/* 1 when s can be a single folder or file name (no '/', not . or ..). */
int mf_plain_name(const char *s);
/* Add the globs of one --exclude value to o->exclude: commas outside {} separate them. */
void mf_topts_add_excludes(struct mf_topts *o, const char *v);

/*
 * MF_ANNOUNCE_URL, else the whole of MF_ANNOUNCE_URL_FILE: one URL a line gives
 * announce-list as white space does in MF_ANNOUNCE_URL.  Every URL is checked (lib/url):
 * exit 78 naming the key, and the file's line, never the value (it holds the passkey).
 * A secret (mf_secret_free), or NULL when neither is set; *n gets the number of URLs.
 */
char *mf_announce_urls(long *n);

/* The filter: a torrent in MF_OUT_DIR/NAME/NAME.torrent for each record's staging.dir
 * (which must lie in MF_SEED_ROOT), its facts in the record's `torrent`. */
int mf_torrentcmd_filter(struct mf_topts *o);
/* One path: the torrent in output (".torrent" added), else ./NAME.torrent; prints
 * "INFOHASH  FILE". */
int mf_torrentcmd_make(const char *path, const char *output, const struct mf_topts *o);
/* --check: verify the data at path against torrent and print the report; 1 when any
 * piece or file is bad or missing, 65 when the torrent cannot be read. */
int mf_torrentcmd_check(const char *torrent, const char *path, int jobs, int progress);
/* --modify: rewrite the keys o names (dry_run: only report the change). */
int mf_torrentcmd_modify(const char *torrent, const char *output, const struct mf_topts *o,
    int dry_run);

#endif
