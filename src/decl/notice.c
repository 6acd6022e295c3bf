/*
 * The privacy notice of a register, built from its declaration in the order and with the
 * headings of Finnish practice. Register-specific wording is the declaration's own, in the
 * asked language or in Finnish, marked; what follows from the declaration's structure (the
 * legal basis of each group, which rights apply, what each retention rule does) is derived
 * here from the same fields the core enforces, in kortisto's own fi/sv/en texts.
 */
#include "decl/notice.h"

#include <string.h>

#include "decl/ndoc.h"

int notice_format_from_name(const char *name)
{
	static const char *const names[NF__MAX] = {"html", "md", "txt", "csv"};
	for (int i = 0; name && i < NF__MAX; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

const enum nmsg ndoc_recipient_msgs[RK__MAX] = {NM_RK_RECIPIENT, NM_RK_PROCESSOR,
                                                NM_RK_JOINT_CONTROLLER, NM_RK_INTERNAL_SYSTEM};

const enum nmsg ndoc_basis_msgs[BASIS__MAX] = {NM_BASIS_A, NM_BASIS_B, NM_BASIS_C,
                                               NM_BASIS_D, NM_BASIS_E, NM_BASIS_F};

/* A declared text in the document's language, or NULL; *fb says whether it is Finnish shown
 * in another language. */
static const char *tx(struct ndoc *doc, const struct text *t, bool *fb)
{
	const char *s = decl_text(t, doc->lang, fb);
	if (s && *fb)
		doc->any_fallback = true;
	return s;
}

/* Names (declared texts) joined with ", "; marked when any of them is a fallback. */
struct joiner {
	struct buf b;
	bool fallback;
};

static void join_add(struct ndoc *doc, struct joiner *j, const struct text *t)
{
	bool fb = false;
	const char *s = tx(doc, t, &fb);
	if (!s)
		return;
	if (j->b.len)
		buf_puts(&j->b, ", ");
	buf_puts(&j->b, s);
	j->fallback |= fb;
}

/* Adds the joined list as one block (nothing when empty) and frees the joiner. */
static struct nblock *join_emit(struct ndoc *doc, struct joiner *j, enum nb_kind kind,
                                const char *label)
{
	struct nblock *b = NULL;
	if (j->b.len) {
		b = ndoc_add(doc, kind, label, arena_strdup(&doc->mem, buf_str(&j->b)));
		b->fallback = j->fallback;
	}
	buf_free(&j->b);
	return b;
}

/* Contact lines of a person, the controller or an authority. */
static void contact_lines(struct ndoc *doc, const char *address, const char *phone,
                          const char *email, const char *web)
{
	if (address)
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_ADDRESS), address);
	if (phone)
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_PHONE), phone);
	if (email)
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_EMAIL), email)->link = NL_MAILTO;
	if (web)
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_WEB), web)->link = NL_HREF;
}

static void person(struct ndoc *doc, const struct decl_person *p)
{
	ndoc_add(doc, NB_P, NULL, p->name)->strong = true;
	ndoc_text(doc, NB_P, NULL, &p->title);
	contact_lines(doc, p->address, p->phone, p->email, NULL);
	ndoc_text(doc, NB_P, NULL, &p->note);
}

/* ------------------------------------------------------------------------------------------
 * Sections
 */

static void sec_controller(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_CONTROLLER), "controller", true);
	struct nblock *b = ndoc_text(doc, NB_P, NULL, &d->controller.name);
	if (b)
		b->strong = true;
	ndoc_text(doc, NB_KV, ndoc_m(doc, NM_UNIT), &d->controller.unit);
	if (d->controller.ytunnus)
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_YTUNNUS), d->controller.ytunnus);
	contact_lines(doc, d->controller.address, d->controller.phone, d->controller.email,
	              d->controller.web);
}

static void sec_persons(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_PERSONS), "persons", true);
	ndoc_msg(doc, NB_H3, NM_RESPONSIBLE);
	for (size_t i = 0; i < d->nresponsible; i++)
		person(doc, &d->responsible[i]);
	ndoc_msg(doc, NB_H3, NM_CONTACT);
	for (size_t i = 0; i < d->ncontacts; i++)
		person(doc, &d->contacts[i]);
	if (!d->ncontacts)
		ndoc_msg(doc, NB_P, NM_NO_CONTACTS);
}

static void sec_dpo(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_DPO), "dpo", true);
	person(doc, &d->dpo);
}

