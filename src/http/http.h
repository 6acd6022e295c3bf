/*
 * Shared state of one HTTP request and the helpers handlers use. A handler reads validated
 * path parameters from the request, calls one core function with req->ctx, and answers with
 * reply_json() or reply_problem(); it never touches the store or formats HTML by hand.
 */
#ifndef KORTISTO_HTTP_H
#define KORTISTO_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/account.h"
#include "core/ctx.h"
#include "decl/decl.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/html.h"
#include "util/kerr.h"

struct route;
struct server;
struct usage_entry;

struct req {
	struct MHD_Connection *conn;
	const char *method, *url;
	const struct route *route;
	struct buf body;
	bool too_large;
	struct arena mem;
	struct kerr err;
	struct actor actor;
	struct kctx ctx;
	const char *rid; /* {rid} of the path */
	int64_t id;      /* {id} of the path */
	int64_t sid;     /* {sid} of the path: a session of event {id} */
	int64_t pid;     /* {person_id} of the path: a person of register {rid} */
	const char *tok; /* {tok} of the path: a signed link token */
	bool signed_in;  /* `who` is valid */
	struct principal who;
	enum role role;     /* who's role on {rid} */
	const char *token;  /* the session or bearer token the request came with */
	const char *client; /* client address */
	char request_id[24];
	/* reads to log before the response may leave (usage_read through the sink) */
	struct usage_entry *reads;
	size_t nreads, reads_cap;
	bool log_pending; /* suspended until the log writer made the reads durable */
	int log_rc;
	const char *set_cookie;   /* Set-Cookie header value for the response, or NULL */
	const char *problem_type; /* slug of /problems/… when not the one of the error code */
	int64_t retry_after;      /* seconds, for a Retry-After header (429) */
	bool dispatched;
	struct server *srv;
	struct MHD_Response *resp;
	unsigned status;
};

typedef void (*handler_fn)(struct req *r);

/* Who may call a route. */
enum access {
	AC_PUBLIC,   /* anyone, without signing in */
	AC_ACCOUNT,  /* any signed-in user, also a session that must first change its password
	              * or enrol a second factor: the user's own account */
	AC_SESSION,  /* as AC_ACCOUNT, but only with a session, never an API token: changing
	              * one's credentials, accepting the commitment, signing out */
	AC_USER,     /* any signed-in user */
	AC_ADMIN,    /* an admin */
	AC_REGISTER, /* a role of at least `role` on {rid}; with `admin_ok` an admin too */
};

struct route {
	const char *method;
	const char *pattern; /* segments; {rid} and {id} capture */
	handler_fn handler;
	enum access access;
	enum role role;      /* AC_REGISTER: least role on {rid} */
	bool admin_ok;       /* AC_REGISTER: an admin may call it without a role */
	const char *purpose; /* declared purpose served, or NULL for the register's own use */
	bool personal;       /* touches personal data: commitment, declaration check, usage log */
};

extern const struct route routes[];
extern const size_t nroutes;

/* Finds the route for method + path; fills req->rid/id. Returns NULL and sets *status to
 * 404 (no such path) or 405 (path exists, method does not). */
const struct route *router_match(struct req *r, const char *method, const char *path,
                                 unsigned *status, const char **allow);

/* Responses. Each sets req->resp and req->status; the first one wins. */
void reply_json(struct req *r, unsigned status, json_t *body); /* steals body */
void reply_problem(struct req *r);                             /* from r->err */
void reply_status(struct req *r, unsigned status, const char *detail);
void reply_html(struct req *r, unsigned status, struct buf *html); /* takes the buffer */
void reply_buf(struct req *r, unsigned status, const char *type, struct buf *b); /* takes it */
void reply_text(struct req *r, unsigned status, const char *type, const char *body, size_t len);

/* Whether the server serves TLS itself. */
bool server_tls(const struct server *srv);

/* Whether cookies carry Secure (the secure_cookie setting; true without a server). */
bool server_cookie_secure(const struct server *srv);

/* Sets the session cookie on the response (max_age 0: removes it). */
void reply_session_cookie(struct req *r, const char *token, int64_t max_age);

