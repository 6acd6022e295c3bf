/*
 * Feedback surveys: definitions, anonymous answers, the unlinkable raffle, the draw, expiry
 * and statistics. The design decision a reader must know: answers and raffle entries share
 * nothing but the survey id. Both are keyed by 16 random bytes in WITHOUT ROWID tables; an
 * answer carries its day, never a time, and an entry carries no date at all (the raffle's
 * declared deletion period runs from its oldest entry). Every new raffle entry writes all
 * entries of its raffle anew in random order, so not even the place of a row in a database
 * page tells which entry came when. No statement reads both tables, and no client address,
 * actor or cookie reaches either.
 */
#include "core/survey.h"

#include <inttypes.h>
#include <libfyaml.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/account.h"
#include "core/app.h"
#include "core/ctx.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/csv.h"
#include "util/html.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"

#define MAX_QUESTIONS 100
#define MAX_OPTIONS   50
#define MAX_LABEL     500   /* a question or option text */
#define MAX_ANSWER    4000  /* a free-text answer */
#define MAX_DEF       65536 /* the definition as stored */
#define KEY_BYTES     16

static const char *const kinds[] = {"text", "rating", "single", "multiple", "background", NULL};
static const char *const topics[] = {
        "age_band", "profession", "family_situation", "gender", "mother_tongue", "role", NULL};
static const char *const lang_keys[] = {"fi", "sv", "en", NULL};

static bool in_names(const char *const *names, const char *s)
{
	for (size_t i = 0; s && names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------------------------------
 * YAML input
 */

static void fy_silent(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/* A plain YAML scalar as JSON: integers, true/false and null keep their type; quoted
 * scalars and everything else are strings. */
static json_t *scalar_json(struct fy_node *n)
{
	size_t len;
	const char *s = fy_node_get_scalar(n, &len);
	char tmp[32];
	if (!s)
		return json_string("");
	if (fy_node_get_style(n) == FYNS_PLAIN && len < sizeof(tmp)) {
		long long v;
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (!strcmp(tmp, "true"))
			return json_true();
		if (!strcmp(tmp, "false"))
			return json_false();
		if (!strcmp(tmp, "null") || !strcmp(tmp, "~"))
			return json_null();
		if (int_valid(tmp, &v, NULL))
			return json_integer(v);
	}
	return json_stringn(s, len);
}

/* The line of node `n`; a collection has no position of its own in libfyaml 0.7, so its
 * first scalar's. */
static int node_line(struct fy_node *n)
{
	for (int depth = 0; n && depth < 8 && fy_node_get_type(n) != FYNT_SCALAR; depth++) {
		void *it = NULL;
		if (fy_node_get_type(n) == FYNT_MAPPING) {
			struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
			n = pr ? fy_node_pair_key(pr) : NULL;
		} else {
			n = fy_node_sequence_iterate(n, &it);
		}
	}
	if (!n || fy_node_get_type(n) != FYNT_SCALAR)
		return 0;
	struct fy_token *t = fy_node_get_scalar_token(n);
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
	return m && m->line >= 0 && m->line < 1000000 ? m->line + 1 : 0;
}

static json_t *node_json(struct fy_node *n, const char *path, json_t *lines, int depth)
{
	json_object_set_new(lines, path, json_integer(node_line(n)));
	if (depth > 16)
		return json_null();
	if (fy_node_is_alias(n))
		n = fy_node_resolve_alias(n);
	if (!n)
		return json_null();
	if (fy_node_is_mapping(n)) {
		json_t *o = json_object();
		void *it = NULL;
		struct fy_node_pair *p;
		while ((p = fy_node_mapping_iterate(n, &it))) {
			struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
			size_t kl;
			const char *ks = k ? fy_node_get_scalar(k, &kl) : NULL;
			if (!ks || !v)
				continue;
			char *key = strndup(ks, kl);
			char *sub = NULL;
			if (!key || asprintf(&sub, "%s%s%s", path, *path ? "." : "", key) < 0)
				abort();
			json_object_set_new(o, key, node_json(v, sub, lines, depth + 1));
			free(sub);
			free(key);
		}
		return o;
	}
	if (fy_node_is_sequence(n)) {
		json_t *a = json_array();
		void *it = NULL;
		struct fy_node *v;
		size_t i = 0;
		while ((v = fy_node_sequence_iterate(n, &it))) {
			char *sub = NULL;
			if (asprintf(&sub, "%s[%zu]", path, i++) < 0)
				abort();
			json_array_append_new(a, node_json(v, sub, lines, depth + 1));
			free(sub);
		}
		return a;
	}
	return scalar_json(n);
}

int survey_parse_yaml(const char *text, size_t len, json_t **def, json_t **lines, struct kerr *err)
{
	struct fy_diag_cfg dc;
	struct fy_parse_cfg cfg;
	struct fy_diag *fd;
	struct fy_parser *fyp = NULL;
	struct fy_document *doc = NULL;
	int rc = 0;

	*def = NULL;
	*lines = NULL;
	if (!text) {
		text = "";
		len = 0;
	}
	if (len > 1024 * 1024)
		return kerr_set(err, KERR_INVALID, NULL, "the definition is larger than 1 MiB");
	if (memchr(text, '\0', len) || !utf8_valid(text, len))
		return kerr_set(err, KERR_INVALID, NULL, "the definition is not UTF-8 text");
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = fy_silent;
	dc.colorize = false;
	if (!(fd = fy_diag_create(&dc)))
		abort();
	fy_diag_set_collect_errors(fd, true);
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = FYPCF_QUIET | FYPCF_JSON_NONE;
	cfg.diag = fd;
	if (!(fyp = fy_parser_create(&cfg)))
		abort();
	if (fy_parser_set_string(fyp, len ? text : "", len) == 0)
		doc = fy_parse_load_document(fyp);
	if (fy_diag_got_error(fd) || !doc || !fy_document_root(doc)) {
		struct fy_diag_error *e;
		void *it = NULL;
		while ((e = fy_diag_errors_iterate(fd, &it)))
			if (e->type >= FYET_ERROR) {
				rc = kerr_set(err, KERR_INVALID, NULL, "%d:%d: invalid YAML: %s",
				              e->line > 0 ? e->line : 1,
				              e->column > 0 ? e->column : 1,
				              e->msg ? e->msg : "syntax error");
				break;
			}
		if (!rc)
			rc = kerr_set(err, KERR_INVALID, NULL,
			              doc ? "1:1: the definition is empty" : "1:1: invalid YAML");
		goto out;
	}
	*lines = json_object();
	*def = node_json(fy_document_root(doc), "", *lines, 0);
out:
	if (doc)
		fy_parse_document_destroy(fyp, doc);
	fy_parser_destroy(fyp);
	fy_diag_destroy(fd);
	return rc;
}

int survey_error_line(json_t *lines, const char *field)
{
	char path[256];
	if (!lines || !field)
		return 0;
	snprintf(path, sizeof(path), "%s", field);
	for (;;) {
		json_t *l = json_object_get(lines, path);
		if (json_is_integer(l))
			return (int)json_integer_value(l);
		char *cut = strrchr(path, '.');
		char *br = strrchr(path, '[');
		if (br && (!cut || br > cut))
			cut = br;
		if (!cut)
			return 0;
		*cut = '\0';
	}
}

/* ------------------------------------------------------------------------------------------
 * Who may do what
 */

static const struct decl *reg_or_fail(struct kctx *ctx, const char *rid)
{
	const struct decl *d = rid ? app_register(ctx->app, rid) : NULL;
	if (!d)
		kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		         rid && ident_valid(rid, NULL) ? rid : "?");
	return d;
}

/* Whether the actor has at least `least` on `rid`, read from the grants whatever the caller
 * checked (core/ is the one door). The operator and kortisto's own jobs may. */
static int need_role(struct kctx *ctx, const char *rid, enum role least, const char *what)
{
	struct principal p;
	int rc;
	if (ctx->actor && (ctx->actor->kind == ACTOR_OPERATOR || ctx->actor->kind == ACTOR_SYSTEM))
		return 0;
	if (!ctx->actor || ctx->actor->kind == ACTOR_ANON || ctx->processor)
		goto forbidden;
	if ((rc = account_actor(ctx, &p)) == KERR_FORBIDDEN)
		goto forbidden;
	if (rc)
		return rc;
	if (auth_role(ctx, &p, rid, NULL) >= least)
		return 0;
forbidden:
	kerr_clear(ctx->err);
	return kerr_set(ctx->err, KERR_FORBIDDEN, NULL, "only a %s of register '%s' may %s",
	                role_name(least), rid, what);
}

/* ------------------------------------------------------------------------------------------
 * Definitions
 */

/* An object of texts {fi, sv?, en?}; a plain string counts as Finnish. Returns a new
 * object, or NULL with the error set. */
static json_t *ltext(struct kctx *ctx, json_t *v, const char *path, bool required)
{
	json_t *out = json_object(), *t;
	const char *k;
	if (!v && !required)
		return out;
	if (json_is_string(v))
		v = json_pack("{s:O}", "fi", v);
	else
		json_incref(v);
	if (!json_is_object(v))
		goto bad;
	json_object_foreach (v, k, t) {
		const char *s = json_string_value(t);
		size_t n = s ? json_string_length(t) : 0;
		if (!in_names(lang_keys, k) || !s || n > MAX_LABEL || strlen(s) != n ||
		    !utf8_valid(s, n))
			goto bad;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20)
				goto bad;
		if (n)
			json_object_set(out, k, t);
	}
	if (!json_object_get(out, "fi"))
		goto bad;
	json_decref(v);
	return out;
bad:
	json_decref(v);
	json_decref(out);
	kerr_set(ctx->err, KERR_INVALID, path,
	         "%s: a text in Finnish (fi), and in Swedish (sv) and English (en) if given, of "
	         "at most %d bytes each without control characters",
	         path, MAX_LABEL);
	return NULL;
}

static int only_keys(struct kctx *ctx, json_t *o, const char *const *keys, const char *path)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return kerr_set(ctx->err, KERR_INVALID, *path ? path : NULL,
		                "%s: must be a mapping", *path ? path : "the definition");
	json_object_foreach (o, k, v) {
		if (!in_names(keys, k)) {
			const char *name = ident_valid(k, NULL) ? k : "?";
			const char *f =
			        arena_printf(ctx->mem, "%s%s%s", path, *path ? "." : "", name);
			return kerr_set(ctx->err, KERR_INVALID, f,
			                "%s: not a member of a survey %s", f,
			                *path ? "question" : "definition");
		}
	}
	return 0;
}

