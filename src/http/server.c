/*
 * The HTTP server on libmicrohttpd: a thread pool with epoll, one SQLite connection per
 * worker thread (a pthread key closes it when the thread ends). Requests are answered on the
 * second call of the access handler, never the first, so connections stay alive between
 * requests; bodies are capped and slow clients time out.
 */
#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <strings.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/app.h"
#include "audit/audit.h"
#include "audit/logwriter.h"
#include "audit/usage.h"
#include "core/account.h"
#include "core/retention.h"
#include "core/search.h"
#include "core/selfservice.h"
#include "decl/decl.h"
#include "http/http.h"
#include "http/sendq.h"
#include "store/store.h"
#include "util/timeutil.h"
#include "util/xmalloc.h"

struct server {
	struct kapp *app;
	pthread_key_t db_key;
	struct logwriter *log;    /* group-commits the usage-log entries of reads */
	bool tls;                 /* serving HTTPS itself */
	bool cookie_secure;       /* the session cookie carries Secure */
	unsigned boot;            /* random prefix of request ids */
	atomic_uint_fast64_t seq; /* request counter */
	/* the daily retention sweep: its thread, whether it runs, the stop request, the day it
	 * last started (UTC) */
	pthread_t sweeper;
	bool sweeper_started;
	atomic_bool sweeping, stop_sweep;
	char swept_day[11];
	struct sendq *sendq; /* the mailings sent in the background (sendq.h) */
};

struct sendq *server_sendq(const struct server *srv)
{
	return srv->sendq;
}

static void db_destroy(void *p)
{
	store_close(p);
}

static struct store *thread_db(struct server *srv, struct kerr *err)
{
	struct store *db = pthread_getspecific(srv->db_key);
	if (!db && app_connect(srv->app, &db, err) == 0)
		pthread_setspecific(srv->db_key, db);
	return db;
}

/* ---------------------------------------------------------------- responses */

static void add_security_headers(struct MHD_Response *resp)
{
	/* (HSTS is added at queue time, when the server itself serves TLS.) */
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy",
	                        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
	                        "form-action 'self'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static void set_response(struct req *r, unsigned status, const char *type, void *data, size_t len,
                         enum MHD_ResponseMemoryMode mode)
{
	if (r->resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(data);
		return;
	}
	r->resp = MHD_create_response_from_buffer(len, data, mode);
	if (type)
		MHD_add_response_header(r->resp, "Content-Type", type);
	add_security_headers(r->resp);
	r->status = status;
}

void reply_text(struct req *r, unsigned status, const char *type, const char *body, size_t len)
{
	set_response(r, status, type, (void *)body, len, MHD_RESPMEM_MUST_COPY);
}

void reply_json(struct req *r, unsigned status, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	size_t len = strlen(s);
	s[len] = '\0';
	set_response(r, status, "application/json", s, len, MHD_RESPMEM_MUST_FREE);
}

void reply_buf(struct req *r, unsigned status, const char *type, struct buf *b)
{
	if (!b->p)
		buf_append(b, "", 0);
	set_response(r, status, type, b->p, b->len, MHD_RESPMEM_MUST_FREE);
	b->p = NULL;
	b->len = b->cap = 0;
}

void reply_html(struct req *r, unsigned status, struct buf *html)
{
	set_response(r, status, "text/html; charset=utf-8", html->p, html->len,
	             MHD_RESPMEM_MUST_FREE);
	html->p = NULL;
	html->len = html->cap = 0;
}

static const char *problem_slug(int code)
{
	switch (code) {
	case KERR_INVALID: return "invalid";
	case KERR_NOTFOUND: return "not-found";
	case KERR_CONFLICT: return "conflict";
	case KERR_REFUSED: return "refused-by-declaration";
	case KERR_FORBIDDEN: return "forbidden";
	case KERR_UNAUTH: return "unauthorised";
	case KERR_TOOLARGE: return "too-large";
	case KERR_BUSY: return "busy";
	case KERR_THROTTLED: return "throttled";
	case KERR_SUPPRESSED: return "suppressed";
	default: return "internal";
	}
}

