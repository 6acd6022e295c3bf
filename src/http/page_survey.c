/*
 * The public answer page of a survey, /p/surveys/{id}: the questions as an HTML form in fi,
 * sv or en (?lang= or Accept-Language), the answer posted back as a form, and after it the
 * raffle form, which posts to /p/surveys/{id}/raffle on its own. No cookie is set, no
 * session is read, and nothing of the request (address, time, headers) reaches core: the
 * two forms share no hidden field, so the answer and the raffle entry arrive as unrelated
 * requests (F-01, F-02). The page has no script and no inline style (the CSP forbids both);
 * its style sheet is /static/survey.css.
 */
#include <string.h>
#include <time.h>

#include "core/survey.h"
#include "decl/notice_text.h"
#include "http/http.h"
#include "http/survey_limit.h"
#include "util/validate.h"

#define MAX_FORM_FIELDS 500

static const char survey_css[] =
        "body{font-family:system-ui,sans-serif;max-width:44rem;margin:0 auto;padding:1rem;"
        "line-height:1.5;color:#111;background:#fff}\n"
        "nav.langs a{margin-right:1rem}\n"
        "fieldset{border:1px solid #ccc;border-radius:.4rem;margin:1rem 0;padding:.8rem}\n"
        "legend{font-weight:bold;padding:0 .3rem}\n"
        "label{display:block;margin:.2rem 0}\n"
        ".scale label{display:inline-block;margin-right:1rem}\n"
        ".hint{color:#444;font-size:.9rem}\n"
        "textarea,input[type=text]{width:100%;box-sizing:border-box;font:inherit}\n"
        ".error{border-left:.3rem solid #b00020;padding-left:.6rem;color:#b00020}\n"
        "button{font:inherit;padding:.4rem 1rem}\n";

enum smsg {
	SM_SEND,
	SM_THANKS,
	SM_THANKS_TEXT,
	SM_RAFFLE,
	SM_RAFFLE_TEXT,
	SM_CONTACT,
	SM_ENTER,
	SM_ENTERED,
	SM_ERROR,
	SM_REQUIRED,
	SM_NOTFOUND,
	SM_CLOSED,
	SM_ANON,
	SM__MAX
};

static const char *const smsgs[SM__MAX][LANG__MAX] = {
        [SM_SEND] = {"Lähetä vastaus", "Skicka svaret", "Send the answer"},
        [SM_THANKS] = {"Kiitos vastauksestasi", "Tack för ditt svar", "Thank you for your answer"},
        [SM_THANKS_TEXT] = {"Vastauksesi on tallennettu nimettömänä.",
                            "Ditt svar har sparats anonymt.",
                            "Your answer was stored anonymously."},
        [SM_RAFFLE] = {"Osallistu arvontaan", "Delta i utlottningen",
                       "Take part in the prize draw"},
        [SM_RAFFLE_TEXT] =
                {"Voit halutessasi jättää sähköpostiosoitteen tai puhelinnumeron arvontaa varten. "
                 "Yhteystieto tallennetaan erikseen, eikä sitä voi yhdistää vastaukseesi. "
                 "Yhteystiedot poistetaan arvonnan jälkeen.",
                 "Om du vill kan du lämna en e-postadress eller ett telefonnummer för "
                 "utlottningen. Kontaktuppgiften sparas separat och kan inte kopplas till ditt "
                 "svar. Kontaktuppgifterna raderas efter utlottningen.",
                 "If you wish, leave an e-mail address or a phone number for the prize draw. It "
                 "is stored apart and cannot be linked to your answer. The contacts are deleted "
                 "after the draw."},
        [SM_CONTACT] = {"Sähköpostiosoite tai puhelinnumero", "E-postadress eller telefonnummer",
                        "E-mail address or phone number"},
        [SM_ENTER] = {"Osallistu", "Delta", "Enter"},
        [SM_ENTERED] = {"Olet mukana arvonnassa.", "Du deltar i utlottningen.",
                        "You are in the prize draw."},
        [SM_ERROR] = {"Tarkista vastaus", "Kontrollera svaret", "Please check the answer"},
        [SM_REQUIRED] = {"pakollinen", "obligatorisk", "required"},
        [SM_NOTFOUND] = {"Kyselyä ei löydy", "Enkäten hittades inte", "Survey not found"},
        [SM_CLOSED] = {"Kysely on suljettu", "Enkäten är stängd", "The survey is closed"},
        [SM_ANON] = {"Vastaaminen on nimetöntä: vastaukseen ei tallenneta nimeä, osoitetta, "
                     "IP-osoitetta eikä kellonaikaa, vain päivämäärä.",
                     "Svaren är anonyma: med svaret sparas inget namn, ingen adress, ingen "
                     "IP-adress och ingen klocktid, bara datumet.",
                     "Answering is anonymous: no name, address, IP address or time of day is "
                     "stored with the answer, only the date."},
};

