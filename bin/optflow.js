#!/usr/bin/env node
'use strict';
// librdkafka's blocking calls (transactions, commits, metadata) run on libuv's thread pool, several per
// processor task at once; Node's default of 4 threads would queue them behind each other.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '16';

/**
 * Exits with `code`. A librdkafka call that never returned (src/kafka/producer.ts, HungCallError)
 * holds a thread that Node's exit waits for, for ever: such a process ends by SIGKILL instead, which
 * its supervisor sees as the failure it is.
 */
function exit(code) {
  const { hungNativeCalls } = require('../dist/src/kafka/producer.js');
  const hung = hungNativeCalls();
  if (hung > 0) {
    process.stderr.write(`optflow: ${hung} Kafka client call(s) never returned; ending the process by SIGKILL (exit ${code} intended)\n`);
    process.kill(process.pid, 'SIGKILL');
  }
  process.exit(code);
}

require('../dist/src/cli/main.js').main(process.argv.slice(2)).then(
  (code) => exit(code ?? 0),
  (err) => {
    process.stderr.write(`optflow: ${err && err.message ? err.message : String(err)}\n`);
    exit(1);
  },
);
