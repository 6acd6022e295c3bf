/*
 * Data directory and application state. `kortisto init DIR` lays out kortisto.conf,
 * field.key and kortisto.db; app_open() reads them back and parses the current declaration
 * of every register once, so requests never parse YAML.
 */
#include "core/app.h"

#include <errno.h>
#include <stddef.h>
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
        "page_max = 200\n"
        "\n"
        "# Seconds a connection may stay idle or slow before it is closed.\n"
        "request_timeout = 30\n"
        "\n"
        "# TLS: PEM certificate chain and key (serve --tls-cert/--tls-key override). Leave\n"
        "# empty when a reverse proxy terminates TLS (see docs/deploy.md).\n"
        "tls_cert =\n"
        "tls_key =\n"
        "\n"
        "# Passwords: days until a change is forced (0 = never) and how many earlier ones\n"
        "# may not be reused.\n"
        "password_max_age_days = 180\n"
        "password_history = 5\n"
        "\n"
        "# Second factor (TOTP) required for: none, admins, managers or admins,managers.\n"
        "totp_required = admins,managers\n"
        "\n"
        "# Sessions end after this many idle seconds, and at the latest this many seconds\n"
        "# after sign-in.\n"
        "session_idle = 1800\n"
        "session_lifetime = 43200\n"
        "\n"
        "# Failed sign-ins (per account and per client address): after signin_delay_after\n"
        "# failures each attempt must wait a growing delay; after signin_lock_after the\n"
        "# account or address is locked for signin_lock_seconds.\n"
        "signin_delay_after = 3\n"
        "signin_lock_after = 10\n"
        "signin_lock_seconds = 900\n"
        "\n"
        "# Session cookie: 'auto' drops the Secure flag only when serving plain HTTP on\n"
        "# 127.0.0.1 (development); 'always' keeps it.\n"
        "secure_cookie = auto\n"
        "\n"
        "# Usage log: days entries are kept (0 = for ever; pruning leaves a signed\n"
        "# checkpoint), and seconds between chain-head anchors written to the anchor file\n"
        "# (empty = DATADIR/audit-anchors.log; keep a copy where the database is not).\n"
        "usage_log_retention_days = 1825\n"
        "audit_anchor_interval = 3600\n"
        "audit_anchor_file =\n"
        "\n"
        "# Outgoing mail (sign-in links of self-service requests, newsletters); empty\n"
        "# smtp_url means no mail is sent. smtp://HOST:587 with smtp_require_tls = true\n"
        "# (STARTTLS) or smtps://HOST:465; a /NAME after the port is the name kortisto\n"
        "# gives in EHLO. The password is the first line of smtp_password_file (mode 0600).\n"
        "smtp_url =\n"
        "smtp_user =\n"
        "smtp_password_file =\n"
        "smtp_require_tls = false\n"
        "# Seconds to connect to the SMTP server; one message may take twice this.\n"
        "smtp_timeout = 30\n"
        "# Sender address and display name of the mail kortisto sends.\n"
        "mail_from =\n"
        "mail_from_name =\n"
        "\n"
        "# Retention: the directory archive_then_delete rules write their packages to\n"
        "# (empty = DATADIR/archive), how many persons or records one transaction of a\n"
        "# retention run handles, and the time of day (HH:MM, UTC) from which the server\n"
        "# runs the retention rules once a day (empty = it does not; run\n"
        "# `kortisto retention run` from cron or a timer instead).\n"
        "archive_dir =\n"
        "retention_batch = 500\n"
        "retention_time =\n"
        "\n"
        "# The address people reach kortisto at, as people outside see it\n"
        "# (https://rekisteri.example.fi), for the links in mail: one-click unsubscribe,\n"
        "# open pixel, consent confirmation, self-service (/p/me) and directory editing.\n"
        "# Empty: mailings are not sent, and self-service and directory editing are off.\n"
        "public_url =\n";

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

/* Integer settings: key, where it goes, bounds and default. */
struct int_setting {
	const char *key;
	size_t offset;
	long long min, max, def;
};

#define INT_SETTING(k, lo, hi, d)                                                                  \
	{                                                                                          \
#k, offsetof(struct config, k), lo, hi, d                                          \
	}
