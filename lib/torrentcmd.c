/* torrentcmd: the work of each mode of mf-torrent (see torrentcmd.h). */
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
#include "torrentcmd.h"
#include "url.h"

void
mf_topts_add_excludes(struct mf_topts *o, const char *v)
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
				char **nx = realloc(o->exclude, (o->nexclude + 1) * sizeof *nx);

				if (!nx || !(nx[o->nexclude] = strndup(p, (size_t)(q - p))))
					mf_errx(EX_OSERR, "out of memory");
				o->exclude = nx;
				o->nexclude++;
			}
			if (*q == 0)
				break;
			p = q + 1;
		}
	}
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

int
mf_plain_name(const char *s)
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

/* What the filter's records are checked against and made with. */
struct filter {
	struct mf_roots		roots;
	const char		*out_dir;	/* absolute */
	const struct mf_topts	*o;
};

static enum mf_rec_result
handle(cJSON *rec, void *ctx)
{
	const struct filter *f = ctx;
	const char *dir = mf_json_str(rec, "staging.dir");
	const char *name = mf_json_str(rec, "staging.name");
	struct mf_tresult r;
	char err[2048], *out;
	size_t n;

	if (!dir)
		return MF_REC_SKIP;
	if (mf_rec_paths_ok(rec, MF_RF_STAGING, &f->roots, "torrent") != 0)
		return MF_REC_FAIL;
	if (!name) {
		const char *s = strrchr(dir, '/');

		name = s && s[1] ? s + 1 : dir;
	}
	if (!mf_plain_name(name)) {
		mf_rec_error(rec, "torrent", 0, "staging.name is not a plain folder name");
		return MF_REC_FAIL;
	}
	n = strlen(f->out_dir) + 2 * strlen(name) + 16;
	if (!(out = malloc(n)))
		mf_errx(EX_OSERR, "out of memory");
	snprintf(out, n, "%s/%s/%s.torrent", f->out_dir, name, name);
	if (mf_torrent_make(dir, out, f->o, &r, err, sizeof err) < 0) {
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

char *
mf_announce_urls(long *n)
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

/* The report of --check; 1 when anything is bad or missing. */
static int
print_check(const struct mf_check *res)
{
	size_t i;

	printf("Completion: %.2f%% (%zu/%zu pieces)\n",
	    res->npieces > res->missing ? 100.0 * res->good / (res->npieces - res->missing) : 0.0,
	    res->good, res->npieces);
	printf("Good pieces: %zu\nBad pieces: %zu\nMissing pieces: %zu\nMissing files: %zu\n",
	    res->good, res->bad, res->missing, res->nmissing_files);
	for (i = 0; i < res->bad && i < 20; i++)
		printf("bad piece %zu\n", res->bad_idx[i]);
	if (res->bad > 20)
		printf("bad pieces: %zu more not listed\n", res->bad - 20);
	for (i = 0; i < res->nmissing_files; i++) {
		char *d = mf_utf8_display(res->missing_files[i], strlen(res->missing_files[i]));

		printf("missing file %s\n", d);
		free(d);
	}
	return res->bad || res->missing || res->nmissing_files ? 1 : 0;
}

int
mf_torrentcmd_check(const char *torrent, const char *path, int jobs, int progress)
{
	struct mf_tinfo ti;
	struct mf_berr berr;
	struct mf_check res;
	struct mf_tbuf buf;
	char err[2048];
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
	if (mf_torrent_check(&ti, path, jobs, progress, &res, err, sizeof err) < 0) {
		mf_warnx("%s: %s", torrent, err);
		mf_tbuf_free(&buf);
		return 1;
	}
	rc = print_check(&res);
	if (rc)
		mf_warnx("%s: verification failed for %s", torrent, path);
	mf_check_free(&res);
	mf_tbuf_free(&buf);
	return rc;
}

int
mf_torrentcmd_modify(const char *torrent, const char *output, const struct mf_topts *o,
    int dry_run)
{
	struct mf_tresult r;
	char err[2048], *out = output ? torrent_file(output) : NULL;
	int rc;

	/* The report never shows the announce URLs: they hold the passkey. */
	rc = mf_meta_modify(torrent, out, o, dry_run,
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
mf_torrentcmd_make(const char *path, const char *output, const struct mf_topts *o)
{
	struct mf_tresult r;
	char err[2048], *out;
	int rc = 0;

	if (output) {
		out = torrent_file(output);
	} else {
		/* As mkbrr: ./<name>.torrent, --name's when given */
		char *name = o->name ? strdup(o->name) : mf_torrent_name(path);

		if (!name || asprintf(&out, "%s.torrent", name) < 0)
			mf_errx(1, "%s: cannot name a torrent after this path", path);
		free(name);
	}
	if (mf_torrent_make(path, out, o, &r, err, sizeof err) < 0) {
		mf_warnx("%s", err);
		rc = 1;
	} else {
		printf("%s  %s\n", r.infohash, out);
	}
	free(out);
	return rc;
}

int
mf_torrentcmd_filter(struct mf_topts *o)
{
	struct filter f = { .o = o };
	struct mf_stream_ops ops = { .record = handle, .ctx = &f };
	char *abs = NULL;
	int rc;

	f.out_dir = mf_config_require("MF_OUT_DIR");
	/* Only staged folders are hashed: the walk checks again on the folder it opened. */
	o->within = mf_config_require("MF_SEED_ROOT");
	/* Paths in records are absolute (as mf-meta makes its own from a relative MF_OUT_DIR). */
	if (*f.out_dir != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof cwd) || asprintf(&abs, "%s/%s", cwd, f.out_dir) < 0)
			mf_err(EX_OSERR, "MF_OUT_DIR %s: cannot make it absolute", f.out_dir);
		f.out_dir = abs;
	}
	f.roots = (struct mf_roots){ NULL, o->within, f.out_dir };
	rc = mf_stream_run(STDIN_FILENO, stdout, &ops);
	free(abs);
	return rc;
}
