import { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { MassiveSession } from '../../../src/producers/ws/session';
import type { FrameItem } from '../../../src/producers/ws/frames';

/** A fake Massive server: answers auth with auth_success (or auth_failed for key 'bad'), records messages. */
function fakeMassive(): { url: Promise<string>; received: string[]; sockets: WebSocket[]; server: WebSocketServer } {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const received: string[] = [];
  const sockets: WebSocket[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.send(JSON.stringify([{ ev: 'status', status: 'connected', message: 'Connected Successfully' }]));
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      received.push(text);
      const msg = JSON.parse(text) as { action: string; params: string };
      if (msg.action === 'auth') {
        const ok = msg.params !== 'bad';
        socket.send(JSON.stringify([{ ev: 'status', status: ok ? 'auth_success' : 'auth_failed', message: ok ? 'authenticated' : 'authentication failed' }]));
      } else if (msg.action === 'subscribe') {
        socket.send(JSON.stringify([{ ev: 'status', status: 'success', message: `subscribed to: ${msg.params}` }]));
      }
    });
  });
  const url = new Promise<string>((resolve) => server.on('listening', () => resolve(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  return { url, received, sockets, server };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('MassiveSession', () => {
  it('authenticates, subscribes, delivers items, and after a drop reconnects, re-auths and re-subscribes', async () => {
    const fake = fakeMassive();
    const items: Exclude<FrameItem, { kind: 'status' }>[] = [];
    const session = new MassiveSession({
      feed: 'stocks', url: await fake.url, apiKey: 'k3y', subscriptions: 'T.SPY,Q.SPY', rootMap: {},
      backoff: { initialMs: 20, maxMs: 100 }, onItem: (i) => items.push(i),
    });
    session.start();
    try {
      await until(() => fake.received.length === 2);
      expect(fake.received.map((t) => JSON.parse(t))).toEqual([{ action: 'auth', params: 'k3y' }, { action: 'subscribe', params: 'T.SPY,Q.SPY' }]);
      fake.sockets[0].send('[{"ev":"T","sym":"SPY","p":1,"s":2,"t":1741358400123,"q":1}]');
      await until(() => items.length === 1);
      const firstOrigin = session.connectionId;
      fake.sockets[0].terminate();
      await until(() => fake.received.length === 4);
      expect(fake.received.slice(2).map((t) => JSON.parse(t))).toEqual([{ action: 'auth', params: 'k3y' }, { action: 'subscribe', params: 'T.SPY,Q.SPY' }]);
      fake.sockets[1].send('[{"ev":"T","sym":"SPY","p":1,"s":3,"t":1741358400124,"q":2}]');
      await until(() => items.length === 2);
      expect(session.connectionId).not.toBe(firstOrigin);
      expect(session.stats).toMatchObject({ connects: 2, authenticated: 2 });
      const second = items[1];
      expect(second.kind === 'record' && second.record.origin).toBe(session.connectionId);
      expect(second.kind === 'record' && second.record.origin_offset).toBe(1n);
    } finally {
      await session.stop();
      fake.server.close();
    }
  });

  it('treats auth_failed as fatal and does not reconnect', async () => {
    const fake = fakeMassive();
    let fatal: Error | null = null;
    const session = new MassiveSession({
      feed: 'stocks', url: await fake.url, apiKey: 'bad', subscriptions: 'T.SPY', rootMap: {},
      backoff: { initialMs: 10, maxMs: 20 }, onItem: () => undefined, onFatal: (e) => (fatal = e),
    });
    session.start();
    try {
      await until(() => fatal !== null);
      await new Promise((r) => setTimeout(r, 100));
      expect(session.stats.connects).toBe(1);
      expect(fake.received).toHaveLength(1);
      expect(String(fatal)).not.toContain('bad"');
    } finally {
      await session.stop();
      fake.server.close();
    }
  });
});
