/*
 * Retention service: customer events, legal holds, the plan, the run and the at-once
 * application of L-05. Every rule is evaluated the same way for the plan and the run: a
 * statement reads candidates in batches in (day, id) or id order, bounded a few days past the
 * due day, and the exact due day (calendar arithmetic with month-end clamping), the subject
 * group, a legal hold and the rule's exceptions are checked here, person by person. The plan
 * only counts; the run acts, one write transaction per batch with its progress row, so a
 * killed run loses at most the batch in flight and never does an action twice.
 */
#include "core/retention.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "audit/usage.h"
#include "core/account.h"
#include "core/archive.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/fields.h"
#include "core/person.h"
#include "core/suppress.h"
#include "core/survey.h"
#include "core/search.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/xmalloc.h"

#define SAMPLE_MAX 10
/* Month-end clamping moves a due day by at most three days (31 → 28), so candidates are read
 * up to three days past the plain subtraction and checked exactly one by one. */
#define CLAMP_SLACK_DAYS 3

static const struct actor retention_actor = {ACTOR_SYSTEM, RETENTION_ACTOR, 0, 0};

/* Record types that are never tied to a person: survey answers and raffle entries (F-01,
 * F-02). Surveys keep them in tables of their own, and a run deletes them through
 * survey_expire() (core/survey.h) rather than through parts of its own. */
static const char *const unlinked_types[] = {"survey_answer", "raffle_entry"};

static const char *const from_names[RF__MAX] = {
        [RF_LAST_CUSTOMER_EVENT] = "last_customer_event",
        [RF_CREATED] = "created",
        [RF_AFFILIATION_END] = "affiliation_end",
        [RF_CONSENT_WITHDRAWN] = "consent_withdrawn",
        [RF_UNTIL_REQUEST] = "until_request",
        [RF_FIELD] = "field",
};

/* ---------------------------------------------------------------- days */

/* Parses the "YYYY-MM-DD" at the start of `s` (anything may follow, e.g. a time). */
static bool day_parse(const char *s, int *y, int *m, int *d)
{
	if (!s)
		return false;
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return false;
		} else if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	*y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	return *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in_month(*y, *m);
}

