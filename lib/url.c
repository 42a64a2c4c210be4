/* url: strict checks of the tracker announce URLs of the configuration (see url.h). */
#include "url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
fail(char *why, size_t n, const char *msg)
{
	snprintf(why, n, "%s", msg);
	return -1;
}

static int
is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.';
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int
mf_announce_url_check(const char *s, size_t len, char *why, size_t n)
{
	static const char *const schemes[] = { "http", "https", "udp" };
	const char *p, *end = s + len, *host, *auth_end;
	size_t i, sl = 0;
	int udp = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f)
			return fail(why, n, "a control character, a space or a byte that is not "
			    "ASCII in the URL");
	}
	for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t k = strlen(schemes[i]);

		if (len > k + 3 && strncasecmp(s, schemes[i], k) == 0 &&
		    memcmp(s + k, "://", 3) == 0) {
			sl = k;
			udp = i == 2;
			break;
		}
	}
	if (sl == 0)
		return fail(why, n, "not an http://, https:// or udp:// URL");
	host = s + sl + 3;
	for (auth_end = host; auth_end < end && !strchr("/?#", *auth_end); auth_end++)
		;
	if (memchr(host, '@', (size_t)(auth_end - host)))
		return fail(why, n, "user info (name@ before the host) in the URL");
	p = host;
	if (p < auth_end && *p == '[') {
		int colon = 0;

		for (p++; p < auth_end && *p != ']'; p++) {
			if (*p == ':')
				colon = 1;
			else if (!is_hex((unsigned char)*p) && *p != '.')
				return fail(why, n, "an IPv6 host with a character other than hex "
				    "digits, ':' and '.'");
		}
		if (p == auth_end)
			return fail(why, n, "an IPv6 host without its closing ]");
		if (!colon)
			return fail(why, n, "an IPv6 host without ':'");
		p++;
	} else {
		const char *h = p;

		for (; p < auth_end && *p != ':'; p++)
			if (!is_name_char((unsigned char)*p))
				return fail(why, n, "a host name with a character other than "
				    "letters, digits, '-', '_' and '.'");
		if (p == h)
			return fail(why, n, "no host");
		if (*h == '.' || memmem(h, (size_t)(p - h), "..", 2))
			return fail(why, n, "a host name with an empty label ('.' first or '..')");
	}
	if (p < auth_end) {
		unsigned long port = 0;
		const char *d = ++p;

		if (p[-1] != ':')
			return fail(why, n, "text after the host that is not :PORT");
		for (; p < auth_end; p++) {
			if (*p < '0' || *p > '9')
				return fail(why, n, "a port that is not a number");
			if ((port = port * 10 + (unsigned long)(*p - '0')) > 65535)
				break;
		}
		if (p == d || port == 0 || port > 65535)
			return fail(why, n, "a port outside 1-65535");
	} else if (udp) {
		return fail(why, n, "a udp:// URL without a port");
	}
	return 0;
}

long
mf_announce_check(const char *text, size_t len, int lines, size_t *line, char *why,
    size_t n)
{
	const char *p = text, *end = text + len;
	char reason[200];
	size_t ln = 0;
	long count = 0;

	if (line)
		*line = 0;
	if (memchr(text, '\0', len)) {
		fail(why, n, "a NUL byte in the text");
		return -1;
	}
	while (p < end) {
		const char *e, *a, *b;

		if (lines) {
			e = memchr(p, '\n', (size_t)(end - p));
			e = e ? e : end;
			ln++;
		} else {
			while (p < end && strchr(" \t\r\n", *p))
				p++;
			for (e = p; e < end && !strchr(" \t\r\n", *e); e++)
				;
		}
		/* A line: blanks (a CR of CRLF too) around the URL are not part of it. */
		for (a = p; a < e && strchr(" \t\r", *a); a++)
			;
		for (b = e; b > a && strchr(" \t\r", b[-1]); b--)
			;
		if (b > a) {
			if (lines && (memchr(a, ' ', (size_t)(b - a)) || memchr(a, '\t', (size_t)(b - a)))) {
				snprintf(why, n, "two words on one line (one URL a line)");
				goto bad;
			}
			if (mf_announce_url_check(a, (size_t)(b - a), reason, sizeof reason) < 0) {
				snprintf(why, n, "%s", reason);
				goto bad;
			}
			count++;
		}
		p = e < end ? e + 1 : end;
	}
	if (count == 0) {
		fail(why, n, "no URL");
		return -1;
	}
	return count;
bad:
	if (line)
		*line = lines ? ln : 0;
	return -1;
}
