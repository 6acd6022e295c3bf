/*
 * Staff accounts and what they may do (S-01, S-02, S-03, S-05, S-09): users with Argon2id
 * passwords and an optional TOTP second factor, roles per register, sign-in with throttling,
 * sessions and API tokens (stored only as hashes), and the confidentiality commitment.
 * Every change here is written to the usage log in the same transaction.
 */
#ifndef KORTISTO_ACCOUNT_H
#define KORTISTO_ACCOUNT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kctx;

/* Roles on one register, in increasing order of what they allow. A processor reads only the
 * categories its declared processor entry is given; it never writes. */
enum role { ROLE_NONE, ROLE_PROCESSOR, ROLE_VIEWER, ROLE_EDITOR, ROLE_MANAGER, ROLE__MAX };

const char *role_name(enum role r);            /* "viewer", … ("none" for ROLE_NONE) */
int role_parse(const char *s, enum role *out); /* 0, or -1 for an unknown name */

/* Who a request acts as, resolved from a session cookie or a bearer token. The strings live
 * in ctx->mem. */
struct principal {
	int64_t user_id;
	const char *user_name;
	bool admin;
	int64_t token_id;           /* 0 for a session */
	const char *token_register; /* a token limited to one register, or NULL */
	enum role token_role;       /* a token's role cap, or ROLE_NONE for none */
	const char *csrf;           /* the session's CSRF token; NULL for bearer tokens */
	const char *restriction;    /* NULL, or what the session must do first: "password",
	                             * "totp" (only /api/v1/me… and sign-out are allowed) */
	int commitment_accepted;    /* latest commitment version the user accepted, 0 = none */
	int commitment_current;     /* current commitment version, 0 = none exists */
	int64_t expires;            /* unix seconds: when the session or token ends (0 = never) */
};

/* ------------------------------------------------------------------ users (operator, admin) */

/* Creates user `name` (3–64 of [a-z0-9._-]) with `password` (may be NULL: no password until
 * `user passwd`; the account cannot sign in). The password must satisfy the policy. */
int account_add(struct kctx *ctx, const char *name, bool admin, const char *password, int64_t *id);

/* Lists users as a JSON array (name, admin, active, created, password age, totp, grants). */
int account_list(struct kctx *ctx, json_t **out);

/* Deactivates a user: no sign-in, every session and token ends at once. */
int account_deactivate(struct kctx *ctx, const char *name);

/* Sets a user's password (checks the policy and history; `old` NULL when an operator or admin
 * sets it, which also makes the user change it at next sign-in unless `keep`). */
int account_set_password(struct kctx *ctx, int64_t user_id, const char *old, const char *password,
                         bool force_change);

/* Looks a user up by name; KERR_NOTFOUND when unknown. */
int account_find(struct kctx *ctx, const char *name, int64_t *id);

/* Checks `password` against the policy (length ≥ 12, not the user name, not in the list of
 * common passwords). Returns 0 or KERR_INVALID with field "password". */
int password_policy_check(struct kctx *ctx, const char *user, const char *password);

/* ------------------------------------------------------------------ TOTP (RFC 6238) */

/* Starts enrolment: stores a new secret (unconfirmed) and returns the otpauth:// URI. */
int account_totp_begin(struct kctx *ctx, int64_t user_id, const char **uri);

/* Confirms enrolment with a current code; from then on sign-in requires a code. */
int account_totp_confirm(struct kctx *ctx, int64_t user_id, const char *code);

/* Removes the second factor (operator or admin). */
int account_totp_remove(struct kctx *ctx, int64_t user_id);

/* ------------------------------------------------------------------ grants */

/* Gives `user` role `role` on register `rid` (replacing an earlier grant there). A processor
 * grant names the declared processor (`processor`, else NULL). The actor must be the
 * operator, an admin or a manager of `rid` (checked by the caller through
 * account_may_grant()). */
int grant_add(struct kctx *ctx, int64_t user_id, const char *rid, enum role role,
              const char *processor);
int grant_revoke(struct kctx *ctx, int64_t user_id, const char *rid);

/* The grants of register `rid` (or of every register when NULL) as a JSON array, including
 * revoked ones when `history`. */
int grant_list(struct kctx *ctx, const char *rid, bool history, json_t **out);

/* ------------------------------------------------------------------ sign-in, sessions, tokens */

struct signin_result {
	char token[64]; /* the session token (cookie value), shown once */
	char csrf[64];
	const char *restriction; /* NULL, "password" or "totp" */
	int64_t expires;
	int64_t retry_after; /* with KERR_THROTTLED: seconds to wait */
};

/* Signs in. Unknown user, wrong password, missing or wrong code and a deactivated account
 * all give the same KERR_UNAUTH message after the same work. Throttled attempts give
 * KERR_THROTTLED with retry_after. Runs its own write transaction. */
int auth_signin(struct kctx *ctx, const char *name, const char *password, const char *otp,
                struct signin_result *out);

/* Ends the session of `token` (a no-op for an unknown one). */
int auth_signout(struct kctx *ctx, const char *token);

/* Resolves a session token (the cookie value) or a bearer token to a principal. Checks the
 * idle timeout, absolute lifetime, expiry, revocation and that the user is active; KERR_UNAUTH
 * otherwise. Read-only: run inside the request's read transaction. *touch is set when the
 * session's last-seen time should be written (at most once a minute): the caller then calls
 * auth_touch() outside the read transaction. */
int auth_session(struct kctx *ctx, const char *token, struct principal *out, bool *touch);
int auth_bearer(struct kctx *ctx, const char *token, struct principal *out, bool *touch);
int auth_touch(struct kctx *ctx, const struct principal *p, const char *token);

/* The principal's role on register `rid` (tokens capped by their register and role), and for
 * a processor the declared processor id. */
enum role auth_role(struct kctx *ctx, const struct principal *p, const char *rid,
                    const char **processor);

/* Creates an API token for `user_id`, limited to `rid` and `role` when given, expiring at
 * `expires` (unix seconds, 0 = never). The token is written to `token` (64 bytes) once. A token
 * never has more rights than its user: the cap is applied on every request. */
int token_create(struct kctx *ctx, int64_t user_id, const char *rid, enum role role,
                 int64_t expires, char token[64], int64_t *id);
int token_list(struct kctx *ctx, int64_t user_id, json_t **out); /* user_id 0: all */
int token_revoke(struct kctx *ctx, int64_t token_id);

/* ------------------------------------------------------------------ the commitment (S-05) */

/* Stores a new version of the commitment text; returns its version. */
int commitment_set(struct kctx *ctx, const char *text, int *version);

/* The current version and text (version 0 and NULL when none was ever set). */
int commitment_current(struct kctx *ctx, int *version, const char **text);

/* Records that the user accepted `version`, which must be the current one. */
int commitment_accept(struct kctx *ctx, int64_t user_id, int version);

/* Who accepted which version, as a JSON array. */
int commitment_list(struct kctx *ctx, json_t **out);

/* ------------------------------------------------------------------ maintenance */

/* Ends expired sessions, logs the end of sign-in locks that ran out. */
int auth_sweep(struct kctx *ctx);

#endif