static void sec_purposes(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_PURPOSES), "purposes", true);
	ndoc_text(doc, NB_P, NULL, &d->description);
	ndoc_msg(doc, NB_P, NM_PURPOSES_INTRO);
	for (size_t i = 0; i < d->npurposes; i++) {
		const struct decl_purpose *p = &d->purposes[i];
		struct nblock *b = ndoc_text(doc, NB_LI, NULL, &p->text);
		if (b && p->direct_marketing) {
			b->text = ndoc_printf(doc, "%s (%s)", b->text,
			                      ndoc_m(doc, NM_DIRECT_MARKETING_PURPOSE));
		}
	}
	ndoc_msg(doc, NB_P, NM_BASES_INTRO);
	for (size_t i = 0; i < d->ngroups; i++) {
		const struct decl_group *g = &d->groups[i];
		ndoc_text(doc, NB_H3, NULL, &g->name);
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_BASIS_LABEL),
		         ndoc_m(doc, ndoc_basis_msgs[g->basis]));
		struct joiner j = {BUF_INIT, false};
		for (size_t k = 0; k < g->purposes.n; k++) {
			const struct decl_purpose *p = decl_purpose(d, g->purposes.v[k]);
			if (p)
				join_add(doc, &j, &p->text);
		}
		join_emit(doc, &j, NB_KV, ndoc_m(doc, NM_PURPOSES_LABEL));
		ndoc_text(doc, NB_P, NULL, &g->basis_text);
		ndoc_text(doc, NB_KV, ndoc_m(doc, NM_INTEREST), &g->interest);
	}
	if (d->legal_basis_text.n) {
		ndoc_msg(doc, NB_H3, NM_BASIS_AS_PUBLISHED);
		for (size_t i = 0; i < d->legal_basis_text.n; i++)
			ndoc_text(doc, NB_P, NULL, &d->legal_basis_text.v[i]);
	}
	if (d->provision_requirement.s[LANG_FI]) {
		ndoc_msg(doc, NB_H3, NM_PROVISION);
		ndoc_text(doc, NB_P, NULL, &d->provision_requirement);
	}
}

static void sec_groups(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_GROUPS), "groups", true);
	for (size_t i = 0; i < d->ngroups; i++) {
		const struct decl_group *g = &d->groups[i];
		ndoc_text(doc, NB_LI, NULL, &g->name);
	}
}

static void sec_categories(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_CATEGORIES), "categories", true);
	for (size_t i = 0; i < d->ncategories; i++) {
		const struct decl_category *c = &d->categories[i];
		ndoc_text(doc, NB_H3, NULL, &c->name);
		ndoc_text(doc, NB_P, NULL, &c->description);
		for (size_t k = 0; k < c->nfields; k++)
			ndoc_text(doc, NB_LI, NULL, &c->fields[k].label);
		for (size_t k = 0; k < c->items.n; k++)
			ndoc_text(doc, NB_LI, NULL, &c->items.v[k]);
		if (c->groups.n) {
			struct joiner j = {BUF_INIT, false};
			for (size_t k = 0; k < c->groups.n; k++) {
				const struct decl_group *g = decl_group(d, c->groups.v[k]);
				if (g)
					join_add(doc, &j, &g->name);
			}
			join_emit(doc, &j, NB_KV, ndoc_m(doc, NM_CONCERNS_GROUPS));
		}
	}
	if (d->nrecord_types) {
		ndoc_msg(doc, NB_P, NM_RECORDS_INTRO);
		for (size_t i = 0; i < d->nrecord_types; i++)
			ndoc_text(doc, NB_LI, NULL, &d->record_types[i].name);
	}
}

static void sec_sources(struct ndoc *doc, const struct decl *d)
{
	static const enum nmsg kinds[SK__MAX] = {NM_SK_SUBJECT, NM_SK_PUBLIC, NM_SK_THIRD_PARTY,
	                                         NM_SK_AUTHORITY, NM_SK_GENERATED};

	ndoc_section(doc, ndoc_m(doc, NM_H_SOURCES), "sources", true);
	/* Grouped by kind, so whether data came from public sources (Art. 14(2)(f)) shows. */
	for (int k = 0; k < SK__MAX; k++) {
		bool any = false;
		for (size_t i = 0; i < d->nsources; i++) {
			const struct decl_source *s = &d->sources[i];
			if (s->kind != (enum source_kind)k)
				continue;
			if (!any)
				ndoc_msg(doc, NB_H3, kinds[k]);
			any = true;
			ndoc_text(doc, NB_P, NULL, &s->text);
		}
	}
}

