/*
 * Tests of advisory and customer-service records (core/service.c): the content allow-list
 * per record type, its change history, the roles, and the retention rules taking the
 * content along while the service statistics (E-05) stay.
 */
#include <setjmp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/person.h"
#include "core/retention.h"
#include "core/service.h"
#include "fixture.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeutil.h"

#define ESPOO "espoo-talent-hub"

static const char *const register_files[] = {"registers/espoo-talent-hub.yaml"};

static int setup(void **state)
{
	struct fx *f = fixture_open("service", register_files, 1);
	if (!f)
		return -1;
	*state = f;
	return 0;
}

static void at(struct fx *f, const char *day)
{
	int64_t t;
	assert_int_equal(time_parse_iso8601(day, &t), 0);
	kctx_set_now(&f->ctx, t);
}

static int64_t person(struct fx *f)
{
	json_t *in = json_pack("{ssssss}", "subject_group", "individual", "source", "subject",
	                       "first_name", "Asiakas");
	int64_t id = 0;
	fresh(f);
	if (person_create(&f->ctx, ESPOO, in, &id) != 0)
		fail_msg("person_create: %s", f->err.message);
	json_decref(in);
	return id;
}

/* Makes a record from JSON text `body`; returns the core's result, *id the record. */
static int add(struct fx *f, int64_t pid, const char *body, int64_t *id)
{
	json_error_t jerr;
	json_t *in = json_loads(body, 0, &jerr);
	assert_non_null(in);
	fresh(f);
	int rc = service_record_add(&f->ctx, ESPOO, pid, in, id);
	json_decref(in);
	return rc;
}

#define APPOINTMENT                                                                                \
	"{\"type\": \"appointment\", \"data\": {\"start\": \"2026-01-05T09:30:00Z\","              \
	" \"channel\": \"visit\", \"place\": \"Espoon Työllisyyspalvelut\", \"staff\": "          \
	"\"Neuvoja\","                                                                             \
	" \"topic\": \"urasuunnittelu\", \"municipality\": \"Espoo\"}}"

/* proves E-02: an appointment is kept with its content; a member outside the allow-list,
 * a missing required member and an undeclared type are refused; a change keeps history. */
static void test_appointment_allow_list_and_history(void **state)
{
	struct fx *f = *state;
	int64_t pid = person(f), id = 0;
	assert_int_equal(add(f, pid, APPOINTMENT, &id), 0);
	assert_true(id > 0);
	char buf[256];
	raw_text(f, buf, sizeof(buf), "SELECT data FROM service_records WHERE record_id = ?", id);
	assert_non_null(strstr(buf, "urasuunnittelu"));
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM persons WHERE id = ? AND"
	                         " last_customer_event = '2026-01-01'",
	                         "i", pid),
	                 1);

	int64_t other = 0;
	assert_int_equal(add(f, pid,
	                     "{\"type\": \"customer_note\", \"data\": {\"text\": \"x\","
	                     " \"shoe_size\": 42}}",
	                     &other),
	                 KERR_INVALID);
	assert_non_null(strstr(f->err.message, "shoe_size"));
	assert_int_equal(
	        add(f, pid, "{\"type\": \"customer_plan\", \"data\": {\"title\": \"x\"}}", &other),
	        KERR_INVALID);
	assert_non_null(strstr(f->err.message, "data.status"));
	assert_int_equal(add(f, pid, "{\"type\": \"service_order\", \"data\": {}}", &other),
	                 KERR_REFUSED); /* not declared by this register */
	assert_int_equal(add(f, pid, "{\"type\": \"newsletter_open\", \"data\": {}}", &other),
	                 KERR_REFUSED); /* declared, but type and day only */

	json_t *patch =
	        json_pack("{s{ssss}}", "data", "outcome", "CV päivitetty", "status", "held");
	fresh(f);
	assert_int_equal(service_record_change(&f->ctx, ESPOO, id, patch), 0);
	json_decref(patch);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM service_record_history WHERE record_id = ?",
	                         "i", id),
	                 2);
	json_t *rec = NULL;
	fresh(f);
	assert_int_equal(service_record_get(&f->ctx, ESPOO, id, true, &rec), 0);
	assert_int_equal(json_array_size(json_object_get(rec, "history")), 2);
	assert_int_equal(json_integer_value(json_object_get(rec, "version")), 2);
	json_decref(rec);
	assert_true(raw_int(f,
	                    "SELECT count(*) FROM usage_log WHERE entity = 'record' AND"
	                    " action = 'read' AND entity_id = ?",
	                    "i", id) >= 1);
}

