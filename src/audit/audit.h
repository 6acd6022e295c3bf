/*
 * Audit of the usage log (S-04): verifying the hash chain, anchoring its head outside the
 * database, showing entries, and pruning old ones behind a signed checkpoint. Anchors and
 * checkpoints are signed with an Ed25519 key derived from the data directory's master key;
 * its public key (audit_public_key) lets the records office check anchors without it.
 */
#ifndef KORTISTO_AUDIT_H
#define KORTISTO_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/usage.h"

struct kapp;
struct kctx;

/* ---------------------------------------------------------------- verify */

struct audit_verify {
	int64_t entries;             /* entries walked */
	int64_t head_id;             /* the newest entry (or the checkpoint's when none) */
	unsigned char head_hash[32]; /* its hash */
	int64_t checkpoint_id;       /* the last removed entry of the latest checkpoint, or 0 */
	int64_t anchors;             /* anchors checked */
	int64_t bad_id;              /* the entry the first problem names; 0 when none */
	char problem[320];           /* the first problem; "" when the log verified */
};

/*
 * Walks the whole usage log in id order (streaming, in one read transaction), recomputing
 * every hash and link from the latest checkpoint on, then checks each anchor of the file
 * `anchors` (may be NULL): its signature, and that the entry it names is in the log with that
 * hash. Entries from before the chain existed are chained first. Returns 0 when the walk ran
 * (out->problem tells whether it found a problem: the first one, naming the entry), or
 * KERR_* when it could not run (database, unreadable anchors file).
 */
int audit_verify(struct kctx *ctx, const char *anchors, struct audit_verify *out);

/* ---------------------------------------------------------------- anchors */

#define AUDIT_ANCHOR_MAX 320 /* bytes of an anchor line with its NUL */

/*
 * Builds the signed anchor line of the chain's current head into `line` (no newline):
 * "kortisto-anchor v1 id=ID hash=HEX at=TIME sig=HEX", the signature covering everything
 * before " sig=". Returns 0 or KERR_*.
 */
int audit_anchor(struct kctx *ctx, char line[AUDIT_ANCHOR_MAX]);

/*
 * Appends the anchor line of the current head to `path` (created 0600 if needed), synced to
 * disk. `path` NULL or "" means the configured audit_anchor_file, else
 * DATADIR/audit-anchors.log. For the server to call every audit_anchor_interval seconds.
 * Returns 0 or KERR_*.
 */
int audit_anchor_write(struct kctx *ctx, const char *path);

/* Appends `line` and a newline to `path` (created 0600), synced to disk; `path` as above. */
int audit_anchor_append(struct kctx *ctx, const char *path, const char *line);

/* The Ed25519 public key that verifies anchors and checkpoints, as 64 hex digits. */
void audit_public_key(const struct kapp *app, char hex[65]);

/* ---------------------------------------------------------------- show */

struct audit_filter {
	const char *rid;   /* only entries of this register, or NULL for all */
	int64_t subject;   /* only entries concerning this person id, or 0 */
	const char *user;  /* only entries by this staff account (users.name), or NULL */
	const char *since; /* only entries at or after this date YYYY-MM-DD, or NULL */
};

/*
 * Lists usage-log entries matching `f`, newest first: *out = {items: [...], next: cursor|null}
 * (caller decrefs). `cursor` is a previous page's "next" or NULL; `limit` is capped by the
 * configuration. The listing is itself logged (action "audit.show", the subject asked about).
 * Errors: KERR_NOTFOUND (register, user), KERR_INVALID (since, cursor).
 */
int audit_list(struct kctx *ctx, const struct audit_filter *f, const char *cursor, int limit,
               json_t **out);

/* ---------------------------------------------------------------- prune */

struct audit_pruned {
	int64_t removed;    /* entries removed */
	int64_t last_id;    /* the last removed entry, 0 when none */
	int64_t checkpoint; /* id of the checkpoint written, 0 when none */
};

/*
 * Removes the oldest entries, those before `before` (unix seconds; 0: now minus
 * usage_log_retention_days), as a prefix of the chain: the walk stops at the first newer
 * entry. Each removed entry is verified first; in the same transaction their usage_subjects
 * rows go, a signed checkpoint of the last removed entry is written and an "audit.prune"
 * entry appended. Nothing is removed when the prefix fails verification (KERR_CONFLICT).
 * KERR_REFUSED when `before` is 0 and the retention is 0 (kept for ever).
 */
int audit_prune(struct kctx *ctx, int64_t before, struct audit_pruned *out);

#endif
