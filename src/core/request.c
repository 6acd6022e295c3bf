/*
 * Data-subject requests: the state machine, the deadlines, and what fulfilment does. Each
 * operation is one write transaction that checks the state it starts from, changes the
 * request, appends a step, and writes its usage-log entry (entity "request", the subject as
 * the person concerned), so the request history and the log cannot disagree. The free texts
 * of a request (reasons, notes) are the controller's words about the request and are kept
 * in the request, never in the usage log.
 */
#include "core/request.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/export.h"
#include "core/person.h"
#include "core/suppress.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"

#define MAX_TEXT  2000 /* a reason, a note, what the requester wrote */
#define MAX_LIST  1000 /* the largest page of a list of requests */
#define SOON_DAYS 7

static const char *const type_names[RT__MAX] = {
        "access",    "rectification",      "erasure",      "restriction", "portability",
        "objection", "consent_withdrawal", "marketing_ban"};

static const char *const filter_names[RQ__MAX] = {"all", "open", "overdue", "late"};

static const char *const channels[] = {"written", "email", "self_service", "in_person", NULL};

static const char *const methods[] = {"id_document",        "strong_auth", "email_link",
                                      "registered_contact", "in_person",   NULL};

const char *request_type_name(enum req_type t)
{
	return (int)t >= 0 && t < RT__MAX ? type_names[t] : NULL;
}

static int find_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int request_type_parse(const char *s)
{
	return find_name(type_names, RT__MAX, s);
}

int request_filter_parse(const char *s)
{
	return find_name(filter_names, RQ__MAX, s);
}

static bool in_names(const char *const *names, const char *s)
{
	for (size_t i = 0; s && names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return true;
	return false;
}

int request_due_date(const char *received, struct duration deadline, char out[11])
{
	int64_t t;
	int y, m, d;

	if (!received || time_parse_iso8601(received, &t) != 0)
		return -1;
	civil_from_days(t >= 0 ? t / 86400 : (t - 86399) / 86400, &y, &m, &d);
	date_add(&y, &m, &d, deadline.years, deadline.months, deadline.days);
	if (y < 0 || y > 9999)
		return -1;
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Input
 */

/* An optional string member of at most `max` bytes of valid UTF-8 without control
 * characters other than newline and tab; *out stays NULL when absent. */
static int opt_text(struct kctx *ctx, json_t *in, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(in, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	bool ok = s && n <= max && strlen(s) == n && utf8_valid(s, n);
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)s[i] >= 0x20 || s[i] == '\n' || s[i] == '\t';
	if (!ok)
		return kerr_set(ctx->err, KERR_INVALID, key,
		                "%s: must be text of at most %zu bytes without control characters",
		                key, max);
	*out = arena_strdup(ctx->mem, s);
	return 0;
}

static int req_text(struct kctx *ctx, json_t *in, const char *key, size_t max, const char *what,
                    const char **out)
{
	int rc = opt_text(ctx, in, key, max, out);
	if (!rc && (!*out || !**out))
		rc = kerr_set(ctx->err, KERR_INVALID, key, "%s: required, %s", key, what);
	return rc;
}

/* Refuses members of `in` that are not in `keys`. */
static int only_keys(struct kctx *ctx, json_t *in, const char *const *keys)
{
	const char *k;
	json_t *v;
	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");
	json_object_foreach (in, k, v) {
		if (!in_names(keys, k))
			return kerr_set(ctx->err, KERR_INVALID, ident_valid(k, NULL) ? k : NULL,
			                "%s: not a member of this request",
			                ident_valid(k, NULL) ? k : "a member");
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * The stored request
 */

struct reqrow {
	int64_t id, person_id, fee_cents;
	enum req_type type;
	const char *subject, *details, *channel, *received_at, *due_on, *extended_to;
	const char *extension_reason, *subject_told_at, *state, *handler, *verified_at;
	const char *verified_by, *verify_method, *unfounded, *unfounded_reason, *refusal_reason;
	const char *outcome, *closed_at, *created_at, *created_by;
};

static const char *col(struct kctx *ctx, struct query *q, int i)
{
	return arena_strdup(ctx->mem, q_col_text(q, i));
}

static void row_read(struct kctx *ctx, struct query *q, struct reqrow *r)
{
	r->id = q_col_int(q, 0);
	r->type = (enum req_type)request_type_parse(q_col_text(q, 2));
	r->person_id = q_col_null(q, 3) ? 0 : q_col_int(q, 3);
	r->subject = col(ctx, q, 4);
	r->details = col(ctx, q, 5);
	r->channel = col(ctx, q, 6);
	r->received_at = col(ctx, q, 7);
	r->due_on = col(ctx, q, 8);
	r->extended_to = col(ctx, q, 9);
	r->extension_reason = col(ctx, q, 10);
	r->subject_told_at = col(ctx, q, 11);
	r->state = col(ctx, q, 12);
	r->handler = col(ctx, q, 13);
	r->verified_at = col(ctx, q, 14);
	r->verified_by = col(ctx, q, 15);
	r->verify_method = col(ctx, q, 16);
	r->unfounded = col(ctx, q, 17);
	r->unfounded_reason = col(ctx, q, 18);
	r->fee_cents = q_col_null(q, 19) ? -1 : q_col_int(q, 19);
	r->refusal_reason = col(ctx, q, 20);
	r->outcome = col(ctx, q, 21);
	r->closed_at = col(ctx, q, 22);
	r->created_at = col(ctx, q, 23);
	r->created_by = col(ctx, q, 24);
}

static int row_load(struct kctx *ctx, const char *rid, int64_t id, struct reqrow *r)
{
	struct query *q = store_query(ctx->db, ST_REQ_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1)
		row_read(ctx, q, r);
	q_done(q);
	if (rc == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "id",
		              "request %" PRId64 " not found in register '%s'", id, rid);
	return rc < 0 ? rc : 0;
}

static bool is_open(const struct reqrow *r)
{
	return !strcmp(r->state, "received") || !strcmp(r->state, "verified") ||
	       !strcmp(r->state, "in_progress");
}

static const char *due(const struct reqrow *r)
{
	return r->extended_to ? r->extended_to : r->due_on;
}

/* Today as YYYY-MM-DD, `days` ahead. */
static void today_plus(struct kctx *ctx, int days, char out[11])
{
	time_format_date(ctx->now + (int64_t)days * 86400, out);
}

static json_t *parsed(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	return j ? j : json_object();
}

static json_t *row_json(struct kctx *ctx, const struct reqrow *r)
{
	char today[11];
	today_plus(ctx, 0, today);
	json_t *o =
	        json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s?, s:s, s:s?, s:s, s:s}",
	                  "id", (json_int_t)r->id, "type", type_names[r->type], "state", r->state,
	                  "subject", parsed(r->subject), "details", parsed(r->details), "channel",
	                  r->channel, "received_at", r->received_at, "due_on", r->due_on,
	                  "extended_to", r->extended_to, "due", due(r), "handler", r->handler,
	                  "created_at", r->created_at, "created_by", r->created_by);
	json_object_set_new(o, "person_id",
	                    r->person_id ? json_integer((json_int_t)r->person_id) : json_null());
	json_object_set_new(o, "overdue", json_boolean(is_open(r) && strcmp(due(r), today) < 0));
	if (r->extended_to)
		json_object_set_new(o, "extension",
		                    json_pack("{s:s?, s:s?}", "reason", r->extension_reason,
		                              "subject_told_at", r->subject_told_at));
	if (r->verified_at)
		json_object_set_new(o, "verification",
		                    json_pack("{s:s, s:s?, s:s?}", "at", r->verified_at, "by",
		                              r->verified_by, "method", r->verify_method));
	if (r->unfounded) {
		json_t *m = json_pack("{s:s, s:s?}", "assessment", r->unfounded, "reason",
		                      r->unfounded_reason);
		if (r->fee_cents >= 0)
			json_object_set_new(m, "fee_cents", json_integer((json_int_t)r->fee_cents));
		json_object_set_new(o, "assessment", m);
	}
	if (r->refusal_reason)
		json_object_set_new(o, "refusal_reason", json_string(r->refusal_reason));
	if (r->outcome)
		json_object_set_new(o, "outcome", parsed(r->outcome));
	if (r->closed_at)
		json_object_set_new(o, "closed_at", json_string(r->closed_at));
	return o;
}

/* Appends a step and the usage-log entry of the action, inside the caller's transaction. */
static int step(struct kctx *ctx, const char *rid, const struct reqrow *r, int64_t person_id,
                const char *action, const char *note)
{
	struct query *q = store_query(ctx->db, ST_REQ_STEP_INSERT);
	q_int(q, 1, r->id);
	q_text(q, 2, ctx->now_iso);
	q_text(q, 3, ctx->actor->name);
	q_text(q, 4, action);
	q_text(q, 5, note);
	int rc = q_exec(q, ctx->err);
	if (rc)
		return rc;
	char reason[40];
	snprintf(reason, sizeof(reason), "request:%" PRId64, r->id);
	struct usage_entry e = {
	        .action = arena_printf(ctx->mem, "request_%s", action),
	        .rid = rid,
	        .entity = "request",
	        .entity_id = r->id,
	        .subjects = person_id ? &person_id : NULL,
	        .nsubjects = person_id ? 1 : 0,
	        .reason = reason,
	};
	return usage_append(ctx, &e);
}

static const struct decl *reg_or_fail(struct kctx *ctx, const char *rid)
{
	const struct decl *d = rid ? app_register(ctx->app, rid) : NULL;
	if (!d)
		kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		         rid && ident_valid(rid, NULL) ? rid : "?");
	return d;
}

/* Whether person `pid` is in register `rid`; fills the basis and group when asked. */
static int person_basis(struct kctx *ctx, const char *rid, int64_t pid, const char **group,
                        char *basis, const char **status, const char **created,
                        const char **last_event)
{
	struct query *q = store_query(ctx->db, ST_PERSON_BASIS);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		if (group)
			*group = col(ctx, q, 0);
		if (basis)
			*basis = q_col_text(q, 1) ? q_col_text(q, 1)[0] : '?';
		if (status)
			*status = col(ctx, q, 2);
		if (created)
			*created = col(ctx, q, 3);
		if (last_event)
			*last_event = col(ctx, q, 4);
	}
	q_done(q);
	if (rc == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "person_id",
		              "person_id: person %" PRId64 " not found in register '%s'", pid, rid);
	return rc < 0 ? rc : 0;
}

