#!/usr/bin/env bash
# Installs what the `vscode` test tier needs: a real VS Code (code-server 4.100.3 = VS Code 1.100.3, the newest
# that runs on Node 20) in its own folder, and Debian's Chromium for Playwright to drive it. Idempotent: a second
# run only checks and exits. Runs only when the vscode tier is selected.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup/lib.sh

case " ${CT_TEST_TIERS:-vscode} " in *" vscode "*) ;; *) exit 0 ;; esac

CS_VERSION=4.100.3
CS_DIR="${CT_CODE_SERVER_DIR:-$PWD/.cache/code-server}"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"

# libkrb5-dev: headers for code-server's kerberos addon; ripgrep: the rg its search needs (GitHub is unreachable);
# build-essential/python3: node-gyp builds node-pty; procps, unzip: `ps` and `unzip -l` in the vscode tests.
apt_install chromium libkrb5-dev ripgrep build-essential python3 procps unzip

if [ -x "$CS_BIN" ] && [ "$(cat "$CS_DIR/.installed" 2>/dev/null)" = "$CS_VERSION" ]; then
  exit 0
fi

# node-gyp must build against the local Node headers: nodejs.org is not reachable.
node_prefix="$(dirname "$(dirname "$(node -p process.execPath)")")"
if [ ! -f "$node_prefix/include/node/node_version.h" ]; then
  echo "setup: Node headers not found under $node_prefix/include/node; node-pty cannot be built for code-server." >&2
  echo "setup: install a Node build that ships its headers (e.g. the nodejs package from NodeSource or nodejs.org)." >&2
  exit 1
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub unless the tarball sits in its cache: build it from Debian's rg.
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) echo "setup: code-server tier supports x86_64 and aarch64 only (got $(uname -m))" >&2; exit 1 ;;
esac
tmp="${TMPDIR:-/tmp}"
rg_cache="$tmp/vscode-ripgrep-cache-1.15.11"
mkdir -p "$rg_cache"
for v in v13.0.0-10 v13.0.0-4; do
  tarball="$rg_cache/ripgrep-$v-$rg_target.tar.gz"
  if [ ! -s "$tarball" ]; then
    staging="$(mktemp -d)"
    cp "$(command -v rg)" "$staging/rg"
    tar -czf "$tarball" -C "$staging" rg
    rm -rf "$staging"
  fi
done

echo "setup: installing code-server@$CS_VERSION into $CS_DIR (about a minute)"
mkdir -p "$CS_DIR"
[ -f "$CS_DIR/package.json" ] || echo '{"name":"ct-code-server","private":true}' >"$CS_DIR/package.json"
# unsafe-perm: its postinstall refuses to run as root otherwise; yes: node-pty's postinstall runs `npx node-gyp`.
(
  cd "$CS_DIR"
  npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir="$node_prefix" \
    npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CS_VERSION" >"$CS_DIR/install.log" 2>&1
) || { echo "setup: code-server install failed; see $CS_DIR/install.log" >&2; tail -n 30 "$CS_DIR/install.log" >&2; exit 1; }

"$CS_BIN" --version >/dev/null
echo "$CS_VERSION" >"$CS_DIR/.installed"
echo "setup: code-server $("$CS_BIN" --version | head -n 1) ready"
