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
	bool admin;                 /* an admin user; for a token only without register or role
	                             * cap, so a limited token never carries admin rights */
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

/*
 * Rights to change accounts, checked here in core/ and not by the callers: the operator may
 * do everything; an admin user (through a session, or a token without register or role cap)
 * may manage users, tokens, grants and the commitment; a manager of a register may grant
 * and revoke roles on it; every user may change their own password, second factor and
 * tokens and accept the commitment. Tokens never change a password or a second factor.
 */

/* Creates user `name` (3–64 of [a-z0-9._-]) with `password` (may be NULL: no password until
 * `user passwd`; the account cannot sign in). The password must satisfy the policy; it is not
 * marked for change (set it with account_set_password(…, true) for that). Operator or admin;
 * KERR_CONFLICT when the name is taken. *id (may be NULL) gets the new id. */
int account_add(struct kctx *ctx, const char *name, bool admin, const char *password, int64_t *id);

/* Lists users as a JSON array (name, admin, active, created, password age, totp, grants);
 * the caller owns *out. Operator or admin. */
int account_list(struct kctx *ctx, json_t **out);

/* Deactivates a user: no sign-in, every session and token ends at once and every grant is
 * revoked (who and when recorded). KERR_CONFLICT when already deactivated. */
int account_deactivate(struct kctx *ctx, const char *name);

/* Sets a user's password after checking the policy and the history (the current and the
 * last cfg.password_history passwords may not be reused). With `old` the user changes their
 * own password and `old` must be the current one (KERR_INVALID, field "old"); `old` NULL is
 * for an operator or admin, and also ends the user's sessions. `force_change` makes the user
 * change it at the next sign-in. Argon2id work is done outside the write transaction;
 * KERR_CONFLICT when the password changed meanwhile. */
int account_set_password(struct kctx *ctx, int64_t user_id, const char *old, const char *password,
                         bool force_change);

/* Looks a user up by name; KERR_NOTFOUND when unknown. */
int account_find(struct kctx *ctx, const char *name, int64_t *id);

/* Whether ctx->actor is the operator or an active admin: 0, or KERR_FORBIDDEN. */
int account_require_admin(struct kctx *ctx);

/* Whether ctx->actor may grant and revoke roles on `rid` (operator, admin, or a manager of
 * `rid`): 0, or KERR_FORBIDDEN. */
int account_may_grant(struct kctx *ctx, const char *rid);

/* Checks `password` against the policy (length ≥ 12, not the user name, not in the list of
 * common passwords). Returns 0 or KERR_INVALID with field "password". */
int password_policy_check(struct kctx *ctx, const char *user, const char *password);

/* ------------------------------------------------------------------ TOTP (RFC 6238) */

/* Starts enrolment: stores a new secret (unconfirmed; a confirmed earlier one stays in
 * force until then) and returns the otpauth:// URI in ctx->mem. The user only. */
int account_totp_begin(struct kctx *ctx, int64_t user_id, const char **uri);

/* Confirms enrolment with a current code (KERR_INVALID, field "code", when it does not
 * match; KERR_CONFLICT without an enrolment begun); from then on sign-in requires a code. */
int account_totp_confirm(struct kctx *ctx, int64_t user_id, const char *code);

/* Removes the second factor (operator or admin). */
int account_totp_remove(struct kctx *ctx, int64_t user_id);

/* ------------------------------------------------------------------ for core/ only */

/* One user's stored account state; strings and blobs live in ctx->mem. */
struct account_row {
	int64_t id;
	const char *name;
	bool admin, active, must_change, totp_confirmed;
	const char *pw_hash; /* Argon2id string, or NULL */
	int64_t pw_changed_at;
	const unsigned char *totp_sealed, *totp_pending; /* NULL when none */
	size_t totp_sealed_len, totp_pending_len;
	int64_t totp_last_step; /* 0: no code accepted yet */
};

/* The principal ctx->actor stands for, for rights checks in core/: the operator as an admin
 * without user; a user or token read from the store (a token's caps included, admin only
 * when uncapped). KERR_FORBIDDEN for anyone else, or a deactivated user, or a token that was
 * revoked or expired. */
int account_actor(struct kctx *ctx, struct principal *p);

/* Reads user `id`, or user `name` when id is 0. Returns 1 and fills *out when found, 0 when
 * not (no error recorded, so sign-in can treat unknown names like others), or KERR_*. */
int account_read(struct kctx *ctx, int64_t id, const char *name, struct account_row *out);

/* Reads user `id` into *out. Returns 0, or KERR_NOTFOUND recorded ("user N not found") when
 * there is no such user, or another KERR_*. Strings and blobs of *out live in ctx->mem. */
int account_get(struct kctx *ctx, int64_t id, struct account_row *out);

/* Checks a 6-digit TOTP `code` against a sealed secret at ctx->now, one 30-second step
 * either side, refusing steps at or before `last_step` (a code works once). Sets *ok and,
 * when ok, *step to the matching time step. Returns 0, or KERR_INTERNAL when the secret
 * cannot be opened with this data directory's key. */
int account_totp_match(struct kctx *ctx, const unsigned char *sealed, size_t n, int64_t last_step,
                       const char *code, bool *ok, int64_t *step);

/* What a session of `u` must do first: "password" (must_change or the password is older than
 * cfg.password_max_age_days), else "totp" (a second factor is required for admins or
 * managers by the configuration and `u` has none), else NULL. */
