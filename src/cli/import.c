/*
 * `kortisto import`: CSV contact lists into a register, with a report of every row and a
 * progress line when stderr is a terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/import.h"
#include "util/buf.h"

static const char import_usage[] =
        "usage: kortisto import --register RID --source SOURCE_ID --map MAP.yaml [--report FILE]\n"
        "                      FILE.csv\n"
        "Imports a UTF-8 CSV file (';' or ',' separated, quoted fields allowed). MAP.yaml maps\n"
        "header columns to declared fields, organisation.* and affiliation.* columns.\n"
        "Duplicates merge by e-mail, phone or Y-tunnus. Prints rejected rows with their line\n"
        "numbers and reasons, and a summary; --report FILE writes every row's outcome.\n";

struct import_out {
	FILE *report;
	bool tty;
	long shown_rejects;
	long total_bytes;
};

static void on_row(void *arg, long line, enum import_status st, int64_t id, const char *reason)
{
	struct import_out *o = arg;
	if (st == IMP_REJECTED && o->shown_rejects++ < 1000) {
		if (o->tty)
			fputs("\r\033[K", stderr);
		printf("line %ld: rejected: %s\n", line, reason ? reason : "");
	}
	if (o->report)
		fprintf(o->report, "%ld;%s;%lld;%s\n", line, import_status_name(st), (long long)id,
		        reason ? reason : "");
}

static void on_progress(void *arg, const struct import_stats *st, long bytes)
{
	struct import_out *o = arg;
	if (!o->tty)
		return;
	long rows = 0;
	for (int i = 0; i < IMP__MAX; i++)
		rows += st->rows[i];
	int pct = o->total_bytes > 0 ? (int)(bytes * 100 / o->total_bytes) : 0;
	fprintf(stderr, "\r\033[Kimporting: %ld rows, %d%%", rows, pct);
	fflush(stderr);
}

int cmd_import(struct globals *g, int argc, char **argv)
{
	const char *rid = NULL, *source = NULL, *map = NULL, *file = NULL, *report = NULL;
	for (int i = 1; i < argc; i++) {
		bool next = i + 1 < argc;
		if (strcmp(argv[i], "--register") == 0 && next)
			rid = argv[++i];
		else if (strcmp(argv[i], "--source") == 0 && next)
			source = argv[++i];
		else if (strcmp(argv[i], "--map") == 0 && next)
			map = argv[++i];
		else if (strcmp(argv[i], "--report") == 0 && next)
			report = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(import_usage, stdout);
			return 0;
		} else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			fputs(import_usage, stderr);
			return 2;
		}
	}
	if (!rid || !source || !map || !file) {
		fputs(import_usage, stderr);
		return 2;
	}

	struct buf mapbuf = BUF_INIT;
	FILE *mf = fopen(map, "rb");
	if (!mf) {
		fprintf(stderr, "kortisto: %s: %s\n", map, strerror(errno));
		return 1;
	}
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), mf)) > 0 && mapbuf.len < 65536)
		buf_append(&mapbuf, chunk, n);
	fclose(mf);

	FILE *in = fopen(file, "rb");
	if (!in) {
		fprintf(stderr, "kortisto: %s: %s\n", file, strerror(errno));
		buf_free(&mapbuf);
		return 1;
	}
	struct import_out out = {.tty = isatty(STDERR_FILENO) != 0};
	struct stat st;
	if (fstat(fileno(in), &st) == 0)
		out.total_bytes = (long)st.st_size;
	if (report && !(out.report = fopen(report, "w"))) {
		fprintf(stderr, "kortisto: %s: %s\n", report, strerror(errno));
		fclose(in);
		buf_free(&mapbuf);
		return 1;
	}
	if (out.report)
		fputs("line;status;person_id;reason\n", out.report);

	struct cli c;
	int status = 1;
	if (cli_open(&c, g)) {
		struct import_stats stats = {0};
		int rc = import_csv(&c.ctx, rid, source, map, buf_str(&mapbuf), mapbuf.len, in,
		                    &stats, on_row, on_progress, &out);
		if (out.tty)
			fputs("\r\033[K", stderr);
		if (rc) {
			cli_fail(&c);
		} else {
			/* Persons erased by passivation are counted only where there are any. */
			printf("added %ld, updated %ld, unchanged %ld, ", stats.rows[IMP_ADDED],
			       stats.rows[IMP_UPDATED], stats.rows[IMP_UNCHANGED]);
			if (stats.rows[IMP_SUPPRESSED])
				printf("suppressed %ld, ", stats.rows[IMP_SUPPRESSED]);
			printf("rejected %ld\n", stats.rows[IMP_REJECTED]);
			status = 0;
		}
		cli_close(&c);
	}
	if (out.report && fclose(out.report) != 0) {
		fprintf(stderr, "kortisto: %s: write error\n", report);
		status = 1;
	}
	fclose(in);
	buf_free(&mapbuf);
	return status;
}
