/*
 * Unit tests for src/audit: the usage log's hash chain and its verification against raw
 * tampering, anchors, pruning behind checkpoints, the back-filling of entries from before the
 * chain, the group-committing log writer under concurrent submitters, audit show, and
 * disclosures with every refusal. Each test runs on a fresh data directory (rauma-crm and
 * kemi-crm loaded); tampering goes through raw SQL on the same database, and what was written
 * is checked through a second, read-only SQLite connection.
 * Tests name the promise of PROMISES.md they prove.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/disclosure.h"
#include "audit/logwriter.h"
#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "core/register.h"
#include "core/selfservice.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"

#include "fixture.h"

#define RAUMA "rauma-crm"
#define KEMI  "kemi-crm"
#define DAY   86400

static const char *const register_files[] = {
        "registers/rauma-crm.yaml",
        "registers/kemi-crm.yaml",
};

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Tampering: raw SQL on the database, as someone with write access to the file would. */
static void tamper(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tamper(struct fx *f, const char *fmt, ...)
{
	char sql[1024];
	struct kerr err = {0};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (store_exec_script(f->db, sql, &err) != 0)
		fail_msg("tamper %s: %s", sql, err.message);
}

static int64_t entries(struct fx *f)
{
	return raw_int(f, "SELECT count(*) FROM usage_log", "");
}

static int64_t last_id(struct fx *f)
{
	return raw_int(f, "SELECT max(id) FROM usage_log", "");
}

/* Logs one read the way the command line does (a transaction of its own). */
static void log_read(struct fx *f, const char *action, const char *rid, int64_t person,
                     const int64_t *subjects, size_t n)
{
	struct usage_entry e = {
	        .action = action,
	        .rid = rid,
	        .entity = person ? "person" : NULL,
	        .entity_id = person,
	        .subjects = subjects,
	        .nsubjects = n,
	};
	fresh(f);
	if (usage_read(&f->ctx, &e) != 0)
		fail_msg("usage_read: %s", f->err.message);
}

/* A handful of varied entries: reads, a search with subjects, a change with a reason. */
static void log_some(struct fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		int64_t subj[3] = {100 + i, 200 + i, 300 + i};
		switch (i % 3) {
		case 0: log_read(f, "read", RAUMA, 10 + i, NULL, 0); break;
		case 1: log_read(f, "search", KEMI, 0, subj, 3); break;
		default:
			fresh(f);
			assert_int_equal(store_begin_write(f->db, &f->err), 0);
			assert_int_equal(
			        usage_record(&f->ctx, "update", RAUMA, "person", 10 + i, "rule-1"),
			        0);
			assert_int_equal(store_commit(f->db, &f->err), 0);
		}
	}
}

static void verify(struct fx *f, const char *anchors, struct audit_verify *v)
{
	fresh(f);
	int rc = audit_verify(&f->ctx, anchors, v);
	if (rc)
		fail_msg("audit_verify: %d %s", rc, f->err.message);
}

static void verify_ok(struct fx *f, const char *anchors)
{
	struct audit_verify v;
	verify(f, anchors, &v);
	if (v.problem[0])
		fail_msg("verify found: %s", v.problem);
	assert_int_equal(v.bad_id, 0);
}

/* Verification must fail naming entry `id` (and say so in its message). */
static void verify_names(struct fx *f, const char *anchors, int64_t id)
{
	struct audit_verify v;
	char needle[32];
	verify(f, anchors, &v);
	if (!v.problem[0])
		fail_msg("verify passed; expected a problem at entry %" PRId64, id);
	if (v.bad_id != id)
		fail_msg("verify named entry %" PRId64 ", expected %" PRId64 ": %s", v.bad_id, id,
		         v.problem);
	snprintf(needle, sizeof(needle), "entry %" PRId64, id);
	if (!strstr(v.problem, needle))
		fail_msg("message does not name %s: %s", needle, v.problem);
}

/* The file the tests keep anchor lines in, inside the data directory; into `path`. */
#define ANCHORS_MAX 96
static const char *anchors_path(struct fx *f, char path[ANCHORS_MAX])
{
	snprintf(path, ANCHORS_MAX, "%s/anchors.log", f->dir);
	return path;
}

static void anchor(struct fx *f)
{
	char path[ANCHORS_MAX];
	fresh(f);
	if (audit_anchor_write(&f->ctx, anchors_path(f, path)) != 0)
		fail_msg("audit_anchor_write: %s", f->err.message);
}

static void backup(struct fx *f)
{
	tamper(f, "DROP TABLE IF EXISTS bak; CREATE TABLE bak AS SELECT * FROM usage_log");
}

static void restore(struct fx *f)
{
	tamper(f, "DELETE FROM usage_log; INSERT INTO usage_log SELECT * FROM bak");
}

static int load_text(struct fx *f, const char *name, const char *text, size_t len)
{
	struct decl_diags dg = {0};
	int version = 0;
	bool unchanged = true;
	fresh(f);
	int rc = register_load(&f->ctx, name, text, len, &dg, &version, &unchanged, NULL);
	if (rc)
		fprintf(stderr, "register_load %s: %s %s\n", name, f->err.message,
		        dg.n ? dg.v[0].message : "");
	decl_diags_free(&dg);
	return rc;
}

static int64_t person(struct fx *f, const char *rid, const char *json)
{
	json_error_t jerr;
	json_t *in = json_loads(json, 0, &jerr);
	int64_t id = 0;
	assert_non_null(in);
	fresh(f);
	int rc = person_create(&f->ctx, rid, in, &id);
	json_decref(in);
	if (rc)
		fail_msg("person_create: %s", f->err.message);
	return id;
}

#define RAUMA_PERSON "{\"subject_group\": \"consenting_person\", \"source\": \"customer\"}"
#define KEMI_PERSON  "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\"}"

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
	struct fx *f = fixture_open("audit", register_files,
	                            sizeof(register_files) / sizeof(register_files[0]));
	if (!f)
		return -1;
	f->ctx.purpose = "customer_contact";
	f->ctx.request_id = "req-1";
	f->ctx.client = "cli";
	*state = f;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The chain                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* proves R-07, S-04: an entry on a register's data made by an anonymous visitor of the
 * public pages or by a self-service session keeps no client address (it is the subject's
 * own, and the log outlives their erasure); a sign-in entry keeps the address, and so does
 * staff's work. The chain verifies. */
