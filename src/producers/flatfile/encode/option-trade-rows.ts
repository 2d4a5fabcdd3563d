/**
 * Option-trade rows straight from their bytes (byte-rows.ts). Besides the plain fields, a row needs a
 * contract whose OPRA symbol parses and is ASCII; its fields are encoded once per contract.
 */
import { writeZigzag64 } from '../../../avro/types';
import { ByteRows, OptionalTime, columnPositions, type LatestTime } from './byte-rows';
import { optionContracts, type RowKey, type RowKeys } from './row-keys';
import type { FrameWriter } from './encoded';
import { writeVarint } from './row-fields';
import type { ColumnIndex } from '../parse/columns';
import type { RootMap } from '../parse/opra-lite';

const TRADE = 84; // 'T', a trade's dedupe key's first character

type Column = 'ticker' | 'conditions' | 'correction' | 'exchange' | 'participant' | 'price' | 'sip' | 'size' | 'sequence';

export class OptionTradeRows extends ByteRows {
  private readonly contracts: RowKeys;
  private readonly participant: OptionalTime;
  /** The dedupe key's fields after the ticker. */
  private readonly keyFields: readonly number[];
  private priceValue = 0;
  private size = 0;

  private constructor(private readonly columns: Record<Column, number>, fieldCount: number, origin: string, rootMap: RootMap, frames: FrameWriter, latest: LatestTime) {
    super(fieldCount, origin, frames, latest);
    this.contracts = optionContracts(rootMap);
    this.participant = new OptionalTime(columns.participant);
    this.keyFields = [columns.sip, columns.sequence, columns.price, columns.size];
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
    if (!this.participant.read(f, buf) || !this.readSequence(buf, c.sequence) || !f.price(buf, c.price)) return false;
    this.priceValue = f.number;
    if (!f.canonicalInteger(buf, c.size, false)) return false;
    this.size = f.number;
    return true;
  }

  /** `T|ticker|sip|sequence|price|size` (dedupeKey): the fields are the text String() gives of their values. */
  protected hashKey(buf: Buffer, key: RowKey): void {
    this.hashFields(TRADE, buf, key, this.keyFields);
  }

  /** sip_timestamp, participant_timestamp, sequence_number, price, size, exchange, conditions, correction. */
  protected writeFields(out: Buffer, pos: number, buf: Buffer): number {
    const c = this.columns;
    const f = this.fields;
    pos = writeZigzag64(out, pos, this.timeHi, this.timeLo);
    pos = this.participant.write(out, pos);
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
