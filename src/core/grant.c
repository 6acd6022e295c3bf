/*
 * Roles per register and the confidentiality commitment (S-01, S-03, S-05, S-09). A user has
 * at most one active grant per register; a new one revokes the old, and revoked grants stay
 * as the record of who gave and who removed which right when. A processor grant is tied to a
 * processor the register declares, which limits the categories the account sees. The
 * commitment is versioned text; a user accepts the current version, and nothing else counts.
 */
#include "core/account.h"

#include <stdio.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/validate.h"

#define COMMITMENT_MAX_BYTES 65536

/* ---------------------------------------------------------------- grants */

int account_may_grant(struct kctx *ctx, const char *rid)
{
	struct principal p;
	int rc = account_actor(ctx, &p);
	if (rc)
		return rc;
	if (p.admin || auth_role(ctx, &p, rid, NULL) == ROLE_MANAGER)
		return 0;
	return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
	                "only an admin or a manager of register '%s' may change its grants", rid);
}

/* Revokes the active grant of `user_id` on `rid`, if any; *role gets its role name. */
static int revoke_active(struct kctx *ctx, int64_t user_id, const char *rid, const char **role)
{
	struct query *q = store_query(ctx->db, ST_GRANT_ACTIVE);
	int rc;
	*role = NULL;
	q_int(q, 1, user_id);
	q_text(q, 2, rid);
	if ((rc = q_step(q, ctx->err)) == 1)
		*role = arena_strdup(ctx->mem, q_col_text(q, 0));
	q_done(q);
	if (rc <= 0)
		return rc;
	q = store_query(ctx->db, ST_GRANT_REVOKE);
	q_int(q, 1, user_id);
	q_text(q, 2, rid);
	q_text(q, 3, ctx->now_iso);
	q_text(q, 4, ctx->actor->name);
	return q_exec(q, ctx->err);
}

struct grant_args {
	int64_t user_id;
	const char *rid;
	enum role role;
	const char *processor;
};

