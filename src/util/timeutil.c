/*
 * Calendar arithmetic and ISO 8601 parsing without libc time functions. timegm() and gmtime_r()
 * are avoided because their range and behaviour vary by platform; the day-number conversions
 * are Howard Hinnant's branch-free civil algorithms, exact for the proleptic Gregorian
 * calendar, so a date round-trips through days_from_civil() and civil_from_days() unchanged.
 */
#include "util/timeutil.h"

#include <stdio.h>

#define SECS_PER_DAY 86400

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range a four-digit year can show. */
#define TIME_MIN (-62167219200LL)
#define TIME_MAX (253402300799LL)

bool is_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12)
		return 0;
	if (m == 2 && is_leap_year(y))
		return 29;
	return mdays[m - 1];
}

int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;                        /* [0, 399] */
	int64_t mp = m > 2 ? m - 3 : m + 9;                  /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */

	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;

	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = (int)mm;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

void date_add(int *y, int *m, int *d, int years, int months, int days)
{
	/* Count months from year 0 so that negative steps borrow from the year correctly. */
	int64_t total = (int64_t)*y * 12 + (*m - 1) + (int64_t)years * 12 + months;
	int64_t ny = total >= 0 ? total / 12 : (total - 11) / 12;
	int nm = (int)(total - ny * 12) + 1;
	int last = days_in_month((int)ny, nm);
	int nd = *d > last ? last : *d;

	if (days == 0) {
		*y = (int)ny;
		*m = nm;
		*d = nd;
		return;
	}
	civil_from_days(days_from_civil((int)ny, nm, nd) + days, y, m, d);
}

/* Reads exactly `n` decimal digits at *p into *v and advances *p; returns false otherwise. */
static bool read_digits(const char **p, int n, int *v)
{
	int acc = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		acc = acc * 10 + (c - '0');
	}
	*p += n;
	*v = acc;
	return true;
}

/* Consumes the character `c` at *p; returns false if it is not there. */
static bool read_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int time_parse_iso8601(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, hh = 0, mi = 0, ss = 0, off = 0;

	if (s == NULL)
		return -1;
	if (!read_digits(&p, 4, &y) || !read_char(&p, '-') || !read_digits(&p, 2, &mo) ||
	    !read_char(&p, '-') || !read_digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p == '\0')
		goto done;

	if (*p != 'T' && *p != 't')
		return -1;
	p++;
	if (!read_digits(&p, 2, &hh) || !read_char(&p, ':') || !read_digits(&p, 2, &mi) ||
	    !read_char(&p, ':') || !read_digits(&p, 2, &ss))
		return -1;
	if (hh > 23 || mi > 59 || ss > 60)
		return -1;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			n++;
		if (n < 1 || n > 9)
			return -1;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (!read_digits(&p, 2, &oh) || !read_char(&p, ':') || !read_digits(&p, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
done:
	/* Local time = UTC + offset, so UTC = local time - offset. */
	*out = days_from_civil(y, mo, d) * SECS_PER_DAY + hh * 3600 + mi * 60 + ss - off;
	return 0;
}

/* Splits `t`, clamped to years 0000–9999, into its UTC date and time of day. */
static void time_split(int64_t t, int *y, int *mo, int *d, int *hh, int *mi, int *ss)
{
	if (t < TIME_MIN)
		t = TIME_MIN;
	if (t > TIME_MAX)
		t = TIME_MAX;
	int64_t days = t >= 0 ? t / SECS_PER_DAY : (t - (SECS_PER_DAY - 1)) / SECS_PER_DAY;
	int secs = (int)(t - days * SECS_PER_DAY);

	civil_from_days(days, y, mo, d);
	*hh = secs / 3600;
	*mi = secs / 60 % 60;
	*ss = secs % 60;
}

void time_format_iso8601(int64_t t, char buf[21])
{
	int y, mo, d, hh, mi, ss;

	time_split(t, &y, &mo, &d, &hh, &mi, &ss);
	int n = snprintf(buf, 21, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, hh, mi, ss);
	if (n != 20)
		buf[0] = '\0'; /* cannot happen after clamping; never leave a partial value */
}

void time_format_date(int64_t t, char buf[11])
{
	int y, mo, d, hh, mi, ss;

	time_split(t, &y, &mo, &d, &hh, &mi, &ss);
	int n = snprintf(buf, 11, "%04d-%02d-%02d", y, mo, d);
	if (n != 10)
		buf[0] = '\0';
}

int duration_parse(const char *s, int *years, int *months, int *days)
{
	static const char units[] = "YMWD";
	int val[4] = {0, 0, 0, 0};
	int next = 0; /* index in units of the earliest unit still allowed */
	const char *p = s;

	if (s == NULL || *p++ != 'P' || *p == '\0')
		return -1;
	while (*p != '\0') {
		int n = 0, v = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++n > 6)
				return -1;
			v = v * 10 + (*p - '0');
		}
		if (n == 0)
			return -1;
		int u = next;
		while (u < 4 && units[u] != *p)
			u++;
		if (u == 4)
			return -1; /* unknown unit, a unit out of order or repeated, or "T" */
		val[u] = v;
		next = u + 1;
		p++;
	}
	*years = val[0];
	*months = val[1];
	*days = val[2] * 7 + val[3];
	return 0;
}
