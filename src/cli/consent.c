/*
 * `kortisto consent` and `kortisto mailing`: consents (M-01, R-12) and mailings (M-03 …
 * M-05) from the command line, for the operator on the server. Each verb is one core call;
 * bodies are KEY=VALUE and KEY:=JSON arguments, the members the API takes. A mailing is sent
 * here in the foreground: interrupted, `mailing send` again resumes it without sending anyone
 * twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/consent.h"
#include "core/mailing.h"
#include "core/sublist.h"
#include "util/buf.h"

static const char consent_usage[] =
        "usage: kortisto consent give --register RID PERSON_ID purpose=PURPOSE channel=CHANNEL\n"
        "                             text=TEXT text_version=V [source=SOURCE] [form=ID]\n"
        "                             [double_opt_in:=true] [--mail]\n"
        "       kortisto consent list --register RID PERSON_ID\n"
        "       kortisto consent show --register RID CONSENT_ID\n"
        "       kortisto consent withdraw --register RID CONSENT_ID [how=HOW]\n"
        "PURPOSE is a purpose the declaration gives the person's subject group; CHANNEL email,\n"
        "post, phone or sms; TEXT the consent text exactly as the person saw it; SOURCE staff\n"
        "(default), form, import or email. With double_opt_in (the default for source=form)\n"
        "the consent is pending until the person follows the confirmation link, which give\n"
        "prints, or with --mail mails to the person's e-mail address; it expires after 7\n"
        "days and never counts before. HOW is staff (default),\n"
        "email, written, phone, unsubscribe or in_person. Withdrawal takes effect at once: the\n"
        "next mailing's audience no longer counts the consent.\n";

static const char mailing_usage[] =
        "usage: kortisto mailing new --register RID purpose=PURPOSE subject=TEXT\n"
        "                            (text=TEXT | --text-file FILE) [html=HTML | --html-file "
        "FILE]\n"
        "                            [from=ADDR] [from_name=NAME] [track_opens:=true]\n"
        "                            [audience:=JSON]\n"
        "       kortisto mailing list --register RID\n"
        "       kortisto mailing preview --register RID ID\n"
        "       kortisto mailing send --register RID ID [--rate N] [--attempts N]\n"
        "       kortisto mailing status --register RID ID [--recipients]\n"
        "       kortisto mailing list-add --register RID slug=SLUG name=NAME purpose=PURPOSE\n"
        "                                 group=GROUP source=SOURCE consent_text=TEXT\n"
        "                                 consent_version=V\n"
        "       kortisto mailing lists --register RID\n"
        "PURPOSE is a declared direct-marketing purpose. Texts may hold the placeholders\n"
        "{{first_name}}, {{last_name}} and {{organisation}} (escaped in HTML); any other is an\n"
        "error. audience is {\"lists\": [IDS], \"segment\": {\"groups\": [GROUPS],\n"
        "\"organisation_id\": N, \"attributes\": {\"FIELD\": VALUE}, \"events\": {\"event_ids\":\n"
        "[EVENT IDS], \"attended\": BOOL}}} (a segment's filters combine; events selects those\n"
        "whose registration for one of the events stands, with attended true only those who\n"
        "attended a session of it); without it every person of the register is considered. The "
        "audience is always filtered by the §200 rule (natural\n"
        "persons need an e-mail consent for the purpose; contact persons of organisations an\n"
        "active role), bans, restriction, passivation and a missing address: preview prints\n"
        "how many receive it and why the others do not. send (a manager's step) records the\n"
        "recipients and sends through smtp_url, --rate messages a second at most (default:\n"
        "as fast as the server takes them); a recipient the server defers (4xx) is tried\n"
        "again after 1, 2, 4 … seconds, --attempts times in all (default 5), then failed;\n"
        "when the server cannot be reached at all, send stops and the rest stay pending.\n"
        "Run it again after an interruption to resume:\n"
        "a message that may have left when it stopped is marked unknown, never sent twice.\n"
        "Needs public_url for the unsubscribe links. list-add makes a subscription list whose\n"
        "public page PUBLIC_URL/p/subscribe/SLUG takes subscriptions: a new subscriber joins\n"
        "GROUP from SOURCE, and is on the list once they confirm the mailed link (double\n"
        "opt-in) of a consent with TEXT; an audience names lists by id.\n";

/* Parses --register RID and leaves the other arguments in rest; returns false on an unknown
 * option (named on stderr). */
