#!/bin/sh
# Black-box tests of the command line: the real binary ($KORTISTO_BIN) on data directories in
# a fresh temp dir. Each test runs in a shell process of its own (this script with --one
# TEST), so `set -e` holds inside it and it stops at its first failed check; the script runs
# them all, prints one "ok"/"not ok" line per test and exits 1 when any failed. Tests that
# prove a promise of PROMISES.md name it.
set -eu

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir cli "${1:-}"

SEEDS="espoo-feedback espoo-talent-hub kemi-crm rauma-crm sospro-marketing"

# ------------------------------------------------------------------------------------ helpers

# fresh NAME: a new data directory $T/NAME/data with every seed register loaded; prints it.
fresh() {
	mkdir -p "$T/$1"
	"$K" init "$T/$1/data" >/dev/null
	for s in $SEEDS; do
		"$K" --data "$T/$1/data" register load "$REPO/registers/$s.yaml" >/dev/null 2>&1
	done
	echo "$T/$1/data"
}

# count D RID: the number of persons of register RID (one page is enough here).
count() {
	"$K" --data "$1" person find --register "$2" --limit 200 | grep -c '"first_name"' || true
}

# A minimal valid declaration; the broken ones below are edits of it at known lines.
write_min() {
	cat >"$1" <<'EOF'
kortisto: 1
id: test-min
name: "Testirekisteri"
published: 2024-01-01
updated: 2024-01-02
controller:
  name: "Testikaupunki"
  email: "kirjaamo@example.fi"
responsible:
  - name: "Vastuu Henkilö"
dpo:
  name: "Tietosuojavastaava"
  email: "tietosuoja@example.fi"
purposes:
  - id: customer_relations
    text: "Asiakassuhteen hoitaminen"
subject_groups:
  - id: contact
    name: "Yhteyshenkilöt"
    kind: organisation_contact
    basis: e
    purposes: [customer_relations]
data_categories:
  - id: identity
    name: "Yhteystiedot"
    fields:
      - id: first_name
        type: text
        label: "etunimi"
        required: true
      - id: email
        type: email
        label: "sähköposti"
      - id: language
        type: enum
        label: "kieli"
        values: [fi, sv, en]
sources:
  - id: subject
    kind: subject
    text: "Rekisteröidyltä itseltään"
transfers:
  outside_eea: false
retention:
  text: "Tiedot poistetaan viiden vuoden kuluttua."
  rules:
    - id: delete-5y
      after: P5Y
      from: created
      action: delete
security:
  electronic: "Suojattu."
automated_decision_making:
  used: false
profiling:
  used: false
provision_requirement: "Ei pakollinen."
systems:
  - name: "kortisto"
rights:
  channel: "Kirjallisesti."
complaint_authority:
  name: "Tietosuojavaltuutetun toimisto"
EOF
}

# ------------------------------------------------------------------------------------ tests

t_help_and_version() {
	run 0 "$K" --help
	has "$T/out" '^usage: kortisto'
	has "$T/out" '^  import '
	run 0 "$K" --version
	has "$T/out" '^kortisto [0-9]+\.[0-9]+\.[0-9]+$'
	run 0 "$K" register --help
	has "$T/out" 'register check'
	run 0 "$K" person --help
	has "$T/out" 'person add'
	run 0 "$K" import --help
	has "$T/out" '--map'
}

t_usage_errors_exit_2() {
	run 2 "$K" frobnicate
	has "$T/err" "unknown command 'frobnicate'"
	run 2 "$K"
	run 2 "$K" --frobnicate
	run 2 "$K" register frobnicate
	run 2 "$K" register check
	run 2 "$K" person
	run 2 "$K" person get --register rauma-crm abc
	run 2 "$K" person add --register rauma-crm 'flag:={bad json'
	run 2 "$K" import --register rauma-crm
	run 2 "$K" serve --bogus
}

t_init_creates_private_files() {
	d=$T/init/data
	mkdir -p "$T/init"
	run 0 "$K" init "$d"
	for f in kortisto.db kortisto.conf field.key; do
		[ -f "$d/$f" ] || die "init did not create $f"
		m=$(stat -c %a "$d/$f")
		[ "$m" = 600 ] || die "$f has mode $m, expected 600"
	done
	m=$(stat -c %a "$d")
	[ "$m" = 700 ] || die "the data directory has mode $m, expected 700"
	[ -s "$d/field.key" ] || die "field.key is empty"
}

t_init_refuses_second_time() {
	d=$T/reinit/data
	mkdir -p "$T/reinit"
	run 0 "$K" init "$d"
	key=$(cksum <"$d/field.key")
	run 1 "$K" init "$d"
	has "$T/err" 'already'
	[ "$(cksum <"$d/field.key")" = "$key" ] || die "a second init changed field.key"
}

# The kortisto.conf that init writes is the one docs/install.md shows, line for line.
t_init_conf_matches_docs() {
	d=$T/confdoc/data
	mkdir -p "$T/confdoc"
	run 0 "$K" init "$d"
	awk '/^The file `kortisto init` writes:/ { want = 1; next }
		want && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$REPO/docs/install.md" >"$T/confdoc/docs.conf"
	[ -s "$T/confdoc/docs.conf" ] || die "no kortisto.conf block found in docs/install.md"
	diff -u "$T/confdoc/docs.conf" "$d/kortisto.conf" >&2 ||
		die "docs/install.md shows another kortisto.conf than init writes"
}

# The mail settings of kortisto.conf: the file init writes (mail off) opens; a bad value or
# settings that do not go together stop every command with the file and line named.
t_mail_settings() {
	d=$T/mailconf/data
	mkdir -p "$T/mailconf"
	run 0 "$K" init "$d"
	has "$d/kortisto.conf" '^smtp_url =$'
	run 0 "$K" --data "$d" register list
	cp "$d/kortisto.conf" "$T/mailconf/orig.conf"

	try_conf() { # try_conf WANT LINE...: the original file plus LINEs, then register list
		want=$1
		shift
		cp "$T/mailconf/orig.conf" "$d/kortisto.conf"
		printf '%s\n' "$@" >>"$d/kortisto.conf"
		run "$want" "$K" --data "$d" register list
	}
	try_conf 0 'smtp_url = smtp://127.0.0.1:2525/kortisto.test' 'mail_from = kirjaamo@rauma.fi' \
		'mail_from_name = Rauman kaupunki – elinkeinopalvelut' 'smtp_timeout = 10' \
		'smtp_require_tls = true'
	try_conf 0 'smtp_url = smtps://mail.rauma.fi' 'smtp_user = kortisto' \
		"smtp_password_file = $T/mailconf/pw"
	try_conf 1 'smtp_url = http://mail.rauma.fi'
	has "$T/err" "kortisto.conf:[0-9]+: unknown key or bad value for 'smtp_url'"
	try_conf 1 'smtp_url = smtp://user:pass@mail.rauma.fi'
	has "$T/err" "bad value for 'smtp_url'"
	try_conf 1 'mail_from = not an address'
	has "$T/err" "bad value for 'mail_from'"
	try_conf 1 'smtp_require_tls = yes'
	has "$T/err" "bad value for 'smtp_require_tls'"
	try_conf 1 'smtp_timeout = 0'
	has "$T/err" "bad value for 'smtp_timeout'"
	try_conf 1 'smtp_url = smtp://mail.rauma.fi:587' 'smtp_user = kortisto'
	has "$T/err" 'kortisto.conf: smtp_user and smtp_password_file go together'
	try_conf 1 'smtp_url = smtp://mail.rauma.fi:587' 'smtp_user = kortisto' \
		"smtp_password_file = $T/mailconf/pw"
	has "$T/err" 'needs TLS'
}

