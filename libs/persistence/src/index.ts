export {};
export * from './outbox';
export * from './inbox';
export * from './idempotency';
export * from './outbox-slot';
