/*
 * CSV import. The column map (YAML) is checked against the register's declaration before
 * the first row, so a wrong map fails once instead of rejecting every row. Rows then go
 * through the ordinary core calls inside a savepoint each, committed in batches: one bad
 * row is rolled back alone, and a crash loses at most the open batch, never half a row.
 */
#include "core/import.h"
#include "core/suppress.h"

#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/affiliation.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/org.h"
#include "core/person.h"
#include "core/search.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/csv.h"
#include "util/kerr.h"
#include "util/validate.h"
#include "util/xmalloc.h"

#define IMPORT_BATCH       10000
#define IMPORT_MAX_COLUMNS 200

enum target_kind { TG_IGNORE, TG_PERSON, TG_ATTRIBUTE, TG_GROUP, TG_ORG, TG_AFF };

struct target {
	char header[128];
	enum target_kind kind;
	char name[128];       /* field, organisation column or affiliation column */
	int column;           /* index in the CSV header, -1 until matched */
	struct fy_node *node; /* the map's value node, for error positions while parsing */
};

struct import_map {
	char delimiter;
	char group[65];
	struct target t[IMPORT_MAX_COLUMNS];
	int n;
};

static const char *const org_targets[] = {
        "name",        "ytunnus",     "department",       "postal_address",
        "postal_code", "postal_city", "visiting_address", "website"};
static const char *const aff_targets[] = {"title", "start_date"};

