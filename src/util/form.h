/*
 * Reading an application/x-www-form-urlencoded body (the public subscribe form): one value by
 * name, decoded ('+' is a space, %XX a byte) and checked to be UTF-8 text without control
 * characters. Bounded by the body and by the caller's maximum; never allocates more than the
 * encoded value's length plus one.
 */
#ifndef KORTISTO_FORM_H
#define KORTISTO_FORM_H

#include <stddef.h>

struct arena;

/* The decoded value of the first `name=` in the `len` bytes at `body`, NUL-terminated in `a`'s
 * memory; NULL when there is none, when a %-escape is malformed, or when the value is longer
 * than `max` bytes, not UTF-8, or holds a control character (a tab or line break too). */
const char *form_value(struct arena *a, const char *body, size_t len, const char *name, size_t max);

#endif
