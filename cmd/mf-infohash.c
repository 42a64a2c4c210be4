/* mf-infohash: print the infohash, file list or magnet link of .torrent files, or set
 * torrent.infohash on records. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <errno.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "record.h"
#include "tinfoprint.h"

/* Bigger than any sane torrent (a 100,000-file one is about 8 MB). */
#define MAX_TORRENT (512u * 1024 * 1024)

static int opt_v2, opt_json, opt_strict, opt_files, opt_magnet;

static void
usage(FILE *fp, int code)
{
	fprintf(fp, "usage: mf-infohash [-hV] [--v2] [--json] [--strict] FILE...\n"
	    "       mf-infohash --files | --magnet [--strict] FILE...\n"
	    "       mf-infohash --records [--strict] < records\n");
	exit(code);
}

/* Read and parse one torrent; on failure a message naming it is in msg. */
static int
load(const char *path, struct mf_tbuf *b, struct mf_tinfo *ti, char *msg, size_t msgsz)
{
	struct mf_berr err;

	if (mf_tbuf_read(path, MAX_TORRENT, b) < 0) {
		snprintf(msg, msgsz, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (mf_tinfo_parse(b->p, b->len, opt_strict ? MF_BENC_STRICT : 0, ti, &err) < 0) {
		snprintf(msg, msgsz, "%s: byte %zu: %s", path, err.off, err.msg);
		mf_tbuf_free(b);
		return -1;
	}
	return 0;
}

static enum mf_rec_result
handle(cJSON *rec, void *ctx)
{
	const char *path = mf_json_str(rec, "torrent.path");
	struct mf_tinfo ti;
	struct mf_tbuf buf;
	char msg[1024], hex[41];

	if (!path)
		return MF_REC_SKIP;
	if (mf_rec_paths_ok(rec, MF_RF_TORRENT, ctx, "torrent") != 0)
		return MF_REC_FAIL;
	if (load(path, &buf, &ti, msg, sizeof msg) < 0) {
		mf_rec_error(rec, "torrent", 0, "%s", msg);
		return MF_REC_FAIL;
	}
	mf_hex(ti.sha1, 20, hex);
	mf_json_put_str(mf_json_obj(rec, "torrent"), "infohash", hex);
	mf_tbuf_free(&buf);
	return MF_REC_OK;
}

/* Print one torrent in the form the flags ask for; 0, or -1 after saying why. */
static int
print_one(const char *path)
{
	struct mf_tinfo ti;
	struct mf_tbuf buf;
	char msg[1024], hex[65];
	int rc = 0;

	if (load(path, &buf, &ti, msg, sizeof msg) < 0) {
		mf_warnx("%s", msg);
		return -1;
	}
	if (opt_json || opt_files || opt_magnet) {
		int (*print)(const char *, struct mf_tinfo *, char *, size_t) =
		    opt_json ? mf_tinfo_print_json : opt_files ? mf_tinfo_print_files :
		    mf_tinfo_print_magnet;

		if (print(path, &ti, msg, sizeof msg) < 0) {
			mf_warnx("%s", msg);
			rc = -1;
		}
	} else {
		mf_hex(ti.sha1, 20, hex);
		printf("%s  %s\n", hex, path);
		if (opt_v2)
			mf_tinfo_v2(&ti);
		if (ti.v2) {
			mf_hex(ti.sha256, 32, hex);
			printf("%s  %s\n", hex, path);
		}
	}
	mf_tbuf_free(&buf);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "v2", no_argument, &opt_v2, 1 },
		{ "json", no_argument, &opt_json, 1 },
		{ "strict", no_argument, &opt_strict, 1 },
		{ "files", no_argument, &opt_files, 1 },
		{ "magnet", no_argument, &opt_magnet, 1 },
		{ "records", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	int c, i, records = 0, rc = 0;

	mf_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 0:
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			mf_print_version();
			return 0;
		case 'r':
			records = 1;
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (records) {
		struct mf_roots roots = { 0 };
		struct mf_stream_ops ops = { .record = handle, .ctx = &roots };

		if (argc > 0 || opt_json || opt_v2 || opt_files || opt_magnet)
			usage(stderr, EX_USAGE);
		if ((rc = mf_config_load()) != 0)
			return rc;
		/* torrent.path is read only inside MF_OUT_DIR, when it is set. */
		roots.out_dir = mf_config_get("MF_OUT_DIR");
		return mf_stream_run(STDIN_FILENO, stdout, &ops);
	}
	/* One way of printing at a time. */
	if (argc == 0 || opt_json + opt_files + opt_magnet > 1 ||
	    (opt_v2 && (opt_files || opt_magnet)))
		usage(stderr, EX_USAGE);
	for (i = 0; i < argc; i++)
		if (print_one(argv[i]) != 0)
			rc = EX_DATAERR;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mf_warn("cannot write output");
		return EX_IOERR;
	}
	return rc;
}
