/* notify: what a run's notification says (its new and failed releases, from the records)
 * and how it goes out: a webhook body per format, or a command given the JSON. */
#include "notify.h"
#include "clock.h"
#include "html.h"
#include "http.h"
#include "json.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static const char *const fmt_names[] = { "json", "discord", "ntfy", "slack" };

int
mf_notify_fmt_parse(const char *name, enum mf_notify_fmt *fmt)
{
	for (size_t i = 0; i < sizeof fmt_names / sizeof fmt_names[0]; i++)
		if (strcmp(name, fmt_names[i]) == 0) {
			*fmt = (enum mf_notify_fmt)i;
			return 0;
		}
	return -1;
}

/* The host part of url ("host" or "host:port"), into out. */
static void
url_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://"), *e, *at;

	h = h ? h + 3 : url;
	e = h + strcspn(h, "/?#");
	if ((at = memchr(h, '@', (size_t)(e - h))))
		h = at + 1;	/* never the credentials */
	snprintf(out, n, "%.*s", (int)(e - h), h);
}

enum mf_notify_fmt
mf_notify_fmt_guess(const char *url)
{
	char host[256];

	url_host(url, host, sizeof host);
	host[strcspn(host, ":")] = '\0';
	if (!strcasecmp(host, "discord.com") || !strcasecmp(host, "discordapp.com") ||
	    !strcasecmp(host, "ptb.discord.com") || !strcasecmp(host, "canary.discord.com"))
		return MF_NOTIFY_DISCORD;
	if (!strcasecmp(host, "hooks.slack.com"))
		return MF_NOTIFY_SLACK;
	if (!strcasecmp(host, "ntfy.sh"))
		return MF_NOTIFY_NTFY;
	return MF_NOTIFY_JSON;
}

void
mf_notify_init(struct mf_notify *r, const char *const *secrets, size_t nsecrets)
{
	memset(r, 0, sizeof *r);
	r->secrets = secrets;
	r->nsecrets = nsecrets;
	if (gethostname(r->host, sizeof r->host - 1) < 0 || !*r->host)
		snprintf(r->host, sizeof r->host, "localhost");
	/* The title goes into a header: printable ASCII only. */
	for (char *p = r->host; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			*p = '?';
}

/* A copy of s with every secret replaced (NULL stays NULL). */
static char *
hide(const struct mf_notify *r, const char *s)
{
	struct mf_buf b = { 0 };

	if (!s)
		return NULL;
	while (*s) {
		size_t i, best = 0;

		for (i = 0; i < r->nsecrets; i++) {
			size_t k = strlen(r->secrets[i]);

			if (k >= 4 && k > best && strncmp(s, r->secrets[i], k) == 0)
				best = k;
		}
		if (best) {
			mf_buf_str(&b, "(hidden)");
			s += best;
		} else {
			mf_buf_put(&b, s, 1);
			s++;
		}
	}
	if (!b.buf && !b.oom)
		return strdup("");
	return mf_buf_take(&b);
}

static int
entry_add(struct mf_notify *r, struct mf_notify_entry *e)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		struct mf_notify_entry *ne = realloc(r->e, nc * sizeof *ne);

		if (!ne)
			return -1;
		r->e = ne;
		r->cap = nc;
	}
	r->e[r->n++] = *e;
	if (e->failed)
		r->nfailed++;
	else
		r->nnew++;
	return 0;
}

static void
entry_free(struct mf_notify_entry *e)
{
	free(e->id);
	free(e->title);
	free(e->mam_json);
	free(e->torrent);
	free(e->infohash);
	free(e->stage);
	free(e->message);
}

/* A string field of rec, secrets hidden; -1 out of memory (absent is not an error). */
static int
take(const struct mf_notify *r, const cJSON *rec, const char *path, char **out)
{
	const char *s = mf_json_str(rec, path);

	*out = s ? hide(r, s) : NULL;
	return s && !*out ? -1 : 0;
}

