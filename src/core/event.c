/*
 * Event service. Input arrives as JSON objects whose members are checked against an
 * allow-list per operation before anything is read from the store; every change is one write
 * transaction holding the change, the customer events it causes (retention_event_add_tx) and
 * its usage-log entry, so participation and the person's retention clock cannot disagree.
 * The one design decision: participation rows point at their person_records row, so a
 * retention rule that deletes the record (or the person) takes the participation with it.
 */
#include "core/event.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/disclosure.h"
#include "audit/usage.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/person.h"
#include "core/retention.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/ics.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"

#define MAX_TITLE   200  /* bytes of an event or session title */
#define MAX_PLACE   300  /* bytes of a place */
#define MAX_SESSION 100  /* sessions given with one event */
#define MAX_PARTIES 20   /* parties of one meeting */
#define MAX_LIST    1000 /* events listed at once */

const char *const event_consent_flags[] = {"share_with_co_organiser", "newsletter",
                                           "participant_list", NULL};

static const char *const formats[] = {"physical", "virtual", NULL};

/* The record types participation is recorded as, where the declaration names them. */
#define RT_REGISTRATION "event_registration"
#define RT_ATTENDANCE   "session_attendance"
#define RT_MEETING      "event_meeting"

/* ---------------------------------------------------------------- input */

static bool in_names(const char *const *names, const char *s)
{
	for (size_t i = 0; s && names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return true;
	return false;
}

/* Whether s is text fit for a one-line column: valid UTF-8 without control characters. */
static bool plain_text(const char *s)
{
	if (!utf8_valid(s, strlen(s)))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Refuses any member of `o` not in `keys` (NULL-terminated), naming it when it is an
 * identifier (a member name could be anything a client sent). */
static int only_keys(struct kctx *ctx, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");
	json_object_foreach (o, k, v) {
		(void)v;
		if (!in_names(keys, k))
			return kerr_set(ctx->err, KERR_INVALID, ident_valid(k, NULL) ? k : NULL,
			                "%s: not a member this accepts",
			                ident_valid(k, NULL) ? k : "a member");
	}
	return 0;
}

/* A one-line text member of at most `max` bytes; *out borrowed from `o` (NULL when absent,
 * null or empty and not required). */
static int want_text(struct kctx *ctx, json_t *o, const char *key, bool required, size_t max,
                     const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) {
		if (required)
			return kerr_set(ctx->err, KERR_INVALID, key, "%s: required", key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) > max || !plain_text(json_string_value(v)))
		return kerr_set(ctx->err, KERR_INVALID, key,
		                "%s: text of at most %zu bytes on one line", key, max);
	*out = json_string_value(v);
	return 0;
}

/* A required RFC 3339 time member, written to `out` in UTC (YYYY-MM-DDTHH:MM:SSZ). */
static int want_time(struct kctx *ctx, json_t *o, const char *key, char out[21])
{
	json_t *v = json_object_get(o, key);
	int64_t t;
	if (!json_is_string(v) || time_parse_iso8601(json_string_value(v), &t) != 0)
		return kerr_set(ctx->err, KERR_INVALID, key,
		                "%s: required, a time such as 2026-05-12T09:00:00+03:00", key);
	time_format_iso8601(t, out);
	return 0;
}

/* An optional URL member (http or https). */
static int want_url(struct kctx *ctx, json_t *o, const char *key, const char **out)
{
	const char *why = NULL;
	int rc = want_text(ctx, o, key, false, 2048, out);
	if (rc || !*out)
		return rc;
	if (!url_valid(*out, &why))
		return kerr_set(ctx->err, KERR_INVALID, key, "%s: %s", key,
		                why ? why : "not a valid URL");
	return 0;
}

/* A required positive integer member (a person or session id). */
static int want_id(struct kctx *ctx, json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return kerr_set(ctx->err, KERR_INVALID, key, "%s: required, a positive integer id",
		                key);
	*out = json_integer_value(v);
	return 0;
}

/* A session as given. */
struct session_in {
	const char *title, *place, *url;
	char starts[21], ends[21];
};

static const char *const session_keys[] = {"title", "starts_at", "ends_at", "place", "url", NULL};

static int session_parse(struct kctx *ctx, json_t *o, struct session_in *s)
{
	int rc;
	if ((rc = only_keys(ctx, o, session_keys)) ||
	    (rc = want_text(ctx, o, "title", true, MAX_TITLE, &s->title)) ||
	    (rc = want_time(ctx, o, "starts_at", s->starts)) ||
	    (rc = want_time(ctx, o, "ends_at", s->ends)) ||
	    (rc = want_text(ctx, o, "place", false, MAX_PLACE, &s->place)) ||
	    (rc = want_url(ctx, o, "url", &s->url)))
		return rc;
	if (strcmp(s->ends, s->starts) <= 0)
		return kerr_set(ctx->err, KERR_INVALID, "ends_at",
		                "ends_at: must be after starts_at");
	return 0;
}

/* ---------------------------------------------------------------- the store */

static const struct decl *reg_or_fail(struct kctx *ctx, const char *rid)
{
	const struct decl *d = rid ? app_register(ctx->app, rid) : NULL;
	if (!d)
		kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		         rid && plain_text(rid) ? rid : "");
	return d;
}

/* An event row; strings in ctx->mem. */
struct event_row {
	int64_t id;
	const char *title, *format, *place, *url, *starts, *ends, *co_organiser, *created_at;
};

static int event_load(struct kctx *ctx, const char *rid, int64_t id, struct event_row *e)
{
	struct query *q = store_query(ctx->db, ST_EV_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		e->id = q_col_int(q, 0);
		e->title = arena_strdup(ctx->mem, q_col_text(q, 1));
		e->format = arena_strdup(ctx->mem, q_col_text(q, 2));
		e->place = q_col_null(q, 3) ? NULL : arena_strdup(ctx->mem, q_col_text(q, 3));
		e->url = q_col_null(q, 4) ? NULL : arena_strdup(ctx->mem, q_col_text(q, 4));
		e->starts = arena_strdup(ctx->mem, q_col_text(q, 5));
		e->ends = arena_strdup(ctx->mem, q_col_text(q, 6));
		e->co_organiser =
		        q_col_null(q, 7) ? NULL : arena_strdup(ctx->mem, q_col_text(q, 7));
		e->created_at = arena_strdup(ctx->mem, q_col_text(q, 8));
	}
	q_done(q);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                "event %" PRId64 " not found in register '%s'", id, rid);
	return rc < 0 ? rc : 0;
}

static json_t *event_json(const struct event_row *e)
{
	return json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s?, s:s}", "id",
	                 (json_int_t)e->id, "title", e->title, "format", e->format, "place",
	                 e->place, "url", e->url, "starts_at", e->starts, "ends_at", e->ends,
	                 "co_organiser", e->co_organiser, "created_at", e->created_at);
}

static int session_insert_tx(struct kctx *ctx, int64_t event_id, const struct session_in *s,
                             int64_t *sid)
{
	struct query *q = store_query(ctx->db, ST_EV_SESSION_INSERT);
	q_int(q, 1, event_id);
	q_text(q, 2, s->title);
	q_text(q, 3, s->starts);
	q_text(q, 4, s->ends);
	q_text(q, 5, s->place);
	q_text(q, 6, s->url);
	int rc = q_exec(q, ctx->err);
	if (!rc && sid)
		*sid = store_last_id(ctx->db);
	return rc;
}

/* Person `pid` of `rid` exists and its processing is neither restricted nor passivated:
 * participation is a new use of the data, which forbid. */
static int person_usable_tx(struct kctx *ctx, const char *rid, int64_t pid, const char *field)
{
	struct query *q = store_query(ctx->db, ST_EV_PERSON_STATUS);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	int rc = q_step(q, ctx->err);
	bool active = rc == 1 && q_col_text(q, 0) && strcmp(q_col_text(q, 0), "active") == 0;
	q_done(q);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, field,
		                "%s: person %" PRId64 " not found in register '%s'", field, pid,
		                rid);
	if (!active)
		return kerr_set(ctx->err, KERR_REFUSED, field,
		                "%s: the processing of person %" PRId64 "'s data is restricted",
		                field, pid);
	return 0;
}

