/*
 * `kortisto event`: events (E-01, E-06) from the command line, for the operator on the
 * server — create them, add sessions, record and cancel registrations, attendance and meetings, import
 * a virtual session's chat, share the registrations with the co-organiser, print the event
 * as iCalendar. Each verb is one core call; bodies are KEY=VALUE and KEY:=JSON arguments, the
 * members the API takes, or a JSON file given with --file (members on the command line then
 * override the file's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/event.h"
#include "util/buf.h"

static const char event_usage[] =
        "usage: kortisto event new --register RID [--file FILE.json] title=TITLE\n"
        "                          format=physical|virtual starts_at=TIME ends_at=TIME\n"
        "                          [place=PLACE] [url=URL] [co_organiser=RECIPIENT]\n"
        "                          [sessions:=JSON] [registration:=JSON]\n"
        "       kortisto event list --register RID [--from YYYY-MM-DD]\n"
        "       kortisto event show --register RID ID\n"
        "       kortisto event participants --register RID ID\n"
        "       kortisto event session --register RID ID title=TITLE starts_at=TIME\n"
        "                              ends_at=TIME [place=PLACE] [url=URL]\n"
        "       kortisto event register --register RID ID person_id:=N [consents:=JSON]\n"
        "                               [registered_on=YYYY-MM-DD]\n"
        "       kortisto event cancel --register RID ID PERSON_ID\n"
        "       kortisto event attend --register RID ID session_id:=N person_id:=N\n"
        "       kortisto event meeting --register RID ID parties:='[N,N]' starts_at=TIME\n"
        "                              ends_at=TIME place=PLACE\n"
        "       kortisto event share --register RID ID purpose=PURPOSE legal_basis=BASIS\n"
        "                            [categories:=JSON] [reference=REF]\n"
        "       kortisto event ics --register RID ID\n"
        "       kortisto event chat --register RID ID SESSION_ID (messages:=JSON | --file F)\n"
        "TIME is RFC 3339 (2026-05-12T09:00:00+03:00), stored in UTC. co_organiser names a\n"
        "recipient the declaration declares; share gives it the registrations of those who\n"
        "chose share_with_co_organiser, as a logged disclosure (E-06). consents is an object of\n"
        "share_with_co_organiser, newsletter and participant_list, each true or false;\n"
        "participants lists those who chose participant_list (names, organisation, title).\n"
        "registration opens the public page PUBLIC_URL/p/events/ID: {\"group\": GROUP,\n"
        "\"source\": SOURCE, \"newsletter\": {\"purpose\": P, \"text\": T, \"text_version\": V}}.\n"
        "chat takes messages [{\"at\": TIME, \"author_email\": ADDR | \"person_id\": N,\n"
        "\"text\": TEXT}] of a virtual session; only registered participants' messages are\n"
        "kept (the register must declare record type chat_message), the rest are counted.\n"
        "cancel keeps the registration with its cancellation time but ends the participation:\n"
        "it is not shown or shared, and the person's attendance is refused until they\n"
        "register again.\n";

/* Reads a JSON object from `path` into a new reference; prints the error and returns NULL. */
static json_t *file_object(const char *path)
{
	json_error_t jerr;
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		fprintf(stderr, "kortisto: %s:%d: %s\n", path, jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		fprintf(stderr, "kortisto: %s: not a JSON object\n", path);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The verbs, each with how many ids it takes before the body and whether it takes one. */
static const struct verb {
	const char *name;
	int ids;
	bool body;
} verbs[] = {
        {"new", 0, true},     {"list", 0, false},    {"show", 1, false},
        {"session", 1, true}, {"register", 1, true}, {"attend", 1, true},
        {"meeting", 1, true}, {"share", 1, true},    {"ics", 1, false},
        {"chat", 2, true},    {"cancel", 2, false},  {"participants", 1, false},
};

static int run(struct cli *c, const char *verb, const char *rid, const int64_t *ids, json_t *in,
               const char *from, json_t **out, struct buf *text)
{
	int64_t id = 0;
	int rc;
	if (strcmp(verb, "new") == 0) {
		if ((rc = event_create(&c->ctx, rid, in, &id)))
			return rc;
		return event_get(&c->ctx, rid, id, EVENT_GET_CHAT, out);
	}
	if (strcmp(verb, "list") == 0)
		return event_list(&c->ctx, rid, from, NULL, 0, out);
	if (strcmp(verb, "show") == 0)
		return event_get(&c->ctx, rid, ids[0], EVENT_GET_CHAT, out);
	if (strcmp(verb, "participants") == 0)
		return event_participant_list(&c->ctx, rid, ids[0], out);
	if (strcmp(verb, "session") == 0) {
		if ((rc = event_session_add(&c->ctx, rid, ids[0], in, &id)))
			return rc;
		*out = json_pack("{s:I, s:I}", "id", (json_int_t)id, "event_id",
		                 (json_int_t)ids[0]);
		return 0;
	}
	if (strcmp(verb, "register") == 0 || strcmp(verb, "attend") == 0) {
		rc = verb[0] == 'r' ? event_register(&c->ctx, rid, ids[0], in)
		                    : event_attend(&c->ctx, rid, ids[0], in);
		if (!rc)
			*out = json_pack("{s:s, s:I}", "result",
			                 verb[0] == 'r' ? "registered" : "attended", "event_id",
			                 (json_int_t)ids[0]);
		return rc;
	}
	if (strcmp(verb, "meeting") == 0) {
		if ((rc = event_meeting(&c->ctx, rid, ids[0], in, &id)))
			return rc;
		*out = json_pack("{s:I, s:I}", "id", (json_int_t)id, "event_id",
		                 (json_int_t)ids[0]);
		return 0;
	}
	if (strcmp(verb, "cancel") == 0) {
		if ((rc = event_cancel(&c->ctx, rid, ids[0], ids[1])))
			return rc;
		*out = json_pack("{s:s, s:I, s:I}", "result", "cancelled", "event_id",
		                 (json_int_t)ids[0], "person_id", (json_int_t)ids[1]);
		return 0;
	}
	if (strcmp(verb, "share") == 0)
		return event_share(&c->ctx, rid, ids[0], in, out);
	if (strcmp(verb, "ics") == 0)
		return event_ics(&c->ctx, rid, ids[0], text);
	return event_chat_import(&c->ctx, rid, ids[0], ids[1], in, out);
}

int cmd_event(struct globals *g, int argc, char **argv)
{
	const char *rid = NULL, *file = NULL, *from = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0, status = 2;
	int64_t ids[2] = {0, 0};
	const struct verb *v = NULL;
	json_t *in = NULL, *out = NULL;
	struct buf text = BUF_INIT;
	struct cli c;

	if (!rest)
		return 1;
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		free(rest);
		fputs(event_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (!v) {
		fprintf(stderr, "kortisto: unknown event command '%s'\n", argv[1]);
		goto usage;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--register") == 0 && i + 1 < argc)
			rid = argv[++i];
		else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc && v->body)
			file = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc && !strcmp(v->name, "list"))
			from = argv[++i];
		else if (strncmp(argv[i], "--", 2) == 0) {
			fprintf(stderr, "kortisto: event %s: unknown option '%s'\n", v->name,
			        argv[i]);
			goto usage;
		} else
			rest[nrest++] = argv[i];
	}
	if (!rid) {
		fprintf(stderr, "kortisto: event %s: --register RID is required\n", v->name);
		goto usage;
	}
	if (nrest < v->ids || (!v->body && nrest != v->ids))
		goto usage;
	for (int i = 0; i < v->ids; i++)
		if (!cli_parse_id(rest[i], &ids[i]))
			goto out;
	if (v->body) {
		json_t *kv = cli_kv_object(nrest - v->ids, rest + v->ids);
		if (!kv)
			goto out;
		if (file && !(in = file_object(file))) {
			json_decref(kv);
			goto out;
		}
		if (in) {
			json_object_update(in, kv);
			json_decref(kv);
		} else {
			in = kv;
		}
	}
	if (!cli_open(&c, g)) {
		status = 1;
		goto out;
	}
	int rc = run(&c, v->name, rid, ids, in, from, &out, &text);
	if (rc) {
		status = cli_fail(&c);
	} else {
		if (out)
			cli_print_json(out);
		if (text.len)
			fwrite(text.p, 1, text.len, stdout);
		status = 0;
	}
	cli_close(&c);
	goto out;
usage:
	fputs(event_usage, stderr);
	status = 2;
out:
	json_decref(in);
	json_decref(out);
	buf_free(&text);
	free(rest);
	return status;
}
