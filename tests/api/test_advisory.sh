#!/usr/bin/env bash
# Black-box tests of advisory and customer-service records (E-02 … E-05): the real binary
# ($KORTISTO_BIN) serving a fresh data directory with espoo-talent-hub (appointments, service
# arrangements, notes, contacts, customer plans, job offers, introductions to employers and
# open positions) and rauma-crm (service orders, billing and contacts) on 127.0.0.1, used
# through the JSON API only, with API tokens of an editor, a viewer and a processor (a role
# below the viewer's). Every record type with content has one walk, driven by the table
# below: make a record with its content, read it back, change it, read its change history,
# check the usage log, the roles, the customer-event clock, the refusal of a member the type
# does not have, and the service statistics. What is stored is checked with sqlite3. Each
# test runs in a process of its own (this script with --one TEST); tests name the promise
# they prove.
set -euo pipefail

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir advisory "${1:-}"

PW=kortisto-neuvonta-testaaja-1
PID=
# The day every walk's record is made on, in the past, and its month in the statistics.
DAY=2025-03-14
MONTH=2025-03

# ------------------------------------------------------------------------------ the table

# One row per record type with content (the `kinds` table of src/core/service.c): the
# register that declares it, whose person the walk's record is about (ind: an individual of
# espoo-talent-hub with kotikunta Espoo; cc: a company contact of espoo-talent-hub; oc: an
# organisation contact of rauma-crm), and whether the declaration makes it a customer event.
declare -A ROW=(
	[service_arrangement]="espoo-talent-hub ind 1"
	[customer_plan]="espoo-talent-hub ind 1"
	[service_order]="rauma-crm oc 1"
	[billing]="rauma-crm oc 1"
	[job_offer]="espoo-talent-hub ind 1"
	[employer_introduction]="espoo-talent-hub ind 1"
	[open_position]="espoo-talent-hub cc 0"
	[appointment]="espoo-talent-hub ind 1"
	[customer_contact]="rauma-crm oc 1"
	[customer_note]="espoo-talent-hub cc 0"
)

# The content each walk makes and the change it then applies (a JSON merge patch: null
# removes a member), as jq expressions; $org is the id of the register's organisation. Each
# change touches only members whose value it changes, so each of them leaves one history
# entry.
declare -A CREATE=(
	[service_arrangement]='{service: "kotoutumiskoulutus", provider: "Omnia", channel: "visit",
		starts: "2025-03-17", status: "planned", staff: "Neuvoja Nieminen"}'
	[customer_plan]='{title: "Työllistymissuunnitelma", status: "draft",
		steps: [{text: "CV kuntoon", status: "open", due: "2025-04-01"},
		        {text: "Suomen kielen kurssi", status: "in_progress"}],
		review_on: "2025-06-01"}'
	[service_order]='{service: "yritysneuvonta", status: "ordered", quantity: 2,
		unit_price_cents: 15000, ordered_on: "2025-03-14", channel: "email",
		municipality: "Rauma"}'
	[billing]='{invoice_ref: "LASKU-2025-0042", amount_cents: 30000, vat_percent: 24,
		due_on: "2025-04-14", status: "open", billing_address: "Kauppakatu 1, Rauma"}'
	[job_offer]='{organisation_id: $org, position: "ohjelmistokehittäjä",
		offered_on: "2025-03-14", status: "offered", staff: "Neuvoja Nieminen"}'
	[employer_introduction]='{organisation_id: $org, introduced_on: "2025-03-14",
		outcome: "pending", notes: "Esitelty rekrytoijalle"}'
	[open_position]='{organisation_id: $org, title: "myyntipäällikkö", openings: 1,
		apply_by: "2025-04-30", status: "open", municipality: "Espoo"}'
	[appointment]='{start: "2025-03-14T09:30:00Z", end: "2025-03-14T10:15:00Z",
		channel: "visit", place: "Talent Hub, Espoon keskus", staff: "Neuvoja Nieminen",
		topic: "urasuunnittelu", status: "booked"}'
	[customer_contact]='{channel: "phone", direction: "inbound", at: "2025-03-14T12:00:00Z",
		topic: "toimitilat", summary: "Kysyi vapaista toimitiloista"}'
	[customer_note]='{text: "Kiinnostunut rekrytointitapahtumista", topic: "rekrytointi"}'
)
declare -A PATCH=(
	[service_arrangement]='{status: "active", ends: "2025-09-30", provider: null,
		details: "Jatkuu syksyllä", municipality: "Espoo"}'
	[customer_plan]='{status: "active", staff: "Neuvoja Nieminen",
		steps: [{text: "CV kuntoon", status: "done", due: "2025-04-01"},
		        {text: "Suomen kielen kurssi", status: "in_progress"},
		        {text: "Työnantajatapaaminen", status: "open", due: "2025-05-15"}]}'
	[service_order]='{status: "confirmed", deliver_on: "2025-04-02", notes: "Toimitus sovittu"}'
	[billing]='{status: "sent", vat_percent: 25, order_record: $ref}'
	[job_offer]='{status: "accepted", staff: null, position_record: $ref}'
	[employer_introduction]='{outcome: "interview", position_record: $ref, staff: "Neuvoja"}'
	[open_position]='{openings: 2, description: "Kaksi avointa paikkaa"}'
	[appointment]='{status: "held", outcome: "CV päivitetty", municipality: "Espoo"}'
	[customer_contact]='{summary: "Toimitila löytyi", staff: "Yritysneuvoja",
		municipality: "Rauma"}'
	[customer_note]='{text: "Osallistuu kevään rekrytointitapahtumaan", topic: null,
		staff: "Neuvoja"}'
)

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

