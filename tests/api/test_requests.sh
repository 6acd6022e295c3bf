#!/usr/bin/env bash
# Black-box tests of data-subject requests (R-02 … R-12): the real binary ($KORTISTO_BIN)
# serving a fresh data directory on 127.0.0.1, driven with curl as a manager and a viewer of
# rauma-crm using API tokens, and `kortisto request` on the command line. What a request did
# is checked in the database with the sqlite3 command-line tool and, for erasure, in the raw
# bytes of the database files. Each test runs in a process of its own (this script with
# --one TEST) so `set -e` stops it at its first failed check; the runner prints one
# "ok"/"not ok" line per test and exits 1 when any failed. Tests name the promise they prove.
set -euo pipefail

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir requests "${1:-}"

PW=kortisto-pyynto-testaaja-1
PID=

# ------------------------------------------------------------------------------------ helpers

# sql STATEMENTS: runs SQL on the test's database with the sqlite3 tool.
sql() {
	sqlite3 -batch "$D/kortisto.db" "$1"
}

# setup NAME: a data directory D with rauma-crm and kemi-crm loaded, user "mgr" a manager and
# "viewer" a viewer of rauma-crm, both with the test password.
setup() {
	D=$T/$1/data
	mkdir -p "$T/$1"
	"$K" init "$D" >/dev/null
	for r in rauma-crm kemi-crm; do
		"$K" --data "$D" register load "$REPO/registers/$r.yaml" >/dev/null 2>&1 ||
			die "register load $r"
	done
	printf '%s\n' "$PW" >"$T/pw"
	for u in mgr:manager viewer:viewer; do
		"$K" --data "$D" user add "${u%%:*}" --password-file "$T/pw" >/dev/null 2>&1 ||
			die "user add ${u%%:*}"
		"$K" --data "$D" user grant "${u%%:*}" --register rauma-crm --role "${u#*:}" \
			>/dev/null 2>&1 || die "user grant ${u%%:*}"
	done
}

# serve [GLOBAL-OPTION...]: starts `kortisto serve` on D on a free port (global options such
# as --now before the command); sets PID and BASE.
serve() {
	start_server "$@"
	BASE=$ROOT/api/v1
}

# token USER: a new API token of USER, signed in with the commitment accepted (lib.sh).
token() {
	api_token "$1"
}

# api TOKEN METHOD PATH [BODY]: calls REG PATH of rauma-crm (PATH "" is the register); the
# body of the answer goes to $T/body, its status to $CODE.
api() {
	local tok=$1 m=$2 p=$3
	shift 3
	local args=()
	[ $# -ge 1 ] && args=(-H 'Content-Type: application/json' --data-binary "$1")
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
		"${args[@]}" "$BASE/registers/rauma-crm$p")
}

# want CODE: the last answer's status was CODE.
want() {
	[ "$CODE" = "$1" ] || {
		show "$T/body"
		die "status $CODE, expected $1"
	}
}

# field FILTER: the jq FILTER of the last answer's body, raw.
field() {
	jq -r "$1" "$T/body"
}

# is FILTER VALUE: the jq FILTER of the last answer is VALUE.
is() {
	local got
	got=$(field "$1")
	[ "$got" = "$2" ] || {
		show "$T/body"
		die "$1 is '$got', expected '$2'"
	}
}

# person TOKEN JSON-MEMBERS: creates a rauma-crm person; prints the id.
person() {
	api "$1" POST /persons "{$2}"
	want 201
	field .id
}

