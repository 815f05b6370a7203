import { InvalidNameError } from './errors.js';

/**
 * Validation of the names that cross the wire: repository names, ref names and object ids.
 * A replica never takes a path, URL or git option from an event; these checks are what make
 * the names safe to put in a path under replica.root and in a refspec.
 */

export const MAX_REPO_NAME = 255;
export const MAX_REPO_SEGMENTS = 16;
export const MAX_REF_NAME = 1024;
/**
 * A ref component is a file name in a loose ref's path, and git also writes `<component>.lock`
 * beside it: with the usual 255-byte file name limit, 250 bytes of UTF-8 at most.
 */
export const MAX_REF_COMPONENT_BYTES = 250;

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
export const ZERO_OID_SHA1 = '0'.repeat(40);

/** Why a repository name is unsafe, or undefined when it is fine. */
export function repoNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_REPO_NAME) return `is longer than ${MAX_REPO_NAME} characters`;
  if (name.startsWith('/')) return 'must be a relative path';
  const segments = name.split('/');
  if (segments.length > MAX_REPO_SEGMENTS) return `has more than ${MAX_REPO_SEGMENTS} path segments`;
  for (const segment of segments) {
    if (segment === '') return 'has an empty path segment';
    if (segment === '.' || segment === '..') return `has a '${segment}' segment`;
    if (segment.startsWith('-')) return 'has a segment starting with "-"';
    if (segment.startsWith('.')) return 'has a segment starting with "."';
    if (segment.endsWith('.lock')) return 'has a segment ending with ".lock"';
    if (!SEGMENT.test(segment)) return 'may hold only letters, digits, ".", "_", "-" and "/"';
  }
  return undefined;
}

/**
 * Why a ref name fails `git check-ref-format` (for a full name under refs/), or undefined.
 * Rules: https://git-scm.com/docs/git-check-ref-format
 */
export function refNameProblem(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return 'must be a string';
  if (ref.length === 0) return 'is empty';
  if (ref.length > MAX_REF_NAME) return `is longer than ${MAX_REF_NAME} characters`;
  if (!ref.isWellFormed()) return 'is not valid Unicode (a lone surrogate)';
  if (!ref.startsWith('refs/')) return 'must start with "refs/"';
  if (ref.endsWith('/')) return 'must not end with "/"';
  if (ref.endsWith('.')) return 'must not end with "."';
  if (ref.includes('..')) return 'must not contain ".."';
  if (ref.includes('//')) return 'must not contain "//"';
  if (ref.includes('@{')) return 'must not contain "@{"';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return 'must not contain spaces, control characters or any of ~ ^ : ? * [ \\';
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) return 'has a component starting with "."';
    if (component.endsWith('.lock')) return 'has a component ending with ".lock"';
    if (Buffer.byteLength(component) > MAX_REF_COMPONENT_BYTES) return `has a component longer than ${MAX_REF_COMPONENT_BYTES} bytes`;
  }
  return undefined;
}

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && OID.test(value);
}

/** An all-zero object id: the ref did not exist (old) or was deleted (new). */
export function isZeroOid(oid: string): boolean {
  return /^0+$/.test(oid);
}

export function assertRepoName(name: unknown, what = 'repository name'): string {
  const problem = repoNameProblem(name);
  if (problem) throw new InvalidNameError(`${what} ${quote(name)} ${problem}`);
  return name as string;
}

export function assertRefName(ref: unknown, what = 'ref name'): string {
  const problem = refNameProblem(ref);
  if (problem) throw new InvalidNameError(`${what} ${quote(ref)} ${problem}`);
  return ref as string;
}

/** Quotes a value for an error message, bounded and with control characters escaped. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const bounded = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return JSON.stringify(bounded);
}