static const struct int_setting int_settings[] = {
        INT_SETTING(threads, 0, 256, 0),
        INT_SETTING(page_max, 1, 10000, 200),
        INT_SETTING(request_timeout, 1, 3600, 30),
        INT_SETTING(password_max_age_days, 0, 3650, 180),
        INT_SETTING(password_history, 0, 100, 5),
        INT_SETTING(session_idle, 1, 86400, 1800),
        INT_SETTING(session_lifetime, 1, 31 * 86400, 43200),
        INT_SETTING(signin_delay_after, 1, 1000, 3),
        INT_SETTING(signin_lock_after, 1, 1000, 10),
        INT_SETTING(signin_lock_seconds, 1, 86400, 900),
        INT_SETTING(usage_log_retention_days, 0, 36500, 1825),
        INT_SETTING(audit_anchor_interval, 1, 86400 * 7, 3600),
        {"smtp_timeout", offsetof(struct config, mail.timeout), 1, 3600, 30},
        INT_SETTING(retention_batch, 1, 100000, 500),
};

/* String settings: key, buffer and its size. */
#define STR_SETTING(k)                                                                             \
	{                                                                                          \
#k, offsetof(struct config, k), sizeof(((struct config *)0)->k)                    \
	}
static const struct {
	const char *key;
	size_t offset, size;
} str_settings[] = {
        STR_SETTING(listen),
        STR_SETTING(tls_cert),
        STR_SETTING(tls_key),
        STR_SETTING(audit_anchor_file),
        STR_SETTING(archive_dir),
        {"smtp_user", offsetof(struct config, mail.user), sizeof(((struct config *)0)->mail.user)},
        {"smtp_password_file", offsetof(struct config, mail.password_file),
         sizeof(((struct config *)0)->mail.password_file)},
};

/* Checks the mail settings whose values have a form; false for a bad value. */
static bool mail_setting_valid(const char *key, const char *val)
{
	if (val[0] == '\0')
		return true; /* empty: mail off, or no default sender */
	if (strcmp(key, "smtp_url") == 0)
		return mail_url_valid(val, NULL, 0, NULL);
	if (strcmp(key, "mail_from") == 0) {
		char norm[255];
		return email_valid(val, norm, sizeof(norm), NULL);
	}
	/* mail_from_name: UTF-8 text without control characters */
	for (const char *p = val; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return utf8_valid(val, strlen(val));
}

/* Checks public_url (its trailing slashes already dropped): empty, or http:// or https://
 * and a host, with no query, fragment, user information, quote, space or control character,
 * so that a path can be appended to it and the result put in a mail as it is. */
static bool public_url_valid(const char *val)
{
	size_t len = strlen(val);
	const char *host;
	if (len == 0)
		return true;
	if (strncmp(val, "https://", 8) == 0)
		host = val + 8;
	else if (strncmp(val, "http://", 7) == 0)
		host = val + 7;
	else
		return false;
	if (!*host || *host == '/' || val[len - 1] == '/')
		return false;
	for (const char *p = host; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("?#@\"'<>\\`", c))
			return false;
	}
	return true;
}

/* Mail settings with a form to check: key, buffer and its size. */
static const struct {
	const char *key;
	size_t offset, size;
} mail_settings[] = {
        {"smtp_url", offsetof(struct config, mail.url), sizeof(((struct config *)0)->mail.url)},
        {"mail_from", offsetof(struct config, mail.from), sizeof(((struct config *)0)->mail.from)},
        {"mail_from_name", offsetof(struct config, mail.from_name),
         sizeof(((struct config *)0)->mail.from_name)},
};

static void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:8080");
	cfg->max_body = 1048576;
	for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++)
		*(int *)((char *)cfg + int_settings[i].offset) = (int)int_settings[i].def;
	cfg->totp_admins = cfg->totp_managers = true;
}

