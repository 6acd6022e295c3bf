/*
 * Generated documents: the block list, and its emitters for HTML, Markdown and plain text.
 * Every string reaches HTML through the escaping writers and Markdown through md_text(), so a
 * declaration cannot inject markup into a published notice, whatever its texts contain.
 */
#include "decl/ndoc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/html.h"
#include "util/xmalloc.h"

void ndoc_init(struct ndoc *doc, enum lang lang)
{
	memset(doc, 0, sizeof(*doc));
	arena_init(&doc->mem);
	doc->lang = lang;
}

void ndoc_free(struct ndoc *doc)
{
	free(doc->v);
	arena_free(&doc->mem);
	memset(doc, 0, sizeof(*doc));
}

struct nblock *ndoc_add(struct ndoc *doc, enum nb_kind kind, const char *label, const char *text)
{
	if (doc->n == doc->cap) {
		doc->cap = doc->cap ? doc->cap * 2 : 64;
		doc->v = xrealloc(doc->v, doc->cap * sizeof(*doc->v));
	}
	struct nblock *b = &doc->v[doc->n++];
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->label = label;
	b->text = text ? text : "";
	b->section = doc->section;
	return b;
}

char *ndoc_printf(struct ndoc *doc, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vappendf(&b, fmt, ap);
	va_end(ap);
	char *s = arena_strdup(&doc->mem, buf_str(&b));
	buf_free(&b);
	return s;
}

const char *ndoc_m(const struct ndoc *doc, enum nmsg m)
{
	return nmsg(m, doc->lang);
}

