/** Deliberately broken rows, one kind per parser rejection reason, derived from a valid row. */
import type { RejectReason } from '../producers/flatfile/parse/fields';
import type { Row } from './rows';

export const MALFORMED_KINDS: readonly RejectReason[] = [
  'non_numeric', 'missing_field', 'non_positive_price', 'non_positive_size',
  'timestamp_out_of_range', 'bad_symbol', 'wrong_column_count', 'unterminated_quote',
];

export interface MalformedLine {
  line: string;
  /**
   * The underlying a universe filter attributes the row to: it is rejected under that universe
   * (and '*'), and filtered under the others. null = unattributable, rejected only under '*'.
   */
  underlying: string | null;
}

function isQuote(row: Row): boolean {
  return 'bid_price' in row;
}

/** The side of a quote with a positive price (the row must have at least one). */
function pricedSide(row: Row): 'bid' | 'ask' {
  return Number(row.bid_price) > 0 ? 'bid' : 'ask';
}

function mutate(row: Row, kind: RejectReason, isOption: boolean): Row {
  const out = { ...row };
  const side = isQuote(row) ? pricedSide(row) : null;
  switch (kind) {
    case 'non_numeric':
      if (side) out[`${side}_price`] = 'n/a';
      else out.price = `${row.price}x`;
      break;
    case 'missing_field':
      out.sip_timestamp = '';
      break;
    case 'non_positive_price':
      if (side) out[`${side}_price`] = `-${row[`${side}_price`]}`;
      else out.price = '0';
      break;
    case 'non_positive_size':
      if (side) out[`${side}_size`] = '0';
      else out.size = '0';
      break;
    case 'timestamp_out_of_range':
      out.sip_timestamp = String(BigInt(row.sip_timestamp) / 1_000_000n); // milliseconds, not ns
      break;
    case 'bad_symbol':
      out.ticker = isOption ? row.ticker.replace(/[CP](\d{8})$/, 'X$1') : `${row.ticker}$`;
      break;
    case 'unterminated_quote':
      if ('conditions' in row) out.conditions = `"${row.conditions.replace(/"/g, '')}`;
      else out.sip_timestamp = `"${row.sip_timestamp}`;
      break;
    case 'wrong_column_count':
      break;
  }
  return out;
}

export function malformedLine(
  row: Row, kind: RejectReason, columns: readonly string[], isOption: boolean, underlying: string,
): MalformedLine {
  const broken = mutate(row, kind, isOption);
  const kept = kind === 'wrong_column_count' ? columns.slice(0, -1) : columns;
  return {
    line: kept.map((c) => broken[c]).join(','),
    underlying: kind === 'bad_symbol' && !isOption ? null : underlying,
  };
}
