# shellcheck shell=sh
# Shell helpers the black-box tests of the command line share (test_cli.sh, test_audit.sh):
# the test's temp dir, checks that stop a test at its first failure and show what they saw,
# and the runner that runs each test in a shell process of its own, so that `set -e` holds
# inside it. POSIX sh, for sh and bash alike; a script sources it with
#	. "$(dirname "$0")/lib.sh"
# after `set -eu`, and its checks use $T.

# tmp_dir NAME ARG: sets T, the test's temp dir. With ARG --one (a single test run by the
# runner) it is the runner's, $KORTISTO_TEST_TMP, which the runner removes; else a new one,
# /tmp/kortisto-NAME-*, removed when the script exits.
tmp_dir() {
	if [ "${2:-}" = --one ]; then
		T=$KORTISTO_TEST_TMP
	else
		T=$(mktemp -d "${TMPDIR:-/tmp}/kortisto-$1-XXXXXX")
		trap 'rm -rf "$T"' EXIT
		trap 'exit 130' INT TERM
	fi
}

# die MESSAGE: fails the test, saying why.
die() {
	echo "    FAIL: $*" >&2
	exit 1
}

# show FILE...: prints each FILE, indented, to stderr.
show() {
	for f in "$@"; do
		echo "    --- $f:" >&2
		sed 's/^/    | /' "$f" >&2
	done
}

# run WANT CMD...: runs CMD with stdout in $T/out and stderr in $T/err; its exit status must
# be WANT.
run() {
	want=$1
	shift
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		show "$T/out" "$T/err"
		die "exit status $rc, expected $want: $*"
	fi
}

# has FILE ERE: FILE has a line matching the extended regular expression.
has() {
	grep -Eq -- "$2" "$1" || {
		show "$1"
		die "no line matching /$2/ in $(basename "$1")"
	}
}

# hasnt FILE ERE: no line of FILE matches.
hasnt() {
	if grep -Eq -- "$2" "$1"; then
		show "$1"
		die "unexpected line matching /$2/ in $(basename "$1")"
	fi
}

# start_server [ARGS...]: starts `$K --data $D ARGS serve` on a free port of 127.0.0.1 in the
# background, its standard error in $T/server.err; sets PID and ROOT (http://127.0.0.1:PORT),
# or dies showing what the server said.
start_server() {
	local port=
	: >"$T/server.err"
	"$K" --data "$D" "$@" serve --listen 127.0.0.1:0 2>"$T/server.err" &
	PID=$!
	for _ in $(seq 1 300); do
		port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/server.err")
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || {
		show "$T/server.err"
		die "the server did not say it listens"
	}
	ROOT=http://127.0.0.1:$port
}

# stop: stops the server start_server started, if it runs.
stop() {
	if [ -n "${PID:-}" ]; then
		kill "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
		PID=
	fi
}

# api_token USER [PASSWORD]: signs USER in at $BASE with PASSWORD (default $PW), accepts the
# confidentiality commitment, and prints a new API token of USER (made in the data directory
# $D with $K), for the suites that call the API as staff.
api_token() {
	local csrf v code
	rm -f "$T/jar"
	code=$(curl -s -o "$T/session.json" -w '%{http_code}' -c "$T/jar" \
		-H 'Content-Type: application/json' \
		-d "{\"name\":\"$1\",\"password\":\"${2:-$PW}\"}" "$BASE/session")
	[ "$code" = 201 ] || {
		show "$T/session.json"
		die "sign-in of $1: $code"
	}
	csrf=$(jq -r .csrf "$T/session.json")
	v=$(curl -s -b "$T/jar" "$BASE/me/commitment" | jq .version)
	code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" -H "X-CSRF-Token: $csrf" \
		-H 'Content-Type: application/json' -d "{\"version\":$v}" "$BASE/me/commitment")
	[ "$code" = 204 ] || die "commitment of $1: $code"
	"$K" --data "$D" token create --user "$1" 2>/dev/null
}

# run_tests WHAT SHELL SCRIPT TEST...: runs each TEST as `SHELL SCRIPT --one TEST` in the temp
# dir $T, prints one "ok"/"not ok" line per test and a TAP plan, and returns 1 when any failed
# (saying how many, of WHAT tests).
run_tests() {
	what=$1
	shell=$2
	script=$3
	shift 3
	failed=0
	total=0
	for t in "$@"; do
		total=$((total + 1))
		rc=0
		KORTISTO_TEST_TMP=$T "$shell" "$script" --one "$t" || rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "ok $total - $t"
		else
			echo "not ok $total - $t"
			failed=$((failed + 1))
		fi
	done
	echo "1..$total"
	if [ "$failed" -ne 0 ]; then
		echo "$failed of $total $what tests failed" >&2
		return 1
	fi
}
