/* state: the crash-safe checkpoint store of what happened to each release (state.h). */
#include "state.h"
#include "clock.h"
#include "file.h"
#include "json.h"
#include "lock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAPSHOT	"snapshot.ndjson"
#define JOURNAL		"journal.ndjson"
#define LOCKFILE	"state.lock"
#define FORMAT		"mamfast-state"
#define MAX_FILE	((size_t)4 << 30)
#define MAX_HISTORY	50
/*
 * Compact when the journal outgrows both this (MF_STATE_COMPACT_MIN bytes, for tests)
 * and the snapshot: each compaction is paid for by as many appends, amortised O(1).
 */
#define COMPACT_MIN	(4LL << 20)

const char *const mf_stage_names[MF_NSTAGES] = { "staged", "metadata", "torrent", "uploaded" };
const char *const mf_stage_at[MF_NSTAGES] = {
	"staged_at", "metadata_at", "torrent_at", "uploaded_at"
};
const struct mf_stage_field mf_stage_fields[] = {
	{ MF_STAGED, "staging", "dir" }, { MF_STAGED, "staging", "name" },
	{ MF_METADATA, "meta", "mam_json" },
	{ MF_TORRENT, "torrent", "path" }, { MF_TORRENT, "torrent", "infohash" },
	{ MF_UPLOADED, "qbt", "hash" },
	{ MF_NSTAGES, NULL, NULL }
};
/* Status after each stage, in rank order after "NEW" (the original MAMFast names). */
static const char *const status_names[] = {
	"NEW", "STAGED", "METADATA_FETCHED", "TORRENT_CREATED", "COMPLETE"
};

struct slot {
	char	*key;
	cJSON	*val;		/* NULL: forgotten (the key stays as a tombstone) */
};

struct mf_state {
	char	dir[PATH_MAX], lockp[PATH_MAX], snapp[PATH_MAX], journp[PATH_MAX];
	int	writable, lockfd, locked;
	/* writer's view of the journal */
	int	jfd, wready;
	dev_t	j_dev;
	ino_t	j_ino;
	long long jend;
	long long snap_size;
	/* the index */
	struct slot *tab;
	size_t	cap, used, live;
	int	loaded;
	ino_t	idx_j_ino, idx_s_ino;
	int	idx_s_exists;
	long long jr_off;
	long	snap_gen, jgen;
	/* queued journal lines */
	char	*q;
	size_t	qlen, qcap;
	struct mf_state_health h;
	char	err[1024];
};

static void seterr(struct mf_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
seterr(struct mf_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
}

const char *
mf_state_error(const struct mf_state *st)
{
	return st->err;
}

int
mf_state_stage(const char *name)
{
	for (int i = 0; i < MF_NSTAGES; i++)
		if (name && strcmp(name, mf_stage_names[i]) == 0)
			return i;
	return -1;
}

unsigned long
mf_crc32(const void *buf, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = buf;
	uint32_t c = 0xffffffffu;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t k = i;

			for (int j = 0; j < 8; j++)
				k = k & 1 ? 0xedb88320u ^ (k >> 1) : k >> 1;
			table[i] = k;
		}
	while (len--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* ---- the index: open addressing on the release id ---- */

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct slot *
find(const struct mf_state *st, const char *key)
{
	if (!st->cap)
		return NULL;
	for (size_t i = hash(key) & (st->cap - 1); st->tab[i].key; i = (i + 1) & (st->cap - 1))
		if (strcmp(st->tab[i].key, key) == 0)
			return &st->tab[i];
	return NULL;
}

static struct slot *
insert(struct mf_state *st, const char *key)
{
	struct slot *s = find(st, key);

	if (s)
		return s;
	if ((st->used + 1) * 2 > st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 1024;
		struct slot *nt = calloc(ncap, sizeof *nt), *old = st->tab;
		size_t ocap = st->cap;

		if (!nt)
			return NULL;
		st->tab = nt;
		st->cap = ncap;
		st->used = 0;
		for (size_t i = 0; i < ocap; i++) {
			if (!old[i].key)
				continue;
			if (!old[i].val) {	/* drop tombstones while rehashing */
				free(old[i].key);
				continue;
			}
			size_t j = hash(old[i].key) & (ncap - 1);
			while (nt[j].key)
				j = (j + 1) & (ncap - 1);
			nt[j] = old[i];
			st->used++;
		}
		free(old);
	}
	size_t i = hash(key) & (st->cap - 1);
	while (st->tab[i].key)
		i = (i + 1) & (st->cap - 1);
	if (!(st->tab[i].key = strdup(key)))
		return NULL;
	st->used++;
	return &st->tab[i];
}

static void
index_clear(struct mf_state *st)
{
	for (size_t i = 0; i < st->cap; i++) {
		free(st->tab[i].key);
		cJSON_Delete(st->tab[i].val);
	}
	free(st->tab);
	st->tab = NULL;
	st->cap = st->used = st->live = 0;
	st->loaded = 0;
}

const cJSON *
mf_state_get(const struct mf_state *st, const char *id)
{
	struct slot *s = id ? find(st, id) : NULL;

	return s ? s->val : NULL;
}

size_t
mf_state_count(const struct mf_state *st)
{
	return st->live;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **
mf_state_ids(const struct mf_state *st, size_t *n)
{
	const char **ids = malloc((st->live + 1) * sizeof *ids);
	size_t k = 0;

	if (!ids)
		return NULL;
	for (size_t i = 0; i < st->cap; i++)
		if (st->tab[i].key && st->tab[i].val && k < st->live)
			ids[k++] = st->tab[i].key;
	qsort(ids, k, sizeof *ids, cmpstr);
	*n = k;
	return ids;
}

void
mf_state_health(const struct mf_state *st, struct mf_state_health *h)
{
	*h = st->h;
	h->generation = st->snap_gen;
}

/* ---- operations and how they change a release ---- */

static int
ts_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;
	/*
	 * ISO-8601 sorts as text, ours ("...Z") and the original's naive local times
	 * ("...[.ffffff]") alike; a null time is older than any.
	 */
	return strcmp(a, b);
}

static int
status_rank(const char *s)
{
	for (size_t i = 0; i < sizeof status_names / sizeof *status_names; i++)
		if (s && strcmp(s, status_names[i]) == 0)
			return (int)i;
	return 0;
}

static cJSON *
new_entry(const char *id, const char *at)
{
	cJSON *e = cJSON_CreateObject(), *o;

	mf_json_put_str(e, "id", id);
	mf_json_put_str(e, "asin", NULL);
	mf_json_put_str(e, "title", NULL);
	mf_json_put_str(e, "author", NULL);
	mf_json_put_str(e, "source_dir", NULL);
	mf_json_put_str(e, "status", "NEW");
	mf_json_put_str(e, "created_at", at);
	mf_json_put_str(e, "updated_at", at);
	mf_json_put_str(e, "processed_at", NULL);
	o = mf_json_obj(e, "checkpoints");
	for (int i = 0; i < MF_NSTAGES; i++)
		mf_json_put_str(o, mf_stage_at[i], NULL);
	o = mf_json_obj(e, "staging");
	mf_json_put_str(o, "dir", NULL);
	mf_json_put_str(o, "name", NULL);
	mf_json_put_str(mf_json_obj(e, "meta"), "mam_json", NULL);
	o = mf_json_obj(e, "torrent");
	mf_json_put_str(o, "path", NULL);
	mf_json_put_str(o, "infohash", NULL);
	mf_json_put_str(mf_json_obj(e, "qbt"), "hash", NULL);
	mf_json_put(e, "failure", cJSON_CreateNull());
	mf_json_put_num(e, "attempts", 0);
	mf_json_put(e, "history", cJSON_CreateArray());
	return e;
}

/* Copy the string (or null) fields of src over dst's; non-strings are ignored. */
static void
merge_strings(cJSON *dst, const cJSON *src, int keep_nulls)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, src) {
		if (!f->string)
			continue;
		if (cJSON_IsString(f))
			mf_json_put_str(dst, f->string, f->valuestring);
		else if (cJSON_IsNull(f) && keep_nulls)
			mf_json_put_str(dst, f->string, NULL);
	}
}

