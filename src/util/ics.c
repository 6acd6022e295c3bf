/*
 * iCalendar content lines. The line is built whole, then copied out with a fold (CRLF and a
 * space) before any character that would take the physical line past 75 octets; the fold
 * is placed between whole UTF-8 sequences, so no character is ever split.
 */
#include "util/ics.h"

#include <string.h>
#include <time.h>

#define ICS_LINE_MAX 75 /* octets of one physical line, CRLF not counted */

/* The length of the UTF-8 sequence starting with byte `c` (1 for a stray byte). */
static size_t seq_len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf7)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* Copies the logical line `s` of `n` octets to `b`, folded, and ends it with CRLF. */
static void fold(struct buf *b, const char *s, size_t n)
{
	size_t col = 0;
	for (size_t i = 0; i < n;) {
		size_t k = seq_len((unsigned char)s[i]);
		if (k > n - i)
			k = n - i;
		if (col + k > ICS_LINE_MAX) {
			buf_puts(b, "\r\n ");
			col = 1; /* the space that starts the continuation line */
		}
		buf_append(b, s + i, k);
		col += k;
		i += k;
	}
	buf_puts(b, "\r\n");
}

void ics_raw(struct buf *b, const char *name, const char *value)
{
	struct buf line = BUF_INIT;
	if (!value)
		return;
	buf_puts(&line, name);
	buf_putc(&line, ':');
	buf_puts(&line, value);
	fold(b, line.p, line.len);
	buf_free(&line);
}

void ics_text(struct buf *b, const char *name, const char *value)
{
	struct buf line = BUF_INIT;
	if (!value)
		return;
	buf_puts(&line, name);
	buf_putc(&line, ':');
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '\\':
		case ';':
		case ',':
			buf_putc(&line, '\\');
			buf_putc(&line, *p);
			break;
		case '\r':
			if (p[1] != '\n')
				buf_puts(&line, "\\n");
			break;
		case '\n': buf_puts(&line, "\\n"); break;
		default:
			if ((unsigned char)*p >= 0x20 && *p != 0x7f)
				buf_putc(&line, *p);
		}
	}
	fold(b, line.p, line.len);
	buf_free(&line);
}

void ics_time(int64_t t, char out[17])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 0)
		out[0] = '\0'; /* a year past 9999: no time is written */
}