static const char *ltxt(json_t *t, enum lang lang)
{
	const char *s = json_string_value(json_object_get(t, lang_code(lang)));
	return s ? s : json_string_value(json_object_get(t, "fi"));
}

/* The frame of the survey and event pages (http.h). */
void public_page_open(struct buf *b, enum lang lang, const char *title)
{
	buf_appendf(b,
	            "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	            "<meta name=\"referrer\" content=\"no-referrer\">\n<title>",
	            lang_code(lang));
	html_text(b, title);
	buf_puts(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/survey.css\">\n</head>\n"
	            "<body>\n<nav class=\"langs\" aria-label=\"");
	html_attr(b, nmsg(NM_LANGUAGE, lang));
	buf_puts(b, "\"><a href=\"?lang=fi\" hreflang=\"fi\" lang=\"fi\">Suomeksi</a>"
	            "<a href=\"?lang=sv\" hreflang=\"sv\" lang=\"sv\">På svenska</a>"
	            "<a href=\"?lang=en\" hreflang=\"en\" lang=\"en\">In English</a></nav>\n");
}

void public_page_close(struct req *r, unsigned status, enum lang lang, struct buf *b)
{
	buf_puts(b, "</body>\n</html>\n");
	reply_html(r, status, b);
	if (r->resp) {
		MHD_add_response_header(r->resp, "Content-Language", lang_code(lang));
		MHD_add_response_header(r->resp, "Cache-Control", "no-store");
	}
}

static void error_page(struct req *r, unsigned status, enum lang lang, enum smsg title)
{
	struct buf b = BUF_INIT;
	public_page_open(&b, lang, smsgs[title][lang]);
	buf_puts(&b, "<main>\n<h1>");
	html_text(&b, smsgs[title][lang]);
	buf_puts(&b, "</h1>\n<p lang=\"en\">");
	html_text(&b, r->ctx.err->message[0] ? r->ctx.err->message : smsgs[title][lang]);
	buf_puts(&b, "</p>\n</main>\n");
	public_page_close(r, status, lang, &b);
}

static void reply_core_page(struct req *r, int rc, enum lang lang)
{
	error_page(r,
	           rc == KERR_NOTFOUND   ? 404
	           : rc == KERR_CONFLICT ? 409
	           : rc == KERR_INVALID  ? 400
	                                 : 500,
	           lang,
	           rc == KERR_NOTFOUND   ? SM_NOTFOUND
	           : rc == KERR_CONFLICT ? SM_CLOSED
	                                 : SM_ERROR);
}

