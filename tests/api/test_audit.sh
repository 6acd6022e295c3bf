#!/usr/bin/env bash
# Black-box tests of `kortisto audit` and `kortisto disclose`: the real binary
# ($KORTISTO_BIN) on fresh data directories, the usage log changed behind its back with the
# sqlite3 command-line tool. Each test runs in a process of its own (this script with --one
# TEST) so `set -e` stops it at its first failed check; the runner prints one "ok"/"not ok"
# line per test and exits 1 when any failed. Tests name the promise they prove.
set -euo pipefail

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir audit "${1:-}"

# ------------------------------------------------------------------------------------ helpers

# sql D STATEMENTS: runs SQL on data directory D's database with the sqlite3 tool.
sql() {
	sqlite3 -batch "$1/kortisto.db" "$2"
}

# fresh NAME: a data directory with rauma-crm loaded, a person and some reads and changes
# in its usage log; prints the directory. The person's id is in $T/NAME/person.
fresh() {
	local d=$T/$1/data p
	mkdir -p "$T/$1"
	"$K" init "$d" >/dev/null
	"$K" --data "$d" register load "$REPO/registers/rauma-crm.yaml" >/dev/null 2>&1
	p=$("$K" --data "$d" person add --register rauma-crm subject_group=consenting_person \
		source=customer first_name=Aino last_name=Auditoitava)
	echo "$p" >"$T/$1/person"
	"$K" --data "$d" person get --register rauma-crm "$p" >/dev/null
	"$K" --data "$d" person update --register rauma-crm "$p" first_name=Aina >/dev/null
	"$K" --data "$d" person find --register rauma-crm Aina >/dev/null
	"$K" --data "$d" person get --register rauma-crm "$p" >/dev/null
	"$K" --data "$d" person find --register rauma-crm >/dev/null
	echo "$d"
}

# entry D N: the id of the N-th entry (0-based) of D's usage log.
entry() {
	sql "$1" "SELECT id FROM usage_log ORDER BY id LIMIT 1 OFFSET $2"
}

backup() {
	sql "$1" "DROP TABLE IF EXISTS bak; CREATE TABLE bak AS SELECT * FROM usage_log"
}

restore() {
	sql "$1" "DELETE FROM usage_log; INSERT INTO usage_log SELECT * FROM bak"
}

# ------------------------------------------------------------------------------------ tests

# proves S-04: the log of real use verifies, and the summary names its head.
t_verify_ok() {
	d=$(fresh ok)
	n=$(sql "$d" "SELECT count(*) FROM usage_log")
	head=$(sql "$d" "SELECT max(id) FROM usage_log")
	[ "$n" -ge 6 ] || die "only $n usage-log entries"
	run 0 "$K" --data "$d" audit verify
	has "$T/out" "^usage log verified: $n entries, head $head [0-9a-f]{64}$"
	# Every entry is chained and carries the person's id, never a name.
	[ "$(sql "$d" "SELECT count(*) FROM usage_log WHERE length(hash) = 32")" = "$n" ] ||
		die "entries without a hash"
	sql "$d" "SELECT * FROM usage_log" >"$T/rows"
	hasnt "$T/rows" 'Aino|Aina|Auditoitava'
}

# proves S-04: a changed entry is found and named; restored, the log verifies again.
t_verify_names_changed_entry() {
	d=$(fresh changed)
	backup "$d"
	id=$(entry "$d" 3)
	sql "$d" "UPDATE usage_log SET actor = 'operator:mallory' WHERE id = $id"
	run 1 "$K" --data "$d" audit verify
	has "$T/err" "entry $id([^0-9]|$)"
	has "$T/err" 'content changed'
	hasnt "$T/out" 'verified'
	restore "$d"
	run 0 "$K" --data "$d" audit verify
	# The subject of an entry is part of it too.
	sql "$d" "UPDATE usage_log SET entity_id = coalesce(entity_id, 0) + 1 WHERE id = $id"
	run 1 "$K" --data "$d" audit verify
	has "$T/err" "entry $id([^0-9]|$)"
}

# proves S-04: a deleted entry is found at the entry after the gap.
t_verify_names_entry_after_deleted_one() {
	d=$(fresh deleted)
	backup "$d"
	id=$(entry "$d" 2)
	next=$(entry "$d" 3)
	sql "$d" "DELETE FROM usage_log WHERE id = $id"
	run 1 "$K" --data "$d" audit verify
	has "$T/err" "entry $next([^0-9]|$)"
	has "$T/err" 'removed'
	restore "$d"
	run 0 "$K" --data "$d" audit verify
}

# proves S-04: a deleted tail passes the chain check; the signed anchors find it.
t_anchors_find_deleted_tail() {
	d=$(fresh tail)
	run 0 "$K" --data "$d" audit anchor --out "$T/anchors.log"
	head=$(sql "$d" "SELECT max(id) FROM usage_log")
	has "$T/out" "^kortisto-anchor v1 id=$head hash=[0-9a-f]{64} at=[0-9TZ:-]+ sig=[0-9a-f]{128}$"
	has "$T/out" '^public key \(Ed25519\): [0-9a-f]{64}$'
	[ "$(wc -l <"$T/anchors.log")" -eq 1 ] || die "anchor not appended"
	[ "$(stat -c %a "$T/anchors.log")" = 600 ] || die "anchors file is not private"
	run 0 "$K" --data "$d" audit verify --anchors "$T/anchors.log"
	has "$T/out" '^anchors verified: 1$'

	sql "$d" "DELETE FROM usage_log WHERE id >= $((head - 1))"
	run 0 "$K" --data "$d" audit verify
	run 1 "$K" --data "$d" audit verify --anchors "$T/anchors.log"
	has "$T/err" "entry $head([^0-9]|$)"
	has "$T/err" 'truncated'

	# A forged anchor line does not pass for a real one.
	sed 's/id=[0-9]*/id=1/' "$T/anchors.log" >"$T/forged.log"
	run 1 "$K" --data "$d" audit verify --anchors "$T/forged.log"
	has "$T/err" 'signature'
	run 1 "$K" --data "$d" audit verify --anchors "$T/no-such-file"
}

