/* qbt: a qBittorrent WebAPI v2 client (log in, look up, add) over one kept-alive connection. */
#ifndef MF_QBT_H
#define MF_QBT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "record.h"

/* What went wrong; the fatal kinds stop the run (every later call fails the same way). */
enum mf_qbt_rc {
	MF_QBT_OK = 0,
	MF_QBT_EREC,		/* this record failed, not retryable */
	MF_QBT_ERETRY,		/* this record failed, retryable (e.g. added but not visible) */
	MF_QBT_EDOWN,		/* fatal: server unreachable after the retries (exit 69) */
	MF_QBT_EAUTH,		/* fatal: credentials rejected or IP banned (exit 77) */
	MF_QBT_ECONFIG		/* fatal: unusable configuration (exit 78) */
};

struct mf_qbt_opts {
	const char	*url;		/* base, e.g. http://127.0.0.1:8080 (no credentials) */
	const char	*user;		/* with pass; or api_key; or neither (localhost bypass) */
	const char	*pass;		/* secrets: copied, wiped on free, never printed */
	const char	*api_key;
	double		timeout;	/* seconds per request */
	int		retries;	/* attempts per request, the first included */
	double		retry_time;	/* seconds one request may spend retrying */
	double		retry_base;	/* first backoff ceiling, seconds */
	double		confirm_time;	/* seconds to wait for an added torrent to show */
};

/* What qBittorrent says about one torrent (strings are malloc'd). */
struct mf_qbt_torrent {
	int	found;
	char	hash[41];
	char	*category;
	char	*tags;		/* as qBittorrent lists them: "a, b" */
	char	*save_path;
	char	*state;
	int	has_limits;	/* the answer had the limit fields below */
	int	has_inactive;	/* ... and an inactive limit (4.x has none) */
	int	auto_tmm;
	double	ratio_limit;	/* -2 global, -1 none */
	long	seeding_time_limit, inactive_seeding_time_limit;	/* minutes */
	long	up_limit;	/* bytes/s, 0 none */
};
void mf_qbt_torrent_clear(struct mf_qbt_torrent *t);

struct mf_qbt;

/* NULL with a message on stderr when the URL is unusable (e.g. carries credentials). */
struct mf_qbt *mf_qbt_new(const struct mf_qbt_opts *o);
void mf_qbt_free(struct mf_qbt *q);
/* The last error message (never contains a secret). */
const char *mf_qbt_error(const struct mf_qbt *q);
/* 0, or the exit status of the fatal error that stopped the client (69, 77, 78). */
int mf_qbt_fatal(const struct mf_qbt *q);

/* Log in (done on first use anyway); MF_QBT_OK or an error kind. */
int mf_qbt_login(struct mf_qbt *q);
/* torrents/info for n hashes (in requests of a few dozen): t[i].found says whether
 * hashes[i] is there. */
int mf_qbt_lookup(struct mf_qbt *q, const char *const *hashes, size_t n,
    struct mf_qbt_torrent *t);
/*
 * Log in and ask app/version and app/webapiVersion (into version and api, e.g. "v4.5.2"
 * and "2.8.19"): are we let in, and by what?
 */
int mf_qbt_check(struct mf_qbt *q, char *version, size_t n, char *api, size_t an);
/*
 * The releases mamfast is tested against, each as a real server (scripts/qbt-versions):
 * 4.5 (WebAPI 2.8), 5.1 (2.11), 5.3 (2.16).  mf_qbt_tested says where an app/version
 * answer falls: 0 in that range, -1 older, 1 newer, 2 unreadable.
 */
#define MF_QBT_TESTED_FIRST	"4.5"
#define MF_QBT_TESTED_LAST	"5.3"
int mf_qbt_tested(const char *version);
/* The base URL in use (no credentials). */
const char *mf_qbt_url(const struct mf_qbt *q);
/* Create the category unless it exists (once per run per name), with save_path as its
 * save path (NULL: qBittorrent's default). */
int mf_qbt_category(struct mf_qbt *q, const char *name, const char *save_path);

/*
 * The add options beyond category and tags (MF_QBT_RATIO_LIMIT and friends): each limit is
 * sent only when set, so an unset one leaves qBittorrent's default (its global limit).
 */
struct mf_qbt_limits {
	int	auto_tmm;	/* autoTMM: the category decides the save path */
	int	has_ratio, has_seeding, has_inactive, has_up;
	double	ratio;		/* -2 global, -1 none, 0 to 9998 */
	long	seeding;	/* minutes: -2 global, -1 none, 0 to 525600 */
	long	inactive;	/* the same, for inactive seeding (qBittorrent 5) */
	long	up;		/* bytes/s, 0 none */
};
/* Read them from the configuration (mf-qbt-add's flags set the keys); exit 78 naming the
 * key when a value is malformed or out of range. */
