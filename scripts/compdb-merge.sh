#!/bin/sh
# Merge the per-object entries written by the compile rules into compile_commands.json.
find "$1" -name '*.o.json' | sort | { printf '[\n'; sep=''; while read -r f; do printf '%s' "$sep"; cat "$f"; sep=','; done; printf ']\n'; }