/* Builds and sets a problem+json response with an explicit HTTP status. */
static void problem(struct req *r, unsigned status, int code)
{
	json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type",
	                      arena_printf(&r->mem, "/problems/%s",
	                                   status == 405     ? "method-not-allowed"
	                                   : r->problem_type ? r->problem_type
	                                                     : problem_slug(code)),
	                      "title", status == 405 ? "Method not allowed" : kerr_title(code),
	                      "status", (int)status, "detail",
	                      r->err.message[0] ? r->err.message : kerr_title(code));
	if (r->err.field[0])
		json_object_set_new(p, "errors",
		                    json_pack("[{s:s, s:s}]", "field", r->err.field, "message",
		                              r->err.message));
	if (status >= 500)
		fprintf(stderr, "kortisto: %s %s: %s\n", r->method,
		        r->route ? r->route->pattern : "", r->err.message);
	char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (!s) {
		/* Cannot happen with kerr_set's valid UTF-8; never crash on it either. */
		static const char fallback[] =
		        "{\"type\":\"/problems/internal\",\"title\":\"Internal error\","
		        "\"status\":500,\"detail\":\"the error could not be described\"}";
		set_response(r, 500, "application/problem+json", (void *)fallback,
		             sizeof(fallback) - 1, MHD_RESPMEM_PERSISTENT);
		return;
	}
	set_response(r, status, "application/problem+json", s, strlen(s), MHD_RESPMEM_MUST_FREE);
}

void reply_problem(struct req *r)
{
	int code = r->err.code ? r->err.code : KERR_INTERNAL;
	problem(r, (unsigned)kerr_http_status(code), code);
}

void reply_status(struct req *r, unsigned status, const char *detail)
{
	int code = status == 404 ? KERR_NOTFOUND : status == 413 ? KERR_TOOLARGE : KERR_INVALID;
	kerr_set(&r->err, code, NULL, "%s", detail);
	problem(r, status, code);
}

void reply_core(struct req *r, int rc, unsigned ok_status, json_t *body)
{
	if (rc == 0) {
		reply_json(r, ok_status, body ? body : json_object());
		return;
	}
	json_decref(body);
	reply_problem(r);
}

/* ---------------------------------------------------------------- request helpers */

json_t *req_json_or_reply(struct req *r)
{
	json_error_t jerr;
	if (r->body.len == 0) {
		kerr_set(&r->err, KERR_INVALID, NULL, "the request needs a JSON body");
		reply_problem(r);
		return NULL;
	}
	json_t *j = json_loadb(r->body.p, r->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		/* jansson's text may quote the offending token, which may be personal data: keep
		 * only the part before "near". */
		char *near = strstr(jerr.text, " near ");
		if (near)
			*near = '\0';
		kerr_set(&r->err, KERR_INVALID, NULL, "malformed JSON at line %d, column %d: %s",
		         jerr.line, jerr.column, jerr.text);
		reply_problem(r);
		return NULL;
	}
	return j;
}

const char *req_arg(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool req_int_arg_or_reply(struct req *r, const char *name, long long def, long long min,
                          long long max, long long *out)
{
	const char *s = req_arg(r, name);
	*out = def;
	if (!s)
		return true;
	long long v = 0;
	bool ok = *s != '\0' && strlen(s) <= 19;
	for (const char *p = s; ok && *p; p++) {
		int digit = *p - '0';
		if (digit < 0 || digit > 9 || v > (max - digit) / 10)
			ok = false;
		else
			v = v * 10 + digit;
	}
	if (!ok || v < min || v > max) {
		kerr_set(&r->err, KERR_INVALID, name, "%s: must be an integer from %lld to %lld",
		         name, min, max);
		reply_problem(r);
		return false;
	}
	*out = v;
	return true;
}

/* ---------------------------------------------------------------- dispatch */

static const char *client_address(struct req *r)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char addr[INET6_ADDRSTRLEN] = "unknown";
	if (ci && ci->client_addr) {
		if (ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
			          addr, sizeof(addr));
		else if (ci->client_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
			          &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, addr,
			          sizeof(addr));
	}
	return arena_strdup(&r->mem, addr);
}

