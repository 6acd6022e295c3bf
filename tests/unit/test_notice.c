/*
 * Tests of the generated privacy notice and record of processing (src/decl/notice.c,
 * record.c, ndoc.c, notice_text.c). The seed registers' fact lists (tests/golden/facts/) must
 * each be found in the Finnish notice in every format, and the full Markdown notices are
 * kept as reviewed golden files (tests/golden/notices/); KORTISTO_UPDATE_GOLDEN=1 rewrites
 * them, and the diff is then reviewed like code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decl/decl.h"
#include "decl/notice.h"
#include "decl/notice_text.h"
#include "util/buf.h"
#include "util/html.h"

static const char *const seeds[] = {"espoo-talent-hub", "espoo-feedback", "kemi-crm",
                                    "sospro-marketing", "rauma-crm"};

/* A minimal declaration; tests change it with subst(). Its only group is on basis `f`. */
static const char BASE[] = "kortisto: 1\n"
                           "id: test-crm\n"
                           "name: \"Testirekisteri\"\n"
                           "published: 2024-03-16\n"
                           "controller:\n"
                           "  name: \"Testikaupunki\"\n"
                           "  email: \"kirjaamo@example.fi\"\n"
                           "responsible:\n"
                           "  - name: \"Vastaava\"\n"
                           "dpo:\n"
                           "  name: \"Tietosuojavastaava\"\n"
                           "  email: \"tietosuoja@example.fi\"\n"
                           "purposes:\n"
                           "  - id: customer_relations\n"
                           "    text: \"Asiakassuhteen hoitaminen\"\n"
                           "subject_groups:\n"
                           "  - id: contacts\n"
                           "    name: \"Yhteyshenkilöt\"\n"
                           "    kind: organisation_contact\n"
                           "    basis: f\n"
                           "    interest: \"Asiakassuhde\"\n"
                           "    purposes: [customer_relations]\n"
                           "data_categories:\n"
                           "  - id: identity\n"
                           "    name: \"Yhteystiedot\"\n"
                           "    fields:\n"
                           "      - id: email\n"
                           "        type: email\n"
                           "        label: \"sähköposti\"\n"
                           "sources:\n"
                           "  - id: subject\n"
                           "    kind: subject\n"
                           "    text: \"Rekisteröidyltä\"\n"
                           "transfers:\n"
                           "  outside_eea: false\n"
                           "retention:\n"
                           "  text: \"Säilytys\"\n"
                           "  rules:\n"
                           "    - id: until\n"
                           "      from: until_request\n"
                           "      action: none\n"
                           "security:\n"
                           "  electronic: \"Suojattu\"\n"
                           "automated_decision_making:\n"
                           "  used: false\n"
                           "profiling:\n"
                           "  used: false\n"
                           "rights:\n"
                           "  channel: \"Kirjallisesti\"\n"
                           "complaint_authority:\n"
                           "  name: \"Tietosuojavaltuutetun toimisto\"\n"
                           "  web: \"https://tietosuoja.fi\"\n";

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* `in` with the first `find` replaced by `repl` (heap); fails the test when absent. */
static char *subst(const char *in, const char *find, const char *repl)
{
	const char *at = strstr(in, find);
	if (!at)
		fail_msg("test bug: '%s' not in the input", find);
	size_t a = (size_t)(at - in), f = strlen(find), r = strlen(repl), n = strlen(in);
	char *out = malloc(n - f + r + 1);
	assert_non_null(out);
	memcpy(out, in, a);
	memcpy(out + a, repl, r);
	memcpy(out + a + r, at + f, n - a - f + 1);
	return out;
}

static struct decl *parse(const char *yaml)
{
	struct decl *d = NULL;
	struct decl_diags dg = {0};
	if (decl_parse("t.yaml", yaml, strlen(yaml), &d, &dg) != 0)
		fail_msg("declaration does not parse: %s", dg.n ? dg.v[0].message : "?");
	decl_diags_free(&dg);
	return d;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (!b.p)
		buf_append(&b, "", 0);
	return b.p;
}

