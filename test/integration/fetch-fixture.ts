import type { FetchOptions } from '../../src/config/index.js';
import { silentLogger, type Logger } from '../../src/log/index.js';
import { createFetcher, type FetcherDeps, type ReplicaFetcher } from '../../src/fetch/index.js';
import type { FetchError } from '../../src/fetch/index.js';
import { GitHttpServer } from '../helpers/git-server.js';
import { makeBareRepo, randomName, tempDir } from '../helpers/git.js';

/** A primary served over HTTP, an empty replica root, and a fetcher wired to both. */
export interface FetchFixture {
  server: GitHttpServer;
  primaryRoot: string;
  replicaRoot: string;
  fetcher: ReplicaFetcher;
  /** Creates a bare repository on the primary; returns its name and path. */
  newRepo(): Promise<{ name: string; primary: string; replica: string }>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  auth?: { username: string; password: string };
  logger?: Logger;
  /** 'http' (default) or 'file' transport. */
  transport?: 'http' | 'file';
  /** A primary.url of its own instead (e.g. a server that never answers). */
  url?: string;
  password?: string;
  fetch?: Partial<FetchOptions>;
  deps?: Partial<FetcherDeps>;
}

export async function fetchFixture(options: FixtureOptions = {}): Promise<FetchFixture> {
  const primaryRoot = await tempDir('pullrep-primary-');
  const replicaRoot = await tempDir('pullrep-replica-');
  const server = await new GitHttpServer({ root: primaryRoot, ...(options.auth ? { auth: options.auth } : {}) }).start();
  const url = options.url ?? (options.transport === 'file' ? `file://${primaryRoot}/{repo}` : `${server.url}/{repo}`);
  const fetcher = createFetcher({
    options: {
      root: replicaRoot,
      primaryUrl: url,
      credentials: {
        username: options.auth?.username ?? '',
        password: options.password ?? options.auth?.password ?? '',
        sshKeyFile: '',
      },
      concurrency: 4,
      gitTimeoutMs: 30_000,
      recloneAfterFailures: 3,
      readOnly: true,
      missingRepoGraceMs: 60_000,
      maintenanceIntervalMs: 0,
      ...options.fetch,
    },
    env: process.env,
    logger: options.logger ?? silentLogger(),
    ...options.deps,
  });
  return {
    server,
    primaryRoot,
    replicaRoot,
    fetcher,
    async newRepo() {
      const name = `g/${randomName('repo')}.git`;
      const primary = await makeBareRepo(primaryRoot, name);
      return { name, primary, replica: `${replicaRoot}/${name}` };
    },
    async close() {
      await fetcher.close();
      await server.stop();
    },
  };
}

/** The error a sync rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<FetchError> {
  try {
    await promise;
  } catch (err) {
    return err as FetchError;
  }
  throw new Error('expected the sync to fail');
}
