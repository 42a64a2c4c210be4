/* metainfo: the keys of a .torrent around its pieces: the top-level dict mamfast writes,
 * and rewriting an existing torrent's keys without its data (mf-torrent --modify). */
#include "metainfo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "file.h"
#include "json.h"

#define MAX_TORRENT (512u * 1024 * 1024)

/*
 * One key of a dict as it should come out.  Keys are edited where they stand, so that a
 * torrent keeps the keys mamfast does not know and, when it was in sorted order (as
 * bencode wants), stays in it; a new key goes before the first key that sorts after it.
 */
enum { KEEP, SET, DEL, ADD };	/* ADD: set only when the key is absent */

struct edit {
	const char	*key;
	int		op;
	struct mf_bbuf	v;	/* SET and ADD: the encoded value */
	int		insert;	/* a SET of a key the dict does not have */
};

static void
set_str(struct edit *e, const char *s, size_t n)
{
	e->op = SET;
	mf_bput_str(&e->v, s, n);
}

static void
set_int(struct edit *e, int64_t i)
{
	e->op = SET;
	mf_bput_int(&e->v, i);
}

/* The white-space separated words of s as a list; as many as there are into *n. */
static void
put_words(struct mf_bbuf *b, const char *s, int nest, size_t *n)
{
	static const char sp[] = " \t\r\n";
	size_t len;

	*n = 0;
	mf_bput_ch(b, 'l');
	for (s += strspn(s, sp); *s; s += len, s += strspn(s, sp)) {
		len = strcspn(s, sp);
		if (nest)
			mf_bput_ch(b, 'l');
		mf_bput_str(b, s, len);
		if (nest)
			mf_bput_ch(b, 'e');
		(*n)++;
	}
	mf_bput_ch(b, 'e');
}

/* announce: the first URL; announce-list: one tier each, only for two or more (mkbrr). */
static void
set_announce(struct edit *ann, struct edit *list, const char *urls)
{
	static const char sp[] = " \t\r\n";
	const char *p = urls ? urls + strspn(urls, sp) : "";
	size_t n;

	ann->op = list->op = DEL;
	if (!*p)
		return;
	set_str(ann, p, strcspn(p, sp));
	put_words(&list->v, p, 1, &n);
	list->op = n > 1 ? SET : DEL;
}

/* Compare a dict key with a C string, bytewise as bencode sorts them. */
static int
keycmp(const struct mf_bval *k, const char *key)
{
	const char *s;
	size_t n, m = strlen(key);
	int c;

	if (mf_bstr(k, &s, &n) < 0)
		return -1;
	c = memcmp(s, key, n < m ? n : m);
	return c ? c : (n > m) - (n < m);
}

static void
put_new(struct mf_bbuf *b, const struct edit *e)
{
	if (e->insert) {
		mf_bput_cstr(b, e->key);
		mf_bput_raw(b, e->v.p, e->v.n);
	}
}

/* The dict old (NULL: an empty one) with the edits ed[0..n), sorted by key, applied. */
static void
dict_edit(struct mf_bbuf *b, const struct mf_bval *old, struct edit *ed, size_t n)
{
	struct mf_biter it;
	struct mf_bval k, v, x;
	size_t i, next = 0;

	for (i = 0; i < n; i++) {
		int has = old && mf_bget(old, ed[i].key, &x) == 0;

		if (ed[i].v.oom)
			b->oom = 1;
		if (ed[i].op == ADD)
			ed[i].op = has ? KEEP : SET;
		ed[i].insert = !has && ed[i].op == SET;
	}
	mf_bput_ch(b, 'd');
	if (old) {
		mf_biter_init(&it, old);
		while (mf_bnext_kv(&it, &k, &v)) {
			const struct edit *e = NULL;

			for (; next < n && keycmp(&k, ed[next].key) > 0; next++)
				put_new(b, &ed[next]);
			for (i = 0; i < n && !e; i++)
				if (keycmp(&k, ed[i].key) == 0)
					e = &ed[i];
			if (e && e->op == DEL)
				continue;
			mf_bput_raw(b, k.p, (size_t)(k.end - k.p));
			if (e && e->op == SET)
				mf_bput_raw(b, e->v.p, e->v.n);
			else
				mf_bput_raw(b, v.p, (size_t)(v.end - v.p));
		}
	}
	for (; next < n; next++)
		put_new(b, &ed[next]);
	mf_bput_ch(b, 'e');
}

