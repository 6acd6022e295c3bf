/*
 * The self-service pages of data subjects under /p/me (core/selfservice.h): asking for a
 * link, opening it, and the short session it starts. No staff account is involved; the
 * session is a cookie of its own (kortisto_me, HttpOnly, SameSite=Strict, Path=/p/me, Secure
 * as the staff cookie is), and every form that changes something carries the session's CSRF
 * token. A mailed link first shows a button rather than opening at once, so a mail scanner
 * that fetches links cannot use it up. Pages are in Finnish, Swedish or English, use the
 * notice style sheet, and put every text through the escaping writers.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/consent.h"
#include "core/export.h"
#include "core/request.h"
#include "core/selfservice.h"
#include "decl/notice_text.h"
#include "http/http.h"
#include "util/form.h"

#define COOKIE "kortisto_me"

enum me_text {
	T_TITLE,
	T_ASK_INTRO,
	T_EMAIL,
	T_SEND,
	T_SENT,
	T_THROTTLED,
	T_OFF,
	T_BAD_EMAIL,
	T_OPEN_TITLE,
	T_OPEN_INTRO,
	T_OPEN,
	T_BAD_LINK,
	T_ASK_AGAIN,
	T_SESSION_TITLE,
	T_SESSION_INTRO,
	T_NONE,
	T_ENDED,
	T_NOTICE,
	T_EXPORT_JSON,
	T_EXPORT_LETTER,
	T_EXPORT_ALL,
	T_BAN,
	T_BAN_TEXT,
	T_ALL_CHANNELS,
	T_BANNED,
	T_BANNED_ALL,
	T_WITHDRAW,
	T_WITHDRAW_CHOOSE,
	T_WITHDRAW_TEXT,
	T_ALL_CONSENTS,
	T_NO_CONSENTS,
	T_GIVEN,
	T_OTHER,
	T_TYPE,
	T_NOTE,
	T_FIELD,
	T_VALUE,
	T_FILE,
	T_FILED,
	T_STATE_VERIFIED,
	T_STATE_FULFILLED,
	T_BACK,
	T_SIGNOUT,
	T_SIGNED_OUT,
	T_ERROR,
	T__MAX
};

static const char *const texts[T__MAX][LANG__MAX] = {
        [T_TITLE] = {"Omat tietoni", "Mina uppgifter", "My data"},
        [T_ASK_INTRO] = {"Anna sähköpostiosoitteesi. Jos osoite on rekistereissämme, lähetämme "
                         "siihen linkin, jolla näet tietosi ja voit käyttää oikeuksiasi. Linkki "
                         "on voimassa 15 minuuttia ja toimii kerran.",
                         "Ange din e-postadress. Om adressen finns i våra register skickar vi "
                         "en länk dit, med vilken du ser dina uppgifter och kan utöva dina "
                         "rättigheter. Länken gäller i 15 minuter och fungerar en gång.",
                         "Give your e-mail address. If it is in our registers, we send a link "
                         "to it with which you see your data and can use your rights. The "
                         "link is valid 15 minutes and works once."},
        [T_EMAIL] = {"Sähköpostiosoite", "E-postadress", "E-mail address"},
        [T_SEND] = {"Lähetä linkki", "Skicka länken", "Send the link"},
        [T_SENT] = {"Jos osoite on rekistereissämme, lähetimme siihen linkin. Se on voimassa "
                    "15 minuuttia.",
                    "Om adressen finns i våra register har vi skickat en länk till den. Den "
                    "gäller i 15 minuter.",
                    "If the address is in our registers, we have sent a link to it. It is "
                    "valid 15 minutes."},
        [T_THROTTLED] = {"Linkkejä on pyydetty liian monta. Yritä myöhemmin uudelleen.",
                         "För många länkar har begärts. Försök igen senare.",
                         "Too many links have been asked for. Try again later."},
        [T_OFF] = {"Omien tietojen palvelu ei ole nyt käytössä.",
                   "Tjänsten för egna uppgifter är inte i bruk just nu.",
                   "The self-service is not in use now."},
        [T_BAD_EMAIL] = {"Tarkista sähköpostiosoite.", "Kontrollera e-postadressen.",
                         "Check the e-mail address."},
        [T_OPEN_TITLE] = {"Avaa tietosi", "Öppna dina uppgifter", "Open your data"},
        [T_OPEN_INTRO] = {"Jatka painamalla painiketta. Linkki toimii vain kerran.",
                          "Fortsätt genom att trycka på knappen. Länken fungerar bara en gång.",
                          "Press the button to continue. The link works only once."},
        [T_OPEN] = {"Jatka", "Fortsätt", "Continue"},
        [T_BAD_LINK] = {"Linkki ei kelpaa: se on vanhentunut, käytetty tai virheellinen.",
                        "Länken duger inte: den har gått ut, använts eller är felaktig.",
                        "The link does not work: it has expired, been used or is wrong."},
        [T_ASK_AGAIN] = {"Pyydä uusi linkki", "Be om en ny länk", "Ask for a new link"},
        [T_SESSION_TITLE] = {"Tietosi rekistereissämme", "Dina uppgifter i våra register",
                             "Your data in our registers"},
        [T_SESSION_INTRO] = {"Olet näissä rekistereissä. Voit ladata tietosi, kieltää "
                             "suoramarkkinoinnin, perua suostumuksesi tai tehdä muun pyynnön.",
                             "Du finns i dessa register. Du kan ladda ner dina uppgifter, "
                             "förbjuda direktmarknadsföring, återkalla ditt samtycke eller "
                             "göra en annan begäran.",
                             "You are in these registers. You can download your data, ban "
                             "direct marketing, withdraw your consent or make another "
                             "request."},
        [T_NONE] = {"Et ole enää yhdessäkään rekisterissä.",
                    "Du finns inte längre i något register.", "You are no longer in any register."},
        [T_ENDED] = {"Istuntosi on päättynyt. Pyydä uusi linkki.",
                     "Din session har upphört. Be om en ny länk.",
                     "Your session has ended. Ask for a new link."},
        [T_NOTICE] = {"Tietosuojaseloste", "Dataskyddsbeskrivning", "Privacy notice"},
        [T_EXPORT_JSON] = {"Lataa tietosi (JSON)", "Ladda ner dina uppgifter (JSON)",
                           "Download your data (JSON)"},
        [T_EXPORT_LETTER] = {"Tietosi luettavana kirjeenä", "Dina uppgifter som brev",
                             "Your data as a letter"},
        [T_EXPORT_ALL] = {"Lataa kaikki tietosi kaikista rekistereistä (JSON)",
                          "Ladda ner alla dina uppgifter från alla register (JSON)",
                          "Download all your data from every register (JSON)"},
        [T_BAN] = {"Kiellä suoramarkkinointi", "Förbjud direktmarknadsföring",
                   "Ban direct marketing"},
        [T_BAN_TEXT] = {"Valitse kanavat, joilla et halua suoramarkkinointia. Jos et valitse "
                        "yhtään, kielto koskee kaikkia kanavia. Kielto on voimassa heti.",
                        "Välj de kanaler där du inte vill ha direktmarknadsföring. Väljer du "
                        "ingen, gäller förbudet alla kanaler. Förbudet gäller genast.",
                        "Choose the channels on which you want no direct marketing. When you "
                        "choose none, the ban covers every channel. The ban holds at once."},
        [T_ALL_CHANNELS] = {"Kaikki kanavat", "Alla kanaler", "All channels"},
        [T_BANNED] = {"Suoramarkkinointikielto on voimassa näissä kanavissa:",
                      "Förbudet mot direktmarknadsföring gäller i dessa kanaler:",
                      "Your direct-marketing ban is in force on these channels:"},
        [T_BANNED_ALL] = {"Suoramarkkinointikielto on voimassa kaikissa kanavissa.",
                          "Förbudet mot direktmarknadsföring gäller i alla kanaler.",
                          "Your direct-marketing ban is in force on every channel."},
        [T_WITHDRAW] = {"Peru suostumukseni", "Återkalla mitt samtycke", "Withdraw my consent"},
        [T_WITHDRAW_CHOOSE] = {"Valitse perumasi suostumukset; jos et valitse yhtään, kaikki "
                               "suostumuksesi tässä rekisterissä perutaan.",
                               "Välj de samtycken du återkallar; väljer du inget, återkallas "
                               "alla dina samtycken i detta register.",
                               "Choose the consents you withdraw; when you choose none, all "
                               "your consents in this register are withdrawn."},
        [T_WITHDRAW_TEXT] = {"Suostumukseen perustuva käsittely loppuu heti; jos muuta "
                             "perustetta ei ole, tietosi poistetaan.",
                             "Behandling som grundar sig på samtycke upphör genast; finns "
                             "ingen annan grund raderas dina uppgifter.",
                             "Processing based on consent stops at once; when there is no "
                             "other basis, your data is erased."},
        [T_ALL_CONSENTS] = {"Kaikki suostumukseni", "Alla mina samtycken", "All my consents"},
        [T_NO_CONSENTS] = {"Sinulla ei ole voimassa olevia suostumuksia tässä rekisterissä.",
                           "Du har inga gällande samtycken i detta register.",
                           "You have no consents in force in this register."},
        [T_GIVEN] = {"annettu", "givet", "given"},
        [T_OTHER] = {"Muu pyyntö", "Annan begäran", "Another request"},
        [T_TYPE] = {"Pyynnön laji", "Typ av begäran", "Kind of request"},
        [T_NOTE] = {"Lisätietoja (vastustamisessa: mitä käsittelyä vastustat)",
                    "Mer information (vid invändning: vilken behandling du invänder mot)",
                    "More information (for an objection: what processing you object to)"},
        [T_FIELD] = {"Oikaistava tieto (oikaisussa, esim. last_name)",
                     "Uppgift att rätta (vid rättelse, t.ex. last_name)",
                     "Field to correct (for rectification, e.g. last_name)"},
        [T_VALUE] = {"Oikea arvo", "Rätt värde", "Correct value"},
        [T_FILE] = {"Lähetä pyyntö", "Skicka begäran", "Send the request"},
        [T_FILED] = {"Pyyntösi on vastaanotettu. Numero:", "Din begäran har tagits emot. Nummer:",
                     "Your request has been received. Number:"},
        [T_STATE_VERIFIED] = {"Henkilöllisyytesi on todennettu linkillä; käsittelemme pyynnön "
                              "määräajassa.",
                              "Din identitet har verifierats med länken; vi behandlar "
                              "begäran inom tidsfristen.",
                              "Your identity was verified by the link; we handle the request "
                              "within the deadline."},
        [T_STATE_FULFILLED] = {"Pyyntö on toteutettu.", "Begäran har verkställts.",
                               "The request has been carried out."},
        [T_BACK] = {"Takaisin tietoihisi", "Tillbaka till dina uppgifter", "Back to your data"},
        [T_SIGNOUT] = {"Lopeta", "Avsluta", "End the session"},
        [T_SIGNED_OUT] = {"Istunto on päättynyt.", "Sessionen har avslutats.",
                          "The session has ended."},
        [T_ERROR] = {"Pyyntöä ei voitu käsitellä.", "Begäran kunde inte behandlas.",
                     "The request could not be handled."},
};

/* The request types the form offers besides the two buttons, with their names. */
static const char *const form_types[] = {"access",      "rectification", "erasure", "restriction",
                                         "portability", "objection",     NULL};
