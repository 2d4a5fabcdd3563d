#!/usr/bin/env node
/*
 * postinstall: applies patches/confluent-kafka-javascript-<version>-consume.patch to the Kafka
 * client's C++ binding and recompiles it. The patch changes how each consumed message becomes a JS
 * object (interned property names, the topic's name reused, payloads and keys copied into shared
 * 64 KiB arenas instead of a Buffer with its own memory each); what JS sees is the same, and it takes
 * the binding's conversion from about 3.9 to 1.25 µs per message (README, "The Kafka layer").
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

const MARKER = 'PooledCopy';
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
  const patch = path.join(__dirname, '..', 'patches', `confluent-kafka-javascript-${version}-consume.patch`);
  if (!existsSync(patch)) {
    if (!QUIET) log(`no consume patch for version ${version} (patches/ has it for another version): the binding is used as published`);
    return;
  }
  if (!existsSync(path.join(packageDir, 'build', 'Makefile'))) {
    if (!QUIET) log('prebuilt binary in use, left unpatched; for the faster consume: npm rebuild @confluentinc/kafka-javascript --build-from-source');
    return;
  }
  const source = path.join(packageDir, 'src', 'common.cc');
  const binary = path.join(packageDir, 'build', 'Release', 'confluent-kafka-javascript.node');
  if (!readFileSync(source, 'utf8').includes(MARKER)) {
    // Fails the install if the patch no longer applies: the pinned version and its patch go together.
    execFileSync('patch', ['-p1', '--forward', '--silent', '-i', patch], { cwd: packageDir, stdio: 'inherit' });
  } else if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) {
    return; // patched and compiled already (bin/env.sh runs this on every start)
  }
  try {
    execFileSync('make', ['-C', 'build', 'BUILDTYPE=Release', `-j${availableParallelism()}`], { cwd: packageDir, stdio: 'pipe' });
  } catch (err) {
    process.stderr.write(String(err.stderr ?? ''));
    throw err;
  }
  log(`consume patch applied to ${version} and compiled`);
}

main();
