/*
 * The public pages behind the links of mail, without sign-in: one-click unsubscribe (RFC
 * 8058: a GET shows a page with a button, a POST acts, so a link scanner that follows links
 * never unsubscribes anyone), the open pixel of a newsletter, and the confirmation of a
 * consent given through a form (double opt-in). The signed token in the path is the only
 * authority; the pages show no personal data. Texts are in Finnish, Swedish and English at
 * once, as the mail that links here is.
 */
#include <string.h>

#include "core/app.h"
#include "core/consent.h"
#include "core/mailing.h"
#include "core/sublist.h"
#include "http/http.h"
#include "util/form.h"

/* A small page: a heading, a sentence and, when `action` is set, a form that POSTs to it. */
static void reply_page(struct req *r, unsigned status, const char *title, const char *text,
                       const char *action, const char *button)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "<!doctype html>\n<html lang=\"fi\"><head><meta charset=\"utf-8\">"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	             "<title>");
	html_text(&b, title);
	buf_puts(&b, "</title><link rel=\"stylesheet\" href=\"/static/notice.css\"></head>"
	             "<body><main><h1>");
	html_text(&b, title);
	buf_puts(&b, "</h1><p>");
	html_text(&b, text);
	buf_puts(&b, "</p>");
	if (action) {
		buf_puts(&b, "<form method=\"post\" action=\"");
		html_attr(&b, action);
		buf_puts(&b, "\"><button type=\"submit\">");
		html_text(&b, button);
		buf_puts(&b, "</button></form>");
	}
	buf_puts(&b, "</main></body></html>\n");
	reply_html(r, status, &b);
	if (r->resp)
		MHD_add_response_header(r->resp, "Cache-Control", "no-store");
}

static void reply_invalid(struct req *r)
{
	reply_page(r, 404, "Linkki ei kelpaa / Länken gäller inte / Link not valid",
	           "Linkki on vanhentunut tai virheellinen. / Länken har gått ut eller är "
	           "felaktig. / The link has expired or is not valid.",
	           NULL, NULL);
}

void page_unsubscribe(struct req *r)
{
	if (!req_store_or_reply(r))
		return;
	if (mailing_unsubscribe_check(&r->ctx, r->tok) != 0) {
		reply_invalid(r);
		return;
	}
	reply_page(r, 200, "Peru tilaus / Avsluta prenumerationen / Unsubscribe",
	           "Et saa enää markkinointisähköpostia tästä rekisteristä. / Du får inte längre "
	           "marknadsföringsmejl från detta register. / You will no longer receive "
	           "marketing e-mail from this register.",
	           arena_printf(&r->mem, "/p/unsubscribe/%s", r->tok),
	           "Peru tilaus / Avsluta / Unsubscribe");
}

void page_unsubscribe_do(struct req *r)
{
	if (!req_store_or_reply(r))
		return;
	int rc = mailing_unsubscribe(&r->ctx, r->tok);
	if (rc == KERR_NOTFOUND) {
		reply_invalid(r);
		return;
	}
	if (rc) {
		reply_problem(r);
		return;
	}
	reply_page(r, 200, "Tilaus peruttu / Prenumerationen avslutad / Unsubscribed",
	           "Tilaus on peruttu. / Prenumerationen är avslutad. / You have been "
	           "unsubscribed.",
	           NULL, NULL);
}