static const char *const type_labels[][LANG__MAX] = {
        {"Tietojen tarkastus", "Granskning av uppgifter", "Access"},
        {"Tietojen oikaisu", "Rättelse av uppgifter", "Rectification"},
        {"Tietojen poistaminen", "Radering av uppgifter", "Erasure"},
        {"Käsittelyn rajoittaminen", "Begränsning av behandling", "Restriction"},
        {"Tietojen siirto", "Dataportabilitet", "Portability"},
        {"Käsittelyn vastustaminen", "Invändning mot behandling", "Objection"},
};

/* The channels of direct marketing a ban can name, and of consents, with their names. */
static const char *const channel_labels[][LANG__MAX] = {
        {"Sähköposti", "E-post", "E-mail"},
        {"Posti", "Post", "Post"},
        {"Puhelin", "Telefon", "Phone"},
        {"Tekstiviesti", "Textmeddelande", "Text message"},
};

static const char *tx(enum me_text t, enum lang lang)
{
	return texts[t][lang];
}

enum lang req_lang(struct req *r)
{
	return lang_negotiate(
	        req_arg(r, "lang"),
	        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept-Language"));
}

/* ---------------------------------------------------------------- page frame */

void page_frame_open(struct buf *b, enum lang lang, const char *title)
{
	buf_appendf(b,
	            "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	            "<title>",
	            lang_code(lang));
	html_text(b, title);
	buf_puts(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/notice.css\">\n</head>\n"
	            "<body>\n<header>\n<nav class=\"langs\" aria-label=\"");
	html_attr(b, nmsg(NM_LANGUAGE, lang));
	buf_puts(b, "\"><a href=\"?lang=fi\" hreflang=\"fi\" lang=\"fi\">Suomeksi</a>"
	            "<a href=\"?lang=sv\" hreflang=\"sv\" lang=\"sv\">På svenska</a>"
	            "<a href=\"?lang=en\" hreflang=\"en\" lang=\"en\">In English</a></nav>\n<h1>");
	html_text(b, title);
	buf_puts(b, "</h1>\n</header>\n<main>\n");
}

void page_frame_close(struct req *r, unsigned status, struct buf *b, enum lang lang)
{
	buf_puts(b, "</main>\n</body>\n</html>\n");
	reply_html(r, status, b);
	if (r->resp)
		MHD_add_response_header(r->resp, "Content-Language", lang_code(lang));
}

static void para(struct buf *b, const char *s)
{
	buf_puts(b, "<p>");
	html_text(b, s);
	buf_puts(b, "</p>\n");
}

/* A link back to asking for a link. */
static void ask_link(struct buf *b, enum lang lang)
{
	buf_appendf(b, "<p><a href=\"/p/me?lang=%s\">", lang_code(lang));
	html_text(b, tx(T_ASK_AGAIN, lang));
	buf_puts(b, "</a></p>\n");
}

/* A page of one message, and a link to ask again. */
static void message_page(struct req *r, unsigned status, enum lang lang, enum me_text title,
                         enum me_text msg, bool again)
{
	/* The operator sees what failed; 503 (self-service off, mail not configured) is the
	 * configured state, answered to the visitor, not a failure to report on every POST. */
	if (status == 500)
		fprintf(stderr, "kortisto: %s %s: %s\n", r->method, r->url, r->err.message);
	struct buf b = BUF_INIT;
	page_frame_open(&b, lang, tx(title, lang));
	buf_puts(&b, "<p role=\"status\">");
	html_text(&b, tx(msg, lang));
	buf_puts(&b, "</p>\n");
	if (again)
		ask_link(&b, lang);
	page_frame_close(r, status, &b, lang);
}

/* ---------------------------------------------------------------- form bodies */

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* The value of `name` in the application/x-www-form-urlencoded body (first occurrence),
 * decoded into r->mem; NULL when absent or not decodable. */
const char *req_form_arg(struct req *r, const char *name)
{
	size_t nl = strlen(name);
	const char *p = r->body.p, *end = p ? p + r->body.len : NULL;
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		if ((size_t)(e - p) > nl && !memcmp(p, name, nl) && p[nl] == '=') {
			const char *v = p + nl + 1;
			char *out = arena_alloc(&r->mem, (size_t)(e - v) + 1), *o = out;
			for (; v < e; v++) {
				if (*v == '+') {
					*o++ = ' ';
				} else if (*v == '%') {
					int hi = e - v >= 3 ? hexval(v[1]) : -1;
					int lo = e - v >= 3 ? hexval(v[2]) : -1;
					/* a NUL byte would cut the value short unseen */
					if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
						return NULL;
					*o++ = (char)(hi * 16 + lo);
					v += 2;
				} else {
					*o++ = *v;
				}
			}
			*o = '\0';
			return out;
		}
		p = e + 1;
	}
	return NULL;
}

