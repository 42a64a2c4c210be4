/* qbt: a qBittorrent WebAPI v2 client (log in, look up, add) over one kept-alive connection. */
#include "qbt.h"
#include "bencode.h"
#include "clock.h"
#include "config.h"
#include "file.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "torrent.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

struct mf_qbt {
	struct mf_http	*http;
	char		*base;		/* "http://host:port" plus any path prefix, no trailing '/' */
	char		*user, *pass, *api_key;
	struct mf_qbt_opts o;
	int		authed;
	int		fatal;		/* the mf_qbt_rc that stopped the client, or 0 */
	char		**cats;		/* categories known to exist */
	size_t		ncats;
	char		err[512];
};

static void
seterr(struct mf_qbt *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
seterr(struct mf_qbt *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof q->err, fmt, ap);
	va_end(ap);
}

/* Stop the client: every later call fails with this kind and message. */
static int
set_fatal(struct mf_qbt *q, int kind)
{
	q->fatal = kind;
	return kind;
}

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void
mf_qbt_torrent_clear(struct mf_qbt_torrent *t)
{
	free(t->category);
	free(t->tags);
	free(t->save_path);
	free(t->state);
	memset(t, 0, sizeof *t);
}

struct mf_qbt *
mf_qbt_new(const struct mf_qbt_opts *o)
{
	struct mf_qbt *q;
	const char *u = o->url, *auth, *slash, *at;
	char hdr[1200];
	size_t n;

	auth = strstr(u, "://");
	auth = auth ? auth + 3 : u;
	slash = strchr(auth, '/');
	at = strchr(auth, '@');
	if (at && (!slash || at < slash)) {
		/* Never echo it: the part before '@' is a secret. */
		mf_warnx("MF_QBT_URL carries credentials: put them in MF_QBT_USER and "
		    "MF_QBT_PASS (or MF_QBT_PASS_FILE) instead");
		return NULL;
	}
	if (strpbrk(u, "?#")) {
		/* Nor this: a query string can carry a password (?password=...) just as well. */
		mf_warnx("MF_QBT_URL carries a query string or a fragment ('?' or '#'): give the "
		    "server's address only, credentials in MF_QBT_USER and MF_QBT_PASS (or "
		    "MF_QBT_PASS_FILE)");
		return NULL;
	}
	if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
		mf_warnx("MF_QBT_URL %s: not an http:// or https:// URL", u);
		return NULL;
	}
	if (strlen(u) > 1000 || auth == (slash ? slash : auth + strlen(auth))) {
		mf_warnx("MF_QBT_URL %s: no host", u);
		return NULL;
	}
	if (!(q = calloc(1, sizeof *q)))
		return NULL;
	q->o = *o;
	q->base = strdup(u);
	n = strlen(q->base);
	while (n > 0 && q->base[n - 1] == '/')
		q->base[--n] = '\0';
	q->user = xstrdup(o->user);
	q->pass = xstrdup(o->pass);
	q->api_key = xstrdup(o->api_key);
	q->o.user = q->o.pass = q->o.api_key = NULL;
	if (!(q->http = mf_http_new(o->timeout > 0 ? o->timeout : 30))) {
		mf_qbt_free(q);
		return NULL;
	}
	/*
	 * qBittorrent's CSRF check wants Referer/Origin, when sent, to name the host it
	 * serves: the URL's scheme and authority.  "Expect:" stops libcurl waiting for a
	 * 100-continue that qBittorrent never sends.
	 */
	n = (size_t)((slash ? slash : auth + strlen(auth)) - u);
	snprintf(hdr, sizeof hdr, "Referer: %.*s", (int)n, u);
	mf_http_add_header(q->http, hdr);
	snprintf(hdr, sizeof hdr, "Origin: %.*s", (int)n, u);
	mf_http_add_header(q->http, hdr);
	mf_http_add_header(q->http, "Expect:");
	if (q->api_key) {
		char *h;
		size_t hl = strlen(q->api_key) + 32;

		if ((h = malloc(hl))) {
			snprintf(h, hl, "Authorization: Bearer %s", q->api_key);
			mf_http_add_header(q->http, h);
			explicit_bzero(h, hl);
			free(h);
		}
	}
	return q;
}

void
mf_qbt_free(struct mf_qbt *q)
{
	if (!q)
		return;
	mf_http_free(q->http);
	free(q->base);
	free(q->user);
	mf_secret_free(q->pass);
	mf_secret_free(q->api_key);
	for (size_t i = 0; i < q->ncats; i++)
		free(q->cats[i]);
	free(q->cats);
	free(q);
}

const char *
mf_qbt_error(const struct mf_qbt *q)
{
	return q->err;
}

int
mf_qbt_fatal(const struct mf_qbt *q)
{
	switch (q->fatal) {
	case MF_QBT_EDOWN:
		return EX_UNAVAILABLE;
	case MF_QBT_EAUTH:
		return EX_NOPERM;
	case MF_QBT_ECONFIG:
		return EX_CONFIG;
	}
	return 0;
}

enum req_kind { REQ_GET, REQ_FORM, REQ_MULTI };

struct req {
	enum req_kind	kind;
	const char	*path;		/* after /api/v2/ */
	const char	*form;
	const struct mf_http_part *parts;
	size_t		nparts;
};

/* libcurl failures worth another attempt: the server may be starting or restarting. */
static int
transient(int code)
{
	switch (code) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_WRITE_ERROR:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return 0;
	}
	return 1;
}

/*
 * One request, retried on transport errors, 5xx and 429 with backoff and jitter, bounded
 * in attempts and time.  MF_QBT_OK with an HTTP answer in r (the caller frees it), or a
 * fatal kind with r freed.
 */
