/**
 * Draws progress on stderr when it is a TTY (redrawn in place a few times a second); otherwise logs
 * the same numbers as periodic info events (visible with --verbose).
 */
import type { Logger } from '../../../util/log';
import { dayLine, fileLine, type FileProgress } from './progress';

export interface DayView {
  date: string;
  index: number;
  count: number;
  files: FileProgress[];
}

export class ProgressView {
  private timer?: NodeJS.Timeout;
  private drawnLines = 0;
  private day: DayView | null = null;
  private lastLogMs = 0;

  constructor(
    private readonly mode: 'tty' | 'log',
    private readonly log: Logger,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  start(): void {
    const periodMs = this.mode === 'tty' ? 250 : 1000;
    this.timer = setInterval(() => this.render(), periodMs);
    this.timer.unref();
  }

  show(day: DayView | null): void {
    this.day = day;
    this.render();
  }

  /** Prints a line above the live area (TTY) or as a log event. */
  note(text: string): void {
    if (this.mode === 'tty') {
      this.clear();
      this.out.write(`${text}\n`);
      this.render();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.render();
    this.drawnLines = 0;
  }

  private clear(): void {
    if (this.drawnLines > 0) this.out.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }

  private render(): void {
    const day = this.day;
    const now = Date.now();
    if (this.mode === 'log') {
      if (!day || now - this.lastLogMs < 10_000) return;
      this.lastLogMs = now;
      for (const f of day.files.filter((x) => x.phase === 'reading' || x.phase === 'producing')) {
        this.log.info('file_progress', { file: f.key, phase: f.phase, bytes: f.bytesRead, bytes_total: f.bytesTotal, rows: f.rowsRead, produced: f.produced, items: f.itemsDone, items_total: f.itemsTotal });
      }
      return;
    }
    this.clear();
    if (!day) return;
    const width = Math.max(60, Math.min(this.out.columns ?? 100, 140));
    const lines = [dayLine(day.date, day.index, day.count, day.files), ...day.files.map((f) => `  ${fileLine(f, now)}`)].map((l) => l.slice(0, width - 1));
    this.out.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }
}
