/*
 * Register declarations: parses one YAML file of registers/ with libfyaml into decl.h's model
 * and checks it, reporting every problem. One key table per YAML map drives the walk, so
 * unknown, missing and mistyped keys are found alike at every level; cross references are
 * resolved after the walk; all the declaration's memory is one pool freed by decl_free().
 */
#include "decl/decl.h"

#include <libfyaml.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	DECL_MAX_INPUT = 1024 * 1024, /* bytes */
	DECL_MAX_NODES = 100000,      /* YAML nodes visited, aliases counted each time */
	DECL_MAX_DIAGS = 1000,        /* diagnostics kept per parse */
	DECL_MAX_ANCHORS = 256,       /* libfyaml resolves an alias by a linear anchor search */
	DECL_ID_MAX = 64,
	SHOW_MAX = 48, /* bytes of a value echoed in a message */
	POOL_BLOCK = 16384,
};

/* ------------------------------------------------------------------------------------------
 * Memory pools
 *
 * A pool hands out zeroed memory that is released all at once. Running out of memory aborts
 * here, as xmalloc does for the rest of kortisto: this file is built on its own for the fuzz
 * harness and so keeps its own copy of that policy.
 */

struct pblock {
	struct pblock *next;
	size_t cap, used;
	max_align_t mem[];
};

struct pool {
	struct pblock *head;
};

static void oom(void)
{
	fputs("kortisto: out of memory\n", stderr);
	abort();
}

static struct pblock *pblock_new(size_t cap)
{
	struct pblock *b;

	if (cap > SIZE_MAX - sizeof *b)
		oom();
	b = malloc(sizeof *b + cap);
	if (!b)
		oom();
	b->next = NULL;
	b->cap = cap;
	b->used = 0;
	return b;
}

static void *pool_alloc(struct pool *a, size_t n)
{
	const size_t al = alignof(max_align_t);
	struct pblock *b;
	void *r;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - al)
		oom();
	n = (n + al - 1) / al * al;
	if (n > POOL_BLOCK / 4) {
		/* A large allocation gets a block of its own behind the current one. */
		b = pblock_new(n);
		if (a->head) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			a->head = b;
		}
	} else {
		b = a->head;
		if (!b || b->cap - b->used < n) {
			b = pblock_new(POOL_BLOCK);
			b->next = a->head;
			a->head = b;
		}
	}
	r = (char *)b->mem + b->used;
	b->used += n;
	memset(r, 0, n);
	return r;
}

static void *pool_array(struct pool *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	return pool_alloc(a, n * size);
}

