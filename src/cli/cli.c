/*
 * Command-line plumbing shared by every subcommand: opening the data directory as the
 * operator, --now, printing JSON and errors, and KEY=VALUE argument objects.
 */
#include "cli/cli.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/app.h"
#include "store/store.h"
#include "util/crypto.h"

bool cli_open(struct cli *c, struct globals *g)
{
	memset(c, 0, sizeof(*c));
	arena_init(&c->mem);
	if (app_open(g->data, &c->app, &c->err) != 0) {
		cli_fail(c);
		return false;
	}
	c->app->has_now = g->has_now;
	c->app->now = g->now_t;
	if (app_connect(c->app, &c->ctx.db, &c->err) != 0) {
		cli_fail(c);
		app_free(c->app);
		c->app = NULL;
		return false;
	}
	const struct passwd *pw = getpwuid(getuid());
	c->actor.kind = ACTOR_OPERATOR;
	c->actor.name = arena_printf(&c->mem, "operator:%s", pw ? pw->pw_name : "unknown");
	c->ctx.actor = &c->actor;
	c->ctx.mem = &c->mem;
	c->ctx.err = &c->err;
	c->ctx.app = c->app;
	c->ctx.may_reveal = true;
	c->ctx.sees_restricted = true;
	kctx_set_now(&c->ctx, app_now(c->app));
	return true;
}

void cli_close(struct cli *c)
{
	store_close(c->ctx.db);
	app_free(c->app);
	arena_free(&c->mem);
}

int cli_fail(struct cli *c)
{
	fprintf(stderr, "kortisto: %s\n", c->err.message[0] ? c->err.message : "failed");
	return 1;
}

void cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

json_t *cli_kv_object(int argc, char **argv)
{
	json_t *o = json_object();
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i]) {
			fprintf(stderr, "kortisto: expected KEY=VALUE or KEY:=JSON, got '%s'\n",
			        argv[i]);
			goto bad;
		}
		bool raw = eq > argv[i] && eq[-1] == ':';
		size_t klen = (size_t)(eq - argv[i]) - (raw ? 1 : 0);
		char key[128];
		if (klen == 0 || klen >= sizeof(key)) {
			fprintf(stderr, "kortisto: bad key in '%s'\n", argv[i]);
			goto bad;
		}
		memcpy(key, argv[i], klen);
		key[klen] = '\0';
		json_t *v;
		if (raw) {
			json_error_t jerr;
			v = json_loads(eq + 1, JSON_DECODE_ANY, &jerr);
			if (!v) {
				fprintf(stderr, "kortisto: %s: not valid JSON: %s\n", key,
				        jerr.text);
				goto bad;
			}
		} else {
			v = json_string(eq + 1);
			if (!v) {
				fprintf(stderr, "kortisto: %s: not valid UTF-8\n", key);
				goto bad;
			}
		}
		/* attributes.NAME=VALUE goes into the attributes object. */
		if (strncmp(key, "attributes.", 11) == 0 && key[11]) {
			json_t *attrs = json_object_get(o, "attributes");
			if (!attrs) {
				attrs = json_object();
				json_object_set_new(o, "attributes", attrs);
			}
			json_object_set_new(attrs, key + 11, v);
		} else {
			json_object_set_new(o, key, v);
		}
	}
	return o;
bad:
	json_decref(o);
	return NULL;
}

bool cli_parse_id(const char *s, int64_t *id)
{
	int64_t v = 0;
	if (!s || !*s || strlen(s) > 18)
		goto bad;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (*p - '0');
	}
	if (v <= 0)
		goto bad;
	*id = v;
	return true;
bad:
	fprintf(stderr, "kortisto: '%s' is not an id (a positive integer)\n", s ? s : "");
	return false;
}
