#!/usr/bin/env bash
# Install what pytest-policysmith needs: a C compiler (apt) and the package in .venv (pip).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v gcc >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev;
    else echo "setup: gcc is missing; install it (Debian: sudo apt-get install gcc)" >&2; exit 1; fi
fi
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
if ! .venv/bin/python -c "import pytest_policysmith, xdist, openai" 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check -e ".[dev]"
fi
