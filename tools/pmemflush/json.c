// SPDX-License-Identifier: GPL-2.0
/*
 * pmemflush(1): JSON output. A subcommand builds one json-c tree with the
 * j_*() helpers and prints it with j_print(), laid out as ndctl prints
 * (JSON_C_TO_STRING_PRETTY: two-space indent, "key":value), with '/' left
 * unescaped and an empty array as "[]".
 *
 * The helpers return nothing: a json-c allocation that fails marks the tree
 * broken (and a NULL container makes later calls on it no-ops), and
 * j_print() then reports it instead of printing. Each value is added to its
 * container once it is complete: the container owns it from then on.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/json_object_iterator.h>
#include <json-c/printbuf.h>

#include "pmemflush.h"

static bool broken;

struct json_object *j_obj(void)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		broken = true;
	return o;
}

struct json_object *j_arr(void)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		broken = true;
	return a;
}

/* @v into object @o under @key, or appended to array @o when @key is NULL */
void j_add(struct json_object *o, const char *key, struct json_object *v)
{
	int rc;

	if (!v) {
		broken = true;
		return;
	}
	if (!o)
		rc = -1;
	else if (key)
		rc = json_object_object_add(o, key, v);
	else
		rc = json_object_array_add(o, v);
	if (rc) {
		json_object_put(v);
		broken = true;
	}
}

/* length of a valid UTF-8 sequence at @s, 0 when it is not one */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * A string json-c may print: json-c copies bytes >= 0x20 as they are, so
 * each byte that does not start a valid UTF-8 sequence becomes U+FFFD.
 * @s itself when it is valid, else a copy to free (NULL: out of memory).
 */
static const char *utf8_clean(const char *s, char **copy)
{
	const unsigned char *p = (const unsigned char *)s;
	char *o;
	size_t n;

	*copy = NULL;
	for (; *p; p += n) {
		n = utf8_len(p);
		if (!n)
			break;
	}
	if (!*p)
		return s;
	*copy = malloc(strlen(s) * 3 + 1);
	if (!*copy)
		return NULL;
	o = *copy;
	for (p = (const unsigned char *)s; *p; p += n) {
		n = utf8_len(p);
		if (n) {
			memcpy(o, p, n);
			o += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			n = 1;
			o += 3;
		}
	}
	*o = '\0';
	return *copy;
}

void j_str(struct json_object *o, const char *key, const char *val)
{
	const char *s;
	char *copy;

	s = utf8_clean(val, &copy);
	j_add(o, key, s ? json_object_new_string(s) : NULL);
	free(copy);
}

void j_u64(struct json_object *o, const char *key, unsigned long long val)
{
	j_add(o, key, json_object_new_uint64(val));
}

void j_i64(struct json_object *o, const char *key, long long val)
{
	j_add(o, key, json_object_new_int64(val));
}

void j_bool(struct json_object *o, const char *key, bool val)
{
	j_add(o, key, json_object_new_boolean(val));
}

/* json-c's pretty printer puts a newline and an indent between [ and ] */
static int print_empty_array(struct json_object *jso, struct printbuf *pb,
			     int level, int flags)
{
	(void)jso;
	(void)level;
	(void)flags;
	return printbuf_memappend(pb, "[]", 2);
}

static void mark_empty_arrays(struct json_object *v)
{
	struct json_object_iterator it, end;

	if (json_object_is_type(v, json_type_array)) {
		size_t i, n = json_object_array_length(v);

		if (!n)
			json_object_set_serializer(v, print_empty_array, NULL,
						   NULL);
		for (i = 0; i < n; i++)
			mark_empty_arrays(json_object_array_get_idx(v, i));
	} else if (json_object_is_type(v, json_type_object)) {
		end = json_object_iter_end(v);
		for (it = json_object_iter_begin(v);
		     !json_object_iter_equal(&it, &end);
		     json_object_iter_next(&it))
			mark_empty_arrays(json_object_iter_peek_value(&it));
	}
}

static const char *pretty(struct json_object *root)
{
	return json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/*
 * The text of @root (json-c's buffer, valid until @root is freed), or NULL.
 * json-c's printer ignores some failures to grow its buffer: a quote or a
 * key goes missing and the text still comes back. So it prints twice: the
 * second time into the buffer the first one grew, and an allocation that
 * failed in either makes the two differ. (json-c's parser is no check: it
 * crashes when out of memory.)
 */
static const char *to_string(struct json_object *root)
{
	const char *s;
	char *first;

	mark_empty_arrays(root);
	s = pretty(root);
	first = s ? strdup(s) : NULL;
	if (!first)
		return NULL;
	s = pretty(root);
	if (s && strcmp(s, first))
		s = NULL;
	free(first);
	return s;
}

/* print the tree @root on @f and free it; 0, or -1 after a message */
int j_print(FILE *f, struct json_object *root)
{
	const char *s = NULL;

	if (root && !broken)
		s = to_string(root);
	if (s) {
		fprintf(f, "%s\n", s);
		fflush(f);
	} else {
		err("out of memory building the JSON output");
	}
	json_object_put(root);
	broken = false;
	return s ? 0 : -1;
}
