/*
 * The data subject's copy of their data. One read transaction gathers the
 * person row with the sealed values opened, contact points, affiliations, change history,
 * consents, subscriptions, bans, records, requests, mailings, event participation,
 * publications in the company directory, disclosures and the usage-log entries naming the person into one JSON document, each part
 * read through an index that starts with the person; the read
 * is then logged like any other, and the document leaves only once its entry is written.
 * The CSV and the letter are built from that document alone, so they cannot say more than
 * the logged export did.
 */
#include "core/export.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/account.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "core/selfservice.h"
#include "decl/notice.h"
#include "decl/notice_text.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/csv.h"
#include "util/html.h"
#include "util/kerr.h"
#include "util/xmalloc.h"

#define EXPORT_FORMAT "kortisto-export/1"

/* ---------------------------------------------------------------- declared names */

/* Contact point kinds and the reserved fields they are declared as (as in person.c). */
static const struct {
	const char *kind, *field;
} cp_fields[] = {
        {"email", "email"},         {"phone", "phone"}, {"postal", "postal_address"},
        {"social", "social_media"}, {"web", "website"}, {"ip", "ip_address"},
};

static const char *cp_field(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(cp_fields) / sizeof(cp_fields[0]); i++)
		if (strcmp(cp_fields[i].kind, kind) == 0)
			return cp_fields[i].field;
	return kind;
}

/* The Finnish label of declared field `id`, or the id when the declaration no longer
 * names it. */
static const char *field_label_fi(const struct decl *d, const char *id)
{
	const struct decl_field *f = decl_field(d, id);
	return f && f->label.s[LANG_FI] ? f->label.s[LANG_FI] : id;
}

/* Where the value of field `id` came from: the field's declared source, else the person's. */
static const char *field_source(const struct decl *d, const char *id, const char *person_source)
{
	const struct decl_field *f = decl_field(d, id);
	return f && f->source ? f->source : person_source;
}

/* Whether source `id` is one the declaration marks as the data subject themselves. */
static bool from_subject(const struct decl *d, const char *id)
{
	const struct decl_source *s = id ? decl_source(d, id) : NULL;
	return s && s->kind == SK_SUBJECT;
}

/* The catalogue lists the kinds of source and the bases in the declaration's order. */
_Static_assert(NM_SK_GENERATED - NM_SK_SUBJECT == SK_GENERATED, "source kinds in order");
_Static_assert(NM_BASIS_F - NM_BASIS_A == BASIS_F, "bases in order");

static const char *const source_kinds[SK__MAX] = {"subject", "public", "third_party", "authority",
                                                  "generated"};

/* ---------------------------------------------------------------- who may export */

/*
 * Only the operator at the server and a manager of the register may export: an export hands
 * over the whole record, sensitive values in full, so it is not a viewer's or an editor's
 * task (and never a processor's). The role is read here from the grants, whatever the HTTP
 * route checked, because core/ is the one door and must not trust its callers.
 */
static int may_export(struct kctx *ctx, const char *rid)
{
	struct principal p;
	int rc;

	if (ctx->actor && ctx->actor->kind == ACTOR_OPERATOR)
		return 0;
	/* The data subject's own copy through self-service: core/selfservice.c runs as this
	 * actor only after it found the person among those the session's mailed link matched
	 * (the link is the identity verification, R-05), and asks only for that person. */
	if (ctx->actor == &selfservice_actor)
		return 0;
	if (!ctx->actor || ctx->processor)
		goto forbidden;
	if ((rc = account_actor(ctx, &p)) == KERR_FORBIDDEN)
		goto forbidden;
	if (rc)
		return rc;
	if (auth_role(ctx, &p, rid, NULL) == ROLE_MANAGER)
		return 0;
forbidden:
	kerr_clear(ctx->err);
	return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
	                "only a manager of register '%s' may export a data subject's data", rid);
}

/* ---------------------------------------------------------------- the parts */

struct xp {
	struct kctx *ctx;
	const struct decl *d;
	const char *rid;
	int64_t id;
	bool portable;
	const char *source; /* the person's source id (ctx->mem) */
	json_t *doc;        /* the document being built */
};

/* The person row: names, group, basis, source, status, dates, and every attribute. */
static int part_subject(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	const struct decl *d = x->d;
	struct query *q = store_query(ctx->db, ST_PERSON_GET);
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	if ((rc = q_step(q, ctx->err)) <= 0) {
		q_done(q);
		return rc < 0 ? rc
		              : kerr_set(ctx->err, KERR_NOTFOUND, "person",
		                         "person %" PRId64 " not found in register '%s'", x->id,
		                         x->rid);
	}
	const char *first = arena_strdup(ctx->mem, q_col_text(q, 1));
	const char *last = arena_strdup(ctx->mem, q_col_text(q, 2));
	const char *group = arena_strdup(ctx->mem, q_col_text(q, 3));
	const char *basis = arena_strdup(ctx->mem, q_col_text(q, 4));
	x->source = arena_strdup(ctx->mem, q_col_text(q, 5));
	/* The record's own state and dates, which no one provided: not in a portable export. */
	json_t *meta = json_pack("{s:s?, s:s?, s:s?, s:s?}", "status", q_col_text(q, 6),
	                         "created_at", q_col_text(q, 11), "updated_at", q_col_text(q, 12),
	                         "last_customer_event", q_col_text(q, 10));
	q_done(q);
	json_t *s = json_pack("{s:I}", "id", (json_int_t)x->id);
	json_object_set_new(x->doc, "subject", s);

	/* Portability (R-10, Art. 20(1)(a)) covers processing on consent or contract only. */
	if (x->portable && strcmp(basis, "a") != 0 && strcmp(basis, "b") != 0) {
		json_decref(meta);
		return kerr_set(ctx->err, KERR_REFUSED, "legal_basis",
		                "portability applies to processing on consent or contract (GDPR "
		                "Art. 20(1)(a)); person %" PRId64 " is processed on basis '%s'",
		                x->id, basis);
	}

	json_t *names = json_object();
	if (first && (!x->portable || from_subject(d, field_source(d, "first_name", x->source))))
		json_object_set_new(names, "first_name", json_string(first));
	if (last && (!x->portable || from_subject(d, field_source(d, "last_name", x->source))))
		json_object_set_new(names, "last_name", json_string(last));
	json_object_set_new(s, "names", names);
	const struct decl_group *g = decl_group(d, group);
	json_object_set_new(
	        s, "subject_group",
	        json_pack("{s:s, s:s?}", "id", group, "name", g ? g->name.s[LANG_FI] : NULL));
	enum basis b = (enum basis)(basis[0] - 'a');
	json_object_set_new(
	        s, "legal_basis",
	        json_pack("{s:s, s:s?, s:s?}", "basis", basis, "article",
	                  b < BASIS__MAX ? nmsg((enum nmsg)(NM_BASIS_A + b), LANG_FI) : NULL,
	                  "text", g ? g->basis_text.s[LANG_FI] : NULL));
	const struct decl_source *src = decl_source(d, x->source);
	json_object_set_new(s, "source",
	                    json_pack("{s:s, s:s?}", "id", x->source, "kind",
	                              src ? source_kinds[src->kind] : NULL));

	if (!x->portable)
		json_object_update(s, meta);
	json_decref(meta);

	/* Attributes: the henkilötunnus and the declared attributes, sealed ones opened. Art. 15
	 * gives the subject their own data, so sensitive values are in full here; the caller's
	 * may_reveal is not what decides it, the export right checked above is. */
	const char *hetu;
	json_t *attrs;
	if ((rc = person_unsealed(ctx, x->rid, x->id, &hetu, &attrs)))
		return rc;
	if (hetu)
		json_object_set_new(attrs, "hetu", json_string(hetu));
	json_t *list = json_array();
	/* In the declaration's order, then anything a later declaration no longer names. */
	for (int pass = 0; pass < 2; pass++) {
		const char *key;
		json_t *v;
		json_object_foreach (attrs, key, v) {
			const struct decl_field *f = decl_field(d, key);
			if ((pass == 0) != (f != NULL))
				continue;
			const char *from = field_source(d, key, x->source);
			if (x->portable && !from_subject(d, from))
				continue;
			json_array_append_new(
			        list,
			        json_pack("{s:s, s:s, s:s?, s:O, s:b, s:s?}", "field", key, "label",
			                  field_label_fi(d, key), "category",
			                  f && f->category ? f->category->id : NULL, "value", v,
			                  "sensitive", !f || f->sensitive || f->type == FT_HETU,
			                  "source", from));
		}
	}
	json_decref(attrs);
	/* Order the declared ones as the declaration lists its fields. */
	json_t *sorted = json_array();
	for (size_t c = 0; c < d->ncategories; c++)
		for (size_t i = 0; i < d->categories[c].nfields; i++) {
			size_t k;
			json_t *a;
			json_array_foreach (list, k, a) {
				if (strcmp(json_string_value(json_object_get(a, "field")),
				           d->categories[c].fields[i].id) == 0)
					json_array_append(sorted, a);
			}
		}
	size_t k;
	json_t *a;
	json_array_foreach (list, k, a) {
		if (!decl_field(d, json_string_value(json_object_get(a, "field"))))
			json_array_append(sorted, a);
	}
	json_decref(list);
	json_object_set_new(s, "attributes", sorted);
	return 0;
}

