/*
 * Unit tests for src/util/form.c: values of application/x-www-form-urlencoded bodies, the
 * public subscribe form's input (M-03). One small test per behaviour, the refusals too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/arena.h"
#include "util/form.h"

static const char *get(struct arena *a, const char *body, const char *name, size_t max)
{
	return form_value(a, body, strlen(body), name, max);
}

static void test_decodes(void **state)
{
	struct arena a;
	(void)state;
	arena_init(&a);
	const char *b =
	        "email=anna%40example.fi&first_name=Anna+Maria&last_name=%C3%84ij%C3%A4l%C3%A4";
	assert_string_equal(get(&a, b, "email", 100), "anna@example.fi");
	assert_string_equal(get(&a, b, "first_name", 100), "Anna Maria");
	assert_string_equal(get(&a, b, "last_name", 100), "Äijälä");
	assert_null(get(&a, b, "consent", 100));
	assert_null(get(&a, b, "mail", 100)); /* a prefix of another name is not it */
	assert_string_equal(get(&a, "x=1&x=2", "x", 10), "1");
	assert_string_equal(get(&a, "x=&y=2", "x", 10), "");
	arena_free(&a);
}

static void test_refuses(void **state)
{
	struct arena a;
	(void)state;
	arena_init(&a);
	assert_null(get(&a, "x=%zz", "x", 10));         /* not hex */
	assert_null(get(&a, "x=%4", "x", 10));          /* cut short */
	assert_null(get(&a, "x=a%0Ab", "x", 10));       /* a line break */
	assert_null(get(&a, "x=%00", "x", 10));         /* NUL */
	assert_null(get(&a, "x=%C3", "x", 10));         /* not UTF-8 */
	assert_null(get(&a, "x=abcdefghijk", "x", 10)); /* longer than max */
	assert_non_null(get(&a, "x=abcdefghij", "x", 10));
	assert_null(form_value(&a, NULL, 0, "x", 10));
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_decodes),
	        cmocka_unit_test(test_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
