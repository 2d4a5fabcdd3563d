/**
 * One Massive WebSocket feed: connect, authenticate, subscribe; on any disconnect reconnect with
 * capped exponential backoff and jitter, then re-authenticate and re-subscribe (DESIGN 2).
 *
 * The socket reader never waits on anything: each frame is parsed synchronously and its items are
 * handed to `onItem`, which must not block (the producer pushes them into a bounded buffer).
 * The API key is only ever written to the socket, never logged.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { RootMap } from '../../domain/opra';
import { logger } from '../../util/log';
import { backoffMs, type BackoffSettings } from './backoff';
import { parseFrame, type Feed, type FrameItem } from './frames';

const log = logger('ws.session');

export interface SessionOptions {
  feed: Feed;
  url: string;
  apiKey: string;
  /** e.g. `T.SPY,Q.SPY`. */
  subscriptions: string;
  rootMap: RootMap;
  backoff: BackoffSettings;
  rng?: () => number;
  /** Called synchronously for every non-status item, in frame order. */
  onItem: (item: Exclude<FrameItem, { kind: 'status' }>) => void;
  /** Authentication was refused: reconnecting would not help. */
  onFatal?: (err: Error) => void;
}

export interface SessionStats {
  connects: number;
  authenticated: number;
  frames: number;
}

export class MassiveSession {
  readonly stats: SessionStats = { connects: 0, authenticated: 0, frames: 0 };
  private socket: WebSocket | null = null;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly runId = `${process.pid}-${randomBytes(3).toString('hex')}`;
  private origin = '';
  private offset = 0n;

  constructor(private readonly options: SessionOptions) {}

  /** Connection id of the current connection (the `origin` of its records). */
  get connectionId(): string {
    return this.origin;
  }

  start(): void {
    this.stopping = false;
    this.connect();
  }

  /** Closes the socket and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000, 'shutdown');
    });
  }

  private connect(): void {
    if (this.stopping) return;
    this.stats.connects++;
    this.origin = `ws:${this.options.feed}:${this.runId}:${this.stats.connects}`;
    this.offset = 0n;
    const socket = new WebSocket(this.options.url, { handshakeTimeout: 10_000 });
    this.socket = socket;
    const origin = this.origin;
    const ctx = {
      feed: this.options.feed,
      origin,
      rootMap: this.options.rootMap,
      nextOffset: () => ++this.offset,
    };
    socket.on('open', () => {
      log.info('connected', { url: this.options.url, origin });
      socket.send(JSON.stringify({ action: 'auth', params: this.options.apiKey }));
    });
    socket.on('message', (data: WebSocket.RawData) => {
      this.stats.frames++;
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      for (const item of parseFrame(text, ctx)) {
        if (item.kind === 'status') this.onStatus(socket, item.status, item.message);
        else this.options.onItem(item);
      }
    });
    socket.on('error', (err) => log.warn('socket_error', { origin, error: err.message }));
    socket.on('close', (code, reason) => {
      if (this.socket === socket) this.socket = null;
      if (this.stopping) return;
      const delay = backoffMs(this.attempt++, this.options.backoff, this.options.rng);
      log.warn('disconnected', { origin, code, reason: reason.toString(), reconnect_in_ms: delay, attempt: this.attempt });
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.connect();
      }, delay);
    });
  }

  private onStatus(socket: WebSocket, status: string, message: string): void {
    switch (status) {
      case 'auth_success':
        this.stats.authenticated++;
        this.attempt = 0;
        log.info('authenticated', { origin: this.origin, subscriptions: this.options.subscriptions });
        socket.send(JSON.stringify({ action: 'subscribe', params: this.options.subscriptions }));
        return;
      case 'auth_failed':
        log.error('auth_failed', { origin: this.origin, message });
        this.stopping = true;
        socket.close(1000, 'auth failed');
        this.options.onFatal?.(new Error(`Massive refused the API key (MASSIVE_API_KEY): ${message}`));
        return;
      case 'max_connections':
        log.warn('max_connections', { origin: this.origin, message, note: 'another client uses this key; backing off' });
        socket.close(1000, 'max connections');
        return;
      default:
        log.info('status', { origin: this.origin, status, message });
    }
  }
}
