/*
 * Person service. Input is validated against the register's declaration before anything is
 * written; then the row, its contact points, the search index, the change history and the
 * usage-log entry are written in one transaction. The henkilötunnus is stored sealed
 * (XChaCha20-Poly1305), with a keyed hash for exact lookup and a masked form for display.
 */
#include "core/person.h"
#include "core/search.h"
#include "core/suppress.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/scope.h"
#include "core/fields.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/jsonw.h"
#include "util/kerr.h"
#include "util/validate.h"
#include "util/xmalloc.h"

/* ---------------------------------------------------------------- contact points */

enum cp_kind { CP_EMAIL, CP_PHONE, CP_POSTAL, CP_SOCIAL, CP_WEB, CP_IP, CP__MAX };

/* Reserved field ids stored as contact points, and the kind each becomes. */
static const struct {
	const char *field, *kind;
} cp_map[CP__MAX] = {
        [CP_EMAIL] = {"email", "email"},
        [CP_PHONE] = {"phone", "phone"},
        [CP_POSTAL] = {"postal_address", "postal"},
        [CP_SOCIAL] = {"social_media", "social"},
        [CP_WEB] = {"website", "web"},
        [CP_IP] = {"ip_address", "ip"},
};

static int cp_index(const char *field)
{
	for (int i = 0; i < CP__MAX; i++)
		if (strcmp(cp_map[i].field, field) == 0)
			return i;
	return -1;
}

static int cp_index_kind(const char *kind)
{
	for (int i = 0; i < CP__MAX; i++)
		if (strcmp(cp_map[i].kind, kind) == 0)
			return i;
	return -1;
}

/* ---------------------------------------------------------------- the record */

struct person_rec {
	const char *first_name, *last_name;
	const char *group, *basis, *source;
	const char *lce; /* last customer event */
	const char *reason;
	/* henkilötunnus: the stored (sealed) form, or a new plain value to seal */
	const void *hetu_enc;
	size_t hetu_enc_len;
	const void *hetu_hash;
	const char *hetu_masked;
	const char *hetu_new; /* normalised plain code given in this call */
	bool hetu_changed;
	const char *cp[CP__MAX];
	bool cp_changed[CP__MAX];
	json_t *attrs; /* owned: every attribute, sensitive ones included (sealed on disk) */
};

/* ---------------------------------------------------------------- sensitive attributes */

/* Whether attribute `key` is kept sealed: declared sensitive or of type hetu. A key the
 * declaration no longer names is treated as sensitive, the safe side. */
static bool attr_sensitive(const struct decl *d, const char *key)
{
	const struct decl_field *f = decl_field(d, key);
	return !f || f->sensitive || f->type == FT_HETU;
}

/* Splits `attrs` into the plain JSON text (heap, caller frees) and the sealed blob of the
 * sensitive attributes (arena; NULL when there are none). */
static char *attrs_store(struct kctx *ctx, const struct decl *d, json_t *attrs,
                         unsigned char **sealed, size_t *sealed_len)
{
	json_t *plain = json_object(), *secret = json_object();
	const char *key;
	json_t *v;
	json_object_foreach (attrs, key, v) {
		json_object_set(attr_sensitive(d, key) ? secret : plain, key, v);
	}
	char *text = json_dumps(plain, JSON_COMPACT | JSON_SORT_KEYS);
	*sealed = NULL;
	*sealed_len = 0;
	if (json_object_size(secret)) {
		char *st = json_dumps(secret, JSON_COMPACT | JSON_SORT_KEYS);
		size_t n = strlen(st);
		*sealed = arena_alloc(ctx->mem, n + FIELD_SEAL_OVERHEAD);
		field_seal(&ctx->app->keys, st, n, *sealed);
		*sealed_len = n + FIELD_SEAL_OVERHEAD;
		sodium_memzero(st, n);
		free(st);
	}
	json_decref(plain);
	json_decref(secret);
	return text;
}

/* Opens a sealed attribute blob and merges its members into `attrs`. */
static int attrs_unseal(struct kctx *ctx, const void *blob, size_t n, json_t *attrs)
{
	if (!blob)
		return 0;
	char *plain = arena_alloc(ctx->mem, n);
	json_error_t jerr;
	if (n < FIELD_SEAL_OVERHEAD || field_open(&ctx->app->keys, blob, n, plain) != 0)
		return kerr_set(
		        ctx->err, KERR_INTERNAL, "attributes",
		        "sealed attributes cannot be decrypted with this data directory's key");
	json_t *o = json_loads(plain, 0, &jerr);
	sodium_memzero(plain, n - FIELD_SEAL_OVERHEAD);
	if (!json_is_object(o)) {
		json_decref(o);
		return kerr_set(ctx->err, KERR_INTERNAL, "attributes",
		                "sealed attributes are damaged");
	}
	json_object_update(attrs, o);
	json_decref(o);
	return 0;
}

static const char *str_or_null(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Sets one declared field from an input value (NULL or JSON null removes it). */
static int rec_set_field(struct kctx *ctx, const struct decl *d, const char *rid,
                         struct person_rec *r, const char *id, json_t *v, const char *path)
{
	const struct decl_field *f;
	json_t *norm = NULL;
	int rc;

	/* A value of a field a later declaration dropped may still be removed. */
	if ((!v || json_is_null(v)) && !decl_field(d, id) && json_object_get(r->attrs, id)) {
		json_object_del(r->attrs, id);
		return 0;
	}
	/* Removing a value needs only a declared field; setting one needs it to apply to the
	 * subject's group too (a patch may change the group and drop its fields at once). */
	bool removing = !v || json_is_null(v);
	if ((rc = field_declared(ctx, d, rid, id, removing ? NULL : r->group, path, &f)))
		return rc;
	if (!removing && (rc = field_check(ctx, f, v, path, &norm)))
		return rc;

	const char *s = norm ? str_or_null(norm) : NULL;
	const char *copy = s ? arena_strdup(ctx->mem, s) : NULL;
	int cp = cp_index(id);
	if (strcmp(id, "first_name") == 0) {
		r->first_name = copy;
	} else if (strcmp(id, "last_name") == 0) {
		r->last_name = copy;
	} else if (strcmp(id, "hetu") == 0) {
		r->hetu_new = copy;
		r->hetu_changed = true;
	} else if (cp >= 0) {
		r->cp[cp] = copy;
		r->cp_changed[cp] = true;
	} else if (norm) {
		json_object_set(r->attrs, id, norm);
	} else {
		json_object_del(r->attrs, id);
	}
	json_decref(norm);
	return 0;
}

static int is_reserved_key(const char *k)
{
	static const char *const keys[] = {"subject_group", "source", "reason",
	                                   "last_customer_event", "attributes"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i], k) == 0)
			return 1;
	return 0;
}

