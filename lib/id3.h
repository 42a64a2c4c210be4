/* id3: a bounds-checked ID3v2 (2.2, 2.3, 2.4) text-frame reader for MP3 files. */
#ifndef MF_ID3_H
#define MF_ID3_H

#include <stddef.h>

#include "mp4.h"	/* struct mf_mp4 doubles as the byte source (file or memory) */

/*
 * One text frame.  id is the four-character frame id ("TIT2", "TPE1", "TCOM", "TYER",
 * "TDRC"; v2.2 ids are mapped to their v2.3 names) or, for user text frames,
 * "TXXX:DESCRIPTION" (e.g. "TXXX:AUDIBLE_ASIN").  value is converted to UTF-8 from any of
 * the four ID3 encodings (invalid UTF-16 becomes U+FFFD), NUL-terminated, at most
 * MF_ID3_VALUE_MAX bytes; several values in one frame (v2.4) are joined with "; ".
 */
#define MF_ID3_VALUE_MAX	4096
struct mf_id3_frame {
	const char	*id;
	const char	*value;		/* NULL for a frame that is not text (APIC...) */
	size_t		 len;
	size_t		 binary_len;	/* body size of a frame that is not text */
};
typedef int (*mf_id3_fn)(const struct mf_id3_frame *f, void *ctx);

/*
 * Call fn for each frame of the ID3v2 tag at the start of src: text frames with their
 * value, other frames (APIC, v2.2 PIC as "APIC", COMM...) with value NULL and binary_len
 * set, their bodies skipped without being read; only the header and text frames are read
 * (a v2.3 tag with whole-tag unsynchronisation is read whole, up to 16 MiB).  fn returns
 * 0 to go on, non-zero to stop (that value is returned).  Returns 0 at the end or when
 * there is no tag, -1 on a malformed tag header.  Compressed or encrypted frames are
 * skipped; a malformed frame ends the walk (frames before it were reported).
 */
int mf_id3_tags(const struct mf_mp4 *src, mf_id3_fn fn, void *ctx);

/* The value of one frame id (as above) into buf; 1 found, 0 absent, -1 malformed tag. */
int mf_id3_tag(const struct mf_mp4 *src, const char *id, char *buf, size_t cap);

#endif
