#!/usr/bin/env bash
# Base tools the tests call directly: curl (the seed's curl commands are run verbatim).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup/lib.sh
apt_install curl ca-certificates
