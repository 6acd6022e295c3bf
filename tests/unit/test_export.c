/*
 * Unit tests for src/core/export.c: the data subject's access export and portability
 * export (R-10), their CSV and letter, who may make them and how they are logged (S-04).
 * Every record is made through the core calls staff would use; what was logged is checked
 * through the fixture's second, read-only connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/disclosure.h"
#include "audit/usage.h"
#include "core/account.h"
#include "core/affiliation.h"
#include "core/app.h"
#include "core/consent.h"
#include "core/ctx.h"
#include "core/event.h"
#include "core/export.h"
#include "core/mailing.h"
#include "core/org.h"
#include "core/person.h"
#include "core/request.h"
#include "core/retention.h"
#include "core/service.h"
#include "decl/decl.h"
#include "decl/notice_text.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/kerr.h"

#include "fixture.h"

#define RAUMA "rauma-crm"
#define KEMI  "kemi-crm"
#define ESPOO "espoo-talent-hub"

#define HETU_A "131052-308T" /* DOMAIN.md §5 */
#define HETU_B "010203A1230" /* built with the check rule of DOMAIN.md §5 */

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",
        "registers/kemi-crm.yaml",
        "registers/espoo-talent-hub.yaml",
};

/* ---------------------------------------------------------------- helpers */

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
	return j;
}

static int64_t person_ok(struct fx *f, const char *rid, const char *json)
{
	json_t *in = parse(json);
	int64_t id = 0;
	fresh(f);
	int rc = person_create(&f->ctx, rid, in, &id);
	json_decref(in);
	if (rc)
		fail_msg("person_create(%s) = %d: %s", json, rc, f->err.message);
	return id;
}

static void person_update_ok(struct fx *f, const char *rid, int64_t id, const char *json)
{
	json_t *in = parse(json);
	fresh(f);
	int rc = person_update(&f->ctx, rid, id, in);
	json_decref(in);
	if (rc)
		fail_msg("person_update(%s) = %d: %s", json, rc, f->err.message);
}

static json_t *export_ok(struct fx *f, const char *rid, int64_t id, unsigned flags)
{
	json_t *out = NULL;
	fresh(f);
	int rc = export_subject(&f->ctx, rid, id, flags, &out);
	if (rc)
		fail_msg("export_subject(%s, %" PRId64 ") = %d: %s", rid, id, rc, f->err.message);
	assert_non_null(out);
	return out;
}

static int64_t usage_count(struct fx *f)
{
	return raw_int(f, "SELECT count(*) FROM usage_log", "");
}

/* The element of array `list` whose member `key` is the string `value`, or NULL. */
static json_t *find_in(json_t *list, const char *key, const char *value)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *s = json_string_value(json_object_get(v, key));
		if (s && strcmp(s, value) == 0)
			return v;
	}
	return NULL;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

#define CONSENTING "\"subject_group\": \"consenting_person\""

/* One subject with something in every part of the export, and a second subject beside
 * them. Returns the first; *other gets the second. */
static int64_t full_subject(struct fx *f, int64_t *other)
{
	int64_t p =
	        person_ok(f, RAUMA,
	                  "{" CONSENTING ", \"source\": \"customer\", \"first_name\": \"Päivi\","
	                  " \"last_name\": \"Virtanen\", \"email\": \"paivi@example.fi\","
	                  " \"phone\": \"040 123 4567\", \"hetu\": \"" HETU_A "\","
	                  " \"birth_date\": \"1952-10-13\"}");
	*other = person_ok(f, RAUMA,
	                   "{" CONSENTING ", \"source\": \"customer\", \"first_name\": \"Toinen\","
	                   " \"last_name\": \"Naapuri\", \"email\": \"toinen@example.fi\","
	                   " \"hetu\": \"" HETU_B "\"}");
	person_update_ok(
	        f, RAUMA, p,
	        "{\"last_name\": \"Virtanen-Koski\", \"email\": \"paivi.koski@example.fi\","
	        " \"reason\": \"name change\"}");

	json_t *in = parse("{\"name\": \"Satama Oy\", \"ytunnus\": \"0112038-9\","
	                   " \"source\": \"public_web\"}");
	int64_t oid = 0, aid = 0;
	fresh(f);
	assert_int_equal(org_create(&f->ctx, RAUMA, in, &oid), 0);
	json_decref(in);
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"organisation_id\": %" PRId64 ","
	         " \"title\": \"satamakapteeni\", \"start_date\": \"2020-01-01\"}",
	         p, oid);
	in = parse(body);
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, RAUMA, in, &aid), 0);
	json_decref(in);
	in = parse("{\"title\": \"satamajohtaja\"}");
	fresh(f);
	assert_int_equal(affiliation_update(&f->ctx, RAUMA, aid, in), 0);
	json_decref(in);

	static const char *const cats[] = {"identity"};
	int64_t mine[] = {p}, theirs[] = {*other};
	struct disclosure_in d = {
	        .recipient = "partners",
	        .purpose = "municipal_services",
	        .legal_basis = "asiakkaan suostumus",
	        .categories = cats,
	        .ncategories = 1,
	        .subjects = mine,
	        .nsubjects = 1,
	};
	int64_t did = 0;
	fresh(f);
	if (disclosure_record(&f->ctx, RAUMA, &d, &did))
		fail_msg("disclosure_record: %s", f->err.message);
	d.subjects = theirs;
	d.purpose = "customer_contact";
	fresh(f);
	if (disclosure_record(&f->ctx, RAUMA, &d, &did))
		fail_msg("disclosure_record: %s", f->err.message);

	/* A viewer looks at the subject and finds them in a search; the other is only read. */
	kctx_set_now(&f->ctx, NOW + 3600);
	fx_as_user(f, "ville", RAUMA, ROLE_VIEWER);
	f->ctx.purpose = "customer_contact";
	json_t *got = NULL;
	fresh(f);
	assert_int_equal(person_get(&f->ctx, RAUMA, p, 0, &got), 0);
	json_decref(got);
	fresh(f);
	assert_int_equal(person_find(&f->ctx, RAUMA, "virtanen", NULL, NULL, 10, &got), 0);
	json_decref(got);
	fresh(f);
	assert_int_equal(person_get(&f->ctx, RAUMA, *other, 0, &got), 0);
	json_decref(got);
	fx_as_operator(f);
	kctx_set_now(&f->ctx, NOW + 7200);
	return p;
}

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
	struct fx *f = fixture_open("export", register_files,
	                            sizeof(register_files) / sizeof(register_files[0]));
	*state = f;
	return f ? 0 : -1;
}

/* ---------------------------------------------------------------- */

/* proves R-01: the access export holds every contact point, attribute, affiliation,
 * change-history entry, disclosure and staff read of the subject, sensitive values in full. */