/* Whether query `id` (bound ?1 first id, ?2 person) finds a row. */
static int exists_tx(struct kctx *ctx, enum stmt_id id, int64_t a, int64_t pid, bool *found)
{
	struct query *q = store_query(ctx->db, id);
	q_int(q, 1, a);
	q_int(q, 2, pid);
	int rc = q_step(q, ctx->err);
	q_done(q);
	*found = rc == 1;
	return rc < 0 ? rc : 0;
}

/* Records the customer event `type` of person `pid` on `day` when the declaration names the
 * record type; *rec is its record id, or 0 when the register does not declare it. */
static int customer_event_tx(struct kctx *ctx, const struct decl *d, const char *rid, int64_t pid,
                             const char *type, const char *day, int64_t *rec)
{
	*rec = 0;
	if (!decl_record_type(d, type))
		return 0;
	return retention_event_add_tx(ctx, rid, pid, type, day, rec);
}

static void bind_record(struct query *q, int i, int64_t rec)
{
	if (rec)
		q_int(q, i, rec);
	else
		q_null(q, i);
}

/* ---------------------------------------------------------------- events and sessions */

static const char *const event_keys[] = {"title",        "format", "starts_at",    "ends_at",
                                         "place",        "url",    "co_organiser", "sessions",
                                         "registration", NULL};

/* The settings of the public registration page, as given (borrowed from the input). */
struct reg_in {
	const char *group, *source, *nl_purpose, *nl_text, *nl_version;
};

/* Text of at most `max` bytes that may span lines (a consent's exact wording). */
static int want_long_text(struct kctx *ctx, json_t *o, const char *key, const char *field,
                          size_t max, const char **out)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	bool ok = s && n && n <= max && strlen(s) == n && utf8_valid(s, n);
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)s[i] >= 0x20 || s[i] == '\n';
	if (!ok)
		return kerr_set(ctx->err, KERR_INVALID, field,
		                "%s: required, text of at most %zu bytes", field, max);
	*out = s;
	return 0;
}

/* `registration` of an event: who the public page adds, from where, and the newsletter
 * consent it may record, each checked against the declaration. */
static int registration_parse(struct kctx *ctx, const struct decl *d, const char *rid, json_t *o,
                              struct reg_in *r)
{
	static const char *const keys[] = {"group", "source", "newsletter", NULL};
	static const char *const nl_keys[] = {"purpose", "text", "text_version", NULL};
	int rc;
	memset(r, 0, sizeof(*r));
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return kerr_set(ctx->err, KERR_INVALID, "registration",
		                "registration: an object {group, source, newsletter}");
	if ((rc = only_keys(ctx, o, keys)) ||
	    (rc = want_text(ctx, o, "group", true, 64, &r->group)) ||
	    (rc = want_text(ctx, o, "source", true, 64, &r->source)))
		return rc;
	const struct decl_group *g = decl_group(d, r->group);
	if (!g)
		return kerr_set(ctx->err, KERR_REFUSED, "registration.group",
		                "registration.group: '%s' is not a subject group of register '%s'",
		                ident_valid(r->group, NULL) ? r->group : "?", rid);
	const struct decl_source *src = decl_source(d, r->source);
	if (!src || src->kind != SK_SUBJECT)
		return kerr_set(
		        ctx->err, KERR_REFUSED, "registration.source",
		        "registration.source: '%s' is not a source of register '%s' of kind "
		        "subject (participants give their data themselves)",
		        ident_valid(r->source, NULL) ? r->source : "?", rid);
	json_t *nl = json_object_get(o, "newsletter");
	if (!nl || json_is_null(nl))
		return 0;
	if ((rc = only_keys(ctx, nl, nl_keys)) ||
	    (rc = want_text(ctx, nl, "purpose", true, 64, &r->nl_purpose)) ||
	    (rc = want_long_text(ctx, nl, "text", "registration.newsletter.text", 10000,
	                         &r->nl_text)) ||
	    (rc = want_text(ctx, nl, "text_version", true, 40, &r->nl_version)))
		return rc;
	const struct decl_purpose *p = decl_purpose(d, r->nl_purpose);
	bool has = false;
	for (size_t i = 0; p && i < g->purposes.n; i++)
		has = has || strcmp(g->purposes.v[i], r->nl_purpose) == 0;
	if (!p || !p->direct_marketing || !has)
		return kerr_set(ctx->err, KERR_REFUSED, "registration.newsletter.purpose",
		                "registration.newsletter.purpose: '%s' is not a direct-marketing "
		                "purpose of subject group '%s' of register '%s'",
		                ident_valid(r->nl_purpose, NULL) ? r->nl_purpose : "?", g->id, rid);
	return 0;
}

/* The co-organiser must be a recipient the register declares that receives data as a
 * controller: a processor or internal system is not given registrations by a disclosure. */
static int check_co_organiser(struct kctx *ctx, const struct decl *d, const char *rid,
                              const char *id)
{
	const struct decl_recipient *r = decl_recipient(d, id);
	if (!r)
		return kerr_set(ctx->err, KERR_REFUSED, "co_organiser",
		                "co_organiser: '%s' is not a recipient declared by register '%s'",
		                ident_valid(id, NULL) ? id : "?", rid);
	if (r->kind == RK_PROCESSOR || r->kind == RK_INTERNAL_SYSTEM)
		return kerr_set(
		        ctx->err, KERR_REFUSED, "co_organiser",
		        "co_organiser: '%s' is declared as a processor or an internal system, "
		        "not a recipient that may co-organise events",
		        r->id);
	return 0;
}

static int event_create_tx(struct kctx *ctx, const char *rid, const char *title, const char *format,
                           const char *place, const char *url, const char *starts, const char *ends,
                           const char *co, const struct session_in *sessions, size_t nsessions,
                           const struct reg_in *reg, int64_t *id)
{
	struct query *q = store_query(ctx->db, ST_EV_INSERT);
	int rc;
	q_text(q, 1, rid);
	q_text(q, 2, title);
	q_text(q, 3, format);
	q_text(q, 4, place);
	q_text(q, 5, url);
	q_text(q, 6, starts);
	q_text(q, 7, ends);
	q_text(q, 8, co);
	q_text(q, 9, ctx->now_iso);
	q_text(q, 10, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	*id = store_last_id(ctx->db);
	for (size_t i = 0; i < nsessions; i++)
		if ((rc = session_insert_tx(ctx, *id, &sessions[i], NULL)))
			return rc;
	if (reg->group) {
		q = store_query(ctx->db, ST_EV_SET_REG);
		q_text(q, 1, rid);
		q_int(q, 2, *id);
		q_text(q, 3, reg->group);
		q_text(q, 4, reg->source);
		q_text(q, 5, reg->nl_purpose);
		q_text(q, 6, reg->nl_text);
		q_text(q, 7, reg->nl_version);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	return usage_record(ctx, "create", rid, "event", *id, NULL);
}

int event_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	const char *title, *format, *place, *url, *co;
	char starts[21], ends[21];
	struct reg_in reg;
	int rc;
	*id = 0;
	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, event_keys)) ||
	    (rc = want_text(ctx, in, "title", true, MAX_TITLE, &title)) ||
	    (rc = want_text(ctx, in, "format", true, 16, &format)) ||
	    (rc = want_time(ctx, in, "starts_at", starts)) ||
	    (rc = want_time(ctx, in, "ends_at", ends)) ||
	    (rc = want_text(ctx, in, "place", false, MAX_PLACE, &place)) ||
	    (rc = want_url(ctx, in, "url", &url)) ||
	    (rc = want_text(ctx, in, "co_organiser", false, 64, &co)))
		return rc;
	if (!in_names(formats, format))
		return kerr_set(ctx->err, KERR_INVALID, "format", "format: physical or virtual");
	if (strcmp(ends, starts) <= 0)
		return kerr_set(ctx->err, KERR_INVALID, "ends_at",
		                "ends_at: must be after starts_at");
	if (co && (rc = check_co_organiser(ctx, d, rid, co)))
		return rc;
	if ((rc = registration_parse(ctx, d, rid, json_object_get(in, "registration"), &reg)))
		return rc;

	json_t *sv = json_object_get(in, "sessions");
	size_t n = 0;
	if (sv && !json_is_null(sv)) {
		if (!json_is_array(sv) || json_array_size(sv) > MAX_SESSION)
			return kerr_set(ctx->err, KERR_INVALID, "sessions",
			                "sessions: an array of at most %d sessions", MAX_SESSION);
		n = json_array_size(sv);
	}
	struct session_in *s = arena_calloc(ctx->mem, n ? n : 1, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		if ((rc = session_parse(ctx, json_array_get(sv, i), &s[i])))
			return rc;
		if (strcmp(s[i].starts, starts) < 0 || strcmp(s[i].ends, ends) > 0)
			return kerr_set(ctx->err, KERR_INVALID, "sessions",
			                "sessions: session %zu is not within the event's time",
			                i + 1);
	}
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = event_create_tx(ctx, rid, title, format, place, url, starts, ends, co, s, n, &reg,
	                          id))) {
		store_rollback(ctx->db);
		*id = 0;
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		*id = 0;
	return rc;
}

