/*
 * The privacy notice (GDPR Art. 13/14, N-01) and the record of processing (Art. 30(1)),
 * generated from declarations. The notice is built from the same struct decl the core
 * enforces, so what it says is what kortisto does: the rights section is derived from the
 * declared legal bases, the retention section from the rules that run, and so on.
 */
#ifndef KORTISTO_NOTICE_H
#define KORTISTO_NOTICE_H

#include <stdbool.h>
#include <stddef.h>

#include "decl/decl.h"
#include "util/buf.h"

enum notice_format { NF_HTML, NF_MD, NF_TXT, NF_CSV, NF__MAX };

/* The format named "html", "md", "txt" or "csv"; -1 for any other name. */
int notice_format_from_name(const char *name);

/* One stored version of a register's declaration, for the version history. */
struct notice_version {
	int version;
	const char *published, *updated; /* YYYY-MM-DD; updated may be NULL */
	const char *loaded_at;           /* ISO 8601 time the version took effect */
};

struct notice_opts {
	enum lang lang;
	enum notice_format format; /* NF_HTML, NF_MD or NF_TXT */
	int version;               /* the stored version shown; 0 when not a stored one */
	const char *in_force_from; /* ISO 8601 time that version took effect, or NULL */
	const struct notice_version *history; /* every version, newest first; may be NULL */
	size_t nhistory;
	const struct decl *previous; /* when set, a section lists what changed since it */
	int previous_version;
	const char *css_href;  /* HTML: link this style sheet; NULL: embed it */
	const char *self_href; /* HTML: the page's own path, for language and version links */
	bool version_in_links; /* HTML: the language links keep the version shown */
};

/*
 * Appends the notice of declaration `d` to `out` in the language and format of `o`.
 * Returns 0, or -1 when the format is not one a notice comes in (CSV).
 */
int notice_render(const struct decl *d, const struct notice_opts *o, struct buf *out);

/*
 * Appends the record of processing activities (Art. 30(1)) of the `n` registers `regs` to
 * `out`: one part per register in HTML or Markdown, one row per register in CSV (RFC 4180,
 * a header row first). Returns 0, or -1 for plain text, which it does not come in.
 */
int record_render(const struct decl *const *regs, size_t n, enum lang lang,
                  enum notice_format format, struct buf *out);

/* The sections of a notice that other documents repeat: the access letter gives the
 * Art. 15(1)(a)–(h) information (purposes, categories, recipients, retention, rights,
 * complaint, source, automated decisions) in the notice's own words. */
enum notice_part {
	NP_CONTROLLER,
	NP_PURPOSES,
	NP_CATEGORIES,
	NP_SOURCES,
	NP_RECIPIENTS,
	NP_TRANSFERS,
	NP_RETENTION,
	NP_AUTOMATED,
	NP_RIGHTS,
	NP_COMPLAINT,
	NP__MAX
};

/*
 * Appends section `part` of the notice of `d` in `lang` to `out` as an HTML fragment: one
 * <section> with an unnumbered <h2>, holding what the notice says there (the declaration's
 * texts, Finnish fallbacks marked, and the sentences derived from it: rights from the legal
 * bases, retention from the rules), all through the escaping writers.
 */
void notice_part_html(const struct decl *d, enum lang lang, enum notice_part part, struct buf *out);

/* As notice_part_html, for a page that holds the parts of several registers: the section's
 * heading is of `level` (2 to 5) and its id is prefixed with `id_prefix` (may be ""). */
void notice_part_html_at(const struct decl *d, enum lang lang, enum notice_part part,
                         const char *id_prefix, int level, struct buf *out);

/* The style sheet of notice pages: readable on a phone, printable. A static string. */
const char *notice_css(void);

#endif
