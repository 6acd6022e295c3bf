/*
 * Streaming CSV reader (RFC 4180) for imports of public-source contact lists. The file is
 * read in fixed-size chunks and only the current record is kept, so memory is bounded by the
 * longest record allowed, not by the file. A bad record is reported with its line and field
 * and skipped, so one broken row does not stop an import of hundreds of thousands.
 */
#ifndef KORTISTO_CSV_H
#define KORTISTO_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_RECORD ((size_t)1 << 20) /* default limit on a record's bytes in the file */
#define CSV_MAX_FIELDS ((size_t)1000)    /* default limit on fields in one record */
#define CSV_CHUNK      ((size_t)1 << 16) /* default read size */

struct csv; /* opaque reader */

struct csv_field {
	const char *s; /* NUL terminated; strict UTF-8 without NUL bytes */
	size_t len;
};

struct csv_record {
	const struct csv_field *fields;
	size_t n;
	long line; /* 1-based physical line on which the record starts */
};

struct csv_opts {
	char delimiter;    /* ';' or ','; 0 detects it from the header line */
	size_t max_record; /* bytes in the file, quotes and CR included, final LF not; 0: default */
	size_t max_fields; /* 0: default */
	size_t chunk;      /* bytes per read; 0 means CSV_CHUNK (small values are for tests) */
};

/*
 * Opens a reader on `f` with the default limits; `delimiter` is ';', ',' or 0 to detect it.
 * Same contract as csv_open_opts().
 */
struct csv *csv_open(FILE *f, char delimiter);

/*
 * Opens a reader on `f`; `o` may be NULL for all defaults. Reads ahead to skip a UTF-8 byte
 * order mark and, when the delimiter is 0, to detect it from the first non-empty line: the
 * one of ';' and ',' that occurs more often outside quotes, ';' on a tie or when neither
 * occurs. Returns NULL when `f` is NULL or the delimiter is neither 0, ';' nor ','. A read
 * error here is reported by the first csv_next(). The caller keeps owning `f` and closes it
 * after csv_free(); the reader is freed with csv_free().
 */
struct csv *csv_open_opts(FILE *f, const struct csv_opts *o);

/*
 * Reads the next record into `rec`. Returns
 *    1  a record: rec->fields[0 .. rec->n) point into a buffer owned by the reader and stay
 *       valid until the next csv_next() or csv_free() on it;
 *    0  end of input (and again on every later call);
 *   -1  a bad record, skipped: `err` says "line L[, field F]: what" and rec->line is set;
 *       call again for the next record. Causes: invalid UTF-8 or a NUL byte in a field, a
 *       quote inside an unquoted field, text after a closing quote, more fields than the
 *       limit, a record longer than the limit (the rest of that physical line is skipped);
 *   -2  fatal, stop (and again on every later call): an unterminated quoted field at end
 *       of input, or a read error.
 * Empty lines are skipped; a last record without a line end is returned. `err` may be NULL
 * when errsz is 0; messages are truncated to errsz and never contain field contents.
 */
int csv_next(struct csv *c, struct csv_record *rec, char *err, size_t errsz);

/* Returns the delimiter in use, given or detected. */
char csv_delimiter(const struct csv *c);

/* Returns the bytes of input consumed so far, BOM included, for a progress line. */
long csv_bytes_read(const struct csv *c);

/* Frees the reader and its buffers (not the FILE); accepts NULL. */
void csv_free(struct csv *c);

struct buf;

/* Appends `s` (NULL: an empty field) to `out` as one CSV field (RFC 4180): always quoted,
 * inner quotes doubled. A field beginning with =, +, - or @ gets an apostrophe in front, so
 * a spreadsheet opening the file does not take the text for a formula. */
void csv_put_field(struct buf *out, const char *s);

#endif
