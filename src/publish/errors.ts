/** Errors of the primary side. Routing decides by class or by `retriable`, never by message. */

/** The hook's input or arguments are unusable (malformed line, unsafe name): retrying cannot help. */
export class PublishInputError extends Error {
  override readonly name = 'PublishInputError';
  readonly retriable = false;
}

/**
 * A path of the push could not be resolved (primary.root unmounted, a directory that cannot be
 * searched, a repository renamed meanwhile): nothing wrong with the push itself, so it is kept
 * to be tried again rather than refused.
 */
export class PathResolutionError extends PublishInputError {
  constructor(
    message: string,
    readonly what: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The spool directory cannot be written or read. */
export class SpoolError extends Error {
  override readonly name: string = 'SpoolError';
  readonly retriable: boolean = true;
}

/** A spooled file is not a valid event (edited by hand, say): it is moved aside, never sent. */
export class InvalidSpoolFileError extends SpoolError {
  override readonly name = 'InvalidSpoolFileError';
  override readonly retriable = false;
}

/** Events could not be delivered now; they wait in the spool. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly retriable = true;
  constructor(
    message: string,
    readonly waiting: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
