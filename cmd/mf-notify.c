/* mf-notify: tell a webhook or a command what a run made and what failed (mf-notify(1)). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "notify.h"

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: mf-notify [-hnqVv] [--dry-run] [--test] [--format FORMAT] [--cmd COMMAND]\n"
	    "                 [--timeout SECONDS] [--attempts N] < records\n");
	exit(code);
}

/*
 * The secrets a record must never carry out: the announce URL and its passkey (any path
 * part of 16 characters or more), the qBittorrent password and API key.
 */
static size_t
secrets(char **out, size_t max)
{
	char *announce = mf_config_secret("MF_ANNOUNCE_URL", "MF_ANNOUNCE_URL_FILE");
	size_t n = 0;

	if (announce) {
		char *p = strstr(announce, "://"), *seg, *save = NULL, *copy;

		out[n++] = announce;
		copy = strdup(p ? p + 3 : announce);
		for (seg = copy ? strtok_r(copy, "/?&=", &save) : NULL; seg && n < max - 2;
		    seg = strtok_r(NULL, "/?&=", &save))
			if (strlen(seg) >= 16 && (out[n] = strdup(seg)))
				n++;
		mf_secret_free(copy);
	}
	if ((out[n] = mf_config_secret("MF_QBT_PASS", "MF_QBT_PASS_FILE")))
		n++;
	if (n < max && (out[n] = mf_config_secret("MF_QBT_API_KEY", NULL)))
		n++;
	return n;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "test", no_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "format", required_argument, NULL, 'F' },
		{ "cmd", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'O' },
		{ "attempts", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	struct mf_notify r;
	enum mf_notify_fmt fmt = MF_NOTIFY_JSON;
	char *url, *sec[16], *line = NULL, err[600];
	const char *fname, *cmd;
	size_t nsec, cap = 0;
	ssize_t len;
	double timeout;
	int c, rc, attempts, dry = 0, test = 0;

	mf_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "hnqVv", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case 'V': mf_print_version(); return 0;
		case 'n': dry = 1; break;
		case 't': test = 1; break;
		case 'q': mf_verbose = -1; break;
		case 'v': mf_verbose++; break;
		case 'F': mf_config_set("MF_NOTIFY_FORMAT", optarg); break;
		case 'C': mf_config_set("MF_NOTIFY_CMD", optarg); break;
		case 'O': mf_config_set("MF_NOTIFY_TIMEOUT", optarg); break;
		case 'A': mf_config_set("MF_NOTIFY_ATTEMPTS", optarg); break;
		default: usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;
	url = mf_config_secret("MF_NOTIFY_URL", NULL);
	if (url && ((strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) ||
	    strpbrk(url, " \t\r\n"))) {
		mf_secret_free(url);
		mf_errx(EX_CONFIG, "MF_NOTIFY_URL: not an http:// or https:// URL (the value is "
		    "not shown: a webhook URL holds its token)");
	}
	if ((fname = mf_config_get("MF_NOTIFY_FORMAT"))) {
		if (mf_notify_fmt_parse(fname, &fmt) < 0)
			mf_errx(EX_CONFIG, "MF_NOTIFY_FORMAT=%s: expected discord, ntfy, slack or "
			    "json", fname);
	} else if (url) {
		fmt = mf_notify_fmt_guess(url);
	}
	timeout = mf_config_seconds("MF_NOTIFY_TIMEOUT", 10);
	attempts = (int)mf_config_long("MF_NOTIFY_ATTEMPTS", 3, 1, 10);
	cmd = mf_config_get("MF_NOTIFY_CMD");

	nsec = secrets(sec, sizeof sec / sizeof sec[0]);
	mf_notify_init(&r, (const char *const *)sec, nsec);
	r.test = test;
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (mf_notify_line(&r, line, (size_t)len) < 0)
			mf_errx(EX_OSERR, "out of memory");
	}
	free(line);
	if (ferror(stdin))
		mf_err(EX_IOERR, "standard input");
	rc = 0;
	if (!mf_notify_due(&r)) {
		mf_info("nothing new and nothing failed: no notification");
	} else if (dry) {
		const char *type;
		char *body = mf_notify_body(&r, fmt, &type);

		if (!body)
			mf_errx(EX_OSERR, "out of memory");
		if (printf("%s\n", body) < 0 || fflush(stdout) == EOF)
			rc = EX_IOERR;
		free(body);
	} else {
		/* A command that exits early must not kill us with SIGPIPE. */
		signal(SIGPIPE, SIG_IGN);
		if (url && (c = mf_notify_post(&r, url, fmt, timeout, attempts, err, sizeof err))) {
			mf_warnx("%s", err);
			rc = c;
		}
		if (cmd) {
			const char *type;
			char *body = mf_notify_body(&r, MF_NOTIFY_JSON, &type);

			if (!body)
				mf_errx(EX_OSERR, "out of memory");
			if ((c = mf_notify_run(cmd, body, timeout, err, sizeof err))) {
				mf_warnx("%s", err);
				rc = rc ? rc : c;
			}
			free(body);
		}
		if (!url && !cmd)
			mf_info("neither MF_NOTIFY_URL nor MF_NOTIFY_CMD is set: no notification");
	}
	mf_notify_free(&r);
	for (size_t i = 0; i < nsec; i++)
		mf_secret_free(sec[i]);
	mf_secret_free(url);
	return rc;
}