static int ident_member(struct kctx *ctx, json_t *o, const char *key, const char *path,
                        const char **out)
{
	const char *s = json_string_value(json_object_get(o, key));
	const char *f = arena_printf(ctx->mem, "%s%s%s", path, *path ? "." : "", key);
	if (!s || !ident_valid(s, NULL) || strlen(s) > 64)
		return kerr_set(ctx->err, KERR_INVALID, f,
		                "%s: required, an identifier (lower-case letters, digits, _ and -)",
		                f);
	*out = s;
	return 0;
}

static int int_member(struct kctx *ctx, json_t *o, const char *key, const char *path, long lo,
                      long hi, long def, long *out)
{
	json_t *v = json_object_get(o, key);
	const char *f = arena_printf(ctx->mem, "%s.%s", path, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return kerr_set(ctx->err, KERR_INVALID, f, "%s: a whole number from %ld to %ld", f,
		                lo, hi);
	*out = (long)json_integer_value(v);
	return 0;
}

/* Checks question `q` at `path` and builds its canonical form in *out. */
static int check_question(struct kctx *ctx, json_t *q, const char *path, json_t *seen, json_t **out)
{
	static const char *const keys[] = {"id",     "kind",    "text",  "required",   "min", "max",
	                                   "labels", "options", "topic", "max_length", NULL};
	const char *id, *kind;
	json_t *c = NULL, *t;
	int rc;

	if ((rc = only_keys(ctx, q, keys, path)) || (rc = ident_member(ctx, q, "id", path, &id)))
		return rc;
	if (json_object_get(seen, id))
		return kerr_set(ctx->err, KERR_INVALID, arena_printf(ctx->mem, "%s.id", path),
		                "%s.id: question '%s' is already defined", path, id);
	json_object_set_new(seen, id, json_true());
	kind = json_string_value(json_object_get(q, "kind"));
	if (!in_names(kinds, kind))
		return kerr_set(ctx->err, KERR_INVALID, arena_printf(ctx->mem, "%s.kind", path),
		                "%s.kind: one of text, rating, single, multiple, background", path);
	if (!(t = ltext(ctx, json_object_get(q, "text"), arena_printf(ctx->mem, "%s.text", path),
	                true)))
		return KERR_INVALID;
	json_t *req = json_object_get(q, "required");
	if (req && !json_is_boolean(req)) {
		json_decref(t);
		return kerr_set(ctx->err, KERR_INVALID, arena_printf(ctx->mem, "%s.required", path),
		                "%s.required: true or false", path);
	}
	c = json_pack("{s:s, s:s, s:o, s:b}", "id", id, "kind", kind, "text", t, "required",
	              json_is_true(req));
	bool choice =
	        !strcmp(kind, "single") || !strcmp(kind, "multiple") || !strcmp(kind, "background");
	/* Members that only some kinds take. */
	const char *only = NULL;
	if (strcmp(kind, "rating") && (json_object_get(q, "min") || json_object_get(q, "max") ||
	                               json_object_get(q, "labels")))
		only = json_object_get(q, "labels") ? "labels" : "min";
	else if (!choice && json_object_get(q, "options"))
		only = "options";
	else if (strcmp(kind, "background") && json_object_get(q, "topic"))
		only = "topic";
	else if (strcmp(kind, "text") && json_object_get(q, "max_length"))
		only = "max_length";
	if (only) {
		rc = kerr_set(ctx->err, KERR_INVALID, arena_printf(ctx->mem, "%s.%s", path, only),
		              "%s.%s: not a member of a %s question", path, only, kind);
		goto fail;
	}
	if (!strcmp(kind, "rating")) {
		long lo, hi;
		json_t *labels = json_object_get(q, "labels"), *lmin = NULL, *lmax = NULL;
		if ((rc = int_member(ctx, q, "min", path, 0, 100, 1, &lo)) ||
		    (rc = int_member(ctx, q, "max", path, 0, 100, 5, &hi)))
			goto fail;
		if (hi <= lo || hi - lo > 20) {
			rc = kerr_set(
			        ctx->err, KERR_INVALID, arena_printf(ctx->mem, "%s.max", path),
			        "%s.max: greater than min, and at most 20 steps above it", path);
			goto fail;
		}
		json_object_set_new(c, "min", json_integer(lo));
		json_object_set_new(c, "max", json_integer(hi));
		if (labels) {
			static const char *const lkeys[] = {"min", "max", NULL};
			const char *lp = arena_printf(ctx->mem, "%s.labels", path);
			if ((rc = only_keys(ctx, labels, lkeys, lp)))
				goto fail;
			if (!(lmin = ltext(ctx, json_object_get(labels, "min"),
			                   arena_printf(ctx->mem, "%s.min", lp), false)) ||
			    !(lmax = ltext(ctx, json_object_get(labels, "max"),
			                   arena_printf(ctx->mem, "%s.max", lp), false))) {
				json_decref(lmin);
				rc = KERR_INVALID;
				goto fail;
			}
			json_object_set_new(c, "labels",
			                    json_pack("{s:o, s:o}", "min", lmin, "max", lmax));
		}
	} else if (!strcmp(kind, "text")) {
		long ml;
		if ((rc = int_member(ctx, q, "max_length", path, 1, MAX_ANSWER, 1000, &ml)))
			goto fail;
		json_object_set_new(c, "max_length", json_integer(ml));
	} else {
		json_t *opts = json_object_get(q, "options"), *o, *copts = json_array();
		json_t *oseen = json_object();
		size_t i;
		const char *op = arena_printf(ctx->mem, "%s.options", path);
		json_object_set_new(c, "options", copts);
		if (!json_is_array(opts) || json_array_size(opts) < 2 ||
		    json_array_size(opts) > MAX_OPTIONS) {
			json_decref(oseen);
			rc = kerr_set(ctx->err, KERR_INVALID, op,
			              "%s: a list of 2 to %d options {id, text}", op, MAX_OPTIONS);
			goto fail;
		}
		json_array_foreach (opts, i, o) {
			static const char *const okeys[] = {"id", "text", NULL};
			const char *p = arena_printf(ctx->mem, "%s[%zu]", op, i), *oid;
			json_t *ot;
			if ((rc = only_keys(ctx, o, okeys, p)) ||
			    (rc = ident_member(ctx, o, "id", p, &oid))) {
				json_decref(oseen);
				goto fail;
			}
			if (json_object_get(oseen, oid)) {
				json_decref(oseen);
				rc = kerr_set(ctx->err, KERR_INVALID,
				              arena_printf(ctx->mem, "%s.id", p),
				              "%s.id: option '%s' is already defined", p, oid);
				goto fail;
			}
			json_object_set_new(oseen, oid, json_true());
			if (!(ot = ltext(ctx, json_object_get(o, "text"),
			                 arena_printf(ctx->mem, "%s.text", p), true))) {
				json_decref(oseen);
				rc = KERR_INVALID;
				goto fail;
			}
			json_array_append_new(copts,
			                      json_pack("{s:s, s:o}", "id", oid, "text", ot));
		}
		json_decref(oseen);
		if (!strcmp(kind, "background")) {
			const char *topic = json_string_value(json_object_get(q, "topic"));
			if (!in_names(topics, topic)) {
				rc = kerr_set(ctx->err, KERR_INVALID,
				              arena_printf(ctx->mem, "%s.topic", path),
				              "%s.topic: one of age_band, profession, "
				              "family_situation, gender, mother_tongue, role",
				              path);
				goto fail;
			}
			json_object_set_new(c, "topic", json_string(topic));
		}
	}
	*out = c;
	return 0;
fail:
	json_decref(c);
	return rc;
}

/* Checks a whole definition and builds its canonical form. */
static int check_definition(struct kctx *ctx, json_t *def, json_t **out)
{
	static const char *const keys[] = {"key", "title", "intro", "raffle", "questions", NULL};
	const char *key;
	json_t *title = NULL, *intro = NULL, *qs, *q, *cq = NULL, *seen = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = only_keys(ctx, def, keys, "")) || (rc = ident_member(ctx, def, "key", "", &key)))
		return rc;
	if (!(title = ltext(ctx, json_object_get(def, "title"), "title", true)))
		return KERR_INVALID;
	if (!(intro = ltext(ctx, json_object_get(def, "intro"), "intro", false))) {
		json_decref(title);
		return KERR_INVALID;
	}
	json_t *raffle = json_object_get(def, "raffle");
	json_t *c = json_pack("{s:s, s:o, s:o, s:b, s:[]}", "key", key, "title", title, "intro",
	                      intro, "raffle", json_is_true(raffle), "questions");
	if (raffle && !json_is_boolean(raffle)) {
		rc = kerr_set(ctx->err, KERR_INVALID, "raffle", "raffle: true or false");
		goto fail;
	}
	qs = json_object_get(def, "questions");
	if (!json_is_array(qs) || !json_array_size(qs) || json_array_size(qs) > MAX_QUESTIONS) {
		rc = kerr_set(ctx->err, KERR_INVALID, "questions",
		              "questions: a list of 1 to %d questions", MAX_QUESTIONS);
		goto fail;
	}
	seen = json_object();
	json_array_foreach (qs, i, q) {
		if ((rc = check_question(ctx, q, arena_printf(ctx->mem, "questions[%zu]", i), seen,
		                         &cq)))
			goto fail;
		json_array_append_new(json_object_get(c, "questions"), cq);
	}
	json_decref(seen);
	*out = c;
	return 0;
