/*
 * CSV reader as a byte-level state machine over a chunk buffer. Field contents are copied
 * into one record buffer, each followed by a NUL, and only their lengths are kept while the
 * record grows; the pointers are set once the record is complete, so growing the buffer
 * never leaves a stale pointer. A record is limited by its bytes in the file, which bounds
 * the record buffer as well, even for a runaway quote that would otherwise swallow the file.
 */
#include "util/csv.h"
#include "util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	ST_START,    /* at the start of a field */
	ST_UNQUOTED, /* inside an unquoted field */
	ST_QUOTED,   /* inside a quoted field */
	ST_QUOTE,    /* just after a quote inside a quoted field: closing, or the first of "" */
	ST_QUOTE_CR, /* a CR after a closing quote: must be followed by LF */
	ST_SKIP,     /* record too long: skipping to the end of the physical line */
	ST__MAX
};

enum {
	REC_OK,    /* a record is ready */
	REC_BAD,   /* a bad record was consumed; c->emsg says why */
	REC_EMPTY, /* an empty line was consumed */
	REC_END,   /* no more input */
	REC_FATAL, /* cannot go on; c->emsg says why */
	REC__MAX
};

struct csv {
	FILE *f;
	char delim;
	unsigned char special[256]; /* bytes that end a run of unquoted field content */
	size_t max_record, max_fields, chunk;

	/* Input: in[in_pos .. in_len) is unread; in[0] is byte `base` of the file. */
	unsigned char *in;
	size_t in_len, in_pos, in_cap;
	long base;
	int eof;        /* fread() returned 0 without error */
	int read_errno; /* nonzero after a read error */
	int finished;   /* REC_END or REC_FATAL was returned; repeat it */
	int fatal;

	/* The record being built: fields' bytes, each followed by a NUL. */
	char *rec;
	size_t rec_len, rec_cap;
	size_t fstart; /* offset of the current field in rec */
	struct csv_field *fields;
	size_t nfields, fields_cap;
	size_t fno;       /* fields ended so far, counted even when not stored */
	int fquoted;      /* the current field started with a quote */
	int first_quoted; /* the first field was quoted (so the line is not empty) */
	long rec_abs;     /* file offset of the record's first byte */

	long line;     /* physical line of the next unread byte */
	int bad;       /* an error was recorded: stop storing, finish the record */
	size_t efield; /* field of the error, 0 when it concerns the record */
	char emsg[128];
};

/*
 * The one allocation helper of this file. Running out of memory aborts, as everywhere in
 * kortisto (see util/xmalloc.h, which this stands in for until the build links it), so no
 * caller checks for NULL.
 */
static void *csv_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "kortisto: out of memory (%zu bytes)\n", n);
		abort();
	}
	return q;
}

/*
 * Returns 0 when s[0 .. n) is strict UTF-8 (no overlong forms, no surrogates, nothing past
 * U+10FFFF, no truncated sequence) without a NUL byte, -1 for a NUL byte, -2 otherwise.
 */
static int csv_utf8_check(const unsigned char *s, size_t n)
{
	const uint64_t high = 0x8080808080808080ull, ones = 0x0101010101010101ull;
	size_t i = 0;

	while (i < n) {
		/* Eight ASCII bytes at a time, none of them NUL: the common case. */
		if (n - i >= 8) {
			uint64_t v;
			memcpy(&v, s + i, 8);
			if (!(v & high) && !((v - ones) & ~v & high)) {
				i += 8;
				continue;
			}
		}
		unsigned char b = s[i];
		if (b < 0x80) {
			if (b == 0)
				return -1;
			i++;
			continue;
		}
		size_t need;
		unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
		if (b >= 0xc2 && b <= 0xdf) {
			need = 1;
		} else if (b == 0xe0) {
			need = 2, lo = 0xa0; /* no overlong 3-byte form */
		} else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef) {
			need = 2;
		} else if (b == 0xed) {
			need = 2, hi = 0x9f; /* no surrogates */
		} else if (b == 0xf0) {
			need = 3, lo = 0x90; /* no overlong 4-byte form */
		} else if (b >= 0xf1 && b <= 0xf3) {
			need = 3;
		} else if (b == 0xf4) {
			need = 3, hi = 0x8f; /* nothing past U+10FFFF */
		} else {
			return -2; /* continuation byte, C0, C1 or F5..FF */
		}
		if (n - i - 1 < need)
			return -2;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return -2;
		for (size_t k = 2; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return -2;
		i += need + 1;
	}
	return 0;
}

