/** Which option contracts a generated day lists for an underlying. */
import { expiriesFor } from './calendar';
import { opraSymbol, type Contract, type UnderlyingSpec } from './market';
import { newYorkTimeNs } from '../domain/new-york';

const EXPIRY_ACTIVITY = [2, 1.2, 0.8, 0.6];

/** 0, +1, −1, +2, −2, … strike steps from the money. */
function ladderOffset(level: number): number {
  return level % 2 === 1 ? (level + 1) / 2 : -level / 2;
}

/**
 * `count` contracts spread over (expiry, right) slots, strikes laddering out from the money,
 * so every expiry has calls and puts both in and out of the money.
 */
export function contractsFor(spec: UnderlyingSpec, date: string, count: number): Contract[] {
  const expiries = expiriesFor(date);
  const slots = expiries.flatMap((expiration, e) => (['C', 'P'] as const).map((right) => ({ expiration, e, right })));
  const atm = Math.round(spec.spot / spec.strikeStep) * spec.strikeStep;
  const contracts: Contract[] = [];
  for (let i = 0; i < count; i++) {
    const slot = slots[i % slots.length];
    const strike = atm + ladderOffset(Math.floor(i / slots.length)) * spec.strikeStep;
    if (strike <= 0) continue;
    const moneyness = Math.abs(Math.log(strike / spec.spot));
    contracts.push({
      symbol: opraSymbol(spec.symbol, slot.expiration, slot.right, strike),
      underlying: spec.symbol,
      expiration: slot.expiration,
      expiryNs: newYorkTimeNs(slot.expiration, 16, 0),
      right: slot.right,
      strike,
      weight: Math.exp(-25 * moneyness) * (EXPIRY_ACTIVITY[slot.e] ?? 0.5),
    });
  }
  return contracts;
}

/** Splits `total` events over contracts by weight (each contract gets at least one). */
export function eventsPerContract(contracts: readonly Contract[], total: number): number[] {
  const sum = contracts.reduce((acc, c) => acc + c.weight, 0);
  return contracts.map((c) => Math.max(1, Math.round((total * c.weight) / sum)));
}
