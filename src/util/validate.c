/*
 * Input validators for values that come from outside: forms, API bodies, CSV imports and
 * register declarations. Each validator works on the trimmed span of its NUL-terminated input
 * and walks it with explicit bounds, so no validator allocates, copies an unbounded string or
 * reads past the terminator; outputs are written only once the whole value is known good.
 */
#include "util/validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

#define EMAIL_MAX       254
#define EMAIL_LOCAL_MAX 64
#define DNS_LABEL_MAX   63
#define URL_MAX         2048
#define E164_MAX_DIGITS 15
#define IDENT_MAX       64
#define IP_TEXT_MAX     46 /* INET6_ADDRSTRLEN, longest IPv6 text form and its NUL */

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static bool fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Returns whether the `n` bytes at `s` equal the lower-case ASCII `lower`, ignoring case. */
static bool equal_ci(const char *s, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (to_lower(s[i]) != lower[i])
			return false;
	return true;
}

/*
 * Finds the span of `in` without leading and trailing ASCII whitespace: returns its start and
 * stores its length in *len. A NULL input is treated as empty.
 */
static const char *trim(const char *in, size_t *len)
{
	if (in == NULL) {
		*len = 0;
		return "";
	}
	while (is_space(*in))
		in++;
	size_t n = strlen(in);
	while (n > 0 && is_space(in[n - 1]))
		n--;
	*len = n;
	return in;
}