static int part_contact_points(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_CP_LIST);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *field = cp_field(q_col_text(q, 0));
		if (x->portable && !from_subject(x->d, q_col_text(q, 2)))
			continue;
		json_array_append_new(list,
		                      json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
		                                "kind", q_col_text(q, 0), "field", field, "label",
		                                field ? field_label_fi(x->d, field) : NULL, "value",
		                                q_col_text(q, 1), "source", q_col_text(q, 2),
		                                "collected_at", q_col_text(q, 3), "collected_by",
		                                q_col_text(q, 4)));
	}
	q_done(q);
	json_object_set_new(x->doc, "contact_points", list);
	return rc < 0 ? rc : 0;
}

/* Affiliations; their ids go to *ids (ctx->mem) for the change history. */
static int part_affiliations(struct xp *x, int64_t **ids, size_t *n)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_AFFILIATIONS);
	json_t *list = json_array();
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			int64_t *v = arena_alloc(ctx->mem, ncap * sizeof(*v));
			if (*n)
				memcpy(v, *ids, *n * sizeof(*v));
			*ids = v;
			cap = ncap;
		}
		(*ids)[(*n)++] = q_col_int(q, 0);
		json_array_append_new(
		        list,
		        json_pack("{s:I, s:{s:I, s:s?, s:s?, s:s?}, s:s?, s:s?, s:s?, s:s?}", "id",
		                  (json_int_t)q_col_int(q, 0), "organisation", "id",
		                  (json_int_t)q_col_int(q, 1), "name", q_col_text(q, 2), "ytunnus",
		                  q_col_text(q, 3), "department", q_col_text(q, 4), "title",
		                  q_col_text(q, 5), "start_date", q_col_text(q, 6), "end_date",
		                  q_col_text(q, 7), "end_reason", q_col_text(q, 8)));
	}
	q_done(q);
	json_object_set_new(x->doc, "affiliations", list);
	return rc < 0 ? rc : 0;
}

static int history_of(struct xp *x, const char *entity, int64_t id, json_t *list)
{
	struct query *q = store_query(x->ctx->db, ST_EXPORT_HISTORY);
	int rc;

	q_text(q, 1, x->rid);
	q_text(q, 2, entity);
	q_int(q, 3, id);
	while ((rc = q_step(q, x->ctx->err)) == 1)
		json_array_append_new(
		        list, json_pack("{s:s?, s:s, s:I, s:s?, s:s?, s:s?, s:s?, s:s?}", "at",
		                        q_col_text(q, 0), "entity", entity, "entity_id",
		                        (json_int_t)id, "field", q_col_text(q, 1), "old",
		                        q_col_text(q, 2), "new", q_col_text(q, 3), "actor",
		                        q_col_text(q, 4), "reason", q_col_text(q, 5)));
	q_done(q);
	return rc < 0 ? rc : 0;
}

/* The person's change history, then that of each of their affiliations. Values of sensitive
 * fields are as the history keeps them: masked. */
static int part_history(struct xp *x, const int64_t *affs, size_t naffs)
{
	json_t *list = json_array();
	int rc = history_of(x, "person", x->id, list);
	for (size_t i = 0; rc == 0 && i < naffs; i++)
		rc = history_of(x, "affiliation", affs[i], list);
	json_object_set_new(x->doc, "change_history", list);
	return rc;
}

static int part_disclosures(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_DISCLOSURES);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *rcp = q_col_text(q, 2);
		const struct decl_recipient *r = rcp ? decl_recipient(x->d, rcp) : NULL;
		json_error_t jerr;
		json_t *ids = json_loads(q_col_text(q, 5) ? q_col_text(q, 5) : "[]", 0, &jerr);
		json_t *cats = json_array();
		size_t k;
		json_t *c;
		json_array_foreach (ids, k, c) {
			if (!json_is_string(c))
				continue;
			const struct decl_category *cat = decl_category(x->d, json_string_value(c));
			json_array_append_new(cats, json_pack("{s:O, s:s?}", "id", c, "name",
			                                      cat ? cat->name.s[LANG_FI] : NULL));
		}
		json_decref(ids);
		json_array_append_new(
		        list, json_pack("{s:I, s:s?, s:{s:s?, s:s?}, s:s?, s:s?, s:o}", "id",
		                        (json_int_t)q_col_int(q, 0), "at", q_col_text(q, 1),
		                        "recipient", "id", rcp, "name",
		                        r ? r->name.s[LANG_FI] : NULL, "purpose", q_col_text(q, 3),
		                        "legal_basis", q_col_text(q, 4), "categories", cats));
	}
	q_done(q);
	json_object_set_new(x->doc, "disclosures", list);
	return rc < 0 ? rc : 0;
}

/* Where the person is published as a contact person in the public company directory (F-05):
 * the organisation, the role shown and since when. Access only: the company chose it. */
static int part_directory(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_DIR_PUBLICATIONS_OF);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(list, json_pack("{s:{s:I, s:s?}, s:s?, s:s?}", "organisation",
		                                      "id", (json_int_t)q_col_int(q, 0), "name",
		                                      q_col_text(q, 1), "title", q_col_text(q, 2),
		                                      "published_at", q_col_text(q, 3)));
	q_done(q);
	json_object_set_new(x->doc, "directory_publications", list);
	return rc < 0 ? rc : 0;
}

/* Who looked at, searched for or changed the person's data, oldest first: every usage-log
 * entry of the register that names the person (as its entity, among a search's results or
 * a disclosure's subjects). The actor is the account name the log keeps. */
static int part_usage(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_USAGE);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, arena_printf(ctx->mem, "\"%" PRId64 "\"", x->id));
	q_text(q, 2, x->rid);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(list,
		                      json_pack("{s:s?, s:s?, s:s?, s:s?}", "at", q_col_text(q, 0),
		                                "actor", q_col_text(q, 1), "action",
		                                q_col_text(q, 2), "purpose", q_col_text(q, 3)));
	q_done(q);
	json_object_set_new(x->doc, "usage_log", list);
	return rc < 0 ? rc : 0;
}

/* A column's text as a JSON string, or JSON null for SQL NULL. */
static json_t *json_col_str(const char *text)
{
	return text ? json_string(text) : json_null();
}

/* A JSON text the store holds (content, choices, a history value) as a value; NULL for SQL
 * NULL, the text itself as a string should it not parse. */
static json_t *json_col(const char *text)
{
	if (!text)
		return NULL;
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(text);
}

/* As json_col(), with JSON null for SQL NULL. */
static json_t *json_col_null(const char *text)
{
	json_t *v = json_col(text);
	return v ? v : json_null();
}

/*
 * Consents (M-01, R-12): each with the exact text the subject agreed to, its version, when
 * and through what it was given, and its confirmation and withdrawal. The consent is the
 * subject's own declaration, so it is portable; who recorded it, the client address of the
 * form post and when a pending one expires are the controller's facts and are not.
 */
static int part_consents(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_CONSENTS);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		json_t *c = json_pack(
		        "{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:{s:s?, s:s?}, s:s?, s:s?, s:s?, "
		        "s:s?}",
		        "id", (json_int_t)q_col_int(q, 0), "purpose", q_col_text(q, 1), "channel",
		        q_col_text(q, 2), "text", q_col_text(q, 3), "text_version",
		        q_col_text(q, 4), "given_at", q_col_text(q, 5), "source", "kind",
		        q_col_text(q, 6), "form", q_col_text(q, 7), "state", q_col_text(q, 10),
		        "confirmed_at", q_col_text(q, 12), "withdrawn_at", q_col_text(q, 13),
		        "withdrawn_how", q_col_text(q, 14));
		if (!x->portable) {
			json_t *src = json_object_get(c, "source");
			json_object_set_new(src, "client", json_col_str(q_col_text(q, 8)));
			json_object_set_new(src, "recorded_by", json_col_str(q_col_text(q, 9)));
			json_object_set_new(c, "expires_at", json_col_str(q_col_text(q, 11)));
			json_object_set_new(c, "withdrawn_by", json_col_str(q_col_text(q, 15)));
		}
		json_array_append_new(list, c);
	}
	q_done(q);
	json_object_set_new(x->doc, "consents", list);
	return rc < 0 ? rc : 0;
}

/* The subscription lists the subject joined (on the list's public page, or through staff),
 * and when and how each subscription ended. Portable: the subject made them. */
static int part_subscriptions(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_SUBSCRIPTIONS);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(
		        list, json_pack("{s:{s:I, s:s?, s:s?, s:s?}, s:s?, s:s?, s:s?}", "list",
		                        "id", (json_int_t)q_col_int(q, 0), "slug", q_col_text(q, 1),
		                        "name", q_col_text(q, 2), "purpose", q_col_text(q, 3),
		                        "since", q_col_text(q, 4), "ended_at", q_col_text(q, 5),
		                        "ended_how", q_col_text(q, 6)));
	q_done(q);
	json_object_set_new(x->doc, "subscriptions", list);
	return rc < 0 ? rc : 0;
}

