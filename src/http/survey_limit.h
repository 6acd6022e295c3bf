/*
 * The in-memory rate limit of the public survey routes (answers and raffle entries), keyed
 * by a keyed hash of the client address that is never stored; see survey_limit.c.
 */
#ifndef KORTISTO_SURVEY_LIMIT_H
#define KORTISTO_SURVEY_LIMIT_H

#include <stdint.h>

#define SURVEY_LIMIT_MAX    60  /* stored answers and entries per address … */
#define SURVEY_LIMIT_WINDOW 600 /* … in this many seconds */

/* Seconds the client at `addr` must wait before it may store another answer or entry, or 0
 * when it may now (`now`: unix seconds of the real clock). NULL `addr`: 0. Thread-safe. */
int64_t survey_limit_check(const char *addr, int64_t now);

/* Counts one stored answer or entry of `addr`. Thread-safe. */
void survey_limit_count(const char *addr, int64_t now);

#endif