static const char *forbidden_name(struct ndoc *doc, const char *id)
{
	static const struct {
		const char *id;
		enum nmsg m;
	} known[] = {
	        {"direct_marketing", NM_FP_DIRECT_MARKETING},
	        {"telemarketing", NM_FP_TELEMARKETING},
	        {"address_service", NM_FP_ADDRESS_SERVICE},
	        {"market_research", NM_FP_MARKET_RESEARCH},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].id, id) == 0)
			return ndoc_m(doc, known[i].m);
	return id;
}

static void sec_recipients(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_RECIPIENTS), "recipients", true);
	if (!d->nrecipients && !d->disclosures.text.s[LANG_FI])
		ndoc_msg(doc, NB_P, NM_NO_RECIPIENTS);
	/* The principles first, then each recipient under its own heading. */
	ndoc_text(doc, NB_P, NULL, &d->disclosures.text);
	if (d->disclosures.on_request_only)
		ndoc_msg(doc, NB_P, NM_ON_REQUEST_ONLY);
	if (d->disclosures.legal_references.n) {
		struct buf b = BUF_INIT;
		for (size_t k = 0; k < d->disclosures.legal_references.n; k++) {
			if (k)
				buf_puts(&b, "; ");
			buf_puts(&b, d->disclosures.legal_references.v[k]);
		}
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_LEGAL_REFERENCES),
		         arena_strdup(&doc->mem, buf_str(&b)));
		buf_free(&b);
	}
	if (d->disclosures.forbidden_purposes.n) {
		ndoc_msg(doc, NB_P, NM_FORBIDDEN_INTRO);
		for (size_t k = 0; k < d->disclosures.forbidden_purposes.n; k++)
			ndoc_add(doc, NB_LI, NULL,
			         forbidden_name(doc, d->disclosures.forbidden_purposes.v[k]));
	}
	for (size_t i = 0; i < d->nrecipients; i++) {
		const struct decl_recipient *r = &d->recipients[i];
		ndoc_text(doc, NB_H3, NULL, &r->name);
		ndoc_msg(doc, NB_P, ndoc_recipient_msgs[r->kind]);
		ndoc_text(doc, NB_P, NULL, &r->text);
		if (r->contact_persons)
			ndoc_msg(doc, NB_P, NM_DIRECTORY_CONTACTS);
		if (r->has_basis)
			ndoc_add(doc, NB_KV, ndoc_m(doc, NM_BASIS_LABEL),
			         ndoc_m(doc, ndoc_basis_msgs[r->basis]));
		struct joiner j = {BUF_INIT, false};
		for (size_t k = 0; k < r->categories.n; k++) {
			const struct decl_category *c = decl_category(d, r->categories.v[k]);
			if (c)
				join_add(doc, &j, &c->name);
		}
		if (!r->categories.n)
			ndoc_add(doc, NB_KV, ndoc_m(doc, NM_DATA_DISCLOSED),
			         ndoc_m(doc, NM_ALL_CATEGORIES));
		join_emit(doc, &j, NB_KV, ndoc_m(doc, NM_DATA_DISCLOSED));
		j = (struct joiner){BUF_INIT, false};
		for (size_t k = 0; k < r->purposes.n; k++) {
			const struct decl_purpose *p = decl_purpose(d, r->purposes.v[k]);
			if (p)
				join_add(doc, &j, &p->text);
		}
		join_emit(doc, &j, NB_KV, ndoc_m(doc, NM_PURPOSES_LABEL));
	}
}

static void sec_transfers(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_TRANSFERS), "transfers", true);
	if (!d->transfers.outside_eea) {
		ndoc_msg(doc, NB_P, NM_NO_TRANSFERS);
	} else {
		ndoc_msg(doc, NB_P, NM_TRANSFERS_INTRO);
		for (size_t i = 0; i < d->transfers.ndestinations; i++) {
			const struct decl_transfer_dest *t = &d->transfers.destinations[i];
			const struct decl_recipient *r =
			        t->recipient ? decl_recipient(d, t->recipient) : NULL;
			bool fb = false;
			const char *rname = r ? tx(doc, &r->name, &fb) : NULL;
			struct nblock *b = ndoc_add(
			        doc, NB_LI, NULL,
			        rname ? ndoc_printf(doc, "%s: %s", t->country, rname) : t->country);
			b->fallback = fb;
			struct nblock *s = ndoc_text(doc, NB_LIP, NULL, &t->safeguard);
			if (s)
				s->text = ndoc_printf(doc, "%s: %s", ndoc_m(doc, NM_SAFEGUARD),
				                      s->text);
		}
	}
	ndoc_text(doc, NB_P, NULL, &d->transfers.text);
}

