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

#endif
