/*
 * Shared plumbing of the command-line interface: the subcommand table, global options
 * (--data, --now) and an open data directory with a context for core calls. Subcommands
 * print for people on stdout and errors on stderr; exit status 0 ok, 1 refused or failed,
 * 2 usage error.
 */
#ifndef KORTISTO_CLI_H
#define KORTISTO_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/ctx.h"
#include "util/arena.h"
#include "util/kerr.h"

struct kapp;

struct globals {
	const char *data; /* data directory */
	const char *now;  /* --now as given, or NULL */
	int64_t now_t;
	bool has_now;
};

/* An open data directory and a context for one command. */
struct cli {
	struct kapp *app;
	struct arena mem;
	struct kerr err;
	struct actor actor;
	struct kctx ctx;
};

/* Opens g->data and fills a context acting as the operator. Prints the error and returns
 * false when it cannot. */
bool cli_open(struct cli *c, struct globals *g);
void cli_close(struct cli *c);

/* Prints c->err (or `what` when empty) to stderr; returns exit status 1. */
int cli_fail(struct cli *c);

/* Prints a JSON value indented on stdout. */
void cli_print_json(json_t *v);

/* Builds a JSON object from KEY=VALUE (string) and KEY:=JSON arguments; prints the problem
 * and returns NULL on a malformed one. */
json_t *cli_kv_object(int argc, char **argv);

/* Parses a positive id; prints an error and returns false on anything else. */
bool cli_parse_id(const char *s, int64_t *id);

typedef int (*cli_fn)(struct globals *g, int argc, char **argv);

int cmd_init(struct globals *g, int argc, char **argv);
int cmd_serve(struct globals *g, int argc, char **argv);
int cmd_register(struct globals *g, int argc, char **argv);
int cmd_person(struct globals *g, int argc, char **argv);
int cmd_org(struct globals *g, int argc, char **argv);
int cmd_affiliation(struct globals *g, int argc, char **argv);
int cmd_import(struct globals *g, int argc, char **argv);
int cmd_user(struct globals *g, int argc, char **argv);           /* cli/user.c */
int cmd_token(struct globals *g, int argc, char **argv);          /* cli/user.c */
int cmd_commitment(struct globals *g, int argc, char **argv);     /* cli/user.c */
int cmd_audit(struct globals *g, int argc, char **argv);          /* cli/audit.c */
int cmd_disclose(struct globals *g, int argc, char **argv);       /* cli/audit.c */
int cmd_notice(struct globals *g, int argc, char **argv);         /* cli/notice.c */
int cmd_record(struct globals *g, int argc, char **argv);         /* cli/notice.c */
int cmd_request(struct globals *g, int argc, char **argv);        /* cli/request.c */
int cmd_retention(struct globals *g, int argc, char **argv);      /* cli/retention.c */
int cmd_service_record(struct globals *g, int argc, char **argv); /* cli/service.c */
int cmd_stats(struct globals *g, int argc, char **argv);          /* cli/service.c */
int cmd_survey(struct globals *g, int argc, char **argv);         /* cli/survey.c */
/* `kortisto person event …`, called by cmd_person with the arguments after the verb. */
int cmd_person_event(struct globals *g, int argc, char **argv); /* cli/retention.c */
int cmd_consent(struct globals *g, int argc, char **argv);      /* cli/consent.c */
int cmd_mailing(struct globals *g, int argc, char **argv);      /* cli/consent.c */
int cmd_directory(struct globals *g, int argc, char **argv);    /* cli/directory.c */
int cmd_event(struct globals *g, int argc, char **argv);        /* cli/event.c */

#endif
