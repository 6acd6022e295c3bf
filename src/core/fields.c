/*
 * Declared-field validation shared by persons, organisations and imports. Each field type
 * has one validator from util/validate.c; this file turns their verdicts into errors that
 * name the field, and never echoes the rejected value (it may be personal data).
 */
#include "core/fields.h"

#include <string.h>

#include "core/ctx.h"
#include "decl/decl.h"
#include "util/arena.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"

static int bad(struct kctx *ctx, const char *path, const char *why)
{
	return kerr_set(ctx->err, KERR_INVALID, path, "%s: %s", path, why);
}

int field_check(struct kctx *ctx, const struct decl_field *f, json_t *v, const char *path,
                json_t **norm)
{
	const char *why = NULL;
	*norm = NULL;

	if (f->type == FT_INT) {
		if (!json_is_integer(v))
			return bad(ctx, path, "must be an integer");
		*norm = json_incref(v);
		return 0;
	}
	if (f->type == FT_BOOL) {
		if (!json_is_boolean(v))
			return bad(ctx, path, "must be true or false");
		*norm = json_incref(v);
		return 0;
	}
	if (!json_is_string(v))
		return bad(ctx, path, "must be a string");
	const char *raw = json_string_value(v);
	size_t len = json_string_length(v);
	if (strlen(raw) != len)
		return bad(ctx, path, "must not contain NUL characters");
	if (len > (f->type == FT_NOTE ? 65536u : 1024u))
		return bad(ctx, path, "is too long");
	/* Values are stored without surrounding blanks, whatever their type. */
	while (len && (*raw == ' ' || *raw == '\t' || *raw == '\n' || *raw == '\r')) {
		raw++;
		len--;
	}
	while (len && (raw[len - 1] == ' ' || raw[len - 1] == '\t' || raw[len - 1] == '\n' ||
	               raw[len - 1] == '\r'))
		len--;
	const char *s = arena_strndup(ctx->mem, raw, len);

	switch (f->type) {
	case FT_TEXT:
	case FT_NOTE: {
		if (len == 0)
			return bad(ctx, path, "must not be empty");
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			if (*p < 0x20 && !(f->type == FT_NOTE && (*p == '\n' || *p == '\t')))
				return bad(ctx, path, "must not contain control characters");
		*norm = json_string(s);
		return 0;
	}
	case FT_EMAIL: {
		char out[256];
		if (!email_valid(s, out, sizeof(out), &why))
			return bad(ctx, path, why ? why : "not a valid e-mail address");
		*norm = json_string(out);
		return 0;
	}
	case FT_PHONE: {
		char out[17];
		if (!phone_valid(s, out, &why))
			return bad(ctx, path, why ? why : "not a valid phone number");
		*norm = json_string(out);
		return 0;
	}
	case FT_HETU: {
		struct hetu h;
		if (!hetu_parse(s, &h, &why))
			return bad(ctx, path, why ? why : "not a valid henkilötunnus");
		if (days_from_civil(h.year, h.month, h.day) > ctx->now / 86400)
			return bad(ctx, path, "the birth date it gives is in the future");
		*norm = json_string(h.norm);
		return 0;
	}
	case FT_YTUNNUS: {
		char out[10];
		if (!ytunnus_valid(s, out, &why))
			return bad(ctx, path, why ? why : "not a valid Y-tunnus");
		*norm = json_string(out);
		return 0;
	}
	case FT_DATE: {
		int y, m, d;
		if (!date_valid(s, &y, &m, &d, &why))
			return bad(ctx, path, why ? why : "must be a date YYYY-MM-DD");
		*norm = json_string(s);
		return 0;
	}
	case FT_IP:
		if (!ip_valid(s, &why))
			return bad(ctx, path, why ? why : "not a valid IP address");
		*norm = json_string(s);
		return 0;
	case FT_URL:
		if (!url_valid(s, &why))
			return bad(ctx, path, why ? why : "not a valid http(s) URL");
		*norm = json_string(s);
		return 0;
	case FT_ENUM:
		for (size_t i = 0; i < f->values.n; i++)
			if (strcmp(f->values.v[i], s) == 0) {
				*norm = json_string(s);
				return 0;
			}
		return bad(ctx, path, "is not one of the declared values");
	default: return bad(ctx, path, "has an unsupported type");
	}
}

int field_declared(struct kctx *ctx, const struct decl *d, const char *rid, const char *id,
                   const char *group, const char *path, const struct decl_field **out)
{
	const struct decl_field *f = decl_field(d, id);
	*out = NULL;
	if (!f)
		return kerr_set(ctx->err, KERR_REFUSED, path,
		                "field '%s' is not declared by register '%s'", path, rid);
	if (group && !decl_category_applies(f->category, group))
		return kerr_set(
		        ctx->err, KERR_REFUSED, path,
		        "field '%s' is not declared for subject group '%s' in register '%s'", path,
		        group, rid);
	*out = f;
	return 0;
}

int check_ytunnus(struct kctx *ctx, const char *in, const char *path, char out[10])
{
	const char *why = NULL;
	if (!ytunnus_valid(in, out, &why))
		return bad(ctx, path, why ? why : "not a valid Y-tunnus");
	return 0;
}

int check_date(struct kctx *ctx, const char *in, const char *path)
{
	const char *why = NULL;
	int y, m, d;
	if (!date_valid(in, &y, &m, &d, &why))
		return bad(ctx, path, why ? why : "must be a date YYYY-MM-DD");
	return 0;
}