static int grant_tx(struct kctx *ctx, const struct grant_args *a)
{
	struct account_row u;
	const char *old;
	int rc;

	if ((rc = account_get(ctx, a->user_id, &u)))
		return rc;
	if (!u.active)
		return kerr_set(ctx->err, KERR_REFUSED, "user",
		                "user '%s' is deactivated and cannot be given a role", u.name);
	if ((rc = revoke_active(ctx, a->user_id, a->rid, &old)))
		return rc;
	struct query *q = store_query(ctx->db, ST_GRANT_INSERT);
	q_int(q, 1, a->user_id);
	q_text(q, 2, a->rid);
	q_text(q, 3, role_name(a->role));
	q_text(q, 4, a->processor);
	q_text(q, 5, ctx->now_iso);
	q_text(q, 6, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	/* A manager must have a second factor when configured so: sessions the user already has
	 * may from now on only enrol one (the restriction a sign-in would have set). */
	if (a->role == ROLE_MANAGER && ctx->app->cfg.totp_managers && !u.totp_confirmed) {
		q = store_query(ctx->db, ST_SESSION_RESTRICT_USER);
		q_int(q, 1, a->user_id);
		q_text(q, 2, "totp");
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	return usage_record(ctx, "grant", a->rid, "user", a->user_id, role_name(a->role));
}

int grant_add(struct kctx *ctx, int64_t user_id, const char *rid, enum role role,
              const char *processor)
{
	const struct decl *d;
	int rc;

	if (!rid || !(d = app_register(ctx->app, rid)))
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	if ((rc = account_may_grant(ctx, rid)))
		return rc;
	if (role <= ROLE_NONE || role >= ROLE__MAX)
		return kerr_set(ctx->err, KERR_INVALID, "role",
		                "role: one of viewer, editor, manager, processor");
	if (role == ROLE_PROCESSOR) {
		const struct decl_recipient *rc_ = processor ? decl_recipient(d, processor) : NULL;
		if (!processor)
			return kerr_set(ctx->err, KERR_INVALID, "processor",
			                "processor: a processor grant names one of the processors "
			                "register '%s' declares",
			                rid);
		if (!rc_ || rc_->kind != RK_PROCESSOR)
			return kerr_set(
			        ctx->err, KERR_REFUSED, "processor",
			        "processor: '%s' is not a processor declared by register '%s'",
			        processor, rid);
		processor = rc_->id;
	} else if (processor) {
		return kerr_set(ctx->err, KERR_INVALID, "processor",
		                "processor: only a processor grant names a processor");
	}
	struct grant_args a = {user_id, rid, role, processor};
	IN_WRITE_TX(ctx, grant_tx(ctx, &a));
}

static int revoke_tx(struct kctx *ctx, int64_t user_id, const char *rid)
{
	const char *old;
	int rc = revoke_active(ctx, user_id, rid, &old);
	if (rc)
		return rc;
	if (!old)
		return kerr_set(ctx->err, KERR_NOTFOUND, "user",
		                "user %lld has no role on register '%s'", (long long)user_id, rid);
	return usage_record(ctx, "revoke", rid, "user", user_id, old);
}

int grant_revoke(struct kctx *ctx, int64_t user_id, const char *rid)
{
	int rc;
	if (!rid)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register not given");
	if ((rc = account_may_grant(ctx, rid)))
		return rc;
	IN_WRITE_TX(ctx, revoke_tx(ctx, user_id, rid));
}

int grant_list(struct kctx *ctx, const char *rid, bool history, json_t **out)
{
	int rc = rid ? account_may_grant(ctx, rid) : account_require_admin(ctx);
	if (rc)
		return rc;
	json_t *list = json_array();
	struct query *q = store_query(ctx->db, rid ? ST_GRANT_LIST_REGISTER : ST_GRANT_LIST_ALL);
	if (rid) {
		q_text(q, 1, rid);
		q_int(q, 2, history);
	} else {
		q_int(q, 1, history);
	}
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(list,
		                      json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s, s:s, s:s?, s:s?}",
		                                "user_id", (json_int_t)q_col_int(q, 0), "user",
		                                q_col_text(q, 1), "register", q_col_text(q, 2),
		                                "role", q_col_text(q, 3), "processor",
		                                q_col_text(q, 4), "granted_at", q_col_text(q, 5),
		                                "granted_by", q_col_text(q, 6), "revoked_at",
		                                q_col_text(q, 7), "revoked_by", q_col_text(q, 8)));
	q_done(q);
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

/* ---------------------------------------------------------------- the commitment (S-05) */

static const char default_commitment[] =
        "Vaitiolositoumus\n"
        "\n"
        "Sitoudun pitämään salassa henkilötiedot ja muut salassa pidettävät tiedot, jotka saan "
        "tietooni tässä järjestelmässä tai työtehtävissäni. Käsittelen henkilötietoja vain "
        "siinä laajuudessa kuin työtehtäväni edellyttävät ja rekisterinpitäjän ohjeiden "
        "mukaisesti. En luovuta tietoja sivullisille enkä käytä niitä omaksi tai toisen "
        "hyödyksi tai toisen vahingoksi. Vaitiolovelvollisuus jatkuu myös palvelussuhteen tai "
        "toimeksiannon päätyttyä. Tiedän, että järjestelmän käyttö kirjataan lokiin ja että "
        "salassapitovelvollisuuden rikkominen voi johtaa rangaistukseen (laki viranomaisten "
        "toiminnan julkisuudesta 621/1999 22–23 §, rikoslaki 38 luku 1–2 § ja 40 luku 5 §) "
        "sekä vahingonkorvausvelvollisuuteen (EU:n yleinen tietosuoja-asetus 82 artikla).\n"
        "\n"
        "Confidentiality commitment\n"
        "\n"
        "I undertake to keep confidential the personal data and other confidential information "
        "I learn in this system or in my duties. I process personal data only to the extent my "
        "duties require and according to the controller's instructions. I do not disclose it to "
        "outsiders, nor use it to my own or another's benefit or to another's harm. This duty "
        "continues after my employment or assignment ends. I know that the use of this system "
        "is logged and that a breach of confidentiality may be punishable (Act on the Openness "
        "of Government Activities 621/1999 sections 22–23, Criminal Code chapter 38 sections "
        "1–2 and chapter 40 section 5) and may make me liable for damages (General Data "
        "Protection Regulation, Article 82).\n";

/* The current version (0 when none) and, when `text` is not NULL, its text in ctx->mem. */
static int current(struct kctx *ctx, int *version, const char **text)
{
	struct query *q = store_query(ctx->db, ST_COMMITMENT_CURRENT);
	int rc;
	*version = 0;
	if (text)
		*text = NULL;
	if ((rc = q_step(q, ctx->err)) == 1) {
		*version = (int)q_col_int(q, 0);
		if (text)
			*text = arena_strdup(ctx->mem, q_col_text(q, 1));
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

int commitment_current(struct kctx *ctx, int *version, const char **text)
{
	return current(ctx, version, text);
}

static int set_tx(struct kctx *ctx, const char *text, int *version, bool only_if_none)
{
	char sha[65];
	int last, rc;

	if ((rc = current(ctx, &last, NULL)))
		return rc;
	if (only_if_none && last) {
		*version = last;
		return 0;
	}
	*version = last + 1;
	sha256_hex(text, strlen(text), sha);
	struct query *q = store_query(ctx->db, ST_COMMITMENT_INSERT);
	q_int(q, 1, *version);
	q_text(q, 2, text);
	q_text(q, 3, sha);
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return usage_record(ctx, "commitment.set", NULL, "commitment", *version, NULL);
}

static int set_checked(struct kctx *ctx, const char *text, int *version, bool only_if_none)
{
	int tmp, rc;
	size_t n = text ? strlen(text) : 0;
	if (!version)
		version = &tmp;
	if ((rc = account_require_admin(ctx)))
		return rc;
	bool blank = true;
	for (size_t i = 0; i < n && blank; i++)
		blank = text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r';
	if (blank)
		return kerr_set(ctx->err, KERR_INVALID, "text", "text: the commitment is empty");
	if (n > COMMITMENT_MAX_BYTES || !utf8_valid(text, n))
		return kerr_set(ctx->err, KERR_INVALID, "text",
		                "text: at most %d bytes of UTF-8 text", COMMITMENT_MAX_BYTES);
	IN_WRITE_TX(ctx, set_tx(ctx, text, version, only_if_none));
}

int commitment_set(struct kctx *ctx, const char *text, int *version)
{
	return set_checked(ctx, text, version, false);
}

int commitment_ensure_default(struct kctx *ctx)
{
	return set_checked(ctx, default_commitment, NULL, true);
}

static int accept_tx(struct kctx *ctx, int64_t user_id, int version)
{
	int cur, rc;
	if ((rc = current(ctx, &cur, NULL)))
		return rc;
	if (!cur)
		return kerr_set(ctx->err, KERR_NOTFOUND, "version",
		                "there is no confidentiality commitment to accept");
	if (version != cur)
		return kerr_set(ctx->err, KERR_CONFLICT, "version",
		                "version: %d is not the current commitment; read and accept "
		                "version %d",
		                version, cur);
	struct query *q = store_query(ctx->db, ST_COMMITMENT_ACCEPT);
	q_int(q, 1, user_id);
	q_int(q, 2, version);
	q_text(q, 3, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	if (store_changes(ctx->db) == 0)
		return 0; /* accepted before */
	return usage_record(ctx, "commitment.accept", NULL, "user", user_id,
	                    arena_printf(ctx->mem, "v%d", version));
}

int commitment_accept(struct kctx *ctx, int64_t user_id, int version)
{
	struct principal p;
	int rc;
	if (ctx->actor->kind != ACTOR_USER || ctx->actor->user_id != user_id)
		return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
		                "only the user, signed in, may accept the commitment");
	if ((rc = account_actor(ctx, &p)))
		return rc;
	IN_WRITE_TX(ctx, accept_tx(ctx, user_id, version));
}

int commitment_list(struct kctx *ctx, json_t **out)
{
	int rc = account_require_admin(ctx);
	if (rc)
		return rc;
	json_t *list = json_array();
	struct query *q = store_query(ctx->db, ST_COMMITMENT_LIST);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(
		        list, json_pack("{s:s, s:I, s:i, s:s}", "user", q_col_text(q, 0), "user_id",
		                        (json_int_t)q_col_int(q, 1), "version",
		                        (int)q_col_int(q, 2), "accepted_at", q_col_text(q, 3)));
	q_done(q);
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}
