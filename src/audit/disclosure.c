/*
 * Disclosures to declared recipients (S-07, M-06). Every rule is checked against the
 * register's current declaration before the transaction begins, except that the subjects
 * are persons of the register, which is checked inside it; the disclosure, its subjects and
 * its usage-log entry are then written together. The one design decision: the purposes of
 * M-06 are refused here whatever a declaration says, so a declaration that forgets to forbid
 * them cannot open the door.
 */
#include "audit/disclosure.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/kerr.h"
#include "util/validate.h"
#include "util/xmalloc.h"

#define MAX_BASIS      300   /* bytes of a legal basis */
#define MAX_REFERENCE  200   /* bytes of a request reference */
#define MAX_CATEGORIES 64    /* categories in one disclosure */
#define MAX_SUBJECTS   10000 /* subjects in one disclosure */

const char *const disclosure_forbidden_purposes[] = {
        "direct_marketing", "telemarketing", "address_service", "market_research", NULL,
};

/* ---------------------------------------------------------------- checks */

static bool in_list(const struct str_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* Whether s is text fit for a column: valid UTF-8 without control characters. */
static bool plain_text(const char *s)
{
	if (!utf8_valid(s, strlen(s)))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* `s` without leading and trailing blanks, copied into the arena. */
static char *trimmed(struct kctx *ctx, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return arena_strndup(ctx->mem, s, n);
}

static int check_recipient(struct kctx *ctx, const struct decl *d, const char *rid, const char *id,
                           const struct decl_recipient **out)
{
	const struct decl_recipient *r;
	if (!id || !*id)
		return kerr_set(ctx->err, KERR_INVALID, "recipient",
		                "recipient: required, a recipient the register declares");
	if (!(r = decl_recipient(d, id)))
		return kerr_set(ctx->err, KERR_REFUSED, "recipient",
		                "recipient: '%s' is not a recipient declared by register '%s'",
		                plain_text(id) ? id : "?", rid);
	if (r->kind == RK_PROCESSOR || r->kind == RK_INTERNAL_SYSTEM)
		return kerr_set(ctx->err, KERR_REFUSED, "recipient",
		                "recipient: '%s' is declared as %s, which processes data for the "
		                "controller: giving it data is not a disclosure",
		                r->id,
		                r->kind == RK_PROCESSOR ? "a processor" : "an internal system");
	*out = r;
	return 0;
}

static int check_purpose(struct kctx *ctx, const struct decl *d, const char *rid,
                         const struct decl_recipient *r, const char *p)
{
	if (!p || !*p)
		return kerr_set(ctx->err, KERR_INVALID, "purpose",
		                "purpose: required, what the recipient will use the data for");
	if (!ident_valid(p, NULL))
		return kerr_set(ctx->err, KERR_INVALID, "purpose",
		                "purpose: an id of lower-case letters, digits, '_' and '-'");
	/* M-06: never for direct marketing, telemarketing, address services or research. */
	bool forbidden = in_list(&d->disclosures.forbidden_purposes, p);
	for (size_t i = 0; !forbidden && disclosure_forbidden_purposes[i]; i++)
		forbidden = strcmp(disclosure_forbidden_purposes[i], p) == 0;
	const struct decl_purpose *dp = decl_purpose(d, p);
	if (forbidden || (dp && dp->direct_marketing))
		return kerr_set(ctx->err, KERR_REFUSED, "purpose",
		                "purpose: register '%s' does not disclose personal data for '%s' "
		                "(direct marketing, telemarketing, address services and market "
		                "research are never a purpose of a disclosure)",
		                rid, p);
	if (r->purposes.n && !in_list(&r->purposes, p))
		return kerr_set(ctx->err, KERR_REFUSED, "purpose",
		                "purpose: '%s' is not a purpose register '%s' declares for "
		                "recipient '%s'",
		                p, rid, r->id);
	return 0;
}

/* Checks the legal basis; *out is the declared spelling when the declaration lists them. */
static int check_basis(struct kctx *ctx, const struct decl *d, const char *rid, const char *b,
                       const char **out)
{
	const struct str_list *refs = &d->disclosures.legal_references;
	char *t = b ? trimmed(ctx, b) : NULL;
	if (!t || !*t)
		return kerr_set(ctx->err, KERR_REFUSED, "legal_basis",
		                "legal_basis: a disclosure needs the legal basis of the request "
		                "(e.g. julkisuuslaki 621/1999 13 §)");
	if (strlen(t) > MAX_BASIS || !plain_text(t))
		return kerr_set(ctx->err, KERR_INVALID, "legal_basis",
		                "legal_basis: at most %d characters of text on one line",
		                MAX_BASIS);
	*out = t;
	if (!refs->n)
		return 0;
	for (size_t i = 0; i < refs->n; i++)
		if (strcasecmp(refs->v[i], t) == 0) {
			*out = refs->v[i];
			return 0;
		}
	return kerr_set(ctx->err, KERR_REFUSED, "legal_basis",
	                "legal_basis: not one of the legal references register '%s' declares for "
	                "disclosures (e.g. '%s')",
	                rid, refs->v[0]);
}

/* Checks the categories and writes them as a JSON array (arena). */
static int check_categories(struct kctx *ctx, const struct decl *d, const char *rid,
                            const struct decl_recipient *r, const struct disclosure_in *in,
                            char **json)
{
	if (!in->ncategories)
		return kerr_set(ctx->err, KERR_REFUSED, "categories",
		                "categories: name the declared categories of data disclosed");
	if (in->ncategories > MAX_CATEGORIES)
		return kerr_set(ctx->err, KERR_INVALID, "categories", "categories: at most %d",
		                MAX_CATEGORIES);
	json_t *a = json_array();
	for (size_t i = 0; i < in->ncategories; i++) {
		const char *c = in->categories[i];
		const struct decl_category *dc = c ? decl_category(d, c) : NULL;
		int rc = 0;
		if (!dc)
			rc = kerr_set(
			        ctx->err, KERR_REFUSED, "categories",
			        "categories: '%s' is not a category declared by register '%s'",
			        c && plain_text(c) ? c : "?", rid);
		else if (r->categories.n && !in_list(&r->categories, dc->id))
			rc = kerr_set(
			        ctx->err, KERR_REFUSED, "categories",
			        "categories: register '%s' does not declare disclosing '%s' to "
			        "recipient '%s'",
			        rid, dc->id, r->id);
		if (rc) {
			json_decref(a);
			return rc;
		}
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || strcmp(in->categories[j], c) == 0;
		if (!dup)
			json_array_append_new(a, json_string(dc->id));
	}
	char *text = json_dumps(a, JSON_COMPACT);
	*json = arena_strdup(ctx->mem, text);
	free(text);
	json_decref(a);
	return 0;
}

/* The subjects sorted without duplicates (arena). */
static int check_subjects(struct kctx *ctx, const struct disclosure_in *in, int64_t **out,
                          size_t *n)
{
	if (!in->nsubjects)
		return kerr_set(ctx->err, KERR_REFUSED, "subjects",
		                "subjects: name the persons whose data is disclosed");
	if (in->nsubjects > MAX_SUBJECTS)
		return kerr_set(ctx->err, KERR_INVALID, "subjects",
		                "subjects: at most %d in one disclosure", MAX_SUBJECTS);
	int64_t *v = arena_calloc(ctx->mem, in->nsubjects, sizeof(*v));
	memcpy(v, in->subjects, in->nsubjects * sizeof(*v));
	qsort(v, in->nsubjects, sizeof(*v), usage_id_cmp);
	size_t m = 0;
	for (size_t i = 0; i < in->nsubjects; i++) {
		if (v[i] <= 0)
			return kerr_set(ctx->err, KERR_INVALID, "subjects",
			                "subjects: person ids are positive integers");
		if (!m || v[m - 1] != v[i])
			v[m++] = v[i];
	}
	*out = v;
	*n = m;
	return 0;
}

/* ---------------------------------------------------------------- record */

/* Inside the transaction: each subject is a person of `rid` whose processing is not
 * restricted. */
static int subjects_exist(struct kctx *ctx, const char *rid, const int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct query *q = store_query(ctx->db, ST_DISCLOSURE_PERSON);
		q_text(q, 1, rid);
		q_int(q, 2, v[i]);
		int rc = q_step(q, ctx->err);
		/* Restricted and passivated data is used for nothing. */
		bool restricted =
		        rc == 1 && (!q_col_text(q, 0) || strcmp(q_col_text(q, 0), "active") != 0);
		q_done(q);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return kerr_set(ctx->err, KERR_REFUSED, "subjects",
			                "subjects: %" PRId64 " is not a person of register '%s'",
			                v[i], rid);
		if (restricted)
			return kerr_set(ctx->err, KERR_REFUSED, "subjects",
			                "subjects: the processing of person %" PRId64
			                "'s data is restricted",
			                v[i]);
	}
	return 0;
}

static int write_disclosure(struct kctx *ctx, const char *rid, const struct disclosure_in *in,
                            const char *basis, const char *categories, const int64_t *subjects,
                            size_t nsubjects, int64_t *id)
{
	int rc;
	if ((rc = subjects_exist(ctx, rid, subjects, nsubjects)))
		return rc;
	struct query *q = store_query(ctx->db, ST_DISCLOSURE_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, in->recipient);
	q_text(q, 3, in->purpose);
	q_text(q, 4, basis);
	q_text(q, 5, categories);
	q_text(q, 6, in->reference);
	q_text(q, 7, ctx->now_iso);
	q_text(q, 8, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	*id = store_last_id(ctx->db);
	for (size_t i = 0; i < nsubjects; i++) {
		q = store_query(ctx->db, ST_DISCLOSURE_SUBJECT_INSERT);
		q_text(q, 1, rid);
		q_int(q, 2, subjects[i]);
		q_int(q, 3, *id);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	/* The entry is logged under the purpose the data leaves for. */
	struct kctx c = *ctx;
	c.purpose = in->purpose;
	struct usage_entry e = {
	        .action = "disclose",
	        .rid = rid,
	        .entity = "disclosure",
	        .entity_id = *id,
	        .subjects = subjects,
	        .nsubjects = nsubjects,
	};
	return usage_append(&c, &e);
}

int disclosure_record(struct kctx *ctx, const char *rid, const struct disclosure_in *in,
                      int64_t *id)
{
	const struct decl *d = rid ? app_register(ctx->app, rid) : NULL;
	const struct decl_recipient *r = NULL;
	const char *basis = NULL;
	char *categories = NULL;
	int64_t *subjects = NULL;
	size_t nsubjects = 0;
	int rc;

	*id = 0;
	if (!d)
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid && plain_text(rid) ? rid : "");
	if ((rc = check_recipient(ctx, d, rid, in->recipient, &r)) ||
	    (rc = check_purpose(ctx, d, rid, r, in->purpose)) ||
	    (rc = check_basis(ctx, d, rid, in->legal_basis, &basis)) ||
	    (rc = check_categories(ctx, d, rid, r, in, &categories)) ||
	    (rc = check_subjects(ctx, in, &subjects, &nsubjects)))
		return rc;
	if (in->reference && (strlen(in->reference) > MAX_REFERENCE || !plain_text(in->reference)))
		return kerr_set(ctx->err, KERR_INVALID, "reference",
		                "reference: at most %d characters of text on one line",
		                MAX_REFERENCE);
	struct disclosure_in ok = *in;
	ok.recipient = r->id;
	if (ok.reference && !*ok.reference)
		ok.reference = NULL;

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = write_disclosure(ctx, rid, &ok, basis, categories, subjects, nsubjects, id))) {
		store_rollback(ctx->db);
		*id = 0;
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		*id = 0;
	return rc;
}

/* ---------------------------------------------------------------- JSON */

static const char *const in_keys[] = {"recipient",  "purpose",  "legal_basis",
                                      "categories", "subjects", "reference"};

static int want_string(struct kctx *ctx, json_t *body, const char *key, bool required,
                       const char **out)
{
	json_t *v = json_object_get(body, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return kerr_set(ctx->err, KERR_INVALID, key, "%s: required", key);
		return 0;
	}
	if (!json_is_string(v))
		return kerr_set(ctx->err, KERR_INVALID, key, "%s: must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int disclosure_from_json(struct kctx *ctx, json_t *body, struct disclosure_in *in)
{
	const char *key;
	json_t *v;
	int rc;

	memset(in, 0, sizeof(*in));
	if (!json_is_object(body))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "the body must be a JSON object");
	json_object_foreach (body, key, v) {
		bool known = false;
		for (size_t i = 0; i < sizeof(in_keys) / sizeof(in_keys[0]); i++)
			known = known || strcmp(in_keys[i], key) == 0;
		if (!known)
			return kerr_set(ctx->err, KERR_INVALID, plain_text(key) ? key : NULL,
			                "%s: not a member of a disclosure (recipient, purpose, "
			                "legal_basis, categories, subjects, reference)",
			                plain_text(key) ? key : "?");
	}
	if ((rc = want_string(ctx, body, "recipient", true, &in->recipient)) ||
	    (rc = want_string(ctx, body, "purpose", true, &in->purpose)) ||
	    (rc = want_string(ctx, body, "legal_basis", false, &in->legal_basis)) ||
	    (rc = want_string(ctx, body, "reference", false, &in->reference)))
		return rc;

	v = json_object_get(body, "categories");
	if (v && !json_is_array(v))
		return kerr_set(ctx->err, KERR_INVALID, "categories",
		                "categories: must be an array of category ids");
	size_t n = v ? json_array_size(v) : 0;
	if (n > MAX_CATEGORIES)
		return kerr_set(ctx->err, KERR_INVALID, "categories", "categories: at most %d",
		                MAX_CATEGORIES);
	const char **cats = arena_calloc(ctx->mem, n ? n : 1, sizeof(*cats));
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(v, i);
		if (!json_is_string(c))
			return kerr_set(ctx->err, KERR_INVALID, "categories",
			                "categories: must be an array of category ids");
		cats[i] = json_string_value(c);
	}
	in->categories = cats;
	in->ncategories = n;

	v = json_object_get(body, "subjects");
	if (v && !json_is_array(v))
		return kerr_set(ctx->err, KERR_INVALID, "subjects",
		                "subjects: must be an array of person ids");
	n = v ? json_array_size(v) : 0;
	if (n > MAX_SUBJECTS)
		return kerr_set(ctx->err, KERR_INVALID, "subjects",
		                "subjects: at most %d in one disclosure", MAX_SUBJECTS);
	int64_t *ids = arena_calloc(ctx->mem, n ? n : 1, sizeof(*ids));
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_integer(s) || json_integer_value(s) <= 0)
			return kerr_set(ctx->err, KERR_INVALID, "subjects",
			                "subjects: must be an array of person ids");
		ids[i] = json_integer_value(s);
	}
	in->subjects = ids;
	in->nsubjects = n;
	return 0;
}

