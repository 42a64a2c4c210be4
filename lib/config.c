/* config: KEY=VALUE configuration from file, environment and flags (docs/records.md). */
#include "config.h"
#include "file.h"
#include "log.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

struct kv {
	char	*key, *value;
};

/* Three layers, searched flags first. */
static struct kv *flags, *file;
static size_t nflags, nfile;
static char cfgpath[PATH_MAX];
static char dflt_state[PATH_MAX], dflt_cache[PATH_MAX];

static const struct {
	const char *key, *value;
} defaults[] = {
	{ "MF_SOURCE", "MAM" },
	{ "MF_PRIVATE", "1" },
	{ "MF_MAX_PATH", "225" },
	{ "MF_EXTENSIONS", ".m4b .m4a .mp3 .jpg .jpeg .png .pdf .cue" },
	{ "MF_AUDNEX_URL", "https://api.audnex.us" },
	{ "MF_AUDNEX_REGIONS", "us" },
	{ "MF_QBT_URL", "http://127.0.0.1:8080" },
	{ "MF_QBT_CATEGORY", "mamfast" },
	{ "MF_QBT_TAGS", "mamfast" },
	{ "MF_QBT_PAUSED", "0" },
	{ "MF_TIMEOUT", "30" },
};

static void
put(struct kv **tab, size_t *n, const char *key, const char *value)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*tab)[i].key, key) == 0) {
			free((*tab)[i].value);
			(*tab)[i].value = strdup(value);
			return;
		}
	}
	struct kv *nt = realloc(*tab, (*n + 1) * sizeof *nt);
	if (!nt)
		mf_errx(EX_OSERR, "out of memory");
	*tab = nt;
	nt[*n].key = strdup(key);
	nt[*n].value = strdup(value);
	if (!nt[*n].key || !nt[*n].value)
		mf_errx(EX_OSERR, "out of memory");
	(*n)++;
}

static const char *
find(const struct kv *tab, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i].key, key) == 0)
			return tab[i].value;
	return NULL;
}

