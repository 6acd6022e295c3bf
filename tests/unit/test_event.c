/*
 * Unit tests for src/core/event.c and src/util/ics.c: events, sessions, registrations,
 * attendance, meetings, sharing with a co-organiser and iCalendar, driven through the public
 * core functions against a fresh data directory with espoo-talent-hub (which declares the
 * event record types as customer events and the recipient `partners`) and kemi-crm (which
 * declares none). What was written is checked through a second, read-only connection.
 * Tests name the promise of PROMISES.md they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/event.h"
#include "core/person.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/ics.h"
#include "util/kerr.h"

#include "fixture.h"

#define ESPOO "espoo-talent-hub"
#define KEMI  "kemi-crm"

static const char *const register_files[] = {"registers/espoo-talent-hub.yaml",
                                             "registers/kemi-crm.yaml"};

static int setup(void **state)
{
	struct fx *f = fixture_open("event", register_files,
	                            sizeof(register_files) / sizeof(register_files[0]));
	if (!f)
		return -1;
	*state = f;
	return 0;
}

/* ---------------------------------------------------------------- helpers */

static json_t *js(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return v;
}

static int64_t person(struct fx *f, const char *rid, const char *last)
{
	char body[256];
	int64_t id = 0;
	if (strcmp(rid, ESPOO) == 0)
		snprintf(body, sizeof(body),
		         "{\"subject_group\": \"individual\", \"source\": \"subject\","
		         " \"first_name\": \"Testi\", \"last_name\": \"%s\"}",
		         last);
	else
		snprintf(body, sizeof(body),
		         "{\"subject_group\": \"partner_contact\", \"source\": \"subject\","
		         " \"first_name\": \"Testi\", \"last_name\": \"%s\"}",
		         last);
	json_t *in = js(body);
	fresh(f);
	if (person_create(&f->ctx, rid, in, &id) != 0)
		fail_msg("person_create %s: %s", rid, f->err.message);
	json_decref(in);
	return id;
}

/* Runs `sql` on the fixture's own connection: a change the code under test cannot make. */
static void tamper(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tamper(struct fx *f, const char *fmt, ...)
{
	char sql[512];
	struct kerr err = {0};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (store_exec_script(f->db, sql, &err) != 0)
		fail_msg("tamper %s: %s", sql, err.message);
}

/* A co-organised physical event in December 2025 with two sessions (the clock is at
 * 2026-01-01), or a virtual one of the register's own. */
static const char *const EVENT_CO =
        "{\"title\": \"Talent Boost Summit, Espoo\", \"format\": \"physical\","
        " \"starts_at\": \"2025-12-10T09:00:00+02:00\", \"ends_at\": \"2025-12-10T17:00:00+02:00\","
        " \"place\": \"Dipoli, Otakaari 24\", \"co_organiser\": \"partners\","
        " \"sessions\": ["
        "  {\"title\": \"Avaus\", \"starts_at\": \"2025-12-10T09:00:00+02:00\","
        "   \"ends_at\": \"2025-12-10T10:00:00+02:00\", \"place\": \"Sali A\"},"
        "  {\"title\": \"Rekrytointi; työpaja, osa 2\", \"starts_at\": "
        "\"2025-12-10T10:30:00+02:00\","
        "   \"ends_at\": \"2025-12-10T12:00:00+02:00\"}]}";

static int64_t event_new(struct fx *f, const char *rid, const char *body)
{
	int64_t id = 0;
	json_t *in = js(body);
	fresh(f);
	if (event_create(&f->ctx, rid, in, &id) != 0)
		fail_msg("event_create %s: %s", rid, f->err.message);
	json_decref(in);
	assert_true(id > 0);
	return id;
}

static int call_json(struct fx *f, int (*fn)(struct kctx *, const char *, int64_t, json_t *),
                     const char *rid, int64_t id, const char *body)
{
	json_t *in = js(body);
	fresh(f);
	int rc = fn(&f->ctx, rid, id, in);
	json_decref(in);
	return rc;
}

static void reg_ok(struct fx *f, const char *rid, int64_t ev, int64_t pid, const char *consents)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"person_id\": %" PRId64 ", \"consents\": %s}", pid,
	         consents);
	if (call_json(f, event_register, rid, ev, body) != 0)
		fail_msg("event_register: %s", f->err.message);
}

static int64_t session_id(struct fx *f, int64_t ev, int nth)
{
	char sql[160];
	snprintf(sql, sizeof(sql),
	         "SELECT id FROM event_sessions WHERE event_id = ?1 ORDER BY starts_at, id"
	         " LIMIT 1 OFFSET %d",
	         nth);
	return raw_int(f, sql, "i", ev);
}

/* ---------------------------------------------------------------- iCalendar writer */

