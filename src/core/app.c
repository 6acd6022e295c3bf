/*
 * Data directory and application state. `kortisto init DIR` lays out kortisto.conf,
 * field.key and kortisto.db; app_open() reads them back and parses the current declaration
 * of every register once, so requests never parse YAML.
 */
#include "core/app.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/ctx.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"
#include "util/xmalloc.h"

static const char default_config[] =
        "# kortisto configuration. Lines are KEY = VALUE; '#' starts a comment.\n"
        "\n"
        "# Address and port the server listens on (kortisto serve --listen overrides it).\n"
        "listen = 127.0.0.1:8080\n"
        "\n"
        "# Worker threads; 0 means one per CPU.\n"
        "threads = 0\n"
        "\n"
        "# Largest request body accepted, in bytes (larger requests get 413).\n"
        "max_body = 1048576\n"
        "\n"
        "# Largest page a list or search returns.\n"
        "page_max = 200\n";

void kctx_set_now(struct kctx *ctx, int64_t t)
{
	ctx->now = t;
	time_format_iso8601(t, ctx->now_iso);
}

static char *path_join(const char *dir, const char *name)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, dir);
	if (b.len && b.p[b.len - 1] != '/')
		buf_putc(&b, '/');
	buf_puts(&b, name);
	return b.p;
}

static int write_file(const char *path, const char *text, mode_t mode, struct kerr *err)
{
	FILE *f = fopen(path, "wx");
	if (!f)
		return kerr_set(err, KERR_INTERNAL, NULL, "cannot create %s: %s", path,
		                strerror(errno));
	chmod(path, mode);
	int ok = fputs(text, f) >= 0;
	ok = (fclose(f) == 0) && ok;
	return ok ? 0 : kerr_set(err, KERR_INTERNAL, NULL, "cannot write %s", path);
}

int app_init_datadir(const char *dir, struct kerr *err)
{
	char *db = path_join(dir, "kortisto.db");
	char *conf = path_join(dir, "kortisto.conf");
	char *key = path_join(dir, "field.key");
	struct store *s = NULL;
	struct stat st;
	int rc = 0;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = kerr_set(err, KERR_INTERNAL, NULL, "cannot create %s: %s", dir,
		              strerror(errno));
		goto out;
	}
	if (stat(db, &st) == 0) {
		rc = kerr_set(err, KERR_CONFLICT, NULL, "%s already holds a kortisto database",
		              dir);
		goto out;
	}
	if (stat(conf, &st) != 0 && (rc = write_file(conf, default_config, 0600, err)))
		goto out;
	if (stat(key, &st) != 0 && (rc = keys_create(key, err)))
		goto out;
	rc = store_open(db, true, &s, err);
	if (!rc)
		chmod(db, 0600);
out:
	store_close(s);
	free(db);
	free(conf);
	free(key);
	return rc;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int config_load(const char *path, struct config *cfg, struct kerr *err)
{
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:8080");
	cfg->threads = 0;
	cfg->max_body = 1048576;
	cfg->page_max = 200;

	FILE *f = fopen(path, "r");
	if (!f)
		return kerr_set(err, KERR_INTERNAL, NULL, "cannot open %s: %s", path,
		                strerror(errno));
	char line[512];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = kerr_set(err, KERR_INVALID, NULL, "%s:%d: expected KEY = VALUE", path,
			              lineno);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		long long n = 0;
		if (strcmp(key, "listen") == 0) {
			snprintf(cfg->listen, sizeof(cfg->listen), "%s", val);
		} else if (strcmp(key, "threads") == 0 && int_valid(val, &n, NULL) && n >= 0 &&
		           n <= 256) {
			cfg->threads = (int)n;
		} else if (strcmp(key, "max_body") == 0 && int_valid(val, &n, NULL) && n >= 1024 &&
		           n <= 1073741824) {
			cfg->max_body = (size_t)n;
		} else if (strcmp(key, "page_max") == 0 && int_valid(val, &n, NULL) && n >= 1 &&
		           n <= 10000) {
			cfg->page_max = (int)n;
		} else {
			rc = kerr_set(err, KERR_INVALID, key,
			              "%s:%d: unknown key or bad value '%s'", path, lineno, key);
			break;
		}
	}
	fclose(f);
	return rc;
}

int app_connect(const struct kapp *app, struct store **out, struct kerr *err)
{
	return store_open(app->dbpath, false, out, err);
}

