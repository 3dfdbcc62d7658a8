#!/usr/bin/env bash
# Install HAProxy (the load balancer of the "rolling" scenario) from the
# distribution's packages, once. Needs root or sudo and apt-get.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install haproxy yourself (the rolling scenario needs it)"; exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends haproxy >/dev/null \
  || { $SUDO apt-get update -qq && $SUDO apt-get install -y --no-install-recommends haproxy >/dev/null; }
# The harness runs haproxy itself, on free ports: the packaged service is not needed.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now haproxy >/dev/null 2>&1 || true
fi
echo "haproxy installed: $(haproxy -v | head -1)"
