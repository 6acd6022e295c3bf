/*
 * The public company and service directory (F-05, core/directory.h): the search page
 * /p/directory and its JSON twin /api/v1/directory, and the pages where a company edits its
 * own listing through a single-use link mailed to its registered contact address. The
 * editing session is a cookie of its own (kortisto_dir, Path=/p/directory/edit, HttpOnly,
 * SameSite=Strict) and its form carries a CSRF token, as the self-service pages do.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/directory.h"
#include "core/selfservice.h"
#include "decl/notice_text.h"
#include "http/http.h"

#define COOKIE "kortisto_dir"

enum dtext {
	D_TITLE,
	D_INTRO,
	D_NAME,
	D_FIELD,
	D_MUNICIPALITY,
	D_SEARCH,
	D_NONE,
	D_WEBSITE,
	D_EMAIL,
	D_PHONE,
	D_EDIT_LINK,
	D_EDIT_TITLE,
	D_EDIT_INTRO,
	D_CONTACT,
	D_SEND,
	D_SENT,
	D_THROTTLED,
	D_OFF,
	D_BAD_EMAIL,
	D_OPEN_INTRO,
	D_OPEN,
	D_BAD_LINK,
	D_ASK_AGAIN,
	D_ENDED,
	D_LISTED,
	D_DESCRIPTION,
	D_SHOW_WEBSITE,
	D_SHOW_ADDRESS,
	D_PUBLIC_EMAIL,
	D_PUBLIC_PHONE,
	D_SAVE,
	D_SAVED,
	D_ERROR,
	D_CONTACTS,
	D_CONTACTS_CHOOSE,
	D__MAX
};

static const char *const texts[D__MAX][LANG__MAX] = {
        [D_TITLE] = {"Yritys- ja palveluhakemisto", "Företags- och tjänstekatalog",
                     "Company and service directory"},
        [D_INTRO] = {"Hakemistossa ovat yritykset, jotka ovat itse valinneet näkyä siinä.",
                     "I katalogen finns de företag som själva har valt att synas där.",
                     "The directory lists the companies that chose to be listed."},
        [D_NAME] = {"Nimi", "Namn", "Name"},
        [D_FIELD] = {"Toimiala", "Bransch", "Field of business"},
        [D_MUNICIPALITY] = {"Kunta", "Kommun", "Municipality"},
        [D_SEARCH] = {"Hae", "Sök", "Search"},
        [D_NONE] = {"Ei hakutuloksia.", "Inga träffar.", "Nothing found."},
        [D_WEBSITE] = {"Verkkosivut", "Webbplats", "Website"},
        [D_EMAIL] = {"Sähköposti", "E-post", "E-mail"},
        [D_PHONE] = {"Puhelin", "Telefon", "Phone"},
        [D_EDIT_LINK] = {"Yrityksenne tietojen muokkaus", "Ändra ert företags uppgifter",
                         "Edit your company's listing"},
        [D_EDIT_TITLE] = {"Yrityksen tiedot hakemistossa", "Företagets uppgifter i katalogen",
                          "Your company in the directory"},
        [D_EDIT_INTRO] = {"Antakaa yrityksenne rekisteröity yhteysosoite. Jos se on "
                          "rekisterissämme, lähetämme siihen linkin, jolla voitte muokata "
                          "yrityksen näkymistä hakemistossa. Linkki on voimassa 15 minuuttia.",
                          "Ange ert företags registrerade kontaktadress. Om den finns i vårt "
                          "register skickar vi en länk dit, med vilken ni kan ändra hur "
                          "företaget syns i katalogen. Länken gäller i 15 minuter.",
                          "Give your company's registered contact address. If it is in our "
                          "register, we send a link to it with which you can change how the "
                          "company is listed. The link is valid 15 minutes."},
        [D_CONTACT] = {"Yhteysosoite (sähköposti)", "Kontaktadress (e-post)",
                       "Contact address (e-mail)"},
        [D_SEND] = {"Lähetä linkki", "Skicka länken", "Send the link"},
        [D_SENT] = {"Jos osoite on rekisterissämme, lähetimme siihen linkin. Se on voimassa "
                    "15 minuuttia.",
                    "Om adressen finns i vårt register har vi skickat en länk till den. Den "
                    "gäller i 15 minuter.",
                    "If the address is in our register, we have sent a link to it. It is "
                    "valid 15 minutes."},
        [D_THROTTLED] = {"Linkkejä on pyydetty liian monta. Yrittäkää myöhemmin uudelleen.",
                         "För många länkar har begärts. Försök igen senare.",
                         "Too many links have been asked for. Try again later."},
        [D_OFF] = {"Palvelu ei ole nyt käytössä.", "Tjänsten är inte i bruk just nu.",
                   "The service is not in use now."},
        [D_BAD_EMAIL] = {"Tarkistakaa sähköpostiosoite.", "Kontrollera e-postadressen.",
                         "Check the e-mail address."},
        [D_OPEN_INTRO] = {"Jatkakaa painamalla painiketta. Linkki toimii vain kerran.",
                          "Fortsätt genom att trycka på knappen. Länken fungerar bara en gång.",
                          "Press the button to continue. The link works only once."},
        [D_OPEN] = {"Jatka", "Fortsätt", "Continue"},
        [D_BAD_LINK] = {"Linkki ei kelpaa: se on vanhentunut, käytetty tai virheellinen.",
                        "Länken duger inte: den har gått ut, använts eller är felaktig.",
                        "The link does not work: it has expired, been used or is wrong."},
        [D_ASK_AGAIN] = {"Pyydä uusi linkki", "Be om en ny länk", "Ask for a new link"},
        [D_ENDED] = {"Istunto on päättynyt. Pyytäkää uusi linkki.",
                     "Sessionen har upphört. Be om en ny länk.",
                     "The session has ended. Ask for a new link."},
        [D_LISTED] = {"Yritys näkyy hakemistossa", "Företaget syns i katalogen",
                      "The company is listed in the directory"},
        [D_DESCRIPTION] = {"Kuvaus", "Beskrivning", "Description"},
        [D_SHOW_WEBSITE] = {"Näytä verkkosivut", "Visa webbplatsen", "Show the website"},
        [D_SHOW_ADDRESS] = {"Näytä käyntiosoite", "Visa besöksadressen",
                            "Show the visiting address"},
        [D_PUBLIC_EMAIL] = {"Yrityksen julkinen sähköposti", "Företagets offentliga e-post",
                            "The company's public e-mail"},
        [D_PUBLIC_PHONE] = {"Yrityksen julkinen puhelinnumero",
                            "Företagets offentliga telefonnummer",
                            "The company's public phone number"},
        [D_SAVE] = {"Tallenna", "Spara", "Save"},
        [D_SAVED] = {"Tiedot on tallennettu.", "Uppgifterna har sparats.", "Saved."},
        [D_ERROR] = {"Pyyntöä ei voitu käsitellä.", "Begäran kunde inte behandlas.",
                     "The request could not be handled."},
        [D_CONTACTS] = {"Yhteyshenkilöt", "Kontaktpersoner", "Contact persons"},
        [D_CONTACTS_CHOOSE] = {"Yhteyshenkilöt, joiden nimi ja tehtävä näytetään hakemistossa",
                               "Kontaktpersoner vars namn och uppgift visas i katalogen",
                               "Contact persons whose name and role are shown in the directory"},
};

static const char *tx(enum dtext t, enum lang lang)
{
	return texts[t][lang];
}

static void para(struct buf *b, const char *role, const char *s)
{
	if (role)
		buf_appendf(b, "<p role=\"%s\">", role);
	else
		buf_puts(b, "<p>");
	html_text(b, s);
	buf_puts(b, "</p>\n");
}

static void message_page(struct req *r, unsigned status, enum lang lang, enum dtext msg, bool again)
{
	/* The operator sees what failed; 503 (self-service off, mail not configured) is the
	 * configured state, answered to the visitor, not a failure to report on every POST. */
	if (status == 500)
		fprintf(stderr, "kortisto: %s %s: %s\n", r->method, r->url, r->err.message);
	struct buf b = BUF_INIT;
	page_frame_open(&b, lang, tx(D_EDIT_TITLE, lang));
	para(&b, "status", tx(msg, lang));
	if (again) {
		buf_appendf(&b, "<p><a href=\"/p/directory/edit?lang=%s\">", lang_code(lang));
		html_text(&b, tx(D_ASK_AGAIN, lang));
		buf_puts(&b, "</a></p>\n");
	}
	page_frame_close(r, status, &b, lang);
}

