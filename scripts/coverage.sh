#!/usr/bin/env bash
# Run every host test binary built with coverage counters (make coverage) and report, with
# gcovr, the line and branch coverage of the portable code: the virtio stack, the PCI
# library and the ACPI parser (what tests/host exercises; not the kernel, not the tests).
#
#   scripts/coverage.sh HOST_COV_DIR OUT_DIR
set -euo pipefail
bins=$1
out=$2
mkdir -p "$out"
status=0
for t in "$bins"/test_*; do
	[ -x "$t" ] || continue
	if ! "$t" > "$out/$(basename "$t").log" 2>&1; then
		echo "coverage: $(basename "$t") failed (see $out/$(basename "$t").log)" >&2
		status=1
	fi
done
filters=(--filter 'drivers/' --filter 'lib/acpi/')
gcovr --root . --object-directory "$bins" "${filters[@]}" --html-details "$out/index.html" \
	--print-summary --txt "$out/coverage.txt" >/dev/null
gcovr --root . --object-directory "$bins" "${filters[@]}" --sort-percentage --txt
exit $status
