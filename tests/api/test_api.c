/*
 * Black-box tests of the JSON API: the group setup creates a data directory in a fresh temp
 * dir, loads the five seed registers (and one small fixture register with a required field
 * and an enum), starts the real binary on 127.0.0.1:0 and learns the port from its stderr;
 * every test then talks HTTP to it with libcurl. One small test per behaviour, negative cases
 * included; tests that prove a promise of PROMISES.md name it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

extern char **environ;

#define MIB      (1024 * 1024)
#define RAUMA    "/api/v1/registers/rauma-crm"
#define TALENT   "/api/v1/registers/espoo-talent-hub"
#define KEMI     "/api/v1/registers/kemi-crm"
#define SOSPRO   "/api/v1/registers/sospro-marketing"
#define FEEDBACK "/api/v1/registers/espoo-feedback"
#define FIXTURE  "/api/v1/registers/api-fixture"

/* A declaration of our own, for what no seed declares: a required field and an enum. */
static const char fixture_yaml[] = "kortisto: 1\n"
                                   "id: api-fixture\n"
                                   "name: \"API-testien rekisteri\"\n"
                                   "published: 2024-01-01\n"
                                   "updated: 2024-01-02\n"
                                   "controller:\n"
                                   "  name: \"Testikaupunki\"\n"
                                   "  email: \"kirjaamo@example.fi\"\n"
                                   "responsible:\n"
                                   "  - name: \"Vastuu Henkilö\"\n"
                                   "contacts:\n"
                                   "  - name: \"Yhteys Henkilö\"\n"
                                   "dpo:\n"
                                   "  name: \"Tietosuojavastaava\"\n"
                                   "  email: \"tietosuoja@example.fi\"\n"
                                   "purposes:\n"
                                   "  - id: customer_relations\n"
                                   "    text: \"Asiakassuhteen hoitaminen\"\n"
                                   "subject_groups:\n"
                                   "  - id: contact\n"
                                   "    name: \"Yhteyshenkilöt\"\n"
                                   "    kind: organisation_contact\n"
                                   "    basis: e\n"
                                   "    purposes: [customer_relations]\n"
                                   "data_categories:\n"
                                   "  - id: identity\n"
                                   "    name: \"Yhteystiedot\"\n"
                                   "    fields:\n"
                                   "      - id: first_name\n"
                                   "        type: text\n"
                                   "        label: \"etunimi\"\n"
                                   "        required: true\n"
                                   "      - id: email\n"
                                   "        type: email\n"
                                   "        label: \"sähköposti\"\n"
                                   "      - id: language\n"
                                   "        type: enum\n"
                                   "        label: \"asiointikieli\"\n"
                                   "        values: [fi, sv, en]\n"
                                   "sources:\n"
                                   "  - id: subject\n"
                                   "    kind: subject\n"
                                   "    text: \"Rekisteröidyltä itseltään\"\n"
                                   "transfers:\n"
                                   "  outside_eea: false\n"
                                   "retention:\n"
                                   "  text: \"Tiedot poistetaan viiden vuoden kuluttua.\"\n"
                                   "  rules:\n"
                                   "    - id: delete-5y\n"
                                   "      after: P5Y\n"
                                   "      from: created\n"
                                   "      action: delete\n"
                                   "security:\n"
                                   "  electronic: \"Suojattu.\"\n"
                                   "automated_decision_making:\n"
                                   "  used: false\n"
                                   "profiling:\n"
                                   "  used: false\n"
                                   "provision_requirement: \"Ei pakollinen.\"\n"
                                   "systems:\n"
                                   "  - name: \"kortisto\"\n"
                                   "rights:\n"
                                   "  channel: \"Kirjallisesti.\"\n"
                                   "complaint_authority:\n"
                                   "  name: \"Tietosuojavaltuutetun toimisto\"\n";

/* ------------------------------------------------------------------------------------------ */
/* The server under test                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* How a request identifies itself: a bearer token, or a session cookie with its CSRF token
 * (all empty: anonymous). */
struct as {
	char bearer[128];
	char cookie[128];
	char csrf[128];
	char accept_language[64]; /* sent as Accept-Language when not empty */
};

#define TESTER_PASSWORD "kortisto-testaaja-2026"