/* A labelled text input. */
static void input(struct buf *b, const char *id, const char *label, const char *value,
                  const char *type, int max)
{
	buf_appendf(b, "<p><label for=\"%s\">", id);
	html_text(b, label);
	buf_appendf(b, "</label><br><input id=\"%s\" name=\"%s\" type=\"%s\" maxlength=\"%d\"", id,
	            id, type, max);
	if (value) {
		buf_puts(b, " value=\"");
		html_attr(b, value);
		buf_puts(b, "\"");
	}
	buf_puts(b, "></p>\n");
}

/* ---------------------------------------------------------------- the directory */

void api_directory(struct req *r)
{
	json_t *out = NULL;
	if (!req_store_or_reply(r))
		return;
	int rc = directory_search(&r->ctx, req_arg(r, "q"), req_arg(r, "field"),
	                          req_arg(r, "municipality"), &out);
	reply_core(r, rc, 200, out);
}

/* GET REG/organisations/{id}/listing: the listing as staff see it (core/directory.h). */
void api_directory_listing_get(struct req *r)
{
	json_t *out = NULL;
	int rc = directory_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

/* PATCH REG/organisations/{id}/listing: staff change it; the answer is the listing after. */
void api_directory_listing_set(struct req *r)
{
	json_t *in = req_json_or_reply(r), *out = NULL;
	if (!in)
		return;
	int rc = directory_set(&r->ctx, r->rid, r->id, in);
	json_decref(in);
	if (rc == 0)
		rc = directory_get(&r->ctx, r->rid, r->id, &out);
	reply_core(r, rc, 200, out);
}

/* The contact persons a company published: name, and role when it has one. */
static void contacts_list(struct buf *b, const json_t *list, enum lang lang)
{
	size_t i;
	const json_t *c;
	if (!json_array_size(list))
		return;
	buf_puts(b, "<h3>");
	html_text(b, tx(D_CONTACTS, lang));
	buf_puts(b, "</h3>\n<ul class=\"contacts\">\n");
	json_array_foreach (list, i, c) {
		const char *title = json_string_value(json_object_get(c, "title"));
		buf_puts(b, "<li>");
		html_text(b, json_string_value(json_object_get(c, "name")));
		if (title && *title) {
			buf_puts(b, ", ");
			html_text(b, title);
		}
		buf_puts(b, "</li>\n");
	}
	buf_puts(b, "</ul>\n");
}

void page_directory(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *q = req_arg(r, "q"), *field = req_arg(r, "field");
	const char *mun = req_arg(r, "municipality");
	json_t *out = NULL, *it;
	size_t i;
	if (!req_store_or_reply(r))
		return;
	int rc = directory_search(&r->ctx, q, field, mun, &out);
	struct buf b = BUF_INIT;
	page_frame_open(&b, lang, tx(D_TITLE, lang));
	para(&b, NULL, tx(D_INTRO, lang));
	buf_appendf(&b,
	            "<search><form method=\"get\" action=\"/p/directory\">\n"
	            "<input type=\"hidden\" name=\"lang\" value=\"%s\">\n",
	            lang_code(lang));
	input(&b, "q", tx(D_NAME, lang), q, "search", 100);
	input(&b, "field", tx(D_FIELD, lang), field, "text", 100);
	input(&b, "municipality", tx(D_MUNICIPALITY, lang), mun, "text", 100);
	buf_puts(&b, "<p><button type=\"submit\">");
	html_text(&b, tx(D_SEARCH, lang));
	buf_puts(&b, "</button></p>\n</form></search>\n");
	if (rc) {
		para(&b, "alert", r->err.message);
	} else if (!json_array_size(json_object_get(out, "items"))) {
		para(&b, "status", tx(D_NONE, lang));
	} else {
		buf_puts(&b, "<ul class=\"directory\">\n");
		json_array_foreach (json_object_get(out, "items"), i, it) {
			buf_puts(&b, "<li><h2>");
			html_text(&b, json_string_value(json_object_get(it, "name")));
			buf_puts(&b, "</h2>\n");
			const char *desc = json_string_value(json_object_get(it, "description"));
			if (desc && *desc)
				para(&b, NULL, desc);
			buf_puts(&b, "<dl>");
			static const struct {
				const char *key;
				enum dtext label;
			} rows[] = {{"field_of_business", D_FIELD},
			            {"municipality", D_MUNICIPALITY},
			            {"website", D_WEBSITE},
			            {"email", D_EMAIL},
			            {"phone", D_PHONE}};
			for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
				const char *v = json_string_value(json_object_get(it, rows[k].key));
				if (!v || !*v)
					continue;
				buf_puts(&b, "<dt>");
				html_text(&b, tx(rows[k].label, lang));
				buf_puts(&b, "</dt><dd>");
				html_text(&b, v);
				buf_puts(&b, "</dd>");
			}
			buf_puts(&b, "</dl>");
			contacts_list(&b, json_object_get(it, "contacts"), lang);
			buf_puts(&b, "</li>\n");
		}
		buf_puts(&b, "</ul>\n");
	}
	buf_appendf(&b, "<p><a href=\"/p/directory/edit?lang=%s\">", lang_code(lang));
	html_text(&b, tx(D_EDIT_LINK, lang));
	buf_puts(&b, "</a></p>\n");
	json_decref(out);
	page_frame_close(r, rc ? (unsigned)kerr_http_status(rc) : 200, &b, lang);
}