static void
add_history(cJSON *e, const char *at, const char *event, const char *message)
{
	cJSON *hist = cJSON_GetObjectItemCaseSensitive(e, "history"), *h;

	if (!cJSON_IsArray(hist)) {
		hist = cJSON_CreateArray();
		mf_json_put(e, "history", hist);
	}
	while (cJSON_GetArraySize(hist) >= MAX_HISTORY)
		cJSON_DeleteItemFromArray(hist, 0);
	h = cJSON_CreateObject();
	mf_json_put_str(h, "at", at);
	mf_json_put_str(h, "event", event);
	if (message)
		mf_json_put_str(h, "message", message);
	cJSON_AddItemToArray(hist, h);
}

/* e.failure = {stage, message, retryable, at, attempts}, and e.attempts. */
static void
set_failure(cJSON *e, const char *stage, const char *message, int retryable, const char *at,
    double attempts)
{
	cJSON *f = cJSON_CreateObject();

	mf_json_put_str(f, "stage", stage);
	mf_json_put_str(f, "message", message);
	mf_json_put_bool(f, "retryable", retryable);
	mf_json_put_str(f, "at", at);
	mf_json_put_num(f, "attempts", attempts);
	mf_json_put(e, "failure", f);
	mf_json_put_num(e, "attempts", attempts);
}

void
mf_state_apply(cJSON **entry, const cJSON *op)
{
	const char *type = mf_json_str(op, "op"), *id = mf_json_str(op, "id");
	const char *at = mf_json_str(op, "at");
	const cJSON *v;
	cJSON *e = *entry;
	int stage = -1;

	if (!type || !id)
		return;
	if (strcmp(type, "put") == 0) {
		if (!cJSON_IsObject(v = cJSON_GetObjectItemCaseSensitive(op, "entry")))
			return;
		cJSON_Delete(e);
		*entry = cJSON_Duplicate(v, 1);
		return;
	}
	if (strcmp(type, "forget") == 0) {
		cJSON_Delete(e);
		*entry = NULL;
		return;
	}
	if (strcmp(type, "retry") == 0) {
		if (e) {
			mf_json_put(e, "failure", cJSON_CreateNull());
			mf_json_put_str(e, "updated_at", at);
			add_history(e, at, "retry", NULL);
		}
		return;
	}
	int is_cp = strcmp(type, "cp") == 0;
	if (!is_cp && strcmp(type, "fail") != 0)
		return;
	if (is_cp && (stage = mf_state_stage(mf_json_str(op, "stage"))) < 0)
		return;
	if (!e)
		e = *entry = new_entry(id, at);
	if (cJSON_IsObject(v = cJSON_GetObjectItemCaseSensitive(op, "info")))
		merge_strings(e, v, 0);
	mf_json_put_str(e, "updated_at", at);
	if (is_cp) {
		const cJSON *grp;

		mf_json_put_str(mf_json_obj(e, "checkpoints"), mf_stage_at[stage], at);
		cJSON_ArrayForEach(grp, cJSON_GetObjectItemCaseSensitive(op, "set"))
			if (grp->string && cJSON_IsObject(grp))
				merge_strings(mf_json_obj(e, grp->string), grp, 0);
		int rank = stage + 1;
		if (rank > status_rank(mf_json_str(e, "status")))
			mf_json_put_str(e, "status", status_names[rank]);
		if (stage == MF_UPLOADED) {
			mf_json_put_str(e, "processed_at", at);
			mf_json_put(e, "failure", cJSON_CreateNull());
		}
		add_history(e, at, mf_stage_names[stage], NULL);
	} else {
		double n = 0;

		mf_json_num(e, "attempts", &n);
		if (!(n >= 0 && n < 1e9))
			n = 0;
		n += 1;
		set_failure(e, mf_json_str(op, "stage"), mf_json_str(op, "message"),
		    mf_json_bool(op, "retryable", 0), at, n);
		add_history(e, at, "failed", mf_json_str(op, "message"));
	}
}

