/* mf-meta: Audnex metadata, audio facts and the MAM upload JSON for each staged release. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "audnex.h"
#include "config.h"
#include "log.h"
#include "mam.h"
#include "naming.h"
#include "record.h"

static void
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: mf-meta [-fhnqvV] [-o DIR] [--regions LIST] [--audnex-url URL] [--cache-dir DIR]\n"
	    "               [--refresh] [--no-audnex] [--mediainfo] [--timeout S] [--attempts N]\n"
	    "               [--retry-time S] [--backoff S] [--rate R] [--breaker N] [--ttl DAYS]\n"
	    "               < records\n");
	exit(code);
}

int
main(int argc, char **argv)
{
	enum { O_REGIONS = 256, O_URL, O_CACHE, O_REFRESH, O_NOAUDNEX, O_MEDIAINFO, O_TIMEOUT,
	    O_ATTEMPTS, O_RETRY, O_BACKOFF, O_RATE, O_BREAKER, O_TTL };
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "out-dir", required_argument, NULL, 'o' },
		{ "regions", required_argument, NULL, O_REGIONS },
		{ "audnex-url", required_argument, NULL, O_URL },
		{ "cache-dir", required_argument, NULL, O_CACHE },
		{ "refresh", no_argument, NULL, O_REFRESH },
		{ "no-audnex", no_argument, NULL, O_NOAUDNEX },
		{ "mediainfo", no_argument, NULL, O_MEDIAINFO },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "attempts", required_argument, NULL, O_ATTEMPTS },
		{ "retry-time", required_argument, NULL, O_RETRY },
		{ "backoff", required_argument, NULL, O_BACKOFF },
		{ "rate", required_argument, NULL, O_RATE },
		{ "breaker", required_argument, NULL, O_BREAKER },
		{ "ttl", required_argument, NULL, O_TTL },
		{ NULL, 0, NULL, 0 }
	};
	struct mf_audnex_opts ao = { 0 };
	struct mf_meta_opts mo = { 0 };
	struct mf_categories *cats;
	struct mf_naming *naming;
	int c, rc, no_audnex = 0, refresh = 0;
	const char *rate;
	char *path, err[512];

	mf_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "fhno:qvV", lo, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case 'V': mf_print_version(); return 0;
		case 'v': mf_verbose++; break;
		case 'q': mf_verbose = -1; break;
		case 'n': mo.dry_run = 1; break;
		case 'f': mo.force = 1; break;
		case 'o': mf_config_set("MF_OUT_DIR", optarg); break;
		case O_REGIONS: mf_config_set("MF_AUDNEX_REGIONS", optarg); break;
		case O_URL: mf_config_set("MF_AUDNEX_URL", optarg); break;
		case O_CACHE: mf_config_set("MF_CACHE_DIR", optarg); break;
		case O_REFRESH: refresh = 1; break;
		case O_NOAUDNEX: no_audnex = 1; break;
		case O_MEDIAINFO: mo.mediainfo = 1; break;
		case O_TIMEOUT: mf_config_set("MF_TIMEOUT", optarg); break;
		case O_ATTEMPTS: mf_config_set("MF_AUDNEX_ATTEMPTS", optarg); break;
		case O_RETRY: mf_config_set("MF_AUDNEX_RETRY_TIME", optarg); break;
		case O_BACKOFF: mf_config_set("MF_AUDNEX_BACKOFF", optarg); break;
		case O_RATE: mf_config_set("MF_AUDNEX_RATE", optarg); break;
		case O_BREAKER: mf_config_set("MF_AUDNEX_BREAKER", optarg); break;
		case O_TTL: mf_config_set("MF_AUDNEX_TTL_DAYS", optarg); break;
		default: usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;

	ao.base_url = mf_config_get("MF_AUDNEX_URL");
	ao.regions = mf_config_get("MF_AUDNEX_REGIONS");
	ao.cache_dir = mf_config_get("MF_CACHE_DIR");
	ao.ttl = (double)mf_config_long("MF_AUDNEX_TTL_DAYS", 30, 0, 3650) * 86400;
	ao.neg_ttl = ao.ttl < 86400 ? ao.ttl : 86400;	/* "not here" is asked again daily */
	ao.refresh = refresh;
	ao.dry_run = mo.dry_run;
	ao.timeout = mf_config_seconds("MF_TIMEOUT", 30);
	ao.attempts = (int)mf_config_long("MF_AUDNEX_ATTEMPTS", 4, 1, 100);
	ao.retry_time = mf_config_seconds("MF_AUDNEX_RETRY_TIME", 60);
	ao.backoff = mf_config_seconds("MF_AUDNEX_BACKOFF", 1);
	/* "0" lifts the limit; anything else is a positive number (parsed like seconds). */
	rate = mf_config_get("MF_AUDNEX_RATE");
	ao.rate = rate && !strcmp(rate, "0") ? 0 : mf_config_seconds("MF_AUDNEX_RATE", 2);
	ao.breaker = (int)mf_config_long("MF_AUDNEX_BREAKER", 5, 0, 1000);
	if (!no_audnex && !(mo.audnex = mf_audnex_new(&ao)))
		mf_errx(EX_OSERR, "out of memory");

	if (!(path = mf_data_file("categories.json")))
		mf_errx(EX_CONFIG, "categories.json not found (MF_DATA_DIR, the source tree's data/, "
		    "or %s): reinstall mamfast", MF_DATADIR);
	if (!(cats = mf_categories_load(path, err, sizeof err)))
		mf_errx(EX_CONFIG, "%s", err);
	free(path);
	mo.cats = cats;
	if (!(naming = mf_naming_load(NULL, err, sizeof err)))
		mf_errx(EX_CONFIG, "naming rules: %s", err);
	mf_naming_set_romaji(naming, mf_config_bool("MF_TRANSLITERATE_JAPANESE", 1));
	mo.naming = naming;
	mo.out_dir = mo.dry_run ? mf_config_get("MF_OUT_DIR") : mf_config_require("MF_OUT_DIR");
	mo.seed_root = mf_config_require("MF_SEED_ROOT");
	mo.mediainfo_timeout = 60;

	struct mf_stream_ops ops = { .record = mf_meta_record, .flush = mf_meta_flush, .ctx = &mo,
	    .stage = "metadata" };
	rc = mf_stream_run(STDIN_FILENO, stdout, &ops);
	if (mo.audnex)
		mf_debug("%ld Audnex request(s)", mf_audnex_requests(mo.audnex));
	mf_audnex_free(mo.audnex);
	mf_categories_free(cats);
	mf_naming_free(naming);
	return rc;
}