/* ---------------------------------------------------------------- the company's editing */

static void ask_form(struct buf *b, enum lang lang)
{
	para(b, NULL, tx(D_EDIT_INTRO, lang));
	buf_appendf(b, "<form method=\"post\" action=\"/p/directory/edit?lang=%s\">\n",
	            lang_code(lang));
	input(b, "email", tx(D_CONTACT, lang), NULL, "email", 254);
	buf_puts(b, "<p><button type=\"submit\">");
	html_text(b, tx(D_SEND, lang));
	buf_puts(b, "</button></p>\n</form>\n");
}

void page_directory_edit(struct req *r)
{
	enum lang lang = req_lang(r);
	struct buf b = BUF_INIT;
	page_frame_open(&b, lang, tx(D_EDIT_TITLE, lang));
	ask_form(&b, lang);
	page_frame_close(r, 200, &b, lang);
}

void page_directory_ask(struct req *r)
{
	enum lang lang = req_lang(r);
	int64_t retry = 0;
	if (!req_store_or_reply(r))
		return;
	int rc = directory_begin(&r->ctx, req_form_arg(r, "email"), r->client, lang, &retry);
	if (rc == 0) {
		message_page(r, 200, lang, D_SENT, false);
	} else if (rc == KERR_THROTTLED) {
		r->retry_after = retry;
		message_page(r, 429, lang, D_THROTTLED, false);
	} else if (rc == KERR_INVALID) {
		struct buf b = BUF_INIT;
		page_frame_open(&b, lang, tx(D_EDIT_TITLE, lang));
		para(&b, "alert", tx(D_BAD_EMAIL, lang));
		ask_form(&b, lang);
		page_frame_close(r, 400, &b, lang);
	} else {
		message_page(r, rc == KERR_BUSY ? 503 : 500, lang,
		             rc == KERR_BUSY ? D_OFF : D_ERROR, false);
	}
}

