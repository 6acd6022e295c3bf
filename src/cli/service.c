/*
 * `kortisto record add|list|show|change|delete|types` and `kortisto stats services`: advisory
 * and customer-service records (E-02 … E-04) and the service statistics (E-05) for the
 * operator. Each verb parses its options, opens the data directory and makes one core call;
 * the content is given as KEY=VALUE (a string) or KEY:=JSON (a number, an array, null).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/service.h"
#include "util/buf.h"

static const char record_usage[] =
        "usage: kortisto record add --register RID --person ID --type TYPE [--on YYYY-MM-DD]\n"
        "                           MEMBER=VALUE|MEMBER:=JSON …\n"
        "       kortisto record list --register RID --person ID\n"
        "       kortisto record list --register RID --organisation ID [--type TYPE]\n"
        "       kortisto record show --register RID --id ID [--history]\n"
        "       kortisto record change --register RID --id ID MEMBER=VALUE|MEMBER:=JSON …\n"
        "       kortisto record delete --register RID --id ID\n"
        "       kortisto record ics ID --register RID\n"
        "       kortisto record ics --register RID --person ID\n"
        "       kortisto record types\n"
        "add makes an advisory or customer-service record of a record type the register\n"
        "declares (appointment, service_arrangement, customer_note, customer_contact,\n"
        "customer_plan, service_order, billing, job_offer, employer_introduction,\n"
        "open_position) about person ID on the day given (default today); a type declared\n"
        "customer_event: true moves the person's last_customer_event, and the record is\n"
        "counted in the service statistics. Only the members `record types` lists are\n"
        "accepted. change sets members (MEMBER:=null removes an optional one) and keeps\n"
        "their history; show --history prints it. Every read and change is in the usage\n"
        "log; the retention rules of the record's type delete or archive it with its\n"
        "content. ics prints appointment ID (another type is refused), or with --person\n"
        "all of that person's appointments, as an iCalendar file (RFC 5545): a VEVENT\n"
        "each with a stable UID, DTSTART/DTEND from start/end, SUMMARY from topic and\n"
        "LOCATION from place or channel; the read is in the usage log. list --organisation\n"
        "gives the records whose content names the organisation (job offers, introductions\n"
        "to it as an employer, its open positions), --type narrowing them to one type.\n";

static const char stats_usage[] =
        "usage: kortisto stats services --register RID [--from YYYY-MM] [--to YYYY-MM] [--json]\n"
        "prints how many records of each service (record type) were made per month,\n"
        "channel and municipality (E-05). The counts hold no personal data and stay when\n"
        "the records and their persons are deleted or anonymized.\n";

struct opts {
	const char *rid, *type, *on, *from, *to;
	int64_t person, id, org;
	bool history, json;
	int nkv;
	char **kv; /* the MEMBER=VALUE arguments */
};

static bool parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->kv = argv;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-') {
			o->kv[o->nkv++] = argv[i];
			continue;
		}
		if (strcmp(a, "--history") == 0) {
			o->history = true;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "kortisto: %s needs a value\n", a);
			return false;
		}
		i++;
		if (strcmp(a, "--register") == 0)
			o->rid = v;
		else if (strcmp(a, "--type") == 0)
			o->type = v;
		else if (strcmp(a, "--on") == 0)
			o->on = v;
		else if (strcmp(a, "--from") == 0)
			o->from = v;
		else if (strcmp(a, "--to") == 0)
			o->to = v;
		else if (strcmp(a, "--person") == 0) {
			if (!cli_parse_id(v, &o->person))
				return false;
		} else if (strcmp(a, "--organisation") == 0) {
			if (!cli_parse_id(v, &o->org))
				return false;
		} else if (strcmp(a, "--id") == 0) {
			if (!cli_parse_id(v, &o->id))
				return false;
		} else {
			fprintf(stderr, "kortisto: unknown option '%s'\n", a);
			return false;
		}
	}
	return true;
}

/* `kortisto record ics`: the calendar file on stdout, byte for byte (CRLF lines). */
static int record_ics(struct globals *g, const struct opts *o)
{
	struct cli c;
	struct buf b = BUF_INIT;
	int rc, status = 0;
	if (!cli_open(&c, g))
		return 1;
	rc = o->id ? service_record_ics(&c.ctx, o->rid, o->id, &b)
	           : service_person_ics(&c.ctx, o->rid, o->person, &b);
	if (rc)
		status = cli_fail(&c);
	else if (fwrite(b.p, 1, b.len, stdout) != b.len)
		status = 1;
	buf_free(&b);
	cli_close(&c);
	return status;
}

