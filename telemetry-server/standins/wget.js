#!/usr/local/bin/node
// Just enough of wget for the official ClickHouse image's healthcheck (`wget --spider URL`).
'use strict';
const url = process.argv.slice(2).find((a) => /^https?:\/\//.test(a));
if (!url) {
  process.stderr.write('wget (stand-in): no URL\n');
  process.exit(2);
}
fetch(url, { signal: AbortSignal.timeout(4000) })
  .then((res) => process.exit(res.ok ? 0 : 8))
  .catch((err) => {
    process.stderr.write(`wget (stand-in): ${err.cause?.code ?? err.message}\n`);
    process.exit(4);
  });
