/* file: atomic writes, durable folders, bounded reads, and path containment. */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
mf_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= w;
	}
	return 0;
}

static uid_t own_uid = (uid_t)-1;
static gid_t own_gid = (gid_t)-1;

void
mf_file_owner(uid_t uid, gid_t gid)
{
	own_uid = uid;
	own_gid = gid;
}

static int
owned(void)
{
	return own_uid != (uid_t)-1 || own_gid != (gid_t)-1;
}

int
mf_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0)
		return -1;
	/* A folder left with the wrong owner would defeat MF_OWNER: take it back. */
	if (owned() && lchown(path, own_uid, own_gid) < 0) {
		int e = errno;

		rmdir(path);
		errno = e;
		return -1;
	}
	return 0;
}

int
mf_create(const char *path, int flags, mode_t mode)
{
	int fd, tries = 0;

	/* Exclusive first, so only a file made here is given away; else open what is there. */
	while ((fd = open(path, flags | O_CREAT | O_EXCL, mode)) < 0 && errno == EEXIST &&
	    !(flags & O_EXCL)) {
		if ((fd = open(path, flags & ~O_CREAT, mode)) >= 0 || errno != ENOENT ||
		    ++tries == 3)
			return fd;
	}
	if (fd >= 0 && owned() && fchown(fd, own_uid, own_gid) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	return fd;
}

int
mf_fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	int fd, rc, e;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof dir, "%s", path);
	} else {
		const char *slash = strrchr(path, '/');

		if (!slash)
			snprintf(dir, sizeof dir, ".");
		else if (slash == path)
			snprintf(dir, sizeof dir, "/");
		else
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

int
mf_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mf_mkdir(buf, mode) == 0) {
				if (mf_fsync_dir(buf) < 0)	/* fsyncs buf's parent */
					return -1;
			} else if (errno != EEXIST) {
				return -1;
			} else {
				struct stat st;
				if (stat(buf, &st) < 0)
					return -1;
				if (!S_ISDIR(st.st_mode)) {
					errno = ENOTDIR;
					return -1;
				}
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static unsigned tmp_counter;

/*
 * How much of a base name goes into its temporary name: ".NAME.tmp.PID.N" must fit
 * NAME_MAX too, so a long NAME (a 241-byte staged name plus ".torrent") is cut, on a
 * UTF-8 boundary, leaving room for the longest ".tmp.PID.N".  The sweep uses the same rule.
 */
#define TMP_SUFFIX_MAX	(1 + 5 + 20 + 1 + 10)	/* ".", ".tmp.", pid, ".", counter */

static size_t
tmp_base_len(const char *base, size_t bl)
{
	if (bl <= NAME_MAX - TMP_SUFFIX_MAX)
		return bl;
	bl = NAME_MAX - TMP_SUFFIX_MAX;
	while (bl > 0 && ((unsigned char)base[bl] & 0xC0) == 0x80)
		bl--;
	return bl;
}

int
mf_is_atomic_tmp(const char *name)
{
	return name[0] == '.' && strstr(name, ".tmp.") != NULL;
}

/*
 * 1 when no process pid runs: none has it, or it is a zombie (killed and not yet reaped,
 * which under a container's init can last): what it left is stale.
 */
static int
pid_gone(long pid)
{
	char p[64], buf[512];
	const char *rp;
	ssize_t n;
	int fd;

	if (kill((pid_t)pid, 0) < 0)
		return errno == ESRCH;
	snprintf(p, sizeof p, "/proc/%ld/stat", pid);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf);
	close(fd);
	/* "pid (comm) state ...": comm may hold ") ", so the last one ends it */
	if (n <= 0 || !(rp = memrchr(buf, ')', (size_t)n)) || rp + 2 >= buf + n)
		return 0;
	return rp[2] == 'Z';
}

void
mf_atomic_sweep(const char *path)
{
	char *dir = strdup(path), *slash, *base;
	struct dirent *de;
	size_t bl;
	DIR *d;

	if (!dir)
		return;
	slash = strrchr(dir, '/');
	base = slash ? slash + 1 : dir;
	bl = tmp_base_len(base, strlen(base));
	if (slash)
		*slash = '\0';
	if ((d = opendir(slash ? (*dir ? dir : "/") : "."))) {
		while ((de = readdir(d))) {
			const char *nm = de->d_name;
			long pid;

			if (nm[0] != '.' || strncmp(nm + 1, base, bl) != 0 ||
			    strncmp(nm + 1 + bl, ".tmp.", 5) != 0)
				continue;
			pid = strtol(nm + bl + 6, NULL, 10);
			/* A live writer's file is left alone. */
			if (pid > 0 && pid_gone(pid))
				unlinkat(dirfd(d), nm, 0);
		}
		closedir(d);
	}
	free(dir);
}

int
mf_atomic_open(const char *path, mode_t mode, char *tmp, size_t tmpsz)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	int fd, n;

	n = snprintf(tmp, tmpsz, "%.*s.%.*s.tmp.%ld.%u", dirlen, path,
	    (int)tmp_base_len(base, strlen(base)), base, (long)getpid(),
	    __atomic_fetch_add(&tmp_counter, 1, __ATOMIC_RELAXED));
	if (n < 0 || (size_t)n >= tmpsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd >= 0 && owned() && fchown(fd, own_uid, own_gid) < 0) {
		mf_atomic_abort(fd, tmp);
		return -1;
	}
	return fd;
}