static void test_access_export_contains_everything(void **state)
{
	struct fx *f = *state;
	int64_t other = 0;
	int64_t p = full_subject(f, &other);

	json_t *x = export_ok(f, RAUMA, p, 0);
	assert_string_equal(str(x, "kind"), "access");
	assert_string_equal(str(json_object_get(x, "register"), "id"), RAUMA);
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(x, "register"), "version")), 1);
	assert_string_equal(str(x, "generated_at"), f->ctx.now_iso);

	json_t *s = json_object_get(x, "subject");
	assert_int_equal(json_integer_value(json_object_get(s, "id")), p);
	assert_string_equal(str(json_object_get(s, "names"), "first_name"), "Päivi");
	assert_string_equal(str(json_object_get(s, "names"), "last_name"), "Virtanen-Koski");
	assert_string_equal(str(json_object_get(s, "subject_group"), "id"), "consenting_person");
	assert_string_equal(str(json_object_get(s, "legal_basis"), "basis"), "a");
	assert_non_null(str(json_object_get(s, "legal_basis"), "text"));
	assert_string_equal(str(json_object_get(s, "source"), "id"), "customer");
	assert_string_equal(str(json_object_get(s, "source"), "kind"), "subject");
	assert_string_equal(str(s, "status"), "active");
	assert_non_null(str(s, "created_at"));

	/* The henkilötunnus and the sensitive birth date in full: the subject's own copy. */
	json_t *attrs = json_object_get(s, "attributes");
	json_t *hetu = find_in(attrs, "field", "hetu");
	assert_non_null(hetu);
	assert_string_equal(str(hetu, "value"), HETU_A);
	assert_true(json_is_true(json_object_get(hetu, "sensitive")));
	assert_non_null(str(hetu, "label"));
	json_t *born = find_in(attrs, "field", "birth_date");
	assert_non_null(born);
	assert_string_equal(str(born, "value"), "1952-10-13");
	assert_string_equal(str(born, "category"), "identifiers");

	json_t *cps = json_object_get(x, "contact_points");
	assert_int_equal(json_array_size(cps), 2);
	json_t *email = find_in(cps, "kind", "email");
	assert_string_equal(str(email, "value"), "paivi.koski@example.fi");
	assert_string_equal(str(email, "source"), "customer");
	assert_string_equal(str(email, "collected_by"), "operator:test");
	assert_non_null(str(email, "collected_at"));
	assert_string_equal(str(find_in(cps, "kind", "phone"), "value"), "+358401234567");

	json_t *affs = json_object_get(x, "affiliations");
	assert_int_equal(json_array_size(affs), 1);
	json_t *aff = json_array_get(affs, 0);
	assert_string_equal(str(aff, "title"), "satamajohtaja");
	assert_string_equal(str(json_object_get(aff, "organisation"), "name"), "Satama Oy");
	assert_string_equal(str(json_object_get(aff, "organisation"), "ytunnus"), "0112038-9");

	json_t *hist = json_object_get(x, "change_history");
	json_t *ln = find_in(hist, "field", "last_name");
	assert_non_null(ln);
	assert_string_equal(str(ln, "old"), "Virtanen");
	assert_string_equal(str(ln, "new"), "Virtanen-Koski");
	assert_string_equal(str(ln, "actor"), "operator:test");
	assert_string_equal(str(ln, "reason"), "name change");
	assert_non_null(str(ln, "at"));
	assert_non_null(find_in(hist, "field", "email"));
	json_t *title = find_in(hist, "field", "title");
	assert_non_null(title);
	assert_string_equal(str(title, "entity"), "affiliation");
	assert_string_equal(str(title, "new"), "satamajohtaja");

	json_t *disc = json_object_get(x, "disclosures");
	assert_int_equal(json_array_size(disc), 1);
	json_t *d0 = json_array_get(disc, 0);
	assert_string_equal(str(json_object_get(d0, "recipient"), "id"), "partners");
	assert_non_null(str(json_object_get(d0, "recipient"), "name"));
	assert_string_equal(str(d0, "purpose"), "municipal_services");
	assert_string_equal(str(d0, "legal_basis"), "asiakkaan suostumus");
	assert_string_equal(str(json_array_get(json_object_get(d0, "categories"), 0), "id"),
	                    "identity");

	/* Who looked: the viewer's read and search, besides the staff changes. */
	json_t *usage = json_object_get(x, "usage_log");
	size_t i, reads = 0, searches = 0;
	json_t *u;
	json_array_foreach (usage, i, u) {
		if (strcmp(str(u, "actor"), "user:ville") != 0)
			continue;
		reads += strcmp(str(u, "action"), "read") == 0;
		searches += strcmp(str(u, "action"), "search") == 0;
		assert_string_equal(str(u, "purpose"), "customer_contact");
		assert_non_null(str(u, "at"));
	}
	assert_int_equal(reads, 1);
	assert_int_equal(searches, 1);
	assert_non_null(find_in(usage, "action", "create"));
	assert_non_null(find_in(usage, "action", "update"));
	assert_non_null(find_in(usage, "action", "disclose"));
	/* The parts this subject has nothing in are there, empty. */
	static const char *const empty[] = {
	        "consents",       "subscriptions",      "marketing_bans",      "records",
	        "requests",       "mailings",           "event_registrations", "event_attendance",
	        "event_meetings", "event_chat_messages"};
	for (size_t e = 0; e < sizeof(empty) / sizeof(empty[0]); e++) {
		if (!json_is_array(json_object_get(x, empty[e])))
			fail_msg("the export lacks '%s'", empty[e]);
		assert_int_equal(json_array_size(json_object_get(x, empty[e])), 0);
	}
	json_decref(x);
}

/* proves R-01: nothing of another subject appears in an export. */
static void test_other_subject_never_appears(void **state)
{
	struct fx *f = *state;
	int64_t other = 0;
	int64_t p = full_subject(f, &other);

	json_t *x = export_ok(f, RAUMA, p, 0);
	char *text = json_dumps(x, JSON_COMPACT);
	static const char *const theirs[] = {"Toinen", "Naapuri", "toinen@example.fi", HETU_B,
	                                     "customer_contact\",\"legal_basis\""};
	for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
		if (strstr(text, theirs[i]))
			fail_msg("the export of %" PRId64 " holds '%s' of %" PRId64, p, theirs[i],
			         other);
	free(text);
	/* The viewer read the other subject too: that read is not in this export. */
	size_t i;
	json_t *u;
	size_t reads = 0;
	json_array_foreach (json_object_get(x, "usage_log"), i, u)
		reads += strcmp(str(u, "action"), "read") == 0;
	assert_int_equal(reads, 1);
	json_decref(x);

	/* And the other's export has none of the first's. */
	x = export_ok(f, RAUMA, other, 0);
	text = json_dumps(x, JSON_COMPACT);
	assert_null(strstr(text, "Päivi"));
	assert_null(strstr(text, HETU_A));
	assert_null(strstr(text, "Satama"));
	assert_int_equal(json_array_size(json_object_get(x, "affiliations")), 0);
	assert_int_equal(json_array_size(json_object_get(x, "disclosures")), 1);
	free(text);
	json_decref(x);
}

/* proves R-01 and S-04: the export is itself a logged read of the person, and holds no
 * personal data in the log. */
static void test_export_is_logged(void **state)
{
	struct fx *f = *state;
	int64_t other = 0;
	int64_t p = full_subject(f, &other);
	int64_t before = usage_count(f);

	json_t *x = export_ok(f, RAUMA, p, 0);
	json_decref(x);
	assert_int_equal(usage_count(f), before + 1);
	char buf[128];
	int64_t last = raw_int(f, "SELECT max(id) FROM usage_log", "");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT action FROM usage_log WHERE id = ?1", last),
	        "export");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT entity FROM usage_log WHERE id = ?1", last),
	        "person");
	assert_int_equal(raw_int(f, "SELECT entity_id FROM usage_log WHERE id = ?1", "i", last), p);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT register_id FROM usage_log WHERE id = ?1", last),
	                    RAUMA);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT purpose FROM usage_log WHERE id = ?1", last),
	        EXPORT_PURPOSE);
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT reason FROM usage_log WHERE id = ?1", last),
	        "access");
	assert_string_equal(
	        raw_text(f, buf, sizeof(buf), "SELECT actor FROM usage_log WHERE id = ?1", last),
	        "operator:test");
	/* Found by person, as `audit show --subject` finds it. */
	char match[32];
	snprintf(match, sizeof(match), "\"%" PRId64 "\"", p);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_subjects WHERE usage_subjects MATCH ?1"
	                         " AND rowid = ?2",
	                         "si", match, last),
	                 1);
	/* Ids only: nothing of the subject's data is in the log. */
	static const char *const pii[] = {HETU_A, "Päivi", "paivi.koski@example.fi"};
	for (size_t i = 0; i < sizeof(pii) / sizeof(pii[0]); i++)
		assert_int_equal(
		        raw_int(f,
		                "SELECT count(*) FROM usage_log WHERE instr(actor || action"
		                " || coalesce(purpose, '') || coalesce(entity, '')"
		                " || coalesce(subjects, '') || coalesce(reason, ''), ?1) > 0",
		                "s", pii[i]),
		        0);

	/* The next export lists the first one among the uses of the data. */
	x = export_ok(f, RAUMA, p, 0);
	assert_non_null(find_in(json_object_get(x, "usage_log"), "action", "export"));
	json_decref(x);

	/* A purpose the caller gave is kept. */
	f->ctx.purpose = "customer_relationship";
	x = export_ok(f, RAUMA, p, 0);
	json_decref(x);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT purpose FROM usage_log WHERE id = ?1",
	                             raw_int(f, "SELECT max(id) FROM usage_log", "")),
	                    "customer_relationship");
	f->ctx.purpose = NULL;
}

/* proves R-01 and S-01: only a manager of the register or the operator may export; a refused
 * export returns nothing and logs nothing. */
