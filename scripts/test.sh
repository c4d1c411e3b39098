#!/usr/bin/env bash
# The test suite: unit and plugin tests, then the stored heuristics' regression gates.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${POLICYSMITH_TRACES:-}" ] && [ -d ../shared/traces ]; then export POLICYSMITH_TRACES="$(cd ../shared/traces && pwd)"; fi
.venv/bin/pytest tests contexts -p no:cacheprovider "$@"
