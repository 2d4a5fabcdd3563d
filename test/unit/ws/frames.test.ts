import { parseFrame, timestampNs, type FrameContext, type FrameItem, type RecordEvent, type Rejection } from '../../../src/producers/ws/frames';
import { quoteLargeIntegers } from '../../../src/producers/ws/json';
import type { EquityQuote, EquityTrade, OptionQuote, OptionTrade } from '../../../src/domain/records';
import { typeOf } from '../../../src/avro/types';

function ctx(feed: 'stocks' | 'options' = 'stocks'): FrameContext {
  let n = 0n;
  return { feed, origin: 'ws:test:1', rootMap: { SPXW: 'SPX' }, nextOffset: () => ++n };
}

function one(text: string, feed: 'stocks' | 'options' = 'stocks'): FrameItem {
  const items = parseFrame(text, ctx(feed));
  expect(items).toHaveLength(1);
  return items[0];
}

function record<T>(item: FrameItem): RecordEvent & { record: T } {
  if (item.kind !== 'record') throw new Error(`expected a record, got ${JSON.stringify(item)}`);
  return item as RecordEvent & { record: T };
}

function rejection(item: FrameItem): Rejection {
  if (item.kind !== 'reject') throw new Error(`expected a rejection, got ${item.kind}`);
  return item;
}

describe('quoteLargeIntegers', () => {
  it('quotes 16+ digit integers outside strings only', () => {
    expect(quoteLargeIntegers('[{"t":1741358400123456789,"p":1.5,"s":100}]')).toBe('[{"t":"1741358400123456789","p":1.5,"s":100}]');
    expect(quoteLargeIntegers('{"i":"1741358400123456789 :1741358400123456789,","t":1}')).toBe('{"i":"1741358400123456789 :1741358400123456789,","t":1}');
    expect(quoteLargeIntegers('{"a":"x\\"1234567890123456789","b":-1234567890123456789}')).toBe('{"a":"x\\"1234567890123456789","b":"-1234567890123456789"}');
    expect(quoteLargeIntegers('{"p":1234567890123456.5,"e":12345678901234567e2}')).toBe('{"p":1234567890123456.5,"e":12345678901234567e2}');
  });
});

describe('timestampNs', () => {
  it('detects ms, µs and ns by magnitude, exactly', () => {
    expect(timestampNs(1741358400123n)).toBe(1741358400123000000n);
    expect(timestampNs(1741358400123456n)).toBe(1741358400123456000n);
    expect(timestampNs(1741358400123456789n)).toBe(1741358400123456789n);
  });
});

