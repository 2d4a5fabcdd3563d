/**
 * UTF-8 text of up to 6 bytes by its bytes: underlyings and stock tickers. A merge or a consumer
 * hands out millions of records among a few such names, so each gets the one string of its name
 * instead of a new one (a decode and an allocation a record).
 */
const names = new Map<number, string>();
const MAX_NAMES = 65_536;

/** `buf`'s bytes [start, start + length) as UTF-8, the same string object for the same short bytes. */
export function utf8Text(buf: Buffer, start: number, length: number): string {
  if (length > 6) return buf.toString('utf8', start, start + length);
  let packed = 0;
  for (let i = 0; i < length; i++) packed = packed * 256 + buf[start + i];
  const id = packed * 8 + length;
  let name = names.get(id);
  if (name === undefined) {
    name = buf.toString('utf8', start, start + length);
    if (names.size < MAX_NAMES) names.set(id, name);
  }
  return name;
}