/* Every physical line ends in CRLF and has at most 75 octets; unfolding gives `want`. */
static void assert_folded(const struct buf *b, const char *want)
{
	struct buf un = BUF_INIT;
	size_t col = 0;
	for (size_t i = 0; i < b->len; i++) {
		if (b->p[i] == '\r') {
			assert_true(i + 1 < b->len && b->p[i + 1] == '\n');
			assert_true(col <= 75);
			col = 0;
			i++;
			if (i + 1 < b->len && b->p[i + 1] == ' ')
				i++, col = 1; /* a continuation line */
			else
				buf_puts(&un, "|");
			continue;
		}
		assert_true(b->p[i] != '\n');
		/* a continuation never starts inside a UTF-8 sequence */
		if (col == 1 && i > 0 && b->p[i - 1] == ' ')
			assert_true(((unsigned char)b->p[i] & 0xc0) != 0x80);
		buf_putc(&un, b->p[i]);
		col++;
	}
	assert_string_equal(buf_str(&un), want);
	buf_free(&un);
}

/* RFC 5545 §3.1 and §3.3.11: escaping of , ; \ and newlines, folding at 75 octets. */
static void test_ics_escape_and_fold(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	ics_text(&b, "SUMMARY", "a,b;c\\d\r\ne\nf");
	assert_string_equal(buf_str(&b), "SUMMARY:a\\,b\\;c\\\\d\\ne\\nf\r\n");
	buf_reset(&b);

	/* 100 two-octet characters: folded, never inside one */
	char ae[201];
	for (int i = 0; i < 100; i++)
		memcpy(ae + 2 * i, "\xc3\xa4", 2);
	ae[200] = '\0';
	ics_text(&b, "DESCRIPTION", ae);
	char want[260];
	snprintf(want, sizeof(want), "DESCRIPTION:%s|", ae);
	assert_folded(&b, want);
	assert_true(b.len > 200);
	buf_reset(&b);

	ics_raw(&b, "DTSTART", "20251210T070000Z");
	assert_string_equal(buf_str(&b), "DTSTART:20251210T070000Z\r\n");
	buf_reset(&b);
	ics_text(&b, "LOCATION", NULL);
	assert_int_equal(b.len, 0);

	char t[17];
	ics_time(1767225600, t);
	assert_string_equal(t, "20260101T000000Z");
	buf_free(&b);
}

/* proves E-01: an event with its sessions is stored and read back with times in UTC; the
 * iCalendar has one VEVENT per part with UID, DTSTAMP and UTC times, and escaped text. */
