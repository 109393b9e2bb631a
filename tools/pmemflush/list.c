// SPDX-License-Identifier: GPL-2.0
/*
 * pmemflush list: the nd regions of sysfs, their active namespaces with
 * their block or character devices, and what is mounted from those.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pmemflush.h"

#define ND_DEVICES	"/sys/bus/nd/devices"
#define NAME_LEN	64

struct mnt {
	unsigned int major, minor;
	char *mountpoint, *fstype, *superopts;
};

struct ns_mount {
	char blockdev[NAME_LEN];
	const char *role;	/* NULL (the data device), "realtime", "log" */
	const struct mnt *m;
};

struct ns {
	char dev[NAME_LEN];
	char mode[16];
	unsigned long long size;
	char blockdev[NAME_LEN];
	char chardev[NAME_LEN];
	struct ns_mount *mounts;
	size_t nmounts;
};

struct region {
	char dev[NAME_LEN];
	char provider[NAME_LEN];
	unsigned long long size;
	int has_flush;			/* 1, 0, -1: unknown */
	char domain[32];
	bool enabled;
	int sync;			/* 1, 0, -1: unknown */
	const char *sync_source;	/* "module", "provider", "none" */
	struct ns *ns;
	size_t nns;
};

/* the first line of a small sysfs file, newline stripped; -1 if unreadable */
static int read_attr(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (strfmt(path, sizeof(path), "%s/%s", dir, name))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int read_u64(const char *dir, const char *name, unsigned long long *v)
{
	char buf[64], *end;

	if (read_attr(dir, name, buf, sizeof(buf)))
		return -1;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return errno || end == buf ? -1 : 0;
}

static bool exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (strfmt(path, sizeof(path), "%s/%s", dir, name))
		return false;
	return !access(path, F_OK);
}

/* "regionN" and "namespaceR.N" sort by their numbers */
static int cmp_numeric(const struct dirent **a, const struct dirent **b)
{
	const char *x = (*a)->d_name, *y = (*b)->d_name;

	while (*x && *y) {
		if (*x >= '0' && *x <= '9' && *y >= '0' && *y <= '9') {
			unsigned long long u = strtoull(x, (char **)&x, 10);
			unsigned long long v = strtoull(y, (char **)&y, 10);

			if (u != v)
				return u < v ? -1 : 1;
			continue;
		}
		if (*x != *y)
			return (unsigned char)*x - (unsigned char)*y;
		x++;
		y++;
	}
	return (unsigned char)*x - (unsigned char)*y;
}

static int is_region(const struct dirent *d)
{
	unsigned int n;
	char c;

	return sscanf(d->d_name, "region%u%c", &n, &c) == 1;
}

static int is_namespace(const struct dirent *d)
{
	unsigned int r, n;
	char c;

	return sscanf(d->d_name, "namespace%u.%u%c", &r, &n, &c) == 2;
}

/* mountinfo's octal escapes (\040 for a blank, ...) decoded in place */
static void unescape(char *s)
{
	char *o = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

/*
 * /proc/self/mountinfo: "id parent major:minor root mountpoint opts
 * [optional...] - fstype source superopts"
 */
static struct mnt *read_mounts(size_t *count)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	struct mnt *v = NULL, *p;
	size_t n = 0, cap = 0, len = 0;
	char *line = NULL;

	*count = 0;
	if (!f)
		return NULL;
	while (getline(&line, &len, f) > 0) {
		char *save = NULL, *tok, *mp = NULL, *fstype = NULL;
		char *sopts = NULL;
		unsigned int ma = 0, mi = 0;
		int field = 0;
		bool dash = false;

		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save), field++) {
			if (field == 2 && sscanf(tok, "%u:%u", &ma, &mi) != 2)
				break;
			if (field == 4)
				mp = tok;
			if (field < 6)
				continue;
			if (!dash) {
				dash = !strcmp(tok, "-");
				field = dash ? 6 : 5;	/* skip optional fields */
				continue;
			}
			if (field == 7)
				fstype = tok;
			else if (field == 9)
				sopts = tok;
		}
		if (!mp || !fstype)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			p = realloc(v, cap * sizeof(*v));
			if (!p)
				break;
			v = p;
		}
		unescape(mp);
		v[n].major = ma;
		v[n].minor = mi;
		v[n].mountpoint = strdup(mp);
		v[n].fstype = strdup(fstype);
		v[n].superopts = strdup(sopts ? sopts : "");
		if (!v[n].mountpoint || !v[n].fstype || !v[n].superopts) {
			free(v[n].mountpoint);
			free(v[n].fstype);
			free(v[n].superopts);
			break;
		}
		n++;
	}
	free(line);
	fclose(f);
	*count = n;
	return v;
}

