// SPDX-License-Identifier: GPL-2.0
/*
 * pmemflush(1): list persistent memory regions and deep-flush them through
 * /dev/pmemflush. The ioctls are used directly (include/uapi/linux/
 * pmemflush.h); the command needs libc and json-c (for -j, as ndctl).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmemflush.h"

#ifndef PMEMFLUSH_VERSION
#define PMEMFLUSH_VERSION "unknown"
#endif

const char *prog = "pmemflush";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
} cmds[] = {
	{ "list", cmd_list, "pmemflush list [<options>]",
	  "    -j, --json            JSON output\n"
	  "    -h, --help            show this help\n" },
	{ "query", cmd_query, "pmemflush query [<options>] <path>",
	  "    -j, --json            JSON output\n"
	  "    -h, --help            show this help\n" },
	{ "flush", cmd_flush, "pmemflush flush [<options>] <path>",
	  "    -o, --offset <n>      start of the range (default 0)\n"
	  "    -l, --length <n>      length of the range (default: to the end)\n"
	  "    -j, --json            JSON output\n"
	  "    -q, --quiet           print nothing on success\n"
	  "    -h, --help            show this help\n"
	  "  Sizes take a K, M, G or T suffix (powers of 1024) and 0x hex.\n" },
	{ "bench", cmd_bench, "pmemflush bench [<options>] <path>",
	  "    -s, --seconds <n>     seconds per measurement (default 1)\n"
	  "    -l, --length <n>      bytes per FLUSH (default 4K, or 64\n"
	  "                          on a target smaller than 4K)\n"
	  "    -j, --json            JSON output\n"
	  "    -u, --uring           also FLUSH as an io_uring command, one\n"
	  "                          submitted and waited for at a time\n"
	  "    -h, --help            show this help\n" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

void err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void global_usage(FILE *f)
{
	size_t i;

	fputs("usage: pmemflush [--version] [--help] <command> [<args>]\n\n"
	      "commands:\n"
	      "    list     persistent memory regions, namespaces, DAX mounts\n"
	      "    query    what the module sees behind a file or device\n"
	      "    flush    deep-flush a range of a file or device\n"
	      "    bench    latency of the module's ioctls on a target\n\n", f);
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %s\n", cmds[i].usage);
	fputs("\nSee 'pmemflush <command> --help' and pmemflush(1).\n", f);
}

void print_usage(FILE *f, const char *cmd)
{
	size_t i;

	for (i = 0; cmd && i < NCMDS; i++) {
		if (!strcmp(cmd, cmds[i].name)) {
			fprintf(f, "\n usage: %s\n\n%s\n", cmds[i].usage,
				cmds[i].help);
			return;
		}
	}
	global_usage(f);
}

/* message, the command's usage on stderr; returns EXIT_USAGE */
int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", prog, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr, cmd);
	return EXIT_USAGE;
}

/* snprintf() that says when the result did not fit: 0, or -1 */
int strfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * ndctl's sizes: a number in C notation (decimal, 0x hex, 0 octal) with an
 * optional K, M, G or T suffix, powers of 1024. 0 or -1 (bad syntax or
 * overflow).
 */
int parse_size(const char *s, unsigned long long *val)
{
	unsigned long long v, mul = 1;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K':
		mul = 1ULL << 10;
		break;
	case 'm': case 'M':
		mul = 1ULL << 20;
		break;
	case 'g': case 'G':
		mul = 1ULL << 30;
		break;
	case 't': case 'T':
		mul = 1ULL << 40;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (mul != 1) {
		end++;
		/* "4KiB", "4KB" as well as "4K" */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (*end)
		return -1;
	if (v > ~0ULL / mul)
		return -1;
	*val = v * mul;
	return 0;
}

const char *human_size(unsigned long long v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB" };
	double d = v;
	int i = 0;

	while (d >= 1024 && i < 6) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", v);
	else
		snprintf(buf, len, "%.2f %s", d, unit[i]);
	return buf;
}

const char *kind_name(unsigned int kind)
{
	switch (kind) {
	case PMEMFLUSH_TARGET_DEVDAX:
		return "devdax";
	case PMEMFLUSH_TARGET_FSDAX_FILE:
		return "fsdax_file";
	case PMEMFLUSH_TARGET_BLOCK:
		return "block";
	case PMEMFLUSH_TARGET_BTT:
		return "btt";
	}
	return "unknown";
}

const char *domain_name(unsigned int domain)
{
	switch (domain) {
	case PMEMFLUSH_PERSIST_MEMORY_CONTROLLER:
		return "memory_controller";
	case PMEMFLUSH_PERSIST_CPU_CACHE:
		return "cpu_cache";
	}
	return "unknown";
}

/*
 * Open /dev/pmemflush. On failure says why (unless @quiet) and returns -1
 * with errno set.
 */
int open_pmemflush(bool quiet)
{
	struct stat st;
	struct group *gr;
	char gname[32];
	int fd, e;

	fd = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || quiet)
		return fd;
	e = errno;
	switch (e) {
	case ENOENT:
		if (!access("/sys/module/pmemflush", F_OK))
			err("%s does not exist although the pmemflush module is loaded: no device node (is udev running? see /sys/class/misc/pmemflush/dev)",
			    PMEMFLUSH_DEV);
		else
			err("%s does not exist: the pmemflush module is not loaded (try: modprobe pmemflush)",
			    PMEMFLUSH_DEV);
		break;
	case EACCES:
	case EPERM:
		if (stat(PMEMFLUSH_DEV, &st)) {
			err("%s: permission denied", PMEMFLUSH_DEV);
			break;
		}
		gr = getgrgid(st.st_gid);
		if (gr)
			snprintf(gname, sizeof(gname), "%s", gr->gr_name);
		else
			snprintf(gname, sizeof(gname), "%u",
				 (unsigned int)st.st_gid);
		err("%s: permission denied: the node is restricted to group %s (mode %04o); a member of that group may flush (see ACCESS in pmemflush(1))",
		    PMEMFLUSH_DEV, gname, (unsigned int)(st.st_mode & 07777));
		break;
	case ENXIO:
	case ENODEV:
		err("%s: no driver behind the node (%s): is the pmemflush module being unloaded?",
		    PMEMFLUSH_DEV, strerror(e));
		break;
	default:
		err("%s: %s", PMEMFLUSH_DEV, strerror(e));
	}
	errno = e;
	return -1;
}

int main(int argc, char **argv)
{
	const char *cmd;
	size_t i;

	if (argc < 2)
		return usage_error(NULL, "no command given");
	cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-v") ||
	    !strcmp(cmd, "version")) {
		if (argc > 2)
			return usage_error(NULL, "%s takes no arguments", cmd);
		printf("pmemflush %s\n", PMEMFLUSH_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		if (argc > 3)
			return usage_error(NULL, "help takes one command");
		if (argc == 3) {
			for (i = 0; i < NCMDS; i++)
				if (!strcmp(argv[2], cmds[i].name))
					break;
			if (i == NCMDS)
				return usage_error(NULL,
						   "'%s' is not a pmemflush command",
						   argv[2]);
		}
		print_usage(stdout, argc == 3 ? argv[2] : NULL);
		return 0;
	}
	if (cmd[0] == '-')
		return usage_error(NULL, "unknown option '%s'", cmd);
	for (i = 0; i < NCMDS; i++)
		if (!strcmp(cmd, cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return usage_error(NULL, "'%s' is not a pmemflush command", cmd);
}
