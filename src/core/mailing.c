/*
 * Mailings (M-03 … M-05): drafts, the audience and the §200 rule, sending at most once with a
 * status row per recipient, and the signed links of every message (unsubscribe, open pixel,
 * consent confirmation). The rule of who may receive marketing e-mail is classify() and the
 * audience query of stmt_marketing.inc, and nothing else: preview, the recorded recipients
 * and the check just before each message all go through it.
 */
#include "core/mailing.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/retention.h"
#include "core/suppress.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/html.h"
#include "util/kerr.h"
#include "util/mail.h"
#include "util/timeutil.h"
#include "util/validate.h"

#define MAX_SUBJECT 300
#define MAX_BODY    200000
#define TAG_BYTES   16u
#define MAX_EVENTS  1000 /* event ids of one segment */

/* The record type an open is kept as (M-04), under the register's retention. */
#define RT_OPEN "newsletter_open"

/* ------------------------------------------------------------------------------------------
 * Signed links
 */

/* The key of the links: derived from the lookup-hash key, so the key file stays the only
 * secret and a link key never helps with anything else. */
static void mlink_key(const struct keys *k, unsigned char key[crypto_auth_KEYBYTES])
{
	static const char ctx[] = "kortisto marketing links v1";
	crypto_generichash(key, crypto_auth_KEYBYTES, (const unsigned char *)ctx, sizeof(ctx) - 1,
	                   k->mac, sizeof(k->mac));
}

/* The signed part: kind and id, 9 bytes big-endian. */
static void mlink_payload(enum mlink_kind kind, int64_t id, unsigned char p[9])
{
	p[0] = (unsigned char)kind;
	for (int i = 0; i < 8; i++)
		p[1 + i] = (unsigned char)((uint64_t)id >> (56 - 8 * i));
}

