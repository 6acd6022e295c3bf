/*
 * Imports of contact lists (e.g. from public sources) from CSV with a column map. Each row
 * becomes a person (and their organisation and affiliation) through the same core calls as
 * the API, so every declaration rule applies; duplicates merge by e-mail, phone or Y-tunnus.
 */
#ifndef KORTISTO_IMPORT_H
#define KORTISTO_IMPORT_H

#include <stdint.h>
#include <stdio.h>

struct kctx;

enum import_status {
	IMP_ADDED,
	IMP_UPDATED,
	IMP_UNCHANGED,
	IMP_REJECTED,
	IMP_SUPPRESSED, /* the person was erased by passivation: skipped */
	IMP__MAX
};

struct import_stats {
	long rows[IMP__MAX];
	long bytes_total; /* size of the input, 0 when unknown */
};

/* Called once per data row with its outcome; `reason` is set for rejected rows. */
typedef void (*import_row_fn)(void *arg, long line, enum import_status st, int64_t person_id,
                              const char *reason);
/* Called every few thousand rows with progress. */
typedef void (*import_progress_fn)(void *arg, const struct import_stats *st, long bytes_read);

/* Status names: "added", "updated", "unchanged", "rejected", "suppressed". */
const char *import_status_name(enum import_status st);

/*
 * Imports CSV `in` into register `rid`, every row from declared source `source`, mapped by
 * the YAML text `map` (`map_name` names it in errors). A rejected row never stops the
 * others; rows are committed in batches, each row atomically, so a crash leaves no
 * half-imported row. Returns 0 (even when rows were rejected) or a negative KERR_* for a
 * problem with the map, the header, the source or the store.
 */
int import_csv(struct kctx *ctx, const char *rid, const char *source, const char *map_name,
               const char *map, size_t map_len, FILE *in, struct import_stats *stats,
               import_row_fn on_row, import_progress_fn on_progress, void *arg);

#endif
