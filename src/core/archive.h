/*
 * Archive packages (L-07): a retention rule with archive_then_delete first transfers what it
 * destroys to the archive. The package is verified on disk before the caller may delete.
 */
#ifndef KORTISTO_ARCHIVE_H
#define KORTISTO_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kctx;

/* What a package holds and what its manifest says about it. Strings are borrowed. */
struct archive_spec {
	const char *rid;    /* register */
	int version;        /* the declaration's version the rule comes from */
	const char *rule;   /* rule id */
	const char *action; /* the rule's action, as YAML names it */
	const char *part;   /* "person", or the record type */
	bool records;       /* the ids are record ids; else person ids */
	int64_t run_id;     /* the retention run, or 0 */
};

/*
 * Writes the package of ids[0..n-1] as directory `name` under the register's directory of
 * the archive (cfg.archive_dir, else DATADIR/archive; created 0700): for persons,
 * person.jsonl with each person in full (sensitive fields, contact points, affiliations,
 * history) and one file per record type of their records; for records, one file per type;
 * and manifest.json with every file's record count, size and SHA-256. Written into
 * NAME.tmp, synced, read back and verified, then renamed into place, replacing a package of
 * the same name (one left by a run killed before its deletion committed). Reads inside the
 * caller's transaction and logs nothing. Returns 0 only when the package verified; else
 * KERR_INTERNAL naming what failed ("archive_dir", "archive"), and nothing may be deleted.
 */
int archive_write(struct kctx *ctx, const struct archive_spec *s, const char *name,
                  const int64_t *ids, size_t n);

#endif