/* Returns the value of the `n` decimal digits at `s`, which the caller has checked. */
static int digits_value(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Finnish identifiers                                                                        */
/* ------------------------------------------------------------------------------------------ */

static const char hetu_checks[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";

/* Returns the first year of the century a henkilötunnus sign stands for, or -1. */
static int hetu_century(char sign)
{
	switch (sign) {
	case '+': return 1800;
	case '-':
	case 'Y':
	case 'X':
	case 'W':
	case 'V':
	case 'U': return 1900;
	case 'A':
	case 'B':
	case 'C':
	case 'D':
	case 'E':
	case 'F': return 2000;
	default: return -1;
	}
}

bool hetu_parse(const char *in, struct hetu *out, const char **why)
{
	size_t len;
	const char *s = trim(in, &len);
	char n[12];

	if (len == 0)
		return fail(why, "must not be empty");
	if (len != 11)
		return fail(why, "must be 11 characters (DDMMYYCZZZQ)");
	for (size_t i = 0; i < 11; i++)
		n[i] = to_upper(s[i]);
	n[11] = '\0';

	if (!all_digits(n, 6) || !all_digits(n + 7, 3))
		return fail(why,
		            "must be 6 digits, a century sign, 3 digits and a check character");
	int century = hetu_century(n[6]);
	if (century < 0)
		return fail(why, "invalid century sign");

	int day = digits_value(n, 2), month = digits_value(n + 2, 2);
	int year = century + digits_value(n + 4, 2);
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return fail(why, "invalid date");

	int ind = digits_value(n + 7, 3);
	if (ind < 2)
		return fail(why, "invalid individual number");

	long num = (long)digits_value(n, 6) * 1000 + ind;
	if (n[10] != hetu_checks[num % 31])
		return fail(why, "check character does not match");

	memcpy(out->norm, n, sizeof(out->norm));
	out->year = year;
	out->month = month;
	out->day = day;
	out->temporary = ind >= 900;
	out->female = ind % 2 == 0;
	return true;
}

void hetu_mask(const char *norm, char out[12])
{
	size_t i = 0;

	if (norm != NULL)
		for (; i < 7 && norm[i] != '\0'; i++)
			out[i] = norm[i];
	for (; i < 11; i++)
		out[i] = '*';
	out[11] = '\0';
}

bool ytunnus_valid(const char *in, char out[10], const char **why)
{
	static const int weights[7] = {7, 9, 10, 5, 8, 4, 2};
	size_t len;
	const char *s = trim(in, &len);
	char n[10];

	if (len == 0)
		return fail(why, "must not be empty");
	if ((len != 9 && len != 8) || s[len - 2] != '-' || !all_digits(s, len - 2) ||
	    !is_digit(s[len - 1]))
		return fail(why, "must be 7 digits, a hyphen and a check digit (1234567-8)");
	if (len == 8) {
		n[0] = '0';
		memcpy(n + 1, s, 8);
	} else {
		memcpy(n, s, 9);
	}
	n[9] = '\0';

	int sum = 0;
	for (int i = 0; i < 7; i++)
		sum += (n[i] - '0') * weights[i];
	int r = sum % 11;
	if (r == 1)
		return fail(why, "is not a possible business ID");
	int check = r == 0 ? 0 : 11 - r;
	if (n[8] - '0' != check)
		return fail(why, "check digit does not match");
	memcpy(out, n, 10);
	return true;
}

/*
 * Collects the digits of a phone number into `dig` (at most `cap` of them, NUL terminated),
 * skipping the separators people type. Sets *plus if the number starts with '+'. Returns
 * NULL or an error message.
 */
static const char *phone_digits(const char *s, size_t len, char *dig, size_t cap, bool *plus)
{
	size_t nd = 0;

	*plus = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		if (c == '+') {
			if (i != 0)
				return "'+' may only start the number";
			*plus = true;
			continue;
		}
		if (is_alpha(c))
			return "must not contain letters";
		if (!is_digit(c))
			return "may contain only digits, spaces, hyphens, dots, parentheses and a "
			       "leading '+'";
		if (nd == cap)
			return "is too long";
		dig[nd++] = c;
	}
	dig[nd] = '\0';
	return NULL;
}

bool phone_valid(const char *in, char out[17], const char **why)
{
	size_t len, nd;
	const char *s = trim(in, &len);
	const char *msg, *nsn, *intl;
	char dig[E164_MAX_DIGITS + 5]; /* "00", the trunk 0 in "00358 (0)…" and one too many */
	bool plus;

	if (len == 0)
		return fail(why, "must not be empty");
	msg = phone_digits(s, len, dig, sizeof(dig) - 1, &plus);
	if (msg != NULL)
		return fail(why, msg);
	nd = strlen(dig);
	if (nd == 0)
		return fail(why, "must contain digits");

	if (plus)
		intl = dig;
	else if (dig[0] == '0' && dig[1] == '0')
		intl = dig + 2;
	else if (dig[0] == '0')
		intl = NULL;
	else
		return fail(why, "must start with 0, + or 00 and a country code");

	if (intl != NULL && strncmp(intl, "358", 3) != 0) {
		size_t n = strlen(intl);
		if (n == 0 || intl[0] == '0')
			return fail(why, "invalid country code");
		if (n < 8)
			return fail(why, "is too short");
		if (n > E164_MAX_DIGITS)
			return fail(why, "is too long");
		out[0] = '+';
		memcpy(out + 1, intl, n + 1);
		return true;
	}

	/* A Finnish number: keep the national significant number without the trunk 0. */
	nsn = intl != NULL ? intl + 3 : dig + 1;
	if (intl != NULL && nsn[0] == '0')
		nsn++;
	if (nsn[0] == '0')
		return fail(why, "has too many leading zeros");
	size_t n = strlen(nsn);
	if (n < 5)
		return fail(why, "is too short");
	if (n > 12)
		return fail(why, "is too long");
	memcpy(out, "+358", 4);
	memcpy(out + 4, nsn, n + 1);
	return true;
}

bool postal_code_valid(const char *in, char out[6], const char **why)
{
	size_t len;
	const char *s = trim(in, &len);

	if (len == 0)
		return fail(why, "must not be empty");
	if (len != 5 || !all_digits(s, 5))
		return fail(why, "must be 5 digits");
	memcpy(out, s, 5);
	out[5] = '\0';
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* E-mail and web addresses                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* RFC 5322 atext: letters, digits and these specials. */
static bool is_atext(char c)
{
	return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/*
 * Checks a domain name of `len` bytes: at least two labels of 1–63 letters, digits and
 * hyphens, no label starting or ending with a hyphen. With `utf8`, bytes of 0x80 and above
 * count as letters (internationalised names; the caller checks the UTF-8 itself). Returns
 * NULL or an error message.
 */
static const char *domain_check(const char *s, size_t len, bool utf8)
{
	size_t start = 0, labels = 0;

	if (len == 0)
		return "domain is missing";
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			char c = s[i];
			if (!is_alpha(c) && !is_digit(c) && c != '-' && !(utf8 && (c & 0x80)))
				return "domain contains a character that is not allowed";
			continue;
		}
		size_t l = i - start;
		if (l == 0)
			return "domain has an empty part";
		if (l > DNS_LABEL_MAX)
			return "domain part is longer than 63 characters";
		if (s[start] == '-' || s[i - 1] == '-')
			return "domain part must not start or end with a hyphen";
		if (i == len && all_digits(s + start, l))
			return "domain must end in a name, not a number";
		labels++;
		start = i + 1;
	}
	if (labels < 2)
		return "domain must contain a dot";
	return NULL;
}

bool email_valid(const char *in, char *out, size_t outsz, const char **why)
{
	size_t len;
	const char *s = trim(in, &len);
	const char *at = NULL, *msg;

	if (len == 0)
		return fail(why, "must not be empty");
	if (len > EMAIL_MAX)
		return fail(why, "is too long");
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '@')
			continue;
		if (at != NULL)
			return fail(why, "must contain exactly one @");
		at = s + i;
	}
	if (at == NULL)
		return fail(why, "must contain exactly one @");

	size_t llen = (size_t)(at - s);
	if (llen == 0)
		return fail(why, "is missing the part before @");
	if (llen > EMAIL_LOCAL_MAX)
		return fail(why, "part before @ is longer than 64 characters");
	if (s[0] == '.' || s[llen - 1] == '.')
		return fail(why, "part before @ must not start or end with a dot");
	for (size_t i = 0; i < llen; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return fail(why, "must not contain two dots in a row");
		} else if (!is_atext(s[i])) {
			return fail(why, "part before @ contains a character that is not allowed");
		}
	}
	msg = domain_check(at + 1, len - llen - 1, false);
	if (msg != NULL)
		return fail(why, msg);

	if (out == NULL || outsz <= len)
		return fail(why, "is too long");
	for (size_t i = 0; i < len; i++)
		out[i] = to_lower(s[i]);
	out[len] = '\0';
	return true;
}