static struct decl *parse_seed(const char *rid)
{
	char path[256];
	snprintf(path, sizeof(path), "registers/%s.yaml", rid);
	char *y = slurp(path);
	if (!y)
		fail_msg("cannot read %s", path);
	struct decl *d = parse(y);
	free(y);
	return d;
}

/* The notice of `d` (heap string). */
static char *render(const struct decl *d, enum lang lang, enum notice_format f)
{
	struct buf b = BUF_INIT;
	struct notice_opts o = {.lang = lang, .format = f};
	assert_int_equal(notice_render(d, &o, &b), 0);
	return b.p;
}

/* Whitespace runs become one space, so wrapped text compares with one-line facts. */
static void squeeze(char *s)
{
	char *w = s;
	bool space = false;
	for (const char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\n' || *r == '\t' || *r == '\r') {
			space = true;
			continue;
		}
		if (space && w > s)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}

/* Markdown with its backslash escapes undone. */
static void unescape_md(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		if (*r == '\\' && r[1])
			r++;
		*w++ = *r;
	}
	*w = '\0';
}

static void expect_in(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected to find: %s", needle);
}

static void expect_not_in(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("did not expect: %s", needle);
}

/* ------------------------------------------------------------------------------------------ */
/* The catalogue and language choice                                                          */
/* ------------------------------------------------------------------------------------------ */

/* Every standard text exists in Finnish, Swedish and English. */
static void test_catalogue_complete(void **state)
{
	(void)state;
	for (int m = 0; m < NM__MAX; m++)
		for (int l = 0; l < LANG__MAX; l++) {
			const char *s = nmsg((enum nmsg)m, (enum lang)l);
			if (!*s || strcmp(s, "?") == 0)
				fail_msg("message %d has no text in %s", m,
				         lang_code((enum lang)l));
		}
}

static void test_lang_negotiate(void **state)
{
	(void)state;
	assert_int_equal(lang_negotiate(NULL, NULL), LANG_FI);
	assert_int_equal(lang_negotiate("sv", "en"), LANG_SV);
	assert_int_equal(lang_negotiate("de", "en"), LANG_EN); /* an unknown ?lang= is ignored */
	assert_int_equal(lang_negotiate(NULL, "sv-FI,sv;q=0.9,en;q=0.8"), LANG_SV);
	assert_int_equal(lang_negotiate(NULL, "de, en;q=0.5, sv;q=0.7"), LANG_SV);
	assert_int_equal(lang_negotiate(NULL, "EN-gb"), LANG_EN);
	assert_int_equal(lang_negotiate(NULL, "en;q=0, sv;q=0.001"), LANG_SV);
	assert_int_equal(lang_negotiate(NULL, "en;q=0"), LANG_FI);     /* refused outright */
	assert_int_equal(lang_negotiate(NULL, "en;q=2, sv"), LANG_SV); /* malformed q: skip */
	assert_int_equal(lang_negotiate(NULL, "*"), LANG_FI);
	assert_int_equal(lang_negotiate(NULL, "english, fin"), LANG_FI);
	assert_int_equal(lang_negotiate(NULL, ",,;;q=,"), LANG_FI);
}

/* ------------------------------------------------------------------------------------------ */
/* The seed registers                                                                         */
/* ------------------------------------------------------------------------------------------ */

/* proves N-01, N-02, R-13: every fact of each seed notice (names, addresses, e-mails, phone
 * numbers, purposes, bases, data items, sources, recipients, retention, systems, security
 * principles, rights, complaint authority) is in the generated Finnish notice, in each of
 * its three formats. */
