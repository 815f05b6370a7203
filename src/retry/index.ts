export { delayFor, ladderDelays, type RetryPolicy } from './policy.js';
export { ladderTopics, stageOf, consumedTopics, allTopics, type LadderTopics } from './topics.js';
export { nextHop, dueTime, type Hop, type HopInput, type FailReason } from './route.js';
export {
  HEADER,
  LIMITS,
  headerText,
  readRetryState,
  writeRetryState,
  recordFailure,
  type RetryState,
  type ErrorEntry,
  type Origin,
  type RawHeaders,
  type ReadContext,
} from './headers.js';
export { truncateBytes } from './truncate.js';
export { MAX_HANDOFF_RECORD_BYTES, type InRecord, type OutRecord } from './records.js';
export { failureId, failureRecord, FAILURE_ID } from './failure-record.js';
