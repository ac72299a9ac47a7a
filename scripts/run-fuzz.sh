#!/usr/bin/env bash
# Run libFuzzer binaries for a fixed time each.
#
#   scripts/run-fuzz.sh SECONDS BIN...
#
# Each binary build/fuzz/fuzz_<name> runs with -max_total_time=SECONDS on the corpus directory
# build/fuzz/corpus/<name> (created if missing, kept between runs so coverage accumulates).
# Crash/leak/timeout inputs are written to build/fuzz/artifacts/<name>/.
# Exit status: 0 when no binary found anything; otherwise 1, after printing the artifact file
# name(s) of each failing binary on stderr as "run-fuzz: <name>: FAILED: <file>".
set -uo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 SECONDS BIN..." >&2
	exit 2
fi
seconds=$1
shift
case $seconds in
'' | *[!0-9]*) echo "run-fuzz: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac

status=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	dir=$(cd "$(dirname "$bin")" && pwd)
	corpus="$dir/corpus/$name"
	artifacts="$dir/artifacts/$name"
	log="$dir/$name.log"
	mkdir -p "$corpus" "$artifacts"
	if [ ! -x "$bin" ]; then
		echo "run-fuzz: $name: FAILED: binary $bin missing" >&2
		status=1
		continue
	fi
	before=$(ls -1 "$artifacts" | wc -l)
	# Committed seeds (tests/fuzz/seeds/<name>/), if any, are read as a second corpus.
	seeds="$(cd "$(dirname "$0")/.." && pwd)/tests/fuzz/seeds/$name"
	[ -d "$seeds" ] || seeds=""
	echo "run-fuzz: $name: ${seconds}s, corpus $corpus${seeds:+ + seeds}"
	# A slow input is no finding (a loaded host makes any input slow): libFuzzer would write
	# it as a "slow-unit" artifact after 10 s, so that report is off; a hang is still one
	# (-timeout, 10 minutes per input).
	"$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" \
		-report_slow_units=1000000 -timeout=600 \
		"$corpus" $seeds >"$log" 2>&1
	rc=$?
	# libFuzzer exits non-zero on a crash, leak, timeout or OOM and names the input it wrote.
	found=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")
	after=$(ls -1 "$artifacts" | wc -l)
	if [ $rc -ne 0 ] || [ -n "$found" ] || [ "$after" -gt "$before" ]; then
		[ -n "$found" ] || found="(exit $rc, see $log)"
		for f in $found; do
			echo "run-fuzz: $name: FAILED: $f" >&2
		done
		grep -m1 -E 'ERROR|SUMMARY|deadly signal' "$log" >&2 || true
		status=1
	else
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "run-fuzz: $name: ok (${runs:-?} runs, $(ls -1 "$corpus" | wc -l) corpus files)"
	fi
done
exit $status
