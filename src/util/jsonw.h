/*
 * A streaming JSON writer into a struct buf: the fast path for responses that are read far
 * more often than built (a person's record). Strings are always escaped; commas and nesting
 * are tracked here, so a caller cannot produce malformed JSON by forgetting one.
 */
#ifndef KORTISTO_JSONW_H
#define KORTISTO_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define JSONW_DEPTH 16

struct jsonw {
	struct buf *b;
	int depth;
	bool first[JSONW_DEPTH]; /* no member written yet at this depth */
};

/* Starts writing into `b` (appending to what it holds). */
void jw_init(struct jsonw *w, struct buf *b);

void jw_object(struct jsonw *w); /* { */
void jw_array(struct jsonw *w);  /* [ */
void jw_end_object(struct jsonw *w);
void jw_end_array(struct jsonw *w);

/* Writes a member name inside an object; the value follows with one of the calls below. */
void jw_key(struct jsonw *w, const char *key);

void jw_string(struct jsonw *w, const char *s); /* NULL writes null */
void jw_int(struct jsonw *w, int64_t v);
void jw_bool(struct jsonw *w, bool v);
void jw_null(struct jsonw *w);

/* Writes `json`, which must already be valid JSON (e.g. a value kortisto stored itself). */
void jw_raw(struct jsonw *w, const char *json, size_t len);

/* Shorthands for "key": value. */
void jw_kstring(struct jsonw *w, const char *key, const char *s);
void jw_kint(struct jsonw *w, const char *key, int64_t v);

#endif