static void test_subjects_address_not_logged(void **state)
{
	struct fx *f = *state;
	static const struct actor anon = {ACTOR_ANON, "anonymous", 0, 0};
	const struct actor *staff = f->ctx.actor;
	static const struct {
		const struct actor *actor;
		const char *action, *rid, *entity;
	} cases[] = {
	        {&anon, "subscribe", RAUMA, "list"},
	        {&anon, "consent_confirm", RAUMA, "consent"},
	        {&selfservice_actor, "read", RAUMA, "person"},
	        {&anon, "signin.fail", NULL, "client"},
	        {NULL, "update", RAUMA, "person"},
	};
	f->ctx.client = "198.51.100.23";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->ctx.actor = cases[i].actor ? cases[i].actor : staff;
		fresh(f);
		assert_int_equal(store_begin_write(f->db, &f->err), 0);
		assert_int_equal(usage_record(&f->ctx, cases[i].action, cases[i].rid,
		                              cases[i].entity, 7, NULL),
		                 0);
		assert_int_equal(store_commit(f->db, &f->err), 0);
	}
	f->ctx.actor = staff;
	f->ctx.client = "cli";
	char got[128];
	raw_text(f, got, sizeof(got),
	         "SELECT group_concat(action, ',') FROM (SELECT action FROM usage_log"
	         " WHERE client = '198.51.100.23' AND entity_id = ?1 ORDER BY id)",
	         7);
	assert_string_equal(got, "signin.fail,update");
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE client IS NULL AND action"
	                         " IN ('subscribe', 'consent_confirm', 'read') AND entity_id = 7",
	                         ""),
	                 3);
	struct audit_verify v;
	verify(f, NULL, &v);
	if (v.problem[0])
		fail_msg("%s", v.problem);
}

/* proves S-04: entries are chained as they are appended, and the chain verifies. */
static void test_chain_appends_and_verifies(void **state)
{
	struct fx *f = *state;
	struct audit_verify v;
	int64_t before = entries(f);
	person(f, RAUMA, RAUMA_PERSON);
	log_some(f, 9);
	verify(f, NULL, &v);
	if (v.problem[0])
		fail_msg("%s", v.problem);
	assert_int_equal(v.entries, before + 10);
	assert_int_equal(v.head_id, last_id(f));
	/* Every entry has a 32-byte hash, linked to the one before it. */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE length(hash) = 32"
	                         " AND length(prev_hash) = 32",
	                         ""),
	                 before + 10);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log a JOIN usage_log b"
	                         " ON b.id = a.id + 1 WHERE b.prev_hash <> a.hash",
	                         ""),
	                 0);
	/* The first entry starts from zero. */
	assert_int_equal(raw_int(f,
	                         "SELECT prev_hash = zeroblob(32) FROM usage_log"
	                         " ORDER BY id LIMIT 1",
	                         ""),
	                 1);
	/* The context's request, client and (NULL) user are recorded. */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE request_id = 'req-1'"
	                         " AND client = 'cli' AND user_id IS NULL",
	                         ""),
	                 before + 10);
	/* Searches are indexed by each subject returned, reads by their person. */
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM usage_subjects WHERE usage_subjects MATCH '\"201\"'",
	                ""),
	        1);
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM usage_subjects WHERE usage_subjects MATCH '\"10\"'",
	                ""),
	        1);
}

/* proves S-04: changing any column of one entry makes verify name that entry. */
static void test_verify_names_altered_entry(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *column, *value;
	} changes[] = {
	        {"at", "'2030-01-01T00:00:00Z'"},
	        {"actor", "'operator:mallory'"},
	        {"user_id", "99"},
	        {"purpose", "'information'"},
	        {"action", "'delete'"},
	        {"register_id", "'kemi-crm'"},
	        {"entity", "'organisation'"},
	        {"entity_id", "777"},
	        {"entity_id", "NULL"},
	        {"user_id", "0"}, /* kortisto writes NULL, never 0, for none */
	        {"subjects", "'1,2'"},
	        {"request_id", "'req-2'"},
	        {"client", "'10.0.0.9'"},
	        {"reason", "''"}, /* NULL and empty differ */
	        {"prev_hash", "zeroblob(32)"},
	        {"hash", "zeroblob(32)"},
	};
	log_some(f, 8);
	verify_ok(f, NULL);
	int64_t target = last_id(f) - 4;
	backup(f);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		tamper(f, "UPDATE usage_log SET %s = %s WHERE id = %" PRId64, changes[i].column,
		       changes[i].value, target);
		verify_names(f, NULL, target);
		restore(f);
		verify_ok(f, NULL);
	}
	/* The id is part of an entry too: the newest one renumbered keeps its links. */
	int64_t head = last_id(f);
	tamper(f, "UPDATE usage_log SET id = id + 100 WHERE id = %" PRId64, head);
	verify_names(f, NULL, head + 100);
}

/* proves S-04: a removed entry is found at the entry after the gap. */
static void test_verify_names_entry_after_gap(void **state)
{
	struct fx *f = *state;
	log_some(f, 8);
	int64_t gone = last_id(f) - 3;
	tamper(f, "DELETE FROM usage_log WHERE id = %" PRId64, gone);
	verify_names(f, NULL, gone + 1);

	/* The first entry removed: the chain no longer starts from zero. */
	backup(f);
	int64_t first = raw_int(f, "SELECT min(id) FROM usage_log", "");
	tamper(f, "DELETE FROM usage_log WHERE id = %" PRId64, first);
	verify_names(f, NULL, raw_int(f, "SELECT min(id) FROM usage_log", ""));
}

/* proves S-04: two entries whose contents were swapped are found. */
static void test_verify_names_swapped_entries(void **state)
{
	struct fx *f = *state;
	log_some(f, 8);
	int64_t a = last_id(f) - 5, b = last_id(f) - 2;
	backup(f);
	static const char cols[] =
	        "at, actor, user_id, purpose, action, register_id, entity,"
	        " entity_id, subjects, request_id, client, reason, prev_hash, hash";
	tamper(f,
	       "UPDATE usage_log SET (%s) = (SELECT %s FROM bak WHERE id = %" PRId64 ")"
	       " WHERE id = %" PRId64 ";"
	       "UPDATE usage_log SET (%s) = (SELECT %s FROM bak WHERE id = %" PRId64 ")"
	       " WHERE id = %" PRId64,
	       cols, cols, b, a, cols, cols, a, b);
	verify_names(f, NULL, a);

	/* Only the contents, keeping the hashes in place: found too. */
	restore(f);
	static const char content[] = "at, actor, user_id, purpose, action, register_id, entity,"
	                              " entity_id, subjects, request_id, client, reason";
	tamper(f,
	       "UPDATE usage_log SET (%s) = (SELECT %s FROM bak WHERE id = %" PRId64 ")"
	       " WHERE id = %" PRId64 ";"
	       "UPDATE usage_log SET (%s) = (SELECT %s FROM bak WHERE id = %" PRId64 ")"
	       " WHERE id = %" PRId64,
	       content, content, b, a, content, content, a, b);
	verify_names(f, NULL, a);
}