void mlink_make(const struct keys *k, enum mlink_kind kind, int64_t id, char out[MLINK_MAX])
{
	unsigned char key[crypto_auth_KEYBYTES], tag[crypto_auth_BYTES], raw[9 + TAG_BYTES];
	mlink_key(k, key);
	mlink_payload(kind, id, raw);
	crypto_auth(tag, raw, 9, key);
	memcpy(raw + 9, tag, TAG_BYTES);
	sodium_bin2base64(out, MLINK_MAX, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(key, sizeof(key));
}

bool mlink_open(const struct keys *k, enum mlink_kind kind, const char *token, int64_t *id)
{
	unsigned char raw[9 + TAG_BYTES + 4], key[crypto_auth_KEYBYTES], tag[crypto_auth_BYTES];
	size_t n = 0;
	if (!token || strlen(token) >= MLINK_MAX ||
	    sodium_base642bin(raw, sizeof(raw), token, strlen(token), NULL, &n, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != 9 + TAG_BYTES || raw[0] != (unsigned char)kind)
		return false;
	mlink_key(k, key);
	crypto_auth(tag, raw, 9, key);
	sodium_memzero(key, sizeof(key));
	if (sodium_memcmp(tag, raw + 9, TAG_BYTES) != 0)
		return false;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | raw[1 + i];
	if (v == 0 || v > INT64_MAX)
		return false;
	*id = (int64_t)v;
	return true;
}

/* ------------------------------------------------------------------------------------------
 * Placeholders
 */

enum ph { PH_FIRST_NAME, PH_LAST_NAME, PH_ORGANISATION, PH__MAX };
static const char *const ph_names[PH__MAX] = {"first_name", "last_name", "organisation"};

/*
 * Appends `tmpl` to `out` with each {{name}} replaced by vals[name] (NULL: nothing), escaped
 * for HTML when `html`. An unknown or unterminated placeholder is KERR_INVALID naming `field`.
 */
static int render(struct kerr *err, const char *field, const char *tmpl,
                  const char *const vals[PH__MAX], bool html, struct buf *out)
{
	const char *p = tmpl;
	while (p && *p) {
		const char *open = strstr(p, "{{");
		if (!open) {
			buf_puts(out, p);
			break;
		}
		buf_append(out, p, (size_t)(open - p));
		const char *close = strstr(open + 2, "}}");
		if (!close)
			return kerr_set(err, KERR_INVALID, field, "%s: a '{{' without its '}}'",
			                field);
		const char *s = open + 2, *e = close;
		while (s < e && *s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		int which = -1;
		for (int i = 0; i < PH__MAX; i++)
			if ((size_t)(e - s) == strlen(ph_names[i]) &&
			    strncmp(s, ph_names[i], (size_t)(e - s)) == 0)
				which = i;
		if (which < 0) {
			char name[41];
			size_t n = (size_t)(e - s) < sizeof(name) - 1 ? (size_t)(e - s)
			                                              : sizeof(name) - 1;
			memcpy(name, s, n);
			name[n] = '\0';
			return kerr_set(err, KERR_INVALID, field,
			                "%s: unknown placeholder {{%s}}; known are {{first_name}}, "
			                "{{last_name}} and {{organisation}}",
			                field, ident_valid(name, NULL) ? name : "?");
		}
		const char *v = vals[which] ? vals[which] : "";
		if (html)
			html_text(out, v);
		else
			buf_puts(out, v);
		p = close + 2;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Input
 */

static bool in_names(const char *const *names, const char *s)
{
	for (size_t i = 0; s && names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return true;
	return false;
}

static int text_member(struct kctx *ctx, json_t *in, const char *key, size_t max, bool required,
                       const char **out)
{
	json_t *v = json_object_get(in, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return kerr_set(ctx->err, KERR_INVALID, key, "%s: required", key);
		return 0;
	}
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;
	bool ok = s && n && n <= max && strlen(s) == n && utf8_valid(s, n);
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)s[i] >= 0x20 || s[i] == '\n' || s[i] == '\t' || s[i] == '\r';
	if (!ok)
		return kerr_set(ctx->err, KERR_INVALID, key,
		                "%s: must be text of 1 to %zu bytes without control characters",
		                key, max);
	*out = arena_strdup(ctx->mem, s);
	return 0;
}

static int only_keys(struct kctx *ctx, json_t *in, const char *const *keys, const char *what)
{
	const char *k;
	json_t *v;
	if (!json_is_object(in))
		return kerr_set(ctx->err, KERR_INVALID, NULL, "%s must be a JSON object", what);
	json_object_foreach (in, k, v) {
		if (!in_names(keys, k))
			return kerr_set(ctx->err, KERR_INVALID, ident_valid(k, NULL) ? k : NULL,
			                "%s: not a member of %s",
			                ident_valid(k, NULL) ? k : "a member", what);
	}
	return 0;
}

static const struct decl *reg_or_fail(struct kctx *ctx, const char *rid)
{
	const struct decl *d = rid ? app_register(ctx->app, rid) : NULL;
	if (!d)
		kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		         rid && ident_valid(rid, NULL) ? rid : "?");
	return d;
}

static char *dump(struct kctx *ctx, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	char *a = arena_strdup(ctx->mem, s ? s : "{}");
	free(s);
	return a;
}

/* The events filter of a segment: {"event_ids": [ids of the register's events, at least
 * one], "attended": bool}. An id that names no event of the register is refused by its
 * place in the list, so the user sees which one is wrong. */
static int check_events(struct kctx *ctx, const struct decl *d, json_t *ev)
{
	static const char *const keys[] = {"event_ids", "attended", NULL};
	static const char *const field = "audience.segment.events.event_ids";
	size_t i;
	json_t *v;
	int rc;
	if (!json_is_object(ev))
		return kerr_set(ctx->err, KERR_INVALID, "audience.segment.events",
		                "audience.segment.events: an object with event_ids and attended");
	if ((rc = only_keys(ctx, ev, keys, "audience.segment.events")))
		return rc;
	json_t *att = json_object_get(ev, "attended");
	if (att && !json_is_boolean(att))
		return kerr_set(ctx->err, KERR_INVALID, "audience.segment.events.attended",
		                "audience.segment.events.attended: true or false");
	json_t *ids = json_object_get(ev, "event_ids");
	size_t n = json_array_size(ids);
	if (!json_is_array(ids) || n == 0 || n > MAX_EVENTS)
		return kerr_set(ctx->err, KERR_INVALID, field, "%s: a list of 1 to %d event ids",
		                field, MAX_EVENTS);
	json_array_foreach (ids, i, v) {
		char at[64];
		snprintf(at, sizeof(at), "%s[%zu]", field, i);
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return kerr_set(ctx->err, KERR_INVALID, at, "%s: an event id", at);
		struct query *q = store_query(ctx->db, ST_MKT_EVENT_EXISTS);
		q_text(q, 1, d->id);
		q_int(q, 2, json_integer_value(v));
		rc = q_step(q, ctx->err);
		q_done(q);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return kerr_set(ctx->err, KERR_INVALID, at,
			                "%s: event %" PRId64 " not found in register '%s'", at,
			                (int64_t)json_integer_value(v), d->id);
	}
	return 0;
}

/* The audience member: lists (ids of the register's subscription lists) and a segment of
 * declared subject groups, an organisation, declared attributes and event participation. */
static int check_audience(struct kctx *ctx, const struct decl *d, json_t *aud)
{
	static const char *const keys[] = {"lists", "segment", NULL};
	static const char *const seg_keys[] = {"groups", "organisation_id", "attributes", "events",
	                                       NULL};
	size_t i;
	json_t *v;
	int rc;
	if (!aud)
		return 0;
	if ((rc = only_keys(ctx, aud, keys, "the audience")))
		return rc;
	json_t *lists = json_object_get(aud, "lists");
	if (lists && !json_is_array(lists))
		return kerr_set(ctx->err, KERR_INVALID, "audience.lists",
		                "audience.lists: a list of subscription list ids");
	json_array_foreach (lists, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return kerr_set(ctx->err, KERR_INVALID, "audience.lists",
			                "audience.lists: a list of subscription list ids");
	}
	json_t *seg = json_object_get(aud, "segment");
	if (!seg)
		return 0;
	if ((rc = only_keys(ctx, seg, seg_keys, "the segment")))
		return rc;
	json_t *groups = json_object_get(seg, "groups");
	if (groups && !json_is_array(groups))
		return kerr_set(ctx->err, KERR_INVALID, "audience.segment.groups",
		                "audience.segment.groups: a list of subject group ids");
	json_array_foreach (groups, i, v) {
		if (!json_is_string(v) || !decl_group(d, json_string_value(v)))
			return kerr_set(ctx->err, KERR_REFUSED, "audience.segment.groups",
			                "audience.segment.groups: '%s' is not a subject group of "
			                "register '%s'",
			                json_is_string(v) && ident_valid(json_string_value(v), NULL)
			                        ? json_string_value(v)
			                        : "?",
			                d->id);
	}
	json_t *org = json_object_get(seg, "organisation_id");
	if (org && (!json_is_integer(org) || json_integer_value(org) <= 0))
		return kerr_set(ctx->err, KERR_INVALID, "audience.segment.organisation_id",
		                "audience.segment.organisation_id: an organisation id");
	json_t *attrs = json_object_get(seg, "attributes");
	const char *k;
	if (attrs && !json_is_object(attrs))
		return kerr_set(ctx->err, KERR_INVALID, "audience.segment.attributes",
		                "audience.segment.attributes: an object of declared fields and "
		                "values");
	json_object_foreach (attrs, k, v) {
		const struct decl_field *f = decl_field(d, k);
		if (!f || f->sensitive)
			return kerr_set(ctx->err, KERR_REFUSED, "audience.segment.attributes",
			                "audience.segment.attributes: '%s' is not a declared "
			                "non-sensitive field of register '%s'",
			                ident_valid(k, NULL) ? k : "?", d->id);
		if (!json_is_string(v) && !json_is_integer(v) && !json_is_boolean(v))
			return kerr_set(ctx->err, KERR_INVALID, "audience.segment.attributes",
			                "audience.segment.attributes: values are strings, integers "
			                "or booleans");
	}
	json_t *ev = json_object_get(seg, "events");
	return ev ? check_events(ctx, d, ev) : 0;
}

/* ------------------------------------------------------------------------------------------
 * The rule
 */

enum excl {
	EX_NONE,
	EX_NOT_SELECTED,
	EX_PASSIVATED,
	EX_RESTRICTED,
	EX_BANNED,
	EX_PURPOSE,
	EX_NO_CONSENT,
	EX_NO_ROLE,
	EX_NO_EMAIL,
	EX_SUPPRESSED,
	EX__MAX
};

static const char *const excl_names[EX__MAX] = {"",           "not_selected",
                                                "passivated", "restricted",
                                                "banned",     "purpose_not_declared",
                                                "no_consent", "no_active_role",
                                                "no_email",   "suppressed"};

/* A resolved audience definition: what a row is compared with. */
struct audience {
	const struct decl *d;
	const char *purpose;
	json_t *groups;     /* borrowed, or NULL */
	json_t *attrs;      /* borrowed, or NULL */
	int64_t org;        /* 0: any */
	const char *lists;  /* JSON array text, or NULL */
	const char *events; /* JSON array text of event ids, or NULL: no events filter */
	bool attended;      /* with events: only those who attended a session of one */
	const char *today;
};

/* Binds the audience query's parameters. */
static void aud_bind(struct query *q, const char *rid, const struct audience *a)
{
	q_text(q, 1, rid);
	q_text(q, 2, a->purpose);
	q_text(q, 3, a->today);
	q_int(q, 4, a->org);
	if (a->lists)
		q_text(q, 5, a->lists);
	else
		q_null(q, 5);
	if (a->events)
		q_text(q, 7, a->events);
	else
		q_null(q, 7);
	q_int(q, 8, a->attended);
}

/* Whether the segment's attribute filter holds for attrs text `text`. */
static bool attrs_match(json_t *want, const char *text)
{
	json_t *have = json_loads(text ? text : "{}", 0, NULL);
	const char *k;
	json_t *v;
	bool ok = have != NULL;
	json_object_foreach (want, k, v) {
		if (ok && !json_equal(json_object_get(have, k), v))
			ok = false;
	}
	json_decref(have);
	return ok;
}

/* What the rule needs to know of one person. */
enum {
	F_EMAIL = 1,      /* has an e-mail address */
	F_BANNED = 2,     /* a ban on email or all */
	F_CONSENT = 4,    /* a confirmed, unwithdrawn e-mail consent for the purpose */
	F_ROLE = 8,       /* an active affiliation */
	F_IN_ORG = 16,    /* an active affiliation with the segment's organisation */
	F_ON_LIST = 32,   /* an active subscription to one of the audience's lists */
	F_SELECTED = 64,  /* in the segment's groups and attributes */
	F_IN_EVENT = 128, /* a registration that stands (and attendance, when asked) for one of
	                     the segment's events */
};

struct subject {
	const char *group; /* subject group id */
	const char *status;
	unsigned flags;
};

/* Whether the segment's groups and attributes select a person of `group` with attrs text
 * `attrs` (NULL: not read, only when there is no attribute filter). */
static bool selected(const struct audience *a, const char *group, const char *attrs)
{
	if (a->groups && json_array_size(a->groups)) {
		bool in = false;
		size_t i;
		json_t *v;
		json_array_foreach (a->groups, i, v)
			in = in || strcmp(json_string_value(v), group) == 0;
		if (!in)
			return false;
	}
	return !(a->attrs && json_object_size(a->attrs) && !attrs_match(a->attrs, attrs));
}

/*
 * The rule for one person (docs/marketing.md): selection first (lists, organisation, groups,
 * attributes, event participation), then passivation and restriction, bans (email or all), the purpose declared
 * for the group, the §200 basis (consent for natural persons and for any group on consent;
 * an active role for contact persons of organisations), and an address to send to.
 */
static enum excl classify(const struct audience *a, const struct subject *s)
{
	if (!(s->flags & F_SELECTED) || (a->lists && !(s->flags & F_ON_LIST)) ||
	    (a->org && !(s->flags & F_IN_ORG)) || (a->events && !(s->flags & F_IN_EVENT)))
		return EX_NOT_SELECTED;
	if (strcmp(s->status, "passivated") == 0)
		return EX_PASSIVATED;
	if (strcmp(s->status, "active") != 0)
		return EX_RESTRICTED;
	if (s->flags & F_BANNED)
		return EX_BANNED;
	const struct decl_group *g = decl_group(a->d, s->group);
	bool declared = false;
	for (size_t i = 0; g && i < g->purposes.n; i++)
		declared = declared || strcmp(g->purposes.v[i], a->purpose) == 0;
	if (!declared)
		return EX_PURPOSE;
	bool b2b = g->kind == GK_ORGANISATION_CONTACT && g->basis != BASIS_A;
	if (!b2b && !(s->flags & F_CONSENT))
		return EX_NO_CONSENT;
	if (b2b && !(s->flags & F_ROLE))
		return EX_NO_ROLE;
	if (!(s->flags & F_EMAIL))
		return EX_NO_EMAIL;
	return EX_NONE;
}

/* One row of ST_MKT_ELIGIBLE_ONE as a subject (strings borrowed from the row). */
static void subject_of_row(const struct audience *a, struct query *q, struct subject *s)
{
	s->group = q_col_text(q, 1);
	s->status = q_col_text(q, 2);
	s->flags = (q_col_null(q, 3) ? 0 : F_EMAIL) | (q_col_int(q, 4) ? F_BANNED : 0) |
	           (q_col_int(q, 5) ? F_CONSENT : 0) | (q_col_int(q, 6) ? F_ROLE : 0) |
	           (q_col_int(q, 7) ? F_IN_ORG : 0) | (q_col_int(q, 8) ? F_ON_LIST : 0) |
	           (selected(a, s->group, q_col_text(q, 9)) ? F_SELECTED : 0) |
	           (q_col_int(q, 10) ? F_IN_EVENT : 0);
}

/* ------------------------------------------------------------------------------------------
 * The stored mailing
 */

struct mailing {
	int64_t id;
	const char *purpose, *subject, *text, *html, *from, *from_name, *audience, *state;
	const char *created_at, *created_by, *started_at, *started_by, *finished_at;
	bool track_opens;
};

static const char *col(struct kctx *ctx, struct query *q, int i)
{
	return arena_strdup(ctx->mem, q_col_text(q, i));
}

static int mailing_load(struct kctx *ctx, const char *rid, int64_t id, struct mailing *m)
{
	struct query *q = store_query(ctx->db, ST_MAILING_GET);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		m->id = q_col_int(q, 0);
		m->purpose = col(ctx, q, 1);
		m->subject = col(ctx, q, 2);
		m->text = col(ctx, q, 3);
		m->html = col(ctx, q, 4);
		m->from = col(ctx, q, 5);
		m->from_name = col(ctx, q, 6);
		m->audience = col(ctx, q, 7);
		m->track_opens = q_col_int(q, 8) != 0;
		m->state = col(ctx, q, 9);
		m->created_at = col(ctx, q, 10);
		m->created_by = col(ctx, q, 11);
		m->started_at = col(ctx, q, 12);
		m->started_by = col(ctx, q, 13);
		m->finished_at = col(ctx, q, 14);
	}
	q_done(q);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "id",
		                "mailing %" PRId64 " not found in register '%s'", id, rid);
	return rc < 0 ? rc : 0;
}

/* Fills `a` from the stored audience of `m`; a->groups/attrs borrow from *json (decref it). */
static void audience_of(struct kctx *ctx, const struct decl *d, const struct mailing *m,
                        struct audience *a, json_t **json)
{
	char *today = arena_alloc(ctx->mem, 11);
	time_format_date(ctx->now, today);
	*json = json_loads(m->audience, 0, NULL);
	json_t *seg = json_object_get(*json, "segment");
	json_t *lists = json_object_get(*json, "lists");
	json_t *ev = json_object_get(seg, "events");
	json_t *evids = json_object_get(ev, "event_ids");
	memset(a, 0, sizeof(*a));
	a->d = d;
	a->purpose = m->purpose;
	a->today = today;
	a->groups = json_object_get(seg, "groups");
	a->attrs = json_object_get(seg, "attributes");
	a->org = json_integer_value(json_object_get(seg, "organisation_id"));
	a->lists = json_is_array(lists) ? dump(ctx, lists) : NULL;
	a->events = json_is_array(evids) ? dump(ctx, evids) : NULL;
	a->attended = json_is_true(json_object_get(ev, "attended"));
}

/*
 * The whole register at once, in sequential scans rather than a correlated lookup per person
 * (which cost four index descents a person): the persons in id order, then each table that
 * sets a flag, matched to its person by binary search.
 */
struct people {
	int64_t *id;
	uint8_t *group;  /* index into the distinct group names */
	uint8_t *status; /* 0 active, 1 restricted, 2 passivated */
	unsigned *flags;
	size_t n, cap;
	const char *groups[64];
	size_t ngroups;
};

static void people_free(struct people *p)
{
	free(p->id);
	free(p->group);
	free(p->status);
	free(p->flags);
}

static void *grow(void *v, size_t n, size_t size)
{
	void *g = realloc(v, n * size);
	if (!g)
		abort();
	return g;
}

static long people_find(const struct people *p, int64_t id)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->id[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->n && p->id[lo] == id ? (long)lo : -1;
}

/* Runs statement `st` (person_id in column 0; org_id in column 1 for the roles) and sets
 * `flag` on each person it names. */
static int mark(struct kctx *ctx, struct people *p, enum stmt_id st, const char *rid,
                const struct audience *a, unsigned flag)
{
	struct query *q = store_query(ctx->db, st);
	int rc;
	q_text(q, 1, rid);
	if (st == ST_MKT_SCAN_CONSENTS)
		q_text(q, 2, a->purpose);
	else if (st == ST_MKT_SCAN_ROLES)
		q_text(q, 2, a->today);
	else if (st == ST_MKT_SCAN_LISTS)
		q_text(q, 2, a->lists);
	else if (st == ST_MKT_SCAN_EVENTS || st == ST_MKT_SCAN_ATTENDED)
		q_text(q, 2, a->events);
	while ((rc = q_step(q, ctx->err)) == 1) {
		long i = people_find(p, q_col_int(q, 0));
		if (i < 0)
			continue;
		p->flags[i] |= flag;
		if (flag == F_ROLE && a->org && q_col_int(q, 1) == a->org)
			p->flags[i] |= F_IN_ORG;
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

static int people_load(struct kctx *ctx, const char *rid, const struct audience *a,
                       struct people *p)
{
	bool need_attrs = a->attrs && json_object_size(a->attrs);
	struct query *q = store_query(ctx->db, ST_MKT_SCAN_PERSONS);
	int rc;
	q_text(q, 1, rid);
	while ((rc = q_step(q, ctx->err)) == 1) {
		const char *group = q_col_text(q, 1), *status = q_col_text(q, 2);
		size_t g = 0;
		while (g < p->ngroups && strcmp(p->groups[g], group) != 0)
			g++;
		if (g == p->ngroups) {
			if (p->ngroups == sizeof(p->groups) / sizeof(p->groups[0])) {
				rc = kerr_set(ctx->err, KERR_INTERNAL, NULL,
				              "too many subject groups");
				break;
			}
			p->groups[p->ngroups++] = arena_strdup(ctx->mem, group);
		}
		if (p->n == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 4096;
			p->id = grow(p->id, p->cap, sizeof(*p->id));
			p->group = grow(p->group, p->cap, sizeof(*p->group));
			p->status = grow(p->status, p->cap, sizeof(*p->status));
			p->flags = grow(p->flags, p->cap, sizeof(*p->flags));
		}
		p->id[p->n] = q_col_int(q, 0);
		p->group[p->n] = (uint8_t)g;
		p->status[p->n] = strcmp(status, "active") == 0       ? 0
		                  : strcmp(status, "passivated") == 0 ? 2
		                                                      : 1;
		p->flags[p->n] =
		        selected(a, group, need_attrs ? q_col_text(q, 3) : NULL) ? F_SELECTED : 0;
		p->n++;
	}
	q_done(q);
	if (rc < 0)
		return rc;
	if ((rc = mark(ctx, p, ST_MKT_SCAN_EMAILS, rid, a, F_EMAIL)) ||
	    (rc = mark(ctx, p, ST_MKT_SCAN_BANS, rid, a, F_BANNED)) ||
	    (rc = mark(ctx, p, ST_MKT_SCAN_CONSENTS, rid, a, F_CONSENT)) ||
	    (rc = mark(ctx, p, ST_MKT_SCAN_ROLES, rid, a, F_ROLE)))
		return rc;
	if (a->lists && (rc = mark(ctx, p, ST_MKT_SCAN_LISTS, rid, a, F_ON_LIST)))
		return rc;
	if (a->events && (rc = mark(ctx, p, a->attended ? ST_MKT_SCAN_ATTENDED : ST_MKT_SCAN_EVENTS,
	                            rid, a, F_IN_EVENT)))
		return rc;
	return 0;
}

/* Resolves the audience: counts the exclusions into `counts` and, when `ids` is not NULL,
 * collects the recipients (malloc'd array the caller frees). */
static int resolve(struct kctx *ctx, const char *rid, const struct audience *a,
                   size_t counts[EX__MAX], int64_t **ids, size_t *nids)
{
	static const char *const statuses[] = {"active", "restricted", "passivated"};
	struct people p = {0};
	memset(counts, 0, sizeof(size_t) * EX__MAX);
	if (ids) {
		*ids = NULL;
		*nids = 0;
	}
	int rc = people_load(ctx, rid, a, &p);
	for (size_t i = 0; !rc && i < p.n; i++) {
		struct subject s = {p.groups[p.group[i]], statuses[p.status[i]], p.flags[i]};
		enum excl e = classify(a, &s);
		counts[e]++;
		if (e == EX_NONE && ids) {
			if (!*ids)
				*ids = grow(NULL, p.n, sizeof(**ids));
			(*ids)[(*nids)++] = p.id[i];
		}
	}
	people_free(&p);
	if (rc && ids) {
		free(*ids);
		*ids = NULL;
		*nids = 0;
	}
	return rc;
}

static json_t *counts_json(const size_t counts[EX__MAX])
{
	json_t *o = json_object();
	for (int i = 1; i < EX__MAX; i++)
		if (i != EX_SUPPRESSED)
			json_object_set_new(o, excl_names[i], json_integer((json_int_t)counts[i]));
	return o;
}

/* ------------------------------------------------------------------------------------------
 * Create, get, list, preview
 */

int mailing_create(struct kctx *ctx, const char *rid, json_t *in, int64_t *id)
{
	static const char *const keys[] = {"purpose",   "subject",     "text",     "html", "from",
	                                   "from_name", "track_opens", "audience", NULL};
	const struct decl *d = reg_or_fail(ctx, rid);
	const char *purpose, *subject, *text, *html, *from, *from_name;
	const char *const vals[PH__MAX] = {"A", "B", "C"};
	struct buf scratch = BUF_INIT;
	int rc;

	if (!d)
		return KERR_NOTFOUND;
	if ((rc = only_keys(ctx, in, keys, "a mailing")) ||
	    (rc = text_member(ctx, in, "purpose", 64, true, &purpose)) ||
	    (rc = text_member(ctx, in, "subject", MAX_SUBJECT, true, &subject)) ||
	    (rc = text_member(ctx, in, "text", MAX_BODY, true, &text)) ||
	    (rc = text_member(ctx, in, "html", MAX_BODY, false, &html)) ||
	    (rc = text_member(ctx, in, "from", 254, false, &from)) ||
	    (rc = text_member(ctx, in, "from_name", 128, false, &from_name)))
		return rc;
	if (strchr(subject, '\n') || strchr(subject, '\r'))
		return kerr_set(ctx->err, KERR_INVALID, "subject", "subject: one line");
	const struct decl_purpose *p = decl_purpose(d, purpose);
	if (!p || !p->direct_marketing)
		return kerr_set(ctx->err, KERR_REFUSED, "purpose",
		                "purpose: '%s' is not a direct-marketing purpose declared by "
		                "register '%s'",
		                ident_valid(purpose, NULL) ? purpose : "?", rid);
	char norm[255];
	if (from && !email_valid(from, norm, sizeof(norm), NULL))
		return kerr_set(ctx->err, KERR_INVALID, "from", "from: an e-mail address");
	json_t *track = json_object_get(in, "track_opens");
	if (track && !json_is_boolean(track))
		return kerr_set(ctx->err, KERR_INVALID, "track_opens",
		                "track_opens: true or false");
	/* M-04: opens are logged only where the declaration says they are kept. */
	if (json_is_true(track) && !decl_record_type(d, RT_OPEN))
		return kerr_set(ctx->err, KERR_REFUSED, "track_opens",
		                "track_opens: register '%s' does not declare the record type "
		                "newsletter_open",
		                rid);
	json_t *aud = json_object_get(in, "audience");
	if ((rc = check_audience(ctx, d, aud)))
		return rc;
	if ((rc = render(ctx->err, "subject", subject, vals, false, &scratch)) ||
	    (rc = render(ctx->err, "text", text, vals, false, &scratch)) ||
	    (html && (rc = render(ctx->err, "html", html, vals, true, &scratch)))) {
		buf_free(&scratch);
		return rc;
	}
	buf_free(&scratch);

	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	struct query *q = store_query(ctx->db, ST_MAILING_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, purpose);
	q_text(q, 3, subject);
	q_text(q, 4, text);
	q_text(q, 5, html);
	q_text(q, 6, from ? norm : NULL);
	q_text(q, 7, from_name);
	q_text(q, 8, aud ? dump(ctx, aud) : "{}");
	q_int(q, 9, json_is_true(track));
	q_text(q, 10, ctx->now_iso);
	q_text(q, 11, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		goto fail;
	*id = store_last_id(ctx->db);
	if ((rc = usage_record(ctx, "mailing_create", rid, "mailing", *id, NULL)))
		goto fail;
	return store_commit(ctx->db, ctx->err);
fail:
	store_rollback(ctx->db);
	return rc;
}

static json_t *mailing_json(const struct mailing *m)
{
	json_t *aud = json_loads(m->audience, 0, NULL);
	return json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:o, s:b, s:s, s:s, s:s, s:s?,"
	                 " s:s?, s:s?}",
	                 "id", (json_int_t)m->id, "purpose", m->purpose, "subject", m->subject,
	                 "text", m->text, "html", m->html, "from", m->from, "from_name",
	                 m->from_name, "audience", aud ? aud : json_object(), "track_opens",
	                 m->track_opens, "state", m->state, "created_at", m->created_at,
	                 "created_by", m->created_by, "started_at", m->started_at, "started_by",
	                 m->started_by, "finished_at", m->finished_at);
}

int mailing_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	struct mailing m;
	int rc;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = mailing_load(ctx, rid, id, &m)))
		return rc;
	json_t *o = mailing_json(&m), *st = json_object();
	struct query *q = store_query(ctx->db, ST_MREC_COUNTS);
	q_int(q, 1, id);
	int64_t total = 0;
	while ((rc = q_step(q, ctx->err)) == 1) {
		json_object_set_new(st, q_col_text(q, 0),
		                    json_integer((json_int_t)q_col_int(q, 1)));
		total += q_col_int(q, 1);
	}
	q_done(q);
	if (rc == 0) {
		q = store_query(ctx->db, ST_OPEN_COUNTS);
		q_int(q, 1, id);
		if ((rc = q_step(q, ctx->err)) == 1)
			json_object_set_new(o, "opens",
			                    json_pack("{s:I, s:I}", "total",
			                              (json_int_t)q_col_int(q, 0), "recipients",
			                              (json_int_t)q_col_int(q, 1)));
		q_done(q);
	}
	if (rc < 0) {
		json_decref(o);
		json_decref(st);
		return rc;
	}
	json_object_set_new(o, "targeted", json_integer((json_int_t)total));
	json_object_set_new(o, "recipients", st);
	*out = o;
	return 0;
}

int mailing_list(struct kctx *ctx, const char *rid, json_t **out)
{
	int rc;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	json_t *items = json_array();
	struct query *q = store_query(ctx->db, ST_MAILING_LIST);
	q_text(q, 1, rid);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
		                                       (json_int_t)q_col_int(q, 0), "purpose",
		                                       q_col_text(q, 1), "subject",
		                                       q_col_text(q, 2), "state", q_col_text(q, 9),
		                                       "created_at", q_col_text(q, 10)));
	q_done(q);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return 0;
}

