/*
 * The HTTP server on libmicrohttpd: a thread pool with epoll, one SQLite connection per
 * worker thread (a pthread key closes it when the thread ends). Requests are answered on the
 * second call of the access handler, never the first, so connections stay alive between
 * requests; bodies are capped and slow clients time out.
 */
#include <errno.h>
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
#include "core/search.h"
#include "http/http.h"
#include "store/store.h"
#include "util/xmalloc.h"

struct server {
	struct kapp *app;
	pthread_key_t db_key;
};

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
	default: return "internal";
	}
}

/* Builds and sets a problem+json response with an explicit HTTP status. */
static void problem(struct req *r, unsigned status, int code)
{
	json_t *p = json_pack(
	        "{s:s, s:s, s:i, s:s}", "type",
	        arena_printf(&r->mem, "/problems/%s",
	                     status == 405 ? "method-not-allowed" : problem_slug(code)),
	        "title", status == 405 ? "Method not allowed" : kerr_title(code), "status",
	        (int)status, "detail", r->err.message[0] ? r->err.message : kerr_title(code));
	if (r->err.field[0])
		json_object_set_new(p, "errors",
		                    json_pack("[{s:s, s:s}]", "field", r->err.field, "message",
		                              r->err.message));
	if (status >= 500)
		fprintf(stderr, "kortisto: %s %s: %s\n", r->method,
		        r->route ? r->route->pattern : "", r->err.message);
	char *s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
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

static void client_name(struct req *r, char *out, size_t n)
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
	snprintf(out, n, "api:%s", addr);
}

static void dispatch(struct server *srv, struct req *r)
{
	unsigned status = 0;
	const char *allow = NULL;
	char actor[64];

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
	r->actor.name = "api";
	r->ctx.actor = &r->actor;
	r->ctx.purpose = r->route->purpose;
	r->ctx.mem = &r->mem;
	r->ctx.err = &r->err;
	r->ctx.app = srv->app;
	kctx_set_now(&r->ctx, app_now(srv->app));
	if (r->route->personal || r->route->access != AC_PUBLIC) {
		/* Only routes that reach the store need to know who asks. */
		client_name(r, actor, sizeof(actor));
		r->actor.name = arena_strdup(&r->mem, actor);
		r->ctx.db = thread_db(srv, &r->err);
		if (!r->ctx.db) {
			reply_problem(r);
			return;
		}
	}
	r->route->handler(r);
	if (!r->resp) {
		kerr_set(&r->err, KERR_INTERNAL, NULL, "the handler gave no answer");
		reply_problem(r);
	}
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
	dispatch(srv, r);
	enum MHD_Result ret = MHD_queue_response(conn, r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ret;
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

/* Runs a pending search-index purge (after deletions) as the system. */
static void purge_search(struct kapp *app, struct store *db)
{
	static const struct actor system = {ACTOR_SYSTEM, "system:maintenance", 0, 0};
	struct arena mem;
	struct kerr e = {0};
	struct kctx ctx = {.db = db, .actor = &system, .mem = &mem, .err = &e, .app = app};
	arena_init(&mem);
	kctx_set_now(&ctx, app_now(app));
	if (search_purge(&ctx, NULL) != 0)
		fprintf(stderr, "kortisto: purging the search index: %s\n", e.message);
	arena_free(&mem);
}

int server_run(struct kapp *app, const char *listen, struct kerr *err)
{
	struct server srv = {.app = app};
	struct sockaddr_in sa;
	sigset_t set;
	int sig, rc;

	if ((rc = parse_listen(listen, &sa, err)))
		return rc;
	if (pthread_key_create(&srv.db_key, db_destroy) != 0)
		return kerr_set(err, KERR_INTERNAL, NULL, "cannot create thread key");

	/* Block the signals in every thread; the main thread waits for them below. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads =
	        app->cfg.threads > 0 ? (unsigned)app->cfg.threads : (unsigned)(ncpu > 0 ? ncpu : 1);
	struct MHD_Daemon *d = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO, 0, NULL, NULL,
	        on_request, &srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, &srv, MHD_OPTION_END);
	if (!d) {
		pthread_key_delete(srv.db_key);
		return kerr_set(err, KERR_INTERNAL, "listen", "cannot listen on %s: %s", listen,
		                strerror(errno));
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
	fprintf(stderr, "kortisto: listening on http://%s:%u/ with %u worker threads\n", host,
	        di ? (unsigned)di->port : (unsigned)ntohs(sa.sin_port), threads);
	/* Wait for a stop signal; meanwhile pick up declarations loaded by `kortisto register
	 * load` (checked every two seconds, or at once on SIGHUP). */
	struct store *db = NULL;
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
		purge_search(app, db);
	}
	store_close(db);
	fprintf(stderr, "kortisto: stopping\n");
	MHD_stop_daemon(d);
	pthread_key_delete(srv.db_key);
	return 0;
}