const char *import_status_name(enum import_status st)
{
	static const char *const names[IMP__MAX] = {"added", "updated", "unchanged", "rejected",
	                                            "suppressed"};
	return st < IMP__MAX ? names[st] : "?";
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static int map_error(struct kctx *ctx, const char *name, struct fy_node *n, const char *msg,
                     const char *arg)
{
	/* libfyaml 0.7 gives positions of scalar tokens only. */
	struct fy_token *t = n && fy_node_is_scalar(n) ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
	return kerr_set(ctx->err, KERR_INVALID, "map", "%s:%d:%d: %s%s%s%s", name,
	                m ? m->line + 1 : 0, m ? m->column + 1 : 0, msg, arg ? " '" : "",
	                arg ? arg : "", arg ? "'" : "");
}

/* Copies a scalar node into `out`; false when it is not a scalar or too long. */
static bool scalar(struct fy_node *n, char *out, size_t outsz)
{
	size_t len = 0;
	const char *s = n && fy_node_is_scalar(n) ? fy_node_get_scalar(n, &len) : NULL;
	if (!s || len == 0 || len >= outsz || memchr(s, '\0', len))
		return false;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

static int map_target(struct kctx *ctx, const struct decl *d, const char *name, struct fy_node *vn,
                      struct target *t)
{
	char v[128];
	if (!scalar(vn, v, sizeof(v)))
		return map_error(ctx, name, vn, "a column must map to a field name", NULL);
	const char *dot = strchr(v, '.');
	if (strcmp(v, "ignore") == 0) {
		t->kind = TG_IGNORE;
	} else if (strcmp(v, "subject_group") == 0) {
		t->kind = TG_GROUP;
	} else if (dot && strncmp(v, "organisation.", 13) == 0) {
		if (!in_list(dot + 1, org_targets, sizeof(org_targets) / sizeof(org_targets[0])))
			return map_error(ctx, name, vn, "unknown organisation field", v);
		t->kind = TG_ORG;
	} else if (dot && strncmp(v, "affiliation.", 12) == 0) {
		if (!in_list(dot + 1, aff_targets, sizeof(aff_targets) / sizeof(aff_targets[0])))
			return map_error(ctx, name, vn, "unknown affiliation field", v);
		if (strcmp(dot + 1, "title") == 0 && !decl_field(d, "title"))
			return map_error(ctx, name, vn,
			                 "the register declares no field 'title' for", v);
		t->kind = TG_AFF;
	} else {
		const char *field = strncmp(v, "attributes.", 11) == 0 ? v + 11 : v;
		if (!decl_field(d, field))
			return map_error(ctx, name, vn,
			                 "maps to a field the register does not declare:", field);
		t->kind = TG_PERSON;
		dot = NULL;
		snprintf(t->name, sizeof(t->name), "%s", field);
		return 0;
	}
	snprintf(t->name, sizeof(t->name), "%s", dot ? dot + 1 : v);
	return 0;
}

static int map_parse(struct kctx *ctx, const struct decl *d, const char *name, const char *text,
                     size_t len, struct import_map *m)
{
	struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
	/* libfyaml 0.7 can loop forever on invalid UTF-8 (found by fuzz/fuzz_import.c), so the
	 * text is checked first, as the declaration parser does. */
	if (len > 65536)
		return kerr_set(ctx->err, KERR_INVALID, "map", "%s: larger than 64 KiB", name);
	if (!utf8_valid(text, len) || memchr(text, '\0', len))
		return kerr_set(ctx->err, KERR_INVALID, "map", "%s: not valid UTF-8 text", name);
	struct fy_document *doc = fy_document_build_from_string(&cfg, text, len);
	int rc = 0;
	memset(m, 0, sizeof(*m));
	if (!doc)
		return kerr_set(ctx->err, KERR_INVALID, "map", "%s: not valid YAML", name);
	struct fy_node *root = fy_document_root(doc);
	if (!root || !fy_node_is_mapping(root)) {
		rc = map_error(ctx, name, root, "the map must be a mapping with 'columns'", NULL);
		goto out;
	}
	void *iter = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(root, &iter))) {
		struct fy_node *kn = fy_node_pair_key(pair), *vn = fy_node_pair_value(pair);
		char key[32], v[65];
		if (!scalar(kn, key, sizeof(key))) {
			rc = map_error(ctx, name, kn, "keys must be plain words", NULL);
			goto out;
		}
		if (strcmp(key, "delimiter") == 0) {
			if (!scalar(vn, v, sizeof(v)) || (strcmp(v, ";") && strcmp(v, ","))) {
				rc = map_error(ctx, name, vn, "delimiter must be ';' or ','", NULL);
				goto out;
			}
			m->delimiter = v[0];
		} else if (strcmp(key, "subject_group") == 0) {
			if (!scalar(vn, m->group, sizeof(m->group)) || !decl_group(d, m->group)) {
				rc = map_error(ctx, name, vn, "not a subject group of the register",
				               NULL);
				goto out;
			}
		} else if (strcmp(key, "columns") == 0 && fy_node_is_mapping(vn)) {
			void *it2 = NULL;
			struct fy_node_pair *p2;
			while ((p2 = fy_node_mapping_iterate(vn, &it2))) {
				if (m->n == IMPORT_MAX_COLUMNS) {
					rc = map_error(ctx, name, fy_node_pair_key(p2),
					               "too many columns", NULL);
					goto out;
				}
				struct target *t = &m->t[m->n];
				if (!scalar(fy_node_pair_key(p2), t->header, sizeof(t->header))) {
					rc = map_error(ctx, name, fy_node_pair_key(p2),
					               "a column name must be a non-empty string",
					               NULL);
					goto out;
				}
				if ((rc = map_target(ctx, d, name, fy_node_pair_value(p2), t)))
					goto out;
				t->node = fy_node_pair_value(p2);
				t->column = -1;
				m->n++;
			}
		} else {
			rc = map_error(
			        ctx, name, kn,
			        "unknown key (expected delimiter, subject_group, columns):", key);
			goto out;
		}
	}
	if (m->n == 0)
		rc = map_error(ctx, name, root, "the map has no columns", NULL);
	/* With a fixed subject group, every person field must apply to that group, or every
	 * row would be refused: say so once, before the first row. */
	for (int i = 0; !rc && m->group[0] && i < m->n; i++) {
		const struct target *t = &m->t[i];
		const char *field = t->kind == TG_PERSON                                 ? t->name
		                    : t->kind == TG_AFF && strcmp(t->name, "title") == 0 ? "title"
		                                                                         : NULL;
		const struct decl_field *f = field ? decl_field(d, field) : NULL;
		if (f && !decl_category_applies(f->category, m->group))
			rc = map_error(
			        ctx, name, t->node,
			        "maps to a field not declared for the map's subject group:", field);
	}
out:
	fy_document_destroy(doc);
	return rc;
}