/*
 * Applies input object `in` to `r`. On create every key is new; on update `in` is a merge
 * patch. Checks the subject group first, since it decides which fields apply.
 */
static int rec_apply(struct kctx *ctx, const struct decl *d, const char *rid, struct person_rec *r,
                     json_t *in, bool create)
{
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");

	v = json_object_get(in, "subject_group");
	if (v || create) {
		const struct decl_group *g;
		if (!json_is_string(v))
			return kerr_set(
			        ctx->err, KERR_INVALID, "subject_group",
			        "subject_group: required, one of the register's subject groups");
		if (!(g = decl_group(d, json_string_value(v))))
			return kerr_set(ctx->err, KERR_REFUSED, "subject_group",
			                "subject_group: '%s' is not declared by register '%s'",
			                json_string_value(v), rid);
		r->group = g->id;
		r->basis = decl_basis_name(g->basis);
	}
	v = json_object_get(in, "source");
	if (v || create) {
		if (!json_is_string(v))
			return kerr_set(ctx->err, KERR_INVALID, "source",
			                "source: required, one of the register's declared sources");
		const struct decl_source *s = decl_source(d, json_string_value(v));
		if (!s)
			return kerr_set(ctx->err, KERR_REFUSED, "source",
			                "source: '%s' is not a declared source of register '%s'",
			                json_string_value(v), rid);
		r->source = s->id;
	}
	if ((v = json_object_get(in, "reason"))) {
		if (!json_is_string(v) || json_string_length(v) > 500)
			return kerr_set(ctx->err, KERR_INVALID, "reason",
			                "reason: must be a string of at most 500 characters");
		r->reason = arena_strdup(ctx->mem, json_string_value(v));
	}
	if ((v = json_object_get(in, "last_customer_event"))) {
		if (json_is_null(v)) {
			r->lce = NULL;
		} else if (!json_is_string(v)) {
			return kerr_set(ctx->err, KERR_INVALID, "last_customer_event",
			                "last_customer_event: must be a date YYYY-MM-DD");
		} else if ((rc = check_date(ctx, json_string_value(v), "last_customer_event"))) {
			return rc;
		} else {
			r->lce = arena_strdup(ctx->mem, json_string_value(v));
		}
	}

	json_object_foreach (in, key, v) {
		if (is_reserved_key(key))
			continue;
		if ((rc = rec_set_field(ctx, d, rid, r, key, v, key)))
			return rc;
	}
	if ((v = json_object_get(in, "attributes"))) {
		if (!json_is_object(v))
			return kerr_set(ctx->err, KERR_INVALID, "attributes",
			                "attributes: must be an object of declared fields");
		json_t *av;
		json_object_foreach (v, key, av) {
			const char *path = arena_printf(ctx->mem, "attributes.%s", key);
			if (json_object_get(in, key))
				return kerr_set(ctx->err, KERR_INVALID, path,
				                "%s: given twice (also at the top level)", path);
			if ((rc = rec_set_field(ctx, d, rid, r, key, av, path)))
				return rc;
		}
	}
	return 0;
}

/* Checks required fields and that every stored field still applies to the group. */
static int rec_validate(struct kctx *ctx, const struct decl *d, const char *rid,
                        const struct person_rec *r)
{
	for (size_t c = 0; c < d->ncategories; c++) {
		const struct decl_category *cat = &d->categories[c];
		bool applies = decl_category_applies(cat, r->group);
		for (size_t i = 0; i < cat->nfields; i++) {
			const struct decl_field *f = &cat->fields[i];
			bool present;
			int cp = cp_index(f->id);
			if (strcmp(f->id, "first_name") == 0)
				present = r->first_name != NULL;
			else if (strcmp(f->id, "last_name") == 0)
				present = r->last_name != NULL;
			else if (strcmp(f->id, "hetu") == 0)
				present =
				        r->hetu_changed ? r->hetu_new != NULL : r->hetu_enc != NULL;
			else if (cp >= 0)
				present = r->cp[cp] != NULL;
			else
				present = json_object_get(r->attrs, f->id) != NULL;
			if (present && !applies)
				return kerr_set(
				        ctx->err, KERR_REFUSED, f->id,
				        "field '%s' is not declared for subject group '%s' in "
				        "register '%s'",
				        f->id, r->group, rid);
			if (!present && applies && f->required)
				return kerr_set(ctx->err, KERR_INVALID, f->id,
				                "%s: required by register '%s'", f->id, rid);
		}
	}
	return 0;
}

