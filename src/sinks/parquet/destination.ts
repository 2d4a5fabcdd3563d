import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { generationOfFile } from './layout';

/**
 * Where finished files go. A file is written complete under a temporary name first, then published in
 * one step — rename on a local filesystem, a single PUT or multipart completion on S3 — so a reader
 * never sees half a file.
 *
 * One version per partition directory: a file carries the generation of its records (in its name,
 * layout.ts). Publishing a file of generation g into a directory that holds files of an older
 * generation REPLACES the directory: the older files go, in one step for a reader (below); a file
 * older than what the directory holds is superseded and not published. Every step is idempotent, so a
 * replayed segment (seal, kill -9) lands the same way.
 */
export type PublishOutcome = 'published' | 'replaced' | 'superseded';

export interface Destination {
  readonly description: string;
  /** A local path to write the file at before it is published. */
  stagingPath(relativePath: string): Promise<string>;
  publish(stagingPath: string, relativePath: string, generation: number): Promise<PublishOutcome>;
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

  /**
   * A newer generation is swapped in by rename: the new directory is built beside the dataset (same
   * filesystem), then the old directory is renamed away and the new one renamed into its place, and the
   * old one removed. A reader never sees both versions nor a mix; between the two renames (a few
   * microseconds) the partition directory is absent.
   */
  async publish(stagingPath: string, relativePath: string, generation: number): Promise<PublishOutcome> {
    const final = path.join(this.root, relativePath);
    const dir = path.dirname(final);
    const present = await segmentFiles(dir);
    if (present.some((f) => f.generation > generation)) {
      await fs.rm(stagingPath, { force: true });
      return 'superseded';
    }
    if (!present.some((f) => f.generation < generation)) {
      await fs.rename(stagingPath, final);
      return 'published';
    }
    const { next, old } = this.swapPaths(path.basename(final));
    await fs.rm(next, { recursive: true, force: true });
    await fs.rm(old, { recursive: true, force: true });
    await fs.mkdir(next, { recursive: true });
    for (const f of present.filter((x) => x.generation >= generation)) await fs.link(path.join(dir, f.name), path.join(next, f.name));
    await fs.rename(stagingPath, path.join(next, path.basename(final)));
    await fs.rename(dir, old);
    await fs.rename(next, dir);
    await fs.rm(old, { recursive: true, force: true });
    return 'replaced';
  }

  /** Beside the dataset root, never under it (a reader's `root/**\/*.parquet` glob skips them). */
  private swapPaths(fileName: string): { next: string; old: string } {
    const base = path.join(path.dirname(this.root), `.${path.basename(this.root)}.swap`);
    return { next: path.join(base, `${fileName}.next`), old: path.join(base, `${fileName}.old`) };
  }

  async discard(stagingPath: string): Promise<void> {
    await fs.rm(stagingPath, { force: true });
  }

  /** Staging files, and swap directories a kill left behind (the published lake is whole either way). */
  async discardStale(fileNamePrefix: string): Promise<number> {
    const files = await removeMatching(this.root, (name) => name.startsWith(`.${fileNamePrefix}`) && name.endsWith('.tmp'), true);
    const base = path.dirname(this.swapPaths('x').next);
    const dirs = (await fs.readdir(base).catch(() => [] as string[])).filter((d) => d.startsWith(fileNamePrefix));
    await Promise.all(dirs.map((d) => fs.rm(path.join(base, d), { recursive: true, force: true })));
    return files + dirs.length;
  }
}

async function segmentFiles(dir: string): Promise<{ name: string; generation: number }[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const generation = generationOfFile(name);
    return generation === undefined ? [] : [{ name, generation }];
  });
}

/** The file in each S3 partition directory that names its current files (S3Destination.publish). */
export const MANIFEST = '_manifest.json';

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

  /**
   * Multipart for large files (lib-storage switches by size); the object appears only on completion.
   * S3 has no rename, so a directory's version is stated by a manifest: `_manifest.json` in each
   * partition directory lists its current files and their generation, written (one PUT, atomic) after
   * every publish. Replacing: upload the new file, write the manifest that names only the new
   * version's files, then delete the older files. A reader that follows the manifest never sees both
   * versions; a reader that lists the prefix (a `**\/*.parquet` glob) sees both versions between the
   * upload and the delete (about a second), and never a partial file.
   */
  async publish(stagingPath: string, relativePath: string, generation: number): Promise<PublishOutcome> {
    const dirKey = this.key(path.posix.dirname(relativePath));
    const present = await this.segmentObjects(dirKey);
    if (present.some((f) => f.generation > generation)) {
      await fs.rm(stagingPath, { force: true });
      return 'superseded';
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.location.bucket, Key: this.key(relativePath), Body: createReadStream(stagingPath), ContentType: 'application/vnd.apache.parquet' },
      partSize: 16 * 1024 * 1024,
      queueSize: 2,
    });
    await upload.done();
    await fs.rm(stagingPath, { force: true });
    const name = path.posix.basename(relativePath);
    const current = [...new Set([...present.filter((f) => f.generation === generation).map((f) => f.name), name])].sort();
    const manifest = { generation, files: current };
    await this.client.send(
      new PutObjectCommand({ Bucket: this.location.bucket, Key: `${dirKey}/${MANIFEST}`, Body: JSON.stringify(manifest), ContentType: 'application/json' }),
    );
    const older = present.filter((f) => f.generation < generation);
    if (older.length === 0) return 'published';
    await this.client.send(
      new DeleteObjectsCommand({ Bucket: this.location.bucket, Delete: { Objects: older.map((f) => ({ Key: `${dirKey}/${f.name}` })), Quiet: true } }),
    );
    return 'replaced';
  }

  private async segmentObjects(dirKey: string): Promise<{ name: string; generation: number }[]> {
    const out: { name: string; generation: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: `${dirKey}/`, Delimiter: '/', ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const name = path.posix.basename(o.Key ?? '');
        const generation = generationOfFile(name);
        if (generation !== undefined) out.push({ name, generation });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async discard(stagingPath: string): Promise<void> {
    await fs.rm(stagingPath, { force: true });
  }

  /** Local staging only: an unfinished multipart upload never becomes an object (expire them with a bucket lifecycle rule). */
  discardStale(fileNamePrefix: string): Promise<number> {
    return removeMatching(this.stagingDir, (name) => /^optflow-\d+-/.test(name) && name.replace(/^optflow-\d+-/, '').startsWith(fileNamePrefix) && name.endsWith('.tmp'), false);
  }
}
