/*
 * Unit tests for src/core/mailing.c: the §200 rule of who may receive marketing e-mail, the
 * audience's segments and why people are excluded (through mailing_preview), and what a
 * mailing may contain (mailing_create), against a fresh data directory with espoo-talent-hub
 * (individuals on consent, company contacts on public task) and sospro-marketing (contacts on
 * legitimate interest). Sending through SMTP is tested black-box in tests/api/
 * test_marketing.sh. Tests name the promise they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/affiliation.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/event.h"
#include "core/export.h"
#include "core/mailing.h"
#include "core/org.h"
#include "core/person.h"
#include "core/request.h"
#include "core/retention.h"
#include "util/kerr.h"
#include "util/timeutil.h"

#include "fixture.h"

#define ESPOO  "espoo-talent-hub"
#define SOSPRO "sospro-marketing"

static const char *const register_files[] = {"registers/espoo-talent-hub.yaml",
                                             "registers/sospro-marketing.yaml"};

static json_t *parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	if (!j)
		fail_msg("test JSON does not parse: %s", text);
	return j;
}

typedef int (*create_fn)(struct kctx *, const char *, json_t *, int64_t *);

static int64_t make(struct fx *f, create_fn fn, const char *rid, const char *json)
{
	json_t *in = parse(json);
	int64_t id = 0;
	fresh(f);
	int rc = fn(&f->ctx, rid, in, &id);
	json_decref(in);
	if (rc)
		fail_msg("create(%s) = %d: %s", json, rc, f->err.message);
	return id;
}

static int64_t person(struct fx *f, const char *rid, const char *group, const char *email,
                      const char *extra)
{
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"subject_group\": \"%s\", \"source\": \"subject\", \"first_name\": "
	         "\"T\"%s%s%s%s}",
	         group, email ? ", \"email\": \"" : "", email ? email : "", email ? "\"" : "",
	         extra ? extra : "");
	return make(f, person_create, rid, body);
}

static int64_t consent(struct fx *f, int64_t pid)
{
	json_t *in = parse("{\"purpose\": \"newsletters\", \"channel\": \"email\", \"text\": \"T\","
	                   " \"text_version\": \"1\"}");
	int64_t id = 0;
	fresh(f);
	int rc = consent_give(&f->ctx, ESPOO, pid, in, &id, NULL);
	json_decref(in);
	if (rc)
		fail_msg("consent_give = %d: %s", rc, f->err.message);
	return id;
}

static void affiliate(struct fx *f, const char *rid, int64_t pid, int64_t org, const char *end)
{
	char body[200];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 "%s%s%s}", pid, org,
	         end ? ", \"end_date\": \"" : "", end ? end : "", end ? "\"" : "");
	make(f, affiliation_create, rid, body);
}

static int64_t mailing(struct fx *f, const char *rid, const char *json)
{
	return make(f, mailing_create, rid, json);
}

/* The preview of mailing `id`; caller decrefs. */
static json_t *preview(struct fx *f, const char *rid, int64_t id)
{
	json_t *out = NULL;
	fresh(f);
	int rc = mailing_preview(&f->ctx, rid, id, &out);
	if (rc)
		fail_msg("mailing_preview = %d: %s", rc, f->err.message);
	return out;
}

static json_int_t excluded(json_t *p, const char *why)
{
	return json_integer_value(json_object_get(json_object_get(p, "excluded"), why));
}

static json_int_t recipients(json_t *p)
{
	return json_integer_value(json_object_get(p, "recipients"));
}

/* A request of `type` for `pid`, verified and fulfilled. */
static void fulfilled(struct fx *f, const char *rid, const char *type, int64_t pid,
                      const char *details)
{
	char body[300];
	int64_t rq = 0;
	json_t *out = NULL;
	snprintf(body, sizeof(body),
	         "{\"type\": \"%s\", \"channel\": \"email\", \"person_id\": %" PRId64 "%s%s}", type,
	         pid, details ? ", \"details\": " : "", details ? details : "");
	rq = make(f, request_create, rid, body);
	json_t *in = parse("{\"method\": \"id_document\"}");
	fresh(f);
	assert_int_equal(request_verify(&f->ctx, rid, rq, in), 0);
	json_decref(in);
	in = parse("{}");
	fresh(f);
	if (request_fulfil(&f->ctx, rid, rq, in, &out))
		fail_msg("fulfil: %s", f->err.message);
	json_decref(in);
	json_decref(out);
}