static int opt_person(struct kctx *ctx, const char *rid, json_t *in, int64_t *pid)
{
	json_t *v = json_object_get(in, "person_id");
	*pid = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return kerr_set(ctx->err, KERR_INVALID, "person_id",
		                "person_id: must be the id of a person in the register");
	*pid = (int64_t)json_integer_value(v);
	return person_basis(ctx, rid, *pid, NULL, NULL, NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------
 * Create, get, list
 */

/* The details a type takes, checked against the declaration. */
static int check_details(struct kctx *ctx, const struct decl *d, enum req_type t, json_t *det)
{
	static const char *const rect_keys[] = {"changes", "note", NULL};
	static const char *const ban_keys[] = {"channels", "note", NULL};
	static const char *const obj_keys[] = {"scope", "note", NULL};
	static const char *const cw_keys[] = {"purposes", "note", NULL};
	static const char *const access_keys[] = {"registers", "note", NULL};
	static const char *const note_keys[] = {"note", NULL};
	const char *note;
	int rc;

	if (!det && t == RT_RECTIFICATION)
		return kerr_set(ctx->err, KERR_INVALID, "details",
		                "details: a rectification names its changes "
		                "({\"changes\": {\"field\": \"new value\"}})");
	if (!det && t == RT_OBJECTION)
		return kerr_set(ctx->err, KERR_INVALID, "details",
		                "details: an objection names its scope ({\"scope\": "
		                "\"direct_marketing\"} or what processing is objected to)");
	if (!det)
		return 0;
	rc = only_keys(ctx, det,
	               t == RT_RECTIFICATION        ? rect_keys
	               : t == RT_MARKETING_BAN      ? ban_keys
	               : t == RT_OBJECTION          ? obj_keys
	               : t == RT_CONSENT_WITHDRAWAL ? cw_keys
	               : t == RT_ACCESS             ? access_keys
	                                            : note_keys);
	if (!rc)
		rc = opt_text(ctx, det, "note", MAX_TEXT, &note);
	if (rc)
		return rc;
	if (t == RT_RECTIFICATION) {
		json_t *c = json_object_get(det, "changes");
		const char *k;
		json_t *v;
		if (!json_is_object(c) || !json_object_size(c))
			return kerr_set(ctx->err, KERR_INVALID, "details.changes",
			                "details.changes: an object of declared fields and their "
			                "corrected values");
		/* The values are checked when the change is applied; the fields now. */
		json_object_foreach (c, k, v) {
			if (!decl_field(d, k) && strcmp(k, "first_name") && strcmp(k, "last_name"))
				return kerr_set(
				        ctx->err, KERR_REFUSED, "details.changes",
				        "details.changes: field '%s' is not declared by register "
				        "'%s'",
				        ident_valid(k, NULL) ? k : "?", d->id);
		}
	} else if (t == RT_MARKETING_BAN) {
		json_t *c = json_object_get(det, "channels"), *v;
		size_t i;
		if (c && (!json_is_array(c) || !json_array_size(c)))
			return kerr_set(
			        ctx->err, KERR_INVALID, "details.channels",
			        "details.channels: a list of email, post, phone, sms or all");
		json_array_foreach (c, i, v) {
			const char *ch = json_string_value(v);
			if (!in_names(consent_channels, ch) && !(ch && !strcmp(ch, "all")))
				return kerr_set(
				        ctx->err, KERR_INVALID, "details.channels",
				        "details.channels: a list of email, post, phone, sms or "
				        "all");
		}
	} else if (t == RT_CONSENT_WITHDRAWAL) {
		/* the consents of some declared purposes only; none named: all of them. */
		json_t *c = json_object_get(det, "purposes"), *v;
		size_t i;
		if (c && (!json_is_array(c) || !json_array_size(c)))
			return kerr_set(ctx->err, KERR_INVALID, "details.purposes",
			                "details.purposes: a list of declared purposes");
		json_array_foreach (c, i, v) {
			const char *p = json_string_value(v);
			if (!p || !decl_purpose(d, p))
				return kerr_set(
				        ctx->err, KERR_REFUSED, "details.purposes",
				        "details.purposes: '%s' is not a purpose declared by "
				        "register '%s'",
				        p && ident_valid(p, NULL) ? p : "?", d->id);
		}
	} else if (t == RT_ACCESS) {
		json_t *c = json_object_get(det, "registers");
		const char *v = json_string_value(c);
		if (c && (!v || (strcmp(v, "all") && strcmp(v, "this"))))
			return kerr_set(ctx->err, KERR_INVALID, "details.registers",
			                "details.registers: \"all\" (every register of the "
			                "controller, the default) or \"this\"");
	} else if (t == RT_OBJECTION) {
		const char *scope;
		if ((rc = req_text(ctx, det, "scope", 200,
		                   "direct_marketing, or what processing is objected to", &scope)))
			return rc;
	}
	return 0;
}

/* The requester as they identified themselves: a few short texts, kept with the request. */
static int check_subject(struct kctx *ctx, json_t *subj)
{
	static const char *const keys[] = {"name", "email", "phone", "address", "note", NULL};
	const char *s;
	int rc;
	if (!subj)
		return 0;
	if ((rc = only_keys(ctx, subj, keys)))
		return rc;
	for (size_t i = 0; keys[i]; i++)
		if ((rc = opt_text(ctx, subj, keys[i], keys[i][0] == 'n' ? MAX_TEXT : 300, &s)))
			return rc;
	return 0;
}

static char *dump(struct kctx *ctx, json_t *j)
{
	if (!j)
		return "{}";
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	char *a = arena_strdup(ctx->mem, s);
	free(s);
	return a;
}

int request_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	static const char *const keys[] = {"type",    "channel", "received_at", "person_id",
	                                   "subject", "details", NULL};
	const struct decl *d = reg_or_fail(ctx, rid);
	const char *type_s, *channel, *received;
	int64_t pid, t;
	char due_on[11];
	int rc;

	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, keys)) ||
	    (rc = req_text(ctx, in, "type", 40,
	                   "one of access, rectification, erasure, "
	                   "restriction, portability, objection, consent_withdrawal, "
	                   "marketing_ban",
	                   &type_s)))
		return rc;
	int type = request_type_parse(type_s);
	if (type < 0)
		return kerr_set(ctx->err, KERR_INVALID, "type",
		                "type: one of access, rectification, erasure, restriction, "
		                "portability, objection, consent_withdrawal, marketing_ban");
	if ((rc = req_text(ctx, in, "channel", 40, "written, email, self_service or in_person",
	                   &channel)))
		return rc;
	if (!in_names(channels, channel))
		return kerr_set(ctx->err, KERR_INVALID, "channel",
		                "channel: written, email, self_service or in_person");
	if ((rc = opt_text(ctx, in, "received_at", 40, &received)))
		return rc;
	if (!received)
		received = ctx->now_iso;
	if (time_parse_iso8601(received, &t) != 0)
		return kerr_set(ctx->err, KERR_INVALID, "received_at",
		                "received_at: an ISO 8601 date or time (2026-01-31)");
	if (t > ctx->now)
		return kerr_set(ctx->err, KERR_INVALID, "received_at",
		                "received_at: a request cannot be received in the future");
	if ((rc = check_subject(ctx, json_object_get(in, "subject"))) ||
	    (rc = check_details(ctx, d, (enum req_type)type, json_object_get(in, "details"))))
		return rc;
	/* the deadline the declaration states (default one month). */
	if (request_due_date(received, d->rights.deadline, due_on) != 0)
		return kerr_set(ctx->err, KERR_INVALID, "received_at", "received_at: out of range");

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = opt_person(ctx, rid, in, &pid)))
		goto fail;
	struct query *q = store_query(ctx->db, ST_REQ_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, type_names[type]);
	if (pid)
		q_int(q, 3, pid);
	else
		q_null(q, 3);
	char *subject = dump(ctx, json_object_get(in, "subject"));
	char *details = dump(ctx, json_object_get(in, "details"));
	q_text(q, 4, subject);
	q_text(q, 5, details);
	q_text(q, 6, channel);
	q_text(q, 7, received);
	q_text(q, 8, due_on);
	q_text(q, 9, ctx->now_iso);
	q_text(q, 10, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	*id = store_last_id(ctx->db);
	struct reqrow r = {.id = *id};
	if ((rc = step(ctx, rid, &r, pid, "received", channel)))
		goto fail;
	return store_commit(ctx->db, ctx->err);
fail:
	store_rollback(ctx->db);
	return rc;
}