static void test_event_create_get_ics(void **state)
{
	struct fx *f = *state;
	int64_t ev = event_new(f, ESPOO, EVENT_CO);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM event_sessions WHERE event_id = ?1", "i", ev), 2);
	json_t *o = NULL;
	fresh(f);
	assert_int_equal(event_get(&f->ctx, ESPOO, ev, EVENT_GET_CHAT, &o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "starts_at")),
	                    "2025-12-10T07:00:00Z");
	assert_string_equal(json_string_value(json_object_get(o, "co_organiser")), "partners");
	assert_int_equal(json_array_size(json_object_get(o, "sessions")), 2);
	assert_int_equal(json_array_size(json_object_get(o, "registrations")), 0);
	json_decref(o);

	struct buf b = BUF_INIT;
	fresh(f);
	assert_int_equal(event_ics(&f->ctx, ESPOO, ev, &b), 0);
	const char *s = buf_str(&b);
	assert_non_null(strstr(s, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
	assert_non_null(strstr(s, "DTSTAMP:20260101T000000Z\r\n"));
	assert_non_null(strstr(s, "DTSTART:20251210T070000Z\r\nDTEND:20251210T150000Z\r\n"));
	assert_non_null(strstr(s, "SUMMARY:Talent Boost Summit\\, Espoo\r\n"));
	assert_non_null(strstr(s, "SUMMARY:Rekrytointi\\; työpaja\\, osa 2\r\n"));
	assert_non_null(
	        strstr(s, arena_printf(&f->mem, "UID:event-%" PRId64 "@" ESPOO ".kortisto", ev)));
	int vevents = 0;
	for (const char *p = s; (p = strstr(p, "BEGIN:VEVENT")); p++)
		vevents++;
	assert_int_equal(vevents, 3);
	assert_true(strlen(s) > 2 && strcmp(s + strlen(s) - 15, "END:VCALENDAR\r\n") == 0);
	buf_free(&b);

	/* a session outside the event's time, a bad format, an unknown member */
	int64_t id = 0;
	json_t *in = js("{\"title\": \"Myöhään\", \"starts_at\": \"2025-12-10T20:00:00Z\","
	                " \"ends_at\": \"2025-12-10T21:00:00Z\"}");
	fresh(f);
	assert_int_equal(event_session_add(&f->ctx, ESPOO, ev, in, &id), KERR_INVALID);
	json_decref(in);
	in = js("{\"title\": \"X\", \"format\": \"hybrid\", \"starts_at\":"
	        " \"2025-12-10T09:00:00Z\", \"ends_at\": \"2025-12-10T10:00:00Z\"}");
	fresh(f);
	assert_int_equal(event_create(&f->ctx, ESPOO, in, &id), KERR_INVALID);
	assert_string_equal(f->err.field, "format");
	json_decref(in);
	in = js("{\"title\": \"X\", \"format\": \"virtual\", \"starts_at\":"
	        " \"2025-12-10T09:00:00Z\", \"ends_at\": \"2025-12-10T10:00:00Z\", \"secret\": 1}");
	fresh(f);
	assert_int_equal(event_create(&f->ctx, ESPOO, in, &id), KERR_INVALID);
	assert_string_equal(f->err.field, "secret");
	json_decref(in);
}

/* proves E-06: an event's co-organiser must be a declared recipient; an undeclared one, or a
 * processor, is refused naming the field, and nothing is written. */
static void test_undeclared_co_organiser_refused(void **state)
{
	struct fx *f = *state;
	const char *bodies[] = {
	        "{\"title\": \"X\", \"format\": \"virtual\", \"starts_at\": "
	        "\"2025-12-10T09:00:00Z\","
	        " \"ends_at\": \"2025-12-10T10:00:00Z\", \"co_organiser\": \"acme_events\"}",
	        "{\"title\": \"X\", \"format\": \"virtual\", \"starts_at\": "
	        "\"2025-12-10T09:00:00Z\","
	        " \"ends_at\": \"2025-12-10T10:00:00Z\", \"co_organiser\": \"cloud_services\"}",
	};
	for (size_t i = 0; i < 2; i++) {
		int64_t id = 0;
		json_t *in = js(bodies[i]);
		fresh(f);
		assert_int_equal(event_create(&f->ctx, ESPOO, in, &id), KERR_REFUSED);
		assert_string_equal(f->err.field, "co_organiser");
		assert_int_equal(id, 0);
		json_decref(in);
	}
	assert_int_equal(raw_int(f, "SELECT count(*) FROM events", ""), 0);
}

/* proves E-01: a registration, an attendance and a meeting are customer events where the
 * declaration says so: each writes its record in the same transaction and moves the
 * person's last_customer_event; a register that declares no such type records none. */
static void test_participation_is_customer_event(void **state)
{
	struct fx *f = *state;
	int64_t ev = event_new(f, ESPOO, EVENT_CO);
	int64_t a = person(f, ESPOO, "Aalto"), b = person(f, ESPOO, "Berg");
	tamper(f,
	       "UPDATE persons SET last_customer_event = NULL WHERE id IN (%" PRId64 ", %" PRId64
	       ")",
	       a, b);

	assert_int_equal(call_json(f, event_register, ESPOO, ev,
	                           arena_printf(&f->mem,
	                                        "{\"person_id\": %" PRId64
	                                        ", \"registered_on\": \"2025-11-20\"}",
	                                        a)),
	                 0);
	char day[16];
	assert_string_equal(raw_text(f, day, sizeof(day),
	                             "SELECT last_customer_event FROM persons WHERE id = ?1", a),
	                    "2025-11-20");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM event_registrations r JOIN person_records p"
	                         " ON p.id = r.record_id WHERE r.person_id = ?1"
	                         " AND p.record_type = 'event_registration'"
	                         " AND p.occurred_at = '2025-11-20'",
	                         "i", a),
	                 1);

	/* attendance on the session's day */
	int64_t s1 = session_id(f, ev, 0);
	assert_int_equal(
	        call_json(f, event_attend, ESPOO, ev,
	                  arena_printf(&f->mem,
	                               "{\"session_id\": %" PRId64 ", \"person_id\": %" PRId64 "}",
	                               s1, a)),
	        0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_records WHERE person_id = ?1"
	                         " AND record_type = 'session_attendance'"
	                         " AND occurred_at = '2025-12-10'",
	                         "i", a),
	                 1);
	assert_string_equal(raw_text(f, day, sizeof(day),
	                             "SELECT last_customer_event FROM persons WHERE id = ?1", a),
	                    "2025-12-10");
	/* the same attendance twice is a conflict */
	assert_int_equal(
	        call_json(f, event_attend, ESPOO, ev,
	                  arena_printf(&f->mem,
	                               "{\"session_id\": %" PRId64 ", \"person_id\": %" PRId64 "}",
	                               s1, a)),
	        KERR_CONFLICT);

	/* a meeting needs both parties registered */
	const char *meet =
	        arena_printf(&f->mem,
	                     "{\"parties\": [%" PRId64 ", %" PRId64 "],"
	                     " \"starts_at\": \"2025-12-10T13:00:00Z\","
	                     " \"ends_at\": \"2025-12-10T13:30:00Z\", \"place\": \"Pöytä 4\"}",
	                     a, b);
	json_t *in = js(meet);
	fresh(f);
	assert_int_equal(event_meeting(&f->ctx, ESPOO, ev, in, NULL), KERR_REFUSED);
	assert_string_equal(f->err.field, "parties");
	reg_ok(f, ESPOO, ev, b, "{}");
	int64_t mid = 0;
	fresh(f);
	assert_int_equal(event_meeting(&f->ctx, ESPOO, ev, in, &mid), 0);
	json_decref(in);
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM event_meeting_parties m JOIN person_records p"
	                " ON p.id = m.record_id WHERE m.meeting_id = ?1"
	                " AND p.record_type = 'event_meeting'",
	                "i", mid),
	        2);

	/* kemi-crm declares none of the event record types: participation, no record */
	int64_t kev = event_new(f, KEMI,
	                        "{\"title\": \"Aamukahvit\", \"format\": \"physical\","
	                        " \"starts_at\": \"2025-12-01T06:00:00Z\","
	                        " \"ends_at\": \"2025-12-01T08:00:00Z\", \"place\": \"Kemi\"}");
	int64_t k = person(f, KEMI, "Kemiläinen");
	reg_ok(f, KEMI, kev, k, "{}");
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM person_records WHERE person_id = ?1", "i", k), 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM event_registrations WHERE person_id = ?1"
	                         " AND record_id IS NULL",
	                         "i", k),
	                 1);
}

