/*
 * Unit tests for the CSV reader, one per behaviour. Most tests parse a string through
 * parse_dump(), which runs the reader with several chunk sizes, down to one byte, and insists
 * that all of them give the same result, so every case is also a chunk-boundary case.
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen, open_memstream */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/csv.h"

/* ---------------------------------------------------------------- helpers */

/*
 * Parses `len` bytes of `in` with the given options and returns a dump the caller frees:
 * "LINE:f1|f2\n" per record, "E message\n" per bad record, "F message\n" for a fatal error.
 * Checks the reader's invariants on the way.
 */
static char *dump_one(const char *in, size_t len, const struct csv_opts *o)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *w = open_memstream(&out, &outlen);
	FILE *f = fmemopen((void *)in, len, "r");
	assert_non_null(w);
	assert_non_null(f);
	struct csv *c = csv_open_opts(f, o);
	assert_non_null(c);

	struct csv_record rec;
	char err[200];
	long last = -1, lastline = 0;
	int rc;
	while ((rc = csv_next(c, &rec, err, sizeof(err))) != 0) {
		assert_true(csv_bytes_read(c) >= last);
		last = csv_bytes_read(c);
		if (rc == -2) {
			fprintf(w, "F %s\n", err);
			assert_int_equal(csv_next(c, &rec, err, sizeof(err)), -2);
			break;
		}
		assert_true(rec.line > lastline);
		lastline = rec.line;
		if (rc == -1) {
			assert_null(rec.fields);
			fprintf(w, "E %s\n", err);
			continue;
		}
		assert_int_equal(rc, 1);
		assert_string_equal(err, "");
		fprintf(w, "%ld:", rec.line);
		for (size_t i = 0; i < rec.n; i++) {
			assert_int_equal(rec.fields[i].s[rec.fields[i].len], '\0');
			assert_int_equal(strlen(rec.fields[i].s), rec.fields[i].len);
			fprintf(w, "%s%s", i ? "|" : "", rec.fields[i].s);
		}
		fprintf(w, "\n");
	}
	if (rc == 0) {
		assert_int_equal(csv_bytes_read(c), (long)len);
		assert_int_equal(csv_next(c, &rec, err, sizeof(err)), 0);
	}
	csv_free(c);
	fclose(f);
	fclose(w);
	return out;
}

/* Like dump_one() for each of several chunk sizes; all must agree. */
static char *dump_opts(const char *in, size_t len, const struct csv_opts *base)
{
	static const size_t chunks[] = {0, 1, 2, 3, 7, 64};
	char *first = NULL;
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct csv_opts o = *base;
		o.chunk = chunks[i];
		char *d = dump_one(in, len, &o);
		if (!first) {
			first = d;
			continue;
		}
		assert_string_equal(d, first);
		free(d);
	}
	return first;
}

static void expect(const char *in, char delim, const char *want)
{
	struct csv_opts o = {.delimiter = delim};
	char *d = dump_opts(in, strlen(in), &o);
	assert_string_equal(d, want);
	free(d);
}

static char detect(const char *in)
{
	FILE *f = fmemopen((void *)in, strlen(in), "r");
	assert_non_null(f);
	struct csv *c = csv_open(f, 0);
	assert_non_null(c);
	char d = csv_delimiter(c);
	csv_free(c);
	fclose(f);
	return d;
}

/* ---------------------------------------------------------------- plain files */

static void test_semicolon(void **state)
{
	(void)state;
	expect("nimi;kunta;puhelin\nAalto;Espoo;09 123\nVirta;Oulu;\n", ';',
	       "1:nimi|kunta|puhelin\n2:Aalto|Espoo|09 123\n3:Virta|Oulu|\n");
}

static void test_comma(void **state)
{
	(void)state;
	expect("name,city\nAalto,Espoo\n", ',', "1:name|city\n2:Aalto|Espoo\n");
	/* With ',' given, ';' is ordinary content. */
	expect("a;b,c\n", ',', "1:a;b|c\n");
}

static void test_empty_fields(void **state)
{
	(void)state;
	expect(";\na;\n;b\n;;\n", ';', "1:|\n2:a|\n3:|b\n4:||\n");
}

static void test_empty_input(void **state)
{
	(void)state;
	expect("", 0, "");
	expect("\n\n\r\n", 0, "");
	expect("\xef\xbb\xbf", 0, "");
}

