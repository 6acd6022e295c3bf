/*
 * Unit tests for src/util/timeutil.c. Expected day numbers and unix times were computed
 * independently (Python's datetime); the round-trip tests cover every day from year -200 to
 * 9999 so that no calendar corner is left to chance.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/timeutil.h"

static void test_leap_years_and_month_lengths(void **state)
{
	(void)state;

	assert_true(is_leap_year(2024));
	assert_true(is_leap_year(2000));
	assert_true(is_leap_year(1600));
	assert_true(is_leap_year(0));
	assert_false(is_leap_year(2023));
	assert_false(is_leap_year(1900));
	assert_false(is_leap_year(2100));
	assert_false(is_leap_year(1800));

	assert_int_equal(days_in_month(2024, 2), 29);
	assert_int_equal(days_in_month(2023, 2), 28);
	assert_int_equal(days_in_month(1900, 2), 28);
	assert_int_equal(days_in_month(2000, 2), 29);
	assert_int_equal(days_in_month(2025, 1), 31);
	assert_int_equal(days_in_month(2025, 4), 30);
	assert_int_equal(days_in_month(2025, 12), 31);
	assert_int_equal(days_in_month(2025, 0), 0);
	assert_int_equal(days_in_month(2025, 13), 0);
	assert_int_equal(days_in_month(2025, -1), 0);
}

static void test_days_from_civil_known(void **state)
{
	static const struct {
		int y, m, d;
		int64_t days;
	} known[] = {
	        {1970, 1, 1, 0},      {1969, 12, 31, -1},      {2000, 1, 1, 10957},
	        {2000, 3, 1, 11017},  {1900, 1, 1, -25567},    {1, 1, 1, -719162},
	        {0, 3, 1, -719468},   {9999, 12, 31, 2932896}, {2024, 2, 29, 19782},
	        {1800, 1, 1, -62091}, {2038, 1, 19, 24855},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		int y, m, d;
		assert_int_equal(days_from_civil(known[i].y, known[i].m, known[i].d),
		                 known[i].days);
		civil_from_days(known[i].days, &y, &m, &d);
		assert_int_equal(y, known[i].y);
		assert_int_equal(m, known[i].m);
		assert_int_equal(d, known[i].d);
	}
}

/* Every day from year -200 to 9999 follows the previous one and round-trips. */
static void test_civil_round_trip_every_day(void **state)
{
	int64_t first = days_from_civil(-200, 1, 1), last = days_from_civil(9999, 12, 31);
	int py, pm, pd;
	(void)state;

	civil_from_days(first, &py, &pm, &pd);
	assert_int_equal(py, -200);
	assert_int_equal(pm, 1);
	assert_int_equal(pd, 1);
	for (int64_t z = first + 1; z <= last; z++) {
		int y, m, d;
		civil_from_days(z, &y, &m, &d);
		if (pd < days_in_month(py, pm)) {
			assert_true(y == py && m == pm && d == pd + 1);
		} else if (pm < 12) {
			assert_true(y == py && m == pm + 1 && d == 1);
		} else {
			assert_true(y == py + 1 && m == 1 && d == 1);
		}
		assert_int_equal(days_from_civil(y, m, d), z);
		py = y;
		pm = m;
		pd = d;
	}
}

/* Checks that date_add(from, years, months, days) gives `to`. */
static void check_add(int y, int m, int d, int ay, int am, int ad, int ey, int em, int ed)
{
	int ry = y, rm = m, rd = d;

	date_add(&ry, &rm, &rd, ay, am, ad);
	if (ry != ey || rm != em || rd != ed)
		fail_msg("%04d-%02d-%02d + %dY%dM%dD = %04d-%02d-%02d, expected %04d-%02d-%02d", y,
		         m, d, ay, am, ad, ry, rm, rd, ey, em, ed);
}