/* proves S-04: a truncated tail passes the chain check but not the anchors. */
static void test_truncated_tail_needs_anchor(void **state)
{
	struct fx *f = *state;
	char anchors[ANCHORS_MAX];
	anchors_path(f, anchors);
	struct audit_verify v;
	log_some(f, 6);
	anchor(f);
	int64_t head = last_id(f);
	verify_ok(f, anchors);
	verify(f, anchors, &v);
	assert_int_equal(v.anchors, 1);

	backup(f);
	tamper(f, "DELETE FROM usage_log WHERE id >= %" PRId64, head - 1);
	verify_ok(f, NULL); /* the rest of the chain is intact */
	verify_names(f, anchors, head);
	verify(f, anchors, &v);
	assert_non_null(strstr(v.problem, "truncated"));

	/* New entries reuse the removed ids but cannot have the anchored hash. */
	log_some(f, 3);
	assert_true(last_id(f) >= head);
	verify_ok(f, NULL);
	verify_names(f, anchors, head);

	/* Restored, the anchor verifies again; an altered anchor line does not. */
	restore(f);
	verify_ok(f, anchors);
	size_t len = 0;
	char *text = slurp(anchors, &len);
	assert_non_null(text);
	char *h = strstr(text, "hash=");
	assert_non_null(h);
	h[5] = h[5] == '0' ? '1' : '0';
	FILE *out = fopen(anchors, "w");
	assert_non_null(out);
	fwrite(text, 1, len, out);
	fclose(out);
	free(text);
	verify(f, anchors, &v);
	assert_non_null(strstr(v.problem, "signature"));
}

/* The anchor line carries the head and a signature the public key checks. */
static void test_anchor_line(void **state)
{
	struct fx *f = *state;
	char line[AUDIT_ANCHOR_MAX], pk[65];
	log_some(f, 2);
	fresh(f);
	assert_int_equal(audit_anchor(&f->ctx, line), 0);
	char want[64];
	snprintf(want, sizeof(want), "kortisto-anchor v1 id=%" PRId64 " hash=", last_id(f));
	assert_memory_equal(line, want, strlen(want));
	assert_non_null(strstr(line, " at=2026-01-01T00:00:00Z sig="));
	audit_public_key(f->app, pk);
	assert_int_equal(strlen(pk), 64);
	const char *sig = strstr(line, " sig=") + 5;
	unsigned char s[SIGN_BYTES], key[SIGN_PUBLIC_BYTES];
	for (size_t i = 0; i < SIGN_BYTES; i++)
		assert_int_equal(sscanf(sig + 2 * i, "%2hhx", &s[i]), 1);
	for (size_t i = 0; i < SIGN_PUBLIC_BYTES; i++)
		assert_int_equal(sscanf(pk + 2 * i, "%2hhx", &key[i]), 1);
	size_t msglen = (size_t)(sig - 5 - line);
	assert_true(sign_verify(key, line, msglen, s));
	line[3] ^= 1;
	assert_false(sign_verify(key, line, msglen, s));
}

/* ------------------------------------------------------------------------------------------ */
/* Prune and checkpoints                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* proves S-04: pruning leaves a chain that verifies from a signed checkpoint. */
static void test_prune_then_verify(void **state)
{
	struct fx *f = *state;
	char anchors[ANCHORS_MAX];
	anchors_path(f, anchors);
	tamper(f, "DELETE FROM usage_log; INSERT INTO usage_subjects(usage_subjects) VALUES "
	          "('delete-all')");
	struct audit_pruned p;
	struct audit_verify v;

	kctx_set_now(&f->ctx, NOW - 400 * DAY);
	log_some(f, 6);
	int64_t old_last = last_id(f);
	anchor(f); /* an anchor of an entry that will be pruned */
	kctx_set_now(&f->ctx, NOW - 10 * DAY);
	log_some(f, 4);
	int64_t total = entries(f);
	kctx_set_now(&f->ctx, NOW);

	/* Retention 0 with no date: refused. */
	f->app->cfg.usage_log_retention_days = 0;
	fresh(f);
	assert_int_equal(audit_prune(&f->ctx, 0, &p), KERR_REFUSED);
	assert_int_equal(entries(f), total);

	f->app->cfg.usage_log_retention_days = 365;
	fresh(f);
	assert_int_equal(audit_prune(&f->ctx, 0, &p), 0);
	assert_int_equal(p.removed, 6);
	assert_int_equal(p.last_id, old_last);
	assert_true(p.checkpoint > 0);
	/* 4 kept + the "audit.prune" entry. */
	assert_int_equal(entries(f), total - 6 + 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM usage_log WHERE id <= ?1", "i", old_last),
	                 0);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM usage_subjects WHERE rowid <= ?1", "i", old_last),
	        0);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'audit.prune'"
	                         " AND entity = 'checkpoint' AND entity_id = ?1",
	                         "i", p.checkpoint),
	                 1);
	verify(f, anchors, &v);
	if (v.problem[0])
		fail_msg("%s", v.problem);
	assert_int_equal(v.entries, total - 6 + 1);
	assert_int_equal(v.checkpoint_id, old_last);
	assert_int_equal(v.anchors, 1);

	/* Nothing older left: a second prune removes nothing. */
	fresh(f);
	assert_int_equal(audit_prune(&f->ctx, 0, &p), 0);
	assert_int_equal(p.removed, 0);

	/* A tampered checkpoint fails, and so does a removed one. */
	backup(f);
	tamper(f, "UPDATE usage_checkpoints SET last_id = last_id - 1");
	verify(f, NULL, &v);
	assert_true(v.problem[0] != '\0');
	assert_non_null(strstr(v.problem, "checkpoint"));
	tamper(f, "UPDATE usage_checkpoints SET last_id = last_id + 1;"
	          "UPDATE usage_checkpoints SET last_hash = zeroblob(32)");
	verify(f, NULL, &v);
	assert_non_null(strstr(v.problem, "signature"));
	tamper(f, "DELETE FROM usage_checkpoints");
	verify_names(f, NULL, old_last + 1);
}