/* The base of the public links, without a trailing slash; NULL when public_url is unset. */
static const char *base_url(struct kctx *ctx)
{
	const char *u = ctx->app->cfg.public_url;
	if (!u[0])
		return NULL;
	size_t n = strlen(u);
	while (n && u[n - 1] == '/')
		n--;
	return arena_strndup(ctx->mem, u, n);
}

/* The message of `m` for one recipient: text and HTML with the unsubscribe link (and the
 * pixel when opens are tracked). */
static int compose(struct kctx *ctx, const struct mailing *m, const char *const vals[PH__MAX],
                   const char *unsub_url, const char *pixel_url, struct buf *subject,
                   struct buf *text, struct buf *html)
{
	int rc;
	if ((rc = render(ctx->err, "subject", m->subject, vals, false, subject)) ||
	    (rc = render(ctx->err, "text", m->text, vals, false, text)))
		return rc;
	buf_puts(text, "\n\n-- \nPeru tilaus / Avsluta prenumerationen / Unsubscribe:\n");
	buf_puts(text, unsub_url);
	buf_puts(text, "\n");
	if (!m->html)
		return 0;
	if ((rc = render(ctx->err, "html", m->html, vals, true, html)))
		return rc;
	buf_puts(html, "\n<p><a href=\"");
	html_attr(html, unsub_url);
	buf_puts(html, "\">Peru tilaus / Avsluta prenumerationen / Unsubscribe</a></p>\n");
	if (pixel_url) {
		buf_puts(html, "<img src=\"");
		html_attr(html, pixel_url);
		buf_puts(html, "\" width=\"1\" height=\"1\" alt=\"\">\n");
	}
	return 0;
}

