/**
 * Option-trade rows straight from their bytes (byte-rows.ts). Besides the plain fields, a row needs a
 * contract whose OPRA symbol parses and is ASCII; its fields are encoded once per contract.
 */
import type { Type } from 'avsc';
import { avroType, loadSchema, writeZigzag64 } from '../../../avro/types';
import { ByteRows, RowKeys, columnPositions, writeOptionalTime, type LatestTime, type RowKey } from './byte-rows';
import type { FrameWriter } from './encoded';
import { writeVarint } from './row-fields';
import type { ColumnIndex } from '../parse/columns';
import { parseOpraSymbol, type RootMap } from '../parse/opra-lite';

const BAR = 124;
const TRADE = 84; // 'T', a trade's dedupe key's first character

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

type Column = 'ticker' | 'conditions' | 'correction' | 'exchange' | 'participant' | 'price' | 'sip' | 'size' | 'sequence';

export class OptionTradeRows extends ByteRows {
  private readonly contracts: RowKeys;
  /** -1: none. */
  private participantHi = -1;
  private participantLo = 0;
  private priceValue = 0;
  private size = 0;

  private constructor(private readonly columns: Record<Column, number>, fieldCount: number, origin: string, rootMap: RootMap, frames: FrameWriter, latest: LatestTime) {
    super(fieldCount, origin, frames, latest);
    this.contracts = optionContracts(rootMap);
  }

  /**
   * The shortcut for a file with this header; null when a column every row needs is missing. An absent
   * optional column (participant_timestamp in 7-column files, sequence_number, the codes) reads as
   * empty, as the parser's getter does.
   */
  static forHeader(columns: ColumnIndex, origin: string, rootMap: RootMap, frames: FrameWriter, latest: LatestTime): OptionTradeRows | null {
    const at = columnPositions(columns, { ticker: 'ticker', price: 'price', sip: 'sip_timestamp', size: 'size' }, {
      conditions: 'conditions', correction: 'correction', exchange: 'exchange', participant: 'participant_timestamp', sequence: 'sequence_number',
    });
    return at === null ? null : new OptionTradeRows(at, columns.fieldCount, origin, rootMap, frames, latest);
  }

  protected read(buf: Buffer): boolean {
    const c = this.columns;
    const f = this.fields;
    this.key = this.contracts.of(buf, f.starts[c.ticker], f.ends[c.ticker]);
    if (this.key === null || !this.readTime(buf, c.sip)) return false;
    if (f.isNoTime(buf, c.participant)) this.participantHi = -1;
    else if (f.timestamp(buf, c.participant)) [this.participantHi, this.participantLo] = [f.hi, f.lo];
    else return false;
    if (!this.readSequence(buf, c.sequence) || !f.price(buf, c.price)) return false;
    this.priceValue = f.number;
    if (!f.canonicalInteger(buf, c.size, false)) return false;
    this.size = f.number;
    return true;
  }

  /** `T|ticker|sip|sequence|price|size` (dedupeKey): the fields are the text String() gives of their values. */
  protected hashKey(buf: Buffer, key: RowKey): void {
    const c = this.columns;
    const f = this.fields;
    const hash = this.hash.begin(2 + key.bytes.length + f.width(c.sip) + f.width(c.sequence) + f.width(c.price) + f.width(c.size) + 4);
    hash.unit(TRADE);
    hash.unit(BAR);
    hash.bytes(key.bytes, 0, key.bytes.length);
    f.hashField(hash, buf, c.sip);
    f.hashField(hash, buf, c.sequence);
    f.hashField(hash, buf, c.price);
    f.hashField(hash, buf, c.size);
  }

  /** sip_timestamp, participant_timestamp, sequence_number, price, size, exchange, conditions, correction. */
  protected writeFields(out: Buffer, pos: number, buf: Buffer): number {
    const c = this.columns;
    const f = this.fields;
    pos = writeZigzag64(out, pos, this.timeHi, this.timeLo);
    pos = writeOptionalTime(out, pos, this.participantHi, this.participantLo);
    pos = this.writeSequence(out, pos);
    out.writeDoubleLE(this.priceValue, pos);
    pos = writeVarint(out, pos + 8, this.size);
    pos = f.writeOptionalCode(buf, c.exchange, out, pos);
    if (pos < 0) return -1;
    pos = f.writeCodeList(buf, c.conditions, out, pos);
    if (pos < 0) return -1;
    return f.writeOptionalCode(buf, c.correction, out, pos);
  }
}
