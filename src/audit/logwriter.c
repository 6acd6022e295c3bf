/*
 * The log writer: a thread with its own connection that group-commits usage-log entries.
 * Submitters copy their entries into one block (a job) and queue it; the thread takes every
 * queued job (up to LW_BATCH entries), appends them to the chain in one write transaction,
 * commits durably and only then calls each job's callback. The one design decision: the
 * chain's head is read once per batch, inside the write lock, and kept in memory across the
 * batch, so an entry costs one hash and its inserts, and a commit's fsync is shared by
 * everyone who submitted while the previous batch was being written.
 */
#include "audit/logwriter.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "store/store.h"
#include "util/kerr.h"
#include "util/xmalloc.h"

/* Entries per transaction at most: bounds the time the write lock is held. */
#define LW_BATCH 4096

/* Attempts to take the write lock (each waits up to the store's busy timeout). */
#define LW_BUSY_TRIES 20

/* One submission: its callback and its entries, every string copied into the same block
 * after the rows. */
struct lw_job {
	struct lw_job *next;
	void (*done)(void *arg, int rc);
	void *arg;
	size_t n;
	struct usage_row rows[];
};

struct logwriter {
	const struct kapp *app;
	struct store *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lw_job *head, *tail; /* queue, under mu */
	bool stopping;              /* under mu */
};

/* ---------------------------------------------------------------- submitting */

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copies s to *p and advances it; NULL stays NULL. */
static const char *str_copy(char **p, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = memcpy(*p, s, n);
	*p += n;
	return d;
}

int logwriter_submit(struct logwriter *lw, const struct kctx *ctx, const struct usage_entry *e,
                     size_t n, void (*done)(void *arg, int rc), void *arg)
{
	const struct actor *a = ctx->actor;
	if (!lw || !done || !a || !a->name)
		return kerr_set(ctx->err, KERR_INTERNAL, NULL, "usage log: nothing to log with");

	/* One allocation: the job, its rows, the context's strings once, each entry's own. */
	size_t size = sizeof(struct lw_job) + n * sizeof(struct usage_row);
	size += str_size(a->name) + str_size(ctx->now_iso) + str_size(ctx->purpose) +
	        str_size(ctx->request_id) + str_size(ctx->client);
	for (size_t i = 0; i < n; i++) {
		if (!e[i].action)
			return kerr_set(ctx->err, KERR_INTERNAL, NULL,
			                "usage log: entry without action");
		size += str_size(e[i].action) + str_size(e[i].rid) + str_size(e[i].entity) +
		        str_size(e[i].reason) + (e[i].nsubjects ? e[i].nsubjects * 21 + 1 : 0);
	}
	struct lw_job *job = xmalloc(size);
	char *p = (char *)(job->rows + n);
	const char *actor = str_copy(&p, a->name), *at = str_copy(&p, ctx->now_iso);
	const char *purpose = str_copy(&p, ctx->purpose);
	const char *request_id = str_copy(&p, ctx->request_id), *client = str_copy(&p, ctx->client);
	job->next = NULL;
	job->done = done;
	job->arg = arg;
	job->n = n;
	for (size_t i = 0; i < n; i++) {
		struct usage_row *r = &job->rows[i];
		r->id = 0;
		r->at = at;
		r->actor = actor;
		r->user_id = a->user_id;
		r->purpose = purpose;
		r->request_id = request_id;
		r->client = client;
		r->action = str_copy(&p, e[i].action);
		r->rid = str_copy(&p, e[i].rid);
		r->entity = str_copy(&p, e[i].entity);
		r->entity_id = e[i].entity_id;
		r->reason = str_copy(&p, e[i].reason);
		r->subjects = NULL;
		if (e[i].nsubjects) {
			r->subjects = p;
			p += usage_subjects_format(e[i].subjects, e[i].nsubjects, p) + 1;
		}
	}

	pthread_mutex_lock(&lw->mu);
	if (lw->stopping) {
		pthread_mutex_unlock(&lw->mu);
		free(job);
		return kerr_set(ctx->err, KERR_BUSY, NULL, "usage log: the server is stopping");
	}
	if (lw->tail)
		lw->tail->next = job;
	else
		lw->head = job;
	lw->tail = job;
	pthread_cond_signal(&lw->cv);
	pthread_mutex_unlock(&lw->mu);
	return 0;
}

/* ---------------------------------------------------------------- the writer thread */

/* Appends every entry of the jobs in one transaction. Returns 0 or KERR_*. */
static int write_batch(struct logwriter *lw, struct lw_job *jobs, struct kerr *err)
{
	const struct keys *k = &lw->app->keys;
	struct usage_head h;
	int rc;

	for (int tries = 0;; tries++) {
		kerr_clear(err);
		rc = store_begin_write(lw->db, err);
		if (rc != KERR_BUSY || tries + 1 >= LW_BUSY_TRIES)
			break;
	}
	if (rc)
		return rc;
	if ((rc = usage_head(lw->db, k, &h, err)))
		goto fail;
	for (struct lw_job *j = jobs; j; j = j->next)
		for (size_t i = 0; i < j->n; i++)
			if ((rc = usage_put(lw->db, k, &h, &j->rows[i], err)))
				goto fail;
	return store_commit(lw->db, err);
fail:
	store_rollback(lw->db);
	return rc;
}

static void *run(void *arg)
{
	struct logwriter *lw = arg;
	struct kerr err = {0};

	for (;;) {
		pthread_mutex_lock(&lw->mu);
		while (!lw->head && !lw->stopping)
			pthread_cond_wait(&lw->cv, &lw->mu);
		if (!lw->head) {
			pthread_mutex_unlock(&lw->mu);
			break;
		}
		/* Take whole jobs up to LW_BATCH entries (at least one job). */
		struct lw_job *batch = lw->head, *last = batch;
		size_t n = batch->n;
		while (last->next && n + last->next->n <= LW_BATCH) {
			last = last->next;
			n += last->n;
		}
		lw->head = last->next;
		if (!lw->head)
			lw->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&lw->mu);

		int rc = write_batch(lw, batch, &err);
		if (rc)
			fprintf(stderr, "kortisto: usage log writer: %s\n", err.message);
		while (batch) {
			struct lw_job *next = batch->next;
			batch->done(batch->arg, rc);
			free(batch);
			batch = next;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- start and stop */

int logwriter_start(struct kapp *app, struct logwriter **out, struct kerr *err)
{
	struct logwriter *lw = xcalloc(1, sizeof(*lw));
	int rc;

	*out = NULL;
	lw->app = app;
	if ((rc = app_connect(app, &lw->db, err))) {
		free(lw);
		return rc;
	}
	pthread_mutex_init(&lw->mu, NULL);
	pthread_cond_init(&lw->cv, NULL);
	if (pthread_create(&lw->thread, NULL, run, lw) != 0) {
		pthread_cond_destroy(&lw->cv);
		pthread_mutex_destroy(&lw->mu);
		store_close(lw->db);
		free(lw);
		return kerr_set(err, KERR_INTERNAL, NULL, "cannot start the usage log writer");
	}
	*out = lw;
	return 0;
}

void logwriter_stop(struct logwriter *lw)
{
	if (!lw)
		return;
	pthread_mutex_lock(&lw->mu);
	lw->stopping = true;
	pthread_cond_signal(&lw->cv);
	pthread_mutex_unlock(&lw->mu);
	pthread_join(lw->thread, NULL);
	store_close(lw->db);
	pthread_cond_destroy(&lw->cv);
	pthread_mutex_destroy(&lw->mu);
	free(lw);
}
