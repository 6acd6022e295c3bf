#!/bin/sh
# HTTPS served by kortisto itself (S-06): with --tls-cert/--tls-key the server speaks TLS
# only, adds HSTS, and its session cookie carries Secure. The certificate is a throw-away
# self-signed one made here with openssl.
set -eu

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
T=$(mktemp -d "${TMPDIR:-/tmp}/kortisto-tls-XXXXXX")
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "not ok: $*" >&2
	[ -f "$T/server.err" ] && sed 's/^/    | /' "$T/server.err" >&2
	exit 1
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
	die "openssl could not make a certificate"

"$K" init "$T/data" >/dev/null
printf 'kortisto-tls-testaaja-1\n' >"$T/pw"
"$K" --data "$T/data" user add tls-user --password-file "$T/pw" >/dev/null 2>&1 ||
	die "user add"

# A key file readable by others is refused by some deployments; ours is 0600 anyway.
chmod 600 "$T/key.pem"
"$K" --data "$T/data" serve --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" \
	--tls-key "$T/key.pem" 2>"$T/server.err" &
PID=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's|.*listening on https://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/server.err")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || die "the server did not say it listens on https"

# TLS answers, with HSTS.
code=$(curl -sk -o /dev/null -D "$T/h" -w '%{http_code}' "https://127.0.0.1:$port/healthz")
[ "$code" = 200 ] || die "GET /healthz over TLS: $code"
grep -qi '^strict-transport-security: max-age=' "$T/h" || die "no HSTS header"

# Plain HTTP on the TLS port gets no answer.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz" || true)
[ "$code" != 200 ] || die "plain HTTP was answered on the TLS port"

# The session cookie is Secure over TLS, even on 127.0.0.1.
curl -sk -D "$T/h" -o "$T/body" -H 'Content-Type: application/json' \
	-d '{"name":"tls-user","password":"kortisto-tls-testaaja-1"}' \
	"https://127.0.0.1:$port/api/v1/session" >/dev/null
grep -i '^set-cookie: kortisto_session=' "$T/h" | grep -q 'Secure' ||
	die "the session cookie is not Secure over TLS"

# A missing key file is a clear error at start.
if "$K" --data "$T/data" serve --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" \
	--tls-key "$T/nope.pem" 2>"$T/err2"; then
	die "serve started without its key file"
fi
grep -q 'nope.pem' "$T/err2" || die "the error does not name the missing file"
echo "ok: TLS"
