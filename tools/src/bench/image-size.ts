import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * An estimate of docker/Dockerfile's image, for machines without a Docker engine: the sizes of what
 * its runtime stage copies, measured here, over the published size of its base. The pruning below
 * mirrors the Dockerfile's `find … -delete` step; keep the two together.
 */
export interface ImageEstimate {
  /** debian:bookworm-slim, amd64, as `docker images` reports it: published, not measured here. */
  baseMb: number;
  /** The node binary of the image's Node line, stripped when `strip` is on the PATH. */
  nodeMb: number;
  nodeStripped: boolean;
  /** Production node_modules (the lock file's non-dev, non-peer entries) before and after the Dockerfile's pruning. */
  modulesMb: number;
  prunedModulesMb: number;
  /** dist/ without source maps, entities/, package.json, healthcheck.cjs. */
  appMb: number;
  totalMb: number;
}

const BOOKWORM_SLIM_MB = 74.8;
const MB = 1e6;
const DROPPED = /(\.map|\.d\.[mc]?ts|\.[mc]?ts|\.md)$/i;
// The assets the /docs page links (libs/http openapi.ts) and what locates them.
const SWAGGER_KEPT =
  /^(package\.json|index\.js|absolute-path\.js|swagger-ui-bundle\.js|swagger-ui-standalone-preset\.js|swagger-ui\.css|favicon-.*\.png|LICENSE)$/;

/** Bytes of the files under `dir` (not following links, not descending into node_modules), kept by `keep`. */
function bytes(
  dir: string,
  keep: (file: string, relative: string) => boolean = () => true,
  base = dir,
): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') total += bytes(full, keep, base);
    } else if (entry.isFile() && keep(entry.name, path.relative(base, full))) {
      total += lstatSync(full).size;
    }
  }
  return total;
}

/**
 * The package folders `npm ci --omit=dev` installs (with .npmrc's omit=peer): every entry of the lock
 * file that is neither dev- nor peer-only, and is present here (other platforms' optional ones are not).
 */
function productionPackages(root: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; peer?: boolean; devOptional?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(
      ([where, entry]) =>
        where.startsWith('node_modules/') && !entry.dev && !entry.peer && !entry.devOptional,
    )
    .map(([where]) => path.join(root, where))
    .filter((dir) => existsSync(dir));
}

function nodeBinary(node: string): { mb: number; stripped: boolean } {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'choreo-node-'));
  try {
    const copy = path.join(scratch, 'node');
    copyFileSync(node, copy);
    execFileSync('strip', [copy], { stdio: 'ignore' });
    return { mb: lstatSync(copy).size / MB, stripped: true };
  } catch {
    return { mb: lstatSync(node).size / MB, stripped: false };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Estimates the image from `root` (dist/ built) and `node`, the binary of the image's Node line. */
export function estimateImage(root: string, node: string): ImageEstimate {
  let modules = 0;
  let pruned = 0;
  for (const dir of productionPackages(root)) {
    const name = dir.slice(dir.lastIndexOf(`node_modules${path.sep}`) + 'node_modules/'.length);
    modules += bytes(dir);
    if (name.startsWith('@types/')) continue;
    pruned += bytes(
      dir,
      (file, relative) =>
        !DROPPED.test(file) &&
        (name !== 'swagger-ui-dist' || relative.includes(path.sep) || SWAGGER_KEPT.test(file)),
    );
  }
  const app =
    bytes(path.join(root, 'dist'), (file) => !DROPPED.test(file) && file !== '.tsbuildinfo') +
    bytes(path.join(root, 'entities')) +
    lstatSync(path.join(root, 'package.json')).size +
    lstatSync(path.join(root, 'docker/healthcheck.cjs')).size;
  const binary = nodeBinary(node);
  const estimate = {
    baseMb: BOOKWORM_SLIM_MB,
    nodeMb: binary.mb,
    nodeStripped: binary.stripped,
    modulesMb: modules / MB,
    prunedModulesMb: pruned / MB,
    appMb: app / MB,
  };
  return {
    ...estimate,
    totalMb: estimate.baseMb + estimate.nodeMb + estimate.prunedModulesMb + estimate.appMb,
  };
}
