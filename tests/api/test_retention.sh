#!/bin/sh
# Black-box tests of `kortisto retention` and `kortisto person event`: the real binary
# ($KORTISTO_BIN) on data directories in a fresh temp dir, its database read with the sqlite3
# command-line tool. The crash test kills a run with SIGKILL midway and shows that the next
# run continues it and every due person is handled exactly once, nothing lost. No check here
# depends on how fast anything runs. Each test runs in a process of its own (this script
# with --one TEST); tests that prove a promise of PROMISES.md name it.
set -eu

: "${KORTISTO_BIN:?KORTISTO_BIN must name the kortisto binary}"
K=$KORTISTO_BIN
REPO=$(pwd)
# shellcheck source=tests/api/lib.sh
. "$(dirname "$0")/lib.sh"
tmp_dir retention "${1:-}"

# ------------------------------------------------------------------------------------ helpers

# fresh NAME: a new data directory $T/NAME/data with rauma-crm and kemi-crm loaded.
fresh() {
	mkdir -p "$T/$1"
	"$K" init "$T/$1/data" >/dev/null
	for s in rauma-crm kemi-crm; do
		"$K" --data "$T/$1/data" register load "$REPO/registers/$s.yaml" >/dev/null 2>&1
	done
	echo "$T/$1/data"
}

# sql D STATEMENTS: runs SQL on data directory D's database.
sql() {
	sqlite3 -batch -cmd ".timeout 10000" "$1/kortisto.db" "$2"
}

# import_persons D FIRST N NOW: imports N Rauma company contacts numbered from FIRST, as if
# entered on day NOW (the day their retention period runs from: they have no events).
import_persons() {
	awk -v first="$2" -v n="$3" 'BEGIN {
		print "Etunimi;Sukunimi;Sähköposti"
		for (i = first; i < first + n; i++)
			printf "Etu%d;Suku%d;henkilo%d@example.fi\n", i, i, i
	}' >"$1/../p$2.csv"
	printf '%s\n' 'delimiter: ";"' 'subject_group: organisation_contact' 'columns:' \
		'  Etunimi: first_name' '  Sukunimi: last_name' '  Sähköposti: email' >"$1/../map.yaml"
	"$K" --data "$1" --now "$4" import --register rauma-crm --source customer \
		--map "$1/../map.yaml" "$1/../p$2.csv" >/dev/null
}

# ------------------------------------------------------------------------------------ tests

t_help() {
	run 0 "$K" retention --help
	has "$T/out" 'retention plan'
	has "$T/out" 'retention hold --register RID --person ID --reason TEXT'
	run 0 "$K" person event --help
	has "$T/out" 'person event --register RID --id ID --type TYPE'
	run 0 "$K" --help
	has "$T/out" '^  retention plan'
	run 2 "$K" retention
	run 2 "$K" retention dance
	run 2 "$K" retention hold --register rauma-crm --person 1
	run 2 "$K" retention plan --batch 5
}

# proves L-02: a customer event moves the last customer event; the plan counts from it and
# changes nothing; the run anonymises on the day, and only ids are ever printed.
t_event_plan_run() {
	d=$(fresh epr)
	run 0 "$K" --data "$d" --now 2026-01-01 person add --register rauma-crm \
		subject_group=organisation_contact source=customer first_name=Päivi last_name=Virtanen
	run 0 "$K" --data "$d" --now 2026-02-01 person event --register rauma-crm --id 1 \
		--type service_order
	run 1 "$K" --data "$d" person event --register rauma-crm --id 1 --type shoe_fitting
	has "$T/err" 'not a record type declared'
	[ "$(sql "$d" 'SELECT last_customer_event FROM persons WHERE id = 1')" = 2026-02-01 ] ||
		die "last_customer_event not moved"
	run 0 "$K" --data "$d" --now 2036-01-31 retention plan --register rauma-crm
	has "$T/out" 'person: 0 due'
	run 0 "$K" --data "$d" --now 2036-02-01 retention plan
	has "$T/out" 'person: 1 due, 0 held, 0 kept by exception; due for example: 1$'
	has "$T/out" 'no automatic action \(L-06\)'
	hasnt "$T/out" 'Virtanen|Päivi'
	[ "$(sql "$d" 'SELECT count(*) FROM persons')" = 1 ] || die "the plan changed persons"
	run 0 "$K" --data "$d" --now 2036-02-01 retention run
	has "$T/out" 'rauma-crm anonymize-10y person: anonymize 1, held 0'
	hasnt "$T/out" 'Virtanen|Päivi'
	hasnt "$T/err" 'Virtanen|Päivi'
	[ "$(sql "$d" 'SELECT count(*) FROM persons')" = 0 ] || die "not anonymised"
	run 0 "$K" --data "$d" retention runs
	has "$T/out" '^retention run 1 as of 2036-02-01: done'
	run 0 "$K" --data "$d" audit verify
}