/* proves E-01: participation is recorded only for what can have happened: no registration in
 * the future, no attendance of a session still to come, no second registration. */
static void test_participation_checks(void **state)
{
	struct fx *f = *state;
	int64_t ev = event_new(
	        f, ESPOO,
	        "{\"title\": \"Kevät\", \"format\": \"virtual\", \"url\": "
	        "\"https://example.fi/live\","
	        " \"starts_at\": \"2026-03-01T09:00:00Z\", \"ends_at\": \"2026-03-01T12:00:00Z\","
	        " \"sessions\": [{\"title\": \"Osa 1\", \"starts_at\": \"2026-03-01T09:00:00Z\","
	        " \"ends_at\": \"2026-03-01T10:00:00Z\"}]}");
	int64_t a = person(f, ESPOO, "Aikainen");
	assert_int_equal(call_json(f, event_register, ESPOO, ev,
	                           arena_printf(&f->mem,
	                                        "{\"person_id\": %" PRId64
	                                        ", \"registered_on\": \"2026-01-02\"}",
	                                        a)),
	                 KERR_INVALID);
	assert_int_equal(call_json(f, event_register, ESPOO, ev,
	                           arena_printf(&f->mem,
	                                        "{\"person_id\": %" PRId64
	                                        ", \"consents\": {\"photos\": true}}",
	                                        a)),
	                 KERR_INVALID);
	assert_string_equal(f->err.field, "consents");
	reg_ok(f, ESPOO, ev, a, "{\"newsletter\": false}");
	assert_int_equal(call_json(f, event_register, ESPOO, ev,
	                           arena_printf(&f->mem, "{\"person_id\": %" PRId64 "}", a)),
	                 KERR_CONFLICT);
	assert_int_equal(
	        call_json(f, event_attend, ESPOO, ev,
	                  arena_printf(&f->mem,
	                               "{\"session_id\": %" PRId64 ", \"person_id\": %" PRId64 "}",
	                               session_id(f, ev, 0), a)),
	        KERR_INVALID);
	assert_int_equal(call_json(f, event_register, ESPOO, ev + 100,
	                           arena_printf(&f->mem, "{\"person_id\": %" PRId64 "}", a)),
	                 KERR_NOTFOUND);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM event_registrations", ""), 1);
}

/* proves R-09: a restricted person is not registered for an event, and an editor's reading
 * of the event leaves them out. */
static void test_restricted_not_registered(void **state)
{
	struct fx *f = *state;
	int64_t ev = event_new(f, ESPOO, EVENT_CO);
	int64_t a = person(f, ESPOO, "Avoin"), r = person(f, ESPOO, "Rajattu");
	reg_ok(f, ESPOO, ev, a, "{}");
	reg_ok(f, ESPOO, ev, r, "{}");
	tamper(f, "UPDATE persons SET status = 'restricted' WHERE id = %" PRId64, r);
	int64_t r2 = person(f, ESPOO, "Rajattu2");
	tamper(f, "UPDATE persons SET status = 'restricted' WHERE id = %" PRId64, r2);
	assert_int_equal(call_json(f, event_register, ESPOO, ev,
	                           arena_printf(&f->mem, "{\"person_id\": %" PRId64 "}", r2)),
	                 KERR_REFUSED);
	assert_string_equal(f->err.field, "person_id");

	fx_as_user(f, "maija", ESPOO, ROLE_EDITOR);
	json_t *o = NULL;
	fresh(f);
	assert_int_equal(event_get(&f->ctx, ESPOO, ev, EVENT_GET_CHAT, &o), 0);
	json_t *regs = json_object_get(o, "registrations");
	assert_int_equal(json_array_size(regs), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(regs, 0), "person_id")),
	                 a);
	json_decref(o);
	/* the reading is logged with the person it showed */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'read'"
	                         " AND entity = 'event' AND entity_id = ?1",
	                         "i", ev),
	                 1);
}

