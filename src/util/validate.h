/*
 * Validators for the values kortisto accepts from outside: Finnish identifiers (henkilötunnus,
 * Y-tunnus, phone numbers, postal codes) and general formats (e-mail, date, URL, IP address,
 * integers, booleans, declaration ids, UTF-8). Each takes a NUL-terminated string, trims
 * leading and trailing ASCII whitespace, never allocates and never reads past the NUL.
 *
 * On failure each returns false and, when `why` is not NULL, points *why at a short static
 * English message a user can act on ("check character does not match"); the caller adds the
 * field name. Messages never repeat the input, so they are safe to log. On failure the output
 * arguments are left unspecified and must not be used.
 */
#ifndef KORTISTO_VALIDATE_H
#define KORTISTO_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* A parsed henkilötunnus (Finnish personal identity code). */
struct hetu {
	char norm[12]; /* normalised DDMMYYCZZZQ, upper case, NUL terminated */
	int year, month, day;
	bool temporary; /* individual number 900–999 */
	bool female;    /* even individual number */
};

/*
 * Parses a henkilötunnus DDMMYYCZZZQ. Accepts every century sign in use since 2023 (+ for the
 * 1800s, - Y X W V U for the 1900s, A B C D E F for the 2000s), lower-case letters (normalised
 * to upper case) and temporary individual numbers 900–999 (flagged in out->temporary). Rejects
 * 000 and 001, dates that do not exist and a wrong check character. Future dates are not
 * rejected: whether a birth date may lie ahead is the caller's decision. `out` must not be
 * NULL; it is filled only on success.
 */
bool hetu_parse(const char *in, struct hetu *out, const char **why);

/*
 * Writes the display form of a normalised henkilötunnus: its first seven characters (date and
 * century sign) followed by "****", e.g. "131052-****", always 11 characters and a NUL. If
 * `norm` is shorter than seven characters the missing ones are written as '*' too, so the
 * result never shows more than the date part.
 */
void hetu_mask(const char *norm, char out[12]);

/*
 * Checks a Y-tunnus (business ID) NNNNNNN-T, weights 7 9 10 5 8 4 2, and writes its
 * normalised form "0112038-9" (9 characters and a NUL) to `out`. Old six-digit ids get a
 * leading zero ("112038-9" -> "0112038-9"). The hyphen is required.
 */
bool ytunnus_valid(const char *in, char out[10], const char **why);

/*
 * Pragmatic RFC 5321 e-mail check: exactly one '@'; a local part of 1–64 characters of atext
 * and dots with no leading, trailing or double dot; a domain of at least two letter-digit-
 * hyphen labels of 1–63 characters (no leading or trailing hyphen, last label not all
 * digits); at most 254 characters in all. Writes the trimmed address, lower-cased as a whole
 * for duplicate matching, to `out` (which may be NULL when `outsz` is 0). Fails with "is too
 * long" if it does not fit in `outsz` bytes; 255 bytes are always enough.
 */
bool email_valid(const char *in, char *out, size_t outsz, const char **why);

/*
 * Checks a phone number and writes it in E.164 form ("+358401234567", at most 15 digits and
 * the '+', so 17 bytes with the NUL). Spaces, hyphens, dots and parentheses are ignored; a '+'
 * may only come first. Finnish national numbers start with a single 0 (040 123 4567), or
 * carry a +358 or 00358 prefix; their national significant number must have 5–12 digits. A
 * trunk 0 written after +358 ("+358 (0)40 …") is dropped. Other international numbers
 * ("+CC…" or "00CC…") are accepted with 8–15 digits in all; a country code cannot start with
 * 0.
 */
bool phone_valid(const char *in, char out[17], const char **why);

/* Checks a Finnish postal code: exactly five digits, copied with a NUL to `out`. */
bool postal_code_valid(const char *in, char out[6], const char **why);

/*
 * Checks a calendar date "YYYY-MM-DD" with years 1800–2999, leap years included, and stores
 * its parts in *y, *m, *d (each may be NULL).
 */
bool date_valid(const char *in, int *y, int *m, int *d, const char **why);

/*
 * Checks a web address: "http://" or "https://" (scheme in any case), then a host that is
 * "localhost", a bracketed IPv6 address or a name with at least one dot made of labels of
 * letters, digits, hyphens and UTF-8 characters, then an optional port 1–65535 and path.
 * Rejects user information ("user@host"), spaces, control characters, invalid UTF-8, the
 * characters " < > \ ` and anything over 2048 bytes.
 */
bool url_valid(const char *in, const char **why);

/* Checks an IPv4 address in dotted-decimal form or an IPv6 address, as inet_pton() does. */
bool ip_valid(const char *in, const char **why);

/*
 * Parses a decimal integer with an optional sign that fills the whole (trimmed) string and
 * fits in a long long; stores it in *out (which may be NULL).
 */
bool int_valid(const char *in, long long *out, const char **why);

/* Parses exactly "true" or "false" (lower case) into *out (which may be NULL). */
bool bool_valid(const char *in, bool *out, const char **why);

/* Checks a declaration id: a lower-case letter, then up to 63 of [a-z0-9_-]. */
bool ident_valid(const char *in, const char **why);

/*
 * Returns whether the `len` bytes at `s` are strict UTF-8: no overlong forms, no surrogates
 * (U+D800–U+DFFF), nothing above U+10FFFF, no truncated sequences. U+0000 counts as valid; a
 * caller that must refuse NUL bytes checks for them itself. No trimming is done here.
 */
bool utf8_valid(const char *s, size_t len);

#endif