# proves L-02: a held person is listed in the plan and skipped until released.
t_hold_and_release() {
	d=$(fresh hold)
	run 0 "$K" --data "$d" --now 2026-01-01 person add --register rauma-crm \
		subject_group=organisation_contact source=customer last_name=Pito
	run 0 "$K" --data "$d" retention hold --register rauma-crm --person 1 \
		--reason 'asia 2026/17'
	run 1 "$K" --data "$d" retention hold --register rauma-crm --person 1 --reason again
	has "$T/err" 'already on legal hold'
	run 0 "$K" --data "$d" --now 2036-01-01 retention plan --register rauma-crm
	has "$T/out" 'person: 0 due, 1 held'
	has "$T/out" '^  held: person 1 '
	hasnt "$T/out" 'asia 2026'
	run 0 "$K" --data "$d" --now 2036-01-01 retention run --register rauma-crm
	[ "$(sql "$d" 'SELECT count(*) FROM persons')" = 1 ] || die "a held person was touched"
	run 0 "$K" --data "$d" retention release --register rauma-crm --person 1
	run 1 "$K" --data "$d" retention release --register rauma-crm --person 1
	run 0 "$K" --data "$d" --now 2036-01-01 retention run --register rauma-crm
	[ "$(sql "$d" 'SELECT count(*) FROM persons')" = 0 ] || die "not anonymised after release"
}

# proves L-01: a run killed with SIGKILL midway is continued by the next run of the same day;
# in the end every due person was anonymised exactly once (one usage-log entry and one kept
# statistical row each), the persons not yet due and the held one are all there, and the
# run's summary adds up across both processes.
t_killed_run_continues() {
	d=$(fresh crash)
	import_persons "$d" 1 1500 2026-01-01    # due on 2036-01-01
	import_persons "$d" 5001 300 2030-01-01  # not due until 2040
	run 0 "$K" --data "$d" retention hold --register rauma-crm --person 700 --reason r
	due=1499
	"$K" --data "$d" --now 2036-06-01 retention run --register rauma-crm --batch 20 \
		--pause 100 >"$T/run1.out" 2>"$T/run1.err" &
	pid=$!
	# Wait until some batches have committed, then kill the run where it stands.
	n=0
	while [ "$(sql "$d" 'SELECT coalesce(sum(acted), 0) FROM retention_progress')" -lt 100 ]; do
		n=$((n + 1))
		[ "$n" -lt 3000 ] || die "the run never got going"
		kill -0 "$pid" 2>/dev/null || die "the run ended before it could be killed"
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	done1=$(sql "$d" 'SELECT sum(acted) FROM retention_progress')
	[ "$done1" -lt "$due" ] || die "the run finished before it was killed ($done1)"
	[ "$(sql "$d" "SELECT status FROM retention_runs WHERE id = 1")" = running ] ||
		die "the killed run is not left running"
	[ "$(sql "$d" 'SELECT count(*) FROM anonymized_records')" = "$done1" ] ||
		die "committed batches and their counts disagree"

	# Another run while none holds the lock continues the killed one.
	run 0 "$K" --data "$d" --now 2036-06-01 retention run --register rauma-crm --batch 20
	has "$T/out" '^retention run 1 as of 2036-06-01: done \(register rauma-crm\), continued 1 time'
	has "$T/out" "anonymize-10y person: anonymize $due, held 1"
	[ "$(sql "$d" 'SELECT count(*) FROM retention_runs')" = 1 ] || die "a second run was made"

	# Exactly once, nothing lost.
	[ "$(sql "$d" "SELECT count(*) FROM usage_log WHERE actor = 'system:retention' AND
		action = 'anonymize' AND reason = 'anonymize-10y'")" = "$due" ] ||
		die "usage-log entries are not one per due person"
	[ "$(sql "$d" "SELECT count(*) FROM (SELECT entity_id FROM usage_log WHERE
		actor = 'system:retention' AND action = 'anonymize' GROUP BY entity_id
		HAVING count(*) > 1)")" = 0 ] || die "a person was anonymised twice"
	[ "$(sql "$d" 'SELECT count(*) FROM anonymized_records')" = "$due" ] ||
		die "anonymised rows are not one per due person"
	[ "$(sql "$d" "SELECT count(*) FROM usage_log WHERE actor = 'system:retention' AND
		action = 'anonymize' AND entity_id IN (SELECT id FROM persons)")" = 0 ] ||
		die "an anonymised person is still a person"
	[ "$(sql "$d" 'SELECT count(*) FROM persons')" = 301 ] ||
		die "persons not due (or held) were lost"
	[ "$(sql "$d" 'SELECT count(*) FROM persons WHERE id = 700')" = 1 ] ||
		die "the held person is gone"
	run 0 "$K" --data "$d" audit verify

	# A later run of the same day finds nothing more to do.
	run 0 "$K" --data "$d" --now 2036-06-01 retention run --register rauma-crm
	has "$T/out" '^retention run 2 '
	has "$T/out" 'anonymize 0, held 1'
}

