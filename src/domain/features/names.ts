/**
 * Feature names (DESIGN 5.3 and 8). FEATURE_NAMES is the user's list of 149 names in the user's
 * order, so a model can select its vector by name. The record carries more fields than that
 * list: the full 17-stat family for every group (the user's list gives only 14 stats, without
 * q1/q2/q3, for the first four groups) plus puts_dollar_value and calls_below_intrinsic_pct;
 * those are EXTRA_FEATURE_NAMES, after FEATURE_NAMES in the record and the Avro schema.
 */
import { STAT_NAMES, StatName } from '../stats/family';

export const GROUP_NAMES = [
  'underlying_dollar_value',
  'puts_dadvv',
  'puts_gadvv',
  'calls_dadvv',
  'calls_gadvv',
  'calls_dadvv_agg_buy',
  'calls_dadvv_agg_sell',
  'puts_dadvv_agg_buy',
  'puts_dadvv_agg_sell',
] as const;
export type GroupName = (typeof GROUP_NAMES)[number];

export const SPLIT_GROUPS: readonly GroupName[] = ['calls_dadvv_agg_buy', 'calls_dadvv_agg_sell', 'puts_dadvv_agg_buy', 'puts_dadvv_agg_sell'];

/** "the same 14": the family without the quartiles, in the user's order. */
export const SHORT_STAT_NAMES: readonly StatName[] = STAT_NAMES.filter((s) => s !== 'q1' && s !== 'q2' && s !== 'q3');
const QUARTILES: readonly StatName[] = ['q1', 'q2', 'q3'];

export const OHLC_NAMES = ['underlying_price_open', 'underlying_price_high', 'underlying_price_low', 'underlying_price_close'] as const;
export const SCALAR_NAMES = [
  'puts_below_intrinsic_pct',
  'puts_above_intrinsic_pct',
  'calls_below_intrinsic_pct',
  'calls_above_intrinsic_pct',
  'puts_dollar_value',
  'calls_dollar_value',
] as const;

export type GroupStatField = `${GroupName}_${StatName}`;
export type FeatureField = GroupStatField | (typeof OHLC_NAMES)[number] | (typeof SCALAR_NAMES)[number];

export function groupFields<G extends GroupName>(group: G, stats: readonly StatName[] = STAT_NAMES): `${G}_${StatName}`[] {
  return stats.map((s) => `${group}_${s}` as const);
}

export const FEATURE_NAMES: readonly FeatureField[] = [
  ...OHLC_NAMES,
  ...groupFields('underlying_dollar_value', SHORT_STAT_NAMES),
  'puts_below_intrinsic_pct',
  'puts_above_intrinsic_pct',
  ...groupFields('puts_dadvv', SHORT_STAT_NAMES),
  ...groupFields('puts_gadvv', SHORT_STAT_NAMES),
  'calls_dollar_value',
  'calls_above_intrinsic_pct',
  ...groupFields('calls_dadvv', SHORT_STAT_NAMES),
  ...groupFields('calls_gadvv'),
  ...SPLIT_GROUPS.flatMap((g) => groupFields(g)),
];

export const EXTRA_FEATURE_NAMES: readonly FeatureField[] = [
  'puts_dollar_value',
  'calls_below_intrinsic_pct',
  ...(['underlying_dollar_value', 'puts_dadvv', 'puts_gadvv', 'calls_dadvv'] as const).flatMap((g) => groupFields(g, QUARTILES)),
];

/** Every feature field of the record, in record/schema order. */
export const ALL_FEATURE_FIELDS: readonly FeatureField[] = [...FEATURE_NAMES, ...EXTRA_FEATURE_NAMES];

/** Trade counts per group (Avro long); see window.ts for their exact meaning. */
export const COUNT_NAMES = [
  'underlying_trades',
  'calls',
  'puts',
  'calls_with_underlying',
  'puts_with_underlying',
  'calls_with_greeks',
  'puts_with_greeks',
  'calls_agg_buy',
  'calls_agg_sell',
  'puts_agg_buy',
  'puts_agg_sell',
] as const;
export type CountName = (typeof COUNT_NAMES)[number];
