#!/usr/bin/env bash
# Install Prism (the OpenAPI mock server) into var/prism, once.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x var/prism/node_modules/.bin/prism ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then echo "npm not found: the Twilio mock tests will skip"; exit 0; fi
mkdir -p var/prism
cd var/prism
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --silent --no-audit --no-fund @stoplight/prism-cli@5 >/dev/null
echo "prism installed in var/prism"
