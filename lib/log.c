/* log: err(3)-style diagnostics on stderr, each naming the program. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "mamfast";
int mf_verbose;

void
mf_setprog(const char *argv0)
{
	const char *s = strrchr(argv0, '/');

	prog = s ? s + 1 : argv0;
}

const char *
mf_getprog(void)
{
	return prog;
}

static void vmsg(int, const char *, va_list) __attribute__((format(printf, 2, 0)));

static void
vmsg(int errnum, const char *fmt, va_list ap)
{
	/* One fprintf per piece would interleave with other processes; build the line first. */
	char line[4096];
	int n = snprintf(line, sizeof line, "%s: ", prog);

	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (errnum) {
		size_t len = strlen(line);
		snprintf(line + len, sizeof line - len, ": %s", strerror(errnum));
	}
	fprintf(stderr, "%s\n", line);
}

void
mf_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
}

void
mf_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(e, fmt, ap);
	va_end(ap);
}

void
mf_errx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
	exit(code);
}

void
mf_err(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(e, fmt, ap);
	va_end(ap);
	exit(code);
}

void
mf_debug(const char *fmt, ...)
{
	va_list ap;

	if (mf_verbose < 1)
		return;
	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
}

void
mf_info(const char *fmt, ...)
{
	va_list ap;

	if (mf_verbose < 0)
		return;
	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
}

void
mf_print_version(void)
{
	printf("%s (mamfast) %s\n", prog, MF_VERSION);
}
