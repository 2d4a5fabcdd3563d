/** Gzip CSV writer with back-pressure, so a multi-million-row day streams in bounded memory. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';

const FLUSH_CHARS = 256 * 1024;

export class GzipCsvWriter {
  /** Lines written so far (header included): the next line's number is lines + 1. */
  lines = 0;
  uncompressedBytes = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private readonly hash = createHash('sha256');
  private compressedBytes = 0;

  private constructor(private readonly gzip: Gzip, private readonly done: Promise<void>) {
    gzip.on('data', (chunk: Buffer) => {
      this.hash.update(chunk);
      this.compressedBytes += chunk.length;
    });
  }

  static async open(path: string, level: number): Promise<GzipCsvWriter> {
    await mkdir(dirname(path), { recursive: true });
    const gzip = createGzip({ level });
    const file = createWriteStream(path);
    const done = new Promise<void>((resolve, reject) => {
      file.on('finish', () => resolve());
      file.on('error', reject);
      gzip.on('error', reject);
    });
    gzip.pipe(file);
    return new GzipCsvWriter(gzip, done);
  }

  async writeLine(line: string): Promise<void> {
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    this.lines++;
    if (this.pendingChars >= FLUSH_CHARS) await this.flush();
  }

  /** Ends the file; returns its sha256 (hex) and compressed size. */
  async close(): Promise<{ sha256: string; bytes: number }> {
    await this.flush();
    this.gzip.end();
    await this.done;
    return { sha256: this.hash.digest('hex'), bytes: this.compressedBytes };
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.pendingChars = 0;
    this.uncompressedBytes += text.length;
    if (!this.gzip.write(text, 'latin1')) await once(this.gzip, 'drain');
  }
}