int
mf_notify_line(struct mf_notify *r, const char *line, size_t len)
{
	struct mf_notify_entry e;
	cJSON *rec, *err;
	size_t i = 0;
	int rc = 0;

	r->lines++;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
		i++;
	if (i == len)
		return 0;
	r->records++;
	memset(&e, 0, sizeof e);
	rec = mf_utf8_valid(line, len) ? cJSON_ParseWithLength(line, len) : NULL;
	if (!cJSON_IsObject(rec)) {
		/* Said like mf_stream_run says it, so that nothing read is left unsaid. */
		cJSON_Delete(rec);
		e.failed = 1;
		e.stage = strdup("input");
		if (asprintf(&e.message, "line %lu: not a JSON record", r->lines) < 0)
			e.message = NULL;
		if (!e.stage || !e.message || entry_add(r, &e) < 0) {
			entry_free(&e);
			return -1;
		}
		return 0;
	}
	err = cJSON_GetObjectItemCaseSensitive(rec, "error");
	if (err && !cJSON_IsNull(err)) {
		e.failed = 1;
		e.retryable = mf_json_bool(rec, "error.retryable", 0);
		rc |= take(r, rec, "error.stage", &e.stage);
		rc |= take(r, rec, "error.message", &e.message);
	} else {
		const char *qs = mf_json_str(rec, "qbt.status");
		const cJSON *reused = mf_json_path(rec, "torrent.reused");
		int added = qs && strcmp(qs, "added") == 0;
		int created = cJSON_IsFalse(reused);

		r->added += added;
		r->created += created;
		if (!added && !created) {
			cJSON_Delete(rec);
			return 0;	/* nothing happened to it this run */
		}
		rc |= take(r, rec, "meta.mam_json", &e.mam_json);
		rc |= take(r, rec, "torrent.path", &e.torrent);
		rc |= take(r, rec, "torrent.infohash", &e.infohash);
	}
	rc |= take(r, rec, "id", &e.id);
	rc |= take(r, rec, mf_json_str(rec, "title") ? "title" : "staging.name", &e.title);
	cJSON_Delete(rec);
	if (rc || entry_add(r, &e) < 0) {
		entry_free(&e);
		return -1;
	}
	return 0;
}

void
mf_notify_free(struct mf_notify *r)
{
	for (size_t i = 0; i < r->n; i++)
		entry_free(&r->e[i]);
	free(r->e);
	memset(r, 0, sizeof *r);
}

int
mf_notify_due(const struct mf_notify *r)
{
	return r->test || r->nnew > 0 || r->nfailed > 0;
}

void
mf_notify_title(const struct mf_notify *r, char *out, size_t n)
{
	if (r->test && !r->nnew && !r->nfailed)
		snprintf(out, n, "mamfast on %s: test notification", r->host);
	else
		snprintf(out, n, "mamfast on %s: %zu new, %zu failed", r->host, r->nnew, r->nfailed);
}

/* ---- text bodies ---- */

/* Record text in a chat message: Markdown (Discord) or Slack's &<> escaped. */
static void
put_text(struct mf_buf *b, enum mf_notify_fmt fmt, const char *s)
{
	for (; s && *s; s++) {
		if (fmt == MF_NOTIFY_DISCORD && strchr("\\*_~`|>[]<#", *s))
			mf_buf_put(b, "\\", 1);
		if (fmt == MF_NOTIFY_SLACK && *s == '&')
			mf_buf_str(b, "&amp;");
		else if (fmt == MF_NOTIFY_SLACK && *s == '<')
			mf_buf_str(b, "&lt;");
		else if (fmt == MF_NOTIFY_SLACK && *s == '>')
			mf_buf_str(b, "&gt;");
		else
			mf_buf_put(b, s, 1);
	}
}

/* A path: a code span on Discord (no Markdown inside), else as text. */
static void
put_path(struct mf_buf *b, enum mf_notify_fmt fmt, const char *s)
{
	if (!s) {
		mf_buf_str(b, "none");
	} else if (fmt == MF_NOTIFY_DISCORD && !strchr(s, '`')) {
		mf_buf_printf(b, "`%s`", s);
	} else {
		put_text(b, fmt, s);
	}
}

