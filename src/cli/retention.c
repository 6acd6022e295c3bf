/*
 * `kortisto retention plan|run|runs|hold|release` and `kortisto person event`: the retention
 * rules of the registers for the records manager and the operator. Each verb parses its
 * options, opens the data directory and makes one core call; what is printed names persons
 * by id only, never by anything personal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/retention.h"

static const char retention_usage[] =
        "usage: kortisto retention plan [--register RID] [--json]\n"
        "       kortisto retention run [--register RID] [--batch N] [--pause MS] [--json]\n"
        "       kortisto retention runs [--limit N] [--json]\n"
        "       kortisto retention hold --register RID --person ID --reason TEXT\n"
        "       kortisto retention release --register RID --person ID\n"
        "plan shows what a run at --now (default: now) would do under each register's\n"
        "declared retention rules: per rule how many persons or records it would delete,\n"
        "anonymize, passivate or archive and delete, how many are held or kept by an\n"
        "exception, with sample ids; it changes nothing. run does it, in batches of N\n"
        "(default retention_batch) each in one transaction, waiting MS milliseconds after\n"
        "each; a run that was killed is continued by the next run of the same day. runs\n"
        "lists earlier runs with their counts. hold keeps a person out of every rule until\n"
        "release. plan and run also cover rule consent_unconfirmed: consents never\n"
        "confirmed whose link has expired, and the persons a public page added only for\n"
        "them.\n";

static const char event_usage[] =
        "usage: kortisto person event --register RID --id ID --type TYPE [--at YYYY-MM-DD]\n"
        "records a record of a declared record type about person ID, on the day given\n"
        "(default today); a type declared customer_event: true moves the person's\n"
        "last_customer_event, from which retention periods count.\n";

struct opts {
	const char *rid, *reason, *type, *at;
	int64_t person, limit, batch, pause, id;
	bool json, has_pause;
};

/* Parses the options every verb may take; each verb then checks what it needs. */
static bool parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (!v || a[0] != '-') {
			fprintf(stderr, "kortisto: unexpected '%s'\n", a);
			return false;
		}
		i++;
		if (strcmp(a, "--register") == 0)
			o->rid = v;
		else if (strcmp(a, "--reason") == 0)
			o->reason = v;
		else if (strcmp(a, "--type") == 0)
			o->type = v;
		else if (strcmp(a, "--at") == 0)
			o->at = v;
		else if (strcmp(a, "--person") == 0 || strcmp(a, "--id") == 0) {
			if (!cli_parse_id(v, a[2] == 'p' ? &o->person : &o->id))
				return false;
		} else if (strcmp(a, "--limit") == 0) {
			if (!cli_parse_id(v, &o->limit))
				return false;
		} else if (strcmp(a, "--batch") == 0) {
			if (!cli_parse_id(v, &o->batch) || o->batch > 100000) {
				fprintf(stderr, "kortisto: --batch: 1 to 100000\n");
				return false;
			}
		} else if (strcmp(a, "--pause") == 0) {
			if (strcmp(v, "0") != 0 &&
			    (!cli_parse_id(v, &o->pause) || o->pause > 60000)) {
				fprintf(stderr, "kortisto: --pause: 0 to 60000 milliseconds\n");
				return false;
			}
			o->has_pause = true;
		} else {
			fprintf(stderr, "kortisto: unknown option '%s'\n", a);
			return false;
		}
	}
	return true;
}

