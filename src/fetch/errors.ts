/**
 * Fetch errors say whether they can be retried. Routing (retry ladder vs failed topic) decides
 * by `retriable` / `instanceof`, never by message text.
 */
export type FetchErrorKind =
  | 'connection' // connection refused/reset, DNS: transient
  | 'timeout' // the git process or the server timed out: transient
  | 'server' // HTTP 5xx: transient
  | 'throttled' // HTTP 429, or 503 with Retry-After: transient; never counts toward a re-clone
  | 'redirect' // the primary answered with a redirect, which pullrep never follows: transient (fix primary.url)
  | 'lock' // a ref or index lock held by another process: transient
  | 'disk' // no space left: transient
  | 'auth' // authentication failed: transient, but marked so operators see it
  | 'not-found' // repository not found on the primary: transient within a grace period, else permanent
  | 'invalid' // invalid ref/repository name or event: permanent
  | 'transport' // refused transport (ext::, unknown scheme): permanent
  | 'aborted' // the caller aborted (shutdown): transient
  | 'corrupt' // the replica repository is damaged: transient (re-clone follows)
  | 'unknown'; // anything else: transient

export interface FetchErrorOptions {
  cause?: unknown;
  /** The primary asked to be left alone this long (Retry-After): the earliest next attempt. */
  retryAfterMs?: number | undefined;
}

export class FetchError extends Error {
  override readonly name: string = 'FetchError';
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    readonly kind: FetchErrorKind,
    readonly retriable: boolean,
    options?: FetchErrorOptions,
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export class TransientFetchError extends FetchError {
  override readonly name = 'TransientFetchError';
  constructor(message: string, kind: FetchErrorKind, options?: FetchErrorOptions) {
    super(message, kind, true, options);
  }
}

export class PermanentFetchError extends FetchError {
  override readonly name = 'PermanentFetchError';
  constructor(message: string, kind: FetchErrorKind, options?: { cause?: unknown }) {
    super(message, kind, false, options);
  }
}