/* ---------------------------------------------------------------- delimiter detection */

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(detect("a;b;c\n1,5;2,5;3\n"), ';');
	assert_int_equal(detect("a,b,c\n1;2;3\n"), ',');
	assert_int_equal(detect("a;b,c\n"), ';');  /* tie */
	assert_int_equal(detect("single\n"), ';'); /* neither */
	assert_int_equal(detect(""), ';');
	assert_int_equal(detect("\"a;b;c\",d,e\n"), ','); /* quoted ones do not count */
	assert_int_equal(detect("\n\r\na,b\n"), ',');     /* first non-empty line */
	assert_int_equal(detect("\357\273\277a,b\n"), ',');
	assert_int_equal(detect("a,b"), ','); /* no line end */
}

static void test_detect_then_parse(void **state)
{
	(void)state;
	expect("\"x;y\",z\n1,2\n", 0, "1:x;y|z\n2:1|2\n");
	expect("x;y\n\"1,5\";2\n", 0, "1:x|y\n2:1,5|2\n");
}

static void test_open_args(void **state)
{
	(void)state;
	FILE *f = fmemopen((void *)"a\n", 2, "r");
	assert_non_null(f);
	assert_null(csv_open(NULL, ';'));
	assert_null(csv_open(f, '\t'));
	assert_null(csv_open(f, '"'));
	struct csv *c = csv_open_opts(f, NULL);
	assert_non_null(c);
	assert_int_equal(csv_delimiter(c), ';');
	csv_free(c);
	csv_free(NULL);
	fclose(f);
}

/* ---------------------------------------------------------------- quoting */

static void test_quoted_delimiter(void **state)
{
	(void)state;
	expect("\"Aalto; Alvar\";\"Espoo\"\n", ';', "1:Aalto; Alvar|Espoo\n");
	expect("\"\";\"\"\n", ';', "1:|\n");
}

static void test_quoted_newline(void **state)
{
	(void)state;
	expect("a;\"rivi 1\nrivi 2\";b\nc;d\n", ';', "1:a|rivi 1\nrivi 2|b\n3:c|d\n");
	/* CRLF inside quotes is content. */
	expect("\"x\r\ny\"\r\n", ';', "1:x\r\ny\n");
}

static void test_doubled_quote(void **state)
{
	(void)state;
	expect("\"Oy \"\"Esimerkki\"\" Ab\";\"\"\"\"\n", ';', "1:Oy \"Esimerkki\" Ab|\"\n");
}

static void test_quoted_empty_line_is_record(void **state)
{
	(void)state;
	expect("\"\"\na\n", ';', "1:\n2:a\n");
}

/* ---------------------------------------------------------------- line ends and lines */

static void test_crlf(void **state)
{
	(void)state;
	expect("a;b\r\nc;\"d\"\r\ne;\r\n", ';', "1:a|b\n2:c|d\n3:e|\n");
	/* A CR not before LF is content. */
	expect("a\rb;c\n", ';', "1:a\rb|c\n");
}

static void test_bom(void **state)
{
	(void)state;
	expect("\xef\xbb\xbfnimi;kunta\nA;B\n", ';', "1:nimi|kunta\n2:A|B\n");
	expect("\xef\xbb\xbf\"nimi\",kunta\n", 0, "1:nimi|kunta\n");
	/* Only at the start. */
	expect("a\n\357\273\277b\n", ';', "1:a\n2:\357\273\277b\n");
}

static void test_line_numbers(void **state)
{
	(void)state;
	expect("h1;h2\n"
	       "1;\"kolme\nriviä\npitkä\"\n"
	       "2;x\n"
	       "\"a\r\nb\";\"c\nd\"\n"
	       "3;y\n",
	       ';',
	       "1:h1|h2\n"
	       "2:1|kolme\nriviä\npitkä\n"
	       "5:2|x\n"
	       "6:a\r\nb|c\nd\n"
	       "9:3|y\n");
}

static void test_empty_lines(void **state)
{
	(void)state;
	expect("\n\na;b\n\n\r\nc;d\n\n", ';', "3:a|b\n6:c|d\n");
}

