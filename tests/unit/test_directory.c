/*
 * Unit tests for src/core/directory.c: the public company directory (F-05) driven through
 * core/directory.h against a fresh data directory with rauma-crm (which declares the
 * directory) and kemi-crm (which does not). What is stored is checked through the fixture's
 * read-only connection. Tests name the promise they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/affiliation.h"
#include "core/app.h"
#include "core/directory.h"
#include "core/export.h"
#include "core/org.h"
#include "core/person.h"
#include "decl/notice.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/kerr.h"

#include "fixture.h"

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",
        "registers/kemi-crm.yaml",
};

static int setup(void **state)
{
	struct fx *f = fixture_open("directory", register_files, 2);
	if (!f)
		return -1;
	*state = f;
	return 0;
}

/* rauma-crm as a variant whose recipient company_directory allows contact persons, written
 * next to the data directory; the sample itself does not allow them. */
static char variant[96];

static int setup_contacts(void **state)
{
	size_t len;
	char *y = slurp("registers/rauma-crm.yaml", &len);
	const char *at = y ? strstr(y, "  - id: company_directory\n") : NULL;
	const char *kind = at ? strstr(at, "    kind: recipient\n") : NULL;
	if (!kind) {
		free(y);
		fprintf(stderr, "registers/rauma-crm.yaml has no company_directory\n");
		return -1;
	}
	snprintf(variant, sizeof(variant), "/tmp/kortisto-directory-contacts-%ld.yaml",
	         (long)getpid());
	FILE *fp = fopen(variant, "w");
	size_t head = (size_t)(kind - y) + strlen("    kind: recipient\n");
	if (!fp || fwrite(y, 1, head, fp) != head || fputs("    contact_persons: true\n", fp) < 0 ||
	    fwrite(y + head, 1, len - head, fp) != len - head) {
		if (fp)
			fclose(fp);
		free(y);
		return -1;
	}
	fclose(fp);
	free(y);
	const char *const files[] = {variant, "registers/kemi-crm.yaml"};
	struct fx *f = fixture_open("directory", files, 2);
	remove(variant);
	if (!f)
		return -1;
	*state = f;
	return 0;
}

static json_t *parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	if (!j)
		fail_msg("test JSON does not parse: %s", text);
	return j;
}

static int64_t org_ok(struct fx *f, const char *rid, const char *json)
{
	json_t *in = parse(json);
	int64_t id = 0;
	fresh(f);
	int rc = org_create(&f->ctx, rid, in, &id);
	json_decref(in);
	if (rc)
		fail_msg("org_create = %d: %s", rc, f->err.message);
	return id;
}

static int set(struct fx *f, const char *rid, int64_t id, const char *json)
{
	json_t *p = parse(json);
	fresh(f);
	int rc = directory_set(&f->ctx, rid, id, p);
	json_decref(p);
	return rc;
}

static size_t found(struct fx *f, const char *name, const char *field, const char *mun)
{
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(directory_search(&f->ctx, name, field, mun, &out), 0);
	size_t n = json_array_size(json_object_get(out, "items"));
	json_decref(out);
	return n;
}

/* proves F-05: listing is the company's choice: not listed by default, listed once chosen,
 * hidden again when unchosen; only the channels the listing allows are shown */