const char **req_form_args(struct req *r, const char *name, size_t *n)
{
	return form_values(&r->mem, r->body.p, r->body.len, name, 200, n);
}

/* ---------------------------------------------------------------- the cookie */

static const char *session_cookie(struct req *r)
{
	const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE);
	return c && *c ? c : NULL;
}

static void set_session_cookie(struct req *r, const char *token, int max_age)
{
	r->set_cookie = arena_printf(&r->mem,
	                             COOKIE "=%s; Path=/p/me; Max-Age=%d; HttpOnly; "
	                                    "SameSite=Strict%s",
	                             max_age > 0 ? token : "", max_age > 0 ? max_age : 0,
	                             server_cookie_secure(r->srv) ? "; Secure" : "");
}

/* ---------------------------------------------------------------- asking for a link */

static void ask_form(struct buf *b, enum lang lang)
{
	para(b, tx(T_ASK_INTRO, lang));
	buf_appendf(b, "<form method=\"post\" action=\"/p/me?lang=%s\">\n", lang_code(lang));
	buf_puts(b, "<p><label for=\"email\">");
	html_text(b, tx(T_EMAIL, lang));
	buf_puts(b, "</label><br><input id=\"email\" name=\"email\" type=\"email\" "
	            "autocomplete=\"email\" required maxlength=\"254\"></p>\n<p><button "
	            "type=\"submit\">");
	html_text(b, tx(T_SEND, lang));
	buf_puts(b, "</button></p>\n</form>\n");
}

