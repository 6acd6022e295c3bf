#!/usr/bin/env bash
# Black-box tests of feedback surveys (F-01 … F-04, L-03, L-04): the real binary
# ($KORTISTO_BIN) serving a fresh data directory with espoo-feedback on 127.0.0.1, answered
# through the public page and the public JSON API with curl, managed with API tokens of a
# manager and a viewer and with `kortisto survey` on the command line. What is stored is
# checked with the sqlite3 tool and in the raw bytes of the database files. Each test runs in
# a process of its own (this script with --one TEST) so `set -e` stops it at its first failed
# check. Tests name the promise they prove.
set -euo pipefail

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir surveys "${1:-}"

PW=kortisto-kysely-testaaja-1
PID=
SURVEY="$REPO/registers/surveys/espoo-asiointi.yaml"

# ------------------------------------------------------------------------------------ helpers

sql() {
	sqlite3 -batch "$D/kortisto.db" "$1"
}

# checkpoint: moves the write-ahead log into the database file and empties it.
checkpoint() {
	sqlite3 -batch "$D/kortisto.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}

# setup NAME: data directory D with espoo-feedback; "mgr" manages it, "viewer" views it.
setup() {
	D=$T/$1/data
	mkdir -p "$T/$1"
	"$K" init "$D" >/dev/null
	"$K" --data "$D" register load "$REPO/registers/espoo-feedback.yaml" >/dev/null 2>&1 ||
		die "register load"
	printf '%s\n' "$PW" >"$T/pw"
	for u in mgr:manager viewer:viewer; do
		"$K" --data "$D" user add "${u%%:*}" --password-file "$T/pw" >/dev/null 2>&1 ||
			die "user add ${u%%:*}"
		"$K" --data "$D" user grant "${u%%:*}" --register espoo-feedback --role "${u#*:}" \
			>/dev/null 2>&1 || die "user grant ${u%%:*}"
	done
}

# serve [GLOBAL-OPTION...]: starts the server on a free port; sets PID, ROOT and BASE.
serve() {
	start_server "$@"
	BASE=$ROOT/api/v1
}

# token USER: a new API token of USER, signed in with the commitment accepted (lib.sh).
token() {
	api_token "$1"
}

# api TOKEN METHOD PATH [BODY]: calls REG PATH of espoo-feedback; body to $T/body, status to
# $CODE.
api() {
	local tok=$1 m=$2 p=$3
	shift 3
	local args=()
	[ $# -ge 1 ] && args=(-H 'Content-Type: application/json' --data-binary "$1")
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
		"${args[@]}" "$BASE/registers/espoo-feedback$p")
}

# pub METHOD PATH [BODY]: calls a public route under /api/v1 (JSON) without signing in.
pub() {
	local m=$1 p=$2
	shift 2
	local args=()
	[ $# -ge 1 ] && args=(-H 'Content-Type: application/json' --data-binary "$1")
	CODE=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" "${args[@]}" \
		"$BASE$p")
}

# form PATH BODY [LANG]: posts a form to the public page PATH; body to $T/body.
form() {
	CODE=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' \
		-H 'Content-Type: application/x-www-form-urlencoded' -H "Accept-Language: ${3:-fi}" \
		--data-binary "$2" "$ROOT$1")
}

want() {
	[ "$CODE" = "$1" ] || {
		show "$T/body"
		die "status $CODE, expected $1"
	}
}

field() {
	jq -r "$1" "$T/body"
}

is() {
	local got
	got=$(field "$1")
	[ "$got" = "$2" ] || {
		show "$T/body"
		die "$1 is '$got', expected '$2'"
	}
}

# load_survey: loads the example survey with the CLI; prints its id.
load_survey() {
	"$K" --data "$D" survey load --register espoo-feedback "$SURVEY" | jq -r .id
}

# ------------------------------------------------------------------------------------ tests

# proves F-01, F-02, L-03: the walk the issue asks for. Respondents answer on the public page
# and through the JSON API, enter the raffle, a manager draws; the losers' contacts are gone
# from the database files, the winners' after "notified", and no stored value or order pairs
# an entry with an answer.
t_walk_answer_raffle_draw() {
	setup walk
	local id
	id=$(load_survey)
	serve
	# The page in three languages, with no cookie and no script.
	CODE=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "$ROOT/p/surveys/$id?lang=sv")
	want 200
	has "$T/body" 'Kundenkät om kundtjänsten'
	hasnt "$T/headers" '^[Ss]et-[Cc]ookie'
	hasnt "$T/body" '<script|style='
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' -H 'Accept-Language: en-GB,en;q=0.9' \
		"$ROOT/p/surveys/$id")
	has "$T/body" 'Customer survey of the customer services'
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' "$ROOT/static/survey.css")
	want 200
	local i
	for i in 1 2 3 4 5 6; do
		form "/p/surveys/$id" "q.satisfaction=$((i % 5 + 1))&q.channel=visit&q.topics=permits&q.topics=advice&q.feedback=vastaus-$i&q.age=age-30-64"
		want 200
		has "$T/body" 'Kiitos vastauksestasi'
		has "$T/body" "action=\"/p/surveys/$id/raffle"
		hasnt "$T/headers" '^[Ss]et-[Cc]ookie'
		form "/p/surveys/$id/raffle" "contact=arpa$i%40example.fi"
		want 200
		has "$T/body" 'Olet mukana arvonnassa'
	done
	pub POST "/surveys/$id/answers" '{"satisfaction": 2, "channel": "phone"}'
	want 201
	pub POST "/surveys/$id/raffle" '{"contact": "040 765 4321"}'
	want 201
	# A bad answer is refused naming the question, on the page and in the API.
	form "/p/surveys/$id" "q.channel=visit"
	want 400
	has "$T/body" 'satisfaction'
	pub POST "/surveys/$id/answers" '{"satisfaction": 9}'
	want 400
	is '.errors[0].field' satisfaction
	pub POST "/surveys/$id/raffle" '{"contact": "no contact"}'
	want 400
	[ "$(sql 'SELECT count(*) FROM survey_answers')" = 7 ] || die "answers stored"
	[ "$(sql 'SELECT count(*) FROM raffle_entries')" = 7 ] || die "entries stored"
	# F-01: no client address, no time of day.
	checkpoint
	! grep -aq '127\.0\.0\.1' "$D/kortisto.db" || die "a client address is in the database"
	[ "$(sql 'SELECT count(*) FROM survey_answers WHERE length(day) <> 10')" = 0 ] ||
		die "an answer has a time finer than the day"
	# F-02: nothing in common but the survey: no shared key, no date on an entry.
	[ "$(sql 'SELECT count(*) FROM survey_answers a JOIN raffle_entries e ON a.k = e.k')" = 0 ] ||
		die "a shared key"
	sql "SELECT count(*) FROM pragma_table_info('raffle_entries') WHERE name = 'day'" | grep -qx 0 ||
		die "raffle entries have a date"
	! sql 'SELECT rowid FROM raffle_entries' >/dev/null 2>&1 || die "entries have a rowid"
	# Arrival order (arpa1 … arpa6) is not the table's order.
	local order
	order=$(sql "SELECT group_concat(contact, ' ') FROM (SELECT contact FROM raffle_entries
		WHERE contact LIKE 'arpa%' ORDER BY k)")
	[ "$order" != "arpa1@example.fi arpa2@example.fi arpa3@example.fi arpa4@example.fi arpa5@example.fi arpa6@example.fi" ] ||
		die "entries keep their order of arrival (a 1 in 720 chance)"
	# L-03: a viewer may not draw; the manager draws two, the rest are gone at once.
	local mtok vtok
	mtok=$(token mgr)
	vtok=$(token viewer)
	api "$vtok" POST "/surveys/$id/draw" '{"winners": 2}'
	want 403
	api "$mtok" POST "/surveys/$id/draw" '{"winners": 2}'
	want 200
	is '.entries' 7
	is '.winners | length' 2
	[ "$(sql 'SELECT count(*) FROM raffle_entries')" = 2 ] || die "losers not deleted"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'raffle_draw'")" = 1 ] ||
		die "the draw is not in the usage log"
	api "$mtok" POST "/surveys/$id/draw" '{"winners": 1}'
	want 409
	pub POST "/surveys/$id/raffle" '{"contact": "myohassa@example.fi"}'
	want 409
	checkpoint
	local gone=0
	for i in 1 2 3 4 5 6; do
		if ! grep -aq "arpa$i@example.fi" "$D/kortisto.db" "$D/kortisto.db-wal" 2>/dev/null; then
			gone=$((gone + 1))
		fi
	done
	[ "$gone" -ge 4 ] || die "only $gone of the losers' contacts left the files"
	api "$mtok" POST "/surveys/$id/notified" '{}'
	want 200
	is .deleted 2
	[ "$(sql 'SELECT count(*) FROM raffle_entries')" = 0 ] || die "winners kept"
	checkpoint
	! grep -aq 'arpa[0-9]@example.fi\|0407654321\|+358407654321' "$D/kortisto.db" ||
		die "a contact is still in the database file"
}

