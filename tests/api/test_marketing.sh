#!/usr/bin/env bash
# Black-box tests of consents and mailings (M-01 … M-05, R-11, R-12): the real binary
# ($KORTISTO_BIN) with a fresh data directory holding espoo-talent-hub (individuals on
# consent, company contacts on public task), sending through tests/api/smtp_sink.py on
# 127.0.0.1, and serving the public unsubscribe and open links. Who received what is read from
# the sink's envelope files; what kortisto recorded from the database with sqlite3. Each test
# runs in a process of its own (this script with --one TEST); tests name the promise they
# prove.
set -euo pipefail

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir marketing "${1:-}"

R=espoo-talent-hub
PID=
SINK=

sql() {
	sqlite3 -batch "$D/kortisto.db" "$1"
}

# kk ARGS...: runs kortisto on D, printing its standard output; fails the test on an error.
kk() {
	"$K" --data "$D" "$@" 2>"$T/kk.err" || {
		show "$T/kk.err"
		die "kortisto $*"
	}
}

# start_sink: starts the SMTP sink writing to $T/sink; sets SINK_PORT. It stops when the
# test's shell closes its standard input (fd 9).
start_sink() {
	mkdir -p "$T/sink"
	rm -f "$T/sink"/* "$T/sink.port" # an old port would be read before the new sink writes
	# shellcheck disable=SC2086 # SINK_ARGS are words
	exec 9> >(exec python3 "$REPO/tests/api/smtp_sink.py" --exit-on-eof ${SINK_ARGS:-} \
		"$T/sink" >"$T/sink.port")
	for _ in $(seq 1 200); do
		SINK_PORT=$(head -n1 "$T/sink.port" 2>/dev/null || true)
		[ -n "$SINK_PORT" ] && break
		sleep 0.05
	done
	[ -n "$SINK_PORT" ] || die "the SMTP sink did not start"
}

# setup NAME: a data directory with espoo-talent-hub (the declaration $DECL when set), mail
# through the sink, and public_url.
setup() {
	D=$T/$1/data
	mkdir -p "$T/$1"
	"$K" init "$D" >/dev/null
	"$K" --data "$D" register load "${DECL:-$REPO/registers/$R.yaml}" >/dev/null 2>&1 ||
		die "register load"
	start_sink
	printf 'smtp_url = smtp://127.0.0.1:%s\nmail_from = uutiset@espoo.example.fi\npublic_url = https://kortisto.example.fi/\n' \
		"$SINK_PORT" >>"$D/kortisto.conf"
}

# person GROUP FIRST [EMAIL]: adds a person of espoo-talent-hub; prints the id.
person() {
	local email=()
	[ $# -ge 3 ] && email=("email=$3")
	kk person add --register $R subject_group="$1" source=subject first_name="$2" \
		last_name=Testi "${email[@]}"
}

consent() {
	kk consent give --register $R "$1" purpose=newsletters channel=email \
		text="Haluan Espoon uutiskirjeen" text_version=2026-1 >"$T/consent.json"
	jq -r .id "$T/consent.json"
}

# received: the recipients of every message in the sink, one a line, sorted.
received() {
	cat "$T/sink"/*.env 2>/dev/null | sed -n 's/^rcpt to //p' | sort
}

serve() {
	start_server
	HOST=$ROOT
	BASE=$HOST/api/v1
}

MPW=kortisto-markkinointi-testaaja-1

# token USER: a new API token of USER, signed in with the commitment accepted (lib.sh).
token() {
	api_token "$1" "$MPW"
}

# api TOKEN METHOD PATH [BODY]: calls PATH of register R at BASE; body to $T/body, status to
# $CODE.
api() {
	local tok=$1 m=$2 p=$3
	shift 3
	local args=()
	[ $# -ge 1 ] && args=(-H 'Content-Type: application/json' --data-binary "$1")
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
		"${args[@]}" "$BASE/registers/$R$p")
}

# want CODE: the last call answered CODE.
want() {
	[ "$CODE" = "$1" ] || {
		show "$T/body"
		die "HTTP $CODE, expected $1"
	}
}

# wait_sent TOKEN MAILING [SECONDS]: polls GET mailings/MAILING until its state is sent (20
# seconds unless SECONDS); the last answer in $T/body.
wait_sent() {
	local _
	for _ in $(seq 1 $((${3:-20} * 10))); do
		api "$1" GET "/mailings/$2"
		want 200
		[ "$(jq -r .state "$T/body")" = sent ] && return 0
		sleep 0.1
	done
	show "$T/body"
	die "mailing $2 was not sent in time"
}

# sent_count: how many messages the sink has received.
sent_count() {
	find "$T/sink" -name '*.env' | wc -l
}

# managed NAME: setup NAME, a manager mgr of R, the server, BASE and the manager's token MGR.
managed() {
	setup "$1"
	printf '%s\n' "$MPW" >"$T/pw"
	kk user add mgr --password-file "$T/pw" >/dev/null
	kk user grant mgr --register $R --role manager >/dev/null
	serve
	BASE=$HOST/api/v1
	MGR=$(token mgr)
}

# consenting N: N individuals h1 … hN of R with an e-mail consent.
consenting() {
	local i p
	for i in $(seq 1 "$1"); do
		p=$(person individual "Henkilo$i" "h$i@example.fi")
		consent "$p" >/dev/null
	done
}

# subscribe EMAIL FIRST: subscribes on the public page of list talent-uutiset.
subscribe() {
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "email=$1" \
		--data-urlencode "first_name=$2" --data-urlencode last_name=Testi -d consent=yes \
		"$HOST/p/subscribe/talent-uutiset")
	[ "$code" = 200 ] || die "subscribe $1: $code"
}

# confirm_token EMAIL: the token of the confirmation link the sink received for EMAIL.
confirm_token() {
	local env
	env=$(grep -lx "rcpt to $1" "$T/sink"/*.env | head -n 1)
	[ -n "$env" ] || return 0
	tr -d '\r' <"${env%.env}.eml" | sed -e ':a' -e '/=$/{N;s/=\n//;ba' -e '}' |
		sed -n 's|.*/p/confirm/\([A-Za-z0-9_-]*\).*|\1|p' | head -n 1
}

