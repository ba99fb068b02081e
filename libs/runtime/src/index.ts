export * from './readiness';
export * from './runtime.module';
export * from './connection-probes.module';
export * from './run-app';
export * from './http-app';
export * from './json-body.guard';
