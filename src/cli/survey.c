/*
 * `kortisto survey`: feedback surveys from the command line, for the operator on the server:
 * load a definition from a YAML or JSON file, list and show surveys, print statistics as
 * JSON, CSV or SVG, draw a raffle, mark its winners notified, and delete expired answers and
 * entries. Each verb is one core call. Only `draw` prints contacts, and only once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/app.h"
#include "core/survey.h"
#include "decl/notice_text.h"
#include "util/buf.h"
#include "util/timeutil.h"

static const char survey_usage[] =
        "usage: kortisto survey load --register RID FILE\n"
        "       kortisto survey list --register RID\n"
        "       kortisto survey show SURVEY\n"
        "       kortisto survey stats SURVEY [--by QUESTION] [--format json|csv|svg]\n"
        "                                    [--lang fi|sv|en]\n"
        "       kortisto survey draw SURVEY --winners N\n"
        "       kortisto survey notified SURVEY\n"
        "       kortisto survey expire [--register RID]\n"
        "SURVEY is the survey's number. load reads a definition (YAML or JSON) and publishes\n"
        "it: the first of its key is version 1, a changed one the next version, which closes\n"
        "the earlier one for new answers; errors name the line and the field. stats hides\n"
        "every group of fewer than 5 answers. draw picks N winners at random, prints their\n"
        "contacts once and deletes every other entry of the raffle; notified deletes the\n"
        "winners' contacts. expire deletes answers and raffle entries older than the\n"
        "register's retention rules for survey_answer and raffle_entry allow, as of today\n"
        "(or the global --now), in RID or every register.\n";

static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "kortisto: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= (1u << 20))
		buf_append(b, chunk, n);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "kortisto: %s: read error\n", path);
		return -1;
	}
	return 0;
}

/* `survey load`: file:line: message on a bad definition. */
static int load(struct cli *c, const char *rid, const char *file)
{
	struct buf b = {0};
	json_t *def = NULL, *lines = NULL, *out = NULL;
	int status = 1;

	if (read_file(file, &b) != 0)
		return 1;
	if (survey_parse_yaml(b.p ? b.p : "", b.len, &def, &lines, &c->err) != 0) {
		fprintf(stderr, "%s:%s\n", file, c->err.message);
		goto out;
	}
	if (survey_load(&c->ctx, rid, def, &out) != 0) {
		int line = survey_error_line(lines, c->err.field[0] ? c->err.field : NULL);
		if (line > 0)
			fprintf(stderr, "%s:%d: %s\n", file, line, c->err.message);
		else
			fprintf(stderr, "%s: %s\n", file, c->err.message);
		goto out;
	}
	cli_print_json(out);
	status = 0;
out:
	buf_free(&b);
	json_decref(def);
	json_decref(lines);
	json_decref(out);
	return status;
}

static int expire(struct cli *c, const char *rid)
{
	char today[11];
	const struct registry *regs = app_registers(c->app);
	time_format_date(c->ctx.now, today);
	for (size_t i = 0; i < regs->n; i++) {
		const struct decl *d = regs->v[i].decl;
		int64_t na = 0, ne = 0;
		if (rid && strcmp(rid, d->id) != 0)
			continue;
		if (survey_expire(&c->ctx, d->id, today, &na, &ne) != 0)
			return cli_fail(c);
		printf("%s: %lld answers and %lld raffle entries deleted (as of %s)\n", d->id,
		       (long long)na, (long long)ne, today);
	}
	if (rid && !app_register(c->app, rid)) {
		fprintf(stderr, "kortisto: register '%s' not found\n", rid);
		return 1;
	}
	return 0;
}

