/*
 * Usage-log entries (placeholder until the hash chain lands: plain inserts).
 */
#include "audit/usage.h"

#include "core/ctx.h"
#include "store/store.h"

int usage_append(struct kctx *ctx, const struct usage_entry *e)
{
	struct query *q = store_query(ctx->db, ST_USAGE_INSERT);
	q_text(q, 1, ctx->now_iso);
	q_text(q, 2, ctx->actor->name);
	q_text(q, 3, ctx->purpose);
	q_text(q, 4, e->action);
	q_text(q, 5, e->rid);
	q_text(q, 6, e->entity);
	if (e->entity_id > 0)
		q_int(q, 7, e->entity_id);
	q_text(q, 8, e->reason);
	return q_exec(q, ctx->err);
}

int usage_record(struct kctx *ctx, const char *action, const char *rid, const char *entity,
                 int64_t id, const char *reason)
{
	struct usage_entry e = {action, rid, entity, id, NULL, 0, reason};
	return usage_append(ctx, &e);
}

int usage_read(struct kctx *ctx, const struct usage_entry *e)
{
	if (ctx->usage_sink)
		return ctx->usage_sink(ctx, e);
	IN_WRITE_TX(ctx, usage_append(ctx, e));
}
