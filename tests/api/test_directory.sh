#!/usr/bin/env bash
# Black-box tests of the public company directory (F-05): the real binary ($KORTISTO_BIN)
# serving a fresh data directory on 127.0.0.1, staff setting listings with `kortisto
# directory`, the public searching /p/directory and /api/v1/directory with curl, and a
# company editing its own listing through the single-use link mailed to its registered
# contact address, read from the test SMTP server tests/api/smtp_sink.py. Each test runs in a
# process of its own (this script with --one TEST). Tests name the promise they prove.
set -euo pipefail

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir directory "${1:-}"

PUBLIC=https://kortisto.example.fi
CONTACT=info@rauman-kala.example.fi
PID=
SINK=

sql() {
	sqlite3 -batch "$D/kortisto.db" "$1"
}

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

# setup [contacts]: rauma-crm (which declares the directory) and kemi-crm (which does not),
# two organisations of rauma-crm, one with a person (affiliation $AFF), mail to the sink.
# With `contacts`, rauma-crm is loaded as a variant whose recipient company_directory allows
# contact persons (contact_persons: true); the sample itself does not.
setup() {
	D=$T/data
	"$K" init "$D" >/dev/null
	local rauma=$REPO/registers/rauma-crm.yaml
	if [ "${1:-}" = contacts ]; then
		rauma=$T/rauma-contacts.yaml
		sed -e '/^  - id: company_directory$/,/^  - id:/ s/^    kind: recipient$/&\n    contact_persons: true/' \
			"$REPO/registers/rauma-crm.yaml" >"$rauma"
		[ "$(grep -c '^    contact_persons: true$' "$rauma")" = 1 ] || die "the variant"
	fi
	for r in "$rauma" "$REPO/registers/kemi-crm.yaml"; do
		"$K" --data "$D" register load "$r" >/dev/null 2>&1 || die "register load $r"
	done
	ORG=$("$K" --data "$D" org add --register rauma-crm name='Rauman Kala Oy' \
		source=customer ytunnus=1234567-1 website=https://rauman-kala.example.fi \
		visiting_address='Satamakatu 1' 2>"$T/err") || { show "$T/err"; die "org add"; }
	OTHER=$("$K" --data "$D" org add --register rauma-crm name='Hiljainen Oy' \
		source=customer 2>/dev/null)
	KEMI_ORG=$("$K" --data "$D" org add --register kemi-crm name='Kemin Kone Oy' \
		source=subject 2>/dev/null)
	P=$("$K" --data "$D" person add --register rauma-crm subject_group=organisation_contact \
		source=customer first_name=Pekka last_name=Pernaa email=pekka.pernaa@example.fi \
		2>/dev/null)
	AFF=$("$K" --data "$D" affiliation add --register rauma-crm person_id:="$P" \
		organisation_id:="$ORG" title=toimitusjohtaja 2>/dev/null) || die "affiliation add"
	sink
	sed -i -e "s|^smtp_url =.*|smtp_url = smtp://127.0.0.1:$SINK_PORT|" \
		-e "s|^mail_from =.*|mail_from = yrityspalvelut@rauma.example.fi|" \
		-e "s|^public_url =.*|public_url = $PUBLIC|" "$D/kortisto.conf"
}

serve() {
	start_server "$@"
	URL=$ROOT
}

stop_all() {
	for p in "$PID" "$SINK"; do
		if [ -n "$p" ]; then
			kill "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	PID=
	SINK=
}

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

# api QUERY: GET /api/v1/directory?QUERY into $T/body.
api() {
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' "$URL/api/v1/directory?$1")
}

link() {
	for _ in $(seq 1 200); do
		[ -f "$T/mail/$1.eml" ] && break
		sleep 0.05
	done
	[ -f "$T/mail/$1.eml" ] || die "no mail number $1 arrived"
	python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(m["To"])
print(m.get_payload(decode=True).decode("utf-8"))' "$T/mail/$1.eml" >"$T/mail$1.txt"
	grep -o "$PUBLIC/p/directory/edit/link?t=[A-Za-z0-9_-]*" "$T/mail$1.txt" | head -n 1 |
		sed 's/.*t=//'
}

# ------------------------------------------------------------------------------------ tests

