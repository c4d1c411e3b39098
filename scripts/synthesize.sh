#!/usr/bin/env bash
# The main job: search for a cache heuristic. Usage: bash scripts/synthesize.sh [CONTEXT] [pytest args...]
# Without a trace store (no $POLICYSMITH_TRACES, no ../shared/traces) it runs the offline
# synthetic context, whose trace is generated on the fly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${POLICYSMITH_TRACES:-}" ] && [ -d ../shared/traces ]; then export POLICYSMITH_TRACES="$(cd ../shared/traces && pwd)"; fi
ctx="${1:-}"
if [ -z "$ctx" ]; then
    if [ -n "${POLICYSMITH_TRACES:-}" ]; then ctx=contexts/cache_cloudphysics; else
        echo "synthesize: no trace store found; using the offline synthetic context (set POLICYSMITH_TRACES for real traces)"
        ctx=contexts/cache_synthetic
    fi
else shift; fi
.venv/bin/pytest --synthesize "$ctx" -n auto --synth-json .policysmith/last_run.json "$@"
