/*
 * `kortisto audit verify|anchor|show|prune` and `kortisto disclose`: the usage log's checks
 * for the operator and the records office, and disclosures to declared recipients. Each verb
 * parses its options, opens the data directory and makes one core call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/disclosure.h"
#include "cli/cli.h"
#include "core/app.h"
#include "util/timeutil.h"
#include "util/validate.h"

static const char audit_usage[] =
        "usage: kortisto audit verify [--anchors FILE]\n"
        "       kortisto audit anchor [--out FILE]\n"
        "       kortisto audit show [--subject ID] [--user NAME] [--register RID]\n"
        "                           [--since YYYY-MM-DD] [--limit N] [--cursor C] [--json]\n"
        "       kortisto audit prune [--before YYYY-MM-DD]\n"
        "verify walks the usage log's hash chain and names the first entry that was changed,\n"
        "removed or reordered (exit 1); with --anchors it also checks each signed anchor of\n"
        "FILE, which is how a removed tail is found. anchor prints a signed anchor of the\n"
        "chain's head (appending it to FILE with --out) and the public key that verifies it.\n"
        "show lists entries newest first. prune removes the entries older than the date\n"
        "(default: now minus usage_log_retention_days) behind a signed checkpoint.\n";

static const char disclose_usage[] =
        "usage: kortisto disclose --register RID --recipient ID --purpose P --basis TEXT\n"
        "                         --categories A,B --subjects 1,2 [--reference REF]\n"
        "       kortisto disclose list --register RID [--subject ID] [--limit N] [--cursor C]\n"
        "records a disclosure of the subjects' data in the categories to a recipient the\n"
        "register declares, for a purpose and on a legal basis it allows (never for direct\n"
        "marketing, telemarketing, address services or market research); list shows them.\n";

/* Options of every verb; each verb checks it got only its own. */
struct opts {
	const char *anchors, *out, *user, *rid, *since, *cursor, *before;
	const char *recipient, *purpose, *basis, *categories, *subjects, *reference;
	int64_t subject, limit;
	bool json;
};

/* The option table: name, where its value goes (NULL for flags). */
static bool parse(int argc, char **argv, struct opts *o, const char *const *allowed)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = false;
		for (size_t k = 0; allowed[k]; k++)
			ok = ok || strcmp(allowed[k], a) == 0;
		if (!ok) {
			fprintf(stderr, "kortisto: unknown option '%s'\n", a);
			return false;
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
		const char **slot = strcmp(a, "--anchors") == 0      ? &o->anchors
		                    : strcmp(a, "--out") == 0        ? &o->out
		                    : strcmp(a, "--user") == 0       ? &o->user
		                    : strcmp(a, "--register") == 0   ? &o->rid
		                    : strcmp(a, "--since") == 0      ? &o->since
		                    : strcmp(a, "--cursor") == 0     ? &o->cursor
		                    : strcmp(a, "--before") == 0     ? &o->before
		                    : strcmp(a, "--recipient") == 0  ? &o->recipient
		                    : strcmp(a, "--purpose") == 0    ? &o->purpose
		                    : strcmp(a, "--basis") == 0      ? &o->basis
		                    : strcmp(a, "--categories") == 0 ? &o->categories
		                    : strcmp(a, "--subjects") == 0   ? &o->subjects
		                    : strcmp(a, "--reference") == 0  ? &o->reference
		                                                     : NULL;
		if (slot) {
			*slot = v;
		} else if (strcmp(a, "--subject") == 0) {
			if (!cli_parse_id(v, &o->subject))
				return false;
		} else if (strcmp(a, "--limit") == 0) {
			if (!cli_parse_id(v, &o->limit))
				return false;
		}
	}
	return true;
}

/* Prints s with control characters replaced, padded to `width`. */
static void put_cell(const char *s, int width)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)(s ? s : "-"); *p; p++, n++)
		putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
	for (; n < width; n++)
		putchar(' ');
}

/* ---------------------------------------------------------------- audit */

static int verify(struct cli *c, const struct opts *o)
{
	struct audit_verify v;
	char h[65];
	int rc = audit_verify(&c->ctx, o->anchors, &v);
	if (rc)
		return cli_fail(c);
	if (v.problem[0]) {
		fprintf(stderr, "kortisto: usage log verification failed: %s\n", v.problem);
		return 1;
	}
	for (size_t i = 0; i < sizeof(v.head_hash); i++)
		snprintf(h + 2 * i, 3, "%02x", v.head_hash[i]);
	printf("usage log verified: %lld entr%s, head %lld %s\n", (long long)v.entries,
	       v.entries == 1 ? "y" : "ies", (long long)v.head_id, h);
	if (v.checkpoint_id)
		printf("from the checkpoint of entry %lld (earlier entries were pruned)\n",
		       (long long)v.checkpoint_id);
	if (o->anchors)
		printf("anchors verified: %lld\n", (long long)v.anchors);
	return 0;
}

