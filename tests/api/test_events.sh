#!/usr/bin/env bash
# Black-box tests of events (E-01, E-06, M-01, R-08): the real binary ($KORTISTO_BIN) serving
# a fresh data directory with espoo-talent-hub (events, co-organiser `partners`, record types
# event_registration, session_attendance, event_meeting and chat_message) on 127.0.0.1, used
# through the JSON API with API tokens of a manager, an editor and a viewer, through the
# public registration page with curl, and with `kortisto event` on the command line; mail
# goes to tests/api/smtp_sink.py. What is stored is checked with sqlite3. Each test runs in a
# process of its own (this script with --one TEST); tests name the promise they prove.
set -euo pipefail

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir events "${1:-}"

R=espoo-talent-hub
PW=kortisto-tapahtuma-testaaja-1
PID=

# ------------------------------------------------------------------------------------ helpers

sql() {
	sqlite3 -batch "$D/kortisto.db" "$1"
}

kk() {
	"$K" --data "$D" "$@" 2>"$T/kk.err" || {
		show "$T/kk.err"
		die "kortisto $*"
	}
}

# utc OFFSET: the time OFFSET (as date -d takes it, e.g. "-3 hours") from now, in UTC.
utc() {
	date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ
}

start_sink() {
	mkdir -p "$T/sink"
	rm -f "$T/sink"/* "$T/sink.port" # an old port would be read before the new sink writes
	exec 9> >(exec python3 "$REPO/tests/api/smtp_sink.py" --exit-on-eof "$T/sink" \
		>"$T/sink.port")
	for _ in $(seq 1 200); do
		SINK_PORT=$(head -n1 "$T/sink.port" 2>/dev/null || true)
		[ -n "$SINK_PORT" ] && break
		sleep 0.05
	done
	[ -n "$SINK_PORT" ] || die "the SMTP sink did not start"
}

# setup NAME [REGISTER]: data directory D with REGISTER (default espoo-talent-hub); users
# mgr, ed and viewer with those roles; mail through the sink and a public_url.
setup() {
	D=$T/$1/data
	R=${2:-espoo-talent-hub}
	mkdir -p "$T/$1"
	"$K" init "$D" >/dev/null
	"$K" --data "$D" register load "$REPO/registers/$R.yaml" >/dev/null 2>&1 ||
		die "register load"
	printf '%s\n' "$PW" >"$T/pw"
	for u in mgr:manager editor:editor viewer:viewer; do
		kk user add "${u%%:*}" --password-file "$T/pw" >/dev/null
		kk user grant "${u%%:*}" --register "$R" --role "${u#*:}" >/dev/null
	done
	start_sink
	printf 'smtp_url = smtp://127.0.0.1:%s\nmail_from = tapahtumat@espoo.example.fi\npublic_url = https://kortisto.example.fi/\n' \
		"$SINK_PORT" >>"$D/kortisto.conf"
}

serve() {
	start_server
	BASE=$ROOT/api/v1
}

# token USER: a new API token of USER, signed in with the commitment accepted (lib.sh).
token() {
	api_token "$1"
}

# api TOKEN METHOD PATH [BODY]: calls REG PATH; body to $T/body, headers to $T/headers,
# status to $CODE.
api() {
	local tok=$1 m=$2 p=$3
	shift 3
	local args=()
	[ $# -ge 1 ] && args=(-H 'Content-Type: application/json' --data-binary "$1")
	CODE=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" \
		-H "Authorization: Bearer $tok" "${args[@]}" "$BASE/registers/$R$p")
}

# want CODE: the last call answered CODE.
want() {
	[ "$CODE" = "$1" ] || {
		show "$T/body"
		die "HTTP $CODE, expected $1"
	}
}

# form PATH DATA...: posts a form to ROOT PATH (each DATA one field); page to $T/page.
form() {
	local p=$1
	shift
	local args=()
	for f in "$@"; do args+=(--data-urlencode "$f"); done
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' "${args[@]}" "$ROOT$p")
}

# person FIRST EMAIL: adds an individual of espoo-talent-hub; prints the id.
person() {
	kk person add --register "$R" subject_group=individual source=subject first_name="$1" \
		last_name=Testi email="$2"
}

# event: creates the walk's virtual event co-organised with partners, with a long title
# (for folding), a session that is over and one to come, and a public registration page with
# the newsletter; sets EV, S1 and S2.
TITLE="Espoon kansainvälisten osaajien verkostoitumistapahtuma: Talent Boost -virtuaalimessut ja työnantajatapaamiset"
event() {
	local s e s1e s2s
	s=$(utc '-3 hours')
	e=$(utc '+2 days')
	s1e=$(utc '-2 hours')
	s2s=$(utc '+1 day')
	api "$ED" POST /events "$(jq -n --arg t "$TITLE" --arg s "$s" --arg e "$e" --arg s1e "$s1e" \
		--arg s2s "$s2s" '{title: $t, format: "virtual", starts_at: $s, ends_at: $e,
		url: "https://meet.example.fi/talent", co_organiser: "partners",
		sessions: [{title: "Avaus", starts_at: $s, ends_at: $s1e},
		           {title: "Työnantajapaneeli", starts_at: $s2s, ends_at: $e}],
		registration: {group: "individual", source: "city_event_registrations",
		  newsletter: {purpose: "newsletters", text: "Haluan Espoon uutiskirjeen",
		               text_version: "2026-1"}}}')"
	want 201
	EV=$(jq -r .id "$T/body")
	S1=$(jq -r '.sessions[0].id' "$T/body")
	S2=$(jq -r '.sessions[1].id' "$T/body")
	grep -qi "^Location: /api/v1/registers/$R/events/$EV" "$T/headers" ||
		die "no Location of the event"
}

tokens() {
	serve
	MGR=$(token mgr)
	ED=$(token editor)
	VIEWER=$(token viewer)
}

# ------------------------------------------------------------------------------------ tests

# The walk of issue 7 (E-01): an event with sessions, registrations through the API and the
# public page, attendance, a meeting, and the chat of a virtual session.
# proves E-01
t_walk() {
	setup walk
	tokens
	event
	AINO=$(person Aino aino@example.fi)
	BENG=$(person Bengt bengt@example.fi)
	api "$ED" POST "/events/$EV/registrations" \
		"{\"person_id\": $AINO, \"consents\": {\"share_with_co_organiser\": true}}"
	want 201
	api "$ED" POST "/events/$EV/registrations" "{\"person_id\": $AINO}"
	want 409
	jq -e '.errors[0].field == "person_id"' "$T/body" >/dev/null || die "409 names no field"
	api "$VIEWER" POST "/events/$EV/registrations" "{\"person_id\": $BENG}"
	want 403
	kk event register --register "$R" "$EV" "person_id:=$BENG" >/dev/null

	# the public page: a new person, registered with their choices and a pending consent
	CODE=$(curl -s -o "$T/page" -w '%{http_code}' "$ROOT/p/events/$EV?lang=sv")
	[ "$CODE" = 200 ] || die "public page: $CODE"
	has "$T/page" '<html lang="sv">'
	has "$T/page" 'name="email"'
	has "$T/page" 'Haluan Espoon uutiskirjeen'
	has "$T/page" 'name="share_with_co_organiser"'
	hasnt "$T/page" 'name="organisation"' # individuals have no organisation field
	form "/p/events/$EV" first_name=Cecilia last_name=Testi email=Cecilia@Example.fi \
		newsletter=yes participant_list=yes
	[ "$CODE" = 200 ] || {
		show "$T/page"
		die "public registration: $CODE"
	}
	cp "$T/page" "$T/page.first"
	CECI=$(sql "SELECT person_id FROM contact_points WHERE value = 'cecilia@example.fi'")
	[ -n "$CECI" ] || die "the public registration added nobody"
	[ "$(sql "SELECT subject_group || ' ' || source FROM persons WHERE id = $CECI")" = \
		"individual city_event_registrations" ] || die "group or source of the new person"
	[ "$(sql "SELECT consents FROM event_registrations WHERE person_id = $CECI")" = \
		'{"newsletter":true,"participant_list":true,"share_with_co_organiser":false}' ] ||
		die "consent choices: $(sql "SELECT consents FROM event_registrations WHERE person_id = $CECI")"
	# M-01: the newsletter consent with its exact text, from the form, pending (double opt-in)
	[ "$(sql "SELECT purpose || '|' || text || '|' || source_kind || '|' || source_form || '|' || state FROM consents WHERE person_id = $CECI")" = \
		"newsletters|Haluan Espoon uutiskirjeen|form|event:$EV|pending" ] ||
		die "consent: $(sql "SELECT * FROM consents WHERE person_id = $CECI")"
	[ "$(sql "SELECT count(*) FROM consents WHERE source_client IS NOT NULL")" = 0 ] ||
		die "a client address was stored"
	for _ in $(seq 1 100); do
		ls "$T/sink"/*.env >/dev/null 2>&1 && break
		sleep 0.05
	done
	grep -q 'rcpt to cecilia@example.fi' "$T/sink"/*.env || die "no confirmation mail"
	grep -q '/p/confirm/' "$T/sink"/*.eml 2>/dev/null || grep -rq 'p/confirm/' "$T/sink" ||
		die "the mail has no confirmation link"
	# again with the same address: the same page, nothing new
	form "/p/events/$EV" first_name=Cecilia last_name=Testi email=cecilia@example.fi
	[ "$CODE" = 200 ] || die "second registration: $CODE"
	cmp -s "$T/page" "$T/page.first" || die "the second answer differs from the first"
	[ "$(sql "SELECT count(*) FROM persons")" = 3 ] || die "a second person was added"
	# bad input names the field
	form "/p/events/$EV" first_name=X last_name=Y email=not-an-address
	[ "$CODE" = 400 ] || die "bad e-mail: $CODE"
	has "$T/page" 'email: an e-mail address'
	form "/p/events/$EV" first_name=X last_name=Y email=x@example.fi organisation=Firma
	[ "$CODE" = 400 ] || die "organisation the page does not ask: $CODE"

	# attendance of the session that is over; the one to come is refused
	api "$ED" POST "/events/$EV/attendance" "{\"session_id\": $S1, \"person_id\": $AINO}"
	want 201
	api "$ED" POST "/events/$EV/attendance" "{\"session_id\": $S2, \"person_id\": $AINO}"
	want 400
	jq -e '.errors[0].field == "session_id"' "$T/body" >/dev/null || die "no field"
	# a meeting between two participants
	api "$ED" POST "/events/$EV/meetings" "{\"parties\": [$AINO, $BENG],
		\"starts_at\": \"$(utc '-1 hour')\", \"ends_at\": \"$(utc '-30 minutes')\",
		\"place\": \"Pöytä 3\"}"
	want 201
	# the chat of the virtual session: two messages of participants (by e-mail, in another
	# case, and by id), one of someone who is not registered
	api "$ED" POST "/events/$EV/sessions/$S1/chat" "{\"messages\": [
		{\"at\": \"$(utc '-170 minutes')\", \"author_email\": \"AINO@example.fi\", \"text\": \"Hei kaikki!\"},
		{\"at\": \"$(utc '-165 minutes')\", \"person_id\": $BENG, \"text\": \"Hej!\"},
		{\"at\": \"$(utc '-160 minutes')\", \"author_email\": \"outsider@example.fi\", \"text\": \"Moi\"}]}"
	want 200
	jq -e '.stored == 2 and .unmatched == 1 and .withheld == 0' "$T/body" >/dev/null || {
		show "$T/body"
		die "chat counts"
	}
	[ "$(sql "SELECT count(*) FROM event_chat_messages")" = 2 ] || die "chat rows"
	hasnt <(sql "SELECT text FROM event_chat_messages") 'Moi'
	[ "$(sql "SELECT count(*) FROM person_records WHERE record_type = 'chat_message'")" = 2 ] ||
		die "chat records"
	api "$ED" POST "/events/$EV/sessions/$S1/chat" "{\"messages\": [{\"at\": \"$(utc '+1 hour')\", \"person_id\": $BENG, \"text\": \"x\"}]}"
	want 400
	jq -e '.errors[0].field == "messages"' "$T/body" >/dev/null || die "no field messages"
	api "$ED" POST "/events/$EV/sessions/999/chat" '{"messages": []}'
	want 404

	# reading: an editor sees the chat, a viewer does not; both reads are logged
	api "$ED" GET "/events/$EV"
	want 200
	jq -e '(.registrations | length) == 3 and (.attendance | length) == 1 and
		(.meetings[0].parties | length) == 2 and (.chat | length) == 2' "$T/body" >/dev/null || {
		show "$T/body"
		die "the event as the editor sees it"
	}
	api "$VIEWER" GET "/events/$EV"
	want 200
	jq -e 'has("chat") | not' "$T/body" >/dev/null || die "a viewer was shown the chat"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'read' AND entity = 'event'")" -ge 2 ] ||
		die "the reads were not logged"
	api "$VIEWER" GET "/events"
	want 200
	jq -e '.items | length == 1' "$T/body" >/dev/null || die "list"

	# erasure takes the chat with the person
	kk person delete --register "$R" "$AINO" >/dev/null
	[ "$(sql "SELECT count(*) FROM event_chat_messages WHERE person_id = $AINO")" = 0 ] ||
		die "chat of an erased person remains"
	[ "$(sql "SELECT count(*) FROM event_chat_messages")" = 1 ] || die "other chat went too"
}

# E-06: sharing with the declared co-organiser is a logged disclosure; an undeclared
# co-organiser is refused.
# proves E-06
t_share() {
	setup share
	tokens
	event
	AINO=$(person Aino aino@example.fi)
	BENG=$(person Bengt bengt@example.fi)
	kk event register --register "$R" "$EV" "person_id:=$AINO" \
		'consents:={"share_with_co_organiser": true}' >/dev/null
	kk event register --register "$R" "$EV" "person_id:=$BENG" >/dev/null
	api "$ED" POST "/events/$EV/share" '{"purpose": "networking_events"}'
	want 403
	api "$MGR" POST "/events/$EV/share" '{"purpose": "networking_events",
		"legal_basis": "julkisuuslaki 621/1999 16 §", "categories": ["name_contact"]}'
	if [ "$CODE" = 422 ] && jq -e '.errors[0].field == "legal_basis"' "$T/body" >/dev/null; then
		basis=$(jq -r '.detail | capture("e.g. .(?<b>[^)]*).\\)").b' "$T/body")
		api "$MGR" POST "/events/$EV/share" "{\"purpose\": \"networking_events\",
			\"legal_basis\": \"$basis\", \"categories\": [\"name_contact\"]}"
	fi
	want 200
	jq -e '.recipient == "partners" and .subjects == 1 and .withheld == 1' "$T/body" \
		>/dev/null || {
		show "$T/body"
		die "share"
	}
	did=$(jq -r .disclosure "$T/body")
	[ "$(sql "SELECT recipient FROM disclosures WHERE id = $did")" = partners ] ||
		die "the disclosure is not recorded"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'disclose'")" -ge 1 ] ||
		die "the disclosure is not in the usage log"
	# an undeclared co-organiser is refused, naming the field
	api "$ED" POST /events '{"title": "X", "format": "physical",
		"starts_at": "2026-01-10T09:00:00Z", "ends_at": "2026-01-10T10:00:00Z",
		"co_organiser": "tuntematon_oy"}'
	want 422
	jq -e '.type == "/problems/refused-by-declaration" and .errors[0].field == "co_organiser"' \
		"$T/body" >/dev/null || die "undeclared co-organiser"
	# so is a processor, and an event of the register's own has nobody to share with
	api "$ED" POST /events '{"title": "X", "format": "physical",
		"starts_at": "2026-01-10T09:00:00Z", "ends_at": "2026-01-10T10:00:00Z",
		"co_organiser": "cloud_services"}'
	want 422
	api "$ED" POST /events '{"title": "Oma", "format": "physical",
		"starts_at": "2026-01-10T09:00:00Z", "ends_at": "2026-01-10T10:00:00Z"}'
	want 201
	own=$(jq -r .id "$T/body")
	api "$MGR" POST "/events/$own/share" '{"purpose": "networking_events"}'
	want 422
	jq -e '.errors[0].field == "co_organiser"' "$T/body" >/dev/null || die "own event share"
	# undeclared members and a registration group the register does not declare
	api "$ED" POST /events '{"title": "X", "format": "physical", "colour": "red",
		"starts_at": "2026-01-10T09:00:00Z", "ends_at": "2026-01-10T10:00:00Z"}'
	want 400
	jq -e '.errors[0].field == "colour"' "$T/body" >/dev/null || die "undeclared member"
	api "$ED" POST /events '{"title": "X", "format": "physical",
		"starts_at": "2026-01-10T09:00:00Z", "ends_at": "2026-01-10T10:00:00Z",
		"registration": {"group": "everyone", "source": "subject"}}'
	want 422
	jq -e '.errors[0].field == "registration.group"' "$T/body" >/dev/null || die "group"
}

# Cancelling a registration (E-01, E-06): through the API (editors, not viewers) and with
# `kortisto event cancel`; the registration is kept with its cancellation time and logged,
# but the person is no participant: not listed, not shared, their attendance refused until
# they register again.
# proves E-01
t_cancel() {
	setup cancel
	tokens
	event
	AINO=$(person Aino aino@example.fi)
	BENG=$(person Bengt bengt@example.fi)
	for p in "$AINO" "$BENG"; do
		kk event register --register "$R" "$EV" "person_id:=$p" \
			'consents:={"share_with_co_organiser": true}' >/dev/null
	done
	api "$VIEWER" DELETE "/events/$EV/registrations/$AINO"
	want 403
	api "$ED" DELETE "/events/$EV/registrations/$AINO"
	want 204
	[ "$(sql "SELECT count(*) FROM event_registrations WHERE person_id = $AINO AND cancelled_at IS NOT NULL AND cancelled_by LIKE '%editor'")" = 1 ] ||
		die "the cancellation is not kept"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'cancel' AND entity = 'event_registration'")" = 1 ] ||
		die "the cancellation is not in the usage log"
	api "$ED" DELETE "/events/$EV/registrations/$AINO"
	want 409
	jq -e '.errors[0].field == "person_id"' "$T/body" >/dev/null || die "409 names no field"
	api "$ED" DELETE "/events/$EV/registrations/999999"
	want 404
	api "$ED" DELETE "/events/999999/registrations/$BENG"
	want 404

	# not a participant: not listed, attendance refused, not shared
	api "$ED" GET "/events/$EV"
	want 200
	jq -e --argjson b "$BENG" '[.registrations[].person_id] == [$b]' "$T/body" >/dev/null || {
		show "$T/body"
		die "a cancelled registration is listed"
	}
	jq -e --argjson a "$AINO" '[.cancellations[] | select(.person_id == $a and
		(.cancelled_by | endswith("editor")) and (.cancelled_at | length) > 0)] | length == 1' \
		"$T/body" >/dev/null || {
		show "$T/body"
		die "the cancellation is not listed with the event"
	}
	api "$ED" POST "/events/$EV/attendance" "{\"session_id\": $S1, \"person_id\": $AINO}"
	want 422
	jq -e '.errors[0].field == "person_id"' "$T/body" >/dev/null || die "attendance field"
	api "$MGR" POST "/events/$EV/share" '{"purpose": "networking_events",
		"legal_basis": "julkisuuslaki 621/1999 16 §", "categories": ["name_contact"]}'
	if [ "$CODE" = 422 ] && jq -e '.errors[0].field == "legal_basis"' "$T/body" >/dev/null; then
		basis=$(jq -r '.detail | capture("e.g. .(?<b>[^)]*).\\)").b' "$T/body")
		api "$MGR" POST "/events/$EV/share" "{\"purpose\": \"networking_events\",
			\"legal_basis\": \"$basis\", \"categories\": [\"name_contact\"]}"
	fi
	want 200
	jq -e '.subjects == 1 and .withheld == 0' "$T/body" >/dev/null || {
		show "$T/body"
		die "share after a cancellation"
	}
	did=$(jq -r .disclosure "$T/body")
	[ "$(sql "SELECT count(*) FROM disclosure_subjects WHERE disclosure_id = $did AND person_id = $AINO")" = 0 ] ||
		die "a cancelled registrant was shared"

	# the command line, and registering again
	kk event cancel --register "$R" "$EV" "$BENG" | jq -e '.result == "cancelled"' >/dev/null ||
		die "event cancel"
	"$K" --data "$D" event cancel --register "$R" "$EV" "$BENG" >/dev/null 2>&1 &&
		die "a second cancel succeeded"
	"$K" --data "$D" event --help | grep -q 'event cancel --register RID ID PERSON_ID' ||
		die "--help does not show cancel"
	api "$ED" POST "/events/$EV/registrations" "{\"person_id\": $AINO}"
	want 201
	api "$ED" GET "/events/$EV"
	jq -e --argjson a "$AINO" --argjson b "$BENG" '[.registrations[].person_id] == [$a] and
		[.cancellations[].person_id] == [$b]' "$T/body" >/dev/null || {
		show "$T/body"
		die "registering again does not end the cancellation"
	}
	api "$ED" POST "/events/$EV/attendance" "{\"session_id\": $S1, \"person_id\": $AINO}"
	want 201
	[ "$(sql "SELECT count(*) FROM event_registrations")" = 2 ] || die "registration rows"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'cancel'")" = 2 ] ||
		die "the CLI cancellation is not logged"
}

# The participant list (E-01): only those whose registration stands and who chose
# participant_list, active, by name, with the organisation of their open affiliation; a
# viewer reads it and the read names them in the usage log.
# proves E-01
t_participants() {
	setup participants
	tokens
	event
	local aino bengt cilla dora org
	aino=$(person Aino aino@example.fi)
	bengt=$(person Bengt bengt@example.fi)
	cilla=$(person Cilla cilla@example.fi)
	dora=$(person Dora dora@example.fi)
	org=$(kk org add --register "$R" name='Osaajat Oy' source=subject)
	kk affiliation add --register "$R" person_id:="$dora" organisation_id:="$org" >/dev/null
	for p in "$aino" "$cilla" "$dora"; do
		kk event register --register "$R" "$EV" "person_id:=$p" \
			'consents:={"participant_list": true}' >/dev/null
	done
	kk event register --register "$R" "$EV" "person_id:=$bengt" \
		'consents:={"participant_list": false}' >/dev/null
	kk event cancel --register "$R" "$EV" "$cilla" >/dev/null
	api "$VIEWER" GET "/events/$EV/participants"
	want 200
	jq -e --argjson ev "$EV" '.event.id == $ev and
		[.items[] | "\(.first_name) \(.last_name)/\(.organisation // "")"] ==
		["Aino Testi/", "Dora Testi/Osaajat Oy"]' "$T/body" >/dev/null || {
		show "$T/body"
		die "the participant list"
	}
	hasnt "$T/body" 'Bengt|Cilla|example\.fi'
	[ "$(sql "SELECT count(*) FROM usage_log WHERE entity = 'event' AND action = 'read'
		AND reason = 'participant_list'")" = 1 ] || die "the list is not logged"
	# a restricted person is never on it, whoever asks
	sql "UPDATE persons SET status = 'restricted' WHERE id = $dora"
	api "$MGR" GET "/events/$EV/participants"
	want 200
	jq -e '[.items[].first_name] == ["Aino"]' "$T/body" >/dev/null || die "a restricted person listed"
	kk event participants --register "$R" "$EV" | jq -e '.items | length == 1' >/dev/null ||
		die "kortisto event participants"
	api "$VIEWER" GET "/events/999999/participants"
	want 404
}

# An unconfirmed newsletter consent from the public page expires and the retention run
# deletes it, but the person who registered stays: the registration is theirs.
# proves M-01, L-01
t_unconfirmed_participant() {
	setup unconfirmed
	tokens
	event
	form "/p/events/$EV" first_name=Ville last_name=Vahvistamaton email=ville@example.fi \
		newsletter=yes
	[ "$CODE" = 200 ] || die "public registration: $CODE"
	local ville
	ville=$(sql "SELECT person_id FROM contact_points WHERE value = 'ville@example.fi'")
	[ -n "$ville" ] || die "nobody registered"
	[ "$(sql "SELECT state FROM consents WHERE person_id = $ville")" = pending ] ||
		die "no pending consent"
	kk --now "$(utc '+8 days')" retention run --register "$R" >/dev/null
	[ "$(sql "SELECT count(*) FROM consents WHERE person_id = $ville")" = 0 ] ||
		die "the expired consent was kept"
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $ville")" = 1 ] ||
		die "a registered participant was erased with their unconfirmed consent"
	[ "$(sql "SELECT count(*) FROM event_registrations WHERE person_id = $ville")" = 1 ] ||
		die "the registration went"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE actor = 'system:retention'
		AND entity = 'consent' AND reason = 'consent_unconfirmed'")" = 1 ] ||
		die "the deletion is not logged"
}

# The iCalendar of an event (RFC 5545): text/calendar, CRLF line ends, lines folded to at
# most 75 octets, one VEVENT for the event and one per session; the public one too.
# proves E-01
t_ics() {
	setup ics
	tokens
	event
	curl -s -o "$T/cal" -D "$T/h" -H "Authorization: Bearer $VIEWER" \
		"$BASE/registers/$R/events/$EV.ics"
	grep -qi '^content-type: text/calendar' "$T/h" || die "content type"
	for f in "$T/cal" "$T/pubcal"; do
		[ "$f" = "$T/pubcal" ] && curl -s -o "$T/pubcal" -D "$T/h" "$ROOT/p/events/$EV.ics"
		head -c 17 "$f" | grep -q '^BEGIN:VCALENDAR' || die "$f does not begin a calendar"
		# every line ends in CRLF
		[ "$(grep -c $'\r$' "$f")" = "$(wc -l <"$f")" ] || die "$f: a line without CR"
		[ "$(tail -c 2 "$f" | od -An -c | tr -d ' ')" = '\r\n' ] || die "$f: last line"
		# no line longer than 75 octets (without the CRLF)
		LC_ALL=C awk '{ sub(/\r$/, ""); if (length($0) > 75) { print; bad = 1 } }
			END { exit bad }' "$f" || die "$f: a line longer than 75 octets"
		grep -q '^ ' "$f" || die "$f: the long title was not folded"
		[ "$(grep -c '^BEGIN:VEVENT' "$f")" = 3 ] || die "$f: VEVENTs"
		grep -q $'^END:VCALENDAR\r$' "$f" || die "$f: no END:VCALENDAR"
		# the unfolded SUMMARY is the title
		LC_ALL=C sed -e ':a' -e 'N' -e '$!ba' -e 's/\r\n //g' "$f" | tr -d '\r' |
			grep -qF "SUMMARY:${TITLE//:/\\:}" ||
			LC_ALL=C sed -e ':a' -e 'N' -e '$!ba' -e 's/\r\n //g' "$f" | tr -d '\r' |
			grep -qF "SUMMARY:$TITLE" || die "$f: SUMMARY"
	done
	kk event ics --register "$R" "$EV" >"$T/clical"
	head -n1 "$T/clical" | grep -q $'^BEGIN:VCALENDAR\r$' || die "kortisto event ics"
	# an event without a public page has no public calendar
	api "$ED" POST /events '{"title": "Sisäinen", "format": "physical",
		"starts_at": "2026-01-10T09:00:00Z", "ends_at": "2026-01-10T10:00:00Z"}'
	own=$(jq -r .id "$T/body")
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$ROOT/p/events/$own.ics")" = 404 ] ||
		die "a calendar of an internal event is public"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$ROOT/p/events/$own")" = 404 ] ||
		die "a page of an internal event is public"
}

# R-08: an erased person's address is not collected again through the public page; the page
# answers as for anyone, and the skip is counted.
# proves R-08
t_suppressed() {
	setup pass sospro-marketing
	kk person add --register "$R" subject_group=municipality_contact source=subject \
		first_name=Passi last_name=Virtanen email=passi@example.fi >/dev/null
	id=$(sql "SELECT person_id FROM contact_points WHERE value = 'passi@example.fi'")
	kk request new --register "$R" type=erasure channel=email "person_id:=$id" >/dev/null
	kk request verify --register "$R" 1 method=registered_contact >/dev/null
	kk request fulfil --register "$R" 1 >"$T/f"
	has "$T/f" '"passivated": true'
	kk event new --register "$R" title=Kuntapäivä format=physical \
		starts_at="$(utc '+1 day')" ends_at="$(utc '+2 days')" place=Helsinki \
		'registration:={"group": "municipality_contact", "source": "subject"}' >"$T/ev"
	EV=$(jq -r .id "$T/ev")
	serve
	form "/p/events/$EV" first_name=Uusi last_name=Ihminen email=uusi@example.fi
	[ "$CODE" = 200 ] || die "registration: $CODE"
	cp "$T/page" "$T/page.first"
	form "/p/events/$EV" first_name=Passi last_name=Virtanen email=passi@example.fi
	[ "$CODE" = 200 ] || die "suppressed registration: $CODE"
	cmp -s "$T/page" "$T/page.first" || die "the page tells a suppressed address apart"
	[ "$(sql "SELECT count(*) FROM contact_points WHERE value = 'passi@example.fi'")" = 0 ] ||
		die "the erased person was added again"
	[ "$(sql "SELECT count(*) FROM event_registrations")" = 1 ] || die "registrations"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'skip_suppressed'")" = 1 ] ||
		die "the skip was not counted"
	# kemi-style: the page has no newsletter when the event offers none
	hasnt "$T/page" 'newsletter'
}

# The public form's rate limit: the address is only hashed in memory, never stored.
# proves E-01
t_rate_limit() {
	setup limit
	tokens
	event
	for i in $(seq 1 60); do
		form "/p/events/$EV" first_name=A last_name=B "email=a$i@example.fi"
		[ "$CODE" = 200 ] || die "registration $i: $CODE"
	done
	form "/p/events/$EV" first_name=A last_name=B email=a61@example.fi
	[ "$CODE" = 429 ] || die "the 61st registration: $CODE"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE entity = 'event_registration' AND client IS NOT NULL")" = 0 ] ||
		die "the client address was logged for a public registration"
}

# An appointment record as an iCalendar file (E-02): text/calendar with CRLF lines, a VEVENT
# with the record's times in UTC, topic and place and a UID that stays through a change; a
# record of another type is refused naming it; the person's file holds their appointments
# only; each export is a logged read; a restricted person's are refused below manager; and
# `kortisto record ics` prints the same.
# proves E-02
t_appointment_ics() {
	setup appt
	tokens
	P=$(person Ajanvaraus ajan.varaus@example.fi)
	api "$ED" POST "/persons/$P/records" '{"type": "appointment", "data": {
		"start": "2026-02-03T10:00:00+02:00", "end": "2026-02-03T09:00:00Z",
		"channel": "visit", "place": "Työllisyyspalvelut, Kauppakatu 1", "staff": "Neuvoja",
		"topic": "Urasuunnittelu"}}'
	want 201
	A=$(jq -r .id "$T/body")
	api "$ED" POST "/persons/$P/records" '{"type": "appointment", "data": {
		"start": "2026-02-10T12:00:00Z", "channel": "video", "staff": "Neuvoja",
		"topic": "Seuranta"}}'
	want 201
	api "$ED" POST "/persons/$P/records" '{"type": "customer_note", "data": {"text": "Muistio"}}'
	want 201
	N=$(jq -r .id "$T/body")
	reads0=$(sql "SELECT count(*) FROM usage_log WHERE action = 'read' AND entity = 'record'")

	api "$VIEWER" GET "/records/$A.ics"
	want 200
	grep -qi '^content-type: text/calendar' "$T/headers" || die "content type"
	[ "$(grep -c $'\r$' "$T/body")" = "$(wc -l <"$T/body")" ] || die "a line without CR"
	tr -d '\r' <"$T/body" >"$T/cal"
	grep -qx "UID:record-$A@$R.kortisto" "$T/cal" || die "UID"
	grep -qx 'DTSTART:20260203T080000Z' "$T/cal" || die "DTSTART"
	grep -qx 'DTEND:20260203T090000Z' "$T/cal" || die "DTEND"
	grep -qx 'SUMMARY:Urasuunnittelu' "$T/cal" || die "SUMMARY"
	grep -qx 'LOCATION:Työllisyyspalvelut\\, Kauppakatu 1' "$T/cal" || die "LOCATION"
	[ "$(grep -c '^BEGIN:VEVENT' "$T/cal")" = 1 ] || die "VEVENTs"
	! grep -q Neuvoja "$T/cal" || die "the staff member is in the file"

	api "$ED" PATCH "/records/$A" '{"data": {"topic": "Urasuunnittelu 2"}}'
	want 200
	api "$VIEWER" GET "/records/$A.ics"
	want 200
	tr -d '\r' <"$T/body" | grep -qx "UID:record-$A@$R.kortisto" || die "the UID changed"
	tr -d '\r' <"$T/body" | grep -qx 'SEQUENCE:1' || die "SEQUENCE"

	api "$VIEWER" GET "/records/$N.ics"
	want 422
	jq -e '.detail | contains("customer_note")' "$T/body" >/dev/null || die "type not named"

	api "$VIEWER" GET "/persons/$P/appointments.ics"
	want 200
	tr -d '\r' <"$T/body" >"$T/pcal"
	[ "$(grep -c '^BEGIN:VEVENT' "$T/pcal")" = 2 ] || die "the person's VEVENTs"
	grep -qx 'LOCATION:video' "$T/pcal" || die "LOCATION from the channel"
	! grep -q Muistio "$T/pcal" || die "a note in the calendar"
	# three exports and the record the PATCH answered with; the refused one is no read
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'read' AND entity = 'record'")" = \
		$((reads0 + 4)) ] || die "the exports are not logged reads"

	kk record ics "$A" --register "$R" >"$T/clical"
	head -n1 "$T/clical" | grep -q $'^BEGIN:VCALENDAR\r$' || die "kortisto record ics"
	tr -d '\r' <"$T/clical" | grep -qx "UID:record-$A@$R.kortisto" || die "CLI UID"
	kk record ics --register "$R" --person "$P" >"$T/clipcal"
	[ "$(grep -c '^BEGIN:VEVENT' "$T/clipcal")" = 2 ] || die "CLI person's VEVENTs"

	sql "UPDATE persons SET status = 'restricted' WHERE id = $P"
	api "$ED" GET "/records/$A.ics"
	want 422
	api "$ED" GET "/persons/$P/appointments.ics"
	want 422
	api "$MGR" GET "/records/$A.ics"
	want 200
}

# ------------------------------------------------------------------------------------ runner

if [ "${1:-}" = --one ]; then
	cd "$REPO"
	trap stop EXIT
	"$2"
	exit 0
fi

for tool in sqlite3 curl jq python3; do
	command -v $tool >/dev/null || {
		echo "the $tool command-line tool is needed" >&2
		exit 1
	}
done
run_tests "events" bash "$0" t_walk t_share t_cancel t_participants t_unconfirmed_participant t_ics t_appointment_ics t_suppressed t_rate_limit