/* The question `q` as form controls named "q.ID". */
static void question_html(struct buf *b, json_t *q, enum lang lang)
{
	const char *id = json_string_value(json_object_get(q, "id"));
	const char *kind = json_string_value(json_object_get(q, "kind"));
	bool required = json_is_true(json_object_get(q, "required"));
	size_t i;
	json_t *o;

	buf_puts(b, "<fieldset");
	if (!strcmp(kind, "rating"))
		buf_puts(b, " class=\"scale\"");
	buf_puts(b, "><legend>");
	html_text(b, ltxt(json_object_get(q, "text"), lang));
	if (required) {
		buf_puts(b, " (");
		html_text(b, smsgs[SM_REQUIRED][lang]);
		buf_puts(b, ")");
	}
	buf_puts(b, "</legend>\n");
	if (!strcmp(kind, "text")) {
		buf_puts(b, "<textarea name=\"q.");
		html_attr(b, id);
		buf_appendf(b, "\" rows=\"4\" maxlength=\"%lld\"%s></textarea>\n",
		            (long long)json_integer_value(json_object_get(q, "max_length")),
		            required ? " required" : "");
	} else if (!strcmp(kind, "rating")) {
		json_int_t lo = json_integer_value(json_object_get(q, "min"));
		json_int_t hi = json_integer_value(json_object_get(q, "max"));
		json_t *labels = json_object_get(q, "labels");
		const char *lmin = ltxt(json_object_get(labels, "min"), lang);
		const char *lmax = ltxt(json_object_get(labels, "max"), lang);
		if (lmin || lmax) {
			buf_puts(b, "<p class=\"hint\">");
			buf_appendf(b, "%lld = ", (long long)lo);
			html_text(b, lmin ? lmin : "");
			buf_appendf(b, ", %lld = ", (long long)hi);
			html_text(b, lmax ? lmax : "");
			buf_puts(b, "</p>\n");
		}
		for (json_int_t v = lo; v <= hi; v++) {
			buf_puts(b, "<label><input type=\"radio\" name=\"q.");
			html_attr(b, id);
			buf_appendf(b, "\" value=\"%lld\"%s> %lld</label>\n", (long long)v,
			            required ? " required" : "", (long long)v);
		}
	} else {
		bool multi = !strcmp(kind, "multiple");
		json_array_foreach (json_object_get(q, "options"), i, o) {
			buf_appendf(b, "<label><input type=\"%s\" name=\"q.",
			            multi ? "checkbox" : "radio");
			html_attr(b, id);
			buf_puts(b, "\" value=\"");
			html_attr(b, json_string_value(json_object_get(o, "id")));
			buf_appendf(b, "\"%s> ", required && !multi ? " required" : "");
			html_text(b, ltxt(json_object_get(o, "text"), lang));
			buf_puts(b, "</label>\n");
		}
	}
	buf_puts(b, "</fieldset>\n");
}

static void survey_form(struct req *r, json_t *s, enum lang lang, unsigned status)
{
	json_t *def = json_object_get(s, "definition"), *q;
	const char *title = ltxt(json_object_get(def, "title"), lang);
	const char *intro = ltxt(json_object_get(def, "intro"), lang);
	struct buf b = BUF_INIT;
	size_t i;

	public_page_open(&b, lang, title);
	buf_puts(&b, "<main>\n<h1>");
	html_text(&b, title);
	buf_puts(&b, "</h1>\n");
	if (intro) {
		buf_puts(&b, "<p>");
		html_text(&b, intro);
		buf_puts(&b, "</p>\n");
	}
	buf_puts(&b, "<p class=\"hint\">");
	html_text(&b, smsgs[SM_ANON][lang]);
	buf_puts(&b, "</p>\n");
	if (status != 200) {
		buf_puts(&b, "<p class=\"error\" role=\"alert\">");
		html_text(&b, smsgs[SM_ERROR][lang]);
		buf_puts(&b, ": <span lang=\"en\">");
		html_text(&b, r->ctx.err->message);
		buf_puts(&b, "</span></p>\n");
	}
	buf_appendf(&b, "<form method=\"post\" action=\"/p/surveys/%lld?lang=%s\">\n",
	            (long long)r->id, lang_code(lang));
	json_array_foreach (json_object_get(def, "questions"), i, q)
		question_html(&b, q, lang);
	buf_puts(&b, "<button type=\"submit\">");
	html_text(&b, smsgs[SM_SEND][lang]);
	buf_puts(&b, "</button>\n</form>\n</main>\n");
	public_page_close(r, status, lang, &b);
}

/* Loads survey {id} for the public; replies with an error page and returns NULL when there
 * is none or it is closed. */
