/*
 * Writers for iCalendar content lines (RFC 5545 §3.1): every line ends in CRLF and is folded
 * after at most 75 octets, never inside a UTF-8 character; TEXT values are escaped (§3.3.11).
 * As with HTML, a value reaches an .ics file only through these writers.
 */
#ifndef KORTISTO_ICS_H
#define KORTISTO_ICS_H

#include <stdint.h>

#include "util/buf.h"

/* Appends the content line "NAME:value" with `value` (NULL: nothing is appended) escaped as
 * TEXT: backslash, semicolon and comma get a backslash, a newline (LF, CRLF or CR) becomes
 * "\n", other control characters are dropped. */
void ics_text(struct buf *b, const char *name, const char *value);

/* Appends the content line "NAME:value" unescaped, folded: for values that are not TEXT
 * (DATE-TIME, URI, UID made of safe characters, BEGIN/END). */
void ics_raw(struct buf *b, const char *name, const char *value);

/* Formats unix seconds `t` as a UTC DATE-TIME: YYYYMMDDTHHMMSSZ. */
void ics_time(int64_t t, char out[17]);

#endif
