/*
 * `kortisto person|org|affiliation add|get|find|update|delete`. The three share one
 * table-driven implementation: each entity names its core functions, and the verbs parse
 * their arguments the same way for all of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/affiliation.h"
#include "core/org.h"
#include "core/person.h"
#include "core/search.h"
#include "util/buf.h"

enum entity { ENT_PERSON, ENT_ORG, ENT_AFFILIATION, ENT__MAX };

struct opts {
	const char *rid, *hetu, *cursor, *reason;
	int64_t person_id, org_id;
	long long limit;
	bool reveal, history;
	int npos;
	char **pos; /* positional arguments after the verb */
};

static const struct {
	const char *name;
	const char *usage;
} entities[ENT__MAX] = {
        [ENT_PERSON] =
                {"person",
                 "usage: kortisto person add --register RID KEY=VALUE... [KEY:=JSON...]\n"
                 "       kortisto person get --register RID ID [--reveal-hetu] [--history]\n"
                 "       kortisto person find --register RID [--hetu CODE] [--limit N] "
                 "[--cursor C] [WORDS...]\n"
                 "       kortisto person update --register RID ID [--reason TEXT] KEY=VALUE...\n"
                 "       kortisto person delete --register RID ID\n"
                 "       kortisto person event --register RID --id ID --type TYPE "
                 "[--at YYYY-MM-DD]\n"
                 "KEY is subject_group, source, reason, a declared field id (first_name, email,\n"
                 "hetu, ...) or attributes.FIELD. KEY:=JSON gives a typed value (numbers,\n"
                 "true/false, null to remove).\n"},
        [ENT_ORG] = {"org",
                     "usage: kortisto org add --register RID name=NAME source=SRC [KEY=VALUE...]\n"
                     "       kortisto org get --register RID ID\n"
                     "       kortisto org find --register RID [--limit N] [--cursor C] [WORDS...]\n"
                     "       kortisto org update --register RID ID KEY=VALUE...\n"
                     "       kortisto org delete --register RID ID\n"
                     "KEY is one of name, ytunnus, department, postal_address, postal_code,\n"
                     "postal_city, visiting_address, website, source.\n"},
        [ENT_AFFILIATION] = {"affiliation",
                             "usage: kortisto affiliation add --register RID person_id:=P "
                             "organisation_id:=O [title=T] [start_date=D]\n"
                             "       kortisto affiliation get --register RID ID\n"
                             "       kortisto affiliation find --register RID [--person P] [--org "
                             "O] [--limit N] "
                             "[--cursor C]\n"
                             "       kortisto affiliation update --register RID ID end_date=D "
                             "end_reason=employment_ended\n"
                             "       kortisto affiliation delete --register RID ID\n"},
};

static int usage_error(enum entity e)
{
	fputs(entities[e].usage, stderr);
	return 2;
}

static bool parse_opts(enum entity e, int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pos = calloc((size_t)argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool has_next = i + 1 < argc;
		if ((strcmp(a, "--register") == 0 || strcmp(a, "-r") == 0) && has_next)
			o->rid = argv[++i];
		else if (strncmp(a, "--register=", 11) == 0)
			o->rid = a + 11;
		else if (strcmp(a, "--hetu") == 0 && has_next && e == ENT_PERSON)
			o->hetu = argv[++i];
		else if (strcmp(a, "--cursor") == 0 && has_next)
			o->cursor = argv[++i];
		else if (strcmp(a, "--reason") == 0 && has_next)
			o->reason = argv[++i];
		else if (strcmp(a, "--limit") == 0 && has_next) {
			int64_t v;
			if (!cli_parse_id(argv[++i], &v))
				return false;
			o->limit = v;
		} else if (strcmp(a, "--person") == 0 && has_next && e == ENT_AFFILIATION) {
			if (!cli_parse_id(argv[++i], &o->person_id))
				return false;
		} else if (strcmp(a, "--org") == 0 && has_next && e == ENT_AFFILIATION) {
			if (!cli_parse_id(argv[++i], &o->org_id))
				return false;
		} else if (strcmp(a, "--reveal-hetu") == 0 && e == ENT_PERSON)
			o->reveal = true;
		else if (strcmp(a, "--history") == 0 && e == ENT_PERSON)
			o->history = true;
		else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "kortisto: unknown or incomplete option '%s'\n", a);
			return false;
		} else
			o->pos[o->npos++] = argv[i];
	}
	if (!o->rid) {
		fprintf(stderr, "kortisto: --register RID is required\n");
		return false;
	}
	return true;
}

