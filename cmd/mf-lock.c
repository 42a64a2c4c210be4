/* mf-lock: run a program while holding the run lock, so two runs never overlap (mf-lock(1)). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "lock.h"
#include "log.h"

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: mf-lock [-hV] [-f LOCKFILE] [-w SECONDS] [--no-run-lock] -- PROG [ARGS...]\n"
	    "       mf-lock [-f LOCKFILE] --status\n");
	exit(code);
}

/* Exit 0 when nobody holds the lock, 75 when a run does (and say which). */
static int
status(const char *path)
{
	char who[512];
	int fd = mf_lock_open(path, 0);

	if (fd < 0) {
		if (errno != ENOENT)
			mf_err(EX_IOERR, "%s", path);
		printf("free: no run holds %s\n", path);
		return 0;
	}
	/* A shared probe: it never blocks a run for longer than this call. */
	if (mf_lock_take(fd, 0, 0) == 0) {
		mf_lock_release(fd);
		printf("free: no run holds %s\n", path);
		return 0;
	}
	if (errno != EWOULDBLOCK)
		mf_err(EX_IOERR, "%s", path);
	mf_lock_holder(fd, who, sizeof who);
	printf("held: a run holds %s (%s)\n", path, who);
	return EX_TEMPFAIL;
}

static noreturn void
run(char **argv)
{
	execvp(argv[0], argv);
	mf_err(errno == ENOENT ? 127 : 126, "cannot run %s", argv[0]);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "file", required_argument, NULL, 'f' },
		{ "wait", required_argument, NULL, 'w' },
		{ "no-run-lock", no_argument, NULL, 'n' },
		{ "status", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	char path[PATH_MAX], who[512], *end;
	const char *file = NULL;
	double wait = 0;
	int c, rc, nolock = 0, want_status = 0, fd;

	mf_setprog(argv[0]);
	/* '+': stop at PROG, so its own flags are left alone. */
	while ((c = getopt_long(argc, argv, "+hVf:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case 'V': mf_print_version(); return 0;
		case 'f': file = optarg; break;
		case 'w':
			errno = 0;
			wait = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(wait >= 0 && wait <= 1e7)) {
				mf_warnx("-w %s: not a number of seconds", optarg);
				usage(stderr, EX_USAGE);
			}
			break;
		case 'n': nolock = 1; break;
		case 's': want_status = 1; break;
		default: usage(stderr, EX_USAGE);
		}
	}
	argv += optind;
	argc -= optind;
	if (want_status ? argc != 0 : argc == 0)
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;
	if (!file) {
		const char *dir = mf_config_get("MF_STATE_DIR");

		if (!dir)
			mf_errx(EX_CONFIG, "MF_STATE_DIR is not set: give -f LOCKFILE");
		if (!want_status && !nolock && mf_mkdir_p(dir, MF_DIR_MODE) < 0)
			mf_err(EX_IOERR, "cannot create %s", dir);
		/* Cut short, the name would lock some other file and guard nothing. */
		if ((size_t)snprintf(path, sizeof path, "%s/run.lock", dir) >= sizeof path)
			mf_errx(EX_CONFIG, "MF_STATE_DIR is too long for run.lock (%zu bytes): "
			    "give -f LOCKFILE", strlen(dir));
		file = path;
	}
	if (want_status)
		return status(file);
	if (nolock) {
		mf_warnx("--no-run-lock: running %s without the run lock; "
		    "concurrent runs can corrupt work", argv[0]);
		run(argv);
	}
	if ((fd = mf_lock_open(file, 1)) < 0)
		mf_err(EX_IOERR, "cannot open the lock file %s", file);
	if (mf_lock_take(fd, 1, wait) < 0) {
		if (errno != EWOULDBLOCK)
			mf_err(EX_IOERR, "cannot lock %s", file);
		mf_lock_holder(fd, who, sizeof who);
		mf_errx(EX_TEMPFAIL, "another run holds %s (%s)", file, who);
	}
	/* Our pid is PROG's after exec; a read-only lock file just stays without it. */
	if (mf_lock_write_holder(fd) < 0)
		mf_debug("cannot record the holder in %s: %s", file, strerror(errno));
	/* PROG and its children inherit the locked descriptor: the lock lives as long as they do. */
	if (fcntl(fd, F_SETFD, 0) < 0)
		mf_err(EX_OSERR, "%s", file);
	run(argv);
}
