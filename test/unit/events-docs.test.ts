import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeEvent, EVENT_KINDS } from '../../src/events/index.js';

const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'events.md'), 'utf8');
const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

describe('docs/events.md', () => {
  it('has a valid example of every kind', () => {
    const kinds = examples.map((text) => decodeEvent(text).kind);
    expect(new Set(kinds)).toEqual(new Set(EVENT_KINDS));
  });

  it('is right that readers ignore unknown fields', () => {
    const first = JSON.parse(examples[0] ?? '{}') as Record<string, unknown>;
    const decoded = decodeEvent(JSON.stringify({ ...first, addedLater: { any: 'thing' } }));
    expect(decoded).toEqual(decodeEvent(examples[0]));
  });
});
