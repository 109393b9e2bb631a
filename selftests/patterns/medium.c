// SPDX-License-Identifier: GPL-2.0
/*
 * medium: zero or copy out the first LEN bytes of a file or a device-dax
 * node, through a shared mapping (device-dax has no read(2) or write(2)).
 * pmem2_patterns.sh zeroes its targets and hashes what the programs left
 * with it: a C program starts in milliseconds under TCG, python3 in 2-5 s.
 *
 *   medium zero PATH LEN   write LEN zero bytes, msync when PATH is a file
 *   medium dump PATH LEN   the LEN bytes on stdout
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int die(const char *what, const char *path)
{
	fprintf(stderr, "medium: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	int zero = argc == 4 && !strcmp(argv[1], "zero");
	const char *path = argv[2];
	unsigned long long len;
	struct stat st;
	char *end, *p;
	size_t off;
	ssize_t n;
	int fd;

	if (argc != 4 || (!zero && strcmp(argv[1], "dump"))) {
		fprintf(stderr, "usage: medium zero|dump PATH LEN\n");
		return 2;
	}
	errno = 0;
	len = strtoull(argv[3], &end, 0);
	if (errno || *end || !len || len > SIZE_MAX) {
		fprintf(stderr, "medium: bad length '%s'\n", argv[3]);
		return 2;
	}
	fd = open(path, zero ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return die("open", path);
	if (fstat(fd, &st))
		return die("fstat", path);
	p = mmap(NULL, len, zero ? PROT_READ | PROT_WRITE : PROT_READ,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return die("mmap", path);
	if (zero) {
		memset(p, 0, len);
		/* device-dax: no msync(2); its stores are in the medium */
		if (!S_ISCHR(st.st_mode) && msync(p, len, MS_SYNC))
			return die("msync", path);
	} else {
		for (off = 0; off < len; off += (size_t)n) {
			n = write(STDOUT_FILENO, p + off, len - off);
			if (n <= 0)
				return die("write of", path);
		}
	}
	munmap(p, len);
	close(fd);
	return 0;
}