static void test_date_add(void **state)
{
	(void)state;

	check_add(2025, 1, 31, 0, 1, 0, 2025, 2, 28); /* clamped */
	check_add(2024, 1, 31, 0, 1, 0, 2024, 2, 29); /* clamped, leap year */
	check_add(2024, 2, 29, 1, 0, 0, 2025, 2, 28); /* leap day + 1 year */
	check_add(2024, 2, 29, 4, 0, 0, 2028, 2, 29);
	check_add(2024, 2, 29, 0, 0, 365, 2025, 2, 28);
	check_add(2025, 3, 31, 0, 1, 0, 2025, 4, 30);
	check_add(2025, 3, 31, 0, -1, 0, 2025, 2, 28);
	check_add(2025, 12, 15, 0, 1, 0, 2026, 1, 15); /* year rollover */
	check_add(2025, 1, 15, 0, -1, 0, 2024, 12, 15);
	check_add(2025, 1, 15, 0, -13, 0, 2023, 12, 15);
	check_add(2025, 1, 15, 0, 24, 0, 2027, 1, 15);
	check_add(2025, 1, 15, 0, -12, 0, 2024, 1, 15);
	check_add(2025, 1, 15, 1, -12, 0, 2025, 1, 15);
	check_add(2025, 5, 20, 0, 0, 0, 2025, 5, 20);
	check_add(2025, 12, 31, 0, 0, 1, 2026, 1, 1);
	check_add(2026, 1, 1, 0, 0, -1, 2025, 12, 31);
	check_add(2024, 2, 28, 0, 0, 1, 2024, 2, 29);
	check_add(2023, 2, 28, 0, 0, 1, 2023, 3, 1);
	check_add(2025, 1, 1, 0, 0, 1000, 2027, 9, 28);
	check_add(2025, 1, 31, 1, 1, 1, 2026, 3, 1); /* clamp to Feb 28 first, then the day */
	check_add(2020, 6, 15, -10, 0, 0, 2010, 6, 15);
	check_add(2025, 6, 15, 3, 6, 14, 2028, 12, 29); /* a typical retention period */
	check_add(1, 1, 1, 0, -1, 0, 0, 12, 1);
	check_add(0, 1, 31, 0, -1, 0, -1, 12, 31);
}

static void test_parse_iso8601_valid(void **state)
{
	static const struct {
		const char *in;
		int64_t t;
	} ok[] = {
	        {"1970-01-01", 0},
	        {"1970-01-01T00:00:00Z", 0},
	        {"2025-06-15T12:34:56Z", 1749990896},
	        {"2025-06-15T12:34:56+00:00", 1749990896},
	        {"2025-06-15T12:34:56-00:00", 1749990896},
	        {"2025-06-15T12:34:56+02:00", 1749983696},
	        {"2025-06-15T12:34:56.123+02:00", 1749983696},
	        {"2025-06-15T12:34:56.5Z", 1749990896},
	        {"2025-06-15T12:34:56.123456789Z", 1749990896},
	        {"2025-06-15t12:34:56z", 1749990896},
	        {"2025-01-01T00:30:00+03:00", 1735680600},
	        {"2024-02-29T23:59:59-05:30", 1709270999},
	        {"2038-01-19T03:14:08Z", 2147483648LL},
	        {"1969-07-20T20:17:40Z", -14182940},
	        {"1969-12-31T23:59:59Z", -1},
	        {"2016-12-31T23:59:60Z", 1483228800}, /* leap second = 2017-01-01T00:00:00Z */
	        {"0001-01-01T00:00:00Z", -62135596800LL},
	        {"2000-02-29", 951782400},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t t = 42;
		if (time_parse_iso8601(ok[i].in, &t) != 0)
			fail_msg("expected valid: \"%s\"", ok[i].in);
		if (t != ok[i].t)
			fail_msg("\"%s\": got %lld, expected %lld", ok[i].in, (long long)t,
			         (long long)ok[i].t);
	}
}

static void test_parse_iso8601_invalid(void **state)
{
	static const char *bad[] = {
	        "",
	        "2025",
	        "2025-06",
	        "2025-6-15",
	        "2025-06-15T",
	        "2025-06-15T12:34Z",
	        "2025-06-15T12:34:56", /* no zone: ambiguous */
	        "2025-06-15 12:34:56Z",
	        "2025-06-15T24:00:00Z",
	        "2025-06-15T12:60:00Z",
	        "2025-06-15T12:34:61Z",
	        "2025-06-15T12:34:56.Z",
	        "2025-06-15T12:34:56.1234567890Z",
	        "2025-06-15T12:34:56+0200",
	        "2025-06-15T12:34:56+02",
	        "2025-06-15T12:34:56+24:00",
	        "2025-06-15T12:34:56+02:60",
	        "2025-06-15T12:34:56ZZ",
	        "2025-06-15T12:34:56Z ",
	        " 2025-06-15",
	        "2025-06-15x",
	        "2025-02-29",
	        "2025-13-01",
	        "2025-00-01",
	        "2025-04-31",
	        "2025-06-00",
	        "+2025-06-15",
	        "20250615",
	        "2025-06-15T1:34:56Z",
	        "2025-06-15T12:34:56,5Z",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 42;
		if (time_parse_iso8601(bad[i], &t) != -1)
			fail_msg("expected invalid: \"%s\"", bad[i]);
		assert_true(t == 42);
	}
	int64_t t;
	assert_int_equal(time_parse_iso8601(NULL, &t), -1);
}

