/*
 * Advisory and customer-service records: the content of a person_records row, validated
 * against one allow-list per record type (the `kinds` table below: member, type, required,
 * allowed values). A member that is not in the table is refused by name, so nothing
 * undeclared is stored. The record row is made through retention_event_add_tx, in the same
 * transaction as its content and its count in the statistics, so the customer-event clock,
 * the retention rules and the usage log see it as they see every record.
 */
#include "core/service.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/account.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "core/retention.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/ics.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"

/* ---------------------------------------------------------------- the allow-lists */

enum mtype {
	M_SHORT,    /* a string of 1–60 characters (channel-like names, municipalities) */
	M_STRING,   /* a string of 1–200 characters */
	M_TEXT,     /* a string of 1–4000 characters */
	M_INT,      /* an integer 0 … 10^12 (ids, amounts in cents, counts) */
	M_DATE,     /* YYYY-MM-DD */
	M_DATETIME, /* an ISO 8601 time, e.g. 2026-01-05T09:30:00Z */
	M_STEPS,    /* an array of at most 50 plan steps, each an object of `steps` */
	M_ORG,      /* the id of an organisation of the register */
	M_RECORD,   /* the id of a record of the register of the type `choices` names */
	M__MAX
};

static const char *const mtype_names[M__MAX] = {
        [M_SHORT] = "string(60)", [M_STRING] = "string(200)",  [M_TEXT] = "text(4000)",
        [M_INT] = "integer",      [M_DATE] = "date",           [M_DATETIME] = "datetime",
        [M_STEPS] = "steps",      [M_ORG] = "organisation id", [M_RECORD] = "record id",
};

struct member {
	const char *name;
	enum mtype type;
	bool required;
	const char *choices; /* "a|b|c": the only values allowed; NULL: any; M_RECORD: the
	                      * record type the id must be of */
};

#define CHANNELS "visit|phone|video|email|chat|letter|event|other"

static const struct member appointment[] = {
        {"start", M_DATETIME, true, NULL},
        {"end", M_DATETIME, false, NULL},
        {"channel", M_SHORT, true, CHANNELS},
        {"place", M_STRING, false, NULL},
        {"staff", M_STRING, true, NULL},
        {"topic", M_STRING, true, NULL},
        {"outcome", M_TEXT, false, NULL},
        {"status", M_SHORT, false, "booked|held|cancelled|no_show"},
        {"municipality", M_SHORT, false, NULL},
};
static const struct member service_arrangement[] = {
        {"service", M_STRING, true, NULL},
        {"provider", M_STRING, false, NULL},
        {"channel", M_SHORT, false, CHANNELS},
        {"starts", M_DATE, false, NULL},
        {"ends", M_DATE, false, NULL},
        {"status", M_SHORT, false, "planned|active|ended|cancelled"},
        {"details", M_TEXT, false, NULL},
        {"staff", M_STRING, false, NULL},
        {"municipality", M_SHORT, false, NULL},
};
static const struct member customer_note[] = {
        {"text", M_TEXT, true, NULL},
        {"topic", M_STRING, false, NULL},
        {"staff", M_STRING, false, NULL},
};
static const struct member customer_contact[] = {
        {"channel", M_SHORT, true, CHANNELS},   {"direction", M_SHORT, false, "inbound|outbound"},
        {"at", M_DATETIME, false, NULL},        {"topic", M_STRING, true, NULL},
        {"summary", M_TEXT, false, NULL},       {"staff", M_STRING, false, NULL},
        {"municipality", M_SHORT, false, NULL},
};
static const struct member customer_plan[] = {
        {"title", M_STRING, true, NULL},  {"status", M_SHORT, true, "draft|active|done|cancelled"},
        {"steps", M_STEPS, false, NULL},  {"review_on", M_DATE, false, NULL},
        {"staff", M_STRING, false, NULL},
};
/* The members of one step of a customer plan. */
static const struct member plan_step[] = {
        {"text", M_STRING, true, NULL},
        {"status", M_SHORT, true, "open|in_progress|done|dropped"},
        {"due", M_DATE, false, NULL},
};
static const struct member service_order[] = {
        {"service", M_STRING, true, NULL},
        {"status", M_SHORT, true, "ordered|confirmed|delivered|cancelled"},
        {"quantity", M_INT, false, NULL},
        {"unit_price_cents", M_INT, false, NULL},
        {"ordered_on", M_DATE, false, NULL},
        {"deliver_on", M_DATE, false, NULL},
        {"channel", M_SHORT, false, CHANNELS},
        {"municipality", M_SHORT, false, NULL},
        {"notes", M_TEXT, false, NULL},
};
static const struct member billing[] = {
        {"invoice_ref", M_SHORT, true, NULL},
        {"amount_cents", M_INT, true, NULL},
        {"vat_percent", M_INT, false, NULL},
        {"due_on", M_DATE, false, NULL},
        {"status", M_SHORT, true, "open|sent|paid|credited"},
        {"billing_address", M_STRING, false, NULL},
        {"order_record", M_RECORD, false, "service_order"},
};
static const struct member job_offer[] = {
        {"organisation_id", M_ORG, true, NULL},
        {"position", M_STRING, true, NULL},
        {"position_record", M_RECORD, false, "open_position"},
        {"offered_on", M_DATE, false, NULL},
        {"status", M_SHORT, false, "offered|accepted|declined|withdrawn"},
        {"staff", M_STRING, false, NULL},
};
static const struct member employer_introduction[] = {
        {"organisation_id", M_ORG, true, NULL},
        {"position_record", M_RECORD, false, "open_position"},
        {"introduced_on", M_DATE, false, NULL},
        {"outcome", M_SHORT, false, "pending|interview|hired|not_hired"},
        {"notes", M_TEXT, false, NULL},
        {"staff", M_STRING, false, NULL},
};
static const struct member open_position[] = {
        {"organisation_id", M_ORG, true, NULL},
        {"title", M_STRING, true, NULL},
        {"openings", M_INT, false, NULL},
        {"apply_by", M_DATE, false, NULL},
        {"status", M_SHORT, true, "open|filled|closed"},
        {"description", M_TEXT, false, NULL},
        {"municipality", M_SHORT, false, NULL},
};

