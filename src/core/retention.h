/*
 * Retention: the rules a register declares run by themselves (L-01, L-02, L-05, L-06, L-07).
 * A rule names whom or which records it applies to, how long after which moment, and what
 * happens then (delete, anonymize, passivate, archive_then_delete, or none); legal holds
 * keep a person out of every rule. Customer events recorded here move a person's
 * last_customer_event, the moment most rules count from.
 *
 * A run works in batches, one write transaction each: the batch's actions, their usage-log
 * entries (actor system:retention, reason the rule id) and the rule's progress commit
 * together. So a run killed at any moment has done each action exactly once, and the next
 * run for the same day continues from the last committed batch. A lock file keeps two runs
 * from overlapping.
 */
#ifndef KORTISTO_RETENTION_H
#define KORTISTO_RETENTION_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct kctx;

/* The actor every retention action is logged as. */
#define RETENTION_ACTOR "system:retention"

/*
 * Records a record of declared type `type` about person `person_id` of `rid`, on day `on`
 * (YYYY-MM-DD, not after today; NULL: today). A type with customer_event: true moves the
 * person's last_customer_event forward to `on` (never back), with change history. *id (may
 * be NULL) gets the record's id. Needs the role of an editor (the operator at the command
 * line has it). KERR_NOTFOUND (register, person), KERR_REFUSED (type not declared, or a
 * survey type, which is never tied to a person: F-01, F-02), KERR_INVALID (bad day).
 */
int retention_event_add(struct kctx *ctx, const char *rid, int64_t person_id, const char *type,
                        const char *on, int64_t *id);

/* As retention_event_add, inside a write transaction the caller holds (core/event.c records
 * participation and its customer event together, core/service.c a record's content); on
 * error the caller rolls back. The day string `on` must outlive the call. */
int retention_event_add_tx(struct kctx *ctx, const char *rid, int64_t person_id, const char *type,
                           const char *on, int64_t *id);

/* As retention_event_add_tx on today, for a caller whose own usage-log entry in the same
 * transaction names the person and the record (core/mailing.c logs a newsletter open so):
 * writes no entry of its own, which keeps a hot public path (the open pixel) at one entry,
 * one hash-chain link and one index write a hit. */
int retention_event_logged_tx(struct kctx *ctx, const char *rid, int64_t person_id,
                              const char *type, int64_t *id);

/*
 * A dry run: what a run at ctx->now would do, changing nothing in the registers. *out (the
 * caller owns it) = {as_of, registers: [{register, rules: [{rule, action, from, after,
 * parts: [{part, due, held, excepted, sample: [ids]}], note}], holds: [{person, held_by,
 * held_at}]}]}: for each rule, how many persons or records it would act on, hold back or
 * keep by exception, with up to ten ids each. Only ids, never personal data. `rid` NULL:
 * every register (operator only); else the operator or a manager of `rid`.
 */
int retention_plan(struct kctx *ctx, const char *rid, json_t **out);

/* Progress of a run, for a terminal: called after every committed batch. */
typedef void (*retention_progress_fn)(void *arg, const char *rid, const char *rule,
                                      const char *part, int64_t examined, int64_t acted);

struct retention_opts {
	const char *rid; /* one register, or NULL for every register */
	int batch;       /* persons or records per transaction; 0: cfg.retention_batch */
	int pause_ms;    /* wait after each batch (eases the load on a busy server) */
	retention_progress_fn progress; /* may be NULL */
	void *progress_arg;
	/* When set and it becomes true, the run stops after the batch in progress and stays
	 * "running", to be continued by the next run of the same day (a server stopping). */
	const atomic_bool *stop;
};

/*
 * Runs every rule of the register(s) at ctx->now's day, as RETENTION_ACTOR. The operator or
 * a system job only (KERR_FORBIDDEN otherwise); KERR_BUSY while another run holds the lock.
 * An earlier run of the same registers and day that was killed (or stopped through o->stop)
 * is continued (its counts go on); one of another day is closed as interrupted. *out (the caller owns it; may be NULL)
 * gets the run's summary as retention_runs() shows it. Archive packages are written under
 * cfg.archive_dir. On error the batch in progress is rolled back, the run is marked failed
 * and what earlier batches did stays done.
 */
int retention_run(struct kctx *ctx, const struct retention_opts *o, json_t **out);

/* Puts person `person_id` of `rid` on legal hold with `reason` (1–500 characters): no rule
 * touches them until released. The operator or a manager of `rid`; KERR_CONFLICT when
 * already held. The reason is stored, never logged. */
int retention_hold(struct kctx *ctx, const char *rid, int64_t person_id, const char *reason);

/* Releases the hold of `person_id`; KERR_NOTFOUND when not held. Same rights as a hold. */
int retention_release(struct kctx *ctx, const char *rid, int64_t person_id);

/* The newest `limit` runs (0: 20) before run `before` (0: from the newest) with their
 * per-rule counts, as a JSON array the caller owns. The operator only. */
int retention_runs(struct kctx *ctx, int64_t before, int limit, json_t **out);

/*
 * Applies at once, inside the caller's write transaction, the register's rules that count
 * from affiliation_end to person `person_id`, whose affiliation has just ended with reason
 * employment_ended (L-05): unless the person is held, still has an open affiliation, is kept
 * by a rule's exception or the period has not yet passed. *acted (may be NULL) tells whether
 * the person is gone. Logged as RETENTION_ACTOR with the rule id.
 */
int retention_affiliation_ended_tx(struct kctx *ctx, const char *rid, int64_t person_id,
                                   bool *acted);

#endif