int mailing_preview(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	const struct decl *d = reg_or_fail(ctx, rid);
	struct mailing m;
	struct audience a;
	json_t *aj = NULL;
	size_t counts[EX__MAX];
	int rc;
	*out = NULL;
	if (!d)
		return KERR_NOTFOUND;
	if ((rc = mailing_load(ctx, rid, id, &m)))
		return rc;
	audience_of(ctx, d, &m, &a, &aj);
	if ((rc = store_begin_read(ctx->db, ctx->err)) == 0) {
		rc = resolve(ctx, rid, &a, counts, NULL, NULL);
		store_rollback(ctx->db);
	}
	json_decref(aj);
	if (rc)
		return rc;
	/* The sample shows the placeholders with example values, never a person's data. */
	const char *const vals[PH__MAX] = {"Maija", "Meikäläinen", "Esimerkki Oy"};
	struct buf s = BUF_INIT, t = BUF_INIT, h = BUF_INIT;
	const char *base = base_url(ctx);
	const char *unsub = arena_printf(ctx->mem, "%s/p/unsubscribe/TOKEN", base ? base : "");
	const char *pixel =
	        m.track_opens ? arena_printf(ctx->mem, "%s/p/o/TOKEN.gif", base ? base : "") : NULL;
	rc = compose(ctx, &m, vals, unsub, pixel, &s, &t, &h);
	if (!rc)
		*out = json_pack("{s:I, s:I, s:o, s:{s:s, s:s, s:s?}}", "mailing", (json_int_t)id,
		                 "recipients", (json_int_t)counts[EX_NONE], "excluded",
		                 counts_json(counts), "sample", "subject", buf_str(&s), "text",
		                 buf_str(&t), "html", m.html ? buf_str(&h) : NULL);
	buf_free(&s);
	buf_free(&t);
	buf_free(&h);
	return rc;
}

