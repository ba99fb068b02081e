export * from './actionable-error';
export * from './config-slice';
export * from './slices';