/* The subject's requests in the register, other than `except` (R-04: the history a manager
 * weighs before calling a request excessive). */
static int earlier(struct kctx *ctx, const char *rid, int64_t pid, int64_t except, json_t **out)
{
	json_t *a = json_array();
	struct query *q = store_query(ctx->db, ST_REQ_BY_PERSON);
	int rc;
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (q_col_int(q, 0) == except)
			continue;
		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:s?}", "id",
		                                   (json_int_t)q_col_int(q, 0), "type",
		                                   q_col_text(q, 1), "state", q_col_text(q, 2),
		                                   "received_at", q_col_text(q, 3), "assessment",
		                                   q_col_text(q, 4)));
	}
	q_done(q);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* The subject's marketing bans, as "marketing_bans" of `o` when there are any. */
static int bans_of(struct kctx *ctx, const char *rid, int64_t pid, json_t *o)
{
	json_t *a = json_array();
	struct query *q = store_query(ctx->db, ST_BAN_LIST);
	int rc;
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "channel", q_col_text(q, 0),
		                                   "since", q_col_text(q, 1), "source",
		                                   q_col_text(q, 2)));
	q_done(q);
	if (rc == 0 && json_array_size(a))
		json_object_set(o, "marketing_bans", a);
	json_decref(a);
	return rc < 0 ? rc : 0;
}

static json_t *authority(const struct decl *d)
{
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:s?}", "name",
	                 decl_text(&d->complaint_authority.name, LANG_FI, NULL), "address",
	                 d->complaint_authority.address, "phone", d->complaint_authority.phone,
	                 "email", d->complaint_authority.email, "web", d->complaint_authority.web);
}

int request_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	struct reqrow r;
	json_t *o = NULL, *steps = NULL, *prev = NULL;
	int rc;

	if (!d)
		return KERR_NOTFOUND;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if ((rc = row_load(ctx, rid, id, &r)))
		goto out;
	o = row_json(ctx, &r);
	steps = json_array();
	struct query *q = store_query(ctx->db, ST_REQ_STEPS);
	q_int(q, 1, id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(steps,
		                      json_pack("{s:s, s:s, s:s, s:s?}", "at", q_col_text(q, 0),
		                                "actor", q_col_text(q, 1), "action",
		                                q_col_text(q, 2), "note", q_col_text(q, 3)));
	q_done(q);
	if (rc < 0)
		goto out;
	json_object_set(o, "steps", steps);
	if (r.person_id) {
		if ((rc = earlier(ctx, rid, r.person_id, id, &prev)) ||
		    (rc = bans_of(ctx, rid, r.person_id, o)))
			goto out;
		json_object_set(o, "earlier_requests", prev);
	}
	if (!strcmp(r.state, "refused"))
		json_object_set_new(o, "complaint_authority", authority(d));
	rc = 0;
out:
	store_rollback(ctx->db);
	json_decref(steps);
	json_decref(prev);
	if (rc) {
		json_decref(o);
		return rc;
	}
	/* Reading a request shows who asked: a read of the subject's data. */
	if (r.person_id) {
		struct usage_entry e = {.action = "read",
		                        .rid = rid,
		                        .entity = "request",
		                        .entity_id = id,
		                        .subjects = &r.person_id,
		                        .nsubjects = 1};
		if ((rc = usage_read(ctx, &e))) {
			json_decref(o);
			return rc;
		}
	}
	*out = o;
	return 0;
}

