/*
 * The serial shell. Commands register themselves from any file with SHELL_COMMAND; the linker
 * collects them into one table (.shell_cmds in linker.ld), so adding a driver's command never
 * means editing the shell.
 */
#ifndef VIREO_SHELL_H
#define VIREO_SHELL_H

struct shell_cmd {
	const char *name;
	const char *usage; /* arguments, e.g. "[code]" */
	const char *help;  /* one line */
	/* Returns the command's status: 0 for success, non-zero after printing an error. */
	int (*fn)(int argc, char **argv);
};

#define SHELL_COMMAND(id, name_, usage_, help_, fn_)                                              \
	static const struct shell_cmd shell_cmd_##id                                              \
		__attribute__((used, section(".shell_cmds." #id), aligned(8))) = {name_, usage_,  \
										   help_, fn_}

/* Split line into words and run it; returns the status (127 for an unknown command). "$?" in
 * an argument expands to the previous status. */
int shell_run_line(const char *line);
/* Run "c1; c2; ..." one by one, echoing each with the prompt. Returns the last status. */
int shell_run_script(const char *script);
/* The interactive prompt on the console; never returns. */
_Noreturn void shell_loop(void);
/* Print "usage: name args" for cmd name and return 2 (bad arguments). */
int shell_usage(const char *name);
/* Parse a whole decimal or 0x-hex number into *out; 0 on success, -1 on junk. */
int shell_parse_u64(const char *s, unsigned long long *out);

#endif