int mailing_recipients(struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	struct mailing m;
	int rc;
	*out = NULL;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = mailing_load(ctx, rid, id, &m)))
		return rc;
	json_t *items = json_array();
	int64_t *pids = NULL;
	size_t npids = 0, cap = 0;
	struct query *q = store_query(ctx->db, ST_MREC_LIST);
	q_int(q, 1, id);
	while ((rc = q_step(q, ctx->err)) == 1) {
		if (npids == cap) {
			cap = cap ? cap * 2 : 256;
			pids = grow(pids, cap, sizeof(*pids));
		}
		pids[npids++] = q_col_int(q, 0);
		json_array_append_new(
		        items, json_pack("{s:I, s:s, s:I, s:s?, s:s?}", "person_id",
		                         (json_int_t)q_col_int(q, 0), "state", q_col_text(q, 1),
		                         "attempts", (json_int_t)q_col_int(q, 2), "sent_at",
		                         q_col_text(q, 3), "error", q_col_text(q, 4)));
	}
	q_done(q);
	if (rc == 0) {
		/* Who received marketing is personal data: the list is logged with its persons. */
		struct usage_entry e = {.action = "search",
		                        .rid = rid,
		                        .entity = "mailing",
		                        .entity_id = id,
		                        .subjects = pids,
		                        .nsubjects = npids};
		rc = usage_read(ctx, &e);
	}
	free(pids);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Sending
 */

