/*
 * Tests of advisory and customer-service records (core/service.c): the content allow-list
 * per record type, its change history, the roles, and the retention rules taking the
 * content along while the service statistics (E-05) stay.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/person.h"
#include "core/retention.h"
#include "core/service.h"
#include "fixture.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_appointment_allow_list_and_history, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_roles_and_restriction, setup,
	                                        fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_retention_takes_content_stats_stay, setup,
	                                        fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
