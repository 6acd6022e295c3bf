/*
 * The one error convention: functions return 0 or a negative KERR_* and record the first
 * error in a struct kerr with a message a user can act on and the field it concerns. Later
 * errors do not overwrite the first, so the cause, not a consequence, is reported.
 */
#ifndef KORTISTO_KERR_H
#define KORTISTO_KERR_H

enum {
	KERR_OK = 0,
	KERR_INVALID = -1,     /* bad input: 400 */
	KERR_NOTFOUND = -2,    /* unknown register or id: 404 */
	KERR_CONFLICT = -3,    /* duplicate or stale: 409 */
	KERR_REFUSED = -4,     /* refused by a declared rule: 422 */
	KERR_FORBIDDEN = -5,   /* no right: 403 */
	KERR_UNAUTH = -6,      /* not signed in: 401 */
	KERR_TOOLARGE = -7,    /* too large: 413 */
	KERR_INTERNAL = -8,    /* storage or system failure: 500 */
	KERR_BUSY = -9,        /* try again later: 503 */
	KERR_THROTTLED = -10,  /* too many attempts, wait: 429 */
	KERR_SUPPRESSED = -11, /* the person was erased by passivation: 422 */
};

struct kerr {
	int code;       /* 0 while no error was recorded */
	char field[64]; /* offending field or ""; never contains personal data */
	char message[256];
};

/* Records an error unless one is already recorded; returns `code` for `return kerr_set(…)`. */
int kerr_set(struct kerr *e, int code, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Forgets a recorded error. */
void kerr_clear(struct kerr *e);

/* HTTP status for a KERR_* code. */
int kerr_http_status(int code);

/* Short English title for a KERR_* code ("Bad request", "Not found", …). */
const char *kerr_title(int code);

#endif