static struct {
	char tmp[256];  /* our temp dir */
	char data[300]; /* the data directory inside it */
	const char *bin;
	pid_t pid;
	int errfd; /* read end of the server's stderr */
	pthread_t drain;
	bool draining;
	char base[64];    /* http://127.0.0.1:PORT */
	struct as tester; /* manager of every register, commitment accepted: the default */
	pthread_mutex_t lock;
	char *log; /* everything the server wrote to stderr */
	size_t log_len;
} srv = {.pid = -1, .errfd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static void log_append(const char *p, size_t n)
{
	pthread_mutex_lock(&srv.lock);
	char *q = realloc(srv.log, srv.log_len + n + 1);
	if (q) {
		memcpy(q + srv.log_len, p, n);
		srv.log_len += n;
		q[srv.log_len] = '\0';
		srv.log = q;
	}
	pthread_mutex_unlock(&srv.lock);
}

/* Keeps reading the server's stderr so it can never block on a full pipe. */
static void *drain_main(void *arg)
{
	char b[4096];
	ssize_t n;
	(void)arg;
	while ((n = read(srv.errfd, b, sizeof(b))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			log_append(b, (size_t)n);
	return NULL;
}

/*
 * Runs argv to completion with stdout discarded and stderr kept in a file of the temp dir,
 * which is shown only when the command fails (the seeds' warnings are no news here).
 * Returns the exit status or -1.
 */
static int run_quiet(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	char errpath[400];
	pid_t pid;
	int st;

	snprintf(errpath, sizeof(errpath), "%s/command.err", srv.tmp);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (rc != 0) {
		char line[512];
		FILE *f = fopen(errpath, "r");
		fprintf(stderr, "%s %s failed (status %d):\n", argv[0], argv[1], rc);
		while (f && fgets(line, sizeof(line), f))
			fputs(line, stderr);
		if (f)
			fclose(f);
	}
	return rc;
}

/* Runs argv with stdout captured into out (n bytes, NUL terminated, trailing newline
 * removed). Returns the exit status or -1. */
static int run_capture(char *const argv[], char *out, size_t n)
{
	posix_spawn_file_actions_t fa;
	char outpath[400];
	pid_t pid;
	int st;

	snprintf(outpath, sizeof(outpath), "%s/command.out", srv.tmp);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	FILE *f = fopen(outpath, "r");
	size_t len = f ? fread(out, 1, n - 1, f) : 0;
	if (f)
		fclose(f);
	out[len] = '\0';
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `kortisto --data DATA` with up to 10 more arguments (NULL-terminated); quiet. */
static int kortisto(const char *a0, ...)
{
	char *argv[16];
	int n = 0;
	va_list ap;
	argv[n++] = (char *)srv.bin;
	argv[n++] = "--data";
	argv[n++] = srv.data;
	argv[n++] = (char *)a0;
	va_start(ap, a0);
	const char *a;
	while (n < 15 && (a = va_arg(ap, const char *)))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return run_quiet(argv);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the server's stderr until the listening line (bounded wait); fills srv.base. */
static int await_listening(void)
{
	static const char mark[] = "listening on http://127.0.0.1:";
	double deadline = now_s() + 30;

	for (;;) {
		const char *m = srv.log ? strstr(srv.log, mark) : NULL;
		if (m) {
			char *end;
			long port = strtol(m + sizeof(mark) - 1, &end, 10);
			if (*end != '/' || port <= 0 || port > 65535) {
				fprintf(stderr, "unexpected listening line: %s\n", m);
				return -1;
			}
			snprintf(srv.base, sizeof(srv.base), "http://127.0.0.1:%ld", port);
			return 0;
		}
		int left = (int)((deadline - now_s()) * 1000);
		if (left <= 0) {
			fprintf(stderr, "the server did not start within 30 s; stderr:\n%s\n",
			        srv.log ? srv.log : "");
			return -1;
		}
		struct pollfd pfd = {.fd = srv.errfd, .events = POLLIN};
		int pr = poll(&pfd, 1, left);
		if (pr < 0 && errno != EINTR)
			return -1;
		if (pr > 0) {
			char b[1024];
			ssize_t n = read(srv.errfd, b, sizeof(b));
			if (n == 0) {
				fprintf(stderr, "the server exited before listening; stderr:\n%s\n",
				        srv.log ? srv.log : "");
				return -1;
			}
			if (n > 0)
				log_append(b, (size_t)n);
		}
	}
}

/*
 * Starts `kortisto serve` with stderr on a pipe. fork+exec rather than posix_spawn so the
 * child can ask for SIGTERM when this process dies: a test run killed by a timeout or a
 * closed output pipe then leaves no server behind.
 */
static int start_server(void)
{
	int pfd[2];
	char *argv[] = {(char *)srv.bin, "--data",      srv.data, "serve",
	                "--listen",      "127.0.0.1:0", NULL};
	pid_t parent = getpid();

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	srv.pid = fork();
	if (srv.pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent || null < 0 ||
		    dup2(null, 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(127);
		execv(srv.bin, argv);
		_exit(127);
	}
	close(pfd[1]);
	srv.errfd = pfd[0];
	if (srv.pid < 0) {
		fprintf(stderr, "cannot start %s: %s\n", srv.bin, strerror(errno));
		return -1;
	}
	if (await_listening() != 0)
		return -1;
	if (pthread_create(&srv.drain, NULL, drain_main, NULL) != 0)
		return -1;
	srv.draining = true;
	return 0;
}

static int group_teardown(void **state);

static int setup_all(void)
{
	char path[400], *argv[16];
	glob_t g;
	int n = 0;

	srv.bin = getenv("KORTISTO_BIN");
	if (!srv.bin || !*srv.bin) {
		fprintf(stderr, "KORTISTO_BIN is not set\n");
		return -1;
	}
	snprintf(srv.tmp, sizeof(srv.tmp), "/tmp/kortisto-api-XXXXXX");
	if (!mkdtemp(srv.tmp))
		return -1;
	snprintf(srv.data, sizeof(srv.data), "%s/data", srv.tmp);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;

	char *init[] = {(char *)srv.bin, "init", srv.data, NULL};
	if (run_quiet(init) != 0)
		return -1;

	/* The five seeds, never the template, and the fixture. */
	snprintf(path, sizeof(path), "%s/api-fixture.yaml", srv.tmp);
	FILE *f = fopen(path, "w");
	if (!f || fputs(fixture_yaml, f) < 0 || fclose(f) != 0)
		return -1;
	if (glob("registers/*.yaml", 0, NULL, &g) != 0)
		return -1;
	argv[n++] = (char *)srv.bin;
	argv[n++] = "--data";
	argv[n++] = srv.data;
	argv[n++] = "register";
	argv[n++] = "load";
	int seeds = 0;
	for (size_t i = 0; i < g.gl_pathc && n < 14; i++) {
		if (strstr(g.gl_pathv[i], "TEMPLATE"))
			continue;
		argv[n++] = g.gl_pathv[i];
		seeds++;
	}
	argv[n++] = path;
	argv[n] = NULL;
	int rc = seeds == 5 ? run_quiet(argv) : -1;
	globfree(&g);
	if (rc != 0) {
		fprintf(stderr, "register load failed (%d seeds found)\n", seeds);
		return -1;
	}
	/* Short idle sessions so expiry can be seen; no second factor for managers except
	 * where a test turns it on. */
	snprintf(path, sizeof(path), "%s/kortisto.conf", srv.data);
	f = fopen(path, "a");
	if (!f || fputs("session_idle = 3\ntotp_required = none\n", f) < 0 || fclose(f) != 0)
		return -1;
	return start_server();
}

/* On a failed setup cmocka runs no teardown: stop what was started and clean up here. */
static int group_setup(void **state)
{
	if (setup_all() == 0)
		return 0;
	group_teardown(state);
	return -1;
}

/* Lines of the server's stderr that mean something went wrong inside it. */
static bool log_is_clean(void)
{
	static const char *const bad[] = {
	        "runtime error",          "Sanitizer",         "==ERROR",
	        "reloading declarations", "kortisto: GET ",    "kortisto: POST ",
	        "kortisto: PATCH ",       "kortisto: DELETE ", "kortisto: PUT "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (srv.log && strstr(srv.log, bad[i]))
			return false;
	return true;
}

static int group_teardown(void **state)
{
	int ok = 1, st = 0;
	(void)state;

	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		/* Bounded wait for a clean stop; a hung server is killed and fails the run. */
		double deadline = now_s() + 30;
		pid_t w;
		while ((w = waitpid(srv.pid, &st, WNOHANG)) == 0 && now_s() < deadline) {
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (w == 0) {
			fprintf(stderr, "the server did not stop within 30 s of SIGTERM\n");
			kill(srv.pid, SIGKILL);
			waitpid(srv.pid, &st, 0);
			ok = 0;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "the server ended with status %d (signal %d)\n",
			        WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			        WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			ok = 0;
		}
	}
	if (srv.draining)
		pthread_join(srv.drain, NULL);
	if (srv.errfd >= 0)
		close(srv.errfd);
	if (!log_is_clean()) {
		fprintf(stderr, "the server reported internal errors:\n%s\n", srv.log);
		ok = 0;
	}
	free(srv.log);
	curl_global_cleanup();
	if (srv.tmp[0])
		nftw(srv.tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------ */
/* HTTP helpers                                                                               */
/* ------------------------------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len;
};

struct resp {
	long status;
	struct sbuf body, hdrs;
	json_t *json; /* the parsed body, when it is JSON */
};

static size_t sbuf_write(char *p, size_t size, size_t n, void *arg)
{
	struct sbuf *b = arg;
	char *q = realloc(b->p, b->len + size * n + 1);
	if (!q)
		return 0;
	memcpy(q + b->len, p, size * n);
	b->len += size * n;
	q[b->len] = '\0';
	b->p = q;
	return size * n;
}

static void resp_free(struct resp *r)
{
	free(r->body.p);
	free(r->hdrs.p);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * One request on handle `h` (connections are kept between calls). Never asserts, so threads
 * may use it; returns the curl result and fills `r`, which the caller frees.
 */
static CURLcode perform_as(CURL *h, const struct as *as, const char *method, const char *path,
                           const char *body, size_t body_len, struct resp *r)
{
	char url[1024], line[300];
	struct curl_slist *hl = NULL;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", srv.base, path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sbuf_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sbuf_write);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->hdrs);
	hl = curl_slist_append(hl, "Expect:");
	if (as && as->bearer[0]) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", as->bearer);
		hl = curl_slist_append(hl, line);
	}
	if (as && as->cookie[0]) {
		snprintf(line, sizeof(line), "Cookie: kortisto_session=%s", as->cookie);
		hl = curl_slist_append(hl, line);
	}
	if (as && as->csrf[0]) {
		snprintf(line, sizeof(line), "X-CSRF-Token: %s", as->csrf);
		hl = curl_slist_append(hl, line);
	}
	if (as && as->accept_language[0]) {
		snprintf(line, sizeof(line), "Accept-Language: %s", as->accept_language);
		hl = curl_slist_append(hl, line);
	}
	if (body) {
		hl = curl_slist_append(hl, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	CURLcode cc = curl_easy_perform(h);
	curl_slist_free_all(hl);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		if (r->body.len)
			r->json = json_loadb(r->body.p, r->body.len, 0, NULL);
	}
	return cc;
}

/* A request as the default tester. */
static CURLcode perform(CURL *h, const char *method, const char *path, const char *body,
                        size_t body_len, struct resp *r)
{
	return perform_as(h, &srv.tester, method, path, body, body_len, r);
}

/* Rotating formatted strings for paths and bodies (main thread only). */
static const char *sf(const char *fmt, ...)
{
	static char ring[8][4096];
	static int next;
	char *s = ring[next++ % 8];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s, 4096, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && n < 4096);
	return s;
}

/* A request as `as` (NULL: anonymous) with a raw body (or NULL) on a handle of its own;
 * asserts it completed. */
static void req_raw_as(const struct as *as, struct resp *r, const char *method, const char *path,
                       const char *body, size_t len)
{
	CURL *h = curl_easy_init();
	assert_non_null(h);
	CURLcode cc = perform_as(h, as, method, path, body, len, r);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
}

static void req_raw(struct resp *r, const char *method, const char *path, const char *body,
                    size_t len)
{
	req_raw_as(&srv.tester, r, method, path, body, len);
}

/*
 * A request as `as` whose body is written with single quotes for readability ({'a':'b'});
 * they become double quotes before sending, so bodies here never contain an apostrophe.
 */
static void req_as(const struct as *as, struct resp *r, const char *method, const char *path,
                   const char *body)
{
	char *b = NULL;
	if (body) {
		b = strdup(body);
		assert_non_null(b);
		for (char *p = b; *p; p++)
			if (*p == '\'')
				*p = '"';
	}
	req_raw_as(as, r, method, path, b, b ? strlen(b) : 0);
	free(b);
}

/* A request as the default tester (see req_as). */
static void req(struct resp *r, const char *method, const char *path, const char *body)
{
	req_as(&srv.tester, r, method, path, body);
}

/* The value of response header `name` (last one wins) into out; false when absent. */
static bool header(const struct resp *r, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	bool found = false;
	const char *p = r->hdrs.p;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = len - (size_t)(v - p);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			snprintf(out, n, "%.*s", (int)vl, v);
			found = true;
		}
		p = eol ? eol + 1 : NULL;
	}
	return found;
}

static void expect_status(const struct resp *r, long status)
{
	if (r->status != status)
		fail_msg("expected HTTP %ld, got %ld: %s", status, r->status,
		         r->body.p ? r->body.p : "(no body)");
}

static const char *jget_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Expects string member `key` of `o` to be `want`; names both when it is not. */
#define expect_jstr(o, key, want) expect_jstr_at((o), (key), (want), __FILE__, __LINE__)
static void expect_jstr_at(json_t *o, const char *key, const char *want, const char *file, int line)
{
	const char *got = jget_str(o, key);
	if (!got || strcmp(got, want) != 0) {
		char *dump = o ? json_dumps(o, JSON_COMPACT) : NULL;
		fail_msg("%s:%d: \"%s\" is %s%s%s, expected \"%s\" in %s", file, line, key,
		         got ? "\"" : "", got ? got : "absent", got ? "\"" : "", want,
		         dump ? dump : "(nothing)");
	}
}

/*
 * Checks an RFC 9457 problem response: the status, the media type, status/title/detail in
 * the body, and when `field` is given, errors[0].field.
 */
static void expect_problem(const struct resp *r, long status, const char *field)
{
	char ct[256];
	expect_status(r, status);
	assert_true(header(r, "Content-Type", ct, sizeof(ct)));
	if (strncmp(ct, "application/problem+json", 24) != 0)
		fail_msg("problem Content-Type is '%s'", ct);
	if (!json_is_object(r->json))
		fail_msg("problem body is not a JSON object: %s", r->body.p ? r->body.p : "");
	json_t *st = json_object_get(r->json, "status");
	assert_true(json_is_integer(st));
	if (json_integer_value(st) != status)
		fail_msg("problem body says status %lld, the response is %ld",
		         (long long)json_integer_value(st), status);
	assert_non_null(jget_str(r->json, "title"));
	assert_non_null(jget_str(r->json, "detail"));
	assert_true(strlen(jget_str(r->json, "detail")) > 0);
	if (field) {
		json_t *e0 = json_array_get(json_object_get(r->json, "errors"), 0);
		const char *f = jget_str(e0, "field");
		if (!f || strcmp(f, field) != 0)
			fail_msg("expected errors[0].field '%s', got '%s' in %s", field,
			         f ? f : "(none)", r->body.p);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Accounts                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Expects a problem of `status` whose type is /problems/`type`. */
static void expect_problem_type(const struct resp *r, long status, const char *type)
{
	expect_problem(r, status, NULL);
	const char *t = jget_str(r->json, "type");
	char want[128];
	snprintf(want, sizeof(want), "/problems/%s", type);
	if (!t || strcmp(t, want) != 0)
		fail_msg("expected problem type %s, got %s: %s", want, t ? t : "(none)", r->body.p);
}

/* Signs in over the API; fills as->cookie and as->csrf on success. Returns the status. */
static long sign_in(struct as *as, const char *name, const char *password)
{
	struct resp r;
	char v[512];
	memset(as, 0, sizeof(*as));
	req_as(NULL, &r, "POST", "/api/v1/session",
	       sf("{'name':'%s','password':'%s'}", name, password));
	long st = r.status;
	if (st == 201) {
		assert_true(header(&r, "Set-Cookie", v, sizeof(v)));
		assert_true(strncmp(v, "kortisto_session=", 17) == 0);
		size_t n = strcspn(v + 17, ";");
		assert_true(n > 0 && n < sizeof(as->cookie));
		snprintf(as->cookie, sizeof(as->cookie), "%.*s", (int)n, v + 17);
		const char *csrf = jget_str(r.json, "csrf");
		assert_non_null(csrf);
		snprintf(as->csrf, sizeof(as->csrf), "%s", csrf);
	}
	resp_free(&r);
	return st;
}

/* Accepts the current confidentiality commitment as `as`. */
static void accept_commitment(const struct as *as)
{
	struct resp r;
	req_as(as, &r, "GET", "/api/v1/me/commitment", NULL);
	expect_status(&r, 200);
	json_int_t v = json_integer_value(json_object_get(r.json, "version"));
	assert_true(v > 0);
	resp_free(&r);
	req_as(as, &r, "POST", "/api/v1/me/commitment", sf("{'version':%lld}", (long long)v));
	expect_status(&r, 204);
	resp_free(&r);
}

/* Writes the test password to a file for --password-file; returns its path. */
static const char *password_file(void)
{
	static char path[400];
	snprintf(path, sizeof(path), "%s/password.txt", srv.tmp);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", TESTER_PASSWORD);
	fclose(f);
	return path;
}

/* Creates user `name` (admin when asked) with the test password through the command line. */
static void user_add(const char *name, bool admin)
{
	if (admin)
		assert_int_equal(kortisto("user", "add", name, "--admin", "--password-file",
		                          password_file(), NULL),
		                 0);
	else
		assert_int_equal(
		        kortisto("user", "add", name, "--password-file", password_file(), NULL), 0);
}

static void user_grant(const char *name, const char *rid, const char *role)
{
	if (strcmp(role, "processor") == 0)
		assert_int_equal(kortisto("user", "grant", name, "--register", rid, "--role", role,
		                          "--processor", "external_expert", NULL),
		                 0);
	else
		assert_int_equal(
		        kortisto("user", "grant", name, "--register", rid, "--role", role, NULL),
		        0);
}

/* Creates an API token for `name` into as->bearer. */
static void token_for(struct as *as, const char *name)
{
	char *argv[] = {(char *)srv.bin, "--data", srv.data,     "token",
	                "create",        "--user", (char *)name, NULL};
	memset(as, 0, sizeof(*as));
	assert_int_equal(run_capture(argv, as->bearer, sizeof(as->bearer)), 0);
	assert_true(strncmp(as->bearer, "kt_", 3) == 0);
}

/* The default identity of the tests: a manager of every register with the commitment
 * accepted, using an API token. */
static int setup_tester(void **state)
{
	static const char *const rids[] = {"rauma-crm",        "espoo-talent-hub", "kemi-crm",
	                                   "sospro-marketing", "espoo-feedback",   "api-fixture"};
	struct as session;
	(void)state;
	user_add("tester", false);
	for (size_t i = 0; i < sizeof(rids) / sizeof(rids[0]); i++)
		user_grant("tester", rids[i], "manager");
	assert_int_equal(sign_in(&session, "tester", TESTER_PASSWORD), 201);
	accept_commitment(&session);
	token_for(&srv.tester, "tester");
	return 0;
}

/* Expects 201 with {id} and Location COLLECTION/ID; returns the id. */
static long long expect_created(const struct resp *r, const char *collection)
{
	char loc[512];
	expect_status(r, 201);
	json_t *id = json_object_get(r->json, "id");
	assert_true(json_is_integer(id));
	long long v = json_integer_value(id);
	assert_true(v > 0);
	assert_true(header(r, "Location", loc, sizeof(loc)));
	assert_string_equal(loc, sf("%s/%lld", collection, v));
	return v;
}

/* POSTs body (single-quoted JSON) to COLLECTION and returns the new id. */
static long long create(const char *collection, const char *body)
{
	struct resp r;
	req(&r, "POST", collection, body);
	long long id = expect_created(&r, collection);
	resp_free(&r);
	return id;
}

/* GETs path, expects 200 and returns the JSON body (caller decrefs). */
static json_t *get_json(const char *path)
{
	struct resp r;
	req(&r, "GET", path, NULL);
	expect_status(&r, 200);
	assert_non_null(r.json);
	json_t *j = json_incref(r.json);
	resp_free(&r);
	return j;
}

static bool items_have_id(json_t *page, long long id)
{
	size_t i;
	json_t *it;
	json_array_foreach (json_object_get(page, "items"), i, it) {
		if (json_integer_value(json_object_get(it, "id")) == id)
			return true;
	}
	return false;
}

/* Does a search (query string `qs`) on COLLECTION list `id` on its first page? */
static bool found(const char *collection, const char *qs, long long id)
{
	json_t *page = get_json(sf("%s?%s", collection, qs));
	bool yes = items_have_id(page, id);
	json_decref(page);
	return yes;
}

/*
 * Counts every row of a list by following its cursors. Checks on the way that pages respect
 * the server's cap (200), ids strictly increase (no duplicates) and the last page ends it.
 */
static long long count_all(const char *collection)
{
	const char *cursor = NULL;
	char cur[128];
	long long n = 0, last = 0;
	for (int pages = 0; pages < 100000; pages++) {
		json_t *page = get_json(cursor ? sf("%s?limit=1000&cursor=%s", collection, cursor)
		                               : sf("%s?limit=1000", collection));
		json_t *items = json_object_get(page, "items");
		size_t i;
		json_t *it;
		assert_true(json_is_array(items));
		assert_true(json_array_size(items) <= 200); /* page_max of the default config */
		json_array_foreach (items, i, it) {
			long long id = json_integer_value(json_object_get(it, "id"));
			assert_true(id > last);
			last = id;
			n++;
		}
		json_t *next = json_object_get(page, "next");
		if (json_is_null(next)) {
			json_decref(page);
			return n;
		}
		assert_true(json_is_string(next));
		snprintf(cur, sizeof(cur), "%s", json_string_value(next));
		cursor = cur;
		json_decref(page);
	}
	fail_msg("the list of %s never ends", collection);
	return -1;
}

/* Builds a henkilötunnus with its check character computed from DOMAIN.md §5. */
static void make_hetu(char out[12], int d, int m, int yy, char sign, int ind)
{
	static const char checks[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
	long num = ((long)d * 10000 + m * 100 + yy) * 1000 + ind;
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%02d%02d%02d%c%03d%c", d, m, yy, sign, ind,
	                 checks[num % 31]);
	assert_int_equal(n, 11);
	memcpy(out, tmp, 12);
}

/* A valid henkilötunnus no other test uses. */
static const char *fresh_hetu(void)
{
	static int n;
	static char h[12];
	n++;
	make_hetu(h, 1 + n % 28, 1 + (n / 28) % 12, 70 + n / 336, '-', 100 + n);
	return h;
}

static bool is_iso_utc(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	if (!s || strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return false;
	return true;
}

/* The one person holding 131052-308T (DOMAIN.md's example); created on first use. Tests must
 * not change it, so its exact-match lookup stays testable on its own. */
static long long hetu_person(void)
{
	static long long id;
	if (!id)
		id = create(RAUMA "/persons", "{'subject_group':'organisation_contact',"
		                              "'source':'customer','first_name':'Helka',"
		                              "'last_name':'Hetullinen','hetu':'131052-308T'}");
	return id;
}

/* ------------------------------------------------------------------------------------------ */
/* Persons: create, normalisation, legal basis                                                */
/* ------------------------------------------------------------------------------------------ */

static void test_person_create_201_id_location(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer','first_name':'Liisa',"
	    "'last_name':'Luoja'}");
	long long id = expect_created(&r, RAUMA "/persons");
	assert_int_equal(json_object_size(r.json), 1); /* just {id} */
	resp_free(&r);

	json_t *p = get_json(sf(RAUMA "/persons/%lld", id));
	assert_int_equal(json_integer_value(json_object_get(p, "id")), id);
	expect_jstr(p, "register", "rauma-crm");
	expect_jstr(p, "first_name", "Liisa");
	expect_jstr(p, "last_name", "Luoja");
	assert_true(is_iso_utc(jget_str(p, "created_at")));
	json_decref(p);
}

static void test_person_email_phone_normalised(void **state)
{
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer',"
	                      "'first_name':'Noora','email':'Noora.Normi@Example.FI',"
	                      "'phone':'040 123 4567'}");
	json_t *p = get_json(sf(RAUMA "/persons/%lld", id));
	expect_jstr(p, "email", "noora.normi@example.fi");
	expect_jstr(p, "phone", "+358401234567");
	json_decref(p);
}

static void test_person_phone_formats(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"09 816 21", "+358981621"},
	        {"016-259 111", "+35816259111"},
	        {"+358 40 123 4567", "+358401234567"},
	        {"00358 (40) 123-4567", "+358401234567"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long id =
		        create(RAUMA "/persons",
		               sf("{'subject_group':'organisation_contact','source':'customer',"
		                  "'phone':'%s'}",
		                  cases[i].in));
		json_t *p = get_json(sf(RAUMA "/persons/%lld", id));
		if (!jget_str(p, "phone") || strcmp(jget_str(p, "phone"), cases[i].out) != 0)
			fail_msg("phone '%s' stored as '%s', expected '%s'", cases[i].in,
			         jget_str(p, "phone"), cases[i].out);
		json_decref(p);
	}
}

/* Each contact point says where it came from, when and by whom. */
static void test_person_contact_point_provenance(void **state)
{
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'public_web',"
	                      "'email':'pia.provenienssi@example.fi','phone':'050 111 2233'}");
	json_t *p = get_json(sf(RAUMA "/persons/%lld", id));
	json_t *cps = json_object_get(p, "contact_points"), *cp;
	size_t i;
	int email = 0, phone = 0;
	assert_int_equal(json_array_size(cps), 2);
	json_array_foreach (cps, i, cp) {
		const char *kind = jget_str(cp, "kind");
		assert_non_null(kind);
		if (strcmp(kind, "email") == 0) {
			email++;
			expect_jstr(cp, "value", "pia.provenienssi@example.fi");
		} else if (strcmp(kind, "phone") == 0) {
			phone++;
			expect_jstr(cp, "value", "+358501112233");
		}
		expect_jstr(cp, "source", "public_web");
		assert_true(is_iso_utc(jget_str(cp, "collected_at")));
		expect_jstr(cp, "collected_by", "token:1:tester");
	}
	assert_int_equal(email, 1);
	assert_int_equal(phone, 1);
	expect_jstr(p, "source", "public_web");
	json_decref(p);
}

static void expect_basis(const char *reg, const char *group, const char *source, const char *basis)
{
	long long id = create(sf("/api/v1/registers/%s/persons", reg),
	                      sf("{'subject_group':'%s','source':'%s'}", group, source));
	json_t *p = get_json(sf("/api/v1/registers/%s/persons/%lld", reg, id));
	const char *b = jget_str(p, "legal_basis");
	if (!b || strcmp(b, basis) != 0)
		fail_msg("%s/%s: legal_basis '%s', expected '%s'", reg, group, b ? b : "(none)",
		         basis);
	expect_jstr(p, "subject_group", group);
	json_decref(p);
}

/* proves M-01: company contacts on legitimate interest (Rauma) */
static void test_basis_rauma_organisation_contact_f(void **state)
{
	(void)state;
	expect_basis("rauma-crm", "organisation_contact", "customer", "f");
}

/* proves M-01: individuals on consent (Espoo Talent Hub) */
static void test_basis_talent_hub_individual_a(void **state)
{
	(void)state;
	expect_basis("espoo-talent-hub", "individual", "subject", "a");
}

/* proves M-01: company and employer contacts on public task (Espoo Talent Hub) */
static void test_basis_talent_hub_company_contact_e(void **state)
{
	(void)state;
	expect_basis("espoo-talent-hub", "company_contact", "subject", "e");
}

/* proves M-01: every subject group of every register gives the basis its declaration states */
static void test_basis_every_group_follows_declaration(void **state)
{
	static const char *const regs[] = {"espoo-feedback", "espoo-talent-hub", "kemi-crm",
	                                   "rauma-crm", "sospro-marketing"};
	(void)state;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		json_t *d = get_json(sf("/api/v1/registers/%s", regs[i]));
		const char *source =
		        jget_str(json_array_get(json_object_get(d, "sources"), 0), "id");
		json_t *groups = json_object_get(d, "subject_groups"), *g;
		size_t k;
		assert_non_null(source);
		assert_true(json_array_size(groups) > 0);
		json_array_foreach (groups, k, g) {
			expect_basis(regs[i], jget_str(g, "id"), source, jget_str(g, "basis"));
		}
		json_decref(d);
	}
}

/* proves M-01: the basis follows the subject group when the group changes */
static void test_basis_follows_group_change(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer'}");
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id),
	    "{'subject_group':'consenting_person','reason':'antoi suostumuksen'}");
	expect_status(&r, 200);
	expect_jstr(r.json, "legal_basis", "a");
	resp_free(&r);
	json_t *p = get_json(sf(RAUMA "/persons/%lld", id));
	expect_jstr(p, "legal_basis", "a");
	expect_jstr(p, "subject_group", "consenting_person");
	json_decref(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Henkilötunnus                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* proves S-10: validated, stored, shown masked */
static void test_hetu_shown_masked(void **state)
{
	struct resp r;
	(void)state;
	long long id = hetu_person();
	req(&r, "GET", sf(RAUMA "/persons/%lld", id), NULL);
	expect_status(&r, 200);
	expect_jstr(r.json, "hetu", "131052-****");
	assert_null(strstr(r.body.p, "308T"));
	resp_free(&r);
}

/* proves S-10: nobody over HTTP sees it in full */
/* A viewer may not see a henkilötunnus in full; a manager may, and the read is logged as a
 * reveal. */
static void test_hetu_reveal_needs_editor(void **state)
{
	struct resp r;
	struct as viewer;
	(void)state;
	long long id = hetu_person();
	user_add("r-viewer", false);
	user_grant("r-viewer", "rauma-crm", "viewer");
	assert_int_equal(sign_in(&viewer, "r-viewer", TESTER_PASSWORD), 201);
	accept_commitment(&viewer);
	req_as(&viewer, &r, "GET", sf(RAUMA "/persons/%lld?reveal=hetu", id), NULL);
	expect_problem(&r, 403, NULL);
	assert_null(strstr(r.body.p, "308T"));
	resp_free(&r);
	req(&r, "GET", sf(RAUMA "/persons/%lld?reveal=hetu", id), NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "308T"));
	resp_free(&r);
	req(&r, "GET", sf(RAUMA "/audit?subject=%lld", id), NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "\"reveal\""));
	resp_free(&r);
	req(&r, "GET", sf(RAUMA "/persons/%lld?reveal=everything", id), NULL);
	expect_problem(&r, 400, "reveal");
	resp_free(&r);
}

/* proves S-10: searchable by exact match */
static void test_hetu_exact_match_finds(void **state)
{
	(void)state;
	long long id = hetu_person();
	json_t *page = get_json(RAUMA "/persons?hetu=131052-308T");
	json_t *items = json_object_get(page, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")), id);
	const char *shown = jget_str(json_array_get(items, 0), "hetu");
	if (shown)
		assert_string_equal(shown, "131052-****");
	json_decref(page);
	struct resp r;
	req(&r, "GET", RAUMA "/persons?hetu=131052-308T", NULL);
	assert_null(strstr(r.body.p, "308T"));
	resp_free(&r);
	/* Lower case is the same code (DOMAIN.md §5). */
	assert_true(found(RAUMA "/persons", "hetu=131052-308t", id));
	/* Another valid code finds nobody. */
	page = get_json(RAUMA "/persons?hetu=131052A308T");
	assert_int_equal(json_array_size(json_object_get(page, "items")), 0);
	json_decref(page);
}

/* proves S-10: only by exact match, never by a part of it in the free-text search */
static void test_hetu_not_found_by_text_search(void **state)
{
	(void)state;
	long long id = hetu_person();
	assert_false(found(RAUMA "/persons", "q=131052", id));
	assert_false(found(RAUMA "/persons", "q=131052-308T", id));
	assert_false(found(RAUMA "/persons", "q=308T", id));
	assert_true(found(RAUMA "/persons", "q=hetullinen", id));
}

/* proves S-10: validated */
static void test_hetu_invalid_400(void **state)
{
	static const char *const bad[] = {"131052-308U", "310252-308T", "131052-000T",
	                                  "131052G308T", "131052-308"};
	struct resp r;
	(void)state;
	long long before = count_all(RAUMA "/persons");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req(&r, "POST", RAUMA "/persons",
		    sf("{'subject_group':'organisation_contact','source':'customer','hetu':'%s'}",
		       bad[i]));
		expect_problem(&r, 400, "hetu");
		assert_null(strstr(r.body.p, bad[i])); /* the rejected value is not echoed */
		resp_free(&r);
	}
	assert_int_equal(count_all(RAUMA "/persons"), before);
	req(&r, "GET", RAUMA "/persons?hetu=131052-308U", NULL);
	expect_problem(&r, 400, "hetu");
	resp_free(&r);
}

/* proves S-10: one person per henkilötunnus in a register */
static void test_hetu_duplicate_409(void **state)
{
	struct resp r;
	(void)state;
	hetu_person();
	long long before = count_all(RAUMA "/persons");
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'contract_party','source':'customer','hetu':'131052-308T'}");
	expect_problem(&r, 409, "hetu");
	resp_free(&r);
	/* The same code in lower case is the same code. */
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'contract_party','source':'customer','hetu':'131052-308t'}");
	expect_problem(&r, 409, "hetu");
	resp_free(&r);
	assert_int_equal(count_all(RAUMA "/persons"), before);
}

