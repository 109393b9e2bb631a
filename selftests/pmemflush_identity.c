// SPDX-License-Identifier: GPL-2.0
/*
 * Identity of what pmemflush caches and registers (QEMU stack): a target is
 * the device behind it, never a number that a later device may take over.
 *
 * - A DAX file on a new partition that got an old partition's dev_t is
 *   flushed on its own region, also through a /dev/pmemflush file that
 *   flushed the old partition's file by fd before.
 * - An open /dev/pmemflush with cached and registered device-dax targets
 *   keeps no region or disk number taken: a virtio-pmem device unbound and
 *   bound again comes back under the same names.
 * - The same replacement with io_uring commands in flight: each completes
 *   with 0 or ENXIO, the old id answers ENXIO through the ring, and a
 *   command for the new device reaches the new region's host.
 * - An XFS file registered on the data device that turns realtime answers
 *   EOPNOTSUPP by id, as it does by fd.
 *
 * Each test restores the devices it changes in its teardown, also after a
 * failed assertion: later tests use them.
 */
#include <glob.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdbool.h>
#include <time.h>
#include <linux/fs.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

/* generous: TCG is slow, and other guests load the host */
#define PMF_WAIT_MS	60000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* run a shell command, its output as TAP comments; its exit status */
static int run(const char *fmt, ...)
{
	char cmd[512], line[512];
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	strcat(cmd, " 2>&1");
	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		fprintf(stderr, "# %s", line);
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	if (WEXITSTATUS(st))
		fprintf(stderr, "# '%s' exited %d\n", cmd, WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

static int sysfs_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return pmf_write_file(path, val, O_TRUNC);
}

/* ---------------------------------------------------------------------- */
/* 1. a partition's dev_t taken over by a partition of another disk       */
/* ---------------------------------------------------------------------- */

FIXTURE(part)
{
	char why[128];		/* set: skip */
	const char *a, *b;	/* whole fsdax disks on two regions */
	char pa[64], pb[64];	/* their first partitions */
	char mnt[64];
	int dev;		/* /dev/pmemflush, open for the whole test */
	int fa, fb;
	bool mounted;
};

/* the partition table of @disk gone and the kernel told: whole disk again */
static int wipe_disk(const char *disk, const char *part)
{
	struct stat st;
	int fd, rc;

	if (!stat(part, &st) && run("wipefs -a -q %s", part))
		return -1;
	if (run("wipefs -a -q %s", disk))
		return -1;
	fd = open(disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = ioctl(fd, BLKRRPART);
	close(fd);
	if (rc)
		return -1;
	/* devtmpfs removes the node in device_del() */
	return stat(part, &st) ? 0 : -1;
}

/*
 * One partition, 1 MiB aligned and 32 MiB long (fs_dax_get_by_bdev()
 * wants start and size page-aligned); its dev_t, or 0
 */
static dev_t make_part(const char *disk, const char *part)
{
	struct stat st;

	if (run("printf 'label: dos\\nstart=2048, size=65536, type=83\\n' | sfdisk -q %s",
		disk))
		return 0;
	if (stat(part, &st) || !S_ISBLK(st.st_mode))
		return 0;
	return st.st_rdev;
}

static int mkfs_mount(const char *part, const char *mnt)
{
	/* no lazy init: its background writes would outlive the mount */
	if (run("mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 %s",
		part))
		return -1;
	return mount(part, mnt, "ext4", MS_NOATIME, "dax");
}

/* a DAX file of 16 KiB, written, open for writing */
static int make_file(const char *mnt, const char *name, char *path, size_t len)
{
	char buf[16384];
	int fd;

	snprintf(path, len, "%s/%s", mnt, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	memset(buf, 0x5a, sizeof(buf));
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void part_name(char *out, size_t len, const char *disk)
{
	/* pmemN -> pmemNp1 */
	snprintf(out, len, "%sp1", disk);
}

FIXTURE_SETUP(part)
{
	struct stat st;

	self->dev = -1;
	self->fa = -1;
	self->fb = -1;
	self->a = getenv("PMF_ID_PMEM_A");
	self->b = getenv("PMF_ID_PMEM_B");
	if (!self->a || !self->b) {
		snprintf(self->why, sizeof(self->why),
			 "PMF_ID_PMEM_A/B not set (guest-setup.sh qemu stack)");
		return;
	}
	ASSERT_EQ(0, stat(self->a, &st));
	ASSERT_TRUE(S_ISBLK(st.st_mode));
	ASSERT_EQ(0, stat(self->b, &st));
	ASSERT_TRUE(S_ISBLK(st.st_mode));
	part_name(self->pa, sizeof(self->pa), self->a);
	part_name(self->pb, sizeof(self->pb), self->b);
	/* two regions, neither used by any other test */
	ASSERT_LE(0, pmf_sysfs_region(self->a));
	ASSERT_LE(0, pmf_sysfs_region(self->b));
	ASSERT_NE(pmf_sysfs_region(self->a), pmf_sysfs_region(self->b));
	/* whole disks, as guest-setup.sh left them */
	ASSERT_NE(0, stat(self->pa, &st)) TH_LOG("%s exists", self->pa);
	ASSERT_NE(0, stat(self->pb, &st)) TH_LOG("%s exists", self->pb);
	snprintf(self->mnt, sizeof(self->mnt), "/tmp/pmf-identity-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->mnt));
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(part)
{
	if (self->why[0])
		return;
	if (self->fa >= 0)
		close(self->fa);
	if (self->fb >= 0)
		close(self->fb);
	if (self->mounted)
		EXPECT_EQ(0, umount(self->mnt)) TH_LOG("umount %s: %s",
						       self->mnt, strerror(errno));
	rmdir(self->mnt);
	/* back to whole-disk fsdax, without partitions */
	EXPECT_EQ(0, wipe_disk(self->a, self->pa));
	EXPECT_EQ(0, wipe_disk(self->b, self->pb));
	if (self->dev >= 0)
		close(self->dev);
}

/*
 * The by-fd cache of an open /dev/pmemflush must not take a DAX file's
 * filesystem device number for its disk: partition numbers (dev_t) of pmem
 * disks come from one pool, lowest free first, and a partition's number is
 * free again once it is deleted (after an RCU grace period, with its bdev
 * inode). B's only partition is flushed by fd and deleted; A's partition
 * then gets the same dev_t, and a file there must be flushed on A's
 * region through the same /dev/pmemflush.
 */
TEST_F_TIMEOUT(part, reused_dev_t, 600)
{
	struct pmemflush_flush f;
	struct pmemflush_query q, q2;
	char pathb[PATH_MAX], patha[PATH_MAX];
	int rega, regb, tries, fresh;
	dev_t d, da = 0;
	struct stat st;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	rega = pmf_sysfs_region(self->a);
	regb = pmf_sysfs_region(self->b);

	/* B: partition, ext4 -o dax, one file flushed by fd */
	d = make_part(self->b, self->pb);
	ASSERT_NE(0, d) TH_LOG("partitioning %s failed", self->b);
	ASSERT_EQ(0, mkfs_mount(self->pb, self->mnt))
		TH_LOG("mkfs/mount -o dax %s: %s", self->pb, strerror(errno));
	self->mounted = true;
	self->fb = make_file(self->mnt, "fB", pathb, sizeof(pathb));
	ASSERT_LE(0, self->fb) TH_LOG("%s: %s", pathb, strerror(errno));
	ASSERT_EQ(0, fstat(self->fb, &st));
	ASSERT_EQ(d, st.st_dev);
	ASSERT_EQ(regb, pmf_sysfs_region(pathb));
	ASSERT_EQ(0, pmf_flush(self->dev, self->fb, 0, 16384, &f))
		TH_LOG("FLUSH %s: %s", pathb, strerror(errno));
	ASSERT_EQ(regb, f.region_id);
	ASSERT_EQ(0, pmf_query(self->dev, self->fb, &q));
	ASSERT_EQ(PMEMFLUSH_TARGET_FSDAX_FILE, q.target_kind);

	/* B's partition goes: its dev_t is free once its bdev inode is */
	close(self->fb);
	self->fb = -1;
	ASSERT_EQ(0, umount(self->mnt)) TH_LOG("umount: %s", strerror(errno));
	self->mounted = false;
	ASSERT_EQ(0, wipe_disk(self->b, self->pb));

	/* A's partition takes the lowest free number: B's, after a grace period */
	for (tries = 1; tries <= 20; tries++) {
		da = make_part(self->a, self->pa);
		ASSERT_NE(0, da) TH_LOG("partitioning %s failed", self->a);
		if (da == d)
			break;
		ASSERT_EQ(0, wipe_disk(self->a, self->pa));
		usleep(250000);
	}
	/* without the same dev_t the test would prove nothing */
	ASSERT_EQ(d, da)
		TH_LOG("%s never got %s's dev_t %u:%u in 20 tries (last %u:%u)",
		       self->pa, self->pb, major(d), minor(d), major(da),
		       minor(da));
	TH_LOG("%s got %s's dev_t %u:%u on try %d", self->pa, self->pb,
	       major(d), minor(d), tries);

	ASSERT_EQ(0, mkfs_mount(self->pa, self->mnt))
		TH_LOG("mkfs/mount -o dax %s: %s", self->pa, strerror(errno));
	self->mounted = true;
	self->fa = make_file(self->mnt, "fA", patha, sizeof(patha));
	ASSERT_LE(0, self->fa) TH_LOG("%s: %s", patha, strerror(errno));
	ASSERT_EQ(0, fstat(self->fa, &st));
	ASSERT_EQ(d, st.st_dev);
	ASSERT_EQ(rega, pmf_sysfs_region(patha));

	/* what a /dev/pmemflush that never saw B says */
	fresh = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fresh);
	EXPECT_EQ(0, pmf_query(fresh, self->fa, &q));
	close(fresh);
	EXPECT_EQ(rega, q.region_id);
	EXPECT_EQ(PMEMFLUSH_TARGET_FSDAX_FILE, q.target_kind);

	/* the long-lived one, which flushed B's file of the same dev_t */
	ASSERT_EQ(0, pmf_flush(self->dev, self->fa, 0, 16384, &f))
		TH_LOG("FLUSH %s: %s", patha, strerror(errno));
	EXPECT_EQ(q.region_id, f.region_id)
		TH_LOG("FLUSH of %s (region%d) flushed region%u (B is region%d)",
		       patha, rega, f.region_id, regb);
	EXPECT_EQ(0, pmf_query(self->dev, self->fa, &q2));
	EXPECT_EQ(rega, q2.region_id);
}

/* ---------------------------------------------------------------------- */
/* 2. virtio-pmem unbound and bound again keeps its names                 */
/* ---------------------------------------------------------------------- */

#define VIRTIO_PMEM_DRV "/sys/bus/virtio/drivers/virtio_pmem"

/* where a device-dax device sits: .../virtioN/ndbusB/regionR/CLAIM/DAX */
struct vp_names {
	char vdev[32], bus[32], region[32], claim[32], ns[32], dax[32];
};

static int vp_names_of(const char *node, struct vp_names *n)
{
	char link[PATH_MAX], real[PATH_MAX], attr[PATH_MAX], *tok, *save;
	char *prev[3] = { NULL, NULL, NULL };
	struct stat st;

	memset(n, 0, sizeof(*n));
	if (stat(node, &st) || !S_ISCHR(st.st_mode))
		return -1;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	if (!realpath(link, real))
		return -1;
	for (tok = strtok_r(real, "/", &save); tok;
	     tok = strtok_r(NULL, "/", &save)) {
		if (!strncmp(tok, "virtio", 6))
			snprintf(n->vdev, sizeof(n->vdev), "%s", tok);
		else if (!strncmp(tok, "ndbus", 5))
			snprintf(n->bus, sizeof(n->bus), "%s", tok);
		prev[0] = prev[1];
		prev[1] = prev[2];
		prev[2] = tok;
	}
	if (!prev[0] || strncmp(prev[0], "region", 6) ||
	    strncmp(prev[1], "dax", 3) || strncmp(prev[2], "dax", 3))
		return -1;
	snprintf(n->region, sizeof(n->region), "%s", prev[0]);
	snprintf(n->claim, sizeof(n->claim), "%s", prev[1]);
	snprintf(n->dax, sizeof(n->dax), "%s", prev[2]);
	snprintf(attr, sizeof(attr), "/sys/bus/nd/devices/%s/namespace", n->claim);
	if (pmf_read_line(attr, n->ns, sizeof(n->ns)))
		return -1;
	return n->vdev[0] && n->bus[0] ? 0 : -1;
}

static bool vp_bound(const char *vdev)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/driver", vdev);
	return !lstat(path, &st);
}

/*
 * Wait for the device-dax device under @vdev to be back and openable
 * (through its twin, pmf_own_node()); its names into @n.
 */
static int vp_wait_devdax(const char *vdev, char *twin, struct vp_names *n)
{
	char pattern[PATH_MAX], node[64];
	double end = now_ms() + PMF_WAIT_MS;
	glob_t g;
	int fd;

	snprintf(pattern, sizeof(pattern),
		 "/sys/bus/virtio/devices/%s/ndbus*/region*/dax*.*/dax*.*/dev",
		 vdev);
	do {
		if (!glob(pattern, 0, NULL, &g)) {
			char *d = g.gl_pathv[0], *slash;

			*strrchr(d, '/') = '\0';	/* drop "/dev" */
			slash = strrchr(d, '/');
			snprintf(node, sizeof(node), "/dev/%s", slash + 1);
			globfree(&g);
			fd = pmf_own_node(node, twin, 64) ? -1 :
			     open(twin, O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				close(fd);
				if (!vp_names_of(node, n))
					return 0;
			}
		}
		usleep(50000);
	} while (now_ms() < end);
	return -1;
}

FIXTURE(vp)
{
	char why[128];
	struct vp_names orig;
	char twin[64];
	int dev, fd;
	long long id;
	bool unbound;
};

FIXTURE_SETUP(vp)
{
	const char *node = getenv("PMF_VIRTIO_DEVDAX");

	self->dev = -1;
	self->fd = -1;
	self->id = -1;
	if (!node) {
		snprintf(self->why, sizeof(self->why),
			 "PMF_VIRTIO_DEVDAX not set (qemu stack)");
		return;
	}
	ASSERT_EQ(0, vp_names_of(node, &self->orig))
		TH_LOG("%s is not a device-dax device of a virtio-pmem region",
		       node);
	ASSERT_TRUE(vp_bound(self->orig.vdev));
	/* its fd goes before the device does, its node may not */
	ASSERT_EQ(0, pmf_own_node(node, self->twin, sizeof(self->twin)));
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(vp)
{
	struct vp_names n;
	int i;

	if (self->why[0])
		return;
	if (self->fd >= 0)
		close(self->fd);
	/* the module's references, if it keeps any, go with the last close */
	if (self->dev >= 0)
		close(self->dev);
	if (!vp_bound(self->orig.vdev))
		EXPECT_EQ(0, sysfs_write(VIRTIO_PMEM_DRV, "bind", self->orig.vdev));
	/*
	 * Later tests use the device by its name: when it came back renamed
	 * (a number was still taken), once more with nothing of ours open.
	 */
	for (i = 0; i < 2; i++) {
		if (vp_wait_devdax(self->orig.vdev, self->twin, &n)) {
			EXPECT_TRUE(0) TH_LOG("%s's device-dax device did not come back",
					      self->orig.vdev);
			return;
		}
		if (!strcmp(n.dax, self->orig.dax) &&
		    !strcmp(n.region, self->orig.region))
			return;
		TH_LOG("restore: %s came back as %s/%s, binding it once more",
		       self->orig.vdev, n.region, n.dax);
		unlink(self->twin);
		EXPECT_EQ(0, sysfs_write(VIRTIO_PMEM_DRV, "unbind", self->orig.vdev));
		EXPECT_EQ(0, sysfs_write(VIRTIO_PMEM_DRV, "bind", self->orig.vdev));
	}
	EXPECT_STREQ(self->orig.dax, n.dax);
}

/*
 * A /dev/pmemflush with a cached target (FLUSH by fd) and an id of a
 * virtio-pmem device-dax device stays open while the virtio_pmem driver is
 * unbound and bound again (as an unplug and replug would; QEMU 7.2 cannot
 * unplug virtio-pmem). The region, bus, namespace and device-dax device
 * must come back under their old names: the module holds none of them.
 * The old id names the old device and answers ENXIO; the new device
 * flushes by fd on the same region number.
 */
TEST_F_TIMEOUT(vp, unbind_bind_keeps_names, 600)
{
	struct pmemflush_flush f;
	struct vp_names n;
	char newtwin[64];
	int region;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	ASSERT_EQ(1, sscanf(self->orig.region, "region%d", &region));
	self->fd = open(self->twin, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", self->twin, strerror(errno));
	ASSERT_EQ(0, pmf_flush(self->dev, self->fd, 0, 4096, &f));
	ASSERT_EQ(region, f.region_id);
	self->id = pmf_register(self->dev, self->fd);
	ASSERT_LT(0, self->id) TH_LOG("REGISTER: %s", strerror(errno));
	/* no fd of the device may stay open across its removal and return */
	close(self->fd);
	self->fd = -1;
	TH_LOG("%s: %s %s %s %s (claim %s)", self->orig.vdev, self->orig.bus,
	       self->orig.region, self->orig.ns, self->orig.dax,
	       self->orig.claim);

	ASSERT_EQ(0, sysfs_write(VIRTIO_PMEM_DRV, "unbind", self->orig.vdev));
	/* the twin goes with the device (pmf_own_node()) */
	unlink(self->twin);
	EXPECT_EQ(-1, pmf_flush_id(self->dev, self->id, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);
	ASSERT_EQ(0, sysfs_write(VIRTIO_PMEM_DRV, "bind", self->orig.vdev));
	/* the info block on the media brings it back as device-dax */
	ASSERT_EQ(0, vp_wait_devdax(self->orig.vdev, newtwin, &n))
		TH_LOG("no device-dax device under %s after the bind",
		       self->orig.vdev);
	TH_LOG("back: %s %s %s %s (claim %s)", n.bus, n.region, n.ns, n.dax,
	       n.claim);
	EXPECT_STREQ(self->orig.region, n.region);
	EXPECT_STREQ(self->orig.dax, n.dax);
	EXPECT_STREQ(self->orig.ns, n.ns);
	EXPECT_STREQ(self->orig.bus, n.bus);

	/* the id named the device that went */
	EXPECT_EQ(-1, pmf_flush_id(self->dev, self->id, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0, pmf_unregister(self->dev, self->id));
	self->id = -1;

	self->fd = open(newtwin, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", newtwin, strerror(errno));
	EXPECT_EQ(0, pmf_flush(self->dev, self->fd, 0, 4096, &f))
		TH_LOG("FLUSH of the new device: %s", strerror(errno));
	EXPECT_EQ(region, f.region_id);
	close(self->fd);
	self->fd = -1;
}

/*
 * io_uring commands on a ring with /dev/pmemflush as fixed file 0 (the
 * uapi's "Deep flush through io_uring"); @seq: the CQE32's flush_seq
 */
static void vp_prep(struct io_uring *ring, __u32 flags, int target, __u64 data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct pmemflush_flush f = {
		.size = sizeof(f), .flags = flags, .fd = target, .length = 4096,
	};

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, 0, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->cmd_op = PMEMFLUSH_URING_CMD_FLUSH;
	memset(sqe->cmd, 0, 80);
	memcpy(sqe->cmd, &f, sizeof(f));
	sqe->user_data = data;
}

static int vp_reap(struct io_uring *ring, __u64 *seq)
{
	struct io_uring_cqe *cqe;
	int res;

	if (io_uring_wait_cqe(ring, &cqe))
		return -EIO;
	res = cqe->res;
	if (seq)
		*seq = cqe->big_cqe[0];
	io_uring_cqe_seen(ring, cqe);
	return res;
}

static int vp_one(struct io_uring *ring, __u32 flags, int target, __u64 *seq)
{
	vp_prep(ring, flags, target, 0);
	if (io_uring_submit(ring) != 1)
		return -EIO;
	return vp_reap(ring, seq);
}

/*
 * As unbind_bind_keeps_names, with io_uring commands: 32 by id are in
 * flight on the virtio-pmem region when its driver is unbound (the
 * region object they queued on is destroyed); each completes with 0 or
 * ENXIO. The region comes back under the same number, a new object: the
 * old id answers ENXIO through the ring, and the new device's id and fd
 * flush the new region, a host fsync counted.
 */
#define VP_NCMD 32

TEST_F_TIMEOUT(vp, uring_across_replacement, 600)
{
	const char *count = getenv("PMF_VIRTIO_DEVDAX_FSYNC");
	int region, i, res, ok = 0, gone = 0, other = 0;
	struct pmemflush_query q;
	struct io_uring_params p;
	struct io_uring ring;
	long long id2, fs0;
	struct vp_names n;
	char newtwin[64];
	__u64 seq;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	ASSERT_NE(NULL, count);
	ASSERT_EQ(1, sscanf(self->orig.region, "region%d", &region));
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	ASSERT_EQ(0, io_uring_queue_init_params(64, &ring, &p));
	ASSERT_EQ(0, io_uring_register_files(&ring, &self->dev, 1));
	self->fd = open(self->twin, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", self->twin, strerror(errno));
	self->id = pmf_register(self->dev, self->fd);
	ASSERT_LT(0, self->id) TH_LOG("REGISTER: %s", strerror(errno));
	ASSERT_EQ(0, vp_one(&ring, PMEMFLUSH_BY_ID, (int)self->id, &seq));
	EXPECT_LT(0, seq);
	close(self->fd);
	self->fd = -1;

	for (i = 0; i < VP_NCMD; i++)
		vp_prep(&ring, PMEMFLUSH_BY_ID, (int)self->id, i);
	ASSERT_EQ(VP_NCMD, io_uring_submit(&ring));
	ASSERT_EQ(0, sysfs_write(VIRTIO_PMEM_DRV, "unbind", self->orig.vdev));
	unlink(self->twin);
	for (i = 0; i < VP_NCMD; i++) {
		res = vp_reap(&ring, NULL);
		if (!res)
			ok++;
		else if (res == -ENXIO)
			gone++;
		else
			other++;
	}
	TH_LOG("%d commands across the unbind: %d ok, %d ENXIO, %d other",
	       VP_NCMD, ok, gone, other);
	EXPECT_EQ(0, other);
	EXPECT_EQ(-ENXIO, vp_one(&ring, PMEMFLUSH_BY_ID, (int)self->id, NULL));

	ASSERT_EQ(0, sysfs_write(VIRTIO_PMEM_DRV, "bind", self->orig.vdev));
	ASSERT_EQ(0, vp_wait_devdax(self->orig.vdev, newtwin, &n))
		TH_LOG("no device-dax device under %s after the bind",
		       self->orig.vdev);
	EXPECT_STREQ(self->orig.region, n.region);
	/* the same number, another region: the old id is not its */
	EXPECT_EQ(-ENXIO, vp_one(&ring, PMEMFLUSH_BY_ID, (int)self->id, NULL));
	EXPECT_EQ(0, pmf_unregister(self->dev, self->id));
	self->id = -1;

	self->fd = open(newtwin, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", newtwin, strerror(errno));
	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &q));
	EXPECT_EQ(region, q.region_id);
	id2 = pmf_register(self->dev, self->fd);
	ASSERT_LT(0, id2);
	fs0 = pmf_read_ll(count);
	ASSERT_LE(0, fs0);
	EXPECT_EQ(0, vp_one(&ring, PMEMFLUSH_BY_ID, (int)id2, &seq));
	EXPECT_LT(0, seq);
	EXPECT_EQ(0, vp_one(&ring, 0, self->fd, &seq));
	EXPECT_LT(0, seq);
	EXPECT_LE(fs0 + 2, pmf_read_ll(count));
	EXPECT_EQ(0, pmf_unregister(self->dev, id2));
	io_uring_queue_exit(&ring);
	close(self->fd);
	self->fd = -1;
}

/* ---------------------------------------------------------------------- */
/* 3. an XFS file turning realtime after REGISTER                         */
/* ---------------------------------------------------------------------- */

FIXTURE(xrt)
{
	char why[128];
	char path[PATH_MAX];
	int dev, fd;
};

FIXTURE_SETUP(xrt)
{
	const char *xfs = getenv("PMF_NFIT_XFS");

	self->dev = -1;
	self->fd = -1;
	if (!xfs || !getenv("PMF_NFIT_XFS_RT")) {
		snprintf(self->why, sizeof(self->why),
			 "PMF_NFIT_XFS(_RT) not set (qemu stack)");
		return;
	}
	snprintf(self->path, sizeof(self->path), "%s/identity-rt-flip.%d", xfs,
		 getpid());
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->fd = open(self->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", self->path, strerror(errno));
}

FIXTURE_TEARDOWN(xrt)
{
	if (self->why[0])
		return;
	if (self->fd >= 0) {
		close(self->fd);
		EXPECT_EQ(0, unlink(self->path));
	}
	if (self->dev >= 0)
		close(self->dev);
}

/*
 * A registered DAX file on XFS's data device; while it is still empty it
 * may be made realtime (FS_XFLAG_REALTIME), which moves its future data to
 * the realtime volume: the id must then answer EOPNOTSUPP as the fd does,
 * not flush the data device's region.
 */
TEST_F(xrt, realtime_after_register)
{
	struct pmemflush_flush f;
	struct pmemflush_query q;
	struct fsxattr fa;
	long long id;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, ioctl(self->fd, FS_IOC_FSGETXATTR, &fa));
	ASSERT_EQ(0, fa.fsx_xflags & FS_XFLAG_REALTIME);
	id = pmf_register(self->dev, self->fd);
	ASSERT_LT(0, id) TH_LOG("REGISTER: %s", strerror(errno));
	ASSERT_EQ(0, pmf_flush_id(self->dev, id, 0, 0, &f))
		TH_LOG("FLUSH by id: %s", strerror(errno));
	EXPECT_EQ(pmf_sysfs_region(self->path), (int)f.region_id);
	ASSERT_EQ(0, pmf_query_id(self->dev, id, &q));
	EXPECT_EQ(PMEMFLUSH_TARGET_FSDAX_FILE, q.target_kind);

	fa.fsx_xflags |= FS_XFLAG_REALTIME;
	ASSERT_EQ(0, ioctl(self->fd, FS_IOC_FSSETXATTR, &fa))
		TH_LOG("FS_IOC_FSSETXATTR realtime: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(self->fd, FS_IOC_FSGETXATTR, &fa));
	ASSERT_NE(0, fa.fsx_xflags & FS_XFLAG_REALTIME);

	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, 0, &f))
		TH_LOG("FLUSH by id of a realtime file flushed region%u",
		       f.region_id);
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, pmf_query_id(self->dev, id, &q));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, pmf_flush(self->dev, self->fd, 0, 0, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
}

TEST_HARNESS_MAIN
