#include "kernel/cmdline.h"
#include "boot/boot_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 32

static char raw[BOOT_CMDLINE_MAX];
static char opts_buf[BOOT_CMDLINE_MAX];
static char cmds_buf[BOOT_CMDLINE_MAX];
static char appended_buf[BOOT_CMDLINE_MAX];
static const char *commands = "";
static struct {
	const char *key, *value;
} opts[MAX_OPTS];
static int nopts;

/* Options a VMM appends to the end of the command line, after our " -- " commands: QEMU's
 * microvm adds " virtio_mmio.device=..." for each virtio-mmio device to the command line the
 * Linux and PVH boot paths hand over. They are options wherever they stand: take them out of
 * the commands. Filled into opts by cmdline_parse after the real options. */
static const char *const appended_keys[] = {"virtio_mmio.device="};

static void take_appended_options(void)
{
	size_t used = 0;
	for (unsigned k = 0; k < sizeof(appended_keys) / sizeof(appended_keys[0]); k++) {
		const char *key = appended_keys[k];
		char *at;
		while ((at = strstr(cmds_buf, key)) && (at == cmds_buf || at[-1] == ' ')) {
			size_t n = strcspn(at, " \t");
			if (used + n + 2 > sizeof(appended_buf))
				break;
			memcpy(appended_buf + used, at, n);
			appended_buf[used + n] = ' ';
			used += n + 1;
			memmove(at, at + n, strlen(at + n) + 1);
		}
	}
	appended_buf[used] = 0;
	/* What is left of the last command ends where the appended options began. */
	for (size_t n = strlen(cmds_buf); n && cmds_buf[n - 1] == ' '; n--)
		cmds_buf[n - 1] = 0;
}

static void add_options(char *text)
{
	for (char *w = strtok(text, " \t"); w; w = strtok(NULL, " \t")) {
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

void cmdline_parse(const char *cmdline)
{
	snprintf(raw, sizeof(raw), "%s", cmdline);
	snprintf(opts_buf, sizeof(opts_buf), "%s", cmdline);
	nopts = 0;
	commands = "";
	cmds_buf[0] = 0;
	appended_buf[0] = 0;

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
		/* The commands are a copy of their own, so options a VMM appends after them can be
		 * cut out (below). */
		snprintf(cmds_buf, sizeof(cmds_buf), "%s", raw + (sep - opts_buf) + 2);
		commands = cmds_buf;
		while (*commands == ' ')
			commands++;
		take_appended_options();
	}
	add_options(opts_buf);
	add_options(appended_buf);
}

const char *cmdline_get(const char *key)
{
	/* The last occurrence wins, so appended options override earlier ones. */
	for (int i = nopts - 1; i >= 0; i--)
		if (strcmp(opts[i].key, key) == 0)
			return opts[i].value;
	return NULL;
}

const char *cmdline_get_nth(const char *key, unsigned n)
{
	for (int i = 0; i < nopts; i++)
		if (strcmp(opts[i].key, key) == 0 && n-- == 0)
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