/* Pruning everything keeps the ids growing, and the chain verifies from the checkpoint. */
static void test_prune_everything(void **state)
{
	struct fx *f = *state;
	tamper(f, "DELETE FROM usage_log; INSERT INTO usage_subjects(usage_subjects) VALUES "
	          "('delete-all')");
	struct audit_pruned p;
	log_some(f, 5);
	int64_t head = last_id(f);
	fresh(f);
	assert_int_equal(audit_prune(&f->ctx, NOW + DAY, &p), 0);
	assert_int_equal(p.last_id, head);
	assert_int_equal(entries(f), 1);
	assert_int_equal(last_id(f), head + 1);
	verify_ok(f, NULL);
	log_some(f, 2);
	verify_ok(f, NULL);
	/* A tampered prefix is not pruned away. */
	kctx_set_now(&f->ctx, NOW + 2 * DAY);
	log_some(f, 2);
	int64_t bad = last_id(f) - 1;
	tamper(f, "UPDATE usage_log SET actor = 'x' WHERE id = %" PRId64, bad);
	fresh(f);
	assert_int_equal(audit_prune(&f->ctx, NOW + 3 * DAY, &p), KERR_CONFLICT);
	char named[32];
	snprintf(named, sizeof(named), "entry %" PRId64 " ", bad);
	if (!strstr(f->err.message, named))
		fail_msg("prune refusal does not name %s: %s", named, f->err.message);
	assert_true(raw_int(f, "SELECT count(*) FROM usage_log WHERE id = ?1", "i", bad) == 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Backfill                                                                                   */
/* ------------------------------------------------------------------------------------------ */

#define LEGACY                                                                                     \
	"INSERT INTO usage_log(id, at, actor, purpose, action, register_id, entity, entity_id,"    \
	" reason) VALUES "

/* proves S-04: entries from before the chain are chained in id order, by the next append. */
static void test_backfill_on_append(void **state)
{
	struct fx *f = *state;
	tamper(f, "DELETE FROM usage_log; INSERT INTO usage_subjects(usage_subjects) VALUES "
	          "('delete-all');" LEGACY
	          "(1, '2025-01-01T00:00:00Z', 'operator:old', NULL, 'create', 'rauma-crm',"
	          " 'person', 5, NULL),"
	          "(2, '2025-01-02T00:00:00Z', 'operator:old', 'x', 'read', 'rauma-crm',"
	          " 'person', 5, NULL),"
	          "(4, '2025-01-03T00:00:00Z', 'operator:old', NULL, 'delete', 'rauma-crm',"
	          " 'organisation', 7, 'r')");
	log_read(f, "read", RAUMA, 6, NULL, 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM usage_log WHERE hash IS NULL", ""), 0);
	assert_int_equal(last_id(f), 5);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM usage_subjects WHERE usage_subjects MATCH '\"5\"'",
	                ""),
	        2);
	verify_ok(f, NULL);
	/* Once chained, they are protected like the rest. */
	tamper(f, "UPDATE usage_log SET actor = 'operator:new' WHERE id = 2");
	verify_names(f, NULL, 2);
}

/* Verify chains entries from before the chain too; once the chain exists, an entry without
 * a hash is not blessed but reported. */
static void test_backfill_on_verify(void **state)
{
	struct fx *f = *state;
	struct audit_verify v;
	tamper(f, "DELETE FROM usage_log;" LEGACY
	          "(1, '2025-01-01T00:00:00Z', 'operator:old', NULL, 'create', 'kemi-crm',"
	          " 'person', 9, NULL),"
	          "(2, '2025-01-02T00:00:00Z', 'operator:old', NULL, 'read', 'kemi-crm',"
	          " 'person', 9, NULL)");
	verify(f, NULL, &v);
	if (v.problem[0])
		fail_msg("%s", v.problem);
	assert_int_equal(v.entries, 2);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM usage_log WHERE hash IS NULL", ""), 0);

	/* An entry slipped in without a hash after the chain began. */
	tamper(f, LEGACY "(3, '2025-01-03T00:00:00Z', 'operator:x', NULL, 'read', 'kemi-crm',"
	                 " 'person', 9, NULL)");
	verify_names(f, NULL, 3);
	/* Appending still works (and does not bless entry 3). */
	log_read(f, "read", KEMI, 9, NULL, 0);
	assert_int_equal(last_id(f), 4);
	verify_names(f, NULL, 3);
	tamper(f, "DELETE FROM usage_log WHERE id = 3");
	verify_ok(f, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* The log writer                                                                             */
/* ------------------------------------------------------------------------------------------ */

#define LW_THREADS 8
#define LW_EACH    2000

struct submitter {
	struct logwriter *lw;
	int n;
	bool wait_each; /* wait for each callback before the next submit (as requests do) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pending, done, failed;
	char name[32];
};

static void on_done(void *arg, int rc)
{
	struct submitter *s = arg;
	pthread_mutex_lock(&s->mu);
	s->pending--;
	s->done++;
	if (rc)
		s->failed++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void *submit_loop(void *arg)
{
	struct submitter *s = arg;
	struct kerr err = {0};
	struct actor actor = {ACTOR_USER, s->name, 42, 0};
	struct kctx ctx = {.actor = &actor, .purpose = "customer_contact", .err = &err};
	char rid[64];
	kctx_set_now(&ctx, NOW);
	ctx.client = "192.0.2.1";
	for (int i = 0; i < s->n; i++) {
		int64_t subject = 1000 + i;
		snprintf(rid, sizeof(rid), "req-%s-%d", s->name, i);
		ctx.request_id = rid;
		struct usage_entry e = {
		        .action = "read",
		        .rid = RAUMA,
		        .entity = "person",
		        .entity_id = subject,
		};
		pthread_mutex_lock(&s->mu);
		s->pending++;
		pthread_mutex_unlock(&s->mu);
		if (logwriter_submit(s->lw, &ctx, &e, 1, on_done, s) != 0) {
			pthread_mutex_lock(&s->mu);
			s->pending--;
			s->failed++;
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		if (s->wait_each) {
			pthread_mutex_lock(&s->mu);
			while (s->pending)
				pthread_cond_wait(&s->cv, &s->mu);
			pthread_mutex_unlock(&s->mu);
		}
	}
	return NULL;
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs LW_THREADS submitters; returns entries per second. With `stop_early` the writer is
 * stopped as soon as everything is queued: it must still write and call back everything. */
static double run_submitters(struct fx *f, bool wait_each, bool stop_early)
{
	struct submitter s[LW_THREADS];
	pthread_t t[LW_THREADS];
	struct logwriter *lw = NULL;
	fresh(f);
	assert_int_equal(logwriter_start(f->app, &lw, &f->err), 0);
	double t0 = seconds();
	for (int i = 0; i < LW_THREADS; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].lw = lw;
		s[i].n = LW_EACH;
		s[i].wait_each = wait_each;
		snprintf(s[i].name, sizeof(s[i].name), "user:t%d", i);
		pthread_mutex_init(&s[i].mu, NULL);
		pthread_cond_init(&s[i].cv, NULL);
		assert_int_equal(pthread_create(&t[i], NULL, submit_loop, &s[i]), 0);
	}
	for (int i = 0; i < LW_THREADS; i++)
		pthread_join(t[i], NULL);
	if (stop_early) {
		logwriter_stop(lw);
		lw = NULL;
	}
	for (int i = 0; i < LW_THREADS; i++) {
		pthread_mutex_lock(&s[i].mu);
		while (s[i].pending)
			pthread_cond_wait(&s[i].cv, &s[i].mu);
		pthread_mutex_unlock(&s[i].mu);
	}
	double dt = seconds() - t0;
	logwriter_stop(lw);
	for (int i = 0; i < LW_THREADS; i++) {
		assert_int_equal(s[i].failed, 0);
		assert_int_equal(s[i].done, LW_EACH);
		pthread_mutex_destroy(&s[i].mu);
		pthread_cond_destroy(&s[i].cv);
	}
	return LW_THREADS * LW_EACH / dt;
}

/* proves S-04: concurrent reads are group-committed; every callback reports success only
 * for an entry on disk, and the chain verifies. Prints the measured rate. */
static void test_logwriter_concurrent(void **state)
{
	struct fx *f = *state;
	struct audit_verify v;
	int64_t before = entries(f);

	double each = run_submitters(f, true, false);
	assert_int_equal(entries(f), before + LW_THREADS * LW_EACH);
	double burst = run_submitters(f, false, true);
	assert_int_equal(entries(f), before + 2 * LW_THREADS * LW_EACH);
	print_message("log writer, %d threads x %d entries: %.0f entries/s waiting for each; "
	              "%.0f entries/s submitting without waiting\n",
	              LW_THREADS, LW_EACH, each, burst);

	verify(f, NULL, &v);
	if (v.problem[0])
		fail_msg("%s", v.problem);
	assert_int_equal(v.entries, before + 2 * LW_THREADS * LW_EACH);
	/* Copied fields arrive: actor, user, request id, client, purpose, subject index. */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE actor = 'user:t3'"
	                         " AND user_id = 42 AND client = '192.0.2.1'"
	                         " AND purpose = 'customer_contact' AND at = ?1",
	                         "s", "2026-01-01T00:00:00Z"),
	                 2 * LW_EACH);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM usage_log WHERE request_id = 'req-user:t5-7'", ""),
	        2);
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM usage_subjects WHERE usage_subjects MATCH '\"1007\"'",
	                ""),
	        2 * LW_THREADS);
}

