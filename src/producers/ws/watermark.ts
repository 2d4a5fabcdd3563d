/**
 * Live heartbeat watermark (DESIGN 4): max event time of the records already handed to Kafka minus
 * a lag. A marker is due only when that value advanced since the last one sent: repeating a stale
 * watermark would make an idle partition look active and hold back the processors' watermark
 * instead of letting their idle_timeout ignore it.
 */
const NS_PER_MS = 1_000_000n;

export class HeartbeatWatermark {
  private maxEventNs: bigint | null = null;
  private lastSent: bigint | null = null;

  constructor(private readonly lagMs: number) {}

  observe(eventNs: bigint): void {
    if (this.maxEventNs === null || eventNs > this.maxEventNs) this.maxEventNs = eventNs;
  }

  /** The watermark to send now, or null when there is nothing new. */
  due(): bigint | null {
    if (this.maxEventNs === null) return null;
    const wm = this.maxEventNs - BigInt(this.lagMs) * NS_PER_MS;
    if (this.lastSent !== null && wm <= this.lastSent) return null;
    return wm;
  }

  sent(watermark: bigint): void {
    if (this.lastSent === null || watermark > this.lastSent) this.lastSent = watermark;
  }

  get max(): bigint | null {
    return this.maxEventNs;
  }
}
