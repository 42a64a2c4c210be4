/* metainfo: the keys of a .torrent around its pieces: the top-level dict mamfast writes,
 * and rewriting an existing torrent's keys without its data (mf-torrent --modify). */
#ifndef MF_METAINFO_H
#define MF_METAINFO_H

#include <stddef.h>
#include <stdio.h>

#include "bencode.h"
#include "torrent.h"

/* How mf_meta_outer makes the top-level dict. */
enum mf_meta_mode {
	MF_META_NEW,	/* a new torrent: every key from the options, the date now */
	MF_META_REUSE,	/* an existing torrent kept: announce, comment and url-list from the
			 * options; its `created by` and `creation date` stay */
	MF_META_MODIFY	/* --modify: what the options leave NULL stays; `created by` is ours
			 * and the date now, unless no_creator or no_date */
};

/*
 * Encode into out the top-level dict around info (one encoded dict, copied as it is):
 * `announce` (and `announce-list` for two URLs or more), `comment`, `created by`,
 * `creation date`, `info` and `url-list` (always a list), in sorted order, as mkbrr
 * writes them.  Unless mode is MF_META_NEW, old is the existing top-level dict: keys
 * mamfast does not write stay where they are, new keys go where they sort.  When report
 * is not NULL it gets a line "key: old -> new" for each key that changes (the announce
 * URLs are never shown: they hold the passkey).  out->oom tells of a failed allocation.
 */
void mf_meta_outer(struct mf_bbuf *out, const struct mf_bval *old, const void *info,
    size_t infolen, const struct mf_topts *o, enum mf_meta_mode mode, FILE *report);

/* 64 lowercase hex digits of 32 random bytes into out (65 bytes with the NUL), as mkbrr
 * -e writes them; -1 when the system gives no random bytes. */
int mf_meta_entropy(char *out);

/*
 * --modify in memory: the torrent buf[0..len) with the info keys o sets (name, source,
 * private; entropy added when o->entropy and the torrent has none) and its top-level dict
 * made by MF_META_MODIFY.  Pieces and every other key stay byte for byte, so with nothing
 * set in info the infohash stays too.  report as in mf_meta_outer.  Returns 0 with *out
 * and the infohashes before and after, or -1 with err when buf is not a usable torrent.
 */
int mf_meta_rewrite(const void *buf, size_t len, const struct mf_topts *o,
    struct mf_bbuf *out, unsigned char old_ih[20], unsigned char new_ih[20], FILE *report,
    char *err, size_t errsz);

/*
 * mf-torrent --modify: rewrite the torrent at in (or "-", stdin) into out, or in place
 * when out is NULL, atomically and with in's permissions; in place and unchanged, the
 * file is left as it is.  With dry_run nothing is written.  Never reads the data.
 * Returns 0 with *res (infohash, old_infohash, changed and the sizes), -1 with err when
 * in cannot be read or is not a usable torrent, -2 with err when out cannot be written.
 */
int mf_meta_modify(const char *in, const char *out, const struct mf_topts *o, int dry_run,
    FILE *report, struct mf_tresult *res, char *err, size_t errsz);

#endif
