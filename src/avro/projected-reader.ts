import type * as avro from 'avsc';
import { bigintLong, readLong } from './types';
import { utf8Text } from '../util/short-strings';

/**
 * A reader of some fields of a record, compiled for one writer schema: the processors' hot path, where
 * avsc's resolver walks every field of the writer's schema through a method call per field (skipping
 * the fields it drops through another per union branch). Greeks reads 4 of a stock quote's 14 fields,
 * features 12 of an enriched trade's 36; decoding was a third of features' thread through the broker.
 *
 * The compiled function reads exactly what avsc's resolver reads, with the same values: strings
 * (a short one, such as an underlying, as the one string of its bytes: util/short-strings.ts),
 * doubles, `long` as bigint (types.ts readLong), `int` and counts as avsc's varint numbers, enums as
 * their symbols, null unions unwrapped, arrays with the guard of types.ts (a count larger than the
 * bytes left is corruption, not an allocation). It fails where decodeAvro fails: an invalid enum or
 * union index, a truncated buffer, trailing data. `test/unit/avro/projected-reader.test.ts` holds it to
 * avsc on random records and corruptions of every schema.
 */
export type ProjectedReader = (buf: Buffer, pos: number) => unknown;

interface Emitter {
  /** A fresh local name. */
  local(prefix: string): string;
  /** A constant the code refers to by name. */
  constant(value: unknown): string;
}

type AvroTypeNode = avro.Type & {
  typeName: string;
  types?: AvroTypeNode[];
  itemsType?: AvroTypeNode;
  symbols?: string[];
  fields?: { name: string; type: AvroTypeNode }[];
  name?: string;
};

/** Code that sets `target` to the varint number at pos, as avsc reads `int`, counts and indices. */
function varintCode(target: string, e: Emitter): string {
  const [n, k, b, h, f, fk] = ['n', 'k', 'b', 'h', 'f', 'fk'].map((p) => e.local(p));
  // avsc's Tap.readLong: 28 bits in integer arithmetic, then floats.
  return `let ${n} = 0, ${k} = 0, ${b}, ${h};
do { ${b} = buf[pos++]; ${h} = ${b} & 0x80; ${n} |= (${b} & 0x7f) << ${k}; ${k} += 7; } while (${h} && ${k} < 28);
if (${h}) { let ${f} = ${n}, ${fk} = 268435456; do { ${b} = buf[pos++]; ${f} += (${b} & 0x7f) * ${fk}; ${fk} *= 128; } while (${b} & 0x80); ${target} = (${f} % 2 ? -(${f} + 1) : ${f}) / 2; }
else ${target} = (${n} >> 1) ^ -(${n} & 1);`;
}

const SKIP_VARINT = 'while (buf[pos++] & 0x80) {}';

function unionBranches(type: AvroTypeNode): AvroTypeNode[] | null {
  return type.typeName === 'union:unwrapped' ? type.types ?? null : null;
}

/** Code that sets `target` to the value at pos; null: a type this reader does not compile. */
function readCode(type: AvroTypeNode, target: string, e: Emitter): string | null {
  switch (type.typeName) {
    case 'null':
      return `${target} = null;`;
    case 'boolean':
      return `${target} = !!buf[pos++];`;
    case 'int':
    case 'long':
      return varintCode(target, e);
    case 'abstract:long':
      return type === bigintLong ? `tap.pos = pos; ${target} = readLong(tap); pos = tap.pos;` : null;
    case 'double':
      return `pos += 8; ${target} = pos > len ? 0 : buf.readDoubleLE(pos - 8);`;
    case 'string':
    case 'bytes': {
      const length = e.local('length');
      // avsc copies bytes out of the buffer (Tap.readFixed).
      // A position made negative by a corrupt skip before: utf8Slice throws there, as in avsc.
      const text = `(${length} <= 6 && pos >= ${length} ? utf8Text(buf, pos - ${length}, ${length}) : buf.utf8Slice(pos - ${length}, pos))`;
      const value = type.typeName === 'string' ? text : `Buffer.from(buf.subarray(pos - ${length}, pos))`;
      // Read as avsc does: a negative length invalidates; past the end reads nothing (the end check fails).
      return `let ${length}; ${varintCode(length, e)}
if (${length} < 0) { pos = len + 1; ${target} = ${type.typeName === 'string' ? "''" : 'undefined'}; } else { pos += ${length}; ${target} = pos > len ? undefined : ${value}; }`;
    }
    case 'enum': {
      const index = e.local('index');
      const symbols = e.constant(type.symbols);
      const message = JSON.stringify(`invalid ${type.name} enum index: `);
      return `let ${index}; ${varintCode(index, e)}
${target} = ${symbols}[${index}]; if (${target} === undefined) throw new Error(${message} + ${index});`;
    }
    case 'array': {
      const items = type.itemsType!;
      const [count, item] = [e.local('count'), e.local('item')];
      const readItem = readCode(items, item, e);
      if (readItem === null) return null;
      const guard = items.typeName === 'null' ? 'false' : `${count} > len - pos`;
      return `${target} = []; let ${count};
for (;;) { ${varintCode(count, e)} if (${count} === 0) break;
  if (${count} < 0) { ${count} = -${count}; ${SKIP_VARINT} }
  if (${guard}) { pos = len + 1; break; }
  while (${count}--) { let ${item}; ${readItem} ${target}.push(${item}); } }`;
    }
    case 'union:unwrapped': {
      const branches = unionBranches(type)!;
      const index = e.local('index');
      const cases: string[] = [];
      for (const [i, branch] of branches.entries()) {
        const read = readCode(branch, target, e);
        if (read === null) return null;
        cases.push(`case ${i}: { ${read} break; }`);
      }
      return `let ${index}; ${varintCode(index, e)}
switch (${index}) { ${cases.join(' ')} default: throw new Error('invalid union index: ' + ${index}); }`;
    }
    default:
      return null;
  }
}