/* Checks the port digits of a URL: 1–65535. */
static bool port_ok(const char *s, size_t len)
{
	if (len == 0 || len > 5 || !all_digits(s, len))
		return false;
	long v = 0;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	return v >= 1 && v <= 65535;
}

/* Returns whether the `len` bytes at `s` are an IPv4 address in dotted-decimal form. */
static bool ipv4_host(const char *s, size_t len)
{
	char buf[IP_TEXT_MAX];
	struct in_addr a4;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, &a4) == 1;
}

bool url_valid(const char *in, const char **why)
{
	size_t len, skip;
	const char *s = trim(in, &len);
	const char *msg;

	if (len == 0)
		return fail(why, "must not be empty");
	if (len > URL_MAX)
		return fail(why, "is longer than 2048 characters");
	if (len >= 7 && equal_ci(s, "http://", 7))
		skip = 7;
	else if (len >= 8 && equal_ci(s, "https://", 8))
		skip = 8;
	else
		return fail(why, "must start with http:// or https://");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f)
			return fail(why, "must not contain spaces or control characters");
		if (c == '"' || c == '<' || c == '>' || c == '\\' || c == '`')
			return fail(why, "contains a character that is not allowed");
	}
	if (!utf8_valid(s, len))
		return fail(why, "is not valid UTF-8");

	/* The authority runs to the first '/', '?' or '#'. */
	const char *host = s + skip, *end = s + len;
	size_t alen = 0;
	while (host + alen < end && host[alen] != '/' && host[alen] != '?' && host[alen] != '#')
		alen++;
	if (memchr(host, '@', alen) != NULL)
		return fail(why, "must not contain a user name or password");

	size_t hlen = alen;
	if (alen > 0 && host[0] == '[') {
		const char *close = memchr(host, ']', alen);
		char buf[IP_TEXT_MAX];
		struct in6_addr a6;
		if (close == NULL)
			return fail(why, "invalid IPv6 address");
		hlen = (size_t)(close - host) + 1;
		if (hlen - 2 >= sizeof(buf))
			return fail(why, "invalid IPv6 address");
		memcpy(buf, host + 1, hlen - 2);
		buf[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return fail(why, "invalid IPv6 address");
	} else {
		const char *colon = memchr(host, ':', alen);
		if (colon != NULL)
			hlen = (size_t)(colon - host);
		if (hlen == 0)
			return fail(why, "is missing the host name");
		if (!(hlen == 9 && equal_ci(host, "localhost", 9)) && !ipv4_host(host, hlen)) {
			msg = domain_check(host, hlen, true);
			if (msg != NULL)
				return fail(why, msg);
		}
	}
	if (hlen < alen) {
		if (host[hlen] != ':' || !port_ok(host + hlen + 1, alen - hlen - 1))
			return fail(why, "invalid port");
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Dates, addresses and scalars                                                               */
/* ------------------------------------------------------------------------------------------ */

bool date_valid(const char *in, int *y, int *m, int *d, const char **why)
{
	size_t len;
	const char *s = trim(in, &len);

	if (len == 0)
		return fail(why, "must not be empty");
	if (len != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) || !all_digits(s + 5, 2) ||
	    !all_digits(s + 8, 2))
		return fail(why, "must be a date YYYY-MM-DD");
	int yy = digits_value(s, 4), mm = digits_value(s + 5, 2), dd = digits_value(s + 8, 2);
	if (yy < 1800 || yy > 2999)
		return fail(why, "year must be between 1800 and 2999");
	if (mm < 1 || mm > 12 || dd < 1 || dd > days_in_month(yy, mm))
		return fail(why, "invalid date");
	if (y != NULL)
		*y = yy;
	if (m != NULL)
		*m = mm;
	if (d != NULL)
		*d = dd;
	return true;
}

bool ip_valid(const char *in, const char **why)
{
	size_t len;
	const char *s = trim(in, &len);
	char buf[IP_TEXT_MAX];
	unsigned char addr[sizeof(struct in6_addr)];

	if (len == 0)
		return fail(why, "must not be empty");
	if (len >= sizeof(buf))
		return fail(why, "is not an IP address");
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1)
		return true;
	return fail(why, "is not an IP address");
}

