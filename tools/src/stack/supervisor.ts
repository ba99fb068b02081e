import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, WriteStream } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { CONFIG_REFUSED_EXIT_CODE } from '@choreo/config';
import { APP_ENV, AppRuntime, appCommand } from './app-runtime';
import { AppSpec, restartDelayMs } from './apps';

/** An app crash-looping for longer than this is considered healthy again when it next runs. */
const HEALTHY_AFTER_MS = 30_000;

interface Supervised {
  spec: AppSpec;
  child?: ChildProcess;
  startedAt: number;
  crashes: number;
  launches: number;
  restartTimer?: NodeJS.Timeout;
  log: WriteStream;
  /** The last lines the app wrote to stderr: a refusal's message. */
  stderrTail: string[];
}

export interface SupervisorOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Also copy every app's output to this process's stdout, prefixed with the app name. */
  echo: boolean;
  logger: Logger;
  /** Compiled dist/ or the sources under the TypeScript loader (default `ts`). */
  runtime?: AppRuntime;
  /**
   * An app refused to start (exit CONFIG_REFUSED_EXIT_CODE: its configuration, a definition file or the
   * database needs a change); `message` is what it printed. It is not restarted.
   */
  onRefused?: (app: string, message: string) => void;
}

/**
 * Runs each app as a child process and brings it back when it dies, with a growing delay so a
 * crash loop does not spin. `stop()` ends them all (SIGTERM, then SIGKILL after a grace period).
 */
export class Supervisor {
  private readonly apps = new Map<string, Supervised>();
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  start(specs: AppSpec[]): void {
    for (const spec of specs) {
      const log = createWriteStream(path.join(this.options.logDir, `${spec.name}.log`), { flags: 'a' });
      const app: Supervised = { spec, startedAt: 0, crashes: 0, launches: 0, log, stderrTail: [] };
      this.apps.set(spec.name, app);
      this.launch(app);
    }
  }

  /** How many times the app was started (1 + restarts). */
  launches(name: string): number {
    return this.apps.get(name)?.launches ?? 0;
  }

  pid(name: string): number | undefined {
    return this.apps.get(name)?.child?.pid;
  }

  private launch(app: Supervised): void {
    const { spec } = app;
    const child = spawn(process.execPath, appCommand(spec.main, this.options.runtime ?? 'ts'), {
      cwd: this.options.root,
      env: { ...APP_ENV, ...this.options.env, PORT: String(spec.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.child = child;
    app.startedAt = Date.now();
    app.launches += 1;
    app.stderrTail = [];
    child.stderr.on('data', (chunk: Buffer) => {
      app.stderrTail.push(...chunk.toString().split('\n').filter(Boolean));
      app.stderrTail.splice(0, Math.max(0, app.stderrTail.length - 20));
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream.pipe(app.log, { end: false });
      if (this.options.echo) {
        stream.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString().split('\n'))
            if (line) process.stdout.write(`${spec.name} | ${line}\n`);
        });
      }
    }
    child.once('exit', (code, signal) => this.onExit(app, child, code, signal));
  }

  private onExit(
    app: Supervised,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (app.child === child) app.child = undefined;
    if (this.stopping) return;
    if (code === CONFIG_REFUSED_EXIT_CODE) {
      const message = app.stderrTail.join('\n') || `${app.spec.name} refused to start (exit ${code})`;
      this.options.logger.error({ service: app.spec.name, code }, `${app.spec.name} refused to start`);
      this.options.onRefused?.(app.spec.name, message);
      return;
    }
    app.crashes = Date.now() - app.startedAt > HEALTHY_AFTER_MS ? 1 : app.crashes + 1;
    const delayMs = restartDelayMs(app.crashes);
    this.options.logger.warn(
      { service: app.spec.name, code, signal, crashes: app.crashes, restartInMs: delayMs },
      `${app.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delayMs} ms — see ${path.relative(
        this.options.root,
        app.log.path.toString(),
      )}`,
    );
    app.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.options.logger.info({ service: app.spec.name }, `restarting ${app.spec.name}`);
      this.launch(app);
    }, delayMs);
  }

  /** Stops every app: SIGTERM for a graceful drain, SIGKILL for any still running after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.apps.values()].map(async (app) => {
        clearTimeout(app.restartTimer);
        const child = app.child;
        if (child && child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        app.log.end();
      }),
    );
  }
}
