/*
 * libFuzzer target for lib/state's loader (snapshot and journal lines) and its
 * processed.json importer: any bytes load or are rejected cleanly.
 * data[0] picks the input: 0 a journal; 1 a snapshot, a NUL, then a journal;
 * 2 a processed.json to import; 3 op bodies, one a line, framed here with their CRC so
 * that mutations reach the code that applies ops (a mutated CRC is rejected long before).
 * Then the loaded store is exported, the export imported into a fresh store, and exported
 * again: both exports must be the same.
 */
#include "state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * 1 when some release failed before it completed: our ops never make one (completion
 * clears the failure), and import rightly keeps such a failure out, so the round trip
 * is only asked of stores without them.
 */
static int
inconsistent(const struct mf_state *st)
{
	size_t n;
	const char **ids = mf_state_ids(st, &n);
	int bad = 0;

	for (size_t i = 0; ids && i < n && !bad; i++) {
		const cJSON *e = mf_state_get(st, ids[i]);
		const char *done = cJSON_GetStringValue(cJSON_GetObjectItem(e, "processed_at"));
		const cJSON *f = cJSON_GetObjectItem(e, "failure");
		const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(f, "at"));

		bad = done && at && cJSON_IsObject(f) && strcmp(done, at) > 0;
	}
	free(ids);
	return bad;
}

static void
roundtrip(struct mf_state *st)
{
	struct mf_state *again = mf_state_new_mem();
	cJSON *one = mf_state_export(st), *two;

	if (mf_state_import(again, one, 1000000000) < 0)
		abort();
	two = mf_state_export(again);
	if (!cJSON_Compare(one, two, 1))
		abort();
	cJSON_Delete(one);
	cJSON_Delete(two);
	mf_state_close(again);
}

/* Frame each line of p as a journal line with a correct CRC, then load it. */
static void
frame_and_parse(struct mf_state *st, const char *p, size_t n)
{
	static const char hdr[] = "{\"crc\":\"%08lx\",\"op\":%.*s}\n";
	size_t cap = n * 2 + 64, len = 0;
	char *buf = malloc(cap + 1), *nb;

	if (!buf)
		return;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t ll = nl ? (size_t)(nl - p) : n;
		size_t need = ll + 32;

		if (len + need > cap) {
			cap = (len + need) * 2;
			if (!(nb = realloc(buf, cap + 1)))
				break;
			buf = nb;
		}
		len += snprintf(buf + len, cap + 1 - len, hdr, mf_crc32(p, ll), (int)ll, p);
		p += ll + (nl != NULL);
		n -= ll + (nl != NULL);
	}
	mf_state_parse(st, buf, len, 1);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_state *st;
	const char *p = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;

	if (size == 0 || !(st = mf_state_new_mem()))
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (mf_state_parse(st, p, n, 1) > n)
			abort();
		break;
	case 1: {
		const char *nul = memchr(p, '\0', n);
		size_t sn = nul ? (size_t)(nul - p) : n;
		size_t used = mf_state_parse(st, p, sn, 0);

		/* What is consumed ends a line: a torn tail is never taken as data. */
		if (used > sn || (used && p[used - 1] != '\n'))
			abort();
		if (nul)
			mf_state_parse(st, nul + 1, n - sn - 1, 1);
		break;
	}
	case 3:
		frame_and_parse(st, p, n);
		break;
	default: {
		cJSON *doc = cJSON_ParseWithLength(p, n);

		if (doc)
			mf_state_import(st, doc, 1700000000);
		cJSON_Delete(doc);
		break;
	}
	}
	size_t k;
	const char **ids = mf_state_ids(st, &k);

	for (size_t i = 0; ids && i < k; i++)
		if (!mf_state_get(st, ids[i]))
			abort();
	free(ids);
	if (!inconsistent(st))
		roundtrip(st);
	mf_state_close(st);
	return 0;
}