static bool split_args(int argc, char **argv, const char **rid, char **rest, int *nrest,
                       const char *const *opts, const char **vals)
{
	for (int i = 2; i < argc; i++) {
		bool hit = false;
		if (strcmp(argv[i], "--register") == 0 && i + 1 < argc) {
			*rid = argv[++i];
			continue;
		}
		for (int k = 0; opts && opts[k]; k++) {
			if (strcmp(argv[i], opts[k]) != 0)
				continue;
			hit = true;
			if (opts[k][strlen(opts[k]) - 1] == '=') /* never: options take a value */
				break;
			if (strcmp(opts[k], "--recipients") == 0 || strcmp(opts[k], "--mail") == 0)
				vals[k] = "1";
			else if (i + 1 < argc)
				vals[k] = argv[++i];
			else
				hit = false;
		}
		if (hit)
			continue;
		if (strncmp(argv[i], "--", 2) == 0) {
			fprintf(stderr, "kortisto: %s: unknown option '%s'\n", argv[0], argv[i]);
			return false;
		}
		rest[(*nrest)++] = argv[i];
	}
	return true;
}

static int finish(struct cli *c, int rc, json_t *out)
{
	int status;
	if (rc) {
		status = cli_fail(c);
	} else {
		if (out)
			cli_print_json(out);
		status = 0;
	}
	json_decref(out);
	cli_close(c);
	return status;
}