/* proves S-10: only where essential — a register that does not declare it refuses it */
static void test_hetu_undeclared_register_422(void **state)
{
	struct resp r;
	(void)state;
	long long before = count_all(KEMI "/persons");
	req(&r, "POST", KEMI "/persons",
	    "{'subject_group':'client_company_contact','source':'subject','hetu':'131052-308T'}");
	expect_problem(&r, 422, "hetu");
	resp_free(&r);
	assert_int_equal(count_all(KEMI "/persons"), before);
}

/*
 * proves S-10: an unrelated change keeps the henkilötunnus findable by exact match and unique
 * in the register.
 */
static void test_hetu_survives_unrelated_patch(void **state)
{
	struct resp r;
	char hetu[12];
	(void)state;
	snprintf(hetu, sizeof(hetu), "%s", fresh_hetu());
	long long id = create(RAUMA "/persons",
	                      sf("{'subject_group':'organisation_contact','source':'customer',"
	                         "'first_name':'Paula','hetu':'%s'}",
	                         hetu));
	assert_true(found(RAUMA "/persons", sf("hetu=%s", hetu), id));
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id), "{'first_name':'Pauliina'}");
	expect_status(&r, 200);
	resp_free(&r);
	if (!found(RAUMA "/persons", sf("hetu=%s", hetu), id))
		fail_msg("after PATCH first_name, ?hetu= no longer finds person %lld", id);
	req(&r, "POST", RAUMA "/persons",
	    sf("{'subject_group':'organisation_contact','source':'customer','hetu':'%s'}", hetu));
	expect_problem(&r, 409, "hetu");
	resp_free(&r);
}

/* proves S-10: the henkilötunnus can be changed and the old one is no longer found */
static void test_hetu_change_and_remove(void **state)
{
	struct resp r;
	char a[12], b[12];
	(void)state;
	snprintf(a, sizeof(a), "%s", fresh_hetu());
	snprintf(b, sizeof(b), "%s", fresh_hetu());
	long long id = create(RAUMA "/persons",
	                      sf("{'subject_group':'organisation_contact','source':'customer',"
	                         "'hetu':'%s'}",
	                         a));
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id), sf("{'hetu':'%s'}", b));
	expect_status(&r, 200);
	resp_free(&r);
	assert_false(found(RAUMA "/persons", sf("hetu=%s", a), id));
	assert_true(found(RAUMA "/persons", sf("hetu=%s", b), id));
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id), "{'hetu':null}");
	expect_status(&r, 200);
	assert_null(json_object_get(r.json, "hetu"));
	resp_free(&r);
	assert_false(found(RAUMA "/persons", sf("hetu=%s", b), id));
}

/* ------------------------------------------------------------------------------------------ */
/* Declared fields only                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Undeclared data is refused with 422 naming it, and nothing is stored. */
static void test_undeclared_top_level_field_422(void **state)
{
	struct resp r;
	(void)state;
	long long before = count_all(RAUMA "/persons");
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer','first_name':'Kenkä',"
	    "'shoe_size':'42'}");
	expect_problem(&r, 422, "shoe_size");
	assert_non_null(strstr(jget_str(r.json, "detail"), "shoe_size"));
	resp_free(&r);
	assert_int_equal(count_all(RAUMA "/persons"), before);
}

static void test_undeclared_attribute_422(void **state)
{
	struct resp r;
	(void)state;
	long long before = count_all(RAUMA "/persons");
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer',"
	    "'attributes':{'ongoing_relationship':true,'shoe_size':'42'}}");
	expect_problem(&r, 422, "attributes.shoe_size");
	resp_free(&r);
	assert_int_equal(count_all(RAUMA "/persons"), before);
}

static void test_declared_attribute_stored(void **state)
{
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer',"
	                      "'attributes':{'ongoing_relationship':true}}");
	json_t *p = get_json(sf(RAUMA "/persons/%lld", id));
	assert_true(json_is_true(
	        json_object_get(json_object_get(p, "attributes"), "ongoing_relationship")));
	json_decref(p);
}

/* A field declared only for another subject group is refused for this one. */
static void test_field_of_other_group_422(void **state)
{
	struct resp r;
	(void)state;
	long long before = count_all(TALENT "/persons");
	req(&r, "POST", TALENT "/persons",
	    "{'subject_group':'individual','source':'subject','title':'toimitusjohtaja'}");
	expect_problem(&r, 422, "title");
	resp_free(&r);
	assert_int_equal(count_all(TALENT "/persons"), before);
}

static void test_unknown_subject_group_422(void **state)
{
	struct resp r;
	(void)state;
	long long before = count_all(RAUMA "/persons");
	req(&r, "POST", RAUMA "/persons", "{'subject_group':'vip_customers','source':'customer'}");
	expect_problem(&r, 422, "subject_group");
	resp_free(&r);
	assert_int_equal(count_all(RAUMA "/persons"), before);
}

static void test_unknown_source_422(void **state)
{
	struct resp r;
	(void)state;
	long long before = count_all(RAUMA "/persons");
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'bought_list'}");
	expect_problem(&r, 422, "source");
	resp_free(&r);
	assert_int_equal(count_all(RAUMA "/persons"), before);
}

static void test_required_missing_400(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", RAUMA "/persons", "{'source':'customer'}");
	expect_problem(&r, 400, "subject_group");
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons", "{'subject_group':'organisation_contact'}");
	expect_problem(&r, 400, "source");
	resp_free(&r);
	/* A field the declaration marks required. */
	long long before = count_all(FIXTURE "/persons");
	req(&r, "POST", FIXTURE "/persons",
	    "{'subject_group':'contact','source':'subject','email':'x@example.fi'}");
	expect_problem(&r, 400, "first_name");
	resp_free(&r);
	req(&r, "POST", FIXTURE "/persons",
	    "{'subject_group':'contact','source':'subject','first_name':'   '}");
	expect_problem(&r, 400, "first_name");
	resp_free(&r);
	assert_int_equal(count_all(FIXTURE "/persons"), before);
	create(FIXTURE "/persons", "{'subject_group':'contact','source':'subject',"
	                           "'first_name':'Riikka'}");
}

static void test_required_field_cannot_be_removed(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(FIXTURE "/persons", "{'subject_group':'contact','source':'subject',"
	                                          "'first_name':'Pysyvä'}");
	req(&r, "PATCH", sf(FIXTURE "/persons/%lld", id), "{'first_name':null}");
	expect_problem(&r, 400, "first_name");
	resp_free(&r);
	json_t *p = get_json(sf(FIXTURE "/persons/%lld", id));
	expect_jstr(p, "first_name", "Pysyvä");
	json_decref(p);
}

static void test_enum_type_error_400(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", FIXTURE "/persons",
	    "{'subject_group':'contact','source':'subject','first_name':'E','language':'de'}");
	expect_problem(&r, 400, "language");
	resp_free(&r);
	req(&r, "POST", FIXTURE "/persons",
	    "{'subject_group':'contact','source':'subject','first_name':'E','language':1}");
	expect_problem(&r, 400, "language");
	resp_free(&r);
	long long id = create(FIXTURE "/persons", "{'subject_group':'contact','source':'subject',"
	                                          "'first_name':'E','language':'sv'}");
	json_t *p = get_json(sf(FIXTURE "/persons/%lld", id));
	expect_jstr(json_object_get(p, "attributes"), "language", "sv");
	json_decref(p);
}

static void test_bool_type_error_400(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer',"
	    "'ongoing_relationship':'yes'}");
	expect_problem(&r, 400, "ongoing_relationship");
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer',"
	    "'attributes':{'ongoing_relationship':1}}");
	expect_problem(&r, 400, "attributes.ongoing_relationship");
	resp_free(&r);
}

static void test_int_type_error_400(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", TALENT "/persons",
	    "{'subject_group':'individual','source':'subject','children_count':'2'}");
	expect_problem(&r, 400, "children_count");
	resp_free(&r);
	req(&r, "POST", TALENT "/persons",
	    "{'subject_group':'individual','source':'subject','children_count':2.5}");
	expect_problem(&r, 400, "children_count");
	resp_free(&r);
	long long id = create(TALENT "/persons", "{'subject_group':'individual','source':'subject',"
	                                         "'children_count':2}");
	json_t *p = get_json(sf(TALENT "/persons/%lld", id));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "attributes"),
	                                                    "children_count")),
	                 2);
	json_decref(p);
}

static void test_bad_email_phone_date_400(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer','email':'no-at-sign'}");
	expect_problem(&r, 400, "email");
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer','phone':'12'}");
	expect_problem(&r, 400, "phone");
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer',"
	    "'birth_date':'2023-02-29'}");
	expect_problem(&r, 400, "birth_date");
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','source':'customer',"
	    "'last_customer_event':'yesterday'}");
	expect_problem(&r, 400, "last_customer_event");
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* Requests: JSON, size, paths, methods                                                       */
/* ------------------------------------------------------------------------------------------ */

static void test_malformed_json_400(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", RAUMA "/persons", "{'subject_group':");
	expect_problem(&r, 400, NULL);
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons", "[1,2]");
	expect_problem(&r, 400, NULL);
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons", NULL);
	expect_problem(&r, 400, NULL);
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact','subject_group':'consenting_person',"
	    "'source':'customer'}");
	expect_problem(&r, 400, NULL);
	resp_free(&r);
}

static void test_body_over_1mib_413(void **state)
{
	struct resp r;
	(void)state;
	long long before = count_all(RAUMA "/persons");
	size_t n = MIB + 1;
	char *b = malloc(n);
	assert_non_null(b);
	/* A syntactically valid person whose name makes it one byte too large. */
	const char *head = "{\"subject_group\":\"organisation_contact\",\"source\":\"customer\","
	                   "\"first_name\":\"";
	memset(b, 'a', n);
	memcpy(b, head, strlen(head));
	memcpy(b + n - 2, "\"}", 2);
	req_raw(&r, "POST", RAUMA "/persons", b, n);
	expect_problem(&r, 413, NULL);
	resp_free(&r);
	/* Just under the limit is read and judged on its content (a name too long), not 413. */
	memcpy(b + MIB - 1 - 2, "\"}", 2);
	req_raw(&r, "POST", RAUMA "/persons", b, MIB - 1);
	expect_problem(&r, 400, "first_name");
	resp_free(&r);
	free(b);
	assert_int_equal(count_all(RAUMA "/persons"), before);
}

static void test_unknown_register_404(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", "/api/v1/registers/no-such-register/persons",
	    "{'subject_group':'organisation_contact','source':'customer'}");
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	req(&r, "GET", "/api/v1/registers/no-such-register/persons", NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	req(&r, "GET", "/api/v1/registers/no-such-register/persons/1", NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	req(&r, "GET", "/api/v1/registers/no-such-register", NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	req(&r, "GET", "/api/v1/registers/no-such-register/versions", NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	req(&r, "GET", "/api/v1/registers/example-crm", NULL); /* the template is never loaded */
	expect_problem(&r, 404, NULL);
	resp_free(&r);
}

static void test_unknown_id_404(void **state)
{
	static const char *const paths[] = {RAUMA "/persons/987654321",
	                                    RAUMA "/organisations/987654321",
	                                    RAUMA "/affiliations/987654321"};
	struct resp r;
	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		req(&r, "GET", paths[i], NULL);
		expect_problem(&r, 404, NULL);
		resp_free(&r);
		req(&r, "PATCH", paths[i], "{}");
		expect_problem(&r, 404, NULL);
		resp_free(&r);
		req(&r, "DELETE", paths[i], NULL);
		expect_problem(&r, 404, NULL);
		resp_free(&r);
	}
}

static void test_non_numeric_id_404(void **state)
{
	static const char *const ids[] = {
	        "abc", "0", "-1", "1.5", "1a", "+1", "99999999999999999999999"};
	struct resp r;
	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		req(&r, "GET", sf(RAUMA "/persons/%s", ids[i]), NULL);
		expect_problem(&r, 404, NULL);
		resp_free(&r);
	}
}

static void test_unknown_path_404(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "GET", "/api/v1/nothing-here", NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	req(&r, "GET", RAUMA "/persons/1/extra", NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
}

/* True when the comma-separated Allow value lists `method`. */
static bool allow_lists(const char *allow, const char *method)
{
	size_t n = strlen(method);
	for (const char *p = allow; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == n && strncmp(p, method, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* 405 names every method the resource does answer (RFC 9110 §15.5.6). */
static void test_wrong_method_405_allow(void **state)
{
	struct resp r;
	char allow[256];
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer'}");
	req(&r, "PUT", sf(RAUMA "/persons/%lld", id), "{}");
	expect_status(&r, 405);
	assert_true(header(&r, "Allow", allow, sizeof(allow)));
	if (!allow_lists(allow, "GET") || !allow_lists(allow, "PATCH") ||
	    !allow_lists(allow, "DELETE"))
		fail_msg("PUT /persons/{id}: Allow is '%s', expected GET, PATCH, DELETE", allow);
	resp_free(&r);
	req(&r, "DELETE", RAUMA "/persons", NULL);
	expect_status(&r, 405);
	assert_true(header(&r, "Allow", allow, sizeof(allow)));
	if (!allow_lists(allow, "GET") || !allow_lists(allow, "POST"))
		fail_msg("DELETE /persons: Allow is '%s', expected GET, POST", allow);
	resp_free(&r);
	req(&r, "POST", "/healthz", "{}");
	expect_status(&r, 405);
	assert_true(header(&r, "Allow", allow, sizeof(allow)));
	assert_true(allow_lists(allow, "GET"));
	resp_free(&r);
}

static void test_wrong_method_405_problem(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "PUT", RAUMA "/persons", "{}");
	expect_problem(&r, 405, NULL);
	resp_free(&r);
}

/* A GET resource answers HEAD too (RFC 9110 §9.3.2: GET and HEAD are required). */
static void test_head_answers_like_get(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "HEAD", "/healthz", NULL);
	expect_status(&r, 200);
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* PATCH and DELETE                                                                           */
/* ------------------------------------------------------------------------------------------ */

/* proves R-06: a correction keeps old value, new value, who and why */
static void test_patch_phone_keeps_history(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer',"
	                      "'first_name':'Hilkka','phone':'040 123 4567'}");
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id),
	    "{'phone':'050 765 4321','reason':'asiakas ilmoitti uuden numeron'}");
	expect_status(&r, 200);
	expect_jstr(r.json, "phone", "+358507654321");
	assert_null(json_object_get(r.json, "history"));
	resp_free(&r);

	json_t *p = get_json(sf(RAUMA "/persons/%lld?history=true", id));
	json_t *hist = json_object_get(p, "history"), *h, *hit = NULL;
	size_t i;
	assert_true(json_is_array(hist));
	json_array_foreach (hist, i, h) {
		if (strcmp(jget_str(h, "field"), "phone") == 0)
			hit = h;
	}
	assert_non_null(hit);
	expect_jstr(hit, "old", "+358401234567");
	expect_jstr(hit, "new", "+358507654321");
	expect_jstr(hit, "actor", "token:1:tester");
	expect_jstr(hit, "reason", "asiakas ilmoitti uuden numeron");
	assert_true(is_iso_utc(jget_str(hit, "at")));
	assert_int_equal(json_integer_value(json_object_get(p, "version")), 2);
	json_decref(p);
}

/* proves R-06: an unnecessary value can be removed, and the removal is in the history */
static void test_patch_null_removes_optional(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer',"
	                      "'email':'olli.optio@example.fi','phone':'040 765 1111'}");
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id), "{'phone':null,'reason':'tarpeeton'}");
	expect_status(&r, 200);
	resp_free(&r);
	json_t *p = get_json(sf(RAUMA "/persons/%lld?history=true", id));
	assert_null(json_object_get(p, "phone"));
	expect_jstr(p, "email", "olli.optio@example.fi");
	json_t *cps = json_object_get(p, "contact_points"), *x;
	size_t i;
	assert_int_equal(json_array_size(cps), 1);
	json_array_foreach (cps, i, x) {
		assert_string_not_equal(jget_str(x, "kind"), "phone");
	}
	json_t *h = json_array_get(json_object_get(p, "history"), 0);
	expect_jstr(h, "field", "phone");
	expect_jstr(h, "old", "+358407651111");
	assert_true(json_is_null(json_object_get(h, "new")));
	json_decref(p);
}