serve() {
	start_server
	BASE=$ROOT/api/v1
}

# token USER: a new API token of USER, signed in with the commitment accepted (lib.sh).
token() {
	api_token "$1"
}

# api TOKEN METHOD PATH [BODY]: calls PATH of register R; body to $T/body, headers to
# $T/headers, status to $CODE.
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

# check JQ-FILTER [JQ-ARGS...] -- WHAT: the last answer satisfies the filter.
check() {
	local what=${*: -1}
	local n=$(($# - 1))
	jq -e "${@:1:n}" "$T/body" >/dev/null || {
		show "$T/body"
		die "$what"
	}
}

# setup NAME: data directory D with espoo-talent-hub and rauma-crm; users editor and viewer
# with those roles on both, and proc, a processor of espoo-talent-hub (for
# cloud_services) without any role on rauma-crm; the server, the tokens ED, VIEWER and LOW,
# and through the API the persons IND and CC of espoo-talent-hub, OC of rauma-crm, and an
# organisation in each (ORG_ESPOO, ORG_RAUMA).
setup() {
	D=$T/$1/data
	mkdir -p "$T/$1"
	"$K" init "$D" >/dev/null
	for r in espoo-talent-hub rauma-crm; do
		"$K" --data "$D" register load "$REPO/registers/$r.yaml" >/dev/null 2>&1 ||
			die "register load $r"
	done
	printf '%s\n' "$PW" >"$T/pw"
	for u in editor viewer proc; do
		kk user add "$u" --password-file "$T/pw" >/dev/null
	done
	for r in espoo-talent-hub rauma-crm; do
		kk user grant editor --register $r --role editor >/dev/null
		kk user grant viewer --register $r --role viewer >/dev/null
	done
	kk user grant proc --register espoo-talent-hub --role processor \
		--processor cloud_services >/dev/null
	serve
	ED=$(token editor)
	VIEWER=$(token viewer)
	LOW=$(token proc)
	R=espoo-talent-hub
	api "$ED" POST /persons '{"subject_group": "individual", "source": "subject",
		"first_name": "Iida", "last_name": "Korhonen", "email": "iida@example.fi",
		"municipality": "Espoo"}'
	want 201
	IND=$(jq -r .id "$T/body")
	api "$ED" POST /persons '{"subject_group": "company_contact", "source": "subject",
		"first_name": "Kalle", "last_name": "Järvinen", "email": "kalle@example.fi"}'
	want 201
	CC=$(jq -r .id "$T/body")
	api "$ED" POST /organisations '{"name": "Järvinen Consulting Oy", "source": "subject"}'
	want 201
	ORG_ESPOO=$(jq -r .id "$T/body")
	R=rauma-crm
	api "$ED" POST /persons '{"subject_group": "organisation_contact", "source": "customer",
		"first_name": "Raimo", "last_name": "Rauhala", "email": "raimo@example.fi"}'
	want 201
	OC=$(jq -r .id "$T/body")
	api "$ED" POST /organisations '{"name": "Rauman Telakka Oy", "source": "customer"}'
	want 201
	ORG_RAUMA=$(jq -r .id "$T/body")
}

