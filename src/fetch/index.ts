export { createFetcher, type FetcherDeps, type ReplicaFetcher } from './fetcher.js';
export * from './errors.js';
export type * from './types.js';
export { classify, kindOf, withinGrace } from './classify.js';
