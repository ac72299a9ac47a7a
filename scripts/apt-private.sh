# A private apt configuration under a build folder, for fetching Debian packages by name
# without touching the machine's /etc/apt: sourced by scripts/fetch-lwip.sh (a deb-src line)
# and scripts/fetch-qemu.sh (a deb line for bookworm-backports).
#
#   apt_private DIR "deb-src" ""            # DIR/apt/sources.list: deb-src MIRROR SUITE main
#   apt_private DIR "deb" "-backports"      # ... deb MIRROR SUITE-backports main
#   apt-get "${apt_opts[@]}" download PKG   # the lists are already updated (DIR/apt/update.log)
#
# The mirror and release are the machine's own first Debian "deb" source (not -security, not
# -updates, not a third-party repository): the deb822 file of Debian 12, or the one-line
# sources.list of older systems. Sets the array apt_opts and the variables apt_mirror and
# apt_suite, says which source it uses, and runs apt-get update with it; calls die (defined by
# the caller) when the release cannot be told or the update fails.

apt_private() {
	local dir=$1 type=$2 suffix=$3
	local mirror="" suite="" keyring=""
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		# deb822: stanzas separated by blank lines; take the first whose Types has "deb" and
		# whose URIs is not a security mirror.
		read -r mirror suite keyring < <(awk '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && uris != "" && uris !~ /security/ && !done) {
					split(uris, u, " "); split(suites, s, " ")
					print u[1], s[1], (signed == "" ? "-" : signed); done = 1
				}
				types = uris = suites = signed = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
			/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
			/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
			/^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); signed = $0 }
			END { flush() }' /etc/apt/sources.list.d/debian.sources) || true
	fi
	if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
		# One-line format: deb [options] URI SUITE COMPONENTS...
		read -r mirror suite < <(awk '$1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($i !~ /security/) { print $i, $(i + 1); exit }
			}' /etc/apt/sources.list) || true
		keyring=-
	fi
	if [ -z "$suite" ] && [ -r /etc/os-release ]; then
		suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	fi
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	[ -n "$suite" ] || die "cannot tell the machine's Debian release"
	# A Signed-By that is a file path can be reused; inline keys (or none) fall back to apt's
	# trusted keyrings.
	local opts=""
	if [ -n "$keyring" ] && [ "$keyring" != - ] && [ -f "$keyring" ]; then
		opts="[signed-by=$keyring] "
	fi
	apt_mirror=$mirror
	apt_suite=$suite$suffix

	local apt_dir=$dir/apt
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	echo "$type ${opts}${mirror} ${apt_suite} main" >"$apt_dir/sources.list"
	apt_opts=(
		-o "Dir::Etc::SourceList=$apt_dir/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::State::Lists=$apt_dir/lists"
		-o "Dir::Cache=$apt_dir/cache"
	)
	# apt downloads as the unprivileged _apt user, which cannot write into a root-owned build
	# folder; download as ourselves instead (the same thing apt does, with a warning, anyway).
	[ "$(id -u)" -ne 0 ] || apt_opts+=(-o "APT::Sandbox::User=root")

	echo "$(basename "$0" .sh): $type $mirror $apt_suite main (private apt configuration in $apt_dir)"
	apt-get "${apt_opts[@]}" -q update >"$apt_dir/update.log" 2>&1 ||
		{ cat "$apt_dir/update.log" >&2; die "apt-get update failed"; }
}
