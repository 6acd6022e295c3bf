#!/bin/sh
# Every fact of each seed privacy notice (tests/golden/facts/RID.txt, one exact phrase per
# line) is carried by its declaration registers/RID.yaml, so nothing a notice promises is lost
# on the way into kortisto. The notice generator's golden tests will check the same lists
# against the generated notices.
set -eu
cd "$(dirname "$0")/../.."
status=0
checked=0
for facts in tests/golden/facts/*.txt; do
	rid=$(basename "$facts" .txt)
	decl="registers/$rid.yaml"
	if [ ! -f "$decl" ]; then
		echo "FAIL: $facts has no declaration $decl"
		status=1
		continue
	fi
	while IFS= read -r fact || [ -n "$fact" ]; do
		[ -n "$fact" ] || continue
		checked=$((checked + 1))
		if ! grep -qF -- "$fact" "$decl"; then
			echo "FAIL: $decl lacks the fact: $fact"
			status=1
		fi
	done <"$facts"
done
for rid in espoo-talent-hub espoo-feedback kemi-crm sospro-marketing rauma-crm; do
	if [ ! -f "tests/golden/facts/$rid.txt" ]; then
		echo "FAIL: no fact list for seed register $rid"
		status=1
	fi
done
echo "checked $checked facts"
exit $status
