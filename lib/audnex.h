/* audnex: the Audnex API client (regions, retries, circuit breaker, pace, on-disk cache). */
#ifndef MF_AUDNEX_H
#define MF_AUDNEX_H

#include <stddef.h>
#include <time.h>
#include <cjson/cJSON.h>

struct mf_audnex_opts {
	const char	*base_url;	/* e.g. https://api.audnex.us */
	const char	*regions;	/* tried in order: "us uk" or "us,uk" */
	const char	*cache_dir;	/* the cache goes in <cache_dir>/audnex; NULL: none */
	double		ttl;		/* seconds a cached book stays fresh */
	double		neg_ttl;	/* seconds a cached "not in this region" is trusted */
	int		refresh;	/* 1: never answer from the cache (still write it) */
	int		dry_run;	/* 1: never write the cache */
	double		timeout;	/* seconds per request */
	int		attempts;	/* attempts per request, in all */
	double		retry_time;	/* seconds one request may spend retrying */
	double		backoff;	/* first backoff ceiling, seconds */
	double		rate;		/* requests per second at most; 0: no limit */
	int		breaker;	/* consecutive failures that stop all calls; 0: never */
};

enum mf_audnex_rc {
	MF_AUDNEX_OK,		/* book found (chapters may still be missing: see why) */
	MF_AUDNEX_NOTFOUND,	/* in none of the regions */
	MF_AUDNEX_BAD,		/* refused: bad ASIN, other 4xx, unusable answer */
	MF_AUDNEX_DOWN,		/* transport errors or 5xx until the retries ran out */
	MF_AUDNEX_OPEN		/* the circuit breaker is open: Audnex was not asked */
};

struct mf_audnex_result {
	cJSON	*book;		/* the raw book answer (caller frees, or mf_audnex_result_free) */
	cJSON	*chapters;	/* the raw chapters answer, or NULL */
	char	region[8];	/* region that answered */
	int	cached;		/* 1 when the book came from the cache */
	int	requests;	/* HTTP requests made for this call */
	char	why[512];	/* why it failed, or why chapters are missing; "" otherwise */
};

struct mf_audnex;

struct mf_audnex *mf_audnex_new(const struct mf_audnex_opts *o);
void mf_audnex_free(struct mf_audnex *a);

/* Book and chapters for asin (upper-cased before use); never sends update=1. */
enum mf_audnex_rc mf_audnex_fetch(struct mf_audnex *a, const char *asin,
    struct mf_audnex_result *res);
void mf_audnex_result_free(struct mf_audnex_result *res);
/* 1 once the circuit breaker has opened. */
int mf_audnex_breaker_open(const struct mf_audnex *a);
/* HTTP requests made by this client so far. */
long mf_audnex_requests(const struct mf_audnex *a);

/* ---- pure helpers (no I/O; fuzzed) ---- */

/* 1 when s is an ASIN: ^(B[0-9A-Z]{9}|[0-9]{9}[0-9X])$. */
int mf_asin_valid(const char *s);

/*
 * The server's message from an error body in either format: .error.message (2026 and
 * later), .message (Fastify's flat form), or a string .error.  1 when found, else 0 and
 * buf gets a short excerpt of the body (printable ASCII) or "".
 */
int mf_audnex_errmsg(const char *body, size_t len, char *buf, size_t n);
/* 1 when a 5xx message means "no such book here" (old deployments answered 500). */
int mf_audnex_notfound_msg(const char *msg);

/*
 * meta.audnex (docs/records.md) from a raw book and (optional) chapters answer; lenient
 * about types and missing optional fields.  NULL when the book has no string asin/title.
 */
cJSON *mf_audnex_meta(const cJSON *book, const cJSON *chapters);

/*
 * Parse one cache entry.  1: a fresh entry for a found book (book/chapters set, owned by the
 * caller), 2: a fresh "not in this region" entry, 0: stale, -1: corrupt or not this key.
 */
int mf_audnex_cache_parse(const char *text, size_t len, const char *asin, const char *region,
    time_t now, double ttl, double neg_ttl, cJSON **book, cJSON **chapters);

#endif