#define KIND(t)                                                                                    \
	{                                                                                          \
#t, t, sizeof(t) / sizeof(t[0])                                                    \
	}

/* The record types with content. A register's record type of another name has no content
 * here (its records stay type and day only: `kortisto person event`). */
static const struct kind {
	const char *type;
	const struct member *members;
	size_t n;
} kinds[] = {
        KIND(appointment),      KIND(service_arrangement), KIND(customer_note),
        KIND(customer_contact), KIND(customer_plan),       KIND(service_order),
        KIND(billing),          KIND(job_offer),           KIND(employer_introduction),
        KIND(open_position),
};

static const struct kind *kind_of(const char *type)
{
	for (size_t i = 0; type && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].type, type) == 0)
			return &kinds[i];
	return NULL;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	for (const char *p = choices; *p;) {
		size_t len = strcspn(p, "|");
		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p += len;
		if (*p == '|')
			p++;
	}
	return false;
}

/* Counts the UTF-8 characters of `s` (jansson has checked it is valid UTF-8). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int check_object(struct kctx *ctx, const char *rid, const char *what, const struct member *m,
                        size_t n, json_t *obj);

/* Checks value `v` of member `m` (`path` names it in errors, e.g. "data.start"). */
static int check_value(struct kctx *ctx, const char *rid, const char *path, const struct member *m,
                       json_t *v)
{
	const char *why = NULL;
	int y, mo, d;
	int64_t t;
	switch (m->type) {
	case M_SHORT:
	case M_STRING:
	case M_TEXT: {
		size_t max = m->type == M_SHORT ? 60 : m->type == M_STRING ? 200 : 4000;
		const char *s = json_string_value(v);
		if (!s || !*s || utf8_chars(s) > max)
			return kerr_set(ctx->err, KERR_INVALID, path,
			                "%s: a string of 1 to %zu characters", path, max);
		if (m->choices && !choice_ok(m->choices, s))
			return kerr_set(ctx->err, KERR_INVALID, path, "%s: one of %s", path,
			                m->choices);
		return 0;
	}
	case M_INT:
	case M_ORG:
	case M_RECORD:
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000000000LL)
			return kerr_set(ctx->err, KERR_INVALID, path,
			                "%s: an integer from 0 to 10^12", path);
		if (m->type == M_RECORD || m->type == M_ORG) {
			/* A reference: to an organisation of the register, or to a record of the
			 * register of the type the member names. */
			struct query *q =
			        store_query(ctx->db, m->type == M_ORG ? ST_SVC_ORG_EXISTS
			                                              : ST_SVC_RECORD_EXISTS);
			q_text(q, 1, rid);
			q_int(q, 2, json_integer_value(v));
			if (m->type == M_RECORD)
				q_text(q, 3, m->choices);
			int rc = q_step(q, ctx->err);
			q_done(q);
			if (rc < 0)
				return rc;
			if (rc == 0 && m->type == M_ORG)
				return kerr_set(ctx->err, KERR_NOTFOUND, path,
				                "%s: organisation %" JSON_INTEGER_FORMAT
				                " not found in register '%s'",
				                path, json_integer_value(v), rid);
			if (rc == 0)
				return kerr_set(ctx->err, KERR_NOTFOUND, path,
				                "%s: no %s record %" JSON_INTEGER_FORMAT
				                " in register '%s'",
				                path, m->choices, json_integer_value(v), rid);
		}
		return 0;
	case M_DATE:
		if (!json_is_string(v) || strlen(json_string_value(v)) != 10 ||
		    !date_valid(json_string_value(v), &y, &mo, &d, &why))
			return kerr_set(ctx->err, KERR_INVALID, path, "%s: a day YYYY-MM-DD", path);
		return 0;
	case M_DATETIME:
		if (!json_is_string(v) || !strchr(json_string_value(v), 'T') ||
		    time_parse_iso8601(json_string_value(v), &t) != 0)
			return kerr_set(ctx->err, KERR_INVALID, path,
			                "%s: a time such as 2026-01-05T09:30:00Z", path);
		return 0;
	case M_STEPS: {
		size_t i;
		json_t *step;
		char sub[128];
		if (!json_is_array(v) || json_array_size(v) > 50)
			return kerr_set(ctx->err, KERR_INVALID, path,
			                "%s: an array of at most 50 steps", path);
		json_array_foreach (v, i, step) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			int rc = check_object(ctx, rid, sub, plan_step,
			                      sizeof(plan_step) / sizeof(plan_step[0]), step);
			if (rc)
				return rc;
		}
		return 0;
	}
	case M__MAX: break;
	}
	return kerr_set(ctx->err, KERR_INTERNAL, path, "%s: no validator", path);
}

