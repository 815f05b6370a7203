import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullrep, run } from '../helpers/cli.js';
import { makeBareRepo, pushCommit, readRefs, tempDir } from '../helpers/git.js';
import { freePortPair, portFree } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The ssh transport against a real sshd: a replica fetching as a user whose home has no
 * known_hosts, with the primary's host key given by primary.sshKnownHostsFile.
 */

const SSHD = '/usr/sbin/sshd';

describe.skipIf(!existsSync(SSHD))('ssh fetches', () => {
  let sshd: ChildProcess | undefined;
  let dir = '';
  let port = 0;
  let primaryRoot = '';
  let log = '';

  beforeAll(async () => {
    dir = await tempDir('pullrep-sshd-');
    primaryRoot = join(dir, 'primary');
    for (const [file, type] of [['host_key', 'ed25519'], ['client_key', 'ed25519']]) {
      const r = await run('ssh-keygen', ['-q', '-t', type as string, '-N', '', '-f', join(dir, file as string)]);
      expect(r.code, r.stderr).toBe(0);
    }
    await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub'), 'utf8'), { mode: 0o600 });
    port = await freePortPair();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${userInfo().username}`,
    ];
    await writeFile(join(dir, 'sshd_config'), config.join('\n') + '\n');
    // sshd wants its privilege separation directory when it runs as root.
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true });
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitFor(async () => !(await portFree(port)), { timeoutMs: 15_000, what: `sshd listening; its log: ${log}` });
    const hostKey = (await readFile(join(dir, 'host_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
  });
  afterAll(() => {
    sshd?.kill('SIGTERM');
  });

  const sync = async (repo: string, extra: NodeJS.ProcessEnv) => {
    const home = await tempDir('pullrep-empty-home-');
    return pullrep(['sync', repo], {
      env: {
        HOME: home,
        PULLREP_PRIMARY_URL: `ssh://${userInfo().username}@127.0.0.1:${port}${primaryRoot}/{repo}`,
        PULLREP_PRIMARY_SSH_KEY_FILE: join(dir, 'client_key'),
        PULLREP_REPLICA_ROOT: join(dir, 'replica'),
        PULLREP_LOG_LEVEL: 'warn',
        PULLREP_LOG_PRETTY: 'false',
        ...extra,
      },
    });
  };

  it('checks the primary\'s host key against primary.sshKnownHostsFile, and refuses an unknown host', async () => {
    const bare = await makeBareRepo(primaryRoot, 'team/app.git');
    await pushCommit(bare, 'main');
    const unknown = await sync('team/app.git', {});
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/Host key verification failed/);
    expect(unknown.stderr).not.toContain(join(dir, 'client_key'));
    const known = await sync('team/app.git', { PULLREP_PRIMARY_SSH_KNOWN_HOSTS_FILE: join(dir, 'known_hosts') });
    expect(known.code, known.stderr + log).toBe(0);
    expect(known.stdout).toMatch(/^team\/app\.git: 1 fetched/);
    expect(await readRefs(join(dir, 'replica', 'team/app.git'))).toEqual(await readRefs(bare));
  });
});
