#!/usr/bin/env node
/*
 * postinstall: applies patches/confluent-kafka-javascript-<version>.patch to the Kafka client's C++
 * binding and recompiles it. What JS sees is the same; the JS thread's work per message is less:
 *  - a consumed message becomes its JS object with interned property names, the topic's name reused,
 *    payload and key copied into shared 64 KiB arenas instead of a Buffer with its own memory each
 *    (about 3.9 → 1.25 µs a message);
 *  - consumePacked(timeoutMs, max, timeoutOnlyForFirst, cb) hands a batch over as columns (one
 *    Float64Array, shared chunks of payloads and keys) and JS makes the records: LowLevelConsumer
 *    uses it when it is there (a bare consume loop: about 380k → 1.1M records/s). The batch is packed
 *    into native memory on the worker thread that gathered it, and the JS thread only wraps that memory
 *    (greeks through the broker on the real-size day: its JS thread 29–35 → 24–30 s of CPU);
 *  - produce() makes no headers object for a message without headers, and copies neither a string
 *    key nor the topic's name to the heap (about 0.77 → 0.6 µs a message);
 *  - produceBatch(topic, partition, values, keys, from, to) enqueues a run of messages to one topic (and partition, or each by its key) in one
 *    call, through one topic handle (RecordProducer.enqueue uses it when it is there);
 *  - producePacked(topic, partition, data, ends, keys, from, to) does the same for values packed one after
 *    another in one Buffer, with no Buffer per message (the flat-file producer's chunks), through one
 *    rd_kafka_produce_batch: to one partition, librdkafka looks it up and adds it to the transaction
 *    once a run, not once a message (the bench file's producePacked: 0.84–0.90 → 0.55–0.66 s);
 *  - poll() and the transactional calls hold the lock disconnect() takes to destroy the native
 *    handle (upstream they do not, and a poll during a disconnect crashed a process here).
 * README, "The Kafka client".
 *
 * Only a binding built here from source can be patched (build/Makefile exists: this machine, CI). A
 * prebuilt binary is left as it is, with a line saying how to get the patched one. bin/env.sh runs this
 * too, so a node_modules installed before the patch existed gets it; with nothing to do it is silent.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync, statSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const path = require('node:path');

/** A line of each patched file that only the patch has. */
const MARKERS = [
  ['src/common.cc', 'arena->IsEmpty()'],
  ['src/producer.cc', 'rd_kafka_produce_batch(topic, partition, RD_KAFKA_MSG_F_COPY'],
  ['src/workers.cc', 'class PackedMessages {'],
  ['src/kafka-consumer.cc', 'NodeConsumePacked'],
];
/** bin/env.sh's call: says nothing unless it patched or compiled something. */
const QUIET = process.argv.includes('--quiet');

function log(message) {
  process.stderr.write(`optflow: kafka binding: ${message}\n`);
}

function main() {
  let packageDir;
  try {
    packageDir = path.dirname(require.resolve('@confluentinc/kafka-javascript/package.json', { paths: [path.join(__dirname, '..')] }));
  } catch {
    return; // not installed (e.g. npm ci --omit of it): nothing to patch
  }
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  const patch = path.join(__dirname, '..', 'patches', `confluent-kafka-javascript-${version}.patch`);
  if (!existsSync(patch)) {
    if (!QUIET) log(`no patch for version ${version} (patches/ has one for another version): the binding is used as published`);
    return;
  }
  if (!existsSync(path.join(packageDir, 'build', 'Makefile'))) {
    if (!QUIET) log('prebuilt binary in use, left unpatched; to have it patched: npm rebuild @confluentinc/kafka-javascript --build-from-source');
    return;
  }
  const binary = path.join(packageDir, 'build', 'Release', 'confluent-kafka-javascript.node');
  const sources = MARKERS.map(([file]) => path.join(packageDir, file));
  if (!MARKERS.every(([file, marker]) => readFileSync(path.join(packageDir, file), 'utf8').includes(marker))) {
    // Fails the install if the patch no longer applies: the pinned version and its patch go together.
    // Tried first, so that sources patched by an older version of the patch are left as they are.
    try {
      execFileSync('patch', ['-p1', '--forward', '--silent', '--dry-run', '-i', patch], { cwd: packageDir, stdio: 'pipe' });
    } catch (err) {
      process.stderr.write(String(err.stdout ?? ''));
      throw new Error(`${path.basename(patch)} does not apply to ${packageDir} (patched by an older version of it?): run npm ci, which installs the binding afresh and patches it`, { cause: err });
    }
    execFileSync('patch', ['-p1', '--forward', '--silent', '-i', patch], { cwd: packageDir, stdio: 'inherit' });
  } else if (existsSync(binary) && sources.every((source) => statSync(binary).mtimeMs >= statSync(source).mtimeMs)) {
    return; // patched and compiled already (bin/env.sh runs this on every start)
  }
  try {
    execFileSync('make', ['-C', 'build', 'BUILDTYPE=Release', `-j${availableParallelism()}`], { cwd: packageDir, stdio: 'pipe' });
  } catch (err) {
    process.stderr.write(String(err.stderr ?? ''));
    throw err;
  }
  log(`patch applied to ${version} and compiled`);
}

main();
