/** Errors of the event contract. None of them can be cured by retrying. */

export class EventDecodeError extends Error {
  override readonly name: string = 'EventDecodeError';
  readonly retriable = false;
}

export class UnsupportedEventVersionError extends EventDecodeError {
  override readonly name = 'UnsupportedEventVersionError';
  constructor(readonly version: unknown) {
    super(`unsupported event version ${String(version).slice(0, 20)}`);
  }
}

/** A repository or ref name that is unsafe or malformed. */
export class InvalidNameError extends Error {
  override readonly name = 'InvalidNameError';
  readonly retriable = false;
}