# pid_of EMAIL: the id of the person of R with the e-mail address EMAIL.
pid_of() {
	local id
	id=$(sql "SELECT person_id FROM contact_points WHERE kind = 'email' AND value = '$1'")
	[ -n "$id" ] || die "no person with $1"
	echo "$id"
}

new_mailing() {
	kk mailing new --register $R purpose=newsletters subject="Uutiskirje {{first_name}}" \
		text="Hei {{first_name}} {{last_name}}, {{organisation}}" \
		html="<p>Hei {{first_name}}</p>" "$@" | jq -r .id
}

# request TYPE PERSON [ARGS...]: a data-subject request of TYPE about PERSON, verified and
# fulfilled as the rights steps do it; the outcome in $T/fulfil.json.
request() {
	local rq
	rq=$(kk request new --register $R type="$1" channel=email person_id:="$2" "${@:3}" |
		jq -r .id)
	kk request verify --register $R "$rq" method=registered_contact >/dev/null
	kk request fulfil --register $R "$rq" >"$T/fulfil.json"
}

# The mixed register of the issue's test: who must and must not receive a newsletter. The
# register is espoo-talent-hub with erasure by passivation (R-08), as sospro-marketing
# declares it, so that an erasure leaves the erased address on the suppression list.
mixed() {
	mkdir -p "$T"
	sed '/^rights:/a\  erasure_by_passivation: true' "$REPO/registers/$R.yaml" >"$T/$R.yaml"
	grep -q '^  erasure_by_passivation: true' "$T/$R.yaml" || die "no passivating declaration"
	DECL=$T/$R.yaml setup "$1"
	IIDA=$(person individual Iida iida@example.fi)
	consent "$IIDA" >/dev/null
	KALLE=$(person company_contact Kalle kalle@example.fi)
	ORG=$(kk org add --register $R name="Firma Oy" source=subject)
	kk affiliation add --register $R person_id:="$KALLE" organisation_id:="$ORG" >/dev/null
	# no consent: a natural person never receives marketing e-mail without one (§200)
	person individual Nelli nelli@example.fi >/dev/null
	# a contact person whose role ended
	ENDED=$(person company_contact Eero eero@example.fi)
	kk affiliation add --register $R person_id:="$ENDED" organisation_id:="$ORG" \
		end_date=2020-01-01 >/dev/null
	# banned through a fulfilled marketing-ban request (M-02)
	BANNED=$(person individual Bertta bertta@example.fi)
	consent "$BANNED" >/dev/null
	request marketing_ban "$BANNED" details:='{"channels":["email"]}'
	# a contact person who objected to direct marketing: a ban on every channel (R-11)
	OBJ=$(person company_contact Olli olli@example.fi)
	kk affiliation add --register $R person_id:="$OBJ" organisation_id:="$ORG" >/dev/null
	request objection "$OBJ" details:='{"scope":"direct_marketing"}'
	# withdrawn consent (R-12)
	WD=$(person individual Ville ville@example.fi)
	kk consent withdraw --register $R "$(consent "$WD")" how=email >/dev/null
	# restricted through a fulfilled restriction request (R-09)
	RS=$(person individual Riikka riikka@example.fi)
	consent "$RS" >/dev/null
	request restriction "$RS"
	[ "$(sql "SELECT status FROM persons WHERE id = $RS")" = restricted ] ||
		die "the restriction request did not restrict"
	# erased by passivation through a fulfilled erasure request (R-08): the person is gone,
	# with only keyed hashes of their address left on the suppression list
	PS=$(person individual Paavo paavo@example.fi)
	consent "$PS" >/dev/null
	request erasure "$PS"
	jq -e '.outcome.erased and .outcome.passivated' "$T/fulfil.json" >/dev/null || {
		show "$T/fulfil.json"
		die "the erasure did not passivate"
	}
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $PS")" = 0 ] ||
		die "the passivated person is still a person"
	[ "$(sql "SELECT count(*) FROM suppressions WHERE register_id = '$R'")" -ge 1 ] ||
		die "nothing on the suppression list"
	# a pending double opt-in consent never counts
	PEND=$(person individual Pirkko pirkko@example.fi)
	kk consent give --register $R "$PEND" purpose=newsletters channel=email text=T \
		text_version=1 source=form >/dev/null
	# consented, but no address
	NOADDR=$(person individual Osoitteeton)
	consent "$NOADDR" >/dev/null
}

# ------------------------------------------------------------------------------------ tests

