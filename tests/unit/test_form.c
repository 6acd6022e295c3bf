/*
 * Unit tests for src/util/form.c: values of application/x-www-form-urlencoded bodies, the
 * public subscribe form's input (M-03). One small test per behaviour, the refusals too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
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

/* Every value of a repeated field (checkboxes), in order; a bad one is NULL in its place. */
static void test_values(void **state)
{
	struct arena a;
	size_t n = 99;
	(void)state;
	arena_init(&a);
	const char *b = "channel=sms&type=x&channel=post&channels=email&channel=%zz&channel=";
	const char **v = form_values(&a, b, strlen(b), "channel", 10, &n);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "sms");
	assert_string_equal(v[1], "post");
	assert_null(v[2]);
	assert_string_equal(v[3], "");
	assert_null(form_values(&a, b, strlen(b), "purpose", 10, &n));
	assert_int_equal(n, 0);
	assert_null(form_values(&a, NULL, 0, "channel", 10, &n));
	assert_int_equal(n, 0);
	/* more than the first array holds */
	char many[400];
	size_t len = 0;
	for (int i = 0; i < 20; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, "%sp=ab", i ? "&" : "");
	v = form_values(&a, many, strlen(many), "p", 10, &n);
	assert_int_equal(n, 20);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i], "ab");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_decodes),
	        cmocka_unit_test(test_refuses),
	        cmocka_unit_test(test_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