static void on_done_check(void *arg, int rc)
{
	struct submitter *s = arg;
	pthread_mutex_lock(&s->mu);
	s->pending--;
	s->done++;
	s->failed += rc != 0;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* The callback comes after the entry is committed: another connection sees it then. Entries
 * copied at submit: the caller's strings may change at once. */
static void test_logwriter_callback_after_commit(void **state)
{
	struct fx *f = *state;
	struct logwriter *lw = NULL;
	struct submitter s = {0};
	char action[16] = "read", rid[16] = RAUMA;
	int64_t subjects[2] = {7, 8};
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	fresh(f);
	assert_int_equal(logwriter_start(f->app, &lw, &f->err), 0);
	int64_t before = entries(f);
	struct usage_entry e[2] = {
	        {.action = action, .rid = rid, .entity = "person", .entity_id = 5},
	        {.action = "search", .rid = rid, .subjects = subjects, .nsubjects = 2},
	};
	s.pending = 1;
	assert_int_equal(logwriter_submit(lw, &f->ctx, e, 2, on_done_check, &s), 0);
	strcpy(action, "XXXX");
	strcpy(rid, "XXXX");
	subjects[0] = 99;
	pthread_mutex_lock(&s.mu);
	while (s.pending)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	assert_int_equal(s.failed, 0);
	assert_int_equal(entries(f), before + 2);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action = 'read'"
	                         " AND register_id = 'rauma-crm' AND entity_id = 5",
	                         ""),
	                 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM usage_log WHERE subjects = '7,8'", ""),
	                 1);
	logwriter_stop(lw);
	logwriter_stop(NULL);
	verify_ok(f, NULL);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
}

/* ------------------------------------------------------------------------------------------ */
/* audit show                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static json_t *list(struct fx *f, const struct audit_filter *flt, const char *cursor, int limit)
{
	json_t *out = NULL;
	fresh(f);
	int rc = audit_list(&f->ctx, flt, cursor, limit, &out);
	if (rc)
		fail_msg("audit_list: %s", f->err.message);
	return out;
}

static size_t count_items(json_t *out)
{
	return json_array_size(json_object_get(out, "items"));
}

/* proves S-04: the log answers who looked at a subject, what a user did, since when. */
static void test_audit_show_filters(void **state)
{
	struct fx *f = *state;
	int64_t p1 = person(f, RAUMA, RAUMA_PERSON);
	int64_t p2 = person(f, RAUMA, RAUMA_PERSON);
	int64_t k1 = person(f, KEMI, KEMI_PERSON);
	tamper(f, "INSERT INTO users(name, created_at, created_by)"
	          " VALUES ('maija', '2026-01-01T00:00:00Z', 'test')");
	int64_t maija = raw_int(f, "SELECT id FROM users WHERE name = 'maija'", "");
	assert_true(maija > 0);

	kctx_set_now(&f->ctx, NOW + 10 * DAY);
	f->actor.kind = ACTOR_USER;
	f->actor.name = "user:maija";
	f->actor.user_id = maija;
	log_read(f, "read", RAUMA, p1, NULL, 0);
	int64_t both[2] = {p2, p1};
	log_read(f, "search", RAUMA, 0, both, 2);
	log_read(f, "read", KEMI, k1, NULL, 0);
	f->actor.kind = ACTOR_OPERATOR;
	f->actor.name = "operator:test";
	f->actor.user_id = 0;
	kctx_set_now(&f->ctx, NOW + 20 * DAY);
	log_read(f, "read", RAUMA, p2, NULL, 0);

	/* p1 in rauma: its creation, maija's read and maija's search, newest first. */
	struct audit_filter by_subject = {.rid = RAUMA, .subject = p1};
	json_t *out = list(f, &by_subject, NULL, 0);
	json_t *items = json_object_get(out, "items");
	assert_int_equal(json_array_size(items), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "action")),
	                    "search");
	assert_int_equal(json_array_size(json_object_get(json_array_get(items, 0), "subjects")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 2), "action")),
	                    "create");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "user_id")),
	                 maija);
	json_decref(out);
	/* The listing was logged, concerning p1. */
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log l JOIN usage_subjects s"
	                         " ON s.rowid = l.id WHERE l.action = 'audit.show'"
	                         " AND usage_subjects MATCH ?1",
	                         "s", arena_printf(&f->mem, "\"%lld\"", (long long)p1)),
	                 1);

	/* maija's entries, all registers, then only kemi. */
	struct audit_filter by_user = {.user = "maija"};
	out = list(f, &by_user, NULL, 0);
	assert_int_equal(count_items(out), 3);
	json_decref(out);
	by_user.rid = KEMI;
	out = list(f, &by_user, NULL, 0);
	assert_int_equal(count_items(out), 1);
	json_decref(out);

	/* Since a date. */
	struct audit_filter since = {.rid = RAUMA, .since = "2026-01-15"};
	out = list(f, &since, NULL, 0);
	items = json_object_get(out, "items");
	assert_true(json_array_size(items) >= 1);
	for (size_t i = 0; i < json_array_size(items); i++)
		assert_true(
		        strcmp(json_string_value(json_object_get(json_array_get(items, i), "at")),
		               "2026-01-15T00:00:00Z") >= 0);
	json_decref(out);

	/* Refusals. */
	json_t *none = NULL;
	struct audit_filter bad_user = {.user = "nobody"};
	fresh(f);
	assert_int_equal(audit_list(&f->ctx, &bad_user, NULL, 0, &none), KERR_NOTFOUND);
	assert_string_equal(f->err.field, "user");
	struct audit_filter bad_rid = {.rid = "no-such"};
	fresh(f);
	assert_int_equal(audit_list(&f->ctx, &bad_rid, NULL, 0, &none), KERR_NOTFOUND);
	struct audit_filter bad_since = {.since = "2026-13-01"};
	fresh(f);
	assert_int_equal(audit_list(&f->ctx, &bad_since, NULL, 0, &none), KERR_INVALID);
	assert_string_equal(f->err.field, "since");
	fresh(f);
	struct audit_filter all = {0};
	assert_int_equal(audit_list(&f->ctx, &all, "zz", 0, &none), KERR_INVALID);
	assert_null(none);
}

