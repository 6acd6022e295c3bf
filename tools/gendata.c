/*
 * gendata: made-up but realistic Finnish business contacts as a ';'-separated UTF-8 CSV for
 * `kortisto import`, for the demo (scripts/demo) and benchmarks. Nothing here is real
 * personal data: names are drawn from lists of common Finnish and Finland-Swedish names,
 * companies are built from place + trade + company form, and every Y-tunnus carries a correct
 * check digit. The output depends only on the arguments, so a seed reproduces a data set.
 *
 * usage: gendata [--rows N] [--seed S] [--orgs M] [--columns LIST] > contacts.csv
 *
 * The rows are spread over M organisations: the first M rows give each organisation one
 * person, later rows pick one at random. E-mail addresses (etunimi.sukunimi<row>@company.fi)
 * and mobile numbers are unique within a file. Every row draws all its values whatever
 * --columns selects, so a column subset shows the same values as the full file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/validate.h"

#define MAX_ROWS     50000000ULL /* the phone number space holds 60 million */
#define MAX_ORGS     2000000ULL  /* the Y-tunnus range below holds about 2.27 million */
#define YT_FIRST     1000000u    /* Y-tunnus numbers drawn from [YT_FIRST, YT_FIRST+YT_SPAN) */
#define YT_SPAN      2500000u
#define PHONE_SPAN   60000000ULL /* six mobile prefixes times seven subscriber digits */
#define OUT_BUF_SIZE (1u << 20)

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- word lists */

static const char *const first_names[] = {
        "Aino",     "Aleksi", "Anna",   "Anna-Liisa", "Anneli", "Antti",  "Anu",       "Ari",
        "Arja",     "Björn",  "Eero",   "Eija",       "Elina",  "Emilia", "Emma",      "Esa",
        "Eveliina", "Göran",  "Hannu",  "Harri",      "Heikki", "Heli",   "Helmi",     "Henna",
        "Hilkka",   "Ilkka",  "Ilmari", "Irja",       "Jaana",  "Jani",   "Jari",      "Jarmo",
        "Johanna",  "Jörgen", "Jouni",  "Juha",       "Juho",   "Jukka",  "Jussi",     "Jyrki",
        "Kaarina",  "Kalle",  "Kari",   "Katja",      "Kerttu", "Kirsi",  "Kristiina", "Kyllikki",
        "Kyösti",   "Lauri",  "Leena",  "Liisa",      "Lotta",  "Maija",  "Marja",     "Marjatta",
        "Markku",   "Märta",  "Mårten", "Matti",      "Merja",  "Mika",   "Mikko",     "Minna",
        "Mirja",    "Niina",  "Niko",   "Noora",      "Olli",   "Onni",   "Örjan",     "Outi",
        "Paavo",    "Päivi",  "Pälvi",  "Pekka",      "Pentti", "Petri",  "Pirjo",     "Pirkko",
        "Raili",    "Reijo",  "Riikka", "Risto",      "Ritva",  "Säde",   "Sami",      "Sanna",
        "Sari",     "Satu",   "Seppo",  "Siiri",      "Sirpa",  "Sofia",  "Taina",     "Tapani",
        "Tapio",    "Teemu",  "Terhi",  "Timo",       "Tiina",  "Toni",   "Tuomas",    "Tuula",
        "Tuulikki", "Ulla",   "Väinö",  "Venla",      "Vesa",   "Ville",  "Yrjö",      "Åsa",
};

static const char *const surnames[] = {
        "Aaltonen",    "Åberg",      "Ahonen",    "Äijälä",     "Åkerlund",   "Anttila",
        "Åström",      "Bäckman",    "Björklund", "Ekström",    "Enqvist",    "Fagerström",
        "Forsström",   "Grönlund",   "Grönroos",  "Hämäläinen", "Hänninen",   "Hardén",
        "Härkönen",    "Heikkilä",   "Heikkinen", "Heinonen",   "Hiltunen",   "Hirvonen",
        "Höglund",     "Holmström",  "Hölttä",    "Honkanen",   "Hyvönen",    "Jääskeläinen",
        "Jäntti",      "Järvinen",   "Jokinen",   "Kähkönen",   "Kääriäinen", "Kallio",
        "Karjalainen", "Kärkkäinen", "Kärki",     "Kärnä",      "Keränen",    "Kettunen",
        "Kiiskinen",   "Kinnunen",   "Koivisto",  "Korhonen",   "Koskinen",   "Laaksonen",
        "Lähteenmäki", "Lahtinen",   "Laine",     "Laitinen",   "Lehtinen",   "Lehtonen",
        "Leinonen",    "Leppänen",   "Lindroos",  "Lindström",  "Löfgren",    "Määttä",
        "Mäenpää",     "Mäkäräinen", "Mäkelä",    "Mäkinen",    "Manninen",   "Mäntylä",
        "Mattila",     "Miettinen",  "Mustonen",  "Närhi",      "Niemi",      "Nieminen",
        "Nordén",      "Nordström",  "Nykänen",   "Öhman",      "Oksanen",    "Österberg",
        "Östman",      "Pääkkönen",  "Peltonen",  "Pitkänen",   "Pöllänen",   "Pöyhönen",
        "Räsänen",     "Rautio",     "Räty",      "Rönnholm",   "Rosén",      "Saarinen",
        "Salminen",    "Sallinen",   "Salonen",   "Savolainen", "Sirén",      "Sjöberg",
        "Sjöholm",     "Söderström", "Ström",     "Sundström",  "Tähtinen",   "Tikkanen",
        "Tuominen",    "Turunen",    "Väänänen",  "Väisänen",   "Väyrynen",   "Vesterinen",
        "Virtanen",    "Wikström",   "Ylönen",
};