# uses ID ACTION: how many usage-log entries of ACTION concern record ID (entity_id) of
# register R.
uses() {
	sql "SELECT count(*) FROM usage_log WHERE register_id = '$R' AND entity = 'record'
		AND action = '$2' AND entity_id = $1"
}

# walk TYPE: the walk of one record type through the API (issue 8): make, read, change,
# history, usage log, roles, customer event, an undeclared member, statistics, deletion.
# Sets RID (the record) and P (its person) for the type's own further checks.
walk() {
	local type=$1 reg who ev org create patch merged ref
	WTYPE=$type
	read -r reg who ev <<<"${ROW[$type]}"
	setup "$type"
	R=$reg
	case $who in
	ind) P=$IND ;;
	cc) P=$CC ;;
	oc) P=$OC ;;
	esac
	org=$ORG_ESPOO
	[ "$R" = rauma-crm ] && org=$ORG_RAUMA
	# the record a billing or a job offer refers to must exist, of its type and register:
	# made about another person, so this walk's person stays as it was
	ref=0
	case $type in
	billing)
		api "$ED" POST /persons '{"subject_group": "organisation_contact", "source": "customer",
			"first_name": "Tilaaja", "last_name": "Toinen"}'
		want 201
		api "$ED" POST "/persons/$(jq -r .id "$T/body")/records" "{\"type\": \"service_order\",
			\"on\": \"$DAY\", \"data\": {\"service\": \"koulutus\", \"status\": \"ordered\"}}"
		want 201
		ref=$(jq -r .id "$T/body")
		;;
	job_offer | employer_introduction)
		api "$ED" POST "/persons/$CC/records" "{\"type\": \"open_position\", \"on\": \"$DAY\",
			\"data\": {\"organisation_id\": $org, \"title\": \"kehittäjä\", \"status\": \"open\"}}"
		want 201
		ref=$(jq -r .id "$T/body")
		;;
	esac
	create=$(jq -cn --argjson org "$org" "${CREATE[$type]}")
	patch=$(jq -cn --argjson org "$org" --argjson ref "$ref" "${PATCH[$type]}")
	merged=$(jq -cn --argjson c "$create" --argjson p "$patch" \
		'$c + $p | with_entries(select(.value != null))')

	api "$VIEWER" GET "/persons/$P"
	want 200
	check '.last_customer_event == null' -- "a fresh person has a customer event"

	# make the record
	api "$ED" POST "/persons/$P/records" "$(jq -cn --arg t "$type" --arg on "$DAY" \
		--argjson d "$create" '{type: $t, on: $on, data: $d}')"
	want 201
	RID=$(jq -r .id "$T/body")
	grep -qi "^Location: /api/v1/registers/$R/records/$RID"$'\r'"\?$" "$T/headers" || {
		show "$T/headers"
		die "no Location of the record"
	}

	# read it back, alone and in the person's list
	api "$VIEWER" GET "/records/$RID"
	want 200
	check --arg t "$type" --arg r "$R" --arg on "$DAY" --argjson p "$P" --argjson d "$create" \
		'.type == $t and .register == $r and .on == $on and .person_id == $p and
		 .version == 1 and .data == $d and (.created_by | test(":editor$"))' -- \
		"the record read back is not the one made"
	api "$VIEWER" GET "/persons/$P/records"
	want 200
	check --argjson id "$RID" '[.items[].id] == [$id]' -- "the person's records"

	# change it
	api "$ED" PATCH "/records/$RID" "{\"data\": $patch}"
	want 200
	check --argjson d "$merged" '.version == 2 and .data == $d and
		(.updated_by | test(":editor$"))' -- "the changed record"
	api "$VIEWER" GET "/records/$RID?history=true"
	want 200
	check --argjson c "$create" --argjson p "$patch" --argjson d "$merged" '
		.data == $d and (.history | length) == ($p | length) and
		(.history as $h | all($p | to_entries[]; . as $e |
			any($h[]; .member == $e.key and .old == $c[$e.key] and .new == $e.value and
			    (.actor | test(":editor$")))))' -- "the change history"

	# the usage log: the making, each read of the record (the answer of the change is one),
	# the change; none of the refused calls below may add to it
	[ "$(uses "$RID" create)" = 1 ] || die "no usage-log entry of the making"
	[ "$(uses "$RID" read)" = 3 ] || die "reads of the record logged $(uses "$RID" read) times"
	[ "$(uses "$RID" update)" = 1 ] || die "no usage-log entry of the change"
	[ "$(sql "SELECT actor FROM usage_log WHERE entity = 'record' AND entity_id = $RID
		AND action = 'create'")" = "$(sql "SELECT actor FROM usage_log WHERE entity = 'record'
		AND entity_id = $RID AND action = 'update'")" ] || die "create and update by different actors"
	[ "$(sql "SELECT reason FROM usage_log WHERE entity = 'record' AND entity_id = $RID
		AND action = 'create'")" = "$type" ] || die "the making's entry does not name the type"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE register_id = '$R' AND entity = 'record'
		AND action = 'read' AND entity_id IS NULL")" = 1 ] || die "the list read is not logged"

	# a viewer cannot write, a processor (or no role) cannot even read
	api "$VIEWER" PATCH "/records/$RID" "{\"data\": $patch}"
	want 403
	api "$VIEWER" POST "/persons/$P/records" "$(jq -cn --arg t "$type" --argjson d "$create" \
		'{type: $t, data: $d}')"
	want 403
	api "$VIEWER" DELETE "/records/$RID"
	want 403
	api "$LOW" GET "/records/$RID"
	want 403
	api "$LOW" GET "/records/$RID?history=true"
	want 403
	api "$LOW" GET "/persons/$P/records"
	want 403
	api "$LOW" GET "/stats/services"
	want 403
	[ "$(uses "$RID" read)" = 3 ] || die "a refused read was logged"
	[ "$(uses "$RID" update)" = 1 ] || die "a refused change was logged"

	# a member the type does not have is refused by name, whether made or changed
	api "$ED" POST "/persons/$P/records" "$(jq -cn --arg t "$type" --argjson d "$create" \
		'{type: $t, data: ($d + {nickname: "Iitu"})}')"
	want 400
	check '.type == "/problems/invalid" and (.detail | test("data\\.nickname: not a member"))
		and .errors[0].field == "data.nickname"' -- "the undeclared member is not named"
	check '(tostring | test("Iitu")) | not' -- "the refusal repeats the value"
	api "$ED" PATCH "/records/$RID" '{"data": {"nickname": "Iitu"}}'
	want 400
	check '.errors[0].field == "data.nickname"' -- "the undeclared member is not named"
	api "$VIEWER" GET "/records/$RID"
	want 200
	check --argjson d "$merged" '.version == 2 and .data == $d' -- "a refused call changed the record"
	api "$VIEWER" GET "/persons/$P/records"
	want 200
	check '.items | length == 1' -- "a refused call made a record"

	# the customer-event clock moves where the declaration says so
	api "$VIEWER" GET "/persons/$P"
	want 200
	if [ "$ev" = 1 ]; then
		check --arg on "$DAY" '.last_customer_event == $on' -- "not counted as a customer event"
	else
		check '.last_customer_event == null' -- "counted as a customer event"
	fi

	# the statistics count the record, without any personal data, and keep the count when
	# the record goes
	local muni
	muni=$(jq -rn --argjson c "$create" '$c.municipality // ""')
	[ -z "$muni" ] && [ "$who" = ind ] && muni=Espoo
	api "$VIEWER" GET "/stats/services?from=$MONTH&to=$MONTH"
	want 200
	check --arg t "$type" --arg m "$MONTH" --arg mu "$muni" --argjson c "$create" \
		'[.rows[] | select(.service == $t)] == [{period: $m, service: $t,
		 channel: ($c.channel // ""), municipality: $mu, count: 1}]' -- "the statistics"
	check '(tostring | test("Iida|Kalle|Raimo|example\\.fi")) | not' -- \
		"personal data in the statistics"
	api "$VIEWER" GET "/stats/services?from=2025-04"
	want 200
	check '.rows == []' -- "the statistics of a later month"
}

