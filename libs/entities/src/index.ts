export * from './definition';
export * from './errors';
export * from './entity-model';
export * from './load-entities';
export * from './list-query';
export * from './openapi';
export * from './json-schema';
export * from './entities.config';