/* Checks object `obj` (named `what` in errors) against members m[0..n-1]: every member known
 * and valid, every required one present. An unknown member is named when its name is an
 * identifier; another name could carry personal data into an error message. */
static int check_object(struct kctx *ctx, const char *rid, const char *what, const struct member *m,
                        size_t n, json_t *obj)
{
	const char *key, *why;
	json_t *v;
	char path[96];
	if (!json_is_object(obj))
		return kerr_set(ctx->err, KERR_INVALID, what, "%s: must be an object", what);
	json_object_foreach (obj, key, v) {
		const struct member *hit = NULL;
		for (size_t i = 0; i < n && !hit; i++)
			if (strcmp(m[i].name, key) == 0)
				hit = &m[i];
		if (!hit) {
			if (strlen(key) <= 40 && ident_valid(key, &why)) {
				snprintf(path, sizeof(path), "%s.%s", what, key);
				return kerr_set(ctx->err, KERR_INVALID, path,
				                "%s: not a member of this record type", path);
			}
			return kerr_set(ctx->err, KERR_INVALID, what,
			                "%s: a member name that is not an identifier", what);
		}
		snprintf(path, sizeof(path), "%s.%s", what, key);
		int rc = check_value(ctx, rid, path, hit, v);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < n; i++)
		if (m[i].required && !json_object_get(obj, m[i].name)) {
			snprintf(path, sizeof(path), "%s.%s", what, m[i].name);
			return kerr_set(ctx->err, KERR_INVALID, path, "%s: required", path);
		}
	return 0;
}

json_t *service_schema(void)
{
	json_t *out = json_array();
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		json_t *ms = json_array();
		for (size_t i = 0; i < kinds[k].n; i++) {
			const struct member *m = &kinds[k].members[i];
			json_t *o = json_pack("{sssssb}", "name", m->name, "type",
			                      mtype_names[m->type], "required", m->required);
			if (m->choices)
				json_object_set_new(o,
				                    m->type == M_RECORD ? "record_type" : "choices",
				                    json_string(m->choices));
			json_array_append_new(ms, o);
		}
		json_array_append_new(out,
		                      json_pack("{ssso}", "type", kinds[k].type, "members", ms));
	}
	return out;
}

/* ---------------------------------------------------------------- rights */

/* The operator and system jobs; else a user or token with at least `least` on `rid`. */
static int require_role(struct kctx *ctx, const char *rid, enum role least, const char *what)
{
	if (!app_register(ctx->app, rid))
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	if (ctx->actor->kind == ACTOR_OPERATOR || ctx->actor->kind == ACTOR_SYSTEM)
		return 0;
	struct principal p;
	if (account_actor(ctx, &p) == 0) {
		enum role r = auth_role(ctx, &p, rid, NULL);
		if (r >= least && r != ROLE_PROCESSOR)
			return 0;
	}
	kerr_clear(ctx->err);
	return kerr_set(ctx->err, KERR_FORBIDDEN, NULL, "only a%s %s of register '%s' may %s",
	                least == ROLE_EDITOR ? "n" : "", role_name(least), rid, what);
}

/* a restricted or passivated person is out of every use but storage; only a manager
 * (ctx->sees_restricted) reads or changes their records. KERR_NOTFOUND without the person. */
