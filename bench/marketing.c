/*
 * bench_marketing DATA_DIR N MESSAGES HITS: the marketing figures of `scripts/bench-marketing`
 * (docs/bench.md), each next to a baseline measured in the same run.
 *
 *   audience  mailing_preview of a newsletter over N persons of espoo-talent-hub (the §200
 *             rule, bans, restriction, passivation, addresses), against a bare scan of the
 *             same persons' rows (id, group, status) with the same SQLite connection; and
 *             the same with a segment by event participation (a fifth of the persons
 *             registered for the event, a tenth attended), against the audience without it;
 *   send      mailing_send of MESSAGES messages to the SMTP server of kortisto.conf, against
 *             mailer_send of one ready message MESSAGES times to the same server;
 *   opens     mailing_open_hit (a durable write with its usage-log entry) HITS times, against
 *             HITS one-row INSERTs, each in a transaction of its own, with the same
 *             synchronous setting.
 *
 * The data directory must hold espoo-talent-hub and have smtp_url, mail_from and public_url
 * set; the persons are written straight into the database (a fixture, not what is measured).
 * Prints key=value lines.
 */
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/app.h"
#include "core/ctx.h"
#include "core/mailing.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/mail.h"

#define RID "espoo-talent-hub"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long arg(const char *name, const char *s, long min, long max)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, "bench_marketing: %s must be a whole number in [%ld, %ld]\n", name,
		        min, max);
		exit(2);
	}
	return v;
}

static void die(struct kctx *ctx, const char *what)
{
	fprintf(stderr, "bench_marketing: %s: %s\n", what, ctx->err->message);
	exit(1);
}