/* Reads a page cursor of request_list: "r<id>" for the list of all requests, "d<due>.<id>"
 * for the lists of open ones (the due date and id of the last request shown). */
static int list_cursor(struct kctx *ctx, enum req_filter filter, const char *cursor, char due[11],
                       int64_t *after)
{
	const char *num = NULL;
	char *end = NULL;
	*after = 0;
	due[0] = '\0';
	if (!cursor || !*cursor)
		return 0;
	if (strlen(cursor) <= 32) {
		if (filter == RQ_ALL && cursor[0] == 'r') {
			num = cursor + 1;
		} else if (filter != RQ_ALL && cursor[0] == 'd' && strlen(cursor) > 12 &&
		           cursor[11] == '.') {
			memcpy(due, cursor + 1, 10);
			due[10] = '\0';
			const char *why;
			if (date_valid(due, NULL, NULL, NULL, &why))
				num = cursor + 12;
		}
	}
	long long v = num && isdigit((unsigned char)*num) ? strtoll(num, &end, 10) : -1;
	if (v < 0 || !end || *end)
		return kerr_set(ctx->err, KERR_INVALID, "cursor", "cursor: not one this list gave");
	*after = v;
	return 0;
}

int request_list(struct kctx *ctx, const char *rid, enum req_filter filter, const char *cursor,
                 int limit, json_t **out)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	json_t *items;
	int64_t after = 0, last = 0;
	size_t n = 0;
	char until[11], from[11], last_due[11] = "";
	int rc;

	if (!d)
		return KERR_NOTFOUND;
	if ((rc = list_cursor(ctx, filter, cursor, from, &after)))
		return rc;
	if (limit <= 0 || limit > MAX_LIST)
		limit = 100;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	struct query *q;
	if (filter == RQ_ALL) {
		q = store_query(ctx->db, ST_REQ_LIST);
		q_text(q, 1, rid);
		q_int(q, 2, after);
		q_int(q, 3, limit + 1);
	} else {
		/* Open requests due up to a date: far ahead for all of them, yesterday for the
		 * late ones, a week ahead for those late or due soon. */
		if (filter == RQ_OPEN)
			snprintf(until, sizeof(until), "9999-12-31");
		else
			today_plus(ctx, filter == RQ_LATE ? -1 : SOON_DAYS, until);
		q = store_query(ctx->db, ST_REQ_LIST_DUE);
		q_text(q, 1, rid);
		q_text(q, 2, until);
		q_text(q, 3, from);
		q_int(q, 4, after);
		q_int(q, 5, limit + 1);
	}
	items = json_array();
	bool more = false;
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (n == (size_t)limit) {
			more = true;
			break;
		}
		struct reqrow r;
		row_read(ctx, q, &r);
		json_array_append_new(items, row_json(ctx, &r));
		last = r.id;
		snprintf(last_due, sizeof(last_due), "%s",
		         r.extended_to ? r.extended_to : r.due_on);
		n++;
	}
	q_done(q);
	store_rollback(ctx->db);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	/* A list shows who asked: a read of those subjects, logged before it is shown. */
	int64_t *ids = arena_calloc(ctx->mem, n ? n : 1, sizeof(*ids));
	size_t nids = 0, i;
	json_t *it;
	json_array_foreach (items, i, it) {
		json_t *pid = json_object_get(it, "person_id");
		if (json_is_integer(pid))
			ids[nids++] = (int64_t)json_integer_value(pid);
	}
	if (nids) {
		struct usage_entry e = {.action = "search",
		                        .rid = rid,
		                        .entity = "request",
		                        .subjects = ids,
		                        .nsubjects = nids};
		if ((rc = usage_read(ctx, &e))) {
			json_decref(items);
			return rc;
		}
	}
	const char *next = NULL;
	if (more)
		next = filter == RQ_ALL ? arena_printf(ctx->mem, "r%" PRId64, last)
		                        : arena_printf(ctx->mem, "d%s.%" PRId64, last_due, last);
	*out = json_pack("{s:o, s:o}", "items", items, "next",
	                 next ? json_string(next) : json_null());
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Steps of the workflow
 */

/* Begins a write transaction and loads request `id`, which must be open. */
static int begin_open(struct kctx *ctx, const char *rid, int64_t id, struct reqrow *r)
{
	int rc;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = row_load(ctx, rid, id, r)))
		goto fail;
	if (!is_open(r)) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "state", "request %" PRId64 " is already %s",
		              id, r->state);
		goto fail;
	}
	return 0;
fail:
	store_rollback(ctx->db);
	return rc;
}

static int finish(struct kctx *ctx, int rc)
{
	if (rc) {
		store_rollback(ctx->db);
		return rc;
	}
	return store_commit(ctx->db, ctx->err);
}

int request_verify(struct kctx *ctx, const char *rid, int64_t id, json_t *in)
{
	static const char *const keys[] = {"method", "person_id", "note", NULL};
	const char *method, *note;
	struct reqrow r;
	int64_t pid;
	int rc;

	if ((rc = only_keys(ctx, in, keys)) ||
	    (rc = req_text(ctx, in, "method", 40,
	                   "id_document, strong_auth, email_link, registered_contact or in_person",
	                   &method)) ||
	    (rc = opt_text(ctx, in, "note", MAX_TEXT, &note)))
		return rc;
	if (!in_names(methods, method))
		return kerr_set(
		        ctx->err, KERR_INVALID, "method",
		        "method: id_document, strong_auth, email_link, registered_contact or "
		        "in_person");
	if ((rc = begin_open(ctx, rid, id, &r)))
		return rc;
	if (strcmp(r.state, "received") != 0) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "state",
		              "request %" PRId64 " is already verified", id);
		return finish(ctx, rc);
	}
	if ((rc = opt_person(ctx, rid, in, &pid)))
		return finish(ctx, rc);
	if (pid && r.person_id && pid != r.person_id)
		return finish(ctx, kerr_set(ctx->err, KERR_CONFLICT, "person_id",
		                            "person_id: the request already names person %" PRId64,
		                            r.person_id));
	if (!pid)
		pid = r.person_id;
	if (!pid)
		return finish(ctx, kerr_set(ctx->err, KERR_INVALID, "person_id",
		                            "person_id: name the person the requester was verified "
		                            "to be"));
	struct query *q;
	if (!r.person_id) {
		q = store_query(ctx->db, ST_REQ_MATCH);
		q_text(q, 1, rid);
		q_int(q, 2, id);
		q_int(q, 3, pid);
		if ((rc = q_exec(q, ctx->err)))
			return finish(ctx, rc);
	}
	q = store_query(ctx->db, ST_REQ_VERIFY);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_text(q, 3, ctx->now_iso);
	q_text(q, 4, ctx->actor->name);
	q_text(q, 5, method);
	if ((rc = q_exec(q, ctx->err)))
		return finish(ctx, rc);
	return finish(ctx, step(ctx, rid, &r, pid, "verified",
	                        note ? arena_printf(ctx->mem, "%s: %s", method, note) : method));
}

