export * from './streams';
export * from './envelope';
export * from './catalog';
export * from './realtime';