bool server_tls(const struct server *srv)
{
	return srv->tls;
}

bool server_cookie_secure(const struct server *srv)
{
	return !srv || srv->cookie_secure;
}

void reply_session_cookie(struct req *r, const char *token, int64_t max_age)
{
	bool secure = !r->srv || r->srv->cookie_secure;
	r->set_cookie =
	        arena_printf(&r->mem,
	                     "kortisto_session=%s; Path=/; Max-Age=%lld; HttpOnly; "
	                     "SameSite=Strict%s",
	                     max_age > 0 ? token : "", (long long)(max_age > 0 ? max_age : 0),
	                     secure ? "; Secure" : "");
}

/* Reads of personal data reach the usage log through here: the entry is kept with the
 * request and written by the log writer before the response may leave. */
static int usage_sink(struct kctx *ctx, const struct usage_entry *e)
{
	struct req *r = ctx->usage_arg;
	if (r->nreads == r->reads_cap) {
		size_t cap = r->reads_cap ? r->reads_cap * 2 : 2;
		struct usage_entry *v = arena_alloc(&r->mem, cap * sizeof(*v));
		if (r->nreads)
			memcpy(v, r->reads, r->nreads * sizeof(*v));
		r->reads = v;
		r->reads_cap = cap;
	}
	struct usage_entry *c = &r->reads[r->nreads++];
	*c = *e;
	c->action = arena_strdup(&r->mem, e->action);
	c->rid = e->rid ? arena_strdup(&r->mem, e->rid) : NULL;
	c->entity = e->entity ? arena_strdup(&r->mem, e->entity) : NULL;
	c->reason = e->reason ? arena_strdup(&r->mem, e->reason) : NULL;
	if (e->nsubjects) {
		int64_t *ids = arena_alloc(&r->mem, e->nsubjects * sizeof(*ids));
		memcpy(ids, e->subjects, e->nsubjects * sizeof(*ids));
		c->subjects = ids;
	}
	return 0;
}

/* Replies with a problem of HTTP status `status` and type slug `type`. */
static void deny(struct req *r, int code, const char *type, const char *fmt, const char *arg)
{
	kerr_set(&r->err, code, NULL, fmt, arg ? arg : "");
	r->problem_type = type;
	reply_problem(r);
}

/* The token a request carries: "Authorization: Bearer …" or the session cookie. */
static const char *request_token(struct req *r, bool *bearer)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	*bearer = false;
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		*bearer = true;
		h += 7;
		while (*h == ' ')
			h++;
		return *h ? h : NULL;
	}
	const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "kortisto_session");
	return c && *c ? c : NULL;
}