static int session_add_tx(struct kctx *ctx, const char *rid, int64_t event_id,
                          const struct session_in *s, int64_t *sid)
{
	struct event_row e;
	int rc;
	if ((rc = event_load(ctx, rid, event_id, &e)))
		return rc;
	if (strcmp(s->starts, e.starts) < 0 || strcmp(s->ends, e.ends) > 0)
		return kerr_set(ctx->err, KERR_INVALID, "starts_at",
		                "starts_at: the session is not within the event's time (%s – %s)",
		                e.starts, e.ends);
	if ((rc = session_insert_tx(ctx, event_id, s, sid)))
		return rc;
	return usage_record(ctx, "update", rid, "event", event_id, NULL);
}

int event_session_add(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in, int64_t *sid)
{
	struct session_in s;
	int rc;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = session_parse(ctx, in, &s)))
		return rc;
	IN_WRITE_TX(ctx, session_add_tx(ctx, rid, event_id, &s, sid));
}

/* ---------------------------------------------------------------- reading */

/* A growing list of the person ids a read shows (arena). */
struct ids {
	int64_t *v;
	size_t n, cap;
};

static void ids_push(struct kctx *ctx, struct ids *a, int64_t id)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		int64_t *v = arena_calloc(ctx->mem, cap, sizeof(*v));
		if (a->n)
			memcpy(v, a->v, a->n * sizeof(*v));
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = id;
}

/* Sorts the ids and drops duplicates. */
static void ids_unique(struct ids *a)
{
	a->n = usage_ids_unique(a->v, a->n);
}

static int sessions_json(struct kctx *ctx, int64_t event_id, json_t *out)
{
	struct query *q = store_query(ctx->db, ST_EV_SESSIONS);
	int rc;
	q_int(q, 1, event_id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(
		        out, json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?}", "id",
		                       (json_int_t)q_col_int(q, 0), "title", q_col_text(q, 1),
		                       "starts_at", q_col_text(q, 2), "ends_at", q_col_text(q, 3),
		                       "place", q_col_text(q, 4), "url", q_col_text(q, 5)));
	q_done(q);
	return rc;
}

/* Registrations, attendance and meetings of the event into `o`, collecting who is shown. */
static int participation_json(struct kctx *ctx, const char *rid, int64_t event_id, json_t *o,
                              struct ids *seen)
{
	json_t *regs = json_array(), *atts = json_array(), *meets = json_array();
	int rc;
	json_object_set_new(o, "registrations", regs);
	json_object_set_new(o, "attendance", atts);
	json_object_set_new(o, "meetings", meets);

	struct query *q = store_query(ctx->db, ST_EV_REGS);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	q_int(q, 3, ctx->sees_restricted);
	while ((rc = q_step(q, ctx->err)) == 1) {
		json_t *consents = json_loads(q_col_text(q, 2), 0, NULL);
		ids_push(ctx, seen, q_col_int(q, 0));
		json_array_append_new(regs, json_pack("{s:I, s:s, s:o}", "person_id",
		                                      (json_int_t)q_col_int(q, 0), "registered_on",
		                                      q_col_text(q, 1), "consents",
		                                      consents ? consents : json_object()));
	}
	q_done(q);
	if (rc < 0)
		return rc;

	json_t *cancels = json_array();
	json_object_set_new(o, "cancellations", cancels);
	q = store_query(ctx->db, ST_EV_CANCELS);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	q_int(q, 3, ctx->sees_restricted);
	while ((rc = q_step(q, ctx->err)) == 1) {
		ids_push(ctx, seen, q_col_int(q, 0));
		json_array_append_new(cancels,
		                      json_pack("{s:I, s:s, s:s, s:s?}", "person_id",
		                                (json_int_t)q_col_int(q, 0), "registered_on",
		                                q_col_text(q, 1), "cancelled_at", q_col_text(q, 2),
		                                "cancelled_by", q_col_text(q, 3)));
	}
	q_done(q);
	if (rc < 0)
		return rc;

	q = store_query(ctx->db, ST_EV_ATTS);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	q_int(q, 3, ctx->sees_restricted);
	while ((rc = q_step(q, ctx->err)) == 1) {
		ids_push(ctx, seen, q_col_int(q, 1));
		json_array_append_new(atts, json_pack("{s:I, s:I}", "session_id",
		                                      (json_int_t)q_col_int(q, 0), "person_id",
		                                      (json_int_t)q_col_int(q, 1)));
	}
	q_done(q);
	if (rc < 0)
		return rc;

	q = store_query(ctx->db, ST_EV_MEETINGS);
	q_int(q, 1, event_id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(meets,
		                      json_pack("{s:I, s:s, s:s, s:s, s:[]}", "id",
		                                (json_int_t)q_col_int(q, 0), "starts_at",
		                                q_col_text(q, 1), "ends_at", q_col_text(q, 2),
		                                "place", q_col_text(q, 3), "parties"));
	q_done(q);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < json_array_size(meets); i++) {
		json_t *m = json_array_get(meets, i), *parties = json_object_get(m, "parties");
		q = store_query(ctx->db, ST_EV_MEET_PARTIES);
		q_text(q, 1, rid);
		q_int(q, 2, json_integer_value(json_object_get(m, "id")));
		q_int(q, 3, ctx->sees_restricted);
		while ((rc = q_step(q, ctx->err)) == 1) {
			ids_push(ctx, seen, q_col_int(q, 0));
			json_array_append_new(parties, json_integer(q_col_int(q, 0)));
		}
		q_done(q);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The chat messages of the event into `o`, collecting who is shown. */
static int chat_json(struct kctx *ctx, const char *rid, int64_t event_id, json_t *o,
                     struct ids *seen)
{
	json_t *chat = json_array();
	int rc;
	json_object_set_new(o, "chat", chat);
	struct query *q = store_query(ctx->db, ST_EV_CHATS);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	q_int(q, 3, ctx->sees_restricted);
	while ((rc = q_step(q, ctx->err)) == 1) {
		ids_push(ctx, seen, q_col_int(q, 2));
		json_array_append_new(chat, json_pack("{s:I, s:I, s:I, s:s, s:s}", "id",
		                                      (json_int_t)q_col_int(q, 0), "session_id",
		                                      (json_int_t)q_col_int(q, 1), "person_id",
		                                      (json_int_t)q_col_int(q, 2), "at",
		                                      q_col_text(q, 3), "text", q_col_text(q, 4)));
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

int event_get(struct kctx *ctx, const char *rid, int64_t id, unsigned flags, json_t **out)
{
	struct event_row e;
	struct ids seen = {0};
	int rc;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = event_load(ctx, rid, id, &e)))
		return rc;
	json_t *o = event_json(&e), *sessions = json_array();
	json_object_set_new(o, "sessions", sessions);
	if ((rc = sessions_json(ctx, id, sessions)) ||
	    (rc = participation_json(ctx, rid, id, o, &seen)) ||
	    ((flags & EVENT_GET_CHAT) && (rc = chat_json(ctx, rid, id, o, &seen)))) {
		json_decref(o);
		return rc;
	}
	/* The persons shown are logged as a read before anything leaves (S-05). */
	ids_unique(&seen);
	if (seen.n) {
		struct usage_entry u = {.action = "read",
		                        .rid = rid,
		                        .entity = "event",
		                        .entity_id = id,
		                        .subjects = seen.v,
		                        .nsubjects = seen.n};
		if ((rc = usage_read(ctx, &u))) {
			json_decref(o);
			return rc;
		}
	}
	*out = o;
	return 0;
}

/* Orders participants by last name, then first name (bytewise: UTF-8 keeps letters in
 * code-point order). */
static int by_name(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *keys[] = {"last_name", "first_name"};
	for (size_t i = 0; i < 2; i++) {
		const char *u = json_string_value(json_object_get(x, keys[i]));
		const char *v = json_string_value(json_object_get(y, keys[i]));
		int c = strcmp(u ? u : "", v ? v : "");
		if (c)
			return c;
	}
	return 0;
}

int event_participant_list(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	struct event_row e;
	struct ids seen = {0};
	char today[11];
	int rc;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = event_load(ctx, rid, id, &e)))
		return rc;
	time_format_date(ctx->now, today);
	size_t n = 0, cap = 16;
	json_t **v = arena_calloc(ctx->mem, cap, sizeof(*v));
	struct query *q = store_query(ctx->db, ST_EV_PARTICIPANTS);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_text(q, 3, today);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (n == cap) {
			json_t **w = arena_calloc(ctx->mem, cap * 2, sizeof(*w));
			memcpy(w, v, cap * sizeof(*v));
			v = w;
			cap *= 2;
		}
		ids_push(ctx, &seen, q_col_int(q, 0));
		v[n++] = json_pack("{s:s?, s:s?, s:s?, s:s?}", "first_name", q_col_text(q, 1),
		                   "last_name", q_col_text(q, 2), "organisation", q_col_text(q, 3),
		                   "title", q_col_text(q, 4));
	}
	q_done(q);
	if (rc >= 0 && seen.n) {
		/* The names leave kortisto for the other participants: logged before they go. */
		struct usage_entry u = {.action = "read",
		                        .rid = rid,
		                        .entity = "event",
		                        .entity_id = id,
		                        .subjects = seen.v,
		                        .nsubjects = seen.n,
		                        .reason = "participant_list"};
		rc = usage_read(ctx, &u);
	}
	if (rc) {
		for (size_t i = 0; i < n; i++)
			json_decref(v[i]);
		return rc;
	}
	qsort(v, n, sizeof(*v), by_name);
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, v[i]);
	*out = json_pack("{s:{s:I, s:s}, s:o}", "event", "id", (json_int_t)e.id, "title", e.title,
	                 "items", items);
	return 0;
}

