#!/usr/bin/env bash
# cli (and vscode) tiers run the real Claude Code CLI from node_modules. It needs no system package
# (the binary links only libc), but npm must have run its postinstall, which puts the platform binary
# in place of bin/claude.exe; `npm ci --ignore-scripts` skips it. Idempotent: checks, repairs once.
set -euo pipefail
cd "$(dirname "$0")/../.."

case " ${CT_TEST_TIERS:-cli} " in
  *" cli "*|*" vscode "*) ;;
  *) exit 0 ;;
esac

want=$(node -p "require('./package.json').devDependencies['@anthropic-ai/claude-code']")
# A throwaway HOME: the CLI may write its config there.
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
have() { HOME="$home" node_modules/.bin/claude --version 2>/dev/null | awk '{print $1}'; }

if [ "$(have)" != "$want" ]; then
  if [ -f node_modules/@anthropic-ai/claude-code/install.cjs ]; then
    echo "setup: placing the Claude Code CLI binary (node_modules/@anthropic-ai/claude-code/install.cjs)"
    (cd node_modules/@anthropic-ai/claude-code && node install.cjs) || true
  fi
fi
if [ "$(have)" != "$want" ]; then
  echo "setup: the Claude Code CLI $want does not run from node_modules/.bin/claude (got '$(have)')." >&2
  echo "setup: reinstall it with: npm install   (on Linux x64/arm64 glibc the binary comes from @anthropic-ai/claude-code-linux-*)" >&2
  exit 1
fi