static bool safe_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* Checks that r->who may call r->route; replies and returns false when not. */
static bool authorise(struct req *r)
{
	const struct route *rt = r->route;
	if (rt->access == AC_PUBLIC)
		return true;
	if (!r->signed_in) {
		deny(r, KERR_UNAUTH, "unauthorised",
		     "sign in first (POST /api/v1/session) or send "
		     "an API token%s",
		     NULL);
		return false;
	}
	/* A cookie is sent by the browser on its own: a state change must also prove it comes
	 * from kortisto's own page (the CSRF token it was given at sign-in). */
	if (!r->who.token_id && !safe_method(r->method)) {
		const char *t =
		        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
		size_t n = r->who.csrf ? strlen(r->who.csrf) : 0;
		if (!t || !n || strlen(t) != n || sodium_memcmp(t, r->who.csrf, n) != 0) {
			deny(r, KERR_FORBIDDEN, "csrf",
			     "the X-CSRF-Token header is missing or wrong%s", NULL);
			return false;
		}
	}
	if (rt->access == AC_SESSION && r->who.token_id) {
		deny(r, KERR_FORBIDDEN, "forbidden",
		     "only the user, signed in with a session, may do this (not an API token)%s",
		     NULL);
		return false;
	}
	if (rt->access == AC_ACCOUNT || rt->access == AC_SESSION)
		return true;
	if (r->who.restriction) {
		bool pw = strcmp(r->who.restriction, "password") == 0;
		deny(r, KERR_FORBIDDEN, pw ? "password-change-required" : "second-factor-required",
		     pw ? "change your password first (PUT /api/v1/me/password)%s"
		        : "enrol a second factor first (POST /api/v1/me/totp)%s",
		     NULL);
		return false;
	}
	if (rt->access == AC_USER)
		return true;
	if (rt->access == AC_ADMIN) {
		if (r->who.admin)
			return true;
		deny(r, KERR_FORBIDDEN, "forbidden", "only an admin may do this%s", NULL);
		return false;
	}
	/* AC_REGISTER */
	const struct decl *d = app_register(r->ctx.app, r->rid);
	if (!d) {
		deny(r, KERR_NOTFOUND, "not-found", "register '%s' not found", r->rid);
		return false;
	}
	const char *processor = NULL;
	r->role = auth_role(&r->ctx, &r->who, r->rid, &processor);
	if (r->role < rt->role && !(rt->admin_ok && r->who.admin)) {
		deny(r, KERR_FORBIDDEN, "forbidden",
		     r->role == ROLE_NONE ? "you have no role on register '%s'"
		                          : "your role on register '%s' does not allow this",
		     r->rid);
		return false;
	}
	if (r->role == ROLE_PROCESSOR) {
		r->ctx.processor = decl_recipient(d, processor);
		if (!r->ctx.processor) {
			deny(r, KERR_FORBIDDEN, "forbidden",
			     "the processor of your role is no longer declared in register '%s'",
			     r->rid);
			return false;
		}
	}
	r->ctx.may_reveal = r->role >= ROLE_EDITOR;
	r->ctx.sees_restricted = r->role >= ROLE_MANAGER;
	if (rt->personal && r->who.commitment_accepted < r->who.commitment_current) {
		kerr_set(&r->err, KERR_FORBIDDEN, NULL,
		         "accept the confidentiality commitment (version %d) first: GET and POST "
		         "/api/v1/me/commitment",
		         r->who.commitment_current);
		r->problem_type = "commitment-required";
		reply_problem(r);
		return false;
	}
	return true;
}

/* Resolves the request's token to r->who, inside the caller's read transaction. Returns 0
 * (signed in, or no token), or KERR_* for a token that is not (or no longer) valid; sets
 * *touch when the token's last-use time is due to be written. */
static int authenticate(struct req *r, bool *touch)
{
	bool bearer;
	const char *token = request_token(r, &bearer);
	int rc;
	*touch = false;
	if (!token)
		return 0;
	r->token = token;
	rc = bearer ? auth_bearer(&r->ctx, token, &r->who, touch)
	            : auth_session(&r->ctx, token, &r->who, touch);
	if (rc)
		return rc;
	r->signed_in = true;
	if (r->who.token_id) {
		r->actor.kind = ACTOR_TOKEN;
		r->actor.name = arena_printf(&r->mem, "token:%lld:%s", (long long)r->who.token_id,
		                             r->who.user_name);
	} else {
		r->actor.kind = ACTOR_USER;
		r->actor.name = arena_printf(&r->mem, "user:%s", r->who.user_name);
	}
	r->actor.user_id = r->who.user_id;
	r->actor.token_id = r->who.token_id;
	return 0;
}

/* Who asks and whether they may: the token, the role and the commitment are read in one
 * read transaction (the handler opens its own). Replies and returns false when refused. */
static bool identify_and_authorise(struct req *r)
{
	bool touch = false, ok = false;
	int rc;
	if ((rc = store_begin_read(r->ctx.db, &r->err))) {
		reply_problem(r);
		return false;
	}
	rc = authenticate(r, &touch);
	if (rc && r->route->access != AC_PUBLIC) {
		r->problem_type = rc == KERR_UNAUTH ? "unauthorised" : NULL;
		reply_problem(r);
	} else {
		kerr_clear(&r->err);
		ok = authorise(r);
	}
	store_rollback(r->ctx.db);
	/* Outside the read transaction: the idle clock of a session or token. Only that is lost
	 * when it cannot be written; the request itself is fine. */
	if (ok && touch && auth_touch(&r->ctx, &r->who, r->token) != 0)
		kerr_clear(&r->err);
	return ok;
}

