#!/usr/bin/env bash
# Black-box tests of self-service for data subjects (/p/me, R-05): the real binary
# ($KORTISTO_BIN) serving a fresh data directory on 127.0.0.1 with mail going to the test SMTP
# server tests/api/smtp_sink.py on 127.0.0.1. A test asks for a link as a browser would
# (curl with a cookie jar, forms posted as application/x-www-form-urlencoded), reads the
# mail the sink received to follow the link, and checks what the session did in the database
# with the sqlite3 tool. Each test runs in a process of its own (this script with --one TEST)
# so `set -e` stops it at its first failed check. Tests name the promise they prove.
set -euo pipefail

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir selfservice "${1:-}"

PW=kortisto-omat-tiedot-testaaja-1
PUBLIC=https://kortisto.example.fi
MAIJA=maija.meikalainen@example.fi
PID=
SINK=

# ------------------------------------------------------------------------------------ helpers

sql() {
	sqlite3 -batch "$D/kortisto.db" "$1"
}

# sink: starts the SMTP sink on a free port, writing what it receives to $T/mail.
sink() {
	local port=
	mkdir -p "$T/mail"
	rm -f "$T/sink.out" # an old port would be read before the new sink writes
	python3 "$REPO/tests/api/smtp_sink.py" "$T/mail" >"$T/sink.out" 2>"$T/sink.err" </dev/null &
	SINK=$!
	for _ in $(seq 1 200); do
		port=$(head -n 1 "$T/sink.out" 2>/dev/null || true)
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || die "the SMTP sink did not start"
	SINK_PORT=$port
}

# setup: a data directory D with rauma-crm and kemi-crm, mail to the sink, public_url set,
# a manager "mgr" of rauma-crm, and the sink running.
setup() {
	D=$T/data
	"$K" init "$D" >/dev/null
	for r in rauma-crm kemi-crm; do
		"$K" --data "$D" register load "$REPO/registers/$r.yaml" >/dev/null 2>&1 ||
			die "register load $r"
	done
	printf '%s\n' "$PW" >"$T/pw"
	"$K" --data "$D" user add mgr --password-file "$T/pw" >/dev/null 2>&1 || die "user add"
	"$K" --data "$D" user grant mgr --register rauma-crm --role manager >/dev/null 2>&1 ||
		die "user grant"
	sink
	sed -i -e "s|^smtp_url =.*|smtp_url = smtp://127.0.0.1:$SINK_PORT|" \
		-e "s|^mail_from =.*|mail_from = asiakasrekisteri@rauma.example.fi|" \
		-e "s|^public_url =.*|public_url = $PUBLIC|" "$D/kortisto.conf"
}

# serve [GLOBAL-OPTION...]: starts `kortisto serve` on a free port; sets PID and URL.
serve() {
	start_server "$@"
	URL=$ROOT
}

stop_all() {
	stop
	if [ -n "$SINK" ]; then
		kill "$SINK" 2>/dev/null || true
		wait "$SINK" 2>/dev/null || true
		SINK=
	fi
}

# token: a new API token of mgr, who has signed in and accepted the commitment.
token() {
	local csrf v
	rm -f "$T/staffjar"
	curl -s -o "$T/session.json" -c "$T/staffjar" -H 'Content-Type: application/json' \
		-d "{\"name\":\"mgr\",\"password\":\"$PW\"}" "$URL/api/v1/session"
	csrf=$(jq -r .csrf "$T/session.json")
	v=$(curl -s -b "$T/staffjar" "$URL/api/v1/me/commitment" | jq .version)
	curl -s -o /dev/null -b "$T/staffjar" -H "X-CSRF-Token: $csrf" \
		-H 'Content-Type: application/json' -d "{\"version\":$v}" "$URL/api/v1/me/commitment"
	"$K" --data "$D" token create --user mgr 2>/dev/null
}

