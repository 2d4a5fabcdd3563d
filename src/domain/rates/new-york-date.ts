/**
 * The New York calendar date (YYYY-MM-DD) of an instant, by the IANA time-zone database (Intl).
 * A trade's date is its New York trading date, so a trade at 20:30 New York time is still that
 * day although it is the next day in UTC.
 *
 * New York's UTC offsets are whole hours, so the date is constant within each UTC hour: the last
 * hour is memoised (trades arrive nearly in time order), which keeps Intl off the hot path.
 * To be replaced by the project's New York time module when it lands.
 */
const HOUR_NS = 3_600_000_000_000n;

const FORMAT = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' });

/** New York date of a Unix-epoch millisecond instant (not memoised). */
export function newYorkDateOfMs(ms: number): string {
  const parts = FORMAT.formatToParts(new Date(ms));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** Memoises the New York date of the last UTC hour asked for. */
export class NewYorkDates {
  private hour = -1n;
  private date = '';

  of(ns: bigint): string {
    const hour = ns >= 0n ? ns / HOUR_NS : (ns - HOUR_NS + 1n) / HOUR_NS;
    if (hour !== this.hour) {
      this.hour = hour;
      this.date = newYorkDateOfMs(Number(hour * HOUR_NS / 1_000_000n));
    }
    return this.date;
  }
}