static void test_only_manager_or_operator(void **state)
{
	struct fx *f = *state;
	int64_t p = person_ok(
	        f, RAUMA, "{" CONSENTING ", \"source\": \"customer\", \"first_name\": \"Aino\"}");
	static const struct {
		const char *name, *rid;
		enum role role;
		int rc;
	} who[] = {
	        {"viewer1", RAUMA, ROLE_VIEWER, KERR_FORBIDDEN},
	        {"editor1", RAUMA, ROLE_EDITOR, KERR_FORBIDDEN},
	        {"kemimanager", KEMI, ROLE_MANAGER, KERR_FORBIDDEN},
	        {"manager1", RAUMA, ROLE_MANAGER, 0},
	};
	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		fx_as_user(f, who[i].name, who[i].rid, who[i].role);
		int64_t before = usage_count(f);
		json_t *out = NULL;
		fresh(f);
		int rc = export_subject(&f->ctx, RAUMA, p, 0, &out);
		if (rc != who[i].rc)
			fail_msg("%s: export = %d, want %d (%s)", who[i].name, rc, who[i].rc,
			         f->err.message);
		if (rc) {
			assert_null(out);
			assert_int_equal(usage_count(f), before);
			assert_non_null(strstr(f->err.message, "manager"));
		} else {
			assert_non_null(out);
			assert_int_equal(usage_count(f), before + 1);
			char buf[64];
			assert_string_equal(
			        raw_text(f, buf, sizeof(buf),
			                 "SELECT actor FROM usage_log WHERE id = ?1",
			                 raw_int(f, "SELECT max(id) FROM usage_log", "")),
			        "user:manager1");
		}
		json_decref(out);
	}
	/* Portability is refused to a viewer the same way, before anything about the basis. */
	fx_as_user(f, "viewer2", RAUMA, ROLE_VIEWER);
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, RAUMA, p, EXPORT_PORTABLE, &out), KERR_FORBIDDEN);

	/* A system job and an anonymous caller are not managers either. */
	f->actor = (struct actor){ACTOR_SYSTEM, "system:retention", 0, 0};
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, RAUMA, p, 0, &out), KERR_FORBIDDEN);
	f->actor = (struct actor){ACTOR_ANON, "anonymous", 0, 0};
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, RAUMA, p, 0, &out), KERR_FORBIDDEN);
	assert_null(out);

	/* A manager whose account was deactivated is refused. */
	fx_as_user(f, "manager2", RAUMA, ROLE_MANAGER);
	struct actor mgr = f->actor;
	fx_as_operator(f);
	fresh(f);
	assert_int_equal(account_deactivate(&f->ctx, "manager2"), 0);
	f->actor = mgr;
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, RAUMA, p, 0, &out), KERR_FORBIDDEN);
	fx_as_operator(f);
}

/* proves R-01: an unknown person, or one of another register, is not found (field
 * "person"); an unknown register is not found (field "register"); nothing is logged. */
static void test_not_found(void **state)
{
	struct fx *f = *state;
	int64_t k = person_ok(
	        f, KEMI,
	        "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\"}");
	int64_t before = usage_count(f);
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, RAUMA, k, 0, &out), KERR_NOTFOUND);
	assert_string_equal(f->err.field, "person");
	assert_null(out);
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, RAUMA, 999999, 0, &out), KERR_NOTFOUND);
	assert_string_equal(f->err.field, "person");
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, "no-such-register", k, 0, &out), KERR_NOTFOUND);
	assert_string_equal(f->err.field, "register");
	assert_int_equal(usage_count(f), before);
}

/* ---------------------------------------------------------------- marketing, records,
 * requests and events */

/* Calls `fn(ctx, rid, id, in)` with `in` parsed from `json`; fails the test unless it
 * returns 0. */
static void call_ok(struct fx *f, int (*fn)(struct kctx *, const char *, int64_t, json_t *),
                    const char *rid, int64_t id, const char *json)
{
	json_t *in = parse(json);
	fresh(f);
	int rc = fn(&f->ctx, rid, id, in);
	json_decref(in);
	if (rc)
		fail_msg("%s on %" PRId64 " = %d: %s", json, id, rc, f->err.message);
}

/* Runs `sql` on the fixture's own connection: the rows of a mailing's send, which only an
 * SMTP exchange would otherwise write. */
static void raw_exec(struct fx *f, const char *sql)
{
	struct kerr err = {0};
	if (store_exec_script(f->db, sql, &err) != 0)
		fail_msg("%s: %s", sql, err.message);
}

struct espoo_ids {
	int64_t person, consent_kept, consent_withdrawn, record, advisory, request, mailing, event,
	        session;
};

/*
 * Subject `last` of espoo-talent-hub with a consent given and one withdrawn, a marketing
 * ban (through a fulfilled request, which is then an earlier request), a customer event, an
 * appointment whose content was changed once, a mailing they were sent and opened twice,
 * and a registration for event `ev` with attendance of its first session. Each text that
 * is theirs carries `last`, so that an export can be searched for it.
 */
static void espoo_subject(struct fx *f, const char *last, int64_t ev, struct espoo_ids *ids)
{
	char body[640];
	snprintf(body, sizeof(body),
	         "{\"subject_group\": \"individual\", \"source\": \"subject\","
	         " \"first_name\": \"Eeva\", \"last_name\": \"%s\", \"email\": \"%s@example.fi\"}",
	         last, last);
	ids->person = person_ok(f, ESPOO, body);
	int64_t p = ids->person;

	snprintf(body, sizeof(body),
	         "{\"purpose\": \"newsletters\", \"channel\": \"email\", \"text\": \"Uutiskirje"
	         " %s\", \"text_version\": \"v3\"}",
	         last);
	json_t *in = parse(body);
	fresh(f);
	if (consent_give(&f->ctx, ESPOO, p, in, &ids->consent_kept, NULL))
		fail_msg("consent_give: %s", f->err.message);
	json_decref(in);
	snprintf(body, sizeof(body),
	         "{\"purpose\": \"marketing\", \"channel\": \"sms\", \"text\": \"Tekstiviestit"
	         " %s\", \"text_version\": \"v1\"}",
	         last);
	in = parse(body);
	fresh(f);
	if (consent_give(&f->ctx, ESPOO, p, in, &ids->consent_withdrawn, NULL))
		fail_msg("consent_give: %s", f->err.message);
	json_decref(in);
	call_ok(f, consent_withdraw, ESPOO, ids->consent_withdrawn, "{\"how\": \"email\"}");

	snprintf(body, sizeof(body),
	         "{\"type\": \"marketing_ban\", \"channel\": \"written\", \"person_id\": %" PRId64
	         ", \"details\": {\"channels\": [\"post\"]}}",
	         p);
	in = parse(body);
	fresh(f);
	if (request_create(&f->ctx, ESPOO, in, &ids->request))
		fail_msg("request_create: %s", f->err.message);
	json_decref(in);
	call_ok(f, request_verify, ESPOO, ids->request,
	        "{\"method\": \"in_person\", \"note\": \"henkilökortti tarkistettu\"}");
	json_t *out = NULL;
	in = json_object();
	fresh(f);
	if (request_fulfil(&f->ctx, ESPOO, ids->request, in, &out))
		fail_msg("request_fulfil: %s", f->err.message);
	json_decref(in);
	json_decref(out);

	fresh(f);
	if (retention_event_add(&f->ctx, ESPOO, p, "job_offer", "2025-11-03", &ids->record))
		fail_msg("retention_event_add: %s", f->err.message);
	snprintf(body, sizeof(body),
	         "{\"type\": \"appointment\", \"on\": \"2025-12-01\", \"data\": {\"start\":"
	         " \"2025-12-01T09:30:00Z\", \"channel\": \"visit\", \"staff\": \"Neuvoja\","
	         " \"topic\": \"urasuunnittelu %s\"}}",
	         last);
	in = parse(body);
	fresh(f);
	if (service_record_add(&f->ctx, ESPOO, p, in, &ids->advisory))
		fail_msg("service_record_add: %s", f->err.message);
	json_decref(in);
	snprintf(body, sizeof(body), "{\"data\": {\"outcome\": \"CV %s\", \"status\": \"held\"}}",
	         last);
	call_ok(f, service_record_change, ESPOO, ids->advisory, body);

	snprintf(body, sizeof(body),
	         "{\"purpose\": \"newsletters\", \"subject\": \"Joulukirje %s\","
	         " \"text\": \"Hei {{first_name}}\", \"track_opens\": true}",
	         last);
	in = parse(body);
	fresh(f);
	if (mailing_create(&f->ctx, ESPOO, in, &ids->mailing))
		fail_msg("mailing_create: %s", f->err.message);
	json_decref(in);
	snprintf(body, sizeof(body),
	         "UPDATE mailings SET state = 'sent' WHERE id = %" PRId64 ";"
	         " INSERT INTO mailing_recipients(mailing_id, register_id, person_id, state,"
	         " attempts, sent_at) VALUES (%" PRId64 ", '" ESPOO "', %" PRId64 ", 'sent', 1,"
	         " '2025-12-15T08:00:00Z');"
	         " INSERT INTO mailing_opens(recipient_id, mailing_id, register_id, person_id, at)"
	         " VALUES (last_insert_rowid(), %" PRId64 ", '" ESPOO "', %" PRId64 ","
	         " '2025-12-15T09:1%d:00Z'), ((SELECT max(id) FROM mailing_recipients),"
	         " %" PRId64 ", '" ESPOO "', %" PRId64 ", '2025-12-16T10:00:00Z');",
	         ids->mailing, ids->mailing, p, ids->mailing, p, (int)(p % 10), ids->mailing, p);
	raw_exec(f, body);

	ids->event = ev;
	snprintf(body, sizeof(body),
	         "{\"person_id\": %" PRId64 ", \"registered_on\": \"2025-11-20\","
	         " \"consents\": {\"share_with_co_organiser\": true, \"newsletter\": false}}",
	         p);
	call_ok(f, event_register, ESPOO, ev, body);
	ids->session =
	        raw_int(f, "SELECT min(id) FROM event_sessions WHERE event_id = ?1", "i", ev);
	snprintf(body, sizeof(body), "{\"session_id\": %" PRId64 ", \"person_id\": %" PRId64 "}",
	         ids->session, p);
	call_ok(f, event_attend, ESPOO, ev, body);
}