static void registry_free(struct registry *r)
{
	while (r) {
		struct registry *older = r->older;
		for (size_t i = 0; i < r->n; i++) {
			free(r->v[i].id);
			decl_free(r->v[i].decl);
		}
		free(r->v);
		free(r->signature);
		free(r);
		r = older;
	}
}

/* The "id:version,…" signature of the registers' current versions. */
static int registers_signature(struct store *db, struct buf *sig, struct kerr *err)
{
	struct query *q = store_query(db, ST_REG_SIGNATURE);
	int rc;
	while ((rc = q_step(q, err)) == 1)
		buf_appendf(sig, "%s:%lld,", q_col_text(q, 0), (long long)q_col_int(q, 1));
	q_done(q);
	return rc;
}

int app_load_registers(struct kapp *app, struct store *db, bool force, bool *changed,
                       struct kerr *err)
{
	struct registry *cur = atomic_load(&app->registry), *r = NULL;
	struct buf sig = BUF_INIT;
	size_t cap = 0;
	int rc;

	if (changed)
		*changed = false;
	if ((rc = registers_signature(db, &sig, err)))
		goto out;
	if (!force && cur && strcmp(cur->signature, buf_str(&sig)) == 0)
		goto out;

	r = xcalloc(1, sizeof(*r));
	r->signature = xstrdup(buf_str(&sig));
	struct query *q = store_query(db, ST_REG_LIST);
	while ((rc = q_step(q, err)) == 1) {
		const char *id = q_col_text(q, 0);
		const char *src = q_col_text(q, 5);
		struct decl_diags diags = {0};
		struct decl *d = NULL;
		if (decl_parse(id, src, q_col_bytes(q, 5), &d, &diags) != 0) {
			rc = kerr_set(err, KERR_INTERNAL, NULL,
			              "stored declaration of register %s no longer parses", id);
			decl_diags_free(&diags);
			break;
		}
		decl_diags_free(&diags);
		if (r->n == cap) {
			cap = cap ? cap * 2 : 8;
			r->v = xrealloc(r->v, cap * sizeof(*r->v));
		}
		r->v[r->n].id = xstrdup(id);
		r->v[r->n].version = (int)q_col_int(q, 1);
		r->v[r->n].decl = d;
		r->n++;
	}
	q_done(q);
	if (rc < 0) {
		registry_free(r);
		goto out;
	}
	rc = 0;
	r->older = cur;
	atomic_store(&app->registry, r);
	if (changed)
		*changed = true;
out:
	buf_free(&sig);
	return rc;
}

const struct registry *app_registers(const struct kapp *app)
{
	return atomic_load(&((struct kapp *)app)->registry);
}

int app_open(const char *dir, struct kapp **out, struct kerr *err)
{
	struct kapp *app = xcalloc(1, sizeof(*app));
	struct store *db = NULL;
	char *conf = path_join(dir, "kortisto.conf");
	char *key = path_join(dir, "field.key");
	struct stat st;
	int rc;

	*out = NULL;
	app->datadir = xstrdup(dir);
	app->dbpath = path_join(dir, "kortisto.db");
	if (stat(app->dbpath, &st) != 0) {
		rc = kerr_set(err, KERR_NOTFOUND, NULL,
		              "%s is not a kortisto data directory (run: kortisto init %s)", dir,
		              dir);
		goto out;
	}
	if ((rc = config_load(conf, &app->cfg, err)))
		goto out;
	if ((rc = keys_load(key, &app->keys, err)))
		goto out;
	if ((rc = app_connect(app, &db, err)))
		goto out;
	rc = app_load_registers(app, db, true, NULL, err);
out:
	store_close(db);
	free(conf);
	free(key);
	if (rc) {
		app_free(app);
		return rc;
	}
	*out = app;
	return 0;
}

void app_free(struct kapp *app)
{
	if (!app)
		return;
	registry_free(atomic_load(&app->registry));
	keys_wipe(&app->keys);
	free(app->datadir);
	free(app->dbpath);
	free(app);
}

const struct decl *app_register(const struct kapp *app, const char *rid)
{
	const struct registry *r = app_registers(app);
	if (!rid || !r)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, rid) == 0)
			return r->v[i].decl;
	return NULL;
}

int64_t app_now(const struct kapp *app)
{
	if (app && app->has_now)
		return app->now;
	return (int64_t)time(NULL);
}
