/*
 * libFuzzer harness for the anchor-file parser of `kortisto audit verify --anchors FILE`
 * (verify_anchors and verify_anchor in src/audit/chain.c). Each input is the text of an
 * anchors file, written to a temporary file and checked with audit_verify() against a small
 * usage log: a few entries pruned behind a signed checkpoint, then a few more. The data
 * directory is made once, in /tmp, and audit_verify() only reads it.
 *
 * A fuzzer cannot forge a signature or guess an entry's keyed hash, so the harness fills them
 * in where the input asks, to reach the checks after the signature: in each line, "hash=*"
 * becomes the hash of the entry the line's first "id=" names, and "sig=*" the signature of
 * the text before the line's first " sig="; a line "@GOOD" or "@GOOD N" becomes a genuine
 * anchor of entry N modulo the number of entries. Beyond "no crash, no leak", the harness
 * checks the contract: the walk always runs (the file is readable), the log itself always
 * verifies, any problem found names an anchors line, and a file of genuine anchors, comments
 * and blank lines verifies without a problem.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit/audit.h"
#include "audit/usage.h"
#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "core/register.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/kerr.h"

#define HARNESS "fuzz_anchors"
#include "fuzz_datadir.h"

#define DAY       86400
#define HASH_HEX  (USAGE_HASH_BYTES * 2 + 1)
#define FGETS_MAX 1023 /* the longest line verify_anchors reads whole */

static char anchors_path[64];
static struct audit_verify base; /* audit_verify() without anchors, at start-up */
static char (*hashes)[HASH_HEX]; /* [0, base.head_id]: each entry's hash in hex */

static void remove_anchors(void)
{
	unlink(anchors_path);
	free(hashes);
}

/* A fresh context acting as the operator; its error is fz.err, which require() prints. */
static struct kctx fresh(void)
{
	struct kctx c = fz.ctx;
	arena_reset(&fz.mem);
	kerr_clear(&fz.err);
	c.err = &fz.err;
	c.mem = &fz.mem;
	return c;
}

static void add_people(int n)
{
	json_error_t jerr;
	for (int i = 0; i < n; i++) {
		json_t *in = json_loads(
		        "{\"subject_group\": \"consenting_person\", \"source\": \"customer\"}", 0,
		        &jerr);
		struct kctx c = fresh();
		int64_t id = 0;
		if (!in || person_create(&c, RID, in, &id) != 0)
			die("person_create");
		json_decref(in);
	}
}

/* Reads the hash of every entry still in the log, and the checkpoint's; entries pruned
 * before the checkpoint's keep all-zero hashes (verify accepts any hash for them). */
static void read_hashes(void)
{
	unsigned char zero[USAGE_HASH_BYTES] = {0};
	hashes = calloc((size_t)base.head_id + 1, sizeof(*hashes));
	if (!hashes)
		die("out of memory");
	if (store_begin_read(fz.db, &fz.err))
		die("store_begin_read");
	for (int64_t id = 0; id <= base.head_id; id++) {
		const void *h = zero;
		struct query *q = store_query(fz.db, ST_USAGE_HASH_OF);
		q_int(q, 1, id);
		if (q_step(q, &fz.err) == 1 && q_col_bytes(q, 0) == USAGE_HASH_BYTES)
			h = q_col_blob(q, 0);
		sodium_bin2hex(hashes[id], HASH_HEX, h, USAGE_HASH_BYTES);
		q_done(q);
	}
	struct query *q = store_query(fz.db, ST_CHECKPOINT_LAST);
	if (q_step(q, &fz.err) != 1 || q_col_bytes(q, 4) != USAGE_HASH_BYTES ||
	    q_col_int(q, 3) != base.checkpoint_id)
		die("no checkpoint");
	sodium_bin2hex(hashes[base.checkpoint_id], HASH_HEX, q_col_blob(q, 4), USAGE_HASH_BYTES);
	q_done(q);
	store_rollback(fz.db);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct audit_pruned pruned;
	int64_t now = 1767225600;
	fz_setup();

	/* Entries a year old, pruned behind a checkpoint, then newer ones. */
	kctx_set_now(&fz.ctx, now - 400 * DAY);
	add_people(4);
	kctx_set_now(&fz.ctx, now);
	struct kctx c = fresh();
	if (audit_prune(&c, now - 200 * DAY, &pruned) || pruned.removed == 0)
		die("audit_prune");
	add_people(3);

	c = fresh();
	if (audit_verify(&c, NULL, &base) || base.problem[0] || base.checkpoint_id == 0 ||
	    base.head_id <= base.checkpoint_id)
		die("audit_verify of the new log");
	read_hashes();

	int fd;
	snprintf(anchors_path, sizeof(anchors_path), "/tmp/kortisto-" HARNESS "-file-XXXXXX");
	if ((fd = mkstemp(anchors_path)) < 0)
		die("mkstemp");
	close(fd);
	atexit(remove_anchors);
	return 0;
}

