/**
 * What the byte-level row writers (byte-rows.ts) work out once per ticker: a file's rows come grouped
 * by it, so the last row's key serves nearly every row.
 */
import type { Type } from 'avsc';
import { avroType, loadSchema } from '../../../avro/types';
import { writeVarint } from './row-fields';
import { STOCK_SYMBOL } from '../parse/normalise';
import { parseOpraSymbol, type RootMap } from '../parse/opra-lite';

export interface RowKey {
  /** The ticker (a contract's OPRA symbol, or a stock's), as text and as the line's bytes. */
  text: string;
  bytes: Buffer;
  /** The Kafka key: the underlying, or for a stock the ticker (then the very `bytes` Buffer). */
  group: Buffer;
  /** The value's leading fields, which depend on the ticker alone. */
  avro: Buffer;
}

/** The last row's key, or a new one made from the ticker's text (null: leave the row to the parser). */
export class RowKeys {
  private last: RowKey | null = null;

  constructor(private readonly make: (ticker: string) => RowKey | null) {}

  of(buf: Buffer, start: number, end: number): RowKey | null {
    const known = this.last;
    if (known !== null && known.bytes.length === end - start) {
      let i = 0;
      while (i < known.bytes.length && known.bytes[i] === buf[start + i]) i++;
      if (i === known.bytes.length) return known;
    }
    for (let i = start; i < end; i++) if (buf[i] >= 0x80) return null;
    const key = end === start ? null : this.make(buf.toString('latin1', start, end));
    if (key !== null) this.last = key;
    return key;
  }
}

/** A string as Avro writes it: zig-zag length, then its UTF-8. */
export function avroString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(10 + bytes.length);
  const at = writeVarint(out, 0, bytes.length);
  return out.subarray(0, at + bytes.copy(out, at));
}

/** The Avro of OptionTrade's (and OptionQuote's) first six fields, the contract's: a record's encoding is its fields' in order. */
function contractType(): Type {
  const { json } = loadSchema('OptionTrade');
  const schema = json as unknown as { fields: unknown[] };
  return avroType({ ...schema, name: 'OptionTradeContract', fields: schema.fields.slice(0, 6) } as Parameters<typeof avroType>[0]);
}

/** Option contracts by their OPRA symbol: key the underlying, leading fields ticker, underlying, root, expiration, right, strike. */
export function optionContracts(rootMap: RootMap): RowKeys {
  const type = contractType();
  return new RowKeys((ticker) => {
    const fields = parseOpraSymbol(ticker, rootMap);
    if (fields === null) return null;
    const key: RowKey = { text: ticker, bytes: Buffer.from(ticker, 'latin1'), group: Buffer.from(fields.underlying, 'utf8'), avro: type.toBuffer({ ticker, ...fields }) };
    return key;
  });
}

/** Stock tickers: the key is the ticker, the leading field the ticker. */
export function stockTickers(): RowKeys {
  return new RowKeys((ticker) => {
    if (!STOCK_SYMBOL.test(ticker)) return null;
    const bytes = Buffer.from(ticker, 'latin1');
    return { text: ticker, bytes, group: bytes, avro: avroString(ticker) };
  });
}