/* The request body as a JSON object/array; on failure replies 400 and returns NULL. */
json_t *req_json_or_reply(struct req *r);

/* Gives a public route, which starts without one, this thread's store connection; replies
 * with the problem and returns false when there is none. */
bool req_store_or_reply(struct req *r);

/* Query-string argument or NULL. */
const char *req_arg(struct req *r, const char *name);

/* Bounded integer query argument (default when absent); replies 400 and returns false when
 * present and not an integer in [min, max]. */
bool req_int_arg_or_reply(struct req *r, const char *name, long long def, long long min,
                          long long max, long long *out);

/* The value of form field `name` of an application/x-www-form-urlencoded body (the first
 * one), decoded into r->mem; NULL when absent or holding an encoded NUL. (page_me.c) */
const char *req_form_arg(struct req *r, const char *name);

/* Every value of form field `name` (a group of checkboxes), in the order of the body, as an
 * array of *n values in r->mem (NULL when *n is 0); a value that is not text of at most 200
 * bytes (util/form.h: form_values) is NULL in the array. (page_me.c) */
const char **req_form_args(struct req *r, const char *name, size_t *n);

/* The language of a public page: ?lang=, else Accept-Language, else Finnish. (page_me.c) */
enum lang req_lang(struct req *r);

/* The frame of a public HTML page: head with the notice style sheet, the language links, the
 * <h1> `title` and <main>; page_frame_close ends it and replies with `status`. */
void page_frame_open(struct buf *b, enum lang lang, const char *title);
void page_frame_close(struct req *r, unsigned status, struct buf *b, enum lang lang);

/* The frame of the survey and event pages (their own style sheet, language links, no
 * caching): public_page_open writes the head and the language links; public_page_close ends
 * the page and replies with `status` and Content-Language. (page_survey.c) */
void public_page_open(struct buf *b, enum lang lang, const char *title);
void public_page_close(struct req *r, unsigned status, enum lang lang, struct buf *b);

/* Replies with the outcome of a core call: 200/201 + `body` on rc 0, else the problem. */
void reply_core(struct req *r, int rc, unsigned ok_status, json_t *body);

/* The server's background sender of mailings (http/sendq.h). */
struct sendq *server_sendq(const struct server *srv);

/* Handlers, one group per file. */
/* api_account.c: sign-in, the signed-in user, grants */
void api_session_create(struct req *r);       /* POST /api/v1/session */
void api_session_delete(struct req *r);       /* DELETE /api/v1/session */
void api_me(struct req *r);                   /* GET /api/v1/me */
void api_me_password(struct req *r);          /* PUT /api/v1/me/password */
void api_me_totp_begin(struct req *r);        /* POST /api/v1/me/totp */
void api_me_totp_confirm(struct req *r);      /* POST /api/v1/me/totp/confirm */
void api_me_commitment_get(struct req *r);    /* GET /api/v1/me/commitment */
void api_me_commitment_accept(struct req *r); /* POST /api/v1/me/commitment */
void api_grants_list(struct req *r);          /* GET REG/grants */
void api_grant_put(struct req *r);            /* POST REG/grants */
void api_grant_delete(struct req *r);         /* DELETE REG/grants/{id} ({id} = user id) */
/* api_audit.c: the usage log and disclosures */
void api_audit_list(struct req *r);        /* GET REG/audit */
void api_disclosure_create(struct req *r); /* POST REG/disclosures */
void api_disclosure_list(struct req *r);   /* GET REG/disclosures */
/* api_retention.c: the retention plan and legal holds */
void api_retention_plan(struct req *r);    /* GET REG/retention */
void api_retention_hold(struct req *r);    /* POST REG/persons/{id}/hold */
void api_retention_release(struct req *r); /* DELETE REG/persons/{id}/hold */
/* api_service.c: advisory and customer-service records, service statistics */
void api_service_create(struct req *r);   /* POST REG/persons/{id}/records */
void api_service_list(struct req *r);     /* GET REG/persons/{id}/records */
void api_service_org_list(struct req *r); /* GET REG/organisations/{id}/records */
void api_service_get(struct req *r);      /* GET REG/records/{id} */
void api_service_ics(struct req *r);      /* GET REG/records/{id}.ics */
void api_appts_ics(struct req *r);        /* GET REG/persons/{id}/appointments.ics */
void api_service_update(struct req *r);   /* PATCH REG/records/{id} */
void api_service_delete(struct req *r);   /* DELETE REG/records/{id} */
void api_service_stats(struct req *r);    /* GET REG/stats/services */

