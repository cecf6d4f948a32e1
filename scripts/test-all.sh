#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need on a fresh machine,
# builds, then runs every tier with node's test runner against real parts (chDB, Docker,
# code-server, the Claude Code CLI). `npm test -- unit server` runs only the named tiers.
set -euo pipefail
cd "$(dirname "$0")/.."

tiers=("$@")
[ ${#tiers[@]} -eq 0 ] && tiers=(unit server cli docker vscode)

# `npm install` (not `npm ci`): chdb lists engine packages for other platforms as optional
# dependencies that the registry does not serve, which `npm ci` refuses as an out-of-sync lock.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
export CT_TEST_TIERS="${tiers[*]}"
for s in scripts/setup/[0-9]*.sh; do
  [ -e "$s" ] && bash "$s"
done
npm run build --silent
# Types are checked too: esbuild strips them without a look.
npx tsc -p . --noEmit
# Lint: typescript-eslint's recommended rules and the import boundaries (eslint.config.mjs); a few seconds.
npx eslint .

files=()
for t in "${tiers[@]}"; do
  [ -d "test/$t" ] || continue
  while IFS= read -r f; do files+=("$f"); done < <(find "test/$t" -maxdepth 1 -name '*.test.ts' | sort)
done
if [ ${#files[@]} -eq 0 ]; then echo "no test files for tiers: ${tiers[*]}" >&2; exit 1; fi
mkdir -p .test-artifacts
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
