import { describe, expect, it } from 'vitest';
import { classify, kindOf, missingRemoteRef, withinGrace } from '../../src/fetch/classify.js';
import { PermanentFetchError, TransientFetchError, type FetchErrorKind } from '../../src/fetch/errors.js';
import type { GitOutcome } from '../../src/fetch/git-process.js';

/**
 * Real stderr of git 2.39 (LC_ALL=C), captured by provoking each failure: the test HTTP server
 * (404, failWith = 503, basic auth), a closed port, an unresolvable host, a listening socket that
 * never answers (http.lowSpeedTime), lock files left in place, a 1 MiB tmpfs, ext:: and a bad refspec.
 */
const LOCK_ADVICE =
  "\n\nAnother git process seems to be running in this repository, e.g.\nan editor opened by 'git commit'. Please make sure all processes\nare terminated then try again. If it still fails, a git process\nmay have crashed in this repository earlier:\nremove the file manually to continue.\n";
const NO_ACCESS = 'fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n';

const SAMPLES: Array<[string, string, FetchErrorKind]> = [
  ['connection refused (http)', "fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server\n", 'connection'],
  ['connection refused (ssh)', `ssh: connect to host 127.0.0.1 port 1: Connection refused\n${NO_ACCESS}`, 'connection'],
  ['unresolvable host', "fatal: unable to access 'http://nonexistent.invalid/x.git/': Could not resolve host: nonexistent.invalid\n", 'connection'],
  ['server too slow', "fatal: unable to access 'http://127.0.0.1:38765/a.git/': Operation too slow. Less than 1000 bytes/sec transferred the last 1 seconds\n", 'timeout'],
  ['HTTP 302, not followed', "fatal: unable to access 'http://127.0.0.1:18778/x.git/': The requested URL returned error: 302\n", 'redirect'],
  ['HTTP 429', "remote: slow down\nfatal: unable to access 'http://127.0.0.1:18777/x.git/': The requested URL returned error: 429\n", 'throttled'],
  ['HTTP 503', "remote: unavailable\nfatal: unable to access 'http://127.0.0.1:38929/a.git/': The requested URL returned error: 503\n", 'server'],
  ['repository not found (http)', "fatal: repository 'http://127.0.0.1:38929/nope.git/' not found\n", 'not-found'],
  ['repository not found (file)', `fatal: '/srv/git/nope.git' does not appear to be a git repository\n${NO_ACCESS}`, 'not-found'],
  ['no credentials, prompts disabled', "fatal: could not read Username for 'http://127.0.0.1:37167': terminal prompts disabled\n", 'auth'],
  ['wrong password', "fatal: Authentication failed for 'http://127.0.0.1:37167/a.git/'\n", 'auth'],
  [
    'held ref lock',
    `error: cannot lock ref 'refs/heads/main': Unable to create '/srv/replica/a.git/refs/heads/main.lock': File exists.${LOCK_ADVICE}From http://127.0.0.1:38929/a\n ! [new branch]      main       -> main  (unable to update local ref)\n`,
    'lock',
  ],
  ['held packed-refs lock', `error: Unable to create '/srv/replica/a.git/packed-refs.lock': File exists.${LOCK_ADVICE}`, 'lock'],
  ['held index lock', `fatal: Unable to create '/srv/git/app.git/index.lock': File exists.${LOCK_ADVICE}`, 'lock'],
  ['disk full (loose objects)', 'fatal: unable to write loose object file: No space left on device\nfatal: unpack-objects failed\n', 'disk'],
  ['disk full (pack)', 'fatal: write error: No space left on device\nfatal: fetch-pack: invalid index-pack output\n', 'disk'],
  ['invalid refspec', "fatal: invalid refspec '+refs/heads/a..b:refs/heads/a..b'\n", 'invalid'],
  ['refused transport', "fatal: transport 'ext' not allowed\n", 'transport'],
  ['corrupt replica (object files deleted)', 'fatal: bad object refs/heads/other\nerror: file:///srv/git/p.git did not send all necessary objects\n\nerror: \n', 'corrupt'],
  ['something else', 'fatal: the moon is in the wrong phase\n', 'unknown'],
];

function failed(stderr: string, extra: Partial<GitOutcome> = {}): GitOutcome {
  return { code: 128, signal: null, stdout: '', stderr, timedOut: false, aborted: false, ...extra };
}

const context = { what: 'git fetch', secrets: [], missingRepoGraceMs: 60_000, now: Date.parse('2026-01-01T00:10:00Z') };

describe('classify', () => {
  it.each(SAMPLES)('%s → %s', (_label, stderr, kind) => {
    expect(kindOf(failed(stderr))).toBe(kind);
    const error = classify(failed(stderr), context);
    expect(error.kind).toBe(kind);
    const permanent = kind === 'invalid' || kind === 'transport' || kind === 'not-found';
    expect(error).toBeInstanceOf(permanent ? PermanentFetchError : TransientFetchError);
    expect(error.retriable).toBe(!permanent);
  });

  it('a killed process is a timeout or an abort, whatever stderr says', () => {
    expect(kindOf(failed('', { timedOut: true, code: null, signal: 'SIGTERM' }))).toBe('timeout');
    expect(kindOf(failed('fatal: early EOF', { aborted: true }))).toBe('aborted');
    expect(classify(failed('', { aborted: true }), context).retriable).toBe(true);
  });

  it('"not found" is transient within the grace period after publication, permanent after it', () => {
    const stderr = "fatal: repository 'http://h/x.git/' not found\n";
    const recent = classify(failed(stderr), { ...context, publishedAt: new Date(context.now - 59_000) });
    expect(recent).toBeInstanceOf(TransientFetchError);
    const old = classify(failed(stderr), { ...context, publishedAt: new Date(context.now - 61_000) });
    expect(old).toBeInstanceOf(PermanentFetchError);
    expect(old.kind).toBe('not-found');
    expect(withinGrace(undefined, 60_000, context.now)).toBe(false);
  });

  it('keeps user info, tokens and known secrets out of the message', () => {
    const stderr = "fatal: unable to access 'https://bob:hunter2@git.example.com/a.git/': Authorization: Basic Ym9iOmh1bnRlcjI= rejected\n";
    const error = classify(failed(stderr), { ...context, secrets: ['hunter2', 'Ym9iOmh1bnRlcjI='] });
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('Ym9iOmh1bnRlcjI=');
    expect(error.message).toContain('https://***@git.example.com/a.git/');
  });

  it('names the ref git could not find on the primary', () => {
    expect(missingRemoteRef("fatal: couldn't find remote ref refs/heads/gone\n", ['refs/heads/a', 'refs/heads/gone'])).toBe('refs/heads/gone');
    expect(missingRemoteRef('fatal: early EOF', ['refs/heads/a'])).toBeUndefined();
    // The whole name, whatever it holds: a no-break space is part of it, not its end.
    const odd = 'refs/heads/x\u00a0y';
    expect(missingRemoteRef(`fatal: couldn't find remote ref ${odd}\n`, ['refs/heads/x', odd])).toBe(odd);
    // A ref the caller did not ask for is no answer.
    expect(missingRemoteRef("fatal: couldn't find remote ref refs/heads/other\n", ['refs/heads/x'])).toBeUndefined();
  });
});
