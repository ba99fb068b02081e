export * from './streams';
export * from './envelope';
export * from './catalog';
export * from './channels';
export * from './outbox-message';
export * from './dead-letter';
export * from './apps';
export * from './realtime';
