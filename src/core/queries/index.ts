export * from './types';
export * from './filter';
export * from './sidebar';
export * from './cost';
export * from './errors';
export * from './chapters';
export * from './budget';
