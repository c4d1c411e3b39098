#!/usr/bin/env bash
# Install what pytest-policysmith needs: compilers and BPF/network tools (apt, as root), the package in .venv (pip).
# The tcp domain needs clang, bpftool, libbpf-dev, iproute2 and ethtool; the report test needs chromium.
# Without them those tests skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PKGS=(gcc libc6-dev clang llvm bpftool libbpf-dev iproute2 ethtool chromium)
missing=()
for pkg in "${APT_PKGS[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    elif ! command -v gcc >/dev/null 2>&1; then
        echo "setup: gcc is missing; install it (Debian: sudo apt-get install gcc)" >&2; exit 1
    else
        echo "setup: not installed: ${missing[*]} (the tcp tests will skip; Debian: sudo apt-get install ${missing[*]})" >&2
    fi
fi
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
# Reinstall when pyproject.toml changed: domains and generators are found through its entry points.
stamp=".venv/.policysmith-pyproject.sha256"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || \
   ! .venv/bin/python -c "import pytest_policysmith, xdist, openai, matplotlib, ruff, mypy" 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check -e ".[dev]"
    echo "$want" > "$stamp"
fi
