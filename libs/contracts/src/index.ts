export * from './streams';
export * from './envelope';