t_open_missing_datadir_fails() {
	run 1 "$K" --data "$T/nowhere" register list
	has "$T/err" 'not a kortisto data directory'
	run 1 "$K" --data "$T/nowhere" person find --register rauma-crm
}

t_register_check_seeds() {
	for s in $SEEDS; do
		run 0 "$K" register check "$REPO/registers/$s.yaml"
		has "$T/out" ": ok \\(register $s"
	done
	run 0 "$K" register check "$REPO/registers/TEMPLATE.yaml"
}

# check_broken FILE LINE WORD: `register check FILE` exits 1 and says FILE:LINE:COL: …WORD….
check_broken() {
	run 1 "$K" register check "$1"
	has "$T/err" "^$1:$2:[0-9]+: .*$3"
	hasnt "$T/out" 'ok \(register'
}

t_register_check_broken() {
	mkdir -p "$T/check"
	cd "$T/check"
	write_min min.yaml
	run 0 "$K" register check min.yaml
	has "$T/out" '^min.yaml: ok \(register test-min'

	awk '{ print } /^updated:/ { print "colour: blue" }' min.yaml >unknown-key.yaml
	check_broken unknown-key.yaml 6 "colour"

	awk '/^controller:/ { skip = 1; next } skip && /^  / { next } { skip = 0; print }' \
		min.yaml >no-controller.yaml
	check_broken no-controller.yaml '[0-9]+' "controller"

	awk '{ print } /^    text: "Asiakassuhteen hoitaminen"/ {
		print "  - id: customer_relations"; print "    text: \"Toinen\"" }' \
		min.yaml >dup-purpose.yaml
	check_broken dup-purpose.yaml 17 "customer_relations"
	has "$T/err" 'duplicate'

	sed 's/^    basis: e$/    basis: g/' min.yaml >basis-g.yaml
	check_broken basis-g.yaml 21 "basis"

	awk '{ print } /^      action: delete/ {
		print "      except:"; print "        - field: nosuch"; print "          equals: true" }' \
		min.yaml >retention-except.yaml
	check_broken retention-except.yaml 52 "nosuch"

	sed 's/^      from: created$/      from: field:nosuch/' min.yaml >retention-from.yaml
	check_broken retention-from.yaml 49 "nosuch"

	sed 's/^  outside_eea: false$/  outside_eea: [false/' min.yaml >syntax.yaml
	run 1 "$K" register check syntax.yaml
	has "$T/err" '^syntax.yaml:4[0-9]:[0-9]+: '

	# One broken file among good ones fails the run but the good ones are still reported.
	run 1 "$K" register check min.yaml basis-g.yaml
	has "$T/out" '^min.yaml: ok'
	has "$T/err" '^basis-g.yaml:21:'
}

# proves N-01: `register check` lists the Art. 13/14 items a declaration lacks; --strict fails
# on them. The minimal declaration, completed, has no warning; without a retention period it
# has one, which --strict turns into failure; without a complaint authority it is unusable.
t_register_check_completeness() {
	mkdir -p "$T/complete"
	cd "$T/complete"
	write_min min.yaml
	awk '/^responsible:/ { print "contacts:"; print "  - name: \"Yhteys Henkilö\"" }
		/^transfers:/ { print "disclosures:"; print "  text: \"Tietoja ei luovuteta.\"" }
		{ print }
		/^  name: "Tietosuojavaltuutetun toimisto"/ { print "  web: \"https://tietosuoja.fi\"" }' \
		min.yaml >complete.yaml
	run 0 "$K" register check --strict complete.yaml
	has "$T/out" '^complete.yaml: ok \(register test-min\)$'
	hasnt "$T/err" 'warning:'

	# The only rule keeps data without a period, and no plan is named.
	sed '/^      after: P5Y$/d; s/^      action: delete$/      action: none/' \
		complete.yaml >no-period.yaml
	line=$(grep -n '^retention:' no-period.yaml | cut -d: -f1)
	run 1 "$K" register check --strict no-period.yaml
	has "$T/err" "^no-period.yaml:$line:1: warning: retention: no retention period \\(GDPR Art\\. 13\\(2\\)\\(a\\)\\)"
	[ "$(grep -c 'warning:' "$T/err")" -eq 1 ] || die "expected exactly one warning"
	hasnt "$T/out" 'ok \(register'
	run 0 "$K" register check no-period.yaml
	has "$T/out" '^no-period.yaml: ok \(register test-min, with warnings\)$'

	awk '/^complaint_authority:/ { skip = 1; next } skip && /^  / { next } { skip = 0; print }' \
		complete.yaml >no-authority.yaml
	run 1 "$K" register check no-authority.yaml
	has "$T/err" "^no-authority.yaml:1:1: missing required key 'complaint_authority' \\(GDPR Art\\. 13\\(2\\)\\(d\\)"
	hasnt "$T/out" 'ok \(register'
}

t_register_load_twice() {
	mkdir -p "$T/load"
	d=$T/load/data
	"$K" init "$d" >/dev/null
	run 0 "$K" --data "$d" register load "$REPO/registers/rauma-crm.yaml"
	has "$T/out" 'register rauma-crm is now at version 1$'
	run 0 "$K" --data "$d" register load "$REPO/registers/rauma-crm.yaml"
	has "$T/out" 'register rauma-crm unchanged at version 1$'
	# A changed declaration is a new version; every version is kept.
	{ cat "$REPO/registers/rauma-crm.yaml"; echo "# muutettu"; } >"$T/load/rauma-v2.yaml"
	run 0 "$K" --data "$d" register load "$T/load/rauma-v2.yaml"
	has "$T/out" 'register rauma-crm is now at version 2$'
	run 0 "$K" --data "$d" register versions rauma-crm
	has "$T/out" '^1 '
	has "$T/out" '^2 '
}

t_register_load_refuses_broken() {
	mkdir -p "$T/loadbad"
	d=$T/loadbad/data
	"$K" init "$d" >/dev/null
	write_min "$T/loadbad/min.yaml"
	sed 's/^    basis: e$/    basis: g/' "$T/loadbad/min.yaml" >"$T/loadbad/bad.yaml"
	run 1 "$K" --data "$d" register load "$T/loadbad/bad.yaml"
	has "$T/err" 'bad.yaml:21:[0-9]+: '
	run 0 "$K" --data "$d" register list
	hasnt "$T/out" 'test-min'
}

t_register_list_shows_seeds() {
	d=$(fresh list)
	run 0 "$K" --data "$d" register list
	for s in $SEEDS; do
		has "$T/out" "^$s +1 "
	done
	hasnt "$T/out" 'example-crm'
}

