/*
 * bench_export: the time of one data subject's access export in a register of any
 * size, for the target "1,000 customer events, 1,000,000 persons, p99 <= 50 ms".
 * scripts/bench runs it on the data directory it filled (bench/data/nN/kortisto), which it
 * leaves behind; by hand it runs on any data directory. It gives one person EVENTS customer
 * events first, each a customer_contact record with content (core/service.h: a
 * person_records row, its service_records content, the move of the last customer event with
 * its change-history row, and a usage-log entry), plus a staff read every tenth (another
 * usage-log entry). Then it times RUNS exports of that person as the operator.
 *
 * The export's usage-log entry is handed to a sink that only counts it, as the server's sink
 * queues it for the group-committing log writer: what is timed is the export itself, not one
 * fsync per export that the server shares between concurrent requests.
 *
 * usage: bench_export DATA_DIR RID [PERSON_ID [EVENTS [RUNS]]]   (PERSON_ID 0: the first)
 * Results are key=value lines: person, events, runs, logged, usage_entries, history_entries,
 * records, bytes (of the export as compact JSON), then p50_ms, p99_ms and max_ms, then the
 * baseline measured in the same run — RUNS staff reads of the same person with their change
 * history (person_get) — as base_p50_ms, base_p99_ms and ratio_p99 (export p99 / read p99).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/export.h"
#include "core/person.h"
#include "core/service.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"

static long logged;

static int count_sink(struct kctx *ctx, const struct usage_entry *e)
{
	(void)ctx;
	(void)e;
	logged++;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Whole number argument `s` in [min, max], or exits. */
static long arg(const char *name, const char *s, long min, long max)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, "bench_export: %s must be a whole number in [%ld, %ld]\n", name,
		        min, max);
		exit(2);
	}
	return v;
}

static void die(struct kctx *ctx, const char *what)
{
	fprintf(stderr, "bench_export: %s: %s\n", what, ctx->err->message);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 6) {
		fprintf(stderr, "usage: bench_export DATA_DIR RID [PERSON_ID [EVENTS [RUNS]]]\n");
		return 2;
	}
	const char *rid = argv[2];
	int64_t id = argc > 3 ? arg("PERSON_ID", argv[3], 0, INT32_MAX) : 0;
	long events = argc > 4 ? arg("EVENTS", argv[4], 0, 1000000) : 1000;
	long runs = argc > 5 ? arg("RUNS", argv[5], 1, 100000) : 200;

	struct kapp *app = NULL;
	struct kerr err = {0};
	struct arena mem;
	struct actor op = {ACTOR_OPERATOR, "operator:bench", 0, 0};
	struct kctx ctx = {.actor = &op, .mem = &mem, .err = &err, .may_reveal = true};
	arena_init(&mem);
	if (crypto_start() != 0 || store_start() != 0) {
		fprintf(stderr, "bench_export: cannot start libsodium or SQLite\n");
		return 1;
	}
	if (app_open(argv[1], &app, &err) || app_connect(app, &ctx.db, &err))
		die(&ctx, argv[1]);
	ctx.app = app;
	kctx_set_now(&ctx, app_now(app));

	json_t *page = NULL;
	if (id == 0) {
		if (person_find(&ctx, rid, NULL, NULL, NULL, 1, &page))
			die(&ctx, "the first person");
		id = json_integer_value(
		        json_object_get(json_array_get(json_object_get(page, "items"), 0), "id"));
		json_decref(page);
		if (id <= 0) {
			fprintf(stderr, "bench_export: register '%s' has no persons\n", rid);
			return 1;
		}
	}

	/* The customer events: one record with content each, a read every tenth. */
	for (long i = 0; i < events; i++) {
		char rec[192];
		snprintf(rec, sizeof(rec),
		         "{\"type\": \"customer_contact\", \"on\": \"%04ld-%02ld-%02ld\","
		         " \"data\": {\"channel\": \"phone\", \"topic\": \"yhteydenotto %ld\"}}",
		         2000 + (i / 336) % 26, 1 + (i / 28) % 12, 1 + i % 28, i);
		json_t *p = json_loads(rec, 0, NULL);
		int64_t rid_out = 0;
		arena_reset(&mem);
		kerr_clear(&err);
		if (service_record_add(&ctx, rid, id, p, &rid_out))
			die(&ctx, "a customer event");
		json_decref(p);
		if (i % 10 == 0) {
			json_t *got = NULL;
			if (person_get(&ctx, rid, id, 0, &got))
				die(&ctx, "a staff read");
			json_decref(got);
		}
	}

	ctx.usage_sink = count_sink;
	double *ms = calloc((size_t)runs, sizeof(*ms));
	size_t bytes = 0, usage = 0, history = 0, records = 0;
	for (long i = 0; ms && i < runs; i++) {
		json_t *x = NULL;
		arena_reset(&mem);
		kerr_clear(&err);
		double t0 = now_ms();
		if (export_subject(&ctx, rid, id, 0, &x))
			die(&ctx, "the export");
		ms[i] = now_ms() - t0;
		if (i == 0) {
			char *text = json_dumps(x, JSON_COMPACT);
			bytes = text ? strlen(text) : 0;
			free(text);
			usage = json_array_size(json_object_get(x, "usage_log"));
			history = json_array_size(json_object_get(x, "change_history"));
			records = json_array_size(json_object_get(x, "records"));
		}
		json_decref(x);
	}
	/* The baseline, in the same run: the staff read of the same person (person_get with
	 * its change history), the smallest thing any answer about one person does. */
	double *base = calloc((size_t)runs, sizeof(*base));
	for (long i = 0; base && i < runs; i++) {
		json_t *x = NULL;
		arena_reset(&mem);
		kerr_clear(&err);
		double t0 = now_ms();
		if (person_get(&ctx, rid, id, PERSON_HISTORY, &x))
			die(&ctx, "the baseline read");
		base[i] = now_ms() - t0;
		json_decref(x);
	}
	if (!ms || !base)
		return 1;
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	qsort(base, (size_t)runs, sizeof(*base), cmp_double);
	size_t p99 = (size_t)((double)runs * 0.99);
	if (p99 >= (size_t)runs)
		p99 = (size_t)runs - 1;
	printf("person=%" PRId64 " events=%ld runs=%ld logged=%ld usage_entries=%zu"
	       " history_entries=%zu records=%zu bytes=%zu\n",
	       id, events, runs, logged, usage, history, records, bytes);
	printf("p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", ms[runs / 2], ms[p99], ms[runs - 1]);
	printf("base_p50_ms=%.3f base_p99_ms=%.3f ratio_p99=%.1f\n", base[runs / 2], base[p99],
	       base[p99] > 0 ? ms[p99] / base[p99] : 0.0);
	free(base);
	free(ms);
	store_close(ctx.db);
	app_free(app);
	arena_free(&mem);
	return 0;
}