static char *pool_strndup(struct pool *a, const char *s, size_t n)
{
	char *r;

	if (n == SIZE_MAX)
		oom();
	r = pool_alloc(a, n + 1);
	if (n)
		memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

static char *pool_strdup(struct pool *a, const char *s)
{
	return s ? pool_strndup(a, s, strlen(s)) : NULL;
}

static char *pool_printf(struct pool *a, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static char *pool_printf(struct pool *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return pool_strdup(a, "");
	r = pool_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(r, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return r;
}

static void pool_free(struct pool *a)
{
	struct pblock *b, *next;

	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

/* The declaration and the pool holding everything it points to; decl is the first member. */
struct decl_box {
	struct decl d;
	struct pool pool;
};

/* ------------------------------------------------------------------------------------------
 * Names of enum values, as written in YAML
 */

static const char *const field_type_names[FT__MAX] = {
        "text", "email", "phone", "hetu", "ytunnus", "date",
        "ip",   "url",   "enum",  "int",  "bool",    "note",
};

static const char *const basis_names[BASIS__MAX] = {"a", "b", "c", "d", "e", "f"};

static const char *const group_kind_names[GK__MAX] = {"natural_person", "organisation_contact"};

static const char *const source_kind_names[SK__MAX] = {
        "subject", "public", "third_party", "authority", "generated",
};

static const char *const recipient_kind_names[RK__MAX] = {
        "recipient",
        "processor",
        "joint_controller",
        "internal_system",
};

static const char *const from_names[RF__MAX] = {
        "last_customer_event", "created",       "affiliation_end",
        "consent_withdrawn",   "until_request", "field:<field id>",
};

static const char *const action_names[RA__MAX] = {
        "delete", "anonymize", "passivate", "archive_then_delete", "none",
};

static const char *const lang_names[LANG__MAX] = {"fi", "sv", "en"};

/* Field ids that map onto kortisto's own person model, and the type each must have. */
static const struct {
	const char *id;
	enum field_type type;
	bool identifying; /* identifies the person: may not survive anonymisation */
} reserved_fields[] = {
        {"first_name", FT_TEXT, true},     {"last_name", FT_TEXT, true},
        {"email", FT_EMAIL, true},         {"phone", FT_PHONE, true},
        {"hetu", FT_HETU, true},           {"birth_date", FT_DATE, true},
        {"postal_address", FT_TEXT, true}, {"social_media", FT_URL, true},
        {"website", FT_URL, false},        {"ip_address", FT_IP, true},
};

/* ------------------------------------------------------------------------------------------
 * Parse context and diagnostics
 */

struct loc {
	int line, col; /* 1-based; 0 when the problem concerns the whole file */
};

/* Kinds of declared items that are referred to by id. */
enum refk {
	REF_PURPOSE,
	REF_GROUP,
	REF_CATEGORY,
	REF_FIELD,
	REF_RECORD_TYPE,
	REF_SOURCE,
	REF_RECIPIENT,
	REF_RULE,
	REF__MAX
};

static const char *const refk_names[REF__MAX] = {
        "purpose",     "subject group", "data category", "field",
        "record type", "source",        "recipient",     "retention rule",
};

/* One declared id and where it was declared. */
struct ident {
	const char *id;
	struct loc loc;
	size_t seq; /* declaration order, so the first of two duplicates is known */
	const void *obj;
};

struct index {
	struct ident *v;
	size_t n, cap;
};

/* Classes of YAML values under the core schema. */
enum ncls { N_NULL, N_BOOL, N_INT, N_STR, N_MAP, N_SEQ };

/* One use of an id, resolved after the walk. */
struct ref {
	enum refk kind;
	const char *id;
	const char *ctx; /* "subject group 'individual'" */
	const char *key; /* "purposes" */
	struct loc loc;
	bool want_date;     /* `from: field:<id>` needs a date field */
	const char *equals; /* retention `except`: the value to compare, else NULL */
	enum ncls equals_cls;
	struct loc equals_loc;
};

struct pctx {
	struct decl_diags *diags;
	size_t ndiag;      /* diagnostics this parse added */
	size_t nerr;       /* errors this parse found */
	size_t nodes;      /* nodes visited */
	bool stop;         /* a limit was hit: walk no further */
	struct pool *keep; /* the declaration's pool */
	struct pool tmp;   /* scratch for the check */
	struct decl *d;
	struct index idx[REF__MAX];
	struct ref *refs;
	size_t nrefs, caprefs;
};

static const struct loc noloc = {0, 0};

static void diag_put(struct pctx *p, struct loc loc, bool warning, const char *msg)
{
	struct decl_diags *ds = p->diags;
	struct decl_diag *dg;

	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? ds->cap * 2 : 16;
		struct decl_diag *v;

		if (cap > SIZE_MAX / sizeof *v)
			oom();
		v = realloc(ds->v, cap * sizeof *v);
		if (!v)
			oom();
		ds->v = v;
		ds->cap = cap;
	}
	dg = &ds->v[ds->n++];
	memset(dg, 0, sizeof *dg);
	dg->line = loc.line;
	dg->column = loc.col;
	dg->warning = warning;
	snprintf(dg->message, sizeof dg->message, "%s", msg);
	if (!warning)
		ds->nerrors++;
	p->ndiag++;
}

/*
 * Adds one diagnostic: "ctx: message", or just the message when ctx is NULL. Errors are
 * counted even once the list is full, so decl_parse() fails whenever one was found.
 */
static void diag_v(struct pctx *p, struct loc loc, bool warning, const char *ctx, const char *fmt,
                   va_list ap)
{
	char msg[sizeof(((struct decl_diag *)0)->message)];
	size_t off = 0;
	int n;

	if (!warning)
		p->nerr++;
	if (p->stop)
		return;
	if (p->ndiag >= DECL_MAX_DIAGS) {
		diag_put(p, noloc, false, "too many problems; stopped after the first 1000");
		p->nerr++;
		p->stop = true;
		return;
	}
	if (ctx) {
		n = snprintf(msg, sizeof msg, "%s: ", ctx);
		off = n < 0 ? 0 : (size_t)n >= sizeof msg ? sizeof msg - 1 : (size_t)n;
	}
	n = vsnprintf(msg + off, sizeof msg - off, fmt, ap);
	if (n < 0)
		msg[off] = '\0';
	diag_put(p, loc, warning, msg);
}

static void err(struct pctx *p, struct loc loc, const char *ctx, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void warn(struct pctx *p, struct loc loc, const char *ctx, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void err(struct pctx *p, struct loc loc, const char *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(p, loc, false, ctx, fmt, ap);
	va_end(ap);
}

static void warn(struct pctx *p, struct loc loc, const char *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(p, loc, true, ctx, fmt, ap);
	va_end(ap);
}

/*
 * A value from the input made safe to echo in a message: at most SHOW_MAX bytes (cut on a
 * UTF-8 boundary, marked with "…") and control characters replaced by '?'.
 */
static const char *show(struct pctx *p, const char *s, size_t len)
{
	size_t n = len, i;
	bool cut = false;
	char *r;

	if (n > SHOW_MAX) {
		n = SHOW_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		cut = true;
	}
	r = pool_alloc(&p->tmp, n + sizeof "…");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		r[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
	}
	r[n] = '\0';
	if (cut)
		memcpy(r + n, "…", sizeof "…");
	return r;
}

static const char *shows(struct pctx *p, const char *s)
{
	return show(p, s, strlen(s));
}

/* Joins names with ", " into scratch memory. */
static const char *join(struct pctx *p, const char *const *names, size_t n)
{
	size_t len = 1, i;
	char *r, *q;

	for (i = 0; i < n; i++)
		len += strlen(names[i]) + 2;
	r = q = pool_alloc(&p->tmp, len);
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		if (i) {
			memcpy(q, ", ", 2);
			q += 2;
		}
		memcpy(q, names[i], l);
		q += l;
	}
	*q = '\0';
	return r;
}

static void *vec_grow(struct pool *a, void *v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap * 2 : 16;
	nv = pool_array(a, ncap, size);
	if (n)
		memcpy(nv, v, n * size);
	*cap = ncap;
	return nv;
}

static void ident_add(struct pctx *p, enum refk k, const char *id, struct loc loc, const void *obj)
{
	struct index *x = &p->idx[k];

	if (!id)
		return;
	x->v = vec_grow(&p->tmp, x->v, &x->cap, x->n, sizeof *x->v);
	x->v[x->n] = (struct ident){id, loc, x->n, obj};
	x->n++;
}

static struct ref *ref_add(struct pctx *p, enum refk k, const char *id, struct loc loc,
                           const char *ctx, const char *key)
{
	struct ref *r;

	p->refs = vec_grow(&p->tmp, p->refs, &p->caprefs, p->nrefs, sizeof *p->refs);
	r = &p->refs[p->nrefs++];
	memset(r, 0, sizeof *r);
	r->kind = k;
	r->id = id;
	r->loc = loc;
	r->ctx = ctx;
	r->key = key;
	return r;
}

/* ------------------------------------------------------------------------------------------
 * Small validators
 */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool id_valid(const char *s)
{
	size_t i;

	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (i >= DECL_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = u[i];
		size_t need, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= need)
			return false;
		for (k = 1; k <= need; k++) {
			if ((u[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (u[i + k] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A real calendar date written YYYY-MM-DD. */
static bool date_valid(const char *s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, i, dim;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !is_digit(s[i]))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	dim = mdays[m - 1] + (m == 2 && leap(y));
	return d <= dim;
}

/* Finnish business id NNNNNNN-C with the mod-11 check digit. */
static bool ytunnus_valid(const char *s)
{
	static const int w[7] = {7, 9, 10, 5, 8, 4, 2};
	int i, sum = 0, r, check;

	if (strlen(s) != 9 || s[7] != '-' || !is_digit(s[8]))
		return false;
	for (i = 0; i < 7; i++) {
		if (!is_digit(s[i]))
			return false;
		sum += (s[i] - '0') * w[i];
	}
	r = sum % 11;
	if (r == 1)
		return false;
	check = r == 0 ? 0 : 11 - r;
	return s[8] - '0' == check;
}

/* A sanity check, not RFC 5322: one '@', something before it, a dotted domain after it. */
static bool email_valid(const char *s)
{
	const char *at = strchr(s, '@'), *dom, *q;
	size_t n = strlen(s);

	if (!at || at == s || strchr(at + 1, '@') || n > 254)
		return false;
	for (q = s; *q; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7F || *q == '<' || *q == '>' || *q == ',')
			return false;
	dom = at + 1;
	if (!strchr(dom, '.') || dom[0] == '.' || s[n - 1] == '.' || strstr(dom, ".."))
		return false;
	return true;
}

/* Digits with spaces, '-', '(' ')' and a leading '+'; 5 to 15 digits as E.164 allows. */
static bool phone_valid(const char *s)
{
	size_t i, digits = 0;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (is_digit(c))
			digits++;
		else if (c == '+' && i == 0)
			continue;
		else if (c != ' ' && c != '-' && c != '(' && c != ')')
			return false;
	}
	return digits >= 5 && digits <= 15;
}

static bool url_valid(const char *s)
{
	const char *rest;
	const char *q;

	if (!strncmp(s, "https://", 8))
		rest = s + 8;
	else if (!strncmp(s, "http://", 7))
		rest = s + 7;
	else
		return false;
	if (!*rest || *rest == '/')
		return false;
	for (q = rest; *q; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7F)
			return false;
	return true;
}

/* ISO 8601 PnYnMnWnD, parts in that order, at least one; weeks become 7 days. */
static bool duration_parse(const char *s, struct duration *out)
{
	static const char order[] = "YMWD";
	struct duration d = {0, 0, 0};
	size_t next = 0;
	bool any = false;

	if (*s++ != 'P')
		return false;
	while (*s) {
		long v = 0;
		int nd = 0;
		const char *pos;

		while (is_digit(*s)) {
			if (++nd > 5)
				return false;
			v = v * 10 + (*s++ - '0');
		}
		if (nd == 0 || !*s)
			return false;
		pos = strchr(order + next, *s);
		if (!pos)
			return false;
		next = (size_t)(pos - order) + 1;
		switch (*s) {
		case 'Y': d.years = (int)v; break;
		case 'M': d.months = (int)v; break;
		case 'W': d.days += (int)v * 7; break;
		default: d.days += (int)v; break;
		}
		s++;
		any = true;
	}
	if (!any)
		return false;
	*out = d;
	return true;
}

/* ------------------------------------------------------------------------------------------
 * YAML access: aliases, the node budget, classes and locations
 */

static struct loc node_loc(struct fy_node *n, struct loc fb)
{
	struct fy_token *t;
	const struct fy_mark *m;
	struct fy_node_pair *pr;
	void *it = NULL;

	int depth;

	/* A collection has no position of its own in libfyaml 0.7: use its first scalar's. */
	for (depth = 0; n && depth < 4 && fy_node_get_type(n) != FYNT_SCALAR; depth++) {
		it = NULL;
		if (fy_node_get_type(n) == FYNT_MAPPING) {
			pr = fy_node_mapping_iterate(n, &it);
			n = pr ? fy_node_pair_key(pr) : NULL;
		} else {
			n = fy_node_sequence_iterate(n, &it);
		}
	}
	if (!n || fy_node_get_type(n) != FYNT_SCALAR)
		return fb;
	t = fy_node_get_scalar_token(n);
	m = t ? fy_token_start_mark(t) : NULL;
	if (!m || m->line < 0 || m->column < 0 || m->line >= INT32_MAX || m->column >= INT32_MAX)
		return fb;
	return (struct loc){m->line + 1, m->column + 1};
}

static void budget_exceeded(struct pctx *p, struct loc at)
{
	err(p, at, NULL, "declaration too large: more than %d YAML nodes", DECL_MAX_NODES);
	p->stop = true;
}

/*
 * Follows an alias and counts the node against the budget; every value the walk looks at
 * passes here, so an alias bomb costs at most DECL_MAX_NODES steps. Returns the node (NULL
 * for an absent value, an unresolvable alias or once the walk has stopped).
 */
static struct fy_node *deref(struct pctx *p, struct fy_node *n, struct loc at)
{
	struct fy_node *r;
	size_t len;
	const char *s;

	if (p->stop || !n)
		return NULL;
	if (++p->nodes > DECL_MAX_NODES) {
		budget_exceeded(p, at);
		return NULL;
	}
	if (fy_node_is_alias(n)) {
		r = fy_node_resolve_alias(n);
		if (!r) {
			s = fy_node_get_scalar(n, &len);
			err(p, node_loc(n, at), NULL, "alias '*%s' names no anchor",
			    s ? show(p, s, len) : "");
			return NULL;
		}
		n = r;
	}
	s = fy_node_get_tag(n, &len);
	if (s)
		err(p, node_loc(n, at), NULL, "YAML tags are not supported ('%s')",
		    show(p, s, len));
	return n;
}

static bool scalar_is(const char *s, size_t len, const char *const *words)
{
	size_t i;

	for (i = 0; words[i]; i++)
		if (strlen(words[i]) == len && !memcmp(s, words[i], len))
			return true;
	return false;
}

/* The class of a (dereferenced) node under the YAML 1.2 core schema. */
static enum ncls ncls(struct fy_node *n)
{
	static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
	static const char *const bools[] = {"true",  "True",  "TRUE", "false",
	                                    "False", "FALSE", NULL};
	const char *s;
	size_t len, i;

	if (!n)
		return N_NULL;
	switch (fy_node_get_type(n)) {
	case FYNT_MAPPING: return N_MAP;
	case FYNT_SEQUENCE: return N_SEQ;
	default: break;
	}
	s = fy_node_get_scalar(n, &len);
	if (!s)
		return N_NULL;
	if (fy_node_get_style(n) != FYNS_PLAIN)
		return N_STR;
	if (len == 0 || scalar_is(s, len, nulls))
		return N_NULL;
	if (scalar_is(s, len, bools))
		return N_BOOL;
	i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
	if (i == len)
		return N_STR;
	for (; i < len; i++)
		if (!is_digit(s[i]))
			return N_STR;
	return N_INT;
}

static const char *ncls_name(enum ncls c)
{
	switch (c) {
	case N_NULL: return "empty";
	case N_BOOL: return "true/false";
	case N_INT: return "a number";
	case N_STR: return "a string";
	case N_MAP: return "a map";
	case N_SEQ: return "a list";
	}
	return "?";
}

static bool scalar_true(struct fy_node *n)
{
	size_t len;
	const char *s = fy_node_get_scalar(n, &len);

	return s && len >= 1 && (s[0] == 't' || s[0] == 'T');
}

/*
 * Copies a string scalar into the declaration's pool. Refuses NUL and control characters
 * (other than tab and newline) and invalid UTF-8, which could reach a terminal or a page.
 */
static const char *scalar_copy(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                               const char *key)
{
	size_t len, i;
	const char *s = fy_node_get_scalar(n, &len);

	if (!s)
		s = "";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
			err(p, loc, ctx, "'%s' contains a control character", key);
			return NULL;
		}
	}
	if (!utf8_valid(s, len)) {
		err(p, loc, ctx, "'%s' is not valid UTF-8", key);
		return NULL;
	}
	return pool_strndup(p->keep, s, len);
}

/* ------------------------------------------------------------------------------------------
 * Typed values
 */

/* A non-empty string; numbers are taken as written. */
static const char *get_str(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                           const char *key)
{
	enum ncls c = ncls(n);
	const char *s;

	if (c != N_STR && c != N_INT) {
		err(p, loc, ctx, "'%s' must be a string, not %s%s", key, ncls_name(c),
		    c == N_BOOL ? " (quote it)" : "");
		return NULL;
	}
	s = scalar_copy(p, n, loc, ctx, key);
	if (s && !*s) {
		err(p, loc, ctx, "'%s' is empty", key);
		return NULL;
	}
	return s;
}

static bool get_text(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                     const char *key, struct text *out)
{
	struct fy_node_pair *pr;
	void *it = NULL;
	enum ncls c = ncls(n);
	struct text t = {{NULL, NULL, NULL}};
	bool seen[LANG__MAX] = {false, false, false};
	bool ok = true;

	if (c == N_STR || c == N_INT) {
		t.s[LANG_FI] = get_str(p, n, loc, ctx, key);
		if (!t.s[LANG_FI])
			return false;
		*out = t;
		return true;
	}
	if (c != N_MAP) {
		err(p, loc, ctx, "'%s' must be a string or a map of fi, sv, en, not %s", key,
		    ncls_name(c));
		return false;
	}
	while (!p->stop && (pr = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = deref(p, fy_node_pair_key(pr), loc);
		struct loc kl = node_loc(k, loc);
		const char *ks;
		size_t klen;
		int l;

		if (p->stop)
			return false;
		ks = ncls(k) == N_STR ? fy_node_get_scalar(k, &klen) : NULL;
		for (l = 0; ks && l < LANG__MAX; l++)
			if (strlen(lang_names[l]) == klen && !memcmp(ks, lang_names[l], klen))
				break;
		if (!ks || l == LANG__MAX) {
			err(p, kl, ctx,
			    "unknown language '%s' in '%s' (expected one of: fi, sv, en)",
			    ks ? show(p, ks, klen) : "?", key);
			ok = false;
			continue;
		}
		if (seen[l]) {
			err(p, kl, ctx, "language '%s' given twice in '%s'", lang_names[l], key);
			ok = false;
			continue;
		}
		seen[l] = true;
		t.s[l] = get_str(p, deref(p, fy_node_pair_value(pr), kl), kl, ctx,
		                 pool_printf(&p->tmp, "%s.%s", key, lang_names[l]));
		if (!t.s[l])
			ok = false;
	}
	if (ok && !t.s[LANG_FI]) {
		err(p, loc, ctx, "'%s' has no Finnish text (fi is required)", key);
		ok = false;
	}
	if (ok)
		*out = t;
	return ok;
}

static bool get_bool(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                     const char *key, bool *out)
{
	enum ncls c = ncls(n);

	if (c != N_BOOL) {
		err(p, loc, ctx, "'%s' must be true or false, not %s", key, ncls_name(c));
		return false;
	}
	*out = scalar_true(n);
	return true;
}

/* One of `names`; sets *idx. `what` words the alternatives ("one of"). */
static bool get_enum(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                     const char *key, const char *const *names, int nnames, const char *what,
                     int *idx)
{
	enum ncls c = ncls(n);
	const char *s;
	size_t len;
	int i;

	if (c != N_STR) {
		err(p, loc, ctx, "'%s' must be %s %s, not %s", key, what,
		    join(p, names, (size_t)nnames), ncls_name(c));
		return false;
	}
	s = fy_node_get_scalar(n, &len);
	for (i = 0; i < nnames; i++)
		if (strlen(names[i]) == len && !memcmp(s, names[i], len)) {
			*idx = i;
			return true;
		}
	err(p, loc, ctx, "%s '%s' must be %s %s", key, show(p, s, len), what,
	    join(p, names, (size_t)nnames));
	return false;
}

/*
 * Walks a list: NULL (absent) is an empty list. Calls fn on each dereferenced item with its
 * location. Returns false when the value is not a list.
 */
typedef void (*item_fn)(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                        void *arg);

static size_t seq_count(struct fy_node *n)
{
	int c = fy_node_sequence_item_count(n);

	return c < 0 ? 0 : (size_t)c;
}

static void *get_list(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                      const char *key, bool nonempty, size_t esize, size_t *np, item_fn fn,
                      void *arg)
{
	enum ncls c = ncls(n);
	struct fy_node *item;
	void *it = NULL;
	size_t cnt, i = 0;
	char *arr;

	*np = 0;
	if (c == N_NULL) {
		if (nonempty)
			err(p, loc, ctx, "'%s' must list at least one item", key);
		return NULL;
	}
	if (c != N_SEQ) {
		err(p, loc, ctx, "'%s' must be a list, not %s", key, ncls_name(c));
		return NULL;
	}
	cnt = seq_count(n);
	if (cnt == 0) {
		if (nonempty)
			err(p, loc, ctx, "'%s' must list at least one item", key);
		return NULL;
	}
	if (cnt > DECL_MAX_NODES - p->nodes) {
		budget_exceeded(p, loc);
		return NULL;
	}
	arr = pool_array(p->keep, cnt, esize);
	while (i < cnt && !p->stop && (item = fy_node_sequence_iterate(n, &it))) {
		struct loc il = node_loc(item, loc);

		item = deref(p, item, il);
		if (p->stop)
			break;
		fn(p, item, il, i, arr + i * esize, arg);
		i++;
	}
	*np = i;
	return arr;
}

/* How get_str_list() treats its items. */
enum {
	SL_NONEMPTY = 1 << 0, /* at least one item */
	SL_ID = 1 << 1,       /* items are ids */
	SL_REF = 1 << 2,      /* items name declared items of one kind */
	SL_UNIQUE = 1 << 3,   /* no item twice */
};

struct str_arg {
	const char *ctx, *key;
	unsigned flags;
	enum refk kind;
	struct loc *locs; /* where each item is, for the duplicate check */
};

static void str_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                     void *arg)
{
	struct str_arg *a = arg;
	const char **out = elem;
	const char *s = get_str(p, n, loc, a->ctx, a->key);

	a->locs[i] = loc;
	if (!s)
		return;
	if ((a->flags & SL_ID) && !id_valid(s)) {
		err(p, loc, a->ctx, "'%s' item '%s' is not a valid id", a->key, shows(p, s));
		return;
	}
	*out = s;
	if (a->flags & SL_REF)
		ref_add(p, a->kind, s, loc, a->ctx, a->key);
}

/* One list item for the duplicate check: its text and position in the list. */
struct item_ref {
	const char *s;
	size_t i;
};

static int cmp_item_ref(const void *a, const void *b)
{
	const struct item_ref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Reports each item named twice in one list, once, at its second occurrence. */
static void dup_items(struct pctx *p, const char *const *v, const struct loc *locs, size_t n,
                      const char *ctx, const char *key)
{
	struct item_ref *s;
	size_t i, m = 0;

	if (n < 2)
		return;
	s = pool_array(&p->tmp, n, sizeof *s);
	for (i = 0; i < n; i++)
		if (v[i])
			s[m++] = (struct item_ref){v[i], i};
	qsort(s, m, sizeof *s, cmp_item_ref);
	for (i = 1; i < m && !p->stop; i++)
		if (!strcmp(s[i].s, s[i - 1].s) && (i < 2 || strcmp(s[i].s, s[i - 2].s)))
			err(p, locs[s[i].i], ctx, "'%s' lists '%s' twice", key, shows(p, s[i].s));
}

static void get_str_list(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                         const char *key, unsigned flags, enum refk kind, struct str_list *out)
{
	struct str_arg a = {ctx, key, flags, kind, NULL};
	size_t cnt = ncls(n) == N_SEQ ? seq_count(n) : 0;
	const char **v;
	size_t nv;

	if (cnt > DECL_MAX_NODES)
		cnt = DECL_MAX_NODES;
	a.locs = pool_array(&p->tmp, cnt ? cnt : 1, sizeof *a.locs);
	v = get_list(p, n, loc, ctx, key, flags & SL_NONEMPTY, sizeof *v, &nv, str_item, &a);
	if (flags & SL_UNIQUE)
		dup_items(p, v, a.locs, nv, ctx, key);
	out->v = v;
	out->n = nv;
}

struct text_arg {
	const char *ctx, *key;
};

static void text_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                      void *arg)
{
	struct text_arg *a = arg;

	(void)i;
	get_text(p, n, loc, a->ctx, a->key, elem);
}

static void get_text_list(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                          const char *key, struct text_list *out)
{
	struct text_arg a = {ctx, key};

	out->v = get_list(p, n, loc, ctx, key, false, sizeof(struct text), &out->n, text_item, &a);
}

/* ------------------------------------------------------------------------------------------
 * Maps read by key table
 */

enum vt {
	VT_STR,       /* const char *: a non-empty string */
	VT_TEXT,      /* struct text */
	VT_BOOL,      /* bool */
	VT_ID,        /* const char *: an id */
	VT_DATE,      /* const char *: YYYY-MM-DD */
	VT_EMAIL,     /* const char * */
	VT_PHONE,     /* const char * */
	VT_URL,       /* const char * */
	VT_YTUNNUS,   /* const char * */
	VT_STR_LIST,  /* struct str_list */
	VT_ID_LIST,   /* struct str_list of ids */
	VT_TEXT_LIST, /* struct text_list */
	VT_REF,       /* const char *: id of a declared item of kind `ref` */
	VT_REF_LIST,  /* struct str_list of such ids */
	VT_NODE,      /* read by the caller from its slot */
};

struct key {
	const char *name;
	enum vt type;
	bool required;
	size_t off;    /* where the value goes in the output object */
	enum refk ref; /* VT_REF, VT_REF_LIST */
	bool nonempty; /* lists: at least one item */
	/*
	 * The GDPR article of the notice item a required key carries and what the item is
	 * ("13(2)(d): the right to complain to a supervisory authority"), named when the key is
	 * missing; NULL for keys that carry no item of their own.
	 */
	const char *article;
};

/* What a map held under one key of its table. */
struct slot {
	bool present;
	struct fy_node *v; /* dereferenced value; NULL when absent */
	struct loc kloc;   /* the key */
	struct loc vloc;   /* the value, or the key when the value has no position */
};

#define KEY(name, type, req, st, member)                                                           \
	{                                                                                          \
		name, type, req, offsetof(st, member), REF__MAX, false, NULL                       \
	}
#define KNODE(name, req)                                                                           \
	{                                                                                          \
		name, VT_NODE, req, 0, REF__MAX, false, NULL                                       \
	}
#define KREF(name, type, req, st, member, kind, nonempty)                                          \
	{                                                                                          \
		name, type, req, offsetof(st, member), kind, nonempty, NULL                        \
	}
/* A required key that carries an item of the Art. 13/14 notice, and the article's words. */
#define KEYA(name, type, st, member, article)                                                      \
	{                                                                                          \
		name, type, true, offsetof(st, member), REF__MAX, false, article                   \
	}
#define KNODEA(name, article)                                                                      \
	{                                                                                          \
		name, VT_NODE, true, 0, REF__MAX, false, article                                   \
	}
#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

static const struct slot *slot_of(const struct key *keys, size_t nkeys, const struct slot *slots,
                                  const char *name)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (!strcmp(keys[i].name, name))
			return &slots[i];
	abort(); /* a name missing from its own table is a programming error */
}

static void unknown_key(struct pctx *p, struct loc loc, const char *ctx, const char *k, size_t klen,
                        const struct key *keys, size_t nkeys)
{
	const char **names = pool_array(&p->tmp, nkeys, sizeof *names);
	size_t i;

	if (klen == 2 && !memcmp(k, "<<", 2)) {
		err(p, loc, NULL, "merge keys ('<<') are not supported%s%s", ctx ? " in " : "",
		    ctx ? ctx : "");
		return;
	}
	for (i = 0; i < nkeys; i++)
		names[i] = keys[i].name;
	err(p, loc, NULL, "unknown key '%s'%s%s (expected one of: %s)", show(p, k, klen),
	    ctx ? " in " : "", ctx ? ctx : "", join(p, names, nkeys));
}

/* Reads one typed value into obj + key->off. */
static void slot_read(struct pctx *p, const struct key *key, const struct slot *s, const char *ctx,
                      void *obj)
{
	char *dst = (char *)obj + key->off;
	const char *str;

	switch (key->type) {
	case VT_STR: *(const char **)dst = get_str(p, s->v, s->vloc, ctx, key->name); break;
	case VT_TEXT: get_text(p, s->v, s->vloc, ctx, key->name, (struct text *)dst); break;
	case VT_BOOL: get_bool(p, s->v, s->vloc, ctx, key->name, (bool *)dst); break;
	case VT_ID:
	case VT_REF:
	case VT_DATE:
	case VT_EMAIL:
	case VT_PHONE:
	case VT_URL:
	case VT_YTUNNUS:
		str = get_str(p, s->v, s->vloc, ctx, key->name);
		if (!str)
			break;
		if ((key->type == VT_ID || key->type == VT_REF) && !id_valid(str)) {
			err(p, s->vloc, ctx,
			    "%s '%s' is not a valid id (a-z, then up to 63 of a-z 0-9 _ -)",
			    key->name, shows(p, str));
			break;
		}
		if (key->type == VT_DATE && !date_valid(str)) {
			err(p, s->vloc, ctx, "%s '%s' is not a real date YYYY-MM-DD", key->name,
			    shows(p, str));
			break;
		}
		if (key->type == VT_EMAIL && !email_valid(str)) {
			err(p, s->vloc, ctx, "%s '%s' is not an e-mail address", key->name,
			    shows(p, str));
			break;
		}
		if (key->type == VT_PHONE && !phone_valid(str)) {
			err(p, s->vloc, ctx, "%s '%s' is not a phone number", key->name,
			    shows(p, str));
			break;
		}
		if (key->type == VT_URL && !url_valid(str)) {
			err(p, s->vloc, ctx, "%s '%s' is not an http:// or https:// address",
			    key->name, shows(p, str));
			break;
		}
		if (key->type == VT_YTUNNUS && !ytunnus_valid(str)) {
			err(p, s->vloc, ctx,
			    "ytunnus '%s' is not a valid business id (NNNNNNN-C with its check "
			    "digit)",
			    shows(p, str));
			break;
		}
		*(const char **)dst = str;
		if (key->type == VT_REF)
			ref_add(p, key->ref, str, s->vloc, ctx, key->name);
		break;
	case VT_STR_LIST:
		get_str_list(p, s->v, s->vloc, ctx, key->name, key->nonempty ? SL_NONEMPTY : 0,
		             REF__MAX, (struct str_list *)dst);
		break;
	case VT_ID_LIST:
		get_str_list(p, s->v, s->vloc, ctx, key->name,
		             (key->nonempty ? SL_NONEMPTY : 0) | SL_ID | SL_UNIQUE, REF__MAX,
		             (struct str_list *)dst);
		break;
	case VT_REF_LIST:
		get_str_list(p, s->v, s->vloc, ctx, key->name,
		             (key->nonempty ? SL_NONEMPTY : 0) | SL_ID | SL_REF | SL_UNIQUE,
		             key->ref, (struct str_list *)dst);
		break;
	case VT_TEXT_LIST:
		get_text_list(p, s->v, s->vloc, ctx, key->name, (struct text_list *)dst);
		break;
	case VT_NODE: break;
	}
}

/*
 * Reads map `n` by its key table: refuses unknown and repeated keys, reports missing
 * required ones, and stores every typed value into `obj`. `slots` (nkeys entries) receives
 * what was found under each key, for the VT_NODE keys the caller reads itself. A null value
 * counts as absent. Returns false when `n` is not a map.
 */
static bool map_read(struct pctx *p, struct fy_node *n, struct loc loc, const char *ctx,
                     const char *what, const struct key *keys, size_t nkeys, void *obj,
                     struct slot *slots)
{
	struct fy_node_pair *pr;
	void *it = NULL;
	enum ncls c = ncls(n);
	size_t i;

	memset(slots, 0, nkeys * sizeof *slots);
	if (c != N_MAP) {
		err(p, loc, NULL, "%s must be a map of keys and values, not %s", what,
		    ncls_name(c));
		return false;
	}
	while (!p->stop && (pr = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = deref(p, fy_node_pair_key(pr), loc);
		struct loc kl = node_loc(k, loc);
		const char *ks;
		size_t klen;

		if (p->stop)
			return true;
		if (ncls(k) != N_STR) {
			err(p, kl, ctx, "keys must be strings, not %s", ncls_name(ncls(k)));
			continue;
		}
		ks = fy_node_get_scalar(k, &klen);
		for (i = 0; i < nkeys; i++)
			if (strlen(keys[i].name) == klen && !memcmp(ks, keys[i].name, klen))
				break;
		if (i == nkeys) {
			unknown_key(p, kl, ctx, ks, klen, keys, nkeys);
			continue;
		}
		if (slots[i].present) {
			err(p, kl, ctx, "key '%s' given twice", keys[i].name);
			continue;
		}
		slots[i].present = true;
		slots[i].kloc = kl;
		slots[i].v = deref(p, fy_node_pair_value(pr), kl);
		/* A block map or list starts on the next line; its key is the better place. */
		slots[i].vloc = slots[i].v && fy_node_get_type(slots[i].v) == FYNT_SCALAR
		                        ? node_loc(slots[i].v, kl)
		                        : kl;
		if (ncls(slots[i].v) == N_NULL)
			slots[i].v = NULL;
	}
	for (i = 0; i < nkeys && !p->stop; i++) {
		const struct slot *s = &slots[i];

		if (!s->v) {
			const char *art = keys[i].article;

			if (keys[i].required && s->present)
				err(p, s->kloc, ctx, "'%s' has no value%s%s%s", keys[i].name,
				    art ? " (GDPR Art. " : "", art ? art : "", art ? ")" : "");
			else if (keys[i].required)
				err(p, loc, ctx, "missing required key '%s'%s%s%s", keys[i].name,
				    art ? " (GDPR Art. " : "", art ? art : "", art ? ")" : "");
			continue;
		}
		slot_read(p, &keys[i], s, ctx, obj);
	}
	return true;
}

/*
 * Context for a list item's messages: "purpose 'marketing'" when it has a usable id,
 * "purpose #3" otherwise. Looks only at the item's own `id` key.
 */
static const char *item_ctx(struct pctx *p, struct fy_node *n, const char *what, size_t i)
{
	struct fy_node_pair *pr;
	void *it = NULL;

	if (n && fy_node_get_type(n) == FYNT_MAPPING) {
		while ((pr = fy_node_mapping_iterate(n, &it))) {
			struct fy_node *k = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
			const char *ks, *vs;
			size_t klen, vlen;

			if (!k || !v || fy_node_get_type(k) != FYNT_SCALAR || fy_node_is_alias(k) ||
			    fy_node_get_type(v) != FYNT_SCALAR || fy_node_is_alias(v))
				continue;
			ks = fy_node_get_scalar(k, &klen);
			if (!ks || klen != 2 || memcmp(ks, "id", 2))
				continue;
			vs = fy_node_get_scalar(v, &vlen);
			if (vs && vlen > 0 && vlen <= DECL_ID_MAX) {
				char buf[DECL_ID_MAX + 1];

				memcpy(buf, vs, vlen);
				buf[vlen] = '\0';
				if (id_valid(buf))
					return pool_printf(&p->tmp, "%s '%s'", what, buf);
			}
			break;
		}
	}
	return pool_printf(&p->tmp, "%s #%zu", what, i + 1);
}

/* ------------------------------------------------------------------------------------------
 * The sections of a declaration
 */

/*
 * The notice items that required keys carry, as named when one is missing: the GDPR article
 * and what it asks for. docs/declarations.md §4 lists the same items.
 */
static const char ART_CONTROLLER[] = "13(1)(a): who the controller is and how to reach it";
static const char ART_DPO[] = "13(1)(b): the data protection officer's contact details";
static const char ART_PURPOSES[] = "13(1)(c): the purposes of the processing";
static const char ART_BASIS[] = "13(1)(c): the legal basis of the processing";
static const char ART_CATEGORIES[] = "14(1)(d): the categories of personal data";
static const char ART_TRANSFERS[] = "13(1)(f): transfers outside the EU/EEA";
static const char ART_SAFEGUARD[] = "13(1)(f): the safeguards of a transfer";
static const char ART_RETENTION[] = "13(2)(a): the retention period";
static const char ART_RIGHTS[] = "13(2)(b): the data subject's rights";
static const char ART_CHANNEL[] = "13(2)(b): how to use the rights";
static const char ART_COMPLAINT[] = "13(2)(d): the right to complain to a supervisory authority";
static const char ART_ADM[] = "13(2)(f): automated decision-making and profiling";
static const char ART_SOURCES[] = "14(2)(f): where the data comes from";
static const char ART_SECURITY[] = "32: the principles of protecting the register";

static const struct key person_keys[] = {
        KEY("name", VT_STR, true, struct decl_person, name),
        KEY("title", VT_TEXT, false, struct decl_person, title),
        KEY("email", VT_EMAIL, false, struct decl_person, email),
        KEY("phone", VT_PHONE, false, struct decl_person, phone),
        KEY("address", VT_STR, false, struct decl_person, address),
        KEY("note", VT_TEXT, false, struct decl_person, note),
};

static void person_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                        void *arg)
{
	struct slot slots[NKEYS(person_keys)];
	const char *ctx = pool_printf(&p->tmp, "%s #%zu", (const char *)arg, i + 1);

	map_read(p, n, loc, ctx, ctx, person_keys, NKEYS(person_keys), elem, slots);
}

static const struct key purpose_keys[] = {
        KEY("id", VT_ID, true, struct decl_purpose, id),
        KEYA("text", VT_TEXT, struct decl_purpose, text, ART_PURPOSES),
        KEY("direct_marketing", VT_BOOL, false, struct decl_purpose, direct_marketing),
};

static void purpose_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                         void *arg)
{
	struct slot slots[NKEYS(purpose_keys)];
	struct decl_purpose *o = elem;
	const char *ctx = item_ctx(p, n, "purpose", i);

	(void)arg;
	if (map_read(p, n, loc, ctx, ctx, purpose_keys, NKEYS(purpose_keys), o, slots))
		ident_add(p, REF_PURPOSE, o->id, slots[0].vloc, o);
}

static const struct key group_keys[] = {
        KEY("id", VT_ID, true, struct decl_group, id),
        KEY("name", VT_TEXT, true, struct decl_group, name),
        KNODE("kind", true),
        KNODEA("basis", ART_BASIS),
        KEY("basis_text", VT_TEXT, false, struct decl_group, basis_text),
        KEY("interest", VT_TEXT, false, struct decl_group, interest),
        KREF("purposes", VT_REF_LIST, true, struct decl_group, purposes, REF_PURPOSE, true),
};

static void group_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                       void *arg)
{
	struct slot slots[NKEYS(group_keys)];
	struct decl_group *o = elem;
	const char *ctx = item_ctx(p, n, "subject group", i);
	const struct slot *s;
	int v;

	(void)arg;
	if (!map_read(p, n, loc, ctx, ctx, group_keys, NKEYS(group_keys), o, slots))
		return;
	ident_add(p, REF_GROUP, o->id, slots[0].vloc, o);
	s = slot_of(group_keys, NKEYS(group_keys), slots, "kind");
	if (s->v &&
	    get_enum(p, s->v, s->vloc, ctx, "kind", group_kind_names, GK__MAX, "one of", &v))
		o->kind = (enum group_kind)v;
	s = slot_of(group_keys, NKEYS(group_keys), slots, "basis");
	if (s->v && get_enum(p, s->v, s->vloc, ctx, "basis", basis_names, BASIS__MAX,
	                     "one of GDPR Art. 6(1)", &v)) {
		o->basis = (enum basis)v;
		/* An interest given with a bad value has its own error already. */
		if (o->basis == BASIS_F && !o->interest.s[LANG_FI] &&
		    !slot_of(group_keys, NKEYS(group_keys), slots, "interest")->v)
			err(p, s->vloc, ctx,
			    "'interest' is required when basis is f (GDPR Art. 13(1)(d))");
	}
}

static const struct key field_keys[] = {
        KEY("id", VT_ID, true, struct decl_field, id),
        KNODE("type", true),
        KEY("label", VT_TEXT, true, struct decl_field, label),
        KEY("required", VT_BOOL, false, struct decl_field, required),
        KEY("sensitive", VT_BOOL, false, struct decl_field, sensitive),
        KEY("statistical", VT_BOOL, false, struct decl_field, statistical),
        KNODE("values", false),
        KREF("source", VT_REF, false, struct decl_field, source, REF_SOURCE, false),
};

static void field_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                       void *arg)
{
	struct slot slots[NKEYS(field_keys)];
	struct decl_field *o = elem;
	const char *ctx = item_ctx(p, n, "field", i);
	const struct slot *ts, *vs;
	bool typed = false, identifying = false;
	size_t r;
	int v;

	o->category = arg;
	if (!map_read(p, n, loc, ctx, ctx, field_keys, NKEYS(field_keys), o, slots))
		return;
	ident_add(p, REF_FIELD, o->id, slots[0].vloc, o);
	ts = slot_of(field_keys, NKEYS(field_keys), slots, "type");
	if (ts->v &&
	    get_enum(p, ts->v, ts->vloc, ctx, "type", field_type_names, FT__MAX, "one of", &v)) {
		o->type = (enum field_type)v;
		typed = true;
	}
	for (r = 0; o->id && r < NKEYS(reserved_fields); r++) {
		if (strcmp(o->id, reserved_fields[r].id))
			continue;
		identifying = reserved_fields[r].identifying;
		if (typed && o->type != reserved_fields[r].type)
			err(p, ts->vloc, ctx, "reserved field '%s' must have type %s, not %s",
			    o->id, field_type_names[reserved_fields[r].type],
			    field_type_names[o->type]);
	}
	/* Names and contact points stay in clear so persons can be found and matched; only
	 * the henkilötunnus and attributes can be sealed. */
	static const char *const clear_fields[] = {"first_name", "last_name",      "email",
	                                           "phone",      "postal_address", "social_media",
	                                           "website",    "ip_address"};
	for (r = 0; o->sensitive && o->id && r < NKEYS(clear_fields); r++)
		if (strcmp(o->id, clear_fields[r]) == 0)
			err(p, slot_of(field_keys, NKEYS(field_keys), slots, "sensitive")->vloc,
			    ctx,
			    "a name or contact point cannot be sensitive: kortisto keeps them in "
			    "clear to find and match persons");
	if (o->statistical && (o->sensitive || identifying || (typed && o->type == FT_HETU)))
		err(p, slot_of(field_keys, NKEYS(field_keys), slots, "statistical")->vloc, ctx,
		    "%s field cannot be statistical: it would survive anonymisation",
		    o->sensitive ? "a sensitive" : "an identifying");
	vs = slot_of(field_keys, NKEYS(field_keys), slots, "values");
	if (typed && o->type == FT_ENUM) {
		if (!vs->v)
			err(p, vs->present ? vs->kloc : slots[1].kloc, ctx,
			    "type enum needs a non-empty 'values' list");
		else
			get_str_list(p, vs->v, vs->vloc, ctx, "values", SL_NONEMPTY | SL_UNIQUE,
			             REF__MAX, &o->values);
	} else if (vs->present && typed) {
		err(p, vs->kloc, ctx, "'values' is only allowed with type enum");
	}
}

static const struct key category_keys[] = {
        KEY("id", VT_ID, true, struct decl_category, id),
        KEY("name", VT_TEXT, true, struct decl_category, name),
        KREF("groups", VT_REF_LIST, false, struct decl_category, groups, REF_GROUP, false),
        KEY("description", VT_TEXT, false, struct decl_category, description),
        KNODE("fields", false),
        KEY("items", VT_TEXT_LIST, false, struct decl_category, items),
};

static void category_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                          void *arg)
{
	struct slot slots[NKEYS(category_keys)];
	struct decl_category *o = elem;
	const char *ctx = item_ctx(p, n, "data category", i);
	const struct slot *s;

	(void)arg;
	if (!map_read(p, n, loc, ctx, ctx, category_keys, NKEYS(category_keys), o, slots))
		return;
	ident_add(p, REF_CATEGORY, o->id, slots[0].vloc, o);
	s = slot_of(category_keys, NKEYS(category_keys), slots, "fields");
	o->fields = get_list(p, s->v, s->vloc, ctx, "fields", false, sizeof *o->fields, &o->nfields,
	                     field_item, o);
}

static const struct key record_type_keys[] = {
        KEY("id", VT_ID, true, struct decl_record_type, id),
        KEY("name", VT_TEXT, true, struct decl_record_type, name),
        KEY("customer_event", VT_BOOL, false, struct decl_record_type, customer_event),
        KREF("category", VT_REF, false, struct decl_record_type, category, REF_CATEGORY, false),
};

static void record_type_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i,
                             void *elem, void *arg)
{
	struct slot slots[NKEYS(record_type_keys)];
	struct decl_record_type *o = elem;
	const char *ctx = item_ctx(p, n, "record type", i);

	(void)arg;
	if (map_read(p, n, loc, ctx, ctx, record_type_keys, NKEYS(record_type_keys), o, slots))
		ident_add(p, REF_RECORD_TYPE, o->id, slots[0].vloc, o);
}

