/*
 * bench_lookup: the in-process baseline for the person GET benchmark. It opens a kortisto
 * database read-only and runs the bare SQLite primary-key lookup of a person by random id,
 * reading every column, with no HTTP, JSON, arena or core layer in between, but with the
 * server's SQLite configuration and connection settings. Four passes: one thread and THREADS
 * threads (one connection each, as the server has one per worker), each once inside read
 * transactions (BEGIN, LOOKUPS_PER_TX lookups, COMMIT) and once in autocommit (every lookup
 * its own implicit transaction). Results are `key=value` lines that scripts/bench parses;
 * see docs/bench.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOOKUPS_PER_TX 1000
#define MAX_THREADS    256
#define CLOCK_EVERY    64 /* lookups between clock reads */

/*
 * The connection settings of the server's store (src/store/sqlite.c) that matter to a read,
 * so that the baseline differs from the server by the layers above SQLite only.
 */
static const char conn_pragmas[] = "PRAGMA cache_size = -65536;"
                                   "PRAGMA mmap_size = 17179869184;";

/* The columns ST_PERSON_GET reads (src/store/statements.c), by the same key. */
static const char lookup_sql[] =
        "SELECT id, first_name, last_name, subject_group, legal_basis, source, status, hetu_enc,"
        " hetu_masked, attrs, last_customer_event, created_at, updated_at, created_by,"
        " row_version FROM persons WHERE register_id = ?1 AND id = ?2";

enum mode { MODE_TX, MODE_AUTOCOMMIT, MODE__MAX };

static const char *const mode_names[MODE__MAX] = {"tx", "autocommit"};