/* "10 vuoden", "ett år", "one year and 6 months". */
static const char *duration_words(struct ndoc *doc, struct duration du)
{
	const int parts[3] = {du.years, du.months, du.days};
	const enum nmsg one[3] = {NM_YEAR_1, NM_MONTH_1, NM_DAY_1};
	const enum nmsg many[3] = {NM_YEARS, NM_MONTHS, NM_DAYS};
	struct buf b = BUF_INIT;
	int n = 0, total = (parts[0] > 0) + (parts[1] > 0) + (parts[2] > 0);

	for (int i = 0; i < 3; i++) {
		if (parts[i] <= 0)
			continue;
		if (n)
			buf_puts(&b, n == total - 1 ? " " : ", ");
		if (n && n == total - 1) {
			buf_puts(&b, ndoc_m(doc, NM_AND));
			buf_putc(&b, ' ');
		}
		if (parts[i] == 1)
			buf_puts(&b, ndoc_m(doc, one[i]));
		else
			buf_appendf(&b, ndoc_m(doc, many[i]), parts[i]);
		n++;
	}
	char *s = arena_strdup(&doc->mem, buf_str(&b));
	buf_free(&b);
	return s;
}

const char *ndoc_rule_sentence(struct ndoc *doc, const struct decl *d, const struct decl_rule *r)
{
	static const enum nmsg actions[RA__MAX] = {NM_RET_DELETE, NM_RET_ANONYMIZE,
	                                           NM_RET_PASSIVATE, NM_RET_ARCHIVE, NM_RET_KEEP};
	static const enum nmsg from[RF__MAX] = {NM_FROM_LAST_EVENT,      NM_FROM_CREATED,
	                                        NM_FROM_AFFILIATION_END, NM_FROM_CONSENT_WITHDRAWN,
	                                        NM_FROM_CREATED,         NM_FROM_FIELD};
	static const enum nmsg now[RF__MAX] = {NM_NOW_LAST_EVENT,      NM_NOW_CREATED,
	                                       NM_NOW_AFFILIATION_END, NM_NOW_CONSENT_WITHDRAWN,
	                                       NM_NOW_CREATED,         NM_NOW_FIELD};
	struct buf b = BUF_INIT;

	if (r->from == RF_UNTIL_REQUEST || r->action == RA_NONE) {
		buf_puts(&b,
		         ndoc_m(doc, r->from == RF_UNTIL_REQUEST ? NM_UNTIL_REQUEST : NM_RET_KEEP));
		if (r->from != RF_UNTIL_REQUEST)
			buf_putc(&b, '.');
	} else {
		const char *label = NULL;
		if (r->from == RF_FIELD) {
			const struct decl_field *f = decl_field(d, r->from_field);
			bool fb = false;
			label = f ? tx(doc, &f->label, &fb) : r->from_field;
		}
		bool zero = !r->has_after ||
		            (r->after.years == 0 && r->after.months == 0 && r->after.days == 0);
		buf_puts(&b, ndoc_m(doc, actions[r->action]));
		buf_putc(&b, ' ');
		if (zero) {
			buf_appendf(&b, ndoc_m(doc, now[r->from]), label ? label : "");
		} else {
			const char *f =
			        ndoc_printf(doc, ndoc_m(doc, from[r->from]), label ? label : "");
			buf_appendf(&b, ndoc_m(doc, NM_RET_AFTER), duration_words(doc, r->after),
			            f);
		}
		buf_putc(&b, '.');
	}
	if (r->groups.n || r->record_types.n) {
		struct joiner j = {BUF_INIT, false};
		for (size_t k = 0; k < r->groups.n; k++) {
			const struct decl_group *g = decl_group(d, r->groups.v[k]);
			if (g)
				join_add(doc, &j, &g->name);
		}
		for (size_t k = 0; k < r->record_types.n; k++) {
			const struct decl_record_type *t =
			        decl_record_type(d, r->record_types.v[k]);
			if (t)
				join_add(doc, &j, &t->name);
		}
		buf_appendf(&b, " %s: %s.",
		            ndoc_m(doc, r->groups.n ? NM_RET_GROUPS : NM_RET_RECORDS),
		            buf_str(&j.b));
		buf_free(&j.b);
	}
	for (size_t k = 0; k < r->nexcept; k++) {
		const struct decl_field *f = decl_field(d, r->except[k].field);
		bool fb = false;
		const char *label = f ? tx(doc, &f->label, &fb) : r->except[k].field;
		const char *v = r->except[k].equals;
		/* A yes/no field's label names the people it marks: "does not apply to them". */
		if (f && f->type == FT_BOOL)
			buf_appendf(
			        &b, " %s: %s.",
			        ndoc_m(doc, strcmp(v, "true") == 0 ? NM_RET_EXCEPT : NM_RET_ONLY),
			        label);
		else
			buf_appendf(&b, " %s: %s = %s.", ndoc_m(doc, NM_RET_EXCEPT), label, v);
	}
	char *s = arena_strdup(&doc->mem, buf_str(&b));
	buf_free(&b);
	return s;
}