# new_request TOKEN TYPE PERSON [DETAILS]: files a request of TYPE for PERSON; prints its id.
new_request() {
	local det=
	[ $# -ge 4 ] && det=", \"details\": $4"
	api "$1" POST /requests "{\"type\": \"$2\", \"channel\": \"email\", \"person_id\": $3$det}"
	want 201
	field .id
}

# walk TOKEN ID: verifies request ID and fulfils it; the answer of the fulfilment is in
# $T/body.
walk() {
	api "$1" POST "/requests/$2/verify" '{"method": "strong_auth", "note": "Suomi.fi"}'
	want 200
	is .state verified
	is .verification.method strong_auth
	api "$1" POST "/requests/$2/fulfil" '{"note": "Tehty"}'
	want 200
	cp "$T/body" "$T/fulfilled.json"
}

# steps_are ID ACTIONS [STATE]: request ID is in STATE (default fulfilled) with these steps,
# each by the manager's token, as the database holds them. (GET of one request is tested
# apart, in t_get_request.)
steps_are() {
	local got
	got=$(sql "SELECT state FROM requests WHERE id = $1")
	[ "$got" = "${3:-fulfilled}" ] || die "request $1 is '$got', expected '${3:-fulfilled}'"
	got=$(sql "SELECT group_concat(action, ',') FROM (SELECT action FROM request_steps
		WHERE request_id = $1 ORDER BY id)")
	[ "$got" = "$2" ] || die "request $1 has steps '$got', expected '$2'"
	got=$(sql "SELECT group_concat(DISTINCT actor) FROM request_steps WHERE request_id = $1")
	[ "$got" = token:1:mgr ] || die "request $1 has steps by '$got'"
}

# state_is ID STATE: request ID is in STATE in the database.
state_is() {
	local got
	got=$(sql "SELECT state FROM requests WHERE id = $1")
	[ "$got" = "$2" ] || die "request $1 is '$got', expected '$2'"
}

CONSENTING='"subject_group": "consenting_person", "source": "customer"'
COMPANY='"subject_group": "organisation_contact", "source": "public_web"'

# ------------------------------------------------------------------------------------ tests

# proves R-07: after an erasure through the API and a checkpoint, the raw database file and
# its log hold none of the subject's name, e-mail or phone (nor their search words).
t_erasure_scan() {
	setup scan
	serve
	local tok pid id
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Zyxwvu\", \"last_name\": \"Qwertyson\",
		\"email\": \"zyx.qwerty@example.fi\", \"phone\": \"+358 40 987 6543\"")
	api "$tok" PATCH "/persons/$pid" '{"first_name": "Zyxwvut", "reason": "kirjoitusvirhe"}'
	want 200
	api "$tok" GET "/persons?q=Qwertyson"
	want 200
	is '.items | length' 1
	[ "$(sql "SELECT count(*) FROM change_history WHERE entity_id = $pid")" -gt 0 ] ||
		die "no change history to erase"
	id=$(new_request "$tok" erasure "$pid")
	walk "$tok" "$id"
	is .state fulfilled
	is .outcome.erased true
	api "$tok" GET "/persons?q=Qwertyson"
	is '.items | length' 0
	# The server purges the search index within a few seconds; wait for it.
	for _ in $(seq 1 100); do
		[ "$(sql "SELECT count(*) FROM maintenance WHERE task = 'search_purge'")" = 0 ] &&
			break
		sleep 0.1
	done
	[ "$(sql "SELECT count(*) FROM maintenance WHERE task = 'search_purge'")" = 0 ] ||
		die "the search index was not purged within 10 s"
	stop
	sql "PRAGMA wal_checkpoint(TRUNCATE)" >"$T/ckpt"
	has "$T/ckpt" '^0\|'
	for s in Zyxwvu Zyxwvut Qwertyson zyxwvu qwertyson zyx.qwerty@example.fi zyx.qwerty \
		'+358409876543' '+358 40 987 6543' '409876543'; do
		for file in "$D/kortisto.db" "$D/kortisto.db-wal"; do
			[ -f "$file" ] || continue
			if grep -a -q -F -- "$s" "$file"; then
				die "'$s' is still in $(basename "$file") after erasure"
			fi
		done
	done
	# The request itself stays, as the proof that it was answered.
	[ "$(sql "SELECT state FROM requests WHERE id = $id")" = fulfilled ] || die "request gone"
}

# proves R-07: the same when the requester identified themselves in the request (a written
# request giving name, e-mail and phone, matched to the person at verification).
# (Until 38878f3 the request kept what the requester wrote about themselves, requests.subject,
# after the erasure.)
t_erasure_scan_with_subject() {
	setup scansub
	serve
	local tok pid id
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Xawbo\", \"last_name\": \"Pluvkirk\",
		\"email\": \"xawbo.pluvkirk@example.fi\", \"phone\": \"+358 50 135 7924\"")
	api "$tok" POST /requests '{"type": "erasure", "channel": "written", "subject":
		{"name": "Xawbo Pluvkirk", "email": "xawbo.pluvkirk@example.fi",
		 "phone": "+358 50 135 7924"}}'
	want 201
	id=$(field .id)
	api "$tok" POST "/requests/$id/verify" "{\"method\": \"id_document\", \"person_id\": $pid}"
	want 200
	api "$tok" POST "/requests/$id/fulfil" '{}'
	want 200
	is .state fulfilled
	stop
	sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	for s in Pluvkirk xawbo.pluvkirk@example.fi '+358 50 135 7924' '+358501357924'; do
		if grep -a -q -F -- "$s" "$D/kortisto.db"; then
			where=$(sql "SELECT 'requests.subject' FROM requests WHERE subject LIKE '%$s%'")
			die "'$s' is still in the database after erasure (${where:-?})"
		fi
	done
}

# kk ARGS...: runs kortisto on D, printing its standard output; fails the test on an error.
kk() {
	"$K" --data "$D" "$@" 2>"$T/kk.err" || {
		show "$T/kk.err"
		die "kortisto $*"
	}
}

