/* mf-torrent: make the .torrent for each staged folder (filter), for one path, check data
 * against a torrent, or rewrite a torrent's keys without its data. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "torrentcmd.h"

static struct mf_topts opts;
static char *webseeds;		/* the --web-seed URLs, separated by spaces */

/* The flags that pick a mode, and the keys a flag gives over the configuration. */
static struct {
	const char	*output, *check_torrent, *modify_torrent, *source, *comment;
	int		private, dry_run, check_announce;
} fl = { .private = -1 };

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: mf-torrent [-hV] [options] < records\n"
	    "       mf-torrent [options] [--name NAME] PATH [-o FILE]\n"
	    "       mf-torrent [-j N] [--progress] --check TORRENT PATH\n"
	    "       mf-torrent --modify TORRENT [-o FILE] [--dry-run] [keys] [--name NAME]\n"
	    "       mf-torrent --check-announce\n"
	    "options: [-l EXP] [-m EXP] [-j N] [--exclude GLOB]... [--force] [--verify]\n"
	    "         [--progress] [keys]\n"
	    "keys:    [-s SOURCE] [-p | --public] [-c TEXT] [-w URL]... [-e] [--no-creator]\n"
	    "         [--no-date]\n");
	exit(code);
}

static int
num_opt(const char *s, const char *what, int lo, int hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		mf_warnx("%s must be a number from %d to %d, not \"%s\"", what, lo, hi, s);
		usage(stderr, EX_USAGE);
	}
	return (int)v;
}

/* Add one --web-seed URL ("" adds none, but counts as given). */
static void
add_webseed(const char *url)
{
	char *nw;

	if (url[strcspn(url, " \t\r\n")]) {
		mf_warnx("--web-seed takes one URL, without white space, not \"%s\"", url);
		usage(stderr, EX_USAGE);
	}
	if (asprintf(&nw, "%s%s%s", webseeds ? webseeds : "", webseeds && *url ? " " : "",
	    url) < 0)
		mf_errx(EX_OSERR, "out of memory");
	free(webseeds);
	webseeds = nw;
}

/* --name: a plain name, or exit 64. */
static const char *
name_opt(const char *s)
{
	if (!mf_plain_name(s)) {
		mf_warnx("--name must be a plain file or folder name (no '/', not . "
		    "or ..), not \"%s\"", s);
		usage(stderr, EX_USAGE);
	}
	return s;
}

/* --private (c 'p') or --public, unless the other was given. */
static void
private_opt(int c)
{
	if (fl.private == (c == 'p' ? 0 : 1)) {
		mf_warnx("--private and --public contradict each other");
		usage(stderr, EX_USAGE);
	}
	fl.private = c == 'p';
}

enum {
	O_EXCLUDE = 256, O_FORCE, O_VERIFY, O_PROGRESS, O_CHECK, O_NAME, O_PUBLIC,
	O_NOCREATOR, O_MODIFY, O_DRYRUN, O_CHECK_ANNOUNCE
};