/* The lines of one entry, ending in '\n'. */
static void
entry_text(struct mf_buf *b, enum mf_notify_fmt fmt, const struct mf_notify_entry *e)
{
	const char *name = e->title ? e->title : e->id;

	if (e->failed) {
		mf_buf_str(b, "failed: ");
		if (name) {
			put_text(b, fmt, name);
			if (e->id && e->title) {
				mf_buf_str(b, " (");
				put_text(b, fmt, e->id);
				mf_buf_str(b, ")");
			}
			mf_buf_str(b, ": ");
		}
		put_text(b, fmt, e->stage ? e->stage : "?");
		mf_buf_str(b, ": ");
		put_text(b, fmt, e->message ? e->message : "");
		mf_buf_str(b, "\n");
		return;
	}
	mf_buf_str(b, "new: ");
	put_text(b, fmt, name ? name : "?");
	if (e->id && e->title) {
		mf_buf_str(b, " (");
		put_text(b, fmt, e->id);
		mf_buf_str(b, ")");
	}
	mf_buf_str(b, "\n  MAM JSON: ");
	put_path(b, fmt, e->mam_json);
	mf_buf_str(b, "\n  torrent: ");
	put_path(b, fmt, e->torrent);
	mf_buf_str(b, "\n");
}

/*
 * The message text: the title (not for ntfy, whose title is a header), then the entries,
 * new first, as many as fit in limit bytes with a closing line for the rest.
 */
static char *
text(const struct mf_notify *r, enum mf_notify_fmt fmt, size_t limit)
{
	struct mf_buf b = { 0 }, one = { 0 };
	char title[320], more[96];
	size_t left = 0;

	mf_notify_title(r, title, sizeof title);
	if (fmt == MF_NOTIFY_DISCORD)
		mf_buf_printf(&b, "**%s**\n", title);
	else if (fmt != MF_NOTIFY_NTFY)
		mf_buf_printf(&b, "%s\n", title);
	if (r->test && !r->n)
		mf_buf_str(&b, "Notifications work.\n");
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < r->n; i++) {
			if (r->e[i].failed != pass)
				continue;
			entry_text(&one, fmt, &r->e[i]);
			if (one.oom) {
				free(one.buf);
				free(b.buf);
				return NULL;
			}
			/* Room kept for the closing line. */
			if (left || b.len + one.len + sizeof more > limit)
				left++;
			else
				mf_buf_put(&b, one.buf, one.len);
			one.len = 0;
		}
	}
	free(one.buf);
	if (left) {
		snprintf(more, sizeof more, "... and %zu more (mamfast status lists them)\n", left);
		mf_buf_str(&b, more);
	}
	if (b.len && b.buf[b.len - 1] == '\n')
		b.buf[--b.len] = '\0';
	return mf_buf_take(&b);
}

/* The JSON body: the summary and one object per entry. */
static char *
json(const struct mf_notify *r)
{
	cJSON *o = cJSON_CreateObject(), *s, *a;
	char title[320], now[32];
	char *out;

	mf_notify_title(r, title, sizeof title);
	mf_json_put_str(o, "source", "mamfast");
	mf_json_put_str(o, "host", r->host);
	mf_json_put_str(o, "time", mf_iso8601(time(NULL), now, sizeof now));
	mf_json_put_str(o, "title", title);
	if (r->test)
		mf_json_put_bool(o, "test", 1);
	s = mf_json_obj(o, "summary");
	mf_json_put_num(s, "records", (double)r->records);
	mf_json_put_num(s, "new", (double)r->nnew);
	mf_json_put_num(s, "failed", (double)r->nfailed);
	mf_json_put_num(s, "added", (double)r->added);
	mf_json_put_num(s, "torrents_created", (double)r->created);
	a = cJSON_CreateArray();
	mf_json_put(o, "releases", a);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < r->n; i++) {
			const struct mf_notify_entry *e = &r->e[i];
			cJSON *x;

			if (e->failed != pass)
				continue;
			x = cJSON_CreateObject();
			mf_json_put_str(x, "status", e->failed ? "failed" : "new");
			mf_json_put_str(x, "id", e->id);
			mf_json_put_str(x, "title", e->title);
			if (e->failed) {
				mf_json_put_str(x, "stage", e->stage);
				mf_json_put_str(x, "message", e->message);
				mf_json_put_bool(x, "retryable", e->retryable);
			} else {
				mf_json_put_str(x, "mam_json", e->mam_json);
				mf_json_put_str(x, "torrent", e->torrent);
				mf_json_put_str(x, "infohash", e->infohash);
			}
			cJSON_AddItemToArray(a, x);
		}
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

