/* fuzz_notify: any bytes as a run's records, then every notification body: the JSON ones
 * must parse, the chat ones stay within their services' limits, all stay UTF-8. */
#include "json.h"
#include "notify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const secrets[] = { "s3cretpasskey0123", "hunter2" };
	const char *p = (const char *)data, *end = p + size, *type;
	struct mf_notify r;

	mf_notify_init(&r, secrets, 2);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (mf_notify_line(&r, p, n) < 0)
			abort();
		p += n + 1;
	}
	for (int f = MF_NOTIFY_JSON; f <= MF_NOTIFY_SLACK; f++) {
		char *b = mf_notify_body(&r, (enum mf_notify_fmt)f, &type);
		size_t len;

		if (!b)
			abort();
		len = strlen(b);
		if (!mf_utf8_valid(b, len) || strstr(b, "hunter2") || strstr(b, secrets[0]))
			abort();
		if (f != MF_NOTIFY_NTFY) {
			cJSON *o = cJSON_Parse(b);

			if (!cJSON_IsObject(o))
				abort();
			if (f == MF_NOTIFY_DISCORD) {
				const char *c = mf_json_str(o, "content");

				if (!c || strlen(c) > 2000)
					abort();
			}
			cJSON_Delete(o);
		} else if (len > 4096) {
			abort();
		}
		free(b);
	}
	mf_notify_free(&r);
	return 0;
}
