/* lock: flock(2) on lock files, with an optional wait and a record of who holds it. */
#ifndef MF_LOCK_H
#define MF_LOCK_H

#include <stddef.h>

/*
 * Open (creating when create is set, mode 0644) the lock file path; returns an fd with
 * close-on-exec set, or -1 with errno.  When the file cannot be opened for writing
 * (read-only store) it is opened read-only, which flock(2) accepts as well.
 */
int mf_lock_open(const char *path, int create);

/*
 * Take the lock on fd: exclusive or shared.  wait < 0 blocks; wait == 0 tries once;
 * wait > 0 retries for up to that many seconds.  Returns 0, or -1 with errno
 * (EWOULDBLOCK when another holder kept it for the whole wait).
 */
int mf_lock_take(int fd, int exclusive, double wait);
int mf_lock_release(int fd);

/* Write "pid P\nhost H\nsince TIME\n" over the lock file's contents (we hold it). */
int mf_lock_write_holder(int fd);
/*
 * Read the holder's description "pid P on HOST since TIME" from the lock file into buf;
 * "unknown holder" when the file has none.  Returns the pid or 0.
 */
long mf_lock_holder(int fd, char *buf, size_t n);

#endif