/* Marketing bans per channel (M-02, R-11) with when and from what (a request, an
 * unsubscribe link, staff). The use of a right, not data provided: access only. */
static int part_bans(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_BANS);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(list, json_pack("{s:s?, s:s?, s:s?}", "channel",
		                                      q_col_text(q, 0), "since", q_col_text(q, 1),
		                                      "source", q_col_text(q, 2)));
	q_done(q);
	json_object_set_new(x->doc, "marketing_bans", list);
	return rc < 0 ? rc : 0;
}

/*
 * Records of the declared record types (E-01 … E-04, L-02): customer events with their day,
 * and for advisory and customer-service records their content and its change history, as
 * "records": [{id, type, name, on, data?, updated_at?, history?}], by type and then in the
 * order they were made. Staff write them, so they are access only.
 */
static int part_records(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_RECORDS);
	json_t *list = json_array();
	json_t *by_id = json_object(); /* record id → its element of `list`, for the history */
	bool content = false;
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *type = q_col_text(q, 1);
		const struct decl_record_type *t = type ? decl_record_type(x->d, type) : NULL;
		json_t *r = json_pack("{s:I, s:s?, s:s?, s:s?}", "id", (json_int_t)q_col_int(q, 0),
		                      "type", type, "name", t ? t->name.s[LANG_FI] : NULL, "on",
		                      q_col_text(q, 2));
		if (!q_col_null(q, 3)) {
			json_object_set_new(r, "data", json_col(q_col_text(q, 3)));
			json_object_set_new(r, "updated_at", json_col_str(q_col_text(q, 4)));
			json_object_set(by_id, q_col_text(q, 0), r);
			content = true;
		}
		json_array_append_new(list, r);
	}
	q_done(q);
	/* The history is read only when some record has content: a register of customer events
	 * alone pays nothing for it. */
	if (rc == 0 && content) {
		q = store_query(ctx->db, ST_EXPORT_RECORD_HISTORY);
		q_text(q, 1, x->rid);
		q_int(q, 2, x->id);
		while ((rc = q_step(q, ctx->err)) == 1) {
			json_t *r = json_object_get(by_id, q_col_text(q, 0));
			if (!r)
				continue;
			json_t *h = json_object_get(r, "history");
			if (!h) {
				h = json_array();
				json_object_set_new(r, "history", h);
			}
			json_t *e = json_pack("{s:s?}", "member", q_col_text(q, 1));
			json_object_set_new(e, "old", json_col_null(q_col_text(q, 2)));
			json_object_set_new(e, "new", json_col_null(q_col_text(q, 3)));
			json_object_set_new(e, "actor", json_col_str(q_col_text(q, 4)));
			json_object_set_new(e, "at", json_col_str(q_col_text(q, 5)));
			json_array_append_new(h, e);
		}
		q_done(q);
	}
	json_decref(by_id);
	json_object_set_new(x->doc, "records", list);
	return rc < 0 ? rc : 0;
}

/*
 * The subject's earlier requests (R-02 … R-05): what was asked and how the requester
 * identified themselves (their own words, Art. 15), the channel, when it came and was due,
 * an extension and its reason, the state, how and when identity was verified, an assessment
 * as unfounded or excessive, the reasons of a refusal, and every step with when and by whom
 * (the controller's staff, as the usage log names them). The notes of the steps are the
 * handlers' working notes, which never hold the subject's data (0005_requests.sql), and the
 * outcome is not personal data; neither is given. Access only.
 */
static int part_requests(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_REQUESTS);
	json_t *list = json_array();
	json_t *cur = NULL;
	int64_t cur_id = 0;
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		int64_t id = q_col_int(q, 0);
		if (!cur || id != cur_id) {
			cur_id = id;
			cur = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
			                "id", (json_int_t)id, "type", q_col_text(q, 1), "channel",
			                q_col_text(q, 2), "received_at", q_col_text(q, 3), "due_on",
			                q_col_text(q, 4), "extended_to", q_col_text(q, 5),
			                "extension_reason", q_col_text(q, 6), "subject_told_at",
			                q_col_text(q, 7), "state", q_col_text(q, 8));
			json_object_set_new(cur, "verification",
			                    q_col_null(q, 9) ? json_null()
			                                     : json_pack("{s:s?, s:s?}", "method",
			                                                 q_col_text(q, 9), "at",
			                                                 q_col_text(q, 10)));
			json_object_set_new(
			        cur, "assessment",
			        q_col_null(q, 11)
			                ? json_null()
			                : json_pack("{s:s?, s:o}", "kind", q_col_text(q, 11),
			                            "fee_cents",
			                            q_col_null(q, 12)
			                                    ? json_null()
			                                    : json_integer(q_col_int(q, 12))));
			json_object_set_new(cur, "refusal_reason", json_col_str(q_col_text(q, 13)));
			json_object_set_new(cur, "closed_at", json_col_str(q_col_text(q, 14)));
			json_object_set_new(cur, "identification",
			                    json_col_null(q_col_text(q, 15)));
			json_object_set_new(cur, "details", json_col_null(q_col_text(q, 16)));
			json_object_set_new(cur, "steps", json_array());
			json_array_append_new(list, cur);
		}
		if (!q_col_null(q, 18))
			json_array_append_new(
			        json_object_get(cur, "steps"),
			        json_pack("{s:s?, s:s?, s:s?}", "at", q_col_text(q, 17), "action",
			                  q_col_text(q, 18), "actor", q_col_text(q, 19)));
	}
	q_done(q);
	json_object_set_new(x->doc, "requests", list);
	return rc < 0 ? rc : 0;
}

/* The mailings that targeted the subject (M-05) with what became of their message, and the
 * times it was opened (M-04). The controller's doing and observation: access only. */
static int part_mailings(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_MAILINGS);
	json_t *list = json_array();
	json_t *by_id = json_object(); /* recipient row id → its mailing, for the opens */
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		json_t *m = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:[]}", "id",
		                      (json_int_t)q_col_int(q, 1), "subject", q_col_text(q, 2),
		                      "purpose", q_col_text(q, 3), "state", q_col_text(q, 4),
		                      "sent_at", q_col_text(q, 5), "opens");
		json_object_set(by_id, q_col_text(q, 0), m);
		json_array_append_new(list, m);
	}
	q_done(q);
	if (rc == 0 && json_array_size(list)) {
		q = store_query(ctx->db, ST_EXPORT_OPENS);
		q_text(q, 1, x->rid);
		q_int(q, 2, x->id);
		while ((rc = q_step(q, ctx->err)) == 1) {
			json_t *m = json_object_get(by_id, q_col_text(q, 0));
			if (m && q_col_text(q, 1))
				json_array_append_new(json_object_get(m, "opens"),
				                      json_string(q_col_text(q, 1)));
		}
		q_done(q);
	}
	json_decref(by_id);
	json_object_set_new(x->doc, "mailings", list);
	return rc < 0 ? rc : 0;
}

/* The events the subject registered for (E-01), with the consent choices they made. The
 * registration is the subject's own, so it is portable; the co-organiser is access only. */
static int part_registrations(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_REGISTRATIONS);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		json_t *e = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "id",
		                      (json_int_t)q_col_int(q, 0), "title", q_col_text(q, 1),
		                      "format", q_col_text(q, 2), "place", q_col_text(q, 3), "url",
		                      q_col_text(q, 4), "starts_at", q_col_text(q, 5), "ends_at",
		                      q_col_text(q, 6));
		const char *co = q_col_text(q, 7);
		if (!x->portable) {
			const struct decl_recipient *r = co ? decl_recipient(x->d, co) : NULL;
			json_object_set_new(e, "co_organiser",
			                    co ? json_pack("{s:s, s:s?}", "id", co, "name",
			                                   r ? r->name.s[LANG_FI] : NULL)
			                       : json_null());
		}
		json_t *c = json_col(q_col_text(q, 9));
		json_t *g = json_pack("{s:o, s:s?, s:o}", "event", e, "registered_on",
		                      q_col_text(q, 8), "consents", c ? c : json_object());
		/* A cancelled registration is still data held about the person (0013). */
		if (q_col_text(q, 10))
			json_object_set_new(g, "cancelled_at", json_string(q_col_text(q, 10)));
		json_array_append_new(list, g);
	}
	q_done(q);
	json_object_set_new(x->doc, "event_registrations", list);
	return rc < 0 ? rc : 0;
}

/* The programme sessions the subject attended (E-01): staff record attendance, so it is
 * access only. */
static int part_attendance(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_ATTENDANCE);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(
		        list, json_pack("{s:{s:I, s:s?}, s:{s:I, s:s?, s:s?, s:s?, s:s?, s:s?}}",
		                        "event", "id", (json_int_t)q_col_int(q, 0), "title",
		                        q_col_text(q, 1), "session", "id",
		                        (json_int_t)q_col_int(q, 2), "title", q_col_text(q, 3),
		                        "starts_at", q_col_text(q, 4), "ends_at", q_col_text(q, 5),
		                        "place", q_col_text(q, 6), "url", q_col_text(q, 7)));
	q_done(q);
	json_object_set_new(x->doc, "event_attendance", list);
	return rc < 0 ? rc : 0;
}

