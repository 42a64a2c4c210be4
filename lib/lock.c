/* lock: flock(2) on lock files, with an optional wait and a record of who holds it. */
#include "lock.h"
#include "clock.h"
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int
mf_lock_open(const char *path, int create)
{
	int fd = create ? mf_create(path, O_RDWR | O_CLOEXEC, MF_FILE_MODE) :
	    open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 && (errno == EROFS || errno == EACCES || errno == EPERM))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

int
mf_lock_take(int fd, int exclusive, double wait)
{
	int op = exclusive ? LOCK_EX : LOCK_SH;
	double deadline = mf_now() + (wait > 0 ? wait : 0);

	if (wait < 0) {
		while (flock(fd, op) < 0)
			if (errno != EINTR)
				return -1;
		return 0;
	}
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (mf_now() >= deadline) {
			errno = EWOULDBLOCK;
			return -1;
		}
		/* Poll: flock has no timed wait, and a short nap keeps the wait cheap. */
		mf_sleep(0.05);
	}
}

int
mf_lock_release(int fd)
{
	return flock(fd, LOCK_UN);
}

int
mf_lock_write_holder(int fd)
{
	char host[256] = "?", when[32], buf[512];
	int n;

	if (gethostname(host, sizeof host - 1) < 0)
		snprintf(host, sizeof host, "?");
	host[sizeof host - 1] = '\0';
	mf_iso8601(time(NULL), when, sizeof when);
	n = snprintf(buf, sizeof buf, "pid %ld\nhost %s\nsince %s\n", (long)getpid(), host, when);
	if (n < 0 || (size_t)n >= sizeof buf)
		n = (int)strlen(buf);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, n, 0) != n)
		return -1;
	return 0;
}

long
mf_lock_holder(int fd, char *buf, size_t n)
{
	char raw[512], host[256] = "", when[64] = "";
	ssize_t r = pread(fd, raw, sizeof raw - 1, 0);
	long pid = 0;

	if (r < 0)
		r = 0;
	raw[r] = '\0';
	for (char *line = strtok(raw, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "pid ", 4) == 0)
			pid = strtol(line + 4, NULL, 10);
		else if (strncmp(line, "host ", 5) == 0)
			snprintf(host, sizeof host, "%s", line + 5);
		else if (strncmp(line, "since ", 6) == 0)
			snprintf(when, sizeof when, "%s", line + 6);
	}
	if (pid > 0)
		snprintf(buf, n, "pid %ld on %s since %s", pid, *host ? host : "?",
		    *when ? when : "?");
	else
		snprintf(buf, n, "unknown holder");
	return pid;
}
