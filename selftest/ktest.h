/*
 * In-kernel self tests, run by the shell's `selftest [suite]` and reported as KTAP
 * (https://docs.kernel.org/dev-tools/ktap.html): one subtest block per suite.
 *
 *   static int test_x(void) { KT_ASSERT(1 + 1 == 2); return 0; }
 *   KTEST_SUITE(mysuite, KTEST_CASE(test_x), ...);
 */
#ifndef VIREO_KTEST_H
#define VIREO_KTEST_H

#include <stddef.h>
#include <stdio.h>

struct ktest_case {
	const char *name;
	int (*fn)(void); /* 0: pass; negative: fail (after a KT_ASSERT message); 1: skip */
};

struct ktest_suite {
	const char *name;
	const struct ktest_case *cases;
	size_t ncases;
};

#define KTEST_SKIP 1
#define KTEST_CASE(fn) {#fn, fn}
#define KTEST_SUITE(id, ...)                                                                      \
	static const struct ktest_case ktest_cases_##id[] = {__VA_ARGS__};                        \
	static const struct ktest_suite ktest_suite_##id                                          \
		__attribute__((used, section(".ktest_suites." #id), aligned(8))) = {              \
			#id, ktest_cases_##id, sizeof(ktest_cases_##id) / sizeof(ktest_cases_##id[0])}

#define KT_ASSERT(cond)                                                                           \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			printf("        # %s:%d: failed: %s\n", __FILE__, __LINE__, #cond);      \
			return -1;                                                                \
		}                                                                                 \
	} while (0)

/* Like KT_ASSERT for two unsigned values, printing both when they differ. */
#define KT_ASSERT_EQ(a, b)                                                                        \
	do {                                                                                      \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);    \
		if (a_ != b_) {                                                                   \
			printf("        # %s:%d: failed: %s == %s (%#llx != %#llx)\n", __FILE__,  \
			       __LINE__, #a, #b, a_, b_);                                         \
			return -1;                                                                \
		}                                                                                 \
	} while (0)

/* Run every suite (name NULL) or the one named. Returns the number of failed cases, or -1 when
 * no suite has that name. */
int ktest_run(const char *name);

#endif