/* api_request.c: data-subject requests */
void api_request_create(struct req *r);   /* POST REG/requests */
void api_request_list(struct req *r);     /* GET REG/requests */
void api_request_get(struct req *r);      /* GET REG/requests/{id} */
void api_request_verify(struct req *r);   /* POST REG/requests/{id}/verify */
void api_request_start(struct req *r);    /* POST REG/requests/{id}/start */
void api_request_extend(struct req *r);   /* POST REG/requests/{id}/extend */
void api_request_assess(struct req *r);   /* POST REG/requests/{id}/assess */
void api_request_refuse(struct req *r);   /* POST REG/requests/{id}/refuse */
void api_request_withdraw(struct req *r); /* POST REG/requests/{id}/withdraw */
void api_request_fulfil(struct req *r);   /* POST REG/requests/{id}/fulfil */
void api_request_export(struct req *r);   /* GET REG/requests/{id}/export */
void api_request_lift(struct req *r);     /* POST REG/requests/{id}/lift */

/* api_survey.c: feedback surveys (staff) and answering them (public) */
void api_survey_list(struct req *r);          /* GET REG/surveys */
void api_survey_load(struct req *r);          /* POST REG/surveys */
void api_survey_get(struct req *r);           /* GET REG/surveys/{id} */
void api_survey_stats(struct req *r);         /* GET REG/surveys/{id}/stats */
void api_survey_draw(struct req *r);          /* POST REG/surveys/{id}/draw */
void api_survey_told(struct req *r);          /* POST REG/surveys/{id}/notified */
void api_public_survey_get(struct req *r);    /* GET /api/v1/surveys/{id} */
void api_public_survey_answer(struct req *r); /* POST /api/v1/surveys/{id}/answers */
void api_public_survey_enter(struct req *r);  /* POST /api/v1/surveys/{id}/raffle */
/* api_marketing.c: consents and mailings */
void api_consent_list(struct req *r);     /* GET REG/persons/{id}/consents */
void api_consent_give(struct req *r);     /* POST REG/persons/{id}/consents */
void api_consent_get(struct req *r);      /* GET REG/consents/{id} */
void api_consent_withdraw(struct req *r); /* POST REG/consents/{id}/withdraw */
void api_mailing_create(struct req *r);   /* POST REG/mailings */
void api_mailing_list(struct req *r);     /* GET REG/mailings */
void api_mailing_get(struct req *r);      /* GET REG/mailings/{id} */
void api_mailing_preview(struct req *r);  /* GET REG/mailings/{id}/preview */
void api_mailing_send(struct req *r);     /* POST REG/mailings/{id}/send */
void api_mailing_rcpt(struct req *r);     /* GET REG/mailings/{id}/recipients */
/* page_marketing.c: the public links of mail */
void page_unsubscribe(struct req *r);    /* GET /p/unsubscribe/{tok} */
void page_unsubscribe_do(struct req *r); /* POST /p/unsubscribe/{tok} */
void page_open_pixel(struct req *r);     /* GET /p/o/{tok}.gif */
void page_confirm(struct req *r);        /* GET /p/confirm/{tok} */
void page_confirm_do(struct req *r);     /* POST /p/confirm/{tok} */
void page_subscribe(struct req *r);      /* GET /p/subscribe/{tok} */
void page_subscribe_do(struct req *r);   /* POST /p/subscribe/{tok} */
void api_list_create(struct req *r);     /* POST REG/lists */
void api_list_list(struct req *r);       /* GET REG/lists */
/* api_event.c: events (staff) */
void api_event_create(struct req *r);       /* POST REG/events */
void api_event_list(struct req *r);         /* GET REG/events */
void api_event_get(struct req *r);          /* GET REG/events/{id} */
void api_event_participants(struct req *r); /* GET REG/events/{id}/participants */
void api_event_ics(struct req *r);          /* GET REG/events/{id}.ics */
void api_event_session(struct req *r);      /* POST REG/events/{id}/sessions */
void api_event_reg(struct req *r);          /* POST REG/events/{id}/registrations */
void api_event_attend(struct req *r);       /* POST REG/events/{id}/attendance */
void api_event_meeting(struct req *r);      /* POST REG/events/{id}/meetings */
void api_event_share(struct req *r);        /* POST REG/events/{id}/share */
void api_chat(struct req *r);               /* POST REG/events/{id}/sessions/{sid}/chat */
void api_event_cancel(struct req *r);       /* DELETE REG/events/{id}/registrations/{person_id} */
/* page_event.c: the public registration page of an event */
void page_event(struct req *r);          /* GET /p/events/{id} */
void page_event_register(struct req *r); /* POST /p/events/{id} */
void page_event_ics(struct req *r);      /* GET /p/events/{id}.ics */