/* Parses cursor "<starts_at>,<id>" into its parts (the time in ctx->mem). */
static int cursor_parse(struct kctx *ctx, const char *cursor, const char **starts, int64_t *id)
{
	const char *comma = cursor ? strrchr(cursor, ',') : NULL;
	long long v;
	int64_t t;
	if (!comma || comma - cursor != 20)
		goto bad;
	char *s = arena_strndup(ctx->mem, cursor, (size_t)(comma - cursor));
	if (time_parse_iso8601(s, &t) != 0 || !int_valid(comma + 1, &v, NULL) || v < 0)
		goto bad;
	*starts = s;
	*id = v;
	return 0;
bad:
	return kerr_set(ctx->err, KERR_INVALID, "cursor", "cursor: not one this list gave");
}

int event_list(struct kctx *ctx, const char *rid, const char *from, const char *cursor, int limit,
               json_t **out)
{
	const char *after = "";
	int64_t after_id = 0;
	int y, m, d, rc;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if (from && !date_valid(from, &y, &m, &d, NULL))
		return kerr_set(ctx->err, KERR_INVALID, "from", "from: a day, YYYY-MM-DD");
	if (cursor && (rc = cursor_parse(ctx, cursor, &after, &after_id)))
		return rc;
	if (limit <= 0 || limit > MAX_LIST)
		limit = MAX_LIST;
	json_t *items = json_array();
	struct query *q = store_query(ctx->db, ST_EV_LIST);
	q_text(q, 1, rid);
	q_text(q, 2, from);
	q_text(q, 3, after);
	q_int(q, 4, after_id);
	q_int(q, 5, limit + 1);
	const char *next = NULL;
	while ((rc = q_step(q, ctx->err)) == 1) {
		if ((int)json_array_size(items) == limit) {
			json_t *last = json_array_get(items, json_array_size(items) - 1);
			next = arena_printf(ctx->mem, "%s,%" JSON_INTEGER_FORMAT,
			                    json_string_value(json_object_get(last, "starts_at")),
			                    json_integer_value(json_object_get(last, "id")));
			break;
		}
		struct event_row e = {
		        .id = q_col_int(q, 0),
		        .title = q_col_text(q, 1),
		        .format = q_col_text(q, 2),
		        .place = q_col_text(q, 3),
		        .url = q_col_text(q, 4),
		        .starts = q_col_text(q, 5),
		        .ends = q_col_text(q, 6),
		        .co_organiser = q_col_text(q, 7),
		        .created_at = q_col_text(q, 8),
		};
		json_array_append_new(items, event_json(&e));
	}
	q_done(q);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o, s:o}", "items", items, "next",
	                 next ? json_string(next) : json_null());
	return 0;
}

/* ---------------------------------------------------------------- participation */

/* The usage-log entry of a change `action` of `entity` `entity_id` of event `event_id`, naming
 * the persons it concerns, in the caller's transaction. */
static int log_change(struct kctx *ctx, const char *action, const char *rid, const char *entity,
                      int64_t entity_id, const int64_t *subjects, size_t nsubjects,
                      int64_t event_id)
{
	struct usage_entry u = {.action = action,
	                        .rid = rid,
	                        .entity = entity,
	                        .entity_id = entity_id,
	                        .subjects = subjects,
	                        .nsubjects = nsubjects,
	                        .reason = arena_printf(ctx->mem, "event:%" PRId64, event_id)};
	return usage_append(ctx, &u);
}

static const char *const register_keys[] = {"person_id", "registered_on", "consents", NULL};

/* The consent choices as a JSON text with only declared flags, each true or false. */
static int consents_parse(struct kctx *ctx, json_t *v, char **out)
{
	const char *k;
	json_t *f;
	if (!v || json_is_null(v)) {
		*out = arena_strdup(ctx->mem, "{}");
		return 0;
	}
	if (!json_is_object(v))
		return kerr_set(ctx->err, KERR_INVALID, "consents",
		                "consents: an object of consent choices, each true or false");
	json_t *o = json_object();
	json_object_foreach (v, k, f) {
		if (!in_names(event_consent_flags, k) || !json_is_boolean(f)) {
			json_decref(o);
			return kerr_set(
			        ctx->err, KERR_INVALID, "consents",
			        "consents: choices are share_with_co_organiser, newsletter and "
			        "participant_list, each true or false");
		}
		json_object_set(o, k, f);
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	*out = arena_strdup(ctx->mem, text);
	free(text);
	json_decref(o);
	return 0;
}

/* The registration of person `pid` for event `event_id`: *regid its id (0: none) and
 * *cancelled whether it was cancelled (0013). */
static int registration_find_tx(struct kctx *ctx, const char *rid, int64_t event_id, int64_t pid,
                                int64_t *regid, bool *cancelled)
{
	struct query *q = store_query(ctx->db, ST_EV_REG_FIND);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	q_int(q, 3, pid);
	int rc = q_step(q, ctx->err);
	*regid = rc == 1 ? q_col_int(q, 0) : 0;
	*cancelled = rc == 1 && q_col_text(q, 1) != NULL;
	q_done(q);
	return rc < 0 ? rc : 0;
}

static int register_tx(struct kctx *ctx, const struct decl *d, const char *rid, int64_t event_id,
                       int64_t pid, const char *day, const char *consents)
{
	struct event_row e;
	bool cancelled;
	int64_t rec, regid;
	int rc;
	if ((rc = event_load(ctx, rid, event_id, &e)) ||
	    (rc = person_usable_tx(ctx, rid, pid, "person_id")) ||
	    (rc = registration_find_tx(ctx, rid, event_id, pid, &regid, &cancelled)))
		return rc;
	if (regid && !cancelled)
		return kerr_set(ctx->err, KERR_CONFLICT, "person_id",
		                "person_id: person %" PRId64
		                " is already registered for event %" PRId64,
		                pid, event_id);
	if ((rc = customer_event_tx(ctx, d, rid, pid, RT_REGISTRATION, day, &rec)))
		return rc;
	struct query *q;
	if (regid) {
		/* Registering again after a cancellation: the same registration stands anew. */
		q = store_query(ctx->db, ST_EV_REG_REINSTATE);
		q_text(q, 1, rid);
		q_text(q, 2, day);
		q_text(q, 3, consents);
		bind_record(q, 4, rec);
		q_int(q, 5, regid);
	} else {
		q = store_query(ctx->db, ST_EV_REG_INSERT);
		q_int(q, 1, event_id);
		q_text(q, 2, rid);
		q_int(q, 3, pid);
		q_text(q, 4, day);
		q_text(q, 5, consents);
		bind_record(q, 6, rec);
		q_text(q, 7, ctx->now_iso);
		q_text(q, 8, ctx->actor->name);
	}
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return log_change(ctx, regid ? "update" : "create", rid, "event_registration",
	                  regid ? regid : store_last_id(ctx->db), &pid, 1, event_id);
}

int event_register(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	const char *day;
	char today[11], *consents = NULL;
	int64_t pid;
	int y, m, dd, rc;
	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, register_keys)) ||
	    (rc = want_id(ctx, in, "person_id", &pid)) ||
	    (rc = want_text(ctx, in, "registered_on", false, 10, &day)) ||
	    (rc = consents_parse(ctx, json_object_get(in, "consents"), &consents)))
		return rc;
	time_format_date(ctx->now, today);
	if (!day)
		day = today;
	else if (!date_valid(day, &y, &m, &dd, NULL) || strlen(day) != 10)
		return kerr_set(ctx->err, KERR_INVALID, "registered_on",
		                "registered_on: a day, YYYY-MM-DD");
	else if (strcmp(day, today) > 0)
		return kerr_set(ctx->err, KERR_INVALID, "registered_on",
		                "registered_on: %s is in the future", day);
	IN_WRITE_TX(ctx, register_tx(ctx, d, rid, event_id, pid, day, consents));
}

