export * from './database';
export * from './migrations';
export * from './schema-sync';
export * from './entity.repository';
export * from './outbox';
export * from './inbox';
export * from './idempotency';
export * from './outbox-slot';
