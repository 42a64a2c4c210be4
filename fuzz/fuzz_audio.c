/* libFuzzer target: audio facts (MP4/M4B boxes, sample entries, esds/dac3/dec3, edit lists,
 * chapter tracks, chpl, MP3 frames and VBR headers) over arbitrary bytes, and their JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "audio.h"
#include "mam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_mp4 m;
	struct mf_audio a;
	char err[256];
	cJSON *j;
	char *s;

	mf_mp4_open_mem(&m, data, size);
	if (mf_audio_read_src(&m, &a, err, sizeof err) != 0)
		return 0;
	/* Whatever was read must render: the record's JSON and the mediainfo-style report. */
	if ((j = mf_audio_json(&a))) {
		s = cJSON_PrintUnformatted(j);
		free(s);
		s = mf_mam_mediainfo_text(j, a.container, NULL);
		free(s);
		cJSON_Delete(j);
	}
	mf_audio_free(&a);
	return 0;
}