#define NEWS "{\"purpose\": \"newsletters\", \"subject\": \"S\", \"text\": \"Hei {{first_name}}\""

static int setup(void **state)
{
	*state = fixture_open("mailing", register_files, 2);
	return *state ? 0 : -1;
}

/* proves M-01: §200 — a natural person only with an e-mail consent for the purpose, a company
 * contact on public task only while their role is active; the count of each exclusion. */
static void test_rule_b2c_b2b(void **state)
{
	struct fx *f = *state;
	int64_t org =
	        make(f, org_create, ESPOO, "{\"name\": \"Firma Oy\", \"source\": \"subject\"}");
	int64_t yes = person(f, ESPOO, "individual", "a@example.fi", NULL);
	consent(f, yes);
	person(f, ESPOO, "individual", "b@example.fi", NULL); /* no consent */
	int64_t contact = person(f, ESPOO, "company_contact", "c@example.fi", NULL);
	affiliate(f, ESPOO, contact, org, NULL);
	int64_t ended = person(f, ESPOO, "company_contact", "d@example.fi", NULL);
	affiliate(f, ESPOO, ended, org, "2020-12-31");
	int64_t noaddr = person(f, ESPOO, "individual", NULL, NULL);
	consent(f, noaddr);
	/* consent for another purpose does not count */
	int64_t other = person(f, ESPOO, "individual", "e@example.fi", NULL);
	json_t *in = parse("{\"purpose\": \"marketing\", \"channel\": \"email\", \"text\": \"T\","
	                   " \"text_version\": \"1\"}");
	int64_t cid;
	fresh(f);
	assert_int_equal(consent_give(&f->ctx, ESPOO, other, in, &cid, NULL), 0);
	json_decref(in);

	int64_t m = mailing(f, ESPOO, NEWS "}");
	json_t *p = preview(f, ESPOO, m);
	assert_int_equal(recipients(p), 2);
	assert_int_equal(excluded(p, "no_consent"), 2);
	assert_int_equal(excluded(p, "no_active_role"), 1);
	assert_int_equal(excluded(p, "no_email"), 1);
	json_decref(p);
	/* nothing personal is in a preview: only counts and the sample with example values */
	p = preview(f, ESPOO, m);
	char *s = json_dumps(p, 0);
	assert_null(strstr(s, "a@example.fi"));
	assert_non_null(strstr(s, "Hei Maija"));
	free(s);
	json_decref(p);
}

/* proves R-12, M-02, R-11: a withdrawal and a ban take effect at once; an objection to direct
 * marketing bans every channel. */
static void test_withdraw_and_bans_at_once(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, ESPOO, "individual", "a@example.fi", NULL);
	int64_t ca = consent(f, a);
	int64_t b = person(f, ESPOO, "individual", "b@example.fi", NULL);
	consent(f, b);
	int64_t c = person(f, ESPOO, "individual", "c@example.fi", NULL);
	consent(f, c);
	int64_t m = mailing(f, ESPOO, NEWS "}");
	json_t *p = preview(f, ESPOO, m);
	assert_int_equal(recipients(p), 3);
	json_decref(p);

	json_t *in = parse("{\"how\": \"email\"}");
	fresh(f);
	assert_int_equal(consent_withdraw(&f->ctx, ESPOO, ca, in), 0);
	json_decref(in);
	fulfilled(f, ESPOO, "marketing_ban", b, "{\"channels\": [\"email\"]}");
	fulfilled(f, ESPOO, "objection", c, "{\"scope\": \"direct_marketing\"}");
	p = preview(f, ESPOO, m);
	assert_int_equal(recipients(p), 0);
	assert_int_equal(excluded(p, "no_consent"), 1);
	assert_int_equal(excluded(p, "banned"), 2);
	json_decref(p);
}

/* proves M-01: a post ban does not stop e-mail; restriction does. */
static void test_post_ban_and_restriction(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, ESPOO, "individual", "a@example.fi", NULL);
	consent(f, a);
	int64_t b = person(f, ESPOO, "individual", "b@example.fi", NULL);
	consent(f, b);
	fulfilled(f, ESPOO, "marketing_ban", a, "{\"channels\": [\"post\"]}");
	fulfilled(f, ESPOO, "restriction", b, NULL);
	int64_t m = mailing(f, ESPOO, NEWS "}");
	json_t *p = preview(f, ESPOO, m);
	assert_int_equal(recipients(p), 1);
	assert_int_equal(excluded(p, "restricted"), 1);
	json_decref(p);
}

