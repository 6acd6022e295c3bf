/*
 * The public registration page of an event, /p/events/{id}: the event and its programme, and
 * a form (name, e-mail, the organisation where the subject group has that field, and the
 * consent choices) in fi, sv or en (?lang= or Accept-Language); /p/events/{id}.ics is the
 * event for a calendar. Only events whose registration was opened (core/event.h) have a page.
 * The design decision: the answer to a post is the same page whatever happened — registered,
 * already registered, restricted, or an erased person's address that is not collected again —
 * so the form cannot be used to find out who is in the register. There is no session and no
 * cookie, so there is nothing a cross-site post could borrow; the client address goes only to
 * the in-memory rate limit (http/survey_limit.c, hashed, never stored), never to core.
 */
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "decl/notice_text.h"
#include "http/http.h"
#include "http/survey_limit.h"
#include "util/form.h"

enum emsg {
	EM_REGISTER,
	EM_FIRST,
	EM_LAST,
	EM_EMAIL,
	EM_ORG,
	EM_CHOICES,
	EM_SHARE,
	EM_LIST,
	EM_SEND,
	EM_PROGRAMME,
	EM_CALENDAR,
	EM_NOTICE,
	EM_THANKS,
	EM_THANKS_TEXT,
	EM_ERROR,
	EM_NOTFOUND,
	EM__MAX
};

static const char *const emsgs[EM__MAX][LANG__MAX] = {
        [EM_REGISTER] = {"Ilmoittaudu", "Anmäl dig", "Register"},
        [EM_FIRST] = {"Etunimi", "Förnamn", "First name"},
        [EM_LAST] = {"Sukunimi", "Efternamn", "Last name"},
        [EM_EMAIL] = {"Sähköposti", "E-post", "E-mail"},
        [EM_ORG] = {"Organisaatio (vapaaehtoinen)", "Organisation (frivillig)",
                    "Organisation (optional)"},
        [EM_CHOICES] = {"Valintasi", "Dina val", "Your choices"},
        [EM_SHARE] = {"Tietoni saa antaa tapahtuman yhteisjärjestäjälle",
                      "Mina uppgifter får lämnas till evenemangets medarrangör",
                      "My details may be given to the event's co-organiser"},
        [EM_LIST] = {"Nimeni saa näkyä osallistujaluettelossa",
                     "Mitt namn får synas i deltagarförteckningen",
                     "My name may appear in the list of participants"},
        [EM_SEND] = {"Lähetä ilmoittautuminen", "Skicka anmälan", "Send the registration"},
        [EM_PROGRAMME] = {"Ohjelma", "Program", "Programme"},
        [EM_CALENDAR] = {"Lisää kalenteriin", "Lägg till i kalendern", "Add to calendar"},
        [EM_NOTICE] = {"Tietosuojaseloste", "Dataskyddsbeskrivning", "Privacy notice"},
        [EM_THANKS] = {"Kiitos", "Tack", "Thank you"},
        [EM_THANKS_TEXT] =
                {"Ilmoittautumisesi on vastaanotettu. Jos valitsit uutiskirjeen, saat "
                 "sähköpostiisi linkin, jolla vahvistat tilauksen.",
                 "Din anmälan har tagits emot. Om du valde nyhetsbrevet får du en länk per "
                 "e-post för att bekräfta prenumerationen.",
                 "Your registration has been received. If you chose the newsletter, you will "
                 "get a link by e-mail to confirm it."},
        [EM_ERROR] = {"Tarkista tiedot", "Kontrollera uppgifterna", "Please check the form"},
        [EM_NOTFOUND] = {"Tapahtumaa ei löydy", "Evenemanget hittades inte", "Event not found"},
};

static void message_page(struct req *r, unsigned status, enum lang lang, enum emsg title,
                         const char *text)
{
	struct buf b = BUF_INIT;
	public_page_open(&b, lang, emsgs[title][lang]);
	buf_puts(&b, "<main>\n<h1>");
	html_text(&b, emsgs[title][lang]);
	buf_puts(&b, "</h1>\n<p>");
	html_text(&b, text);
	buf_puts(&b, "</p>\n</main>\n");
	public_page_close(r, status, lang, &b);
}

