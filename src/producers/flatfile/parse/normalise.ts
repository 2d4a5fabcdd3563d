/**
 * Row → normalised record, one builder per dataset. Builders read fields through the header's
 * ColumnIndex and throw RowRejection on the first problem found.
 */
import type { EquityQuote, EquityTrade, OpraFields, OptionQuote, OptionTrade } from '../../../domain/records';
import type { ColumnIndex, ColumnName } from './columns';
import type { DatasetId } from '../datasets';
import { parseOpraSymbol, type RootMap } from './opra-lite';
import {
  RowRejection, parseBigIntField, parseCodeList, parseDecimalField, parseOptionalBigInt,
  parseOptionalSmallInt, parseOptionalTimestamp, parseTimestampField,
} from './fields';

export type MarketRecord = EquityTrade | EquityQuote | OptionTrade | OptionQuote;

/** Key of a market record on its topic: the underlying (options) or the ticker (stocks). */
export function recordKey(record: MarketRecord): string {
  return 'underlying' in record ? record.underlying : record.ticker;
}

/** Builds a record from split fields; throws RowRejection. */
export type RowBuilder = (fields: readonly string[], origin: string, lineNumber: number) => MarketRecord;

type FieldGetter = (fields: readonly string[]) => string;

function getter(columns: ColumnIndex, name: ColumnName): FieldGetter {
  const i = columns.indexOf(name);
  return i < 0 ? () => '' : (fields) => fields[i];
}

export const STOCK_SYMBOL = /^[A-Za-z][A-Za-z0-9.\-/]{0,15}$/;

function stockTicker(value: string): string {
  if (value.length === 0) throw new RowRejection('missing_field', 'ticker is empty');
  if (!STOCK_SYMBOL.test(value)) throw new RowRejection('bad_symbol', `ticker="${value}"`);
  return value;
}

function positivePrice(value: string, column: string): number {
  const price = parseDecimalField(value, column);
  if (!(price > 0)) throw new RowRejection('non_positive_price', `${column}=${value}`);
  return price;
}

function positiveSize(value: string, column: string): bigint {
  const size = parseBigIntField(value, column);
  if (size <= 0n) throw new RowRejection('non_positive_size', `${column}=${value}`);
  return size;
}

interface QuoteSide {
  price: number | null;
  size: bigint | null;
  exchange: number | null;
}

const ABSENT_SIDE: QuoteSide = { price: null, size: null, exchange: null };

/** Massive publishes an absent side as price 0: the whole side (price, size, exchange) → null. */
function quoteSide(price: string, size: string, exchange: string, side: 'bid' | 'ask'): QuoteSide {
  const p = parseDecimalField(price, `${side}_price`);
  if (p === 0) return ABSENT_SIDE;
  if (p < 0) throw new RowRejection('non_positive_price', `${side}_price=${price}`);
  return {
    price: p,
    size: positiveSize(size, `${side}_size`),
    exchange: parseOptionalSmallInt(exchange, `${side}_exchange`),
  };
}

interface QuoteGetters {
  bidPrice: FieldGetter; bidSize: FieldGetter; bidExchange: FieldGetter;
  askPrice: FieldGetter; askSize: FieldGetter; askExchange: FieldGetter;
}

function quoteGetters(c: ColumnIndex): QuoteGetters {
  return {
    bidPrice: getter(c, 'bid_price'), bidSize: getter(c, 'bid_size'), bidExchange: getter(c, 'bid_exchange'),
    askPrice: getter(c, 'ask_price'), askSize: getter(c, 'ask_size'), askExchange: getter(c, 'ask_exchange'),
  };
}

function readSides(g: QuoteGetters, f: readonly string[]): { bid: QuoteSide; ask: QuoteSide } {
  return {
    bid: quoteSide(g.bidPrice(f), g.bidSize(f), g.bidExchange(f), 'bid'),
    ask: quoteSide(g.askPrice(f), g.askSize(f), g.askExchange(f), 'ask'),
  };
}

function stockTradeBuilder(c: ColumnIndex): RowBuilder {
  const ticker = getter(c, 'ticker'), sip = getter(c, 'sip_timestamp'), price = getter(c, 'price');
  const size = getter(c, 'size'), participant = getter(c, 'participant_timestamp');
  const trf = getter(c, 'trf_timestamp'), seq = getter(c, 'sequence_number'), id = getter(c, 'id');
  const exchange = getter(c, 'exchange'), tape = getter(c, 'tape'), trfId = getter(c, 'trf_id');
  const conditions = getter(c, 'conditions'), correction = getter(c, 'correction');
  return (f, origin, lineNumber): EquityTrade => {
    const symbol = stockTicker(ticker(f));
    const sipTimestamp = parseTimestampField(sip(f), 'sip_timestamp');
    const tradePrice = positivePrice(price(f), 'price');
    const tradeSize = parseDecimalField(size(f), 'size');
    if (!(tradeSize > 0)) throw new RowRejection('non_positive_size', `size=${size(f)}`);
    return {
      ticker: symbol,
      sip_timestamp: sipTimestamp,
      participant_timestamp: parseOptionalTimestamp(participant(f), 'participant_timestamp'),
      trf_timestamp: parseOptionalTimestamp(trf(f), 'trf_timestamp'),
      sequence_number: parseOptionalBigInt(seq(f), 'sequence_number'),
      id: id(f).length === 0 ? null : id(f),
      exchange: parseOptionalSmallInt(exchange(f), 'exchange'),
      tape: parseOptionalSmallInt(tape(f), 'tape'),
      trf_id: parseOptionalSmallInt(trfId(f), 'trf_id'),
      price: tradePrice,
      size: tradeSize,
      conditions: parseCodeList(conditions(f), 'conditions'),
      correction: parseOptionalSmallInt(correction(f), 'correction'),
      source: 'flatfile',
      origin,
      origin_offset: BigInt(lineNumber),
    };
  };
}