static const struct key source_keys[] = {
        KEY("id", VT_ID, true, struct decl_source, id),
        KNODEA("kind", ART_SOURCES),
        KEYA("text", VT_TEXT, struct decl_source, text, ART_SOURCES),
};

static void source_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                        void *arg)
{
	struct slot slots[NKEYS(source_keys)];
	struct decl_source *o = elem;
	const char *ctx = item_ctx(p, n, "source", i);
	const struct slot *s;
	int v;

	(void)arg;
	if (!map_read(p, n, loc, ctx, ctx, source_keys, NKEYS(source_keys), o, slots))
		return;
	ident_add(p, REF_SOURCE, o->id, slots[0].vloc, o);
	s = slot_of(source_keys, NKEYS(source_keys), slots, "kind");
	if (s->v &&
	    get_enum(p, s->v, s->vloc, ctx, "kind", source_kind_names, SK__MAX, "one of", &v))
		o->kind = (enum source_kind)v;
}

static const struct key recipient_keys[] = {
        KEY("id", VT_ID, true, struct decl_recipient, id),
        KEY("name", VT_TEXT, true, struct decl_recipient, name),
        KNODE("kind", true),
        KREF("purposes", VT_REF_LIST, true, struct decl_recipient, purposes, REF_PURPOSE, true),
        KNODE("basis", false),
        KREF("categories", VT_REF_LIST, false, struct decl_recipient, categories, REF_CATEGORY,
             false),
        KEY("text", VT_TEXT, false, struct decl_recipient, text),
        KEY("contact_persons", VT_BOOL, false, struct decl_recipient, contact_persons),
};