/* A JSON object {key: text} plus what the chat service wants around it. */
static char *
chat(const struct mf_notify *r, enum mf_notify_fmt fmt)
{
	/* Discord counts 2000 characters, Slack advises 4000: bytes stay under both. */
	char *t = text(r, fmt, fmt == MF_NOTIFY_DISCORD ? 1990 : 3900), *out;
	cJSON *o;

	if (!t)
		return NULL;
	o = cJSON_CreateObject();
	if (fmt == MF_NOTIFY_DISCORD) {
		mf_json_put_str(o, "content", t);
		/* A title "@everyone" must not ping the server. */
		cJSON *am = mf_json_obj(o, "allowed_mentions");
		mf_json_put(am, "parse", cJSON_CreateArray());
	} else {
		mf_json_put_str(o, "text", t);
		mf_json_put_bool(o, "mrkdwn", 0);
	}
	free(t);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

char *
mf_notify_body(const struct mf_notify *r, enum mf_notify_fmt fmt, const char **type)
{
	switch (fmt) {
	case MF_NOTIFY_NTFY:
		*type = "text/plain; charset=utf-8";
		return text(r, fmt, 4000);	/* ntfy takes 4096 bytes as a message */
	case MF_NOTIFY_DISCORD:
	case MF_NOTIFY_SLACK:
		*type = "application/json";
		return chat(r, fmt);
	default:
		*type = "application/json";
		return json(r);
	}
}

/* ---- delivery ---- */

int
mf_notify_post(const struct mf_notify *r, const char *url, enum mf_notify_fmt fmt,
    double timeout, int attempts, char *err, size_t errsz)
{
	struct mf_http_resp resp;
	struct mf_retry rt;
	struct mf_http *h;
	const char *type;
	char host[256], hdr[400], why[300], ex[128];
	char *body = mf_notify_body(r, fmt, &type);
	int rc;

	url_host(url, host, sizeof host);
	if (!body || !(h = mf_http_new(timeout))) {
		free(body);
		snprintf(err, errsz, "notification to %s: out of memory", host);
		return EX_OSERR;
	}
	snprintf(hdr, sizeof hdr, "Content-Type: %s", type);
	mf_http_add_header(h, hdr);
	mf_http_add_header(h, "Expect:");
	if (fmt == MF_NOTIFY_NTFY) {
		char title[320];

		mf_notify_title(r, title, sizeof title);
		snprintf(hdr, sizeof hdr, "Title: %s", title);
		mf_http_add_header(h, hdr);
		mf_http_add_header(h, r->nfailed ? "Tags: warning" : "Tags: books");
	}
	/* Each attempt may take the whole timeout; the backoff between them is short. */
	mf_retry_init(&rt, attempts, attempts * (timeout + 4), 0.5);
	for (;;) {
		/* The Content-Type header above replaces the form type of a POST. */
		if (mf_http_post_form(h, url, body, &resp) == 0) {
			if (resp.status >= 200 && resp.status < 300) {
				rc = 0;
				break;
			}
			mf_http_excerpt(resp.body, resp.len, ex, sizeof ex);
			snprintf(why, sizeof why, "HTTP %ld%s%s", resp.status, *ex ? " " : "", ex);
			if (resp.status != 429 && resp.status < 500) {
				snprintf(err, errsz, "notification to %s refused: %s (check "
				    "MF_NOTIFY_URL and MF_NOTIFY_FORMAT)", host, why);
				rc = EX_PROTOCOL;
				break;
			}
		} else {
			snprintf(why, sizeof why, "%s", resp.error);
			if (resp.transport == CURLE_UNSUPPORTED_PROTOCOL ||
			    resp.transport == CURLE_URL_MALFORMAT) {
				snprintf(err, errsz, "notification to %s: %s (check MF_NOTIFY_URL)",
				    host, why);
				rc = EX_CONFIG;
				break;
			}
		}
		double hint = resp.retry_after;
		mf_http_resp_free(&resp);
		if (mf_retry_wait(&rt, hint) < 0) {
			snprintf(err, errsz, "notification to %s not delivered after %d attempts "
			    "(%s)", host, rt.attempt, why);
			free(body);
			mf_http_free(h);
			return EX_UNAVAILABLE;
		}
	}
	mf_http_resp_free(&resp);
	free(body);
	mf_http_free(h);
	return rc;
}

#define MAX_WORDS 64

int
mf_notify_run(const char *cmd, const char *body, double timeout, char *err, size_t errsz)
{
	char *copy = strdup(cmd), *argv[MAX_WORDS + 1], *save = NULL, *w;
	int n = 0, st, ep[2], xerr = 0, rc = EX_UNAVAILABLE;
	FILE *in = tmpfile();
	double deadline;
	pid_t pid;

	if (!copy || !in) {
		snprintf(err, errsz, "MF_NOTIFY_CMD: %s", strerror(errno));
		goto out;
	}
	for (w = strtok_r(copy, " \t", &save); w && n < MAX_WORDS; w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n] = NULL;
	if (n == 0 || w) {
		snprintf(err, errsz, "MF_NOTIFY_CMD: %s", n ? "more than 64 words" : "empty");
		goto out;
	}
	/* The JSON from a file, so a command that never reads cannot block us. */
	if (fputs(body, in) == EOF || fflush(in) == EOF || fseek(in, 0, SEEK_SET) < 0 ||
	    pipe2(ep, O_CLOEXEC) < 0) {
		snprintf(err, errsz, "MF_NOTIFY_CMD: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errsz, "MF_NOTIFY_CMD: fork: %s", strerror(errno));
		close(ep[0]);
		close(ep[1]);
		goto out;
	}
	if (pid == 0) {
		/* Its own group, so a timeout stops whatever it started too. */
		setpgid(0, 0);
		dup2(fileno(in), 0);
		dup2(2, 1);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		xerr = errno;
		(void)!write(ep[1], &xerr, sizeof xerr);
		_exit(127);
	}
	setpgid(pid, pid);	/* also here: the child may not have run yet */
	close(ep[1]);
	if (read(ep[0], &xerr, sizeof xerr) == (ssize_t)sizeof xerr) {
		close(ep[0]);
		waitpid(pid, &st, 0);
		snprintf(err, errsz, "MF_NOTIFY_CMD: cannot run %s: %s", argv[0], strerror(xerr));
		goto out;
	}
	close(ep[0]);
	deadline = mf_now() + timeout;
	for (;;) {
		pid_t w2 = waitpid(pid, &st, WNOHANG);

		if (w2 == pid)
			break;
		if (w2 < 0 && errno != EINTR) {
			snprintf(err, errsz, "MF_NOTIFY_CMD: wait: %s", strerror(errno));
			goto out;
		}
		if (mf_now() >= deadline) {
			kill(-pid, SIGTERM);
			for (int i = 0; i < 40 && waitpid(pid, &st, WNOHANG) == 0; i++)
				mf_sleep(0.05);
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(err, errsz, "MF_NOTIFY_CMD %s: stopped after %g s (MF_NOTIFY_TIMEOUT)",
			    argv[0], timeout);
			goto out;
		}
		mf_sleep(0.01);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		rc = 0;
	else if (WIFEXITED(st))
		snprintf(err, errsz, "MF_NOTIFY_CMD %s: exited with status %d", argv[0],
		    WEXITSTATUS(st));
	else
		snprintf(err, errsz, "MF_NOTIFY_CMD %s: killed by signal %d", argv[0],
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
out:
	if (in)
		fclose(in);
	free(copy);
	return rc;
}
