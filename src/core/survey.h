/*
 * Feedback surveys (F-01 … F-04) and their raffles (F-02, L-03, L-04). A survey is a
 * published, versioned definition of questions in fi, sv and en; answers are stored with a
 * random key, the survey and the day only; raffle entries are stored apart from them with a
 * random key, the survey and the contact (no date), and nothing pairs the two. A manager draws
 * the winners, which deletes every other entry in the same transaction, and deletes the
 * winners' contacts once they are notified; the sweep deletes answers and entries older than
 * the periods the register's retention rules declare for record types survey_answer and
 * raffle_entry.
 *
 * Roles: an editor loads definitions, a viewer reads statistics, a manager draws and marks
 * winners notified; the operator and kortisto's own jobs may do everything. Answering and
 * entering the raffle are public.
 */
#ifndef KORTISTO_SURVEY_H
#define KORTISTO_SURVEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "decl/decl.h"

struct buf;
struct kctx;
struct kerr;

/* Groups of fewer answers than this are hidden from statistics (F-04). */
#define SURVEY_MIN_GROUP 5

/*
 * Parses a survey definition written in YAML (JSON is YAML too) into a JSON value the caller
 * owns (*def), and *lines, an object mapping each member's path ("questions[2].kind") to its
 * line in the text, for survey_error_line(). Returns 0, or KERR_INVALID with "LINE:COLUMN:
 * message" in `err`.
 */
int survey_parse_yaml(const char *text, size_t len, json_t **def, json_t **lines, struct kerr *err);

/* The line of `field` (a path as survey_load names it, or a prefix of one that is in
 * `lines`); 0 when unknown. */
int survey_error_line(json_t *lines, const char *field);

/*
 * Loads a definition into register `rid` (which must declare record type survey_answer):
 * {key, title: {fi, sv?, en?}, intro?, raffle?: bool, questions: [{id, kind: text | rating |
 * single | multiple | background, text, required?, min?, max?, labels? {min, max},
 * options? [{id, text}], topic? (background: age_band, profession, family_situation,
 * gender, mother_tongue, role), max_length? (text)}]}. The first definition of a key is
 * version 1; a changed definition makes the next version and closes the earlier one for new
 * answers, so published questions never change under their answers; an unchanged one is
 * left as it is. *out (the caller's) is {id, key, version, created}. Errors: KERR_INVALID
 * naming the field path, KERR_REFUSED when the register declares no survey answers,
 * KERR_FORBIDDEN below editor.
 */
int survey_load(struct kctx *ctx, const char *rid, json_t *def, json_t **out);

/* Survey `id` (of register `rid`, or of any register when NULL: the public page) with its
 * definition, state, and numbers of answers and raffle entries when `rid` is given. */
int survey_get(struct kctx *ctx, const char *rid, int64_t id, json_t **out);

/* The surveys of `rid`: {items: [...]} without definitions. */
int survey_list(struct kctx *ctx, const char *rid, json_t **out);

/*
 * Stores one answer to open survey `id` from the public (F-01): {question id: value}, a
 * string for text and single/background choices, an integer for ratings, an array of option
 * ids for multiple choice. Nothing but a random key, the survey and today's date is stored
 * with it; the context's client address and actor are not used.
 */
int survey_answer(struct kctx *ctx, int64_t id, json_t *answers);

/*
 * Enters `contact` (an e-mail address or a phone number) in the raffle of survey `id`
 * (F-02): stored apart from answers, with a random key and the survey, no date; every
 * entry of the raffle is then written anew in random order with new random keys, so their
 * order says nothing of arrival. The first entry of a raffle sets the day its deletion
 * period runs from.
 * Entering twice with the same contact changes nothing. KERR_CONFLICT once drawn or closed.
 */
int survey_enter(struct kctx *ctx, int64_t id, const char *contact);

/*
 * Draws `winners` entries of the raffle of survey `id` with libsodium's random source and,
 * in the same transaction, deletes every other entry (L-03). *out (the caller's) is {survey,
 * entries, winners: [{kind, contact}]}: the only time the contacts are shown; the read is
 * logged. Manager of the register or operator. KERR_CONFLICT when already drawn.
 */
int survey_draw(struct kctx *ctx, const char *rid, int64_t id, int winners, json_t **out);

/* Deletes the winners' contacts of survey `id` once they were told (L-03); *deleted how
 * many. Manager or operator; KERR_CONFLICT before the draw. */
int survey_notified(struct kctx *ctx, const char *rid, int64_t id, int64_t *deleted);

/*
 * Deletes the answers of register `rid` whose day plus the period of the declared retention
 * rule for record type survey_answer is on or before `as_of_day` (YYYY-MM-DD) (L-04), and
 * every entry of each raffle whose oldest entry's day plus the period of the rule for
 * raffle_entry is (L-03: entries have no date of their own, so they go together, none later
 * than its own period). A register without such a rule keeps them. Sets the counts when not
 * NULL. Operator, kortisto's own job, or a manager.
 */
int survey_expire(struct kctx *ctx, const char *rid, const char *as_of_day, int64_t *answers,
                  int64_t *entries);

/*
 * Statistics of survey `id` (F-04): per question the number of answers, counts per option
 * or scale value, the mean of a rating, free texts; with `by` (a background or single
 * choice question id) the same cross-tabulated by its options. A count, a group or a text
 * list of fewer than SURVEY_MIN_GROUP answers is hidden ("hidden": true, no number). Viewer
 * and up.
 */
int survey_stats(struct kctx *ctx, const char *rid, int64_t id, const char *by, json_t **out);

/* Statistics as CSV (RFC 4180; cells that a spreadsheet would run as a formula get an
 * apostrophe) or as an SVG bar chart per question in `lang`; appended to `out`. */
void survey_stats_csv(json_t *stats, struct buf *out);
void survey_stats_svg(json_t *stats, enum lang lang, struct buf *out);

#endif