/* proves M-01: contacts on legitimate interest (basis f) receive without consent (§202). */
static void test_b2b_legitimate_interest(void **state)
{
	struct fx *f = *state;
	int64_t org = make(f, org_create, SOSPRO, "{\"name\": \"Kunta\", \"source\": \"public\"}");
	int64_t a = person(f, SOSPRO, "partner_contact", "a@example.fi", NULL);
	affiliate(f, SOSPRO, a, org, NULL);
	person(f, SOSPRO, "partner_contact", "b@example.fi", NULL); /* no role */
	int64_t m =
	        mailing(f, SOSPRO,
	                "{\"purpose\": \"sales_marketing\", \"subject\": \"S\", \"text\": \"T\"}");
	json_t *p = preview(f, SOSPRO, m);
	assert_int_equal(recipients(p), 1);
	assert_int_equal(excluded(p, "no_active_role"), 1);
	json_decref(p);
}

/* proves M-03: segments by subject group, organisation and declared attribute. */
static void test_segments(void **state)
{
	struct fx *f = *state;
	int64_t org =
	        make(f, org_create, ESPOO, "{\"name\": \"Firma Oy\", \"source\": \"subject\"}");
	int64_t a = person(f, ESPOO, "individual", "a@example.fi", ", \"municipality\": \"Espoo\"");
	consent(f, a);
	int64_t b =
	        person(f, ESPOO, "individual", "b@example.fi", ", \"municipality\": \"Vantaa\"");
	consent(f, b);
	int64_t c = person(f, ESPOO, "company_contact", "c@example.fi", NULL);
	affiliate(f, ESPOO, c, org, NULL);

	int64_t m = mailing(f, ESPOO,
	                    NEWS ", \"audience\": {\"segment\": {\"attributes\":"
	                         " {\"municipality\": \"Espoo\"}}}}");
	json_t *p = preview(f, ESPOO, m);
	assert_int_equal(recipients(p), 1);
	assert_int_equal(excluded(p, "not_selected"), 2);
	json_decref(p);
	m = mailing(f, ESPOO,
	            NEWS ", \"audience\": {\"segment\": {\"groups\": [\"company_contact\"]}}}");
	p = preview(f, ESPOO, m);
	assert_int_equal(recipients(p), 1);
	json_decref(p);
	char body[300];
	snprintf(body, sizeof(body),
	         NEWS ", \"audience\": {\"segment\": {\"organisation_id\": %" PRId64 "}}}", org);
	m = mailing(f, ESPOO, body);
	p = preview(f, ESPOO, m);
	assert_int_equal(recipients(p), 1);
	json_decref(p);
}

/* An event of espoo-talent-hub in December 2025 (the clock is at 2026-01-01) with one
 * session; *sid is the session's id. */
static int64_t event(struct fx *f, int64_t *sid)
{
	int64_t ev = make(f, event_create, ESPOO,
	                  "{\"title\": \"Ilta\", \"format\": \"physical\", \"place\": \"Dipoli\","
	                  " \"starts_at\": \"2025-12-10T16:00:00Z\","
	                  " \"ends_at\": \"2025-12-10T19:00:00Z\", \"sessions\": [{\"title\":"
	                  " \"Avaus\", \"starts_at\": \"2025-12-10T16:00:00Z\","
	                  " \"ends_at\": \"2025-12-10T17:00:00Z\"}]}");
	*sid = raw_int(f, "SELECT id FROM event_sessions WHERE event_id = ?1", "i", ev);
	return ev;
}

typedef int (*event_fn)(struct kctx *, const char *, int64_t, json_t *);

static void event_call(struct fx *f, event_fn fn, int64_t ev, const char *body)
{
	json_t *in = parse(body);
	fresh(f);
	int rc = fn(&f->ctx, ESPOO, ev, in);
	json_decref(in);
	if (rc)
		fail_msg("event call %s = %d: %s", body, rc, f->err.message);
}

static void enrol(struct fx *f, int64_t ev, int64_t pid)
{
	char body[100];
	snprintf(body, sizeof(body), "{\"person_id\": %" PRId64 "}", pid);
	event_call(f, event_register, ev, body);
}