static int cancel_tx(struct kctx *ctx, const char *rid, int64_t event_id, int64_t pid)
{
	struct event_row e;
	bool cancelled;
	int64_t regid;
	int rc;
	if ((rc = event_load(ctx, rid, event_id, &e)) ||
	    (rc = person_usable_tx(ctx, rid, pid, "person_id")) ||
	    (rc = registration_find_tx(ctx, rid, event_id, pid, &regid, &cancelled)))
		return rc;
	if (!regid)
		return kerr_set(ctx->err, KERR_NOTFOUND, "person_id",
		                "person_id: person %" PRId64
		                " is not registered for event %" PRId64,
		                pid, event_id);
	if (cancelled)
		return kerr_set(ctx->err, KERR_CONFLICT, "person_id",
		                "person_id: the registration of person %" PRId64
		                " for event %" PRId64 " is already cancelled",
		                pid, event_id);
	struct query *q = store_query(ctx->db, ST_EV_REG_CANCEL);
	q_text(q, 1, rid);
	q_text(q, 2, ctx->now_iso);
	q_text(q, 3, ctx->actor->name);
	q_int(q, 4, regid);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return log_change(ctx, "cancel", rid, "event_registration", regid, &pid, 1, event_id);
}

int event_cancel(struct kctx *ctx, const char *rid, int64_t event_id, int64_t person_id)
{
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	IN_WRITE_TX(ctx, cancel_tx(ctx, rid, event_id, person_id));
}

static const char *const attend_keys[] = {"session_id", "person_id", NULL};

static int attend_tx(struct kctx *ctx, const struct decl *d, const char *rid, int64_t event_id,
                     int64_t sid, int64_t pid)
{
	struct event_row e;
	char day[11], today[11];
	bool dup;
	int64_t rec;
	int rc;
	if ((rc = event_load(ctx, rid, event_id, &e)))
		return rc;
	struct query *q = store_query(ctx->db, ST_EV_SESSION_GET);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	q_int(q, 3, sid);
	rc = q_step(q, ctx->err);
	if (rc == 1)
		snprintf(day, sizeof(day), "%.10s", q_col_text(q, 0));
	q_done(q);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "session_id",
		                "session_id: event %" PRId64 " has no session %" PRId64, event_id,
		                sid);
	if (rc < 0)
		return rc;
	time_format_date(ctx->now, today);
	if (strcmp(day, today) > 0)
		return kerr_set(ctx->err, KERR_INVALID, "session_id",
		                "session_id: session %" PRId64 " begins on %s, in the future", sid,
		                day);
	int64_t regid;
	bool cancelled;
	if ((rc = person_usable_tx(ctx, rid, pid, "person_id")) ||
	    (rc = registration_find_tx(ctx, rid, event_id, pid, &regid, &cancelled)))
		return rc;
	/* A person who cancelled did not come: their attendance is refused until they register
	 * again (walk-ins without any registration are still recorded). */
	if (cancelled)
		return kerr_set(ctx->err, KERR_REFUSED, "person_id",
		                "person_id: person %" PRId64 " cancelled their registration for "
		                "event %" PRId64 ": register them again first",
		                pid, event_id);
	if ((rc = exists_tx(ctx, ST_EV_ATT_EXISTS, sid, pid, &dup)))
		return rc;
	if (dup)
		return kerr_set(ctx->err, KERR_CONFLICT, "person_id",
		                "person_id: the attendance of person %" PRId64
		                " at session %" PRId64 " is already recorded",
		                pid, sid);
	if ((rc = customer_event_tx(ctx, d, rid, pid, RT_ATTENDANCE, day, &rec)))
		return rc;
	q = store_query(ctx->db, ST_EV_ATT_INSERT);
	q_int(q, 1, sid);
	q_int(q, 2, pid);
	q_text(q, 3, rid);
	bind_record(q, 4, rec);
	q_text(q, 5, ctx->now_iso);
	q_text(q, 6, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return log_change(ctx, "create", rid, "event_attendance", sid, &pid, 1, event_id);
}

int event_attend(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	int64_t sid, pid;
	int rc;
	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, attend_keys)) || (rc = want_id(ctx, in, "session_id", &sid)) ||
	    (rc = want_id(ctx, in, "person_id", &pid)))
		return rc;
	IN_WRITE_TX(ctx, attend_tx(ctx, d, rid, event_id, sid, pid));
}

static const char *const meeting_keys[] = {"parties", "starts_at", "ends_at", "place", NULL};

struct meeting_in {
	int64_t *parties;
	size_t nparties;
	char starts[21], ends[21];
	const char *place;
};

