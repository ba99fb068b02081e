import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  EntityCatalog,
  ListLimits,
  DEFAULT_LIST_LIMITS,
  entitiesOpenApi,
  loadEntities,
} from '@choreo/entities';
import {
  AuthOptions,
  RateLimitOptions,
  createOpenApiDocument,
  edgeProviders,
  serveOpenApi,
} from '@choreo/http';
import { Database, EntityBulkRepository, EntityRepository, syncEntitySchema } from '@choreo/persistence';
import { CrudController } from './crud.controller';
import { CrudService } from './crud.service';

export interface CrudModuleOptions {
  /** The directory of entity definitions (`entitiesConfig`). */
  entitiesDir: string;
  /** `databaseConfig`. */
  database: { url: string; poolMax: number };
  /** `publicationConfig`: the CDC publication new entity tables join as they are created. */
  publication?: string;
  /** `authConfig`. */
  auth: AuthOptions;
  limits?: ListLimits;
  /** Serve /openapi.json and the Swagger UI at /docs (default true). */
  openApi?: boolean;
  /**
   * Limits per token or address and route group (`rateLimitConfig`; a `redisUrl` or a `redis`
   * client shares the count between replicas); none when absent.
   */
  rateLimit?: RateLimitOptions;
}

const OPTIONS = Symbol('CrudModuleOptions');

/** Start-up and shutdown of the crud path: schema sync before serving, OpenAPI, closing the pool. */
@Injectable()
class CrudLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(OPTIONS) private readonly options: CrudModuleOptions,
    private readonly catalog: EntityCatalog,
    private readonly db: Database,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onModuleInit(): Promise<void> {
    // Tables before routes: a refused (destructive) change stops the boot with what to do.
    await syncEntitySchema(this.db, this.catalog, { publication: this.options.publication });
    if (this.options.openApi !== false) {
      const document = createOpenApiDocument(
        {
          title: 'choreo crud',
          version: '1',
          description: 'REST over the entities declared in entities/*.yaml',
        },
        entitiesOpenApi(this.catalog, '/crud', this.options.limits ?? DEFAULT_LIST_LIMITS),
      );
      serveOpenApi(this.adapterHost.httpAdapter, document);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

/**
 * `/crud/:entity` for every definition in `entitiesDir`. Loading the definitions happens here, at
 * module construction: a bad file fails the boot naming file and path.
 */
@Module({})
export class CrudModule {
  static forRoot(options: CrudModuleOptions): DynamicModule {
    const catalog = loadEntities(options.entitiesDir);
    return {
      module: CrudModule,
      controllers: [CrudController],
      providers: [
        { provide: OPTIONS, useValue: options },
        { provide: EntityCatalog, useValue: catalog },
        {
          provide: Database,
          useFactory: () => new Database({ ...options.database, applicationName: 'crud' }),
        },
        { provide: EntityRepository, useValue: new EntityRepository(catalog, options.limits) },
        {
          provide: EntityBulkRepository,
          useFactory: (rows: EntityRepository) => new EntityBulkRepository(rows, options.limits),
          inject: [EntityRepository],
        },
        ...edgeProviders({ auth: options.auth, rateLimit: options.rateLimit }),
        CrudService,
        CrudLifecycle,
      ],
    };
  }
}
