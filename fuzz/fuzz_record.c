/* fuzz_record: any bytes through the record stream (line splitting, JSON, error records). */
#include "json.h"
#include "log.h"
#include "record.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static enum mf_rec_result
touch(cJSON *rec, void *ctx)
{
	(void)ctx;
	/* Exercise the getters the programs use on untrusted records. */
	const char *s = mf_json_str(rec, "staging.dir");
	double d;

	if (s && !mf_utf8_valid(s, __builtin_strlen(s)))
		return MF_REC_SKIP;
	if (mf_json_num(rec, "torrent.size", &d) == 0 && d < 0) {
		mf_rec_error(rec, "torrent", 0, "negative size");
		return MF_REC_FAIL;
	}
	mf_json_put_str(rec, "seen", "1");
	return MF_REC_OK;
}

static int
flush_ok(void *ctx)
{
	(void)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	int fd = memfd_create("in", 0);
	struct mf_stream_ops ops = { .record = touch, .ctx = NULL };

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		mf_verbose = -1;
		stderr = devnull;	/* the stream warns on every bad line */
	}
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	lseek(fd, 0, SEEK_SET);
	if (size && data[0] & 1)
		ops.flush = flush_ok;	/* group commit path too */
	mf_stream_run(fd, devnull, &ops);
	close(fd);
	return 0;
}
