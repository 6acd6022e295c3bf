/*
 * Reading an application/x-www-form-urlencoded body (the public subscribe form, the
 * self-service choices): one value, or every value of a repeated field, by name, decoded
 * ('+' is a space, %XX a byte) and checked to be UTF-8 text without control characters.
 * Bounded by the body and by the caller's maximum; never allocates more for a value than its
 * encoded length plus one.
 */
#ifndef KORTISTO_FORM_H
#define KORTISTO_FORM_H

#include <stddef.h>

struct arena;

/* The decoded value of the first `name=` in the `len` bytes at `body`, NUL-terminated in `a`'s
 * memory; NULL when there is none, when a %-escape is malformed, or when the value is longer
 * than `max` bytes, not UTF-8, or holds a control character (a tab or line break too). */
const char *form_value(struct arena *a, const char *body, size_t len, const char *name, size_t max);

/* Every value of field `name` (a group of checkboxes) in the order of the body, each decoded
 * and checked as form_value() does: an array of *n values in `a`'s memory (NULL when *n is
 * 0), a value form_value() would refuse being NULL in it. */
const char **form_values(struct arena *a, const char *body, size_t len, const char *name,
                         size_t max, size_t *n);

#endif