/* ---------------------------------------------------------------- list */

/* Subject ids shown by a list, for its usage-log entry (heap). */
struct idvec {
	int64_t *v;
	size_t n, cap;
};

static void idvec_push(struct idvec *a, int64_t id)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = id;
}

/* One disclosure from a row of ST_DISCLOSURE_LIST / _BY_SUBJECT, with its subjects. */
static int item_json(struct kctx *ctx, const char *rid, struct query *q, struct idvec *seen,
                     json_t **out)
{
	json_error_t jerr;
	int64_t id = q_col_int(q, 0);
	const char *cats = q_col_text(q, 4);
	json_t *c = cats ? json_loads(cats, 0, &jerr) : NULL;
	json_t *subs = json_array();
	json_t *o = json_object();
	int rc;

	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "recipient", json_string(q_col_text(q, 1)));
	json_object_set_new(o, "purpose", json_string(q_col_text(q, 2)));
	json_object_set_new(o, "legal_basis", json_string(q_col_text(q, 3)));
	json_object_set_new(o, "categories", c ? c : json_array());
	json_object_set_new(o, "reference",
	                    q_col_text(q, 5) ? json_string(q_col_text(q, 5)) : json_null());
	json_object_set_new(o, "at", json_string(q_col_text(q, 6)));
	json_object_set_new(o, "actor", json_string(q_col_text(q, 7)));
	struct query *s = store_query(ctx->db, ST_DISCLOSURE_SUBJECTS);
	q_int(s, 1, id);
	q_text(s, 2, rid);
	while ((rc = q_step(s, ctx->err)) == 1) {
		int64_t p = q_col_int(s, 0);
		json_array_append_new(subs, json_integer(p));
		idvec_push(seen, p);
	}
	q_done(s);
	json_object_set_new(o, "subjects", subs);
	*out = o;
	return rc < 0 ? rc : 0;
}

