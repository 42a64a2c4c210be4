/* mf-torrent: make the .torrent for each staged folder (filter), for one path, check data
 * against a torrent, or rewrite a torrent's keys without its data. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "metainfo.h"
#include "record.h"
#include "torrent.h"
#include "url.h"

static struct mf_topts opts;
static const char *out_dir;
static char *webseeds;		/* the --web-seed URLs, separated by spaces */

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

/* Add the globs of one --exclude value: split on commas outside {}. */
static void
add_excludes(const char *v)
{
	const char *p = v, *q;
	int level = 0;

	for (q = v;; q++) {
		if (*q == '{')
			level++;
		else if (*q == '}' && level > 0)
			level--;
		if (*q == 0 || (*q == ',' && level == 0)) {
			if (q > p) {
				char **nx = realloc(opts.exclude, (opts.nexclude + 1) * sizeof *nx);

				if (!nx || !(nx[opts.nexclude] = strndup(p, (size_t)(q - p))))
					mf_errx(EX_OSERR, "out of memory");
				opts.exclude = nx;
				opts.nexclude++;
			}
			if (*q == 0)
				break;
			p = q + 1;
		}
	}
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

/* FILE with ".torrent" added when it is missing, as mkbrr does. */
static char *
torrent_file(const char *path)
{
	size_t n = strlen(path);
	char *s;

	if (asprintf(&s, "%s%s", path,
	    n >= 8 && strcmp(path + n - 8, ".torrent") == 0 ? "" : ".torrent") < 0)
		mf_errx(EX_OSERR, "out of memory");
	return s;
}

/* 1 when name can be a single folder or file name. */
static int
plain_name(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static void
put_result(cJSON *t, const char *path, const struct mf_tresult *r)
{
	mf_json_put_str(t, "path", path);
	mf_json_put_str(t, "infohash", r->infohash);
	mf_json_put_num(t, "piece_length", (double)r->piece_length);
	mf_json_put_num(t, "pieces", (double)r->pieces);
	mf_json_put_num(t, "size", (double)r->size);
	mf_json_put_num(t, "file_count", (double)r->file_count);
	mf_json_put_bool(t, "reused", r->reused);
}

static enum mf_rec_result
handle(cJSON *rec, void *ctx)
{
	const char *dir = mf_json_str(rec, "staging.dir");
	const char *name = mf_json_str(rec, "staging.name");
	struct mf_tresult r;
	char err[2048], *out;
	size_t n;

	if (!dir)
		return MF_REC_SKIP;
	if (mf_rec_paths_ok(rec, MF_RF_STAGING, ctx, "torrent") != 0)
		return MF_REC_FAIL;
	if (!name) {
		const char *s = strrchr(dir, '/');

		name = s && s[1] ? s + 1 : dir;
	}
	if (!plain_name(name)) {
		mf_rec_error(rec, "torrent", 0, "staging.name is not a plain folder name");
		return MF_REC_FAIL;
	}
	n = strlen(out_dir) + 2 * strlen(name) + 16;
	if (!(out = malloc(n)))
		mf_errx(EX_OSERR, "out of memory");
	snprintf(out, n, "%s/%s/%s.torrent", out_dir, name, name);
	if (mf_torrent_make(dir, out, &opts, &r, err, sizeof err) < 0) {
		mf_rec_error(rec, "torrent", r.retryable, "%s", err);
		free(out);
		return MF_REC_FAIL;
	}
	if (r.reused)
		mf_debug("%s: reusing %s", mf_rec_id(rec), out);
	put_result(mf_json_obj(rec, "torrent"), out, &r);
	free(out);
	return MF_REC_OK;
}

/*
 * MF_ANNOUNCE_URL, else the whole of MF_ANNOUNCE_URL_FILE: one URL a line gives
 * announce-list as white space does in MF_ANNOUNCE_URL (mf_config_secret keeps one line).
 * Every URL is checked (lib/url): exit 78 naming the key, and the file's line, never the
 * value (its path is the passkey).  *n gets the number of URLs.
 */
static char *
announce_urls(long *n)
{
	const char *path = mf_config_get("MF_ANNOUNCE_URL_FILE");
	char why[200], *s;
	size_t len, line;

	*n = 0;
	if (mf_config_get("MF_ANNOUNCE_URL") || !path) {
		if (!(s = mf_config_secret("MF_ANNOUNCE_URL", NULL)))
			return NULL;
		if ((*n = mf_announce_check(s, strlen(s), 0, NULL, why, sizeof why)) < 0) {
			mf_secret_free(s);
			mf_errx(EX_CONFIG, "MF_ANNOUNCE_URL: %s (the value is not shown: it holds "
			    "the passkey)", why);
		}
		return s;
	}
	if (!(s = mf_read_file(path, 1 << 16, &len)))
		mf_err(EX_CONFIG, "MF_ANNOUNCE_URL_FILE %s", path);
	if ((*n = mf_announce_check(s, len, 1, &line, why, sizeof why)) < 0) {
		mf_secret_free(s);
		if (line == 0)
			mf_errx(EX_CONFIG, "MF_ANNOUNCE_URL_FILE %s: %s (the file is empty?)", path,
			    why);
		mf_errx(EX_CONFIG, "MF_ANNOUNCE_URL_FILE %s line %zu: %s (the line is not shown: "
		    "it holds the passkey)", path, line, why);
	}
	return s;
}

static int
check(const char *torrent, const char *path)
{
	struct mf_tinfo ti;
	struct mf_berr berr;
	struct mf_check res;
	struct mf_tbuf buf;
	char err[2048];
	size_t i;
	int rc;

	if (mf_tbuf_read(torrent, 512u << 20, &buf) < 0) {
		mf_warn("cannot read %s", torrent);
		return EX_DATAERR;
	}
	if (mf_tinfo_parse(buf.p, buf.len, 0, &ti, &berr) < 0) {
		mf_warnx("%s: byte %zu: %s", torrent, berr.off, berr.msg);
		mf_tbuf_free(&buf);
		return EX_DATAERR;
	}
	if (mf_torrent_check(&ti, path, opts.jobs, opts.progress, &res, err, sizeof err) < 0) {
		mf_warnx("%s: %s", torrent, err);
		mf_tbuf_free(&buf);
		return 1;
	}
	printf("Completion: %.2f%% (%zu/%zu pieces)\n",
	    res.npieces > res.missing ? 100.0 * res.good / (res.npieces - res.missing) : 0.0,
	    res.good, res.npieces);
	printf("Good pieces: %zu\nBad pieces: %zu\nMissing pieces: %zu\nMissing files: %zu\n",
	    res.good, res.bad, res.missing, res.nmissing_files);
	for (i = 0; i < res.bad && i < 20; i++)
		printf("bad piece %zu\n", res.bad_idx[i]);
	if (res.bad > 20)
		printf("bad pieces: %zu more not listed\n", res.bad - 20);
	for (i = 0; i < res.nmissing_files; i++) {
		char *d = mf_utf8_display(res.missing_files[i], strlen(res.missing_files[i]));

		printf("missing file %s\n", d);
		free(d);
	}
	rc = res.bad || res.missing || res.nmissing_files ? 1 : 0;
	if (rc)
		mf_warnx("%s: verification failed for %s", torrent, path);
	mf_check_free(&res);
	mf_tbuf_free(&buf);
	return rc;
}

static int
modify(const char *torrent, const char *output, int dry_run)
{
	struct mf_tresult r;
	char err[2048], *out = output ? torrent_file(output) : NULL;
	int rc;

	/* The report never shows the announce URLs: they hold the passkey. */
	rc = mf_meta_modify(torrent, out, &opts, dry_run,
	    dry_run ? stdout : mf_verbose ? stderr : NULL, &r, err, sizeof err);
	if (rc < 0) {
		mf_warnx("%s", err);
		free(out);
		return rc == -1 ? EX_DATAERR : 1;
	}
	if (dry_run) {
		if (!r.changed)
			printf("no change\n");
		printf("infohash: %s -> %s\n", r.old_infohash, r.infohash);
	} else {
		printf("%s  %s\n", r.infohash, out ? out : torrent);
	}
	free(out);
	return 0;
}

int
main(int argc, char **argv)
{
	enum {
		O_EXCLUDE = 256, O_FORCE, O_VERIFY, O_PROGRESS, O_CHECK, O_NAME, O_PUBLIC,
		O_NOCREATOR, O_MODIFY, O_DRYRUN, O_CHECK_ANNOUNCE
	};
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
	const char *output = NULL, *check_torrent = NULL, *source_flag = NULL;
	const char *comment_flag = NULL, *modify_torrent = NULL;
	char *announce;
	int c, rc, private_flag = -1, dry_run = 0, check_announce = 0;
	long nannounce;

	mf_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "hVo:l:m:j:s:dvc:w:pe", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			mf_print_version();
			return 0;
		case 'o':
			output = optarg;
			break;
		case 'l':
			opts.exp = num_opt(optarg, "-l (piece length exponent)", 16, 27);
			break;
		case 'm':
			opts.max_exp = num_opt(optarg, "--max-piece-length", 14, 27);
			break;
		case 'j':
			opts.jobs = num_opt(optarg, "-j (workers)", 1, 32);
			break;
		case 's':
			source_flag = optarg;
			break;
		case O_EXCLUDE:
			add_excludes(optarg);
			break;
		case 'd':
			opts.no_date = 1;
			break;
		case O_FORCE:
			opts.force = 1;
			break;
		case O_VERIFY:
			opts.verify = 1;
			break;
		case O_PROGRESS:
			opts.progress = 1;
			break;
		case O_CHECK:
			check_torrent = optarg;
			break;
		case O_CHECK_ANNOUNCE:
			check_announce = 1;
			break;
		case 'v':
			mf_verbose++;
			break;
		case 'c':
			comment_flag = optarg;
			break;
		case O_NAME:
			if (!plain_name(optarg)) {
				mf_warnx("--name must be a plain file or folder name (no '/', not . "
				    "or ..), not \"%s\"", optarg);
				usage(stderr, EX_USAGE);
			}
			opts.name = optarg;
			break;
		case 'w':
			add_webseed(optarg);
			break;
		case 'p':
		case O_PUBLIC:
			if (private_flag == (c == 'p' ? 0 : 1)) {
				mf_warnx("--private and --public contradict each other");
				usage(stderr, EX_USAGE);
			}
			private_flag = c == 'p';
			break;
		case O_NOCREATOR:
			opts.no_creator = 1;
			break;
		case 'e':
			opts.entropy = 1;
			break;
		case O_MODIFY:
			modify_torrent = optarg;
			break;
		case O_DRYRUN:
			dry_run = 1;
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (check_torrent) {
		if (argc != 1 || output || modify_torrent || dry_run)
			usage(stderr, EX_USAGE);
		return check(check_torrent, argv[0]);
	}
	if (modify_torrent) {
		/* Only the keys: nothing that reads the data or walks a folder. */
		if (argc != 0 || opts.exp || opts.max_exp || opts.jobs || opts.nexclude ||
		    opts.force || opts.verify || opts.progress || check_announce ||
		    (!output && strcmp(modify_torrent, "-") == 0))
			usage(stderr, EX_USAGE);
		if ((rc = mf_config_load()) != 0)
			return rc;
		/* What no flag names stays as it is in the torrent; the announce is the
		 * configuration's when it has one. */
		opts.source = source_flag;
		opts.private = private_flag;
		opts.comment = comment_flag;
		opts.webseeds = webseeds;
		announce = announce_urls(&nannounce);
		opts.announce = announce;
		rc = modify(modify_torrent, output, dry_run);
		mf_secret_free(announce);
		return rc;
	}
	if (argc > 1 || (argc == 0 && output) || dry_run || (argc == 0 && opts.name) ||
	    (check_announce && (argc || output)))
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;
	/* A flag wins over the configuration, an empty one too (it takes the key out). */
	opts.source = source_flag ? source_flag : mf_config_get("MF_SOURCE");
	opts.private = private_flag >= 0 ? private_flag : mf_config_bool("MF_PRIVATE", 1);
	opts.comment = comment_flag ? comment_flag : mf_config_get("MF_COMMENT");
	opts.webseeds = webseeds ? webseeds : mf_config_get("MF_WEB_SEEDS");
	/* The passkey only ever comes from the environment or the configuration file. */
	announce = announce_urls(&nannounce);
	opts.announce = announce;
	if (check_announce) {
		/* For `mamfast check`: the URLs are well formed (never printed). */
		mf_secret_free(announce);
		if (nannounce == 0)
			mf_errx(EX_CONFIG, "MF_ANNOUNCE_URL is not set (nor MF_ANNOUNCE_URL_FILE)");
		printf("%ld announce URL%s well formed\n", nannounce, nannounce == 1 ? "" : "s");
		return 0;
	}
	if (argc == 1) {
		struct mf_tresult r;
		char err[2048], *out;

		if (output) {
			out = torrent_file(output);
		} else {
			/* As mkbrr: ./<name>.torrent, --name's when given */
			char *name = opts.name ? strdup(opts.name) : mf_torrent_name(argv[0]);

			if (!name || asprintf(&out, "%s.torrent", name) < 0)
				mf_errx(1, "%s: cannot name a torrent after this path", argv[0]);
			free(name);
		}
		rc = 0;
		if (mf_torrent_make(argv[0], out, &opts, &r, err, sizeof err) < 0) {
			mf_warnx("%s", err);
			rc = 1;
		} else {
			printf("%s  %s\n", r.infohash, out);
		}
		free(out);
		mf_secret_free(announce);
		return rc;
	}
	out_dir = mf_config_require("MF_OUT_DIR");
	/* Only staged folders are hashed: the walk checks again on the folder it opened. */
	opts.within = mf_config_require("MF_SEED_ROOT");
	/* Paths in records are absolute (as mf-meta makes its own from a relative MF_OUT_DIR). */
	if (*out_dir != '/') {
		char cwd[PATH_MAX], *abs;

		if (!getcwd(cwd, sizeof cwd) || asprintf(&abs, "%s/%s", cwd, out_dir) < 0)
			mf_err(EX_OSERR, "MF_OUT_DIR %s: cannot make it absolute", out_dir);
		out_dir = abs;
	}
	{
		struct mf_roots roots = { NULL, opts.within, out_dir };
		struct mf_stream_ops ops = { .record = handle, .ctx = &roots };

		rc = mf_stream_run(STDIN_FILENO, stdout, &ops);
	}
	mf_secret_free(announce);
	return rc;
}