/* A place: its name, the genitive used in company names, postal codes, bilingual or not. */
struct place {
	const char *name, *gen;
	const char *codes[4];
	bool swedish; /* a bilingual municipality with a large Swedish-speaking share */
};

static const struct place places[] = {
        {"Helsinki", "Helsingin", {"00100", "00180", "00510", "00520"}, false},
        {"Espoo", "Espoon", {"02100", "02150", "02230", "02600"}, false},
        {"Vantaa", "Vantaan", {"01300", "01510"}, false},
        {"Kauniainen", "Kauniaisten", {"02700"}, true},
        {"Kirkkonummi", "Kirkkonummen", {"02400"}, true},
        {"Sipoo", "Sipoon", {"04130"}, true},
        {"Kerava", "Keravan", {"04200"}, false},
        {"Järvenpää", "Järvenpään", {"04400"}, false},
        {"Hyvinkää", "Hyvinkään", {"05800"}, false},
        {"Porvoo", "Porvoon", {"06100"}, true},
        {"Loviisa", "Loviisan", {"07900"}, true},
        {"Lohja", "Lohjan", {"08100"}, false},
        {"Hanko", "Hangon", {"10900"}, true},
        {"Riihimäki", "Riihimäen", {"11100"}, false},
        {"Hämeenlinna", "Hämeenlinnan", {"13100", "13200"}, false},
        {"Lahti", "Lahden", {"15100", "15140"}, false},
        {"Turku", "Turun", {"20100", "20500", "20520"}, false},
        {"Salo", "Salon", {"24100"}, false},
        {"Uusikaupunki", "Uudenkaupungin", {"23500"}, false},
        {"Rauma", "Rauman", {"26100", "26200"}, false},
        {"Eurajoki", "Eurajoen", {"27100"}, false},
        {"Pori", "Porin", {"28100", "28130"}, false},
        {"Forssa", "Forssan", {"30100"}, false},
        {"Tampere", "Tampereen", {"33100", "33200", "33720"}, false},
        {"Mänttä", "Mäntän", {"35800"}, false},
        {"Nokia", "Nokian", {"37100"}, false},
        {"Kankaanpää", "Kankaanpään", {"38700"}, false},
        {"Hämeenkyrö", "Hämeenkyrön", {"39100"}, false},
        {"Jyväskylä", "Jyväskylän", {"40100", "40320"}, false},
        {"Jämsä", "Jämsän", {"42100"}, false},
        {"Äänekoski", "Äänekosken", {"44100"}, false},
        {"Kouvola", "Kouvolan", {"45100"}, false},
        {"Kotka", "Kotkan", {"48100"}, false},
        {"Mikkeli", "Mikkelin", {"50100"}, false},
        {"Lappeenranta", "Lappeenrannan", {"53100"}, false},
        {"Imatra", "Imatran", {"55100"}, false},
        {"Savonlinna", "Savonlinnan", {"57100"}, false},
        {"Seinäjoki", "Seinäjoen", {"60100"}, false},
        {"Ähtäri", "Ähtärin", {"63700"}, false},
        {"Kristiinankaupunki", "Kristiinankaupungin", {"64100"}, true},
        {"Närpiö", "Närpiön", {"64200"}, true},
        {"Vaasa", "Vaasan", {"65100", "65200"}, true},
        {"Kokkola", "Kokkolan", {"67100"}, false},
        {"Pietarsaari", "Pietarsaaren", {"68600"}, true},
        {"Kuopio", "Kuopion", {"70100", "70110"}, false},
        {"Iisalmi", "Iisalmen", {"74100"}, false},
        {"Joensuu", "Joensuun", {"80100"}, false},
        {"Ylivieska", "Ylivieskan", {"84100"}, false},
        {"Kajaani", "Kajaanin", {"87100"}, false},
        {"Oulu", "Oulun", {"90100", "90570"}, false},
        {"Raahe", "Raahen", {"92100"}, false},
        {"Pudasjärvi", "Pudasjärven", {"93100"}, false},
        {"Kemi", "Kemin", {"94100", "94600"}, false},
        {"Keminmaa", "Keminmaan", {"94400"}, false},
        {"Tornio", "Tornion", {"95400"}, false},
        {"Rovaniemi", "Rovaniemen", {"96100", "96200"}, false},
        {"Kemijärvi", "Kemijärven", {"98100"}, false},
        {"Kittilä", "Kittilän", {"99100"}, false},
        {"Sodankylä", "Sodankylän", {"99600"}, false},
};

