#!/bin/sh
# Tart's own CI (.gitlab-ci.yml) in microVMs, in a Node 20 image from a loopback registry.
# Options go to `tart exec` (e.g. --dirty, a job name, --cache-dir DIR). Needs root, the guest
# image (`node bin/tart.js image build`) and scripts/install-deps.sh's packages.
set -eu
cd "$(dirname "$0")/.."
exec npx tsx scripts/self-ci.ts "$@"