fail:
	json_decref(seen);
	json_decref(c);
	return rc;
}

static char *dump(struct kctx *ctx, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	char *a = arena_strdup(ctx->mem, s ? s : "{}");
	free(s);
	return a;
}

int survey_load(struct kctx *ctx, const char *rid, json_t *def, json_t **out)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	json_t *c = NULL;
	int rc;

	*out = NULL;
	if (!d)
		return KERR_NOTFOUND;
	if (!decl_record_type(d, "survey_answer"))
		return kerr_set(ctx->err, KERR_REFUSED, "register",
		                "register '%s' declares no survey answers (record type "
		                "survey_answer)",
		                rid);
	if ((rc = check_definition(ctx, def, &c)))
		return rc;
	const char *key = arena_strdup(ctx->mem, json_string_value(json_object_get(c, "key")));
	bool raffle = json_is_true(json_object_get(c, "raffle"));
	char *text = dump(ctx, c);
	json_decref(c);
	if (strlen(text) > MAX_DEF)
		return kerr_set(ctx->err, KERR_TOOLARGE, NULL,
		                "the definition is longer than %d bytes", MAX_DEF);
	if (raffle && !decl_record_type(d, "raffle_entry"))
		return kerr_set(ctx->err, KERR_REFUSED, "raffle",
		                "raffle: register '%s' declares no raffle entries (record type "
		                "raffle_entry)",
		                rid);
	char sha[65];
	sha256_hex(text, strlen(text), sha);

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = need_role(ctx, rid, ROLE_EDITOR, "load survey definitions")))
		goto fail;
	struct query *q = store_query(ctx->db, ST_SURVEY_LATEST);
	int64_t version = 0, id = 0;
	q_text(q, 1, rid);
	q_text(q, 2, key);
	rc = q_step(q, ctx->err);
	if (rc == 1) {
		id = q_col_int(q, 0);
		version = q_col_int(q, 1);
		if (strcmp(q_col_text(q, 2), sha) != 0)
			id = 0;
	}
	q_done(q);
	if (rc < 0)
		goto fail;
	if (id) { /* unchanged: the published version stays */
		store_rollback(ctx->db);
		*out = json_pack("{s:I, s:s, s:I, s:b}", "id", (json_int_t)id, "key", key,
		                 "version", (json_int_t)version, "created", 0);
		return 0;
	}
	/* A change is a new version; the earlier one takes no more answers. */
	q = store_query(ctx->db, ST_SURVEY_CLOSE);
	q_text(q, 1, rid);
	q_text(q, 2, key);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	q = store_query(ctx->db, ST_SURVEY_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, key);
	q_int(q, 3, version + 1);
	q_text(q, 4, text);
	q_text(q, 5, sha);
	q_int(q, 6, raffle);
	q_text(q, 7, ctx->now_iso);
	q_text(q, 8, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	id = store_last_id(ctx->db);
	if ((rc = usage_record(ctx, "survey_load", rid, "survey", id, NULL)))
		goto fail;
	if ((rc = store_commit(ctx->db, ctx->err)))
		return rc;
	*out = json_pack("{s:I, s:s, s:I, s:b}", "id", (json_int_t)id, "key", key, "version",
	                 (json_int_t)(version + 1), "created", 1);
	return 0;
fail:
	store_rollback(ctx->db);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * Reading surveys
 */

struct srow {
	int64_t id, version, winners;
	const char *rid, *key, *definition, *state, *drawn_at, *drawn_by, *notified_at;
	const char *created_at, *created_by;
	bool raffle;
};

static const char *col(struct kctx *ctx, struct query *q, int i)
{
	return q_col_text(q, i) ? arena_strdup(ctx->mem, q_col_text(q, i)) : NULL;
}

static void srow_read(struct kctx *ctx, struct query *q, struct srow *s)
{
	s->id = q_col_int(q, 0);
	s->rid = col(ctx, q, 1);
	s->key = col(ctx, q, 2);
	s->version = q_col_int(q, 3);
	s->definition = col(ctx, q, 4);
	s->state = col(ctx, q, 6);
	s->raffle = q_col_int(q, 7) != 0;
	s->drawn_at = col(ctx, q, 8);
	s->drawn_by = col(ctx, q, 9);
	s->winners = q_col_null(q, 10) ? 0 : q_col_int(q, 10);
	s->notified_at = col(ctx, q, 11);
	s->created_at = col(ctx, q, 12);
	s->created_by = col(ctx, q, 13);
}

/* Reads survey `id` (of `rid`, or any register when NULL) inside the caller's transaction. */
static int srow_load(struct kctx *ctx, const char *rid, int64_t id, struct srow *s)
{
	struct query *q = store_query(ctx->db, ST_SURVEY_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1)
		srow_read(ctx, q, s);
	q_done(q);
	if (rc == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "id", "survey %" PRId64 " not found", id);
	return rc < 0 ? rc : 0;
}

static json_t *srow_json(const struct srow *s, bool with_definition)
{
	json_t *def = json_loads(s->definition, 0, NULL);
	json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:b, s:s, s:s}", "id", (json_int_t)s->id,
	                      "register", s->rid, "key", s->key, "version", (json_int_t)s->version,
	                      "state", s->state, "raffle", s->raffle, "created_at", s->created_at,
	                      "created_by", s->created_by);
	json_object_set(o, "title", json_object_get(def, "title"));
	if (s->drawn_at)
		json_object_set_new(o, "raffle_drawn",
		                    json_pack("{s:s, s:s?, s:I, s:s?}", "at", s->drawn_at, "by",
		                              s->drawn_by, "winners", (json_int_t)s->winners,
		                              "notified_at", s->notified_at));
	if (with_definition)
		json_object_set(o, "definition", def);
	json_decref(def);
	return o;
}