struct job {
	/* set by main */
	const char *path, *rid;
	int64_t nids;
	double seconds, warmup;
	enum mode mode;
	unsigned index;
	pthread_barrier_t *start;
	/* results */
	uint64_t lookups, misses, checksum;
	double elapsed;
	char err[256];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: a small, fast generator; quality is ample for picking ids. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Parses a decimal integer in [min, max] into *out. Returns false for anything else: empty,
 * signs, trailing characters, overflow.
 */
static bool parse_int(const char *s, long long min, long long max, long long *out)
{
	long long v = 0;
	if (!s || !*s || strlen(s) > 18)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Reads every column of the current row, so that SQLite decodes the whole record. */
static uint64_t read_row(sqlite3_stmt *st)
{
	uint64_t sum = 0;
	int n = sqlite3_column_count(st);
	for (int i = 0; i < n; i++) {
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER: sum += (uint64_t)sqlite3_column_int64(st, i); break;
		case SQLITE_TEXT: {
			const unsigned char *t = sqlite3_column_text(st, i);
			int len = sqlite3_column_bytes(st, i);
			sum += (uint64_t)len + (len > 0 ? t[0] : 0);
			break;
		}
		case SQLITE_BLOB: {
			const unsigned char *b = sqlite3_column_blob(st, i);
			int len = sqlite3_column_bytes(st, i);
			sum += (uint64_t)len + (len > 0 ? b[0] : 0);
			break;
		}
		default: break;
		}
	}
	return sum;
}

/* One lookup of a random id; returns 1 found, 0 absent, -1 on an SQLite error. */
static int lookup_one(struct job *j, sqlite3_stmt *st, uint64_t *rng)
{
	int64_t id = 1 + (int64_t)(next_rand(rng) % (uint64_t)j->nids);
	sqlite3_bind_int64(st, 2, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		j->checksum += read_row(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Runs lookups until `until` (a now_s() time). In MODE_TX they are grouped LOOKUPS_PER_TX to
 * a read transaction. Counts into j unless `count` is false (warm-up). Returns 0 or -1.
 */
static int run_lookups(struct job *j, sqlite3 *db, sqlite3_stmt *st, uint64_t *rng, double until,
                       bool count)
{
	bool tx = j->mode == MODE_TX;
	for (;;) {
		if (tx && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		for (int i = 0; i < LOOKUPS_PER_TX; i++) {
			int rc = lookup_one(j, st, rng);
			if (rc < 0)
				goto fail;
			if (count) {
				j->lookups++;
				j->misses += rc == 0;
			}
			if (i % CLOCK_EVERY == CLOCK_EVERY - 1 && now_s() >= until)
				break;
		}
		if (tx && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		if (now_s() >= until)
			return 0;
	}
fail:
	snprintf(j->err, sizeof(j->err), "%s", sqlite3_errmsg(db));
	return -1;
}

static void *job_run(void *arg)
{
	struct job *j = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	uint64_t rng = 0x6b6f727469737430ULL ^ ((uint64_t)j->index << 32) ^ (uint64_t)time(NULL);
	bool ok = false;

	/* Open as the server does, but read-only. */
	if (sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	            SQLITE_OK ||
	    sqlite3_exec(db, conn_pragmas, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, lookup_sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	            SQLITE_OK) {
		snprintf(j->err, sizeof(j->err), "%s: %s", j->path,
		         db ? sqlite3_errmsg(db) : "cannot open");
	} else {
		sqlite3_busy_timeout(db, 5000);
		sqlite3_bind_text(st, 1, j->rid, -1, SQLITE_STATIC);
		/* Warm this connection's page cache as a long-running server's would be. */
		ok = run_lookups(j, db, st, &rng, now_s() + j->warmup, false) == 0;
	}
	/* Every thread reaches the barrier, failed or not, so that none waits forever. */
	pthread_barrier_wait(j->start);
	if (ok) {
		double t0 = now_s();
		ok = run_lookups(j, db, st, &rng, t0 + j->seconds, true) == 0;
		j->elapsed = now_s() - t0;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return NULL;
}

/* Runs one pass with `nthreads` threads; prints its result line. Returns 0 or -1. */
static int run_pass(const struct job *proto, enum mode mode, unsigned nthreads)
{
	struct job jobs[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	pthread_barrier_t start;
	uint64_t lookups = 0, misses = 0, checksum = 0;
	double elapsed = 0;
	int rc = 0;

	if (pthread_barrier_init(&start, NULL, nthreads) != 0) {
		fprintf(stderr, "bench_lookup: cannot create a barrier\n");
		return -1;
	}
	for (unsigned i = 0; i < nthreads; i++) {
		jobs[i] = *proto;
		jobs[i].mode = mode;
		jobs[i].index = i;
		jobs[i].start = &start;
		if (pthread_create(&tids[i], NULL, job_run, &jobs[i]) != 0) {
			/* The barrier counts nthreads: without every thread, none would start. */
			fprintf(stderr, "bench_lookup: cannot start thread %u: %s\n", i,
			        strerror(errno));
			abort();
		}
	}
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(tids[i], NULL);
		if (jobs[i].err[0]) {
			fprintf(stderr, "bench_lookup: %s\n", jobs[i].err);
			rc = -1;
		}
		lookups += jobs[i].lookups;
		misses += jobs[i].misses;
		checksum += jobs[i].checksum;
		if (jobs[i].elapsed > elapsed)
			elapsed = jobs[i].elapsed;
	}
	pthread_barrier_destroy(&start);
	if (rc || elapsed <= 0 || lookups == 0)
		return -1;
	printf("mode=%s threads=%u lookups=%" PRIu64 " misses=%" PRIu64 " seconds=%.3f"
	       " lookups_per_s=%.0f us_per_lookup=%.3f checksum=%" PRIu64 "\n",
	       mode_names[mode], nthreads, lookups, misses, elapsed, (double)lookups / elapsed,
	       elapsed * nthreads * 1e6 / (double)lookups, checksum % 1000000);
	fflush(stdout);
	if (misses)
		fprintf(stderr,
		        "bench_lookup: %" PRIu64 " of %" PRIu64
		        " ids were not found: is N_IDS larger "
		        "than the number of persons?\n",
		        misses, lookups);
	return 0;
}

int main(int argc, char **argv)
{
	long long nids, secs, threads;
	struct job proto = {0};

	if (argc < 5 || argc > 6 || !parse_int(argv[2], 1, 1000000000000LL, &nids) ||
	    !parse_int(argv[3], 1, 3600, &secs) || !parse_int(argv[4], 1, MAX_THREADS, &threads)) {
		fprintf(stderr,
		        "usage: bench_lookup DB N_IDS SECONDS THREADS [REGISTER]\n"
		        "Looks up persons 1..N_IDS of REGISTER (default rauma-crm) in the "
		        "kortisto\n"
		        "database DB (opened read-only) by random id for SECONDS per pass: one "
		        "thread\n"
		        "and THREADS threads (1-%d), in read transactions of %d lookups and in\n"
		        "autocommit. Prints one key=value line per pass.\n",
		        MAX_THREADS, LOOKUPS_PER_TX);
		return 2;
	}
	/* As the server's store_start(): no global mutex around every allocation. */
	if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK ||
	    sqlite3_initialize() != SQLITE_OK) {
		fprintf(stderr, "bench_lookup: cannot configure SQLite\n");
		return 1;
	}
	proto.path = argv[1];
	proto.rid = argc == 6 ? argv[5] : "rauma-crm";
	proto.nids = nids;
	proto.seconds = (double)secs;
	proto.warmup = secs >= 5 ? 1.0 : 0.2;

	printf("bench_lookup db=%s ids=%lld seconds=%lld register=%s sqlite=%s per_tx=%d\n",
	       proto.path, nids, secs, proto.rid, sqlite3_libversion(), LOOKUPS_PER_TX);
	unsigned counts[2] = {1, (unsigned)threads};
	for (int c = 0; c < (threads > 1 ? 2 : 1); c++)
		for (int m = 0; m < MODE__MAX; m++)
			if (run_pass(&proto, (enum mode)m, counts[c]) != 0)
				return 1;
	return 0;
}
