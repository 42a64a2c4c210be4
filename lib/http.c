/* http: one kept-alive libcurl handle per run, bounded bodies, and the retry policy. */
#include "http.h"
#include "clock.h"
#include "json.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct mf_http {
	CURL		*curl;
	struct curl_slist *headers;
	double		timeout;
};

static int curl_ready;

struct mf_http *
mf_http_new(double timeout)
{
	struct mf_http *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			free(h);
			return NULL;
		}
		curl_ready = 1;
	}
	if (!(h->curl = curl_easy_init())) {
		free(h);
		return NULL;
	}
	h->timeout = timeout;
	return h;
}

void
mf_http_free(struct mf_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	free(h);
}

int
mf_http_add_header(struct mf_http *h, const char *header)
{
	struct curl_slist *n = curl_slist_append(h->headers, header);

	if (!n)
		return -1;
	h->headers = n;
	return 0;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct mf_http_resp *r = ud;
	size_t n = size * nmemb;

	if (n > MF_HTTP_MAX_BODY - r->len) {
		r->too_large = 1;
		return 0;	/* libcurl aborts with CURLE_WRITE_ERROR */
	}
	char *nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct mf_http_resp *r = ud;
	size_t n = size * nmemb;
	char v[128];

	if (n > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0) {
		size_t vl = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
		char *end;
		double d;

		memcpy(v, ptr + 12, vl);
		v[vl] = '\0';
		d = strtod(v, &end);
		if (end != v && d >= 0) {
			r->retry_after = d;
		} else {
			/* An HTTP date. */
			struct tm tm;
			char *s = v;
			while (*s == ' ')
				s++;
			memset(&tm, 0, sizeof tm);
			if (strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
				double dt = difftime(timegm(&tm), time(NULL));
				r->retry_after = dt > 0 ? dt : 0;
			}
		}
	}
	return n;
}

static int
perform(struct mf_http *h, const char *url, struct mf_http_resp *r)
{
	CURL *c = h->curl;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	memset(r, 0, sizeof *r);
	r->retry_after = -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(h->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");	/* cookie engine on, in memory */
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mamfast/" MF_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (!r->body && (r->body = malloc(1)))
		r->body[0] = '\0';
	if (rc != CURLE_OK) {
		r->transport = rc;
		r->status = 0;
		/* Not libcurl's "Failure writing output to destination": it was our limit. */
		if (r->too_large)
			snprintf(r->error, sizeof r->error, "the answer exceeded %u bytes, the most "
			    "taken from a server", MF_HTTP_MAX_BODY);
		else
			snprintf(r->error, sizeof r->error, "%s", *errbuf ? errbuf :
			    curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	return 0;
}

int
mf_http_get(struct mf_http *h, const char *url, struct mf_http_resp *r)
{
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	return perform(h, url, r);
}

int
mf_http_post_form(struct mf_http *h, const char *url, const char *body, struct mf_http_resp *r)
{
	int rc;

	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	rc = perform(h, url, r);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	return rc;
}

int
mf_http_post_multipart(struct mf_http *h, const char *url, const struct mf_http_part *parts,
    size_t n, struct mf_http_resp *r)
{
	curl_mime *mime = curl_mime_init(h->curl);
	int rc;

	for (size_t i = 0; i < n; i++) {
		curl_mimepart *p = curl_mime_addpart(mime);

		curl_mime_name(p, parts[i].name);
		if (parts[i].data) {
			curl_mime_data(p, parts[i].data, parts[i].len);
			if (parts[i].filename)
				curl_mime_filename(p, parts[i].filename);
			if (parts[i].type)
				curl_mime_type(p, parts[i].type);
		} else {
			curl_mime_data(p, parts[i].value ? parts[i].value : "", CURL_ZERO_TERMINATED);
		}
	}
	curl_easy_setopt(h->curl, CURLOPT_MIMEPOST, mime);
	rc = perform(h, url, r);
	curl_easy_setopt(h->curl, CURLOPT_MIMEPOST, NULL);
	curl_mime_free(mime);
	return rc;
}

void
mf_http_resp_free(struct mf_http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

void
mf_http_excerpt(const char *body, size_t len, char *out, size_t n)
{
	size_t i = 0, k = 0;
	char *d;

	if (n == 0)
		return;
	if (len > 120)
		len = 120;
	d = mf_utf8_display(body ? body : "", body ? len : 0);
	while (d && d[i]) {
		unsigned char c = (unsigned char)d[i];
		/* d is valid UTF-8: the lead byte says how long the character is. */
		size_t cl = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

		if (k + cl >= n)
			break;
		if (cl == 1 && (c == '\t' || c == '\n' || c == '\r'))
			out[k] = ' ';
		else if (cl == 1)
			out[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		else
			memcpy(out + k, d + i, cl);
		k += cl;
		i += cl;
	}
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
	free(d);
}

char *
mf_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			*o++ = *p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

void
mf_retry_init(struct mf_retry *rt, int max_attempts, double max_total, double base)
{
	rt->max_attempts = max_attempts < 1 ? 1 : max_attempts;
	rt->max_total = max_total;
	rt->base = base > 0 ? base : 0.1;
	rt->cap = 30;
	rt->attempt = 0;
	rt->start = mf_now();
}

/* Uniform in [0, 1): jitter need not be cryptographic, only different per process. */
static double
jitter(void)
{
	static uint64_t s;

	if (!s)
		s = ((uint64_t)getpid() << 32) ^ (uint64_t)(mf_now() * 1e9) ^ 0x9e3779b97f4a7c15ull;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (s >> 11) * (1.0 / 9007199254740992.0);
}

int
mf_retry_wait(struct mf_retry *rt, double hint)
{
	double left, wait, ceil;

	rt->attempt++;
	if (rt->attempt >= rt->max_attempts)
		return -1;
	left = rt->max_total - (mf_now() - rt->start);
	if (left <= 0)
		return -1;
	ceil = rt->base * (double)(1u << (rt->attempt - 1 < 16 ? rt->attempt - 1 : 16));
	if (ceil > rt->cap)
		ceil = rt->cap;
	/* Full jitter, but never less than half the ceiling: spreads clients, still backs off. */
	wait = ceil * (0.5 + 0.5 * jitter());
	if (hint >= 0)
		wait = hint;
	if (wait > left)
		return -1;	/* the server asks for more than we may spend */
	mf_sleep(wait);
	return 0;
}
