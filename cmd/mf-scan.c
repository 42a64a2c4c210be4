/* mf-scan: find the releases of a Libation library and write one record each. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "scan.h"

static void
usage(FILE *fp, int code)
{
	fprintf(fp, "usage: mf-scan [-hqvV] [--depth N] [LIBRARY...]\n");
	exit(code);
}

/* An absolute path without trailing slashes (not resolved: records keep the user's path). */
static char *
absolute(const char *p)
{
	char cwd[PATH_MAX], *s;
	size_t n;

	if (p[0] == '/')
		s = strdup(p);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			mf_err(EX_OSERR, "cannot find the current folder");
		if ((s = malloc(strlen(cwd) + strlen(p) + 2)) != NULL)
			sprintf(s, "%s/%s", cwd, p);
	}
	if (s == NULL)
		mf_errx(EX_OSERR, "out of memory");
	for (n = strlen(s); n > 1 && s[n - 1] == '/'; n--)
		s[n - 1] = '\0';
	while ((n = strlen(s)) > 2 && strcmp(s + n - 2, "/.") == 0)
		s[n - 2] = '\0';
	return s;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "depth", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct mf_scan_opts o = { 5, stdout };
	struct mf_scan_stats st = { 0, 0, 0 };
	const char *lib;
	char *end, *root;
	int c, rc, worst = 0, i;
	long d;

	mf_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "d:hqvV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			d = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || d < 1 || d > 64)
				usage(stderr, EX_USAGE);
			o.depth = (int)d;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'q':
			mf_verbose = -1;
			break;
		case 'v':
			mf_verbose++;
			break;
		case 'V':
			mf_print_version();
			return 0;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	if ((rc = mf_config_load()) != 0)
		return rc;
	if (optind == argc) {
		if ((lib = mf_config_get("MF_LIBRARY")) == NULL) {
			mf_warnx("no library: give one as an argument or set MF_LIBRARY");
			return EX_CONFIG;
		}
		root = absolute(lib);
		if ((rc = mf_scan_library(root, &o, &st)) != 0)
			worst = rc == EX_NOINPUT ? EX_CONFIG : rc;
		free(root);
	}
	for (i = optind; i < argc && worst != EX_IOERR; i++) {
		root = absolute(argv[i]);
		if ((rc = mf_scan_library(root, &o, &st)) != 0 && worst == 0)
			worst = rc;
		free(root);
	}
	mf_debug("%ld releases, %ld with errors, %ld folders skipped", st.releases, st.failed,
	    st.skipped);
	if (worst == EX_IOERR)
		mf_warnx("cannot write the records to standard output");
	if (worst != 0)
		return worst;
	return st.failed > 0 ? 1 : 0;
}
