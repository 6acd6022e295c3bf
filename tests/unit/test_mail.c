/*
 * Unit tests for src/util/mail.c. The formatting tests read the messages back with decoders
 * written here (quoted-printable, RFC 2047 encoded-words, header unfolding), not with the code
 * under test, so a bug cannot hide in both directions. The sending tests run the real libcurl
 * against tests/api/smtp_sink.py, a small SMTP server started on a free port of 127.0.0.1, and
 * compare what it received byte for byte with what was formatted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/kerr.h"
#include "util/mail.h"

/* 2001-09-09T01:46:40Z, a Sunday. */
#define T_BILLION 1000000000

/* ------------------------------------------------------------------------------------------ */
/* Reading messages back                                                                      */
/* ------------------------------------------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is not what RFC 2045 asks an encoder to write */
}

/* Decodes quoted-printable text into `out`; fails the test on a malformed escape. */
static void qp_decode(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '=') {
			buf_putc(out, s[i]);
			continue;
		}
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2; /* soft line break */
			continue;
		}
		if (i + 2 >= n)
			fail_msg("truncated escape at %zu", i);
		int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0)
			fail_msg("bad escape =%c%c at %zu", s[i + 1], s[i + 2], i);
		buf_putc(out, (char)(hi * 16 + lo));
		i += 2;
	}
}

/* What a text is expected to decode to: every "\n" not after "\r" becomes "\r\n". */
static void crlf(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, s[i]);
	}
}

/* Checks the form of encoded text: CRLF line ends only, lines of at most `max` characters,
 * printable ASCII, no space or tab at the end of a line. */
static void assert_lines(const char *s, size_t n, size_t max)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r') {
			if (i + 1 >= n || s[i + 1] != '\n')
				fail_msg("bare CR at %zu", i);
			if (col > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
				fail_msg("whitespace at the end of a line at %zu", i);
			col = 0;
			i++;
			continue;
		}
		if (c == '\n')
			fail_msg("bare LF at %zu", i);
		if ((c < 0x20 && c != '\t') || c > 0x7e)
			fail_msg("byte 0x%02x at %zu is not printable ASCII", c, i);
		if (++col > max)
			fail_msg("line longer than %zu at %zu: %.80s", max, i, s + i - col + 1);
	}
}

/* Encodes and decodes `s`, checks the round trip and the form of the encoding. */
static void qp_roundtrip(const char *s, size_t n)
{
	struct buf enc = BUF_INIT, dec = BUF_INIT, want = BUF_INIT;
	mail_qp_encode(&enc, s, n);
	assert_lines(enc.p ? enc.p : "", enc.len, 76);
	qp_decode(enc.p ? enc.p : "", enc.len, &dec);
	crlf(s, n, &want);
	assert_int_equal(dec.len, want.len);
	if (want.len)
		assert_memory_equal(dec.p, want.p, want.len);
	buf_free(&enc);
	buf_free(&dec);
	buf_free(&want);
}

/* The header block of a message (up to the empty line), as a new string. */
static char *header_block(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");
	assert_non_null(end);
	return strndup(msg, (size_t)(end - msg) + 2);
}

/* The unfolded value of the first header `name` (without the space after the colon), or
 * NULL; the caller frees it. */
static char *header_get(const char *msg, const char *name)
{
	char *hdr = header_block(msg);
	size_t nl = strlen(name);
	char *res = NULL;
	for (char *line = hdr; *line;) {
		char *eol = strstr(line, "\r\n");
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			struct buf v = BUF_INIT;
			char *p = line + nl + 1;
			if (*p == ' ')
				p++;
			for (;;) {
				buf_append(&v, p, (size_t)(eol - p));
				if (eol[2] != ' ' && eol[2] != '\t')
					break;
				p = eol + 2; /* unfolding removes the CRLF only */
				eol = strstr(p, "\r\n");
			}
			res = strdup(buf_str(&v));
			buf_free(&v);
			break;
		}
		line = eol + 2;
	}
	free(hdr);
	return res;
}

/* Decodes RFC 2047 "B" encoded-words in an unfolded header value; whitespace between two
 * adjacent encoded-words is dropped, as §6.2 says. Fails on a word longer than 75. */
static char *ewords_decode(const char *v)
{
	struct buf out = BUF_INIT;
	const char *p = v;
	bool after_word = false;
	while (*p) {
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			const char *end = strstr(p + 10, "?=");
			assert_non_null(end);
			if ((size_t)(end + 2 - p) > 75)
				fail_msg("encoded-word of %zu characters", (size_t)(end + 2 - p));
			unsigned char bin[128];
			size_t blen = 0;
			assert_int_equal(sodium_base642bin(bin, sizeof(bin), p + 10,
			                                   (size_t)(end - p - 10), NULL, &blen,
			                                   NULL, sodium_base64_VARIANT_ORIGINAL),
			                 0);
			buf_append(&out, bin, blen);
			p = end + 2;
			after_word = true;
			continue;
		}
		if (after_word && (*p == ' ' || *p == '\t')) {
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if (strncmp(q, "=?UTF-8?B?", 10) == 0) {
				p = q;
				continue;
			}
		}
		after_word = false;
		buf_putc(&out, *p++);
	}
	char *res = strdup(buf_str(&out));
	buf_free(&out);
	return res;
}