# proves M-01, M-02, M-03, R-08, R-09, R-11, R-12: exactly the consenting individual and the
# active contact person receive the newsletter, each message with one-click unsubscribe
# headers; the person erased by passivation is no longer in the register to exclude.
t_mixed_register() {
	mixed mixed
	local m
	m=$(new_mailing)
	kk mailing preview --register $R "$m" >"$T/preview.json"
	jq -e '.recipients == 2' "$T/preview.json" >/dev/null || {
		show "$T/preview.json"
		die "preview count"
	}
	jq -e '.excluded.no_consent == 3 and .excluded.banned == 2 and .excluded.restricted == 1
		and .excluded.passivated == 0 and .excluded.no_active_role == 1
		and .excluded.no_email == 1' \
		"$T/preview.json" >/dev/null || {
		show "$T/preview.json"
		die "preview reasons"
	}
	kk mailing send --register $R "$m" >"$T/sent.json"
	printf 'iida@example.fi\nkalle@example.fi\n' >"$T/want"
	received >"$T/got"
	diff "$T/want" "$T/got" >/dev/null || {
		show "$T/got"
		die "the wrong people received the mailing"
	}
	for f in "$T/sink"/*.eml; do
		has "$f" '^List-Unsubscribe: <https://kortisto\.example\.fi/p/unsubscribe/[A-Za-z0-9_-]+>'
		has "$f" '^List-Unsubscribe-Post: List-Unsubscribe=One-Click'
	done
	has "$T/sink/1.eml" '^Subject: Uutiskirje Iida'
	[ "$(sql "SELECT count(*) FROM mailing_recipients WHERE mailing_id = $m AND state = 'sent'")" = 2 ] ||
		die "recipient rows"
	# M-05: who was targeted is recorded, by id
	[ "$(sql "SELECT group_concat(person_id) FROM mailing_recipients WHERE mailing_id = $m")" = "$IIDA,$KALLE" ] ||
		die "targeted"
	# sending twice is refused
	run 1 "$K" --data "$D" mailing send --register $R "$m"
	has "$T/err" 'already sent'
}

# proves R-08, R-09, M-03: the public subscribe page does not bring back the person erased
# by passivation, nor enrol the restricted one: the same page as for anyone, but no person,
# no consent and no confirmation mail; a new address on the same page gets its mail. The
# next mailing reaches neither.
t_passivated_not_resubscribed() {
	mixed resub
	kk mailing list-add --register $R slug=talent-uutiset name="Talent Hubin uutiskirje" \
		purpose=newsletters group=individual source=subject \
		consent_text="Haluan Talent Hubin uutiskirjeen." consent_version=2026-1 >/dev/null
	local persons consents a
	persons=$(sql "SELECT count(*) FROM persons")
	consents=$(sql "SELECT count(*) FROM consents")
	serve
	for a in paavo@example.fi Paavo@Example.FI riikka@example.fi; do
		code=$(curl -s -o "$T/page.$a" -w '%{http_code}' --data-urlencode "email=$a" \
			--data-urlencode first_name=Paavo --data-urlencode last_name=Testi \
			-d consent=yes "$HOST/p/subscribe/talent-uutiset")
		[ "$code" = 200 ] || die "subscribe $a: $code"
	done
	code=$(curl -s -o "$T/page.new" -w '%{http_code}' --data-urlencode email=uusi@example.fi \
		-d consent=yes "$HOST/p/subscribe/talent-uutiset")
	[ "$code" = 200 ] || die "subscribe a new address: $code"
	stop
	# the page says the same whatever the address was
	diff "$T/page.paavo@example.fi" "$T/page.new" >/dev/null || die "the page tells them apart"
	[ "$(sql "SELECT count(*) FROM persons")" = $((persons + 1)) ] ||
		die "the erased person was added again"
	[ "$(sql "SELECT count(*) FROM consents")" = $((consents + 1)) ] ||
		die "a consent for the erased or restricted person"
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $PS")" = 0 ] || die "the erased id is back"
	received >"$T/got"
	[ "$(cat "$T/got")" = uusi@example.fi ] || {
		show "$T/got"
		die "confirmation mail to the erased or restricted person"
	}
	rm -f "$T/sink"/*
	local m
	m=$(new_mailing)
	kk mailing send --register $R "$m" >/dev/null
	printf 'iida@example.fi\nkalle@example.fi\n' >"$T/want"
	received >"$T/got"
	diff "$T/want" "$T/got" >/dev/null || {
		show "$T/got"
		die "the wrong people received the mailing"
	}
}

# proves M-03: the unsubscribe link of a message works with one POST and no sign-in, and the
# next mailing does not go to the person; a GET only asks.
t_unsubscribe_stops_next() {
	mixed unsub
	local m path
	m=$(new_mailing)
	kk mailing send --register $R "$m" >/dev/null
	path=$(sed -n 's|^List-Unsubscribe: <https://kortisto\.example\.fi\(/p/unsubscribe/[^>]*\)>.*|\1|p' \
		"$T/sink/1.eml" | tr -d '\r')
	[ -n "$path" ] || die "no unsubscribe link"
	serve
	code=$(curl -s -o "$T/page" -w '%{http_code}' "$HOST$path")
	[ "$code" = 200 ] || die "GET unsubscribe: $code"
	has "$T/page" '<form method="post"'
	[ "$(sql "SELECT count(*) FROM marketing_bans WHERE person_id = $IIDA")" = 0 ] ||
		die "a GET unsubscribed"
	code=$(curl -s -o "$T/page" -w '%{http_code}' -X POST \
		-d 'List-Unsubscribe=One-Click' "$HOST$path")
	[ "$code" = 200 ] || die "POST unsubscribe: $code"
	[ "$(sql "SELECT source FROM marketing_bans WHERE person_id = $IIDA AND channel = 'email'")" = "unsubscribe:mailing:$m" ] ||
		die "no e-mail ban after unsubscribe"
	[ "$(sql "SELECT count(*) FROM consents WHERE person_id = $IIDA AND withdrawn_how = 'unsubscribe'")" = 1 ] ||
		die "the consent was not withdrawn"
	# a forged token
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HOST/p/unsubscribe/${path##*/}x")
	[ "$code" = 404 ] || die "forged token: $code"
	stop
	rm -f "$T/sink"/*
	m=$(new_mailing)
	kk mailing send --register $R "$m" >/dev/null
	received >"$T/got"
	printf 'kalle@example.fi\n' >"$T/want"
	diff "$T/want" "$T/got" >/dev/null || {
		show "$T/got"
		die "the next mailing reached someone who unsubscribed"
	}
}

# proves M-04: an open through the pixel is logged per mailing and recipient; a mailing
# without tracking has no pixel and logs nothing.
t_opens_logged() {
	mixed opens
	local m px
	m=$(new_mailing track_opens:=true)
	kk mailing send --register $R "$m" >/dev/null
	px=$(tr -d '\r' <"$T/sink/1.eml" | sed -e ':a' -e '/=$/{N;s/=\n//;ba' -e '}' |
		sed -n 's|.*src=3D"https://kortisto\.example\.fi\(/p/o/[A-Za-z0-9_-]*\.gif\)".*|\1|p')
	[ -n "$px" ] || die "no pixel in the message"
	serve
	code=$(curl -s -o "$T/px" -w '%{http_code} %{content_type}' "$HOST$px")
	[ "$code" = "200 image/gif" ] || die "pixel: $code"
	curl -s -o /dev/null "$HOST$px"
	[ "$(sql "SELECT count(*) || ':' || count(DISTINCT person_id) FROM mailing_opens WHERE mailing_id = $m")" = "2:1" ] ||
		die "opens not logged"
	[ "$(sql "SELECT person_id FROM mailing_opens WHERE mailing_id = $m LIMIT 1")" = "$IIDA" ] ||
		die "open of the wrong person"
	stop
	kk mailing status --register $R "$m" >"$T/status.json"
	jq -e '.opens.total == 2 and .opens.recipients == 1' "$T/status.json" >/dev/null ||
		die "status opens"
	rm -f "$T/sink"/*
	m=$(new_mailing)
	kk mailing send --register $R "$m" >/dev/null
	# the sink numbers on from the first mailing's messages
	[ "$(received)" = "$(printf 'iida@example.fi\nkalle@example.fi')" ] || die "second mailing"
	for f in "$T/sink"/*.eml; do
		hasnt "$f" '/p/o/'
	done
}

# proves M-03: a SIGKILL while sending, then `mailing send` again, sends nobody twice; a
# message that may have left when the process died is marked unknown, not resent.
t_kill_and_resume() {
	setup kill
	local ids=() m
	for i in $(seq 1 24); do
		ids+=("$(person individual "Henkilo$i" "h$i@example.fi")")
	done
	for p in "${ids[@]}"; do consent "$p" >/dev/null; done
	m=$(new_mailing)
	"$K" --data "$D" mailing send --register $R "$m" --rate 8 >/dev/null 2>&1 &
	local sender=$!
	for _ in $(seq 1 400); do
		[ "$(ls "$T/sink" | grep -c '\.env$' || true)" -ge 4 ] && break
		sleep 0.05
	done
	kill -9 "$sender"
	wait "$sender" 2>/dev/null || true
	local before
	before=$(received | wc -l)
	[ "$before" -lt 24 ] || die "the send finished before it could be killed"
	kk mailing send --register $R "$m" >"$T/resumed.json"
	received >"$T/got"
	[ -z "$(uniq -d "$T/got")" ] || {
		show "$T/got"
		die "someone received the mailing twice"
	}
	local unknown sent
	unknown=$(sql "SELECT count(*) FROM mailing_recipients WHERE mailing_id = $m AND state = 'unknown'")
	sent=$(sql "SELECT count(*) FROM mailing_recipients WHERE mailing_id = $m AND state = 'sent'")
	[ "$unknown" -le 1 ] || die "$unknown rows unknown"
	[ $((sent + unknown)) = 24 ] || die "sent $sent + unknown $unknown is not 24"
	[ "$(wc -l <"$T/got")" -ge "$sent" ] || die "fewer messages than rows marked sent"
	jq -e '.state == "sent"' "$T/resumed.json" >/dev/null || die "not finished"
}

# proves M-01, R-12: consents through the API: a consent is recorded with its exact text,
# version and source; withdrawal takes effect at once; an undeclared purpose is refused.
t_consent_api() {
	setup api
	local p tok
	p=$(person individual Aino aino@example.fi)
	printf 'kortisto-markkinointi-testaaja-1\n' >"$T/pw"
	kk user add editor1 --password-file "$T/pw" >/dev/null
	kk user grant editor1 --register $R --role editor >/dev/null
	kk commitment show >/dev/null 2>&1 || true
	serve
	local base=$HOST/api/v1
	code=$(curl -s -o "$T/s.json" -w '%{http_code}' -c "$T/jar" -H 'Content-Type: application/json' \
		-d '{"name":"editor1","password":"kortisto-markkinointi-testaaja-1"}' "$base/session")
	[ "$code" = 201 ] || die "sign-in $code"
	local csrf v
	csrf=$(jq -r .csrf "$T/s.json")
	v=$(curl -s -b "$T/jar" "$base/me/commitment" | jq .version)
	curl -s -o /dev/null -b "$T/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
		-d "{\"version\":$v}" "$base/me/commitment"
	tok=$("$K" --data "$D" token create --user editor1 2>/dev/null)
	code=$(curl -s -o "$T/c.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' \
		-d '{"purpose":"newsletters","channel":"email","text":"Haluan uutiskirjeen","text_version":"v3","source":"form","form":"uutiskirje","double_opt_in":false}' \
		"$base/registers/$R/persons/$p/consents")
	[ "$code" = 201 ] || {
		show "$T/c.json"
		die "give: $code"
	}
	jq -e '.active and .text == "Haluan uutiskirjeen" and .text_version == "v3" and .source.kind == "form" and .source.user == "token:1:editor1" and .source.client == "127.0.0.1"' \
		"$T/c.json" >/dev/null || {
		show "$T/c.json"
		die "consent record"
	}
	local cid
	cid=$(jq -r .id "$T/c.json")
	code=$(curl -s -o "$T/c.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' -d '{"how":"email"}' \
		"$base/registers/$R/consents/$cid/withdraw")
	[ "$code" = 200 ] || die "withdraw: $code"
	jq -e '(.active | not) and .withdrawn.how == "email"' "$T/c.json" >/dev/null || die "withdrawn"
	code=$(curl -s -o "$T/c.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' -d '{"how":"email"}' \
		"$base/registers/$R/consents/$cid/withdraw")
	[ "$code" = 409 ] || die "second withdrawal: $code"
	code=$(curl -s -o "$T/c.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' \
		-d '{"purpose":"selling_data","channel":"email","text":"x","text_version":"1"}' \
		"$base/registers/$R/persons/$p/consents")
	[ "$code" = 422 ] || die "undeclared purpose: $code"
	code=$(curl -s -o "$T/c.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		"$base/registers/$R/persons/$p/consents")
	[ "$code" = 200 ] || die "list: $code"
	jq -e '.items | length == 1' "$T/c.json" >/dev/null || die "list length"
	# a form consent with double opt-in: pending, its link mailed to the person, never in
	# the answer; following it confirms the consent
	code=$(curl -s -o "$T/c.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' \
		-d '{"purpose":"newsletters","channel":"email","text":"Haluan uutiskirjeen","text_version":"v4","source":"form","form":"messut","double_opt_in":true}' \
		"$base/registers/$R/persons/$p/consents")
	[ "$code" = 201 ] || die "give pending: $code"
	jq -e '(.active | not) and .confirmation_mailed == true' "$T/c.json" >/dev/null || {
		show "$T/c.json"
		die "the pending consent's mail"
	}
	hasnt "$T/c.json" 'p/confirm'
	cid=$(jq -r .id "$T/c.json")
	local link
	link=$(confirm_token aino@example.fi)
	[ -n "$link" ] || die "no confirmation mail reached the person"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HOST/p/confirm/$link")
	[ "$code" = 200 ] || die "confirm: $code"
	[ "$(sql "SELECT state FROM consents WHERE id = $cid")" = confirmed ] || die "not confirmed"
	# a person without an e-mail address: kept pending, the answer says no mail left
	local q
	q=$(person individual Ilman)
	code=$(curl -s -o "$T/c.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' \
		-d '{"purpose":"newsletters","channel":"post","text":"Kirjeitse","text_version":"1","source":"form","double_opt_in":true}' \
		"$base/registers/$R/persons/$q/consents")
	[ "$code" = 201 ] || die "give without an address: $code"
	jq -e '.confirmation_mailed == false' "$T/c.json" >/dev/null || die "mailed without an address"
	# the command line mails the link with --mail; without an address it prints the token
	local r
	r=$(person individual Kalle kalle@example.fi)
	kk consent give --register $R "$r" purpose=newsletters channel=email text="Haluan uutiskirjeen" \
		text_version=v4 source=form --mail >"$T/c.json"
	jq -e '.confirmation_mailed == true and (has("confirmation_token") | not)' "$T/c.json" \
		>/dev/null || die "consent give --mail"
	[ -n "$(confirm_token kalle@example.fi)" ] || die "no mail from consent give --mail"
	"$K" --data "$D" consent give --register $R "$q" purpose=newsletters channel=post \
		text=Kirjeitse text_version=1 source=form --mail >"$T/c.json" 2>"$T/err" ||
		die "consent give --mail without an address failed"
	jq -e '.confirmation_mailed == false and (.confirmation_token | length) > 20' "$T/c.json" \
		>/dev/null || die "the token of an unmailed consent"
	has "$T/err" 'did not leave'
	# an editor may not send (a manager's step)
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' -d '{}' "$base/registers/$R/mailings/1/send")
	[ "$code" = 403 ] || die "editor send: $code"
}

# proves M-01: double opt-in: a form consent counts only after the signed confirmation link
# was followed, and a link that expired or was altered does nothing.
t_double_opt_in() {
	setup doi
	local p tok m
	p=$(person individual Outi outi@example.fi)
	kk consent give --register $R "$p" purpose=newsletters channel=email text=T text_version=1 \
		source=form form=uutiskirje >"$T/c.json"
	jq -e '.state == "pending" and (.active | not)' "$T/c.json" >/dev/null || die "not pending"
	tok=$(jq -r .confirmation_token "$T/c.json")
	m=$(new_mailing)
	kk mailing preview --register $R "$m" | jq -e '.recipients == 0' >/dev/null ||
		die "a pending consent counted"
	serve
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HOST/p/confirm/${tok}A")
	[ "$code" = 404 ] || die "altered token: $code"
	code=$(curl -s -o "$T/page" -w '%{http_code}' "$HOST/p/confirm/$tok")
	[ "$code" = 200 ] || die "confirm page: $code"
	code=$(curl -s -o "$T/page" -w '%{http_code}' -X POST "$HOST/p/confirm/$tok")
	[ "$code" = 200 ] || die "confirm: $code"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HOST/p/confirm/$tok")
	[ "$code" = 404 ] || die "second confirm: $code"
	stop
	kk mailing preview --register $R "$m" | jq -e '.recipients == 1' >/dev/null ||
		die "the confirmed consent does not count"
	# an expired one
	p=$(person individual Eila eila@example.fi)
	kk consent give --register $R "$p" purpose=newsletters channel=email text=T text_version=1 \
		source=form >"$T/c.json"
	tok=$(jq -r .confirmation_token "$T/c.json")
	"$K" --data "$D" --now 2099-01-01T00:00:00Z serve --listen 127.0.0.1:0 2>"$T/server.err" &
	PID=$!
	local port=
	for _ in $(seq 1 300); do
		port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/server.err")
		[ -n "$port" ] && break
		sleep 0.05
	done
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/p/confirm/$tok")
	[ "$code" = 404 ] || die "expired confirm: $code"
}

# proves M-03: placeholders are checked and escaped: an unknown one is an error naming it, a
# name with markup arrives escaped in the HTML part.
t_placeholders() {
	setup ph
	run 1 "$K" --data "$D" mailing new --register $R purpose=newsletters subject=S \
		text='Hei {{etunimi}}'
	has "$T/err" 'etunimi'
	run 1 "$K" --data "$D" mailing new --register $R purpose=service_development subject=S text=T
	has "$T/err" 'direct-marketing'
	local p m
	p=$(person individual '<b>Iida</b>' iida@example.fi)
	consent "$p" >/dev/null
	m=$(new_mailing)
	kk mailing send --register $R "$m" >/dev/null
	has "$T/sink/1.eml" '&lt;b&gt;Iida&lt;/b&gt;'
}

# proves M-03, M-01: the public subscribe page of a list records a pending consent with the
# list's exact text and mails the confirmation link; only after the confirmation is the
# person on the list and in a mailing to it.
t_subscribe_page() {
	setup sub
	kk mailing list-add --register $R slug=talent-uutiset name="Talent Hubin uutiskirje" \
		purpose=newsletters group=individual source=subject \
		consent_text="Haluan Talent Hubin uutiskirjeen." consent_version=2026-1 >/dev/null
	local m tok
	m=$(new_mailing audience:='{"lists":[1]}')
	serve
	code=$(curl -s -o "$T/page" -w '%{http_code}' "$HOST/p/subscribe/talent-uutiset")
	[ "$code" = 200 ] || die "subscribe page: $code"
	has "$T/page" 'Haluan Talent Hubin uutiskirjeen\.'
	code=$(curl -s -o /dev/null -w '%{http_code}' "$HOST/p/subscribe/no-such-list")
	[ "$code" = 404 ] || die "unknown list: $code"
	# without ticking the consent nothing happens
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode email=anna@example.fi \
		"$HOST/p/subscribe/talent-uutiset")
	[ "$code" = 400 ] || die "no consent: $code"
	[ "$(sql "SELECT count(*) FROM persons")" = 0 ] || die "a person without consent"
	code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode email=Anna@Example.fi \
		--data-urlencode first_name=Anna --data-urlencode 'last_name=Äijälä' -d consent=yes \
		"$HOST/p/subscribe/talent-uutiset")
	[ "$code" = 200 ] || die "subscribe: $code"
	[ "$(sql "SELECT state || '|' || text || '|' || source_kind FROM consents")" = \
		"pending|Haluan Talent Hubin uutiskirjeen.|form" ] || die "pending consent"
	[ "$(sql "SELECT count(*) FROM subscriptions")" = 0 ] || die "subscribed before confirming"
	received >"$T/got"
	[ "$(cat "$T/got")" = anna@example.fi ] || die "no confirmation mail"
	tok=$(tr -d '\r' <"$T/sink/1.eml" | sed -e ':a' -e '/=$/{N;s/=\n//;ba' -e '}' |
		sed -n 's|.*/p/confirm/\([A-Za-z0-9_-]*\).*|\1|p' | head -n 1)
	[ -n "$tok" ] || die "no link in the confirmation mail"
	stop
	kk mailing preview --register $R "$m" | jq -e '.recipients == 0' >/dev/null ||
		die "an unconfirmed subscriber counted"
	serve
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HOST/p/confirm/$tok")
	[ "$code" = 200 ] || die "confirm: $code"
	stop
	[ "$(sql "SELECT count(*) FROM subscriptions WHERE ended_at IS NULL")" = 1 ] ||
		die "not on the list"
	kk mailing preview --register $R "$m" | jq -e '.recipients == 1' >/dev/null ||
		die "the confirmed subscriber does not count"
}

