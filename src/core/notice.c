/*
 * Notices from stored declaration versions. The current version comes parsed from the app's
 * snapshot; an older one is parsed again from the text stored when it was loaded, so a
 * notice of any date is reproduced from exactly what was then in force.
 */
#include "core/notice.h"

#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/ctx.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/kerr.h"

/* The current version of `rid` from the snapshot, or NULL. */
static const struct app_register *current(struct kctx *ctx, const char *rid)
{
	const struct registry *regs = app_registers(ctx->app);
	for (size_t i = 0; i < regs->n; i++)
		if (strcmp(regs->v[i].id, rid) == 0)
			return &regs->v[i];
	return NULL;
}

/*
 * Sets *loaded_at (arena) to when version `version` of `rid` took effect and, when `out` is
 * not NULL, parses its stored text into *out (free with decl_free).
 */
static int version_load(struct kctx *ctx, const char *rid, int version, const char *field,
                        struct decl **out, const char **loaded_at)
{
	struct query *q = store_query(ctx->db, ST_REG_VERSION_GET);
	struct decl_diags diags = {0};
	int rc;

	if (out)
		*out = NULL;
	q_text(q, 1, rid);
	q_int(q, 2, version);
	rc = q_step(q, ctx->err);
	if (rc == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, field, "register '%s' has no version %d",
		              rid, version);
	if (rc == 1) {
		const char *src = q_col_text(q, 0);
		*loaded_at = arena_strdup(ctx->mem, q_col_text(q, 1));
		rc = 0;
		if (out && decl_parse(rid, src ? src : "", src ? strlen(src) : 0, out, &diags) != 0)
			rc = kerr_set(ctx->err, KERR_INTERNAL, NULL,
			              "stored version %d of register '%s' no longer parses",
			              version, rid);
	}
	q_done(q);
	decl_diags_free(&diags);
	return rc < 0 ? rc : 0;
}

/* Every stored version of `rid`, newest first, into arena memory. */
static int history_load(struct kctx *ctx, const char *rid, struct notice_version **out, size_t *n)
{
	struct query *q = store_query(ctx->db, ST_REG_VERSIONS);
	size_t cap = 8;
	struct notice_version *v = arena_calloc(ctx->mem, cap, sizeof(*v));
	int rc;

	*n = 0;
	q_text(q, 1, rid);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (*n == cap) {
			struct notice_version *w = arena_calloc(ctx->mem, cap * 2, sizeof(*w));
			memcpy(w, v, cap * sizeof(*v));
			v = w;
			cap *= 2;
		}
		v[*n] = (struct notice_version){
		        .version = (int)q_col_int(q, 0),
		        .published = arena_strdup(ctx->mem, q_col_text(q, 1)),
		        .updated = arena_strdup(ctx->mem, q_col_text(q, 2)),
		        .loaded_at = arena_strdup(ctx->mem, q_col_text(q, 3)),
		};
		(*n)++;
	}
	q_done(q);
	/* The statement lists oldest first; the notice shows the newest first. */
	for (size_t i = 0; i < *n / 2; i++) {
		struct notice_version t = v[i];
		v[i] = v[*n - 1 - i];
		v[*n - 1 - i] = t;
	}
	*out = v;
	return rc < 0 ? rc : 0;
}

int notice_get(struct kctx *ctx, const struct notice_req *rq, struct buf *out)
{
	const struct app_register *cur = current(ctx, rq->rid);
	struct decl *own = NULL, *prev = NULL;
	const struct decl *d;
	const char *loaded_at = NULL, *prev_loaded = NULL;
	struct notice_version *hist = NULL;
	size_t nhist = 0;
	int rc = 0, version;

	if (rq->format != NF_HTML && rq->format != NF_MD && rq->format != NF_TXT)
		return kerr_set(ctx->err, KERR_INVALID, "format",
		                "a notice comes as html, md or txt");
	if (!cur)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rq->rid);
	version = rq->version > 0 ? rq->version : cur->version;
	if (version > cur->version)
		return kerr_set(ctx->err, KERR_NOTFOUND, "version",
		                "register '%s' has no version %d", rq->rid, version);
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	/* The current version is parsed already; an older one is parsed from its text. */
	if ((rc = version_load(ctx, rq->rid, version, "version",
	                       version == cur->version ? NULL : &own, &loaded_at)))
		goto out;
	d = own ? own : cur->decl;
	int since = rq->changes ? (rq->since > 0 ? rq->since : version - 1) : 0;
	if (rq->changes && since >= version) {
		rc = kerr_set(ctx->err, KERR_INVALID, "since",
		              "changes are listed since an older version than %d", version);
		goto out;
	}
	if (since > 0 && (rc = version_load(ctx, rq->rid, since, "since", &prev, &prev_loaded)))
		goto out;
	if (rq->history && (rc = history_load(ctx, rq->rid, &hist, &nhist)))
		goto out;
	struct notice_opts o = {
	        .lang = rq->lang,
	        .format = rq->format,
	        .version = version,
	        .in_force_from = loaded_at,
	        .history = hist,
	        .nhistory = nhist,
	        .previous = prev,
	        .previous_version = since,
	        .css_href = rq->css_href,
	        .self_href = rq->self_href,
	        .version_in_links = rq->version > 0,
	};
	notice_render(d, &o, out);
out:
	store_rollback(ctx->db); /* ends the read transaction */
	decl_free(own);
	decl_free(prev);
	return rc;
}

int notice_record(struct kctx *ctx, enum lang lang, enum notice_format format, struct buf *out)
{
	const struct registry *regs = app_registers(ctx->app);
	const struct decl **ds;

	if (format != NF_HTML && format != NF_MD && format != NF_CSV)
		return kerr_set(ctx->err, KERR_INVALID, "format",
		                "the record of processing comes as html, md or csv");
	ds = arena_calloc(ctx->mem, regs->n ? regs->n : 1, sizeof(*ds));
	for (size_t i = 0; i < regs->n; i++)
		ds[i] = regs->v[i].decl;
	record_render(ds, regs->n, lang, format, out);
	return 0;
}
