/*
 * Public pages under /p/: the list of registers and each register's privacy notice, without
 * sign-in. They show declarations only, never personal data, so they need no role and write
 * no usage-log entry. The language comes from ?lang= or Accept-Language; the style sheet is a
 * file of its own so the Content-Security-Policy can keep forbidding inline styles.
 */
#include <string.h>

#include "core/app.h"
#include "core/notice.h"
#include "decl/notice_text.h"
#include "http/http.h"
#include "util/validate.h"

static const char notice_css_path[] = "/static/notice.css";

static enum lang page_lang(struct req *r)
{
	return lang_negotiate(
	        req_arg(r, "lang"),
	        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept-Language"));
}

/* A page of its own for an error, so a browser shows a sentence rather than JSON. */
static void reply_error_page(struct req *r, unsigned status, enum lang lang)
{
	static const char *const notfound[LANG__MAX] = {"Sivua ei löydy", "Sidan hittades inte",
	                                                "Page not found"};
	static const char *const bad[LANG__MAX] = {"Virheellinen osoite", "Felaktig adress",
	                                           "Bad address"};
	static const char *const back[LANG__MAX] = {"Rekisterit", "Register", "Registers"};
	const char *title = status == 404 ? notfound[lang] : bad[lang];
	struct buf b = BUF_INIT;

	buf_appendf(&b,
	            "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	            "<title>",
	            lang_code(lang));
	html_text(&b, title);
	buf_puts(&b, "</title><link rel=\"stylesheet\" href=\"");
	buf_puts(&b, notice_css_path);
	buf_puts(&b, "\"></head><body><main><h1>");
	html_text(&b, title);
	/* The detail is kortisto's own message, in English; the page around it is in the
	 * reader's language. */
	buf_puts(&b, "</h1><p lang=\"en\">");
	html_text(&b, r->ctx.err->message[0] ? r->ctx.err->message : title);
	buf_appendf(&b, "</p><p><a href=\"/p/registers?lang=%s\">", lang_code(lang));
	html_text(&b, back[lang]);
	buf_puts(&b, "</a></p></main></body></html>\n");
	reply_html(r, status, &b);
	if (r->resp)
		MHD_add_response_header(r->resp, "Content-Language", lang_code(lang));
}

/* A number query argument 1 … 1000000 (0 when absent); replies with an error page and
 * returns false when it is something else. */
static bool number_arg(struct req *r, const char *name, enum lang lang, int *out)
{
	const char *s = req_arg(r, name);
	long long v = 0;
	if (s && (!int_valid(s, &v, NULL) || v < 1 || v > 1000000)) {
		kerr_set(r->ctx.err, KERR_INVALID, name, "%s: must be a version number", name);
		reply_error_page(r, 400, lang);
		return false;
	}
	*out = (int)v;
	return true;
}

void page_notice_css(struct req *r)
{
	const char *css = notice_css();
	reply_text(r, 200, "text/css; charset=utf-8", css, strlen(css));
}

void page_registers(struct req *r)
{
	static const char *const heading[LANG__MAX] = {"Rekisterien tietosuojaselosteet",
	                                               "Registrens dataskyddsbeskrivningar",
	                                               "Privacy notices of the registers"};
	static const char *const intro[LANG__MAX] = {
	        "Jokaisen rekisterin tietosuojaseloste kertoo, mitä tietoja rekisterissä "
	        "käsitellään, miksi, kuinka kauan ja miten voit käyttää oikeuksiasi.",
	        "Varje registers dataskyddsbeskrivning berättar vilka uppgifter som behandlas, "
	        "varför, hur länge och hur du kan utöva dina rättigheter.",
	        "The privacy notice of each register tells what data it holds, why, for how long, "
	        "and how you can use your rights."};
	enum lang lang = page_lang(r);
	const struct registry *regs = app_registers(r->ctx.app);
	struct buf b = BUF_INIT;

	buf_appendf(&b,
	            "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	            "<title>",
	            lang_code(lang));
	html_text(&b, heading[lang]);
	buf_appendf(&b, "</title>\n<link rel=\"stylesheet\" href=\"%s\">\n</head>\n<body>\n",
	            notice_css_path);
	buf_puts(&b, "<header>\n<nav class=\"langs\" aria-label=\"");
	html_attr(&b, nmsg(NM_LANGUAGE, lang));
	buf_puts(&b, "\"><a href=\"?lang=fi\" hreflang=\"fi\" lang=\"fi\">Suomeksi</a>"
	             "<a href=\"?lang=sv\" hreflang=\"sv\" lang=\"sv\">På svenska</a>"
	             "<a href=\"?lang=en\" hreflang=\"en\" lang=\"en\">In English</a></nav>\n<h1>");
	html_text(&b, heading[lang]);
	buf_puts(&b, "</h1>\n<p>");
	html_text(&b, intro[lang]);
	buf_puts(&b, "</p>\n</header>\n<main>\n<ul class=\"registers\">\n");
	for (size_t i = 0; i < regs->n; i++) {
		const struct decl *d = regs->v[i].decl;
		bool fb = false;
		const char *name = decl_text(&d->name, lang, &fb);
		const char *ctl = decl_text(&d->controller.name, lang, NULL);
		char date[32];
		buf_puts(&b, "<li><a href=\"/p/registers/");
		html_attr(&b, d->id);
		buf_appendf(&b, "/notice?lang=%s\"%s>", lang_code(lang), fb ? " lang=\"fi\"" : "");
		html_text(&b, name);
		buf_puts(&b, "</a><br>");
		html_text(&b, ctl);
		buf_puts(&b, " · ");
		html_text(&b, nmsg(NM_PUBLISHED, lang));
		buf_puts(&b, " ");
		html_text(&b, lang_date(lang, d->published, date));
		if (d->updated) {
			buf_puts(&b, " · ");
			html_text(&b, nmsg(NM_UPDATED, lang));
			buf_puts(&b, " ");
			html_text(&b, lang_date(lang, d->updated, date));
		}
		buf_puts(&b, "</li>\n");
	}
	buf_puts(&b, "</ul>\n</main>\n</body>\n</html>\n");
	reply_html(r, 200, &b);
	if (r->resp)
		MHD_add_response_header(r->resp, "Content-Language", lang_code(lang));
}

void page_notice(struct req *r)
{
	enum lang lang = page_lang(r);
	int version, since;
	const char *changes = req_arg(r, "changes");
	struct buf b = BUF_INIT;

	if (!req_store_or_reply(r) || !number_arg(r, "version", lang, &version) ||
	    !number_arg(r, "since", lang, &since))
		return;
	const char *self = arena_printf(&r->mem, "/p/registers/%s/notice", r->rid);
	struct notice_req rq = {
	        .rid = r->rid,
	        .version = version,
	        .changes = (changes && strcmp(changes, "0") != 0) || since > 0,
	        .since = since,
	        .history = true,
	        .lang = lang,
	        .format = NF_HTML,
	        .css_href = notice_css_path,
	        .self_href = self,
	};
	int rc = notice_get(&r->ctx, &rq, &b);
	if (rc) {
		buf_free(&b);
		reply_error_page(r,
		                 rc == KERR_NOTFOUND  ? 404
		                 : rc == KERR_INVALID ? 400
		                                      : 500,
		                 lang);
		return;
	}
	reply_html(r, 200, &b);
	if (r->resp)
		MHD_add_response_header(r->resp, "Content-Language", lang_code(lang));
}