/* The id named by the first " id=" of `line` (n bytes), or -1. */
static int64_t line_id(const char *line, size_t n)
{
	const char *p = memmem(line, n, " id=", 4);
	int64_t id = 0;
	int digits = 0;
	if (!p)
		return -1;
	for (p += 4; p < line + n && *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
		id = id * 10 + (*p - '0');
	return digits ? id : -1;
}

/* Appends a genuine anchor of entry `id` (≤ head) as audit_anchor() writes one. */
static void good_line(struct buf *out, int64_t id)
{
	unsigned char sig[SIGN_BYTES];
	char hex[SIGN_BYTES * 2 + 1];
	size_t start = out->len;
	buf_appendf(out, "kortisto-anchor v1 id=%lld hash=%s at=%s", (long long)id, hashes[id],
	            fz.ctx.now_iso);
	keys_sign(&fz.app->keys, out->p + start, out->len - start, sig);
	sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
	buf_appendf(out, " sig=%s", hex);
}

/* Appends `line` (n bytes) with "hash=*" and "sig=*" filled in (see the top). */
static void fill_line(struct buf *out, const char *line, size_t n)
{
	static const char hash_star[] = "hash=*", sig_star[] = "sig=*";
	int64_t id = line_id(line, n);
	size_t start = out->len;
	for (size_t i = 0; i < n; i++) {
		if (id >= 0 && id <= base.head_id && n - i >= 6 &&
		    memcmp(line + i, hash_star, 6) == 0) {
			buf_appendf(out, "hash=%s", hashes[id]);
			i += 5;
		} else {
			buf_putc(out, line[i]);
		}
	}
	/* The signed text: what comes before the first " sig=", as verify_anchor takes it. */
	char *text = out->p ? out->p + start : NULL;
	size_t len = out->len - start;
	const char *s = text ? memmem(text, len, " sig=", 5) : NULL;
	if (!s || !memmem(text, len, sig_star, 5))
		return;
	unsigned char sig[SIGN_BYTES];
	char hex[SIGN_BYTES * 2 + 1];
	keys_sign(&fz.app->keys, text, (size_t)(s - text), sig);
	sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
	/* Copies the line out, then writes it back with each "sig=*" replaced. */
	char *copy = malloc(len);
	require(copy != NULL, "out of memory");
	memcpy(copy, text, len);
	out->len = start;
	for (size_t i = 0; i < len; i++) {
		if (len - i >= 5 && memcmp(copy + i, sig_star, 5) == 0) {
			buf_appendf(out, "sig=%s", hex);
			i += 4;
		} else {
			buf_putc(out, copy[i]);
		}
	}
	free(copy);
}

/* Whether `line` (n bytes) is "@GOOD" or "@GOOD N"; sets *id to N modulo the entries. */
static bool good_request(const char *line, size_t n, int64_t *id)
{
	int64_t v = 0;
	if (n < 5 || memcmp(line, "@GOOD", 5) != 0)
		return false;
	size_t i = 5;
	if (i < n && line[i] == ' ')
		i++;
	if (n - i > 9)
		return false;
	for (; i < n; i++) {
		if (line[i] < '0' || line[i] > '9')
			return false;
		v = v * 10 + (line[i] - '0');
	}
	*id = v % (base.head_id + 1);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct buf file = BUF_INIT;
	bool all_good = true; /* every line is a genuine anchor, a comment or blank */
	int64_t lines = 0, good = 0;

	for (size_t at = 0; at < size;) {
		const char *nl = memchr(text + at, '\n', size - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : size - at;
		const char *line = text + at;
		int64_t id;
		lines++;
		if (good_request(line, n, &id)) {
			good_line(&file, id);
			good++;
		} else {
			/* Skipped by verify_anchors: blank, or a comment fgets reads whole. */
			size_t start = file.len;
			fill_line(&file, line, n);
			size_t m = file.len - start;
			bool skipped =
			        m == 0 || ((file.p[start] == '#' || file.p[start] == '\r') &&
			                   m < FGETS_MAX && !memchr(file.p + start, '\0', m));
			all_good = all_good && skipped;
		}
		buf_putc(&file, '\n');
		at += n + 1;
	}

	FILE *f = fopen(anchors_path, "wb");
	require(f != NULL, "cannot write the anchors file");
	if (file.len)
		fwrite(file.p, 1, file.len, f);
	require(fclose(f) == 0, "cannot write the anchors file");
	size_t written = file.len;
	buf_free(&file);

	struct audit_verify v;
	struct kctx c = fresh();
	int rc = audit_verify(&c, anchors_path, &v);
	require(rc == 0, "audit_verify could not run");
	require(memchr(v.problem, '\0', sizeof(v.problem)) != NULL, "unterminated problem");
	require(v.entries == base.entries && v.head_id == base.head_id &&
	                v.checkpoint_id == base.checkpoint_id &&
	                memcmp(v.head_hash, base.head_hash, sizeof(v.head_hash)) == 0,
	        "the log changed under a verify");
	require(!v.problem[0] || strncmp(v.problem, "anchors line ", 13) == 0,
	        "a problem that does not name an anchors line");
	/* fgets splits lines longer than FGETS_MAX, so there may be more lines than ours. */
	require(v.anchors <= lines + (int64_t)(written / FGETS_MAX), "more anchors than lines");
	if (all_good) {
		if (v.problem[0])
			fprintf(stderr, HARNESS ": %s\n", v.problem);
		require(!v.problem[0] && v.anchors == good, "genuine anchors did not verify");
	}
	return 0;
}