/* Draft → sending: resolves the audience and records every recipient (M-05), in one
 * transaction with the usage-log entry naming them. */
static int start_tx(struct kctx *ctx, const char *rid, const struct decl *d,
                    const struct mailing *m)
{
	struct audience a;
	json_t *aj = NULL;
	size_t counts[EX__MAX];
	int64_t *ids = NULL;
	size_t n = 0;
	audience_of(ctx, d, m, &a, &aj);
	int rc = resolve(ctx, rid, &a, counts, &ids, &n);
	json_decref(aj);
	for (size_t i = 0; !rc && i < n; i++) {
		struct query *q = store_query(ctx->db, ST_MREC_INSERT);
		q_int(q, 1, m->id);
		q_text(q, 2, rid);
		q_int(q, 3, ids[i]);
		rc = q_exec(q, ctx->err);
	}
	if (!rc) {
		struct query *q = store_query(ctx->db, ST_MAILING_START);
		q_text(q, 1, rid);
		q_int(q, 2, m->id);
		q_text(q, 3, ctx->now_iso);
		q_text(q, 4, ctx->actor->name);
		rc = q_exec(q, ctx->err);
	}
	if (!rc) {
		struct usage_entry e = {.action = "mailing_target",
		                        .rid = rid,
		                        .entity = "mailing",
		                        .entity_id = m->id,
		                        .subjects = ids,
		                        .nsubjects = n};
		rc = usage_append(ctx, &e);
	}
	free(ids);
	return rc;
}

static int set_row(struct kctx *ctx, int64_t rec, const char *state, int64_t attempts,
                   const char *sent_at, const char *error)
{
	struct query *q = store_query(ctx->db, ST_MREC_SET);
	q_int(q, 1, rec);
	q_text(q, 2, state);
	q_int(q, 3, attempts);
	q_text(q, 4, sent_at);
	q_text(q, 5, error);
	return q_exec(q, ctx->err);
}

/* One recipient ready to send to: what the message needs, copied out of the transaction. */
struct outgoing {
	int64_t rec, pid, attempts;
	char email[256];
	const char *vals[PH__MAX];
};

/*
 * Takes the next pending recipient in one transaction: checks the rule again (a ban, a
 * withdrawal or a restriction since the audience was resolved skips them), and marks the row
 * 'sending' before anything leaves. Returns 1 with *o filled, 0 when none is left, or KERR_*.
 */
static int take_next_tx(struct kctx *ctx, const char *rid, const struct audience *a,
                        int64_t mailing_id, struct outgoing *o)
{
	struct query *q;
	int rc;
	for (;;) {
		q = store_query(ctx->db, ST_MREC_NEXT);
		q_int(q, 1, mailing_id);
		rc = q_step(q, ctx->err);
		if (rc == 1) {
			o->rec = q_col_int(q, 0);
			o->pid = q_col_int(q, 1);
			o->attempts = q_col_int(q, 2);
		}
		q_done(q);
		if (rc <= 0)
			return rc;

		q = store_query(ctx->db, ST_MKT_ELIGIBLE_ONE);
		aud_bind(q, rid, a);
		q_int(q, 6, o->pid);
		rc = q_step(q, ctx->err);
		struct subject sub = {0};
		if (rc == 1)
			subject_of_row(a, q, &sub);
		enum excl e = rc == 1 ? classify(a, &sub) : EX_NOT_SELECTED;
		if (rc == 1 && e == EX_NONE)
			snprintf(o->email, sizeof(o->email), "%s", q_col_text(q, 3));
		q_done(q);
		if (rc < 0)
			return rc;
		/* an address on the suppression list of passivated subjects is not sent to. */
		if (e == EX_NONE) {
			struct suppress_ids ids = {.email = o->email};
			bool hit = false;
			if ((rc = suppress_match(ctx, rid, &ids, &hit, NULL)))
				return rc;
			if (hit)
				e = EX_SUPPRESSED;
		}
		if (e != EX_NONE) {
			if ((rc = set_row(ctx, o->rec, "skipped", o->attempts, NULL,
			                  excl_names[e])))
				return rc;
			continue;
		}
		q = store_query(ctx->db, ST_MKT_NAMES);
		q_text(q, 1, rid);
		q_int(q, 2, o->pid);
		q_text(q, 3, a->today);
		if ((rc = q_step(q, ctx->err)) == 1)
			for (int i = 0; i < PH__MAX; i++)
				o->vals[i] = col(ctx, q, i);
		q_done(q);
		if (rc < 0)
			return rc;
		o->attempts++;
		if ((rc = set_row(ctx, o->rec, "sending", o->attempts, NULL, NULL)))
			return rc;
		return 1;
	}
}

/* Marks the outcome of one send, with the usage-log entry of a message sent. */
static int outcome_tx(struct kctx *ctx, const char *rid, int64_t mailing_id,
                      const struct outgoing *o, const char *state, const char *error)
{
	int rc = set_row(ctx, o->rec, state, o->attempts,
	                 strcmp(state, "sent") == 0 ? ctx->now_iso : NULL, error);
	if (!rc && strcmp(state, "sent") == 0) {
		char reason[40];
		snprintf(reason, sizeof(reason), "recipient:%" PRId64, o->rec);
		struct usage_entry e = {.action = "mailing_send",
		                        .rid = rid,
		                        .entity = "mailing",
		                        .entity_id = mailing_id,
		                        .subjects = &o->pid,
		                        .nsubjects = 1,
		                        .reason = reason};
		rc = usage_append(ctx, &e);
	}
	return rc;
}

/* Waits `ms` milliseconds, in slices of at most 100 ms, returning early once `stop` (may be
 * NULL) is set: a server asked to stop does not sit out a long backoff. */
static void sleep_ms(long ms, const atomic_bool *stop)
{
	while (ms > 0 && !(stop && atomic_load(stop))) {
		long slice = ms < 100 ? ms : 100;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = slice * 1000000L};
		while (nanosleep(&ts, &ts) != 0)
			;
		ms -= slice;
	}
}

