/*
 * libFuzzer harness for the survey definition reader of src/core/survey.c: YAML text from a
 * file or the API becomes a JSON value and a map from member paths to lines. Beyond "does not
 * crash", every path of the line map must be found again by survey_error_line(), and a
 * parse either gives both values or an error message and neither.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/survey.h"
#include "util/kerr.h"

static void require(bool cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kerr err;
	json_t *def = NULL, *lines = NULL;
	const char *k;
	json_t *v;

	kerr_clear(&err);
	int rc = survey_parse_yaml((const char *)data, size, &def, &lines, &err);
	if (rc) {
		require(!def && !lines && err.message[0]);
		return 0;
	}
	require(def && lines);
	json_object_foreach (lines, k, v)
		require(survey_error_line(lines, k) == (int)json_integer_value(v));
	json_decref(def);
	json_decref(lines);
	return 0;
}
