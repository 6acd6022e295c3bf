/*
 * The public company directory (see directory.h). The one design decision to know: the
 * directory is built from organisation columns and the company's own listing row, and
 * reaches persons only through the affiliation ids a company published (directory_contacts),
 * when its register's declaration allows contact persons; their name and title are read at
 * the moment of showing, under the same conditions as publishing (a current affiliation, an
 * active person), so nothing about a person outlives the company's or the person's state.
 * The search statement picks the contact channels the listing allows in SQL.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/account.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/directory.h"
#include "core/selfservice.h"
#include "decl/notice_text.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/kerr.h"
#include "util/validate.h"

/* The editable keys of a listing, in the order of the table's columns. */
enum dkey {
	DK_LISTED,
	DK_DESCRIPTION,
	DK_FIELD,
	DK_MUNICIPALITY,
	DK_SHOW_WEBSITE,
	DK_SHOW_ADDRESS,
	DK_PUBLIC_EMAIL,
	DK_PUBLIC_PHONE,
	DK_CONTACT_EMAIL,
	DK__MAX
};

static const struct {
	const char *name;
	bool flag;    /* a boolean */
	size_t max;   /* text: largest length in bytes */
	bool staff;   /* only staff may change it */
	bool nonnull; /* stored as '' rather than NULL */
} dkeys[DK__MAX] = {
        [DK_LISTED] = {"listed", true, 0, false, true},
        [DK_DESCRIPTION] = {"description", false, 1000, false, true},
        [DK_FIELD] = {"field_of_business", false, 100, false, true},
        [DK_MUNICIPALITY] = {"municipality", false, 100, false, true},
        [DK_SHOW_WEBSITE] = {"show_website", true, 0, false, true},
        [DK_SHOW_ADDRESS] = {"show_address", true, 0, false, true},
        [DK_PUBLIC_EMAIL] = {"public_email", false, 254, false, false},
        [DK_PUBLIC_PHONE] = {"public_phone", false, 16, false, false},
        [DK_CONTACT_EMAIL] = {"contact_email", false, 254, true, false},
};

/* One listing as stored: texts in ctx->mem (NULL for SQL NULL), flags as "0"/"1". */
struct listing {
	const char *v[DK__MAX];
	const char *updated_at, *updated_by;
};

/* ---------------------------------------------------------------- who may */

/* The register's declaration, when it publishes to the directory. */
static const struct decl *directory_register(struct kctx *ctx, const char *rid)
{
	const struct decl *d = rid ? app_register(ctx->app, rid) : NULL;
	if (!d) {
		kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		         rid && ident_valid(rid, NULL) ? rid : "?");
		return NULL;
	}
	if (!decl_recipient(d, DIRECTORY_RECIPIENT)) {
		kerr_set(ctx->err, KERR_REFUSED, "register",
		         "register '%s' does not declare the company directory (a recipient '%s')",
		         rid, DIRECTORY_RECIPIENT);
		return NULL;
	}
	return d;
}

/* Whether the declaration lets the directory show the contact persons a company publishes. */
static bool contacts_allowed(const struct decl *d)
{
	const struct decl_recipient *r = d ? decl_recipient(d, DIRECTORY_RECIPIENT) : NULL;
	return r && r->contact_persons;
}

/* Today as YYYY-MM-DD (ctx->mem): an affiliation ending today is no longer current. */
static const char *today(struct kctx *ctx)
{
	return arena_printf(ctx->mem, "%.10s", ctx->now_iso);
}

/* Staff may manage listings: the operator, or an editor or manager of `rid`. Read here from
 * the grants, whatever the caller checked, as core/ is the one door. */
