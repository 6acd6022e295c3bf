/*
 * libFuzzer harness for disclosures (src/audit/disclosure.c). Each input is the JSON body of
 * POST /api/v1/registers/{rid}/disclosures, parsed as the HTTP API parses one and read with
 * disclosure_from_json(); when that succeeds, the disclosure is recorded with
 * disclosure_record() from rauma-crm and from kemi-crm, each with a fresh context. The data
 * directory is made once, in /tmp, with both registers and a few persons (one of them
 * restricted), and is never reset. Beyond "no crash, no leak", the harness checks the
 * contract: bad input gives a client error, never an internal one; the error text is valid
 * UTF-8 (the API puts it in a JSON problem response); a refused disclosure writes nothing; a
 * recorded one wrote itself, its subjects and one "disclose" entry of the usage log, and only
 * names a declared recipient, an allowed purpose and subjects of the register that are not
 * restricted.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "audit/disclosure.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "core/register.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/validate.h"

#define HARNESS "fuzz_disclosure"
#include "fuzz_datadir.h"

#define KEMI "kemi-crm"

/* The persons made at start-up. The seed corpus names them by id: in a new data directory
 * rauma-crm gets 1, 2 and 3 (3 restricted) and kemi-crm 4 and 5; setup checks that. */
static const struct {
	const char *rid, *body;
	bool restricted;
} people[] = {
        {RID, "{\"subject_group\": \"consenting_person\", \"source\": \"customer\"}", false},
        {RID, "{\"subject_group\": \"consenting_person\", \"source\": \"customer\"}", false},
        {RID, "{\"subject_group\": \"consenting_person\", \"source\": \"customer\"}", true},
        {KEMI, "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\"}", false},
        {KEMI, "{\"subject_group\": \"client_company_contact\", \"source\": \"subject\"}", false},
};
#define NPEOPLE (sizeof(people) / sizeof(people[0]))

/* A second, read-only connection to see what a call wrote (as the unit tests do). */
static sqlite3 *raw;
static sqlite3_stmt *snap_stmt, *entry_stmt;

struct snapshot {
	int64_t disclosure; /* the newest disclosure id */
	int64_t entry;      /* the newest usage-log entry id */
	int64_t subjects;   /* disclosure_subjects rows of disclosures newer than `after` */
};

static void close_raw(void)
{
	sqlite3_finalize(snap_stmt);
	sqlite3_finalize(entry_stmt);
	sqlite3_close(raw);
}

static void take(struct snapshot *s, int64_t after)
{
	sqlite3_bind_int64(snap_stmt, 1, after);
	require(sqlite3_step(snap_stmt) == SQLITE_ROW, "snapshot query failed");
	s->disclosure = sqlite3_column_int64(snap_stmt, 0);
	s->entry = sqlite3_column_int64(snap_stmt, 1);
	s->subjects = sqlite3_column_int64(snap_stmt, 2);
	sqlite3_reset(snap_stmt);
}