int request_start(struct kctx *ctx, const char *rid, int64_t id, json_t *in)
{
	static const char *const keys[] = {"note", NULL};
	const char *note;
	struct reqrow r;
	int rc;

	if ((rc = only_keys(ctx, in, keys)) || (rc = opt_text(ctx, in, "note", MAX_TEXT, &note)))
		return rc;
	if ((rc = begin_open(ctx, rid, id, &r)))
		return rc;
	/* as with fulfilment, nothing is done for a requester not yet verified. */
	if (!strcmp(r.state, "received"))
		return finish(ctx, kerr_set(ctx->err, KERR_REFUSED, "state",
		                            "request %" PRId64 " cannot be started before the "
		                            "requester's identity is verified (record it with "
		                            "verify)",
		                            id));
	if (strcmp(r.state, "verified") != 0)
		return finish(ctx,
		              kerr_set(ctx->err, KERR_CONFLICT, "state",
		                       "request %" PRId64 " is already %s", id,
		                       !strcmp(r.state, "in_progress") ? "in progress" : r.state));
	struct query *q = store_query(ctx->db, ST_REQ_START);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_text(q, 3, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return finish(ctx, rc);
	return finish(ctx, step(ctx, rid, &r, r.person_id, "started", note));
}

int request_extend(struct kctx *ctx, const char *rid, int64_t id, json_t *in)
{
	static const char *const keys[] = {"months", "reason", "subject_told", NULL};
	const char *reason;
	struct reqrow r;
	char today[11], to[11];
	int rc;

	if ((rc = only_keys(ctx, in, keys)) ||
	    (rc = req_text(ctx, in, "reason", MAX_TEXT,
	                   "why the request needs more time (complexity, number of requests)",
	                   &reason)))
		return rc;
	json_t *m = json_object_get(in, "months");
	if (!json_is_integer(m) || json_integer_value(m) < 1 || json_integer_value(m) > 2)
		return kerr_set(ctx->err, KERR_INVALID, "months",
		                "months: 1 or 2 (GDPR Art. 12(3) allows at most two more months)");
	if (!json_is_true(json_object_get(in, "subject_told")))
		return kerr_set(ctx->err, KERR_REFUSED, "subject_told",
		                "subject_told: the subject must be told of the extension and its "
		                "reasons within the first month (Art. 12(3)); record it as true");
	if ((rc = begin_open(ctx, rid, id, &r)))
		return rc;
	today_plus(ctx, 0, today);
	if (r.extended_to)
		return finish(ctx, kerr_set(ctx->err, KERR_CONFLICT, "months",
		                            "request %" PRId64 " was already extended to %s", id,
		                            r.extended_to));
	if (strcmp(today, r.due_on) > 0)
		return finish(ctx,
		              kerr_set(ctx->err, KERR_REFUSED, "months",
		                       "the first deadline (%s) has passed: an extension must be "
		                       "made before it",
		                       r.due_on));
	struct duration dur = {0, (int)json_integer_value(m), 0};
	if (request_due_date(r.due_on, dur, to) != 0)
		return finish(ctx, kerr_set(ctx->err, KERR_INTERNAL, NULL, "bad due date"));
	struct query *q = store_query(ctx->db, ST_REQ_EXTEND);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_text(q, 3, to);
	q_text(q, 4, reason);
	q_text(q, 5, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)))
		return finish(ctx, rc);
	return finish(ctx, step(ctx, rid, &r, r.person_id, "extended",
	                        arena_printf(ctx->mem, "to %s: %s", to, reason)));
}

int request_mark(struct kctx *ctx, const char *rid, int64_t id, json_t *in)
{
	static const char *const keys[] = {"assessment", "reason", "fee_cents", NULL};
	const char *assessment, *reason;
	struct reqrow r;
	int rc;

	if ((rc = only_keys(ctx, in, keys)) ||
	    (rc = req_text(ctx, in, "assessment", 20, "unfounded or excessive", &assessment)) ||
	    (rc = req_text(ctx, in, "reason", MAX_TEXT,
	                   "why the request is manifestly unfounded or excessive", &reason)))
		return rc;
	if (strcmp(assessment, "unfounded") && strcmp(assessment, "excessive"))
		return kerr_set(ctx->err, KERR_INVALID, "assessment",
		                "assessment: unfounded or excessive (Art. 12(5))");
	json_t *fee = json_object_get(in, "fee_cents");
	if (fee && (!json_is_integer(fee) || json_integer_value(fee) < 0 ||
	            json_integer_value(fee) > 100000000))
		return kerr_set(ctx->err, KERR_INVALID, "fee_cents",
		                "fee_cents: a reasonable fee in cents (0 or more)");
	if ((rc = begin_open(ctx, rid, id, &r)))
		return rc;
	struct query *q = store_query(ctx->db, ST_REQ_MARK);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_text(q, 3, assessment);
	q_text(q, 4, reason);
	if (fee)
		q_int(q, 5, (int64_t)json_integer_value(fee));
	else
		q_null(q, 5);
	if ((rc = q_exec(q, ctx->err)))
		return finish(ctx, rc);
	return finish(ctx, step(ctx, rid, &r, r.person_id, "marked",
	                        arena_printf(ctx->mem, "%s: %s", assessment, reason)));
}

/* Closes request `r` in state `state`, inside the caller's transaction; `note` is the
 * refusal's reasons when refused, else a note of the closing step. */
static int close_as(struct kctx *ctx, const char *rid, const struct reqrow *r, const char *state,
                    const char *reason, json_t *outcome)
{
	struct query *q = store_query(ctx->db, ST_REQ_CLOSE);
	q_text(q, 1, rid);
	q_int(q, 2, r->id);
	q_text(q, 3, state);
	q_text(q, 4, !strcmp(state, "refused") ? reason : NULL);
	q_text(q, 5, outcome ? dump(ctx, outcome) : NULL);
	q_text(q, 6, ctx->now_iso);
	q_text(q, 7, ctx->actor->name);
	int rc = q_exec(q, ctx->err);
	if (!rc)
		rc = step(ctx, rid, r, r->person_id,
		          !strcmp(state, "fulfilled") ? "fulfilled"
		          : !strcmp(state, "refused") ? "refused"
		                                      : "withdrawn",
		          reason);
	return rc;
}

int request_refuse(struct kctx *ctx, const char *rid, int64_t id, json_t *in, json_t **out)
{
	static const char *const keys[] = {"reason", NULL};
	const struct decl *d = reg_or_fail(ctx, rid);
	const char *reason;
	struct reqrow r;
	int rc;

	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, keys)) ||
	    (rc = req_text(ctx, in, "reason", MAX_TEXT,
	                   "the reasons of the refusal, which the subject is told (Art. 12(4))",
	                   &reason)))
		return rc;
	if ((rc = begin_open(ctx, rid, id, &r)))
		return rc;
	if ((rc = finish(ctx, close_as(ctx, rid, &r, "refused", reason, NULL))))
		return rc;
	if (out)
		*out = json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)id, "state", "refused",
		                 "reason", reason, "complaint_authority", authority(d));
	return 0;
}

