/*
 * `kortisto request`: data-subject requests from the command line, for the operator on the
 * server. Each verb is one core call; bodies are given as KEY=VALUE and KEY:=JSON arguments,
 * the same members the API takes. Lists print ids, types, states and dates only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/export.h"
#include "core/request.h"
#include "decl/notice_text.h"
#include "util/buf.h"

static const char request_usage[] =
        "usage: kortisto request new --register RID type=TYPE channel=CHANNEL [person_id:=N]\n"
        "                            [received_at=DATE] [subject:=JSON] [details:=JSON]\n"
        "       kortisto request list --register RID [--open | --overdue | --late] [--json]\n"
        "       kortisto request show --register RID ID\n"
        "       kortisto request verify --register RID ID method=METHOD [person_id:=N] [note=T]\n"
        "       kortisto request start --register RID ID [note=T]\n"
        "       kortisto request extend --register RID ID months:=1|2 reason=T subject_told:=true\n"
        "       kortisto request assess --register RID ID assessment=unfounded|excessive\n"
        "                               reason=T [fee_cents:=N]\n"
        "       kortisto request fulfil|withdraw --register RID ID [note=T]\n"
        "       kortisto request refuse --register RID ID reason=T\n"
        "       kortisto request lift --register RID ID note=T\n"
        "       kortisto request export --register RID ID [--format json|html|csv]\n"
        "                               [--lang fi|sv|en]\n"
        "TYPE is access, rectification, erasure, restriction, portability, objection,\n"
        "consent_withdrawal or marketing_ban; CHANNEL written, email, self_service or\n"
        "in_person; METHOD id_document, strong_auth, email_link, registered_contact or\n"
        "in_person. The due date follows from the register's declaration. A request is\n"
        "started (in_progress, with you as its handler) and fulfilled only after its\n"
        "verification; --overdue lists open requests that are late\n"
        "or due within 7 days, --late only the late ones. An access or portability request is\n"
        "fulfilled with the subject's export, which only a register manager may make; export\n"
        "writes it again to standard output, as JSON, as the letter to the subject (html, in\n"
        "--lang, by default the subject's own language field, else fi) or as CSV.\n";

/* `request export`: the export of a fulfilled access or portability request on stdout. */
static int export_out(struct cli *c, const char *rid, int64_t id, const char *format, int lang)
{
	json_t *doc = NULL;
	struct buf b = {0};
	int rc = request_export(&c->ctx, rid, id, &doc);
	if (!rc && !strcmp(format, "json")) {
		cli_print_json(doc);
		json_decref(doc);
		return 0;
	}
	if (!rc && lang < 0)
		lang = export_subject_lang(doc);
	if (!rc)
		rc = !strcmp(format, "html")
		             ? export_letter(&c->ctx, doc, lang < 0 ? LANG_FI : (enum lang)lang, &b)
		             : export_csv(doc, &b);
	json_decref(doc);
	if (rc) {
		buf_free(&b);
		return cli_fail(c);
	}
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
	return 0;
}

/* The verbs that take a body and answer with the request or the response to the subject. */
enum verb { V_VERIFY, V_START, V_EXTEND, V_ASSESS, V_FULFIL, V_WITHDRAW, V_REFUSE, V_LIFT, V__MAX };

static const char *const verb_names[V__MAX] = {"verify", "start",    "extend", "assess",
                                               "fulfil", "withdraw", "refuse", "lift"};

static int run_verb(struct cli *c, enum verb v, const char *rid, int64_t id, json_t *in,
                    json_t **out)
{
	switch (v) {
	case V_VERIFY: return request_verify(&c->ctx, rid, id, in);
	case V_START: return request_start(&c->ctx, rid, id, in);
	case V_EXTEND: return request_extend(&c->ctx, rid, id, in);
	case V_ASSESS: return request_mark(&c->ctx, rid, id, in);
	case V_FULFIL: return request_fulfil(&c->ctx, rid, id, in, out);
	case V_WITHDRAW: return request_withdraw(&c->ctx, rid, id, in);
	case V_REFUSE: return request_refuse(&c->ctx, rid, id, in, out);
	case V_LIFT: return request_lift(&c->ctx, rid, id, in);
	default: return -1;
	}
}

static void print_list(json_t *list)
{
	size_t i;
	json_t *o;
	printf("%-8s %-19s %-12s %-11s %-11s %-8s %s\n", "ID", "TYPE", "STATE", "RECEIVED", "DUE",
	       "PERSON", "LATE");
	json_array_foreach (json_object_get(list, "items"), i, o) {
		const char *received = json_string_value(json_object_get(o, "received_at"));
		json_t *pid = json_object_get(o, "person_id");
		char person[24] = "-";
		if (json_is_integer(pid))
			snprintf(person, sizeof(person), "%lld",
			         (long long)json_integer_value(pid));
		printf("%-8lld %-19s %-12s %-11.10s %-11s %-8s %s\n",
		       (long long)json_integer_value(json_object_get(o, "id")),
		       json_string_value(json_object_get(o, "type")),
		       json_string_value(json_object_get(o, "state")), received ? received : "-",
		       json_string_value(json_object_get(o, "due")), person,
		       json_is_true(json_object_get(o, "overdue")) ? "late" : "");
	}
}

