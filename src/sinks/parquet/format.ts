import { FileFormat, FileWriter } from '../segments';
import { AvroRecordSchema } from './schema';
import { ParquetFileWriter, ParquetWriterOptions } from './writer';

/**
 * Parquet as a sink file format (segments.ts): Avro records in, one Parquet file per segment and
 * partition directory, written by DuckDB (writer.ts). Rows are handed to the writer in blocks.
 */

const ROWS_PER_APPEND = 2048;

export class ParquetFormat implements FileFormat {
  constructor(
    private readonly schema: AvroRecordSchema,
    private readonly options: Partial<ParquetWriterOptions>,
  ) {}

  async open(stagingPath: string, metadata: Record<string, string>): Promise<FileWriter> {
    const writer = await ParquetFileWriter.open(stagingPath, this.schema, { ...this.options, keyValueMetadata: metadata });
    let rows: object[] = [];
    return {
      append(record: object): void {
        rows.push(record);
        if (rows.length >= ROWS_PER_APPEND) {
          writer.appendRows(rows);
          rows = [];
        }
      },
      async close() {
        if (rows.length > 0) writer.appendRows(rows);
        rows = [];
        const result = await writer.close();
        return { rows: result.rows, bytes: result.bytes };
      },
      abort: () => writer.abort(),
    };
  }
}
