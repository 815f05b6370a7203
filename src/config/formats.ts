import convict from 'convict';
import { globProblem, parseShard } from '../repos/selection.js';
import { refPatternProblem } from '../refs/selection.js';

/** Custom convict formats. A failing check throws a message without the key; convict adds it. */

const TOPIC = /^[A-Za-z0-9._-]{1,200}$/;
const REPLICA = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

let registered = false;

/** Numeric strings become numbers; anything else stays as it was so the error can show it. */
function toNumber(value: unknown): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const n = Number(value);
  return Number.isNaN(n) ? value : n;
}

export function registerFormats(): void {
  if (registered) return;
  registered = true;
  convict.addFormats({
    'broker-list': {
      validate(value: unknown) {
        if (!Array.isArray(value) || value.length === 0) throw new Error('must list at least one host:port');
        for (const broker of value) {
          if (typeof broker !== 'string' || !BROKER.test(broker)) {
            throw new Error(`'${String(broker)}' is not host:port`);
          }
        }
      },
      coerce: commaList,
    },
    'topic-name': {
      validate(value: unknown) {
        if (typeof value !== 'string' || !TOPIC.test(value) || value === '.' || value === '..') {
          throw new Error(`must be 1-200 characters of letters, digits, ".", "_" and "-"`);
        }
      },
    },
    'replica-name': {
      validate(value: unknown) {
        if (typeof value !== 'string' || !REPLICA.test(value)) {
          throw new Error(`must start with a letter or digit and hold only letters, digits, "_" and "-" (at most 63)`);
        }
      },
    },
    // replica.refs.include/exclude: ref patterns (src/refs/selection.ts), comma separated in the environment.
    'ref-globs': {
      validate(value: unknown) {
        if (!Array.isArray(value)) throw new Error('must list ref patterns, e.g. ["refs/changes/*"]');
        for (const pattern of value) {
          const problem = refPatternProblem(pattern);
          if (problem) throw new Error(`ref pattern ${problem}`);
        }
      },
      coerce: commaList,
    },
    'pos-int': {
      validate(value: unknown) {
        if (!Number.isInteger(value) || (value as number) < 1) throw new Error(`must be a positive integer`);
      },
      coerce: toNumber,
    },
    'replication-factor': {
      validate(value: unknown) {
        if (!Number.isInteger(value) || ((value as number) < 1 && value !== -1)) throw new Error('must be a positive integer, or -1 for the brokers\' default');
      },
      coerce: toNumber,
    },
    'retry-stages': {
      validate(value: unknown) {
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 20) {
          throw new Error(`must be an integer from 0 to 20`);
        }
      },
      coerce: toNumber,
    },
    // Convict's Boolean turns every string but "false" into true ("0", "no", "off" included).
    switch: {
      validate(value: unknown) {
        if (typeof value !== 'boolean') throw new Error('must be true or false (also 1/0, yes/no, on/off)');
      },
      coerce(value: unknown) {
        if (typeof value !== 'string') return value;
        const word = value.trim().toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(word)) return true;
        if (['false', '0', 'no', 'off'].includes(word)) return false;
        return value;
      },
    },
    multiplier: {
      validate(value: unknown) {
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 100) {
          throw new Error(`must be a number from 1 to 100`);
        }
      },
      coerce: toNumber,
    },
    // replica.shard: "i/n" or empty (src/repos/selection.ts).
    shard: {
      validate(value: unknown) {
        if (typeof value !== 'string') throw new Error('must be "i/n", e.g. "2/3"');
        parseShard(value);
      },
    },
    // replica.repos.include/exclude: repository-name globs, comma separated in the environment.
    'repo-globs': {
      validate(value: unknown) {
        if (!Array.isArray(value)) throw new Error('must list repository-name globs');
        for (const pattern of value) {
          const problem = globProblem(pattern);
          if (problem) throw new Error(`glob ${problem}`);
        }
      },
      coerce: commaList,
    },
  });
}

/** A list from the environment, comma separated ("a, b,,c" → ["a", "b", "c"]); a file's list as it is. */
function commaList(value: unknown): unknown {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : value;
}
