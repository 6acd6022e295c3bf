/*
 * Error recording. The first error wins; its code maps to one HTTP status and title in the
 * table below, which the API's problem responses and the CLI's exit messages share.
 */
#include "util/kerr.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int code, status;
	const char *title;
} kerr_table[] = {
        {KERR_OK, 200, "OK"},
        {KERR_INVALID, 400, "Bad request"},
        {KERR_NOTFOUND, 404, "Not found"},
        {KERR_CONFLICT, 409, "Conflict"},
        {KERR_REFUSED, 422, "Refused by the register's declaration"},
        {KERR_FORBIDDEN, 403, "Forbidden"},
        {KERR_UNAUTH, 401, "Not signed in"},
        {KERR_TOOLARGE, 413, "Request too large"},
        {KERR_INTERNAL, 500, "Internal error"},
        {KERR_BUSY, 503, "Busy"},
        {KERR_THROTTLED, 429, "Too many attempts"},
        {KERR_SUPPRESSED, 422, "Erased by passivation"},
};

/* Length of the valid UTF-8 sequence at s (at most `left` bytes), or 0 when there is none:
 * shortest forms only, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n = c < 0x80             ? 1
	           : (c & 0xE0) == 0xC0 ? 2
	           : (c & 0xF0) == 0xE0 ? 3
	           : (c & 0xF8) == 0xF0 ? 4
	                                : 0;
	if (n == 0 || n > left)
		return 0;
	unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	static const unsigned least[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/*
 * Makes `s` valid UTF-8 in place: a sequence cut off at the end (snprintf cuts by bytes)
 * is dropped, any other invalid byte becomes '?'. Messages quote what a client sent, and a
 * problem response must still be valid JSON.
 */
static void utf8_clean(char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n) {
			i += n;
			continue;
		}
		/* A lead byte whose continuation bytes all are there but run out at the end. */
		bool tail = true;
		for (size_t j = i + 1; j < len; j++)
			if (((unsigned char)s[j] & 0xC0) != 0x80)
				tail = false;
		if (tail && ((unsigned char)s[i] & 0xC0) == 0xC0) {
			s[i] = '\0';
			return;
		}
		s[i++] = '?';
	}
}

int kerr_set(struct kerr *e, int code, const char *field, const char *fmt, ...)
{
	if (!e || e->code != 0)
		return code;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	utf8_clean(e->field);
	utf8_clean(e->message);
	return code;
}

void kerr_clear(struct kerr *e)
{
	memset(e, 0, sizeof(*e));
}

int kerr_http_status(int code)
{
	for (size_t i = 0; i < sizeof(kerr_table) / sizeof(kerr_table[0]); i++)
		if (kerr_table[i].code == code)
			return kerr_table[i].status;
	return 500;
}

const char *kerr_title(int code)
{
	for (size_t i = 0; i < sizeof(kerr_table) / sizeof(kerr_table[0]); i++)
		if (kerr_table[i].code == code)
			return kerr_table[i].title;
	return "Internal error";
}
