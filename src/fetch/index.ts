/**
 * The fetch engine, and the small git surface other features share with it (verify): the
 * controlled environment, the runner with its limits, classification and repository paths.
 */
export { createFetcher, type FetcherDeps, type ReplicaFetcher } from './fetcher.js';
export { scheduleMaintenance, type MaintenanceSchedule } from './maintenance-schedule.js';
export * from './errors.js';
export type * from './types.js';
export { classify, kindOf, withinGrace } from './classify.js';
export { gitEnvironment, primarySecrets, baseConfigArgs } from './git-env.js';
export { runGit, type GitOutcome, type GitRunOptions } from './git-process.js';
export { listRepositories } from './list-repositories.js';
export { checkRepoName, primaryUrl, repoPathUnder } from './paths.js';
export { readLocalRefs } from './local-refs.js';
export { readOnlyProblem, readOnlyState, type ReadOnlyState } from './read-only.js';
