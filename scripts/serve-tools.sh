#!/usr/bin/env bash
# The tools the `serve` tests use beyond the database servers: schemathesis (PyPI), which fuzzes
# the service against its generated OpenAPI document, and playwright-core (npm, pinned in
# tests/browser/package-lock.json), which drives Debian's chromium through the setup page.
# Idempotent: what is installed is left alone. Called by scripts/services.sh up.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'serve-tools: %s\n' "$*" >&2; }

if ! command -v schemathesis >/dev/null 2>&1; then
  say "installing schemathesis (pip)"
  python3 -m pip install --quiet --disable-pip-version-check 'schemathesis>=4,<5' >&2
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
command -v schemathesis >/dev/null 2>&1 || { say "schemathesis is still not on PATH"; exit 1; }
say "schemathesis: $(schemathesis --version 2>&1 | tail -n1)"

if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
  command -v npm >/dev/null 2>&1 || { say "npm is missing (Debian package npm)"; exit 1; }
  say "installing playwright-core (npm ci in tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund --silent) >&2
fi
say "playwright-core: $(node -p 'require("./tests/browser/node_modules/playwright-core/package.json").version')"
