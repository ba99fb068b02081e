import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { HttpErrorFilter, createOpenApiDocument, serveOpenApi } from '@choreo/http';
import { EntityCatalog } from '@choreo/entities';
import { Database, migrate, syncEntitySchema } from '@choreo/persistence';
import { AggregatesController } from './api/aggregates.controller';
import { aggregatesOpenApi } from './api/aggregates.openapi';
import { AggregatesService } from './api/aggregates.service';
import { aggregateEventsController } from './stream/aggregator.transport';
import { AGGREGATION_SETTINGS, AggregationService } from './windows/aggregation.service';
import { AGGREGATOR_MIGRATIONS } from './windows/aggregator.schema';
import { ResultWriter } from './windows/result-writer';
import { RuleSet } from './windows/rule-set';
import { CLOSER_SETTINGS, WindowCloser } from './windows/window-closer';
import { WindowStore } from './windows/window.store';

export interface AggregatorModuleOptions {
  /** `databaseConfig`. */
  database: { url: string; poolMax: number };
  rules: RuleSet;
  /** `aggregationConfig`. */
  settings: { idleMs: number; tickMs: number; batchMax: number };
  /** Serve /openapi.json and the Swagger UI at /docs (default true). */
  openApi?: boolean;
}

const OPTIONS = Symbol('AggregatorModuleOptions');

@Injectable()
class AggregatorLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(OPTIONS) private readonly options: AggregatorModuleOptions,
    private readonly db: Database,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onModuleInit(): Promise<void> {
    // Own tables first, then the output entities' tables (the crud side creates them too; sync is
    // idempotent under the schema lock), before any stream entry can reach them.
    await migrate(this.db, 'aggregator', AGGREGATOR_MIGRATIONS);
    const outputs = [...new Set(this.options.rules.outputs.values())];
    if (outputs.length > 0) await syncEntitySchema(this.db, new EntityCatalog(outputs));
    if (this.options.openApi !== false) {
      const document = createOpenApiDocument(
        {
          title: 'choreo aggregator',
          version: '1',
          description: 'Windowed aggregates over the streams, exactly once (docs/aggregations.md)',
        },
        aggregatesOpenApi(),
      );
      serveOpenApi(this.adapterHost.httpAdapter, document);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

/** The rules' windows: the stream handler, the batch applier, the closer and `/aggregates`. */
@Module({})
export class AggregatorModule {
  static forRoot(options: AggregatorModuleOptions): DynamicModule {
    return {
      module: AggregatorModule,
      controllers: [AggregatesController, aggregateEventsController(options.rules.types)],
      providers: [
        { provide: OPTIONS, useValue: options },
        { provide: RuleSet, useValue: options.rules },
        {
          provide: Database,
          useFactory: () => new Database({ ...options.database, applicationName: 'aggregator' }),
        },
        { provide: AGGREGATION_SETTINGS, useValue: { batchMax: options.settings.batchMax } },
        {
          provide: CLOSER_SETTINGS,
          useValue: { idleMs: options.settings.idleMs, tickMs: options.settings.tickMs },
        },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        WindowStore,
        ResultWriter,
        AggregationService,
        WindowCloser,
        AggregatesService,
        AggregatorLifecycle,
      ],
      exports: [AggregationService, WindowCloser, Database],
    };
  }
}