static int may_manage(struct kctx *ctx, const char *rid)
{
	struct principal p;
	int rc;
	if (ctx->actor && ctx->actor->kind == ACTOR_OPERATOR)
		return 0;
	if (!ctx->actor || ctx->processor ||
	    (ctx->actor->kind != ACTOR_USER && ctx->actor->kind != ACTOR_TOKEN))
		goto forbidden;
	if ((rc = account_actor(ctx, &p)) == KERR_FORBIDDEN)
		goto forbidden;
	if (rc)
		return rc;
	if (auth_role(ctx, &p, rid, NULL) >= ROLE_EDITOR)
		return 0;
forbidden:
	kerr_clear(ctx->err);
	return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
	                "only an editor or manager of register '%s' may manage its directory "
	                "listings",
	                rid);
}

/* ---------------------------------------------------------------- reading */

static const char *col(struct kctx *ctx, struct query *q, int i)
{
	const char *s = q_col_text(q, i);
	return s ? arena_strdup(ctx->mem, s) : NULL;
}

/* Reads the listing of `org_id` (defaults when there is none) and the organisation's name
 * into *name; KERR_NOTFOUND when the register has no such organisation. */
static int load(struct kctx *ctx, const char *rid, int64_t org_id, struct listing *l,
                const char **name)
{
	int rc;
	memset(l, 0, sizeof(*l));
	struct query *q = store_query(ctx->db, ST_ORG_GET);
	q_text(q, 1, rid);
	q_int(q, 2, org_id);
	rc = q_step(q, ctx->err);
	if (rc == 1)
		*name = col(ctx, q, 1);
	q_done(q);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "organisation",
		                "organisation %" PRId64 " not found in register '%s'", org_id, rid);
	if (rc < 0)
		return rc;
	q = store_query(ctx->db, ST_DIR_GET);
	q_text(q, 1, rid);
	q_int(q, 2, org_id);
	rc = q_step(q, ctx->err);
	if (rc == 1) {
		for (int k = 0; k < DK__MAX; k++)
			l->v[k] = dkeys[k].flag ? (q_col_int(q, k) ? "1" : "0") : col(ctx, q, k);
		l->updated_at = col(ctx, q, DK__MAX);
		l->updated_by = col(ctx, q, DK__MAX + 1);
	} else {
		for (int k = 0; k < DK__MAX; k++)
			l->v[k] = dkeys[k].flag ? "0" : dkeys[k].nonnull ? "" : NULL;
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

static json_t *listing_json(const char *rid, int64_t org_id, const char *name,
                            const struct listing *l, bool staff)
{
	json_t *o = json_pack("{s:s, s:{s:I, s:s}}", "register", rid, "organisation", "id",
	                      (json_int_t)org_id, "name", name ? name : "");
	for (int k = 0; k < DK__MAX; k++) {
		if (k == DK_CONTACT_EMAIL && !staff)
			continue;
		json_object_set_new(o, dkeys[k].name,
		                    dkeys[k].flag ? json_boolean(l->v[k][0] == '1')
		                    : l->v[k]     ? json_string(l->v[k])
		                                  : json_null());
	}
	json_object_set_new(o, "updated_at",
	                    l->updated_at ? json_string(l->updated_at) : json_null());
	json_object_set_new(o, "updated_by",
	                    l->updated_by ? json_string(l->updated_by) : json_null());
	return o;
}

/* "First Last" (ctx->mem); either may be NULL or empty. */
static const char *full_name(struct kctx *ctx, const char *first, const char *last)
{
	first = first ? first : "";
	last = last ? last : "";
	return arena_printf(ctx->mem, "%s%s%s", first, *first && *last ? " " : "", last);
}

/* The current affiliations of the organisation's active persons as {affiliation_id,
 * person_id, name, title, published} into *out; their person ids into *pids (ctx->mem). */
static int load_contacts(struct kctx *ctx, const char *rid, int64_t org_id, json_t **out,
                         int64_t **pids, size_t *n)
{
	json_t *list = json_array();
	size_t cap = 0;
	int rc;
	*pids = NULL;
	*n = 0;
	struct query *q = store_query(ctx->db, ST_DIR_CONTACTS_CURRENT);
	q_text(q, 1, rid);
	q_int(q, 2, org_id);
	q_text(q, 3, today(ctx));
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (*n == 500)
			break; /* more than anyone chooses from; the first by name */
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			int64_t *v = arena_alloc(ctx->mem, ncap * sizeof(*v));
			if (*n)
				memcpy(v, *pids, *n * sizeof(*v));
			*pids = v;
			cap = ncap;
		}
		(*pids)[(*n)++] = q_col_int(q, 1);
		const char *first = q_col_text(q, 2), *last = q_col_text(q, 3);
		json_array_append_new(list, json_pack("{s:I, s:I, s:s, s:s?, s:b}",
		                                      "affiliation_id", (json_int_t)q_col_int(q, 0),
		                                      "person_id", (json_int_t)q_col_int(q, 1),
		                                      "name", full_name(ctx, first, last), "title",
		                                      q_col_text(q, 4), "published",
		                                      (int)q_col_int(q, 5)));
	}
	q_done(q);
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

