/**
 * A worker thread that answers each message with one reply, in the order sent. A failed or exited
 * thread rejects every reply it still owes, and every later send.
 */
import { Worker } from 'node:worker_threads';

export interface ReplyingWorkerOptions<Reply> {
  /** Named in its errors. */
  name: string;
  /** The error a reply reports (null: a reply to resolve with). */
  errorOf(reply: Reply): Error | null;
  /** Keep the process alive only while a reply is owed (default: while the thread runs). */
  idleUnref?: boolean;
}

export class ReplyingWorker<Request, Reply> {
  private readonly thread: Worker;
  private readonly owed: { resolve(reply: Reply): void; reject(err: Error): void }[] = [];
  private failure: Error | null = null;

  constructor(script: string, private readonly options: ReplyingWorkerOptions<Reply>) {
    this.thread = new Worker(script);
    if (options.idleUnref) this.thread.unref();
    this.thread.on('message', (reply: Reply) => {
      const waiter = this.owed.shift();
      if (options.idleUnref && this.owed.length === 0) this.thread.unref();
      const error = options.errorOf(reply);
      if (error !== null) waiter?.reject(error);
      else waiter?.resolve(reply);
    });
    this.thread.on('error', (err) => this.fail(err));
    this.thread.on('exit', (code) => this.fail(new Error(`${options.name} exited with code ${code}`)));
  }

  get dead(): boolean {
    return this.failure !== null;
  }

  /** The message's reply; `transfer`'s memory belongs to the thread from here on. */
  send(message: Request, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const reply = this.failure !== null ? Promise.reject(this.failure) : new Promise<Reply>((resolve, reject) => this.owed.push({ resolve, reject }));
    reply.catch(() => undefined); // awaited by the caller, or abandoned with its work
    if (this.failure === null) {
      if (this.options.idleUnref) this.thread.ref();
      this.thread.postMessage(message, transfer);
    }
    return reply;
  }

  async terminate(): Promise<void> {
    await this.thread.terminate();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.owed.splice(0)) waiter.reject(err);
  }
}