static void recipient_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                           void *arg)
{
	struct slot slots[NKEYS(recipient_keys)];
	struct decl_recipient *o = elem;
	const char *ctx = item_ctx(p, n, "recipient", i);
	const struct slot *s;
	int v;

	(void)arg;
	if (!map_read(p, n, loc, ctx, ctx, recipient_keys, NKEYS(recipient_keys), o, slots))
		return;
	ident_add(p, REF_RECIPIENT, o->id, slots[0].vloc, o);
	s = slot_of(recipient_keys, NKEYS(recipient_keys), slots, "kind");
	if (s->v &&
	    get_enum(p, s->v, s->vloc, ctx, "kind", recipient_kind_names, RK__MAX, "one of", &v))
		o->kind = (enum recipient_kind)v;
	s = slot_of(recipient_keys, NKEYS(recipient_keys), slots, "basis");
	if (s->v && get_enum(p, s->v, s->vloc, ctx, "basis", basis_names, BASIS__MAX,
	                     "one of GDPR Art. 6(1)", &v)) {
		o->basis = (enum basis)v;
		o->has_basis = true;
	}
	/* Persons are published in the company directory only, and only where it says so. */
	s = slot_of(recipient_keys, NKEYS(recipient_keys), slots, "contact_persons");
	if (s->present && o->id && strcmp(o->id, DECL_DIRECTORY_RECIPIENT) != 0)
		err(p, s->kloc, ctx,
		    "'contact_persons' is only allowed on the recipient 'company_directory'");
}