/* The meetings arranged for the subject at events (E-01): when and where, not with whom,
 * since the other parties are other people's data (Art. 15(4)). Access only. */
static int part_meetings(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_MEETINGS);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(list,
		                      json_pack("{s:{s:I, s:s?}, s:I, s:s?, s:s?, s:s?}", "event",
		                                "id", (json_int_t)q_col_int(q, 0), "title",
		                                q_col_text(q, 1), "id", (json_int_t)q_col_int(q, 2),
		                                "starts_at", q_col_text(q, 3), "ends_at",
		                                q_col_text(q, 4), "place", q_col_text(q, 5)));
	q_done(q);
	json_object_set_new(x->doc, "event_meetings", list);
	return rc < 0 ? rc : 0;
}

/* The messages the subject wrote in the public chat of virtual sessions (E-01), with the
 * event, the session and when each was written. They are the subject's own words, so they
 * are portable; the other participants' messages are other people's data (Art. 15(4)) and
 * are never read. */
static int part_chat(struct xp *x)
{
	struct kctx *ctx = x->ctx;
	struct query *q = store_query(ctx->db, ST_EXPORT_CHAT);
	json_t *list = json_array();
	int rc;

	q_text(q, 1, x->rid);
	q_int(q, 2, x->id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(list, json_pack("{s:{s:I, s:s?}, s:{s:I, s:s?}, s:s?, s:s?}",
		                                      "event", "id", (json_int_t)q_col_int(q, 0),
		                                      "title", q_col_text(q, 1), "session", "id",
		                                      (json_int_t)q_col_int(q, 2), "title",
		                                      q_col_text(q, 3), "at", q_col_text(q, 4),
		                                      "text", q_col_text(q, 5)));
	q_done(q);
	json_object_set_new(x->doc, "event_chat_messages", list);
	return rc < 0 ? rc : 0;
}

/*
 * The parts in the document's order. Portability has the data the subject provided:
 * names, attributes and contact points of a subject source, consents, subscriptions, event
 * registrations and the subject's messages in the chat of virtual sessions; what staff
 * wrote or the system observed (affiliations, history, bans, records, requests, mailings,
 * attendance, meetings, disclosures, the usage log) is access only.
 */
static int build(struct xp *x)
{
	int64_t *affs;
	size_t naffs;
	int rc;

	if ((rc = part_subject(x)) || (rc = part_contact_points(x)))
		return rc;
	if (x->portable) {
		if ((rc = part_consents(x)) || (rc = part_subscriptions(x)) ||
		    (rc = part_registrations(x)) || (rc = part_chat(x)))
			return rc;
		return 0;
	}
	if ((rc = part_affiliations(x, &affs, &naffs)) || (rc = part_history(x, affs, naffs)) ||
	    (rc = part_consents(x)) || (rc = part_subscriptions(x)) || (rc = part_bans(x)) ||
	    (rc = part_records(x)) || (rc = part_requests(x)) || (rc = part_mailings(x)) ||
	    (rc = part_registrations(x)) || (rc = part_attendance(x)) || (rc = part_meetings(x)) ||
	    (rc = part_chat(x)) || (rc = part_directory(x)) || (rc = part_disclosures(x)) ||
	    (rc = part_usage(x)))
		return rc;
	return 0;
}

/* The current declaration of `rid` with its version, from one snapshot; NULL when none. */
static const struct app_register *current(struct kctx *ctx, const char *rid)
{
	const struct registry *regs = app_registers(ctx->app);
	for (size_t i = 0; rid && i < regs->n; i++)
		if (strcmp(regs->v[i].id, rid) == 0)
			return &regs->v[i];
	return NULL;
}

int export_subject(struct kctx *ctx, const char *rid, int64_t person_id, unsigned flags,
                   json_t **out)
{
	const struct app_register *reg = current(ctx, rid);
	int rc;

	*out = NULL;
	if (!reg)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	const struct decl *d = reg->decl;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if ((rc = may_export(ctx, rid))) {
		store_rollback(ctx->db);
		return rc;
	}
	struct xp x = {
	        .ctx = ctx,
	        .d = d,
	        .rid = rid,
	        .id = person_id,
	        .portable = flags & EXPORT_PORTABLE,
	        .doc = json_object(),
	};
	json_object_set_new(x.doc, "format", json_string(EXPORT_FORMAT));
	json_object_set_new(x.doc, "kind", json_string(x.portable ? "portability" : "access"));
	json_object_set_new(x.doc, "register",
	                    json_pack("{s:s, s:s?, s:i}", "id", rid, "name", d->name.s[LANG_FI],
	                              "version", reg->version));
	json_object_set_new(x.doc, "generated_at", json_string(ctx->now_iso));
	if ((rc = build(&x))) {
		store_rollback(ctx->db);
		json_decref(x.doc);
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err))) {
		json_decref(x.doc);
		return rc;
	}

	/* The export is a read of the whole record: logged before anything leaves. */
	if (!ctx->purpose)
		ctx->purpose = EXPORT_PURPOSE;
	struct usage_entry e = {
	        .action = "export",
	        .rid = rid,
	        .entity = "person",
	        .entity_id = person_id,
	        .reason = x.portable ? "portability" : "access",
	};
	if ((rc = usage_read(ctx, &e))) {
		json_decref(x.doc);
		return rc;
	}
	*out = x.doc;
	return 0;
}

/* ---------------------------------------------------------------- CSV */

static const char *member(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A value as one cell: strings as they are, numbers and booleans as JSON writes them. */
static void csv_value(struct buf *out, const json_t *v)
{
	if (json_is_string(v)) {
		csv_put_field(out, json_string_value(v));
		return;
	}
	char *text = v && !json_is_null(v) ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	csv_put_field(out, text);
	free(text);
}

static void csv_row(struct buf *out, const char *section, const char *field, const json_t *value,
                    const char *source, const char *collected_at)
{
	csv_put_field(out, section);
	buf_putc(out, ',');
	csv_put_field(out, field);
	buf_putc(out, ',');
	csv_value(out, value);
	buf_putc(out, ',');
	csv_put_field(out, source);
	buf_putc(out, ',');
	csv_put_field(out, collected_at);
	buf_puts(out, "\r\n");
}

/* One row per member of `v` that has a value, named `prefix` and the path of members within
 * it ("2.event.title"): the portable parts that are lists of objects. */
static void csv_flat(struct buf *out, const char *section, const char *prefix, const json_t *v,
                     const char *source, const char *collected_at)
{
	if (json_is_object(v)) {
		const char *key;
		const json_t *m;
		json_object_foreach ((json_t *)v, key, m) {
			size_t n = strlen(prefix) + 1 + strlen(key) + 1;
			char *path = xmalloc(n);
			snprintf(path, n, "%s.%s", prefix, key);
			csv_flat(out, section, path, m, source, collected_at);
			free(path);
		}
	} else if (v && !json_is_null(v)) {
		csv_row(out, section, prefix, v, source, collected_at);
	}
}

/* The rows of list `list`: element n (from 1) as member paths under "n". */
static void csv_list(struct buf *out, const char *section, const json_t *list,
                     const char *source_key, const char *at_key)
{
	size_t k;
	const json_t *e;
	json_array_foreach (list, k, e) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", k + 1);
		const char *src =
		        source_key ? member(json_object_get(e, "source"), source_key) : NULL;
		csv_flat(out, section, n, e, src, at_key ? member(e, at_key) : NULL);
	}
}

int export_csv(const json_t *export, struct buf *out)
{
	const json_t *s = json_object_get(export, "subject");
	const char *fmt = member(export, "format");
	if (!json_is_object(s) || !fmt || strcmp(fmt, EXPORT_FORMAT) != 0)
		return KERR_INVALID;

	const char *source = member(json_object_get(s, "source"), "id");
	buf_puts(out, "\"section\",\"field\",\"value\",\"source\",\"collected_at\"\r\n");
	const json_t *names = json_object_get(s, "names");
	static const char *const name_fields[] = {"first_name", "last_name"};
	for (size_t i = 0; i < 2; i++) {
		const json_t *v = json_object_get(names, name_fields[i]);
		if (v)
			csv_row(out, "subject", name_fields[i], v, source, NULL);
	}
	size_t k;
	const json_t *a;
	json_array_foreach (json_object_get(s, "attributes"), k, a)
		csv_row(out, "attribute", member(a, "field"), json_object_get(a, "value"),
		        member(a, "source"), NULL);
	json_array_foreach (json_object_get(export, "contact_points"), k, a)
		csv_row(out, "contact_point", member(a, "field"), json_object_get(a, "value"),
		        member(a, "source"), member(a, "collected_at"));
	csv_list(out, "consent", json_object_get(export, "consents"), "kind", "given_at");
	csv_list(out, "subscription", json_object_get(export, "subscriptions"), NULL, "since");
	csv_list(out, "event_registration", json_object_get(export, "event_registrations"), NULL,
	         "registered_on");
	csv_list(out, "event_chat_message", json_object_get(export, "event_chat_messages"), NULL,
	         "at");
	return 0;
}

/* ---------------------------------------------------------------- the letter */