static int
send_retry(struct mf_qbt *q, const struct req *rq, struct mf_http_resp *r)
{
	struct mf_retry rt;
	char *url, why[300];
	int rc;

	if (asprintf(&url, "%s/api/v2/%s", q->base, rq->path) < 0) {
		seterr(q, "out of memory");
		return set_fatal(q, MF_QBT_ECONFIG);
	}
	mf_retry_init(&rt, q->o.retries, q->o.retry_time, q->o.retry_base);
	for (;;) {
		if (rq->kind == REQ_GET)
			rc = mf_http_get(q->http, url, r);
		else if (rq->kind == REQ_FORM)
			rc = mf_http_post_form(q->http, url, rq->form, r);
		else
			rc = mf_http_post_multipart(q->http, url, rq->parts, rq->nparts, r);
		if (rc == 0 && r->status < 500 && r->status != 429) {
			free(url);
			return MF_QBT_OK;
		}
		if (rc != 0 && !transient(r->transport)) {
			seterr(q, "qBittorrent at %s: %s (check MF_QBT_URL)", q->base, r->error);
			mf_http_resp_free(r);
			free(url);
			return set_fatal(q, MF_QBT_ECONFIG);
		}
		if (rc != 0) {
			snprintf(why, sizeof why, "%s", r->error);
		} else {
			char s[128];

			mf_http_excerpt(r->body, r->len, s, sizeof s);
			snprintf(why, sizeof why, "HTTP %ld %s", r->status, s);
		}
		mf_debug("%s: attempt %d: %s", rq->path, rt.attempt + 1, why);
		double hint = r->retry_after;
		mf_http_resp_free(r);
		if (mf_retry_wait(&rt, hint) < 0) {
			seterr(q, "qBittorrent at %s unreachable after %d attempts in %.1f s (%s): "
			    "start it or check MF_QBT_URL, then run again", q->base, rt.attempt,
			    mf_now() - rt.start, why);
			free(url);
			return set_fatal(q, MF_QBT_EDOWN);
		}
	}
}

long
mf_qbt_parse_version(const char *body, size_t len)
{
	long part[3] = { 0, 0, 0 };
	size_t i = 0;
	int k = 0, digits = 0;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i < len && body[i] == 'v')
		i++;
	for (; i < len && k < 3; i++) {
		unsigned char c = (unsigned char)body[i];

		if (isdigit(c)) {
			if (part[k] > 9999)
				return -1;
			part[k] = part[k] * 10 + (c - '0');
			digits++;
		} else if (c == '.' && digits) {
			k++;
			digits = 0;
		} else {
			break;
		}
	}
	if (!digits && k == 0)
		return -1;
	for (; i < len; i++)
		if (!isspace((unsigned char)body[i]) && !isdigit((unsigned char)body[i]) &&
		    body[i] != '.')
			return -1;
	if (part[1] > 99 || part[2] > 99)
		return -1;
	return part[0] * 10000 + part[1] * 100 + part[2];
}

/*
 * Every release answers 401 before it looks at any credential when the request fails its
 * CSRF check (Origin or Referer not the Host it was sent to) or its Host header check
 * (the port is not the server's own): a port mapping or a reverse proxy in between.
 */
static int
cross_site(struct mf_qbt *q)
{
	seterr(q, "qBittorrent at %s refused the request as cross-site (HTTP 401 before any "
	    "credential check): its CSRF protection or Host header validation rejects the "
	    "address in MF_QBT_URL; use the address and port qBittorrent itself listens on "
	    "(behind a port mapping or a reverse proxy: see mf-qbt-add(1))", q->base);
	return set_fatal(q, MF_QBT_ECONFIG);
}

/*
 * 401 to a login: a wrong password from 5.2 on, or a cross-site refusal on any release.
 * A request without credentials tells which (no password is sent again): refused before
 * any credential check, it gets 401 too; let past that check, 403.
 */
static int
refused_before_auth(struct mf_qbt *q)
{
	struct req rq = { REQ_GET, "app/webapiVersion", NULL, NULL, 0 };
	struct mf_http_resp r;
	int rc;

	if ((rc = send_retry(q, &rq, &r)) != MF_QBT_OK)
		return -1;
	rc = r.status == 401;
	mf_http_resp_free(&r);
	return rc;
}

/* With an API key or no credentials: ask app/webapiVersion whether we are let in. */
static int
probe(struct mf_qbt *q)
{
	struct req rq = { REQ_GET, "app/webapiVersion", NULL, NULL, 0 };
	struct mf_http_resp r;
	long v;
	int rc;

	if ((rc = send_retry(q, &rq, &r)) != MF_QBT_OK)
		return rc;
	if (r.status == 401) {
		mf_http_resp_free(&r);
		return cross_site(q);
	}
	if (r.status == 403) {
		mf_http_resp_free(&r);
		if (q->api_key) {
			seterr(q, "qBittorrent at %s rejected the API key (MF_QBT_API_KEY): "
			    "check it in the WebUI options (API keys need qBittorrent 5.2, "
			    "WebAPI 2.14.1, or later)", q->base);
			return set_fatal(q, MF_QBT_EAUTH);
		}
		seterr(q, "qBittorrent at %s wants a login: set MF_QBT_USER and MF_QBT_PASS "
		    "(or MF_QBT_PASS_FILE, or MF_QBT_API_KEY)", q->base);
		return set_fatal(q, MF_QBT_ECONFIG);
	}
	if (r.status != 200) {
		seterr(q, "qBittorrent at %s: app/webapiVersion answered HTTP %ld", q->base, r.status);
		mf_http_resp_free(&r);
		return set_fatal(q, MF_QBT_ECONFIG);
	}
	v = mf_qbt_parse_version(r.body, r.len);
	mf_http_resp_free(&r);
	/* Older servers ignore the Bearer header: a localhost bypass would hide a bad key. */
	if (q->api_key && v >= 0 && v < 21401) {
		seterr(q, "qBittorrent at %s speaks WebAPI %ld.%ld.%ld; API keys need 2.14.1 "
		    "(qBittorrent 5.2): use MF_QBT_USER and MF_QBT_PASS instead", q->base,
		    v / 10000, v / 100 % 100, v % 100);
		return set_fatal(q, MF_QBT_ECONFIG);
	}
	q->authed = 1;
	return MF_QBT_OK;
}