static void test_seed_facts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[256];
		struct decl *d = parse_seed(seeds[i]);
		char *txt = render(d, LANG_FI, NF_TXT), *md = render(d, LANG_FI, NF_MD);
		char *html = render(d, LANG_FI, NF_HTML);
		squeeze(txt);
		unescape_md(md);
		squeeze(md);
		squeeze(html);
		snprintf(path, sizeof(path), "tests/golden/facts/%s.txt", seeds[i]);
		char *facts = slurp(path);
		assert_non_null(facts);
		size_t n = 0;
		for (char *line = strtok(facts, "\n"); line; line = strtok(NULL, "\n")) {
			struct buf esc = BUF_INIT;
			squeeze(line);
			if (!*line)
				continue;
			html_text(&esc, line);
			if (!strstr(txt, line) || !strstr(md, line) || !strstr(html, buf_str(&esc)))
				fail_msg("%s: the notice lacks the fact (txt %s, md %s, html %s): "
				         "%s",
				         seeds[i], strstr(txt, line) ? "ok" : "missing",
				         strstr(md, line) ? "ok" : "missing",
				         strstr(html, buf_str(&esc)) ? "ok" : "missing", line);
			buf_free(&esc);
			n++;
		}
		assert_true(n > 20);
		free(facts);
		free(txt);
		free(md);
		free(html);
		decl_free(d);
	}
}

/* The whole notice of each seed, compared with its reviewed golden file. */
static void check_golden(const char *rid, enum lang lang)
{
	char path[256];
	struct decl *d = parse_seed(rid);
	char *md = render(d, lang, NF_MD);
	snprintf(path, sizeof(path), "tests/golden/notices/%s.%s.md", rid, lang_code(lang));
	const char *update = getenv("KORTISTO_UPDATE_GOLDEN");
	if (update && *update == '1') {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fputs(md, f);
		assert_int_equal(fclose(f), 0);
	}
	char *want = slurp(path);
	if (!want)
		fail_msg("no golden file %s (KORTISTO_UPDATE_GOLDEN=1 writes it)", path);
	if (strcmp(want, md) != 0) {
		size_t k = 0;
		while (want[k] && want[k] == md[k])
			k++;
		fail_msg("%s differs from the generated notice at byte %zu: \"%.60s\" (generated "
		         "\"%.60s\"); review, then KORTISTO_UPDATE_GOLDEN=1",
		         path, k, want + k, md + k);
	}
	free(want);
	free(md);
	decl_free(d);
}

static void test_golden_notices(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		check_golden(seeds[i], LANG_FI);
	check_golden("rauma-crm", LANG_SV);
	check_golden("rauma-crm", LANG_EN);
	check_golden("kemi-crm", LANG_EN);
}

/* Rauma is declared in all three languages: nothing in its sv and en notices is marked. */
static void test_rauma_translated(void **state)
{
	(void)state;
	struct decl *d = parse_seed("rauma-crm");
	char *sv = render(d, LANG_SV, NF_TXT), *en = render(d, LANG_EN, NF_HTML);
	expect_not_in(sv, "(på finska)");
	expect_not_in(en, "(in Finnish)");
	expect_not_in(en, "lang=\"fi\"");
	expect_in(sv, "Dataskyddsbeskrivning");
	expect_in(en, "<html lang=\"en\">");
	free(sv);
	free(en);
	decl_free(d);
}

/* ------------------------------------------------------------------------------------------ */
/* What the notice derives                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Rights follow the legal bases: portability only on consent or contract, objection on
 * public task or legitimate interest, withdrawal on consent, the erasure exception on legal
 * obligation and public task. */
