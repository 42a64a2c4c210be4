/* libFuzzer target: Audnex answers (book, chapters, both error formats, cache entries) and
 * what is made of them (meta.audnex, the MAM JSON with the naming rules, BBCode with HTML
 * summaries). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audnex.h"
#include "html.h"
#include "mam.h"
#include "naming.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mf_naming *rules;	/* the shipped rules: authors, subtitles, romaji */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const uint8_t *cut = memchr(data, '\n', size);
	size_t n1 = cut ? (size_t)(cut - data) : size;
	cJSON *book, *chapters, *meta, *b2, *c2, *j;
	char msg[256];
	char *s;

	if (rules == NULL && (rules = mf_naming_load(NULL, msg, sizeof msg)) == NULL)
		rules = mf_naming_empty();

	/* The input is "book\nchapters": two answers, each parsed as the client would. */
	(void)mf_audnex_errmsg(text, size, msg, sizeof msg);
	(void)mf_audnex_notfound_msg(msg);
	book = cJSON_ParseWithLength(text, n1);
	chapters = cut ? cJSON_ParseWithLength(text + n1 + 1, size - n1 - 1) : NULL;
	if ((meta = mf_audnex_meta(book, chapters))) {
		struct mf_mam_in in = { .rec = book, .audnex = meta, .audio = chapters,
		    .container = "M4B", .naming = rules };

		if ((j = mf_mam_json(&in))) {
			s = cJSON_PrintUnformatted(j);
			free(s);
			cJSON_Delete(j);
		}
		cJSON_Delete(meta);
	}
	if (mf_audnex_cache_parse(text, size, "B0TESTSER1", "us", 1000, 500, 100, &b2, &c2) == 1) {
		cJSON_Delete(b2);
		cJSON_Delete(c2);
	}
	s = mf_html_to_text(text, size);
	free(s);
	cJSON_Delete(book);
	cJSON_Delete(chapters);
	return 0;
}