static void day_format(int y, int m, int d, char out[11])
{
	if (y < 0)
		y = 0, m = 1, d = 1;
	if (y > 9999)
		y = 9999, m = 12, d = 31;
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* Whether the period `after` counted from `day` has ended on `today`: day + after <= today. */
static bool period_over(const char *day, const struct duration *after, const char *today)
{
	int y, m, d;
	char end[11];
	if (!day_parse(day, &y, &m, &d))
		return false; /* no usable day: never due by itself */
	date_add(&y, &m, &d, after->years, after->months, after->days);
	day_format(y, m, d, end);
	return strcmp(end, today) <= 0;
}

/* The last day a candidate may count from: today - after + the clamping slack. */
static void due_bound(const char *today, const struct duration *after, char out[11])
{
	int y, m, d;
	day_parse(today, &y, &m, &d);
	date_add(&y, &m, &d, -after->years, -after->months, -after->days + CLAMP_SLACK_DAYS);
	day_format(y, m, d, out);
}

static void duration_format(const struct duration *du, char out[48])
{
	struct buf b = BUF_INIT;
	buf_putc(&b, 'P');
	if (du->years)
		buf_appendf(&b, "%dY", du->years);
	if (du->months)
		buf_appendf(&b, "%dM", du->months);
	if (du->days || (!du->years && !du->months))
		buf_appendf(&b, "%dD", du->days);
	snprintf(out, 48, "%s", buf_str(&b));
	buf_free(&b);
}

/* ---------------------------------------------------------------- rights */

/* The operator, or a manager of `rid` (rid NULL: the operator only). */
static int require_manager(struct kctx *ctx, const char *rid, const char *what)
{
	if (ctx->actor->kind == ACTOR_OPERATOR || ctx->actor->kind == ACTOR_SYSTEM)
		return 0;
	struct principal p;
	if (rid && account_actor(ctx, &p) == 0 && auth_role(ctx, &p, rid, NULL) == ROLE_MANAGER)
		return 0;
	kerr_clear(ctx->err);
	return kerr_set(ctx->err, KERR_FORBIDDEN, NULL, "only a manager of register '%s' may %s",
	                rid ? rid : "(every register)", what);
}

static const struct decl *register_decl(struct kctx *ctx, const char *rid)
{
	const struct decl *d = app_register(ctx->app, rid);
	if (!d)
		kerr_set(ctx->err, KERR_NOTFOUND, "register", "register '%s' not found",
		         rid ? rid : "");
	return d;
}

/* Reads person `id`'s subject group and last customer event (ctx->mem); KERR_NOTFOUND. */
static int person_state(struct kctx *ctx, const char *rid, int64_t id, const char **group,
                        const char **lce)
{
	struct query *q = store_query(ctx->db, ST_RET_PERSON);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		*group = arena_strdup(ctx->mem, q_col_text(q, 0));
		*lce = arena_strdup(ctx->mem, q_col_text(q, 1));
	}
	q_done(q);
	if (rc == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "person",
		                "person %" PRId64 " not found in register '%s'", id, rid);
	return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- customer events */

static bool type_unlinked(const char *type)
{
	for (size_t i = 0; i < sizeof(unlinked_types) / sizeof(unlinked_types[0]); i++)
		if (strcmp(unlinked_types[i], type) == 0)
			return true;
	return false;
}

/* Writes the record (and moves the customer-event clock); logs it as a "create" of the record
 * unless `logged` (the caller's entry in the same transaction covers it). */
static int event_add_tx(struct kctx *ctx, const char *rid, int64_t person_id,
                        const struct decl_record_type *rt, const char *on, int64_t *id, bool logged)
{
	const char *group = NULL, *lce = NULL;
	int rc;
	if ((rc = person_state(ctx, rid, person_id, &group, &lce)))
		return rc;
	const struct decl *d = app_register(ctx->app, rid);
	const struct decl_category *cat = rt->category ? decl_category(d, rt->category) : NULL;
	if (cat && !decl_category_applies(cat, group))
		return kerr_set(
		        ctx->err, KERR_REFUSED, "type",
		        "type: records of type '%s' are not declared for subject group '%s'",
		        rt->id, group);
	struct query *q = store_query(ctx->db, ST_REC_INSERT);
	q_text(q, 1, rid);
	q_int(q, 2, person_id);
	q_text(q, 3, rt->id);
	q_text(q, 4, on);
	q_text(q, 5, ctx->now_iso);
	q_text(q, 6, ctx->actor->name);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	int64_t rec = store_last_id(ctx->db);
	if (id)
		*id = rec;
	if (rt->customer_event && (!lce || strcmp(on, lce) > 0)) {
		q = store_query(ctx->db, ST_RET_SET_LCE);
		q_text(q, 1, rid);
		q_int(q, 2, person_id);
		q_text(q, 3, on);
		q_text(q, 4, ctx->now_iso);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
		q = store_query(ctx->db, ST_HISTORY_INSERT);
		q_text(q, 1, rid);
		q_text(q, 2, "person");
		q_int(q, 3, person_id);
		q_text(q, 4, "last_customer_event");
		q_text(q, 5, lce);
		q_text(q, 6, on);
		q_text(q, 7, ctx->actor->name);
		q_text(q, 8, rt->id);
		q_text(q, 9, ctx->now_iso);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	if (logged)
		return 0;
	struct usage_entry e = {
	        .action = "create",
	        .rid = rid,
	        .entity = "record",
	        .entity_id = rec,
	        .subjects = &person_id,
	        .nsubjects = 1,
	        .reason = rt->id,
	};
	return usage_append(ctx, &e);
}

/* The checks of retention_event_add before any write: the declared type (*rt) and the day
 * (*on, today when NULL; `today` holds it). */
static int event_check(struct kctx *ctx, const char *rid, const char *type, const char **on,
                       char today[11], const struct decl_record_type **rt)
{
	const struct decl *d = register_decl(ctx, rid);
	int rc;
	if (!d)
		return KERR_NOTFOUND;
	*rt = type ? decl_record_type(d, type) : NULL;
	if (!*rt)
		return kerr_set(ctx->err, KERR_REFUSED, "type",
		                "type: '%s' is not a record type declared by register '%s'",
		                type ? type : "", rid);
	if (type_unlinked((*rt)->id))
		return kerr_set(ctx->err, KERR_REFUSED, "type",
		                "type: records of type '%s' are never tied to a person", (*rt)->id);
	time_format_date(ctx->now, today);
	if (!*on)
		*on = today;
	else if ((rc = check_date(ctx, *on, "at")))
		return rc;
	else if (strcmp(*on, today) > 0)
		return kerr_set(ctx->err, KERR_INVALID, "at", "at: %s is in the future", *on);
	return 0;
}

int retention_event_add(struct kctx *ctx, const char *rid, int64_t person_id, const char *type,
                        const char *on, int64_t *id)
{
	const struct decl_record_type *rt;
	char today[11];
	int rc = event_check(ctx, rid, type, &on, today, &rt);
	if (rc)
		return rc;
	IN_WRITE_TX(ctx, event_add_tx(ctx, rid, person_id, rt, on, id, false));
}

int retention_event_add_tx(struct kctx *ctx, const char *rid, int64_t person_id, const char *type,
                           const char *on, int64_t *id)
{
	const struct decl_record_type *rt;
	char today[11];
	int rc = event_check(ctx, rid, type, &on, today, &rt);
	return rc ? rc : event_add_tx(ctx, rid, person_id, rt, on, id, false);
}

int retention_event_logged_tx(struct kctx *ctx, const char *rid, int64_t person_id,
                              const char *type, int64_t *id)
{
	const struct decl_record_type *rt;
	const char *on = NULL;
	char today[11];
	int rc = event_check(ctx, rid, type, &on, today, &rt);
	return rc ? rc : event_add_tx(ctx, rid, person_id, rt, on, id, true);
}

/* ---------------------------------------------------------------- one rule, one part */

enum part_kind {
	PART_PERSONS, /* the rule applies to persons */
	PART_RECORDS, /* to records of one type */
	PART_NOTE,    /* nothing to do automatically; `note` says why */
};

/* A rule applied to one part (the persons, or one record type) of one register. */
struct part {
	const struct decl *d;
	const char *rid;
	int version; /* the declaration's version, for archive manifests */
	const struct decl_rule *rule;
	enum part_kind kind;
	const char *name; /* "person" or the record type */
	const char *note; /* PART_NOTE: why nothing happens */
	char today[11], bound[11];
	char fieldpath[80]; /* RF_FIELD: "$.<field>" */
	int64_t run_id;     /* 0 in the plan and for L-05 at once */
};

/* One candidate of a batch. */
struct cand {
	int64_t id, person_id; /* person_id: the record's person, or the person itself */
	const char *group;     /* the declaration's string, or NULL when no longer declared */
	char day[11];
};

/* What a part did (or would do) so far. */
struct tally {
	int64_t examined, acted, excepted, held, archived;
	int64_t sample[3][SAMPLE_MAX]; /* acted, held, excepted */
	int nsample[3];
};

enum { SAMPLE_ACTED, SAMPLE_HELD, SAMPLE_EXCEPTED };

static void tally_sample(struct tally *t, int which, int64_t id)
{
	if (t->nsample[which] < SAMPLE_MAX)
		t->sample[which][t->nsample[which]++] = id;
}

/* Sets up `p` for rule `r` and part `name` (NULL: the persons). */
static void part_init(struct part *p, struct kctx *ctx, const struct decl *d, const char *rid,
                      int version, const struct decl_rule *r, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->d = d;
	p->rid = rid;
	p->version = version;
	p->rule = r;
	p->name = name ? name : "person";
	p->kind = name ? PART_RECORDS : PART_PERSONS;
	time_format_date(ctx->now, p->today);
	if (r->action == RA_NONE || r->from == RF_UNTIL_REQUEST || !r->has_after) {
		p->kind = PART_NOTE;
		p->note = "kept until the subject asks for removal: no automatic action (L-06)";
		return;
	}
	due_bound(p->today, &r->after, p->bound);
	if (name && type_unlinked(name)) {
		p->kind = PART_NOTE;
		p->note = "survey answers and raffle entries are deleted by the survey sweep of "
		          "the run (core/survey.c)";
	} else if (name && r->from != RF_CREATED) {
		p->kind = PART_NOTE;
		p->note = "record types are counted from their creation only: rule skipped";
	} else if (r->from == RF_FIELD) {
		snprintf(p->fieldpath, sizeof(p->fieldpath), "$.%s",
		         r->from_field ? r->from_field : "");
	}
}

static bool group_applies(const struct decl_rule *r, const char *group)
{
	if (!r->groups.n)
		return true;
	for (size_t i = 0; group && i < r->groups.n; i++)
		if (strcmp(r->groups.v[i], group) == 0)
			return true;
	return false;
}

/* Whether one of the rule's exceptions holds for attributes `attrs` (value as YAML wrote
 * it: "true", "3", "fi"). A field the person has no value for keeps no one. */
static bool excepted(const struct decl_rule *r, json_t *attrs)
{
	for (size_t i = 0; i < r->nexcept; i++) {
		json_t *v = json_object_get(attrs, r->except[i].field);
		char num[32];
		const char *s = NULL;
		if (json_is_string(v))
			s = json_string_value(v);
		else if (json_is_boolean(v))
			s = json_is_true(v) ? "true" : "false";
		else if (json_is_integer(v) && snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		                                        json_integer_value(v)) > 0)
			s = num;
		if (s && r->except[i].equals && strcmp(s, r->except[i].equals) == 0)
			return true;
	}
	return false;
}

/* Reads up to `limit` candidates after the cursor into c[0..*n-1]. */
static int fetch(struct kctx *ctx, const struct part *p, const char *cursor_day, int64_t cursor_id,
                 int limit, struct cand *c, size_t *n)
{
	struct query *q;
	int rc;
	*n = 0;
	if (p->kind == PART_RECORDS) {
		q = store_query(ctx->db, ST_RET_DUE_RECORDS);
		q_text(q, 5, p->name);
	} else if (p->rule->from == RF_LAST_CUSTOMER_EVENT) {
		q = store_query(ctx->db, ST_RET_DUE_CLOCK);
	} else if (p->rule->from == RF_CREATED) {
		q = store_query(ctx->db, ST_RET_DUE_CREATED);
	} else if (p->rule->from == RF_AFFILIATION_END) {
		q = store_query(ctx->db, ST_RET_DUE_AFF_END);
	} else if (p->rule->from == RF_CONSENT_WITHDRAWN) {
		q = store_query(ctx->db, ST_RET_DUE_CONSENT);
		q_text(q, 5, ctx->now_iso);
	} else {
		q = store_query(ctx->db, ST_RET_DUE_FIELD);
		q_text(q, 5, p->fieldpath);
	}
	q_text(q, 1, p->rid);
	q_text(q, 2, p->bound);
	if (p->kind == PART_PERSONS && p->rule->from == RF_LAST_CUSTOMER_EVENT) {
		q_text(q, 3, cursor_day);
		q_int(q, 4, cursor_id);
		q_int(q, 5, limit);
	} else {
		q_int(q, 3, cursor_id);
		q_int(q, 4, limit);
	}
	while ((rc = q_step(q, ctx->err)) == 1) {
		struct cand *k = &c[(*n)++];
		const struct decl_group *g = decl_group(p->d, q_col_text(q, 1));
		k->id = q_col_int(q, 0);
		k->person_id = p->kind == PART_RECORDS ? q_col_int(q, 3) : k->id;
		k->group = g ? g->id : NULL;
		snprintf(k->day, sizeof(k->day), "%s", q_col_text(q, 2) ? q_col_text(q, 2) : "");
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

static int is_held(struct kctx *ctx, const char *rid, int64_t person_id, bool *held)
{
	struct query *q = store_query(ctx->db, ST_RET_HELD);
	q_text(q, 1, rid);
	q_int(q, 2, person_id);
	int rc = q_step(q, ctx->err);
	q_done(q);
	*held = rc == 1;
	return rc < 0 ? rc : 0;
}

/* Whether person `id` still has an open affiliation on `today`, and their last end date
 * (ctx->mem, NULL when none ended). */
static int affiliation_state(struct kctx *ctx, const char *rid, int64_t id, const char *today,
                             bool *open, const char **last_end)
{
	struct query *q = store_query(ctx->db, ST_RET_AFF_STATE);
	q_text(q, 1, rid);
	q_int(q, 2, id);
	q_text(q, 3, today);
	int rc = q_step(q, ctx->err);
	*open = false;
	*last_end = NULL;
	if (rc == 1) {
		*open = q_col_int(q, 1) > 0;
		*last_end = arena_strdup(ctx->mem, q_col_text(q, 2));
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- actions */

/* Writes the archive package of a batch of part `p` (core/archive.c). */
static int package_write(struct kctx *ctx, const struct part *p, const char *name,
                         const int64_t *ids, size_t n)
{
	struct archive_spec spec = {
	        .rid = p->rid,
	        .version = p->version,
	        .rule = p->rule->id,
	        .action = decl_action_name(p->rule->action),
	        .part = p->name,
	        .records = p->kind == PART_RECORDS,
	        .run_id = p->run_id,
	};
	return archive_write(ctx, &spec, name, ids, n);
}

/* The statistical values of an anonymised person: the fields the declaration marks
 * statistical and their records counted per type, as JSON text (heap). */
static int anonymize_stats(struct kctx *ctx, const struct part *p, int64_t id, json_t *attrs,
                           char **out)
{
	json_t *stats = json_object(), *counts = json_object();
	for (size_t c = 0; c < p->d->ncategories; c++)
		for (size_t i = 0; i < p->d->categories[c].nfields; i++) {
			const struct decl_field *f = &p->d->categories[c].fields[i];
			json_t *v = json_object_get(attrs, f->id);
			if (f->statistical && v)
				json_object_set(stats, f->id, v);
		}
	struct query *q = store_query(ctx->db, ST_REC_COUNTS);
	q_text(q, 1, p->rid);
	q_int(q, 2, id);
	int rc;
	while ((rc = q_step(q, ctx->err)) == 1)
		json_object_set_new(counts, q_col_text(q, 0), json_integer(q_col_int(q, 1)));
	q_done(q);
	if (json_object_size(counts))
		json_object_set(stats, "records", counts);
	*out = json_dumps(stats, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(counts);
	json_decref(stats);
	return rc < 0 ? rc : 0;
}

/* Applies the rule's action to person `id` (an archive package, when the action has one, is
 * already written). */
static int act_person(struct kctx *ctx, const struct part *p, int64_t id)
{
	const char *rule = p->rule->id;
	struct person_facts f = {0};
	char *stats = NULL;
	int rc = 0;
	switch (p->rule->action) {
	case RA_DELETE: return person_erase_tx(ctx, p->rid, id, "delete", rule);
	case RA_ARCHIVE_THEN_DELETE:
		if ((rc = usage_record(ctx, "archive", p->rid, "person", id, rule)))
			return rc;
		return person_erase_tx(ctx, p->rid, id, "delete", rule);
	case RA_ANONYMIZE:
		if ((rc = person_facts_load(ctx, p->rid, id, &f)) ||
		    (rc = anonymize_stats(ctx, p, id, f.attrs, &stats)))
			break;
		struct query *q = store_query(ctx->db, ST_RET_ANON_INSERT);
		q_text(q, 1, p->rid);
		q_text(q, 2, rule);
		q_text(q, 3, f.group);
		q_text(q, 4, stats);
		q_text(q, 5, p->today);
		if ((rc = q_exec(q, ctx->err)) == 0)
			rc = person_erase_tx(ctx, p->rid, id, "anonymize", rule);
		break;
	case RA_PASSIVATE:
		/* the same suppression list as an erasure request that passivates, so
		 * imports and creates skip the person whichever way they were passivated. */
		if ((rc = suppress_person(ctx, p->rid, id, rule)))
			break;
		rc = person_erase_tx(ctx, p->rid, id, "passivate", rule);
		break;
	default: break;
	}
	free(stats);
	json_decref(f.attrs);
	return rc;
}

/* Deletes record `id` of person `person_id` (a record keeps nothing statistical, so every
 * destroying action deletes it), logging the archiving first when there was one. */
static int act_record(struct kctx *ctx, const struct part *p, int64_t id, int64_t person_id)
{
	struct usage_entry e = {
	        .action = "archive",
	        .rid = p->rid,
	        .entity = "record",
	        .entity_id = id,
	        .subjects = &person_id,
	        .nsubjects = 1,
	        .reason = p->rule->id,
	};
	int rc;
	if (p->rule->action == RA_ARCHIVE_THEN_DELETE && (rc = usage_append(ctx, &e)))
		return rc;
	struct query *q = store_query(ctx->db, ST_REC_DELETE);
	q_text(q, 1, p->rid);
	q_int(q, 2, id);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	e.action = "delete";
	return usage_append(ctx, &e);
}

/*
 * Decides each candidate of c[0..n-1]: out of the rule's groups or not yet exactly due →
 * left alone uncounted; held or kept by an exception → counted; else acted on (unless
 * `dry`). With archive_then_delete the batch's package is written and verified before the
 * first deletion. `package` names it.
 */
static int decide(struct kctx *ctx, const struct part *p, const struct cand *c, size_t n, bool dry,
                  const char *package, struct tally *t)
{
	int64_t *ids = arena_alloc(ctx->mem, (n + 1) * sizeof(*ids));
	int64_t *owners = arena_alloc(ctx->mem, (n + 1) * sizeof(*owners));
	size_t nact = 0;
	int rc;
	for (size_t i = 0; i < n; i++) {
		bool held;
		if (!group_applies(p->rule, c[i].group) ||
		    !period_over(c[i].day, &p->rule->after, p->today))
			continue;
		t->examined++;
		if ((rc = is_held(ctx, p->rid, c[i].person_id, &held)))
			return rc;
		if (held) {
			t->held++;
			tally_sample(t, SAMPLE_HELD, c[i].id);
			continue;
		}
		if (p->rule->nexcept) {
			struct person_facts f;
			if ((rc = person_facts_load(ctx, p->rid, c[i].person_id, &f)))
				return rc;
			bool keep = excepted(p->rule, f.attrs);
			json_decref(f.attrs);
			if (keep) {
				t->excepted++;
				tally_sample(t, SAMPLE_EXCEPTED, c[i].id);
				continue;
			}
		}
		ids[nact] = c[i].id;
		owners[nact++] = c[i].person_id;
		tally_sample(t, SAMPLE_ACTED, c[i].id);
	}
	t->acted += (int64_t)nact;
	if (dry || !nact)
		return 0;
	if (p->rule->action == RA_ARCHIVE_THEN_DELETE) {
		if ((rc = package_write(ctx, p, package, ids, nact)))
			return rc;
		t->archived++;
	}
	for (size_t i = 0; i < nact; i++) {
		rc = p->kind == PART_RECORDS ? act_record(ctx, p, ids[i], owners[i])
		                             : act_person(ctx, p, ids[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* The parts of rule `r`: the persons, or each record type it names. */
static size_t rule_nparts(const struct decl_rule *r)
{
	return r->record_types.n ? r->record_types.n : 1;
}

static const char *rule_part(const struct decl_rule *r, size_t i)
{
	return r->record_types.n ? r->record_types.v[i] : NULL;
}

/* ---------------------------------------------------------------- plan */

static json_t *id_array(const int64_t *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

/* Counts what rule part `p` would do, batch by batch; what a batch allocates goes with it,
 * so a plan over a million persons needs no more memory than one batch. */
static int plan_part(struct kctx *ctx, struct part *p, json_t *parts, int batch)
{
	struct tally t = {0};
	struct cand *c = xcalloc((size_t)batch, sizeof(*c));
	struct arena *caller = ctx->mem, mem;
	char day[11] = "";
	int64_t cursor = 0;
	size_t n = 0;
	int rc = 0;
	arena_init(&mem);
	ctx->mem = &mem;
	do {
		arena_reset(&mem);
		if ((rc = fetch(ctx, p, day, cursor, batch, c, &n)) ||
		    (rc = decide(ctx, p, c, n, true, NULL, &t)))
			break;
		if (n) {
			snprintf(day, sizeof(day), "%s", c[n - 1].day);
			cursor = c[n - 1].id;
		}
	} while (n == (size_t)batch);
	ctx->mem = caller;
	arena_free(&mem);
	free(c);
	if (rc)
		return rc;
	json_array_append_new(
	        parts,
	        json_pack("{sssIsIsIsoso}", "part", p->name, "due", (json_int_t)t.acted, "held",
	                  (json_int_t)t.held, "excepted", (json_int_t)t.excepted, "sample",
	                  id_array(t.sample[SAMPLE_ACTED], t.nsample[SAMPLE_ACTED]),
	                  "sample_excepted",
	                  id_array(t.sample[SAMPLE_EXCEPTED], t.nsample[SAMPLE_EXCEPTED])));
	return 0;
}

/* ---------------------------------------------------------------- unconfirmed consents */

/*
 * M-01 and data minimisation. A consent given through a public form waits for its
 * confirmation CONSENT_CONFIRM_DAYS; once the link has expired the consent can never count,
 * so every run deletes it (with its text, time and client address) and, in the same
 * transaction, the person a public page added only for it once nothing else of theirs is
 * kept. Consents are read in id order, so a person's last expired consent is the one that
 * takes them along. The run and the plan report both under the rule id
 * DECL_RULE_UNCONFIRMED, which no declaration may use, as parts "consent" and "person". A
 * person on legal hold or restricted keeps their consents too, as every rule leaves them.
 */

static const struct decl_rule unconfirmed_rule = {
        .id = DECL_RULE_UNCONFIRMED,
        .has_after = true,
        .after = {.days = CONSENT_CONFIRM_DAYS},
        .action = RA_DELETE,
};

/* A consent that expired unconfirmed, and its person. */
struct ucand {
	int64_t id, person_id;
};

/* Sets up `p` as the consent part of the sweep in register `rid`, run `run` (0: the plan). */
static void unconfirmed_part(struct part *p, struct kctx *ctx, const char *rid, int64_t run)
{
	memset(p, 0, sizeof(*p));
	p->d = app_register(ctx->app, rid);
	p->rid = rid;
	p->rule = &unconfirmed_rule;
	p->kind = PART_RECORDS;
	p->name = "consent";
	p->run_id = run;
	time_format_date(ctx->now, p->today);
}

/* Reads up to `limit` consents expired at ctx->now after consent `cursor` into c[0..*n-1]. */
static int unconfirmed_fetch(struct kctx *ctx, const char *rid, int64_t cursor, int limit,
                             struct ucand *c, size_t *n)
{
	struct query *q = store_query(ctx->db, ST_RET_UNCONFIRMED);
	int rc;
	*n = 0;
	q_text(q, 1, rid);
	q_int(q, 2, cursor);
	q_text(q, 3, ctx->now_iso);
	q_int(q, 4, limit);
	while ((rc = q_step(q, ctx->err)) == 1) {
		c[*n].id = q_col_int(q, 0);
		c[*n].person_id = q_col_int(q, 1);
		(*n)++;
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

/* Whether person `pid` goes with their consent `cid` (deleted, or in the plan about to be):
 * added by a public page, and nothing else of theirs is kept. */
static int unconfirmed_lone(struct kctx *ctx, const char *rid, int64_t pid, int64_t cid, bool *lone)
{
	struct query *q = store_query(ctx->db, ST_RET_UNCONFIRMED_LONE);
	q_text(q, 1, rid);
	q_int(q, 2, pid);
	q_int(q, 3, cid);
	q_text(q, 4, ctx->now_iso);
	q_text(q, 5, ACTOR_ANON_NAME);
	int rc = q_step(q, ctx->err);
	q_done(q);
	*lone = rc == 1;
	return rc < 0 ? rc : 0;
}

/* Deletes consent `c` and logs it: the consent by id, its person as the subject, the rule id
 * as the reason (nothing of the consent's content). */
static int unconfirmed_delete(struct kctx *ctx, const char *rid, const struct ucand *c)
{
	struct query *q = store_query(ctx->db, ST_RET_UNCONFIRMED_DELETE);
	q_text(q, 1, rid);
	q_int(q, 2, c->id);
	q_text(q, 3, ctx->now_iso);
	int rc = q_exec(q, ctx->err);
	if (rc || store_changes(ctx->db) == 0)
		return rc;
	struct usage_entry e = {
	        .action = "delete",
	        .rid = rid,
	        .entity = "consent",
	        .entity_id = c->id,
	        .subjects = &c->person_id,
	        .nsubjects = 1,
	        .reason = DECL_RULE_UNCONFIRMED,
	};
	return usage_append(ctx, &e);
}

/*
 * Decides each consent of c[0..n-1]: one of a held or restricted person stays (counted
 * held); any other is deleted, and its person erased when nothing else of theirs is kept
 * (only counted when `dry`). `tc` counts the consents, `tp` the persons.
 */
static int unconfirmed_decide(struct kctx *ctx, const char *rid, const struct ucand *c, size_t n,
                              bool dry, struct tally *tc, struct tally *tp)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		bool held, lone;
		tc->examined++;
		if ((rc = is_held(ctx, rid, c[i].person_id, &held)))
			return rc;
		if (held) {
			tc->held++;
			tally_sample(tc, SAMPLE_HELD, c[i].id);
			continue;
		}
		if (!dry && (rc = unconfirmed_delete(ctx, rid, &c[i])))
			return rc;
		tc->acted++;
		tally_sample(tc, SAMPLE_ACTED, c[i].id);
		if ((rc = unconfirmed_lone(ctx, rid, c[i].person_id, c[i].id, &lone)))
			return rc;
		if (!lone)
			continue;
		tp->examined++;
		if (!dry && (rc = person_erase_tx(ctx, rid, c[i].person_id, "delete",
		                                  DECL_RULE_UNCONFIRMED)))
			return rc;
		tp->acted++;
		tally_sample(tp, SAMPLE_ACTED, c[i].person_id);
	}
	return 0;
}

static json_t *unconfirmed_counts(const char *part, const struct tally *t)
{
	return json_pack("{sssIsIsIsoso}", "part", part, "due", (json_int_t)t->acted, "held",
	                 (json_int_t)t->held, "excepted", (json_int_t)0, "sample",
	                 id_array(t->sample[SAMPLE_ACTED], t->nsample[SAMPLE_ACTED]),
	                 "sample_excepted", json_array());
}

/* Appends to `rules` what the sweep would delete in register `rid` now, batch by batch. */
static int unconfirmed_plan(struct kctx *ctx, const char *rid, json_t *rules, int batch)
{
	struct ucand *c = xcalloc((size_t)batch, sizeof(*c));
	struct tally tc = {0}, tp = {0};
	int64_t cursor = 0;
	size_t n = 0;
	char after[48];
	int rc;
	do {
		if ((rc = unconfirmed_fetch(ctx, rid, cursor, batch, c, &n)) ||
		    (rc = unconfirmed_decide(ctx, rid, c, n, true, &tc, &tp)))
			break;
		if (n)
			cursor = c[n - 1].id;
	} while (n == (size_t)batch);
	free(c);
	if (rc)
		return rc;
	duration_format(&unconfirmed_rule.after, after);
	json_t *parts = json_array();
	json_array_append_new(parts, unconfirmed_counts("consent", &tc));
	json_array_append_new(parts, unconfirmed_counts("person", &tp));
	json_array_append_new(rules, json_pack("{sssssssssoso}", "rule", unconfirmed_rule.id,
	                                       "action", "delete", "from", "consent_given", "after",
	                                       after, "parts", parts, "builtin", json_true()));
	return 0;
}

static int plan_register(struct kctx *ctx, const struct app_register *ar, json_t *regs)
{
	const struct decl *d = ar->decl;
	json_t *rules = json_array(), *holds = json_array();
	int batch = ctx->app->cfg.retention_batch;
	int rc = 0;
	json_array_append_new(
	        regs, json_pack("{sssoso}", "register", ar->id, "rules", rules, "holds", holds));
	for (size_t i = 0; i < d->retention.nrules && !rc; i++) {
		const struct decl_rule *r = &d->retention.rules[i];
		char after[48] = "";
		if (r->has_after)
			duration_format(&r->after, after);
		json_t *parts = json_array();
		json_t *o = json_pack("{sssssssoss*}", "rule", r->id, "action",
		                      decl_action_name(r->action), "from", from_names[r->from],
		                      "parts", parts, "after", r->has_after ? after : NULL);
		json_array_append_new(rules, o);
		for (size_t k = 0; k < rule_nparts(r) && !rc; k++) {
			struct part p;
			part_init(&p, ctx, d, ar->id, ar->version, r, rule_part(r, k));
			if (p.kind == PART_NOTE) {
				json_object_set_new(o, "note", json_string(p.note));
				continue;
			}
			rc = plan_part(ctx, &p, parts, batch);
		}
	}
	if (!rc)
		rc = unconfirmed_plan(ctx, ar->id, rules, batch);
	struct query *q = store_query(ctx->db, ST_RET_HOLDS_ACTIVE);
	q_text(q, 1, ar->id);
	int qr;
	while (!rc && (qr = q_step(q, ctx->err)) == 1)
		json_array_append_new(
		        holds, json_pack("{sIssss}", "person", (json_int_t)q_col_int(q, 1),
		                         "held_by", q_col_text(q, 2), "held_at", q_col_text(q, 3)));
	q_done(q);
	return rc ? rc : (qr < 0 ? qr : 0);
}

int retention_plan(struct kctx *ctx, const char *rid, json_t **out)
{
	const struct registry *reg = app_registers(ctx->app);
	json_t *regs = json_array();
	char today[11];
	int rc;
	*out = NULL;
	if ((rc = require_manager(ctx, rid, "see its retention plan")))
		goto fail;
	if (rid && !register_decl(ctx, rid)) {
		rc = KERR_NOTFOUND;
		goto fail;
	}
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		goto fail;
	for (size_t i = 0; i < reg->n && !rc; i++)
		if (!rid || strcmp(reg->v[i].id, rid) == 0)
			rc = plan_register(ctx, &reg->v[i], regs);
	if (rc) {
		store_rollback(ctx->db);
		goto fail;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto fail;
	/* The plan names persons (by id): that is a read of the register, logged. */
	rc = usage_read(ctx, &(struct usage_entry){.action = "retention-plan", .rid = rid});
	if (rc)
		goto fail;
	time_format_date(ctx->now, today);
	*out = json_pack("{ssso}", "as_of", today, "registers", regs);
	return 0;
fail:
	json_decref(regs);
	return rc;
}

/* ---------------------------------------------------------------- run */

/* Real time (not --now): when a run started and ended. */
static void wall_clock(char out[21])
{
	time_format_iso8601((int64_t)time(NULL), out);
}

/* Takes the run lock, a file lock on DATADIR/retention.lock that the kernel releases when
 * the process ends however it ends. Returns the descriptor, or KERR_BUSY / KERR_INTERNAL. */
static int lock_take(struct kctx *ctx, int *fd)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/retention.lock", ctx->app->datadir);
	*fd = open(buf_str(&path), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	buf_free(&path);
	if (*fd < 0)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "cannot open the retention lock: %s",
		                strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK)
			return kerr_set(ctx->err, KERR_BUSY, NULL,
			                "another retention run is in progress; try again when it "
			                "has finished");
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "cannot lock the retention lock: %s",
		                strerror(e));
	}
	return 0;
}

/* Continues the newest run killed while running when it was for the same registers and
 * day, else closes it as interrupted and starts a new run. *resumed tells which. */
static int run_open_tx(struct kctx *ctx, const char *rid, const char *as_of, int64_t *run,
                       bool *resumed)
{
	char wall[21];
	struct query *q = store_query(ctx->db, ST_RET_RUN_RUNNING);
	int64_t old = 0;
	bool same = false;
	int rc = q_step(q, ctx->err);
	if (rc == 1) {
		const char *orid = q_col_text(q, 1), *oday = q_col_text(q, 2);
		old = q_col_int(q, 0);
		same = ((!orid && !rid) || (orid && rid && strcmp(orid, rid) == 0)) && oday &&
		       strcmp(oday, as_of) == 0;
	}
	q_done(q);
	if (rc < 0)
		return rc;
	wall_clock(wall);
	*resumed = same;
	if (same) {
		*run = old;
		q = store_query(ctx->db, ST_RET_RUN_RESUME);
		q_int(q, 1, old);
		return q_exec(q, ctx->err);
	}
	if (old) {
		q = store_query(ctx->db, ST_RET_RUN_FINISH);
		q_int(q, 1, old);
		q_text(q, 2, "interrupted");
		q_text(q, 3, wall);
		if ((rc = q_exec(q, ctx->err)))
			return rc;
	}
	q = store_query(ctx->db, ST_RET_RUN_INSERT);
	q_text(q, 1, rid);
	q_text(q, 2, as_of);
	q_text(q, 3, ctx->actor->name);
	q_text(q, 4, wall);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	*run = store_last_id(ctx->db);
	return 0;
}

/* The progress row of a part (created when new): cursor and whether it is done. */
static int progress_get(struct kctx *ctx, const struct part *p, char day[11], int64_t *cursor,
                        bool *done)
{
	const char *action = p->kind == PART_NOTE ? "none" : decl_action_name(p->rule->action);
	struct query *q = store_query(ctx->db, ST_RET_PROGRESS_INSERT);
	q_int(q, 1, p->run_id);
	q_text(q, 2, p->rid);
	q_text(q, 3, p->rule->id);
	q_text(q, 4, p->name);
	q_text(q, 5, action);
	int rc = q_exec(q, ctx->err);
	if (rc)
		return rc;
	q = store_query(ctx->db, ST_RET_PROGRESS_GET);
	q_int(q, 1, p->run_id);
	q_text(q, 2, p->rid);
	q_text(q, 3, p->rule->id);
	q_text(q, 4, p->name);
	if ((rc = q_step(q, ctx->err)) == 1) {
		snprintf(day, 11, "%s", q_col_text(q, 0) ? q_col_text(q, 0) : "");
		*cursor = q_col_int(q, 1);
		*done = q_col_int(q, 2) != 0;
	}
	q_done(q);
	return rc < 0 ? rc : 0;
}

static int progress_put(struct kctx *ctx, const struct part *p, const char *day, int64_t cursor,
                        bool done, const struct tally *t)
{
	struct query *q = store_query(ctx->db, ST_RET_PROGRESS_UPDATE);
	q_int(q, 1, p->run_id);
	q_text(q, 2, p->rid);
	q_text(q, 3, p->rule->id);
	q_text(q, 4, p->name);
	q_text(q, 5, day);
	q_int(q, 6, cursor);
	q_int(q, 7, done);
	q_int(q, 8, t->examined);
	q_int(q, 9, t->acted);
	q_int(q, 10, t->excepted);
	q_int(q, 11, t->held);
	q_int(q, 12, t->archived);
	return q_exec(q, ctx->err);
}

/* Ends a batch's write transaction: commits it and adds its tally `t` to *total, or on an
 * error `rc` rolls it back (and the search-index words it queued) and returns `rc`. */
static int batch_finish(struct kctx *ctx, int rc, struct tally *total, const struct tally *t)
{
	if (rc) {
		search_batch_truncate(ctx->search_batch, 0);
		store_rollback(ctx->db);
		return rc;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		return rc;
	total->examined += t->examined;
	total->acted += t->acted;
	return 0;
}

/* One batch of a part in its own write transaction, with `buf` room for `batch` candidates;
 * *done when the part is finished. */
typedef int (*batch_fn)(struct kctx *ctx, struct part *p, int batch, void *buf, struct tally *total,
                        bool *done);

static int run_batch(struct kctx *ctx, struct part *p, int batch, void *buf, struct tally *total,
                     bool *done)
{
	struct cand *c = buf;
	char day[11] = "";
	int64_t cursor = 0;
	struct tally t = {0};
	size_t n = 0;
	int rc;
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = progress_get(ctx, p, day, &cursor, done)) || *done)
		goto out;
	if (p->kind == PART_NOTE) {
		*done = true;
		rc = progress_put(ctx, p, "", 0, true, &t);
		goto out;
	}
	if ((rc = fetch(ctx, p, day, cursor, batch, c, &n)))
		goto out;
	char *package = arena_printf(ctx->mem, "%s-run%" PRId64 "-%s-%s-from%" PRId64, p->today,
	                             p->run_id, p->rule->id, p->name, n ? c[0].id : 0);
	/* The batch's index removals are written together at its end: FTS5 writes out its
	 * pending changes at every statement that follows one, which would make one tiny index
	 * segment per person. */
	if ((rc = decide(ctx, p, c, n, false, package, &t)) || (rc = search_flush(ctx)))
		goto out;
	*done = n < (size_t)batch;
	if (n) {
		snprintf(day, sizeof(day), "%s", c[n - 1].day);
		cursor = c[n - 1].id;
	}
	rc = progress_put(ctx, p, day, cursor, *done, &t);
out:
	return batch_finish(ctx, rc, total, &t);
}

/* One batch of the sweep: the consent part `p` and the person part commit together. */
static int unconfirmed_batch(struct kctx *ctx, struct part *p, int batch, void *buf,
                             struct tally *total, bool *done)
{
	struct ucand *c = buf;
	struct part persons = *p;
	struct tally tc = {0}, tp = {0};
	char day[11] = "";
	int64_t cursor = 0, pcursor = 0;
	bool pdone = false;
	size_t n = 0;
	int rc;
	persons.kind = PART_PERSONS;
	persons.name = "person";
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	if ((rc = progress_get(ctx, p, day, &cursor, done)) ||
	    (rc = progress_get(ctx, &persons, day, &pcursor, &pdone)) || *done)
		goto out;
	if ((rc = unconfirmed_fetch(ctx, p->rid, cursor, batch, c, &n)) ||
	    (rc = unconfirmed_decide(ctx, p->rid, c, n, false, &tc, &tp)) ||
	    (rc = search_flush(ctx)))
		goto out;
	*done = n < (size_t)batch;
	if (n)
		cursor = c[n - 1].id;
	if ((rc = progress_put(ctx, p, "", cursor, *done, &tc)))
		goto out;
	rc = progress_put(ctx, &persons, "", 0, *done, &tp);
out:
	return batch_finish(ctx, rc, total, &tc);
}

/* Runs part `p` batch by batch through `step`, whose candidates are `size` bytes each, until
 * it is done or o->stop is set (*stopped). */
static int run_part(struct kctx *ctx, struct part *p, const struct retention_opts *o, int batch,
                    struct arena *mem, bool *stopped, batch_fn step, size_t size)
{
	void *c = xcalloc((size_t)batch, size);
	struct tally total = {0};
	bool done = false;
	int rc = 0;
	while (!done && !rc) {
		if (o->stop && atomic_load(o->stop)) {
			*stopped = true;
			break;
		}
		arena_reset(mem);
		if ((rc = step(ctx, p, batch, c, &total, &done)))
			break;
		if (o->progress)
			o->progress(o->progress_arg, p->rid, p->rule->id, p->name, total.examined,
			            total.acted);
		if (!done && o->pause_ms > 0) {
			struct timespec ts = {o->pause_ms / 1000,
			                      (long)(o->pause_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	free(c);
	return rc;
}

/* The summary of run `id` as retention_runs() shows it. */
static int run_summary(struct query *q, json_t **out)
{
	int64_t id = q_col_int(q, 0);
	json_t *rules = json_array();
	*out = json_pack("{sIss?ssssssss?sssIso}", "id", (json_int_t)id, "register",
	                 q_col_text(q, 1), "as_of", q_col_text(q, 2), "actor", q_col_text(q, 3),
	                 "started_at", q_col_text(q, 4), "finished_at", q_col_text(q, 5), "status",
	                 q_col_text(q, 6), "resumed", (json_int_t)q_col_int(q, 7), "rules", rules);
	return id > 0 ? 0 : KERR_INTERNAL;
}

static int run_rules(struct kctx *ctx, int64_t id, json_t *rules)
{
	struct query *q = store_query(ctx->db, ST_RET_PROGRESS_LIST);
	int rc;
	q_int(q, 1, id);
	while ((rc = q_step(q, ctx->err)) == 1)
		json_array_append_new(
		        rules,
		        json_pack("{sssssssssbsIsIsIsIsI}", "register", q_col_text(q, 0), "rule",
		                  q_col_text(q, 1), "part", q_col_text(q, 2), "action",
		                  q_col_text(q, 3), "done", q_col_int(q, 4) != 0, "examined",
		                  (json_int_t)q_col_int(q, 5), "acted", (json_int_t)q_col_int(q, 6),
		                  "excepted", (json_int_t)q_col_int(q, 7), "held",
		                  (json_int_t)q_col_int(q, 8), "archived",
		                  (json_int_t)q_col_int(q, 9)));
	q_done(q);
	return rc < 0 ? rc : 0;
}

/* Reads up to `limit` runs with ids below `before` into array `out`. */
static int runs_read(struct kctx *ctx, int64_t before, int limit, json_t *out)
{
	struct query *q = store_query(ctx->db, ST_RET_RUN_LIST);
	int rc;
	q_int(q, 1, before > 0 ? before : INT64_MAX);
	q_int(q, 2, limit);
	while ((rc = q_step(q, ctx->err)) == 1) {
		json_t *r;
		run_summary(q, &r);
		json_array_append_new(out, r);
	}
	q_done(q);
	size_t i;
	json_t *r;
	json_array_foreach (out, i, r) {
		if (rc < 0)
			break;
		rc = run_rules(ctx, json_integer_value(json_object_get(r, "id")),
		               json_object_get(r, "rules"));
	}
	return rc < 0 ? rc : 0;
}

int retention_runs(struct kctx *ctx, int64_t before, int limit, json_t **out)
{
	json_t *a = json_array();
	int rc;
	*out = NULL;
	if (ctx->actor->kind != ACTOR_OPERATOR && ctx->actor->kind != ACTOR_SYSTEM) {
		rc = kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
		              "only the operator may list retention runs");
		goto fail;
	}
	if ((rc = store_begin_read(ctx->db, ctx->err)))
		goto fail;
	rc = runs_read(ctx, before, limit > 0 ? limit : 20, a);
	store_rollback(ctx->db);
	if (rc)
		goto fail;
	*out = a;
	return 0;
fail:
	json_decref(a);
	return rc;
}

static int run_finish(struct kctx *ctx, int64_t run, const char *status)
{
	char wall[21];
	wall_clock(wall);
	struct query *q;
	int rc;
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		return rc;
	q = store_query(ctx->db, ST_RET_RUN_FINISH);
	q_int(q, 1, run);
	q_text(q, 2, status);
	q_text(q, 3, wall);
	if ((rc = q_exec(q, ctx->err))) {
		store_rollback(ctx->db);
		return rc;
	}
	return store_commit(ctx->db, ctx->err);
}

int retention_run(struct kctx *ctx, const struct retention_opts *o, json_t **out)
{
	const struct registry *reg = app_registers(ctx->app);
	struct kctx sys = *ctx;
	struct arena mem;
	char as_of[11];
	int64_t run = 0;
	bool resumed = false, stopped = false;
	int fd = -1, rc;
	int batch = o->batch > 0 ? o->batch : ctx->app->cfg.retention_batch;

	if (out)
		*out = NULL;
	if (ctx->actor->kind != ACTOR_OPERATOR && ctx->actor->kind != ACTOR_SYSTEM)
		return kerr_set(ctx->err, KERR_FORBIDDEN, NULL,
		                "only the operator or the server's own sweep may run retention");
	if (o->rid && !register_decl(ctx, o->rid))
		return KERR_NOTFOUND;
	if ((rc = lock_take(ctx, &fd)))
		return rc;
	time_format_date(ctx->now, as_of);
	if ((rc = store_begin_write(ctx->db, ctx->err)))
		goto out;
	if ((rc = run_open_tx(ctx, o->rid, as_of, &run, &resumed))) {
		store_rollback(ctx->db);
		goto out;
	}
	if ((rc = store_commit(ctx->db, ctx->err)))
		goto out;

	/* Every action is the system's, not the operator's who started the run. */
	arena_init(&mem);
	sys.actor = &retention_actor;
	sys.mem = &mem;
	sys.purpose = NULL;
	sys.search_batch = search_batch_new();
	for (size_t i = 0; i < reg->n && !rc; i++) {
		const struct app_register *ar = &reg->v[i];
		if (o->rid && strcmp(ar->id, o->rid) != 0)
			continue;
		for (size_t r = 0; r < ar->decl->retention.nrules && !rc; r++) {
			const struct decl_rule *rule = &ar->decl->retention.rules[r];
			for (size_t k = 0; k < rule_nparts(rule) && !rc; k++) {
				struct part p;
				part_init(&p, ctx, ar->decl, ar->id, ar->version, rule,
				          rule_part(rule, k));
				p.run_id = run;
				rc = run_part(&sys, &p, o, batch, &mem, &stopped, run_batch,
				              sizeof(struct cand));
				if (stopped)
					goto stop;
			}
		}
		if (!rc) {
			struct part p;
			unconfirmed_part(&p, ctx, ar->id, run);
			rc = run_part(&sys, &p, o, batch, &mem, &stopped, unconfirmed_batch,
			              sizeof(struct ucand));
			if (stopped)
				goto stop;
		}
		/* Survey answers and raffle entries are tied to no person: survey.c deletes those
		 * past their declared periods (L-03, L-04), logged as this run's actor. */
		if (!rc)
			rc = survey_expire(&sys, ar->id, as_of, NULL, NULL);
	}
stop:
	search_batch_free(sys.search_batch);
	arena_free(&mem);
	/* Erased words must leave the search index now, not at the server's next purge. */
	if (!rc)
		rc = search_purge(ctx, NULL);
	if (!stopped) {
		int frc = run_finish(ctx, run, rc ? "failed" : "done");
		rc = rc ? rc : frc;
	}
	if (out && run) {
		json_t *a = json_array();
		struct kerr keep = *ctx->err;
		if (store_begin_read(ctx->db, ctx->err) == 0) {
			if (runs_read(ctx, run + 1, 1, a) == 0 && json_array_size(a) == 1) {
				*out = json_incref(json_array_get(a, 0));
				json_object_set_new(*out, "continued", json_boolean(resumed));
			}
			store_rollback(ctx->db);
		}
		if (rc)
			*ctx->err = keep;
		json_decref(a);
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---------------------------------------------------------------- legal holds */

static int hold_tx(struct kctx *ctx, const char *rid, int64_t person_id, const char *reason)
{
	const char *group, *lce;
	int rc;
	if ((rc = person_state(ctx, rid, person_id, &group, &lce)))
		return rc;
	struct query *q = store_query(ctx->db, ST_RET_HOLD_INSERT);
	q_text(q, 1, rid);
	q_int(q, 2, person_id);
	q_text(q, 3, reason);
	q_text(q, 4, ctx->actor->name);
	q_text(q, 5, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)) == KERR_CONFLICT) {
		kerr_clear(ctx->err);
		return kerr_set(ctx->err, KERR_CONFLICT, "person",
		                "person %" PRId64 " is already on legal hold in register '%s'",
		                person_id, rid);
	}
	return rc ? rc : usage_record(ctx, "hold", rid, "person", person_id, NULL);
}

int retention_hold(struct kctx *ctx, const char *rid, int64_t person_id, const char *reason)
{
	int rc;
	if (!register_decl(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = require_manager(ctx, rid, "put persons on legal hold")))
		return rc;
	if (!reason || !*reason || strlen(reason) > 500)
		return kerr_set(ctx->err, KERR_INVALID, "reason",
		                "reason: required, at most 500 characters");
	IN_WRITE_TX(ctx, hold_tx(ctx, rid, person_id, reason));
}

static int release_tx(struct kctx *ctx, const char *rid, int64_t person_id)
{
	struct query *q = store_query(ctx->db, ST_RET_HOLD_RELEASE);
	int rc;
	q_text(q, 1, rid);
	q_int(q, 2, person_id);
	q_text(q, 3, ctx->actor->name);
	q_text(q, 4, ctx->now_iso);
	if ((rc = q_exec(q, ctx->err)))
		return rc;
	if (store_changes(ctx->db) == 0)
		return kerr_set(ctx->err, KERR_NOTFOUND, "person",
		                "person %" PRId64 " is not on legal hold in register '%s'",
		                person_id, rid);
	return usage_record(ctx, "release", rid, "person", person_id, NULL);
}

int retention_release(struct kctx *ctx, const char *rid, int64_t person_id)
{
	int rc;
	if (!register_decl(ctx, rid))
		return KERR_NOTFOUND;
	if ((rc = require_manager(ctx, rid, "release legal holds")))
		return rc;
	IN_WRITE_TX(ctx, release_tx(ctx, rid, person_id));
}

/* ---------------------------------------------------------------- L-05 at once */

int retention_affiliation_ended_tx(struct kctx *ctx, const char *rid, int64_t person_id,
                                   bool *acted)
{
	const struct decl *d = app_register(ctx->app, rid);
	struct kctx sys = *ctx;
	int rc = 0;
	if (acted)
		*acted = false;
	if (!d)
		return 0;
	sys.actor = &retention_actor;
	for (size_t i = 0; i < d->retention.nrules; i++) {
		const struct decl_rule *r = &d->retention.rules[i];
		const char *group = NULL, *lce = NULL, *last_end = NULL;
		bool held, open;
		struct part p;
		if (r->from != RF_AFFILIATION_END || r->record_types.n)
			continue;
		part_init(&p, ctx, d, rid, 0, r, NULL);
		if (p.kind != PART_PERSONS)
			continue;
		if ((rc = person_state(ctx, rid, person_id, &group, &lce)) ||
		    (rc = is_held(ctx, rid, person_id, &held)) ||
		    (rc = affiliation_state(ctx, rid, person_id, p.today, &open, &last_end)))
			return rc;
		if (held || open || !group_applies(r, group) ||
		    !period_over(last_end, &r->after, p.today))
			continue;
		if (r->nexcept) {
			struct person_facts f;
			if ((rc = person_facts_load(ctx, rid, person_id, &f)))
				return rc;
			bool keep = excepted(r, f.attrs);
			json_decref(f.attrs);
			if (keep)
				continue;
		}
		if (r->action == RA_ARCHIVE_THEN_DELETE) {
			const char *name = arena_printf(ctx->mem, "%s-%s-person-%" PRId64, p.today,
			                                r->id, person_id);
			if ((rc = package_write(&sys, &p, name, &person_id, 1)))
				return rc;
		}
		if ((rc = act_person(&sys, &p, person_id)))
			return rc;
		if (acted)
			*acted = true;
		return 0;
	}
	return rc;
}