static int64_t espoo_event(struct fx *f)
{
	json_t *in = parse("{\"title\": \"Talent Boost Summit\", \"format\": \"physical\","
	                   " \"starts_at\": \"2025-12-10T09:00:00Z\","
	                   " \"ends_at\": \"2025-12-10T17:00:00Z\", \"place\": \"Dipoli\","
	                   " \"co_organiser\": \"partners\", \"sessions\": ["
	                   " {\"title\": \"Avaus <b>\", \"starts_at\": \"2025-12-10T09:00:00Z\","
	                   "  \"ends_at\": \"2025-12-10T10:00:00Z\", \"place\": \"Sali A\"}]}");
	int64_t ev = 0;
	fresh(f);
	if (event_create(&f->ctx, ESPOO, in, &ev))
		fail_msg("event_create: %s", f->err.message);
	json_decref(in);
	return ev;
}

/* An element of `list` whose integer member `key` is `value`, or NULL. */
static json_t *find_id(json_t *list, const char *key, int64_t value)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		if (json_integer_value(json_object_get(v, key)) == value)
			return v;
	}
	return NULL;
}

/* proves R-01, M-02, M-04, M-05, E-01, E-02: the access export holds the subject's consents
 * (the withdrawn one too, with its withdrawal), marketing bans, records with their content
 * and its history, earlier requests with their steps, the mailings sent to them with their
 * opens, their event registrations with their choices, and the sessions they attended. */
static void test_access_export_marketing_records_requests_events(void **state)
{
	struct fx *f = *state;
	int64_t ev = espoo_event(f);
	struct espoo_ids a, b;
	espoo_subject(f, "Aaltonen", ev, &a);
	espoo_subject(f, "Bergqvist", ev, &b);
	char meet[256];
	snprintf(meet, sizeof(meet),
	         "{\"parties\": [%" PRId64 ", %" PRId64
	         "], \"starts_at\": \"2025-12-10T13:00:00Z\","
	         " \"ends_at\": \"2025-12-10T13:30:00Z\", \"place\": \"Pöytä 4\"}",
	         a.person, b.person);
	json_t *in = parse(meet);
	int64_t mid = 0;
	fresh(f);
	if (event_meeting(&f->ctx, ESPOO, ev, in, &mid))
		fail_msg("event_meeting: %s", f->err.message);
	json_decref(in);

	json_t *x = export_ok(f, ESPOO, a.person, 0);

	json_t *cons = json_object_get(x, "consents");
	assert_int_equal(json_array_size(cons), 2);
	json_t *kept = find_id(cons, "id", a.consent_kept);
	assert_non_null(kept);
	assert_string_equal(str(kept, "purpose"), "newsletters");
	assert_string_equal(str(kept, "channel"), "email");
	assert_string_equal(str(kept, "text"), "Uutiskirje Aaltonen");
	assert_string_equal(str(kept, "text_version"), "v3");
	assert_string_equal(str(kept, "state"), "confirmed");
	assert_string_equal(str(json_object_get(kept, "source"), "kind"), "staff");
	assert_string_equal(str(json_object_get(kept, "source"), "recorded_by"), "operator:test");
	assert_non_null(str(kept, "given_at"));
	assert_true(json_is_null(json_object_get(kept, "withdrawn_at")));
	json_t *gone = find_id(cons, "id", a.consent_withdrawn);
	assert_non_null(gone);
	assert_string_equal(str(gone, "channel"), "sms");
	assert_string_equal(str(gone, "text"), "Tekstiviestit Aaltonen");
	assert_non_null(str(gone, "withdrawn_at"));
	assert_string_equal(str(gone, "withdrawn_how"), "email");

	json_t *bans = json_object_get(x, "marketing_bans");
	assert_int_equal(json_array_size(bans), 1);
	assert_string_equal(str(json_array_get(bans, 0), "channel"), "post");
	char src[32];
	snprintf(src, sizeof(src), "request:%" PRId64, a.request);
	assert_string_equal(str(json_array_get(bans, 0), "source"), src);
	assert_non_null(str(json_array_get(bans, 0), "since"));

	json_t *recs = json_object_get(x, "records");
	json_t *ma = find_id(recs, "id", a.record);
	assert_non_null(ma);
	assert_string_equal(str(ma, "type"), "job_offer");
	assert_string_equal(str(ma, "on"), "2025-11-03");
	assert_non_null(str(ma, "name"));
	assert_null(json_object_get(ma, "data"));
	json_t *ap = find_id(recs, "id", a.advisory);
	assert_non_null(ap);
	assert_string_equal(str(ap, "type"), "appointment");
	assert_string_equal(str(ap, "on"), "2025-12-01");
	json_t *data = json_object_get(ap, "data");
	assert_string_equal(str(data, "topic"), "urasuunnittelu Aaltonen");
	assert_string_equal(str(data, "outcome"), "CV Aaltonen");
	json_t *hist = json_object_get(ap, "history");
	assert_int_equal(json_array_size(hist), 2);
	json_t *oc = find_in(hist, "member", "outcome");
	assert_non_null(oc);
	assert_true(json_is_null(json_object_get(oc, "old")));
	assert_string_equal(str(oc, "new"), "CV Aaltonen");
	assert_string_equal(str(oc, "actor"), "operator:test");
	/* Participation is a customer event too: the registration's record is there. */
	assert_non_null(find_in(recs, "type", "event_registration"));

	json_t *reqs = json_object_get(x, "requests");
	assert_int_equal(json_array_size(reqs), 1);
	json_t *rq = json_array_get(reqs, 0);
	assert_int_equal(json_integer_value(json_object_get(rq, "id")), a.request);
	assert_string_equal(str(rq, "type"), "marketing_ban");
	assert_string_equal(str(rq, "channel"), "written");
	assert_string_equal(str(rq, "state"), "fulfilled");
	assert_non_null(str(rq, "received_at"));
	assert_non_null(str(rq, "due_on"));
	assert_string_equal(str(json_object_get(rq, "verification"), "method"), "in_person");
	json_t *steps = json_object_get(rq, "steps");
	assert_true(json_array_size(steps) >= 3);
	json_t *vstep = find_in(steps, "action", "verified");
	assert_non_null(vstep);
	assert_string_equal(str(vstep, "actor"), "operator:test");
	assert_non_null(str(vstep, "at"));
	assert_non_null(find_in(steps, "action", "received"));
	assert_non_null(find_in(steps, "action", "fulfilled"));
	assert_null(json_object_get(vstep, "note"));
	char *text = json_dumps(x, JSON_COMPACT);
	assert_null(strstr(text, "henkilökortti")); /* the handler's note stays out */

	json_t *mails = json_object_get(x, "mailings");
	assert_int_equal(json_array_size(mails), 1);
	json_t *m = json_array_get(mails, 0);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), a.mailing);
	assert_string_equal(str(m, "subject"), "Joulukirje Aaltonen");
	assert_string_equal(str(m, "purpose"), "newsletters");
	assert_string_equal(str(m, "state"), "sent");
	assert_string_equal(str(m, "sent_at"), "2025-12-15T08:00:00Z");
	json_t *opens = json_object_get(m, "opens");
	assert_int_equal(json_array_size(opens), 2);
	assert_string_equal(json_string_value(json_array_get(opens, 1)), "2025-12-16T10:00:00Z");

	json_t *regs = json_object_get(x, "event_registrations");
	assert_int_equal(json_array_size(regs), 1);
	json_t *g = json_array_get(regs, 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "event"), "id")),
	                 ev);
	assert_string_equal(str(json_object_get(g, "event"), "title"), "Talent Boost Summit");
	assert_string_equal(str(json_object_get(g, "event"), "place"), "Dipoli");
	assert_string_equal(str(g, "registered_on"), "2025-11-20");
	assert_true(json_is_true(
	        json_object_get(json_object_get(g, "consents"), "share_with_co_organiser")));
	assert_true(json_is_false(json_object_get(json_object_get(g, "consents"), "newsletter")));
	assert_string_equal(str(json_object_get(json_object_get(g, "event"), "co_organiser"), "id"),
	                    "partners");

	json_t *att = json_object_get(x, "event_attendance");
	assert_int_equal(json_array_size(att), 1);
	json_t *se = json_object_get(json_array_get(att, 0), "session");
	assert_int_equal(json_integer_value(json_object_get(se, "id")), a.session);
	assert_string_equal(str(se, "title"), "Avaus <b>");
	assert_string_equal(str(se, "place"), "Sali A");

	json_t *meets = json_object_get(x, "event_meetings");
	assert_int_equal(json_array_size(meets), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(meets, 0), "id")), mid);
	assert_string_equal(str(json_array_get(meets, 0), "place"), "Pöytä 4");

	/* Nothing of the other subject: not their consents, request, records, mailing or the
	 * fact of who the other party of the shared meeting was. */
	static const char *const theirs[] = {"Bergqvist", "Uutiskirje Bergqvist",
	                                     "urasuunnittelu Bergqvist", "Joulukirje Bergqvist"};
	for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
		if (strstr(text, theirs[i]))
			fail_msg("the export of %" PRId64 " holds '%s'", a.person, theirs[i]);
	free(text);
	assert_null(find_id(cons, "id", b.consent_kept));
	assert_null(find_id(recs, "id", b.advisory));
	assert_null(find_id(reqs, "id", b.request));
	assert_null(find_id(mails, "id", b.mailing));
	json_decref(x);
}