static void dispatch(struct server *srv, struct req *r)
{
	unsigned status = 0;
	const char *allow = NULL;

	snprintf(r->request_id, sizeof(r->request_id), "%08x%012llx", srv->boot,
	         (unsigned long long)atomic_fetch_add(&srv->seq, 1));
	if (r->too_large) {
		kerr_set(&r->err, KERR_TOOLARGE, NULL, "the request body is larger than %zu bytes",
		         srv->app->cfg.max_body);
		reply_problem(r);
		return;
	}
	r->route = router_match(r, r->method, r->url, &status, &allow);
	if (!r->route) {
		reply_status(r, status,
		             status == 405 ? "this method is not allowed on this resource"
		                           : "no such resource");
		if (allow && r->resp)
			MHD_add_response_header(r->resp, MHD_HTTP_HEADER_ALLOW, allow);
		return;
	}
	r->actor.kind = ACTOR_ANON;
	r->actor.name = ACTOR_ANON_NAME;
	r->ctx.actor = &r->actor;
	r->ctx.purpose = r->route->purpose;
	r->ctx.mem = &r->mem;
	r->ctx.err = &r->err;
	r->ctx.app = srv->app;
	r->ctx.request_id = r->request_id;
	r->ctx.usage_sink = usage_sink;
	r->ctx.usage_arg = r;
	r->srv = srv;
	kctx_set_now(&r->ctx, app_now(srv->app));
	/* Static pages and the health check need neither the store nor an identity. */
	if (r->route->access != AC_PUBLIC || !safe_method(r->method)) {
		r->client = client_address(r);
		r->ctx.client = r->client;
		r->ctx.db = thread_db(srv, &r->err);
		if (!r->ctx.db) {
			reply_problem(r);
			return;
		}
		if (!identify_and_authorise(r))
			return;
	}
	r->route->handler(r);
	if (!r->resp) {
		kerr_set(&r->err, KERR_INTERNAL, NULL, "the handler gave no answer");
		reply_problem(r);
	}
}

bool req_store_or_reply(struct req *r)
{
	if (!r->ctx.db)
		r->ctx.db = thread_db(r->srv, &r->err);
	if (!r->ctx.db)
		reply_problem(r);
	return r->ctx.db != NULL;
}

/* Called by the log writer once the reads of request `arg` are durable (or failed). */
static void log_done(void *arg, int rc)
{
	struct req *r = arg;
	r->log_rc = rc;
	r->log_pending = false;
	MHD_resume_connection(r->conn);
}