static int meeting_tx(struct kctx *ctx, const struct decl *d, const char *rid, int64_t event_id,
                      const struct meeting_in *mi, int64_t *mid)
{
	struct event_row e;
	char day[11], today[11];
	bool reg;
	int rc;
	if ((rc = event_load(ctx, rid, event_id, &e)))
		return rc;
	for (size_t i = 0; i < mi->nparties; i++) {
		if ((rc = person_usable_tx(ctx, rid, mi->parties[i], "parties")) ||
		    (rc = exists_tx(ctx, ST_EV_REG_EXISTS, event_id, mi->parties[i], &reg)))
			return rc;
		if (!reg)
			return kerr_set(ctx->err, KERR_REFUSED, "parties",
			                "parties: person %" PRId64
			                " is not registered for event %" PRId64
			                ": meetings are arranged between participants",
			                mi->parties[i], event_id);
	}
	struct query *q = store_query(ctx->db, ST_EV_MEET_INSERT);
	q_int(q, 1, event_id);
	q_text(q, 2, mi->starts);
	q_text(q, 3, mi->ends);
	q_text(q, 4, mi->place);
	q_text(q, 5, ctx->now_iso);
	q_text(q, 6, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	int64_t id = store_last_id(ctx->db);
	/* Arranging a meeting ahead is itself the contact: the customer event falls on the
	 * meeting's day, or today when that is still to come. */
	time_format_date(ctx->now, today);
	snprintf(day, sizeof(day), "%.10s", mi->starts);
	if (strcmp(day, today) > 0)
		memcpy(day, today, sizeof(day));
	for (size_t i = 0; i < mi->nparties; i++) {
		int64_t rec;
		if ((rc = customer_event_tx(ctx, d, rid, mi->parties[i], RT_MEETING, day, &rec)))
			return rc;
		q = store_query(ctx->db, ST_EV_MEET_PARTY_INSERT);
		q_int(q, 1, id);
		q_int(q, 2, mi->parties[i]);
		q_text(q, 3, rid);
		bind_record(q, 4, rec);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	if (mid)
		*mid = id;
	return log_change(ctx, "create", rid, "event_meeting", id, mi->parties, mi->nparties,
	                  event_id);
}

int event_meeting(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in, int64_t *mid)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	struct meeting_in mi = {0};
	int rc;
	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, meeting_keys)) ||
	    (rc = want_time(ctx, in, "starts_at", mi.starts)) ||
	    (rc = want_time(ctx, in, "ends_at", mi.ends)) ||
	    (rc = want_text(ctx, in, "place", true, MAX_PLACE, &mi.place)))
		return rc;
	if (strcmp(mi.ends, mi.starts) <= 0)
		return kerr_set(ctx->err, KERR_INVALID, "ends_at",
		                "ends_at: must be after starts_at");
	json_t *p = json_object_get(in, "parties");
	if (!json_is_array(p) || json_array_size(p) < 2 || json_array_size(p) > MAX_PARTIES)
		return kerr_set(ctx->err, KERR_INVALID, "parties",
		                "parties: an array of 2 to %d person ids", MAX_PARTIES);
	mi.parties = arena_calloc(ctx->mem, json_array_size(p), sizeof(*mi.parties));
	for (size_t i = 0; i < json_array_size(p); i++) {
		json_t *v = json_array_get(p, i);
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return kerr_set(ctx->err, KERR_INVALID, "parties",
			                "parties: person ids are positive integers");
		mi.parties[i] = json_integer_value(v);
	}
	mi.nparties = json_array_size(p);
	qsort(mi.parties, mi.nparties, sizeof(*mi.parties), usage_id_cmp);
	for (size_t i = 1; i < mi.nparties; i++)
		if (mi.parties[i] == mi.parties[i - 1])
			return kerr_set(ctx->err, KERR_INVALID, "parties",
			                "parties: person %" PRId64 " is named twice",
			                mi.parties[i]);
	IN_WRITE_TX(ctx, meeting_tx(ctx, d, rid, event_id, &mi, mid));
}

/* ---------------------------------------------------------------- sharing (E-06) */

static const char *const share_keys[] = {"purpose", "legal_basis", "categories", "reference", NULL};

int event_share(struct kctx *ctx, const char *rid, int64_t event_id, json_t *in, json_t **out)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	struct event_row e;
	struct ids subjects = {0};
	int64_t withheld = 0, did = 0;
	int rc;
	*out = NULL;
	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, share_keys)) || (rc = event_load(ctx, rid, event_id, &e)))
		return rc;
	if (!e.co_organiser)
		return kerr_set(ctx->err, KERR_REFUSED, "co_organiser",
		                "co_organiser: event %" PRId64
		                " is the register's own: there is no co-organiser to share with",
		                event_id);
	/* The declaration may have changed since the event was made. */
	if ((rc = check_co_organiser(ctx, d, rid, e.co_organiser)))
		return rc;

	struct query *q = store_query(ctx->db, ST_EV_SHARE_SUBJECTS);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	while ((rc = q_step(q, ctx->err)) == 1)
		ids_push(ctx, &subjects, q_col_int(q, 0));
	q_done(q);
	if (rc < 0)
		return rc;
	q = store_query(ctx->db, ST_EV_SHARE_WITHHELD);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	if ((rc = q_step(q, ctx->err)) == 1)
		withheld = q_col_int(q, 0);
	q_done(q);
	if (rc < 0)
		return rc;
	if (!subjects.n)
		return kerr_set(ctx->err, KERR_REFUSED, "subjects",
		                "subjects: no registrant of event %" PRId64
		                " chose share_with_co_organiser (or all of them are restricted)",
		                event_id);

	/* The disclosure itself: every declared rule (recipient, purpose, legal basis,
	 * categories, subjects) is checked and the disclosure logged by audit/disclosure.c. */
	struct disclosure_in di = {0};
	json_t *cats = json_object_get(in, "categories");
	json_t *v = json_object_get(in, "purpose");
	di.recipient = e.co_organiser;
	di.purpose = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(in, "legal_basis");
	di.legal_basis = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(in, "reference");
	di.reference = json_is_string(v) ? json_string_value(v)
	                                 : arena_printf(ctx->mem, "event:%" PRId64, event_id);
	if (cats && !json_is_array(cats))
		return kerr_set(ctx->err, KERR_INVALID, "categories",
		                "categories: an array of declared category ids");
	di.ncategories = json_array_size(cats);
	const char **cv = arena_calloc(ctx->mem, di.ncategories ? di.ncategories : 1, sizeof(*cv));
	for (size_t i = 0; i < di.ncategories; i++) {
		json_t *c = json_array_get(cats, i);
		if (!json_is_string(c))
			return kerr_set(ctx->err, KERR_INVALID, "categories",
			                "categories: an array of declared category ids");
		cv[i] = json_string_value(c);
	}
	di.categories = cv;
	di.subjects = subjects.v;
	di.nsubjects = subjects.n;
	if ((rc = disclosure_record(ctx, rid, &di, &did)))
		return rc;
	*out = json_pack("{s:I, s:s, s:I, s:I}", "disclosure", (json_int_t)did, "recipient",
	                 e.co_organiser, "subjects", (json_int_t)subjects.n, "withheld",
	                 (json_int_t)withheld);
	return 0;
}

/* ---------------------------------------------------------------- iCalendar */

/* Appends one VEVENT. `uid` is made of safe characters only. */
static void ics_vevent(struct buf *b, const char *uid, const char *stamp, const char *title,
                       const char *starts, const char *ends, const char *place, const char *url,
                       const char *description)
{
	char t[17];
	int64_t s;
	ics_raw(b, "BEGIN", "VEVENT");
	ics_raw(b, "UID", uid);
	ics_raw(b, "DTSTAMP", stamp);
	if (time_parse_iso8601(starts, &s) == 0) {
		ics_time(s, t);
		ics_raw(b, "DTSTART", t);
	}
	if (time_parse_iso8601(ends, &s) == 0) {
		ics_time(s, t);
		ics_raw(b, "DTEND", t);
	}
	ics_text(b, "SUMMARY", title);
	ics_text(b, "LOCATION", place ? place : url);
	ics_raw(b, "URL", url);
	ics_text(b, "DESCRIPTION", description);
	ics_raw(b, "END", "VEVENT");
}

int event_ics(struct kctx *ctx, const char *rid, int64_t event_id, struct buf *out)
{
	struct event_row e;
	char stamp[17];
	int rc;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = event_load(ctx, rid, event_id, &e)))
		return rc;
	struct buf b = BUF_INIT;
	ics_time(ctx->now, stamp);
	ics_raw(&b, "BEGIN", "VCALENDAR");
	ics_raw(&b, "VERSION", "2.0");
	ics_raw(&b, "PRODID", "-//kortisto//events//EN");
	ics_raw(&b, "CALSCALE", "GREGORIAN");
	ics_raw(&b, "METHOD", "PUBLISH");
	ics_vevent(&b, arena_printf(ctx->mem, "event-%" PRId64 "@%s.kortisto", e.id, rid), stamp,
	           e.title, e.starts, e.ends, e.place, e.url, NULL);
	struct query *q = store_query(ctx->db, ST_EV_SESSIONS);
	q_int(q, 1, event_id);
	while ((rc = q_step(q, ctx->err)) == 1)
		ics_vevent(&b,
		           arena_printf(ctx->mem,
		                        "session-%" PRId64 "-event-%" PRId64 "@%s.kortisto",
		                        q_col_int(q, 0), e.id, rid),
		           stamp, q_col_text(q, 1), q_col_text(q, 2), q_col_text(q, 3),
		           q_col_text(q, 4), q_col_text(q, 5), e.title);
	q_done(q);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	ics_raw(&b, "END", "VCALENDAR");
	buf_append(out, b.p, b.len);
	buf_free(&b);
	return 0;
}