static int get_as(struct kctx *ctx, const char *rid, int64_t org_id, bool staff, json_t **out)
{
	struct listing l;
	const char *name = NULL;
	json_t *contacts = NULL;
	int64_t *pids = NULL;
	size_t n = 0;
	int rc;
	*out = NULL;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	rc = load(ctx, rid, org_id, &l, &name);
	if (!rc && contacts_allowed(app_register(ctx->app, rid)))
		rc = load_contacts(ctx, rid, org_id, &contacts, &pids, &n);
	store_rollback(ctx->db);
	/* The choice shows persons: a read of them, logged before it leaves. */
	if (!rc && n)
		rc = usage_read(ctx, &(struct usage_entry){.action = "read",
		                                           .rid = rid,
		                                           .entity = "organisation",
		                                           .entity_id = org_id,
		                                           .subjects = pids,
		                                           .nsubjects = n,
		                                           .reason = "directory"});
	if (rc) {
		json_decref(contacts);
		return rc;
	}
	*out = listing_json(rid, org_id, name, &l, staff);
	if (contacts)
		json_object_set_new(*out, "contacts", contacts);
	return 0;
}

int directory_get(struct kctx *ctx, const char *rid, int64_t org_id, json_t **out)
{
	int rc;
	*out = NULL;
	if (!directory_register(ctx, rid))
		return ctx->err->code;
	if ((rc = may_manage(ctx, rid)))
		return rc;
	return get_as(ctx, rid, org_id, true, out);
}

/* ---------------------------------------------------------------- changing */

/* Checks and normalises patch value `v` of key `k` into *out (NULL: removed). */
static int patch_value(struct kctx *ctx, int k, json_t *v, const char **out)
{
	const char *name = dkeys[k].name;
	*out = NULL;
	if (dkeys[k].flag) {
		if (!json_is_boolean(v))
			return kerr_set(ctx->err, KERR_INVALID, name, "%s: true or false", name);
		*out = json_is_true(v) ? "1" : "0";
		return 0;
	}
	if (json_is_null(v)) {
		*out = dkeys[k].nonnull ? "" : NULL;
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s || strlen(s) > dkeys[k].max || !utf8_valid(s, strlen(s)))
		return kerr_set(ctx->err, KERR_INVALID, name, "%s: text of at most %zu bytes", name,
		                dkeys[k].max);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 && !(k == DK_DESCRIPTION && *p == '\n'))
			return kerr_set(ctx->err, KERR_INVALID, name, "%s: no control characters",
			                name);
	if (!*s && !dkeys[k].nonnull)
		return 0;
	if (k == DK_PUBLIC_EMAIL || k == DK_CONTACT_EMAIL) {
		char norm[256];
		if (!email_valid(s, norm, sizeof(norm), NULL))
			return kerr_set(ctx->err, KERR_INVALID, name, "%s: not an e-mail address",
			                name);
		*out = arena_strdup(ctx->mem, norm);
		return 0;
	}
	if (k == DK_PUBLIC_PHONE) {
		char norm[17];
		if (!phone_valid(s, norm, NULL))
			return kerr_set(ctx->err, KERR_INVALID, name, "%s: not a phone number",
			                name);
		*out = arena_strdup(ctx->mem, norm);
		return 0;
	}
	*out = arena_strdup(ctx->mem, s);
	return 0;
}