static void make_people(void)
{
	json_error_t jerr;
	for (size_t i = 0; i < NPEOPLE; i++) {
		json_t *in = json_loads(people[i].body, 0, &jerr);
		int64_t id = 0;
		arena_reset(&fz.mem);
		kerr_clear(&fz.err);
		if (!in || person_create(&fz.ctx, people[i].rid, in, &id) != 0)
			die("person_create");
		json_decref(in);
		if (id != (int64_t)i + 1)
			die("the persons did not get ids 1… (the seed corpus names them)");
		if (people[i].restricted) {
			char sql[128];
			snprintf(sql, sizeof(sql),
			         "UPDATE persons SET status = 'restricted' WHERE id = %lld",
			         (long long)id);
			if (store_exec_script(fz.db, sql, &fz.err))
				die("restrict");
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char path[128];
	fz_setup();
	fz_add_register(KEMI);
	make_people();
	snprintf(path, sizeof(path), "%s/kortisto.db", fz.dir);
	if (sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(raw,
	                       "SELECT (SELECT ifnull(max(id), 0) FROM disclosures),"
	                       " (SELECT ifnull(max(id), 0) FROM usage_log),"
	                       " (SELECT count(*) FROM disclosure_subjects"
	                       " WHERE disclosure_id > ?1)",
	                       -1, &snap_stmt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(raw,
	                       "SELECT action = 'disclose' AND entity = 'disclosure'"
	                       " AND entity_id = ?2 AND register_id = ?3"
	                       " FROM usage_log WHERE id = ?1",
	                       -1, &entry_stmt, NULL) != SQLITE_OK)
		die(sqlite3_errmsg(raw));
	atexit(close_raw); /* runs before the data directory is removed */
	return 0;
}

/* What a recorded disclosure says must be declared: a recipient that is neither a processor
 * nor an internal system, and a purpose that is not forbidden (M-06). */
static void check_declared(const char *rid, const struct disclosure_in *in)
{
	const struct decl *d = app_register(fz.app, rid);
	const struct decl_recipient *r = d ? decl_recipient(d, in->recipient) : NULL;
	require(r && r->kind != RK_PROCESSOR && r->kind != RK_INTERNAL_SYSTEM,
	        "a disclosure to an undeclared recipient, a processor or an internal system");
	for (size_t i = 0; disclosure_forbidden_purposes[i]; i++)
		require(strcmp(in->purpose, disclosure_forbidden_purposes[i]) != 0,
		        "a disclosure for a purpose M-06 forbids");
}

/* Whether person `id` may be named in a disclosure from `rid`. */
static bool disclosable(const char *rid, int64_t id)
{
	return id >= 1 && id <= (int64_t)NPEOPLE && strcmp(people[id - 1].rid, rid) == 0 &&
	       !people[id - 1].restricted;
}

/* The error the call recorded is the one it returned, and fit for a JSON problem response. */
static void check_error(int rc, const struct kerr *err)
{
	require(memchr(err->message, '\0', sizeof(err->message)) != NULL &&
	                memchr(err->field, '\0', sizeof(err->field)) != NULL,
	        "unterminated error text");
	if (rc == 0)
		return;
	require(err->code == rc, "the error returned is not the error recorded");
	require(err->message[0] != '\0', "an error without a message");
	require(utf8_valid(err->message, strlen(err->message)) &&
	                utf8_valid(err->field, strlen(err->field)),
	        "the error text is not valid UTF-8 (the problem response cannot be built)");
}

/* A fresh context acting as the operator; its error is fz.err, which require() prints. */
static struct kctx fresh(void)
{
	struct kctx c = fz.ctx;
	kerr_clear(&fz.err);
	c.err = &fz.err;
	c.mem = &fz.mem;
	return c;
}

static void record(const char *rid, const struct disclosure_in *in)
{
	struct kctx c = fresh();
	struct snapshot before, after;
	int64_t id = -1;
	take(&before, INT64_MAX);
	int rc = disclosure_record(&c, rid, in, &id);
	check_error(rc, &fz.err);
	require(rc == 0 || rc == KERR_INVALID || rc == KERR_REFUSED,
	        "bad input caused a non-client error");
	take(&after, before.disclosure);
	if (rc != 0) {
		require(id == 0, "a refused disclosure left an id");
		require(after.disclosure == before.disclosure && after.entry == before.entry &&
		                after.subjects == 0,
		        "a refused disclosure wrote something");
		return;
	}
	check_declared(rid, in);
	size_t distinct = 0;
	for (size_t i = 0; i < in->nsubjects; i++) {
		bool dup = false;
		require(disclosable(rid, in->subjects[i]),
		        "a disclosure names a person of another register, an unknown or a "
		        "restricted one");
		for (size_t j = 0; j < i && !dup; j++)
			dup = in->subjects[j] == in->subjects[i];
		distinct += !dup;
	}
	require(id > before.disclosure && after.disclosure == id,
	        "the disclosure recorded is not the newest");
	require(after.subjects == (int64_t)distinct, "not every subject was written once");
	require(after.entry == before.entry + 1, "not exactly one usage-log entry was written");
	sqlite3_bind_int64(entry_stmt, 1, after.entry);
	sqlite3_bind_int64(entry_stmt, 2, id);
	sqlite3_bind_text(entry_stmt, 3, rid, -1, SQLITE_STATIC);
	require(sqlite3_step(entry_stmt) == SQLITE_ROW && sqlite3_column_int(entry_stmt, 0) == 1,
	        "the usage-log entry is not the disclosure's");
	sqlite3_reset(entry_stmt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	/* As the HTTP API parses a body (req_json_or_reply). */
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!body)
		return 0;

	struct disclosure_in in;
	arena_reset(&fz.mem);
	struct kctx c = fresh();
	int rc = disclosure_from_json(&c, body, &in);
	check_error(rc, &fz.err);
	require(rc == 0 || rc == KERR_INVALID,
	        "disclosure_from_json failed with a non-client error");
	if (rc == 0) {
		require(in.recipient && in.purpose, "a disclosure without recipient or purpose");
		require(in.ncategories <= 64 && in.nsubjects <= 10000, "over the limits");
		for (size_t i = 0; i < in.nsubjects; i++)
			require(in.subjects[i] > 0, "a subject id that is not positive");
		record(RID, &in);
		record(KEMI, &in);
	}
	json_decref(body);
	arena_reset(&fz.mem);
	return 0;
}