describe('parseFrame: stocks', () => {
  it('parses a trade: size from s (not q), exact ns from a ns t, provenance', () => {
    const r = record<EquityTrade>(one('[{"ev":"T","sym":"SPY","x":4,"i":"52983525029461","z":2,"p":571.23,"s":37,"c":[12,37],"t":1741358400123456789,"q":987654}]'));
    expect(r.topic).toBe('equity.trades');
    expect(r.key).toBe('SPY');
    expect(r.stream).toBe('T.SPY');
    expect(r.record).toMatchObject({
      ticker: 'SPY', sip_timestamp: 1741358400123456789n, price: 571.23, size: 37, sequence_number: 987654n,
      id: '52983525029461', exchange: 4, tape: 2, conditions: [12, 37], source: 'ws', origin: 'ws:test:1', origin_offset: 1n,
    });
  });

  it('normalises a ms t to ns', () => {
    const r = record<EquityTrade>(one('[{"ev":"T","sym":"SPY","p":1,"s":1,"t":1741358400123,"q":5}]'));
    expect(r.record.sip_timestamp).toBe(1741358400123000000n);
    expect(r.record.conditions).toEqual([]);
    expect(r.record.id).toBeNull();
  });

  it('parses a quote; an absent side (price 0) is null; single condition becomes a list', () => {
    const r = record<EquityQuote>(one('[{"ev":"Q","sym":"SPY","bx":11,"bp":571.2,"bs":3,"ax":0,"ap":0,"as":0,"c":1,"i":[604],"t":1741358400123,"q":77,"z":1}]'));
    expect(r.topic).toBe('equity.quotes');
    expect(r.record).toMatchObject({
      ticker: 'SPY', bid_price: 571.2, bid_size: 3n, bid_exchange: 11, ask_price: null, ask_size: null, ask_exchange: null,
      conditions: [1], indicators: [604], tape: 1, sequence_number: 77n, sip_timestamp: 1741358400123000000n,
    });
  });

  it('numbers events within a frame and keeps their order', () => {
    const items = parseFrame('[{"ev":"T","sym":"SPY","p":1,"s":1,"t":1741358400001},{"ev":"status","status":"success","message":"subscribed to: T.SPY"},{"ev":"Q","sym":"SPY","bp":1,"bs":1,"ap":2,"as":1,"t":1741358400002}]', ctx());
    expect(items.map((i) => i.kind)).toEqual(['record', 'status', 'record']);
    expect((items[0] as RecordEvent).record.origin_offset).toBe(1n);
    expect((items[2] as RecordEvent).record.origin_offset).toBe(2n);
    expect(items[1]).toEqual({ kind: 'status', status: 'success', message: 'subscribed to: T.SPY' });
  });

  it.each([
    ['non-positive price', '[{"ev":"T","sym":"SPY","p":0,"s":5,"t":1741358400001}]', 'non_positive_price'],
    ['non-positive size', '[{"ev":"T","sym":"SPY","p":1,"s":0,"t":1741358400001,"q":100}]', 'non_positive_size'],
    ['missing size (q present is not a size)', '[{"ev":"T","sym":"SPY","p":1,"t":1741358400001,"q":100}]', 'missing_field'],
    ['missing t', '[{"ev":"T","sym":"SPY","p":1,"s":1}]', 'missing_field'],
    ['missing sym', '[{"ev":"T","p":1,"s":1,"t":1741358400001}]', 'missing_field'],
    ['bad symbol', '[{"ev":"T","sym":"SP Y","p":1,"s":1,"t":1741358400001}]', 'bad_symbol'],
    ['string price', '[{"ev":"T","sym":"SPY","p":"abc","s":1,"t":1741358400001}]', 'bad_field'],
    ['negative bid', '[{"ev":"Q","sym":"SPY","bp":-1,"bs":1,"ap":2,"as":1,"t":1741358400001}]', 'non_positive_price'],
    ['fractional quote size', '[{"ev":"Q","sym":"SPY","bp":1,"bs":1.5,"ap":2,"as":1,"t":1741358400001}]', 'bad_field'],
  ])('rejects %s', (_name, text, reason) => {
    const r = rejection(one(text));
    expect(r.reason).toBe(reason);
    expect(r.topic).toMatch(/^equity\./);
    expect(r.raw).toContain('"ev"');
    expect(r.position).toBe(1n);
    expect(r.origin).toBe('ws:test:1');
  });

  it('rejects invalid JSON and non-array frames as a whole, to the fallback topic', () => {
    const bad = rejection(one('[{"ev":"T",'));
    expect(bad).toMatchObject({ reason: 'invalid_json', topic: 'equity.trades', raw: '[{"ev":"T",', position: 0n, key: null });
    expect(rejection(one('42')).reason).toBe('bad_frame');
  });

  it('ignores event types other than T, Q and status', () => {
    expect(one('[{"ev":"AM","sym":"SPY"}]')).toEqual({ kind: 'ignored', ev: 'AM' });
  });
});

