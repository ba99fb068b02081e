import { DynamicModule, Module } from '@nestjs/common';
import { EntityCatalog, entitiesOpenApi } from '@choreo/entities';
import type { OpenApiFragment } from '@choreo/http';
import { EntityRepository } from '@choreo/persistence';
import { eventsOpenApiFragment } from '../platform/events-openapi';
import { EntityEventsController } from './entity-events.controller';
import { EntityEventsService } from './entity-events.service';

export interface EntityEventsModuleOptions {
  /** The loaded entity definitions (`loadEntities(entitiesConfig.dir)`); the crud side syncs their tables. */
  catalog: EntityCatalog;
}

const WRITES = new Set(['post', 'patch', 'delete']);

/** The write operations of the entity routes under `/events`, described like the crud ones. */
function entityEventsOpenApi(catalog: EntityCatalog): OpenApiFragment {
  const fragment = entitiesOpenApi(catalog, '/events');
  for (const [path, operations] of Object.entries(fragment.paths)) {
    const writes = Object.fromEntries(
      Object.entries(operations)
        // The collection's PATCH/DELETE by filter are crud's alone: /events writes one row at a time.
        .filter(([method]) => WRITES.has(method) && (path.endsWith('}') || method === 'post'))
        .map(([method, operation]) => [
          method,
          {
            ...(operation as Record<string, unknown>),
            operationId: `${String((operation as { operationId?: string }).operationId)}WithEvent`,
            description:
              'Writes the row and records `<entity>.created|updated|deleted` in the same transaction; ' +
              'answers with X-Event-ID and echoes X-Correlation-ID.',
          },
        ]),
    );
    if (Object.keys(writes).length > 0) fragment.paths[path] = writes;
    else delete fragment.paths[path];
  }
  // Same schema names as the crud fragment: they describe the same rows.
  return fragment;
}

/**
 * `/events/:entity` (POST, PATCH /:id, DELETE /:id) for every declared entity. Uses the Database,
 * auth and OpenAPI registry that EventsPlatformModule (global) provides.
 */
@Module({})
export class EntityEventsModule {
  static forRoot(options: EntityEventsModuleOptions): DynamicModule {
    return {
      module: EntityEventsModule,
      controllers: [EntityEventsController],
      providers: [
        { provide: EntityRepository, useValue: new EntityRepository(options.catalog) },
        EntityEventsService,
        eventsOpenApiFragment('ENTITY_EVENTS', () => entityEventsOpenApi(options.catalog)),
      ],
    };
  }
}