void mf_qbt_limits_load(struct mf_qbt_limits *l);

struct mf_qbt_add {
	const char	*hash;		/* 40 lower-case hex */
	const void	*torrent;	/* the .torrent bytes */
	size_t		len;
	const char	*save_path;
	const char	*category;	/* NULL or "" for none */
	const char	*tags;		/* "a,b" or NULL */
	int		paused;
	const char	*id;		/* the record's, for messages (or NULL) */
	const struct mf_qbt_limits *limits;	/* NULL for none */
};
/*
 * Add one torrent and confirm it with torrents/info.  *existed is set to 1 when the
 * server already had it (a 4.x "Fails." or a 5.x 409, then found by a lookup).  t gets the
 * server's view of the torrent.
 */
int mf_qbt_add(struct mf_qbt *q, const struct mf_qbt_add *a, int *existed,
    struct mf_qbt_torrent *t);

/* Pure parsers of server answers (fuzzed in fuzz/fuzz_qbt.c). */
enum mf_qbt_addres {
	MF_QBT_ADDED,		/* "Ok." (up to 5.1), or JSON with a success count (5.2+) */
	MF_QBT_PENDING,		/* 202 JSON with a pending count only: added later (5.2+) */
	MF_QBT_REFUSED,		/* "Fails.", 409, or JSON failures only: look it up */
	MF_QBT_INVALID,		/* 415: not a valid torrent file */
	MF_QBT_UNEXPECTED	/* anything else */
};
enum mf_qbt_addres mf_qbt_parse_add(long status, const char *body, size_t len);
/* What an auth/login answer means (the releases differ: see mf-qbt-add(1)). */
enum mf_qbt_loginres {
	MF_QBT_LOGIN_OK,		/* 200 "Ok." (up to 5.1), 204 (5.2+) */
	MF_QBT_LOGIN_REJECTED,		/* 200 "Fails." (up to 5.1) */
	MF_QBT_LOGIN_UNAUTHORIZED,	/* 401: wrong password (5.2+) or cross-site: ask */
	MF_QBT_LOGIN_BANNED,		/* 403: this IP is banned */
	MF_QBT_LOGIN_UNEXPECTED
};
enum mf_qbt_loginres mf_qbt_parse_login(long status, const char *body, size_t len);
/* torrents/info array: how many of the n hashes are in it (t[i] filled for each), or -1
 * when malformed. */
int mf_qbt_parse_info(const char *body, size_t len, const char *const *hashes, size_t n,
    struct mf_qbt_torrent *t);
/* torrents/categories object: 1 when name is a key, 0 when not, -1 when malformed. */
int mf_qbt_parse_categories(const char *body, size_t len, const char *name);
/* "2.8.19" -> 20819 style number (major*10000+minor*100+patch), -1 when malformed. */
long mf_qbt_parse_version(const char *body, size_t len);

/* Record-level helpers. */
/* 40 hex digits (any case) into out lower-cased; -1 otherwise. */
int mf_qbt_hash_norm(const char *in, char out[41]);
/* Tags trimmed, empty ones dropped, joined with ","; caller frees. */
char *mf_qbt_tags_norm(const char *csv);
/*
 * The save path qBittorrent should use for a staging folder: its parent, with seed_root
 * replaced by map (matched on a path boundary) when map is set.  -1 when map is set and the
 * folder is not under seed_root, or when the result does not fit.
 */
int mf_qbt_save_path(const char *staging_dir, const char *seed_root, const char *map,
    char *out, size_t n);

/* What mf-qbt-add does with the records (its stream ops: record + flush, ctx = run). */
struct mf_qbt_job {
	cJSON	*rec;		/* held by the stream until flush returns */
	char	hash[41];
	char	*save;
};
struct mf_qbt_run {
	struct mf_qbt	*q;
	const char	*category;
	char		*tags;		/* normalised "a,b" */
	const char	*seed_root;
	const char	*save_map;
	int		paused;
	struct mf_qbt_limits limits;
	unsigned	warned;		/* limit warnings said this run (one bit each) */
	int		dry_run;
	size_t		max_torrent;	/* largest .torrent read, bytes */
	size_t		failed;		/* records failed in flush (the stream cannot see them) */
	struct mf_qbt_job *jobs;
	size_t		njobs, capjobs;
};
enum mf_rec_result mf_qbt_record(cJSON *rec, void *run);
int mf_qbt_flush(void *run);
void mf_qbt_run_free(struct mf_qbt_run *run);

#endif