/* A declared text in `lang` as element content, marked as Finnish when it falls back. */
static void decl_html(struct buf *out, const struct text *t, enum lang lang, const char * or)
{
	bool fb = false;
	const char *s = decl_text(t, lang, &fb);
	if (!s) {
		html_text(out, or);
	} else if (fb && lang != LANG_FI) {
		buf_puts(out, "<span lang=\"fi\">");
		html_text(out, s);
		buf_puts(out, "</span>");
	} else {
		html_text(out, s);
	}
}

/* The label of field `id` in `lang`: declared, else a name kortisto knows, else the id. */
static void label_html(struct buf *out, const struct decl *d, const char *id, enum lang lang)
{
	static const struct {
		const char *id;
		enum nmsg m;
	} known[] = {
	        {"subject_group", NM_X_GROUP}, {"last_customer_event", NM_X_LAST_EVENT},
	        {"title", NM_X_POSITION},      {"start_date", NM_X_START},
	        {"end_date", NM_X_END},        {"organisation", NM_X_ORGANISATION},
	};
	const struct decl_field *f = id ? decl_field(d, id) : NULL;
	if (f) {
		decl_html(out, &f->label, lang, id);
		return;
	}
	for (size_t i = 0; id && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].id, id) == 0) {
			html_text(out, nmsg(known[i].m, lang));
			return;
		}
	html_text(out, id);
}

/* A date or time as `lang` writes it: the date, and for a time hh:mm UTC after it. */
static void when_html(struct buf *out, enum lang lang, const char *iso)
{
	char tmp[32];
	if (!iso)
		return;
	html_text(out, lang_date(lang, iso, tmp));
	if (strlen(iso) >= 16 && iso[10] == 'T') {
		char hm[6];
		memcpy(hm, iso + 11, 5);
		hm[5] = '\0';
		buf_putc(out, ' ');
		html_text(out, hm);
		buf_puts(out, " UTC");
	}
}

static void value_html(struct buf *out, const json_t *v)
{
	if (json_is_string(v)) {
		html_text(out, json_string_value(v));
	} else if (v && !json_is_null(v)) {
		char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		html_text(out, text);
		free(text);
	}
}

/*
 * Where the sections of a letter go. The request register's sections are at the top of the
 * page (<h2>, ids as they are); those of another register of the controller are one level
 * down, under that register's heading (<h3>, ids after the register's prefix), so that the
 * page keeps one outline and every id stays unique.
 */
struct lsec {
	const char *idp; /* "" for the request's register */
	int level;       /* of the section headings: 2, or 3 under another register */
};

static const struct lsec top = {"", 2};

static void section_open(struct buf *out, const struct lsec *sc, const char *id, enum lang lang,
                         enum nmsg heading)
{
	buf_puts(out, "<section aria-labelledby=\"");
	html_attr(out, sc->idp);
	html_attr(out, id);
	buf_appendf(out, "\">\n<h%d id=\"", sc->level);
	html_attr(out, sc->idp);
	html_attr(out, id);
	buf_puts(out, "\">");
	html_text(out, nmsg(heading, lang));
	buf_appendf(out, "</h%d>\n", sc->level);
}

/* Opens a table with the column headings `cols` (n of them). */
static void table_open(struct buf *out, enum lang lang, const enum nmsg *cols, size_t n)
{
	buf_puts(out, "<table>\n<thead><tr>");
	for (size_t i = 0; i < n; i++) {
		buf_puts(out, "<th scope=\"col\">");
		html_text(out, nmsg(cols[i], lang));
		buf_puts(out, "</th>");
	}
	buf_puts(out, "</tr></thead>\n<tbody>\n");
}

static void td_text(struct buf *out, const char *s)
{
	buf_puts(out, "<td>");
	html_text(out, s);
	buf_puts(out, "</td>");
}

/* A row of the two-column table of the subject's data; the label is already escaped by the
 * caller's writer through `label` (a catalogue message) or written by `field`. */
static void kv_row(struct buf *out, const struct decl *d, enum lang lang, const char *field,
                   enum nmsg label, const json_t *value)
{
	if (!value || json_is_null(value))
		return;
	buf_puts(out, "<tr><th scope=\"row\">");
	if (field)
		label_html(out, d, field, lang);
	else
		html_text(out, nmsg(label, lang));
	buf_puts(out, "</th><td>");
	const struct decl_field *f = field ? decl_field(d, field) : NULL;
	if (f && f->type == FT_DATE && json_is_string(value))
		when_html(out, lang, json_string_value(value));
	else
		value_html(out, value);
	buf_puts(out, "</td></tr>\n");
}

/* A purpose as the declaration words it in `lang`; the export's own purpose by its name. */
static void td_purpose(struct buf *out, const struct decl *d, const char *id, enum lang lang)
{
	const struct decl_purpose *p = id ? decl_purpose(d, id) : NULL;
	buf_puts(out, "<td>");
	if (p)
		decl_html(out, &p->text, lang, id);
	else if (id && strcmp(id, EXPORT_PURPOSE) == 0)
		html_text(out, nmsg(NM_X_P_REQUEST, lang));
	else
		html_text(out, id);
	buf_puts(out, "</td>");
}

static const char *status_text(const char *status, enum lang lang)
{
	if (!status)
		return NULL;
	if (strcmp(status, "active") == 0)
		return nmsg(NM_X_ST_ACTIVE, lang);
	if (strcmp(status, "restricted") == 0)
		return nmsg(NM_X_ST_RESTRICTED, lang);
	if (strcmp(status, "passivated") == 0)
		return nmsg(NM_X_ST_PASSIVATED, lang);
	return status;
}

static const char *action_text(const char *action, enum lang lang)
{
	static const struct {
		const char *action;
		enum nmsg m;
	} known[] = {
	        {"read", NM_X_A_READ},         {"reveal", NM_X_A_REVEAL}, {"search", NM_X_A_SEARCH},
	        {"create", NM_X_A_CREATE},     {"update", NM_X_A_UPDATE}, {"delete", NM_X_A_DELETE},
	        {"disclose", NM_X_A_DISCLOSE}, {"export", NM_X_A_EXPORT},
	};
	for (size_t i = 0; action && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].action, action) == 0)
			return nmsg(known[i].m, lang);
	return action;
}

/* A cell with the source of a value: what kind of source the declaration says it is. */
static void td_source(struct buf *out, const struct decl *d, const char *id, enum lang lang)
{
	const struct decl_source *s = id ? decl_source(d, id) : NULL;
	buf_puts(out, "<td>");
	html_text(out, s ? nmsg((enum nmsg)(NM_SK_SUBJECT + s->kind), lang) : id);
	buf_puts(out, "</td>");
}

static void letter_subject(struct buf *out, const struct lsec *sc, const struct decl *d,
                           const json_t *s, enum lang lang)
{
	const json_t *v;
	section_open(out, sc, "data", lang, NM_X_H_DATA);
	buf_puts(out, "<table class=\"kv\">\n<tbody>\n");
	kv_row(out, d, lang, NULL, NM_X_ID, json_object_get(s, "id"));
	const json_t *names = json_object_get(s, "names");
	kv_row(out, d, lang, "first_name", 0, json_object_get(names, "first_name"));
	kv_row(out, d, lang, "last_name", 0, json_object_get(names, "last_name"));

	const json_t *g = json_object_get(s, "subject_group");
	const struct decl_group *grp = decl_group(d, member(g, "id"));
	if (g) {
		buf_puts(out, "<tr><th scope=\"row\">");
		html_text(out, nmsg(NM_X_GROUP, lang));
		buf_puts(out, "</th><td>");
		if (grp)
			decl_html(out, &grp->name, lang, member(g, "id"));
		else
			html_text(out, member(g, "id"));
		buf_puts(out, "</td></tr>\n");
	}
	const char *basis = member(json_object_get(s, "legal_basis"), "basis");
	if (basis && basis[0] >= 'a' && basis[0] <= 'f' && !basis[1]) {
		buf_puts(out, "<tr><th scope=\"row\">");
		html_text(out, nmsg(NM_BASIS_LABEL, lang));
		buf_puts(out, "</th><td>");
		html_text(out, nmsg((enum nmsg)(NM_BASIS_A + (basis[0] - 'a')), lang));
		if (grp && grp->basis_text.s[LANG_FI]) {
			buf_puts(out, "<br>");
			decl_html(out, &grp->basis_text, lang, NULL);
		}
		buf_puts(out, "</td></tr>\n");
	}
	const char *source = member(json_object_get(s, "source"), "id");
	if (source) {
		buf_puts(out, "<tr><th scope=\"row\">");
		html_text(out, nmsg(NM_X_SOURCE, lang));
		buf_puts(out, "</th>");
		td_source(out, d, source, lang);
		buf_puts(out, "</tr>\n");
	}
	if ((v = json_object_get(s, "status"))) {
		json_t *st = json_string(status_text(json_string_value(v), lang));
		kv_row(out, d, lang, NULL, NM_X_STATUS, st);
		json_decref(st);
	}
	static const struct {
		const char *key;
		enum nmsg m;
	} dates[] = {{"created_at", NM_X_CREATED},
	             {"updated_at", NM_UPDATED},
	             {"last_customer_event", NM_X_LAST_EVENT}};
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		const char *at = member(s, dates[i].key);
		if (!at)
			continue;
		buf_puts(out, "<tr><th scope=\"row\">");
		html_text(out, nmsg(dates[i].m, lang));
		buf_puts(out, "</th><td>");
		when_html(out, lang, at);
		buf_puts(out, "</td></tr>\n");
	}
	size_t k;
	const json_t *a;
	json_array_foreach (json_object_get(s, "attributes"), k, a)
		kv_row(out, d, lang, member(a, "field"), 0, json_object_get(a, "value"));
	buf_puts(out, "</tbody>\n</table>\n</section>\n");
}