t_person_round_trip() {
	d=$(fresh person)
	R=rauma-crm
	# shellcheck disable=SC2317 # called through run
	kp() { "$K" --data "$d" person "$@"; }
	run 0 kp add --register "$R" subject_group=organisation_contact source=customer \
		first_name=Äijä last_name=Öhmän email=Aija.Ohman@Example.FI hetu=131052-308T \
		attributes.ongoing_relationship:=true
	has "$T/out" '^[0-9]+$'
	id=$(cat "$T/out")

	run 0 kp get --register "$R" "$id"
	has "$T/out" '"first_name": "Äijä"'
	has "$T/out" '"email": "aija.ohman@example.fi"'
	has "$T/out" '"legal_basis": "f"'
	has "$T/out" '"ongoing_relationship": true'
	has "$T/out" '"created_by": "operator:'
	has "$T/out" '"hetu": "131052-\*\*\*\*"'  # proves S-10: masked by default
	hasnt "$T/out" '308T'

	run 0 kp find --register "$R" ohman  # diacritics ignored
	has "$T/out" "\"id\": $id,"
	run 0 kp find --register "$R" --hetu 131052-308T  # proves S-10: exact match
	has "$T/out" "\"id\": $id,"
	run 0 kp find --register "$R" 131052  # proves S-10: not by text search
	hasnt "$T/out" "\"id\": $id,"

	# proves R-06: the correction keeps old and new value, who and why.
	run 0 kp update --register "$R" "$id" phone="040 123 4567" --reason "puhelinsoitto"
	run 0 kp get --register "$R" "$id" --history
	has "$T/out" '"phone": "\+358401234567"'
	has "$T/out" '"reason": "puhelinsoitto"'
	has "$T/out" '"new": "\+358401234567"'
	has "$T/out" '"actor": "operator:'

	run 1 kp update --register "$R" "$id" shoe_size=42
	has "$T/err" 'shoe_size'
	run 1 kp update --register "$R" "$id" attributes.shoe_size=42
	has "$T/err" 'attributes.shoe_size'
	run 1 kp add --register "$R" subject_group=organisation_contact source=customer \
		email=not-an-email
	has "$T/err" 'email'
	run 0 kp get --register "$R" "$id"
	hasnt "$T/out" 'shoe_size'

	run 0 kp update --register "$R" "$id" phone:=null
	run 0 kp get --register "$R" "$id"
	hasnt "$T/out" '"phone"'

	# proves R-07
	run 0 kp delete --register "$R" "$id"
	run 1 kp get --register "$R" "$id"
	has "$T/err" 'not found'
	run 0 kp find --register "$R" ohman
	hasnt "$T/out" "\"id\": $id,"
	run 1 kp delete --register "$R" "$id"
}

# proves S-10: the operator at the server's own command line may see the code in full
t_person_reveal_hetu_for_operator() {
	d=$(fresh reveal)
	run 0 "$K" --data "$d" person add --register rauma-crm subject_group=contract_party \
		source=customer hetu=131052-308t
	id=$(cat "$T/out")
	run 0 "$K" --data "$d" person get --register rauma-crm "$id" --reveal-hetu
	has "$T/out" '"hetu": "131052-308T"'
	run 1 "$K" --data "$d" person add --register rauma-crm subject_group=contract_party \
		source=customer hetu=131052-308T
	has "$T/err" 'hetu'
	run 1 "$K" --data "$d" person add --register rauma-crm subject_group=contract_party \
		source=customer hetu=131052-308U
	has "$T/err" 'hetu'
	run 1 "$K" --data "$d" person add --register kemi-crm subject_group=partner_contact \
		source=subject hetu=131052-308T
	has "$T/err" 'hetu'
}

t_now_sets_the_clock() {
	d=$(fresh now)
	run 0 "$K" --data "$d" --now 2030-01-01T00:00:00Z person add --register rauma-crm \
		subject_group=organisation_contact source=customer email=tuleva@example.fi
	id=$(cat "$T/out")
	run 0 "$K" --data "$d" person get --register rauma-crm "$id"
	has "$T/out" '"created_at": "2030-01-01T00:00:00Z"'
	has "$T/out" '"collected_at": "2030-01-01T00:00:00Z"'
	run 0 "$K" --data "$d" --now=2031-06-15T12:00:00Z person update --register rauma-crm "$id" \
		first_name=Tuleva
	run 0 "$K" --data "$d" person get --register rauma-crm "$id"
	has "$T/out" '"updated_at": "2031-06-15T12:00:00Z"'

	before=$(count "$d" rauma-crm)
	for bad in yesterday 2030-13-01 2030-02-30T00:00:00Z 2030-01-01T25:00:00Z ''; do
		run 2 "$K" --data "$d" --now "$bad" person add --register rauma-crm \
			subject_group=organisation_contact source=customer
		has "$T/err" '--now'
	done
	[ "$(count "$d" rauma-crm)" = "$before" ] || die "a bad --now still added a person"
}

# The import fixture: ';'-separated, Finnish letters, a quoted field with a ';', a duplicate
# of row 2 by e-mail (other case), a bad e-mail, and a row without an organisation.
write_import_files() {
	printf '%s\n' \
		'Etunimi;Sukunimi;Sähköposti;Puhelin;Yritys;Y-tunnus;Titteli' \
		'Äijä;Öhmän;aija.ohman@example.fi;040 123 4567;Rauman Telakka Oy;0112038-9;toimitusjohtaja' \
		'Åsa;Långström;asa@example.fi;050 111 2222;"Sataman Kala; Savustamo Oy";;myyntipäällikkö' \
		'Pekka;Virheellinen;ei-sähköpostia;;Rauman Telakka Oy;0112038-9;insinööri' \
		'Äijä;Öhmän;AIJA.OHMAN@example.fi;040 123 4567;Rauman Telakka Oy;0112038-9;toimitusjohtaja' \
		'Matti;Meikäläinen;matti@example.fi;;;;' >"$1/list.csv"
	cat >"$1/map.yaml" <<'EOF'
subject_group: organisation_contact
columns:
  Etunimi: first_name
  Sukunimi: last_name
  Sähköposti: email
  Puhelin: phone
  Yritys: organisation.name
  Y-tunnus: organisation.ytunnus
  Titteli: affiliation.title
EOF
}

# report_field FILE LINE COLUMN: column COLUMN of the report row for CSV line LINE.
report_field() {
	awk -F';' -v l="$2" -v c="$3" '$1 == l { print $c }' "$1"
}

t_import_csv() {
	d=$(fresh import)
	I=$T/import
	write_import_files "$I"
	run 0 "$K" --data "$d" import --register rauma-crm --source public_web --map "$I/map.yaml" \
		--report "$I/report.csv" "$I/list.csv"
	has "$T/out" '^added 3, updated 0, unchanged 1, rejected 1$'
	has "$T/out" '^line 4: rejected: .*email'
	hasnt "$T/out" 'ei-sähköpostia' # the rejected value is not echoed

	R=$I/report.csv
	[ "$(sed -n 1p "$R")" = 'line;status;person_id;reason' ] || die "report header"
	[ "$(wc -l <"$R")" -eq 6 ] || { show "$R"; die "report has not one row per CSV row"; }
	has "$R" '^2;added;[1-9][0-9]*;$'
	has "$R" '^3;added;[1-9][0-9]*;$'
	has "$R" '^4;rejected;0;.*email'
	has "$R" '^6;added;[1-9][0-9]*;$'
	p2=$(report_field "$R" 2 3)
	p3=$(report_field "$R" 3 3)
	# The duplicate merged into the person of line 2 (e-mail matched case-insensitively).
	[ "$(report_field "$R" 5 2)" = unchanged ] || { show "$R"; die "line 5 not merged"; }
	[ "$(report_field "$R" 5 3)" = "$p2" ] || { show "$R"; die "line 5 merged elsewhere"; }

	run 0 "$K" --data "$d" person get --register rauma-crm "$p2"
	has "$T/out" '"first_name": "Äijä"'
	has "$T/out" '"last_name": "Öhmän"'
	has "$T/out" '"email": "aija.ohman@example.fi"'
	has "$T/out" '"phone": "\+358401234567"'
	has "$T/out" '"legal_basis": "f"' # proves M-01: company contacts on legitimate interest
	has "$T/out" '"source": "public_web"'
	has "$T/out" '"organisation": "Rauman Telakka Oy"'
	has "$T/out" '"title": "toimitusjohtaja"'
	run 0 "$K" --data "$d" person get --register rauma-crm "$p3"
	has "$T/out" '"organisation": "Sataman Kala; Savustamo Oy"'
	has "$T/out" '"title": "myyntipäällikkö"'
	run 0 "$K" --data "$d" person find --register rauma-crm langstrom
	has "$T/out" "\"id\": $p3,"
	run 0 "$K" --data "$d" org find --register rauma-crm
	[ "$(grep -c '"name"' "$T/out")" -eq 2 ] || { show "$T/out"; die "expected 2 organisations"; }
	has "$T/out" '"ytunnus": "0112038-9"'
	[ "$(count "$d" rauma-crm)" -eq 3 ] || die "expected 3 persons after the import"

	# The same file again changes nothing.
	run 0 "$K" --data "$d" import --register rauma-crm --source public_web --map "$I/map.yaml" \
		--report "$I/again.csv" "$I/list.csv"
	has "$T/out" '^added 0, updated 0, unchanged 4, rejected 1$'
	hasnt "$I/again.csv" ';(added|updated);'
	[ "$(grep -c ';unchanged;' "$I/again.csv")" -eq 4 ] || die "rerun: not 4 unchanged rows"
	[ "$(count "$d" rauma-crm)" -eq 3 ] || die "the rerun added persons"

	# A known person with a new phone number is updated, and the change is in the history.
	printf '%s\n' 'Etunimi;Sukunimi;Sähköposti;Puhelin;Yritys;Y-tunnus;Titteli' \
		'Äijä;Öhmän;aija.ohman@example.fi;050 999 8888;Rauman Telakka Oy;0112038-9;toimitusjohtaja' \
		>"$I/update.csv"
	run 0 "$K" --data "$d" import --register rauma-crm --source public_web --map "$I/map.yaml" \
		"$I/update.csv"
	has "$T/out" '^added 0, updated 1, unchanged 0, rejected 0$'
	run 0 "$K" --data "$d" person get --register rauma-crm "$p2" --history
	has "$T/out" '"new": "\+358509998888"'
}

