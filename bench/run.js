#!/usr/bin/env node
/* Runs benchmarks from the compiled tree: `node bench/run.js <flatfile|greeks|features|parquet|all>`. */
'use strict';
const path = require('node:path');

const BENCHES = { flatfile: 'flatfile', greeks: 'greeks', features: 'features', parquet: 'parquet', replay: 'replay', day: 'day' };

async function main() {
  const name = process.argv[2];
  const names = name === 'all' ? Object.keys(BENCHES) : [name];
  if (!name || names.some((n) => !BENCHES[n])) {
    process.stderr.write(`usage: node bench/run.js <${Object.keys(BENCHES).join('|')}|all>\n`);
    process.exit(2);
  }
  for (const n of names) {
    process.stdout.write(`\n== bench ${n} ==\n`);
    const mod = require(path.join(__dirname, '..', 'dist', 'bench', `${BENCHES[n]}.js`));
    await mod.run();
  }
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(1);
});
