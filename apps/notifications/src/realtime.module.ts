import {
  BeforeApplicationShutdown,
  DynamicModule,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createOpenApiDocument, serveOpenApi } from '@choreo/http';
import { ReadinessRegistry } from '@choreo/runtime';
import type { Server } from 'node:http';
import { SseController } from './gateway/sse.controller';
import { notificationsOpenApi } from './notifications.openapi';
import { Realtime } from './realtime';

/**
 * Serves the OpenAPI document (/openapi.json, Swagger UI at /docs), starts the edge once the HTTP
 * server exists, stops it first on shutdown, reports its readiness.
 */
@Injectable()
class RealtimeLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly realtime: Realtime,
    private readonly adapterHost: HttpAdapterHost,
    readiness: ReadinessRegistry,
  ) {
    // Not ready while pub/sub does not deliver: a load balancer sends new clients elsewhere.
    readiness.register('pubsub', async () => realtime.hub.ready);
    readiness.register('read-model', () => realtime.timelines.ping());
  }

  onModuleInit(): void {
    const document = createOpenApiDocument(
      {
        title: 'choreo notifications',
        version: '1',
        description:
          'Real-time delivery: Server-Sent Events and the live page. The WebSocket protocol at /ws ' +
          '(frames, close codes, a JSON Schema per frame) is in docs/realtime.md.',
      },
      notificationsOpenApi(),
    );
    serveOpenApi(this.adapterHost.httpAdapter, document);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.realtime.start(this.adapterHost.httpAdapter.getHttpServer() as Server);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.realtime.stop();
  }
}

/** The real-time edge: WebSocket `/ws`, SSE `/sse`, channels, read model. */
@Module({})
export class RealtimeModule {
  static forRoot(realtime: Realtime): DynamicModule {
    return {
      module: RealtimeModule,
      controllers: [SseController],
      providers: [{ provide: Realtime, useValue: realtime }, RealtimeLifecycle],
      exports: [Realtime],
    };
  }
}