static void sec_retention(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_RETENTION), "retention", true);
	ndoc_text(doc, NB_P, NULL, &d->retention.text);
	for (size_t i = 0; i < d->retention.nrules; i++) {
		const struct decl_rule *r = &d->retention.rules[i];
		ndoc_add(doc, NB_LI, NULL, ndoc_rule_sentence(doc, d, r));
		/* The rule's own wording, unless the paragraph above already says it. */
		const char *fi = r->text.s[LANG_FI];
		if (fi && !(d->retention.text.s[LANG_FI] &&
		            strcmp(fi, d->retention.text.s[LANG_FI]) == 0))
			ndoc_text(doc, NB_LIP, NULL, &r->text);
	}
	ndoc_text(doc, NB_KV, ndoc_m(doc, NM_RETENTION_PLAN), &d->retention.plan);
}

static void sec_security(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_SECURITY), "security", true);
	if (d->nsystems) {
		ndoc_msg(doc, NB_P, NM_SYSTEMS_INTRO);
		for (size_t i = 0; i < d->nsystems; i++) {
			ndoc_text(doc, NB_LI, NULL, &d->systems[i].name);
			ndoc_text(doc, NB_LIP, NULL, &d->systems[i].text);
		}
	}
	ndoc_text(doc, NB_KV, ndoc_m(doc, NM_MANUAL), &d->security.manual);
	ndoc_text(doc, NB_KV, ndoc_m(doc, NM_ELECTRONIC), &d->security.electronic);
	if (d->security.measures.n) {
		ndoc_msg(doc, NB_H3, NM_MEASURES);
		for (size_t i = 0; i < d->security.measures.n; i++)
			ndoc_text(doc, NB_LI, NULL, &d->security.measures.v[i]);
	}
	ndoc_msg(doc, NB_P, NM_BY_CONSTRUCTION);
}

static void sec_automated(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_AUTOMATED), "automated", true);
	if (d->automated_decision_making.used)
		ndoc_text(doc, NB_KV, ndoc_m(doc, NM_ADM_USED), &d->automated_decision_making.text);
	else
		ndoc_msg(doc, NB_P, NM_NO_ADM);
	if (d->profiling.used)
		ndoc_text(doc, NB_KV, ndoc_m(doc, NM_PROFILING_USED), &d->profiling.text);
	else
		ndoc_msg(doc, NB_P, NM_NO_PROFILING);
	/* The controller's own words, once when both say the same. */
	if (!d->automated_decision_making.used)
		ndoc_text(doc, NB_P, NULL, &d->automated_decision_making.text);
	const char *a = d->automated_decision_making.text.s[LANG_FI];
	const char *p = d->profiling.text.s[LANG_FI];
	if (!d->profiling.used && !(a && p && strcmp(a, p) == 0))
		ndoc_text(doc, NB_P, NULL, &d->profiling.text);
}

/* The groups whose basis is one of `bases` (a bit per enum basis): whether there are any,
 * and with `emit` one list item each. */
static bool groups_with(struct ndoc *doc, const struct decl *d, unsigned bases, bool emit)
{
	bool any = false;
	for (size_t i = 0; i < d->ngroups; i++) {
		if (!(bases & (1u << d->groups[i].basis)))
			continue;
		any = true;
		if (emit)
			ndoc_text(doc, NB_LI, NULL, &d->groups[i].name);
	}
	return any;
}

#define B(x) (1u << (x))

