#!/bin/bash
# Chapter Telemetry, docker mode: the official image's entrypoint runs this once, on an empty data
# volume (mounted as /docker-entrypoint-initdb.d/10-migrations-as-writer.sh). It applies our schema
# migrations as the writer (telemetry_writer): `default` is read-only, and the materialized views get
# the writer as their definer, the user that later inserts through them.
#
# The password comes from the mounted owner-only secret and goes to clickhouse-client in a temporary
# client config file (mode 0600), never on a command line: the entrypoint's own `--password` argument
# would show it to every process listing on the host while the migrations run.
# The two paths are where docker-compose.yml mounts them; the variables only let a test run this file.
ct_writer_user="${CHAPTER_TELEMETRY_WRITER_USER:-telemetry_writer}"
ct_secret="${CHAPTER_TELEMETRY_WRITER_SECRET:-/run/secrets/clickhouse-writer-password}"
ct_migrations="${CHAPTER_TELEMETRY_MIGRATIONS:-/chapter-telemetry/migrations}"
if [ ! -s "$ct_secret" ]; then
  echo >&2 "$0: $ct_secret is missing or empty: start the stack with npm run stack -- up --mode docker (or the extension), which generates it"
  exit 1
fi
ct_client_config="$(mktemp /tmp/chapter-telemetry-client.XXXXXX)"
{
  printf '<clickhouse><user>%s</user><password><![CDATA[' "$ct_writer_user"
  cat "$ct_secret"
  printf ']]></password></clickhouse>\n'
} > "$ct_client_config"
for ct_file in "$ct_migrations"/*.sql; do
  echo "$0: applying $ct_file as $ct_writer_user"
  if ! clickhouse-client --config-file "$ct_client_config" --host 127.0.0.1 --multiquery < "$ct_file"; then
    rm -f "$ct_client_config"
    echo >&2 "$0: migration $ct_file failed"
    exit 1
  fi
done
rm -f "$ct_client_config"
unset ct_writer_user ct_secret ct_migrations ct_client_config ct_file
