// Stand-in entrypoint: runs Chapter Telemetry's embedded server in the role of the official image
// it replaces (STANDIN_ROLE), ignoring the official image's arguments (e.g. the collector's --config).
'use strict';
const role = process.env.STANDIN_ROLE;
const args =
  role === 'clickhouse'
    ? // ClickHouse HTTP on 8123 over chDB, data in the image's data volume, schema from /docker-entrypoint-initdb.d.
      ['--data-dir', '/var/lib/clickhouse', '--host', '0.0.0.0', '--http-port', '8123', '--grpc-port', '9317', '--otlp-http-port', '9318']
    : // The collector: OTLP in on 4317/4318, stored into the ClickHouse service over HTTP.
      ['--clickhouse-url', process.env.STANDIN_CLICKHOUSE_URL || 'http://clickhouse:8123', '--data-dir', '/tmp/collector',
       '--host', '0.0.0.0', '--grpc-port', '4317', '--otlp-http-port', '4318', '--http-port', '8124'];
if (process.argv.length > 2) process.stdout.write(`stand-in ${role}: ignoring arguments ${process.argv.slice(2).join(' ')}\n`);
require('/app/dist/server.js').main(args);
