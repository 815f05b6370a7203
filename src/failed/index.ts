export { failureId, failureRecord, FAILURE_ID } from '../retry/index.js';
export { toEntry, type FailureEntry } from './entry.js';
export { readOutstanding, readFailedTopic, idOfKey, type ReadOptions, type ClosedFailure, type FailedTopic } from './reader.js';
export { pick, replay, tombstone } from './actions.js';
export { UnknownFailureError, ReplayUnavailableError } from './errors.js';
export { listJson, listTable, showJson, showText, causeOf } from './format.js';
