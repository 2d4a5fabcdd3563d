/**
 * OPRA helpers for the flat-file parser: parsing is src/domain/opra.ts; this adds only the fixed
 * suffix length the byte-level universe filter needs to find the root without parsing.
 */
export { tryParseOpra as parseOpraSymbol, underlyingOfRoot, type RootMap } from '../../../domain/opra';

/** YYMMDD + C/P + 8-digit strike after the root in `O:<root><suffix>`. */
export const OPRA_SUFFIX_LENGTH = 15;