/* id, asin, title, first author and source_dir of a pipeline record. */
static cJSON *
op_base(const cJSON *rec, const char *type, time_t now)
{
	char at[32];
	cJSON *op = cJSON_CreateObject(), *info = cJSON_CreateObject();
	const cJSON *authors = cJSON_GetObjectItemCaseSensitive(rec, "authors");
	const char *author = mf_json_str(rec, "author");

	mf_json_put_str(op, "op", type);
	mf_json_put_str(op, "id", mf_json_str(rec, "id"));
	mf_json_put_str(op, "at", mf_iso8601(now, at, sizeof at));
	if (cJSON_IsArray(authors) && cJSON_IsString(cJSON_GetArrayItem(authors, 0)))
		author = cJSON_GetArrayItem(authors, 0)->valuestring;
	if (mf_json_str(rec, "asin"))
		mf_json_put_str(info, "asin", mf_json_str(rec, "asin"));
	if (mf_json_str(rec, "title"))
		mf_json_put_str(info, "title", mf_json_str(rec, "title"));
	if (author)
		mf_json_put_str(info, "author", author);
	if (mf_json_str(rec, "source_dir"))
		mf_json_put_str(info, "source_dir", mf_json_str(rec, "source_dir"));
	mf_json_put(op, "info", info);
	return op;
}

cJSON *
mf_state_op_checkpoint(const cJSON *rec, enum mf_stage stage, time_t now)
{
	cJSON *op = op_base(rec, "cp", now);

	mf_json_put_str(op, "stage", mf_stage_names[stage]);
	/* set[group][field] = rec's group.field when it is a string */
	for (const struct mf_stage_field *f = mf_stage_fields; f->group; f++) {
		char path[128];
		const char *v;

		snprintf(path, sizeof path, "%s.%s", f->group, f->field);
		if (f->stage == stage && (v = mf_json_str(rec, path)))
			mf_json_put_str(mf_json_obj(mf_json_obj(op, "set"), f->group), f->field, v);
	}
	return op;
}

cJSON *
mf_state_op_fail(const cJSON *rec, time_t now)
{
	cJSON *op = op_base(rec, "fail", now);
	const char *msg = mf_json_str(rec, "error.message");

	mf_json_put_str(op, "stage", mf_json_str(rec, "error.stage"));
	mf_json_put_str(op, "message", msg ? msg : "failed");
	mf_json_put_bool(op, "retryable", mf_json_bool(rec, "error.retryable", 0));
	return op;
}

cJSON *
mf_state_op_simple(const char *type, const char *id, time_t now)
{
	char at[32];
	cJSON *op = cJSON_CreateObject();

	mf_json_put_str(op, "op", type);
	mf_json_put_str(op, "id", id);
	mf_json_put_str(op, "at", mf_iso8601(now, at, sizeof at));
	return op;
}

cJSON *
mf_state_op_put(const char *id, cJSON *entry)
{
	cJSON *op = cJSON_CreateObject();

	mf_json_put_str(op, "op", "put");
	mf_json_put_str(op, "id", id);
	mf_json_put(op, "entry", entry);
	return op;
}

/* ---- lines: {"crc":"xxxxxxxx","op":BODY}\n ---- */

#define PREFIX		"{\"crc\":\""
#define MIDDLE		"\",\"op\":"
#define PREFIX_LEN	(sizeof PREFIX - 1)
#define BODY_AT		(PREFIX_LEN + 8 + sizeof MIDDLE - 1)

/* Append the framed line for op to the buffer; -1 when out of memory. */
static int
frame(char **buf, size_t *len, size_t *cap, const cJSON *op)
{
	char *body = cJSON_PrintUnformatted(op), crc[9];
	size_t blen, need;

	if (!body)
		return -1;
	blen = strlen(body);
	need = *len + BODY_AT + blen + 2;
	if (need > *cap) {
		size_t ncap = *cap ? *cap : 65536;
		char *nb;

		while (ncap < need)
			ncap *= 2;
		if (!(nb = realloc(*buf, ncap))) {
			free(body);
			return -1;
		}
		*buf = nb;
		*cap = ncap;
	}
	snprintf(crc, sizeof crc, "%08lx", mf_crc32(body, blen));
	char *p = *buf + *len;
	memcpy(p, PREFIX, PREFIX_LEN);
	memcpy(p + PREFIX_LEN, crc, 8);
	memcpy(p + PREFIX_LEN + 8, MIDDLE, sizeof MIDDLE - 1);
	memcpy(p + BODY_AT, body, blen);
	p[BODY_AT + blen] = '}';
	p[BODY_AT + blen + 1] = '\n';
	*len = need;
	free(body);
	return 0;
}