# proves F-04: statistics as JSON, CSV and SVG over the API, for a viewer; groups under 5
# hidden; the CLI prints the same.
t_stats() {
	setup stats
	local id i vtok
	id=$(load_survey)
	serve
	for i in 1 2 3 4; do
		pub POST "/surveys/$id/answers" '{"satisfaction": 5, "age": "age-65-plus", "feedback": "=SUM(A1)"}'
		want 201
	done
	vtok=$(token viewer)
	api "$vtok" GET "/surveys/$id/stats"
	want 200
	is '.answers_hidden' true
	is '.questions[0].hidden' true
	for i in 1 2 3 4 5; do
		pub POST "/surveys/$id/answers" '{"satisfaction": 4, "age": "age-30-64", "feedback": "<b>hyvä</b>"}'
		want 201
	done
	pub POST "/surveys/$id/answers" '{"satisfaction": 3, "age": "age-30-64"}'
	want 201
	api "$vtok" GET "/surveys/$id/stats?by=age"
	want 200
	is '.answers' 10
	is '.questions[0].n' 10
	is '.questions[0].mean' 4.3
	is '.questions[0].values[3].count' 5
	is '.questions[0].values[4].hidden' true
	is '.questions[0].values[2].hidden' true
	is '[.questions[0].groups[] | select(.group == "age-65-plus") | .hidden][0]' true
	is '[.questions[0].groups[] | select(.group == "age-30-64") | .n][0]' 6
	api "$vtok" GET "/surveys/$id/stats?format=csv"
	want 200
	has "$T/body" '^"question","group","value","count"'
	has "$T/body" "\"'=SUM\\(A1\\)\""
	api "$vtok" GET "/surveys/$id/stats?format=svg&lang=en"
	want 200
	has "$T/body" '<svg'
	hasnt "$T/body" '<b>'
	api "$vtok" GET "/surveys/$id/stats?by=feedback"
	want 400
	is '.errors[0].field' by
	api "$vtok" GET "/surveys/$id/stats?format=pdf"
	want 400
	stop
	run 0 "$K" --data "$D" survey stats "$id" --format csv
	has "$T/out" '"satisfaction","","mean","4.30"'
	run 0 "$K" --data "$D" survey stats "$id" --by age
	has "$T/out" '"group": "age-30-64"'
}