static void none(struct buf *out, enum lang lang)
{
	buf_puts(out, "<p>");
	html_text(out, nmsg(NM_X_NONE, lang));
	buf_puts(out, "</p>\n");
}

/* Opens section `id` headed `heading` of the rows of `list`: a table with the column headings
 * `cols` (n of them) for the rows to come (true; table_section_close() ends it), or, when the
 * list is empty, the note that there is none and the section's end (false). */
static bool table_section(struct buf *out, const struct lsec *sc, const char *id, enum lang lang,
                          enum nmsg heading, const json_t *list, const enum nmsg *cols, size_t n)
{
	section_open(out, sc, id, lang, heading);
	if (!json_array_size(list)) {
		none(out, lang);
		buf_puts(out, "</section>\n");
		return false;
	}
	table_open(out, lang, cols, n);
	return true;
}

static void table_section_close(struct buf *out)
{
	buf_puts(out, "</tbody>\n</table>\n</section>\n");
}

static void letter_contacts(struct buf *out, const struct lsec *sc, const struct decl *d,
                            const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_FIELD, NM_X_VALUE, NM_X_SOURCE, NM_X_COLLECTED};
	size_t k;
	const json_t *c;
	if (!table_section(out, sc, "contacts", lang, NM_X_H_CONTACTS, list, cols, 4))
		return;
	json_array_foreach (list, k, c) {
		buf_puts(out, "<tr><td>");
		label_html(out, d, member(c, "field"), lang);
		buf_puts(out, "</td>");
		td_text(out, member(c, "value"));
		td_source(out, d, member(c, "source"), lang);
		buf_puts(out, "<td>");
		when_html(out, lang, member(c, "collected_at"));
		buf_puts(out, "</td></tr>\n");
	}
	table_section_close(out);
}

static void letter_affiliations(struct buf *out, const struct lsec *sc, const json_t *list,
                                enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_ORGANISATION, NM_YTUNNUS, NM_UNIT,
	                                 NM_X_POSITION,     NM_X_START, NM_X_END};
	size_t k;
	const json_t *a;
	if (!table_section(out, sc, "affiliations", lang, NM_X_H_AFFILIATIONS, list, cols, 6))
		return;
	json_array_foreach (list, k, a) {
		const json_t *o = json_object_get(a, "organisation");
		buf_puts(out, "<tr>");
		td_text(out, member(o, "name"));
		td_text(out, member(o, "ytunnus"));
		td_text(out, member(o, "department"));
		td_text(out, member(a, "title"));
		buf_puts(out, "<td>");
		when_html(out, lang, member(a, "start_date"));
		buf_puts(out, "</td><td>");
		when_html(out, lang, member(a, "end_date"));
		buf_puts(out, "</td></tr>\n");
	}
	table_section_close(out);
}

static void letter_history(struct buf *out, const struct lsec *sc, const struct decl *d,
                           const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_TIME, NM_X_FIELD, NM_X_OLD,
	                                 NM_X_NEW,  NM_X_ACTOR, NM_X_REASON};
	size_t k;
	const json_t *h;
	if (!table_section(out, sc, "history", lang, NM_X_H_HISTORY, list, cols, 6))
		return;
	json_array_foreach (list, k, h) {
		buf_puts(out, "<tr><td>");
		when_html(out, lang, member(h, "at"));
		buf_puts(out, "</td><td>");
		label_html(out, d, member(h, "field"), lang);
		buf_puts(out, "</td>");
		td_text(out, member(h, "old"));
		td_text(out, member(h, "new"));
		td_text(out, member(h, "actor"));
		td_text(out, member(h, "reason"));
		buf_puts(out, "</tr>\n");
	}
	table_section_close(out);
}

static void letter_disclosures(struct buf *out, const struct lsec *sc, const struct decl *d,
                               const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_TIME, NM_X_RECIPIENT, NM_X_PURPOSE, NM_BASIS_LABEL,
	                                 NM_X_CATEGORIES};
	size_t k, i;
	const json_t *x, *c;
	if (!table_section(out, sc, "disclosures", lang, NM_X_H_DISCLOSURES, list, cols, 5))
		return;
	json_array_foreach (list, k, x) {
		const char *rid = member(json_object_get(x, "recipient"), "id");
		const struct decl_recipient *r = rid ? decl_recipient(d, rid) : NULL;
		buf_puts(out, "<tr><td>");
		when_html(out, lang, member(x, "at"));
		buf_puts(out, "</td><td>");
		if (r)
			decl_html(out, &r->name, lang, rid);
		else
			html_text(out, rid);
		buf_puts(out, "</td>");
		td_purpose(out, d, member(x, "purpose"), lang);
		td_text(out, member(x, "legal_basis"));
		buf_puts(out, "<td>");
		json_array_foreach (json_object_get(x, "categories"), i, c) {
			const struct decl_category *cat = decl_category(d, member(c, "id"));
			if (i)
				buf_puts(out, ", ");
			if (cat)
				decl_html(out, &cat->name, lang, member(c, "id"));
			else
				html_text(out, member(c, "id"));
		}
		buf_puts(out, "</td></tr>\n");
	}
	table_section_close(out);
}

static void letter_directory(struct buf *out, const struct lsec *sc, const json_t *list,
                             enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_ORGANISATION, NM_X_POSITION, NM_X_SINCE};
	size_t k;
	const json_t *p;
	if (!table_section(out, sc, "directory", lang, NM_X_H_DIRECTORY, list, cols, 3))
		return;
	json_array_foreach (list, k, p) {
		buf_puts(out, "<tr>");
		td_text(out, member(json_object_get(p, "organisation"), "name"));
		td_text(out, member(p, "title"));
		buf_puts(out, "<td>");
		when_html(out, lang, member(p, "published_at"));
		buf_puts(out, "</td></tr>\n");
	}
	table_section_close(out);
}

static void letter_usage(struct buf *out, const struct lsec *sc, const struct decl *d,
                         const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_TIME, NM_X_ACTOR, NM_X_ACTION, NM_X_PURPOSE};
	size_t k;
	const json_t *u;
	section_open(out, sc, "usage", lang, NM_X_H_USAGE);
	buf_puts(out, "<p>");
	html_text(out, nmsg(NM_X_USAGE_INTRO, lang));
	buf_puts(out, "</p>\n");
	if (!json_array_size(list)) {
		none(out, lang);
	} else {
		table_open(out, lang, cols, 4);
		json_array_foreach (list, k, u) {
			buf_puts(out, "<tr><td>");
			when_html(out, lang, member(u, "at"));
			buf_puts(out, "</td>");
			td_text(out, member(u, "actor"));
			td_text(out, action_text(member(u, "action"), lang));
			td_purpose(out, d, member(u, "purpose"), lang);
			buf_puts(out, "</tr>\n");
		}
		buf_puts(out, "</tbody>\n</table>\n");
	}
	buf_puts(out, "</section>\n");
}

/* A cell with a date or time as `lang` writes it. */
static void td_when(struct buf *out, enum lang lang, const char *iso)
{
	buf_puts(out, "<td>");
	when_html(out, lang, iso);
	buf_puts(out, "</td>");
}

/* A cell with a time span "start – end". */
static void td_span(struct buf *out, enum lang lang, const char *from, const char *to)
{
	buf_puts(out, "<td>");
	when_html(out, lang, from);
	if (to) {
		buf_puts(out, " – ");
		when_html(out, lang, to);
	}
	buf_puts(out, "</td>");
}

/* A cell with the members of JSON object `o` as "name: value" lines, every part escaped. */
static void td_members(struct buf *out, const json_t *o)
{
	const char *key;
	const json_t *v;
	bool first = true;
	buf_puts(out, "<td>");
	if (json_is_object(o)) {
		json_object_foreach ((json_t *)o, key, v) {
			if (!first)
				buf_puts(out, "<br>");
			first = false;
			html_text(out, key);
			buf_puts(out, ": ");
			value_html(out, v);
		}
	} else {
		value_html(out, o);
	}
	buf_puts(out, "</td>");
}

