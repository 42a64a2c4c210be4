/* hash: SHA-1 of every piece of a run of files, on all cores, in bounded memory. */
#ifndef MF_HASH_H
#define MF_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "file.h"

struct mf_progress;

/* One file in piece space: its bytes are [off, off + len) of the concatenated content. */
struct mf_tfile {
	char		*path;		/* '/'-joined path inside the torrent */
	char		*src;		/* the file that is read: relative to the job's dirfd */
	char		*key;		/* sort key (walk only) */
	struct mf_fid	id;		/* what the walk found at src: what is read must be it */
	uint64_t	len, off;
	int		missing;	/* absent or of another size: pieces over it are not read */
};

struct mf_hjob {
	int			dirfd;		/* the folder every src is below */
	const struct mf_tfile	*files;		/* in torrent order, offsets set */
	size_t			nfiles;
	uint64_t		total;		/* sum of the lengths */
	uint64_t		plen;		/* piece length */
	int			jobs;		/* workers; <= 0: one per core */
	struct mf_progress	*progress;	/* may be NULL */
	/* Out: 20 bytes per piece (npieces = ceil(total / plen)), allocated by the caller. */
	unsigned char		*digests;
	/* In (may be NULL): 1 for pieces not to hash (they touch a missing file). */
	const unsigned char	*skip;
};

/* Number of pieces for total bytes. */
size_t mf_hash_npieces(uint64_t total, uint64_t plen);

/*
 * Hash every piece.  Workers claim runs of pieces and hash as many at once as the fastest
 * lib/sha1x engine has lanes (4 SHA-NI, 16 AVX-512, 8 AVX2); where one OpenSSL stream is
 * faster, or descriptors are short, they read a piece at a time through mapped windows or
 * with pread (each worker times both and keeps the faster).  MF_HASH_READ=map|read forces
 * one of those, MF_HASH_READ=sha-ni|avx512|avx2 an engine.  At most 16 MiB is mapped and
 * lanes + 1 files are open per worker, so memory and descriptors stay bounded.  Files are opened with mf_hash_open.  A file that cannot be opened, is
 * not the one the walk found, is shorter or longer than expected (also when it shrinks
 * under a mapping: the SIGBUS is caught), or fails to read stops the job: returns -1
 * with a message in err (and errno set; EAGAIN when the file changed size, ESTALE when it
 * was replaced).  SIGBUS has a handler of the job's own while it runs.
 */
int mf_hash_pieces(struct mf_hjob *job, char *err, size_t errsz);

/*
 * Open f for reading as a read loop must: below job->dirfd with no symbolic link followed,
 * the very file (device, inode) the walk found, of the size it found.  Returns the
 * descriptor, or -1 with errno (ESTALE: replaced; EAGAIN: another size) and a message
 * naming f->path in err.
 */
int mf_hash_open(const struct mf_hjob *job, const struct mf_tfile *f, char *err, size_t errsz);

#endif