static int person_usable(struct kctx *ctx, const char *rid, int64_t person_id)
{
	struct query *q = store_query(ctx->db, ST_SVC_PERSON_STATUS);
	q_text(q, 1, rid);
	q_int(q, 2, person_id);
	int rc = q_step(q, ctx->err);
	bool active = rc == 1 && strcmp(q_col_text(q, 0), "active") == 0;
	q_done(q);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "person",
		                "person %" PRId64 " not found in register '%s'", person_id, rid);
	if (!active && !ctx->sees_restricted)
		return kerr_set(ctx->err, KERR_REFUSED, "person",
		                "the processing of person %" PRId64 "'s data is restricted (GDPR"
		                " Art. 18): only a manager of the register handles it",
		                person_id);
	return 0;
}

/* ---------------------------------------------------------------- statistics */

/* E-05: counts the new record in (service, channel, month, municipality). The municipality
 * is the record's own, else the person's declared attribute `municipality`, else unknown. */
static int stats_bump(struct kctx *ctx, const char *rid, int64_t person_id, const char *type,
                      const char *on, json_t *data)
{
	const char *channel = json_string_value(json_object_get(data, "channel"));
	const char *muni = json_string_value(json_object_get(data, "municipality"));
	struct person_facts f = {0};
	int rc;
	if (!muni) {
		if ((rc = person_facts_load(ctx, rid, person_id, &f)))
			return rc;
		muni = json_string_value(json_object_get(f.attrs, "municipality"));
	}
	struct query *q = store_query(ctx->db, ST_SVC_STATS_BUMP);
	q_text(q, 1, rid);
	q_text(q, 2, type);
	q_text(q, 3, channel ? channel : "");
	q_textn(q, 4, on, 7);
	q_text(q, 5, muni && utf8_chars(muni) <= 60 ? muni : "");
	rc = q_exec(q, ctx->err);
	json_decref(f.attrs);
	return rc;
}

/* ---------------------------------------------------------------- create */

static int add_tx(struct kctx *ctx, const char *rid, int64_t person_id, const char *type,
                  const char *on, json_t *data, int64_t *id)
{
	const struct kind *k = kind_of(type);
	char *text = NULL;
	int rc;
	if ((rc = person_usable(ctx, rid, person_id)) ||
	    (rc = check_object(ctx, rid, "data", k->members, k->n, data)) ||
	    (rc = retention_event_add_tx(ctx, rid, person_id, type, on, id)))
		return rc;
	text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	struct query *q = store_query(ctx->db, ST_SVC_INSERT);
	q_int(q, 1, *id);
	q_text(q, 2, text);
	q_text(q, 3, ctx->now_iso);
	q_text(q, 4, ctx->actor->name);
	rc = q_exec(q, ctx->err);
	free(text);
	if (rc)
		return rc;
	/* The record's day, as person_records holds it. */
	char day[11];
	time_format_date(ctx->now, day);
	return stats_bump(ctx, rid, person_id, type, on ? on : day, data);
}

int service_record_add(struct kctx *ctx, const char *rid, int64_t person_id, json_t *in,
                       int64_t *id)
{
	const char *key;
	json_t *v;
	int rc;
	if ((rc = require_role(ctx, rid, ROLE_EDITOR, "make records")))
		return rc;
	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "a record is an object");
	json_object_foreach (in, key, v) {
		if (strcmp(key, "type") && strcmp(key, "on") && strcmp(key, "data"))
			return kerr_set(ctx->err, KERR_INVALID, NULL,
			                "a record has only type, on and data");
	}
	const char *type = json_string_value(json_object_get(in, "type"));
	json_t *on = json_object_get(in, "on");
	if (on && !json_is_string(on))
		return kerr_set(ctx->err, KERR_INVALID, "on", "on: a day YYYY-MM-DD");
	const struct decl *d = app_register(ctx->app, rid);
	if (!type || !decl_record_type(d, type))
		return kerr_set(ctx->err, KERR_REFUSED, "type",
		                "type: '%s' is not a record type declared by register '%s'",
		                type && ident_valid(type, &key) ? type : "", rid);
	if (!kind_of(type))
		return kerr_set(ctx->err, KERR_REFUSED, "type",
		                "type: records of type '%s' have no content; record them with"
		                " `kortisto person event`",
		                type);
	json_t *data = json_object_get(in, "data");
	if (!data)
		return kerr_set(ctx->err, KERR_INVALID, "data", "data: required");
	IN_WRITE_TX(ctx, add_tx(ctx, rid, person_id, type, json_string_value(on), data, id));
}

/* ---------------------------------------------------------------- read */