# proves M-03: a recipient the server defers is retried with backoff and then marked failed
# with the SMTP code (never the address), one it refuses is failed at once, and the others are
# sent; an unreachable server stops the send with everyone still pending, to resume.
t_retries_and_failures() {
	SINK_ARGS="--defer slow@example.fi --reject gone@example.fi" setup retry
	local a b c m
	a=$(person individual Aili slow@example.fi)
	b=$(person individual Bea gone@example.fi)
	c=$(person individual Cecilia ok@example.fi)
	for p in "$a" "$b" "$c"; do consent "$p" >/dev/null; done
	m=$(new_mailing)
	kk mailing send --register $R "$m" --attempts 2 >"$T/sent.json"
	[ "$(sql "SELECT state || ':' || attempts || ':' || error FROM mailing_recipients WHERE person_id = $a")" = "failed:2:smtp 451" ] ||
		die "deferred recipient: $(sql "SELECT state, attempts, error FROM mailing_recipients WHERE person_id = $a")"
	[ "$(sql "SELECT state || ':' || attempts || ':' || error FROM mailing_recipients WHERE person_id = $b")" = "failed:1:smtp 550" ] ||
		die "refused recipient"
	[ "$(sql "SELECT state FROM mailing_recipients WHERE person_id = $c")" = sent ] || die "ok recipient"
	hasnt "$T/sent.json" 'example\.fi'
	received >"$T/got"
	[ "$(cat "$T/got")" = ok@example.fi ] || die "received: $(cat "$T/got")"
	# a server that cannot be reached: the send stops, nobody is failed, a later send resumes
	m=$(new_mailing)
	sed -i 's|^smtp_url = .*|smtp_url = smtp://127.0.0.1:9|' "$D/kortisto.conf"
	run 1 "$K" --data "$D" mailing send --register $R "$m" --attempts 1
	has "$T/err" 'resume'
	[ "$(sql "SELECT count(*) FROM mailing_recipients WHERE mailing_id = $m AND state = 'pending'")" = 3 ] ||
		die "not all pending after an unreachable server"
}

