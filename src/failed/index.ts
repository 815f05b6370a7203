export { failureId, failureRecord, FAILURE_ID } from '../retry/index.js';
export { toEntry, type FailureEntry } from './entry.js';
export { readOutstanding, idOfKey, type ReadOptions } from './reader.js';
export { pick, replay, tombstone } from './actions.js';
export { UnknownFailureError, ReplayUnavailableError } from './errors.js';
export { listJson, listTable, showJson } from './format.js';