void page_me(struct req *r)
{
	enum lang lang = req_lang(r);
	struct buf b = BUF_INIT;
	page_frame_open(&b, lang, tx(T_TITLE, lang));
	ask_form(&b, lang);
	page_frame_close(r, 200, &b, lang);
}

void page_me_ask(struct req *r)
{
	enum lang lang = req_lang(r);
	int64_t retry = 0;
	if (!req_store_or_reply(r))
		return;
	int rc = selfservice_begin(&r->ctx, req_form_arg(r, "email"), r->client, lang, &retry);
	if (rc == 0) {
		message_page(r, 200, lang, T_TITLE, T_SENT, false);
	} else if (rc == KERR_THROTTLED) {
		r->retry_after = retry;
		message_page(r, 429, lang, T_TITLE, T_THROTTLED, false);
	} else if (rc == KERR_INVALID) {
		struct buf b = BUF_INIT;
		page_frame_open(&b, lang, tx(T_TITLE, lang));
		buf_puts(&b, "<p role=\"alert\">");
		html_text(&b, tx(T_BAD_EMAIL, lang));
		buf_puts(&b, "</p>\n");
		ask_form(&b, lang);
		page_frame_close(r, 400, &b, lang);
	} else if (rc == KERR_BUSY) {
		message_page(r, 503, lang, T_TITLE, T_OFF, false);
	} else {
		message_page(r, 500, lang, T_TITLE, T_ERROR, false);
	}
}

/* ---------------------------------------------------------------- opening the link */

void page_me_link(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *t = req_arg(r, "t");
	if (!t || strlen(t) != SELFSERVICE_TOKEN_LEN) {
		message_page(r, 400, lang, T_OPEN_TITLE, T_BAD_LINK, true);
		return;
	}
	struct buf b = BUF_INIT;
	page_frame_open(&b, lang, tx(T_OPEN_TITLE, lang));
	para(&b, tx(T_OPEN_INTRO, lang));
	buf_appendf(&b, "<form method=\"post\" action=\"/p/me/link?lang=%s\">\n", lang_code(lang));
	buf_puts(&b, "<input type=\"hidden\" name=\"t\" value=\"");
	html_attr(&b, t);
	buf_puts(&b, "\">\n<p><button type=\"submit\">");
	html_text(&b, tx(T_OPEN, lang));
	buf_puts(&b, "</button></p>\n</form>\n");
	page_frame_close(r, 200, &b, lang);
}

void page_me_open(struct req *r)
{
	enum lang lang = req_lang(r);
	char session[SELFSERVICE_TOKEN_LEN + 1];
	if (!req_store_or_reply(r))
		return;
	int rc = selfservice_link_open(&r->ctx, req_form_arg(r, "t"), session);
	if (rc) {
		message_page(r,
		             rc == KERR_NOTFOUND   ? 404
		             : rc == KERR_CONFLICT ? 409
		                                   : 500,
		             lang, T_OPEN_TITLE, rc == KERR_INTERNAL ? T_ERROR : T_BAD_LINK, true);
		return;
	}
	set_session_cookie(r, session, SELFSERVICE_SESSION_SECONDS);
	sodium_memzero(session, sizeof(session));
	reply_text(r, 303, "text/plain; charset=utf-8", "", 0);
	if (r->resp)
		MHD_add_response_header(
		        r->resp, MHD_HTTP_HEADER_LOCATION,
		        arena_printf(&r->mem, "/p/me/session?lang=%s", lang_code(lang)));
}