# proves M-03, M-05, M-01, M-02, R-12: a mailing made, previewed and sent through the JSON
# API only: a manager makes a subscription list, people subscribe on its public page (one
# never confirms; one is banned and one withdraws after confirming, both through the API), an
# editor drafts a mailing to the list and previews it (counts and reasons, nothing recorded),
# only a manager sends it and lists its recipients, and exactly the one subscriber left
# receives it; a second mailing to the whole register reaches the consenting and contact
# persons besides.
t_mailing_api() {
	setup mapi
	printf '%s\n' "$MPW" >"$T/pw"
	kk user add mgr --password-file "$T/pw" >/dev/null
	kk user grant mgr --register $R --role manager >/dev/null
	kk user add editor --password-file "$T/pw" >/dev/null
	kk user grant editor --register $R --role editor >/dev/null
	serve
	BASE=$HOST/api/v1
	MGR=$(token mgr)
	ED=$(token editor)

	# the list: a manager's step
	local body='{"slug": "talent-uutiset", "name": "Talent Hubin uutiskirje",
		"purpose": "newsletters", "group": "individual", "source": "subject",
		"consent_text": "Haluan Talent Hubin uutiskirjeen.", "consent_version": "2026-1"}'
	api "$ED" POST /lists "$body"
	want 403
	api "$MGR" POST /lists "$body"
	want 201
	local list
	list=$(jq -r .id "$T/body")

	# four subscribe on the public page; Bea never confirms
	local who tok
	for who in anna bea cilla dora; do
		subscribe "$who@example.fi" "${who^}"
	done
	for who in anna cilla dora; do
		tok=$(confirm_token "$who@example.fi")
		[ -n "$tok" ] || die "no confirmation link for $who"
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HOST/p/confirm/$tok")
		[ "$code" = 200 ] || die "confirm $who: $code"
	done
	api "$ED" GET /lists
	want 200
	jq -e --argjson l "$list" '.items == [.items[] | select(.id == $l)] and
		.items[0].subscribers == 3' "$T/body" >/dev/null || {
		show "$T/body"
		die "the list's subscribers"
	}
	local anna cilla dora bea
	anna=$(pid_of anna@example.fi)
	bea=$(pid_of bea@example.fi)
	cilla=$(pid_of cilla@example.fi)
	dora=$(pid_of dora@example.fi)
	# Cilla bans e-mail marketing, Dora withdraws her consent, both through the API
	api "$ED" POST /requests "{\"type\": \"marketing_ban\", \"channel\": \"email\",
		\"person_id\": $cilla, \"details\": {\"channels\": [\"email\"]}}"
	want 201
	local rq
	rq=$(jq -r .id "$T/body")
	api "$ED" POST "/requests/$rq/verify" '{"method": "registered_contact"}'
	want 200
	api "$ED" POST "/requests/$rq/fulfil" '{}'
	want 200
	api "$ED" GET "/persons/$dora/consents"
	want 200
	local cid
	cid=$(jq -r '.items[0].id' "$T/body")
	api "$ED" POST "/consents/$cid/withdraw" '{"how": "email"}'
	want 200
	# besides the list: Iida consents through the API, Kalle is an active contact person
	api "$ED" POST /persons '{"subject_group": "individual", "source": "subject",
		"first_name": "Iida", "last_name": "Testi", "email": "iida@example.fi"}'
	want 201
	local iida kalle org
	iida=$(jq -r .id "$T/body")
	api "$ED" POST "/persons/$iida/consents" '{"purpose": "newsletters", "channel": "email",
		"text": "Haluan Espoon uutiskirjeen", "text_version": "2026-1"}'
	want 201
	api "$ED" POST /persons '{"subject_group": "company_contact", "source": "subject",
		"first_name": "Kalle", "last_name": "Testi", "email": "kalle@example.fi"}'
	want 201
	kalle=$(jq -r .id "$T/body")
	api "$ED" POST /organisations '{"name": "Firma Oy", "source": "subject"}'
	want 201
	org=$(jq -r .id "$T/body")
	api "$ED" POST /affiliations "{\"person_id\": $kalle, \"organisation_id\": $org}"
	want 201

	# the mailing to the list: drafted and previewed by an editor
	rm -f "$T/sink"/*
	api "$ED" POST /mailings "$(jq -cn --argjson l "$list" '{purpose: "newsletters",
		subject: "Uutiskirje {{first_name}}", text: "Hei {{first_name}} {{last_name}}",
		html: "<p>Hei {{first_name}}</p>", audience: {lists: [$l]}}')"
	want 201
	local m
	m=$(jq -r .id "$T/body")
	jq -e '.state == "draft" and .targeted == 0' "$T/body" >/dev/null || die "not a draft"
	api "$ED" GET "/mailings/$m/preview"
	want 200
	# Iida, Kalle and Bea (never confirmed) are not on the list; Cilla is banned; Dora's
	# withdrawal ended her subscription with her last consent for the purpose
	[ "$(sql "SELECT count(*) FROM subscriptions WHERE ended_at IS NOT NULL")" = 1 ] ||
		die "the withdrawal did not end the subscription"
	jq -e --argjson m "$m" '.mailing == $m and .recipients == 1 and
		.excluded == {not_selected: 4, passivated: 0, restricted: 0, banned: 1,
		              purpose_not_declared: 0, no_consent: 0, no_active_role: 0,
		              no_email: 0} and
		(.sample.subject | startswith("Uutiskirje "))' "$T/body" >/dev/null || {
		show "$T/body"
		die "the preview"
	}
	[ "$(sql "SELECT count(*) FROM mailing_recipients")" = 0 ] || die "the preview recorded recipients"
	[ -z "$(received)" ] || die "the preview sent mail"

	# only a manager sends and sees the recipients
	api "$ED" POST "/mailings/$m/send" '{}'
	want 403
	api "$MGR" POST "/mailings/$m/send" '{}'
	want 202
	jq -e '(.state == "sending" or .state == "sent") and .targeted == 1' "$T/body" \
		>/dev/null || {
		show "$T/body"
		die "the answer of the send"
	}
	wait_sent "$MGR" "$m"
	jq -e '.recipients == {sent: 1}' "$T/body" >/dev/null || {
		show "$T/body"
		die "the mailing once sent"
	}
	[ "$(received)" = anna@example.fi ] || {
		received >"$T/got"
		show "$T/got"
		die "the wrong people received the list's mailing"
	}
	for f in "$T/sink"/*.eml; do
		has "$f" '^Subject: Uutiskirje Anna'
		has "$f" '^List-Unsubscribe: <https://kortisto\.example\.fi/p/unsubscribe/'
	done
	api "$ED" GET "/mailings/$m/recipients"
	want 403
	api "$MGR" GET "/mailings/$m/recipients"
	want 200
	jq -e --argjson a "$anna" '.items == [{person_id: $a, state: "sent", attempts: 1,
		sent_at: .items[0].sent_at, error: null}] and (.items[0].sent_at | type) == "string"' \
		"$T/body" >/dev/null || {
		show "$T/body"
		die "the recipients"
	}
	api "$ED" GET "/mailings/$m"
	want 200
	jq -e '.state == "sent" and .targeted == 1 and .recipients == {sent: 1} and
		(.started_by | test(":mgr$"))' "$T/body" >/dev/null || {
		show "$T/body"
		die "the mailing's status"
	}
	api "$MGR" POST "/mailings/$m/send" '{}'
	want 409
	[ "$(received)" = anna@example.fi ] || die "sent twice"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'mailing_send'")" = 1 ] ||
		die "the message sent is not in the usage log"

	# the whole register: Anna, Iida and Kalle; Bea's consent is pending, Dora withdrew
	rm -f "$T/sink"/*
	api "$ED" POST /mailings '{"purpose": "newsletters", "subject": "Kaikille",
		"text": "Hei {{first_name}}"}'
	want 201
	m=$(jq -r .id "$T/body")
	api "$ED" GET "/mailings/$m/preview"
	want 200
	jq -e '.recipients == 3 and .excluded.banned == 1 and .excluded.no_consent == 2 and
		.excluded.not_selected == 0' "$T/body" >/dev/null || {
		show "$T/body"
		die "the preview of the whole register"
	}
	api "$MGR" POST "/mailings/$m/send" '{}'
	want 202
	wait_sent "$MGR" "$m"
	printf 'anna@example.fi\niida@example.fi\nkalle@example.fi\n' >"$T/want"
	received >"$T/got"
	diff "$T/want" "$T/got" >/dev/null || {
		show "$T/got"
		die "the wrong people received the mailing to the register"
	}
	api "$MGR" GET "/mailings/$m/recipients"
	want 200
	jq -e --argjson w "[$anna, $iida, $kalle]" '[.items[] | select(.state == "sent") |
		.person_id] | sort == ($w | sort)' "$T/body" >/dev/null || {
		show "$T/body"
		die "the recipients of the mailing to the register"
	}
	jq -e --argjson x "[$bea, $cilla, $dora]" '[.items[].person_id] - $x == [.items[].person_id]' \
		"$T/body" >/dev/null || die "an excluded person among the recipients"
	api "$ED" GET /mailings
	want 200
	jq -e '[.items[].state] == ["sent", "sent"]' "$T/body" >/dev/null || {
		show "$T/body"
		die "the list of mailings"
	}
}

# proves M-03: a send through the API is answered 202 at once, before the messages leave; the
# mailing's counts show the progress; a second send while it runs is refused as a send of a
# sent mailing is; every recipient receives exactly one message, logged under the manager.
t_background_send() {
	SINK_ARGS="--delay 0.1" managed bg
	consenting 30
	local m
	m=$(new_mailing)
	api "$MGR" POST "/mailings/$m/send" '{}'
	want 202
	cp "$T/body" "$T/accepted.json"
	jq -e --argjson m "$m" '.id == $m and .state == "sending" and .targeted == 30 and
		(.recipients.sent // 0) < 30' "$T/accepted.json" >/dev/null || {
		show "$T/accepted.json"
		die "the answer of the send"
	}
	[ "$(sent_count)" -lt 30 ] || die "the request waited for the whole mailing"
	api "$MGR" POST "/mailings/$m/send" '{}'
	want 409
	jq -e '.status == 409' "$T/body" >/dev/null || {
		show "$T/body"
		die "the refusal of a second send"
	}
	jq -r 'keys | join(",")' "$T/body" >"$T/busy.keys"
	wait_sent "$MGR" "$m" 30
	jq -e '.recipients == {sent: 30} and (.started_by | test(":mgr$"))' "$T/body" \
		>/dev/null || {
		show "$T/body"
		die "the mailing once sent"
	}
	api "$MGR" POST "/mailings/$m/send" '{}'
	want 409
	[ "$(jq -r 'keys | join(",")' "$T/body")" = "$(cat "$T/busy.keys")" ] ||
		die "a send of a mailing being sent is refused unlike one of a sent mailing"
	received >"$T/got"
	seq 1 30 | sed 's/.*/h&@example.fi/' | sort >"$T/want"
	diff "$T/want" "$T/got" >/dev/null || {
		show "$T/got"
		die "not exactly one message to each recipient"
	}
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'mailing_send'
		AND actor LIKE '%:mgr'")" = 30 ] || die "the messages are not logged under the manager"
	grep -q "mailing $m of $R: sent" "$T/server.err" || die "the server did not report the send"
	if grep -q 'h[0-9]*@example' "$T/server.err"; then die "an address in the server's log"; fi
}