static int64_t count_of(struct kctx *ctx, enum stmt_id st, const char *rid, int64_t id,
                        int64_t *second)
{
	struct query *q = store_query(ctx->db, st);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int64_t n = q_step(q, ctx->err) == 1 ? q_col_int(q, 0) : 0;
	if (second)
		*second = q_col_int(q, 1);
	q_done(q);
	return n;
}

int survey_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	struct srow s;
	int rc;
	*out = NULL;
	if (rid && !reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if (rid && (rc = need_role(ctx, rid, ROLE_VIEWER, "read surveys")))
		goto out;
	if ((rc = srow_load(ctx, rid, id, &s)))
		goto out;
	*out = srow_json(&s, true);
	if (rid) {
		int64_t winners = 0;
		json_object_set_new(
		        *out, "answers",
		        json_integer(count_of(ctx, ST_SURVEY_ANSWER_COUNT, rid, id, NULL)));
		/* How many entries there are is no personal data; who they are is. */
		json_int_t n = count_of(ctx, ST_RAFFLE_COUNT, rid, id, &winners);
		json_object_set_new(*out, "raffle_entries", json_integer(n));
	}
out:
	store_rollback(ctx->db);
	return rc;
}

int survey_list(struct kctx *ctx, const char *rid, json_t **out)
{
	int rc;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if ((rc = need_role(ctx, rid, ROLE_VIEWER, "read surveys")))
		goto out;
	json_t *items = json_array();
	struct query *q = store_query(ctx->db, ST_SURVEY_LIST);
	q_text(q, 1, rid);
	while ((rc = q_step(q, ctx->err)) == 1) {
		struct srow s;
		srow_read(ctx, q, &s);
		json_array_append_new(items, srow_json(&s, false));
	}
	q_done(q);
	if (rc < 0) {
		json_decref(items);
		goto out;
	}
	rc = 0;
	*out = json_pack("{s:o}", "items", items);
out:
	store_rollback(ctx->db);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * Answering and entering the raffle (public)
 */

static json_t *question_of(json_t *def, const char *id)
{
	size_t i;
	json_t *q;
	json_array_foreach (json_object_get(def, "questions"), i, q)
		if (!strcmp(json_string_value(json_object_get(q, "id")), id))
			return q;
	return NULL;
}

static bool has_option(json_t *q, const char *id)
{
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(q, "options"), i, o)
		if (id && !strcmp(json_string_value(json_object_get(o, "id")), id))
			return true;
	return false;
}

/* Checks `answers` against definition `def` and builds the stored form. */
static int check_answers(struct kctx *ctx, json_t *def, json_t *answers, json_t **out)
{
	const char *k;
	json_t *v, *q, *c;
	size_t i;

	*out = NULL;
	if (!json_is_object(answers))
		return kerr_set(ctx->err, KERR_INVALID, NULL,
		                "the answers must be an object {question id: answer}");
	json_object_foreach (answers, k, v) {
		if (!question_of(def, k))
			return kerr_set(ctx->err, KERR_INVALID, ident_valid(k, NULL) ? k : NULL,
			                "%s: not a question of this survey",
			                ident_valid(k, NULL) ? k : "an answer");
	}
	c = json_object();
	json_array_foreach (json_object_get(def, "questions"), i, q) {
		const char *id = json_string_value(json_object_get(q, "id"));
		const char *kind = json_string_value(json_object_get(q, "kind"));
		v = json_object_get(answers, id);
		if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)) ||
		    (json_is_array(v) && !json_array_size(v))) {
			if (json_is_true(json_object_get(q, "required"))) {
				json_decref(c);
				return kerr_set(ctx->err, KERR_INVALID, id,
				                "%s: this question must be answered", id);
			}
			continue;
		}
		bool ok = false;
		if (!strcmp(kind, "text")) {
			const char *s = json_string_value(v);
			size_t n = s ? json_string_length(v) : 0;
			ok = s &&
			     (json_int_t)n <=
			             json_integer_value(json_object_get(q, "max_length")) &&
			     strlen(s) == n && utf8_valid(s, n);
			for (size_t j = 0; ok && j < n; j++)
				ok = (unsigned char)s[j] >= 0x20 || s[j] == '\n' || s[j] == '\t' ||
				     s[j] == '\r';
			if (!ok) {
				json_decref(c);
				return kerr_set(ctx->err, KERR_INVALID, id,
				                "%s: text of at most %lld bytes", id,
				                (long long)json_integer_value(
				                        json_object_get(q, "max_length")));
			}
		} else if (!strcmp(kind, "rating")) {
			json_int_t lo = json_integer_value(json_object_get(q, "min"));
			json_int_t hi = json_integer_value(json_object_get(q, "max"));
			ok = json_is_integer(v) && json_integer_value(v) >= lo &&
			     json_integer_value(v) <= hi;
			if (!ok) {
				json_decref(c);
				return kerr_set(ctx->err, KERR_INVALID, id,
				                "%s: a whole number from %lld to %lld", id,
				                (long long)lo, (long long)hi);
			}
		} else if (!strcmp(kind, "multiple")) {
			size_t j;
			json_t *o, *seen = json_object();
			ok = json_is_array(v);
			json_array_foreach (v, j, o) {
				const char *s = json_string_value(o);
				if (!has_option(q, s) || json_object_get(seen, s))
					ok = false;
				else
					json_object_set_new(seen, s, json_true());
			}
			json_decref(seen);
			if (!ok) {
				json_decref(c);
				return kerr_set(
				        ctx->err, KERR_INVALID, id,
				        "%s: a list of different option ids of the question", id);
			}
		} else {
			if (!has_option(q, json_string_value(v))) {
				json_decref(c);
				return kerr_set(ctx->err, KERR_INVALID, id,
				                "%s: one option id of the question", id);
			}
		}
		json_object_set(c, id, v);
	}
	*out = c;
	return 0;
}