# maija: Maija in rauma-crm (through the API as mgr); sets MAIJA_ID.
maija() {
	local tok
	tok=$(token)
	MAIJA_ID=$(curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		-d '{"subject_group":"consenting_person","source":"customer","first_name":"Maija",
		     "last_name":"Meikäläinen","email":"Maija.Meikalainen@example.fi"}' \
		"$URL/api/v1/registers/rauma-crm/persons" | jq -r .id)
	[ -n "$MAIJA_ID" ] && [ "$MAIJA_ID" != null ] || die "Maija was not created"
}

# page METHOD PATH [FORM-FIELD...]: a browser request with the cookie jar $T/jar; the body
# goes to $T/body, the headers to $T/headers, the status to $CODE.
page() {
	local m=$1 p=$2
	shift 2
	local args=()
	for f in "$@"; do
		args+=(--data-urlencode "$f")
	done
	CODE=$(curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" -b "$T/jar" \
		-c "$T/jar" "${args[@]}" "$URL$p")
}

want() {
	[ "$CODE" = "$1" ] || {
		show "$T/body"
		die "status $CODE, expected $1"
	}
}

# ask ADDRESS: asks for a link for ADDRESS.
ask() {
	page POST "/p/me?lang=en" "email=$1"
}

# mail N: waits for the N-th message of the sink; prints its decoded text.
mail() {
	for _ in $(seq 1 200); do
		[ -f "$T/mail/$1.eml" ] && break
		sleep 0.05
	done
	[ -f "$T/mail/$1.eml" ] || die "no mail number $1 arrived"
	python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(m["To"])
print(m.get_payload(decode=True).decode("utf-8"))' "$T/mail/$1.eml"
}

# link N: the token of the link in the N-th mail.
link() {
	mail "$1" | grep -o "$PUBLIC/p/me/link?t=[A-Za-z0-9_-]*" | head -n 1 | sed 's/.*t=//'
}

# open_link TOKEN: opens the link as a browser does (the page, then its button).
open_link() {
	page GET "/p/me/link?t=$1&lang=en"
	want 200
	has "$T/body" "name=\"t\" value=\"$1\""
	page POST "/p/me/link?lang=en" "t=$1"
}

# signed_in: asks for a link for Maija, follows it, and leaves the session in $T/jar.
signed_in() {
	ask "$MAIJA"
	want 200
	open_link "$(link 1)"
	want 303
	page GET "/p/me/session?lang=en"
	want 200
	CSRF=$(sed -n 's|.*name="csrf" value="\([0-9a-f]*\)".*|\1|p' "$T/body" | head -n 1)
	[ ${#CSRF} = 64 ] || die "no CSRF token on the session page"
}

# ------------------------------------------------------------------------------------ tests

# proves R-05: the page answers the same for a known and an unknown address (no
# enumeration), and mails a link only to the known one
t_same_answer_known_unknown() {
	setup
	serve
	maija
	ask nobody@example.fi
	want 200
	cp "$T/body" "$T/unknown.html"
	ask "$MAIJA"
	want 200
	diff -u "$T/unknown.html" "$T/body" >&2 || die "the answers differ"
	mail 1 >"$T/m1"
	has "$T/m1" "^$MAIJA\$"
	has "$T/m1" "15 minutes"
	sleep 0.5
	[ ! -f "$T/mail/2.eml" ] || die "a mail was sent for an unknown address"
	# nothing of the address is stored
	[ "$(sql "SELECT count(*) FROM selfservice_tokens WHERE subjects LIKE '%maija%'")" = 0 ] ||
		die "the address is stored"
	hasnt "$T/server.err" "maija|nobody"
}

# proves R-05: asking is rate limited per address, whether it is known or not
t_rate_limit() {
	setup
	serve
	maija
	for a in "$MAIJA" nobody@example.fi; do
		for _ in 1 2 3; do
			ask "$a"
			want 200
		done
		ask "$a"
		want 429
		has "$T/headers" '^Retry-After: [0-9]+'
		has "$T/body" "Too many links"
	done
	# another address from the same client still gets its answer
	ask other@example.fi
	want 200
}

# proves R-05: the mailed link opens once, starts a session with a safe cookie, and lists
# the registers the person is in with their notices
t_link_works_once() {
	setup
	serve
	maija
	ask "$MAIJA"
	tok=$(link 1)
	[ ${#tok} = 43 ] || die "no token in the mail"
	open_link "$tok"
	want 303
	has "$T/headers" '^Set-Cookie: kortisto_me=[A-Za-z0-9_-]{43}; Path=/p/me; Max-Age=1800; HttpOnly; SameSite=Strict'
	has "$T/headers" '^Location: /p/me/session'
	page GET "/p/me/session?lang=en"
	want 200
	has "$T/body" 'href="/p/registers/rauma-crm/notice\?lang=en"'
	has "$T/body" '<main>'
	hasnt "$T/body" 'kemi-crm'
	has "$T/headers" "^Content-Security-Policy: default-src 'self'"
	# the second time the link is refused
	rm -f "$T/jar"
	page POST "/p/me/link?lang=en" "t=$tok"
	want 409
	page GET "/p/me/session"
	want 401
	[ "$(sql "SELECT count(*) FROM usage_log WHERE actor = 'system:selfservice'
		AND action = 'signin' AND entity_id = $MAIJA_ID")" = 1 ] || die "the sign-in is not logged"
}

# proves R-05: a link is valid 15 minutes by the server's clock (--now)
t_link_expires() {
	setup
	serve --now 2026-03-02T10:00:00Z
	maija
	ask "$MAIJA"
	ask "$MAIJA"
	a=$(link 1)
	b=$(link 2)
	stop
	serve --now 2026-03-02T10:14:59Z
	open_link "$a"
	want 303
	stop
	rm -f "$T/jar"
	serve --now 2026-03-02T10:15:00Z
	open_link "$b"
	want 404
	has "$T/body" "expired, been used"
}

# proves R-01: the session downloads the person's access export, as JSON and as a letter,
# logged as an export by the self-service actor
t_export_download() {
	setup
	serve
	maija
	signed_in
	page GET "/p/me/export?register=rauma-crm&format=json"
	want 200
	[ "$(jq -r .subject.id "$T/body")" = "$MAIJA_ID" ] || die "not Maija's export"
	[ "$(jq -r '.contact_points[] | select(.kind == "email") | .value' "$T/body")" = "$MAIJA" ] ||
		die "the export lacks the address"
	has "$T/headers" '^Content-Disposition: attachment'
	page GET "/p/me/export?register=rauma-crm&format=html&lang=sv"
	want 200
	has "$T/body" '<html lang="sv"'
	# a register she is not in
	page GET "/p/me/export?register=kemi-crm"
	want 404
	[ "$(sql "SELECT count(*) FROM usage_log WHERE actor = 'system:selfservice'
		AND action = 'export' AND entity_id = $MAIJA_ID")" = 2 ] || die "exports not logged"
}

# proves R-01 across registers: a person in two registers downloads one JSON document with
# the access export of each, both logged; a letter is per register (400 for all)
t_export_all() {
	setup
	"$K" --data "$D" user grant mgr --register kemi-crm --role manager >/dev/null 2>&1 ||
		die "user grant kemi-crm"
	serve
	maija
	local tok kemi
	tok=$(token)
	kemi=$(curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
		-d '{"subject_group":"partner_contact","source":"subject","first_name":"Maija",
		     "last_name":"Meikäläinen","email":"maija.meikalainen@example.fi"}' \
		"$URL/api/v1/registers/kemi-crm/persons" | jq -r .id)
	[ -n "$kemi" ] && [ "$kemi" != null ] || die "Maija was not created in kemi-crm"
	signed_in
	has "$T/body" 'register=all&amp;format=json'
	page GET "/p/me/export?register=all&format=json"
	want 200
	[ "$(jq -r '[.registers[].register] | sort | join(",")' "$T/body")" = "kemi-crm,rauma-crm" ] ||
		die "not both registers"
	[ "$(jq -r '.registers[] | select(.register == "kemi-crm") | .export.subject.id' "$T/body")" = "$kemi" ] ||
		die "not Maija's kemi-crm export"
	[ "$(jq -r '.registers[] | select(.register == "rauma-crm") | .export.subject.id' "$T/body")" = "$MAIJA_ID" ] ||
		die "not Maija's rauma-crm export"
	page GET "/p/me/export?register=all&format=html"
	want 400
	[ "$(sql "SELECT count(*) FROM usage_log WHERE actor = 'system:selfservice'
		AND action = 'export' AND entity_id IN ($MAIJA_ID, $kemi)")" = 2 ] || die "exports not logged"
}

# proves R-11: the marketing ban set in the session is in the database at once, the
# request behind it verified by email_link; a form without the CSRF token does nothing
t_marketing_ban() {
	setup
	serve
	maija
	signed_in
	page POST "/p/me/requests?lang=en" "register=rauma-crm" "type=marketing_ban"
	want 403
	[ "$(sql "SELECT count(*) FROM requests")" = 0 ] || die "filed without CSRF token"
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" "type=marketing_ban"
	want 200
	has "$T/body" 'carried out'
	[ "$(sql "SELECT channel FROM marketing_bans WHERE register_id = 'rauma-crm'
		AND person_id = $MAIJA_ID")" = all ] || die "no ban"
	[ "$(sql "SELECT channel || ' ' || verify_method || ' ' || state || ' ' || verified_by
		FROM requests")" = "self_service email_link fulfilled system:selfservice" ] ||
		die "the request is not as filed"
}

# proves R-05: any request filed in the session is verified by the mailed link
# (method email_link), ready for the staff to fulfil
t_request_verified() {
	setup
	serve
	maija
	signed_in
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" "type=erasure" \
		"note=please forget me"
	want 200
	id=$(sed -n 's|.*<span id="request-id">\([0-9]*\)</span>.*|\1|p' "$T/body")
	[ "$(sql "SELECT type || ' ' || channel || ' ' || verify_method || ' ' || state
		FROM requests WHERE id = $id")" = "erasure self_service email_link verified" ] ||
		die "the erasure request is not verified by email_link"
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" \
		"type=rectification" "field=last_name" "value=Virtanen"
	want 200
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" "type=forget"
	want 400
	[ "$(sql "SELECT count(*) FROM requests WHERE verify_method = 'email_link'")" = 2 ] ||
		die "two requests should be verified"
}

# proves R-12: withdrawing consent in the session stops the processing at once: Maija, on
# consent only, is erased
t_consent_withdrawal() {
	setup
	serve
	maija
	signed_in
	# with no consent in force the form says so, and what withdrawing does
	has "$T/body" '<p>You have no consents in force in this register.</p>'
	has "$T/body" 'when there is no other basis, your data is erased'
	hasnt "$T/body" 'name="purpose"'
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" \
		"type=consent_withdrawal"
	want 200
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $MAIJA_ID")" = 0 ] ||
		die "Maija was not erased"
	[ "$(sql "SELECT state FROM requests")" = fulfilled ] || die "not fulfilled"
}

# give PURPOSE CHANNEL [OPTION...]: a consent of Maija in rauma-crm (kortisto consent give);
# prints its id.
give() {
	local purpose=$1 channel=$2
	shift 2
	"$K" --data "$D" consent give --register rauma-crm "$MAIJA_ID" purpose="$purpose" \
		channel="$channel" text="Suostun" text_version=2026-1 "$@" >"$T/consent.json" \
		2>"$T/consent.err" || {
		show "$T/consent.err"
		die "consent give $purpose $channel"
	}
	jq -r .id "$T/consent.json"
}

# proves R-11: the session bans direct marketing on the channels ticked only: a ban of sms
# leaves e-mail allowed
t_ban_one_channel() {
	setup
	serve
	maija
	signed_in
	# the form offers each channel and all, each labelled, in a fieldset
	for ch in email post phone sms all; do
		has "$T/body" "<input type=\"checkbox\" id=\"ban-0-$ch\" name=\"channel\" value=\"$ch\"> <label for=\"ban-0-$ch\">"
	done
	has "$T/body" '<fieldset><legend>Ban direct marketing</legend>'
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" "type=marketing_ban" \
		"channel=sms"
	want 200
	has "$T/body" 'carried out'
	[ "$(sql "SELECT group_concat(channel) FROM marketing_bans WHERE register_id = 'rauma-crm'
		AND person_id = $MAIJA_ID")" = sms ] || die "not a ban of sms only"
	[ "$(sql "SELECT count(*) FROM marketing_bans WHERE channel IN ('email', 'all')")" = 0 ] ||
		die "e-mail is banned too"
	# the page shows the ban in force, and its reading is logged as the person's own
	page GET "/p/me/session?lang=en"
	want 200
	has "$T/body" 'Your direct-marketing ban is in force on these channels:</p>'
	has "$T/body" '<ul class="bans">'$'\n''<li>Text message</li>'
	[ "$(sql "SELECT count(*) FROM usage_log WHERE entity = 'marketing_ban' AND action = 'read'
		AND reason = 'self_service'")" -ge 1 ] || die "the read of the bans is not logged"
	# two channels, named twice, are two bans; "all" among them is every channel
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" "type=marketing_ban" \
		"channel=post" "channel=phone" "channel=post"
	want 200
	[ "$(sql "SELECT group_concat(channel, ',') FROM (SELECT channel FROM marketing_bans
		ORDER BY channel)")" = phone,post,sms ] || die "not the bans of post and phone"
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" "type=marketing_ban" \
		"channel=email" "channel=all"
	want 200
	[ "$(sql "SELECT count(*) FROM marketing_bans WHERE channel = 'all'")" = 1 ] ||
		die "all was not banned"
	page GET "/p/me/session?lang=en"
	has "$T/body" 'Your direct-marketing ban is in force on every channel.'
	[ "$(sql "SELECT count(*) FROM requests WHERE type = 'marketing_ban'
		AND state = 'fulfilled' AND verify_method = 'email_link'")" = 3 ] ||
		die "the bans are not fulfilled requests verified by the link"
}

# proves R-12: the page lists the person's consents in force by their purposes' names,
# and withdrawing one purpose leaves the other in force (and the person in the register)
t_withdraw_one_consent() {
	setup
	serve
	maija
	local contact info pending
	contact=$(give customer_contact email)
	info=$(give information sms)
	pending=$(give municipal_services post source=form)
	signed_in
	has "$T/body" '<fieldset><legend>Withdraw my consent</legend>'
	has "$T/body" 'name="purpose" value="customer_contact"> <label for="purpose-0-[0-9]+"><span>keeping in contact with customers</span>: E-mail, given [0-9]+ [A-Z][a-z]+ [0-9]{4}</label>'
	has "$T/body" 'name="purpose" value="information"> <label for="purpose-0-[0-9]+"><span>communications and the like</span>: Text message, given'
	has "$T/body" 'name="purpose" value="all"> <label for="purpose-0-all">All my consents</label>'
	# a pending consent is not in force
	hasnt "$T/body" 'value="municipal_services"'
	# shown in the page's language
	page GET "/p/me/session?lang=sv"
	want 200
	has "$T/body" '<span>kontakt med kunderna</span>: E-post, givet [0-9]+\.[0-9]+\.[0-9]{4}'
	# the reads of the consents are logged as the person's own
	[ "$(sql "SELECT count(*) FROM usage_log WHERE actor = 'system:selfservice'
		AND action = 'read' AND entity = 'consent' AND reason = 'self_service'")" = 2 ] ||
		die "the reads of the consents are not logged"
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" \
		"type=consent_withdrawal" "purpose=information"
	want 200
	has "$T/body" 'carried out'
	[ "$(sql "SELECT withdrawn_at IS NOT NULL FROM consents WHERE id = $info")" = 1 ] ||
		die "the consent of information was not withdrawn"
	[ "$(sql "SELECT withdrawn_at IS NULL AND state = 'confirmed' FROM consents
		WHERE id = $contact")" = 1 ] || die "the consent of customer_contact is not in force"
	[ "$(sql "SELECT withdrawn_at IS NULL FROM consents WHERE id = $pending")" = 1 ] ||
		die "the pending consent of another purpose was withdrawn"
	[ "$(sql "SELECT count(*) FROM persons WHERE id = $MAIJA_ID")" = 1 ] ||
		die "Maija was erased though a consent is left"
	[ "$(sql "SELECT state FROM requests")" = fulfilled ] || die "not fulfilled"
	# the page now lists the consent in force only
	page GET "/p/me/session?lang=en"
	want 200
	has "$T/body" 'value="customer_contact"'
	hasnt "$T/body" 'value="information"'
}

# proves R-11, R-12: a channel or purpose the forms do not offer is refused, naming the
# field, and nothing is filed
t_choice_refused() {
	setup
	serve
	maija
	give customer_contact email >/dev/null
	signed_in
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" "type=marketing_ban" \
		"channel=sms" "channel=fax"
	want 400
	has "$T/body" '<p role="alert">'
	has "$T/body" '<p lang="en">channel: not a channel'
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" \
		"type=consent_withdrawal" "purpose=newsletters"
	want 400
	has "$T/body" '<p lang="en">purpose: not a purpose'
	page POST "/p/me/requests?lang=en" "csrf=$CSRF" "register=rauma-crm" \
		"type=consent_withdrawal" "purpose=<b>x</b>"
	want 400
	hasnt "$T/body" '<b>x</b>'
	[ "$(sql "SELECT count(*) FROM requests")" = 0 ] || die "a request was filed"
	[ "$(sql "SELECT count(*) FROM marketing_bans")" = 0 ] || die "a ban was set"
	[ "$(sql "SELECT count(*) FROM consents WHERE withdrawn_at IS NOT NULL")" = 0 ] ||
		die "a consent was withdrawn"
}

# The pages speak the asker's language, label their fields, and the session ends on sign-out.
t_pages_and_signout() {
	setup
	serve
	maija
	page GET "/p/me?lang=sv"
	want 200
	has "$T/body" '<html lang="sv"'
	has "$T/body" '<label for="email">E-postadress</label>'
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' -H 'Accept-Language: fi-FI' "$URL/p/me")
	has "$T/body" '<html lang="fi"'
	page POST "/p/me" "email=not an address"
	want 400
	signed_in
	page POST "/p/me/signout" "csrf=$CSRF"
	want 200
	has "$T/headers" '^Set-Cookie: kortisto_me=; Path=/p/me; Max-Age=0'
	page GET "/p/me/session"
	want 401
	[ "$(sql "SELECT count(*) FROM selfservice_tokens WHERE kind = 'session'")" = 0 ] ||
		die "the session is still stored"
}

# Without public_url, self-service is off and says so.
t_off_without_public_url() {
	setup
	sed -i "s|^public_url =.*|public_url =|" "$D/kortisto.conf"
	serve
	page POST "/p/me" "email=$MAIJA"
	want 503
	# A query cannot take a path after it: refused, naming the key.
	sed -i "s|^public_url =.*|public_url = https://x.example/?a=1|" "$D/kortisto.conf"
	run 1 "$K" --data "$D" register list
	has "$T/err" "public_url"
	# A trailing slash is dropped, so the links have no double slash.
	sed -i "s|^public_url =.*|public_url = https://x.example/|" "$D/kortisto.conf"
	run 0 "$K" --data "$D" register list
}

# ------------------------------------------------------------------------------------ runner

if [ "${1:-}" = --one ]; then
	cd "$REPO"
	trap stop_all EXIT
	T=$T/$2
	mkdir -p "$T"
	"$2"
	exit 0
fi

for tool in sqlite3 curl jq python3; do
	command -v $tool >/dev/null || {
		echo "the $tool command-line tool is needed" >&2
		exit 1
	}
done
run_tests "self-service" bash "$0" t_same_answer_known_unknown t_rate_limit t_link_works_once \
	t_link_expires t_export_download t_export_all t_marketing_ban t_request_verified t_consent_withdrawal \
	t_ban_one_channel t_withdraw_one_consent t_choice_refused \
	t_pages_and_signout t_off_without_public_url