/* The ids of `ids` as "1,2,3" in ascending order (ctx->mem), NULL for none: the change
 * history keeps ids only, never names. */
static const char *ids_text(struct kctx *ctx, const int64_t *ids, size_t n)
{
	if (!n)
		return NULL;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		buf_appendf(&b, "%s%" PRId64, i ? "," : "", ids[i]);
	const char *t = arena_strdup(ctx->mem, buf_str(&b));
	buf_free(&b);
	return t;
}

static bool has_id(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

#define CONTACTS_MAX 100

/*
 * Replaces the published contact persons of the listing by `v`, an array of affiliation
 * ids, inside the caller's transaction; *changed tells whether the set differs. The change
 * is written to the history (ids only) and the usage log, naming the persons added and
 * removed as its subjects.
 */
static int set_contacts(struct kctx *ctx, const char *rid, int64_t org_id, json_t *v, bool *changed)
{
	int64_t nids[CONTACTS_MAX], npids[CONTACTS_MAX];
	size_t nn = 0, on = 0, ocap = 0;
	int64_t *oids = NULL, *opids = NULL;
	const char *day = today(ctx);
	int rc;

	*changed = false;
	if (!contacts_allowed(app_register(ctx->app, rid)))
		return kerr_set(ctx->err, KERR_REFUSED, "contacts",
		                "contacts: the declaration of register '%s' does not allow "
		                "contact persons in the company directory (contact_persons on the "
		                "recipient '%s')",
		                rid, DIRECTORY_RECIPIENT);
	if (!json_is_array(v) || json_array_size(v) > CONTACTS_MAX)
		return kerr_set(ctx->err, KERR_INVALID, "contacts",
		                "contacts: a list of at most %d affiliation ids", CONTACTS_MAX);
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *e = json_array_get(v, i);
		const char *field = arena_printf(ctx->mem, "contacts[%zu]", i);
		json_int_t id = json_is_integer(e) ? json_integer_value(e) : 0;
		if (id <= 0)
			return kerr_set(ctx->err, KERR_INVALID, field, "%s: not an affiliation id",
			                field);
		if (has_id(nids, nn, id))
			return kerr_set(ctx->err, KERR_INVALID, field,
			                "%s: affiliation %" JSON_INTEGER_FORMAT " is listed twice",
			                field, id);
		struct query *q = store_query(ctx->db, ST_DIR_CONTACT_CHECK);
		q_text(q, 1, rid);
		q_int(q, 2, org_id);
		q_text(q, 3, day);
		q_int(q, 4, id);
		rc = q_step(q, ctx->err);
		if (rc == 1)
			npids[nn] = q_col_int(q, 0);
		q_done(q);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return kerr_set(ctx->err, KERR_INVALID, field,
			                "%s: affiliation %" JSON_INTEGER_FORMAT
			                " is not a current affiliation of an active person of "
			                "organisation %" PRId64,
			                field, id, org_id);
		nids[nn++] = id;
	}
	struct query *q = store_query(ctx->db, ST_DIR_CONTACTS_PUBLISHED);
	q_text(q, 1, rid);
	q_int(q, 2, org_id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (on == ocap) {
			size_t ncap = ocap ? ocap * 2 : 8;
			int64_t *a = arena_alloc(ctx->mem, ncap * sizeof(*a));
			int64_t *b = arena_alloc(ctx->mem, ncap * sizeof(*b));
			if (on) {
				memcpy(a, oids, on * sizeof(*a));
				memcpy(b, opids, on * sizeof(*b));
			}
			oids = a;
			opids = b;
			ocap = ncap;
		}
		oids[on] = q_col_int(q, 0);
		opids[on++] = q_col_int(q, 1);
	}
	q_done(q);
	if (rc < 0)
		return rc;

	/* The persons whose publication changes are the log entry's subjects. */
	int64_t *subjects = arena_alloc(ctx->mem, (nn + on + 1) * sizeof(*subjects));
	size_t ns = 0;
	for (size_t i = 0; i < on; i++) {
		if (has_id(nids, nn, oids[i]))
			continue;
		q = store_query(ctx->db, ST_DIR_CONTACT_UNPUBLISH);
		q_text(q, 1, rid);
		q_int(q, 2, org_id);
		q_int(q, 3, oids[i]);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		if (!has_id(subjects, ns, opids[i]))
			subjects[ns++] = opids[i];
	}
	for (size_t i = 0; i < nn; i++) {
		if (has_id(oids, on, nids[i]))
			continue;
		q = store_query(ctx->db, ST_DIR_CONTACT_PUBLISH);
		q_text(q, 1, rid);
		q_int(q, 2, org_id);
		q_int(q, 3, nids[i]);
		q_text(q, 4, ctx->now_iso);
		q_text(q, 5, ctx->actor->name);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		if (!has_id(subjects, ns, npids[i]))
			subjects[ns++] = npids[i];
	}
	if (!ns)
		return 0;
	*changed = true;
	qsort(nids, nn, sizeof(nids[0]), usage_id_cmp);
	q = store_query(ctx->db, ST_HISTORY_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, "organisation");
	q_int(q, 3, org_id);
	q_text(q, 4, "directory.contacts");
	q_text(q, 5, ids_text(ctx, oids, on));
	q_text(q, 6, ids_text(ctx, nids, nn));
	q_text(q, 7, ctx->actor->name);
	q_text(q, 8, "directory");
	q_text(q, 9, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return usage_append(ctx, &(struct usage_entry){.action = "update",
	                                               .rid = rid,
	                                               .entity = "organisation",
	                                               .entity_id = org_id,
	                                               .subjects = subjects,
	                                               .nsubjects = ns,
	                                               .reason = "directory"});
}

static int set_tx(struct kctx *ctx, const char *rid, int64_t org_id, json_t *patch, bool staff)
{
	struct listing l;
	const char *name = NULL, *key;
	json_t *v;
	bool changed = false, logged = false, other = false;
	int rc;

	if ((rc = load(ctx, rid, org_id, &l, &name)))
		return rc;
	json_object_foreach (patch, key, v) {
		if (strcmp(key, "contacts") == 0) {
			bool did = false;
			if ((rc = set_contacts(ctx, rid, org_id, v, &did)))
				return rc;
			changed |= did;
			logged |= did; /* set_contacts logged it, naming the persons */
			continue;
		}
		int k = 0;
		while (k < DK__MAX && strcmp(dkeys[k].name, key) != 0)
			k++;
		if (k == DK__MAX)
			return kerr_set(ctx->err, KERR_INVALID, ident_valid(key, NULL) ? key : NULL,
			                "%s: not a key of a directory listing",
			                ident_valid(key, NULL) ? key : "a key");
		if (dkeys[k].staff && !staff)
			return kerr_set(ctx->err, KERR_FORBIDDEN, key,
			                "%s: only the register's staff may change it", key);
		const char *nv;
		if ((rc = patch_value(ctx, k, v, &nv)))
			return rc;
		const char *ov = l.v[k];
		if ((!ov && !nv) || (ov && nv && strcmp(ov, nv) == 0))
			continue;
		changed = other = true;
		struct query *q = store_query(ctx->db, ST_HISTORY_INSERT);
		q_text(q, 1, rid);
		q_text(q, 2, "organisation");
		q_int(q, 3, org_id);
		q_text(q, 4, arena_printf(ctx->mem, "directory.%s", key));
		q_text(q, 5, ov);
		q_text(q, 6, nv);
		q_text(q, 7, ctx->actor->name);
		q_text(q, 8, "directory");
		q_text(q, 9, ctx->now_iso);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		l.v[k] = nv;
	}
	if (!changed)
		return 0;
	struct query *q = store_query(ctx->db, ST_DIR_PUT);
	q_text(q, 1, rid);
	q_int(q, 2, org_id);
	for (int k = 0; k < DK__MAX; k++) {
		if (dkeys[k].flag)
			q_int(q, 3 + k, l.v[k][0] == '1');
		else
			q_text(q, 3 + k, l.v[k]);
	}
	q_text(q, 3 + DK__MAX, ctx->now_iso);
	q_text(q, 4 + DK__MAX, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	if (logged && !other)
		return 0;
	return usage_record(ctx, "update", rid, "organisation", org_id, "directory");
}

static int set_as(struct kctx *ctx, const char *rid, int64_t org_id, json_t *patch, bool staff)
{
	if (!json_is_object(patch))
		return kerr_set(ctx->err, KERR_INVALID, NULL,
		                "the listing's changes are an object");
	IN_WRITE_TX(ctx, set_tx(ctx, rid, org_id, patch, staff));
}

int directory_set(struct kctx *ctx, const char *rid, int64_t org_id, json_t *patch)
{
	int rc;
	if (!directory_register(ctx, rid))
		return ctx->err->code;
	if ((rc = may_manage(ctx, rid)))
		return rc;
	return set_as(ctx, rid, org_id, patch, true);
}

/* ---------------------------------------------------------------- the public directory */

/* A LIKE pattern "%s%" for `s` with % _ and \ escaped; NULL for NULL or "". */
static const char *like(struct kctx *ctx, const char *s)
{
	if (!s || !*s)
		return NULL;
	char *p = arena_alloc(ctx->mem, strlen(s) * 2 + 3), *o = p;
	*o++ = '%';
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

static void set_text(json_t *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_set_new(o, key, json_string(v));
}

/* The contact persons the company published that may be shown now, as `contacts`
 * [{name, title}] of item `o` (absent when none); 0 or KERR_*. */
static int shown_contacts(struct kctx *ctx, const char *rid, int64_t org_id, const char *day,
                          json_t *o)
{
	json_t *list = json_array();
	int rc;
	struct query *q = store_query(ctx->db, ST_DIR_CONTACTS_SHOWN);
	q_text(q, 1, rid);
	q_int(q, 2, org_id);
	q_text(q, 3, day);
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *first = q_col_text(q, 0), *last = q_col_text(q, 1);
		if (!(first && *first) && !(last && *last))
			continue; /* an anonymised person has no name to show */
		json_t *c = json_pack("{s:s}", "name", full_name(ctx, first, last));
		set_text(c, "title", q_col_text(q, 2));
		json_array_append_new(list, c);
	}
	q_done(q);
	if (rc < 0 || !json_array_size(list)) {
		json_decref(list);
		return rc < 0 ? rc : 0;
	}
	json_object_set_new(o, "contacts", list);
	return 0;
}

int directory_search(struct kctx *ctx, const char *name, const char *field,
                     const char *municipality, json_t **out)
{
	const char *args[3] = {name, field, municipality};
	const char *day = today(ctx);
	json_t *items = json_array();
	bool truncated = false;
	int rc;

	*out = NULL;
	for (int i = 0; i < 3; i++)
		if (args[i] && (strlen(args[i]) > 100 || !utf8_valid(args[i], strlen(args[i])))) {
			json_decref(items);
			return kerr_set(ctx->err, KERR_INVALID,
			                i == 0   ? "q"
			                : i == 1 ? "field"
			                         : "municipality",
			                "%s: text of at most 100 bytes",
			                i == 0   ? "q"
			                : i == 1 ? "field"
			                         : "municipality");
		}
	if ((rc = store_begin_read(ctx->db, ctx->err))) {
		json_decref(items);
		return rc;
	}
	struct query *q = store_query(ctx->db, ST_DIR_SEARCH);
	for (int i = 0; i < 3; i++) {
		const char *p = like(ctx, args[i]);
		if (p)
			q_text(q, i + 1, p);
		else
			q_null(q, i + 1);
	}
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (json_array_size(items) == 200) {
			truncated = true;
			break;
		}
		/* only listed registers that still publish to the directory */
		const struct decl *d = app_register(ctx->app, q_col_text(q, 0));
		if (!d || !decl_recipient(d, DIRECTORY_RECIPIENT))
			continue;
		json_t *o = json_pack("{s:s, s:I, s:s}", "register", q_col_text(q, 0), "id",
		                      (json_int_t)q_col_int(q, 1), "name", q_col_text(q, 2));
		set_text(o, "ytunnus", q_col_text(q, 3));
		json_object_set_new(o, "description", json_string(q_col_text(q, 4)));
		json_object_set_new(o, "field_of_business", json_string(q_col_text(q, 5)));
		json_object_set_new(o, "municipality", json_string(q_col_text(q, 6)));
		set_text(o, "website", q_col_text(q, 7));
		if (q_col_text(q, 8) || q_col_text(q, 9) || q_col_text(q, 10)) {
			json_t *a = json_object();
			set_text(a, "street", q_col_text(q, 8));
			set_text(a, "postal_code", q_col_text(q, 9));
			set_text(a, "city", q_col_text(q, 10));
			json_object_set_new(o, "address", a);
		}
		set_text(o, "email", q_col_text(q, 11));
		set_text(o, "phone", q_col_text(q, 12));
		if (contacts_allowed(d) &&
		    (rc = shown_contacts(ctx, q_col_text(q, 0), q_col_int(q, 1), day, o)) < 0) {
			json_decref(o);
			break;
		}
		json_array_append_new(items, o);
	}
	q_done(q);
	store_rollback(ctx->db);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o, s:b}", "items", items, "truncated", truncated);
	return 0;
}