# proves F-05: listing is the company's choice: an organisation is not listed by default,
# and a listed one shows only what its listing allows, never a person
t_default_not_listed() {
	setup
	serve
	api ""
	[ "$(jq '.items | length' "$T/body")" = 0 ] || die "listed by default"
	"$K" --data "$D" directory set --register rauma-crm "$ORG" listed:=true \
		description='Tuoretta kalaa satamasta' field_of_business=kalatukku \
		municipality=Rauma >"$T/out" 2>"$T/err" || { show "$T/err"; die "directory set"; }
	api ""
	[ "$(jq -r '.items | map(.name) | join(",")' "$T/body")" = "Rauman Kala Oy" ] ||
		{ show "$T/body"; die "only the listed company"; }
	[ "$(jq -r '.items[0] | has("website") or has("address") or has("email")' "$T/body")" = false ] ||
		die "channels shown that the listing does not allow"
	hasnt "$T/body" 'Pekka|Pernaa|pekka'
	page GET "/p/directory?lang=en&field=kala"
	want 200
	has "$T/body" '<h2>Rauman Kala Oy</h2>'
	hasnt "$T/body" 'Hiljainen|Pekka|Pernaa|toimitusjohtaja'
	api "q=hiljainen"
	[ "$(jq '.items | length' "$T/body")" = 0 ] || die "an unlisted company found"
	api "municipality=Turku"
	[ "$(jq '.items | length' "$T/body")" = 0 ] || die "the municipality filter"
	# a register that does not declare the directory cannot list
	run 1 "$K" --data "$D" directory set --register kemi-crm "$KEMI_ORG" listed:=true
	has "$T/err" 'company directory'
}