# start_sink: starts the SMTP sink (tests/api/smtp_sink.py) writing to $T/sink; sets
# SINK_PORT. It stops when the test's shell closes its standard input (fd 9).
start_sink() {
	mkdir -p "$T/sink"
	rm -f "$T/sink"/* "$T/sink.port"
	exec 9> >(exec python3 "$REPO/tests/api/smtp_sink.py" --exit-on-eof "$T/sink" \
		>"$T/sink.port")
	for _ in $(seq 1 200); do
		SINK_PORT=$(head -n1 "$T/sink.port" 2>/dev/null || true)
		[ -n "$SINK_PORT" ] && break
		sleep 0.05
	done
	[ -n "$SINK_PORT" ] || die "the SMTP sink did not start"
}

# mail_link EMAIL PATTERN: the first path under /p/ matching the sed PATTERN (one group) in
# the mail the sink received for EMAIL, quoted-printable soft breaks undone.
mail_link() {
	local env
	for env in $(grep -lx "rcpt to $1" "$T/sink"/*.env); do
		tr -d '\r' <"${env%.env}.eml" | sed -e ':a' -e '/=$/{N;s/=\n//;ba' -e '}' |
			sed -n "s|.*https://kortisto\.example\.fi\($2\).*|\1|p"
	done | head -n 1
}

# proves R-07: the erasure of a subject who came in through the public pages leaves none of
# their data in the raw database files either: their address (as the public subscribe and
# event pages and the open pixel saw it, here a loopback address of its own, 127.41.7.93),
# the consent they gave there, the content of an advisory record and its change history,
# their event registration and the open of a newsletter.
t_erasure_scan_public_paths() {
	local R=espoo-talent-hub ADDR=127.41.7.93 pid ev m path rq
	D=$T/scanpub/data
	mkdir -p "$T/scanpub"
	"$K" init "$D" >/dev/null
	kk register load "$REPO/registers/$R.yaml" >/dev/null
	start_sink
	printf 'smtp_url = smtp://127.0.0.1:%s\nmail_from = uutiset@espoo.example.fi\npublic_url = https://kortisto.example.fi/\n' \
		"$SINK_PORT" >>"$D/kortisto.conf"
	kk mailing list-add --register $R slug=talent-uutiset name="Talent Hubin uutiskirje" \
		purpose=newsletters group=individual source=subject \
		consent_text="Haluan Talent Hubin uutiskirjeen." consent_version=2026-1 >/dev/null
	kk event new --register $R title=Rekrytointipäivä format=physical \
		starts_at=2099-05-01T09:00:00Z ends_at=2099-05-01T15:00:00Z place=Espoo \
		'registration:={"group": "individual", "source": "subject"}' >"$T/ev"
	ev=$(jq -r .id "$T/ev")
	serve
	local ROOT=${BASE%/api/v1}
	# The subscribe page and its confirmation link, from the subject's own address.
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' --interface $ADDR \
		--data-urlencode email=qoxhilda.vrennberg@example.fi \
		--data-urlencode first_name=Qoxhilda --data-urlencode last_name=Vrennberg \
		-d consent=yes "$ROOT/p/subscribe/talent-uutiset")
	[ "$CODE" = 200 ] || die "subscribe: $CODE"
	path=$(mail_link qoxhilda.vrennberg@example.fi '/p/confirm/[A-Za-z0-9_-]*')
	[ -n "$path" ] || die "no confirmation link"
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' --interface $ADDR -X POST "$ROOT$path")
	[ "$CODE" = 200 ] || die "confirm: $CODE"
	pid=$(sql "SELECT person_id FROM contact_points WHERE value = 'qoxhilda.vrennberg@example.fi'")
	[ -n "$pid" ] || die "the subscribe page made no person"
	[ "$(sql "SELECT count(*) FROM consents WHERE person_id = $pid AND source_client = '$ADDR'
		AND state = 'confirmed'")" = 1 ] || die "no confirmed consent with the client address"
	kk person update --register $R "$pid" phone="+358 44 246 8013" >/dev/null
	# The public registration page of an event, from the same address.
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' --interface $ADDR \
		--data-urlencode first_name=Qoxhilda --data-urlencode last_name=Vrennberg \
		--data-urlencode email=qoxhilda.vrennberg@example.fi "$ROOT/p/events/$ev")
	[ "$CODE" = 200 ] || die "event registration: $CODE"
	[ "$(sql "SELECT count(*) FROM event_registrations WHERE person_id = $pid")" = 1 ] ||
		die "the registration page did not register the person"
	# An advisory record whose content is changed once, so that it has history too.
	kk record add --register $R --person "$pid" --type appointment --on 2025-03-14 \
		start=2025-03-14T09:30:00Z end=2025-03-14T10:15:00Z channel=visit \
		place="Talent Hub" staff="Neuvoja Nieminen" topic=Vrumblefitz-urasuunnitelma \
		status=booked >"$T/rec"
	kk record change --register $R --id "$(sed -n 's/^record //p' "$T/rec")" \
		topic=Vrumblefitz-urasuunnitelma-2 >/dev/null
	# A newsletter with open tracking, sent, and opened from the subject's address.
	m=$(kk mailing new --register $R purpose=newsletters subject="Uutiset {{first_name}}" \
		text="Hei {{first_name}} {{last_name}}" html="<p>Hei {{first_name}}</p>" \
		track_opens:=true | jq -r .id)
	kk mailing send --register $R "$m" >/dev/null
	path=$(mail_link qoxhilda.vrennberg@example.fi '/p/o/[A-Za-z0-9_-]*\.gif')
	[ -n "$path" ] || die "no open pixel in the newsletter"
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --interface $ADDR "$ROOT$path")
	[ "$CODE" = 200 ] || die "pixel: $CODE"
	[ "$(sql "SELECT count(*) FROM mailing_opens WHERE person_id = $pid")" = 1 ] ||
		die "the open was not logged"

	rq=$(kk request new --register $R type=erasure channel=email person_id:="$pid" | jq -r .id)
	kk request verify --register $R "$rq" method=registered_contact >/dev/null
	kk request fulfil --register $R "$rq" >"$T/fulfil.json"
	jq -e '.outcome.erased' "$T/fulfil.json" >/dev/null || {
		show "$T/fulfil.json"
		die "the erasure did not erase"
	}
	stop
	sql "PRAGMA wal_checkpoint(TRUNCATE)" >"$T/ckpt"
	has "$T/ckpt" '^0\|'
	local s file
	for s in qoxhilda.vrennberg@example.fi qoxhilda Qoxhilda Vrennberg vrennberg \
		'+358 44 246 8013' '+358442468013' 442468013 Vrumblefitz $ADDR; do
		for file in "$D/kortisto.db" "$D/kortisto.db-wal"; do
			[ -f "$file" ] || continue
			if grep -a -q -F -- "$s" "$file"; then
				die "'$s' is still in $(basename "$file") after erasure"
			fi
		done
	done
}

# proves R-06: a rectification walked through the API changes the person, with the request
# in the change history.
t_walk_rectification() {
	setup rect
	serve
	local tok pid id
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Vaara\", \"email\": \"vaara@example.fi\"")
	id=$(new_request "$tok" rectification "$pid" \
		'{"changes": {"first_name": "Oikea", "email": "oikea@example.fi"}}')
	is .state received
	field .due_on | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' || die "no due date"
	walk "$tok" "$id"
	is .state fulfilled
	is .outcome.changed true
	steps_are "$id" received,verified,fulfilled
	api "$tok" GET "/persons/$pid"
	is .first_name Oikea
	is .email oikea@example.fi
	[ "$(sql "SELECT count(*) FROM change_history WHERE entity = 'person' AND entity_id = $pid
		AND field = 'first_name' AND new_value = 'Oikea' AND reason = 'request:$id'")" = 1 ] ||
		die "the change history does not name request:$id"
}

# proves R-07: an erasure walked through the API removes the person and every row of them.
t_walk_erasure() {
	setup erase
	serve
	local tok pid id
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Poistuva\", \"email\": \"pois@example.fi\"")
	id=$(new_request "$tok" erasure "$pid")
	walk "$tok" "$id"
	is .outcome.erased true
	steps_are "$id" received,verified,fulfilled
	api "$tok" GET "/persons/$pid"
	want 404
	[ "$(sql "SELECT (SELECT count(*) FROM persons WHERE id = $pid) +
		(SELECT count(*) FROM contact_points WHERE person_id = $pid) +
		(SELECT count(*) FROM change_history WHERE entity = 'person' AND entity_id = $pid)")" = 0 ] ||
		die "rows of the erased person remain"
}

# proves R-09: a restriction walked through the API restricts; the manager lifts it.
t_walk_restriction() {
	setup restrict
	serve
	local tok pid id
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Rajattu\"")
	id=$(new_request "$tok" restriction "$pid")
	walk "$tok" "$id"
	is .outcome.restricted true
	[ "$(sql "SELECT status FROM persons WHERE id = $pid")" = restricted ] || die "not restricted"
	api "$tok" POST "/requests/$id/lift" '{"note": "Kerrottu puhelimessa"}'
	want 200
	is .state fulfilled
	is '.steps[-1].action' lifted
	[ "$(sql "SELECT status FROM persons WHERE id = $pid")" = active ] || die "not lifted"
	api "$tok" POST "/requests/$id/lift" '{"note": "Uudestaan"}'
	want 409
}

# proves R-11: a direct-marketing objection and a marketing ban walked through the API.
t_walk_objection_and_ban() {
	setup object
	serve
	local tok pid id
	tok=$(token mgr)
	pid=$(person "$tok" "$COMPANY, \"first_name\": \"Vastaan\"")
	id=$(new_request "$tok" objection "$pid" '{"scope": "direct_marketing"}')
	walk "$tok" "$id"
	is '.outcome.banned | join(",")' all
	steps_are "$id" received,verified,fulfilled
	[ "$(sql "SELECT channel || ' ' || source FROM marketing_bans WHERE person_id = $pid")" = \
		"all request:$id" ] || die "no ban on every channel"
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Kieltäjä\"")
	id=$(new_request "$tok" marketing_ban "$pid" '{"channels": ["email", "post"]}')
	walk "$tok" "$id"
	is '.outcome.banned | join(",")' email,post
	[ "$(sql "SELECT group_concat(channel, ',') FROM (SELECT channel FROM marketing_bans
		WHERE person_id = $pid ORDER BY channel)")" = email,post ] || die "bans not per channel"
	# Another objection restricts.
	pid=$(person "$tok" "$COMPANY, \"first_name\": \"Punnittava\"")
	id=$(new_request "$tok" objection "$pid" '{"scope": "tapahtumakutsut"}')
	walk "$tok" "$id"
	is .outcome.restricted true
	[ "$(sql "SELECT status FROM persons WHERE id = $pid")" = restricted ] || die "not restricted"
}

# proves R-12: withdrawal of consent erases a consenting person, keeps a company person.
t_walk_consent_withdrawal() {
	setup consent
	serve
	local tok a f id
	tok=$(token mgr)
	a=$(person "$tok" "$CONSENTING, \"first_name\": \"Suostunut\"")
	f=$(person "$tok" "$COMPANY, \"first_name\": \"Yritys\"")
	id=$(new_request "$tok" consent_withdrawal "$a")
	walk "$tok" "$id"
	is .outcome.erased true
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $a")" = 0 ] || die "consenting person kept"
	id=$(new_request "$tok" consent_withdrawal "$f")
	walk "$tok" "$id"
	is .outcome.erased false
	is .outcome.basis f
	steps_are "$id" received,verified,fulfilled
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $f")" = 1 ] || die "company person erased"
}

# proves R-01, R-10: an access request is answered with the complete export, which a manager
# downloads again as JSON, as the letter in the asked language, or as CSV; portability gives
# what the subject provided; an editor cannot export; every export is in the usage log.
t_walk_access_portability() {
	setup access
	"$K" --data "$D" user add editori --password-file "$T/pw" >/dev/null 2>&1 || die "user add editori"
	"$K" --data "$D" user grant editori --register rauma-crm --role editor >/dev/null 2>&1 ||
		die "user grant editori"
	serve
	local tok etok pid id pp
	tok=$(token mgr)
	etok=$(token editori)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Kysyjä\", \"email\": \"kysyja@example.fi\"")
	id=$(new_request "$tok" access "$pid")
	api "$tok" POST "/requests/$id/verify" '{"method": "email_link"}'
	want 200
	api "$etok" POST "/requests/$id/fulfil" '{}'
	want 403
	state_is "$id" verified
	api "$tok" POST "/requests/$id/fulfil" '{"note": "lähetetty sähköpostilla"}'
	want 200
	is .state fulfilled
	is .export.kind access
	is .export.subject.id "$pid"
	is '.export.contact_points[0].value' kysyja@example.fi
	steps_are "$id" received,verified,fulfilled
	[ "$(sql "SELECT count(*) FROM requests WHERE id = $id AND outcome LIKE '%kysyja%'")" = 0 ] ||
		die "the export was stored with the request"
	api "$tok" GET "/requests/$id/export"
	want 200
	is .kind access
	CODE=$(curl -s -o "$T/letter" -D "$T/headers" -w '%{http_code}' \
		-H "Authorization: Bearer $tok" \
		"$BASE/registers/rauma-crm/requests/$id/export?format=html&lang=sv")
	[ "$CODE" = 200 ] || die "letter: status $CODE"
	grep -qi '^content-type: text/html' "$T/headers" || die "letter is not HTML"
	grep -qi '^content-language: sv' "$T/headers" || die "letter is not in Swedish"
	grep -qi '^content-disposition: attachment' "$T/headers" || die "letter is no download"
	grep -q 'kysyja@example.fi' "$T/letter" || die "letter lacks the e-mail address"
	grep -q 'lang="sv"' "$T/letter" || die "letter lacks lang=sv"
	api "$tok" GET "/requests/$id/export?format=pdf"
	want 400
	is '.errors[0].field' format
	api "$etok" GET "/requests/$id/export"
	want 403
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'export' AND entity_id = $pid")" = 3 ] ||
		die "not every export is logged"

	pp=$(new_request "$tok" portability "$pid")
	api "$tok" POST "/requests/$pp/verify" '{"method": "email_link"}'
	want 200
	api "$tok" POST "/requests/$pp/fulfil" '{}'
	want 200
	is .export.kind portability
	is .export.usage_log null
	CODE=$(curl -s -o "$T/csv" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		"$BASE/registers/rauma-crm/requests/$pp/export?format=csv")
	[ "$CODE" = 200 ] || die "csv: status $CODE"
	head -1 "$T/csv" | grep -q '^"section","field","value"' || die "csv header: $(head -1 "$T/csv")"
	grep -q 'kysyja@example.fi' "$T/csv" || die "csv lacks the e-mail address"
}

# proves R-05: fulfilment or starting before verification is refused and changes nothing; a
# verified request is started (in progress, its handler the starter) once and then fulfilled.
t_fulfil_before_verify() {
	setup r05
	serve
	local tok pid id
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Tunnistamaton\"")
	id=$(new_request "$tok" erasure "$pid")
	api "$tok" POST "/requests/$id/fulfil" '{}'
	want 422
	is '.errors[0].field' state
	state_is "$id" received
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $pid")" = 1 ] || die "erased unverified"
	api "$tok" POST "/requests/$id/verify" '{"method": "carrier_pigeon"}'
	want 400
	api "$tok" POST "/requests/$id/start" '{}'
	want 422
	is '.errors[0].field' state
	state_is "$id" received
	api "$tok" POST "/requests/$id/verify" '{"method": "in_person"}'
	want 200
	api "$tok" POST "/requests/$id/verify" '{"method": "in_person"}'
	want 409
	# Started once verified: in progress, with the starter as its handler; not twice.
	api "$tok" POST "/requests/$id/start" '{"note": "otettu käsittelyyn"}'
	want 200
	is .state in_progress
	is .handler token:1:mgr
	api "$tok" POST "/requests/$id/start" '{}'
	want 409
	is '.errors[0].field' state
	[ "$(sql "SELECT action || ' ' || actor FROM request_steps WHERE request_id = $id
		ORDER BY id DESC LIMIT 1")" = "started token:1:mgr" ] || die "no started step"
	api "$tok" POST "/requests/$id/fulfil" '{}'
	want 200
	is .state fulfilled
	api "$tok" POST "/requests/$id/start" '{}'
	want 409
}

# proves R-03, R-04: a manager marks a request excessive (earlier requests shown) and refuses
# it; the answer names the complaint authority. A withdrawn request is closed.
t_refuse_and_withdraw() {
	setup refuse
	serve
	local tok pid first id w
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Toistaja\"")
	first=$(new_request "$tok" access "$pid")
	id=$(new_request "$tok" access "$pid")
	is '.earlier_requests | length' 1
	is '.earlier_requests[0].id' "$first"
	api "$tok" POST "/requests/$id/assess" \
		'{"assessment": "excessive", "reason": "Toistuva", "fee_cents": 1500}'
	want 200
	is .assessment.assessment excessive
	is .assessment.fee_cents 1500
	api "$tok" POST "/requests/$id/refuse" '{"reason": "Kohtuuton toistuva pyyntö"}'
	want 200
	is .state refused
	is .reason "Kohtuuton toistuva pyyntö"
	is .complaint_authority.name "Tietosuojavaltuutetun toimisto"
	is .complaint_authority.web "https://tietosuoja.fi"
	steps_are "$id" received,marked,refused refused
	[ "$(sql "SELECT refusal_reason FROM requests WHERE id = $id")" = \
		"Kohtuuton toistuva pyyntö" ] || die "no refusal reason kept"
	api "$tok" POST "/requests/$id/refuse" '{"reason": "Taas"}'
	want 409
	api "$tok" POST "/requests/$id/withdraw" '{}'
	want 409
	w=$(new_request "$tok" erasure "$pid")
	api "$tok" POST "/requests/$w/withdraw" '{"note": "Peruttu"}'
	want 200
	is .state withdrawn
	api "$tok" POST "/requests/$w/fulfil" '{}'
	want 409
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $pid")" = 1 ] || die "person gone"
}

# proves R-03, R-04: GET of one request answers the request with its steps, the subject's
# earlier requests and, once refused, the complaint authority.
# (Until 38878f3 api_request_get() passed `out` to reply_core() in the same call that filled
# it; C leaves the order of evaluation unspecified, and with gcc the answer was `{}`.)
t_get_request() {
	setup get
	serve
	local tok pid first id
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Haettava\"")
	first=$(new_request "$tok" access "$pid")
	id=$(new_request "$tok" restriction "$pid")
	walk "$tok" "$id"
	api "$tok" GET "/requests/$id"
	want 200
	[ "$(cat "$T/body")" != '{}' ] ||
		die "GET /registers/rauma-crm/requests/$id answers {}"
	is .id "$id"
	is .state fulfilled
	is .type restriction
	is .person_id "$pid"
	is '[.steps[].action] | join(",")' received,verified,fulfilled
	is '.steps[0].actor' token:1:mgr
	is .verification.method strong_auth
	is .outcome.restricted true
	is '[.earlier_requests[].id] | join(",")' "$first"
	is .complaint_authority null
	api "$tok" POST "/requests/$first/refuse" '{"reason": "Perusteeton"}'
	want 200
	api "$tok" GET "/requests/$first"
	is .state refused
	is .refusal_reason Perusteeton
	is .complaint_authority.name "Tietosuojavaltuutetun toimisto"
	is .complaint_authority.email tietosuoja@om.fi
}

# proves S-01: a viewer cannot file, read or handle requests; a manager's steps are refused
# with a bad body or an unknown request.
t_roles_and_errors() {
	setup roles
	serve
	local tok vtok pid id
	tok=$(token mgr)
	vtok=$(token viewer)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Rooli\"")
	id=$(new_request "$tok" access "$pid")
	local before
	before=$(sql "SELECT count(*) FROM requests")
	api "$vtok" POST /requests "{\"type\": \"erasure\", \"channel\": \"email\", \"person_id\": $pid}"
	want 403
	api "$vtok" GET /requests
	want 403
	api "$vtok" GET "/requests/$id"
	want 403
	api "$vtok" POST "/requests/$id/verify" '{"method": "in_person"}'
	want 403
	api "$vtok" POST "/requests/$id/refuse" '{"reason": "x"}'
	want 403
	[ "$(sql "SELECT count(*) FROM requests")" = "$before" ] || die "a viewer filed a request"
	[ "$(sql "SELECT state FROM requests WHERE id = $id")" = received ] || die "viewer changed it"
	api "" GET /requests
	want 401
	api "$tok" POST /requests '{"type": "forget", "channel": "email"}'
	want 400
	is '.errors[0].field' type
	api "$tok" POST /requests '{"type": "access", "channel": "email", "person_id": 99999}'
	want 404
	api "$tok" GET /requests/99999
	want 404
	api "$tok" GET '/requests?filter=due_soon'
	want 400
	api "$tok" POST "/requests/$id/extend" '{"months": 3, "reason": "x", "subject_told": true}'
	want 400
	api "$tok" POST "/requests/$id/extend" '{"months": 1, "reason": "x"}'
	want 422
	is '.errors[0].field' subject_told
	api "$tok" POST "/requests/$id/extend" '{"months": 1, "reason": "Laaja", "subject_told": true}'
	want 200
	is '.extension.reason' Laaja
	api "$tok" POST "/requests/$id/extend" '{"months": 1, "reason": "Taas", "subject_told": true}'
	want 409
}

# proves R-02: with the server's clock fixed by --now, the lists follow it: filter=late has
# the open requests past their due date, filter=overdue also those due within 7 days; a
# request received 2026-01-31 is due 2026-02-28, late from 2026-03-01.
t_overdue_list() {
	setup overdue
	serve --now 2026-02-22T10:00:00Z
	local tok pid late soon later
	tok=$(token mgr)
	pid=$(person "$tok" "$CONSENTING, \"first_name\": \"Kiireellinen\"")
	api "$tok" POST /requests \
		"{\"type\": \"access\", \"channel\": \"written\", \"person_id\": $pid, \"received_at\": \"2026-01-10\"}"
	want 201
	late=$(field .id)
	is .due_on 2026-02-10
	is .overdue true
	api "$tok" POST /requests \
		"{\"type\": \"erasure\", \"channel\": \"written\", \"person_id\": $pid, \"received_at\": \"2026-01-31T23:59:59Z\"}"
	want 201
	soon=$(field .id)
	is .due_on 2026-02-28
	is .overdue false
	api "$tok" POST /requests "{\"type\": \"restriction\", \"channel\": \"email\", \"person_id\": $pid}"
	want 201
	later=$(field .id)
	is .due_on 2026-03-22
	api "$tok" POST /requests \
		"{\"type\": \"access\", \"channel\": \"email\", \"received_at\": \"2026-02-23\"}"
	want 400
	is '.errors[0].field' received_at
	api "$tok" GET '/requests?filter=late'
	want 200
	is '[.items[].id] | join(",")' "$late"
	api "$tok" GET '/requests?filter=overdue'
	want 200
	is '[.items[].id] | join(",")' "$late,$soon"
	api "$tok" GET '/requests?filter=open'
	is '.items | length' 3
	api "$tok" GET '/requests?limit=2'
	is '.items | length' 2
	is "[.items[].id] | join(\",\")" "$late,$soon"
	api "$tok" GET "/requests?limit=2&cursor=$(field .next)"
	is "[.items[].id] | join(\",\")" "$later"
	is .next null
	stop
	# A week later by the server's clock: the one due 2026-02-28 is late too.
	serve --now 2026-03-01T00:00:01Z
	api "$tok" GET '/requests?filter=late'
	want 200
	is '[.items[].id] | join(",")' "$late,$soon"
	is '.items[1].overdue' true
	# The first deadline has passed: no extension now.
	api "$tok" POST "/requests/$soon/extend" '{"months": 2, "reason": "x", "subject_told": true}'
	want 422
	stop
}

# proves R-02, R-05: `kortisto request` new, show, verify, start, fulfil and list on the command
# line.
t_cli_happy_path() {
	setup cli
	local pid id
	pid=$("$K" --data "$D" person add --register rauma-crm subject_group=consenting_person \
		source=customer first_name=Komentorivi)
	run 0 "$K" --data "$D" --now 2026-01-31T12:00:00Z request new --register rauma-crm \
		type=restriction channel=written "person_id:=$pid" 'subject:={"name": "K. Rivi"}'
	id=$(jq -r .id "$T/out")
	jq -e '.due_on == "2026-02-28" and .state == "received" and .subject.name == "K. Rivi"' \
		"$T/out" >/dev/null || die "new: $(cat "$T/out")"
	run 0 "$K" --data "$D" request show --register rauma-crm "$id"
	jq -e ".id == $id and .type == \"restriction\" and .person_id == $pid" "$T/out" >/dev/null ||
		die "show: $(cat "$T/out")"
	run 1 "$K" --data "$D" request fulfil --register rauma-crm "$id"
	has "$T/err" 'verified'
	run 0 "$K" --data "$D" request verify --register rauma-crm "$id" method=in_person \
		note=ajokortti
	jq -e '.state == "verified" and .verification.method == "in_person"' "$T/out" >/dev/null ||
		die "verify: $(cat "$T/out")"
	run 0 "$K" --data "$D" request start --register rauma-crm "$id" note=aloitettu
	jq -e '.state == "in_progress" and .handler == .verification.by' "$T/out" >/dev/null ||
		die "start: $(cat "$T/out")"
	run 1 "$K" --data "$D" request start --register rauma-crm "$id"
	has "$T/err" 'in progress'
	run 0 "$K" --data "$D" request fulfil --register rauma-crm "$id" note=valmis
	jq -e '.state == "fulfilled" and .outcome.restricted == true' "$T/out" >/dev/null ||
		die "fulfil: $(cat "$T/out")"
	[ "$(sql "SELECT status FROM persons WHERE id = $pid")" = restricted ] || die "not restricted"
	[ "$(sql "SELECT group_concat(action, ',') FROM (SELECT action FROM request_steps
		WHERE request_id = $id ORDER BY id)")" = received,verified,started,fulfilled ] ||
		die "steps of the request"
	run 0 "$K" --data "$D" request list --register rauma-crm
	has "$T/out" '^ID +TYPE +STATE +RECEIVED +DUE +PERSON +LATE$'
	has "$T/out" "^$id +restriction +fulfilled +2026-01-31 +2026-02-28 +$pid *\$"
	run 0 "$K" --data "$D" request list --register rauma-crm --json
	jq -e ".items | length == 1" "$T/out" >/dev/null || die "list --json"
}

# proves R-01: the operator answers an access request from the command line and writes the
# letter to the subject in English; a bad --format or --lang is a usage error.
t_cli_export() {
	setup cliexp
	local pid id
	pid=$("$K" --data "$D" person add --register rauma-crm subject_group=consenting_person \
		source=customer first_name=Kirje email=kirje@example.fi)
	run 0 "$K" --data "$D" request new --register rauma-crm type=access channel=email \
		"person_id:=$pid"
	id=$(jq -r .id "$T/out")
	run 0 "$K" --data "$D" request verify --register rauma-crm "$id" method=registered_contact
	run 0 "$K" --data "$D" request fulfil --register rauma-crm "$id"
	jq -e '.state == "fulfilled" and .export.kind == "access"' "$T/out" >/dev/null ||
		die "fulfil: $(cat "$T/out")"
	run 0 "$K" --data "$D" request export --register rauma-crm "$id" --format html --lang en
	has "$T/out" '<html lang="en"'
	has "$T/out" 'kirje@example.fi'
	run 0 "$K" --data "$D" request export --register rauma-crm "$id"
	jq -e ".subject.id == $pid" "$T/out" >/dev/null || die "export json: $(cat "$T/out")"
	run 2 "$K" --data "$D" request export --register rauma-crm "$id" --format pdf
	has "$T/err" 'json, html or csv'
	run 2 "$K" --data "$D" request export --register rauma-crm "$id" --lang de
	has "$T/err" 'fi, sv or en'
}

# proves R-02: `request list --overdue` lists late and soon-due open requests with their
# columns; --late only the late ones; closed ones never.
t_cli_list_overdue() {
	setup clilist
	local pid late soon far closed
	pid=$("$K" --data "$D" person add --register rauma-crm subject_group=consenting_person \
		source=customer first_name=Listaaja)
	new() {
		"$K" --data "$D" --now 2026-03-10T08:00:00Z request new --register rauma-crm \
			type="$1" channel=email "person_id:=$pid" received_at="$2" | jq -r .id
	}
	late=$(new access 2026-02-01)  # due 2026-03-01
	soon=$(new erasure 2026-02-14) # due 2026-03-14
	far=$(new access 2026-03-05)   # due 2026-04-05
	closed=$(new access 2026-01-15) # due 2026-02-15, withdrawn
	"$K" --data "$D" --now 2026-03-10T08:00:00Z request withdraw --register rauma-crm \
		"$closed" >/dev/null
	run 0 "$K" --data "$D" --now 2026-03-10T08:00:00Z request list --register rauma-crm --overdue
	has "$T/out" '^ID +TYPE +STATE +RECEIVED +DUE +PERSON +LATE$'
	has "$T/out" "^$late +access +received +2026-02-01 +2026-03-01 +$pid +late\$"
	has "$T/out" "^$soon +erasure +received +2026-02-14 +2026-03-14 +$pid *\$"
	hasnt "$T/out" "^$far "
	hasnt "$T/out" "^$closed "
	[ "$(wc -l <"$T/out")" -eq 3 ] || {
		show "$T/out"
		die "--overdue lists more than two requests"
	}
	# The late one first.
	[ "$(sed -n 2p "$T/out" | awk '{print $1}')" = "$late" ] || die "not most urgent first"
	run 0 "$K" --data "$D" --now 2026-03-10T08:00:00Z request list --register rauma-crm --late
	has "$T/out" "^$late "
	hasnt "$T/out" "^$soon "
	run 0 "$K" --data "$D" --now 2026-03-10T08:00:00Z request list --register rauma-crm --open
	has "$T/out" "^$far "
	hasnt "$T/out" "^$closed "
}

# Usage errors exit 2 with the usage; refusals exit 1 with the reason.
t_cli_usage_errors() {
	setup cliusage
	run 2 "$K" --data "$D" request
	has "$T/err" '^usage: kortisto request new'
	run 0 "$K" --data "$D" request --help
	has "$T/out" '^usage: kortisto request new'
	run 2 "$K" --data "$D" request list
	has "$T/err" 'register'
	run 2 "$K" --data "$D" request bogus --register rauma-crm
	run 2 "$K" --data "$D" request list --register rauma-crm --bogus
	run 2 "$K" --data "$D" request list --register rauma-crm extra
	run 2 "$K" --data "$D" request show --register rauma-crm
	run 2 "$K" --data "$D" request show --register rauma-crm x1
	run 2 "$K" --data "$D" request show --register rauma-crm 1 2
	run 2 "$K" --data "$D" request verify --register rauma-crm
	run 1 "$K" --data "$D" request show --register rauma-crm 42
	has "$T/err" '^kortisto: .*42'
	run 1 "$K" --data "$D" request new --register rauma-crm type=forget channel=email
	has "$T/err" 'type'
	run 1 "$K" --data "$D" request new --register no-such type=access channel=email
	has "$T/err" "no-such"
	[ "$(sql "SELECT count(*) FROM requests")" = 0 ] || die "a failed command filed a request"
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
run_tests "requests" bash "$0" t_cli_export t_erasure_scan t_erasure_scan_with_subject \
	t_erasure_scan_public_paths t_walk_rectification \
	t_walk_erasure t_walk_restriction t_walk_objection_and_ban t_walk_consent_withdrawal \
	t_walk_access_portability t_fulfil_before_verify t_refuse_and_withdraw \
	t_get_request t_roles_and_errors t_overdue_list t_cli_happy_path t_cli_list_overdue t_cli_usage_errors