static void test_last_record_without_newline(void **state)
{
	(void)state;
	expect("a;b\nc;d", ';', "1:a|b\n2:c|d\n");
	expect("a;b\n\"c\";\"d\"", ';', "1:a|b\n2:c|d\n");
	expect("a;b\nc;", ';', "1:a|b\n2:c|\n");
	expect("a;b\r", ';', "1:a|b\n");
}

/* ---------------------------------------------------------------- text */

static void test_finnish_text(void **state)
{
	(void)state;
	expect("nimi;osoite\nÄänekosken kaupunki;Hallintokatu 4, 44100 Äänekoski\n"
	       "Åbo Akademi;Tuomiokirkontori 3\n\"Ylöjärven \"\"yrityspalvelut\"\"\";Kuruntie 14\n",
	       0,
	       "1:nimi|osoite\n2:Äänekosken kaupunki|Hallintokatu 4, 44100 Äänekoski\n"
	       "3:Åbo Akademi|Tuomiokirkontori 3\n4:Ylöjärven \"yrityspalvelut\"|Kuruntie 14\n");
	/* Four-byte and three-byte characters at the top of their ranges are valid. */
	expect("\xf4\x8f\xbf\xbf;\xef\xbf\xbd;\xed\x9f\xbf\n", ';',
	       "1:\xf4\x8f\xbf\xbf|\xef\xbf\xbd|\xed\x9f\xbf\n");
}

static void test_invalid_utf8_recovers(void **state)
{
	(void)state;
	/* A Latin-1 export: "Hämeenlinna" with 0xE4 for ä. */
	expect("nimi;kunta;lisä\n"
	       "A;B;C\n"
	       "Virta;H\xe4meenlinna;x\n"
	       "D;E;F\n",
	       ';',
	       "1:nimi|kunta|lisä\n"
	       "2:A|B|C\n"
	       "E line 3, field 2: not valid UTF-8\n"
	       "4:D|E|F\n");
}

static void test_invalid_utf8_forms(void **state)
{
	(void)state;
	static const char *bad[] = {
	        "\xc0\x80",         /* overlong NUL */
	        "\xc1\xbf",         /* overlong */
	        "\xe0\x9f\xbf",     /* overlong three bytes */
	        "\xf0\x8f\xbf\xbf", /* overlong four bytes */
	        "\xed\xa0\x80",     /* surrogate U+D800 */
	        "\xed\xbf\xbf",     /* surrogate U+DFFF */
	        "\xf4\x90\x80\x80", /* U+110000 */
	        "\xf5\x80\x80\x80", /* past U+10FFFF */
	        "\xff",             /* never valid */
	        "\x80",             /* lone continuation */
	        "\xc3",             /* truncated */
	        "\xe2\x82",         /* truncated */
	        "\xc3\x28",         /* bad continuation */
	        "abcdefgh\xe4",     /* after the ASCII fast path */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char in[64];
		snprintf(in, sizeof(in), "ok;x%s\n\"q\";\"%s\"\nz\n", bad[i], bad[i]);
		expect(in, ';',
		       "E line 1, field 2: not valid UTF-8\n"
		       "E line 2, field 2: not valid UTF-8\n"
		       "3:z\n");
	}
}

static void test_nul_byte(void **state)
{
	(void)state;
	static const char in[] = "a;b\0c\nd\n";
	struct csv_opts o = {.delimiter = ';'};
	char *d = dump_opts(in, sizeof(in) - 1, &o);
	assert_string_equal(d, "E line 1, field 2: contains a NUL byte\n2:d\n");
	free(d);
}

/* ---------------------------------------------------------------- malformed quoting */

static void test_stray_quote_recovers(void **state)
{
	(void)state;
	expect("a;b\nOy \"X\" Ab;c\nd;e\n", ';',
	       "1:a|b\nE line 2, field 1: quote inside an unquoted field\n3:d|e\n");
	expect("x;y;ab\"\nz\n", ';', "E line 1, field 3: quote inside an unquoted field\n2:z\n");
}

static void test_text_after_quote_recovers(void **state)
{
	(void)state;
	expect("\"a\"b;c\nd\n", ';', "E line 1, field 1: text after the closing quote\n2:d\n");
	expect("x;\"a\" ;c\nd\n", ';', "E line 1, field 2: text after the closing quote\n2:d\n");
	expect("x;\"a\"\rb\nd\n", ';', "E line 1, field 2: text after the closing quote\n2:d\n");
}

