/*
 * libFuzzer harness for the person service (src/core/person.c and the field validators it
 * calls). Each input is a JSON request body, parsed as the HTTP API parses one, and handed to
 * person_create(); when that succeeds, the same body is applied again as a merge patch with
 * person_update(). The data directory is made once, in /tmp, with rauma-crm loaded, and is
 * never reset (it is removed when the run ends): persons pile up so duplicates and conflicts
 * are reached. Beyond "no crash, no leak", the harness checks the contract: bad input gives a
 * client error, never an internal one, and an error never echoes a henkilötunnus given as a
 * field value; a created person can be read back, shows the code masked, and re-applying its
 * own body succeeds.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "core/register.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/validate.h"

#define HARNESS "fuzz_person"
#include "fuzz_datadir.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

/* A client error: what bad input may cause. */
static bool client_error(int rc)
{
	return rc == KERR_INVALID || rc == KERR_REFUSED || rc == KERR_CONFLICT;
}

/* Whether `s` occurs in what an error may echo by design: a key (the path of a field) or the
 * subject group or source named (declaration ids, not personal data). */
static bool echoable(json_t *body, const char *s)
{
	const char *key;
	json_t *x;
	json_t *attrs = json_object_get(body, "attributes");
	const char *g = json_string_value(json_object_get(body, "subject_group"));
	const char *src = json_string_value(json_object_get(body, "source"));
	if ((g && strstr(g, s)) || (src && strstr(src, s)))
		return true;
	json_object_foreach (body, key, x) {
		if (strstr(key, s))
			return true;
	}
	if (json_is_object(attrs)) {
		json_object_foreach (attrs, key, x) {
			if (strstr(key, s))
				return true;
		}
	}
	return false;
}

/* Requires that no henkilötunnus given as a field value (top level or in "attributes")
 * appears in the recorded error: field errors never echo values. */
static void check_no_hetu_echo(json_t *body, json_t *v, int depth)
{
	const char *key;
	json_t *x;
	struct hetu h;
	if (json_is_string(v) && hetu_parse(json_string_value(v), &h, NULL)) {
		if (!echoable(body, h.norm))
			require(strstr(fz.err.message, h.norm) == NULL &&
			                strstr(fz.err.field, h.norm) == NULL,
			        "an error echoes a henkilötunnus given as a value");
		return;
	}
	if (!json_is_object(v) || depth > 1)
		return;
	json_object_foreach (v, key, x) {
		if (depth == 0 && (strcmp(key, "subject_group") == 0 || strcmp(key, "source") == 0))
			continue;
		if (depth == 0 || json_is_string(x))
			check_no_hetu_echo(body, x, depth + 1);
	}
}

/* Checks the state the core leaves after a call that returned `rc`. */
static void check_result(int rc, json_t *body)
{
	require(rc == 0 || client_error(rc), "bad input caused a non-client error");
	require(rc == 0 || fz.err.code == rc, "the error returned is not the error recorded");
	require(memchr(fz.err.message, '\0', sizeof(fz.err.message)) != NULL &&
	                memchr(fz.err.field, '\0', sizeof(fz.err.field)) != NULL,
	        "unterminated error text");
	if (rc != 0 && json_is_object(body))
		check_no_hetu_echo(body, body, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	/* As the HTTP API parses a body, but also accepting \u0000 so the NUL checks run. */
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	                          &jerr);
	if (!body)
		return 0;

	arena_reset(&fz.mem);
	kerr_clear(&fz.err);
	int64_t id = 0;
	int rc = person_create(&fz.ctx, RID, body, &id);
	check_result(rc, body);

	if (rc == 0) {
		require(id > 0, "person_create succeeded without an id");
		json_t *p = NULL;
		arena_reset(&fz.mem);
		kerr_clear(&fz.err);
		require(person_get(&fz.ctx, RID, id, 0, &p) == 0 && p, "created person not found");
		const char *hetu = json_string_value(json_object_get(p, "hetu"));
		require(!hetu || (strlen(hetu) == 11 && strcmp(hetu + 7, "****") == 0),
		        "henkilötunnus not masked");
		json_decref(p);

		arena_reset(&fz.mem);
		kerr_clear(&fz.err);
		rc = person_update(&fz.ctx, RID, id, body);
		check_result(rc, body);
		require(rc == 0, "re-applying the body that created a person failed");
	}
	json_decref(body);
	return 0;
}