int
mf_qbt_login(struct mf_qbt *q)
{
	struct req rq = { REQ_FORM, "auth/login", NULL, NULL, 0 };
	struct mf_http_resp r;
	enum mf_qbt_loginres res;
	char *eu, *ep, *form, s[128];
	size_t n;
	long status;
	int rc;

	if (q->fatal)
		return q->fatal;
	if (q->api_key || !q->user || !q->pass)
		return probe(q);
	eu = mf_http_escape(q->user);
	ep = mf_http_escape(q->pass);
	n = (eu ? strlen(eu) : 0) + (ep ? strlen(ep) : 0) + 32;
	if (!eu || !ep || !(form = malloc(n))) {
		free(eu);
		mf_secret_free(ep);
		seterr(q, "out of memory");
		return set_fatal(q, MF_QBT_ECONFIG);
	}
	snprintf(form, n, "username=%s&password=%s", eu, ep);
	free(eu);
	mf_secret_free(ep);
	rq.form = form;
	rc = send_retry(q, &rq, &r);
	mf_secret_free(form);
	if (rc != MF_QBT_OK)
		return rc;
	mf_http_excerpt(r.body, r.len, s, sizeof s);
	res = mf_qbt_parse_login(r.status, r.body, r.len);
	status = r.status;
	mf_http_resp_free(&r);
	if (res == MF_QBT_LOGIN_OK) {
		q->authed = 1;
		return MF_QBT_OK;
	}
	if (res == MF_QBT_LOGIN_UNAUTHORIZED) {
		if ((rc = refused_before_auth(q)) < 0)
			return q->fatal;
		if (rc)
			return cross_site(q);
		res = MF_QBT_LOGIN_REJECTED;
	}
	if (res == MF_QBT_LOGIN_REJECTED)
		seterr(q, "qBittorrent at %s rejected the user name or password "
		    "(MF_QBT_USER, MF_QBT_PASS or MF_QBT_PASS_FILE): check them; not retried, "
		    "as failed logins lead to an IP ban", q->base);
	else if (res == MF_QBT_LOGIN_BANNED)
		seterr(q, "qBittorrent at %s has banned this IP address after too many failed "
		    "logins (%s): fix MF_QBT_USER/MF_QBT_PASS and wait for the ban to end "
		    "(WebUI option: ban duration)", q->base, s);
	else
		seterr(q, "qBittorrent at %s: login answered HTTP %ld %s", q->base, status, s);
	return set_fatal(q, MF_QBT_EAUTH);
}

/* The body, white space around it aside, is word. */
static int
body_is(const char *body, size_t len, const char *word)
{
	size_t b = 0, e = len, n = strlen(word);

	while (b < e && isspace((unsigned char)body[b]))
		b++;
	while (e > b && isspace((unsigned char)body[e - 1]))
		e--;
	return e - b == n && (n == 0 || memcmp(body + b, word, n) == 0);
}

enum mf_qbt_loginres
mf_qbt_parse_login(long status, const char *body, size_t len)
{
	switch (status) {
	case 204:		/* 5.2+: logged in, no body */
		return MF_QBT_LOGIN_OK;
	case 200:		/* up to 5.1: the body says */
		if (body_is(body, len, "Ok."))
			return MF_QBT_LOGIN_OK;
		return body_is(body, len, "Fails.") ? MF_QBT_LOGIN_REJECTED : MF_QBT_LOGIN_UNEXPECTED;
	case 401:
		return MF_QBT_LOGIN_UNAUTHORIZED;
	case 403:		/* every release: the IP is banned */
		return MF_QBT_LOGIN_BANNED;
	}
	return MF_QBT_LOGIN_UNEXPECTED;
}

/*
 * An authenticated request: logs in first when needed, and once more when the session
 * expired (403 on anything but the login).
 */
static int
request(struct mf_qbt *q, const struct req *rq, struct mf_http_resp *r)
{
	int rc, relogged = 0;

	if (q->fatal)
		return q->fatal;
	if (!q->authed && (rc = mf_qbt_login(q)) != MF_QBT_OK)
		return rc;
	for (;;) {
		if ((rc = send_retry(q, rq, r)) != MF_QBT_OK)
			return rc;
		if (r->status != 403 || relogged)
			break;
		mf_http_resp_free(r);
		if (q->api_key || !q->user) {
			seterr(q, "qBittorrent at %s: %s answered 403 Forbidden: check %s",
			    q->base, rq->path, q->api_key ? "MF_QBT_API_KEY" : "MF_QBT_USER/MF_QBT_PASS");
			return set_fatal(q, MF_QBT_EAUTH);
		}
		mf_debug("session expired on %s: logging in again", rq->path);
		relogged = 1;
		q->authed = 0;
		if ((rc = mf_qbt_login(q)) != MF_QBT_OK)
			return rc;
	}
	if (r->status == 403) {
		seterr(q, "qBittorrent at %s: %s still answers 403 Forbidden after a new login",
		    q->base, rq->path);
		mf_http_resp_free(r);
		return set_fatal(q, MF_QBT_EAUTH);
	}
	return MF_QBT_OK;
}

/* A JSON string field copied, or NULL. */
static char *
jdup(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring ? strdup(v->valuestring) : NULL;
}

/* A JSON number field into *out; 0 when absent or not a number. */
static int
jnum(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v))
		return 0;
	*out = v->valuedouble;
	return 1;
}

/* The share limits, upload limit and TMM flag of one torrents/info entry. */
static void
parse_limits(const cJSON *it, struct mf_qbt_torrent *t)
{
	double r, s, u, in;
	const cJSON *tmm = cJSON_GetObjectItemCaseSensitive(it, "auto_tmm");

	if (!jnum(it, "ratio_limit", &r) || !jnum(it, "seeding_time_limit", &s) ||
	    !jnum(it, "up_limit", &u) || !cJSON_IsBool(tmm))
		return;
	t->has_limits = 1;
	t->ratio_limit = r;
	t->seeding_time_limit = s > -1e9 && s < 1e9 ? (long)s : -2;
	t->up_limit = u >= 0 && u < 1e12 ? (long)u : 0;
	t->auto_tmm = cJSON_IsTrue(tmm);
	if (jnum(it, "inactive_seeding_time_limit", &in)) {
		t->has_inactive = 1;
		t->inactive_seeding_time_limit = in > -1e9 && in < 1e9 ? (long)in : -2;
	}
}

int
mf_qbt_parse_info(const char *body, size_t len, const char *const *hashes, size_t n,
    struct mf_qbt_torrent *t)
{
	cJSON *a = cJSON_ParseWithLength(body, len), *it;
	int found = 0;

	memset(t, 0, n * sizeof *t);
	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return -1;
	}
	cJSON_ArrayForEach(it, a) {
		const cJSON *v1 = cJSON_GetObjectItemCaseSensitive(it, "hash");
		const cJSON *v2 = cJSON_GetObjectItemCaseSensitive(it, "infohash_v1");
		const char *h1 = cJSON_IsString(v1) ? v1->valuestring : NULL;
		const char *h2 = cJSON_IsString(v2) ? v2->valuestring : NULL;

		/* Every slot of a matching hash is filled: a batch may hold one twice. */
		for (size_t i = 0; i < n; i++) {
			if (t[i].found || !((h1 && strcasecmp(h1, hashes[i]) == 0) ||
			    (h2 && strcasecmp(h2, hashes[i]) == 0)))
				continue;
			t[i].found = 1;
			snprintf(t[i].hash, sizeof t[i].hash, "%s", hashes[i]);
			t[i].category = jdup(it, "category");
			t[i].tags = jdup(it, "tags");
			t[i].save_path = jdup(it, "save_path");
			t[i].state = jdup(it, "state");
			parse_limits(it, &t[i]);
			found++;
		}
	}
	cJSON_Delete(a);
	return found;
}

