/*
 * HTML pages of the server. Text reaches HTML only through the escaping writers of
 * util/html.h.
 */
#include <string.h>

#include "core/app.h"
#include "decl/decl.h"
#include "http/http.h"

extern const char openapi_yaml[];
extern const unsigned long openapi_yaml_len;

void page_index(struct req *r)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "<!doctype html>\n<html lang=\"fi\"><head><meta charset=\"utf-8\">"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	             "<title>kortisto</title>"
	             "<link rel=\"stylesheet\" href=\"/static/kortisto.css\"></head><body>"
	             "<header><h1>kortisto</h1><p>Asiakas- ja markkinointirekisteri, jonka "
	             "tietosuojaseloste pitää paikkansa. — A customer and marketing register "
	             "that keeps the promises of its privacy notice.</p></header><main>"
	             "<h2>Rekisterit / Registers</h2>");
	buf_puts(&b, "<table><thead><tr><th>id</th><th>nimi</th><th>versio</th>"
	             "<th>julkaistu</th></tr></thead><tbody>");
	const struct registry *regs = app_registers(r->ctx.app);
	for (size_t i = 0; i < regs->n; i++) {
		const struct app_register *reg = &regs->v[i];
		buf_puts(&b, "<tr><td><a href=\"/p/registers/");
		html_attr(&b, reg->id);
		buf_puts(&b, "/notice\"><code>");
		html_text(&b, reg->id);
		buf_puts(&b, "</code></a></td><td>");
		html_text(&b, decl_text(&reg->decl->name, LANG_FI, NULL));
		buf_appendf(&b, "</td><td>%d</td><td>", reg->version);
		html_text(&b, reg->decl->published);
		buf_puts(&b, "</td></tr>");
	}
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	/* HTTPS when kortisto serves TLS, or sits behind a TLS proxy (secure_cookie = always). */
	const char *scheme = (r->srv && server_tls(r->srv)) || r->ctx.app->cfg.secure_cookie_always
	                             ? "https"
	                             : "http";
	buf_puts(&b, "</tbody></table>"
	             "<p>Each register's privacy notice (tietosuojaseloste) is generated from its "
	             "declaration and public: <a href=\"/p/registers\">/p/registers</a>, in "
	             "Finnish, Swedish and English.</p>"
	             "<h2>API</h2><p>JSON API under <code>/api/v1</code>; its description is "
	             "<a href=\"/api/v1/openapi.yaml\">openapi.yaml</a>. Personal data answers "
	             "only to signed-in staff with a role on the register, who have accepted "
	             "the confidentiality commitment, and every use is logged. Sign in, or use "
	             "an API token (<code>kortisto token create</code>):</p><pre><code>curl -c "
	             "cookies -H 'Content-Type: application/json' -d '{\"name\": \"…\", "
	             "\"password\": \"…\"}' ");
	buf_appendf(&b, "%s://", scheme);
	html_text(&b, host ? host : "127.0.0.1:8080");
	buf_puts(&b, "/api/v1/session\ncurl -H 'Authorization: Bearer kt_…' '");
	buf_appendf(&b, "%s://", scheme);
	html_text(&b, host ? host : "127.0.0.1:8080");
	buf_puts(&b, "/api/v1/registers/rauma-crm/persons?q=virt'</code></pre>"
	             "</main></body></html>\n");
	reply_html(r, 200, &b);
}

/* The style sheet of the HTML pages: a file of its own, so the Content-Security-Policy can
 * forbid inline styles and scripts. */
void page_css(struct req *r)
{
	static const char css[] =
	        "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;"
	        "padding:0 1rem;line-height:1.5;color:#1a1a1a;background:#fff}"
	        "a{color:#0b57a4}code,pre{background:#f2f2f2;padding:0 .2rem}"
	        "pre{padding:.5rem;overflow-x:auto}"
	        "table{border-collapse:collapse}td,th{padding:.3rem .8rem;text-align:left;"
	        "border-bottom:1px solid #ddd}\n";
	reply_text(r, 200, "text/css; charset=utf-8", css, sizeof(css) - 1);
}

void api_openapi(struct req *r)
{
	reply_text(r, 200, "application/yaml; charset=utf-8", openapi_yaml,
	           (size_t)openapi_yaml_len);
}
