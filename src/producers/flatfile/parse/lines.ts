/**
 * Splits decompressed CSV bytes into lines without copying whole chunks: each line is handed out
 * as (buffer, start, end) with its 1-based line number. Handles lines split across chunks, CRLF
 * and a last line without a newline.
 */

const LF = 10;
const CR = 13;

export type LineSink = (buf: Buffer, start: number, end: number, lineNumber: number) => void;

export class LineSplitter {
  private carry: Buffer | null = null;
  private lineNumber = 0;

  /** Number of lines handed out so far. */
  get linesSeen(): number {
    return this.lineNumber;
  }

  push(chunk: Buffer, sink: LineSink): void {
    let pos = 0;
    if (this.carry !== null) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const joined = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = null;
      this.emit(joined, 0, joined.length, sink);
      pos = nl + 1;
    }
    const len = chunk.length;
    while (pos < len) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        this.carry = Buffer.from(chunk.subarray(pos));
        return;
      }
      this.emit(chunk, pos, nl, sink);
      pos = nl + 1;
    }
  }

  /** The next line is `lineNumber + 1`: for a block of whole lines cut from the middle of a file. */
  continueAt(lineNumber: number): void {
    if (this.carry !== null) throw new Error('LineSplitter: continueAt() inside a line');
    this.lineNumber = lineNumber;
  }

  /** Flushes a last line that had no trailing newline. */
  end(sink: LineSink): void {
    if (this.carry !== null && this.carry.length > 0) this.emit(this.carry, 0, this.carry.length, sink);
    this.carry = null;
  }

  private emit(buf: Buffer, start: number, end: number, sink: LineSink): void {
    const stop = end > start && buf[end - 1] === CR ? end - 1 : end;
    this.lineNumber += 1;
    sink(buf, start, stop, this.lineNumber);
  }
}

export interface TextLine {
  text: string;
  lineNumber: number;
}

/** Convenience form (tests, small files): yields lines as latin1 strings, one array per chunk. */
export async function* readLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<TextLine[]> {
  const splitter = new LineSplitter();
  let batch: TextLine[] = [];
  const sink: LineSink = (buf, start, end, lineNumber) => {
    batch.push({ text: buf.toString('latin1', start, end), lineNumber });
  };
  for await (const chunk of chunks) {
    splitter.push(chunk, sink);
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  splitter.end(sink);
  if (batch.length > 0) yield batch;
}
