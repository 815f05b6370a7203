import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run } from '../helpers/cli.js';
import { available } from '../helpers/commands.js';
import { tempDir } from '../helpers/git.js';

/** deploy/systemd/*.service, checked by systemd's own `systemd-analyze verify`. */

describe.skipIf(!available('systemd-analyze'))('the systemd units', () => {
  it.each([
    ['pullrep-primary.service', 'primary'],
    ['pullrep-replica.service', 'replica'],
  ])('%s passes systemd-analyze verify without a warning', async (unit, command) => {
    const text = await readFile(join(repoRoot, 'deploy', 'systemd', unit), 'utf8');
    expect(text).toContain(`ExecStart=/usr/local/bin/pullrep ${command}\n`);
    expect(text).toMatch(/^Restart=always$/m);
    expect(text).toMatch(/^EnvironmentFile=-\/etc\/pullrep\/\w+\.env$/m);
    expect(text).toMatch(/^User=\w+$/m);
    // The unit names the installed pullrep, which this machine need not have: verify it with an
    // executable that exists, everything else unchanged.
    const dir = await tempDir('pullrep-units-');
    const copy = join(dir, unit);
    await writeFile(copy, text.replace('/usr/local/bin/pullrep', process.execPath));
    const r = await run('systemd-analyze', ['verify', copy]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
