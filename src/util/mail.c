/*
 * Outgoing e-mail: the message builder and the SMTP sender. Every header value is checked
 * before a byte of it is written, so a line break smuggled into a subject or address can never
 * start a header of its own (header injection). The sender keeps one libcurl easy handle per
 * mailer, which keeps the SMTP connection open between messages; its error messages are built
 * here from the server's name and the failure alone, so that no recipient address reaches a log.
 */
#include "util/mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/kerr.h"
#include "util/timeutil.h"
#include "util/validate.h"
#include "util/xmalloc.h"

/* RFC 5322 §2.1.1: header lines should be at most 78 characters, must be at most 998. */
#define LINE_SOFT_MAX 78u
#define LINE_HARD_MAX 998u
/* RFC 2047 §2: an encoded-word is at most 75 characters. */
#define EWORD_MAX 75u
/* "=?UTF-8?B?" and "?=" around the base64 text of an encoded-word. */
#define EWORD_OVERHEAD 12u
/* Longest subject and display name accepted, in bytes. */
#define SUBJECT_MAX    998u
#define NAME_MAX_BYTES 256u

/* ------------------------------------------------------------------------------------------ */
/* Checks                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Refuses a header value with a line break or another control character, or that is not
 * UTF-8 (`utf8`) or not ASCII (!`utf8`). Messages name the field, never the value. */
static int header_value_check(const char *s, const char *field, bool utf8, struct kerr *err)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n')
			return kerr_set(err, KERR_INVALID, field,
			                "%s must not contain a line break", field);
		if (c < 0x20 || c == 0x7f)
			return kerr_set(err, KERR_INVALID, field,
			                "%s must not contain control characters", field);
		if (c >= 0x80 && !utf8)
			return kerr_set(err, KERR_INVALID, field, "%s must be plain ASCII", field);
	}
	if (utf8 && !utf8_valid(s, len))
		return kerr_set(err, KERR_INVALID, field, "%s is not valid UTF-8", field);
	return 0;
}

/* Checks an address (line breaks first, so injection is reported as such) and writes its
 * normalised form to out[255]. */
static int address_check(const char *s, const char *field, char out[255], struct kerr *err)
{
	const char *why = NULL;
	int rc;
	if (s == NULL)
		return kerr_set(err, KERR_INVALID, field, "%s is missing", field);
	if ((rc = header_value_check(s, field, false, err)))
		return rc;
	if (!email_valid(s, out, 255, &why))
		return kerr_set(err, KERR_INVALID, field, "%s is not a valid e-mail address: %s",
		                field, why);
	return 0;
}

static bool is_ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Headers that mail_format() writes itself or that must never be set from outside. */
static const char *const reserved_headers[] = {
        "date", "from", "sender", "to", "cc", "bcc", "subject", "message-id", "mime-version",
};

/* Checks extra header number `i`: "Name: value", the name of printable ASCII without ':',
 * not reserved, the value printable ASCII, the line at most 998 characters. */