/* Seals a new henkilötunnus into the record and checks it is not already in the register. */
static int rec_seal_hetu(struct kctx *ctx, const char *rid, struct person_rec *r, int64_t self)
{
	if (!r->hetu_changed)
		return 0;
	if (!r->hetu_new) {
		r->hetu_changed = r->hetu_enc != NULL;
		r->hetu_enc = r->hetu_hash = NULL;
		r->hetu_masked = NULL;
		r->hetu_enc_len = 0;
		return 0;
	}
	size_t n = strlen(r->hetu_new);
	unsigned char *hash = arena_alloc(ctx->mem, FIELD_HASH_BYTES);
	field_hash(&ctx->app->keys, r->hetu_new, n, hash);
	if (r->hetu_hash && memcmp(hash, r->hetu_hash, FIELD_HASH_BYTES) == 0) {
		/* The code the person already has: nothing changes. */
		r->hetu_changed = false;
		return 0;
	}
	unsigned char *enc = arena_alloc(ctx->mem, n + FIELD_SEAL_OVERHEAD);
	char *masked = arena_alloc(ctx->mem, 12);
	field_seal(&ctx->app->keys, r->hetu_new, n, enc);
	hetu_mask(r->hetu_new, masked);
	r->hetu_enc = enc;
	r->hetu_enc_len = n + FIELD_SEAL_OVERHEAD;
	r->hetu_hash = hash;
	r->hetu_masked = masked;

	struct query *q = store_query(ctx->db, ST_PERSON_BY_HETU);
	q_text(q, 1, rid);
	q_blob(q, 2, hash, FIELD_HASH_BYTES);
	int rc = q_step(q, ctx->err);
	int64_t other = rc == 1 ? q_col_int(q, 0) : 0;
	q_done(q);
	if (rc < 0)
		return rc;
	if (other && other != self)
		return kerr_set(
		        ctx->err, KERR_CONFLICT, "hetu",
		        "hetu: a person with this henkilötunnus is already in register '%s'", rid);
	return 0;
}

/* Indexes the person's names and e-mail address for search. */
static int search_index(struct kctx *ctx, int64_t id, const struct person_rec *r, bool replace)
{
	struct buf b = BUF_INIT;
	if (r->first_name)
		buf_appendf(&b, "%s ", r->first_name);
	if (r->last_name)
		buf_appendf(&b, "%s ", r->last_name);
	if (r->cp[CP_EMAIL])
		buf_puts(&b, r->cp[CP_EMAIL]);
	int rc = search_put(ctx, SEARCH_PERSONS, id, buf_str(&b), replace);
	buf_free(&b);
	return rc;
}

/* Writes contact point `k` of person `id`: updates it (inserting it when the person had
 * none of that kind), or deletes it when the record has no value for it. */
