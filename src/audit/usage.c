/*
 * Usage-log writer. This first version records every change of personal data in the same
 * transaction as the change. Reads will be recorded through a group-committing log writer
 * together with accounts and the hash chain (access-control issue); the call sites in core/
 * are already in place for them.
 */
#include "audit/usage.h"

#include "core/ctx.h"
#include "store/store.h"

int usage_record(struct kctx *ctx, const char *action, const char *rid, const char *entity,
                 int64_t id, const char *reason)
{
	struct query *q = store_query(ctx->db, ST_USAGE_INSERT);
	q_text(q, 1, ctx->now_iso);
	q_text(q, 2, ctx->actor->name);
	q_text(q, 3, ctx->purpose);
	q_text(q, 4, action);
	q_text(q, 5, rid);
	q_text(q, 6, entity);
	if (id > 0)
		q_int(q, 7, id);
	q_text(q, 8, reason);
	return q_exec(q, ctx->err);
}
