/* url: strict checks of the tracker announce URLs of the configuration. */
#ifndef MF_URL_H
#define MF_URL_H

#include <stddef.h>

/*
 * One announce URL of len bytes: scheme http, https or udp (any case), "://", a host (a
 * name of letters, digits, '-', '_' and '.', or an IPv6 literal in brackets), a port
 * 1-65535 when given (udp must give one), no user info before the host, and no byte that
 * is a control character, a space or not ASCII anywhere.  Returns 0, or -1 with the reason
 * in why, which never quotes the URL: its path holds the passkey.
 */
int mf_announce_url_check(const char *s, size_t len, char *why, size_t n);

/*
 * Every URL of text (len bytes): one a line when lines is set (MF_ANNOUNCE_URL_FILE:
 * blanks around a URL and blank lines are ignored, a line holding two words is refused),
 * else separated by white space (MF_ANNOUNCE_URL).  At least one URL, no NUL byte.
 * Returns the number of URLs, or -1 with the reason in why and, with lines, the line in
 * *line.
 */
long mf_announce_check(const char *text, size_t len, int lines, size_t *line, char *why,
    size_t n);

#endif
