export { oneLine } from './one-line.js';
export { printable, hasControl, hasUnprintable } from './printable.js';
export { renderTable, type Column } from './table.js';
export { counted } from './plural.js';
export { age } from './age.js';