/*
 * Hashes per torrents/info request: 4.5.2 drops requests whose header passes about 8 KiB
 * (200 hashes did), and GET is what every version accepts for it.
 */
#define LOOKUP_CHUNK 64

int
mf_qbt_lookup(struct mf_qbt *q, const char *const *hashes, size_t n, struct mf_qbt_torrent *t)
{
	struct req rq = { REQ_GET, NULL, NULL, NULL, 0 };
	struct mf_http_resp r;
	char path[LOOKUP_CHUNK * 43 + 64], s[128];
	int rc;

	memset(t, 0, n * sizeof *t);
	for (size_t at = 0; at < n; at += LOOKUP_CHUNK) {
		size_t m = n - at < LOOKUP_CHUNK ? n - at : LOOKUP_CHUNK, k;

		k = (size_t)snprintf(path, sizeof path, "torrents/info?hashes=");
		for (size_t i = 0; i < m; i++)
			k += (size_t)snprintf(path + k, sizeof path - k, "%s%.40s",
			    i ? "%7C" : "", hashes[at + i]);
		rq.path = path;
		if ((rc = request(q, &rq, &r)) != MF_QBT_OK)
			return rc;
		if (r.status != 200) {
			mf_http_excerpt(r.body, r.len, s, sizeof s);
			seterr(q, "torrents/info answered HTTP %ld %s", r.status, s);
			mf_http_resp_free(&r);
			return MF_QBT_EREC;
		}
		rc = mf_qbt_parse_info(r.body, r.len, hashes + at, m, t + at);
		mf_http_resp_free(&r);
		if (rc < 0) {
			seterr(q, "torrents/info: the answer is not a JSON array");
			return MF_QBT_EREC;
		}
	}
	return MF_QBT_OK;
}

/* GET one app/ answer (version, webapiVersion) into out. */
static int
app_get(struct mf_qbt *q, const char *path, char *out, size_t n)
{
	struct req rq = { REQ_GET, path, NULL, NULL, 0 };
	struct mf_http_resp r;
	int rc;

	if ((rc = request(q, &rq, &r)) != MF_QBT_OK)
		return rc;
	mf_http_excerpt(r.body, r.len, out, n);
	if (r.status != 200) {
		seterr(q, "qBittorrent at %s: %s answered HTTP %ld %s", q->base, path,
		    r.status, out);
		mf_http_resp_free(&r);
		return set_fatal(q, MF_QBT_ECONFIG);
	}
	mf_http_resp_free(&r);
	return MF_QBT_OK;
}

int
mf_qbt_check(struct mf_qbt *q, char *version, size_t n, char *api, size_t an)
{
	int rc;

	if ((rc = app_get(q, "app/version", version, n)) != MF_QBT_OK)
		return rc;
	return app_get(q, "app/webapiVersion", api, an);
}

int
mf_qbt_tested(const char *version)
{
	long v = mf_qbt_parse_version(version, strlen(version));
	long first = mf_qbt_parse_version(MF_QBT_TESTED_FIRST, strlen(MF_QBT_TESTED_FIRST));
	long last = mf_qbt_parse_version(MF_QBT_TESTED_LAST, strlen(MF_QBT_TESTED_LAST));

	if (v < 0)
		return 2;
	if (v < first)
		return -1;
	return v / 100 > last / 100 ? 1 : 0;	/* any patch release of the last series */
}

const char *
mf_qbt_url(const struct mf_qbt *q)
{
	return q->base;
}

int
mf_qbt_parse_categories(const char *body, size_t len, const char *name)
{
	cJSON *o = cJSON_ParseWithLength(body, len);
	int rc;

	if (!cJSON_IsObject(o))
		rc = -1;
	else
		rc = cJSON_GetObjectItemCaseSensitive(o, name) != NULL;
	cJSON_Delete(o);
	return rc;
}

static int
cat_known(const struct mf_qbt *q, const char *name)
{
	for (size_t i = 0; i < q->ncats; i++)
		if (strcmp(q->cats[i], name) == 0)
			return 1;
	return 0;
}

static void
cat_remember(struct mf_qbt *q, const char *name)
{
	char **n = realloc(q->cats, (q->ncats + 1) * sizeof *n);

	if (n && (n[q->ncats] = strdup(name))) {
		q->cats = n;
		q->ncats++;
	} else if (n) {
		q->cats = n;
	}
}

int
mf_qbt_category(struct mf_qbt *q, const char *name, const char *save_path)
{
	struct req rq = { REQ_FORM, "torrents/createCategory", NULL, NULL, 0 };
	struct mf_http_resp r;
	char *e, *ep = NULL, *form = NULL, s[128];
	size_t n;
	int rc, have;

	if (!name || !*name || cat_known(q, name))
		return MF_QBT_OK;
	e = mf_http_escape(name);
	ep = mf_http_escape(save_path ? save_path : "");
	if (!e || !ep || !(form = malloc((n = strlen(e) + strlen(ep) + 32)))) {
		free(e);
		free(ep);
		seterr(q, "out of memory");
		return MF_QBT_EREC;
	}
	snprintf(form, n, "category=%s&savePath=%s", e, ep);
	free(e);
	free(ep);
	rq.form = form;
	rc = request(q, &rq, &r);
	free(form);
	if (rc != MF_QBT_OK)
		return rc;
	if (r.status == 200 || r.status == 204) {
		mf_http_resp_free(&r);
		cat_remember(q, name);
		return MF_QBT_OK;
	}
	mf_http_excerpt(r.body, r.len, s, sizeof s);
	mf_http_resp_free(&r);
	if (r.status != 409) {
		seterr(q, "creating category \"%s\": HTTP %ld %s", name, r.status, s);
		return MF_QBT_EREC;
	}
	/* 409 is both "exists" and "incorrect name": the category list tells which. */
	rq = (struct req){ REQ_GET, "torrents/categories", NULL, NULL, 0 };
	if ((rc = request(q, &rq, &r)) != MF_QBT_OK)
		return rc;
	have = r.status == 200 ? mf_qbt_parse_categories(r.body, r.len, name) : -1;
	mf_http_resp_free(&r);
	if (have == 1) {
		cat_remember(q, name);
		return MF_QBT_OK;
	}
	seterr(q, "qBittorrent refused category \"%s\" (%s): check MF_QBT_CATEGORY", name, s);
	return MF_QBT_EREC;
}