/* ---------------------------------------------------------------- the session */

/* Opens a form that posts `type` for register `rid` with the CSRF token. */
static void request_form_open(struct buf *b, enum lang lang, const char *csrf, const char *rid,
                              const char *type)
{
	buf_appendf(b, "<form method=\"post\" action=\"/p/me/requests?lang=%s\">\n",
	            lang_code(lang));
	buf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(b, csrf);
	buf_puts(b, "\"><input type=\"hidden\" name=\"register\" value=\"");
	html_attr(b, rid);
	buf_puts(b, "\"><input type=\"hidden\" name=\"type\" value=\"");
	html_attr(b, type);
	buf_puts(b, "\">\n");
}

/* Ends the fieldset and the form with the submit button `label`. */
static void request_form_close(struct buf *b, enum lang lang, enum me_text label)
{
	buf_puts(b, "<p><button type=\"submit\">");
	html_text(b, tx(label, lang));
	buf_puts(b, "</button></p>\n</fieldset>\n</form>\n");
}

/* One checkbox of field `name` with its label (opened, for the caller to write and close
 * with "</label></p>"). `id` is made of ASCII names and numbers only. */
static void checkbox_open(struct buf *b, const char *id, const char *name, const char *value)
{
	buf_puts(b, "<p><input type=\"checkbox\" id=\"");
	html_attr(b, id);
	buf_puts(b, "\" name=\"");
	html_attr(b, name);
	buf_puts(b, "\" value=\"");
	html_attr(b, value);
	buf_puts(b, "\"> <label for=\"");
	html_attr(b, id);
	buf_puts(b, "\">");
}

static const char *channel_label(const char *ch, enum lang lang);

/* the marketing ban of register number `k`: the bans in force `bans` (selfservice_bans'
 * form), then a checkbox per channel and one for all. */
static void ban_form(struct req *r, struct buf *b, enum lang lang, const char *csrf,
                     const char *rid, size_t k, json_t *bans)
{
	request_form_open(b, lang, csrf, rid, "marketing_ban");
	buf_puts(b, "<fieldset><legend>");
	html_text(b, tx(T_BAN, lang));
	buf_puts(b, "</legend>\n");
	bool all = false;
	size_t i;
	json_t *v;
	json_array_foreach (bans, i, v)
		all = all || !strcmp(json_string_value(json_object_get(v, "channel")), "all");
	if (all) {
		para(b, tx(T_BANNED_ALL, lang));
	} else if (json_array_size(bans)) {
		para(b, tx(T_BANNED, lang));
		buf_puts(b, "<ul class=\"bans\">\n");
		json_array_foreach (bans, i, v) {
			buf_puts(b, "<li>");
			html_text(b, channel_label(json_string_value(json_object_get(v, "channel")),
			                           lang));
			buf_puts(b, "</li>\n");
		}
		buf_puts(b, "</ul>\n");
	}
	para(b, tx(T_BAN_TEXT, lang));
	for (size_t i = 0; consent_channels[i]; i++) {
		checkbox_open(b, arena_printf(&r->mem, "ban-%zu-%s", k, consent_channels[i]),
		              "channel", consent_channels[i]);
		html_text(b, channel_labels[i][lang]);
		buf_puts(b, "</label></p>\n");
	}
	checkbox_open(b, arena_printf(&r->mem, "ban-%zu-all", k), "channel", "all");
	html_text(b, tx(T_ALL_CHANNELS, lang));
	buf_puts(b, "</label></p>\n");
	request_form_close(b, lang, T_BAN);
}

/* The name of channel `ch` in `lang`; `ch` itself when it is not one kortisto knows. */
static const char *channel_label(const char *ch, enum lang lang)
{
	for (size_t i = 0; ch && consent_channels[i]; i++)
		if (!strcmp(consent_channels[i], ch))
			return channel_labels[i][lang];
	return ch ? ch : "";
}

/*
 * the consent withdrawal of register number `k`, listing the person's consents in
 * force `cons` (consent_get's form). A withdrawal names purposes (request.h), so there is a
 * checkbox per purpose, whose label names each consent of it: channel and date given.
 */