static void test_rights_derived(void **state)
{
	(void)state;
	struct decl *d = parse(BASE); /* f */
	char *s = render(d, LANG_FI, NF_MD);
	expect_in(s, "### Oikeus vastustaa käsittelyä (21 artikla)");
	expect_not_in(s, "Oikeus siirtää tiedot");
	expect_not_in(s, "Oikeus peruuttaa suostumus");
	expect_not_in(s, "17 artiklan 3 kohta");
	expect_not_in(s, "suoramarkkinointiin (21 artiklan 2"); /* no direct-marketing purpose */
	expect_in(s, "### Oikeus tietojen poistamiseen (17 artikla)");
	expect_in(s, "viimeistään kuukauden kuluessa");
	free(s);
	decl_free(d);

	char *y = subst(BASE, "    basis: f\n    interest: \"Asiakassuhde\"\n", "    basis: a\n");
	d = parse(y);
	s = render(d, LANG_EN, NF_MD);
	expect_in(s, "### Right to data portability (Article 20)");
	expect_in(s, "### Right to withdraw consent (Article 7(3))");
	expect_not_in(s, "Right to object");
	free(s);
	decl_free(d);
	free(y);

	y = subst(BASE, "    basis: f\n    interest: \"Asiakassuhde\"\n", "    basis: c\n");
	d = parse(y);
	s = render(d, LANG_FI, NF_MD);
	expect_in(s, "poisto-oikeus ei koske niitä sinä aikana, jona niitä on säilytettävä");
	expect_not_in(s, "Oikeus vastustaa");
	expect_not_in(s, "Oikeus siirtää");
	free(s);
	decl_free(d);
	free(y);

	/* A second group on e next to one on b: erasure applies, with e's group excepted. */
	y = subst(BASE, "subject_groups:\n",
	          "subject_groups:\n  - id: clients\n    name: \"Asiakkaat\"\n"
	          "    kind: natural_person\n    basis: b\n    purposes: [customer_relations]\n"
	          "  - id: officials\n    name: \"Viranomaiset\"\n    kind: organisation_contact\n"
	          "    basis: e\n    purposes: [customer_relations]\n");
	char *y2 = subst(y, "    text: \"Asiakassuhteen hoitaminen\"\n",
	                 "    text: \"Asiakassuhteen hoitaminen\"\n    direct_marketing: true\n");
	d = parse(y2);
	s = render(d, LANG_SV, NF_MD);
	expect_in(s, "(artikel 17.3). Det gäller grupperna:\n\n- Viranomaiset *(på finska)*");
	expect_in(s, "### Rätt till dataportabilitet (artikel 20)");
	expect_in(s, "- Asiakkaat *(på finska)*");
	expect_in(s, "(artikel 21.2 och 21.3)");
	free(s);
	decl_free(d);
	free(y);
	free(y2);
}

/* Retention rules are stated as the rules kortisto runs, in each language. */
static void test_retention_sentences(void **state)
{
	(void)state;
	struct decl *d = parse_seed("rauma-crm");
	char *fi = render(d, LANG_FI, NF_TXT), *en = render(d, LANG_EN, NF_TXT);
	squeeze(fi);
	squeeze(en);
	expect_in(fi, "Tiedot anonymisoidaan 10 vuoden kuluttua viimeisestä asiakastapahtumasta. "
	              "Ei koske: yritysten henkilöt, jotka ovat jatkuvassa palvelusuhteessa");
	expect_in(en, "The data is anonymised 10 years after the last customer event.");
	free(fi);
	free(en);
	decl_free(d);

	d = parse_seed("sospro-marketing");
	fi = render(d, LANG_FI, NF_TXT);
	squeeze(fi);
	expect_in(fi, "Tiedot poistetaan heti, kun tieto työ- tai palvelussuhteen päättymisestä on "
	              "saatu.");
	expect_in(fi, "viimeistään 30 päivän kuluessa"); /* Sospro answers within 30 days */
	free(fi);
	decl_free(d);

	d = parse(BASE);
	char *sv = render(d, LANG_SV, NF_TXT);
	expect_in(sv, "Uppgifterna sparas tills den registrerade begär att de raderas.");
	free(sv);
	decl_free(d);

	char *y = subst(BASE, "      from: until_request\n      action: none\n",
	                "      after: P1Y6M\n      from: created\n      action: delete\n");
	d = parse(y);
	en = render(d, LANG_EN, NF_TXT);
	expect_in(en, "The data is deleted one year and 6 months after they were recorded.");
	free(en);
	decl_free(d);
	free(y);
}

/* ------------------------------------------------------------------------------------------ */
/* Languages, formats and escaping                                                            */
/* ------------------------------------------------------------------------------------------ */

