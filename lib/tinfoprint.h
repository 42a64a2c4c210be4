/*
 * tinfoprint: a parsed torrent (struct mf_tinfo, lib/torrent) printed on standard output
 * in the forms of mf-infohash(1).  None prints an announce URL: it holds the passkey.
 * Each returns 0, or -1 with a message naming path in msg (nothing printed).
 */
#ifndef MF_TINFOPRINT_H
#define MF_TINFOPRINT_H

#include <stddef.h>

#include "torrent.h"

/* --json: one line {file, infohash, infohash_v2?, name, piece_length, pieces, size, files,
 * private, source}, strings made valid UTF-8. */
int mf_tinfo_print_json(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz);
/*
 * --files: "torrent  INFOHASH  PIECE-LENGTH  PIECES  SIZE  FILES  NAME", then for each file
 * "file  SIZE  FIRST-PIECE  LAST-PIECE  PATH" (pieces "-" for an empty file), separated
 * by tabs, names escaped to one field (mf_utf8_field).
 */
int mf_tinfo_print_files(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz);
/* --magnet: magnet:?xt=urn:btih:INFOHASH&dn=NAME&xl=SIZE. */
int mf_tinfo_print_magnet(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz);

#endif
