/* tinfoprint: a parsed torrent printed for mf-infohash (see tinfoprint.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "tinfoprint.h"

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

int
mf_tinfo_print_json(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz)
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

/* Name, size and pieces of ti, for the file list and the link; the message names path. */
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

int
mf_tinfo_print_files(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz)
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

/* A tracker (tr) would carry the passkey: never in the link. */
int
mf_tinfo_print_magnet(const char *path, struct mf_tinfo *ti, char *msg, size_t msgsz)
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

