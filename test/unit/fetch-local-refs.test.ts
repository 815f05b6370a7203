import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLocalRefs } from '../../src/fetch/local-refs.js';
import { git, tempDir } from '../helpers/git.js';

const oid = (n: number): string => n.toString(16).padStart(40, '0');

async function repoWithPackedRefs(names: string[], sorted = true): Promise<string> {
  const dir = await tempDir('pullrep-refs-');
  const lines = [sorted ? '# pack-refs with: peeled fully-peeled sorted ' : '# pack-refs with: peeled '];
  const ordered = sorted ? [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))) : names;
  ordered.forEach((name) => {
    lines.push(`${oid(names.indexOf(name) + 1)} ${name}`);
    if (name.startsWith('refs/tags/')) lines.push(`^${oid(999_999)}`);
  });
  await writeFile(join(dir, 'packed-refs'), lines.join('\n') + '\n');
  return dir;
}

describe('readLocalRefs', () => {
  const names = Array.from({ length: 5000 }, (_, i) => `refs/heads/branch-${i}`).concat(['refs/tags/v1', 'refs/heads/a', 'refs/heads/a-b', 'refs/heads/a/b']);

  it('finds every ref of a large sorted packed-refs by bisection, and misses absent ones', async () => {
    const dir = await repoWithPackedRefs(names);
    const probe = ['refs/heads/branch-0', 'refs/heads/branch-4999', 'refs/heads/a', 'refs/heads/a/b', 'refs/heads/a-b', 'refs/tags/v1'];
    const values = readLocalRefs(dir, [...probe, 'refs/heads/branch-5000', 'refs/heads/0', 'refs/zzz', 'refs/heads/branch-1 ']);
    for (const ref of probe) expect(values.get(ref)).toBe(oid(names.indexOf(ref) + 1));
    expect(values.get('refs/heads/branch-5000')).toBeUndefined();
    expect(values.get('refs/heads/0')).toBeUndefined();
    expect(values.get('refs/zzz')).toBeUndefined();
  });

  it('agrees with a full scan for every ref', async () => {
    const few = names.slice(0, 300).concat(['refs/tags/v1']);
    const sorted = await repoWithPackedRefs(few, true);
    const unsorted = await repoWithPackedRefs([...few].reverse(), false);
    const a = readLocalRefs(sorted, few);
    const b = readLocalRefs(unsorted, few);
    for (const ref of few) {
      expect(a.get(ref)).toBeDefined();
      expect(a.get(ref)).toBe(oid(few.indexOf(ref) + 1));
      expect(b.get(ref)).toBe(oid([...few].reverse().indexOf(ref) + 1));
    }
  });

  it('prefers a loose ref over packed-refs and reports a symbolic ref as null', async () => {
    const dir = await repoWithPackedRefs(names);
    await mkdir(join(dir, 'refs', 'heads'), { recursive: true });
    await writeFile(join(dir, 'refs', 'heads', 'a'), `${oid(77)}\n`);
    await writeFile(join(dir, 'refs', 'heads', 'sym'), 'ref: refs/heads/a\n');
    const values = readLocalRefs(dir, ['refs/heads/a', 'refs/heads/sym', 'refs/heads/branch-7']);
    expect(values.get('refs/heads/a')).toBe(oid(77));
    expect(values.get('refs/heads/sym')).toBeNull();
    expect(values.get('refs/heads/branch-7')).toBe(oid(8));
  });

  it('reads what git itself wrote', async () => {
    const dir = await tempDir('pullrep-refs-');
    await git(['init', '--bare', '--quiet', dir]);
    const emptyTree = (await git(['hash-object', '-t', 'tree', '-w', '--stdin'], { cwd: dir, input: '' })).trim();
    const commit = (await git(['commit-tree', emptyTree, '-m', 'x'], { cwd: dir })).trim();
    const input = Array.from({ length: 3000 }, (_, i) => `create refs/heads/r${i} ${commit}\n`).join('');
    await git(['update-ref', '--stdin'], { cwd: dir, input });
    await git(['pack-refs', '--all'], { cwd: dir });
    const values = readLocalRefs(dir, ['refs/heads/r0', 'refs/heads/r2999', 'refs/heads/r3000']);
    expect(values.get('refs/heads/r0')).toBe(commit);
    expect(values.get('refs/heads/r2999')).toBe(commit);
    expect(values.get('refs/heads/r3000')).toBeUndefined();
  });
});