static const char *const trades[] = {
        "Telakka",
        "Satama",
        "Kehitys",
        "Rakennus",
        "Sähkö",
        "Kuljetus",
        "LVI-palvelu",
        "Metalli",
        "Konepaja",
        "Kiinteistöhuolto",
        "Tilipalvelu",
        "Puutarha",
        "Leipomo",
        "Kahvila",
        "Autokorjaamo",
        "Putkityö",
        "Maalaus",
        "Lukko",
        "Kattotyö",
        "Siivouspalvelu",
        "Tietotekniikka",
        "Ohjelmisto",
        "Mainostoimisto",
        "Kukka",
        "Kaluste",
        "Energia",
        "Vesihuolto",
        "Teräs",
        "Lasi",
        "Optiikka",
        "Kirjapaino",
        "Insinööritoimisto",
        "Arkkitehtitoimisto",
        "Rautakauppa",
        "Kone",
        "Muovi",
        "Kala",
        "Liikenne",
        "Matkailu",
        "Hotelli",
        "Ravintola",
        "Taksi",
        "Kuntosali",
        "Fysioterapia",
        "Hammashoito",
        "Lääkäriasema",
        "Eläinlääkäri",
        "Saha",
        "Puutyö",
        "Vene",
        "Tilintarkastus",
        "Lakiasiaintoimisto",
        "Henkilöstöpalvelu",
        "Turvallisuus",
        "Koulutus",
        "Pesula",
        "Parturi-kampaamo",
        "Kauneushoitola",
        "Valokuvaamo",
        "Kirjanpito",
        "Rengas",
        "Maansiirto",
        "Hitsaus",
        "Verhoomo",
        "Sisustus",
        "Kodinkone",
        "Tapahtumapalvelu",
        "Viestintä",
        "Elintarvike",
        "Tekstiili",
};

/* Trades that read well in pairs: "Rauman Sähkö ja Putki Oy". */
static const char *const pair_trades[] = {
        "Sähkö",  "Putki", "LVI",     "Maalaus", "Rakennus", "Kuljetus",
        "Huolto", "Lukko", "Kaluste", "Lasi",    "Kone",     "Kiinteistö",
};

/* Names of the "Virtanen Consulting Oy" and "Kemi Logistics Oy" kind. */
static const char *const english_words[] = {
        "Consulting", "Solutions",   "Group",   "Design",  "Partners",     "Invest",  "Logistics",
        "Systems",    "Engineering", "Marine",  "Service", "Technologies", "Trading", "Media",
        "Digital",    "Works",       "Finance", "Capital", "Nordic",       "Labs",
};

static const char *const areas[] = {"Pohjois", "Etelä", "Itä", "Länsi", "Keski"};

/* Company forms with weights out of 100. */
static const struct {
	const char *name;
	unsigned weight;
} forms[] = {{"Oy", 72}, {"Ky", 12}, {"Ab", 6}, {"Oy Ab", 6}, {"Oyj", 4}};

static const char *const departments[] = {
        "Talous",    "Henkilöstöhallinto", "Myynti",        "Markkinointi", "Tuotanto",
        "Hallinto",  "Asiakaspalvelu",     "Tietohallinto", "Logistiikka",  "Tutkimus ja kehitys",
        "Hankinta",  "Viestintä",          "Johto",         "Laatu",        "Huolto",
        "Projektit",
};

static const char *const titles[] = {
        "toimitusjohtaja",
        "toimitusjohtaja",
        "talouspäällikkö",
        "talousjohtaja",
        "HR-asiantuntija",
        "henkilöstöpäällikkö",
        "myyntipäällikkö",
        "myyntijohtaja",
        "myyntiedustaja",
        "yrittäjä",
        "yrittäjä",
        "omistaja",
        "markkinointipäällikkö",
        "viestintäpäällikkö",
        "asiakkuuspäällikkö",
        "projektipäällikkö",
        "kehityspäällikkö",
        "palvelupäällikkö",
        "tuotantopäällikkö",
        "ostopäällikkö",
        "logistiikkapäällikkö",
        "IT-päällikkö",
        "laatupäällikkö",
        "toimistopäällikkö",
        "rekrytointiasiantuntija",
        "kirjanpitäjä",
        "työnjohtaja",
        "suunnittelija",
        "asiantuntija",
        "hallituksen puheenjohtaja",
};

