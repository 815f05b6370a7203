import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);

/** A git environment independent of the user's configuration. */
export const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.com',
  GIT_TERMINAL_PROMPT: '0',
};

/** Runs git and returns its stdout; throws with stderr on failure. */
export async function git(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  if (options.input !== undefined) {
    return new Promise((resolve, reject) => {
      const child = execFile('git', args, { cwd: options.cwd, env: options.env ?? gitEnv, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
        err ? reject(new Error(`git ${args.join(' ')} failed: ${stderr || err.message}`)) : resolve(stdout),
      );
      child.stdin?.end(options.input);
    });
  }
  try {
    const { stdout } = await run('git', args, { cwd: options.cwd, env: options.env ?? gitEnv, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`git ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
  }
}

export function randomName(prefix = 't'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export async function tempDir(prefix = 'pullrep-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Creates an empty bare repository `<root>/<name>` (name may contain slashes). */
export async function makeBareRepo(root: string, name: string): Promise<string> {
  const path = join(root, name);
  await mkdir(dirname(path), { recursive: true });
  await git(['init', '--bare', '--quiet', '--initial-branch=main', path]);
  return path;
}

/** A work clone of a bare repository, for making commits and pushing them. */
export class WorkClone {
  private counter = 0;
  private constructor(
    readonly dir: string,
    readonly remote: string,
  ) {}

  static async of(remote: string): Promise<WorkClone> {
    const dir = await tempDir('pullrep-work-');
    await git(['init', '--quiet', '--initial-branch=main', dir]);
    await git(['remote', 'add', 'origin', remote], { cwd: dir });
    return new WorkClone(dir, remote);
  }

  /** Commits a change on the current branch; returns the new commit id. */
  async commit(message?: string): Promise<string> {
    this.counter += 1;
    await writeFile(join(this.dir, 'file.txt'), `${message ?? 'change'} ${this.counter} ${randomBytes(4).toString('hex')}\n`);
    await git(['add', 'file.txt'], { cwd: this.dir });
    await git(['commit', '--quiet', '-m', message ?? `commit ${this.counter}`], { cwd: this.dir });
    return (await git(['rev-parse', 'HEAD'], { cwd: this.dir })).trim();
  }

  async checkout(branch: string, create = false): Promise<void> {
    await git(create ? ['checkout', '--quiet', '-b', branch] : ['checkout', '--quiet', branch], { cwd: this.dir });
  }

  async tag(name: string, annotated = false): Promise<void> {
    await git(annotated ? ['tag', '-a', '-m', name, name] : ['tag', name], { cwd: this.dir });
  }

  /** `git push origin <refspecs…>`; returns stderr-free stdout. Pass extra flags first, e.g. ['--force']. */
  async push(...refspecs: string[]): Promise<string> {
    return git(['push', '--quiet', 'origin', ...refspecs], { cwd: this.dir });
  }

  async resetHard(rev: string): Promise<void> {
    await git(['reset', '--quiet', '--hard', rev], { cwd: this.dir });
  }
}

/** Pushes one new commit to `branch` of a bare repository; returns the commit id. */
export async function pushCommit(bareRepo: string, branch = 'main'): Promise<string> {
  const work = await WorkClone.of(bareRepo);
  try {
    await git(['fetch', '--quiet', 'origin', branch], { cwd: work.dir });
    await git(['checkout', '--quiet', '-B', branch, 'FETCH_HEAD'], { cwd: work.dir });
  } catch {
    await work.checkout(branch, true).catch(() => undefined);
  }
  const id = await work.commit(`commit on ${branch}`);
  await work.push(`HEAD:refs/heads/${branch}`);
  return id;
}

/** All refs of a repository as refname → object id (HEAD excluded). */
export async function readRefs(repo: string): Promise<Record<string, string>> {
  const out = await git(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: repo });
  const refs: Record<string, string> = {};
  for (const line of out.split('\n')) {
    if (!line) continue;
    const space = line.indexOf(' ');
    refs[line.slice(space + 1)] = line.slice(0, space);
  }
  return refs;
}
