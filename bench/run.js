#!/usr/bin/env node
/* Runs benchmarks from the compiled tree: `node bench/run.js <flatfile|greeks|features|parquet|decode|all>`. */
'use strict';
const path = require('node:path');

const BENCHES = { flatfile: 'flatfile', greeks: 'greeks', features: 'features', parquet: 'parquet', replay: 'replay', processors: 'processors', decode: 'decode' };
/* Harnesses with their own flags (`npm run chaos -- --faults 5`), a long run (`bench:day`) or a comparison of clients (`bench:clients`), not part of `all`. */
const HARNESSES = { chaos: 'chaos', soak: 'soak', day: 'day', clients: 'clients' };

async function main() {
  const name = process.argv[2];
  if (HARNESSES[name]) {
    await require(path.join(__dirname, '..', 'dist', 'bench', `${HARNESSES[name]}.js`)).run(process.argv.slice(3));
    return;
  }
  const names = name === 'all' ? Object.keys(BENCHES) : [name];
  if (!name || names.some((n) => !BENCHES[n])) {
    process.stderr.write(`usage: node bench/run.js <${[...Object.keys(BENCHES), ...Object.keys(HARNESSES)].join('|')}|all>\n`);
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
