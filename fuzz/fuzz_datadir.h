/*
 * The data directory the fuzz harnesses share: made once in /tmp with rauma-crm loaded, with
 * a context acting as the operator, and removed when a run ends normally. A harness that
 * needs more registers loads them with fz_add_register() after fz_setup(). Include once,
 * after defining HARNESS (the harness's name in messages).
 */
#ifndef KORTISTO_FUZZ_DATADIR_H
#define KORTISTO_FUZZ_DATADIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/app.h"
#include "core/ctx.h"
#include "core/register.h"
#include "decl/decl.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/crypto.h"
#include "util/kerr.h"

#define RID "rauma-crm"

static struct {
	char dir[64];
	struct kapp *app;
	struct store *db;
	struct arena mem;
	struct kerr err;
	struct actor actor;
	struct kctx ctx;
} fz;

/* Aborts the run so that libFuzzer records the input that broke an invariant. */
static void require(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, HARNESS ": %s (rc %d: %s)\n", what, fz.err.code, fz.err.message);
		abort();
	}
}

static void die(const char *what)
{
	fprintf(stderr, HARNESS ": setup: %s: %s\n", what, fz.err.message);
	exit(1);
}

/* The declaration file of register `rid`: for RID $FUZZ_REGISTER when set, else
 * registers/RID.yaml next to this file's directory, else relative to the working directory. */
static char *read_register(const char *rid, size_t *len)
{
	char path[4096], rel[256];
	const char *env = strcmp(rid, RID) == 0 ? getenv("FUZZ_REGISTER") : NULL;
	const char *slash = strrchr(__FILE__, '/');
	snprintf(rel, sizeof(rel), "registers/%s.yaml", rid);
	if (env)
		snprintf(path, sizeof(path), "%s", env);
	else if (slash)
		snprintf(path, sizeof(path), "%.*s/../%s", (int)(slash - __FILE__), __FILE__, rel);
	else
		snprintf(path, sizeof(path), "%s", rel);
	FILE *f = fopen(path, "rb");
	if (!f && !env)
		f = fopen(rel, "rb");
	if (!f)
		die(path);
	char *text = malloc(1 << 20);
	if (!text)
		die("out of memory");
	*len = fread(text, 1, (1 << 20) - 1, f);
	text[*len] = '\0';
	fclose(f);
	return text;
}

/* Removes the data directory when the run ends normally (a crash leaves it for study). */
static void cleanup(void)
{
	static const char *const files[] = {"kortisto.db", "kortisto.db-wal", "kortisto.db-shm",
	                                    "kortisto.conf", "field.key"};
	char path[128];
	store_close(fz.db);
	app_free(fz.app);
	arena_free(&fz.mem);
	if (getenv("FUZZ_KEEP"))
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fz.dir, files[i]);
		unlink(path);
	}
	rmdir(fz.dir);
}

/* Loads register `rid` (registers/RID.yaml, see read_register) into the data directory; for
 * fz_setup(), and for harnesses that need more registers than RID, after it. */
static void fz_add_register(const char *rid)
{
	size_t len = 0;
	char file[256];
	char *text = read_register(rid, &len);
	struct decl_diags dg = {0};
	int version = 0;
	bool unchanged = false;
	snprintf(file, sizeof(file), "%s.yaml", rid);
	if (register_load(&fz.ctx, file, text, len, &dg, &version, &unchanged, NULL))
		die("register_load");
	decl_diags_free(&dg);
	free(text);
	if (app_load_registers(fz.app, fz.db, true, NULL, &fz.err) || !app_register(fz.app, rid))
		die("app_load_registers");
}

/* Creates the data directory and the context (the body of LLVMFuzzerInitialize). */
static void fz_setup(void)
{
	if (crypto_start() != 0)
		die("crypto_start");
	snprintf(fz.dir, sizeof(fz.dir), "/tmp/kortisto-" HARNESS "-XXXXXX");
	if (!mkdtemp(fz.dir))
		die("mkdtemp");
	if (app_init_datadir(fz.dir, &fz.err) || app_open(fz.dir, &fz.app, &fz.err) ||
	    app_connect(fz.app, &fz.db, &fz.err))
		die(fz.dir);
	/* Durability is not under test; without a sync per commit the fuzzer runs far faster. */
	if (store_exec_script(fz.db, "PRAGMA synchronous = OFF", &fz.err))
		die("pragma");
	arena_init(&fz.mem);
	fz.actor.kind = ACTOR_OPERATOR;
	fz.actor.name = "operator:fuzz";
	fz.ctx.db = fz.db;
	fz.ctx.actor = &fz.actor;
	fz.ctx.purpose = "customer_contact";
	fz.ctx.mem = &fz.mem;
	fz.ctx.err = &fz.err;
	fz.ctx.app = fz.app;
	kctx_set_now(&fz.ctx, 1767225600);

	fz_add_register(RID);
	fprintf(stderr, HARNESS ": data directory %s\n", fz.dir);
	atexit(cleanup);
}

#endif
