export * from './models';
export * from './load';
export * from './rates';
export * from './csv';
export * from './errors';
export * from './time';
export * from './budget';
