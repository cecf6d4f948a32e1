#!/usr/bin/env bash
# Base tools the tests call directly: curl (the seed's curl commands are run verbatim).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup/lib.sh
# apache2-utils: `htpasswd`, which `npm run team -- add-member --htpasswd` runs for bcrypt lines (central overlay).
apt_install curl ca-certificates apache2-utils