/* Pages follow the cursor newest first, without repeats or gaps. */
static void test_audit_show_pages(void **state)
{
	struct fx *f = *state;
	log_some(f, 13);
	struct audit_filter flt = {.rid = RAUMA};
	int64_t want =
	        raw_int(f, "SELECT count(*) FROM usage_log WHERE register_id = 'rauma-crm'", "");
	int64_t top =
	        raw_int(f, "SELECT max(id) FROM usage_log WHERE register_id = 'rauma-crm'", "");
	char cursor[32] = "";
	int64_t seen = 0, prev = INT64_MAX;
	for (int pages = 0; pages < 100; pages++) {
		json_t *out = list(f, &flt, cursor[0] ? cursor : NULL, 3);
		json_t *items = json_object_get(out, "items");
		assert_true(json_array_size(items) <= 3);
		for (size_t i = 0; i < json_array_size(items); i++) {
			int64_t id =
			        json_integer_value(json_object_get(json_array_get(items, i), "id"));
			assert_true(id < prev);
			assert_true(id <= top); /* the listings' own entries come later */
			prev = id;
			seen++;
		}
		const char *next = json_string_value(json_object_get(out, "next"));
		if (next)
			snprintf(cursor, sizeof(cursor), "%s", next);
		json_decref(out);
		if (!next)
			break;
	}
	assert_int_equal(seen, want);
}

/* Lookups by subject, user and disclosure walk an index; none scans or sorts. */
static void test_audit_lookups_use_indexes(void **state)
{
	struct fx *f = *state;
	static const enum stmt_id lookups[] = {
	        ST_AUDIT_BY_SUBJECT, ST_AUDIT_BY_USER,         ST_AUDIT_BY_REGISTER,
	        ST_USAGE_HASH_OF,    ST_USAGE_SUBJECT_DELETE,  ST_DISCLOSURE_PERSON,
	        ST_DISCLOSURE_LIST,  ST_DISCLOSURE_BY_SUBJECT, ST_DISCLOSURE_SUBJECTS,
	        ST_AUDIT_USER_ID,
	};
	assert_indexed(f, lookups, sizeof(lookups) / sizeof(lookups[0]));
}

/* ------------------------------------------------------------------------------------------ */
/* Disclosures                                                                                */
/* ------------------------------------------------------------------------------------------ */

struct written {
	int64_t disclosures, subjects, usage;
};

static struct written written(struct fx *f)
{
	struct written w = {
	        raw_int(f, "SELECT count(*) FROM disclosures", ""),
	        raw_int(f, "SELECT count(*) FROM disclosure_subjects", ""),
	        entries(f),
	};
	return w;
}

/* proves S-07: a disclosure to a declared recipient is recorded with its subjects and logged. */
static void test_disclosure_recorded(void **state)
{
	struct fx *f = *state;
	int64_t p1 = person(f, RAUMA, RAUMA_PERSON), p2 = person(f, RAUMA, RAUMA_PERSON);
	static const char *const cats[] = {"identity"};
	int64_t subjects[] = {p2, p1, p2};
	struct disclosure_in in = {
	        .recipient = "partners",
	        .purpose = "municipal_services",
	        .legal_basis = "asiakkaan suostumus",
	        .categories = cats,
	        .ncategories = 1,
	        .subjects = subjects,
	        .nsubjects = 3,
	        .reference = "KAUPUNKI-2026-17",
	};
	int64_t id = 0;
	struct written w0 = written(f);
	fresh(f);
	if (disclosure_record(&f->ctx, RAUMA, &in, &id) != 0)
		fail_msg("disclosure_record: %s", f->err.message);
	assert_true(id > 0);
	struct written w1 = written(f);
	assert_int_equal(w1.disclosures, w0.disclosures + 1);
	assert_int_equal(w1.subjects, w0.subjects + 2); /* duplicates once */
	assert_int_equal(w1.usage, w0.usage + 1);
	/* Read back as stored, the answer to the one who recorded it: each subject once. */
	json_t *stored = NULL;
	fresh(f);
	assert_int_equal(disclosure_get(&f->ctx, RAUMA, id, &stored), 0);
	assert_int_equal(json_integer_value(json_object_get(stored, "id")), id);
	assert_int_equal(json_array_size(json_object_get(stored, "subjects")), 2);
	assert_string_equal(json_string_value(json_object_get(stored, "reference")),
	                    "KAUPUNKI-2026-17");
	json_decref(stored);
	assert_int_equal(w1.usage, written(f).usage); /* not a read of its own */
	fresh(f);
	assert_int_equal(disclosure_get(&f->ctx, RAUMA, id + 1000, &stored), KERR_NOTFOUND);
	char buf[256];
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT recipient || '|' || purpose || '|' || legal_basis"
	                             " || '|' || categories || '|' || request_ref || '|' || actor"
	                             " FROM disclosures WHERE id = ?1",
	                             id),
	                    "partners|municipal_services|asiakkaan suostumus|[\"identity\"]|"
	                    "KAUPUNKI-2026-17|operator:test");
	/* The usage entry: disclose, the disclosure, its subjects, under the disclosure's
	 * purpose; and it is found by subject. */
	int64_t log = last_id(f);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT action || '|' || entity || '|' || entity_id || '|'"
	                             " || register_id || '|' || purpose FROM usage_log"
	                             " WHERE id = ?1",
	                             log),
	                    "disclose|disclosure|1|rauma-crm|municipal_services");
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM usage_subjects WHERE rowid = ?1", "i", log), 1);
	verify_ok(f, NULL);

	/* Listed, newest first, with subjects; the list is itself logged. */
	json_t *out = NULL;
	fresh(f);
	assert_int_equal(disclosure_list(&f->ctx, RAUMA, 0, NULL, 0, &out), 0);
	json_t *items = json_object_get(out, "items");
	assert_int_equal(json_array_size(items), 1);
	json_t *d = json_array_get(items, 0);
	assert_int_equal(json_integer_value(json_object_get(d, "id")), id);
	assert_int_equal(json_array_size(json_object_get(d, "subjects")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(d, "categories"), 0)),
	                    "identity");
	json_decref(out);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM usage_log WHERE action ="
	                         " 'disclosure.list'",
	                         ""),
	                 1);
	fresh(f);
	assert_int_equal(disclosure_list(&f->ctx, RAUMA, p1, NULL, 0, &out), 0);
	assert_int_equal(count_items(out), 1);
	json_decref(out);
	fresh(f);
	assert_int_equal(disclosure_list(&f->ctx, KEMI, 0, NULL, 0, &out), 0);
	assert_int_equal(count_items(out), 0);
	json_decref(out);

	/* Kemi: a declared legal reference matches whatever its case; the declared one is
	 * stored. */
	int64_t k = person(f, KEMI, KEMI_PERSON);
	static const char *const kcats[] = {"contact"};
	struct disclosure_in kin = {
	        .recipient = "digipolis",
	        .purpose = "customer_relations",
	        .legal_basis = "  JULKISUUSLAKI 621/1999 13 §",
	        .categories = kcats,
	        .ncategories = 1,
	        .subjects = &k,
	        .nsubjects = 1,
	};
	fresh(f);
	if (disclosure_record(&f->ctx, KEMI, &kin, &id) != 0)
		fail_msg("disclosure_record: %s", f->err.message);
	assert_string_equal(raw_text(f, buf, sizeof(buf),
	                             "SELECT legal_basis FROM disclosures WHERE id = ?1", id),
	                    "julkisuuslaki 621/1999 13 §");
}