static void withdraw_form(struct req *r, struct buf *b, enum lang lang, const char *csrf,
                          const char *rid, size_t k, json_t *cons)
{
	const struct decl *d = app_register(r->ctx.app, rid);
	size_t n = json_array_size(cons);
	request_form_open(b, lang, csrf, rid, "consent_withdrawal");
	buf_puts(b, "<fieldset><legend>");
	html_text(b, tx(T_WITHDRAW, lang));
	buf_puts(b, "</legend>\n");
	para(b, tx(n ? T_WITHDRAW_CHOOSE : T_NO_CONSENTS, lang));
	para(b, tx(T_WITHDRAW_TEXT, lang));
	for (size_t i = 0; i < n; i++) {
		const char *pu =
		        json_string_value(json_object_get(json_array_get(cons, i), "purpose"));
		bool seen = false;
		for (size_t j = 0; pu && j < i && !seen; j++)
			seen = !strcmp(pu, json_string_value(json_object_get(
			                           json_array_get(cons, j), "purpose")));
		if (!pu || seen)
			continue;
		const struct decl_purpose *dp = d ? decl_purpose(d, pu) : NULL;
		bool fb = false;
		const char *name = dp ? decl_text(&dp->text, lang, &fb) : pu;
		checkbox_open(b, arena_printf(&r->mem, "purpose-%zu-%zu", k, i), "purpose", pu);
		buf_puts(b, fb ? "<span lang=\"fi\">" : "<span>");
		html_text(b, name);
		buf_puts(b, "</span>:");
		for (size_t j = i, m = 0; j < n; j++) {
			json_t *c = json_array_get(cons, j);
			char date[32];
			if (strcmp(pu, json_string_value(json_object_get(c, "purpose"))))
				continue;
			buf_puts(b, m++ ? "; " : " ");
			html_text(b, channel_label(json_string_value(json_object_get(c, "channel")),
			                           lang));
			buf_puts(b, ", ");
			html_text(b, tx(T_GIVEN, lang));
			buf_puts(b, " ");
			html_text(b,
			          lang_date(lang, json_string_value(json_object_get(c, "given_at")),
			                    date));
		}
		buf_puts(b, "</label></p>\n");
	}
	if (n) {
		checkbox_open(b, arena_printf(&r->mem, "purpose-%zu-all", k), "purpose", "all");
		html_text(b, tx(T_ALL_CONSENTS, lang));
		buf_puts(b, "</label></p>\n");
	}
	request_form_close(b, lang, T_WITHDRAW);
}

static void other_form(struct buf *b, enum lang lang, const char *csrf, const char *rid, size_t k)
{
	buf_appendf(b, "<form method=\"post\" action=\"/p/me/requests?lang=%s\">\n",
	            lang_code(lang));
	buf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(b, csrf);
	buf_puts(b, "\"><input type=\"hidden\" name=\"register\" value=\"");
	html_attr(b, rid);
	buf_appendf(b, "\">\n<fieldset><legend>");
	html_text(b, tx(T_OTHER, lang));
	buf_appendf(b, "</legend>\n<p><label for=\"type-%zu\">", k);
	html_text(b, tx(T_TYPE, lang));
	buf_appendf(b, "</label><br><select id=\"type-%zu\" name=\"type\">", k);
	for (size_t i = 0; form_types[i]; i++) {
		buf_puts(b, "<option value=\"");
		html_attr(b, form_types[i]);
		buf_puts(b, "\">");
		html_text(b, type_labels[i][lang]);
		buf_puts(b, "</option>");
	}
	buf_appendf(b, "</select></p>\n<p><label for=\"note-%zu\">", k);
	html_text(b, tx(T_NOTE, lang));
	buf_appendf(b,
	            "</label><br><textarea id=\"note-%zu\" name=\"note\" maxlength=\"2000\" "
	            "rows=\"3\"></textarea></p>\n<p><label for=\"field-%zu\">",
	            k, k);
	html_text(b, tx(T_FIELD, lang));
	buf_appendf(b,
	            "</label><br><input id=\"field-%zu\" name=\"field\" maxlength=\"64\"></p>\n"
	            "<p><label for=\"value-%zu\">",
	            k, k);
	html_text(b, tx(T_VALUE, lang));
	buf_appendf(b,
	            "</label><br><input id=\"value-%zu\" name=\"value\" maxlength=\"300\"></p>\n"
	            "<p><button type=\"submit\">",
	            k);
	html_text(b, tx(T_FILE, lang));
	buf_puts(b, "</button></p>\n</fieldset>\n</form>\n");
}

static void signout_form(struct buf *b, enum lang lang, const char *csrf)
{
	buf_appendf(b, "<form method=\"post\" action=\"/p/me/signout?lang=%s\">\n",
	            lang_code(lang));
	buf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(b, csrf);
	buf_puts(b, "\">\n<p><button type=\"submit\">");
	html_text(b, tx(T_SIGNOUT, lang));
	buf_puts(b, "</button></p>\n</form>\n");
}