# proves F-05: the company changes its own listing through the single-use link mailed to
# its registered contact address; the edit is in the change history and the usage log
t_company_edits_through_mailed_link() {
	setup
	"$K" --data "$D" directory set --register rauma-crm "$ORG" contact_email="$CONTACT" \
		>/dev/null 2>&1 || die "set contact"
	serve
	# the same answer for an address that is not registered
	page POST "/p/directory/edit?lang=en" "email=nobody@example.fi"
	want 200
	cp "$T/body" "$T/unknown.html"
	page POST "/p/directory/edit?lang=en" "email=$CONTACT"
	want 200
	diff -u "$T/unknown.html" "$T/body" >&2 || die "the answers differ"
	tok=$(link 1)
	has "$T/mail1.txt" "^$CONTACT\$"
	[ ${#tok} = 43 ] || die "no token in the mail"
	page GET "/p/directory/edit/link?t=$tok&lang=en"
	want 200
	page POST "/p/directory/edit/link?lang=en" "t=$tok"
	want 303
	has "$T/headers" '^Set-Cookie: kortisto_dir=[A-Za-z0-9_-]{43}; Path=/p/directory/edit; Max-Age=1800; HttpOnly; SameSite=Strict'
	page GET "/p/directory/edit/listing?lang=en"
	want 200
	has "$T/body" '<h2>Rauman Kala Oy</h2>'
	hasnt "$T/body" "$CONTACT"
	csrf=$(sed -n 's|.*name="csrf" value="\([0-9a-f]*\)".*|\1|p' "$T/body" | head -n 1)
	page POST "/p/directory/edit/listing?lang=en" "listed=1" "description=Kalaa" \
		"field_of_business=kalatukku" "municipality=Rauma" "show_website=1"
	want 403
	page POST "/p/directory/edit/listing?lang=en" "csrf=$csrf" "listed=1" \
		"description=Kalaa joka päivä" "field_of_business=kalatukku" "municipality=Rauma" \
		"show_website=1" "public_phone=02 123 4567"
	want 200
	has "$T/body" 'Saved'
	api "q=kala"
	[ "$(jq -r '.items[0].website' "$T/body")" = https://rauman-kala.example.fi ] ||
		{ show "$T/body"; die "the website is not shown"; }
	[ "$(jq -r '.items[0].phone' "$T/body")" = +35821234567 ] || die "the phone is not shown"
	[ "$(jq -r '.items[0].description' "$T/body")" = "Kalaa joka päivä" ] || die "description"
	[ "$(sql "SELECT count(*) FROM change_history WHERE entity = 'organisation'
		AND entity_id = $ORG AND field = 'directory.listed' AND old_value = '0'
		AND new_value = '1' AND actor = 'system:selfservice'")" = 1 ] ||
		die "the change is not in the history"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE actor = 'system:selfservice'
		AND action = 'update' AND entity = 'organisation' AND entity_id = $ORG")" = 1 ] ||
		die "the change is not in the usage log"
	# the company hides itself again
	page POST "/p/directory/edit/listing?lang=en" "csrf=$csrf" "description=Kalaa"
	want 200
	api ""
	[ "$(jq '.items | length' "$T/body")" = 0 ] || die "still listed"
	# the link opened once; the company cannot change its contact address
	rm -f "$T/jar"
	page POST "/p/directory/edit/link?lang=en" "t=$tok"
	want 409
	page GET "/p/directory/edit/listing"
	want 401
}

# proves F-05: the editing link expires after 15 minutes (--now)
t_link_expires() {
	setup
	"$K" --data "$D" directory set --register rauma-crm "$ORG" contact_email="$CONTACT" \
		>/dev/null 2>&1 || die "set contact"
	serve --now 2026-06-01T08:00:00Z
	page POST "/p/directory/edit" "email=$CONTACT"
	want 200
	tok=$(link 1)
	kill "$PID"
	wait "$PID" 2>/dev/null || true
	serve --now 2026-06-01T08:15:00Z
	page POST "/p/directory/edit/link" "t=$tok"
	want 404
}

# person FIRST LAST ORG TITLE: adds a contact person of ORG; prints the affiliation id.
person() {
	local p
	p=$("$K" --data "$D" person add --register rauma-crm subject_group=organisation_contact \
		source=customer first_name="$1" last_name="$2" 2>/dev/null) || die "person add $1"
	"$K" --data "$D" affiliation add --register rauma-crm person_id:="$p" \
		organisation_id:="$3" title="$4" 2>/dev/null || die "affiliation add $1"
}

# person_of AFF: the person of affiliation AFF.
person_of() {
	sql "SELECT person_id FROM affiliations WHERE id = $1"
}

# shown: the names of the contact persons /api/v1/directory shows, "name/title;…".
shown() {
	api ""
	want 200
	jq -r '[.items[] | .contacts // [] | .[] | "\(.name)/\(.title // "")"] | join(";")' "$T/body"
}

# proves F-05: nothing about a person appears unless the declaration allows contact persons:
# the sample's does not, so publishing one is refused and nothing is shown
t_contacts_need_the_declaration() {
	setup
	run 0 "$K" --data "$D" directory set --register rauma-crm "$ORG" listed:=true
	run 1 "$K" --data "$D" directory set --register rauma-crm "$ORG" contacts="$AFF"
	has "$T/err" 'contacts: .*does not allow contact persons'
	[ "$(sql "SELECT count(*) FROM directory_contacts")" = 0 ] || die "a contact was kept"
	run 0 "$K" --data "$D" directory show --register rauma-crm "$ORG"
	[ "$(jq 'has("contacts")' "$T/out")" = false ] || die "persons offered to choose from"
	# a row put in behind kortisto's back is still not shown
	sql "INSERT INTO directory_contacts VALUES ('rauma-crm', $ORG, $AFF, '2026-01-01T00:00:00Z', 'test')"
	serve
	[ "$(shown)" = "" ] || { show "$T/body"; die "a person shown"; }
	hasnt "$T/body" 'Pekka|Pernaa|toimitusjohtaja'
	page GET "/p/directory?lang=en"
	want 200
	has "$T/body" '<h2>Rauman Kala Oy</h2>'
	hasnt "$T/body" 'Pekka|Pernaa|toimitusjohtaja'
}

# proves F-05: where the declaration allows it, the contact persons the company publishes
# appear with name and role in /api/v1/directory and /p/directory; an unpublished colleague
# never does; the change is in the history (ids only) and the usage log
t_contacts_published() {
	setup contacts
	COLLEAGUE=$(person Kaisa Kollega "$ORG" myyntipäällikkö)
	RD=$(person Risto 'Räty' "$ORG" '<i>R&D</i>')
	ELSEWHERE=$(person Olli Muualla "$OTHER" johtaja)
	run 0 "$K" --data "$D" directory show --register rauma-crm "$ORG"
	[ "$(jq -r '[.contacts[] | "\(.affiliation_id):\(.name):\(.title):\(.published)"] | sort | join(",")' "$T/out")" = \
		"$AFF:Pekka Pernaa:toimitusjohtaja:false,$COLLEAGUE:Kaisa Kollega:myyntipäällikkö:false,$RD:Risto Räty:<i>R&D</i>:false" ] ||
		{ show "$T/out"; die "the persons to choose from"; }
	[ "$(jq -r '.contacts[0].person_id | type' "$T/out")" = number ] || die "person_id"
	# choosing is a read of those persons, logged naming them
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'read' AND entity = 'organisation'
		AND entity_id = $ORG AND reason = 'directory' AND ',' || subjects || ',' LIKE '%,$P,%'")" -ge 1 ] ||
		die "the read is not logged"
	# another organisation's affiliation is refused, naming the element
	run 1 "$K" --data "$D" directory set --register rauma-crm "$ORG" contacts="$AFF,$ELSEWHERE"
	has "$T/err" 'contacts\[1\]'
	run 1 "$K" --data "$D" directory set --register rauma-crm "$ORG" contacts="$ELSEWHERE"
	has "$T/err" 'contacts\[0\]'
	run 1 "$K" --data "$D" directory set --register rauma-crm "$ORG" 'contacts:=["x"]'
	has "$T/err" 'contacts\[0\]'
	[ "$(sql "SELECT count(*) FROM directory_contacts")" = 0 ] || die "a refused set was kept"
	run 0 "$K" --data "$D" directory set --register rauma-crm "$ORG" listed:=true \
		contacts="$AFF,$RD"
	[ "$(jq -r '[.contacts[] | select(.published) | .affiliation_id] | sort | join(",")' "$T/out")" = \
		"$(printf '%s\n' "$AFF" "$RD" | sort -n | paste -sd,)" ] || { show "$T/out"; die "published"; }
	[ "$(sql "SELECT new_value FROM change_history WHERE entity = 'organisation'
		AND entity_id = $ORG AND field = 'directory.contacts'")" = \
		"$(printf '%s\n' "$AFF" "$RD" | sort -n | paste -sd,)" ] || die "the history"
	[ "$(sql "SELECT count(*) FROM change_history WHERE old_value LIKE '%Pekka%'
		OR new_value LIKE '%Pekka%' OR new_value LIKE '%Pernaa%'")" = 0 ] || die "a name in the history"
	[ "$(sql "SELECT count(*) FROM usage_log WHERE action = 'update' AND entity = 'organisation'
		AND entity_id = $ORG AND ',' || subjects || ',' LIKE '%,$P,%'
		AND ',' || subjects || ',' LIKE '%,$(person_of "$RD"),%'")" = 1 ] ||
		die "the change is not logged naming the persons"
	serve
	[ "$(shown)" = "Pekka Pernaa/toimitusjohtaja;Risto Räty/<i>R&D</i>" ] ||
		{ show "$T/body"; die "the published persons are not shown"; }
	hasnt "$T/body" 'Kaisa|Kollega|myyntipäällikkö|Olli'
	[ "$(jq -r '.items[0].contacts[0] | keys | join(",")' "$T/body")" = name,title ] ||
		die "more than name and title"
	page GET "/p/directory?lang=en"
	want 200
	has "$T/body" '<li>Pekka Pernaa, toimitusjohtaja</li>'
	has "$T/body" '<li>Risto Räty, &lt;i&gt;R&amp;D&lt;/i&gt;</li>'
	hasnt "$T/body" '<i>R&D'
	hasnt "$T/body" 'Kaisa|Kollega|myyntipäällikkö'
	# the set replaces the published one
	run 0 "$K" --data "$D" directory set --register rauma-crm "$ORG" contacts="$RD"
	[ "$(shown)" = "Risto Räty/<i>R&D</i>" ] || { show "$T/body"; die "replaced"; }
	run 0 "$K" --data "$D" directory set --register rauma-crm "$ORG" contacts=
	[ "$(shown)" = "" ] || { show "$T/body"; die "none published"; }
}

# proves F-05: a published contact person disappears at once when the affiliation ends, or
# the person is restricted, passivated or erased; a future end date still shows them
t_contacts_disappear() {
	setup contacts
	ENDS=$(person Eino Eronnut "$ORG" myyjä)
	LATER=$(person Leena Lähtevä "$ORG" kirjanpitäjä)
	RES=$(person Raili Rajattu "$ORG" asiantuntija)
	PAS=$(person Paavo Passiivinen "$ORG" neuvoja)
	ERA=$(person Erkki Poistettava "$ORG" varastopäällikkö)
	run 0 "$K" --data "$D" directory set --register rauma-crm "$ORG" listed:=true \
		contacts="$AFF,$ENDS,$LATER,$RES,$PAS,$ERA"
	serve
	[ "$(shown | tr ';' '\n' | wc -l)" = 6 ] || { show "$T/body"; die "all six are shown"; }
	run 0 "$K" --data "$D" affiliation update --register rauma-crm "$ENDS" \
		end_date="$(date -u +%F)" end_reason=role_changed
	run 0 "$K" --data "$D" affiliation update --register rauma-crm "$LATER" \
		end_date=2099-12-31 end_reason=role_changed
	S=$(shown)
	case "$S" in *Eino*) die "an ended affiliation is shown: $S" ;; esac
	case "$S" in *Leena*) ;; *) die "an affiliation ending in the future is not shown: $S" ;; esac
	sql "UPDATE persons SET status = 'restricted' WHERE id = $(person_of "$RES")"
	S=$(shown)
	case "$S" in *Raili*) die "a restricted person is shown: $S" ;; esac
	sql "UPDATE persons SET status = 'passivated' WHERE id = $(person_of "$PAS")"
	S=$(shown)
	case "$S" in *Paavo*) die "a passivated person is shown: $S" ;; esac
	EP=$(person_of "$ERA")
	run 0 "$K" --data "$D" person delete --register rauma-crm "$EP"
	S=$(shown)
	case "$S" in *Erkki*) die "an erased person is shown: $S" ;; esac
	[ "$(sql "SELECT count(*) FROM directory_contacts WHERE affiliation_id = $ERA")" = 0 ] ||
		die "the erased person's publication is kept"
	[ "$S" = "Leena Lähtevä/kirjanpitäjä;Pekka Pernaa/toimitusjohtaja" ] ||
		die "what remains: $S"
	page GET "/p/directory?lang=en"
	hasnt "$T/body" 'Eino|Raili|Paavo|Erkki'
	# the staff cannot publish them again
	run 1 "$K" --data "$D" directory set --register rauma-crm "$ORG" contacts="$AFF,$RES"
	has "$T/err" 'contacts\[1\]'
}