/* Normalised e-mail or phone of a row for duplicate matching; NULL when invalid/absent. */
static const char *row_key(json_t *person, const char *kind, char *buf, size_t bufsz)
{
	const char *s = json_string_value(json_object_get(person, kind));
	if (!s)
		return NULL;
	if (strcmp(kind, "email") == 0)
		return email_valid(s, buf, bufsz, NULL) ? buf : NULL;
	return bufsz >= 17 && phone_valid(s, buf, NULL) ? buf : NULL;
}

/* A CSV cell (always text) as the JSON type its declared field takes: integers for int
 * fields, booleans for bool fields (true/false, kyllä/ei, ja/nej, yes/no, 1/0). A cell that
 * does not convert stays text, and the field's validator then names the problem. */
static json_t *typed(const struct decl *d, const char *field, json_t *cell)
{
	const struct decl_field *f = decl_field(d, field);
	const char *s = json_string_value(cell);
	if (!f || !s)
		return cell;
	if (f->type == FT_INT) {
		long long n;
		if (int_valid(s, &n, NULL)) {
			json_decref(cell);
			return json_integer(n);
		}
	} else if (f->type == FT_BOOL) {
		static const char *const yes[] = {"true", "kyllä", "ja", "yes", "1"};
		static const char *const no[] = {"false", "ei", "nej", "no", "0"};
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
				bool b = strcasecmp(s, yes[i]) == 0;
				json_decref(cell);
				return json_boolean(b);
			}
		}
	}
	return cell;
}

