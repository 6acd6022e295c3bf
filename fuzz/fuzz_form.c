/*
 * libFuzzer harness for the form-body reader (util/form.h). The input is a body; a few names
 * are looked up in it, for one value and for every value (form_values), and every value
 * returned must keep the contract: no longer than the maximum, no control characters, valid
 * UTF-8, NUL-terminated, and no longer than the body; the first of form_values is form_value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/form.h"
#include "util/validate.h"

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "fuzz_form: check failed: %s (line %d)\n", #x, __LINE__);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"email", "first_name", "consent", "", "a"};
	struct arena a;
	arena_init(&a);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t max = i * 7 + 3;
		const char *v = form_value(&a, (const char *)data, size, names[i], max);
		if (!v)
			continue;
		size_t n = strlen(v);
		CHECK(n <= max && n <= size);
		CHECK(utf8_valid(v, n));
		for (size_t k = 0; k < n; k++)
			CHECK((unsigned char)v[k] >= 0x20 && v[k] != 0x7f);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t max = i * 5 + 2, n = 0;
		const char **v = form_values(&a, (const char *)data, size, names[i], max, &n);
		CHECK(n <= size);
		CHECK((n == 0) == (v == NULL));
		/* the first of them is the one form_value gives */
		const char *first = form_value(&a, (const char *)data, size, names[i], max);
		CHECK(n ? (first ? v[0] && !strcmp(first, v[0]) : !v[0]) : !first);
		for (size_t j = 0; j < n; j++) {
			size_t len = v[j] ? strlen(v[j]) : 0;
			CHECK(len <= max && len <= size);
			CHECK(!v[j] || utf8_valid(v[j], len));
			for (size_t k = 0; k < len; k++)
				CHECK((unsigned char)v[j][k] >= 0x20 && v[j][k] != 0x7f);
		}
	}
	arena_free(&a);
	return 0;
}