/*
 * Reads up to one chunk after the unread input, dropping what was consumed first. Returns 1
 * when bytes were read, 0 at end of file, -1 on a read error (remembered in read_errno).
 */
static int csv_read(struct csv *c)
{
	if (c->eof || c->read_errno)
		return c->read_errno ? -1 : 0;
	if (c->in_pos == c->in_len) {
		c->base += (long)c->in_len;
		c->in_len = c->in_pos = 0;
	}
	if (c->in_cap - c->in_len < c->chunk) {
		c->in_cap = c->in_len + c->chunk;
		c->in = csv_xrealloc(c->in, c->in_cap);
	}
	errno = 0;
	size_t n = fread(c->in + c->in_len, 1, c->chunk, c->f);
	if (n == 0) {
		if (ferror(c->f)) {
			c->read_errno = errno ? errno : EIO;
			return -1;
		}
		c->eof = 1;
		return 0;
	}
	c->in_len += n;
	return 1;
}

/*
 * Skips a byte order mark and, when no delimiter was given, reads ahead to the end of the
 * first non-empty line (at most max_record bytes) and picks the delimiter from it.
 */
static void csv_start(struct csv *c, int detect)
{
	while (c->in_len < 3 && csv_read(c) > 0)
		;
	if (c->in_len >= 3 && memcmp(c->in, "\xef\xbb\xbf", 3) == 0)
		c->in_pos = 3;
	if (!detect)
		return;

	size_t semi = 0, comma = 0, scanned = 0;
	int quoted = 0, content = 0;
	for (;;) {
		/* Offsets are relative to in_pos, which csv_read() may move. */
		for (size_t i = c->in_pos + scanned; i < c->in_len; i++, scanned++) {
			unsigned char ch = c->in[i];
			if (ch == '"')
				quoted = !quoted;
			else if (quoted)
				continue;
			else if (ch == ';')
				semi++;
			else if (ch == ',')
				comma++;
			else if (ch == '\n' && content)
				goto out;
			if (ch != '\n' && ch != '\r')
				content = 1;
		}
		if (c->in_len - c->in_pos > c->max_record || csv_read(c) <= 0)
			break;
	}
out:
	c->delim = comma > semi ? ',' : ';';
}

struct csv *csv_open(FILE *f, char delimiter)
{
	struct csv_opts o = {.delimiter = delimiter};
	return csv_open_opts(f, &o);
}

struct csv *csv_open_opts(FILE *f, const struct csv_opts *o)
{
	static const struct csv_opts defaults;
	if (!o)
		o = &defaults;
	if (!f || (o->delimiter != 0 && o->delimiter != ';' && o->delimiter != ','))
		return NULL;