void page_me_session(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *session = session_cookie(r);
	struct ss_subject *subs;
	size_t n;
	char csrf[65];
	if (!req_store_or_reply(r))
		return;
	int rc = selfservice_registers(&r->ctx, session, &subs, &n);
	if (rc) {
		message_page(r, rc == KERR_UNAUTH ? 401 : 500, lang, T_TITLE,
		             rc == KERR_UNAUTH ? T_ENDED : T_ERROR, rc == KERR_UNAUTH);
		return;
	}
	selfservice_csrf(&r->ctx, session, csrf);
	struct buf b = BUF_INIT;
	page_frame_open(&b, lang, tx(T_SESSION_TITLE, lang));
	para(&b, tx(n ? T_SESSION_INTRO : T_NONE, lang));
	if (n > 1) {
		buf_appendf(&b,
		            "<p><a href=\"/p/me/export?register=all&amp;format=json&amp;lang=%s\">",
		            lang_code(lang));
		html_text(&b, tx(T_EXPORT_ALL, lang));
		buf_puts(&b, "</a></p>\n");
	}
	for (size_t i = 0; i < n; i++) {
		const struct decl *d = app_register(r->ctx.app, subs[i].rid);
		json_t *cons = NULL;
		bool fb = false;
		json_t *bans = NULL;
		if ((rc = selfservice_consents(&r->ctx, session, subs[i].rid, &cons)) ||
		    (rc = selfservice_bans(&r->ctx, session, subs[i].rid, &bans))) {
			json_decref(cons);
			buf_free(&b);
			message_page(r, rc == KERR_UNAUTH ? 401 : 500, lang, T_TITLE,
			             rc == KERR_UNAUTH ? T_ENDED : T_ERROR, rc == KERR_UNAUTH);
			return;
		}
		const char *name = d ? decl_text(&d->name, lang, &fb) : subs[i].rid;
		buf_appendf(&b, "<section aria-labelledby=\"reg-%zu\">\n<h2 id=\"reg-%zu\"%s>", i,
		            i, fb ? " lang=\"fi\"" : "");
		html_text(&b, name);
		buf_puts(&b, "</h2>\n<ul>\n<li><a href=\"/p/registers/");
		html_attr(&b, subs[i].rid);
		buf_appendf(&b, "/notice?lang=%s\">", lang_code(lang));
		html_text(&b, tx(T_NOTICE, lang));
		buf_puts(&b, "</a></li>\n<li><a href=\"/p/me/export?register=");
		html_attr(&b, subs[i].rid);
		buf_appendf(&b, "&amp;format=json&amp;lang=%s\">", lang_code(lang));
		html_text(&b, tx(T_EXPORT_JSON, lang));
		buf_puts(&b, "</a></li>\n<li><a href=\"/p/me/export?register=");
		html_attr(&b, subs[i].rid);
		buf_appendf(&b, "&amp;format=html&amp;lang=%s\">", lang_code(lang));
		html_text(&b, tx(T_EXPORT_LETTER, lang));
		buf_puts(&b, "</a></li>\n</ul>\n");
		ban_form(r, &b, lang, csrf, subs[i].rid, i, bans);
		withdraw_form(r, &b, lang, csrf, subs[i].rid, i, cons);
		json_decref(bans);
		json_decref(cons);
		other_form(&b, lang, csrf, subs[i].rid, i);
		buf_puts(&b, "</section>\n");
	}
	signout_form(&b, lang, csrf);
	page_frame_close(r, 200, &b, lang);
}

void page_me_export(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *fmt = req_arg(r, "format"), *rid = req_arg(r, "register");
	json_t *doc = NULL;
	if (!fmt)
		fmt = "json";
	if (strcmp(fmt, "json") && strcmp(fmt, "html")) {
		message_page(r, 400, lang, T_TITLE, T_ERROR, false);
		return;
	}
	if (!req_store_or_reply(r))
		return;
	bool all = rid && !strcmp(rid, "all");
	if (all && strcmp(fmt, "json")) { /* a letter is about one register */
		message_page(r, 400, lang, T_TITLE, T_ERROR, false);
		return;
	}
	int rc = all ? selfservice_export_all(&r->ctx, session_cookie(r), &doc)
	             : selfservice_export(&r->ctx, session_cookie(r), rid, &doc);
	if (rc) {
		message_page(r, (unsigned)kerr_http_status(rc), lang, T_TITLE,
		             rc == KERR_UNAUTH ? T_ENDED : T_ERROR, rc == KERR_UNAUTH);
		return;
	}
	struct buf b = BUF_INIT;
	const char *type = "text/html; charset=utf-8";
	if (!strcmp(fmt, "html")) {
		rc = export_letter(&r->ctx, doc, lang, &b);
	} else {
		char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
		buf_puts(&b, s);
		free(s);
		type = "application/json";
	}
	json_decref(doc);
	if (rc) {
		buf_free(&b);
		message_page(r, 500, lang, T_TITLE, T_ERROR, false);
		return;
	}
	reply_buf(r, 200, type, &b);
	if (r->resp && !strcmp(fmt, "json"))
		MHD_add_response_header(
		        r->resp, "Content-Disposition",
		        arena_printf(&r->mem, "attachment; filename=\"my-data-%s.json\"", rid));
}

/* The details the form of the other requests gives for `type`: a note, an objection's scope, a
 * rectification's one change. NULL when there are none. */