static void
edits_free(struct edit *ed, size_t n)
{
	size_t i;

	/* The announce values hold the passkey. */
	for (i = 0; i < n; i++) {
		if (ed[i].v.p)
			explicit_bzero(ed[i].v.p, ed[i].v.n);
		mf_bbuf_free(&ed[i].v);
	}
}

/* ---- report ---- */

/* An encoded value for people: strings quoted (escaped to one line), lists in []. */
static void
show(FILE *fp, const struct mf_bval *v)
{
	struct mf_biter it;
	struct mf_bval x;
	const char *s;
	size_t n;
	int64_t i;
	char *d;
	int first = 1;

	if (!v) {
		fputs("none", fp);
		return;
	}
	switch (mf_btype(v)) {
	case 's':
		mf_bstr(v, &s, &n);
		d = mf_utf8_field(s, n);
		fprintf(fp, "\"%s\"", d ? d : "");
		free(d);
		break;
	case 'i':
		mf_bint(v, &i);
		fprintf(fp, "%" PRId64, i);
		break;
	case 'l':
		fputc('[', fp);
		mf_biter_init(&it, v);
		while (mf_bnext(&it, &x)) {
			fputs(first ? "" : ", ", fp);
			show(fp, &x);
			first = 0;
		}
		fputc(']', fp);
		break;
	default:
		fputs("{...}", fp);
	}
}

/* One line for each edit that changes the dict old (the announce pair as one). */
static void
report_edits(FILE *fp, const struct mf_bval *old, const struct edit *ed, size_t n)
{
	struct mf_bval was, now;
	size_t i;
	int announced = 0;

	for (i = 0; i < n; i++) {
		int had = old && mf_bget(old, ed[i].key, &was) == 0, has = had;

		if (ed[i].op == KEEP || strcmp(ed[i].key, "info") == 0)
			continue;
		if (ed[i].op == DEL) {
			has = 0;
		} else {
			has = 1;
			now.p = ed[i].v.p;
			now.end = ed[i].v.p + ed[i].v.n;
		}
		if (had == has && (!has || (now.end - now.p == was.end - was.p &&
		    memcmp(now.p, was.p, ed[i].v.n) == 0)))
			continue;
		if (strncmp(ed[i].key, "announce", 8) == 0) {
			if (!announced++)
				fputs("announce: changed (not shown: the URLs hold the passkey)\n", fp);
			continue;
		}
		fprintf(fp, "%s: ", ed[i].key);
		show(fp, had ? &was : NULL);
		fputs(" -> ", fp);
		show(fp, has ? &now : NULL);
		fputc('\n', fp);
	}
}

/* ---- the top-level dict ---- */

void
mf_meta_outer(struct mf_bbuf *out, const struct mf_bval *old, const void *info,
    size_t infolen, const struct mf_topts *o, enum mf_meta_mode mode, FILE *report)
{
	struct edit ed[] = {
		{ .key = "announce" }, { .key = "announce-list" }, { .key = "comment" },
		{ .key = "created by" }, { .key = "creation date" }, { .key = "info" },
		{ .key = "url-list" }
	};
	size_t n = sizeof ed / sizeof ed[0], words;

	if (mode == MF_META_NEW)
		old = NULL;
	if (mode != MF_META_MODIFY || o->announce)
		set_announce(&ed[0], &ed[1], o->announce);
	if (mode != MF_META_MODIFY || o->comment) {
		if (o->comment && *o->comment)
			set_str(&ed[2], o->comment, strlen(o->comment));
		else
			ed[2].op = DEL;
	}
	if (o->no_creator) {
		ed[3].op = DEL;
	} else {
		set_str(&ed[3], "mamfast/" MF_VERSION, strlen("mamfast/" MF_VERSION));
		/* A torrent kept for its info keeps who made it and when. */
		if (mode == MF_META_REUSE)
			ed[3].op = ADD;
	}
	if (o->no_date) {
		ed[4].op = DEL;
	} else {
		set_int(&ed[4], (int64_t)time(NULL));
		if (mode == MF_META_REUSE)
			ed[4].op = ADD;
	}
	ed[5].op = SET;
	mf_bput_raw(&ed[5].v, info, infolen);
	if (mode != MF_META_MODIFY || o->webseeds) {
		put_words(&ed[6].v, o->webseeds ? o->webseeds : "", 0, &words);
		ed[6].op = words ? SET : DEL;
	}
	dict_edit(out, old, ed, n);
	if (report)
		report_edits(report, old, ed, n);
	edits_free(ed, n);
}

int
mf_meta_entropy(char *out)
{
	unsigned char r[32];

	if (getentropy(r, sizeof r) < 0)
		return -1;
	mf_hex(r, sizeof r, out);
	return 0;
}

