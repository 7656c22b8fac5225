#!/usr/bin/env bash
# Installs what the demo and the test suite need on a Debian machine:
# MariaDB server and client (tests start private servers), make, and the Go
# modules. Run as root (or with sudo). Idempotent.
set -euo pipefail
need=()
# php-cli/php-mysql: the Vtiger extension's tests; chromium: the copy-detection
# browser test; zip/unzip: the Module Manager package; systemd: systemd-analyze
# verifies the unit file (deploy/systemd_test.go skips without it).
for pair in mariadbd:mariadb-server mariadb:mariadb-client make:make php:php-cli zip:zip unzip:unzip chromium:chromium systemd-analyze:systemd; do
  bin=${pair%%:*}; pkg=${pair##*:}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || need+=("$pkg")
done
# php-mysql has no binary of its own: check the extension.
if command -v php >/dev/null 2>&1 && ! php -m 2>/dev/null | grep -qi '^mysqli$'; then need+=(php-mysql); fi
if ! command -v php >/dev/null 2>&1; then need+=(php-mysql php-mbstring); fi
# smarty4: renders the Settings page templates in the PHP tests (Vtiger 8 ships Smarty 4).
[ -f /usr/share/php/smarty4/Smarty.class.php ] || need+=(smarty4)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cd "$(dirname "$0")/.."
go mod download
