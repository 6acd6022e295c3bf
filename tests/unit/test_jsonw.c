/*
 * JSON writer tests: every output parses back with jansson to the same values, strings are
 * escaped (quotes, backslashes, control characters), and commas follow nesting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "util/jsonw.h"

static json_t *parse(const struct buf *b)
{
	json_error_t e;
	json_t *j = json_loadb(b->p, b->len, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %s", e.text, buf_str(b));
	return j;
}

static void nested_members_and_commas(void **state)
{
	struct buf b = BUF_INIT;
	struct jsonw w;
	(void)state;
	jw_init(&w, &b);
	jw_object(&w);
	jw_kint(&w, "id", 42);
	jw_kstring(&w, "name", "Hämäläinen");
	jw_kstring(&w, "none", NULL);
	jw_key(&w, "list");
	jw_array(&w);
	for (int i = 0; i < 3; i++) {
		jw_object(&w);
		jw_kint(&w, "i", i);
		jw_key(&w, "ok");
		jw_bool(&w, i % 2 == 0);
		jw_end_object(&w);
	}
	jw_end_array(&w);
	jw_key(&w, "empty");
	jw_array(&w);
	jw_end_array(&w);
	jw_key(&w, "raw");
	jw_raw(&w, "{\"a\":[1,2]}", 11);
	jw_key(&w, "n");
	jw_null(&w);
	jw_end_object(&w);

	json_t *j = parse(&b);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "Hämäläinen");
	assert_true(json_is_null(json_object_get(j, "none")));
	assert_int_equal(json_array_size(json_object_get(j, "list")), 3);
	assert_true(
	        json_is_true(json_object_get(json_array_get(json_object_get(j, "list"), 2), "ok")));
	assert_int_equal(json_array_size(json_object_get(j, "empty")), 0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "raw"), "a")), 2);
	assert_true(json_is_null(json_object_get(j, "n")));
	json_decref(j);
	buf_free(&b);
}

static void strings_are_escaped(void **state)
{
	static const char nasty[] =
	        "quote \" backslash \\ newline \n tab \t bell \a nul-free \x1f end";
	struct buf b = BUF_INIT;
	struct jsonw w;
	(void)state;
	jw_init(&w, &b);
	jw_array(&w);
	jw_string(&w, nasty);
	jw_string(&w, "</script><b>");
	jw_end_array(&w);
	assert_null(memchr(b.p, '\n', b.len));
	json_t *j = parse(&b);
	assert_string_equal(json_string_value(json_array_get(j, 0)), nasty);
	assert_string_equal(json_string_value(json_array_get(j, 1)), "</script><b>");
	json_decref(j);
	buf_free(&b);
}

static void appends_to_existing_content(void **state)
{
	struct buf b = BUF_INIT;
	struct jsonw w;
	(void)state;
	buf_puts(&b, "prefix:");
	jw_init(&w, &b);
	jw_object(&w);
	jw_kint(&w, "x", -7);
	jw_end_object(&w);
	assert_string_equal(buf_str(&b), "prefix:{\"x\":-7}");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(nested_members_and_commas),
	        cmocka_unit_test(strings_are_escaped),
	        cmocka_unit_test(appends_to_existing_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