int cmd_survey(struct globals *g, int argc, char **argv)
{
	const char *rid = NULL, *by = NULL, *format = "json";
	long long winners = 0;
	enum lang lang = LANG_FI;
	char **rest = calloc((size_t)argc, sizeof(*rest));
	int nrest = 0, status = 2, rc;
	struct cli c;
	json_t *out = NULL;
	int64_t id = 0;

	if (!rest)
		return 1;
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		free(rest);
		fputs(survey_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--register") == 0 && i + 1 < argc) {
			rid = argv[++i];
		} else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc) {
			by = argv[++i];
		} else if (strcmp(argv[i], "--winners") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			winners = strtoll(argv[++i], &end, 10);
			if (errno || *end || winners < 1 || winners > 1000) {
				fprintf(stderr, "kortisto: --winners: a number from 1 to 1000\n");
				goto out;
			}
		} else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			format = argv[++i];
			if (strcmp(format, "json") && strcmp(format, "csv") &&
			    strcmp(format, "svg")) {
				fprintf(stderr,
				        "kortisto: --format: '%s' is not json, csv or svg\n",
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
			lang = (enum lang)l;
		} else if (strncmp(argv[i], "--", 2) == 0) {
			fprintf(stderr, "kortisto: survey: unknown option '%s'\n", argv[i]);
			goto out;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	if (!strcmp(verb, "load") || !strcmp(verb, "list")) {
		if (!rid) {
			fprintf(stderr, "kortisto: survey %s: --register RID is required\n", verb);
			goto out;
		}
		if (nrest != (!strcmp(verb, "load") ? 1 : 0))
			goto out_usage;
		if (!cli_open(&c, g)) {
			status = 1;
			goto out;
		}
		if (!strcmp(verb, "load")) {
			status = load(&c, rid, rest[0]);
		} else if (survey_list(&c.ctx, rid, &out)) {
			status = cli_fail(&c);
		} else {
			cli_print_json(out);
			status = 0;
		}
		cli_close(&c);
		goto out;
	}
	if (!strcmp(verb, "expire")) {
		if (nrest)
			goto out_usage;
		if (!cli_open(&c, g)) {
			status = 1;
			goto out;
		}
		status = expire(&c, rid);
		cli_close(&c);
		goto out;
	}
	if (strcmp(verb, "show") && strcmp(verb, "stats") && strcmp(verb, "draw") &&
	    strcmp(verb, "notified")) {
		fprintf(stderr, "kortisto: unknown survey command '%s'\n", verb);
		goto out_usage;
	}
	if (nrest != 1 || !cli_parse_id(rest[0], &id))
		goto out_usage;
	if (!strcmp(verb, "draw") && !winners) {
		fprintf(stderr, "kortisto: survey draw: --winners N is required\n");
		goto out;
	}
	if (!cli_open(&c, g)) {
		status = 1;
		goto out;
	}
	if (!strcmp(verb, "show")) {
		/* The operator sees the survey as its register's staff do. */
		json_t *pub = NULL;
		rc = survey_get(&c.ctx, NULL, id, &pub);
		if (!rc) {
			const char *r = json_string_value(json_object_get(pub, "register"));
			char reg[128];
			snprintf(reg, sizeof(reg), "%s", r ? r : "");
			json_decref(pub);
			rc = survey_get(&c.ctx, reg, id, &out);
		}
	} else if (!strcmp(verb, "stats")) {
		rc = survey_stats(&c.ctx, rid, id, by, &out);
		if (!rc && strcmp(format, "json")) {
			struct buf b = {0};
			if (!strcmp(format, "csv"))
				survey_stats_csv(out, &b);
			else
				survey_stats_svg(out, lang, &b);
			fwrite(b.p ? b.p : "", 1, b.len, stdout);
			buf_free(&b);
			status = 0;
			cli_close(&c);
			goto out;
		}
	} else if (!strcmp(verb, "draw")) {
		rc = survey_draw(&c.ctx, rid, id, (int)winners, &out);
	} else {
		int64_t n = 0;
		rc = survey_notified(&c.ctx, rid, id, &n);
		if (!rc)
			out = json_pack("{s:I}", "deleted", (json_int_t)n);
	}
	if (rc) {
		status = cli_fail(&c);
	} else {
		cli_print_json(out);
		status = 0;
	}
	cli_close(&c);
	goto out;
out_usage:
	fputs(survey_usage, stderr);
	status = 2;
out:
	json_decref(out);
	free(rest);
	return status;
}
