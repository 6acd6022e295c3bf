/*
 * Bump allocator for request-lifetime memory. Allocation is a pointer increment inside the
 * current block; when a block is full a new one, twice the size, is pushed on a list. Reset
 * keeps the newest block so a worker's next request usually allocates nothing from malloc.
 */
#include "util/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

#define ARENA_MIN_BLOCK 4096u
#define ARENA_MAX_BLOCK (1u << 20)

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a)
{
	a->head = NULL;
	a->next_size = ARENA_MIN_BLOCK;
}

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct arena_block *b = a->head;

	if (n > SIZE_MAX / 2)
		xmalloc(SIZE_MAX); /* aborts with the out-of-memory message */
	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	if (!b || b->size - b->used < n) {
		size_t size = a->next_size;
		while (size < n)
			size *= 2;
		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		if (a->next_size < ARENA_MAX_BLOCK)
			a->next_size *= 2;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		xmalloc(SIZE_MAX);
	void *p = arena_alloc(a, n * size);
	memset(p, 0, n * size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	if ((size_t)n < sizeof(small))
		return arena_strndup(a, small, (size_t)n);
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_block *b = a->head;
	if (!b)
		return;
	struct arena_block *rest = b->next;
	b->next = NULL;
	b->used = 0;
	while (rest) {
		struct arena_block *next = rest->next;
		free(rest);
		rest = next;
	}
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->next_size = ARENA_MIN_BLOCK;
}