static void test_unterminated_quote_fatal(void **state)
{
	(void)state;
	expect("a;b\nc;\"open\nmore\n", ';',
	       "1:a|b\nF line 2, field 2: quoted field not closed before the end of the file\n");
	expect("\"", ';',
	       "F line 1, field 1: quoted field not closed before the end of the file\n");
}

/* ---------------------------------------------------------------- limits */

static void test_overlong_record_recovers(void **state)
{
	(void)state;
	struct csv_opts o = {.delimiter = ';', .max_record = 16};
	const char *in = "a;b\n"
	                 "0123456789;0123456789;0123456789\n"
	                 "0123456789;12345\n"    /* exactly 16 bytes: allowed */
	                 "0123456789;123456\r\n" /* 17 bytes and a CR: too long */
	                 "c;d\n";
	char *d = dump_opts(in, strlen(in), &o);
	assert_string_equal(
	        d, "1:a|b\n"
	           "E line 2: record longer than 16 bytes; skipped to the end of the line\n"
	           "3:0123456789|12345\n"
	           "E line 4: record longer than 16 bytes; skipped to the end of the line\n"
	           "5:c|d\n");
	free(d);

	/* A runaway quote is cut off at the limit and reading goes on from the next line. */
	in = "x;\"no end\n0123456789\n0123456789\nc;d\n";
	d = dump_opts(in, strlen(in), &o);
	assert_string_equal(
	        d, "E line 1: record longer than 16 bytes; skipped to the end of the line\n"
	           "3:0123456789\n4:c|d\n");
	free(d);

	/* Too long and without a line end. */
	in = "a\n01234567890123456789";
	d = dump_opts(in, strlen(in), &o);
	assert_string_equal(
	        d, "1:a\n"
	           "E line 2: record longer than 16 bytes; skipped to the end of the line\n");
	free(d);
}

static void test_overlong_default_limit(void **state)
{
	(void)state;
	size_t big = CSV_MAX_RECORD + 100;
	char *in = malloc(big + 16);
	assert_non_null(in);
	memset(in, 'x', big);
	memcpy(in + big, "\nok;1\n", 6);
	struct csv_opts o = {.delimiter = ';'};
	char *d = dump_one(in, big + 6, &o);
	assert_string_equal(d, "E line 1: record longer than 1048576 bytes; skipped to the end of "
	                       "the line\n2:ok|1\n");
	free(d);
	free(in);
}

static void test_too_many_fields_recovers(void **state)
{
	(void)state;
	struct csv_opts o = {.delimiter = ';', .max_fields = 3};
	const char *in = "a;b;c\na;b;c;d;\"e\nf\"\ng;h\n";
	char *d = dump_opts(in, strlen(in), &o);
	assert_string_equal(d, "1:a|b|c\nE line 2: more than 3 fields\n4:g|h\n");
	free(d);
}

static void test_too_many_fields_default(void **state)
{
	(void)state;
	char *in = malloc(3000);
	assert_non_null(in);
	memset(in, ';', 1000); /* 1001 fields */
	memcpy(in + 1000, "\nx\n", 3);
	struct csv_opts o = {0};
	char *d = dump_one(in, 1003, &o);
	assert_string_equal(d, "E line 1: more than 1000 fields\n2:x\n");
	free(d);
	memcpy(in + 999, "\nx\n", 3); /* exactly 1000 fields */
	d = dump_one(in, 1002, &o);
	assert_string_equal(d + strlen(d) - 4, "2:x\n");
	assert_int_equal(strncmp(d, "1:|||", 5), 0);
	free(d);
	free(in);
}

/* ---------------------------------------------------------------- large input */