/* ---------------------------------------------------------------- the company's links */

static const char *const mail_subject[LANG__MAX] = {
        "Linkki yrityshakemiston tietoihinne",
        "Länk till era uppgifter i företagskatalogen",
        "A link to your listing in the company directory",
};
static const char *const mail_intro[LANG__MAX] = {
        "Pyysitte linkkiä yrityksenne tietojen muokkaamiseen yrityshakemistossa (%s). Avatkaa "
        "linkki 15 minuutin kuluessa; se toimii vain kerran:",
        "Ni bad om en länk för att ändra ert företags uppgifter i företagskatalogen (%s). "
        "Öppna länken inom 15 minuter; den fungerar bara en gång:",
        "You asked for a link to edit your company's listing in the company directory (%s). "
        "Open it within 15 minutes; it works once:",
};
static const char *const mail_ignore[LANG__MAX] = {
        "Jos ette pyytäneet linkkiä, voitte jättää tämän viestin huomiotta.",
        "Om ni inte bad om länken kan ni lämna meddelandet utan åtgärd.",
        "If you did not ask for it, you can ignore this message.",
};

struct log_arg {
	const char *rid;
	int64_t org_id;
	const char *action, *reason;
};

static int log_org(struct kctx *ctx, void *arg)
{
	const struct log_arg *a = arg;
	const struct actor *caller = ctx->actor;
	ctx->actor = &selfservice_actor;
	int rc = usage_record(ctx, a->action, a->rid, "organisation", a->org_id, a->reason);
	ctx->actor = caller;
	return rc;
}

