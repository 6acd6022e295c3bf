/*
 * The sender of mailings in the server (sendq.h). Requests only resolve the audience and queue
 * the mailing; one thread takes the queue in arrival order with a connection of its own, so
 * two sends never interleave and a stop request is seen between any two messages. The queue
 * and the mailing in progress are guarded by one mutex; a condition variable wakes the thread.
 */
#include "http/sendq.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/ctx.h"
#include "core/mailing.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/kerr.h"
#include "util/xmalloc.h"

/* One mailing to send, with who asked for it (name owned). */
struct job {
	struct job *next;
	char *rid;
	int64_t id;
	struct actor actor;
};

struct sendq {
	const struct kapp *app;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	pthread_mutex_t submit; /* one send request at a time: its start and its queueing */
	pthread_mutex_t lock;   /* guards head, tail and current */
	pthread_cond_t wake;
	struct job *head, **tail;
	struct job *current; /* being sent, or NULL */
};

static struct job *job_new(const char *rid, int64_t id, const struct actor *a)
{
	struct job *j = xcalloc(1, sizeof(*j));
	j->rid = xstrdup(rid);
	j->id = id;
	j->actor = *a;
	j->actor.name = xstrdup(a->name);
	return j;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->rid);
	free((char *)j->actor.name);
	free(j);
}

/* Appends `j`; the caller holds q->lock. */
static void push_locked(struct sendq *q, struct job *j)
{
	j->next = NULL;
	*q->tail = j;
	q->tail = &j->next;
	pthread_cond_signal(&q->wake);
}

static bool is_same(const struct job *j, const char *rid, int64_t id)
{
	return j && j->id == id && strcmp(j->rid, rid) == 0;
}

/* Whether mailing `id` of `rid` is queued or being sent; the caller holds q->lock. */
static bool busy_locked(const struct sendq *q, const char *rid, int64_t id)
{
	if (is_same(q->current, rid, id))
		return true;
	for (const struct job *j = q->head; j; j = j->next)
		if (is_same(j, rid, id))
			return true;
	return false;
}

/* Sends one mailing on the thread's connection (opened on first use). Prints the outcome
 * with the mailing's id and register, never personal data. */
static void send_job(struct sendq *q, struct store **db, const struct job *j)
{
	struct arena mem;
	struct kerr e = {0};
	json_t *out = NULL;
	arena_init(&mem);
	if (*db || app_connect(q->app, db, &e) == 0) {
		struct kctx ctx = {
		        .db = *db, .actor = &j->actor, .mem = &mem, .err = &e, .app = q->app};
		struct mailing_send_opts o = {.stop = &q->stop};
		kctx_set_now(&ctx, app_now(q->app));
		if (mailing_send_run(&ctx, j->rid, j->id, &o, &out) == 0) {
			const char *st = json_string_value(json_object_get(out, "state"));
			fprintf(stderr, "kortisto: mailing %" PRId64 " of %s: %s\n", j->id, j->rid,
			        st && strcmp(st, "sent") == 0
			                ? "sent"
			                : "stopped, to resume when the server starts again");
		}
	}
	if (e.message[0])
		fprintf(stderr, "kortisto: mailing %" PRId64 " of %s: %s\n", j->id, j->rid,
		        e.message);
	json_decref(out);
	arena_free(&mem);
}

static void *sendq_main(void *arg)
{
	struct sendq *q = arg;
	struct store *db = NULL;
	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (!q->head && !atomic_load(&q->stop))
			pthread_cond_wait(&q->wake, &q->lock);
		if (atomic_load(&q->stop)) {
			pthread_mutex_unlock(&q->lock);
			break;
		}
		struct job *j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = &q->head;
		q->current = j;
		pthread_mutex_unlock(&q->lock);

		send_job(q, &db, j);

		pthread_mutex_lock(&q->lock);
		q->current = NULL;
		pthread_mutex_unlock(&q->lock);
		job_free(j);
	}
	store_close(db);
	return NULL;
}