/* proves N-01: a text missing in the language is shown in Finnish, marked, in each format. */
static void test_fallback_marked(void **state)
{
	(void)state;
	char *y = subst(BASE, "name: \"Testirekisteri\"",
	                "name: {fi: \"Testirekisteri\", en: \"Test register\"}");
	struct decl *d = parse(y);
	char *html = render(d, LANG_SV, NF_HTML), *md = render(d, LANG_SV, NF_MD);
	char *txt = render(d, LANG_SV, NF_TXT), *en = render(d, LANG_EN, NF_MD);
	char *fi = render(d, LANG_FI, NF_MD);
	expect_in(html, "<h1><span lang=\"fi\">Testirekisteri</span> <span class=\"fallback\">(på "
	                "finska)</span></h1>");
	expect_in(html, "Delar av denna beskrivning finns endast på finska");
	expect_in(md, "# Testirekisteri *(på finska)*");
	expect_in(txt, "Testirekisteri (på finska)");
	expect_in(en, "# Test register\n"); /* given in English: not marked */
	expect_in(en, "Testikaupunki *(in Finnish)*");
	expect_not_in(fi, "(suomeksi)");
	expect_not_in(fi, "Osa tästä selosteesta");
	free(html);
	free(md);
	free(txt);
	free(en);
	free(fi);
	decl_free(d);
	free(y);
}

/* A declaration cannot put markup into the published notice. */
static void test_escaping(void **state)
{
	(void)state;
	char *y = subst(
	        BASE, "    text: \"Asiakassuhteen hoitaminen\"",
	        "    text: \"<script>alert(1)</script> *tähti* [linkki](javascript:x) & \\\"\"");
	char *y2 =
	        subst(y, "    text: \"Rekisteröidyltä\"", "    text: \"# otsikko\\n\\n1. lista\"");
	struct decl *d = parse(y2);
	char *html = render(d, LANG_FI, NF_HTML), *md = render(d, LANG_FI, NF_MD);
	expect_in(html, "&lt;script&gt;alert(1)&lt;/script&gt; *tähti* [linkki](javascript:x) "
	                "&amp; \"");
	expect_not_in(html, "<script");
	expect_in(md,
	          "\\<script\\>alert(1)\\</script\\> \\*tähti\\* \\[linkki\\](javascript:x) & \"");
	expect_in(md, "\n\\# otsikko\n");
	expect_in(md, "\n1\\. lista\n");
	free(html);
	free(md);
	decl_free(d);
	/* A declared address that would close a Markdown autolink is written as text. */
	char *y3 = subst(
	        y2, "  email: \"kirjaamo@example.fi\"\n",
	        "  email: \"kirjaamo@example.fi\"\n  web: \"https://a.fi/>[x](javascript:y)\"\n");
	d = parse(y3);
	md = render(d, LANG_FI, NF_MD);
	html = render(d, LANG_FI, NF_HTML);
	expect_not_in(md, "<https://a.fi/>");
	expect_in(md, "https://a.fi/\\>\\[x\\](javascript:y)");
	expect_in(html, "href=\"https://a.fi/&gt;[x](javascript:y)\"");
	free(y3);
	free(html);
	free(md);
	decl_free(d);
	free(y);
	free(y2);
}

/* Plain text is wrapped at 78 columns, counted in characters, not bytes. */
static void test_txt_width(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct decl *d = parse_seed(seeds[i]);
		char *txt = render(d, LANG_FI, NF_TXT);
		for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
			size_t w = 0;
			for (const char *p = line; *p; p++)
				w += ((unsigned char)*p & 0xC0) != 0x80;
			const char *word = line;
			while (*word == ' ')
				word++;
			if (w > 78 && strchr(word, ' '))
				fail_msg("%s: a line of %zu columns: %s", seeds[i], w, line);
		}
		free(txt);
		decl_free(d);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Versions and the record of processing                                                      */
/* ------------------------------------------------------------------------------------------ */

