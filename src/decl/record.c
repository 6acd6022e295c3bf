/*
 * The record of processing activities (GDPR Art. 30(1)) of the controller: for each
 * register, items (a) to (g) of the article, taken from its declaration. It shares the
 * notice's derived sentences (legal bases, retention rules), so the record, the notice and
 * what kortisto enforces say the same.
 */
#include <string.h>

#include "decl/ndoc.h"
#include "decl/notice.h"
#include "util/csv.h"

/* The items of one register as (heading, text) pairs; texts are in the document's memory. */
enum rop_item {
	RI_CONTROLLER,
	RI_PURPOSES,
	RI_GROUPS,
	RI_CATEGORIES,
	RI_RECIPIENTS,
	RI_TRANSFERS,
	RI_RETENTION,
	RI_SECURITY,
	RI__MAX
};

static const enum nmsg item_msgs[RI__MAX] = {
        NM_ROP_CONTROLLER, NM_ROP_PURPOSES,  NM_ROP_GROUPS,    NM_ROP_CATEGORIES,
        NM_ROP_RECIPIENTS, NM_ROP_TRANSFERS, NM_ROP_RETENTION, NM_ROP_SECURITY,
};

/* Appends a declared text to `b` after `sep` (when `b` is not empty); marks fallbacks. */
static void put(struct ndoc *doc, struct buf *b, const char *sep, const struct text *t)
{
	bool fb = false;
	const char *s = decl_text(t, doc->lang, &fb);
	if (!s || !*s)
		return;
	if (b->len)
		buf_puts(b, sep);
	buf_puts(b, s);
	if (fb) {
		doc->any_fallback = true;
		buf_putc(b, ' ');
		buf_puts(b, ndoc_m(doc, NM_IN_FINNISH));
	}
}

static void put_s(struct buf *b, const char *sep, const char *s)
{
	if (!s || !*s)
		return;
	if (b->len)
		buf_puts(b, sep);
	buf_puts(b, s);
}

static void contact(struct buf *b, const char *address, const char *phone, const char *email,
                    const char *web)
{
	put_s(b, ", ", address);
	put_s(b, ", ", phone);
	put_s(b, ", ", email);
	put_s(b, ", ", web);
}

/* Fills items[] with the register's Art. 30(1) items, one string each. */
static void items_of(struct ndoc *doc, const struct decl *d, const char *items[RI__MAX])
{
	struct buf b = BUF_INIT;

#define DONE(i)                                                                                    \
	do {                                                                                       \
		items[i] = ndoc_printf(doc, "%s", buf_str(&b));                                    \
		buf_reset(&b);                                                                     \
	} while (0)

	put(doc, &b, "", &d->controller.name);
	put(doc, &b, ", ", &d->controller.unit);
	put_s(&b, ", ", d->controller.ytunnus);
	contact(&b, d->controller.address, d->controller.phone, d->controller.email,
	        d->controller.web);
	for (size_t i = 0; i < d->nrecipients; i++)
		if (d->recipients[i].kind == RK_JOINT_CONTROLLER) {
			put_s(&b, "; ", ndoc_m(doc, NM_RK_JOINT_CONTROLLER));
			put(doc, &b, ": ", &d->recipients[i].name);
		}
	put_s(&b, "; ", ndoc_m(doc, NM_H_DPO));
	put_s(&b, ": ", d->dpo.name);
	contact(&b, d->dpo.address, d->dpo.phone, d->dpo.email, NULL);
	DONE(RI_CONTROLLER);

	for (size_t i = 0; i < d->npurposes; i++)
		put(doc, &b, "; ", &d->purposes[i].text);
	DONE(RI_PURPOSES);

	for (size_t i = 0; i < d->ngroups; i++) {
		put(doc, &b, "; ", &d->groups[i].name);
		buf_appendf(&b, " (%s)", ndoc_m(doc, ndoc_basis_msgs[d->groups[i].basis]));
	}
	DONE(RI_GROUPS);

	for (size_t i = 0; i < d->ncategories; i++)
		put(doc, &b, "; ", &d->categories[i].name);
	DONE(RI_CATEGORIES);

	for (size_t i = 0; i < d->nrecipients; i++) {
		put(doc, &b, "; ", &d->recipients[i].name);
		buf_appendf(&b, " (%s)", ndoc_m(doc, ndoc_recipient_msgs[d->recipients[i].kind]));
	}
	if (!d->nrecipients)
		put_s(&b, "", ndoc_m(doc, NM_NO_RECIPIENTS));
	DONE(RI_RECIPIENTS);

	if (!d->transfers.outside_eea)
		put_s(&b, "", ndoc_m(doc, NM_NO_TRANSFERS));
	for (size_t i = 0; d->transfers.outside_eea && i < d->transfers.ndestinations; i++) {
		const struct decl_transfer_dest *t = &d->transfers.destinations[i];
		const struct decl_recipient *r =
		        t->recipient ? decl_recipient(d, t->recipient) : NULL;
		put_s(&b, "; ", t->country);
		if (r)
			put(doc, &b, ": ", &r->name);
		put_s(&b, ", ", ndoc_m(doc, NM_SAFEGUARD));
		put(doc, &b, ": ", &t->safeguard);
	}
	DONE(RI_TRANSFERS);

	put(doc, &b, "", &d->retention.text);
	for (size_t i = 0; i < d->retention.nrules; i++)
		put_s(&b, " ", ndoc_rule_sentence(doc, d, &d->retention.rules[i]));
	if (d->retention.plan.s[LANG_FI]) {
		put_s(&b, " ", ndoc_m(doc, NM_RETENTION_PLAN));
		put(doc, &b, ": ", &d->retention.plan);
	}
	DONE(RI_RETENTION);

	put(doc, &b, " ", &d->security.manual);
	put(doc, &b, " ", &d->security.electronic);
	for (size_t i = 0; i < d->security.measures.n; i++)
		put(doc, &b, " ", &d->security.measures.v[i]);
	put_s(&b, " ", ndoc_m(doc, NM_BY_CONSTRUCTION));
	DONE(RI_SECURITY);
#undef DONE
	buf_free(&b);
}

