import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../config';

/**
 * Java runtimes of the local stack, fetched from Maven Central with their dependencies through a tiny
 * pom and `mvn dependency:copy-dependencies`, into a git-ignored folder: the second start is offline.
 */

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
}

export interface JarSet {
  name: string;
  artifacts: MavenArtifact[];
}

export function kafkaJars(version: string): JarSet {
  return {
    name: `kafka-${version}`,
    artifacts: [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version },
      { groupId: 'org.apache.kafka', artifactId: 'kafka-tools', version },
      { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: '1.7.36' },
    ],
  };
}

/** Adobe S3Mock: a real S3-compatible HTTP server (Spring Boot) for tests and local runs. */
export const S3MOCK_VERSION = '3.12.0';
export function s3mockJars(): JarSet {
  return {
    name: `s3mock-${S3MOCK_VERSION}`,
    artifacts: [
      { groupId: 'com.adobe.testing', artifactId: 's3mock', version: S3MOCK_VERSION },
      // Spring Boot 3 needs slf4j 2; Maven's nearest-wins would otherwise pick the AWS SDK's 1.7.
      { groupId: 'org.slf4j', artifactId: 'slf4j-api', version: '2.0.16' },
    ],
  };
}

function pomFor(set: JarSet): string {
  const deps = set.artifacts
    .map((a) => `<dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version></dependency>`)
    .join('\n    ');
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>optflow.stack</groupId><artifactId>${set.name}</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`;
}

/** Returns the folder holding the set's jars, fetching them first if they are not there yet. */
export function ensureJars(jarsHome: string, set: JarSet, onFetch?: (name: string) => void): string {
  const dir = path.join(jarsHome, set.name);
  const libs = path.join(dir, 'libs');
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return libs;
  onFetch?.(set.name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pom.xml'), pomFor(set));
  fs.rmSync(libs, { recursive: true, force: true });
  try {
    execFileSync('mvn', ['-q', '-B', '-f', path.join(dir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`fetching ${set.name} from Maven Central failed (is mvn installed?): ${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? e.message}`, {
      cause: err,
    });
  }
  fs.writeFileSync(done, new Date().toISOString());
  return libs;
}

export const LOOPBACK_INITIALIZER = 'optflow.stack.LoopbackConnectors';

/**
 * Compiles src/stack/java/<name>.java against `libs` (javac comes with the JDK that Maven needs), once
 * per source version: the source's hash names the class folder, under jarsHome, that it returns.
 */
function compileOnce(jarsHome: string, name: string, folder: string, libs: string): string {
  const file = path.join(projectRoot(), 'src', 'stack', 'java', `${name}.java`);
  const text = fs.readFileSync(file, 'utf8');
  const out = path.join(jarsHome, `${folder}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`);
  if (fs.existsSync(path.join(out, 'optflow', 'stack', `${name}.class`))) return out;
  const result = spawnSync('javac', ['-nowarn', '-cp', `${libs}/*`, '-d', out, file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`compiling ${file} failed (javac from a JDK 17 is needed): ${result.error?.message ?? result.stderr}`);
  return out;
}

/** src/stack/java/LoopbackConnectors.java compiled against S3Mock's jars: the class folder to put on its classpath. */
export function compileLoopbackConnectors(jarsHome: string, s3mockLibs: string): string {
  return compileOnce(jarsHome, 'LoopbackConnectors', 's3mock-loopback', s3mockLibs);
}

/** ASM, for patching one Kafka class (see LeaderEndpointPatch.java); never on the broker's classpath. */
export function asmJars(): JarSet {
  return { name: 'asm-9.7.1', artifacts: [{ groupId: 'org.ow2.asm', artifactId: 'asm', version: '9.7.1' }] };
}

/**
 * Applies src/stack/java/LeaderEndpointPatch.java (KAFKA-20734) to a Kafka release's jars, once per
 * release and patch version. Returns the folder to put before the Kafka jars on the broker's classpath,
 * or null when the release does not need it (3.x: the Scala metadata cache had it right).
 */
export function kafkaLeaderEndpointPatch(jarsHome: string, kafkaLibs: string, asmLibs: string): string | null {
  const tool = compileOnce(jarsHome, 'LeaderEndpointPatch', 'leader-endpoint-patch', asmLibs);
  const out = path.join(path.dirname(kafkaLibs), path.basename(tool));
  const verdict = path.join(out, 'verdict');
  if (!fs.existsSync(verdict)) {
    const metadataJar = fs.readdirSync(kafkaLibs).find((f) => /^kafka-metadata-[0-9].*\.jar$/.test(f));
    if (!metadataJar) throw new Error(`no kafka-metadata jar in ${kafkaLibs}`);
    const run = spawnSync('java', ['-cp', `${tool}:${asmLibs}/*`, 'optflow.stack.LeaderEndpointPatch', path.join(kafkaLibs, metadataJar), path.join(out, 'classes')], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`patching ${metadataJar} failed: ${run.stderr || run.stdout}`);
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(verdict, run.stdout.trim());
  }
  return fs.readFileSync(verdict, 'utf8') === 'patched' ? path.join(out, 'classes') : null;
}
