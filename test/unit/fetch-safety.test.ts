import { describe, expect, it } from 'vitest';
import { baseConfigArgs, gitEnvironment } from '../../src/fetch/git-env.js';
import { primaryUrl, repoPathUnder } from '../../src/fetch/paths.js';
import { fetchArgs, refspecs } from '../../src/fetch/fetch-args.js';
import { PermanentFetchError } from '../../src/fetch/errors.js';
import { scrub } from '../../src/fetch/scrub.js';

describe('git environment', () => {
  const parent = { PATH: '/usr/bin', HOME: '/home/x', GIT_DIR: '/evil', GIT_SSH_COMMAND: 'evil', XDG_CONFIG_HOME: '/x' };
  const creds = { username: 'bob', password: 'hunter2', sshKeyFile: '/keys/id' };
  const env = gitEnvironment(parent, 'https://git.example.com:8443/git/{repo}', creds);

  it('ignores the user and system configuration and never prompts', () => {
    expect(env).toMatchObject({ GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });
    expect(env.GIT_DIR).toBeUndefined();
    expect(env.XDG_CONFIG_HOME).toBeUndefined();
    expect(env.GIT_ALLOW_PROTOCOL).toBe('https:http:ssh:file');
  });

  it('passes the password only through the environment, scoped to the primary origin', () => {
    expect(env.GIT_CONFIG_COUNT).toBe('1');
    expect(env.GIT_CONFIG_KEY_0).toBe('http.https://git.example.com:8443/.extraHeader');
    expect(env.GIT_CONFIG_VALUE_0).toBe(`Authorization: Basic ${Buffer.from('bob:hunter2').toString('base64')}`);
    expect(env.GIT_SSH_COMMAND).not.toContain('/keys/id');
    expect(env.PULLREP_SSH_KEY_FILE).toBe('/keys/id');
    const args = [...baseConfigArgs(), ...fetchArgs('https://git.example.com:8443/git/a.git')];
    expect(args.join(' ')).not.toContain('hunter2');
    expect(args).toContain('protocol.version=2');
    expect(args).toContain('protocol.allow=never');
    expect(args).toContain('--end-of-options');
    // The URL ends the arguments; refspecs go on stdin, whatever their number or length.
    expect(args.at(-1)).toBe('https://git.example.com:8443/git/a.git');
    expect(args).toContain('--stdin');
    expect(refspecs(['refs/heads/main', 'refs/tags/v1'])).toBe('+refs/heads/main:refs/heads/main\n+refs/tags/v1:refs/tags/v1\n');
  });
});

describe('paths and URLs', () => {
  it('keeps repositories under replica.root', () => {
    expect(repoPathUnder('/srv/replica', 'group/app.git', 'replica.root')).toBe('/srv/replica/group/app.git');
    for (const bad of ['../x.git', 'a/../../x', '/abs', '.pullrep-tmp/x']) {
      expect(() => repoPathUnder('/srv/replica', bad, 'replica.root')).toThrow(PermanentFetchError);
    }
  });

  it('builds the URL from the template and a validated name only', () => {
    expect(primaryUrl('https://git.example.com/{repo}', 'g/a.git')).toBe('https://git.example.com/g/a.git');
    expect(() => primaryUrl('https://git.example.com/{repo}', 'a?x=1')).toThrow(PermanentFetchError);
    expect(() => primaryUrl('ext::sh -c {repo}', 'a.git')).toThrow(/https, http, ssh or file/);
  });

  it('refuses credentials in primary.url (they would be in argv and on disk); an ssh user name is fine', () => {
    for (const url of ['https://bob:hunter2@git.example.com/{repo}', 'https://token123@git.example.com/{repo}', 'ssh://git:pw@host/{repo}']) {
      expect(() => primaryUrl(url, 'g/a.git')).toThrow(/must not carry credentials/);
      try {
        primaryUrl(url, 'g/a.git');
      } catch (err) {
        expect((err as Error).message).not.toMatch(/hunter2|token123|pw/);
      }
    }
    expect(primaryUrl('ssh://git@host:2222/srv/{repo}', 'g/a.git')).toBe('ssh://git@host:2222/srv/g/a.git');
  });

  it('scrubs user info and authorization headers', () => {
    expect(scrub("unable to access 'https://u:p@h/x/'")).toBe("unable to access 'https://***@h/x/'");
    expect(scrub('Authorization: Basic abc=')).toBe('Authorization: [redacted]');
  });
});
