/*
 * Civil-calendar and ISO 8601 helpers. Everything is UTC and proleptic Gregorian, uses no
 * locale, no time zone database and no global state, so results never depend on the host.
 * Times are plain int64_t seconds since 1970-01-01T00:00:00Z (leap seconds ignored, as POSIX
 * does).
 */
#ifndef KORTISTO_TIMEUTIL_H
#define KORTISTO_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

/* Returns whether `y` is a Gregorian leap year. */
bool is_leap_year(int y);

/* Returns the number of days in month `m` (1–12) of year `y`, or 0 if `m` is out of range. */
int days_in_month(int y, int m);

/*
 * Returns the number of days from 1970-01-01 to the given date (negative before it). The date
 * is not checked: month 1–12 and day 1–31 give the expected result, a day past the end of the
 * month counts on into the next month.
 */
int64_t days_from_civil(int y, int m, int d);

/*
 * Inverse of days_from_civil(): stores the date `z` days after 1970-01-01 in *y, *m, *d. Valid
 * for |z| up to 2^40, far beyond any year an int holds in practice.
 */
void civil_from_days(int64_t z, int *y, int *m, int *d);

/*
 * Adds `years` and `months` to the date, clamping the day to the last day of the resulting
 * month (2025-01-31 + 1 month = 2025-02-28, 2024-01-31 + 1 month = 2024-02-29), then adds
 * `days`. Any of the three may be negative. The input date must be valid.
 */
void date_add(int *y, int *m, int *d, int years, int months, int days);

/*
 * Parses ISO 8601 / RFC 3339 "YYYY-MM-DD" (midnight UTC), "YYYY-MM-DDTHH:MM:SSZ" and
 * "YYYY-MM-DDTHH:MM:SS±HH:MM", with optional fractional seconds ".s" to ".sssssssss" (dropped)
 * into unix seconds, UTC. 't' and 'z' may be lower case; a time without a zone is refused
 * because it would be ambiguous. A leap second ":60" counts as the next minute's ":00".
 * Returns 0 and stores the result in *out, or -1 (and leaves *out alone) on any other input.
 */
int time_parse_iso8601(const char *s, int64_t *out);

/*
 * Formats `t` as "YYYY-MM-DDTHH:MM:SSZ" (20 characters and a NUL). Times before year 0000 or
 * after 9999 are clamped to 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
 */
void time_format_iso8601(int64_t t, char buf[21]);

/* Formats the UTC date of `t` as "YYYY-MM-DD" (10 characters and a NUL), clamped likewise. */
void time_format_date(int64_t t, char buf[11]);

/*
 * Parses an ISO 8601 duration restricted to calendar parts "PnYnMnWnD", in that order, each
 * optional but at least one present, each 0–999999 (e.g. "P1Y", "P6M", "P2W", "P1Y2M10D").
 * Weeks are returned as 7 days added to *days. Time parts ("PT1H"), fractions and signs are
 * refused. Returns 0 and fills all three outputs, or -1 and leaves them alone.
 */
int duration_parse(const char *s, int *years, int *months, int *days);

#endif
