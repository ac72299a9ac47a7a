#include "kernel/cmdline.h"
#include "boot/boot_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 32

static char raw[BOOT_CMDLINE_MAX];
static char opts_buf[BOOT_CMDLINE_MAX];
static const char *commands = "";
static struct {
	const char *key, *value;
} opts[MAX_OPTS];
static int nopts;

void cmdline_parse(const char *cmdline)
{
	snprintf(raw, sizeof(raw), "%s", cmdline);
	snprintf(opts_buf, sizeof(opts_buf), "%s", cmdline);
	nopts = 0;
	commands = "";

	/* Commands start after a "--" word: at the very start or after a space. */
	char *sep = NULL;
	if (strncmp(opts_buf, "--", 2) == 0 && (opts_buf[2] == ' ' || !opts_buf[2]))
		sep = opts_buf;
	else if ((sep = strstr(opts_buf, " -- ")))
		sep++;
	else if (strlen(opts_buf) >= 3 && strcmp(opts_buf + strlen(opts_buf) - 3, " --") == 0)
		sep = opts_buf + strlen(opts_buf) - 2;
	if (sep) {
		*sep = 0;
		commands = raw + (sep - opts_buf) + 2;
		while (*commands == ' ')
			commands++;
	}
	for (char *w = strtok(opts_buf, " \t"); w; w = strtok(NULL, " \t")) {
		if (nopts == MAX_OPTS) {
			printf("cmdline: more than %d options, ignoring '%s' and the rest\n", MAX_OPTS,
			       w);
			break;
		}
		char *eq = strchr(w, '=');
		if (eq) {
			*eq = 0;
			opts[nopts].value = eq + 1;
		} else {
			opts[nopts].value = "1";
		}
		opts[nopts++].key = w;
	}
}

const char *cmdline_get(const char *key)
{
	/* The last occurrence wins, so appended options override earlier ones. */
	for (int i = nopts - 1; i >= 0; i--)
		if (strcmp(opts[i].key, key) == 0)
			return opts[i].value;
	return NULL;
}

long cmdline_get_int(const char *key, long def)
{
	const char *v = cmdline_get(key);
	char *end;
	if (!v || !*v)
		return def;
	long n = strtol(v, &end, 0);
	return *end ? def : n;
}

const char *cmdline_commands(void)
{
	return commands;
}

const char *cmdline_raw(void)
{
	return raw;
}