/* Imports one row inside the caller's transaction. */
static int import_row(struct kctx *ctx, const struct decl *d, const char *rid, const char *source,
                      const struct import_map *m, const struct csv_record *rec,
                      enum import_status *st, int64_t *pid, json_t *seen, char **org_key,
                      int64_t *org_id)
{
	json_t *person = json_object(), *org = json_object(), *aff = json_object();
	int rc = 0;
	bool changed = false;

	*pid = 0;
	if (m->group[0])
		json_object_set_new(person, "subject_group", json_string(m->group));
	json_object_set_new(person, "source", json_string(source));
	for (int i = 0; i < m->n; i++) {
		const struct target *t = &m->t[i];
		if (t->column < 0 || (size_t)t->column >= rec->n || t->kind == TG_IGNORE)
			continue;
		const struct csv_field *f = &rec->fields[t->column];
		size_t a = 0, b = f->len;
		while (a < b && (f->s[a] == ' ' || f->s[a] == '\t'))
			a++;
		while (b > a && (f->s[b - 1] == ' ' || f->s[b - 1] == '\t'))
			b--;
		if (a == b)
			continue;
		json_t *v = json_stringn(f->s + a, b - a);
		switch (t->kind) {
		case TG_GROUP: json_object_set_new(person, "subject_group", v); break;
		case TG_PERSON: json_object_set_new(person, t->name, typed(d, t->name, v)); break;
		case TG_ORG: json_object_set_new(org, t->name, v); break;
		case TG_AFF: json_object_set_new(aff, t->name, v); break;
		default: json_decref(v);
		}
	}

	/* The person: merge with an existing one by e-mail, then phone. */
	char key[256];
	const char *k;
	if ((k = row_key(person, "email", key, sizeof(key))))
		rc = person_find_contact(ctx, rid, "email", k, pid);
	if (!rc && !*pid && (k = row_key(person, "phone", key, sizeof(key))))
		rc = person_find_contact(ctx, rid, "phone", k, pid);
	if (rc)
		goto out;
	if (*pid) {
		json_t *patch = json_deep_copy(person);
		/* A default group applies only to new persons; a mapped column changes it. */
		bool mapped_group = false;
		for (int i = 0; i < m->n; i++)
			mapped_group = mapped_group || m->t[i].kind == TG_GROUP;
		if (!mapped_group)
			json_object_del(patch, "subject_group");
		rc = person_update_tx(ctx, rid, *pid, patch, &changed);
		json_decref(patch);
		*st = changed ? IMP_UPDATED : IMP_UNCHANGED;
	} else {
		/* the row's organisation also makes the name-with-organisation key. */
		const char *oname = json_string_value(json_object_get(org, "name"));
		const char *ofirst = json_string_value(json_object_get(person, "first_name"));
		const char *olast = json_string_value(json_object_get(person, "last_name"));
		struct suppress_ids ids = {.first_name = ofirst,
		                           .last_name = olast,
		                           .orgs = oname ? &oname : NULL,
		                           .norgs = oname ? 1 : 0};
		bool hit = false;
		if (d->rights.erasure_by_passivation &&
		    (rc = suppress_match(ctx, rid, &ids, &hit, NULL)))
			goto out;
		if (hit) {
			*st = IMP_SUPPRESSED;
			goto out;
		}
		rc = person_create_tx(ctx, rid, person, pid);
		*st = IMP_ADDED;
		if (rc == KERR_SUPPRESSED) {
			/* Matched by e-mail or phone: skipped and counted, not an error. */
			kerr_clear(ctx->err);
			*st = IMP_SUPPRESSED;
			*pid = 0;
			rc = 0;
			goto out;
		}
	}
	if (rc)
		goto out;

	/* The organisation: by Y-tunnus, else by name. */
	if (json_object_size(org)) {
		int64_t oid = 0;
		char yt[10];
		const char *y = json_string_value(json_object_get(org, "ytunnus"));
		const char *name = json_string_value(json_object_get(org, "name"));
		bool yok = y && ytunnus_valid(y, yt, NULL);
		const char *dept = json_string_value(json_object_get(org, "department"));
		if ((rc = org_lookup(ctx, rid, yok ? yt : NULL, dept, yok ? NULL : name, &oid)))
			goto out;
		/* Rows of one organisation repeat its columns; an import remembers what it
		 * already wrote and skips the lookups for a repeat. */
		char *key = json_dumps(org, JSON_COMPACT | JSON_SORT_KEYS);
		json_t *seen_org = json_object_get(seen, key);
		*org_key = key;
		if (!yok && !name) {
			rc = kerr_set(ctx->err, KERR_INVALID, "organisation.name",
			              "organisation: give its name or a valid Y-tunnus");
			goto out;
		}
		json_object_set_new(org, "source", json_string(source));
		if (oid && seen_org && json_integer_value(seen_org) == oid) {
			/* The same organisation data as an earlier row of this import: nothing
			 * to change. */
		} else if (oid) {
			bool oc = false;
			json_t *patch = json_deep_copy(org);
			json_object_del(patch, "name"); /* the registered name wins */
			rc = org_update_tx(ctx, rid, oid, patch, &oc);
			json_decref(patch);
			changed = changed || oc;
		} else {
			rc = org_create_tx(ctx, rid, org, &oid);
			changed = true;
		}
		if (rc)
			goto out;
		*org_id = oid;
		int64_t aid = 0;
		if ((rc = affiliation_lookup(ctx, rid, *pid, oid, &aid)))
			goto out;
		if (!aid) {
			json_object_set_new(aff, "person_id", json_integer(*pid));
			json_object_set_new(aff, "organisation_id", json_integer(oid));
			if ((rc = affiliation_create_tx(ctx, rid, aff, &aid)))
				goto out;
			changed = true;
		}
	} else if (json_object_size(aff)) {
		rc = kerr_set(ctx->err, KERR_INVALID, "affiliation",
		              "affiliation columns need organisation columns too");
		goto out;
	}
	if (changed && *st == IMP_UNCHANGED)
		*st = IMP_UPDATED;
out:
	json_decref(person);
	json_decref(org);
	json_decref(aff);
	return rc;
}