# walk_end: deletes the walk's record; the statistics keep their count.
walk_end() {
	api "$VIEWER" DELETE "/records/$RID"
	want 403
	api "$ED" DELETE "/records/$RID"
	want 204
	[ "$(uses "$RID" delete)" = 1 ] || die "no usage-log entry of the deletion"
	api "$VIEWER" GET "/records/$RID"
	want 404
	api "$VIEWER" GET "/stats/services?from=$MONTH&to=$MONTH"
	want 200
	check --arg t "$WTYPE" '[.rows[] | select(.service == $t)] | length == 1 and .[0].count == 1' -- \
		"the deletion changed the statistics"
}

# ------------------------------------------------------------------------------------ tests

# proves E-02: a service arrangement (its service, provider, period and status).
t_service_arrangement() {
	walk service_arrangement
	walk_end
}

# proves E-03: a customer plan with steps, each with its own status; a step of an unknown
# status or with a member a step does not have is refused by its path.
t_customer_plan() {
	walk customer_plan
	api "$VIEWER" GET "/records/$RID?history=true"
	check '.history[] | select(.member == "steps") | (.old | map(.status)) == ["open", "in_progress"]
		and (.new | map(.status)) == ["done", "in_progress", "open"]' -- "the steps' history"
	api "$ED" PATCH "/records/$RID" '{"data": {"steps": [{"text": "CV", "status": "finished"}]}}'
	want 400
	check '.errors[0].field == "data.steps[0].status"' -- "a bad step status is not named"
	api "$ED" PATCH "/records/$RID" '{"data": {"steps": [{"text": "CV", "status": "done", "owner": "x"}]}}'
	want 400
	check '.errors[0].field == "data.steps[0].owner"' -- "a step's unknown member"
	api "$ED" PATCH "/records/$RID" '{"data": {"steps": [{"status": "done"}]}}'
	want 400
	check '.errors[0].field == "data.steps[0].text"' -- "a step without text"
	api "$VIEWER" GET "/records/$RID"
	check '.version == 2 and (.data.steps | length) == 3' -- "a refused step change was kept"
	walk_end
}

