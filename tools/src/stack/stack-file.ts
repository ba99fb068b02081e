import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What `npm start` tells the other local tools about the stack it runs (`.data/stack.json`), so that
 * `npm run dlq` finds the stack's Redis with no variables set. Written once the servers are up,
 * removed when the stack stops.
 */
export interface StackFile {
  redisUrl: string;
  /** The runner's pid, so a reader can tell a stack that is gone from one that runs. */
  pid: number;
  apps: { name: string; port: number }[];
}

const root = path.resolve(__dirname, '../../..');

/** Where `npm start` keeps data, logs and the stack file: STACK_DATA_DIR, default `.data`. */
export function stackDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(root, env['STACK_DATA_DIR'] || '.data');
}

export function stackFilePath(dataDir: string): string {
  return path.join(dataDir, 'stack.json');
}

export function writeStackFile(dataDir: string, stack: StackFile): () => void {
  const file = stackFilePath(dataDir);
  writeFileSync(file, `${JSON.stringify(stack, null, 2)}\n`);
  return () => rmSync(file, { force: true });
}

/** The running stack's file, or undefined when there is none (or its runner is gone). */
export function readStackFile(dataDir: string): StackFile | undefined {
  let stack: StackFile;
  try {
    stack = JSON.parse(readFileSync(stackFilePath(dataDir), 'utf8')) as StackFile;
  } catch {
    return undefined;
  }
  try {
    process.kill(stack.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user. Anything else: the runner died without cleaning up.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return typeof stack.redisUrl === 'string' ? stack : undefined;
}