/* The op of one line (without its newline), or NULL when the line is not intact. */
static cJSON *
unframe(const char *line, size_t len)
{
	unsigned long want = 0;
	cJSON *op;

	if (len < BODY_AT + 3 || memcmp(line, PREFIX, PREFIX_LEN) != 0 ||
	    memcmp(line + PREFIX_LEN + 8, MIDDLE, sizeof MIDDLE - 1) != 0 || line[len - 1] != '}')
		return NULL;
	for (size_t i = 0; i < 8; i++) {
		char c = line[PREFIX_LEN + i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return NULL;
		want = want << 4 | (unsigned long)d;
	}
	size_t blen = len - BODY_AT - 1;
	if (mf_crc32(line + BODY_AT, blen) != want)
		return NULL;
	op = cJSON_ParseWithLength(line + BODY_AT, blen);
	if (op && (!cJSON_IsObject(op) || !mf_json_str(op, "op"))) {
		cJSON_Delete(op);
		op = NULL;
	}
	return op;
}

static cJSON *
header_op(const char *kind, long gen, long count)
{
	cJSON *op = cJSON_CreateObject();

	mf_json_put_str(op, "op", "header");
	mf_json_put_str(op, "format", FORMAT);
	mf_json_put_num(op, "version", 1);
	mf_json_put_str(op, "kind", kind);
	mf_json_put_num(op, "gen", (double)gen);
	mf_json_put_num(op, "count", (double)count);
	return op;
}

/* Generation in a header op, or -1 when op is not one. */
static long
header_gen(const cJSON *op)
{
	double g;

	if (!op || strcmp(mf_json_str(op, "op"), "header") != 0 ||
	    !mf_json_str(op, "format") || strcmp(mf_json_str(op, "format"), FORMAT) != 0 ||
	    mf_json_num(op, "gen", &g) < 0 || !(g >= 0 && g < 1e15))
		return -1;
	return (long)g;
}

/* Apply one op read from a file to the index (taken over). */
static void
index_apply(struct mf_state *st, cJSON *op)
{
	const char *type = mf_json_str(op, "op"), *id = mf_json_str(op, "id");
	struct slot *s;
	int had;

	if (!id || !*id || !(s = insert(st, id))) {
		st->h.corrupt_lines++;
		cJSON_Delete(op);
		return;
	}
	had = s->val != NULL;
	if (strcmp(type, "put") == 0) {
		cJSON *e = cJSON_DetachItemFromObjectCaseSensitive(op, "entry");

		if (cJSON_IsObject(e)) {
			cJSON_Delete(s->val);
			mf_json_put_str(e, "id", id);	/* the key is the truth */
			s->val = e;
		} else {
			cJSON_Delete(e);
			st->h.corrupt_lines++;
		}
	} else {
		mf_state_apply(&s->val, op);
	}
	st->live += (s->val != NULL) - had;
	cJSON_Delete(op);
}

static size_t
parse(struct mf_state *st, const char *buf, size_t len, int is_journal, int at_start)
{
	size_t pos = 0;
	int first = at_start, stale = 0;

	if (is_journal && at_start)
		st->h.stale_journal = 0;
	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		cJSON *op;
		long gen;

		if (!nl)
			break;		/* a torn tail: ignored until a writer cuts it off */
		pos = nl + 1 - buf;
		if (nl == line)
			continue;
		op = unframe(line, nl - line);
		if (first) {
			first = 0;
			if ((gen = header_gen(op)) >= 0) {
				if (!is_journal) {
					st->snap_gen = gen;
				} else {
					st->jgen = gen;
					/* A compaction that died before replacing the journal. */
					stale = st->h.stale_journal = gen < st->snap_gen;
					st->h.snapshot_behind = gen > st->snap_gen;
				}
				cJSON_Delete(op);
				continue;
			}
			st->h.bad_header = 1;
		}
		if (!op || header_gen(op) >= 0 || !strcmp(mf_json_str(op, "op"), "header")) {
			st->h.corrupt_lines++;
			cJSON_Delete(op);
			continue;
		}
		if (stale) {
			cJSON_Delete(op);
			continue;
		}
		if (is_journal)
			st->h.journal_ops++;
		else
			st->h.snapshot_entries++;
		index_apply(st, op);
	}
	return pos;
}

size_t
mf_state_parse(struct mf_state *st, const char *buf, size_t len, int is_journal)
{
	size_t used = parse(st, buf, len, is_journal, 1);

	st->loaded = 1;
	return used;
}

struct mf_state *
mf_state_new_mem(void)
{
	struct mf_state *st = calloc(1, sizeof *st);

	if (st)
		st->lockfd = st->jfd = -1;
	return st;
}

/* ---- files ---- */

