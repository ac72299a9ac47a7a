/*
 * A small line-oriented shell on the serial console. It sleeps in hlt between keystrokes (the
 * UART raises an interrupt on input), so an idle Vireo costs the host almost nothing.
 */
#include "shell/shell.h"
#include "arch/x86_64/cpu.h"
#include "kernel/console.h"
#include "kernel/idle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 256
#define MAX_ARGS 16
#define HELP_COLUMN 28 /* width of "name usage" in `help` */

extern const struct shell_cmd __shell_cmds_start[], __shell_cmds_end[];
static int last_status;

static const struct shell_cmd *find(const char *name)
{
	for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int shell_usage(const char *name)
{
	const struct shell_cmd *c = find(name);
	printf("usage: %s %s\n", name, c ? c->usage : "");
	return 2;
}

int shell_parse_u64(const char *s, unsigned long long *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return *end || errno == ERANGE ? -1 : 0; /* out of range: strtoull saturates */
}

int shell_run_line(const char *line)
{
	char buf[MAX_LINE], status[12];
	char *argv[MAX_ARGS + 1];
	int argc = 0;

	/* Expand "$?" (the previous status) anywhere in the line. */
	snprintf(status, sizeof(status), "%d", last_status);
	size_t n = 0;
	for (const char *p = line; *p; p++) {
		const char *piece = p, *dollar = strncmp(p, "$?", 2) == 0 ? status : NULL;
		size_t len = dollar ? strlen(status) : 1;
		if (n + len >= sizeof(buf)) {
			printf("error: line too long (max %d characters)\n", MAX_LINE - 1);
			return last_status = 2;
		}
		memcpy(buf + n, dollar ? dollar : piece, len);
		n += len;
		p += dollar ? 1 : 0;
	}
	buf[n] = 0;
	for (char *p = strtok(buf, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
		if (argc == MAX_ARGS) {
			printf("error: too many arguments (max %d)\n", MAX_ARGS - 1);
			return last_status = 2;
		}
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	if (argc == 0)
		return last_status;
	const struct shell_cmd *c = find(argv[0]);
	if (!c) {
		printf("error: unknown command '%s' (try 'help')\n", argv[0]);
		return last_status = 127;
	}
	last_status = c->fn(argc, argv);
	fflush(stdout);
	return last_status;
}

int shell_run_script(const char *script)
{
	char cmd[MAX_LINE];
	const char *p = script;
	while (*p) {
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);
		if (n >= sizeof(cmd)) {
			printf("error: command too long in script\n");
			last_status = 2;
		} else {
			memcpy(cmd, p, n);
			cmd[n] = 0;
			char *s = cmd;
			while (*s == ' ')
				s++;
			if (*s) {
				printf("vireo> %s\n", s);
				shell_run_line(s);
			}
		}
		p += n;
		if (*p == ';')
			p++;
	}
	return last_status;
}

static int read_char(void)
{
	int c;
	while ((c = console_getc_nonblock()) < 0)
		idle_wait(); /* services run; then the UART, the tick or a device wakes us */
	return c;
}

_Noreturn void shell_loop(void)
{
	char line[MAX_LINE];
	for (;;) {
		if (last_status)
			printf("vireo [%d]> ", last_status);
		else
			printf("vireo> ");
		fflush(stdout);
		size_t n = 0;
		for (;;) {
			int c = read_char();
			if (c == '\r' || c == '\n') {
				console_write("\n", 1);
				break;
			}
			if (c == 0x7f || c == '\b') {
				if (n) {
					n--;
					console_write("\b \b", 3);
				}
				continue;
			}
			if (c == 3) { /* ^C: drop the line */
				n = 0;
				console_write("^C\n", 3);
				break;
			}
			if (c < ' ' || n + 1 >= sizeof(line))
				continue;
			line[n++] = (char)c;
			char ch = (char)c;
			console_write(&ch, 1);
		}
		line[n] = 0;
		shell_run_line(line);
	}
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return shell_usage(argv[0]);
	for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++) {
		if (argc == 2 && strcmp(argv[1], c->name) != 0)
			continue;
		/* Name and usage in a column of HELP_COLUMN characters, the description after it;
		 * a longer usage gets a line of its own, so nothing is ever cut. */
		int w = (int)(strlen(c->name) + 1 + strlen(c->usage));
		if (w <= HELP_COLUMN)
			printf("  %s %-*s %s\n", c->name, HELP_COLUMN - (int)strlen(c->name) - 1,
			       c->usage, c->help);
		else
			printf("  %s %s\n  %-*s %s\n", c->name, c->usage, HELP_COLUMN, "", c->help);
	}
	if (argc == 2 && !find(argv[1])) {
		printf("error: no command '%s'\n", argv[1]);
		return 1;
	}
	return 0;
}
SHELL_COMMAND(help, "help", "[command]", "list commands, or describe one", cmd_help);

static int cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("%s%s", argv[i], i + 1 < argc ? " " : "");
	printf("\n");
	return 0;
}
SHELL_COMMAND(echo, "echo", "[words...]", "print the words ($? is the last status)", cmd_echo);