# proves E-04: a service order, whose every change of status is kept in its history in
# order.
t_service_order() {
	walk service_order
	api "$ED" PATCH "/records/$RID" '{"data": {"status": "delivered", "quantity": 3}}'
	want 200
	check '.version == 3' -- "the second change"
	api "$ED" PATCH "/records/$RID" '{"data": {"status": "delivered"}}'
	want 200
	check '.version == 3' -- "a change that changes nothing made a version"
	api "$VIEWER" GET "/records/$RID?history=true"
	want 200
	check '[.history[] | select(.member == "status") | [.old, .new]] ==
		[["ordered", "confirmed"], ["confirmed", "delivered"]]' -- "the status history"
	check '[.history[] | select(.member == "quantity") | [.old, .new]] == [[2, 3]]' -- \
		"the quantity history"
	api "$ED" PATCH "/records/$RID" '{"data": {"status": "lost"}}'
	want 400
	check '.errors[0].field == "data.status"' -- "a bad status is not named"
	walk_end
}

# proves E-04: billing data; an amount must be a whole number of cents.
t_billing() {
	walk billing
	api "$ED" PATCH "/records/$RID" '{"data": {"amount_cents": 12.5}}'
	want 400
	check '.errors[0].field == "data.amount_cents"' -- "a bad amount is not named"
	api "$ED" PATCH "/records/$RID" '{"data": {"invoice_ref": null}}'
	want 400
	check '.errors[0].field == "data.invoice_ref"' -- "a required member removed"
	# the order it refers to must be a service order of the register: not a billing record
	api "$ED" PATCH "/records/$RID" "{\"data\": {\"order_record\": $RID}}"
	want 404
	check '.errors[0].field == "data.order_record"' -- "a reference to another type"
	walk_end
}

