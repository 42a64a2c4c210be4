/* file: atomic writes, durable folders, bounded reads, and path containment. */
#ifndef MF_FILE_H
#define MF_FILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Modes asked for what mamfast makes: the umask (MF_UMASK, or the caller's) takes from
 * them, as for any Unix tool (022 gives 0644 and 0755, 002 gives 0664 and 0775).
 */
#define MF_FILE_MODE	0666
#define MF_DIR_MODE	0777

/*
 * The owner of every folder and file the helpers below make (MF_OWNER): folders made by
 * mf_mkdir and mf_mkdir_p, files made by mf_atomic_open, mf_write_atomic and mf_create.
 * (uid_t)-1 and (gid_t)-1 leave that part as the kernel makes it (the default).
 */
void mf_file_owner(uid_t uid, gid_t gid);

/*
 * Write data to path atomically: a temporary file in the same folder (".NAME.tmp.PID.N"),
 * fsync, rename over path, fsync the folder.  On any failure the temporary file is
 * removed, path is untouched, errno is set and -1 returned.
 */
int mf_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * The same in two steps, for output produced piece by piece: mf_atomic_open creates the
 * temporary file (its name is put in tmp, of size tmpsz) and returns its fd;
 * mf_atomic_commit fsyncs, closes and renames it over path and fsyncs the folder;
 * mf_atomic_abort closes and removes it.
 */
int mf_atomic_open(const char *path, mode_t mode, char *tmp, size_t tmpsz);
int mf_atomic_commit(int fd, const char *tmp, const char *path);
void mf_atomic_abort(int fd, const char *tmp);

/* 1 when name is one of ours: a temporary file left by a killed writer. */
int mf_is_atomic_tmp(const char *name);
/* Remove the temporary files of path (".NAME.tmp.PID.N" beside it) whose writer process is
 * gone, as a killed run leaves them.  Best effort: errors are ignored. */
void mf_atomic_sweep(const char *path);

/* fsync the folder holding path (or path itself when it is a folder). */
int mf_fsync_dir(const char *path);
/* mkdir -p with mode; each created folder's parent is fsynced. */
int mf_mkdir_p(const char *path, mode_t mode);
/* mkdir(2), then the owner of mf_file_owner; -1 with errno (EEXIST included) otherwise. */
int mf_mkdir(const char *path, mode_t mode);
/* open(2) with O_CREAT added: a file it creates gets the owner of mf_file_owner. */
int mf_create(const char *path, int flags, mode_t mode);
/* Write all of buf to fd (retrying short writes and EINTR). */
int mf_write_all(int fd, const void *buf, size_t len);

/*
 * Read a whole file of at most max bytes into a malloc'd, NUL-terminated buffer.
 * Returns NULL with errno set (EFBIG when larger than max).
 */
char *mf_read_file(const char *path, size_t max, size_t *len);

/*
 * 1 when path, with every symlink resolved, is root or lies below it (compared on a path
 * boundary, so /seed2 is not inside /seed); 0 when outside; -1 when it cannot be resolved.
 * For a path that does not exist yet, its deepest existing ancestor is resolved.
 */
int mf_path_inside(const char *path, const char *root);

/* 1 when path (relative) has no "..", no empty or "." component, and no leading '/'. */
int mf_relpath_safe(const char *rel);

/*
 * Opening below a folder descriptor, never through a symbolic link, so that a path swapped
 * for a link (or a folder for a link to another one) between a walk and a read cannot lead
 * out of the folder.  The identity of a file as the walk saw it is what a later open must
 * find again.
 */
struct mf_fid {
	dev_t	dev;
	ino_t	ino;
};
void mf_fid_of(const struct stat *st, struct mf_fid *id);

/*
 * The folder rel below the folder dirfd ("" is dirfd itself), each component opened with
 * O_DIRECTORY | O_NOFOLLOW: a symbolic link anywhere fails (ELOOP or ENOTDIR); rel must be
 * mf_relpath_safe (EINVAL).  Returns a new descriptor or -1 with errno; at most one more is
 * open meanwhile.
 */
int mf_opendir_at(int dirfd, const char *rel);

/*
 * The regular file rel below dirfd, read-only, with no symbolic link followed anywhere in
 * rel (folders as mf_opendir_at, the file with O_NOFOLLOW; a FIFO or device is never
 * opened for reading: EINVAL).  When want is given the file must be that device and inode:
 * ESTALE otherwise (it was replaced since the walk).  st (may be NULL) gets its fstat.
 * Returns the descriptor or -1 with errno (ELOOP for a link where the file was).
 */
int mf_open_at(int dirfd, const char *rel, const struct mf_fid *want, struct stat *st);

/* 1 when e is how mf_open_at says "not the file the walk found": a link, or replaced. */
int mf_replaced_errno(int e);

/*
 * The absolute path, symbolic links resolved, of name in the folder fd (NULL or "": of the
 * folder itself), through /proc/self/fd: what the descriptor really is, not what a path
 * names now.  malloc'd, or NULL with errno.
 */
char *mf_realpath_at(int fd, const char *name);

/* mf_path_inside for what the folder descriptor fd really is: 1 inside root, 0 not, -1. */
int mf_fd_inside(int fd, const char *root);

#endif