static int anchor(struct cli *c, const struct opts *o)
{
	char line[AUDIT_ANCHOR_MAX], pk[65];
	if (audit_anchor(&c->ctx, line) || (o->out && audit_anchor_append(&c->ctx, o->out, line)))
		return cli_fail(c);
	audit_public_key(c->app, pk);
	printf("%s\npublic key (Ed25519): %s\n", line, pk);
	return 0;
}

static int show(struct cli *c, const struct opts *o)
{
	struct audit_filter f = {o->rid, o->subject, o->user, o->since};
	json_t *out = NULL, *e;
	size_t i;
	if (audit_list(&c->ctx, &f, o->cursor, (int)o->limit, &out))
		return cli_fail(c);
	if (o->json) {
		cli_print_json(out);
		json_decref(out);
		return 0;
	}
	printf("%-8s %-20s %-22s %-16s %-18s %-20s %s\n", "ID", "AT", "ACTOR", "ACTION", "REGISTER",
	       "ENTITY", "SUBJECTS");
	json_array_foreach (json_object_get(out, "items"), i, e) {
		char id[24], ent[64] = "-", subj[128] = "-";
		json_t *s, *x;
		size_t k;
		snprintf(id, sizeof(id), "%lld",
		         (long long)json_integer_value(json_object_get(e, "id")));
		const char *entity = json_string_value(json_object_get(e, "entity"));
		if (entity && json_is_integer(json_object_get(e, "entity_id")))
			snprintf(ent, sizeof(ent), "%s %lld", entity,
			         (long long)json_integer_value(json_object_get(e, "entity_id")));
		else if (entity)
			snprintf(ent, sizeof(ent), "%s", entity);
		s = json_object_get(e, "subjects");
		size_t len = 0;
		json_array_foreach (s, k, x) {
			int n = snprintf(subj + len, sizeof(subj) - len, "%s%lld", k ? "," : "",
			                 (long long)json_integer_value(x));
			if (n < 0 || (size_t)n >= sizeof(subj) - len) {
				snprintf(subj + (sizeof(subj) > 5 ? sizeof(subj) - 5 : 0), 5,
				         ",...");
				break;
			}
			len += (size_t)n;
		}
		put_cell(id, 8);
		putchar(' ');
		put_cell(json_string_value(json_object_get(e, "at")), 20);
		putchar(' ');
		put_cell(json_string_value(json_object_get(e, "actor")), 22);
		putchar(' ');
		put_cell(json_string_value(json_object_get(e, "action")), 16);
		putchar(' ');
		put_cell(json_string_value(json_object_get(e, "register")), 18);
		putchar(' ');
		put_cell(ent, 20);
		putchar(' ');
		put_cell(subj, 0);
		putchar('\n');
	}
	const char *next = json_string_value(json_object_get(out, "next"));
	if (next)
		printf("more: --cursor %s\n", next);
	json_decref(out);
	return 0;
}

/* Parses YYYY-MM-DD into unix seconds at its midnight UTC; prints the problem. */
static bool parse_date(const char *opt, const char *s, int64_t *t)
{
	const char *why = NULL;
	if (strlen(s) != 10 || !date_valid(s, NULL, NULL, NULL, &why) ||
	    time_parse_iso8601(s, t) != 0) {
		fprintf(stderr, "kortisto: %s: '%s' is not a date YYYY-MM-DD\n", opt, s);
		return false;
	}
	return true;
}

static int prune(struct cli *c, const struct opts *o)
{
	struct audit_pruned p;
	int64_t before = 0;
	if (o->before && !parse_date("--before", o->before, &before))
		return 2;
	if (audit_prune(&c->ctx, before, &p))
		return cli_fail(c);
	if (!p.removed)
		printf("nothing to prune\n");
	else
		printf("pruned %lld entries up to entry %lld; checkpoint %lld\n",
		       (long long)p.removed, (long long)p.last_id, (long long)p.checkpoint);
	return 0;
}