static void test_listing_is_a_choice(void **state)
{
	struct fx *f = *state;
	int64_t id = org_ok(f, "rauma-crm",
	                    "{\"name\": \"Rauman Kala Oy\", \"source\": \"customer\", \"website\":"
	                    " \"https://kala.example.fi\"}");
	assert_int_equal(found(f, NULL, NULL, NULL), 0);
	assert_int_equal(set(f, "rauma-crm", id,
	                     "{\"listed\": true, \"field_of_business\": \"kalatukku\","
	                     " \"municipality\": \"Rauma\"}"),
	                 0);
	assert_int_equal(found(f, "kala", NULL, NULL), 1);
	assert_int_equal(found(f, "KALA", "tukku", "rauma"), 1);
	assert_int_equal(found(f, NULL, NULL, "Pori"), 0);
	assert_int_equal(found(f, "%", NULL, NULL), 0); /* LIKE characters are literal */
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(directory_search(&f->ctx, NULL, NULL, NULL, &out), 0);
	assert_null(json_object_get(json_array_get(json_object_get(out, "items"), 0), "website"));
	json_decref(out);
	assert_int_equal(set(f, "rauma-crm", id, "{\"show_website\": true}"), 0);
	fresh(f);
	assert_int_equal(directory_search(&f->ctx, NULL, NULL, NULL, &out), 0);
	assert_string_equal(json_string_value(json_object_get(
	                            json_array_get(json_object_get(out, "items"), 0), "website")),
	                    "https://kala.example.fi");
	json_decref(out);
	assert_int_equal(set(f, "rauma-crm", id, "{\"listed\": false}"), 0);
	assert_int_equal(found(f, NULL, NULL, NULL), 0);
}

/* proves F-05: every change of a listing is in the change history and the usage log */
static void test_history(void **state)
{
	struct fx *f = *state;
	int64_t id =
	        org_ok(f, "rauma-crm", "{\"name\": \"Historia Oy\", \"source\": \"customer\"}");
	assert_int_equal(set(f, "rauma-crm", id, "{\"listed\": true, \"description\": \"Uusi\"}"),
	                 0);
	assert_int_equal(set(f, "rauma-crm", id, "{\"listed\": true}"), 0); /* no change */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE entity = 'organisation'"
	                         " AND entity_id = ?1 AND field LIKE 'directory.%' AND reason ="
	                         " 'directory'",
	                         "i", id),
	                 2);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'update' AND"
	                         " entity = 'organisation' AND entity_id = ?1 AND reason = "
	                         "'directory'",
	                         "i", id),
	                 1);
}

/* proves F-05: nothing about a person reaches the directory, even of a listed company */
static void test_no_person(void **state)
{
	struct fx *f = *state;
	int64_t id = org_ok(f, "rauma-crm", "{\"name\": \"Henkilö Oy\", \"source\": \"customer\"}");
	json_t *in = parse("{\"subject_group\": \"organisation_contact\", \"source\": \"customer\","
	                   " \"first_name\": \"Pekka\", \"last_name\": \"Pernaa\", \"email\":"
	                   " \"pekka@example.fi\"}");
	int64_t pid = 0;
	fresh(f);
	assert_int_equal(person_create(&f->ctx, "rauma-crm", in, &pid), 0);
	json_decref(in);
	char aff[128];
	snprintf(aff, sizeof(aff), "{\"person_id\": %lld, \"organisation_id\": %lld}",
	         (long long)pid, (long long)id);
	in = parse(aff);
	int64_t aid = 0;
	fresh(f);
	assert_int_equal(affiliation_create(&f->ctx, "rauma-crm", in, &aid), 0);
	json_decref(in);
	assert_int_equal(set(f, "rauma-crm", id, "{\"listed\": true, \"show_address\": true}"), 0);
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(directory_search(&f->ctx, NULL, NULL, NULL, &out), 0);
	char *text = json_dumps(out, 0);
	assert_null(strstr(text, "Pekka"));
	assert_null(strstr(text, "Pernaa"));
	assert_null(strstr(text, "pekka@"));
	free(text);
	json_decref(out);
}

