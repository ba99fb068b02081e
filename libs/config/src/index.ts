export * from './config-slice';
export * from './slices';