static const char *const mobile_prefixes[] = {"040", "041", "044", "045", "046", "050"};

/* The CSV columns, in default order. */
enum col {
	C_FIRST,
	C_LAST,
	C_EMAIL,
	C_PHONE,
	C_COMPANY,
	C_YTUNNUS,
	C_DEPT,
	C_POSTCODE,
	C_CITY,
	C_TITLE,
	C_MUNICIPALITY,
	C_LANG,
	C__MAX
};

static const char *const col_names[C__MAX] = {
        "Etunimi", "Sukunimi",    "Sähköposti",       "Puhelin", "Yritys",    "Y-tunnus",
        "Osasto",  "Postinumero", "Postitoimipaikka", "Titteli", "Kotikunta", "Kieli",
};

/* ---------------------------------------------------------------- random numbers */

/* splitmix64: tiny, fast and good enough for sample data. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* A number in [0, n) for n < 2^32 (multiply-shift; the bias is far below what shows). */
static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * A bijection on [0, n): i -> (mul * i + add) mod n with gcd(mul, n) = 1. It scatters
 * consecutive indices over the whole range, so unique indices give unique, unordered values.
 */
struct perm {
	uint64_t n, mul, add;
};

static struct perm perm_make(uint64_t n, uint64_t *rng)
{
	static const uint64_t primes[] = {2654435761ULL, 40503ULL,    7777777ULL,
	                                  104729ULL,     15485863ULL, 7919ULL};
	struct perm p = {.n = n ? n : 1, .mul = 1, .add = 0};
	p.add = rng_next(rng) % p.n;
	for (size_t i = 0; i < N_OF(primes); i++) {
		uint64_t m = primes[i] % p.n;
		if (m > 1 && gcd64(m, p.n) == 1) {
			p.mul = m;
			break;
		}
	}
	return p;
}

static uint64_t perm_at(const struct perm *p, uint64_t i)
{
	/* mul < 2^32 and i < 2^32 here, so the product does not overflow. */
	return (p->mul * (i % p->n) + p->add) % p->n;
}

/* ---------------------------------------------------------------- organisations */

/* Name patterns of organisations. */
enum pattern {
	PT_PLACE_TRADE,      /* Rauman Telakka Oy */
	PT_TRADE_SURNAME,    /* Kuljetus Mäkelä Oy */
	PT_AREA_PLACE_TRADE, /* Länsi-Espoon Kehitys Oy */
	PT_PLACE_PAIR,       /* Kemin Sähkö ja Putki Oy */
	PT_SURNAME_ENGLISH,  /* Virtanen Consulting Oy */
	PT_SURNAME_PAIR,     /* Mäkelä & Öhman Ky */
	PT_PLACE_ENGLISH,    /* Rauma Marine Oy */
	PT__MAX
};

static const unsigned pattern_weight[PT__MAX] = {30, 18, 16, 10, 10, 8, 8};

/* One organisation, compactly: its strings are rendered from these indices when written. */
struct org {
	uint32_t ynum;         /* the seven digits of the Y-tunnus */
	uint16_t a, b, c;      /* indices into the word lists, by pattern */
	uint16_t cycle;        /* > 0 when every name of the pattern is taken: "… 2 Oy" */
	uint8_t pattern, form; /* enum pattern, index in forms[] */
	uint8_t ycheck;        /* the Y-tunnus check digit */
	uint8_t place, code;   /* seat: index in places[] and in its postal codes */
};

static uint64_t pattern_size(enum pattern p)
{
	uint64_t np = N_OF(places), nt = N_OF(trades), ns = N_OF(surnames);
	uint64_t npair = N_OF(pair_trades), ne = N_OF(english_words);
	switch (p) {
	case PT_PLACE_TRADE: return np * nt;
	case PT_TRADE_SURNAME: return nt * ns;
	case PT_AREA_PLACE_TRADE: return N_OF(areas) * np * nt;
	case PT_PLACE_PAIR: return np * npair * (npair - 1);
	case PT_SURNAME_ENGLISH: return ns * ne;
	case PT_SURNAME_PAIR: return ns * (ns - 1);
	case PT_PLACE_ENGLISH: return np * ne;
	default: return 1;
	}
}