/* The body of a message: what follows the empty line. */
static const char *body_of(const char *msg)
{
	const char *p = strstr(msg, "\r\n\r\n");
	assert_non_null(p);
	return p + 4;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static const struct mail_msg base_msg = {
        .from = "kirjaamo@rauma.fi",
        .from_name = "Rauman kaupunki",
        .to = "matti.meikalainen@example.fi",
        .subject = "Kirjautumislinkki",
        .text = "Hei!\nAvaa linkki.\n",
};

static int format(const struct mail_msg *m, struct buf *out, struct kerr *err)
{
	buf_reset(out);
	kerr_clear(err);
	return mail_format(m, T_BILLION, out, err);
}

/* ------------------------------------------------------------------------------------------ */
/* Formatting                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* The headers come in the documented order, the Date is RFC 5322 in UTC and the Message-ID is
 * random hex at the sender's domain; the text/plain body is quoted-printable. */
static void test_format_headers_in_order(void **state)
{
	(void)state;
	const char *extra[] = {"List-Unsubscribe: <https://rauma.fi/p/u/abc>",
	                       "List-Unsubscribe-Post: List-Unsubscribe=One-Click"};
	struct mail_msg m = base_msg;
	m.headers = extra;
	m.nheaders = 2;
	struct buf out = BUF_INIT;
	struct kerr err = {0};
	assert_int_equal(format(&m, &out, &err), 0);

	static const char *const order[] = {
	        "Date: Sun, 09 Sep 2001 01:46:40 +0000\r\n",
	        "From: \"Rauman kaupunki\" <kirjaamo@rauma.fi>\r\n",
	        "To: matti.meikalainen@example.fi\r\n",
	        "Subject: Kirjautumislinkki\r\n",
	        "Message-ID: <",
	        "List-Unsubscribe: <https://rauma.fi/p/u/abc>\r\n",
	        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
	        "MIME-Version: 1.0\r\n",
	        "Content-Type: text/plain; charset=utf-8\r\n",
	        "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	};
	const char *p = out.p;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (strncmp(p, order[i], strlen(order[i])) != 0)
			fail_msg("expected header %zu \"%s\" at: %.60s", i, order[i], p);
		size_t ol = strlen(order[i]);
		p = order[i][ol - 1] == '\n' ? p + ol : strstr(p, "\r\n") + 2;
	}
	assert_string_equal(p, "Hei!\r\nAvaa linkki.\r\n");

	char *mid = header_get(out.p, "Message-ID");
	assert_int_equal(strlen(mid), 1 + 32 + strlen("@rauma.fi>"));
	assert_int_equal(strspn(mid + 1, "0123456789abcdef"), 32);
	assert_string_equal(mid + 33, "@rauma.fi>");

	/* A second message gets another Message-ID. */
	struct buf out2 = BUF_INIT;
	assert_int_equal(format(&m, &out2, &err), 0);
	char *mid2 = header_get(out2.p, "Message-ID");
	assert_string_not_equal(mid, mid2);
	assert_lines(out.p, out.len, 78);

	/* message_id_domain replaces the sender's domain. */
	m.message_id_domain = "kortisto.rauma.fi";
	assert_int_equal(format(&m, &out2, &err), 0);
	free(mid2);
	mid2 = header_get(out2.p, "Message-ID");
	assert_non_null(strstr(mid2, "@kortisto.rauma.fi>"));

	free(mid);
	free(mid2);
	buf_free(&out);
	buf_free(&out2);
}

/* Dates across the year: weekday, zero padding, and a time before 1970. */
static void test_format_dates(void **state)
{
	(void)state;
	static const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	        {0, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"},
	        {1798361442, "Date: Sun, 27 Dec 2026 08:50:42 +0000\r\n"},
	        {951782400, "Date: Tue, 29 Feb 2000 00:00:00 +0000\r\n"},
	        {-1, "Date: Wed, 31 Dec 1969 23:59:59 +0000\r\n"},
	};
	struct buf out = BUF_INIT;
	struct kerr err = {0};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&out);
		assert_int_equal(mail_format(&base_msg, cases[i].t, &out, &err), 0);
		assert_memory_equal(out.p, cases[i].want, strlen(cases[i].want));
	}
	buf_free(&out);
}

/* A display name with ä and Ä is one RFC 2047 encoded-word; a plain one with a quote is a
 * quoted-string with the quote escaped; without a name the address stands alone. */