# stop_mid_send SIGNAL M: sends mailing M of 24 through the API against a slow sink, stops
# the server with SIGNAL after a few messages, and checks that the send had not finished.
stop_mid_send() {
	api "$MGR" POST "/mailings/$2/send" '{}'
	want 202
	for _ in $(seq 1 400); do
		[ "$(sent_count)" -ge 3 ] && break
		sleep 0.05
	done
	kill "-$1" "$PID"
	local status=0
	wait "$PID" || status=$?
	PID=
	[ "$1" != TERM ] || [ "$status" = 0 ] || {
		show "$T/server.err"
		die "the server did not stop cleanly: $status"
	}
	[ "$(sql "SELECT state FROM mailings WHERE id = $2")" = sending ] ||
		die "the send finished before the server was stopped"
}

# check_resumed M MAXUNKNOWN: mailing M of 24 was sent, nobody received it twice, at most
# MAXUNKNOWN rows are unknown.
check_resumed() {
	received >"$T/got"
	[ -z "$(uniq -d "$T/got")" ] || {
		show "$T/got"
		die "someone received mailing $1 twice"
	}
	local unknown sent
	unknown=$(sql "SELECT count(*) FROM mailing_recipients WHERE mailing_id = $1 AND state = 'unknown'")
	sent=$(sql "SELECT count(*) FROM mailing_recipients WHERE mailing_id = $1 AND state = 'sent'")
	[ "$unknown" -le "$2" ] || die "$unknown rows unknown"
	[ $((sent + unknown)) = 24 ] || die "sent $sent + unknown $unknown is not 24"
	[ "$(wc -l <"$T/got")" = $((sent + unknown)) ] || [ "$(wc -l <"$T/got")" = "$sent" ] ||
		die "$(wc -l <"$T/got") messages for $sent rows sent"
	jq -e '.state == "sent"' "$T/body" >/dev/null || die "not finished"
}

