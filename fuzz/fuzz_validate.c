/*
 * libFuzzer harness for src/util/validate.c and the parsers in src/util/timeutil.c. The input
 * is copied into an exactly sized NUL-terminated buffer, so AddressSanitizer catches any read
 * past the terminator, and every validator runs on it. Beyond "does not crash", the harness
 * checks invariants: a normalised value validates again to itself, and a parsed time
 * survives a format-and-parse round trip.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"
#include "util/validate.h"

/* Aborts the run so that libFuzzer records the input that broke an invariant. */
static void require(bool cond)
{
	if (!cond)
		abort();
}

static void fuzz_identifiers(const char *s)
{
	struct hetu h, h2;
	char yt[10], yt2[10], ph[17], ph2[17], pc[6], mask[12];
	const char *why;

	why = NULL;
	if (hetu_parse(s, &h, &why)) {
		require(strlen(h.norm) == 11);
		require(hetu_parse(h.norm, &h2, NULL));
		require(memcmp(&h.norm, &h2.norm, sizeof(h.norm)) == 0 && h.year == h2.year &&
		        h.month == h2.month && h.day == h2.day && h.temporary == h2.temporary &&
		        h.female == h2.female);
		require(h.year >= 1800 && h.year <= 2099);
		hetu_mask(h.norm, mask);
		require(strlen(mask) == 11 && memcmp(mask, h.norm, 7) == 0);
	} else {
		require(why != NULL);
	}
	hetu_mask(s, mask);
	require(strlen(mask) == 11 && strcmp(mask + 7, "****") == 0);

	why = NULL;
	if (ytunnus_valid(s, yt, &why)) {
		require(strlen(yt) == 9 && yt[7] == '-');
		require(ytunnus_valid(yt, yt2, NULL) && strcmp(yt, yt2) == 0);
	} else {
		require(why != NULL);
	}

	why = NULL;
	if (phone_valid(s, ph, &why)) {
		size_t n = strlen(ph);
		require(ph[0] == '+' && n >= 6 && n <= 16);
		require(phone_valid(ph, ph2, NULL) && strcmp(ph, ph2) == 0);
	} else {
		require(why != NULL);
	}

	why = NULL;
	if (postal_code_valid(s, pc, &why))
		require(strlen(pc) == 5);
	else
		require(why != NULL);
}

static void fuzz_formats(const char *s)
{
	char em[255], em2[255];
	int y, m, d;
	long long ll;
	bool b;
	const char *why;

	why = NULL;
	if (email_valid(s, em, sizeof(em), &why)) {
		require(strlen(em) <= 254 && strchr(em, '@') != NULL);
		require(email_valid(em, em2, sizeof(em2), NULL) && strcmp(em, em2) == 0);
	} else {
		require(why != NULL);
	}
	/* A too small output buffer must fail cleanly, never write past it. */
	(void)email_valid(s, em, 8, NULL);

	why = NULL;
	if (date_valid(s, &y, &m, &d, &why))
		require(y >= 1800 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 &&
		        d <= days_in_month(y, m));
	else
		require(why != NULL);

	why = NULL;
	require(url_valid(s, &why) || why != NULL);
	why = NULL;
	require(ip_valid(s, &why) || why != NULL);
	why = NULL;
	require(int_valid(s, &ll, &why) || why != NULL);
	why = NULL;
	require(bool_valid(s, &b, &why) || why != NULL);
	why = NULL;
	require(ident_valid(s, &why) || why != NULL);
}

static void fuzz_time(const char *s)
{
	int64_t t, back;
	int y, m, d;
	char buf[21];

	if (time_parse_iso8601(s, &t) == 0) {
		time_format_iso8601(t, buf);
		require(strlen(buf) == 20);
		/* Offsets can move a time just outside years 0000–9999, where formatting clamps. */
		if (t >= -62167219200LL && t <= 253402300799LL) {
			require(time_parse_iso8601(buf, &back) == 0 && back == t);
		}
	}
	if (duration_parse(s, &y, &m, &d) == 0) {
		require(y >= 0 && m >= 0 && d >= 0);
		int yy = 2024, mm = 2, dd = 29;
		date_add(&yy, &mm, &dd, y, m, d);
		require(mm >= 1 && mm <= 12 && dd >= 1 && dd <= days_in_month(yy, mm));
	}
}

/* libFuzzer entry point: runs every validator on one input; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';

	(void)utf8_valid((const char *)data, size);
	fuzz_identifiers(s);
	fuzz_formats(s);
	fuzz_time(s);

	free(s);
	return 0;
}
