/**
 * IV + Greeks throughput: the pure pricing module on 1M generated trades, side by side with the
 * `implied-volatility` + `greeks` npm packages on a 20k sample of the same inputs, plus the full
 * enrichment core (OptionTrade → EnrichedOptionTrade) on 200k trades.
 *
 * Inputs are realistic: SPY-like spot, strikes ±25 %, times to expiry from 30 min to 1 year
 * (weighted to short-dated), vols from a skewed smile, BSM prices floored at intrinsic and rounded
 * to the cent, and ~3 % of trades printed below intrinsic. q = 0 so that the npm packages (which have no dividend
 * yield) solve the same problem. Run: node bench/run.js greeks (after tsc).
 */
import { createRequire } from 'node:module';
import { createGreeksEnricher, type UnderlyingSnapshot } from '../src/domain/greeks/enrich';
import { BsmContract, type Greeks } from '../src/domain/pricing/bsm';
import { FLAGS } from '../src/domain/pricing/flags';
import { ImpliedVolSolver } from '../src/domain/pricing/iv';
import type { OptionRight, OptionTrade } from '../src/domain/records';

type CallPut = 'call' | 'put';
interface ImpliedVolatilityPackage {
  getImpliedVolatility(price: number, s: number, k: number, t: number, r: number, callPut: CallPut, estimate?: number): number;
}
interface GreeksPackage {
  getDelta(s: number, k: number, t: number, v: number, r: number, callPut: CallPut): number;
  getGamma(s: number, k: number, t: number, v: number, r: number): number;
  getVega(s: number, k: number, t: number, v: number, r: number): number;
  getTheta(s: number, k: number, t: number, v: number, r: number, callPut: CallPut, scale?: number): number;
}

const TRADES = 1_000_000;
const NPM_SAMPLE = 20_000;
const ENRICH_SAMPLE = 200_000;
const RATE = 0.045;
const SECONDS_PER_YEAR = 31_536_000;

interface Inputs {
  isCall: Uint8Array;
  spot: Float64Array;
  strike: Float64Array;
  tau: Float64Array;
  price: Float64Array;
  /** σ the price was made from (NaN for below-intrinsic prints). */
  sigma: Float64Array;
}

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(n: number, seed: number): Inputs {
  const random = prng(seed);
  const inputs: Inputs = {
    isCall: new Uint8Array(n),
    spot: new Float64Array(n),
    strike: new Float64Array(n),
    tau: new Float64Array(n),
    price: new Float64Array(n),
    sigma: new Float64Array(n),
  };
  const contract = new BsmContract();
  for (let i = 0; i < n; i++) {
    const spot = 560 * (1 + 0.01 * (random() - 0.5));
    const tau = (1800 + Math.pow(random(), 3) * (SECONDS_PER_YEAR - 1800)) / SECONDS_PER_YEAR;
    const strike = Math.round(spot * (1 + 0.5 * Math.sqrt(tau) * (random() - 0.5)) * (random() < 0.1 ? 1 + 0.4 * (random() - 0.5) : 1));
    const right: OptionRight = random() < 0.5 ? 'C' : 'P';
    const m = Math.log(strike / spot) / Math.sqrt(Math.max(tau, 1 / 365) * 12);
    const sigma = Math.min(Math.max(0.16 * (1 - 0.6 * m + 1.2 * m * m), 0.06), 2.5);
    const intrinsic = right === 'C' ? Math.max(spot - strike, 0) : Math.max(strike - spot, 0);
    const belowIntrinsic = intrinsic > 0.5 && random() < 0.06;
    // Listed options are American: prints stay at or above intrinsic, except the bad ones.
    const model = contract.set(right, spot, strike, tau, RATE, 0).priceAndVega(sigma);
    const cents = Math.max(Math.round(model * 100), Math.ceil(intrinsic * 100), 1);
    const price = belowIntrinsic ? intrinsic - 0.01 - 0.3 * random() : cents / 100;
    inputs.isCall[i] = right === 'C' ? 1 : 0;
    inputs.spot[i] = spot;
    inputs.strike[i] = strike;
    inputs.tau[i] = tau;
    inputs.price[i] = price;
    inputs.sigma[i] = belowIntrinsic ? NaN : sigma;
  }
  return inputs;
}

interface PureStats {
  seconds: number;
  solved: number;
  flagged: Map<number, number>;
  checksum: number;
  iv: Float64Array;
}

function runPure(inputs: Inputs, count: number): PureStats {
  const contract = new BsmContract();
  const solver = new ImpliedVolSolver();
  const greeks: Greeks = { price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 };
  const iv = new Float64Array(count);
  const flagged = new Map<number, number>();
  let solved = 0;
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    contract.set(inputs.isCall[i] === 1 ? 'C' : 'P', inputs.spot[i], inputs.strike[i], inputs.tau[i], RATE, 0);
    const sigma = solver.solve(contract, inputs.price[i]);
    const flags = solver.flags;
    if (flags !== 0) flagged.set(flags, (flagged.get(flags) ?? 0) + 1);
    if (sigma === null) {
      iv[i] = NaN;
      continue;
    }
    contract.greeks(sigma, greeks);
    iv[i] = sigma;
    checksum += greeks.delta + greeks.gamma + greeks.vega * 1e-3 + greeks.theta * 1e-4;
    solved++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, solved, flagged, checksum, iv };
}