# proves E-04: a job offer names an organisation of its own register.
t_job_offer() {
	walk job_offer
	api "$ED" PATCH "/records/$RID" "{\"data\": {\"organisation_id\": $ORG_RAUMA}}"
	want 404
	check '.errors[0].field == "data.organisation_id"' -- "another register's organisation"
	api "$ED" PATCH "/records/$RID" '{"data": {"position_record": 999999}}'
	want 404
	check '.errors[0].field == "data.position_record"' -- "a position that does not exist"
	walk_end
}

# proves E-04: an introduction to an employer.
t_employer_introduction() {
	walk employer_introduction
	walk_end
}

# proves E-04: an open position of an organisation, about its company contact.
t_open_position() {
	walk open_position
	walk_end
}

# proves E-04: an organisation's open positions and its dealings with job seekers are found
# by the organisation: the records naming it, narrowed by type, read by a viewer and logged
# as a read of the persons they are about; a processor may not; another register's
# organisation is not found.
t_organisation_records() {
	setup orgrecords
	R=espoo-talent-hub
	local pos offer
	api "$ED" POST "/persons/$CC/records" "{\"type\": \"open_position\", \"on\": \"$DAY\",
		\"data\": {\"organisation_id\": $ORG_ESPOO, \"title\": \"myyjä\", \"status\": \"open\"}}"
	want 201
	pos=$(jq -r .id "$T/body")
	api "$ED" POST "/persons/$IND/records" "{\"type\": \"job_offer\", \"on\": \"$DAY\",
		\"data\": {\"organisation_id\": $ORG_ESPOO, \"position\": \"myyjä\",
		\"position_record\": $pos}}"
	want 201
	offer=$(jq -r .id "$T/body")
	api "$ED" POST "/persons/$IND/records" "{\"type\": \"customer_note\", \"on\": \"$DAY\",
		\"data\": {\"text\": \"ei työnantajaa\"}}"
	want 201
	api "$VIEWER" GET "/organisations/$ORG_ESPOO/records"
	want 200
	check --argjson p "$pos" --argjson o "$offer" --argjson org "$ORG_ESPOO" \
		'.organisation == $org and [.items[].id] == [$p, $o]' -- "the organisation's records"
	api "$VIEWER" GET "/organisations/$ORG_ESPOO/records?type=open_position"
	want 200
	check --argjson p "$pos" '[.items[] | {id, type}] == [{id: $p, type: "open_position"}]' -- \
		"the open positions"
	api "$VIEWER" GET "/organisations/$ORG_ESPOO/records?type=customer_note"
	want 400
	check '.errors[0].field == "type"' -- "a type that names no organisation"
	api "$LOW" GET "/organisations/$ORG_ESPOO/records"
	want 403
	api "$VIEWER" GET "/organisations/$ORG_RAUMA/records"
	want 404
	[ "$(sql "SELECT count(*) FROM usage_log WHERE register_id = '$R' AND entity = 'record'
		AND action = 'read' AND reason = 'organisation:$ORG_ESPOO'")" = 2 ] ||
		die "the reads by organisation are not logged"
	run 0 "$K" --data "$D" record list --register "$R" --organisation "$ORG_ESPOO" \
		--type job_offer
	[ "$(jq -c '[.items[].id]' "$T/out")" = "[$offer]" ] || die "record list --organisation"
}

# proves E-02: an appointment; its calendar file follows the change.
t_appointment() {
	walk appointment
	api "$VIEWER" GET "/records/$RID.ics"
	want 200
	has "$T/body" '^SEQUENCE:1'
	has "$T/body" '^SUMMARY:urasuunnittelu'
	walk_end
}

# proves E-02: a customer contact, in rauma-crm (which declares it a customer event).
t_customer_contact() {
	walk customer_contact
	walk_end
}

# proves E-02: a customer note, which is not a customer event.
t_customer_note() {
	walk customer_note
	walk_end
}

