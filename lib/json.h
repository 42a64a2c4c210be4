/* json: small helpers over cJSON for records (dotted paths, typed getters, UTF-8). */
#ifndef MF_JSON_H
#define MF_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Look up "a.b.c" through nested objects; NULL when any step is missing. */
cJSON *mf_json_path(const cJSON *obj, const char *path);
/* String at path, or NULL when absent, null or not a string. */
const char *mf_json_str(const cJSON *obj, const char *path);
/* Number at path into *out; 0 on success, -1 when absent or not a number. */
int mf_json_num(const cJSON *obj, const char *path, double *out);
int mf_json_i64(const cJSON *obj, const char *path, int64_t *out);
/* Boolean at path (true/false, or a number); dflt when absent. */
int mf_json_bool(const cJSON *obj, const char *path, int dflt);

/* Replace (or add) obj[key] with item, keeping the key's position when it exists.
 * Takes ownership of item. */
void mf_json_put(cJSON *obj, const char *key, cJSON *item);
void mf_json_put_str(cJSON *obj, const char *key, const char *s); /* NULL -> null */
void mf_json_put_num(cJSON *obj, const char *key, double v);
void mf_json_put_bool(cJSON *obj, const char *key, int v);
/* Object at obj[key], created (or replacing a non-object) when needed. */
cJSON *mf_json_obj(cJSON *obj, const char *key);

/* 1 when s[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int mf_utf8_valid(const char *s, size_t len);
/* A copy of the bytes that is always valid UTF-8: each byte of an invalid sequence is
 * written as the four characters \xNN (documented in docs/records.md). Caller frees. */
char *mf_utf8_display(const char *s, size_t len);
/* The same, with backslash, tab, newline and CR also written \\, \t, \n and \r and the
 * other control characters \xNN: the text stays one field of one line. Caller frees. */
char *mf_utf8_field(const char *s, size_t len);

/* Compact one-line rendering; caller frees. */
char *mf_json_line(const cJSON *obj);

#endif