int account_restriction(struct kctx *ctx, const struct account_row *u, const char **out);

/* ------------------------------------------------------------------ grants */

/* Gives `user` role `role` on register `rid` (replacing an earlier grant there, which is
 * recorded as revoked by the actor). A processor grant names a recipient of kind processor
 * declared by `rid` (`processor`, else NULL). The actor must be the operator, an admin or a
 * manager of `rid` (checked here through account_may_grant()). KERR_NOTFOUND for an unknown
 * register, KERR_REFUSED for an undeclared processor or a deactivated user. */
int grant_add(struct kctx *ctx, int64_t user_id, const char *rid, enum role role,
              const char *processor);
/* Revokes the user's grant on `rid`; KERR_NOTFOUND when there is none. */
int grant_revoke(struct kctx *ctx, int64_t user_id, const char *rid);

/* The grants of register `rid` (or of every register when NULL: operator or admin) as a JSON
 * array the caller owns, including revoked ones when `history`. */
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
 * KERR_THROTTLED with retry_after. The password is verified outside any transaction; the
 * outcome (session, throttle counters, usage log) is written in one write transaction. */
int auth_signin(struct kctx *ctx, const char *name, const char *password, const char *otp,
                struct signin_result *out);

/* Ends the session of `token` (a no-op for an unknown one). */
int auth_signout(struct kctx *ctx, const char *token);

/* Re-evaluates the restriction of the session of `token` after the user changed their
 * password or enrolled a second factor, and stores it; *restriction (may be NULL) gets the
 * new one. A no-op for a bearer token; KERR_UNAUTH for an unknown session. */
int auth_session_refresh(struct kctx *ctx, const char *token, const char **restriction);

/* Resolves a session token (the cookie value) or a bearer token to a principal. Checks the
 * idle timeout, absolute lifetime, expiry, revocation and that the user is active; KERR_UNAUTH
 * otherwise. Read-only: run inside the request's read transaction. *touch is set when the
 * session's last-seen time should be written (at most once a minute): the caller then calls
 * auth_touch() outside the read transaction. */
int auth_session(struct kctx *ctx, const char *token, struct principal *out, bool *touch);
int auth_bearer(struct kctx *ctx, const char *token, struct principal *out, bool *touch);
int auth_touch(struct kctx *ctx, const struct principal *p, const char *token);

/* The principal's role on register `rid` (tokens capped by their register and role), and for
 * a processor the declared processor id (in ctx->mem; `processor` may be NULL). One indexed
 * lookup, no writes. Admins have no role unless granted one. A token's cap works so:
 *   - a token limited to another register has ROLE_NONE there;
 *   - a capped token gets min(the user's role, cap), except that the processor role is not
 *     a step between none and viewer but a separate, narrower scope: a processor grant stays
 *     processor under any cap, and a cap of processor on a viewer, editor or manager gives
 *     ROLE_NONE (there is no declared processor whose categories it could be limited to). */
enum role auth_role(struct kctx *ctx, const struct principal *p, const char *rid,
                    const char **processor);

/* The principal's roles as a JSON array [{register, role, processor}] the caller owns, with
 * a token's caps applied as auth_role() does. */
int auth_roles(struct kctx *ctx, const struct principal *p, json_t **out);

/* Creates an API token for `user_id`, limited to `rid` and `role` when given, expiring at
 * `expires` (unix seconds, 0 = never). The token is written to `token` (64 bytes) once. A token
 * never has more rights than its user: the cap is applied on every request, and a cap above
 * the user's current role on `rid` (or on any register, without `rid`) is refused
 * (KERR_FORBIDDEN). Operator, admin, or the user. Lists: operator, admin or the user; the
 * caller owns *out. Revoking: operator, admin or the token's user; KERR_CONFLICT when already
 * revoked. */
int token_create(struct kctx *ctx, int64_t user_id, const char *rid, enum role role,
                 int64_t expires, char token[64], int64_t *id);
int token_list(struct kctx *ctx, int64_t user_id, json_t **out); /* user_id 0: all */
int token_revoke(struct kctx *ctx, int64_t token_id);

/* ------------------------------------------------------------------ the commitment (S-05) */

/* Stores a new version of the commitment text (1–65536 bytes of UTF-8); returns its version.
 * Operator or admin. */
int commitment_set(struct kctx *ctx, const char *text, int *version);

/* Stores the default Finnish and English commitment as version 1 when none exists yet. */
int commitment_ensure_default(struct kctx *ctx);

/* The current version and text (version 0 and NULL when none was ever set); the text is in
 * ctx->mem (`text` may be NULL). Read-only. */
int commitment_current(struct kctx *ctx, int *version, const char **text);

/* Records that the user accepted `version`, which must be the current one (KERR_CONFLICT
 * otherwise). Only the user, signed in with a session, accepts for themselves. */
int commitment_accept(struct kctx *ctx, int64_t user_id, int version);

/* Who accepted which version, as a JSON array the caller owns. Operator or admin. */
int commitment_list(struct kctx *ctx, json_t **out);

/* ------------------------------------------------------------------ maintenance */

/* Ends expired and idle sessions, ends sign-in locks that ran out (logging "signin.unlock"
 * for each) and forgets failures too old to count. One write transaction. */
int auth_sweep(struct kctx *ctx);

#endif