static int extra_header_check(const char *h, size_t i, struct kerr *err)
{
	const char *f = "headers";
	if (h == NULL)
		return kerr_set(err, KERR_INVALID, f, "extra header %zu is missing", i + 1);
	for (const char *p = h; *p; p++)
		if (*p == '\r' || *p == '\n')
			return kerr_set(err, KERR_INVALID, f,
			                "extra header %zu must not contain a line break", i + 1);
	const char *colon = strchr(h, ':');
	size_t nlen = colon ? (size_t)(colon - h) : 0;
	if (nlen == 0)
		return kerr_set(err, KERR_INVALID, f, "extra header %zu must be 'Name: value'",
		                i + 1);
	for (size_t k = 0; k < nlen; k++)
		if ((unsigned char)h[k] <= 0x20 || (unsigned char)h[k] > 0x7e)
			return kerr_set(err, KERR_INVALID, f,
			                "extra header %zu has a character not allowed in a name",
			                i + 1);
	for (const char *p = colon + 1; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || (unsigned char)*p > 0x7e)
			return kerr_set(err, KERR_INVALID, f,
			                "extra header %zu must be printable ASCII", i + 1);
	if (strlen(h) > LINE_HARD_MAX)
		return kerr_set(err, KERR_INVALID, f, "extra header %zu is longer than %u", i + 1,
		                LINE_HARD_MAX);
	for (size_t k = 0; k < sizeof(reserved_headers) / sizeof(reserved_headers[0]); k++)
		if (strlen(reserved_headers[k]) == nlen &&
		    strncasecmp(h, reserved_headers[k], nlen) == 0)
			return kerr_set(err, KERR_INVALID, f,
			                "extra header %zu may not set %.*s: kortisto writes it",
			                i + 1, (int)nlen, h);
	if (nlen > 8 && strncasecmp(h, "content-", 8) == 0)
		return kerr_set(err, KERR_INVALID, f,
		                "extra header %zu may not set %.*s: kortisto writes it", i + 1,
		                (int)nlen, h);
	return 0;
}

/* A host name for the Message-ID: letters, digits, dots and hyphens, 1–253 characters. */
static bool domain_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Header writing                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* A header being written: the buffer and the column of the current line. */
struct hw {
	struct buf *b;
	size_t col;
};

static void hw_put(struct hw *w, const char *s, size_t n)
{
	buf_append(w->b, s, n);
	w->col += n;
}

static void hw_puts(struct hw *w, const char *s)
{
	hw_put(w, s, strlen(s));
}

/* Ends the current line and continues the header on the next (folding whitespace). */
static void hw_fold(struct hw *w)
{
	buf_puts(w->b, "\r\n ");
	w->col = 1;
}

static void hw_end(struct hw *w)
{
	buf_puts(w->b, "\r\n");
	w->col = 0;
}

/* Length of the UTF-8 sequence starting with byte c (the text was validated). */
static size_t utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
}

/* Base64 length of n bytes. */
static size_t b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/*
 * Writes `s` as RFC 2047 "B" encoded-words, each holding whole UTF-8 characters (§5: a
 * character must not be split between words), folded so that no line passes 78 characters.
 * Decoders drop the folding whitespace between adjacent encoded-words, so the text comes back
 * unchanged.
 */
static void hw_encoded_words(struct hw *w, const char *s)
{
	size_t len = strlen(s), i = 0;
	while (i < len) {
		size_t room = LINE_SOFT_MAX - w->col;
		if (room > EWORD_MAX)
			room = EWORD_MAX;
		size_t n = 0;
		while (i + n < len) {
			size_t c = utf8_len((unsigned char)s[i + n]);
			if (EWORD_OVERHEAD + b64_len(n + c) > room)
				break;
			n += c;
		}
		if (n == 0) {
			/* Not even one character fits after what the line holds: fold first. */
			hw_fold(w);
			continue;
		}
		char b64[EWORD_MAX + 1];
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s + i, n,
		                  sodium_base64_VARIANT_ORIGINAL);
		hw_puts(w, "=?UTF-8?B?");
		hw_puts(w, b64);
		hw_puts(w, "?=");
		i += n;
		if (i < len)
			hw_fold(w);
	}
}

/*
 * Writes plain ASCII text folded at its spaces, or returns false without writing when some
 * line would still pass 78 characters (a very long word). The space before each fold stays in
 * the text: unfolding removes only the CRLF.
 */
static bool hw_folded_ascii(struct hw *w, const char *s, bool dry)
{
	size_t col = w->col, i = 0, len = strlen(s);
	while (i < len) {
		/* A token is a run of spaces and the word that follows them. */
		size_t j = i;
		while (j < len && s[j] == ' ')
			j++;
		while (j < len && s[j] != ' ')
			j++;
		size_t tok = j - i;
		if (col + tok > LINE_SOFT_MAX && s[i] == ' ' && i > 0) {
			if (!dry)
				buf_puts(w->b, "\r\n");
			col = 0;
		}
		if (col + tok > LINE_SOFT_MAX)
			return false;
		if (!dry)
			buf_append(w->b, s + i, tok);
		col += tok;
		i = j;
	}
	if (!dry)
		w->col = col;
	return true;
}

