/* libFuzzer target: names from untrusted text (titles, series, positions, authors with
 * roles and Japanese, subtitles, folder names) through the shipped naming rules. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "naming.h"
#include "romaji.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mf_naming *rules;

/* The input is "title\nseries\nposition\nauthor\nsubtitle\nfolder": fields, any bytes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[6] = { NULL }, err[200], *s, *bare;
	const char *p = (const char *)data, *end = p + size, *nl, *list[1];
	struct mf_folder_info fi;
	struct mf_name_in in;
	struct mf_name_out out;
	int i;

	if (rules == NULL && (rules = mf_naming_load(NULL, err, sizeof err)) == NULL)
		rules = mf_naming_empty();
	for (i = 0; i < 6; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		f[i] = strndup(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	for (i = 0; i < 6; i++)
		if (f[i] == NULL)
			goto out;
	in = (struct mf_name_in){ f[0], f[1], f[2], "2020", f[3], "B0FUZZ0001", "tag", 14, 14,
	    225 };
	if (mf_naming_build(rules, &in, &out, err, sizeof err) == 0 &&
	    (strstr(out.base, "{ASIN.B0FUZZ0001}") == NULL ||
	    mf_utf8_chars(out.folder) + 1 + mf_utf8_chars(out.base) + 14 > 225 ||
	    mf_naming_reserved(out.base) != 0 || mf_naming_reserved(out.folder) != 0))
		abort();
	list[0] = f[1];
	if ((s = mf_naming_subtitle(rules, f[4], f[0], list, 1)) != NULL && s[0] == '\0')
		abort();
	free(s);
	if (mf_naming_is_role(rules, f[3], &bare))
		free(bare);
	s = mf_naming_author(rules, f[3]);
	free(s);
	s = mf_romaji(f[4]);
	free(s);
	s = mf_naming_title(rules, f[0]);
	if (s != NULL && f[0][0] != '\0' && s[0] == '\0')
		abort();	/* cleaning never empties a text */
	free(s);
	mf_folder_parse(f[5], &fi);
	mf_folder_info_free(&fi);
out:
	for (i = 0; i < 6; i++)
		free(f[i]);
	return 0;
}
