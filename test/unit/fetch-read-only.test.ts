import { describe, expect, it } from 'vitest';
import { compileOptions, loadConfig } from '../../src/config/index.js';
import { configValues, entryValue } from '../../src/fetch/config-text.js';
import { HOOK_MARKER, hasHookMarker, isReadOnlyHook, readOnlyHook, readOnlyMessage } from '../../src/fetch/read-only-hook.js';
import { readOnlyProblem, type ReadOnlyState } from '../../src/fetch/read-only.js';

describe('the read-only hook text', () => {
  it('names the primary without user info, after a marker line, and exits 1', () => {
    const hook = readOnlyHook('ssh://git@git.example.com/group/app.git', []);
    expect(hook.split('\n')).toEqual([
      '#!/bin/sh',
      HOOK_MARKER,
      `printf '%s\\n' '${readOnlyMessage('ssh://git.example.com/group/app.git')}' >&2`,
      'exit 1',
      '',
    ]);
    expect(hook).toContain('this is a read-only replica of ssh://git.example.com/group/app.git maintained by pullrep; push to the primary');
  });

  it('never carries a secret or user info, whatever the URL holds', () => {
    const password = 'hunter2-secret';
    const basic = Buffer.from(`mirror:${password}`).toString('base64');
    const hook = readOnlyHook(`https://mirror:${password}@git.example.com/${password}/${basic}.git`, [password, basic]);
    expect(hook).not.toContain(password);
    expect(hook).not.toContain(basic);
    expect(hook).not.toContain('mirror');
    expect(hook).toContain('https://git.example.com/');
  });

  it.each([
    ['a plain URL', 'https://git.example.com/group/app.git'],
    ['a quote', "file:///srv/it's/app.git"],
    ['shell syntax', 'file:///srv/$(touch x)/`id`/a;b|c&d.git'],
    ['a newline and a tab', 'file:///srv/a\nexit 0\tb.git'],
  ])('is recognised as pullrep\'s, unaltered, for %s', (_what, url) => {
    const hook = readOnlyHook(url, []);
    expect(isReadOnlyHook(hook)).toBe(true);
    expect(hasHookMarker(hook)).toBe(true);
    expect(hook.split('\n')).toHaveLength(5);
  });

  it.each([
    ['exit 0', (h: string) => h.replace('exit 1', 'exit 0')],
    ['a command added', (h: string) => `${h}touch /tmp/x\n`],
    ['a command in the message line', (h: string) => h.replace(" >&2\n", "; touch /tmp/x >&2\n")],
    ['a quote that closes the message early', (h: string) => h.replace('maintained', "' ; touch /tmp/x ; '")],
    ['the marker dropped', (h: string) => h.replace(`${HOOK_MARKER}\n`, '')],
  ])('is not recognised with %s', (_what, edit) => {
    const edited = edit(readOnlyHook('https://git.example.com/a.git', []));
    expect(isReadOnlyHook(edited)).toBe(false);
  });

  it('tells its own hook from another by the marker line', () => {
    expect(hasHookMarker('#!/bin/sh\necho mine\nexit 1\n')).toBe(false);
    expect(hasHookMarker(`#!/bin/sh\n${HOOK_MARKER}\nexit 0\n`)).toBe(true);
  });
});

describe('reading a git config file in-process', () => {
  it.each([
    ['hooksPath = hooks', 'hooks'],
    ['hooksPath=hooks', 'hooks'],
    ['hooksPath = "hooks"', 'hooks'],
    ['hooksPath = hooks # a comment', 'hooks'],
    ['hooksPath = hooks ; a comment', 'hooks'],
    ['hooksPath = "a # b"', 'a # b'],
    ['hooksPath = a  b ', 'a  b'],
    ['hooksPath = a\\"b', 'a"b'],
    ['hooksPath = ', ''],
  ])('reads the value of %j as %j', (entry, value) => {
    expect(entryValue(entry)).toBe(value);
  });

  it('treats a key without = as having no value', () => {
    expect(entryValue('bare')).toBeUndefined();
  });

  it('finds every value of a key without a subsection, ignoring case and other sections', () => {
    const text = [
      '[core]',
      '\trepositoryformatversion = 0',
      '\tHooksPath = hooks',
      '[Receive]',
      '\thideRefs = refs/pull',
      '\thiderefs = refs',
      '[receive "x"]',
      '\thideRefs = other',
      '[receive.y]',
      '\thideRefs = another',
      '; [receive]',
      '# hideRefs = commented',
      '[receive] hideRefs = same-line',
      '[remote "origin"]',
      '\turl = https://git.example.com/a.git',
    ].join('\n');
    expect(configValues(text, 'receive', 'hideRefs')).toEqual(['refs/pull', 'refs', 'same-line']);
    expect(configValues(text, 'core', 'hookspath')).toEqual(['hooks']);
    expect(configValues(text, 'core', 'bare')).toEqual([]);
  });
});

describe('why a repository is not read-only', () => {
  const ok: ReadOnlyState = { hook: 'current', hooksPath: true, hideRefs: true };

  it('says nothing when the hook is pullrep\'s (for any URL) and both entries are set', () => {
    expect(readOnlyProblem(ok)).toBeUndefined();
    expect(readOnlyProblem({ ...ok, hook: 'ours' })).toBeUndefined();
  });

  it.each([
    [{ hook: 'missing' }, 'hooks/pre-receive is missing'],
    [{ hook: 'altered' }, 'hooks/pre-receive was altered'],
    [{ hook: 'foreign' }, "hooks/pre-receive is not pullrep's (left alone)"],
    [{ hook: 'blocked' }, 'hooks is not a directory'],
    [{ hooksPath: false }, 'core.hooksPath is not hooks'],
    [{ hideRefs: false }, 'receive.hideRefs does not include refs'],
    [{ hook: 'missing', hideRefs: false }, 'hooks/pre-receive is missing; receive.hideRefs does not include refs'],
  ] as const)('names each problem of %o', (change, message) => {
    expect(readOnlyProblem({ ...ok, ...change })).toBe(message);
  });
});

describe('replica.readOnly', () => {
  it('is on by default and reaches the fetch engine and verify', () => {
    const options = compileOptions(loadConfig({ env: {} }).config);
    expect(options.fetch.readOnly).toBe(true);
    expect(options.verify.readOnly).toBe(true);
  });

  it.each([
    ['false', false],
    ['off', false],
    ['true', true],
  ])('reads %s from PULLREP_REPLICA_READ_ONLY as %s', (text, value) => {
    const options = compileOptions(loadConfig({ env: { PULLREP_REPLICA_READ_ONLY: text } }).config);
    expect(options.fetch.readOnly).toBe(value);
    expect(options.verify.readOnly).toBe(value);
  });

  it('refuses anything else, naming the key', () => {
    expect(() => loadConfig({ env: { PULLREP_REPLICA_READ_ONLY: 'maybe' } })).toThrow(/replica\.readOnly.*true or false/);
  });
});
