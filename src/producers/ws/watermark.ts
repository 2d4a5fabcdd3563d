/**
 * Live heartbeat watermarks (DESIGN 4), one per partition number of the feed's topics: the max event
 * time of the records already handed to Kafka for that partition, minus a lag. A partition's marker
 * follows only the underlyings that hash to it, so a busy underlying never advances the partition of
 * a quiet one past records it has not sent yet; a partition that received nothing gets no marker
 * (the processors' idle_timeout may ignore it until it does).
 *
 * A marker is due only when its value advanced since the last one sent: repeating a stale watermark
 * would make a quiet partition look active for no information.
 */
const NS_PER_MS = 1_000_000n;

export class PartitionHeartbeats {
  private readonly maxEventNs = new Map<number, bigint>();
  private readonly lastSent = new Map<number, bigint>();

  constructor(private readonly lagMs: number) {}

  observe(partition: number, eventNs: bigint): void {
    const max = this.maxEventNs.get(partition);
    if (max === undefined || eventNs > max) this.maxEventNs.set(partition, eventNs);
  }

  /** The watermark to send now per partition, for the partitions whose watermark advanced. */
  due(): Map<number, bigint> {
    const out = new Map<number, bigint>();
    const lag = BigInt(this.lagMs) * NS_PER_MS;
    for (const [partition, max] of this.maxEventNs) {
      const wm = max - lag;
      const last = this.lastSent.get(partition);
      if (last === undefined || wm > last) out.set(partition, wm);
    }
    return out;
  }

  sent(partition: number, watermark: bigint): void {
    const last = this.lastSent.get(partition);
    if (last === undefined || watermark > last) this.lastSent.set(partition, watermark);
  }
}
