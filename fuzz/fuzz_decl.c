/*
 * libFuzzer harness for src/decl/decl.c and the notice generator. The input is copied into a
 * buffer of exactly its size with no terminator, so AddressSanitizer catches any read past
 * the end, and handed to decl_parse(). Beyond "does not crash or leak", the harness checks the
 * contract: the return value agrees with the error count, and an accepted declaration is
 * complete — every id it declares is found again by the lookups and every reference it makes
 * resolves. An accepted declaration is then rendered as a notice in every language and
 * format, compared with itself as a previous version, and as a record of processing; no
 * declaration text may open an HTML element of its own. The first bytes also go through the
 * Accept-Language parser.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decl/decl.h"
#include "decl/notice.h"
#include "decl/notice_text.h"
#include "util/buf.h"

/* Aborts the run so that libFuzzer records the input that broke an invariant. */
static void require(bool cond)
{
	if (!cond)
		abort();
}

static void require_text(const struct text *t)
{
	require(t->s[LANG_FI] != NULL && t->s[LANG_FI][0] != '\0');
}

static void check_accepted(const struct decl *d)
{
	size_t i, j, k;

	require(d->id != NULL && d->published != NULL && d->file != NULL);
	require_text(&d->name);
	require(d->nresponsible > 0 && d->npurposes > 0 && d->ngroups > 0 && d->ncategories > 0 &&
	        d->nsources > 0);
	for (i = 0; i < d->npurposes; i++)
		require(decl_purpose(d, d->purposes[i].id) == &d->purposes[i]);
	for (i = 0; i < d->ngroups; i++) {
		const struct decl_group *g = &d->groups[i];

		require(decl_group(d, g->id) == g);
		require(g->basis < BASIS__MAX && g->kind < GK__MAX);
		require(g->basis != BASIS_F || g->interest.s[LANG_FI] != NULL);
		for (j = 0; j < g->purposes.n; j++)
			require(decl_purpose(d, g->purposes.v[j]) != NULL);
	}
	for (i = 0; i < d->ncategories; i++) {
		const struct decl_category *c = &d->categories[i];

		require(decl_category(d, c->id) == c);
		for (j = 0; j < c->groups.n; j++)
			require(decl_group(d, c->groups.v[j]) != NULL);
		for (j = 0; j < c->nfields; j++) {
			const struct decl_field *f = &c->fields[j];

			require(decl_field(d, f->id) == f && f->category == c);
			require(f->type < FT__MAX);
			require((f->type == FT_ENUM) == (f->values.n > 0));
			require(f->source == NULL || decl_source(d, f->source) != NULL);
		}
	}
	for (i = 0; i < d->nrecord_types; i++)
		require(d->record_types[i].category == NULL ||
		        decl_category(d, d->record_types[i].category) != NULL);
	for (i = 0; i < d->nrecipients; i++) {
		const struct decl_recipient *r = &d->recipients[i];

		require(decl_recipient(d, r->id) == r && r->purposes.n > 0);
		for (j = 0; j < r->purposes.n; j++)
			require(decl_purpose(d, r->purposes.v[j]) != NULL);
		for (j = 0; j < r->categories.n; j++)
			require(decl_category(d, r->categories.v[j]) != NULL);
	}
	require(!d->transfers.outside_eea || d->transfers.ndestinations > 0);
	for (i = 0; i < d->retention.nrules; i++) {
		const struct decl_rule *r = &d->retention.rules[i];

		require(r->from < RF__MAX && r->action < RA__MAX);
		require(r->has_after || r->from == RF_UNTIL_REQUEST || r->action == RA_NONE);
		require(r->from != RF_FIELD || (decl_field(d, r->from_field) != NULL &&
		                                decl_field(d, r->from_field)->type == FT_DATE));
		for (k = 0; k < r->nexcept; k++)
			require(decl_field(d, r->except[k].field) != NULL && r->except[k].equals);
	}
	require(d->updated == NULL || strcmp(d->updated, d->published) >= 0);
	require(decl_text(&d->rights.channel, LANG_EN, NULL) != NULL);
}

/* Renders everything a declaration is published as. */
static void check_rendered(const struct decl *d)
{
	static const enum notice_format formats[] = {NF_HTML, NF_MD, NF_TXT};
	struct buf b = BUF_INIT;

	for (int l = 0; l < LANG__MAX; l++) {
		for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
			struct notice_opts o = {.lang = (enum lang)l,
			                        .format = formats[f],
			                        .version = 2,
			                        .previous = d,
			                        .previous_version = 1};
			require(notice_render(d, &o, &b) == 0 && b.len > 0);
			/* Declaration texts are escaped: "<script" can only come from them. */
			require(formats[f] != NF_HTML || !strstr(buf_str(&b), "<script"));
			buf_reset(&b);
		}
		require(record_render(&d, 1, (enum lang)l, NF_CSV, &b) == 0 && b.len > 0);
		buf_reset(&b);
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decl_diags dg = {NULL, 0, 0, 0};
	struct decl *d = NULL;
	char *s = malloc(size ? size : 1);
	size_t i, nerr = 0;
	int rc;

	if (s == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	/* The Accept-Language parser on the input's first line, as a C string. */
	char header[256];
	size_t hl = 0;
	while (hl < size && hl < sizeof(header) - 1 && data[hl] != '\n' && data[hl] != '\0') {
		header[hl] = (char)data[hl];
		hl++;
	}
	header[hl] = '\0';
	require(lang_negotiate(NULL, header) < LANG__MAX);
	rc = decl_parse("fuzz.yaml", s, size, &d, &dg);
	for (i = 0; i < dg.n; i++) {
		require(memchr(dg.v[i].message, '\0', sizeof dg.v[i].message) != NULL);
		require(dg.v[i].line >= 0 && dg.v[i].column >= 0);
		nerr += !dg.v[i].warning;
	}
	require(nerr == dg.nerrors);
	if (rc == 0) {
		require(d != NULL && dg.nerrors == 0);
		check_accepted(d);
		check_rendered(d);
	} else {
		require(rc == -1 && d == NULL && dg.nerrors > 0);
	}
	decl_free(d);
	decl_diags_free(&dg);
	free(s);
	return 0;
}
