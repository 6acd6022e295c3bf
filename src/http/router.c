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

const struct route routes[] = {
        {"GET", "/", page_index, ROLE_PUBLIC, NULL, false},
        {"GET", "/static/kortisto.css", page_css, ROLE_PUBLIC, NULL, false},
        {"GET", "/healthz", api_health, ROLE_PUBLIC, NULL, false},
        {"GET", "/api/v1/openapi.yaml", api_openapi, ROLE_PUBLIC, NULL, false},
        {"GET", "/api/v1/registers", api_registers, ROLE_VIEWER, NULL, false},
        {"GET", REG, api_register_get, ROLE_VIEWER, NULL, false},
        {"GET", REG "/versions", api_register_versions, ROLE_VIEWER, NULL, false},
        {"POST", REG "/persons", api_person_create, ROLE_EDITOR, NULL, true},
        {"GET", REG "/persons", api_person_find, ROLE_VIEWER, NULL, true},
        {"GET", REG "/persons/{id}", api_person_get, ROLE_VIEWER, NULL, true},
        {"PATCH", REG "/persons/{id}", api_person_update, ROLE_EDITOR, NULL, true},
        {"DELETE", REG "/persons/{id}", api_person_delete, ROLE_EDITOR, NULL, true},
        {"POST", REG "/organisations", api_org_create, ROLE_EDITOR, NULL, true},
        {"GET", REG "/organisations", api_org_find, ROLE_VIEWER, NULL, true},
        {"GET", REG "/organisations/{id}", api_org_get, ROLE_VIEWER, NULL, true},
        {"PATCH", REG "/organisations/{id}", api_org_update, ROLE_EDITOR, NULL, true},
        {"DELETE", REG "/organisations/{id}", api_org_delete, ROLE_EDITOR, NULL, true},
        {"POST", REG "/affiliations", api_affiliation_create, ROLE_EDITOR, NULL, true},
        {"GET", REG "/affiliations", api_affiliation_find, ROLE_VIEWER, NULL, true},
        {"GET", REG "/affiliations/{id}", api_affiliation_get, ROLE_VIEWER, NULL, true},
        {"PATCH", REG "/affiliations/{id}", api_affiliation_update, ROLE_EDITOR, NULL, true},
        {"DELETE", REG "/affiliations/{id}", api_affiliation_delete, ROLE_EDITOR, NULL, true},
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);

/* Matches one path against a pattern, capturing {rid} and {id} into the request. */
static bool match(struct req *r, const char *pattern, const char *path)
{
	const char *p = pattern, *s = path;
	const char *rid = NULL;
	size_t rid_len = 0;
	int64_t id = 0;

	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			size_t len = se ? (size_t)(se - s) : strlen(s);
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
	r->id = id;
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