static void attend(struct fx *f, int64_t ev, int64_t sid, int64_t pid)
{
	char body[100];
	snprintf(body, sizeof(body), "{\"session_id\": %" PRId64 ", \"person_id\": %" PRId64 "}",
	         sid, pid);
	event_call(f, event_attend, ev, body);
}

static int try_create(struct fx *f, const char *rid, const char *json)
{
	json_t *in = parse(json);
	int64_t id = 0;
	fresh(f);
	int rc = mailing_create(&f->ctx, rid, in, &id);
	json_decref(in);
	return rc;
}

/* mailing_create of a newsletter of espoo-talent-hub whose segment is `seg`. */
static int try_create_seg(struct fx *f, const char *seg)
{
	char body[1024];
	snprintf(body, sizeof(body), NEWS ", \"audience\": {\"segment\": {%s}}}", seg);
	return try_create(f, ESPOO, body);
}

/* The preview of a new mailing whose segment is `seg` (a JSON object's members); caller
 * decrefs. */
static json_t *segment_preview(struct fx *f, const char *seg)
{
	char body[1024];
	snprintf(body, sizeof(body), NEWS ", \"audience\": {\"segment\": {%s}}}", seg);
	return preview(f, ESPOO, mailing(f, ESPOO, body));
}

/* proves M-03: a segment by event participation selects those whose registration for one of
 * the events stands (not a cancelled one, not another event's participants), narrowed to
 * those who attended a session with attended: true, and combined with the other filters;
 * the §200 rule still applies to those it selects. */
static void test_segment_events(void **state)
{
	struct fx *f = *state;
	int64_t s1, s2;
	int64_t ev = event(f, &s1), other = event(f, &s2);
	int64_t org =
	        make(f, org_create, ESPOO, "{\"name\": \"Firma Oy\", \"source\": \"subject\"}");
	int64_t came = person(f, ESPOO, "individual", "a@example.fi", NULL);
	consent(f, came);
	int64_t stayed = person(f, ESPOO, "individual", "b@example.fi", NULL);
	consent(f, stayed);
	int64_t cancelled = person(f, ESPOO, "individual", "c@example.fi", NULL);
	consent(f, cancelled);
	int64_t elsewhere = person(f, ESPOO, "individual", "d@example.fi", NULL);
	consent(f, elsewhere);
	int64_t contact = person(f, ESPOO, "company_contact", "e@example.fi", NULL);
	affiliate(f, ESPOO, contact, org, NULL);
	int64_t no_consent = person(f, ESPOO, "individual", "f@example.fi", NULL);
	person(f, ESPOO, "individual", "g@example.fi", NULL); /* at no event */

	enrol(f, ev, came);
	attend(f, ev, s1, came);
	enrol(f, ev, stayed);
	enrol(f, ev, cancelled);
	fresh(f);
	assert_int_equal(event_cancel(&f->ctx, ESPOO, ev, cancelled), 0);
	enrol(f, other, elsewhere);
	attend(f, other, s2, elsewhere);
	enrol(f, ev, contact);
	attend(f, ev, s1, contact);
	enrol(f, ev, no_consent);
	/* attended the other event's session but registered for this one only: not an
	 * attendee of this event */
	enrol(f, other, stayed);
	attend(f, other, s2, stayed);

	char seg[200];
	snprintf(seg, sizeof(seg), "\"events\": {\"event_ids\": [%" PRId64 "]}", ev);
	json_t *p = segment_preview(f, seg);
	assert_int_equal(recipients(p), 3); /* came, stayed, contact */
	assert_int_equal(excluded(p, "no_consent"), 1);
	assert_int_equal(excluded(p, "not_selected"), 3); /* cancelled, elsewhere, nowhere */
	json_decref(p);

	snprintf(seg, sizeof(seg), "\"events\": {\"event_ids\": [%" PRId64 "], \"attended\": true}",
	         ev);
	p = segment_preview(f, seg);
	assert_int_equal(recipients(p), 2); /* came, contact */
	assert_int_equal(excluded(p, "not_selected"), 5);
	json_decref(p);

	snprintf(seg, sizeof(seg),
	         "\"groups\": [\"individual\"], \"events\": {\"event_ids\": [%" PRId64
	         "], \"attended\": true}",
	         ev);
	p = segment_preview(f, seg);
	assert_int_equal(recipients(p), 1); /* came */
	assert_int_equal(excluded(p, "not_selected"), 6);
	json_decref(p);

	snprintf(seg, sizeof(seg), "\"events\": {\"event_ids\": [%" PRId64 ", %" PRId64 "]}", ev,
	         other);
	p = segment_preview(f, seg);
	assert_int_equal(recipients(p), 4); /* came, stayed, contact, elsewhere */
	assert_int_equal(excluded(p, "not_selected"), 2);
	json_decref(p);
}

