/**
 * Stock-trade rows straight from their bytes (byte-rows.ts). The size is a double here (Massive prints
 * fractional shares), read like a price; the trade id is text, taken when it is ASCII.
 */
import { writeZigzag64 } from '../../../avro/types';
import { ByteRows, OptionalTime, columnPositions, type LatestTime } from './byte-rows';
import type { FrameWriter } from './encoded';
import { writeVarint } from './row-fields';
import { stockTickers, type RowKey, type RowKeys } from './row-keys';
import type { ColumnIndex } from '../parse/columns';

const TRADE = 84; // 'T', a trade's dedupe key's first character

type Column = 'ticker' | 'sip' | 'price' | 'size' | 'participant' | 'trf' | 'sequence' | 'id' | 'exchange' | 'tape' | 'trfId' | 'conditions' | 'correction';

export class EquityTradeRows extends ByteRows {
  private readonly tickers: RowKeys = stockTickers();
  private readonly participant: OptionalTime;
  private readonly trf: OptionalTime;
  /** The dedupe key's fields after the ticker, with the sequence number and without (then the id). */
  private readonly keyFields: readonly number[];
  private readonly keyFieldsById: readonly number[];
  private priceValue = 0;
  private size = 0;
  /** exchange, tape, trf_id: consecutive optional ints of the value. */
  private readonly codes: readonly number[];

  private constructor(private readonly columns: Record<Column, number>, fieldCount: number, origin: string, frames: FrameWriter, latest: LatestTime) {
    super(fieldCount, origin, frames, latest);
    this.codes = [columns.exchange, columns.tape, columns.trfId];
    this.participant = new OptionalTime(columns.participant);
    this.trf = new OptionalTime(columns.trf);
    this.keyFields = [columns.sip, columns.sequence, columns.price, columns.size];
    this.keyFieldsById = [columns.sip, columns.id, columns.price, columns.size];
  }

  static forHeader(columns: ColumnIndex, origin: string, frames: FrameWriter, latest: LatestTime): EquityTradeRows | null {
    const at = columnPositions(columns, { ticker: 'ticker', price: 'price', sip: 'sip_timestamp', size: 'size' }, {
      participant: 'participant_timestamp', trf: 'trf_timestamp', sequence: 'sequence_number', id: 'id', exchange: 'exchange',
      tape: 'tape', trfId: 'trf_id', conditions: 'conditions', correction: 'correction',
    });
    return at === null ? null : new EquityTradeRows(at, columns.fieldCount, origin, frames, latest);
  }

  protected read(buf: Buffer): boolean {
    const c = this.columns;
    const f = this.fields;
    this.key = this.tickers.of(buf, f.starts[c.ticker], f.ends[c.ticker]);
    if (this.key === null || !this.readTime(buf, c.sip)) return false;
    if (!this.participant.read(f, buf) || !this.trf.read(f, buf) || !this.readSequence(buf, c.sequence) || !f.isAscii(buf, c.id) || !f.price(buf, c.price)) return false;
    this.priceValue = f.number;
    if (!f.price(buf, c.size)) return false;
    this.size = f.number;
    return true;
  }

  /** `T|ticker|sip|sequence or id|price|size` (dedupeKey). */
  protected hashKey(buf: Buffer, key: RowKey): void {
    this.hashFields(TRADE, buf, key, this.sequence < 0 ? this.keyFieldsById : this.keyFields);
  }

  /** sip, participant and TRF times, sequence, id, exchange, tape, trf_id, price, size, conditions, correction. */
  protected writeFields(out: Buffer, pos: number, buf: Buffer): number {
    const c = this.columns;
    const f = this.fields;
    pos = writeZigzag64(out, pos, this.timeHi, this.timeLo);
    pos = this.trf.write(out, this.participant.write(out, pos));
    pos = this.writeSequence(out, pos);
    if (f.isEmpty(c.id)) out[pos++] = 0;
    else {
      out[pos] = 2;
      pos = writeVarint(out, pos + 1, f.width(c.id));
      pos += buf.copy(out, pos, f.starts[c.id], f.ends[c.id]);
    }
    for (const code of this.codes) {
      pos = f.writeOptionalCode(buf, code, out, pos);
      if (pos < 0) return -1;
    }
    out.writeDoubleLE(this.priceValue, pos);
    out.writeDoubleLE(this.size, pos + 8);
    pos = f.writeCodeList(buf, c.conditions, out, pos + 16);
    if (pos < 0) return -1;
    return f.writeOptionalCode(buf, c.correction, out, pos);
  }
}
