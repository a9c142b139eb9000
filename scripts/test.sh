#!/usr/bin/env bash
# The test command: installs dependencies, builds the guest image if needed, then runs
# type-check, lint and every test. This is what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
node bin/tart.js image build
npm run --silent typecheck
npm run --silent lint
npm test