/* Builds and sends one message; returns what mailer_send() returns. */
static int send_one(struct kctx *ctx, struct mailer *mailer, const struct mailing *m,
                    const char *base, const struct outgoing *o, struct buf *msg)
{
	char tok[MLINK_MAX], ptok[MLINK_MAX];
	struct buf s = BUF_INIT, t = BUF_INIT, h = BUF_INIT;
	mlink_make(&ctx->app->keys, MLINK_UNSUBSCRIBE, o->rec, tok);
	mlink_make(&ctx->app->keys, MLINK_OPEN, o->rec, ptok);
	const char *unsub = arena_printf(ctx->mem, "%s/p/unsubscribe/%s", base, tok);
	const char *pixel =
	        m->track_opens ? arena_printf(ctx->mem, "%s/p/o/%s.gif", base, ptok) : NULL;
	/* RFC 2369 and RFC 8058: a one-click unsubscribe a mail client can POST to. */
	const char *headers[2] = {
	        arena_printf(ctx->mem, "List-Unsubscribe: <%s>", unsub),
	        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
	};
	const struct mail_config *cfg = &ctx->app->cfg.mail;
	int rc = compose(ctx, m, o->vals, unsub, pixel, &s, &t, &h);
	if (!rc) {
		struct mail_msg mm = {
		        .from = m->from ? m->from : cfg->from,
		        .from_name = m->from_name ? m->from_name
		                                  : (cfg->from_name[0] ? cfg->from_name : NULL),
		        .to = o->email,
		        .subject = buf_str(&s),
		        .text = buf_str(&t),
		        .html = m->html ? buf_str(&h) : NULL,
		        .headers = headers,
		        .nheaders = 2,
		};
		buf_reset(msg);
		rc = mail_format(&mm, ctx->now, msg, ctx->err);
		if (rc)
			/* The recipient's address is never part of an error. */
			rc = kerr_set(ctx->err, KERR_INVALID, NULL,
			              "the message could not be built");
	}
	if (!rc)
		rc = mailer_send(mailer, m->from ? m->from : cfg->from, o->email, msg, ctx->err);
	buf_free(&s);
	buf_free(&t);
	buf_free(&h);
	return rc;
}

/* The checks of a send that need no message to leave: the register, the mailing not sent yet,
 * public_url, a sender and a usable smtp_url. Fills *m; returns the base of the links in
 * *base. */
static int send_check(struct kctx *ctx, const char *rid, int64_t id, struct mailing *m,
                      const char **base)
{
	int rc;
	if (!reg_or_fail(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = mailing_load(ctx, rid, id, m)))
		return rc;
	if (!(*base = base_url(ctx)))
		return kerr_set(ctx->err, KERR_INVALID, "public_url",
		                "public_url is not set in kortisto.conf: every message needs its "
		                "unsubscribe link");
	if (strcmp(m->state, "sent") == 0)
		return kerr_set(ctx->err, KERR_CONFLICT, "id",
		                "mailing %" PRId64 " was already sent", id);
	const struct mail_config *cfg = &ctx->app->cfg.mail;
	if (!m->from && !cfg->from[0])
		return kerr_set(ctx->err, KERR_INVALID, "from",
		                "from: the mailing has no sender and mail_from is not set");
	return 0;
}

int mailing_send_start(struct kctx *ctx, const char *rid, int64_t id)
{
	struct mailing m;
	struct mailer *mailer = NULL;
	const char *base;
	int rc;
	if ((rc = send_check(ctx, rid, id, &m, &base)))
		return rc;
	/* The mail settings are checked before anything is recorded, as a whole send does. */
	if ((rc = mailer_open(&ctx->app->cfg.mail, &mailer, ctx->err)))
		return rc;
	mailer_free(mailer);
	if (strcmp(m.state, "draft") != 0)
		return 0;
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = start_tx(ctx, rid, app_register(ctx->app, rid), &m))) {
		store_rollback(ctx->db);
		return rc;
	}
	return store_commit(ctx->db, ctx->err);
}