# proves S-04: pruning leaves a signed checkpoint the rest of the chain verifies from.
t_prune_then_verify() {
	d=$T/prune/data
	mkdir -p "$T/prune"
	"$K" --now 2020-01-01T00:00:00Z init "$d" >/dev/null
	"$K" --data "$d" --now 2020-01-01T00:00:00Z register load \
		"$REPO/registers/rauma-crm.yaml" >/dev/null 2>&1
	p=$("$K" --data "$d" --now 2020-01-02T00:00:00Z person add --register rauma-crm \
		subject_group=consenting_person source=customer first_name=Vanha)
	"$K" --data "$d" --now 2020-01-03T00:00:00Z person get --register rauma-crm "$p" >/dev/null
	"$K" --data "$d" --now 2024-06-01T00:00:00Z person get --register rauma-crm "$p" >/dev/null
	n=$(sql "$d" "SELECT count(*) FROM usage_log")
	old=$(sql "$d" "SELECT count(*) FROM usage_log WHERE at < '2021-01-01'")
	run 0 "$K" --data "$d" --now 2024-06-02T00:00:00Z audit prune --before 2021-01-01
	has "$T/out" "^pruned $old entries"
	[ "$(sql "$d" "SELECT count(*) FROM usage_log")" -eq $((n - old + 1)) ] ||
		die "prune left the wrong entries"
	run 0 "$K" --data "$d" audit verify
	has "$T/out" 'checkpoint'
	sql "$d" "UPDATE usage_checkpoints SET last_id = last_id + 1"
	run 1 "$K" --data "$d" audit verify
	has "$T/err" 'checkpoint'
	run 2 "$K" --data "$d" audit prune --before 2021-13-01
}

# proves S-04: audit show answers who handled a person's data.
t_show_by_subject() {
	d=$(fresh show)
	p=$(cat "$T/show/person")
	run 0 "$K" --data "$d" audit show --subject "$p" --register rauma-crm
	has "$T/out" '^ID +AT +ACTOR'
	has "$T/out" " create +rauma-crm +person $p"
	has "$T/out" " read +rauma-crm +person $p"
	run 0 "$K" --data "$d" audit show --subject "$p" --json --limit 2
	has "$T/out" '"next": "c[0-9a-f]+"'
	run 1 "$K" --data "$d" audit show --user nobody
	has "$T/err" "user 'nobody' not found"
	run 2 "$K" --data "$d" audit show --since yesterday
	run 2 "$K" --data "$d" audit show --limit x
}

# proves S-07, M-06: a disclosure to a declared recipient is recorded and logged; one for
# direct marketing or to an undeclared recipient is refused and leaves nothing behind.
t_disclose() {
	d=$(fresh disclose)
	p=$(cat "$T/disclose/person")
	run 0 "$K" --data "$d" disclose --register rauma-crm --recipient partners \
		--purpose municipal_services --basis "asiakkaan pyyntö" --categories identity \
		--subjects "$p" --reference REF-1
	id=$(cat "$T/out")
	[ "$(sql "$d" "SELECT count(*) FROM disclosure_subjects WHERE disclosure_id = $id")" = 1 ] ||
		die "disclosure subjects not recorded"
	[ "$(sql "$d" "SELECT count(*) FROM usage_log WHERE action = 'disclose' AND entity_id = $id")" = 1 ] ||
		die "disclosure not logged"
	before=$(sql "$d" "SELECT count(*) FROM disclosures")
	run 1 "$K" --data "$d" disclose --register rauma-crm --recipient partners \
		--purpose direct_marketing --basis x --categories identity --subjects "$p"
	has "$T/err" 'direct marketing'
	run 1 "$K" --data "$d" disclose --register rauma-crm --recipient acme \
		--purpose municipal_services --basis x --categories identity --subjects "$p"
	has "$T/err" "'acme' is not a recipient"
	run 1 "$K" --data "$d" disclose --register rauma-crm --recipient partners \
		--purpose municipal_services --basis x --categories identity --subjects 999999
	[ "$(sql "$d" "SELECT count(*) FROM disclosures")" = "$before" ] || die "a refusal wrote"
	run 2 "$K" --data "$d" disclose --register rauma-crm --recipient partners
	run 0 "$K" --data "$d" disclose list --register rauma-crm
	has "$T/out" '"recipient": "partners"'
	has "$T/out" '"reference": "REF-1"'
	run 0 "$K" --data "$d" audit verify
}

t_usage_errors() {
	run 2 "$K" audit
	run 0 "$K" audit --help
	has "$T/out" '^usage: kortisto audit verify'
	run 2 "$K" audit bogus
	run 2 "$K" audit verify --bogus
	run 0 "$K" disclose --help
	has "$T/out" '^usage: kortisto disclose'
}

# ------------------------------------------------------------------------------------ runner

if [ "${1:-}" = --one ]; then
	cd "$REPO"
	"$2"
	exit 0
fi

command -v sqlite3 >/dev/null || {
	echo "the sqlite3 command-line tool is needed" >&2
	exit 1
}
run_tests "audit CLI" bash "$0" t_verify_ok t_verify_names_changed_entry \
	t_verify_names_entry_after_deleted_one t_anchors_find_deleted_tail t_prune_then_verify \
	t_show_by_subject t_disclose t_usage_errors