/* Decodes index v of pattern p into the organisation's word indices. */
static void pattern_decode(struct org *o, enum pattern p, uint64_t v)
{
	uint64_t np = N_OF(places), nt = N_OF(trades), ns = N_OF(surnames);
	uint64_t npair = N_OF(pair_trades);
	o->a = o->b = o->c = 0;
	switch (p) {
	case PT_PLACE_TRADE:
		o->a = (uint16_t)(v % np);
		o->b = (uint16_t)(v / np);
		break;
	case PT_TRADE_SURNAME:
		o->a = (uint16_t)(v % nt);
		o->b = (uint16_t)(v / nt);
		break;
	case PT_AREA_PLACE_TRADE:
		o->a = (uint16_t)(v % N_OF(areas));
		v /= N_OF(areas);
		o->b = (uint16_t)(v % np);
		o->c = (uint16_t)(v / np);
		break;
	case PT_PLACE_PAIR:
		o->a = (uint16_t)(v % np);
		v /= np;
		o->b = (uint16_t)(v % npair);
		o->c = (uint16_t)(v / npair);
		if (o->c >= o->b)
			o->c++;
		break;
	case PT_SURNAME_ENGLISH:
		o->a = (uint16_t)(v % ns);
		o->b = (uint16_t)(v / ns);
		break;
	case PT_SURNAME_PAIR:
		o->a = (uint16_t)(v % ns);
		o->b = (uint16_t)(v / ns);
		if (o->b >= o->a)
			o->b++;
		break;
	case PT_PLACE_ENGLISH:
		o->a = (uint16_t)(v % np);
		o->b = (uint16_t)(v / np);
		break;
	default: break;
	}
}

/* The place a pattern names, or -1 when the name has none. */
static int pattern_place(const struct org *o)
{
	switch (o->pattern) {
	case PT_PLACE_TRADE:
	case PT_PLACE_PAIR:
	case PT_PLACE_ENGLISH: return o->a;
	case PT_AREA_PLACE_TRADE: return o->b;
	default: return -1;
	}
}

/* Y-tunnus check digit of a seven-digit number, or -1 when no check digit exists. */
static int ytunnus_check(uint32_t n)
{
	static const unsigned w[7] = {7, 9, 10, 5, 8, 4, 2};
	unsigned sum = 0;
	for (int i = 6; i >= 0; i--) {
		sum += (n % 10) * w[i];
		n /= 10;
	}
	unsigned r = sum % 11;
	if (r == 1)
		return -1;
	return r == 0 ? 0 : (int)(11 - r);
}

static unsigned pick_weighted(uint64_t *rng, const unsigned *w, size_t n)
{
	unsigned total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i];
	unsigned x = rng_below(rng, total);
	for (size_t i = 0; i < n; i++) {
		if (x < w[i])
			return (unsigned)i;
		x -= w[i];
	}
	return (unsigned)(n - 1);
}

/* Builds the table of `n` organisations; returns NULL when out of memory. */
static struct org *orgs_make(uint64_t n, uint64_t seed)
{
	struct org *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return NULL;
	uint64_t rng = seed ^ 0x6F7267616E697361ULL;
	struct perm yperm = perm_make(YT_SPAN, &rng), pperm[PT__MAX];
	uint64_t used[PT__MAX] = {0}, yi = 0, cycle = 0; /* every name of cycles < cycle is taken */
	unsigned form_w[N_OF(forms)];
	for (size_t i = 0; i < N_OF(forms); i++)
		form_w[i] = forms[i].weight;
	for (int p = 0; p < PT__MAX; p++)
		pperm[p] = perm_make(pattern_size((enum pattern)p), &rng);

	for (uint64_t k = 0; k < n; k++) {
		struct org *o = &v[k];
		/* A pattern by weight; when it has no unused names left, the next that has. */
		unsigned p = pick_weighted(&rng, pattern_weight, PT__MAX);
		for (int tries = 0; used[p] >= pattern_size((enum pattern)p) * (cycle + 1);) {
			p = (p + 1) % PT__MAX;
			if (++tries % PT__MAX == 0)
				cycle++;
		}
		uint64_t j = used[p]++;
		o->pattern = (uint8_t)p;
		o->cycle = (uint16_t)(j / pattern_size((enum pattern)p));
		pattern_decode(o, (enum pattern)p, perm_at(&pperm[p], j));
		o->form = (uint8_t)pick_weighted(&rng, form_w, N_OF(forms));

		int pl = pattern_place(o);
		o->place = (uint8_t)(pl >= 0 ? (unsigned)pl : rng_below(&rng, N_OF(places)));
		unsigned ncodes = 0;
		while (ncodes < 4 && places[o->place].codes[ncodes])
			ncodes++;
		o->code = (uint8_t)rng_below(&rng, ncodes);

		/* The next number of the scattered range that has a check digit. */
		int check;
		do {
			o->ynum = YT_FIRST + (uint32_t)perm_at(&yperm, yi++);
		} while ((check = ytunnus_check(o->ynum)) < 0);
		o->ycheck = (uint8_t)check;

		/* The project's own validator must agree; anything else is a bug here. */
		char yt[10], norm[10];
		uint32_t d = o->ynum;
		for (int i = 6; i >= 0; i--, d /= 10)
			yt[i] = (char)('0' + d % 10);
		yt[7] = '-';
		yt[8] = (char)('0' + o->ycheck);
		yt[9] = '\0';
		if (!ytunnus_valid(yt, norm, NULL)) {
			fprintf(stderr, "gendata: internal error: generated invalid Y-tunnus %s\n",
			        yt);
			abort();
		}
	}
	return v;
}

