import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PublishInputError, deriveRepoName } from '../../src/publish/index.js';

let base: string;
let root: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'pullrep-repo-name-'));
  root = join(base, 'root');
  await mkdir(join(root, 'group', 'project.git'), { recursive: true });
  await mkdir(join(base, 'elsewhere.git'), { recursive: true });
  await symlink(join(base, 'elsewhere.git'), join(root, 'escape.git'));
});

describe('deriveRepoName', () => {
  it('is the hook repository relative to primary.root (git runs hooks with GIT_DIR=.)', () => {
    expect(deriveRepoName({ gitDir: '.', cwd: join(root, 'group', 'project.git'), root })).toBe('group/project.git');
    expect(deriveRepoName({ cwd: join(root, 'group', 'project.git'), root })).toBe('group/project.git');
    expect(deriveRepoName({ gitDir: join(root, 'group', 'project.git'), cwd: '/', root })).toBe('group/project.git');
  });

  it('takes --repo as given, after checking it', () => {
    expect(deriveRepoName({ repo: 'a/b.git', cwd: '/', root: '' })).toBe('a/b.git');
    expect(() => deriveRepoName({ repo: '../x', cwd: '/', root })).toThrow(PublishInputError);
    expect(() => deriveRepoName({ repo: '-x', cwd: '/', root })).toThrow(/starting with "-"/);
  });

  it.each([
    ['a repository outside primary.root', () => join(base, 'elsewhere.git'), /is outside primary.root/],
    ['primary.root itself', () => root, /is outside primary.root/],
    ['a symbolic link leading out of primary.root', () => join(root, 'escape.git'), /is outside primary.root/],
    ['a directory that does not exist', () => join(root, 'missing.git'), /cannot be resolved: ENOENT/],
  ])('refuses %s', (_what, dir, message) => {
    expect(() => deriveRepoName({ gitDir: dir(), cwd: '/', root })).toThrow(message);
  });

  it('needs primary.root when there is no --repo', () => {
    expect(() => deriveRepoName({ cwd: root, root: '' })).toThrow(/primary.root is not set/);
  });
});