/* Parse the flags into opts, webseeds and fl; the index of the first operand. */
static int
parse_flags(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "output", required_argument, NULL, 'o' },
		{ "piece-length", required_argument, NULL, 'l' },
		{ "max-piece-length", required_argument, NULL, 'm' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "source", required_argument, NULL, 's' },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "no-date", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, O_FORCE },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "check", required_argument, NULL, O_CHECK },
		{ "check-announce", no_argument, NULL, O_CHECK_ANNOUNCE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "comment", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, O_NAME },
		{ "web-seed", required_argument, NULL, 'w' },
		{ "private", no_argument, NULL, 'p' },
		{ "public", no_argument, NULL, O_PUBLIC },
		{ "no-creator", no_argument, NULL, O_NOCREATOR },
		{ "entropy", no_argument, NULL, 'e' },
		{ "modify", required_argument, NULL, O_MODIFY },
		{ "dry-run", no_argument, NULL, O_DRYRUN },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "hVo:l:m:j:s:dvc:w:pe", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case 'V': mf_print_version(); exit(0);
		case 'o': fl.output = optarg; break;
		case 'l': opts.exp = num_opt(optarg, "-l (piece length exponent)", 16, 27); break;
		case 'm': opts.max_exp = num_opt(optarg, "--max-piece-length", 14, 27); break;
		case 'j': opts.jobs = num_opt(optarg, "-j (workers)", 1, 32); break;
		case 's': fl.source = optarg; break;
		case O_EXCLUDE: mf_topts_add_excludes(&opts, optarg); break;
		case 'd': opts.no_date = 1; break;
		case O_FORCE: opts.force = 1; break;
		case O_VERIFY: opts.verify = 1; break;
		case O_PROGRESS: opts.progress = 1; break;
		case O_CHECK: fl.check_torrent = optarg; break;
		case O_CHECK_ANNOUNCE: fl.check_announce = 1; break;
		case 'v': mf_verbose++; break;
		case 'c': fl.comment = optarg; break;
		case O_NAME: opts.name = name_opt(optarg); break;
		case 'w': add_webseed(optarg); break;
		case 'p': case O_PUBLIC: private_opt(c); break;
		case O_NOCREATOR: opts.no_creator = 1; break;
		case 'e': opts.entropy = 1; break;
		case O_MODIFY: fl.modify_torrent = optarg; break;
		case O_DRYRUN: fl.dry_run = 1; break;
		default: usage(stderr, EX_USAGE);
		}
	}
	return optind;
}

/* --modify: only the keys, nothing that reads the data or walks a folder. */
static int
modify(int argc)
{
	char *announce;
	long nannounce;
	int rc;

	if (argc != 0 || opts.exp || opts.max_exp || opts.jobs || opts.nexclude ||
	    opts.force || opts.verify || opts.progress || fl.check_announce ||
	    (!fl.output && strcmp(fl.modify_torrent, "-") == 0))
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;
	/* What no flag names stays as it is in the torrent; the announce is the
	 * configuration's when it has one. */
	opts.source = fl.source;
	opts.private = fl.private;
	opts.comment = fl.comment;
	opts.webseeds = webseeds;
	announce = mf_announce_urls(&nannounce);
	opts.announce = announce;
	rc = mf_torrentcmd_modify(fl.modify_torrent, fl.output, &opts, fl.dry_run);
	mf_secret_free(announce);
	return rc;
}

int
main(int argc, char **argv)
{
	char *announce;
	long nannounce;
	int rc;

	mf_setprog(argv[0]);
	rc = parse_flags(argc, argv);
	argc -= rc;
	argv += rc;
	if (fl.check_torrent) {
		if (argc != 1 || fl.output || fl.modify_torrent || fl.dry_run)
			usage(stderr, EX_USAGE);
		return mf_torrentcmd_check(fl.check_torrent, argv[0], opts.jobs, opts.progress);
	}
	if (fl.modify_torrent)
		return modify(argc);
	if (argc > 1 || (argc == 0 && fl.output) || fl.dry_run || (argc == 0 && opts.name) ||
	    (fl.check_announce && (argc || fl.output)))
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;
	/* A flag wins over the configuration, an empty one too (it takes the key out). */
	opts.source = fl.source ? fl.source : mf_config_get("MF_SOURCE");
	opts.private = fl.private >= 0 ? fl.private : mf_config_bool("MF_PRIVATE", 1);
	opts.comment = fl.comment ? fl.comment : mf_config_get("MF_COMMENT");
	opts.webseeds = webseeds ? webseeds : mf_config_get("MF_WEB_SEEDS");
	/* The passkey only ever comes from the environment or the configuration file. */
	announce = mf_announce_urls(&nannounce);
	opts.announce = announce;
	if (fl.check_announce) {
		/* For `mamfast check`: the URLs are well formed (never printed). */
		mf_secret_free(announce);
		if (nannounce == 0)
			mf_errx(EX_CONFIG, "MF_ANNOUNCE_URL is not set (nor MF_ANNOUNCE_URL_FILE)");
		printf("%ld announce URL%s well formed\n", nannounce, nannounce == 1 ? "" : "s");
		return 0;
	}
	rc = argc == 1 ? mf_torrentcmd_make(argv[0], fl.output, &opts) :
	    mf_torrentcmd_filter(&opts);
	mf_secret_free(announce);
	return rc;
}
