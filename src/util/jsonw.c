/*
 * Streaming JSON writer. Escaping follows RFC 8259: quote, backslash and control characters
 * are escaped, everything else (UTF-8 included) is copied as is; input is trusted to be
 * valid UTF-8 because every string kortisto stores was validated on the way in.
 */
#include "util/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void jw_init(struct jsonw *w, struct buf *b)
{
	w->b = b;
	w->depth = 0;
	w->first[0] = true;
}

/* Writes the comma before a value, unless it follows a key or opens a container. */
static void sep(struct jsonw *w)
{
	if (!w->first[w->depth])
		buf_putc(w->b, ',');
	w->first[w->depth] = false;
}

static void begin(struct jsonw *w, char c)
{
	sep(w);
	buf_putc(w->b, c);
	if (w->depth < JSONW_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void finish(struct jsonw *w, char c)
{
	buf_putc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_object(struct jsonw *w)
{
	begin(w, '{');
}

void jw_array(struct jsonw *w)
{
	begin(w, '[');
}

void jw_end_object(struct jsonw *w)
{
	finish(w, '}');
}

void jw_end_array(struct jsonw *w)
{
	finish(w, ']');
}

static void escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default: {
			char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
			buf_puts(b, u);
		}
		}
	}
	buf_append(b, run, (size_t)(s - run));
	buf_putc(b, '"');
}

void jw_key(struct jsonw *w, const char *key)
{
	sep(w);
	escaped(w->b, key);
	buf_putc(w->b, ':');
	/* The value that follows takes no comma of its own. */
	w->first[w->depth] = true;
}

/* After a value inside an object, the next key needs a comma again. */
static void after_value(struct jsonw *w)
{
	w->first[w->depth] = false;
}

void jw_string(struct jsonw *w, const char *s)
{
	sep(w);
	if (s)
		escaped(w->b, s);
	else
		buf_puts(w->b, "null");
	after_value(w);
}

void jw_int(struct jsonw *w, int64_t v)
{
	sep(w);
	buf_appendf(w->b, "%" PRId64, v);
	after_value(w);
}

void jw_bool(struct jsonw *w, bool v)
{
	sep(w);
	buf_puts(w->b, v ? "true" : "false");
	after_value(w);
}

void jw_null(struct jsonw *w)
{
	sep(w);
	buf_puts(w->b, "null");
	after_value(w);
}

void jw_raw(struct jsonw *w, const char *json, size_t len)
{
	sep(w);
	buf_append(w->b, json, len);
	after_value(w);
}

void jw_kstring(struct jsonw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_string(w, s);
}

void jw_kint(struct jsonw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_int(w, v);
}
