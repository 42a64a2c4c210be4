/* fuzz_qbt: qBittorrent answers (add and login results, torrents/info, categories,
 * versions and the tested range) and the record-side helpers (tags, save path mapping,
 * infohash text). */
#include "qbt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const long statuses[] = { 200, 202, 204, 401, 403, 409, 415, 500 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const want[2] = { "0123456789abcdef0123456789abcdef01234567",
	    "89ad4087c2ee7b384e417aa8276dddb11f7cf885" };
	struct mf_qbt_torrent t[2];
	char *s, *parts[3], out[4096], h[41];
	size_t k = 0;

	if (size < 1)
		return 0;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	switch (data[0] % 6) {
	case 0:
		(void)mf_qbt_parse_add(statuses[(data[0] / 6) % 8], body, len);
		(void)mf_qbt_parse_login(statuses[(data[0] / 6) % 8], body, len);
		break;
	case 1:
		if (mf_qbt_parse_info(body, len, want, 2, t) > 0 && !t[0].found && !t[1].found)
			abort();
		mf_qbt_torrent_clear(&t[0]);
		mf_qbt_torrent_clear(&t[1]);
		break;
	case 2:
		(void)mf_qbt_parse_categories(body, len, "mamfast");
		break;
	case 3:
		(void)mf_qbt_parse_version(body, len);
		if ((s = strndup(body, len))) {
			int t = mf_qbt_tested(s);
			if (t < -1 || t > 2)
				abort();
			free(s);
		}
		break;
	default:
		/* NUL-separated strings for the helpers that take C strings. */
		if (!(s = malloc(len + 1)))
			return 0;
		memcpy(s, body, len);
		s[len] = '\0';
		parts[0] = s;
		parts[1] = parts[2] = s + strlen(s);
		for (size_t i = 0; i < len && k < 2; i++)
			if (s[i] == '\0')
				parts[++k] = s + i + 1;
		if (data[0] % 6 == 4) {
			char *tags = mf_qbt_tags_norm(parts[0]);
			/* normalised tags have no empty item and no space next to a comma */
			if (tags && (strstr(tags, ",,") || strstr(tags, " ,") || strstr(tags, ", ") ||
			    tags[0] == ',' || tags[0] == ' '))
				abort();
			free(tags);
			(void)mf_qbt_hash_norm(parts[1], h);
		} else if (mf_qbt_save_path(parts[0], parts[1], parts[2], out, sizeof out) == 0 &&
		    strlen(out) >= sizeof out) {
			abort();
		}
		free(s);
		break;
	}
	return 0;
}