/* A count of an add answer (negative ones as 0); *seen set when the key is there. */
static double
count(const cJSON *o, const char *key, int *seen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v))
		return 0;
	*seen = 1;
	return v->valuedouble > 0 ? v->valuedouble : 0;
}

enum mf_qbt_addres
mf_qbt_parse_add(long status, const char *body, size_t len)
{
	cJSON *o, *v;
	double added = 0, pending = 0, failed = 0;
	int json = 0;

	if (status == 415)
		return MF_QBT_INVALID;
	if (status == 409)	/* 5.2+: it is there already, or nothing usable was sent */
		return MF_QBT_REFUSED;
	if (status != 200 && status != 202 && status != 204)
		return MF_QBT_UNEXPECTED;
	if (body_is(body, len, "Ok."))
		return MF_QBT_ADDED;
	if (body_is(body, len, "Fails."))
		return MF_QBT_REFUSED;
	if (body_is(body, len, ""))	/* an empty 200/204: confirmed by the lookup */
		return status == 202 ? MF_QBT_PENDING : MF_QBT_ADDED;
	/* 5.2+: {"added_torrent_ids":[..],"success_count":..,"pending_count":..,"failure_count":..} */
	if ((o = cJSON_ParseWithLength(body, len)) && cJSON_IsObject(o)) {
		added = count(o, "success_count", &json);
		if (cJSON_IsArray(v = cJSON_GetObjectItemCaseSensitive(o, "added_torrent_ids"))) {
			added += cJSON_GetArraySize(v);
			json = 1;
		}
		pending = count(o, "pending_count", &json);
		failed = count(o, "failure_count", &json);
	}
	cJSON_Delete(o);
	if (!json)
		return MF_QBT_UNEXPECTED;
	if (added > 0)
		return MF_QBT_ADDED;
	if (pending > 0)
		return MF_QBT_PENDING;
	return failed > 0 ? MF_QBT_REFUSED : MF_QBT_UNEXPECTED;
}

/* Look the torrent up until it shows (just-added torrents can take a few ms). */
static int
wait_visible(struct mf_qbt *q, const char *hash, double limit, struct mf_qbt_torrent *t)
{
	double t0 = mf_now(), nap = 0.001;
	int rc;

	for (;;) {
		if ((rc = mf_qbt_lookup(q, &hash, 1, t)) != MF_QBT_OK || t->found)
			return rc;
		if (mf_now() - t0 >= limit)
			return MF_QBT_OK;
		mf_sleep(nap);
		if (nap < 0.05)
			nap *= 2;
	}
}

/* Text of the limit fields of one add (they live as long as the request). */
struct limit_text {
	char	ratio[32], seeding[24], inactive[24], up[24];
};

/* Append the limit fields that are set to parts[*n]; autoTMM is always sent. */
static void
limit_parts(const struct mf_qbt_limits *l, struct limit_text *lt, struct mf_http_part *parts,
    size_t *n)
{
	parts[*n].name = "autoTMM";
	parts[(*n)++].value = l && l->auto_tmm ? "true" : "false";
	if (!l)
		return;
	if (l->has_ratio) {
		snprintf(lt->ratio, sizeof lt->ratio, "%g", l->ratio);
		parts[*n].name = "ratioLimit";
		parts[(*n)++].value = lt->ratio;
	}
	if (l->has_seeding) {
		snprintf(lt->seeding, sizeof lt->seeding, "%ld", l->seeding);
		parts[*n].name = "seedingTimeLimit";
		parts[(*n)++].value = lt->seeding;
	}
	if (l->has_inactive) {
		snprintf(lt->inactive, sizeof lt->inactive, "%ld", l->inactive);
		parts[*n].name = "inactiveSeedingTimeLimit";	/* 4.x ignores it */
		parts[(*n)++].value = lt->inactive;
	}
	if (l->has_up) {
		snprintf(lt->up, sizeof lt->up, "%ld", l->up);
		parts[*n].name = "upLimit";
		parts[(*n)++].value = lt->up;
	}
}

int
mf_qbt_add(struct mf_qbt *q, const struct mf_qbt_add *a, int *existed,
    struct mf_qbt_torrent *t)
{
	struct mf_http_part parts[16];
	struct limit_text lt;
	struct req rq = { REQ_MULTI, "torrents/add", NULL, parts, 0 };
	struct mf_http_resp r;
	const char *flag = a->paused ? "true" : "false";
	enum mf_qbt_addres res;
	char fname[64], s[128];
	size_t n = 0;
	double limit;
	int rc;

	*existed = 0;
	memset(t, 0, sizeof *t);
	memset(parts, 0, sizeof parts);
	/* The part needs a filename, unique per torrent: 4.x keys parts by it. */
	snprintf(fname, sizeof fname, "%s.torrent", a->hash);
	parts[n].name = "torrents";
	parts[n].data = a->torrent;
	parts[n].len = a->len;
	parts[n].filename = fname;
	parts[n++].type = "application/x-bittorrent";
	parts[n].name = "savepath";
	parts[n++].value = a->save_path;
	if (a->category && *a->category) {
		parts[n].name = "category";
		parts[n++].value = a->category;
	}
	if (a->tags && *a->tags) {
		parts[n].name = "tags";
		parts[n++].value = a->tags;
	}
	parts[n].name = "contentLayout";
	parts[n++].value = "Original";
	limit_parts(a->limits, &lt, parts, &n);
	parts[n].name = "skip_checking";
	parts[n++].value = "true";
	/* "1" reads as false: the literal true.  4.x reads paused, 5.x stopped. */
	parts[n].name = "paused";
	parts[n++].value = flag;
	parts[n].name = "stopped";
	parts[n++].value = flag;
	rq.nparts = n;
	if ((rc = request(q, &rq, &r)) != MF_QBT_OK)
		return rc;
	mf_http_excerpt(r.body, r.len, s, sizeof s);
	switch ((res = mf_qbt_parse_add(r.status, r.body, r.len))) {
	case MF_QBT_ADDED:
	case MF_QBT_PENDING:
		mf_http_resp_free(&r);
		/* 202: the server adds it later (5.2+): give it the longer wait. */
		limit = q->o.confirm_time * (res == MF_QBT_PENDING ? 4 : 1);
		if ((rc = wait_visible(q, a->hash, limit, t)) != MF_QBT_OK)
			return rc;
		if (!t->found) {
			seterr(q, "qBittorrent %s the torrent but does not list it after %.1f s",
			    res == MF_QBT_PENDING ? "took (pending)" : "accepted", limit);
			return MF_QBT_ERETRY;
		}
		return MF_QBT_OK;
	case MF_QBT_REFUSED:
		mf_debug("%s: qBittorrent refused the add (HTTP %ld %s): looking it up",
		    a->id ? a->id : a->hash, r.status, s);
		mf_http_resp_free(&r);
		/* A duplicate still loading may take a moment to be listed. */
		if ((rc = wait_visible(q, a->hash, q->o.confirm_time, t)) != MF_QBT_OK)
			return rc;
		if (t->found) {
			*existed = 1;
			return MF_QBT_OK;
		}
		seterr(q, "qBittorrent refused the torrent (%s) and does not list it", s);
		return MF_QBT_EREC;
	case MF_QBT_INVALID:
		seterr(q, "qBittorrent says this is not a valid torrent file (HTTP 415 %s)", s);
		break;
	default:
		seterr(q, "torrents/add answered HTTP %ld %s", r.status, s);
		break;
	}
	mf_http_resp_free(&r);
	return MF_QBT_EREC;
}

