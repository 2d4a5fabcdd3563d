export { generateDay, type GenerateDayOptions, type GeneratedDayManifest, type GeneratedFile, type GeneratorScale, type MalformedRowInfo } from './day';
export { DEFAULT_UNDERLYINGS, BENCH_EXTRA_UNDERLYINGS, type UnderlyingSpec } from './market';
export { regularSession } from './session';
export { generateRealDay, REAL_DAY, type RealDayManifest, type RealDayOptions } from './real';