/* the mount has DAX on for every file: "dax" or "dax=always" */
static bool mount_dax(const struct mnt *m)
{
	char *opts = strdup(m->superopts), *save = NULL, *tok;
	bool dax = false;

	if (!opts)
		return false;
	for (tok = strtok_r(opts, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, "dax") || !strcmp(tok, "dax=always"))
			dax = true;
	free(opts);
	return dax;
}

/* rtdev=/logdev= of a mount that name device @dev, or NULL */
static const char *mount_role(const struct mnt *m, dev_t dev)
{
	char *opts = strdup(m->superopts), *save = NULL, *tok;
	const char *role = NULL;
	struct stat st;

	if (!opts)
		return NULL;
	for (tok = strtok_r(opts, ",", &save); tok && !role;
	     tok = strtok_r(NULL, ",", &save)) {
		const char *r = NULL, *path = NULL;

		if (!strncmp(tok, "rtdev=", 6)) {
			r = "realtime";
			path = tok + 6;
		} else if (!strncmp(tok, "logdev=", 7)) {
			r = "log";
			path = tok + 7;
		}
		if (path && !stat(path, &st) && S_ISBLK(st.st_mode) &&
		    st.st_rdev == dev)
			role = r;
	}
	free(opts);
	return role;
}

static void add_mount(struct ns *ns, const char *blockdev, const char *role,
		      const struct mnt *m)
{
	struct ns_mount *p = realloc(ns->mounts,
				     (ns->nmounts + 1) * sizeof(*p));

	if (!p)
		return;
	ns->mounts = p;
	p += ns->nmounts++;
	strfmt(p->blockdev, sizeof(p->blockdev), "%s", blockdev);
	p->role = role;
	p->m = m;
}

/* mounts of block device @name (a disk or a partition of it) */
static void mounts_of(struct ns *ns, const char *name, const struct mnt *mnts,
		      size_t nmnts)
{
	char dir[PATH_MAX], buf[32];
	unsigned int ma, mi;
	const char *role;
	size_t i;

	if (strfmt(dir, sizeof(dir), "/sys/class/block/%s", name) ||
	    read_attr(dir, "dev", buf, sizeof(buf)) ||
	    sscanf(buf, "%u:%u", &ma, &mi) != 2)
		return;
	for (i = 0; i < nmnts; i++) {
		if (mnts[i].major == ma && mnts[i].minor == mi)
			add_mount(ns, name, NULL, &mnts[i]);
		else if ((role = mount_role(&mnts[i], makedev(ma, mi))))
			add_mount(ns, name, role, &mnts[i]);
	}
}

/* the first entry of @dir/@sub (the block device under a namespace) */
static int first_entry(const char *dir, const char *sub, char *out,
		       size_t len)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dh;
	int rc = -1;

	if (strfmt(path, sizeof(path), "%s/%s", dir, sub))
		return -1;
	dh = opendir(path);
	if (!dh)
		return -1;
	while ((d = readdir(dh))) {
		if (d->d_name[0] == '.' ||
		    strfmt(out, len, "%s", d->d_name))
			continue;
		rc = 0;
		break;
	}
	closedir(dh);
	return rc;
}