static int open_survey(struct kctx *ctx, int64_t id, struct srow *s, json_t **def)
{
	int rc = srow_load(ctx, NULL, id, s);
	*def = NULL;
	if (rc)
		return rc;
	if (strcmp(s->state, "open") != 0)
		return kerr_set(ctx->err, KERR_CONFLICT, "id",
		                "survey %" PRId64 " is closed: a newer version replaced it", id);
	*def = json_loads(s->definition, 0, NULL);
	return *def ? 0 : kerr_set(ctx->err, KERR_INTERNAL, NULL, "survey definition unreadable");
}

int survey_answer(struct kctx *ctx, int64_t id, json_t *answers)
{
	struct srow s;
	json_t *def = NULL, *stored = NULL;
	unsigned char key[KEY_BYTES];
	char day[11];
	int rc;

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = open_survey(ctx, id, &s, &def)) ||
	    (rc = check_answers(ctx, def, answers, &stored)))
		goto fail;
	char *text = dump(ctx, stored);
	/* F-01: a random key, the survey and the day; nothing of who or when else. */
	randombytes_buf(key, sizeof(key));
	time_format_date(ctx->now, day);
	struct query *q = store_query(ctx->db, ST_SURVEY_ANSWER_INSERT);
	q_blob(q, 1, key, sizeof(key));
	q_text(q, 2, s.rid);
	q_int(q, 3, id);
	q_text(q, 4, day);
	q_text(q, 5, text);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	json_decref(def);
	json_decref(stored);
	return store_commit(ctx->db, ctx->err);
fail:
	json_decref(def);
	json_decref(stored);
	store_rollback(ctx->db);
	return rc;
}

static int raffle_insert(struct kctx *ctx, const char *rid, int64_t id, const char *kind,
                         const char *contact)
{
	unsigned char key[KEY_BYTES];
	randombytes_buf(key, sizeof(key));
	struct query *q = store_query(ctx->db, ST_RAFFLE_INSERT);
	q_blob(q, 1, key, sizeof(key));
	q_text(q, 2, rid);
	q_int(q, 3, id);
	q_text(q, 4, kind);
	q_text(q, 5, contact);
	return q_exec(q, ctx->err);
}

/*
 * Writes the raffle of survey `id` anew with the new entry among the others (F-02): every
 * entry is read in the order of its random key, all are deleted, and all are inserted again
 * in that order with new random keys, the new one at a random place. A row's key, its place
 * in the key order and its place in the database page (SQLite fills freed space in the order
 * rows are written) then say nothing of when it arrived. Costs time linear in the entries of
 * the raffle, which a raffle of a survey can afford.
 */
static int raffle_rewrite(struct kctx *ctx, const char *rid, int64_t id, const char *kind,
                          const char *contact)
{
	struct rentry {
		const char *kind, *contact;
	} *v = NULL;
	size_t n = 0, cap = 0;
	int rc;
	struct query *q = store_query(ctx->db, ST_RAFFLE_SHUFFLE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (n + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct rentry *nv = arena_alloc(ctx->mem, nc * sizeof(*nv));
			if (n)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
			cap = nc;
		}
		v[n].kind = col(ctx, q, 0);
		v[n].contact = col(ctx, q, 1);
		n++;
	}
	q_done(q);
	if (rc < 0)
		return rc;
	if (n + 1 >= cap) {
		struct rentry *nv = arena_alloc(ctx->mem, (n + 1) * sizeof(*nv));
		if (n)
			memcpy(nv, v, n * sizeof(*nv));
		v = nv;
	}
	/* The new entry at a uniformly random place among the others. */
	size_t at = randombytes_uniform((uint32_t)(n + 1));
	v[n] = v[at];
	v[at] = (struct rentry){kind, contact};
	n++;
	q = store_query(ctx->db, ST_RAFFLE_DELETE_ALL);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = raffle_insert(ctx, rid, id, v[i].kind, v[i].contact)))
			return rc;
	return 0;
}

int survey_enter(struct kctx *ctx, int64_t id, const char *contact)
{
	struct srow s;
	json_t *def = NULL;
	char norm[320], day[11];
	const char *why = NULL, *kind;
	int rc;

	if (!contact || !*contact || strlen(contact) > 254)
		return kerr_set(ctx->err, KERR_INVALID, "contact",
		                "contact: an e-mail address or a phone number");
	if (strchr(contact, '@')) {
		kind = "email";
		if (!email_valid(contact, norm, sizeof(norm), &why))
			return kerr_set(ctx->err, KERR_INVALID, "contact",
			                "contact: not an e-mail address (%s)",
			                why ? why : "invalid");
	} else {
		kind = "phone";
		if (!phone_valid(contact, norm, &why))
			return kerr_set(ctx->err, KERR_INVALID, "contact",
			                "contact: not a phone number (%s)", why ? why : "invalid");
	}
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = open_survey(ctx, id, &s, &def)))
		goto fail;
	json_decref(def);
	if (!s.raffle) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "id", "survey %" PRId64 " has no raffle",
		              id);
		goto fail;
	}
	if (s.drawn_at) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "id",
		              "the raffle of survey %" PRId64 " has been drawn", id);
		goto fail;
	}
	struct query *q = store_query(ctx->db, ST_RAFFLE_FIND);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	q_text(q, 3, norm);
	rc = q_step(q, ctx->err);
	q_done(q);
	if (rc < 0)
		goto fail;
	if (rc == 1) { /* already in: say nothing that tells who has entered */
		store_rollback(ctx->db);
		return 0;
	}
	if ((rc = raffle_rewrite(ctx, s.rid, id, kind, norm)))
		goto fail;
	/* The deletion period runs from the raffle's oldest entry: no entry has a date. */
	time_format_date(ctx->now, day);
	q = store_query(ctx->db, ST_SURVEY_RAFFLE_SINCE);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	q_text(q, 3, day);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	sodium_memzero(norm, sizeof(norm));
	return store_commit(ctx->db, ctx->err);
fail:
	sodium_memzero(norm, sizeof(norm));
	store_rollback(ctx->db);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * The draw (L-03)
 */

struct entry {
	unsigned char k[KEY_BYTES];
	const char *kind, *contact;
};