/* Prints a JSON array of ids as "1 2 3". */
static void put_ids(json_t *a)
{
	size_t i;
	json_t *v;
	json_array_foreach (a, i, v) {
		printf("%s%lld", i ? " " : "", (long long)json_integer_value(v));
	}
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static long long jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void print_plan(json_t *plan)
{
	size_t i, k, j;
	json_t *reg, *rule, *part;
	printf("retention plan as of %s\n", jstr(plan, "as_of"));
	json_array_foreach (json_object_get(plan, "registers"), i, reg) {
		printf("%s\n", jstr(reg, "register"));
		json_array_foreach (json_object_get(reg, "rules"), k, rule) {
			printf("  %s: %s", jstr(rule, "rule"), jstr(rule, "action"));
			if (json_object_get(rule, "after"))
				printf(" %s", jstr(rule, "after"));
			printf(" from %s\n", jstr(rule, "from"));
			if (json_object_get(rule, "note"))
				printf("    %s\n", jstr(rule, "note"));
			json_array_foreach (json_object_get(rule, "parts"), j, part) {
				printf("    %s: %lld due, %lld held, %lld kept by exception",
				       jstr(part, "part"), jint(part, "due"), jint(part, "held"),
				       jint(part, "excepted"));
				if (json_array_size(json_object_get(part, "sample"))) {
					printf("; due for example: ");
					put_ids(json_object_get(part, "sample"));
				}
				putchar('\n');
			}
		}
		json_array_foreach (json_object_get(reg, "holds"), k, rule) {
			printf("  held: person %lld (by %s since %s)\n", jint(rule, "person"),
			       jstr(rule, "held_by"), jstr(rule, "held_at"));
		}
	}
}

static void print_run(json_t *run)
{
	size_t i;
	json_t *r;
	printf("retention run %lld as of %s: %s", jint(run, "id"), jstr(run, "as_of"),
	       jstr(run, "status"));
	if (json_is_string(json_object_get(run, "register")))
		printf(" (register %s)", jstr(run, "register"));
	if (jint(run, "resumed"))
		printf(", continued %lld time%s after an interruption", jint(run, "resumed"),
		       jint(run, "resumed") == 1 ? "" : "s");
	printf("\n  started %s, finished %s by %s\n", jstr(run, "started_at"),
	       jstr(run, "finished_at"), jstr(run, "actor"));
	size_t quiet = 0;
	json_array_foreach (json_object_get(run, "rules"), i, r) {
		bool finished = json_is_true(json_object_get(r, "done"));
		if (finished && !jint(r, "acted") && !jint(r, "held") && !jint(r, "excepted")) {
			quiet++;
			continue;
		}
		printf("  %s %s %s: %s %lld, held %lld, kept by exception %lld, packages %lld%s\n",
		       jstr(r, "register"), jstr(r, "rule"), jstr(r, "part"), jstr(r, "action"),
		       jint(r, "acted"), jint(r, "held"), jint(r, "excepted"), jint(r, "archived"),
		       finished ? "" : " (not finished)");
	}
	if (quiet)
		printf("  %zu rule part%s with nothing to do\n", quiet, quiet == 1 ? "" : "s");
}

/* Progress on a terminal: one line rewritten after each batch. */
static void progress(void *arg, const char *rid, const char *rule, const char *part,
                     int64_t examined, int64_t acted)
{
	bool *shown = arg;
	fprintf(stderr, "\r\033[K%s %s %s: %lld due, %lld done", rid, rule, part,
	        (long long)examined, (long long)acted);
	*shown = true;
}

int cmd_retention(struct globals *g, int argc, char **argv)
{
	struct opts o;
	struct cli c;
	json_t *out = NULL;
	int rc = 0, status = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(retention_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	if (!parse(argc - 2, argv + 2, &o))
		goto usage;
	bool plan = strcmp(verb, "plan") == 0, run = strcmp(verb, "run") == 0,
	     runs = strcmp(verb, "runs") == 0, hold = strcmp(verb, "hold") == 0,
	     release = strcmp(verb, "release") == 0;
	if (!(plan || run || runs || hold || release)) {
		fprintf(stderr, "kortisto: unknown retention command '%s'\n", verb);
		goto usage;
	}
	if ((hold || release) && (!o.rid || !o.person || (hold != (o.reason != NULL)))) {
		fprintf(stderr, "kortisto: %s needs --register and --person%s\n", verb,
		        hold ? " and --reason" : "");
		goto usage;
	}
	if (o.type || o.at || o.id || (o.person && !(hold || release)) || (o.reason && !hold) ||
	    ((o.batch || o.has_pause) && !run) || (o.limit && !runs) || (o.rid && runs)) {
		fprintf(stderr, "kortisto: an option that %s does not take\n", verb);
		goto usage;
	}
	if (!cli_open(&c, g))
		return 1;
	if (plan) {
		if ((rc = retention_plan(&c.ctx, o.rid, &out)) == 0 && !o.json)
			print_plan(out);
	} else if (run) {
		bool shown = false;
		struct retention_opts ro = {
		        .rid = o.rid,
		        .batch = (int)o.batch,
		        .pause_ms = (int)o.pause,
		        .progress = isatty(STDERR_FILENO) ? progress : NULL,
		        .progress_arg = &shown,
		};
		rc = retention_run(&c.ctx, &ro, &out);
		if (shown)
			fputc('\n', stderr);
		if (out && !o.json)
			print_run(out);
	} else if (runs) {
		if ((rc = retention_runs(&c.ctx, 0, (int)o.limit, &out)) == 0 && !o.json) {
			size_t i;
			json_t *r;
			json_array_foreach (out, i, r) {
				print_run(r);
			}
			if (!json_array_size(out))
				printf("no retention runs yet\n");
		}
	} else if (hold) {
		if ((rc = retention_hold(&c.ctx, o.rid, o.person, o.reason)) == 0)
			printf("person %lld of %s is on legal hold\n", (long long)o.person, o.rid);
	} else {
		if ((rc = retention_release(&c.ctx, o.rid, o.person)) == 0)
			printf("person %lld of %s is released from legal hold\n",
			       (long long)o.person, o.rid);
	}
	if (rc)
		status = cli_fail(&c);
	if (out && o.json)
		cli_print_json(out);
	json_decref(out);
	cli_close(&c);
	return status;
usage:
	fputs(retention_usage, stderr);
	return 2;
}

int cmd_person_event(struct globals *g, int argc, char **argv)
{
	struct opts o;
	struct cli c;
	int64_t id = 0;
	int status = 0;
	if (argc >= 1 && strcmp(argv[0], "--help") == 0) {
		fputs(event_usage, stdout);
		return 0;
	}
	if (!parse(argc, argv, &o) || !o.rid || !o.id || !o.type || o.person || o.reason ||
	    o.limit || o.batch || o.has_pause || o.json) {
		fputs(event_usage, stderr);
		return 2;
	}
	if (!cli_open(&c, g))
		return 1;
	if (retention_event_add(&c.ctx, o.rid, o.id, o.type, o.at, &id) == 0)
		printf("%lld\n", (long long)id);
	else
		status = cli_fail(&c);
	cli_close(&c);
	return status;
}