/* Applies one KEY = VALUE; returns false for an unknown key or a bad value. */
static bool config_set(struct config *cfg, const char *key, const char *val)
{
	long long n = 0;
	for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++) {
		const struct int_setting *s = &int_settings[i];
		if (strcmp(key, s->key) != 0)
			continue;
		if (!int_valid(val, &n, NULL) || n < s->min || n > s->max)
			return false;
		*(int *)((char *)cfg + s->offset) = (int)n;
		return true;
	}
	if (strcmp(key, "retention_time") == 0) {
		/* Empty, or HH:MM of a 24-hour clock. */
		bool ok = !*val ||
		          (strlen(val) == 5 && val[2] == ':' && val[0] >= '0' && val[0] <= '2' &&
		           val[1] >= '0' && val[1] <= '9' && val[3] >= '0' && val[3] <= '5' &&
		           val[4] >= '0' && val[4] <= '9' && (val[0] < '2' || val[1] <= '3'));
		if (ok)
			snprintf(cfg->retention_time, sizeof(cfg->retention_time), "%s", val);
		return ok;
	}
	for (size_t i = 0; i < sizeof(str_settings) / sizeof(str_settings[0]); i++) {
		if (strcmp(key, str_settings[i].key) != 0)
			continue;
		size_t len = strlen(val);
		if (len >= str_settings[i].size)
			return false;
		memcpy((char *)cfg + str_settings[i].offset, val, len + 1);
		return true;
	}
	for (size_t i = 0; i < sizeof(mail_settings) / sizeof(mail_settings[0]); i++) {
		if (strcmp(key, mail_settings[i].key) != 0)
			continue;
		size_t len = strlen(val);
		if (len >= mail_settings[i].size || !mail_setting_valid(key, val))
			return false;
		memcpy((char *)cfg + mail_settings[i].offset, val, len + 1);
		return true;
	}
	if (strcmp(key, "public_url") == 0) {
		/* A trailing slash, as people often type it, is dropped: paths are appended. */
		size_t len = strlen(val);
		while (len > 0 && val[len - 1] == '/')
			len--;
		if (len >= sizeof(cfg->public_url))
			return false;
		memcpy(cfg->public_url, val, len);
		cfg->public_url[len] = '\0';
		if (!public_url_valid(cfg->public_url)) {
			cfg->public_url[0] = '\0';
			return false;
		}
		return true;
	}
	if (strcmp(key, "smtp_require_tls") == 0)
		return bool_valid(val, &cfg->mail.require_tls, NULL);
	if (strcmp(key, "max_body") == 0) {
		if (!int_valid(val, &n, NULL) || n < 1024 || n > 1073741824)
			return false;
		cfg->max_body = (size_t)n;
		return true;
	}
	if (strcmp(key, "totp_required") == 0) {
		bool none = strcmp(val, "none") == 0;
		cfg->totp_admins = strstr(val, "admins") != NULL;
		cfg->totp_managers = strstr(val, "managers") != NULL;
		return none || strcmp(val, "admins") == 0 || strcmp(val, "managers") == 0 ||
		       strcmp(val, "admins,managers") == 0 || strcmp(val, "managers,admins") == 0;
	}
	if (strcmp(key, "secure_cookie") == 0) {
		cfg->secure_cookie_always = strcmp(val, "always") == 0;
		return cfg->secure_cookie_always || strcmp(val, "auto") == 0;
	}
	return false;
}

static int config_load(const char *path, struct config *cfg, struct kerr *err)
{
	config_defaults(cfg);
	FILE *f = fopen(path, "r");
	if (!f)
		return kerr_set(err, KERR_INTERNAL, NULL, "cannot open %s: %s", path,
		                strerror(errno));
	char line[1024];
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
		if (!config_set(cfg, key, val)) {
			rc = kerr_set(err, KERR_INVALID, key,
			              "%s:%d: unknown key or bad value for '%s'", path, lineno,
			              key);
			break;
		}
	}
	fclose(f);
	if (rc == 0) {
		/* Settings that only make sense together, checked here so that a server with a
		 * broken mail setup does not start. */
		struct kerr mail_err = {0};
		if (mail_config_check(&cfg->mail, NULL, 0, &mail_err))
			rc = kerr_set(err, mail_err.code, mail_err.field, "%s: %s", path,
			              mail_err.message);
	}
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