void
mf_atomic_abort(int fd, const char *tmp)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
}

int
mf_atomic_commit(int fd, const char *tmp, const char *path)
{
	if (fsync(fd) < 0) {
		mf_atomic_abort(fd, tmp);
		return -1;
	}
	if (close(fd) < 0) {
		mf_atomic_abort(-1, tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		mf_atomic_abort(-1, tmp);
		return -1;
	}
	return mf_fsync_dir(path);
}

int
mf_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd = mf_atomic_open(path, mode, tmp, sizeof tmp);

	if (fd < 0)
		return -1;
	if (mf_write_all(fd, data, len) < 0) {
		mf_atomic_abort(fd, tmp);
		return -1;
	}
	return mf_atomic_commit(fd, tmp, path);
}

char *
mf_read_file(const char *path, size_t max, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return NULL;
	if (!(buf = malloc(cap + 1))) {
		close(fd);
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		len += r;
	}
	close(fd);
	if (len > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

/* realpath of path, or of its deepest existing ancestor with the rest appended. */
static int
resolve(const char *path, char *out)
{
	char buf[PATH_MAX], rest[PATH_MAX] = "";

	if (strlen(path) >= sizeof buf)
		return -1;
	strcpy(buf, path);
	for (;;) {
		if (realpath(buf, out)) {
			size_t n = strlen(out);
			if (n + strlen(rest) >= PATH_MAX)
				return -1;
			strcpy(out + n, rest);
			return 0;
		}
		if (errno != ENOENT)
			return -1;
		char *slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return -1;
		/* A missing component named ".." could climb out: refuse it. */
		if (strcmp(slash, "/..") == 0)
			return -1;
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof tmp, "%s%s", slash, rest);
		strcpy(rest, tmp);
		*slash = '\0';
	}
}

/* 1 when the resolved path rp is the resolved root rr or below it, on a path boundary. */
static int
under(const char *rp, const char *rr)
{
	size_t n = strlen(rr);

	if (n == 1)	/* root is "/" */
		return 1;
	return strncmp(rp, rr, n) == 0 && (rp[n] == '\0' || rp[n] == '/');
}

int
mf_path_inside(const char *path, const char *root)
{
	char rp[PATH_MAX], rr[PATH_MAX];

	if (resolve(path, rp) < 0 || !realpath(root, rr))
		return -1;
	return under(rp, rr);
}

int
mf_relpath_safe(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/')
		return 0;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
		if (e && !*p)
			return 0;	/* trailing slash */
	}
	return 1;
}

void
mf_fid_of(const struct stat *st, struct mf_fid *id)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
}

int
mf_opendir_at(int dirfd, const char *rel)
{
	char comp[NAME_MAX + 1];
	int cur = dirfd, fd, e;

	if (*rel == '\0')
		return openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!mf_relpath_safe(rel)) {
		errno = EINVAL;
		return -1;
	}
	while (*rel) {
		size_t n = strcspn(rel, "/");

		if (n > NAME_MAX) {
			fd = -1;
			errno = ENAMETOOLONG;
		} else {
			memcpy(comp, rel, n);
			comp[n] = '\0';
			fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		e = errno;
		if (cur != dirfd)
			close(cur);
		if (fd < 0) {
			errno = e;
			return -1;
		}
		cur = fd;
		rel += n;
		if (*rel == '/')
			rel++;
	}
	return cur;
}

int
mf_open_at(int dirfd, const char *rel, const struct mf_fid *want, struct stat *stp)
{
	const char *slash = strrchr(rel, '/'), *name = slash ? slash + 1 : rel;
	struct stat st;
	int parent = dirfd, fd, e, fl;

	if (!mf_relpath_safe(rel)) {
		errno = EINVAL;
		return -1;
	}
	if (slash) {
		char dir[PATH_MAX];

		if ((size_t)(slash - rel) >= sizeof dir) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, rel, (size_t)(slash - rel));
		dir[slash - rel] = '\0';
		if ((parent = mf_opendir_at(dirfd, dir)) < 0)
			return -1;
	}
	/* O_NONBLOCK: a FIFO put where a file was must not hang the open. */
	fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	e = errno;
	if (parent != dirfd)
		close(parent);
	if (fd < 0) {
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || (want && (st.st_dev != want->dev || st.st_ino != want->ino))) {
		errno = want ? ESTALE : EINVAL;
		goto fail;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		goto fail;
	if (stp)
		*stp = st;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
mf_replaced_errno(int e)
{
	return e == ELOOP || e == ESTALE || e == ENOTDIR;
}

char *
mf_realpath_at(int fd, const char *name)
{
	char p[PATH_MAX];
	int n = snprintf(p, sizeof p, "/proc/self/fd/%d%s%s", fd, name && *name ? "/" : "",
	    name ? name : "");

	if (n < 0 || (size_t)n >= sizeof p) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return realpath(p, NULL);
}

int
mf_fd_inside(int fd, const char *root)
{
	char rr[PATH_MAX], *rp = mf_realpath_at(fd, NULL);
	int r;

	if (!rp)
		return -1;
	r = realpath(root, rr) ? under(rp, rr) : -1;
	free(rp);
	return r;
}
