#!/usr/bin/env bash
# Makes sure nats-server is on PATH: installs it with apt-get where that works, else says how.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1; then
  echo "nats-server: $(nats-server --version)"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "nats-server not found: run 'sudo apt-get install nats-server' as an administrator" >&2
      exit 1
    fi
  fi
  echo "nats-server not found: installing it with apt-get (Debian package nats-server)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null
  echo "nats-server: $(nats-server --version)"
  exit 0
fi
echo "nats-server not found on PATH: install it (brew install nats-server, or a release from the NATS project) or set NATS_URL to a running server with JetStream" >&2
exit 1