/* ---------------------------------------------------------------- chat of virtual sessions */

#define RT_CHAT "chat_message"

static const char *const chat_keys[] = {"messages", NULL};
static const char *const message_keys[] = {"at", "author_email", "person_id", "text", NULL};

/* A message as given. email is normalised, or NULL when the author is named by id (or the
 * address is not one: such a message can match nobody). */
struct chat_in {
	char at[21];
	const char *email, *text;
	int64_t pid;
};

struct chat_count {
	int64_t stored, unmatched, withheld, duplicates;
};

/* Chat text: UTF-8 without control characters other than line breaks and tabs. */
static bool chat_text_ok(const char *s, size_t n)
{
	if (!n || n > EVENT_CHAT_TEXT_MAX || strlen(s) != n || !utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static int message_parse(struct kctx *ctx, json_t *o, size_t i, struct chat_in *m)
{
	char field[40];
	int64_t t;
	memset(m, 0, sizeof(*m));
	if (!json_is_object(o))
		return kerr_set(ctx->err, KERR_INVALID, "messages",
		                "messages: message %zu is not an object", i + 1);
	if (only_keys(ctx, o, message_keys))
		return KERR_INVALID;
	json_t *at = json_object_get(o, "at"), *text = json_object_get(o, "text");
	json_t *email = json_object_get(o, "author_email"), *pid = json_object_get(o, "person_id");
	snprintf(field, sizeof(field), "messages");
	if (!json_is_string(at) || time_parse_iso8601(json_string_value(at), &t) != 0)
		return kerr_set(ctx->err, KERR_INVALID, field,
		                "messages: message %zu: at is required, a time such as "
		                "2026-05-12T09:00:00+03:00",
		                i + 1);
	if (t > ctx->now)
		return kerr_set(ctx->err, KERR_INVALID, field,
		                "messages: message %zu: at is in the future", i + 1);
	time_format_iso8601(t, m->at);
	if (!json_is_string(text) ||
	    !chat_text_ok(json_string_value(text), json_string_length(text)))
		return kerr_set(ctx->err, KERR_INVALID, field,
		                "messages: message %zu: text is required, at most %d bytes of text",
		                i + 1, EVENT_CHAT_TEXT_MAX);
	m->text = json_string_value(text);
	if (!!email == !!pid)
		return kerr_set(
		        ctx->err, KERR_INVALID, field,
		        "messages: message %zu: give author_email or person_id, one of them",
		        i + 1);
	if (pid) {
		if (!json_is_integer(pid) || json_integer_value(pid) <= 0)
			return kerr_set(ctx->err, KERR_INVALID, field,
			                "messages: message %zu: person_id is a positive integer id",
			                i + 1);
		m->pid = json_integer_value(pid);
		return 0;
	}
	if (!json_is_string(email) || json_string_length(email) > 254)
		return kerr_set(ctx->err, KERR_INVALID, field,
		                "messages: message %zu: author_email is text", i + 1);
	char norm[255];
	if (email_valid(json_string_value(email), norm, sizeof(norm), NULL))
		m->email = arena_strdup(ctx->mem, norm);
	return 0;
}

/* One message: matched to a registered, usable participant and stored, or counted. */
static int chat_one_tx(struct kctx *ctx, const char *rid, int64_t event_id, int64_t sid,
                       const struct chat_in *m, struct chat_count *n, struct ids *who)
{
	int64_t pid = m->pid, rec;
	bool reg, dup;
	int rc;
	if (!pid && m->email) {
		struct query *f = store_query(ctx->db, ST_EV_REG_BY_EMAIL);
		q_text(f, 1, rid);
		q_int(f, 2, event_id);
		q_text(f, 3, m->email);
		rc = q_step(f, ctx->err);
		if (rc == 1)
			pid = q_col_int(f, 0);
		q_done(f);
		if (rc < 0)
			return rc;
	}
	if (!pid) {
		n->unmatched++;
		return 0;
	}
	struct query *q = store_query(ctx->db, ST_EV_PERSON_STATUS);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	rc = q_step(q, ctx->err);
	bool known = rc == 1;
	bool active = known && q_col_text(q, 0) && strcmp(q_col_text(q, 0), "active") == 0;
	q_done(q);
	if (rc < 0 || (rc = exists_tx(ctx, ST_EV_REG_EXISTS, event_id, pid, &reg)))
		return rc;
	if (!known || !reg) {
		/* Only registered participants' messages may be kept. */
		n->unmatched++;
		return 0;
	}
	if (!active) {
		n->withheld++;
		return 0;
	}
	q = store_query(ctx->db, ST_EV_CHAT_EXISTS);
	q_int(q, 1, sid);
	q_int(q, 2, pid);
	q_text(q, 3, m->at);
	q_text(q, 4, m->text);
	rc = q_step(q, ctx->err);
	q_done(q);
	if (rc < 0)
		return rc;
	dup = rc == 1;
	if (dup) {
		n->duplicates++;
		return 0;
	}
	char day[11];
	snprintf(day, sizeof(day), "%.10s", m->at);
	if ((rc = retention_event_add_tx(ctx, rid, pid, RT_CHAT, day, &rec)))
		return rc;
	q = store_query(ctx->db, ST_EV_CHAT_INSERT);
	q_int(q, 1, sid);
	q_text(q, 2, rid);
	q_int(q, 3, pid);
	q_text(q, 4, m->at);
	q_text(q, 5, m->text);
	bind_record(q, 6, rec);
	q_text(q, 7, ctx->now_iso);
	q_text(q, 8, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	n->stored++;
	ids_push(ctx, who, pid);
	return 0;
}

static int chat_tx(struct kctx *ctx, const char *rid, int64_t event_id, int64_t sid,
                   const struct chat_in *msgs, size_t nmsgs, struct chat_count *n)
{
	struct event_row e;
	struct ids who = {0};
	bool has_url = false;
	int rc;
	if ((rc = event_load(ctx, rid, event_id, &e)))
		return rc;
	struct query *q = store_query(ctx->db, ST_EV_SESSION_URL);
	q_text(q, 1, rid);
	q_int(q, 2, event_id);
	q_int(q, 3, sid);
	rc = q_step(q, ctx->err);
	if (rc == 1)
		has_url = !q_col_null(q, 0);
	q_done(q);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "session_id",
		                "session_id: event %" PRId64 " has no session %" PRId64, event_id,
		                sid);
	if (rc < 0)
		return rc;
	if (strcmp(e.format, "virtual") != 0 && !has_url)
		return kerr_set(ctx->err, KERR_REFUSED, "session_id",
		                "session_id: session %" PRId64
		                " is not virtual (neither the event is nor the session has a url): "
		                "only the public chat of virtual sessions is kept",
		                sid);
	for (size_t i = 0; i < nmsgs; i++)
		if ((rc = chat_one_tx(ctx, rid, event_id, sid, &msgs[i], n, &who)))
			return rc;
	ids_unique(&who);
	return log_change(ctx, "create", rid, "event_chat", sid, who.v, who.n, event_id);
}

int event_chat_import(struct kctx *ctx, const char *rid, int64_t event_id, int64_t sid, json_t *in,
                      json_t **out)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	struct chat_count n = {0};
	int rc;
	*out = NULL;
	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, chat_keys)))
		return rc;
	/* Chat is kept only as the data the declaration names (E-01). */
	if (!decl_record_type(d, RT_CHAT))
		return kerr_set(ctx->err, KERR_REFUSED, "messages",
		                "messages: register '%s' does not declare record type " RT_CHAT
		                ": it keeps no chat messages",
		                rid);
	json_t *a = json_object_get(in, "messages");
	if (!json_is_array(a) || json_array_size(a) > EVENT_CHAT_MAX)
		return kerr_set(ctx->err, KERR_INVALID, "messages",
		                "messages: required, an array of at most %d messages",
		                EVENT_CHAT_MAX);
	size_t nm = json_array_size(a);
	struct chat_in *msgs = arena_calloc(ctx->mem, nm ? nm : 1, sizeof(*msgs));
	for (size_t i = 0; i < nm; i++)
		if ((rc = message_parse(ctx, json_array_get(a, i), i, &msgs[i])))
			return rc;
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = chat_tx(ctx, rid, event_id, sid, msgs, nm, &n))) {
		store_rollback(ctx->db);
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		return rc;
	*out = json_pack("{s:I, s:I, s:I, s:I}", "stored", (json_int_t)n.stored, "unmatched",
	                 (json_int_t)n.unmatched, "withheld", (json_int_t)n.withheld, "duplicates",
	                 (json_int_t)n.duplicates);
	return 0;
}