static int write_cp(struct kctx *ctx, const char *rid, int64_t id, const struct person_rec *r,
                    int k, bool is_new)
{
	struct query *q;
	int rc;
	if (!r->cp[k]) {
		q = store_query(ctx->db, ST_CP_DELETE);
		q_text(q, 1, rid);
		q_int(q, 2, id);
		q_text(q, 3, cp_map[k].kind);
		return q_exec(q, ctx->err);
	}
	for (int pass = is_new ? 1 : 0; pass < 2; pass++) {
		q = store_query(ctx->db, pass == 0 ? ST_CP_UPDATE : ST_CP_INSERT);
		q_text(q, 1, rid);
		q_int(q, 2, id);
		q_text(q, 3, cp_map[k].kind);
		q_text(q, 4, r->cp[k]);
		q_text(q, 5, r->source);
		q_text(q, 6, ctx->now_iso);
		q_text(q, 7, ctx->actor->name);
		if ((rc = q_exec(q, ctx->err)) || (pass == 0 && store_changes(ctx->db) > 0))
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- create */

/* a person erased by passivation is never added again. */
static int not_suppressed(struct kctx *ctx, const struct decl *d, const char *rid,
                          const struct person_rec *r)
{
	if (!d->rights.erasure_by_passivation)
		return 0;
	const char *org = json_string_value(json_object_get(r->attrs, "organisation"));
	struct suppress_ids ids = {.email = r->cp[CP_EMAIL],
	                           .phone = r->cp[CP_PHONE],
	                           .first_name = r->first_name,
	                           .last_name = r->last_name,
	                           .orgs = org ? &org : NULL,
	                           .norgs = org ? 1 : 0};
	bool hit = false;
	int rc = suppress_match(ctx, rid, &ids, &hit, NULL);
	if (!rc && hit)
		rc = kerr_set(ctx->err, KERR_SUPPRESSED, NULL,
		              "this person asked to be erased from register '%s' and is not added "
		              "again (erasure by passivation)",
		              rid);
	return rc;
}

int person_create_tx(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	const struct decl *d = app_register(ctx->app, rid);
	struct person_rec r = {0};
	int rc;

	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	r.attrs = json_object();
	if ((rc = rec_apply(ctx, d, rid, &r, in, true)) || (rc = rec_validate(ctx, d, rid, &r)) ||
	    (rc = rec_seal_hetu(ctx, rid, &r, 0)) || (rc = not_suppressed(ctx, d, rid, &r)))
		goto out;

	unsigned char *sealed;
	size_t sealed_len;
	char *attrs = attrs_store(ctx, d, r.attrs, &sealed, &sealed_len);
	struct query *q = store_query(ctx->db, ST_PERSON_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, r.first_name);
	q_text(q, 3, r.last_name);
	q_text(q, 4, r.group);
	q_text(q, 5, r.basis);
	q_text(q, 6, r.source);
	q_blob(q, 7, r.hetu_enc, r.hetu_enc_len);
	q_blob(q, 8, r.hetu_hash, FIELD_HASH_BYTES);
	q_text(q, 9, r.hetu_masked);
	q_text(q, 10, attrs);
	q_text(q, 11, r.lce);
	q_text(q, 12, ctx->now_iso);
	q_text(q, 13, ctx->actor->name);
	q_blob(q, 14, sealed, sealed_len);
	rc = q_exec(q, ctx->err);
	free(attrs);
	if (rc)
		goto out;
	*id = store_last_id(ctx->db);
	for (int k = 0; k < CP__MAX; k++)
		if (r.cp[k] && (rc = write_cp(ctx, rid, *id, &r, k, true)))
			goto out;
	if ((rc = search_index(ctx, *id, &r, false)))
		goto out;
	rc = usage_record(ctx, "create", rid, "person", *id, NULL);
out:
	json_decref(r.attrs);
	return rc;
}

int person_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	IN_WRITE_TX(ctx, person_create_tx(ctx, rid, in, id));
}

/* ---------------------------------------------------------------- read */

/* Loads person `id` into `r` (strings in ctx->mem). Returns KERR_NOTFOUND when absent. */
static int rec_load(struct kctx *ctx, const char *rid, int64_t id, struct person_rec *r)
{
	struct query *q = store_query(ctx->db, ST_PERSON_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc <= 0) {
		q_done(q);
		return rc < 0 ? rc
		              : kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                         "person %" PRId64 " not found in register '%s'", id, rid);
	}
	r->first_name = arena_strdup(ctx->mem, q_col_text(q, 1));
	r->last_name = arena_strdup(ctx->mem, q_col_text(q, 2));
	r->group = arena_strdup(ctx->mem, q_col_text(q, 3));
	r->basis = arena_strdup(ctx->mem, q_col_text(q, 4));
	r->source = arena_strdup(ctx->mem, q_col_text(q, 5));
	if (!q_col_null(q, 7)) {
		size_t n = q_col_bytes(q, 7);
		void *p = arena_alloc(ctx->mem, n);
		memcpy(p, q_col_blob(q, 7), n);
		r->hetu_enc = p;
		r->hetu_enc_len = n;
	}
	r->hetu_masked = arena_strdup(ctx->mem, q_col_text(q, 8));
	if (!q_col_null(q, 15) && q_col_bytes(q, 15) == FIELD_HASH_BYTES) {
		void *h = arena_alloc(ctx->mem, FIELD_HASH_BYTES);
		memcpy(h, q_col_blob(q, 15), FIELD_HASH_BYTES);
		r->hetu_hash = h;
	}
	const void *sealed = NULL;
	size_t sealed_len = 0;
	if (!q_col_null(q, 16)) {
		sealed_len = q_col_bytes(q, 16);
		void *p = arena_alloc(ctx->mem, sealed_len);
		memcpy(p, q_col_blob(q, 16), sealed_len);
		sealed = p;
	}
	json_error_t jerr;
	r->attrs = json_loads(q_col_text(q, 9), 0, &jerr);
	if (!r->attrs)
		r->attrs = json_object();
	r->lce = arena_strdup(ctx->mem, q_col_text(q, 10));
	if ((rc = attrs_unseal(ctx, sealed, sealed_len, r->attrs))) {
		q_done(q);
		return rc;
	}
	q_done(q);

	q = store_query(ctx->db, ST_CP_LIST);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		int k = cp_index_kind(q_col_text(q, 0));
		if (k >= 0)
			r->cp[k] = arena_strdup(ctx->mem, q_col_text(q, 1));
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

static int may_reveal_hetu(const struct kctx *ctx)
{
	/* The operator at the server's command line, and editors and managers of the
	 * register (the server sets may_reveal from the role); never a processor. */
	return ctx->may_reveal && !ctx->processor;
}

/* Drops what was appended to `out` since `mark`. */
static void buf_cut(struct buf *out, size_t mark)
{
	out->len = mark;
	if (out->p)
		out->p[mark] = '\0';
}

/* Writes the "hetu" and "attributes" members: masked, or in full when revealing. */
static int view_sensitive(struct kctx *ctx, const struct decl *d, struct query *q, unsigned flags,
                          struct jsonw *w)
{
	bool reveal = flags & PERSON_REVEAL_SENSITIVE;
	int rc;

	if (!q_col_null(q, 7)) {
		jw_key(w, "hetu");
		if (reveal) {
			size_t n = q_col_bytes(q, 7);
			char *plain = arena_alloc(ctx->mem, n);
			if (field_open(&ctx->app->keys, q_col_blob(q, 7), n, plain) != 0)
				return kerr_set(
				        ctx->err, KERR_INTERNAL, "hetu",
				        "hetu: stored value cannot be decrypted with this data "
				        "directory's key");
			jw_string(w, plain);
		} else {
			jw_string(w, q_col_text(q, 8));
		}
	}
	jw_key(w, "attributes");
	if (q_col_null(q, 16)) {
		/* No sealed attributes: the stored object is written as it is. */
		jw_raw(w, q_col_text(q, 9), q_col_bytes(q, 9));
		return 0;
	}
	json_error_t jerr;
	json_t *attrs = json_loads(q_col_text(q, 9), 0, &jerr);
	if (!attrs)
		attrs = json_object();
	if ((rc = attrs_unseal(ctx, q_col_blob(q, 16), q_col_bytes(q, 16), attrs))) {
		json_decref(attrs);
		return rc;
	}
	if (!reveal) {
		const char *key;
		json_t *v;
		json_object_foreach (attrs, key, v) {
			if (attr_sensitive(d, key))
				json_object_set_new(attrs, key, json_string("****"));
		}
	}
	char *text = json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS);
	jw_raw(w, text, strlen(text));
	free(text);
	json_decref(attrs);
	return 0;
}

static int view(struct kctx *ctx, const struct decl *d, const char *rid, int64_t id, unsigned flags,
                struct buf *out)
{
	struct jsonw w;
	int rc;