int disclosure_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	struct idvec seen = {0};
	int rc;
	*out = NULL;
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_DISCLOSURE_GET);
	q_int(q, 1, id);
	q_text(q, 2, rid);
	if ((rc = q_step(q, ctx->err)) == 1)
		rc = item_json(ctx, rid, q, &seen, out);
	else if (rc == 0)
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "id",
		              "disclosure %lld not found in register '%s'", (long long)id, rid);
	q_done(q);
	store_rollback(ctx->db);
	free(seen.v);
	return rc;
}

int disclosure_list(struct kctx *ctx, const char *rid, int64_t subject, const char *cursor,
                    int limit, json_t **out)
{
	struct idvec seen = {0};
	int64_t before = 0, last = 0;
	json_t *items = NULL;
	bool more = false;
	int rc, n = 0;

	*out = NULL;
	if (!rid || !app_register(ctx->app, rid))
		return kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		                rid && plain_text(rid) ? rid : "");
	if (subject < 0)
		return kerr_set(ctx->err, KERR_INVALID, "subject", "subject: not a person id");
	if ((rc = cursor_decode(ctx, cursor, &before)))
		return rc;
	if (before == 0)
		before = INT64_MAX;
	limit = page_limit(ctx, limit);
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		return rc;
	struct query *q;
	if (subject) {
		q = store_query(ctx->db, ST_DISCLOSURE_BY_SUBJECT);
		q_text(q, 1, rid);
		q_int(q, 2, subject);
		q_int(q, 3, before);
		q_int(q, 4, limit + 1);
	} else {
		q = store_query(ctx->db, ST_DISCLOSURE_LIST);
		q_text(q, 1, rid);
		q_int(q, 2, before);
		q_int(q, 3, limit + 1);
	}
	items = json_array();
	while ((rc = q_step(q, ctx->err)) == 1) {
		json_t *o = NULL;
		if (n == limit) {
			more = true;
			break;
		}
		last = q_col_int(q, 0);
		rc = item_json(ctx, rid, q, &seen, &o);
		json_array_append_new(items, o);
		if (rc)
			break;
		n++;
	}
	q_done(q);
	if (rc < 0 || (rc = store_commit(ctx->db, ctx->err)))
		goto fail;

	/* The list shows whose data went where: a read of those subjects. */
	struct usage_entry e = {
	        .action = "disclosure.list",
	        .rid = rid,
	        .entity = "disclosure",
	        .subjects = seen.v,
	        .nsubjects = seen.n,
	};
	if ((rc = usage_read(ctx, &e)))
		goto fail;
	free(seen.v);
	*out = json_pack("{s:o,s:o}", "items", items, "next",
	                 more ? json_string(cursor_encode(ctx, last)) : json_null());
	return 0;
fail:
	store_rollback(ctx->db);
	free(seen.v);
	json_decref(items);
	return rc;
}