t_import_map_undeclared_field_fails_first() {
	d=$(fresh importbad)
	I=$T/importbad
	write_import_files "$I"
	sed 's/^  Puhelin: phone$/  Puhelin: shoe_size/' "$I/map.yaml" >"$I/bad.yaml"
	run 1 "$K" --data "$d" import --register rauma-crm --source public_web --map "$I/bad.yaml" \
		--report "$I/report.csv" "$I/list.csv"
	has "$T/err" 'bad.yaml:[0-9]+:[0-9]+: .*shoe_size'
	hasnt "$T/out" '^line '
	[ "$(wc -l <"$I/report.csv")" -le 1 ] || { show "$I/report.csv"; die "rows were imported"; }
	[ "$(count "$d" rauma-crm)" -eq 0 ] || die "persons were added"

	sed 's/^  Titteli: affiliation.title$/  Titteli: attributes.titteli/' "$I/map.yaml" \
		>"$I/bad2.yaml"
	run 1 "$K" --data "$d" import --register rauma-crm --source public_web \
		--map "$I/bad2.yaml" "$I/list.csv"
	has "$T/err" 'titteli'

	sed 's/^subject_group: organisation_contact$/subject_group: vip/' "$I/map.yaml" \
		>"$I/bad3.yaml"
	run 1 "$K" --data "$d" import --register rauma-crm --source public_web \
		--map "$I/bad3.yaml" "$I/list.csv"
	has "$T/err" 'subject group'

	run 1 "$K" --data "$d" import --register rauma-crm --source bought_list \
		--map "$I/map.yaml" "$I/list.csv"
	has "$T/err" 'bought_list'

	sed 's/^  Titteli: affiliation.title$/  Ammatti: affiliation.title/' "$I/map.yaml" \
		>"$I/bad4.yaml"
	run 1 "$K" --data "$d" import --register rauma-crm --source public_web \
		--map "$I/bad4.yaml" "$I/list.csv"
	has "$T/err" 'Ammatti'

	[ "$(count "$d" rauma-crm)" -eq 0 ] || die "persons were added"
}

# A map with a fixed subject group that maps a field not declared for that group is a wrong
# map: it fails once, before any row, like an undeclared field (core/import.c).
t_import_map_field_of_other_group_fails_first() {
	d=$(fresh importgroup)
	I=$T/importgroup
	printf 'Etunimi;Organisaatio\nAino;Aallon Oy\nBertta;Bitin Oy\n' >"$I/g.csv"
	printf '%s\n' 'subject_group: individual' 'columns:' '  Etunimi: first_name' \
		'  Organisaatio: organisation' >"$I/g.yaml"
	run 1 "$K" --data "$d" import --register espoo-talent-hub --source subject \
		--map "$I/g.yaml" "$I/g.csv"
	has "$T/err" 'g.yaml:[0-9]+:[0-9]+: .*organisation'
	hasnt "$T/out" '^line '
}

# ------------------------------------------------------------------------------------ notices

# section FILE FROM TO: the lines of FILE from the first one matching the ERE FROM up to, not
# including, the next one matching the ERE TO (to the end when none does).
section() {
	FROM=$2 TO=$3 awk 'on && $0 ~ ENVIRON["TO"] { exit } $0 ~ ENVIRON["FROM"] { on = 1 } on' "$1"
}

# same FILE LINE...: FILE is exactly the given lines.
same() {
	f=$1
	shift
	printf '%s\n' "$@" >"$f.want"
	diff -u "$f.want" "$f" >&2 || die "$(basename "$f") is not as expected (diff above)"
}

# long_lines FILE: the numbers of the lines of FILE wider than 78 characters that are more than
# one word. UTF-8 continuation bytes are dropped first, so a byte is a character (mawk counts
# bytes).
long_lines() {
	LC_ALL=C sed "s/$(printf '[\200-\277]')//g" "$1" |
		LC_ALL=C awk 'length($0) > 78 && NF > 1 { print NR }'
}

# csv_shape FILE: one line per record of the CSV file FILE (RFC 4180: quoted fields may hold
# line breaks; a record ends with CRLF): its number of fields; "broken" at the end when a
# record does not end with CRLF or a quote is left open.
csv_shape() {
	LC_ALL=C awk '{
		for (i = 1; i <= length($0); i++) {
			c = substr($0, i, 1)
			if (c == "\"")
				inq = !inq
			else if (c == "," && !inq)
				nf++
		}
		if (!inq) {
			if ($0 !~ /\r$/)
				bad = 1
			print nf + 1
			nf = 0
		}
	} END { if (inq || bad) print "broken" }' "$1"
}

# proves N-01, R-13: the Markdown notice (the default) has the fourteen numbered sections of
# Finnish practice in order, the publication and update dates, the version, and the complaint
# authority from the declaration in section 14.
t_notice_md_sections_in_order() {
	d=$(fresh nmd)
	run 0 "$K" --data "$d" notice --register kemi-crm
	cp "$T/out" "$T/nmd/notice.md"
	N=$T/nmd/notice.md
	[ "$(sed -n 1p "$N")" = Tietosuojaseloste ] || { show "$N"; die "first line"; }
	has "$N" '^# Asiakasyritysten ja yhteistyökumppaneiden asiakkuudenhallinta -rekisteri$'
	has "$N" '^EU:n yleinen tietosuoja-asetus \(2016/679\), 13 ja 14 artikla$'
	has "$N" '^\*\*Julkaistu:\*\* 16\.3\.2024  $'
	has "$N" '^\*\*Päivitetty:\*\* 2\.3\.2026  $'
	has "$N" '^\*\*Versio:\*\* 1 \(voimassa alkaen [0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}\)$'
	grep '^## ' "$N" | head -n 14 >"$T/nmd/headings"
	same "$T/nmd/headings" \
		'## 1. Rekisterinpitäjä' \
		'## 2. Vastuu- ja yhteyshenkilöt' \
		'## 3. Tietosuojavastaava' \
		'## 4. Käsittelyn tarkoitukset ja oikeusperusteet' \
		'## 5. Rekisteröityjen ryhmät' \
		'## 6. Henkilötietoryhmät' \
		'## 7. Tietolähteet' \
		'## 8. Vastaanottajat ja tietojen luovuttaminen' \
		'## 9. Siirrot EU:n tai ETA:n ulkopuolelle' \
		'## 10. Säilytysajat' \
		'## 11. Suojauksen periaatteet ja ylläpitojärjestelmät' \
		'## 12. Automaattinen päätöksenteko ja profilointi' \
		'## 13. Rekisteröidyn oikeudet ja niiden käyttäminen' \
		'## 14. Oikeus tehdä valitus valvontaviranomaiselle'
	section "$N" '^## 14\. ' '^## 15\. ' >"$T/nmd/complaint"
	has "$T/nmd/complaint" '^\*\*Tietosuojavaltuutetun toimisto\*\*$'
	has "$T/nmd/complaint" '^\*\*Osoite:\*\* PL 800, 00521 Helsinki  $'
	has "$T/nmd/complaint" '^\*\*Sähköposti:\*\* <tietosuoja@om\.fi>$'
	# Nothing Finnish is missing from a Finnish notice.
	hasnt "$N" '\(suomeksi\)'
}