static json_t *form_details(struct req *r, const char *type)
{
	const char *note = req_form_arg(r, "note"), *field = req_form_arg(r, "field");
	const char *value = req_form_arg(r, "value");
	json_t *d = json_object();
	if (note && !*note)
		note = NULL;
	if (!strcmp(type, "objection")) {
		json_object_set_new(d, "scope", json_string(note ? note : "direct_marketing"));
	} else if (!strcmp(type, "rectification")) {
		json_t *c = json_object(), *v = value ? json_string(value) : NULL;
		/* a key that is not UTF-8 is refused, and v freed with it */
		if (field && *field && v)
			json_object_set_new(c, field, v);
		else
			json_decref(v);
		json_object_set_new(d, "changes", c);
		if (note)
			json_object_set_new(d, "note", json_string(note));
	} else if (note) {
		json_object_set_new(d, "note", json_string(note));
	}
	if (!json_object_size(d)) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static bool in_array(json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (a, i, v) {
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

/*
 * The choices the ban and withdrawal forms ticked, as the request's details (*out; NULL when
 * none or "all" is ticked: every channel, every consent, as before the choice existed).
 * Checked by allow-list here, so nothing is filed for an unknown value: a marketing ban's
 * "channel" is email, post, phone, sms or all; a withdrawal's "purpose" a purpose register
 * `rid` declares, or all. KERR_INVALID naming the form field.
 */
static int choice_details(struct req *r, const char *type, const char *rid, json_t **out)
{
	bool ban = !strcmp(type, "marketing_ban");
	const char *field = ban ? "channel" : "purpose";
	const struct decl *d = rid ? app_register(r->ctx.app, rid) : NULL;
	size_t n;
	const char **v = req_form_args(r, field, &n);
	json_t *list = json_array();
	bool all = false;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		bool ok = v[i] && !strcmp(v[i], "all");
		for (size_t j = 0; ban && !ok && v[i] && consent_channels[j]; j++)
			ok = !strcmp(v[i], consent_channels[j]);
		if (!ban && !ok && v[i] && d)
			ok = decl_purpose(d, v[i]) != NULL;
		if (!ok) {
			json_decref(list);
			if (!ban && !d)
				return kerr_set(&r->err, KERR_NOTFOUND, "register",
				                "register: you have no data in this register");
			return kerr_set(&r->err, KERR_INVALID, field,
			                ban ? "channel: not a channel of direct marketing (email, "
			                      "post, phone, sms or all)"
			                    : "purpose: not a purpose declared by this register");
		}
		if (!strcmp(v[i], "all"))
			all = true;
		else if (!in_array(list, v[i]))
			json_array_append_new(list, json_string(v[i]));
	}
	if (all || !json_array_size(list)) {
		json_decref(list);
		return 0;
	}
	*out = json_pack("{s:o}", ban ? "channels" : "purposes", list);
	return 0;
}

void page_me_request(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *session = session_cookie(r);
	const char *type = req_form_arg(r, "type"), *rid = req_form_arg(r, "register");
	const char *state = NULL;
	int64_t id = 0;
	if (!req_store_or_reply(r))
		return;
	struct ss_subject *subs;
	size_t n;
	int rc = selfservice_session(&r->ctx, session, &subs, &n);
	if (!rc && !selfservice_csrf_ok(&r->ctx, session, req_form_arg(r, "csrf")))
		rc = kerr_set(&r->err, KERR_FORBIDDEN, "csrf", "the form's CSRF token is wrong");
	if (!rc) {
		json_t *det = NULL;
		if (type && (!strcmp(type, "marketing_ban") || !strcmp(type, "consent_withdrawal")))
			rc = choice_details(r, type, rid, &det);
		else if (type)
			det = form_details(r, type);
		if (!rc)
			rc = selfservice_file(&r->ctx, session, rid, type, det, &id, &state);
		json_decref(det);
	}
	struct buf b = BUF_INIT;
	if (rc) {
		page_frame_open(&b, lang, tx(T_TITLE, lang));
		buf_puts(&b, "<p role=\"alert\">");
		html_text(&b, tx(rc == KERR_UNAUTH ? T_ENDED : T_ERROR, lang));
		buf_puts(&b, "</p>\n");
		if (rc != KERR_UNAUTH && rc != KERR_FORBIDDEN && r->err.message[0]) {
			/* kortisto's own message, in English, naming the field */
			buf_puts(&b, "<p lang=\"en\">");
			html_text(&b, r->err.message);
			buf_puts(&b, "</p>\n");
		}
		if (rc == KERR_UNAUTH)
			ask_link(&b, lang);
		else {
			buf_appendf(&b, "<p><a href=\"/p/me/session?lang=%s\">", lang_code(lang));
			html_text(&b, tx(T_BACK, lang));
			buf_puts(&b, "</a></p>\n");
		}
		page_frame_close(r, (unsigned)kerr_http_status(rc), &b, lang);
		return;
	}
	page_frame_open(&b, lang, tx(T_TITLE, lang));
	buf_puts(&b, "<p role=\"status\">");
	html_text(&b, tx(T_FILED, lang));
	buf_appendf(&b, " <span id=\"request-id\">%lld</span></p>\n", (long long)id);
	para(&b, tx(strcmp(state, "fulfilled") ? T_STATE_VERIFIED : T_STATE_FULFILLED, lang));
	buf_appendf(&b, "<p><a href=\"/p/me/session?lang=%s\">", lang_code(lang));
	html_text(&b, tx(T_BACK, lang));
	buf_puts(&b, "</a></p>\n");
	page_frame_close(r, 200, &b, lang);
}

void page_me_signout(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *session = session_cookie(r);
	if (!req_store_or_reply(r))
		return;
	if (session && selfservice_csrf_ok(&r->ctx, session, req_form_arg(r, "csrf")))
		selfservice_session_end(&r->ctx, session);
	kerr_clear(&r->err);
	set_session_cookie(r, NULL, 0);
	message_page(r, 200, lang, T_TITLE, T_SIGNED_OUT, true);
}
