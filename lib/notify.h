/* notify: what a run's notification says (its new and failed releases, from the records)
 * and how it goes out: a webhook body per format, or a command given the JSON. */
#ifndef MF_NOTIFY_H
#define MF_NOTIFY_H

#include <stddef.h>

enum mf_notify_fmt { MF_NOTIFY_JSON, MF_NOTIFY_DISCORD, MF_NOTIFY_NTFY, MF_NOTIFY_SLACK };

/* "json", "discord", "ntfy" or "slack" into *fmt; -1 when it is none of them. */
int mf_notify_fmt_parse(const char *name, enum mf_notify_fmt *fmt);
/* The format a webhook's host implies (discord.com, hooks.slack.com, ntfy.sh), else JSON. */
enum mf_notify_fmt mf_notify_fmt_guess(const char *url);

/* One release worth telling: new (a torrent made or added this run) or failed. */
struct mf_notify_entry {
	int	failed;
	int	retryable;
	char	*id, *title;			/* title: title, else staging.name */
	char	*mam_json, *torrent, *infohash;	/* new */
	char	*stage, *message;		/* failed */
};

struct mf_notify {
	struct mf_notify_entry *e;
	size_t	n, cap;
	unsigned long lines;			/* input lines seen, blank ones included */
	size_t	records, added, created, nnew, nfailed;
	char	host[256];
	const char *const *secrets;		/* hidden in every text taken from a record */
	size_t	nsecrets;
	int	test;				/* a test notification: due with no entries */
};

/* secrets (the caller keeps them) are replaced by "(hidden)" wherever a record has them. */
void mf_notify_init(struct mf_notify *r, const char *const *secrets, size_t nsecrets);
/* Take one input line (a record, or anything else: an input failure); -1 out of memory. */
int mf_notify_line(struct mf_notify *r, const char *line, size_t len);
void mf_notify_free(struct mf_notify *r);
/* 1 when there is something to say: a new or a failed release (or a test). */
int mf_notify_due(const struct mf_notify *r);
/* "mamfast on HOST: 2 new, 1 failed" (ASCII only, for a header). */
void mf_notify_title(const struct mf_notify *r, char *out, size_t n);
/* The body in fmt (malloc'd, NUL-terminated) and its content type; NULL out of memory. */
char *mf_notify_body(const struct mf_notify *r, enum mf_notify_fmt fmt, const char **type);

/*
 * POST the body to url within timeout seconds an attempt, retrying transport errors, 5xx
 * and 429 up to attempts in all.  0 delivered; 69 (EX_UNAVAILABLE) not delivered; 76
 * (EX_PROTOCOL) refused for good (another 4xx); 78 the URL is unusable.  err says why,
 * naming the receiver by scheme and host only (the rest of a webhook URL is its secret).
 */
int mf_notify_post(const struct mf_notify *r, const char *url, enum mf_notify_fmt fmt,
    double timeout, int attempts, char *err, size_t errsz);
/*
 * Run cmd, split on blanks and never given to a shell, in a process group of its own
 * with the JSON body on standard input and standard output on standard error, for at
 * most timeout seconds.  0 when it exits 0; 69 otherwise, with err saying why.
 */
int mf_notify_run(const char *cmd, const char *body, double timeout, char *err,
    size_t errsz);

#endif
