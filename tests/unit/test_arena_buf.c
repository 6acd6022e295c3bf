/*
 * Unit tests for src/util/arena.c and src/util/buf.c. The arena tests check the contract every
 * request relies on: each allocation is aligned for any type, never overlaps another, and
 * survives reset and free; the buf tests check that growth across the doubling boundaries
 * keeps the content and the terminating NUL intact. Expected strings are built independently
 * of the code under test (memset, snprintf) so a copy bug cannot hide in both.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/kerr.h"
#include "util/validate.h"

#define ALIGN_MAX alignof(max_align_t)

static void assert_aligned(const void *p)
{
	assert_non_null(p);
	if ((uintptr_t)p % ALIGN_MAX != 0)
		fail_msg("pointer %p is not aligned to %zu", p, (size_t)ALIGN_MAX);
}

/* A string of n copies of c, from the heap; the caller frees it. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Arena                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Every allocation, of every size, is aligned for any type and does not overlap the others:
 * each is filled with its own byte pattern and all are checked after the last one. */
static void test_arena_alignment_every_allocation(void **state)
{
	enum { N = 600 };
	struct arena a;
	unsigned char *p[N];
	size_t size[N];
	(void)state;

	arena_init(&a);
	for (int i = 0; i < N; i++) {
		size[i] = (size_t)(i % 7 == 0 ? 0 : (i * 37) % 301 + (i % 3));
		p[i] = arena_alloc(&a, size[i]);
		assert_aligned(p[i]);
		/* A type with the strictest alignment can be stored through the pointer
		 * (UBSan checks the alignment of this access). */
		if (size[i] >= sizeof(long double)) {
			long double *ld = (long double *)(void *)p[i];
			*ld = (long double)i;
			assert_true(*ld == (long double)i);
		}
		memset(p[i], i & 0xff, size[i]);
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < size[i]; k++)
			if (p[i][k] != (unsigned char)(i & 0xff))
				fail_msg("allocation %d (size %zu) was overwritten at byte %zu", i,
				         size[i], k);
	arena_free(&a);
}

/* A zero-byte allocation still returns a distinct, aligned pointer. */
static void test_arena_zero_size(void **state)
{
	struct arena a;
	(void)state;

	arena_init(&a);
	void *x = arena_alloc(&a, 0), *y = arena_alloc(&a, 0);
	assert_aligned(x);
	assert_aligned(y);
	assert_ptr_not_equal(x, y);
	arena_free(&a);
}

/* Allocations larger than any block size get a block of their own and are fully usable;
 * small allocations before and after them keep their contents. */
static void test_arena_large_allocations(void **state)
{
	struct arena a;
	(void)state;

	arena_init(&a);
	char *small1 = arena_strdup(&a, "before");
	size_t sizes[] = {4096,           4097, 65536, (size_t)1 << 20, ((size_t)1 << 20) + 1,
	                  (size_t)5 << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *big = arena_alloc(&a, sizes[i]);
		assert_aligned(big);
		memset(big, 0xa5, sizes[i]);
		assert_int_equal(big[0], 0xa5);
		assert_int_equal(big[sizes[i] - 1], 0xa5);
	}
	char *small2 = arena_strdup(&a, "after");
	assert_aligned(small2);
	assert_string_equal(small1, "before");
	assert_string_equal(small2, "after");
	arena_free(&a);
}

/* After a reset the arena keeps working: new allocations are aligned and writable, the kept
 * block is reused (the same address comes back), and reset on an empty arena is harmless. */
static void test_arena_reset_keeps_working(void **state)
{
	struct arena a;
	(void)state;

	arena_init(&a);
	arena_reset(&a); /* nothing allocated yet */
	for (int round = 0; round < 5; round++) {
		/* Enough to span several blocks. */
		for (int i = 0; i < 2000; i++) {
			char *s = arena_printf(&a, "round %d item %d", round, i);
			assert_aligned(s);
			char want[64];
			snprintf(want, sizeof(want), "round %d item %d", round, i);
			assert_string_equal(s, want);
		}
		arena_reset(&a);
		void *first = arena_alloc(&a, 32);
		assert_aligned(first);
		memset(first, 1, 32);
		arena_reset(&a);
		void *again = arena_alloc(&a, 32);
		assert_ptr_equal(first, again);
	}
	arena_free(&a);

	/* A freed arena can be initialised and used again. */
	arena_init(&a);
	assert_string_equal(arena_strdup(&a, "reused"), "reused");
	arena_free(&a);
}

