/*
 * `kortisto user|token|commitment …`: staff accounts, their grants and API tokens, and the
 * confidentiality commitment, managed by the operator on the server itself. Secrets shown once
 * (a generated password, a new token) go alone on a line of stdout so a script can capture
 * them; everything said about them goes to stderr. Options are declared in one table and each
 * subcommand names the ones it takes.
 */
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/account.h"
#include "util/buf.h"
#include "util/timeutil.h"

static const char user_usage[] =
        "usage: kortisto user add NAME [--admin] [--password-file F]\n"
        "       kortisto user list\n"
        "       kortisto user deactivate NAME\n"
        "       kortisto user passwd NAME [--password-file F]\n"
        "       kortisto user grant NAME --register RID --role viewer|editor|manager|processor\n"
        "                           [--processor RECIPIENT_ID]\n"
        "       kortisto user revoke NAME --register RID\n"
        "       kortisto user grants [--register RID] [--history]\n"
        "       kortisto user totp NAME --remove\n"
        "       kortisto user commitments\n"
        "Without --password-file, add and passwd generate a password and print it once, alone\n"
        "on stdout; it must be changed at the first sign-in. With it, the file's first line is\n"
        "the password (at least 12 characters, not the user name, not a common password); a\n"
        "password set by passwd must likewise be changed at the next sign-in. deactivate ends\n"
        "the user's sessions and revokes their tokens and grants. A processor role names the\n"
        "register's declared processor whose categories the user may see.\n";

static const char token_usage[] =
        "usage: kortisto token create --user NAME [--register RID] [--role ROLE] [--expires T]\n"
        "       kortisto token list [--user NAME]\n"
        "       kortisto token revoke ID\n"
        "create prints the token once, alone on stdout, and its id on stderr. --register limits\n"
        "it to one register, --role caps its role (never above the user's own); --expires T is\n"
        "Nd (days), Nh (hours) or an ISO 8601 duration such as P30D or P1Y; without it the\n"
        "token does not expire.\n";

static const char commitment_usage[] =
        "usage: kortisto commitment show\n"
        "       kortisto commitment set --file F\n"
        "set stores the text of F (UTF-8, at most 64 KiB) as the new version of the\n"
        "confidentiality commitment; every user must accept it before reaching personal data.\n";

/* ---------------------------------------------------------------- options */

struct opts {
	bool admin, history, remove;
	const char *password_file, *rid, *role, *processor, *user, *expires, *file;
	int npos;
	const char *pos[4];
};

enum {
	O_ADMIN = 1 << 0,
	O_PASSWORD_FILE = 1 << 1,
	O_REGISTER = 1 << 2,
	O_ROLE = 1 << 3,
	O_PROCESSOR = 1 << 4,
	O_HISTORY = 1 << 5,
	O_REMOVE = 1 << 6,
	O_USER = 1 << 7,
	O_EXPIRES = 1 << 8,
	O_FILE = 1 << 9,
};

static const struct {
	const char *name;
	unsigned bit;
	bool takes_value;
	size_t offset; /* of the const char * or bool in struct opts */
} options[] = {
        {"--admin", O_ADMIN, false, offsetof(struct opts, admin)},
        {"--password-file", O_PASSWORD_FILE, true, offsetof(struct opts, password_file)},
        {"--register", O_REGISTER, true, offsetof(struct opts, rid)},
        {"--role", O_ROLE, true, offsetof(struct opts, role)},
        {"--processor", O_PROCESSOR, true, offsetof(struct opts, processor)},
        {"--history", O_HISTORY, false, offsetof(struct opts, history)},
        {"--remove", O_REMOVE, false, offsetof(struct opts, remove)},
        {"--user", O_USER, true, offsetof(struct opts, user)},
        {"--expires", O_EXPIRES, true, offsetof(struct opts, expires)},
        {"--file", O_FILE, true, offsetof(struct opts, file)},
};

struct sub {
	const char *name;
	int (*fn)(struct cli *c, const struct opts *o);
	unsigned allowed;
	int min_pos, max_pos;
};