static void test_patch_undeclared_422_no_change(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer',"
	                      "'first_name':'Muuttumaton'}");
	json_t *before = get_json(sf(RAUMA "/persons/%lld", id));
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id),
	    "{'first_name':'Muuttunut','shoe_size':'42'}");
	expect_problem(&r, 422, "shoe_size");
	resp_free(&r);
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id),
	    "{'first_name':'Muuttunut','attributes':{'shoe_size':'42'}}");
	expect_problem(&r, 422, "attributes.shoe_size");
	resp_free(&r);
	req(&r, "PATCH", sf(RAUMA "/persons/%lld", id), "{'first_name':'Muuttunut','email':'x'}");
	expect_problem(&r, 400, "email");
	resp_free(&r);
	json_t *after = get_json(sf(RAUMA "/persons/%lld?history=true", id));
	expect_jstr(after, "first_name", "Muuttumaton");
	assert_int_equal(json_integer_value(json_object_get(after, "version")),
	                 json_integer_value(json_object_get(before, "version")));
	expect_jstr(after, "updated_at", jget_str(before, "updated_at"));
	assert_int_equal(json_array_size(json_object_get(after, "history")), 0);
	json_decref(before);
	json_decref(after);
}

/* proves R-07: erasure; the person is gone from reads, searches and exact-match lookup */
static void test_delete_204_then_gone(void **state)
{
	struct resp r;
	char hetu[12];
	(void)state;
	snprintf(hetu, sizeof(hetu), "%s", fresh_hetu());
	long long id = create(RAUMA "/persons",
	                      sf("{'subject_group':'organisation_contact','source':'customer',"
	                         "'first_name':'Unto','last_name':'Unohdettava',"
	                         "'email':'unto@example.fi','hetu':'%s'}",
	                         hetu));
	assert_true(found(RAUMA "/persons", "q=unohdettava", id));
	req(&r, "DELETE", sf(RAUMA "/persons/%lld", id), NULL);
	expect_status(&r, 204);
	assert_int_equal(r.body.len, 0);
	resp_free(&r);
	req(&r, "GET", sf(RAUMA "/persons/%lld", id), NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	assert_false(found(RAUMA "/persons", "q=unohdettava", id));
	assert_false(found(RAUMA "/persons", "q=unto", id));
	assert_false(found(RAUMA "/persons", sf("hetu=%s", hetu), id));
	req(&r, "DELETE", sf(RAUMA "/persons/%lld", id), NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	/* Erased, the code may be given to a new person. */
	create(RAUMA "/persons",
	       sf("{'subject_group':'organisation_contact','source':'customer','hetu':'%s'}",
	          hetu));
}

/*
 * An id names one person for good: after an erasure, a new person never gets the erased
 * person's id (else old links, logs and usage-log entries would point at someone else).
 */
static void test_deleted_id_not_reused(void **state)
{
	struct resp r;
	(void)state;
	long long a = create(SOSPRO "/persons",
	                     "{'subject_group':'municipality_contact','source':'subject'}");
	req(&r, "DELETE", sf(SOSPRO "/persons/%lld", a), NULL);
	expect_status(&r, 204);
	resp_free(&r);
	long long b = create(SOSPRO "/persons",
	                     "{'subject_group':'municipality_contact','source':'subject'}");
	if (b == a)
		fail_msg("the erased person's id %lld was given to a new person", a);
}

/* Rows of one register are invisible through another. */
static void test_other_register_cannot_reach(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer',"
	                      "'last_name':'Rajattu'}");
	req(&r, "GET", sf(KEMI "/persons/%lld", id), NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	req(&r, "PATCH", sf(KEMI "/persons/%lld", id), "{'first_name':'X'}");
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	req(&r, "DELETE", sf(KEMI "/persons/%lld", id), NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	assert_false(found(KEMI "/persons", "q=rajattu", id));
	json_t *p = get_json(sf(RAUMA "/persons/%lld", id));
	json_decref(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Search and pagination                                                                      */
/* ------------------------------------------------------------------------------------------ */

static void test_search_ignores_case_and_diacritics(void **state)
{
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer',"
	                      "'first_name':'Anna','last_name':'Arni-Hardén'}");
	assert_true(found(RAUMA "/persons", "q=harden", id));
	assert_true(found(RAUMA "/persons", "q=HARDEN", id));
	assert_true(found(RAUMA "/persons", "q=hard%C3%A9n", id));
	assert_true(found(RAUMA "/persons", "q=anna%20harden", id));
	assert_true(found(RAUMA "/persons", "q=arn", id));      /* prefix */
	assert_false(found(RAUMA "/persons", "q=rden", id));    /* not a word's start */
	assert_false(found(RAUMA "/persons", "q=hardenx", id)); /* not a prefix */
}

static void test_search_prefix_virt(void **state)
{
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer',"
	                      "'first_name':'Ville','last_name':'Virtanen'}");
	json_t *page = get_json(RAUMA "/persons?q=virt");
	assert_true(items_have_id(page, id));
	json_t *it, *items = json_object_get(page, "items");
	size_t i;
	json_array_foreach (items, i, it) {
		if (json_integer_value(json_object_get(it, "id")) == id)
			expect_jstr(it, "last_name", "Virtanen");
	}
	json_decref(page);
	assert_false(found(KEMI "/persons", "q=virt", id)); /* another register */
}

static void test_search_empty_query_400(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "GET", RAUMA "/persons?q=%20-%20", NULL);
	expect_problem(&r, 400, "q");
	resp_free(&r);
}

static void test_cursor_pagination(void **state)
{
	long long ids[7], seen[7];
	int nseen = 0;
	char cursor[128] = "";
	int sizes[3];
	(void)state;
	for (int i = 0; i < 7; i++)
		ids[i] = create(RAUMA "/persons",
		                sf("{'subject_group':'organisation_contact','source':'customer',"
		                   "'first_name':'T%d','last_name':'Testinen'}",
		                   i));
	for (int page_no = 0; page_no < 3; page_no++) {
		json_t *page =
		        get_json(page_no ? sf(RAUMA "/persons?q=testinen&limit=3&cursor=%s", cursor)
		                         : RAUMA "/persons?q=testinen&limit=3");
		json_t *items = json_object_get(page, "items"), *it;
		size_t i;
		sizes[page_no] = (int)json_array_size(items);
		json_array_foreach (items, i, it) {
			long long id = json_integer_value(json_object_get(it, "id"));
			for (int k = 0; k < nseen; k++)
				if (seen[k] == id)
					fail_msg("person %lld on two pages", id);
			assert_true(nseen < 7);
			seen[nseen++] = id;
		}
		json_t *next = json_object_get(page, "next");
		if (page_no < 2) {
			assert_true(json_is_string(next));
			snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
		} else {
			assert_true(json_is_null(next));
		}
		json_decref(page);
	}
	assert_int_equal(sizes[0], 3);
	assert_int_equal(sizes[1], 3);
	assert_int_equal(sizes[2], 1);
	for (int i = 0; i < 7; i++) {
		bool hit = false;
		for (int k = 0; k < nseen; k++)
			hit = hit || seen[k] == ids[i];
		assert_true(hit);
	}
}

static void test_bad_cursor_400(void **state)
{
	static const char *const bad[] = {
	        "zzz", "c", "cg", "C10", "c-1", "c10000000000000000", "c8000000000000000"};
	struct resp r;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req(&r, "GET", sf(RAUMA "/persons?cursor=%s", bad[i]), NULL);
		expect_problem(&r, 400, "cursor");
		resp_free(&r);
		req(&r, "GET", sf(RAUMA "/organisations?cursor=%s", bad[i]), NULL);
		expect_problem(&r, 400, "cursor");
		resp_free(&r);
	}
}

static void test_bad_limit_400(void **state)
{
	static const char *const bad[] = {"0",   "abc", "-1",     "",
	                                  "1e3", "3.0", "100001", "99999999999999999999"};
	struct resp r;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req(&r, "GET", sf(RAUMA "/persons?limit=%s", bad[i]), NULL);
		expect_problem(&r, 400, "limit");
		resp_free(&r);
	}
	req(&r, "GET", RAUMA "/affiliations?person_id=abc", NULL);
	expect_problem(&r, 400, "person_id");
	resp_free(&r);
}

/*
 * Nineteen digits fit the parser's length check but not a 64-bit integer: the answer must be
 * 400 without signed overflow on the way (the sanitizer build reports one in the server's
 * stderr, which the group teardown fails on).
 */
static void test_int_arg_overflow_400(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "GET", RAUMA "/persons?limit=9999999999999999999", NULL);
	expect_problem(&r, 400, "limit");
	resp_free(&r);
	req(&r, "GET", RAUMA "/affiliations?person_id=9999999999999999999", NULL);
	expect_problem(&r, 400, "person_id");
	resp_free(&r);
}

/* Limits are capped: a huge limit gives at most page_max (200) rows and a cursor. */
static void test_limit_capped(void **state)
{
	(void)state;
	while (count_all(KEMI "/persons") <= 200)
		create(KEMI "/persons", "{'subject_group':'partner_contact','source':'subject'}");
	json_t *page = get_json(KEMI "/persons?limit=100000");
	assert_int_equal(json_array_size(json_object_get(page, "items")), 200);
	assert_true(json_is_string(json_object_get(page, "next")));
	json_decref(page);
}

/* ------------------------------------------------------------------------------------------ */
/* Organisations and affiliations                                                             */
/* ------------------------------------------------------------------------------------------ */

static void test_org_create_with_ytunnus(void **state)
{
	(void)state;
	long long id = create(RAUMA "/organisations",
	                      "{'name':'Rauman Testivalimo Oy','ytunnus':'0112038-9',"
	                      "'postal_code':'26100','postal_city':'Rauma','source':'public_web'}");
	json_t *o = get_json(sf(RAUMA "/organisations/%lld", id));
	expect_jstr(o, "name", "Rauman Testivalimo Oy");
	expect_jstr(o, "ytunnus", "0112038-9");
	expect_jstr(o, "postal_code", "26100");
	expect_jstr(o, "source", "public_web");
	json_decref(o);
	/* An old six-digit id takes a leading zero. */
	id = create(RAUMA "/organisations",
	            "{'name':'Vanha Tunnus Oy','ytunnus':'123456-2','source':'public_web'}");
	o = get_json(sf(RAUMA "/organisations/%lld", id));
	expect_jstr(o, "ytunnus", "0123456-2");
	json_decref(o);
}

static void test_org_invalid_ytunnus_400(void **state)
{
	struct resp r;
	(void)state;
	long long before = count_all(RAUMA "/organisations");
	req(&r, "POST", RAUMA "/organisations",
	    "{'name':'Väärä Oy','ytunnus':'0112038-8','source':'public_web'}");
	expect_problem(&r, 400, "ytunnus");
	resp_free(&r);
	req(&r, "POST", RAUMA "/organisations",
	    "{'name':'Väärä Oy','ytunnus':'01120389','source':'public_web'}");
	expect_problem(&r, 400, "ytunnus");
	resp_free(&r);
	assert_int_equal(count_all(RAUMA "/organisations"), before);
}

static void test_org_postal_code_400(void **state)
{
	static const char *const bad[] = {"2610", "261000", "26l00", "26100a"};
	struct resp r;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req(&r, "POST", RAUMA "/organisations",
		    sf("{'name':'Posti Oy','postal_code':'%s','source':'public_web'}", bad[i]));
		expect_problem(&r, 400, "postal_code");
		resp_free(&r);
	}
	create(RAUMA "/organisations",
	       "{'name':'Posti Oy','postal_code':'02070','source':'public_web'}");
}

static void test_org_required_and_undeclared(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "POST", RAUMA "/organisations", "{'source':'public_web'}");
	expect_problem(&r, 400, "name");
	resp_free(&r);
	req(&r, "POST", RAUMA "/organisations", "{'name':'Lähteetön Oy'}");
	expect_problem(&r, 400, "source");
	resp_free(&r);
	req(&r, "POST", RAUMA "/organisations", "{'name':'Lähteetön Oy','source':'rumour'}");
	expect_problem(&r, 422, "source");
	resp_free(&r);
	req(&r, "POST", RAUMA "/organisations",
	    "{'name':'Liikaa Oy','source':'public_web','ceo':'Jaska'}");
	expect_problem(&r, 422, "ceo");
	resp_free(&r);
}

static void test_org_search_by_name(void **state)
{
	(void)state;
	long long id = create(RAUMA "/organisations",
	                      "{'name':'Äänekosken Öljymylly Oy','source':'public_web'}");
	assert_true(found(RAUMA "/organisations", "q=oljymylly", id));
	assert_true(found(RAUMA "/organisations", "q=%C3%A4%C3%A4nek", id)); /* "ään" prefix */
	assert_false(found(RAUMA "/organisations", "q=mylly", id));
	assert_false(found(KEMI "/organisations", "q=oljymylly", id));
}

