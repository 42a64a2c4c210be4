/* clock: monotonic time, sleeping, and ISO-8601 timestamps. */
#ifndef MF_CLOCK_H
#define MF_CLOCK_H

#include <stddef.h>
#include <time.h>

/* Seconds on the monotonic clock. */
double mf_now(void);
/* Sleep for s seconds (restarted on EINTR). */
void mf_sleep(double s);
/* "2026-11-26T15:02:53Z" for t (UTC) into buf of at least 21 bytes; returns buf. */
char *mf_iso8601(time_t t, char *buf, size_t n);
/* Parse that form (also with fractional seconds or +00:00); -1 when malformed. */
time_t mf_iso8601_parse(const char *s);

#endif
