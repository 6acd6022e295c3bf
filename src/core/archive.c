/*
 * Archive packages (L-07): what an archive_then_delete retention rule writes before it
 * deletes. A package is a directory of JSON Lines files, one per record type, and a manifest
 * with every file's record count, size and SHA-256. It is written under a temporary name,
 * synced, read back from disk and checked against the manifest before it is renamed into
 * place; only a package that verified lets the caller delete anything.
 */
#include "core/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/app.h"
#include "core/ctx.h"
#include "core/person.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/kerr.h"
#include "util/xmalloc.h"

/* One file of a package: a JSON Lines text and how many lines it has. */
struct pkg_file {
	char name[80];
	struct buf b;
	int64_t lines;
};

/* The files of a package, one per record type met (a type a later declaration dropped
 * included). */
struct pkg {
	struct pkg_file *v;
	size_t n, cap;
};

static void pkg_free(struct pkg *k)
{
	for (size_t i = 0; i < k->n; i++) {
		if (k->v[i].b.p)
			sodium_memzero(k->v[i].b.p, k->v[i].b.len);
		buf_free(&k->v[i].b);
	}
	free(k->v);
}

/* "dir/name" as a new heap string. */
static char *path_join(const char *dir, const char *name)
{
	struct buf b = BUF_INIT;
	buf_appendf(&b, "%s/%s", dir, name);
	return b.p;
}

/* Removes directory `path` and the files in it (a package: no subdirectories). */
static void dir_remove(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *f = path_join(path, e->d_name);
		unlink(f);
		free(f);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

static int write_all(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	int r = fsync(fd);
	return close(fd) == 0 && r == 0 ? 0 : -1;
}

/* Reads file `path` back and checks its length, line count and SHA-256 against the
 * manifest's entry `m`. */
static bool verify_file(const char *path, json_t *m)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES], chunk[65536];
	int64_t bytes = 0, lines = 0;
	ssize_t r;
	crypto_hash_sha256_init(&st);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0 || (r < 0 && errno == EINTR)) {
		if (r < 0)
			continue;
		crypto_hash_sha256_update(&st, chunk, (unsigned long long)r);
		for (ssize_t i = 0; i < r; i++)
			lines += chunk[i] == '\n';
		bytes += r;
	}
	close(fd);
	sodium_memzero(chunk, sizeof(chunk));
	if (r < 0)
		return false;
	crypto_hash_sha256_final(&st, h);
	char hex[65];
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	const char *want = json_string_value(json_object_get(m, "sha256"));
	return want && strcmp(want, hex) == 0 &&
	       json_integer_value(json_object_get(m, "bytes")) == bytes &&
	       json_integer_value(json_object_get(m, "records")) == lines;
}

/* Reads manifest.json of package directory `dir` back from disk and verifies every file it
 * lists. */
static bool package_verify(const char *dir, size_t nfiles)
{
	char *path = path_join(dir, "manifest.json");
	json_error_t jerr;
	json_t *m = json_load_file(path, 0, &jerr);
	free(path);
	json_t *files = json_object_get(m, "files");
	bool ok = json_is_array(files) && json_array_size(files) == nfiles;
	size_t i;
	json_t *f;
	json_array_foreach (files, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		if (!ok || !name || strchr(name, '/')) {
			ok = false;
			break;
		}
		path = path_join(dir, name);
		ok = verify_file(path, f);
		free(path);
	}
	json_decref(m);
	return ok;
}

/* The archive root (cfg.archive_dir, else DATADIR/archive) with the register's directory
 * under it, created 0700 when missing; heap string. */
static char *archive_dir(struct kctx *ctx, const char *rid)
{
	const char *root = ctx->app->cfg.archive_dir;
	char *base = root[0] ? xstrdup(root) : path_join(ctx->app->datadir, "archive");
	char *dir = path_join(base, rid);
	if ((mkdir(base, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
		free(dir);
		dir = NULL;
	}
	free(base);
	return dir;
}

/* Appends one record row (id, person_id, record_type, occurred_at, created_at, created_by,
 * and the content of an advisory record, data: ST_REC_BY_PERSON and ST_REC_GET) to `b` as a
 * JSON line; "data" is there only for a record with content (core/service.c). */
static void record_line(struct buf *b, struct query *q)
{
	json_t *o = json_pack("{sIsIssssssss}", "id", (json_int_t)q_col_int(q, 0), "person_id",
	                      (json_int_t)q_col_int(q, 1), "record_type", q_col_text(q, 2),
	                      "occurred_at", q_col_text(q, 3), "created_at", q_col_text(q, 4),
	                      "created_by", q_col_text(q, 5));
	const char *data = q_col_text(q, 6);
	json_t *content = data ? json_loads(data, 0, NULL) : NULL;
	if (content)
		json_object_set_new(o, "data", content);
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	buf_puts(b, s);
	buf_putc(b, '\n');
	free(s);
	json_decref(o);
}

/* The file of package `k` named `name`.jsonl, added when new. */
static struct pkg_file *pkg_file(struct pkg *k, const char *name)
{
	char want[80];
	snprintf(want, sizeof(want), "%s.jsonl", name);
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i].name, want) == 0)
			return &k->v[i];
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 8;
		k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
	}
	struct pkg_file *f = &k->v[k->n++];
	snprintf(f->name, sizeof(f->name), "%s", want);
	f->b = (struct buf)BUF_INIT;
	f->lines = 0;
	return f;
}