/* a device-dax device (on the dax bus) below the nd dax device @dir */
static int find_chardev(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX], sub[PATH_MAX];
	struct dirent *d;
	DIR *dh = opendir(dir);
	int rc = -1;

	if (!dh || !realpath(dir, real)) {
		if (dh)
			closedir(dh);
		return -1;
	}
	while ((d = readdir(dh))) {
		if (strncmp(d->d_name, "dax", 3))
			continue;
		if (strfmt(path, sizeof(path), "/sys/bus/dax/devices/%s",
			   d->d_name) || !realpath(path, sub))
			continue;
		/* the dax bus's device is a child of this nd device */
		if (strncmp(sub, real, strlen(real)) ||
		    sub[strlen(real)] != '/')
			continue;
		if (strfmt(out, len, "%s", d->d_name))
			continue;
		rc = 0;
		break;
	}
	closedir(dh);
	return rc;
}

/* mounts of the namespace's block device and of its partitions */
static void block_mounts(struct ns *ns, const struct mnt *mnts, size_t nmnts)
{
	struct dirent **parts = NULL;
	char bdir[PATH_MAX], pdir[PATH_MAX];
	int i, n;

	mounts_of(ns, ns->blockdev, mnts, nmnts);
	if (strfmt(bdir, sizeof(bdir), "/sys/class/block/%s", ns->blockdev))
		return;
	n = scandir(bdir, &parts, NULL, cmp_numeric);
	for (i = 0; i < n; i++) {
		if (parts[i]->d_name[0] != '.' &&
		    !strfmt(pdir, sizeof(pdir), "%s/%s", bdir,
			    parts[i]->d_name) &&
		    exists(pdir, "partition"))
			mounts_of(ns, parts[i]->d_name, mnts, nmnts);
		free(parts[i]);
	}
	free(parts);
}

static const char *ns_mode(const char *attr)
{
	if (!strcmp(attr, "safe"))
		return "sector";
	if (!strcmp(attr, "memory"))
		return "fsdax";
	if (!strcmp(attr, "dax"))
		return "devdax";
	return attr;
}

/*
 * One namespace, or -1 when ndctl would not list it by default: idle (no
 * driver bound to it or to the btt/pfn/dax device that claims it).
 */
static int read_ns(const char *rdir, const char *name, struct ns *ns,
		   const struct mnt *mnts, size_t nmnts)
{
	char nsdir[PATH_MAX], cdir[PATH_MAX], holder[NAME_LEN], buf[32];
	const char *devdir = nsdir;

	memset(ns, 0, sizeof(*ns));
	if (strfmt(ns->dev, sizeof(ns->dev), "%s", name) ||
	    strfmt(nsdir, sizeof(nsdir), "%s/%s", rdir, name))
		return -1;
	if (read_attr(nsdir, "holder", holder, sizeof(holder)))
		holder[0] = '\0';
	if (holder[0]) {
		if (strfmt(cdir, sizeof(cdir), "%s/%s", ND_DEVICES, holder) ||
		    !exists(cdir, "driver"))
			return -1;
		devdir = cdir;
	} else if (!exists(nsdir, "driver")) {
		return -1;
	}
	if (read_attr(nsdir, "mode", buf, sizeof(buf)))
		strfmt(buf, sizeof(buf), "unknown");
	strfmt(ns->mode, sizeof(ns->mode), "%s", ns_mode(buf));
	/* ndctl's size: the usable size the claiming device reports */
	if (read_u64(devdir, "size", &ns->size))
		read_u64(nsdir, "size", &ns->size);

	if (!first_entry(devdir, "block", ns->blockdev, sizeof(ns->blockdev)))
		block_mounts(ns, mnts, nmnts);
	find_chardev(devdir, ns->chardev, sizeof(ns->chardev));
	return 0;
}

/* the module's word on a device of the region: 1 sync, 0 async, -1 none */
static int query_sync(int pmf, const char *name)
{
	struct pmemflush_query q = { .size = sizeof(q) };
	char path[PATH_MAX];
	int fd, rc = -1;

	if (pmf < 0 || !name[0])
		return -1;
	if (strfmt(path, sizeof(path), "/dev/%s", name))
		return -1;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	q.fd = fd;
	if (!ioctl(pmf, PMEMFLUSH_QUERY, &q))
		rc = !(q.out_flags & PMEMFLUSH_REGION_ASYNC);
	close(fd);
	return rc;
}