/* Writes unstructured text (a subject): folded ASCII when it can be, else encoded-words. A
 * text that holds "=?" is encoded too, so that it cannot be read as an encoded-word. */
static void hw_unstructured(struct hw *w, const char *s)
{
	if (is_ascii_printable(s) && strstr(s, "=?") == NULL && hw_folded_ascii(w, s, true))
		hw_folded_ascii(w, s, false);
	else
		hw_encoded_words(w, s);
}

/* Writes a display name: as a quoted-string when it is plain ASCII and fits on the line with
 * the address, else as encoded-words. */
static void hw_display_name(struct hw *w, const char *name, size_t addrlen)
{
	size_t quoted = 2;
	for (const char *p = name; *p; p++)
		quoted += (*p == '"' || *p == '\\') ? 2 : 1;
	if (is_ascii_printable(name) && strstr(name, "=?") == NULL &&
	    w->col + quoted + addrlen + 3 <= LINE_SOFT_MAX) {
		hw_put(w, "\"", 1);
		for (const char *p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				hw_put(w, "\\", 1);
			hw_put(w, p, 1);
		}
		hw_put(w, "\"", 1);
	} else {
		hw_encoded_words(w, name);
	}
}

static const char *const wday_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* RFC 5322 §3.3 date-time in UTC: "Sat, 05 Dec 2026 08:50:42 +0000". */
static void put_date(struct buf *b, int64_t t)
{
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	int wd = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
	buf_appendf(b, "%s, %02d %s %04d %02d:%02d:%02d +0000", wday_names[wd], d,
	            month_names[m - 1], y, (int)(secs / 3600), (int)(secs / 60 % 60),
	            (int)(secs % 60));
}

/* Appends 2n lower-case hex digits of n random bytes. */
static void put_random_hex(struct buf *b, size_t n)
{
	unsigned char r[32];
	char hex[65];
	if (n > sizeof(r))
		n = sizeof(r);
	randombytes_buf(r, n);
	sodium_bin2hex(hex, sizeof(hex), r, n);
	buf_append(b, hex, 2 * n);
}

/* ------------------------------------------------------------------------------------------ */
/* Quoted-printable                                                                           */
/* ------------------------------------------------------------------------------------------ */

/* Encodes one line (no line break in it) with soft line breaks. */
static void qp_line(struct buf *out, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	bool from = n >= 5 && memcmp(s, "From ", 5) == 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		bool last = i + 1 == n;
		bool literal =
		        (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
		if (i == 0 && from)
			literal = false;
		size_t tok = literal ? 1 : 3;
		/* A soft break costs one column ("="); the line's last token may use it. */
		if (col + tok > (last ? 76u : 75u)) {
			buf_puts(out, "=\r\n");
			col = 0;
		}
		if (literal) {
			buf_putc(out, (char)c);
		} else {
			char e[3] = {'=', hex[c >> 4], hex[c & 15]};
			buf_append(out, e, 3);
		}
		col += tok;
	}
}

void mail_qp_encode(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			qp_line(out, p, (size_t)(end - p));
			break;
		}
		size_t len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		qp_line(out, p, len);
		buf_puts(out, "\r\n");
		p = nl + 1;
	}
}

/* Writes one body part's content headers and its quoted-printable text, ending in CRLF. */
static void put_part(struct buf *out, const char *type, const char *text)
{
	size_t n = strlen(text);
	buf_appendf(out,
	            "Content-Type: %s; charset=utf-8\r\n"
	            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	            type);
	mail_qp_encode(out, text, n);
	if (n == 0 || text[n - 1] != '\n')
		buf_puts(out, "\r\n");
}

/* ------------------------------------------------------------------------------------------ */
/* The message                                                                                */
/* ------------------------------------------------------------------------------------------ */

