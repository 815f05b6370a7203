import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/**
 * The PEM certificates of `kafka.ssl.ca`, read now (when a command starts its Kafka client, and
 * by `pullrep config check`). A file that cannot be read, holds no PEM certificate or one that
 * does not parse stops the command with one line naming the key.
 */
export function readCaFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new ConfigError(`kafka.ssl.ca: cannot read ${path}: ${(code && READ_PROBLEMS[code]) ?? message}`);
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) {
    throw new ConfigError(`kafka.ssl.ca: ${path} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block)`);
  }
  for (const [i, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new ConfigError(`kafka.ssl.ca: certificate ${i + 1} of ${path} cannot be read: ${(err as Error).message}`);
    }
  }
  return certificates;
}
