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

const char *form_value(struct arena *a, const char *body, size_t len, const char *name, size_t max)
{
	const char *p = body, *end = body ? body + len : NULL;
	size_t nl = strlen(name);
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (!eq || (size_t)(eq - p) != nl || memcmp(p, name, nl) != 0) {
			p = amp ? amp + 1 : end;
			continue;
		}
		char *out = arena_alloc(a, (size_t)(e - eq));
		size_t n = 0;
		for (const char *s = eq + 1; s < e; s++) {
			int c = (unsigned char)*s;
			if (c == '+') {
				c = ' ';
			} else if (c == '%') {
				int hi = s + 1 < e ? hex(s[1]) : -1,
				    lo = s + 2 < e ? hex(s[2]) : -1;
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
	return NULL;
}