static void test_format(void **state)
{
	char buf[21], date[11];
	(void)state;

	time_format_iso8601(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	time_format_iso8601(1749990896, buf);
	assert_string_equal(buf, "2025-06-15T12:34:56Z");
	time_format_iso8601(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	time_format_iso8601(-14182940, buf);
	assert_string_equal(buf, "1969-07-20T20:17:40Z");
	time_format_iso8601(2147483648LL, buf);
	assert_string_equal(buf, "2038-01-19T03:14:08Z");
	time_format_iso8601(INT64_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	time_format_iso8601(INT64_MIN, buf);
	assert_string_equal(buf, "0000-01-01T00:00:00Z");

	time_format_date(1749990896, date);
	assert_string_equal(date, "2025-06-15");
	time_format_date(-1, date);
	assert_string_equal(date, "1969-12-31");
	time_format_date(951782400, date);
	assert_string_equal(date, "2000-02-29");
	time_format_date(INT64_MAX, date);
	assert_string_equal(date, "9999-12-31");
	time_format_date(INT64_MIN, date);
	assert_string_equal(date, "0000-01-01");
}

/* Formatting then parsing gives back the same time, across the whole four-digit range. */
static void test_format_parse_round_trip(void **state)
{
	const int64_t lo = -62167219200LL, hi = 253402300799LL;
	char buf[21], date[11];
	(void)state;

	for (int64_t t = lo; t <= hi; t += 9999991) {
		int64_t back;
		time_format_iso8601(t, buf);
		assert_int_equal(strlen(buf), 20);
		assert_int_equal(time_parse_iso8601(buf, &back), 0);
		assert_true(back == t);
		time_format_date(t, date);
		assert_int_equal(time_parse_iso8601(date, &back), 0);
		assert_true(back <= t && t - back < 86400);
	}
}

static void test_duration(void **state)
{
	static const struct {
		const char *in;
		int y, m, d;
	} ok[] = {
	        {"P1Y", 1, 0, 0},
	        {"P6M", 0, 6, 0},
	        {"P2W", 0, 0, 14},
	        {"P10D", 0, 0, 10},
	        {"P1Y2M10D", 1, 2, 10},
	        {"P1Y2M3W4D", 1, 2, 25},
	        {"P0D", 0, 0, 0},
	        {"P3Y6M", 3, 6, 0},
	        {"P1M1W", 0, 1, 7},
	        {"P999999D", 0, 0, 999999},
	        {"P999999W999999D", 0, 0, 7999992},
	        {"P007Y", 7, 0, 0},
	};
	static const char *bad[] = {
	        "",     "P",    "1Y",    "p1Y",   "P1y",       "PT1H",  "P1YT1H", "P1.5Y",
	        "P-1Y", "P+1Y", "P1M1Y", "P1D1W", "P1Y1Y",     "P1",    "PY",     "P1Y2",
	        "P1H",  "P1S",  " P1Y",  "P1Y ",  "P1000000D", "P1W1M", "P1,5D",  "P1YM",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int y = -1, m = -1, d = -1;
		if (duration_parse(ok[i].in, &y, &m, &d) != 0)
			fail_msg("expected valid: \"%s\"", ok[i].in);
		if (y != ok[i].y || m != ok[i].m || d != ok[i].d)
			fail_msg("\"%s\": got %d/%d/%d", ok[i].in, y, m, d);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int y = -1, m = -1, d = -1;
		if (duration_parse(bad[i], &y, &m, &d) != -1)
			fail_msg("expected invalid: \"%s\"", bad[i]);
		assert_true(y == -1 && m == -1 && d == -1);
	}
	int y, m, d;
	assert_int_equal(duration_parse(NULL, &y, &m, &d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_leap_years_and_month_lengths),
	        cmocka_unit_test(test_days_from_civil_known),
	        cmocka_unit_test(test_civil_round_trip_every_day),
	        cmocka_unit_test(test_date_add),
	        cmocka_unit_test(test_parse_iso8601_valid),
	        cmocka_unit_test(test_parse_iso8601_invalid),
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_format_parse_round_trip),
	        cmocka_unit_test(test_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