static void error_page(struct req *r, int rc, enum lang lang)
{
	unsigned status = rc == KERR_NOTFOUND    ? 404
	                  : rc == KERR_INVALID   ? 400
	                  : rc == KERR_TOOLARGE  ? 413
	                  : rc == KERR_THROTTLED ? 429
	                                         : 500;
	message_page(r, status, lang, rc == KERR_NOTFOUND ? EM_NOTFOUND : EM_ERROR,
	             r->ctx.err->message[0] ? r->ctx.err->message : emsgs[EM_ERROR][lang]);
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "2026-05-12T09:00:00Z – 2026-05-12T10:00:00Z" as dates in the page's language and UTC
 * times: the page states times in UTC, as they are stored, and the calendar file converts. */
static void when_html(struct buf *b, enum lang lang, json_t *o)
{
	char day[32];
	const char *s = jstr(o, "starts_at"), *e = jstr(o, "ends_at");
	html_text(b, lang_date(lang, s, day));
	buf_appendf(b, " %.5s–", s + 11);
	if (strncmp(s, e, 10) != 0) {
		html_text(b, lang_date(lang, e, day));
		buf_puts(b, " ");
	}
	buf_appendf(b, "%.5s UTC", e + 11);
}

static void checkbox(struct buf *b, const char *name, const char *label)
{
	buf_appendf(b, "<label><input type=\"checkbox\" name=\"%s\" value=\"yes\"> ", name);
	html_text(b, label);
	buf_puts(b, "</label>\n");
}

static void event_form(struct req *r, json_t *ev, enum lang lang, unsigned status)
{
	const char *title = jstr(ev, "title");
	json_t *nl = json_object_get(ev, "newsletter"), *s;
	struct buf b = BUF_INIT;
	size_t i;

	public_page_open(&b, lang, title);
	buf_puts(&b, "<main>\n<h1>");
	html_text(&b, title);
	buf_puts(&b, "</h1>\n<p>");
	when_html(&b, lang, ev);
	if (jstr(ev, "place")) {
		buf_puts(&b, "<br>");
		html_text(&b, jstr(ev, "place"));
	}
	if (jstr(ev, "url")) {
		buf_puts(&b, "<br>");
		html_text(&b, jstr(ev, "url"));
	}
	buf_appendf(&b, "</p>\n<p><a href=\"/p/events/%lld.ics\">", (long long)r->id);
	html_text(&b, emsgs[EM_CALENDAR][lang]);
	buf_puts(&b, "</a></p>\n");
	if (json_array_size(json_object_get(ev, "sessions"))) {
		buf_puts(&b, "<h2>");
		html_text(&b, emsgs[EM_PROGRAMME][lang]);
		buf_puts(&b, "</h2>\n<ul>\n");
		json_array_foreach (json_object_get(ev, "sessions"), i, s) {
			buf_puts(&b, "<li>");
			when_html(&b, lang, s);
			buf_puts(&b, ": ");
			html_text(&b, jstr(s, "title"));
			buf_puts(&b, "</li>\n");
		}
		buf_puts(&b, "</ul>\n");
	}
	buf_puts(&b, "<h2>");
	html_text(&b, emsgs[EM_REGISTER][lang]);
	buf_puts(&b, "</h2>\n");
	if (status != 200) {
		buf_puts(&b, "<p class=\"error\" role=\"alert\">");
		html_text(&b, emsgs[EM_ERROR][lang]);
		buf_puts(&b, ": <span lang=\"en\">");
		html_text(&b, r->ctx.err->message);
		buf_puts(&b, "</span></p>\n");
	}
	buf_appendf(&b, "<form method=\"post\" action=\"/p/events/%lld?lang=%s\">\n",
	            (long long)r->id, lang_code(lang));
	static const struct {
		const char *name, *autocomplete;
		enum emsg label;
		bool required;
	} inputs[] = {
	        {"first_name", "given-name", EM_FIRST, true},
	        {"last_name", "family-name", EM_LAST, true},
	        {"email", "email", EM_EMAIL, true},
	        {"organisation", "organization", EM_ORG, false},
	};
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		if (!inputs[i].required && !json_is_true(json_object_get(ev, "organisation")))
			continue;
		buf_appendf(&b, "<label>");
		html_text(&b, emsgs[inputs[i].label][lang]);
		buf_appendf(
		        &b,
		        " <input type=\"%s\" name=\"%s\" autocomplete=\"%s\" maxlength=\"%d\"%s>"
		        "</label>\n",
		        strcmp(inputs[i].name, "email") ? "text" : "email", inputs[i].name,
		        inputs[i].autocomplete, strcmp(inputs[i].name, "email") ? 100 : 254,
		        inputs[i].required ? " required" : "");
	}
	buf_puts(&b, "<fieldset><legend>");
	html_text(&b, emsgs[EM_CHOICES][lang]);
	buf_puts(&b, "</legend>\n");
	if (json_is_true(json_object_get(ev, "co_organiser")))
		checkbox(&b, "share_with_co_organiser", emsgs[EM_SHARE][lang]);
	checkbox(&b, "participant_list", emsgs[EM_LIST][lang]);
	if (json_is_object(nl)) /* the consent's exact text, as it is recorded (M-01) */
		checkbox(&b, "newsletter", jstr(nl, "text"));
	buf_puts(&b, "</fieldset>\n<p><a href=\"/p/registers/");
	html_attr(&b, jstr(ev, "register"));
	buf_appendf(&b, "/notice?lang=%s\">", lang_code(lang));
	html_text(&b, emsgs[EM_NOTICE][lang]);
	buf_puts(&b, "</a></p>\n<button type=\"submit\">");
	html_text(&b, emsgs[EM_SEND][lang]);
	buf_puts(&b, "</button>\n</form>\n</main>\n");
	public_page_close(r, status, lang, &b);
}