static void sec_rights(struct ndoc *doc, const struct decl *d)
{
	const unsigned keep = B(BASIS_C) | B(BASIS_E);
	bool dm = false, passivates = false;

	for (size_t i = 0; i < d->npurposes; i++)
		dm |= d->purposes[i].direct_marketing;
	passivates = d->rights.erasure_by_passivation;
	for (size_t i = 0; i < d->retention.nrules; i++)
		passivates |= d->retention.rules[i].action == RA_PASSIVATE;

	ndoc_section(doc, ndoc_m(doc, NM_H_RIGHTS), "rights", true);
	ndoc_msg(doc, NB_H3, NM_R_ACCESS);
	ndoc_msg(doc, NB_P, NM_R_ACCESS_TEXT);
	ndoc_msg(doc, NB_H3, NM_R_RECTIFY);
	ndoc_msg(doc, NB_P, NM_R_RECTIFY_TEXT);

	/* Erasure: the Art. 17(3)(b) exception for legal obligation and public task. */
	ndoc_msg(doc, NB_H3, NM_R_ERASE);
	bool all_kept = d->ngroups > 0;
	for (size_t i = 0; i < d->ngroups; i++)
		all_kept &= (keep & B(d->groups[i].basis)) != 0;
	if (all_kept) {
		ndoc_msg(doc, NB_P, NM_R_ERASE_NONE);
	} else {
		ndoc_msg(doc, NB_P, NM_R_ERASE_TEXT);
		if (groups_with(doc, d, keep, false)) {
			ndoc_msg(doc, NB_P, NM_R_ERASE_EXCEPTION);
			groups_with(doc, d, keep, true);
		}
		if (passivates)
			ndoc_msg(doc, NB_P, NM_R_PASSIVATE_TEXT);
	}

	ndoc_msg(doc, NB_H3, NM_R_RESTRICT);
	ndoc_msg(doc, NB_P, NM_R_RESTRICT_TEXT);

	/* Portability: only processing on consent or contract (Art. 20(1)(a)). */
	if (groups_with(doc, d, B(BASIS_A) | B(BASIS_B), false)) {
		ndoc_msg(doc, NB_H3, NM_R_PORTABILITY);
		ndoc_msg(doc, NB_P, NM_R_PORTABILITY_TEXT);
		groups_with(doc, d, B(BASIS_A) | B(BASIS_B), true);
	}
	/* Objection: processing on public task or legitimate interest (Art. 21(1)), and always
	 * to direct marketing (Art. 21(2)). */
	bool object = groups_with(doc, d, B(BASIS_E) | B(BASIS_F), false);
	if (object || dm) {
		ndoc_msg(doc, NB_H3, NM_R_OBJECT);
		if (object) {
			ndoc_msg(doc, NB_P, NM_R_OBJECT_TEXT);
			groups_with(doc, d, B(BASIS_E) | B(BASIS_F), true);
		}
		if (dm)
			ndoc_msg(doc, NB_P, NM_R_OBJECT_DM);
	}
	if (groups_with(doc, d, B(BASIS_A), false)) {
		ndoc_msg(doc, NB_H3, NM_R_WITHDRAW);
		ndoc_msg(doc, NB_P, NM_R_WITHDRAW_TEXT);
		groups_with(doc, d, B(BASIS_A), true);
	}
	if (d->automated_decision_making.used) {
		ndoc_msg(doc, NB_H3, NM_R_ADM);
		ndoc_msg(doc, NB_P, NM_R_ADM_TEXT);
	}

	ndoc_msg(doc, NB_H3, NM_R_HOW);
	ndoc_text(doc, NB_KV, ndoc_m(doc, NM_R_CHANNEL), &d->rights.channel);
	ndoc_text(doc, NB_KV, ndoc_m(doc, NM_R_IDENTITY), &d->rights.identity_check);
	ndoc_msg(doc, NB_P, NM_R_CONTROLLER_CONTACT);
	ndoc_add(doc, NB_P, NULL,
	         ndoc_printf(doc, ndoc_m(doc, NM_R_DEADLINE),
	                     duration_words(doc, d->rights.deadline)));
	ndoc_msg(doc, NB_P, NM_R_FREE);
	ndoc_msg(doc, NB_P, NM_R_REFUSAL);
	if (d->rights.texts.n) {
		ndoc_msg(doc, NB_H3, NM_R_FURTHER);
		for (size_t i = 0; i < d->rights.texts.n; i++)
			ndoc_text(doc, NB_P, NULL, &d->rights.texts.v[i]);
	}
}

static void sec_complaint(struct ndoc *doc, const struct decl *d)
{
	ndoc_section(doc, ndoc_m(doc, NM_H_COMPLAINT), "complaint", true);
	ndoc_msg(doc, NB_P, NM_COMPLAINT_TEXT);
	struct nblock *b = ndoc_text(doc, NB_P, NULL, &d->complaint_authority.name);
	if (b)
		b->strong = true;
	contact_lines(doc, d->complaint_authority.address, d->complaint_authority.phone,
	              d->complaint_authority.email, d->complaint_authority.web);
}

