/*
 * Published texts generated from declarations: the privacy notice of a register in any of
 * its stored versions, with its version history and what changed, and the record of
 * processing of the controller. None of it is personal data of the register's subjects, so
 * these calls need no role and write no usage-log entry; they read only declarations.
 */
#ifndef KORTISTO_CORE_NOTICE_H
#define KORTISTO_CORE_NOTICE_H

#include <stdbool.h>

#include "decl/notice.h"
#include "util/buf.h"

struct kctx;

struct notice_req {
	const char *rid;
	int version;  /* 0: the current version */
	bool changes; /* list what changed since the previous version (or `since`) */
	int since;    /* 0: the version before `version` */
	bool history; /* list every version */
	enum lang lang;
	enum notice_format format; /* NF_HTML, NF_MD or NF_TXT */
	const char *css_href;      /* HTML: see struct notice_opts */
	const char *self_href;
};

/*
 * Appends the notice asked for by `rq` to `out`. Errors: KERR_NOTFOUND (no such register or
 * version; field "register", "version" or "since"), KERR_INVALID (a format a notice does not
 * come in; `since` not older than the version shown).
 */
int notice_get(struct kctx *ctx, const struct notice_req *rq, struct buf *out);

/*
 * Appends the Art. 30(1) record of processing of every register, in their current versions,
 * to `out` (NF_HTML, NF_MD or NF_CSV; KERR_INVALID for another).
 */
int notice_record(struct kctx *ctx, enum lang lang, enum notice_format format, struct buf *out);

#endif