/* The event of the page, or NULL after replying with the error page. */
static json_t *load_or_reply(struct req *r, enum lang lang)
{
	json_t *ev = NULL;
	if (!req_store_or_reply(r))
		return NULL;
	int rc = event_public(&r->ctx, r->id, &ev);
	if (rc) {
		error_page(r, rc, lang);
		return NULL;
	}
	return ev;
}

void page_event(struct req *r)
{
	enum lang lang = req_lang(r);
	json_t *ev = load_or_reply(r, lang);
	if (!ev)
		return;
	event_form(r, ev, lang, 200);
	json_decref(ev);
}

void page_event_ics(struct req *r)
{
	enum lang lang = req_lang(r);
	json_t *ev = load_or_reply(r, lang);
	if (!ev)
		return;
	struct buf b = BUF_INIT;
	int rc = event_ics(&r->ctx, jstr(ev, "register"), r->id, &b);
	json_decref(ev);
	if (rc) {
		buf_free(&b);
		error_page(r, rc, lang);
		return;
	}
	reply_buf(r, 200, "text/calendar; charset=utf-8", &b);
}

/* The posted form as the JSON core takes; NULL when a value is malformed. */
static json_t *form_json(struct req *r)
{
	static const struct {
		const char *name;
		size_t max;
	} texts[] = {
	        {"first_name", 100}, {"last_name", 100}, {"email", 254}, {"organisation", 200}};
	const char *body = r->body.p ? r->body.p : "";
	json_t *in = json_object(), *consents = json_object();
	json_object_set_new(in, "consents", consents);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v = form_value(&r->mem, body, r->body.len, texts[i].name, texts[i].max);
		if (!v && strstr(body, texts[i].name)) {
			kerr_set(r->ctx.err, KERR_INVALID, texts[i].name,
			         "%s: at most %zu bytes of text on one line", texts[i].name,
			         texts[i].max);
			json_decref(in);
			return NULL;
		}
		if (v && *v)
			json_object_set_new(in, texts[i].name, json_string(v));
	}
	for (size_t i = 0; event_consent_flags[i]; i++) {
		const char *v = form_value(&r->mem, body, r->body.len, event_consent_flags[i], 8);
		json_object_set_new(consents, event_consent_flags[i],
		                    json_boolean(v && strcmp(v, "yes") == 0));
	}
	return in;
}

void page_event_register(struct req *r)
{
	enum lang lang = req_lang(r);
	/* F-01 style: the address goes to the in-memory limiter only, under a key of its own
	 * so registrations and survey answers do not share a budget; core never sees it. */
	const char *addr = arena_printf(&r->mem, "event:%s", r->client ? r->client : "");
	r->ctx.client = NULL;
	int64_t wait = survey_limit_check(addr, (int64_t)time(NULL));
	if (wait) {
		kerr_set(r->ctx.err, KERR_THROTTLED, NULL,
		         "too many registrations from this address: try again in %lld seconds",
		         (long long)wait);
		r->retry_after = wait;
		error_page(r, KERR_THROTTLED, lang);
		return;
	}
	json_t *ev = load_or_reply(r, lang);
	if (!ev)
		return;
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	int rc;
	json_t *in = NULL;
	if (r->too_large)
		rc = kerr_set(r->ctx.err, KERR_TOOLARGE, NULL, "the form is too large");
	else if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		rc = kerr_set(r->ctx.err, KERR_INVALID, NULL,
		              "the registration is sent as a form "
		              "(application/x-www-form-urlencoded)");
	else if (!(in = form_json(r)))
		rc = KERR_INVALID;
	else
		rc = event_public_register(&r->ctx, r->id, in, NULL);
	json_decref(in);
	survey_limit_count(addr, (int64_t)time(NULL));
	if (rc == KERR_INVALID && in) {
		event_form(r, ev, lang, 400);
		json_decref(ev);
		return;
	}
	json_decref(ev);
	if (rc) {
		error_page(r, rc, lang);
		return;
	}
	message_page(r, 200, lang, EM_THANKS, emsgs[EM_THANKS_TEXT][lang]);
}
