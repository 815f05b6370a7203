/** Errors of the operator's failed-topic actions. None can be cured by retrying the same command. */

/** An operator's request named failures that are not outstanding. Nothing was written. */
export class UnknownFailureError extends Error {
  override readonly name = 'UnknownFailureError';
  readonly retriable = false;
}

/** Replay needs a retry stage to put events on (retry.stages >= 1). */
export class ReplayUnavailableError extends Error {
  override readonly name = 'ReplayUnavailableError';
  readonly retriable = false;
}