static void test_format_encoded_from_name(void **state)
{
	(void)state;
	struct mail_msg m = base_msg;
	m.from_name = "Päivi Äijälä";
	struct buf out = BUF_INIT;
	struct kerr err = {0};
	assert_int_equal(format(&m, &out, &err), 0);
	assert_non_null(strstr(out.p, "\r\nFrom: =?UTF-8?B?UMOkaXZpIMOEaWrDpGzDpA==?= "
	                              "<kirjaamo@rauma.fi>\r\n"));
	char *v = header_get(out.p, "From"), *d = ewords_decode(v);
	assert_string_equal(d, "Päivi Äijälä <kirjaamo@rauma.fi>");
	free(v);
	free(d);

	m.from_name = "Rauma \"Business\" \\ Services";
	assert_int_equal(format(&m, &out, &err), 0);
	assert_non_null(strstr(out.p, "\r\nFrom: \"Rauma \\\"Business\\\" \\\\ Services\" "
	                              "<kirjaamo@rauma.fi>\r\n"));

	m.from_name = NULL;
	assert_int_equal(format(&m, &out, &err), 0);
	assert_non_null(strstr(out.p, "\r\nFrom: kirjaamo@rauma.fi\r\n"));

	/* A long name is folded into several encoded-words, the address on its own line. */
	m.from_name = "Satakunnan elinkeinopalvelut – yrityspalvelujen asiakasrekisterin "
	              "ylläpitäjä ja yhteyshenkilö";
	assert_int_equal(format(&m, &out, &err), 0);
	char *hdr = header_block(out.p);
	assert_lines(hdr, strlen(hdr), 78);
	v = header_get(out.p, "From");
	d = ewords_decode(v);
	char want[256];
	snprintf(want, sizeof(want), "%s <kirjaamo@rauma.fi>", m.from_name);
	assert_string_equal(d, want);
	free(hdr);
	free(v);
	free(d);
	buf_free(&out);
}

/* A long Finnish subject becomes several encoded-words on lines of at most 78 characters that
 * decode to the subject; a long ASCII subject is folded at its spaces. */
static void test_format_subject_folded(void **state)
{
	(void)state;
	const char *subject = "Tietopyyntösi käsittely: kirjautumislinkki henkilötietojesi "
	                      "tarkastamiseen Rauman kaupungin elinkeinopalveluissa – linkki "
	                      "on voimassa 30 minuuttia, älä välitä sitä eteenpäin";
	struct mail_msg m = base_msg;
	m.subject = subject;
	struct buf out = BUF_INIT;
	struct kerr err = {0};
	assert_int_equal(format(&m, &out, &err), 0);
	char *hdr = header_block(out.p);
	assert_lines(hdr, strlen(hdr), 78);
	const char *s = strstr(hdr, "\r\nSubject: ");
	assert_non_null(s);
	assert_true(count(s, "\r\n ") >= 3); /* folded onto several lines */
	char *v = header_get(out.p, "Subject"), *d = ewords_decode(v);
	assert_string_equal(d, subject);
	free(v);
	free(d);
	free(hdr);

	const char *ascii = "Your request has been received and will be handled within one month "
	                    "of its arrival by the registry office of Rauma";
	m.subject = ascii;
	assert_int_equal(format(&m, &out, &err), 0);
	hdr = header_block(out.p);
	assert_lines(hdr, strlen(hdr), 78);
	assert_null(strstr(hdr, "=?UTF-8?"));
	v = header_get(out.p, "Subject");
	assert_string_equal(v, ascii);
	free(v);
	free(hdr);

	/* ASCII that looks like an encoded-word is encoded, so it reads back as written. */
	m.subject = "=?UTF-8?B?SGVp?=";
	assert_int_equal(format(&m, &out, &err), 0);
	v = header_get(out.p, "Subject");
	d = ewords_decode(v);
	assert_string_equal(d, "=?UTF-8?B?SGVp?=");
	free(v);
	free(d);

	/* An empty subject is allowed. */
	m.subject = "";
	assert_int_equal(format(&m, &out, &err), 0);
	assert_non_null(strstr(out.p, "\r\nSubject: \r\n"));
	buf_free(&out);
}

/* Quoted-printable of ä and €, long lines, trailing spaces and tabs, '=', "From ", lone CR,
 * CRLF input, and random bytes all decode to the input with CRLF line ends. */
static void test_qp_roundtrip(void **state)
{
	(void)state;
	static const char *const cases[] = {
	        "",
	        "ä€",
	        "Hyvä asiakas, maksu on 12 € = kaksitoista euroa.\n",
	        "trailing spaces   \nand a tab\t\nend  ",
	        "=",
	        "==\n=\n",
	        "From here on\nFrom\nnot From at start\n",
	        ".\n..\n.hidden line\n",
	        "lone\rcarriage return\r\n",
	        "line\r\nwith crlf\r\n",
	        "\n\n\n",
	        " ",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		qp_roundtrip(cases[i], strlen(cases[i]));

	/* Lines of every length around the 76-character limit, of plain, escaped and mixed
	 * characters, with and without trailing space. */
	char line[400];
	for (size_t len = 60; len < 170; len++) {
		for (int kind = 0; kind < 4; kind++) {
			for (size_t k = 0; k < len; k++)
				line[k] = kind == 0 ? 'a' : kind == 1 ? '=' : (k % 3 ? 'x' : ' ');
			if (kind == 3)
				memcpy(line + len - 2, "ä", 2);
			qp_roundtrip(line, len);
		}
	}

	/* Random bytes, a fixed seed so a failure repeats. */
	srand(20261205);
	unsigned char rnd[300];
	for (int round = 0; round < 500; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(rnd));
		for (size_t k = 0; k < n; k++) {
			int r = rand() % 10;
			rnd[k] = r < 2 ? ' ' : r < 3 ? '\n' : (unsigned char)(rand() % 256);
		}
		qp_roundtrip((const char *)rnd, n);
	}

	/* The exact encoding of a few characters. */
	struct buf enc = BUF_INIT;
	mail_qp_encode(&enc, "ä€=x \n", strlen("ä€=x \n"));
	assert_string_equal(buf_str(&enc), "=C3=A4=E2=82=AC=3Dx=20\r\n");
	buf_free(&enc);
}