# proves M-03: a server stopped (SIGTERM) in the middle of a background send stops after its
# message in progress and exits cleanly; started again, it resumes the send by itself and
# nobody receives two messages. Killed (SIGKILL) instead, the message that may have left is
# marked unknown and not sent again.
t_stop_and_resume() {
	SINK_ARGS="--delay 0.2" managed resume
	consenting 24
	local m
	m=$(new_mailing)
	stop_mid_send TERM "$m"
	grep -q "mailing $m of $R: stopped" "$T/server.err" || {
		show "$T/server.err"
		die "the sender did not stop"
	}
	[ "$(sql "SELECT count(*) FROM mailing_recipients WHERE mailing_id = $m
		AND state IN ('sending', 'unknown')")" = 0 ] || die "a message left in progress"
	[ "$(sent_count)" -lt 24 ] || die "the send finished before the server was stopped"
	serve
	wait_sent "$MGR" "$m" 30
	grep -q "resuming 1 mailing" "$T/server.err" || die "the server did not say it resumes"
	check_resumed "$m" 0
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'mailing_send'
		AND actor = 'system:mailer'")" -ge 1 ] || die "the resumed messages are not logged"

	# the same, killed
	rm -f "$T/sink"/*
	m=$(new_mailing)
	stop_mid_send KILL "$m"
	serve
	wait_sent "$MGR" "$m" 30
	check_resumed "$m" 1
	jq -e '.started_by | test(":mgr$")' "$T/body" >/dev/null || die "who started it is lost"
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
run_tests "marketing" bash "$0" t_mixed_register t_passivated_not_resubscribed \
	t_unsubscribe_stops_next t_opens_logged t_mailing_api t_background_send t_stop_and_resume \
	t_kill_and_resume t_consent_api t_double_opt_in t_placeholders t_subscribe_page \
	t_retries_and_failures