	struct csv *c = csv_xrealloc(NULL, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->f = f;
	c->max_record = o->max_record ? o->max_record : CSV_MAX_RECORD;
	c->max_fields = o->max_fields ? o->max_fields : CSV_MAX_FIELDS;
	c->chunk = o->chunk ? o->chunk : CSV_CHUNK;
	c->line = 1;
	c->rec_cap = 256;
	c->rec = csv_xrealloc(NULL, c->rec_cap);
	c->fields_cap = 16;
	c->fields = csv_xrealloc(NULL, c->fields_cap * sizeof(*c->fields));

	c->delim = o->delimiter;
	csv_start(c, o->delimiter == 0);
	c->special[(unsigned char)c->delim] = 1;
	c->special['"'] = 1;
	c->special['\n'] = 1;
	return c;
}

void csv_free(struct csv *c)
{
	if (!c)
		return;
	free(c->in);
	free(c->rec);
	free(c->fields);
	free(c);
}

char csv_delimiter(const struct csv *c)
{
	return c->delim;
}

long csv_bytes_read(const struct csv *c)
{
	return c->base + (long)c->in_pos;
}

/* ---------------------------------------------------------------- record building */

/* Records the first error of the current record; later ones are consequences. */
static void csv_error(struct csv *c, size_t field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void csv_error(struct csv *c, size_t field, const char *fmt, ...)
{
	va_list ap;
	if (c->bad)
		return;
	c->bad = 1;
	c->efield = field;
	va_start(ap, fmt);
	vsnprintf(c->emsg, sizeof(c->emsg), fmt, ap);
	va_end(ap);
}

/* Makes room for n more bytes in the record buffer. */
static void csv_reserve(struct csv *c, size_t n)
{
	if (c->rec_cap - c->rec_len >= n)
		return;
	size_t cap = c->rec_cap;
	while (cap - c->rec_len < n)
		cap *= 2;
	c->rec = csv_xrealloc(c->rec, cap);
	c->rec_cap = cap;
}

/* Appends field content, unless the record is already known to be bad. */
static void csv_append(struct csv *c, const unsigned char *s, size_t n)
{
	if (c->bad)
		return;
	csv_reserve(c, n);
	memcpy(c->rec + c->rec_len, s, n);
	c->rec_len += n;
}

/* Drops the CR of a CRLF line end from an unquoted field. */
static void csv_strip_cr(struct csv *c)
{
	if (!c->bad && c->rec_len > c->fstart && c->rec[c->rec_len - 1] == '\r')
		c->rec_len--;
}

static void csv_end_field(struct csv *c)
{
	size_t no = ++c->fno;
	int quoted = c->fquoted;

	c->fquoted = 0;
	if (c->bad)
		return;
	if (c->nfields == c->max_fields) {
		csv_error(c, 0, "more than %zu fields", c->max_fields);
		return;
	}
	size_t len = c->rec_len - c->fstart;
	int u = csv_utf8_check((const unsigned char *)c->rec + c->fstart, len);
	if (u) {
		csv_error(c, no, "%s", u == -1 ? "contains a NUL byte" : "not valid UTF-8");
		return;
	}
	if (c->nfields == c->fields_cap) {
		c->fields_cap *= 2;
		c->fields = csv_xrealloc(c->fields, c->fields_cap * sizeof(*c->fields));
	}
	c->fields[c->nfields].s = NULL;
	c->fields[c->nfields].len = len;
	c->nfields++;
	if (no == 1)
		c->first_quoted = quoted;
	csv_reserve(c, 1);
	c->rec[c->rec_len++] = '\0';
	c->fstart = c->rec_len;
}

/* Bytes of the current record consumed up to `p` in the input buffer. */
static size_t csv_raw(const struct csv *c, const unsigned char *p)
{
	return (size_t)(c->base + (p - c->in) - c->rec_abs);
}

static int csv_overlong(struct csv *c)
{
	csv_error(c, 0, "record longer than %zu bytes; skipped to the end of the line",
	          c->max_record);
	return ST_SKIP;
}

/*
 * Consumes one record, or one empty line, from the input. Returns a REC_* value; the record
 * is in c->rec and c->fields (pointers not yet set), an error in c->emsg.
 */
static int csv_parse(struct csv *c)
{
	const unsigned char delim = (unsigned char)c->delim;
	int state = ST_START, lf = 0;

	c->rec_len = c->fstart = c->nfields = c->fno = 0;
	c->fquoted = c->first_quoted = c->bad = 0;
	c->efield = 0;
	c->emsg[0] = '\0';
	c->rec_abs = c->base + (long)c->in_pos;

	for (;;) {
		if (c->in_pos == c->in_len) {
			int r = csv_read(c);
			if (r < 0) {
				snprintf(c->emsg, sizeof(c->emsg), "read error: %s",
				         strerror(c->read_errno));
				c->efield = 0;
				return REC_FATAL;
			}
			if (r == 0)
				break;
		}

		const unsigned char *p = c->in + c->in_pos, *end = c->in + c->in_len, *q;
		int ended = 0;
		while (p < end && !ended) {
			if (state != ST_SKIP && csv_raw(c, p) > c->max_record)
				state = csv_overlong(c);
			switch (state) {
			case ST_START:
				if (*p == '"') {
					p++;
					c->fquoted = 1;
					state = ST_QUOTED;
				} else if (*p == delim) {
					p++;
					csv_end_field(c);
				} else if (*p == '\n') {
					p++;
					c->line++;
					lf = ended = 1;
					csv_end_field(c);
				} else {
					state = ST_UNQUOTED;
				}
				break;
			case ST_UNQUOTED:
				for (q = p; q < end && !c->special[*q]; q++)
					;
				if (csv_raw(c, q) > c->max_record) {
					p = q;
					state = csv_overlong(c);
					break;
				}
				csv_append(c, p, (size_t)(q - p));
				p = q;
				if (p == end)
					break;
				if (*p == delim) {
					csv_end_field(c);
					state = ST_START;
				} else if (*p == '\n') {
					c->line++;
					csv_strip_cr(c);
					csv_end_field(c);
					lf = ended = 1;
				} else {
					csv_error(c, c->fno + 1, "quote inside an unquoted field");
				}
				p++;
				break;
			case ST_QUOTED:
				for (q = p; q < end && *q != '"' && *q != '\n'; q++)
					;
				if (csv_raw(c, q) > c->max_record) {
					p = q;
					state = csv_overlong(c);
					break;
				}
				csv_append(c, p, (size_t)(q - p));
				p = q;
				if (p == end)
					break;
				if (*p == '\n') {
					c->line++;
					csv_append(c, p, 1);
				} else {
					state = ST_QUOTE;
				}
				p++;
				break;
			case ST_QUOTE:
				if (*p == '"') {
					csv_append(c, p, 1);
					state = ST_QUOTED;
				} else if (*p == delim) {
					csv_end_field(c);
					state = ST_START;
				} else if (*p == '\n') {
					c->line++;
					csv_end_field(c);
					lf = ended = 1;
				} else if (*p == '\r') {
					state = ST_QUOTE_CR;
				} else {
					csv_error(c, c->fno + 1, "text after the closing quote");
					state = ST_UNQUOTED;
					break; /* the byte is read again as unquoted content */
				}
				p++;
				break;
			case ST_QUOTE_CR:
				if (*p == '\n') {
					p++;
					c->line++;
					csv_end_field(c);
					lf = ended = 1;
				} else {
					csv_error(c, c->fno + 1, "text after the closing quote");
					state = ST_UNQUOTED;
				}
				break;
			case ST_SKIP:
				q = memchr(p, '\n', (size_t)(end - p));
				if (!q) {
					p = end;
					break;
				}
				p = q + 1;
				c->line++;
				lf = ended = 1;
				break;
			}
		}
		c->in_pos = (size_t)(p - c->in);
		if (ended)
			goto out;
	}

	/* End of input inside or before a record. */
	switch (state) {
	case ST_START:
		if (c->fno == 0 && csv_raw(c, c->in + c->in_pos) == 0)
			return REC_END;
		csv_end_field(c);
		break;
	case ST_UNQUOTED:
		csv_strip_cr(c);
		csv_end_field(c);
		break;
	case ST_QUOTED:
		c->bad = 0;
		csv_error(c, c->fno + 1, "quoted field not closed before the end of the file");
		return REC_FATAL;
	case ST_QUOTE:
	case ST_QUOTE_CR: csv_end_field(c); break;
	case ST_SKIP: break;
	}

out:
	if (csv_raw(c, c->in + c->in_pos) - (size_t)lf > c->max_record)
		csv_overlong(c);
	if (c->bad)
		return REC_BAD;
	if (c->nfields == 1 && c->fields[0].len == 0 && !c->first_quoted)
		return REC_EMPTY;
	return REC_OK;
}

int csv_next(struct csv *c, struct csv_record *rec, char *err, size_t errsz)
{
	int r;
	long line;

	rec->fields = NULL;
	rec->n = 0;
	rec->line = 0;
	if (err && errsz)
		err[0] = '\0';
	if (c->finished) {
		if (!c->fatal)
			return 0;
		if (err && errsz)
			snprintf(err, errsz, "reading stopped after an earlier fatal error");
		return -2;
	}

	do {
		line = c->line;
		r = csv_parse(c);
	} while (r == REC_EMPTY);

	if (r == REC_END) {
		c->finished = 1;
		return 0;
	}
	if (r == REC_OK) {
		size_t off = 0;
		for (size_t i = 0; i < c->nfields; i++) {
			c->fields[i].s = c->rec + off;
			off += c->fields[i].len + 1;
		}
		rec->fields = c->fields;
		rec->n = c->nfields;
		rec->line = line;
		return 1;
	}

	rec->line = line;
	if (r == REC_FATAL)
		c->finished = c->fatal = 1;
	if (err && errsz) {
		if (r == REC_FATAL && c->read_errno)
			snprintf(err, errsz, "%s", c->emsg);
		else if (c->efield)
			snprintf(err, errsz, "line %ld, field %zu: %s", line, c->efield, c->emsg);
		else
			snprintf(err, errsz, "line %ld: %s", line, c->emsg);
	}
	return r == REC_FATAL ? -2 : -1;
}

/* ---------------------------------------------------------------- writing */

void csv_put_field(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	if (s && *s && strchr("=+-@", *s))
		buf_putc(out, '\'');
	for (; s && *s; s++) {
		if (*s == '"')
			buf_putc(out, '"');
		buf_putc(out, *s);
	}
	buf_putc(out, '"');
}