# proves N-01: the plain-text notice has no Markdown and is wrapped at 78 characters; only a
# line of one word too long to break may be longer.
t_notice_txt_wrapped_without_markdown() {
	d=$(fresh ntxt)
	# The check finds the long lines of the Markdown notice, so it can fail.
	run 0 "$K" --data "$d" notice --register kemi-crm
	[ -n "$(long_lines "$T/out")" ] || die "the width check finds no long line in Markdown"
	for r in kemi-crm rauma-crm; do
		for l in 'fi' sv en; do
			run 0 "$K" --data "$d" notice --register "$r" --lang "$l" --format txt
			hasnt "$T/out" '^#{1,6} '
			hasnt "$T/out" '\*\*'
			long=$(long_lines "$T/out")
			[ -z "$long" ] || { show "$T/out"; die "$r/$l: lines $long are wider than 78"; }
		done
	done
	run 0 "$K" --data "$d" notice --register kemi-crm --format txt
	has "$T/out" '^Tietosuojaseloste$'
	has "$T/out" '^Julkaistu: 16\.3\.2024$'
	has "$T/out" '^1\. Rekisterinpitäjä$'
	has "$T/out" '^===================$' # underlined as wide as the heading
	has "$T/out" '^14\. Oikeus tehdä valitus valvontaviranomaiselle$'
	has "$T/out" '^Tietosuojavaltuutetun toimisto$'
}

# proves N-01: the HTML notice is a whole page in the notice's language; without a stylesheet
# URL (the command line gives none) its style is inline.
t_notice_html_whole_page() {
	d=$(fresh nhtml)
	run 0 "$K" --data "$d" notice --register kemi-crm --format html
	[ "$(sed -n 1p "$T/out")" = '<!doctype html>' ] || { show "$T/out"; die "no doctype first"; }
	[ "$(sed -n '$p' "$T/out")" = '</html>' ] || { show "$T/out"; die "not ended by </html>"; }
	has "$T/out" '^<html lang="fi">$'
	has "$T/out" '^<meta charset="utf-8">$'
	has "$T/out" '^<title>Tietosuojaseloste – Asiakasyritysten ja yhteistyökumppaneiden asiakkuudenhallinta -rekisteri</title>$'
	has "$T/out" '^<style>:root\{color-scheme:light\}'
	hasnt "$T/out" '<link rel="stylesheet"'
	has "$T/out" '^<main id="main">$'
	has "$T/out" '^<h2 id="controller">1\. Rekisterinpitäjä</h2>$'
	has "$T/out" '^<h2 id="complaint">14\. Oikeus tehdä valitus valvontaviranomaiselle</h2>$'
	hasnt "$T/out" '^## '
	run 0 "$K" --data "$d" notice --register rauma-crm --format html --lang sv
	has "$T/out" '^<html lang="sv">$'
	has "$T/out" '^<h2 id="controller">1\. Personuppgiftsansvarig</h2>$'
}

# proves N-01: a Swedish notice has kortisto's own texts in Swedish and shows the texts the
# declaration has only in Finnish (kemi-crm has no translations) in Finnish, marked.
t_notice_sv_marks_finnish_texts() {
	d=$(fresh nsv)
	run 0 "$K" --data "$d" notice --register kemi-crm --lang sv
	[ "$(sed -n 1p "$T/out")" = Dataskyddsbeskrivning ] || { show "$T/out"; die "first line"; }
	has "$T/out" '^# Asiakasyritysten ja yhteistyökumppaneiden asiakkuudenhallinta -rekisteri \*\(på finska\)\*$'
	has "$T/out" '^\*\*Publicerad:\*\* 16\.3\.2024  $'
	has "$T/out" '^## 1\. Personuppgiftsansvarig$'
	has "$T/out" '^## 14\. Rätt att lämna klagomål till tillsynsmyndigheten$'
	has "$T/out" '^Delar av denna beskrivning finns endast på finska; de är märkta \(på finska\)\.$'
	hasnt "$T/out" '^## 1\. Rekisterinpitäjä$'
	hasnt "$T/out" '\(suomeksi\)|\(in Finnish\)'
}

# proves N-01: rauma-crm is declared in Swedish and English too, so its English notice is all
# English: nothing is marked as Finnish and there is no note of Finnish-only parts.
t_notice_en_fully_translated() {
	d=$(fresh nen)
	run 0 "$K" --data "$d" notice --register rauma-crm --lang en
	[ "$(sed -n 1p "$T/out")" = 'Privacy notice' ] || { show "$T/out"; die "first line"; }
	has "$T/out" '^# Customer relationship management system \(CRM\) and company and service directory of Rauma Business Services$'
	has "$T/out" '^## 1\. Controller$'
	has "$T/out" '^## 13\. Your rights and how to use them$'
	has "$T/out" '^## 14\. Right to lodge a complaint with a supervisory authority$'
	hasnt "$T/out" 'in Finnish'
	hasnt "$T/out" 'available in Finnish only'
	hasnt "$T/out" '^## 1\. Rekisterinpitäjä$'
	# The Swedish one too.
	run 0 "$K" --data "$d" notice --register rauma-crm --lang sv
	has "$T/out" '^## 1\. Personuppgiftsansvarig$'
	hasnt "$T/out" 'på finska'
}

# proves N-01: a right appears only when it applies under the declared legal bases. rauma-crm
# has groups on consent (a), contract (b) and legitimate interest (f): portability for the
# groups on a and b, objection for the one on f, withdrawal of consent for the one on a, and
# erasure without the Art. 17(3) exception.
t_notice_rights_from_bases_rauma() {
	d=$(fresh nrr)
	run 0 "$K" --data "$d" notice --register rauma-crm
	section "$T/out" '^## 13\. ' '^## 14\. ' >"$T/nrr/rights"
	R=$T/nrr/rights
	section "$R" '^### Oikeus siirtää tiedot järjestelmästä toiseen \(20 artikla\)$' \
		'^### Oikeus vastustaa' | grep '^- ' >"$T/nrr/portability" || true
	same "$T/nrr/portability" \
		'- Yksityishenkilöt, joiden tietoja käsitellään suostumuksen perusteella' \
		'- Sopimuksen osapuolena olevat rekisteröidyt'
	section "$R" '^### Oikeus vastustaa käsittelyä \(21 artikla\)$' '^### Oikeus peruuttaa' |
		grep '^- ' >"$T/nrr/object" || true
	same "$T/nrr/object" '- Yritysten ja yhteisöjen henkilöt'
	section "$R" '^### Oikeus peruuttaa suostumus \(7 artiklan 3 kohta\)$' '^### Oikeuksien' |
		grep '^- ' >"$T/nrr/withdraw" || true
	same "$T/nrr/withdraw" '- Yksityishenkilöt, joiden tietoja käsitellään suostumuksen perusteella'
	has "$R" '^Sinulla on oikeus pyytää tietojesi poistamista \(”oikeus tulla unohdetuksi”\)\.$'
	hasnt "$R" '17 artiklan 3 kohta'
}

