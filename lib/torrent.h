/* torrent: lay a file or folder out as mkbrr 1.24 does, pick the piece size, write the
 * .torrent, and read, reuse and verify existing ones. */
#ifndef MF_TORRENT_H
#define MF_TORRENT_H

#include <stddef.h>
#include <stdint.h>

#include "bencode.h"
#include "hash.h"

/* A file or folder as it goes into a torrent. */
struct mf_tlayout {
	char		*name;		/* info.name */
	int		single;		/* a file: `length`, no `files` */
	struct mf_tfile	*files;		/* sorted bytewise by path, offsets from that order */
	size_t		nfiles;
	uint64_t	total;
	int		dirfd;		/* the folder the files' src are below, or -1 */
};

/*
 * How to make a torrent.  For mf_meta_modify the info and top-level keys left NULL (or
 * private -1) keep the torrent's own value; "" takes a key out.
 */
struct mf_topts {
	char		**exclude;	/* extra globs (doublestar, case-insensitive) */
	size_t		nexclude;
	int		exp;		/* -l: piece length 2^exp (16..27); 0 = automatic */
	int		max_exp;	/* ceiling of the automatic size; 0 = 24 */
	int		jobs;		/* hashing workers; 0 = one per core */
	int		private;	/* 1, 0 (`private` i0e, as mkbrr), -1 keep */
	const char	*source;	/* NULL or "" = no `source` */
	const char	*name;		/* info.name; NULL = the path's last component */
	int		entropy;	/* a random `entropy` key in info (mkbrr -e) */
	const char	*announce;	/* whitespace-separated tracker URLs; a secret */
	const char	*comment;	/* NULL or "" = no `comment` */
	const char	*webseeds;	/* whitespace-separated `url-list`; NULL or "" = none */
	int		no_creator;	/* no `created by` */
	int		no_date;
	int		progress;	/* draw the bar even when stderr is not a terminal */
	int		force;		/* rehash even when an existing torrent matches */
	int		verify;		/* re-read the data before reusing an existing torrent */
	const char	*within;	/* NULL, or the folder the data must lie in */
};

/* The piece-size exponent mkbrr picks for total bytes under ceiling max_exp (0 = 24). */
int mf_piece_exp(uint64_t total, int max_exp);

/* 1 when path (relative, '/'-separated) matches a doublestar glob, ignoring case; a
 * pattern with no '/' and no leading "**" matches at any depth. */
int mf_glob_match(const char *pat, const char *path);

/* The torrent name of path: its last component ("." resolved); malloc'd, NULL on error. */
char *mf_torrent_name(const char *path);

/*
 * Walk a file or folder: mkbrr's default exclusions plus exclude globs, files sorted
 * bytewise, offsets from that order.  A symlink that leaves the folder is an error.  The
 * folder is held open (lay->dirfd) and read below it without following links, each file's
 * identity kept for the hash (see mf_hash_open).  within (may be NULL): the folder must
 * really lie there, as its descriptor says, not only its path.
 * Returns 0, or -1 with a message in err.
 */
int mf_torrent_walk(const char *path, const char *within, char *const *exclude,
    size_t nexclude, struct mf_tlayout *lay, char *err, size_t errsz);
void mf_tlayout_free(struct mf_tlayout *lay);

/* An existing torrent, parsed in place (the buffer must outlive it). */
struct mf_tinfo {
	struct mf_bval		root, info;
	unsigned char		sha1[20];	/* SHA-1 of the exact bytes of info */
	int			v2;		/* info has `meta version` 2 (mf_tinfo_v2) */
	unsigned char		sha256[32];	/* SHA-256 of info when v2 */
	/* Filled by mf_tinfo_describe: */
	const char		*name, *source;
	size_t			name_len, source_len;	/* source NULL when absent */
	int64_t			piece_length;
	const unsigned char	*pieces;
	size_t			npieces;
	int64_t			size;
	size_t			nfiles;
	int			single;
	int			private;	/* -1 when absent */
};

/* A whole .torrent in memory ("-" is stdin); a regular file is mapped, not copied. */
struct mf_tbuf {
	char	*p;
	size_t	len;
	int	mapped;
};
/* 0, or -1 with errno (EFBIG when larger than max). */
int mf_tbuf_read(const char *path, size_t max, struct mf_tbuf *b);
void mf_tbuf_free(struct mf_tbuf *b);

/* Decode buf (see mf_bdecode for flags), find info and hash it. */
int mf_tinfo_parse(const void *buf, size_t len, unsigned flags, struct mf_tinfo *ti,
    struct mf_berr *err);
/* Look for `meta version` 2 and set v2 and sha256 (a walk over info, so on demand). */
void mf_tinfo_v2(struct mf_tinfo *ti);
/* Read name, sizes, pieces, private and source; -1 when a field is missing or malformed. */
int mf_tinfo_describe(struct mf_tinfo *ti, struct mf_berr *err);
/* The torrent's file list as a layout (src NULL); paths are checked to be safe relative
 * paths.  Call after mf_tinfo_describe. */
int mf_tinfo_layout(const struct mf_tinfo *ti, struct mf_tlayout *lay, char *err,
    size_t errsz);
void mf_tinfo_free(struct mf_tinfo *ti);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void mf_hex(const unsigned char *b, size_t n, char *out);

/*
 * Hash lay and encode the whole .torrent into *out (exp from opts, or mf_piece_exp).
 * Returns 0 with infohash set, or -1 with err.
 */
int mf_torrent_build(const struct mf_tlayout *lay, int exp, const struct mf_topts *o,
    struct mf_bbuf *out, unsigned char infohash[20], char *err, size_t errsz);

/* Result of verifying data against a torrent. */
struct mf_check {
	size_t		npieces, good, bad, missing;	/* missing: pieces over missing files */
	size_t		*bad_idx;		/* the bad piece indices (bad of them) */
	char		**missing_files;	/* "path" or "path (size mismatch)" */
	size_t		nmissing_files;
};

/*
 * Verify the data at path against ti: a folder holding the torrent's files (multi-file),
 * or the file itself or a folder holding it (single-file).  Returns 0 with *res filled
 * (mismatches are in *res), or -1 with err when the data cannot be read at all.
 */
int mf_torrent_check(struct mf_tinfo *ti, const char *path, int jobs, int progress,
    struct mf_check *res, char *err, size_t errsz);
void mf_check_free(struct mf_check *res);

/* What mf_torrent_make did. */
struct mf_tresult {
	char		infohash[41];
	int64_t		piece_length;
	size_t		pieces, file_count;
	uint64_t	size;
	int		reused;
	int		retryable;	/* on failure: worth trying again later */
	char		old_infohash[41];	/* mf_meta_modify: the infohash before */
	int		changed;	/* mf_meta_modify: the bytes differ from the torrent's */
};

/*
 * Make (or reuse) the torrent for src at out: walk, and when out exists and its info is
 * the one we would write (files and sizes, piece length, name, private, source, and with
 * o->entropy the entropy it has) keep it without hashing (after re-reading the data with
 * o->verify), writing its top-level keys again when they differ from the options (see
 * MF_META_REUSE); otherwise hash and write out atomically.
 * Returns 0, or -1 with err and nothing at out.
 */
int mf_torrent_make(const char *src, const char *out, const struct mf_topts *o,
    struct mf_tresult *res, char *err, size_t errsz);

#endif