/* ---------------------------------------------------------------- the public page */

/* An event that takes registrations on its public page; strings in ctx->mem. */
struct pub_event {
	const struct decl *d;
	const char *rid, *group, *source, *nl_purpose, *nl_text, *nl_version;
	bool asks_organisation;
	struct event_row e;
};

static int pub_load(struct kctx *ctx, int64_t id, struct pub_event *p)
{
	struct query *q = store_query(ctx->db, ST_EV_PUBLIC_GET);
	int rc;
	memset(p, 0, sizeof(*p));
	q_int(q, 1, id);
	rc = q_step(q, ctx->err);
	if (rc == 1) {
		p->rid = arena_strdup(ctx->mem, q_col_text(q, 0));
		p->group = arena_strdup(ctx->mem, q_col_text(q, 1));
		p->source = arena_strdup(ctx->mem, q_col_text(q, 2));
		if (!q_col_null(q, 3)) {
			p->nl_purpose = arena_strdup(ctx->mem, q_col_text(q, 3));
			p->nl_text = arena_strdup(ctx->mem, q_col_text(q, 4));
			p->nl_version = arena_strdup(ctx->mem, q_col_text(q, 5));
		}
	}
	q_done(q);
	if (rc < 0)
		return rc;
	p->d = rc == 1 ? app_register(ctx->app, p->rid) : NULL;
	/* The declaration may have changed since: the group must still be declared. */
	if (!p->d || !decl_group(p->d, p->group))
		return kerr_set(ctx->err, KERR_NOTFOUND, NULL,
		                "event %" PRId64 " takes no registrations here", id);
	if ((rc = event_load(ctx, p->rid, id, &p->e)))
		return rc;
	if (strcmp(p->e.ends, ctx->now_iso) <= 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, NULL,
		                "event %" PRId64 " has ended: registration is closed", id);
	const struct decl_field *f = decl_field(p->d, "organisation");
	p->asks_organisation = f && f->category && decl_category_applies(f->category, p->group);
	return 0;
}

int event_public(struct kctx *ctx, int64_t id, json_t **out)
{
	struct pub_event p;
	int rc;
	*out = NULL;
	if ((rc = pub_load(ctx, id, &p)))
		return rc;
	json_t *o = event_json(&p.e), *sessions = json_array();
	json_object_del(o, "created_at");
	json_object_set_new(o, "co_organiser", json_boolean(p.e.co_organiser != NULL));
	json_object_set_new(o, "register", json_string(p.rid));
	json_object_set_new(o, "organisation", json_boolean(p.asks_organisation));
	json_object_set_new(o, "newsletter",
	                    p.nl_purpose ? json_pack("{s:s, s:s}", "text", p.nl_text,
	                                             "text_version", p.nl_version)
	                                 : json_null());
	json_object_set_new(o, "sessions", sessions);
	if ((rc = sessions_json(ctx, id, sessions))) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

static const char *const public_keys[] = {"first_name",   "last_name", "email",
                                          "organisation", "consents",  NULL};

/* In one transaction: the person (found or added), the registration and, with the
 * newsletter choice, the pending consent. */
static int public_register_tx(struct kctx *ctx, const struct pub_event *p, const char *email,
                              const char *first, const char *last, const char *org,
                              const char *consents, bool newsletter, char *token,
                              enum event_pub_outcome *oc)
{
	char today[11];
	int64_t pid = 0, cid = 0;
	int rc = person_find_contact(ctx, p->rid, "email", email, &pid);
	if (rc)
		return rc;
	if (!pid) {
		json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "subject_group", p->group,
		                       "source", p->source, "email", email, "first_name", first,
		                       "last_name", last);
		if (org)
			json_object_set_new(in, "organisation", json_string(org));
		rc = person_create_tx(ctx, p->rid, in, &pid);
		json_decref(in);
		if (rc == KERR_SUPPRESSED)
			*oc = EVENT_PUB_SUPPRESSED;
		if (rc)
			return rc;
	}
	time_format_date(ctx->now, today);
	rc = register_tx(ctx, p->d, p->rid, p->e.id, pid, today, consents);
	if (rc == KERR_CONFLICT)
		*oc = EVENT_PUB_ALREADY;
	else if (rc == KERR_REFUSED)
		*oc = EVENT_PUB_SKIPPED;
	if (rc || !newsletter || !p->nl_purpose)
		return rc;
	json_t *c = json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "purpose", p->nl_purpose, "channel", "email",
	        "text", p->nl_text, "text_version", p->nl_version, "source", "form", "form",
	        arena_printf(ctx->mem, "event:%" PRId64, p->e.id), "double_opt_in", 1);
	rc = consent_give_tx(ctx, p->rid, pid, c, &cid, token);
	json_decref(c);
	return rc;
}

/* Mails the confirmation link of a pending newsletter consent, when mail is configured; a
 * consent whose mail could not be sent simply expires unconfirmed. */
static void confirm_mail(struct kctx *ctx, const struct pub_event *p, const char *to,
                         const char *token)
{
	struct kerr err = {0};
	struct kerr *keep = ctx->err;
	ctx->err = &err;
	consent_mail_link(ctx, to,
	                  "Vahvista uutiskirjeen tilaus / Bekräfta prenumerationen / Confirm the "
	                  "newsletter",
	                  p->e.title, p->nl_text, token);
	ctx->err = keep;
}

int event_public_register(struct kctx *ctx, int64_t id, json_t *in, enum event_pub_outcome *outcome)
{
	struct pub_event p;
	const char *email, *first, *last, *org;
	char norm[255], token[CONSENT_TOKEN_MAX] = "", *consents = NULL;
	enum event_pub_outcome oc = EVENT_PUB_REGISTERED;
	int rc;
	if (outcome)
		*outcome = oc;
	if ((rc = pub_load(ctx, id, &p)))
		return rc;
	if ((rc = only_keys(ctx, in, public_keys)) ||
	    (rc = want_text(ctx, in, "first_name", true, 100, &first)) ||
	    (rc = want_text(ctx, in, "last_name", true, 100, &last)) ||
	    (rc = want_text(ctx, in, "email", true, 254, &email)) ||
	    (rc = want_text(ctx, in, "organisation", false, 200, &org)) ||
	    (rc = consents_parse(ctx, json_object_get(in, "consents"), &consents)))
		return rc;
	if (!email_valid(email, norm, sizeof(norm), NULL))
		return kerr_set(ctx->err, KERR_INVALID, "email", "email: an e-mail address");
	if (org && !p.asks_organisation)
		return kerr_set(ctx->err, KERR_INVALID, "organisation",
		                "organisation: this registration does not ask for it");
	json_t *cv = json_object_get(in, "consents");
	bool newsletter = json_is_true(json_object_get(cv, "newsletter"));
	if (newsletter && !p.nl_purpose)
		return kerr_set(ctx->err, KERR_INVALID, "consents",
		                "consents: this event offers no newsletter");
	if (json_is_true(json_object_get(cv, "share_with_co_organiser")) && !p.e.co_organiser)
		return kerr_set(ctx->err, KERR_INVALID, "consents",
		                "consents: this event has no co-organiser to share with");

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	rc = public_register_tx(ctx, &p, norm, first, last, org, consents, newsletter, token, &oc);
	if (rc) {
		store_rollback(ctx->db);
		if (oc == EVENT_PUB_REGISTERED)
			return rc;
		/* Nothing recorded, and the page must not tell why (no enumeration). */
		kerr_clear(ctx->err);
		token[0] = '\0';
		if (outcome)
			*outcome = oc;
		if (oc != EVENT_PUB_SUPPRESSED)
			return 0;
		/* the erased person is not collected again; the skip is counted. */
		IN_WRITE_TX(ctx, usage_record(ctx, "skip_suppressed", p.rid, "event", id, NULL));
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		return rc;
	if (token[0])
		confirm_mail(ctx, &p, norm, token);
	return 0;
}