/* 200,000 records, several of them multi-line, across many default-sized chunks. */
static void test_large_file(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *w = open_memstream(&buf, &len);
	assert_non_null(w);
	fprintf(w, "\xef\xbb\xbfid;nimi;kunta;huom\r\n");
	for (int i = 0; i < 200000; i++) {
		if (i % 1000 == 999)
			fprintf(w, "%d;\"Yritys %d; Oy\";Jyväskylä;\"rivi\r\n\"\"toinen\"\"\"\r\n",
			        i, i);
		else
			fprintf(w, "%d;Yritys %d Oy;Jyväskylä;\r\n", i, i);
	}
	fclose(w);

	FILE *f = fmemopen(buf, len, "r");
	assert_non_null(f);
	struct csv *c = csv_open(f, 0);
	assert_non_null(c);
	assert_int_equal(csv_delimiter(c), ';');
	struct csv_record rec;
	char err[200];
	long n = 0, line = 0;
	int rc;
	while ((rc = csv_next(c, &rec, err, sizeof(err))) == 1) {
		assert_int_equal(rec.n, 4);
		if (n > 0) {
			long i = n - 1;
			assert_int_equal(strtol(rec.fields[0].s, NULL, 10), i);
			assert_string_equal(rec.fields[2].s, "Jyväskylä");
			if (i % 1000 == 999)
				assert_string_equal(rec.fields[3].s, "rivi\r\n\"toinen\"");
		}
		line = rec.line;
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 200001);
	assert_int_equal(line, 200001 + 200 - 1); /* one extra line per multi-line record */
	assert_int_equal(csv_bytes_read(c), (long)len);
	csv_free(c);
	fclose(f);
	free(buf);
}

/* ---------------------------------------------------------------- errors from the FILE */

static void test_read_error(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/null", "w"); /* reading from it fails */
	assert_non_null(f);
	struct csv *c = csv_open(f, ';');
	assert_non_null(c);
	struct csv_record rec;
	char err[200];
	assert_int_equal(csv_next(c, &rec, err, sizeof(err)), -2);
	assert_int_equal(strncmp(err, "read error: ", 12), 0);
	assert_int_equal(csv_next(c, &rec, NULL, 0), -2);
	csv_free(c);
	fclose(f);
}

static void test_err_may_be_null(void **state)
{
	(void)state;
	FILE *f = fmemopen((void *)"a\"b\nc\n", 6, "r");
	assert_non_null(f);
	struct csv *c = csv_open(f, ';');
	struct csv_record rec;
	char small[8];
	assert_int_equal(csv_next(c, &rec, NULL, 0), -1);
	assert_int_equal(rec.line, 1);
	assert_int_equal(csv_next(c, &rec, small, sizeof(small)), 1);
	assert_string_equal(small, "");
	assert_int_equal(csv_next(c, &rec, small, sizeof(small)), 0);
	csv_free(c);
	fclose(f);
}

static void test_truncated_message(void **state)
{
	(void)state;
	FILE *f = fmemopen((void *)"a\"b\n", 4, "r");
	assert_non_null(f);
	struct csv *c = csv_open(f, ';');
	struct csv_record rec;
	char small[8];
	assert_int_equal(csv_next(c, &rec, small, sizeof(small)), -1);
	assert_string_equal(small, "line 1,");
	csv_free(c);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_semicolon),
	        cmocka_unit_test(test_comma),
	        cmocka_unit_test(test_empty_fields),
	        cmocka_unit_test(test_empty_input),
	        cmocka_unit_test(test_detect),
	        cmocka_unit_test(test_detect_then_parse),
	        cmocka_unit_test(test_open_args),
	        cmocka_unit_test(test_quoted_delimiter),
	        cmocka_unit_test(test_quoted_newline),
	        cmocka_unit_test(test_doubled_quote),
	        cmocka_unit_test(test_quoted_empty_line_is_record),
	        cmocka_unit_test(test_crlf),
	        cmocka_unit_test(test_bom),
	        cmocka_unit_test(test_line_numbers),
	        cmocka_unit_test(test_empty_lines),
	        cmocka_unit_test(test_last_record_without_newline),
	        cmocka_unit_test(test_finnish_text),
	        cmocka_unit_test(test_invalid_utf8_recovers),
	        cmocka_unit_test(test_invalid_utf8_forms),
	        cmocka_unit_test(test_nul_byte),
	        cmocka_unit_test(test_stray_quote_recovers),
	        cmocka_unit_test(test_text_after_quote_recovers),
	        cmocka_unit_test(test_unterminated_quote_fatal),
	        cmocka_unit_test(test_overlong_record_recovers),
	        cmocka_unit_test(test_overlong_default_limit),
	        cmocka_unit_test(test_too_many_fields_recovers),
	        cmocka_unit_test(test_too_many_fields_default),
	        cmocka_unit_test(test_large_file),
	        cmocka_unit_test(test_read_error),
	        cmocka_unit_test(test_err_may_be_null),
	        cmocka_unit_test(test_truncated_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
