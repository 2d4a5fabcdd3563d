import { ALL_FEATURE_FIELDS, EXTRA_FEATURE_NAMES, FEATURE_NAMES, GROUP_NAMES } from '../../../src/domain/features/names';
import { STAT_NAMES } from '../../../src/domain/stats/family';

/** DESIGN.md section 8, verbatim, with "same 14" spelled out from the underlying group's list. */
const DESIGN_SECTION_8 = `underlying_price_open, underlying_price_high, underlying_price_low, underlying_price_close,
underlying_dollar_value_{total, minimum, maximum, mean, stddev, skew, kurtosis, iqr, mad, cv,
mode, bc, dip_pval, kde_peaks}, puts_below_intrinsic_pct, puts_above_intrinsic_pct,
puts_dadvv_{same 14}, puts_gadvv_{same 14}, calls_dollar_value, calls_above_intrinsic_pct,
calls_dadvv_{same 14}, calls_gadvv_{total, minimum, q1, q2, q3, maximum, mean, stddev, skew,
kurtosis, iqr, mad, cv, mode, bc, dip_pval, kde_peaks}`;
const AGGRESSION = `{calls,puts}_dadvv_agg_{buy,sell}_{total, minimum, q1, q2, q3, maximum, mean, stddev, skew,
kurtosis, iqr, mad, cv, mode, bc, dip_pval, kde_peaks}`;
const SAME_14 = 'total, minimum, maximum, mean, stddev, skew, kurtosis, iqr, mad, cv, mode, bc, dip_pval, kde_peaks';

/** Bash-style brace expansion of a comma-separated list (left-most brace varies slowest). */
function expand(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text.replace(/\s+/g, '').replace(/same14/g, SAME_14.replace(/\s+/g, ''))) {
    if (ch === ',' && depth === 0) {
      items.push(current);
      current = '';
      continue;
    }
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    current += ch;
  }
  items.push(current);
  return items.flatMap(expandOne);
}

function expandOne(item: string): string[] {
  const open = item.indexOf('{');
  if (open < 0) return [item];
  const close = item.indexOf('}', open);
  const options = item.slice(open + 1, close).split(',');
  return options.flatMap((o) => expandOne(item.slice(0, open) + o + item.slice(close + 1)));
}

describe('FEATURE_NAMES', () => {
  it('is exactly the expansion of DESIGN section 8: 81 + 68 = 149 names in order', () => {
    const first = expand(DESIGN_SECTION_8);
    const aggression = expand(AGGRESSION);
    expect(first).toHaveLength(81);
    expect(aggression).toHaveLength(68);
    expect(aggression.slice(0, 2)).toEqual(['calls_dadvv_agg_buy_total', 'calls_dadvv_agg_buy_minimum']);
    expect(aggression[17]).toBe('calls_dadvv_agg_sell_total');
    expect(aggression[34]).toBe('puts_dadvv_agg_buy_total');
    expect(FEATURE_NAMES).toEqual([...first, ...aggression]);
  });

  it('has the expected names at a few positions', () => {
    expect(FEATURE_NAMES).toHaveLength(149);
    expect(new Set(FEATURE_NAMES).size).toBe(149);
    expect(FEATURE_NAMES[0]).toBe('underlying_price_open');
    expect(FEATURE_NAMES[4]).toBe('underlying_dollar_value_total');
    expect(FEATURE_NAMES[17]).toBe('underlying_dollar_value_kde_peaks');
    expect(FEATURE_NAMES[18]).toBe('puts_below_intrinsic_pct');
    expect(FEATURE_NAMES[48]).toBe('calls_dollar_value');
    expect(FEATURE_NAMES[49]).toBe('calls_above_intrinsic_pct');
    expect(FEATURE_NAMES[64]).toBe('calls_gadvv_total');
    expect(FEATURE_NAMES[66]).toBe('calls_gadvv_q1');
    expect(FEATURE_NAMES[80]).toBe('calls_gadvv_kde_peaks');
    expect(FEATURE_NAMES[81]).toBe('calls_dadvv_agg_buy_total');
    expect(FEATURE_NAMES[148]).toBe('puts_dadvv_agg_sell_kde_peaks');
  });

  it('extra fields complete the 17-stat family of every group plus the two extra scalars', () => {
    expect(EXTRA_FEATURE_NAMES).toHaveLength(14);
    expect(EXTRA_FEATURE_NAMES.slice(0, 2)).toEqual(['puts_dollar_value', 'calls_below_intrinsic_pct']);
    expect(EXTRA_FEATURE_NAMES).toContain('puts_dadvv_q1');
    expect(new Set(ALL_FEATURE_FIELDS).size).toBe(163);
    for (const g of GROUP_NAMES) for (const s of STAT_NAMES) expect(ALL_FEATURE_FIELDS).toContain(`${g}_${s}`);
    expect(FEATURE_NAMES.some((n) => EXTRA_FEATURE_NAMES.includes(n))).toBe(false);
  });
});
