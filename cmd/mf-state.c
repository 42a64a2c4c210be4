/* mf-state: the checkpoint store of what happened to each release (see mf-state(1)). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "statecmd.h"

static void
usage(FILE *f, int code)
{
	fprintf(f,
	    "usage: mf-state [-hVqv] [--state DIR] COMMAND [ARGS]\n"
	    "  pending [--skip-failed|--retry-failed] [--only ID]   filter: hold back finished releases\n"
	    "  checkpoint staged|metadata|torrent|uploaded        filter: record a finished stage\n"
	    "  list [--failed|--complete|--pending] [--json]\n"
	    "  show ID | stats [--json] | retry ID|--all-failed | forget ID\n"
	    "  export | import FILE | check [--fix]\n");
	exit(code);
}

/* Each command parses its own flags, then statecmd does the work. */

static int
cmd_pending(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "skip-failed", no_argument, NULL, 's' },
		{ "retry-failed", no_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *only = NULL;
	int c, skip_failed = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': skip_failed = 1; break;
		case 'r': skip_failed = 0; break;
		case 'o': only = optarg; break;
		default: usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);
	return mf_statecmd_pending(dir, skip_failed, only);
}

static int
cmd_checkpoint(const char *dir, int argc, char **argv)
{
	int s;

	if (argc != 2)
		usage(stderr, EX_USAGE);
	if ((s = mf_state_stage(argv[1])) < 0) {
		mf_warnx("unknown stage \"%s\": use staged, metadata, torrent or uploaded", argv[1]);
		return EX_USAGE;
	}
	return mf_statecmd_checkpoint(dir, s);
}

static int
cmd_list(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "failed", no_argument, NULL, MF_LIST_FAILED },
		{ "complete", no_argument, NULL, MF_LIST_COMPLETE },
		{ "pending", no_argument, NULL, MF_LIST_PENDING },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int c, which = MF_LIST_ALL, json = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case MF_LIST_FAILED: case MF_LIST_COMPLETE: case MF_LIST_PENDING: which = c; break;
		case 'j': json = 1; break;
		default: usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);
	return mf_statecmd_list(dir, which, json);
}

/* 1 when argv is the command alone or with the one flag it may take. */
static int
flag(int argc, char **argv, const char *name)
{
	if (argc > 2 || (argc == 2 && strcmp(argv[1], name) != 0))
		usage(stderr, EX_USAGE);
	return argc == 2;
}

static int
cmd_retry_forget(const char *dir, int argc, char **argv, const char *op)
{
	int all = argc == 2 && strcmp(op, "retry") == 0 && strcmp(argv[1], "--all-failed") == 0;

	if (argc != 2 || (argv[1][0] == '-' && !all))
		usage(stderr, EX_USAGE);
	return mf_statecmd_retry_forget(dir, op, all ? NULL : argv[1]);
}

/* The command with exactly one operand: that operand. */
static const char *
operand(int argc, char **argv)
{
	if (argc != 2)
		usage(stderr, EX_USAGE);
	return argv[1];
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = NULL, *cmd;
	int c, rc;

	mf_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "+hVqv", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case 'V': mf_print_version(); return 0;
		case 'q': mf_verbose = -1; break;
		case 'v': mf_verbose++; break;
		case 's': dir = optarg; break;
		default: usage(stderr, EX_USAGE);
		}
	}
	if (optind >= argc)
		usage(stderr, EX_USAGE);
	if ((rc = mf_config_load()) != 0)
		return rc;
	if (dir)
		mf_config_set("MF_STATE_DIR", dir);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0;	/* each command parses its own flags (0: GNU re-initialises) */
	dir = mf_config_get("MF_STATE_DIR");
	if (strcmp(cmd, "pending") == 0)
		return cmd_pending(dir, argc, argv);
	if (strcmp(cmd, "checkpoint") == 0)
		return cmd_checkpoint(dir, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(dir, argc, argv);
	if (strcmp(cmd, "show") == 0)
		return mf_statecmd_show(dir, operand(argc, argv));
	if (strcmp(cmd, "stats") == 0)
		return mf_statecmd_stats(dir, flag(argc, argv, "--json"));
	if (strcmp(cmd, "retry") == 0 || strcmp(cmd, "forget") == 0)
		return cmd_retry_forget(dir, argc, argv, cmd);
	if (strcmp(cmd, "export") == 0) {
		if (argc != 1)
			usage(stderr, EX_USAGE);
		return mf_statecmd_export(dir);
	}
	if (strcmp(cmd, "import") == 0)
		return mf_statecmd_import(dir, operand(argc, argv));
	if (strcmp(cmd, "check") == 0)
		return mf_statecmd_check(dir, flag(argc, argv, "--fix"));
	mf_warnx("unknown command \"%s\"", cmd);
	usage(stderr, EX_USAGE);
}
