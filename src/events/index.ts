export * from './event.js';
export * from './names.js';
export * from './errors.js';
