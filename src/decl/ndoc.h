/*
 * A generated document (a privacy notice, the record of processing) as a flat list of
 * blocks, written once and emitted as HTML, Markdown or plain text. Building and emitting are
 * apart so the three formats cannot say different things, and so two versions of a notice
 * can be compared block by block. Internal to decl/.
 */
#ifndef KORTISTO_NDOC_H
#define KORTISTO_NDOC_H

#include <stdbool.h>

#include "decl/decl.h"
#include "decl/notice.h"
#include "decl/notice_text.h"
#include "util/arena.h"
#include "util/buf.h"

enum nb_kind {
	NB_KIND,  /* the kind of document above the title ("Tietosuojaseloste") */
	NB_TITLE, /* the title: one per document */
	NB_H2,    /* a section; numbered unless `plain` */
	NB_H3,    /* a subsection */
	NB_P,     /* a paragraph */
	NB_LI,    /* an item of a bulleted list; consecutive items make one list */
	NB_LIP,   /* a further paragraph of the list item before it */
	NB_KV,    /* "label: text"; consecutive ones make one description list */
};

enum nb_link { NL_NONE, NL_MAILTO, NL_HREF };

struct nblock {
	enum nb_kind kind;
	const char *label; /* NB_KV */
	const char *text;
	const char *href;   /* NB_LI, NB_KV: link target (a relative URL, or NL_* of the text) */
	enum nb_link link;  /* how `text` links: NL_NONE, or to itself */
	bool fallback;      /* Finnish text shown in another language */
	bool strong;        /* NB_P: emphasised (a name heading a group of lines) */
	bool plain;         /* NB_H2: not numbered */
	int section;        /* number of the NB_H2 it is under (0: above the first) */
	const char *anchor; /* NB_H2: id of the section */
};

struct ndoc {
	struct arena mem; /* every string the builder formats */
	struct nblock *v;
	size_t n, cap;
	enum lang lang;
	bool any_fallback;
	int sections; /* numbered sections so far */
	int section;  /* the current section's number (numbered or not) */
};

/* Starts an empty document in `lang`. */
void ndoc_init(struct ndoc *doc, enum lang lang);

/* Frees a document's blocks and strings. */
void ndoc_free(struct ndoc *doc);

/* Appends a block; `text` and `label` must live as long as the document (declaration
 * strings, catalogue strings or ndoc_printf()). Returns the block, valid until the next add. */
struct nblock *ndoc_add(struct ndoc *doc, enum nb_kind kind, const char *label, const char *text);

/* Appends a block with a declaration text in the document's language, falling back to
 * Finnish (marked). Paragraphs (NB_P) separated by a blank line become blocks of their own;
 * in other kinds line breaks become spaces. Adds nothing and returns NULL when `t` has no
 * text. */
struct nblock *ndoc_text(struct ndoc *doc, enum nb_kind kind, const char *label,
                         const struct text *t);

/* Appends a block with a catalogue message. */
struct nblock *ndoc_msg(struct ndoc *doc, enum nb_kind kind, enum nmsg m);

/* Starts a section: numbered sections are "N. heading"; `anchor` names it in HTML. */
void ndoc_section(struct ndoc *doc, const char *heading, const char *anchor, bool numbered);

/* printf into the document's memory. */
char *ndoc_printf(struct ndoc *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message in the document's language. */
const char *ndoc_m(const struct ndoc *doc, enum nmsg m);

/* A date YYYY-MM-DD (or the date part of an ISO 8601 time) the way `lang` writes it:
 * 2.9.2021 in Finnish and Swedish, 2 September 2021 in English. Returns `iso` unchanged when
 * it is not a date. */
const char *ndoc_date(struct ndoc *doc, const char *iso);

/* What a retention rule does, as a sentence derived from the rule itself (notice.c). */
const char *ndoc_rule_sentence(struct ndoc *doc, const struct decl *d, const struct decl_rule *r);

/* The message naming each legal basis of Art. 6(1) (notice.c). */
extern const enum nmsg ndoc_basis_msgs[BASIS__MAX];

/* The message naming each kind of recipient (notice.c). */
extern const enum nmsg ndoc_recipient_msgs[RK__MAX];

struct ndoc_html {
	const char *css_href;  /* link this style sheet; NULL: embed it in the page */
	const char *lang_href; /* when set, links to the page in each language: HREF?lang=xx */
	int version;           /* > 0: the language links keep showing this version */
	const char *title;     /* the <title>; NULL: the document's title */
};

/* Emits the document as a whole HTML page (`h` may be NULL), as Markdown or as plain text
 * wrapped at 78 columns. */
void ndoc_emit_html(const struct ndoc *doc, const struct ndoc_html *h, struct buf *out);
/* Emits the document's sections as an HTML fragment to put inside another page's <main>:
 * each section a <section> with a heading of `level` (2 to 5; any other is taken as 2) and
 * subheadings one lower, its id the section's anchor after `id_prefix` (NULL or "" for none,
 * so that a page holding the parts of several documents keeps its ids unique); no page,
 * header, contents or footer. */
void ndoc_emit_html_part(const struct ndoc *doc, const char *id_prefix, int level, struct buf *out);
void ndoc_emit_md(const struct ndoc *doc, struct buf *out);
void ndoc_emit_txt(const struct ndoc *doc, struct buf *out);

#endif
