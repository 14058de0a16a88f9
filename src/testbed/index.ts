export * from './images/index.js';
export * from './manager/index.js';