/* With html, the message is multipart/alternative; the boundary occurs only as the three
 * delimiters, even when the bodies quote a boundary-like text, and each part decodes. */
static void test_format_multipart(void **state)
{
	(void)state;
	struct mail_msg m = base_msg;
	m.text = "Hei Päivi!\n--=_kortisto_0123456789abcdef01234567\n";
	m.html = "<p>Hei P&auml;ivi!</p>\n<p>--=_kortisto_0123456789abcdef01234567--</p>\n";
	struct buf out = BUF_INIT;
	struct kerr err = {0};
	assert_int_equal(format(&m, &out, &err), 0);
	assert_lines(out.p, out.len, 78);

	char *ct = header_get(out.p, "Content-Type");
	assert_non_null(ct);
	const char *bp = strstr(ct, "boundary=\"");
	assert_non_null(bp);
	assert_memory_equal(ct, "multipart/alternative;", 22);
	char boundary[100];
	snprintf(boundary, sizeof(boundary), "%.*s", (int)strcspn(bp + 10, "\""), bp + 10);
	assert_true(strlen(boundary) > 20);
	assert_int_equal(count(out.p, boundary), 4); /* the header and three delimiters */

	char delim[120], close[120];
	snprintf(delim, sizeof(delim), "\r\n--%s\r\n", boundary);
	snprintf(close, sizeof(close), "\r\n--%s--\r\n", boundary);
	const char *body = body_of(out.p) - 2; /* include the CRLF before the first delimiter */
	const char *p1 = strstr(body, delim);
	assert_ptr_equal(p1, body);
	const char *p2 = strstr(p1 + 1, delim), *end = strstr(body, close);
	assert_non_null(p2);
	assert_non_null(end);
	assert_string_equal(end + strlen(close), "");

	const char *parts[2][3] = {{p1 + strlen(delim), p2, "text/plain"},
	                           {p2 + strlen(delim), end, "text/html"}};
	const char *want[2] = {m.text, m.html};
	for (int i = 0; i < 2; i++) {
		char hdr[200];
		snprintf(hdr, sizeof(hdr),
		         "Content-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: "
		         "quoted-printable\r\n\r\n",
		         parts[i][2]);
		assert_memory_equal(parts[i][0], hdr, strlen(hdr));
		const char *content = parts[i][0] + strlen(hdr);
		struct buf dec = BUF_INIT, exp = BUF_INIT;
		/* The CRLF before a delimiter belongs to the delimiter. */
		qp_decode(content, (size_t)(parts[i][1] - content), &dec);
		crlf(want[i], strlen(want[i]), &exp);
		assert_int_equal(dec.len + 2, exp.len);
		assert_memory_equal(dec.p, exp.p, dec.len);
		buf_free(&dec);
		buf_free(&exp);
	}
	free(ct);
	buf_free(&out);
}

/* A line break in the subject, the recipient, the display name or an extra header is refused
 * with the field named, and the error message does not repeat the value. */
static void test_format_header_injection(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	struct kerr err = {0};
	struct mail_msg m = base_msg;

	m.subject = "Hei\r\nBcc: kaikki@example.fi";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "subject");
	assert_non_null(strstr(err.message, "line break"));
	assert_null(strstr(err.message, "@"));

	m = base_msg;
	m.subject = "Hei\nBcc: kaikki@example.fi";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "subject");

	m = base_msg;
	m.to = "matti@example.fi\r\nBcc: kaikki@example.fi";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "to");
	assert_non_null(strstr(err.message, "line break"));
	assert_null(strstr(err.message, "@"));

	m = base_msg;
	m.from = "kirjaamo@rauma.fi\nBcc: kaikki@example.fi";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "from");

	m = base_msg;
	m.from_name = "Rauma\r\nBcc: kaikki@example.fi";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "from_name");

	const char *bad[] = {"List-Unsubscribe: <https://rauma.fi/u>",
	                     "X-Campaign: 7\r\nBcc: kaikki@example.fi"};
	m = base_msg;
	m.headers = bad;
	m.nheaders = 2;
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "headers");
	assert_string_equal(err.message, "extra header 2 must not contain a line break");

	/* Other control characters and invalid UTF-8 too. */
	m = base_msg;
	m.subject = "Hei\tsinä\x01";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "subject");
	m.subject = "Hei \xc3";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "subject");
	m = base_msg;
	m.text = "bad \xff utf-8";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "text");
	buf_free(&out);
}

