/*
 * `kortisto directory`: the staff's side of the public company directory (core/directory.h):
 * searching it as the public sees it, showing an organisation's listing, and changing it —
 * above all its registered contact address, to which the company's editing links are mailed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/directory.h"

static const char usage[] =
        "usage: kortisto directory list [--field TEXT] [--municipality TEXT] [WORDS]\n"
        "       kortisto directory show --register RID ORG\n"
        "       kortisto directory set --register RID ORG KEY=VALUE... [KEY:=JSON...]\n"
        "the public company directory. list searches the listed organisations by name\n"
        "(WORDS), field of business and municipality, as /p/directory does. show prints the\n"
        "listing of organisation ORG; set changes it: listed:=true|false, description,\n"
        "field_of_business, municipality, show_website:=true|false, show_address:=true|false,\n"
        "public_email, public_phone, and contact_email, the registered address the\n"
        "company's editing links are mailed to (KEY:=null removes a value); contacts=A,B,...\n"
        "publishes the contact persons of these affiliation ids (the set replaces the\n"
        "published one; contacts= publishes none), where the declaration allows it. Every\n"
        "change is in the change history and the usage log.\n";

static int usage_error(const char *what)
{
	fprintf(stderr, "kortisto: directory: %s\n", what);
	fputs(usage, stderr);
	return 2;
}

static int list(struct globals *g, int argc, char **argv)
{
	const char *field = NULL, *mun = NULL, *name = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--field") && i + 1 < argc)
			field = argv[++i];
		else if (!strcmp(argv[i], "--municipality") && i + 1 < argc)
			mun = argv[++i];
		else if (argv[i][0] == '-')
			return usage_error("unknown option");
		else if (!name)
			name = argv[i];
		else
			return usage_error("give the name words as one argument");
	}
	struct cli c;
	json_t *out = NULL;
	if (!cli_open(&c, g))
		return 1;
	int rc = directory_search(&c.ctx, name, field, mun, &out);
	if (rc)
		rc = cli_fail(&c);
	else
		cli_print_json(out);
	json_decref(out);
	cli_close(&c);
	return rc;
}

/*
 * contacts=1,2,3 as the list of ids the core takes; an element that is not a number stays a
 * string, so the core names it (contacts[i]). contacts:=[1,2] is taken as it is.
 */
static void contacts_list(json_t *patch)
{
	const char *s = json_string_value(json_object_get(patch, "contacts"));
	if (!s)
		return;
	json_t *list = json_array();
	while (*s) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		char part[32];
		char *stop;
		long long v = 0;
		bool ok = n > 0 && n < sizeof(part);
		if (ok) {
			memcpy(part, s, n);
			part[n] = '\0';
			errno = 0;
			v = strtoll(part, &stop, 10);
			ok = errno == 0 && *stop == '\0' && v > 0;
		}
		json_array_append_new(list, ok ? json_integer(v) : json_stringn(s, n));
		if (!end)
			break;
		s = end + 1;
	}
	json_object_set_new(patch, "contacts", list);
}

static int show_or_set(struct globals *g, int argc, char **argv, bool set)
{
	const char *rid = NULL;
	int64_t id = 0;
	int i = 2;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--register") && i + 1 < argc)
			rid = argv[++i];
		else if (!id && argv[i][0] != '-' && !strchr(argv[i], '=')) {
			if (!cli_parse_id(argv[i], &id))
				return 2;
		} else
			break;
	}
	if (!rid || !id)
		return usage_error("--register RID and ORG are required");
	if (set && i >= argc)
		return usage_error("set needs KEY=VALUE");
	if (!set && i < argc)
		return usage_error("show takes no KEY=VALUE");
	json_t *patch = NULL, *out = NULL;
	if (set && !(patch = cli_kv_object(argc - i, argv + i)))
		return 2;
	if (patch)
		contacts_list(patch);
	struct cli c;
	if (!cli_open(&c, g)) {
		json_decref(patch);
		return 1;
	}
	int rc = set ? directory_set(&c.ctx, rid, id, patch) : 0;
	if (!rc)
		rc = directory_get(&c.ctx, rid, id, &out);
	if (rc)
		rc = cli_fail(&c);
	else
		cli_print_json(out);
	json_decref(patch);
	json_decref(out);
	cli_close(&c);
	return rc;
}

int cmd_directory(struct globals *g, int argc, char **argv)
{
	if (argc < 2)
		return usage_error("which: list, show or set?");
	if (!strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "list"))
		return list(g, argc, argv);
	if (!strcmp(argv[1], "show"))
		return show_or_set(g, argc, argv, false);
	if (!strcmp(argv[1], "set"))
		return show_or_set(g, argc, argv, true);
	return usage_error("which: list, show or set?");
}