int request_withdraw(struct kctx *ctx, const char *rid, int64_t id, json_t *in)
{
	static const char *const keys[] = {"note", NULL};
	const char *note;
	struct reqrow r;
	int rc;

	if ((rc = only_keys(ctx, in, keys)) || (rc = opt_text(ctx, in, "note", MAX_TEXT, &note)))
		return rc;
	if ((rc = begin_open(ctx, rid, id, &r)))
		return rc;
	return finish(ctx, close_as(ctx, rid, &r, "withdrawn", note, NULL));
}

/* ------------------------------------------------------------------------------------------
 * Fulfilment
 */

/* Sets the status of person `pid` (active, restricted), inside the caller's transaction. */
static int set_status(struct kctx *ctx, const char *rid, int64_t pid, const char *status)
{
	struct query *q = store_query(ctx->db, ST_PERSON_SET_STATUS);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	q_text(q, 3, status);
	q_text(q, 4, ctx->now_iso);
	return q_exec(q, ctx->err);
}

static int ban(struct kctx *ctx, const char *rid, const struct reqrow *r, const char *channel)
{
	struct query *q = store_query(ctx->db, ST_BAN_INSERT);
	q_text(q, 1, rid);
	q_int(q, 2, r->person_id);
	q_text(q, 3, channel);
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, arena_printf(ctx->mem, "request:%" PRId64, r->id));
	return q_exec(q, ctx->err);
}

/* Whether `rule` applies to a person of group `group` (rules for record types do not). */
static bool rule_for(const struct decl_rule *rule, const char *group)
{
	if (rule->record_types.n)
		return false;
	if (!rule->groups.n)
		return true;
	for (size_t i = 0; i < rule->groups.n; i++)
		if (strcmp(rule->groups.v[i], group) == 0)
			return true;
	return false;
}

/*
 * Whether a declared basis obliges keeping the person's data (Art. 17(3)(b)): the group's
 * basis is legal obligation (c) or public task (e) and the declaration does not keep the
 * data only "until the subject asks" (L-06). When kept, *until is the end of the retention
 * period the declaration gives (arena), or NULL when it gives none.
 */
static bool kept_by_basis(struct kctx *ctx, const struct decl *d, const char *group, char basis,
                          const char *created, const char *last_event, const char **until,
                          const char **rule_id)
{
	*until = NULL;
	*rule_id = NULL;
	if (basis != 'c' && basis != 'e')
		return false;
	for (size_t i = 0; i < d->retention.nrules; i++) {
		const struct decl_rule *rule = &d->retention.rules[i];
		if (rule_for(rule, group) && rule->from == RF_UNTIL_REQUEST)
			return false;
	}
	for (size_t i = 0; i < d->retention.nrules; i++) {
		const struct decl_rule *rule = &d->retention.rules[i];
		const char *from = rule->from == RF_CREATED ? created
		                   : rule->from == RF_LAST_CUSTOMER_EVENT
		                           ? (last_event ? last_event : created)
		                           : NULL;
		char end[11];
		if (!rule_for(rule, group) || !rule->has_after || !from || rule->action == RA_NONE)
			continue;
		if (request_due_date(from, rule->after, end) == 0 &&
		    (!*until || strcmp(end, *until) < 0)) {
			*until = arena_strdup(ctx->mem, end);
			*rule_id = rule->id;
		}
	}
	return true;
}

/*
 * Erases every trace of the subject in the register, inside the caller's transaction; where
 * the declaration says erasure passivates, the suppression list keeps keyed hashes of
 * the identifiers first.
 */
static int erase(struct kctx *ctx, const struct decl *d, const char *rid, const struct reqrow *r)
{
	const char *source = arena_printf(ctx->mem, "request:%" PRId64, r->id);
	int rc = 0;
	if (d->rights.erasure_by_passivation)
		rc = suppress_person(ctx, rid, r->person_id, source);
	struct query *q = store_query(ctx->db, ST_DISCLOSURE_FORGET_PERSON);
	q_text(q, 1, rid);
	q_int(q, 2, r->person_id);
	if (!rc)
		rc = q_exec(q, ctx->err);
	/* The requests stay as the proof they were answered, but not what the requester wrote
	 * about themselves or asked to correct. */
	q = store_query(ctx->db, ST_REQ_FORGET_SUBJECT);
	q_text(q, 1, rid);
	q_int(q, 2, r->person_id);
	if (!rc)
		rc = q_exec(q, ctx->err);
	if (!rc)
		rc = person_erase_tx(ctx, rid, r->person_id, "delete", source);
	return rc;
}

static int fulfil_erasure(struct kctx *ctx, const struct decl *d, const char *rid,
                          const struct reqrow *r, bool check_basis, json_t **outcome,
                          const char **refusal)
{
	const char *group = NULL, *created = NULL, *last = NULL, *until, *rule, *held;
	char basis = '?';
	int rc = person_basis(ctx, rid, r->person_id, &group, &basis, NULL, &created, &last);
	if (!rc)
		rc = person_held(ctx, rid, r->person_id, &held);
	if (rc)
		return rc;
	if (held) {
		/* Art. 17(3)(e): kept for legal claims while the hold stands. An erasure request
		 * is refused with that reason, but what rests on consent alone stops (Art.
		 * 17(1)(b)); a consent withdrawal has withdrawn already. */
		char day[11];
		int withdrawn = 0, remaining = 0;
		snprintf(day, sizeof(day), "%s", held);
		if (check_basis && (rc = consent_withdraw_person_tx(
		                            ctx, rid, r->person_id, NULL,
		                            arena_printf(ctx->mem, "request:%" PRId64, r->id),
		                            &withdrawn, &remaining)))
			return rc;
		*outcome = json_pack("{s:b, s:{s:b, s:s}}", "erased", 0, "kept", "legal_hold", 1,
		                     "held_since", day);
		if (check_basis) {
			json_object_set_new(*outcome, "consents_withdrawn",
			                    json_integer(withdrawn));
			*refusal = arena_printf(
			        ctx->mem,
			        "The data is kept for the establishment, exercise or defence of "
			        "legal "
			        "claims (GDPR Art. 17(3)(e)) while a legal hold placed on %s "
			        "stands.%s",
			        day,
			        withdrawn ? " Your consents were withdrawn and your subscriptions "
			                    "ended: nothing is processed on your consent any more."
			                  : "");
		}
		return 0;
	}
	if (check_basis && kept_by_basis(ctx, d, group, basis, created, last, &until, &rule)) {
		/* what the law obliges to keep stays, and the answer says until when. What
		 * rests on the subject's consent alone does not (Art. 17(1)(b)): their consents
		 * are withdrawn and their subscriptions end. */
		int withdrawn = 0, remaining = 0;
		const char *how = arena_printf(ctx->mem, "request:%" PRId64, r->id);
		if ((rc = consent_withdraw_person_tx(ctx, rid, r->person_id, NULL, how, &withdrawn,
		                                     &remaining)))
			return rc;
		*outcome = json_pack("{s:b, s:{s:s#, s:s?, s:s?}, s:i}", "erased", 0, "kept",
		                     "basis", &basis, (size_t)1, "until", until, "rule", rule,
		                     "consents_withdrawn", withdrawn);
		*refusal = arena_printf(
		        ctx->mem,
		        "The data is processed on a legal obligation or public task (GDPR Art. "
		        "6(1)(%c)) and must be kept %s%s (Art. 17(3)(b)).%s",
		        basis, until ? "until " : "for the period the law sets", until ? until : "",
		        withdrawn ? " Your consents were withdrawn and your subscriptions ended: "
		                    "nothing is processed on your consent any more."
		                  : "");
		return 0;
	}
	if ((rc = erase(ctx, d, rid, r)))
		return rc;
	*outcome = json_pack("{s:b, s:b}", "erased", 1, "passivated",
	                     d->rights.erasure_by_passivation);
	return 0;
}

