import { ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FromClients, ToClients } from './bench-protocol';

type Reply<K extends FromClients['kind']> = Extract<FromClients, { kind: K }>;

/** The bench's client processes (`bench-clients.ts`), each holding its share of the connections. */
export class ClientPool {
  private readonly children: ChildProcess[] = [];

  constructor(count: number, cwd: string, openFilesEach: number) {
    for (let i = 0; i < count; i++) {
      const child = fork(path.join(__dirname, 'bench-clients.ts'), [], {
        execArgv: ['-r', '@swc-node/register'],
        cwd,
      });
      ensureOpenFiles(child.pid, openFilesEach, 'a bench client process');
      this.children.push(child);
    }
  }

  /** Sends `message(i)` to each process and collects one reply of `kind` from each. */
  async ask<K extends FromClients['kind']>(kind: K, message: (i: number) => ToClients): Promise<Reply<K>[]> {
    return Promise.all(
      this.children.map(
        (child, i) =>
          new Promise<Reply<K>>((resolve, reject) => {
            const done = () => {
              child.off('message', listener);
              child.off('exit', exited);
            };
            const listener = (reply: FromClients) => {
              if (reply.kind === 'failed') {
                done();
                reject(new Error(`client process ${i}: ${reply.error}`));
              } else if (reply.kind === kind) {
                done();
                resolve(reply as Reply<K>);
              }
            };
            const exited = (code: number | null) => {
              done();
              reject(new Error(`client process ${i} exited (${code}) before answering ${kind}`));
            };
            child.on('message', listener);
            child.once('exit', exited);
            child.send(message(i));
          }),
      ),
    );
  }

  tell(message: ToClients): void {
    for (const child of this.children) child.send(message);
  }

  /** Spreads `total` connections over the processes, each on `channels` round-robin. */
  connect(url: string, total: number, channels: string[], resumable = false) {
    const share = Math.ceil(total / this.children.length);
    return this.ask('connected', (i) => ({
      cmd: 'connect',
      url,
      count: Math.max(0, Math.min(share, total - i * share)),
      channels,
      offset: i * share,
      resumable,
    }));
  }

  async reports() {
    const all = await this.ask('report', () => ({ cmd: 'report' }));
    return {
      frames: all.reduce((n, r) => n + r.frames, 0),
      lastAt: Math.max(...all.map((r) => r.lastAt)),
      latencies: all.flatMap((r) => r.latencies),
      closes: all.flatMap((r) => Object.entries(r.closes).map(([code, n]) => `${n} × ${code}`)),
    };
  }

  async closeAll(): Promise<void> {
    await this.ask('closed', () => ({ cmd: 'close' }));
  }

  stop(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }
}

/**
 * Makes sure process `pid` may hold `needed` open files: raises its soft limit up to the hard one
 * (prlimit), or fails with what to change; 10,000 connections need more than the usual 1,024.
 */
export function ensureOpenFiles(pid: number | undefined, needed: number, what: string): void {
  if (pid === undefined) throw new Error(`${what} did not start`);
  const line = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(
    readFileSync(`/proc/${pid}/limits`, 'utf8'),
  );
  const limit = (text: string | undefined) => (text === 'unlimited' ? Infinity : Number(text));
  const [soft, hard] = [limit(line?.[1]), limit(line?.[2])];
  if (soft >= needed) return;
  if (hard < needed) {
    throw new Error(
      `${what} needs ${needed} open files but the hard limit is ${hard}: raise it (ulimit -Hn, ` +
        `/etc/security/limits.conf or the container's nofile) or run smaller sizes (--idle, --storm)`,
    );
  }
  const raised = hard === Infinity ? `${needed}:unlimited` : `${hard}:${hard}`;
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${raised}`]);
}
