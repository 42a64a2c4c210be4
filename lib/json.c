/* json: small helpers over cJSON for records (dotted paths, typed getters, UTF-8). */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *
mf_json_path(const cJSON *obj, const char *path)
{
	char key[256];
	const char *p = path, *dot;
	cJSON *cur = (cJSON *)obj;

	while (cur && *p) {
		size_t n;

		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof key || !cJSON_IsObject(cur))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		p = dot ? dot + 1 : p + n;
	}
	return cur;
}

const char *
mf_json_str(const cJSON *obj, const char *path)
{
	cJSON *v = mf_json_path(obj, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
mf_json_num(const cJSON *obj, const char *path, double *out)
{
	cJSON *v = mf_json_path(obj, path);

	if (!cJSON_IsNumber(v))
		return -1;
	*out = v->valuedouble;
	return 0;
}

int
mf_json_i64(const cJSON *obj, const char *path, int64_t *out)
{
	double d;

	if (mf_json_num(obj, path, &d) < 0 || !isfinite(d) || d != floor(d) ||
	    d < -9.007199254740992e15 || d > 9.007199254740992e15)
		return -1;
	*out = (int64_t)d;
	return 0;
}

int
mf_json_bool(const cJSON *obj, const char *path, int dflt)
{
	cJSON *v = mf_json_path(obj, path);

	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	return dflt;
}

void
mf_json_put(cJSON *obj, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

void
mf_json_put_str(cJSON *obj, const char *key, const char *s)
{
	mf_json_put(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void
mf_json_put_num(cJSON *obj, const char *key, double v)
{
	mf_json_put(obj, key, cJSON_CreateNumber(v));
}

void
mf_json_put_bool(cJSON *obj, const char *key, int v)
{
	mf_json_put(obj, key, cJSON_CreateBool(v));
}

cJSON *
mf_json_obj(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsObject(v))
		return v;
	v = cJSON_CreateObject();
	mf_json_put(obj, key, v);
	return v;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
mf_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* The bytes as valid UTF-8, invalid ones as \xNN; with ctl also \\, \t, \n, \r and the
 * other control characters escaped. */
static char *
escape(const char *s, size_t len, int ctl)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(len * 4 + 1), *o = out;
	size_t i = 0, n;

	if (!out)
		return NULL;
	while (i < len) {
		unsigned char c = p[i];

		if (ctl && (c == '\\' || c == '\t' || c == '\n' || c == '\r')) {
			*o++ = '\\';
			*o++ = c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
			i++;
		} else if ((n = utf8_seq(p + i, len - i)) == 0 || (n == 1 && c == 0) ||
		    (ctl && (c < 0x20 || c == 0x7f))) {
			o += sprintf(o, "\\x%02X", c);
			i++;
		} else {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		}
	}
	*o = '\0';
	return out;
}

char *
mf_utf8_display(const char *s, size_t len)
{
	return escape(s, len, 0);
}

char *
mf_utf8_field(const char *s, size_t len)
{
	return escape(s, len, 1);
}

char *
mf_json_line(const cJSON *obj)
{
	return cJSON_PrintUnformatted(obj);
}
