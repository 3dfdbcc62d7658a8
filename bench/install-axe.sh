#!/usr/bin/env bash
# Install axe-core (the accessibility engine the browser tests inject into the
# console) into var/axe, once.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f var/axe/node_modules/axe-core/axe.min.js ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then echo "npm not found: the accessibility checks will skip (outside CI)"; exit 0; fi
mkdir -p var/axe
cd var/axe
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --silent --no-audit --no-fund axe-core@4 >/dev/null
echo "axe-core installed in var/axe"