/* The declaration decides which registers may list; staff roles decide who may change. */
static void test_refusals(void **state)
{
	struct fx *f = *state;
	int64_t kemi = org_ok(f, "kemi-crm", "{\"name\": \"Kemi Oy\", \"source\": \"subject\"}");
	int64_t id = org_ok(f, "rauma-crm", "{\"name\": \"Rooli Oy\", \"source\": \"customer\"}");
	assert_int_equal(set(f, "kemi-crm", kemi, "{\"listed\": true}"), KERR_REFUSED);
	assert_int_equal(set(f, "rauma-crm", id, "{\"shoe_size\": 42}"), KERR_INVALID);
	assert_int_equal(set(f, "rauma-crm", id, "{\"listed\": \"yes\"}"), KERR_INVALID);
	assert_int_equal(set(f, "rauma-crm", id, "{\"public_email\": \"not mail\"}"), KERR_INVALID);
	assert_int_equal(set(f, "rauma-crm", 999999, "{\"listed\": true}"), KERR_NOTFOUND);
	fx_as_user(f, "katsoja", "rauma-crm", ROLE_VIEWER);
	assert_int_equal(set(f, "rauma-crm", id, "{\"listed\": true}"), KERR_FORBIDDEN);
	fx_as_user(f, "muokkaaja", "rauma-crm", ROLE_EDITOR);
	assert_int_equal(set(f, "rauma-crm", id, "{\"contact_email\": \"info@rooli.example.fi\"}"),
	                 0);
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(directory_get(&f->ctx, "rauma-crm", id, &out), 0);
	assert_string_equal(json_string_value(json_object_get(out, "contact_email")),
	                    "info@rooli.example.fi");
	json_decref(out);
}

/* A person of organisation `org`, with an affiliation titled `title`; its id into *aff. */
static int64_t contact_ok(struct fx *f, int64_t org, const char *first, const char *title,
                          int64_t *aff)
{
	char text[256];
	snprintf(text, sizeof(text),
	         "{\"subject_group\": \"organisation_contact\", \"source\": \"customer\","
	         " \"first_name\": \"%s\", \"last_name\": \"Testinen\"}",
	         first);
	json_t *in = parse(text);
	int64_t pid = 0;
	fresh(f);
	if (person_create(&f->ctx, "rauma-crm", in, &pid))
		fail_msg("person_create: %s", f->err.message);
	json_decref(in);
	snprintf(text, sizeof(text),
	         "{\"person_id\": %lld, \"organisation_id\": %lld, \"title\": \"%s\"}",
	         (long long)pid, (long long)org, title);
	in = parse(text);
	fresh(f);
	if (affiliation_create(&f->ctx, "rauma-crm", in, aff))
		fail_msg("affiliation_create: %s", f->err.message);
	json_decref(in);
	return pid;
}

/* proves F-05: the contact persons a company publishes are shown with name and title only,
 * the refusals name the key or element, and the notice says that they are shown */