int cmd_audit(struct globals *g, int argc, char **argv)
{
	static const char *const verify_opts[] = {"--anchors", NULL};
	static const char *const anchor_opts[] = {"--out", NULL};
	static const char *const show_opts[] = {"--subject", "--user",   "--register", "--since",
	                                        "--limit",   "--cursor", "--json",     NULL};
	static const char *const prune_opts[] = {"--before", NULL};
	static const struct {
		const char *verb;
		const char *const *opts;
		int (*fn)(struct cli *c, const struct opts *o);
	} verbs[] = {
	        {"verify", verify_opts, verify},
	        {"anchor", anchor_opts, anchor},
	        {"show", show_opts, show},
	        {"prune", prune_opts, prune},
	};
	struct opts o;
	struct cli c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(audit_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].verb) != 0)
			continue;
		if (!parse(argc - 2, argv + 2, &o, verbs[i].opts)) {
			fputs(audit_usage, stderr);
			return 2;
		}
		if (o.since) {
			int64_t t;
			if (!parse_date("--since", o.since, &t))
				return 2;
		}
		if (!cli_open(&c, g))
			return 1;
		int status = verbs[i].fn(&c, &o);
		cli_close(&c);
		return status;
	}
	fprintf(stderr, "kortisto: unknown audit command '%s'\n", argv[1]);
	fputs(audit_usage, stderr);
	return 2;
}

/* ---------------------------------------------------------------- disclose */

/* Splits "a,b,c" into arena strings; false on an empty item. */
static bool split(struct cli *c, const char *s, const char ***out, size_t *n)
{
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	const char **v = arena_calloc(&c->mem, cap, sizeof(*v));
	*n = 0;
	for (const char *p = s;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (!len)
			return false;
		v[(*n)++] = arena_strndup(&c->mem, p, len);
		if (!e)
			break;
		p = e + 1;
	}
	*out = v;
	return true;
}

static int disclose_list(struct globals *g, int argc, char **argv)
{
	static const char *const opts[] = {"--register", "--subject", "--limit", "--cursor", NULL};
	struct opts o;
	struct cli c;
	json_t *out = NULL;
	if (!parse(argc, argv, &o, opts) || !o.rid) {
		if (!o.rid)
			fprintf(stderr, "kortisto: --register RID is required\n");
		fputs(disclose_usage, stderr);
		return 2;
	}
	if (!cli_open(&c, g))
		return 1;
	int status = 0;
	if (disclosure_list(&c.ctx, o.rid, o.subject, o.cursor, (int)o.limit, &out))
		status = cli_fail(&c);
	else
		cli_print_json(out);
	json_decref(out);
	cli_close(&c);
	return status;
}

int cmd_disclose(struct globals *g, int argc, char **argv)
{
	static const char *const opts[] = {"--register",   "--recipient", "--purpose",   "--basis",
	                                   "--categories", "--subjects",  "--reference", NULL};
	struct disclosure_in in = {0};
	struct opts o;
	struct cli c;
	const char **cats = NULL, **subs = NULL;
	size_t nsubs = 0;
	int64_t id = 0;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(disclose_usage, stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return disclose_list(g, argc - 2, argv + 2);
	if (!parse(argc - 1, argv + 1, &o, opts))
		goto usage;
	if (!o.rid || !o.recipient || !o.purpose || !o.categories || !o.subjects) {
		fprintf(stderr, "kortisto: --register, --recipient, --purpose, --categories and "
		                "--subjects are required\n");
		goto usage;
	}
	if (!cli_open(&c, g))
		return 1;
	if (!split(&c, o.categories, &cats, &in.ncategories) ||
	    !split(&c, o.subjects, &subs, &nsubs)) {
		fprintf(stderr,
		        "kortisto: --categories and --subjects are comma-separated lists\n");
		cli_close(&c);
		goto usage;
	}
	int64_t *ids = arena_calloc(&c.mem, nsubs, sizeof(*ids));
	for (size_t i = 0; i < nsubs; i++)
		if (!cli_parse_id(subs[i], &ids[i])) {
			cli_close(&c);
			goto usage;
		}
	in.recipient = o.recipient;
	in.purpose = o.purpose;
	in.legal_basis = o.basis;
	in.categories = cats;
	in.subjects = ids;
	in.nsubjects = nsubs;
	in.reference = o.reference;
	int status = 0;
	if (disclosure_record(&c.ctx, o.rid, &in, &id))
		status = cli_fail(&c);
	else
		printf("%lld\n", (long long)id);
	cli_close(&c);
	return status;
usage:
	fputs(disclose_usage, stderr);
	return 2;
}
