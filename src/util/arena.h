/*
 * Request-lifetime memory. Everything a request (or one CLI command) allocates comes from its
 * arena and is released at once by arena_reset() or arena_free(); nothing from an arena is
 * freed on its own. Blocks grow geometrically; a large request gets a block of its own.
 */
#ifndef KORTISTO_ARENA_H
#define KORTISTO_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t next_size;
};

/* Initialises an empty arena; no memory is taken until the first allocation. */
void arena_init(struct arena *a);

/* Returns n bytes aligned for any type, owned by the arena. Never NULL. */
void *arena_alloc(struct arena *a, size_t n);

/* Zeroed allocation of n elements of size bytes; aborts on overflow. */
void *arena_calloc(struct arena *a, size_t n, size_t size);

/* NUL-terminated copies owned by the arena. arena_strdup(a, NULL) returns NULL. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into arena memory. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Releases every block but the first, which is kept for reuse. */
void arena_reset(struct arena *a);

/* Releases all memory; the arena may be reused after arena_init(). */
void arena_free(struct arena *a);

#endif