int mail_format(const struct mail_msg *m, int64_t now, struct buf *out, struct kerr *err)
{
	char from[255], to[255];
	int rc;

	if ((rc = address_check(m->from, "from", from, err)) ||
	    (rc = address_check(m->to, "to", to, err)))
		return rc;
	if (m->from_name && (rc = header_value_check(m->from_name, "from_name", true, err)))
		return rc;
	if (m->from_name && strlen(m->from_name) > NAME_MAX_BYTES)
		return kerr_set(err, KERR_INVALID, "from_name", "from_name is longer than %u bytes",
		                NAME_MAX_BYTES);
	if (m->subject == NULL)
		return kerr_set(err, KERR_INVALID, "subject", "subject is missing");
	if ((rc = header_value_check(m->subject, "subject", true, err)))
		return rc;
	if (strlen(m->subject) > SUBJECT_MAX)
		return kerr_set(err, KERR_INVALID, "subject", "subject is longer than %u bytes",
		                SUBJECT_MAX);
	for (size_t i = 0; i < m->nheaders; i++)
		if ((rc = extra_header_check(m->headers[i], i, err)))
			return rc;
	if (m->text == NULL)
		return kerr_set(err, KERR_INVALID, "text", "text is missing");
	if (!utf8_valid(m->text, strlen(m->text)))
		return kerr_set(err, KERR_INVALID, "text", "text is not valid UTF-8");
	if (m->html && !utf8_valid(m->html, strlen(m->html)))
		return kerr_set(err, KERR_INVALID, "html", "html is not valid UTF-8");
	const char *domain = strchr(from, '@') + 1;
	if (m->message_id_domain) {
		if (!domain_ok(m->message_id_domain))
			return kerr_set(err, KERR_INVALID, "message_id_domain",
			                "message_id_domain must be a host name");
		domain = m->message_id_domain;
	}

	struct hw w = {out, 0};
	buf_puts(out, "Date: ");
	put_date(out, now);
	buf_puts(out, "\r\n");

	hw_puts(&w, "From: ");
	if (m->from_name && m->from_name[0]) {
		size_t alen = strlen(from) + 2;
		hw_display_name(&w, m->from_name, alen);
		if (w.col + 1 + alen > LINE_SOFT_MAX)
			hw_fold(&w);
		else
			hw_put(&w, " ", 1);
		hw_puts(&w, "<");
		hw_puts(&w, from);
		hw_puts(&w, ">");
	} else {
		hw_puts(&w, from);
	}
	hw_end(&w);

	buf_appendf(out, "To: %s\r\n", to);

	hw_puts(&w, "Subject: ");
	hw_unstructured(&w, m->subject);
	hw_end(&w);

	buf_puts(out, "Message-ID: <");
	put_random_hex(out, 16);
	buf_appendf(out, "@%s>\r\n", domain);

	for (size_t i = 0; i < m->nheaders; i++) {
		buf_puts(out, m->headers[i]);
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "MIME-Version: 1.0\r\n");

	if (m->html == NULL) {
		put_part(out, "text/plain", m->text);
		return 0;
	}
	/* "=_" cannot occur in quoted-printable text ('=' is followed by two hex digits or a
	 * line break there), so the boundary cannot turn up inside a part. */
	struct buf boundary = BUF_INIT;
	buf_puts(&boundary, "=_kortisto_");
	put_random_hex(&boundary, 12);
	buf_appendf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
	            buf_str(&boundary));
	buf_appendf(out, "--%s\r\n", buf_str(&boundary));
	put_part(out, "text/plain", m->text);
	buf_appendf(out, "--%s\r\n", buf_str(&boundary));
	put_part(out, "text/html", m->html);
	buf_appendf(out, "--%s--\r\n", buf_str(&boundary));
	buf_free(&boundary);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* smtp_url                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static bool fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return false;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-';
}

