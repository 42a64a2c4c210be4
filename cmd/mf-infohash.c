/* mf-infohash: print the infohash, file list or magnet link of .torrent files, or set
 * torrent.infohash on records. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <errno.h>

#include "config.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "record.h"
#include "torrent.h"

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

static void
put_bytes(cJSON *o, const char *key, const char *s, size_t n)
{
	char *d;

	if (!s) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	d = mf_utf8_display(s, n);
	mf_json_put_str(o, key, d);
	free(d);
}

static int
print_json(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz)
{
	struct mf_berr err;
	cJSON *o;
	char hex[65], *line;

	if (mf_tinfo_describe(ti, &err) < 0) {
		snprintf(msg, msgsz, "%s: byte %zu: %s", path, err.off, err.msg);
		return -1;
	}
	o = cJSON_CreateObject();
	put_bytes(o, "file", path, strlen(path));
	mf_hex(ti->sha1, 20, hex);
	mf_json_put_str(o, "infohash", hex);
	if (ti->v2) {
		mf_hex(ti->sha256, 32, hex);
		mf_json_put_str(o, "infohash_v2", hex);
	}
	put_bytes(o, "name", ti->name, ti->name_len);
	mf_json_put_num(o, "piece_length", (double)ti->piece_length);
	mf_json_put_num(o, "pieces", (double)ti->npieces);
	mf_json_put_num(o, "size", (double)ti->size);
	mf_json_put_num(o, "files", (double)ti->nfiles);
	mf_json_put_bool(o, "private", ti->private == 1);
	put_bytes(o, "source", ti->source, ti->source_len);
	/* The announce URL holds the passkey: it is never printed. */
	line = mf_json_line(o);
	printf("%s\n", line);
	free(line);
	cJSON_Delete(o);
	return 0;
}

/* Name, size and pieces of ti, for the printers below; the message names path. */
static int
describe(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz)
{
	struct mf_berr err;

	if (mf_tinfo_describe(ti, &err) < 0) {
		snprintf(msg, msgsz, "%s: byte %zu: %s", path, err.off, err.msg);
		return -1;
	}
	if (!ti->pieces) {
		snprintf(msg, msgsz, "%s: a v2-only torrent has no v1 pieces or file list", path);
		return -1;
	}
	return 0;
}

/*
 * --files: "torrent  INFOHASH  PIECE-LENGTH  PIECES  SIZE  FILES  NAME", then for each file
 * "file  SIZE  FIRST-PIECE  LAST-PIECE  PATH" (pieces "-" for an empty file), separated
 * by tabs, names escaped to one field (mf_utf8_field).
 */
static int
print_files(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz)
{
	struct mf_tlayout lay;
	char hex[41], err[256], *d;
	uint64_t plen;
	size_t i;

	if (describe(path, ti, msg, msgsz) < 0)
		return -1;
	if (mf_tinfo_layout(ti, &lay, err, sizeof err) < 0) {
		snprintf(msg, msgsz, "%s: %s", path, err);
		return -1;
	}
	mf_hex(ti->sha1, 20, hex);
	d = mf_utf8_field(ti->name, ti->name_len);
	printf("torrent\t%s\t%" PRId64 "\t%zu\t%" PRId64 "\t%zu\t%s\n", hex, ti->piece_length,
	    ti->npieces, ti->size, ti->nfiles, d ? d : "");
	free(d);
	plen = (uint64_t)ti->piece_length;
	for (i = 0; i < lay.nfiles; i++) {
		const struct mf_tfile *f = &lay.files[i];

		d = mf_utf8_field(f->path, strlen(f->path));
		if (f->len == 0)
			printf("file\t0\t-\t-\t%s\n", d ? d : "");
		else
			printf("file\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s\n", f->len,
			    f->off / plen, (f->off + f->len - 1) / plen, d ? d : "");
		free(d);
	}
	mf_tlayout_free(&lay);
	return 0;
}

/* --magnet: xt, dn and xl only; a tracker (tr) would carry the passkey. */
static int
print_magnet(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz)
{
	char hex[41], *name, *dn;

	if (describe(path, ti, msg, msgsz) < 0)
		return -1;
	if (memchr(ti->name, 0, ti->name_len)) {
		snprintf(msg, msgsz, "%s: the name holds a NUL byte", path);
		return -1;
	}
	if (!(name = strndup(ti->name, ti->name_len)) || !(dn = mf_http_escape(name)))
		mf_errx(EX_OSERR, "out of memory");
	mf_hex(ti->sha1, 20, hex);
	printf("magnet:?xt=urn:btih:%s&dn=%s&xl=%" PRId64 "\n", hex, dn, ti->size);
	free(dn);
	free(name);
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
	for (i = 0; i < argc; i++) {
		struct mf_tinfo ti;
		struct mf_tbuf buf;
		char msg[1024], hex[65];

		if (load(argv[i], &buf, &ti, msg, sizeof msg) < 0) {
			mf_warnx("%s", msg);
			rc = EX_DATAERR;
			continue;
		}
		if (opt_json || opt_files || opt_magnet) {
			int (*print)(const char *, struct mf_tinfo *, char *, size_t) =
			    opt_json ? print_json : opt_files ? print_files : print_magnet;

			if (print(argv[i], &ti, msg, sizeof msg) < 0) {
				mf_warnx("%s", msg);
				rc = EX_DATAERR;
			}
		} else {
			mf_hex(ti.sha1, 20, hex);
			printf("%s  %s\n", hex, argv[i]);
			if (opt_v2)
				mf_tinfo_v2(&ti);
			if (ti.v2) {
				mf_hex(ti.sha256, 32, hex);
				printf("%s  %s\n", hex, argv[i]);
			}
		}
		mf_tbuf_free(&buf);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mf_warn("cannot write output");
		return EX_IOERR;
	}
	return rc;
}