/* Parses argv (after the subcommand) against the options `allowed`; false on a usage error. */
static bool parse_opts(int argc, char **argv, unsigned allowed, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		size_t k = 0, n = sizeof(options) / sizeof(options[0]);
		if (strncmp(a, "--", 2) != 0) {
			if (o->npos == (int)(sizeof(o->pos) / sizeof(o->pos[0])))
				return false;
			o->pos[o->npos++] = a;
			continue;
		}
		while (k < n && strcmp(options[k].name, a) != 0)
			k++;
		if (k == n || !(options[k].bit & allowed)) {
			fprintf(stderr, "kortisto: unknown option '%s' here\n", a);
			return false;
		}
		char *field = (char *)o + options[k].offset;
		if (!options[k].takes_value) {
			*(bool *)field = true;
		} else if (i + 1 < argc) {
			*(const char **)field = argv[++i];
		} else {
			fprintf(stderr, "kortisto: %s needs a value\n", a);
			return false;
		}
	}
	return true;
}

/* ---------------------------------------------------------------- passwords */

/* Reads the first line of `path` into `out` (a password; at most n - 1 bytes). */
static bool read_password_file(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "kortisto: %s: %s\n", path, strerror(errno));
		return false;
	}
	bool ok = fgets(out, (int)n, f) != NULL;
	fclose(f);
	size_t len = ok ? strlen(out) : 0;
	if (ok && len == n - 1 && out[len - 1] != '\n') {
		fprintf(stderr, "kortisto: %s: the password line is too long\n", path);
		sodium_memzero(out, n);
		return false;
	}
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	if (!len) {
		fprintf(stderr, "kortisto: %s: the first line is empty\n", path);
		return false;
	}
	return true;
}

/* A random password of 20 characters from an alphabet without look-alikes (0/O, 1/l/I). */
static void generate_password(struct cli *c, const char *user, char out[21])
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for (int tries = 0; tries < 100; tries++) {
		for (int i = 0; i < 20; i++)
			out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
		out[20] = '\0';
		kerr_clear(&c->err);
		if (password_policy_check(&c->ctx, user, out) == 0)
			return;
	}
	kerr_clear(&c->err);
}

/* The password to set for `user`: from --password-file, or generated (*generated set). */
static bool password_for(struct cli *c, const struct opts *o, const char *user, char *pw, size_t n,
                         bool *generated)
{
	*generated = !o->password_file;
	if (o->password_file)
		return read_password_file(o->password_file, pw, n);
	generate_password(c, user, pw);
	return true;
}