static void test_org_patch_and_delete(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(RAUMA "/organisations", "{'name':'Muuttuva Oy','source':'public_web',"
	                                              "'postal_code':'26100'}");
	req(&r, "PATCH", sf(RAUMA "/organisations/%lld", id),
	    "{'name':'Muuttunut Oy','postal_code':null}");
	expect_status(&r, 200);
	expect_jstr(r.json, "name", "Muuttunut Oy");
	assert_true(json_is_null(json_object_get(r.json, "postal_code")));
	resp_free(&r);
	req(&r, "PATCH", sf(RAUMA "/organisations/%lld", id), "{'name':null}");
	expect_problem(&r, 400, "name");
	resp_free(&r);
	assert_true(found(RAUMA "/organisations", "q=muuttunut", id));
	assert_false(found(RAUMA "/organisations", "q=muuttuva", id));
	req(&r, "DELETE", sf(RAUMA "/organisations/%lld", id), NULL);
	expect_status(&r, 204);
	resp_free(&r);
	req(&r, "GET", sf(RAUMA "/organisations/%lld", id), NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	assert_false(found(RAUMA "/organisations", "q=muuttunut", id));
}

static void test_affiliation_shown_on_person(void **state)
{
	(void)state;
	long long pid = create(RAUMA "/persons", "{'subject_group':'organisation_contact',"
	                                         "'source':'customer','last_name':'Työläinen'}");
	long long oid =
	        create(RAUMA "/organisations", "{'name':'Työnantaja Oy','source':'public_web'}");
	long long aid = create(RAUMA "/affiliations",
	                       sf("{'person_id':%lld,'organisation_id':%lld,"
	                          "'title':'toimitusjohtaja','start_date':'2020-01-01'}",
	                          pid, oid));
	json_t *p = get_json(sf(RAUMA "/persons/%lld", pid));
	json_t *a = json_array_get(json_object_get(p, "affiliations"), 0);
	assert_non_null(a);
	assert_int_equal(json_integer_value(json_object_get(a, "id")), aid);
	assert_int_equal(json_integer_value(json_object_get(a, "organisation_id")), oid);
	expect_jstr(a, "organisation", "Työnantaja Oy");
	expect_jstr(a, "title", "toimitusjohtaja");
	expect_jstr(a, "start_date", "2020-01-01");
	assert_true(json_is_null(json_object_get(a, "end_date")));
	json_decref(p);
	json_t *list = get_json(sf(RAUMA "/affiliations?person_id=%lld", pid));
	assert_int_equal(json_array_size(json_object_get(list, "items")), 1);
	json_decref(list);
}

static void test_affiliation_end_before_start_400(void **state)
{
	struct resp r;
	(void)state;
	long long pid = create(RAUMA "/persons",
	                       "{'subject_group':'organisation_contact','source':'customer'}");
	long long oid =
	        create(RAUMA "/organisations", "{'name':'Aikajana Oy','source':'public_web'}");
	req(&r, "POST", RAUMA "/affiliations",
	    sf("{'person_id':%lld,'organisation_id':%lld,'start_date':'2020-01-01',"
	       "'end_date':'2019-12-31'}",
	       pid, oid));
	expect_problem(&r, 400, "end_date");
	resp_free(&r);
	long long aid = create(RAUMA "/affiliations", sf("{'person_id':%lld,'organisation_id':%lld,"
	                                                 "'start_date':'2020-01-01'}",
	                                                 pid, oid));
	req(&r, "PATCH", sf(RAUMA "/affiliations/%lld", aid), "{'end_date':'2019-01-01'}");
	expect_problem(&r, 400, "end_date");
	resp_free(&r);
	req(&r, "PATCH", sf(RAUMA "/affiliations/%lld", aid),
	    "{'end_date':'2024-05-31','end_reason':'employment_ended'}");
	expect_status(&r, 200);
	expect_jstr(r.json, "end_date", "2024-05-31");
	expect_jstr(r.json, "end_reason", "employment_ended");
	resp_free(&r);
}

/* proves L-05: ending a Sospro contact's only employment over the API deletes them at once
 * (the register's rule), so the PATCH answers 204 and the person is gone. */
static void test_affiliation_employment_ended_deletes_204(void **state)
{
	struct resp r;
	(void)state;
	long long pid = create(SOSPRO "/persons",
	                       "{'subject_group':'municipality_contact','source':'subject'}");
	long long oid = create(SOSPRO "/organisations", "{'name':'Lähtö Oy','source':'public'}");
	long long aid = create(SOSPRO "/affiliations",
	                       sf("{'person_id':%lld,'organisation_id':%lld}", pid, oid));
	req(&r, "PATCH", sf(SOSPRO "/affiliations/%lld", aid),
	    "{'end_date':'2024-05-31','end_reason':'employment_ended'}");
	expect_status(&r, 204);
	resp_free(&r);
	req(&r, "GET", sf(SOSPRO "/persons/%lld", pid), NULL);
	expect_status(&r, 404);
	resp_free(&r);
}

/* proves L-02: a manager holds a person over the API; the plan lists the hold (by id, never
 * the reason) until it is released. */
static void test_retention_hold_and_plan(void **state)
{
	struct resp r;
	(void)state;
	long long pid = create(RAUMA "/persons",
	                       "{'subject_group':'organisation_contact','source':'customer',"
	                       "'last_name':'Pidätys'}");
	req(&r, "POST", sf(RAUMA "/persons/%lld/hold", pid), "{'reason':'oikeusasia 12/2026'}");
	expect_status(&r, 204);
	resp_free(&r);
	req(&r, "POST", sf(RAUMA "/persons/%lld/hold", pid), "{'reason':'again'}");
	expect_problem(&r, 409, "person");
	resp_free(&r);
	req(&r, "POST", sf(RAUMA "/persons/%lld/hold", pid), "{'reason':'x','until':'2030'}");
	expect_problem(&r, 400, "until");
	resp_free(&r);
	req(&r, "GET", RAUMA "/retention", NULL);
	expect_status(&r, 200);
	json_t *reg = json_array_get(json_object_get(r.json, "registers"), 0);
	assert_string_equal(jget_str(reg, "register"), "rauma-crm");
	json_t *holds = json_object_get(reg, "holds"), *h;
	size_t i;
	bool listed = false;
	json_array_foreach (holds, i, h)
		listed = listed || json_integer_value(json_object_get(h, "person")) == pid;
	assert_true(listed);
	assert_null(strstr(r.body.p, "oikeusasia"));
	assert_null(strstr(r.body.p, "Pidätys"));
	resp_free(&r);
	req(&r, "DELETE", sf(RAUMA "/persons/%lld/hold", pid), NULL);
	expect_status(&r, 204);
	resp_free(&r);
	req(&r, "DELETE", sf(RAUMA "/persons/%lld/hold", pid), NULL);
	expect_problem(&r, 404, "person");
	resp_free(&r);
}

static void test_affiliation_end_reason_without_end_400(void **state)
{
	struct resp r;
	(void)state;
	long long pid = create(RAUMA "/persons",
	                       "{'subject_group':'organisation_contact','source':'customer'}");
	long long oid = create(RAUMA "/organisations", "{'name':'Syy Oy','source':'public_web'}");
	req(&r, "POST", RAUMA "/affiliations",
	    sf("{'person_id':%lld,'organisation_id':%lld,'end_reason':'employment_ended'}", pid,
	       oid));
	expect_problem(&r, 400, "end_reason");
	resp_free(&r);
	req(&r, "POST", RAUMA "/affiliations",
	    sf("{'person_id':%lld,'organisation_id':%lld,'end_date':'2024-01-01',"
	       "'end_reason':'fired_into_space'}",
	       pid, oid));
	expect_problem(&r, 400, "end_reason");
	resp_free(&r);
	req(&r, "POST", RAUMA "/affiliations",
	    sf("{'person_id':%lld,'organisation_id':%lld,'start_date':'2020-02-30'}", pid, oid));
	expect_problem(&r, 400, "start_date");
	resp_free(&r);
}

/* The title is personal data: a register that declares no `title` refuses it. */
static void test_affiliation_title_undeclared_422(void **state)
{
	struct resp r;
	(void)state;
	long long pid = create(FEEDBACK "/persons",
	                       "{'subject_group':'raffle_participants','source':'subject',"
	                       "'email':'arpa@example.fi'}");
	long long oid =
	        create(FEEDBACK "/organisations", "{'name':'Arpajais Oy','source':'subject'}");
	long long before = count_all(FEEDBACK "/affiliations");
	req(&r, "POST", FEEDBACK "/affiliations",
	    sf("{'person_id':%lld,'organisation_id':%lld,'title':'myyjä'}", pid, oid));
	expect_problem(&r, 422, "title");
	resp_free(&r);
	assert_int_equal(count_all(FEEDBACK "/affiliations"), before);
	create(FEEDBACK "/affiliations", sf("{'person_id':%lld,'organisation_id':%lld}", pid, oid));
}

/*
 * The title is declared per subject group like every field: Espoo Talent Hub declares it for
 * company contacts only, so an individual's affiliation may not carry one.
 */
static void test_affiliation_title_other_group_422(void **state)
{
	struct resp r;
	(void)state;
	long long pid =
	        create(TALENT "/persons",
	               "{'subject_group':'individual','source':'subject','first_name':'I'}");
	long long oid =
	        create(TALENT "/organisations", "{'name':'Työpaikka Oy','source':'subject'}");
	req(&r, "POST", TALENT "/affiliations",
	    sf("{'person_id':%lld,'organisation_id':%lld,'title':'kehittäjä'}", pid, oid));
	expect_problem(&r, 422, "title");
	resp_free(&r);
}

static void test_affiliation_ends_must_exist(void **state)
{
	struct resp r;
	(void)state;
	long long pid = create(RAUMA "/persons",
	                       "{'subject_group':'organisation_contact','source':'customer'}");
	long long oid =
	        create(RAUMA "/organisations", "{'name':'Olemassa Oy','source':'public_web'}");
	req(&r, "POST", RAUMA "/affiliations",
	    sf("{'person_id':%lld,'organisation_id':987654321}", pid));
	expect_problem(&r, 404, "organisation_id");
	resp_free(&r);
	req(&r, "POST", RAUMA "/affiliations",
	    sf("{'person_id':987654321,'organisation_id':%lld}", oid));
	expect_problem(&r, 404, "person_id");
	resp_free(&r);
	req(&r, "POST", RAUMA "/affiliations", sf("{'person_id':%lld}", pid));
	expect_problem(&r, 400, "organisation_id");
	resp_free(&r);
	/* Both ends must be in the register of the URL. */
	req(&r, "POST", KEMI "/affiliations",
	    sf("{'person_id':%lld,'organisation_id':%lld}", pid, oid));
	expect_problem(&r, 404, "person_id");
	resp_free(&r);
}

static void test_org_delete_removes_affiliations(void **state)
{
	struct resp r;
	(void)state;
	long long pid = create(RAUMA "/persons",
	                       "{'subject_group':'organisation_contact','source':'customer'}");
	long long oid =
	        create(RAUMA "/organisations", "{'name':'Lopettava Oy','source':'public_web'}");
	long long aid = create(RAUMA "/affiliations",
	                       sf("{'person_id':%lld,'organisation_id':%lld}", pid, oid));
	req(&r, "DELETE", sf(RAUMA "/organisations/%lld", oid), NULL);
	expect_status(&r, 204);
	resp_free(&r);
	req(&r, "GET", sf(RAUMA "/affiliations/%lld", aid), NULL);
	expect_problem(&r, 404, NULL);
	resp_free(&r);
	json_t *p = get_json(sf(RAUMA "/persons/%lld", pid));
	assert_int_equal(json_array_size(json_object_get(p, "affiliations")), 0);
	json_decref(p);
}

/* ------------------------------------------------------------------------------------------ */
/* Health, headers, problems                                                                  */
/* ------------------------------------------------------------------------------------------ */

static void test_healthz(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "GET", "/healthz", NULL);
	expect_status(&r, 200);
	expect_jstr(r.json, "status", "ok");
	resp_free(&r);
}

static void expect_security_headers(const struct resp *r)
{
	char v[512];
	if (!header(r, "X-Content-Type-Options", v, sizeof(v)) || strcasecmp(v, "nosniff") != 0)
		fail_msg("HTTP %ld: X-Content-Type-Options missing or not nosniff", r->status);
	if (!header(r, "Content-Security-Policy", v, sizeof(v)))
		fail_msg("HTTP %ld: no Content-Security-Policy", r->status);
	if (!strstr(v, "frame-ancestors 'none'"))
		fail_msg("HTTP %ld: CSP without frame-ancestors 'none': %s", r->status, v);
	if (strstr(v, "unsafe-inline") || strstr(v, "unsafe-eval"))
		fail_msg("HTTP %ld: CSP allows inline script: %s", r->status, v);
}

/* Security headers on every response: success, created, deleted and each kind of error. */
static void test_security_headers_everywhere(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "GET", "/healthz", NULL);
	expect_security_headers(&r);
	resp_free(&r);
	req(&r, "GET", "/", NULL);
	expect_status(&r, 200);
	expect_security_headers(&r);
	resp_free(&r);
	req(&r, "POST", KEMI "/persons",
	    "{'subject_group':'client_company_contact','source':'subject'}");
	long long id = expect_created(&r, KEMI "/persons");
	expect_security_headers(&r);
	resp_free(&r);
	req(&r, "DELETE", sf(KEMI "/persons/%lld", id), NULL);
	expect_status(&r, 204);
	expect_security_headers(&r);
	resp_free(&r);
	req(&r, "GET", "/no/such/page", NULL);
	expect_status(&r, 404);
	expect_security_headers(&r);
	resp_free(&r);
	req(&r, "PUT", "/healthz", NULL);
	expect_status(&r, 405);
	expect_security_headers(&r);
	resp_free(&r);
	req(&r, "POST", KEMI "/persons", "{");
	expect_status(&r, 400);
	expect_security_headers(&r);
	resp_free(&r);
	req(&r, "POST", KEMI "/persons",
	    "{'subject_group':'client_company_contact',"
	    "'source':'subject','hetu':'131052-308T'}");
	expect_status(&r, 422);
	expect_security_headers(&r);
	resp_free(&r);
}

static void test_problem_json_shape(void **state)
{
	struct resp r;
	(void)state;
	req(&r, "GET", RAUMA "/persons/987654321", NULL);
	expect_problem(&r, 404, "id");
	assert_non_null(jget_str(r.json, "type"));
	resp_free(&r);
	req(&r, "POST", RAUMA "/persons",
	    "{'subject_group':'organisation_contact',"
	    "'source':'customer','email':'@'}");
	expect_problem(&r, 400, "email");
	assert_non_null(jget_str(json_array_get(json_object_get(r.json, "errors"), 0), "message"));
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* Keep-alive                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/*
 * Runs `n` requests on one handle; the first opens the only connection, every later one
 * reuses it (DESIGN.md §6: answering on the first call of the access handler would close it).
 */
static void expect_reused(CURL *h, int i, const char *what)
{
	long nc = -1;
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nc);
	if (nc != (i == 0 ? 1 : 0))
		fail_msg("%s: request %d opened %ld connections", what, i, nc);
}

static void test_keepalive_get(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(RAUMA "/persons",
	                      "{'subject_group':'organisation_contact','source':'customer'}");
	CURL *h = curl_easy_init();
	assert_non_null(h);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(perform(h, "GET", sf(RAUMA "/persons/%lld", id), NULL, 0, &r),
		                 CURLE_OK);
		expect_status(&r, 200);
		resp_free(&r);
		expect_reused(h, i, "GET");
	}
	curl_easy_cleanup(h);
}

static void test_keepalive_post(void **state)
{
	static const char body[] =
	        "{\"subject_group\":\"client_company_contact\",\"source\":\"subject\"}";
	struct resp r;
	(void)state;
	CURL *h = curl_easy_init();
	assert_non_null(h);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(perform(h, "POST", KEMI "/persons", body, strlen(body), &r),
		                 CURLE_OK);
		expect_status(&r, 201);
		resp_free(&r);
		expect_reused(h, i, "POST");
	}
	curl_easy_cleanup(h);
}

static void test_keepalive_errors(void **state)
{
	static const struct {
		const char *method, *path, *body;
		long status;
	} reqs[] = {
	        {"GET", RAUMA "/persons/987654321", NULL, 404},
	        {"GET", "/no/such/path", NULL, 404},
	        {"POST", RAUMA "/persons", "{bad json", 400},
	        {"POST", RAUMA "/persons", "{\"subject_group\":\"x\",\"source\":\"customer\"}",
	         422},
	        {"PUT", RAUMA "/persons", "{}", 405},
	        {"GET", RAUMA "/persons?limit=abc", NULL, 400},
	        {"GET", RAUMA "/persons/1?reveal=x", NULL, 400},
	        {"GET", "/healthz", NULL, 200},
	};
	struct resp r;
	(void)state;
	size_t big_len = MIB + 100;
	char *big = malloc(big_len);
	assert_non_null(big);
	memset(big, ' ', big_len);
	CURL *h = curl_easy_init();
	assert_non_null(h);
	for (int i = 0; i < 50; i++) {
		const char *method, *path, *body;
		size_t len;
		long status;
		if (i % 10 == 9) { /* now and then a body that is too large */
			method = "POST";
			path = RAUMA "/persons";
			body = big;
			len = big_len;
			status = 413;
		} else {
			size_t k = (size_t)i % (sizeof(reqs) / sizeof(reqs[0]));
			method = reqs[k].method;
			path = reqs[k].path;
			body = reqs[k].body;
			len = body ? strlen(body) : 0;
			status = reqs[k].status;
		}
		assert_int_equal(perform(h, method, path, body, len, &r), CURLE_OK);
		if (r.status != status)
			fail_msg("%s %s: HTTP %ld, expected %ld", method, path, r.status, status);
		resp_free(&r);
		expect_reused(h, i, path);
	}
	curl_easy_cleanup(h);
	free(big);
}

/* ------------------------------------------------------------------------------------------ */
/* Concurrency                                                                                */
/* ------------------------------------------------------------------------------------------ */

#define CONC_THREADS 4
#define CONC_POSTS   200

struct conc {
	int no;
	int created, failed;
	long last_status;
	char last_body[256];
	long long ids[CONC_POSTS];
};

static void *conc_main(void *arg)
{
	struct conc *c = arg;
	CURL *h = curl_easy_init();
	char body[256];
	if (!h) {
		c->failed = CONC_POSTS;
		return NULL;
	}
	for (int i = 0; i < CONC_POSTS; i++) {
		struct resp r;
		int n = snprintf(
		        body, sizeof(body),
		        "{\"subject_group\":\"municipality_contact\",\"source\":\"subject\","
		        "\"first_name\":\"T%d-%d\",\"last_name\":\"Rinnakkainen\"}",
		        c->no, i);
		CURLcode cc = perform(h, "POST", SOSPRO "/persons", body, (size_t)n, &r);
		json_t *id = json_object_get(r.json, "id");
		if (cc == CURLE_OK && r.status == 201 && json_is_integer(id)) {
			c->ids[c->created++] = json_integer_value(id);
		} else {
			c->failed++;
			c->last_status = cc == CURLE_OK ? r.status : -(long)cc;
			snprintf(c->last_body, sizeof(c->last_body), "%s",
			         r.body.p ? r.body.p : curl_easy_strerror(cc));
		}
		resp_free(&r);
	}
	curl_easy_cleanup(h);
	return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static void test_concurrent_posts(void **state)
{
	static struct conc cs[CONC_THREADS];
	static long long all[CONC_THREADS * CONC_POSTS];
	pthread_t t[CONC_THREADS];
	int n = 0;
	(void)state;

	long long before = count_all(SOSPRO "/persons");
	for (int i = 0; i < CONC_THREADS; i++) {
		memset(&cs[i], 0, sizeof(cs[i]));
		cs[i].no = i;
		assert_int_equal(pthread_create(&t[i], NULL, conc_main, &cs[i]), 0);
	}
	for (int i = 0; i < CONC_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < CONC_THREADS; i++) {
		if (cs[i].failed)
			fail_msg("thread %d: %d of %d POSTs failed, last HTTP %ld: %s", i,
			         cs[i].failed, CONC_POSTS, cs[i].last_status, cs[i].last_body);
		for (int k = 0; k < cs[i].created; k++)
			all[n++] = cs[i].ids[k];
	}
	assert_int_equal(n, CONC_THREADS * CONC_POSTS);
	qsort(all, (size_t)n, sizeof(all[0]), cmp_ll);
	for (int i = 1; i < n; i++)
		if (all[i] == all[i - 1])
			fail_msg("id %lld given twice", all[i]);
	assert_int_equal(count_all(SOSPRO "/persons"), before + CONC_THREADS * CONC_POSTS);
	/* Every one of them is in the search index too. */
	long long hits = 0;
	const char *cursor = NULL;
	char cur[128];
	for (;;) {
		json_t *page = get_json(cursor ? sf(SOSPRO "/persons?q=rinnakkainen&limit=200&"
		                                           "cursor=%s",
		                                    cursor)
		                               : SOSPRO "/persons?q=rinnakkainen&limit=200");
		hits += (long long)json_array_size(json_object_get(page, "items"));
		json_t *next = json_object_get(page, "next");
		if (!json_is_string(next)) {
			json_decref(page);
			break;
		}
		snprintf(cur, sizeof(cur), "%s", json_string_value(next));
		cursor = cur;
		json_decref(page);
	}
	assert_int_equal(hits, CONC_THREADS * CONC_POSTS);
}

/* ------------------------------------------------------------------------------------------ */
/* Sign-in, sessions, tokens, usage log                                                       */
/* ------------------------------------------------------------------------------------------ */

/* proves S-06 */
static void test_session_cookie_flags(void **state)
{
	struct resp r;
	char v[512];
	(void)state;
	req_as(NULL, &r, "POST", "/api/v1/session",
	       sf("{'name':'tester','password':'%s'}", TESTER_PASSWORD));
	expect_status(&r, 201);
	assert_true(header(&r, "Set-Cookie", v, sizeof(v)));
	assert_non_null(strstr(v, "HttpOnly"));
	assert_non_null(strstr(v, "SameSite=Strict"));
	assert_non_null(strstr(v, "Path=/"));
	/* Plain HTTP on 127.0.0.1 (development) is the one case without Secure. */
	assert_null(strstr(v, "Secure"));
	assert_non_null(jget_str(r.json, "csrf"));
	resp_free(&r);
}

static void test_me_names_user_and_roles(void **state)
{
	(void)state;
	json_t *me = get_json("/api/v1/me");
	expect_jstr(me, "name", "tester");
	assert_true(json_array_size(json_object_get(me, "roles")) >= 6);
	json_decref(me);
}

/* A cookie alone cannot change anything: the CSRF token must come with it. */
/* proves S-06 */
static void test_csrf_required_with_cookie(void **state)
{
	struct resp r;
	struct as s, no_csrf;
	(void)state;
	assert_int_equal(sign_in(&s, "tester", TESTER_PASSWORD), 201);
	no_csrf = s;
	no_csrf.csrf[0] = '\0';
	const char *body = "{'subject_group':'organisation_contact','source':'customer',"
	                   "'last_name':'Ristiin'}";
	req_as(&no_csrf, &r, "POST", RAUMA "/persons", body);
	expect_problem_type(&r, 403, "csrf");
	resp_free(&r);
	snprintf(no_csrf.csrf, sizeof(no_csrf.csrf), "%s", "not-the-token");
	req_as(&no_csrf, &r, "POST", RAUMA "/persons", body);
	expect_problem_type(&r, 403, "csrf");
	resp_free(&r);
	req_as(&s, &r, "POST", RAUMA "/persons", body);
	expect_status(&r, 201);
	resp_free(&r);
	/* Reads need no CSRF token. */
	req_as(&no_csrf, &r, "GET", "/api/v1/me", NULL);
	expect_status(&r, 200);
	resp_free(&r);
}

/* proves S-03 */
static void test_sign_out_and_deactivation_end_sessions(void **state)
{
	struct resp r;
	struct as a, b, t;
	(void)state;
	user_add("s-leaver", false);
	user_grant("s-leaver", "rauma-crm", "viewer");
	assert_int_equal(sign_in(&a, "s-leaver", TESTER_PASSWORD), 201);
	req_as(&a, &r, "DELETE", "/api/v1/session", NULL);
	expect_status(&r, 204);
	resp_free(&r);
	req_as(&a, &r, "GET", "/api/v1/me", NULL);
	expect_problem_type(&r, 401, "unauthorised");
	resp_free(&r);

	assert_int_equal(sign_in(&b, "s-leaver", TESTER_PASSWORD), 201);
	token_for(&t, "s-leaver");
	req_as(&b, &r, "GET", "/api/v1/me", NULL);
	expect_status(&r, 200);
	resp_free(&r);
	assert_int_equal(kortisto("user", "deactivate", "s-leaver", NULL), 0);
	req_as(&b, &r, "GET", "/api/v1/me", NULL);
	expect_problem_type(&r, 401, "unauthorised");
	resp_free(&r);
	req_as(&t, &r, "GET", "/api/v1/me", NULL);
	expect_problem_type(&r, 401, "unauthorised");
	resp_free(&r);
	assert_int_equal(sign_in(&b, "s-leaver", TESTER_PASSWORD), 401);
}

/* A token limited to one register and role never does more, whatever its user may. */
/* proves S-01 */
static void test_token_capped_by_register_and_role(void **state)
{
	struct resp r;
	struct as t;
	char *argv[] = {(char *)srv.bin, "--data",     srv.data,   "token",  "create", "--user",
	                "tester",        "--register", "kemi-crm", "--role", "viewer", NULL};
	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(run_capture(argv, t.bearer, sizeof(t.bearer)), 0);
	req_as(&t, &r, "GET", KEMI "/persons", NULL);
	expect_status(&r, 200);
	resp_free(&r);
	req_as(&t, &r, "POST", KEMI "/persons",
	       "{'subject_group':'partner_contact','source':'subject','last_name':'Rajattu'}");
	expect_problem_type(&r, 403, "forbidden");
	resp_free(&r);
	req_as(&t, &r, "GET", RAUMA "/persons", NULL);
	expect_problem_type(&r, 403, "forbidden");
	resp_free(&r);
	struct as bad = {.bearer = "kt_not-a-token"};
	req_as(&bad, &r, "GET", KEMI "/persons", NULL);
	expect_problem_type(&r, 401, "unauthorised");
	char v[128];
	assert_true(header(&r, "WWW-Authenticate", v, sizeof(v)));
	resp_free(&r);
}

/* A processor sees only the categories its declared processor is given (kemi-crm: contact). */
/* proves S-09 */
static void test_processor_sees_only_its_categories(void **state)
{
	struct resp r;
	struct as p;
	(void)state;
	long long id = create(KEMI "/persons", "{'subject_group':'partner_contact',"
	                                       "'source':'subject','first_name':'Pirkko',"
	                                       "'last_name':'Prosessori','interests':'kalastus'}");
	user_add("p-processor", false);
	user_grant("p-processor", "kemi-crm", "processor");
	assert_int_equal(sign_in(&p, "p-processor", TESTER_PASSWORD), 201);
	accept_commitment(&p);
	req_as(&p, &r, "GET", sf(KEMI "/persons/%lld?history=true", id), NULL);
	expect_status(&r, 200);
	expect_jstr(r.json, "last_name", "Prosessori");
	assert_null(strstr(r.body.p, "kalastus"));
	assert_null(json_object_get(r.json, "history"));
	resp_free(&r);
	req(&r, "GET", sf(KEMI "/persons/%lld", id), NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "kalastus"));
	resp_free(&r);
}