	struct query *q = store_query(ctx->db, ST_PERSON_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	if ((rc = q_step(q, ctx->err)) <= 0) {
		q_done(q);
		return rc < 0 ? rc
		              : kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                         "person %" PRId64 " not found in register '%s'", id, rid);
	}
	/* a restricted (or passivated) subject is out of every use but storage; only a
	 * manager, who handles the restriction, sees them. */
	if (!ctx->sees_restricted && strcmp(q_col_text(q, 6), "active") != 0) {
		q_done(q);
		return kerr_set(ctx->err, KERR_REFUSED, "id",
		                "the processing of person %" PRId64
		                "'s data is restricted (GDPR Art. "
		                "18): only a manager of the register sees it",
		                id);
	}
	jw_init(&w, out);
	jw_object(&w);
	jw_kint(&w, "id", id);
	jw_kstring(&w, "register", rid);
	jw_kstring(&w, "first_name", q_col_text(q, 1));
	jw_kstring(&w, "last_name", q_col_text(q, 2));
	jw_kstring(&w, "subject_group", q_col_text(q, 3));
	jw_kstring(&w, "legal_basis", q_col_text(q, 4));
	jw_kstring(&w, "source", q_col_text(q, 5));
	jw_kstring(&w, "status", q_col_text(q, 6));
	jw_kstring(&w, "last_customer_event", q_col_text(q, 10));
	jw_kstring(&w, "created_at", q_col_text(q, 11));
	jw_kstring(&w, "updated_at", q_col_text(q, 12));
	jw_kstring(&w, "created_by", q_col_text(q, 13));
	jw_kint(&w, "version", q_col_int(q, 14));
	rc = view_sensitive(ctx, d, q, flags, &w);
	q_done(q);
	if (rc)
		return rc;

	/* Contact points: each as a top-level field and, with provenance, in a list. */
	q = store_query(ctx->db, ST_CP_LIST);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	struct buf list = BUF_INIT;
	struct jsonw lw;
	jw_init(&lw, &list);
	jw_array(&lw);
	while ((rc = q_step(q, ctx->err)) == 1) {
		int k = cp_index_kind(q_col_text(q, 0));
		if (k >= 0)
			jw_kstring(&w, cp_map[k].field, q_col_text(q, 1));
		jw_object(&lw);
		jw_kstring(&lw, "kind", q_col_text(q, 0));
		jw_kstring(&lw, "value", q_col_text(q, 1));
		jw_kstring(&lw, "source", q_col_text(q, 2));
		jw_kstring(&lw, "collected_at", q_col_text(q, 3));
		jw_kstring(&lw, "collected_by", q_col_text(q, 4));
		jw_end_object(&lw);
	}
	q_done(q);
	jw_end_array(&lw);
	jw_key(&w, "contact_points");
	jw_raw(&w, list.p, list.len);
	buf_free(&list);
	if (rc < 0)
		return rc;

	q = store_query(ctx->db, ST_AFF_BY_PERSON);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	jw_key(&w, "affiliations");
	jw_array(&w);
	while ((rc = q_step(q, ctx->err)) == 1) {
		jw_object(&w);
		jw_kint(&w, "id", q_col_int(q, 0));
		jw_kint(&w, "organisation_id", q_col_int(q, 1));
		jw_kstring(&w, "organisation", q_col_text(q, 2));
		jw_kstring(&w, "title", q_col_text(q, 3));
		jw_kstring(&w, "start_date", q_col_text(q, 4));
		jw_kstring(&w, "end_date", q_col_text(q, 5));
		jw_kstring(&w, "end_reason", q_col_text(q, 6));
		jw_end_object(&w);
	}
	q_done(q);
	jw_end_array(&w);
	if (rc < 0)
		return rc;

	if (flags & PERSON_HISTORY) {
		q = store_query(ctx->db, ST_HISTORY_LIST);
		q_text(q, 1, rid);
		q_text(q, 2, "person");
		q_int(q, 3, id);
		jw_key(&w, "history");
		jw_array(&w);
		while ((rc = q_step(q, ctx->err)) == 1) {
			jw_object(&w);
			jw_kstring(&w, "field", q_col_text(q, 0));
			jw_kstring(&w, "old", q_col_text(q, 1));
			jw_kstring(&w, "new", q_col_text(q, 2));
			jw_kstring(&w, "actor", q_col_text(q, 3));
			jw_kstring(&w, "reason", q_col_text(q, 4));
			jw_kstring(&w, "at", q_col_text(q, 5));
			jw_end_object(&w);
		}
		q_done(q);
		jw_end_array(&w);
		if (rc < 0)
			return rc;
	}
	jw_end_object(&w);
	return 0;
}

int person_view(struct kctx *ctx, const char *rid, int64_t id, unsigned flags, struct buf *out)
{
	const struct decl *d = app_register(ctx->app, rid);
	int rc;

	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	if ((flags & PERSON_REVEAL_SENSITIVE) && !may_reveal_hetu(ctx))
		return kerr_set(ctx->err, KERR_FORBIDDEN, "reveal",
		                "reveal: you have no right to see sensitive fields in full");
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	size_t mark = out->len;
	if ((rc = view(ctx, d, rid, id, flags, out))) {
		store_rollback(ctx->db);
		buf_cut(out, mark);
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err)) == 0 &&
	    (rc = scope_filter_buf(ctx, d, out, mark, false)) == 0) {
		struct usage_entry e = {
		        .action = (flags & PERSON_REVEAL_SENSITIVE) ? "reveal" : "read",
		        .rid = rid,
		        .entity = "person",
		        .entity_id = id,
		};
		rc = usage_read(ctx, &e);
	}
	if (rc)
		buf_cut(out, mark);
	return rc;
}

int person_get(struct kctx *ctx, const char *rid, int64_t id, unsigned flags, json_t **out)
{
	struct buf b = BUF_INIT;
	json_error_t jerr;
	*out = NULL;
	int rc = person_view(ctx, rid, id, flags, &b);
	if (rc == 0 && !(*out = json_loadb(b.p, b.len, 0, &jerr)))
		rc = kerr_set(ctx->err, KERR_INTERNAL, NULL, "person %" PRId64 ": bad JSON view",
		              id);
	if (b.p)
		sodium_memzero(b.p, b.len);
	buf_free(&b);
	return rc;
}

