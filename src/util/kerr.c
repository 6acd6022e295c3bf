/*
 * Error recording. The first error wins; its code maps to one HTTP status and title in the
 * table below, which the API's problem responses and the CLI's exit messages share.
 */
#include "util/kerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int code, status;
	const char *title;
} kerr_table[] = {
        {KERR_OK, 200, "OK"},
        {KERR_INVALID, 400, "Bad request"},
        {KERR_NOTFOUND, 404, "Not found"},
        {KERR_CONFLICT, 409, "Conflict"},
        {KERR_REFUSED, 422, "Refused by the register's declaration"},
        {KERR_FORBIDDEN, 403, "Forbidden"},
        {KERR_UNAUTH, 401, "Not signed in"},
        {KERR_TOOLARGE, 413, "Request too large"},
        {KERR_INTERNAL, 500, "Internal error"},
        {KERR_BUSY, 503, "Busy"},
        {KERR_THROTTLED, 429, "Too many attempts"},
};

int kerr_set(struct kerr *e, int code, const char *field, const char *fmt, ...)
{
	if (!e || e->code != 0)
		return code;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return code;
}

void kerr_clear(struct kerr *e)
{
	memset(e, 0, sizeof(*e));
}

int kerr_http_status(int code)
{
	for (size_t i = 0; i < sizeof(kerr_table) / sizeof(kerr_table[0]); i++)
		if (kerr_table[i].code == code)
			return kerr_table[i].status;
	return 500;
}

const char *kerr_title(int code)
{
	for (size_t i = 0; i < sizeof(kerr_table) / sizeof(kerr_table[0]); i++)
		if (kerr_table[i].code == code)
			return kerr_table[i].title;
	return "Internal error";
}
