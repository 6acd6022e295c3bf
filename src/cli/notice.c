/*
 * `kortisto notice` and `kortisto record-of-processing`: the published texts generated from
 * the declarations, written to stdout for the web, print or the records office.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/notice.h"
#include "decl/notice_text.h"
#include "util/validate.h"

static const char notice_usage[] =
        "usage: kortisto notice --register RID [--lang fi|sv|en] [--format html|md|txt]\n"
        "                       [--version N] [--changes [--since N]] [--history]\n"
        "writes the privacy notice (GDPR Art. 13/14) of a register, generated from its\n"
        "declaration: the current version, or version N as it was published. --changes adds\n"
        "what changed since the previous version (or since version N), --history lists every\n"
        "version. Texts the declaration lacks in the language are shown in Finnish, marked.\n"
        "Defaults: --lang fi --format md.\n";

static const char record_usage[] =
        "usage: kortisto record-of-processing [--lang fi|sv|en] [--format md|html|csv]\n"
        "writes the record of processing activities (GDPR Art. 30(1)) of every register in\n"
        "its current version. Defaults: --lang fi --format md.\n";

/* A version number 1 … 1000000; prints the problem and returns false on anything else. */
static bool parse_version(const char *opt, const char *s, int *out)
{
	long long v;
	if (!int_valid(s, &v, NULL) || v < 1 || v > 1000000) {
		fprintf(stderr, "kortisto: %s: '%s' is not a version number\n", opt, s);
		return false;
	}
	*out = (int)v;
	return true;
}

static bool parse_lang(const char *s, enum lang *out)
{
	int l = lang_from_code(s);
	if (l < 0) {
		fprintf(stderr, "kortisto: --lang: '%s' is not fi, sv or en\n", s);
		return false;
	}
	*out = (enum lang)l;
	return true;
}

/* A format among those `allowed` (a bit per enum notice_format) lists in `names`. */
static bool parse_format(const char *s, unsigned allowed, const char *names,
                         enum notice_format *out)
{
	int f = notice_format_from_name(s);
	if (f < 0 || !(allowed & (1u << f))) {
		fprintf(stderr, "kortisto: --format: '%s' is not %s\n", s, names);
		return false;
	}
	*out = (enum notice_format)f;
	return true;
}

static int print_or_fail(struct cli *c, int rc, struct buf *out)
{
	if (rc) {
		rc = cli_fail(c);
	} else {
		fwrite(out->p ? out->p : "", 1, out->len, stdout);
		rc = fflush(stdout) ? 1 : 0;
	}
	buf_free(out);
	cli_close(c);
	return rc;
}

int cmd_notice(struct globals *g, int argc, char **argv)
{
	struct notice_req rq = {.lang = LANG_FI, .format = NF_MD};
	struct buf out = BUF_INIT;
	struct cli c;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0) {
			fputs(notice_usage, stdout);
			return 0;
		} else if (strcmp(a, "--changes") == 0) {
			rq.changes = true;
			continue;
		} else if (strcmp(a, "--history") == 0) {
			rq.history = true;
			continue;
		}
		if (!v || strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "kortisto: notice: unexpected '%s'\n", a);
			fputs(notice_usage, stderr);
			return 2;
		}
		i++;
		bool ok = true;
		if (strcmp(a, "--register") == 0)
			rq.rid = v;
		else if (strcmp(a, "--lang") == 0)
			ok = parse_lang(v, &rq.lang);
		else if (strcmp(a, "--format") == 0)
			ok = parse_format(v, 1u << NF_HTML | 1u << NF_MD | 1u << NF_TXT,
			                  "html, md or txt", &rq.format);
		else if (strcmp(a, "--version") == 0)
			ok = parse_version(a, v, &rq.version);
		else if (strcmp(a, "--since") == 0)
			ok = parse_version(a, v, &rq.since);
		else {
			fprintf(stderr, "kortisto: notice: unknown option '%s'\n", a);
			ok = false;
		}
		if (!ok) {
			fputs(notice_usage, stderr);
			return 2;
		}
	}
	if (!rq.rid || (rq.since && !rq.changes)) {
		fprintf(stderr, "kortisto: notice: %s\n",
		        rq.rid ? "--since goes with --changes" : "--register RID is required");
		fputs(notice_usage, stderr);
		return 2;
	}
	if (!cli_open(&c, g))
		return 1;
	return print_or_fail(&c, notice_get(&c.ctx, &rq, &out), &out);
}

int cmd_record(struct globals *g, int argc, char **argv)
{
	enum lang lang = LANG_FI;
	enum notice_format format = NF_MD;
	struct buf out = BUF_INIT;
	struct cli c;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = v != NULL;
		if (strcmp(a, "--help") == 0) {
			fputs(record_usage, stdout);
			return 0;
		} else if (ok && strcmp(a, "--lang") == 0) {
			ok = parse_lang(v, &lang);
		} else if (ok && strcmp(a, "--format") == 0) {
			ok = parse_format(v, 1u << NF_HTML | 1u << NF_MD | 1u << NF_CSV,
			                  "md, html or csv", &format);
		} else {
			fprintf(stderr, "kortisto: record-of-processing: unexpected '%s'\n", a);
			ok = false;
		}
		if (!ok) {
			fputs(record_usage, stderr);
			return 2;
		}
		i++;
	}
	if (!cli_open(&c, g))
		return 1;
	return print_or_fail(&c, notice_record(&c.ctx, lang, format, &out), &out);
}