/* proves E-02: a viewer reads but does not make records; a restricted person is refused. */
static void test_roles_and_restriction(void **state)
{
	struct fx *f = *state;
	int64_t pid = person(f), id = 0;
	assert_int_equal(add(f, pid, APPOINTMENT, &id), 0);
	fx_as_user(f, "katsoja", ESPOO, ROLE_VIEWER);
	int64_t other = 0;
	assert_int_equal(add(f, pid, APPOINTMENT, &other), KERR_FORBIDDEN);
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(service_record_list(&f->ctx, ESPOO, pid, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
	json_decref(out);
	fx_as_operator(f);
}

/* proves E-05: the retention rule of the record type deletes the record with its content,
 * and the service statistics, which hold no person, stay. */
static void test_retention_takes_content_stats_stay(void **state)
{
	struct fx *f = *state;
	int64_t pid = person(f), id = 0;
	assert_int_equal(add(f, pid, APPOINTMENT, &id), 0);
	assert_int_equal(raw_int(f,
	                         "SELECT count FROM service_stats WHERE service = 'appointment'"
	                         " AND channel = 'visit' AND period = '2026-01' AND"
	                         " municipality = 'Espoo'",
	                         ""),
	                 1);
	at(f, "2036-02-01");
	struct retention_opts o = {0};
	json_t *sum = NULL;
	fresh(f);
	if (retention_run(&f->ctx, &o, &sum) != 0)
		fail_msg("retention_run: %s", f->err.message);
	json_decref(sum);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM person_records WHERE id = ?", "i", id),
	                 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM service_records", ""), 0);
	assert_int_equal(raw_int(f, "SELECT sum(count) FROM service_stats", ""), 1);
	json_t *st = NULL;
	fresh(f);
	assert_int_equal(service_stats(&f->ctx, ESPOO, "2026-01", "2026-12", &st), 0);
	assert_int_equal(json_array_size(json_object_get(st, "rows")), 1);
	json_decref(st);
}

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

/* The calendar file of record `id` (rc: the core's result), NUL-terminated in *b. */
static int rec_ics(struct fx *f, int64_t id, struct buf *b)
{
	fresh(f);
	int rc = service_record_ics(&f->ctx, ESPOO, id, b);
	buf_putc(b, '\0');
	return rc;
}

/* proves E-02: an appointment exports as an iCalendar VEVENT with its times, topic and place,
 * a UID that stays through a change (SEQUENCE counts it), CRLF lines; another record type is
 * refused by name; a person's file holds all their appointments and nothing else; every
 * export is a logged read; a restricted person's appointments only to a manager (R-09). */
static void test_appointment_ics(void **state)
{
	struct fx *f = *state;
	int64_t pid = person(f), id = 0, phone = 0, note = 0;
	char uid[96];
	assert_int_equal(add(f, pid,
	                     "{\"type\": \"appointment\", \"data\": {\"start\":"
	                     " \"2026-01-05T11:30:00+02:00\", \"end\": \"2026-01-05T10:15:00Z\","
	                     " \"channel\": \"visit\", \"place\": \"Kauppakatu 1; 2. krs\","
	                     " \"staff\": \"Neuvoja\", \"topic\": \"urasuunnittelu, CV\"}}",
	                     &id),
	                 0);
	assert_int_equal(add(f, pid,
	                     "{\"type\": \"appointment\", \"data\": {\"start\":"
	                     " \"2026-01-12T08:00:00Z\", \"channel\": \"phone\", \"staff\":"
	                     " \"Neuvoja\", \"topic\": \"seuranta\", \"status\": \"cancelled\"}}",
	                     &phone),
	                 0);
	assert_int_equal(add(f, pid,
	                     "{\"type\": \"customer_note\", \"data\": {\"text\": \"muistio\"}}",
	                     &note),
	                 0);
	int64_t reads = raw_int(f, "SELECT count(*) FROM usage_log WHERE action = 'read'", "");

	struct buf b = BUF_INIT;
	assert_int_equal(rec_ics(f, id, &b), 0);
	snprintf(uid, sizeof(uid), "\r\nUID:record-%" PRId64 "@" ESPOO ".kortisto\r\n", id);
	assert_true(strncmp(b.p, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 30) == 0);
	assert_non_null(strstr(b.p, uid));
	assert_non_null(strstr(b.p, "\r\nDTSTART:20260105T093000Z\r\n"));
	assert_non_null(strstr(b.p, "\r\nDTEND:20260105T101500Z\r\n"));
	assert_non_null(strstr(b.p, "\r\nSUMMARY:urasuunnittelu\\, CV\r\n"));
	assert_non_null(strstr(b.p, "\r\nLOCATION:Kauppakatu 1\\; 2. krs\r\n"));
	assert_non_null(strstr(b.p, "\r\nSEQUENCE:0\r\n"));
	assert_null(strstr(b.p, "Neuvoja")); /* the staff member stays out */
	assert_non_null(strstr(b.p, "END:VEVENT\r\nEND:VCALENDAR\r\n"));
	buf_free(&b);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'read' AND"
	                         " entity = 'record' AND entity_id = ?",
	                         "i", id),
	                 1);

	json_t *patch = json_pack("{s{ss}}", "data", "topic", "uusi aihe");
	fresh(f);
	assert_int_equal(service_record_change(&f->ctx, ESPOO, id, patch), 0);
	json_decref(patch);
	assert_int_equal(rec_ics(f, id, &b), 0);
	assert_non_null(strstr(b.p, uid));
	assert_non_null(strstr(b.p, "\r\nSEQUENCE:1\r\n"));
	assert_non_null(strstr(b.p, "\r\nSUMMARY:uusi aihe\r\n"));
	buf_free(&b);

	assert_int_equal(rec_ics(f, note, &b), KERR_REFUSED);
	assert_non_null(strstr(f->err.message, "customer_note"));
	assert_int_equal(b.len, 1); /* only the NUL the test put */
	buf_free(&b);
	assert_int_equal(rec_ics(f, 999999, &b), KERR_NOTFOUND);
	buf_free(&b);

	fresh(f);
	assert_int_equal(service_person_ics(&f->ctx, ESPOO, pid, &b), 0);
	buf_putc(&b, '\0');
	size_t events = 0;
	for (const char *p = b.p; (p = strstr(p, "BEGIN:VEVENT")); p++)
		events++;
	assert_int_equal(events, 2);
	assert_non_null(strstr(b.p, "\r\nLOCATION:phone\r\n"));
	assert_non_null(strstr(b.p, "\r\nSTATUS:CANCELLED\r\n"));
	assert_null(strstr(b.p, "muistio"));
	buf_free(&b);
	/* the two record exports, the person's file; the refused one is no read */
	assert_int_equal(raw_int(f, "SELECT count(*) FROM usage_log WHERE action = 'read'", ""),
	                 reads + 3);

	tamper(f, "UPDATE persons SET status = 'restricted' WHERE id = %" PRId64, pid);
	fx_as_user(f, "muokkaaja", ESPOO, ROLE_EDITOR);
	assert_int_equal(rec_ics(f, id, &b), KERR_REFUSED);
	buf_free(&b);
	fresh(f);
	assert_int_equal(service_person_ics(&f->ctx, ESPOO, pid, &b), KERR_REFUSED);
	assert_int_equal(b.len, 0);
	fx_as_user(f, "hoitaja", ESPOO, ROLE_MANAGER);
	assert_int_equal(rec_ics(f, id, &b), 0);
	assert_non_null(strstr(b.p, uid));
	buf_free(&b);
	fx_as_operator(f);
}

/* The lookups of records by organisation, and of what a record names, use indexes. */
static void test_statements_indexed(void **state)
{
	static const enum stmt_id lookups[] = {ST_SVC_BY_ORG, ST_SVC_ORG_EXISTS,
	                                       ST_SVC_RECORD_EXISTS};
	assert_indexed(*state, lookups, sizeof(lookups) / sizeof(lookups[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_appointment_allow_list_and_history, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_roles_and_restriction, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_retention_takes_content_stats_stay, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_appointment_ics, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_statements_indexed, setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