# A second run while one holds the lock is refused.
t_overlap_refused() {
	d=$(fresh overlap)
	import_persons "$d" 1 200 2026-01-01
	"$K" --data "$d" --now 2036-06-01 retention run --batch 1 --pause 200 >/dev/null 2>&1 &
	pid=$!
	n=0
	while [ "$(sql "$d" 'SELECT count(*) FROM retention_runs')" = 0 ]; do
		n=$((n + 1))
		[ "$n" -lt 3000 ] || die "the run never started"
		sleep 0.05
	done
	run 1 "$K" --data "$d" --now 2036-06-01 retention run
	has "$T/err" 'another retention run is in progress'
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
}

# proves L-01: with retention_time set, the server runs the rules by itself once a day.
t_server_sweeps() {
	d=$(fresh server)
	import_persons "$d" 1 200 2026-01-01
	sed -i 's/^retention_time =$/retention_time = 00:00/' "$d/kortisto.conf"
	grep -q '^retention_time = 00:00$' "$d/kortisto.conf" || die "retention_time not set"
	"$K" --data "$d" --now 2036-06-01 serve --listen 127.0.0.1:0 2>"$T/serve.err" &
	pid=$!
	n=0
	while [ "$(sql "$d" "SELECT count(*) FROM retention_runs WHERE status = 'done'")" = 0 ]; do
		n=$((n + 1))
		[ "$n" -lt 3000 ] || die "the server never ran retention"
		kill -0 "$pid" 2>/dev/null || { show "$T/serve.err"; die "the server stopped"; }
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid" || die "the server did not stop cleanly"
	has "$T/serve.err" '^kortisto: retention run 1: done, 200 acted on$'
	hasnt "$T/serve.err" 'Etu|Suku|example.fi'
	[ "$(sql "$d" 'SELECT count(*) FROM persons')" = 0 ] || die "persons left"
	[ "$(sql "$d" "SELECT actor FROM retention_runs")" = system:retention ] ||
		die "the run is not the system's"
	# A bad time of day stops every command.
	sed -i 's/^retention_time = 00:00$/retention_time = 25:00/' "$d/kortisto.conf"
	run 1 "$K" --data "$d" retention runs
}

# ------------------------------------------------------------------------------------ runner

if [ "${1:-}" = --one ]; then
	cd "$REPO"
	"$2"
	exit 0
fi

run_tests retention sh "$0" t_help t_event_plan_run t_hold_and_release t_killed_run_continues \
	t_overlap_refused t_server_sweeps
