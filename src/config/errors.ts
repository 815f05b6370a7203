/** The configuration is invalid; the message names the key(s) and the bad value (never a secret). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly retriable = false;
}
