/*
 * application/x-www-form-urlencoded values (util/form.h). A value is decoded into a buffer
 * as long as its encoded form, which is always enough, so no length is ever guessed.
 */
#include "util/form.h"

#include <string.h>

#include "util/arena.h"
#include "util/validate.h"

static int hex(char h)
{
	return h >= '0' && h <= '9'   ? h - '0'
	       : h >= 'a' && h <= 'f' ? h - 'a' + 10
	       : h >= 'A' && h <= 'F' ? h - 'A' + 10
	                              : -1;
}

/* The value between `v` and `e` decoded into `a`'s memory, or NULL as form_value says. */
static const char *decode(struct arena *a, const char *v, const char *e, size_t max)
{
	char *out = arena_alloc(a, (size_t)(e - v) + 1);
	size_t n = 0;
	for (const char *s = v; s < e; s++) {
		int c = (unsigned char)*s;
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = s + 1 < e ? hex(s[1]) : -1, lo = s + 2 < e ? hex(s[2]) : -1;
			if (hi < 0 || lo < 0)
				return NULL;
			c = hi * 16 + lo;
			s += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return NULL;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n <= max && utf8_valid(out, n) ? out : NULL;
}

/* The next field `name` at or after `*p` (up to `end`): returns its value's start and sets
 * *ve to its end and *p past the field; NULL when there is none. */
static const char *next_field(const char **p, const char *end, const char *name, const char **ve)
{
	size_t nl = strlen(name);
	while (*p && *p < end) {
		const char *amp = memchr(*p, '&', (size_t)(end - *p));
		const char *e = amp ? amp : end;
		const char *eq = memchr(*p, '=', (size_t)(e - *p));
		const char *start = *p;
		*p = amp ? amp + 1 : end;
		if (eq && (size_t)(eq - start) == nl && memcmp(start, name, nl) == 0) {
			*ve = e;
			return eq + 1;
		}
	}
	return NULL;
}

const char *form_value(struct arena *a, const char *body, size_t len, const char *name, size_t max)
{
	const char *p = body, *ve, *v = next_field(&p, body ? body + len : NULL, name, &ve);
	return v ? decode(a, v, ve, max) : NULL;
}

const char **form_values(struct arena *a, const char *body, size_t len, const char *name,
                         size_t max, size_t *n)
{
	const char *p = body, *end = body ? body + len : NULL, *ve, *v;
	const char **out = NULL;
	size_t cap = 0;
	*n = 0;
	while ((v = next_field(&p, end, name, &ve))) {
		if (*n == cap) {
			/* The old array stays in the arena; only the new one is used. */
			const char **grown = arena_alloc(a, (cap ? cap * 2 : 8) * sizeof(*grown));
			if (*n)
				memcpy(grown, out, *n * sizeof(*grown));
			out = grown;
			cap = cap ? cap * 2 : 8;
		}
		out[(*n)++] = decode(a, v, ve, max);
	}
	return out;
}