/* The smallest transparent GIF: 1×1, one colour, fully transparent. */
static const unsigned char pixel_gif[] = {
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

void page_open_pixel(struct req *r)
{
	if (!req_store_or_reply(r))
		return;
	int rc = mailing_open_hit(&r->ctx, r->tok);
	if (rc == KERR_NOTFOUND) {
		reply_status(r, 404, "no such image");
		return;
	}
	if (rc) {
		reply_problem(r);
		return;
	}
	reply_text(r, 200, "image/gif", (const char *)pixel_gif, sizeof(pixel_gif));
	if (r->resp)
		MHD_add_response_header(r->resp, "Cache-Control", "no-store");
}

void page_confirm(struct req *r)
{
	int64_t id;
	if (!mlink_open(&r->ctx.app->keys, MLINK_CONFIRM, r->tok, &id)) {
		reply_invalid(r);
		return;
	}
	reply_page(r, 200, "Vahvista suostumus / Bekräfta samtycket / Confirm your consent",
	           "Vahvista, että haluat saada viestejämme. / Bekräfta att du vill få våra "
	           "meddelanden. / Confirm that you want to receive our messages.",
	           arena_printf(&r->mem, "/p/confirm/%s", r->tok), "Vahvista / Bekräfta / Confirm");
}

void page_confirm_do(struct req *r)
{
	const char *rid = NULL;
	int64_t id = 0;
	if (!req_store_or_reply(r))
		return;
	int rc = consent_confirm(&r->ctx, r->tok, &rid, &id);
	if (rc == KERR_NOTFOUND || rc == KERR_REFUSED) {
		reply_invalid(r);
		return;
	}
	if (rc) {
		reply_problem(r);
		return;
	}
	reply_page(r, 200, "Kiitos / Tack / Thank you",
	           "Suostumuksesi on vahvistettu. / Ditt samtycke är bekräftat. / Your consent "
	           "is confirmed.",
	           NULL, NULL);
}

/* ------------------------------------------------------------------------------------------
 * The subscribe page of a list
 */

/* A value of the request's form body (util/form.h). */
static const char *form_arg(struct req *r, const char *name, size_t max)
{
	return form_value(&r->mem, r->body.p, r->body.len, name, max);
}

static void subscribe_form(struct req *r, unsigned status, json_t *list, const char *note)
{
	struct buf b = BUF_INIT;
	const char *name = json_string_value(json_object_get(list, "name"));
	buf_puts(&b, "<!doctype html>\n<html lang=\"fi\"><head><meta charset=\"utf-8\">"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	             "<title>");
	html_text(&b, name);
	buf_puts(&b, "</title><link rel=\"stylesheet\" href=\"/static/notice.css\"></head>"
	             "<body><main><h1>");
	html_text(&b, name);
	buf_puts(&b, "</h1>");
	if (note) {
		buf_puts(&b, "<p role=\"alert\">");
		html_text(&b, note);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<form method=\"post\" action=\"/p/subscribe/");
	html_attr(&b, r->tok);
	buf_puts(&b, "\"><p><label for=\"email\">Sähköposti / E-post / E-mail</label><br>"
	             "<input id=\"email\" name=\"email\" type=\"email\" required "
	             "autocomplete=\"email\"></p>"
	             "<p><label for=\"first_name\">Etunimi / Förnamn / First name</label><br>"
	             "<input id=\"first_name\" name=\"first_name\" autocomplete=\"given-name\"></p>"
	             "<p><label for=\"last_name\">Sukunimi / Efternamn / Last name</label><br>"
	             "<input id=\"last_name\" name=\"last_name\" autocomplete=\"family-name\"></p>"
	             "<p><input id=\"consent\" name=\"consent\" type=\"checkbox\" value=\"yes\" "
	             "required> <label for=\"consent\">");
	html_text(&b, json_string_value(json_object_get(list, "consent_text")));
	buf_puts(&b, "</label></p><p><a href=\"/p/registers/");
	html_attr(&b, json_string_value(json_object_get(list, "register")));
	buf_puts(&b, "/notice\">Tietosuojaseloste / Dataskyddsbeskrivning / Privacy notice</a></p>"
	             "<p><button type=\"submit\">Tilaa / Prenumerera / Subscribe</button></p>"
	             "</form></main></body></html>\n");
	reply_html(r, status, &b);
	if (r->resp)
		MHD_add_response_header(r->resp, "Cache-Control", "no-store");
}

void page_subscribe(struct req *r)
{
	json_t *list = NULL;
	if (!req_store_or_reply(r))
		return;
	if (sublist_public(&r->ctx, r->tok, &list) != 0) {
		reply_page(
		        r, 404, "Sivua ei löydy / Sidan hittades inte / Page not found",
		        "Tätä tilauslistaa ei ole. / Listan finns inte. / There is no such list.",
		        NULL, NULL);
		return;
	}
	subscribe_form(r, 200, list, NULL);
	json_decref(list);
}

void page_subscribe_do(struct req *r)
{
	json_t *list = NULL;
	if (!req_store_or_reply(r))
		return;
	if (sublist_public(&r->ctx, r->tok, &list) != 0) {
		reply_page(
		        r, 404, "Sivua ei löydy / Sidan hittades inte / Page not found",
		        "Tätä tilauslistaa ei ole. / Listan finns inte. / There is no such list.",
		        NULL, NULL);
		return;
	}
	const char *email = form_arg(r, "email", 254);
	const char *first = form_arg(r, "first_name", 100);
	const char *last = form_arg(r, "last_name", 100);
	const char *consent = form_arg(r, "consent", 8);
	if (!consent || strcmp(consent, "yes") != 0) {
		subscribe_form(
		        r, 400, list,
		        "Hyväksy suostumus tilataksesi. / Godkänn samtycket. / Please accept "
		        "the consent to subscribe.");
		json_decref(list);
		return;
	}
	int rc = sublist_subscribe(&r->ctx, r->tok, email, first && *first ? first : NULL,
	                           last && *last ? last : NULL);
	if (rc == KERR_INVALID && r->err.field[0] && strcmp(r->err.field, "email") == 0) {
		subscribe_form(
		        r, 400, list,
		        "Tarkista sähköpostiosoite. / Kontrollera e-postadressen. / Check the "
		        "e-mail address.");
		json_decref(list);
		return;
	}
	json_decref(list);
	if (rc) {
		reply_problem(r);
		return;
	}
	reply_page(r, 200, "Tarkista sähköpostisi / Kontrollera din e-post / Check your e-mail",
	           "Lähetimme vahvistuslinkin. Tilaus alkaa, kun vahvistat sen. / Vi skickade en "
	           "länk. Prenumerationen börjar när du bekräftar den. / We sent you a link. The "
	           "subscription starts when you confirm it.",
	           NULL, NULL);
}