static void test_arena_strdup_strndup(void **state)
{
	struct arena a;
	(void)state;

	arena_init(&a);
	assert_null(arena_strdup(&a, NULL));

	const char *src = "henkilötunnus";
	char *d = arena_strdup(&a, src);
	assert_ptr_not_equal(d, src);
	assert_string_equal(d, src);

	assert_string_equal(arena_strdup(&a, ""), "");
	assert_string_equal(arena_strndup(&a, "abcdef", 3), "abc");
	assert_string_equal(arena_strndup(&a, "abcdef", 0), "");
	assert_string_equal(arena_strndup(&a, "abcdef", 6), "abcdef");

	/* strndup copies exactly n bytes from a buffer that need not be terminated. */
	char unterminated[4] = {'w', 'x', 'y', 'z'};
	char *u = arena_strndup(&a, unterminated, sizeof(unterminated));
	assert_int_equal(strlen(u), 4);
	assert_memory_equal(u, "wxyz", 5);

	/* A copy is independent of its source. */
	char buf[] = "mutable";
	char *c = arena_strdup(&a, buf);
	buf[0] = 'M';
	assert_string_equal(c, "mutable");

	/* A long copy. */
	char *long_src = repeat('q', 100000);
	char *long_copy = arena_strdup(&a, long_src);
	assert_string_equal(long_copy, long_src);
	free(long_src);
	arena_free(&a);
}

/* arena_printf formats short text, text at the 256-byte boundary of its first attempt, and
 * long text, all exactly. */
static void test_arena_printf(void **state)
{
	struct arena a;
	(void)state;

	arena_init(&a);
	assert_string_equal(arena_printf(&a, "%d-%s-%c", 42, "x", 'y'), "42-x-y");
	assert_string_equal(arena_printf(&a, "%s", ""), "");

	size_t lens[] = {254, 255, 256, 257, 511, 4095, 4096, 100000};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *want = repeat('k', lens[i]);
		char *got = arena_printf(&a, "%s", want);
		assert_aligned(got);
		assert_int_equal(strlen(got), lens[i]);
		assert_string_equal(got, want);
		/* With a prefix and suffix, so the arguments are used twice on the long path. */
		char *got2 = arena_printf(&a, "<%s|%d>", want, 7);
		assert_int_equal(strlen(got2), lens[i] + 4);
		assert_int_equal(got2[0], '<');
		assert_memory_equal(got2 + 1, want, lens[i]);
		assert_string_equal(got2 + 1 + lens[i], "|7>");
		free(want);
	}
	arena_free(&a);
}

/* arena_calloc zeroes memory even when it reuses a block that held other data. */
static void test_arena_calloc_zeroes(void **state)
{
	struct arena a;
	(void)state;

	arena_init(&a);
	unsigned char *dirty = arena_alloc(&a, 3000);
	memset(dirty, 0xff, 3000);
	arena_reset(&a);
	unsigned int *z = arena_calloc(&a, 750, sizeof(unsigned int));
	assert_aligned(z);
	assert_ptr_equal((void *)z, (void *)dirty); /* the dirty block was reused */
	for (size_t i = 0; i < 750; i++)
		assert_int_equal(z[i], 0);

	/* Large and zero-sized requests. */
	unsigned char *big = arena_calloc(&a, (size_t)3 << 20, 1);
	for (size_t i = 0; i < ((size_t)3 << 20); i += 4093)
		assert_int_equal(big[i], 0);
	assert_aligned(arena_calloc(&a, 0, 16));
	assert_aligned(arena_calloc(&a, 16, 0));
	arena_free(&a);
}

