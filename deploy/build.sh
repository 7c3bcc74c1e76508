#!/bin/sh
# Builds the static burnwatch binary the image ships. The Dockerfile runs
# this script, and so do deploy's tests (TestImageBinaryIsStatic), so what
# they check is how the image is built.
#
#   deploy/build.sh OUTPUT [VERSION]
#
# GOOS and GOARCH from the environment cross-compile (docker buildx sets them
# from TARGETOS and TARGETARCH); CGO is off, so the binary needs no libc and
# runs on distroless/static or scratch.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 OUTPUT [VERSION]" >&2
	exit 2
fi
out=$1
version=${2:-0.1.0-dev}

# OUTPUT is relative to where the script was called from; the build runs
# at the module root, the parent of deploy/.
case $out in
/*) ;;
*) out=$(pwd)/$out ;;
esac
cd "$(dirname "$0")/.."
CGO_ENABLED=0 exec go build -trimpath -ldflags "-s -w -X main.version=${version}" -o "$out" ./cmd/burnwatch