struct refusal {
	const char *what;
	const char *rid, *recipient, *purpose, *basis, *category;
	int subject; /* 0 none, 1 a person of the register, and after it: 2 a kemi person, 3 an
	              * unknown id, 4 a restricted person */
	int code;
	const char *field;
};

/* proves S-07, M-06: every rule refuses with its field, and nothing is written. */
static void test_disclosure_refusals(void **state)
{
	struct fx *f = *state;
	int64_t ids[5] = {0};
	ids[1] = person(f, RAUMA, RAUMA_PERSON);
	ids[2] = person(f, KEMI, KEMI_PERSON);
	ids[3] = 999999;
	ids[4] = person(f, RAUMA, RAUMA_PERSON);
	tamper(f, "UPDATE persons SET status = 'restricted' WHERE id = %" PRId64, ids[4]);
	static const struct refusal cases[] = {
	        {"unknown register", "no-such", "partners", "municipal_services", "sopimus",
	         "identity", 1, KERR_NOTFOUND, "register"},
	        {"undeclared recipient", RAUMA, "acme", "municipal_services", "sopimus", "identity",
	         1, KERR_REFUSED, "recipient"},
	        {"internal system", RAUMA, "newsletter", "information", "sopimus", "identity", 1,
	         KERR_REFUSED, "recipient"},
	        {"processor", KEMI, "external_expert", "customer_relations",
	         "julkisuuslaki 621/1999 13 §", "contact", 1, KERR_REFUSED, "recipient"},
	        {"M-06 direct marketing", RAUMA, "partners", "direct_marketing", "sopimus",
	         "identity", 1, KERR_REFUSED, "purpose"},
	        {"M-06 telemarketing", RAUMA, "partners", "telemarketing", "sopimus", "identity", 1,
	         KERR_REFUSED, "purpose"},
	        {"M-06 address service", KEMI, "digipolis", "address_service",
	         "julkisuuslaki 621/1999 13 §", "contact", 1, KERR_REFUSED, "purpose"},
	        {"M-06 market research", KEMI, "digipolis", "market_research",
	         "julkisuuslaki 621/1999 13 §", "contact", 1, KERR_REFUSED, "purpose"},
	        {"purpose not the recipient's", RAUMA, "partners", "information", "sopimus",
	         "identity", 1, KERR_REFUSED, "purpose"},
	        {"empty basis", RAUMA, "partners", "municipal_services", "  ", "identity", 1,
	         KERR_REFUSED, "legal_basis"},
	        {"no basis", RAUMA, "partners", "municipal_services", NULL, "identity", 1,
	         KERR_REFUSED, "legal_basis"},
	        {"basis not a declared reference", KEMI, "digipolis", "customer_relations",
	         "GDPR 6(1)(e)", "contact", 1, KERR_REFUSED, "legal_basis"},
	        {"part of a declared reference", KEMI, "digipolis", "customer_relations",
	         "julkisuuslaki 621/1999", "contact", 1, KERR_REFUSED, "legal_basis"},
	        {"undeclared category", RAUMA, "partners", "municipal_services", "sopimus",
	         "health", 1, KERR_REFUSED, "categories"},
	        {"category not the recipient's", RAUMA, "partners", "municipal_services", "sopimus",
	         "online", 1, KERR_REFUSED, "categories"},
	        {"no category", RAUMA, "partners", "municipal_services", "sopimus", NULL, 1,
	         KERR_REFUSED, "categories"},
	        {"no subjects", RAUMA, "partners", "municipal_services", "sopimus", "identity", 0,
	         KERR_REFUSED, "subjects"},
	        {"subject of another register", RAUMA, "partners", "municipal_services", "sopimus",
	         "identity", 2, KERR_REFUSED, "subjects"},
	        {"unknown subject", RAUMA, "partners", "municipal_services", "sopimus", "identity",
	         3, KERR_REFUSED, "subjects"},
	        {"restricted subject", RAUMA, "partners", "municipal_services", "sopimus",
	         "identity", 4, KERR_REFUSED, "subjects"},
	};
	struct written w0 = written(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct refusal *c = &cases[i];
		const char *cats[1] = {c->category};
		/* A valid subject of the case's register, then the bad one. */
		int64_t subj[2] = {strcmp(c->rid, KEMI) == 0 ? ids[2] : ids[1], ids[c->subject]};
		struct disclosure_in in = {
		        .recipient = c->recipient,
		        .purpose = c->purpose,
		        .legal_basis = c->basis,
		        .categories = cats,
		        .ncategories = c->category ? 1 : 0,
		        .subjects = subj,
		        .nsubjects = c->subject == 0   ? 0
		                     : c->subject == 1 ? 1
		                                       : 2,
		};
		int64_t id = -1;
		fresh(f);
		int rc = disclosure_record(&f->ctx, c->rid, &in, &id);
		if (rc != c->code || strcmp(f->err.field, c->field) != 0)
			fail_msg("%s: rc %d field '%s' (%s); expected %d '%s'", c->what, rc,
			         f->err.field, f->err.message, c->code, c->field);
		assert_int_equal(id, 0);
		struct written w = written(f);
		if (w.disclosures != w0.disclosures || w.subjects != w0.subjects ||
		    w.usage != w0.usage)
			fail_msg("%s: something was written", c->what);
	}
}