/** Code that moves pos past a value; null: a type this reader does not compile. */
function skipCode(type: AvroTypeNode, e: Emitter): string | null {
  switch (type.typeName) {
    case 'null':
      return '';
    case 'boolean':
      return 'pos++;';
    case 'int':
    case 'long':
    case 'enum':
      return SKIP_VARINT;
    case 'abstract:long':
      return type === bigintLong ? SKIP_VARINT : null;
    case 'double':
      return 'pos += 8;';
    case 'string':
    case 'bytes': {
      const length = e.local('length');
      return `let ${length}; ${varintCode(length, e)} if (${length} < 0) pos = len + 1; else pos += ${length};`;
    }
    case 'array': {
      const items = type.itemsType!;
      const count = e.local('count');
      const skipItem = skipCode(items, e);
      if (skipItem === null) return null;
      const guard = items.typeName === 'null' ? 'false' : `${count} > len - pos`;
      const size = e.local('size');
      return `let ${count};
for (;;) { ${varintCode(count, e)} if (${count} === 0) break;
  if (${count} < 0) { let ${size}; ${varintCode(size, e)} pos += ${size}; continue; }
  if (${guard}) { pos = len + 1; break; }
  while (${count}--) { ${skipItem} } }`;
    }
    case 'union:unwrapped': {
      const branches = unionBranches(type)!;
      const index = e.local('index');
      const cases: string[] = [];
      for (const [i, branch] of branches.entries()) {
        const skip = skipCode(branch, e);
        if (skip === null) return null;
        cases.push(`case ${i}: { ${skip} break; }`);
      }
      // avsc's UnionType._skip indexes its branches without a check: an invalid index throws there too.
      return `let ${index}; ${varintCode(index, e)}
switch (${index}) { ${cases.join(' ')} default: throw new TypeError("Cannot read properties of undefined (reading '_skip')"); }`;
    }
    default:
      return null;
  }
}

/**
 * The reader of `reads` (in the writer's field order, as a projection of its schema) from records
 * written with `writer`; null when the writer uses a type it does not compile (use avsc's resolver).
 */
export function compileProjectedReader(writer: avro.Type, reads: readonly string[]): ProjectedReader | null {
  const record = writer as AvroTypeNode;
  if (record.typeName !== 'record' || record.fields === undefined) return null;
  const wanted = new Set(reads);
  const constants: unknown[] = [];
  let locals = 0;
  const e: Emitter = {
    local: (prefix) => `${prefix}${locals++}`,
    constant: (value) => `c${constants.push(value) - 1}`,
  };
  const body: string[] = [];
  const out: string[] = [];
  for (const field of record.fields) {
    if (wanted.has(field.name)) {
      const target = e.local('v');
      const read = readCode(field.type, target, e);
      if (read === null) return null;
      body.push(`let ${target}; ${read}`);
      out.push(`${JSON.stringify(field.name)}: ${target}`);
    } else {
      const skip = skipCode(field.type, e);
      if (skip === null) return null;
      body.push(`{ ${skip} }`);
    }
  }
  if (out.length !== wanted.size) return null;
  // One tap for readLong, reused: a read is synchronous.
  const source = `const tap = { buf: null, pos: 0 };
return function readProjected(buf, pos) {
const len = buf.length; tap.buf = buf;
${body.join('\n')}
if (pos > len || pos < 0) throw new Error('truncated buffer');
if (pos < len) throw new Error('trailing data');
return { ${out.join(', ')} };
};`;
  const names = constants.map((_, i) => `c${i}`);
  // Compiled once per topic and schema, as avsc compiles its own readers.
  return new Function('readLong', 'utf8Text', ...names, source)(readLong, utf8Text, ...constants) as ProjectedReader;
}