/* Read fd from off to its end into a malloc'd buffer. */
static char *
read_from(int fd, long long off, size_t *len)
{
	struct stat sb;
	size_t n = 0, cap;
	char *buf;

	if (fstat(fd, &sb) < 0)
		return NULL;
	cap = sb.st_size > off ? (size_t)(sb.st_size - off) + 1 : 1;
	if (cap > MAX_FILE) {
		errno = EFBIG;
		return NULL;
	}
	if (!(buf = malloc(cap + 1)))
		return NULL;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		r = pread(fd, buf + n, cap - n, off + n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
join(char *out, const char *dir, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

struct mf_state *
mf_state_open(const char *dir, int writable, char *err, size_t errsz)
{
	struct mf_state *st;
	struct stat sb;

	if (!dir || !*dir || strlen(dir) > PATH_MAX - 32) {
		snprintf(err, errsz, "no state folder (set MF_STATE_DIR or --state)");
		return NULL;
	}
	if (!(st = mf_state_new_mem())) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	snprintf(st->dir, sizeof st->dir, "%s", dir);
	join(st->lockp, dir, LOCKFILE);
	join(st->snapp, dir, SNAPSHOT);
	join(st->journp, dir, JOURNAL);
	st->writable = writable;
	if (writable && mf_mkdir_p(dir, MF_DIR_MODE) < 0) {
		snprintf(err, errsz, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (stat(dir, &sb) < 0) {
		if (errno == ENOENT && !writable)
			return st;	/* an empty store nobody has written yet */
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errsz, "%s is not a folder", dir);
		goto fail;
	}
	st->lockfd = mf_lock_open(st->lockp, writable);
	if (st->lockfd < 0 && (writable || errno != ENOENT)) {
		snprintf(err, errsz, "cannot open the lock file %s: %s", st->lockp, strerror(errno));
		goto fail;
	}
	if (writable && access(dir, W_OK) < 0) {
		snprintf(err, errsz, "the state folder %s is not writable: %s", dir, strerror(errno));
		goto fail;
	}
	return st;
fail:
	mf_state_close(st);
	return NULL;
}

void
mf_state_close(struct mf_state *st)
{
	if (!st)
		return;
	index_clear(st);
	if (st->jfd >= 0)
		close(st->jfd);
	if (st->lockfd >= 0)
		close(st->lockfd);
	free(st->q);
	free(st);
}

int
mf_state_lock(struct mf_state *st, int exclusive)
{
	if (st->lockfd < 0) {
		if (exclusive) {
			seterr(st, "cannot lock %s: the store is not open for writing", st->lockp);
			return -1;
		}
		return 0;
	}
	if (mf_lock_take(st->lockfd, exclusive, -1) < 0) {
		seterr(st, "cannot lock %s: %s", st->lockp, strerror(errno));
		return -1;
	}
	st->locked = exclusive ? 2 : 1;
	st->wready = 0;
	return 0;
}

void
mf_state_unlock(struct mf_state *st)
{
	if (st->lockfd >= 0 && st->locked)
		mf_lock_release(st->lockfd);
	st->locked = 0;
	st->wready = 0;
}

/* Generation in the header line of path: -1 corrupt, -2 missing. */
static long
file_gen(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;
	char *nl;
	long gen;

	if (fd < 0)
		return errno == ENOENT ? -2 : -1;
	r = pread(fd, buf, sizeof buf, 0);
	close(fd);
	if (r <= 0 || !(nl = memchr(buf, '\n', r)))
		return -1;
	cJSON *op = unframe(buf, nl - buf);
	gen = header_gen(op);
	cJSON_Delete(op);
	return gen;
}

/* A fresh journal holding only its header, written atomically. */
static int
new_journal(struct mf_state *st, long gen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	cJSON *h = header_op("journal", gen, 0);
	int rc = frame(&buf, &len, &cap, h);

	cJSON_Delete(h);
	if (rc == 0)
		rc = mf_write_atomic(st->journp, buf, len, MF_FILE_MODE);
	if (rc < 0)
		seterr(st, "cannot write %s: %s", st->journp, strerror(errno));
	free(buf);
	return rc;
}

/*
 * Make the journal ready for appending (under the exclusive lock): reopen it when
 * someone compacted, finish a compaction that died half way, and cut off a torn tail
 * left by a writer killed mid-line.
 */
static int
wprep(struct mf_state *st)
{
	struct stat js, ss;
	int j_ok, s_ok;
	long sg, jg;

	if (st->wready)
		return 0;
	s_ok = stat(st->snapp, &ss) == 0;
	st->snap_size = s_ok ? ss.st_size : 0;
	j_ok = stat(st->journp, &js) == 0;
	if (st->jfd < 0 || !j_ok || js.st_ino != st->j_ino || js.st_dev != st->j_dev ||
	    st->jend < 0) {
		if (st->jfd >= 0)
			close(st->jfd);
		st->jfd = -1;
		sg = s_ok ? file_gen(st->snapp) : 0;
		if (sg < 0) {
			seterr(st, "%s has no valid header: run mf-state check --fix", st->snapp);
			return -1;
		}
		jg = j_ok ? file_gen(st->journp) : -2;
		if (jg == -1) {
			seterr(st, "%s has no valid header: run mf-state check --fix", st->journp);
			return -1;
		}
		if (jg > sg) {
			seterr(st, "%s is newer than %s (was the snapshot removed?): "
			    "run mf-state check --fix", st->journp, st->snapp);
			return -1;
		}
		if ((jg == -2 || jg < sg) && new_journal(st, sg) < 0)
			return -1;
		if ((st->jfd = open(st->journp, O_RDWR | O_CLOEXEC)) < 0 || fstat(st->jfd, &js) < 0) {
			seterr(st, "cannot open %s: %s", st->journp, strerror(errno));
			return -1;
		}
		st->j_ino = js.st_ino;
		st->j_dev = js.st_dev;
		st->jend = -1;
	}
	if (fstat(st->jfd, &js) < 0) {
		seterr(st, "%s: %s", st->journp, strerror(errno));
		return -1;
	}
	if (js.st_size != st->jend) {
		long long end = js.st_size;
		char buf[65536];

		/* Walk back to the last newline: what follows is a line nobody acknowledged. */
		while (end > 0) {
			size_t n = end < (long long)sizeof buf ? (size_t)end : sizeof buf;
			ssize_t r = pread(st->jfd, buf, n, end - n);
			char *nl;

			if (r != (ssize_t)n) {
				seterr(st, "cannot read %s: %s", st->journp, strerror(r < 0 ? errno : EIO));
				return -1;
			}
			if ((nl = memrchr(buf, '\n', n))) {
				end -= n - (size_t)(nl - buf) - 1;
				break;
			}
			end -= n;
		}
		if (end != js.st_size) {
			if (ftruncate(st->jfd, end) < 0 || fdatasync(st->jfd) < 0) {
				seterr(st, "cannot cut the torn tail of %s: %s", st->journp,
				    strerror(errno));
				return -1;
			}
		}
		st->jend = end;
	}
	st->wready = 1;
	return 0;
}

/*
 * Read path from off to its end into *buf (malloc'd) and its inode into *ino.
 * 1 when read, 0 when the file does not exist, -1 on error (message set).
 */
static int
slurp(struct mf_state *st, const char *path, long long off, char **buf, size_t *len, ino_t *ino)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &sb) < 0 || !(*buf = read_from(fd, off, len))) {
		seterr(st, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	*ino = sb.st_ino;
	return 1;
}

static int
load_all(struct mf_state *st)
{
	char *buf;
	size_t len;
	int r;

	index_clear(st);
	memset(&st->h, 0, sizeof st->h);
	st->snap_gen = st->jgen = 0;
	st->idx_s_exists = 0;
	st->idx_s_ino = st->idx_j_ino = 0;
	st->jr_off = 0;
	if ((r = slurp(st, st->snapp, 0, &buf, &len, &st->idx_s_ino)) < 0)
		return -1;
	if (r) {
		st->idx_s_exists = 1;
		st->h.snapshot_bytes = len;
		if (parse(st, buf, len, 0, 1) < len)
			st->h.corrupt_lines++;	/* snapshots are whole: any tail is damage */
		free(buf);
	}
	if ((r = slurp(st, st->journp, 0, &buf, &len, &st->idx_j_ino)) < 0)
		return -1;
	if (r) {
		st->jr_off = parse(st, buf, len, 1, 1);
		st->h.torn_bytes = len - st->jr_off;
		st->h.journal_bytes = len;
		free(buf);
	}
	st->loaded = 1;
	return 0;
}

int
mf_state_load(struct mf_state *st)
{
	struct stat ss, js;
	int s_ok = stat(st->snapp, &ss) == 0, j_ok = stat(st->journp, &js) == 0;
	char *buf;
	size_t len;
	ino_t ino;
	int r;

	if (!st->loaded || s_ok != st->idx_s_exists || (s_ok && ss.st_ino != st->idx_s_ino) ||
	    !j_ok || js.st_ino != st->idx_j_ino || js.st_size < st->jr_off)
		return load_all(st);
	if (js.st_size == st->jr_off)
		return 0;
	/* Only what was appended since we last looked. */
	if ((r = slurp(st, st->journp, st->jr_off, &buf, &len, &ino)) <= 0 || ino != st->idx_j_ino) {
		if (r > 0)
			free(buf);
		return r < 0 ? -1 : load_all(st);	/* replaced meanwhile */
	}
	st->h.journal_bytes = st->jr_off + (long long)len;
	st->jr_off += parse(st, buf, len, 1, 0);
	st->h.torn_bytes = st->h.journal_bytes - st->jr_off;
	free(buf);
	return 0;
}

/* Apply an op of ours to the index (the op stays the caller's). */
static int
index_update(struct mf_state *st, const cJSON *op)
{
	struct slot *s = insert(st, mf_json_str(op, "id"));
	int had;

	if (!s)
		return -1;
	had = s->val != NULL;
	mf_state_apply(&s->val, op);
	st->live += (s->val != NULL) - had;
	return 0;
}

int
mf_state_append(struct mf_state *st, cJSON *op)
{
	int rc;

	if (!mf_json_str(op, "id") || !*mf_json_str(op, "id")) {
		seterr(st, "a release needs a non-empty id");
		cJSON_Delete(op);
		return -1;
	}
	if (!*st->dir) {	/* an in-memory store (mf_state_new_mem): the index only */
		rc = index_update(st, op);
		cJSON_Delete(op);
		return rc;
	}
	if (st->locked != 2) {
		seterr(st, "internal: append without the exclusive lock");
		cJSON_Delete(op);
		return -1;
	}
	if (wprep(st) < 0) {
		cJSON_Delete(op);
		return -1;
	}
	if ((rc = frame(&st->q, &st->qlen, &st->qcap, op)) < 0)
		seterr(st, "out of memory");
	/* A failed commit marks the index for reloading, so this never outlives the batch. */
	if (rc == 0 && st->loaded && index_update(st, op) < 0)
		st->loaded = 0;
	cJSON_Delete(op);
	return rc;
}

int
mf_state_commit(struct mf_state *st)
{
	long long off = st->jend;
	size_t done = 0;

	if (!st->qlen)
		return 0;
	if (!st->wready || st->jfd < 0) {
		seterr(st, "internal: commit without a prepared journal");
		return -1;
	}
	while (done < st->qlen) {
		ssize_t w = pwrite(st->jfd, st->q + done, st->qlen - done, off + done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		done += w;
	}
	if (fdatasync(st->jfd) < 0)
		goto fail;
	st->jend = off + st->qlen;
	if (st->loaded && st->jr_off == off && st->idx_j_ino == st->j_ino)
		st->jr_off = st->jend;
	else
		st->loaded = 0;
	st->h.journal_bytes = st->jend;
	st->qlen = 0;
	const char *cm = getenv("MF_STATE_COMPACT_MIN");
	long long min = cm && *cm ? atoll(cm) : COMPACT_MIN;
	if (st->jend > min && st->jend > st->snap_size) {
		/* Durable already; a failed compaction only costs space, so it is not fatal. */
		if (mf_state_load(st) < 0 || mf_state_compact(st) < 0)
			mf_warnx("%s: compaction postponed", mf_state_error(st));
	}
	return 0;
fail:
	seterr(st, "cannot write %s: %s", st->journp, strerror(errno ? errno : EIO));
	{
		int e = errno;

		/* Take back the partial batch so nothing unacknowledged stays behind. */
		if (ftruncate(st->jfd, off) == 0)
			(void)fdatasync(st->jfd);
		errno = e;
	}
	st->qlen = 0;
	st->loaded = 0;
	st->wready = 0;
	st->jend = -1;
	return -1;
}

int
mf_state_compact(struct mf_state *st)
{
	char tmp[PATH_MAX + 64], *buf = NULL;
	size_t len = 0, cap = 0, n;
	const char **ids;
	long gen = (st->jgen > st->snap_gen ? st->jgen : st->snap_gen) + 1;
	cJSON *h;
	int fd, rc = 0;

	if (st->locked != 2 || !st->loaded) {
		seterr(st, "internal: compaction needs the exclusive lock and a loaded index");
		return -1;
	}
	if (!(ids = mf_state_ids(st, &n))) {
		seterr(st, "out of memory");
		return -1;
	}
	if ((fd = mf_atomic_open(st->snapp, MF_FILE_MODE, tmp, sizeof tmp)) < 0) {
		seterr(st, "cannot write %s: %s", st->snapp, strerror(errno));
		free(ids);
		return -1;
	}
	h = header_op("snapshot", gen, (long)n);
	rc = frame(&buf, &len, &cap, h);
	cJSON_Delete(h);
	for (size_t i = 0; i < n && rc == 0; i++) {
		cJSON *op = cJSON_CreateObject();

		mf_json_put_str(op, "op", "put");
		mf_json_put_str(op, "id", ids[i]);
		cJSON_AddItemReferenceToObject(op, "entry", find(st, ids[i])->val);
		rc = frame(&buf, &len, &cap, op);
		cJSON_Delete(op);
		if (rc == 0 && len > (1 << 20)) {
			rc = mf_write_all(fd, buf, len);
			len = 0;
		}
	}
	if (rc == 0)
		rc = mf_write_all(fd, buf, len);
	free(buf);
	free(ids);
	if (rc < 0 || mf_atomic_commit(fd, tmp, st->snapp) < 0) {
		seterr(st, "cannot write %s: %s", st->snapp, strerror(errno));
		if (rc < 0)
			mf_atomic_abort(fd, tmp);
		return -1;
	}
	/* The snapshot holds everything now; a crash here leaves a stale journal, ignored. */
	st->snap_gen = gen;
	if (new_journal(st, gen) < 0) {
		st->loaded = 0;
		st->wready = 0;
		return -1;
	}
	st->wready = 0;
	st->jend = -1;
	st->loaded = 0;		/* the next load reads the new files */
	return wprep(st) < 0 ? -1 : 0;
}

/* ---- the original MAMFast processed.json ---- */

cJSON *
mf_state_export(const struct mf_state *st)
{
	cJSON *doc = cJSON_CreateObject(), *proc, *failed;
	const char **ids;
	size_t n;

	mf_json_put_num(doc, "version", 1);
	proc = mf_json_obj(doc, "processed");
	failed = mf_json_obj(doc, "failed");
	if (!(ids = mf_state_ids(st, &n)))
		return doc;
	for (size_t i = 0; i < n; i++) {
		const cJSON *e = mf_state_get(st, ids[i]);
		const char *status = mf_json_str(e, "status");
		int any = status_rank(status) > 0;

		for (int s = 0; s < MF_NSTAGES; s++) {
			char p[64];

			snprintf(p, sizeof p, "checkpoints.%s", mf_stage_at[s]);
			any |= mf_json_str(e, p) != NULL;
		}
		if (any) {
			cJSON *p = cJSON_CreateObject(), *cp;

			mf_json_put_str(p, "asin", mf_json_str(e, "asin"));
			mf_json_put_str(p, "title", mf_json_str(e, "title"));
			mf_json_put_str(p, "author", mf_json_str(e, "author"));
			mf_json_put_str(p, "processed_at", mf_json_str(e, "processed_at"));
			mf_json_put_str(p, "staging_dir", mf_json_str(e, "staging.dir"));
			mf_json_put_str(p, "torrent_path", mf_json_str(e, "torrent.path"));
			mf_json_put_str(p, "infohash", mf_json_str(e, "torrent.infohash"));
			mf_json_put_str(p, "status", status_rank(status) ? status : "STAGED");
			cp = mf_json_obj(p, "checkpoints");
			for (int s = 0; s < MF_NSTAGES; s++) {
				char path[64];

				snprintf(path, sizeof path, "checkpoints.%s", mf_stage_at[s]);
				mf_json_put_str(cp, mf_stage_at[s], mf_json_str(e, path));
			}
			cJSON_AddItemToObject(proc, ids[i], p);
		}
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "failure"))) {
			cJSON *f = cJSON_CreateObject();
			double a = 0;

			mf_json_put_str(f, "asin", mf_json_str(e, "asin"));
			mf_json_put_str(f, "title", mf_json_str(e, "title"));
			mf_json_put_str(f, "author", mf_json_str(e, "author"));
			mf_json_put_str(f, "failed_at", mf_json_str(e, "failure.at"));
			mf_json_put_str(f, "error", mf_json_str(e, "failure.message"));
			/* As the original: a release without ASIN is known by its folder. */
			mf_json_put_str(f, "source_dir", mf_json_str(e, "source_dir") ?
			    mf_json_str(e, "source_dir") : ids[i][0] == '/' ? ids[i] : NULL);
			/* Beyond the seed schema: what the original never kept. */
			mf_json_put_str(f, "stage", mf_json_str(e, "failure.stage"));
			mf_json_put_bool(f, "retryable", mf_json_bool(e, "failure.retryable", 0));
			mf_json_num(e, "attempts", &a);
			mf_json_put_num(f, "retry_count", a);
			cJSON_AddItemToObject(failed, ids[i], f);
		}
	}
	free(ids);
	return doc;
}

/* Newest timestamp of an imported processed entry. */
static const char *
newest(const cJSON *p)
{
	const char *t = mf_json_str(p, "processed_at");

	for (int s = 0; s < MF_NSTAGES; s++) {
		const char *c = mf_json_str(cJSON_GetObjectItemCaseSensitive(p, "checkpoints"),
		    mf_stage_at[s]);

		if (ts_cmp(c, t) > 0)
			t = c;
	}
	return t;
}

/* dst[path] = v when dst has none there, or when the incoming data is newer. */
static void
take(cJSON *dst, const char *group, const char *field, const char *v, int newer)
{
	cJSON *o = group ? mf_json_obj(dst, group) : dst;

	if (v && (newer || !mf_json_str(o, field)))
		mf_json_put_str(o, field, v);
}

static void
import_processed(cJSON *e, const cJSON *p, int newer)
{
	const cJSON *cps = cJSON_GetObjectItemCaseSensitive(p, "checkpoints");
	const char *status = mf_json_str(p, "status");

	take(e, NULL, "asin", mf_json_str(p, "asin"), newer);
	take(e, NULL, "title", mf_json_str(p, "title"), newer);
	take(e, NULL, "author", mf_json_str(p, "author"), newer);
	take(e, "staging", "dir", mf_json_str(p, "staging_dir"), newer);
	take(e, "torrent", "path", mf_json_str(p, "torrent_path"), newer);
	take(e, "torrent", "infohash", mf_json_str(p, "infohash"), newer);
	for (int s = 0; s < MF_NSTAGES; s++) {
		const char *in = mf_json_str(cps, mf_stage_at[s]);
		cJSON *mine = mf_json_obj(e, "checkpoints");

		if (in && ts_cmp(in, mf_json_str(mine, mf_stage_at[s])) > 0)
			mf_json_put_str(mine, mf_stage_at[s], in);
	}
	if (ts_cmp(mf_json_str(p, "processed_at"), mf_json_str(e, "processed_at")) > 0)
		mf_json_put_str(e, "processed_at", mf_json_str(p, "processed_at"));
	if (status_rank(status) > status_rank(mf_json_str(e, "status")))
		mf_json_put_str(e, "status", status);
	if (ts_cmp(newest(p), mf_json_str(e, "updated_at")) > 0)
		mf_json_put_str(e, "updated_at", newest(p));
}

static void
import_failed(cJSON *e, const cJSON *f)
{
	const char *at = mf_json_str(f, "failed_at");
	const cJSON *mine = cJSON_GetObjectItemCaseSensitive(e, "failure");
	double rc = 1, a = 0;

	take(e, NULL, "asin", mf_json_str(f, "asin"), 0);
	take(e, NULL, "title", mf_json_str(f, "title"), 0);
	take(e, NULL, "author", mf_json_str(f, "author"), 0);
	take(e, NULL, "source_dir", mf_json_str(f, "source_dir"), 0);
	/* Keep a newer failure, and a success newer than this failure. */
	if (cJSON_IsObject(mine) && ts_cmp(mf_json_str(mine, "at"), at) >= 0)
		return;
	if (at && mf_json_str(e, "processed_at") &&
	    ts_cmp(mf_json_str(e, "processed_at"), at) > 0)
		return;
	if (mf_json_num(f, "retry_count", &rc) < 0 || !(rc >= 0 && rc < 1e9))
		rc = 1;
	mf_json_num(e, "attempts", &a);
	if (a > rc)
		rc = a;
	/* The original kept no stage; nulls stay nulls, so export and import round-trip. */
	set_failure(e, mf_json_str(f, "stage"), mf_json_str(f, "error"),
	    mf_json_bool(f, "retryable", 1), at, rc);
	if (ts_cmp(at, mf_json_str(e, "updated_at")) > 0)
		mf_json_put_str(e, "updated_at", at);
}

long
mf_state_import(struct mf_state *st, const cJSON *doc, time_t now)
{
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(doc, "processed");
	const cJSON *failed = cJSON_GetObjectItemCaseSensitive(doc, "failed");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
	const cJSON *groups[2] = { proc, failed }, *it;
	char at[32];
	long changed = 0;

	mf_iso8601(now, at, sizeof at);
	if (!cJSON_IsObject(doc) || (ver && !(cJSON_IsNumber(ver) && ver->valuedouble == 1)) ||
	    (!cJSON_IsObject(proc) && !cJSON_IsObject(failed)) ||
	    (proc && !cJSON_IsObject(proc) && !cJSON_IsNull(proc)) ||
	    (failed && !cJSON_IsObject(failed) && !cJSON_IsNull(failed))) {
		seterr(st, "not a MAMFast processed.json (version 1 with \"processed\" and \"failed\" objects)");
		return -1;
	}
	for (int g = 0; g < 2; g++) {
		cJSON_ArrayForEach(it, groups[g]) {
			const cJSON *cur;
			cJSON *e;
			int newer;

			if (!it->string || !*it->string || !cJSON_IsObject(it))
				continue;
			cur = mf_state_get(st, it->string);
			e = cur ? cJSON_Duplicate(cur, 1) : new_entry(it->string, at);
			if (!cur)	/* its history starts with the import */
				mf_json_put_str(e, "created_at", g == 0 && newest(it) ? newest(it) :
				    mf_json_str(it, "failed_at") ? mf_json_str(it, "failed_at") : at);
			newer = !cur || ts_cmp(newest(it), mf_json_str(cur, "updated_at")) > 0;
			if (g == 0)
				import_processed(e, it, newer);
			else
				import_failed(e, it);
			/*
			 * The original's id for a release without ASIN is its folder; a
			 * source_dir its failed entry carries wins over that guess.
			 */
			if (it->string[0] == '/' && !mf_json_str(e, "source_dir")) {
				const char *fs = mf_json_str(cJSON_GetObjectItemCaseSensitive(
				    failed, it->string), "source_dir");

				mf_json_put_str(e, "source_dir", fs ? fs : it->string);
			}
			if (cur && cJSON_Compare(cur, e, 1)) {
				cJSON_Delete(e);
				continue;
			}
			add_history(e, at, "import", NULL);
			if (mf_state_append(st, mf_state_op_put(it->string, e)) < 0)
				return -1;
			changed++;
		}
	}
	return changed;
}
