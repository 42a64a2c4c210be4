/* audio: facts about an audiobook file (MP4/M4B or MP3) read from its own bytes. */
#ifndef MF_AUDIO_H
#define MF_AUDIO_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "mp4.h"

struct mf_audio_chapter {
	int64_t	start_ms;
	char	*title;		/* valid UTF-8 */
};

struct mf_audio {
	char	container[8];	/* "MP4" or "MP3" (from the content, not the name) */
	int64_t	duration_ms;	/* -1 when unknown */
	char	codec[24];	/* "AAC LC", "HE-AAC", "HE-AACv2", "xHE-AAC", "E-AC-3", "AC-3",
				 * "MP3", "MP2", "ALAC", "FLAC", "Opus", or the sample entry */
	long	bitrate;	/* bit/s, 0 when unknown */
	long	sample_rate;	/* Hz, 0 when unknown */
	int	channels;	/* 0 when unknown */
	int	cover;		/* 1 when the file carries cover art */
	char	chapter_source[8];	/* "qt" (chapter text track), "chpl" (Nero), "" */
	struct mf_audio_chapter *chapters;
	size_t	nchapters;
	cJSON	*tags;		/* object of text tags by friendly name (title, artist, ...) */
};

#define MF_AUDIO_MAX_CHAPTERS	4096

/*
 * Read the facts of the audio file open at fd (MP4 family or MP3, told apart by content).
 * Only the boxes/headers needed are read.  0 on success; -1 with a reason in err
 * ("truncated: ...", "not an MP4 or MP3 file", ...).  On success free with mf_audio_free.
 */
int mf_audio_read(int fd, struct mf_audio *a, char *err, size_t n);
/* The same over an open source (a file or memory, see mp4.h). */
int mf_audio_read_src(const struct mf_mp4 *src, struct mf_audio *a, char *err, size_t n);
void mf_audio_free(struct mf_audio *a);

/* meta.audio of docs/records.md: {duration_ms, codec, bitrate, sample_rate, channels,
 * chapters[{start_ms,title}], cover, tags, container, chapter_source}. */
cJSON *mf_audio_json(const struct mf_audio *a);

/*
 * mediainfo's plain-text report on the file open at fd (handed to it as /dev/fd/3, so that
 * it reads that file and no path is resolved again), without the lines about the name it
 * was given ("Complete name", "FileExtension_Invalid").  0 with *text malloc'd; -1 with a
 * reason in err (not installed, failed, timed out).
 */
int mf_audio_mediainfo(int fd, double timeout, char **text, char *err, size_t n);

#endif