int survey_draw(struct kctx *ctx, const char *rid, int64_t id, int winners, json_t **out)
{
	struct srow s;
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	if (rid && !reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if (winners < 1 || winners > 1000)
		return kerr_set(ctx->err, KERR_INVALID, "winners",
		                "winners: a whole number from 1 to 1000");
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = srow_load(ctx, rid, id, &s)) ||
	    (rc = need_role(ctx, s.rid, ROLE_MANAGER, "draw a raffle")))
		goto fail;
	if (!s.raffle) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "id", "survey %" PRId64 " has no raffle",
		              id);
		goto fail;
	}
	if (s.drawn_at) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "id",
		              "the raffle of survey %" PRId64 " was drawn on %.10s", id,
		              s.drawn_at);
		goto fail;
	}
	struct query *q = store_query(ctx->db, ST_RAFFLE_OPEN_ENTRIES);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct entry *nv = arena_alloc(ctx->mem, nc * sizeof(*nv));
			if (n)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
			cap = nc;
		}
		if (q_col_bytes(q, 0) != KEY_BYTES)
			continue;
		memcpy(v[n].k, q_col_blob(q, 0), KEY_BYTES);
		v[n].kind = col(ctx, q, 1);
		v[n].contact = col(ctx, q, 2);
		n++;
	}
	q_done(q);
	if (rc < 0)
		goto fail;
	/* A partial Fisher–Yates shuffle with libsodium's uniform, unbiased random numbers. */
	size_t w = (size_t)winners < n ? (size_t)winners : n;
	json_t *list = json_array();
	for (size_t i = 0; i < w; i++) {
		size_t j = i + randombytes_uniform((uint32_t)(n - i));
		struct entry t = v[i];
		v[i] = v[j];
		v[j] = t;
		q = store_query(ctx->db, ST_RAFFLE_MARK_WINNER);
		q_text(q, 1, s.rid);
		q_int(q, 2, id);
		q_blob(q, 3, v[i].k, KEY_BYTES);
		if ((rc = q_exec(q, ctx->err))) {
			json_decref(list);
			goto fail;
		}
		json_array_append_new(
		        list, json_pack("{s:s, s:s}", "kind", v[i].kind, "contact", v[i].contact));
	}
	/* L-03: everyone else's contact goes in this same transaction. */
	q = store_query(ctx->db, ST_RAFFLE_DELETE_LOSERS);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	if (!rc)
		rc = q_exec(q, ctx->err);
	q = store_query(ctx->db, ST_SURVEY_DRAWN);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	q_text(q, 3, ctx->now_iso);
	q_text(q, 4, ctx->actor->name);
	q_int(q, 5, (int64_t)w);
	if (!rc)
		rc = q_exec(q, ctx->err);
	/* The winners' contacts are shown now: a use of personal data, logged with the draw. */
	char reason[64];
	snprintf(reason, sizeof(reason), "entries:%zu,winners:%zu", n, w);
	if (!rc)
		rc = usage_record(ctx, "raffle_draw", s.rid, "survey", id, reason);
	if (rc) {
		json_decref(list);
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		sodium_memzero(v[i].k, KEY_BYTES);
	if ((rc = store_commit(ctx->db, ctx->err))) {
		json_decref(list);
		return rc;
	}
	*out = json_pack("{s:I, s:I, s:o}", "survey", (json_int_t)id, "entries", (json_int_t)n,
	                 "winners", list);
	return 0;
fail:
	store_rollback(ctx->db);
	return rc;
}

int survey_notified(struct kctx *ctx, const char *rid, int64_t id, int64_t *deleted)
{
	struct srow s;
	int rc;
	if (deleted)
		*deleted = 0;
	if (rid && !reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = srow_load(ctx, rid, id, &s)) ||
	    (rc = need_role(ctx, s.rid, ROLE_MANAGER, "mark raffle winners notified")))
		goto fail;
	if (!s.drawn_at) {
		rc = kerr_set(ctx->err, KERR_CONFLICT, "id",
		              "the raffle of survey %" PRId64 " has not been drawn", id);
		goto fail;
	}
	struct query *q = store_query(ctx->db, ST_RAFFLE_DELETE_WINNERS);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	int64_t n = store_changes(ctx->db);
	q = store_query(ctx->db, ST_SURVEY_RAFFLE_RESET);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	q = store_query(ctx->db, ST_SURVEY_NOTIFIED);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	q_text(q, 3, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)) ||
	    (rc = usage_record(ctx, "delete", s.rid, "raffle_entry", id, "winners_notified")))
		goto fail;
	if (deleted)
		*deleted = n;
	return store_commit(ctx->db, ctx->err);
fail:
	store_rollback(ctx->db);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * Expiry (L-04, and L-03's latest date)
 */

/* The declared rule for record type `rt`: the shortest period of those that delete. */
static const struct decl_rule *rule_for(const struct decl *d, const char *rt)
{
	const struct decl_rule *best = NULL;
	for (size_t i = 0; i < d->retention.nrules; i++) {
		const struct decl_rule *r = &d->retention.rules[i];
		bool match = false;
		for (size_t j = 0; j < r->record_types.n; j++)
			match = match || !strcmp(r->record_types.v[j], rt);
		if (!match || !r->has_after)
			continue;
		int64_t len = r->after.years * 372 + r->after.months * 31 + r->after.days;
		int64_t blen =
		        best ? best->after.years * 372 + best->after.months * 31 + best->after.days
		             : INT64_MAX;
		if (len < blen)
			best = r;
	}
	return best;
}

/* Whether `day` plus the period of rule `r` is on or before `as_of`. */
static bool period_passed(const struct decl_rule *r, const char *day, const char *as_of)
{
	int y, m, d;
	char until[16];
	if (!day || !date_valid(day, &y, &m, &d, NULL))
		return false;
	date_add(&y, &m, &d, r->after.years, r->after.months, r->after.days);
	snprintf(until, sizeof(until), "%04d-%02d-%02d", y, m, d);
	return strcmp(until, as_of) <= 0;
}

/*
 * Deletes every entry of the raffles of `rid` whose oldest entry is older than the period of
 * rule `r` (L-03's latest date): entries carry no date of their own (F-02), so a raffle's
 * entries go together, each within the period of its own entry or sooner.
 */
static int expire_raffles(struct kctx *ctx, const char *rid, const struct decl_rule *r,
                          const char *as_of, int64_t *count)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;
	*count = 0;
	if (!r)
		return 0;
	struct query *q = store_query(ctx->db, ST_SURVEY_RAFFLE_HELD);
	q_text(q, 1, rid);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (!period_passed(r, q_col_text(q, 1), as_of))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			int64_t *nv = arena_alloc(ctx->mem, nc * sizeof(*nv));
			if (n)
				memcpy(nv, ids, n * sizeof(*nv));
			ids = nv;
			cap = nc;
		}
		ids[n++] = q_col_int(q, 0);
	}
	q_done(q);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		q = store_query(ctx->db, ST_RAFFLE_DELETE_ALL);
		q_text(q, 1, rid);
		q_int(q, 2, ids[i]);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		int64_t c = store_changes(ctx->db);
		*count += c;
		q = store_query(ctx->db, ST_SURVEY_RAFFLE_RESET);
		q_text(q, 1, rid);
		q_int(q, 2, ids[i]);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		char reason[80];
		snprintf(reason, sizeof(reason), "rule:%s,count:%" PRId64, r->id, c);
		if (c && (rc = usage_record(ctx, "delete", rid, "raffle_entry", ids[i], reason)))
			return rc;
	}
	return 0;
}

/* Deletes the days of `rid` (listed by `days`, deleted by `del`) whose period has passed. */
static int expire_days(struct kctx *ctx, const char *rid, const struct decl_rule *r,
                       const char *as_of, enum stmt_id days, enum stmt_id del, const char *entity,
                       int64_t *count)
{
	const char **v = NULL;
	size_t n = 0, cap = 0;
	int rc;
	*count = 0;
	if (!r)
		return 0;
	struct query *q = store_query(ctx->db, days);
	q_text(q, 1, rid);
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *day = q_col_text(q, 0);
		if (!period_passed(r, day, as_of))
			break; /* days come in order: the rest are younger */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			const char **nv = arena_alloc(ctx->mem, nc * sizeof(*nv));
			if (n)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
			cap = nc;
		}
		v[n++] = arena_strdup(ctx->mem, day);
	}
	q_done(q);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		q = store_query(ctx->db, del);
		q_text(q, 1, rid);
		q_text(q, 2, v[i]);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		*count += store_changes(ctx->db);
	}
	if (*count) {
		char reason[80];
		snprintf(reason, sizeof(reason), "rule:%s,count:%" PRId64, r->id, *count);
		return usage_record(ctx, "delete", rid, entity, 0, reason);
	}
	return 0;
}