static void letter_consents(struct buf *out, const struct lsec *sc, const struct decl *d,
                            const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_PURPOSE, NM_X_CHANNEL, NM_X_TEXT,
	                                 NM_X_GIVEN,   NM_X_STATUS,  NM_X_WITHDRAWN};
	size_t k;
	const json_t *c;
	if (!table_section(out, sc, "consents", lang, NM_X_H_CONSENTS, list, cols, 6))
		return;
	json_array_foreach (list, k, c) {
		buf_puts(out, "<tr>");
		td_purpose(out, d, member(c, "purpose"), lang);
		td_text(out, member(c, "channel"));
		buf_puts(out, "<td>");
		html_text(out, member(c, "text"));
		buf_puts(out, " (");
		html_text(out, member(c, "text_version"));
		buf_puts(out, ")</td>");
		td_when(out, lang, member(c, "given_at"));
		td_text(out, member(c, "state"));
		buf_puts(out, "<td>");
		when_html(out, lang, member(c, "withdrawn_at"));
		if (member(c, "withdrawn_how")) {
			buf_puts(out, " (");
			html_text(out, member(c, "withdrawn_how"));
			buf_puts(out, ")");
		}
		buf_puts(out, "</td></tr>\n");
	}
	table_section_close(out);
}

static void letter_subscriptions(struct buf *out, const struct lsec *sc, const json_t *list,
                                 enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_LIST, NM_X_START, NM_X_END};
	size_t k;
	const json_t *s;
	if (!table_section(out, sc, "subscriptions", lang, NM_X_H_SUBSCRIPTIONS, list, cols, 3))
		return;
	json_array_foreach (list, k, s) {
		buf_puts(out, "<tr>");
		td_text(out, member(json_object_get(s, "list"), "name"));
		td_when(out, lang, member(s, "since"));
		td_when(out, lang, member(s, "ended_at"));
		buf_puts(out, "</tr>\n");
	}
	table_section_close(out);
}

static void letter_bans(struct buf *out, const struct lsec *sc, const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_CHANNEL, NM_X_START, NM_X_SOURCE};
	size_t k;
	const json_t *b;
	if (!table_section(out, sc, "marketing-bans", lang, NM_X_H_BANS, list, cols, 3))
		return;
	json_array_foreach (list, k, b) {
		buf_puts(out, "<tr>");
		td_text(out, member(b, "channel"));
		td_when(out, lang, member(b, "since"));
		td_text(out, member(b, "source"));
		buf_puts(out, "</tr>\n");
	}
	table_section_close(out);
}

static void letter_records(struct buf *out, const struct lsec *sc, const struct decl *d,
                           const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_TYPE, NM_X_DAY, NM_X_CONTENT};
	size_t k;
	const json_t *r;
	if (!table_section(out, sc, "records", lang, NM_X_H_RECORDS, list, cols, 3))
		return;
	json_array_foreach (list, k, r) {
		const char *type = member(r, "type");
		const struct decl_record_type *t = type ? decl_record_type(d, type) : NULL;
		buf_puts(out, "<tr><td>");
		if (t)
			decl_html(out, &t->name, lang, type);
		else
			html_text(out, type);
		buf_puts(out, "</td>");
		td_when(out, lang, member(r, "on"));
		td_members(out, json_object_get(r, "data"));
		buf_puts(out, "</tr>\n");
	}
	table_section_close(out);
}

static void letter_requests(struct buf *out, const struct lsec *sc, const json_t *list,
                            enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_TYPE,   NM_X_CHANNEL,  NM_X_RECEIVED, NM_X_DUE,
	                                 NM_X_STATUS, NM_X_VERIFIED, NM_X_STEPS};
	size_t k, i;
	const json_t *r, *st;
	if (!table_section(out, sc, "requests", lang, NM_X_H_REQUESTS, list, cols, 7))
		return;
	json_array_foreach (list, k, r) {
		buf_puts(out, "<tr>");
		td_text(out, member(r, "type"));
		td_text(out, member(r, "channel"));
		td_when(out, lang, member(r, "received_at"));
		const char *due = member(r, "extended_to");
		td_when(out, lang, due ? due : member(r, "due_on"));
		td_text(out, member(r, "state"));
		const json_t *v = json_object_get(r, "verification");
		buf_puts(out, "<td>");
		html_text(out, member(v, "method"));
		if (member(v, "at")) {
			buf_puts(out, " ");
			when_html(out, lang, member(v, "at"));
		}
		buf_puts(out, "</td><td>");
		json_array_foreach (json_object_get(r, "steps"), i, st) {
			if (i)
				buf_puts(out, "<br>");
			when_html(out, lang, member(st, "at"));
			buf_puts(out, " ");
			html_text(out, member(st, "action"));
			buf_puts(out, " (");
			html_text(out, member(st, "actor"));
			buf_puts(out, ")");
		}
		buf_puts(out, "</td></tr>\n");
	}
	table_section_close(out);
}

static void letter_mailings(struct buf *out, const struct lsec *sc, const struct decl *d,
                            const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_SUBJECT, NM_X_PURPOSE, NM_X_STATUS, NM_X_SENT,
	                                 NM_X_OPENS};
	size_t k, i;
	const json_t *m, *o;
	if (!table_section(out, sc, "mailings", lang, NM_X_H_MAILINGS, list, cols, 5))
		return;
	json_array_foreach (list, k, m) {
		buf_puts(out, "<tr>");
		td_text(out, member(m, "subject"));
		td_purpose(out, d, member(m, "purpose"), lang);
		td_text(out, member(m, "state"));
		td_when(out, lang, member(m, "sent_at"));
		buf_puts(out, "<td>");
		json_array_foreach (json_object_get(m, "opens"), i, o) {
			if (i)
				buf_puts(out, "<br>");
			when_html(out, lang, json_string_value(o));
		}
		buf_puts(out, "</td></tr>\n");
	}
	table_section_close(out);
}

/* The place of an event or session: its address, else the address it is held at online. */
static void td_place(struct buf *out, const json_t *o)
{
	const char *place = member(o, "place");
	td_text(out, place ? place : member(o, "url"));
}

static void letter_registrations(struct buf *out, const struct lsec *sc, const json_t *list,
                                 enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_EVENT, NM_X_TIME, NM_X_PLACE, NM_X_DAY, NM_X_CHOICES};
	size_t k;
	const json_t *g;
	if (!table_section(out, sc, "event-registrations", lang, NM_X_H_REGISTRATIONS, list, cols,
	                   5))
		return;
	json_array_foreach (list, k, g) {
		const json_t *e = json_object_get(g, "event");
		buf_puts(out, "<tr>");
		td_text(out, member(e, "title"));
		td_span(out, lang, member(e, "starts_at"), member(e, "ends_at"));
		td_place(out, e);
		td_when(out, lang, member(g, "registered_on"));
		td_members(out, json_object_get(g, "consents"));
		buf_puts(out, "</tr>\n");
	}
	table_section_close(out);
}

static void letter_attendance(struct buf *out, const struct lsec *sc, const json_t *list,
                              enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_EVENT, NM_X_SESSION, NM_X_TIME, NM_X_PLACE};
	size_t k;
	const json_t *a;
	if (!table_section(out, sc, "event-attendance", lang, NM_X_H_ATTENDANCE, list, cols, 4))
		return;
	json_array_foreach (list, k, a) {
		const json_t *s = json_object_get(a, "session");
		buf_puts(out, "<tr>");
		td_text(out, member(json_object_get(a, "event"), "title"));
		td_text(out, member(s, "title"));
		td_span(out, lang, member(s, "starts_at"), member(s, "ends_at"));
		td_place(out, s);
		buf_puts(out, "</tr>\n");
	}
	table_section_close(out);
}

static void letter_meetings(struct buf *out, const struct lsec *sc, const json_t *list,
                            enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_EVENT, NM_X_TIME, NM_X_PLACE};
	size_t k;
	const json_t *m;
	if (!table_section(out, sc, "event-meetings", lang, NM_X_H_MEETINGS, list, cols, 3))
		return;
	json_array_foreach (list, k, m) {
		buf_puts(out, "<tr>");
		td_text(out, member(json_object_get(m, "event"), "title"));
		td_span(out, lang, member(m, "starts_at"), member(m, "ends_at"));
		td_place(out, m);
		buf_puts(out, "</tr>\n");
	}
	table_section_close(out);
}

static void letter_chat(struct buf *out, const struct lsec *sc, const json_t *list, enum lang lang)
{
	static const enum nmsg cols[] = {NM_X_EVENT, NM_X_SESSION, NM_X_TIME, NM_X_MESSAGE};
	size_t k;
	const json_t *m;
	if (!table_section(out, sc, "event-chat-messages", lang, NM_X_H_CHAT, list, cols, 4))
		return;
	json_array_foreach (list, k, m) {
		buf_puts(out, "<tr>");
		td_text(out, member(json_object_get(m, "event"), "title"));
		td_text(out, member(json_object_get(m, "session"), "title"));
		td_when(out, lang, member(m, "at"));
		td_text(out, member(m, "text"));
		buf_puts(out, "</tr>\n");
	}
	table_section_close(out);
}

/* Tables on top of the notice's style sheet: the letter is a file, so its style is inline. */
static const char letter_css[] =
        "table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.95rem}"
        "th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid "
        "#ccc}thead th{border-bottom:2px solid #1a1a1a}table.kv th{width:40%;font-weight:600}"
        "@media print{table{page-break-inside:auto}tr{page-break-inside:avoid}}\n";