# proves N-01: kemi-crm has all its groups on public task (e): no portability, no withdrawal
# of consent, but objection, and erasure limited by Art. 17(3) for every group.
t_notice_rights_from_bases_kemi() {
	d=$(fresh nrk)
	run 0 "$K" --data "$d" notice --register kemi-crm
	hasnt "$T/out" 'Oikeus siirtää tiedot järjestelmästä toiseen \(20 artikla\)'
	hasnt "$T/out" 'Oikeus peruuttaa suostumus'
	section "$T/out" '^## 13\. ' '^## 14\. ' >"$T/nrk/rights"
	R=$T/nrk/rights
	has "$R" '^### Oikeus vastustaa käsittelyä \(21 artikla\)$'
	section "$R" '^### Oikeus tietojen poistamiseen \(17 artikla\)$' '^### Oikeus käsittelyn' \
		>"$T/nrk/erasure"
	same "$T/nrk/erasure" '### Oikeus tietojen poistamiseen (17 artikla)' '' \
		'Kaikkien ryhmien tietoja käsitellään lakisääteisen velvoitteen tai yleisen edun mukaisen tehtävän perusteella, joten poisto-oikeus ei koske niitä sinä aikana, jona niitä on säilytettävä (17 artiklan 3 kohta).' ''
}

# proves N-01: the minimal declaration with its only group on legal obligation (c): erasure
# does not cover it, and there is no right to object (Art. 21(1) needs e or f). With a second
# group on f, erasure applies, the exception names the group on c, and objection the one on f.
t_notice_rights_basis_c() {
	mkdir -p "$T/nrc"
	cd "$T/nrc"
	write_min min.yaml
	sed 's/^    basis: e$/    basis: c/' min.yaml >c.yaml
	grep -q '^    basis: c$' c.yaml || die "the edit did not apply"
	"$K" init c >/dev/null
	run 0 "$K" --data c register load c.yaml
	run 0 "$K" --data c notice --register test-min
	section "$T/out" '^## 13\. ' '^## 14\. ' >rights
	section rights '^### Oikeus tietojen poistamiseen \(17 artikla\)$' '^### Oikeus käsittelyn' \
		>erasure
	same erasure '### Oikeus tietojen poistamiseen (17 artikla)' '' \
		'Kaikkien ryhmien tietoja käsitellään lakisääteisen velvoitteen tai yleisen edun mukaisen tehtävän perusteella, joten poisto-oikeus ei koske niitä sinä aikana, jona niitä on säilytettävä (17 artiklan 3 kohta).' ''
	hasnt rights '21 artikla'
	hasnt rights '20 artikla'
	hasnt rights 'Oikeus peruuttaa suostumus'

	awk '{ print } /^    purposes: \[customer_relations\]$/ {
		print "  - id: other"; print "    name: \"Muut henkilöt\""
		print "    kind: organisation_contact"; print "    basis: f"
		print "    interest: \"Yhteydenpito\""; print "    purposes: [customer_relations]" }' \
		c.yaml >cf.yaml
	"$K" init cf >/dev/null
	run 0 "$K" --data cf register load cf.yaml
	run 0 "$K" --data cf notice --register test-min
	section "$T/out" '^## 13\. ' '^## 14\. ' >rights
	section rights '^### Oikeus tietojen poistamiseen \(17 artikla\)$' '^### Oikeus käsittelyn' \
		>erasure
	same erasure '### Oikeus tietojen poistamiseen (17 artikla)' '' \
		'Sinulla on oikeus pyytää tietojesi poistamista (”oikeus tulla unohdetuksi”).' '' \
		'Oikeus ei koske tietoja, joita on säilytettävä lakisääteisen velvoitteen tai yleisen edun mukaisen tehtävän vuoksi (17 artiklan 3 kohta). Tällaisia ovat ryhmät:' '' \
		'- Yhteyshenkilöt' ''
	section rights '^### Oikeus vastustaa käsittelyä \(21 artikla\)$' '^### Oikeuksien' |
		grep '^- ' >object || true
	same object '- Muut henkilöt'
}

# proves N-01: every loaded version of a declaration is kept and its notice reproduced as it
# was; --changes lists, under the section's heading, what was added and removed; --history
# lists every version with the date it came into force.
t_notice_versions_and_changes() {
	mkdir -p "$T/nver"
	d=$T/nver/data
	old='Asiakasyritysten sekä yhteistyökumppaneiden asiakkuuden hoitamiseksi ja yhteydenpitoa yhteistyökumppaneihin elinvoimatoimialalla.'
	new='Yritysasiakkaiden neuvonta ja palvelut.'
	sed "s/^    text: \"$old\"\$/    text: \"$new\"/" "$REPO/registers/kemi-crm.yaml" \
		>"$T/nver/kemi-v2.yaml"
	grep -q "text: \"$new\"" "$T/nver/kemi-v2.yaml" || die "the edit did not apply"
	"$K" init "$d" >/dev/null
	run 0 "$K" --data "$d" --now 2030-01-02T10:00:00Z register load \
		"$REPO/registers/kemi-crm.yaml"
	run 0 "$K" --data "$d" --now 2031-06-15T10:00:00Z register load "$T/nver/kemi-v2.yaml"
	has "$T/out" 'register kemi-crm is now at version 2$'

	run 0 "$K" --data "$d" notice --register kemi-crm
	has "$T/out" '^\*\*Versio:\*\* 2 \(voimassa alkaen 15\.6\.2031\)$'
	has "$T/out" "^- $new\$"
	hasnt "$T/out" "$old"
	hasnt "$T/out" '^## Muutokset'
	hasnt "$T/out" '^## Versiohistoria'

	run 0 "$K" --data "$d" notice --register kemi-crm --version 1
	has "$T/out" '^\*\*Versio:\*\* 1 \(voimassa alkaen 2\.1\.2030\)$'
	has "$T/out" "^- $old\$"
	hasnt "$T/out" "$new"

	run 0 "$K" --data "$d" notice --register kemi-crm --changes
	section "$T/out" '^## Muutokset versioon 1 verrattuna$' '^## ' >"$T/nver/changes"
	[ -s "$T/nver/changes" ] || { show "$T/out"; die "no changes section"; }
	grep '^### ' "$T/nver/changes" >"$T/nver/changed" || true
	same "$T/nver/changed" '### 4. Käsittelyn tarkoitukset ja oikeusperusteet' \
		'### 8. Vastaanottajat ja tietojen luovuttaminen'
	section "$T/nver/changes" '^### 4\. ' '^### 8\. ' >"$T/nver/sec4"
	has "$T/nver/sec4" "^- Lisätty: $new\$"
	has "$T/nver/sec4" "^- Poistettu: $old\$"
	has "$T/nver/sec4" "^- Lisätty: Tarkoitukset: $new\$"
	# --since 1 is the default for version 2.
	cp "$T/out" "$T/nver/changes-default"
	run 0 "$K" --data "$d" notice --register kemi-crm --changes --since 1
	cmp -s "$T/out" "$T/nver/changes-default" || die "--since 1 differs from the default"

	run 0 "$K" --data "$d" notice --register kemi-crm --history
	section "$T/out" '^## Versiohistoria$' '^## ' | grep '^- ' >"$T/nver/history" || true
	same "$T/nver/history" \
		'- Versio 2: Julkaistu 16.3.2024, Päivitetty 2.3.2026, voimassa alkaen 15.6.2031' \
		'- Versio 1: Julkaistu 16.3.2024, Päivitetty 2.3.2026, voimassa alkaen 2.1.2030'

	run 1 "$K" --data "$d" notice --register kemi-crm --version 3
	has "$T/err" "register 'kemi-crm' has no version 3"
	[ ! -s "$T/out" ] || die "a notice was written for a missing version"
	# --since must name an older version than the one shown.
	run 1 "$K" --data "$d" notice --register kemi-crm --changes --since 2
	has "$T/err" 'changes are listed since an older version than 2'
	run 1 "$K" --data "$d" notice --register kemi-crm --version 1 --changes --since 1
	has "$T/err" 'changes are listed since an older version than 1'
	# --since without --changes is a usage error.
	run 2 "$K" --data "$d" notice --register kemi-crm --since 1
	has "$T/err" '^usage: kortisto notice '
	[ ! -s "$T/out" ] || die "output on a usage error"
}