int person_unsealed(struct kctx *ctx, const char *rid, int64_t id, const char **hetu,
                    json_t **attrs)
{
	struct person_rec r = {0};
	int rc;

	*hetu = NULL;
	*attrs = NULL;
	if ((rc = rec_load(ctx, rid, id, &r))) {
		json_decref(r.attrs);
		return rc;
	}
	if (r.hetu_enc) {
		if (r.hetu_enc_len <= FIELD_SEAL_OVERHEAD) {
			json_decref(r.attrs);
			return kerr_set(ctx->err, KERR_INTERNAL, "hetu",
			                "hetu: stored value is damaged");
		}
		char *plain = arena_alloc(ctx->mem, r.hetu_enc_len - FIELD_SEAL_OVERHEAD + 1);
		if (field_open(&ctx->app->keys, r.hetu_enc, r.hetu_enc_len, plain) != 0) {
			json_decref(r.attrs);
			return kerr_set(ctx->err, KERR_INTERNAL, "hetu",
			                "hetu: stored value cannot be decrypted with this data "
			                "directory's key");
		}
		*hetu = plain;
	}
	*attrs = r.attrs;
	return 0;
}

/* ---------------------------------------------------------------- update */

static int history(struct kctx *ctx, const char *rid, const char *entity, int64_t id,
                   const char *field, const char *old, const char *new, const char *reason)
{
	struct query *q = store_query(ctx->db, ST_HISTORY_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, entity);
	q_int(q, 3, id);
	q_text(q, 4, field);
	q_text(q, 5, old);
	q_text(q, 6, new);
	q_text(q, 7, ctx->actor->name);
	q_text(q, 8, reason);
	q_text(q, 9, ctx->now_iso);
	return q_exec(q, ctx->err);
}

static bool str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