int directory_begin(struct kctx *ctx, const char *email, const char *client, enum lang lang,
                    int64_t *retry_after)
{
	const struct config *cfg = &ctx->app->cfg;
	char norm[256], token[SELFSERVICE_TOKEN_LEN + 1];
	struct {
		const char *rid;
		int64_t id;
	} found[20];
	size_t n = 0;
	int rc;

	*retry_after = 0;
	if (!cfg->public_url[0])
		return kerr_set(ctx->err, KERR_BUSY, "public_url",
		                "self-service is not configured (public_url in kortisto.conf)");
	if (!cfg->mail.url[0] || !cfg->mail.from[0])
		return kerr_set(ctx->err, KERR_BUSY, "smtp_url",
		                "mail is not configured (smtp_url and mail_from in kortisto.conf)");
	if (!email || !email_valid(email, norm, sizeof(norm), NULL))
		return kerr_set(ctx->err, KERR_INVALID, "email", "email: not an e-mail address");
	if ((rc = selfservice_throttle(ctx, norm, client, retry_after)))
		return rc;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_DIR_BY_CONTACT);
	q_text(q, 1, norm);
	while (n < 20 && (rc = q_step(q, ctx->err)) == 1) {
		found[n].rid = col(ctx, q, 0);
		found[n].id = q_col_int(q, 1);
		n++;
	}
	q_done(q);
	store_rollback(ctx->db);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const struct decl *d = app_register(ctx->app, found[i].rid);
		if (!d || !decl_recipient(d, DIRECTORY_RECIPIENT))
			continue;
		json_t *subj = json_pack("{s:s, s:I}", "register", found[i].rid, "organisation",
		                         (json_int_t)found[i].id);
		char *text = json_dumps(subj, JSON_COMPACT);
		json_decref(subj);
		struct log_arg la = {found[i].rid, found[i].id, "selfservice_link", "directory"};
		rc = selfservice_token_issue(ctx, "org_link", text, SELFSERVICE_LINK_SECONDS,
		                             log_org, &la, token);
		free(text);
		if (rc)
			break;
		const char *url = arena_printf(ctx->mem, "%s/p/directory/edit/link?t=%s&lang=%s",
		                               cfg->public_url, token, lang_code(lang));
		const char *intro =
		        arena_printf(ctx->mem, mail_intro[lang], decl_text(&d->name, lang, NULL));
		rc = selfservice_mail(
		        ctx, norm, mail_subject[lang],
		        arena_printf(ctx->mem, "%s\n\n%s\n\n%s\n", intro, url, mail_ignore[lang]));
		sodium_memzero(token, sizeof(token));
		if (rc)
			break;
	}
	sodium_memzero(norm, sizeof(norm));
	return rc;
}