int cmd_request(struct globals *g, int argc, char **argv)
{
	const char *rid = NULL, *format = "json";
	enum req_filter filter = RQ_ALL;
	int lang = -1; /* the subject's own language, else Finnish */
	bool json = false;
	char **rest = calloc((size_t)argc, sizeof(*rest));
	int nrest = 0, status = 2;
	struct cli c;
	json_t *in = NULL, *out = NULL;

	if (!rest)
		return 1;
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		free(rest);
		fputs(request_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--register") == 0 && i + 1 < argc)
			rid = argv[++i];
		else if (strcmp(argv[i], "--open") == 0)
			filter = RQ_OPEN;
		else if (strcmp(argv[i], "--overdue") == 0)
			filter = RQ_OVERDUE;
		else if (strcmp(argv[i], "--late") == 0)
			filter = RQ_LATE;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			format = argv[++i];
			if (strcmp(format, "json") && strcmp(format, "html") &&
			    strcmp(format, "csv")) {
				fprintf(stderr,
				        "kortisto: --format: '%s' is not json, html or csv\n",
				        format);
				goto out;
			}
		} else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
			int l = lang_from_code(argv[++i]);
			if (l < 0) {
				fprintf(stderr, "kortisto: --lang: '%s' is not fi, sv or en\n",
				        argv[i]);
				goto out;
			}
			lang = l;
		} else if (strncmp(argv[i], "--", 2) == 0) {
			fprintf(stderr, "kortisto: request: unknown option '%s'\n", argv[i]);
			goto out;
		} else
			rest[nrest++] = argv[i];
	}
	if (!rid) {
		fprintf(stderr, "kortisto: request %s: --register RID is required\n", verb);
		goto out;
	}
	if (strcmp(verb, "new") == 0) {
		int64_t id = 0;
		if (!(in = cli_kv_object(nrest, rest)))
			goto out;
		if (!cli_open(&c, g)) {
			status = 1;
			goto out;
		}
		if (request_create(&c.ctx, rid, in, &id) || request_get(&c.ctx, rid, id, &out)) {
			status = cli_fail(&c);
		} else {
			cli_print_json(out);
			status = 0;
		}
		cli_close(&c);
		goto out;
	}
	if (strcmp(verb, "list") == 0) {
		if (nrest)
			goto out_usage;
		if (!cli_open(&c, g)) {
			status = 1;
			goto out;
		}
		/* The whole list: page through it. */
		json_t *all = json_pack("{s:[]}", "items");
		const char *cursor = NULL;
		char next[32];
		int rc = 0;
		do {
			json_t *page = NULL;
			if ((rc = request_list(&c.ctx, rid, filter, cursor, 1000, &page)))
				break;
			json_array_extend(json_object_get(all, "items"),
			                  json_object_get(page, "items"));
			const char *n = json_string_value(json_object_get(page, "next"));
			snprintf(next, sizeof(next), "%s", n ? n : "");
			cursor = n ? next : NULL;
			json_decref(page);
		} while (cursor);
		if (rc) {
			status = cli_fail(&c);
		} else {
			if (json)
				cli_print_json(all);
			else
				print_list(all);
			status = 0;
		}
		json_decref(all);
		cli_close(&c);
		goto out;
	}
	if (strcmp(verb, "export") == 0) {
		int64_t id;
		if (nrest != 1 || !cli_parse_id(rest[0], &id))
			goto out_usage;
		if (!cli_open(&c, g)) {
			status = 1;
			goto out;
		}
		status = export_out(&c, rid, id, format, lang);
		cli_close(&c);
		goto out;
	}
	int v = -1;
	for (int k = 0; k < V__MAX; k++)
		if (strcmp(verb, verb_names[k]) == 0)
			v = k;
	if (v < 0 && strcmp(verb, "show") != 0) {
		fprintf(stderr, "kortisto: unknown request command '%s'\n", verb);
		goto out_usage;
	}
	int64_t id;
	if (nrest < 1 || !cli_parse_id(rest[0], &id))
		goto out_usage;
	if (v >= 0 && !(in = cli_kv_object(nrest - 1, rest + 1)))
		goto out;
	if (v < 0 && nrest != 1)
		goto out_usage;
	if (!cli_open(&c, g)) {
		status = 1;
		goto out;
	}
	int rc = v < 0 ? request_get(&c.ctx, rid, id, &out)
	               : run_verb(&c, (enum verb)v, rid, id, in, &out);
	if (!rc && !out)
		rc = request_get(&c.ctx, rid, id, &out);
	if (rc) {
		status = cli_fail(&c);
	} else {
		cli_print_json(out);
		status = 0;
	}
	cli_close(&c);
	goto out;
out_usage:
	fputs(request_usage, stderr);
	status = 2;
out:
	json_decref(in);
	json_decref(out);
	free(rest);
	return status;
}
