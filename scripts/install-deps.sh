#!/usr/bin/env bash
# Installs what the demo and the test suite need on a Debian machine:
# MariaDB server and client (tests start private servers), make, and the Go
# modules. Run as root (or with sudo). Idempotent.
set -euo pipefail
need=()
for pair in mariadbd:mariadb-server mariadb:mariadb-client make:make; do
  bin=${pair%%:*}; pkg=${pair##*:}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cd "$(dirname "$0")/.."
go mod download
