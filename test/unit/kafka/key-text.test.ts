import { KeyText } from '../../../src/kafka/consumer';

describe('KeyText', () => {
  it('gives each key its own text when keys of one length alternate, change length or are empty', () => {
    const keys = new KeyText();
    const sequence = ['SPY', 'SPY', 'QQQ', 'SPY', 'IWM', 'IWM', 'SP', 'SPYX', '', '', 'SPY', 'é', 'SPY'];
    // Every key a fresh view of a shared buffer, as a consumed batch hands them out.
    const batch = Buffer.from(sequence.join(''), 'utf8');
    let at = 0;
    const texts = sequence.map((k) => {
      const length = Buffer.byteLength(k, 'utf8');
      const view = batch.subarray(at, at + length);
      at += length;
      return keys.of(view);
    });
    expect(texts).toEqual(sequence);
  });
});