# proves F-05: the company chooses its contact persons through its mailed editing link
t_company_publishes_contacts() {
	setup contacts
	COLLEAGUE=$(person Kaisa Kollega "$ORG" myyntipäällikkö)
	"$K" --data "$D" directory set --register rauma-crm "$ORG" contact_email="$CONTACT" \
		>/dev/null 2>&1 || die "set contact"
	serve
	page POST "/p/directory/edit?lang=en" "email=$CONTACT"
	want 200
	tok=$(link 1)
	page POST "/p/directory/edit/link?lang=en" "t=$tok"
	want 303
	page GET "/p/directory/edit/listing?lang=en"
	want 200
	has "$T/body" "<input id=\"contact_$AFF\" name=\"contact_$AFF\" type=\"checkbox\" value=\"1\"> <label for=\"contact_$AFF\">Pekka Pernaa, toimitusjohtaja</label>"
	has "$T/body" "name=\"contact_$COLLEAGUE\""
	[ "$(sql "SELECT count(*) FROM usage_log WHERE actor = 'system:selfservice'
		AND action = 'read' AND entity = 'organisation' AND entity_id = $ORG")" -ge 1 ] ||
		die "the company's read of its persons is not logged"
	csrf=$(sed -n 's|.*name="csrf" value="\([0-9a-f]*\)".*|\1|p' "$T/body" | head -n 1)
	page POST "/p/directory/edit/listing?lang=en" "csrf=$csrf" "listed=1" \
		"description=Kalaa" "contact_$AFF=1"
	want 200
	has "$T/body" 'Saved'
	has "$T/body" "name=\"contact_$AFF\" type=\"checkbox\" value=\"1\" checked>"
	[ "$(shown)" = "Pekka Pernaa/toimitusjohtaja" ] || { show "$T/body"; die "not published"; }
	[ "$(sql "SELECT count(*) FROM change_history WHERE entity = 'organisation'
		AND entity_id = $ORG AND field = 'directory.contacts' AND new_value = '$AFF'
		AND actor = 'system:selfservice'")" = 1 ] || die "the change is not in the history"
	# unchecking unpublishes
	page POST "/p/directory/edit/listing?lang=en" "csrf=$csrf" "listed=1" "description=Kalaa"
	want 200
	[ "$(shown)" = "" ] || { show "$T/body"; die "still published"; }
}

