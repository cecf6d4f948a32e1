#!/usr/bin/env bash
# Docker tier needs: Debian's Docker Engine, compose 1.29 (to check our compose file and that it sees
# our project), the registry (to exercise the real image-pull path), and the locally built stand-in
# images (nothing can be pulled here), and libxml2's xmllint (a real XML parser for the ClickHouse
# users.d / config.d files we cannot load into a real ClickHouse server here). Idempotent; does nothing unless tier docker or vscode runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib.sh

case " ${CT_TEST_TIERS:-docker} " in
  *" docker "*|*" vscode "*) ;;
  *) exit 0 ;;
esac

apt_install docker.io docker-compose docker-registry libxml2-utils

# Debian's docker.io ships /usr/bin/docker; another client earlier on PATH is fine (same API).
if ! docker version >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: the Docker daemon is not running (start it: sudo systemctl start docker)" >&2
    exit 1
  fi
  mkdir -p /var/log
  echo "setup: starting dockerd (log: /var/log/chapter-telemetry-dockerd.log)"
  nohup dockerd >/var/log/chapter-telemetry-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 100); do
    docker version >/dev/null 2>&1 && break
    sleep 0.2
  done
  if ! docker version >/dev/null 2>&1; then
    echo "setup: dockerd did not answer; last log lines:" >&2
    tail -n 20 /var/log/chapter-telemetry-dockerd.log >&2
    exit 1
  fi
fi

# Stand-ins carry dist/server.js: rebuilt when it changed (build.mjs compares a content label, so
# an up-to-date pair costs well under a second; the base image is cached by content too).
npm run build --silent
node telemetry-server/standins/build.mjs
