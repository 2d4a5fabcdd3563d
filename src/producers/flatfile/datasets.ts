/** The four Massive flat-file datasets this project reads (DESIGN 2) and where each one goes. */

export type DatasetId =
  | 'us_stocks_sip/trades_v1'
  | 'us_stocks_sip/quotes_v1'
  | 'us_options_opra/trades_v1'
  | 'us_options_opra/quotes_v1';

export type DatasetShortName = 'stock-trades' | 'stock-quotes' | 'option-trades' | 'option-quotes';
export type DatasetTopic = 'equity.trades' | 'equity.quotes' | 'option.trades' | 'option.quotes';
export type RecordKind = 'EquityTrade' | 'EquityQuote' | 'OptionTrade' | 'OptionQuote';

export interface Dataset {
  id: DatasetId;
  shortName: DatasetShortName;
  topic: DatasetTopic;
  kind: RecordKind;
  /** Options rows carry an OPRA symbol whose root maps to the underlying. */
  isOption: boolean;
}

export const DATASETS: readonly Dataset[] = [
  { id: 'us_stocks_sip/trades_v1', shortName: 'stock-trades', topic: 'equity.trades', kind: 'EquityTrade', isOption: false },
  { id: 'us_stocks_sip/quotes_v1', shortName: 'stock-quotes', topic: 'equity.quotes', kind: 'EquityQuote', isOption: false },
  { id: 'us_options_opra/trades_v1', shortName: 'option-trades', topic: 'option.trades', kind: 'OptionTrade', isOption: true },
  { id: 'us_options_opra/quotes_v1', shortName: 'option-quotes', topic: 'option.quotes', kind: 'OptionQuote', isOption: true },
];

/** Looks a dataset up by its Massive id or its short name; throws on anything else. */
export function datasetOf(idOrShortName: string): Dataset {
  const found = DATASETS.find((d) => d.id === idOrShortName || d.shortName === idOrShortName);
  if (!found) {
    const known = DATASETS.map((d) => `${d.id} (${d.shortName})`).join(', ');
    throw new Error(`unknown dataset "${idOrShortName}"; known: ${known}`);
  }
  return found;
}

/** Massive key layout: `{dataset}/{YYYY}/{MM}/{YYYY-MM-DD}.csv.gz`. */
export function flatFileKey(dataset: DatasetId, date: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`date must be YYYY-MM-DD, got "${date}"`);
  return `${dataset}/${date.slice(0, 4)}/${date.slice(5, 7)}/${date}.csv.gz`;
}