/* proves M-06: the four purposes are refused even when a declaration neither forbids them
 * nor keeps its recipient from them, and so is a purpose declared as direct marketing. */
static void test_disclosure_m06_beyond_the_declaration(void **state)
{
	struct fx *f = *state;
	size_t len = 0;
	char *text = slurp("registers/rauma-crm.yaml", &len);
	assert_non_null(text);
	struct {
		const char *from, *to;
	} edits[] = {
	        {"\nid: rauma-crm", "\nid: m06-test"},
	        {"  forbidden_purposes: [direct_marketing, telemarketing, address_service, "
	         "market_research]\n",
	         ""},
	        {"purposes: [customer_contact, municipal_services]",
	         "purposes: [customer_contact, municipal_services, information]"},
	        {"      en: \"providing municipal services\"\n",
	         "      en: \"providing municipal services\"\n    direct_marketing: true\n"},
	};
	char *t = text;
	for (size_t e = 0; e < sizeof(edits) / sizeof(edits[0]); e++) {
		char *at = strstr(t, edits[e].from);
		if (!at)
			fail_msg("rauma-crm.yaml has changed: '%s' not found", edits[e].from);
		size_t a = strlen(edits[e].from), b = strlen(edits[e].to), n = strlen(t);
		char *u = malloc(n - a + b + 1);
		memcpy(u, t, (size_t)(at - t));
		memcpy(u + (at - t), edits[e].to, b);
		memcpy(u + (at - t) + b, at + a, n - (size_t)(at - t) - a + 1);
		free(t);
		t = u;
	}
	/* customer_contact becomes telemarketing everywhere. */
	for (char *p; (p = strstr(t, "customer_contact"));) {
		size_t n = strlen(t);
		char *u = malloc(n + 1);
		memcpy(u, t, (size_t)(p - t));
		memcpy(u + (p - t), "telemarketing", 13);
		memcpy(u + (p - t) + 13, p + 16, n - (size_t)(p - t) - 16 + 1);
		free(t);
		t = u;
	}
	assert_int_equal(load_text(f, "m06.yaml", t, strlen(t)), 0);
	free(t);
	assert_int_equal(app_load_registers(f->app, f->db, true, NULL, &f->err), 0);
	int64_t p = person(f, "m06-test",
	                   "{\"subject_group\": \"consenting_person\","
	                   " \"source\": \"customer\"}");
	static const char *const cats[] = {"identity"};
	struct disclosure_in in = {
	        .recipient = "partners",
	        .legal_basis = "sopimus",
	        .categories = cats,
	        .ncategories = 1,
	        .subjects = &p,
	        .nsubjects = 1,
	};
	static const char *const refused[] = {"telemarketing", "municipal_services"};
	for (size_t i = 0; i < 2; i++) {
		int64_t id = -1;
		in.purpose = refused[i];
		fresh(f);
		assert_int_equal(disclosure_record(&f->ctx, "m06-test", &in, &id), KERR_REFUSED);
		assert_string_equal(f->err.field, "purpose");
		assert_non_null(strstr(f->err.message, "never"));
	}
	/* The control: another purpose of the same recipient goes through. */
	int64_t id = 0;
	in.purpose = "information";
	fresh(f);
	if (disclosure_record(&f->ctx, "m06-test", &in, &id) != 0)
		fail_msg("control: %s", f->err.message);
	assert_true(id > 0);
}

/* The API body is read by allow-list. */
static void test_disclosure_from_json(void **state)
{
	struct fx *f = *state;
	struct disclosure_in in;
	json_error_t jerr;
	static const struct {
		const char *json;
		int code;
		const char *field;
	} cases[] = {
	        {"{\"recipient\": \"partners\", \"purpose\": \"municipal_services\","
	         " \"legal_basis\": \"x\", \"categories\": [\"identity\"], \"subjects\": [1, 2],"
	         " \"reference\": \"R-1\"}",
	         0, ""},
	        {"{\"recipient\": \"partners\", \"purpose\": \"p\", \"name\": \"Maija\"}",
	         KERR_INVALID, "name"},
	        {"{\"purpose\": \"p\"}", KERR_INVALID, "recipient"},
	        {"{\"recipient\": 3, \"purpose\": \"p\"}", KERR_INVALID, "recipient"},
	        {"{\"recipient\": \"r\", \"purpose\": \"p\", \"subjects\": [\"1\"]}", KERR_INVALID,
	         "subjects"},
	        {"{\"recipient\": \"r\", \"purpose\": \"p\", \"subjects\": [-1]}", KERR_INVALID,
	         "subjects"},
	        {"{\"recipient\": \"r\", \"purpose\": \"p\", \"categories\": \"identity\"}",
	         KERR_INVALID, "categories"},
	        {"[1]", KERR_INVALID, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *body = json_loads(cases[i].json, JSON_DECODE_ANY, &jerr);
		assert_non_null(body);
		fresh(f);
		int rc = disclosure_from_json(&f->ctx, body, &in);
		if (rc != cases[i].code || strcmp(f->err.field, cases[i].field) != 0)
			fail_msg("%s: rc %d field '%s'", cases[i].json, rc, f->err.field);
		if (rc == 0) {
			assert_int_equal(in.nsubjects, 2);
			assert_int_equal(in.subjects[1], 2);
			assert_string_equal(in.categories[0], "identity");
			assert_string_equal(in.reference, "R-1");
		}
		json_decref(body);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_chain_appends_and_verifies),
	        T(test_subjects_address_not_logged),
	        T(test_verify_names_altered_entry),
	        T(test_verify_names_entry_after_gap),
	        T(test_verify_names_swapped_entries),
	        T(test_truncated_tail_needs_anchor),
	        T(test_anchor_line),
	        T(test_prune_then_verify),
	        T(test_prune_everything),
	        T(test_backfill_on_append),
	        T(test_backfill_on_verify),
	        T(test_logwriter_concurrent),
	        T(test_logwriter_callback_after_commit),
	        T(test_audit_show_filters),
	        T(test_audit_show_pages),
	        T(test_audit_lookups_use_indexes),
	        T(test_disclosure_recorded),
	        T(test_disclosure_refusals),
	        T(test_disclosure_m06_beyond_the_declaration),
	        T(test_disclosure_from_json),
	};
#undef T
	if (store_start() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
