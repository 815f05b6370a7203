import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot, run } from '../helpers/cli.js';
import { makeBareRepo, tempDir } from '../helpers/git.js';
import { testBrokers } from '../helpers/kafka.js';

/**
 * pullrep as an operator installs it: `npm pack`, `npm install -g` of the tarball (into a
 * prefix of its own), the `pullrep` command on PATH, and hooks that call that command.
 */
describe('an installed pullrep', () => {
  it('runs from PATH after npm pack and npm install -g, and its hooks call the installed command', async () => {
    const dir = await tempDir('pullrep-install-');
    // dist/ is built already (npm test builds first): pack it as it is.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: repoRoot, env: process.env });
    expect(pack.code, pack.stderr).toBe(0);
    const [tarball] = (await readdir(dir)).filter((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^pullrep-\d+\.\d+\.\d+\.tgz$/);
    const prefix = join(dir, 'prefix');
    const install = await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball ?? '')], { env: process.env });
    expect(install.code, install.stderr).toBe(0);
    const bin = join(prefix, 'bin');
    // As on a host with Node.js on PATH, and nothing of this checkout.
    const env = { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir };
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const v = await run('pullrep', ['--version'], { env });
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n` });
    const installed = join(prefix, 'lib', 'node_modules', 'pullrep');
    for (const file of ['deploy/systemd/pullrep-primary.service', 'deploy/prometheus/pullrep-rules.yml', 'docs/primary.md', 'config/primary.example.json']) {
      await expect(readFile(join(installed, file), 'utf8')).resolves.toBeTruthy();
    }

    const root = join(dir, 'repos');
    const repo = await makeBareRepo(root, 'app.git');
    const hook = await run('pullrep', ['hook', 'install', repo], { env: { ...env, PULLREP_PRIMARY_ROOT: root, PULLREP_KAFKA_BROKERS: testBrokers().join(',') } });
    expect(hook.code, hook.stderr).toBe(0);
    expect(hook.stdout).toContain(`the hooks run ${join(bin, 'pullrep')} (with ${process.execPath} when it is there, else node on PATH)`);
    const script = await readFile(join(repo, 'hooks', 'post-receive'), 'utf8');
    expect(script).toContain(`cli='${join(bin, 'pullrep')}'`);
    expect(script).not.toContain(cliPath);
  }, 120_000);
});
