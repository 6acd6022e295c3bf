/*
 * Length-tracked growable byte buffer, always NUL terminated after its content. Functions
 * that grow it may move `p`: a pointer into the buffer taken before a call that appends is
 * invalid after it.
 */
#ifndef KORTISTO_BUF_H
#define KORTISTO_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *p; /* NULL until the first append; heap, owned by the buf */
	size_t len, cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vappendf(struct buf *b, const char *fmt, va_list ap);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Returns the content as a C string ("" when empty); owned by the buf. */
const char *buf_str(const struct buf *b);

/* Frees the memory; the buf is empty and reusable afterwards. */
void buf_free(struct buf *b);

#endif
