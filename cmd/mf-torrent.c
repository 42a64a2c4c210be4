/* mf-torrent: make the .torrent for each staged folder (filter), for one path, or check
 * data against a torrent. */
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
#include "record.h"
#include "torrent.h"
#include "url.h"

static struct mf_topts opts;
static const char *out_dir;

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: mf-torrent [-hV] [options] < records\n"
	    "       mf-torrent [options] PATH [-o FILE]\n"
	    "       mf-torrent [-j N] [--progress] --check TORRENT PATH\n"
	    "       mf-torrent --check-announce\n"
	    "options: [-l EXP] [-m EXP] [-j N] [-s SOURCE] [--exclude GLOB]... [--no-date]\n"
	    "         [--force] [--verify] [--progress]\n");
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

int
main(int argc, char **argv)
{
	enum { O_EXCLUDE = 256, O_NODATE, O_FORCE, O_VERIFY, O_PROGRESS, O_CHECK, O_MAXPL,
	    O_CHECK_ANNOUNCE };
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
		{ NULL, 0, NULL, 0 }
	};
	const char *output = NULL, *check_torrent = NULL, *source_flag = NULL;
	char *announce;
	int c, rc, check_announce = 0;
	long nannounce;

	mf_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "hVo:l:m:j:s:dv", longopts, NULL)) != -1) {
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
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (check_torrent) {
		if (argc != 1 || output)
			usage(stderr, EX_USAGE);
		return check(check_torrent, argv[0]);
	}
	if (argc > 1 || (argc == 0 && output) || (check_announce && (argc || output)))
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;
	if (source_flag)
		mf_config_set("MF_SOURCE", source_flag);
	opts.source = mf_config_get("MF_SOURCE");
	if (!opts.source && !source_flag)
		opts.source = "MAM";
	opts.private = mf_config_bool("MF_PRIVATE", 1);
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
			size_t n = strlen(output);

			/* As mkbrr: ".torrent" is added when missing. */
			if (!(out = malloc(n + 9)))
				mf_errx(EX_OSERR, "out of memory");
			snprintf(out, n + 9, "%s%s", output,
			    n >= 8 && strcmp(output + n - 8, ".torrent") == 0 ? "" : ".torrent");
		} else {
			/* As mkbrr: ./<name>.torrent */
			char *name = mf_torrent_name(argv[0]);

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
