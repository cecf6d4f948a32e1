#!/bin/bash
# Chapter Telemetry, central overlay: the official image's entrypoint runs this once, on an empty
# data volume (/docker-entrypoint-initdb.d/20-central.sh), as `default` from inside the container.
# 1. the schema migrations (the same files the team server applies), 2. access.sql (roles,
# grants, row policies, read-only profile), 3. the two service users, from the SHA-256 of their
# mounted password files: ct_ingest (the collector: role ct_writer) and ct_access_admin (`npm run
# team -- central-setup / add-member …` and the team server: access management, and it stores).
# Passwords never appear on a command line or in SQL: only their hashes, through standard input.
set -euo pipefail
ct_migrations="${CHAPTER_TELEMETRY_MIGRATIONS:-/chapter-telemetry/migrations}"
ct_access="${CHAPTER_TELEMETRY_ACCESS_SQL:-/chapter-telemetry/central/access.sql}"
ct_secrets="${CHAPTER_TELEMETRY_SECRETS_DIR:-/run/secrets}"
ct_hash() {
  local f="$ct_secrets/$1"
  if [ ! -s "$f" ] || [ "$(wc -l < "$f")" != 0 ]; then
    echo >&2 "$0: $f must exist and hold the password without a newline (README.md: openssl rand -hex 32 | tr -d '\\n')"
    exit 1
  fi
  sha256sum < "$f" | cut -d' ' -f1
}
ingest_hash="$(ct_hash ingest-password)"
admin_hash="$(ct_hash admin-password)"
for f in "$ct_migrations"/*.sql "$ct_access"; do
  echo "$0: applying $f"
  clickhouse-client --host 127.0.0.1 --multiquery < "$f"
done
clickhouse-client --host 127.0.0.1 --multiquery <<SQL
CREATE USER IF NOT EXISTS ct_ingest IDENTIFIED WITH sha256_hash BY '${ingest_hash}';
GRANT ct_writer TO ct_ingest;
ALTER USER ct_ingest DEFAULT ROLE ct_writer;
CREATE USER IF NOT EXISTS ct_access_admin IDENTIFIED WITH sha256_hash BY '${admin_hash}';
GRANT ACCESS MANAGEMENT ON *.* TO ct_access_admin WITH GRANT OPTION;
GRANT ALL ON default.* TO ct_access_admin WITH GRANT OPTION;
GRANT ct_writer, ct_contributor, ct_coordinator, ct_admin TO ct_access_admin WITH ADMIN OPTION;
ALTER USER ct_access_admin DEFAULT ROLE ct_writer;
SQL
echo "$0: central access ready (users ct_ingest, ct_access_admin; members come from npm run team)"
