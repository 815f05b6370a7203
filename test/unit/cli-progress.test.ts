import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

function stream(isTTY: boolean) {
  const out: string[] = [];
  return { out, isTTY, write: (s: string) => out.push(s) > 0 } as unknown as NodeJS.WritableStream & { isTTY: boolean; out: string[] };
}

describe('createProgress', () => {
  it('redraws a bar in place on a terminal, at most every 100 ms', () => {
    let t = 0;
    const s = stream(true);
    const p = createProgress({ stream: s, total: 4, label: 'repositories', now: () => t });
    p.update(1);
    t = 150;
    p.update(2);
    t = 160;
    p.update(3);
    p.update(4);
    p.finish();
    expect(s.out).toEqual([
      `\r[${'#'.repeat(15)}${'.'.repeat(15)}] 2/4 repositories`,
      `\r[${'#'.repeat(30)}] 4/4 repositories`,
      '\n',
    ]);
  });

  it('prints plain lines every few seconds elsewhere, and the end', () => {
    let t = 0;
    const s = stream(false);
    const p = createProgress({ stream: s, total: 10, label: 'repositories', now: () => t, lineEveryMs: 1000 });
    for (let i = 1; i <= 10; i++) {
      t += 400;
      p.update(i);
    }
    p.finish();
    expect(s.out).toEqual(['3/10 repositories (30%)\n', '6/10 repositories (60%)\n', '9/10 repositories (90%)\n', '10/10 repositories (100%)\n']);
  });
});