describe('parseFrame: options', () => {
  it('parses an option trade with OPRA fields, keyed by the mapped underlying', () => {
    const r = record<OptionTrade>(one('[{"ev":"T","sym":"O:SPXW251219C06500000","x":65,"p":12.5,"s":3,"c":[227],"t":1741358400123456789,"q":4242}]', 'options'));
    expect(r.topic).toBe('option.trades');
    expect(r.key).toBe('SPX');
    expect(r.record).toMatchObject({
      ticker: 'O:SPXW251219C06500000', root: 'SPXW', underlying: 'SPX', expiration_date: '2025-12-19', right: 'C', strike: 6500,
      size: 3n, price: 12.5, sip_timestamp: 1741358400123456789n, sequence_number: 4242n, exchange: 65, conditions: [227],
    });
  });

  it('parses an option quote', () => {
    const r = record<OptionQuote>(one('[{"ev":"Q","sym":"O:SPY251219P00650000","bx":1,"bp":0,"bs":0,"ax":7,"ap":1.25,"as":40,"t":1741358400123,"q":9}]', 'options'));
    expect(r.topic).toBe('option.quotes');
    expect(r.key).toBe('SPY');
    expect(r.record).toMatchObject({ bid_price: null, bid_size: null, ask_price: 1.25, ask_size: 40n, ask_exchange: 7, right: 'P', strike: 650 });
  });

  it('rejects a malformed OPRA symbol to the option topic DLQ', () => {
    const r = rejection(one('[{"ev":"T","sym":"O:SPY25XX19C00650000","p":1,"s":1,"t":1741358400001}]', 'options'));
    expect(r).toMatchObject({ reason: 'bad_symbol', topic: 'option.trades' });
  });

  it('rejects a fractional option trade size', () => {
    expect(rejection(one('[{"ev":"T","sym":"O:SPY251219C00650000","p":1,"s":1.5,"t":1741358400001}]', 'options')).reason).toBe('bad_field');
  });
});

describe('parseFrame: regressions found by the WebSocket fuzz (issue 16)', () => {
  it.each([
    ['a sequence number above int64', '[{"ev":"T","sym":"SPY","p":1,"s":1,"t":1741358400001,"q":9223372036854775808}]', 'bad_field', /q=9223372036854775808 exceeds int64/],
    ['a 60-digit quote size', `[{"ev":"Q","sym":"SPY","bp":1,"bs":${'7'.repeat(60)},"ap":2,"as":1,"t":1741358400001}]`, 'bad_field', /bs=7{40} exceeds int64/],
    ['a t beyond int64', '[{"ev":"T","sym":"SPY","p":1,"s":1,"t":99999999999999999999}]', 'bad_field', /t=99999999999999999999 exceeds int64/],
    ['a t in 1970 (ms 1)', '[{"ev":"T","sym":"SPY","p":1,"s":1,"t":1}]', 'bad_timestamp', /t=1 is outside \[2000-01-01, 2100-01-01\)/],
    ['a t in 2262 (ns)', '[{"ev":"T","sym":"SPY","p":1,"s":1,"t":9223372036854775807}]', 'bad_timestamp', /outside/],
  ])('rejects %s instead of a record that fails Avro encoding or moves watermarks', (_what, text, reason, detail) => {
    const r = rejection(one(text));
    expect(r.reason).toBe(reason);
    expect(r.detail).toMatch(detail);
    expect(r.position).toBe(1n);
  });

  it('the int64 edge itself still parses (and encodes)', () => {
    const r = record<EquityTrade>(one('[{"ev":"T","sym":"SPY","p":1,"s":1,"t":1741358400001,"q":9223372036854775807}]'));
    expect(r.record.sequence_number).toBe(9223372036854775807n);
    expect(() => typeOf('EquityTrade').toBuffer(r.record)).not.toThrow();
  });

  it('an event nested too deep to print back is a rejection carrying its frame, not a stack overflow', () => {
    const text = `[${'['.repeat(20_000)}${']'.repeat(20_000)},{"ev":"T","sym":"SPY","p":1,"s":1,"t":1741358400001}]`;
    const items = parseFrame(text, ctx());
    expect(items.map((i) => i.kind)).toEqual(['reject', 'record']);
    expect(rejection(items[0])).toMatchObject({ reason: 'bad_event', raw: text, position: 1n });
    expect((items[1] as RecordEvent).record.origin_offset).toBe(2n);
  });
});