static char *json_value_text(json_t *v)
{
	if (!v)
		return NULL;
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* A value as the change history records it: sensitive values only as "****". */
static char *history_value(const struct decl *d, const char *key, json_t *v)
{
	if (!v)
		return NULL;
	if (attr_sensitive(d, key))
		return xstrdup("****");
	return json_value_text(v);
}

int person_update_tx(struct kctx *ctx, const char *rid, int64_t id, json_t *patch, bool *changed)
{
	const struct decl *d = app_register(ctx->app, rid);
	struct person_rec old = {0}, r = {0};
	int rc;

	*changed = false;
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	if ((rc = rec_load(ctx, rid, id, &old)))
		goto out;
	r = old;
	r.reason = NULL;
	r.attrs = json_deep_copy(old.attrs);
	memset(r.cp_changed, 0, sizeof(r.cp_changed));
	if ((rc = rec_apply(ctx, d, rid, &r, patch, false)) ||
	    (rc = rec_validate(ctx, d, rid, &r)) || (rc = rec_seal_hetu(ctx, rid, &r, id)))
		goto out;

	/* History: one row per changed field; sensitive values recorded masked. */
	struct {
		const char *field, *a, *b;
	} simple[] = {
	        {"first_name", old.first_name, r.first_name},
	        {"last_name", old.last_name, r.last_name},
	        {"subject_group", old.group, r.group},
	        {"last_customer_event", old.lce, r.lce},
	};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (str_differs(simple[i].a, simple[i].b)) {
			*changed = true;
			if ((rc = history(ctx, rid, "person", id, simple[i].field, simple[i].a,
			                  simple[i].b, r.reason)))
				goto out;
		}
	if (r.hetu_changed) {
		*changed = true;
		if ((rc = history(ctx, rid, "person", id, "hetu", old.hetu_masked, r.hetu_masked,
		                  r.reason)))
			goto out;
	}
	for (int k = 0; k < CP__MAX; k++) {
		if (!str_differs(old.cp[k], r.cp[k]))
			continue;
		*changed = true;
		if ((rc = history(ctx, rid, "person", id, cp_map[k].field, old.cp[k], r.cp[k],
		                  r.reason)) ||
		    (rc = write_cp(ctx, rid, id, &r, k, false)))
			goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach (r.attrs, key, v) {
		json_t *ov = json_object_get(old.attrs, key);
		if (ov && json_equal(ov, v))
			continue;
		*changed = true;
		char *a = history_value(d, key, ov), *b = history_value(d, key, v);
		rc = history(ctx, rid, "person", id, key, a, b, r.reason);
		free(a);
		free(b);
		if (rc)
			goto out;
	}
	json_object_foreach (old.attrs, key, v) {
		if (json_object_get(r.attrs, key))
			continue;
		*changed = true;
		char *a = history_value(d, key, v);
		rc = history(ctx, rid, "person", id, key, a, NULL, r.reason);
		free(a);
		if (rc)
			goto out;
	}
	if (!*changed)
		goto out;

	unsigned char *sealed;
	size_t sealed_len;
	char *attrs = attrs_store(ctx, d, r.attrs, &sealed, &sealed_len);
	struct query *q = store_query(ctx->db, ST_PERSON_UPDATE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_text(q, 3, r.first_name);
	q_text(q, 4, r.last_name);
	q_text(q, 5, r.group);
	q_text(q, 6, r.basis);
	q_blob(q, 7, r.hetu_enc, r.hetu_enc_len);
	q_blob(q, 8, r.hetu_hash, FIELD_HASH_BYTES);
	q_text(q, 9, r.hetu_masked);
	q_text(q, 10, attrs);
	q_text(q, 11, r.lce);
	q_text(q, 12, ctx->now_iso);
	q_blob(q, 13, sealed, sealed_len);
	rc = q_exec(q, ctx->err);
	free(attrs);
	if (rc || (rc = search_index(ctx, id, &r, true)))
		goto out;
	rc = usage_record(ctx, "update", rid, "person", id, NULL);
out:
	json_decref(old.attrs);
	if (r.attrs != old.attrs)
		json_decref(r.attrs);
	return rc;
}

int person_use_allowed(struct kctx *ctx, const char *rid, int64_t id, const char *field)
{
	if (ctx->sees_restricted)
		return 0;
	struct query *q = store_query(ctx->db, ST_PERSON_SUMMARY);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	bool active = rc == 1 && !strcmp(q_col_text(q, 4), "active");
	q_done(q);
	if (rc == 1 && !active)
		return kerr_set(ctx->err, KERR_REFUSED, field,
		                "the processing of person %" PRId64
		                "'s data is restricted (GDPR Art. "
		                "18): only a manager of the register sees or changes it",
		                id);
	return rc < 0 ? rc : 0;
}

static int update_checked(struct kctx *ctx, const char *rid, int64_t id, json_t *patch)
{
	bool changed;
	int rc = person_use_allowed(ctx, rid, id, "id");
	return rc ? rc : person_update_tx(ctx, rid, id, patch, &changed);
}

int person_update(struct kctx *ctx, const char *rid, int64_t id, json_t *patch)
{
	IN_WRITE_TX(ctx, update_checked(ctx, rid, id, patch));
}

/* ---------------------------------------------------------------- delete */

int person_held(struct kctx *ctx, const char *rid, int64_t id, const char **since)
{
	struct query *q = store_query(ctx->db, ST_RET_HOLD_OF);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	*since = rc == 1 ? arena_strdup(ctx->mem, q_col_text(q, 0)) : NULL;
	q_done(q);
	return rc < 0 ? rc : 0;
}

int person_erase_tx(struct kctx *ctx, const char *rid, int64_t id, const char *action,
                    const char *reason)
{
	const char *since;
	int rc;
	/* A legal hold keeps the person whatever asks for the erasure (Art. 17(3)(e)). */
	if ((rc = person_held(ctx, rid, id, &since)))
		return rc;
	if (since)
		return kerr_set(ctx->err, KERR_REFUSED, "id",
		                "person %" PRId64
		                " is on legal hold since %.10s: it cannot be erased "
		                "until a manager releases the hold (GDPR Art. 17(3)(e))",
		                id, since);
	/* Affiliations go with the person (cascade); their history must go first. */
	struct query *q = store_query(ctx->db, ST_HISTORY_DELETE_AFFILIATIONS);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_int(q, 3, 0);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	q = store_query(ctx->db, ST_PERSON_DELETE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	if (store_changes(ctx->db) == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                "person %" PRId64 " not found in register '%s'", id, rid);
	if ((rc = search_remove(ctx, SEARCH_PERSONS, id)) || (rc = search_mark_purge(ctx)))
		return rc;
	q = store_query(ctx->db, ST_HISTORY_DELETE);
	q_text(q, 1, rid);
	q_text(q, 2, "person");
	q_int(q, 3, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	q = store_query(ctx->db, ST_RET_HOLDS_FORGET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	return usage_record(ctx, action, rid, "person", id, reason);
}

/* a restricted subject is kept (stored) until a manager acts on it. */
static int delete_checked(struct kctx *ctx, const char *rid, int64_t id)
{
	int rc = person_use_allowed(ctx, rid, id, "id");
	return rc ? rc : person_erase_tx(ctx, rid, id, "delete", NULL);
}

int person_delete(struct kctx *ctx, const char *rid, int64_t id)
{
	if (!app_register(ctx->app, rid))
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	IN_WRITE_TX(ctx, delete_checked(ctx, rid, id));
}

/* ---------------------------------------------------------------- for retention */

int person_facts_load(struct kctx *ctx, const char *rid, int64_t id, struct person_facts *out)
{
	struct person_rec r = {0};
	memset(out, 0, sizeof(*out));
	int rc = rec_load(ctx, rid, id, &r);
	if (rc) {
		json_decref(r.attrs);
		return rc;
	}
	out->group = r.group;
	out->email = r.cp[CP_EMAIL];
	out->phone = r.cp[CP_PHONE];
	out->attrs = r.attrs;
	return 0;
}

int person_archive_view(struct kctx *ctx, const char *rid, int64_t id, struct buf *out)
{
	const struct decl *d = app_register(ctx->app, rid);
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	size_t mark = out->len;
	int rc = view(ctx, d, rid, id, PERSON_REVEAL_SENSITIVE | PERSON_HISTORY, out);
	if (rc)
		buf_cut(out, mark);
	return rc;
}

/* ---------------------------------------------------------------- find */

const char *cursor_encode(struct kctx *ctx, int64_t id)
{
	return arena_printf(ctx->mem, "c%" PRIx64, (uint64_t)id);
}

int cursor_decode(struct kctx *ctx, const char *cursor, int64_t *id)
{
	*id = 0;
	if (!cursor || !*cursor)
		return 0;
	char *end = NULL;
	if (cursor[0] != 'c' || cursor[1] == '\0' || strlen(cursor) > 17)
		goto bad;
	for (const char *p = cursor + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			goto bad;
	unsigned long long v = strtoull(cursor + 1, &end, 16);
	if (*end || v > INT64_MAX)
		goto bad;
	*id = (int64_t)v;
	return 0;
bad:
	return kerr_set(ctx->err, KERR_INVALID, "cursor",
	                "cursor: not a cursor this server issued");
}

int page_limit(struct kctx *ctx, int limit)
{
	if (limit <= 0)
		return 50 < ctx->app->cfg.page_max ? 50 : ctx->app->cfg.page_max;
	return limit > ctx->app->cfg.page_max ? ctx->app->cfg.page_max : limit;
}

/* A person as lists show it, from a row of id, first_name, last_name, subject_group and
 * status (ST_PERSON_LIST, ST_PERSON_SEARCH, ST_PERSON_SUMMARY). */
static void summary(struct jsonw *w, struct query *q)
{
	jw_object(w);
	jw_kint(w, "id", q_col_int(q, 0));
	jw_kstring(w, "first_name", q_col_text(q, 1));
	jw_kstring(w, "last_name", q_col_text(q, 2));
	jw_kstring(w, "subject_group", q_col_text(q, 3));
	jw_kstring(w, "status", q_col_text(q, 4));
	jw_end_object(w);
}

/* The id of the person of `rid` with henkilötunnus `hetu` (exact match through the keyed
 * hash), or 0. */
static int find_by_hetu(struct kctx *ctx, const struct decl *d, const char *rid, const char *hetu,
                        int64_t *id)
{
	struct hetu h;
	const char *why = NULL;
	unsigned char hash[FIELD_HASH_BYTES];

	*id = 0;
	if (!decl_field(d, "hetu"))
		return kerr_set(ctx->err, KERR_REFUSED, "hetu",
		                "hetu: register '%s' does not declare a henkilötunnus", rid);
	/* Whether a code is in the register is itself about that person. */
	if (!scope_field_visible(ctx, d, "hetu"))
		return kerr_set(ctx->err, KERR_FORBIDDEN, "hetu",
		                "hetu: the categories of your processor role do not include it");
	if (!hetu_parse(hetu, &h, &why))
		return kerr_set(ctx->err, KERR_INVALID, "hetu", "hetu: %s",
		                why ? why : "not a valid henkilötunnus");
	field_hash(&ctx->app->keys, h.norm, strlen(h.norm), hash);
	struct query *st = store_query(ctx->db, ST_PERSON_BY_HETU);
	q_text(st, 1, rid);
	q_blob(st, 2, hash, sizeof(hash));
	int rc = q_step(st, ctx->err);
	*id = rc == 1 ? q_col_int(st, 0) : 0;
	q_done(st);
	return rc < 0 ? rc : 0;
}

/* Writes a page of persons to `w`; the ids shown go to ids[0..*nids-1] (room for `limit`). */
static int find(struct kctx *ctx, const struct decl *d, const char *rid, const char *q,
                const char *hetu, int64_t after, int limit, struct jsonw *w, int64_t *ids,
                size_t *nids)
{
	struct query *st;
	int rc;

	jw_object(w);
	jw_key(w, "items");
	jw_array(w);
	if (hetu) {
		int64_t id;
		if ((rc = find_by_hetu(ctx, d, rid, hetu, &id)))
			return rc;
		if (id > after) {
			/* The same summary a search returns. */
			st = store_query(ctx->db, ST_PERSON_SUMMARY);
			q_text(st, 1, rid);
			q_int(st, 2, id);
			if ((rc = q_step(st, ctx->err)) == 1 &&
			    (ctx->sees_restricted || !strcmp(q_col_text(st, 4), "active"))) {
				summary(w, st);
				ids[(*nids)++] = id;
			}
			q_done(st);
			if (rc < 0)
				return rc;
		}
		jw_end_array(w);
		jw_key(w, "next");
		jw_null(w);
		jw_end_object(w);
		return 0;
	}

	const char *match = NULL;
	if (q && !(match = search_query(ctx, q)))
		return KERR_INVALID;
	st = store_query(ctx->db, match ? ST_PERSON_SEARCH : ST_PERSON_LIST);
	q_text(st, 1, rid);
	if (match) {
		q_text(st, 2, match);
		q_int(st, 3, after);
		q_int(st, 4, limit + 1);
		q_int(st, 5, ctx->sees_restricted);
	} else {
		q_int(st, 2, after);
		q_int(st, 3, limit + 1);
		q_int(st, 4, ctx->sees_restricted);
	}
	int n = 0;
	int64_t last = 0;
	bool more = false;
	while ((rc = q_step(st, ctx->err)) == 1) {
		if (n == limit) {
			more = true;
			break;
		}
		last = q_col_int(st, 0);
		summary(w, st);
		ids[(*nids)++] = last;
		n++;
	}
	q_done(st);
	if (rc < 0)
		return rc;
	jw_end_array(w);
	jw_key(w, "next");
	jw_string(w, more ? cursor_encode(ctx, last) : NULL);
	jw_end_object(w);
	return 0;
}

int person_find_view(struct kctx *ctx, const char *rid, const char *q, const char *hetu,
                     const char *cursor, int limit, struct buf *out)
{
	const struct decl *d = app_register(ctx->app, rid);
	struct jsonw w;
	int64_t after = 0;
	int rc;

	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid ? rid : "");
	if ((rc = cursor_decode(ctx, cursor, &after)))
		return rc;
	size_t mark = out->len, nids = 0;
	limit = page_limit(ctx, limit);
	int64_t *ids = arena_alloc(ctx->mem, (size_t)limit * sizeof(*ids));
	jw_init(&w, out);
	if ((rc = find(ctx, d, rid, q, hetu, after, limit, &w, ids, &nids)) == 0 &&
	    (rc = scope_filter_buf(ctx, d, out, mark, true)) == 0) {
		struct usage_entry e = {
		        .action = "search",
		        .rid = rid,
		        .entity = "person",
		        .subjects = ids,
		        .nsubjects = nids,
		};
		rc = usage_read(ctx, &e);
	}
	if (rc)
		buf_cut(out, mark);
	return rc;
}

int person_find(struct kctx *ctx, const char *rid, const char *q, const char *hetu,
                const char *cursor, int limit, json_t **out)
{
	struct buf b = BUF_INIT;
	json_error_t jerr;
	*out = NULL;
	int rc = person_find_view(ctx, rid, q, hetu, cursor, limit, &b);
	if (rc == 0 && !(*out = json_loadb(b.p, b.len, 0, &jerr)))
		rc = kerr_set(ctx->err, KERR_INTERNAL, NULL, "person list: bad JSON view");
	buf_free(&b);
	return rc;
}

int person_find_contact(struct kctx *ctx, const char *rid, const char *kind, const char *value,
                        int64_t *id)
{
	struct query *q = store_query(ctx->db, ST_CP_FIND);
	q_text(q, 1, rid);
	q_text(q, 2, kind);
	q_text(q, 3, value);
	int rc = q_step(q, ctx->err);
	*id = rc == 1 ? q_col_int(q, 0) : 0;
	q_done(q);
	return rc < 0 ? rc : 0;
}