static void test_changes_between_versions(void **state)
{
	(void)state;
	char *y = subst(BASE, "Asiakassuhteen hoitaminen", "Asiakassuhteen hoitaminen ja tiedotus");
	struct decl *old = parse(BASE), *now = parse(y);
	struct buf b = BUF_INIT;
	struct notice_opts o = {.lang = LANG_FI,
	                        .format = NF_MD,
	                        .version = 2,
	                        .previous = old,
	                        .previous_version = 1};
	assert_int_equal(notice_render(now, &o, &b), 0);
	const char *s = buf_str(&b);
	const char *ch = strstr(s, "## Muutokset versioon 1 verrattuna");
	assert_non_null(ch);
	expect_in(ch, "### 4. Käsittelyn tarkoitukset ja oikeusperusteet\n\n"
	              "- Lisätty: Asiakassuhteen hoitaminen ja tiedotus\n");
	expect_in(ch, "- Poistettu: Asiakassuhteen hoitaminen\n");
	expect_in(ch, "- Lisätty: Tarkoitukset: Asiakassuhteen hoitaminen ja tiedotus");
	expect_not_in(ch, "### 1. "); /* unchanged sections are left out */
	expect_in(s, "**Versio:** 2");
	buf_free(&b);

	o.previous = now;
	assert_int_equal(notice_render(now, &o, &b), 0);
	expect_in(buf_str(&b), "Selosteen sisältö ei muuttunut.");
	buf_free(&b);

	struct notice_version hist[] = {{2, "2024-03-16", "2025-01-02", "2025-01-03T10:00:00Z"},
	                                {1, "2024-03-16", NULL, "2024-03-16T08:00:00Z"}};
	struct notice_opts h = {.lang = LANG_EN,
	                        .format = NF_HTML,
	                        .version = 2,
	                        .history = hist,
	                        .nhistory = 2,
	                        .self_href = "/p/registers/test-crm/notice",
	                        .css_href = "/static/notice.css"};
	assert_int_equal(notice_render(now, &h, &b), 0);
	expect_in(buf_str(&b), "<a href=\"/p/registers/test-crm/notice?lang=en&amp;version=1\">"
	                       "Version 1: Published 16 March 2024, in force from 16 March "
	                       "2024</a>");
	expect_in(buf_str(&b), "<li>Version 2: Published 16 March 2024, Updated 2 January 2025");
	expect_in(buf_str(&b), "<link rel=\"stylesheet\" href=\"/static/notice.css\">");
	expect_not_in(buf_str(&b), "<style>");
	buf_free(&b);
	decl_free(old);
	decl_free(now);
	free(y);
}

static void test_record_of_processing(void **state)
{
	(void)state;
	char *y = subst(BASE, "\"Asiakassuhteen hoitaminen\"", "\"=1+1 \\\"x\\\"\"");
	struct decl *a = parse(y), *b = parse_seed("kemi-crm");
	const struct decl *regs[] = {a, b};
	struct buf out = BUF_INIT;

	assert_int_equal(record_render(regs, 2, LANG_FI, NF_CSV, &out), 0);
	const char *s = buf_str(&out);
	size_t rows = 0;
	for (const char *p = s; (p = strstr(p, "\r\n")); p += 2)
		rows++;
	assert_int_equal(rows, 3);
	expect_in(s,
	          "\"Rekisteri\",\"Tietosuojaseloste\",\"Rekisterinpitäjä ja yhteystiedot (a)\"");
	expect_in(s, "\"'=1+1 \"\"x\"\"\""); /* a formula is defused, quotes doubled */
	expect_in(s, "\"/p/registers/kemi-crm/notice\"");
	buf_free(&out);

	assert_int_equal(record_render(regs, 2, LANG_EN, NF_MD, &out), 0);
	expect_in(buf_str(&out), "# Record of processing activities");
	expect_in(buf_str(&out), "## 2. Asiakasyritysten ja yhteistyökumppaneiden");
	expect_in(buf_str(&out), "### Time limits for erasure (f)");
	buf_free(&out);

	assert_int_equal(record_render(regs, 2, LANG_FI, NF_TXT, &out), -1);
	buf_free(&out);
	decl_free(a);
	decl_free(b);
	free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_catalogue_complete),
	        cmocka_unit_test(test_lang_negotiate),
	        cmocka_unit_test(test_seed_facts),
	        cmocka_unit_test(test_golden_notices),
	        cmocka_unit_test(test_rauma_translated),
	        cmocka_unit_test(test_rights_derived),
	        cmocka_unit_test(test_retention_sentences),
	        cmocka_unit_test(test_fallback_marked),
	        cmocka_unit_test(test_escaping),
	        cmocka_unit_test(test_txt_width),
	        cmocka_unit_test(test_changes_between_versions),
	        cmocka_unit_test(test_record_of_processing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