# proves E-02 … E-04: the table has a walk for every record type with content, and each
# walk's content gives every member the type has at least once in its make or its change
# (so a new type or member cannot go untested).
t_table_covers_every_type() {
	"$K" record types >"$T/types.json" 2>"$T/err" || die "kortisto record types"
	local want got t missing
	want=$(jq -r '.[].type' "$T/types.json" | sort)
	got=$(printf '%s\n' "${!ROW[@]}" | sort)
	[ "$want" = "$got" ] || die "record types without a walk: $(comm -23 <(echo "$want") <(echo "$got"))"
	for t in $want; do
		missing=$(jq -r --arg t "$t" --argjson c "$(jq -cn --argjson org 1 "${CREATE[$t]}")" \
			--argjson p "$(jq -cn --argjson org 1 --argjson ref 1 "${PATCH[$t]}")" \
			'[.[] | select(.type == $t) | .members[].name] - ($c + $p | keys) | join(" ")' \
			"$T/types.json")
		[ -z "$missing" ] || die "$t: no walk gives $missing"
	done
}

# proves E-02 … E-04: what the declaration does not allow is refused with 422 naming the
# type: a type another register declares, a declared type without content, a type whose
# category is not declared for the person's group; nothing is made or counted.
t_declaration_refusals() {
	setup refusals
	R=rauma-crm
	api "$ED" POST "/persons/$OC/records" '{"type": "appointment", "data": {"start":
		"2025-03-14T09:30:00Z", "channel": "visit", "staff": "N", "topic": "T"}}'
	want 422
	check '.errors[0].field == "type" and (.detail | test("appointment"))' -- "an undeclared type"
	api "$ED" POST "/persons/$OC/records" '{"type": "event_registration", "data": {}}'
	want 422
	check '.errors[0].field == "type" and (.detail | test("no content"))' -- "a type without content"
	R=espoo-talent-hub
	api "$ED" POST "/persons/$IND/records" "{\"type\": \"open_position\", \"data\":
		{\"organisation_id\": $ORG_ESPOO, \"title\": \"x\", \"status\": \"open\"}}"
	want 422
	check '.errors[0].field == "type" and (.detail | test("individual"))' -- \
		"a type not declared for the group"
	api "$ED" POST "/persons/$IND/records" '{"type": "customer_note", "data": {"topic": "x"}}'
	want 400
	check '.errors[0].field == "data.text"' -- "a missing required member"
	api "$ED" POST "/persons/$IND/records" '{"type": "customer_note", "on": "2999-01-01",
		"data": {"text": "x"}}'
	[ "$CODE" = 400 ] || [ "$CODE" = 422 ] || die "a day in the future: $CODE"
	[ "$(sql "SELECT count(*) FROM person_records")" = 0 ] || die "a refused record was made"
	[ "$(sql "SELECT count(*) FROM service_stats")" = 0 ] || die "a refused record was counted"
}

# proves E-05: the statistics count records per month, type, channel and municipality, the
# month bounds select, and a bad month is refused.
t_statistics() {
	setup stats
	R=espoo-talent-hub
	local d
	for d in 2025-01-10:visit 2025-01-20:visit 2025-01-21:phone 2025-02-03:visit; do
		api "$ED" POST "/persons/$IND/records" "{\"type\": \"appointment\", \"on\": \"${d%%:*}\",
			\"data\": {\"start\": \"${d%%:*}T09:00:00Z\", \"channel\": \"${d#*:}\",
			\"staff\": \"N\", \"topic\": \"T\"}}"
		want 201
	done
	api "$ED" POST "/persons/$CC/records" '{"type": "customer_note", "on": "2025-01-15",
		"data": {"text": "muistiinpano"}}'
	want 201
	api "$VIEWER" GET "/stats/services?from=2025-01&to=2025-01"
	want 200
	check '[.rows[] | [.service, .channel, .municipality, .count]] | sort ==
		[["appointment", "phone", "Espoo", 1], ["appointment", "visit", "Espoo", 2],
		 ["customer_note", "", "", 1]]' -- "January's statistics"
	api "$VIEWER" GET "/stats/services"
	want 200
	check '[.rows[].count] | add == 5' -- "all the records counted"
	check '[.rows[] | select(.period == "2025-02")] | length == 1' -- "February"
	api "$VIEWER" GET "/stats/services?from=2025-13"
	want 400
	check '.errors[0].field == "from"' -- "a bad month"
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
run_tests "advisory" bash "$0" t_service_arrangement t_customer_plan t_service_order \
	t_billing t_job_offer t_employer_introduction t_open_position t_appointment \
	t_customer_contact t_customer_note t_table_covers_every_type t_declaration_refusals \
	t_statistics t_organisation_records
