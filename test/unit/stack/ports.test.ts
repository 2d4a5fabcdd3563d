import { decodeProcAddress, isLoopback } from '../../../src/stack/ports';

describe('/proc/net/tcp addresses', () => {
  it.each([
    ['0100007F', '127.0.0.1', true],
    ['00000000', '0.0.0.0', false],
    ['00000000000000000000000001000000', '::1', true],
    ['0000000000000000FFFF00000100007F', '::ffff:127.0.0.1', true],
    ['00000000000000000000000000000000', '::', false],
  ])('%s is %s', (hex, address, loopback) => {
    expect(decodeProcAddress(hex)).toBe(address);
    expect(isLoopback(address)).toBe(loopback);
  });
});
