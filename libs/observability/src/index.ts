// First: loads @nestjs/common before anything else does (see the module).
import './nest-date-formatters';
export * from './trace-context';
export * from './correlation';
export * from './logger';
export * from './metrics';
export * from './tracing';
