/*
 * The usage log (S-04, tiedonhallintalaki 906/2019 §17): who did what to whose data, when,
 * for which purpose, from where. Entries are append-only and hash-chained: each stores a
 * keyed hash of its canonical form and of the previous entry's hash, so `kortisto audit
 * verify` finds an entry that was changed, removed or reordered. Entries never contain
 * personal data, only ids.
 *
 * A change writes its entry with usage_append() inside the transaction of the change, so the
 * two commit or fail together. A read hands its entry to usage_read(): the HTTP server queues
 * it for the group-committing log writer (audit/logwriter.h) and releases the response only
 * once the entry is durable; the command line writes it in a transaction of its own.
 */
#ifndef KORTISTO_USAGE_H
#define KORTISTO_USAGE_H

#include <stddef.h>
#include <stdint.h>

struct kctx;
struct kerr;
struct keys;
struct store;

struct usage_entry {
	const char *action;      /* "read", "search", "create", "update", "delete", "disclose",
	                          * "signin", "grant", … */
	const char *rid;         /* register id, or NULL for account events */
	const char *entity;      /* "person", "organisation", "affiliation", "user", … or NULL */
	int64_t entity_id;       /* 0: none */
	const int64_t *subjects; /* person ids the action concerns (a search: the ids returned) */
	size_t nsubjects;
	const char *reason; /* a code (rule id, request id), never free text; may be NULL */
};

/* Appends `e` with the actor, purpose, time, request id and client of `ctx` to the chain.
 * Must be called inside the caller's write transaction. Returns 0 or KERR_*. */
int usage_append(struct kctx *ctx, const struct usage_entry *e);

/* Shorthand for usage_append() of one entity without subjects. */
int usage_record(struct kctx *ctx, const char *action, const char *rid, const char *entity,
                 int64_t id, const char *reason);

/* Logs a read: through ctx->usage_sink when set (it must not be inside a write transaction
 * of the caller), else in a write transaction of its own. Returns 0 or KERR_*; a caller
 * that cannot log must not show the data. */
int usage_read(struct kctx *ctx, const struct usage_entry *e);

/* ---------------------------------------------------------------- the chain, for audit/ */

#define USAGE_HASH_BYTES 32u

/* One entry as stored: every column that the hash covers, in the order of the canonical
 * form. Strings are borrowed; NULL stands for SQL NULL, as does 0 for user_id/entity_id. */
struct usage_row {
	int64_t id;
	const char *at, *actor;
	int64_t user_id;
	const char *purpose, *action, *rid, *entity;
	int64_t entity_id;
	const char *subjects; /* "12,15,20" or NULL */
	const char *request_id, *client, *reason;
};

/* The newest entry of the chain: the link the next entry is hashed onto. */
struct usage_head {
	int64_t id;
	unsigned char hash[USAGE_HASH_BYTES];
};

/*
 * hash = keyed BLAKE2b-256(k->audit, prev ‖ canonical(r)), where the canonical form is a
 * version tag followed by every field of `r` as a netstring ("5:hello,"; "~," for NULL;
 * integers in decimal), so no two different entries share a form.
 */
void usage_hash(const struct keys *k, const unsigned char prev[USAGE_HASH_BYTES],
                const struct usage_row *r, unsigned char out[USAGE_HASH_BYTES]);

/*
 * Reads the head of the chain inside the caller's write transaction: the newest hashed
 * entry, else the last checkpoint (everything was pruned), else id 0 and 32 zero bytes.
 * Entries from before the chain existed (no hashed entry and no checkpoint yet) are chained
 * first, in id order. Returns 0 or KERR_*.
 */
int usage_head(struct store *db, const struct keys *k, struct usage_head *h, struct kerr *err);

/*
 * Appends `r` after `h` inside the caller's write transaction: r->id is set to h->id + 1
 * (the caller's value is ignored), the row and its usage_subjects rows (entity "person" and
 * every id of r->subjects) are written, and `h` advances to the new entry. Returns 0 or
 * KERR_*.
 */
int usage_put(struct store *db, const struct keys *k, struct usage_head *h, struct usage_row *r,
              struct kerr *err);

/* Writes the ids as "1,2,3" into `out` (at least 21 bytes per id); returns the length. */
size_t usage_subjects_format(const int64_t *ids, size_t n, char *out);

/* Orders ids (qsort comparator of int64_t), and sorts `n` ids in place dropping repeats,
 * returning how many remain: the subjects of one entry are named once each. */
int usage_id_cmp(const void *a, const void *b);
size_t usage_ids_unique(int64_t *ids, size_t n);

/* Chains entries from before the chain existed, in a write transaction of its own, when
 * there are any (a read first, so it takes no lock otherwise). Returns 0 or KERR_*. */
int usage_backfill(struct kctx *ctx);

struct buf;

/* The text by which entry (entity, entity_id, subjects) is found per person in the log's
 * full-text index usage_subjects: its entity id when the entity is a person, then the listed
 * subjects (comma-separated ids), appended to `out`; nothing when it concerns no person.
 * Writing and removing an index row must use the same text. */
void usage_subjects_text(const char *entity, int64_t entity_id, const char *subjects,
                         struct buf *out);

#endif