function stockQuoteBuilder(c: ColumnIndex): RowBuilder {
  const ticker = getter(c, 'ticker'), sip = getter(c, 'sip_timestamp'), sides = quoteGetters(c);
  const participant = getter(c, 'participant_timestamp'), trf = getter(c, 'trf_timestamp');
  const seq = getter(c, 'sequence_number'), tape = getter(c, 'tape');
  const conditions = getter(c, 'conditions'), indicators = getter(c, 'indicators');
  return (f, origin, lineNumber): EquityQuote => {
    const symbol = stockTicker(ticker(f));
    const sipTimestamp = parseTimestampField(sip(f), 'sip_timestamp');
    const { bid, ask } = readSides(sides, f);
    return {
      ticker: symbol,
      sip_timestamp: sipTimestamp,
      participant_timestamp: parseOptionalTimestamp(participant(f), 'participant_timestamp'),
      trf_timestamp: parseOptionalTimestamp(trf(f), 'trf_timestamp'),
      sequence_number: parseOptionalBigInt(seq(f), 'sequence_number'),
      bid_price: bid.price, bid_size: bid.size, bid_exchange: bid.exchange,
      ask_price: ask.price, ask_size: ask.size, ask_exchange: ask.exchange,
      conditions: parseCodeList(conditions(f), 'conditions'),
      indicators: parseCodeList(indicators(f), 'indicators'),
      tape: parseOptionalSmallInt(tape(f), 'tape'),
      source: 'flatfile',
      origin,
      origin_offset: BigInt(lineNumber),
    };
  };
}

/** OPRA parse with a one-entry cache: files are grouped by contract, so most rows hit it. */
function opraReader(getTicker: FieldGetter, rootMap: RootMap): (f: readonly string[]) => OpraFields & { ticker: string } {
  let last: (OpraFields & { ticker: string }) | null = null;
  return (f) => {
    const ticker = getTicker(f);
    if (last === null || ticker !== last.ticker) {
      if (ticker.length === 0) throw new RowRejection('missing_field', 'ticker is empty');
      const parsed = parseOpraSymbol(ticker, rootMap);
      if (parsed === null) throw new RowRejection('bad_symbol', `ticker="${ticker}"`);
      last = { ticker, ...parsed };
    }
    return last;
  };
}

function optionTradeBuilder(c: ColumnIndex, rootMap: RootMap): RowBuilder {
  const opra = opraReader(getter(c, 'ticker'), rootMap);
  const sip = getter(c, 'sip_timestamp'), price = getter(c, 'price'), size = getter(c, 'size');
  const participant = getter(c, 'participant_timestamp'), exchange = getter(c, 'exchange');
  const conditions = getter(c, 'conditions'), correction = getter(c, 'correction');
  const seqIndex = c.indexOf('sequence_number');
  return (f, origin, lineNumber): OptionTrade => {
    const contract = opra(f);
    const sipTimestamp = parseTimestampField(sip(f), 'sip_timestamp');
    const tradePrice = positivePrice(price(f), 'price');
    return {
      ticker: contract.ticker, underlying: contract.underlying, root: contract.root,
      expiration_date: contract.expiration_date, right: contract.right, strike: contract.strike,
      sip_timestamp: sipTimestamp,
      participant_timestamp: parseOptionalTimestamp(participant(f), 'participant_timestamp'),
      sequence_number: seqIndex < 0 ? null : parseOptionalBigInt(f[seqIndex], 'sequence_number'),
      price: tradePrice,
      size: positiveSize(size(f), 'size'),
      exchange: parseOptionalSmallInt(exchange(f), 'exchange'),
      conditions: parseCodeList(conditions(f), 'conditions'),
      correction: parseOptionalSmallInt(correction(f), 'correction'),
      source: 'flatfile',
      origin,
      origin_offset: BigInt(lineNumber),
    };
  };
}

function optionQuoteBuilder(c: ColumnIndex, rootMap: RootMap): RowBuilder {
  const opra = opraReader(getter(c, 'ticker'), rootMap);
  const sip = getter(c, 'sip_timestamp'), seq = getter(c, 'sequence_number'), sides = quoteGetters(c);
  return (f, origin, lineNumber): OptionQuote => {
    const contract = opra(f);
    const sipTimestamp = parseTimestampField(sip(f), 'sip_timestamp');
    const { bid, ask } = readSides(sides, f);
    return {
      ticker: contract.ticker, underlying: contract.underlying, root: contract.root,
      expiration_date: contract.expiration_date, right: contract.right, strike: contract.strike,
      sip_timestamp: sipTimestamp,
      sequence_number: parseOptionalBigInt(seq(f), 'sequence_number'),
      bid_price: bid.price, bid_size: bid.size, bid_exchange: bid.exchange,
      ask_price: ask.price, ask_size: ask.size, ask_exchange: ask.exchange,
      source: 'flatfile',
      origin,
      origin_offset: BigInt(lineNumber),
    };
  };
}

export function rowBuilderFor(dataset: DatasetId, columns: ColumnIndex, rootMap: RootMap = {}): RowBuilder {
  switch (dataset) {
    case 'us_stocks_sip/trades_v1': return stockTradeBuilder(columns);
    case 'us_stocks_sip/quotes_v1': return stockQuoteBuilder(columns);
    case 'us_options_opra/trades_v1': return optionTradeBuilder(columns, rootMap);
    case 'us_options_opra/quotes_v1': return optionQuoteBuilder(columns, rootMap);
  }
}