static void read_region(const char *name, struct region *r, int pmf,
			const struct mnt *mnts, size_t nmnts)
{
	char rdir[PATH_MAX], real[PATH_MAX], buf[64];
	struct dirent **nl = NULL;
	int i, n;
	size_t k;

	memset(r, 0, sizeof(*r));
	strfmt(r->dev, sizeof(r->dev), "%s", name);
	strfmt(rdir, sizeof(rdir), "%s/%s", ND_DEVICES, name);
	r->enabled = exists(rdir, "driver");
	if (realpath(rdir, real) && strlen(real) + 4 < sizeof(real)) {
		strcat(real, "/..");
		if (read_attr(real, "provider", r->provider,
			      sizeof(r->provider)))
			r->provider[0] = '\0';
	}
	if (read_u64(rdir, "size", &r->size))
		r->size = 0;
	r->has_flush = -1;
	if (!read_attr(rdir, "deep_flush", buf, sizeof(buf)) &&
	    (!strcmp(buf, "0") || !strcmp(buf, "1")))
		r->has_flush = buf[0] - '0';
	if (read_attr(rdir, "persistence_domain", r->domain,
		      sizeof(r->domain)) || !r->domain[0])
		strfmt(r->domain, sizeof(r->domain), "unknown");

	n = scandir(rdir, &nl, is_namespace, cmp_numeric);
	if (n > 0)
		r->ns = calloc(n, sizeof(*r->ns));
	for (i = 0; i < n; i++) {
		if (r->ns && !read_ns(rdir, nl[i]->d_name, &r->ns[r->nns],
				      mnts, nmnts))
			r->nns++;
		free(nl[i]);
	}
	free(nl);

	/*
	 * Character devices first: closing a block device opened for
	 * writing makes udev (its inotify watch) re-probe it.
	 */
	r->sync = -1;
	for (k = 0; k < r->nns && r->sync < 0; k++)
		r->sync = query_sync(pmf, r->ns[k].chardev);
	for (k = 0; k < r->nns && r->sync < 0; k++)
		r->sync = query_sync(pmf, r->ns[k].blockdev);
	if (r->sync >= 0) {
		r->sync_source = "module";
	} else if (!strcmp(r->provider, "virtio-pmem")) {
		/* virtio_pmem_probe() sets ND_REGION_ASYNC unconditionally */
		r->sync = 0;
		r->sync_source = "provider";
	} else {
		r->sync_source = "none";
	}
}

static void free_region(struct region *r)
{
	size_t k;

	for (k = 0; k < r->nns; k++)
		free(r->ns[k].mounts);
	free(r->ns);
}

static struct json_object *mount_json(const struct ns_mount *nm)
{
	struct json_object *o = j_obj();

	j_str(o, "blockdev", nm->blockdev);
	j_str(o, "mountpoint", nm->m->mountpoint);
	j_str(o, "fstype", nm->m->fstype);
	j_bool(o, "dax", mount_dax(nm->m));
	if (nm->role)
		j_str(o, "role", nm->role);
	return o;
}

static struct json_object *ns_json(const struct ns *ns)
{
	struct json_object *o = j_obj();

	j_str(o, "dev", ns->dev);
	j_str(o, "mode", ns->mode);
	j_u64(o, "size", ns->size);
	if (ns->blockdev[0])
		j_str(o, "blockdev", ns->blockdev);
	if (ns->chardev[0])
		j_str(o, "chardev", ns->chardev);
	if (ns->blockdev[0]) {
		struct json_object *mounts = j_arr();
		size_t m;

		for (m = 0; m < ns->nmounts; m++)
			j_add(mounts, NULL, mount_json(&ns->mounts[m]));
		j_add(o, "mounts", mounts);
	}
	return o;
}

static struct json_object *region_json(const struct region *r)
{
	struct json_object *o = j_obj(), *nss = j_arr();
	size_t k;