/* proves E-06: sharing the registrations with the co-organiser is a disclosure to the
 * declared recipient, logged, giving out only those who chose it and are not restricted;
 * an event of the register's own has nobody to share with. */
static void test_share_is_logged_disclosure(void **state)
{
	struct fx *f = *state;
	int64_t ev = event_new(f, ESPOO, EVENT_CO);
	int64_t yes = person(f, ESPOO, "Kyllä"), no = person(f, ESPOO, "Ei"),
	        restricted = person(f, ESPOO, "Rajattu");
	reg_ok(f, ESPOO, ev, yes, "{\"share_with_co_organiser\": true}");
	reg_ok(f, ESPOO, ev, no, "{\"share_with_co_organiser\": false}");
	reg_ok(f, ESPOO, ev, restricted, "{\"share_with_co_organiser\": true}");
	tamper(f, "UPDATE persons SET status = 'restricted' WHERE id = %" PRId64, restricted);

	json_t *in = js("{\"purpose\": \"networking_events\", \"legal_basis\":"
	                " \"julkisuuslaki 621/1999 13 §\", \"categories\": [\"name_contact\"]}");
	json_t *out = NULL;
	fresh(f);
	if (event_share(&f->ctx, ESPOO, ev, in, &out) != 0)
		fail_msg("event_share: %s", f->err.message);
	int64_t did = json_integer_value(json_object_get(out, "disclosure"));
	assert_int_equal(json_integer_value(json_object_get(out, "subjects")), 1);
	assert_int_equal(json_integer_value(json_object_get(out, "withheld")), 2);
	json_decref(out);
	char buf[64];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT recipient FROM disclosures WHERE id = ?1", did),
	                    "partners");
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT request_ref FROM disclosures WHERE id = ?1", did),
	                    arena_printf(&f->mem, "event:%" PRId64, ev));
	assert_int_equal(
	        raw_int(f, "SELECT person_id FROM disclosure_subjects WHERE disclosure_id = ?1",
	                "i", did),
	        yes);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM disclosure_subjects WHERE disclosure_id = ?1", "i",
	                did),
	        1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'disclose'"
	                         " AND entity_id = ?1",
	                         "i", did),
	                 1);

	/* a purpose the recipient is not declared for is refused by the disclosure rules */
	json_decref(in);
	in = js("{\"purpose\": \"marketing\", \"legal_basis\": \"x\","
	        " \"categories\": [\"name_contact\"]}");
	fresh(f);
	assert_int_equal(event_share(&f->ctx, ESPOO, ev, in, &out), KERR_REFUSED);
	assert_string_equal(f->err.field, "purpose");

	/* the register's own event */
	int64_t own = event_new(f, ESPOO,
	                        "{\"title\": \"Oma\", \"format\": \"virtual\","
	                        " \"starts_at\": \"2025-12-01T09:00:00Z\","
	                        " \"ends_at\": \"2025-12-01T10:00:00Z\"}");
	fresh(f);
	assert_int_equal(event_share(&f->ctx, ESPOO, own, in, &out), KERR_REFUSED);
	assert_string_equal(f->err.field, "co_organiser");
	json_decref(in);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM disclosures", ""), 1);
}

/* proves L-01 with E-01: a retention rule that deletes a participation record deletes the
 * participation with it, and erasing the person erases all of it. */