void page_directory_link(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *t = req_arg(r, "t");
	if (!t || strlen(t) != SELFSERVICE_TOKEN_LEN) {
		message_page(r, 400, lang, D_BAD_LINK, true);
		return;
	}
	struct buf b = BUF_INIT;
	page_frame_open(&b, lang, tx(D_EDIT_TITLE, lang));
	para(&b, NULL, tx(D_OPEN_INTRO, lang));
	buf_appendf(&b, "<form method=\"post\" action=\"/p/directory/edit/link?lang=%s\">\n",
	            lang_code(lang));
	buf_puts(&b, "<input type=\"hidden\" name=\"t\" value=\"");
	html_attr(&b, t);
	buf_puts(&b, "\">\n<p><button type=\"submit\">");
	html_text(&b, tx(D_OPEN, lang));
	buf_puts(&b, "</button></p>\n</form>\n");
	page_frame_close(r, 200, &b, lang);
}

void page_directory_open(struct req *r)
{
	enum lang lang = req_lang(r);
	char session[SELFSERVICE_TOKEN_LEN + 1];
	if (!req_store_or_reply(r))
		return;
	int rc = directory_link_open(&r->ctx, req_form_arg(r, "t"), session);
	if (rc) {
		message_page(r,
		             rc == KERR_NOTFOUND   ? 404
		             : rc == KERR_CONFLICT ? 409
		                                   : 500,
		             lang, rc == KERR_INTERNAL ? D_ERROR : D_BAD_LINK, true);
		return;
	}
	r->set_cookie = arena_printf(&r->mem,
	                             COOKIE "=%s; Path=/p/directory/edit; Max-Age=%d; HttpOnly; "
	                                    "SameSite=Strict%s",
	                             session, SELFSERVICE_SESSION_SECONDS,
	                             server_cookie_secure(r->srv) ? "; Secure" : "");
	sodium_memzero(session, sizeof(session));
	reply_text(r, 303, "text/plain; charset=utf-8", "", 0);
	if (r->resp)
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_LOCATION,
		                        arena_printf(&r->mem, "/p/directory/edit/listing?lang=%s",
		                                     lang_code(lang)));
}

