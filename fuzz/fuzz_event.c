/*
 * libFuzzer harness for the outside input of events (src/core/event.c): the public
 * registration form of /p/events/{id} and the chat-import JSON of a virtual session. An
 * input that starts with '{' or '[' is a chat-import body, parsed as the HTTP API parses one
 * and given to event_chat_import(); anything else is a form body, read into JSON as
 * page_event.c reads it (form_value() per field) and given to event_public_register(). The
 * data directory is made once, in /tmp, with espoo-talent-hub, one virtual event with a
 * public page and a session, and one registered participant (aino@example.fi, person 1),
 * and is never reset. Beyond "no crash, no leak", bad input gives a client error, never an
 * internal one, with a message in valid UTF-8; a chat import's counts add up to at most the
 * messages given.
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
#include "core/event.h"
#include "core/register.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/form.h"
#include "util/kerr.h"
#include "util/validate.h"

#define HARNESS "fuzz_event"
#include "fuzz_datadir.h"

#define ESPOO "espoo-talent-hub"

static int64_t event_id, session_id;

/* The event (the clock is at 2026-01-01T00:00:00Z): under way, virtual, with a session that
 * is over and a public page that adds new participants as individuals. */
static const char event_body[] =
        "{\"title\": \"Talent Boost\", \"format\": \"virtual\","
        " \"url\": \"https://meet.example.fi/talent\","
        " \"starts_at\": \"2025-12-31T08:00:00Z\", \"ends_at\": \"2026-12-31T16:00:00Z\","
        " \"co_organiser\": \"partners\","
        " \"sessions\": [{\"title\": \"Avaus\", \"starts_at\": \"2025-12-31T08:00:00Z\","
        " \"ends_at\": \"2025-12-31T09:00:00Z\"}],"
        " \"registration\": {\"group\": \"individual\", \"source\": \"city_event_registrations\","
        " \"newsletter\": {\"purpose\": \"newsletters\", \"text\": \"Uutiskirje\","
        " \"text_version\": \"1\"}}}";

static void fresh(void)
{
	arena_reset(&fz.mem);
	kerr_clear(&fz.err);
}

/* The posted form as the JSON core takes, as page_event.c's form_json() builds it; NULL
 * when a value is malformed (the page answers 400 then). */
static json_t *form_json(const char *body, size_t len)
{
	static const struct {
		const char *name;
		size_t max;
	} texts[] = {
	        {"first_name", 100}, {"last_name", 100}, {"email", 254}, {"organisation", 200}};
	json_t *in = json_object(), *consents = json_object();
	json_object_set_new(in, "consents", consents);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v = form_value(&fz.mem, body, len, texts[i].name, texts[i].max);
		if (!v && memmem(body, len, texts[i].name, strlen(texts[i].name))) {
			json_decref(in);
			return NULL;
		}
		if (v && *v)
			json_object_set_new(in, texts[i].name, json_string(v));
	}
	for (size_t i = 0; event_consent_flags[i]; i++) {
		const char *v = form_value(&fz.mem, body, len, event_consent_flags[i], 8);
		json_object_set_new(consents, event_consent_flags[i],
		                    json_boolean(v && strcmp(v, "yes") == 0));
	}
	return in;
}

static void check_error(int rc)
{
	require(rc != KERR_INTERNAL && rc != KERR_BUSY, "an internal error on outside input");
	if (rc)
		require(fz.err.message[0] && utf8_valid(fz.err.message, strlen(fz.err.message)),
		        "an error without a valid message");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	fz_add_register(ESPOO);
	json_error_t jerr;
	json_t *in = json_loads(event_body, 0, &jerr), *ev = NULL;
	fresh();
	if (!in || event_create(&fz.ctx, ESPOO, in, &event_id))
		die("event_create");
	json_decref(in);
	fresh();
	if (event_get(&fz.ctx, ESPOO, event_id, 0, &ev))
		die("event_get");
	session_id = json_integer_value(
	        json_object_get(json_array_get(json_object_get(ev, "sessions"), 0), "id"));
	json_decref(ev);
	in = json_loads("{\"first_name\": \"Aino\", \"last_name\": \"Testi\","
	                " \"email\": \"aino@example.fi\", \"consents\": {}}",
	                0, &jerr);
	enum event_pub_outcome oc = EVENT_PUB__MAX;
	fresh();
	if (!in || event_public_register(&fz.ctx, event_id, in, &oc) || oc != EVENT_PUB_REGISTERED)
		die("event_public_register");
	json_decref(in);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	fresh();
	if (size && (data[0] == '{' || data[0] == '[')) {
		json_error_t jerr;
		json_t *in = json_loadb(body, size, JSON_REJECT_DUPLICATES, &jerr), *out = NULL;
		if (!in || !json_is_object(in)) {
			json_decref(in);
			return 0; /* the API answers 400 before core sees it */
		}
		size_t n = json_array_size(json_object_get(in, "messages"));
		int rc = event_chat_import(&fz.ctx, ESPOO, event_id, session_id, in, &out);
		check_error(rc);
		if (!rc) {
			json_int_t sum = 0;
			const char *const counts[] = {"stored", "unmatched", "withheld",
			                              "duplicates"};
			for (size_t i = 0; i < 4; i++) {
				json_t *c = json_object_get(out, counts[i]);
				require(json_is_integer(c) && json_integer_value(c) >= 0,
				        "a count is missing");
				sum += json_integer_value(c);
			}
			require(sum <= (json_int_t)n, "more messages counted than given");
		} else {
			require(!out, "an output on error");
		}
		json_decref(out);
		json_decref(in);
		return 0;
	}
	json_t *in = form_json(body, size);
	if (!in)
		return 0;
	enum event_pub_outcome oc = EVENT_PUB__MAX;
	int rc = event_public_register(&fz.ctx, event_id, in, &oc);
	check_error(rc);
	if (!rc)
		require(oc < EVENT_PUB__MAX, "no outcome");
	json_decref(in);
	return 0;
}
