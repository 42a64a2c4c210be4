/* mf-qbt-add: add each record's torrent to qBittorrent, once (see mf-qbt-add(1)). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "qbt.h"
#include "record.h"

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: mf-qbt-add [-hnqVv] [--check] [--dry-run] [--url URL] [--category NAME] "
	    "[--tags LIST]\n"
	    "                  [--savepath PATH] [--paused] [--auto-tmm] [--ratio-limit R]\n"
	    "                  [--seeding-time-limit MIN] [--inactive-seeding-time-limit MIN]\n"
	    "                  [--up-limit BYTES] [--retries N] [--retry-time SECONDS]\n"
	    "                  [--timeout SECONDS] < records > records\n");
	exit(code);
}

static struct mf_roots roots;

/* The torrent and the staged folder a record names lie in the roots set, or it is refused. */
static enum mf_rec_result
handle(cJSON *rec, void *run)
{
	if (mf_json_str(rec, "torrent.path") &&
	    mf_rec_paths_ok(rec, MF_RF_TORRENT | MF_RF_STAGING, &roots, "upload") != 0)
		return MF_REC_FAIL;
	return mf_qbt_record(rec, run);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "check", no_argument, NULL, 'K' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "url", required_argument, NULL, 'U' },
		{ "category", required_argument, NULL, 'C' },
		{ "tags", required_argument, NULL, 'T' },
		{ "savepath", required_argument, NULL, 'S' },
		{ "paused", no_argument, NULL, 'P' },
		{ "auto-tmm", no_argument, NULL, 'a' },
		{ "ratio-limit", required_argument, NULL, 'r' },
		{ "seeding-time-limit", required_argument, NULL, 's' },
		{ "inactive-seeding-time-limit", required_argument, NULL, 'i' },
		{ "up-limit", required_argument, NULL, 'u' },
		{ "retries", required_argument, NULL, 'R' },
		{ "retry-time", required_argument, NULL, 'W' },
		{ "timeout", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 }
	};
	struct mf_qbt_opts o = { 0 };
	struct mf_qbt_run run = { 0 };
	char *pass, *key;
	int c, rc, fatal, dry = 0, check = 0;

	mf_setprog(argv[0]);
	if ((rc = mf_config_load()) != 0)
		return rc;
	while ((c = getopt_long(argc, argv, "hnqVv", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case 'V': mf_print_version(); return 0;
		case 'n': dry = 1; break;
		case 'K': check = 1; break;
		case 'q': mf_verbose = -1; break;
		case 'v': mf_verbose++; break;
		case 'U': mf_config_set("MF_QBT_URL", optarg); break;
		case 'C': mf_config_set("MF_QBT_CATEGORY", optarg); break;
		case 'T': mf_config_set("MF_QBT_TAGS", optarg); break;
		case 'S': mf_config_set("MF_QBT_SAVEPATH", optarg); break;
		case 'P': mf_config_set("MF_QBT_PAUSED", "1"); break;
		case 'a': mf_config_set("MF_QBT_AUTO_TMM", "1"); break;
		case 'r': mf_config_set("MF_QBT_RATIO_LIMIT", optarg); break;
		case 's': mf_config_set("MF_QBT_SEEDING_TIME_LIMIT", optarg); break;
		case 'i': mf_config_set("MF_QBT_INACTIVE_SEEDING_TIME_LIMIT", optarg); break;
		case 'u': mf_config_set("MF_QBT_UP_LIMIT", optarg); break;
		case 'R': mf_config_set("MF_QBT_RETRIES", optarg); break;
		case 'W': mf_config_set("MF_QBT_RETRY_TIME", optarg); break;
		case 'O': mf_config_set("MF_TIMEOUT", optarg); break;
		default: usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);

	o.url = mf_config_get("MF_QBT_URL");
	if (!o.url)
		o.url = "http://127.0.0.1:8080";
	o.user = mf_config_get("MF_QBT_USER");
	pass = mf_config_secret("MF_QBT_PASS", "MF_QBT_PASS_FILE");
	key = mf_config_secret("MF_QBT_API_KEY", NULL);
	o.pass = pass;
	o.api_key = key;
	o.timeout = mf_config_seconds("MF_TIMEOUT", 30);
	o.retries = (int)mf_config_long("MF_QBT_RETRIES", 8, 1, 1000);
	o.retry_time = mf_config_seconds("MF_QBT_RETRY_TIME", 60);
	o.retry_base = 0.1;
	o.confirm_time = 3;
	mf_qbt_limits_load(&run.limits);
	if (o.user && !pass && !key)
		mf_errx(EX_CONFIG, "MF_QBT_USER is set but neither MF_QBT_PASS nor "
		    "MF_QBT_PASS_FILE: set one (never on the command line)");
	run.q = mf_qbt_new(&o);
	mf_secret_free(pass);
	mf_secret_free(key);
	if (!run.q)
		return EX_CONFIG;
	if (check) {
		/* For `mamfast check`: reachable and credentials accepted?  No records read. */
		char version[128], api[128];
		int t;

		if (mf_qbt_check(run.q, version, sizeof version, api, sizeof api) == 0) {
			printf("qBittorrent %s (WebAPI %s) at %s: credentials accepted\n", version,
			    api, mf_qbt_url(run.q));
			if ((t = mf_qbt_tested(version)) != 0)
				mf_warnx("warning: qBittorrent %s (WebAPI %s) %s: mamfast is tested "
				    "against %s to %s; it may work, but report what fails", version, api,
				    t == 2 ? "does not say its release plainly" : t < 0 ?
				    "is older than any release tested" : "is newer than any release tested",
				    MF_QBT_TESTED_FIRST, MF_QBT_TESTED_LAST);
			rc = 0;
		} else {
			mf_warnx("%s", mf_qbt_error(run.q));
			rc = mf_qbt_fatal(run.q) ? mf_qbt_fatal(run.q) : EX_UNAVAILABLE;
		}
		mf_qbt_free(run.q);
		return rc;
	}
	run.category = mf_config_get("MF_QBT_CATEGORY");
	if (!run.category)
		run.category = "mamfast";
	run.tags = mf_qbt_tags_norm(mf_config_get("MF_QBT_TAGS") ? mf_config_get("MF_QBT_TAGS")
	    : "mamfast");
	run.seed_root = mf_config_get("MF_SEED_ROOT");
	run.save_map = mf_config_get("MF_QBT_SAVEPATH");
	if (run.save_map && !run.seed_root)
		mf_errx(EX_CONFIG, "MF_QBT_SAVEPATH is set but MF_SEED_ROOT is not: it maps "
		    "MF_SEED_ROOT to the path qBittorrent sees");
	run.paused = mf_config_bool("MF_QBT_PAUSED", 0);
	run.dry_run = dry;
	run.max_torrent = 32u << 20;

	roots.seed_root = run.seed_root;
	roots.out_dir = mf_config_get("MF_OUT_DIR");
	struct mf_stream_ops ops = { .record = handle, .flush = mf_qbt_flush,
	    .ctx = &run, .stage = "upload" };
	rc = mf_stream_run(STDIN_FILENO, stdout, &ops);
	if (rc == 0 && run.failed)
		rc = 1;
	/* A fatal condition outranks "a record failed"; an output error outranks both. */
	if ((fatal = mf_qbt_fatal(run.q)) != 0) {
		mf_warnx("%s", mf_qbt_error(run.q));
		if (rc != EX_IOERR)
			rc = fatal;
	}
	mf_qbt_free(run.q);
	mf_qbt_run_free(&run);
	free(run.tags);
	return rc;
}