static void sec_notes(struct ndoc *doc, const struct decl *d)
{
	if (!d->notes.n)
		return;
	ndoc_section(doc, ndoc_m(doc, NM_H_NOTES), "notes", true);
	for (size_t i = 0; i < d->notes.n; i++)
		ndoc_text(doc, NB_P, NULL, &d->notes.v[i]);
}

/* The notice as blocks: title block and the numbered sections. */
static void build(struct ndoc *doc, const struct decl *d, const struct notice_opts *o)
{
	ndoc_msg(doc, NB_KIND, NM_TITLE);
	ndoc_text(doc, NB_TITLE, NULL, &d->name);
	ndoc_msg(doc, NB_P, NM_LAW);
	ndoc_add(doc, NB_KV, ndoc_m(doc, NM_PUBLISHED), ndoc_date(doc, d->published));
	if (d->updated)
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_UPDATED), ndoc_date(doc, d->updated));
	if (o && o->version > 0) {
		const char *v = o->in_force_from ? ndoc_printf(doc, "%d (%s %s)", o->version,
		                                               ndoc_m(doc, NM_IN_FORCE_FROM),
		                                               ndoc_date(doc, o->in_force_from))
		                                 : ndoc_printf(doc, "%d", o->version);
		ndoc_add(doc, NB_KV, ndoc_m(doc, NM_VERSION), v);
	}
	sec_controller(doc, d);
	sec_persons(doc, d);
	sec_dpo(doc, d);
	sec_purposes(doc, d);
	sec_groups(doc, d);
	sec_categories(doc, d);
	sec_sources(doc, d);
	sec_recipients(doc, d);
	sec_transfers(doc, d);
	sec_retention(doc, d);
	sec_security(doc, d);
	sec_automated(doc, d);
	sec_rights(doc, d);
	sec_complaint(doc, d);
	sec_notes(doc, d);
}

/* ------------------------------------------------------------------------------------------
 * Changes between versions
 */

static bool same_block(const struct nblock *a, const struct nblock *b)
{
	return a->kind == b->kind && !strcmp(a->text, b->text) &&
	       !strcmp(a->label ? a->label : "", b->label ? b->label : "");
}

/* How many blocks of section `sec` of `doc` equal `b`. */
static size_t count_in(const struct ndoc *doc, int sec, const struct nblock *b)
{
	size_t n = 0;
	for (size_t k = 0; k < doc->n; k++)
		n += doc->v[k].section == sec && same_block(b, &doc->v[k]);
	return n;
}

/*
 * Appends, as list items, the blocks of section `sec` of `from` that occur there more often
 * than in `to`: each distinct block once, at its first occurrence, so a line repeated in a
 * section (the purposes of two groups) is listed once, and one that became more frequent is
 * listed too.
 */
static size_t diff_section(struct ndoc *out, const struct ndoc *from, const struct ndoc *to,
                           int sec, enum nmsg verb)
{
	size_t n = 0;
	for (size_t i = 0; i < from->n; i++) {
		const struct nblock *a = &from->v[i];
		if (a->section != sec || a->kind == NB_H2)
			continue;
		bool first = true;
		for (size_t k = 0; k < i && first; k++)
			first = !(from->v[k].section == sec && same_block(a, &from->v[k]));
		if (!first || count_in(from, sec, a) <= count_in(to, sec, a))
			continue;
		const char *t = a->label ? ndoc_printf(out, "%s: %s", a->label, a->text)
		                         : ndoc_printf(out, "%s", a->text);
		struct nblock *b = ndoc_add(out, NB_LI, NULL,
		                            ndoc_printf(out, "%s: %s", ndoc_m(out, verb), t));
		b->fallback = a->fallback;
		n++;
	}
	return n;
}

static const char *section_heading(const struct ndoc *doc, int sec)
{
	for (size_t i = 0; i < doc->n; i++)
		if (doc->v[i].kind == NB_H2 && doc->v[i].section == sec)
			return doc->v[i].text;
	return NULL;
}

/* What changed since the previous version, section by section. The sections are the same
 * in every version, so their numbers identify them. */
