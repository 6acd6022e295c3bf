/*
 * Outgoing e-mail, shared by self-service requests (one-time sign-in links) and newsletters.
 * mail_format() builds a complete RFC 5322 message in memory (UTF-8 headers as RFC 2047
 * encoded-words, bodies in quoted-printable); a struct mailer hands such messages to one SMTP
 * server through libcurl. The two are apart so that a message can be built, checked and stored
 * before anything is sent. Recipients are personal data: no error message of this module ever
 * contains an address it was given to send to.
 */
#ifndef KORTISTO_MAIL_H
#define KORTISTO_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct kerr;

/* The mail settings of kortisto.conf (smtp_url, smtp_user, …); see docs/install.md. */
struct mail_config {
	char url[256];           /* smtp://host[:port][/ehlo-name] or smtps://…; "" = mail off */
	char user[128];          /* SMTP user name; "" = no authentication */
	char password_file[512]; /* file whose first line is the SMTP password */
	bool require_tls;        /* smtp://: insist on STARTTLS */
	int timeout;             /* seconds to connect; a whole message may take twice this */
	char from[256];          /* default sender address */
	char from_name[128];     /* default sender display name (UTF-8) */
};

/* One message. Every string is UTF-8 and NUL terminated; the caller owns them all. */
struct mail_msg {
	const char *from;           /* sender address (required) */
	const char *from_name;      /* sender display name, or NULL */
	const char *to;             /* the one recipient address (required) */
	const char *subject;        /* required; may be "" */
	const char *text;           /* plain-text body (required) */
	const char *html;           /* HTML alternative, or NULL for text/plain only */
	const char *const *headers; /* nheaders extra "Name: value" lines, e.g. List-Unsubscribe */
	size_t nheaders;
	const char *message_id_domain; /* right side of the Message-ID; NULL = from's domain */
};

/*
 * Appends the message `m` to `out` as an RFC 5322 message with CRLF line ends, stamped with
 * the time `now` (unix seconds) in its Date header. Addresses are written in the form the
 * e-mail validator gives them (trimmed, lower case). Headers come in this order: Date, From,
 * To, Subject, Message-ID (random, from libsodium), the extra headers as given, MIME-Version,
 * then the content headers. A display name or subject that is not plain ASCII is written as
 * RFC 2047 encoded-words; header lines are folded to at most 78 characters (extra headers are
 * copied as they are, at most 998 characters). Bodies are quoted-printable, lines at most 76
 * characters; with `html` the body is multipart/alternative under a random boundary that
 * quoted-printable text cannot contain. Lines beginning with a dot are left to the SMTP
 * client to escape (libcurl does).
 *
 * Returns 0, or KERR_INVALID naming the field ("from", "from_name", "to", "subject", "text",
 * "html", "headers", "message_id_domain") when a header value holds a line break or another
 * control character (header injection), an address is not valid, a text is not UTF-8, or an
 * extra header is malformed or would repeat one mail_format() writes itself. On error `out`
 * may hold part of the message: the caller resets it.
 */
int mail_format(const struct mail_msg *m, int64_t now, struct buf *out, struct kerr *err);

/*
 * Appends the `n` bytes at `s` to `out` in quoted-printable (RFC 2045 §6.7): "\n" and "\r\n"
 * become CRLF line breaks; '=', control characters (a lone CR too), bytes over 126, a space or
 * tab at the end of a line and the "F" of a line beginning "From " are written as =XX; lines
 * are at most 76 characters, broken with soft line breaks ("=" CRLF) elsewhere. Nothing is
 * added after the last byte: text that does not end in a line break does not end in CRLF.
 */
void mail_qp_encode(struct buf *out, const char *s, size_t n);

/*
 * Checks an smtp_url setting: "smtp://" or "smtps://", a host name or address, an optional
 * port and an optional "/name" that libcurl sends in EHLO. User information ("user@host"),
 * queries, spaces and control characters are refused: credentials belong in smtp_user and
 * smtp_password_file. Writes "host:port" (the port defaulted to 25 or 465) to `server`, which
 * error messages use to name the server. Returns true, or false with *why (may be NULL) set to
 * a short static message.
 */
bool mail_url_valid(const char *url, char *server, size_t serversz, const char **why);

/*
 * Checks the mail settings together, without touching the password file: a valid smtp_url,
 * smtp_timeout 1–3600, smtp_user and smtp_password_file both set or both empty, and a user
 * only with TLS (smtps://, or smtp_require_tls) unless the server is this machine (127.x,
 * localhost, [::1]). An empty smtp_url (mail off) passes. Returns 0 or KERR_INVALID naming the
 * setting; writes the server's "host:port" to `server` when it is not NULL.
 */
int mail_config_check(const struct mail_config *cfg, char *server, size_t serversz,
                      struct kerr *err);

/* A connection to one SMTP server; opaque. Owned by whoever opened it; one thread at a time. */
struct mailer;

/*
 * Prepares sending through the server of `cfg`: checks the settings and reads the password
 * (the first line of cfg->password_file, which must not be readable by group or others). No
 * connection is made until the first mailer_send(). Returns 0 and a mailer the caller frees
 * with mailer_free(), or KERR_INVALID when mail is not configured (cfg->url is empty) or a
 * setting is bad, KERR_INTERNAL when the password file cannot be read.
 */
int mailer_open(const struct mail_config *cfg, struct mailer **out, struct kerr *err);

/*
 * Sends `msg` (as mail_format() made it) from envelope sender `from` to the one recipient
 * `to`, reusing the connection of the previous send while the server keeps it open. When the
 * server turns out to have closed that connection before taking the message (a 421 reply, or
 * the connection lost before the message was sent), the message is sent once more over a new
 * connection; a refusal is never retried. Returns 0
 * when the server accepted the message, or:
 *   KERR_INVALID  the server refused it for good (5xx), e.g. an unknown recipient ("to");
 *   KERR_BUSY     the server could not be reached, timed out or refused it for now (4xx):
 *                 try again later;
 *   KERR_INTERNAL TLS, authentication or another failure of the setup.
 * Error messages name the server and the failure, never the recipient.
 */
int mailer_send(struct mailer *m, const char *from, const char *to, const struct buf *msg,
                struct kerr *err);

/* The last SMTP reply code of the server (e.g. 250, 451, 550), or 0 when there was none. */
int mailer_smtp_code(const struct mailer *m);

/* Closes the connection and frees the mailer, wiping the password. Accepts NULL. */
void mailer_free(struct mailer *m);

#endif
