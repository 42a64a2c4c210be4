/* record: the NDJSON record stream every mf-* filter runs (see docs/records.md). */
#include "record.h"
#include "file.h"
#include "json.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* A growable input buffer over a file descriptor: lines of any length. */
struct linebuf {
	int	fd;
	char	*buf;
	size_t	start, end, cap;
	int	eof;
};

/* Next line (without '\n') in *line, NUL-terminated in place; 1 got one, 0 end, -1 error. */
static int
lb_next(struct linebuf *lb, char **line, size_t *len)
{
	for (;;) {
		char *nl = lb->end > lb->start ?
		    memchr(lb->buf + lb->start, '\n', lb->end - lb->start) : NULL;

		if (nl) {
			*line = lb->buf + lb->start;
			*len = nl - *line;
			*nl = '\0';
			lb->start = nl + 1 - lb->buf;
			return 1;
		}
		if (lb->eof) {
			if (lb->start == lb->end)
				return 0;
			/* Last line without newline: terminate it in the spare byte. */
			*line = lb->buf + lb->start;
			*len = lb->end - lb->start;
			lb->buf[lb->end] = '\0';
			lb->start = lb->end;
			return 1;
		}
		if (lb->start > 0) {
			memmove(lb->buf, lb->buf + lb->start, lb->end - lb->start);
			lb->end -= lb->start;
			lb->start = 0;
		}
		if (lb->cap - lb->end < 65536 + 1) {
			size_t ncap = lb->cap ? lb->cap * 2 : 131072;
			char *nb = realloc(lb->buf, ncap);

			if (!nb)
				return -1;
			lb->buf = nb;
			lb->cap = ncap;
		}
		ssize_t r = read(lb->fd, lb->buf + lb->end, lb->cap - lb->end - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			lb->eof = 1;
		lb->end += r;
	}
}

/* 1 when another line can be had without blocking. */
static int
lb_ready(const struct linebuf *lb)
{
	struct pollfd p = { .fd = lb->fd, .events = POLLIN };

	if (lb->eof || (lb->end > lb->start &&
	    memchr(lb->buf + lb->start, '\n', lb->end - lb->start)))
		return 1;
	return poll(&p, 1, 0) > 0;
}

void
mf_rec_error(cJSON *rec, const char *stage, int retryable, const char *fmt, ...)
{
	char msg[2048], *shown = NULL;
	va_list ap;
	cJSON *e = cJSON_CreateObject();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Records are UTF-8: a name that is not, or a cut character, is shown as \xNN. */
	if (!mf_utf8_valid(msg, strlen(msg)))
		shown = mf_utf8_display(msg, strlen(msg));
	cJSON_AddStringToObject(e, "stage", stage);
	cJSON_AddStringToObject(e, "message", shown ? shown : msg);
	free(shown);
	cJSON_AddBoolToObject(e, "retryable", retryable);
	mf_json_put(rec, "error", e);
}

int
mf_rec_has_error(const cJSON *rec)
{
	cJSON *e = cJSON_GetObjectItemCaseSensitive(rec, "error");

	return e && !cJSON_IsNull(e);
}

const char *
mf_rec_id(const cJSON *rec)
{
	const char *id = mf_json_str(rec, "id");

	if (!id)
		id = mf_json_str(rec, "source_dir");
	return id ? id : "?";
}

int
mf_rec_paths_ok(cJSON *rec, unsigned fields, const struct mf_roots *roots, const char *stage)
{
	const struct {
		unsigned	bit;
		const char	*field, *key, *root;
	} f[] = {
		{ MF_RF_SOURCE, "source_dir", "MF_LIBRARY", roots->library },
		{ MF_RF_STAGING, "staging.dir", "MF_SEED_ROOT", roots->seed_root },
		{ MF_RF_TORRENT, "torrent.path", "MF_OUT_DIR", roots->out_dir },
		{ MF_RF_MAM_JSON, "meta.mam_json", "MF_OUT_DIR", roots->out_dir },
	};

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *root = f[i].root, *path = mf_json_str(rec, f[i].field);
		int r;

		if (!(fields & f[i].bit) || !root || !path)
			continue;
		if ((r = path[0] == '/' ? mf_path_inside(path, root) : 0) == 1)
			continue;
		mf_rec_error(rec, stage, 0, r == 0 ? "%s %s lies outside %s %s: refused" :
		    "%s %s: cannot tell whether it lies inside %s %s: refused", f[i].field, path,
		    f[i].key, root);
		return -1;
	}
	return 0;
}

static char last_msg[2048];
static unsigned long repeats;

void
mf_rec_report(const cJSON *rec)
{
	const char *m = mf_json_str(rec, "error.message");

	if (!m)
		m = "failed";
	if (*last_msg && strcmp(m, last_msg) == 0) {
		repeats++;
		return;
	}
	mf_rec_report_end();
	snprintf(last_msg, sizeof last_msg, "%s", m);
	mf_warnx("%s: %s", mf_rec_id(rec), m);
}