int survey_expire(struct kctx *ctx, const char *rid, const char *as_of_day, int64_t *answers,
                  int64_t *entries)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	int64_t na = 0, ne = 0;
	int y, m, dd, rc;
	if (answers)
		*answers = 0;
	if (entries)
		*entries = 0;
	if (!d)
		return KERR_NOTFOUND;
	if (!as_of_day || strlen(as_of_day) != 10 || !date_valid(as_of_day, &y, &m, &dd, NULL))
		return kerr_set(ctx->err, KERR_INVALID, "as_of", "as_of: a date YYYY-MM-DD");
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = need_role(ctx, rid, ROLE_MANAGER, "delete expired survey answers")) ||
	    (rc = expire_days(ctx, rid, rule_for(d, "survey_answer"), as_of_day,
	                      ST_SURVEY_ANSWER_DAYS, ST_SURVEY_ANSWER_DELETE_DAY, "survey_answer",
	                      &na)) ||
	    (rc = expire_raffles(ctx, rid, rule_for(d, "raffle_entry"), as_of_day, &ne))) {
		store_rollback(ctx->db);
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		return rc;
	if (answers)
		*answers = na;
	if (entries)
		*entries = ne;
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Statistics (F-04)
 */

/* Hides counts under SURVEY_MIN_GROUP in `values`, and one more when a single hidden count
 * could be worked out from the total `n` and the others (single-choice questions). */
static void suppress(json_t *values, json_int_t n, bool sums_to_n)
{
	size_t i, hidden = 0;
	json_t *v;
	json_int_t shown = 0;
	json_array_foreach (values, i, v) {
		json_int_t c = json_integer_value(json_object_get(v, "count"));
		if (c < SURVEY_MIN_GROUP) {
			json_object_del(v, "count");
			json_object_set_new(v, "hidden", json_true());
			if (c > 0)
				hidden++;
		} else {
			shown += c;
		}
	}
	if (!sums_to_n || hidden != 1 || n - shown <= 0)
		return;
	/* The one small count would be n minus the others: hide the smallest shown too. */
	json_t *min = NULL;
	json_array_foreach (values, i, v) {
		json_t *c = json_object_get(v, "count");
		if (c && (!min || json_integer_value(c) <
		                          json_integer_value(json_object_get(min, "count"))))
			min = v;
	}
	if (min) {
		json_object_del(min, "count");
		json_object_set_new(min, "hidden", json_true());
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The statistics of question `q` over answers `v[0..n)`. */
static json_t *question_stats(json_t *q, json_t **v, size_t n)
{
	const char *id = json_string_value(json_object_get(q, "id"));
	const char *kind = json_string_value(json_object_get(q, "kind"));
	json_t *o = json_object(), *values = json_array();
	json_int_t answered = 0;
	double sum = 0;
	const char **texts = NULL;
	size_t nt = 0;

	if (!strcmp(kind, "text"))
		texts = calloc(n ? n : 1, sizeof(*texts));
	if (!strcmp(kind, "rating")) {
		json_int_t lo = json_integer_value(json_object_get(q, "min"));
		json_int_t hi = json_integer_value(json_object_get(q, "max"));
		for (json_int_t x = lo; x <= hi; x++)
			json_array_append_new(values, json_pack("{s:I, s:I}", "value", x, "count",
			                                        (json_int_t)0));
	} else if (strcmp(kind, "text")) {
		size_t i;
		json_t *opt;
		json_array_foreach (json_object_get(q, "options"), i, opt)
			json_array_append_new(values, json_pack("{s:O, s:O, s:I}", "value",
			                                        json_object_get(opt, "id"), "text",
			                                        json_object_get(opt, "text"),
			                                        "count", (json_int_t)0));
	}
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_object_get(v[i], id), *cell;
		size_t j;
		if (!a)
			continue;
		answered++;
		if (!strcmp(kind, "text")) {
			texts[nt++] = json_string_value(a);
			continue;
		}
		if (!strcmp(kind, "rating"))
			sum += (double)json_integer_value(a);
		json_array_foreach (values, j, cell) {
			json_t *val = json_object_get(cell, "value");
			bool hit = json_is_integer(a) ? json_equal(a, val) : false;
			if (json_is_string(a))
				hit = json_equal(a, val);
			if (json_is_array(a)) {
				size_t k;
				json_t *x;
				json_array_foreach (a, k, x)
					hit = hit || json_equal(x, val);
			}
			if (hit)
				json_object_set_new(cell, "count",
				                    json_integer(json_integer_value(json_object_get(
				                                         cell, "count")) +
				                                 1));
		}
	}
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set(o, "text", json_object_get(q, "text"));
	if (answered < SURVEY_MIN_GROUP) {
		/* F-04: too few to show anything without pointing at someone. */
		json_object_set_new(o, "hidden", json_true());
		json_decref(values);
		free(texts);
		return o;
	}
	json_object_set_new(o, "n", json_integer(answered));
	if (!strcmp(kind, "text")) {
		json_t *list = json_array();
		qsort(texts, nt, sizeof(*texts), cmp_str);
		for (size_t i = 0; i < nt; i++)
			json_array_append_new(list, json_string(texts[i]));
		json_object_set_new(o, "texts", list);
		json_decref(values);
	} else {
		if (!strcmp(kind, "rating"))
			json_object_set_new(
			        o, "mean",
			        json_real(
			                (double)(long long)(sum / (double)answered * 100.0 + 0.5) /
			                100.0));
		suppress(values, answered, strcmp(kind, "multiple") != 0);
		json_object_set_new(o, "values", values);
	}
	free(texts);
	return o;
}

int survey_stats(struct kctx *ctx, const char *rid, int64_t id, const char *by, json_t **out)
{
	struct srow s;
	json_t **v = NULL, *def = NULL, *byq = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	if (rid && !reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	if ((rc = srow_load(ctx, rid, id, &s)) ||
	    (rc = need_role(ctx, s.rid, ROLE_VIEWER, "read survey statistics")))
		goto out;
	def = json_loads(s.definition, 0, NULL);
	if (by) {
		byq = question_of(def, by);
		const char *k = byq ? json_string_value(json_object_get(byq, "kind")) : NULL;
		if (!k || (strcmp(k, "background") && strcmp(k, "single"))) {
			rc = kerr_set(ctx->err, KERR_INVALID, "by",
			              "by: the id of a background or single-choice question of the "
			              "survey");
			goto out;
		}
	}
	struct query *q = store_query(ctx->db, ST_SURVEY_ANSWERS);
	q_text(q, 1, s.rid);
	q_int(q, 2, id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		json_t *a = json_loads(q_col_text(q, 0), 0, NULL);
		if (!a)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			json_t **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				abort();
			v = nv;
		}
		v[n++] = a;
	}
	q_done(q);
	if (rc < 0)
		goto out;
	rc = 0;
	json_t *qs = json_array(), *qd;
	size_t i;
	json_array_foreach (json_object_get(def, "questions"), i, qd) {
		json_t *st = question_stats(qd, v, n);
		if (byq && qd != byq && !json_object_get(st, "hidden")) {
			json_t *groups = json_array(), *opt;
			json_t **sub = calloc(n ? n : 1, sizeof(*sub));
			size_t j;
			json_array_foreach (json_object_get(byq, "options"), j, opt) {
				size_t m = 0;
				for (size_t k = 0; k < n; k++)
					if (json_equal(json_object_get(v[k], by),
					               json_object_get(opt, "id")))
						sub[m++] = v[k];
				json_t *g = question_stats(qd, sub, m);
				json_object_del(g, "id");
				json_object_del(g, "kind");
				json_object_del(g, "text");
				/* A group's texts and the whole survey's would tell the hidden
				 * groups' texts by difference: free texts are listed whole only. */
				json_object_del(g, "texts");
				json_object_set(g, "group", json_object_get(opt, "id"));
				json_object_set(g, "group_text", json_object_get(opt, "text"));
				json_array_append_new(groups, g);
			}
			free(sub);
			json_object_set_new(st, "groups", groups);
		}
		json_array_append_new(qs, st);
	}
	*out = json_pack("{s:I, s:s, s:I, s:O, s:I, s:i, s:o}", "survey", (json_int_t)id, "key",
	                 s.key, "version", (json_int_t)s.version, "title",
	                 json_object_get(def, "title"), "answers",
	                 (json_int_t)(n >= SURVEY_MIN_GROUP ? n : 0), "min_group", SURVEY_MIN_GROUP,
	                 "questions", qs);
	if (n < SURVEY_MIN_GROUP) {
		json_object_del(*out, "answers");
		json_object_set_new(*out, "answers_hidden", json_true());
	}
	if (by)
		json_object_set_new(*out, "by", json_string(by));
out:
	store_rollback(ctx->db);
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
	json_decref(def);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * CSV and SVG of statistics
 */

static void csv_int(struct buf *b, json_t *v)
{
	char num[32];
	if (json_is_integer(v))
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(num, sizeof(num), "%.2f", json_real_value(v));
	else
		snprintf(num, sizeof(num), "hidden");
	csv_put_field(b, num);
}

static void csv_value_rows(struct buf *b, const char *qid, const char *group, json_t *st)
{
	size_t i;
	json_t *c;
	if (json_is_true(json_object_get(st, "hidden"))) {
		csv_put_field(b, qid);
		buf_putc(b, ',');
		csv_put_field(b, group);
		buf_puts(b, ",\"n\",\"hidden\"\r\n");
		return;
	}
	csv_put_field(b, qid);
	buf_putc(b, ',');
	csv_put_field(b, group);
	buf_puts(b, ",\"n\",");
	csv_int(b, json_object_get(st, "n"));
	buf_puts(b, "\r\n");
	if (json_object_get(st, "mean")) {
		csv_put_field(b, qid);
		buf_putc(b, ',');
		csv_put_field(b, group);
		buf_puts(b, ",\"mean\",");
		csv_int(b, json_object_get(st, "mean"));
		buf_puts(b, "\r\n");
	}
	json_array_foreach (json_object_get(st, "values"), i, c) {
		json_t *val = json_object_get(c, "value");
		char num[32];
		csv_put_field(b, qid);
		buf_putc(b, ',');
		csv_put_field(b, group);
		buf_putc(b, ',');
		if (json_is_integer(val)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(val));
			csv_put_field(b, num);
		} else {
			csv_put_field(b, json_string_value(val));
		}
		buf_putc(b, ',');
		csv_int(b, json_object_get(c, "count"));
		buf_puts(b, "\r\n");
	}
	json_array_foreach (json_object_get(st, "texts"), i, c) {
		csv_put_field(b, qid);
		buf_putc(b, ',');
		csv_put_field(b, group);
		buf_puts(b, ",\"text\",");
		csv_put_field(b, json_string_value(c));
		buf_puts(b, "\r\n");
	}
}

void survey_stats_csv(json_t *stats, struct buf *out)
{
	size_t i, j;
	json_t *st, *g;
	buf_puts(out, "\"question\",\"group\",\"value\",\"count\"\r\n");
	json_array_foreach (json_object_get(stats, "questions"), i, st) {
		const char *qid = json_string_value(json_object_get(st, "id"));
		csv_value_rows(out, qid, "", st);
		json_array_foreach (json_object_get(st, "groups"), j, g)
			csv_value_rows(out, qid, json_string_value(json_object_get(g, "group")), g);
	}
}

static const char *txt(json_t *t, enum lang lang)
{
	static const char *const codes[LANG__MAX] = {"fi", "sv", "en"};
	const char *s = json_string_value(json_object_get(t, codes[lang]));
	return s ? s : json_string_value(json_object_get(t, "fi"));
}

void survey_stats_svg(json_t *stats, enum lang lang, struct buf *out)
{
	static const char *const hidden_txt[LANG__MAX] = {"alle 5 vastausta: piilotettu",
	                                                  "under 5 svar: dolt",
	                                                  "fewer than 5 answers: hidden"};
	const int width = 640, bar_left = 220, bar_max = 340, row = 22;
	size_t i, j;
	json_t *st, *c;
	int height = 40;

	json_array_foreach (json_object_get(stats, "questions"), i, st) {
		height += 36;
		height += row * (int)json_array_size(json_object_get(st, "values"));
		if (json_is_true(json_object_get(st, "hidden")) || json_object_get(st, "texts"))
			height += row;
	}
	buf_appendf(out,
	            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
	            "<title>",
	            width, height, width, height);
	html_text(out, txt(json_object_get(stats, "title"), lang));
	buf_puts(out, "</title>\n<text x=\"8\" y=\"24\" font-size=\"16\" font-weight=\"bold\">");
	html_text(out, txt(json_object_get(stats, "title"), lang));
	buf_puts(out, "</text>\n");
	int y = 40;
	json_array_foreach (json_object_get(stats, "questions"), i, st) {
		json_int_t max = 1;
		y += 26;
		buf_appendf(out, "<text x=\"8\" y=\"%d\" font-weight=\"bold\">", y);
		html_text(out, txt(json_object_get(st, "text"), lang));
		buf_puts(out, "</text>\n");
		y += 10;
		if (json_is_true(json_object_get(st, "hidden"))) {
			y += row;
			buf_appendf(out, "<text x=\"16\" y=\"%d\" fill=\"#555\">", y - 6);
			html_text(out, hidden_txt[lang]);
			buf_puts(out, "</text>\n");
			continue;
		}
		if (json_object_get(st, "texts")) {
			y += row;
			buf_appendf(out, "<text x=\"16\" y=\"%d\" fill=\"#555\">n = %lld</text>\n",
			            y - 6, (long long)json_integer_value(json_object_get(st, "n")));
		}
		json_array_foreach (json_object_get(st, "values"), j, c) {
			json_int_t k = json_integer_value(json_object_get(c, "count"));
			if (k > max)
				max = k;
		}
		json_array_foreach (json_object_get(st, "values"), j, c) {
			json_t *val = json_object_get(c, "value"), *k = json_object_get(c, "count");
			char label[32];
			const char *l = label;
			if (json_is_integer(val))
				snprintf(label, sizeof(label), "%lld",
				         (long long)json_integer_value(val));
			else
				l = txt(json_object_get(c, "text"), lang);
			buf_appendf(out, "<text x=\"16\" y=\"%d\">", y + 15);
			html_text(out, l ? l : "");
			buf_puts(out, "</text>\n");
			if (k) {
				int w = (int)(json_integer_value(k) * bar_max / max);
				buf_appendf(
				        out,
				        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" "
				        "fill=\"#2a6ebb\"/>\n<text x=\"%d\" y=\"%d\">%lld</text>\n",
				        bar_left, y + 3, w, bar_left + w + 6, y + 15,
				        (long long)json_integer_value(k));
			} else {
				buf_appendf(out, "<text x=\"%d\" y=\"%d\" fill=\"#555\">–</text>\n",
				            bar_left, y + 15);
			}
			y += row;
		}
	}
	buf_puts(out, "</svg>\n");
}
