/*
 * The route table: every URL kortisto answers, with the role and purpose it needs and
 * whether it touches personal data. Authorisation and usage-log tests iterate this table,
 * so a route cannot be added without them seeing it.
 */
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "util/validate.h"

#define REG "/api/v1/registers/{rid}"

/* Shorthands: public, own account (SESSION: not with a token), any user, admin, and a role
 * on {rid}. */
#define PUB               AC_PUBLIC, ROLE_NONE, false
#define ACCOUNT           AC_ACCOUNT, ROLE_NONE, false
#define SESSION           AC_SESSION, ROLE_NONE, false
#define USER              AC_USER, ROLE_NONE, false
#define ADMIN             AC_ADMIN, ROLE_NONE, false
#define ON(role)          AC_REGISTER, role, false
#define ON_OR_ADMIN(role) AC_REGISTER, role, true

const struct route routes[] = {
        {"GET", "/", page_index, PUB, NULL, false},
        {"GET", "/static/kortisto.css", page_css, PUB, NULL, false},
        {"GET", "/static/notice.css", page_notice_css, PUB, NULL, false},
        {"GET", "/p/registers", page_registers, PUB, NULL, false},
        {"GET", "/p/registers/{rid}/notice", page_notice, PUB, NULL, false},
        {"GET", "/static/survey.css", page_survey_css, PUB, NULL, false},
        {"GET", "/p/surveys/{id}", page_survey, PUB, NULL, false},
        {"POST", "/p/surveys/{id}", page_survey_answer, PUB, NULL, false},
        {"POST", "/p/surveys/{id}/raffle", page_survey_raffle, PUB, NULL, false},
        {"GET", "/api/v1/surveys/{id}", api_public_survey_get, PUB, NULL, false},
        {"POST", "/api/v1/surveys/{id}/answers", api_public_survey_answer, PUB, NULL, false},
        {"POST", "/api/v1/surveys/{id}/raffle", api_public_survey_enter, PUB, NULL, false},
        {"GET", "/p/me", page_me, PUB, NULL, false},
        {"POST", "/p/me", page_me_ask, PUB, NULL, true},
        {"GET", "/p/me/link", page_me_link, PUB, NULL, false},
        {"POST", "/p/me/link", page_me_open, PUB, NULL, true},
        {"GET", "/p/me/session", page_me_session, PUB, NULL, true},
        {"GET", "/p/me/export", page_me_export, PUB, NULL, true},
        {"POST", "/p/me/requests", page_me_request, PUB, NULL, true},
        {"POST", "/p/me/signout", page_me_signout, PUB, NULL, false},
        {"GET", "/p/directory", page_directory, PUB, NULL, false},
        {"GET", "/api/v1/directory", api_directory, PUB, NULL, false},
        {"GET", "/p/directory/edit", page_directory_edit, PUB, NULL, false},
        {"POST", "/p/directory/edit", page_directory_ask, PUB, NULL, false},
        {"GET", "/p/directory/edit/link", page_directory_link, PUB, NULL, false},
        {"POST", "/p/directory/edit/link", page_directory_open, PUB, NULL, false},
        {"GET", "/p/directory/edit/listing", page_directory_listing, PUB, NULL, false},
        {"POST", "/p/directory/edit/listing", page_directory_listing_save, PUB, NULL, false},
        {"GET", "/healthz", api_health, PUB, NULL, false},
        {"GET", "/api/v1/openapi.yaml", api_openapi, PUB, NULL, false},
        {"POST", "/api/v1/session", api_session_create, PUB, NULL, false},
        {"DELETE", "/api/v1/session", api_session_delete, SESSION, NULL, false},
        {"GET", "/api/v1/me", api_me, ACCOUNT, NULL, false},
        {"PUT", "/api/v1/me/password", api_me_password, SESSION, NULL, false},
        {"POST", "/api/v1/me/totp", api_me_totp_begin, SESSION, NULL, false},
        {"POST", "/api/v1/me/totp/confirm", api_me_totp_confirm, SESSION, NULL, false},
        {"GET", "/api/v1/me/commitment", api_me_commitment_get, ACCOUNT, NULL, false},
        {"POST", "/api/v1/me/commitment", api_me_commitment_accept, SESSION, NULL, false},
        {"GET", "/api/v1/registers", api_registers, USER, NULL, false},
        {"GET", REG, api_register_get, USER, NULL, false},
        {"GET", REG "/versions", api_register_versions, USER, NULL, false},
        {"GET", REG "/grants", api_grants_list, ON_OR_ADMIN(ROLE_MANAGER), NULL, false},
        {"POST", REG "/grants", api_grant_put, ON_OR_ADMIN(ROLE_MANAGER), NULL, false},
        {"DELETE", REG "/grants/{id}", api_grant_delete, ON_OR_ADMIN(ROLE_MANAGER), NULL, false},
        {"GET", REG "/audit", api_audit_list, ON(ROLE_MANAGER), NULL, true},
        {"POST", REG "/disclosures", api_disclosure_create, ON(ROLE_MANAGER), NULL, true},
        {"GET", REG "/disclosures", api_disclosure_list, ON(ROLE_MANAGER), NULL, true},
        {"GET", REG "/retention", api_retention_plan, ON(ROLE_MANAGER), NULL, true},
        {"POST", REG "/persons/{id}/hold", api_retention_hold, ON(ROLE_MANAGER), NULL, true},
        {"DELETE", REG "/persons/{id}/hold", api_retention_release, ON(ROLE_MANAGER), NULL, true},
        {"POST", REG "/persons", api_person_create, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/persons", api_person_find, ON(ROLE_PROCESSOR), NULL, true},
        {"GET", REG "/persons/{id}", api_person_get, ON(ROLE_PROCESSOR), NULL, true},
        {"PATCH", REG "/persons/{id}", api_person_update, ON(ROLE_EDITOR), NULL, true},
        {"DELETE", REG "/persons/{id}", api_person_delete, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/persons/{id}/records", api_service_create, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/persons/{id}/records", api_service_list, ON(ROLE_VIEWER), NULL, true},
        {"GET", REG "/organisations/{id}/records", api_service_org_list, ON(ROLE_VIEWER), NULL,
         true},
        {"GET", REG "/persons/{id}/appointments.ics", api_appts_ics, ON(ROLE_VIEWER), NULL, true},
        {"GET", REG "/records/{id}", api_service_get, ON(ROLE_VIEWER), NULL, true},
        {"GET", REG "/records/{id}.ics", api_service_ics, ON(ROLE_VIEWER), NULL, true},
        {"PATCH", REG "/records/{id}", api_service_update, ON(ROLE_EDITOR), NULL, true},
        {"DELETE", REG "/records/{id}", api_service_delete, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/stats/services", api_service_stats, ON(ROLE_VIEWER), NULL, false},
        {"POST", REG "/organisations", api_org_create, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/organisations", api_org_find, ON(ROLE_PROCESSOR), NULL, true},
        {"GET", REG "/organisations/{id}", api_org_get, ON(ROLE_PROCESSOR), NULL, true},
        {"PATCH", REG "/organisations/{id}", api_org_update, ON(ROLE_EDITOR), NULL, true},
        {"DELETE", REG "/organisations/{id}", api_org_delete, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/organisations/{id}/listing", api_directory_listing_get, ON(ROLE_EDITOR), NULL,
         true},
        {"PATCH", REG "/organisations/{id}/listing", api_directory_listing_set, ON(ROLE_EDITOR),
         NULL, true},
        {"POST", REG "/affiliations", api_affiliation_create, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/affiliations", api_affiliation_find, ON(ROLE_PROCESSOR), NULL, true},
        {"GET", REG "/affiliations/{id}", api_affiliation_get, ON(ROLE_PROCESSOR), NULL, true},
        {"PATCH", REG "/affiliations/{id}", api_affiliation_update, ON(ROLE_EDITOR), NULL, true},
        {"DELETE", REG "/affiliations/{id}", api_affiliation_delete, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/requests", api_request_create, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/requests", api_request_list, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/requests/{id}", api_request_get, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/requests/{id}/verify", api_request_verify, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/requests/{id}/start", api_request_start, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/requests/{id}/extend", api_request_extend, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/requests/{id}/assess", api_request_assess, ON(ROLE_MANAGER), NULL, true},
        {"POST", REG "/requests/{id}/fulfil", api_request_fulfil, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/requests/{id}/export", api_request_export, ON(ROLE_MANAGER), NULL, true},
        {"POST", REG "/requests/{id}/lift", api_request_lift, ON(ROLE_MANAGER), NULL, true},
        {"POST", REG "/requests/{id}/refuse", api_request_refuse, ON(ROLE_MANAGER), NULL, true},
        {"POST", REG "/requests/{id}/withdraw", api_request_withdraw, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/surveys", api_survey_list, ON(ROLE_VIEWER), NULL, false},
        {"POST", REG "/surveys", api_survey_load, ON(ROLE_EDITOR), NULL, false},
        {"GET", REG "/surveys/{id}", api_survey_get, ON(ROLE_VIEWER), NULL, false},
        {"GET", REG "/surveys/{id}/stats", api_survey_stats, ON(ROLE_VIEWER), NULL, false},
        {"POST", REG "/surveys/{id}/draw", api_survey_draw, ON(ROLE_MANAGER), "raffle", true},
        {"POST", REG "/surveys/{id}/notified", api_survey_told, ON(ROLE_MANAGER), "raffle", true},
        {"GET", REG "/persons/{id}/consents", api_consent_list, ON(ROLE_VIEWER), NULL, true},
        {"POST", REG "/persons/{id}/consents", api_consent_give, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/consents/{id}", api_consent_get, ON(ROLE_VIEWER), NULL, true},
        {"POST", REG "/consents/{id}/withdraw", api_consent_withdraw, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/mailings", api_mailing_create, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/mailings", api_mailing_list, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/mailings/{id}", api_mailing_get, ON(ROLE_EDITOR), NULL, true},
        {"GET", REG "/mailings/{id}/preview", api_mailing_preview, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/mailings/{id}/send", api_mailing_send, ON(ROLE_MANAGER), NULL, true},
        {"GET", REG "/mailings/{id}/recipients", api_mailing_rcpt, ON(ROLE_MANAGER), NULL, true},
        {"GET", "/p/unsubscribe/{tok}", page_unsubscribe, PUB, NULL, false},
        {"POST", "/p/unsubscribe/{tok}", page_unsubscribe_do, PUB, NULL, false},
        {"GET", "/p/o/{tok}.gif", page_open_pixel, PUB, NULL, false},
        {"GET", "/p/confirm/{tok}", page_confirm, PUB, NULL, false},
        {"POST", "/p/confirm/{tok}", page_confirm_do, PUB, NULL, false},
        {"GET", "/p/subscribe/{tok}", page_subscribe, PUB, NULL, false},
        {"POST", "/p/subscribe/{tok}", page_subscribe_do, PUB, NULL, false},
        {"POST", REG "/lists", api_list_create, ON(ROLE_MANAGER), NULL, false},
        {"GET", REG "/lists", api_list_list, ON(ROLE_EDITOR), NULL, false},
        {"POST", REG "/events", api_event_create, ON(ROLE_EDITOR), NULL, false},
        {"GET", REG "/events", api_event_list, ON(ROLE_VIEWER), NULL, false},
        {"GET", REG "/events/{id}", api_event_get, ON(ROLE_VIEWER), NULL, true},
        {"GET", REG "/events/{id}.ics", api_event_ics, ON(ROLE_VIEWER), NULL, false},
        {"GET", REG "/events/{id}/participants", api_event_participants, ON(ROLE_VIEWER), NULL,
         true},
        {"POST", REG "/events/{id}/sessions", api_event_session, ON(ROLE_EDITOR), NULL, false},
        {"POST", REG "/events/{id}/registrations", api_event_reg, ON(ROLE_EDITOR), NULL, true},
        {"DELETE", REG "/events/{id}/registrations/{person_id}", api_event_cancel, ON(ROLE_EDITOR),
         NULL, true},
        {"POST", REG "/events/{id}/attendance", api_event_attend, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/events/{id}/meetings", api_event_meeting, ON(ROLE_EDITOR), NULL, true},
        {"POST", REG "/events/{id}/share", api_event_share, ON(ROLE_MANAGER), NULL, true},
        {"POST", REG "/events/{id}/sessions/{sid}/chat", api_chat, ON(ROLE_EDITOR), NULL, true},
        {"GET", "/p/events/{id}", page_event, PUB, NULL, false},
        {"POST", "/p/events/{id}", page_event_register, PUB, NULL, false},
        {"GET", "/p/events/{id}.ics", page_event_ics, PUB, NULL, false},
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);

/* Matches one path against a pattern, capturing {rid}, {id}, {sid}, {person_id} and {tok} into
 * the request. A {tok} is a signed link token: base64url characters only, so a suffix such as
 * ".gif" after it in the pattern ends it; an {id}, {sid} or {person_id} is digits only, so
 * ".ics" after it ends it the same way. */
static bool match(struct req *r, const char *pattern, const char *path)
{
	const char *p = pattern, *s = path;
	const char *rid = NULL, *tok = NULL;
	size_t rid_len = 0, tok_len = 0;
	int64_t id = 0, sid = 0, pid = 0;

	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			size_t len = se ? (size_t)(se - s) : strlen(s);
			if (strncmp(p, "{tok}", 5) == 0) {
				len = strspn(s,
				             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				             "0123456789-_");
				if (len == 0 || len > 64)
					return false;
				tok = s;
				tok_len = len;
				p = pe + 1;
				s += len;
				continue;
			}
			if (strncmp(p, "{rid}", 5) != 0)
				len = strspn(s, "0123456789");
			if (len == 0 || len > 64)
				return false;
			if (strncmp(p, "{rid}", 5) == 0) {
				rid = s;
				rid_len = len;
			} else {
				int64_t v = 0;
				for (size_t i = 0; i < len; i++) {
					if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10)
						return false;
					v = v * 10 + (s[i] - '0');
				}
				if (v <= 0)
					return false;
				if (strncmp(p, "{sid}", 5) == 0)
					sid = v;
				else if (strncmp(p, "{person_id}", 11) == 0)
					pid = v;
				else
					id = v;
			}
			p = pe + 1;
			s += len;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*p || *s)
		return false;
	if (rid)
		r->rid = arena_strndup(&r->mem, rid, rid_len);
	if (tok)
		r->tok = arena_strndup(&r->mem, tok, tok_len);
	r->id = id;
	r->sid = sid;
	r->pid = pid;
	return true;
}

const struct route *router_match(struct req *r, const char *method, const char *path,
                                 unsigned *status, const char **allow)
{
	char methods[64] = "";
	size_t len = 0;
	/* HEAD is answered as GET; libmicrohttpd leaves the body out. */
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;

	*allow = NULL;
	for (size_t i = 0; i < nroutes; i++) {
		if (!match(r, routes[i].pattern, path))
			continue;
		if (strcmp(routes[i].method, want) == 0)
			return &routes[i];
		int n = snprintf(methods + len, sizeof(methods) - len, "%s%s", len ? ", " : "",
		                 routes[i].method);
		if (n > 0 && (size_t)n < sizeof(methods) - len)
			len += (size_t)n;
	}
	if (len) {
		*allow = arena_strdup(&r->mem, methods);
		*status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else {
		*status = MHD_HTTP_NOT_FOUND;
	}
	return NULL;
}
