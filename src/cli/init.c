/*
 * `kortisto init DIR` and `kortisto serve`: creating a data directory and running the
 * server on one.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/account.h"
#include "core/app.h"
#include "http/http.h"

int cmd_init(struct globals *g, int argc, char **argv)
{
	struct kerr err = {0};
	const char *dir = argc > 1 ? argv[1] : g->data;
	if (argc > 2 || (argc > 1 && strcmp(argv[1], "--help") == 0)) {
		fprintf(argc > 2 ? stderr : stdout, "usage: kortisto init [DIR]\n"
		                                    "Creates DIR (mode 0700) with kortisto.conf, "
		                                    "field.key (0600) and kortisto.db.\n");
		return argc > 2 ? 2 : 0;
	}
	if (app_init_datadir(dir, &err) != 0) {
		fprintf(stderr, "kortisto: %s\n", err.message);
		return 1;
	}
	/* The default confidentiality commitment, version 1, so that users have one to
	 * accept from the start (`kortisto commitment set` replaces it). */
	struct globals gd = *g;
	struct cli c;
	gd.data = dir;
	if (!cli_open(&c, &gd))
		return 1;
	int rc = commitment_ensure_default(&c.ctx);
	if (rc)
		cli_fail(&c);
	cli_close(&c);
	if (rc)
		return 1;
	printf("created data directory %s\n", dir);
	return 0;
}

int cmd_serve(struct globals *g, int argc, char **argv)
{
	const char *listen = NULL, *cert = NULL, *key = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (strcmp(argv[i], "--tls-cert") == 0 && i + 1 < argc) {
			cert = argv[++i];
		} else if (strcmp(argv[i], "--tls-key") == 0 && i + 1 < argc) {
			key = argv[++i];
		} else if (strncmp(argv[i], "--listen=", 9) == 0) {
			listen = argv[i] + 9;
		} else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
			g->data = argv[++i];
		} else {
			int help = strcmp(argv[i], "--help") == 0;
			fprintf(help ? stdout : stderr,
			        "usage: kortisto [--data DIR] serve [--data DIR] [--listen "
			        "ADDR:PORT]\n"
			        "                [--tls-cert CERT.pem --tls-key KEY.pem]\n"
			        "Runs the HTTP server (default listen address from kortisto.conf, "
			        "127.0.0.1:8080).\n"
			        "With a certificate and key (options or tls_cert/tls_key in "
			        "kortisto.conf) it\n"
			        "serves HTTPS; without, run it behind a TLS proxy "
			        "(docs/deploy.md).\n");
			return help ? 0 : 2;
		}
	}
	if (!cert != !key) {
		fprintf(stderr, "kortisto: serve: --tls-cert and --tls-key go together\n");
		return 2;
	}
	struct cli c;
	if (!cli_open(&c, g))
		return 1;
	if (cert) {
		snprintf(c.app->cfg.tls_cert, sizeof(c.app->cfg.tls_cert), "%s", cert);
		snprintf(c.app->cfg.tls_key, sizeof(c.app->cfg.tls_key), "%s", key);
	}
	int rc = server_run(c.app, listen ? listen : c.app->cfg.listen, &c.err);
	if (rc)
		cli_fail(&c);
	cli_close(&c);
	return rc ? 1 : 0;
}