int record_render(const struct decl *const *regs, size_t n, enum lang lang,
                  enum notice_format format, struct buf *out)
{
	struct ndoc doc;

	if (format != NF_HTML && format != NF_MD && format != NF_CSV)
		return -1;
	ndoc_init(&doc, lang);
	if (format == NF_CSV) {
		csv_put_field(out, ndoc_m(&doc, NM_ROP_REGISTER));
		buf_putc(out, ',');
		csv_put_field(out, ndoc_m(&doc, NM_ROP_NOTICE));
		for (int k = 0; k < RI__MAX; k++) {
			buf_putc(out, ',');
			csv_put_field(out, ndoc_m(&doc, item_msgs[k]));
		}
		buf_puts(out, "\r\n");
	} else {
		ndoc_msg(&doc, NB_KIND, NM_ROP_LAW);
		ndoc_msg(&doc, NB_TITLE, NM_ROP_TITLE);
	}
	for (size_t i = 0; i < n; i++) {
		const struct decl *d = regs[i];
		const char *items[RI__MAX];
		bool fb = false;
		const char *name = decl_text(&d->name, lang, &fb);
		const char *notice = ndoc_printf(&doc, "/p/registers/%s/notice", d->id);

		items_of(&doc, d, items);
		if (format == NF_CSV) {
			csv_put_field(out, ndoc_printf(&doc, "%s (%s)", name, d->id));
			buf_putc(out, ',');
			csv_put_field(out, notice);
			for (int k = 0; k < RI__MAX; k++) {
				buf_putc(out, ',');
				csv_put_field(out, items[k]);
			}
			buf_puts(out, "\r\n");
			continue;
		}
		ndoc_section(&doc, name, ndoc_printf(&doc, "r-%s", d->id), true);
		doc.v[doc.n - 1].fallback = fb;
		doc.any_fallback |= fb;
		ndoc_add(&doc, NB_KV, ndoc_m(&doc, NM_ROP_REGISTER), d->id);
		ndoc_add(&doc, NB_KV, ndoc_m(&doc, NM_ROP_NOTICE), notice)->href = notice;
		for (int k = 0; k < RI__MAX; k++) {
			ndoc_add(&doc, NB_H3, NULL, ndoc_m(&doc, item_msgs[k]));
			ndoc_add(&doc, NB_P, NULL, items[k]);
		}
	}
	if (format == NF_HTML)
		ndoc_emit_html(&doc, NULL, out);
	else if (format == NF_MD)
		ndoc_emit_md(&doc, out);
	ndoc_free(&doc);
	return 0;
}
