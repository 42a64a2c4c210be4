/* harness: a tiny TAP test harness for the lib/ unit tests.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(name); return DONE(); }
 *
 * Each TEST prints "ok N - name" or "not ok N - name" with the failed checks as
 * "# file:line: ..." comments; tests/run adds the lines up.
 */
#ifndef MF_HARNESS_H
#define MF_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int h_failed_checks, h_tests, h_failures;

#define TEST(name) static void test_##name(void)

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		h_failed_checks++; \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (!g_ || !w_ || strcmp(g_, w_) != 0) { \
		printf("# %s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got, \
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
		h_failed_checks++; \
	} \
} while (0)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ != w_) { \
		printf("# %s:%d: %s is %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); \
		h_failed_checks++; \
	} \
} while (0)

#define RUN(name) do { \
	int before_ = h_failed_checks; \
	test_##name(); \
	h_tests++; \
	if (h_failed_checks != before_) { \
		h_failures++; \
		printf("not ok %d - %s\n", h_tests, #name); \
	} else { \
		printf("ok %d - %s\n", h_tests, #name); \
	} \
	fflush(stdout); \
} while (0)

#define DONE() (printf("1..%d\n", h_tests), h_failures ? 1 : 0)

/* Remove a test's scratch folder (made with mkdtemp, so no quote in its name); 0 on success. */
static int __attribute__((unused))
h_rmtree(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
