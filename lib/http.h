/* http: one kept-alive libcurl handle per run, bounded bodies, and the retry policy. */
#ifndef MF_HTTP_H
#define MF_HTTP_H

#include <stddef.h>

struct mf_http;

struct mf_http_resp {
	long	status;		/* HTTP status, 0 when the request never got an answer */
	char	*body;		/* NUL-terminated, at most MF_HTTP_MAX_BODY bytes */
	size_t	len;
	double	retry_after;	/* seconds from a Retry-After header, or -1 */
	int	transport;	/* 0, or the libcurl error code */
	char	error[256];	/* transport error text (never contains credentials) */
	int	too_large;	/* the body went over MF_HTTP_MAX_BODY (error says so) */
};

#define MF_HTTP_MAX_BODY (64u << 20)

/* timeout: seconds for a whole request (connect included).  The cookie engine is on. */
struct mf_http *mf_http_new(double timeout);
void mf_http_free(struct mf_http *h);
/* A header sent with every request from now on, e.g. "Referer: http://...". */
int mf_http_add_header(struct mf_http *h, const char *header);

int mf_http_get(struct mf_http *h, const char *url, struct mf_http_resp *r);
/* body is application/x-www-form-urlencoded (see mf_http_escape). */
int mf_http_post_form(struct mf_http *h, const char *url, const char *body,
    struct mf_http_resp *r);

struct mf_http_part {
	const char	*name;
	const char	*value;		/* a plain field; or: */
	const void	*data;		/* a file part of len bytes, sent as filename */
	size_t		len;
	const char	*filename;
	const char	*type;
};
int mf_http_post_multipart(struct mf_http *h, const char *url,
    const struct mf_http_part *parts, size_t n, struct mf_http_resp *r);

/* The return of the calls above: 0 when an HTTP answer came (any status), -1 when not. */

void mf_http_resp_free(struct mf_http_resp *r);
/*
 * A short, printable excerpt of a body for an error message: at most 120 bytes of it,
 * tabs and line ends as spaces, other control characters as '?', valid UTF-8 kept whole,
 * other bytes as \xNN, trailing spaces dropped; always NUL-terminated and never cut
 * inside a character.
 */
void mf_http_excerpt(const char *body, size_t len, char *out, size_t n);

/* URL-encode s; caller frees. */
char *mf_http_escape(const char *s);

/*
 * Retry policy: exponential backoff with full jitter, bounded in attempts and total time.
 *   struct mf_retry rt; mf_retry_init(&rt, 5, 60, 0.5);
 *   while (request fails transiently) if (mf_retry_wait(&rt, hint) < 0) give up;
 */
struct mf_retry {
	int	max_attempts;	/* attempts in all, including the first */
	double	max_total;	/* seconds from init */
	double	base;		/* first backoff ceiling */
	double	cap;		/* largest single wait */
	int	attempt;	/* attempts made so far */
	double	start;
};
void mf_retry_init(struct mf_retry *rt, int max_attempts, double max_total, double base);
/*
 * Count one failed attempt and sleep before the next.  hint (>= 0) is a server's
 * Retry-After in seconds, honoured when it fits the budget.  Returns 0 to try again,
 * -1 when the attempts or the time are used up (without sleeping).
 */
int mf_retry_wait(struct mf_retry *rt, double hint);

#endif