/* $XDG_x_HOME or ~/fallback, plus "/mamfast". */
static void
xdg(char *out, size_t n, const char *env, const char *fallback, const char *leaf)
{
	const char *base = getenv(env), *home = getenv("HOME");

	if (base && *base == '/')
		snprintf(out, n, "%s/%s", base, leaf);
	else
		snprintf(out, n, "%s/%s/%s", home && *home ? home : "/", fallback, leaf);
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int
valid_key(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

static int load_file(void);
static int files_policy(void);

int
mf_config_load(void)
{
	int rc = load_file();

	return rc ? rc : files_policy();
}

/* A user or group: a number is an id (it needs no entry), anything else a name. */
static int
owner_part(const char *s, size_t n, int group, unsigned long *id)
{
	char name[256], *end;

	if (n == 0 || n >= sizeof name)
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	if (strspn(name, "0123456789") == n) {
		errno = 0;
		*id = strtoul(name, &end, 10);
		/* (uid_t)-1 means "unchanged" to chown(2): not an owner. */
		return errno || *id >= 0xffffffffUL ? -1 : 0;
	}
	if (group) {
		struct group *g = getgrnam(name);

		if (!g)
			return -1;
		*id = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(name);

		if (!p)
			return -1;
		*id = p->pw_uid;
	}
	return 0;
}

/* 1 when this process may give a file to gid: its own group or a supplementary one. */
static int
in_group(gid_t gid)
{
	gid_t gs[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, gs);

	if (gid == getegid())
		return 1;
	for (int i = 0; i < n; i++)
		if (gs[i] == gid)
			return 1;
	return 0;
}

/*
 * MF_UMASK (octal, as umask(1)) and MF_OWNER (USER:GROUP, names or numbers) for the files
 * and folders every tool makes (lib/file).  0, or 78 after a message naming the key.
 */
static int
files_policy(void)
{
	const char *m = mf_config_get("MF_UMASK"), *o = mf_config_get("MF_OWNER"), *colon;
	unsigned long uid, gid;

	if (m) {
		size_t n = strlen(m);

		if (n > 4 || strspn(m, "01234567") != n || strtoul(m, NULL, 8) > 0777) {
			mf_warnx("MF_UMASK=%s: expected an octal mask like 022 or 002 (umask(1))", m);
			return EX_CONFIG;
		}
		umask((mode_t)strtoul(m, NULL, 8));
	}
	if (!o)
		return 0;
	if (!(colon = strchr(o, ':')) || strchr(colon + 1, ':')) {
		mf_warnx("MF_OWNER=%s: expected USER:GROUP (names or numbers, e.g. 99:100 or "
		    "nobody:users)", o);
		return EX_CONFIG;
	}
	if (owner_part(o, (size_t)(colon - o), 0, &uid) < 0) {
		mf_warnx("MF_OWNER=%s: no such user '%.*s' (a name from the passwd database, or "
		    "a number)", o, (int)(colon - o), o);
		return EX_CONFIG;
	}
	if (owner_part(colon + 1, strlen(colon + 1), 1, &gid) < 0) {
		mf_warnx("MF_OWNER=%s: no such group '%s' (a name from the group database, or "
		    "a number)", o, colon + 1);
		return EX_CONFIG;
	}
	/* Say so now rather than fail every write with EPERM. */
	if (geteuid() != 0 && (uid_t)uid != geteuid()) {
		mf_warnx("MF_OWNER=%s: giving files to another user needs root (running as uid "
		    "%lu)", o, (unsigned long)geteuid());
		return EX_CONFIG;
	}
	if (geteuid() != 0 && !in_group((gid_t)gid)) {
		mf_warnx("MF_OWNER=%s: this process is not in group %lu: only root may give files "
		    "to a group it is not in", o, gid);
		return EX_CONFIG;
	}
	mf_file_owner((uid_t)uid, (gid_t)gid);
	return 0;
}

static int
load_file(void)
{
	const char *env = getenv("MF_CONFIG");
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;

	xdg(dflt_state, sizeof dflt_state, "XDG_STATE_HOME", ".local/state", "mamfast");
	xdg(dflt_cache, sizeof dflt_cache, "XDG_CACHE_HOME", ".cache", "mamfast");
	if (env && *env)
		snprintf(cfgpath, sizeof cfgpath, "%s", env);
	else
		xdg(cfgpath, sizeof cfgpath, "XDG_CONFIG_HOME", ".config", "mamfast/mamfast.conf");

	if (!(f = fopen(cfgpath, "r"))) {
		if (errno == ENOENT && !(env && *env))
			return 0;	/* the default file is optional */
		mf_warn("config %s", cfgpath);
		return EX_CONFIG;
	}
	while (getline(&line, &cap, f) > 0) {
		char *s = trim(line), *eq, *k, *v;
		size_t vl;

		lineno++;
		if (*s == '#' || *s == '\0')
			continue;
		if (strncmp(s, "export", 6) == 0 && (s[6] == ' ' || s[6] == '\t'))
			s = trim(s + 7);
		if (!(eq = strchr(s, '='))) {
			mf_warnx("%s:%lu: expected KEY=VALUE", cfgpath, lineno);
			goto bad;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (!valid_key(k)) {
			mf_warnx("%s:%lu: bad key '%s' (upper case, digits and _)", cfgpath, lineno, k);
			goto bad;
		}
		vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		}
		put(&file, &nfile, k, v);
	}
	if (ferror(f)) {
		mf_warn("config %s", cfgpath);
		goto bad;
	}
	free(line);
	fclose(f);
	return 0;
bad:
	free(line);
	fclose(f);
	return EX_CONFIG;
}

void
mf_config_set(const char *key, const char *value)
{
	put(&flags, &nflags, key, value);
}

const char *
mf_config_get(const char *key)
{
	const char *v;

	if ((v = find(flags, nflags, key)) && *v)
		return v;
	if ((v = getenv(key)) && *v)
		return v;
	if ((v = find(file, nfile, key)) && *v)
		return v;
	if (strcmp(key, "MF_STATE_DIR") == 0)
		return *dflt_state ? dflt_state : NULL;
	if (strcmp(key, "MF_CACHE_DIR") == 0)
		return *dflt_cache ? dflt_cache : NULL;
	if (strcmp(key, "MF_QBT_SAVEPATH") == 0)
		return mf_config_get("MF_SEED_ROOT");
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		if (strcmp(defaults[i].key, key) == 0)
			return defaults[i].value;
	return NULL;
}

const char *
mf_config_file(void)
{
	return cfgpath;
}

const char *
mf_config_require(const char *key)
{
	const char *v = mf_config_get(key);

	if (!v)
		mf_errx(EX_CONFIG, "%s is not set (set it in the environment or in %s)",
		    key, *cfgpath ? cfgpath : "the configuration file");
	return v;
}

long
mf_config_long(const char *key, long dflt, long min, long max)
{
	const char *v = mf_config_get(key);
	char *end;
	long n;

	if (!v)
		return dflt;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		mf_errx(EX_CONFIG, "%s=%s: expected a whole number from %ld to %ld", key, v, min, max);
	return n;
}

int
mf_config_bool(const char *key, int dflt)
{
	const char *v = mf_config_get(key);

	if (!v)
		return dflt;
	if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		return 1;
	if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		return 0;
	mf_errx(EX_CONFIG, "%s=%s: expected 1 or 0 (true/false, yes/no)", key, v);
}

double
mf_config_seconds(const char *key, double dflt)
{
	const char *v = mf_config_get(key);
	char *end;
	double d;

	if (!v)
		return dflt;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d > 0) || d > 86400)
		mf_errx(EX_CONFIG, "%s=%s: expected seconds, more than 0", key, v);
	return d;
}

char *
mf_config_secret(const char *key, const char *filekey)
{
	const char *v = mf_config_get(key), *path;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (v)
		return strdup(v);
	if (!filekey || !(path = mf_config_get(filekey)))
		return NULL;
	if (!(f = fopen(path, "r")))
		mf_err(EX_CONFIG, "%s %s", filekey, path);
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		mf_errx(EX_CONFIG, "%s %s: file is empty", filekey, path);
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

void
mf_secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

char *
mf_data_file(const char *name)
{
	char exe[PATH_MAX], path[PATH_MAX * 2];
	const char *dir = getenv("MF_DATA_DIR");
	ssize_t n;

	if (dir && *dir) {
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (access(path, R_OK) == 0)
			return strdup(path);
	}
	/* In the source tree the binaries are in build/bin (or build-asan/bin), the data in data/. */
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof path, "%s/../../data/%s", exe, name);
			if (access(path, R_OK) == 0)
				return strdup(path);
			/* Installed under another PREFIX than the one built for: bin/../share. */
			snprintf(path, sizeof path, "%s/../share/mamfast/%s", exe, name);
			if (access(path, R_OK) == 0)
				return strdup(path);
		}
	}
	snprintf(path, sizeof path, "%s/%s", MF_DATADIR, name);
	if (access(path, R_OK) == 0)
		return strdup(path);
	return NULL;
}