/*
 * qBittorrent's own bounds (its options dialog): ratio 9998, 525600 minutes (a year); an
 * upload limit of INT_MAX bytes/s reads back as 0 (no limit) on 4.5.2, 5.1 and 5.3.
 */
#define MAX_RATIO	9998
#define MAX_MINUTES	525600
#define MAX_UP		2147483646L

/* A share-limit key: -2, -1, or lo..hi (a whole number unless frac); 1 when set. */
static int
limit_value(const char *key, int frac, double hi, const char *what, double *out)
{
	const char *v = mf_config_get(key);
	char *end;
	double d;

	if (!v)
		return 0;
	errno = 0;
	d = frac ? strtod(v, &end) : (double)strtol(v, &end, 10);
	if (errno || end == v || *end || !(d == -2 || d == -1 || (d >= 0 && d <= hi)))
		mf_errx(EX_CONFIG, "%s=%s: expected %s from 0 to %g, -1 for no limit or -2 "
		    "for qBittorrent's global limit", key, v, what, hi);
	*out = d;
	return 1;
}

void
mf_qbt_limits_load(struct mf_qbt_limits *l)
{
	double d;

	memset(l, 0, sizeof *l);
	l->auto_tmm = mf_config_bool("MF_QBT_AUTO_TMM", 0);
	l->has_ratio = limit_value("MF_QBT_RATIO_LIMIT", 1, MAX_RATIO, "a ratio", &l->ratio);
	if ((l->has_seeding = limit_value("MF_QBT_SEEDING_TIME_LIMIT", 0, MAX_MINUTES,
	    "whole minutes", &d)))
		l->seeding = (long)d;
	if ((l->has_inactive = limit_value("MF_QBT_INACTIVE_SEEDING_TIME_LIMIT", 0,
	    MAX_MINUTES, "whole minutes", &d)))
		l->inactive = (long)d;
	if (mf_config_get("MF_QBT_UP_LIMIT")) {
		l->has_up = 1;
		l->up = mf_config_long("MF_QBT_UP_LIMIT", 0, 0, MAX_UP);
	}
}

