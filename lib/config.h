/* config: KEY=VALUE configuration from file, environment and flags (docs/records.md). */
#ifndef MF_CONFIG_H
#define MF_CONFIG_H

#include <stddef.h>

/*
 * Read $MF_CONFIG, or ${XDG_CONFIG_HOME:-~/.config}/mamfast/mamfast.conf when it exists.
 * Lines are KEY=VALUE, '#' comments, optional surrounding quotes, no shell evaluation.
 * Returns 0, or 78 (EX_CONFIG) after a message naming the file and line.
 */
int mf_config_load(void);

/* Flags win over the environment, which wins over the file, which wins over defaults. */
void mf_config_set(const char *key, const char *value);
/* The value, or NULL when unset or empty. */
const char *mf_config_get(const char *key);
/* The value, or exit 78 with "KEY is not set (in the environment or CONFIG)". */
const char *mf_config_require(const char *key);
/* Integer value in [min, max] into *out (default dflt); exit 78 when malformed. */
long mf_config_long(const char *key, long dflt, long min, long max);
/* 1/0 for 1,true,yes,on / 0,false,no,off; exit 78 otherwise. */
int mf_config_bool(const char *key, int dflt);
/* Seconds as a double (e.g. MF_TIMEOUT=2.5); exit 78 when malformed. */
double mf_config_seconds(const char *key, double dflt);

/*
 * A secret from KEY, or from the file named by FILEKEY (first line, no newline).
 * Returns a malloc'd string the caller wipes and frees, or NULL when neither is set.
 * Exits 78 when FILEKEY names an unreadable file.  The secret is never logged.
 */
char *mf_config_secret(const char *key, const char *filekey);

/* Where the configuration file is (or would be). */
const char *mf_config_file(void);

/*
 * Full path of a data file shipped with mamfast (e.g. "naming.json"): $MF_DATA_DIR, the
 * source tree's data/ beside the running binary, ../share/mamfast beside the binary (an
 * install under any PREFIX), then the share folder of the PREFIX built for.
 * Returns a malloc'd path of an existing file, or NULL.
 */
char *mf_data_file(const char *name);

/* Wipe and free a secret. */
void mf_secret_free(char *s);

#endif