/* ------------------------------------------------------------------------------------------ */
/* buf                                                                                        */
/* ------------------------------------------------------------------------------------------ */

static void assert_buf(const struct buf *b, const char *want, size_t len)
{
	assert_int_equal(b->len, len);
	assert_true(b->cap > b->len);
	assert_memory_equal(b->p, want, len);
	assert_int_equal(b->p[len], '\0');
	assert_ptr_equal(buf_str(b), b->p);
}

static void test_buf_str_on_empty(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;

	assert_null(b.p);
	assert_string_equal(buf_str(&b), "");
	buf_reset(&b); /* safe before the first append */
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(b.len, 0);
	buf_free(&b);
	buf_free(&b); /* twice is fine too */
	assert_string_equal(buf_str(&b), "");
}

/* Appending keeps every byte, including NUL bytes inside the data, and the terminator. */
static void test_buf_append(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;

	buf_append(&b, "abc", 3);
	assert_buf(&b, "abc", 3);
	buf_append(&b, "", 0);
	assert_buf(&b, "abc", 3);
	buf_append(&b, "d\0e", 3);
	assert_buf(&b, "abcd\0e", 6);
	buf_puts(&b, "fgh");
	assert_buf(&b, "abcd\0efgh", 9);

	/* Many appends across several doublings. */
	buf_reset(&b);
	char want[5000];
	for (size_t i = 0; i < sizeof(want); i++) {
		char c = (char)('a' + i % 26);
		buf_append(&b, &c, 1);
		want[i] = c;
		if (b.len != i + 1 || b.p[b.len] != '\0')
			fail_msg("append %zu: len %zu", i, b.len);
	}
	assert_buf(&b, want, sizeof(want));

	/* An append of a chunk much larger than the capacity. */
	char *big = repeat('Z', 300000);
	buf_append(&b, big, 300000);
	assert_int_equal(b.len, sizeof(want) + 300000);
	assert_memory_equal(b.p, want, sizeof(want));
	assert_memory_equal(b.p + sizeof(want), big, 300000);
	assert_int_equal(b.p[b.len], '\0');
	free(big);
	buf_free(&b);
}

/* buf_appendf gives exactly what snprintf gives, for output of every size around the growth
 * boundaries, appended to buffers already holding text of every length around them too. */
static void test_buf_appendf_growth(void **state)
{
	static const size_t sizes[] = {0,    1,    2,    62,   63,   64,   65,   126,   127,   128,
	                               129,  200,  255,  256,  257,  511,  512,  513,   1000,  1023,
	                               1024, 1025, 4095, 4096, 4097, 8191, 8192, 65536, 100001};
	const size_t n = sizeof(sizes) / sizeof(sizes[0]);
	(void)state;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j += 3) {
			struct buf b = BUF_INIT;
			char *prefix = repeat('p', sizes[j]);
			char *arg = repeat('x', sizes[i]);
			buf_puts(&b, prefix);
			buf_appendf(&b, "[%s]%zu", arg, sizes[i]);

			char tail[32];
			int tn = snprintf(tail, sizeof(tail), "]%zu", sizes[i]);
			size_t want_len = sizes[j] + 1 + sizes[i] + (size_t)tn;
			if (b.len != want_len)
				fail_msg("prefix %zu + output %zu: len %zu, want %zu", sizes[j],
				         sizes[i], b.len, want_len);
			assert_memory_equal(b.p, prefix, sizes[j]);
			assert_int_equal(b.p[sizes[j]], '[');
			assert_memory_equal(b.p + sizes[j] + 1, arg, sizes[i]);
			assert_string_equal(b.p + sizes[j] + 1 + sizes[i], tail);
			assert_true(b.cap > b.len);
			free(prefix);
			free(arg);
			buf_free(&b);
		}
	}

	/* Many small formatted appends build the same text as snprintf does. */
	struct buf b = BUF_INIT;
	char *want = malloc(200000);
	size_t wl = 0;
	assert_non_null(want);
	for (int i = 0; i < 20000; i++) {
		buf_appendf(&b, "%d,", i * 7919);
		wl += (size_t)snprintf(want + wl, 200000 - wl, "%d,", i * 7919);
	}
	assert_buf(&b, want, wl);
	free(want);

	/* An empty format leaves the content alone. */
	size_t before = b.len;
	buf_appendf(&b, "%s", "");
	assert_int_equal(b.len, before);
	buf_free(&b);
}