static const char *session_cookie(struct req *r)
{
	const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE);
	return c && *c ? c : NULL;
}

static void checkbox(struct buf *b, const char *id, const char *label, bool on)
{
	buf_appendf(b,
	            "<p><input id=\"%s\" name=\"%s\" type=\"checkbox\" value=\"1\"%s> "
	            "<label for=\"%s\">",
	            id, id, on ? " checked" : "", id);
	html_text(b, label);
	buf_puts(b, "</label></p>\n");
}

static void listing_page(struct req *r, unsigned status, enum lang lang, const char *session,
                         json_t *l, enum dtext note)
{
	char csrf[65];
	struct buf b = BUF_INIT;
	selfservice_csrf(&r->ctx, session, csrf);
	page_frame_open(&b, lang, tx(D_EDIT_TITLE, lang));
	if (note != D__MAX)
		para(&b, note == D_SAVED ? "status" : "alert", tx(note, lang));
	if (note == D_ERROR && r->err.message[0]) {
		buf_puts(&b, "<p lang=\"en\">");
		html_text(&b, r->err.message);
		buf_puts(&b, "</p>\n");
	}
	buf_puts(&b, "<h2>");
	html_text(&b,
	          json_string_value(json_object_get(json_object_get(l, "organisation"), "name")));
	buf_appendf(&b,
	            "</h2>\n<form method=\"post\" action=\"/p/directory/edit/listing?lang=%s\">\n",
	            lang_code(lang));
	buf_puts(&b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(&b, csrf);
	buf_puts(&b, "\">\n");
	checkbox(&b, "listed", tx(D_LISTED, lang), json_is_true(json_object_get(l, "listed")));
	buf_puts(&b, "<p><label for=\"description\">");
	html_text(&b, tx(D_DESCRIPTION, lang));
	buf_puts(&b, "</label><br><textarea id=\"description\" name=\"description\" "
	             "maxlength=\"1000\" rows=\"4\">");
	html_text(&b, json_string_value(json_object_get(l, "description")));
	buf_puts(&b, "</textarea></p>\n");
	input(&b, "field_of_business", tx(D_FIELD, lang),
	      json_string_value(json_object_get(l, "field_of_business")), "text", 100);
	input(&b, "municipality", tx(D_MUNICIPALITY, lang),
	      json_string_value(json_object_get(l, "municipality")), "text", 100);
	checkbox(&b, "show_website", tx(D_SHOW_WEBSITE, lang),
	         json_is_true(json_object_get(l, "show_website")));
	checkbox(&b, "show_address", tx(D_SHOW_ADDRESS, lang),
	         json_is_true(json_object_get(l, "show_address")));
	input(&b, "public_email", tx(D_PUBLIC_EMAIL, lang),
	      json_string_value(json_object_get(l, "public_email")), "email", 254);
	input(&b, "public_phone", tx(D_PUBLIC_PHONE, lang),
	      json_string_value(json_object_get(l, "public_phone")), "tel", 20);
	/* Present only when the declaration allows contact persons (core/directory.h). */
	const json_t *contacts = json_object_get(l, "contacts");
	if (json_array_size(contacts)) {
		size_t i;
		const json_t *c;
		buf_puts(&b, "<fieldset><legend>");
		html_text(&b, tx(D_CONTACTS_CHOOSE, lang));
		buf_puts(&b, "</legend>\n");
		json_array_foreach (contacts, i, c) {
			json_int_t id = json_integer_value(json_object_get(c, "affiliation_id"));
			const char *title = json_string_value(json_object_get(c, "title"));
			buf_appendf(&b,
			            "<p><input id=\"contact_%" JSON_INTEGER_FORMAT
			            "\" name=\"contact_%" JSON_INTEGER_FORMAT
			            "\" type=\"checkbox\" value=\"1\"%s> <label "
			            "for=\"contact_%" JSON_INTEGER_FORMAT "\">",
			            id, id,
			            json_is_true(json_object_get(c, "published")) ? " checked" : "",
			            id);
			html_text(&b, json_string_value(json_object_get(c, "name")));
			if (title && *title) {
				buf_puts(&b, ", ");
				html_text(&b, title);
			}
			buf_puts(&b, "</label></p>\n");
		}
		buf_puts(&b, "</fieldset>\n");
	}
	buf_puts(&b, "<p><button type=\"submit\">");
	html_text(&b, tx(D_SAVE, lang));
	buf_puts(&b, "</button></p>\n</form>\n");
	page_frame_close(r, status, &b, lang);
}

void page_directory_listing(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *session = session_cookie(r);
	json_t *l = NULL;
	if (!req_store_or_reply(r))
		return;
	int rc = directory_own_get(&r->ctx, session, &l);
	if (rc) {
		message_page(r, rc == KERR_UNAUTH ? 401 : (unsigned)kerr_http_status(rc), lang,
		             rc == KERR_UNAUTH ? D_ENDED : D_ERROR, rc == KERR_UNAUTH);
		return;
	}
	listing_page(r, 200, lang, session, l, D__MAX);
	json_decref(l);
}

/* A text field of the form as JSON: its value, or null when empty (removes it). */
static json_t *text_or_null(struct req *r, const char *name)
{
	const char *v = req_form_arg(r, name);
	return v && *v ? json_string(v) : json_null();
}

void page_directory_listing_save(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *session = session_cookie(r);
	json_t *l = NULL;
	if (!req_store_or_reply(r))
		return;
	int rc = directory_own_get(&r->ctx, session, &l);
	if (!rc && !selfservice_csrf_ok(&r->ctx, session, req_form_arg(r, "csrf")))
		rc = kerr_set(&r->err, KERR_FORBIDDEN, "csrf", "the form's CSRF token is wrong");
	if (rc) {
		json_decref(l);
		message_page(r, (unsigned)kerr_http_status(rc), lang,
		             rc == KERR_UNAUTH ? D_ENDED : D_ERROR, rc == KERR_UNAUTH);
		return;
	}
	/* The boxes of the persons the form offered; where the declaration allows no contact
	 * persons the listing has no contacts, and the key is left out. */
	json_t *chosen = NULL;
	if (json_is_array(json_object_get(l, "contacts"))) {
		size_t i;
		const json_t *c;
		chosen = json_array();
		json_array_foreach (json_object_get(l, "contacts"), i, c) {
			json_int_t id = json_integer_value(json_object_get(c, "affiliation_id"));
			if (req_form_arg(
			            r, arena_printf(&r->mem, "contact_%" JSON_INTEGER_FORMAT, id)))
				json_array_append_new(chosen, json_integer(id));
		}
	}
	json_decref(l);
	const char *desc = req_form_arg(r, "description");
	const char *field = req_form_arg(r, "field_of_business");
	const char *mun = req_form_arg(r, "municipality");
	json_t *patch = json_pack(
	        "{s:b, s:s, s:s, s:s, s:b, s:b, s:o, s:o}", "listed",
	        req_form_arg(r, "listed") != NULL, "description", desc ? desc : "",
	        "field_of_business", field ? field : "", "municipality", mun ? mun : "",
	        "show_website", req_form_arg(r, "show_website") != NULL, "show_address",
	        req_form_arg(r, "show_address") != NULL, "public_email",
	        text_or_null(r, "public_email"), "public_phone", text_or_null(r, "public_phone"));
	if (patch && chosen)
		json_object_set(patch, "contacts", chosen);
	json_decref(chosen);
	if (!patch) {
		/* a text that is not UTF-8 */
		kerr_set(&r->err, KERR_INVALID, NULL, "the form holds text that is not UTF-8");
		rc = KERR_INVALID;
	} else {
		rc = directory_own_set(&r->ctx, session, patch);
		json_decref(patch);
	}
	json_t *now = NULL;
	struct kerr saved = r->err;
	kerr_clear(&r->err);
	if (directory_own_get(&r->ctx, session, &now) != 0) {
		message_page(r, 500, lang, D_ERROR, false);
		return;
	}
	r->err = saved;
	listing_page(r, rc ? (unsigned)kerr_http_status(rc) : 200, lang, session, now,
	             rc ? D_ERROR : D_SAVED);
	json_decref(now);
}