# proves L-04: `kortisto survey expire` with --now a year and a day after the answers deletes
# them; a day less keeps them; raffle entries go after their declared 30 days.
t_expire_with_now() {
	setup expire
	local id
	id=$(load_survey)
	serve --now 2026-03-01T10:00:00Z
	pub POST "/surveys/$id/answers" '{"satisfaction": 3}'
	want 201
	pub POST "/surveys/$id/raffle" '{"contact": "vanha@example.fi"}'
	want 201
	stop
	run 0 "$K" --data "$D" --now 2026-03-30T12:00:00Z survey expire --register espoo-feedback
	has "$T/out" '0 answers and 0 raffle entries'
	run 0 "$K" --data "$D" --now 2026-03-31T00:00:00Z survey expire
	has "$T/out" 'espoo-feedback: 0 answers and 1 raffle entries'
	run 0 "$K" --data "$D" --now 2027-02-28T23:00:00Z survey expire
	has "$T/out" '0 answers'
	[ "$(sql 'SELECT count(*) FROM survey_answers')" = 1 ] || die "answer deleted too early"
	run 0 "$K" --data "$D" --now 2027-03-02T00:00:00Z survey expire --register espoo-feedback
	has "$T/out" '1 answers'
	[ "$(sql 'SELECT count(*) FROM survey_answers')" = 0 ] || die "answer kept"
	run 1 "$K" --data "$D" survey expire --register no-such
}