/* Every read leaves its usage-log entry before the response: the entry is there the moment
 * the data arrived. A search records the ids it returned. */
/* proves S-04 */
static void test_reads_logged_before_response(void **state)
{
	struct resp r;
	(void)state;
	long long id = create(RAUMA "/persons", "{'subject_group':'organisation_contact',"
	                                        "'source':'customer','last_name':'Lokitettava'}");
	req(&r, "GET", sf(RAUMA "/persons/%lld", id), NULL);
	expect_status(&r, 200);
	resp_free(&r);
	req(&r, "GET", sf(RAUMA "/audit?subject=%lld", id), NULL);
	expect_status(&r, 200);
	json_t *items = json_object_get(r.json, "items");
	assert_true(json_array_size(items) >= 2); /* create, read */
	json_t *newest = json_array_get(items, 0);
	expect_jstr(newest, "action", "read");
	assert_non_null(strstr(jget_str(newest, "actor"), "tester"));
	resp_free(&r);

	req(&r, "GET", RAUMA "/persons?q=Lokitettava", NULL);
	expect_status(&r, 200);
	resp_free(&r);
	req(&r, "GET", sf(RAUMA "/audit?subject=%lld", id), NULL);
	newest = json_array_get(json_object_get(r.json, "items"), 0);
	expect_jstr(newest, "action", "search");
	resp_free(&r);
}

/* An error that quotes a long value of the client is cut to fit, never in the middle of a
 * character: the problem response stays valid JSON (a cut "ä" once crashed the server). */
static void test_long_multibyte_values_get_a_clean_422(void **state)
{
	char value[600] = "";
	struct resp r;
	(void)state;
	for (int i = 0; i < 126; i++)
		strcat(value, "ä");
	req(&r, "POST", KEMI "/disclosures",
	    sf("{'recipient':'%s','purpose':'customer_relations','legal_basis':'julkisuuslaki "
	       "621/1999 13 §','categories':['contact'],'subjects':[1]}",
	       value));
	expect_problem(&r, 422, "recipient");
	resp_free(&r);
	req(&r, "POST", KEMI "/persons", sf("{'subject_group':'%s','source':'subject'}", value));
	expect_problem(&r, 422, "subject_group");
	resp_free(&r);
	req(&r, "GET", "/healthz", NULL);
	expect_status(&r, 200);
	resp_free(&r);
}

/* Unknown user and wrong password look the same from outside. */
/* proves S-02 */
static void test_signin_failures_indistinguishable(void **state)
{
	struct resp a, b;
	(void)state;
	user_add("f-known", false);
	req_as(NULL, &a, "POST", "/api/v1/session",
	       "{'name':'f-known','password':'wrong-password-1'}");
	req_as(NULL, &b, "POST", "/api/v1/session",
	       "{'name':'f-unknown','password':'wrong-password-1'}");
	expect_problem_type(&a, 401, "unauthorised");
	expect_problem_type(&b, 401, "unauthorised");
	assert_string_equal(jget_str(a.json, "detail"), jget_str(b.json, "detail"));
	resp_free(&a);
	resp_free(&b);
}

/* After repeated failures an account must wait, with Retry-After — the same for a name that
 * does not exist. (The first delay is one second; a slow build may let it pass between two
 * attempts, so the test tries until it sees the wait.) */
/* proves S-02 */
static void test_signin_throttled(void **state)
{
	struct resp r;
	char v[32];
	(void)state;
	user_add("f-throttled", false);
	const char *names[] = {"f-throttled", "f-no-such-user"};
	for (int n = 0; n < 2; n++) {
		long last = 0;
		for (int i = 0; i < 10 && last != 429; i++) {
			req_as(NULL, &r, "POST", "/api/v1/session",
			       sf("{'name':'%s','password':'wrong-password-%d'}", names[n], i));
			last = r.status;
			if (last == 429) {
				expect_problem_type(&r, 429, "throttled");
				assert_true(header(&r, "Retry-After", v, sizeof(v)));
				assert_true(atoi(v) >= 1);
			} else {
				expect_status(&r, 401);
			}
			resp_free(&r);
		}
		if (last != 429)
			fail_msg("%s: no 429 after ten attempts", names[n]);
	}
	/* That even the right password must wait, that the delay grows and the lock, with the
	 * clock driven exactly, are in tests/unit/test_account.c. */
}

/* ------------------------------------------------------------------------------------------ */
/* Data-subject requests                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* proves R-09, R-05: a restricted subject is stored but out of every use of normal roles —
 * searches, reads, changes — and of disclosures, until a manager lifts the restriction. The
 * restriction takes effect only after the requester's identity was verified. */
static void test_restriction_hides_subject(void **state)
{
	struct resp r;
	struct as editor;
	(void)state;
	long long pid =
	        create(KEMI "/persons", "{'subject_group':'partner_contact','source':'subject',"
	                                "'first_name':'Rauha','last_name':'Rajoitettu',"
	                                "'email':'rauha.rajoitettu@example.fi'}");
	user_add("rq-editor", false);
	user_grant("rq-editor", "kemi-crm", "editor");
	assert_int_equal(sign_in(&editor, "rq-editor", TESTER_PASSWORD), 201);
	accept_commitment(&editor);

	long long rq =
	        create(KEMI "/requests",
	               sf("{'type':'restriction','channel':'written','person_id':%lld}", pid));
	req(&r, "POST", sf(KEMI "/requests/%lld/fulfil", rq), "{}");
	expect_problem(&r, 422, "state"); /* not verified yet */
	resp_free(&r);
	req_as(&editor, &r, "GET", KEMI "/persons?q=rajoitettu", NULL);
	expect_status(&r, 200);
	assert_true(items_have_id(r.json, pid));
	resp_free(&r);

	req(&r, "POST", sf(KEMI "/requests/%lld/verify", rq), "{'method':'id_document'}");
	expect_status(&r, 200);
	resp_free(&r);
	req(&r, "POST", sf(KEMI "/requests/%lld/fulfil", rq), "{'note':'tarkistetaan'}");
	expect_status(&r, 200);
	assert_string_equal(jget_str(r.json, "state"), "fulfilled");
	resp_free(&r);

	req_as(&editor, &r, "GET", KEMI "/persons?q=rajoitettu", NULL);
	expect_status(&r, 200);
	assert_false(items_have_id(r.json, pid));
	resp_free(&r);
	req_as(&editor, &r, "GET", KEMI "/persons?limit=100000", NULL);
	expect_status(&r, 200);
	assert_false(items_have_id(r.json, pid));
	resp_free(&r);
	req_as(&editor, &r, "GET", sf(KEMI "/persons/%lld", pid), NULL);
	expect_problem(&r, 422, "id");
	assert_null(strstr(r.body.p, "Rauha"));
	resp_free(&r);
	req_as(&editor, &r, "PATCH", sf(KEMI "/persons/%lld", pid), "{'first_name':'Rauhala'}");
	expect_problem(&r, 422, "id");
	resp_free(&r);

	/* The manager who handles the restriction still sees the subject. */
	req(&r, "GET", KEMI "/persons?q=rajoitettu", NULL);
	expect_status(&r, 200);
	assert_true(items_have_id(r.json, pid));
	resp_free(&r);
	json_t *p = get_json(sf(KEMI "/persons/%lld", pid));
	assert_string_equal(jget_str(p, "status"), "restricted");
	json_decref(p);
	req(&r, "POST", KEMI "/disclosures",
	    sf("{'recipient':'digipolis','purpose':'customer_relations','legal_basis':"
	       "'julkisuuslaki 621/1999 13 §','categories':['contact'],'subjects':[%lld]}",
	       pid));
	expect_problem(&r, 422, "subjects");
	resp_free(&r);

	/* Lifting is the manager's, logged, and gives the subject back. */
	req_as(&editor, &r, "POST", sf(KEMI "/requests/%lld/lift", rq), "{'note':'kirje'}");
	expect_status(&r, 403);
	resp_free(&r);
	req(&r, "POST", sf(KEMI "/requests/%lld/lift", rq), "{'note':'kerrottu kirjeellä'}");
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "\"lifted\""));
	resp_free(&r);
	req_as(&editor, &r, "GET", KEMI "/persons?q=rajoitettu", NULL);
	expect_status(&r, 200);
	assert_true(items_have_id(r.json, pid));
	resp_free(&r);
	req(&r, "GET", sf(KEMI "/audit?subject=%lld", pid), NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "\"request_lifted\""));
	assert_non_null(strstr(r.body.p, "\"request_fulfilled\""));
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* Public notices                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* proves N-01, N-02, R-13: the notice is public, in the asked language, generated from the loaded
 * declaration (the complaint authority and the derived rights are in it), and a version that
 * does not exist is a page that says so. */
static void test_public_notice_pages(void **state)
{
	struct resp r;
	struct as anon = {0};
	char v[128];
	(void)state;

	req_as(NULL, &r, "GET", "/p/registers/kemi-crm/notice", NULL);
	expect_status(&r, 200);
	assert_true(header(&r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "text/html; charset=utf-8");
	assert_true(header(&r, "Content-Language", v, sizeof(v)));
	assert_string_equal(v, "fi");
	expect_security_headers(&r);
	assert_non_null(strstr(r.body.p, "<html lang=\"fi\">"));
	assert_non_null(strstr(r.body.p, "<main id=\"main\">"));
	assert_non_null(strstr(r.body.p, "Tietosuojavaltuutetun toimisto"));
	/* Kemi keeps every group on public task (6(1)(e)): objection applies, portability does
	 * not, and erasure yields to the duty to keep (Art. 17(3)). */
	assert_non_null(strstr(r.body.p, "Oikeus vastustaa käsittelyä (21 artikla)"));
	assert_null(strstr(r.body.p, "Oikeus siirtää tiedot järjestelmästä toiseen"));
	assert_non_null(strstr(r.body.p, "(17 artiklan 3 kohta)"));
	assert_non_null(strstr(r.body.p, "href=\"/static/notice.css\""));
	assert_null(strstr(r.body.p, "<style>")); /* the CSP forbids inline styles */
	resp_free(&r);

	snprintf(anon.accept_language, sizeof(anon.accept_language), "de, sv-FI;q=0.8, en;q=0.5");
	req_as(&anon, &r, "GET", "/p/registers/kemi-crm/notice", NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "<html lang=\"sv\">"));
	assert_non_null(strstr(r.body.p, "Dataskyddsbeskrivning"));
	assert_non_null(strstr(r.body.p, "(på finska)"));
	resp_free(&r);

	/* ?lang= wins over the header. */
	req_as(&anon, &r, "GET", "/p/registers/kemi-crm/notice?lang=en", NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "<html lang=\"en\">"));
	assert_non_null(strstr(r.body.p, "Your rights and how to use them"));
	resp_free(&r);

	/* The first version has nothing to compare with (tests/api/test_cli.sh shows changes). */
	req_as(NULL, &r, "GET", "/p/registers/kemi-crm/notice?version=1&changes=1", NULL);
	expect_status(&r, 200);
	assert_null(strstr(r.body.p, "id=\"changes\""));
	assert_non_null(strstr(r.body.p, "id=\"versions\""));
	resp_free(&r);
	req_as(NULL, &r, "GET", "/p/registers/kemi-crm/notice?since=1", NULL);
	expect_status(&r, 400); /* changes since the version shown itself */
	resp_free(&r);
	req_as(NULL, &r, "GET", "/p/registers/kemi-crm/notice?version=99", NULL);
	expect_status(&r, 404);
	assert_non_null(strstr(r.body.p, "<h1>Sivua ei löydy</h1>"));
	resp_free(&r);
	req_as(NULL, &r, "GET", "/p/registers/no-such-register/notice", NULL);
	expect_status(&r, 404);
	resp_free(&r);
	req_as(NULL, &r, "GET", "/p/registers/kemi-crm/notice?version=x", NULL);
	expect_status(&r, 400);
	resp_free(&r);

	req_as(NULL, &r, "GET", "/p/registers?lang=sv", NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "href=\"/p/registers/kemi-crm/notice?lang=sv\""));
	resp_free(&r);

	req_as(NULL, &r, "GET", "/static/notice.css", NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(r.body.p, "@media print"));
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* The route table                                                                            */
/* ------------------------------------------------------------------------------------------ */

#define REG "/api/v1/registers/{rid}"

/*
 * A simple valid request for every row of src/http/router.c, in an order that creates what
 * later rows need and deletes it last, with who may call it (`access`, written exactly as the
 * router's table writes it, and checked against it), whether it touches personal data, and
 * the status for a caller who may. {rid} becomes kemi-crm and {id} the id just created in
 * that collection (for grants: the user id of m-target); bodies name {pid}, {oid}, {rpid} (the
 * requests' own person), {cv} (the current commitment version) and {pw}; a path's {person_id}
 * is {pid}. test_routes_mirror_router_c keeps this list and the router's table equal.
 */