bool int_valid(const char *in, long long *out, const char **why)
{
	size_t len;
	const char *s = trim(in, &len);
	char buf[32];

	if (len == 0)
		return fail(why, "must not be empty");
	size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
	if (i == len || !all_digits(s + i, len - i))
		return fail(why, "must be a whole number");
	/* Skip leading zeros so that long but harmless spellings still fit the buffer. */
	size_t j = i;
	while (j + 1 < len && s[j] == '0')
		j++;
	if (len - j + 1 >= sizeof(buf))
		return fail(why, "is out of range");
	buf[0] = s[0] == '-' ? '-' : '+';
	memcpy(buf + 1, s + j, len - j);
	buf[len - j + 1] = '\0';

	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno == ERANGE)
		return fail(why, "is out of range");
	if (*end != '\0')
		return fail(why, "must be a whole number");
	if (out != NULL)
		*out = v;
	return true;
}

bool bool_valid(const char *in, bool *out, const char **why)
{
	size_t len;
	const char *s = trim(in, &len);
	bool v;

	if (len == 4 && memcmp(s, "true", 4) == 0)
		v = true;
	else if (len == 5 && memcmp(s, "false", 5) == 0)
		v = false;
	else
		return fail(why, "must be true or false");
	if (out != NULL)
		*out = v;
	return true;
}

bool ident_valid(const char *in, const char **why)
{
	size_t len;
	const char *s = trim(in, &len);

	if (len == 0)
		return fail(why, "must not be empty");
	if (len > IDENT_MAX)
		return fail(why, "must be at most 64 characters");
	if (s[0] < 'a' || s[0] > 'z')
		return fail(why, "must start with a lower-case letter a-z");
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (!(c >= 'a' && c <= 'z') && !is_digit(c) && c != '_' && c != '-')
			return fail(why, "may contain only a-z, 0-9, '_' and '-'");
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* UTF-8                                                                                      */
/* ------------------------------------------------------------------------------------------ */

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			/* A continuation, an overlong lead (c0, c1) or past U+10FFFF. */
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}