# Usage errors of `notice` exit 2 with the usage on stderr and nothing on stdout.
t_notice_usage_errors_exit_2() {
	d=$(fresh nuse)
	for args in '' '--lang fi' '--register' '--register kemi-crm --lang de' \
		'--register kemi-crm --format pdf' '--register kemi-crm --version 0' \
		'--register kemi-crm --version x' '--register kemi-crm --version -1' \
		'--register kemi-crm --frobnicate 1' '--register kemi-crm --frobnicate' \
		'--register kemi-crm extra'; do
		# shellcheck disable=SC2086 # split on purpose
		run 2 "$K" --data "$d" notice $args
		has "$T/err" '^usage: kortisto notice --register RID'
		[ ! -s "$T/out" ] || { show "$T/out"; die "output on a usage error: $args"; }
	done
	run 2 "$K" --data "$d" notice --register kemi-crm --lang de
	has "$T/err" "--lang: 'de' is not fi, sv or en"
	run 2 "$K" --data "$d" notice --register kemi-crm --format pdf
	has "$T/err" "--format: 'pdf' is not html, md or txt"
	run 2 "$K" --data "$d" notice --register kemi-crm --version x
	has "$T/err" "--version: 'x' is not a version number"
	run 2 "$K" --data "$d" notice --register kemi-crm --frobnicate 1
	has "$T/err" "unknown option '--frobnicate'"
}

# An unknown register fails with exit 1 and a message; csv, the record's format, is a usage
# error for a notice.
t_notice_unknown_register_fails() {
	d=$(fresh nunk)
	run 1 "$K" --data "$d" notice --register nosuch
	has "$T/err" "register 'nosuch' not found"
	[ ! -s "$T/out" ] || die "output for an unknown register"
	run 2 "$K" --data "$d" notice --register kemi-crm --format csv
	has "$T/err" "--format: 'csv' is not html, md or txt"
	[ ! -s "$T/out" ] || die "output for a csv notice"
}

# The record of processing (GDPR Art. 30(1)) in Markdown: one numbered section per loaded
# register, with the register's id, its notice's address and items (a) to (g).
t_record_md_one_section_per_register() {
	d=$(fresh rmd)
	run 0 "$K" --data "$d" record-of-processing
	R=$T/rmd/record.md
	cp "$T/out" "$R"
	[ "$(sed -n 1p "$R")" = 'EU:n yleisen tietosuoja-asetuksen 30 artiklan 1 kohta' ] ||
		{ show "$R"; die "first line"; }
	has "$R" '^# Seloste käsittelytoimista$'
	grep '^## ' "$R" >"$T/rmd/headings" || true
	same "$T/rmd/headings" \
		'## 1. Asiointipalvelujen ja palvelutorien palaute- ja asiakastyytyväisyysrekisteri' \
		'## 2. Espoo Talent Hubin markkinointirekisteri' \
		'## 3. Asiakasyritysten ja yhteistyökumppaneiden asiakkuudenhallinta -rekisteri' \
		'## 4. Rauman yrityspalveluiden asiakkuudenhallintajärjestelmä (CRM) sekä yritys- ja palveluhakemisto' \
		'## 5. Sospro Oy:n ja sen tytäryhtiöiden (jäljempänä ”Sospro-konserni”) kunta-asiakkaiden ja yhteistyökumppaneiden markkinointirekisteri'
	for s in $SEEDS; do
		has "$R" "^\\*\\*Rekisteri:\\*\\* $s  \$"
		has "$R" "^\\*\\*Tietosuojaseloste:\\*\\* /p/registers/$s/notice\$"
	done
	[ "$(grep -c '^### Tekniset ja organisatoriset turvatoimet (g)$' "$R")" -eq 5 ] ||
		die "item (g) is not once per register"
	# A data directory with one register has one section.
	mkdir -p "$T/rmd/one"
	"$K" init "$T/rmd/one/data" >/dev/null
	"$K" --data "$T/rmd/one/data" register load "$REPO/registers/rauma-crm.yaml" >/dev/null 2>&1
	run 0 "$K" --data "$T/rmd/one/data" record-of-processing
	grep '^## ' "$T/out" >"$T/rmd/one/headings" || true
	same "$T/rmd/one/headings" \
		'## 1. Rauman yrityspalveluiden asiakkuudenhallintajärjestelmä (CRM) sekä yritys- ja palveluhakemisto'
}

# The record as CSV: a header row and one row per loaded register, every row of ten quoted
# fields ended by CRLF (fields may hold line breaks, so rows are counted by parsing).
t_record_csv_one_row_per_register() {
	d=$(fresh rcsv)
	run 0 "$K" --data "$d" record-of-processing --format csv
	C=$T/rcsv/record.csv
	cp "$T/out" "$C"
	csv_shape "$C" >"$T/rcsv/shape"
	same "$T/rcsv/shape" 10 10 10 10 10 10
	cr=$(printf '\r')
	[ "$(sed -n 1p "$C")" = "\"Rekisteri\",\"Tietosuojaseloste\",\"Rekisterinpitäjä ja yhteystiedot (a)\",\"Käsittelyn tarkoitukset (b)\",\"Rekisteröityjen ryhmät (c)\",\"Henkilötietoryhmät (c)\",\"Vastaanottajien ryhmät (d)\",\"Siirrot kolmansiin maihin (e)\",\"Poistamisen määräajat (f)\",\"Tekniset ja organisatoriset turvatoimet (g)\"$cr" ] ||
		{ show "$C"; die "header row"; }
	for s in $SEEDS; do
		[ "$(grep -c "^\"[^\"]* ($s)\",\"/p/registers/$s/notice\"," "$C")" -eq 1 ] ||
			{ show "$C"; die "not one row for $s"; }
	done
	run 0 "$K" --data "$d" record-of-processing --format csv --lang en
	has "$T/out" '^"Register","Privacy notice","Controller and contact details \(a\)",'
}

# A text that starts with '=' (or '@', '+', '-') would be a formula in a spreadsheet; in the
# CSV record it is prefixed with an apostrophe. Markdown escapes it at the start of a line.
t_record_csv_defuses_formulas() {
	mkdir -p "$T/rfx"
	cd "$T/rfx"
	write_min min.yaml
	sed 's/^    text: "Asiakassuhteen hoitaminen"$/    text: "=1+1"/; s/^name: "Testirekisteri"$/name: "@SUM(A1)"/' \
		min.yaml >f.yaml
	grep -q '"=1+1"' f.yaml || die "the edit did not apply"
	grep -q '"@SUM(A1)"' f.yaml || die "the edit did not apply"
	"$K" init data >/dev/null
	run 0 "$K" --data data register load f.yaml
	run 0 "$K" --data data record-of-processing --format csv
	csv_shape "$T/out" >shape
	same shape 10 10
	has "$T/out" '^"'"'"'@SUM\(A1\) \(test-min\)","/p/registers/test-min/notice",'
	has "$T/out" ',"'"'"'=1\+1",'
	hasnt "$T/out" '"=1\+1"'
	hasnt "$T/out" '"@SUM'
	run 0 "$K" --data data record-of-processing
	has "$T/out" '^\\=1\+1$'
}

