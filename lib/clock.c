/* clock: monotonic time, sleeping, and ISO-8601 timestamps. */
#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

double
mf_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
mf_sleep(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

char *
mf_iso8601(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

time_t
mf_iso8601_parse(const char *s)
{
	struct tm tm;
	const char *p;

	memset(&tm, 0, sizeof tm);
	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p && strcmp(p, "Z") && strcmp(p, "+00:00"))
		return -1;
	return timegm(&tm);
}