bool mail_url_valid(const char *url, char *server, size_t serversz, const char **why)
{
	const char *p;
	long port;
	size_t len = strlen(url);

	if (len == 0)
		return fail(why, "must not be empty");
	if (len >= sizeof(((struct mail_config *)0)->url))
		return fail(why, "is too long");
	if (strncasecmp(url, "smtp://", 7) == 0) {
		p = url + 7;
		port = 25;
	} else if (strncasecmp(url, "smtps://", 8) == 0) {
		p = url + 8;
		port = 465;
	} else {
		return fail(why, "must start with smtp:// or smtps://");
	}

	const char *host = p, *host_end;
	if (*p == '[') {
		while (*p && *p != ']') {
			if (!(host_char(*p) || *p == ':' || *p == '['))
				return fail(why, "has a character not allowed in an IPv6 address");
			p++;
		}
		if (*p != ']' || p == host + 1)
			return fail(why, "has an unclosed or empty [IPv6] address");
		host_end = ++p;
	} else {
		while (host_char(*p))
			p++;
		host_end = p;
		if (*p == '@')
			return fail(why, "must not hold a user name: use smtp_user and "
			                 "smtp_password_file");
	}
	if (host_end == host)
		return fail(why, "has no host name");
	if (*p == ':') {
		const char *d = ++p;
		long v = 0;
		while (*p >= '0' && *p <= '9' && p - d < 6)
			v = v * 10 + (*p++ - '0');
		if (p == d || v < 1 || v > 65535)
			return fail(why, "has a port that is not 1-65535");
		port = v;
	}
	if (*p == '/') {
		p++;
		while (host_char(*p))
			p++;
	}
	if (*p == '@' || strchr(p, '@'))
		return fail(why, "must not hold a user name: use smtp_user and smtp_password_file");
	if (*p != '\0')
		return fail(why, "has a character not allowed in smtp://host:port/name");
	if (server) {
		int n = snprintf(server, serversz, "%.*s:%ld", (int)(host_end - host), host, port);
		if (n < 0 || (size_t)n >= serversz)
			return fail(why, "is too long");
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Sending                                                                                    */
/* ------------------------------------------------------------------------------------------ */

struct mailer {
	CURL *curl;
	char server[300]; /* host:port, for messages */
	char *password;   /* heap, wiped before it is freed; NULL without authentication */
	size_t password_len;
	int timeout;
	long code;             /* last SMTP reply code */
	const struct buf *msg; /* the message being uploaded, and how far */
	size_t off;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_start(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Whether the host of "host:port" is this machine, where a password in clear stays on it. */
static bool server_is_loopback(const char *server)
{
	return strncmp(server, "127.", 4) == 0 || strncmp(server, "localhost:", 10) == 0 ||
	       strncmp(server, "[::1]:", 6) == 0;
}

/* Reads the first line of the password file into m->password. */
static int password_read(struct mailer *m, const char *path, struct kerr *err)
{
	const char *f = "smtp_password_file";
	char tmp[1024];
	struct stat st;
	ssize_t n = 0;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return kerr_set(err, KERR_INTERNAL, f, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = kerr_set(err, KERR_INTERNAL, f, "%s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = kerr_set(
		        err, KERR_INTERNAL, f,
		        "password file %s must not be readable by group or others (chmod 600)",
		        path);
		goto out;
	}
	n = read(fd, tmp, sizeof(tmp) - 1);
	if (n < 0) {
		rc = kerr_set(err, KERR_INTERNAL, f, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	size_t len = 0;
	while (len < (size_t)n && tmp[len] != '\n' && tmp[len] != '\r')
		len++;
	if (len == 0) {
		rc = kerr_set(err, KERR_INVALID, f, "the first line of %s is empty", path);
		goto out;
	}
	if (len == (size_t)n && n == (ssize_t)sizeof(tmp) - 1) {
		rc = kerr_set(err, KERR_INVALID, f, "the first line of %s is too long", path);
		goto out;
	}
	m->password = xstrndup(tmp, len);
	m->password_len = len;
out:
	sodium_memzero(tmp, sizeof(tmp));
	close(fd);
	return rc;
}

static size_t read_body(char *dst, size_t size, size_t nitems, void *ud)
{
	struct mailer *m = ud;
	size_t room = size * nitems, left = m->msg->len - m->off;
	size_t n = left < room ? left : room;
	memcpy(dst, m->msg->p + m->off, n);
	m->off += n;
	return n;
}

int mail_config_check(const struct mail_config *cfg, char *server, size_t serversz,
                      struct kerr *err)
{
	char srv[300];
	const char *why = NULL;

	if (cfg->url[0] == '\0')
		return 0;
	if (!mail_url_valid(cfg->url, srv, sizeof(srv), &why))
		return kerr_set(err, KERR_INVALID, "smtp_url", "smtp_url %s", why);
	if (cfg->timeout < 1 || cfg->timeout > 3600)
		return kerr_set(err, KERR_INVALID, "smtp_timeout", "smtp_timeout must be 1-3600");
	if ((cfg->user[0] != '\0') != (cfg->password_file[0] != '\0'))
		return kerr_set(err, KERR_INVALID, "smtp_user",
		                "smtp_user and smtp_password_file go together");
	bool tls = cfg->require_tls || strncasecmp(cfg->url, "smtps://", 8) == 0;
	if (cfg->user[0] && !tls && !server_is_loopback(srv))
		return kerr_set(err, KERR_INVALID, "smtp_require_tls",
		                "signing in to SMTP server %s needs TLS (smtps:// or "
		                "smtp_require_tls = true): the password would travel in clear",
		                srv);
	if (server)
		snprintf(server, serversz, "%s", srv);
	return 0;
}

int mailer_open(const struct mail_config *cfg, struct mailer **out, struct kerr *err)
{
	struct mailer *m = NULL;
	int rc = 0;

	*out = NULL;
	if (cfg->url[0] == '\0')
		return kerr_set(err, KERR_INVALID, "smtp_url",
		                "mail is not configured (smtp_url in kortisto.conf)");
	m = xcalloc(1, sizeof(*m));
	if ((rc = mail_config_check(cfg, m->server, sizeof(m->server), err)))
		goto out;
	m->timeout = cfg->timeout;
	if (cfg->user[0] && (rc = password_read(m, cfg->password_file, err)))
		goto out;

	pthread_once(&curl_once, curl_start);
	if (curl_init_rc != CURLE_OK || (m->curl = curl_easy_init()) == NULL) {
		rc = kerr_set(err, KERR_INTERNAL, NULL, "cannot start libcurl");
		goto out;
	}
	CURL *c = m->curl;
	curl_easy_setopt(c, CURLOPT_URL, cfg->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
	curl_easy_setopt(c, CURLOPT_READDATA, m);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cfg->timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L * cfg->timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, m->errbuf);
	if (cfg->require_tls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (cfg->user[0]) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, m->password);
	}
out:
	if (rc) {
		mailer_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* The part of curl's error text that may go into a message: none when it holds an '@' (it
 * could be an address). */
static const char *safe_detail(const struct mailer *m, CURLcode res)
{
	if (m->errbuf[0] && strchr(m->errbuf, '@') == NULL)
		return m->errbuf;
	return curl_easy_strerror(res);
}

/* Which envelope field a refusal concerns, from the command curl names ("RCPT failed: 550"). */
static const char *failed_field(const struct mailer *m)
{
	if (strncmp(m->errbuf, "RCPT", 4) == 0)
		return "to";
	if (strncmp(m->errbuf, "MAIL", 4) == 0)
		return "from";
	return NULL;
}

static int send_error(const struct mailer *m, CURLcode res, struct kerr *err)
{
	const char *detail = safe_detail(m, res);
	switch (res) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return kerr_set(err, KERR_BUSY, NULL,
		                "cannot reach SMTP server %s (%s); try again later", m->server,
		                detail);
	case CURLE_OPERATION_TIMEDOUT:
		return kerr_set(err, KERR_BUSY, NULL,
		                "SMTP server %s did not answer in time (smtp_timeout %d s); try "
		                "again later",
		                m->server, m->timeout);
	case CURLE_LOGIN_DENIED:
		return kerr_set(err, KERR_INTERNAL, "smtp_user",
		                "SMTP server %s refused smtp_user and its password (%s)", m->server,
		                detail);
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return kerr_set(err, KERR_INTERNAL, "smtp_require_tls",
		                "no TLS with SMTP server %s (%s)", m->server, detail);
	default: break;
	}
	if (m->code >= 500 && m->code < 600)
		return kerr_set(err, KERR_INVALID, failed_field(m),
		                "SMTP server %s refused the message (%s)", m->server, detail);
	if (m->code >= 400 && m->code < 500)
		return kerr_set(err, KERR_BUSY, failed_field(m),
		                "SMTP server %s refused the message for now (%s); try again later",
		                m->server, detail);
	return kerr_set(err, KERR_INTERNAL, NULL, "sending through SMTP server %s failed (%s)",
	                m->server, detail);
}

/* Runs one SMTP transaction; *reused tells whether it went over the kept connection. */
static CURLcode perform(struct mailer *m, bool *reused)
{
	long code = 0, connects = 0;
	m->off = 0;
	m->code = 0;
	m->errbuf[0] = '\0';
	CURLcode res = curl_easy_perform(m->curl);
	if (curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
		m->code = code;
	if (curl_easy_getinfo(m->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
		*reused = connects == 0;
	return res;
}

/* Whether a failed transaction ended because the server closed the connection before it
 * took the message: a 421 reply ("closing transmission channel"; it never accepts), or the
 * connection lost before a byte of the message was read. A refusal (any other 4xx or 5xx)
 * is not: sending again would meet it again. */
static bool closed_before_message(const struct mailer *m, CURLcode res)
{
	if (m->code == 421)
		return true;
	bool lost = res == CURLE_SEND_ERROR || res == CURLE_RECV_ERROR || res == CURLE_GOT_NOTHING;
	return lost && m->off == 0 && (m->code == 0 || m->code / 100 == 2);
}

int mailer_send(struct mailer *m, const char *from, const char *to, const struct buf *msg,
                struct kerr *err)
{
	char f[255], t[255];
	struct curl_slist *rcpt = NULL;
	int rc;

	if ((rc = address_check(from, "from", f, err)) || (rc = address_check(to, "to", t, err)))
		return rc;
	if (msg == NULL || msg->len == 0)
		return kerr_set(err, KERR_INVALID, NULL, "the message is empty");
	rcpt = curl_slist_append(NULL, t);
	if (rcpt == NULL)
		return kerr_set(err, KERR_INTERNAL, NULL, "out of memory");

	m->msg = msg;
	curl_easy_setopt(m->curl, CURLOPT_MAIL_FROM, f);
	curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(m->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
	bool reused = false;
	CURLcode res = perform(m, &reused);
	if (res != CURLE_OK && reused && closed_before_message(m, res)) {
		/* The server dropped the kept connection (its idle timeout) just as we used
		 * it; nothing was delivered, so the message goes once more on a new one. */
		curl_easy_setopt(m->curl, CURLOPT_FRESH_CONNECT, 1L);
		res = perform(m, &reused);
		curl_easy_setopt(m->curl, CURLOPT_FRESH_CONNECT, 0L);
	}
	rc = res == CURLE_OK ? 0 : send_error(m, res, err);

	curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	m->msg = NULL;
	sodium_memzero(t, sizeof(t));
	return rc;
}

int mailer_smtp_code(const struct mailer *m)
{
	return m ? (int)m->code : 0;
}

void mailer_free(struct mailer *m)
{
	if (!m)
		return;
	if (m->curl)
		curl_easy_cleanup(m->curl);
	if (m->password) {
		sodium_memzero(m->password, m->password_len);
		free(m->password);
	}
	sodium_memzero(m, sizeof(*m));
	free(m);
}