static void test_contacts(void **state)
{
	struct fx *f = *state;
	int64_t org = org_ok(f, "rauma-crm", "{\"name\": \"Kala Oy\", \"source\": \"customer\"}");
	int64_t other = org_ok(f, "rauma-crm", "{\"name\": \"Muu Oy\", \"source\": \"customer\"}");
	int64_t a1, a2, a3;
	contact_ok(f, org, "Pekka", "toimitusjohtaja", &a1);
	contact_ok(f, org, "Kaisa", "myyjä", &a2);
	contact_ok(f, other, "Olli", "johtaja", &a3);
	char patch[128];
	snprintf(patch, sizeof(patch), "{\"listed\": true, \"contacts\": [%lld, %lld]}",
	         (long long)a1, (long long)a3);
	assert_int_equal(set(f, "rauma-crm", org, patch), KERR_INVALID);
	assert_string_equal(f->err.field, "contacts[1]");
	assert_int_equal(set(f, "rauma-crm", org, "{\"contacts\": {}}"), KERR_INVALID);
	assert_string_equal(f->err.field, "contacts");
	snprintf(patch, sizeof(patch), "{\"contacts\": [%lld, %lld]}", (long long)a1,
	         (long long)a1);
	assert_int_equal(set(f, "rauma-crm", org, patch), KERR_INVALID);
	assert_string_equal(f->err.field, "contacts[1]");
	snprintf(patch, sizeof(patch), "{\"listed\": true, \"contacts\": [%lld]}", (long long)a1);
	assert_int_equal(set(f, "rauma-crm", org, patch), 0);
	assert_int_equal(set(f, "rauma-crm", org, patch), 0); /* no change */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM change_history WHERE entity = 'organisation'"
	                         " AND entity_id = ?1 AND field = 'directory.contacts'",
	                         "i", org),
	                 1);
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(directory_search(&f->ctx, NULL, NULL, NULL, &out), 0);
	json_t *item = json_array_get(json_object_get(out, "items"), 0);
	char *text = json_dumps(json_object_get(item, "contacts"), JSON_COMPACT);
	assert_string_equal(text, "[{\"name\":\"Pekka Testinen\",\"title\":\"toimitusjohtaja\"}]");
	free(text);
	assert_null(json_object_get(json_array_get(json_object_get(out, "items"), 1), "contacts"));
	json_decref(out);

	/* the access export says where and since when */
	int64_t pid = raw_int(f, "SELECT person_id FROM affiliations WHERE id = ?1", "i", a1);
	fresh(f);
	assert_int_equal(export_subject(&f->ctx, "rauma-crm", pid, 0, &out), 0);
	json_t *pub = json_array_get(json_object_get(out, "directory_publications"), 0);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(pub, "organisation"), "name")),
	        "Kala Oy");
	assert_string_equal(json_string_value(json_object_get(pub, "title")), "toimitusjohtaja");
	assert_string_equal(json_string_value(json_object_get(pub, "published_at")),
	                    "2026-01-01T00:00:00Z");
	struct buf b = BUF_INIT;
	fresh(f);
	assert_int_equal(export_letter(&f->ctx, out, LANG_EN, &b), 0);
	assert_non_null(strstr(buf_str(&b), "Published in the company directory"));
	assert_non_null(strstr(buf_str(&b), "<td>Kala Oy</td><td>toimitusjohtaja</td>"));
	buf_free(&b);
	json_decref(out);

	/* the notice says so in the recipient's section */
	notice_part_html(app_register(f->app, "rauma-crm"), LANG_EN, NP_RECIPIENTS, &b);
	assert_non_null(
	        strstr(buf_str(&b), "the name and role of the contact persons the company"));
	buf_free(&b);

	static const enum stmt_id lookups[] = {ST_DIR_CONTACT_CHECK, ST_DIR_CONTACTS_PUBLISHED,
	                                       ST_DIR_CONTACT_UNPUBLISH, ST_DIR_PUBLICATIONS_OF};
	assert_indexed(f, lookups, sizeof(lookups) / sizeof(lookups[0]));
}

/* proves F-05: the sample declaration does not allow contact persons: refused, naming the
 * key, and its notice does not speak of them */
static void test_contacts_refused(void **state)
{
	struct fx *f = *state;
	int64_t org = org_ok(f, "rauma-crm", "{\"name\": \"Kala Oy\", \"source\": \"customer\"}");
	int64_t a1;
	contact_ok(f, org, "Pekka", "toimitusjohtaja", &a1);
	char patch[64];
	snprintf(patch, sizeof(patch), "{\"contacts\": [%lld]}", (long long)a1);
	assert_int_equal(set(f, "rauma-crm", org, patch), KERR_REFUSED);
	assert_string_equal(f->err.field, "contacts");
	struct buf b = BUF_INIT;
	notice_part_html(app_register(f->app, "rauma-crm"), LANG_EN, NP_RECIPIENTS, &b);
	assert_null(strstr(buf_str(&b), "contact persons the company"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_listing_is_a_choice, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_history, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_no_person, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_refusals, setup, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_contacts, setup_contacts, fixture_teardown),
	        cmocka_unit_test_setup_teardown(test_contacts_refused, setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