# proves L-04: the retention run deletes survey answers a year and a day after their day,
# and raffle entries after their 30 days, as the system's actor in the usage log.
t_retention_run_removes_answers() {
	setup sweep
	local id
	id=$(load_survey)
	serve --now 2026-03-01T10:00:00Z
	pub POST "/surveys/$id/answers" '{"satisfaction": 3}'
	want 201
	pub POST "/surveys/$id/raffle" '{"contact": "pyyhkaisy@example.fi"}'
	want 201
	stop
	run 0 "$K" --data "$D" --now 2027-02-28T12:00:00Z retention run
	[ "$(sql 'SELECT count(*) FROM raffle_entries')" = 0 ] || die "raffle entry kept"
	[ "$(sql 'SELECT count(*) FROM survey_answers')" = 1 ] || die "answer deleted early"
	run 0 "$K" --data "$D" --now 2027-03-02T12:00:00Z retention run
	[ "$(sql 'SELECT count(*) FROM survey_answers')" = 0 ] || die "answer kept by the run"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'delete'
		AND entity = 'survey_answer' AND actor = 'system:retention'")" = 1 ] ||
		die "the deletion is not logged as the retention run's"
}

# proves F-03: definitions load from YAML with versions; errors name file, line and field.
t_cli_load_and_usage() {
	setup cli
	run 0 "$K" --data "$D" survey load --register espoo-feedback "$SURVEY"
	has "$T/out" '"version": 1'
	run 0 "$K" --data "$D" survey load --register espoo-feedback "$SURVEY"
	has "$T/out" '"created": false'
	sed 's/Vapaa palaute/Muu palaute/' "$SURVEY" >"$T/v2.yaml"
	run 0 "$K" --data "$D" survey load --register espoo-feedback "$T/v2.yaml"
	has "$T/out" '"version": 2'
	sed 's/kind: multiple/kind: many/' "$SURVEY" >"$T/bad.yaml"
	run 1 "$K" --data "$D" survey load --register espoo-feedback "$T/bad.yaml"
	has "$T/err" "bad.yaml:[0-9]+: questions\\[2\\]\\.kind"
	printf 'key: k\n  title: [\n' >"$T/broken.yaml"
	run 1 "$K" --data "$D" survey load --register espoo-feedback "$T/broken.yaml"
	has "$T/err" 'broken.yaml:[0-9]+:[0-9]+: invalid YAML'
	[ "$(sql 'SELECT count(*) FROM surveys')" = 2 ] || die "a bad definition was stored"
	run 0 "$K" --data "$D" survey list --register espoo-feedback
	has "$T/out" '"state": "closed"'
	run 0 "$K" --data "$D" survey show 2
	has "$T/out" '"answers": 0'
	run 0 "$K" --data "$D" survey --help
	has "$T/out" '^usage: kortisto survey load'
	run 2 "$K" --data "$D" survey
	run 2 "$K" --data "$D" survey load "$SURVEY"
	run 2 "$K" --data "$D" survey draw 2
	run 2 "$K" --data "$D" survey draw 2 --winners 0
	run 2 "$K" --data "$D" survey bogus 2
	run 2 "$K" --data "$D" survey stats 2 --format pdf
	run 1 "$K" --data "$D" survey show 99
	run 1 "$K" --data "$D" survey notified 2
	has "$T/err" 'not been drawn'
	run 0 "$K" --data "$D" survey draw 2 --winners 3
	has "$T/out" '"entries": 0'
}

# ------------------------------------------------------------------------------------ runner

if [ "${1:-}" = --one ]; then
	cd "$REPO"
	trap stop EXIT
	"$2"
	exit 0
fi

for tool in sqlite3 curl jq; do
	command -v $tool >/dev/null || {
		echo "the $tool command-line tool is needed" >&2
		exit 1
	}
done
run_tests "surveys" bash "$0" t_walk_answer_raffle_draw t_stats t_expire_with_now \
	t_retention_run_removes_answers t_cli_load_and_usage
