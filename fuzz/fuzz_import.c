/*
 * libFuzzer harness for CSV imports (src/core/import.c: the YAML column map, the CSV reader
 * and the per-row core calls). An input is a column map and a CSV file separated by a line
 * "---CSV---"; without the separator the whole input is the CSV and a fixed map is used.
 * The data directory is made once, in /tmp, with rauma-crm loaded. Beyond "no crash, no
 * leak", an import may fail only with a client error (a bad map, header or file), never an
 * internal one, and the row counts always add up to the rows reported.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/app.h"
#include "core/ctx.h"
#include "core/import.h"
#include "core/register.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/validate.h"

#define HARNESS "fuzz_import"
#include "fuzz_datadir.h"

static const char default_map[] = "delimiter: \";\"\n"
                                  "subject_group: organisation_contact\n"
                                  "columns:\n"
                                  "  Etunimi: first_name\n"
                                  "  Sukunimi: last_name\n"
                                  "  Sähköposti: email\n"
                                  "  Puhelin: phone\n"
                                  "  Yritys: organisation.name\n"
                                  "  Y-tunnus: organisation.ytunnus\n"
                                  "  Titteli: affiliation.title\n";

static long rows_seen;

static void on_row(void *arg, long line, enum import_status st, int64_t id, const char *reason)
{
	(void)arg;
	(void)line;
	(void)id;
	require(st != IMP_REJECTED || reason != NULL, "a rejected row without a reason");
	rows_seen++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n---CSV---\n";
	const char *map = default_map, *csv = (const char *)data;
	size_t map_len = sizeof(default_map) - 1, csv_len = size;
	const char *hit = memmem(data, size, sep, sizeof(sep) - 1);
	if (hit) {
		map = (const char *)data;
		map_len = (size_t)(hit - map);
		csv = hit + sizeof(sep) - 1;
		csv_len = size - map_len - (sizeof(sep) - 1);
	}
	FILE *in = fmemopen((void *)csv, csv_len ? csv_len : 1, "rb");
	if (!in)
		return 0;
	if (!csv_len) {
		fclose(in);
		return 0;
	}
	struct import_stats stats = {0};
	kerr_clear(&fz.err);
	rows_seen = 0;
	int rc = import_csv(&fz.ctx, RID, "public_web", "map.yaml", map, map_len, in, &stats,
	                    on_row, NULL, NULL);
	fclose(in);
	require(rc == 0 || rc == KERR_INVALID || rc == KERR_REFUSED || rc == KERR_NOTFOUND,
	        "an import failed with an internal error");
	long total = 0;
	for (int i = 0; i < IMP__MAX; i++)
		total += stats.rows[i];
	require(total == rows_seen, "row counts do not add up");
	arena_reset(&fz.mem);
	return 0;
}