void
mf_rec_report_end(void)
{
	if (repeats)
		mf_warnx("the same for %lu more record%s (each carries its error)", repeats,
		    repeats == 1 ? "" : "s");
	repeats = 0;
	*last_msg = '\0';
}

int
mf_rec_write(FILE *out, const cJSON *rec)
{
	char *s = mf_json_line(rec);
	int rc = 0;

	if (!s)
		return -1;
	if (fputs(s, out) == EOF || putc('\n', out) == EOF || fflush(out) == EOF)
		rc = -1;
	free(s);
	return rc;
}

struct held {
	cJSON	**recs;
	int	*failed;	/* 1 when the handler failed it (its error is already set) */
	size_t	n, cap;
};

static int
hold(struct held *h, cJSON *rec, int failed)
{
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		cJSON **nr = realloc(h->recs, ncap * sizeof *nr);
		int *nf;

		if (!nr)
			return -1;
		h->recs = nr;
		if (!(nf = realloc(h->failed, ncap * sizeof *nf)))
			return -1;
		h->failed = nf;
		h->cap = ncap;
	}
	h->recs[h->n] = rec;
	h->failed[h->n++] = failed;
	return 0;
}

/* Write and free rec; -1 when out is unwritable. */
static int
emit(FILE *out, cJSON *rec)
{
	int rc = mf_rec_write(out, rec);

	cJSON_Delete(rec);
	return rc;
}

int
mf_stream_run(int in, FILE *out, const struct mf_stream_ops *ops)
{
	struct linebuf lb = { .fd = in };
	struct held h = { 0 };
	unsigned long lineno = 0;
	int status = 0, out_broken = 0, r;
	char *line;
	size_t len;

	for (;;) {
		cJSON *rec = NULL;
		int is_input_error = 0;

		r = lb_next(&lb, &line, &len);
		if (r < 0) {
			mf_warn("standard input");
			status = EX_IOERR;
			break;
		}
		if (r > 0) {
			lineno++;
			size_t i = 0;
			while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
				i++;
			if (i == len)
				goto maybe_flush;	/* blank line */
			const char *endp = NULL;
			rec = cJSON_ParseWithLengthOpts(line, len, &endp, 0);
			int trailing = 0;
			if (rec && endp) {
				while (endp < line + len && (*endp == ' ' || *endp == '\t' || *endp == '\r'))
					endp++;
				trailing = endp < line + len;
			}
			/* Records are UTF-8 (docs/records.md): raw bytes that are not go no further. */
			int badutf8 = rec && !mf_utf8_valid(line, len);
			if (!rec || !cJSON_IsObject(rec) || trailing || badutf8) {
				const char *why = !rec ? "not valid JSON" :
				    trailing ? "text after the JSON object" :
				    badutf8 ? "not valid UTF-8" : "not a JSON object";
				cJSON_Delete(rec);
				rec = cJSON_CreateObject();
				mf_rec_error(rec, "input", 0, "line %lu: %s", lineno, why);
				mf_warnx("line %lu: %s", lineno, why);
				is_input_error = 1;
				status = status ? status : 1;
			}

			int failed = 0;
			if (!is_input_error &&
			    (!mf_rec_has_error(rec) || (ops->flags & MF_STREAM_SEE_ERRORS))) {
				switch (ops->record(rec, ops->ctx)) {
				case MF_REC_OK:
				case MF_REC_SKIP:
					break;
				case MF_REC_FAIL:
					failed = 1;
					if (!status)
						status = 1;
					mf_rec_report(rec);
					break;
				case MF_REC_DROP:
					cJSON_Delete(rec);
					rec = NULL;
					break;
				}
			}
			if (rec) {
				if (ops->flush) {
					if (hold(&h, rec, failed) < 0) {
						mf_warnx("out of memory");
						cJSON_Delete(rec);
						status = EX_SOFTWARE;
						break;
					}
				} else if (emit(out, rec) < 0) {
					out_broken = 1;
					break;
				}
			}
		}
maybe_flush:
		if (h.n && (r == 0 || h.n >= MF_STREAM_BATCH || !lb_ready(&lb))) {
			int fr = ops->flush(ops->ctx);

			for (size_t i = 0; i < h.n; i++) {
				if (fr && !h.failed[i] && !mf_rec_has_error(h.recs[i]))
					mf_rec_error(h.recs[i], ops->stage ? ops->stage : "state",
					    1, "not recorded: the update could not be made durable");
				if (out_broken)
					cJSON_Delete(h.recs[i]);
				else if (emit(out, h.recs[i]) < 0)
					out_broken = 1;
			}
			h.n = 0;
			if (out_broken)
				break;
			if (fr) {
				status = fr;
				break;
			}
		}
		if (r == 0)
			break;
	}
	mf_rec_report_end();
	for (size_t i = 0; i < h.n; i++)
		cJSON_Delete(h.recs[i]);
	free(h.recs);
	free(h.failed);
	free(lb.buf);
	if (out_broken) {
		mf_warn("standard output");
		return EX_IOERR;
	}
	return status;
}