int
mf_qbt_hash_norm(const char *in, char out[41])
{
	size_t i;

	for (i = 0; i < 40; i++) {
		if (!isxdigit((unsigned char)in[i]))
			return -1;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	if (in[40])
		return -1;
	out[40] = '\0';
	return 0;
}

/* The v1 infohash of a .torrent in buf (lib/torrent does the hashing). */
static int
infohash(const void *buf, size_t len, char out[41], char *why, size_t whysz)
{
	struct mf_tinfo ti;
	struct mf_berr berr;

	memset(&ti, 0, sizeof ti);
	if (mf_tinfo_parse(buf, len, 0, &ti, &berr) < 0) {
		snprintf(why, whysz, "byte %zu: %s", berr.off, berr.msg);
		mf_tinfo_free(&ti);
		return -1;
	}
	mf_hex(ti.sha1, 20, out);
	mf_tinfo_free(&ti);
	return 0;
}

char *
mf_qbt_tags_norm(const char *csv)
{
	size_t n = csv ? strlen(csv) : 0, k = 0;
	char *out = malloc(n + 1);
	const char *p = csv;

	if (!out)
		return NULL;
	while (p && *p) {
		const char *e = strchr(p, ','), *b = p, *end = e ? e : p + strlen(p);

		while (b < end && isspace((unsigned char)*b))
			b++;
		while (end > b && isspace((unsigned char)end[-1]))
			end--;
		if (end > b) {
			if (k)
				out[k++] = ',';
			memcpy(out + k, b, (size_t)(end - b));
			k += (size_t)(end - b);
		}
		p = e ? e + 1 : NULL;
	}
	out[k] = '\0';
	return out;
}

int
mf_qbt_save_path(const char *staging_dir, const char *seed_root, const char *map,
    char *out, size_t n)
{
	size_t dl = strlen(staging_dir), rl;

	/* The parent folder: drop trailing slashes, then the last component. */
	while (dl > 1 && staging_dir[dl - 1] == '/')
		dl--;
	while (dl > 0 && staging_dir[dl - 1] != '/')
		dl--;
	while (dl > 1 && staging_dir[dl - 1] == '/')
		dl--;
	if (dl == 0)
		return -1;
	if (!map || !*map)
		return (size_t)snprintf(out, n, "%.*s", (int)dl, staging_dir) < n ? 0 : -1;
	if (!seed_root || !*seed_root)
		return -1;
	rl = strlen(seed_root);
	while (rl > 1 && seed_root[rl - 1] == '/')
		rl--;
	/* On a path boundary: /seed maps /seed and /seed/x, never /seed2. */
	if (dl < rl || memcmp(staging_dir, seed_root, rl) != 0 ||
	    (dl > rl && staging_dir[rl] != '/' && !(rl == 1 && seed_root[0] == '/')))
		return -1;
	size_t ml = strlen(map);
	while (ml > 1 && map[ml - 1] == '/')
		ml--;
	const char *rest = staging_dir + (rl == 1 ? 0 : rl);
	size_t restl = dl - (rl == 1 ? 0 : rl);
	if (ml == 1 && map[0] == '/' && restl > 0)
		ml = 0;		/* "/" + "/x" must not become "//x" */
	return (size_t)snprintf(out, n, "%.*s%.*s", (int)ml, map, (int)restl, rest) < n ? 0 : -1;
}

/* Split qBittorrent's "a, b" into a JSON array. */
static cJSON *
tags_array(const char *s)
{
	cJSON *a = cJSON_CreateArray();
	char *norm = mf_qbt_tags_norm(s ? s : ""), *p, *save = NULL;

	for (p = norm ? strtok_r(norm, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save))
		cJSON_AddItemToArray(a, cJSON_CreateString(p));
	free(norm);
	return a;
}

static void
put_qbt(cJSON *rec, const char *hash, const char *status, const char *category,
    const char *tags, const char *save_path)
{
	cJSON *o = mf_json_obj(rec, "qbt");

	mf_json_put_str(o, "hash", hash);
	mf_json_put_str(o, "status", status);
	mf_json_put_str(o, "category", category ? category : "");
	mf_json_put(o, "tags", tags_array(tags));
	mf_json_put_str(o, "save_path", save_path);
}

/* qbt.ratio_limit and the rest, as qBittorrent reports them (when it does). */
static void
put_limits(cJSON *rec, const struct mf_qbt_torrent *t)
{
	cJSON *o = mf_json_obj(rec, "qbt");

	if (!t->has_limits)
		return;
	mf_json_put(o, "ratio_limit", cJSON_CreateNumber(t->ratio_limit));
	mf_json_put(o, "seeding_time_limit", cJSON_CreateNumber((double)t->seeding_time_limit));
	mf_json_put(o, "inactive_seeding_time_limit", t->has_inactive ?
	    cJSON_CreateNumber((double)t->inactive_seeding_time_limit) : cJSON_CreateNull());
	mf_json_put(o, "auto_tmm", cJSON_CreateBool(t->auto_tmm));
	mf_json_put(o, "up_limit", cJSON_CreateNumber((double)t->up_limit));
}

/* Say once per run (bit) what qBittorrent did not take of what was sent. */
static void
warn_once(struct mf_qbt_run *run, unsigned bit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
warn_once(struct mf_qbt_run *run, unsigned bit, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (run->warned & bit)
		return;
	run->warned |= bit;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mf_warnx("%s", msg);
}

/* A path without its trailing slashes, for comparing save paths. */
static size_t
path_len(const char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	return n;
}

/*
 * After an add: the limits and the save path as qBittorrent reports them against what was
 * sent.  A server that drops one (4.x has no inactive limit) gets a warning, not a failure.
 */
static void
check_added(struct mf_qbt_run *run, const struct mf_qbt_torrent *t, const char *save)
{
	const struct mf_qbt_limits *l = &run->limits;
	const char *url = mf_qbt_url(run->q);

	if (!t->has_limits)
		return;
	if (l->has_inactive && !t->has_inactive)
		warn_once(run, 1, "qBittorrent at %s ignores MF_QBT_INACTIVE_SEEDING_TIME_LIMIT: "
		    "it has no inactive seeding limit (qBittorrent 4.x; 5.x has it)", url);
	else if (l->has_inactive && t->inactive_seeding_time_limit != l->inactive)
		warn_once(run, 2, "qBittorrent at %s reports an inactive seeding time limit of %ld "
		    "for %s, not the MF_QBT_INACTIVE_SEEDING_TIME_LIMIT=%ld sent", url,
		    t->inactive_seeding_time_limit, t->hash, l->inactive);
	if (l->has_ratio && fabs(t->ratio_limit - l->ratio) > 0.001)
		warn_once(run, 4, "qBittorrent at %s reports a ratio limit of %g for %s, not the "
		    "MF_QBT_RATIO_LIMIT=%g sent", url, t->ratio_limit, t->hash, l->ratio);
	if (l->has_seeding && t->seeding_time_limit != l->seeding)
		warn_once(run, 8, "qBittorrent at %s reports a seeding time limit of %ld for %s, "
		    "not the MF_QBT_SEEDING_TIME_LIMIT=%ld sent", url, t->seeding_time_limit,
		    t->hash, l->seeding);
	if (l->has_up && t->up_limit != l->up)
		warn_once(run, 16, "qBittorrent at %s reports an upload limit of %ld for %s, not "
		    "the MF_QBT_UP_LIMIT=%ld sent", url, t->up_limit, t->hash, l->up);
	if (l->auto_tmm != t->auto_tmm)
		warn_once(run, 32, "qBittorrent at %s reports automatic torrent management %s "
		    "for %s, not the MF_QBT_AUTO_TMM=%d sent", url, t->auto_tmm ? "on" : "off",
		    t->hash, l->auto_tmm);
	/* With TMM the category's save path wins: the data may not be there. */
	if (l->auto_tmm && t->save_path && (path_len(t->save_path) != path_len(save) ||
	    strncmp(t->save_path, save, path_len(save)) != 0))
		warn_once(run, 64, "category \"%s\" (MF_QBT_AUTO_TMM=1) put %s in %s, but its "
		    "data is in %s: set the category's save path to %s in qBittorrent",
		    run->category ? run->category : "", t->hash, t->save_path, save, save);
}

/* Fail a held record (already counted as handled): set the error and say so. */
static void
fail_held(struct mf_qbt_run *run, cJSON *rec, int kind, const char *path)
{
	struct mf_qbt *q = run->q;

	if (path)
		mf_rec_error(rec, "upload", kind == MF_QBT_EDOWN || kind == MF_QBT_ERETRY,
		    "%s: %s", path, mf_qbt_error(q));
	else
		mf_rec_error(rec, "upload", kind == MF_QBT_EDOWN || kind == MF_QBT_ERETRY,
		    "%s", mf_qbt_error(q));
	mf_rec_report(rec);
	run->failed++;
}

/* The record handler: check the record, work out hash and save path, and hold it. */
enum mf_rec_result
mf_qbt_record(cJSON *rec, void *ctx)
{
	struct mf_qbt_run *run = ctx;
	struct mf_qbt_job *j;
	const char *path = mf_json_str(rec, "torrent.path"), *ih, *sdir;
	char hash[41], save[4096], why[160];

	if (!path)
		return MF_REC_SKIP;
	if (run->q->fatal) {
		mf_rec_error(rec, "upload", run->q->fatal == MF_QBT_EDOWN, "%s",
		    mf_qbt_error(run->q));
		return MF_REC_FAIL;
	}
	if ((ih = mf_json_str(rec, "torrent.infohash"))) {
		if (mf_qbt_hash_norm(ih, hash) < 0) {
			mf_rec_error(rec, "upload", 0, "torrent.infohash is not 40 hex digits");
			return MF_REC_FAIL;
		}
	} else {
		size_t len;
		char *buf = mf_read_file(path, run->max_torrent, &len);
		int bad;

		if (!buf) {
			mf_rec_error(rec, "upload", 0, "%s: %s", path, strerror(errno));
			return MF_REC_FAIL;
		}
		bad = infohash(buf, len, hash, why, sizeof why) < 0;
		free(buf);
		if (bad) {
			mf_rec_error(rec, "upload", 0, "%s: not a torrent file: %s", path, why);
			return MF_REC_FAIL;
		}
	}
	if (!(sdir = mf_json_str(rec, "staging.dir"))) {
		mf_rec_error(rec, "upload", 0, "no staging.dir: cannot tell qBittorrent where "
		    "the data is");
		return MF_REC_FAIL;
	}
	if (mf_qbt_save_path(sdir, run->seed_root, run->save_map, save, sizeof save) < 0) {
		mf_rec_error(rec, "upload", 0, "staging.dir %s is not under MF_SEED_ROOT %s, "
		    "which MF_QBT_SAVEPATH maps: check both", sdir,
		    run->seed_root ? run->seed_root : "(unset)");
		return MF_REC_FAIL;
	}
	if (run->njobs == run->capjobs) {
		size_t nc = run->capjobs ? run->capjobs * 2 : 64;
		struct mf_qbt_job *nj = realloc(run->jobs, nc * sizeof *nj);

		if (!nj) {
			mf_rec_error(rec, "upload", 1, "out of memory");
			return MF_REC_FAIL;
		}
		run->jobs = nj;
		run->capjobs = nc;
	}
	j = &run->jobs[run->njobs];
	j->rec = rec;
	memcpy(j->hash, hash, sizeof hash);
	if (!(j->save = strdup(save))) {
		mf_rec_error(rec, "upload", 1, "out of memory");
		return MF_REC_FAIL;
	}
	run->njobs++;
	return MF_REC_OK;
}

/* Add one held record that qBittorrent does not have. */
static void
add_one(struct mf_qbt_run *run, struct mf_qbt_job *j)
{
	struct mf_qbt *q = run->q;
	struct mf_qbt_torrent t;
	const char *path = mf_json_str(j->rec, "torrent.path");
	char fhash[41], why[160];
	size_t len;
	char *buf;
	int rc, existed;

	if (run->dry_run) {
		put_qbt(j->rec, j->hash, "would-add", run->category, run->tags, j->save);
		mf_info("%s: would add %s (dry run)", mf_rec_id(j->rec), j->hash);
		return;
	}
	if (!(buf = mf_read_file(path, run->max_torrent, &len))) {
		seterr(q, "%s", strerror(errno));
		fail_held(run, j->rec, MF_QBT_EREC, path);
		return;
	}
	/* A stale torrent.infohash would add one torrent and then look for another. */
	if (infohash(buf, len, fhash, why, sizeof why) == 0 && strcmp(fhash, j->hash) != 0) {
		seterr(q, "torrent.infohash %s is not this file's (%s): make the torrent again",
		    j->hash, fhash);
		free(buf);
		fail_held(run, j->rec, MF_QBT_EREC, path);
		return;
	}
	/* With TMM a category made here points where the data is. */
	if ((rc = mf_qbt_category(q, run->category, run->limits.auto_tmm ? j->save : NULL)) !=
	    MF_QBT_OK) {
		free(buf);
		fail_held(run, j->rec, rc, NULL);
		return;
	}
	struct mf_qbt_add a = { j->hash, buf, len, j->save, run->category, run->tags, run->paused,
	    mf_rec_id(j->rec), &run->limits };
	rc = mf_qbt_add(q, &a, &existed, &t);
	free(buf);
	if (rc != MF_QBT_OK) {
		fail_held(run, j->rec, rc, path);
		return;
	}
	put_qbt(j->rec, j->hash, existed ? "exists" : "added", t.category, t.tags, t.save_path);
	put_limits(j->rec, &t);
	if (!existed)
		check_added(run, &t, j->save);
	mf_qbt_torrent_clear(&t);
}

/*
 * Group commit of the stream: the held records are looked up together (one torrents/info
 * per LOOKUP_CHUNK hashes), then the missing ones are added one by one.  A failure is set
 * on its record here (the stream then writes it), so flush itself always succeeds.
 */
int
mf_qbt_flush(void *ctx)
{
	struct mf_qbt_run *run = ctx;
	const char **hashes = malloc((run->njobs ? run->njobs : 1) * sizeof *hashes);
	struct mf_qbt_torrent *t = calloc(run->njobs ? run->njobs : 1, sizeof *t);
	size_t i;
	int rc;

	if (!hashes || !t) {
		seterr(run->q, "out of memory");
		rc = MF_QBT_ERETRY;
	} else {
		for (i = 0; i < run->njobs; i++)
			hashes[i] = run->jobs[i].hash;
		rc = run->q->fatal ? run->q->fatal : mf_qbt_lookup(run->q, hashes, run->njobs, t);
	}
	for (i = 0; i < run->njobs; i++) {
		struct mf_qbt_job *j = &run->jobs[i];

		if (rc != MF_QBT_OK) {
			fail_held(run, j->rec, rc, NULL);
		} else if (t[i].found) {
			put_qbt(j->rec, j->hash, "exists", t[i].category, t[i].tags, t[i].save_path);
			put_limits(j->rec, &t[i]);
			mf_debug("%s: %s already in qBittorrent", mf_rec_id(j->rec), j->hash);
		} else if (run->q->fatal) {
			fail_held(run, j->rec, run->q->fatal, NULL);
		} else {
			add_one(run, j);
		}
		if (t)
			mf_qbt_torrent_clear(&t[i]);
		free(j->save);
	}
	run->njobs = 0;
	free(hashes);
	free(t);
	return 0;
}

void
mf_qbt_run_free(struct mf_qbt_run *run)
{
	for (size_t i = 0; i < run->njobs; i++)
		free(run->jobs[i].save);
	free(run->jobs);
	run->jobs = NULL;
	run->njobs = run->capjobs = 0;
}
