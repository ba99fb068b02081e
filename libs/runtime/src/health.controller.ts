import { BeforeApplicationShutdown, Controller, Get, Header, HttpCode, Logger, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { metricsRegistry } from '@choreo/observability';
import { ReadinessRegistry } from './readiness';

/**
 * Liveness, readiness and Prometheus metrics: the same three routes on every app. (No swagger
 * decorator: the OpenAPI documents are built by hand, never by scanning controllers, and importing
 * @nestjs/swagger here loaded it into every app.)
 */
@Controller()
export class HealthController implements BeforeApplicationShutdown {
  constructor(private readonly readiness: ReadinessRegistry) {}

  @Get('livez')
  @HttpCode(200)
  livez() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: FastifyReply) {
    const report = await this.readiness.report();
    void res.status(report.ready ? 200 : 503);
    return { status: report.ready ? 'ready' : 'not ready', checks: report.checks };
  }

  @Get('metrics')
  @Header('Content-Type', metricsRegistry().contentType)
  metrics() {
    return metricsRegistry().metrics();
  }

  beforeApplicationShutdown(signal?: string) {
    new Logger('Shutdown').log(`${signal ?? 'shutdown'} received: not ready any more, draining`);
    this.readiness.markDraining();
  }
}