static void sec_changes(struct ndoc *doc, const struct decl *d, const struct notice_opts *o)
{
	struct ndoc now, old;
	size_t total = 0;

	ndoc_init(&now, doc->lang);
	ndoc_init(&old, doc->lang);
	build(&now, d, NULL);
	build(&old, o->previous, NULL);
	ndoc_section(doc, ndoc_printf(doc, ndoc_m(doc, NM_CHANGES), o->previous_version), "changes",
	             false);
	for (int sec = 1; sec <= now.sections || sec <= old.sections; sec++) {
		const char *heading = section_heading(&now, sec);
		if (!heading)
			heading = section_heading(&old, sec);
		size_t mark = doc->n;
		ndoc_add(doc, NB_H3, NULL, ndoc_printf(doc, "%d. %s", sec, heading ? heading : ""));
		size_t n = diff_section(doc, &now, &old, sec, NM_ADDED);
		n += diff_section(doc, &old, &now, sec, NM_REMOVED);
		if (!n)
			doc->n = mark; /* nothing changed here: drop the heading */
		total += n;
	}
	if (!total)
		ndoc_msg(doc, NB_P, NM_NO_CHANGES);
	ndoc_free(&now);
	ndoc_free(&old);
}

static void sec_history(struct ndoc *doc, const struct notice_opts *o)
{
	ndoc_section(doc, ndoc_m(doc, NM_VERSIONS), "versions", false);
	for (size_t i = 0; i < o->nhistory; i++) {
		const struct notice_version *v = &o->history[i];
		struct buf b = BUF_INIT;
		buf_appendf(&b, "%s %d: %s %s", ndoc_m(doc, NM_VERSION), v->version,
		            ndoc_m(doc, NM_PUBLISHED), ndoc_date(doc, v->published));
		if (v->updated)
			buf_appendf(&b, ", %s %s", ndoc_m(doc, NM_UPDATED),
			            ndoc_date(doc, v->updated));
		if (v->loaded_at)
			buf_appendf(&b, ", %s %s", ndoc_m(doc, NM_IN_FORCE_FROM),
			            ndoc_date(doc, v->loaded_at));
		struct nblock *li =
		        ndoc_add(doc, NB_LI, NULL, arena_strdup(&doc->mem, buf_str(&b)));
		buf_free(&b);
		if (o->self_href && v->version != o->version)
			li->href = ndoc_printf(doc, "%s?lang=%s&version=%d", o->self_href,
			                       lang_code(doc->lang), v->version);
	}
}

int notice_render(const struct decl *d, const struct notice_opts *o, struct buf *out)
{
	struct ndoc doc;

	if (o->format != NF_HTML && o->format != NF_MD && o->format != NF_TXT)
		return -1;
	ndoc_init(&doc, o->lang);
	build(&doc, d, o);
	if (o->previous)
		sec_changes(&doc, d, o);
	if (o->nhistory)
		sec_history(&doc, o);
	if (o->format == NF_HTML) {
		bool fb = false;
		const char *name = decl_text(&d->name, o->lang, &fb);
		struct ndoc_html h = {
		        .css_href = o->css_href,
		        .lang_href = o->self_href,
		        .version = o->version_in_links ? o->version : 0,
		        .title = ndoc_printf(&doc, "%s – %s", ndoc_m(&doc, NM_TITLE), name),
		};
		ndoc_emit_html(&doc, &h, out);
	} else if (o->format == NF_MD) {
		ndoc_emit_md(&doc, out);
	} else {
		ndoc_emit_txt(&doc, out);
	}
	ndoc_free(&doc);
	return 0;
}

void notice_part_html(const struct decl *d, enum lang lang, enum notice_part part, struct buf *out)
{
	notice_part_html_at(d, lang, part, "", 2, out);
}

void notice_part_html_at(const struct decl *d, enum lang lang, enum notice_part part,
                         const char *id_prefix, int level, struct buf *out)
{
	static void (*const parts[NP__MAX])(struct ndoc *, const struct decl *) = {
	        [NP_CONTROLLER] = sec_controller, [NP_PURPOSES] = sec_purposes,
	        [NP_CATEGORIES] = sec_categories, [NP_SOURCES] = sec_sources,
	        [NP_RECIPIENTS] = sec_recipients, [NP_TRANSFERS] = sec_transfers,
	        [NP_RETENTION] = sec_retention,   [NP_AUTOMATED] = sec_automated,
	        [NP_RIGHTS] = sec_rights,         [NP_COMPLAINT] = sec_complaint,
	};
	struct ndoc doc;

	if ((int)part < 0 || part >= NP__MAX)
		return;
	ndoc_init(&doc, lang);
	parts[part](&doc, d);
	/* Out of the notice, its section numbers would mean nothing. */
	for (size_t i = 0; i < doc.n; i++)
		if (doc.v[i].kind == NB_H2)
			doc.v[i].plain = true;
	ndoc_emit_html_part(&doc, id_prefix, level, out);
	ndoc_free(&doc);
}
