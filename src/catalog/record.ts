import { EMPTY_CHECKSUM } from '../verify/checksum.js';
import { quote, repoNameProblem } from '../events/index.js';

/**
 * A record of the catalog (topics.catalog): key = repository name, value = this JSON, or null
 * (a tombstone) once the repository is deleted on the primary. See docs/catalog.md.
 */
export const CATALOG_VERSION = 1;

export interface CatalogRecord {
  v: 1;
  repo: string;
  /** `pullrep verify`'s ref checksum: XOR of SHA-1("<oid> <refname>") over every ref under refs/. */
  checksum: string;
  /** Number of refs under refs/. */
  refs: number;
  /** ISO-8601 time the primary agent last saw the repository change. */
  updatedAt: string;
  /** primary.name of the primary that holds it. */
  primary: string;
  /** What produced this value: a push relayed by the agent, or the agent's scan of primary.root. */
  source: 'push' | 'scan';
}

export class CatalogDecodeError extends Error {
  override readonly name = 'CatalogDecodeError';
  readonly retriable = false;
}

const CHECKSUM = /^[0-9a-f]{40}$/;

export function encodeCatalogRecord(record: CatalogRecord): string {
  return JSON.stringify(validate(record));
}

/** A catalog value, validated; null for a tombstone. Throws CatalogDecodeError. */
export function decodeCatalogRecord(key: string, value: Buffer | string | null): CatalogRecord | null {
  if (value === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    throw new CatalogDecodeError(`catalog record ${quote(key)} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const record = validate(parsed);
  if (record.repo !== key) throw new CatalogDecodeError(`catalog record key ${quote(key)} is not its repository ${quote(record.repo)}`);
  return record;
}

function validate(value: unknown): CatalogRecord {
  const o = value as Partial<CatalogRecord> | null;
  const fail = (why: string): never => {
    throw new CatalogDecodeError(`catalog record is invalid: ${why}`);
  };
  if (typeof o !== 'object' || o === null) return fail('not an object');
  if (o.v !== CATALOG_VERSION) return fail(`unsupported version ${quote(String(o.v))}`);
  if (typeof o.repo !== 'string') return fail('repo is not a string');
  const problem = repoNameProblem(o.repo);
  if (problem) return fail(`repository name ${quote(o.repo)} ${problem}`);
  if (typeof o.checksum !== 'string' || !CHECKSUM.test(o.checksum)) return fail('checksum is not 40 hex characters');
  if (typeof o.refs !== 'number' || !Number.isSafeInteger(o.refs) || o.refs < 0) return fail('refs is not a count');
  if (o.refs === 0 && o.checksum !== EMPTY_CHECKSUM) return fail('a repository without refs has the all-zero checksum');
  if (typeof o.updatedAt !== 'string' || Number.isNaN(Date.parse(o.updatedAt))) return fail('updatedAt is not a time');
  if (typeof o.primary !== 'string' || o.primary === '') return fail('primary is not a name');
  if (o.source !== 'push' && o.source !== 'scan') return fail('source is neither "push" nor "scan"');
  return { v: 1, repo: o.repo, checksum: o.checksum, refs: o.refs, updatedAt: o.updatedAt, primary: o.primary, source: o.source };
}