static bool find_user(struct cli *c, const char *name, int64_t *id)
{
	if (account_find(&c->ctx, name, id) != 0) {
		cli_fail(c);
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- user */

static int user_add(struct cli *c, const struct opts *o)
{
	char pw[1100];
	bool generated;
	int64_t id = 0;
	int rc;
	if (!password_for(c, o, o->pos[0], pw, sizeof(pw), &generated))
		return 1;
	/* A generated password is set as one the operator chose: it must be changed. */
	rc = account_add(&c->ctx, o->pos[0], o->admin, generated ? NULL : pw, &id);
	if (rc == 0 && generated)
		rc = account_set_password(&c->ctx, id, NULL, pw, true);
	if (rc) {
		sodium_memzero(pw, sizeof(pw));
		return cli_fail(c);
	}
	fprintf(stderr, "created %suser %s (id %lld)\n", o->admin ? "admin " : "", o->pos[0],
	        (long long)id);
	if (generated) {
		fprintf(stderr, "its password, shown only now (to be changed at the first "
		                "sign-in):\n");
		printf("%s\n", pw);
	}
	sodium_memzero(pw, sizeof(pw));
	return 0;
}

static int user_passwd(struct cli *c, const struct opts *o)
{
	char pw[1100];
	bool generated;
	int64_t id;
	if (!find_user(c, o->pos[0], &id) ||
	    !password_for(c, o, o->pos[0], pw, sizeof(pw), &generated))
		return 1;
	int rc = account_set_password(&c->ctx, id, NULL, pw, true);
	if (rc) {
		sodium_memzero(pw, sizeof(pw));
		return cli_fail(c);
	}
	fprintf(stderr,
	        "password of %s set; it must be changed at the next sign-in, and the user's "
	        "sessions ended\n",
	        o->pos[0]);
	if (generated) {
		fprintf(stderr, "the new password, shown only now:\n");
		printf("%s\n", pw);
	}
	sodium_memzero(pw, sizeof(pw));
	return 0;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static int user_list(struct cli *c, const struct opts *o)
{
	json_t *list = NULL, *u, *g;
	size_t i, j;
	(void)o;
	if (account_list(&c->ctx, &list))
		return cli_fail(c);
	printf("%-24s %-6s %-7s %-11s %-5s %s\n", "NAME", "ADMIN", "ACTIVE", "PASSWORD", "TOTP",
	       "GRANTS");
	json_array_foreach (list, i, u) {
		struct buf b = BUF_INIT;
		json_array_foreach (json_object_get(u, "grants"), j, g) {
			buf_appendf(&b, "%s%s:%s", j ? "," : "", jstr(g, "register"),
			            jstr(g, "role"));
			if (json_is_string(json_object_get(g, "processor")))
				buf_appendf(&b, "(%s)", jstr(g, "processor"));
		}
		const char *pw = !json_is_true(json_object_get(u, "password"))     ? "none"
		                 : json_is_true(json_object_get(u, "must_change")) ? "must-change"
		                                                                   : "set";
		char pwbuf[16];
		if (strcmp(pw, "set") == 0) {
			snprintf(pwbuf, sizeof(pwbuf), "%lldd",
			         (long long)json_integer_value(
			                 json_object_get(u, "password_age_days")));
			pw = pwbuf;
		}
		printf("%-24s %-6s %-7s %-11s %-5s %s\n", jstr(u, "name"),
		       json_is_true(json_object_get(u, "admin")) ? "yes" : "no",
		       json_is_true(json_object_get(u, "active")) ? "yes" : "no", pw,
		       json_is_true(json_object_get(u, "totp")) ? "yes" : "no",
		       b.len ? buf_str(&b) : "-");
		buf_free(&b);
	}
	json_decref(list);
	return 0;
}

static int user_deactivate(struct cli *c, const struct opts *o)
{
	if (account_deactivate(&c->ctx, o->pos[0]))
		return cli_fail(c);
	fprintf(stderr, "deactivated %s: sessions ended, tokens and grants revoked\n", o->pos[0]);
	return 0;
}

static int user_grant(struct cli *c, const struct opts *o)
{
	enum role role;
	int64_t id;
	if (!o->rid || !o->role) {
		fprintf(stderr, "kortisto: user grant needs --register and --role\n");
		return 2;
	}
	if (role_parse(o->role, &role) != 0) {
		fprintf(stderr, "kortisto: --role: one of viewer, editor, manager, processor\n");
		return 2;
	}
	if (!find_user(c, o->pos[0], &id))
		return 1;
	if (grant_add(&c->ctx, id, o->rid, role, o->processor))
		return cli_fail(c);
	fprintf(stderr, "%s is now %s on %s%s%s\n", o->pos[0], role_name(role), o->rid,
	        o->processor ? " for processor " : "", o->processor ? o->processor : "");
	return 0;
}

static int user_revoke(struct cli *c, const struct opts *o)
{
	int64_t id;
	if (!o->rid) {
		fprintf(stderr, "kortisto: user revoke needs --register\n");
		return 2;
	}
	if (!find_user(c, o->pos[0], &id))
		return 1;
	if (grant_revoke(&c->ctx, id, o->rid))
		return cli_fail(c);
	fprintf(stderr, "%s has no role on %s any more\n", o->pos[0], o->rid);
	return 0;
}

static int user_grants(struct cli *c, const struct opts *o)
{
	json_t *list = NULL, *g;
	size_t i;
	if (grant_list(&c->ctx, o->rid, o->history, &list))
		return cli_fail(c);
	printf("%-20s %-20s %-10s %-20s %-21s %-24s %-21s %s\n", "USER", "REGISTER", "ROLE",
	       "PROCESSOR", "GRANTED", "BY", "REVOKED", "BY");
	json_array_foreach (list, i, g)
		printf("%-20s %-20s %-10s %-20s %-21s %-24s %-21s %s\n", jstr(g, "user"),
		       jstr(g, "register"), jstr(g, "role"), jstr(g, "processor"),
		       jstr(g, "granted_at"), jstr(g, "granted_by"), jstr(g, "revoked_at"),
		       jstr(g, "revoked_by"));
	json_decref(list);
	return 0;
}

static int user_totp(struct cli *c, const struct opts *o)
{
	int64_t id;
	if (!o->remove) {
		fprintf(stderr, "kortisto: user totp NAME --remove (users enrol themselves after "
		                "signing in)\n");
		return 2;
	}
	if (!find_user(c, o->pos[0], &id))
		return 1;
	if (account_totp_remove(&c->ctx, id))
		return cli_fail(c);
	fprintf(stderr, "removed the second factor of %s\n", o->pos[0]);
	return 0;
}

static int user_commitments(struct cli *c, const struct opts *o)
{
	json_t *list = NULL, *a;
	size_t i;
	(void)o;
	if (commitment_list(&c->ctx, &list))
		return cli_fail(c);
	printf("%-24s %-8s %s\n", "USER", "VERSION", "ACCEPTED");
	json_array_foreach (list, i, a)
		printf("%-24s %-8lld %s\n", jstr(a, "user"),
		       (long long)json_integer_value(json_object_get(a, "version")),
		       jstr(a, "accepted_at"));
	json_decref(list);
	return 0;
}

/* ---------------------------------------------------------------- token */

/* Parses --expires: Nd, Nh or an ISO 8601 duration, from `now`. */
static bool parse_expires(const char *s, int64_t now, int64_t *out)
{
	size_t n = strlen(s);
	if (n >= 2 && n <= 7 && (s[n - 1] == 'd' || s[n - 1] == 'h')) {
		int64_t v = 0;
		for (size_t i = 0; i + 1 < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			v = v * 10 + (s[i] - '0');
		}
		if (v < 1 || (s[n - 1] == 'd' ? v > 36500 : v > 876000))
			return false;
		*out = now + v * (s[n - 1] == 'd' ? 86400 : 3600);
		return true;
	}
	int years, months, days, y, m, d;
	if (duration_parse(s, &years, &months, &days) != 0)
		return false;
	int64_t day = now >= 0 ? now / 86400 : -((-now + 86399) / 86400);
	civil_from_days(day, &y, &m, &d);
	date_add(&y, &m, &d, years, months, days);
	*out = now + (days_from_civil(y, m, d) - day) * 86400;
	return *out > now;
}

static int token_create_cmd(struct cli *c, const struct opts *o)
{
	enum role cap = ROLE_NONE;
	int64_t uid, expires = 0, id = 0;
	char token[64];
	if (!o->user) {
		fprintf(stderr, "kortisto: token create needs --user NAME\n");
		return 2;
	}
	if (o->role && role_parse(o->role, &cap) != 0) {
		fprintf(stderr, "kortisto: --role: one of viewer, editor, manager, processor\n");
		return 2;
	}
	if (o->expires && !parse_expires(o->expires, c->ctx.now, &expires)) {
		fprintf(stderr,
		        "kortisto: --expires: Nd, Nh or an ISO 8601 duration (P30D, P1Y)\n");
		return 2;
	}
	if (!find_user(c, o->user, &uid))
		return 1;
	if (token_create(&c->ctx, uid, o->rid, cap, expires, token, &id))
		return cli_fail(c);
	printf("%s\n", token);
	fflush(stdout);
	sodium_memzero(token, sizeof(token));
	char iso[21] = "never";
	if (expires)
		time_format_iso8601(expires, iso);
	fprintf(stderr, "token %lld for %s (register %s, role %s, expires %s); shown only now\n",
	        (long long)id, o->user, o->rid ? o->rid : "any", o->role ? o->role : "the user's",
	        iso);
	return 0;
}

static int token_list_cmd(struct cli *c, const struct opts *o)
{
	json_t *list = NULL, *t;
	int64_t uid = 0;
	size_t i;
	if (o->user && !find_user(c, o->user, &uid))
		return 1;
	if (token_list(&c->ctx, uid, &list))
		return cli_fail(c);
	printf("%-6s %-20s %-20s %-10s %-21s %-21s %-21s %s\n", "ID", "USER", "REGISTER", "ROLE",
	       "CREATED", "EXPIRES", "LAST USED", "REVOKED");
	json_array_foreach (list, i, t)
		printf("%-6lld %-20s %-20s %-10s %-21s %-21s %-21s %s\n",
		       (long long)json_integer_value(json_object_get(t, "id")), jstr(t, "user"),
		       jstr(t, "register"), jstr(t, "role"), jstr(t, "created_at"),
		       jstr(t, "expires"), jstr(t, "last_used"), jstr(t, "revoked_at"));
	json_decref(list);
	return 0;
}

static int token_revoke_cmd(struct cli *c, const struct opts *o)
{
	int64_t id;
	if (!cli_parse_id(o->pos[0], &id))
		return 2;
	if (token_revoke(&c->ctx, id))
		return cli_fail(c);
	fprintf(stderr, "token %lld revoked\n", (long long)id);
	return 0;
}

/* ---------------------------------------------------------------- commitment */

static int commitment_show(struct cli *c, const struct opts *o)
{
	int version = 0;
	const char *text = NULL;
	(void)o;
	if (commitment_current(&c->ctx, &version, &text))
		return cli_fail(c);
	if (!version) {
		fprintf(stderr, "kortisto: no confidentiality commitment has been set\n");
		return 1;
	}
	printf("version %d\n\n%s", version, text);
	if (*text && text[strlen(text) - 1] != '\n')
		putchar('\n');
	return 0;
}

static int commitment_set_cmd(struct cli *c, const struct opts *o)
{
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	int version = 0;
	if (!o->file) {
		fprintf(stderr, "kortisto: commitment set needs --file F\n");
		return 2;
	}
	FILE *f = fopen(o->file, "rb");
	if (!f) {
		fprintf(stderr, "kortisto: %s: %s\n", o->file, strerror(errno));
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= 65536)
		buf_append(&b, chunk, n);
	bool bad = ferror(f) || memchr(buf_str(&b), '\0', b.len);
	fclose(f);
	if (bad) {
		fprintf(stderr, "kortisto: %s: cannot be read as text\n", o->file);
		buf_free(&b);
		return 1;
	}
	int rc = commitment_set(&c->ctx, buf_str(&b), &version);
	buf_free(&b);
	if (rc)
		return cli_fail(c);
	fprintf(stderr, "stored the commitment as version %d; every user must accept it\n",
	        version);
	return 0;
}

/* ---------------------------------------------------------------- dispatch */

static const struct sub user_subs[] = {
        {"add", user_add, O_ADMIN | O_PASSWORD_FILE, 1, 1},
        {"list", user_list, 0, 0, 0},
        {"deactivate", user_deactivate, 0, 1, 1},
        {"passwd", user_passwd, O_PASSWORD_FILE, 1, 1},
        {"grant", user_grant, O_REGISTER | O_ROLE | O_PROCESSOR, 1, 1},
        {"revoke", user_revoke, O_REGISTER, 1, 1},
        {"grants", user_grants, O_REGISTER | O_HISTORY, 0, 0},
        {"totp", user_totp, O_REMOVE, 1, 1},
        {"commitments", user_commitments, 0, 0, 0},
        {NULL, NULL, 0, 0, 0},
};

static const struct sub token_subs[] = {
        {"create", token_create_cmd, O_USER | O_REGISTER | O_ROLE | O_EXPIRES, 0, 0},
        {"list", token_list_cmd, O_USER, 0, 0},
        {"revoke", token_revoke_cmd, 0, 1, 1},
        {NULL, NULL, 0, 0, 0},
};

static const struct sub commitment_subs[] = {
        {"show", commitment_show, 0, 0, 0},
        {"set", commitment_set_cmd, O_FILE, 0, 0},
        {NULL, NULL, 0, 0, 0},
};

static int run(const char *group, const struct sub *subs, const char *usage, struct globals *g,
               int argc, char **argv)
{
	struct opts o;
	struct cli c;
	const struct sub *s = subs;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	while (s->name && strcmp(s->name, argv[1]) != 0)
		s++;
	if (!s->name) {
		fprintf(stderr, "kortisto: unknown %s command '%s'\n", group, argv[1]);
		fputs(usage, stderr);
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (!parse_opts(argc - 2, argv + 2, s->allowed, &o) || o.npos < s->min_pos ||
	    o.npos > s->max_pos) {
		fputs(usage, stderr);
		return 2;
	}
	if (!cli_open(&c, g))
		return 1;
	int status = s->fn(&c, &o);
	if (status == 2)
		fputs(usage, stderr);
	cli_close(&c);
	return status;
}

int cmd_user(struct globals *g, int argc, char **argv)
{
	return run("user", user_subs, user_usage, g, argc, argv);
}

int cmd_token(struct globals *g, int argc, char **argv)
{
	return run("token", token_subs, token_usage, g, argc, argv);
}

int cmd_commitment(struct globals *g, int argc, char **argv)
{
	return run("commitment", commitment_subs, commitment_usage, g, argc, argv);
}