static const struct key dest_keys[] = {
        KNODEA("country", ART_TRANSFERS),
        KREF("recipient", VT_REF, false, struct decl_transfer_dest, recipient, REF_RECIPIENT,
             false),
        KEYA("safeguard", VT_TEXT, struct decl_transfer_dest, safeguard, ART_SAFEGUARD),
};

static void dest_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                      void *arg)
{
	struct slot slots[NKEYS(dest_keys)];
	struct decl_transfer_dest *o = elem;
	const char *ctx = pool_printf(&p->tmp, "transfer destination #%zu", i + 1);
	const struct slot *s;
	const char *c;

	(void)arg;
	if (!map_read(p, n, loc, ctx, ctx, dest_keys, NKEYS(dest_keys), o, slots))
		return;
	s = &slots[0];
	if (!s->v)
		return;
	c = get_str(p, s->v, s->vloc, ctx, "country");
	if (c && (strlen(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z'))
		err(p, s->vloc, ctx, "country '%s' must be an ISO 3166 code of two capital letters",
		    shows(p, c));
	else
		o->country = c;
}

struct except_arg {
	const char *ctx; /* the rule's */
};

static const struct key except_keys[] = {
        KNODE("field", true),
        KNODE("equals", true),
};

static void except_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                        void *arg)
{
	struct slot slots[NKEYS(except_keys)];
	struct decl_condition *o = elem;
	struct except_arg *a = arg;
	const char *ctx = pool_printf(&p->tmp, "%s: except #%zu", a->ctx, i + 1);
	struct ref *r;
	enum ncls c;

	if (!map_read(p, n, loc, ctx, ctx, except_keys, NKEYS(except_keys), o, slots))
		return;
	if (slots[0].v) {
		o->field = get_str(p, slots[0].v, slots[0].vloc, ctx, "field");
		if (o->field && !id_valid(o->field)) {
			err(p, slots[0].vloc, ctx, "field '%s' is not a valid id",
			    shows(p, o->field));
			o->field = NULL;
		}
	}
	if (slots[1].v) {
		c = ncls(slots[1].v);
		if (c == N_MAP || c == N_SEQ)
			err(p, slots[1].vloc, ctx, "'equals' must be a single value, not %s",
			    ncls_name(c));
		else
			o->equals = scalar_copy(p, slots[1].v, slots[1].vloc, ctx, "equals");
	}
	if (o->field) {
		r = ref_add(p, REF_FIELD, o->field, slots[0].vloc, a->ctx, "except");
		if (o->equals) {
			r->equals = o->equals;
			r->equals_cls = ncls(slots[1].v);
			r->equals_loc = slots[1].vloc;
		}
	}
}

static const struct key rule_keys[] = {
        KEY("id", VT_ID, true, struct decl_rule, id),
        KREF("groups", VT_REF_LIST, false, struct decl_rule, groups, REF_GROUP, false),
        KREF("record_types", VT_REF_LIST, false, struct decl_rule, record_types, REF_RECORD_TYPE,
             false),
        KNODE("after", false),
        KNODE("from", true),
        KNODE("action", true),
        KNODE("except", false),
        KEY("text", VT_TEXT, false, struct decl_rule, text),
};

static void rule_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                      void *arg)
{
	struct slot slots[NKEYS(rule_keys)];
	struct decl_rule *o = elem;
	const char *ctx = item_ctx(p, n, "retention rule", i);
	const struct slot *s;
	struct except_arg ea = {ctx};
	bool from_ok = false, action_ok = false;
	int v;

	(void)arg;
	if (!map_read(p, n, loc, ctx, ctx, rule_keys, NKEYS(rule_keys), o, slots))
		return;
	ident_add(p, REF_RULE, o->id, slots[0].vloc, o);
	if (o->id && !strcmp(o->id, DECL_RULE_UNCONFIRMED))
		err(p, slots[0].vloc, ctx,
		    "id '%s' is reserved: every retention run reports its deletion of "
		    "unconfirmed consents under it",
		    DECL_RULE_UNCONFIRMED);

	s = slot_of(rule_keys, NKEYS(rule_keys), slots, "from");
	if (s->v) {
		const char *f = get_str(p, s->v, s->vloc, ctx, "from");

		if (f && !strncmp(f, "field:", 6)) {
			if (!id_valid(f + 6)) {
				err(p, s->vloc, ctx,
				    "from '%s' must name a field id after 'field:'", shows(p, f));
			} else {
				o->from = RF_FIELD;
				o->from_field = f + 6;
				ref_add(p, REF_FIELD, o->from_field, s->vloc, ctx, "from")
				        ->want_date = true;
				from_ok = true;
			}
		} else if (f) {
			for (v = 0; v < RF_FIELD; v++)
				if (!strcmp(f, from_names[v]))
					break;
			if (v == RF_FIELD)
				err(p, s->vloc, ctx, "from '%s' must be one of %s", shows(p, f),
				    join(p, from_names, RF__MAX));
			else {
				o->from = (enum ret_from)v;
				from_ok = true;
			}
		}
	}
	s = slot_of(rule_keys, NKEYS(rule_keys), slots, "action");
	if (s->v &&
	    get_enum(p, s->v, s->vloc, ctx, "action", action_names, RA__MAX, "one of", &v)) {
		o->action = (enum ret_action)v;
		action_ok = true;
	}
	s = slot_of(rule_keys, NKEYS(rule_keys), slots, "after");
	if (s->v) {
		const char *a = get_str(p, s->v, s->vloc, ctx, "after");

		if (a && !duration_parse(a, &o->after))
			err(p, s->vloc, ctx,
			    "after '%s' must be an ISO 8601 duration PnYnMnWnD (e.g. P10Y, P6M)",
			    shows(p, a));
		else if (a)
			o->has_after = true;
	} else if (from_ok && action_ok && o->from != RF_UNTIL_REQUEST && o->action != RA_NONE) {
		err(p, s->present ? s->kloc : loc, ctx,
		    "'after' is required unless from is until_request or action is none");
	}
	/* A record has no customer events, affiliations or consents of its own: a rule over
	 * record types counts from the record's creation. */
	if (from_ok && action_ok && o->record_types.n && o->action != RA_NONE &&
	    o->from != RF_CREATED && o->from != RF_UNTIL_REQUEST) {
		s = slot_of(rule_keys, NKEYS(rule_keys), slots, "from");
		err(p, s->vloc, ctx,
		    "from '%s' cannot time a rule over record_types: records count from created "
		    "(or until_request)",
		    o->from == RF_FIELD ? "field:" : from_names[o->from]);
	}
	s = slot_of(rule_keys, NKEYS(rule_keys), slots, "except");
	o->except = get_list(p, s->v, s->vloc, ctx, "except", false, sizeof *o->except, &o->nexcept,
	                     except_item, &ea);
}

static const struct key system_keys[] = {
        KEY("name", VT_TEXT, true, struct decl_system, name),
        KEY("text", VT_TEXT, false, struct decl_system, text),
};

static void system_item(struct pctx *p, struct fy_node *n, struct loc loc, size_t i, void *elem,
                        void *arg)
{
	struct slot slots[NKEYS(system_keys)];
	const char *ctx = pool_printf(&p->tmp, "system #%zu", i + 1);

	(void)arg;
	map_read(p, n, loc, ctx, ctx, system_keys, NKEYS(system_keys), elem, slots);
}

/* Top-level maps, read into struct decl directly. */

static const struct key controller_keys[] = {
        KEYA("name", VT_TEXT, struct decl, controller.name, ART_CONTROLLER),
        KEY("unit", VT_TEXT, false, struct decl, controller.unit),
        KEY("ytunnus", VT_YTUNNUS, false, struct decl, controller.ytunnus),
        KEY("address", VT_STR, false, struct decl, controller.address),
        KEY("phone", VT_PHONE, false, struct decl, controller.phone),
        KEY("email", VT_EMAIL, false, struct decl, controller.email),
        KEY("web", VT_URL, false, struct decl, controller.web),
};

static const struct key disclosures_keys[] = {
        KEY("text", VT_TEXT, false, struct decl, disclosures.text),
        KEY("on_request_only", VT_BOOL, false, struct decl, disclosures.on_request_only),
        KEY("legal_references", VT_STR_LIST, false, struct decl, disclosures.legal_references),
        KEY("forbidden_purposes", VT_ID_LIST, false, struct decl, disclosures.forbidden_purposes),
};

static const struct key transfers_keys[] = {
        KEYA("outside_eea", VT_BOOL, struct decl, transfers.outside_eea, ART_TRANSFERS),
        KEY("text", VT_TEXT, false, struct decl, transfers.text),
        KNODE("destinations", false),
};

static const struct key retention_keys[] = {
        KEYA("text", VT_TEXT, struct decl, retention.text, ART_RETENTION),
        KEY("plan", VT_TEXT, false, struct decl, retention.plan),
        KNODE("rules", false),
};

static const struct key security_keys[] = {
        KEY("manual", VT_TEXT, false, struct decl, security.manual),
        KEY("electronic", VT_TEXT, false, struct decl, security.electronic),
        KEY("measures", VT_TEXT_LIST, false, struct decl, security.measures),
};

static const struct key adm_keys[] = {
        KEYA("used", VT_BOOL, struct decl, automated_decision_making.used, ART_ADM),
        KEY("text", VT_TEXT, false, struct decl, automated_decision_making.text),
};

static const struct key profiling_keys[] = {
        KEYA("used", VT_BOOL, struct decl, profiling.used, ART_ADM),
        KEY("text", VT_TEXT, false, struct decl, profiling.text),
};

static const struct key rights_keys[] = {
        KNODE("deadline", false),
        KEYA("channel", VT_TEXT, struct decl, rights.channel, ART_CHANNEL),
        KEY("identity_check", VT_TEXT, false, struct decl, rights.identity_check),
        KEY("texts", VT_TEXT_LIST, false, struct decl, rights.texts),
        KEY("erasure_by_passivation", VT_BOOL, false, struct decl, rights.erasure_by_passivation),
};

static const struct key authority_keys[] = {
        KEYA("name", VT_TEXT, struct decl, complaint_authority.name, ART_COMPLAINT),
        KEY("address", VT_STR, false, struct decl, complaint_authority.address),
        KEY("phone", VT_PHONE, false, struct decl, complaint_authority.phone),
        KEY("email", VT_EMAIL, false, struct decl, complaint_authority.email),
        KEY("web", VT_URL, false, struct decl, complaint_authority.web),
};

static const struct key top_keys[] = {
        KNODE("kortisto", true),
        KEY("id", VT_ID, true, struct decl, id),
        KEY("name", VT_TEXT, true, struct decl, name),
        KEY("description", VT_TEXT, false, struct decl, description),
        KEY("published", VT_DATE, true, struct decl, published),
        KEY("updated", VT_DATE, false, struct decl, updated),
        KNODEA("controller", ART_CONTROLLER),
        KNODE("responsible", true),
        KNODE("contacts", false),
        KNODEA("dpo", ART_DPO),
        KNODEA("purposes", ART_PURPOSES),
        KNODEA("subject_groups", ART_BASIS),
        KEY("legal_basis_text", VT_TEXT_LIST, false, struct decl, legal_basis_text),
        KNODEA("data_categories", ART_CATEGORIES),
        KNODE("record_types", false),
        KNODEA("sources", ART_SOURCES),
        KNODE("recipients", false),
        KNODE("disclosures", false),
        KNODEA("transfers", ART_TRANSFERS),
        KNODEA("retention", ART_RETENTION),
        KNODE("systems", false),
        KNODEA("security", ART_SECURITY),
        KNODEA("automated_decision_making", ART_ADM),
        KNODEA("profiling", ART_ADM),
        KEY("provision_requirement", VT_TEXT, false, struct decl, provision_requirement),
        KNODEA("rights", ART_RIGHTS),
        KNODEA("complaint_authority", ART_COMPLAINT),
        KEY("notes", VT_TEXT_LIST, false, struct decl, notes),
};

#define TOP(name) slot_of(top_keys, NKEYS(top_keys), top, name)

/* Reads a top-level map `name` by its table into the declaration. */
static void section(struct pctx *p, const struct slot *top, const char *name,
                    const struct key *keys, size_t nkeys, struct slot *slots)
{
	const struct slot *s = TOP(name);

	memset(slots, 0, nkeys * sizeof *slots);
	if (s->v)
		map_read(p, s->v, s->kloc, name, name, keys, nkeys, p->d, slots);
}

static void walk_version(struct pctx *p, const struct slot *s)
{
	const char *v;
	size_t len;

	if (!s->v)
		return;
	if (fy_node_get_type(s->v) != FYNT_SCALAR) {
		err(p, s->vloc, NULL, "kortisto must be 1 (the format version), not %s",
		    ncls_name(ncls(s->v)));
		return;
	}
	v = fy_node_get_scalar(s->v, &len);
	if (ncls(s->v) != N_INT || len != 1 || v[0] != '1')
		err(p, s->vloc, NULL, "kortisto must be 1 (the format version), not '%s'",
		    v ? show(p, v, len) : "");
}

/* Reads the whole declaration; `top` (NKEYS(top_keys) slots) receives its top-level keys. */
static bool walk_top(struct pctx *p, struct fy_node *root, struct slot *top)
{
	struct slot sl[8];
	struct decl *d = p->d;
	const struct slot *s;

	if (!map_read(p, root, noloc, NULL, "a declaration", top_keys, NKEYS(top_keys), d, top))
		return false;
	walk_version(p, TOP("kortisto"));
	if (d->published && d->updated && strcmp(d->updated, d->published) < 0)
		err(p, TOP("updated")->vloc, NULL, "updated %s is before published %s", d->updated,
		    d->published);

	section(p, top, "controller", controller_keys, NKEYS(controller_keys), sl);

	s = TOP("responsible");
	d->responsible = get_list(p, s->v, s->vloc, NULL, "responsible", s->v != NULL,
	                          sizeof *d->responsible, &d->nresponsible, person_item,
	                          "responsible person");
	s = TOP("contacts");
	d->contacts = get_list(p, s->v, s->vloc, NULL, "contacts", false, sizeof *d->contacts,
	                       &d->ncontacts, person_item, "contact");
	s = TOP("dpo");
	if (s->v)
		map_read(p, s->v, s->kloc, "dpo", "dpo", person_keys, NKEYS(person_keys), &d->dpo,
		         sl);

	s = TOP("purposes");
	d->purposes = get_list(p, s->v, s->vloc, NULL, "purposes", s->v != NULL,
	                       sizeof *d->purposes, &d->npurposes, purpose_item, NULL);
	s = TOP("subject_groups");
	d->groups = get_list(p, s->v, s->vloc, NULL, "subject_groups", s->v != NULL,
	                     sizeof *d->groups, &d->ngroups, group_item, NULL);
	s = TOP("data_categories");
	d->categories = get_list(p, s->v, s->vloc, NULL, "data_categories", s->v != NULL,
	                         sizeof *d->categories, &d->ncategories, category_item, NULL);
	s = TOP("record_types");
	d->record_types =
	        get_list(p, s->v, s->vloc, NULL, "record_types", false, sizeof *d->record_types,
	                 &d->nrecord_types, record_type_item, NULL);
	s = TOP("sources");
	d->sources = get_list(p, s->v, s->vloc, NULL, "sources", s->v != NULL, sizeof *d->sources,
	                      &d->nsources, source_item, NULL);
	s = TOP("recipients");
	d->recipients = get_list(p, s->v, s->vloc, NULL, "recipients", false, sizeof *d->recipients,
	                         &d->nrecipients, recipient_item, NULL);

	section(p, top, "disclosures", disclosures_keys, NKEYS(disclosures_keys), sl);

	section(p, top, "transfers", transfers_keys, NKEYS(transfers_keys), sl);
	s = &sl[2];
	if (TOP("transfers")->v && !p->stop) {
		d->transfers.destinations = get_list(p, s->v, s->vloc, "transfers", "destinations",
		                                     false, sizeof *d->transfers.destinations,
		                                     &d->transfers.ndestinations, dest_item, NULL);
		if (d->transfers.outside_eea && !s->v)
			err(p, s->present ? s->kloc : TOP("transfers")->kloc, "transfers",
			    "'destinations' is required when outside_eea is true (GDPR Art. "
			    "13(1)(f))");
		else if (!d->transfers.outside_eea && d->transfers.ndestinations > 0 && sl[0].v)
			warn(p, s->kloc, "transfers",
			     "'destinations' given but outside_eea is false");
	}

	section(p, top, "retention", retention_keys, NKEYS(retention_keys), sl);
	s = &sl[2];
	d->retention.rules =
	        get_list(p, s->v, s->vloc, "retention", "rules", false, sizeof *d->retention.rules,
	                 &d->retention.nrules, rule_item, NULL);

	s = TOP("systems");
	d->systems = get_list(p, s->v, s->vloc, NULL, "systems", false, sizeof *d->systems,
	                      &d->nsystems, system_item, NULL);

	section(p, top, "security", security_keys, NKEYS(security_keys), sl);
	section(p, top, "automated_decision_making", adm_keys, NKEYS(adm_keys), sl);
	if (d->automated_decision_making.used && !d->automated_decision_making.text.s[LANG_FI])
		err(p, TOP("automated_decision_making")->kloc, "automated_decision_making",
		    "'text' is required when used is true (GDPR Art. 13(2)(f))");
	section(p, top, "profiling", profiling_keys, NKEYS(profiling_keys), sl);
	if (d->profiling.used && !d->profiling.text.s[LANG_FI])
		err(p, TOP("profiling")->kloc, "profiling",
		    "'text' is required when used is true (GDPR Art. 13(2)(f))");

	section(p, top, "rights", rights_keys, NKEYS(rights_keys), sl);
	s = &sl[0];
	if (s->v) {
		const char *dl = get_str(p, s->v, s->vloc, "rights", "deadline");

		if (dl && !duration_parse(dl, &d->rights.deadline))
			err(p, s->vloc, "rights",
			    "deadline '%s' must be an ISO 8601 duration PnYnMnWnD (e.g. P1M)",
			    shows(p, dl));
		else if (dl && (d->rights.deadline.years > 0 || d->rights.deadline.months > 1 ||
		                (d->rights.deadline.months == 1 && d->rights.deadline.days > 0) ||
		                (d->rights.deadline.months == 0 && d->rights.deadline.days > 31)))
			warn(p, s->vloc, "rights",
			     "deadline %s is longer than the one month of GDPR Art. 12(3)",
			     shows(p, dl));
	}

	section(p, top, "complaint_authority", authority_keys, NKEYS(authority_keys), sl);
	return true;
}

/* ------------------------------------------------------------------------------------------
 * Cross references and completeness
 */

static int cmp_ident(const void *a, const void *b)
{
	const struct ident *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The first declaration of `id` in a sorted index, or NULL. */
static const struct ident *ident_find(const struct index *x, const char *id)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(x->v[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->n && !strcmp(x->v[lo].id, id) ? &x->v[lo] : NULL;
}

static void check_duplicates(struct pctx *p)
{
	int k;
	size_t i, first;

	for (k = 0; k < REF__MAX; k++) {
		struct index *x = &p->idx[k];

		if (x->n > 1)
			qsort(x->v, x->n, sizeof *x->v, cmp_ident);
		for (i = 1, first = 0; i < x->n; i++) {
			if (strcmp(x->v[i].id, x->v[first].id)) {
				first = i;
				continue;
			}
			if (k == REF_FIELD) {
				const struct decl_field *f = x->v[first].obj;

				err(p, x->v[i].loc, NULL,
				    "field '%s' is already declared in data category '%s' on line "
				    "%d",
				    x->v[i].id,
				    f->category && f->category->id ? f->category->id : "?",
				    x->v[first].loc.line);
			} else {
				err(p, x->v[i].loc, NULL,
				    "duplicate %s id '%s' (first declared on line %d)",
				    refk_names[k], x->v[i].id, x->v[first].loc.line);
			}
		}
	}
}

static void check_except_value(struct pctx *p, const struct ref *r, const struct decl_field *f)
{
	size_t i;

	switch (f->type) {
	case FT_BOOL:
		if (r->equals_cls != N_BOOL)
			err(p, r->equals_loc, r->ctx,
			    "except on bool field '%s' must compare with true or false", f->id);
		break;
	case FT_INT:
		if (r->equals_cls != N_INT)
			err(p, r->equals_loc, r->ctx,
			    "except on int field '%s' must compare with a whole number", f->id);
		break;
	case FT_ENUM:
		for (i = 0; i < f->values.n; i++)
			if (f->values.v[i] && !strcmp(f->values.v[i], r->equals))
				return;
		if (f->values.n)
			err(p, r->equals_loc, r->ctx,
			    "except value '%s' is not one of the values of field '%s'",
			    shows(p, r->equals), f->id);
		break;
	default: break;
	}
}

static void check_refs(struct pctx *p)
{
	size_t i;

	for (i = 0; i < p->nrefs && !p->stop; i++) {
		const struct ref *r = &p->refs[i];
		const struct ident *t = ident_find(&p->idx[r->kind], r->id);
		const struct decl_field *f;

		if (!t) {
			err(p, r->loc, r->ctx, "%s names undeclared %s '%s'", r->key,
			    refk_names[r->kind], r->id);
			continue;
		}
		if (r->kind != REF_FIELD)
			continue;
		f = t->obj;
		if (r->want_date && f->type != FT_DATE)
			err(p, r->loc, r->ctx, "from field '%s' has type %s, not date", f->id,
			    field_type_names[f->type]);
		if (r->equals)
			check_except_value(p, r, f);
	}
}

/*
 * Whether the retention section gives a period kortisto can see: a rule with `after` (even
 * one with action none, which documents the period), a rule kept until the subject asks
 * (`from: until_request`), or a records-management plan whose periods the notice refers to.
 * The required `text` does not count: kortisto cannot tell whether free text states a period.
 */
static bool retention_has_period(const struct decl *d)
{
	size_t i;

	if (d->retention.plan.s[LANG_FI])
		return true;
	for (i = 0; i < d->retention.nrules; i++)
		if (d->retention.rules[i].has_after ||
		    d->retention.rules[i].from == RF_UNTIL_REQUEST)
			return true;
	return false;
}

/* Whether any data is collected from the subject, so that Art. 13 (not only 14) applies. */
static bool collects_from_subject(const struct decl *d)
{
	size_t i;

	for (i = 0; i < d->nsources; i++)
		if (d->sources[i].kind == SK_SUBJECT)
			return true;
	return false;
}

/* Where a warning about top-level key `name` goes: the key when present, else the file. */
static struct loc top_loc(const struct slot *top, const char *name)
{
	const struct slot *s = TOP(name);

	return s->present ? s->kloc : noloc;
}

/*
 * Warnings for items GDPR Art. 13/14 (or Finnish custom) expects in a notice but the format
 * leaves optional; each names what is missing and the article. They never make a
 * declaration unusable, and `register check --strict` fails on them. Items the format
 * requires are errors found by the key tables, whose messages name the article too.
 * docs/declarations.md §4 lists every item and how it is checked. Art. 14(2)(f), whether
 * data came from publicly accessible sources, needs no warning: every source must have a
 * kind, and `public` is one of them.
 */
static void check_completeness(struct pctx *p, const struct slot *top)
{
	const struct decl *d = p->d;

	if (ncls(TOP("controller")->v) == N_MAP && !d->controller.address && !d->controller.email &&
	    !d->controller.phone && !d->controller.web)
		warn(p, TOP("controller")->kloc, "controller",
		     "no address, email, phone or web (GDPR Art. 13(1)(a) asks for contact "
		     "details)");
	if (ncls(TOP("dpo")->v) == N_MAP && !d->dpo.address && !d->dpo.email && !d->dpo.phone)
		warn(p, TOP("dpo")->kloc, "dpo",
		     "no address, email or phone (GDPR Art. 13(1)(b) asks for contact details)");
	if (!d->ncontacts)
		warn(p, noloc, NULL, "no 'contacts': Finnish notices name a contact person");
	if (!d->updated)
		warn(p, noloc, NULL,
		     "no 'updated' date: the notice should say when it last changed");
	if (!d->nrecipients && !d->disclosures.text.s[LANG_FI]) {
		struct loc at = top_loc(top, "recipients");

		if (!at.line)
			at = top_loc(top, "disclosures");
		warn(p, at, NULL,
		     "no 'recipients' and no 'disclosures' text: the notice must name the "
		     "recipients or say that data is not disclosed (GDPR Art. 13(1)(e))");
	}
	if (ncls(TOP("retention")->v) == N_MAP && !retention_has_period(d))
		warn(p, TOP("retention")->kloc, "retention",
		     "no retention period (GDPR Art. 13(2)(a)): no rule has 'after' or "
		     "from: until_request, and no 'plan' is named");
	if (!d->nsystems)
		warn(p, noloc, NULL,
		     "no 'systems': Finnish notices name the systems that keep the "
		     "register");
	if (ncls(TOP("security")->v) == N_MAP && !d->security.manual.s[LANG_FI] &&
	    !d->security.electronic.s[LANG_FI] && !d->security.measures.n)
		warn(p, TOP("security")->kloc, "security",
		     "no 'manual', 'electronic' or 'measures': Finnish notices describe how the "
		     "register is protected (GDPR Art. 32)");
	if (!d->provision_requirement.s[LANG_FI] && collects_from_subject(d))
		warn(p, noloc, NULL,
		     "no 'provision_requirement' (GDPR Art. 13(2)(e): whether data must be given)");
	if (ncls(TOP("complaint_authority")->v) == N_MAP && !d->complaint_authority.address &&
	    !d->complaint_authority.email && !d->complaint_authority.phone &&
	    !d->complaint_authority.web)
		warn(p, TOP("complaint_authority")->kloc, "complaint_authority",
		     "no address, email, phone or web: the notice cannot say how to reach the "
		     "supervisory authority (GDPR Art. 13(2)(d))");
}

/* ------------------------------------------------------------------------------------------
 * Entry points
 */

static void fy_quiet(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/* Reports libfyaml's collected errors; returns how many there were. */
static size_t yaml_errors(struct pctx *p, struct fy_diag *fd)
{
	struct fy_diag_error *e;
	void *it = NULL;
	size_t n = 0;

	while ((e = fy_diag_errors_iterate(fd, &it))) {
		struct loc l = {e->line > 0 ? e->line : 0, e->column > 0 ? e->column : 0};

		if (e->type < FYET_ERROR)
			continue;
		err(p, l, NULL, "invalid YAML: %s", e->msg ? shows(p, e->msg) : "syntax error");
		n++;
	}
	return n;
}

/*
 * Refuses documents with many anchors: libfyaml 0.7 finds an alias's anchor by a linear
 * search, so 40 000 anchors and 20 000 aliases cost half a minute.
 */
static bool anchors_check(struct pctx *p, struct fy_document *doc)
{
	void *it = NULL;
	size_t n = 0;

	while (fy_document_anchor_iterate(doc, &it))
		if (++n > DECL_MAX_ANCHORS) {
			err(p, noloc, NULL, "too many YAML anchors (more than %d)",
			    DECL_MAX_ANCHORS);
			return false;
		}
	return true;
}

/* Checks the raw bytes: YAML allows no NUL, and every string kortisto keeps is UTF-8. */
static bool input_check(struct pctx *p, const char *text, size_t len)
{
	size_t i, line = 1, lstart = 0;

	for (i = 0; i < len; i++) {
		if (text[i] == '\n') {
			line++;
			lstart = i + 1;
		}
		if (text[i] == '\0') {
			err(p, (struct loc){(int)line, (int)(i - lstart + 1)}, NULL,
			    "invalid YAML: NUL byte in the input");
			return false;
		}
	}
	if (!utf8_valid(text, len)) {
		err(p, noloc, NULL, "invalid YAML: the file is not valid UTF-8");
		return false;
	}
	return true;
}

/*
 * Parses and checks a declaration; see decl.h. Returns 0 and a declaration the caller frees
 * with decl_free(), or -1 and NULL; every problem is appended to `diags` either way.
 */
int decl_parse(const char *file, const char *text, size_t len, struct decl **out,
               struct decl_diags *diags)
{
	struct decl_diags local = {NULL, 0, 0, 0};
	struct pctx p;
	struct decl_box *box = NULL;
	struct fy_diag_cfg dc;
	struct fy_diag *fd = NULL;
	struct fy_parse_cfg cfg;
	struct fy_parser *fyp = NULL;
	struct fy_document *doc = NULL, *doc2 = NULL;
	struct fy_node *root;
	struct slot top[NKEYS(top_keys)];
	int rc = -1;

	memset(&p, 0, sizeof p);
	p.diags = diags ? diags : &local;
	if (out)
		*out = NULL;
	if (!text)
		len = 0;
	if (len > DECL_MAX_INPUT) {
		err(&p, noloc, NULL, "declaration is larger than 1 MiB");
		goto out;
	}
	if (!input_check(&p, text ? text : "", len))
		goto out;

	box = calloc(1, sizeof *box);
	if (!box)
		oom();
	p.keep = &box->pool;
	p.d = &box->d;
	p.d->file = pool_strdup(p.keep, file ? file : "<input>");
	p.d->rights.deadline.months = 1;

	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = fy_quiet;
	dc.user = NULL;
	dc.colorize = false;
	fd = fy_diag_create(&dc);
	if (!fd)
		oom();
	fy_diag_set_collect_errors(fd, true);
	memset(&cfg, 0, sizeof cfg);
	/*
	 * libfyaml 0.7's own duplicate-key check is quadratic (80 000 keys in one map took
	 * minutes); the key tables find repeated keys instead, in linear time.
	 */
	cfg.flags = FYPCF_QUIET | FYPCF_JSON_NONE | FYPCF_ALLOW_DUPLICATE_KEYS;
	cfg.diag = fd;
	fyp = fy_parser_create(&cfg);
	if (!fyp)
		oom();
	if (fy_parser_set_string(fyp, len ? text : "", len) != 0) {
		err(&p, noloc, NULL, "invalid YAML: cannot read the input");
		goto out;
	}
	doc = fy_parse_load_document(fyp);
	if (doc && !fy_diag_got_error(fd)) {
		doc2 = fy_parse_load_document(fyp);
		if (doc2)
			err(&p, node_loc(fy_document_root(doc2), noloc), NULL,
			    "more than one YAML document: a declaration is one document");
	}
	if (yaml_errors(&p, fd) > 0 || fy_diag_got_error(fd)) {
		if (!p.nerr)
			err(&p, noloc, NULL, "invalid YAML");
		goto out;
	}
	if (p.nerr)
		goto out;
	root = doc ? fy_document_root(doc) : NULL;
	if (root && !anchors_check(&p, doc))
		goto out;
	if (!root) {
		err(&p, noloc, NULL, "the declaration is empty");
		goto out;
	}
	root = deref(&p, root, noloc);
	if (walk_top(&p, root, top) && !p.stop) {
		check_duplicates(&p);
		check_refs(&p);
		check_completeness(&p, top);
	}
	if (p.nerr == 0 && out) {
		*out = &box->d;
		box = NULL;
		rc = 0;
	} else if (p.nerr == 0) {
		rc = 0;
	}
out:
	if (doc2)
		fy_parse_document_destroy(fyp, doc2);
	if (doc)
		fy_parse_document_destroy(fyp, doc);
	if (fyp)
		fy_parser_destroy(fyp);
	if (fd)
		fy_diag_destroy(fd);
	pool_free(&p.tmp);
	if (box)
		decl_free(&box->d);
	if (!diags)
		decl_diags_free(&local);
	return rc;
}

/* Frees a declaration and everything it points to; accepts NULL. */
void decl_free(struct decl *d)
{
	struct decl_box *box = (struct decl_box *)d;

	if (!d)
		return;
	pool_free(&box->pool);
	free(box);
}

/* Frees the diagnostics array and empties the list; accepts NULL. */
void decl_diags_free(struct decl_diags *diags)
{
	if (!diags)
		return;
	free(diags->v);
	diags->v = NULL;
	diags->n = diags->cap = diags->nerrors = 0;
}

/* ------------------------------------------------------------------------------------------
 * Lookups and names
 */

/*
 * Lookups by id: each returns the item inside `d` (valid until decl_free) or NULL when the id
 * is not declared. Linear: declarations hold tens of items.
 */
const struct decl_field *decl_field(const struct decl *d, const char *id)
{
	size_t c, f;

	if (!d || !id)
		return NULL;
	for (c = 0; c < d->ncategories; c++)
		for (f = 0; f < d->categories[c].nfields; f++)
			if (!strcmp(d->categories[c].fields[f].id, id))
				return &d->categories[c].fields[f];
	return NULL;
}

#define DECL_FIND(arr, n)                                                                          \
	do {                                                                                       \
		size_t i_;                                                                         \
		if (!d || !id)                                                                     \
			return NULL;                                                               \
		for (i_ = 0; i_ < d->n; i_++)                                                      \
			if (!strcmp(d->arr[i_].id, id))                                            \
				return &d->arr[i_];                                                \
		return NULL;                                                                       \
	} while (0)

const struct decl_group *decl_group(const struct decl *d, const char *id)
{
	DECL_FIND(groups, ngroups);
}

const struct decl_source *decl_source(const struct decl *d, const char *id)
{
	DECL_FIND(sources, nsources);
}

const struct decl_purpose *decl_purpose(const struct decl *d, const char *id)
{
	DECL_FIND(purposes, npurposes);
}

const struct decl_category *decl_category(const struct decl *d, const char *id)
{
	DECL_FIND(categories, ncategories);
}

const struct decl_record_type *decl_record_type(const struct decl *d, const char *id)
{
	DECL_FIND(record_types, nrecord_types);
}

const struct decl_recipient *decl_recipient(const struct decl *d, const char *id)
{
	DECL_FIND(recipients, nrecipients);
}

/* Whether category `c` applies to subject group `group_id`; an empty group list is all. */
bool decl_category_applies(const struct decl_category *c, const char *group_id)
{
	size_t i;

	if (!c)
		return false;
	if (c->groups.n == 0)
		return true;
	if (!group_id)
		return false;
	for (i = 0; i < c->groups.n; i++)
		if (!strcmp(c->groups.v[i], group_id))
			return true;
	return false;
}

/* Text in `lang`, else Finnish (*fallback tells which); NULL when `t` has no text at all. */
const char *decl_text(const struct text *t, enum lang lang, bool *fallback)
{
	if (fallback)
		*fallback = false;
	if (!t)
		return NULL;
	if ((int)lang < 0 || lang >= LANG__MAX)
		lang = LANG_FI;
	if (t->s[lang])
		return t->s[lang];
	if (fallback && lang != LANG_FI && t->s[LANG_FI])
		*fallback = true;
	return t->s[LANG_FI];
}

/* Names of enum values as written in YAML; "?" for a value out of range. */
const char *decl_field_type_name(enum field_type t)
{
	return (int)t >= 0 && t < FT__MAX ? field_type_names[t] : "?";
}

const char *decl_basis_name(enum basis b)
{
	return (int)b >= 0 && b < BASIS__MAX ? basis_names[b] : "?";
}

const char *decl_action_name(enum ret_action a)
{
	return (int)a >= 0 && a < RA__MAX ? action_names[a] : "?";
}