int mailing_send_run(struct kctx *ctx, const char *rid, int64_t id,
                     const struct mailing_send_opts *opts, json_t **out)
{
	const struct decl *d;
	struct mailing m;
	struct audience a;
	json_t *aj = NULL;
	struct mailer *mailer = NULL;
	struct buf msg = BUF_INIT;
	const char *base;
	int max_attempts = opts && opts->max_attempts > 0 ? opts->max_attempts : 5;
	long backoff = opts && opts->backoff_ms > 0 ? opts->backoff_ms : 1000;
	long gap = opts && opts->rate > 0 ? (long)(1000.0 / opts->rate) : 0;
	const atomic_bool *stop = opts ? opts->stop : NULL;
	int rc;

	if (out)
		*out = NULL;
	if ((rc = send_check(ctx, rid, id, &m, &base)))
		return rc;
	d = app_register(ctx->app, rid);
	if (strcmp(m.state, "sending") != 0)
		return kerr_set(ctx->err, KERR_CONFLICT, "id",
		                "mailing %" PRId64 " has not been started", id);
	if ((rc = mailer_open(&ctx->app->cfg.mail, &mailer, ctx->err)))
		return rc;

	/* A resumed send: at most once (docs/marketing.md). A send just started has no row
	 * 'sending', so this changes nothing then. */
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		goto out;
	struct query *oq = store_query(ctx->db, ST_MREC_ORPHANS);
	q_int(oq, 1, id);
	if ((rc = q_exec(oq, ctx->err))) {
		store_rollback(ctx->db);
		goto out;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto out;

	audience_of(ctx, d, &m, &a, &aj);
	struct arena *outer = ctx->mem;
	for (;;) {
		struct arena one;
		struct outgoing o = {0};
		/* Asked to stop: the rows left pending wait for the next send. */
		if (stop && atomic_load(stop)) {
			rc = 2;
			break;
		}
		arena_init(&one);
		ctx->mem = &one;
		if ((rc = store_begin_write(ctx->db, ctx->err)) == 0) {
			int got = take_next_tx(ctx, rid, &a, id, &o);
			if (got < 0) {
				rc = got;
				store_rollback(ctx->db);
			} else {
				rc = store_commit(ctx->db, ctx->err);
				if (!rc && got == 0)
					rc = 1; /* done */
			}
		}
		if (rc) {
			ctx->mem = outer;
			arena_free(&one);
			break;
		}
		struct kerr serr = {0};
		struct kerr *saved = ctx->err;
		ctx->err = &serr;
		int s = send_one(ctx, mailer, &m, base, &o, &msg);
		ctx->err = saved;
		const char *state = "sent", *error = NULL;
		char code[16] = "";
		if (s != 0) {
			snprintf(code, sizeof(code), "smtp %d", mailer_smtp_code(mailer));
			error = mailer_smtp_code(mailer) ? code : "not sent";
			state = s == KERR_BUSY && o.attempts < max_attempts ? "pending"
			        : s == KERR_INTERNAL                        ? "pending"
			                                                    : "failed";
			/* A server that cannot be reached at all is not this recipient's failure:
			 * keep them pending and stop, to resume later. */
			if (s == KERR_BUSY && !mailer_smtp_code(mailer) &&
			    o.attempts >= max_attempts)
				state = "pending";
		}
		if ((rc = store_begin_write(ctx->db, ctx->err)) == 0) {
			if ((rc = outcome_tx(ctx, rid, id, &o, state, error)))
				store_rollback(ctx->db);
			else
				rc = store_commit(ctx->db, ctx->err);
		}
		ctx->mem = outer;
		arena_free(&one);
		if (rc)
			break;
		if (s == KERR_INTERNAL) {
			/* The setup is broken (TLS, authentication): stop, and resume later. */
			kerr_set(ctx->err, KERR_INTERNAL, NULL, "%s", serr.message);
			rc = KERR_INTERNAL;
			break;
		}
		if (s == KERR_BUSY && !mailer_smtp_code(mailer) && o.attempts >= max_attempts) {
			kerr_set(ctx->err, KERR_BUSY, NULL,
			         "%s; the rest stay pending: run mailing send again to resume",
			         serr.message);
			rc = KERR_BUSY;
			break;
		}
		if (s == KERR_BUSY && strcmp(state, "pending") == 0) {
			long wait = backoff << (o.attempts - 1 < 10 ? o.attempts - 1 : 10);
			sleep_ms(wait, stop);
		} else if (gap) {
			sleep_ms(gap, stop);
		}
	}
	if (rc == 1) {
		struct query *q;
		if ((rc = store_begin_write(ctx->db, ctx->err)) == 0) {
			q = store_query(ctx->db, ST_MAILING_FINISH);
			q_text(q, 1, rid);
			q_int(q, 2, id);
			q_text(q, 3, ctx->now_iso);
			/* Logged once: a second sender finishing the same mailing changes nothing. */
			if ((rc = q_exec(q, ctx->err)) ||
			    (store_changes(ctx->db) &&
			     (rc = usage_record(ctx, "mailing_finish", rid, "mailing", id, NULL))))
				store_rollback(ctx->db);
			else
				rc = store_commit(ctx->db, ctx->err);
		}
	} else if (rc == 2) {
		rc = 0;
	}
	json_decref(aj);
out:
	buf_free(&msg);
	mailer_free(mailer);
	if (!rc && out)
		rc = mailing_get(ctx, rid, id, out);
	return rc;
}

int mailing_send(struct kctx *ctx, const char *rid, int64_t id,
                 const struct mailing_send_opts *opts, json_t **out)
{
	int rc;
	if (out)
		*out = NULL;
	if ((rc = mailing_send_start(ctx, rid, id)))
		return rc;
	return mailing_send_run(ctx, rid, id, opts, out);
}

int mailing_sending(struct kctx *ctx, json_t **out)
{
	json_t *items = json_array();
	struct query *q = store_query(ctx->db, ST_MAILING_SENDING);
	int rc;
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(items, json_pack("{s:s, s:I}", "register", q_col_text(q, 0),
		                                       "id", (json_int_t)q_col_int(q, 1)));
	q_done(q);
	if (rc < 0) {
		json_decref(items);
		*out = NULL;
		return rc;
	}
	*out = items;
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * The public links
 */

struct recipient {
	int64_t id, mailing_id, pid;
	const char *rid;
	bool track;
};

static int recipient_of(struct kctx *ctx, enum mlink_kind kind, const char *token,
                        struct recipient *r)
{
	int64_t id;
	if (!mlink_open(&ctx->app->keys, kind, token, &id))
		return kerr_set(ctx->err, KERR_NOTFOUND, NULL, "this link is not valid");
	struct query *q = store_query(ctx->db, ST_MREC_GET);
	q_int(q, 1, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		r->id = id;
		r->mailing_id = q_col_int(q, 1);
		r->rid = col(ctx, q, 2);
		r->pid = q_col_int(q, 3);
		r->track = q_col_int(q, 5) != 0;
	}
	q_done(q);
	if (rc == 0)
		/* The person was erased since: nothing is left to unsubscribe. */
		return kerr_set(ctx->err, KERR_NOTFOUND, NULL, "this link is no longer valid");
	return rc < 0 ? rc : 0;
}

int mailing_unsubscribe_check(struct kctx *ctx, const char *token)
{
	struct recipient r;
	return recipient_of(ctx, MLINK_UNSUBSCRIBE, token, &r);
}

static int unsubscribe_tx(struct kctx *ctx, const char *token)
{
	struct recipient r;
	int rc = recipient_of(ctx, MLINK_UNSUBSCRIBE, token, &r);
	if (rc)
		return rc;
	const char *source = arena_printf(ctx->mem, "unsubscribe:mailing:%" PRId64, r.mailing_id);
	struct query *q = store_query(ctx->db, ST_BAN_INSERT);
	q_text(q, 1, r.rid);
	q_int(q, 2, r.pid);
	q_text(q, 3, "email");
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, source);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	q = store_query(ctx->db, ST_CONSENT_WITHDRAW_CHANNEL);
	q_text(q, 1, r.rid);
	q_int(q, 2, r.pid);
	q_text(q, 3, "email");
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, "unsubscribe");
	q_text(q, 6, source);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	q = store_query(ctx->db, ST_SUB_END_PERSON);
	q_text(q, 1, r.rid);
	q_int(q, 2, r.pid);
	q_text(q, 3, ctx->now_iso);
	q_text(q, 4, "unsubscribe");
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	struct usage_entry e = {.action = "unsubscribe",
	                        .rid = r.rid,
	                        .entity = "mailing",
	                        .entity_id = r.mailing_id,
	                        .subjects = &r.pid,
	                        .nsubjects = 1,
	                        .reason = "email"};
	return usage_append(ctx, &e);
}

int mailing_unsubscribe(struct kctx *ctx, const char *token)
{
	IN_WRITE_TX(ctx, unsubscribe_tx(ctx, token));
}

/*
 * One open: its newsletter_open record of the day (under the open's own usage-log entry,
 * which names it), then the open row pointing at it, so a retention rule over the record type deletes the
 * open with its record. An open is kept only as the declaration says: when the register no
 * longer declares the record type, or declares it for a data category that does not apply to
 * the person's group, nothing is written.
 */
static int open_tx(struct kctx *ctx, const char *token)
{
	struct recipient r;
	int64_t rec = 0;
	int rc = recipient_of(ctx, MLINK_OPEN, token, &r);
	if (rc || !r.track)
		return rc;
	const struct decl *d = app_register(ctx->app, r.rid);
	if (!d || !decl_record_type(d, RT_OPEN))
		return 0;
	if ((rc = retention_event_logged_tx(ctx, r.rid, r.pid, RT_OPEN, &rec))) {
		if (rc != KERR_REFUSED)
			return rc;
		kerr_clear(ctx->err);
		return 0;
	}
	struct query *q = store_query(ctx->db, ST_OPEN_INSERT);
	q_int(q, 1, r.id);
	q_int(q, 2, r.mailing_id);
	q_text(q, 3, r.rid);
	q_int(q, 4, r.pid);
	q_text(q, 5, ctx->now_iso);
	q_int(q, 6, rec);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	/* The one entry of the hit: it names the record the open is kept as. */
	char reason[32];
	snprintf(reason, sizeof(reason), "record:%" PRId64, rec);
	struct usage_entry e = {.action = "newsletter_open",
	                        .rid = r.rid,
	                        .entity = "mailing",
	                        .entity_id = r.mailing_id,
	                        .subjects = &r.pid,
	                        .nsubjects = 1,
	                        .reason = reason};
	return usage_append(ctx, &e);
}

int mailing_open_hit(struct kctx *ctx, const char *token)
{
	IN_WRITE_TX(ctx, open_tx(ctx, token));
}