static void test_participation_goes_with_record(void **state)
{
	struct fx *f = *state;
	int64_t ev = event_new(f, ESPOO, EVENT_CO);
	int64_t a = person(f, ESPOO, "Poistuva");
	reg_ok(f, ESPOO, ev, a, "{}");
	int64_t rec = raw_int(f, "SELECT record_id FROM event_registrations WHERE person_id = ?1",
	                      "i", a);
	assert_true(rec > 0);
	tamper(f, "DELETE FROM person_records WHERE id = %" PRId64, rec);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM event_registrations", ""), 0);

	reg_ok(f, ESPOO, ev, a, "{}");
	fresh(f);
	assert_int_equal(person_delete(&f->ctx, ESPOO, a), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM event_registrations", ""), 0);
}

/* proves E-01 and E-06: a cancelled registration is kept with its time and who cancelled
 * it, logged, but is no participation: it is not shown, not shared with the co-organiser,
 * the person's attendance and meetings are refused, until they register again. */
static void test_cancel_registration(void **state)
{
	struct fx *f = *state;
	int64_t ev = event_new(f, ESPOO, EVENT_CO);
	int64_t a = person(f, ESPOO, "Peruja"), b = person(f, ESPOO, "Tulija"),
	        c = person(f, ESPOO, "Muu");
	reg_ok(f, ESPOO, ev, a, "{\"share_with_co_organiser\": true}");
	reg_ok(f, ESPOO, ev, b, "{\"share_with_co_organiser\": true}");
	int64_t s1 = session_id(f, ev, 0);

	fresh(f);
	assert_int_equal(event_cancel(&f->ctx, ESPOO, ev, a), 0);
	fresh(f);
	assert_int_equal(event_cancel(&f->ctx, ESPOO, ev, a), KERR_CONFLICT);
	assert_string_equal(f->err.field, "person_id");
	fresh(f);
	assert_int_equal(event_cancel(&f->ctx, ESPOO, ev, c), KERR_NOTFOUND);
	fresh(f);
	assert_int_equal(event_cancel(&f->ctx, ESPOO, ev + 100, b), KERR_NOTFOUND);
	fresh(f);
	assert_int_equal(event_cancel(&f->ctx, KEMI, ev, b), KERR_NOTFOUND);

	/* the fact stays, with its time, and the cancellation is in the usage log */
	assert_int_equal(raw_int(f, "SELECT count(*) FROM event_registrations", ""), 2);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM event_registrations WHERE person_id = ?1"
	                         " AND cancelled_at IS NOT NULL AND cancelled_by IS NOT NULL",
	                         "i", a),
	                 1);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'cancel'"
	                         " AND entity = 'event_registration'",
	                         ""),
	                 1);

	/* not a participant any more */
	json_t *o = NULL;
	fresh(f);
	assert_int_equal(event_get(&f->ctx, ESPOO, ev, EVENT_GET_CHAT, &o), 0);
	json_t *regs = json_object_get(o, "registrations");
	assert_int_equal(json_array_size(regs), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(regs, 0), "person_id")),
	                 b);
	json_decref(o);
	const char *att = "{\"session_id\": %" PRId64 ", \"person_id\": %" PRId64 "}";
	assert_int_equal(call_json(f, event_attend, ESPOO, ev, arena_printf(&f->mem, att, s1, a)),
	                 KERR_REFUSED);
	assert_string_equal(f->err.field, "person_id");
	assert_int_equal(call_json(f, event_attend, ESPOO, ev, arena_printf(&f->mem, att, s1, b)),
	                 0);
	json_t *mt = js(arena_printf(&f->mem,
	                             "{\"parties\": [%" PRId64 ", %" PRId64 "],"
	                             " \"starts_at\": \"2025-12-10T11:00:00+02:00\","
	                             " \"ends_at\": \"2025-12-10T11:30:00+02:00\","
	                             " \"place\": \"Pöytä 1\"}",
	                             a, b));
	fresh(f);
	assert_int_equal(event_meeting(&f->ctx, ESPOO, ev, mt, NULL), KERR_REFUSED);
	assert_string_equal(f->err.field, "parties");
	json_decref(mt);

	/* not shared with the co-organiser, nor counted as withheld */
	json_t *in = js("{\"purpose\": \"networking_events\", \"legal_basis\":"
	                " \"julkisuuslaki 621/1999 13 §\", \"categories\": [\"name_contact\"]}");
	json_t *out = NULL;
	fresh(f);
	if (event_share(&f->ctx, ESPOO, ev, in, &out) != 0)
		fail_msg("event_share: %s", f->err.message);
	json_decref(in);
	int64_t did = json_integer_value(json_object_get(out, "disclosure"));
	assert_int_equal(json_integer_value(json_object_get(out, "subjects")), 1);
	assert_int_equal(json_integer_value(json_object_get(out, "withheld")), 0);
	json_decref(out);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM disclosure_subjects WHERE disclosure_id = ?1"
	                         " AND person_id = ?2",
	                         "ii", did, a),
	                 0);

	/* registering again clears the cancellation */
	reg_ok(f, ESPOO, ev, a, "{}");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM event_registrations WHERE person_id = ?1"
	                         " AND cancelled_at IS NULL",
	                         "i", a),
	                 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM event_registrations", ""), 2);
	assert_int_equal(call_json(f, event_attend, ESPOO, ev, arena_printf(&f->mem, att, s1, a)),
	                 0);

	/* a restricted person's registration is out of reach (R-09) */
	tamper(f, "UPDATE persons SET status = 'restricted' WHERE id = %" PRId64, b);
	fresh(f);
	assert_int_equal(event_cancel(&f->ctx, ESPOO, ev, b), KERR_REFUSED);
}

/* Events are listed in time order with a cursor, and no personal data. */
static void test_event_list(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 3; i++)
		event_new(f, ESPOO,
		          arena_printf(&f->mem,
		                       "{\"title\": \"E%d\", \"format\": \"virtual\","
		                       " \"starts_at\": \"2025-12-0%dT09:00:00Z\","
		                       " \"ends_at\": \"2025-12-0%dT10:00:00Z\"}",
		                       3 - i, 3 - i, 3 - i));
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(event_list(&f->ctx, ESPOO, NULL, NULL, 2, &out), 0);
	json_t *items = json_object_get(out, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "title")),
	                    "E1");
	char next[64];
	snprintf(next, sizeof(next), "%s", json_string_value(json_object_get(out, "next")));
	json_decref(out);
	fresh(f);
	assert_int_equal(event_list(&f->ctx, ESPOO, NULL, next, 2, &out), 0);
	items = json_object_get(out, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "title")),
	                    "E3");
	assert_true(json_is_null(json_object_get(out, "next")));
	json_decref(out);
	fresh(f);
	assert_int_equal(event_list(&f->ctx, ESPOO, NULL, "bogus", 2, &out), KERR_INVALID);
	fresh(f);
	assert_int_equal(event_list(&f->ctx, ESPOO, "2025-12-02", NULL, 10, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 2);
	json_decref(out);
}