# The staff's command line: show, set with validation, and the usage text.
# proves F-05: staff keep a listing through the JSON API too: an editor of the register reads
# and changes it (the answer is the listing after), a viewer may not, and a register that
# does not publish to the directory refuses
t_staff_api() {
	setup
	printf 'salasana-pitka-1\n' >"$T/pw"
	for u in toimittaja:editor katsoja:viewer; do
		"$K" --data "$D" user add "${u%%:*}" --password-file "$T/pw" >/dev/null 2>&1 ||
			die "user add"
		"$K" --data "$D" user grant "${u%%:*}" --register rauma-crm --role "${u#*:}" \
			>/dev/null 2>&1 || die "user grant"
	done
	serve
	# token USER: signs in, accepts the commitment, prints a new API token
	token() {
		local csrf v
		rm -f "$T/sjar"
		curl -s -o "$T/session.json" -c "$T/sjar" -H 'Content-Type: application/json' \
			-d "{\"name\":\"$1\",\"password\":\"salasana-pitka-1\"}" "$URL/api/v1/session"
		csrf=$(jq -r .csrf "$T/session.json")
		v=$(curl -s -b "$T/sjar" "$URL/api/v1/me/commitment" | jq .version)
		curl -s -o /dev/null -b "$T/sjar" -H "X-CSRF-Token: $csrf" \
			-H 'Content-Type: application/json' -d "{\"version\":$v}" \
			"$URL/api/v1/me/commitment"
		"$K" --data "$D" token create --user "$1" 2>/dev/null
	}
	ED=$(token toimittaja)
	VW=$(token katsoja)
	[ -n "$ED" ] && [ -n "$VW" ] || die "token"
	staff() {
		CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $2" \
			-H 'Content-Type: application/json' ${4:+-d "$4"} "$URL/api/v1/registers/$3")
	}
	staff GET "$ED" "rauma-crm/organisations/$ORG/listing"
	want 200
	[ "$(jq -r '.listed' "$T/body")" = false ] || die "listed by default"
	staff PATCH "$ED" "rauma-crm/organisations/$ORG/listing" \
		'{"listed": true, "description": "Tuoretta kalaa", "contact_email": "info@rauman-kala.example.fi"}'
	want 200
	[ "$(jq -r '"\(.listed) \(.description) \(.contact_email)"' "$T/body")" = \
		"true Tuoretta kalaa info@rauman-kala.example.fi" ] || { show "$T/body"; die "patch"; }
	api ""
	[ "$(jq -r '.items | map(.name) | join(",")' "$T/body")" = "Rauman Kala Oy" ] ||
		die "not listed after the patch"
	hasnt "$T/body" 'info@rauman-kala'
	staff PATCH "$ED" "rauma-crm/organisations/$ORG/listing" '{"description": 5}'
	want 400
	[ "$(jq -r '.errors[0].field' "$T/body")" = description ] || die "400 names no field"
	staff PATCH "$VW" "rauma-crm/organisations/$ORG/listing" '{"listed": false}'
	want 403
	staff GET "$ED" "kemi-crm/organisations/$KEMI_ORG/listing"
	[ "$CODE" = 403 ] || [ "$CODE" = 422 ] || die "another register's listing: $CODE"
	[ "$(sql "SELECT count(*) FROM change_history WHERE entity = 'organisation' AND field LIKE 'directory.%'")" -ge 3 ] ||
		die "the changes are not in the history"
}

t_cli() {
	setup
	run 0 "$K" --data "$D" directory show --register rauma-crm "$ORG"
	[ "$(jq -r .listed "$T/out")" = false ] || die "listed by default"
	run 1 "$K" --data "$D" directory set --register rauma-crm "$ORG" public_email=not-mail
	has "$T/err" 'public_email'
	run 1 "$K" --data "$D" directory set --register rauma-crm "$ORG" shoe_size=42
	has "$T/err" 'shoe_size'
	run 1 "$K" --data "$D" directory show --register rauma-crm 9999
	run 2 "$K" --data "$D" directory show
	run 0 "$K" directory --help
	has "$T/out" '^usage: kortisto directory list'
	run 0 "$K" --data "$D" directory list
	[ "$(jq '.items | length' "$T/out")" = 0 ] || die "listed by default"
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
run_tests "directory" bash "$0" t_default_not_listed t_company_edits_through_mailed_link \
	t_link_expires t_contacts_need_the_declaration t_contacts_published t_contacts_disappear \
	t_company_publishes_contacts t_staff_api t_cli
