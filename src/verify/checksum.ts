import { hash } from 'node:crypto';

/** SHA-1 digests are 20 bytes; the checksum is their XOR, so it has the same size. */
const SIZE = 20;

/** The checksum of a repository without refs. */
export const EMPTY_CHECKSUM = '0'.repeat(SIZE * 2);

/**
 * An order-independent repository checksum, as GitLab Geo and Gitaly compute it: the XOR of the
 * SHA-1 of each `<oid> <refname>` line (no newline). Two listings of the same refs in any order
 * give the same value; any added, removed or moved ref changes it. Memory stays at 20 bytes
 * whatever the number of refs, so lines can be streamed in.
 */
export class RefChecksum {
  private readonly sum = new Uint8Array(SIZE);
  private refs = 0;

  /** Adds one ref. */
  add(oid: string, refname: string): void {
    this.addLine(`${oid} ${refname}`);
  }

  /** Adds one `<oid> <refname>` line. */
  addLine(line: string): void {
    // A 'binary' (latin1) string of the 20 digest bytes: several times faster than a Buffer per line.
    const digest = hash('sha1', line, 'binary');
    for (let i = 0; i < SIZE; i++) this.sum[i] = (this.sum[i] ?? 0) ^ digest.charCodeAt(i);
    this.refs += 1;
  }

  /** How many refs were added. */
  get count(): number {
    return this.refs;
  }

  /** Hex-encoded; all zeros when nothing was added. */
  hex(): string {
    return Buffer.from(this.sum).toString('hex');
  }
}

/** The checksum of a whole listing of `<oid> <refname>` lines. */
export function checksumOfLines(lines: Iterable<string>): string {
  const sum = new RefChecksum();
  for (const line of lines) sum.addLine(line);
  return sum.hex();
}

/**
 * The checksum of two disjoint sets of refs together, from theirs: the XOR of the two. (The
 * replicated refs' checksum with that of the refs replica.refs leaves out is the catalog's.)
 */
export function combineChecksums(a: string, b: string): string {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  if (x.length !== SIZE || y.length !== SIZE) throw new Error(`a ref checksum has ${SIZE * 2} hex digits`);
  for (let i = 0; i < SIZE; i++) x[i] = (x[i] ?? 0) ^ (y[i] ?? 0);
  return x.toString('hex');
}