/* Invalid addresses and malformed or reserved extra headers are refused. */
static void test_format_refuses_bad_input(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	struct kerr err = {0};
	struct mail_msg m = base_msg;

	static const char *const bad_to[] = {"matti.meikalainen",
	                                     "matti@",
	                                     "@example.fi",
	                                     "matti@@example.fi",
	                                     "matti meikäläinen@example.fi",
	                                     ""};
	for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
		m.to = bad_to[i];
		assert_int_equal(format(&m, &out, &err), KERR_INVALID);
		assert_string_equal(err.field, "to");
		if (bad_to[i][0])
			assert_null(strstr(err.message, bad_to[i]));
	}
	m = base_msg;
	m.to = NULL;
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "to");
	m = base_msg;
	m.from = "rauma.fi";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "from");
	m = base_msg;
	m.text = NULL;
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "text");
	m = base_msg;
	m.message_id_domain = "rauma.fi>\x20<x";
	assert_int_equal(format(&m, &out, &err), KERR_INVALID);
	assert_string_equal(err.field, "message_id_domain");

	static const char *const bad_headers[] = {
	        "Bcc: kaikki@example.fi", "subject: toinen", "Content-Type: text/html",
	        "MIME-Version: 2.0",      "No colon here",   ": no name",
	        "X Space: in the name",   "X-Name: ä",       "Message-ID: <x@y>",
	};
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		m = base_msg;
		m.headers = &bad_headers[i];
		m.nheaders = 1;
		if (format(&m, &out, &err) != KERR_INVALID)
			fail_msg("extra header \"%s\" was accepted", bad_headers[i]);
		assert_string_equal(err.field, "headers");
	}
	buf_free(&out);
}

/* smtp_url: schemes, ports, EHLO names; user information and junk refused. */
static void test_url_valid(void **state)
{
	(void)state;
	char server[300];
	const char *why;
	assert_true(mail_url_valid("smtp://mail.rauma.fi", server, sizeof(server), NULL));
	assert_string_equal(server, "mail.rauma.fi:25");
	assert_true(mail_url_valid("smtps://mail.rauma.fi", server, sizeof(server), NULL));
	assert_string_equal(server, "mail.rauma.fi:465");
	assert_true(mail_url_valid("smtp://127.0.0.1:2525/kortisto.rauma.fi", server,
	                           sizeof(server), NULL));
	assert_string_equal(server, "127.0.0.1:2525");
	assert_true(mail_url_valid("smtp://[::1]:587", server, sizeof(server), NULL));
	assert_string_equal(server, "[::1]:587");

	static const char *const bad[] = {
	        "",
	        "http://mail.rauma.fi",
	        "smtp://",
	        "smtp://user:pass@mail.rauma.fi",
	        "smtp://mail.rauma.fi:0",
	        "smtp://mail.rauma.fi:70000",
	        "smtp://mail.rauma.fi:25x",
	        "smtp://mail.rauma.fi/a b",
	        "smtp://mail.rauma.fi/?q",
	        "smtp://[::1",
	        "mail.rauma.fi:25",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (mail_url_valid(bad[i], server, sizeof(server), &why))
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(why);
	}
}

/* mailer_open: mail off, a password file others can read, and a password that would travel
 * in clear are refused with messages that say what to change. */
static void test_open_refusals(void **state)
{
	(void)state;
	struct mail_config cfg = {.timeout = 30};
	struct mailer *m = NULL;
	struct kerr err = {0};

	assert_int_equal(mailer_open(&cfg, &m, &err), KERR_INVALID);
	assert_null(m);
	assert_string_equal(err.message, "mail is not configured (smtp_url in kortisto.conf)");

	char path[] = "/tmp/kortisto-mail-pw-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);
	fchmodat(AT_FDCWD, path, 0644, 0);
	snprintf(cfg.url, sizeof(cfg.url), "smtp://127.0.0.1:2525");
	snprintf(cfg.user, sizeof(cfg.user), "kortisto");
	snprintf(cfg.password_file, sizeof(cfg.password_file), "%s", path);
	kerr_clear(&err);
	assert_int_equal(mailer_open(&cfg, &m, &err), KERR_INTERNAL);
	assert_non_null(strstr(err.message, "chmod 600"));

	chmod(path, 0600);
	kerr_clear(&err);
	assert_int_equal(mailer_open(&cfg, &m, &err), 0);
	mailer_free(m);

	snprintf(cfg.url, sizeof(cfg.url), "smtp://mail.rauma.fi:587");
	kerr_clear(&err);
	assert_int_equal(mailer_open(&cfg, &m, &err), KERR_INVALID);
	assert_string_equal(err.field, "smtp_require_tls");
	cfg.require_tls = true;
	kerr_clear(&err);
	assert_int_equal(mailer_open(&cfg, &m, &err), 0);
	mailer_free(m);

	cfg.password_file[0] = '\0';
	kerr_clear(&err);
	assert_int_equal(mailer_open(&cfg, &m, &err), KERR_INVALID);
	assert_string_equal(err.field, "smtp_user");

	snprintf(cfg.url, sizeof(cfg.url), "smtp://a:b@mail.rauma.fi");
	kerr_clear(&err);
	assert_int_equal(mailer_open(&cfg, &m, &err), KERR_INVALID);
	assert_string_equal(err.field, "smtp_url");
	unlink(path);
}

/* ------------------------------------------------------------------------------------------ */
/* Sending through the test SMTP server                                                       */
/* ------------------------------------------------------------------------------------------ */