int cmd_service_record(struct globals *g, int argc, char **argv)
{
	struct opts o;
	struct cli c;
	json_t *in = NULL, *out = NULL;
	int rc = 0, status = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(record_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "types") == 0) {
		out = service_schema();
		cli_print_json(out);
		json_decref(out);
		return 0;
	}
	if (!parse(argc - 2, argv + 2, &o))
		goto usage;
	bool add = !strcmp(verb, "add"), list = !strcmp(verb, "list"), show = !strcmp(verb, "show"),
	     change = !strcmp(verb, "change"), del = !strcmp(verb, "delete"),
	     ics = !strcmp(verb, "ics");
	if (ics && o.nkv == 1 && !o.id && !o.person) {
		if (!cli_parse_id(o.kv[0], &o.id))
			goto usage;
		o.nkv = 0;
	}
	if (ics && (!o.rid || o.nkv || !!o.id == !!o.person || o.type || o.on || o.history))
		goto usage;
	if (ics)
		return record_ics(g, &o);
	if (!(add || list || show || change || del) || !o.rid || (add && !o.person) ||
	    (list && !!o.person == !!o.org) || (o.org && !list) || (list && o.type && !o.org) ||
	    ((show || change || del) && !o.id) || (add && !o.type) || (o.nkv && !(add || change)) ||
	    (change && !o.nkv))
		goto usage;
	if (add || change) {
		json_t *data = cli_kv_object(o.nkv, o.kv);
		if (!data)
			return 2;
		in = add ? json_pack("{ssso}", "type", o.type, "data", data)
		         : json_pack("{so}", "data", data);
		if (add && o.on)
			json_object_set_new(in, "on", json_string(o.on));
	}
	if (!cli_open(&c, g)) {
		json_decref(in);
		return 1;
	}
	int64_t id = 0;
	if (add) {
		if ((rc = service_record_add(&c.ctx, o.rid, o.person, in, &id)) == 0)
			printf("record %lld\n", (long long)id);
	} else if (list) {
		rc = o.org ? service_records_of_org(&c.ctx, o.rid, o.org, o.type, &out)
		           : service_record_list(&c.ctx, o.rid, o.person, &out);
		if (rc == 0)
			cli_print_json(out);
	} else if (show) {
		if ((rc = service_record_get(&c.ctx, o.rid, o.id, o.history, &out)) == 0)
			cli_print_json(out);
	} else if (change) {
		if ((rc = service_record_change(&c.ctx, o.rid, o.id, in)) == 0)
			printf("record %lld changed\n", (long long)o.id);
	} else if ((rc = service_record_delete(&c.ctx, o.rid, o.id)) == 0) {
		printf("record %lld deleted\n", (long long)o.id);
	}
	if (rc)
		status = cli_fail(&c);
	json_decref(in);
	json_decref(out);
	cli_close(&c);
	return status;
usage:
	fputs(record_usage, stderr);
	return 2;
}

int cmd_stats(struct globals *g, int argc, char **argv)
{
	struct opts o;
	struct cli c;
	json_t *out = NULL;
	int status = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(stats_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "services") != 0 || !parse(argc - 2, argv + 2, &o) || !o.rid || o.nkv ||
	    o.person || o.id || o.type || o.on || o.history) {
		fputs(stats_usage, stderr);
		return 2;
	}
	if (!cli_open(&c, g))
		return 1;
	if (service_stats(&c.ctx, o.rid, o.from, o.to, &out) != 0) {
		status = cli_fail(&c);
	} else if (o.json) {
		cli_print_json(out);
	} else {
		size_t i;
		json_t *row;
		printf("%-7s  %-24s  %-8s  %-20s  %s\n", "month", "service", "channel",
		       "municipality", "count");
		json_array_foreach (json_object_get(out, "rows"), i, row) {
			const char *ch = json_string_value(json_object_get(row, "channel"));
			const char *mu = json_string_value(json_object_get(row, "municipality"));
			printf("%-7s  %-24s  %-8s  %-20s  %lld\n",
			       json_string_value(json_object_get(row, "period")),
			       json_string_value(json_object_get(row, "service")),
			       ch && *ch ? ch : "-", mu && *mu ? mu : "-",
			       (long long)json_integer_value(json_object_get(row, "count")));
		}
	}
	json_decref(out);
	cli_close(&c);
	return status;
}
