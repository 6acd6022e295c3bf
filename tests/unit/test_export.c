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
#include "core/ctx.h"
#include "core/export.h"
#include "core/org.h"
#include "core/person.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/kerr.h"

#include "fixture.h"

#define RAUMA "rauma-crm"
#define KEMI  "kemi-crm"

#define HETU_A "131052-308T" /* DOMAIN.md §5 */
#define HETU_B "010203A1230" /* built with the check rule of DOMAIN.md §5 */

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",
        "registers/kemi-crm.yaml",
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
	        "consents", "subscriptions",       "marketing_bans",   "records",       "requests",
	        "mailings", "event_registrations", "event_attendance", "event_meetings"};
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

/* ---------------------------------------------------------------- cost */

/* An export reads one person's rows through indexes that start with the person, so its cost
 * does not grow with the register (the 1,000,000 persons). */
static void test_export_queries_indexed(void **state)
{
	static const enum stmt_id lookups[] = {
	        ST_PERSON_GET,         ST_CP_LIST,      ST_EXPORT_AFFILIATIONS, ST_EXPORT_HISTORY,
	        ST_EXPORT_DISCLOSURES, ST_EXPORT_USAGE,
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
	        T(test_portable_only_subject_provided),
	        T(test_portable_refused_on_e_and_f),
	        T(test_csv),
	        T(test_letter),
	        T(test_export_queries_indexed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
