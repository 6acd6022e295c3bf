/*
 * The application: a data directory opened once at start. It holds the configuration, the
 * field-encryption keys and the current declaration of every register, all read-only after
 * app_open() so every worker thread may share one struct kapp.
 */
#ifndef KORTISTO_APP_H
#define KORTISTO_APP_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/crypto.h"
#include "util/mail.h"

struct decl;
struct kerr;
struct store;

struct config {
	char listen[64]; /* ADDR:PORT */
	int threads;     /* worker threads; 0 = one per CPU */
	size_t max_body; /* request body limit in bytes */
	int page_max;    /* largest page a list returns */

	/* accounts and sign-in (S-02) */
	int password_max_age_days; /* after this, sign-in forces a change; 0 = never */
	int password_history;      /* how many earlier passwords may not be reused */
	bool totp_admins;          /* admins must have a second factor */
	bool totp_managers;        /* register managers must have a second factor */
	int session_idle;          /* seconds without a request before a session ends */
	int session_lifetime;      /* seconds from sign-in before a session ends */
	int signin_delay_after;    /* failures before each attempt must wait (growing delay) */
	int signin_lock_after;     /* failures before a temporary lock */
	int signin_lock_seconds;   /* length of the lock */
	bool secure_cookie_always; /* false: the cookie drops Secure only on plain HTTP on 127.0.0.1 */

	/* usage log (S-04) */
	int usage_log_retention_days; /* entries older than this are pruned; 0 = kept */
	int audit_anchor_interval;    /* seconds between chain-head anchors the server writes */
	char audit_anchor_file[512];  /* where anchors go ("" = DATADIR/audit-anchors.log) */

	/* transport (S-06) */
	char tls_cert[512]; /* PEM files; both empty = plain HTTP (behind a TLS proxy) */
	char tls_key[512];
	int request_timeout; /* seconds a connection may stay idle or slow */

	/* outgoing mail: smtp_* and mail_* keys; mail.url "" = mail is off */
	struct mail_config mail;
	/* retention (L-01, L-07) */
	char archive_dir[512];  /* where archive packages go ("" = DATADIR/archive) */
	int retention_batch;    /* persons or records per transaction of a retention run */
	char retention_time[8]; /* "HH:MM" (UTC) the server runs retention daily; "" = never */
	/* the address people reach kortisto at, for links in mail (unsubscribe, confirmation,
	 * self-service, directory editing); "" = not set: mailings cannot be sent, self-service
	 * and directory editing are off */
	char public_url[256];
};

struct app_register {
	char *id;
	int version;
	struct decl *decl;
};

/* One immutable snapshot of the registers' current declarations. A reload publishes a new
 * snapshot; old ones stay valid (a request may still use one) until app_free(). */
struct registry {
	struct app_register *v; /* sorted by id */
	size_t n;
	char *signature; /* "id:version,…" of what was loaded */
	struct registry *older;
};

struct kapp {
	char *datadir;
	char *dbpath;
	struct config cfg;
	struct keys keys;
	struct registry *_Atomic registry; /* current snapshot */
	bool has_now;                      /* --now given */
	int64_t now;                       /* the fixed time of --now */
};

/* Creates data directory `dir` (mode 0700): configuration file, key file (0600) and the
 * database with the schema. Refuses a directory that already holds a database. */
int app_init_datadir(const char *dir, struct kerr *err);

/* Opens data directory `dir`. Returns 0 and an app the caller frees with app_free(). */
int app_open(const char *dir, struct kapp **out, struct kerr *err);
void app_free(struct kapp *app); /* accepts NULL */

/* Opens a new connection to the app's database (one per thread). */
int app_connect(const struct kapp *app, struct store **out, struct kerr *err);

/* Re-reads the current declaration of every register from the database when a version
 * changed since the last load (or always, when `force`); *changed (may be NULL) tells. Safe
 * while other threads call app_register(). */
int app_load_registers(struct kapp *app, struct store *db, bool force, bool *changed,
                       struct kerr *err);

/* The current snapshot of registers (never NULL after app_open). */
const struct registry *app_registers(const struct kapp *app);

/* The current declaration of register `rid`, or NULL when there is none. */
const struct decl *app_register(const struct kapp *app, const char *rid);

/* The time to act at: --now when given, else the clock (unix seconds). */
int64_t app_now(const struct kapp *app);

#endif