struct sink {
	pid_t pid;
	int in; /* its standard input: closing it stops the sink */
	int port;
	char dir[64];
};

/* Starts tests/api/smtp_sink.py on a free port with the extra arguments (NULL-terminated). */
static void sink_start(struct sink *s, ...)
{
	const char *py = getenv("PYTHON") ? getenv("PYTHON") : "python3";
	const char *script = getenv("SMTP_SINK") ? getenv("SMTP_SINK") : "tests/api/smtp_sink.py";
	const char *argv[20] = {py, script, "--port", "0", "--exit-on-eof"};
	size_t argc = 5;
	va_list ap;
	va_start(ap, s);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 18;)
		argv[argc++] = a;
	va_end(ap);
	snprintf(s->dir, sizeof(s->dir), "/tmp/kortisto-mail-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	argv[argc++] = s->dir;
	argv[argc] = NULL;

	int out[2], in[2];
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(in), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(out[1], 1);
		dup2(in[0], 0);
		close(out[0]);
		close(out[1]);
		close(in[0]);
		close(in[1]);
		execvp(py, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	s->in = in[1];
	char line[32];
	size_t n = 0;
	while (n < sizeof(line) - 1) {
		ssize_t r = read(out[0], line + n, 1);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(out[0]);
	s->port = atoi(line);
	if (s->port <= 0)
		fail_msg("the SMTP sink did not start (%s %s): got \"%s\"", py, script, line);
}

static void sink_stop(struct sink *s)
{
	close(s->in);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	DIR *d = opendir(s->dir);
	if (d) {
		struct dirent *e;
		char path[400];
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(s->dir);
}

/* Reads DIR/NAME into `out`; returns false when it does not exist. */
static bool sink_file(const struct sink *s, const char *name, struct buf *out)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	buf_reset(out);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	return true;
}

static void config_for(struct mail_config *cfg, int port)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->url, sizeof(cfg->url), "smtp://127.0.0.1:%d/kortisto.test", port);
	cfg->timeout = 5;
}

static struct sink plain_sink;

static int sink_setup(void **state)
{
	(void)state;
	sink_start(&plain_sink, "--reject", "hylatty@example.fi", "--defer", "myohemmin@example.fi",
	           (const char *)NULL);
	return 0;
}

static int sink_teardown(void **state)
{
	(void)state;
	sink_stop(&plain_sink);
	return 0;
}

/* Two messages through one mailer arrive byte for byte as formatted, over one connection;
 * lines that begin with a dot survive (libcurl stuffs them, the server unstuffs them). */
static void test_send_two_messages(void **state)
{
	(void)state;
	struct sink *s = &plain_sink;
	struct mail_config cfg;
	struct mailer *mailer = NULL;
	struct kerr err = {0};
	struct buf msg1 = BUF_INIT, msg2 = BUF_INIT, got = BUF_INIT;

	config_for(&cfg, s->port);
	assert_int_equal(mailer_open(&cfg, &mailer, &err), 0);

	struct mail_msg m = base_msg;
	m.from_name = "Päivi Äijälä";
	m.subject = "Kirjautumislinkki: tietopyyntösi Rauman kaupungille";
	assert_int_equal(mail_format(&m, T_BILLION, &msg1, &err), 0);
	if (mailer_send(mailer, m.from, m.to, &msg1, &err) != 0)
		fail_msg("send 1: %s", err.message);
	assert_int_equal(mailer_smtp_code(mailer), 250);

	m.to = "liisa@example.fi";
	m.text = ".\n..two dots\n.hidden\nHyvä €\n.";
	m.html = "<p>.</p>\n.\n";
	assert_int_equal(mail_format(&m, T_BILLION, &msg2, &err), 0);
	if (mailer_send(mailer, m.from, m.to, &msg2, &err) != 0)
		fail_msg("send 2: %s", err.message);

	assert_true(sink_file(s, "1.eml", &got));
	assert_int_equal(got.len, msg1.len);
	assert_memory_equal(got.p, msg1.p, msg1.len);
	assert_true(sink_file(s, "2.eml", &got));
	assert_int_equal(got.len, msg2.len);
	assert_memory_equal(got.p, msg2.p, msg2.len);

	/* The decoded text of the second message, dots and all. */
	const char *te = strstr(got.p, "quoted-printable\r\n\r\n");
	assert_non_null(te);
	te += strlen("quoted-printable\r\n\r\n");
	const char *tend = strstr(te, "\r\n--=_kortisto_");
	assert_non_null(tend);
	struct buf dec = BUF_INIT;
	qp_decode(te, (size_t)(tend - te), &dec);
	assert_string_equal(buf_str(&dec), ".\r\n..two dots\r\n.hidden\r\nHyvä €\r\n.");
	buf_free(&dec);

	/* Envelopes: the EHLO name from the URL, one connection for both. */
	struct buf env1 = BUF_INIT;
	assert_true(sink_file(s, "1.env", &env1));
	assert_true(sink_file(s, "2.env", &got));
	const char *rest1 = strchr(env1.p, '\n'), *rest2 = strchr(got.p, '\n');
	assert_true(strncmp(env1.p, "connection ", 11) == 0);
	assert_int_equal(rest1 - env1.p, rest2 - got.p);
	assert_memory_equal(env1.p, got.p, (size_t)(rest1 - env1.p)); /* the same connection */
	assert_string_equal(rest1, "\nhelo kortisto.test\nauth -\nmail from kirjaamo@rauma.fi\n"
	                           "rcpt to matti.meikalainen@example.fi\n");
	assert_string_equal(rest2, "\nhelo kortisto.test\nauth -\nmail from kirjaamo@rauma.fi\n"
	                           "rcpt to liisa@example.fi\n");
	buf_free(&env1);
	mailer_free(mailer);
	buf_free(&msg1);
	buf_free(&msg2);
	buf_free(&got);
}