static const struct route_case {
	const char *method, *pattern, *access;
	bool personal;
	const char *body;
	long status;
} route_cases[] = {
        {"GET", "/", "PUB", false, NULL, 200},
        {"GET", "/static/kortisto.css", "PUB", false, NULL, 200},
        {"GET", "/static/notice.css", "PUB", false, NULL, 200},
        {"GET", "/p/registers", "PUB", false, NULL, 200},
        {"GET", "/p/registers/{rid}/notice", "PUB", false, NULL, 200},
        /* kemi-crm has no surveys: {id} names none, so the survey rows answer 404 */
        {"GET", "/static/survey.css", "PUB", false, NULL, 200},
        {"GET", "/p/surveys/{id}", "PUB", false, NULL, 404},
        {"POST", "/p/surveys/{id}", "PUB", false, "q.a=1", 404},
        {"POST", "/p/surveys/{id}/raffle", "PUB", false, "contact=a%40example.fi", 404},
        {"GET", "/api/v1/surveys/{id}", "PUB", false, NULL, 404},
        {"POST", "/api/v1/surveys/{id}/answers", "PUB", false, "{'a':1}", 404},
        {"POST", "/api/v1/surveys/{id}/raffle", "PUB", false, "{'contact':'a@example.fi'}", 404},
        {"GET", "/p/me", "PUB", false, NULL, 200},
        {"POST", "/p/me", "PUB", true, NULL, 503},
        {"GET", "/p/me/link", "PUB", false, NULL, 400},
        {"POST", "/p/me/link", "PUB", true, NULL, 404},
        {"GET", "/p/me/session", "PUB", true, NULL, 401},
        {"GET", "/p/me/export", "PUB", true, NULL, 401},
        {"POST", "/p/me/requests", "PUB", true, NULL, 401},
        {"POST", "/p/me/signout", "PUB", false, NULL, 200},
        {"GET", "/p/directory", "PUB", false, NULL, 200},
        {"GET", "/api/v1/directory", "PUB", false, NULL, 200},
        {"GET", "/p/directory/edit", "PUB", false, NULL, 200},
        {"POST", "/p/directory/edit", "PUB", false, NULL, 503},
        {"GET", "/p/directory/edit/link", "PUB", false, NULL, 400},
        {"POST", "/p/directory/edit/link", "PUB", false, NULL, 404},
        {"GET", "/p/directory/edit/listing", "PUB", false, NULL, 401},
        {"POST", "/p/directory/edit/listing", "PUB", false, NULL, 401},
        {"GET", "/healthz", "PUB", false, NULL, 200},
        {"GET", "/api/v1/openapi.yaml", "PUB", false, NULL, 200},
        {"POST", "/api/v1/session", "PUB", false, "{'name':'m-signin','password':'{pw}'}", 201},
        {"GET", "/api/v1/me", "ACCOUNT", false, NULL, 200},
        {"GET", "/api/v1/me/commitment", "ACCOUNT", false, NULL, 200},
        {"GET", "/api/v1/registers", "USER", false, NULL, 200},
        {"GET", REG, "USER", false, NULL, 200},
        {"GET", REG "/versions", "USER", false, NULL, 200},
        {"GET", REG "/grants", "ON_OR_ADMIN(ROLE_MANAGER)", false, NULL, 200},
        {"POST", REG "/grants", "ON_OR_ADMIN(ROLE_MANAGER)", false,
         "{'user':'m-target','role':'viewer'}", 201},
        {"DELETE", REG "/grants/{id}", "ON_OR_ADMIN(ROLE_MANAGER)", false, NULL, 204},
        {"POST", REG "/persons", "ON(ROLE_EDITOR)", true,
         "{'subject_group':'client_company_contact','source':'subject','last_name':'Reitti'}", 201},
        {"GET", REG "/persons", "ON(ROLE_PROCESSOR)", true, NULL, 200},
        {"GET", REG "/persons/{id}", "ON(ROLE_PROCESSOR)", true, NULL, 200},
        {"PATCH", REG "/persons/{id}", "ON(ROLE_EDITOR)", true, "{'first_name':'Rea'}", 200},
        {"POST", REG "/organisations", "ON(ROLE_EDITOR)", true,
         "{'name':'Reitti Oy','source':'subject'}", 201},
        {"GET", REG "/organisations", "ON(ROLE_PROCESSOR)", true, NULL, 200},
        {"GET", REG "/organisations/{id}", "ON(ROLE_PROCESSOR)", true, NULL, 200},
        {"GET", REG "/organisations/{id}/records", "ON(ROLE_VIEWER)", true, NULL, 200},
        {"PATCH", REG "/organisations/{id}", "ON(ROLE_EDITOR)", true, "{'department':'Myynti'}",
         200},
        /* kemi-crm does not publish to the directory: a listing is refused (422) */
        {"GET", REG "/organisations/{id}/listing", "ON(ROLE_EDITOR)", true, NULL, 422},
        {"PATCH", REG "/organisations/{id}/listing", "ON(ROLE_EDITOR)", true, "{'listed':true}",
         422},
        {"POST", REG "/affiliations", "ON(ROLE_EDITOR)", true,
         "{'person_id':{pid},'organisation_id':{oid}}", 201},
        {"GET", REG "/affiliations", "ON(ROLE_PROCESSOR)", true, NULL, 200},
        {"GET", REG "/affiliations/{id}", "ON(ROLE_PROCESSOR)", true, NULL, 200},
        {"PATCH", REG "/affiliations/{id}", "ON(ROLE_EDITOR)", true, "{'title':'myyjä'}", 200},
        {"GET", REG "/audit", "ON(ROLE_MANAGER)", true, NULL, 200},
        {"POST", REG "/disclosures", "ON(ROLE_MANAGER)", true,
         "{'recipient':'digipolis','purpose':'customer_relations','legal_basis':'julkisuuslaki "
         "621/1999 13 §','categories':['contact'],'subjects':[{pid}]}",
         201},
        {"GET", REG "/disclosures", "ON(ROLE_MANAGER)", true, NULL, 200},
        {"GET", REG "/requests", "ON(ROLE_EDITOR)", true, NULL, 200},
        {"POST", REG "/requests", "ON(ROLE_EDITOR)", true,
         "{'type':'restriction','channel':'written','person_id':{rpid}}", 201},
        {"GET", REG "/requests/{id}", "ON(ROLE_EDITOR)", true, NULL, 200},
        {"POST", REG "/requests/{id}/verify", "ON(ROLE_EDITOR)", true, "{'method':'id_document'}",
         200},
        /* the verified request is taken up; the steps below work from in_progress */
        {"POST", REG "/requests/{id}/start", "ON(ROLE_EDITOR)", true, "{}", 200},
        {"POST", REG "/requests/{id}/extend", "ON(ROLE_EDITOR)", true,
         "{'months':1,'reason':'monta pyyntöä','subject_told':true}", 200},
        {"POST", REG "/requests/{id}/assess", "ON(ROLE_MANAGER)", true,
         "{'assessment':'excessive','reason':'toistuva'}", 200},
        {"POST", REG "/requests/{id}/fulfil", "ON(ROLE_EDITOR)", true, "{}", 200},
        {"GET", REG "/requests/{id}/export", "ON(ROLE_MANAGER)", true, NULL, 409},
        {"POST", REG "/requests/{id}/lift", "ON(ROLE_MANAGER)", true,
         "{'note':'kerrottu kirjeellä'}", 200},
        /* the request is closed by now: refusing or withdrawing it is a conflict */
        {"POST", REG "/requests/{id}/refuse", "ON(ROLE_MANAGER)", true, "{'reason':'ei'}", 409},
        {"POST", REG "/requests/{id}/withdraw", "ON(ROLE_EDITOR)", true, "{}", 409},
        {"GET", REG "/surveys", "ON(ROLE_VIEWER)", false, NULL, 200},
        /* kemi-crm declares no survey answers: loading a survey is refused */
        {"POST", REG "/surveys", "ON(ROLE_EDITOR)", false,
         "{'key':'k','title':'K','questions':[{'id':'a','kind':'text','text':'T'}]}", 422},
        {"GET", REG "/surveys/{id}", "ON(ROLE_VIEWER)", false, NULL, 404},
        {"GET", REG "/surveys/{id}/stats", "ON(ROLE_VIEWER)", false, NULL, 404},
        {"POST", REG "/surveys/{id}/draw", "ON(ROLE_MANAGER)", true, "{'winners':1}", 404},
        {"POST", REG "/surveys/{id}/notified", "ON(ROLE_MANAGER)", true, "{}", 404},
        {"GET", REG "/retention", "ON(ROLE_MANAGER)", true, NULL, 200},
        {"POST", REG "/persons/{id}/hold", "ON(ROLE_MANAGER)", true, "{'reason':'asia 1/2026'}",
         204},
        {"DELETE", REG "/persons/{id}/hold", "ON(ROLE_MANAGER)", true, NULL, 204},
        {"GET", REG "/persons/{id}/consents", "ON(ROLE_VIEWER)", true, NULL, 200},
        {"POST", REG "/persons/{id}/consents", "ON(ROLE_EDITOR)", true,
         "{'purpose':'customer_relations','channel':'email','text':'Saa','text_version':'1'}", 201},
        {"GET", REG "/consents/{id}", "ON(ROLE_VIEWER)", true, NULL, 200},
        {"POST", REG "/consents/{id}/withdraw", "ON(ROLE_EDITOR)", true, "{'how':'email'}", 200},
        /* kemi-crm declares no direct-marketing purpose: no mailing can be made there */
        {"POST", REG "/mailings", "ON(ROLE_EDITOR)", true,
         "{'purpose':'customer_relations','subject':'S','text':'T'}", 422},
        {"GET", REG "/mailings", "ON(ROLE_EDITOR)", true, NULL, 200},
        {"GET", REG "/mailings/{id}", "ON(ROLE_EDITOR)", true, NULL, 404},
        {"GET", REG "/mailings/{id}/preview", "ON(ROLE_EDITOR)", true, NULL, 404},
        {"POST", REG "/mailings/{id}/send", "ON(ROLE_MANAGER)", true, "{}", 404},
        {"GET", REG "/mailings/{id}/recipients", "ON(ROLE_MANAGER)", true, NULL, 404},
        /* a token that is not valid */
        {"GET", "/p/unsubscribe/{tok}", "PUB", false, NULL, 404},
        {"POST", "/p/unsubscribe/{tok}", "PUB", false, NULL, 404},
        {"GET", "/p/o/{tok}.gif", "PUB", false, NULL, 404},
        {"GET", "/p/confirm/{tok}", "PUB", false, NULL, 404},
        {"POST", "/p/confirm/{tok}", "PUB", false, NULL, 404},
        {"GET", "/p/subscribe/{tok}", "PUB", false, NULL, 404},
        {"POST", "/p/subscribe/{tok}", "PUB", false, NULL, 404},
        /* kemi-crm declares no direct-marketing purpose: no list can be made there */
        {"POST", REG "/lists", "ON(ROLE_MANAGER)", false,
         "{'slug':'uutiset','name':'U','purpose':'customer_relations','group':'partner_contact',"
         "'source':'subject','consent_text':'T','consent_version':'1'}",
         422},
        {"GET", REG "/lists", "ON(ROLE_EDITOR)", false, NULL, 200},
        {"POST", REG "/persons/{id}/records", "ON(ROLE_EDITOR)", true,
         "{'type':'customer_contact','data':{'channel':'phone','topic':'tarjous'}}", 201},
        {"GET", REG "/persons/{id}/records", "ON(ROLE_VIEWER)", true, NULL, 200},
        {"GET", REG "/records/{id}", "ON(ROLE_VIEWER)", true, NULL, 200},
        /* the matrix's record is a customer_contact: only an appointment has a calendar file */
        {"GET", REG "/records/{id}.ics", "ON(ROLE_VIEWER)", true, NULL, 422},
        {"GET", REG "/persons/{id}/appointments.ics", "ON(ROLE_VIEWER)", true, NULL, 200},
        {"PATCH", REG "/records/{id}", "ON(ROLE_EDITOR)", true, "{'data':{'summary':'ok'}}", 200},
        {"DELETE", REG "/records/{id}", "ON(ROLE_EDITOR)", true, NULL, 204},
        {"GET", REG "/stats/services", "ON(ROLE_VIEWER)", false, NULL, 200},
        /* An event co-organised with digipolis; {id} is then that event. kemi-crm declares
         * no record type chat_message, so chat is refused; there is no session 999999, and
         * a meeting with the restricted {rpid} is refused. The event opens no public page. */
        {"POST", REG "/events", "ON(ROLE_EDITOR)", false,
         "{'title':'Messut','format':'physical','starts_at':'2025-12-10T09:00:00+02:00',"
         "'ends_at':'2025-12-10T17:00:00+02:00','co_organiser':'digipolis'}",
         201},
        {"GET", REG "/events", "ON(ROLE_VIEWER)", false, NULL, 200},
        {"POST", REG "/events/{id}/sessions", "ON(ROLE_EDITOR)", false,
         "{'title':'Avaus','starts_at':'2025-12-10T09:00:00+02:00',"
         "'ends_at':'2025-12-10T10:00:00+02:00'}",
         201},
        {"POST", REG "/events/{id}/registrations", "ON(ROLE_EDITOR)", true,
         "{'person_id':{pid},'consents':{'share_with_co_organiser':true}}", 201},
        {"POST", REG "/events/{id}/attendance", "ON(ROLE_EDITOR)", true,
         "{'session_id':999999,'person_id':{pid}}", 404},
        {"POST", REG "/events/{id}/meetings", "ON(ROLE_EDITOR)", true,
         "{'parties':[{pid},{rpid}],'starts_at':'2025-12-10T11:00:00+02:00',"
         "'ends_at':'2025-12-10T11:30:00+02:00','place':'Pöytä 1'}",
         422},
        {"POST", REG "/events/{id}/sessions/{sid}/chat", "ON(ROLE_EDITOR)", true, "{'messages':[]}",
         422},
        {"POST", REG "/events/{id}/share", "ON(ROLE_MANAGER)", true,
         "{'purpose':'customer_relations','legal_basis':'julkisuuslaki 621/1999 11 §',"
         "'categories':['contact']}",
         200},
        {"GET", REG "/events/{id}", "ON(ROLE_VIEWER)", true, NULL, 200},
        {"GET", REG "/events/{id}.ics", "ON(ROLE_VIEWER)", false, NULL, 200},
        {"GET", REG "/events/{id}/participants", "ON(ROLE_VIEWER)", true, NULL, 200},
        {"DELETE", REG "/events/{id}/registrations/{person_id}", "ON(ROLE_EDITOR)", true, NULL,
         204},
        {"GET", "/p/events/{id}", "PUB", false, NULL, 404},
        {"POST", "/p/events/{id}", "PUB", false, "email=a%40example.fi", 404},
        {"GET", "/p/events/{id}.ics", "PUB", false, NULL, 404},
        {"DELETE", REG "/affiliations/{id}", "ON(ROLE_EDITOR)", true, NULL, 204},
        {"DELETE", REG "/organisations/{id}", "ON(ROLE_EDITOR)", true, NULL, 204},
        {"DELETE", REG "/persons/{id}", "ON(ROLE_EDITOR)", true, NULL, 204},
        {"POST", "/api/v1/me/totp", "SESSION", false, NULL, 200},
        {"POST", "/api/v1/me/totp/confirm", "SESSION", false, "{'code':'000000'}", 400},
        {"PUT", "/api/v1/me/password", "SESSION", false,
         "{'old':'not-the-password-1','new':'another-long-password-9'}", 400},
        {"POST", "/api/v1/me/commitment", "SESSION", false, "{'version':{cv}}", 204},
        {"DELETE", "/api/v1/session", "SESSION", false, NULL, 204},
};

/* Replaces every `from` in `s` with `to`, in place (s has room for 512 bytes). */
static void subst(char *s, const char *from, const char *to)
{
	char out[512], *o = out;
	size_t fl = strlen(from), tl = strlen(to);
	for (const char *p = s; *p;) {
		if (strncmp(p, from, fl) == 0) {
			assert_true((size_t)(o - out) + tl < sizeof(out));
			memcpy(o, to, tl);
			o += tl;
			p += fl;
		} else {
			assert_true((size_t)(o - out) + 1 < sizeof(out));
			*o++ = *p++;
		}
	}
	*o = '\0';
	memcpy(s, out, (size_t)(o - out) + 1);
}

/* Who calls, in the matrix: how they identify, their role on kemi-crm, and what else. */
struct caller {
	const char *name;  /* user name, or a label */
	const char *role;  /* on kemi-crm: viewer, editor, manager, processor, or NULL */
	bool admin;        /* global admin */
	bool commitment;   /* accepted the current commitment */
	bool unauthorised; /* no identity the server accepts: expect 401 everywhere but public */
	bool session;      /* a session cookie, not an API token */
	struct as as;
};

static int role_rank(const char *role)
{
	static const char *const order[] = {"processor", "viewer", "editor", "manager"};
	for (int i = 0; role && i < 4; i++)
		if (strcmp(role, order[i]) == 0)
			return i + 1;
	return 0;
}

/* The status `c` expects for route case `rc`, and in *type the problem type of a refusal. */
static long expected_status(const struct caller *c, const struct route_case *rc, const char **type)
{
	*type = NULL;
	if (strcmp(rc->access, "PUB") == 0)
		return rc->status;
	if (c->unauthorised) {
		*type = "unauthorised";
		return 401;
	}
	if (strcmp(rc->access, "SESSION") == 0 && !c->session) {
		*type = "forbidden";
		return 403;
	}
	if (strcmp(rc->access, "ACCOUNT") == 0 || strcmp(rc->access, "SESSION") == 0 ||
	    strcmp(rc->access, "USER") == 0)
		return rc->status;
	if (strcmp(rc->access, "ADMIN") == 0) {
		*type = c->admin ? NULL : "forbidden";
		return c->admin ? rc->status : 403;
	}
	const char *open = strchr(rc->access, '(');
	assert_non_null(open);
	char role[32];
	snprintf(role, sizeof(role), "%.*s", (int)strcspn(open + 6, ")"), open + 6); /* ROLE_X */
	for (char *p = role; *p; p++)
		*p = (char)(*p - 'A' + 'a');
	bool admin_ok = strncmp(rc->access, "ON_OR_ADMIN", 11) == 0;
	if (role_rank(c->role) < role_rank(role) && !(admin_ok && c->admin)) {
		*type = "forbidden";
		return 403;
	}
	if (rc->personal && !c->commitment) {
		*type = "commitment-required";
		return 403;
	}
	return rc->status;
}

/* Creates what a caller's run needs (as the tester): a person, an organisation and an
 * affiliation of kemi-crm. */