static void sql_or_die(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "bench_marketing: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

/*
 * The fixture: n persons, half individuals (60 % of them with a newsletter consent), half
 * company contacts (80 % with an active role); 95 % with an address, 2 % banned, 1 %
 * restricted. The first `tagged` persons with an address, consent or role, and no ban or
 * restriction, have municipality "Bench": the audience of the send figure. One event with one
 * session: every fifth person registered (one in fifty of them cancelled), every tenth
 * attended; *event is its id.
 */
static void populate(const char *path, long n, long tagged, int64_t *event)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *p = NULL, *c = NULL, *k = NULL, *a = NULL, *b = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	sql_or_die(db, "PRAGMA foreign_keys = ON; BEGIN");
	sql_or_die(db, "INSERT INTO organisations(register_id, name, source, created_at,"
	               " updated_at, created_by) VALUES ('" RID "', 'Bench Oy', 'subject',"
	               " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'bench')");
	int64_t org = sqlite3_last_insert_rowid(db);
	sql_or_die(db, "INSERT INTO events(register_id, title, format, place, starts_at, ends_at,"
	               " created_at, created_by) VALUES ('" RID "', 'Bench', 'physical', 'Espoo',"
	               " '2025-12-10T16:00:00Z', '2025-12-10T19:00:00Z', '2026-01-01T00:00:00Z',"
	               " 'bench')");
	*event = sqlite3_last_insert_rowid(db);
	char sql[400];
	snprintf(sql, sizeof(sql),
	         "INSERT INTO event_sessions(event_id, title, starts_at, ends_at) VALUES (%" PRId64
	         ", 'Avaus', '2025-12-10T16:00:00Z', '2025-12-10T17:00:00Z')",
	         *event);
	sql_or_die(db, sql);
	int64_t session = sqlite3_last_insert_rowid(db);
	sqlite3_stmt *g = NULL, *t = NULL;
	sqlite3_prepare_v2(db,
	                   "INSERT INTO event_registrations(event_id, register_id, person_id,"
	                   " registered_on, created_at, created_by, cancelled_at) VALUES (?1, '" RID
	                   "', ?2, '2025-12-01', '2026-01-01T00:00:00Z', 'bench', ?3)",
	                   -1, &g, NULL);
	sqlite3_prepare_v2(db,
	                   "INSERT INTO event_attendance(session_id, person_id, register_id,"
	                   " created_at, created_by) VALUES (?1, ?2, '" RID
	                   "', '2026-01-01T00:00:00Z', 'bench')",
	                   -1, &t, NULL);
	sqlite3_prepare_v2(
	        db,
	        "INSERT INTO persons(register_id, first_name, last_name, subject_group,"
	        " legal_basis, source, status, attrs, created_at, updated_at, created_by)"
	        " VALUES ('" RID "', 'Etu', ?1, ?2, ?3, 'subject', ?4, ?5,"
	        " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'bench')",
	        -1, &p, NULL);
	sqlite3_prepare_v2(db,
	                   "INSERT INTO contact_points(register_id, person_id, kind, value, source,"
	                   " collected_at, collected_by) VALUES ('" RID "', ?1, 'email', ?2,"
	                   " 'subject', '2026-01-01T00:00:00Z', 'bench')",
	                   -1, &c, NULL);
	sqlite3_prepare_v2(db,
	                   "INSERT INTO consents(register_id, person_id, purpose, channel, text,"
	                   " text_version, given_at, source_kind, state, confirmed_at)"
	                   " VALUES ('" RID "', ?1, 'newsletters', 'email', 'Haluan uutiskirjeen',"
	                   " '1', '2026-01-01T00:00:00Z', 'import', 'confirmed',"
	                   " '2026-01-01T00:00:00Z')",
	                   -1, &k, NULL);
	sqlite3_prepare_v2(db,
	                   "INSERT INTO affiliations(register_id, person_id, org_id, end_date,"
	                   " created_at, updated_at) VALUES ('" RID "', ?1, ?2, ?3,"
	                   " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
	                   -1, &a, NULL);
	sqlite3_prepare_v2(
	        db,
	        "INSERT INTO marketing_bans(register_id, person_id, channel, since, source)"
	        " VALUES ('" RID "', ?1, 'email', '2026-01-01T00:00:00Z', 'bench')",
	        -1, &b, NULL);
	long in_audience = 0;
	for (long i = 0; i < n; i++) {
		char name[32], email[64];
		bool individual = i % 2 == 0;
		bool has_email = i % 20 != 7;
		bool consent = individual && i % 10 < 6;
		bool role = !individual && i % 10 != 3;
		bool banned = i % 50 == 11;
		bool restricted = i % 100 == 21;
		bool eligible = has_email && !banned && !restricted && (consent || role);
		bool tag = eligible && in_audience < tagged;
		in_audience += tag;
		snprintf(name, sizeof(name), "Bench%ld", i);
		sqlite3_bind_text(p, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(p, 2, individual ? "individual" : "company_contact", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(p, 3, individual ? "a" : "e", -1, SQLITE_STATIC);
		sqlite3_bind_text(p, 4, restricted ? "restricted" : "active", -1, SQLITE_STATIC);
		sqlite3_bind_text(p, 5, tag ? "{\"municipality\":\"Bench\"}" : "{}", -1,
		                  SQLITE_STATIC);
		if (sqlite3_step(p) != SQLITE_DONE)
			exit(1);
		sqlite3_reset(p);
		int64_t id = sqlite3_last_insert_rowid(db);
		if (has_email) {
			snprintf(email, sizeof(email), "bench%ld@example.fi", i);
			sqlite3_bind_int64(c, 1, id);
			sqlite3_bind_text(c, 2, email, -1, SQLITE_TRANSIENT);
			sqlite3_step(c);
			sqlite3_reset(c);
		}
		if (consent) {
			sqlite3_bind_int64(k, 1, id);
			sqlite3_step(k);
			sqlite3_reset(k);
		}
		if (!individual) {
			sqlite3_bind_int64(a, 1, id);
			sqlite3_bind_int64(a, 2, org);
			if (role)
				sqlite3_bind_null(a, 3);
			else
				sqlite3_bind_text(a, 3, "2020-01-01", -1, SQLITE_STATIC);
			sqlite3_step(a);
			sqlite3_reset(a);
		}
		if (banned) {
			sqlite3_bind_int64(b, 1, id);
			sqlite3_step(b);
			sqlite3_reset(b);
		}
		if (i % 5 == 0) {
			sqlite3_bind_int64(g, 1, *event);
			sqlite3_bind_int64(g, 2, id);
			if (i % 250 == 5)
				sqlite3_bind_text(g, 3, "2025-12-05T00:00:00Z", -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(g, 3);
			sqlite3_step(g);
			sqlite3_reset(g);
		}
		if (i % 10 == 0) {
			sqlite3_bind_int64(t, 1, session);
			sqlite3_bind_int64(t, 2, id);
			sqlite3_step(t);
			sqlite3_reset(t);
		}
	}
	sqlite3_finalize(g);
	sqlite3_finalize(t);
	sqlite3_finalize(p);
	sqlite3_finalize(c);
	sqlite3_finalize(k);
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	sql_or_die(db, "COMMIT; ANALYZE");
	sqlite3_close(db);
}

static int64_t new_mailing(struct kctx *ctx, const char *json)
{
	json_t *in = json_loads(json, 0, NULL);
	int64_t id = 0;
	if (mailing_create(ctx, RID, in, &id))
		die(ctx, "mailing_create");
	json_decref(in);
	return id;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: bench_marketing DATA_DIR N MESSAGES HITS\n");
		return 2;
	}
	long n = arg("N", argv[2], 1, 100000000);
	long messages = arg("MESSAGES", argv[3], 1, 1000000);
	long hits = arg("HITS", argv[4], 1, 10000000);

	struct kapp *app = NULL;
	struct kerr err = {0};
	struct arena mem;
	struct actor op = {ACTOR_OPERATOR, "operator:bench", 0, 0};
	struct kctx ctx = {.actor = &op,
	                   .mem = &mem,
	                   .err = &err,
	                   .may_reveal = true,
	                   .sees_restricted = true};
	arena_init(&mem);
	if (crypto_start() != 0 || store_start() != 0)
		return 1;
	if (app_open(argv[1], &app, &err))
		die(&ctx, argv[1]);
	int64_t event = 0;
	populate(app->dbpath, n, messages, &event);
	if (app_connect(app, &ctx.db, &err))
		die(&ctx, "connect");
	ctx.app = app;
	kctx_set_now(&ctx, app_now(app));

	/* ---- audience: the rule over every person, against a bare scan */
	sqlite3 *raw = NULL;
	sqlite3_stmt *scan = NULL;
	sqlite3_open_v2(app->dbpath, &raw, SQLITE_OPEN_READONLY, NULL);
	sqlite3_prepare_v2(raw,
	                   "SELECT id, subject_group, status FROM persons WHERE register_id = ?1"
	                   " ORDER BY id",
	                   -1, &scan, NULL);
	double base_scan = 1e9, rule = 1e9;
	long rows = 0, recipients = 0;
	int64_t m = new_mailing(&ctx, "{\"purpose\": \"newsletters\", \"subject\": \"S\","
	                              " \"text\": \"Hei {{first_name}}\"}");
	for (int round = 0; round < 3; round++) {
		double t0 = now_s();
		sqlite3_bind_text(scan, 1, RID, -1, SQLITE_STATIC);
		rows = 0;
		while (sqlite3_step(scan) == SQLITE_ROW)
			rows += sqlite3_column_int64(scan, 0) > 0;
		sqlite3_reset(scan);
		double t1 = now_s();
		json_t *pv = NULL;
		arena_reset(&mem);
		if (mailing_preview(&ctx, RID, m, &pv))
			die(&ctx, "mailing_preview");
		double t2 = now_s();
		recipients = (long)json_integer_value(json_object_get(pv, "recipients"));
		json_decref(pv);
		if (t1 - t0 < base_scan)
			base_scan = t1 - t0;
		if (t2 - t1 < rule)
			rule = t2 - t1;
	}
	sqlite3_finalize(scan);
	printf("persons=%ld audience_recipients=%ld scan_rows=%ld\n", n, recipients, rows);
	printf("audience_s=%.3f baseline_scan_s=%.3f ratio=%.1f\n", rule, base_scan,
	       rule / base_scan);
	char body[300];
	snprintf(body, sizeof(body),
	         "{\"purpose\": \"newsletters\", \"subject\": \"S\", \"text\": \"Hei\","
	         " \"audience\": {\"segment\": {\"events\": {\"event_ids\": [%" PRId64 "]}}}}",
	         event);
	int64_t me = new_mailing(&ctx, body);
	double with_events = 1e9;
	long event_recipients = 0;
	for (int round = 0; round < 3; round++) {
		json_t *pv = NULL;
		arena_reset(&mem);
		double t1 = now_s();
		if (mailing_preview(&ctx, RID, me, &pv))
			die(&ctx, "mailing_preview");
		double t2 = now_s();
		event_recipients = (long)json_integer_value(json_object_get(pv, "recipients"));
		json_decref(pv);
		if (t2 - t1 < with_events)
			with_events = t2 - t1;
	}
	printf("audience_events_recipients=%ld audience_events_s=%.3f ratio_to_audience=%.2f\n",
	       event_recipients, with_events, with_events / rule);

	/* ---- send: whole mailings against bare SMTP sends of one message */
	struct mailer *mailer = NULL;
	struct buf msg = BUF_INIT;
	struct mail_msg mm = {.from = app->cfg.mail.from,
	                      .to = "bench0@example.fi",
	                      .subject = "S",
	                      .text = "Hei Etu"};
	if (mail_format(&mm, ctx.now, &msg, &err) || mailer_open(&app->cfg.mail, &mailer, &err))
		die(&ctx, "mail");
	double t0 = now_s();
	for (long i = 0; i < messages; i++)
		if (mailer_send(mailer, app->cfg.mail.from, "bench0@example.fi", &msg, &err))
			die(&ctx, "mailer_send");
	double base_send = now_s() - t0;
	mailer_free(mailer);
	buf_free(&msg);
	int64_t sm = new_mailing(&ctx, "{\"purpose\": \"newsletters\", \"subject\": \"S\","
	                               " \"text\": \"Hei {{first_name}}\", \"html\": \"<p>Hei"
	                               " {{first_name}}</p>\", \"track_opens\": true, \"audience\":"
	                               " {\"segment\": {\"attributes\": {\"municipality\":"
	                               " \"Bench\"}}}}");
	json_t *res = NULL;
	arena_reset(&mem);
	t0 = now_s();
	if (mailing_send(&ctx, RID, sm, NULL, &res))
		die(&ctx, "mailing_send");
	double send = now_s() - t0;
	long sent = (long)json_integer_value(
	        json_object_get(json_object_get(res, "recipients"), "sent"));
	json_decref(res);
	printf("messages=%ld sent=%ld send_s=%.3f baseline_send_s=%.3f\n", messages, sent, send,
	       base_send);
	printf("messages_per_s=%.0f baseline_messages_per_s=%.0f ratio=%.2f\n", (double)sent / send,
	       (double)messages / base_send,
	       ((double)messages / base_send) / ((double)sent / send));

	/* ---- opens: durable pixel hits against bare durable inserts */
	sqlite3 *w = NULL;
	sqlite3_open(app->dbpath, &w);
	sql_or_die(w, "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;"
	              " CREATE TEMP TABLE IF NOT EXISTS x(a INTEGER, b TEXT)");
	sql_or_die(w, "CREATE TABLE IF NOT EXISTS bench_hits(a INTEGER, b TEXT)");
	sqlite3_stmt *ins = NULL;
	sqlite3_prepare_v2(w, "INSERT INTO bench_hits VALUES (?1, '2026-01-01T00:00:00Z')", -1,
	                   &ins, NULL);
	t0 = now_s();
	for (long i = 0; i < hits; i++) {
		sql_or_die(w, "BEGIN IMMEDIATE");
		sqlite3_bind_int64(ins, 1, i);
		sqlite3_step(ins);
		sqlite3_reset(ins);
		sql_or_die(w, "COMMIT");
	}
	double base_hits = now_s() - t0;
	sqlite3_finalize(ins);
	sql_or_die(w, "DROP TABLE bench_hits");
	sqlite3_close(w);
	sqlite3_stmt *first = NULL;
	sqlite3_prepare_v2(raw, "SELECT min(id) FROM mailing_recipients WHERE mailing_id = ?1", -1,
	                   &first, NULL);
	sqlite3_bind_int64(first, 1, sm);
	sqlite3_step(first);
	int64_t rec0 = sqlite3_column_int64(first, 0);
	sqlite3_finalize(first);
	sqlite3_close(raw);
	t0 = now_s();
	for (long i = 0; i < hits; i++) {
		char tok[MLINK_MAX];
		mlink_make(&app->keys, MLINK_OPEN, rec0 + i % (sent > 0 ? sent : 1), tok);
		arena_reset(&mem);
		kerr_clear(&err);
		if (mailing_open_hit(&ctx, tok))
			die(&ctx, "mailing_open_hit");
	}
	double hit_s = now_s() - t0;
	printf("hits=%ld hits_per_s=%.0f baseline_inserts_per_s=%.0f ratio=%.2f\n", hits,
	       (double)hits / hit_s, (double)hits / base_hits, hit_s / base_hits);
	store_close(ctx.db);
	app_free(app);
	arena_free(&mem);
	return 0;
}