static void test_buf_putc(void **state)
{
	struct buf b = BUF_INIT;
	char want[3000];
	(void)state;

	for (size_t i = 0; i < sizeof(want); i++) {
		want[i] = (char)(' ' + i % 90);
		buf_putc(&b, want[i]);
	}
	assert_buf(&b, want, sizeof(want));
	/* A NUL character is content too. */
	buf_putc(&b, '\0');
	assert_int_equal(b.len, sizeof(want) + 1);
	assert_int_equal(b.p[sizeof(want)], '\0');
	buf_putc(&b, '!');
	assert_int_equal(b.p[sizeof(want) + 1], '!');
	assert_int_equal(b.p[b.len], '\0');
	buf_free(&b);
}

/* Reset empties the content but keeps the memory, and appending after it starts afresh. */
static void test_buf_reset(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;

	buf_puts(&b, "some longer content that needs a block of its own");
	const char *p = b.p;
	size_t cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_ptr_equal(b.p, p);
	assert_int_equal(b.cap, cap);
	buf_puts(&b, "x=1");
	assert_buf(&b, "x=1", 3);
	assert_ptr_equal(b.p, p); /* the kept memory was used, no reallocation */
	buf_appendf(&b, "&%s=%d", "y", 2);
	assert_buf(&b, "x=1&y=2", 7);
	buf_free(&b);
}

/* After free the buf is empty and can be used again from scratch. */
static void test_buf_free_then_reuse(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;

	buf_puts(&b, "first life");
	buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_string_equal(buf_str(&b), "");

	buf_appendf(&b, "second %s", "life");
	assert_buf(&b, "second life", 11);
	buf_putc(&b, '.');
	assert_buf(&b, "second life.", 12);
	buf_free(&b);
}

/* An error message quoting client text is cut by bytes; it must stay valid UTF-8 (a problem
 * response is JSON), and invalid bytes from the client become '?'. */
static void test_kerr_messages_stay_utf8(void **state)
{
	char long_text[400] = "", field[200] = "";
	(void)state;
	for (int i = 0; i < 126; i++)
		strcat(long_text, "\xc3\xa4"); /* ä */
	for (int i = 0; i < 40; i++)
		strcat(field, "\xc3\xb6"); /* ö */
	for (int shift = 0; shift < 4; shift++) {
		struct kerr e = {0};
		kerr_set(&e, KERR_REFUSED, field + (shift % 2), "%.*sx: '%s' is not declared",
		         shift, "abc", long_text);
		assert_true(utf8_valid(e.message, strlen(e.message)));
		assert_true(utf8_valid(e.field, strlen(e.field)));
		assert_true(strlen(e.message) >= sizeof(e.message) - 4);
	}
	struct kerr e = {0};
	kerr_set(&e, KERR_INVALID, NULL, "q: %s.", "a\xff\xc3-b\xed\xa0\x80");
	assert_string_equal(e.message, "q: a?"
	                               "?-b?"
	                               "??.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_arena_alignment_every_allocation),
	        cmocka_unit_test(test_kerr_messages_stay_utf8),
	        cmocka_unit_test(test_arena_zero_size),
	        cmocka_unit_test(test_arena_large_allocations),
	        cmocka_unit_test(test_arena_reset_keeps_working),
	        cmocka_unit_test(test_arena_strdup_strndup),
	        cmocka_unit_test(test_arena_printf),
	        cmocka_unit_test(test_arena_calloc_zeroes),
	        cmocka_unit_test(test_buf_str_on_empty),
	        cmocka_unit_test(test_buf_append),
	        cmocka_unit_test(test_buf_appendf_growth),
	        cmocka_unit_test(test_buf_putc),
	        cmocka_unit_test(test_buf_reset),
	        cmocka_unit_test(test_buf_free_then_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
