/*
 * Escaping writers for HTML. Text reaches a page only through html_text() or html_attr();
 * there is no other way to put a string into HTML, in the server or in a generated notice.
 */
#ifndef KORTISTO_HTML_H
#define KORTISTO_HTML_H

#include "util/buf.h"

/* Appends `s` (NULL: nothing) to `b` as element content: & < > escaped. */
void html_text(struct buf *b, const char *s);

/* Appends `s` (NULL: nothing) to `b` for a double- or single-quoted attribute value. */
void html_attr(struct buf *b, const char *s);

#endif