static int cmd_records(enum entity e, struct globals *g, int argc, char **argv)
{
	struct opts o;
	struct cli c;
	json_t *in = NULL, *out = NULL;
	int64_t id = 0;
	int rc = 0, status = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(entities[e].usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	if (e == ENT_PERSON && strcmp(verb, "event") == 0)
		return cmd_person_event(g, argc - 2, argv + 2);
	if (!parse_opts(e, argc - 2, argv + 2, &o)) {
		free(o.pos);
		return usage_error(e);
	}
	bool needs_id = strcmp(verb, "get") == 0 || strcmp(verb, "update") == 0 ||
	                strcmp(verb, "delete") == 0;
	if (needs_id && (o.npos < 1 || !cli_parse_id(o.pos[0], &id))) {
		free(o.pos);
		return usage_error(e);
	}
	if (strcmp(verb, "add") == 0 || strcmp(verb, "update") == 0) {
		int skip = needs_id ? 1 : 0;
		if (!(in = cli_kv_object(o.npos - skip, o.pos + skip))) {
			free(o.pos);
			return 2;
		}
		if (o.reason && e == ENT_PERSON)
			json_object_set_new(in, "reason", json_string(o.reason));
	} else if (o.reason) {
		fprintf(stderr, "kortisto: --reason goes with add and update\n");
		free(o.pos);
		return usage_error(e);
	} else if (strcmp(verb, "get") && strcmp(verb, "find") && strcmp(verb, "delete")) {
		fprintf(stderr, "kortisto: unknown %s command '%s'\n", entities[e].name, verb);
		free(o.pos);
		return usage_error(e);
	}
	if (!cli_open(&c, g)) {
		json_decref(in);
		free(o.pos);
		return 1;
	}
	struct kctx *ctx = &c.ctx;

	if (strcmp(verb, "add") == 0) {
		rc = e == ENT_PERSON ? person_create(ctx, o.rid, in, &id)
		     : e == ENT_ORG  ? org_create(ctx, o.rid, in, &id)
		                     : affiliation_create(ctx, o.rid, in, &id);
		if (!rc)
			printf("%lld\n", (long long)id);
	} else if (strcmp(verb, "update") == 0) {
		rc = e == ENT_PERSON ? person_update(ctx, o.rid, id, in)
		     : e == ENT_ORG  ? org_update(ctx, o.rid, id, in)
		                     : affiliation_update(ctx, o.rid, id, in);
	} else if (strcmp(verb, "delete") == 0) {
		rc = e == ENT_PERSON ? person_delete(ctx, o.rid, id)
		     : e == ENT_ORG  ? org_delete(ctx, o.rid, id)
		                     : affiliation_delete(ctx, o.rid, id);
	} else if (strcmp(verb, "get") == 0) {
		unsigned flags =
		        (o.reveal ? PERSON_REVEAL_SENSITIVE : 0) | (o.history ? PERSON_HISTORY : 0);
		rc = e == ENT_PERSON ? person_get(ctx, o.rid, id, flags, &out)
		     : e == ENT_ORG  ? org_get(ctx, o.rid, id, &out)
		                     : affiliation_get(ctx, o.rid, id, &out);
	} else {
		char *q = NULL;
		if (o.npos) {
			struct buf b = BUF_INIT;
			for (int i = 0; i < o.npos; i++)
				buf_appendf(&b, "%s%s", i ? " " : "", o.pos[i]);
			q = arena_strdup(&c.mem, buf_str(&b));
			buf_free(&b);
		}
		rc = e == ENT_PERSON
		             ? person_find(ctx, o.rid, q, o.hetu, o.cursor, (int)o.limit, &out)
		     : e == ENT_ORG ? org_find(ctx, o.rid, q, o.cursor, (int)o.limit, &out)
		                    : affiliation_find(ctx, o.rid, o.person_id, o.org_id, o.cursor,
		                                       (int)o.limit, &out);
	}
	/* A deletion leaves the search index marked for a purge (so may an update that ends an
	 * employment, L-05); finish it before exiting. */
	if (!rc && (strcmp(verb, "delete") == 0 || strcmp(verb, "update") == 0))
		rc = search_purge(ctx, NULL);
	if (rc)
		status = cli_fail(&c);
	else if (out)
		cli_print_json(out);
	json_decref(out);
	json_decref(in);
	free(o.pos);
	cli_close(&c);
	return status;
}

int cmd_person(struct globals *g, int argc, char **argv)
{
	return cmd_records(ENT_PERSON, g, argc, argv);
}

int cmd_org(struct globals *g, int argc, char **argv)
{
	return cmd_records(ENT_ORG, g, argc, argv);
}

int cmd_affiliation(struct globals *g, int argc, char **argv)
{
	return cmd_records(ENT_AFFILIATION, g, argc, argv);
}