/* A record from a row of ST_SVC_GET or ST_SVC_BY_PERSON, as a new object. */
static json_t *record_json(const char *rid, struct query *q)
{
	json_t *data = json_loads(q_col_text(q, 6), 0, NULL);
	return json_pack("{sIsssIsssssssssssssIso}", "id", (json_int_t)q_col_int(q, 0), "register",
	                 rid, "person_id", (json_int_t)q_col_int(q, 1), "type", q_col_text(q, 2),
	                 "on", q_col_text(q, 3), "created_at", q_col_text(q, 4), "created_by",
	                 q_col_text(q, 5), "updated_at", q_col_text(q, 7), "updated_by",
	                 q_col_text(q, 8), "version", (json_int_t)q_col_int(q, 9), "data",
	                 data ? data : json_object());
}

/* Loads record `id` of `rid` (*out, the caller's) and its person (*person_id), checking the
 * person may be used. Inside the caller's transaction. */
static int load(struct kctx *ctx, const char *rid, int64_t id, json_t **out, int64_t *person_id)
{
	struct query *q = store_query(ctx->db, ST_SVC_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		*person_id = q_col_int(q, 1);
		if (!ctx->sees_restricted && strcmp(q_col_text(q, 10), "active") != 0)
			rc = kerr_set(ctx->err, KERR_REFUSED, "id",
			              "the processing of person %" PRId64 "'s data is restricted"
			              " (GDPR Art. 18): only a manager of the register handles it",
			              *person_id);
		else
			*out = record_json(rid, q);
	}
	q_done(q);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                "record %" PRId64 " not found in register '%s'", id, rid);
	return rc < 0 ? rc : 0;
}

static int history_load(struct kctx *ctx, int64_t id, json_t *rec)
{
	json_t *h = json_array();
	struct query *q = store_query(ctx->db, ST_SVC_HISTORY);
	q_int(q, 1, id);
	int rc;
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *o = q_col_text(q, 1), *n = q_col_text(q, 2);
		json_t *ov = o ? json_loads(o, JSON_DECODE_ANY, NULL) : NULL;
		json_t *nv = n ? json_loads(n, JSON_DECODE_ANY, NULL) : NULL;
		json_array_append_new(h,
		                      json_pack("{sssosossss}", "member", q_col_text(q, 0), "old",
		                                ov ? ov : json_null(), "new", nv ? nv : json_null(),
		                                "actor", q_col_text(q, 3), "at", q_col_text(q, 4)));
	}
	q_done(q);
	json_object_set_new(rec, "history", h);
	return rc < 0 ? rc : 0;
}

static int get_read(struct kctx *ctx, const char *rid, int64_t id, bool history, json_t **out,
                    int64_t *person_id)
{
	int rc = load(ctx, rid, id, out, person_id);
	if (!rc && history)
		rc = history_load(ctx, id, *out);
	return rc;
}

