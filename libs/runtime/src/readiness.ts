import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<boolean>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'up' | 'down' | 'draining'>;
}

/**
 * What `/readyz` asks. Every provider that owns a connection registers a check; the app is ready
 * only when all pass. Shutdown flips it to not-ready first so load balancers stop sending work.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  markDraining(): void {
    this.draining = true;
  }

  async report(timeoutMs = 1000): Promise<ReadinessReport> {
    const checks: ReadinessReport['checks'] = {};
    if (this.draining) return { ready: false, checks: { shutdown: 'draining' } };
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        checks[name] = (await withTimeout(check(), timeoutMs).catch(() => false)) ? 'up' : 'down';
      }),
    );
    return { ready: Object.values(checks).every((state) => state === 'up'), checks };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
