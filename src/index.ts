/**
 * optflow as a library: the ordered feature names (select a model's vector by name), record types,
 * and the pure pricing and statistics modules.
 */
export { FEATURE_NAMES, EXTRA_FEATURE_NAMES, ALL_FEATURE_FIELDS, COUNT_NAMES, GROUP_NAMES } from './domain/features/names';
export type { FeatureField, CountName } from './domain/features/names';
export type { FeatureRecord } from './domain/features/window-features';
export type * from './domain/records';
export { FLAGS, describeFlags } from './domain/pricing/flags';
export { bsmPrice, bsmGreeks } from './domain/pricing/bsm';
export { impliedVol } from './domain/pricing/iv';
export { parseOpra } from './domain/opra';
export { computeStats, STAT_NAMES } from './domain/stats/family';
export { loadConfig } from './config';
/** avsc options for Confluent deserializers: Avro longs (ns timestamps) as exact bigint. */
export { AVRO_OPTIONS } from './avro/types';
