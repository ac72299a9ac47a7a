#!/bin/sh
# One compile_commands.json entry: directory, file, command (kept beside each object).
dir=$1 file=$2 cmd=$3
esc() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
printf '{"directory":"%s","file":"%s","command":"%s"}\n' "$(esc "$dir")" "$(esc "$file")" "$(esc "$cmd")"
