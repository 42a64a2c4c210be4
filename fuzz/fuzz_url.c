/* libFuzzer target: the announce URL checks (one URL, and lists of them as text). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char why[200];
	size_t line, i;

	if (mf_announce_url_check(s, size, why, sizeof why) == 0) {
		/* What is accepted is printable ASCII after a known scheme, with no user info. */
		const char *host = memchr(s, ':', size) + 3, *end = s + size, *a;

		for (i = 0; i < size; i++)
			if (data[i] <= ' ' || data[i] >= 0x7f)
				__builtin_trap();
		if (strncasecmp(s, "http://", 7) && strncasecmp(s, "https://", 8) &&
		    strncasecmp(s, "udp://", 6))
			__builtin_trap();
		for (a = host; a < end && *a != '/' && *a != '?' && *a != '#'; a++)
			if (*a == '@')
				__builtin_trap();
		if (a == host)
			__builtin_trap();
	} else if (strlen(why) == 0 || strlen(why) >= sizeof why) {
		__builtin_trap();
	}
	if (size > 0) {
		long n = mf_announce_check(s + 1, size - 1, data[0] & 1, &line, why, sizeof why);

		if (n == 0 || (n < 0 && !*why) || (n > 0 && (long)size < 8 * n))
			__builtin_trap();
	}
	return 0;
}