/* Collects what is archived of ids[0..n-1] (persons with their records, or records). */
static int package_collect(struct kctx *ctx, const struct archive_spec *sp, const int64_t *ids,
                           size_t n, struct pkg *k)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct query *q;
		if (sp->records) {
			q = store_query(ctx->db, ST_REC_GET);
			q_text(q, 1, sp->rid);
			q_int(q, 2, ids[i]);
		} else {
			struct pkg_file *f = pkg_file(k, "person");
			if ((rc = person_archive_view(ctx, sp->rid, ids[i], &f->b)))
				break;
			buf_putc(&f->b, '\n');
			f->lines++;
			q = store_query(ctx->db, ST_REC_BY_PERSON);
			q_text(q, 1, sp->rid);
			q_int(q, 2, ids[i]);
		}
		while ((rc = q_step(q, ctx->err)) == 1) {
			struct pkg_file *f = pkg_file(k, q_col_text(q, 2));
			record_line(&f->b, q);
			f->lines++;
		}
		q_done(q);
	}
	return rc < 0 ? rc : 0;
}

/* See archive.h. */
int archive_write(struct kctx *ctx, const struct archive_spec *sp, const char *name,
                  const int64_t *ids, size_t n)
{
	struct pkg k = {0};
	char *dir = archive_dir(ctx, sp->rid), *tmp = NULL, *final = NULL, *path = NULL;
	char *mtext = NULL;
	json_t *manifest = NULL;
	int rc = 0;

	if (!dir) {
		rc = kerr_set(ctx->err, KERR_INTERNAL, "archive_dir",
		              "cannot create the archive directory for register '%s': %s", sp->rid,
		              strerror(errno));
		goto out;
	}
	tmp = path_join(dir, arena_printf(ctx->mem, "%s.tmp", name));
	final = path_join(dir, name);
	if ((rc = package_collect(ctx, sp, ids, n, &k)))
		goto out;
	dir_remove(tmp);
	if (mkdir(tmp, 0700) != 0)
		goto io;
	json_t *list = json_array();
	manifest = json_pack("{sssssisssssssIsssIso}", "format", "kortisto-archive/1", "register",
	                     sp->rid, "register_version", sp->version, "rule", sp->rule, "action",
	                     sp->action, "part", sp->part, "run", (json_int_t)sp->run_id,
	                     "created_at", ctx->now_iso, "subjects", (json_int_t)n, "files", list);
	for (size_t i = 0; i < k.n; i++) {
		const char *text = k.v[i].b.p ? k.v[i].b.p : "";
		char hex[65];
		sha256_hex(text, k.v[i].b.len, hex);
		free(path);
		path = path_join(tmp, k.v[i].name);
		if (write_all(path, text, k.v[i].b.len) != 0)
			goto io;
		json_array_append_new(list, json_pack("{sssIsIss}", "name", k.v[i].name, "records",
		                                      (json_int_t)k.v[i].lines, "bytes",
		                                      (json_int_t)k.v[i].b.len, "sha256", hex));
	}
	mtext = json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS);
	free(path);
	path = path_join(tmp, "manifest.json");
	if (write_all(path, mtext, strlen(mtext)) || fsync_path(tmp) != 0)
		goto io;
	if (!package_verify(tmp, k.n)) {
		rc = kerr_set(ctx->err, KERR_INTERNAL, "archive",
		              "archive package %s did not verify: nothing was deleted", tmp);
		goto out;
	}
	dir_remove(final);
	if (rename(tmp, final) != 0 || fsync_path(dir) != 0)
		goto io;
	goto out;
io:
	rc = kerr_set(ctx->err, KERR_INTERNAL, "archive",
	              "cannot write archive package %s: %s; nothing was deleted", tmp ? tmp : name,
	              strerror(errno));
out:
	free(mtext);
	json_decref(manifest);
	pkg_free(&k);
	free(path);
	free(tmp);
	free(final);
	free(dir);
	return rc;
}