/* A recipient refused for good (550) is KERR_INVALID on field "to", for now (451) KERR_BUSY;
 * neither message holds the address although the server's replies do, and the mailer goes on
 * to deliver the next message. */
static void test_send_refused_recipient(void **state)
{
	(void)state;
	struct sink *s = &plain_sink;
	struct mail_config cfg;
	struct mailer *mailer = NULL;
	struct kerr err = {0};
	struct buf msg = BUF_INIT;
	char server[64];

	config_for(&cfg, s->port);
	snprintf(server, sizeof(server), "127.0.0.1:%d", s->port);
	assert_int_equal(mailer_open(&cfg, &mailer, &err), 0);

	struct mail_msg m = base_msg;
	m.to = "hylatty@example.fi";
	assert_int_equal(mail_format(&m, T_BILLION, &msg, &err), 0);
	assert_int_equal(mailer_send(mailer, m.from, m.to, &msg, &err), KERR_INVALID);
	assert_int_equal(mailer_smtp_code(mailer), 550);
	assert_string_equal(err.field, "to");
	assert_non_null(strstr(err.message, server));
	assert_null(strstr(err.message, "hylatty"));
	assert_null(strstr(err.message, "@"));

	kerr_clear(&err);
	buf_reset(&msg);
	m.to = "myohemmin@example.fi";
	assert_int_equal(mail_format(&m, T_BILLION, &msg, &err), 0);
	assert_int_equal(mailer_send(mailer, m.from, m.to, &msg, &err), KERR_BUSY);
	assert_int_equal(mailer_smtp_code(mailer), 451);
	assert_null(strstr(err.message, "myohemmin"));
	assert_non_null(strstr(err.message, "try again later"));

	kerr_clear(&err);
	buf_reset(&msg);
	m.to = "perilla@example.fi";
	assert_int_equal(mail_format(&m, T_BILLION, &msg, &err), 0);
	if (mailer_send(mailer, m.from, m.to, &msg, &err) != 0)
		fail_msg("send after refusals: %s", err.message);

	/* mailer_send checks the envelope addresses itself. */
	kerr_clear(&err);
	assert_int_equal(mailer_send(mailer, m.from, "x\r\nRCPT TO:<y@z.fi>", &msg, &err),
	                 KERR_INVALID);
	assert_string_equal(err.field, "to");
	mailer_free(mailer);
	buf_free(&msg);
}

/* A server that closes the connection after a message (an idle timeout) gets the next
 * message over a new connection. */
static void test_send_after_server_hangs_up(void **state)
{
	(void)state;
	struct sink s;
	struct mail_config cfg;
	struct mailer *mailer = NULL;
	struct kerr err = {0};
	struct buf msg = BUF_INIT, env1 = BUF_INIT, env2 = BUF_INIT;

	sink_start(&s, "--hang-up", (const char *)NULL);
	config_for(&cfg, s.port);
	assert_int_equal(mailer_open(&cfg, &mailer, &err), 0);
	assert_int_equal(mail_format(&base_msg, T_BILLION, &msg, &err), 0);
	for (int i = 0; i < 3; i++) {
		if (mailer_send(mailer, base_msg.from, base_msg.to, &msg, &err) != 0)
			fail_msg("send %d: %s", i + 1, err.message);
		if (i == 0)
			usleep(100 * 1000); /* let the hang-up arrive before the next send */
	}
	assert_true(sink_file(&s, "1.env", &env1));
	assert_true(sink_file(&s, "3.env", &env2));
	assert_true(strncmp(env1.p, "connection 1\n", 13) == 0);
	assert_true(strncmp(env2.p, "connection 3\n", 13) == 0);
	mailer_free(mailer);
	sink_stop(&s);
	buf_free(&msg);
	buf_free(&env1);
	buf_free(&env2);
}

/* With smtp_require_tls, a server that offers no STARTTLS gets nothing. */
static void test_send_require_tls(void **state)
{
	(void)state;
	struct mail_config cfg;
	struct mailer *mailer = NULL;
	struct kerr err = {0};
	struct buf msg = BUF_INIT, got = BUF_INIT;

	config_for(&cfg, plain_sink.port);
	cfg.require_tls = true;
	assert_int_equal(mailer_open(&cfg, &mailer, &err), 0);
	assert_int_equal(mail_format(&base_msg, T_BILLION, &msg, &err), 0);
	int rc = mailer_send(mailer, base_msg.from, "tls@example.fi", &msg, &err);
	assert_int_equal(rc, KERR_INTERNAL);
	assert_string_equal(err.field, "smtp_require_tls");
	assert_non_null(strstr(err.message, "no TLS with SMTP server 127.0.0.1:"));
	mailer_free(mailer);
	buf_free(&msg);
	buf_free(&got);
}

