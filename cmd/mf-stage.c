/* mf-stage: link each release's files under its MAM name in the seed root. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "naming.h"
#include "record.h"
#include "stage.h"

static void
usage(FILE *fp, int code)
{
	fprintf(fp, "usage: mf-stage [-hnqvV] [--dry-run] [--force] [--copy]\n");
	exit(code);
}

static enum mf_rec_result
handle(cJSON *rec, void *ctx)
{
	return mf_stage_record(rec, ctx);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "copy", no_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct mf_stage_opts o = { 0 };
	struct mf_naming *naming;
	struct mf_stream_ops ops;
	char err[512];
	int c, rc;

	mf_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "cfhnqvV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.copy = 1;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'q':
			mf_verbose = -1;
			break;
		case 'v':
			mf_verbose++;
			break;
		case 'V':
			mf_print_version();
			return 0;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;
	o.library = mf_config_require("MF_LIBRARY");
	o.seed_root = mf_config_require("MF_SEED_ROOT");
	if (o.library[0] != '/' || o.seed_root[0] != '/') {
		mf_warnx("MF_LIBRARY and MF_SEED_ROOT must be absolute paths");
		return EX_CONFIG;
	}
	o.tag = mf_config_get("MF_RIPPER_TAG");
	o.extensions = mf_config_get("MF_EXTENSIONS");
	o.max_path = (size_t)mf_config_long("MF_MAX_PATH", 225, 20, 4096);
	if ((naming = mf_naming_load(NULL, err, sizeof(err))) == NULL) {
		mf_warnx("naming rules: %s", err);
		return EX_CONFIG;
	}
	mf_naming_set_romaji(naming, mf_config_bool("MF_TRANSLITERATE_JAPANESE", 1));
	o.naming = naming;
	ops = (struct mf_stream_ops){ .record = handle, .ctx = &o, .stage = "stage" };
	rc = mf_stream_run(STDIN_FILENO, stdout, &ops);
	mf_naming_free(naming);
	return rc;
}
