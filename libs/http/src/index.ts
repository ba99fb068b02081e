export * from './api-error';
export * from './auth.guard';
export * from './error.filter';
export * from './validation';
export * from './etag';
export * from './openapi';
export * from './postgrest';
