/* The selftest runner: KTAP output, one nested block per suite, and a summary line. */
#include "selftest/ktest.h"
#include "shell/shell.h"

#include <string.h>

extern const struct ktest_suite __ktest_suites_start[], __ktest_suites_end[];

static int run_suite(const struct ktest_suite *s, int index, int *passed, int *failed,
		     int *skipped)
{
	int fails = 0;
	printf("    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", s->name, s->ncases);
	for (size_t i = 0; i < s->ncases; i++) {
		int r = s->cases[i].fn();
		if (r == KTEST_SKIP) {
			printf("    ok %zu %s # SKIP\n", i + 1, s->cases[i].name);
			(*skipped)++;
		} else if (r == 0) {
			printf("    ok %zu %s\n", i + 1, s->cases[i].name);
			(*passed)++;
		} else {
			printf("    not ok %zu %s\n", i + 1, s->cases[i].name);
			(*failed)++;
			fails++;
		}
	}
	printf("%s %d %s\n", fails ? "not ok" : "ok", index, s->name);
	return fails;
}

int ktest_run(const char *name)
{
	int nsuites = 0, passed = 0, failed = 0, skipped = 0;
	for (const struct ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; s++)
		if (!name || strcmp(s->name, name) == 0)
			nsuites++;
	if (nsuites == 0)
		return -1;
	printf("KTAP version 1\n1..%d\n", nsuites);
	int i = 0;
	for (const struct ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; s++)
		if (!name || strcmp(s->name, name) == 0)
			run_suite(s, ++i, &passed, &failed, &skipped);
	printf("# selftest: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed;
}

static int cmd_selftest(int argc, char **argv)
{
	if (argc > 2)
		return shell_usage(argv[0]);
	int r = ktest_run(argc == 2 ? argv[1] : NULL);
	if (r < 0) {
		printf("error: no selftest suite '%s'; suites:", argv[1]);
		for (const struct ktest_suite *s = __ktest_suites_start; s < __ktest_suites_end; s++)
			printf(" %s", s->name);
		printf("\n");
		return 2;
	}
	return r ? 1 : 0;
}
SHELL_COMMAND(selftest, "selftest", "[suite]", "run the in-kernel tests (KTAP output)",
	      cmd_selftest);