/* ---------------------------------------------------------------- output */

struct out {
	char *buf;
	size_t len;
	bool failed;
};

static void out_flush(struct out *o)
{
	if (o->len && !o->failed && fwrite(o->buf, 1, o->len, stdout) != o->len)
		o->failed = true;
	o->len = 0;
}

/* Makes room for `n` more bytes (n is always far below the buffer size). */
static char *out_room(struct out *o, size_t n)
{
	if (o->len + n > OUT_BUF_SIZE)
		out_flush(o);
	return o->buf + o->len;
}

static void out_mem(struct out *o, const char *s, size_t n)
{
	memcpy(out_room(o, n), s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_char(struct out *o, char c)
{
	*out_room(o, 1) = c;
	o->len++;
}

/* Writes `v` in decimal, at least `width` digits with leading zeros. */
static void out_uint(struct out *o, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < 20);
	while (n < width && n < 20)
		tmp[n++] = '0';
	char *p = out_room(o, (size_t)n);
	for (int i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	o->len += (size_t)n;
}

/*
 * Appends `s` transliterated to lower-case ASCII for e-mail addresses and domains: å ä → a,
 * ö → o, é → e, ü → u; letters and digits are kept, '-' is kept, a space becomes '-' when
 * `spaces` and is dropped otherwise, anything else is dropped. Never writes a '-' twice in a
 * row or first. Returns the new length; the result is NUL-terminated and fits in `cap`.
 */
static size_t ascii_fold(const char *s, char *dst, size_t len, size_t cap, bool spaces)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p && len + 1 < cap) {
		char c = 0;
		if (p[0] == 0xC3 && p[1]) {
			switch (p[1]) {
			case 0xA5:
			case 0x85:
			case 0xA4:
			case 0x84:
			case 0xA1:
			case 0xA0: c = 'a'; break;
			case 0xB6:
			case 0x96:
			case 0xB8:
			case 0x98: c = 'o'; break;
			case 0xA9:
			case 0x89:
			case 0xA8: c = 'e'; break;
			case 0xBC:
			case 0x9C: c = 'u'; break;
			default: c = 0;
			}
			p += 2;
		} else if (*p >= 0x80) {
			p++; /* another non-ASCII byte: dropped */
		} else {
			unsigned char a = *p++;
			if (a >= 'A' && a <= 'Z')
				c = (char)(a - 'A' + 'a');
			else if ((a >= 'a' && a <= 'z') || (a >= '0' && a <= '9'))
				c = (char)a;
			else if (a == '-' || (a == ' ' && spaces))
				c = '-';
		}
		if (!c || (c == '-' && (len == 0 || dst[len - 1] == '-')))
			continue;
		dst[len++] = c;
	}
	while (len > 0 && dst[len - 1] == '-')
		len--;
	dst[len] = '\0';
	return len;
}

/* Appends NUL-terminated `s` to `dst` of capacity `cap`, truncating; returns the new length. */
static size_t cat(char *dst, size_t len, size_t cap, const char *s)
{
	while (*s && len + 1 < cap)
		dst[len++] = *s++;
	dst[len] = '\0';
	return len;
}