/* Points the fixture's mail settings at a port where no SMTP server listens: a send then
 * records its recipients and stops at the first message, leaving it pending. */
static void unreachable_smtp(struct fx *f)
{
	snprintf(f->app->cfg.mail.url, sizeof(f->app->cfg.mail.url), "smtp://127.0.0.1:1");
	snprintf(f->app->cfg.mail.from, sizeof(f->app->cfg.mail.from), "uutiset@espoo.example.fi");
	snprintf(f->app->cfg.public_url, sizeof(f->app->cfg.public_url),
	         "https://kortisto.example.fi");
}

/* mailing_send of `m` that stops at its first message (unreachable_smtp). */
static void send_stops(struct fx *f, int64_t m)
{
	struct mailing_send_opts o = {.max_attempts = 1};
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(mailing_send(&f->ctx, ESPOO, m, &o, &out), KERR_BUSY);
	assert_null(out);
}

/* proves M-03: the events filter is checked again just before each message: a registration
 * cancelled after the recipients were recorded skips the person as not selected. */
static void test_segment_events_at_send(void **state)
{
	struct fx *f = *state;
	int64_t sid;
	int64_t ev = event(f, &sid);
	int64_t a = person(f, ESPOO, "individual", "a@example.fi", NULL);
	consent(f, a);
	int64_t b = person(f, ESPOO, "individual", "b@example.fi", NULL);
	consent(f, b);
	enrol(f, ev, a);
	enrol(f, ev, b);
	char seg[100];
	snprintf(seg, sizeof(seg), "\"events\": {\"event_ids\": [%" PRId64 "]}", ev);
	char body[400];
	snprintf(body, sizeof(body), NEWS ", \"audience\": {\"segment\": {%s}}}", seg);
	int64_t m = mailing(f, ESPOO, body);
	unreachable_smtp(f);
	send_stops(f, m);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM mailing_recipients WHERE mailing_id = ?1"
	                         " AND state = 'pending'",
	                         "i", m),
	                 2);
	fresh(f);
	assert_int_equal(event_cancel(&f->ctx, ESPOO, ev, a), 0);
	send_stops(f, m);
	char why[32];
	assert_string_equal(raw_text(f, why, sizeof(why),
	                             "SELECT state || ' ' || error FROM mailing_recipients"
	                             " WHERE person_id = ?1",
	                             a),
	                    "skipped not_selected");
	assert_string_equal(raw_text(f, why, sizeof(why),
	                             "SELECT state FROM mailing_recipients WHERE person_id = ?1",
	                             b),
	                    "pending");
}

/* Sets the fixture's clock to `day` (YYYY-MM-DD), as --now does. */
static void at(struct fx *f, const char *day)
{
	int64_t t;
	assert_int_equal(time_parse_iso8601(day, &t), 0);
	kctx_set_now(&f->ctx, t);
}

/* A hit of the open pixel of recipient row `rec`. */
static void open_hit(struct fx *f, int64_t rec)
{
	char tok[MLINK_MAX];
	mlink_make(&f->app->keys, MLINK_OPEN, rec, tok);
	fresh(f);
	if (mailing_open_hit(&f->ctx, tok))
		fail_msg("mailing_open_hit: %s", f->err.message);
}

/* proves M-04: each open is logged as a newsletter_open record of the person, in the same
 * transaction, and falls under the register's retention: the 10-year rule over
 * newsletter_open (logs-10y of espoo-talent-hub) deletes the open with its record, while the
 * person and a later open stay; the access export lists each open once. */
