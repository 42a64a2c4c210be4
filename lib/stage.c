/* stage: hardlink (or copy) a release's files under its MAM name (see stage.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audnex.h"	/* mf_asin_valid */
#include "file.h"
#include "json.h"
#include "log.h"
#include "naming.h"
#include "scan.h"
#include "stage.h"

enum how { HOW_LINK, HOW_COPY, HOW_EXISTS };
static const char *how_name[] = { "link", "copy", "exists" };

struct item {
	char		 src[PATH_MAX];
	const char	*rel;		/* src below the source folder */
	char		 dst[PATH_MAX];
	char		 ext[32];
	struct stat	 st;
	size_t		 group, part;	/* its extension's group, its number in it */
	size_t		 count;		/* a group's first item: files in the group */
	enum how	 how;
	int		 replace;	/* --force over other content */
	int		 made;		/* created by this run (removed on failure) */
};

int
mf_ext_listed(const char *list, const char *name)
{
	const char *dot = strrchr(name, '.'), *p = list;
	size_t el;

	if (dot == NULL || dot == name || list == NULL)
		return 0;
	dot++;
	el = strlen(dot);
	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '.')
			p++;
		n = strcspn(p, " ,\t");
		if (n == el && n > 0 && strncasecmp(p, dot, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/*
 * The source folder is read through descriptors, never through its path again: the
 * folder itself (held for the whole record) and the subfolder of the file at hand (one at
 * a time: files[] is sorted, so a subfolder's files come together), each opened with
 * O_NOFOLLOW.  A folder swapped for a link (or a file for another) after the checks can
 * then not make us link or copy anything from outside; what was linked is checked to be
 * the file planned, and undone when it is not.
 */
struct srcdir {
	int	fd;		/* the source folder */
	int	sub;		/* the subfolder subrel, or -1 */
	char	subrel[PATH_MAX];
};

/* The descriptor of the folder holding it->rel (its name there in *name); -1 with errno. */
static int
src_folder(struct srcdir *sd, const struct item *it, const char **name)
{
	const char *slash = strrchr(it->rel, '/');
	size_t n = slash ? (size_t)(slash - it->rel) : 0;

	*name = slash ? slash + 1 : it->rel;
	if (!slash)
		return sd->fd;
	if (sd->sub >= 0 && strlen(sd->subrel) == n && memcmp(sd->subrel, it->rel, n) == 0)
		return sd->sub;
	if (sd->sub >= 0)
		close(sd->sub);
	sd->sub = -1;
	if (n >= sizeof(sd->subrel)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sd->subrel, it->rel, n);
	sd->subrel[n] = '\0';
	return sd->sub = mf_opendir_at(sd->fd, sd->subrel);
}

/* The source file it, opened as planned (no link followed, the same inode); -1 with errno. */
static int
src_open(struct srcdir *sd, const struct item *it)
{
	struct mf_fid id;
	const char *name;
	int fd = src_folder(sd, it, &name);

	if (fd < 0)
		return -1;
	mf_fid_of(&it->st, &id);
	return mf_open_at(fd, name, &id, NULL);
}

/* Same size and bytes (a copy made by an earlier run). */
static int
same_content(struct srcdir *sd, const struct item *it)
{
	char x[65536], y[65536];
	int fa, fb, same = 0;
	ssize_t n, m;

	if ((fa = src_open(sd, it)) == -1)
		return 0;
	if ((fb = open(it->dst, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		close(fa);
		return 0;
	}
	for (;;) {
		n = read(fa, x, sizeof(x));
		if (n <= 0) {
			same = n == 0 && read(fb, y, 1) == 0;
			break;
		}
		m = 0;
		while (m < n) {
			ssize_t k = read(fb, y + m, (size_t)(n - m));

			if (k <= 0)
				break;
			m += k;
		}
		if (m != n || memcmp(x, y, (size_t)n) != 0)
			break;
	}
	close(fa);
	close(fb);
	return same;
}

/*
 * Copy src to dst through a temporary file in dst's folder, keeping mode and times, then
 * rename it over dst.  The temporary name is made from a short stand-in so that it stays
 * within NAME_MAX even for a 255-byte dst name.
 */
static int
copy_file(struct srcdir *sd, const struct item *it)
{
	char tmp[PATH_MAX], stand[PATH_MAX], buf[1 << 16];
	const char *slash = strrchr(it->dst, '/');
	struct timespec ts[2];
	int in, out;
	ssize_t n;

	snprintf(stand, sizeof(stand), "%.*s/mf-stage", (int)(slash - it->dst), it->dst);
	if ((in = src_open(sd, it)) == -1)
		return -1;
	if ((out = mf_atomic_open(stand, it->st.st_mode & 07777, tmp, sizeof(tmp))) == -1) {
		close(in);
		return -1;
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (mf_write_all(out, buf, (size_t)n) == -1) {
			n = -1;
			break;
		}
	}
	ts[0] = it->st.st_atim;
	ts[1] = it->st.st_mtim;
	if (n == -1 || fchmod(out, it->st.st_mode & 07777) == -1 || futimens(out, ts) == -1) {
		mf_atomic_abort(out, tmp);
		close(in);
		return -1;
	}
	close(in);
	return mf_atomic_commit(out, tmp, it->dst);
}

/*
 * Hard-link the source of it as name in the folder dfd, and check that what got linked
 * is the file planned (the name may have been swapped since): when not, the link is
 * removed and errno is ESTALE.
 */
static int
link_checked(struct srcdir *sd, const struct item *it, int dfd, const char *name)
{
	const char *sname;
	struct stat st;
	int fd = src_folder(sd, it, &sname);

	if (fd < 0 || linkat(fd, sname, dfd, name, 0) == -1)
		return -1;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_dev != it->st.st_dev || st.st_ino != it->st.st_ino) {
		unlinkat(dfd, name, 0);
		errno = ESTALE;
		return -1;
	}
	return 0;
}

/* link(2) into the folder dfd (over an existing dst with --force: a temporary link
 * renamed into place). */
static int
link_file(struct srcdir *sd, const struct item *it, int dfd)
{
	char tmp[64];
	const char *base = strrchr(it->dst, '/') + 1;

	if (!it->replace)
		return link_checked(sd, it, dfd, base);
	snprintf(tmp, sizeof(tmp), ".mf-stage.tmp.%ld", (long)getpid());
	unlinkat(dfd, tmp, 0);
	if (link_checked(sd, it, dfd, tmp) == -1)
		return -1;
	if (renameat(dfd, tmp, dfd, base) == -1) {
		int e = errno;

		unlinkat(dfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

static int
retryable(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EIO || e == EAGAIN || e == EBUSY ||
	    e == EMFILE || e == ENFILE || e == ENOMEM;
}

/* The device of path, or of its nearest existing ancestor (for a seed root to come). */
static int
dev_of(const char *path, dev_t *dev)
{
	char p[PATH_MAX], *slash;
	struct stat st;

	snprintf(p, sizeof(p), "%s", path);
	while (stat(p, &st) == -1) {
		if ((slash = strrchr(p, '/')) == NULL || slash == p)
			return stat("/", &st) == 0 ? (*dev = st.st_dev, 0) : -1;
		*slash = '\0';
	}
	*dev = st.st_dev;
	return 0;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Count the component bytes of a relative path: each must be 1..255. */
static int
components_ok(const char *rel)
{
	while (*rel != '\0') {
		size_t n = strcspn(rel, "/");

		if (n == 0 || n > 255)
			return 0;
		rel += n;
		if (*rel == '/')
			rel++;
	}
	return 1;
}

/*
 * 1 when s holds the \xNN display form of a byte that is not UTF-8 (docs/records.md): such a
 * string names no file on disk.
 */
static int
shown_escaped(const char *s)
{
	for (; (s = strstr(s, "\\x")) != NULL; s++)
		if (isxdigit((unsigned char)s[2]) && isxdigit((unsigned char)s[3]) &&
		    !islower((unsigned char)s[2]) && !islower((unsigned char)s[3]))
			return 1;
	return 0;
}

/* Set `error` (stage "stage") and give the failed result. */
/* The staging of one record, step by step; every step fills it in further. */
struct plan {
	cJSON				*rec;
	const struct mf_stage_opts	*o;
	const char			*src_dir;
	struct srcdir			 sd;
	struct item			*items;
	const char			**paths;	/* sorted, of the items */
	size_t				 n;
	size_t				 maxc, maxb;	/* longest part suffix: chars, bytes */
	struct mf_name_out		 nm;
	char				 dstdir[PATH_MAX];
	int				 made_dir, dfd;
};

/* Set `error` on the record (stage "stage"); -1, for a step to return. */
#define FAIL(retry, ...) (mf_rec_error(p->rec, "stage", (retry), __VA_ARGS__), -1)

/* Resume: 1 when a release staged before is still there (pass it on as it is). */
static int
resume(struct plan *p, const struct mf_roots *roots)
{
	const char *staged_at = mf_json_str(p->rec, "checkpoints.staged_at");
	const char *sdir = mf_json_str(p->rec, "staging.dir");
	struct stat st;

	if (p->o->force || staged_at == NULL || sdir == NULL)
		return 0;
	if (mf_rec_paths_ok(p->rec, MF_RF_STAGING, roots, "stage") == -1)
		return -1;
	return stat(sdir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Check the ASIN and source_dir, and hold the source folder open. */
static int
open_source(struct plan *p, const struct mf_roots *roots)
{
	const char *src_dir = mf_json_str(p->rec, "source_dir");

	if (!mf_asin_valid(mf_json_str(p->rec, "asin")))
		return FAIL(0, "no valid ASIN: cannot name the release");
	if (src_dir == NULL || src_dir[0] != '/')
		return FAIL(0, "source_dir is missing or not absolute");
	if (!mf_utf8_valid(src_dir, strlen(src_dir)) || shown_escaped(src_dir))
		return FAIL(0, "%s: the folder name is not valid UTF-8: rename it",
		    src_dir);
	if (mf_rec_paths_ok(p->rec, MF_RF_SOURCE, roots, "stage") == -1)
		return -1;
	/* From here on the folder is what this descriptor is, wherever its path leads later. */
	if ((p->sd.fd = open(src_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return FAIL(errno == EMFILE || errno == ENFILE, "%s is not a folder (moved or a "
		    "symbolic link?): %s", src_dir, strerror(errno));
	if (mf_fd_inside(p->sd.fd, p->o->library) != 1)
		return FAIL(0, "source_dir %s lies outside MF_LIBRARY %s (moved since the "
		    "check?): refused", src_dir, p->o->library);
	p->src_dir = src_dir;
	return 0;
}

/* The files[] paths MF_EXTENSIONS allows, checked and sorted; one must be audio. */
static int
list_files(struct plan *p)
{
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(p->rec, "files"), *f;
	size_t nf = (size_t)cJSON_GetArraySize(files), i;
	const char *path;

	if (!cJSON_IsArray(files) || nf == 0)
		return FAIL(0, "no files[] to stage");
	if ((p->items = calloc(nf, sizeof(*p->items))) == NULL ||
	    (p->paths = calloc(nf, sizeof(*p->paths))) == NULL)
		return FAIL(1, "out of memory");
	cJSON_ArrayForEach(f, files) {
		path = mf_json_str(f, "path");
		if (path == NULL)
			continue;
		if (!mf_ext_listed(p->o->extensions, path))
			continue;	/* not a kind of file MAM gets */
		if (!mf_relpath_safe(path) || !components_ok(path))
			return FAIL(0, "files[] path \"%s\" leaves the release folder or "
			    "is not a plain name", path);
		if (!mf_utf8_valid(path, strlen(path)) || shown_escaped(path))
			return FAIL(0, "\"%s\": the file name is not valid UTF-8: rename it",
			    path);
		p->paths[p->n++] = path;
	}
	qsort(p->paths, p->n, sizeof(*p->paths), cmp_path);
	for (i = 0; i < p->n; i++)
		if (mf_is_audio(p->paths[i]))
			return 0;
	return FAIL(0, "no audio file among the files MF_EXTENSIONS allows");
}

/* Sources: regular files below the source folder (no link followed), nothing else. */
static int
stat_sources(struct plan *p)
{
	size_t i, j;
	int e;

	for (i = 0; i < p->n; i++) {
		struct item *it = &p->items[i];
		const char *dot = strrchr(p->paths[i], '.'), *name;
		int fd;

		it->rel = p->paths[i];
		if ((size_t)snprintf(it->src, sizeof(it->src), "%s/%s", p->src_dir,
		    p->paths[i]) >= sizeof(it->src))
			return FAIL(0, "%s: path too long", p->paths[i]);
		if ((fd = src_folder(&p->sd, it, &name)) == -1 ||
		    fstatat(fd, name, &it->st, AT_SYMLINK_NOFOLLOW) == -1) {
			e = errno;
			if (e == ENOENT)
				return FAIL(0, "%s: missing (moved since the scan?): scan again",
				    it->src);
			if (retryable(e))
				return FAIL(1, "%s: %s", it->src, strerror(e));
			return FAIL(0, "%s is not a regular file inside MF_LIBRARY (a "
			    "symbolic link on its path?)", it->src);
		}
		if (!S_ISREG(it->st.st_mode))
			return FAIL(0, "%s is not a regular file inside MF_LIBRARY", it->src);
		snprintf(it->ext, sizeof(it->ext), "%s", strlen(dot) < sizeof(it->ext) ? dot :
		    ".x");
		for (j = 0; it->ext[j] != '\0'; j++)
			it->ext[j] = (char)tolower((unsigned char)it->ext[j]);
	}
	return 0;
}

/*
 * Several files of one extension become " - Part 01", " - Part 02"... in order:
 * each item's number within its extension, then the count of each (a release of
 * 20,000 files takes no n * n comparisons; extensions are few).  Each item's dst holds
 * only its suffix until the name is known.
 */
static int
number_parts(struct plan *p)
{
	struct item *items = p->items;
	size_t i, j, *groups, ngroups = 0;
	char suffix[64];

	if ((groups = calloc(p->n, sizeof(*groups))) == NULL)
		return FAIL(1, "out of memory");
	for (i = 0; i < p->n; i++) {
		for (j = 0; j < ngroups && strcmp(items[groups[j]].ext, items[i].ext) != 0; j++)
			;
		if (j == ngroups)
			groups[ngroups++] = i;
		items[i].group = j;
		items[i].part = items[groups[j]].count++;
	}
	for (i = 0; i < p->n; i++) {
		size_t count = items[groups[items[i].group]].count, width = 2;

		while (count >= (width == 2 ? 100u : 1000u) && width < 6)
			width++;
		if (count > 1)
			snprintf(suffix, sizeof(suffix), " - Part %0*zu%s", (int)width,
			    items[i].part + 1, items[i].ext);
		else
			snprintf(suffix, sizeof(suffix), "%s", items[i].ext);
		snprintf(items[i].dst, sizeof(items[i].dst), "%s", suffix);
		if (mf_utf8_chars(suffix) > p->maxc)
			p->maxc = mf_utf8_chars(suffix);
		if (strlen(suffix) > p->maxb)
			p->maxb = strlen(suffix);
	}
	free(groups);
	return 0;
}

/* The MAM name of the release and its folder in the seed root, which must be free. */
static int
name_release(struct plan *p)
{
	const struct mf_stage_opts *o = p->o;
	const cJSON *rec = p->rec;
	struct mf_name_in in;
	struct stat st;
	char err[256];
	int r;

	/* The first author who is one ("X - translator" is a credit: naming.json). */
	in = (struct mf_name_in){ mf_json_str(rec, "title"), mf_json_str(rec, "series"),
	    mf_json_str(rec, "series_position"), mf_json_str(rec, "year"),
	    mf_naming_first_author(o->naming, cJSON_GetObjectItemCaseSensitive(rec, "authors")),
	    mf_json_str(rec, "asin"), o->tag, p->maxc, p->maxb, o->max_path };
	if (mf_naming_build(o->naming, &in, &p->nm, err, sizeof(err)) == -1)
		return FAIL(0, "cannot name the release: %s", err);
	if ((size_t)snprintf(p->dstdir, sizeof(p->dstdir), "%s/%s", o->seed_root,
	    p->nm.folder) >= sizeof(p->dstdir))
		return FAIL(0, "%s: path too long", p->nm.folder);
	/* A seed root still to be made holds no symbolic link to follow out of it. */
	if (lstat(o->seed_root, &st) == 0 && (r = mf_path_inside(p->dstdir, o->seed_root)) != 1)
		return FAIL(0, r == 0 ? "%s leads outside MF_SEED_ROOT (a symbolic "
		    "link?): not staged" : "%s: cannot resolve MF_SEED_ROOT", p->dstdir);
	if (lstat(p->dstdir, &st) == 0 && !S_ISDIR(st.st_mode))
		return FAIL(0, "%s exists and is not a folder: remove it", p->dstdir);
	return 0;
}

/* Plan every file before touching anything: a conflict changes nothing. */
static int
plan_files(struct plan *p)
{
	const struct mf_stage_opts *o = p->o;
	char suffix[PATH_MAX];	/* each dst holds only its part suffix here */
	dev_t seed_dev = 0;
	struct stat st;
	size_t i;

	if (dev_of(o->seed_root, &seed_dev) == -1)
		return FAIL(0, "%s: cannot reach MF_SEED_ROOT", o->seed_root);
	for (i = 0; i < p->n; i++) {
		struct item *it = &p->items[i];

		snprintf(suffix, sizeof(suffix), "%s", it->dst);
		if ((size_t)snprintf(it->dst, sizeof(it->dst), "%s/%s%s", p->dstdir, p->nm.base,
		    suffix) >= sizeof(it->dst))
			return FAIL(0, "%s: path too long", p->dstdir);
		it->how = o->copy || it->st.st_dev != seed_dev ? HOW_COPY : HOW_LINK;
		p->paths[i] = it->dst;	/* the source names are not needed any more */
	}
	qsort(p->paths, p->n, sizeof(*p->paths), cmp_path);
	for (i = 1; i < p->n; i++)
		if (strcmp(p->paths[i - 1], p->paths[i]) == 0)
			return FAIL(0, "two files map to %s", p->paths[i]);
	for (i = 0; i < p->n; i++) {
		struct item *it = &p->items[i];

		if (lstat(it->dst, &st) == -1)
			continue;
		if (st.st_dev == it->st.st_dev && st.st_ino == it->st.st_ino)
			it->how = HOW_EXISTS;
		else if (S_ISREG(st.st_mode) && st.st_size == it->st.st_size &&
		    same_content(&p->sd, it))
			it->how = HOW_EXISTS;
		else if (o->force && !S_ISDIR(st.st_mode))
			it->replace = 1;
		else
			return FAIL(0, "%s already exists with other content: nothing "
			    "changed (remove it, or use --force to replace it)", it->dst);
	}
	return 0;
}

/* Link (or copy) one planned file into the open release folder. */
static int
make_file(struct plan *p, struct item *it)
{
	int r = 0, e;

	if (it->how == HOW_LINK) {
		r = link_file(&p->sd, it, p->dfd);
		if (r == -1 && (errno == EXDEV || errno == EPERM || errno == EMLINK))
			it->how = HOW_COPY;	/* another filesystem, or no links */
	}
	if (it->how == HOW_COPY)
		r = copy_file(&p->sd, it);
	if (r == -1 && mf_replaced_errno(errno))
		return FAIL(1, "%s changed while it was staged (replaced, or a symbolic link "
		    "now): nothing staged; scan again", it->src);
	if (r == -1) {
		e = errno;
		return FAIL(retryable(e), "cannot %s %s to %s: %s", how_name[it->how], it->src,
		    it->dst, strerror(e));
	}
	it->made = !it->replace;
	return 0;
}

/* Make the release folder and its files, durably; on failure leave no half-staged
 * folder behind: remove what this run made. */
static int
make_files(struct plan *p)
{
	const char *seed_root = p->o->seed_root;
	struct stat st;
	size_t i;
	int e;

	if (lstat(seed_root, &st) == -1 && mf_mkdir_p(seed_root, MF_DIR_MODE) == -1) {
		e = errno;
		return FAIL(retryable(e), "cannot create MF_SEED_ROOT %s: %s", seed_root,
		    strerror(e));
	}
	if (mf_mkdir(p->dstdir, MF_DIR_MODE) == 0)
		p->made_dir = 1;
	else if (errno != EEXIST) {
		e = errno;
		return FAIL(retryable(e), "cannot create %s: %s", p->dstdir, strerror(e));
	}
	if ((p->dfd = open(p->dstdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		e = errno;
		mf_rec_error(p->rec, "stage", retryable(e), "cannot open %s: %s", p->dstdir,
		    strerror(e));
		goto undo;
	}
	for (i = 0; i < p->n; i++)
		if (p->items[i].how != HOW_EXISTS && make_file(p, &p->items[i]) == -1)
			goto undo;
	if (mf_fsync_dir(p->dstdir) == -1 || (p->made_dir && mf_fsync_dir(seed_root) == -1)) {
		e = errno;
		mf_rec_error(p->rec, "stage", 1, "cannot sync %s: %s", p->dstdir, strerror(e));
		goto undo;
	}
	return 0;
undo:
	for (i = 0; i < p->n; i++)
		if (p->items[i].made)
			unlink(p->items[i].dst);
	if (p->made_dir)
		rmdir(p->dstdir);
	return -1;
}

/* The record's `staging`, from the plan. */
static void
put_staging(const struct plan *p)
{
	cJSON *staging = cJSON_CreateObject(), *sf, *dropped;
	size_t i;

	mf_json_put_str(staging, "dir", p->dstdir);
	mf_json_put_str(staging, "name", p->nm.folder);
	sf = cJSON_AddArrayToObject(staging, "files");
	for (i = 0; i < p->n; i++) {
		cJSON *x = cJSON_CreateObject();

		mf_json_put_str(x, "src", p->items[i].src);
		mf_json_put_str(x, "dst", p->items[i].dst);
		mf_json_put_str(x, "how", how_name[p->items[i].how]);
		cJSON_AddItemToArray(sf, x);
	}
	mf_json_put_bool(staging, "truncated", p->nm.truncated);
	dropped = cJSON_AddArrayToObject(staging, "dropped");
	for (i = 0; i < (size_t)p->nm.ndropped; i++)
		cJSON_AddItemToArray(dropped, cJSON_CreateString(p->nm.dropped[i]));
	if (p->o->dry_run)
		mf_json_put_bool(staging, "dry_run", 1);
	mf_json_put(p->rec, "staging", staging);
}

enum mf_rec_result
mf_stage_record(cJSON *rec, const struct mf_stage_opts *o)
{
	const struct mf_roots roots = { o->library, o->seed_root, NULL };
	struct plan p = { .rec = rec, .o = o, .sd = { -1, -1, "" }, .dfd = -1 };
	enum mf_rec_result res = MF_REC_FAIL;
	int r;

	if ((r = resume(&p, &roots)) != 0)
		return r > 0 ? MF_REC_SKIP : MF_REC_FAIL;
	if (open_source(&p, &roots) == 0 && list_files(&p) == 0 && stat_sources(&p) == 0 &&
	    number_parts(&p) == 0 && name_release(&p) == 0 && plan_files(&p) == 0 &&
	    (o->dry_run || make_files(&p) == 0)) {
		put_staging(&p);
		res = MF_REC_OK;
	}
	if (p.dfd != -1)
		close(p.dfd);
	if (p.sd.sub != -1)
		close(p.sd.sub);
	if (p.sd.fd != -1)
		close(p.sd.fd);
	free(p.items);
	free(p.paths);
	return res;
}