/* ---------------------------------------------------------------- */

/* proves R-10: the portable export holds only what the subject provided (sources of kind
 * subject), without history, disclosures or the usage log, and is logged as portability. */
static void test_portable_only_subject_provided(void **state)
{
	struct fx *f = *state;
	/* Found on the web: names and birth date from a public source; later the subject gave
	 * their e-mail address themselves. */
	int64_t p = person_ok(f, RAUMA,
	                      "{" CONSENTING
	                      ", \"source\": \"public_web\", \"first_name\": \"Julkinen\","
	                      " \"last_name\": \"Lähde\", \"phone\": \"040 765 4321\","
	                      " \"birth_date\": \"1980-01-02\"}");
	person_update_ok(f, RAUMA, p, "{\"source\": \"customer\", \"email\": \"itse@example.fi\"}");

	json_t *x = export_ok(f, RAUMA, p, EXPORT_PORTABLE);
	assert_string_equal(str(x, "kind"), "portability");
	json_t *s = json_object_get(x, "subject");
	assert_int_equal(json_object_size(json_object_get(s, "names")), 0);
	assert_int_equal(json_array_size(json_object_get(s, "attributes")), 0);
	json_t *cps = json_object_get(x, "contact_points");
	assert_int_equal(json_array_size(cps), 1);
	assert_string_equal(str(json_array_get(cps, 0), "value"), "itse@example.fi");
	assert_string_equal(str(json_array_get(cps, 0), "source"), "customer");
	static const char *const absent[] = {"affiliations", "change_history", "disclosures",
	                                     "usage_log"};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		assert_null(json_object_get(x, absent[i]));
	assert_null(json_object_get(s, "status"));
	json_decref(x);

	char buf[64];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT reason FROM usage_log WHERE id = ?1",
	                             raw_int(f, "SELECT max(id) FROM usage_log", "")),
	                    "portability");

	/* Given by the subject: names, the sensitive birth date and the henkilötunnus too. */
	int64_t q = person_ok(f, RAUMA,
	                      "{\"subject_group\": \"contract_party\", \"source\": \"customer\","
	                      " \"first_name\": \"Itse\", \"last_name\": \"Antanut\","
	                      " \"hetu\": \"" HETU_A "\", \"birth_date\": \"1952-10-13\"}");
	x = export_ok(f, RAUMA, q, EXPORT_PORTABLE);
	s = json_object_get(x, "subject");
	assert_string_equal(str(json_object_get(s, "names"), "first_name"), "Itse");
	assert_string_equal(str(json_object_get(s, "legal_basis"), "basis"), "b");
	assert_string_equal(
	        str(find_in(json_object_get(s, "attributes"), "field", "hetu"), "value"), HETU_A);
	assert_non_null(find_in(json_object_get(s, "attributes"), "field", "birth_date"));
	json_decref(x);
}

/* proves R-10: portability is refused for a subject processed on public task (e) or
 * legitimate interest (f), naming the basis; nothing is logged. */
static void test_portable_refused_on_e_and_f(void **state)
{
	struct fx *f = *state;
	int64_t pf =
	        person_ok(f, RAUMA,
	                  "{\"subject_group\": \"organisation_contact\", \"source\": \"customer\","
	                  " \"first_name\": \"Yritys\"}");
	int64_t pe = person_ok(
	        f, KEMI,
	        "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\"}");
	struct {
		const char *rid;
		int64_t id;
		const char *basis;
	} c[] = {{RAUMA, pf, "'f'"}, {KEMI, pe, "'e'"}};
	for (size_t i = 0; i < 2; i++) {
		int64_t before = usage_count(f);
		json_t *out = NULL;
		fresh(f);
		assert_int_equal(export_subject(&f->ctx, c[i].rid, c[i].id, EXPORT_PORTABLE, &out),
		                 KERR_REFUSED);
		assert_null(out);
		assert_string_equal(f->err.field, "legal_basis");
		assert_non_null(strstr(f->err.message, "consent or contract"));
		assert_non_null(strstr(f->err.message, "Art. 20(1)(a)"));
		assert_non_null(strstr(f->err.message, c[i].basis));
		assert_int_equal(usage_count(f), before);
		/* The access export of the same subject is given. */
		json_decref(export_ok(f, c[i].rid, c[i].id, 0));
	}
}

/* proves R-10: the CSV is RFC 4180 with the header row, every field quoted, quotes doubled,
 * and cells that a spreadsheet would run as formulas defused. */
static void test_csv(void **state)
{
	struct fx *f = *state;
	int64_t p = person_ok(f, RAUMA,
	                      "{" CONSENTING ", \"source\": \"customer\","
	                      " \"first_name\": \"=HYPERLINK(\\\"http://x\\\")\","
	                      " \"last_name\": \"O\\\"Brien, Jr\", \"email\": \"a@example.fi\","
	                      " \"phone\": \"040 123 4567\", \"birth_date\": \"1952-10-13\"}");
	json_t *x = export_ok(f, RAUMA, p, EXPORT_PORTABLE);
	struct buf b = BUF_INIT;
	assert_int_equal(export_csv(x, &b), 0);
	const char *csv = buf_str(&b);
	const char *header = "\"section\",\"field\",\"value\",\"source\",\"collected_at\"\r\n";
	assert_memory_equal(csv, header, strlen(header));
	assert_non_null(strstr(csv,
	                       "\r\n\"subject\",\"first_name\",\"'=HYPERLINK(\"\"http://x\"\")\","
	                       "\"customer\",\"\"\r\n"));
	assert_non_null(strstr(csv, "\"subject\",\"last_name\",\"O\"\"Brien, Jr\",\"customer\","
	                            "\"\"\r\n"));
	assert_non_null(
	        strstr(csv, "\"attribute\",\"birth_date\",\"1952-10-13\",\"customer\",\"\"\r\n"));
	assert_non_null(
	        strstr(csv, "\"contact_point\",\"phone\",\"'+358401234567\",\"customer\",\""));
	assert_non_null(
	        strstr(csv, "\"contact_point\",\"email\",\"a@example.fi\",\"customer\",\""));
	assert_null(strstr(csv, ",=")); /* no cell starts with a formula */
	size_t rows = 0;
	for (const char *s = csv; (s = strstr(s, "\r\n")); s += 2)
		rows++;
	assert_int_equal(rows, 1 + 2 + 1 + 2); /* header, names, birth date, e-mail and phone */
	buf_free(&b);

	struct buf none = BUF_INIT;
	json_t *bogus = parse("{\"subject\": {}}");
	assert_int_equal(export_csv(bogus, &none), KERR_INVALID);
	assert_int_equal(none.len, 0);
	json_decref(bogus);
	json_decref(x);
}