/* Renders an organisation's name without its company form. */
static void org_base_name(const struct org *o, char *dst, size_t cap)
{
	size_t n = 0;
	dst[0] = '\0';
	switch (o->pattern) {
	case PT_PLACE_TRADE:
		n = cat(dst, n, cap, places[o->a].gen);
		n = cat(dst, n, cap, " ");
		n = cat(dst, n, cap, trades[o->b]);
		break;
	case PT_TRADE_SURNAME:
		n = cat(dst, n, cap, trades[o->a]);
		n = cat(dst, n, cap, " ");
		n = cat(dst, n, cap, surnames[o->b]);
		break;
	case PT_AREA_PLACE_TRADE:
		n = cat(dst, n, cap, areas[o->a]);
		n = cat(dst, n, cap, "-");
		n = cat(dst, n, cap, places[o->b].gen);
		n = cat(dst, n, cap, " ");
		n = cat(dst, n, cap, trades[o->c]);
		break;
	case PT_PLACE_PAIR:
		n = cat(dst, n, cap, places[o->a].gen);
		n = cat(dst, n, cap, " ");
		n = cat(dst, n, cap, pair_trades[o->b]);
		n = cat(dst, n, cap, " ja ");
		n = cat(dst, n, cap, pair_trades[o->c]);
		break;
	case PT_SURNAME_ENGLISH:
		n = cat(dst, n, cap, surnames[o->a]);
		n = cat(dst, n, cap, " ");
		n = cat(dst, n, cap, english_words[o->b]);
		break;
	case PT_SURNAME_PAIR:
		n = cat(dst, n, cap, surnames[o->a]);
		n = cat(dst, n, cap, " & ");
		n = cat(dst, n, cap, surnames[o->b]);
		break;
	case PT_PLACE_ENGLISH:
		n = cat(dst, n, cap, places[o->a].name);
		n = cat(dst, n, cap, " ");
		n = cat(dst, n, cap, english_words[o->b]);
		break;
	default: break;
	}
	if (o->cycle) {
		char num[8];
		int k = 0;
		unsigned v = (unsigned)o->cycle + 1u;
		char tmp[8];
		do {
			tmp[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v && k < 6);
		num[0] = ' ';
		for (int i = 0; i < k; i++)
			num[1 + i] = tmp[k - 1 - i];
		num[1 + k] = '\0';
		cat(dst, n, cap, num);
	}
}

/* ---------------------------------------------------------------- arguments */

static const char usage_text[] =
        "usage: gendata [--rows N] [--seed S] [--orgs M] [--columns LIST]\n"
        "Writes N rows (default 1000) of made-up Finnish business contacts to stdout as a\n"
        "';'-separated UTF-8 CSV for `kortisto import`. The same arguments give the same file.\n"
        "  --rows N        rows to write, 0-50000000 (default 1000)\n"
        "  --seed S        seed of the random numbers, 0-18446744073709551615 (default 1)\n"
        "  --orgs M        organisations the rows are spread over, 1-2000000\n"
        "                  (default: one per four rows)\n"
        "  --columns LIST  comma-separated columns to write, in that order (default all):\n"
        "                  Etunimi,Sukunimi,Sähköposti,Puhelin,Yritys,Y-tunnus,Osasto,\n"
        "                  Postinumero,Postitoimipaikka,Titteli,Kotikunta,Kieli\n";

/* Prints "gendata: MSG[, got 'ARG']" and the usage; returns the exit status of bad usage. */
static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "gendata: %s%s%s%s\n", msg, arg ? ", got '" : "", arg ? arg : "",
	        arg ? "'" : "");
	fputs(usage_text, stderr);
	return 2;
}