/* The verified subject of an open access or portability request, read in a transaction of
 * its own: the export that answers it opens its own. */
static int export_target(struct kctx *ctx, const char *rid, int64_t id, struct reqrow *r)
{
	int rc;
	if ((rc = begin_open(ctx, rid, id, r)))
		return rc;
	if (r->type != RT_ACCESS && r->type != RT_PORTABILITY)
		rc = kerr_set(ctx->err, KERR_CONFLICT, "type",
		              "request %" PRId64 " is a %s request, not access or portability", id,
		              type_names[r->type]);
	else if (!r->verified_at || !r->person_id)
		rc = kerr_set(ctx->err, KERR_REFUSED, "state",
		              "request %" PRId64 " cannot be fulfilled before the requester's "
		              "identity is verified (record it with verify)",
		              id);
	store_rollback(ctx->db);
	return rc;
}

static bool same_controller(const struct decl *a, const struct decl *b)
{
	if (a->controller.ytunnus && b->controller.ytunnus)
		return !strcmp(a->controller.ytunnus, b->controller.ytunnus);
	const char *x = a->controller.name.s[LANG_FI], *y = b->controller.name.s[LANG_FI];
	return x && y && !strcmp(x, y);
}

/* Whether an access request of these details covers the controller's other registers. */
static bool covers_all(const char *details)
{
	json_t *d = details ? json_loads(details, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(d, "registers"));
	bool all = !v || strcmp(v, "this");
	json_decref(d);
	return all;
}

/*
 * R-01 across registers: the persons of the controller's other registers who have an e-mail
 * address or telephone number of access export `doc` (of person `pid` of `rid`) are exported
 * too, each logged as its own export, into doc's "other_registers": [{register, export}]. A
 * register whose manager the caller is not is listed as {register, included: false} so the
 * answer is not silently incomplete: its manager answers for it.
 */
static int export_elsewhere(struct kctx *ctx, const char *rid, json_t *doc)
{
	const struct decl *d = app_register(ctx->app, rid);
	const struct registry *regs = app_registers(ctx->app);
	json_t *cps = json_object_get(doc, "contact_points"), *cp, *other = json_array();
	int64_t *found = arena_calloc(ctx->mem, regs->n + 1, sizeof(*found));
	size_t i;
	int rc = 0;

	json_array_foreach (cps, i, cp) {
		const char *kind = json_string_value(json_object_get(cp, "kind"));
		const char *value = json_string_value(json_object_get(cp, "value"));
		if (!kind || !value || (strcmp(kind, "email") && strcmp(kind, "phone")))
			continue;
		for (size_t k = 0; !rc && k < regs->n; k++) {
			const struct decl *o = regs->v[k].decl;
			int64_t pid = 0;
			if (found[k] || !strcmp(regs->v[k].id, rid) || !same_controller(d, o))
				continue;
			if (!(rc = store_begin_read(ctx->db, ctx->err))) {
				rc = person_find_contact(ctx, regs->v[k].id, kind, value, &pid);
				store_rollback(ctx->db);
			}
			if (rc || !pid)
				continue;
			found[k] = pid;
			json_t *e = NULL;
			rc = export_subject(ctx, regs->v[k].id, pid, 0, &e);
			if (rc == KERR_FORBIDDEN) {
				kerr_clear(ctx->err);
				rc = 0;
				json_array_append_new(other,
				                      json_pack("{s:s, s:b}", "register",
				                                regs->v[k].id, "included", 0));
			} else if (!rc) {
				json_array_append_new(other, json_pack("{s:s, s:b, s:o}",
				                                       "register", regs->v[k].id,
				                                       "included", 1, "export", e));
			}
		}
		if (rc)
			break;
	}
	if (rc) {
		json_decref(other);
		return rc;
	}
	json_object_set_new(doc, "other_registers", other);
	return 0;
}

/*
 * an access or portability request is answered with the subject's export. The
 * export is made and logged first (export_subject reads in its own transaction); then the
 * request is closed, provided nobody closed it meanwhile. The export itself is not stored
 * with the request: the response carries it, and request_export makes it again while the
 * request is on record.
 */
static int fulfil_export(struct kctx *ctx, const char *rid, int64_t id, const char *note,
                         json_t **out)
{
	struct reqrow r;
	json_t *doc = NULL;
	int rc;

	if ((rc = export_target(ctx, rid, id, &r)))
		return rc;
	int64_t pid = r.person_id;
	enum req_type type = r.type;
	if ((rc = export_subject(ctx, rid, pid, type == RT_PORTABILITY ? EXPORT_PORTABLE : 0,
	                         &doc)))
		return rc;
	if (type == RT_ACCESS && covers_all(r.details) && (rc = export_elsewhere(ctx, rid, doc))) {
		json_decref(doc);
		return rc;
	}
	if ((rc = begin_open(ctx, rid, id, &r))) {
		json_decref(doc);
		return rc;
	}
	json_t *outcome = json_pack(
	        "{s:s, s:I, s:I}", "export", type_names[type], "contact_points",
	        (json_int_t)json_array_size(json_object_get(doc, "contact_points")), "attributes",
	        (json_int_t)json_array_size(
	                json_object_get(json_object_get(doc, "subject"), "attributes")));
	if (r.person_id != pid || r.type != type)
		rc = kerr_set(ctx->err, KERR_CONFLICT, "state",
		              "request %" PRId64 " changed while its export was made", id);
	if (!rc)
		rc = close_as(ctx, rid, &r, "fulfilled", note, outcome);
	if ((rc = finish(ctx, rc))) {
		json_decref(outcome);
		json_decref(doc);
		return rc;
	}
	if (out)
		*out = json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)id, "state", "fulfilled",
		                 "outcome", outcome, "export", doc);
	else {
		json_decref(outcome);
		json_decref(doc);
	}
	return 0;
}