/* ---------------------------------------------------------------- the letter */

static char *letter(struct fx *f, json_t *x, enum lang lang)
{
	struct buf b = BUF_INIT;
	fresh(f);
	if (export_letter(&f->ctx, x, lang, &b))
		fail_msg("export_letter: %s", f->err.message);
	return b.p; /* the caller frees */
}

/* proves: the letter in Swedish and English has its headings in that
 * language, the Art. 15 information and the complaint authority, and escapes what is
 * stored. */
static void test_letter(void **state)
{
	struct fx *f = *state;
	int64_t other = 0;
	int64_t p = full_subject(f, &other);
	person_update_ok(f, RAUMA, p, "{\"first_name\": \"<script>alert(1)</script>\"}");
	json_t *x = export_ok(f, RAUMA, p, 0);
	const struct decl *d = app_register(f->app, RAUMA);

	static const struct {
		enum lang lang;
		const char *code;
		const char *const want[8];
	} cases[] = {
	        {LANG_SV,
	         "sv",
	         {"Kopia av dina personuppgifter", "Uppgifter som sparats om dig",
	          "Kontaktuppgifter", "Användningen av dina uppgifter",
	          "Utlämnanden av uppgifterna", "Dataombudsmannens byrå", "artikel 15",
	          "Lagringstider"}},
	        {LANG_EN,
	         "en",
	         {"Copy of your personal data", "Data held about you", "Contact details",
	          "Use of your data", "Disclosures of the data",
	          "Office of the Data Protection Ombudsman", "Article 15", "Changes to the data"}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *html = letter(f, x, cases[i].lang);
		assert_non_null(html);
		char lang_attr[32];
		snprintf(lang_attr, sizeof(lang_attr), "<html lang=\"%s\">", cases[i].code);
		assert_non_null(strstr(html, lang_attr));
		for (size_t k = 0; k < 8 && cases[i].want[k]; k++)
			if (!strstr(html, cases[i].want[k]))
				fail_msg("%s letter lacks '%s'", cases[i].code, cases[i].want[k]);
		/* The complaint authority's contacts, the rights and the retention from the
		 * declaration, as the notice derives them. */
		assert_non_null(strstr(html, d->complaint_authority.email));
		assert_non_null(strstr(html, d->complaint_authority.phone));
		assert_non_null(strstr(html, "id=\"rights\""));
		assert_non_null(strstr(html, "id=\"retention\""));
		assert_non_null(strstr(html, "id=\"complaint\""));
		/* The subject's data. */
		assert_non_null(strstr(html, HETU_A));
		assert_non_null(strstr(html, "paivi.koski@example.fi"));
		assert_non_null(strstr(html, "Satama Oy"));
		assert_non_null(strstr(html, "user:ville"));
		/* Escaped, never markup. */
		assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
		assert_null(strstr(html, "<script"));
		free(html);
	}

	/* A portable letter has only what the subject gave. */
	json_t *px = export_ok(f, RAUMA, p, EXPORT_PORTABLE);
	char *html = letter(f, px, LANG_EN);
	assert_non_null(strstr(html, "Article 20"));
	assert_null(strstr(html, "Use of your data"));
	assert_null(strstr(html, "user:ville"));
	free(html);
	json_decref(px);

	/* Not an export: refused, nothing written. */
	json_t *bogus = parse("{\"format\": \"something else\", \"subject\": {}}");
	struct buf b = BUF_INIT;
	fresh(f);
	assert_int_equal(export_letter(&f->ctx, bogus, LANG_FI, &b), KERR_INVALID);
	assert_int_equal(b.len, 0);
	json_decref(bogus);
	json_decref(x);
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* proves R-01: an access letter covering the controller's other registers gives, after the
 * request register's sections, one section per other register: for an included one the data
 * held there under that register's own name with its own Art. 15 information (purposes,
 * retention), ids kept unique; for one the handler does not manage, that its manager answers
 * separately. The letter of the request register is the same as without them. */
static void test_letter_other_registers(void **state)
{
	struct fx *f = *state;
	int64_t p = person_ok(f, RAUMA,
	                      "{" CONSENTING ", \"source\": \"customer\","
	                      " \"first_name\": \"Paula\", \"last_name\": \"Monirekisteri\","
	                      " \"email\": \"paula.moni@example.fi\"}");
	int64_t e = person_ok(f, ESPOO,
	                      "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                      " \"first_name\": \"<b>Paula</b>\", \"last_name\": \"Vainespoossa\","
	                      " \"email\": \"paula.moni@example.fi\"}");
	json_t *x = export_ok(f, RAUMA, p, 0);
	json_t *ex = export_ok(f, ESPOO, e, 0);
	char *base = letter(f, x, LANG_EN);
	assert_null(strstr(base, "register-"));
	assert_null(strstr(base, "Vainespoossa"));
	assert_null(strstr(base, "answer you about it separately"));

	json_t *others = json_pack("[{s:s, s:b, s:O}, {s:s, s:b}]", "register", ESPOO, "included",
	                           1, "export", ex, "register", KEMI, "included", 0);
	json_object_set_new(x, "other_registers", others);
	static const struct {
		enum lang lang;
		const char *const want[6];
	} cases[] = {
	        {LANG_EN,
	         {"<h2 id=\"register-espoo-talent-hub\">Espoo Talent Hub marketing register</h2>",
	          "Developing the City of Espoo's services",
	          "Lokitiedot hävitetään 10 vuoden määräajan jälkeen.",
	          "<h2 id=\"register-kemi-crm\"><span lang=\"fi\">Asiakasyritysten",
	          "Its own manager answers for the data it holds and will answer you about it "
	          "separately.",
	          "is also in this register of the same controller. Below is"}},
	        {LANG_FI,
	         {"<h2 id=\"register-espoo-talent-hub\">Espoo Talent Hubin "
	          "markkinointirekisteri</h2>",
	          "Espoon kaupungin elinkeinoa ja työllisyyttä edistävien palveluiden "
	          "kehittämiseen",
	          "Lokitiedot hävitetään 10 vuoden määräajan jälkeen.",
	          "<h2 id=\"register-kemi-crm\">Asiakasyritysten",
	          "vastaa sinulle niistä erikseen.", "Sinusta tallennetut tiedot"}},
	        {LANG_SV,
	         {"<h2 id=\"register-espoo-talent-hub\">",
	          "Utveckling av Esbo stads tjänster som främjar näringslivet",
	          "Lokitiedot hävitetään 10 vuoden määräajan jälkeen.",
	          "<h2 id=\"register-kemi-crm\">", "besvarar din begäran om dem separat.",
	          "Uppgifter som sparats om dig"}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *html = letter(f, x, cases[i].lang);
		for (size_t k = 0; k < 6; k++)
			if (!strstr(html, cases[i].want[k]))
				fail_msg("%s letter lacks '%s'", lang_code(cases[i].lang),
				         cases[i].want[k]);
		/* The value held only in the other register, escaped; its sections one level
		 * down with ids of their own. */
		assert_non_null(strstr(html, "Vainespoossa"));
		assert_non_null(strstr(html, "&lt;b&gt;Paula&lt;/b&gt;"));
		assert_null(strstr(html, "<b>"));
		assert_non_null(strstr(html, "<h3 id=\"register-espoo-talent-hub-data\">"));
		assert_non_null(strstr(html, "<h3 id=\"register-espoo-talent-hub-purposes\">"));
		assert_non_null(strstr(html, "<h3 id=\"register-espoo-talent-hub-retention\">"));
		assert_null(strstr(html, "register-espoo-talent-hub-controller"));
		assert_int_equal(count_of(html, "id=\"data\""), 1);
		assert_int_equal(count_of(html, "id=\"retention\""), 1);
		/* Nothing of a register the handler does not manage but its name. */
		assert_null(strstr(html, "register-kemi-crm-"));
		/* The request register's data come first, in order. */
		char *espoo = strstr(html, "id=\"register-espoo-talent-hub\"");
		char *kemi = strstr(html, "id=\"register-kemi-crm\"");
		assert_true(strstr(html, "Monirekisteri") < espoo);
		assert_true(strstr(html, "id=\"complaint\"") < espoo);
		assert_true(espoo < kemi);
		free(html);
	}

	/* The header names the other registers too; after it, everything before the other
	 * registers' sections is the letter without them. */
	char *html = letter(f, x, LANG_EN);
	const char *tail = "</main>\n</body>\n</html>\n";
	size_t stem = strlen(base) - strlen(tail);
	assert_string_equal(base + stem, tail);
	char *hb = strstr(base, "</header>"), *hh = strstr(html, "</header>");
	assert_non_null(hb);
	assert_non_null(hh);
	size_t head = (size_t)(hb - base), shift = (size_t)(hh - html) - head;
	assert_non_null(strstr(base, "<dt>Prepared"));
	assert_memory_equal(html, base, (size_t)(strstr(base, "<dt>Prepared") - base));
	*hh = '\0';
	assert_non_null(strstr(html, "<dt>Also in the registers</dt><dd>"));
	*hh = '<';
	assert_memory_equal(hh, hb, stem - head);
	const char *next = "<section class=\"register\"";
	assert_true(strncmp(html + stem + shift, next, strlen(next)) == 0);
	free(html);
	free(base);

	/* An entry that names no declared register, or an included one without its export, is
	 * refused before anything is written. */
	static const char *const bad[] = {
	        "[{\"register\": \"no-such-register\", \"included\": false}]",
	        "[{\"register\": \"espoo-talent-hub\", \"included\": true}]",
	        "[{\"included\": false}]",
	        "{\"register\": \"kemi-crm\"}",
	};
	static const int want_rc[] = {KERR_NOTFOUND, KERR_INVALID, KERR_INVALID, KERR_INVALID};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object_set_new(x, "other_registers", parse(bad[i]));
		struct buf b = BUF_INIT;
		fresh(f);
		assert_int_equal(export_letter(&f->ctx, x, LANG_FI, &b), want_rc[i]);
		assert_int_equal(b.len, 0);
		buf_free(&b);
	}
	json_decref(ex);
	json_decref(x);
}

/* proves R-01: the letter speaks the subject's own language when their register keeps one
 * (the attribute `language`); anything else leaves the choice to the caller. */
static void test_subject_language(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		int want;
	} cases[] = {
	        {"{\"subject\": {\"attributes\": [{\"field\": \"municipality\", \"value\": "
	         "\"Espoo\"}, {\"field\": \"language\", \"value\": \"sv\"}]}}",
	         LANG_SV},
	        {"{\"subject\": {\"attributes\": [{\"field\": \"language\", \"value\": "
	         "\"en\"}]}}",
	         LANG_EN},
	        {"{\"subject\": {\"attributes\": [{\"field\": \"language\", \"value\": "
	         "\"de\"}]}}",
	         -1},
	        {"{\"subject\": {\"attributes\": [{\"field\": \"language\", \"value\": 3}]}}", -1},
	        {"{\"subject\": {\"attributes\": []}}", -1},
	        {"{\"subject\": {}}", -1},
	        {"{}", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = parse(cases[i].doc);
		assert_int_equal(export_subject_lang(doc), cases[i].want);
		json_decref(doc);
	}
}

/* proves R-10: the portable export has the consents, subscriptions and event registrations
 * the subject made, without who recorded a consent or the co-organiser, and none of what
 * staff wrote or the system observed; its CSV has them as rows. */
static void test_portable_marketing_and_events(void **state)
{
	struct fx *f = *state;
	int64_t ev = espoo_event(f);
	struct espoo_ids a;
	espoo_subject(f, "Aaltonen", ev, &a);

	json_t *x = export_ok(f, ESPOO, a.person, EXPORT_PORTABLE);
	json_t *cons = json_object_get(x, "consents");
	assert_int_equal(json_array_size(cons), 2);
	json_t *kept = find_id(cons, "id", a.consent_kept);
	assert_string_equal(str(kept, "text"), "Uutiskirje Aaltonen");
	assert_string_equal(str(kept, "purpose"), "newsletters");
	assert_null(json_object_get(json_object_get(kept, "source"), "recorded_by"));
	assert_null(json_object_get(json_object_get(kept, "source"), "client"));
	assert_string_equal(str(find_id(cons, "id", a.consent_withdrawn), "withdrawn_how"),
	                    "email");
	assert_true(json_is_array(json_object_get(x, "subscriptions")));
	json_t *regs = json_object_get(x, "event_registrations");
	assert_int_equal(json_array_size(regs), 1);
	json_t *g = json_array_get(regs, 0);
	assert_string_equal(str(g, "registered_on"), "2025-11-20");
	assert_true(json_is_true(
	        json_object_get(json_object_get(g, "consents"), "share_with_co_organiser")));
	assert_null(json_object_get(json_object_get(g, "event"), "co_organiser"));
	static const char *const absent[] = {"marketing_bans", "records",          "requests",
	                                     "mailings",       "event_attendance", "event_meetings",
	                                     "change_history", "usage_log"};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (json_object_get(x, absent[i]))
			fail_msg("the portable export has '%s'", absent[i]);

	struct buf b = BUF_INIT;
	assert_int_equal(export_csv(x, &b), 0);
	const char *csv = buf_str(&b);
	assert_non_null(strstr(csv, "\"consent\",\"1.text\",\"Uutiskirje Aaltonen\",\"staff\",\""));
	assert_non_null(strstr(csv, "\"consent\",\"2.withdrawn_how\",\"email\",\"staff\",\""));
	assert_non_null(strstr(csv, "\"event_registration\",\"1.event.title\",\"Talent Boost"
	                            " Summit\",\"\",\"2025-11-20\"\r\n"));
	assert_non_null(strstr(csv, "\"event_registration\",\"1.consents.share_with_co_organiser\","
	                            "\"true\",\"\",\"2025-11-20\"\r\n"));
	assert_null(strstr(csv, "urasuunnittelu"));
	assert_null(strstr(csv, "Joulukirje"));
	assert_null(strstr(csv, "operator:test"));
	buf_free(&b);
	json_decref(x);
}

/* proves R-01: the letter shows every new part under a heading in the reader's language,
 * its values escaped. */
static void test_letter_marketing_records_requests_events(void **state)
{
	struct fx *f = *state;
	int64_t ev = espoo_event(f);
	struct espoo_ids a;
	espoo_subject(f, "Aaltonen", ev, &a);
	json_t *x = export_ok(f, ESPOO, a.person, 0);
	static const struct {
		enum lang lang;
		const char *const want[10];
	} cases[] = {
	        {LANG_FI,
	         {"Suostumukset", "Suoramarkkinointikiellot", "Asiakastapahtumat ja asiointi",
	          "Aiemmat pyyntösi", "Sinulle lähetetyt viestit", "Ilmoittautumiset tapahtumiin",
	          "Osallistuminen tapahtumien ohjelmaan", "Tapaamiset tapahtumissa",
	          "Tilatut uutiskirjeet", "ajanvaraus- ja käyntitiedot"}},
	        {LANG_EN,
	         {"Consents", "Direct marketing bans", "Customer events and services",
	          "Your earlier requests", "Mailings sent to you", "Event registrations",
	          "Attendance of event sessions", "Meetings at events", "Newsletter subscriptions",
	          "Channel"}},
	        {LANG_SV,
	         {"Samtycken", "Förbud mot direktmarknadsföring", "Kundhändelser och ärenden",
	          "Dina tidigare begäranden", "Utskick till dig", "Anmälningar till evenemang",
	          "Deltagande i evenemangens program", "Möten vid evenemang",
	          "Prenumerationer på nyhetsbrev", "Kanal"}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *html = letter(f, x, cases[i].lang);
		for (size_t k = 0; k < 10; k++)
			if (!strstr(html, cases[i].want[k]))
				fail_msg("%s letter lacks '%s'", lang_code(cases[i].lang),
				         cases[i].want[k]);
		static const char *const values[] = {"Uutiskirje Aaltonen",
		                                     "urasuunnittelu Aaltonen",
		                                     "Joulukirje Aaltonen",
		                                     "Talent Boost Summit",
		                                     "Sali A",
		                                     "marketing_ban"};
		for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++)
			if (!strstr(html, values[k]))
				fail_msg("%s letter lacks '%s'", lang_code(cases[i].lang),
				         values[k]);
		/* The session's title is stored with markup; the letter escapes it. */
		assert_non_null(strstr(html, "Avaus &lt;b&gt;"));
		assert_null(strstr(html, "Avaus <b>"));
		free(html);
	}
	json_decref(x);
}

/* Imports `json` as the chat of session `sid` of event `ev`; fails the test unless it is
 * accepted. */
static void chat_ok(struct fx *f, int64_t ev, int64_t sid, const char *json)
{
	json_t *in = parse(json), *out = NULL;
	fresh(f);
	int rc = event_chat_import(&f->ctx, ESPOO, ev, sid, in, &out);
	json_decref(in);
	json_decref(out);
	if (rc)
		fail_msg("event_chat_import = %d: %s", rc, f->err.message);
}

/* proves E-01, R-01, R-10: the messages a subject wrote in the public chat of a virtual
 * session are in their access export and their portable export (with the event, the
 * session and when), as CSV rows and in the letter; another participant's messages in the
 * same session are in neither. */
static void test_chat_messages_exported(void **state)
{
	struct fx *f = *state;
	json_t *in = parse("{\"title\": \"Verkkowebinaari\", \"format\": \"virtual\","
	                   " \"starts_at\": \"2025-12-11T09:00:00Z\","
	                   " \"ends_at\": \"2025-12-11T12:00:00Z\","
	                   " \"url\": \"https://meet.example.fi/w\","
	                   " \"sessions\": [{\"title\": \"Osa 1\","
	                   " \"starts_at\": \"2025-12-11T09:00:00Z\","
	                   " \"ends_at\": \"2025-12-11T10:00:00Z\"}]}");
	int64_t ev = 0;
	fresh(f);
	if (event_create(&f->ctx, ESPOO, in, &ev))
		fail_msg("event_create: %s", f->err.message);
	json_decref(in);
	int64_t sid = raw_int(f, "SELECT min(id) FROM event_sessions WHERE event_id = ?1", "i", ev);
	int64_t a = person_ok(f, ESPOO,
	                      "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                      " \"first_name\": \"Aino\", \"last_name\": \"Aaltonen\","
	                      " \"email\": \"aino@example.fi\"}");
	int64_t b = person_ok(f, ESPOO,
	                      "{\"subject_group\": \"individual\", \"source\": \"subject\","
	                      " \"first_name\": \"Bengt\", \"last_name\": \"Bergqvist\","
	                      " \"email\": \"bengt@example.fi\"}");
	char body[640];
	int64_t who[] = {a, b};
	for (size_t i = 0; i < 2; i++) {
		snprintf(body, sizeof(body), "{\"person_id\": %" PRId64 "}", who[i]);
		call_ok(f, event_register, ESPOO, ev, body);
	}
	snprintf(body, sizeof(body),
	         "{\"messages\": ["
	         "{\"at\": \"2025-12-11T09:05:00Z\", \"person_id\": %" PRId64 ","
	         " \"text\": \"Mistä löydän materiaalit? <b>\"},"
	         "{\"at\": \"2025-12-11T09:06:00Z\", \"person_id\": %" PRId64 ","
	         " \"text\": \"Bengtin oma viesti\"},"
	         "{\"at\": \"2025-12-11T09:07:00Z\", \"author_email\": \"aino@example.fi\","
	         " \"text\": \"Kiitos!\"}]}",
	         a, b);
	chat_ok(f, ev, sid, body);

	unsigned kinds[] = {0, EXPORT_PORTABLE};
	for (size_t k = 0; k < 2; k++) {
		json_t *x = export_ok(f, ESPOO, a, kinds[k]);
		json_t *msgs = json_object_get(x, "event_chat_messages");
		assert_int_equal(json_array_size(msgs), 2);
		json_t *m = json_array_get(msgs, 0);
		assert_int_equal(
		        json_integer_value(json_object_get(json_object_get(m, "event"), "id")), ev);
		assert_string_equal(str(json_object_get(m, "event"), "title"), "Verkkowebinaari");
		assert_int_equal(
		        json_integer_value(json_object_get(json_object_get(m, "session"), "id")),
		        sid);
		assert_string_equal(str(json_object_get(m, "session"), "title"), "Osa 1");
		assert_string_equal(str(m, "at"), "2025-12-11T09:05:00Z");
		assert_string_equal(str(m, "text"), "Mistä löydän materiaalit? <b>");
		assert_string_equal(str(json_array_get(msgs, 1), "text"), "Kiitos!");

		char *all = json_dumps(x, 0);
		assert_null(strstr(all, "Bengtin oma viesti"));
		free(all);

		struct buf c = BUF_INIT;
		assert_int_equal(export_csv(x, &c), 0);
		if (kinds[k] == EXPORT_PORTABLE) {
			assert_non_null(strstr(buf_str(&c),
			                       "\"event_chat_message\",\"2.text\","
			                       "\"Kiitos!\",\"\",\"2025-12-11T09:07:00Z\""
			                       "\r\n"));
			assert_non_null(strstr(buf_str(&c),
			                       "\"event_chat_message\",\"1.session.title\","
			                       "\"Osa 1\",\"\",\"2025-12-11T09:05:00Z\""
			                       "\r\n"));
		}
		assert_null(strstr(buf_str(&c), "Bengtin"));
		buf_free(&c);

		char *html = letter(f, x, LANG_EN);
		assert_non_null(strstr(html, "Your messages in event chats"));
		assert_non_null(strstr(html, "Mistä löydän materiaalit? &lt;b&gt;"));
		assert_null(strstr(html, "materiaalit? <b>"));
		assert_null(strstr(html, "Bengtin"));
		free(html);
		json_decref(x);
	}

	/* Bengt's export has his message and none of Aino's. */
	json_t *x = export_ok(f, ESPOO, b, 0);
	json_t *msgs = json_object_get(x, "event_chat_messages");
	assert_int_equal(json_array_size(msgs), 1);
	assert_string_equal(str(json_array_get(msgs, 0), "text"), "Bengtin oma viesti");
	char *all = json_dumps(x, 0);
	assert_null(strstr(all, "materiaalit"));
	assert_null(strstr(all, "Kiitos!"));
	free(all);
	json_decref(x);
}

/* ---------------------------------------------------------------- cost */

/* An export reads one person's rows through indexes that start with the person, so its cost
 * does not grow with the register (the 1,000,000 persons). */
static void test_export_queries_indexed(void **state)
{
	static const enum stmt_id lookups[] = {
	        ST_PERSON_GET,
	        ST_CP_LIST,
	        ST_EXPORT_AFFILIATIONS,
	        ST_EXPORT_HISTORY,
	        ST_EXPORT_DISCLOSURES,
	        ST_EXPORT_USAGE,
	        ST_EXPORT_CONSENTS,
	        ST_EXPORT_SUBSCRIPTIONS,
	        ST_EXPORT_BANS,
	        ST_EXPORT_RECORDS,
	        ST_EXPORT_RECORD_HISTORY,
	        ST_EXPORT_REQUESTS,
	        ST_EXPORT_MAILINGS,
	        ST_EXPORT_OPENS,
	        ST_EXPORT_REGISTRATIONS,
	        ST_EXPORT_ATTENDANCE,
	        ST_EXPORT_MEETINGS,
	        ST_EXPORT_CHAT,
	};
	assert_indexed(*state, lookups, sizeof(lookups) / sizeof(lookups[0]));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_access_export_contains_everything),
	        T(test_other_subject_never_appears),
	        T(test_export_is_logged),
	        T(test_only_manager_or_operator),
	        T(test_not_found),
	        T(test_access_export_marketing_records_requests_events),
	        T(test_portable_only_subject_provided),
	        T(test_portable_refused_on_e_and_f),
	        T(test_csv),
	        T(test_letter),
	        T(test_letter_other_registers),
	        cmocka_unit_test(test_subject_language),
	        T(test_portable_marketing_and_events),
	        T(test_letter_marketing_records_requests_events),
	        T(test_chat_messages_exported),
	        T(test_export_queries_indexed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