/* ---------------------------------------------------------------- chat of virtual sessions */

static int64_t person_mail(struct fx *f, const char *last, const char *email)
{
	char body[256];
	int64_t id = 0;
	snprintf(body, sizeof(body),
	         "{\"subject_group\": \"individual\", \"source\": \"subject\","
	         " \"first_name\": \"Testi\", \"last_name\": \"%s\", \"email\": \"%s\"}",
	         last, email);
	json_t *in = js(body);
	fresh(f);
	if (person_create(&f->ctx, ESPOO, in, &id) != 0)
		fail_msg("person_create: %s", f->err.message);
	json_decref(in);
	return id;
}

static const char *const EVENT_VIRTUAL =
        "{\"title\": \"Verkkowebinaari\", \"format\": \"virtual\","
        " \"starts_at\": \"2025-12-11T09:00:00Z\", \"ends_at\": \"2025-12-11T12:00:00Z\","
        " \"url\": \"https://meet.example.fi/w\","
        " \"sessions\": [{\"title\": \"Osa 1\", \"starts_at\": \"2025-12-11T09:00:00Z\","
        "   \"ends_at\": \"2025-12-11T10:00:00Z\"}]}";

static int chat(struct fx *f, const char *rid, int64_t ev, int64_t sid, const char *body,
                json_t **out)
{
	json_t *in = js(body);
	fresh(f);
	int rc = event_chat_import(&f->ctx, rid, ev, sid, in, out);
	json_decref(in);
	return rc;
}

static void expect_counts(json_t *o, int stored, int unmatched, int withheld, int dup)
{
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "stored")), stored);
	assert_int_equal(json_integer_value(json_object_get(o, "unmatched")), unmatched);
	assert_int_equal(json_integer_value(json_object_get(o, "withheld")), withheld);
	assert_int_equal(json_integer_value(json_object_get(o, "duplicates")), dup);
}

/*
 * E-01: the public chat of a virtual session is kept only for registered participants,
 * matched by e-mail (in any case) or by id; others are counted and not stored, a restricted
 * participant's messages are withheld, a message already stored is a duplicate.
 */
/* proves E-01 */
static void test_chat_import_matches_participants(void **state)
{
	struct fx *f = *state;
	char body[1024];
	json_t *out = NULL;
	int64_t ev = event_new(f, ESPOO, EVENT_VIRTUAL), sid = session_id(f, ev, 0);
	int64_t a = person_mail(f, "Aino", "aino@example.fi");
	int64_t b = person(f, ESPOO, "Bengt");
	int64_t c = person_mail(f, "Cilla", "cilla@example.fi"); /* not registered */
	int64_t d = person(f, ESPOO, "Rajoitettu");
	reg_ok(f, ESPOO, ev, a, "{}");
	reg_ok(f, ESPOO, ev, b, "{}");
	reg_ok(f, ESPOO, ev, d, "{}");
	tamper(f, "UPDATE persons SET status = 'restricted' WHERE id = %" PRId64, d);
	snprintf(
	        body, sizeof(body),
	        "{\"messages\": ["
	        "{\"at\": \"2025-12-11T09:05:00+00:00\", \"author_email\": \"AINO@Example.FI\","
	        " \"text\": \"Hei kaikki!\\nMistä löydän materiaalit?\"},"
	        "{\"at\": \"2025-12-11T09:06:00Z\", \"person_id\": %" PRId64 ", \"text\": \"Hej\"},"
	        "{\"at\": \"2025-12-11T09:07:00Z\", \"author_email\": \"cilla@example.fi\","
	        " \"text\": \"Moi\"},"
	        "{\"at\": \"2025-12-11T09:08:00Z\", \"author_email\": \"kuka@example.fi\","
	        " \"text\": \"?\"},"
	        "{\"at\": \"2025-12-11T09:09:00Z\", \"person_id\": %" PRId64 ", \"text\": \"x\"}]}",
	        b, d);
	assert_int_equal(chat(f, ESPOO, ev, sid, body, &out), 0);
	expect_counts(out, 2, 2, 1, 0);
	json_decref(out);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM event_chat_messages", ""), 2);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM event_chat_messages WHERE person_id = ?1", "i", c),
	        0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM person_records WHERE record_type ="
	                         " 'chat_message' AND person_id = ?1",
	                         "i", a),
	                 1);
	/* the same message again is a duplicate, not a second row */
	assert_int_equal(chat(f, ESPOO, ev, sid,
	                      "{\"messages\": [{\"at\": \"2025-12-11T09:06:00Z\","
	                      " \"author_email\": \"aino@example.fi\", \"text\": \"Uusi\"},"
	                      "{\"at\": \"2025-12-11T09:05:00Z\","
	                      " \"author_email\": \"aino@example.fi\","
	                      " \"text\": \"Hei kaikki!\\nMistä löydän materiaalit?\"}]}",
	                      &out),
	                 0);
	expect_counts(out, 1, 0, 0, 1);
	json_decref(out);
	/* the import is logged with the persons whose messages were stored, and only them */
	char buf[128], want[64];
	raw_text(f, buf, sizeof(buf),
	         "SELECT subjects FROM usage_log WHERE entity = 'event_chat' AND entity_id = ?1"
	         " ORDER BY id LIMIT 1",
	         sid);
	snprintf(want, sizeof(want), "%" PRId64, a);
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "%" PRId64, c);
	assert_null(strstr(buf, want));

	/* editors and managers see the chat; without the flag it is not there */
	json_t *o = NULL;
	fresh(f);
	assert_int_equal(event_get(&f->ctx, ESPOO, ev, EVENT_GET_CHAT, &o), 0);
	assert_int_equal(json_array_size(json_object_get(o, "chat")), 3);
	json_decref(o);
	fresh(f);
	assert_int_equal(event_get(&f->ctx, ESPOO, ev, 0, &o), 0);
	assert_null(json_object_get(o, "chat"));
	json_decref(o);
}

