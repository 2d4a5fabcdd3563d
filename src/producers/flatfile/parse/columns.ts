/**
 * Header handling: columns are found BY NAME (case-insensitive, trimmed), never by position, so
 * 7- and 8-column option-trade files and extra or missing optional columns all work.
 */
import type { DatasetId } from '../datasets';

const STOCK_TRADE_COLUMNS = [
  'ticker', 'conditions', 'correction', 'exchange', 'id', 'participant_timestamp', 'price',
  'sequence_number', 'sip_timestamp', 'size', 'tape', 'trf_id', 'trf_timestamp',
] as const;
const STOCK_QUOTE_COLUMNS = [
  'ticker', 'ask_exchange', 'ask_price', 'ask_size', 'bid_exchange', 'bid_price', 'bid_size',
  'conditions', 'indicators', 'participant_timestamp', 'sequence_number', 'sip_timestamp', 'tape',
  'trf_timestamp',
] as const;
const OPTION_TRADE_COLUMNS = [
  'ticker', 'conditions', 'correction', 'exchange', 'participant_timestamp', 'price',
  'sip_timestamp', 'size',
] as const;
const OPTION_QUOTE_COLUMNS = [
  'ticker', 'ask_exchange', 'ask_price', 'ask_size', 'bid_exchange', 'bid_price', 'bid_size',
  'sequence_number', 'sip_timestamp',
] as const;

export type StockTradeColumn = (typeof STOCK_TRADE_COLUMNS)[number];
export type StockQuoteColumn = (typeof STOCK_QUOTE_COLUMNS)[number];
export type OptionTradeColumn = (typeof OPTION_TRADE_COLUMNS)[number];
export type OptionQuoteColumn = (typeof OPTION_QUOTE_COLUMNS)[number];
export type ColumnName = StockTradeColumn | StockQuoteColumn | OptionTradeColumn | OptionQuoteColumn;

const QUOTE_REQUIRED = ['ticker', 'sip_timestamp', 'bid_price', 'bid_size', 'ask_price', 'ask_size'];
const TRADE_REQUIRED = ['ticker', 'sip_timestamp', 'price', 'size'];

interface DatasetColumns {
  known: readonly string[];
  required: readonly string[];
}

/** Columns per dataset in Massive's published order (the generator writes them in this order). */
export const DATASET_COLUMNS: Readonly<Record<DatasetId, DatasetColumns>> = {
  'us_stocks_sip/trades_v1': { known: STOCK_TRADE_COLUMNS, required: TRADE_REQUIRED },
  'us_stocks_sip/quotes_v1': { known: STOCK_QUOTE_COLUMNS, required: QUOTE_REQUIRED },
  'us_options_opra/trades_v1': { known: OPTION_TRADE_COLUMNS, required: TRADE_REQUIRED },
  'us_options_opra/quotes_v1': { known: OPTION_QUOTE_COLUMNS, required: QUOTE_REQUIRED },
};

/** Column name → field index, -1 when the file lacks that (optional) column. */
export interface ColumnIndex {
  readonly fieldCount: number;
  indexOf(name: ColumnName): number;
}

export class HeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderError';
  }
}

export function resolveHeader(dataset: DatasetId, headerFields: readonly string[]): ColumnIndex {
  const positions = new Map<string, number>();
  headerFields.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (positions.has(name)) throw new HeaderError(`${dataset}: duplicate column "${name}" in header`);
    positions.set(name, i);
  });
  const missing = DATASET_COLUMNS[dataset].required.filter((name) => !positions.has(name));
  if (missing.length > 0) {
    throw new HeaderError(`${dataset}: header lacks required column(s) ${missing.join(', ')}: ${headerFields.join(',')}`);
  }
  return { fieldCount: headerFields.length, indexOf: (name) => positions.get(name) ?? -1 };
}