static json_t *load_or_reply(struct req *r, enum lang lang)
{
	json_t *s = NULL;
	if (!req_store_or_reply(r))
		return NULL;
	int rc = survey_get(&r->ctx, NULL, r->id, &s);
	if (rc) {
		reply_core_page(r, rc, lang);
		return NULL;
	}
	if (strcmp(json_string_value(json_object_get(s, "state")), "open") != 0) {
		json_decref(s);
		kerr_set(r->ctx.err, KERR_CONFLICT, NULL,
		         "this survey is closed: a newer version replaced it");
		reply_core_page(r, KERR_CONFLICT, lang);
		return NULL;
	}
	return s;
}

void page_survey_css(struct req *r)
{
	reply_text(r, 200, "text/css; charset=utf-8", survey_css, sizeof(survey_css) - 1);
}

void page_survey(struct req *r)
{
	enum lang lang = req_lang(r);
	json_t *s = load_or_reply(r, lang);
	if (!s)
		return;
	survey_form(r, s, lang, 200);
	json_decref(s);
}

/* ------------------------------------------------------------------------------------------
 * Form posts
 */

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* Decodes application/x-www-form-urlencoded text [s, s+n) into the arena; NULL when it is
 * not valid percent-encoded UTF-8. */
static char *form_decode(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
				return NULL;
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (strlen(out) != o || !utf8_valid(out, o))
		return NULL;
	return out;
}

/* Calls fn(name, value) for each field of the posted form; returns -1 on a malformed body. */
static int form_each(struct req *r, int (*fn)(void *arg, const char *k, const char *v), void *arg)
{
	const char *p = r->body.p ? r->body.p : "", *end = p + r->body.len;
	int count = 0;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (e > p) {
			if (!eq || ++count > MAX_FORM_FIELDS)
				return -1;
			char *k = form_decode(&r->mem, p, (size_t)(eq - p));
			char *v = form_decode(&r->mem, eq + 1, (size_t)(e - eq - 1));
			if (!k || !v || fn(arg, k, v))
				return -1;
		}
		p = e + 1;
	}
	return 0;
}

struct answer_form {
	json_t *def, *answers;
};

static int answer_field(void *arg, const char *k, const char *v)
{
	struct answer_form *f = arg;
	size_t i;
	json_t *q;
	if (strncmp(k, "q.", 2) != 0)
		return -1;
	json_array_foreach (json_object_get(f->def, "questions"), i, q) {
		if (strcmp(json_string_value(json_object_get(q, "id")), k + 2) != 0)
			continue;
		const char *kind = json_string_value(json_object_get(q, "kind"));
		if (!*v)
			return 0;
		if (!strcmp(kind, "rating")) {
			long long n;
			json_object_set_new(f->answers, k + 2,
			                    int_valid(v, &n, NULL) ? json_integer(n)
			                                           : json_string(v));
		} else if (!strcmp(kind, "multiple")) {
			json_t *a = json_object_get(f->answers, k + 2);
			if (!a) {
				a = json_array();
				json_object_set_new(f->answers, k + 2, a);
			}
			json_array_append_new(a, json_string(v));
		} else {
			json_object_set_new(f->answers, k + 2, json_string(v));
		}
		return 0;
	}
	/* An unknown question: core names it. */
	json_object_set_new(f->answers, k + 2, json_string(v));
	return 0;
}

/* Takes the client address out of the context (F-01: core never sees it) and asks the
 * in-memory limiter; replies 429 and returns NULL when the client must wait. */
static const char *limit_or_reply(struct req *r, enum lang lang)
{
	const char *addr = r->client ? r->client : "";
	r->ctx.client = NULL;
	int64_t wait = survey_limit_check(addr, (int64_t)time(NULL));
	if (wait) {
		kerr_set(r->ctx.err, KERR_THROTTLED, NULL,
		         "too many answers from this address: try again in %lld seconds",
		         (long long)wait);
		r->retry_after = wait;
		error_page(r, 429, lang, SM_ERROR);
		return NULL;
	}
	return addr;
}

static bool form_body_or_reply(struct req *r, enum lang lang)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	if (r->too_large) {
		kerr_set(r->ctx.err, KERR_TOOLARGE, NULL, "the form is too large");
		error_page(r, 413, lang, SM_ERROR);
		return false;
	}
	if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		kerr_set(r->ctx.err, KERR_INVALID, NULL,
		         "the answer is sent as a form (application/x-www-form-urlencoded)");
		error_page(r, 415, lang, SM_ERROR);
		return false;
	}
	return true;
}