/* A copy of `s` with every run of line breaks turned into one space. */
static const char *one_line(struct ndoc *doc, const char *s)
{
	if (!strchr(s, '\n'))
		return s;
	char *c = arena_strdup(&doc->mem, s), *w = c;
	for (const char *r = s; *r; r++) {
		if (*r == '\n') {
			if (w > c && w[-1] != ' ')
				*w++ = ' ';
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	return c;
}

struct nblock *ndoc_text(struct ndoc *doc, enum nb_kind kind, const char *label,
                         const struct text *t)
{
	bool fb = false;
	const char *s = decl_text(t, doc->lang, &fb);
	struct nblock *last = NULL;

	if (!s || !*s)
		return NULL;
	doc->any_fallback |= fb;
	if (kind != NB_P) {
		last = ndoc_add(doc, kind, label, one_line(doc, s));
		last->fallback = fb;
		return last;
	}
	/* One block per paragraph, so the formats agree on where paragraphs end. */
	while (*s) {
		const char *end = strstr(s, "\n\n");
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if (len) {
			last = ndoc_add(doc, NB_P, label,
			                one_line(doc, arena_strndup(&doc->mem, s, len)));
			last->fallback = fb;
		}
		s += len;
		while (*s == '\n')
			s++;
	}
	return last;
}

struct nblock *ndoc_msg(struct ndoc *doc, enum nb_kind kind, enum nmsg m)
{
	return ndoc_add(doc, kind, NULL, nmsg(m, doc->lang));
}

void ndoc_section(struct ndoc *doc, const char *heading, const char *anchor, bool numbered)
{
	doc->section = numbered ? ++doc->sections : doc->section + 1000;
	struct nblock *b = ndoc_add(doc, NB_H2, NULL, heading);
	b->plain = !numbered;
	b->anchor = anchor;
}

const char *ndoc_date(struct ndoc *doc, const char *iso)
{
	char tmp[32];
	const char *s = lang_date(doc->lang, iso, tmp);
	return s == tmp ? arena_strdup(&doc->mem, tmp) : iso;
}

/* ------------------------------------------------------------------------------------------
 * HTML
 */

static const char css[] =
        ":root{color-scheme:light}"
        "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
        "font-size:1.0625rem;line-height:1.55;color:#1a1a1a;background:#fff;max-width:46rem;"
        "margin:0 auto;padding:1rem}"
        "a{color:#0b57a4}a:focus{outline:3px solid #b35c00;outline-offset:2px}"
        ".skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:#fff;"
        "padding:.5rem}"
        "header{border-bottom:3px solid #0b57a4;margin-bottom:1.5rem;padding-bottom:.5rem}"
        ".kind{text-transform:uppercase;letter-spacing:.06em;color:#444;margin:0;"
        "font-size:.9rem}"
        "h1{font-size:1.6rem;line-height:1.25;margin:.25rem 0 .75rem}"
        "h2{font-size:1.25rem;line-height:1.3;margin:2rem 0 .5rem;padding-bottom:.2rem;"
        "border-bottom:1px solid #ccc}"
        "h3{font-size:1.05rem;margin:1.25rem 0 .25rem}"
        "p{margin:.4rem 0}ul{padding-left:1.4rem}li{margin:.2rem 0}li p{margin:.2rem 0}"
        "dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.4rem 0}"
        "dt{font-weight:600}dd{margin:0}"
        ".fallback{color:#555;font-style:italic;font-size:.9em}"
        "nav.langs{float:right;font-size:.9rem}nav.langs a{margin-left:.5rem}"
        "nav.toc ol{columns:2;column-gap:2rem;padding-left:1.4rem}nav.toc "
        "ul{list-style:none;padding-left:1.4rem}"
        "footer{margin-top:2.5rem;border-top:1px solid #ccc;color:#444;font-size:.9rem}"
        "@media (max-width:36rem){dl{grid-template-columns:1fr}dd{margin-bottom:.4rem}"
        "nav.toc ol{columns:1}nav.langs{float:none}}"
        "@media print{nav,.skip{display:none}body{max-width:none;padding:0;font-size:11pt}"
        "a{color:inherit;text-decoration:none}h2,h3{break-after:avoid}"
        "header{border-color:#000}}\n";

const char *notice_css(void)
{
	return css;
}

static void html_fallback(const struct ndoc *doc, const struct nblock *b, struct buf *out)
{
	if (!b->fallback)
		return;
	buf_puts(out, " <span class=\"fallback\">");
	html_text(out, ndoc_m(doc, NM_IN_FINNISH));
	buf_puts(out, "</span>");
}

/* The text of a block: in its language (Finnish when a fallback), linked where it should. */
static void html_block_text(const struct ndoc *doc, const struct nblock *b, struct buf *out)
{
	const char *href = b->href;
	if (b->link == NL_MAILTO || b->link == NL_HREF)
		href = b->text;
	if (href) {
		buf_puts(out, "<a href=\"");
		if (b->link == NL_MAILTO)
			buf_puts(out, "mailto:");
		html_attr(out, href);
		buf_puts(out, "\">");
	}
	if (b->fallback) {
		buf_puts(out, "<span lang=\"fi\">");
		html_text(out, b->text);
		buf_puts(out, "</span>");
	} else {
		html_text(out, b->text);
	}
	if (href)
		buf_puts(out, "</a>");
	html_fallback(doc, b, out);
}

/* One "label: text" item, opening the description list when it is not open yet. */
static void html_kv(const struct ndoc *doc, const struct nblock *b, bool *in_dl, struct buf *out)
{
	if (!*in_dl)
		buf_puts(out, "<dl>\n");
	*in_dl = true;
	buf_puts(out, "<dt>");
	html_text(out, b->label);
	buf_puts(out, "</dt><dd>");
	html_block_text(doc, b, out);
	buf_puts(out, "</dd>\n");
}

static void html_heading_text(const struct nblock *b, struct buf *out)
{
	if (b->kind == NB_H2 && !b->plain)
		buf_appendf(out, "%d. ", b->section);
	html_text(out, b->text);
}

/* The blocks from `i` on as HTML: each section a <section> with its <h2>. */
/* The blocks from `i` on as HTML: each section a <section> whose heading is of `level` (its
 * subheadings one lower) and whose id is its anchor after `id_prefix`. */
static void html_blocks(const struct ndoc *doc, size_t i, const char *id_prefix, int level,
                        struct buf *out)
{
	bool in_ul = false, in_li = false, in_sec = false, in_dl = false;
	for (; i < doc->n; i++) {
		const struct nblock *b = &doc->v[i];
		if (in_li && b->kind != NB_LIP) {
			buf_puts(out, "</li>\n");
			in_li = false;
		}
		if (in_ul && b->kind != NB_LI && b->kind != NB_LIP) {
			buf_puts(out, "</ul>\n");
			in_ul = false;
		}
		if (in_dl && b->kind != NB_KV) {
			buf_puts(out, "</dl>\n");
			in_dl = false;
		}
		switch (b->kind) {
		case NB_H2:
			if (in_sec)
				buf_puts(out, "</section>\n");
			in_sec = true;
			buf_puts(out, "<section aria-labelledby=\"");
			html_attr(out, id_prefix);
			html_attr(out, b->anchor);
			buf_appendf(out, "\">\n<h%d id=\"", level);
			html_attr(out, id_prefix);
			html_attr(out, b->anchor);
			buf_puts(out, "\">");
			html_heading_text(b, out);
			buf_appendf(out, "</h%d>\n", level);
			break;
		case NB_H3:
			buf_appendf(out, "<h%d>", level + 1);
			html_block_text(doc, b, out);
			buf_appendf(out, "</h%d>\n", level + 1);
			break;
		case NB_LI:
			if (!in_ul)
				buf_puts(out, "<ul>\n");
			in_ul = in_li = true;
			buf_puts(out, "<li>");
			html_block_text(doc, b, out);
			break;
		case NB_LIP:
			buf_puts(out, "<p>");
			html_block_text(doc, b, out);
			buf_puts(out, "</p>");
			break;
		case NB_KV: html_kv(doc, b, &in_dl, out); break;
		default:
			buf_puts(out, b->strong ? "<p><strong>" : "<p>");
			html_block_text(doc, b, out);
			buf_puts(out, b->strong ? "</strong></p>\n" : "</p>\n");
		}
	}
	if (in_li)
		buf_puts(out, "</li>\n");
	if (in_ul)
		buf_puts(out, "</ul>\n");
	if (in_dl)
		buf_puts(out, "</dl>\n");
	if (in_sec)
		buf_puts(out, "</section>\n");
}

static const char *const lang_names[LANG__MAX] = {"Suomeksi", "På svenska", "In English"};

void ndoc_emit_html(const struct ndoc *doc, const struct ndoc_html *h, struct buf *out)
{
	const char *title = h && h->title ? h->title : NULL;
	size_t i = 0;

	for (size_t k = 0; !title && k < doc->n; k++)
		if (doc->v[k].kind == NB_TITLE)
			title = doc->v[k].text;
	buf_puts(out, "<!doctype html>\n<html lang=\"");
	buf_puts(out, lang_code(doc->lang));
	buf_puts(out, "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	              "content=\"width=device-width, initial-scale=1\">\n<title>");
	html_text(out, title);
	buf_puts(out, "</title>\n");
	if (h && h->css_href) {
		buf_puts(out, "<link rel=\"stylesheet\" href=\"");
		html_attr(out, h->css_href);
		buf_puts(out, "\">\n");
	} else {
		buf_puts(out, "<style>");
		buf_puts(out, css);
		buf_puts(out, "</style>\n");
	}
	buf_puts(out, "</head>\n<body>\n<a class=\"skip\" href=\"#main\">");
	html_text(out, ndoc_m(doc, NM_CONTENTS));
	buf_puts(out, "</a>\n<header>\n");
	if (h && h->lang_href) {
		buf_puts(out, "<nav class=\"langs\" aria-label=\"");
		html_attr(out, ndoc_m(doc, NM_LANGUAGE));
		buf_puts(out, "\">");
		for (int l = 0; l < LANG__MAX; l++) {
			if (l == (int)doc->lang)
				continue;
			buf_puts(out, "<a href=\"");
			html_attr(out, h->lang_href);
			buf_appendf(out, "?lang=%s", lang_code(l));
			if (h->version > 0)
				buf_appendf(out, "&amp;version=%d", h->version);
			buf_appendf(out, "\" hreflang=\"%s\" lang=\"%s\">", lang_code(l),
			            lang_code(l));
			html_text(out, lang_names[l]);
			buf_puts(out, "</a>");
		}
		buf_puts(out, "</nav>\n");
	}
	/* Everything above the first section belongs to the header. */
	bool in_dl = false;
	for (; i < doc->n && doc->v[i].kind != NB_H2; i++) {
		const struct nblock *b = &doc->v[i];
		if (in_dl && b->kind != NB_KV) {
			buf_puts(out, "</dl>\n");
			in_dl = false;
		}
		switch (b->kind) {
		case NB_KIND:
			buf_puts(out, "<p class=\"kind\">");
			html_text(out, b->text);
			buf_puts(out, "</p>\n");
			break;
		case NB_TITLE:
			buf_puts(out, "<h1>");
			html_block_text(doc, b, out);
			buf_puts(out, "</h1>\n");
			break;
		case NB_KV: html_kv(doc, b, &in_dl, out); break;
		default:
			buf_puts(out, "<p>");
			html_block_text(doc, b, out);
			buf_puts(out, "</p>\n");
		}
	}
	if (in_dl)
		buf_puts(out, "</dl>\n");
	buf_puts(out, "</header>\n<nav class=\"toc\" aria-labelledby=\"toc\">\n<h2 id=\"toc\">");
	html_text(out, ndoc_m(doc, NM_CONTENTS));
	buf_puts(out, "</h2>\n");
	/* The numbered sections in an ordered list, the others (changes, versions) after it. */
	for (int plain = 0; plain < 2; plain++) {
		bool open = false;
		for (size_t k = i; k < doc->n; k++) {
			const struct nblock *b = &doc->v[k];
			if (b->kind != NB_H2 || b->plain != (plain == 1))
				continue;
			if (!open)
				buf_puts(out, plain ? "<ul>\n" : "<ol>\n");
			open = true;
			buf_puts(out, "<li><a href=\"#");
			html_attr(out, b->anchor);
			buf_puts(out, "\">");
			html_text(out, b->text);
			buf_puts(out, "</a></li>\n");
		}
		if (open)
			buf_puts(out, plain ? "</ul>\n" : "</ol>\n");
	}
	buf_puts(out, "</nav>\n<main id=\"main\">\n");

	html_blocks(doc, i, "", 2, out);
	buf_puts(out, "</main>\n");
	if (doc->any_fallback) {
		buf_puts(out, "<footer>\n<p>");
		html_text(out, ndoc_m(doc, NM_FALLBACK_NOTE));
		buf_puts(out, "</p>\n</footer>\n");
	}
	buf_puts(out, "</body>\n</html>\n");
}

void ndoc_emit_html_part(const struct ndoc *doc, const char *id_prefix, int level, struct buf *out)
{
	if (level < 2 || level > 5)
		level = 2;
	html_blocks(doc, 0, id_prefix ? id_prefix : "", level, out);
}

/* ------------------------------------------------------------------------------------------
 * Markdown
 */

/* Appends text with the characters Markdown gives meaning to escaped; when the text starts
 * a line (`bol`), a start that would make a heading, list or quote is defused too. */
static void md_text_at(struct buf *out, const char *s, bool bol)
{
	const char *start = s;
	for (; *s; s++) {
		bool line_start = (s == start && bol) || (s > start && s[-1] == '\n');
		if (strchr("\\`*_[]<>|", *s) || (line_start && strchr("#+-=>", *s)))
			buf_putc(out, '\\');
		else if (line_start && *s >= '0' && *s <= '9') {
			/* "1." at the start of a line would begin an ordered list. */
			const char *d = s;
			while (*d >= '0' && *d <= '9')
				d++;
			if (*d == '.' || *d == ')') {
				buf_append(out, s, (size_t)(d - s));
				buf_putc(out, '\\');
				s = d - 1;
				continue;
			}
		}
		buf_putc(out, *s);
	}
}

static void md_text(struct buf *out, const char *s)
{
	md_text_at(out, s, false);
}

static void md_block_text(const struct ndoc *doc, const struct nblock *b, struct buf *out, bool bol)
{
	if ((b->link == NL_MAILTO || b->link == NL_HREF) && !strpbrk(b->text, "<> \t\n\\`")) {
		/* An autolink (an e-mail address is one without "mailto:") ends at '>' or a
		 * space; a text with either, or an escape, is written as plain text instead. */
		buf_putc(out, '<');
		buf_puts(out, b->text);
		buf_putc(out, '>');
	} else {
		md_text_at(out, b->text, bol);
	}
	if (b->fallback) {
		buf_puts(out, " *");
		md_text(out, ndoc_m(doc, NM_IN_FINNISH));
		buf_putc(out, '*');
	}
}

void ndoc_emit_md(const struct ndoc *doc, struct buf *out)
{
	enum nb_kind prev = NB_KIND;
	bool first = true;

	for (size_t i = 0; i < doc->n; i++) {
		const struct nblock *b = &doc->v[i];
		bool tight = !first && ((b->kind == NB_LI && (prev == NB_LI || prev == NB_LIP)) ||
		                        (b->kind == NB_KV && prev == NB_KV));
		if (!first)
			buf_puts(out, tight ? "\n" : "\n\n");
		if (b->kind == NB_KV && prev == NB_KV && !first) {
			/* a hard line break ends the previous "label: value" line */
			out->len--;
			buf_puts(out, "  \n");
		}
		first = false;
		switch (b->kind) {
		case NB_KIND: md_text_at(out, b->text, true); break;
		case NB_TITLE:
			buf_puts(out, "# ");
			md_block_text(doc, b, out, false);
			break;
		case NB_H2:
			buf_puts(out, "## ");
			if (!b->plain)
				buf_appendf(out, "%d. ", b->section);
			md_text(out, b->text);
			break;
		case NB_H3:
			buf_puts(out, "### ");
			md_block_text(doc, b, out, false);
			break;
		case NB_LI:
			buf_puts(out, "- ");
			md_block_text(doc, b, out, false);
			break;
		case NB_LIP:
			buf_puts(out, "  ");
			md_block_text(doc, b, out, false);
			break;
		case NB_KV:
			buf_puts(out, "**");
			md_text(out, b->label);
			buf_puts(out, ":** ");
			md_block_text(doc, b, out, false);
			break;
		default:
			if (b->strong)
				buf_puts(out, "**");
			md_block_text(doc, b, out, !b->strong);
			if (b->strong)
				buf_puts(out, "**");
		}
		prev = b->kind;
	}
	if (doc->any_fallback) {
		buf_puts(out, "\n\n---\n\n");
		md_text(out, ndoc_m(doc, NM_FALLBACK_NOTE));
	}
	buf_putc(out, '\n');
}

/* ------------------------------------------------------------------------------------------
 * Plain text
 */

#define TXT_WIDTH 78

/* Code points in s[0..len). */
static size_t u8_width(const char *s, size_t len)
{
	size_t w = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			w++;
	return w;
}

/*
 * Appends `s` wrapped at TXT_WIDTH, starting at column `col`; the following lines are
 * indented by `indent` spaces. A word longer than a line (an address) is not broken.
 */
static void txt_wrap(struct buf *out, const char *s, size_t col, size_t indent)
{
	bool fresh = true; /* nothing of s written yet: no space before its first word */

	while (*s) {
		while (*s == ' ')
			s++;
		const char *e = s;
		while (*e && *e != ' ')
			e++;
		size_t w = u8_width(s, (size_t)(e - s));
		if (!w)
			break;
		if (!fresh && col + 1 + w > TXT_WIDTH) {
			buf_putc(out, '\n');
			for (size_t k = 0; k < indent; k++)
				buf_putc(out, ' ');
			col = indent;
		} else if (!fresh) {
			buf_putc(out, ' ');
			col++;
		}
		buf_append(out, s, (size_t)(e - s));
		col += w;
		fresh = false;
		s = e;
	}
}

static const char *txt_block(const struct ndoc *doc, const struct nblock *b, struct buf *tmp)
{
	buf_reset(tmp);
	if (b->link == NL_MAILTO || b->link == NL_HREF || !b->fallback)
		return b->text;
	buf_puts(tmp, b->text);
	buf_putc(tmp, ' ');
	buf_puts(tmp, ndoc_m(doc, NM_IN_FINNISH));
	return buf_str(tmp);
}

/* Underlines the last line written since `start`. */
static void txt_underline(struct buf *out, size_t start, char c)
{
	size_t from = out->len;
	while (from > start && out->p[from - 1] != '\n')
		from--;
	size_t w = u8_width(out->p + from, out->len - from);
	buf_putc(out, '\n');
	for (size_t k = 0; k < w && k < TXT_WIDTH; k++)
		buf_putc(out, c);
}

void ndoc_emit_txt(const struct ndoc *doc, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	enum nb_kind prev = NB_KIND;
	bool first = true;

	for (size_t i = 0; i < doc->n; i++) {
		const struct nblock *b = &doc->v[i];
		const char *t = txt_block(doc, b, &tmp);
		bool tight = !first && ((b->kind == NB_LI && (prev == NB_LI || prev == NB_LIP)) ||
		                        (b->kind == NB_KV && prev == NB_KV) || b->kind == NB_LIP);
		if (!first)
			buf_puts(out, tight ? "\n" : "\n\n");
		if (!first && b->kind == NB_H2)
			buf_putc(out, '\n');
		first = false;
		size_t start = out->len;
		switch (b->kind) {
		case NB_TITLE:
			txt_wrap(out, t, 0, 0);
			txt_underline(out, start, '#');
			break;
		case NB_H2:
			if (!b->plain)
				buf_appendf(out, "%d. ", b->section);
			txt_wrap(out, t, u8_width(out->p + start, out->len - start), 0);
			txt_underline(out, start, '=');
			break;
		case NB_H3:
			txt_wrap(out, t, 0, 0);
			txt_underline(out, start, '-');
			break;
		case NB_LI:
			buf_puts(out, "  * ");
			txt_wrap(out, t, 4, 4);
			break;
		case NB_LIP:
			buf_puts(out, "    ");
			txt_wrap(out, t, 4, 4);
			break;
		case NB_KV: {
			size_t w = u8_width(b->label, strlen(b->label)) + 2;
			buf_puts(out, b->label);
			buf_puts(out, ": ");
			txt_wrap(out, t, w, 4);
			break;
		}
		default: txt_wrap(out, t, 0, 0);
		}
		prev = b->kind;
	}
	if (doc->any_fallback) {
		buf_puts(out, "\n\n");
		txt_wrap(out, ndoc_m(doc, NM_FALLBACK_NOTE), 0, 0);
	}
	buf_putc(out, '\n');
	buf_free(&tmp);
}