void api_health(struct req *r);
void api_registers(struct req *r);
void api_register_get(struct req *r);
void api_register_versions(struct req *r);
void api_person_create(struct req *r);
void api_person_find(struct req *r);
void api_person_get(struct req *r);
void api_person_update(struct req *r);
void api_person_delete(struct req *r);
void api_org_create(struct req *r);
void api_org_find(struct req *r);
void api_org_get(struct req *r);
void api_org_update(struct req *r);
void api_org_delete(struct req *r);
void api_affiliation_create(struct req *r);
void api_affiliation_find(struct req *r);
void api_affiliation_get(struct req *r);
void api_affiliation_update(struct req *r);
void api_affiliation_delete(struct req *r);
void api_openapi(struct req *r);
void page_index(struct req *r);
void page_css(struct req *r);
/* page_notice.c: public notices */
void page_registers(struct req *r);  /* GET /p/registers */
void page_notice(struct req *r);     /* GET /p/registers/{rid}/notice */
void page_notice_css(struct req *r); /* GET /static/notice.css */
/* page_survey.c: the public answer page of a survey */
void page_survey(struct req *r);        /* GET /p/surveys/{id} */
void page_survey_answer(struct req *r); /* POST /p/surveys/{id} */
void page_survey_raffle(struct req *r); /* POST /p/surveys/{id}/raffle */
void page_survey_css(struct req *r);    /* GET /static/survey.css */
/* page_me.c: self-service of data subjects (core/selfservice.h) */
void page_me(struct req *r);         /* GET /p/me: the form asking for a link */
void page_me_ask(struct req *r);     /* POST /p/me: mails a link when the address is known */
void page_me_link(struct req *r);    /* GET /p/me/link?t=: a button that opens the link */
void page_me_open(struct req *r);    /* POST /p/me/link: opens it, starts the session */
void page_me_session(struct req *r); /* GET /p/me/session: registers, downloads, requests */
void page_me_export(struct req *r);  /* GET /p/me/export?register=&format= */
void page_me_request(struct req *r); /* POST /p/me/requests: files a request */
void page_me_signout(struct req *r); /* POST /p/me/signout */
/* page_directory.c: the public company directory (core/directory.h) */
void page_directory(struct req *r);              /* GET /p/directory */
void api_directory(struct req *r);               /* GET /api/v1/directory */
void api_directory_listing_get(struct req *r);   /* GET REG/organisations/{id}/listing */
void api_directory_listing_set(struct req *r);   /* PATCH REG/organisations/{id}/listing */
void page_directory_edit(struct req *r);         /* GET /p/directory/edit */
void page_directory_ask(struct req *r);          /* POST /p/directory/edit */
void page_directory_link(struct req *r);         /* GET /p/directory/edit/link?t= */
void page_directory_open(struct req *r);         /* POST /p/directory/edit/link */
void page_directory_listing(struct req *r);      /* GET /p/directory/edit/listing */
void page_directory_listing_save(struct req *r); /* POST /p/directory/edit/listing */

struct kapp;

/* Runs the server on `listen` (ADDR:PORT) until SIGINT or SIGTERM. Returns 0 or KERR_*. */
int server_run(struct kapp *app, const char *listen, struct kerr *err);

#endif