/* Queues the mailings left 'sending', as SENDQ_ACTOR. */
static int queue_left(struct sendq *q, struct kerr *err)
{
	static const struct actor system = {ACTOR_SYSTEM, SENDQ_ACTOR, 0, 0};
	struct store *db = NULL;
	struct arena mem;
	json_t *left = NULL, *v;
	size_t i;
	int rc;
	if ((rc = app_connect(q->app, &db, err)))
		return rc;
	arena_init(&mem);
	struct kctx ctx = {.db = db, .actor = &system, .mem = &mem, .err = err, .app = q->app};
	kctx_set_now(&ctx, app_now(q->app));
	if ((rc = mailing_sending(&ctx, &left)) == 0) {
		json_array_foreach (left, i, v) {
			push_locked(q,
			            job_new(json_string_value(json_object_get(v, "register")),
			                    (int64_t)json_integer_value(json_object_get(v, "id")),
			                    &system));
		}
		if (json_array_size(left))
			fprintf(stderr, "kortisto: resuming %zu mailing(s) left sending\n",
			        json_array_size(left));
	}
	json_decref(left);
	arena_free(&mem);
	store_close(db);
	return rc;
}

int sendq_start(struct kapp *app, struct sendq **out, struct kerr *err)
{
	struct sendq *q = xcalloc(1, sizeof(*q));
	int rc;
	*out = NULL;
	q->app = app;
	q->tail = &q->head;
	atomic_init(&q->stop, false);
	pthread_mutex_init(&q->submit, NULL);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	/* No other thread sees q yet: the lock is taken only for its contract. */
	pthread_mutex_lock(&q->lock);
	rc = queue_left(q, err);
	pthread_mutex_unlock(&q->lock);
	if (rc) {
		sendq_free(q);
		return rc;
	}
	*out = q;
	return 0;
}

int sendq_run(struct sendq *q, struct kerr *err)
{
	q->started = pthread_create(&q->thread, NULL, sendq_main, q) == 0;
	return q->started ? 0 : kerr_set(err, KERR_INTERNAL, NULL, "cannot start the mail sender");
}

int sendq_submit(struct sendq *q, struct kctx *ctx, const char *rid, int64_t id, json_t **out)
{
	int rc;
	bool busy;
	*out = NULL;
	/* One request at a time, so that two sends of one draft cannot both record its
	 * recipients and both queue it. */
	pthread_mutex_lock(&q->submit);
	pthread_mutex_lock(&q->lock);
	bool stopping = atomic_load(&q->stop);
	busy = busy_locked(q, rid, id);
	pthread_mutex_unlock(&q->lock);
	if (stopping) /* nothing is recorded: the send is asked again once the server is back */
		rc = kerr_set(ctx->err, KERR_BUSY, NULL,
		              "the server is stopping: send the mailing again when it is back");
	else if (busy)
		rc = kerr_set(ctx->err, KERR_CONFLICT, "id", "mailing %" PRId64 " is being sent",
		              id);
	else
		rc = mailing_send_start(ctx, rid, id);
	if (!rc) {
		pthread_mutex_lock(&q->lock);
		push_locked(q, job_new(rid, id, ctx->actor));
		pthread_mutex_unlock(&q->lock);
	}
	pthread_mutex_unlock(&q->submit);
	if (!rc)
		rc = mailing_get(ctx, rid, id, out);
	return rc;
}

void sendq_stop(struct sendq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	atomic_store(&q->stop, true);
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
	if (q->started)
		pthread_join(q->thread, NULL);
	q->started = false;
}

void sendq_free(struct sendq *q)
{
	if (!q)
		return;
	sendq_stop(q);
	while (q->head) {
		struct job *j = q->head;
		q->head = j->next;
		job_free(j);
	}
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->submit);
	free(q);
}
