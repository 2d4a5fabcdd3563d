/**
 * The Avro schema of the `features` topic value, built from the name lists so that it cannot
 * drift from the record. schemas/Features.avsc is this object, pretty-printed (a unit test
 * checks they are equal; regenerate with
 * `npx tsc -p tsconfig.build.json && node -e "console.log(JSON.stringify(require('./dist/src/domain/features/schema.js').featuresSchema(), null, 2))" > schemas/Features.avsc`).
 */
import { ALL_FEATURE_FIELDS, COUNT_NAMES, FEATURE_NAMES } from './names';

interface AvroField {
  name: string;
  type: string | string[];
  default?: null | number;
  doc?: string;
}

const COUNT_DOCS: Readonly<Record<string, string>> = {
  underlying_trades: 'underlying trades accepted in the window',
  calls: 'call trades accepted in the window',
  puts: 'put trades accepted in the window',
  calls_with_underlying: 'call trades with an underlying price S (denominator of the intrinsic fractions)',
  puts_with_underlying: 'put trades with an underlying price S (denominator of the intrinsic fractions)',
  calls_with_greeks: 'call trades with a dadvv (n of calls_dadvv)',
  puts_with_greeks: 'put trades with a dadvv (n of puts_dadvv)',
  calls_agg_buy: 'call trades with aggressor side BUY',
  calls_agg_sell: 'call trades with aggressor side SELL',
  puts_agg_buy: 'put trades with aggressor side BUY',
  puts_agg_sell: 'put trades with aggressor side SELL',
};

const GENERATION_DOC =
  'reprocess generation of this record: optflow reprocess bumps it (0 before any reprocess); the record with the highest generation for a key (underlying, window, window_start_ns) supersedes the others';

export function featuresSchema(): { type: 'record'; name: string; namespace: string; doc: string; fields: AvroField[] } {
  const userNames = new Set<string>(FEATURE_NAMES);
  return {
    type: 'record',
    name: 'Features',
    namespace: 'optflow.features',
    doc: 'Window features of one underlying (DESIGN 5.3): FEATURE_NAMES in the user order, then the rest of the 17-stat family and the extra scalars. Undefined values are null.',
    fields: [
      { name: 'underlying', type: 'string' },
      { name: 'window', type: 'string', doc: "window label, e.g. '5m'" },
      { name: 'window_start_ns', type: 'long', doc: 'window start, ns since the Unix epoch (inclusive)' },
      { name: 'window_end_ns', type: 'long', doc: 'window end, ns since the Unix epoch (exclusive)' },
      ...COUNT_NAMES.map((name) => ({ name, type: 'long', doc: COUNT_DOCS[name] })),
      ...ALL_FEATURE_FIELDS.map((name) => ({
        name,
        type: ['null', 'double'],
        default: null,
        ...(userNames.has(name) ? {} : { doc: 'not in FEATURE_NAMES (full family / extra)' }),
      })),
      // Appended with a default (BACKWARD: records written before it read as generation 0).
      { name: 'generation', type: 'int', default: 0, doc: GENERATION_DOC },
    ],
  };
}
