import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';

/**
 * Where finished Parquet files go. A file is written complete under a temporary name first, then
 * published in one step — rename on a local filesystem, a single PUT or multipart completion on S3 —
 * so a reader never sees half a file.
 */
export interface Destination {
  readonly description: string;
  /** A local path to write the file at before it is published. */
  stagingPath(relativePath: string): Promise<string>;
  publish(stagingPath: string, relativePath: string): Promise<void>;
  discard(stagingPath: string): Promise<void>;
  /** Removes staging files left by a killed writer of this file-name prefix (`<topic>+<partition>+`). */
  discardStale(fileNamePrefix: string): Promise<number>;
}

async function removeMatching(dir: string, matches: (name: string) => boolean, recursive: boolean): Promise<number> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir, { recursive, encoding: 'utf8' });
  } catch {
    return 0;
  }
  const stale = entries.filter((e) => matches(path.basename(e)));
  await Promise.all(stale.map((e) => fs.rm(path.join(dir, e), { force: true })));
  return stale.length;
}

export class LocalDestination implements Destination {
  constructor(readonly root: string) {}

  get description(): string {
    return this.root;
  }

  /** Hidden name in the final directory (same filesystem, so rename is atomic; `*.parquet` globs skip it). */
  async stagingPath(relativePath: string): Promise<string> {
    const final = path.join(this.root, relativePath);
    await fs.mkdir(path.dirname(final), { recursive: true });
    return path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}.tmp`);
  }

  async publish(stagingPath: string, relativePath: string): Promise<void> {
    await fs.rename(stagingPath, path.join(this.root, relativePath));
  }

  async discard(stagingPath: string): Promise<void> {
    await fs.rm(stagingPath, { force: true });
  }

  discardStale(fileNamePrefix: string): Promise<number> {
    return removeMatching(this.root, (name) => name.startsWith(`.${fileNamePrefix}`) && name.endsWith('.tmp'), true);
  }
}

export interface S3Location {
  bucket: string;
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// url: ${url}`);
  return { bucket: m[1], prefix: m[2].replace(/\/+$/, '') };
}

export class S3Destination implements Destination {
  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
    private readonly stagingDir = os.tmpdir(),
  ) {}

  get description(): string {
    return `s3://${this.location.bucket}/${this.location.prefix}`;
  }

  key(relativePath: string): string {
    return this.location.prefix ? `${this.location.prefix}/${relativePath}` : relativePath;
  }

  async stagingPath(relativePath: string): Promise<string> {
    await fs.mkdir(this.stagingDir, { recursive: true });
    return path.join(this.stagingDir, `optflow-${process.pid}-${path.basename(relativePath)}.tmp`);
  }

  /** Multipart for large files (lib-storage switches by size); the object appears only on completion. */
  async publish(stagingPath: string, relativePath: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.location.bucket, Key: this.key(relativePath), Body: createReadStream(stagingPath), ContentType: 'application/vnd.apache.parquet' },
      partSize: 16 * 1024 * 1024,
      queueSize: 2,
    });
    await upload.done();
    await fs.rm(stagingPath, { force: true });
  }

  async discard(stagingPath: string): Promise<void> {
    await fs.rm(stagingPath, { force: true });
  }

  /** Local staging only: an unfinished multipart upload never becomes an object (expire them with a bucket lifecycle rule). */
  discardStale(fileNamePrefix: string): Promise<number> {
    return removeMatching(this.stagingDir, (name) => /^optflow-\d+-/.test(name) && name.replace(/^optflow-\d+-/, '').startsWith(fileNamePrefix) && name.endsWith('.tmp'), false);
  }
}