int directory_link_open(struct kctx *ctx, const char *link, char session[44])
{
	const char *subjects;
	return selfservice_token_redeem(ctx, "org_link", link, "org_session",
	                                SELFSERVICE_SESSION_SECONDS, session, &subjects);
}

/* The listing of a live directory session; acts as the self-service actor from then on. */
static int own(struct kctx *ctx, const char *session, const char **rid, int64_t *org_id)
{
	const char *text;
	int rc = selfservice_token_get(ctx, "org_session", session, &text);
	if (rc)
		return rc;
	json_t *j = json_loads(text, 0, NULL);
	const char *r = json_string_value(json_object_get(j, "register"));
	*org_id = (int64_t)json_integer_value(json_object_get(j, "organisation"));
	*rid = r ? arena_strdup(ctx->mem, r) : NULL;
	json_decref(j);
	if (!*rid || *org_id <= 0)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "a directory session is damaged");
	ctx->actor = &selfservice_actor;
	ctx->processor = NULL;
	return directory_register(ctx, *rid) ? 0 : ctx->err->code;
}

int directory_own_get(struct kctx *ctx, const char *session, json_t **out)
{
	const char *rid;
	int64_t org_id;
	int rc;
	*out = NULL;
	if ((rc = own(ctx, session, &rid, &org_id)))
		return rc;
	return get_as(ctx, rid, org_id, false, out);
}

int directory_own_set(struct kctx *ctx, const char *session, json_t *patch)
{
	const char *rid;
	int64_t org_id;
	int rc;
	if ((rc = own(ctx, session, &rid, &org_id)))
		return rc;
	return set_as(ctx, rid, org_id, patch, false);
}
