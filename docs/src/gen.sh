#!/bin/sh
# Regenerates docs pages whose reference sections come from package docs.
# Run from the repository root (make docs).
set -eu
pkgdoc() {
	# The package comment of $1 with its headings one level down.
	go doc "$1" | sed -n '/^package /,/^\(const\|func\|type\|var\) /p' | sed '1d;$d' |
		sed -e 's/^# /### /'
}
{
	cat docs/src/intel.head.md
	printf '\n## Reference: feed sources (internal/intel/feed)\n\n'
	pkgdoc ./internal/intel/feed
	printf '\n## Reference: STIX patterns (internal/intel/stix)\n\n'
	pkgdoc ./internal/intel/stix
	printf '\n## Reference: assets (internal/asset)\n\n'
	pkgdoc ./internal/asset
} > docs/intel.md
