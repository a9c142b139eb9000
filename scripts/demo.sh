#!/usr/bin/env bash
# The main job: on a fresh Debian 12 machine, installs what Tart needs, builds the guest image
# (the first time, with progress), and runs the sample pipeline in microVMs with `tart exec`.
# No GitLab and no configuration needed. Run as root. Extra arguments go to `tart exec`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/install-deps.sh
node bin/tart.js image build

# The sample project becomes a git repository of its own, as a user's project would be.
work="$(mktemp -d /tmp/tart-sample.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp -r examples/sample-project/. "$work/"
cd "$work"
git init -q -b main
git add -A
git -c user.name=Tart -c user.email=tart@localhost commit -qm "Sample project"
node "$root/bin/tart.js" exec --executor qemu "$@"