void page_survey_answer(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *addr = limit_or_reply(r, lang);
	if (!addr)
		return;
	json_t *s = load_or_reply(r, lang);
	if (!s)
		return;
	if (!form_body_or_reply(r, lang)) {
		json_decref(s);
		return;
	}
	struct answer_form f = {json_object_get(s, "definition"), json_object()};
	int rc = form_each(r, answer_field, &f)
	                 ? kerr_set(r->ctx.err, KERR_INVALID, NULL, "the form is malformed")
	                 : survey_answer(&r->ctx, r->id, f.answers);
	json_decref(f.answers);
	if (!rc)
		survey_limit_count(addr, (int64_t)time(NULL));
	if (rc == KERR_INVALID) {
		survey_form(r, s, lang, 400);
		json_decref(s);
		return;
	}
	if (rc) {
		json_decref(s);
		reply_core_page(r, rc, lang);
		return;
	}
	struct buf b = BUF_INIT;
	public_page_open(&b, lang, smsgs[SM_THANKS][lang]);
	buf_puts(&b, "<main>\n<h1>");
	html_text(&b, smsgs[SM_THANKS][lang]);
	buf_puts(&b, "</h1>\n<p>");
	html_text(&b, smsgs[SM_THANKS_TEXT][lang]);
	buf_puts(&b, "</p>\n");
	if (json_is_true(json_object_get(s, "raffle")) && !json_object_get(s, "raffle_drawn")) {
		/* The raffle form carries nothing of the answer: no hidden field, no token. */
		buf_puts(&b, "<h2>");
		html_text(&b, smsgs[SM_RAFFLE][lang]);
		buf_puts(&b, "</h2>\n<p>");
		html_text(&b, smsgs[SM_RAFFLE_TEXT][lang]);
		buf_appendf(
		        &b,
		        "</p>\n<form method=\"post\" action=\"/p/surveys/%lld/raffle?lang=%s\">\n"
		        "<label>",
		        (long long)r->id, lang_code(lang));
		html_text(&b, smsgs[SM_CONTACT][lang]);
		buf_puts(&b, " <input type=\"text\" name=\"contact\" required maxlength=\"254\" "
		             "autocomplete=\"email\"></label>\n<button type=\"submit\">");
		html_text(&b, smsgs[SM_ENTER][lang]);
		buf_puts(&b, "</button>\n</form>\n");
	}
	buf_puts(&b, "</main>\n");
	json_decref(s);
	public_page_close(r, 200, lang, &b);
}

static int contact_field(void *arg, const char *k, const char *v)
{
	if (strcmp(k, "contact") != 0)
		return -1;
	*(const char **)arg = v;
	return 0;
}

void page_survey_raffle(struct req *r)
{
	enum lang lang = req_lang(r);
	const char *contact = NULL;
	const char *addr = limit_or_reply(r, lang);
	if (!addr)
		return;
	json_t *s = load_or_reply(r, lang);
	if (!s)
		return;
	json_decref(s);
	if (!form_body_or_reply(r, lang))
		return;
	int rc = form_each(r, contact_field, &contact)
	                 ? kerr_set(r->ctx.err, KERR_INVALID, "contact", "the form is malformed")
	                 : survey_enter(&r->ctx, r->id, contact);
	if (rc) {
		reply_core_page(r, rc, lang);
		return;
	}
	survey_limit_count(addr, (int64_t)time(NULL));
	struct buf b = BUF_INIT;
	public_page_open(&b, lang, smsgs[SM_RAFFLE][lang]);
	buf_puts(&b, "<main>\n<h1>");
	html_text(&b, smsgs[SM_RAFFLE][lang]);
	buf_puts(&b, "</h1>\n<p>");
	html_text(&b, smsgs[SM_ENTERED][lang]);
	buf_puts(&b, "</p>\n</main>\n");
	public_page_close(r, 200, lang, &b);
}
