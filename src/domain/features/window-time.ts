/** Tumbling event-time windows aligned to the UTC epoch, [start, start + size) (DESIGN 4). */

const UNIT_NS: Readonly<Record<string, bigint>> = { s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const WINDOW_LABEL = /^([1-9]\d*)([smh])$/;

/** '30s' | '1m' | '5m' | '1h' | any `<n>s|m|h` → window length in ns. */
export function parseWindowNs(label: string): bigint {
  const match = WINDOW_LABEL.exec(label);
  if (match === null) throw new RangeError(`window '${label}' is not <n>s, <n>m or <n>h with n ≥ 1`);
  return BigInt(match[1]) * UNIT_NS[match[2]];
}

/** Start of the window of length sizeNs containing tNs (floor, also for times before 1970). */
export function windowStartNs(tNs: bigint, sizeNs: bigint): bigint {
  if (sizeNs <= 0n) throw new RangeError(`window size must be positive, got ${sizeNs}`);
  const rem = tNs % sizeNs;
  return rem < 0n ? tNs - rem - sizeNs : tNs - rem;
}
