/*
 * libFuzzer harness for the CSV reader. Each input is parsed by two readers in lockstep that
 * differ only in chunk size (one of them reads a byte or three at a time), and every step must
 * agree: results may not depend on where reads split the input. Returned fields are checked
 * against the contract with a separately written UTF-8 decoder.
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "fuzz_csv: check failed: %s (line %d)\n", #x, __LINE__);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Decodes code points one by one; 1 when s[0 .. n) is strict UTF-8 without NUL. */
static int fuzz_utf8_ok(const unsigned char *s, size_t n)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t i = 0;
	while (i < n) {
		unsigned char b = s[i];
		size_t len;
		uint32_t cp;
		if (b == 0)
			return 0;
		if (b < 0x80)
			len = 1, cp = b;
		else if ((b & 0xe0) == 0xc0)
			len = 2, cp = b & 0x1f;
		else if ((b & 0xf0) == 0xe0)
			len = 3, cp = b & 0x0f;
		else if ((b & 0xf8) == 0xf0)
			len = 4, cp = b & 0x07;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static void fuzz_pair(const uint8_t *data, size_t size, struct csv_opts a, struct csv_opts b)
{
	FILE *fa = fmemopen((void *)data, size, "r");
	FILE *fb = fmemopen((void *)data, size, "r");
	CHECK(fa && fb);
	struct csv *ca = csv_open_opts(fa, &a);
	struct csv *cb = csv_open_opts(fb, &b);
	CHECK(ca && cb);
	CHECK(csv_delimiter(ca) == csv_delimiter(cb));
	CHECK(csv_delimiter(ca) == ';' || csv_delimiter(ca) == ',');

	long lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';

	long last_read = csv_bytes_read(ca), last_line = 0;
	for (size_t calls = 0;; calls++) {
		struct csv_record ra, rb;
		char ea[160], eb[160];
		int rc = csv_next(ca, &ra, ea, sizeof(ea));
		CHECK(csv_next(cb, &rb, eb, sizeof(eb)) == rc);
		CHECK(strcmp(ea, eb) == 0);
		CHECK(csv_bytes_read(ca) == csv_bytes_read(cb));
		CHECK(csv_bytes_read(ca) <= (long)size);
		CHECK(calls <= size + 1);
		if (rc == 0) {
			CHECK(csv_bytes_read(ca) == (long)size);
			CHECK(csv_next(ca, &ra, ea, sizeof(ea)) == 0);
			break;
		}
		if (rc == -2) {
			CHECK(ea[0] != '\0');
			CHECK(csv_next(ca, &ra, ea, sizeof(ea)) == -2);
			break;
		}
		/* Every record, good or bad, consumes input and starts on a later line. */
		CHECK(csv_bytes_read(ca) > last_read);
		last_read = csv_bytes_read(ca);
		CHECK(ra.line == rb.line);
		CHECK(ra.line > last_line && ra.line <= lines);
		last_line = ra.line;
		if (rc == -1) {
			CHECK(ea[0] != '\0' && ra.fields == NULL && ra.n == 0);
			continue;
		}
		CHECK(rc == 1);
		CHECK(ea[0] == '\0');
		CHECK(ra.n == rb.n && ra.n >= 1 && ra.n <= (a.max_fields ? a.max_fields : 1000));
		for (size_t i = 0; i < ra.n; i++) {
			const struct csv_field *x = &ra.fields[i], *y = &rb.fields[i];
			CHECK(x->len == y->len);
			CHECK(memcmp(x->s, y->s, x->len) == 0);
			CHECK(x->s[x->len] == '\0');
			CHECK(fuzz_utf8_ok((const unsigned char *)x->s, x->len));
		}
	}
	csv_free(ca);
	csv_free(cb);
	fclose(fa);
	fclose(fb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	if (!data)
		data = empty;
	/* Detection with the default limits. */
	fuzz_pair(data, size, (struct csv_opts){.chunk = 1}, (struct csv_opts){0});
	/* A given delimiter and small limits, so the limit paths are reached. */
	fuzz_pair(
	        data, size,
	        (struct csv_opts){.delimiter = ',', .max_record = 40, .max_fields = 5, .chunk = 3},
	        (struct csv_opts){.delimiter = ',', .max_record = 40, .max_fields = 5});
	return 0;
}