static void matrix_fixture(long long *pid, long long *oid, long long *aid, long long *rqid,
                           long long *rpid)
{
	*pid = create(KEMI "/persons", "{'subject_group':'partner_contact','source':'subject',"
	                               "'first_name':'Matti','last_name':'Matriisi',"
	                               "'email':'matti.matriisi@example.fi','interests':'golf'}");
	*oid = create(KEMI "/organisations", "{'name':'Matriisi Oy','source':'subject'}");
	*aid = create(KEMI "/affiliations",
	              sf("{'person_id':%lld,'organisation_id':%lld}", *pid, *oid));
	/* The requests restrict a person of their own, so the rows after them still find
	 * the matrix's person active (a restricted one is out of an editor's reach, R-09). */
	*rpid = create(KEMI "/persons", "{'subject_group':'partner_contact','source':'subject',"
	                                "'first_name':'Raija','last_name':'Rajoitus'}");
	*rqid = create(KEMI "/requests",
	               sf("{'type':'restriction','channel':'written','person_id':%lld}", *rpid));
}

/* Runs every route case as caller `c` and checks each status (and refusal type). */
static void run_matrix(struct caller *c, long long target_uid, int cv)
{
	long long pid, oid, aid, rqid, rpid, rcid, mid = 999999;
	matrix_fixture(&pid, &oid, &aid, &rqid, &rpid);
	/* an event of the tester's, for the rows of callers who may read but not create one */
	long long evid = create(KEMI "/events", "{'title':'Matriisi','format':'virtual',"
	                                        "'starts_at':'2025-12-01T09:00:00Z',"
	                                        "'ends_at':'2025-12-01T10:00:00Z'}");
	/* a consent of the matrix's person, for the rows that read and withdraw one */
	struct resp cr;
	req(&cr, "POST", sf(KEMI "/persons/%lld/consents", pid),
	    "{'purpose':'customer_relations','channel':'email','text':'Saa','text_version':'1'}");
	expect_status(&cr, 201);
	long long cnid = json_integer_value(json_object_get(cr.json, "id"));
	resp_free(&cr);
	{
		/* A record's Location is REG/records/ID, not under the person it is about. */
		req(&cr, "POST", sf(KEMI "/persons/%lld/records", pid),
		    "{'type':'customer_contact','data':{'channel':'visit','topic':'matriisi'}}");
		rcid = expect_created(&cr, KEMI "/records");
		resp_free(&cr);
	}
	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		const struct route_case *rc = &route_cases[i];
		char path[512], body[512], num[32];
		struct resp r;
		const char *type;
		long want = expected_status(c, rc, &type);
		snprintf(path, sizeof(path), "%s", rc->pattern);
		subst(path, "{rid}", "kemi-crm");
		subst(path, "{tok}", "AAAAnotatoken");
		subst(path, "{sid}", "999999");
		snprintf(num, sizeof(num), "%lld", pid);
		subst(path, "{person_id}", num);
		long long id = strstr(path, "/consents/")        ? cnid
		               : strstr(path, "/events/")        ? evid
		               : strstr(path, "/mailings/")      ? mid
		               : strstr(path, "/records/")       ? rcid
		               : strstr(path, "/persons/")       ? pid
		               : strstr(path, "/organisations/") ? oid
		               : strstr(path, "/grants/")        ? target_uid
		               : strstr(path, "/requests/")      ? rqid
		                                                 : aid;
		snprintf(num, sizeof(num), "%lld", id);
		subst(path, "{id}", num);
		if (rc->body) {
			snprintf(body, sizeof(body), "%s", rc->body);
			snprintf(num, sizeof(num), "%lld", pid);
			subst(body, "{pid}", num);
			snprintf(num, sizeof(num), "%lld", rpid);
			subst(body, "{rpid}", num);
			snprintf(num, sizeof(num), "%lld", oid);
			subst(body, "{oid}", num);
			snprintf(num, sizeof(num), "%d", cv);
			subst(body, "{cv}", num);
			subst(body, "{pw}", TESTER_PASSWORD);
		}
		req_as(&c->as, &r, rc->method, path, rc->body ? body : NULL);
		if (r.status != want)
			fail_msg("%s: %s %s: HTTP %ld, expected %ld: %s", c->name, rc->method,
			         rc->pattern, r.status, want, r.body.p ? r.body.p : "");
		expect_security_headers(&r);
		if (type)
			expect_problem_type(&r, want, type);
		if (r.status == 201 && !strstr(path, "/session") && !strstr(path, "/grants") &&
		    !strstr(path, "/disclosures")) {
			long long v = json_integer_value(json_object_get(r.json, "id"));
			if (strstr(path, "/events/"))
				; /* a session: the rows after it name the event */
			else if (strstr(path, "/events"))
				evid = v;
			else if (strstr(path, "/consents"))
				cnid = v;
			else if (strstr(path, "/records"))
				rcid = v;
			else if (strstr(path, "/persons"))
				pid = v;
			else if (strstr(path, "/organisations"))
				oid = v;
			else if (strstr(path, "/requests"))
				rqid = v;
			else
				aid = v;
		}
		resp_free(&r);
	}
}

/* The current commitment version, as the tester sees it. */
static int commitment_version(void)
{
	json_t *c = get_json("/api/v1/me/commitment");
	int v = (int)json_integer_value(json_object_get(c, "version"));
	json_decref(c);
	assert_true(v > 0);
	return v;
}

/* The id of user `name`: given a role on kemi-crm, it shows in the register's grants. */
static long long user_id_of(const char *name)
{
	user_grant(name, "kemi-crm", "viewer");
	json_t *list = get_json(KEMI "/grants");
	size_t i;
	json_t *g;
	long long id = 0;
	json_array_foreach (json_object_get(list, "items"), i, g)
		if (jget_str(g, "user") && strcmp(jget_str(g, "user"), name) == 0)
			id = json_integer_value(json_object_get(g, "user_id"));
	json_decref(list);
	assert_true(id > 0);
	return id;
}

/*
 * The authorisation matrix (S-01, S-03, S-05, S-09): every route of the router, for every
 * kind of caller — each role on the register, an admin without a role, a user whose role is
 * on another register, a user who has not accepted the commitment, a cookie session, no
 * identity, an idle-expired session and a deactivated user — gets exactly the status the
 * policy gives it.
 */
/* proves S-01 */
static void test_authorisation_matrix(void **state)
{
	(void)state;
	struct caller callers[] = {
	        {"cookie-editor", "editor", false, true, false, true, {{0}, {0}, {0}, {0}}},
	        {"manager", "manager", false, true, false, false, {{0}, {0}, {0}, {0}}},
	        {"editor", "editor", false, true, false, false, {{0}, {0}, {0}, {0}}},
	        {"viewer", "viewer", false, true, false, false, {{0}, {0}, {0}, {0}}},
	        {"processor", "processor", false, true, false, false, {{0}, {0}, {0}, {0}}},
	        {"admin", NULL, true, true, false, false, {{0}, {0}, {0}, {0}}},
	        {"other-register", NULL, false, true, false, false, {{0}, {0}, {0}, {0}}},
	        {"no-commitment", "editor", false, false, false, false, {{0}, {0}, {0}, {0}}},
	        {"anonymous", NULL, false, false, true, false, {{0}, {0}, {0}, {0}}},
	        {"idle-session", "manager", false, true, true, true, {{0}, {0}, {0}, {0}}},
	        {"deactivated", "manager", false, true, true, false, {{0}, {0}, {0}, {0}}},
	};
	char name[64];
	double t_idle = now_s();

	user_add("m-signin", false);
	user_add("m-target", false);
	for (size_t i = 0; i < sizeof(callers) / sizeof(callers[0]); i++) {
		struct caller *c = &callers[i];
		if (strcmp(c->name, "anonymous") == 0)
			continue;
		snprintf(name, sizeof(name), "m-%s", c->name);
		user_add(name, c->admin);
		if (c->role)
			user_grant(name, "kemi-crm", c->role);
		if (strcmp(c->name, "other-register") == 0)
			user_grant(name, "rauma-crm", "manager");
		struct as session;
		assert_int_equal(sign_in(&session, name, TESTER_PASSWORD), 201);
		if (c->commitment)
			accept_commitment(&session);
		if (strcmp(c->name, "cookie-editor") == 0 || strcmp(c->name, "idle-session") == 0)
			c->as = session;
		if (strcmp(c->name, "idle-session") == 0)
			t_idle = now_s(); /* its last request */
		else
			token_for(&c->as, name);
		if (strcmp(c->name, "deactivated") == 0)
			assert_int_equal(kortisto("user", "deactivate", name, NULL), 0);
	}
	long long target = user_id_of("m-target");
	int cv = commitment_version();
	for (size_t i = 0; i < sizeof(callers) / sizeof(callers[0]); i++) {
		if (strcmp(callers[i].name, "idle-session") == 0)
			continue;
		if (strcmp(callers[i].name, "cookie-editor") == 0) /* a fresh, active session */
			assert_int_equal(
			        sign_in(&callers[i].as, "m-cookie-editor", TESTER_PASSWORD), 201);
		run_matrix(&callers[i], target, cv);
	}
	/* Last, after it has been left alone longer than session_idle (3 s). */
	double idle = now_s() - t_idle;
	if (idle < 4)
		usleep((useconds_t)((4 - idle) * 1e6));
	for (size_t i = 0; i < sizeof(callers) / sizeof(callers[0]); i++)
		if (strcmp(callers[i].name, "idle-session") == 0)
			run_matrix(&callers[i], target, cv);
}

/* Reads the route table of src/http/router.c and checks route_cases lists exactly its rows. */
static void test_routes_mirror_router_c(void **state)
{
	char line[512];
	int rows = 0;
	bool seen[sizeof(route_cases) / sizeof(route_cases[0])] = {0};
	(void)state;
	FILE *f = fopen("src/http/router.c", "r");
	if (!f)
		fail_msg("cannot open src/http/router.c (the test runs from the repository root)");
	while (fgets(line, sizeof(line), f)) {
		char method[16], pattern[256];
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "{\"", 2) != 0)
			continue;
		/* A row too long for one line goes on in the next (clang-format wraps it). */
		if (!strstr(p, "},")) {
			size_t have = strlen(line);
			if (have && line[have - 1] == '\n')
				line[--have] = '\0';
			if (!fgets(line + have, (int)(sizeof(line) - have), f))
				break;
		}
		size_t ml = strcspn(p + 2, "\"");
		if (ml >= sizeof(method))
			continue;
		snprintf(method, sizeof(method), "%.*s", (int)ml, p + 2);
		p += 2 + ml + 1;
		while (*p == ',' || *p == ' ')
			p++;
		pattern[0] = '\0';
		if (strncmp(p, "REG", 3) == 0) {
			snprintf(pattern, sizeof(pattern), "%s", REG);
			p += 3;
			while (*p == ' ')
				p++;
		}
		if (*p == '"') {
			size_t pl = strcspn(p + 1, "\"");
			size_t have = strlen(pattern);
			snprintf(pattern + have, sizeof(pattern) - have, "%.*s", (int)pl, p + 1);
			p += pl + 2;
		}
		/* The rest: ", handler, ACCESS, purpose, personal}," */
		char access[64] = "", personal[16] = "";
		const char *h = strchr(p, ',') ? strchr(strchr(p, ',') + 1, ',') : NULL;
		if (h) {
			h++;
			while (*h == ' ')
				h++;
			snprintf(access, sizeof(access), "%.*s", (int)strcspn(h, ","), h);
			/* the purpose is NULL or an id, so "true" can only be the flag */
			snprintf(personal, sizeof(personal), "%s",
			         strstr(h, "true") ? "true" : "false");
		}
		rows++;
		bool hit = false;
		for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++)
			if (strcmp(route_cases[i].method, method) == 0 &&
			    strcmp(route_cases[i].pattern, pattern) == 0) {
				hit = true;
				seen[i] = true;
				if (strcmp(route_cases[i].access, access) != 0)
					fail_msg("route %s %s: router.c gives access %s, the tests "
					         "expect %s",
					         method, pattern, access, route_cases[i].access);
				if (route_cases[i].personal != (strcmp(personal, "true") == 0))
					fail_msg("route %s %s: router.c and the tests disagree on "
					         "whether it is personal",
					         method, pattern);
			}
		if (!hit)
			fail_msg("route %s %s of router.c has no case in route_cases", method,
			         pattern);
	}
	fclose(f);
	assert_true(rows > 0);
	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++)
		if (!seen[i])
			fail_msg("route case %s %s is not in router.c", route_cases[i].method,
			         route_cases[i].pattern);
}

/* ------------------------------------------------------------------------------------------ */

static int group_setup_all(void **state)
{
	if (group_setup(state) != 0)
		return -1;
	return setup_tester(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_routes_mirror_router_c),
	        cmocka_unit_test(test_healthz),
	        cmocka_unit_test(test_public_notice_pages),
	        cmocka_unit_test(test_restriction_hides_subject),
	        cmocka_unit_test(test_person_create_201_id_location),
	        cmocka_unit_test(test_person_email_phone_normalised),
	        cmocka_unit_test(test_person_phone_formats),
	        cmocka_unit_test(test_person_contact_point_provenance),
	        cmocka_unit_test(test_basis_rauma_organisation_contact_f),
	        cmocka_unit_test(test_basis_talent_hub_individual_a),
	        cmocka_unit_test(test_basis_talent_hub_company_contact_e),
	        cmocka_unit_test(test_basis_every_group_follows_declaration),
	        cmocka_unit_test(test_basis_follows_group_change),
	        cmocka_unit_test(test_hetu_shown_masked),
	        cmocka_unit_test(test_hetu_reveal_needs_editor),
	        cmocka_unit_test(test_hetu_exact_match_finds),
	        cmocka_unit_test(test_hetu_not_found_by_text_search),
	        cmocka_unit_test(test_hetu_invalid_400),
	        cmocka_unit_test(test_hetu_duplicate_409),
	        cmocka_unit_test(test_hetu_undeclared_register_422),
	        cmocka_unit_test(test_hetu_survives_unrelated_patch),
	        cmocka_unit_test(test_hetu_change_and_remove),
	        cmocka_unit_test(test_undeclared_top_level_field_422),
	        cmocka_unit_test(test_undeclared_attribute_422),
	        cmocka_unit_test(test_declared_attribute_stored),
	        cmocka_unit_test(test_field_of_other_group_422),
	        cmocka_unit_test(test_unknown_subject_group_422),
	        cmocka_unit_test(test_unknown_source_422),
	        cmocka_unit_test(test_required_missing_400),
	        cmocka_unit_test(test_required_field_cannot_be_removed),
	        cmocka_unit_test(test_enum_type_error_400),
	        cmocka_unit_test(test_bool_type_error_400),
	        cmocka_unit_test(test_int_type_error_400),
	        cmocka_unit_test(test_bad_email_phone_date_400),
	        cmocka_unit_test(test_malformed_json_400),
	        cmocka_unit_test(test_body_over_1mib_413),
	        cmocka_unit_test(test_unknown_register_404),
	        cmocka_unit_test(test_unknown_id_404),
	        cmocka_unit_test(test_non_numeric_id_404),
	        cmocka_unit_test(test_unknown_path_404),
	        cmocka_unit_test(test_wrong_method_405_allow),
	        cmocka_unit_test(test_wrong_method_405_problem),
	        cmocka_unit_test(test_head_answers_like_get),
	        cmocka_unit_test(test_patch_phone_keeps_history),
	        cmocka_unit_test(test_patch_null_removes_optional),
	        cmocka_unit_test(test_patch_undeclared_422_no_change),
	        cmocka_unit_test(test_delete_204_then_gone),
	        cmocka_unit_test(test_deleted_id_not_reused),
	        cmocka_unit_test(test_other_register_cannot_reach),
	        cmocka_unit_test(test_search_ignores_case_and_diacritics),
	        cmocka_unit_test(test_search_prefix_virt),
	        cmocka_unit_test(test_search_empty_query_400),
	        cmocka_unit_test(test_cursor_pagination),
	        cmocka_unit_test(test_bad_cursor_400),
	        cmocka_unit_test(test_bad_limit_400),
	        cmocka_unit_test(test_int_arg_overflow_400),
	        cmocka_unit_test(test_org_create_with_ytunnus),
	        cmocka_unit_test(test_org_invalid_ytunnus_400),
	        cmocka_unit_test(test_org_postal_code_400),
	        cmocka_unit_test(test_org_required_and_undeclared),
	        cmocka_unit_test(test_org_search_by_name),
	        cmocka_unit_test(test_org_patch_and_delete),
	        cmocka_unit_test(test_affiliation_shown_on_person),
	        cmocka_unit_test(test_affiliation_end_before_start_400),
	        cmocka_unit_test(test_affiliation_employment_ended_deletes_204),
	        cmocka_unit_test(test_retention_hold_and_plan),
	        cmocka_unit_test(test_affiliation_end_reason_without_end_400),
	        cmocka_unit_test(test_affiliation_title_undeclared_422),
	        cmocka_unit_test(test_affiliation_title_other_group_422),
	        cmocka_unit_test(test_affiliation_ends_must_exist),
	        cmocka_unit_test(test_org_delete_removes_affiliations),
	        cmocka_unit_test(test_security_headers_everywhere),
	        cmocka_unit_test(test_problem_json_shape),
	        cmocka_unit_test(test_keepalive_get),
	        cmocka_unit_test(test_keepalive_post),
	        cmocka_unit_test(test_keepalive_errors),
	        cmocka_unit_test(test_concurrent_posts),
	        cmocka_unit_test(test_limit_capped),
	        cmocka_unit_test(test_authorisation_matrix),
	        cmocka_unit_test(test_session_cookie_flags),
	        cmocka_unit_test(test_me_names_user_and_roles),
	        cmocka_unit_test(test_csrf_required_with_cookie),
	        cmocka_unit_test(test_sign_out_and_deactivation_end_sessions),
	        cmocka_unit_test(test_token_capped_by_register_and_role),
	        cmocka_unit_test(test_processor_sees_only_its_categories),
	        cmocka_unit_test(test_reads_logged_before_response),
	        cmocka_unit_test(test_long_multibyte_values_get_a_clean_422),
	        /* last: they make this client address wait */
	        cmocka_unit_test(test_signin_failures_indistinguishable),
	        cmocka_unit_test(test_signin_throttled),
	};
	return cmocka_run_group_tests(tests, group_setup_all, group_teardown);
}
