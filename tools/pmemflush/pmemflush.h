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

/*
 * json.c: JSON output with json-c, printed as ndctl prints it. Build a tree
 * with j_obj()/j_arr(), fill a value completely, then j_add() it to its
 * container (@key NULL for an array); j_print() prints and frees the root.
 * An allocation failure anywhere makes j_print() fail with a message.
 */
struct json_object;

struct json_object *j_obj(void);
struct json_object *j_arr(void);
void j_add(struct json_object *o, const char *key, struct json_object *v);
void j_str(struct json_object *o, const char *key, const char *val);
void j_u64(struct json_object *o, const char *key, unsigned long long val);
void j_i64(struct json_object *o, const char *key, long long val);
void j_bool(struct json_object *o, const char *key, bool val);
int j_print(FILE *f, struct json_object *root);

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
