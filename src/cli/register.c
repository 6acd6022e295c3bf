/*
 * `kortisto register check|load|list|versions`: validating declarations with
 * file:line:column diagnostics, storing them as new versions, and listing registers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/register.h"
#include "decl/decl.h"
#include "util/buf.h"

static const char register_usage[] =
        "usage: kortisto register check [--strict] FILE...\n"
        "       kortisto register load FILE...\n"
        "       kortisto register list\n"
        "       kortisto register versions RID\n"
        "check validates declarations and prints file:line:column: message for every problem\n"
        "(exit 1 on any error; --strict also fails on warnings); load stores each as a new\n"
        "version of its register; list shows registers with their current version and dates.\n";

/* Reads a whole file (at most 1 MiB + 1 byte, so the parser can report it too large). */
static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= (1u << 20))
		buf_append(b, chunk, n);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: read error\n", path);
		return -1;
	}
	return 0;
}

static void print_diags(const char *file, const struct decl_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct decl_diag *x = &d->v[i];
		/* Problems of the whole file (a missing key) point at its start. */
		fprintf(stderr, "%s:%d:%d: %s%s\n", file, x->line > 0 ? x->line : 1,
		        x->column > 0 ? x->column : 1, x->warning ? "warning: " : "", x->message);
	}
}

static int check(int argc, char **argv)
{
	bool strict = false;
	int status = 0, files = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--strict") == 0) {
			strict = true;
			continue;
		}
		struct buf b = BUF_INIT;
		struct decl_diags diags = {0};
		struct decl *d = NULL;
		files++;
		if (read_file(argv[i], &b) != 0) {
			status = 1;
			continue;
		}
		int rc = decl_parse(argv[i], buf_str(&b), b.len, &d, &diags);
		print_diags(argv[i], &diags);
		size_t warnings = diags.n - diags.nerrors;
		if (rc != 0 || (strict && warnings))
			status = 1;
		else
			printf("%s: ok (register %s%s)\n", argv[i], d->id,
			       warnings ? ", with warnings" : "");
		decl_free(d);
		decl_diags_free(&diags);
		buf_free(&b);
	}
	if (!files) {
		fputs(register_usage, stderr);
		return 2;
	}
	return status;
}

static int load(struct globals *g, int argc, char **argv)
{
	struct cli c;
	int status = 0;
	if (argc < 2) {
		fputs(register_usage, stderr);
		return 2;
	}
	if (!cli_open(&c, g))
		return 1;
	for (int i = 1; i < argc; i++) {
		struct buf b = BUF_INIT;
		struct decl_diags diags = {0};
		int version = 0;
		bool unchanged = false;
		char *rid = NULL;
		if (read_file(argv[i], &b) != 0) {
			status = 1;
			continue;
		}
		kerr_clear(&c.err);
		int rc = register_load(&c.ctx, argv[i], buf_str(&b), b.len, &diags, &version,
		                       &unchanged, &rid);
		print_diags(argv[i], &diags);
		if (rc) {
			status = cli_fail(&c);
		} else if (unchanged) {
			printf("%s: register %s unchanged at version %d\n", argv[i], rid, version);
		} else {
			printf("%s: register %s is now at version %d\n", argv[i], rid, version);
		}
		decl_diags_free(&diags);
		buf_free(&b);
	}
	cli_close(&c);
	return status;
}

static int list(struct globals *g, int argc, char **argv, bool versions)
{
	struct cli c;
	json_t *items = NULL;
	(void)argv;
	if (versions ? argc != 2 : argc != 1) {
		fputs(register_usage, stderr);
		return 2;
	}
	if (!cli_open(&c, g))
		return 1;
	int rc = versions ? register_versions(&c.ctx, argv[1], &items)
	                  : register_list(&c.ctx, &items);
	if (rc) {
		rc = cli_fail(&c);
		cli_close(&c);
		return rc;
	}
	size_t i;
	json_t *o;
	if (versions)
		printf("%-8s %-11s %-11s %-21s %s\n", "VERSION", "PUBLISHED", "UPDATED", "LOADED",
		       "BY");
	else
		printf("%-20s %-8s %-11s %-11s %s\n", "REGISTER", "VERSION", "PUBLISHED", "UPDATED",
		       "NAME");
	json_array_foreach (items, i, o) {
		const char *pub = json_string_value(json_object_get(o, "published"));
		const char *upd = json_string_value(json_object_get(o, "updated"));
		long long v = (long long)json_integer_value(json_object_get(o, "version"));
		if (versions)
			printf("%-8lld %-11s %-11s %-21s %s\n", v, pub ? pub : "-", upd ? upd : "-",
			       json_string_value(json_object_get(o, "loaded_at")),
			       json_string_value(json_object_get(o, "loaded_by")));
		else
			printf("%-20s %-8lld %-11s %-11s %s\n",
			       json_string_value(json_object_get(o, "id")), v, pub ? pub : "-",
			       upd ? upd : "-", json_string_value(json_object_get(o, "name")));
	}
	json_decref(items);
	cli_close(&c);
	return 0;
}

int cmd_register(struct globals *g, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(register_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return check(argc - 1, argv + 1);
	if (strcmp(argv[1], "load") == 0)
		return load(g, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return list(g, argc - 1, argv + 1, false);
	if (strcmp(argv[1], "versions") == 0)
		return list(g, argc - 1, argv + 1, true);
	fprintf(stderr, "kortisto: unknown register command '%s'\n", argv[1]);
	fputs(register_usage, stderr);
	return 2;
}