/* E-01: what the import refuses — bad input naming the field, a session not virtual, a
 * register that does not declare chat_message — and that chat goes with the person and with
 * its record. */
/* proves E-01 */
static void test_chat_import_refusals_and_erasure(void **state)
{
	struct fx *f = *state;
	json_t *out = NULL;
	int64_t ev = event_new(f, ESPOO, EVENT_VIRTUAL), sid = session_id(f, ev, 0);
	int64_t a = person_mail(f, "Aino", "aino@example.fi");
	reg_ok(f, ESPOO, ev, a, "{}");

	assert_int_equal(chat(f, ESPOO, ev, sid,
	                      "{\"messages\": [{\"at\": \"2026-02-01T09:00:00Z\","
	                      " \"author_email\": \"aino@example.fi\", \"text\": \"tuleva\"}]}",
	                      &out),
	                 KERR_INVALID);
	assert_string_equal(f->err.field, "messages");
	assert_int_equal(chat(f, ESPOO, ev, sid,
	                      "{\"messages\": [{\"at\": \"2025-12-11T09:00:00Z\","
	                      " \"text\": \"kuka?\"}]}",
	                      &out),
	                 KERR_INVALID);
	assert_int_equal(chat(f, ESPOO, ev, sid, "{\"messages\": [], \"colour\": 1}", &out),
	                 KERR_INVALID);
	assert_string_equal(f->err.field, "colour");
	assert_int_equal(chat(f, ESPOO, ev, 999, "{\"messages\": []}", &out), KERR_NOTFOUND);
	/* a physical event's session without a url has no chat */
	int64_t phys = event_new(f, ESPOO, EVENT_CO);
	assert_int_equal(chat(f, ESPOO, phys, session_id(f, phys, 0), "{\"messages\": []}", &out),
	                 KERR_REFUSED);
	/* kemi-crm does not declare chat_message: it keeps no chat */
	int64_t kev = event_new(f, KEMI, EVENT_VIRTUAL);
	assert_int_equal(chat(f, KEMI, kev, session_id(f, kev, 0), "{\"messages\": []}", &out),
	                 KERR_REFUSED);
	assert_string_equal(f->err.field, "messages");
	assert_null(out);

	assert_int_equal(chat(f, ESPOO, ev, sid,
	                      "{\"messages\": [{\"at\": \"2025-12-11T09:00:00Z\","
	                      " \"author_email\": \"aino@example.fi\", \"text\": \"yksi\"},"
	                      "{\"at\": \"2025-12-11T09:01:00Z\","
	                      " \"author_email\": \"aino@example.fi\", \"text\": \"kaksi\"}]}",
	                      &out),
	                 0);
	json_decref(out);
	/* a retention rule that deletes a chat record deletes its message */
	int64_t rec = raw_int(f, "SELECT min(record_id) FROM event_chat_messages", "");
	tamper(f, "DELETE FROM person_records WHERE id = %" PRId64, rec);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM event_chat_messages", ""), 1);
	/* erasing the person deletes the rest */
	fresh(f);
	assert_int_equal(person_delete(&f->ctx, ESPOO, a), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM event_chat_messages", ""), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ics_escape_and_fold),
	        T(test_event_create_get_ics),
	        T(test_undeclared_co_organiser_refused),
	        T(test_participation_is_customer_event),
	        T(test_participation_checks),
	        T(test_restricted_not_registered),
	        T(test_share_is_logged_disclosure),
	        T(test_participation_goes_with_record),
	        T(test_cancel_registration),
	        T(test_event_list),
	        T(test_chat_import_matches_participants),
	        T(test_chat_import_refusals_and_erasure),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