	j_str(o, "dev", r->dev);
	j_str(o, "provider", r->provider[0] ? r->provider : "unknown");
	j_u64(o, "size", r->size);
	if (!r->enabled)
		j_str(o, "state", "disabled");
	if (r->has_flush >= 0)
		j_i64(o, "has_flush", r->has_flush);
	else
		j_str(o, "has_flush", "unknown");
	j_str(o, "persistence_domain", r->domain);
	if (r->sync >= 0)
		j_bool(o, "synchronous", r->sync);
	else
		j_str(o, "synchronous", "unknown");
	j_str(o, "synchronous_source", r->sync_source);
	for (k = 0; k < r->nns; k++)
		j_add(nss, NULL, ns_json(&r->ns[k]));
	j_add(o, "namespaces", nss);
	return o;
}

static void text_region(const struct region *r)
{
	char hs[32];
	size_t k, m;

	printf("%s: %s, %s (%llu bytes)%s\n", r->dev,
	       r->provider[0] ? r->provider : "unknown provider",
	       human_size(r->size, hs, sizeof(hs)), r->size,
	       r->enabled ? "" : ", disabled");
	printf("  has_flush: %s   persistence_domain: %s   synchronous: %s",
	       r->has_flush < 0 ? "unknown" : r->has_flush ? "1" : "0",
	       r->domain, r->sync < 0 ? "unknown" : r->sync ? "yes" : "no");
	if (r->sync >= 0)
		printf(" (%s)", !strcmp(r->sync_source, "module") ?
		       "module query" : "provider");
	putchar('\n');
	if (!r->nns)
		printf("  no active namespace\n");
	for (k = 0; k < r->nns; k++) {
		const struct ns *ns = &r->ns[k];

		printf("  %-14s %-7s %12s", ns->dev, ns->mode,
		       human_size(ns->size, hs, sizeof(hs)));
		if (ns->blockdev[0])
			printf("  blockdev %s", ns->blockdev);
		if (ns->chardev[0])
			printf("  chardev %s", ns->chardev);
		putchar('\n');
		for (m = 0; m < ns->nmounts; m++) {
			const struct ns_mount *nm = &ns->mounts[m];

			printf("    %s mounted on %s (%s%s%s%s)\n", nm->blockdev,
			       nm->m->mountpoint, nm->m->fstype,
			       mount_dax(nm->m) ? ", dax" : ", not dax",
			       nm->role ? ", " : "", nm->role ? nm->role : "");
		}
	}
}

static const struct option list_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_list(int argc, char **argv)
{
	struct dirent **nl = NULL;
	struct json_object *regions = NULL;
	struct mnt *mnts;
	bool json = false;
	size_t nmnts, k;
	int c, i, n, pmf, rc = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", list_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			print_usage(stdout, "list");
			return 0;
		case ':':
			return usage_error("list", "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			if (optopt && optopt != '?')
				return usage_error("list",
						   "unknown option '-%c'",
						   optopt);
			return usage_error("list", "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("list", "unexpected argument '%s'",
				   argv[optind]);

	n = scandir(ND_DEVICES, &nl, is_region, cmp_numeric);
	if (n < 0) {
		if (errno != ENOENT) {
			err("cannot read %s: %s", ND_DEVICES, strerror(errno));
			return 1;
		}
		n = 0;	/* no libnvdimm: no regions */
	}
	mnts = read_mounts(&nmnts);
	pmf = open_pmemflush(true);

	if (json)
		regions = j_arr();
	else if (!n)
		printf("no pmem regions\n");
	for (i = 0; i < n; i++) {
		struct region r;

		read_region(nl[i]->d_name, &r, pmf, mnts, nmnts);
		if (json)
			j_add(regions, NULL, region_json(&r));
		else
			text_region(&r);
		free_region(&r);
		free(nl[i]);
	}
	free(nl);
	if (json && j_print(stdout, regions))
		rc = 1;
	if (pmf >= 0)
		close(pmf);
	for (k = 0; k < nmnts; k++) {
		free(mnts[k].mountpoint);
		free(mnts[k].fstype);
		free(mnts[k].superopts);
	}
	free(mnts);
	return rc;
}