static void test_opens_under_retention(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, ESPOO, "individual", "a@example.fi", NULL);
	consent(f, a);
	int64_t m = mailing(f, ESPOO, NEWS ", \"html\": \"<p>Hei</p>\", \"track_opens\": true}");
	unreachable_smtp(f);
	send_stops(f, m);
	int64_t rec = raw_int(f, "SELECT id FROM mailing_recipients WHERE person_id = ?1", "i", a);
	assert_true(rec > 0);
	open_hit(f, rec);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM mailing_opens o JOIN person_records r"
	                         " ON r.id = o.record_id WHERE o.person_id = ?1"
	                         " AND r.person_id = ?1 AND r.record_type = 'newsletter_open'"
	                         " AND r.register_id = 'espoo-talent-hub'"
	                         " AND r.occurred_at = '2026-01-01'",
	                         "i", a),
	                 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_records WHERE person_id = ?1"
	                         " AND record_type = 'newsletter_open'",
	                         "i", a),
	                 1);
	/* One usage-log entry for the hit, naming the record. */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log u JOIN mailing_opens o"
	                         " ON u.reason = 'record:' || o.record_id"
	                         " WHERE u.action = 'newsletter_open' AND u.entity_id = ?1",
	                         "i", m),
	                 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE entity = 'record'"
	                         " AND entity_id IN (SELECT record_id FROM mailing_opens)",
	                         ""),
	                 0);

	/* Four years on: another open, and a customer event that keeps the person. */
	at(f, "2030-06-01");
	open_hit(f, rec);
	fresh(f);
	assert_int_equal(retention_event_add(&f->ctx, ESPOO, a, "event_registration", NULL, NULL),
	                 0);

	/* The access export: each open once, with its mailing, and not again as a record. */
	json_t *x = NULL;
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, ESPOO, a, 0, &x), 0);
	json_t *opens = json_object_get(json_array_get(json_object_get(x, "mailings"), 0), "opens");
	assert_int_equal(json_array_size(opens), 2);
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(x, "records"), i, r)
		assert_string_not_equal(json_string_value(json_object_get(r, "type")),
		                        "newsletter_open");
	assert_int_equal(json_array_size(json_object_get(x, "records")), 1);
	json_decref(x);

	/* Ten years and a day after the first open: it goes with its record; the later one and
	 * the person stay. */
	at(f, "2036-01-02");
	struct retention_opts o = {.rid = ESPOO};
	fresh(f);
	assert_int_equal(retention_run(&f->ctx, &o, NULL), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM persons WHERE id = ?1", "i", a), 1);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM mailing_opens WHERE person_id = ?1", "i", a), 1);
	char day[24];
	assert_string_equal(raw_text(f, day, sizeof(day),
	                             "SELECT at FROM mailing_opens WHERE person_id = ?1", a),
	                    "2030-06-01T00:00:00Z");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_records WHERE person_id = ?1"
	                         " AND record_type = 'newsletter_open'",
	                         "i", a),
	                 1);
}

/* proves M-04: without track_opens a pixel hit logs nothing, neither open nor record. */
static void test_untracked_open_logs_nothing(void **state)
{
	struct fx *f = *state;
	int64_t a = person(f, ESPOO, "individual", "a@example.fi", NULL);
	consent(f, a);
	int64_t m = mailing(f, ESPOO, NEWS "}");
	unreachable_smtp(f);
	send_stops(f, m);
	open_hit(f, raw_int(f, "SELECT id FROM mailing_recipients WHERE person_id = ?1", "i", a));
	assert_int_equal(raw_int(f, "SELECT count(*) FROM mailing_opens", ""), 0);
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM person_records WHERE record_type = 'newsletter_open'",
	                ""),
	        0);
}

