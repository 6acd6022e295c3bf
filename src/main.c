/*
 * kortisto: a customer and marketing register whose privacy notice is true by
 * construction. This file reads the global options and dispatches to the subcommand table.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#ifndef KORTISTO_VERSION
#define KORTISTO_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	cli_fn fn;
	const char *usage;
} commands[] = {
        {"init", cmd_init, "init [DIR]                    create a data directory"},
        {"serve", cmd_serve, "serve [--listen ADDR:PORT]    run the HTTP server"},
        {"register", cmd_register, "register check|load|list|versions   declarations of registers"},
        {"person", cmd_person, "person add|get|find|update|delete|event   data subjects"},
        {"org", cmd_org, "org add|get|find|update|delete      organisations"},
        {"affiliation", cmd_affiliation,
         "affiliation add|get|find|update|delete   roles in organisations"},
        {"import", cmd_import, "import --register RID --source SRC --map MAP FILE.csv"},
        {"user", cmd_user, "user add|list|deactivate|passwd|grant|revoke|grants|totp|commitments"},
        {"token", cmd_token, "token create|list|revoke      API tokens for integrations"},
        {"commitment", cmd_commitment, "commitment show|set        the confidentiality commitment"},
        {"audit", cmd_audit, "audit verify|show|anchor|prune   the usage log"},
        {"disclose", cmd_disclose, "disclose --register RID …    record a disclosure"},
        {"request", cmd_request,
         "request new|list|show|verify|start|extend|assess|fulfil|refuse|withdraw|lift|export   "
         "data-subject requests"},
        {"survey", cmd_survey,
         "survey load|list|show|stats|draw|notified|expire   feedback surveys and raffles"},
        {"consent", cmd_consent, "consent give|list|show|withdraw   consents of data subjects"},
        {"mailing", cmd_mailing,
         "mailing new|list|preview|send|status|list-add|lists   newsletters, campaigns and "
         "subscription lists"},
        {"event", cmd_event,
         "event new|list|show|participants|session|register|cancel|attend|meeting|share|ics|"
         "chat   events"},
        {"notice", cmd_notice,
         "notice --register RID [--lang L] [--format F]   the privacy notice"},
        {"record-of-processing", cmd_record,
         "record-of-processing [--format md|html|csv]   the Art. 30 record"},
        {"retention", cmd_retention,
         "retention plan|run|runs|hold|release   the declared retention rules"},
        {"directory", cmd_directory,
         "directory list|show|set     the public company directory and its listings"},
        {"record", cmd_service_record,
         "record add|list|show|change|delete|ics|types   advisory and customer-service records"},
        {"stats", cmd_stats, "stats services --register RID   service statistics (E-05)"},
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: kortisto [--data DIR] [--now ISO8601] COMMAND [ARGS]\n\n"
	        "kortisto keeps customer and marketing registers whose privacy notice is true\n"
	        "by construction: only declared data, on declared legal bases, for declared\n"
	        "purposes.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out,
	        "\nglobal options:\n"
	        "  --data DIR      data directory (default $KORTISTO_DATA, else ./kortisto-data)\n"
	        "  --now ISO8601   act as if at this time (planning and tests)\n"
	        "  --help          this text; COMMAND --help for a command's own\n"
	        "  --version       print the version\n\n"
	        "See kortisto(1) and docs/ for more.\n");
}

int main(int argc, char **argv)
{
	struct globals g = {0};
	const char *env = getenv("KORTISTO_DATA");
	g.data = env && *env ? env : "kortisto-data";

	if (crypto_start() != 0 || store_start() != 0) {
		fprintf(stderr, "kortisto: cannot initialise libsodium or SQLite\n");
		return 1;
	}
	/* Global options come before the command. */
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("kortisto %s\n", KORTISTO_VERSION);
			return 0;
		} else if ((strcmp(a, "--data") == 0 || strcmp(a, "--now") == 0) && i + 1 < argc) {
			if (a[2] == 'd')
				g.data = argv[++i];
			else
				g.now = argv[++i];
		} else if (strncmp(a, "--data=", 7) == 0) {
			g.data = a + 7;
		} else if (strncmp(a, "--now=", 6) == 0) {
			g.now = a + 6;
		} else {
			fprintf(stderr, "kortisto: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (g.now) {
		if (time_parse_iso8601(g.now, &g.now_t) != 0) {
			fprintf(stderr, "kortisto: --now: '%s' is not an ISO 8601 date or time\n",
			        g.now);
			return 2;
		}
		g.has_now = true;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(commands[k].name, argv[i]) == 0)
			return commands[k].fn(&g, argc - i, argv + i);
	fprintf(stderr, "kortisto: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