int cmd_consent(struct globals *g, int argc, char **argv)
{
	const char *rid = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0, status = 2;
	int64_t id;
	struct cli c;
	json_t *in = NULL, *out = NULL;

	if (!rest)
		return 1;
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		free(rest);
		fputs(consent_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	static const char *const opts[] = {"--mail", NULL};
	const char *vals[] = {NULL, NULL};
	if (!split_args(argc, argv, &rid, rest, &nrest, opts, vals))
		goto out;
	if (!rid) {
		fprintf(stderr, "kortisto: consent %s: --register RID is required\n", verb);
		goto out;
	}
	bool give = strcmp(verb, "give") == 0, withdraw = strcmp(verb, "withdraw") == 0;
	if (!give && !withdraw && strcmp(verb, "list") && strcmp(verb, "show")) {
		fprintf(stderr, "kortisto: unknown consent command '%s'\n", verb);
		goto usage;
	}
	if (nrest < 1 || !cli_parse_id(rest[0], &id))
		goto usage;
	if ((give || withdraw) && !(in = cli_kv_object(nrest - 1, rest + 1)))
		goto out;
	if (!give && !withdraw && nrest != 1)
		goto usage;
	if (!cli_open(&c, g)) {
		status = 1;
		goto out;
	}
	int rc;
	if (give) {
		int64_t cid = 0;
		char token[CONSENT_TOKEN_MAX];
		rc = consent_give(&c.ctx, rid, id, in, &cid, token);
		if (!rc)
			rc = consent_get(&c.ctx, rid, cid, &out);
		if (!rc && token[0] && vals[0]) {
			/* --mail: the link goes to the person, as the API sends it; when it cannot,
			 * the token is printed for the form to send, with the reason on stderr. */
			int mrc = consent_mail_confirmation(&c.ctx, rid, cid, token);
			json_object_set_new(out, "confirmation_mailed", json_boolean(mrc == 0));
			if (mrc) {
				fprintf(stderr,
				        "kortisto: the confirmation mail did not leave: %s\n",
				        c.ctx.err->message);
				kerr_clear(c.ctx.err);
			}
			token[0] = mrc ? token[0] : '\0';
		}
		if (!rc && token[0])
			json_object_set_new(out, "confirmation_token", json_string(token));
	} else if (withdraw) {
		rc = consent_withdraw(&c.ctx, rid, id, in);
		if (!rc)
			rc = consent_get(&c.ctx, rid, id, &out);
	} else if (strcmp(verb, "list") == 0) {
		rc = consent_list(&c.ctx, rid, id, &out);
	} else {
		rc = consent_get(&c.ctx, rid, id, &out);
	}
	status = finish(&c, rc, out);
	goto out;
usage:
	fputs(consent_usage, stderr);
	status = 2;
out:
	json_decref(in);
	free(rest);
	return status;
}

/* Reads a whole text file into a string member of `in`. */
static bool file_member(json_t *in, const char *key, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	if (!f) {
		fprintf(stderr, "kortisto: %s: %s\n", path, strerror(errno));
		return false;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= (1u << 20))
		buf_append(&b, chunk, n);
	fclose(f);
	json_t *s = json_stringn(b.p ? b.p : "", b.len);
	buf_free(&b);
	if (!s) {
		fprintf(stderr, "kortisto: %s: not UTF-8 text\n", path);
		return false;
	}
	json_object_set_new(in, key, s);
	return true;
}

int cmd_mailing(struct globals *g, int argc, char **argv)
{
	static const char *const opts[] = {"--text-file",  "--html-file", "--rate",
	                                   "--recipients", "--attempts",  NULL};
	const char *vals[6] = {0};
	const char *rid = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0, status = 2;
	int64_t id = 0;
	struct cli c;
	json_t *in = NULL, *out = NULL;

	if (!rest)
		return 1;
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		free(rest);
		fputs(mailing_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	if (!split_args(argc, argv, &rid, rest, &nrest, opts, vals))
		goto out;
	if (!rid) {
		fprintf(stderr, "kortisto: mailing %s: --register RID is required\n", verb);
		goto out;
	}
	bool is_new = strcmp(verb, "new") == 0, is_list = strcmp(verb, "list") == 0;
	bool list_add = strcmp(verb, "list-add") == 0, lists = strcmp(verb, "lists") == 0;
	if (!is_new && !is_list && !list_add && !lists && strcmp(verb, "preview") &&
	    strcmp(verb, "send") && strcmp(verb, "status")) {
		fprintf(stderr, "kortisto: unknown mailing command '%s'\n", verb);
		goto usage;
	}
	if (list_add) {
		if (!(in = cli_kv_object(nrest, rest)))
			goto out;
	} else if (lists) {
		if (nrest)
			goto usage;
	} else if (is_new) {
		if (!(in = cli_kv_object(nrest, rest)))
			goto out;
		if ((vals[0] && !file_member(in, "text", vals[0])) ||
		    (vals[1] && !file_member(in, "html", vals[1])))
			goto out;
	} else if (is_list ? nrest != 0 : (nrest != 1 || !cli_parse_id(rest[0], &id))) {
		goto usage;
	}
	struct mailing_send_opts so = {0};
	if (vals[2]) {
		char *end;
		so.rate = strtod(vals[2], &end);
		if (*end || !(so.rate > 0) || so.rate > 100000) {
			fprintf(stderr, "kortisto: --rate: messages a second, more than 0\n");
			goto out;
		}
	}
	if (vals[4]) {
		char *end;
		long v = strtol(vals[4], &end, 10);
		if (*end || v < 1 || v > 20) {
			fprintf(stderr, "kortisto: --attempts: 1 to 20\n");
			goto out;
		}
		so.max_attempts = (int)v;
	}
	if (!cli_open(&c, g)) {
		status = 1;
		goto out;
	}
	int rc;
	if (list_add) {
		rc = sublist_create(&c.ctx, rid, in, &id);
		if (!rc)
			out = json_pack("{s:I}", "id", (json_int_t)id);
	} else if (lists) {
		rc = sublist_list(&c.ctx, rid, &out);
	} else if (is_new) {
		rc = mailing_create(&c.ctx, rid, in, &id);
		if (!rc)
			rc = mailing_get(&c.ctx, rid, id, &out);
	} else if (is_list) {
		rc = mailing_list(&c.ctx, rid, &out);
	} else if (strcmp(verb, "preview") == 0) {
		rc = mailing_preview(&c.ctx, rid, id, &out);
	} else if (strcmp(verb, "send") == 0) {
		rc = mailing_send(&c.ctx, rid, id, &so, &out);
	} else {
		rc = mailing_get(&c.ctx, rid, id, &out);
		if (!rc && vals[3]) {
			json_t *list = NULL;
			rc = mailing_recipients(&c.ctx, rid, id, &list);
			if (!rc)
				json_object_set_new(out, "recipient_list",
				                    json_incref(json_object_get(list, "items")));
			json_decref(list);
		}
	}
	status = finish(&c, rc, out);
	goto out;
usage:
	fputs(mailing_usage, stderr);
	status = 2;
out:
	json_decref(in);
	free(rest);
	return status;
}