/* proves M-03: an events filter names only events of the register, by the id's place. */
static void test_segment_events_checks(void **state)
{
	struct fx *f = *state;
	int64_t sid;
	int64_t ev = event(f, &sid);
	char body[300];
	snprintf(body, sizeof(body), "\"events\": {\"event_ids\": [%" PRId64 ", %" PRId64 "]}", ev,
	         ev + 1000);
	assert_int_equal(try_create_seg(f, body), KERR_INVALID);
	assert_string_equal(f->err.field, "audience.segment.events.event_ids[1]");
	/* an event of another register is unknown here */
	int64_t s = make(f, event_create, SOSPRO,
	                 "{\"title\": \"X\", \"format\": \"virtual\", \"url\": \"https://x.fi\","
	                 " \"starts_at\": \"2025-12-10T16:00:00Z\","
	                 " \"ends_at\": \"2025-12-10T19:00:00Z\"}");
	snprintf(body, sizeof(body), "\"events\": {\"event_ids\": [%" PRId64 "]}", s);
	assert_int_equal(try_create_seg(f, body), KERR_INVALID);
	assert_string_equal(f->err.field, "audience.segment.events.event_ids[0]");
	assert_int_equal(try_create_seg(f, "\"events\": {\"event_ids\": []}"), KERR_INVALID);
	assert_string_equal(f->err.field, "audience.segment.events.event_ids");
	assert_int_equal(try_create_seg(f, "\"events\": {\"event_ids\": [\"1\"]}"), KERR_INVALID);
	assert_string_equal(f->err.field, "audience.segment.events.event_ids[0]");
	snprintf(body, sizeof(body), "\"events\": {\"event_ids\": [%" PRId64 "], \"attended\": 1}",
	         ev);
	assert_int_equal(try_create_seg(f, body), KERR_INVALID);
	assert_string_equal(f->err.field, "audience.segment.events.attended");
	snprintf(body, sizeof(body), "\"events\": {\"event_ids\": [%" PRId64 "], \"who\": 1}", ev);
	assert_int_equal(try_create_seg(f, body), KERR_INVALID);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM mailings", ""), 0);
}

/* proves M-03: unknown placeholders are refused by name; only declared direct-marketing
 * purposes, groups and non-sensitive fields; open tracking only where declared (M-04). */
static void test_create_checks(void **state)
{
	struct fx *f = *state;
	assert_int_equal(try_create(f, ESPOO,
	                            "{\"purpose\": \"newsletters\", \"subject\": \"S\","
	                            " \"text\": \"Hei {{ etunimi }}\"}"),
	                 KERR_INVALID);
	assert_string_equal(f->err.field, "text");
	assert_non_null(strstr(f->err.message, "{{etunimi}}"));
	assert_int_equal(
	        try_create(f, ESPOO,
	                   "{\"purpose\": \"newsletters\", \"subject\": \"S\", \"text\": \"T\","
	                   " \"html\": \"<p>{{first_name</p>\"}"),
	        KERR_INVALID);
	assert_string_equal(f->err.field, "html");
	assert_int_equal(try_create(f, ESPOO,
	                            "{\"purpose\": \"service_development\", \"subject\": \"S\","
	                            " \"text\": \"T\"}"),
	                 KERR_REFUSED);
	assert_int_equal(
	        try_create(f, ESPOO, NEWS ", \"audience\": {\"segment\": {\"groups\": [\"x\"]}}}"),
	        KERR_REFUSED);
	assert_int_equal(try_create(f, ESPOO, NEWS ", \"audience\": {\"everyone\": true}}"),
	                 KERR_INVALID);
	assert_int_equal(try_create(f, SOSPRO,
	                            "{\"purpose\": \"sales_marketing\", \"subject\": \"S\","
	                            " \"text\": \"T\", \"track_opens\": true}"),
	                 KERR_REFUSED);
	assert_string_equal(f->err.field, "track_opens");
	assert_int_equal(try_create(f, ESPOO, NEWS ", \"track_opens\": true}"), 0);
	assert_int_equal(
	        try_create(f, ESPOO,
	                   "{\"purpose\": \"newsletters\", \"subject\": \"a\\nBcc: x@y.fi\","
	                   " \"text\": \"T\"}"),
	        KERR_INVALID);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM mailings", ""), 1);
}

/* proves M-03: sending needs public_url for the unsubscribe links and mail settings. */
static void test_send_needs_settings(void **state)
{
	struct fx *f = *state;
	int64_t m = mailing(f, ESPOO, NEWS "}");
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(mailing_send(&f->ctx, ESPOO, m, NULL, &out), KERR_INVALID);
	assert_string_equal(f->err.field, "public_url");
	assert_null(out);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM mailing_recipients", ""), 0);
	fresh(f);
	assert_int_equal(mailing_send(&f->ctx, ESPOO, 4242, NULL, &out), KERR_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_rule_b2c_b2b, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_withdraw_and_bans_at_once, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_post_ban_and_restriction, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_b2b_legitimate_interest, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_segments, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_segment_events, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_segment_events_checks, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_segment_events_at_send, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_opens_under_retention, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_untracked_open_logs_nothing, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_create_checks, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_send_needs_settings, setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
