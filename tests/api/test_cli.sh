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

# ------------------------------------------------------------------------------------ runner

if [ "${1:-}" = --one ]; then
	cd "$REPO"
	"$2"
	exit 0
fi

run_tests CLI sh "$0" t_help_and_version t_usage_errors_exit_2 t_init_creates_private_files \
	t_init_refuses_second_time t_init_conf_matches_docs t_mail_settings t_open_missing_datadir_fails t_register_check_seeds \
	t_register_check_broken t_register_check_completeness t_register_load_twice t_register_load_refuses_broken \
	t_register_list_shows_seeds t_person_round_trip t_person_reveal_hetu_for_operator \
	t_now_sets_the_clock t_import_csv t_import_map_undeclared_field_fails_first \
	t_import_map_field_of_other_group_fails_first
