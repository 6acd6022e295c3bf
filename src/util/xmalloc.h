/*
 * Allocation that cannot fail. kortisto treats running out of memory as fatal: the process
 * prints one line and aborts, here and nowhere else, so callers never test for NULL.
 */
#ifndef KORTISTO_XMALLOC_H
#define KORTISTO_XMALLOC_H

#include <stddef.h>

/* Each returns memory the caller owns and frees with free(); none returns NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