/*
 * The sections of export `export` of register `d`: the subject's data, then the Art.
 * 15(1)(a)–(h) information from the register's notice, starting at `first` (the request's
 * register names its controller; another register of the same controller has the same one).
 */
static void letter_register(struct buf *out, const struct lsec *sc, const struct decl *d,
                            const json_t *export, enum lang lang, enum notice_part first)
{
	letter_subject(out, sc, d, json_object_get(export, "subject"), lang);
	letter_contacts(out, sc, d, json_object_get(export, "contact_points"), lang);
	/* A portable export has only what the subject provided: the sections of what it lacks
	 * are left out. */
	const json_t *v;
	if ((v = json_object_get(export, "affiliations")))
		letter_affiliations(out, sc, v, lang);
	if ((v = json_object_get(export, "change_history")))
		letter_history(out, sc, d, v, lang);
	if ((v = json_object_get(export, "consents")))
		letter_consents(out, sc, d, v, lang);
	if ((v = json_object_get(export, "subscriptions")))
		letter_subscriptions(out, sc, v, lang);
	if ((v = json_object_get(export, "marketing_bans")))
		letter_bans(out, sc, v, lang);
	if ((v = json_object_get(export, "records")))
		letter_records(out, sc, d, v, lang);
	if ((v = json_object_get(export, "requests")))
		letter_requests(out, sc, v, lang);
	if ((v = json_object_get(export, "mailings")))
		letter_mailings(out, sc, d, v, lang);
	if ((v = json_object_get(export, "event_registrations")))
		letter_registrations(out, sc, v, lang);
	if ((v = json_object_get(export, "event_attendance")))
		letter_attendance(out, sc, v, lang);
	if ((v = json_object_get(export, "event_meetings")))
		letter_meetings(out, sc, v, lang);
	if ((v = json_object_get(export, "event_chat_messages")))
		letter_chat(out, sc, v, lang);
	if ((v = json_object_get(export, "directory_publications")))
		letter_directory(out, sc, v, lang);
	if ((v = json_object_get(export, "disclosures")))
		letter_disclosures(out, sc, d, v, lang);
	if ((v = json_object_get(export, "usage_log")))
		letter_usage(out, sc, d, v, lang);

	/* Art. 15(1)(a)–(h) and the controller, in the words of the register's notice. */
	section_open(out, sc, "processing", lang, NM_X_H_PROCESSING);
	buf_puts(out, "<p>");
	html_text(out, nmsg(NM_X_PROCESSING_INTRO, lang));
	buf_puts(out, "</p>\n</section>\n");
	for (int p = (int)first; p < NP__MAX; p++)
		notice_part_html_at(d, lang, (enum notice_part)p, sc->idp, sc->level, out);
}

/* Whether `x` is an export document of kortisto, of register `rid` when that is not NULL. */
static bool is_export(const json_t *x, const char *rid)
{
	const char *fmt = member(x, "format");
	const char *of = member(json_object_get(x, "register"), "id");
	return json_is_object(json_object_get(x, "subject")) && fmt &&
	       strcmp(fmt, EXPORT_FORMAT) == 0 && of && (!rid || strcmp(of, rid) == 0);
}

/*
 * Checks the other_registers of an access export (request.c's export_elsewhere) before any
 * of the letter is written: each entry names a register that is declared, and an included
 * one carries an export of that register.
 */
static int others_check(struct kctx *ctx, const json_t *others)
{
	size_t k;
	const json_t *e;
	if (!others)
		return 0;
	if (!json_is_array(others))
		return kerr_set(ctx->err, KERR_INVALID, "other_registers",
		                "not an export of kortisto");
	json_array_foreach (others, k, e) {
		const char *rid = member(e, "register");
		if (!rid)
			return kerr_set(ctx->err, KERR_INVALID, "other_registers",
			                "not an export of kortisto");
		if (!app_register(ctx->app, rid))
			return kerr_set(ctx->err, KERR_NOTFOUND, "register",
			                "register '%s' not found", rid);
		if (json_is_true(json_object_get(e, "included")) &&
		    !is_export(json_object_get(e, "export"), rid))
			return kerr_set(ctx->err, KERR_INVALID, "other_registers",
			                "not an export of kortisto");
	}
	return 0;
}

/*
 * One of the controller's other registers the subject is in, after the request register's
 * sections: under a heading with the register's name, the data it holds and its own
 * Art. 15 information when the export includes it; else (the handler does not manage it)
 * a paragraph saying that its manager answers for it separately.
 */
static void letter_other(struct buf *out, const struct decl *o, const char *rid,
                         const json_t *entry, enum lang lang)
{
	const json_t *x = json_object_get(entry, "export");
	bool included = json_is_true(json_object_get(entry, "included")) && x;
	struct buf idp = BUF_INIT;
	buf_puts(&idp, "register-");
	buf_puts(&idp, rid);
	buf_putc(&idp, '-');
	const struct lsec sc = {idp.p, 3};

	buf_puts(out, "<section class=\"register\" aria-labelledby=\"register-");
	html_attr(out, rid);
	buf_puts(out, "\">\n<h2 id=\"register-");
	html_attr(out, rid);
	buf_puts(out, "\">");
	decl_html(out, &o->name, lang, rid);
	buf_puts(out, "</h2>\n<p>");
	html_text(out, nmsg(included ? NM_X_OTHER_INTRO : NM_X_OTHER_SEPARATE, lang));
	buf_puts(out, "</p>\n");
	if (included)
		letter_register(out, &sc, o, x, lang, NP_PURPOSES);
	buf_puts(out, "</section>\n");
	buf_free(&idp);
}

int export_letter(struct kctx *ctx, const json_t *export, enum lang lang, struct buf *out)
{
	const char *rid = member(json_object_get(export, "register"), "id");
	if (!is_export(export, NULL))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "not an export of kortisto");
	const struct decl *d = app_register(ctx->app, rid);
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid);
	const json_t *others = json_object_get(export, "other_registers");
	int rc = others_check(ctx, others);
	if (rc)
		return rc;
	if ((int)lang < 0 || lang >= LANG__MAX)
		lang = LANG_FI;
	const char *kind = member(export, "kind");
	bool portable = kind && strcmp(kind, "portability") == 0;
	bool fb = false;
	const char *name = decl_text(&d->name, lang, &fb);

	buf_puts(out, "<!doctype html>\n<html lang=\"");
	buf_puts(out, lang_code(lang));
	buf_puts(out, "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	              "content=\"width=device-width, initial-scale=1\">\n<title>");
	html_text(out, nmsg(NM_X_KIND, lang));
	buf_puts(out, " – ");
	html_text(out, name);
	buf_puts(out, "</title>\n<style>");
	buf_puts(out, notice_css());
	buf_puts(out, letter_css);
	buf_puts(out, "</style>\n</head>\n<body>\n<header>\n<p class=\"kind\">");
	html_text(out, nmsg(NM_X_KIND, lang));
	buf_puts(out, "</p>\n<h1>");
	decl_html(out, &d->name, lang, rid);
	buf_puts(out, "</h1>\n<p>");
	html_text(out, nmsg(portable ? NM_X_PORTABLE_LAW : NM_X_LAW, lang));
	buf_puts(out, "</p>\n<dl>\n<dt>");
	html_text(out, nmsg(NM_X_REGISTER, lang));
	buf_puts(out, "</dt><dd>");
	decl_html(out, &d->name, lang, rid);
	buf_puts(out, "</dd>\n<dt>");
	if (json_array_size(others)) {
		/* The other registers the letter answers for, or names, under the first. */
		html_text(out, nmsg(NM_X_REGISTERS_OTHER, lang));
		buf_puts(out, "</dt>");
		size_t j;
		const json_t *o;
		json_array_foreach (others, j, o) {
			const char *orid = member(o, "register");
			const struct decl *od = orid ? app_register(ctx->app, orid) : NULL;
			buf_puts(out, "<dd>");
			if (od)
				decl_html(out, &od->name, lang, orid);
			buf_puts(out, "</dd>");
		}
		buf_puts(out, "\n<dt>");
	}
	html_text(out, nmsg(NM_X_GENERATED, lang));
	buf_puts(out, "</dt><dd>");
	when_html(out, lang, member(export, "generated_at"));
	buf_puts(out, "</dd>\n</dl>\n</header>\n<main>\n<p>");
	html_text(out, nmsg(NM_X_INTRO, lang));
	buf_puts(out, "</p>\n");

	letter_register(out, &top, d, export, lang, NP_CONTROLLER);
	size_t k;
	const json_t *e;
	json_array_foreach (others, k, e) {
		const char *orid = member(e, "register");
		letter_other(out, app_register(ctx->app, orid), orid, e, lang);
	}
	buf_puts(out, "</main>\n</body>\n</html>\n");
	return 0;
}

int export_subject_lang(const json_t *export)
{
	size_t k;
	const json_t *a;
	json_array_foreach (json_object_get(json_object_get(export, "subject"), "attributes"), k,
	                    a) {
		const char *field = json_string_value(json_object_get(a, "field"));
		if (field && !strcmp(field, "language"))
			return lang_from_code(json_string_value(json_object_get(a, "value")));
	}
	return -1;
}
