/* log: err(3)-style diagnostics on stderr, each naming the program. */
#ifndef MF_LOG_H
#define MF_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

/* Set once from argv[0] in main; every message starts with it. */
void mf_setprog(const char *argv0);
const char *mf_getprog(void);

/* Verbosity: -1 quiet (errors only), 0 normal, 1+ verbose. */
extern int mf_verbose;

void mf_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like mf_warnx, with ": strerror(errno)" appended. */
void mf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void mf_errx(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void mf_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Printed only with -v. */
void mf_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed unless -q. */
void mf_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Standard --version output: "mf-x (mamfast) 0.1.0". */
void mf_print_version(void);

#endif
