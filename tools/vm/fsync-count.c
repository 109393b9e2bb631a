// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD for QEMU: count fsync() calls on watched files, so guest tests can
 * prove that a flush reached a virtio-pmem device (QEMU fsyncs the backing file
 * once per guest flush request).
 *
 * PMF_FSYNC_WATCH="backing=countfile[:backing=countfile...]"; each count file
 * holds the running count as a decimal line, rewritten after every fsync.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WATCH 8

struct watch {
	dev_t dev;
	ino_t ino;
	int count_fd;
	unsigned long long count;
};

static struct watch watches[MAX_WATCH];
static int nr_watches;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int (*real_fsync)(int);

static void publish(struct watch *w)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%llu\n", w->count);

	if (ftruncate(w->count_fd, 0) || pwrite(w->count_fd, buf, len, 0) != len)
		perror("fsync-count: publish");
}

__attribute__((constructor)) static void fsync_count_init(void)
{
	char *spec = getenv("PMF_FSYNC_WATCH");
	char *save, *item;

	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (!spec)
		return;
	spec = strdup(spec);
	for (item = strtok_r(spec, ":", &save); item && nr_watches < MAX_WATCH;
	     item = strtok_r(NULL, ":", &save)) {
		char *eq = strchr(item, '=');
		struct watch *w = &watches[nr_watches];
		struct stat st;

		if (!eq)
			continue;
		*eq = '\0';
		if (stat(item, &st)) {
			perror(item);
			continue;
		}
		w->dev = st.st_dev;
		w->ino = st.st_ino;
		w->count_fd = open(eq + 1, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (w->count_fd < 0) {
			perror(eq + 1);
			continue;
		}
		publish(w);
		nr_watches++;
	}
	free(spec);
}

int fsync(int fd)
{
	int ret = real_fsync(fd);
	struct stat st;
	int i;

	if (!nr_watches || fstat(fd, &st))
		return ret;
	for (i = 0; i < nr_watches; i++) {
		if (watches[i].dev != st.st_dev || watches[i].ino != st.st_ino)
			continue;
		pthread_mutex_lock(&lock);
		watches[i].count++;
		publish(&watches[i]);
		pthread_mutex_unlock(&lock);
	}
	return ret;
}