static enum MHD_Result queue(struct server *srv, struct req *r)
{
	if (r->log_rc) {
		/* The reads could not be logged: the data must not leave. */
		MHD_destroy_response(r->resp);
		r->resp = NULL;
		kerr_clear(&r->err);
		kerr_set(&r->err, KERR_BUSY, NULL, "the usage log cannot be written; try again");
		reply_problem(r);
	}
	if (r->set_cookie)
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
	if (r->retry_after > 0) {
		char v[24];
		snprintf(v, sizeof(v), "%lld", (long long)r->retry_after);
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	if (r->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"kortisto\"");
	if (srv->tls)
		MHD_add_response_header(r->resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY,
		                        "max-age=31536000");
	MHD_add_response_header(r->resp, "X-Request-Id", r->request_id);
	enum MHD_Result ret = MHD_queue_response(r->conn, r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct req *r = *con_cls;
	(void)version;

	if (!r) {
		/* First call: set up the request state only (keeps the connection alive). */
		r = xcalloc(1, sizeof(*r));
		r->conn = conn;
		r->method = method;
		r->url = url;
		arena_init(&r->mem);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (r->body.len + *upload_data_size > srv->app->cfg.max_body)
			r->too_large = true;
		else
			buf_append(&r->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->log_pending)
		return MHD_YES;
	if (!r->dispatched) {
		r->dispatched = true;
		dispatch(srv, r);
		if (r->nreads && r->status < 400) {
			/* Hold the response until its reads are in the usage log; meanwhile this
			 * thread serves other connections. */
			r->log_pending = true;
			MHD_suspend_connection(conn);
			int rc = logwriter_submit(srv->log, &r->ctx, r->reads, r->nreads, log_done,
			                          r);
			if (rc) {
				r->log_pending = false;
				r->log_rc = rc;
				MHD_resume_connection(conn);
			}
			return MHD_YES;
		}
	}
	return queue(srv, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	if (r->resp)
		MHD_destroy_response(r->resp);
	buf_free(&r->body);
	arena_free(&r->mem);
	free(r);
	*con_cls = NULL;
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, struct kerr *err)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	memset(sa, 0, sizeof(*sa));
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return kerr_set(err, KERR_INVALID, "listen",
		                "listen: expected ADDR:PORT, e.g. 127.0.0.1:8080");
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	long port = 0;
	const char *p = colon + 1;
	if (!*p)
		port = -1;
	for (; *p && port >= 0; p++)
		port = (*p >= '0' && *p <= '9' && port < 70000) ? port * 10 + (*p - '0') : -1;
	if (port < 0 || port > 65535)
		return kerr_set(err, KERR_INVALID, "listen",
		                "listen: port must be 0–65535 (0 picks a free one)");
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return kerr_set(err, KERR_INVALID, "listen", "listen: '%s' is not an IPv4 address",
		                host);
	return 0;
}

/* The retention sweep in a thread of its own, so that a long run does not hold up the other
 * jobs; it stops after its current batch when the server stops, and the next run that day
 * continues it. Prints counts, never personal data. */
static void *sweep_main(void *arg)
{
	static const struct actor system = {ACTOR_SYSTEM, RETENTION_ACTOR, 0, 0};
	struct server *srv = arg;
	struct arena mem;
	struct kerr e = {0};
	struct store *db = NULL;
	json_t *out = NULL;
	arena_init(&mem);
	if (app_connect(srv->app, &db, &e) == 0) {
		struct kctx ctx = {
		        .db = db, .actor = &system, .mem = &mem, .err = &e, .app = srv->app};
		struct retention_opts o = {.stop = &srv->stop_sweep};
		kctx_set_now(&ctx, app_now(srv->app));
		if (retention_run(&ctx, &o, &out) == 0 && out) {
			long long acted = 0;
			size_t i;
			json_t *r;
			json_array_foreach (json_object_get(out, "rules"), i, r) {
				acted += (long long)json_integer_value(json_object_get(r, "acted"));
			}
			fprintf(stderr, "kortisto: retention run %lld: %s, %lld acted on\n",
			        (long long)json_integer_value(json_object_get(out, "id")),
			        json_string_value(json_object_get(out, "status")), acted);
		}
	}
	if (e.message[0])
		fprintf(stderr, "kortisto: retention run: %s\n", e.message);
	json_decref(out);
	store_close(db);
	arena_free(&mem);
	atomic_store(&srv->sweeping, false);
	return NULL;
}

/* Starts the retention sweep once a day from cfg.retention_time (UTC, wall clock) on; the
 * first time when the server starts after that time of day. */
static void sweep_schedule(struct server *srv)
{
	const char *at = srv->app->cfg.retention_time;
	char now[21];
	if (!at[0] || atomic_load(&srv->sweeping) || atomic_load(&srv->stop_sweep))
		return;
	time_format_iso8601((int64_t)time(NULL), now);
	if (strncmp(now + 11, at, 5) < 0 || strncmp(now, srv->swept_day, 10) == 0)
		return;
	memcpy(srv->swept_day, now, 10);
	if (srv->sweeper_started)
		pthread_join(srv->sweeper, NULL);
	atomic_store(&srv->sweeping, true);
	srv->sweeper_started = pthread_create(&srv->sweeper, NULL, sweep_main, srv) == 0;
	if (!srv->sweeper_started) {
		atomic_store(&srv->sweeping, false);
		fprintf(stderr, "kortisto: cannot start the retention sweep\n");
	}
}

/* Runs the periodic jobs of the server as the system: a pending search-index purge (after
 * deletions), the end of sign-in locks and sessions (every 30 s), the usage log's retention
 * (daily) and chain-head anchors (every audit_anchor_interval). */
static void maintain(struct server *srv, struct store *db, int64_t *next_sweep,
                     int64_t *next_anchor, int64_t *next_prune)
{
	static const struct actor system = {ACTOR_SYSTEM, "system:maintenance", 0, 0};
	struct kapp *app = srv->app;
	struct arena mem;
	struct kerr e = {0};
	struct kctx ctx = {.db = db, .actor = &system, .mem = &mem, .err = &e, .app = app};
	arena_init(&mem);
	kctx_set_now(&ctx, app_now(app));
	if (search_purge(&ctx, NULL) != 0)
		fprintf(stderr, "kortisto: purging the search index: %s\n", e.message);
	kerr_clear(&e);
	int64_t t = (int64_t)time(NULL);
	if (t >= *next_sweep) {
		*next_sweep = t + 30;
		if (auth_sweep(&ctx) != 0)
			fprintf(stderr, "kortisto: ending sessions and locks: %s\n", e.message);
		kerr_clear(&e);
	}
	if (t >= *next_prune) {
		/* Once a day: usage-log entries past their retention go, leaving a signed
		 * checkpoint (nothing happens when the retention is 0, kept for ever). */
		*next_prune = t + 86400;
		struct audit_pruned pruned = {0};
		if (app->cfg.usage_log_retention_days > 0 && audit_prune(&ctx, 0, &pruned) != 0)
			fprintf(stderr, "kortisto: pruning the usage log: %s\n", e.message);
		kerr_clear(&e);
	}
	if (t >= *next_anchor) {
		*next_anchor = t + app->cfg.audit_anchor_interval;
		const char *path =
		        app->cfg.audit_anchor_file[0]
		                ? app->cfg.audit_anchor_file
		                : arena_printf(&mem, "%s/audit-anchors.log", app->datadir);
		if (audit_anchor_write(&ctx, path) != 0)
			fprintf(stderr, "kortisto: writing the usage-log anchor: %s\n", e.message);
	}
	arena_free(&mem);
}

/* Reads a whole PEM file into a new NUL-terminated string. */
static char *read_pem(const char *path, struct kerr *err)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	if (!f) {
		kerr_set(err, KERR_INVALID, "tls", "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < 1 << 20)
		buf_append(&b, chunk, n);
	fclose(f);
	if (!b.p) {
		kerr_set(err, KERR_INVALID, "tls", "%s is empty", path);
		return NULL;
	}
	return b.p;
}

int server_run(struct kapp *app, const char *listen, struct kerr *err)
{
	struct server srv = {.app = app};
	struct sockaddr_in sa;
	sigset_t set;
	int sig, rc;
	char *cert = NULL, *key = NULL;

	if ((rc = parse_listen(listen, &sa, err)))
		return rc;
	srv.tls = app->cfg.tls_cert[0] && app->cfg.tls_key[0];
	if (!srv.tls && (app->cfg.tls_cert[0] || app->cfg.tls_key[0]))
		return kerr_set(err, KERR_INVALID, "tls",
		                "tls_cert and tls_key go together: set both in kortisto.conf, "
		                "or neither to serve plain HTTP behind a TLS proxy");
	if (srv.tls && (!(cert = read_pem(app->cfg.tls_cert, err)) ||
	                !(key = read_pem(app->cfg.tls_key, err)))) {
		free(cert);
		return KERR_INVALID;
	}
	if (srv.tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		free(cert);
		free(key);
		return kerr_set(err, KERR_INVALID, "tls",
		                "this libmicrohttpd was built without TLS; use a reverse proxy");
	}
	/* Development on 127.0.0.1 over plain HTTP is the only case without Secure. */
	srv.cookie_secure = srv.tls || app->cfg.secure_cookie_always ||
	                    sa.sin_addr.s_addr != htonl(INADDR_LOOPBACK);
	srv.boot = randombytes_random();
	if (pthread_key_create(&srv.db_key, db_destroy) != 0) {
		free(cert);
		free(key);
		return kerr_set(err, KERR_INTERNAL, NULL, "cannot create thread key");
	}
	/* Block the signals in every thread, the log writer's too, before any is started: the
	 * main thread waits for them below, and a stop signal delivered to a thread that does
	 * not block it would end the process without a clean shutdown. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((rc = logwriter_start(app, &srv.log, err))) {
		pthread_key_delete(srv.db_key);
		free(cert);
		free(key);
		return rc;
	}
	if ((rc = sendq_start(app, &srv.sendq, err))) {
		logwriter_stop(srv.log);
		pthread_key_delete(srv.db_key);
		free(cert);
		free(key);
		return rc;
	}

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads =
	        app->cfg.threads > 0 ? (unsigned)app->cfg.threads : (unsigned)(ncpu > 0 ? ncpu : 1);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | (srv.tls ? MHD_USE_TLS : 0);
	struct MHD_Daemon *d = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR,
	        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, threads,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)app->cfg.request_timeout,
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, &srv, srv.tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	if (!d) {
		sendq_free(srv.sendq);
		logwriter_stop(srv.log);
		pthread_key_delete(srv.db_key);
		free(cert);
		free(key);
		return kerr_set(err, KERR_INTERNAL, "listen", "cannot listen on %s%s: %s", listen,
		                srv.tls ? " with this TLS certificate and key" : "",
		                strerror(errno));
	}
	if ((rc = sendq_run(srv.sendq, err))) {
		MHD_stop_daemon(d);
		sendq_free(srv.sendq);
		logwriter_stop(srv.log);
		pthread_key_delete(srv.db_key);
		free(cert);
		free(key);
		return rc;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
	fprintf(stderr, "kortisto: listening on %s://%s:%u/ with %u worker threads\n",
	        srv.tls ? "https" : "http", host,
	        di ? (unsigned)di->port : (unsigned)ntohs(sa.sin_port), threads);
	/* Wait for a stop signal; meanwhile pick up declarations loaded by `kortisto register
	 * load` (checked every two seconds, or at once on SIGHUP) and run the periodic jobs. */
	struct store *db = NULL;
	int64_t next_sweep = 0, next_prune = 0;
	int64_t next_anchor = (int64_t)time(NULL) + app->cfg.audit_anchor_interval;
	for (;;) {
		struct timespec ts = {2, 0};
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		struct kerr e = {0};
		bool changed = false;
		if (!db && app_connect(app, &db, &e) != 0) {
			fprintf(stderr, "kortisto: %s\n", e.message);
			continue;
		}
		if (app_load_registers(app, db, false, &changed, &e) != 0)
			fprintf(stderr, "kortisto: reloading declarations: %s\n", e.message);
		else if (changed)
			fprintf(stderr, "kortisto: loaded new declaration versions\n");
		maintain(&srv, db, &next_sweep, &next_anchor, &next_prune);
		sweep_schedule(&srv);
	}
	fprintf(stderr, "kortisto: stopping\n");
	/* A retention sweep stops after its batch in progress; the next run continues it. */
	atomic_store(&srv.stop_sweep, true);
	if (srv.sweeper_started)
		pthread_join(srv.sweeper, NULL);
	/* The mail sender stops after its message in progress; the next start resumes the
	 * mailing it leaves 'sending'. */
	sendq_stop(srv.sendq);
	/* Stop accepting, let the log writer finish (it resumes every waiting request), then
	 * stop the daemon; an anchor records where the log ended. */
	MHD_quiesce_daemon(d);
	logwriter_stop(srv.log);
	MHD_stop_daemon(d);
	sendq_free(srv.sendq);
	/* Self-service link mails still being sent get their chance to leave. */
	selfservice_mail_drain();
	struct kerr e = {0};
	if (db || app_connect(app, &db, &e) == 0)
		maintain(&srv, db, &(int64_t){INT64_MAX}, &(int64_t){0}, &(int64_t){INT64_MAX});
	store_close(db);
	pthread_key_delete(srv.db_key);
	free(cert);
	free(key);
	return 0;
}
