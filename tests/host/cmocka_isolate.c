#include "tests/host/cmocka_isolate.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char child_out[65536];

#ifdef VIREO_COVERAGE
void __gcov_dump(void);
#endif

void cmocka_isolate(CMUnitTestFunction body, const char *name)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		const struct CMUnitTest one[] = {{name, body, NULL, NULL, NULL}};
		int failed = cmocka_run_group_tests_name(name, one, NULL, NULL);
		fflush(stdout);
		fflush(stderr);
#ifdef VIREO_COVERAGE
		__gcov_dump(); /* _exit skips writing the coverage counters out */
#endif
		_exit(failed ? 1 : 0);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fds[0], child_out + n, sizeof(child_out) - 1 - n)) > 0)
		n += (size_t)r;
	child_out[n] = 0;
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* Show what the child said, as TAP comments. */
		for (char *line = strtok(child_out, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(stderr, "# %s\n", line);
		fail_msg("%s failed (child status %#x)", name, status);
	}
}
