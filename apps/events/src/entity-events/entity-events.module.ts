import { DynamicModule, Module } from '@nestjs/common';
import { EntityCatalog } from '@choreo/entities';
import { EntityChangeRepository, EntityRepository } from '@choreo/persistence';
import { eventsOpenApiFragment } from '../platform/events-openapi';
import { EntityEventsController } from './entity-events.controller';
import { entityEventsOpenApi } from './entity-events.openapi';
import { EntityEventsService } from './entity-events.service';

export interface EntityEventsModuleOptions {
  /** The loaded entity definitions (`loadEntities(entitiesConfig.dir)`); the crud side syncs their tables. */
  catalog: EntityCatalog;
}

/**
 * `/events/:entity` writes (POST; PATCH and DELETE by filter or `/:id`) for every declared entity. Uses the Database,
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
        {
          provide: EntityChangeRepository,
          useFactory: (rows: EntityRepository) => new EntityChangeRepository(rows),
          inject: [EntityRepository],
        },
        EntityEventsService,
        eventsOpenApiFragment('ENTITY_EVENTS', () => entityEventsOpenApi(options.catalog)),
      ],
    };
  }
}
