import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { PermanentFetchError } from './errors.js';
import { READ_SAFELY, readLooseRefFile } from './repo-guard.js';
import { join } from 'node:path';

/**
 * Reads ref values of a local repository in-process, without spawning git: the loose ref file,
 * else packed-refs. A sorted packed-refs file (git writes them sorted) is searched by bisection
 * with positional reads, so one lookup costs a few small reads even with 500,000 refs.
 * Returns undefined for an absent ref; a symbolic ref yields `null` (the caller asks git).
 */
export function readLocalRefs(gitDir: string, refs: readonly string[]): Map<string, string | undefined | null> {
  const values = new Map<string, string | undefined | null>();
  const packedWanted: string[] = [];
  for (const ref of refs) {
    const loose = readLoose(join(gitDir, ref));
    if (loose === undefined) packedWanted.push(ref);
    else values.set(ref, loose);
  }
  if (packedWanted.length) {
    const packed = lookupPacked(join(gitDir, 'packed-refs'), packedWanted);
    for (const ref of packedWanted) values.set(ref, packed.get(ref));
  }
  return values;
}

function readLoose(file: string): string | undefined | null {
  let text: string | undefined;
  try {
    text = readLooseRefFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
  if (text === undefined) return undefined;
  const value = text.trim();
  return /^[0-9a-f]{40,64}$/.test(value) ? value : null;
}

const CHUNK = 4096;

function lookupPacked(file: string, refs: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  let fd: number;
  try {
    fd = openSync(file, READ_SAFELY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw err;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new PermanentFetchError(`packed-refs of the replica is not a regular file: ${JSON.stringify(file)}`, 'invalid');
    const size = stat.size;
    const head = readAt(fd, 0, Math.min(size, 256)).toString('utf8');
    const sorted = head.startsWith('# pack-refs with:') && / sorted\b/.test(head.split('\n')[0] ?? '');
    if (!sorted || size <= CHUNK * 4) {
      scanAll(readAt(fd, 0, size).toString('utf8'), refs, found);
    } else {
      for (const ref of refs) {
        const oid = bisect(fd, size, ref);
        if (oid) found.set(ref, oid);
      }
    }
  } finally {
    closeSync(fd);
  }
  return found;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  return n === length ? buf : buf.subarray(0, n);
}

function scanAll(text: string, refs: readonly string[], found: Map<string, string>): void {
  const wanted = new Set(refs);
  for (const line of text.split('\n')) {
    if (line.length < 42 || line[0] === '#' || line[0] === '^') continue;
    const space = line.indexOf(' ');
    const name = line.slice(space + 1);
    if (wanted.has(name)) found.set(name, line.slice(0, space));
  }
}

/** Binary search over byte offsets for the line `<oid> <ref>` in a sorted packed-refs file. */
function bisect(fd: number, size: number, ref: string): string | undefined {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const line = recordAtOrAfter(fd, mid, size);
    if (!line) {
      hi = mid;
      continue;
    }
    const cmp = compareBytes(line.name, ref);
    if (cmp === 0) return line.oid;
    if (cmp < 0) lo = line.end;
    else hi = mid;
  }
  return undefined;
}

interface Record {
  oid: string;
  name: string;
  /** Offset just past this record's line. */
  end: number;
}

/** The first ref record starting after `offset`'s line start (skipping header and peeled lines). */
function recordAtOrAfter(fd: number, offset: number, size: number): Record | undefined {
  let pos = offset;
  if (pos > 0) {
    // Move to the start of the next line.
    const buf = readAt(fd, pos - 1, Math.min(CHUNK, size - pos + 1));
    const nl = buf.indexOf(10);
    if (nl < 0) return undefined;
    pos = pos - 1 + nl + 1;
  }
  while (pos < size) {
    const buf = readAt(fd, pos, Math.min(CHUNK, size - pos));
    const nl = buf.indexOf(10);
    const line = (nl < 0 ? buf : buf.subarray(0, nl)).toString('utf8');
    const end = pos + (nl < 0 ? buf.length : nl + 1);
    if (line[0] !== '#' && line[0] !== '^' && line.length > 41) {
      const space = line.indexOf(' ');
      return { oid: line.slice(0, space), name: line.slice(space + 1), end };
    }
    if (nl < 0) return undefined;
    pos = end;
  }
  return undefined;
}

/** git sorts packed-refs by bytes; ref names are ASCII-safe to compare this way after validation. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
