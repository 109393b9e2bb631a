/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmemflush(1): shared declarations of the command's source files.
 */
#ifndef PMEMFLUSH_CMD_H
#define PMEMFLUSH_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/pmemflush.h>

#define PMEMFLUSH_DEV	"/dev/pmemflush"

/* exit codes: ndctl's (git's parse-options) 129 for a usage error */
#define EXIT_USAGE	129

/* json.c: a pretty-printing writer, ndctl's layout ("key":value, 2 spaces) */
#define JSON_MAX_DEPTH	16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, unsigned long long val);
void json_i64(struct json *j, const char *key, long long val);
void json_bool(struct json *j, const char *key, bool val);
void json_finish(struct json *j);
/* a string with JSON escapes (and invalid UTF-8 as U+FFFD), no quotes */
void json_escape(FILE *f, const char *s);

/* pmemflush.c: helpers the subcommands share */
extern const char *prog;
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void print_usage(FILE *f, const char *cmd);
int strfmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int parse_size(const char *s, unsigned long long *val);
const char *human_size(unsigned long long v, char *buf, size_t len);
int open_pmemflush(bool quiet);
const char *kind_name(unsigned int kind);
const char *domain_name(unsigned int domain);

/* list.c, ops.c: the subcommands (argc/argv start at the subcommand) */
int cmd_list(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_flush(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif /* PMEMFLUSH_CMD_H */