# The record comes as md, html or csv; txt, a format of the notice, and other bad options
# are usage errors (2).
t_record_formats() {
	d=$(fresh rfmt)
	run 0 "$K" --data "$d" record-of-processing --format html --lang sv
	[ "$(sed -n 1p "$T/out")" = '<!doctype html>' ] || { show "$T/out"; die "no doctype"; }
	has "$T/out" '^<html lang="sv">$'
	has "$T/out" '^<h1>Register över behandling</h1>$'
	has "$T/out" '^<main id="main">$'
	run 2 "$K" --data "$d" record-of-processing --format txt
	has "$T/err" "--format: 'txt' is not md, html or csv"
	[ ! -s "$T/out" ] || die "output for --format txt"
	for args in '--format pdf' '--lang de' '--lang' '--register kemi-crm' 'extra'; do
		# shellcheck disable=SC2086 # split on purpose
		run 2 "$K" --data "$d" record-of-processing $args
		has "$T/err" '^usage: kortisto record-of-processing'
		[ ! -s "$T/out" ] || die "output on a usage error: $args"
	done
}

# --help of notice and record-of-processing prints their usage on stdout and exits 0; the
# top-level help lists both commands.
t_notice_and_record_help() {
	run 0 "$K" notice --help
	has "$T/out" '^usage: kortisto notice --register RID \[--lang fi\|sv\|en\] \[--format html\|md\|txt\]$'
	has "$T/out" 'Defaults: --lang fi --format md\.$'
	[ ! -s "$T/err" ] || die "help wrote to stderr"
	run 0 "$K" record-of-processing --help
	has "$T/out" '^usage: kortisto record-of-processing \[--lang fi\|sv\|en\] \[--format md\|html\|csv\]$'
	[ ! -s "$T/err" ] || die "help wrote to stderr"
	run 0 "$K" --help
	has "$T/out" '^  notice --register RID '
	has "$T/out" '^  record-of-processing '
}

# proves R-08: where the declaration says erasure passivates (Sospro), an erased person is
# deleted, only keyed hashes of their identifiers stay, and re-importing them from a public
# list — by e-mail, by phone, or by name with organisation, whatever the letter case — skips
# and counts them; an API or command-line create is refused. The list itself holds no
# readable identifier.
t_erasure_by_passivation_suppresses() {
	d=$(fresh pass)
	cat >"$T/pass/map.yaml" <<'EOF2'
delimiter: ";"
subject_group: partner_contact
columns:
  Etunimi: first_name
  Sukunimi: last_name
  Sähköposti: email
  Puhelin: phone
  Yritys: organisation.name
EOF2
	printf 'Etunimi;Sukunimi;Sähköposti;Puhelin;Yritys\nPassi;Virtanen;passi.virtanen@example.fi;040 111 2233;Kunta Oy\nToinen;Henkilö;toinen@example.fi;040 999 8877;Kunta Oy\n' \
		>"$T/pass/list.csv"
	run 0 "$K" --data "$d" import --register sospro-marketing --source public \
		--map "$T/pass/map.yaml" "$T/pass/list.csv"
	has "$T/out" '^added 2, updated 0, unchanged 0, rejected 0$'
	id=$("$K" --data "$d" person find --register sospro-marketing passi |
		sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
	[ -n "$id" ] || die "the imported person was not found"
	run 0 "$K" --data "$d" request new --register sospro-marketing type=erasure channel=email \
		"person_id:=$id"
	run 0 "$K" --data "$d" request verify --register sospro-marketing 1 method=registered_contact
	run 0 "$K" --data "$d" request fulfil --register sospro-marketing 1
	has "$T/out" '"passivated": true'
	run 1 "$K" --data "$d" person get --register sospro-marketing "$id"

	run 0 "$K" --data "$d" import --register sospro-marketing --source public \
		--map "$T/pass/map.yaml" "$T/pass/list.csv"
	has "$T/out" '^added 0, updated 0, unchanged 1, suppressed 1, rejected 0$'
	printf 'Etunimi;Sukunimi;Sähköposti;Puhelin;Yritys\nPASSI;virtanen;;;KUNTA OY\n' >"$T/pass/byname.csv"
	run 0 "$K" --data "$d" import --register sospro-marketing --source public \
		--map "$T/pass/map.yaml" "$T/pass/byname.csv"
	has "$T/out" '^added 0, updated 0, unchanged 0, suppressed 1, rejected 0$'
	run 1 "$K" --data "$d" person add --register sospro-marketing subject_group=partner_contact \
		source=public first_name=Eri last_name=Nimi phone=+358401112233
	has "$T/err" 'is not added again \(erasure by passivation\)'
	# A person known by the organisation attribute alone is matched by name with it too.
	run 0 "$K" --data "$d" person add --register sospro-marketing subject_group=partner_contact \
		source=public first_name=Attri last_name=Buutti organisation='Yhtiö Oy'
	id=$(cat "$T/out")
	run 0 "$K" --data "$d" request new --register sospro-marketing type=erasure channel=email \
		"person_id:=$id"
	run 0 "$K" --data "$d" request verify --register sospro-marketing 2 method=registered_contact
	run 0 "$K" --data "$d" request fulfil --register sospro-marketing 2
	run 1 "$K" --data "$d" person add --register sospro-marketing subject_group=partner_contact \
		source=public first_name=attri last_name=BUUTTI organisation='yhtiö oy'
	has "$T/err" 'is not added again \(erasure by passivation\)'
	[ "$(count "$d" sospro-marketing)" = 1 ] || die "the erased person came back"
	# Only hashes are left: none of the identifiers is in the database file.
	for v in passi.virtanen@example.fi 358401112233 Virtanen; do
		if grep -aq "$v" "$d/kortisto.db" "$d/kortisto.db-wal" 2>/dev/null; then
			die "'$v' is still in the database"
		fi
	done
}

# ------------------------------------------------------------------------------------ runner

if [ "${1:-}" = --one ]; then
	cd "$REPO"
	"$2"
	exit 0
fi

run_tests CLI sh "$0" t_help_and_version t_usage_errors_exit_2 t_init_creates_private_files \
	t_erasure_by_passivation_suppresses \
	t_init_refuses_second_time t_init_conf_matches_docs t_mail_settings t_open_missing_datadir_fails t_register_check_seeds \
	t_register_check_broken t_register_check_completeness t_register_load_twice t_register_load_refuses_broken \
	t_register_list_shows_seeds t_person_round_trip t_person_reveal_hetu_for_operator \
	t_now_sets_the_clock t_import_csv t_import_map_undeclared_field_fails_first \
	t_import_map_field_of_other_group_fails_first t_notice_md_sections_in_order \
	t_notice_txt_wrapped_without_markdown t_notice_html_whole_page t_notice_sv_marks_finnish_texts \
	t_notice_en_fully_translated t_notice_rights_from_bases_rauma t_notice_rights_from_bases_kemi \
	t_notice_rights_basis_c t_notice_versions_and_changes t_notice_usage_errors_exit_2 \
	t_notice_unknown_register_fails t_record_md_one_section_per_register \
	t_record_csv_one_row_per_register t_record_csv_defuses_formulas t_record_formats \
	t_notice_and_record_help
