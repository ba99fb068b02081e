export * from './frames';
export * from './close-codes';
export * from './parse';
export * from './json-schemas';
export * from './sse-cursor';
export * from './offset-order';