int request_export(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	struct reqrow r;
	int rc;

	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	rc = row_load(ctx, rid, id, &r);
	store_rollback(ctx->db);
	if (rc)
		return rc;
	if (r.type != RT_ACCESS && r.type != RT_PORTABILITY)
		return kerr_set(ctx->err, KERR_CONFLICT, "type",
		                "request %" PRId64 " is a %s request, not access or portability",
		                id, type_names[r.type]);
	if (strcmp(r.state, "fulfilled") || !r.person_id)
		return kerr_set(ctx->err, KERR_CONFLICT, "state",
		                "request %" PRId64
		                " is %s; its export is given once it is fulfilled",
		                id, r.state);
	if ((rc = export_subject(ctx, rid, r.person_id,
	                         r.type == RT_PORTABILITY ? EXPORT_PORTABLE : 0, out)))
		return rc;
	if (r.type == RT_ACCESS && covers_all(r.details) &&
	    (rc = export_elsewhere(ctx, rid, *out))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int request_fulfil(struct kctx *ctx, const char *rid, int64_t id, json_t *in, json_t **out)
{
	static const char *const keys[] = {"note", NULL};
	const struct decl *d = reg_or_fail(ctx, rid);
	const char *note, *refusal = NULL;
	json_t *outcome = NULL, *v;
	struct reqrow r;
	int rc;

	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, keys)) || (rc = opt_text(ctx, in, "note", MAX_TEXT, &note)))
		return rc;
	if ((rc = begin_open(ctx, rid, id, &r)))
		return rc;
	if (r.type == RT_ACCESS || r.type == RT_PORTABILITY) {
		store_rollback(ctx->db);
		return fulfil_export(ctx, rid, id, note, out);
	}
	/* nothing is done for a requester whose identity is not verified. */
	if (!r.verified_at || !r.person_id) {
		rc = kerr_set(ctx->err, KERR_REFUSED, "state",
		              "request %" PRId64 " cannot be fulfilled before the requester's "
		              "identity is verified (record it with verify)",
		              id);
		return finish(ctx, rc);
	}
	json_t *det = parsed(r.details);
	char reason[40];
	snprintf(reason, sizeof(reason), "request:%" PRId64, r.id);
	switch (r.type) {
	case RT_RECTIFICATION: {
		/* through the normal change path; the history names the request. */
		json_t *patch = json_deep_copy(json_object_get(det, "changes"));
		bool changed = false;
		json_object_set_new(patch, "reason", json_string(reason));
		rc = person_update_tx(ctx, rid, r.person_id, patch, &changed);
		json_decref(patch);
		if (!rc)
			outcome = json_pack("{s:b}", "changed", changed);
		break;
	}
	case RT_ERASURE: rc = fulfil_erasure(ctx, d, rid, &r, true, &outcome, &refusal); break;
	case RT_CONSENT_WITHDRAWAL: {
		/* the consents stop counting at once; a subject whose only basis was
		 * consent, and who has no consent left, is erased (or passivated); others keep the
		 * basis they have. */
		char basis = '?';
		int withdrawn = 0, remaining = 0;
		rc = consent_withdraw_person_tx(ctx, rid, r.person_id,
		                                json_object_get(det, "purposes"), reason,
		                                &withdrawn, &remaining);
		if (!rc)
			rc = person_basis(ctx, rid, r.person_id, NULL, &basis, NULL, NULL, NULL);
		if (!rc && basis == 'a' && remaining == 0) {
			rc = fulfil_erasure(ctx, d, rid, &r, false, &outcome, &refusal);
			if (!rc && outcome)
				json_object_set_new(outcome, "withdrawn", json_integer(withdrawn));
		} else if (!rc) {
			outcome = json_pack("{s:b, s:s#, s:i, s:i}", "erased", 0, "basis", &basis,
			                    (size_t)1, "withdrawn", withdrawn, "consents_left",
			                    remaining);
		}
		break;
	}
	case RT_RESTRICTION:
		/* stored, but out of every use until a manager lifts it. */
		rc = set_status(ctx, rid, r.person_id, "restricted");
		if (!rc)
			outcome = json_pack("{s:b}", "restricted", 1);
		break;
	case RT_OBJECTION: {
		const char *scope = json_string_value(json_object_get(det, "scope"));
		if (scope && !strcmp(scope, "direct_marketing")) {
			/* the direct-marketing objection is absolute: every channel. */
			rc = ban(ctx, rid, &r, "all");
			if (!rc)
				outcome = json_pack("{s:[s]}", "banned", "all");
		} else {
			/* Art. 21(1): processing stops while the grounds are weighed. */
			rc = set_status(ctx, rid, r.person_id, "restricted");
			if (!rc)
				outcome = json_pack("{s:b}", "restricted", 1);
		}
		break;
	}
	case RT_MARKETING_BAN: {
		json_t *chs = json_object_get(det, "channels"), *list = json_array();
		size_t i;
		if (!json_array_size(chs)) {
			rc = ban(ctx, rid, &r, "all");
			json_array_append_new(list, json_string("all"));
		}
		json_array_foreach (chs, i, v) {
			if (rc)
				break;
			rc = ban(ctx, rid, &r, json_string_value(v));
			json_array_append(list, v);
		}
		outcome = json_pack("{s:o}", "banned", list);
		break;
	}
	default:
		rc = kerr_set(ctx->err, KERR_REFUSED, "type",
		              "%s requests cannot be fulfilled here", type_names[r.type]);
	}
	json_decref(det);
	if (!rc)
		rc = close_as(ctx, rid, &r, refusal ? "refused" : "fulfilled",
		              refusal ? refusal : note, outcome);
	if ((rc = finish(ctx, rc))) {
		json_decref(outcome);
		return rc;
	}
	if (out) {
		*out = json_pack("{s:I, s:s, s:O}", "id", (json_int_t)id, "state",
		                 refusal ? "refused" : "fulfilled", "outcome", outcome);
		if (refusal) {
			json_object_set_new(*out, "reason", json_string(refusal));
			json_object_set_new(*out, "complaint_authority", authority(d));
		}
	}
	json_decref(outcome);
	return 0;
}

/* Whether request `id`'s restriction of person `pid` is lifted already (*lifted), and
 * whether another fulfilled request still restricts them (*others). */
static int restricting(struct kctx *ctx, const char *rid, int64_t pid, int64_t id, bool *lifted,
                       bool *others)
{
	struct query *q = store_query(ctx->db, ST_REQ_RESTRICTING);
	bool self = false;
	int rc;
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	q_int(q, 3, 0);
	*others = false;
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (q_col_int(q, 0) == id)
			self = true;
		else
			*others = true;
	}
	q_done(q);
	*lifted = !self;
	return rc < 0 ? rc : 0;
}

int request_lift(struct kctx *ctx, const char *rid, int64_t id, json_t *in)
{
	static const char *const keys[] = {"note", NULL};
	const char *note, *status = NULL;
	struct reqrow r;
	int rc;

	if ((rc = only_keys(ctx, in, keys)) ||
	    (rc = req_text(ctx, in, "note", MAX_TEXT,
	                   "how and when the subject was told that the restriction ends", &note)))
		return rc;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = row_load(ctx, rid, id, &r)))
		return finish(ctx, rc);
	if (strcmp(r.state, "fulfilled") || (r.type != RT_RESTRICTION && r.type != RT_OBJECTION) ||
	    !r.person_id)
		return finish(ctx, kerr_set(ctx->err, KERR_CONFLICT, "state",
		                            "request %" PRId64 " did not restrict processing", id));
	if ((rc = person_basis(ctx, rid, r.person_id, NULL, NULL, &status, NULL, NULL)))
		return finish(ctx, rc);
	bool lifted = false, others = false;
	if ((rc = restricting(ctx, rid, r.person_id, r.id, &lifted, &others)))
		return finish(ctx, rc);
	if (lifted || strcmp(status, "restricted"))
		return finish(ctx, kerr_set(ctx->err, KERR_CONFLICT, "state",
		                            lifted ? "the restriction of request %" PRId64
		                                     " is already lifted"
		                                   : "person %" PRId64 " is not restricted",
		                            lifted ? r.id : r.person_id));
	/* another restriction that still stands keeps the person restricted. */
	if (!others && (rc = set_status(ctx, rid, r.person_id, "active")))
		return finish(ctx, rc);
	return finish(ctx, step(ctx, rid, &r, r.person_id, "lifted", note));
}