/* smtp_user and the first line of the password file sign in; a wrong password is refused
 * with a message that names smtp_user and no password. */
static void test_send_auth(void **state)
{
	(void)state;
	struct sink s;
	struct mail_config cfg;
	struct mailer *mailer = NULL;
	struct kerr err = {0};
	struct buf msg = BUF_INIT, got = BUF_INIT;
	char path[] = "/tmp/kortisto-mail-pw-XXXXXX";

	sink_start(&s, "--auth", "kortisto:Salas4na-ÄÖ", (const char *)NULL);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *pw = "Salas4na-ÄÖ\nsecond line is ignored\n";
	assert_int_equal(write(fd, pw, strlen(pw)), (ssize_t)strlen(pw));
	close(fd);

	config_for(&cfg, s.port);
	snprintf(cfg.user, sizeof(cfg.user), "kortisto");
	snprintf(cfg.password_file, sizeof(cfg.password_file), "%s", path);
	assert_int_equal(mailer_open(&cfg, &mailer, &err), 0);
	assert_int_equal(mail_format(&base_msg, T_BILLION, &msg, &err), 0);
	if (mailer_send(mailer, base_msg.from, base_msg.to, &msg, &err) != 0)
		fail_msg("send with auth: %s", err.message);
	assert_true(sink_file(&s, "1.env", &got));
	assert_non_null(strstr(buf_str(&got), "\nauth kortisto\n"));
	mailer_free(mailer);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "wrong\n", 6), 6);
	close(fd);
	kerr_clear(&err);
	assert_int_equal(mailer_open(&cfg, &mailer, &err), 0);
	assert_int_equal(mailer_send(mailer, base_msg.from, base_msg.to, &msg, &err),
	                 KERR_INTERNAL);
	assert_string_equal(err.field, "smtp_user");
	assert_null(strstr(err.message, "wrong"));
	mailer_free(mailer);

	unlink(path);
	sink_stop(&s);
	buf_free(&msg);
	buf_free(&got);
}

static double elapsed_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A port nobody listens on fails at once with KERR_BUSY naming the server; a server that
 * never answers fails within the timeout. */
static void test_send_unreachable(void **state)
{
	(void)state;
	struct mail_config cfg;
	struct mailer *mailer = NULL;
	struct kerr err = {0};
	struct buf msg = BUF_INIT;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	char server[64];

	/* A port that was free a moment ago: bound, read, closed. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	int port = ntohs(a.sin_port);

	assert_int_equal(mail_format(&base_msg, T_BILLION, &msg, &err), 0);
	config_for(&cfg, port);
	cfg.timeout = 2;
	assert_int_equal(mailer_open(&cfg, &mailer, &err), 0);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mailer_send(mailer, base_msg.from, base_msg.to, &msg, &err), KERR_BUSY);
	assert_true(elapsed_since(&t0) < 2.0);
	snprintf(server, sizeof(server), "cannot reach SMTP server 127.0.0.1:%d", port);
	assert_non_null(strstr(err.message, server));
	assert_null(strstr(err.message, "matti"));
	mailer_free(mailer);

	/* A server that accepts connections (the kernel does, from the backlog) but never
	 * greets. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	alen = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	config_for(&cfg, ntohs(a.sin_port));
	cfg.timeout = 1;
	kerr_clear(&err);
	assert_int_equal(mailer_open(&cfg, &mailer, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mailer_send(mailer, base_msg.from, base_msg.to, &msg, &err), KERR_BUSY);
	double took = elapsed_since(&t0);
	if (took > 2 * cfg.timeout + 1.5)
		fail_msg("the silent server took %.1f s to fail", took);
	assert_non_null(strstr(err.message, "did not answer in time"));
	close(fd);
	mailer_free(mailer);
	buf_free(&msg);
}

int main(void)
{
	const struct CMUnitTest format_tests[] = {
	        cmocka_unit_test(test_format_headers_in_order),
	        cmocka_unit_test(test_format_dates),
	        cmocka_unit_test(test_format_encoded_from_name),
	        cmocka_unit_test(test_format_subject_folded),
	        cmocka_unit_test(test_qp_roundtrip),
	        cmocka_unit_test(test_format_multipart),
	        cmocka_unit_test(test_format_header_injection),
	        cmocka_unit_test(test_format_refuses_bad_input),
	        cmocka_unit_test(test_url_valid),
	        cmocka_unit_test(test_open_refusals),
	};
	const struct CMUnitTest send_tests[] = {
	        cmocka_unit_test(test_send_two_messages),
	        cmocka_unit_test(test_send_refused_recipient),
	        cmocka_unit_test(test_send_after_server_hangs_up),
	        cmocka_unit_test(test_send_require_tls),
	        cmocka_unit_test(test_send_auth),
	        cmocka_unit_test(test_send_unreachable),
	};
	if (sodium_init() < 0)
		return 1;
	int failed = cmocka_run_group_tests_name("mail format", format_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("mail send", send_tests, sink_setup, sink_teardown);
	return failed;
}