/* ---- --modify ---- */

int
mf_meta_rewrite(const void *buf, size_t len, const struct mf_topts *o,
    struct mf_bbuf *out, unsigned char old_ih[20], unsigned char new_ih[20], FILE *report,
    char *err, size_t errsz)
{
	struct edit ed[] = {
		{ .key = "entropy" }, { .key = "name" }, { .key = "private" }, { .key = "source" }
	};
	size_t n = sizeof ed / sizeof ed[0];
	struct mf_tinfo ti, nt;
	struct mf_berr berr;
	struct mf_bbuf info = { 0 };
	char ent[65];
	int rc = -1;

	if (mf_tinfo_parse(buf, len, 0, &ti, &berr) < 0 || mf_tinfo_describe(&ti, &berr) < 0) {
		snprintf(err, errsz, "byte %zu: %s", berr.off, berr.msg);
		return -1;
	}
	memcpy(old_ih, ti.sha1, 20);
	if (o->entropy) {
		if (mf_meta_entropy(ent) < 0) {
			snprintf(err, errsz, "cannot draw random bytes for the entropy key: %s",
			    strerror(errno));
			return -1;
		}
		set_str(&ed[0], ent, 64);
		ed[0].op = ADD;		/* an entropy drawn before stays */
	}
	if (o->name)
		set_str(&ed[1], o->name, strlen(o->name));
	if (o->private >= 0)
		set_int(&ed[2], o->private ? 1 : 0);
	if (o->source && *o->source)
		set_str(&ed[3], o->source, strlen(o->source));
	else if (o->source)
		ed[3].op = DEL;
	dict_edit(&info, &ti.info, ed, n);
	mf_meta_outer(out, &ti.root, info.p, info.n, o, MF_META_MODIFY, report);
	if (report)
		report_edits(report, &ti.info, ed, n);
	if (info.oom || out->oom) {
		snprintf(err, errsz, "out of memory");
		goto done;
	}
	/* Read back as any torrent is read: the infohash, and a check of the edits. */
	if (mf_tinfo_parse(out->p, out->n, 0, &nt, &berr) < 0 || mf_tinfo_describe(&nt, &berr) < 0) {
		snprintf(err, errsz, "the rewritten torrent does not read back (byte %zu: %s)",
		    berr.off, berr.msg);
		goto done;
	}
	memcpy(new_ih, nt.sha1, 20);
	rc = 0;
done:
	edits_free(ed, n);
	mf_bbuf_free(&info);
	return rc;
}

int
mf_meta_modify(const char *in, const char *out, const struct mf_topts *o, int dry_run,
    FILE *report, struct mf_tresult *res, char *err, size_t errsz)
{
	const char *dest = out ? out : in;
	struct mf_tbuf buf;
	struct mf_bbuf b = { 0 };
	struct stat st;
	unsigned char oih[20], nih[20];
	char msg[512];
	mode_t mode = 0644;
	int rc = -1;

	memset(res, 0, sizeof *res);
	/* In place means a rename over the path: a symlink would become a file. */
	if (!out && lstat(in, &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(err, errsz, "%s is a symlink: give -o for the rewritten torrent", in);
		return -2;
	}
	if (mf_tbuf_read(in, MAX_TORRENT, &buf) < 0) {
		snprintf(err, errsz, "cannot read %s: %s", in, strerror(errno));
		return -1;
	}
	/* The torrent holds the passkey: its permissions go to the new file. */
	if (strcmp(in, "-") != 0 && stat(in, &st) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 0777;
	if (mf_meta_rewrite(buf.p, buf.len, o, &b, oih, nih, report, msg, sizeof msg) < 0) {
		snprintf(err, errsz, "%s: %s", in, msg);
		goto done;
	}
	mf_hex(oih, 20, res->old_infohash);
	mf_hex(nih, 20, res->infohash);
	res->changed = b.n != buf.len || memcmp(b.p, buf.p, b.n) != 0;
	if (!dry_run && (out || res->changed)) {
		mf_atomic_sweep(dest);
		if (mf_write_atomic(dest, b.p, b.n, mode) < 0) {
			snprintf(err, errsz, "cannot write %s: %s", dest, strerror(errno));
			res->retryable = errno == ENOSPC || errno == EIO || errno == EDQUOT;
			rc = -2;
			goto done;
		}
	}
	rc = 0;
done:
	if (b.p)
		explicit_bzero(b.p, b.n);
	mf_bbuf_free(&b);
	mf_tbuf_free(&buf);
	return rc;
}