int service_record_get(struct kctx *ctx, const char *rid, int64_t id, bool history, json_t **out)
{
	int64_t person_id = 0;
	int rc;
	*out = NULL;
	if ((rc = require_role(ctx, rid, ROLE_VIEWER, "read records")) ||
	    (rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if ((rc = get_read(ctx, rid, id, history, out, &person_id))) {
		store_rollback(ctx->db);
		goto out;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto out;
	struct usage_entry e = {
	        .action = "read",
	        .rid = rid,
	        .entity = "record",
	        .entity_id = id,
	        .subjects = &person_id,
	        .nsubjects = 1,
	};
	rc = usage_read(ctx, &e);
out:
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* Logs a read of person `person_id`'s records, before they are shown. */
static int person_records_read(struct kctx *ctx, const char *rid, int64_t person_id)
{
	struct usage_entry e = {
	        .action = "read",
	        .rid = rid,
	        .entity = "record",
	        .subjects = &person_id,
	        .nsubjects = 1,
	};
	return usage_read(ctx, &e);
}

static int list_read(struct kctx *ctx, const char *rid, int64_t person_id, json_t *items)
{
	int rc = person_usable(ctx, rid, person_id);
	if (rc)
		return rc;
	struct query *q = store_query(ctx->db, ST_SVC_BY_PERSON);
	q_text(q, 1, rid);
	q_int(q, 2, person_id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(items, record_json(rid, q));
	q_done(q);
	return rc < 0 ? rc : 0;
}

int service_record_list(struct kctx *ctx, const char *rid, int64_t person_id, json_t **out)
{
	json_t *items = json_array();
	int rc;
	*out = NULL;
	if ((rc = require_role(ctx, rid, ROLE_VIEWER, "read records")) ||
	    (rc = store_begin_read(ctx->db, ctx->err)))
		goto out;
	if ((rc = list_read(ctx, rid, person_id, items))) {
		store_rollback(ctx->db);
		goto out;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto out;
	if ((rc = person_records_read(ctx, rid, person_id)) == 0) {
		*out = json_pack("{sIsO}", "person", (json_int_t)person_id, "items", items);
	}
out:
	json_decref(items);
	return rc;
}

/* Whether the content of record type `type` names an organisation. */
static bool names_org(const char *type)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(kinds[k].type, type))
			for (size_t i = 0; i < kinds[k].n; i++)
				if (kinds[k].members[i].type == M_ORG)
					return true;
	return false;
}

int service_records_of_org(struct kctx *ctx, const char *rid, int64_t org_id, const char *type,
                           json_t **out)
{
	json_t *items = json_array();
	int64_t *pids = NULL;
	size_t n = 0;
	int rc;
	*out = NULL;
	if ((rc = require_role(ctx, rid, ROLE_VIEWER, "read records")))
		goto out;
	if (type && !names_org(type)) {
		rc = kerr_set(ctx->err, KERR_INVALID, "type",
		              "type: job_offer, employer_introduction or open_position (a record "
		              "type whose content names an organisation)");
		goto out;
	}
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		goto out;
	struct query *q = store_query(ctx->db, ST_SVC_ORG_EXISTS);
	q_text(q, 1, rid);
	q_int(q, 2, org_id);
	rc = q_step(q, ctx->err);
	q_done(q);
	if (rc == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "organisation",
		              "organisation %" PRId64 " not found in register '%s'", org_id, rid);
	if (rc == 1) {
		q = store_query(ctx->db, ST_SVC_BY_ORG);
		q_text(q, 1, rid);
		q_int(q, 2, org_id);
		q_int(q, 3, ctx->sees_restricted);
		q_text(q, 4, type);
		while ((rc = q_step(q, ctx->err)) == 1)
			json_array_append_new(items, record_json(rid, q));
		q_done(q);
	}
	store_rollback(ctx->db);
	if (rc)
		goto out;
	/* Who the shown records are about: one read naming each person once. */
	pids = arena_calloc(ctx->mem, json_array_size(items) + 1, sizeof(*pids));
	size_t i;
	json_t *it;
	json_array_foreach (items, i, it)
		pids[n++] = (int64_t)json_integer_value(json_object_get(it, "person_id"));
	n = usage_ids_unique(pids, n);
	if (n) {
		struct usage_entry e = {
		        .action = "read",
		        .rid = rid,
		        .entity = "record",
		        .subjects = pids,
		        .nsubjects = n,
		        .reason = arena_printf(ctx->mem, "organisation:%" PRId64, org_id)};
		if ((rc = usage_read(ctx, &e)))
			goto out;
	}
	*out = json_pack("{sIsO}", "organisation", (json_int_t)org_id, "items", items);
out:
	json_decref(items);
	return rc;
}

/* ---------------------------------------------------------------- iCalendar */

static void ics_begin(struct buf *b)
{
	ics_raw(b, "BEGIN", "VCALENDAR");
	ics_raw(b, "VERSION", "2.0");
	ics_raw(b, "PRODID", "-//kortisto//appointments//EN");
	ics_raw(b, "CALSCALE", "GREGORIAN");
	ics_raw(b, "METHOD", "PUBLISH");
}

/* Appends appointment `rec` (as record_json makes it) as one VEVENT. The UID is made of the
 * record id and the register id only, so it stays the same through every change; DTSTAMP is
 * the time of the last change and SEQUENCE the number of changes, so a calendar that has
 * imported the file before takes the new one as an update of the same event. */
static void ics_appointment(struct kctx *ctx, const char *rid, struct buf *b, json_t *rec)
{
	json_t *data = json_object_get(rec, "data");
	const char *start = json_string_value(json_object_get(data, "start"));
	const char *end = json_string_value(json_object_get(data, "end"));
	const char *place = json_string_value(json_object_get(data, "place"));
	const char *status = json_string_value(json_object_get(data, "status"));
	const char *updated = json_string_value(json_object_get(rec, "updated_at"));
	json_int_t version = json_integer_value(json_object_get(rec, "version"));
	char t[17], seq[24];
	int64_t s;
	ics_raw(b, "BEGIN", "VEVENT");
	ics_raw(b, "UID",
	        arena_printf(ctx->mem, "record-%" JSON_INTEGER_FORMAT "@%s.kortisto",
	                     json_integer_value(json_object_get(rec, "id")), rid));
	ics_time(updated && time_parse_iso8601(updated, &s) == 0 ? s : ctx->now, t);
	ics_raw(b, "DTSTAMP", t);
	snprintf(seq, sizeof(seq), "%" JSON_INTEGER_FORMAT, version > 1 ? version - 1 : 0);
	ics_raw(b, "SEQUENCE", seq);
	if (start && time_parse_iso8601(start, &s) == 0) {
		ics_time(s, t);
		ics_raw(b, "DTSTART", t);
	}
	if (end && time_parse_iso8601(end, &s) == 0) {
		ics_time(s, t);
		ics_raw(b, "DTEND", t);
	}
	ics_text(b, "SUMMARY", json_string_value(json_object_get(data, "topic")));
	ics_text(b, "LOCATION",
	         place ? place : json_string_value(json_object_get(data, "channel")));
	if (status && strcmp(status, "cancelled") == 0)
		ics_raw(b, "STATUS", "CANCELLED");
	ics_raw(b, "END", "VEVENT");
}

static int ics_read(struct kctx *ctx, const char *rid, int64_t id, struct buf *b,
                    int64_t *person_id)
{
	json_t *rec = NULL;
	int rc = load(ctx, rid, id, &rec, person_id);
	if (rc)
		return rc;
	const char *type = json_string_value(json_object_get(rec, "type"));
	if (strcmp(type, "appointment") != 0) {
		rc = kerr_set(ctx->err, KERR_REFUSED, "type",
		              "type: record %" PRId64 " is of type '%s'; only an appointment has"
		              " a calendar file",
		              id, type);
	} else {
		ics_begin(b);
		ics_appointment(ctx, rid, b, rec);
		ics_raw(b, "END", "VCALENDAR");
	}
	json_decref(rec);
	return rc;
}

int service_record_ics(struct kctx *ctx, const char *rid, int64_t id, struct buf *out)
{
	struct buf b = BUF_INIT;
	int64_t person_id = 0;
	int rc;
	if ((rc = require_role(ctx, rid, ROLE_VIEWER, "read records")) ||
	    (rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if ((rc = ics_read(ctx, rid, id, &b, &person_id))) {
		store_rollback(ctx->db);
		goto out;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto out;
	struct usage_entry e = {
	        .action = "read",
	        .rid = rid,
	        .entity = "record",
	        .entity_id = id,
	        .subjects = &person_id,
	        .nsubjects = 1,
	};
	if ((rc = usage_read(ctx, &e)) == 0)
		buf_append(out, b.p, b.len);
out:
	buf_free(&b);
	return rc;
}

static int person_ics_read(struct kctx *ctx, const char *rid, int64_t person_id, struct buf *b)
{
	int rc = person_usable(ctx, rid, person_id);
	if (rc)
		return rc;
	ics_begin(b);
	struct query *q = store_query(ctx->db, ST_SVC_BY_PERSON);
	q_text(q, 1, rid);
	q_int(q, 2, person_id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (strcmp(q_col_text(q, 2), "appointment") != 0)
			continue;
		json_t *rec = record_json(rid, q);
		ics_appointment(ctx, rid, b, rec);
		json_decref(rec);
	}
	q_done(q);
	ics_raw(b, "END", "VCALENDAR");
	return rc < 0 ? rc : 0;
}

int service_person_ics(struct kctx *ctx, const char *rid, int64_t person_id, struct buf *out)
{
	struct buf b = BUF_INIT;
	int rc;
	if ((rc = require_role(ctx, rid, ROLE_VIEWER, "read records")) ||
	    (rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if ((rc = person_ics_read(ctx, rid, person_id, &b))) {
		store_rollback(ctx->db);
		goto out;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto out;
	if ((rc = person_records_read(ctx, rid, person_id)) == 0)
		buf_append(out, b.p, b.len);
out:
	buf_free(&b);
	return rc;
}

/* ---------------------------------------------------------------- change and delete */

static int history_put(struct kctx *ctx, int64_t id, const char *member, json_t *old, json_t *new)
{
	char *o = old ? json_dumps(old, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	char *n = new ? json_dumps(new, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	struct query *q = store_query(ctx->db, ST_SVC_HISTORY_INSERT);
	q_int(q, 1, id);
	q_text(q, 2, member);
	q_text(q, 3, o);
	q_text(q, 4, n);
	q_text(q, 5, ctx->actor->name);
	q_text(q, 6, ctx->now_iso);
	int rc = q_exec(q, ctx->err);
	free(o);
	free(n);
	return rc;
}

static int change_tx(struct kctx *ctx, const char *rid, int64_t id, json_t *patch)
{
	json_t *rec = NULL, *data, *v;
	int64_t person_id = 0;
	const char *key;
	char *text = NULL;
	bool changed = false;
	int rc = load(ctx, rid, id, &rec, &person_id);
	if (rc)
		return rc;
	const struct kind *k = kind_of(json_string_value(json_object_get(rec, "type")));
	data = json_deep_copy(json_object_get(rec, "data"));
	if (!k) {
		rc = kerr_set(ctx->err, KERR_REFUSED, "type",
		              "type: records of this type have no content any more");
		goto out;
	}
	/* Merge the patch, then check the whole content as a new record is checked. */
	json_object_foreach (patch, key, v) {
		if (json_is_null(v))
			json_object_del(data, key);
		else
			json_object_set(data, key, v);
	}
	if ((rc = check_object(ctx, rid, "data", k->members, k->n, data)))
		goto out;
	json_t *old_data = json_object_get(rec, "data");
	json_object_foreach (patch, key, v) {
		json_t *old = json_object_get(old_data, key), *new = json_object_get(data, key);
		if ((!old && !new) || (old && new &&json_equal(old, new)))
			continue;
		changed = true;
		if ((rc = history_put(ctx, id, key, old, new)))
			goto out;
	}
	if (!changed)
		goto out;
	text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	struct query *q = store_query(ctx->db, ST_SVC_UPDATE);
	q_int(q, 1, id);
	q_text(q, 2, text);
	q_text(q, 3, ctx->now_iso);
	q_text(q, 4, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		goto out;
	struct usage_entry e = {
	        .action = "update",
	        .rid = rid,
	        .entity = "record",
	        .entity_id = id,
	        .subjects = &person_id,
	        .nsubjects = 1,
	};
	rc = usage_append(ctx, &e);
out:
	free(text);
	json_decref(data);
	json_decref(rec);
	return rc;
}

int service_record_change(struct kctx *ctx, const char *rid, int64_t id, json_t *patch)
{
	const char *key;
	json_t *v;
	int rc;
	if ((rc = require_role(ctx, rid, ROLE_EDITOR, "change records")))
		return rc;
	if (!json_is_object(patch))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "a change is an object {data: {…}}");
	json_object_foreach (patch, key, v) {
		if (strcmp(key, "data") != 0)
			return kerr_set(ctx->err, KERR_INVALID, NULL,
			                "a change has only data (type and day stay as made)");
	}
	json_t *data = json_object_get(patch, "data");
	if (!json_is_object(data))
		return kerr_set(ctx->err, KERR_INVALID, "data", "data: required, an object");
	IN_WRITE_TX(ctx, change_tx(ctx, rid, id, data));
}

static int delete_tx(struct kctx *ctx, const char *rid, int64_t id)
{
	json_t *rec = NULL;
	int64_t person_id = 0;
	int rc = load(ctx, rid, id, &rec, &person_id);
	json_decref(rec);
	if (rc)
		return rc;
	/* The content and its history go with the record (ON DELETE CASCADE). */
	struct query *q = store_query(ctx->db, ST_REC_DELETE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	struct usage_entry e = {
	        .action = "delete",
	        .rid = rid,
	        .entity = "record",
	        .entity_id = id,
	        .subjects = &person_id,
	        .nsubjects = 1,
	};
	return usage_append(ctx, &e);
}

int service_record_delete(struct kctx *ctx, const char *rid, int64_t id)
{
	int rc = require_role(ctx, rid, ROLE_EDITOR, "delete records");
	if (rc)
		return rc;
	IN_WRITE_TX(ctx, delete_tx(ctx, rid, id));
}

/* ---------------------------------------------------------------- statistics */

static bool month_ok(const char *s)
{
	int y, m, d;
	const char *why;
	char day[11];
	if (strlen(s) != 7)
		return false;
	snprintf(day, sizeof(day), "%s-01", s);
	return date_valid(day, &y, &m, &d, &why);
}

int service_stats(struct kctx *ctx, const char *rid, const char *from, const char *to, json_t **out)
{
	int rc;
	*out = NULL;
	if ((rc = require_role(ctx, rid, ROLE_VIEWER, "read the service statistics")))
		return rc;
	if (from && !month_ok(from))
		return kerr_set(ctx->err, KERR_INVALID, "from", "from: a month YYYY-MM");
	if (to && !month_ok(to))
		return kerr_set(ctx->err, KERR_INVALID, "to", "to: a month YYYY-MM");
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	json_t *rows = json_array();
	struct query *q = store_query(ctx->db, ST_SVC_STATS);
	q_text(q, 1, rid);
	q_text(q, 2, from ? from : "0000-00");
	q_text(q, 3, to ? to : "9999-99");
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(rows,
		                      json_pack("{sssssssssI}", "period", q_col_text(q, 0),
		                                "service", q_col_text(q, 1), "channel",
		                                q_col_text(q, 2), "municipality", q_col_text(q, 3),
		                                "count", (json_int_t)q_col_int(q, 4)));
	q_done(q);
	if (rc < 0) {
		store_rollback(ctx->db);
		json_decref(rows);
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err))) {
		json_decref(rows);
		return rc;
	}
	*out = json_pack("{ssss*ss*so}", "register", rid, "from", from, "to", to, "rows", rows);
	return 0;
}