int import_csv(struct kctx *ctx, const char *rid, const char *source, const char *map_name,
               const char *map, size_t map_len, FILE *in, struct import_stats *stats,
               import_row_fn on_row, import_progress_fn on_progress, void *arg)
{
	const struct decl *d = app_register(ctx->app, rid);
	struct import_map *m = xcalloc(1, sizeof(*m));
	struct csv_record rec;
	char cerr[256];
	int rc, in_tx = 0, batch = 0;

	memset(stats->rows, 0, sizeof(stats->rows));
	struct csv *c = NULL;
	/* Row work uses its own arena, emptied per row; the caller's is left alone. */
	struct arena row_mem, *caller_mem = ctx->mem;
	/* Search-index writes wait for the end of each batch (see core/search.h). */
	ctx->search_batch = search_batch_new();
	json_t *seen = json_object(); /* organisation columns (JSON) -> id written this run */
	arena_init(&row_mem);
	ctx->mem = &row_mem;
	if (!d) {
		rc = kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		              rid ? rid : "");
		goto out;
	}
	if (!decl_source(d, source)) {
		rc = kerr_set(ctx->err, KERR_REFUSED, "source",
		              "source: '%s' is not a declared source of register '%s'", source,
		              rid);
		goto out;
	}
	if ((rc = map_parse(ctx, d, map_name, map, map_len, m)))
		goto out;

	c = csv_open(in, m->delimiter);
	rc = csv_next(c, &rec, cerr, sizeof(cerr));
	if (rc != 1) {
		rc = kerr_set(ctx->err, KERR_INVALID, "header",
		              "the CSV file has no header line%s%s", rc < 0 ? ": " : "",
		              rc < 0 ? cerr : "");
		goto out;
	}
	rc = 0;
	for (int i = 0; i < m->n; i++) {
		for (size_t k = 0; k < rec.n && m->t[i].column < 0; k++)
			if (strcmp(rec.fields[k].s, m->t[i].header) == 0)
				m->t[i].column = (int)k;
		if (m->t[i].column < 0) {
			rc = kerr_set(ctx->err, KERR_INVALID, "header",
			              "line %ld: the header has no column '%s' named in the map",
			              rec.line, m->t[i].header);
			goto out;
		}
	}
	for (;;) {
		int r = csv_next(c, &rec, cerr, sizeof(cerr));
		if (r == 0)
			break;
		if (r == -2) {
			rc = kerr_set(ctx->err, KERR_INVALID, "csv", "%s", cerr);
			break;
		}
		if (r == -1) {
			stats->rows[IMP_REJECTED]++;
			if (on_row)
				on_row(arg, rec.line, IMP_REJECTED, 0, cerr);
			continue;
		}
		if (!in_tx) {
			if ((rc = store_begin_write(ctx->db, ctx->err)))
				break;
			in_tx = 1;
		}
		enum import_status st = IMP_REJECTED;
		int64_t pid = 0;
		kerr_clear(ctx->err);
		if ((rc = store_savepoint(ctx->db, ctx->err)))
			break;
		arena_reset(&row_mem);
		size_t search_mark = search_batch_mark(ctx->search_batch);
		char *org_key = NULL;
		int64_t org_id = 0;
		int rr = import_row(ctx, d, rid, source, m, &rec, &st, &pid, seen, &org_key,
		                    &org_id);
		if (rr == KERR_INTERNAL || rr == KERR_BUSY) {
			store_rollback_savepoint(ctx->db);
			search_batch_truncate(ctx->search_batch, search_mark);
			free(org_key);
			rc = rr;
			break;
		}
		if (rr) {
			store_rollback_savepoint(ctx->db);
			search_batch_truncate(ctx->search_batch, search_mark);
			st = IMP_REJECTED;
			pid = 0;
		} else if ((rc = store_release(ctx->db, ctx->err))) {
			free(org_key);
			break;
		} else if (org_key && org_id) {
			/* Remembered only once the row is in; bounded, as a file may name many. */
			if (json_object_size(seen) >= 100000)
				json_object_clear(seen);
			json_object_set_new(seen, org_key, json_integer(org_id));
		}
		free(org_key);
		stats->rows[st]++;
		if (on_row)
			on_row(arg, rec.line, st, pid, rr ? ctx->err->message : NULL);
		kerr_clear(ctx->err);
		if (++batch == IMPORT_BATCH) {
			if ((rc = search_flush(ctx)) || (rc = store_commit(ctx->db, ctx->err)))
				break;
			in_tx = 0;
			batch = 0;
			if (on_progress)
				on_progress(arg, stats, csv_bytes_read(c));
		}
	}
	if (in_tx) {
		if (!rc && !(rc = search_flush(ctx)))
			rc = store_commit(ctx->db, ctx->err);
		if (rc)
			store_rollback(ctx->db);
	}
	if (on_progress && !rc)
		on_progress(arg, stats, csv_bytes_read(c));
out:
	search_batch_free(ctx->search_batch);
	ctx->search_batch = NULL;
	json_decref(seen);
	ctx->mem = caller_mem;
	arena_free(&row_mem);
	csv_free(c);
	free(m);
	return rc;
}
