// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Small helpers more than one file needs: the page size, environment
 * switches, sysfs numbers and names, and a sorted array of maps.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmf.h"

size_t pmf_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

bool pmf_env_is(char *(*env)(const char *), const char *name, const char *val)
{
	const char *v = env(name);

	return v && strcmp(v, val) == 0;
}

int pmf_parse_ull(const char *s, int base, unsigned long long max,
		  unsigned long long *val)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*val = v;
	return 0;
}

bool pmf_name_num(const char *name, size_t len, const char *prefix,
		  bool dotted, unsigned int *id)
{
	size_t plen = strlen(prefix), i;
	unsigned long long v = 0;
	bool dot = false, digit = false;

	if (len <= plen || strncmp(name, prefix, plen))
		return false;
	for (i = plen; i < len; i++) {
		if (name[i] == '.' && dotted && !dot && digit) {
			dot = true;
			digit = false;
			continue;
		}
		if (name[i] < '0' || name[i] > '9')
			return false;
		digit = true;
		if (!dot) {
			v = v * 10 + (unsigned int)(name[i] - '0');
			if (v > UINT_MAX)
				return false;
		}
	}
	if (!digit || dot != dotted)
		return false;
	if (id)
		*id = (unsigned int)v;
	return true;
}

size_t pmf_maparr_first_above(const struct pmf_maparr *a, uintptr_t p)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pmem2_map *m = a->v[mid];

		if ((uintptr_t)m->addr + m->size <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool pmf_maparr_overlaps(const struct pmf_maparr *a, uintptr_t start,
			 uintptr_t end)
{
	size_t i = pmf_maparr_first_above(a, start);

	return i < a->n && (uintptr_t)a->v[i]->addr < end;
}

int pmf_maparr_insert(struct pmf_maparr *a, struct pmem2_map *map)
{
	size_t i;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;
		struct pmem2_map **v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	i = pmf_maparr_first_above(a, (uintptr_t)map->addr);
	memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof(*a->v));
	a->v[i] = map;
	a->n++;
	return 0;
}

void pmf_maparr_remove(struct pmf_maparr *a, struct pmem2_map *map)
{
	size_t i = pmf_maparr_first_above(a, (uintptr_t)map->addr);

	if (i < a->n && a->v[i] == map) {
		memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof(*a->v));
		a->n--;
	}
	if (!a->n) {
		free(a->v);
		a->v = NULL;
		a->cap = 0;
	}
}
