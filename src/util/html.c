/*
 * HTML escaping. Both writers escape the same five characters when writing attributes, so an
 * attribute is safe in either kind of quotes; element content keeps quotes as they are.
 */
#include "util/html.h"

#include <stdbool.h>

static void html_escape(struct buf *b, const char *s, bool attr)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, attr ? "&quot;" : "\""); break;
		case '\'': buf_puts(b, attr ? "&#39;" : "'"); break;
		default: buf_putc(b, *s);
		}
	}
}

void html_text(struct buf *b, const char *s)
{
	html_escape(b, s, false);
}

void html_attr(struct buf *b, const char *s)
{
	html_escape(b, s, true);
}
