/**
 * Where flat files come from: Massive's S3 endpoint (any S3-compatible server) or a local directory
 * with the same key layout. Both stream: `open` returns the object body as a Readable, never a buffer.
 */
import { createS3Client } from '../../../util/s3';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { ListedObject } from './planner';

export interface FlatFileSource {
  readonly description: string;
  list(prefix: string): Promise<ListedObject[]>;
  /** Streams the object; `etag` is the version actually served (it may differ from the listing). */
  open(key: string): Promise<{ body: Readable; size: number; etag: string }>;
  close(): void;
}

export interface S3SourceOptions {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Credentials from MASSIVE_S3_ACCESS_KEY_ID / MASSIVE_S3_SECRET_ACCESS_KEY; never logged. */
export function massiveCredentials(env: NodeJS.ProcessEnv): { accessKeyId?: string; secretAccessKey?: string } {
  return { accessKeyId: env.MASSIVE_S3_ACCESS_KEY_ID, secretAccessKey: env.MASSIVE_S3_SECRET_ACCESS_KEY };
}

export class S3Source implements FlatFileSource {
  readonly description: string;
  private readonly client: S3Client;

  constructor(private readonly options: S3SourceOptions) {
    this.description = `${options.endpoint}/${options.bucket}`;
    const { accessKeyId, secretAccessKey } = options;
    if (!accessKeyId || !secretAccessKey) {
      throw new Error('set MASSIVE_S3_ACCESS_KEY_ID and MASSIVE_S3_SECRET_ACCESS_KEY (or use --local <dir>)');
    }
    this.client = createS3Client({ endpoint: options.endpoint, region: options.region, credentials: { accessKeyId, secretAccessKey } });
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (o.Key) out.push({ key: o.Key, etag: o.ETag ?? '', size: o.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async open(key: string): Promise<{ body: Readable; size: number; etag: string }> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
    if (!res.Body) throw new Error(`s3://${this.options.bucket}/${key}: empty response body`);
    return { body: res.Body as Readable, size: res.ContentLength ?? 0, etag: res.ETag ?? '' };
  }

  close(): void {
    this.client.destroy();
  }
}

/** A directory laid out like the bucket. The "ETag" is derived from size and mtime (no hashing of GBs). */
export class LocalSource implements FlatFileSource {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = root;
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const slash = prefix.lastIndexOf('/');
    const dir = join(this.root, prefix.slice(0, slash + 1));
    const out: ListedObject[] = [];
    for (const path of await walk(dir)) {
      const key = relative(this.root, path).split(sep).join('/');
      if (!key.startsWith(prefix)) continue;
      const stat = await fs.stat(path);
      out.push({ key, etag: localEtag(stat.size, stat.mtimeMs), size: stat.size });
    }
    return out;
  }

  async open(key: string): Promise<{ body: Readable; size: number; etag: string }> {
    const path = join(this.root, key);
    const stat = await fs.stat(path);
    return { body: createReadStream(path, { highWaterMark: 1 << 20 }), size: stat.size, etag: localEtag(stat.size, stat.mtimeMs) };
  }

  close(): void {}
}

function localEtag(size: number, mtimeMs: number): string {
  return `"${createHash('sha1').update(`${size}:${mtimeMs}`).digest('hex').slice(0, 32)}"`;
}

async function walk(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else if (e.isFile()) out.push(path);
  }
  return out;
}