/* Parses a decimal number in [min, max] that fills the whole string. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Parses --columns: names separated by commas into cols[], at most C__MAX of them. */
static bool parse_columns(const char *s, int *cols, int *ncols, const char **bad)
{
	static char name[64];
	*ncols = 0;
	while (*s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		int found = -1;
		for (int c = 0; c < C__MAX; c++)
			if (strlen(col_names[c]) == len && memcmp(col_names[c], s, len) == 0)
				found = c;
		if (found < 0 || *ncols == C__MAX) {
			size_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
			memcpy(name, s, n);
			name[n] = '\0';
			*bad = name;
			return false;
		}
		cols[(*ncols)++] = found;
		s += len;
		if (*s == ',')
			s++;
	}
	if (*ncols == 0) {
		*bad = "";
		return false;
	}
	return true;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past a separate value. */
static bool option(int argc, char **argv, int *i, const char *name, const char **value,
                   bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) != 0)
		return false;
	if (a[n] == '=') {
		*value = a + n + 1;
		return true;
	}
	if (a[n] != '\0')
		return false;
	if (*i + 1 >= argc) {
		*missing = true;
		return true;
	}
	*value = argv[++*i];
	return true;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	uint64_t rows = 1000, seed = 1, norgs = 0;
	int cols[C__MAX], ncols = C__MAX;
	for (int c = 0; c < C__MAX; c++)
		cols[c] = c;

	for (int i = 1; i < argc; i++) {
		const char *v = NULL, *bad = NULL;
		bool missing = false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (option(argc, argv, &i, "--rows", &v, &missing)) {
			if (missing || !parse_u64(v, 0, MAX_ROWS, &rows))
				return usage_error("--rows: expected a number from 0 to 50000000",
				                   v);
		} else if (option(argc, argv, &i, "--seed", &v, &missing)) {
			if (missing || !parse_u64(v, 0, UINT64_MAX, &seed))
				return usage_error("--seed: expected a non-negative integer", v);
		} else if (option(argc, argv, &i, "--orgs", &v, &missing)) {
			if (missing || !parse_u64(v, 1, MAX_ORGS, &norgs))
				return usage_error("--orgs: expected a number from 1 to 2000000",
				                   v);
		} else if (option(argc, argv, &i, "--columns", &v, &missing)) {
			if (missing)
				return usage_error("--columns: expected a comma-separated list",
				                   NULL);
			if (!parse_columns(v, cols, &ncols, &bad))
				return usage_error("--columns: unknown column (or more than 12)",
				                   bad);
		} else {
			return usage_error("expected --rows, --seed, --orgs, --columns or --help",
			                   argv[i]);
		}
	}
	if (norgs == 0)
		norgs = rows / 4 > 0 ? (rows / 4 < MAX_ORGS ? rows / 4 : MAX_ORGS) : 1;

	struct org *orgs = orgs_make(norgs, seed);
	struct out o = {.buf = malloc(OUT_BUF_SIZE)};
	if (!orgs || !o.buf) {
		fprintf(stderr, "gendata: out of memory\n");
		free(orgs);
		free(o.buf);
		return 1;
	}

	/* Names folded to ASCII once, for the e-mail addresses. */
	static char first_ascii[N_OF(first_names)][32], last_ascii[N_OF(surnames)][32];
	for (size_t k = 0; k < N_OF(first_names); k++)
		ascii_fold(first_names[k], first_ascii[k], 0, sizeof(first_ascii[k]), false);
	for (size_t k = 0; k < N_OF(surnames); k++)
		ascii_fold(surnames[k], last_ascii[k], 0, sizeof(last_ascii[k]), false);

	for (int c = 0; c < ncols; c++) {
		if (c)
			out_char(&o, ';');
		out_str(&o, col_names[cols[c]]);
	}
	out_char(&o, '\n');

	uint64_t rng = seed;
	struct perm phones = perm_make(PHONE_SPAN, &rng);
	for (uint64_t i = 0; i < rows && !o.failed; i++) {
		/* Draw every value, whichever columns are written. */
		const struct org *org = &orgs[i < norgs ? i : rng_below(&rng, (uint32_t)norgs)];
		uint32_t fn = rng_below(&rng, N_OF(first_names));
		uint32_t ln = rng_below(&rng, N_OF(surnames));
		uint32_t dept = rng_below(&rng, N_OF(departments));
		uint32_t title = rng_below(&rng, N_OF(titles));
		uint32_t home =
		        rng_below(&rng, 100) < 60 ? org->place : rng_below(&rng, N_OF(places));
		uint32_t lr = rng_below(&rng, 100);
		const char *lang = places[home].swedish || places[org->place].swedish
		                           ? (lr < 30   ? "sv"
		                              : lr < 33 ? "en"
		                                        : "fi")
		                           : (lr < 3   ? "sv"
		                              : lr < 7 ? "en"
		                                       : "fi");
		uint64_t phone = perm_at(&phones, i);

		char base[128], name[160], domain[72];
		org_base_name(org, base, sizeof(base));
		size_t nl = cat(name, 0, sizeof(name), base);
		nl = cat(name, nl, sizeof(name), " ");
		cat(name, nl, sizeof(name), forms[org->form].name);
		ascii_fold(base, domain, 0, 64, true);

		for (int c = 0; c < ncols; c++) {
			if (c)
				out_char(&o, ';');
			switch (cols[c]) {
			case C_FIRST: out_str(&o, first_names[fn]); break;
			case C_LAST: out_str(&o, surnames[ln]); break;
			case C_EMAIL:
				out_str(&o, first_ascii[fn]);
				out_char(&o, '.');
				out_str(&o, last_ascii[ln]);
				out_uint(&o, i + 1, 0);
				out_char(&o, '@');
				out_str(&o, domain);
				out_mem(&o, ".fi", 3);
				break;
			case C_PHONE:
				out_str(&o, mobile_prefixes[phone / 10000000]);
				out_char(&o, ' ');
				out_uint(&o, phone % 10000000 / 10000, 3);
				out_char(&o, ' ');
				out_uint(&o, phone % 10000, 4);
				break;
			case C_COMPANY: out_str(&o, name); break;
			case C_YTUNNUS:
				out_uint(&o, org->ynum, 7);
				out_char(&o, '-');
				out_uint(&o, org->ycheck, 1);
				break;
			case C_DEPT: out_str(&o, departments[dept]); break;
			case C_POSTCODE: out_str(&o, places[org->place].codes[org->code]); break;
			case C_CITY: out_str(&o, places[org->place].name); break;
			case C_TITLE: out_str(&o, titles[title]); break;
			case C_MUNICIPALITY: out_str(&o, places[home].name); break;
			case C_LANG: out_str(&o, lang); break;
			default: break;
			}
		}
		out_char(&o, '\n');
	}
	out_flush(&o);
	int status = 0;
	if (o.failed || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gendata: write error: %s\n", strerror(errno));
		status = 1;
	}
	free(orgs);
	free(o.buf);
	return status;
}