function runNpm(inputs: Inputs, count: number): { seconds: number; iv: Float64Array; checksum: number } {
  const load = createRequire(__filename);
  const ivPackage = load('implied-volatility') as ImpliedVolatilityPackage;
  const greeksPackage = load('greeks') as GreeksPackage;
  const iv = new Float64Array(count);
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const cp: CallPut = inputs.isCall[i] === 1 ? 'call' : 'put';
    const [s, k, t] = [inputs.spot[i], inputs.strike[i], inputs.tau[i]];
    const sigma = ivPackage.getImpliedVolatility(inputs.price[i], s, k, t, RATE, cp);
    iv[i] = sigma;
    checksum +=
      greeksPackage.getDelta(s, k, t, sigma, RATE, cp) +
      greeksPackage.getGamma(s, k, t, sigma, RATE) +
      greeksPackage.getVega(s, k, t, sigma, RATE) +
      greeksPackage.getTheta(s, k, t, sigma, RATE, cp);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, iv, checksum };
}

function runEnrich(inputs: Inputs, count: number): number {
  const enrich = createGreeksEnricher({
    multiplier: 100,
    stalenessNs: 1_000_000_000n,
    rate: RATE,
    dividendYields: {},
    defaultDividendYield: 0,
    maxAskBidRatio: 1.5,
  });
  const expiryNs = BigInt(Date.UTC(2025, 11, 19, 21)) * 1_000_000n;
  const trades: OptionTrade[] = [];
  const snapshots: UnderlyingSnapshot[] = [];
  for (let i = 0; i < count; i++) {
    const t = expiryNs - BigInt(Math.round(inputs.tau[i] * SECONDS_PER_YEAR * 1e3)) * 1_000_000n;
    const right: OptionRight = inputs.isCall[i] === 1 ? 'C' : 'P';
    trades.push({
      ticker: 'O:SPY251219C00560000', underlying: 'SPY', root: 'SPY', expiration_date: '2025-12-19', right,
      strike: inputs.strike[i], sip_timestamp: t, participant_timestamp: null, sequence_number: null,
      price: inputs.price[i], size: 10n, exchange: null, conditions: [], correction: null,
      source: 'flatfile', origin: 'bench', origin_offset: BigInt(i),
    });
    snapshots.push({ kind: 'quote', bid: inputs.spot[i] - 0.005, ask: inputs.spot[i] + 0.005, timestamp: t - 1000n });
  }
  let withGreeks = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (enrich(trades[i], snapshots[i]).delta !== null) withGreeks++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (withGreeks === 0) throw new Error('enrich produced no Greeks');
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(44) : String(c).padStart(14))).join('');
}

export async function run(): Promise<void> {
  const inputs = generate(TRADES, 20250314);
  runPure(generate(50_000, 7), 50_000); // JIT warm-up on other inputs
  const pure = runPure(inputs, TRADES);
  const npm = runNpm(inputs, NPM_SAMPLE);
  runEnrich(inputs, 20_000);
  const enrichSeconds = runEnrich(inputs, ENRICH_SAMPLE);

  const pureRate = TRADES / pure.seconds;
  const npmRate = NPM_SAMPLE / npm.seconds;
  const enrichRate = ENRICH_SAMPLE / enrichSeconds;
  const ourErrors: number[] = [];
  const npmErrors: number[] = [];
  for (let i = 0; i < NPM_SAMPLE; i++) {
    if (Number.isNaN(inputs.sigma[i]) || Number.isNaN(pure.iv[i])) continue;
    ourErrors.push(Math.abs(pure.iv[i] - inputs.sigma[i]));
    npmErrors.push(Math.abs(npm.iv[i] - inputs.sigma[i]));
  }

  console.log('IV + Greeks throughput (one core, same inputs; q = 0, r = 4.5 %)');
  console.log(row(['implementation', 'trades', 'seconds', 'trades/s', 'vs npm']));
  console.log(row(['optflow pricing (solve + Δ Γ vega θ)', TRADES, pure.seconds.toFixed(3), Math.round(pureRate), `${(pureRate / npmRate).toFixed(1)}x`]));
  console.log(row(['implied-volatility + greeks (npm)', NPM_SAMPLE, npm.seconds.toFixed(3), Math.round(npmRate), '1.0x']));
  console.log(row(['optflow enrich (OptionTrade → Enriched)', ENRICH_SAMPLE, enrichSeconds.toFixed(3), Math.round(enrichRate), `${(enrichRate / npmRate).toFixed(1)}x`]));
  console.log('');
  console.log(`solved ${pure.solved} of ${TRADES}; flag sets: ${[...pure.flagged.entries()].map(([f, n]) => `${describe(f)}=${n}`).join(', ')}`);
  console.log(
    `median |IV − generating σ| on the sample (cent-rounded prices): optflow ${median(ourErrors).toExponential(2)}, npm ${median(npmErrors).toExponential(2)}`,
  );
  console.log(`checksums ${pure.checksum.toFixed(3)} / ${npm.checksum.toFixed(3)}`);
}

function describe(flags: number): string {
  return Object.entries(FLAGS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name)
    .join('|');
}

if (require.main === module) void run();
